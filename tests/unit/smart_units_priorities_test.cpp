// Site limits in watts, profiles in A or W, 2.0.1 profile forms, and priorities per id tag
// (docs/smart-charging.md).
#include <gtest/gtest.h>

#include "smart/allocation.hpp"
#include "smart/profiles.hpp"
#include "smart/site_view.hpp"

using namespace genx::smart;
using nlohmann::json;

namespace {

SiteState two_sessions() {
  SiteState state;
  state.site = SiteSettings{"s", "S", 40, 3, 6, std::nullopt};
  for (const char* id : {"CP-A", "CP-B"}) {
    SiteMember m;
    m.charge_point_id = id;
    m.default_limit_a = 6;
    m.default_status = "accepted";
    state.members.push_back(m);
  }
  state.sessions.push_back(SiteSession{"CP-A", 1, 1, "2026-01-01T00:00:00.000Z", {}});
  state.sessions.push_back(SiteSession{"CP-B", 1, 2, "2026-01-01T00:01:00.000Z", {}});
  return state;
}

}  // namespace

TEST(SmartWatts, SiteLimitInWattsIsAmperesPerPhaseAtTheNominalVoltage) {
  auto parsed = parse_site("w", json{{"maxPowerW", 22080}, {"phases", 3}}, 230);
  ASSERT_TRUE(std::holds_alternative<SiteSettings>(parsed)) << std::get<std::string>(parsed);
  const auto site = std::get<SiteSettings>(parsed);
  EXPECT_DOUBLE_EQ(site.max_current_a, 32);  // 22080 W / (230 V x 3)
  ASSERT_TRUE(site.max_power_w);
  EXPECT_DOUBLE_EQ(*site.max_power_w, 22080);
  EXPECT_NEAR(site_limit_a(site, 230), 32, 1e-9);
  // Single phase: the whole power on one phase.
  const auto one = std::get<SiteSettings>(parse_site("w1", json{{"maxPowerW", 7360}, {"phases", 1}}, 230));
  EXPECT_DOUBLE_EQ(one.max_current_a, 32);
  // Both given: the lower one counts.
  const auto both = std::get<SiteSettings>(parse_site("b", json{{"maxCurrentA", 100}, {"maxPowerW", 41400}}, 230));
  EXPECT_DOUBLE_EQ(both.max_current_a, 100);
  EXPECT_NEAR(site_limit_a(both, 230), 60, 1e-9);
  EXPECT_NEAR(site_limit_a(both, 115), 100, 1e-9);
  // A limit that is not a whole number of tenths is rounded down, never up.
  const auto odd = std::get<SiteSettings>(parse_site("o", json{{"maxPowerW", 10000}}, 230));
  EXPECT_DOUBLE_EQ(odd.max_current_a, 14.4);  // 14.49...
}

TEST(SmartWatts, BadWattLimitsAreClearErrors) {
  EXPECT_EQ(std::get<std::string>(parse_site("x", json{{"phases", 3}}, 230)),
            "maxCurrentA: required (amperes per phase), or maxPowerW (watts)");
  EXPECT_EQ(std::get<std::string>(parse_site("x", json{{"maxPowerW", "lots"}}, 230)), "maxPowerW: expected a number");
  EXPECT_NE(std::get<std::string>(parse_site("x", json{{"maxPowerW", -5}}, 230)).find("maxPowerW"), std::string::npos);
}

TEST(SmartWatts, RateUnitFollowsTheChargersAllowedUnits) {
  EXPECT_EQ(charging_rate_unit(std::nullopt), "A");
  EXPECT_EQ(charging_rate_unit(std::string("Current")), "A");
  EXPECT_EQ(charging_rate_unit(std::string("Current,Power")), "A");
  EXPECT_EQ(charging_rate_unit(std::string("Power")), "W");
  EXPECT_EQ(charging_rate_unit(std::string("power")), "W");
  EXPECT_EQ(charging_rate_unit(std::string("")), "A");
}

