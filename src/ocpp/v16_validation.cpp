// OCPP 1.6 payload validation. The constraints of the official OCPP 1.6 JSON schemas
// (and of the 1.6 security whitepaper schemas) are written below as tables in a small
// declarative schema language; one generic checker walks a payload against them.
//
// Error codes (OCPP-J 1.6 section 4.2.3; where the spec is vague we compared with
// ocpp-rpc's strict mode, mikuso/ocpp-rpc lib/validator.js):
//   JSON type mismatch ("type")                       -> TypeConstraintViolation
//   required property missing ("required")            -> OccurenceConstraintViolation
//   array shorter than minItems ("minItems")          -> OccurenceConstraintViolation (as ocpp-rpc)
//   unknown property ("additionalProperties": false)  -> PropertyConstraintViolation (as ocpp-rpc)
//   enum, maxLength, format, multipleOf                -> PropertyConstraintViolation
//   payload itself not a JSON object                  -> FormationViolation
// ocpp-rpc answers enum / maxLength / format with "FormatViolation" (a 2.0.1 name, and
// multipleOf with OccurenceConstraintViolation); the 1.6 text defines
// PropertyConstraintViolation as "at least one field contains an invalid value", which
// is what these are, so we follow the spec there.
//
// Semantics follow JSON Schema as ajv implements it, so the oracle in tests/oracle can
// compare verdicts: "integer" accepts 1.0; maxLength counts Unicode code points;
// date-time is RFC 3339 with a mandatory offset (ajv-formats "full" mode, which also
// takes a space or lower-case "t" as separator and "+hh", "+hhmm" offsets); multipleOf
// allows a relative error of 1e-6, as ocpp-rpc does (so 0.3 is a multiple of 0.1).
#include "ocpp/v16_validation.hpp"

#include <array>
#include <cctype>
#include <cmath>
#include <initializer_list>
#include <map>
#include <memory>
#include <vector>

