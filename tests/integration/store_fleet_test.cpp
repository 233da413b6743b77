// The fleet listing and summary (docs/api.md: paging, natural order, filters,
// search, counts) on each backend.
#include <gtest/gtest.h>

#include "csms/processor.hpp"
#include "store/open_store.hpp"
#include "store_backends.hpp"

namespace genx::store {
namespace {

using nlohmann::json;

class FleetStoreTest : public testing::StoreTestBase {
 protected:
  void send(const std::string& device, const std::string& action, json payload, const std::string& at) {
    process(envelope(device, action, std::move(payload), device + "-" + std::to_string(++sent_), at));
  }
  void boot(const std::string& device, const std::string& vendor, const std::string& at) {
    send(device, "BootNotification",
         {{"chargePointVendor", vendor}, {"chargePointModel", "Model-" + device},
          {"chargePointSerialNumber", "SER-" + device}},
         at);
  }
  void status(const std::string& device, int connector, const std::string& word) {
    send(device, "StatusNotification",
         {{"connectorId", connector}, {"status", word}, {"errorCode", word == "Faulted" ? "GroundFailure" : "NoError"}},
         "2024-01-15T10:20:00.000Z");
  }

  // 12 chargers CP1..CP12 (booted at 10:01..10:12, vendors Acme and Volt_Works), each
  // Available on connectors 0 and 1 at 10:20; but CP3, CP7 and CP11 Faulted, CP5
  // Charging, and CP12 never reported a status.
  void fill() {
    for (int i = 12; i >= 1; --i) {  // inserted backwards: no order by accident
      const std::string id = "CP" + std::to_string(i);
      boot(id, i % 2 == 0 ? "Acme" : "Volt_Works",
           "2024-01-15T10:" + std::string(i < 10 ? "0" : "") + std::to_string(i) + ":00.000Z");
      if (i == 12) continue;
      status(id, 0, "Available");
      status(id, 1, i == 3 || i == 7 || i == 11 ? "Faulted" : i == 5 ? "Charging" : "Available");
    }
  }

  static std::vector<std::string> ids(const api::ChargerPage& page) {
    std::vector<std::string> out;
    for (const auto& c : page.items) out.push_back(c.at("chargePointId"));
    return out;
  }
  api::ChargerPage list(api::ChargerQuery q) {
    if (q.online_since.empty()) q.online_since = "2024-01-15T10:00:00.000Z";
    return store_->list_chargers(q);
  }

