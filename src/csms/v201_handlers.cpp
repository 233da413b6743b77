// OCPP 2.0.1 station-to-CSMS rules (v201_handlers.hpp). How 2.0.1 maps onto the one data
// model (docs/ocpp201.md):
//   - chargingStation.vendorName / model are the charger's vendor / model; the charger's
//     ocpp_version becomes "2.0.1" at its boot.
//   - An EVSE is an api connector: StatusNotification(evseId, connectorId) sets connector
//     evseId (the status of the EVSE's connector that reported last).
//   - A transaction is one transactions row (its numeric id is the api's id) keeping the
//     station's transactionId. TransactionEvents are recorded once per (charger,
//     transactionId, seqNo): a resend changes nothing. Whatever event of a transaction
//     arrives first creates it (offline or out of order); each later event refines it:
//     the start is the earliest event's time, meterStart the earliest energy register
//     reading, the EVSE and id token the first ones seen. Ended stops and bills it as a
//     1.6 StopTransaction does (energy from the register series, the charger's tariff);
//     an event that arrives after Ended and brings something new re-bills it and announces
//     the new figures (transaction.completed again). A transaction whose EVSE no event has
//     named yet waits with connector 0 and announces charging.started when one does (an
//     Ended without any puts it on EVSE 1). A reservationId in the start uses the
//     reservation, as a 1.6 StartTransaction does.
//   - idToken.idToken is looked up as a 1.6 idTag (id_tags); IdTokenInfo is the 1.6
//     idTagInfo in 2.0.1 form (expiryDate -> cacheExpiryDateTime, parentIdTag ->
//     groupIdToken).
#include "csms/v201_handlers.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "csms/processor.hpp"
#include "csms/v201_smart.hpp"

namespace genx::csms {
namespace {

using nlohmann::json;

std::optional<std::string> optional_string(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  return it->get<std::string>();
}

std::string canonical(const std::string& text) { return normalize_timestamp(text).value_or(text); }

Reply ok(const Envelope& envelope, json result) {
  return Reply{envelope.unique_id, std::move(result), std::nullopt};
}

// 2.0.1 sampledValue.value is a number, scaled by unitOfMeasure.multiplier (10^n).
std::string sample_value_text(const json& sampled_value, int multiplier) {
  const json& value = sampled_value.at("value");
  if (multiplier == 0 && value.is_number_integer()) return value.dump();
  const double scaled = value.get<double>() * std::pow(10.0, multiplier);
  if (std::isfinite(scaled) && std::floor(scaled) == scaled && std::fabs(scaled) < 9e15) {
    return std::to_string(static_cast<std::int64_t>(scaled));
  }
  return json(scaled).dump();
}

class V201 {
 public:
  explicit V201(V201Context& c) : c_(c), uow_(c.uow()), envelope_(c.envelope()), p_(envelope_.payload) {}

