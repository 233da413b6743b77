// Firmware rules (csms/firmware.hpp): what an operator's campaign must hold, the request
// each target gets (valid against the 1.6 schemas), what a charger's status means for
// its target, what a passthrough teaches.
#include <gtest/gtest.h>

#include "csms/commands.hpp"
#include "csms/commands_v201.hpp"
#include "csms/firmware.hpp"

namespace genx::csms {
namespace {

using nlohmann::json;

std::string problem(const json& body) {
  auto r = parse_firmware_campaign(body);
  return std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : std::string();
}

TEST(FirmwareCampaignRequest, NamesTheFieldOfEveryBadInput) {
  EXPECT_EQ(problem(json::array()), "body: expected a JSON object {location, chargePointIds | model, ...}");
  EXPECT_EQ(problem({{"chargePointIds", {"A"}}}), "location: required (the firmware's URL)");
  EXPECT_EQ(problem({{"location", "https://x/f"}}), "chargePointIds or model: required (which chargers to update)");
  EXPECT_EQ(problem({{"location", "https://x/f"}, {"chargePointIds", {"A"}}, {"model", "M"}}),
            "chargePointIds, model: give one of them, not both");
  EXPECT_EQ(problem({{"location", "https://x/f"}, {"chargePointIds", {"A", "A"}}}), "chargePointIds: A twice");
  EXPECT_EQ(problem({{"location", "https://x/f"}, {"chargePointIds", json::array()}}),
            "chargePointIds: expected an array of 1 to 10000 charge point ids");
  EXPECT_EQ(problem({{"location", "https://x/f"}, {"model", "M"}, {"maxConcurrent", 0}}),
            "maxConcurrent: expected an integer 1..10000");
  EXPECT_EQ(problem({{"location", "https://x/f"}, {"model", "M"}, {"retrieveDate", "soon"}}),
            "retrieveDate: \"soon\" is not an ISO 8601 date-time");
  EXPECT_EQ(problem({{"location", "https://x/f"}, {"model", "M"}, {"signed", true}}),
            "signingCertificate, signature: both required for a signed campaign (SignedUpdateFirmware)");
  EXPECT_EQ(problem({{"location", "https://x/f"}, {"model", "M"}, {"signature", "S"}}),
            "signingCertificate, signature, installDate: only for a signed campaign (\"signed\": true)");
  EXPECT_EQ(problem({{"location", "https://x/f"}, {"model", "M"}, {"colour", 1}}).rfind("unknown field colour", 0), 0u);
  EXPECT_EQ(problem({{"location", std::string(600, 'x')}, {"model", "M"}}), "location: expected a text of 1 to 512 characters");
}

TEST(FirmwareCampaignRequest, DefaultsAndTheRequestsAreSchemaValid) {
  auto parsed = parse_firmware_campaign({{"location", "https://x/f.bin"}, {"chargePointIds", {"A", "B"}},
                                         {"retrieveDate", "2030-01-01T00:00:00Z"}, {"retries", 3}});
  ASSERT_TRUE(std::holds_alternative<FirmwareCampaignRequest>(parsed));
  const auto& r = std::get<FirmwareCampaignRequest>(parsed);
  EXPECT_EQ(r.max_concurrent, 1);
  EXPECT_EQ(r.timeout_s, 3600);
  EXPECT_EQ(r.name, "firmware https://x/f.bin");
  EXPECT_EQ(*r.retrieve_date, "2030-01-01T00:00:00.000Z");
  FirmwareSend plain;
  plain.location = r.location;
  plain.retries = 3;
  const auto payload = firmware_send_payload(plain, "2024-01-15T10:00:00.000Z");
  EXPECT_EQ(payload, json({{"location", "https://x/f.bin"}, {"retrieveDate", "2024-01-15T10:00:00.000Z"}, {"retries", 3}}));
  EXPECT_FALSE(check_command("UpdateFirmware", payload));
  FirmwareSend signed_send = plain;
  signed_send.is_signed = true;
  signed_send.target_id = 42;
  signed_send.signing_certificate = "CERT";
  signed_send.signature = "SIG";
  const auto signed_payload = firmware_send_payload(signed_send, "2024-01-15T10:00:00.000Z");
  EXPECT_EQ(firmware_send_action(signed_send), "SignedUpdateFirmware");
  EXPECT_EQ(signed_payload["requestId"], 42);
  EXPECT_FALSE(check_command("SignedUpdateFirmware", signed_payload));
}

TEST(FirmwareSend, Ocpp201StationsGetTheir201UpdateFirmware) {
  FirmwareSend send;
  send.location = "https://x/f.bin";
  send.target_id = 7;
  send.retries = 2;
  send.v201 = true;
  const auto payload = firmware_send_payload(send, "2024-01-15T10:00:00.000Z");
  EXPECT_EQ(firmware_send_action(send), "UpdateFirmware");
  EXPECT_TRUE(firmware_send_has_request_id(send));
  EXPECT_EQ(payload, json::parse(R"({"requestId":7,"retries":2,
    "firmware":{"location":"https://x/f.bin","retrieveDateTime":"2024-01-15T10:00:00.000Z"}})"));
  EXPECT_EQ(check_command_v201("UpdateFirmware", payload), std::nullopt) << payload.dump();
  send.is_signed = true;
  send.signing_certificate = "CERT";
  send.signature = "SIG";
  send.install_date = "2030-01-01T00:00:00.000Z";
  const auto signed_payload = firmware_send_payload(send, "2024-01-15T10:00:00.000Z");
  EXPECT_EQ(firmware_send_action(send), "UpdateFirmware") << "2.0.1 has no SignedUpdateFirmware";
  EXPECT_EQ(signed_payload["firmware"]["signature"], "SIG");
  EXPECT_EQ(signed_payload["firmware"]["installDateTime"], "2030-01-01T00:00:00.000Z");
  EXPECT_EQ(check_command_v201("UpdateFirmware", signed_payload), std::nullopt) << signed_payload.dump();
  // A 2.0.1 passthrough teaches the request as a signed 1.6 one does.
  const auto learnt = firmware_request("UpdateFirmware", payload, json{{"status", "Rejected"}});
  ASSERT_TRUE(learnt);
  EXPECT_EQ(learnt->location, "https://x/f.bin");
  EXPECT_EQ(learnt->request_id, 7);
  EXPECT_EQ(learnt->answer, "Rejected");
}

TEST(FirmwareTargetStep, MapsBothProtocolsStatusWords) {
  EXPECT_EQ(*firmware_target_step("Downloading"), "Downloading");
  EXPECT_EQ(*firmware_target_step("DownloadScheduled"), "Downloading");
  EXPECT_EQ(*firmware_target_step("SignatureVerified"), "Downloaded");
  EXPECT_EQ(*firmware_target_step("InstallRebooting"), "Installing");
  EXPECT_EQ(*firmware_target_step("Installed"), "Installed");
  EXPECT_EQ(*firmware_target_step("InvalidSignature"), "DownloadFailed");
  EXPECT_EQ(*firmware_target_step("InstallVerificationFailed"), "InstallationFailed");
  EXPECT_FALSE(firmware_target_step("Idle"));
  EXPECT_TRUE(firmware_target_in_progress("Installing"));
  EXPECT_FALSE(firmware_target_in_progress("Installed"));
  EXPECT_TRUE(firmware_target_failed("Offline"));
  EXPECT_FALSE(firmware_target_failed("Pending"));
}

TEST(FirmwareRequest, APassthroughTeachesTheLatestRequest) {
  const auto plain = firmware_request("UpdateFirmware", {{"location", "ftp://x/f"}, {"retrieveDate", "2030-01-01T00:00:00Z"}},
                                      json::object());
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->answer, "Accepted");
  EXPECT_EQ(plain->location, "ftp://x/f");
  const auto refused = firmware_request(
      "SignedUpdateFirmware", {{"requestId", 7}, {"firmware", {{"location", "https://x/f"}}}}, {{"status", "InvalidCertificate"}});
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->answer, "InvalidCertificate");
  EXPECT_EQ(*refused->request_id, 7);
  EXPECT_FALSE(firmware_request("Reset", {{"type", "Soft"}}, {{"status", "Accepted"}}));
}

}  // namespace
}  // namespace genx::csms
