#pragma once
// The operator's time zone for daily reports (GENX_TIMEZONE), from the system tz
// database (/usr/share/zoneinfo) through POSIX TZ + localtime_r/mktime: g++ 12's
// libstdc++ has no std::chrono::time_zone.
//
// Threading: the C library keeps one current zone per process. Every call selects this
// object's zone under a process-wide mutex, so objects for different zones may be used
// from any thread; code elsewhere in the process that calls localtime must not rely on TZ.
#include <cstdint>
#include <string>

namespace genx::analytics {

class TimeZone {
 public:
  // "UTC", "Europe/Berlin", ... Throws std::invalid_argument when the zone is unknown.
  explicit TimeZone(std::string name);
  const std::string& name() const { return name_; }

  // Start (Unix ms) of the local day holding t, and of the local day after it.
  std::int64_t day_start(std::int64_t t_ms) const;
  std::int64_t next_day_start(std::int64_t t_ms) const;
  // Local date of t, "YYYY-MM-DD".
  std::string date_of(std::int64_t t_ms) const;
  // Start (Unix ms) of the local date "YYYY-MM-DD"; throws std::invalid_argument if unreadable.
  std::int64_t start_of_date(const std::string& date) const;

 private:
  std::string name_;
};

}  // namespace genx::analytics