  Reply dispatch() {
    const std::string& action = envelope_.message_type;
    if (action == "BootNotification") return ok(envelope_, boot_notification());
    if (action == "Heartbeat") return ok(envelope_, {{"currentTime", c_.now()}});
    if (action == "StatusNotification") return ok(envelope_, status_notification());
    if (action == "Authorize") {
      return ok(envelope_, {{"idTokenInfo", id_token_info(p_.at("idToken"))}});
    }
    if (action == "TransactionEvent") return ok(envelope_, transaction_event());
    if (action == "MeterValues") {
      const int evse = p_.at("evseId").get<int>();
      store_samples(p_.at("meterValue"), std::nullopt, evse);
      return ok(envelope_, json::object());
    }
    if (action == "NotifyReport") return ok(envelope_, notify_report());
    if (action == "FirmwareStatusNotification") {
      // The 1.6 signed status words and a requestId: moves the update GenX asked for
      // (a campaign target), as for 1.6 (docs/firmware.md).
      c_.firmware_status();
      return ok(envelope_, json::object());
    }
    if (action == "LogStatusNotification") {
      c_.log_status();  // moves the GetLog request (docs/diagnostics.md)
      return ok(envelope_, json::object());
    }
    if (action == "SecurityEventNotification") {
      c_.security_event();  // stored per charger by the worker, as for 1.6
      return ok(envelope_, json::object());
    }
    // Reports with nothing for GenX to decide: answered and kept in the message log.
    if (action == "NotifyEvent" || action == "NotifyDisplayMessages" || action == "NotifyCustomerInformation" ||
        action == "NotifyMonitoringReport" || action == "PublishFirmwareStatusNotification") {
      return ok(envelope_, json::object());
    }
    if (action == "SignCertificate") {
      // GenX's CA signs charging station certificates; a V2G (ISO 15118) certificate
      // belongs to the V2G PKI, which GenX does not run.
      if (optional_string(p_, "certificateType").value_or("ChargingStationCertificate") == "V2GCertificate") {
        c_.warn("SignCertificate from " + envelope_.device_id +
                " answered Rejected: V2GCertificate is signed by the V2G PKI, not by GenX's CA");
        c_.emit("certificate.rejected", {{"reason", "V2GCertificate is signed by the V2G PKI, not by GenX's CA"}});
        return ok(envelope_, {{"status", "Rejected"}});
      }
      return ok(envelope_, c_.sign_certificate());
    }
    if (action == "ReservationStatusUpdate") {
      // The reservation ends at its expiry (the api's sweep) or by CancelReservation, as
      // for 1.6; the station's word is kept in the message log.
      c_.warn("ReservationStatusUpdate from " + envelope_.device_id + ": reservation " +
              p_.at("reservationId").dump() + " " + p_.at("reservationUpdateStatus").get<std::string>());
      return ok(envelope_, json::object());
    }
    if (action == "NotifyChargingLimit" || action == "ReportChargingProfiles" || action == "ClearedChargingLimit") {
      return ok(envelope_, record_charging_report_v201(uow_, envelope_.device_id, action, p_, c_.received_at()));
    }
    if (action == "DataTransfer") {
      c_.warn("DataTransfer from " + envelope_.device_id + " vendorId " +
              optional_string(p_, "vendorId").value_or("?") + " answered UnknownVendorId");
      return ok(envelope_, {{"status", "UnknownVendorId"}});
    }
    ocpp::CallError error;
    error.unique_id = envelope_.unique_id;
    error.code = ocpp::ErrorCode::kNotSupported;
    error.description = "Action " + action + " is not supported by this CSMS for OCPP 2.0.1";
    return Reply{envelope_.unique_id, std::nullopt, std::move(error)};
  }

 private:
  json boot_notification() {
    const auto record = uow_.find_charger(envelope_.device_id);
    const bool known = record && (record->pre_registered || record->registration_status == "Accepted");
    std::string status = "Accepted";
    if (!known) {
      switch (c_.policy().unknown_charger) {
        case UnknownChargerPolicy::kAccept: status = "Accepted"; break;
        case UnknownChargerPolicy::kPending: status = "Pending"; break;
        case UnknownChargerPolicy::kReject: status = "Rejected"; break;
      }
    }
    const json& station = p_.at("chargingStation");
    ChargerBoot boot;
    boot.charge_point_id = envelope_.device_id;
    boot.vendor = station.at("vendorName").get<std::string>();
    boot.model = station.at("model").get<std::string>();
    boot.serial_number = optional_string(station, "serialNumber");
    boot.firmware_version = optional_string(station, "firmwareVersion");
    if (const auto modem = station.find("modem"); modem != station.end()) {
      boot.iccid = optional_string(*modem, "iccid");
      boot.imsi = optional_string(*modem, "imsi");
    }
    boot.registration_status = status;
    boot.boot_at = c_.received_at();
    const auto id = uow_.upsert_charger_boot(boot);
    uow_.set_charger_ocpp_version(id, "2.0.1");
    c_.firmware_boot(boot.firmware_version);  // the version an update installed
    if (status == "Rejected") {
      c_.emit("error.occurred", {{"code", "BootRejected"},
                                 {"message", "BootNotification from unknown charger " +
                                                 envelope_.device_id + " rejected by policy"},
                                 {"chargePointVendor", boot.vendor},
                                 {"chargePointModel", boot.model}});
    }
    const int interval = status == "Accepted" ? c_.policy().heartbeat_interval_seconds
                                              : c_.policy().pending_retry_seconds;
    return {{"status", status}, {"currentTime", c_.now()}, {"interval", interval}};
  }

