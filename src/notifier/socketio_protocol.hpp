#pragma once
// The wire formats of Engine.IO v4 and the Socket.IO v4 protocol (protocol revision 5),
// as far as a text-only server needs them. Pure: strings in, values out, no I/O; never
// throws on bad input (a malformed packet is an empty optional or an error string).
//
// Engine.IO packet: one type digit then the data ("4hello"). Over HTTP long-polling
// several packets travel in one body separated by the record separator 0x1E. Binary
// packets ("b" + base64) are not supported: GenX only sends and accepts text.
//
// Socket.IO packet (inside an Engine.IO message): type digit, optional "/nsp,",
// optional ack id digits, optional JSON ("2[\"event\",{...}]", "0{\"token\":\"x\"}").
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace genx::notifier {

enum class EioType : char {
  kOpen = '0',
  kClose = '1',
  kPing = '2',
  kPong = '3',
  kMessage = '4',
  kUpgrade = '5',
  kNoop = '6',
};

struct EioPacket {
  EioType type = EioType::kMessage;
  std::string data;
  bool operator==(const EioPacket&) const = default;
};

inline constexpr char kRecordSeparator = '\x1e';

std::string encode(const EioPacket& packet);
// nullopt when empty, of unknown type, or binary.
std::optional<EioPacket> decode_eio(std::string_view text);
// Packets joined by 0x1E (the HTTP long-polling body).
std::string encode_payload(const std::vector<std::string>& encoded_packets);
// nullopt when any packet of the body is malformed.
std::optional<std::vector<EioPacket>> decode_payload(std::string_view body);

enum class SioType {
  kConnect = 0,
  kDisconnect = 1,
  kEvent = 2,
  kAck = 3,
  kConnectError = 4,
  kBinaryEvent = 5,
  kBinaryAck = 6,
};

struct SioPacket {
  SioType type = SioType::kEvent;
  std::string nsp = "/";
  std::optional<std::uint64_t> id;
  std::optional<nlohmann::json> data;
};

// The Socket.IO packet text (without the Engine.IO "4" prefix).
std::string encode(const SioPacket& packet);
// The packet, or why it is unusable (bad type, binary, bad JSON, an EVENT whose data
// is not an array starting with a string name, a CONNECT whose data is not an object).
std::variant<SioPacket, std::string> decode_sio(std::string_view text);

// Engine.IO message carrying a Socket.IO EVENT on "/": 42["name",<payload_json>].
// payload_json must be valid JSON text (it is inserted as is, so a broadcast is built
// once for every client).
std::string event_message(std::string_view name, std::string_view payload_json);

struct HandshakeParams {
  std::string sid;
  bool allow_upgrade = true;
  int ping_interval_ms = 25000;
  int ping_timeout_ms = 20000;
  std::size_t max_payload = 1000000;
};
// The Engine.IO OPEN packet: 0{"sid":...,"upgrades":["websocket"],"pingInterval":...}.
std::string open_packet(const HandshakeParams& params);

// The Socket.IO event name of a routing key on events_exchange: "notification.X" -> "X";
// nullopt for any other key.
std::optional<std::string> event_name_for_routing_key(std::string_view routing_key);

// CORS: whether a browser page at `origin` may talk to the notifier: the dashboard, that
// is http(s)://HOST:dashboard_port where HOST is the host name of request_host (the
// request's Host header; any host when empty), and the configured list `allowed` of
// exact origins ("https://ops.example.com"; "*" allows every origin).
bool origin_allowed(std::string_view origin, const std::vector<std::string>& allowed,
                    int dashboard_port, std::string_view request_host = {});

}  // namespace genx::notifier
