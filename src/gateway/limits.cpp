#include "gateway/limits.hpp"

#include <algorithm>
#include <cmath>

namespace genx::gateway {

namespace {
// Tokens are sums of many small floating-point refills: compare with a tolerance, so a
// token that is due is never refused for a rounding error.
constexpr double kEpsilon = 1e-9;
}  // namespace

TokenBucket::TokenBucket(double rate_per_second, double burst, LimitClock::time_point now)
    : rate_(rate_per_second), burst_(std::max(burst, 1.0)), tokens_(burst_), last_(now) {}

double TokenBucket::tokens_at(LimitClock::time_point now) const {
  if (now <= last_) return tokens_;
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  return std::min(burst_, tokens_ + elapsed * rate_);
}

bool TokenBucket::try_take(LimitClock::time_point now) {
  tokens_ = tokens_at(now);
  if (now > last_) last_ = now;
  if (tokens_ < 1.0 - kEpsilon) return false;
  tokens_ = std::max(tokens_, 1.0);
  tokens_ -= 1.0;
  return true;
}

std::chrono::milliseconds TokenBucket::time_to_token(LimitClock::time_point now) const {
  const double missing = 1.0 - tokens_at(now);
  if (missing <= kEpsilon) return std::chrono::milliseconds(0);
  if (rate_ <= 0) return std::chrono::milliseconds::max();
  return std::chrono::milliseconds(static_cast<long long>(std::ceil(missing / rate_ * 1000.0 - 1e-6)));
}

bool TokenBucket::full(LimitClock::time_point now) const { return tokens_at(now) >= burst_ - kEpsilon; }

bool CallRateLimiter::try_call(const std::string& charger, LimitClock::time_point now) {
  if (!enabled()) return true;
  auto it = buckets_.find(charger);
  if (it == buckets_.end()) {
    it = buckets_.emplace(charger, TokenBucket(settings_.calls_per_second, settings_.burst, now)).first;
  }
  return it->second.try_take(now);
}

std::chrono::milliseconds CallRateLimiter::time_to_token(const std::string& charger,
                                                         LimitClock::time_point now) const {
  auto it = buckets_.find(charger);
  return it == buckets_.end() ? std::chrono::milliseconds(0) : it->second.time_to_token(now);
}

void CallRateLimiter::sweep(LimitClock::time_point now) {
  std::erase_if(buckets_, [now](const auto& entry) { return entry.second.full(now); });
}

bool FloodGuard::record(bool accepted) {
  if (accepted) {
    if (strikes_ > 0) --strikes_;
    return false;
  }
  ++strikes_;
  return close_after_ != 0 && strikes_ >= close_after_;
}

ocpp::CallError rate_limit_error(std::string unique_id, const CallRateSettings& settings,
                                 std::chrono::milliseconds retry_after) {
  ocpp::CallError error;
  error.unique_id = std::move(unique_id);
  error.code = ocpp::ErrorCode::kGenericError;
  error.description = "rate limit exceeded: " + std::to_string(settings.calls_per_second) +
                      " calls/s (burst " + std::to_string(settings.burst) + ")";
  error.details = {{"callsPerSecond", settings.calls_per_second},
                   {"burst", settings.burst},
                   {"retryAfterMs", retry_after.count()}};
  return error;
}

Admission ConnectionCounter::admit(const std::string& address) {
  auto it = per_address_.find(address);
  const std::size_t here = it == per_address_.end() ? 0 : it->second;
  if (limits_.per_address != 0 && here >= limits_.per_address) return Admission::kAddressLimit;
  if (limits_.total != 0 && total_ >= limits_.total) return Admission::kTotalLimit;
  if (it == per_address_.end()) {
    per_address_.emplace(address, 1);
  } else {
    ++it->second;
  }
  ++total_;
  return Admission::kAdmitted;
}

void ConnectionCounter::release(const std::string& address) {
  auto it = per_address_.find(address);
  if (it == per_address_.end()) return;
  if (--it->second == 0) per_address_.erase(it);
  if (total_ > 0) --total_;
}

std::size_t ConnectionCounter::from(const std::string& address) const {
  auto it = per_address_.find(address);
  return it == per_address_.end() ? 0 : it->second;
}

}  // namespace genx::gateway
