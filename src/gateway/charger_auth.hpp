#pragma once
// Checks a charger's WebSocket handshake against its security profile
// (security/charger_policy.hpp) on a few threads of its own, never on the gateway's I/O
// thread: the credentials lookup reads the database and a password check costs tens of
// milliseconds (PBKDF2). Successful password checks are remembered
// (security/verified_cache.hpp), so reconnects are cheap.
//
// Bounded: at most max_pending checks wait; beyond that a handshake is refused at once
// with 503 (the charger retries later) instead of queueing without limit.
// Fails closed: when the lookup throws (database unavailable), the answer is 503.
// Threading: check() from any thread; `done` runs on an authenticator thread (or on the
// caller's thread for an immediate refusal). The destructor stops and joins the threads;
// checks still waiting then are dropped without calling `done`.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "security/charger_policy.hpp"
#include "security/verified_cache.hpp"

namespace genx::gateway {

struct ChargerAuthOptions {
  int min_profile = 0;  // GATEWAY_MIN_SECURITY_PROFILE
  int threads = 2;
  std::size_t max_pending = 1000;
  std::size_t cache_entries = 20000;
};

struct AuthDecision {
  int status = 0;  // 0: accept; else the HTTP status to refuse with (401, 403, 503)
  int profile = 0;
  std::string reason;  // for the log and the response body; never a secret
};

class ChargerAuthenticator {
 public:
  // Reads a charger's security; nullopt for an unknown charger; throws when unavailable.
  using Lookup = std::function<std::optional<security::ChargerSecurity>(const std::string& charge_point_id)>;

  ChargerAuthenticator(ChargerAuthOptions options, Lookup lookup);
  ~ChargerAuthenticator();
  ChargerAuthenticator(const ChargerAuthenticator&) = delete;
  ChargerAuthenticator& operator=(const ChargerAuthenticator&) = delete;

  void check(security::ConnectionFacts facts, std::function<void(AuthDecision)> done);

 private:
  struct Job {
    security::ConnectionFacts facts;
    std::function<void(AuthDecision)> done;
  };
  void work();
  AuthDecision decide(const security::ConnectionFacts& facts);

  ChargerAuthOptions options_;
  Lookup lookup_;
  security::VerifiedPasswordCache cache_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace genx::gateway
