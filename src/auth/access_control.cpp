#include "auth/access_control.hpp"

namespace genx::auth {

AccessControl::AccessControl(std::optional<std::string> api_token, TokenStore* tokens)
    : tokens_(tokens) {
  if (api_token && !api_token->empty()) api_token_digest_ = token_digest(*api_token);
}

bool AccessControl::enabled() {
  if (api_token_digest_) return true;
  if (tokens_ == nullptr) return false;
  try {
    return tokens_->has_active_api_tokens();
  } catch (const std::exception&) {
    return true;
  }
}

std::optional<Principal> AccessControl::identify(std::string_view token) {
  if (token.empty()) return std::nullopt;
  const std::string digest = token_digest(token);
  if (api_token_digest_ && digests_equal(digest, *api_token_digest_)) {
    return Principal{"API_TOKEN", Role::kOperator};
  }
  if (tokens_ == nullptr) return std::nullopt;
  auto record = tokens_->find_api_token(digest);
  if (!record) return std::nullopt;
  auto role = parse_role(record->role);
  if (!role) return std::nullopt;
  return Principal{record->name, *role};
}

}  // namespace genx::auth
