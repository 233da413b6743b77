// The local authorization list in the store (api::LocalListStore, its own connection;
// docs/local-list.md), on every backend (store_backends.hpp): id tags with their mark,
// the per-charger state (versions, status, the entries held), the charger's list lengths
// from its stored configuration, and the version checks after a boot claimed once.
#include <gtest/gtest.h>

#include "csms/commands.hpp"
#include "messages/timestamp.hpp"
#include "store/open_store.hpp"
#include "store_backends.hpp"

namespace genx::store {
namespace {

using nlohmann::json;

class LocalListStoreTest : public testing::StoreTestBase {
 protected:
  void SetUp() override {
    StoreTestBase::SetUp();
    list_ = open_local_list_store(db_->url());
  }
  void TearDown() override {
    list_.reset();
    StoreTestBase::TearDown();
  }

  // A BootNotification at the clock's time (last_boot_at, last_seen_at).
  void boot(const std::string& device, const std::string& unique_id) {
    const auto at = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch()).count();
    process(envelope(device, "BootNotification", json{{"chargePointVendor", "V"}, {"chargePointModel", "M"}}, unique_id,
                     messages::format_timestamp(at)));
  }

  static api::IdTagRecord tag(std::string id, bool in_list, std::string status = "Accepted") {
    return api::IdTagRecord{csms::LocalListEntry{std::move(id), std::move(status), {}, {}}, in_list, {}};
  }

  std::unique_ptr<api::LocalListStore> list_;
};

INSTANTIATE_TEST_SUITE_P(Backends, LocalListStoreTest, ::testing::Values("sqlite", "postgres"), testing::backend_name);

constexpr const char* kNow = "2024-01-15T10:31:00.000Z";

TEST_P(LocalListStoreTest, IdTagsCarryTheirMarkAndTheListIsTheMarkedOnes) {
  auto b = tag("B", true, "Blocked");
  b.tag.expiry_date = "2030-01-01T00:00:00.000Z";
  b.tag.parent_id_tag = "FLEET";
  list_->put_id_tag(b, kNow);
  list_->put_id_tag(tag("A", true), kNow);
  list_->put_id_tag(tag("C", false), kNow);
  store_->upsert_id_tag("D", "Accepted", std::nullopt, std::nullopt);  // genx id-tags set: not in the list
  EXPECT_EQ(list_->local_list(), (std::vector<csms::LocalListEntry>{{"A", "Accepted", {}, {}}, b.tag}));
  EXPECT_EQ(list_->list_id_tags(std::nullopt).size(), 4u);
  EXPECT_EQ(list_->list_id_tags(false).size(), 2u);
  const auto found = list_->find_id_tag("B");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->tag, b.tag);
  EXPECT_TRUE(found->local_list);
  EXPECT_EQ(found->updated_at, kNow);
  EXPECT_FALSE(list_->find_id_tag("NOPE").has_value());
  list_->put_id_tag(tag("B", false), kNow);  // replaced: out of the list
  EXPECT_EQ(list_->local_list().size(), 1u);
}

TEST_P(LocalListStoreTest, ThePerChargerStateFollowsSendsVersionsAndTagChanges) {
  EXPECT_FALSE(list_->local_list_state("NOBODY").has_value());
  store_->register_charger("CP1");
  auto s = list_->local_list_state("CP1");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->status, "Unknown");
  EXPECT_EQ(s->ocpp_version, "1.6");
  EXPECT_FALSE(s->sent_version.has_value());
  EXPECT_TRUE(s->held.empty());

  const std::vector<csms::LocalListEntry> held = {{"A", "Accepted", {}, {}}, {"B", "Blocked", "2030-01-01T00:00:00.000Z", "P"}};
  list_->record_list_sent("CP1", 4, held, kNow);
  EXPECT_EQ(list_->set_local_list_status("CP1", "InSync", "Accepted", kNow), "Unknown");
  s = list_->local_list_state("CP1");
  EXPECT_EQ(s->sent_version, 4);
  EXPECT_EQ(s->reported_version, 4);
  EXPECT_EQ(s->held, held);
  EXPECT_EQ(s->status, "InSync");
  EXPECT_EQ(s->last_answer, "Accepted");
  EXPECT_EQ(s->pushed_at, kNow);

  // The same version reported: still in sync; another one: out of date.
  list_->record_reported_version("CP1", 4, kNow);
  EXPECT_EQ(list_->local_list_state("CP1")->status, "InSync");
  list_->record_reported_version("CP1", 0, kNow);
  EXPECT_EQ(list_->local_list_state("CP1")->status, "OutOfDate");
  EXPECT_EQ(list_->local_list_state("CP1")->reported_version, 0);

  // A tag change marks every in-sync charger, once.
  store_->register_charger("CP2");
  list_->set_local_list_status("CP2", "InSync", "", kNow);
  EXPECT_EQ(list_->mark_local_lists_out_of_date(kNow), (std::vector<std::string>{"CP2"}));
  EXPECT_TRUE(list_->mark_local_lists_out_of_date(kNow).empty());
  EXPECT_EQ(list_->local_list_state("CP2")->last_answer, std::nullopt) << "an empty answer keeps the last one";
}

TEST_P(LocalListStoreTest, ListLengthsComeFromTheStoredConfiguration) {
  store_->register_charger("CP1");
  const json request = json::object();
  const json response = {{"configurationKey", json::array({{{"key", "SendLocalListMaxLength"}, {"readonly", true}, {"value", "2"}},
                                                           {{"key", "LocalAuthListMaxLength"}, {"readonly", true}, {"value", "50"}}})}};
  auto effect = csms::command_effect("GetConfiguration", request, response);
  ASSERT_TRUE(effect.has_value());
  store_->record_command_effect("CP1", *effect);
  const auto s = list_->local_list_state("CP1");
  EXPECT_EQ(s->send_local_list_max_length, 2);
  EXPECT_EQ(s->local_auth_list_max_length, 50);
}

TEST_P(LocalListStoreTest, AVersionCheckIsClaimedOncePerBootWhileTheListIsInUse) {
  boot("CP1", "b1");
  const std::string since = "2024-01-15T10:00:00.000Z";
  EXPECT_TRUE(list_->claim_version_checks(since, kNow, 10).empty()) << "no tag is marked: the list is not in use";
  list_->put_id_tag(tag("A", true), kNow);
  EXPECT_EQ(list_->claim_version_checks(since, kNow, 10), (std::vector<std::string>{"CP1"}));
  auto other = open_local_list_store(db_->url());
  EXPECT_TRUE(other->claim_version_checks(since, kNow, 10).empty()) << "claimed: another api process does not ask again";
  EXPECT_TRUE(list_->claim_version_checks("2024-01-15T11:00:00.000Z", "2024-01-15T11:30:00.000Z", 10).empty());
  // The next boot makes it due again.
  clock_.now_ += std::chrono::hours(1);  // 11:30
  boot("CP1", "b2");
  EXPECT_TRUE(list_->claim_version_checks("2024-01-15T12:00:00.000Z", "2024-01-15T12:01:00.000Z", 10).empty())
      << "not seen since: offline";
  EXPECT_EQ(other->claim_version_checks(since, "2024-01-15T11:31:00.000Z", 10), (std::vector<std::string>{"CP1"}));
  // An answer counts as asked.
  clock_.now_ += std::chrono::hours(1);
  boot("CP1", "b3");
  list_->record_reported_version("CP1", 3, "2024-01-15T12:31:00.000Z");
  EXPECT_TRUE(list_->claim_version_checks(since, "2024-01-15T12:32:00.000Z", 10).empty());
}

}  // namespace
}  // namespace genx::store
