#pragma once
// Charger passwords (OCPP security profiles 1 and 2), stored only as a slow salted hash:
// PBKDF2-HMAC-SHA256 (OpenSSL) with a random 16-byte salt per hash. The encoded form
// keeps its parameters, so the iteration count can grow without invalidating old hashes:
//   pbkdf2-sha256$ITERATIONS$SALT_BASE64$HASH_BASE64
// Pure functions, thread-safe. verify_password is deliberately slow (tens of ms): callers
// on an I/O thread run it elsewhere (gateway/charger_auth.hpp).
#include <optional>
#include <string>
#include <string_view>

namespace genx::security {

inline constexpr int kPbkdf2Iterations = 100000;
inline constexpr std::size_t kMinPasswordLength = 16;  // OCPP: 16 to 40 characters
inline constexpr std::size_t kMaxPasswordLength = 40;

// Why this password cannot be a charger's password (length, control characters), or
// nullopt when it can. The message never repeats the password.
std::optional<std::string> password_problem(std::string_view password);

// Encoded hash of password with a fresh random salt. iterations: for tests only.
std::string hash_password(std::string_view password, int iterations = kPbkdf2Iterations);

// True when password matches the encoded hash (constant-time comparison); false for a
// wrong password and for an encoded hash it cannot read.
bool verify_password(std::string_view password, std::string_view encoded);

// A random password of kMaxPasswordLength characters from an unambiguous alphabet.
std::string generate_password();

}  // namespace genx::security
