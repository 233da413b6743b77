// API tokens in SQLite (migration 5, store/token_store.hpp) with the access rules of
// auth/access_control.hpp: a real database file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "auth/access_control.hpp"
#include "store/open_store.hpp"
#include "store_backends.hpp"

namespace genx::store {
namespace {

namespace fs = std::filesystem;

std::atomic<int>& counter_of_dirs() {
  static std::atomic<int> n{0};
  return n;
}

class TokenStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("genx-tokens-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(counter_of_dirs()++));
    fs::create_directories(dir_);
    db_ = std::make_unique<testing::TestDatabase>(GetParam(), dir_);
    store_ = open_store(db_->url(), Schema::migrate);
  }
  void TearDown() override {
    store_.reset();
    extra_db_.reset();
    db_.reset();
    fs::remove_all(dir_);
  }
  fs::path dir_;
  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<testing::TestDatabase> extra_db_;  // a second database, when a test needs one
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, TokenStoreTest, ::testing::Values("sqlite", "postgres"),
                         testing::backend_name);

TEST_P(TokenStoreTest, CreateListFindRevoke) {
  EXPECT_FALSE(store_->has_active_api_tokens());
  const std::string token = auth::generate_token();
  const auto id = store_->create_api_token("dashboard", "read", auth::token_digest(token));
  EXPECT_TRUE(store_->has_active_api_tokens());
  auto found = store_->find_api_token(auth::token_digest(token));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, id);
  EXPECT_EQ(found->name, "dashboard");
  EXPECT_EQ(found->role, "read");
  EXPECT_FALSE(store_->find_api_token(auth::token_digest(token + "x")));

  const auto list = store_->list_api_tokens();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["name"], "dashboard");
  EXPECT_EQ(list[0]["role"], "read");
  EXPECT_TRUE(list[0]["revokedAt"].is_null());
  EXPECT_EQ(list.dump().find(auth::token_digest(token)), std::string::npos) << "list shows the digest";
  EXPECT_EQ(list.dump().find(token), std::string::npos);

  // A second active token of the same name is refused; after revocation the name is free.
  EXPECT_THROW(store_->create_api_token("dashboard", "operator", auth::token_digest("t2")), std::invalid_argument);
  EXPECT_TRUE(store_->revoke_api_token("dashboard"));
  EXPECT_FALSE(store_->revoke_api_token("dashboard"));
  EXPECT_FALSE(store_->find_api_token(auth::token_digest(token)));
  EXPECT_FALSE(store_->has_active_api_tokens());
  const auto id2 = store_->create_api_token("dashboard", "operator", auth::token_digest("t2-token"));
  EXPECT_TRUE(store_->revoke_api_token(std::to_string(id2)));  // by id
  EXPECT_FALSE(store_->list_api_tokens()[1]["revokedAt"].is_null());
}

TEST_P(TokenStoreTest, AccessControlCombinesApiTokenAndDatabaseTokens) {
  auth::AccessControl open(std::nullopt, store_.get());
  EXPECT_FALSE(open.enabled());

  auth::AccessControl with_env(std::string("env-token-123456"), store_.get());
  EXPECT_TRUE(with_env.enabled());
  auto env = with_env.identify("env-token-123456");
  ASSERT_TRUE(env);
  EXPECT_EQ(env->role, auth::Role::kOperator);
  EXPECT_FALSE(with_env.identify("env-token-1234567"));
  EXPECT_FALSE(with_env.identify(""));

  const std::string reader = auth::generate_token();
  store_->create_api_token("reader", "read", auth::token_digest(reader));
  EXPECT_TRUE(open.enabled());  // a database token turns auth on without a restart
  auto who = open.identify(reader);
  ASSERT_TRUE(who);
  EXPECT_EQ(who->name, "reader");
  EXPECT_EQ(who->role, auth::Role::kRead);
  store_->revoke_api_token("reader");
  EXPECT_FALSE(open.identify(reader));
}

}  // namespace
}  // namespace genx::store