  json status_notification() {
    ConnectorStatus next;
    next.connector_id = p_.at("evseId").get<int>();
    next.status = p_.at("connectorStatus").get<std::string>();
    next.error_code = next.status == "Faulted" ? "OtherError" : "NoError";
    next.info = "connector " + std::to_string(p_.at("connectorId").get<int>());
    const auto sent = parse_timestamp(p_.at("timestamp").get<std::string>());
    const std::int64_t at_ms = std::min(sent.value_or(c_.received_ms()), c_.received_ms());
    next.updated_at = format_timestamp(at_ms);
    const auto current = uow_.find_connector_status(c_.charger_id(), next.connector_id);
    if (current && current->updated_at == next.updated_at && current->status == next.status &&
        current->info == next.info) {
      c_.warn("StatusNotification " + envelope_.unique_id + " from " + envelope_.device_id +
              " repeats the stored state; not stored again");
      return json::object();
    }
    uow_.append_status_history(c_.charger_id(), next);
    if (current) {
      const auto current_ms = parse_timestamp(current->updated_at);
      if (current_ms && *current_ms > at_ms) {
        c_.warn("StatusNotification " + envelope_.unique_id + " from " + envelope_.device_id +
                " is older than the stored state; kept the newer state");
        return json::object();
      }
    }
    const auto previous = uow_.upsert_connector_status(c_.charger_id(), next);
    c_.emit("charger.status.changed",
            {{"connectorId", next.connector_id},
             {"previousStatus", previous ? json(previous->status) : json(nullptr)},
             {"status", next.status},
             {"errorCode", next.error_code},
             {"info", *next.info},
             {"vendorErrorCode", nullptr},
             {"statusAt", next.updated_at},
             {"previousStatusAt", previous ? json(previous->updated_at) : json(nullptr)},
             {"timestamp", next.updated_at}});
    if (next.status == "Faulted") {
      c_.emit("error.occurred", {{"code", "ConnectorFaulted"},
                                 {"message", "EVSE " + std::to_string(next.connector_id) + " of " +
                                                 envelope_.device_id + " is Faulted"},
                                 {"connectorId", next.connector_id},
                                 {"errorCode", next.error_code},
                                 {"info", *next.info},
                                 {"vendorErrorCode", nullptr},
                                 {"timestamp", next.updated_at}});
    }
    return json::object();
  }

  // IdTokenInfo for an IdToken: the 1.6 idTagInfo of idToken.idToken in 2.0.1 form.
  json id_token_info(const json& id_token) {
    if (id_token.at("type").get<std::string>() == "NoAuthorization") return {{"status", "Accepted"}};
    const json info = c_.id_tag_info(id_token.at("idToken").get<std::string>());
    json out = {{"status", info.at("status")}};
    if (info.contains("expiryDate")) out["cacheExpiryDateTime"] = info.at("expiryDate");
    if (info.contains("parentIdTag")) {
      out["groupIdToken"] = {{"idToken", info.at("parentIdTag")}, {"type", "Central"}};
    }
    return out;
  }

  // Stores the samples; returns how many were new.
  std::size_t store_samples(const json& meter_values, std::optional<std::int64_t> transaction_id,
                            int connector_id) {
    std::vector<MeterSample> samples;
    for (const auto& meter_value : meter_values) {
      const std::string timestamp = canonical(meter_value.at("timestamp").get<std::string>());
      for (const auto& sampled : meter_value.at("sampledValue")) {
        int multiplier = 0;
        MeterSample sample;
        if (const auto unit = sampled.find("unitOfMeasure"); unit != sampled.end()) {
          sample.unit = optional_string(*unit, "unit");
          multiplier = unit->value("multiplier", 0);
        }
        sample.charger_id = c_.charger_id();
        sample.transaction_id = transaction_id;
        sample.connector_id = connector_id;
        sample.timestamp = timestamp;
        sample.value = sample_value_text(sampled, multiplier);
        sample.context = optional_string(sampled, "context");
        sample.measurand = optional_string(sampled, "measurand");
        sample.phase = optional_string(sampled, "phase");
        sample.location = optional_string(sampled, "location");
        samples.push_back(std::move(sample));
      }
    }
    const std::size_t stored = samples.empty() ? 0 : uow_.insert_meter_samples(samples);
    if (stored < samples.size()) {
      c_.warn(std::to_string(samples.size() - stored) + " of " + std::to_string(samples.size()) +
              " meter samples in " + envelope_.message_type + " " + envelope_.unique_id + " from " +
              envelope_.device_id + " were already stored; not stored again");
    }
    return stored;
  }

