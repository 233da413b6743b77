#pragma once
// The takeover notice: a gateway that accepts a charger tells every other gateway, on the
// commands exchange (routing key = the charger), so the one still holding an older
// connection closes it. {"version":1,"deviceId","gatewayId","connectedAt"}. Pure.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace genx::messages {

// The AMQP `type` that tells a takeover notice from a command on the commands exchange.
inline constexpr std::string_view kTakeoverType = "genx.gateway.takeover";

struct TakeoverNotice {
  std::string device_id;
  std::string gateway_id;        // the gateway that holds the charger now
  std::int64_t connected_at = 0;  // Unix ms of that connection
};

std::string encode_takeover(const TakeoverNotice& notice);
// nullopt when the body is not a notice.
std::optional<TakeoverNotice> decode_takeover(std::string_view body);

}  // namespace genx::messages
