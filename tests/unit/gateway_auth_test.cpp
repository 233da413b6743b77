// ChargerAuthenticator (gateway/charger_auth.hpp) with a fake credentials lookup: the
// decisions the handshake gets, the remembered successes forgotten when the password
// changes, and failing closed when the database cannot be read.
#include <gtest/gtest.h>

#include <future>
#include <map>
#include <mutex>
#include <stdexcept>

#include "gateway/charger_auth.hpp"
#include "security/encoding.hpp"
#include "security/password_hash.hpp"

namespace genx::gateway {
namespace {

struct FakeCredentials {
  std::mutex mutex;
  std::map<std::string, security::ChargerSecurity> rows;
  bool broken = false;
  int lookups = 0;

  ChargerAuthenticator::Lookup lookup() {
    return [this](const std::string& id) -> std::optional<security::ChargerSecurity> {
      std::lock_guard lock(mutex);
      ++lookups;
      if (broken) throw std::runtime_error("database is locked");
      auto it = rows.find(id);
      if (it == rows.end()) return std::nullopt;
      return it->second;
    };
  }
};

std::string basic(const std::string& user, const std::string& password) {
  const std::string text = user + ":" + password;
  return "Basic " + security::base64_encode(std::vector<unsigned char>(text.begin(), text.end()));
}

AuthDecision check(ChargerAuthenticator& auth, security::ConnectionFacts facts) {
  std::promise<AuthDecision> promise;
  auto future = promise.get_future();
  auth.check(std::move(facts), [&promise](AuthDecision d) { promise.set_value(std::move(d)); });
  return future.get();
}

security::ConnectionFacts plain(const std::string& id, std::optional<std::string> authorization = std::nullopt) {
  return security::ConnectionFacts{id, false, std::nullopt, std::move(authorization)};
}

TEST(ChargerAuthenticator, ChecksPasswordsAndForgetsOldOnesWhenTheHashChanges) {
  FakeCredentials db;
  db.rows["CP1"] = security::ChargerSecurity{1, security::hash_password("first password 16+", 1000)};
  ChargerAuthenticator auth(ChargerAuthOptions{}, db.lookup());

  EXPECT_EQ(check(auth, plain("CP1", basic("CP1", "first password 16+"))).status, 0);
  EXPECT_EQ(check(auth, plain("CP1", basic("CP1", "first password 16+"))).status, 0);  // remembered
  EXPECT_EQ(check(auth, plain("CP1", basic("CP1", "wrong password 16+"))).status, 401);
  AuthDecision missing = check(auth, plain("CP1"));
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.profile, 1);

  {
    std::lock_guard lock(db.mutex);
    db.rows["CP1"].password_hash = security::hash_password("second password 16", 1000);
  }
  AuthDecision old = check(auth, plain("CP1", basic("CP1", "first password 16+")));
  EXPECT_EQ(old.status, 401);
  EXPECT_EQ(old.reason, "wrong password");
  EXPECT_EQ(check(auth, plain("CP1", basic("CP1", "second password 16"))).status, 0);
}

TEST(ChargerAuthenticator, UnknownChargersFollowTheMinimumProfile) {
  FakeCredentials db;
  {
    ChargerAuthenticator open(ChargerAuthOptions{}, db.lookup());
    EXPECT_EQ(check(open, plain("NEW")).status, 0);
  }
  ChargerAuthOptions strict;
  strict.min_profile = 2;
  ChargerAuthenticator auth(strict, db.lookup());
  AuthDecision d = check(auth, plain("NEW"));
  EXPECT_EQ(d.status, 403);
  EXPECT_EQ(d.profile, 2);
}

TEST(ChargerAuthenticator, FailsClosedWhenTheDatabaseCannotBeRead) {
  FakeCredentials db;
  db.broken = true;
  ChargerAuthenticator auth(ChargerAuthOptions{}, db.lookup());
  AuthDecision d = check(auth, plain("CP1"));
  EXPECT_EQ(d.status, 503);
  EXPECT_EQ(d.reason.find("locked"), std::string::npos) << "internal errors stay in the log";
}

TEST(ChargerAuthenticator, RefusesAtOnceWhenTooManyChecksWait) {
  FakeCredentials db;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<AuthDecision> first;
  std::vector<std::promise<AuthDecision>> waiting(3);  // outlive the authenticator's threads
  ChargerAuthOptions options;
  options.threads = 1;
  options.max_pending = 1;
  ChargerAuthenticator auth(options, [released](const std::string&) -> std::optional<security::ChargerSecurity> {
    released.wait();  // the one thread is busy until the test lets go
    return std::nullopt;
  });
  auth.check(plain("A"), [&first](AuthDecision d) { first.set_value(d); });
  // "A" is taken by the thread or still queued; fill the queue until one is refused.
  int refused_at_once = 0;
  for (auto& p : waiting) {
    std::future<AuthDecision> f = p.get_future();
    auth.check(plain("B"), [&p](AuthDecision d) { p.set_value(d); });
    if (f.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      EXPECT_EQ(f.get().status, 503);
      ++refused_at_once;
    }
  }
  EXPECT_GE(refused_at_once, 1);
  release.set_value();
  EXPECT_EQ(first.get_future().get().status, 0);
}

}  // namespace
}  // namespace genx::gateway
