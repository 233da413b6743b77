// Sites, members, sent charging profiles and the allocation lease (smart/site_store.hpp,
// migration 11) on every backend.
#include <gtest/gtest.h>

#include "csms/commands.hpp"
#include "store/open_store.hpp"
#include "store_backends.hpp"

namespace genx::store {
namespace {

using nlohmann::json;

class SiteStoreTest : public testing::StoreTestBase {
 protected:
  // A running transaction on `cp` with Current.Import samples of the three phases.
  std::int64_t start_session(const std::string& cp, const std::string& at, std::vector<std::string> amps) {
    std::int64_t tx = 0;
    store_->in_transaction([&](csms::UnitOfWork& u) {
      const auto charger = u.touch_charger(cp, at);
      tx = u.create_transaction({charger, 1, "TAG", "Accepted", "{}", 0, at, std::nullopt});
      std::vector<csms::MeterSample> samples;
      const char* phases[] = {"L1", "L2", "L3"};
      for (std::size_t i = 0; i < amps.size(); ++i) {
        samples.push_back({charger, tx, 1, at, amps[i], std::nullopt, std::nullopt, "Current.Import",
                           phases[i % 3], std::nullopt, "A"});
      }
      u.insert_meter_samples(samples);
    });
    return tx;
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, SiteStoreTest, ::testing::Values("sqlite", "postgres"), testing::backend_name);

TEST_P(SiteStoreTest, SitesAndMembersRoundTrip) {
  store_->put_site({"depot", "Depot", 100, 3, 6});
  store_->put_site({"office", "Office", 40, 1, 8});
  ASSERT_EQ(store_->list_sites().size(), 2u);
  auto depot = store_->find_site("depot");
  ASSERT_TRUE(depot);
  EXPECT_EQ(depot->name, "Depot");
  EXPECT_DOUBLE_EQ(depot->max_current_a, 100);
  EXPECT_EQ(depot->phases, 3);
  store_->put_site({"depot", "Depot North", 80, 3, 6});  // a change, not a second site
  EXPECT_DOUBLE_EQ(store_->find_site("depot")->max_current_a, 80);

  store_->put_site_member("depot", {"CP1", 16.0, std::nullopt, 2, std::nullopt, "none"});
  store_->put_site_member("depot", {"CP2", std::nullopt, std::nullopt, 0, std::nullopt, "none"});
  store_->set_default_limit("CP1", 6, "accepted");
  auto members = store_->site_members("depot");
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0].charge_point_id, "CP1");
  EXPECT_EQ(members[0].max_current_a, 16.0);
  EXPECT_EQ(members[0].priority, 2);
  EXPECT_EQ(members[0].default_limit_a, 6.0);
  EXPECT_EQ(members[0].default_status, "accepted");
  EXPECT_FALSE(members[1].max_current_a);

  // A charger is in at most one site: putting it in another moves it (and forgets the
  // TxDefaultProfile state, which the new site sends again).
  store_->put_site_member("office", {"CP1", std::nullopt, std::nullopt, 0, std::nullopt, "none"});
  EXPECT_EQ(store_->site_members("depot").size(), 1u);
  ASSERT_EQ(store_->site_members("office").size(), 1u);
  EXPECT_EQ(store_->site_members("office")[0].default_status, "none");

