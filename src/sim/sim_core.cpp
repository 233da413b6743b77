#include "sim/sim_core.hpp"

#include "messages/timestamp.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace genx::sim {

// ---------------------------------------------------------------- LatencyHistogram

std::size_t LatencyHistogram::bucket_of(std::uint64_t micros) {
  if (micros < 128) return static_cast<std::size_t>(micros);
  int msb = 63 - std::countl_zero(micros);
  int shift = msb - kSubBits;
  std::size_t index = 128 + static_cast<std::size_t>(msb - 7) * 64 +
                      static_cast<std::size_t>((micros >> shift) - 64);
  return std::min(index, kBuckets - 1);
}

std::uint64_t LatencyHistogram::bucket_upper(std::size_t bucket) {
  if (bucket < 128) return bucket;
  std::size_t octave = (bucket - 128) / 64;
  std::size_t sub = (bucket - 128) % 64;
  int shift = static_cast<int>(octave) + 7 - kSubBits;
  return ((64 + sub + 1) << shift) - 1;
}

void LatencyHistogram::record(std::uint64_t micros) {
  ++counts_[bucket_of(micros)];
  ++count_;
  max_ = std::max(max_, micros);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

std::uint64_t LatencyHistogram::percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  auto target = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  if (target == 0) target = 1;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= target) return std::min(bucket_upper(i), max_);
  }
  return max_;
}

nlohmann::json LatencyHistogram::to_json() const {
  nlohmann::json buckets = nlohmann::json::array();
  for (std::size_t i = 0; i < kBuckets; ++i) {
    if (counts_[i] != 0) buckets.push_back({i, counts_[i]});
  }
  return {{"max", max_}, {"buckets", buckets}};
}

LatencyHistogram LatencyHistogram::from_json(const nlohmann::json& j) {
  LatencyHistogram h;
  if (!j.is_object() || !j.contains("max") || !j.contains("buckets") || !j["buckets"].is_array()) {
    throw std::invalid_argument("latency histogram: expected {max, buckets}");
  }
  h.max_ = j["max"].get<std::uint64_t>();
  for (const auto& b : j["buckets"]) {
    if (!b.is_array() || b.size() != 2) throw std::invalid_argument("latency histogram: bad bucket");
    auto index = b[0].get<std::size_t>();
    auto n = b[1].get<std::uint64_t>();
    if (index >= kBuckets) throw std::invalid_argument("latency histogram: bucket out of range");
    h.counts_[index] += n;
    h.count_ += n;
  }
  return h;
}

// ---------------------------------------------------------------- SimReport

double SimReport::calls_per_second() const {
  return measured_seconds > 0 ? static_cast<double>(measured_answered) / measured_seconds : 0.0;
}

void SimReport::merge(const SimReport& o) {
  if (profile.empty()) profile = o.profile;
  chargers += o.chargers;
  connected_peak += o.connected_peak;
  connected_at_end += o.connected_at_end;
  booted += o.booted;
  chargers_ocpp201 += o.chargers_ocpp201;
  booted_ocpp201 += o.booted_ocpp201;
  connect_failures += o.connect_failures;
  disconnects += o.disconnects;
  calls_sent += o.calls_sent;
  calls_answered += o.calls_answered;
  call_errors += o.call_errors;
  invalid_responses += o.invalid_responses;
  timeouts += o.timeouts;
  // Processes measure side by side over (nearly) the same window: rates add up.
  measured_seconds = std::max(measured_seconds, o.measured_seconds);
  measured_answered += o.measured_answered;
  if (o.storm_seconds) storm_seconds = std::max(storm_seconds.value_or(0.0), *o.storm_seconds);
  storm_chargers += o.storm_chargers;
  for (const auto& [k, v] : o.answered_by_action) answered_by_action[k] += v;
  for (const auto& [k, v] : o.errors_by_code) errors_by_code[k] += v;
  latency.merge(o.latency);
}

