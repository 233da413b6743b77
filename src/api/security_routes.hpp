#pragma once
// Charger security over REST (docs/security.md):
//   GET /api/chargers/{id}/security  -> {chargePointId, securityProfile, passwordSet, updatedAt}
//   PUT /api/chargers/{id}/security  <- {"profile": 0-3, "password": "..."} (either or both)
// The password is hashed (security/password_hash.hpp, ~50 ms on the api's thread: an
// operator action, not a hot path) and never appears in a response or a log line; a
// bad body answers 400 and changes nothing.
#include <optional>
#include <string>
#include <string_view>

#include "api/api_server.hpp"

namespace genx::api {

// The still-encoded {id} when path is /api/chargers/{id}/security, else nullopt.
std::optional<std::string_view> security_route_id(std::string_view path);

HttpResponse handle_charger_security(std::string_view method, const std::string& charge_point_id,
                                     std::string_view body, security::CredentialStore* store);

}  // namespace genx::api
