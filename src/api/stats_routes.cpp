#include "api/stats_routes.hpp"

#include <cmath>
#include <stdexcept>

#include "analytics/time_zone.hpp"
#include "csms/envelope.hpp"
#include "csms/tariff.hpp"

namespace genx::api {
namespace {

using Row = nlohmann::ordered_json;

struct BadRequest : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string csv_cell(const Row& v) {
  std::string text = v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump();
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

HttpResponse render(const Row& rows, bool csv) {
  if (!csv) return HttpResponse{200, "application/json", rows.dump()};
  std::string out;
  const Row list = rows.is_array() ? rows : Row::array({rows});
  if (!list.empty()) {
    bool first = true;
    for (const auto& [key, value] : list.front().items()) {
      out += (first ? "" : ",") + key;
      first = false;
    }
    out += "\r\n";
  }
  for (const auto& row : list) {
    bool first = true;
    for (const auto& [key, value] : row.items()) {
      out += (first ? "" : ",") + csv_cell(value);
      first = false;
    }
    out += "\r\n";
  }
  return HttpResponse{200, "text/csv; charset=utf-8", out};
}

double round2(double v) { return std::round(v * 100.0) / 100.0; }

double utilization(std::int64_t occupied_ms, std::int64_t connectors, std::int64_t period_ms) {
  if (connectors <= 0 || period_ms <= 0) return 0;
  return round2(100.0 * static_cast<double>(occupied_ms) /
                (static_cast<double>(connectors) * static_cast<double>(period_ms)));
}

std::int64_t average_power(std::int64_t energy_wh, std::int64_t session_ms) {
  if (session_ms <= 0) return 0;
  return static_cast<std::int64_t>(std::llround(static_cast<double>(energy_wh) * 3'600'000.0 /
                                                static_cast<double>(session_ms)));
}

std::int64_t ms(const nlohmann::json& row, const char* key) { return row.at(key).get<std::int64_t>(); }

class Stats {
 public:
  Stats(const std::map<std::string, std::string>& params, ReadStore& store,
        const ApiOptions& options)
      : params_(params), store_(store), options_(options), zone_(options.time_zone) {}

  StatsQuery query(const std::string& default_bucket) {
    StatsQuery q;
    q.bucket = param("bucket").value_or(default_bucket);
    if (q.bucket != "hour" && q.bucket != "day") throw BadRequest("bucket: expected hour or day");
    if (auto c = param("chargerId")) q.charger = *c;
    for (const char* key : {"from", "to"}) {
      const auto text = param(key);
      if (!text) continue;
      std::int64_t utc = 0;
      std::string day;
      if (text->size() == 10) {
        try {
          utc = zone_.start_of_date(*text);
        } catch (const std::invalid_argument&) {
          throw BadRequest(std::string(key) + ": expected YYYY-MM-DD or an ISO 8601 time");
        }
        day = *text;
      } else if (const auto parsed = csms::parse_timestamp(*text)) {
        utc = *parsed;
        day = zone_.date_of(utc);
      } else {
        throw BadRequest(std::string(key) + ": expected YYYY-MM-DD or an ISO 8601 time");
      }
      const std::string iso = csms::format_timestamp(utc);
      const bool from = std::string_view(key) == "from";
      (from ? q.from_utc : q.to_utc) = iso;
      (from ? q.from : q.to) = q.bucket == "day" ? day : iso;
      (from ? from_ms_ : to_ms_) = utc;
    }
    return q;
  }

