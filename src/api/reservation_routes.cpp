// The reservation routes of the api (docs/reservations.md): an operator reserves a
// connector (GenX picks the reservationId, sends ReserveNow, stores what the charger
// answered), cancels it (CancelReservation), lists them; expired ones are swept here.
// Runs on the api's one I/O thread, like the rest of ApiHandler.
#include <charconv>
#include <chrono>

#include <spdlog/spdlog.h>

#include "api/api_server.hpp"
#include "api/command_client.hpp"
#include "api/command_http.hpp"
#include "csms/reservations.hpp"
#include "messages/timestamp.hpp"
#include "util/url.hpp"

namespace genx::api {

using nlohmann::json;

namespace {

HttpResponse respond_json(int status, const json& body) { return HttpResponse{status, "application/json", body.dump()}; }
HttpResponse respond_error(int status, std::string_view message) { return respond_json(status, json{{"error", message}}); }

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
std::string now_text() { return messages::format_timestamp(now_ms()); }

std::optional<std::int64_t> to_id(std::string_view text) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

json list_json(const std::vector<csms::Reservation>& list) {
  json out = json::array();
  for (const auto& r : list) out.push_back(csms::reservation_json(r));
  return out;
}

// A store failure inside a command callback: the answer still goes out.
template <typename Fn>
HttpResponse guarded(const char* what, Fn&& fn) {
  try {
    return fn();
  } catch (const TransientStoreError& e) {
    spdlog::warn("api: {}: database unavailable: {}", what, e.what());
    return respond_error(503, std::string("database unavailable: ") + e.what());
  } catch (const std::exception& e) {
    spdlog::error("api: {} failed: {}", what, e.what());
    return respond_error(500, "internal error");
  }
}

}  // namespace

void ApiHandler::enable_reservations(ReservationStore& store) { reservation_store_ = &store; }

void ApiHandler::record_reservation_effect(const messages::CommandRequest& request, const json& response) {
  if (reservation_store_ == nullptr) return;
  const auto effect = csms::reservation_effect(request.action, request.payload, response);
  if (!effect) return;
  try {
    if (const auto* answered = std::get_if<csms::ReservationAnswered>(&*effect)) {
      const auto stored = reservation_store_->record_reservation(request.device_id, answered->reservation, now_text());
      if (stored.status == csms::kReservationActive) publish_event(csms::reservation_event("created", stored));
    } else if (const auto* cancelled = std::get_if<csms::CancellationAccepted>(&*effect)) {
      if (auto stored = reservation_store_->change_reservation_status(cancelled->reservation_id, "Cancelled",
                                                                      {"Accepted", "Requested"}, now_text())) {
        publish_event(csms::reservation_event("cancelled", *stored));
      }
    }
  } catch (const std::exception& e) {
    spdlog::error("api: {} of {} answered but the reservation was not recorded: {}", request.action,
                  request.device_id, e.what());
  }
}

void ApiHandler::reserve(const std::string& device_id, std::string_view body,
                         std::function<void(HttpResponse)> respond) {
  if (commands_ == nullptr || reservation_store_ == nullptr) {
    respond(respond_error(503, "reservations are not available in this process"));
    return;
  }
  json payload = json::parse(body, nullptr, false);
  if (payload.is_discarded()) {
    respond(respond_error(400, "body: not valid JSON"));
    return;
  }
  auto parsed = csms::parse_reservation_request(payload, now_ms());
  if (auto* problem = std::get_if<std::string>(&parsed)) {
    respond(respond_error(400, *problem));
    return;
  }
  const auto request = std::get<csms::ReservationRequest>(parsed);
  std::optional<csms::Reservation> created;
  bool v201 = false;
  const HttpResponse refusal = guarded("reserve", [&]() -> HttpResponse {
    auto charger = store_.charger(device_id);
    if (!charger) return respond_error(404, "no charger " + device_id);
    v201 = is_ocpp201(*charger);
    // Connector 0 reserves any connector (ReserveConnectorZeroSupported); any other
    // number must be a connector the charger has reported.
    if (request.connector_id != 0) {
      std::string known;
      bool found = false;
      for (const auto& c : charger->value("connectors", json::array())) {
        const auto id = c.value("connectorId", 0);
        if (id <= 0) continue;
        found = found || id == request.connector_id;
        known += (known.empty() ? "" : ", ") + std::to_string(id);
      }
      if (!found) {
        return respond_error(400, "connectorId: charger " + device_id + " has no connector " +
                                      std::to_string(request.connector_id) +
                                      (known.empty() ? std::string(" (it has reported none)") : " (known: " + known + ")"));
      }
    }
    ReservationFilter active;
    active.charger = device_id;
    active.status = std::string(csms::kReservationActive);
    for (const auto& r : reservation_store_->list_reservations(active)) {
      if (r.connector_id == request.connector_id) {
        return respond_error(409, "connectorId: connector " + std::to_string(r.connector_id) + " of " + device_id +
                                      " is already reserved (reservation " + std::to_string(r.id) + " until " +
                                      r.expiry_date + ")");
      }
    }
    created = reservation_store_->create_reservation(device_id, request, now_text());
    if (!created) return respond_error(404, "no charger " + device_id);
    return HttpResponse{0, "", ""};
  });
  if (refusal.status != 0) {
    respond(refusal);
    return;
  }
  const std::int64_t id = created->id;
  commands_->send(device_id, "ReserveNow",
                  v201 ? csms::reserve_now_payload_v201(*created) : csms::reserve_now_payload(*created),
                  [this, id, respond = std::move(respond)](CommandResult result) {
                    auto end = conclude_command(result);
                    respond(guarded("reserve", [&]() -> HttpResponse {
                      auto stored = reservation_store_->find_reservation(id);
                      if (!end.answered) {
                        if (auto failed = reservation_store_->change_reservation_status(id, "Failed", {"Requested"},
                                                                                         now_text())) {
                          stored = failed;
                        }
                        json body = end.body.is_object() ? end.body : json::object();
                        body["reservation"] = stored ? csms::reservation_json(*stored) : json(nullptr);
                        return respond_json(end.status, body);
                      }
                      if (!stored) return respond_error(500, "reservation " + std::to_string(id) + " vanished");
                      if (stored->status == csms::kReservationActive) {
                        return respond_json(200, csms::reservation_json(*stored));
                      }
                      return respond_json(409, json{{"error", "charger " + stored->charge_point_id +
                                                                  " answered ReserveNow with " + stored->status},
                                                    {"reservation", csms::reservation_json(*stored)}});
                    }));
                  });
}

void ApiHandler::cancel_reservation(std::string_view id_text, std::function<void(HttpResponse)> respond) {
  if (commands_ == nullptr || reservation_store_ == nullptr) {
    respond(respond_error(503, "reservations are not available in this process"));
    return;
  }
  const auto id = to_id(id_text);
  if (!id) {
    respond(respond_error(400, "reservation id must be an integer"));
    return;
  }
  std::optional<csms::Reservation> reservation;
  const HttpResponse refusal = guarded("cancel reservation", [&]() -> HttpResponse {
    reservation = reservation_store_->find_reservation(*id);
    if (!reservation) return respond_error(404, "no reservation " + std::to_string(*id));
    if (reservation->status != csms::kReservationActive) {
      return respond_error(409, "reservation " + std::to_string(*id) + " is " + reservation->status +
                                    "; only an Accepted reservation can be cancelled");
    }
    return HttpResponse{0, "", ""};
  });
  if (refusal.status != 0) {
    respond(refusal);
    return;
  }
  commands_->send(reservation->charge_point_id, "CancelReservation", json{{"reservationId", *id}},
                  [this, id = *id, respond = std::move(respond)](CommandResult result) {
                    auto end = conclude_command(result);
                    respond(guarded("cancel reservation", [&]() -> HttpResponse {
                      auto stored = reservation_store_->find_reservation(id);
                      json reservation_body = stored ? csms::reservation_json(*stored) : json(nullptr);
                      if (!end.answered) {
                        json body = end.body.is_object() ? end.body : json::object();
                        body["reservation"] = reservation_body;
                        return respond_json(end.status, body);
                      }
                      if (stored && stored->status == "Cancelled") return respond_json(200, reservation_body);
                      const std::string answer = end.body.is_object() && end.body.contains("status") &&
                                                         end.body["status"].is_string()
                                                     ? end.body["status"].get<std::string>()
                                                     : std::string("?");
                      json body = json::object();
                      body["error"] = "charger answered CancelReservation with " + answer;
                      body["reservation"] = reservation_body;
                      return respond_json(409, body);
                    }));
                  });
}

std::optional<HttpResponse> ApiHandler::reservation_read_route(std::string_view path,
                                                               const std::map<std::string, std::string>& params) {
  constexpr std::string_view kList = "/api/reservations";
  constexpr std::string_view kCharger = "/api/chargers/";
  constexpr std::string_view kTail = "/reservations";
  ReservationFilter filter;
  if (path == kList || path == "/api/reservations/") {
    if (auto it = params.find("chargerId"); it != params.end() && !it->second.empty()) filter.charger = it->second;
  } else if (path.size() > kList.size() + 1 && path.substr(0, kList.size() + 1) == "/api/reservations/") {
    if (reservation_store_ == nullptr) return respond_error(503, "reservations are not available in this process");
    const auto id = to_id(path.substr(kList.size() + 1));
    if (!id) return respond_error(400, "reservation id must be an integer");
    if (auto r = reservation_store_->find_reservation(*id)) return respond_json(200, csms::reservation_json(*r));
    return respond_error(404, "no reservation " + std::to_string(*id));
  } else if (path.size() > kCharger.size() + kTail.size() && path.substr(0, kCharger.size()) == kCharger &&
             path.substr(path.size() - kTail.size()) == kTail) {
    filter.charger = util::url_decode(path.substr(kCharger.size(), path.size() - kCharger.size() - kTail.size()));
  } else {
    return std::nullopt;
  }
  if (reservation_store_ == nullptr) return respond_error(503, "reservations are not available in this process");
  if (auto it = params.find("status"); it != params.end() && !it->second.empty()) filter.status = it->second;
  if (auto it = params.find("active"); it != params.end()) {
    if (it->second == "true") {
      filter.status = std::string(csms::kReservationActive);
    } else if (it->second != "false") {
      return respond_error(400, "active: expected true or false");
    }
  }
  if (auto it = params.find("limit"); it != params.end()) {
    const auto v = to_id(it->second);
    if (!v || *v < 1 || *v > 1000) return respond_error(400, "limit: expected 1..1000");
    filter.limit = static_cast<int>(*v);
  }
  return respond_json(200, list_json(reservation_store_->list_reservations(filter)));
}

void ApiHandler::expire_reservations() {
  if (reservation_store_ == nullptr) return;
  try {
    for (const auto& r : reservation_store_->expire_reservations(now_text())) {
      spdlog::info("api: reservation {} of {} (connector {}) expired at {}", r.id, r.charge_point_id,
                   r.connector_id, r.expiry_date);
      publish_event(csms::reservation_event("expired", r));
    }
  } catch (const std::exception& e) {
    spdlog::warn("api: reservation expiry sweep failed (next one in a second): {}", e.what());
  }
}

}  // namespace genx::api
