#include "csms/processor.hpp"

#include <algorithm>
#include <iterator>
#include <limits>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "csms/v201_handlers.hpp"
#include "ocpp/json_text.hpp"

namespace genx::csms {
namespace {

using nlohmann::json;

constexpr std::string_view kOcpp16 = "1.6";
constexpr std::string_view kOcpp201 = "2.0.1";

// OCPP 1.6 (and its security whitepaper) actions a charge point never sends to a CSMS.
constexpr std::string_view kCsmsToChargerActions[] = {
    "CancelReservation",      "CertificateSigned",      "ChangeAvailability",
    "ChangeConfiguration",    "ClearCache",             "ClearChargingProfile",
    "DeleteCertificate",      "ExtendedTriggerMessage", "GetCompositeSchedule",
    "GetConfiguration",       "GetDiagnostics",         "GetInstalledCertificateIds",
    "GetLocalListVersion",    "GetLog",                 "InstallCertificate",
    "RemoteStartTransaction", "RemoteStopTransaction",  "ReserveNow",
    "Reset",                  "SendLocalList",          "SetChargingProfile",
    "SignedUpdateFirmware",   "TriggerMessage",         "UnlockConnector",
    "UpdateFirmware"};

std::int64_t to_millis(std::chrono::system_clock::time_point tp) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count();
}

std::optional<std::string> optional_string(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  return it->get<std::string>();
}

json nullable(const std::optional<std::string>& value) {
  return value ? json(*value) : json(nullptr);
}

Reply error_reply(const std::string& unique_id, ocpp::ErrorCode code, std::string description) {
  ocpp::CallError error;
  error.unique_id = unique_id;
  error.code = code;
  error.description = std::move(description);
  return Reply{unique_id, std::nullopt, std::move(error)};
}

std::optional<double> to_number(const std::string& text) {
  try {
    std::size_t used = 0;
    const double value = std::stod(text, &used);
    if (used != text.size() || !std::isfinite(value)) return std::nullopt;
    return value;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// The latest power / energy / state of charge a MeterValues reports, in W, Wh and %.
struct MeterReading {
  std::optional<double> power_w;
  std::optional<double> energy_wh;
  std::optional<double> soc;
};

// One meterValue entry's reading. Per the 1.6 defaults, a sample without measurand is
// Energy.Active.Import.Register and one without unit is Wh. A total (no phase) wins over
// phases; power reported per phase only is summed over the phases.
MeterReading read_meter_value(const json& sampled_values) {
  MeterReading reading;
  double phase_power = 0;
  bool has_phase_power = false;
  for (const auto& sample : sampled_values) {
    if (optional_string(sample, "format").value_or("Raw") != "Raw") continue;
    const auto value = to_number(sample.at("value").get<std::string>());
    if (!value) continue;
    const auto measurand =
        optional_string(sample, "measurand").value_or("Energy.Active.Import.Register");
    const auto unit = optional_string(sample, "unit");
    const auto phase = optional_string(sample, "phase");
    if (measurand == "Power.Active.Import") {
      const double watts = unit == "kW" ? *value * 1000 : *value;
      if (!phase) {
        reading.power_w = watts;
      } else if (*phase != "N") {
        phase_power += watts;
        has_phase_power = true;
      }
    } else if (measurand == "Energy.Active.Import.Register") {
      if (!phase || !reading.energy_wh) reading.energy_wh = unit == "kWh" ? *value * 1000 : *value;
    } else if (measurand == "SoC") {
      reading.soc = *value;
    }
  }
  if (!reading.power_w && has_phase_power) reading.power_w = phase_power;
  return reading;
}

// The outcome's events as kept in processed_messages.events (see ProcessedMessage):
// {"events":[{"deviceId","fields","type"},...],"timestamp"}, keys in the order dump()
// writes them (ocpp/json_text.hpp), the fields not copied.
std::string stored_events(const Outcome& outcome) {
  std::string out = R"({"events":[)";
  for (std::size_t i = 0; i < outcome.events.size(); ++i) {
    const auto& e = outcome.events[i];
    if (i != 0) out += ',';
    out += R"({"deviceId":)";
    ocpp::append_json_string(out, e.device_id);
    out += R"(,"fields":)";
    ocpp::append_json(out, e.fields);
    out += R"(,"type":)";
    ocpp::append_json_string(out, e.type);
    out += '}';
  }
  out += R"(],"timestamp":)";
  ocpp::append_json_string(out, outcome.events_timestamp);
  out += '}';
  return out;
}

class Handler final : public V201Context {
 public:
  Handler(UnitOfWork& uow, const Envelope& envelope, const Policy& policy, std::int64_t now_ms,
          Outcome& outcome)
      : uow_(uow),
        envelope_(envelope),
        payload_(envelope.payload),
        policy_(policy),
        now_ms_(now_ms),
        now_(format_timestamp(now_ms)),
        outcome_(outcome) {
    received_ms_ = parse_timestamp(envelope.timestamp).value_or(now_ms);
    received_at_ = format_timestamp(received_ms_);
  }

  // The whole unit of work for one message that was not processed before.
  void run(bool payload_rejected, const std::string& rejection) {
    charger_id_ = uow_.touch_charger(envelope_.device_id, received_at_);
    uow_.append_message_log({envelope_.device_id, "in", envelope_.message_type,
                             envelope_.unique_id,
                             envelope_.raw_data.empty() ? payload_.dump() : envelope_.raw_data,
                             received_at_});
    if (payload_rejected) {
      outcome_.reply = error_reply(envelope_.unique_id,
                                   envelope_.ocpp_version == kOcpp201
                                       ? ocpp::ErrorCode::kFormatViolation
                                       : ocpp::ErrorCode::kFormationViolation,
                                   rejection);
    } else {
      outcome_.reply = dispatch();
    }
    const std::string serialized = messages::encode_stored_reply(outcome_.reply);
    uow_.append_message_log({envelope_.device_id, "out", envelope_.message_type,
                             envelope_.unique_id, serialized, now_});
    outcome_.events_timestamp = now_;
    uow_.save_processed_reply(
        {envelope_.device_id, envelope_.unique_id, envelope_.message_type},
        {serialized, outcome_.events.empty() ? std::string() : stored_events(outcome_)}, now_);
  }

 private:
  Reply dispatch() {
    const std::string& action = envelope_.message_type;
    if (envelope_.ocpp_version == kOcpp201) return dispatch_v201(*this);
    if (envelope_.ocpp_version != kOcpp16) {
      return error_reply(envelope_.unique_id, ocpp::ErrorCode::kNotImplemented,
                         "OCPP version " + envelope_.ocpp_version + " is not implemented");
    }
    if (action == "BootNotification") return ok(boot_notification());
    if (action == "Heartbeat") return ok({{"currentTime", now_}});
    if (action == "StatusNotification") return ok(status_notification());
    if (action == "Authorize") return ok({{"idTagInfo", id_tag_info(payload_.at("idTag"))}});
    if (action == "StartTransaction") return ok(start_transaction());
    if (action == "MeterValues") return ok(meter_values());
    if (action == "StopTransaction") return ok(stop_transaction());
    if (action == "DataTransfer") {
      outcome_.warnings.push_back("DataTransfer from " + envelope_.device_id + " vendorId " +
                                  optional_string(payload_, "vendorId").value_or("?") +
                                  " answered UnknownVendorId");
      return ok({{"status", "UnknownVendorId"}});
    }
    if (action == "DiagnosticsStatusNotification") {
      uow_.set_diagnostics_status(charger_id_, payload_.at("status").get<std::string>());
      diagnostics_status(false);
      return ok(json::object());
    }
    if (action == "FirmwareStatusNotification" || action == "SignedFirmwareStatusNotification") {
      firmware_status();
      return ok(json::object());
    }
    if (action == "SignCertificate") return ok(sign_certificate());
    if (action == "SecurityEventNotification") {
      security_event();
      return ok(json::object());
    }
    if (action == "LogStatusNotification") {
      diagnostics_status(true);  // moves the log request; the call is
      return ok(json::object());  // kept in the message log
    }
    const bool known = std::find(std::begin(kCsmsToChargerActions),
                                 std::end(kCsmsToChargerActions),
                                 action) != std::end(kCsmsToChargerActions);
    return error_reply(envelope_.unique_id,
                       known ? ocpp::ErrorCode::kNotSupported : ocpp::ErrorCode::kNotImplemented,
                       known ? "Action " + action + " is not supported by this CSMS"
                             : "Action " + action + " is not known");
  }

  Reply ok(json result) { return Reply{envelope_.unique_id, std::move(result), std::nullopt}; }

  // A Diagnostics/LogStatusNotification moves the request GenX made (docs/diagnostics.md).
  void diagnostics_status(bool log) {
    std::optional<std::int64_t> request_id;
    if (auto it = payload_.find("requestId"); log && it != payload_.end() && it->is_number_integer()) {
      request_id = it->get<std::int64_t>();
    }
    if (auto change = uow_.record_diagnostics_status(envelope_.device_id, log, request_id,
                                                     payload_.at("status").get<std::string>(), now_)) {
      emit("diagnostics.status.changed", diagnostics_event_fields(change->file, change->previous_status, "charger"));
    }
  }

  // A charger asks for a certificate (security whitepaper): Accepted when the CSMS-side CA
  // will sign this CSR (the worker signs it and sends CertificateSigned after this answer),
  // else Rejected with the reason logged and a certificate.rejected event (never a
  // CALLERROR, which a charger would take for a broken CSMS).
  json sign_certificate() override {
    std::optional<std::string> problem = "no certificate authority is configured (GENX_CA_CERT_FILE)";
    if (policy_.check_csr) problem = policy_.check_csr(payload_.at("csr").get<std::string>(), envelope_.device_id);
    if (!problem) return {{"status", "Accepted"}};
    outcome_.warnings.push_back("SignCertificate from " + envelope_.device_id + " answered Rejected: " + *problem);
    emit("certificate.rejected", {{"reason", *problem}});
    return {{"status", "Rejected"}};
  }

  // ---- V201Context: what the 2.0.1 rules (v201_handlers.cpp) use ----
  UnitOfWork& uow() override { return uow_; }
  const Envelope& envelope() const override { return envelope_; }
  const Policy& policy() const override { return policy_; }
  std::int64_t charger_id() const override { return charger_id_; }
  std::int64_t received_ms() const override { return received_ms_; }
  const std::string& received_at() const override { return received_at_; }
  const std::string& now() const override { return now_; }
  void warn(std::string text) override { outcome_.warnings.push_back(std::move(text)); }
  json id_tag_info(const std::string& id_tag) override { return id_tag_info(json(id_tag)); }
  void completed_event(const TransactionRecord& transaction, const TransactionStop& stop) override {
    transaction_stopped_events(transaction, stop, /*completed_only=*/true);
  }
  void use_reservation(std::int64_t reservation_id, std::int64_t transaction_id) override {
    consume_reservation(reservation_id, transaction_id);
  }
  void log_status() override { diagnostics_status(true); }
  // The charger's firmware status, and the update GenX asked for that it moves.
  void firmware_status() override {
    uow_.set_firmware_status(charger_id_, payload_.at("status").get<std::string>());
    firmware_status_notification(envelope_.message_type);
  }
  // Stored per charger by the worker (security/certificate_store.hpp); the event here.
  void security_event() override {
    json fields{{"securityEventType", payload_.at("type")},
                {"occurredAt", canonical(payload_.at("timestamp").get<std::string>())}};
    fields["techInfo"] = payload_.contains("techInfo") ? payload_["techInfo"] : json(nullptr);
    fields["source"] = "charger";
    emit("security.event", std::move(fields));
  }
  void stopped_events(const TransactionRecord& transaction, const TransactionStop& stop) override {
    transaction_stopped_events(transaction, stop);
  }

  void emit(std::string type, json fields) override {
    fields["chargerId"] = charger_id_;
    // Deterministic from the charger message: a redelivery re-emits the same ids.
    std::string event_id = envelope_.device_id + "/" + envelope_.unique_id + "/" +
                           envelope_.message_type + "/" + type;
    const auto same_type = std::count_if(outcome_.events.begin(), outcome_.events.end(),
                                         [&](const DomainEvent& e) { return e.type == type; });
    if (same_type > 0) event_id += "#" + std::to_string(same_type + 1);
    fields["eventId"] = event_id;
    outcome_.events.push_back(DomainEvent{std::move(type), envelope_.device_id, std::move(fields)});
  }

  // A charger timestamp in canonical form; falls back to the text as sent.
  static std::string canonical(const std::string& text) {
    return normalize_timestamp(text).value_or(text);
  }

  json boot_notification() {
    const auto record = uow_.find_charger(envelope_.device_id);
    const bool known =
        record && (record->pre_registered || record->registration_status == "Accepted");
    std::string status = "Accepted";
    if (!known) {
      switch (policy_.unknown_charger) {
        case UnknownChargerPolicy::kAccept: status = "Accepted"; break;
        case UnknownChargerPolicy::kPending: status = "Pending"; break;
        case UnknownChargerPolicy::kReject: status = "Rejected"; break;
      }
    }
    ChargerBoot boot;
    boot.charge_point_id = envelope_.device_id;
    boot.vendor = payload_.at("chargePointVendor").get<std::string>();
    boot.model = payload_.at("chargePointModel").get<std::string>();
    boot.serial_number = optional_string(payload_, "chargePointSerialNumber");
    boot.charge_box_serial_number = optional_string(payload_, "chargeBoxSerialNumber");
    boot.firmware_version = optional_string(payload_, "firmwareVersion");
    boot.iccid = optional_string(payload_, "iccid");
    boot.imsi = optional_string(payload_, "imsi");
    boot.meter_type = optional_string(payload_, "meterType");
    boot.meter_serial_number = optional_string(payload_, "meterSerialNumber");
    boot.registration_status = status;
    boot.boot_at = received_at_;
    uow_.upsert_charger_boot(boot);
    firmware_boot(boot.firmware_version);
    if (status == "Rejected") {
      emit("error.occurred", {{"code", "BootRejected"},
                              {"message", "BootNotification from unknown charger " +
                                              envelope_.device_id + " rejected by policy"},
                              {"chargePointVendor", boot.vendor},
                              {"chargePointModel", boot.model}});
    }
    const int interval =
        status == "Accepted" ? policy_.heartbeat_interval_seconds : policy_.pending_retry_seconds;
    return {{"status", status}, {"currentTime", now_}, {"interval", interval}};
  }

  // Firmware management (docs/firmware.md): the status in the charger's
  // history and, when it is about a campaign's request, the campaign's progress.
  void firmware_status_notification(const std::string& action) {
    FirmwareUnit* firmware = uow_.firmware();
    if (firmware == nullptr) return;
    const std::string status = payload_.at("status").get<std::string>();
    std::optional<std::int64_t> request_id;
    if (const auto it = payload_.find("requestId"); it != payload_.end() && it->is_number_integer()) {
      request_id = it->get<std::int64_t>();
    }
    const auto recorded = firmware->record_firmware_status(envelope_.device_id, action, status, request_id, received_at_);
    if (recorded.applied) {
      emit("firmware.status.changed", {{"status", status},
                                       {"previousStatus", nullable(recorded.previous_status)},
                                       {"statusAt", received_at_},
                                       {"requestId", request_id ? json(*request_id) : json(nullptr)},
                                       {"campaignId", recorded.campaign_id ? json(*recorded.campaign_id) : json(nullptr)},
                                       {"firmwareVersion", nullptr}});
    }
    if (recorded.campaign_id && recorded.target_status) {
      auto event = firmware_campaign_event(recorded.campaign, envelope_.device_id, *recorded.target_status);
      event.fields.erase("eventId");
      emit(event.type, event.fields);
    }
  }

  // The firmwareVersion of the first boot after an install is the version it installed.
  void firmware_boot(const std::optional<std::string>& version) override {
    FirmwareUnit* firmware = uow_.firmware();
    if (firmware == nullptr) return;
    const auto recorded = firmware->record_firmware_boot(envelope_.device_id, version.value_or(""), received_at_);
    if (!recorded) return;
    emit("firmware.status.changed", {{"status", recorded->status},
                                     {"previousStatus", recorded->status},
                                     {"statusAt", received_at_},
                                     {"requestId", nullptr},
                                     {"campaignId", recorded->campaign_id ? json(*recorded->campaign_id) : json(nullptr)},
                                     {"firmwareVersion", recorded->firmware_version}});
    if (recorded->campaign_id) {
      auto event = firmware_campaign_event(recorded->campaign, envelope_.device_id, recorded->target_status);
      event.fields.erase("eventId");
      event.fields["firmwareVersion"] = recorded->firmware_version;
      emit(event.type, event.fields);
    }
  }

  json status_notification() {
    ConnectorStatus next;
    next.connector_id = payload_.at("connectorId").get<int>();
    next.status = payload_.at("status").get<std::string>();
    next.error_code = payload_.at("errorCode").get<std::string>();
    next.info = optional_string(payload_, "info");
    next.vendor_error_code = optional_string(payload_, "vendorErrorCode");
    // The charger's time orders its status reports, but never later than when the gateway
    // received the report: a charger whose clock runs ahead must not block the statuses it
    // sends after its clock is corrected.
    std::int64_t at_ms = received_ms_;
    if (const auto sent = optional_string(payload_, "timestamp")) {
      at_ms = std::min(parse_timestamp(*sent).value_or(received_ms_), received_ms_);
    }
    next.updated_at = format_timestamp(at_ms);

    const auto current = uow_.find_connector_status(charger_id_, next.connector_id);
    if (current && current->updated_at == next.updated_at && current->status == next.status &&
        current->error_code == next.error_code && current->info == next.info &&
        current->vendor_error_code == next.vendor_error_code) {
      // The report already stored (a resend under a new message id): no second history
      // row, no second event.
      outcome_.warnings.push_back("StatusNotification " + envelope_.unique_id + " from " +
                                  envelope_.device_id + " connector " +
                                  std::to_string(next.connector_id) + " repeats the stored " +
                                  next.status + " at " + next.updated_at + "; not stored again");
      return json::object();
    }
    uow_.append_status_history(charger_id_, next);
    if (current) {
      const auto current_ms = parse_timestamp(current->updated_at);
      if (current_ms && *current_ms > at_ms) {
        outcome_.warnings.push_back("StatusNotification " + envelope_.unique_id + " from " +
                                    envelope_.device_id + " connector " +
                                    std::to_string(next.connector_id) + " at " + next.updated_at +
                                    " is older than the stored state at " + current->updated_at +
                                    "; kept the newer state");
        return json::object();
      }
    }
    const auto previous = uow_.upsert_connector_status(charger_id_, next);
    emit("charger.status.changed",
         {{"connectorId", next.connector_id},
          {"previousStatus", previous ? json(previous->status) : json(nullptr)},
          {"status", next.status},
          {"errorCode", next.error_code},
          {"info", nullable(next.info)},
          {"vendorErrorCode", nullable(next.vendor_error_code)},
          {"statusAt", next.updated_at},
          {"previousStatusAt", previous ? json(previous->updated_at) : json(nullptr)},
          {"timestamp", next.updated_at}});
    if (next.status == "Faulted") {
      emit("error.occurred", {{"code", "ConnectorFaulted"},
                              {"message", "Connector " + std::to_string(next.connector_id) +
                                              " of " + envelope_.device_id + " is Faulted (" +
                                              next.error_code + ")"},
                              {"connectorId", next.connector_id},
                              {"errorCode", next.error_code},
                              {"info", nullable(next.info)},
                              {"vendorErrorCode", nullable(next.vendor_error_code)},
                              {"timestamp", next.updated_at}});
    }
    return json::object();
  }

  // idTagInfo for an id tag: the stored status, "Expired" past the expiry date, and the
  // unknown-tag policy for tags nobody provisioned.
  json id_tag_info(const json& id_tag) {
    const auto tag = uow_.find_id_tag(id_tag.get<std::string>());
    if (!tag) {
      return {{"status", policy_.unknown_tag == UnknownTagPolicy::kAccept ? "Accepted" : "Invalid"}};
    }
    json info = {{"status", tag->status}};
    if (tag->expiry_date) {
      if (const auto expiry_ms = parse_timestamp(*tag->expiry_date)) {
        info["expiryDate"] = format_timestamp(*expiry_ms);
        if (*expiry_ms < now_ms_ && tag->status == "Accepted") info["status"] = "Expired";
      }
    }
    if (tag->parent_id_tag) info["parentIdTag"] = *tag->parent_id_tag;
    return info;
  }

  static std::int64_t duration_seconds_of(const TransactionRecord& transaction,
                                          const TransactionStop& stop) {
    const auto started_ms = parse_timestamp(transaction.started_at);
    const auto stopped_ms = parse_timestamp(stop.stopped_at);
    return started_ms && stopped_ms ? std::max<std::int64_t>(0, (*stopped_ms - *started_ms) / 1000)
                                    : 0;
  }

  // Billing at the stop: energy from the register series (meter resets handled) and the
  // cost by the charger's tariff (csms/tariff.hpp). Call after the stop's samples are stored.
  void bill(const TransactionRecord& transaction, TransactionStop& stop) override {
    const auto readings = uow_.transaction_register_readings(transaction.id);
    stop.energy_wh = session_energy_wh(transaction.meter_start, readings, stop.meter_stop);
    Tariff tariff = policy_.tariff;
    if (const auto own = uow_.find_tariff(envelope_.device_id)) {
      tariff.energy_per_kwh_micro = own->energy_per_kwh_micro;
      tariff.time_per_minute_micro = own->time_per_minute_micro;
      tariff.session_fee_micro = own->session_fee_micro;
    }
    stop.cost_minor =
        session_cost_minor(tariff, *stop.energy_wh, duration_seconds_of(transaction, stop));
    stop.currency = tariff.currency;
  }

  void transaction_stopped_events(const TransactionRecord& transaction, const TransactionStop& stop,
                                  bool completed_only = false) {
    const std::int64_t register_delta = stop.meter_stop - transaction.meter_start;
    const std::int64_t energy_wh = stop.energy_wh.value_or(register_delta);
    const std::int64_t duration_seconds = duration_seconds_of(transaction, stop);
    const std::string id_tag = stop.id_tag.value_or(transaction.id_tag);
    if (register_delta < 0) {
      outcome_.warnings.push_back("transaction " + std::to_string(transaction.id) +
                                  " has meterStop below meterStart (" +
                                  std::to_string(register_delta) + " Wh): meter reset, billed " +
                                  std::to_string(energy_wh) + " Wh");
    }
    if (!completed_only) {
      emit("charging.stopped", {{"transactionId", transaction.id},
                                {"connectorId", transaction.connector_id},
                                {"idTag", id_tag},
                                {"meterStop", stop.meter_stop},
                                {"timestamp", stop.stopped_at},
                                {"reason", stop.reason}});
    }
    emit("transaction.completed", {{"transactionId", transaction.id},
                                   {"connectorId", transaction.connector_id},
                                   {"idTag", id_tag},
                                   {"energyWh", energy_wh},
                                   {"durationSeconds", duration_seconds},
                                   {"stopReason", stop.reason},
                                   {"meterStart", transaction.meter_start},
                                   {"meterStop", stop.meter_stop},
                                   {"startedAt", transaction.started_at},
                                   {"stoppedAt", stop.stopped_at},
                                   {"costMinor", stop.cost_minor.value_or(0)},
                                   {"currency", stop.currency.value_or(policy_.tariff.currency)}});
  }

  json start_transaction() {
    NewTransaction transaction;
    transaction.charger_id = charger_id_;
    transaction.connector_id = payload_.at("connectorId").get<int>();
    transaction.id_tag = payload_.at("idTag").get<std::string>();
    transaction.meter_start = payload_.at("meterStart").get<std::int64_t>();
    transaction.started_at = canonical(payload_.at("timestamp").get<std::string>());
    if (const auto it = payload_.find("reservationId"); it != payload_.end()) {
      transaction.reservation_id = it->get<std::int64_t>();
    }

    // A resent StartTransaction (same content under a new message id: the charger was
    // answered an error or nothing for an attempt that was applied nevertheless) gets the
    // transaction its first attempt created, with the idTagInfo answered then. Nothing is
    // created, closed or announced again.
    if (const auto existing = uow_.find_transaction_by_start(
            {charger_id_, transaction.connector_id, transaction.id_tag, transaction.meter_start,
             transaction.started_at})) {
      outcome_.warnings.push_back(
          "StartTransaction " + envelope_.unique_id + " from " + envelope_.device_id +
          " repeats the start of transaction " + std::to_string(existing->id) +
          " (connector " + std::to_string(transaction.connector_id) + ", meterStart " +
          std::to_string(transaction.meter_start) + ", " + transaction.started_at +
          "); answered its id, nothing created");
      return {{"transactionId", existing->id}, {"idTagInfo", answered_id_tag_info(*existing)}};
    }

    const json info = id_tag_info(payload_.at("idTag"));
    transaction.id_tag_status = info.at("status").get<std::string>();
    transaction.id_tag_info = info.dump();

    // A charger that starts a new transaction on a connector has ended the previous one,
    // even if its StopTransaction never arrived: close it so it does not stay open forever.
    if (const auto open = uow_.find_active_transaction(charger_id_, transaction.connector_id)) {
      TransactionStop stop;
      stop.meter_stop = std::max(open->meter_start, transaction.meter_start);
      stop.stopped_at = transaction.started_at;
      stop.reason = "Other";
      bill(*open, stop);
      uow_.stop_transaction(open->id, stop);
      outcome_.warnings.push_back(
          "StartTransaction on connector " + std::to_string(transaction.connector_id) + " of " +
          envelope_.device_id + " while transaction " + std::to_string(open->id) +
          " was still open; closed it with reason Other and meterStop " +
          std::to_string(stop.meter_stop));
      transaction_stopped_events(*open, stop);
    }

    const std::int64_t id = uow_.create_transaction(transaction);
    emit("charging.started", {{"transactionId", id},
                              {"connectorId", transaction.connector_id},
                              {"idTag", transaction.id_tag},
                              {"idTagStatus", transaction.id_tag_status},
                              {"meterStart", transaction.meter_start},
                              {"timestamp", transaction.started_at}});
    if (transaction.reservation_id) consume_reservation(*transaction.reservation_id, id);
    return {{"transactionId", id}, {"idTagInfo", info}};
  }

  // A StartTransaction carrying a reservationId ends that reservation (docs/reservations.md).
  void consume_reservation(std::int64_t reservation_id, std::int64_t transaction_id) {
    const auto used = uow_.use_reservation(reservation_id, charger_id_, transaction_id, received_at_);
    if (!used) {
      outcome_.warnings.push_back(envelope_.message_type + " " + envelope_.unique_id + " from " + envelope_.device_id +
                                  " names reservation " + std::to_string(reservation_id) +
                                  ", which is not an open reservation of this charger; transaction " +
                                  std::to_string(transaction_id) + " keeps the id, nothing consumed");
      return;
    }
    auto event = reservation_event("used", *used);
    emit(event.type, std::move(event.fields));
  }

  // The idTagInfo a transaction's start was answered with (only its status for a
  // transaction stored before it was kept whole).
  static json answered_id_tag_info(const TransactionRecord& transaction) {
    if (transaction.id_tag_info) {
      try {
        auto info = json::parse(*transaction.id_tag_info);
        if (info.is_object() && info.contains("status")) return info;
      } catch (const json::exception&) {
        // fall through to the status column
      }
    }
    return {{"status", transaction.id_tag_status}};
  }

  // Turns meterValue entries into rows; returns the latest reading found in them.
  // `stored` is set to how many samples were new (a resent message's are already stored).
  MeterReading store_meter_values(const json& meter_values, std::optional<std::int64_t> transaction_id,
                                  int connector_id, std::string& latest_timestamp,
                                  std::size_t* stored = nullptr) {
    std::vector<MeterSample> samples;
    MeterReading latest;
    std::int64_t latest_ms = std::numeric_limits<std::int64_t>::min();
    for (const auto& meter_value : meter_values) {
      const std::string timestamp = canonical(meter_value.at("timestamp").get<std::string>());
      const json& sampled = meter_value.at("sampledValue");
      for (const auto& sampled_value : sampled) {
        MeterSample sample;
        sample.charger_id = charger_id_;
        sample.transaction_id = transaction_id;
        sample.connector_id = connector_id;
        sample.timestamp = timestamp;
        sample.value = sampled_value.at("value").get<std::string>();
        sample.context = optional_string(sampled_value, "context");
        sample.format = optional_string(sampled_value, "format");
        sample.measurand = optional_string(sampled_value, "measurand");
        sample.phase = optional_string(sampled_value, "phase");
        sample.location = optional_string(sampled_value, "location");
        sample.unit = optional_string(sampled_value, "unit");
        samples.push_back(std::move(sample));
      }
      const auto at_ms = parse_timestamp(timestamp).value_or(received_ms_);
      if (at_ms >= latest_ms) {
        const MeterReading reading = read_meter_value(sampled);
        if (reading.power_w) latest.power_w = reading.power_w;
        if (reading.energy_wh) latest.energy_wh = reading.energy_wh;
        if (reading.soc) latest.soc = reading.soc;
        latest_ms = at_ms;
        latest_timestamp = timestamp;
      }
    }
    const std::size_t inserted = samples.empty() ? 0 : uow_.insert_meter_samples(samples);
    if (inserted < samples.size()) {
      outcome_.warnings.push_back(std::to_string(samples.size() - inserted) + " of " +
                                  std::to_string(samples.size()) + " meter samples in " +
                                  envelope_.message_type + " " + envelope_.unique_id + " from " +
                                  envelope_.device_id + " were already stored; not stored again");
    }
    if (stored) *stored = inserted;
    return latest;
  }

  json meter_values() {
    const int connector_id = payload_.at("connectorId").get<int>();
    std::optional<std::int64_t> transaction_id;
    if (const auto it = payload_.find("transactionId"); it != payload_.end()) {
      const auto id = it->get<std::int64_t>();
      const auto transaction = uow_.find_transaction(id);
      if (transaction && transaction->charger_id == charger_id_) {
        transaction_id = id;
      } else {
        outcome_.warnings.push_back("MeterValues from " + envelope_.device_id +
                                    " name unknown transaction " + std::to_string(id) +
                                    "; stored without transaction");
      }
    }
    std::string timestamp;
    std::size_t stored = 0;
    const MeterReading reading = store_meter_values(payload_.at("meterValue"), transaction_id,
                                                    connector_id, timestamp, &stored);
    // A resent MeterValues whose every sample is already stored was announced the first time.
    if (stored == 0) return json::object();
    json fields = {{"connectorId", connector_id},
                   {"transactionId", transaction_id ? json(*transaction_id) : json(nullptr)},
                   {"sampledAt", timestamp},
                   {"timestamp", timestamp}};
    if (reading.power_w) fields["powerW"] = *reading.power_w;
    if (reading.energy_wh) fields["energyWh"] = *reading.energy_wh;
    if (reading.soc) fields["soc"] = *reading.soc;
    emit("meter.values", std::move(fields));
    return json::object();
  }

  json stop_transaction() {
    const auto transaction_id = payload_.at("transactionId").get<std::int64_t>();
    TransactionStop stop;
    stop.meter_stop = payload_.at("meterStop").get<std::int64_t>();
    stop.stopped_at = canonical(payload_.at("timestamp").get<std::string>());
    stop.reason = optional_string(payload_, "reason").value_or("Local");
    stop.id_tag = optional_string(payload_, "idTag");
    const auto data = payload_.find("transactionData");

    const auto transaction = uow_.find_transaction(transaction_id);
    if (!transaction || transaction->charger_id != charger_id_) {
      outcome_.warnings.push_back("StopTransaction from " + envelope_.device_id +
                                  " for unknown transaction " + std::to_string(transaction_id) +
                                  "; nothing stopped");
      if (data != payload_.end()) {
        std::string ignored;
        store_meter_values(*data, std::nullopt, 0, ignored);
      }
      return json::object();
    }

    json result = json::object();
    if (stop.id_tag) result["idTagInfo"] = id_tag_info(json(*stop.id_tag));
    if (!transaction->active()) {
      // A resent stop (or one after the transaction was closed otherwise): the same answer,
      // and the first stop's meterStop, time and reason stay.
      const bool same = transaction->meter_stop == stop.meter_stop &&
                        transaction->stopped_at == stop.stopped_at;
      outcome_.warnings.push_back(
          "StopTransaction " + envelope_.unique_id + " from " + envelope_.device_id +
          " for transaction " + std::to_string(transaction_id) + " which was already stopped at " +
          transaction->stopped_at.value_or("?") +
          (same ? std::string("; a resent stop, left unchanged")
                : "; conflict: this stop says meterStop " + std::to_string(stop.meter_stop) +
                      " at " + stop.stopped_at + ", kept meterStop " +
                      (transaction->meter_stop ? std::to_string(*transaction->meter_stop)
                                               : std::string("?")) +
                      " and reason " + transaction->stop_reason.value_or("?")));
      return result;
    }
    if (data != payload_.end()) {
      std::string ignored;
      store_meter_values(*data, transaction_id, transaction->connector_id, ignored);
    }
    bill(*transaction, stop);
    uow_.stop_transaction(transaction_id, stop);
    transaction_stopped_events(*transaction, stop);
    return result;
  }

  UnitOfWork& uow_;
  const Envelope& envelope_;
  const json& payload_;
  const Policy& policy_;
  std::int64_t now_ms_;
  std::string now_;
  std::int64_t received_ms_ = 0;
  std::string received_at_;
  Outcome& outcome_;
  std::int64_t charger_id_ = 0;
};

// Reads what stored_events() wrote back into outcome.events and events_timestamp.
void restore_events(const std::string& stored, Outcome& outcome) {
  const auto j = json::parse(stored);
  outcome.events_timestamp = j.at("timestamp").get<std::string>();
  for (const auto& e : j.at("events")) {
    outcome.events.push_back(
        DomainEvent{e.at("type").get<std::string>(), e.at("deviceId").get<std::string>(),
                    e.at("fields")});
  }
}

// True (and fills outcome) when the message was processed before. Its stored events come
// back too, with their ids and timestamp: a redelivery after a crash between the commit
// and the publishes must still publish them (consumers dedupe by eventId).
bool answer_duplicate(UnitOfWork& uow, const Envelope& envelope, Outcome& outcome) {
  const auto stored =
      uow.find_processed_reply({envelope.device_id, envelope.unique_id, envelope.message_type});
  if (!stored) return false;
  auto parsed = messages::decode_stored_reply(stored->reply);
  if (auto* reply = std::get_if<Reply>(&parsed)) {
    outcome.reply = std::move(*reply);
    outcome.duplicate = true;
    if (!stored->events.empty()) {
      try {
        restore_events(stored->events, outcome);
      } catch (const json::exception& e) {
        // The reply still answers the charger; the events cannot be rebuilt.
        outcome.events.clear();
        outcome.warnings.push_back("stored events of " + envelope.device_id + "/" +
                                   envelope.unique_id + " are unreadable: " + e.what());
      }
    }
    return true;
  }
  throw std::runtime_error("stored reply for " + envelope.device_id + "/" + envelope.unique_id +
                           " is unreadable: " + std::get<std::string>(parsed));
}

}  // namespace

MessageProcessor::MessageProcessor(WriteStore& store, const Clock& clock, Policy policy)
    : store_(store), clock_(clock), policy_(policy) {}

Outcome MessageProcessor::process(const Envelope& envelope) {
  const std::int64_t now_ms = to_millis(clock_.now());
  Outcome outcome;
  std::string rejection;
  try {
    store_.in_transaction([&](UnitOfWork& uow) {
      outcome = Outcome{};
      if (answer_duplicate(uow, envelope, outcome)) return;
      Handler(uow, envelope, policy_, now_ms, outcome).run(false, {});
    });
    return outcome;
  } catch (const nlohmann::json::exception& e) {
    // The payload does not have the shape of its action (the gateway validates, so this
    // is a replayed or hand-made message). Everything above rolled back; record the error.
    rejection = "payload of " + envelope.message_type + " does not fit OCPP " + envelope.ocpp_version +
                ": " + e.what();
  }
  store_.in_transaction([&](UnitOfWork& uow) {
    outcome = Outcome{};
    if (answer_duplicate(uow, envelope, outcome)) return;
    Handler(uow, envelope, policy_, now_ms, outcome).run(true, rejection);
  });
  outcome.warnings.push_back(rejection);
  return outcome;
}

}  // namespace genx::csms
