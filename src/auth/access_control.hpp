#pragma once
// AccessControl: who presented which token, for the api and the notifier. Tokens are the
// configured API_TOKEN (role operator, kept for compatibility) and the database's API
// tokens (auth/token_store.hpp, `genx tokens`), looked up by SHA-256 digest on every
// check, so a revoked token is refused by the next request.
//
// Threading: one object per thread (it uses the TokenStore given, which is
// single-threaded). Errors: when the database cannot be read, enabled() answers true
// and identify() throws csms::TransientStoreError (fail closed: no access while the
// tokens cannot be checked).
#include <optional>
#include <string>
#include <string_view>

#include "auth/access.hpp"
#include "auth/token_store.hpp"

namespace genx::auth {

class AccessControl {
 public:
  // api_token: the configured API_TOKEN (empty/nullopt: none). tokens: may be null (then
  // only api_token counts).
  AccessControl(std::optional<std::string> api_token, TokenStore* tokens);

  // True when any token is configured (API_TOKEN or an active database token): then
  // every protected request needs one. False: the system is open (as without auth).
  bool enabled();
  // The principal of a presented token; nullopt when unknown or revoked.
  std::optional<Principal> identify(std::string_view token);

 private:
  std::optional<std::string> api_token_digest_;
  TokenStore* tokens_;
};

}  // namespace genx::auth
