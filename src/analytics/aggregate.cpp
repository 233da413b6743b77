#include "analytics/aggregate.hpp"

#include <algorithm>

#include "csms/tariff.hpp"

namespace genx::analytics {
namespace {

__extension__ using Int128 = __int128;

std::int64_t overlap(std::int64_t a, std::int64_t b, std::int64_t start, std::int64_t end) {
  return std::max<std::int64_t>(0, std::min(b, end) - std::max(a, start));
}

bool occupied(const std::string& s) {
  return s == "Preparing" || s == "Charging" || s == "SuspendedEV" || s == "SuspendedEVSE" ||
         s == "Finishing";
}

// Cumulative Wh at time t along the piecewise-linear curve (floor between points).
std::int64_t cumulative_at(const std::vector<Reading>& curve, std::int64_t t) {
  if (curve.empty() || t <= curve.front().at_ms) return 0;
  if (t >= curve.back().at_ms) return curve.back().wh;
  // last point with at_ms <= t
  auto it = std::upper_bound(curve.begin(), curve.end(), t,
                             [](std::int64_t v, const Reading& r) { return v < r.at_ms; });
  const Reading& a = *(it - 1);
  const Reading& b = *it;  // b.at_ms > t >= a.at_ms
  const Int128 part = static_cast<Int128>(b.wh - a.wh) * (t - a.at_ms) / (b.at_ms - a.at_ms);
  return a.wh + static_cast<std::int64_t>(part);
}

}  // namespace

bool Figures::empty() const {
  return sessions_started == 0 && sessions_completed == 0 && energy_wh == 0 && session_ms == 0 &&
         charging_ms == 0 && occupied_ms == 0 && faulted_ms == 0 && faults == 0 &&
         revenue_minor == 0 && peak_power_w == 0;
}

Figures& Figures::operator+=(const Figures& o) {
  sessions_started += o.sessions_started;
  sessions_completed += o.sessions_completed;
  energy_wh += o.energy_wh;
  session_ms += o.session_ms;
  charging_ms += o.charging_ms;
  occupied_ms += o.occupied_ms;
  faulted_ms += o.faulted_ms;
  faults += o.faults;
  revenue_minor += o.revenue_minor;
  peak_power_w = std::max(peak_power_w, o.peak_power_w);
  return *this;
}

std::vector<Reading> energy_curve(const TransactionFact& t) {
  std::vector<Reading> curve;
  if (!t.stopped_ms) return curve;
  const std::int64_t start = t.started_ms;
  const std::int64_t stop = std::max(*t.stopped_ms, start);
  // Time order of the readings (stable: stored order breaks ties), clamped to the session.
  std::vector<Reading> readings = t.readings;
  std::stable_sort(readings.begin(), readings.end(),
                   [](const Reading& a, const Reading& b) { return a.at_ms < b.at_ms; });
  curve.push_back({start, 0});
  std::int64_t energy = 0;
  std::int64_t previous = t.meter_start;
  auto step = [&](std::int64_t at, std::int64_t reading) {
    // Same rule as csms::session_energy_wh.
    energy += reading >= previous ? reading - previous : std::max<std::int64_t>(0, reading);
    previous = reading;
    curve.push_back({std::clamp(at, start, stop), energy});
  };
  for (const auto& r : readings) step(r.at_ms, r.wh);
  if (t.meter_stop) {
    step(stop, *t.meter_stop);
  } else {
    curve.push_back({stop, energy});
  }
  // Points at the same instant: keep the last (a jump happens at that instant).
  std::vector<Reading> merged;
  for (const auto& p : curve) {
    if (!merged.empty() && merged.back().at_ms == p.at_ms) {
      merged.back().wh = p.wh;
    } else {
      merged.push_back(p);
    }
  }
  // Energy at the first instant (a zero-length session) counts at that instant:
  // cumulative_at is 0 up to and including the first point.
  return merged;
}

std::int64_t energy_between(const std::vector<Reading>& curve, std::int64_t from_ms,
                            std::int64_t to_ms) {
  if (to_ms <= from_ms) return 0;
  return cumulative_at(curve, to_ms) - cumulative_at(curve, from_ms);
}

std::map<int, Figures> compute_bucket(const Facts& facts, std::int64_t start, std::int64_t end) {
  std::map<int, Figures> out;
  for (const auto& t : facts.transactions) {
    Figures& f = out[t.connector_id];
    if (t.started_ms >= start && t.started_ms < end) ++f.sessions_started;
    if (!t.stopped_ms) continue;
    const std::int64_t stop = std::max(*t.stopped_ms, t.started_ms);
    if (*t.stopped_ms >= start && *t.stopped_ms < end) {
      ++f.sessions_completed;
      f.revenue_minor += t.cost_minor;
    }
    f.session_ms += overlap(t.started_ms, stop, start, end);
    // Energy at the stop instant belongs to the bucket holding the stop.
    const auto curve = energy_curve(t);
    f.energy_wh += energy_between(curve, start, end);
  }
  const auto& st = facts.statuses;
  for (std::size_t i = 0; i < st.size(); ++i) {
    const StatusFact& s = st[i];
    const bool has_next = i + 1 < st.size() && st[i + 1].connector_id == s.connector_id;
    const bool entered_fault =
        s.status == "Faulted" && (i == 0 || st[i - 1].connector_id != s.connector_id ||
                                  st[i - 1].status != "Faulted");
    Figures& f = out[s.connector_id];
    if (entered_fault && s.at_ms >= start && s.at_ms < end) ++f.faults;
    if (!has_next) continue;  // the current status counts once it ends
    const std::int64_t ms = overlap(s.at_ms, st[i + 1].at_ms, start, end);
    if (s.status == "Charging") f.charging_ms += ms;
    if (occupied(s.status)) f.occupied_ms += ms;
    if (s.status == "Faulted") f.faulted_ms += ms;
  }
  for (const auto& p : facts.power) {
    if (p.at_ms < start || p.at_ms >= end) continue;
    Figures& f = out[p.connector_id];
    f.peak_power_w = std::max(f.peak_power_w, p.watts);
  }
  for (auto it = out.begin(); it != out.end();) {
    it = it->second.empty() ? out.erase(it) : std::next(it);
  }
  return out;
}

}  // namespace genx::analytics
