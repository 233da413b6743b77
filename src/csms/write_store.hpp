#pragma once
// The write port of the business rules: what MessageProcessor needs from a database,
// and nothing of how a database does it. Implemented by each backend in store/ (SQLite,
// PostgreSQL); tests implement it with an in-memory fake.
//
// Promises of an implementation:
// - in_transaction(work) runs work against one database transaction: it commits when
//   work returns and rolls back when work throws (the exception then propagates).
//   A committed unit of work is durable. Units of work on one database are serializable
//   with respect to each other, including across processes sharing the database.
// - When the database is busy, locked or unreachable, it throws
//   TransientStoreError (nothing is committed); the caller may retry the whole
//   unit of work. Any other exception is a bug or bad data.
// - A UnitOfWork reference is valid only inside the call that received it.
// - Timestamps are passed and returned as text, ISO 8601 UTC ("2024-01-15T10:30:00.000Z").
// Thread-safety: one WriteStore object is used by one thread at a time.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "csms/diagnostics.hpp"
#include "csms/firmware.hpp"
#include "csms/reservations.hpp"
#include "csms/tariff.hpp"
#include "csms/store_error.hpp"

namespace genx::csms {

// A charging profile or charging limit a 2.0.1 station reported (docs/smart-charging.md): listed by
// GET /api/chargers/{id}/charging-profiles with source "charger".
struct ReportedProfile {
  std::string charge_point_id;
  int connector_id = 0;  // the EVSE (0: the station)
  std::string action;    // ReportChargingProfiles, NotifyChargingLimit or ClearedChargingLimit
  std::optional<std::int64_t> charging_profile_id;
  std::optional<std::string> purpose;
  std::optional<std::int64_t> stack_level;
  std::optional<double> limit;  // first period of the first schedule
  std::string request;          // JSON text: what the station reported
  std::string status;           // the chargingLimitSource (EMS, Other, SO, CSO)
  std::string at;               // when it arrived
};

// The idempotency key of a charger message (DESIGN.md "Delivery guarantees").
struct MessageKey {
  std::string device_id;
  std::string unique_id;
  std::string action;
};

// What a BootNotification tells about a charger, plus the decision taken.
struct ChargerBoot {
  std::string charge_point_id;
  std::string vendor;
  std::string model;
  std::optional<std::string> serial_number;             // chargePointSerialNumber
  std::optional<std::string> charge_box_serial_number;
  std::optional<std::string> firmware_version;
  std::optional<std::string> iccid;
  std::optional<std::string> imsi;
  std::optional<std::string> meter_type;
  std::optional<std::string> meter_serial_number;
  std::string registration_status;  // Accepted, Pending or Rejected
  std::string boot_at;
};

struct ChargerRecord {
  std::int64_t id = 0;
  std::string charge_point_id;
  std::optional<std::string> registration_status;  // from the last boot; nullopt before any
  bool pre_registered = false;                     // provisioned by the operator
};

// One connector's state; connector_id 0 is the charge point itself.
struct ConnectorStatus {
  int connector_id = 0;
  std::string status;
  std::string error_code;
  std::optional<std::string> info;
  std::optional<std::string> vendor_error_code;
  std::string updated_at;  // the charger's timestamp when it sent one, else when received
};

struct IdTagRecord {
  std::string id_tag;
  std::string status;  // Accepted, Blocked, Expired, Invalid, ConcurrentTx
  std::optional<std::string> expiry_date;
  std::optional<std::string> parent_id_tag;
};

struct NewTransaction {
  std::int64_t charger_id = 0;
  int connector_id = 0;
  std::string id_tag;
  std::string id_tag_status;  // the idTagInfo.status answered at start
  std::string id_tag_info;    // the whole idTagInfo answered at start, as JSON text
  std::int64_t meter_start = 0;  // Wh
  std::string started_at;
  std::optional<std::int64_t> reservation_id;
  std::optional<std::string> ocpp_transaction_id;  // 2.0.1: the station's transactionId
};

struct TransactionRecord {
  std::int64_t id = 0;
  std::int64_t charger_id = 0;
  int connector_id = 0;
  std::string id_tag;
  std::string id_tag_status;                // idTagInfo.status answered at start
  std::optional<std::string> id_tag_info;   // the idTagInfo answered (JSON); none before schema 8
  std::int64_t meter_start = 0;
  std::string started_at;
  std::optional<std::int64_t> meter_stop;
  std::optional<std::string> stopped_at;
  std::optional<std::string> stop_reason;
  bool active() const { return !stopped_at.has_value(); }
};

// What identifies a StartTransaction by its content: a charger that resends one (under a
// new OCPP message id, after an error or a timeout) sends these same values again.
struct TransactionStartKey {
  std::int64_t charger_id = 0;
  int connector_id = 0;
  std::string id_tag;
  std::int64_t meter_start = 0;
  std::string started_at;  // canonical form (normalize_timestamp)
};

struct TransactionStop {
  std::int64_t meter_stop = 0;  // Wh
  std::string stopped_at;
  std::string reason;
  std::optional<std::string> id_tag;
  // The session's billed energy (csms::session_energy_wh) and cost (csms::session_cost_minor).
  std::optional<std::int64_t> energy_wh;
  std::optional<std::int64_t> cost_minor;
  std::optional<std::string> currency;
};

// One sampledValue of a MeterValues or StopTransaction.transactionData, as sent.
struct MeterSample {
  std::int64_t charger_id = 0;
  std::optional<std::int64_t> transaction_id;
  int connector_id = 0;
  std::string timestamp;
  std::string value;
  std::optional<std::string> context;
  std::optional<std::string> format;
  std::optional<std::string> measurand;
  std::optional<std::string> phase;
  std::optional<std::string> location;
  std::optional<std::string> unit;
};

// The stored result of a processed message: the serialized Reply and its domain events
// as JSON ({"timestamp":...,"events":[{"type","deviceId","fields"}]}); events is empty
// for a message stored before schema version 6 (nothing to republish).
struct ProcessedMessage {
  std::string reply;
  std::string events;
};

// One TransactionEvent (2.0.1) as recorded for idempotency: once per (charger,
// transactionId, seqNo).
struct TransactionEventRecord {
  std::int64_t charger_id = 0;
  std::string ocpp_transaction_id;
  std::int64_t seq_no = 0;
  std::string event_type;      // Started, Updated, Ended
  std::string trigger_reason;
  bool offline = false;
  std::string timestamp;       // the station's, canonical
  std::string received_at;
};

// What a later (or earlier-stamped) TransactionEvent teaches about a 2.0.1 transaction's
// start: the reconstruction of transactions that arrive out of order.
struct TransactionStartUpdate {
  int connector_id = 0;
  std::string id_tag;
  std::string id_tag_status;
  std::int64_t meter_start = 0;
  std::string started_at;
};

// One attribute of one variable of one component of a 2.0.1 station's device model
// (NotifyReport reportData). evse_id / connector_id -1: not EVSE-specific.
struct DeviceModelEntry {
  std::string component;
  std::string component_instance;
  int evse_id = -1;
  int connector_id = -1;
  std::string variable;
  std::string variable_instance;
  std::string attribute_type = "Actual";
  std::optional<std::string> value;
  std::optional<std::string> mutability;
  std::optional<bool> persistent;
  std::optional<bool> constant;
  std::optional<std::string> characteristics;  // JSON text
};

// One row of the message log (the guide's ChargerData).
struct MessageLogEntry {
  std::string device_id;
  std::string direction;  // "in" (charger to CSMS) or "out" (our reply)
  std::string action;
  std::string unique_id;
  std::string payload;    // the raw frame for "in", the serialized reply for "out"
  std::string timestamp;
};

// A diagnostics request whose status a charger's notification changed.
struct DiagnosticsStatusChange {
  DiagnosticsFile file;  // as stored after
  std::string previous_status;
};

class UnitOfWork {
 public:
  virtual ~UnitOfWork() = default;