TEST(SmartWatts, ProfilesInWattsCarryWholeWattsForTheSamePower) {
  const ProfileForm watts{"1.6", "W", 230};
  const json tx = site_tx_profile_request(42, 1, 16, 3, watts);
  const auto& schedule = tx["csChargingProfiles"]["chargingSchedule"];
  EXPECT_EQ(schedule["chargingRateUnit"], "W");
  EXPECT_DOUBLE_EQ(schedule["chargingSchedulePeriod"][0]["limit"].get<double>(), 11040);  // 16 A x 230 V x 3
  EXPECT_EQ(schedule["chargingSchedulePeriod"][0]["numberPhases"], 3);
  // Rounded down: the charger never gets more than the amperes allocated.
  EXPECT_DOUBLE_EQ(site_limit_value(6.1, 1, watts), 1403);
  EXPECT_DOUBLE_EQ(site_limit_value(0, 3, watts), 0);
  // Amperes stay tenths.
  EXPECT_DOUBLE_EQ(site_limit_value(6.17, 3, ProfileForm{}), schema_limit(6.17));
  // A sim charger reads the W profile back as the same amperes per phase (230 V).
  std::vector<InstalledProfile> installed{{1, tx["csChargingProfiles"]}};
  EXPECT_NEAR(*composite_limit_a(installed, 1, 42, 0, 10), 16, 1e-9);
}

