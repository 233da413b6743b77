// The security extension's routes of the api (docs/security.md "Charger certificates and
// security events"):
//   GET    /api/chargers/{id}/certificates          -> {chargePointId, installed, issued}
//   POST   /api/chargers/{id}/certificates          <- {certificateType, certificate}: InstallCertificate
//   POST   /api/chargers/{id}/certificates/refresh  -> GetInstalledCertificateIds for both types
//   DELETE /api/chargers/{id}/certificates/{serial} -> DeleteCertificate of a reported certificate
//   POST   /api/chargers/{id}/certificates/renew    -> ExtendedTriggerMessage SignChargePointCertificate
// (an OCPP 2.0.1 station: its InstallCertificate types, one GetInstalledCertificateIds for
// every type, TriggerMessage SignChargingStationCertificate)
//   GET    /api/security-events, /api/chargers/{id}/security-events (filters, paging)
// The answers of InstallCertificate, GetInstalledCertificateIds and DeleteCertificate keep
// the installed list whether they came through these routes or the passthrough.
// Runs on the api's one I/O thread, like the rest of ApiHandler.
#include <charconv>
#include <chrono>
#include <map>
#include <memory>

#include <spdlog/spdlog.h>

#include "api/api_server.hpp"
#include "api/command_client.hpp"
#include "api/fleet_query.hpp"
#include "csms/commands.hpp"
#include "csms/commands_v201.hpp"
#include "messages/timestamp.hpp"
#include "security/certificate_authority.hpp"
#include "security/certificate_store.hpp"
#include "util/url.hpp"

