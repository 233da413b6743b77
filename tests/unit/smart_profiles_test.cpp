// Charging profiles: the api's checks, what the allocation sends, the composite limit.
#include <gtest/gtest.h>

#include "smart/profiles.hpp"

using namespace genx::smart;
using nlohmann::json;

TEST(SmartProfiles, LimitsAreExactTenthsForTheSchema) {
  for (double v : {3.0, 6.0, 16.66, 0.3, 25.0, 7.15, 100.0}) {
    const double s = schema_limit(v);
    EXPECT_LE(s, v + 1e-9);
    EXPECT_GT(s, v - 0.21);
    EXPECT_EQ(s / 0.1, std::floor(s / 0.1)) << s;
  }
  EXPECT_EQ(schema_limit(-1), 0);
}

TEST(SmartProfiles, SiteTxProfileIsARelativeAmpereProfileForTheTransaction) {
  auto request = site_tx_profile_request(42, 1, 16.6, 3);
  EXPECT_EQ(request["connectorId"], 1);
  const auto& p = request["csChargingProfiles"];
  EXPECT_EQ(p["chargingProfilePurpose"], "TxProfile");
  EXPECT_EQ(p["transactionId"], 42);
  EXPECT_EQ(p["chargingProfileKind"], "Relative");
  EXPECT_EQ(p["chargingSchedule"]["chargingRateUnit"], "A");
  EXPECT_DOUBLE_EQ(p["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"].get<double>(), 16.6);
  EXPECT_FALSE(check_profile_command("SetChargingProfile", request));
  EXPECT_FALSE(check_profile_command("SetChargingProfile", site_default_profile_request(6, 3)));
}

TEST(SmartProfiles, ApiChecksTheRulesTheSchemaCannotSay) {
  auto max = site_default_profile_request(6, 3);
  max["csChargingProfiles"]["chargingProfilePurpose"] = "ChargePointMaxProfile";
  max["connectorId"] = 1;
  EXPECT_EQ(*check_profile_command("SetChargingProfile", max),
            "connectorId: a ChargePointMaxProfile is set on connector 0 (the charge point)");
  auto absolute = site_default_profile_request(6, 3);
  absolute["csChargingProfiles"]["chargingProfileKind"] = "Absolute";
  EXPECT_NE(check_profile_command("SetChargingProfile", absolute)->find("startSchedule: required"),
            std::string::npos);
  auto recurring = absolute;
  recurring["csChargingProfiles"]["chargingProfileKind"] = "Recurring";
  recurring["csChargingProfiles"]["chargingSchedule"]["startSchedule"] = "2026-01-01T00:00:00Z";
  EXPECT_NE(check_profile_command("SetChargingProfile", recurring)->find("recurrencyKind"), std::string::npos);
  recurring["csChargingProfiles"]["recurrencyKind"] = "Daily";
  EXPECT_FALSE(check_profile_command("SetChargingProfile", recurring));
  json start = {{"idTag", "T"}, {"chargingProfile", site_default_profile_request(6, 3)["csChargingProfiles"]}};
  EXPECT_NE(check_profile_command("RemoteStartTransaction", start)->find("takes a TxProfile"), std::string::npos);
}

TEST(SmartProfiles, CompositeLimitFollowsStackLevelsPurposesAndTime) {
  std::vector<InstalledProfile> installed;
  EXPECT_FALSE(composite_limit_a(installed, 1, std::nullopt, 0, 1000));
  EXPECT_EQ(install_profile(installed, site_default_profile_request(6, 3)), "Accepted");
  EXPECT_DOUBLE_EQ(*composite_limit_a(installed, 1, std::nullopt, 0, 1000), 6);
  EXPECT_DOUBLE_EQ(*composite_limit_a(installed, 1, 7, 900, 1000), 6);  // TxDefault applies to a tx too
  install_profile(installed, site_tx_profile_request(7, 1, 20, 3));
  EXPECT_DOUBLE_EQ(*composite_limit_a(installed, 1, 7, 900, 1000), 20);  // TxProfile of tx 7 wins
  EXPECT_DOUBLE_EQ(*composite_limit_a(installed, 1, 8, 900, 1000), 6);   // not for another tx
  // A ChargePointMaxProfile in watts caps everything: 3 phases x 230 V x 10 A.
  json max = {{"connectorId", 0},
              {"csChargingProfiles",
               {{"chargingProfileId", 1},
                {"stackLevel", 0},
                {"chargingProfilePurpose", "ChargePointMaxProfile"},
                {"chargingProfileKind", "Absolute"},
                {"chargingSchedule",
                 {{"chargingRateUnit", "W"},
                  {"startSchedule", "1970-01-01T00:00:00Z"},
                  {"chargingSchedulePeriod", json::array({{{"startPeriod", 0}, {"limit", 6900}},
                                                          {{"startPeriod", 2000}, {"limit", 2760}}})}}}}}};
  install_profile(installed, max);
  EXPECT_NEAR(*composite_limit_a(installed, 1, 7, 900, 1000), 10, 1e-9);
  EXPECT_NEAR(*composite_limit_a(installed, 1, 7, 900, 2500), 4, 1e-9);  // the second period
  // A higher stack level of the same purpose wins.
  auto higher = site_tx_profile_request(7, 1, 8, 3);
  higher["csChargingProfiles"]["chargingProfileId"] = 5;
  higher["csChargingProfiles"]["stackLevel"] = 4;
  install_profile(installed, higher);
  EXPECT_DOUBLE_EQ(*composite_limit_a(installed, 1, 7, 900, 1000), 8);
  EXPECT_EQ(clear_profiles(installed, json{{"id", 5}}), "Accepted");
  EXPECT_EQ(clear_profiles(installed, json{{"id", 5}}), "Unknown");
  EXPECT_EQ(clear_profiles(installed, json{{"chargingProfilePurpose", "ChargePointMaxProfile"}}), "Accepted");
  EXPECT_DOUBLE_EQ(*composite_limit_a(installed, 1, 7, 900, 1000), 20);
}