  Row series(const std::string& kind) {
    const auto q = query(kind == "energy" ? "hour" : "day");
    const auto rows = store_.stats_series(q);
    const auto connectors = store_.stats_connector_count(q.charger);
    Row out = Row::array();
    for (const auto& r : rows) {
      Row row = {{"bucket", r["bucket"]}, {"bucketStart", r["bucketStart"]},
                 {"bucketEnd", r["bucketEnd"]}};
      const auto start = csms::parse_timestamp(r["bucketStart"].get<std::string>()).value_or(0);
      const auto end = csms::parse_timestamp(r["bucketEnd"].get<std::string>()).value_or(0);
      if (kind == "energy") {
        row["energyWh"] = r["energyWh"];
        row["energyKwh"] = static_cast<double>(ms(r, "energyWh")) / 1000.0;
        row["sessionsCompleted"] = r["sessionsCompleted"];
        row["averagePowerW"] = average_power(ms(r, "energyWh"), ms(r, "sessionMs"));
        row["peakPowerW"] = r["peakPowerW"];
      } else if (kind == "sessions") {
        row["sessionsStarted"] = r["sessionsStarted"];
        row["sessionsCompleted"] = r["sessionsCompleted"];
        row["sessionSeconds"] = ms(r, "sessionMs") / 1000;
        row["chargingSeconds"] = ms(r, "chargingMs") / 1000;
        row["idleSeconds"] = std::max<std::int64_t>(0, ms(r, "occupiedMs") - ms(r, "chargingMs")) / 1000;
      } else if (kind == "revenue") {
        row["sessionsCompleted"] = r["sessionsCompleted"];
        row["revenueMinor"] = r["revenueMinor"];
        row["revenue"] = csms::format_minor(ms(r, "revenueMinor"));
        row["currency"] = options_.currency;
      } else {
        row["connectors"] = connectors;
        row["occupiedSeconds"] = ms(r, "occupiedMs") / 1000;
        row["chargingSeconds"] = ms(r, "chargingMs") / 1000;
        row["faultedSeconds"] = ms(r, "faultedMs") / 1000;
        row["faults"] = r["faults"];
        row["utilizationPercent"] = utilization(ms(r, "occupiedMs"), connectors, end - start);
      }
      out.push_back(std::move(row));
    }
    return out;
  }

  // The period for percentages: from/to when given, else the span of the hourly rows.
  std::pair<std::int64_t, std::int64_t> period(const StatsQuery& hourly) {
    std::int64_t from = from_ms_.value_or(0);
    std::int64_t to = to_ms_.value_or(0);
    if (!from_ms_ || !to_ms_) {
      StatsQuery all = hourly;
      all.bucket = "hour";
      all.charger.reset();
      const auto rows = store_.stats_series(all);
      if (!rows.empty()) {
        if (!from_ms_) from = csms::parse_timestamp(rows.front()["bucketStart"].get<std::string>()).value_or(0);
        if (!to_ms_) to = csms::parse_timestamp(rows.back()["bucketEnd"].get<std::string>()).value_or(0);
      }
    }
    return {from, to};
  }

  Row utilization_by_charger() {
    auto q = query("hour");
    q.bucket = "hour";
    q.from = q.from_utc;
    q.to = q.to_utc;
    const auto [from, to] = period(q);
    Row out = Row::array();
    for (const auto& r : store_.stats_by_charger(q)) {
      out.push_back({{"chargePointId", r["chargePointId"]},
                     {"connectors", r["connectors"]},
                     {"periodStart", csms::format_timestamp(from)},
                     {"periodEnd", csms::format_timestamp(to)},
                     {"sessionsCompleted", r["sessionsCompleted"]},
                     {"energyWh", r["energyWh"]},
                     {"sessionSeconds", ms(r, "sessionMs") / 1000},
                     {"chargingSeconds", ms(r, "chargingMs") / 1000},
                     {"occupiedSeconds", ms(r, "occupiedMs") / 1000},
                     {"idleSeconds", std::max<std::int64_t>(0, ms(r, "occupiedMs") - ms(r, "chargingMs")) / 1000},
                     {"faultedSeconds", ms(r, "faultedMs") / 1000},
                     {"faults", r["faults"]},
                     {"utilizationPercent",
                      utilization(ms(r, "occupiedMs"), ms(r, "connectors"), to - from)}});
    }
    return out;
  }