  // Idempotency: what was stored for key, if the message was processed. The events are
  // kept with the reply (same transaction) so a redelivery can publish them again.
  virtual std::optional<ProcessedMessage> find_processed_reply(const MessageKey& key) = 0;
  virtual void save_processed_reply(const MessageKey& key, const ProcessedMessage& processed,
                                    std::string_view processed_at) = 0;

  // Creates the charger row when missing, sets last-seen; returns the charger id.
  virtual std::int64_t touch_charger(std::string_view charge_point_id,
                                     std::string_view seen_at) = 0;
  virtual std::optional<ChargerRecord> find_charger(std::string_view charge_point_id) = 0;
  // Creates or updates the charger from a boot; returns the charger id.
  virtual std::int64_t upsert_charger_boot(const ChargerBoot& boot) = 0;
  virtual void set_diagnostics_status(std::int64_t charger_id, std::string_view status) = 0;
  virtual void set_firmware_status(std::int64_t charger_id, std::string_view status) = 0;

  virtual std::optional<ConnectorStatus> find_connector_status(std::int64_t charger_id,
                                                               int connector_id) = 0;
  // Creates or replaces the connector's state; returns the state it replaced.
  virtual std::optional<ConnectorStatus> upsert_connector_status(
      std::int64_t charger_id, const ConnectorStatus& status) = 0;

  virtual std::optional<IdTagRecord> find_id_tag(std::string_view id_tag) = 0;

