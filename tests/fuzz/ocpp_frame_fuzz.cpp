// libFuzzer target for the OCPP-J frame parser: whatever bytes a charger sends,
// parse_frame returns a value (never throws, never crashes), CALL payloads go through
// the 1.6 validator, and every frame we accept serializes to a frame we accept again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "ocpp/frame.hpp"
#include "ocpp/v16_validation.hpp"

namespace {

template <typename T>
void check_round_trip(const T& message) {
  const auto text = genx::ocpp::serialize(message);
  if (std::holds_alternative<genx::ocpp::FrameError>(genx::ocpp::parse_frame(text))) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = genx::ocpp::parse_frame(text);
  const auto* frame = std::get_if<genx::ocpp::Frame>(&parsed);
  if (frame == nullptr) {
    const auto& error = std::get<genx::ocpp::FrameError>(parsed);
    (void)genx::ocpp::serialize(
        genx::ocpp::CallError{error.unique_id, error.code, error.description, {}});
    return 0;
  }
  if (const auto* call = std::get_if<genx::ocpp::Call>(frame)) {
    (void)genx::ocpp::v16::classify_action(call->action);
    (void)genx::ocpp::v16::validate_request(call->action, call->payload);
    (void)genx::ocpp::v16::validate_command(call->action, call->payload);
    check_round_trip(*call);
  } else if (const auto* result = std::get_if<genx::ocpp::CallResult>(frame)) {
    (void)genx::ocpp::v16::validate_response("BootNotification", result->payload);
    check_round_trip(*result);
  } else if (const auto* error = std::get_if<genx::ocpp::CallError>(frame)) {
    check_round_trip(*error);
  }
  return 0;
}
