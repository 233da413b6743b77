// charger_security (migration 4) on a real SQLite file: what the CLI and the REST API
// write and the gateway reads (docs/security.md).
#include <gtest/gtest.h>

#include "security/password_hash.hpp"
#include "store/open_store.hpp"
#include "store_backends.hpp"

namespace genx::store {
namespace {

class ChargerSecurityStoreTest : public testing::StoreTestBase {};

INSTANTIATE_TEST_SUITE_P(Backends, ChargerSecurityStoreTest, ::testing::Values("sqlite", "postgres"),
                         testing::backend_name);

TEST_P(ChargerSecurityStoreTest, UnknownChargerHasNoSecurityRow) {
  EXPECT_FALSE(store_->charger_security("CP-NEW").has_value());
  EXPECT_FALSE(store_->charger_security_summary("CP-NEW").has_value());
}

TEST_P(ChargerSecurityStoreTest, ProfileAndPasswordAreSetIndependently) {
  store_->set_charger_security("CP1", 2, std::nullopt);
  auto s = store_->charger_security("CP1");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->profile, 2);
  EXPECT_FALSE(s->password_hash);

  const std::string hash = security::hash_password("sixteen chars ok", 1000);
  store_->set_charger_security("CP1", std::nullopt, hash);
  s = store_->charger_security("CP1");
  EXPECT_EQ(s->profile, 2);  // kept
  EXPECT_EQ(s->password_hash, hash);

  store_->set_charger_security("CP1", 3, std::nullopt);
  s = store_->charger_security("CP1");
  EXPECT_EQ(s->profile, 3);
  EXPECT_EQ(s->password_hash, hash);  // kept

  auto summary = store_->charger_security_summary("CP1");
  ASSERT_TRUE(summary);
  EXPECT_EQ((*summary)["securityProfile"], 3);
  EXPECT_EQ((*summary)["passwordSet"], true);
  EXPECT_EQ(summary->dump().find("pbkdf2"), std::string::npos) << "the summary must not show the hash";
}

TEST_P(ChargerSecurityStoreTest, APasswordAloneCreatesAProfileZeroRow) {
  store_->set_charger_security("CP2", std::nullopt, security::hash_password("sixteen chars ok", 1000));
  auto s = store_->charger_security("CP2");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->profile, 0);
  EXPECT_TRUE(s->password_hash);
}

TEST_P(ChargerSecurityStoreTest, RefusesBadProfilesAndEmptyIds) {
  EXPECT_THROW(store_->set_charger_security("CP1", 4, std::nullopt), std::invalid_argument);
  EXPECT_THROW(store_->set_charger_security("CP1", -1, std::nullopt), std::invalid_argument);
  EXPECT_THROW(store_->set_charger_security("", 1, std::nullopt), std::invalid_argument);
  EXPECT_FALSE(store_->charger_security("CP1").has_value());
}

}  // namespace
}  // namespace genx::store