nlohmann::json SimReport::to_json() const {
  auto ms = [](std::uint64_t micros) { return static_cast<double>(micros) / 1000.0; };
  nlohmann::json j = {
      {"profile", profile},
      {"chargers", chargers},
      {"connectedPeak", connected_peak},
      {"connectedAtEnd", connected_at_end},
      {"booted", booted},
      {"chargersOcpp201", chargers_ocpp201},
      {"bootedOcpp201", booted_ocpp201},
      {"connectFailures", connect_failures},
      {"disconnects", disconnects},
      {"callsSent", calls_sent},
      {"callsAnswered", calls_answered},
      {"callErrors", call_errors},
      {"invalidResponses", invalid_responses},
      {"timeouts", timeouts},
      {"measuredSeconds", measured_seconds},
      {"measuredAnswered", measured_answered},
      {"callsPerSecond", calls_per_second()},
      {"latencyMs",
       {{"count", latency.count()},
        {"p50", ms(latency.percentile(0.50))},
        {"p90", ms(latency.percentile(0.90))},
        {"p99", ms(latency.percentile(0.99))},
        {"p999", ms(latency.percentile(0.999))},
        {"max", ms(latency.max())}}},
      {"answeredByAction", answered_by_action},
      {"errorsByCode", errors_by_code},
      {"stormSeconds", storm_seconds ? nlohmann::json(*storm_seconds) : nlohmann::json(nullptr)},
      {"stormChargers", storm_chargers},
      {"latencyHistogramMicros", latency.to_json()},
  };
  return j;
}

SimReport report_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("sim report: expected a JSON object");
  SimReport r;
  auto u = [&](const char* key) -> std::uint64_t {
    if (!j.contains(key) || !j[key].is_number_unsigned()) {
      throw std::invalid_argument(std::string("sim report: ") + key + " missing or not a count");
    }
    return j[key].get<std::uint64_t>();
  };
  r.profile = j.value("profile", "");
  r.chargers = u("chargers");
  r.connected_peak = u("connectedPeak");
  r.connected_at_end = u("connectedAtEnd");
  r.booted = u("booted");
  if (j.contains("chargersOcpp201")) r.chargers_ocpp201 = u("chargersOcpp201");
  if (j.contains("bootedOcpp201")) r.booted_ocpp201 = u("bootedOcpp201");
  r.connect_failures = u("connectFailures");
  r.disconnects = u("disconnects");
  r.calls_sent = u("callsSent");
  r.calls_answered = u("callsAnswered");
  r.call_errors = u("callErrors");
  r.invalid_responses = u("invalidResponses");
  r.timeouts = u("timeouts");
  r.measured_answered = u("measuredAnswered");
  r.storm_chargers = u("stormChargers");
  r.measured_seconds = j.value("measuredSeconds", 0.0);
  if (j.contains("stormSeconds") && j["stormSeconds"].is_number()) {
    r.storm_seconds = j["stormSeconds"].get<double>();
  }
  if (j.contains("answeredByAction")) {
    r.answered_by_action = j["answeredByAction"].get<std::map<std::string, std::uint64_t>>();
  }
  if (j.contains("errorsByCode")) {
    r.errors_by_code = j["errorsByCode"].get<std::map<std::string, std::uint64_t>>();
  }
  if (!j.contains("latencyHistogramMicros")) {
    throw std::invalid_argument("sim report: latencyHistogramMicros missing");
  }
  r.latency = LatencyHistogram::from_json(j["latencyHistogramMicros"]);
  return r;
}

