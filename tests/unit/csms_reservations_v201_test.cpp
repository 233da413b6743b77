// Reservations in OCPP 2.0.1 form (csms/reservations.hpp): the ReserveNow payload GenX
// sends a 2.0.1 station is valid against the 2.0.1 schema, and a 2.0.1 ReserveNow answer
// (resource endpoint or passthrough) is recorded like a 1.6 one.
#include <gtest/gtest.h>

#include "csms/reservations.hpp"
#include "ocpp/v201_validation.hpp"

namespace genx::csms {
namespace {

using nlohmann::json;

TEST(ReservationsV201, PayloadIsValidAndItsAnswerIsRecorded) {
  Reservation r;
  r.id = 12;
  r.connector_id = 2;
  r.id_tag = "TAG-1";
  r.parent_id_tag = "GROUP";
  r.expiry_date = "2030-01-01T00:00:00.000Z";
  const json payload = reserve_now_payload_v201(r);
  EXPECT_FALSE(ocpp::v201::validate_command("ReserveNow", payload).has_value()) << payload.dump();
  EXPECT_EQ(payload, json({{"id", 12},
                           {"expiryDateTime", "2030-01-01T00:00:00.000Z"},
                           {"idToken", {{"idToken", "TAG-1"}, {"type", "Central"}}},
                           {"evseId", 2},
                           {"groupIdToken", {{"idToken", "GROUP"}, {"type", "Central"}}}}));
  const auto effect = reservation_effect("ReserveNow", payload, json{{"status", "Accepted"}});
  ASSERT_TRUE(effect.has_value());
  const auto& answered = std::get<ReservationAnswered>(*effect).reservation;
  EXPECT_EQ(answered.id, 12);
  EXPECT_EQ(answered.connector_id, 2);
  EXPECT_EQ(answered.id_tag, "TAG-1");
  EXPECT_EQ(answered.parent_id_tag, "GROUP");
  EXPECT_EQ(answered.status, "Accepted");
  r.connector_id = 0;  // any EVSE: no evseId
  EXPECT_FALSE(reserve_now_payload_v201(r).contains("evseId"));
  const auto cancelled = reservation_effect("CancelReservation", json{{"reservationId", 12}}, json{{"status", "Accepted"}});
  ASSERT_TRUE(cancelled.has_value());
  EXPECT_EQ(std::get<CancellationAccepted>(*cancelled).reservation_id, 12);
}

}  // namespace
}  // namespace genx::csms
