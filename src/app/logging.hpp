#pragma once
// Process-wide logging on stderr, one line per event, named after the process (role and
// index, e.g. "ocpp-worker.1") so the supervisor's merged output stays readable.
//
// Formats: "text" (timestamp, name, level, message) or "json" (one JSON object per line:
// time, level, role, process, msg, plus the fields of the LogContext active on the
// logging thread: deviceId, messageId, action, latencyMs, ...). Passwords and tokens are
// never passed to the logger: nothing logs RABBITMQ_URL, credentials or API_TOKEN.
#include <initializer_list>
#include <string>
#include <utility>

namespace genx::app {

void setup_logging(const std::string& process_name, const std::string& level,
                   const std::string& format = "text");

// Structured fields attached to every log line this thread writes while the context
// lives (json format; the text format shows them as key=value after the message).
// Contexts nest; the inner one's fields win.
class LogContext {
 public:
  LogContext(std::initializer_list<std::pair<const char*, std::string>> fields);
  ~LogContext();
  LogContext(const LogContext&) = delete;
  LogContext& operator=(const LogContext&) = delete;
  void set(const char* key, std::string value);

 private:
  std::size_t depth_;
};

}  // namespace genx::app