std::string SimReport::table() const {
  auto ms = [](std::uint64_t micros) { return static_cast<double>(micros) / 1000.0; };
  std::string out;
  char line[160];
  auto row = [&](const char* name, const std::string& value) {
    std::snprintf(line, sizeof line, "  %-22s %s\n", name, value.c_str());
    out += line;
  };
  auto num = [](auto v) { return std::to_string(v); };
  auto fixed = [](double v, int digits) {
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", digits, v);
    return std::string(b);
  };
  out += "genx sim report (" + profile + ")\n";
  row("chargers", num(chargers));
  row("connected (peak/end)", num(connected_peak) + " / " + num(connected_at_end));
  row("booted", num(booted));
  if (chargers_ocpp201 > 0) {
    row("OCPP 2.0.1 (of them)", num(chargers_ocpp201) + " chargers, " + num(booted_ocpp201) + " booted");
  }
  row("connect failures", num(connect_failures));
  row("disconnects", num(disconnects));
  row("calls sent", num(calls_sent));
  row("calls answered", num(calls_answered));
  row("CALLERRORs", num(call_errors));
  row("invalid responses", num(invalid_responses));
  row("timeouts", num(timeouts));
  row("window (s)", fixed(measured_seconds, 1));
  row("calls/s", fixed(calls_per_second(), 1));
  row("latency p50 (ms)", fixed(ms(latency.percentile(0.50)), 2));
  row("latency p90 (ms)", fixed(ms(latency.percentile(0.90)), 2));
  row("latency p99 (ms)", fixed(ms(latency.percentile(0.99)), 2));
  row("latency p99.9 (ms)", fixed(ms(latency.percentile(0.999)), 2));
  row("latency max (ms)", fixed(ms(latency.max()), 2));
  if (storm_seconds) {
    row("storm: all answered (s)", fixed(*storm_seconds, 2));
    row("storm: chargers done", num(storm_chargers));
  }
  for (const auto& [action, n] : answered_by_action) row(("  " + action).c_str(), num(n));
  for (const auto& [code, n] : errors_by_code) row(("  error " + code).c_str(), num(n));
  return out;
}

// ---------------------------------------------------------------- profiles and script

std::optional<Profile> profile_from_string(std::string_view name) {
  if (name == "realistic") return Profile::kRealistic;
  if (name == "flat-out") return Profile::kFlatOut;
  if (name == "rpc") return Profile::kRpc;
  if (name == "idle") return Profile::kIdle;
  return std::nullopt;
}

std::string_view to_string(Profile profile) {
  switch (profile) {
    case Profile::kRealistic: return "realistic";
    case Profile::kFlatOut: return "flat-out";
    case Profile::kRpc: return "rpc";
    case Profile::kIdle: return "idle";
  }
  return "realistic";
}

std::string iso_time(std::int64_t unix_millis) {
  std::time_t seconds = static_cast<std::time_t>(unix_millis / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[80];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_millis % 1000));
  return buffer;
}

ChargerScript::ChargerScript(ScriptOptions options, std::string identity, std::uint64_t seed)
    : options_(std::move(options)), identity_(std::move(identity)), rng_(seed) {
  if (options_.session_ticks < 1) options_.session_ticks = 1;
  options_.session_share = std::clamp(options_.session_share, 0.0, 0.95);
  if (options_.id_tag.size() > 20) options_.id_tag.resize(20);
  restart();
}

bool is_ocpp201_charger(std::size_t index, double share) {
  if (share <= 0) return false;
  if (share >= 1) return true;
  const auto before = static_cast<std::uint64_t>(std::floor(static_cast<double>(index) * share));
  const auto after = static_cast<std::uint64_t>(std::floor(static_cast<double>(index + 1) * share));
  return after > before;
}

void ChargerScript::restart() {
  boot_sequence_left_ = 3;
  boot_accepted_ = false;
  // A 2.0.1 station reports its two EVSEs; "StatusNotification:0" becomes EVSE 2 there.
  chain_ = {"BootNotification", "StatusNotification:0", "StatusNotification:1"};
  reports_.clear();
  remote_stop_ = false;
  deferred_.reset();
}

std::chrono::milliseconds ChargerScript::jittered_interval() {
  if (options_.profile == Profile::kFlatOut || options_.profile == Profile::kRpc) {
    return std::chrono::milliseconds(0);
  }
  if (first_tick_) {
    // Spread the first tick over one interval so chargers do not tick in lockstep.
    first_tick_ = false;
    std::uniform_int_distribution<std::int64_t> d(0, std::max<std::int64_t>(0, options_.interval.count() - 1));
    return std::chrono::milliseconds(d(rng_));
  }
  return options_.interval;
}

