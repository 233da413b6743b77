#pragma once
// Site load management (docs/smart-charging.md): how a site's grid limit is
// shared between the chargers in it, and in which order the new limits go out.
// Pure: values in, values out; no clock, no I/O; every function is thread-safe.
//
// The model. A site has a limit in amperes per phase; every charger in it is bounded at
// every moment by exactly one limit it accepted: while a transaction runs, the TxProfile
// GenX sent for it (or, before that is accepted, the charger's TxDefaultProfile); while
// idle, its TxDefaultProfile (what a session starting there may draw in its first
// second). allocate() gives every charger one limit so that the sum over the site of
//   - the limits of the chargers GenX controls, and
//   - the worst case of those it cannot (offline or refusing profiles)
// never exceeds the site limit. plan_changes() orders the resulting profiles so that the
// sum also stays under the limit while they are being applied (lower before raise).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace genx::smart {

struct SiteLimit {
  double max_current_a = 0;  // per phase
  int phases = 3;            // 1 or 3
  double min_current_a = 6;  // the least a car charges with; below it a session is paused (0)
};

// What the charger answered to the last profile GenX sent it.
enum class ProfileStatus { kNone, kPending, kAccepted, kRejected, kOffline };
const char* to_string(ProfileStatus status);

struct ChargerInput {
  std::string charge_point_id;
  double max_current_a = 32;                 // the charger's (or its cable's) maximum
  std::optional<double> min_current_a;       // nullopt: the site's
  int priority = 0;                          // higher first (option; 0 for everyone = fair share)
  // The limit the charger is known to obey now (last accepted), nullopt when unknown.
  std::optional<double> in_force_a;
  ProfileStatus status = ProfileStatus::kNone;  // of the last profile sent
  // The running transaction, if any.
  std::optional<std::int64_t> transaction_id;
  int connector_id = 1;
  std::string started_at;                    // ISO; newer sessions pause first
  std::optional<double> measured_a;          // latest measured current per phase (max over phases)
};

struct ChargerAllocation {
  std::string charge_point_id;
  std::optional<std::int64_t> transaction_id;
  int connector_id = 1;
  double limit_a = 0;       // what GenX wants in force (0 = paused / may not start)
  bool paused = false;      // a session that is told to pause (its minimum does not fit)
  bool worst_case = false;  // not controllable: counted at its worst case, nothing sent
  double counted_a = 0;     // what the site counts for it (limit, or worst case)
};

struct AllocationResult {
  std::vector<ChargerAllocation> chargers;  // in the input order
  double counted_a = 0;                     // sum of counted_a: never above the site limit
                                            // unless the worst cases alone exceed it
};

// Tunables of the rules (docs/smart-charging.md "Allocation rules").
struct AllocationOptions {
  double step_a = 0.1;           // limits are rounded down to this step
  double draw_margin_a = 2.0;    // a car drawing this much below its limit is capped at draw + margin
};

// The rules, in order:
// 1. Worst case: a charger that is offline or rejected the last profile cannot be
//    steered; it counts at its last accepted limit (offline) or at its maximum (rejected,
//    or nothing accepted yet). Nothing is sent to it.
// 2. Minimums: chargers are ranked: sessions before idle chargers; then higher priority
//    first; then the older session first; then by charge point id. Walking that order,
//    each gets its minimum while the remaining capacity allows; the rest get 0: a
//    session is paused, an idle charger may not start charging until there is room.
//    So when minimums do not fit, the newest, lowest-priority sessions pause first.
// 3. Share: what is left is shared among the sessions with a minimum, highest priority
//    tier first, equal shares within a tier (water-filling), each capped at its
//    maximum and, when it measurably draws less than its limit, at draw + margin; the
//    unused capacity goes to the others (idle chargers stay at their minimum).
// 4. Rounding: down to step_a, so the sum never exceeds the limit.
AllocationResult allocate(const SiteLimit& site, const std::vector<ChargerInput>& chargers,
                          const AllocationOptions& options = {});

// One profile to send.
struct LimitChange {
  std::string charge_point_id;
  std::optional<std::int64_t> transaction_id;  // set: a TxProfile for it; unset: TxDefaultProfile
  int connector_id = 1;
  double limit_a = 0;
};

// The change plan: first every lowering (target below what is in force, or nothing known
// in force), then — only after every lowering was accepted — the raises. A charger whose
// target equals its limit in force gets nothing.
struct ChangePlan {
  std::vector<LimitChange> lowerings;
  std::vector<LimitChange> raises;
  bool empty() const { return lowerings.empty() && raises.empty(); }
};
ChangePlan plan_changes(const std::vector<ChargerInput>& chargers, const AllocationResult& result);

}  // namespace genx::smart
