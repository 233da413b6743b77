#pragma once
// The charger-credential port (docs/security.md): the gateway reads a charger's
// security profile and password hash; the api shows and sets them. Implemented by each
// backend in store/. Errors: csms::TransientStoreError when the database is busy or
// unreachable; one object per thread.
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "csms/store_error.hpp"
#include "security/charger_policy.hpp"

namespace genx::security {

class CredentialStore {
 public:
  virtual ~CredentialStore() = default;
  // Security of a charge point; nullopt when none was ever set (profile 0).
  virtual std::optional<ChargerSecurity> charger_security(std::string_view charge_point_id) = 0;
  // {chargePointId, securityProfile, passwordSet, updatedAt}: what an operator may see
  // (never the hash); nullopt when none was set.
  virtual std::optional<nlohmann::json> charger_security_summary(std::string_view charge_point_id) = 0;
  // Sets the profile (0-3) and/or the password hash (security/password_hash.hpp); an
  // argument left nullopt keeps its value (profile 0 and no password for a new row).
  // Throws std::invalid_argument on an empty id or a profile outside 0-3.
  virtual void set_charger_security(std::string_view charge_point_id, std::optional<int> profile,
                                    std::optional<std::string> password_hash) = 0;
};

}  // namespace genx::security