nlohmann::json ChargerScript::meter_values(std::string_view at_iso) {
  const double amps = draw_a(at_iso);
  char current[32];
  std::snprintf(current, sizeof current, "%.1f", amps);
  nlohmann::json sampled = nlohmann::json::array(
      {{{"value", std::to_string(meter_wh_)},
        {"context", "Sample.Periodic"},
        {"measurand", "Energy.Active.Import.Register"},
        {"unit", "Wh"}},
       {{"value", std::to_string(static_cast<long>(amps * 230.0 * options_.phases))},
        {"measurand", "Power.Active.Import"},
        {"unit", "W"}}});
  static const char* kPhases[] = {"L1", "L2", "L3"};
  for (int p = 0; p < options_.phases && p < 3; ++p) {
    sampled.push_back({{"value", current}, {"measurand", "Current.Import"}, {"phase", kPhases[p]}, {"unit", "A"}});
  }
  return {{"connectorId", 1},
          {"transactionId", *transaction_id_},
          {"meterValue", {{{"timestamp", std::string(at_iso)}, {"sampledValue", sampled}}}}};
}

double ChargerScript::draw_a(std::string_view now_iso) const {
  if (!transaction_id_) return 0;
  const auto now = messages::parse_timestamp(now_iso).value_or(0) / 1000;
  const auto start = messages::parse_timestamp(tx_started_at_).value_or(0) / 1000;
  const auto limit = smart::composite_limit_a(profiles_, 1, transaction_id_, start, now);
  return std::max(0.0, limit ? std::min(*limit, options_.car_max_current_a) : options_.car_max_current_a);
}

std::optional<nlohmann::json> ChargerScript::on_csms_call(std::string_view action, const nlohmann::json& payload,
                                                          std::string_view now_iso) {
  if (options_.ocpp201) return on_csms_call_201(action, payload, now_iso);
  const double before = draw_a(now_iso);
  nlohmann::json answer;
  if (action == "SetChargingProfile") {
    const auto& profile = payload.value("csChargingProfiles", nlohmann::json::object());
    // A TxProfile for a transaction that is not running here is refused (OCPP 1.6 3.13.3).
    if (profile.value("chargingProfilePurpose", "") == "TxProfile" &&
        (!transaction_id_ || (profile.contains("transactionId") &&
                              profile["transactionId"] != nlohmann::json(*transaction_id_)))) {
      return nlohmann::json{{"status", "Rejected"}};
    }
    answer = {{"status", smart::install_profile(profiles_, payload)}};
  } else if (action == "ClearChargingProfile") {
    answer = {{"status", smart::clear_profiles(profiles_, payload)}};
  } else if (action == "GetCompositeSchedule") {
    const auto now = messages::parse_timestamp(now_iso).value_or(0) / 1000;
    const auto start = messages::parse_timestamp(tx_started_at_).value_or(0) / 1000;
    const int connector = payload.value("connectorId", 0);
    const auto limit = smart::composite_limit_a(profiles_, connector == 0 ? 1 : connector, transaction_id_, start, now);
    if (!limit) return nlohmann::json{{"status", "Rejected"}};
    return nlohmann::json{{"status", "Accepted"},
                          {"connectorId", connector},
                          {"scheduleStart", std::string(now_iso)},
                          {"chargingSchedule",
                           {{"duration", payload.value("duration", 0)},
                            {"startSchedule", std::string(now_iso)},
                            {"chargingRateUnit", "A"},
                            {"chargingSchedulePeriod",
                             nlohmann::json::array({{{"startPeriod", 0},
                                                     {"limit", smart::schema_limit(*limit)},
                                                     {"numberPhases", options_.phases}}})}}}};
  } else {
    return std::nullopt;
  }
  if (transaction_id_ && draw_a(now_iso) != before) change_sample_at_ = std::string(now_iso);
  return answer;
}

