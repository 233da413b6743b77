#pragma once
// Process-wide logging: one line per event on stderr, prefixed with the process name
// (role and index, e.g. "ocpp-worker.1") so the supervisor's merged output stays readable.
#include <string>

namespace genx::app {

void setup_logging(const std::string& process_name, const std::string& level);

}  // namespace genx::app
