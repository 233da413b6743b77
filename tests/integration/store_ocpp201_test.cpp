// OCPP 2.0.1 on every backend: a station's boot, device model and a transaction whose
// events come out of order and twice, through the real business rules and the real
// store, read back through the api's read port.
#include <gtest/gtest.h>

#include "csms/processor.hpp"
#include "store/open_store.hpp"
#include "store_backends.hpp"

namespace genx::store {
namespace {

using nlohmann::json;

class Ocpp201StoreTest : public testing::StoreTestBase {
 protected:
  csms::Outcome send(const std::string& action, json payload, const std::string& unique_id) {
    auto e = envelope("CS201", action, std::move(payload), unique_id, "2024-01-15T10:29:59.000Z");
    e.ocpp_version = "2.0.1";
    csms::Policy policy;
    policy.tariff.energy_per_kwh_micro = 250000;
    return process(e, policy);
  }

  static json event(const std::string& type, int seq, const std::string& at, double wh) {
    json e = {{"eventType", type},
              {"timestamp", at},
              {"triggerReason", "MeterValuePeriodic"},
              {"seqNo", seq},
              {"transactionInfo", {{"transactionId", "tx 201/é"}}},
              {"evse", {{"id", 1}, {"connectorId", 1}}},
              {"meterValue", {{{"timestamp", at},
                               {"sampledValue", {{{"value", wh / 1000}, {"unitOfMeasure", {{"unit", "kWh"}}}}}}}}}};
    if (type == "Started") e["idToken"] = {{"idToken", "TOK-1"}, {"type", "ISO14443"}};
    return e;
  }

};

INSTANTIATE_TEST_SUITE_P(Backends, Ocpp201StoreTest, ::testing::Values("sqlite", "postgres"),
                         testing::backend_name);

TEST_P(Ocpp201StoreTest, StationSessionAndDeviceModelReadBackThroughTheApi) {
  ASSERT_TRUE(send("BootNotification", {{"reason", "PowerUp"},
                                        {"chargingStation", {{"vendorName", "Volt"}, {"model", "V2"}}}},
                   "b1").reply.result);
  // Ended first, then Started, then both again under new message ids, then Updated.
  send("TransactionEvent", event("Ended", 2, "2024-01-15T10:30:00Z", 9000), "e1");
  send("TransactionEvent", event("Started", 0, "2024-01-15T10:00:00Z", 1000), "s1");
  send("TransactionEvent", event("Ended", 2, "2024-01-15T10:30:00Z", 9000), "e2");
  send("TransactionEvent", event("Started", 0, "2024-01-15T10:00:00Z", 1000), "s2");
  send("TransactionEvent", event("Updated", 1, "2024-01-15T10:10:00Z", 4000), "u1");
  send("NotifyReport", {{"requestId", 3}, {"generatedAt", "2024-01-15T10:00:00Z"}, {"seqNo", 0},
                        {"reportData", {{{"component", {{"name", "EVSE"}, {"evse", {{"id", 1}}}}},
                                         {"variable", {{"name", "Power"}}},
                                         {"variableAttribute", {{{"value", "11000"}, {"persistent", true}}}}}}}},
       "n1");

  const auto charger = store_->charger("CS201");
  ASSERT_TRUE(charger);
  EXPECT_EQ(charger->at("ocppVersion"), "2.0.1");
  EXPECT_EQ(charger->at("vendor"), "Volt");

  const json list = store_->list_transactions({});
  ASSERT_EQ(list.size(), 1U) << list.dump();
  const json& t = list[0];
  EXPECT_EQ(t.at("ocppTransactionId"), "tx 201/é");
  EXPECT_EQ(t.at("connectorId"), 1);
  EXPECT_EQ(t.at("idTag"), "TOK-1");
  EXPECT_EQ(t.at("meterStart"), 1000);
  EXPECT_EQ(t.at("meterStop"), 9000);
  EXPECT_EQ(t.at("energyWh"), 8000);
  EXPECT_EQ(t.at("costMinor"), 200);
  EXPECT_EQ(t.at("startedAt"), "2024-01-15T10:00:00.000Z");
  EXPECT_EQ(t.at("stoppedAt"), "2024-01-15T10:30:00.000Z");

  const json ids = store_->transaction_ids_for("tx 201/é");
  ASSERT_EQ(ids, json::array({t.at("id")}));
  const auto detail = store_->transaction(t.at("id").get<std::int64_t>());
  ASSERT_TRUE(detail);
  EXPECT_EQ(detail->at("meterValues").size(), 3U);  // the resends stored nothing twice
  EXPECT_EQ(detail->at("meterValues")[0].at("value"), "1");

  const auto model = store_->device_model("CS201");
  ASSERT_TRUE(model);
  ASSERT_EQ(model->size(), 1U);
  EXPECT_EQ(model->at(0).at("evseId"), 1);
  EXPECT_EQ(model->at(0).at("value"), "11000");
  EXPECT_EQ(model->at(0).at("persistent"), true);
  EXPECT_EQ(model->at(0).at("attributeType"), "Actual");
  EXPECT_FALSE(store_->device_model("NOPE").has_value());
}

}  // namespace
}  // namespace genx::store