PlannedCall ChargerScript::next(std::string_view now_iso) {
  if (!options_.ocpp201) return plan(now_iso);
  if (boot_sequence_left_ == 0 && !reports_.empty()) {
    // A NotifyReport asked for by GetBaseReport / GetReport goes first.
    auto [request_id, filter] = reports_.front();
    reports_.erase(reports_.begin());
    v16_action_ = "NotifyReport";
    return PlannedCall{"NotifyReport", notify_report(request_id, filter, now_iso), std::chrono::milliseconds(0)};
  }
  PlannedCall call;
  if (remote_stop_ && transaction_id_ && boot_sequence_left_ == 0) {
    // RequestStopTransaction: end the session now. A deferred event of the session would
    // follow its end: it is dropped.
    if (deferred_ && deferred_->first.action == "TransactionEvent") deferred_.reset();
    call.action = "StopTransaction";
    call.payload = {{"transactionId", *transaction_id_}, {"meterStop", meter_wh_},
                    {"timestamp", std::string(now_iso)}, {"reason", "Remote"}};
    chain_ = {"StatusNotification:1"};
    meter_ticks_left_ = 0;
  } else if (deferred_ && chain_.empty()) {
    call = std::move(deferred_->first);
    v16_action_ = std::move(deferred_->second);
    deferred_.reset();
    call.delay = std::chrono::milliseconds(0);
    return call;
  } else {
    call = plan(now_iso);
  }
  v16_action_ = call.action;
  to_ocpp201(call, now_iso);
  return call;
}

bool ChargerScript::has_urgent() const {
  return options_.ocpp201 && boot_sequence_left_ == 0 &&
         (!reports_.empty() || (remote_stop_ && transaction_id_) || !chain_.empty());
}

void ChargerScript::defer(PlannedCall waiting) {
  if (deferred_) return;  // one is deferred already: the new one was never planned twice
  deferred_.emplace(std::move(waiting), v16_action_);
}

PlannedCall ChargerScript::plan(std::string_view now_iso) {
  std::string now(now_iso);
  if (change_sample_at_ && transaction_id_ && boot_sequence_left_ == 0) {
    PlannedCall call;
    call.action = "MeterValues";
    call.payload = meter_values(*change_sample_at_);
    change_sample_at_.reset();
    return call;
  }
  change_sample_at_.reset();
  if (chain_.empty()) return tick(now_iso, jittered_interval());
  std::string step = chain_.front();
  chain_.erase(chain_.begin());
  PlannedCall call;
  if (step == "BootNotification" || step == "BootNotification:retry") {
    call.action = "BootNotification";
    call.payload = {{"chargePointVendor", "GenX"},
                    {"chargePointModel", "SimCharger"},
                    {"chargePointSerialNumber", identity_.substr(0, 25)},
                    {"firmwareVersion", "sim-1"}};
    if (step == "BootNotification:retry") call.delay = options_.interval;
  } else if (step == "StatusNotification:0" || step == "StatusNotification:1") {
    int connector = step.back() - '0';
    std::string status = connector == 1 && transaction_id_ ? "Charging" : "Available";
    call.action = "StatusNotification";
    call.payload = {{"connectorId", connector}, {"errorCode", "NoError"},
                    {"status", status}, {"timestamp", now}};
  } else if (step == "StartTransaction") {
    tx_started_at_ = now;
    call.action = "StartTransaction";
    call.payload = {{"connectorId", 1}, {"idTag", options_.id_tag}, {"meterStart", meter_wh_},
                    {"timestamp", now}};
  } else {
    // "StatusNotification:1" covers the connector; anything else is a plain action.
    call.action = step;
    call.payload = nlohmann::json::object();
  }
  return call;
}