namespace genx::ocpp::v16 {
namespace {

// ---------------------------------------------------------------------------------
// The schema language.

enum class Type { kString, kInteger, kNumber, kBoolean, kObject, kArray };
enum class Format { kNone, kDateTime, kUri };

struct Node;
using NodePtr = std::shared_ptr<const Node>;

struct Property {
  std::string_view name;
  bool required;
  NodePtr node;
};

struct Node {
  Type type = Type::kString;
  std::size_t max_length = 0;  // 0: unbounded
  std::vector<std::string_view> enum_values;
  Format format = Format::kNone;
  double multiple_of = 0;           // 0: none
  std::vector<Property> properties;  // objects; additionalProperties is always false
  NodePtr items;                     // arrays
  std::size_t min_items = 0;
};

NodePtr make(Node node) { return std::make_shared<const Node>(std::move(node)); }
NodePtr str(std::size_t max_length = 0) {
  Node n;
  n.max_length = max_length;
  return make(std::move(n));
}
NodePtr one_of(std::initializer_list<std::string_view> values) {
  Node n;
  n.enum_values = values;
  return make(std::move(n));
}
NodePtr date_time() {
  Node n;
  n.format = Format::kDateTime;
  return make(std::move(n));
}
NodePtr uri() {
  Node n;
  n.format = Format::kUri;
  return make(std::move(n));
}
NodePtr of_type(Type type) {
  Node n;
  n.type = type;
  return make(std::move(n));
}
NodePtr integer() { return of_type(Type::kInteger); }
NodePtr boolean() { return of_type(Type::kBoolean); }
NodePtr number(double multiple_of = 0) {
  Node n;
  n.type = Type::kNumber;
  n.multiple_of = multiple_of;
  return make(std::move(n));
}
NodePtr object(std::initializer_list<Property> properties) {
  Node n;
  n.type = Type::kObject;
  n.properties = properties;
  return make(std::move(n));
}
NodePtr array(NodePtr items, std::size_t min_items = 0) {
  Node n;
  n.type = Type::kArray;
  n.items = std::move(items);
  n.min_items = min_items;
  return make(std::move(n));
}
Property req(std::string_view name, NodePtr node) { return {name, true, std::move(node)}; }
Property opt(std::string_view name, NodePtr node) { return {name, false, std::move(node)}; }

// ---------------------------------------------------------------------------------
// The OCPP 1.6 schemas (names as in the official OCPP 1.6 JSON schemas).

using Table = std::map<std::string, NodePtr, std::less<>>;

struct Schemas {
  Table charger_requests;  // CALLs a charger sends
  Table csms_commands;     // CALLs the CSMS sends
  Table responses;         // CALLRESULT payloads, both directions
};

NodePtr id_tag_info() {
  return object({opt("expiryDate", date_time()), opt("parentIdTag", str(20)),
                 req("status", one_of({"Accepted", "Blocked", "Expired", "Invalid",
                                       "ConcurrentTx"}))});
}

NodePtr sampled_value(bool with_hertz) {
  auto units = with_hertz
                   ? one_of({"Wh", "kWh", "varh", "kvarh", "W", "kW", "VA", "kVA", "var", "kvar",
                             "A", "V", "K", "Celcius", "Celsius", "Fahrenheit", "Percent",
                             "Hertz"})
                   : one_of({"Wh", "kWh", "varh", "kvarh", "W", "kW", "VA", "kVA", "var", "kvar",
                             "A", "V", "K", "Celcius", "Celsius", "Fahrenheit", "Percent"});
  return object({
      req("value", str()),
      opt("context", one_of({"Interruption.Begin", "Interruption.End", "Sample.Clock",
                             "Sample.Periodic", "Transaction.Begin", "Transaction.End", "Trigger",
                             "Other"})),
      opt("format", one_of({"Raw", "SignedData"})),
      opt("measurand",
          one_of({"Energy.Active.Export.Register", "Energy.Active.Import.Register",
                  "Energy.Reactive.Export.Register", "Energy.Reactive.Import.Register",
                  "Energy.Active.Export.Interval", "Energy.Active.Import.Interval",
                  "Energy.Reactive.Export.Interval", "Energy.Reactive.Import.Interval",
                  "Power.Active.Export", "Power.Active.Import", "Power.Offered",
                  "Power.Reactive.Export", "Power.Reactive.Import", "Power.Factor",
                  "Current.Import", "Current.Export", "Current.Offered", "Voltage", "Frequency",
                  "Temperature", "SoC", "RPM"})),
      opt("phase",
          one_of({"L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1"})),
      opt("location", one_of({"Cable", "EV", "Inlet", "Outlet", "Body"})),
      opt("unit", std::move(units)),
  });
}

NodePtr charging_schedule() {
  return object({
      opt("duration", integer()),
      opt("startSchedule", date_time()),
      req("chargingRateUnit", one_of({"A", "W"})),
      req("chargingSchedulePeriod", array(object({req("startPeriod", integer()),
                                                  req("limit", number(0.1)),
                                                  opt("numberPhases", integer())}))),
      opt("minChargingRate", number(0.1)),
  });
}

NodePtr charging_profile() {
  return object({
      req("chargingProfileId", integer()),
      opt("transactionId", integer()),
      req("stackLevel", integer()),
      req("chargingProfilePurpose",
          one_of({"ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"})),
      req("chargingProfileKind", one_of({"Absolute", "Recurring", "Relative"})),
      opt("recurrencyKind", one_of({"Daily", "Weekly"})),
      opt("validFrom", date_time()),
      opt("validTo", date_time()),
      req("chargingSchedule", charging_schedule()),
  });
}

NodePtr certificate_hash_data() {
  return object({req("hashAlgorithm", one_of({"SHA256", "SHA384", "SHA512"})),
                 req("issuerNameHash", str(128)), req("issuerKeyHash", str(128)),
                 req("serialNumber", str(40))});
}

NodePtr status_of(std::initializer_list<std::string_view> values) {
  return object({req("status", one_of(values))});
}

Schemas build_schemas() {
  Schemas s;
  auto& rq = s.charger_requests;
  auto& cmd = s.csms_commands;
  auto& rs = s.responses;
  const auto empty = object({});

  // Charger -> CSMS (Core, Firmware Management, security extension).
  rq["Authorize"] = object({req("idTag", str(20))});
  rs["Authorize"] = object({req("idTagInfo", id_tag_info())});
  rq["BootNotification"] = object({
      req("chargePointVendor", str(20)), req("chargePointModel", str(20)),
      opt("chargePointSerialNumber", str(25)), opt("chargeBoxSerialNumber", str(25)),
      opt("firmwareVersion", str(50)), opt("iccid", str(20)), opt("imsi", str(20)),
      opt("meterType", str(25)), opt("meterSerialNumber", str(25))});
  rs["BootNotification"] =
      object({req("status", one_of({"Accepted", "Pending", "Rejected"})),
              req("currentTime", date_time()), req("interval", integer())});
  rq["DataTransfer"] =
      object({req("vendorId", str(255)), opt("messageId", str(50)), opt("data", str())});
  rs["DataTransfer"] = object(
      {req("status", one_of({"Accepted", "Rejected", "UnknownMessageId", "UnknownVendorId"})),
       opt("data", str())});
  rq["DiagnosticsStatusNotification"] =
      status_of({"Idle", "Uploaded", "UploadFailed", "Uploading"});
  rs["DiagnosticsStatusNotification"] = empty;
  rq["FirmwareStatusNotification"] =
      status_of({"Downloaded", "DownloadFailed", "Downloading", "Idle", "InstallationFailed",
                 "Installing", "Installed"});
  rs["FirmwareStatusNotification"] = empty;
  rq["Heartbeat"] = empty;
  rs["Heartbeat"] = object({req("currentTime", date_time())});
  rq["MeterValues"] =
      object({req("connectorId", integer()), opt("transactionId", integer()),
              req("meterValue", array(object({req("timestamp", date_time()),
                                              req("sampledValue", array(sampled_value(true), 1))}),
                                      1))});
  rs["MeterValues"] = empty;
  rq["StartTransaction"] = object({req("connectorId", integer()), req("idTag", str(20)),
                                   req("meterStart", integer()), opt("reservationId", integer()),
                                   req("timestamp", date_time())});
  rs["StartTransaction"] =
      object({req("idTagInfo", id_tag_info()), req("transactionId", integer())});
  rq["StatusNotification"] = object({
      req("connectorId", integer()),
      req("errorCode",
          one_of({"ConnectorLockFailure", "EVCommunicationError", "GroundFailure",
                  "HighTemperature", "InternalError", "LocalListConflict", "NoError",
                  "OtherError", "OverCurrentFailure", "PowerMeterFailure", "PowerSwitchFailure",
                  "ReaderFailure", "ResetFailure", "UnderVoltage", "OverVoltage", "WeakSignal"})),
      opt("info", str(50)),
      req("status", one_of({"Available", "Preparing", "Charging", "SuspendedEVSE", "SuspendedEV",
                            "Finishing", "Reserved", "Unavailable", "Faulted"})),
      opt("timestamp", date_time()),
      opt("vendorId", str(255)),
      opt("vendorErrorCode", str(50)),
  });
  rs["StatusNotification"] = empty;
  // The 1.6 StopTransaction schema has no "Hertz" unit and no minItems on sampledValue.
  rq["StopTransaction"] = object({
      opt("idTag", str(20)),
      req("meterStop", integer()),
      req("timestamp", date_time()),
      req("transactionId", integer()),
      opt("reason", one_of({"EmergencyStop", "EVDisconnected", "HardReset", "Local", "Other",
                            "PowerLoss", "Reboot", "Remote", "SoftReset", "UnlockCommand",
                            "DeAuthorized"})),
      opt("transactionData", array(object({req("timestamp", date_time()),
                                           req("sampledValue", array(sampled_value(false)))}))),
  });
  rs["StopTransaction"] = object({opt("idTagInfo", id_tag_info())});
  rq["SecurityEventNotification"] = object(
      {req("type", str(50)), req("timestamp", date_time()), opt("techInfo", str(255))});
  rs["SecurityEventNotification"] = empty;
  rq["SignCertificate"] = object({req("csr", str(5500))});
  rs["SignCertificate"] = status_of({"Accepted", "Rejected"});
  rq["LogStatusNotification"] = object(
      {req("status", one_of({"BadMessage", "Idle", "NotSupportedOperation", "PermissionDenied",
                             "Uploaded", "UploadFailure", "Uploading"})),
       opt("requestId", integer())});
  rs["LogStatusNotification"] = empty;
  rq["SignedFirmwareStatusNotification"] = object(
      {req("status", one_of({"Downloaded", "DownloadFailed", "Downloading", "DownloadScheduled",
                             "DownloadPaused", "Idle", "InstallationFailed", "Installing",
                             "Installed", "InstallRebooting", "InstallScheduled",
                             "InstallVerificationFailed", "InvalidSignature",
                             "SignatureVerified"})),
       opt("requestId", integer())});
  rs["SignedFirmwareStatusNotification"] = empty;

  // CSMS -> charger (Core, Firmware Management, Local Auth List, Reservation, Smart
  // Charging, Remote Trigger, security extension).
  const auto accepted_rejected = status_of({"Accepted", "Rejected"});
  cmd["CancelReservation"] = object({req("reservationId", integer())});
  rs["CancelReservation"] = accepted_rejected;
  cmd["CertificateSigned"] = object({req("certificateChain", str(10000))});
  rs["CertificateSigned"] = accepted_rejected;
  cmd["ChangeAvailability"] = object(
      {req("connectorId", integer()), req("type", one_of({"Inoperative", "Operative"}))});
  rs["ChangeAvailability"] = status_of({"Accepted", "Rejected", "Scheduled"});
  cmd["ChangeConfiguration"] = object({req("key", str(50)), req("value", str(500))});
  rs["ChangeConfiguration"] =
      status_of({"Accepted", "Rejected", "RebootRequired", "NotSupported"});
  cmd["ClearCache"] = empty;
  rs["ClearCache"] = accepted_rejected;
  cmd["ClearChargingProfile"] = object(
      {opt("id", integer()), opt("connectorId", integer()),
       opt("chargingProfilePurpose",
           one_of({"ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"})),
       opt("stackLevel", integer())});
  rs["ClearChargingProfile"] = status_of({"Accepted", "Unknown"});
  cmd["DataTransfer"] = rq["DataTransfer"];
  cmd["DeleteCertificate"] = object({req("certificateHashData", certificate_hash_data())});
  rs["DeleteCertificate"] = status_of({"Accepted", "Failed", "NotFound"});
  cmd["ExtendedTriggerMessage"] = object(
      {req("requestedMessage",
           one_of({"BootNotification", "LogStatusNotification", "FirmwareStatusNotification",
                   "Heartbeat", "MeterValues", "SignChargePointCertificate",
                   "StatusNotification"})),
       opt("connectorId", integer())});
  rs["ExtendedTriggerMessage"] = status_of({"Accepted", "Rejected", "NotImplemented"});
  cmd["GetCompositeSchedule"] =
      object({req("connectorId", integer()), req("duration", integer()),
              opt("chargingRateUnit", one_of({"A", "W"}))});
  rs["GetCompositeSchedule"] =
      object({req("status", one_of({"Accepted", "Rejected"})), opt("connectorId", integer()),
              opt("scheduleStart", date_time()), opt("chargingSchedule", charging_schedule())});
  cmd["GetConfiguration"] = object({opt("key", array(str(50)))});
  rs["GetConfiguration"] = object(
      {opt("configurationKey", array(object({req("key", str(50)), req("readonly", boolean()),
                                             opt("value", str(500))}))),
       opt("unknownKey", array(str(50)))});
  cmd["GetDiagnostics"] =
      object({req("location", uri()), opt("retries", integer()), opt("retryInterval", integer()),
              opt("startTime", date_time()), opt("stopTime", date_time())});
  rs["GetDiagnostics"] = object({opt("fileName", str(255))});
  cmd["GetInstalledCertificateIds"] = object(
      {req("certificateType",
           one_of({"CentralSystemRootCertificate", "ManufacturerRootCertificate"}))});
  rs["GetInstalledCertificateIds"] =
      object({opt("certificateHashData", array(certificate_hash_data(), 1)),
              req("status", one_of({"Accepted", "NotFound"}))});
  cmd["GetLocalListVersion"] = empty;
  rs["GetLocalListVersion"] = object({req("listVersion", integer())});
  cmd["GetLog"] = object({
      req("log", object({req("remoteLocation", str(512)), opt("oldestTimestamp", date_time()),
                         opt("latestTimestamp", date_time())})),
      req("logType", one_of({"DiagnosticsLog", "SecurityLog"})),
      req("requestId", integer()),
      opt("retries", integer()),
      opt("retryInterval", integer()),
  });
  rs["GetLog"] = object({req("status", one_of({"Accepted", "Rejected", "AcceptedCanceled"})),
                         opt("filename", str(255))});
  cmd["InstallCertificate"] = object(
      {req("certificateType",
           one_of({"CentralSystemRootCertificate", "ManufacturerRootCertificate"})),
       req("certificate", str(5500))});
  rs["InstallCertificate"] = status_of({"Accepted", "Failed", "Rejected"});
  cmd["RemoteStartTransaction"] = object({opt("connectorId", integer()), req("idTag", str(20)),
                                          opt("chargingProfile", charging_profile())});
  rs["RemoteStartTransaction"] = accepted_rejected;
  cmd["RemoteStopTransaction"] = object({req("transactionId", integer())});
  rs["RemoteStopTransaction"] = accepted_rejected;
  cmd["ReserveNow"] =
      object({req("connectorId", integer()), req("expiryDate", date_time()),
              req("idTag", str(20)), opt("parentIdTag", str(20)), req("reservationId", integer())});
  rs["ReserveNow"] =
      status_of({"Accepted", "Faulted", "Occupied", "Rejected", "Unavailable"});
  cmd["Reset"] = object({req("type", one_of({"Hard", "Soft"}))});
  rs["Reset"] = accepted_rejected;
  cmd["SendLocalList"] = object(
      {req("listVersion", integer()),
       opt("localAuthorizationList",
           array(object({req("idTag", str(20)), opt("idTagInfo", id_tag_info())}))),
       req("updateType", one_of({"Differential", "Full"}))});
  rs["SendLocalList"] = status_of({"Accepted", "Failed", "NotSupported", "VersionMismatch"});
  cmd["SetChargingProfile"] =
      object({req("connectorId", integer()), req("csChargingProfiles", charging_profile())});
  rs["SetChargingProfile"] = status_of({"Accepted", "Rejected", "NotSupported"});
  cmd["SignedUpdateFirmware"] = object({
      opt("retries", integer()),
      opt("retryInterval", integer()),
      req("requestId", integer()),
      req("firmware",
          object({req("location", str(512)), req("retrieveDateTime", date_time()),
                  opt("installDateTime", date_time()), req("signingCertificate", str(5500)),
                  req("signature", str(800))})),
  });
  rs["SignedUpdateFirmware"] = status_of(
      {"Accepted", "Rejected", "AcceptedCanceled", "InvalidCertificate", "RevokedCertificate"});
  cmd["TriggerMessage"] = object(
      {req("requestedMessage",
           one_of({"BootNotification", "DiagnosticsStatusNotification",
                   "FirmwareStatusNotification", "Heartbeat", "MeterValues",
                   "StatusNotification"})),
       opt("connectorId", integer())});
  rs["TriggerMessage"] = status_of({"Accepted", "Rejected", "NotImplemented"});
  cmd["UnlockConnector"] = object({req("connectorId", integer())});
  rs["UnlockConnector"] = status_of({"Unlocked", "UnlockFailed", "NotSupported"});
  cmd["UpdateFirmware"] =
      object({req("location", uri()), opt("retries", integer()),
              req("retrieveDate", date_time()), opt("retryInterval", integer())});
  rs["UpdateFirmware"] = empty;
  return s;
}

const Schemas& schemas() {
  static const Schemas kSchemas = build_schemas();
  return kSchemas;
}

// ---------------------------------------------------------------------------------
// Formats.

bool digits(std::string_view text, std::size_t pos, std::size_t count) {
  if (pos + count > text.size()) {
    return false;
  }
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') {
      return false;
    }
  }
  return true;
}

