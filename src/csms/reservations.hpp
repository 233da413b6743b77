#pragma once
// Reservations (OCPP 1.6 Reservation profile; docs/reservations.md): what an operator's
// request to reserve a connector must hold, what a ReserveNow / CancelReservation answer
// changes, and the reservation.* events. Pure: JSON in, values out, no I/O; thread-safe.
//
// Life of a reservation (status):
//   Requested  - stored by POST /api/chargers/{id}/reservations, ReserveNow on its way
//   Accepted   - the charger holds it (the only "active" status)
//   Faulted, Occupied, Rejected, Unavailable - the charger's refusal, kept as answered
//   Failed     - ReserveNow never answered (charger offline, timeout, CALLERROR)
//   Used       - a StartTransaction carried its reservationId (transactionId set)
//   Expired    - expiryDate passed while Accepted
//   Cancelled  - CancelReservation accepted by the charger
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "messages/envelope.hpp"

namespace genx::csms {

inline constexpr std::string_view kReservationActive = "Accepted";

struct Reservation {
  std::int64_t id = 0;  // the OCPP reservationId
  std::string charge_point_id;
  int connector_id = 0;  // 0: any connector of the charger
  std::string id_tag;
  std::optional<std::string> parent_id_tag;
  std::string expiry_date;  // canonical ISO 8601 UTC
  std::string status;
  std::optional<std::int64_t> transaction_id;  // Used: the transaction that consumed it
  std::string created_at;
  std::string updated_at;
};

// {id, chargePointId, connectorId, idTag, parentIdTag, expiryDate, status, active,
//  transactionId, createdAt, updatedAt}
nlohmann::json reservation_json(const Reservation& reservation);

// What an operator asks for: POST /api/chargers/{id}/reservations
// {connectorId, idTag, expiryDate, parentIdTag?}. GenX picks the reservationId.
struct ReservationRequest {
  int connector_id = 0;
  std::string id_tag;
  std::optional<std::string> parent_id_tag;
  std::string expiry_date;  // canonical
};

// The request, or the error for HTTP 400 naming the field (schema of ReserveNow, an
// expiry that is not in the future, a reservationId the caller tried to choose).
std::variant<ReservationRequest, std::string> parse_reservation_request(const nlohmann::json& body,
                                                                        std::int64_t now_ms);

// The ReserveNow payload for a stored reservation (valid against ReserveNow.json).
nlohmann::json reserve_now_payload(const Reservation& reservation);
// The same for an OCPP 2.0.1 station: {id, expiryDateTime, idToken (Central), evseId
// (the connector; absent for 0 = any EVSE), groupIdToken (the parent tag)}.
nlohmann::json reserve_now_payload_v201(const Reservation& reservation);

// What a ReserveNow / CancelReservation CALLRESULT teaches (passthrough or resource
// endpoint alike; ReserveNow in its 1.6 or 2.0.1 form): a ReserveNow answer stores the reservation with the answered status
// (Accepted, Occupied, ...); an accepted CancelReservation cancels it.
struct ReservationAnswered {
  Reservation reservation;  // id, connector, tags, expiry and status from request + answer
};
struct CancellationAccepted {
  std::int64_t reservation_id = 0;
};
using ReservationEffect = std::variant<ReservationAnswered, CancellationAccepted>;
std::optional<ReservationEffect> reservation_effect(std::string_view action, const nlohmann::json& request,
                                                   const nlohmann::json& response);

// reservation.created | expired | used | cancelled, with the reservation's fields
// {reservationId, connectorId, idTag, parentIdTag, expiryDate, status, transactionId?} and
// eventId "reservation/{id}@{createdAt}/{type}" (a reservation goes through each once;
// createdAt tells apart a reservation id reused by a passthrough ReserveNow).
messages::DomainEvent reservation_event(std::string_view type, const Reservation& reservation);

}  // namespace genx::csms
