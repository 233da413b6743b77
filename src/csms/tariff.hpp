#pragma once
// Tariff and session arithmetic shared by billing (the worker's StopTransaction rule)
// and analytics, so both agree to the cent. Pure: integers in, integers out.
//
// Money: prices are held in micro-units of the currency (1e-6), amounts in minor units
// (cents: the currency is assumed to have 2 decimals). A session's cost is
//   energy_wh / 1000 * energy_per_kwh + duration_seconds / 60 * time_per_minute + session_fee
// computed exactly (no intermediate rounding), then rounded ONCE to the minor unit,
// half up (0.5 cent rounds up). Negative inputs count as zero.
//
// Energy: a session's energy is the sum of the non-negative steps of its energy register
// series meterStart, readings..., meterStop (in time order). A step down is a meter
// reset: the reading after it counts from zero. Without meterStop the last reading ends
// the series.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace genx::csms {

struct Tariff {
  std::int64_t energy_per_kwh_micro = 0;
  std::int64_t time_per_minute_micro = 0;
  std::int64_t session_fee_micro = 0;
  std::string currency = "EUR";
};

// "0.35" -> 350000. Non-negative decimal with at most 6 fractional digits and a value
// below 1,000,000; nullopt otherwise.
std::optional<std::int64_t> parse_price_micro(std::string_view text);
// 350000 -> "0.35" (trailing zeros trimmed to at least 2 decimals).
std::string format_price_micro(std::int64_t micro);
// 1234 -> "12.34", -5 -> "-0.05".
std::string format_minor(std::int64_t minor);

std::int64_t session_cost_minor(const Tariff& tariff, std::int64_t energy_wh,
                                std::int64_t duration_seconds);

std::int64_t session_energy_wh(std::int64_t meter_start, const std::vector<std::int64_t>& readings,
                               std::optional<std::int64_t> meter_stop);

// The energy register (Energy.Active.Import.Register, total, Raw) in Wh of one stored
// sample, or nullopt when the sample is something else or unreadable. Per OCPP 1.6 a
// sample without measurand is the register and one without unit is Wh.
std::optional<std::int64_t> register_wh(const std::optional<std::string>& measurand,
                                        const std::optional<std::string>& unit,
                                        const std::optional<std::string>& phase,
                                        const std::optional<std::string>& format,
                                        const std::string& value);

// Active import power in W of one sample (Power.Active.Import, Raw, W or kW), or nullopt.
std::optional<double> power_w(const std::optional<std::string>& measurand,
                              const std::optional<std::string>& unit,
                              const std::optional<std::string>& format, const std::string& value);

}  // namespace genx::csms
