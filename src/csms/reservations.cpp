// Reservations: requests, effects and events (see reservations.hpp).
#include "csms/reservations.hpp"

#include "csms/commands.hpp"
#include "messages/timestamp.hpp"

namespace genx::csms {

using nlohmann::json;

namespace {

std::optional<std::string> text_field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

json reservation_json(const Reservation& r) {
  return {{"id", r.id},
          {"chargePointId", r.charge_point_id},
          {"connectorId", r.connector_id},
          {"idTag", r.id_tag},
          {"parentIdTag", r.parent_id_tag ? json(*r.parent_id_tag) : json(nullptr)},
          {"expiryDate", r.expiry_date},
          {"status", r.status},
          {"active", r.status == kReservationActive},
          {"transactionId", r.transaction_id ? json(*r.transaction_id) : json(nullptr)},
          {"createdAt", r.created_at},
          {"updatedAt", r.updated_at}};
}

std::variant<ReservationRequest, std::string> parse_reservation_request(const json& body, std::int64_t now_ms) {
  if (!body.is_object()) return std::string("body: expected a JSON object {connectorId, idTag, expiryDate, parentIdTag?}");
  if (body.contains("reservationId")) {
    return std::string(
        "reservationId: chosen by GenX; to send your own, use POST /api/chargers/{id}/commands/ReserveNow");
  }
  // The schema of ReserveNow names the field; a placeholder id stands for the one GenX picks.
  json payload = body;
  payload["reservationId"] = 1;
  if (auto problem = check_command("ReserveNow", payload)) return *problem;
  ReservationRequest request;
  request.connector_id = body.at("connectorId").get<int>();
  request.id_tag = body.at("idTag").get<std::string>();
  request.parent_id_tag = text_field(body, "parentIdTag");
  const std::string expiry = body.at("expiryDate").get<std::string>();
  const auto expiry_ms = messages::parse_timestamp(expiry);
  if (!expiry_ms) return std::string("expiryDate: not an RFC 3339 date-time");
  if (*expiry_ms <= now_ms) return std::string("expiryDate: must be in the future");
  request.expiry_date = messages::format_timestamp(*expiry_ms);
  return request;
}

json reserve_now_payload(const Reservation& r) {
  json payload{{"connectorId", r.connector_id},
               {"expiryDate", r.expiry_date},
               {"idTag", r.id_tag},
               {"reservationId", r.id}};
  if (r.parent_id_tag) payload["parentIdTag"] = *r.parent_id_tag;
  return payload;
}

json reserve_now_payload_v201(const Reservation& r) {
  json payload{{"id", r.id},
               {"expiryDateTime", r.expiry_date},
               {"idToken", {{"idToken", r.id_tag}, {"type", "Central"}}}};
  if (r.connector_id != 0) payload["evseId"] = r.connector_id;
  if (r.parent_id_tag) payload["groupIdToken"] = {{"idToken", *r.parent_id_tag}, {"type", "Central"}};
  return payload;
}

std::optional<ReservationEffect> reservation_effect(std::string_view action, const json& request,
                                                   const json& response) {
  const auto status = text_field(response, "status");
  if (!status) return std::nullopt;
  if (action == "ReserveNow" && request.contains("idToken")) {
    // OCPP 2.0.1: {id, expiryDateTime, idToken, evseId?, groupIdToken?}
    const auto id = request.find("id");
    const auto expiry = text_field(request, "expiryDateTime");
    const auto token = request.find("idToken");
    if (id == request.end() || !id->is_number_integer() || !expiry || !token->is_object()) return std::nullopt;
    const auto id_tag = text_field(*token, "idToken");
    if (!id_tag) return std::nullopt;
    Reservation r;
    r.id = id->get<std::int64_t>();
    const auto evse = request.find("evseId");
    r.connector_id = evse != request.end() && evse->is_number_integer() ? evse->get<int>() : 0;
    r.id_tag = *id_tag;
    if (const auto group = request.find("groupIdToken"); group != request.end() && group->is_object()) {
      r.parent_id_tag = text_field(*group, "idToken");
    }
    r.expiry_date = messages::normalize_timestamp(*expiry).value_or(*expiry);
    r.status = *status;
    return ReservationAnswered{std::move(r)};
  }
  const auto id = request.find("reservationId");
  if (id == request.end() || !id->is_number_integer()) return std::nullopt;
  if (action == "ReserveNow") {
    const auto connector = request.find("connectorId");
    const auto id_tag = text_field(request, "idTag");
    const auto expiry = text_field(request, "expiryDate");
    if (connector == request.end() || !connector->is_number_integer() || !id_tag || !expiry) return std::nullopt;
    Reservation r;
    r.id = id->get<std::int64_t>();
    r.connector_id = connector->get<int>();
    r.id_tag = *id_tag;
    r.parent_id_tag = text_field(request, "parentIdTag");
    r.expiry_date = messages::normalize_timestamp(*expiry).value_or(*expiry);
    r.status = *status;
    return ReservationAnswered{std::move(r)};
  }
  if (action == "CancelReservation" && *status == "Accepted") {
    return CancellationAccepted{id->get<std::int64_t>()};
  }
  return std::nullopt;
}

messages::DomainEvent reservation_event(std::string_view type, const Reservation& r) {
  json fields{{"reservationId", r.id},
              {"connectorId", r.connector_id},
              {"idTag", r.id_tag},
              {"parentIdTag", r.parent_id_tag ? json(*r.parent_id_tag) : json(nullptr)},
              {"expiryDate", r.expiry_date},
              {"status", r.status},
              {"eventId", "reservation/" + std::to_string(r.id) + "@" + r.created_at + "/" + std::string(type)}};
  if (r.transaction_id) fields["transactionId"] = *r.transaction_id;
  return messages::DomainEvent{"reservation." + std::string(type), r.charge_point_id, std::move(fields)};
}

}  // namespace genx::csms