  // Returns the new transaction id (unique, never reused).
  virtual std::int64_t create_transaction(const NewTransaction& transaction) = 0;
  virtual std::optional<TransactionRecord> find_transaction(std::int64_t transaction_id) = 0;
  virtual std::optional<TransactionRecord> find_active_transaction(std::int64_t charger_id,
                                                                   int connector_id) = 0;
  // The transaction (active or stopped) a StartTransaction with this content created, if
  // any: the lowest id when several match.
  virtual std::optional<TransactionRecord> find_transaction_by_start(
      const TransactionStartKey& key) = 0;
  virtual void stop_transaction(std::int64_t transaction_id, const TransactionStop& stop) = 0;
  // A StartTransaction's reservationId: when reservation `reservation_id` belongs to this
  // charger and is Requested, Accepted or Expired (the charger, not our clock, decides
  // whether it still held it), marks it Used by the transaction and returns it as stored
  // after; nullopt when there is nothing to consume (unknown, another charger's, already
  // used or cancelled).
  virtual std::optional<Reservation> use_reservation(std::int64_t reservation_id, std::int64_t charger_id,
                                                     std::int64_t transaction_id, std::string_view at) = 0;

  // Stores the samples that are not stored yet and returns how many it stored. A sample is
  // already stored when one with the same charger, connector, transaction (or none),
  // timestamp, measurand, phase, location and context exists (the first one stays).
  virtual std::size_t insert_meter_samples(const std::vector<MeterSample>& samples) = 0;
  // The transaction's energy register readings in Wh (csms::register_wh), ordered by
  // sample timestamp then insertion.
  virtual std::vector<std::int64_t> transaction_register_readings(std::int64_t transaction_id) = 0;
  // Every status report a connector made, in the order received (analytics derives
  // charging, idle and fault time from it).
  virtual void append_status_history(std::int64_t charger_id, const ConnectorStatus& status) = 0;
  // The operator's per-charger tariff override (genx tariff set), if any.
  virtual std::optional<Tariff> find_tariff(std::string_view charge_point_id) = 0;
  virtual void append_message_log(const MessageLogEntry& entry) = 0;

  // ---- OCPP 2.0.1 (docs/ocpp201.md) ----
  // A charging profile or limit a station reported (ReportChargingProfiles,
  // NotifyChargingLimit), kept beside the profiles GenX sent (charging_profiles).
  virtual void record_reported_profile(const ReportedProfile& report) = 0;
  // The protocol version the charger speaks ("1.6" or "2.0.1"), set at each boot.
  virtual void set_charger_ocpp_version(std::int64_t charger_id, std::string_view version) = 0;
  // The 2.0.1 transaction with this station transactionId on this charger.
  virtual std::optional<TransactionRecord> find_transaction_by_ocpp_id(
      std::int64_t charger_id, std::string_view ocpp_transaction_id) = 0;
  // Records the event; false (nothing written) when this (charger, transactionId, seqNo)
  // was recorded before.
  virtual bool record_transaction_event(const TransactionEventRecord& event) = 0;
  virtual void update_transaction_start(std::int64_t transaction_id,
                                        const TransactionStartUpdate& start) = 0;
  // Sets the stop figures of a transaction whether or not it is stopped already (the
  // bill of a 2.0.1 transaction whose events arrived out of order is recomputed).
  virtual void restate_transaction_stop(std::int64_t transaction_id, const TransactionStop& stop) = 0;
  // Creates or replaces each entry (same charger, component, variable and attribute type).
  virtual void upsert_device_model(std::int64_t charger_id, const std::vector<DeviceModelEntry>& entries,
                                   std::string_view updated_at) = 0;

  // ---- Diagnostics and logs (csms/diagnostics.hpp) ----
  // A DiagnosticsStatusNotification (log false: the charger's newest Diagnostics request)
  // or LogStatusNotification (log true: its DiagnosticsLog/SecurityLog request request_id,
  // or its newest log request when there is no requestId) sets that request's status.
  // nullopt when there is no such request or its status was already `status`.
  virtual std::optional<DiagnosticsStatusChange> record_diagnostics_status(std::string_view charge_point_id,
                                                                           bool log,
                                                                           std::optional<std::int64_t> request_id,
                                                                           std::string_view status,
                                                                           std::string_view at) = 0;
  // Firmware management (csms/firmware.hpp) on this unit's transaction; null for a store
  // that keeps no firmware state (test fakes).
  virtual FirmwareUnit* firmware() { return nullptr; }
};

class WriteStore {
 public:
  virtual ~WriteStore() = default;
  // See the promises at the top of this file. Not reentrant: no in_transaction inside work.
  virtual void in_transaction(const std::function<void(UnitOfWork&)>& work) = 0;
};

}  // namespace genx::csms