int number_at(std::string_view text, std::size_t pos, std::size_t count) {
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

bool leap_year(int year) { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0); }

// RFC 3339 date-time: YYYY-MM-DD, "T" (or "t" or a space), hh:mm:ss[.frac], then "Z"
// or an offset +hh:mm (ajv-formats also takes +hh and +hhmm). Leap seconds only at
// 23:59:60 UTC.
bool is_date_time(std::string_view text) {
  if (text.size() < 20 || !digits(text, 0, 4) || text[4] != '-' || !digits(text, 5, 2) ||
      text[7] != '-' || !digits(text, 8, 2)) {
    return false;
  }
  const int year = number_at(text, 0, 4);
  const int month = number_at(text, 5, 2);
  const int day = number_at(text, 8, 2);
  static constexpr std::array<int, 13> kDays{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 ||
      day > (month == 2 && leap_year(year) ? 29 : kDays[static_cast<std::size_t>(month)])) {
    return false;
  }
  if (text[10] != 'T' && text[10] != 't' && text[10] != ' ') {
    return false;
  }
  if (!digits(text, 11, 2) || text[13] != ':' || !digits(text, 14, 2) || text[16] != ':' ||
      !digits(text, 17, 2)) {
    return false;
  }
  const int hour = number_at(text, 11, 2);
  const int minute = number_at(text, 14, 2);
  const int second = number_at(text, 17, 2);
  std::size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    const std::size_t start = ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      ++pos;
    }
    if (pos == start) {
      return false;
    }
  }
  if (pos >= text.size()) {
    return false;  // the offset is mandatory
  }
  int offset_sign = 1;
  int offset_hour = 0;
  int offset_minute = 0;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    offset_sign = text[pos] == '-' ? -1 : 1;
    if (!digits(text, pos + 1, 2)) {
      return false;
    }
    offset_hour = number_at(text, pos + 1, 2);
    pos += 3;
    if (pos < text.size()) {
      if (text[pos] == ':') {
        ++pos;
      }
      if (!digits(text, pos, 2)) {
        return false;
      }
      offset_minute = number_at(text, pos, 2);
      pos += 2;
    }
  } else {
    return false;
  }
  if (pos != text.size() || offset_hour > 23 || offset_minute > 59) {
    return false;
  }
  if (hour <= 23 && minute <= 59 && second <= 59) {
    return true;
  }
  // A leap second is 23:59:60 in UTC.
  const int utc_minute = minute - offset_minute * offset_sign;
  const int utc_hour = hour - offset_hour * offset_sign - (utc_minute < 0 ? 1 : 0);
  return (utc_hour == 23 || utc_hour == -1) && (utc_minute == 59 || utc_minute == -1) &&
         second <= 60;
}

