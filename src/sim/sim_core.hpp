#pragma once
// The pure parts of `genx sim` (no I/O, no clock reads): the latency histogram and its
// percentiles, the report (merge, JSON, table) and the per-charger call script that
// decides which OCPP 1.6 call a virtual charger sends next and after what pause.
//
// Promises: deterministic for a given seed; nothing here throws on well-formed input;
// report_from_json throws std::invalid_argument naming the field when input is bad.
// Thread-compatible (one object per thread or external locking).
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "smart/profiles.hpp"

namespace genx::sim {

// Log-linear histogram of latencies in microseconds: exact below 128 µs, then 64
// sub-buckets per power of two (relative error < 1.6%). Merging adds counts, so the
// reports of several processes combine exactly.
class LatencyHistogram {
 public:
  static constexpr int kSubBits = 6;  // 64 sub-buckets per octave
  static constexpr std::size_t kBuckets = 64 * 40;

  void record(std::uint64_t micros);
  void merge(const LatencyHistogram& other);
  std::uint64_t count() const { return count_; }
  std::uint64_t max() const { return max_; }
  // Smallest recorded value v (bucket upper bound, capped at max) such that at least
  // q * count values are <= v. q in [0, 1]; 0 when empty.
  std::uint64_t percentile(double q) const;
  nlohmann::json to_json() const;  // sparse: {"max":..,"buckets":[[index,count],...]}
  static LatencyHistogram from_json(const nlohmann::json& j);

  static std::size_t bucket_of(std::uint64_t micros);
  static std::uint64_t bucket_upper(std::size_t bucket);

 private:
  std::vector<std::uint64_t> counts_ = std::vector<std::uint64_t>(kBuckets, 0);
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
};

// What one run (or the merge of several processes' runs) measured.
struct SimReport {
  std::string profile;
  std::uint64_t chargers = 0;             // virtual chargers asked for
  std::uint64_t connected_peak = 0;       // most connected at the same time
  std::uint64_t connected_at_end = 0;     // connected when the run ended
  std::uint64_t booted = 0;               // chargers whose BootNotification was Accepted
  std::uint64_t chargers_ocpp201 = 0;     // of the chargers, those speaking OCPP 2.0.1
  std::uint64_t booted_ocpp201 = 0;       // of the booted, those speaking OCPP 2.0.1
  std::uint64_t connect_failures = 0;     // TCP/WebSocket connects that failed (retried)
  std::uint64_t disconnects = 0;          // connections lost unexpectedly
  std::uint64_t calls_sent = 0;
  std::uint64_t calls_answered = 0;       // CALLRESULTs (valid or not) + CALLERRORs
  std::uint64_t call_errors = 0;          // CALLERROR answers
  std::uint64_t invalid_responses = 0;    // CALLRESULT payloads that fail validate_response
  std::uint64_t timeouts = 0;             // calls with no answer within the call timeout
  double measured_seconds = 0;            // steady-state window (after ramp-up)
  std::uint64_t measured_answered = 0;    // answers within the window
  std::optional<double> storm_seconds;    // reconnect storm: drop until all re-answered
  std::uint64_t storm_chargers = 0;       // chargers that completed the storm sequence
  std::map<std::string, std::uint64_t> answered_by_action;
  std::map<std::string, std::uint64_t> errors_by_code;
  LatencyHistogram latency;               // every answered call in the window

  double calls_per_second() const;
  void merge(const SimReport& other);     // processes ran side by side: sums; seconds = max
  nlohmann::json to_json() const;         // includes the histogram (for merging)
  std::string table() const;              // human-readable summary
};
SimReport report_from_json(const nlohmann::json& j);

enum class Profile {
  kRealistic,  // ticks every interval: mostly MeterValues/Status/Heartbeat, a share in session
  kFlatOut,    // the realistic mix with no pause: the next call as soon as one is answered
  kRpc,        // Authorize, StartTransaction, StopTransaction, BootNotification, no pause
  kIdle,       // boot, two statuses, then a Heartbeat every interval
};
std::optional<Profile> profile_from_string(std::string_view name);
std::string_view to_string(Profile profile);

struct ScriptOptions {
  Profile profile = Profile::kRealistic;
  std::chrono::milliseconds interval{10000};  // realistic/idle tick
  double session_share = 0.5;                 // steady-state share of chargers in a session
  int session_ticks = 20;                     // MeterValues per session
  std::string id_tag = "SIMTAG";
  double car_max_current_a = 32;  // what the car draws per phase when no profile limits it
  int phases = 3;
  bool ocpp201 = false;  // speak OCPP 2.0.1 (TransactionEvent etc.) instead of 1.6
};

// Which chargers of a fleet speak 2.0.1: charger n (its global index) does when the
// share of 2.0.1 chargers among 0..n grows at n, so the 2.0.1 chargers are spread evenly
// over the fleet and every process of a multi-process run agrees (share 0: none, 1: all).
bool is_ocpp201_charger(std::size_t index, double share);

struct PlannedCall {
  std::string action;
  nlohmann::json payload;
  std::chrono::milliseconds delay{0};  // pause before sending it
};

// One charger's script. After a (re)connect call restart(): the next three calls are
// BootNotification and StatusNotification for connectors 0 and 1. next() returns the
// next call; on_result() feeds back each answer (so StartTransaction's transactionId
// reaches the MeterValues and StopTransaction that follow, and a boot that is not
// Accepted is retried after the interval). The caller keeps at most one call in flight.
class ChargerScript {
 public:
  ChargerScript(ScriptOptions options, std::string identity, std::uint64_t seed);

