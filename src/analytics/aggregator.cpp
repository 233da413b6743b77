#include "analytics/aggregator.hpp"

#include <algorithm>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "csms/envelope.hpp"

namespace genx::analytics {
namespace {

using nlohmann::json;

constexpr int kMaxDaysPerEvent = 400;  // a span longer than this is a bad timestamp

std::optional<std::int64_t> time_field(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return csms::parse_timestamp(it->get<std::string>());
}

}  // namespace

Aggregator::Aggregator(AnalyticsStore& store, TimeZone zone)
    : store_(store), zone_(std::move(zone)) {}

void Aggregator::recompute_day(AnalyticsUnit& unit, std::int64_t charger_id,
                               std::int64_t day_start) {
  const std::int64_t day_end = zone_.next_day_start(day_start);
  // Hours covering the local day (a day may start at :30 or :45 in UTC terms).
  const std::int64_t from = floor_hour(day_start);
  const std::int64_t to = floor_hour(day_end - 1) + kHourMs;
  const Facts facts = unit.load_facts(charger_id, from, to);
  std::map<std::int64_t, std::map<int, Figures>> hourly;
  for (std::int64_t h = from; h < to; h += kHourMs) {
    auto figures = compute_bucket(facts, h, h + kHourMs);
    if (!figures.empty()) hourly[h] = std::move(figures);
  }
  unit.replace_hourly(charger_id, from, to, hourly);
  unit.replace_daily(charger_id, zone_.date_of(day_start), day_start, day_end,
                     compute_bucket(facts, day_start, day_end));
}

BatchResult Aggregator::process_batch(const std::vector<std::string>& bodies,
                                      const std::vector<std::string>& fallback_ids,
                                      std::int64_t now_ms) {
  std::vector<json> events;
  events.reserve(bodies.size());
  for (const auto& body : bodies) events.push_back(json::parse(body, nullptr, false));
  return process_events(events, fallback_ids, now_ms);
}

BatchResult Aggregator::process_events(const std::vector<json>& events,
                                       const std::vector<std::string>& fallback_ids,
                                       std::int64_t now_ms) {
  BatchResult result;
  store_.in_analytics_transaction([&](AnalyticsUnit& unit) {
    result = BatchResult{};
    const std::string now = csms::format_timestamp(now_ms);
    // (charger, local day start) to recompute once for the whole batch.
    std::set<std::pair<std::int64_t, std::int64_t>> days;
    auto touch = [&](std::int64_t charger, std::int64_t a, std::int64_t b) {
      if (b < a) std::swap(a, b);
      std::int64_t day = zone_.day_start(a);
      for (int n = 0; day <= b && n < kMaxDaysPerEvent; ++n) {
        days.insert({charger, day});
        day = zone_.next_day_start(day);
      }
    };
    for (std::size_t i = 0; i < events.size(); ++i) {
      const json& j = events[i];
      if (j.is_discarded() || !j.is_object()) {
        result.rejected.push_back("event " + fallback_ids[i] + " is not a JSON object");
        continue;
      }
      if (j.value("version", 0) != messages::kEventVersion || !j.contains("type") ||
          !j["type"].is_string()) {
        result.rejected.push_back("event " + fallback_ids[i] +
                                  " has an unsupported version or no type");
        continue;
      }
      std::string id = fallback_ids[i];
      if (const auto it = j.find("eventId"); it != j.end() && it->is_string()) {
        id = it->get<std::string>();
      }
      if (id.empty()) {
        result.rejected.push_back("event without eventId or message id");
        continue;
      }
      if (!unit.mark_event_processed(id, now)) {
        ++result.duplicates;
        continue;
      }
      const std::string type = j["type"].get<std::string>();
      const auto charger_it = j.find("chargerId");
      if (charger_it == j.end() || !charger_it->is_number_integer()) {
        ++result.ignored;
        continue;
      }
      const std::int64_t charger = charger_it->get<std::int64_t>();
      const auto published = time_field(j, "timestamp").value_or(now_ms);
      if (type == "charging.started" || type == "transaction.completed") {
        const auto tx = j.find("transactionId");
        const auto span = tx != j.end() && tx->is_number_integer()
                              ? unit.transaction_span(tx->get<std::int64_t>())
                              : std::nullopt;
        if (!span) {
          ++result.ignored;
          continue;
        }
        touch(span->charger_id, span->started_ms, span->stopped_ms.value_or(span->started_ms));
      } else if (type == "charger.status.changed") {
        const auto at = time_field(j, "statusAt").value_or(published);
        touch(charger, time_field(j, "previousStatusAt").value_or(at), at);
      } else if (type == "meter.values") {
        const auto at = time_field(j, "sampledAt").value_or(published);
        touch(charger, at, at);
      } else {
        ++result.ignored;
        continue;
      }
      ++result.counted;
    }
    for (const auto& [charger, day] : days) recompute_day(unit, charger, day);
  });
  return result;
}

int Aggregator::rebuild(std::int64_t from_ms, std::int64_t now_ms) {
  const std::int64_t last_day = zone_.next_day_start(now_ms);
  const std::int64_t from_day = zone_.day_start(from_ms);
  std::vector<std::int64_t> chargers;
  store_.in_analytics_transaction([&](AnalyticsUnit& unit) { chargers = unit.charger_ids(); });
  int recomputed = 0;
  for (const auto charger : chargers) {
    // One transaction per charger: its rows are never seen half rebuilt.
    store_.in_analytics_transaction([&](AnalyticsUnit& unit) {
      int count = 0;
      unit.delete_aggregates_from(charger, floor_hour(from_day), zone_.date_of(from_day));
      const auto range = unit.fact_range(charger);
      if (range && range->second >= from_day) {
        std::int64_t day = std::max(from_day, zone_.day_start(range->first));
        const std::int64_t until = std::min(range->second, last_day);
        while (day <= until) {
          recompute_day(unit, charger, day);
          ++count;
          day = zone_.next_day_start(day);
        }
      }
      recomputed += count;
    });
  }
  return recomputed;
}

}  // namespace genx::analytics
