// Firmware state, history and campaigns in the store (csms::FirmwareUnit through the
// processor, csms::FirmwareStore), on every backend (store_backends.hpp): a campaign's
// claims respect maxConcurrent, the chargers' reports move their targets (an older report
// processed late does not move one back), failures end targets and retry resets them, the
// version of the boot after an install is kept.
#include <gtest/gtest.h>

#include "csms/processor.hpp"
#include "store/open_store.hpp"
#include "store_backends.hpp"

namespace genx::store {
namespace {

using nlohmann::json;

class FirmwareStoreTest : public testing::StoreTestBase {
 protected:
  // A charger message received at `at` (the gateway's time).
  csms::Outcome send(const std::string& device, const std::string& action, json payload, const std::string& at) {
    return process(envelope(device, action, std::move(payload), "u" + std::to_string(++unique_), at));
  }
  void boot(const std::string& cp, const std::string& version, const std::string& at, const std::string& model = "M1") {
    send(cp, "BootNotification", {{"chargePointVendor", "V"}, {"chargePointModel", model}, {"firmwareVersion", version}}, at);
  }
  static std::vector<std::string> ids(const std::vector<csms::FirmwareSend>& sends) {
    std::vector<std::string> out;
    for (const auto& s : sends) out.push_back(s.charge_point_id);
    return out;
  }
  static json target(const json& campaign, const std::string& cp) {
    for (const auto& t : campaign["targets"]) {
      if (t["chargePointId"] == cp) return t;
    }
    return nullptr;
  }

