#pragma once
// API access control, pure parts (no I/O): API tokens and their roles, the access each
// request needs, and the CORS origin decision shared by the api and the notifier.
//
// Tokens: "genx_" + 64 hex digits (256 random bits from OpenSSL's CSPRNG). Only the
// SHA-256 digest of a token is stored; a token is high-entropy, so a fast digest is
// enough (no password stretching needed) and a lookup by digest reveals nothing about
// other tokens. Digests are compared in constant time.
//
// Roles: read (every GET/HEAD of /api/* and, when configured, /metrics; Socket.IO) and
// operator (everything, including commands and any other method).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace genx::auth {

enum class Role { kRead, kOperator };

// "read", "read-only", "readonly" -> kRead; "operator" -> kOperator; otherwise nullopt.
std::optional<Role> parse_role(std::string_view text);
const char* role_name(Role role);  // "read" or "operator"

// A fresh random token (throws std::runtime_error when the CSPRNG fails).
std::string generate_token();
// Lower-case hex SHA-256 of the token.
std::string token_digest(std::string_view token);
// Constant-time equality (for equal lengths; different lengths are unequal).
bool digests_equal(std::string_view a, std::string_view b);
// The token of an "Authorization: Bearer TOKEN" header value (scheme case-insensitive);
// empty when the header is missing or another scheme.
std::string_view bearer_token(std::string_view authorization);

// Who presented a valid token.
struct Principal {
  std::string name;  // "API_TOKEN" for the configured token, else the token's name
  Role role = Role::kRead;
};

// What a request needs. kNone: open (health, dashboard files, /api/config, /api/openapi.json, CORS
// preflight). kRead: a token of any role. kOperator: an operator token.
enum class Need { kNone, kRead, kOperator };
Need required_access(std::string_view method, std::string_view path, bool metrics_open);

// The answer to a request when it is refused: HTTP status (401 or 403) and message.
struct Refusal {
  int status = 401;
  std::string message;
};
// auth_enabled false: everything is allowed (no token configured at all).
// Otherwise: kNone allowed; no/unknown token -> 401; a read token on an operator
// route -> 403.
std::optional<Refusal> check_access(Need need, bool auth_enabled, const std::optional<Principal>& who);

// CORS. `origin` is the request's Origin header, `host` its Host header. Allowed when
// the origin is the page's own (same scheme-less host:port as Host), or listed in
// `allowed` ("*" allows any).
bool same_origin(std::string_view origin, std::string_view host);
bool cors_allowed(std::string_view origin, std::string_view host, const std::vector<std::string>& allowed);

}  // namespace genx::auth
