// The OCPP 2.0.1 side of the simulated charger (sim_core.hpp). The script plans its
// calls in their 1.6 form; a 2.0.1 charger sends each in its 2.0.1 form and reads the
// answer back into the 1.6 form the script understands:
//   BootNotification      -> BootNotification {reason PowerUp, chargingStation}
//   StatusNotification n  -> StatusNotification EVSE n (connector 0 becomes EVSE 2: a
//                            2.0.1 station has no station-wide status), connector 1,
//                            Charging -> Occupied
//   Authorize             -> Authorize {idToken ISO14443}
//   StartTransaction      -> TransactionEvent Started, seqNo 0, the station's own
//                            transaction id, the register reading (Transaction.Begin)
//   MeterValues           -> TransactionEvent Updated (MeterValuePeriodic, or
//                            ChargingRateChanged for a draw change), the same samples
//   StopTransaction       -> TransactionEvent Ended (StopAuthorized / RemoteStop) with the
//                            register reading (Transaction.End)
// A 2.0.1 charger holds a small device model (GetVariables, SetVariables, GetBaseReport
// and GetReport answered from it, NotifyReport sent after the request), starts and stops
// sessions on RequestStartTransaction / RequestStopTransaction, and answers the other
// commands with the first valid one of Accepted / Unlocked, else NotImplemented.
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "ocpp/v201_validation.hpp"
#include "sim/sim_core.hpp"