  int unique_ = 0;
};

TEST_P(FirmwareStoreTest, CampaignRollsOutWithinTheLimitAndFollowsTheReports) {
  for (const char* cp : {"CP1", "CP2", "CP3"}) boot(cp, "1.0", "2024-01-15T10:00:00.000Z");
  auto& fw = store_->firmware_store();
  csms::FirmwareCampaignRequest request;
  request.name = "spring";
  request.location = "https://fw.example/2.0.bin";
  request.max_concurrent = 2;
  request.model = "M1";
  auto created = fw.create_campaign(request, "2024-01-15T10:00:01.000Z");
  ASSERT_TRUE(std::holds_alternative<json>(created));
  const auto id = std::get<json>(created)["id"].get<std::int64_t>();
  EXPECT_EQ(std::get<json>(created)["total"], 3);

  std::vector<std::int64_t> changed;
  const std::int64_t t0 = 1705312802000;  // 10:00:02
  auto sends = fw.claim_firmware_sends(t0, "2024-01-15T10:00:02.000Z", changed);
  EXPECT_EQ(ids(sends), (std::vector<std::string>{"CP1", "CP2"}));
  EXPECT_EQ(changed, std::vector<std::int64_t>{id});
  EXPECT_TRUE(fw.claim_firmware_sends(t0 + 1000, "2024-01-15T10:00:03.000Z", changed).empty()) << "both slots taken";
  fw.record_firmware_answer(sends[0], "Accepted", "", "2024-01-15T10:00:03.000Z");
  fw.record_firmware_answer(sends[1], "Accepted", "", "2024-01-15T10:00:03.000Z");

  // CP1 installs; a Downloading processed after its Downloaded (out of order) is history only.
  send("CP1", "FirmwareStatusNotification", {{"status", "Downloaded"}}, "2024-01-15T10:00:05.000Z");
  send("CP1", "FirmwareStatusNotification", {{"status", "Downloading"}}, "2024-01-15T10:00:04.000Z");
  auto c = *fw.campaign(id);
  EXPECT_EQ(target(c, "CP1")["status"], "Downloaded");
  send("CP1", "FirmwareStatusNotification", {{"status", "Installing"}}, "2024-01-15T10:00:06.000Z");
  const auto installed = send("CP1", "FirmwareStatusNotification", {{"status", "Installed"}}, "2024-01-15T10:00:07.000Z");
  bool status_event = false, campaign_event = false;
  for (const auto& e : installed.events) {
    status_event = status_event || (e.type == "firmware.status.changed" && e.fields["status"] == "Installed");
    campaign_event = campaign_event || (e.type == "firmware.campaign.changed" && e.fields["targetStatus"] == "Installed");
  }
  EXPECT_TRUE(status_event);
  EXPECT_TRUE(campaign_event);
  // CP2 fails its download: a slot is free for CP3.
  send("CP2", "FirmwareStatusNotification", {{"status", "DownloadFailed"}}, "2024-01-15T10:00:07.500Z");
  sends = fw.claim_firmware_sends(t0 + 6000, "2024-01-15T10:00:08.000Z", changed);
  EXPECT_EQ(ids(sends), std::vector<std::string>{"CP3"});
  fw.record_firmware_answer(sends[0], "Offline", "charger CP3 is not connected", "2024-01-15T10:00:08.100Z");
  // The reboot of CP1 with the new version.
  boot("CP1", "2.0", "2024-01-15T10:00:09.000Z");
  fw.claim_firmware_sends(t0 + 8000, "2024-01-15T10:00:10.000Z", changed);
  c = *fw.campaign(id);
  EXPECT_EQ(c["status"], "Completed");
  EXPECT_EQ(target(c, "CP1")["status"], "Installed");
  EXPECT_EQ(target(c, "CP1")["firmwareVersion"], "2.0");
  EXPECT_EQ(target(c, "CP2")["status"], "DownloadFailed");
  EXPECT_EQ(target(c, "CP3")["status"], "Offline");
  EXPECT_EQ(target(c, "CP3")["detail"], "charger CP3 is not connected");
  const auto doc = *fw.firmware_document("CP1", 100);
  EXPECT_EQ(doc["status"], "Installed");
  EXPECT_EQ(doc["installedVersion"], "2.0");
  EXPECT_EQ(doc["request"]["versionBefore"], "1.0");
  EXPECT_EQ(doc["history"].size(), 6u);  // request, 4 statuses, boot

  // Retry: the two failed ones go back to Pending and are claimed again (limit 2).
  auto retried = fw.retry_campaign(id, {}, "2024-01-15T10:00:11.000Z");
  ASSERT_TRUE(std::holds_alternative<json>(retried));
  EXPECT_EQ(std::get<json>(retried)["retried"], 2);
  EXPECT_EQ(std::get<json>(retried)["status"], "Running");
  sends = fw.claim_firmware_sends(t0 + 10000, "2024-01-15T10:00:12.000Z", changed);
  EXPECT_EQ(ids(sends), (std::vector<std::string>{"CP2", "CP3"}));
  // Timeout: nothing Installed within timeoutSeconds (default 3600 s).
  fw.claim_firmware_sends(t0 + 10000 + 3600 * 1000, "2024-01-15T11:00:12.000Z", changed);
  c = *fw.campaign(id);
  EXPECT_EQ(target(c, "CP2")["status"], "Timeout");
  EXPECT_EQ(target(c, "CP2")["attempts"], 2);
  // Busy, unknown, cancel.
  csms::FirmwareCampaignRequest other = request;
  other.model.reset();
  other.charge_point_ids = {"CP9"};
  auto refused = fw.create_campaign(other, "2024-01-15T11:00:13.000Z");
  ASSERT_TRUE(std::holds_alternative<csms::FirmwareRefusal>(refused));
  EXPECT_EQ(std::get<csms::FirmwareRefusal>(refused).message, "chargePointIds: unknown charger(s) CP9");
  auto cancelled = fw.cancel_campaign(id, "2024-01-15T11:00:14.000Z");
  ASSERT_TRUE(std::holds_alternative<json>(cancelled));
  EXPECT_EQ(std::get<json>(cancelled)["status"], "Cancelled");
  EXPECT_EQ(std::get<csms::FirmwareRefusal>(fw.retry_campaign(id, {}, "2024-01-15T11:00:15.000Z")).status, 409);
}

TEST_P(FirmwareStoreTest, SignedReportsNameTheirTargetByRequestId) {
  boot("CP1", "1.0", "2024-01-15T10:00:00.000Z");
  auto& fw = store_->firmware_store();
  csms::FirmwareCampaignRequest request;
  request.location = "https://fw.example/2.0.bin";
  request.is_signed = true;
  request.signing_certificate = "CERT";
  request.signature = "SIG";
  request.charge_point_ids = {"CP1"};
  const auto id = std::get<json>(fw.create_campaign(request, "2024-01-15T10:00:01.000Z"))["id"].get<std::int64_t>();
  std::vector<std::int64_t> changed;
  auto sends = fw.claim_firmware_sends(1705312802000, "2024-01-15T10:00:02.000Z", changed);
  ASSERT_EQ(sends.size(), 1u);
  EXPECT_EQ(csms::firmware_send_action(sends[0]), "SignedUpdateFirmware");
  fw.record_firmware_answer(sends[0], "Accepted", "", "2024-01-15T10:00:03.000Z");
  send("CP1", "SignedFirmwareStatusNotification", {{"status", "InvalidSignature"}, {"requestId", sends[0].target_id}},
       "2024-01-15T10:00:04.000Z");
  const auto c = *fw.campaign(id);
  EXPECT_EQ(target(c, "CP1")["status"], "DownloadFailed");
  EXPECT_EQ(target(c, "CP1")["chargerStatus"], "InvalidSignature");
  const auto doc = *fw.firmware_document("CP1", 10);
  EXPECT_EQ(doc["request"]["action"], "SignedUpdateFirmware");
  EXPECT_EQ(doc["request"]["requestId"], sends[0].target_id);
  EXPECT_EQ(doc["history"][0]["requestId"], sends[0].target_id);
}

INSTANTIATE_TEST_SUITE_P(Backends, FirmwareStoreTest, ::testing::Values("sqlite", "postgres"),
                         testing::backend_name);

}  // namespace
}  // namespace genx::store
