// The local authorization list plan (csms/local_list.hpp, docs/local-list.md): what
// GenX sends a charger, checked against the OCPP 1.6 and 2.0.1 SendLocalList schemas.
#include <gtest/gtest.h>

#include "csms/commands.hpp"
#include "csms/commands_v201.hpp"
#include "csms/local_list.hpp"

namespace genx::csms {
namespace {

using nlohmann::json;

LocalListEntry tag(std::string id, std::string status = "Accepted") { return LocalListEntry{id, status, {}, {}}; }

std::vector<LocalListEntry> tags(int n) {
  std::vector<LocalListEntry> out;
  for (int i = 0; i < n; ++i) out.push_back(tag("T" + std::to_string(10 + i)));
  return out;
}

void expect_valid(const std::vector<LocalListSend>& sends) {
  for (const auto& s : sends) {
    const auto payload = send_local_list_payload(s);
    EXPECT_EQ(check_command("SendLocalList", payload), std::nullopt) << payload.dump();
  }
}

TEST(LocalList, FullWhenTheChargerVersionIsNotGenXsOwn) {
  const auto sends = plan_local_list({tag("B"), tag("A", "Blocked")}, {}, false, 4, std::nullopt);
  ASSERT_EQ(sends.size(), 1u);
  EXPECT_EQ(send_local_list_payload(sends[0]),
            json::parse(R"({"listVersion":5,"updateType":"Full","localAuthorizationList":[
              {"idTag":"A","idTagInfo":{"status":"Blocked"}},{"idTag":"B","idTagInfo":{"status":"Accepted"}}]})"));
  expect_valid(sends);
}

TEST(LocalList, AnEmptyFullListLeavesTheListOut) {
  const auto sends = plan_local_list({}, {tag("A")}, false, 0, 3);
  ASSERT_EQ(sends.size(), 1u);
  EXPECT_EQ(send_local_list_payload(sends[0]), json::parse(R"({"listVersion":1,"updateType":"Full"})"));
  expect_valid(sends);
}

// A charger holding A, B, C at version 7 that should hold A, B (now Blocked, with an expiry
// and a parent) and D: one Differential with a change, a removal and an addition.
std::vector<LocalListSend> one_of_each_change() {
  LocalListEntry changed = tag("B", "Blocked");
  changed.expiry_date = "2030-01-01T00:00:00.000Z";
  changed.parent_id_tag = "FLEET";
  return plan_local_list({tag("A"), changed, tag("D")}, {tag("A"), tag("B"), tag("C")}, true, 7, std::nullopt);
}

TEST(LocalList, DifferentialCarriesAdditionsChangesAndRemovals) {
  const auto sends = one_of_each_change();
  ASSERT_EQ(sends.size(), 1u);
  EXPECT_EQ(send_local_list_payload(sends[0]), json::parse(R"({"listVersion":8,"updateType":"Differential","localAuthorizationList":[
    {"idTag":"B","idTagInfo":{"status":"Blocked","expiryDate":"2030-01-01T00:00:00.000Z","parentIdTag":"FLEET"}},
    {"idTag":"C"},{"idTag":"D","idTagInfo":{"status":"Accepted"}}]})"));
  expect_valid(sends);
  EXPECT_TRUE(plan_local_list({tag("A")}, {tag("A")}, true, 7, std::nullopt).empty()) << "nothing changed: nothing sent";
}

TEST(LocalList, TheSameSendsInOcpp201Form) {
  const auto sends = one_of_each_change();
  ASSERT_EQ(sends.size(), 1u);
  const auto payload = send_local_list_payload_v201(sends[0]);
  EXPECT_EQ(payload, json::parse(R"({"versionNumber":8,"updateType":"Differential","localAuthorizationList":[
    {"idToken":{"idToken":"B","type":"ISO14443"},"idTokenInfo":{"status":"Blocked",
     "cacheExpiryDateTime":"2030-01-01T00:00:00.000Z","groupIdToken":{"idToken":"FLEET","type":"Central"}}},
    {"idToken":{"idToken":"C","type":"ISO14443"}},
    {"idToken":{"idToken":"D","type":"ISO14443"},"idTokenInfo":{"status":"Accepted"}}]})"));
  EXPECT_EQ(check_command_v201("SendLocalList", payload), std::nullopt) << payload.dump();
  EXPECT_EQ(check_command("SendLocalList", payload).has_value(), true) << "not a 1.6 payload";
  const auto empty = send_local_list_payload_v201(plan_local_list({}, {tag("A")}, false, 0, 3)[0]);
  EXPECT_EQ(empty, json::parse(R"({"versionNumber":1,"updateType":"Full"})"));
  EXPECT_EQ(check_command_v201("SendLocalList", empty), std::nullopt);
}

