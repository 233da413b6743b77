// Test oracle driver: reads one JSON object per line from stdin,
//   {"kind":"request"|"response"|"command","action":"...","payload":...[,"version":"2.0.1"]}
// (version "1.6" when absent)
// and prints one JSON line per input: {"valid":true} or
// {"valid":false,"code":"<OCPP error code>","description":"..."}.
// A line that is not such an object gets {"valid":false,"code":"GenericError",...}
// so the output always has as many lines as the input.
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "ocpp/v16_validation.hpp"
#include "ocpp/v201_validation.hpp"

namespace {

nlohmann::json answer(const std::string& line) {
  using genx::ocpp::v16::Violation;
  const auto input = nlohmann::json::parse(line, nullptr, false);
  if (!input.is_object() || !input.contains("kind") || !input["kind"].is_string() ||
      !input.contains("action") || !input["action"].is_string() || !input.contains("payload")) {
    return {{"valid", false}, {"code", "GenericError"}, {"description", "bad input line"}};
  }
  const auto kind = input["kind"].get<std::string>();
  const auto action = input["action"].get<std::string>();
  const auto& payload = input["payload"];
  const bool v201 = input.value("version", std::string("1.6")) == "2.0.1";
  std::optional<Violation> verdict;
  if (kind == "request") {
    verdict = v201 ? genx::ocpp::v201::validate_request(action, payload)
                   : genx::ocpp::v16::validate_request(action, payload);
  } else if (kind == "response") {
    verdict = v201 ? genx::ocpp::v201::validate_response(action, payload)
                   : genx::ocpp::v16::validate_response(action, payload);
  } else if (kind == "command") {
    verdict = v201 ? genx::ocpp::v201::validate_command(action, payload)
                   : genx::ocpp::v16::validate_command(action, payload);
  } else {
    return {{"valid", false}, {"code", "GenericError"}, {"description", "unknown kind"}};
  }
  if (!verdict) {
    return {{"valid", true}};
  }
  return {{"valid", false},
          {"code", std::string(genx::ocpp::to_string(verdict->code))},
          {"description", verdict->description}};
}

}  // namespace

int main() {
  std::ios::sync_with_stdio(false);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) {
      continue;
    }
    std::cout << answer(line).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
              << '\n';
  }
  std::cout.flush();
  return 0;
}
