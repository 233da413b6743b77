#include "security/charger_policy.hpp"

#include <algorithm>

#include "security/encoding.hpp"

namespace genx::security {

std::optional<BasicCredentials> parse_basic_authorization(std::string_view header) {
  while (!header.empty() && (header.front() == ' ' || header.front() == '\t')) header.remove_prefix(1);
  constexpr std::string_view kScheme = "basic";
  if (header.size() <= kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char c = header[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != kScheme[i]) return std::nullopt;
  }
  header.remove_prefix(kScheme.size());
  if (header.front() != ' ') return std::nullopt;
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  while (!header.empty() && (header.back() == ' ' || header.back() == '\t')) header.remove_suffix(1);
  auto decoded = base64_decode(header);
  if (!decoded) return std::nullopt;
  std::string text(decoded->begin(), decoded->end());
  const auto colon = text.find(':');
  if (colon == std::string::npos) return std::nullopt;
  return BasicCredentials{text.substr(0, colon), text.substr(colon + 1)};
}

bool common_name_matches(std::string_view common_name, std::string_view charge_point_id) {
  return !charge_point_id.empty() && common_name == charge_point_id;
}

Verdict evaluate_connection(const std::optional<ChargerSecurity>& security, int min_profile,
                            const ConnectionFacts& facts) {
  Verdict v;
  v.profile = std::max(security ? security->profile : 0, min_profile);
  const std::string& id = facts.charge_point_id;
  if (facts.client_certificate_cn && !common_name_matches(*facts.client_certificate_cn, id)) {
    v.kind = Verdict::Kind::kForbidden;
    v.reason = "client certificate is for \"" + *facts.client_certificate_cn + "\", not for this charge point";
    return v;
  }
  if (v.profile >= 2 && !facts.tls) {
    v.kind = Verdict::Kind::kForbidden;
    v.reason = "security profile " + std::to_string(v.profile) + " requires TLS (wss://)";
    return v;
  }
  if (v.profile == 3) {
    if (!facts.client_certificate_cn) {
      v.kind = Verdict::Kind::kForbidden;
      v.reason = "security profile 3 requires a client certificate issued for this charge point";
      return v;
    }
    return v;  // accepted: the chain verified during the TLS handshake, the CN matches
  }
  if (v.profile == 0) return v;
  // Profiles 1 and 2: HTTP Basic.
  if (!facts.authorization) {
    v.kind = Verdict::Kind::kUnauthorized;
    v.reason = "security profile " + std::to_string(v.profile) + " requires HTTP Basic credentials";
    return v;
  }
  auto credentials = parse_basic_authorization(*facts.authorization);
  if (!credentials) {
    v.kind = Verdict::Kind::kUnauthorized;
    v.reason = "Authorization header is not readable HTTP Basic";
    return v;
  }
  if (credentials->username != id) {
    v.kind = Verdict::Kind::kUnauthorized;
    v.reason = "Basic user name is not the charge point id";
    return v;
  }
  if (!security || !security->password_hash) {
    v.kind = Verdict::Kind::kUnauthorized;
    v.reason = "no password is set for this charge point";
    return v;
  }
  v.kind = Verdict::Kind::kCheckPassword;
  v.credentials = std::move(credentials);
  return v;
}

}  // namespace genx::security