  EXPECT_TRUE(store_->delete_site_member("office", "CP1"));
  EXPECT_FALSE(store_->delete_site_member("office", "CP1"));
  EXPECT_TRUE(store_->delete_site("depot"));
  EXPECT_FALSE(store_->delete_site("depot"));
  EXPECT_FALSE(store_->find_site("depot"));
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM site_chargers"), 0);
}

TEST_P(SiteStoreTest, SessionsCarryTheirLatestMeasuredCurrentAndLimits) {
  store_->put_site({"depot", "Depot", 100, 3, 6});
  store_->put_site_member("depot", {"CP1", std::nullopt, std::nullopt, 0, std::nullopt, "none"});
  store_->put_site_member("depot", {"CP2", std::nullopt, std::nullopt, 0, std::nullopt, "none"});
  const auto tx1 = start_session("CP1", "2026-01-01T10:00:00.000Z", {"9.5", "10.25", "9.75"});
  start_session("CP2", "2026-01-01T10:05:00.000Z", {});
  start_session("OUTSIDE", "2026-01-01T10:05:00.000Z", {"30"});
  auto sessions = store_->site_sessions("depot");
  ASSERT_EQ(sessions.size(), 2u);
  EXPECT_EQ(sessions[0].charge_point_id, "CP1");
  EXPECT_EQ(sessions[0].transaction_id, tx1);
  EXPECT_EQ(sessions[0].measured_a, 10.25);  // the highest phase
  EXPECT_FALSE(sessions[1].measured_a);

  store_->set_session_limit("depot", {"CP1", 1, tx1, 16.6, "accepted", ""});
  // The whole site as of one moment.
  const auto state = store_->site_state("depot");
  ASSERT_TRUE(state);
  EXPECT_EQ(state->site.name, "Depot");
  EXPECT_EQ(state->members.size(), 2u);
  EXPECT_EQ(state->sessions.size(), 2u);
  ASSERT_EQ(state->limits.size(), 1u);
  EXPECT_EQ(state->limits[0].transaction_id, tx1);
  EXPECT_FALSE(store_->site_state("nowhere"));
  auto limits = store_->session_limits("depot");
  ASSERT_EQ(limits.size(), 1u);
  EXPECT_DOUBLE_EQ(limits[0].limit_a, 16.6);
  EXPECT_EQ(limits[0].status, "accepted");
  // A stopped transaction has no limit any more.
  store_->in_transaction([&](csms::UnitOfWork& u) {
    u.stop_transaction(tx1, {100, "2026-01-01T11:00:00.000Z", "Local", std::nullopt, {}, {}, {}});
  });
  EXPECT_TRUE(store_->session_limits("depot").empty());
  EXPECT_EQ(store_->site_sessions("depot").size(), 1u);
}

TEST_P(SiteStoreTest, SentProfilesAreListedNewestFirstWithTheAnswer) {
  const json request = {{"connectorId", 1},
                        {"csChargingProfiles",
                         {{"chargingProfileId", 9002},
                          {"transactionId", 7},
                          {"stackLevel", 1},
                          {"chargingProfilePurpose", "TxProfile"},
                          {"chargingProfileKind", "Relative"},
                          {"chargingSchedule",
                           {{"chargingRateUnit", "A"},
                            {"chargingSchedulePeriod", json::array({{{"startPeriod", 0}, {"limit", 16.6}}})}}}}}};
  store_->record_profile({"CP1", 1, "SetChargingProfile", "site", request, "Accepted"});
  store_->record_profile({"CP1", 0, "ClearChargingProfile", "api", json{{"id", 9002}}, "Rejected"});
  store_->record_profile({"CP2", 1, "SetChargingProfile", "api", request, "timeout"});
  const auto listed = store_->charging_profiles("CP1", 100);
  EXPECT_EQ(listed["chargePointId"], "CP1");
  ASSERT_EQ(listed["profiles"].size(), 2u);
  const auto& newest = listed["profiles"][0];
  EXPECT_EQ(newest["action"], "ClearChargingProfile");
  EXPECT_EQ(newest["status"], "Rejected");
  EXPECT_EQ(newest["chargingProfileId"], 9002);
  const auto& set = listed["profiles"][1];
  EXPECT_EQ(set["source"], "site");
  EXPECT_EQ(set["purpose"], "TxProfile");
  EXPECT_EQ(set["transactionId"], 7);
  EXPECT_EQ(set["stackLevel"], 1);
  EXPECT_DOUBLE_EQ(set["limit"].get<double>(), 16.6);
  EXPECT_EQ(set["request"], request);
  EXPECT_EQ(set["status"], "Accepted");
  EXPECT_EQ(store_->charging_profiles("CP1", 1)["profiles"].size(), 1u);
}

TEST_P(SiteStoreTest, OneLeaseHolderPerSiteUntilItExpires) {
  auto other = open_store(db_->url(), Schema::require_current);  // a second worker's connection
  EXPECT_TRUE(store_->acquire_site_lease("depot", "worker-a", 1000, 5000));
  EXPECT_FALSE(other->acquire_site_lease("depot", "worker-b", 2000, 5000));
  EXPECT_TRUE(other->acquire_site_lease("office", "worker-b", 2000, 5000));  // per site
  EXPECT_TRUE(store_->acquire_site_lease("depot", "worker-a", 3000, 5000));  // renewal
  EXPECT_FALSE(other->acquire_site_lease("depot", "worker-b", 7999, 5000));
  EXPECT_TRUE(other->acquire_site_lease("depot", "worker-b", 8000, 5000));  // expired: taken over
  EXPECT_FALSE(store_->acquire_site_lease("depot", "worker-a", 8001, 5000));
  other->release_site_lease("depot", "worker-b");
  EXPECT_TRUE(store_->acquire_site_lease("depot", "worker-a", 8002, 5000));
}

}  // namespace
}  // namespace genx::store

