#pragma once
// Sites as the api reads and shows them (docs/smart-charging.md): request
// bodies checked into values, and the site document of GET /api/sites/{id} and of the
// site.allocation.changed event. Pure; thread-safe; never throws on any JSON input.
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "smart/allocation.hpp"
#include "smart/site_store.hpp"

namespace genx::smart {

inline constexpr double kDefaultChargerMaxA = 32;
inline constexpr double kDefaultNominalVoltage = 230;  // volts per phase (GENX_SMART_NOMINAL_VOLTAGE)

// A site or charger id in a path: 1-64 of A-Z a-z 0-9 . _ - (nullopt), else the error.
std::optional<std::string> check_id(std::string_view what, std::string_view id);

// PUT /api/sites/{id}: {"name", "maxCurrentA", "maxPowerW", "phases" (1|3, default 3),
// "minCurrentA" (default 6)}; maxCurrentA (amperes per phase) or maxPowerW (watts, all
// phases) or both (the lower counts). Only maxPowerW: maxCurrentA is what it is at `volts`
// per phase. The settings, or the error naming the field.
std::variant<SiteSettings, std::string> parse_site(std::string_view site_id, const nlohmann::json& body,
                                                   double volts = kDefaultNominalVoltage);

// The site's limit in amperes per phase: maxCurrentA, or maxPowerW / (volts x phases)
// when that is lower.
double site_limit_a(const SiteSettings& site, double volts = kDefaultNominalVoltage);

// The unit a charger's profiles are sent in, from its stored configuration
// ChargingScheduleAllowedChargingRateUnit: "A" when it allows Current (or is unknown),
// "W" when it allows only Power.
std::string charging_rate_unit(const std::optional<std::string>& allowed_rate_units);

// PUT /api/tag-priorities/{idTag}: {"priority": -100..100}. The priority or the error.
std::variant<int, std::string> parse_tag_priority(std::string_view id_tag, const nlohmann::json& body);
// PUT /api/sites/{id}/chargers/{cp}: optional {"maxCurrentA", "minCurrentA", "priority"}.
std::variant<SiteMember, std::string> parse_member(std::string_view charge_point_id, const nlohmann::json& body);

// The allocation inputs: one per member charger (its running session, if any, with the
// limit in force and the status of the last profile), in member order. A session ranks
// by its id tag's priority when the tag has one, else by its charger's.
std::vector<ChargerInput> allocation_inputs(const SiteState& state);

// TxDefaultProfile changes for the members in a session (`inputs` and `result` as
// allocation_inputs and allocate gave them, in member order). Every member keeps a
// TxDefaultProfile, also one charging now: when its session ends the default bounds it at
// once, instead of its maximum until the next round (a charger charging since it joined
// never had one). For a charger in a session the default is its allocation capped at its
// minimum; a change is due when nothing is known in force or what is in force is higher.
// Never a raise: idle chargers' defaults are the allocation's own.
std::vector<LimitChange> session_default_changes(const SiteState& state, const std::vector<ChargerInput>& inputs,
                                                 const AllocationResult& result);

// {"id","name","maxCurrentA","phases","minCurrentA","chargers":[...],"allocatedA",
//  "measuredA","allocations":[{"chargePointId","connectorId","transactionId","limitA",
//  "measuredA","status"}],"defaults":[{"chargePointId","limitA","status"}]}
// allocatedA counts every charger at what it is known to obey (its TxProfile or
// TxDefaultProfile limit; its maximum when it rejected or nothing is known).
// Also "maxPowerW" (null when not set), "limitA" (site_limit_a at `volts`), and per
// allocation "priority" and "rateUnit".
nlohmann::json site_document(const SiteState& state, double volts = kDefaultNominalVoltage);

}  // namespace genx::smart