  json transaction_event() {
    const json& info = p_.at("transactionInfo");
    const std::string ocpp_id = info.at("transactionId").get<std::string>();
    const std::string event_type = p_.at("eventType").get<std::string>();
    const std::string timestamp = canonical(p_.at("timestamp").get<std::string>());
    std::optional<int> evse;
    if (const auto it = p_.find("evse"); it != p_.end()) evse = it->at("id").get<int>();

    json result = json::object();
    std::optional<std::string> token;
    std::string token_status = "Accepted";
    if (const auto it = p_.find("idToken"); it != p_.end()) {
      token = it->at("idToken").get<std::string>();
      result["idTokenInfo"] = id_token_info(*it);
      token_status = result["idTokenInfo"].at("status").get<std::string>();
    }

    TransactionEventRecord event;
    event.charger_id = c_.charger_id();
    event.ocpp_transaction_id = ocpp_id;
    event.seq_no = p_.at("seqNo").get<std::int64_t>();
    event.event_type = event_type;
    event.trigger_reason = p_.at("triggerReason").get<std::string>();
    event.offline = p_.value("offline", false);
    event.timestamp = timestamp;
    event.received_at = c_.received_at();
    if (!uow_.record_transaction_event(event)) {
      c_.warn("TransactionEvent " + event_type + " seqNo " + std::to_string(event.seq_no) + " of " +
              envelope_.device_id + " transaction " + ocpp_id + " was processed before (" +
              envelope_.unique_id + " is a resend); nothing changed");
      return result;
    }

    auto transaction = uow_.find_transaction_by_ocpp_id(c_.charger_id(), ocpp_id);
    bool created = false;
    if (!transaction) {
      NewTransaction n;
      n.charger_id = c_.charger_id();
      // No EVSE named yet (e.g. authorized before the cable is in): the station's only
      // EVSE if it has one, else 0 until an event names it (charging.started waits).
      n.connector_id = evse.value_or(only_evse().value_or(0));
      n.id_tag = token.value_or("");
      n.id_tag_status = token_status;
      if (result.contains("idTokenInfo")) n.id_tag_info = result["idTokenInfo"].dump();
      n.started_at = timestamp;
      n.ocpp_transaction_id = ocpp_id;
      const auto id = uow_.create_transaction(n);
      transaction = uow_.find_transaction(id);
      created = true;
      if (event_type != "Started") {
        c_.warn("TransactionEvent " + event_type + " seqNo " + std::to_string(event.seq_no) +
                " of " + envelope_.device_id + " for transaction " + ocpp_id +
                " arrived before its Started; transaction " + std::to_string(id) + " opened from it");
      }
    }
    if (!transaction) throw std::runtime_error("transaction " + ocpp_id + " vanished");

    std::size_t stored = 0;
    if (const auto it = p_.find("meterValue"); it != p_.end()) {
      stored = store_samples(*it, transaction->id, evse.value_or(transaction->connector_id));
    }

    // Reconstruct the start from everything known now. An Ended that never learnt the
    // EVSE puts the transaction on EVSE 1 (api connectors and events start at 1).
    const auto readings = uow_.transaction_register_readings(transaction->id);
    const int connector_before = transaction->connector_id;
    TransactionStartUpdate start;
    start.connector_id = transaction->connector_id == 0 && evse ? *evse : transaction->connector_id;
    if (start.connector_id == 0 && event_type == "Ended") {
      start.connector_id = 1;
      c_.warn("transaction " + ocpp_id + " of " + envelope_.device_id +
              " ended without any event naming its EVSE; shown on EVSE 1");
    }
    start.id_tag = transaction->id_tag.empty() && token ? *token : transaction->id_tag;
    start.id_tag_status =
        transaction->id_tag.empty() && token ? token_status : transaction->id_tag_status;
    start.meter_start = readings.empty() ? transaction->meter_start : readings.front();
    start.started_at = transaction->started_at;
    const auto started_ms = parse_timestamp(transaction->started_at);
    const auto event_ms = parse_timestamp(timestamp);
    if (started_ms && event_ms && *event_ms < *started_ms) start.started_at = timestamp;
    const bool start_changed = start.connector_id != transaction->connector_id ||
                               start.id_tag != transaction->id_tag ||
                               start.meter_start != transaction->meter_start ||
                               start.started_at != transaction->started_at;
    if (start_changed) {
      uow_.update_transaction_start(transaction->id, start);
      transaction->connector_id = start.connector_id;
      transaction->id_tag = start.id_tag;
      transaction->id_tag_status = start.id_tag_status;
      transaction->meter_start = start.meter_start;
      transaction->started_at = start.started_at;
    }
    if (const auto it = p_.find("reservationId"); it != p_.end() && (created || event_type == "Started")) {
      c_.use_reservation(it->get<std::int64_t>(), transaction->id);
    }
    // charging.started once the transaction has its EVSE: at creation, or when the first
    // event naming the EVSE arrives.
    if (transaction->connector_id != 0 && (created || connector_before == 0)) {
      c_.emit("charging.started", {{"transactionId", transaction->id},
                                   {"ocppTransactionId", ocpp_id},
                                   {"connectorId", transaction->connector_id},
                                   {"idTag", transaction->id_tag},
                                   {"idTagStatus", transaction->id_tag_status},
                                   {"meterStart", transaction->meter_start},
                                   {"timestamp", transaction->started_at}});
    }

    const std::int64_t last_reading = readings.empty() ? transaction->meter_start : readings.back();
    if (event_type == "Ended" && transaction->active()) {
      TransactionStop stop;
      stop.meter_stop = last_reading;
      stop.stopped_at = timestamp;
      stop.reason = optional_string(info, "stoppedReason").value_or("Local");
      stop.id_tag = token;
      c_.bill(*transaction, stop);
      uow_.stop_transaction(transaction->id, stop);
      c_.stopped_events(*transaction, stop);
    } else if (!transaction->active()) {
      // A late event of a transaction already Ended (offline replay, out of order). When
      // it brings something new (samples, an earlier start, a later reading) the session
      // is billed again with what is known now and the new figures are announced: a
      // second transaction.completed, which analytics and billing consumers take as the
      // session's figures from then on. Otherwise nothing changes.
      TransactionStop stop;
      stop.meter_stop = last_reading;
      stop.stopped_at = transaction->stopped_at.value_or(timestamp);
      stop.reason = transaction->stop_reason.value_or("Local");
      const bool changed = stored > 0 || start_changed || last_reading != transaction->meter_stop.value_or(last_reading);
      if (!changed) {
        c_.warn("TransactionEvent " + event_type + " seqNo " + std::to_string(event.seq_no) + " of transaction " +
                ocpp_id + " arrived after its end and brings nothing new; the bill stands");
      } else {
        c_.bill(*transaction, stop);
        uow_.restate_transaction_stop(transaction->id, stop);
        c_.completed_event(*transaction, stop);
        c_.warn("TransactionEvent " + event_type + " seqNo " + std::to_string(event.seq_no) +
                " of transaction " + ocpp_id + " arrived after its end; billed again and announced: " +
                std::to_string(stop.energy_wh.value_or(0)) + " Wh");
      }
    } else if (stored > 0 && transaction->connector_id != 0) {
      json fields = {{"connectorId", transaction->connector_id},
                     {"transactionId", transaction->id},
                     {"ocppTransactionId", ocpp_id},
                     {"sampledAt", timestamp},
                     {"timestamp", timestamp}};
      if (!readings.empty()) fields["energyWh"] = readings.back();
      c_.emit("meter.values", std::move(fields));
    }
    return result;
  }