namespace genx::api {

using nlohmann::json;

namespace {

HttpResponse respond_json(int status, const json& body) { return HttpResponse{status, "application/json", body.dump()}; }
HttpResponse respond_error(int status, std::string_view message) { return respond_json(status, json{{"error", message}}); }

std::string now_text() {
  return messages::format_timestamp(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

std::optional<std::int64_t> to_int(std::string_view text) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

constexpr const char* kCertificateTypes[] = {"CentralSystemRootCertificate", "ManufacturerRootCertificate"};
// OCPP 2.0.1's GetCertificateIdUseEnumType: what GetInstalledCertificateIds without a type lists.
constexpr const char* kCertificateTypes201[] = {"V2GRootCertificate", "MORootCertificate", "CSMSRootCertificate",
                                                "V2GCertificateChain", "ManufacturerRootCertificate"};

security::InstalledCertificate installed_from(const json& h) {
  security::InstalledCertificate c;
  c.hash_algorithm = h.value("hashAlgorithm", "");
  c.issuer_name_hash = h.value("issuerNameHash", "");
  c.issuer_key_hash = h.value("issuerKeyHash", "");
  c.serial_number = h.value("serialNumber", "");
  return c;
}

template <typename Fn>
HttpResponse guarded(const char* what, Fn&& fn) {
  try {
    return fn();
  } catch (const csms::TransientStoreError& e) {
    spdlog::warn("api: {}: database unavailable: {}", what, e.what());
    return respond_error(503, std::string("database unavailable: ") + e.what());
  } catch (const std::exception& e) {
    spdlog::error("api: {} failed: {}", what, e.what());
    return respond_error(500, "internal error");
  }
}

json certificates_document(security::CertificateStore& store, const std::string& id) {
  json installed = json::array();
  for (const auto& c : store.list_installed(id)) installed.push_back(security::installed_certificate_json(c));
  json issued = json::array();
  for (const auto& c : store.list_issued(id)) issued.push_back(security::issued_certificate_json(c, false));
  return json{{"chargePointId", id}, {"installed", std::move(installed)}, {"issued", std::move(issued)}};
}

}  // namespace

void ApiHandler::record_certificate_effect(const messages::CommandRequest& request, const json& response) {
  if (certificate_store_ == nullptr || !response.is_object()) return;
  const std::string status = response.value("status", "");
  try {
    if (request.action == "GetInstalledCertificateIds" && (status == "Accepted" || status == "NotFound")) {
      // The types asked are replaced by what the charger listed. 1.6 asks one type and
      // lists its certificateHashData; 2.0.1 asks some types (every type when none) and
      // lists each certificate with its type (certificateHashDataChain).
      std::map<std::string, std::vector<security::InstalledCertificate>> by_type;
      const json asked = request.payload.value("certificateType", json());
      if (asked.is_string()) {
        auto& list = by_type[asked.get<std::string>()];
        for (const auto& h : response.value("certificateHashData", json::array())) list.push_back(installed_from(h));
      } else {
        if (asked.is_array()) {
          for (const auto& t : asked) {
            if (t.is_string()) by_type[t.get<std::string>()];
          }
        } else {
          for (const char* t : kCertificateTypes201) by_type[t];
        }
        for (const auto& chain : response.value("certificateHashDataChain", json::array())) {
          by_type[chain.value("certificateType", "")].push_back(
              installed_from(chain.value("certificateHashData", json::object())));
        }
      }
      const auto now = now_text();
      for (const auto& [type, list] : by_type) certificate_store_->replace_installed(request.device_id, type, list, now);
    } else if (request.action == "InstallCertificate" && status == "Accepted") {
      auto hash = security::certificate_hash_data(request.payload.value("certificate", ""));
      if (auto* data = std::get_if<security::CertificateHashData>(&hash)) {
        certificate_store_->add_installed({request.device_id, request.payload.value("certificateType", ""),
                                           data->hash_algorithm, data->issuer_name_hash, data->issuer_key_hash,
                                           data->serial_number, now_text()});
      }
      publish_event({"certificate.installed",
                     request.device_id,
                     {{"certificateType", request.payload.value("certificateType", "")},
                      {"serialNumber", std::holds_alternative<security::CertificateHashData>(hash)
                                           ? json(std::get<security::CertificateHashData>(hash).serial_number)
                                           : json(nullptr)},
                      {"eventId", request.device_id + "/" + request.command_id + "/certificate.installed"}}});
    } else if (request.action == "DeleteCertificate" && status == "Accepted") {
      const auto& h = request.payload.value("certificateHashData", json::object());
      certificate_store_->remove_installed(request.device_id, h.value("issuerNameHash", ""),
                                           h.value("serialNumber", ""));
      publish_event({"certificate.deleted",
                     request.device_id,
                     {{"serialNumber", h.value("serialNumber", "")},
                      {"eventId", request.device_id + "/" + request.command_id + "/certificate.deleted"}}});
    }
  } catch (const std::exception& e) {
    spdlog::error("api: {} of {} answered but the certificates were not recorded: {}", request.action,
                  request.device_id, e.what());
  }
}

bool ApiHandler::certificate_command(std::string_view method, const std::string& device_id, std::string_view tail,
                                     std::string_view body, std::function<void(HttpResponse)> respond) {
  constexpr std::string_view kTail = "certificates";
  if (tail.substr(0, kTail.size()) != kTail || (method != "POST" && method != "DELETE")) return false;
  std::string_view rest = tail.substr(kTail.size());
  if (!rest.empty() && rest[0] != '/') return false;
  if (!rest.empty()) rest.remove_prefix(1);
  const bool install = rest.empty() && method == "POST";
  const bool refresh = rest == "refresh" && method == "POST";
  const bool renew = rest == "renew" && method == "POST";
  const bool remove = !rest.empty() && rest.find('/') == std::string_view::npos && method == "DELETE";
  if (!install && !refresh && !renew && !remove) return false;
  ++requests_;
  if (commands_ == nullptr || certificate_store_ == nullptr) {
    respond(respond_error(503, "certificates are not available in this process"));
    return true;
  }
  // The charger must be known (what it reported is stored per charger).
  bool v201 = false;
  const HttpResponse refusal = guarded("certificates", [&]() -> HttpResponse {
    const auto charger = store_.charger(device_id);
    if (!charger) return respond_error(404, "no charger " + device_id);
    v201 = is_ocpp201(*charger);
    return HttpResponse{0, "", ""};
  });
  if (refusal.status != 0) {
    respond(refusal);
    return true;
  }
  // Ends a certificate command: the charger's answer (200 with its payload and the list),
  // or the passthrough's answer when it did not answer.
  auto finish = [this, device_id](CommandResult result, const std::function<void(HttpResponse)>& done) {
    auto end = conclude_command(result);
    if (!end.answered) {
      done(respond_json(end.status, end.body));
      return;
    }
    done(guarded("certificates", [&]() -> HttpResponse {
      json body = end.body.is_object() ? end.body : json::object();
      body["certificates"] = certificates_document(*certificate_store_, device_id);
      return respond_json(200, body);
    }));
  };
  if (install) {
    json payload = json::parse(body, nullptr, false);
    if (payload.is_discarded() || !payload.is_object()) {
      respond(respond_error(400, "body: expected a JSON object {certificateType, certificate}"));
      return true;
    }
    if (auto problem = csms::check_command_for(v201, "InstallCertificate", payload)) {
      respond(respond_error(400, *problem));
      return true;
    }
    const auto hash = security::certificate_hash_data(payload["certificate"].get<std::string>());
    if (const auto* problem = std::get_if<std::string>(&hash)) {
      respond(respond_error(400, "certificate: " + *problem));
      return true;
    }
    commands_->send(device_id, "InstallCertificate", std::move(payload),
                    [finish, respond = std::move(respond)](CommandResult r) { finish(std::move(r), respond); });
    return true;
  }
  if (renew) {
    // 1.6: the security extension's ExtendedTriggerMessage; 2.0.1: TriggerMessage.
    commands_->send(device_id, v201 ? "TriggerMessage" : "ExtendedTriggerMessage",
                    json{{"requestedMessage", v201 ? "SignChargingStationCertificate" : "SignChargePointCertificate"}},
                    [finish, respond = std::move(respond)](CommandResult r) { finish(std::move(r), respond); });
    return true;
  }
  if (refresh && v201) {
    // OCPP 2.0.1 lists every type in one call.
    commands_->send(device_id, "GetInstalledCertificateIds", json::object(),
                    [finish, respond = std::move(respond)](CommandResult r) { finish(std::move(r), respond); });
    return true;
  }
  if (refresh) {
    // Both types, one after the other (a charger answers one call at a time anyway). The
    // answer: {status: Accepted when either type listed something, else NotFound,
    // answers: {type: status}, certificates}.
    auto shared_respond = std::make_shared<std::function<void(HttpResponse)>>(std::move(respond));
    commands_->send(
        device_id, "GetInstalledCertificateIds", json{{"certificateType", kCertificateTypes[0]}},
        [this, device_id, shared_respond](CommandResult first) {
          auto one = conclude_command(first);
          if (!one.answered) {
            (*shared_respond)(respond_json(one.status, one.body));
            return;
          }
          const std::string first_status = one.body.value("status", "");
          commands_->send(device_id, "GetInstalledCertificateIds", json{{"certificateType", kCertificateTypes[1]}},
                          [this, device_id, first_status, shared_respond](CommandResult second) {
                            auto two = conclude_command(second);
                            if (!two.answered) {
                              (*shared_respond)(respond_json(two.status, two.body));
                              return;
                            }
                            const std::string second_status = two.body.value("status", "");
                            (*shared_respond)(guarded("certificates", [&]() -> HttpResponse {
                              json body{{"status", first_status == "Accepted" || second_status == "Accepted"
                                                       ? "Accepted"
                                                       : "NotFound"},
                                        {"answers",
                                         {{kCertificateTypes[0], first_status}, {kCertificateTypes[1], second_status}}}};
                              body["certificates"] = certificates_document(*certificate_store_, device_id);
                              return respond_json(200, body);
                            }));
                          });
        });
    return true;
  }
  // DELETE .../certificates/{serialNumber}: a certificate the charger reported.
  const std::string serial = util::url_decode(rest);
  std::optional<security::InstalledCertificate> found;
  const HttpResponse missing = guarded("certificates", [&]() -> HttpResponse {
    for (const auto& c : certificate_store_->list_installed(device_id)) {
      if (c.serial_number == serial) found = c;
    }
    if (!found) {
      return respond_error(404, "charger " + device_id + " has reported no certificate with serial number " + serial +
                                    " (POST /api/chargers/" + device_id + "/certificates/refresh asks it)");
    }
    return HttpResponse{0, "", ""};
  });
  if (missing.status != 0) {
    respond(missing);
    return true;
  }
  json payload{{"certificateHashData",
                {{"hashAlgorithm", found->hash_algorithm},
                 {"issuerNameHash", found->issuer_name_hash},
                 {"issuerKeyHash", found->issuer_key_hash},
                 {"serialNumber", found->serial_number}}}};
  commands_->send(device_id, "DeleteCertificate", std::move(payload),
                  [finish, respond = std::move(respond)](CommandResult r) { finish(std::move(r), respond); });
  return true;
}

std::optional<HttpResponse> ApiHandler::certificate_read_route(std::string_view path,
                                                               const std::map<std::string, std::string>& params) {
  constexpr std::string_view kEvents = "/api/security-events";
  constexpr std::string_view kCharger = "/api/chargers/";
  constexpr std::string_view kEventsTail = "/security-events";
  constexpr std::string_view kCertificatesTail = "/certificates";
  const auto ends_with = [&](std::string_view tail) {
    return path.size() > kCharger.size() + tail.size() && path.substr(0, kCharger.size()) == kCharger &&
           path.substr(path.size() - tail.size()) == tail &&
           path.substr(kCharger.size(), path.size() - kCharger.size() - tail.size()).find('/') == std::string_view::npos;
  };
  const auto charger_of = [&](std::string_view tail) {
    return util::url_decode(path.substr(kCharger.size(), path.size() - kCharger.size() - tail.size()));
  };
  if (ends_with(kCertificatesTail)) {
    if (certificate_store_ == nullptr) return respond_error(503, "certificates are not available in this process");
    const std::string id = charger_of(kCertificatesTail);
    if (!store_.charger(id)) return respond_error(404, "no charger " + id);
    return respond_json(200, certificates_document(*certificate_store_, id));
  }
  security::SecurityEventFilter filter;
  std::string route(kEvents);
  if (ends_with(kEventsTail)) {
    filter.charger = charger_of(kEventsTail);
    route = std::string(path);
  } else if (path != kEvents && path != "/api/security-events/") {
    return std::nullopt;
  }
  if (certificate_store_ == nullptr) return respond_error(503, "security events are not available in this process");
  if (auto it = params.find("chargePointId"); it != params.end() && !it->second.empty() && !filter.charger) {
    filter.charger = it->second;
  }
  if (auto it = params.find("type"); it != params.end() && !it->second.empty()) filter.type = it->second;
  for (const char* key : {"from", "to"}) {
    auto it = params.find(key);
    if (it == params.end() || it->second.empty()) continue;
    auto canonical = messages::normalize_timestamp(it->second);
    if (!canonical) {
      return respond_error(400, std::string(key) + ": expected an ISO 8601 time such as 2024-01-15T10:30:00Z, got \"" +
                                    it->second + "\"");
    }
    (std::string_view(key) == "from" ? filter.from : filter.to) = *canonical;
  }
  if (auto it = params.find("limit"); it != params.end()) {
    const auto v = to_int(it->second);
    if (!v || *v < 1 || *v > 1000) return respond_error(400, "limit: expected 1..1000");
    filter.limit = static_cast<int>(*v);
  }
  if (auto it = params.find("offset"); it != params.end()) {
    const auto v = to_int(it->second);
    if (!v || *v < 0) return respond_error(400, "offset: expected 0 or more");
    filter.offset = static_cast<int>(*v);
  }
  const auto page = certificate_store_->list_security_events(filter);
  json items = json::array();
  for (const auto& e : page.items) items.push_back(security::security_event_json(e));
  auto response = respond_json(200, items);
  response.headers = paging_headers(route, params, filter.limit, filter.offset, page.total);
  return response;
}

}  // namespace genx::api
