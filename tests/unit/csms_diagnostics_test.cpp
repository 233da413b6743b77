// Diagnostics requests, commands and answers (csms/diagnostics.hpp).
#include <gtest/gtest.h>

#include "csms/commands.hpp"
#include "csms/diagnostics.hpp"

namespace genx::csms {
namespace {

using nlohmann::json;

TEST(Diagnostics, RequestsAreParsedAndBadFieldsNamed) {
  auto parsed = parse_diagnostics_request(json::object());
  ASSERT_TRUE(std::holds_alternative<DiagnosticsRequest>(parsed));
  EXPECT_EQ(std::get<DiagnosticsRequest>(parsed).kind, "Diagnostics");
  parsed = parse_diagnostics_request({{"kind", "SecurityLog"}, {"startTime", "2026-12-01T01:00:00+01:00"}, {"retries", 3}});
  ASSERT_TRUE(std::holds_alternative<DiagnosticsRequest>(parsed));
  EXPECT_EQ(std::get<DiagnosticsRequest>(parsed).start_time, "2026-12-01T00:00:00.000Z");
  EXPECT_EQ(std::get<DiagnosticsRequest>(parsed).retries, 3);
  const auto problem = [](const json& body) { return std::get<std::string>(parse_diagnostics_request(body)); };
  EXPECT_EQ(problem(json::array()).substr(0, 5), "body:");
  EXPECT_EQ(problem({{"kind", "All"}}).substr(0, 5), "kind:");
  EXPECT_EQ(problem({{"stopTime", 5}}).substr(0, 9), "stopTime:");
  EXPECT_EQ(problem({{"startTime", "2026-12-02T00:00:00Z"}, {"stopTime", "2026-12-01T00:00:00Z"}}),
            "stopTime: before startTime");
  EXPECT_EQ(problem({{"retryInterval", 1.5}}).substr(0, 14), "retryInterval:");
  EXPECT_EQ(problem({{"location", "ftp://x/"}}).substr(0, 9), "location:");
}

TEST(Diagnostics, CommandsAreValidAgainstTheSchemas) {
  DiagnosticsRequest r;
  r.start_time = "2026-12-01T00:00:00.000Z";
  r.stop_time = "2026-12-02T00:00:00.000Z";
  r.retries = 1;
  auto get = diagnostics_command(r, 7, "https://csms.example.com/api/uploads/genx_ab");
  EXPECT_EQ(get.action, "GetDiagnostics");
  EXPECT_EQ(get.payload, (json{{"location", "https://csms.example.com/api/uploads/genx_ab"},
                               {"retries", 1},
                               {"startTime", "2026-12-01T00:00:00.000Z"},
                               {"stopTime", "2026-12-02T00:00:00.000Z"}}));
  EXPECT_FALSE(check_command(get.action, get.payload).has_value());
  r.kind = "DiagnosticsLog";
  auto log = diagnostics_command(r, 7, "https://csms.example.com/api/uploads/genx_ab");
  EXPECT_EQ(log.action, "GetLog");
  EXPECT_EQ(log.payload.at("requestId"), 7);
  EXPECT_EQ(log.payload.at("logType"), "DiagnosticsLog");
  EXPECT_EQ(log.payload.at("log").at("oldestTimestamp"), "2026-12-01T00:00:00.000Z");
  EXPECT_FALSE(check_command(log.action, log.payload).has_value());
}

TEST(Diagnostics, AnswersGiveTheStatusAndFileName) {
  EXPECT_EQ(diagnostics_answer("GetDiagnostics", json::object()).status, "Accepted");
  EXPECT_EQ(diagnostics_answer("GetDiagnostics", {{"fileName", "d.zip"}}).file_name, "d.zip");
  const auto log = diagnostics_answer("GetLog", {{"status", "Rejected"}, {"filename", "x.log"}});
  EXPECT_EQ(log.status, "Rejected");
  EXPECT_EQ(log.file_name, "x.log");
}

TEST(Diagnostics, EventsCarryTheRequestAndAStableId) {
  DiagnosticsFile f;
  f.id = 4;
  f.charge_point_id = "CP1";
  f.kind = "SecurityLog";
  f.status = "Uploaded";
  f.file_size = 10;
  f.updated_at = "2026-12-07T10:00:00.000Z";
  const auto e = diagnostics_event(f, "Uploading", "upload");
  EXPECT_EQ(e.type, "diagnostics.status.changed");
  EXPECT_EQ(e.device_id, "CP1");
  EXPECT_EQ(e.fields.at("eventId"), "diagnostics/4/Uploaded@2026-12-07T10:00:00.000Z");
  EXPECT_EQ(e.fields.at("previousStatus"), "Uploading");
  EXPECT_EQ(e.fields.at("fileSize"), 10);
  EXPECT_TRUE(e.fields.at("fileName").is_null());
}

}  // namespace
}  // namespace genx::csms
