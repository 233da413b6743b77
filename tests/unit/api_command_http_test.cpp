#include "api/command_http.hpp"

#include <gtest/gtest.h>

namespace genx::api {
namespace {

using messages::CommandOutcome;
using messages::CommandReply;
using nlohmann::json;

TEST(CommandHttp, AnswersForEveryOutcome) {
  CommandReply r;
  r.device_id = "CP-3";
  r.action = "Reset";
  r.payload = json{{"status", "Accepted"}};
  auto ok = command_http(r);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, r.payload);

  r.outcome = CommandOutcome::kCallError;
  r.error_code = "InternalError";
  r.error_description = "relay stuck";
  auto error = command_http(r);
  EXPECT_EQ(error.status, 502);
  EXPECT_EQ(error.body["errorCode"], "InternalError");
  EXPECT_EQ(error.body["errorDescription"], "relay stuck");

  r.outcome = CommandOutcome::kInvalidResponse;
  r.error_description = "status: \"Maybe\" is not one of Accepted, Rejected";
  auto invalid = command_http(r);
  EXPECT_EQ(invalid.status, 502);
  EXPECT_NE(invalid.body["error"].get<std::string>().find("status"), std::string::npos);

  r.outcome = CommandOutcome::kTimeout;
  EXPECT_EQ(command_http(r).status, 504);
  r.outcome = CommandOutcome::kBusy;
  EXPECT_EQ(command_http(r).status, 429);
  r.outcome = CommandOutcome::kDisconnected;
  EXPECT_EQ(command_http(r).status, 502);

  auto offline = command_offline_http("CP-9");
  EXPECT_EQ(offline.status, 404);
  EXPECT_EQ(offline.body, json({{"error", "charger CP-9 offline"}}));
}

}  // namespace
}  // namespace genx::api
