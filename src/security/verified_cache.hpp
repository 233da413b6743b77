#pragma once
// A bounded memory of recent successful password checks, so a charger that reconnects
// does not pay the slow hash again (a reconnect storm after a network cut must not
// queue thousands of PBKDF2 runs). An entry is a keyed digest (HMAC-SHA256 with a key
// random per process) of charge point id, stored hash and presented password: the
// password itself is not kept, and an entry stops matching as soon as the stored hash
// changes (new password). Oldest entries go first when full. Thread-safe.
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

namespace genx::security {

class VerifiedPasswordCache {
 public:
  explicit VerifiedPasswordCache(std::size_t capacity);
  bool contains(std::string_view charge_point_id, std::string_view stored_hash, std::string_view password);
  void remember(std::string_view charge_point_id, std::string_view stored_hash, std::string_view password);
  std::size_t size() const;

 private:
  std::string key_of(std::string_view id, std::string_view hash, std::string_view password) const;
  std::size_t capacity_;
  unsigned char secret_[32];
  mutable std::mutex mutex_;
  std::unordered_set<std::string> entries_;
  std::deque<std::string> order_;
};

}  // namespace genx::security