TEST(LocalList, Ocpp201LimitsComeFromTheDeviceModel) {
  LocalListLimits limits;
  add_device_model_limit(limits, "Entries", std::string("3"), std::string(R"({"dataType":"integer","maxLimit":250})"));
  add_device_model_limit(limits, "ItemsPerMessage", std::string("20"), std::nullopt);
  add_device_model_limit(limits, "BytesPerMessage", std::string("4096"), std::nullopt);
  EXPECT_EQ(limits.max_entries, 250);
  EXPECT_EQ(limits.max_per_send, 20);
  LocalListLimits unreadable;
  add_device_model_limit(unreadable, "ItemsPerMessage", std::string("many"), std::nullopt);
  add_device_model_limit(unreadable, "ItemsPerMessage", std::string("0"), std::nullopt);
  add_device_model_limit(unreadable, "Entries", std::string("3"), std::string("{not json"));
  add_device_model_limit(unreadable, "Entries", std::string("3"), std::nullopt);
  EXPECT_EQ(unreadable.max_entries, std::nullopt);
  EXPECT_EQ(unreadable.max_per_send, std::nullopt);
}

TEST(LocalList, SplitBySendLocalListMaxLengthFullFirstThenDifferentialWithRisingVersions) {
  const auto list = tags(7);
  const auto sends = plan_local_list(list, {}, false, 2, 3);
  ASSERT_EQ(sends.size(), 3u);
  EXPECT_EQ(sends[0].update_type, "Full");
  EXPECT_EQ(sends[1].update_type, "Differential");
  EXPECT_EQ(sends[2].update_type, "Differential");
  EXPECT_EQ(sends[0].version, 3);
  EXPECT_EQ(sends[1].version, 4);
  EXPECT_EQ(sends[2].version, 5);
  EXPECT_EQ(sends[0].changes.size(), 3u);
  EXPECT_EQ(sends[2].changes.size(), 1u);
  expect_valid(sends);
  // Applying them one after the other gives the charger the whole list.
  std::vector<LocalListEntry> held = {tag("OLD")};
  for (const auto& s : sends) held = apply_local_list_send(held, s);
  EXPECT_EQ(held, list);
}

TEST(LocalList, TooLongForTheCharger) {
  EXPECT_EQ(local_list_too_long(3, 3), std::nullopt);
  EXPECT_EQ(local_list_too_long(4, std::nullopt), std::nullopt);
  EXPECT_EQ(local_list_too_long(4, 3), "the local list has 4 entries; the charger holds at most 3 (LocalAuthListMaxLength)");
}

TEST(LocalList, IdTagUpdatesNameTheBadField) {
  auto ok = parse_id_tag_update("TAG1", json::parse(R"({"status":"Blocked","expiryDate":"2030-01-01T01:00:00+01:00","localList":true})"));
  ASSERT_TRUE(std::holds_alternative<IdTagUpdate>(ok));
  const auto& u = std::get<IdTagUpdate>(ok);
  EXPECT_EQ(u.tag.status, "Blocked");
  EXPECT_EQ(u.tag.expiry_date, "2030-01-01T00:00:00.000Z");
  EXPECT_EQ(u.local_list, true);
  const auto problem = [](std::string_view id, const char* body) {
    auto r = parse_id_tag_update(id, json::parse(body));
    return std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : std::string("accepted");
  };
  EXPECT_EQ(problem("TAG1", R"({"status":"Nope"})"), "status: expected Accepted, Blocked, Expired, Invalid or ConcurrentTx");
  EXPECT_EQ(problem("TAG1", R"({"localList":"yes"})"), "localList: expected true or false");
  EXPECT_EQ(problem("TAG1", R"({"expiryDate":"soon"})").substr(0, 12), "expiryDate: ");
  EXPECT_EQ(problem("TAG1", R"({"parentIdTag":"123456789012345678901"})").substr(0, 13), "parentIdTag: ");
  EXPECT_EQ(problem("TAG1", R"({"colour":"red"})"), "colour: unknown field (expected status, expiryDate, parentIdTag, localList)");
  EXPECT_EQ(problem("123456789012345678901", "{}").substr(0, 7), "idTag: ");
  EXPECT_EQ(problem("TAG1", "[]").substr(0, 6), "body: ");
}

}  // namespace
}  // namespace genx::csms
