#include "smart/allocation.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace genx::smart {

const char* to_string(ProfileStatus status) {
  switch (status) {
    case ProfileStatus::kNone: return "none";
    case ProfileStatus::kPending: return "pending";
    case ProfileStatus::kAccepted: return "accepted";
    case ProfileStatus::kRejected: return "rejected";
    case ProfileStatus::kOffline: return "offline";
  }
  return "none";
}

namespace {

double round_down(double value, double step) {
  if (value <= 0) return 0;
  // The epsilon keeps 16.0 from becoming 15.9 through 15.99999999 representations.
  return std::floor(value / step + 1e-9) * step;
}

bool controllable(const ChargerInput& c) {
  return c.status != ProfileStatus::kOffline && c.status != ProfileStatus::kRejected;
}

double worst_case(const ChargerInput& c) {
  if (c.status == ProfileStatus::kOffline && c.in_force_a) return *c.in_force_a;
  return c.max_current_a;
}

}  // namespace

AllocationResult allocate(const SiteLimit& site, const std::vector<ChargerInput>& chargers,
                          const AllocationOptions& options) {
  AllocationResult result;
  result.chargers.resize(chargers.size());
  double capacity = site.max_current_a;
  std::vector<std::size_t> steerable;
  for (std::size_t i = 0; i < chargers.size(); ++i) {
    const auto& in = chargers[i];
    auto& out = result.chargers[i];
    out.charge_point_id = in.charge_point_id;
    out.transaction_id = in.transaction_id;
    out.connector_id = in.transaction_id ? in.connector_id : 0;
    if (!controllable(in)) {
      out.worst_case = true;
      out.limit_a = worst_case(in);
      out.counted_a = out.limit_a;
      capacity -= out.counted_a;
    } else {
      steerable.push_back(i);
    }
  }
  capacity = std::max(0.0, capacity);

  // 2. Minimums in rank order.
  std::stable_sort(steerable.begin(), steerable.end(), [&](std::size_t a, std::size_t b) {
    const auto& x = chargers[a];
    const auto& y = chargers[b];
    if (x.transaction_id.has_value() != y.transaction_id.has_value()) return x.transaction_id.has_value();
    if (x.priority != y.priority) return x.priority > y.priority;
    if (x.started_at != y.started_at) return x.started_at < y.started_at;
    return x.charge_point_id < y.charge_point_id;
  });
  std::vector<double> cap(chargers.size(), 0);
  std::vector<std::size_t> sharing;  // sessions that got their minimum
  for (std::size_t i : steerable) {
    const auto& in = chargers[i];
    auto& out = result.chargers[i];
    const double minimum = std::min(in.min_current_a.value_or(site.min_current_a), in.max_current_a);
    if (minimum <= capacity + 1e-9 && minimum > 0) {
      out.limit_a = minimum;
      capacity -= minimum;
      if (in.transaction_id) {
        double c = in.max_current_a;
        if (in.measured_a && in.in_force_a && *in.measured_a + options.draw_margin_a <= *in.in_force_a) {
          c = std::min(c, std::max(minimum, *in.measured_a + options.draw_margin_a));
        }
        cap[i] = c;
        sharing.push_back(i);
      }
    } else {
      out.limit_a = 0;
      out.paused = in.transaction_id.has_value();
    }
  }

  // 3. Share the rest, tier by tier (sharing is in rank order, so tiers are contiguous).
  std::size_t begin = 0;
  while (begin < sharing.size() && capacity > 1e-9) {
    std::size_t end = begin;
    const int tier = chargers[sharing[begin]].priority;
    while (end < sharing.size() && chargers[sharing[end]].priority == tier) ++end;
    std::vector<std::size_t> open(sharing.begin() + static_cast<std::ptrdiff_t>(begin),
                                  sharing.begin() + static_cast<std::ptrdiff_t>(end));
    while (!open.empty() && capacity > 1e-9) {
      const double share = capacity / static_cast<double>(open.size());
      std::vector<std::size_t> still_open;
      double given = 0;
      for (std::size_t i : open) {
        auto& out = result.chargers[i];
        const double room = cap[i] - out.limit_a;
        const double add = std::min(room, share);
        out.limit_a += add;
        given += add;
        if (room > share + 1e-9) still_open.push_back(i);
      }
      capacity -= given;
      if (still_open.size() == open.size()) break;  // everyone took a full share: nothing left
      open = std::move(still_open);
    }
    begin = end;
  }

  // 4. Rounding down.
  for (std::size_t i : steerable) {
    auto& out = result.chargers[i];
    out.limit_a = round_down(out.limit_a, options.step_a);
    out.counted_a = out.limit_a;
  }
  result.counted_a = std::accumulate(result.chargers.begin(), result.chargers.end(), 0.0,
                                     [](double s, const ChargerAllocation& a) { return s + a.counted_a; });
  return result;
}

ChangePlan plan_changes(const std::vector<ChargerInput>& chargers, const AllocationResult& result) {
  ChangePlan plan;
  for (std::size_t i = 0; i < chargers.size() && i < result.chargers.size(); ++i) {
    const auto& in = chargers[i];
    const auto& out = result.chargers[i];
    if (out.worst_case) continue;
    LimitChange change{out.charge_point_id, out.transaction_id, out.transaction_id ? out.connector_id : 0,
                       out.limit_a};
    if (in.status == ProfileStatus::kAccepted && in.in_force_a && std::abs(*in.in_force_a - out.limit_a) < 1e-6) {
      continue;
    }
    if (!in.in_force_a || in.status != ProfileStatus::kAccepted || out.limit_a < *in.in_force_a) {
      plan.lowerings.push_back(std::move(change));
    } else {
      plan.raises.push_back(std::move(change));
    }
  }
  return plan;
}

}  // namespace genx::smart