  int sent_ = 0;
};

INSTANTIATE_TEST_SUITE_P(Backends, FleetStoreTest, ::testing::Values("sqlite", "postgres"), testing::backend_name);

TEST_P(FleetStoreTest, PagesInNaturalOrderWithTheTotal) {
  fill();
  api::ChargerQuery q;
  q.limit = 5;
  auto first = list(q);
  EXPECT_EQ(ids(first), (std::vector<std::string>{"CP1", "CP2", "CP3", "CP4", "CP5"}));
  EXPECT_EQ(first.total, 12);
  q.offset = 8;
  q.limit = 3;
  auto later = list(q);
  EXPECT_EQ(ids(later), (std::vector<std::string>{"CP9", "CP10", "CP11"}));
  EXPECT_EQ(later.total, 12);
  q.offset = 12;
  EXPECT_TRUE(list(q).items.empty());
  // Each item is the charger as GET /api/chargers/{id} shows it.
  const auto& cp10 = later.items[1];
  EXPECT_EQ(cp10, *store_->charger("CP10"));
  EXPECT_EQ(cp10.at("status"), "Available");
  EXPECT_EQ(cp10.at("connectors").size(), 2u);
  EXPECT_EQ(later.items[2].at("status"), "Faulted");
}

TEST_P(FleetStoreTest, FiltersByStatusAndOnline) {
  fill();
  api::ChargerQuery q;
  q.status = "Faulted";
  auto faulted = list(q);
  EXPECT_EQ(ids(faulted), (std::vector<std::string>{"CP3", "CP7", "CP11"}));
  EXPECT_EQ(faulted.total, 3);
  q.status = "Charging";
  EXPECT_EQ(ids(list(q)), (std::vector<std::string>{"CP5"}));
  q.status = "Unknown";
  EXPECT_EQ(ids(list(q)), (std::vector<std::string>{"CP12"}));
  q.status = "Available";
  EXPECT_EQ(list(q).total, 7);
  // A fault cleared is no longer listed as Faulted.
  status("CP7", 1, "Available");
  q.status = "Faulted";
  EXPECT_EQ(ids(list(q)), (std::vector<std::string>{"CP3", "CP11"}));
  // Online: seen at or after online_since (the StatusNotifications were seen at 10:20).
  q.status = "online";
  q.online_since = "2024-01-15T10:15:00.000Z";
  EXPECT_EQ(list(q).total, 11);  // CP12 was last seen at its boot, 10:12
  q.status = "offline";
  EXPECT_EQ(ids(list(q)), (std::vector<std::string>{"CP12"}));
}

TEST_P(FleetStoreTest, SearchFindsBySubstringWithTheExactIdFirst) {
  fill();
  api::ChargerQuery q;
  q.q = "cp1";  // any case
  EXPECT_EQ(ids(list(q)), (std::vector<std::string>{"CP1", "CP10", "CP11", "CP12"}));
  q.q = "CP11";
  EXPECT_EQ(ids(list(q)), (std::vector<std::string>{"CP11"}));
  q.q = "CP1";
  q.sort = api::ChargerSort::kStatus;  // the exact match still comes first
  EXPECT_EQ(ids(list(q)), (std::vector<std::string>{"CP1", "CP11", "CP10", "CP12"}));
  q = {};
  q.q = "volt_w";  // vendor; the underscore is a character, not a wildcard
  EXPECT_EQ(list(q).total, 6);
  q.q = "volt%";
  EXPECT_EQ(list(q).total, 0);
  q.q = "model-cp4";
  EXPECT_EQ(ids(list(q)), (std::vector<std::string>{"CP4"}));
  q.q = "SER-CP9";
  EXPECT_EQ(ids(list(q)), (std::vector<std::string>{"CP9"}));
  q.status = "Faulted";
  q.q = "CP1";
  EXPECT_EQ(ids(list(q)), (std::vector<std::string>{"CP11"}));
}

TEST_P(FleetStoreTest, SortsByStatusAndLastSeen) {
  fill();
  api::ChargerQuery q;
  q.sort = api::ChargerSort::kStatus;
  q.limit = 4;
  EXPECT_EQ(ids(list(q)), (std::vector<std::string>{"CP3", "CP7", "CP11", "CP5"}));
  q.offset = 11;
  EXPECT_EQ(ids(list(q)), (std::vector<std::string>{"CP12"}));  // no status: last
  send("CP4", "Heartbeat", json::object(), "2024-01-15T10:30:00.000Z");
  q = {};
  q.sort = api::ChargerSort::kLastSeen;
  q.limit = 2;
  EXPECT_EQ(ids(list(q)), (std::vector<std::string>{"CP4", "CP1"}));  // then the 10:20 ones, naturally
}

TEST_P(FleetStoreTest, SummaryCountsByStatusAndOnline) {
  auto empty = store_->charger_summary("2024-01-15T10:15:00.000Z");
  EXPECT_EQ(empty.at("total"), 0);
  EXPECT_EQ(empty.at("byStatus").at("Faulted"), 0);
  fill();
  auto s = store_->charger_summary("2024-01-15T10:15:00.000Z");
  EXPECT_EQ(s.at("total"), 12);
  EXPECT_EQ(s.at("online"), 11);
  EXPECT_EQ(s.at("offline"), 1);
  EXPECT_EQ(s.at("byStatus"), json::parse(R"({"Available":7,"Preparing":0,"Charging":1,"SuspendedEVSE":0,
      "SuspendedEV":0,"Finishing":0,"Reserved":0,"Unavailable":0,"Faulted":3,"Unknown":1})"));
  status("CP3", 1, "Available");
  s = store_->charger_summary("2024-01-15T11:00:00.000Z");
  EXPECT_EQ(s.at("byStatus").at("Faulted"), 2);
  EXPECT_EQ(s.at("byStatus").at("Available"), 8);
  EXPECT_EQ(s.at("online"), 0);
  EXPECT_EQ(s.at("offline"), 12);
}

TEST_P(FleetStoreTest, CountsTransactionsAsTheListingFilters) {
  store_->upsert_id_tag("TAG", "Accepted", std::nullopt, std::nullopt);
  boot("CP1", "Acme", "2024-01-15T10:01:00.000Z");
  boot("CP2", "Acme", "2024-01-15T10:01:00.000Z");
  for (int i = 0; i < 3; ++i) {
    send(i == 2 ? "CP2" : "CP1", "StartTransaction",
         {{"connectorId", 1}, {"idTag", "TAG"}, {"meterStart", i}, {"timestamp", "2024-01-15T10:0" + std::to_string(i + 2) + ":00Z"}},
         "2024-01-15T10:05:00.000Z");
  }
  send("CP1", "StopTransaction", {{"transactionId", 1}, {"meterStop", 10}, {"timestamp", "2024-01-15T10:09:00Z"}},
       "2024-01-15T10:09:00.000Z");
  api::TransactionFilter f;
  EXPECT_EQ(store_->count_transactions(f), 3);
  f.active = true;
  EXPECT_EQ(store_->count_transactions(f), 2);
  EXPECT_EQ(store_->list_transactions(f).size(), 2u);
  f.charger = "CP1";
  EXPECT_EQ(store_->count_transactions(f), 1);
  f.active = false;
  EXPECT_EQ(store_->count_transactions(f), 1);
  f.active.reset();
  f.charger = "NOPE";
  EXPECT_EQ(store_->count_transactions(f), 0);
}

}  // namespace
}  // namespace genx::store
