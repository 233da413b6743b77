#include "gateway/charger_auth.hpp"

#include <spdlog/spdlog.h>

#include "metrics/metrics.hpp"
#include "security/password_hash.hpp"

namespace genx::gateway {
namespace {

metrics::Family<metrics::Counter>& handshake_checks() {
  static auto& family = metrics::registry().counter(
      "genx_gateway_handshake_checks_total",
      "charger handshakes checked against their security profile, by result (accepted, 401, 403, 503)",
      {"result"});
  return family;
}

metrics::Family<metrics::Counter>& password_checks() {
  static auto& family = metrics::registry().counter(
      "genx_gateway_password_checks_total",
      "charger passwords checked, by source: cache (a recent success remembered) or hash (PBKDF2 run)",
      {"source"});
  return family;
}

void count_check(int status) {
  handshake_checks().with({status == 0 ? std::string("accepted") : std::to_string(status)}).inc();
}

void count_password_check(const char* source) { password_checks().with({source}).inc(); }

}  // namespace

ChargerAuthenticator::ChargerAuthenticator(ChargerAuthOptions options, Lookup lookup)
    : options_(options), lookup_(std::move(lookup)), cache_(options.cache_entries) {
  handshake_checks();  // on /metrics from the start
  password_checks();
  const int n = options_.threads < 1 ? 1 : options_.threads;
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { work(); });
}

ChargerAuthenticator::~ChargerAuthenticator() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void ChargerAuthenticator::check(security::ConnectionFacts facts, std::function<void(AuthDecision)> done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && jobs_.size() < options_.max_pending) {
      jobs_.push_back(Job{std::move(facts), std::move(done)});
      wake_.notify_one();
      return;
    }
  }
  count_check(503);
  done(AuthDecision{503, 0, "too many handshakes waiting for their credentials check, retry later"});
}

void ChargerAuthenticator::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    AuthDecision decision = decide(job.facts);
    count_check(decision.status);
    job.done(std::move(decision));
  }
}

AuthDecision ChargerAuthenticator::decide(const security::ConnectionFacts& facts) {
  std::optional<security::ChargerSecurity> known;
  try {
    known = lookup_(facts.charge_point_id);
  } catch (const std::exception& e) {
    spdlog::error("charger {}: cannot read its security settings: {}", facts.charge_point_id, e.what());
    return AuthDecision{503, 0, "charger credentials unavailable, retry later"};
  }
  using Kind = security::Verdict::Kind;
  security::Verdict verdict = security::evaluate_connection(known, options_.min_profile, facts);
  switch (verdict.kind) {
    case Kind::kAccept: return AuthDecision{0, verdict.profile, {}};
    case Kind::kUnauthorized: return AuthDecision{401, verdict.profile, std::move(verdict.reason)};
    case Kind::kForbidden: return AuthDecision{403, verdict.profile, std::move(verdict.reason)};
    case Kind::kCheckPassword: break;
  }
  const std::string& hash = *known->password_hash;
  const std::string& password = verdict.credentials->password;
  if (cache_.contains(facts.charge_point_id, hash, password)) {
    count_password_check("cache");
    return AuthDecision{0, verdict.profile, {}};
  }
  count_password_check("hash");
  bool ok = false;
  try {
    ok = security::verify_password(password, hash);
  } catch (const std::exception& e) {
    spdlog::error("charger {}: password check failed: {}", facts.charge_point_id, e.what());
    return AuthDecision{503, verdict.profile, "password check unavailable, retry later"};
  }
  if (!ok) return AuthDecision{401, verdict.profile, "wrong password"};
  cache_.remember(facts.charge_point_id, hash, password);
  return AuthDecision{0, verdict.profile, {}};
}

}  // namespace genx::gateway
