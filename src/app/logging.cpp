#include "app/logging.hpp"

#include <cstdlib>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace genx::app {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;
thread_local std::vector<Fields> t_context;

std::string iso_time(spdlog::log_clock::time_point tp) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    nlohmann::ordered_json line;
    line["time"] = iso_time(msg.time);
    auto level = spdlog::level::to_string_view(msg.level);
    line["level"] = std::string(level.data(), level.size());
    std::string process(msg.logger_name.data(), msg.logger_name.size());
    auto dot = process.rfind('.');
    line["role"] = dot == std::string::npos ? process : process.substr(0, dot);
    line["process"] = process;
    for (const auto& fields : t_context) {
      for (const auto& [k, v] : fields) {
        // Durations (keys ending in "Ms") are numbers in the JSON line.
        char* end = nullptr;
        double number = k.size() > 2 && k.compare(k.size() - 2, 2, "Ms") == 0
                            ? std::strtod(v.c_str(), &end)
                            : 0;
        if (end && end != v.c_str() && *end == '\0') {
          line[k] = number;
        } else {
          line[k] = v;
        }
      }
    }
    line["msg"] = std::string(msg.payload.data(), msg.payload.size());
    std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    text += '\n';
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

class TextFormatter final : public spdlog::formatter {
 public:
  TextFormatter()
      : inner_("%Y-%m-%dT%H:%M:%S.%eZ %-8n %^%-5l%$ %v", spdlog::pattern_time_type::utc, "") {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    inner_.format(msg, dest);
    std::string extra;
    for (const auto& fields : t_context) {
      for (const auto& [k, v] : fields) extra += " " + k + "=" + v;
    }
    extra += '\n';
    dest.append(extra.data(), extra.data() + extra.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<TextFormatter>();
  }

 private:
  spdlog::pattern_formatter inner_;
};

}  // namespace

void setup_logging(const std::string& process_name, const std::string& level,
                   const std::string& format) {
  auto logger = spdlog::stderr_logger_mt(process_name);
  if (format == "json") {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_formatter(std::make_unique<TextFormatter>());
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

LogContext::LogContext(std::initializer_list<std::pair<const char*, std::string>> fields)
    : depth_(t_context.size()) {
  Fields f;
  for (const auto& [k, v] : fields) f.emplace_back(k, v);
  t_context.push_back(std::move(f));
}

LogContext::~LogContext() { t_context.resize(depth_); }

void LogContext::set(const char* key, std::string value) {
  auto& fields = t_context.at(depth_);
  for (auto& [k, v] : fields) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  fields.emplace_back(key, std::move(value));
}

}  // namespace genx::app
