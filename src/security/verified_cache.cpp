#include "security/verified_cache.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace genx::security {

VerifiedPasswordCache::VerifiedPasswordCache(std::size_t capacity) : capacity_(capacity) {
  if (RAND_bytes(secret_, sizeof secret_) != 1) throw std::runtime_error("OpenSSL RAND_bytes failed");
}

std::string VerifiedPasswordCache::key_of(std::string_view id, std::string_view hash,
                                          std::string_view password) const {
  std::string message;
  message.reserve(id.size() + hash.size() + password.size() + 16);
  // Length prefixes keep the fields apart whatever they contain.
  for (std::string_view part : {id, hash, password}) {
    message += std::to_string(part.size());
    message += ':';
    message += part;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), secret_, sizeof secret_, reinterpret_cast<const unsigned char*>(message.data()),
           message.size(), digest, &length) == nullptr) {
    throw std::runtime_error("OpenSSL HMAC failed");
  }
  OPENSSL_cleanse(message.data(), message.size());
  return std::string(reinterpret_cast<const char*>(digest), length);
}

bool VerifiedPasswordCache::contains(std::string_view id, std::string_view hash, std::string_view password) {
  if (capacity_ == 0) return false;
  const std::string key = key_of(id, hash, password);
  std::lock_guard lock(mutex_);
  return entries_.count(key) != 0;
}

void VerifiedPasswordCache::remember(std::string_view id, std::string_view hash, std::string_view password) {
  if (capacity_ == 0) return;
  std::string key = key_of(id, hash, password);
  std::lock_guard lock(mutex_);
  if (!entries_.insert(key).second) return;
  order_.push_back(std::move(key));
  while (order_.size() > capacity_) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
}

std::size_t VerifiedPasswordCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace genx::security
