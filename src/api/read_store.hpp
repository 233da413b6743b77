#pragma once
// The api's ports (DESIGN.md "Storage"): the read side (JSON documents with the field
// names the REST API publishes, documented in README.md) and what answered commands
// teach (CommandStore). Implemented by each backend in store/.
//
// Errors: csms::TransientStoreError when the database is busy, locked or unreachable
// (the caller may retry); any other exception is a bug or bad data.
// Thread-safety: an object is used by one thread at a time; open one per thread.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "csms/commands.hpp"
#include "csms/store_error.hpp"

namespace genx::api {

using csms::TransientStoreError;

struct TransactionFilter {
  std::optional<std::string> charger;  // charge point identity
  std::optional<bool> active;          // true: only open transactions; false: only stopped
  int limit = 100;
  int offset = 0;
};

// One page of the fleet (docs/api.md, GET /api/chargers).
enum class ChargerSort { kId, kLastSeen, kStatus };

struct ChargerQuery {
  int limit = 100;                     // 1..1000
  int offset = 0;
  ChargerSort sort = ChargerSort::kId;  // id: natural order; lastSeen: newest first; status: most urgent first
  // A charger state word (Faulted, Available, ..., Unknown = never reported), or
  // "online" / "offline" (seen at or after online_since, or not).
  std::optional<std::string> status;
  std::optional<std::string> q;        // substring of id, vendor, model or serial (any case)
  std::string online_since;            // canonical ISO UTC; "" = nobody is online
};

struct ChargerPage {
  nlohmann::json items = nlohmann::json::array();  // chargers as GET /api/chargers/{id}, plus status, online
  std::int64_t total = 0;                          // every charger matching, ignoring limit/offset
};

// The charger states the summary always lists (OCPP 1.6 ChargePointStatus), zeros included.
inline constexpr const char* kChargerStatuses[] = {"Available", "Preparing",   "Charging",
                                                    "SuspendedEVSE", "SuspendedEV", "Finishing",
                                                    "Reserved",  "Unavailable", "Faulted"};

// A range of aggregates (docs/analytics.md).
struct StatsQuery {
  std::string bucket = "hour";          // "hour": UTC hours; "day": days of the operator's zone
  std::optional<std::string> from;      // hour: canonical ISO UTC; day: YYYY-MM-DD (inclusive)
  std::optional<std::string> to;        // same form, exclusive
  std::optional<std::string> charger;   // charge point identity
  // UTC bounds of the range, for facts that are not bucketed (unique id tags).
  std::optional<std::string> from_utc;
  std::optional<std::string> to_utc;
};

class ReadStore {
 public:
  virtual ~ReadStore() = default;
  // Cheap round trip to the database; throws TransientStoreError when unavailable.
  virtual void ping() = 0;
  // A page of chargers matching the query and how many match in all.
  virtual ChargerPage list_chargers(const ChargerQuery& query) = 0;
  // {total, online, offline, byStatus:{word: n}}: counted by the database from indexes;
  // online = seen at or after online_since. byStatus has every kChargerStatuses word,
  // plus any other word in use, and "Unknown" for chargers that never reported one.
  virtual nlohmann::json charger_summary(const std::string& online_since) = 0;
  virtual std::optional<nlohmann::json> charger(std::string_view identity) = 0; // with "connectors"
  virtual nlohmann::json list_transactions(const TransactionFilter& filter) = 0; // array
  // How many transactions match the filter, ignoring limit/offset.
  virtual std::int64_t count_transactions(const TransactionFilter& filter) = 0;
  virtual std::optional<nlohmann::json> transaction(std::int64_t id) = 0;      // with "meterValues"
  // OCPP 2.0.1: the ids of the transactions whose station transactionId is this string
  // (unique per charger; several chargers may use the same one), ascending.
  virtual nlohmann::json transaction_ids_for(std::string_view ocpp_transaction_id) = 0;
  // A 2.0.1 station's device model as NotifyReport told it: [{component, componentInstance,
  // evseId, connectorId, variable, variableInstance, attributeType, value, mutability,
  // persistent, constant, characteristics, updatedAt}]; nullopt when the charger is unknown.
  virtual std::optional<nlohmann::json> device_model(std::string_view identity) = 0;
  // Aggregates per bucket, summed over connectors and chargers (or one charger), oldest
  // first: [{bucket, bucketStart, bucketEnd, sessionsStarted, sessionsCompleted, energyWh,
  // sessionMs, chargingMs, occupiedMs, faultedMs, faults, revenueMinor, peakPowerW}].
  virtual nlohmann::json stats_series(const StatsQuery& query) = 0;
  // The same figures over the whole range per charger: [{chargePointId, connectors, ...}],
  // every known charger (zeros when it has no rows), ordered by chargePointId.
  virtual nlohmann::json stats_by_charger(const StatsQuery& query) = 0;
  // Distinct id tags of transactions started in [from_utc, to_utc).
  virtual std::int64_t stats_unique_id_tags(const StatsQuery& query) = 0;
  // Connectors (id > 0) known for the charger, or for the site.
  virtual std::int64_t stats_connector_count(const std::optional<std::string>& charger) = 0;
};

// What answered commands teach (api commands; docs/commands.md).
class CommandStore {
 public:
  virtual ~CommandStore() = default;
  // Records what an answered command taught (GetConfiguration keys, an accepted
  // ChangeConfiguration value, a ChangeAvailability per connector) in one transaction;
  // creates the charger row when the charger never booted. Idempotent per effect.
  virtual void record_command_effect(std::string_view identity, const csms::CommandEffect& effect) = 0;
  // {chargePointId, configurationKey:[{key, value, readonly, rebootRequired, source,
  // updatedAt}], unknownKey:[...], availability:[{connectorId, availability, scheduled,
  // updatedAt}]}; nullopt when the charger is unknown.
  virtual std::optional<nlohmann::json> charger_configuration(std::string_view identity) = 0;
};

// Whether a charger document (ReadStore::charger) is an OCPP 2.0.1 station: its commands
// take the 2.0.1 form and schemas (docs/ocpp201.md).
inline bool is_ocpp201(const nlohmann::json& charger) { return charger.value("ocppVersion", "1.6") == "2.0.1"; }

}  // namespace genx::api
