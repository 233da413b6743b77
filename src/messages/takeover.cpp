#include "messages/takeover.hpp"

#include <nlohmann/json.hpp>

#include "messages/envelope.hpp"

namespace genx::messages {

std::string encode_takeover(const TakeoverNotice& notice) {
  return nlohmann::json{{"version", kEventVersion},
                        {"deviceId", notice.device_id},
                        {"gatewayId", notice.gateway_id},
                        {"connectedAt", notice.connected_at}}
      .dump();
}

std::optional<TakeoverNotice> decode_takeover(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  const auto device = j.find("deviceId");
  const auto gateway = j.find("gatewayId");
  if (device == j.end() || !device->is_string() || gateway == j.end() || !gateway->is_string()) {
    return std::nullopt;
  }
  TakeoverNotice notice;
  notice.device_id = device->get<std::string>();
  notice.gateway_id = gateway->get<std::string>();
  const auto at = j.find("connectedAt");
  if (at != j.end() && at->is_number_integer()) notice.connected_at = at->get<std::int64_t>();
  return notice;
}

}  // namespace genx::messages
