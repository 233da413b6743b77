#include "analytics/time_zone.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <stdexcept>

namespace genx::analytics {
namespace {

std::mutex& tz_mutex() {
  static std::mutex m;
  return m;
}

// Caller holds tz_mutex.
void select_zone(const std::string& name) {
  static std::string current;
  if (current == name) return;
  setenv("TZ", name == "UTC" ? "UTC0" : (":" + name).c_str(), 1);
  tzset();
  current = name;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a >= 0 ? a / b : (a - b + 1) / b; }

std::tm local(std::int64_t t_ms) {
  const std::time_t secs = static_cast<std::time_t>(floor_div(t_ms, 1000));
  std::tm tm{};
  localtime_r(&secs, &tm);
  return tm;
}

std::int64_t midnight(std::tm tm) {
  tm.tm_hour = 0;
  tm.tm_min = 0;
  tm.tm_sec = 0;
  tm.tm_isdst = -1;
  return static_cast<std::int64_t>(std::mktime(&tm)) * 1000;
}

}  // namespace

TimeZone::TimeZone(std::string name) : name_(std::move(name)) {
  if (name_ == "UTC") return;
  const bool safe = !name_.empty() && name_.find("..") == std::string::npos && name_[0] != '/';
  if (!safe || !std::filesystem::is_regular_file("/usr/share/zoneinfo/" + name_)) {
    throw std::invalid_argument("unknown time zone \"" + name_ +
                                "\" (expected UTC or a name from /usr/share/zoneinfo, e.g. "
                                "Europe/Berlin)");
  }
}

std::int64_t TimeZone::day_start(std::int64_t t_ms) const {
  std::lock_guard lock(tz_mutex());
  select_zone(name_);
  return midnight(local(t_ms));
}

std::int64_t TimeZone::next_day_start(std::int64_t t_ms) const {
  std::lock_guard lock(tz_mutex());
  select_zone(name_);
  std::tm tm = local(t_ms);
  tm.tm_mday += 1;
  return midnight(tm);
}

std::string TimeZone::date_of(std::int64_t t_ms) const {
  std::lock_guard lock(tz_mutex());
  select_zone(name_);
  const std::tm tm = local(t_ms);
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday);
  return buffer;
}

std::int64_t TimeZone::start_of_date(const std::string& date) const {
  int y = 0, m = 0, d = 0;
  char tail = 0;
  if (date.size() != 10 || std::sscanf(date.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 ||
      m < 1 || m > 12 || d < 1 || d > 31) {
    throw std::invalid_argument("\"" + date + "\" is not a date (YYYY-MM-DD)");
  }
  std::lock_guard lock(tz_mutex());
  select_zone(name_);
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d;
  return midnight(tm);
}

}  // namespace genx::analytics