namespace genx::sim {
namespace {

using nlohmann::json;

struct SimVariable {
  const char* component;
  int evse;       // 0: none
  int connector;  // 0: none
  const char* variable;
  const char* value;  // nullptr: computed
  const char* mutability;
  const char* data_type;
  const char* unit;  // nullptr: none
};

constexpr SimVariable kModel[] = {
    {"ChargingStation", 0, 0, "Model", "SimCharger", "ReadOnly", "string", nullptr},
    {"ChargingStation", 0, 0, "VendorName", "GenX", "ReadOnly", "string", nullptr},
    {"ChargingStation", 0, 0, "AvailabilityState", "Available", "ReadOnly", "OptionList", nullptr},
    {"OCPPCommCtrlr", 0, 0, "HeartbeatInterval", nullptr, "ReadWrite", "integer", "s"},
    {"OCPPCommCtrlr", 0, 0, "NetworkConfigurationPriority", "0", "ReadWrite", "SequenceList", nullptr},
    {"OCPPCommCtrlr", 0, 0, "MessageTimeout", "30", "ReadOnly", "integer", "s"},
    {"AuthCtrlr", 0, 0, "Enabled", "true", "ReadWrite", "boolean", nullptr},
    {"AuthCtrlr", 0, 0, "AuthorizeRemoteStart", "true", "ReadWrite", "boolean", nullptr},
    {"AuthCacheCtrlr", 0, 0, "Enabled", "true", "ReadWrite", "boolean", nullptr},
    {"TxCtrlr", 0, 0, "EVConnectionTimeOut", "60", "ReadWrite", "integer", "s"},
    {"TxCtrlr", 0, 0, "TxStartPoint", "Authorized", "ReadWrite", "MemberList", nullptr},
    {"TxCtrlr", 0, 0, "TxStopPoint", "Authorized", "ReadWrite", "MemberList", nullptr},
    {"SampledDataCtrlr", 0, 0, "TxUpdatedInterval", nullptr, "ReadWrite", "integer", "s"},
    {"SampledDataCtrlr", 0, 0, "TxUpdatedMeasurands",
     "Energy.Active.Import.Register,Power.Active.Import,Current.Import", "ReadWrite", "MemberList", nullptr},
    {"SecurityCtrlr", 0, 0, "SecurityProfile", "1", "ReadOnly", "integer", nullptr},
    {"DeviceDataCtrlr", 0, 0, "BytesPerMessage", "65000", "ReadOnly", "integer", nullptr},
    {"EVSE", 1, 0, "AvailabilityState", nullptr, "ReadOnly", "OptionList", nullptr},
    {"EVSE", 1, 0, "Power", "22000", "ReadOnly", "decimal", "W"},
    {"EVSE", 2, 0, "AvailabilityState", "Available", "ReadOnly", "OptionList", nullptr},
    {"EVSE", 2, 0, "Power", "22000", "ReadOnly", "decimal", "W"},
    {"Connector", 1, 1, "ConnectorType", "cType2", "ReadOnly", "string", nullptr},
    {"Connector", 2, 1, "ConnectorType", "cType2", "ReadOnly", "string", nullptr},
};

std::string key_of(const SimVariable& v) {
  return std::string(v.component) + "/" + std::to_string(v.evse) + "/" + std::to_string(v.connector) + "/" +
         v.variable;
}

json component_json(const SimVariable& v) {
  json c = {{"name", v.component}};
  if (v.evse > 0) {
    c["evse"] = {{"id", v.evse}};
    if (v.connector > 0) c["evse"]["connectorId"] = v.connector;
  }
  return c;
}

// Does a requested component (name, optional evse {id, connectorId}) name this row? A
// request without evse names the station-wide row, or (any_evse, a report filter) every
// row of that component.
bool component_matches(const json& requested, const SimVariable& v, bool any_evse = false) {
  if (requested.value("name", "") != v.component) return false;
  const auto evse = requested.find("evse");
  if (evse == requested.end()) return any_evse || v.evse == 0;
  if (evse->value("id", -1) != v.evse) return false;
  return !evse->contains("connectorId") || (*evse)["connectorId"] == v.connector;
}

// 1.6 sampledValue (strings) -> 2.0.1 SampledValueType (numbers, unitOfMeasure).
json sampled_201(const json& sampled) {
  json out = {{"value", std::strtod(sampled.value("value", "0").c_str(), nullptr)}};
  for (const char* key : {"context", "measurand", "phase", "location"}) {
    if (sampled.contains(key)) out[key] = sampled[key];
  }
  if (sampled.contains("unit")) out["unitOfMeasure"] = {{"unit", sampled["unit"]}};
  return out;
}

json register_reading(std::int64_t wh, std::string_view at, const char* context) {
  return json::array({{{"timestamp", std::string(at)},
                       {"sampledValue",
                        json::array({{{"value", wh},
                                      {"context", context},
                                      {"measurand", "Energy.Active.Import.Register"},
                                      {"unitOfMeasure", {{"unit", "Wh"}}}}})}}});
}

}  // namespace

void ChargerScript::to_ocpp201(PlannedCall& call, std::string_view now_iso) {
  const std::string now(now_iso);
  const json id_token = {{"idToken", options_.id_tag}, {"type", "ISO14443"}};
  const json evse = {{"id", 1}, {"connectorId", 1}};
  json& p = call.payload;
  if (call.action == "BootNotification") {
    p = {{"reason", "PowerUp"},
         {"chargingStation",
          {{"vendorName", "GenX"},
           {"model", "SimCharger"},
           {"serialNumber", identity_.substr(0, 25)},
           {"firmwareVersion", "sim-1"}}}};
  } else if (call.action == "StatusNotification") {
    const int connector = p.value("connectorId", 1);
    p = {{"timestamp", now},
         {"connectorStatus", p.value("status", "") == "Charging" ? "Occupied" : "Available"},
         {"evseId", connector == 0 ? 2 : connector},
         {"connectorId", 1}};
  } else if (call.action == "Authorize") {
    p = {{"idToken", id_token}};
  } else if (call.action == "StartTransaction") {
    // The station names its transactions: the moment of the start (Unix ms), a tag of
    // the station's identity and a counter keep the id unique across runs and stations
    // (two stations starting in the same millisecond made the same id, which the api
    // then answers 409 for by that id); at most 36 characters.
    char tag[9];
    std::snprintf(tag, sizeof tag, "%08x", static_cast<unsigned>(std::hash<std::string>{}(identity_) & 0xffffffffu));
    const auto epoch_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count();
    tx201_id_ = std::to_string(epoch_ms) + "-" + tag + "-" + std::to_string(++tx201_counter_);
    seq_no_ = 0;
    json info = {{"transactionId", tx201_id_}, {"chargingState", "Charging"}};
    if (remote_start_id_) info["remoteStartId"] = *remote_start_id_;
    call.action = "TransactionEvent";
    p = {{"eventType", "Started"},
         {"timestamp", now},
         {"triggerReason", remote_start_id_ ? "RemoteStart" : "Authorized"},
         {"seqNo", seq_no_++},
         {"transactionInfo", info},
         {"idToken", remote_id_token_.value_or(id_token)},
         {"evse", evse},
         {"meterValue", register_reading(meter_wh_, now, "Transaction.Begin")}};
    remote_start_id_.reset();
    remote_id_token_.reset();
  } else if (call.action == "MeterValues") {
    json meter_value = json::array();
    for (const auto& mv : p.at("meterValue")) {
      json samples = json::array();
      for (const auto& s : mv.at("sampledValue")) samples.push_back(sampled_201(s));
      meter_value.push_back({{"timestamp", mv.at("timestamp")}, {"sampledValue", samples}});
    }
    const bool rate_change = !meter_value.empty() && meter_value[0]["timestamp"] != json(now);
    call.action = "TransactionEvent";
    p = {{"eventType", "Updated"},
         {"timestamp", now},
         {"triggerReason", rate_change ? "ChargingRateChanged" : "MeterValuePeriodic"},
         {"seqNo", seq_no_++},
         {"transactionInfo", {{"transactionId", tx201_id_}, {"chargingState", "Charging"}}},
         {"evse", evse},
         {"meterValue", meter_value}};
  } else if (call.action == "StopTransaction") {
    const bool remote = remote_stop_;
    remote_stop_ = false;
    const std::int64_t meter_stop = p.value("meterStop", meter_wh_);
    call.action = "TransactionEvent";
    p = {{"eventType", "Ended"},
         {"timestamp", now},
         {"triggerReason", remote ? "RemoteStop" : "StopAuthorized"},
         {"seqNo", seq_no_++},
         {"transactionInfo",
          {{"transactionId", tx201_id_}, {"chargingState", "EVConnected"}, {"stoppedReason", remote ? "Remote" : "Local"}}},
         {"evse", evse},
         {"meterValue", register_reading(meter_stop, now, "Transaction.End")}};
    if (!remote) p["idToken"] = id_token;
  }
  // Heartbeat is the same in both versions.
}

std::optional<json> ChargerScript::answer_from_ocpp201(std::string_view action, const std::optional<json>& answer) {
  if (!answer) return std::nullopt;
  if (action == "Authorize") {
    return json{{"idTagInfo", {{"status", answer->value("idTokenInfo", json::object()).value("status", "Invalid")}}}};
  }
  if (action == "TransactionEvent" && v16_action_ == "StartTransaction") {
    // The station's transaction runs whatever the CSMS says of the token (as a 1.6
    // StartTransaction answer always carries a transactionId).
    return json{{"transactionId", tx201_counter_},
                {"idTagInfo", {{"status", answer->value("idTokenInfo", json{{"status", "Accepted"}}).value("status", "Accepted")}}}};
  }
  return answer;
}

json ChargerScript::notify_report(int request_id, const json& filter, std::string_view now_iso) {
  json data = json::array();
  const auto interval_s = std::to_string(std::max<std::int64_t>(1, options_.interval.count() / 1000));
  for (const auto& v : kModel) {
    if (filter.is_array() && !filter.empty()) {
      bool wanted = false;
      for (const auto& cv : filter) {
        if (!component_matches(cv.value("component", json::object()), v, true)) continue;
        if (cv.contains("variable") && cv["variable"].value("name", "") != v.variable) continue;
        wanted = true;
      }
      if (!wanted) continue;
    }
    std::string value;
    if (auto it = variable_values_.find(key_of(v)); it != variable_values_.end()) {
      value = it->second;
    } else if (v.value) {
      value = v.value;
    } else if (std::string_view(v.variable) == "AvailabilityState") {
      value = transaction_id_ ? "Occupied" : "Available";
    } else {
      value = interval_s;
    }
    json characteristics = {{"dataType", v.data_type}, {"supportsMonitoring", false}};
    if (v.unit) characteristics["unit"] = v.unit;
    data.push_back({{"component", component_json(v)},
                    {"variable", {{"name", v.variable}}},
                    {"variableAttribute",
                     json::array({{{"type", "Actual"},
                                   {"value", value},
                                   {"mutability", v.mutability},
                                   {"persistent", true},
                                   {"constant", std::string_view(v.mutability) == "ReadOnly"}}})},
                    {"variableCharacteristics", characteristics}});
  }
  return {{"requestId", request_id}, {"generatedAt", std::string(now_iso)}, {"seqNo", 0}, {"tbc", false},
          {"reportData", data}};
}

std::optional<json> ChargerScript::on_csms_call_201(std::string_view action, const json& payload,
                                                    std::string_view now_iso) {
  auto value_of = [&](const SimVariable& v) {
    if (auto it = variable_values_.find(key_of(v)); it != variable_values_.end()) return it->second;
    if (v.value) return std::string(v.value);
    if (std::string_view(v.variable) == "AvailabilityState") return std::string(transaction_id_ ? "Occupied" : "Available");
    return std::to_string(std::max<std::int64_t>(1, options_.interval.count() / 1000));
  };
  // The row a (component, variable) names, or the status saying why none does.
  auto find = [&](const json& component, const json& variable) -> std::pair<const SimVariable*, const char*> {
    bool component_known = false;
    for (const auto& v : kModel) {
      if (!component_matches(component, v)) continue;
      component_known = true;
      if (variable.value("name", "") == v.variable && !variable.contains("instance")) return {&v, nullptr};
    }
    return {nullptr, component_known ? "UnknownVariable" : "UnknownComponent"};
  };
  if (action == "GetVariables") {
    json results = json::array();
    for (const auto& item : payload.value("getVariableData", json::array())) {
      const json component = item.value("component", json::object());
      const json variable = item.value("variable", json::object());
      json r = {{"component", component}, {"variable", variable}};
      const std::string type = item.value("attributeType", "Actual");
      if (item.contains("attributeType")) r["attributeType"] = type;
      auto [row, why] = find(component, variable);
      if (!row) {
        r["attributeStatus"] = why;
      } else if (type != "Actual") {
        r["attributeStatus"] = "NotSupportedAttributeType";
      } else {
        r["attributeStatus"] = "Accepted";
        r["attributeValue"] = value_of(*row);
      }
      results.push_back(std::move(r));
    }
    return json{{"getVariableResult", results}};
  }
  if (action == "SetVariables") {
    json results = json::array();
    for (const auto& item : payload.value("setVariableData", json::array())) {
      const json component = item.value("component", json::object());
      const json variable = item.value("variable", json::object());
      json r = {{"component", component}, {"variable", variable}};
      const std::string type = item.value("attributeType", "Actual");
      if (item.contains("attributeType")) r["attributeType"] = type;
      auto [row, why] = find(component, variable);
      if (!row) {
        r["attributeStatus"] = why;
      } else if (type != "Actual") {
        r["attributeStatus"] = "NotSupportedAttributeType";
      } else if (std::string_view(row->mutability) == "ReadOnly") {
        r["attributeStatus"] = "Rejected";
      } else {
        variable_values_[key_of(*row)] = item.value("attributeValue", "");
        r["attributeStatus"] = "Accepted";
      }
      results.push_back(std::move(r));
    }
    return json{{"setVariableResult", results}};
  }
  if (action == "GetBaseReport") {
    reports_.emplace_back(payload.value("requestId", 0), json::array());
    return json{{"status", "Accepted"}};
  }
  if (action == "GetReport") {
    const json filter = payload.value("componentVariable", json::array());
    if (!notify_report(0, filter, now_iso)["reportData"].empty() || filter.empty()) {
      reports_.emplace_back(payload.value("requestId", 0), filter);
      return json{{"status", "Accepted"}};
    }
    return json{{"status", "EmptyResultSet"}};
  }
  if (action == "RequestStartTransaction") {
    if (transaction_id_ || !chain_.empty() || boot_sequence_left_ > 0) return json{{"status", "Rejected"}};
    remote_start_id_ = payload.value("remoteStartId", 0);
    if (payload.contains("idToken")) remote_id_token_ = payload["idToken"];
    chain_ = {"StartTransaction", "StatusNotification:1"};
    meter_ticks_left_ = options_.session_ticks;
    ticked_ = true;
    return json{{"status", "Accepted"}};
  }
  if (action == "RequestStopTransaction") {
    if (!transaction_id_ || payload.value("transactionId", "") != tx201_id_) return json{{"status", "Rejected"}};
    remote_stop_ = true;
    return json{{"status", "Accepted"}};
  }
  if (action == "GetTransactionStatus") {
    json answer = {{"messagesInQueue", false}};
    if (payload.contains("transactionId")) {
      answer["ongoingIndicator"] = transaction_id_.has_value() && payload["transactionId"] == tx201_id_;
    }
    return answer;
  }
  if (action == "TriggerMessage") {
    const std::string requested = payload.value("requestedMessage", "");
    if (boot_sequence_left_ > 0) return json{{"status", "Rejected"}};
    if (requested == "Heartbeat") {
      chain_.insert(chain_.begin(), "Heartbeat");
    } else if (requested == "StatusNotification") {
      chain_.insert(chain_.begin(), "StatusNotification:1");
    } else {
      return json{{"status", "NotImplemented"}};
    }
    return json{{"status", "Accepted"}};
  }
  for (const char* status : {"Accepted", "Unlocked"}) {
    json answer = {{"status", status}};
    if (!ocpp::v201::validate_response(action, answer)) return answer;
  }
  return std::nullopt;  // the caller answers NotImplemented
}

}  // namespace genx::sim
