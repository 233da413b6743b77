#include "security/password_hash.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>
#include <stdexcept>
#include <vector>

#include "security/encoding.hpp"

namespace genx::security {
namespace {

constexpr std::string_view kScheme = "pbkdf2-sha256";
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;
constexpr int kMaxIterations = 10'000'000;  // an encoded hash asking for more is not ours

std::vector<unsigned char> random_bytes(std::size_t n) {
  std::vector<unsigned char> out(n);
  if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  }
  return out;
}

std::vector<unsigned char> derive(std::string_view password, const std::vector<unsigned char>& salt,
                                  int iterations, std::size_t length) {
  std::vector<unsigned char> out(length);
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(),
                        static_cast<int>(salt.size()), iterations, EVP_sha256(),
                        static_cast<int>(out.size()), out.data()) != 1) {
    throw std::runtime_error("OpenSSL PKCS5_PBKDF2_HMAC failed");
  }
  return out;
}

}  // namespace

std::optional<std::string> password_problem(std::string_view password) {
  if (password.size() < kMinPasswordLength || password.size() > kMaxPasswordLength) {
    return "a charger password has " + std::to_string(kMinPasswordLength) + " to " +
           std::to_string(kMaxPasswordLength) + " characters (got " + std::to_string(password.size()) + ")";
  }
  for (unsigned char c : password) {
    if (c < 0x20 || c == 0x7f) return std::string("a charger password has no control characters");
  }
  return std::nullopt;
}

std::string hash_password(std::string_view password, int iterations) {
  if (iterations < 1 || iterations > kMaxIterations) throw std::invalid_argument("bad PBKDF2 iteration count");
  const auto salt = random_bytes(kSaltBytes);
  const auto hash = derive(password, salt, iterations, kHashBytes);
  return std::string(kScheme) + "$" + std::to_string(iterations) + "$" + base64_encode(salt) + "$" +
         base64_encode(hash);
}

bool verify_password(std::string_view password, std::string_view encoded) {
  // scheme$iterations$salt$hash
  std::string_view parts[4];
  for (int i = 0; i < 4; ++i) {
    const auto dollar = encoded.find('$');
    if ((dollar == std::string_view::npos) != (i == 3)) return false;
    parts[i] = encoded.substr(0, dollar);
    if (dollar != std::string_view::npos) encoded.remove_prefix(dollar + 1);
  }
  if (parts[0] != kScheme) return false;
  int iterations = 0;
  auto [end, ec] = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), iterations);
  if (ec != std::errc() || end != parts[1].data() + parts[1].size() || iterations < 1 ||
      iterations > kMaxIterations) {
    return false;
  }
  const auto salt = base64_decode(parts[2]);
  const auto expected = base64_decode(parts[3]);
  if (!salt || !expected || salt->empty() || expected->size() < 16) return false;
  const auto actual = derive(password, *salt, iterations, expected->size());
  return CRYPTO_memcmp(actual.data(), expected->data(), actual.size()) == 0;
}

std::string generate_password() {
  // No 0/O, 1/l/I: an operator may have to type it into a charger's web page.
  static constexpr std::string_view kAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::string out;
  while (out.size() < kMaxPasswordLength) {
    for (unsigned char b : random_bytes(64)) {
      // Rejection sampling keeps every character equally likely.
      if (b >= 256 - 256 % kAlphabet.size()) continue;
      out.push_back(kAlphabet[b % kAlphabet.size()]);
      if (out.size() == kMaxPasswordLength) break;
    }
  }
  return out;
}

}  // namespace genx::security
