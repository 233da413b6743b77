// Engine.IO v4 / Socket.IO v4 wire formats. Pure.
#include "notifier/socketio_protocol.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace genx::notifier {

using nlohmann::json;

std::string encode(const EioPacket& packet) {
  std::string out;
  out.reserve(packet.data.size() + 1);
  out.push_back(static_cast<char>(packet.type));
  out += packet.data;
  return out;
}

std::optional<EioPacket> decode_eio(std::string_view text) {
  if (text.empty()) return std::nullopt;
  char t = text.front();
  if (t < '0' || t > '6') return std::nullopt;
  return EioPacket{static_cast<EioType>(t), std::string(text.substr(1))};
}

std::string encode_payload(const std::vector<std::string>& encoded_packets) {
  std::string out;
  for (std::size_t i = 0; i < encoded_packets.size(); ++i) {
    if (i > 0) out.push_back(kRecordSeparator);
    out += encoded_packets[i];
  }
  return out;
}

std::optional<std::vector<EioPacket>> decode_payload(std::string_view body) {
  std::vector<EioPacket> packets;
  for (;;) {
    auto sep = body.find(kRecordSeparator);
    auto packet = decode_eio(body.substr(0, sep));
    if (!packet) return std::nullopt;
    packets.push_back(std::move(*packet));
    if (sep == std::string_view::npos) break;
    body.remove_prefix(sep + 1);
  }
  return packets;
}

std::string encode(const SioPacket& packet) {
  std::string out(1, static_cast<char>('0' + static_cast<int>(packet.type)));
  if (packet.nsp != "/") {
    out += packet.nsp;
    out.push_back(',');
  }
  if (packet.id) out += std::to_string(*packet.id);
  if (packet.data) out += packet.data->dump();
  return out;
}

std::variant<SioPacket, std::string> decode_sio(std::string_view text) {
  if (text.empty()) return std::string("empty packet");
  char t = text.front();
  if (t < '0' || t > '6') return std::string("unknown packet type");
  SioPacket packet;
  packet.type = static_cast<SioType>(t - '0');
  if (packet.type == SioType::kBinaryEvent || packet.type == SioType::kBinaryAck) {
    return std::string("binary packets are not supported");
  }
  text.remove_prefix(1);
  if (!text.empty() && text.front() == '/') {
    auto comma = text.find(',');
    packet.nsp = std::string(text.substr(0, comma));
    text.remove_prefix(comma == std::string_view::npos ? text.size() : comma + 1);
  }
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits > 0) {
    std::uint64_t id = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + digits, id);
    if (ec != std::errc()) return std::string("bad ack id");
    packet.id = id;
    text.remove_prefix(digits);
  }
  if (!text.empty()) {
    packet.data = json::parse(text, nullptr, false);
    if (packet.data->is_discarded()) return std::string("data is not JSON");
  }
  switch (packet.type) {
    case SioType::kConnect:
      if (packet.data && !packet.data->is_object()) return std::string("CONNECT data must be an object");
      break;
    case SioType::kEvent:
      if (!packet.data || !packet.data->is_array() || packet.data->empty() ||
          !packet.data->front().is_string()) {
        return std::string("EVENT data must be an array starting with the event name");
      }
      break;
    case SioType::kAck:
      if (!packet.id || !packet.data || !packet.data->is_array()) {
        return std::string("ACK needs an id and an array");
      }
      break;
    case SioType::kDisconnect:
    case SioType::kConnectError:
    case SioType::kBinaryEvent:
    case SioType::kBinaryAck:
      break;
  }
  return packet;
}

std::string event_message(std::string_view name, std::string_view payload_json) {
  std::string out = "42[";
  out += json(std::string(name)).dump();
  out.push_back(',');
  out += payload_json;
  out.push_back(']');
  return out;
}

std::string open_packet(const HandshakeParams& params) {
  nlohmann::ordered_json body = {
      {"sid", params.sid},
      {"upgrades", params.allow_upgrade ? json::array({"websocket"}) : json::array()},
               {"pingInterval", params.ping_interval_ms},
               {"pingTimeout", params.ping_timeout_ms},
               {"maxPayload", params.max_payload}};
  return "0" + body.dump();
}

std::optional<std::string> event_name_for_routing_key(std::string_view routing_key) {
  constexpr std::string_view kPrefix = "notification.";
  if (routing_key.size() <= kPrefix.size() || routing_key.substr(0, kPrefix.size()) != kPrefix) {
    return std::nullopt;
  }
  return std::string(routing_key.substr(kPrefix.size()));
}

bool origin_allowed(std::string_view origin, const std::vector<std::string>& allowed,
                    int dashboard_port, std::string_view request_host) {
  for (const auto& a : allowed) {
    if (a == "*" || a == origin) return true;
  }
  std::string_view rest;
  if (origin.substr(0, 7) == "http://") {
    rest = origin.substr(7);
  } else if (origin.substr(0, 8) == "https://") {
    rest = origin.substr(8);
  } else {
    return false;
  }
  auto colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  if (rest.find('/') != std::string_view::npos) return false;
  if (rest.substr(colon + 1) != std::to_string(dashboard_port)) return false;
  if (request_host.empty()) return true;
  // The dashboard's page is served by the same host as this notifier: compare host names.
  const auto host_colon = request_host.rfind(':');
  const bool has_port = host_colon != std::string_view::npos && request_host.back() != ']';
  const std::string_view host_name = has_port ? request_host.substr(0, host_colon) : request_host;
  const std::string_view origin_host = rest.substr(0, colon);
  return origin_host.size() == host_name.size() &&
         std::equal(origin_host.begin(), origin_host.end(), host_name.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
         });
}

}  // namespace genx::notifier