  void restart();
  PlannedCall next(std::string_view now_iso);  // in the charger's OCPP version
  // answer = CALLRESULT payload, or nullopt for a CALLERROR / timeout.
  void on_result(std::string_view action, const std::optional<nlohmann::json>& answer);
  // True while the boot sequence (Boot + 2 statuses) is not fully answered.
  bool in_boot_sequence() const { return boot_sequence_left_ > 0; }
  bool in_session() const { return transaction_id_.has_value(); }

  // A call from the CSMS (Smart Charging): SetChargingProfile, ClearChargingProfile and
  // GetCompositeSchedule are answered from the profiles this charger holds; the answer
  // payload, or nullopt for a call the script does not handle. A profile that changes
  // the draw of the running session queues a MeterValues stamped with this moment, so
  // the measured load follows the profile from the second it was accepted.
  std::optional<nlohmann::json> on_csms_call(std::string_view action, const nlohmann::json& payload,
                                             std::string_view now_iso);
  // Amperes per phase drawn now: 0 outside a session, else the car's maximum capped by
  // the composite limit of the accepted profiles.
  double draw_a(std::string_view now_iso) const;

  bool ocpp201() const { return options_.ocpp201; }
  // 2.0.1: a CSMS call asked for something to send now (NotifyReport, a remote start or
  // stop, a triggered message) while the charger waits to send `waiting`: the caller
  // hands the waiting call back with defer() and asks next() again, which sends the
  // asked-for calls first and then the deferred one.
  bool has_urgent() const;
  void defer(PlannedCall waiting);
  // The running 2.0.1 transaction's id (the station's own string), empty outside one.
  const std::string& ocpp201_transaction_id() const { return tx201_id_; }

 private:
  // OCPP 2.0.1: the 1.6 call the script planned, in its 2.0.1 form (v201_sim.cpp); the
  // answer of the 2.0.1 call in the 1.6 form the script understands.
  void to_ocpp201(PlannedCall& call, std::string_view now_iso);
  std::optional<nlohmann::json> answer_from_ocpp201(std::string_view action,
                                                    const std::optional<nlohmann::json>& answer);
  std::optional<nlohmann::json> on_csms_call_201(std::string_view action, const nlohmann::json& payload,
                                                 std::string_view now_iso);
  nlohmann::json notify_report(int request_id, const nlohmann::json& filter, std::string_view now_iso);

  PlannedCall plan(std::string_view now_iso);  // the next call in its 1.6 form
  PlannedCall tick(std::string_view now_iso, std::chrono::milliseconds delay);
  nlohmann::json meter_values(std::string_view at_iso);
  std::chrono::milliseconds jittered_interval();

  ScriptOptions options_;
  std::string identity_;
  std::mt19937_64 rng_;
  int boot_sequence_left_ = 3;
  bool boot_pending_answer_ = false;
  bool boot_accepted_ = false;
  bool first_tick_ = true;  // the first pause is spread over one interval
  bool ticked_ = false;     // the first tick decides the starting session state
  std::vector<std::string> chain_;  // actions to send right away, in order
  std::optional<std::int64_t> transaction_id_;
  bool starting_ = false;
  int meter_ticks_left_ = 0;
  std::int64_t meter_wh_ = 0;
  int rpc_step_ = 0;
  std::vector<smart::InstalledProfile> profiles_;
  std::string tx_started_at_;
  std::optional<std::string> change_sample_at_;  // a draw change not yet reported
  // OCPP 2.0.1 state: the planned 1.6 action behind the call in flight, the station's
  // transaction id and its next seqNo, a pending remote start/stop, the device model.
  std::string v16_action_;
  std::string tx201_id_;
  std::int64_t tx201_counter_ = 0;
  std::int64_t seq_no_ = 0;
  std::optional<std::int64_t> remote_start_id_;
  std::optional<nlohmann::json> remote_id_token_;  // the idToken of RequestStartTransaction
  bool remote_stop_ = false;
  std::optional<std::pair<PlannedCall, std::string>> deferred_;  // call and its 1.6 action
  std::vector<std::pair<int, nlohmann::json>> reports_;  // NotifyReport calls to send: requestId, filter
  std::map<std::string, std::string> variable_values_;  // SetVariables changes: "component/variable" -> value
};

// ISO 8601 UTC with milliseconds from milliseconds since the epoch.
std::string iso_time(std::int64_t unix_millis);

}  // namespace genx::sim
