#include "csms/tariff.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace genx::csms {
namespace {

__extension__ using Int128 = __int128;  // exact intermediate products

std::optional<double> number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace

std::optional<std::int64_t> parse_price_micro(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::int64_t whole = 0;
  std::size_t i = 0;
  std::size_t int_digits = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++int_digits) {
    whole = whole * 10 + (text[i] - '0');
    if (whole >= 1'000'000) return std::nullopt;
  }
  std::int64_t fraction = 0;
  std::size_t frac_digits = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++frac_digits) {
      if (frac_digits == 6) return std::nullopt;
      fraction = fraction * 10 + (text[i] - '0');
    }
    if (frac_digits == 0) return std::nullopt;
  }
  if (i != text.size() || int_digits == 0) return std::nullopt;
  for (std::size_t d = frac_digits; d < 6; ++d) fraction *= 10;
  return whole * 1'000'000 + fraction;
}

std::string format_price_micro(std::int64_t micro) {
  std::string s = std::to_string(micro / 1'000'000) + ".";
  std::string frac = std::to_string(1'000'000 + micro % 1'000'000).substr(1);
  while (frac.size() > 2 && frac.back() == '0') frac.pop_back();
  return s + frac;
}

std::string format_minor(std::int64_t minor) {
  const bool negative = minor < 0;
  const std::int64_t a = negative ? -minor : minor;
  std::string cents = std::to_string(100 + a % 100).substr(1);
  return (negative ? "-" : "") + std::to_string(a / 100) + "." + cents;
}

std::int64_t session_cost_minor(const Tariff& tariff, std::int64_t energy_wh,
                                std::int64_t duration_seconds) {
  // Common unit: 1/60000 of a micro-unit (energy: Wh/1000 kWh; time: s/60 min).
  const std::int64_t wh = std::max<std::int64_t>(0, energy_wh);
  const std::int64_t s = std::max<std::int64_t>(0, duration_seconds);
  const Int128 total = static_cast<Int128>(wh) * tariff.energy_per_kwh_micro * 60 +
                         static_cast<Int128>(s) * tariff.time_per_minute_micro * 1000 +
                         static_cast<Int128>(tariff.session_fee_micro) * 60000;
  constexpr std::int64_t kPerMinor = 10'000LL * 60'000LL;  // 1 cent = 10,000 micro
  return static_cast<std::int64_t>((total + kPerMinor / 2) / kPerMinor);
}

std::int64_t session_energy_wh(std::int64_t meter_start, const std::vector<std::int64_t>& readings,
                               std::optional<std::int64_t> meter_stop) {
  std::int64_t energy = 0;
  std::int64_t previous = meter_start;
  auto step = [&](std::int64_t reading) {
    energy += reading >= previous ? reading - previous : std::max<std::int64_t>(0, reading);
    previous = reading;
  };
  for (const auto r : readings) step(r);
  if (meter_stop) step(*meter_stop);
  return energy;
}

std::optional<std::int64_t> register_wh(const std::optional<std::string>& measurand,
                                        const std::optional<std::string>& unit,
                                        const std::optional<std::string>& phase,
                                        const std::optional<std::string>& format,
                                        const std::string& value) {
  if (measurand.value_or("Energy.Active.Import.Register") != "Energy.Active.Import.Register") {
    return std::nullopt;
  }
  if (phase || format.value_or("Raw") != "Raw") return std::nullopt;
  const auto v = number(value);
  if (!v) return std::nullopt;
  const std::string u = unit.value_or("Wh");
  if (u == "Wh") return static_cast<std::int64_t>(std::llround(*v));
  if (u == "kWh") return static_cast<std::int64_t>(std::llround(*v * 1000));
  return std::nullopt;
}

std::optional<double> power_w(const std::optional<std::string>& measurand,
                              const std::optional<std::string>& unit,
                              const std::optional<std::string>& format, const std::string& value) {
  if (measurand != "Power.Active.Import" || format.value_or("Raw") != "Raw") return std::nullopt;
  const auto v = number(value);
  if (!v) return std::nullopt;
  const std::string u = unit.value_or("W");
  if (u == "W") return *v;
  if (u == "kW") return *v * 1000;
  return std::nullopt;
}

}  // namespace genx::csms