TEST(SmartV201, AllocationProfilesInThe201Form) {
  const ProfileForm v201{"2.0.1", "A", 230};
  const json tx = site_tx_profile_request(42, 2, 12.5, 3, v201, "tx-abc");
  EXPECT_EQ(tx["evseId"], 2);
  const json& p = tx["chargingProfile"];
  EXPECT_EQ(p["id"], kSiteTxProfileId);
  EXPECT_EQ(p["chargingProfilePurpose"], "TxProfile");
  EXPECT_EQ(p["chargingProfileKind"], "Relative");
  EXPECT_EQ(p["transactionId"], "tx-abc");
  ASSERT_TRUE(p["chargingSchedule"].is_array());
  EXPECT_EQ(p["chargingSchedule"][0]["chargingRateUnit"], "A");
  EXPECT_DOUBLE_EQ(p["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"].get<double>(), 12.5);
  EXPECT_FALSE(tx.contains("csChargingProfiles"));
  const json d = site_default_profile_request(6, 3, v201);
  EXPECT_EQ(d["evseId"], 0);
  EXPECT_EQ(d["chargingProfile"]["chargingProfilePurpose"], "TxDefaultProfile");
  EXPECT_EQ(check_profile_command_v201("SetChargingProfile", tx), std::nullopt);
  EXPECT_EQ(check_profile_command_v201("SetChargingProfile", d), std::nullopt);
  // What the api refuses beyond the schema.
  json bad = tx;
  bad["evseId"] = 0;
  EXPECT_NE(check_profile_command_v201("SetChargingProfile", bad), std::nullopt);
  bad = d;
  bad["chargingProfile"]["transactionId"] = "x";
  EXPECT_NE(check_profile_command_v201("SetChargingProfile", bad), std::nullopt);
  bad = d;
  bad["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["startPeriod"] = 5;
  EXPECT_EQ(*check_profile_command_v201("SetChargingProfile", bad),
            "chargingProfile.chargingSchedule[0].chargingSchedulePeriod[0].startPeriod: the first period starts at 0");
  // Listed like a 1.6 profile.
  const auto s = summarize_profile_command("SetChargingProfile", tx);
  EXPECT_EQ(s.charging_profile_id, kSiteTxProfileId);
  EXPECT_EQ(s.purpose, "TxProfile");
  EXPECT_EQ(s.limit, 12.5);
  EXPECT_EQ(s.rate_unit, "A");
}

TEST(SmartV201, ClearRequestsRemoveWhatTheSiteInstalledByIdInEachVersion) {
  const auto v16 = site_clear_requests("1.6");
  ASSERT_EQ(v16.size(), 2u);
  EXPECT_EQ(v16[0], (json{{"id", kSiteDefaultProfileId}}));
  EXPECT_EQ(v16[1], (json{{"id", kSiteTxProfileId}}));
  const auto v201 = site_clear_requests("2.0.1");
  ASSERT_EQ(v201.size(), 2u);
  EXPECT_EQ(v201[0], (json{{"chargingProfileId", kSiteDefaultProfileId}}));
  // A sim charger holding both loses both, and an operator's profile stays.
  std::vector<InstalledProfile> installed{
      {0, site_default_profile_request(6, 3)["csChargingProfiles"]},
      {1, site_tx_profile_request(7, 1, 10, 3)["csChargingProfiles"]},
      {0, json{{"chargingProfileId", 5}, {"stackLevel", 0}, {"chargingProfilePurpose", "ChargePointMaxProfile"}}}};
  for (const auto& r : v16) EXPECT_EQ(clear_profiles(installed, r), "Accepted");
  ASSERT_EQ(installed.size(), 1u);
  EXPECT_EQ(installed[0].profile["chargingProfileId"], 5);
}

TEST(SmartTagPriority, ASessionRanksByItsTagsPriorityOverItsChargers) {
  auto state = two_sessions();
  state.site.max_current_a = 10;  // room for one minimum only
  // Without tag priorities the older session (CP-A) keeps charging, the newer one pauses.
  auto result = allocate(SiteLimit{10, 3, 6}, allocation_inputs(state));
  EXPECT_GT(result.chargers[0].limit_a, 0);
  EXPECT_TRUE(result.chargers[1].paused);
  // CP-B's driver has a priority: CP-B charges, CP-A pauses.
  state.sessions[1].tag_priority = 10;
  const auto inputs = allocation_inputs(state);
  EXPECT_EQ(inputs[1].priority, 10);
  result = allocate(SiteLimit{10, 3, 6}, inputs);
  EXPECT_TRUE(result.chargers[0].paused);
  EXPECT_DOUBLE_EQ(result.chargers[1].limit_a, 10);
  // The tag's priority is over the charger's, even a higher one.
  state.members[0].priority = 50;
  state.sessions[0].tag_priority = -5;
  result = allocate(SiteLimit{10, 3, 6}, allocation_inputs(state));
  EXPECT_TRUE(result.chargers[0].paused);
  // A negative tag priority ranks below charger-priority sessions: it is served last.
  state.site.max_current_a = 40;
  state.sessions[1].tag_priority.reset();
  result = allocate(SiteLimit{40, 3, 6}, allocation_inputs(state));
  EXPECT_DOUBLE_EQ(result.chargers[1].limit_a, 32);  // fills up to its maximum first
  EXPECT_DOUBLE_EQ(result.chargers[0].limit_a, 8);   // its minimum and what is left
}

TEST(SmartTagPriority, ParseTagPriority) {
  EXPECT_EQ(std::get<int>(parse_tag_priority("TAG1", json{{"priority", 7}})), 7);
  EXPECT_EQ(std::get<int>(parse_tag_priority("TAG1", json{{"priority", -100}})), -100);
  EXPECT_EQ(std::get<std::string>(parse_tag_priority("TAG1", json{{"priority", 101}})), "priority: expected -100..100");
  EXPECT_EQ(std::get<std::string>(parse_tag_priority("TAG1", json{{"priority", 1.5}})),
            "priority: expected a whole number");
  EXPECT_EQ(std::get<std::string>(parse_tag_priority("TAG1", json::object())), "priority: required (-100..100)");
  EXPECT_EQ(std::get<std::string>(parse_tag_priority("TAG1", json{{"prio", 1}})),
            "unknown field prio (expected priority)");
  EXPECT_EQ(std::get<std::string>(parse_tag_priority(std::string(37, 'x'), json{{"priority", 1}})),
            "idTag: 1 to 36 characters");
}

TEST(SmartTagPriority, SiteDocumentShowsPriorityUnitAndWattLimit) {
  auto state = two_sessions();
  state.site.max_power_w = 22080;
  state.members[1].allowed_rate_units = "Power";
  state.sessions[1].tag_priority = 3;
  const json doc = site_document(state, 230);
  EXPECT_EQ(doc["maxPowerW"], 22080);
  EXPECT_DOUBLE_EQ(doc["limitA"].get<double>(), 32);
  EXPECT_EQ(doc["allocations"][0]["rateUnit"], "A");
  EXPECT_EQ(doc["allocations"][1]["rateUnit"], "W");
  EXPECT_EQ(doc["allocations"][1]["priority"], 3);
  EXPECT_EQ(doc["allocations"][0]["priority"], 0);
}