// An absolute URI (scheme ":" then URI characters), e.g. "ftp://host/path".
bool is_uri(std::string_view text) {
  if (text.empty() || std::isalpha(static_cast<unsigned char>(text[0])) == 0) {
    return false;
  }
  std::size_t pos = 1;
  while (pos < text.size() && (std::isalnum(static_cast<unsigned char>(text[pos])) != 0 ||
                               text[pos] == '+' || text[pos] == '-' || text[pos] == '.')) {
    ++pos;
  }
  if (pos >= text.size() || text[pos] != ':') {
    return false;
  }
  static constexpr std::string_view kAllowed = "-._~!$&'()*+,;=:@/?#[]";
  for (++pos; pos < text.size(); ++pos) {
    const auto c = static_cast<unsigned char>(text[pos]);
    if (c == '%') {
      if (pos + 2 >= text.size() || std::isxdigit(static_cast<unsigned char>(text[pos + 1])) == 0 ||
          std::isxdigit(static_cast<unsigned char>(text[pos + 2])) == 0) {
        return false;
      }
      pos += 2;
    } else if (std::isalnum(c) == 0 && kAllowed.find(static_cast<char>(c)) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

std::size_t code_points(std::string_view text) {
  std::size_t count = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) {
      ++count;
    }
  }
  return count;
}

// ---------------------------------------------------------------------------------
// The checker.

std::string_view type_name(Type type) {
  switch (type) {
    case Type::kString:
      return "string";
    case Type::kInteger:
      return "integer";
    case Type::kNumber:
      return "number";
    case Type::kBoolean:
      return "boolean";
    case Type::kObject:
      return "object";
    case Type::kArray:
      return "array";
  }
  return "value";
}

bool has_type(const nlohmann::json& value, Type type) {
  switch (type) {
    case Type::kString:
      return value.is_string();
    case Type::kInteger: {
      if (value.is_number_integer()) {
        return true;
      }
      if (!value.is_number_float()) {
        return false;
      }
      const double d = value.get<double>();
      return std::isfinite(d) && std::floor(d) == d;
    }
    case Type::kNumber:
      return value.is_number();
    case Type::kBoolean:
      return value.is_boolean();
    case Type::kObject:
      return value.is_object();
    case Type::kArray:
      return value.is_array();
  }
  return false;
}

std::string join(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

Violation violation(ErrorCode code, const std::string& path, std::string_view what) {
  return Violation{code, (path.empty() ? std::string("payload") : path) + ": " + std::string(what)};
}

std::optional<Violation> check(const Node& node, const nlohmann::json& value,
                               const std::string& path) {
  if (!has_type(value, node.type)) {
    return violation(ErrorCode::kTypeConstraintViolation, path,
                     "expected " + std::string(type_name(node.type)));
  }
  switch (node.type) {
    case Type::kString: {
      const auto& text = value.get_ref<const std::string&>();
      if (node.max_length != 0 && code_points(text) > node.max_length) {
        return violation(ErrorCode::kPropertyConstraintViolation, path,
                         "longer than " + std::to_string(node.max_length) + " characters");
      }
      if (!node.enum_values.empty()) {
        bool found = false;
        for (const auto allowed : node.enum_values) {
          found = found || allowed == text;
        }
        if (!found) {
          return violation(ErrorCode::kPropertyConstraintViolation, path,
                           "not one of the allowed values");
        }
      }
      if (node.format == Format::kDateTime && !is_date_time(text)) {
        return violation(ErrorCode::kPropertyConstraintViolation, path,
                         "not an RFC 3339 date-time");
      }
      if (node.format == Format::kUri && !is_uri(text)) {
        return violation(ErrorCode::kPropertyConstraintViolation, path, "not a URI");
      }
      return std::nullopt;
    }
    case Type::kNumber: {
      if (node.multiple_of != 0) {
        const double quotient = value.get<double>() / node.multiple_of;
        if (!std::isfinite(quotient) || std::fabs(std::round(quotient) - quotient) > 1e-6) {
          return violation(ErrorCode::kPropertyConstraintViolation, path,
                           "not a multiple of " + nlohmann::json(node.multiple_of).dump());
        }
      }
      return std::nullopt;
    }
    case Type::kInteger:
    case Type::kBoolean:
      return std::nullopt;
    case Type::kArray: {
      if (value.size() < node.min_items) {
        return violation(ErrorCode::kOccurenceConstraintViolation, path,
                         "needs at least " + std::to_string(node.min_items) + " item(s)");
      }
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (auto bad = check(*node.items, value[i], path + "[" + std::to_string(i) + "]")) {
          return bad;
        }
      }
      return std::nullopt;
    }
    case Type::kObject: {
      for (const auto& property : node.properties) {
        const auto it = value.find(property.name);
        if (it == value.end()) {
          if (property.required) {
            return violation(ErrorCode::kOccurenceConstraintViolation,
                             join(path, property.name), "required property missing");
          }
          continue;
        }
        if (auto bad = check(*property.node, *it, join(path, property.name))) {
          return bad;
        }
      }
      for (const auto& [key, unused] : value.items()) {
        bool known = false;
        for (const auto& property : node.properties) {
          known = known || property.name == key;
        }
        if (!known) {
          return violation(ErrorCode::kPropertyConstraintViolation, join(path, key),
                           "property not allowed");
        }
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<Violation> check_payload(const Node& schema, const nlohmann::json& payload) {
  if (!payload.is_object()) {
    return Violation{ErrorCode::kFormationViolation, "payload: expected a JSON object"};
  }
  try {
    return check(schema, payload, "");
  } catch (const std::exception&) {  // defensive: the checker is not expected to throw
    return Violation{ErrorCode::kInternalError, "payload: could not be validated"};
  }
}

const NodePtr* find(const Table& table, std::string_view action) {
  const auto it = table.find(action);
  return it == table.end() ? nullptr : &it->second;
}

Violation unknown_action(std::string_view action) {
  return Violation{ErrorCode::kNotImplemented,
                   "action " + nlohmann::json(std::string(action)).dump(
                                   -1, ' ', false, nlohmann::json::error_handler_t::replace) +
                       " is not an OCPP 1.6 action"};
}

}  // namespace

ActionKind classify_action(std::string_view action) {
  const auto& s = schemas();
  if (find(s.charger_requests, action) != nullptr) {
    return ActionKind::kChargerToCsms;
  }
  if (find(s.csms_commands, action) != nullptr) {
    return ActionKind::kCsmsToCharger;
  }
  return ActionKind::kUnknown;
}

std::optional<Violation> validate_request(std::string_view action,
                                          const nlohmann::json& payload) {
  const auto& s = schemas();
  if (const auto* schema = find(s.charger_requests, action)) {
    return check_payload(**schema, payload);
  }
  if (find(s.csms_commands, action) != nullptr) {
    return Violation{ErrorCode::kNotSupported,
                     std::string(action) + " is sent by the central system, not by a charger"};
  }
  return unknown_action(action);
}

std::optional<Violation> validate_response(std::string_view action,
                                           const nlohmann::json& payload) {
  if (const auto* schema = find(schemas().responses, action)) {
    return check_payload(**schema, payload);
  }
  return unknown_action(action);
}

std::optional<Violation> validate_command(std::string_view action,
                                          const nlohmann::json& payload) {
  const auto& s = schemas();
  if (const auto* schema = find(s.csms_commands, action)) {
    return check_payload(**schema, payload);
  }
  if (find(s.charger_requests, action) != nullptr) {
    return Violation{ErrorCode::kNotSupported,
                     std::string(action) + " is sent by a charger, not by the central system"};
  }
  return unknown_action(action);
}

}  // namespace genx::ocpp::v16

namespace genx::ocpp {

// The formats both versions' schemas use (ocpp/formats.hpp).
bool is_rfc3339_date_time(std::string_view text) { return v16::is_date_time(text); }
std::size_t utf8_code_points(std::string_view text) { return v16::code_points(text); }

}  // namespace genx::ocpp
