// Tariff arithmetic, energy spreading, bucket figures and time zones (issue 7).
#include <gtest/gtest.h>

#include "analytics/aggregate.hpp"
#include "analytics/time_zone.hpp"
#include "csms/envelope.hpp"
#include "csms/tariff.hpp"

namespace genx {
namespace {

using analytics::Facts;
using analytics::TransactionFact;
using csms::Tariff;

std::int64_t at(const char* iso) { return csms::parse_timestamp(iso).value(); }

TEST(Tariff, PricesParseToMicroUnitsAndRejectBadText) {
  EXPECT_EQ(csms::parse_price_micro("0.35"), 350000);
  EXPECT_EQ(csms::parse_price_micro("12"), 12000000);
  EXPECT_EQ(csms::parse_price_micro("0.123456"), 123456);
  EXPECT_EQ(csms::parse_price_micro("0"), 0);
  for (const char* bad : {"", "-1", "0.1234567", "1e3", "abc", ".5", "5.", "1,5", "1000000"}) {
    EXPECT_FALSE(csms::parse_price_micro(bad).has_value()) << bad;
  }
  EXPECT_EQ(csms::format_price_micro(350000), "0.35");
  EXPECT_EQ(csms::format_price_micro(123456), "0.123456");
  EXPECT_EQ(csms::format_minor(662), "6.62");
  EXPECT_EQ(csms::format_minor(5), "0.05");
  EXPECT_EQ(csms::format_minor(-5), "-0.05");
}

TEST(Tariff, CostIsExactThenRoundedOnceHalfUp) {
  const Tariff energy{350000, 0, 0, "EUR"};
  EXPECT_EQ(csms::session_cost_minor(energy, 1234, 0), 43);   // 0.4319
  EXPECT_EQ(csms::session_cost_minor(energy, 1500, 0), 53);   // 0.525 -> up
  EXPECT_EQ(csms::session_cost_minor(energy, 1499, 0), 52);   // 0.52465
  const Tariff time{0, 100000, 0, "EUR"};                     // 0.10 per minute, per second
  EXPECT_EQ(csms::session_cost_minor(time, 0, 90), 15);       // 1.5 min
  EXPECT_EQ(csms::session_cost_minor(time, 0, 3), 1);         // 0.005 -> up
  EXPECT_EQ(csms::session_cost_minor(time, 0, 2), 0);         // 0.00333
  // Parts are not rounded one by one: 0.004 + 0.004 = 0.008 -> 0.01.
  const Tariff both{4000, 240, 0, "EUR"};  // 0.004/kWh, 0.00024/min
  EXPECT_EQ(csms::session_cost_minor(both, 1000, 1000), 1);
  const Tariff fee{0, 0, 500000, "EUR"};
  EXPECT_EQ(csms::session_cost_minor(fee, 0, 0), 50);
  EXPECT_EQ(csms::session_cost_minor(energy, -500, -10), 0);  // nonsense counts as zero
  // Large values do not overflow: 10 MWh at 999,999.999999 per kWh.
  const Tariff huge{999999999999, 0, 0, "EUR"};
  EXPECT_EQ(csms::session_cost_minor(huge, 10000000, 0), 999999999999LL);  // 9,999,999,999.99
}

TEST(Energy, ResetsAndMissingMeterStop) {
  EXPECT_EQ(csms::session_energy_wh(1000, {}, 13345), 12345);
  EXPECT_EQ(csms::session_energy_wh(90000, {95000, 2000}, 3500), 8500);  // reset mid-session
  EXPECT_EQ(csms::session_energy_wh(1000, {4000, 6000}, std::nullopt), 5000);  // no meterStop
  EXPECT_EQ(csms::session_energy_wh(1000, {}, std::nullopt), 0);
  EXPECT_EQ(csms::session_energy_wh(5000, {}, 300), 300);  // stop below start: reset
  EXPECT_EQ(csms::register_wh(std::nullopt, std::string("kWh"), std::nullopt, std::nullopt, "1.5"), 1500);
  EXPECT_FALSE(csms::register_wh(std::string("Power.Active.Import"), std::nullopt, std::nullopt,
                                 std::nullopt, "7").has_value());
  EXPECT_FALSE(csms::register_wh(std::nullopt, std::nullopt, std::string("L1"), std::nullopt, "7").has_value());
  EXPECT_FALSE(csms::register_wh(std::nullopt, std::nullopt, std::nullopt, std::string("SignedData"), "7").has_value());
  EXPECT_EQ(csms::power_w(std::string("Power.Active.Import"), std::string("kW"), std::nullopt, "7.4"), 7400);
}

TransactionFact session(const char* start, const char* stop, std::int64_t meter_start,
                        std::optional<std::int64_t> meter_stop,
                        std::vector<analytics::Reading> readings = {}) {
  TransactionFact t;
  t.id = 1;
  t.connector_id = 1;
  t.started_ms = at(start);
  t.meter_start = meter_start;
  t.stopped_ms = at(stop);
  t.meter_stop = meter_stop;
  t.cost_minor = 321;
  t.readings = std::move(readings);
  return t;
}

std::int64_t energy_in(const Facts& facts, const char* from, const char* to) {
  const auto figures = analytics::compute_bucket(facts, at(from), at(to));
  const auto it = figures.find(1);
  return it == figures.end() ? 0 : it->second.energy_wh;
}

TEST(Aggregate, SessionCrossingHoursIsSpreadLinearlyAndAddsUpExactly) {
  Facts facts;
  facts.transactions.push_back(session("2024-01-15T10:30:00Z", "2024-01-15T12:15:00Z", 0, 7000));
  EXPECT_EQ(energy_in(facts, "2024-01-15T10:00:00Z", "2024-01-15T11:00:00Z"), 2000);
  EXPECT_EQ(energy_in(facts, "2024-01-15T11:00:00Z", "2024-01-15T12:00:00Z"), 4000);
  EXPECT_EQ(energy_in(facts, "2024-01-15T12:00:00Z", "2024-01-15T13:00:00Z"), 1000);
  // Odd numbers: the hours still add up to the session's energy to the Wh.
  Facts odd;
  odd.transactions.push_back(session("2024-01-15T10:07:13Z", "2024-01-15T13:41:59Z", 17, 10018));
  std::int64_t total = 0;
  for (int h = 10; h < 14; ++h) {
    const std::string a = "2024-01-15T" + std::to_string(h) + ":00:00Z";
    const std::string b = "2024-01-15T" + std::to_string(h + 1) + ":00:00Z";
    total += energy_in(odd, a.c_str(), b.c_str());
  }
  EXPECT_EQ(total, 10001);
  const auto whole = analytics::compute_bucket(odd, at("2024-01-15T00:00:00Z"), at("2024-01-16T00:00:00Z"));
  EXPECT_EQ(whole.at(1).energy_wh, 10001);
  EXPECT_EQ(whole.at(1).sessions_started, 1);
  EXPECT_EQ(whole.at(1).sessions_completed, 1);
  EXPECT_EQ(whole.at(1).revenue_minor, 321);
  EXPECT_EQ(whole.at(1).session_ms, at("2024-01-15T13:41:59Z") - at("2024-01-15T10:07:13Z"));
}

TEST(Aggregate, SessionCrossingMidnightFollowsItsReadings) {
  Facts facts;
  // 23:00 -> 01:00; 1000 Wh by 23:30, 5000 by 00:30 (reset at 00:10 to 0 then 3000), stop 3500.
  facts.transactions.push_back(session("2024-01-15T23:00:00Z", "2024-01-16T01:00:00Z", 100, 3500,
                                       {{at("2024-01-15T23:30:00Z"), 1100},
                                        {at("2024-01-16T00:10:00Z"), 0},
                                        {at("2024-01-16T00:30:00Z"), 3000}}));
  // Before midnight: 1000 by 23:30, then 23:30->00:10 a reset delivers 0 Wh.
  EXPECT_EQ(energy_in(facts, "2024-01-15T00:00:00Z", "2024-01-16T00:00:00Z"), 1000);
  EXPECT_EQ(energy_in(facts, "2024-01-16T00:00:00Z", "2024-01-17T00:00:00Z"), 3500);
  const auto day2 = analytics::compute_bucket(facts, at("2024-01-16T00:00:00Z"), at("2024-01-17T00:00:00Z"));
  EXPECT_EQ(day2.at(1).sessions_started, 0);
  EXPECT_EQ(day2.at(1).sessions_completed, 1);
  const auto day1 = analytics::compute_bucket(facts, at("2024-01-15T00:00:00Z"), at("2024-01-16T00:00:00Z"));
  EXPECT_EQ(day1.at(1).sessions_started, 1);
  EXPECT_EQ(day1.at(1).sessions_completed, 0);
  EXPECT_EQ(day1.at(1).revenue_minor, 0);  // revenue counts at the stop
}

TEST(Aggregate, MissingMeterStopUsesTheLastReadingAndOpenSessionsDeliverNothingYet) {
  Facts facts;
  facts.transactions.push_back(session("2024-01-15T10:00:00Z", "2024-01-15T11:00:00Z", 1000,
                                       std::nullopt, {{at("2024-01-15T10:30:00Z"), 2500}}));
  TransactionFact open = session("2024-01-15T10:00:00Z", "2024-01-15T11:00:00Z", 0, 9999);
  open.id = 2;
  open.stopped_ms.reset();
  open.meter_stop.reset();
  facts.transactions.push_back(open);
  const auto f = analytics::compute_bucket(facts, at("2024-01-15T10:00:00Z"), at("2024-01-15T11:00:00Z"));
  EXPECT_EQ(f.at(1).energy_wh, 1500);
  EXPECT_EQ(f.at(1).sessions_started, 2);
  EXPECT_EQ(f.at(1).sessions_completed, 0);  // the stop is at 11:00, the next bucket
}

TEST(Aggregate, StatusHistoryGivesChargingIdleAndFaultTime) {
  Facts facts;
  auto s = [&](int c, const char* t, const char* status) {
    facts.statuses.push_back({c, at(t), status});
  };
  s(0, "2024-01-15T11:50:00Z", "Faulted");
  s(0, "2024-01-15T12:20:00Z", "Available");
  s(1, "2024-01-15T10:00:00Z", "Available");
  s(1, "2024-01-15T10:10:00Z", "Preparing");
  s(1, "2024-01-15T10:15:00Z", "Charging");
  s(1, "2024-01-15T11:30:00Z", "SuspendedEV");
  s(1, "2024-01-15T11:40:00Z", "Finishing");
  s(1, "2024-01-15T11:45:00Z", "Available");
  s(1, "2024-01-15T13:00:00Z", "Charging");  // still charging: not counted yet
  facts.power.push_back({1, at("2024-01-15T10:20:00Z"), 7200});
  facts.power.push_back({1, at("2024-01-15T11:20:00Z"), 11000});
  const auto h10 = analytics::compute_bucket(facts, at("2024-01-15T10:00:00Z"), at("2024-01-15T11:00:00Z"));
  EXPECT_EQ(h10.at(1).charging_ms, 45 * 60000);
  EXPECT_EQ(h10.at(1).occupied_ms, 50 * 60000);
  EXPECT_EQ(h10.at(1).peak_power_w, 7200);
  const auto h11 = analytics::compute_bucket(facts, at("2024-01-15T11:00:00Z"), at("2024-01-15T12:00:00Z"));
  EXPECT_EQ(h11.at(1).charging_ms, 30 * 60000);
  EXPECT_EQ(h11.at(1).occupied_ms, 45 * 60000);
  EXPECT_EQ(h11.at(1).peak_power_w, 11000);
  EXPECT_EQ(h11.at(0).faults, 1);
  EXPECT_EQ(h11.at(0).faulted_ms, 10 * 60000);
  const auto h12 = analytics::compute_bucket(facts, at("2024-01-15T12:00:00Z"), at("2024-01-15T14:00:00Z"));
  EXPECT_EQ(h12.at(0).faults, 0);
  EXPECT_EQ(h12.at(0).faulted_ms, 20 * 60000);
  EXPECT_EQ(h12.count(1), 0u);
}

TEST(TimeZone, DaysFollowTheOperatorsZoneIncludingDaylightSaving) {
  const analytics::TimeZone utc("UTC");
  EXPECT_EQ(utc.day_start(at("2024-01-15T13:00:00Z")), at("2024-01-15T00:00:00Z"));
  const analytics::TimeZone berlin("Europe/Berlin");
  EXPECT_EQ(berlin.day_start(at("2024-01-15T23:30:00Z")), at("2024-01-15T23:00:00Z"));
  EXPECT_EQ(berlin.date_of(at("2024-01-15T23:30:00Z")), "2024-01-16");
  // 31 March 2024: clocks go forward, the local day has 23 hours.
  const auto start = berlin.start_of_date("2024-03-31");
  EXPECT_EQ(start, at("2024-03-30T23:00:00Z"));
  EXPECT_EQ(berlin.next_day_start(start) - start, 23 * analytics::kHourMs);
  // 27 October 2024: 25 hours.
  const auto autumn = berlin.start_of_date("2024-10-27");
  EXPECT_EQ(berlin.next_day_start(autumn) - autumn, 25 * analytics::kHourMs);
  const analytics::TimeZone kolkata("Asia/Kolkata");
  EXPECT_EQ(kolkata.start_of_date("2024-01-16"), at("2024-01-15T18:30:00Z"));
  EXPECT_EQ(utc.day_start(at("2024-01-15T13:00:00Z")), at("2024-01-15T00:00:00Z"));  // switching back
  EXPECT_THROW(analytics::TimeZone("Mars/Olympus"), std::invalid_argument);
  EXPECT_THROW(analytics::TimeZone("../../etc/passwd"), std::invalid_argument);
  EXPECT_THROW((void)utc.start_of_date("2024-13-01"), std::invalid_argument);
}

TEST(Aggregate, LocalDayBucketSplitsASessionAtLocalMidnight) {
  const analytics::TimeZone berlin("Europe/Berlin");
  Facts facts;
  // 22:00 -> 00:00 UTC = 23:00 -> 01:00 Berlin; 6000 Wh linear.
  facts.transactions.push_back(session("2024-01-15T22:00:00Z", "2024-01-16T00:00:00Z", 0, 6000));
  const auto d15 = berlin.start_of_date("2024-01-15");
  const auto d16 = berlin.start_of_date("2024-01-16");
  const auto first = analytics::compute_bucket(facts, d15, berlin.next_day_start(d15));
  const auto second = analytics::compute_bucket(facts, d16, berlin.next_day_start(d16));
  EXPECT_EQ(first.at(1).energy_wh, 3000);
  EXPECT_EQ(second.at(1).energy_wh, 3000);
}

}  // namespace
}  // namespace genx
