#pragma once
// API tokens in the database (migration 5): name, role, the SHA-256 digest of the token
// (never the token), when it was created and when revoked. See auth/access.hpp.
// Threading and errors as the rest of the Store (one thread per object;
// csms::TransientStoreError when the database is busy or unreachable). The port of the
// api and the notifier; implemented by each backend in store/.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "csms/store_error.hpp"

namespace genx::auth {

struct ApiTokenRecord {
  std::int64_t id = 0;
  std::string name;
  std::string role;  // "read" or "operator"
};

class TokenStore {
 public:
  virtual ~TokenStore() = default;
  // Stores a new token; returns its id. Throws std::invalid_argument when an active
  // token already has this name, or the name is empty / longer than 100 characters.
  virtual std::int64_t create_api_token(std::string_view name, std::string_view role,
                                        std::string_view digest) = 0;
  // [{id, name, role, createdAt, revokedAt}] by id, revoked ones included; no digest.
  virtual nlohmann::json list_api_tokens() = 0;
  // Revokes the active token with this id (all digits) or name; false when none.
  virtual bool revoke_api_token(std::string_view id_or_name) = 0;
  // The active token with this digest.
  virtual std::optional<ApiTokenRecord> find_api_token(std::string_view digest) = 0;
  // Whether any token is active (then the api and the notifier require one).
  virtual bool has_active_api_tokens() = 0;
};

}  // namespace genx::auth
