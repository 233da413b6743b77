// Reservations in the store (api::ReservationStore and UnitOfWork::use_reservation), on
// every backend (store_backends.hpp): ids, answers recorded, status changes, expiry that
// two sweepers never both report, and a StartTransaction consuming a reservation.
#include <gtest/gtest.h>

#include "csms/processor.hpp"
#include "store/open_store.hpp"
#include "store_backends.hpp"

namespace genx::store {
namespace {

using nlohmann::json;

class ReservationStoreTest : public testing::StoreTestBase {
 protected:
  csms::Outcome send(const std::string& action, json payload, const std::string& unique_id,
                     const std::string& device = "CP1") {
    return process(envelope(device, action, std::move(payload), unique_id, "2024-01-15T10:29:59.000Z"));
  }

  static csms::ReservationRequest request(int connector, std::string expiry) {
    csms::ReservationRequest r;
    r.connector_id = connector;
    r.id_tag = "TAG1";
    r.parent_id_tag = "PARENT";
    r.expiry_date = std::move(expiry);
    return r;
  }

};

INSTANTIATE_TEST_SUITE_P(Backends, ReservationStoreTest, ::testing::Values("sqlite", "postgres"),
                         testing::backend_name);

constexpr const char* kNow = "2024-01-15T10:00:00.000Z";

TEST_P(ReservationStoreTest, CreateNeedsAKnownChargerAndPicksIdsAboveEveryStoredOne) {
  EXPECT_FALSE(store_->create_reservation("NOBODY", request(1, "2024-01-15T11:00:00.000Z"), kNow).has_value());
  store_->register_charger("CP1");
  const auto first = store_->create_reservation("CP1", request(1, "2024-01-15T11:00:00.000Z"), kNow);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->id, 1);
  EXPECT_EQ(first->status, "Requested");
  EXPECT_EQ(first->charge_point_id, "CP1");
  EXPECT_EQ(first->parent_id_tag, "PARENT");
  EXPECT_EQ(first->created_at, kNow);

  // A passthrough ReserveNow with the caller's id (on a charger never seen: created).
  csms::Reservation own;
  own.id = 500;
  own.connector_id = 0;
  own.id_tag = "TAG2";
  own.expiry_date = "2024-01-15T12:00:00.000Z";
  own.status = "Accepted";
  const auto stored = store_->record_reservation("CP2", own, kNow);
  EXPECT_EQ(stored.id, 500);
  EXPECT_EQ(stored.charge_point_id, "CP2");
  EXPECT_EQ(stored.status, "Accepted");
  const auto next = store_->create_reservation("CP1", request(2, "2024-01-15T11:00:00.000Z"), kNow);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->id, 501);

  api::ReservationFilter all;
  std::vector<std::int64_t> ids;
  for (const auto& r : store_->list_reservations(all)) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<std::int64_t>{501, 500, 1}));
  api::ReservationFilter mine;
  mine.charger = "CP1";
  mine.status = "Requested";
  EXPECT_EQ(store_->list_reservations(mine).size(), 2u);
}

TEST_P(ReservationStoreTest, AnswersChangeTheStatusOnlyFromTheExpectedOnes) {
  store_->register_charger("CP1");
  auto r = *store_->create_reservation("CP1", request(1, "2024-01-15T11:00:00.000Z"), kNow);
  r.status = "Accepted";
  const auto accepted = store_->record_reservation("CP1", r, "2024-01-15T10:00:01.000Z");
  EXPECT_EQ(accepted.status, "Accepted");
  EXPECT_EQ(accepted.created_at, kNow) << "the answer to our own ReserveNow keeps the reservation's creation";
  EXPECT_FALSE(store_->change_reservation_status(r.id, "Failed", {"Requested"}, kNow).has_value());
  const auto cancelled = store_->change_reservation_status(r.id, "Cancelled", {"Accepted"}, "2024-01-15T10:00:02.000Z");
  ASSERT_TRUE(cancelled.has_value());
  EXPECT_EQ(cancelled->status, "Cancelled");
  EXPECT_EQ(cancelled->updated_at, "2024-01-15T10:00:02.000Z");
  EXPECT_FALSE(store_->change_reservation_status(r.id, "Cancelled", {"Accepted"}, kNow).has_value());
  EXPECT_FALSE(store_->change_reservation_status(9999, "Cancelled", {"Accepted"}, kNow).has_value());
}

TEST_P(ReservationStoreTest, ExpiryReportsEachReservationOnceAcrossConnections) {
  store_->register_charger("CP1");
  auto due = *store_->create_reservation("CP1", request(1, "2024-01-15T10:30:00.000Z"), kNow);
  due.status = "Accepted";
  store_->record_reservation("CP1", due, kNow);
  auto later = *store_->create_reservation("CP1", request(2, "2024-01-15T12:00:00.000Z"), kNow);
  later.status = "Accepted";
  store_->record_reservation("CP1", later, kNow);
  store_->create_reservation("CP1", request(0, "2024-01-15T10:10:00.000Z"), kNow);  // never accepted

  EXPECT_TRUE(store_->expire_reservations("2024-01-15T10:29:59.999Z").empty());
  auto other = open_store(db_->url(), Schema::require_current);
  const auto expired = store_->expire_reservations("2024-01-15T10:30:00.000Z");
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].id, due.id);
  EXPECT_EQ(expired[0].status, "Expired");
  EXPECT_TRUE(other->expire_reservations("2024-01-15T10:31:00.000Z").empty());
  EXPECT_EQ(store_->find_reservation(later.id)->status, "Accepted");
}

TEST_P(ReservationStoreTest, StartTransactionConsumesTheChargersReservationOnce) {
  store_->register_charger("CP1");
  auto r = *store_->create_reservation("CP1", request(1, "2024-01-15T11:00:00.000Z"), kNow);
  r.status = "Accepted";
  store_->record_reservation("CP1", r, kNow);
  const json start = {{"connectorId", 1}, {"idTag", "TAG1"}, {"meterStart", 0},
                      {"reservationId", r.id}, {"timestamp", "2024-01-15T10:20:00Z"}};
  // Another charger naming it consumes nothing.
  const auto foreign = send("StartTransaction", start, "f1", "CP9");
  EXPECT_EQ(store_->find_reservation(r.id)->status, "Accepted");
  EXPECT_TRUE(std::none_of(foreign.events.begin(), foreign.events.end(),
                           [](const auto& e) { return e.type == "reservation.used"; }));

  const auto outcome = send("StartTransaction", start, "s1");
  ASSERT_TRUE(outcome.reply.result.has_value());
  const auto transaction_id = outcome.reply.result->at("transactionId").get<std::int64_t>();
  const auto used = store_->find_reservation(r.id);
  EXPECT_EQ(used->status, "Used");
  EXPECT_EQ(used->transaction_id, transaction_id);
  EXPECT_EQ(store_->transaction(transaction_id)->at("reservationId"), r.id);
  const auto event = std::find_if(outcome.events.begin(), outcome.events.end(),
                                  [](const auto& e) { return e.type == "reservation.used"; });
  ASSERT_NE(event, outcome.events.end());
  EXPECT_EQ(event->fields.at("transactionId"), transaction_id);

  // Redelivered: the stored answer and events, nothing consumed again.
  const auto again = send("StartTransaction", start, "s1");
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(store_->find_reservation(r.id)->updated_at, used->updated_at);
}

}  // namespace
}  // namespace genx::store
