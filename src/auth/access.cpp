#include "auth/access.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace genx::auth {
namespace {

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0x0f]);
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// "http://h:p" -> "h:p" (no path allowed); nullopt for anything else.
std::optional<std::string_view> origin_authority(std::string_view origin) {
  std::string_view rest;
  if (origin.substr(0, 7) == "http://") {
    rest = origin.substr(7);
  } else if (origin.substr(0, 8) == "https://") {
    rest = origin.substr(8);
  } else {
    return std::nullopt;
  }
  if (rest.empty() || rest.find('/') != std::string_view::npos) return std::nullopt;
  return rest;
}

}  // namespace

std::optional<Role> parse_role(std::string_view text) {
  if (iequals(text, "read") || iequals(text, "read-only") || iequals(text, "readonly")) return Role::kRead;
  if (iequals(text, "operator")) return Role::kOperator;
  return std::nullopt;
}

const char* role_name(Role role) { return role == Role::kOperator ? "operator" : "read"; }

std::string generate_token() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("random number generator failed");
  return "genx_" + to_hex(bytes, sizeof bytes);
}

std::string token_digest(std::string_view token) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(token.data(), token.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  return to_hex(digest, size);
}

bool digests_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() || !iequals(authorization.substr(0, kScheme.size()), kScheme)) {
    return {};
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  return token;
}

Need required_access(std::string_view method, std::string_view path, bool metrics_open) {
  const bool read_method = method == "GET" || method == "HEAD";
  if (method == "OPTIONS") return Need::kNone;  // CORS preflight: carries no credentials
  // A charger's upload to a one-time URL (docs/diagnostics.md): the URL's token is the
  // credential, checked by the upload route itself.
  if ((method == "PUT" || method == "POST") && path.substr(0, 13) == "/api/uploads/") return Need::kNone;
  if (!read_method) return Need::kOperator;
  if (path == "/health" || path == "/api/config" || path == "/api/openapi.json") return Need::kNone;
  if (path == "/metrics") return metrics_open ? Need::kNone : Need::kRead;
  if (path == "/api" || path.substr(0, 5) == "/api/") return Need::kRead;
  return Need::kNone;  // dashboard files
}

std::optional<Refusal> check_access(Need need, bool auth_enabled, const std::optional<Principal>& who) {
  if (!auth_enabled || need == Need::kNone) return std::nullopt;
  if (!who) return Refusal{401, "missing or wrong bearer token"};
  if (need == Need::kOperator && who->role != Role::kOperator) {
    return Refusal{403, "this token has the read role; this request needs an operator token"};
  }
  return std::nullopt;
}

bool same_origin(std::string_view origin, std::string_view host) {
  const auto authority = origin_authority(origin);
  if (!authority || host.empty()) return false;
  std::string_view h = host;
  // Host without a port means the scheme's default port.
  const bool host_has_port = h.rfind(':') != std::string_view::npos && h.back() != ']';
  std::string expected(h);
  if (!host_has_port) {
    // Compare with or without the default port: "http://h" and "http://h:80" are one origin.
    const bool https = origin.substr(0, 8) == "https://";
    if (iequals(*authority, h)) return true;
    expected += https ? ":443" : ":80";
  }
  return iequals(*authority, expected);
}

bool cors_allowed(std::string_view origin, std::string_view host, const std::vector<std::string>& allowed) {
  if (same_origin(origin, host)) return true;
  return std::any_of(allowed.begin(), allowed.end(),
                     [&](const std::string& a) { return a == "*" || iequals(a, origin); });
}

}  // namespace genx::auth
