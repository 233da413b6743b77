#pragma once
// The gateway's abuse limits (docs/security.md > "Abuse limits") as pure values: no
// I/O, no clock of their own (every call that depends on time takes `now`), so unit
// tests drive them with a fake clock. Not thread-safe: the gateway uses them on its
// I/O thread only.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "ocpp/frame.hpp"

namespace genx::gateway {

using LimitClock = std::chrono::steady_clock;

// A token bucket: holds at most `burst` tokens, refilled continuously at
// `rate_per_second`; starts full. Each call takes one token or is refused.
class TokenBucket {
 public:
  TokenBucket(double rate_per_second, double burst, LimitClock::time_point now);

  // Takes a token when one is available.
  bool try_take(LimitClock::time_point now);
  // Time until the next token (zero when one is available now).
  std::chrono::milliseconds time_to_token(LimitClock::time_point now) const;
  // True when the bucket is full again: it then equals a new bucket.
  bool full(LimitClock::time_point now) const;

 private:
  double tokens_at(LimitClock::time_point now) const;

  double rate_;
  double burst_;
  double tokens_;
  LimitClock::time_point last_;
};

struct CallRateSettings {
  std::uint32_t calls_per_second = 20;  // 0 = unlimited
  std::uint32_t burst = 2000;
  std::uint32_t flood_close = 200;  // surplus of rejected over accepted calls that closes; 0 = never
};

// Calls per second per charger: one token bucket per charge point id, kept across
// reconnections (a charger cannot refill its bucket by reconnecting). A bucket that is
// full again equals a new one, so sweep() forgets it: memory follows the chargers that
// were busy in the last burst/rate seconds.
class CallRateLimiter {
 public:
  explicit CallRateLimiter(CallRateSettings settings) : settings_(settings) {}

  bool enabled() const { return settings_.calls_per_second > 0; }
  const CallRateSettings& settings() const { return settings_; }
  // True when the charger may send this call now (always true when disabled).
  bool try_call(const std::string& charger, LimitClock::time_point now);
  std::chrono::milliseconds time_to_token(const std::string& charger, LimitClock::time_point now) const;
  void sweep(LimitClock::time_point now);
  std::size_t tracked() const { return buckets_.size(); }

 private:
  CallRateSettings settings_;
  std::unordered_map<std::string, TokenBucket> buckets_;
};

// One connection's flood record: each rejected call adds a strike, each accepted call
// takes one away (never below zero). A connection whose strikes reach `close_after` keeps
// sending faster than its rate and is closed (1008). close_after 0 = never.
class FloodGuard {
 public:
  explicit FloodGuard(std::uint32_t close_after) : close_after_(close_after) {}
  // Records one call; true when the connection must now be closed.
  bool record(bool accepted);
  std::uint32_t strikes() const { return strikes_; }

 private:
  std::uint32_t close_after_;
  std::uint32_t strikes_ = 0;
};

// The CALLERROR for a call refused by the rate limit. OCPP 1.6 has no rate-limit code;
// GenericError ("any other error not covered by the previous ones") is the one that does
// not claim a fault of the central system (InternalError) or of the message.
ocpp::CallError rate_limit_error(std::string unique_id, const CallRateSettings& settings,
                                 std::chrono::milliseconds retry_after);

struct ConnectionLimits {
  std::size_t per_address = 1000;  // 0 = unlimited
  std::size_t total = 10000;       // 0 = unlimited
};

enum class Admission { kAdmitted, kAddressLimit, kTotalLimit };

// Open connections (from TCP accept to close, the handshake included) per source
// address and in total. admit() counts an admitted connection; release() must follow
// exactly once for each. The address limit is checked first.
class ConnectionCounter {
 public:
  explicit ConnectionCounter(ConnectionLimits limits) : limits_(limits) {}

  Admission admit(const std::string& address);
  void release(const std::string& address);
  std::size_t total() const { return total_; }
  std::size_t from(const std::string& address) const;
  const ConnectionLimits& limits() const { return limits_; }

 private:
  ConnectionLimits limits_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> per_address_;
};

}  // namespace genx::gateway
