// genx sim's OCPP 2.0.1 stations (sim_v201.cpp): every call valid against the 2.0.1
// schemas, transactions with their own ids and seqNo, the device model answers, remote
// start and stop, and which chargers of a mixed fleet speak 2.0.1.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "ocpp/v201_validation.hpp"
#include "sim/sim_core.hpp"

namespace genx::sim {
namespace {

using nlohmann::json;
constexpr const char* kNow = "2026-01-01T00:00:00.000Z";

ScriptOptions options201(Profile profile) {
  ScriptOptions o;
  o.profile = profile;
  o.interval = std::chrono::milliseconds(1000);
  o.session_ticks = 3;
  o.ocpp201 = true;
  return o;
}

// What the CSMS answers a 2.0.1 call (valid against the 2.0.1 response schemas).
json answer_of(const std::string& action) {
  if (action == "BootNotification") return {{"status", "Accepted"}, {"currentTime", kNow}, {"interval", 300}};
  if (action == "Heartbeat") return {{"currentTime", kNow}};
  if (action == "Authorize") return {{"idTokenInfo", {{"status", "Accepted"}}}};
  return json::object();
}

PlannedCall send(ChargerScript& script) {
  PlannedCall call = script.next(kNow);
  const auto violation = ocpp::v201::validate_request(call.action, call.payload);
  EXPECT_FALSE(violation.has_value()) << call.action << " " << call.payload.dump() << ": "
                                      << (violation ? violation->description : "");
  const json answer = answer_of(call.action);
  EXPECT_FALSE(ocpp::v201::validate_response(call.action, answer).has_value()) << call.action;
  script.on_result(call.action, answer);
  return call;
}

std::vector<PlannedCall> play(ChargerScript& script, int calls) {
  std::vector<PlannedCall> sent;
  for (int i = 0; i < calls; ++i) sent.push_back(send(script));
  return sent;
}

TEST(Sim201, EveryCallIsValidAndEachTransactionRunsStartedUpdatedEndedInSeqNoOrder) {
  std::set<std::string> actions;
  std::map<std::string, std::vector<json>> by_transaction;
  for (int c = 0; c < 10; ++c) {
    ChargerScript script(options201(c % 2 ? Profile::kFlatOut : Profile::kRpc), "SIM201-" + std::to_string(c), c);
    for (const auto& call : play(script, 300)) {
      actions.insert(call.action);
      if (call.action == "TransactionEvent") {
        by_transaction["SIM201-" + std::to_string(c) + "/" +
                       call.payload["transactionInfo"]["transactionId"].get<std::string>()]
            .push_back(call.payload);
      }
    }
  }
  EXPECT_EQ(actions, (std::set<std::string>{"BootNotification", "StatusNotification", "Authorize",
                                            "TransactionEvent", "Heartbeat"}));
  ASSERT_GT(by_transaction.size(), 100U);
  std::size_t ended = 0;
  for (const auto& [id, events] : by_transaction) {
    EXPECT_EQ(events.front()["eventType"], "Started") << id;
    for (std::size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i]["seqNo"], i) << id;
    for (std::size_t i = 1; i + 1 < events.size(); ++i) EXPECT_EQ(events[i]["eventType"], "Updated") << id;
    if (events.back()["eventType"] == "Ended") {
      ++ended;
      const double begin = events.front()["meterValue"][0]["sampledValue"][0]["value"].get<double>();
      const double end = events.back()["meterValue"][0]["sampledValue"][0]["value"].get<double>();
      EXPECT_GE(end - begin, 250.0 * static_cast<double>(events.size() - 2)) << id;
      EXPECT_EQ(events.back()["transactionInfo"]["stoppedReason"], "Local");
    }
  }
  EXPECT_GT(ended, 90U);
}

TEST(Sim201, BootReportsTwoEvses) {
  ChargerScript script(options201(Profile::kIdle), "SIM201-B", 1);
  auto sent = play(script, 3);
  EXPECT_EQ(sent[0].payload["chargingStation"]["vendorName"], "GenX");
  EXPECT_EQ(sent[1].payload["evseId"], 2);
  EXPECT_EQ(sent[2].payload["evseId"], 1);
  EXPECT_FALSE(script.in_boot_sequence());
}

TEST(Sim201, DeviceModelAnswersGetAndSetVariablesAndReportsAfterGetBaseReport) {
  ChargerScript script(options201(Profile::kIdle), "SIM201-D", 2);
  play(script, 4);
  const json heartbeat = {{"component", {{"name", "OCPPCommCtrlr"}}}, {"variable", {{"name", "HeartbeatInterval"}}}};
  auto get = [&](const json& data) {
    auto answer = script.on_csms_call("GetVariables", {{"getVariableData", data}}, kNow);
    EXPECT_TRUE(answer.has_value());
    EXPECT_FALSE(ocpp::v201::validate_response("GetVariables", *answer).has_value()) << answer->dump();
    return *answer;
  };
  json r = get(json::array({heartbeat, {{"component", {{"name", "OCPPCommCtrlr"}}}, {"variable", {{"name", "Nope"}}}},
                            {{"component", {{"name", "EVSE"}, {"evse", {{"id", 2}}}}}, {"variable", {{"name", "Power"}}}}}));
  EXPECT_EQ(r["getVariableResult"][0]["attributeValue"], "1");
  EXPECT_EQ(r["getVariableResult"][1]["attributeStatus"], "UnknownVariable");
  EXPECT_EQ(r["getVariableResult"][2]["attributeValue"], "22000");
  json set_heartbeat = heartbeat;
  set_heartbeat["attributeValue"] = "30";
  auto set = script.on_csms_call("SetVariables", {{"setVariableData", json::array({set_heartbeat})}}, kNow);
  ASSERT_TRUE(set.has_value());
  EXPECT_FALSE(ocpp::v201::validate_response("SetVariables", *set).has_value());
  EXPECT_EQ((*set)["setVariableResult"][0]["attributeStatus"], "Accepted");
  EXPECT_EQ(get(json::array({heartbeat}))["getVariableResult"][0]["attributeValue"], "30");

  auto base = script.on_csms_call("GetBaseReport", {{"requestId", 9}, {"reportBase", "FullInventory"}}, kNow);
  EXPECT_EQ(*base, json({{"status", "Accepted"}}));
  EXPECT_TRUE(script.has_urgent());
  script.defer(PlannedCall{"Heartbeat", json::object(), std::chrono::milliseconds(1000)});
  auto report = send(script);
  EXPECT_EQ(report.action, "NotifyReport");
  EXPECT_EQ(report.payload["requestId"], 9);
  EXPECT_EQ(report.payload["reportData"].size(), 22U);
  EXPECT_EQ(send(script).action, "Heartbeat") << "the deferred call follows, at once";
  auto none = script.on_csms_call("GetReport", {{"requestId", 10}, {"componentVariable", json::array({{{"component", {{"name", "Nope"}}}}})}}, kNow);
  EXPECT_EQ((*none)["status"], "EmptyResultSet");
}

TEST(Sim201, RemoteStartAndStop) {
  ChargerScript script(options201(Profile::kIdle), "SIM201-R", 3);
  play(script, 4);
  auto start = script.on_csms_call("RequestStartTransaction",
                                   {{"idToken", {{"idToken", "REMOTE"}, {"type", "Central"}}}, {"remoteStartId", 42}}, kNow);
  EXPECT_EQ((*start)["status"], "Accepted");
  auto started = send(script);
  EXPECT_EQ(started.payload["eventType"], "Started");
  EXPECT_EQ(started.payload["triggerReason"], "RemoteStart");
  EXPECT_EQ(started.payload["transactionInfo"]["remoteStartId"], 42);
  EXPECT_EQ(started.payload["idToken"]["idToken"], "REMOTE");
  const std::string id = script.ocpp201_transaction_id();
  ASSERT_FALSE(id.empty());
  EXPECT_EQ((*script.on_csms_call("RequestStartTransaction", {{"idToken", {{"idToken", "X"}, {"type", "Central"}}}}, kNow))["status"],
            "Rejected") << "one session at a time";
  EXPECT_EQ((*script.on_csms_call("RequestStopTransaction", {{"transactionId", "other"}}, kNow))["status"], "Rejected");
  EXPECT_EQ((*script.on_csms_call("RequestStopTransaction", {{"transactionId", id}}, kNow))["status"], "Accepted");
  PlannedCall ended;
  for (int i = 0; i < 3 && ended.action.empty(); ++i) {
    auto call = send(script);
    if (call.action == "TransactionEvent" && call.payload["eventType"] == "Ended") ended = call;
  }
  ASSERT_FALSE(ended.action.empty());
  EXPECT_EQ(ended.payload["triggerReason"], "RemoteStop");
  EXPECT_EQ(ended.payload["transactionInfo"]["stoppedReason"], "Remote");
  EXPECT_TRUE(script.ocpp201_transaction_id().empty());
  // Any other command: the first valid status.
  EXPECT_EQ(*script.on_csms_call("UnlockConnector", {{"evseId", 1}, {"connectorId", 1}}, kNow), json({{"status", "Unlocked"}}));
  EXPECT_EQ(*script.on_csms_call("Reset", {{"type", "Immediate"}}, kNow), json({{"status", "Accepted"}}));
}

TEST(Sim201, MixedFleetSpreadsTheShareEvenly) {
  int count = 0;
  for (std::size_t n = 0; n < 100; ++n) count += is_ocpp201_charger(n, 0.3) ? 1 : 0;
  EXPECT_EQ(count, 30);
  EXPECT_FALSE(is_ocpp201_charger(0, 0.5));
  EXPECT_TRUE(is_ocpp201_charger(1, 0.5));
  EXPECT_FALSE(is_ocpp201_charger(2, 0.5));
  EXPECT_FALSE(is_ocpp201_charger(5, 0));
  EXPECT_TRUE(is_ocpp201_charger(0, 1));
}

}  // namespace
}  // namespace genx::sim