  // The station's only EVSE: it has reported EVSE 1 and no EVSE 2 (2.0.1 numbers EVSEs
  // from 1 without gaps).
  std::optional<int> only_evse() {
    if (uow_.find_connector_status(c_.charger_id(), 1) && !uow_.find_connector_status(c_.charger_id(), 2)) return 1;
    return std::nullopt;
  }

  json notify_report() {
    std::vector<DeviceModelEntry> entries;
    const auto data = p_.find("reportData");
    if (data == p_.end()) return json::object();
    for (const auto& report : *data) {
      const json& component = report.at("component");
      const json& variable = report.at("variable");
      DeviceModelEntry base;
      base.component = component.at("name").get<std::string>();
      base.component_instance = optional_string(component, "instance").value_or("");
      if (const auto evse = component.find("evse"); evse != component.end()) {
        base.evse_id = evse->at("id").get<int>();
        base.connector_id = evse->value("connectorId", -1);
      }
      base.variable = variable.at("name").get<std::string>();
      base.variable_instance = optional_string(variable, "instance").value_or("");
      if (const auto ch = report.find("variableCharacteristics"); ch != report.end()) {
        base.characteristics = ch->dump();
      }
      for (const auto& attribute : report.at("variableAttribute")) {
        DeviceModelEntry entry = base;
        entry.attribute_type = optional_string(attribute, "type").value_or("Actual");
        entry.value = optional_string(attribute, "value");
        entry.mutability = optional_string(attribute, "mutability").value_or("ReadWrite");
        entry.persistent = attribute.value("persistent", false);
        entry.constant = attribute.value("constant", false);
        entries.push_back(std::move(entry));
      }
    }
    uow_.upsert_device_model(c_.charger_id(), entries, c_.received_at());
    return json::object();
  }

  V201Context& c_;
  UnitOfWork& uow_;
  const Envelope& envelope_;
  const json& p_;
};

}  // namespace

Reply dispatch_v201(V201Context& context) { return V201(context).dispatch(); }

}  // namespace genx::csms