// Migration 17: watt limits, the charger's allowed rate unit and version, tag priorities,
// departures.
namespace genx::store {
namespace {

TEST_P(SiteStoreTest, WattLimitRateUnitAndTagPriorityAreRead) {
  smart::SiteSettings site{"w", "W", 32, 3, 6, 22080.0};
  store_->put_site(site);
  EXPECT_EQ(store_->find_site("w")->max_power_w, 22080.0);
  store_->put_site({"w", "W", 32, 3, 6, std::nullopt});
  EXPECT_FALSE(store_->find_site("w")->max_power_w);

  const auto tx = start_session("CP-W", "2026-01-01T00:00:00.000Z", {"10"});
  store_->record_command_effect(
      "CP-W", *csms::command_effect("GetConfiguration", json::object(),
                                    json{{"configurationKey", json::array({{{"key", "ChargingScheduleAllowedChargingRateUnit"},
                                                                              {"readonly", true},
                                                                              {"value", "Power"}}})}}));
  store_->put_site_member("w", {"CP-W", std::nullopt, std::nullopt, 0, std::nullopt, "none"});
  store_->put_site_member("w", {"CP-NEVER-SEEN", std::nullopt, std::nullopt, 0, std::nullopt, "none"});
  auto members = store_->site_members("w");
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0].charge_point_id, "CP-NEVER-SEEN");
  EXPECT_FALSE(members[0].allowed_rate_units);
  EXPECT_EQ(members[1].allowed_rate_units, "Power");
  EXPECT_EQ(members[1].ocpp_version, "1.6");

  EXPECT_FALSE(store_->site_sessions("w")[0].tag_priority);
  EXPECT_EQ(store_->site_sessions("w")[0].id_tag, "TAG");
  store_->put_tag_priority("TAG", 9);
  store_->put_tag_priority("TAG", 12);  // a change
  store_->put_tag_priority("OTHER", -3);
  const auto sessions = store_->site_sessions("w");
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].transaction_id, tx);
  EXPECT_EQ(sessions[0].tag_priority, 12);
  const auto tags = store_->tag_priorities();
  ASSERT_EQ(tags.size(), 2u);
  EXPECT_EQ(tags[0].id_tag, "OTHER");
  EXPECT_EQ(tags[1].priority, 12);
  EXPECT_TRUE(store_->delete_tag_priority("TAG"));
  EXPECT_FALSE(store_->delete_tag_priority("TAG"));
  EXPECT_FALSE(store_->site_sessions("w")[0].tag_priority);
}

TEST_P(SiteStoreTest, LeavingASiteIsRecordedUntilForgotten) {
  store_->put_site({"a", "A", 40, 3, 6});
  store_->put_site({"b", "B", 40, 3, 6});
  start_session("CP1", "2026-01-01T00:00:00.000Z", {"10"});
  store_->put_site_member("a", {"CP1", std::nullopt, std::nullopt, 0, std::nullopt, "none"});
  store_->put_site_member("a", {"CP2", std::nullopt, std::nullopt, 0, std::nullopt, "none"});
  EXPECT_TRUE(store_->site_departures().empty());

  ASSERT_TRUE(store_->delete_site_member("a", "CP1"));
  auto left = store_->site_departures();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].charge_point_id, "CP1");
  EXPECT_EQ(left[0].site_id, "a");
  EXPECT_EQ(left[0].ocpp_version, "1.6");
  EXPECT_EQ(left[0].now_in_site, "");
  // Back in its site before the clear went out: nothing to clear.
  store_->put_site_member("a", {"CP1", std::nullopt, std::nullopt, 0, std::nullopt, "none"});
  EXPECT_TRUE(store_->site_departures().empty());
  // Moved to another site: recorded, and it says where it is now.
  store_->put_site_member("b", {"CP1", std::nullopt, std::nullopt, 0, std::nullopt, "none"});
  left = store_->site_departures();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].site_id, "a");
  EXPECT_EQ(left[0].now_in_site, "b");
  store_->forget_departure("CP1", "not the same moment");
  EXPECT_EQ(store_->site_departures().size(), 1u);
  store_->forget_departure("CP1", left[0].left_at);
  EXPECT_TRUE(store_->site_departures().empty());

  // A deleted site: every charger in it left; one GenX never saw has no version.
  ASSERT_TRUE(store_->delete_site("a"));
  left = store_->site_departures();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].charge_point_id, "CP2");
  EXPECT_EQ(left[0].ocpp_version, "");
  EXPECT_EQ(store_->site_members("b").size(), 1u);
}

}  // namespace
}  // namespace genx::store