  Row summary() {
    auto q = query("hour");
    q.bucket = "hour";
    q.from = q.from_utc;
    q.to = q.to_utc;
    std::int64_t started = 0, completed = 0, energy = 0, session = 0, charging = 0, occupied = 0,
                 faulted = 0, faults = 0, revenue = 0;
    double peak = 0;
    for (const auto& r : store_.stats_series(q)) {
      started += ms(r, "sessionsStarted");
      completed += ms(r, "sessionsCompleted");
      energy += ms(r, "energyWh");
      session += ms(r, "sessionMs");
      charging += ms(r, "chargingMs");
      occupied += ms(r, "occupiedMs");
      faulted += ms(r, "faultedMs");
      faults += ms(r, "faults");
      revenue += ms(r, "revenueMinor");
      peak = std::max(peak, r["peakPowerW"].get<double>());
    }
    const auto [from, to] = period(q);
    const auto connectors = store_.stats_connector_count(q.charger);
    return Row{{"periodStart", csms::format_timestamp(from)},
               {"periodEnd", csms::format_timestamp(to)},
               {"timeZone", options_.time_zone},
               {"chargerId", q.charger ? Row(*q.charger) : Row(nullptr)},
               {"connectors", connectors},
               {"sessionsStarted", started},
               {"sessionsCompleted", completed},
               {"uniqueIdTags", store_.stats_unique_id_tags(q)},
               {"energyWh", energy},
               {"energyKwh", static_cast<double>(energy) / 1000.0},
               {"sessionSeconds", session / 1000},
               {"chargingSeconds", charging / 1000},
               {"idleSeconds", std::max<std::int64_t>(0, occupied - charging) / 1000},
               {"occupiedSeconds", occupied / 1000},
               {"faultedSeconds", faulted / 1000},
               {"faults", faults},
               {"averagePowerW", average_power(energy, session)},
               {"peakPowerW", peak},
               {"utilizationPercent", utilization(occupied, connectors, to - from)},
               {"revenueMinor", revenue},
               {"revenue", csms::format_minor(revenue)},
               {"currency", options_.currency}};
  }

 private:
  std::optional<std::string> param(const char* key) const {
    const auto it = params_.find(key);
    if (it == params_.end() || it->second.empty()) return std::nullopt;
    return it->second;
  }

  const std::map<std::string, std::string>& params_;
  ReadStore& store_;
  const ApiOptions& options_;
  analytics::TimeZone zone_;
  std::optional<std::int64_t> from_ms_;
  std::optional<std::int64_t> to_ms_;
};

}  // namespace

std::optional<HttpResponse> handle_stats(std::string_view path,
                                         const std::map<std::string, std::string>& params,
                                         std::string_view accept, ReadStore& store,
                                         const ApiOptions& options) {
  constexpr std::string_view kPrefix = "/api/stats/";
  if (path.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  const std::string kind(path.substr(kPrefix.size()));
  bool csv = accept.find("text/csv") != std::string_view::npos;
  if (const auto it = params.find("format"); it != params.end()) {
    if (it->second != "csv" && it->second != "json") {
      return HttpResponse{400, "application/json",
                          nlohmann::json{{"error", "format: expected json or csv"}}.dump()};
    }
    csv = it->second == "csv";
  }
  try {
    Stats stats(params, store, options);
    if (kind == "summary") return render(stats.summary(), csv);
    if (kind == "energy" || kind == "sessions" || kind == "revenue") {
      return render(stats.series(kind), csv);
    }
    if (kind == "utilization") {
      if (params.count("bucket")) return render(stats.series(kind), csv);
      return render(stats.utilization_by_charger(), csv);
    }
  } catch (const BadRequest& e) {
    return HttpResponse{400, "application/json", nlohmann::json{{"error", e.what()}}.dump()};
  }
  return HttpResponse{404, "application/json", nlohmann::json{{"error", "not found"}}.dump()};
}

}  // namespace genx::api