PlannedCall ChargerScript::tick(std::string_view now_iso, std::chrono::milliseconds delay) {
  std::string now(now_iso);
  PlannedCall call;
  call.delay = delay;
  auto stop_call = [&] {
    call.action = "StopTransaction";
    call.payload = {{"transactionId", *transaction_id_}, {"meterStop", meter_wh_},
                    {"timestamp", now}, {"reason", "Local"}, {"idTag", options_.id_tag}};
  };
  auto authorize_call = [&] {
    call.action = "Authorize";
    call.payload = {{"idTag", options_.id_tag}};
  };
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  switch (options_.profile) {
    case Profile::kIdle:
      call.action = "Heartbeat";
      call.payload = nlohmann::json::object();
      return call;
    case Profile::kRpc: {
      int step = rpc_step_++ % 4;
      if (step == 2 && !transaction_id_) step = 3;  // the start failed: nothing to stop
      if (step == 0) {
        authorize_call();
      } else if (step == 1) {
        call.action = "StartTransaction";
        call.payload = {{"connectorId", 1}, {"idTag", options_.id_tag}, {"meterStart", meter_wh_},
                        {"timestamp", now}};
      } else if (step == 2) {
        meter_wh_ += 1000;
        stop_call();
      } else {
        call.action = "BootNotification";
        call.payload = {{"chargePointVendor", "GenX"},
                        {"chargePointModel", "SimCharger"},
                        {"chargePointSerialNumber", identity_.substr(0, 25)},
                        {"firmwareVersion", "sim-1"}};
      }
      return call;
    }
    case Profile::kRealistic:
    case Profile::kFlatOut:
      break;
  }
  const double s = options_.session_share;
  const int length = options_.session_ticks;
  if (transaction_id_) {
    if (meter_ticks_left_ > 0) {
      --meter_ticks_left_;
      meter_wh_ += 250;
      call.action = "MeterValues";
      call.payload = meter_values(now);
      return call;
    }
    stop_call();
    chain_ = {"StatusNotification:1"};
    return call;
  }
  // Not in a session: start one with the probability that keeps the share of chargers
  // in session at s (sessions last `length` ticks: p = s / (length * (1 - s))).
  // The first tick starts a session with probability s and a random remaining length, so
  // the mix is at its steady state from the start.
  double p = s <= 0 ? 0.0 : std::min(1.0, s / (static_cast<double>(length) * (1.0 - s)));
  bool first = !ticked_;
  ticked_ = true;
  if (unit(rng_) < (first ? s : p)) {
    authorize_call();
    chain_ = {"StartTransaction", "StatusNotification:1"};
    std::uniform_int_distribution<int> d(1, length);
    meter_ticks_left_ = first ? d(rng_) : length;
    return call;
  }
  if (unit(rng_) < 0.5) {
    call.action = "Heartbeat";
    call.payload = nlohmann::json::object();
  } else {
    call.action = "StatusNotification";
    call.payload = {{"connectorId", 1}, {"errorCode", "NoError"}, {"status", "Available"},
                    {"timestamp", now}};
  }
  return call;
}

void ChargerScript::on_result(std::string_view action_sent, const std::optional<nlohmann::json>& answer_sent) {
  // A 2.0.1 answer is read as the answer of the 1.6 call the script planned.
  std::optional<nlohmann::json> converted;
  if (options_.ocpp201) converted = answer_from_ocpp201(action_sent, answer_sent);
  const std::optional<nlohmann::json>& answer = options_.ocpp201 ? converted : answer_sent;
  const std::string_view action = options_.ocpp201 ? std::string_view(v16_action_) : action_sent;
  if (action == "BootNotification") {
    boot_accepted_ = answer && answer->value("status", "") == "Accepted";
    if (boot_sequence_left_ > 0) {
      if (boot_accepted_) {
        --boot_sequence_left_;
      } else {
        // Pending / Rejected / error: boot again after the interval, statuses after that.
        chain_ = {"BootNotification:retry", "StatusNotification:0", "StatusNotification:1"};
      }
    }
    return;
  }
  if (action == "StatusNotification" && boot_sequence_left_ > 0 && boot_accepted_) {
    --boot_sequence_left_;
    return;
  }
  if (action == "Authorize") {
    bool accepted = answer && answer->contains("idTagInfo") &&
                    (*answer)["idTagInfo"].value("status", "") == "Accepted";
    if (!accepted && options_.profile != Profile::kRpc) chain_.clear();
    return;
  }
  if (action == "StartTransaction") {
    if (answer && answer->contains("transactionId") && (*answer)["transactionId"].is_number_integer()) {
      transaction_id_ = (*answer)["transactionId"].get<std::int64_t>();
    } else {
      transaction_id_.reset();
      chain_.clear();
    }
    return;
  }
  if (action == "StopTransaction") {
    transaction_id_.reset();
    tx201_id_.clear();
    remote_stop_ = false;
    // A TxProfile ends with its transaction (OCPP 1.6 3.13.3).
    std::erase_if(profiles_, [](const smart::InstalledProfile& p) {
      return p.profile.value("chargingProfilePurpose", "") == "TxProfile";
    });
    return;
  }
}

}  // namespace genx::sim
