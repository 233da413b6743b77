// genx sim's pure parts: latency percentiles, report merging, the charger scripts.
#include <gtest/gtest.h>

#include <map>

#include "ocpp/v16_validation.hpp"
#include "sim/sim_core.hpp"

namespace genx::sim {
namespace {

TEST(LatencyHistogram, ExactBelow128MicrosAndWithin2PercentAbove) {
  for (std::uint64_t v : {0ull, 1ull, 127ull}) {
    EXPECT_EQ(LatencyHistogram::bucket_upper(LatencyHistogram::bucket_of(v)), v);
  }
  for (std::uint64_t v = 128; v < 50'000'000; v = v * 3 / 2 + 7) {
    auto upper = LatencyHistogram::bucket_upper(LatencyHistogram::bucket_of(v));
    EXPECT_GE(upper, v);
    EXPECT_LE(static_cast<double>(upper), static_cast<double>(v) * 1.016 + 1) << v;
  }
}

TEST(LatencyHistogram, PercentilesOfOneToThousandMillis) {
  LatencyHistogram h;
  for (std::uint64_t ms = 1; ms <= 1000; ++ms) h.record(ms * 1000);
  EXPECT_EQ(h.count(), 1000u);
  auto near = [](std::uint64_t got, double want) {
    EXPECT_GE(static_cast<double>(got), want);
    EXPECT_LE(static_cast<double>(got), want * 1.016 + 1);
  };
  near(h.percentile(0.50), 500'000);
  near(h.percentile(0.90), 900'000);
  near(h.percentile(0.99), 990'000);
  near(h.percentile(0.999), 999'000);
  EXPECT_EQ(h.percentile(1.0), 1'000'000u);
  EXPECT_EQ(h.max(), 1'000'000u);
}

TEST(LatencyHistogram, EmptyAndSingleValue) {
  LatencyHistogram h;
  EXPECT_EQ(h.percentile(0.99), 0u);
  h.record(4242);
  EXPECT_EQ(h.percentile(0.0), 4242u);
  EXPECT_EQ(h.percentile(0.5), 4242u);
  EXPECT_EQ(h.percentile(1.0), 4242u);
}

TEST(SimReport, MergedJsonRoundTripKeepsCountsAndPercentiles) {
  SimReport a;
  a.profile = "realistic";
  a.chargers = 10;
  a.calls_answered = 100;
  a.measured_answered = 100;
  a.measured_seconds = 10;
  a.call_errors = 1;
  a.errors_by_code["InternalError"] = 1;
  a.answered_by_action["Heartbeat"] = 100;
  for (int i = 0; i < 100; ++i) a.latency.record(1000);
  SimReport b = a;
  b.measured_seconds = 9.5;
  b.latency = LatencyHistogram{};
  for (int i = 0; i < 100; ++i) b.latency.record(100000);
  b.storm_seconds = 3.5;

  SimReport merged;
  merged.merge(report_from_json(a.to_json()));
  merged.merge(report_from_json(b.to_json()));
  EXPECT_EQ(merged.chargers, 20u);
  EXPECT_EQ(merged.calls_answered, 200u);
  EXPECT_EQ(merged.call_errors, 2u);
  EXPECT_EQ(merged.errors_by_code["InternalError"], 2u);
  EXPECT_EQ(merged.answered_by_action["Heartbeat"], 200u);
  EXPECT_DOUBLE_EQ(merged.measured_seconds, 10.0);
  EXPECT_DOUBLE_EQ(merged.calls_per_second(), 20.0);  // side by side: rates add up
  EXPECT_EQ(merged.latency.count(), 200u);
  EXPECT_NEAR(static_cast<double>(merged.latency.percentile(0.5)), 1000.0, 16.0);
  EXPECT_EQ(merged.latency.percentile(0.99), 100000u);  // capped at the exact max
  ASSERT_TRUE(merged.storm_seconds.has_value());
  EXPECT_DOUBLE_EQ(*merged.storm_seconds, 3.5);
  auto j = merged.to_json();
  EXPECT_NEAR(j["latencyMs"]["p50"].get<double>(), 1.0, 0.016);
  EXPECT_NE(merged.table().find("calls/s"), std::string::npos);
}

TEST(SimReport, BadJsonIsAClearError) {
  EXPECT_THROW(report_from_json(nlohmann::json::array()), std::invalid_argument);
  EXPECT_THROW(report_from_json({{"chargers", -1}}), std::invalid_argument);
}

ScriptOptions options(Profile p) {
  ScriptOptions o;
  o.profile = p;
  o.interval = std::chrono::milliseconds(1000);
  return o;
}

// Plays a script against a CSMS that accepts everything; returns the actions sent.
std::vector<PlannedCall> play(ChargerScript& script, int calls) {
  std::vector<PlannedCall> sent;
  std::int64_t tx = 100;
  for (int i = 0; i < calls; ++i) {
    PlannedCall call = script.next("2026-01-01T00:00:00.000Z");
    EXPECT_FALSE(ocpp::v16::validate_request(call.action, call.payload).has_value())
        << call.action << " " << call.payload.dump();
    nlohmann::json answer = nlohmann::json::object();
    if (call.action == "BootNotification") {
      answer = {{"status", "Accepted"}, {"currentTime", "2026-01-01T00:00:00.000Z"}, {"interval", 300}};
    } else if (call.action == "Authorize") {
      answer = {{"idTagInfo", {{"status", "Accepted"}}}};
    } else if (call.action == "StartTransaction") {
      answer = {{"transactionId", ++tx}, {"idTagInfo", {{"status", "Accepted"}}}};
    }
    script.on_result(call.action, answer);
    sent.push_back(std::move(call));
  }
  return sent;
}

TEST(ChargerScript, BootsThenSendsTwoStatusesWithoutPause) {
  ChargerScript script(options(Profile::kRealistic), "SIM-1", 7);
  EXPECT_TRUE(script.in_boot_sequence());
  auto sent = play(script, 4);
  EXPECT_EQ(sent[0].action, "BootNotification");
  EXPECT_EQ(sent[1].action, "StatusNotification");
  EXPECT_EQ(sent[1].payload["connectorId"], 0);
  EXPECT_EQ(sent[2].action, "StatusNotification");
  EXPECT_EQ(sent[2].payload["connectorId"], 1);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(sent[i].delay.count(), 0);
  EXPECT_FALSE(script.in_boot_sequence());
  EXPECT_LT(sent[3].delay.count(), 1000);  // first tick spread over one interval
}

TEST(ChargerScript, RejectedBootIsRetriedAfterTheInterval) {
  ChargerScript script(options(Profile::kRealistic), "SIM-2", 7);
  auto boot = script.next("2026-01-01T00:00:00.000Z");
  script.on_result(boot.action, nlohmann::json{{"status", "Pending"}});
  auto retry = script.next("2026-01-01T00:00:00.000Z");
  EXPECT_EQ(retry.action, "BootNotification");
  EXPECT_EQ(retry.delay.count(), 1000);
  EXPECT_TRUE(script.in_boot_sequence());
}

TEST(ChargerScript, RealisticMixIsMostlyTelemetryAtTheInterval) {
  std::map<std::string, int> counts;
  int ticks = 0;
  for (int c = 0; c < 50; ++c) {
    ChargerScript script(options(Profile::kRealistic), "SIM-" + std::to_string(c), c);
    auto sent = play(script, 400);
    for (std::size_t i = 3; i < sent.size(); ++i) {
      ++counts[sent[i].action];
      if (sent[i].delay.count() > 0) ++ticks;
    }
  }
  int total = 0;
  for (auto& [a, n] : counts) total += n;
  int telemetry = counts["MeterValues"] + counts["StatusNotification"] + counts["Heartbeat"];
  EXPECT_GT(telemetry, total * 85 / 100);
  EXPECT_GT(counts["MeterValues"], total * 35 / 100);  // about half the chargers in session
  EXPECT_GT(counts["StartTransaction"], 0);
  EXPECT_NEAR(counts["StartTransaction"], counts["Authorize"], 50);  // one per charger may be cut off
  EXPECT_NEAR(counts["StopTransaction"], counts["StartTransaction"], 50);
  EXPECT_GT(ticks, total * 80 / 100);  // chained calls (start, stop, status) are the rest
}

TEST(ChargerScript, MeterValuesAndStopCarryTheTransactionId) {
  ChargerScript script(options(Profile::kFlatOut), "SIM-3", 3);
  auto sent = play(script, 2000);
  int with_transaction = 0;
  for (const auto& call : sent) {
    EXPECT_EQ(call.delay.count(), 0);  // flat-out: never a pause
    if (call.action == "MeterValues" || call.action == "StopTransaction") {
      ASSERT_TRUE(call.payload.contains("transactionId"));
      EXPECT_GT(call.payload["transactionId"].get<std::int64_t>(), 100);  // given by the CSMS
      ++with_transaction;
    }
  }
  EXPECT_GT(with_transaction, 500);
}

TEST(ChargerScript, RpcProfileCyclesTheDecisionActions) {
  ChargerScript script(options(Profile::kRpc), "SIM-4", 4);
  auto sent = play(script, 3 + 8);
  std::vector<std::string> actions;
  for (std::size_t i = 3; i < sent.size(); ++i) actions.push_back(sent[i].action);
  std::vector<std::string> want = {"Authorize", "StartTransaction", "StopTransaction", "BootNotification",
                                   "Authorize", "StartTransaction", "StopTransaction", "BootNotification"};
  EXPECT_EQ(actions, want);
}

TEST(ChargerScript, IdleProfileSendsOnlyHeartbeatsEveryInterval) {
  ChargerScript script(options(Profile::kIdle), "SIM-5", 5);
  auto sent = play(script, 10);
  for (std::size_t i = 3; i < sent.size(); ++i) {
    EXPECT_EQ(sent[i].action, "Heartbeat");
    if (i > 3) {
      EXPECT_EQ(sent[i].delay.count(), 1000);
    }
  }
}

TEST(ChargerScript, ProfileNames) {
  for (auto p : {Profile::kRealistic, Profile::kFlatOut, Profile::kRpc, Profile::kIdle}) {
    EXPECT_EQ(profile_from_string(to_string(p)), p);
  }
  EXPECT_FALSE(profile_from_string("fast").has_value());
}

TEST(IsoTime, FormatsUtcWithMillis) {
  EXPECT_EQ(iso_time(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso_time(1700000000123), "2023-11-14T22:13:20.123Z");
}

}  // namespace
}  // namespace genx::sim
