// parse_amqp_url(s), NodeRotation and backoff_delay: pure helpers of the broker adapter (no I/O).
#include <algorithm>
#include <charconv>
#include <cctype>
#include <cmath>
#include <stdexcept>
#include <string>
#include <optional>
#include <string_view>
#include <vector>

#include "broker/broker_client.hpp"

namespace genx::broker {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::invalid_argument("invalid RabbitMQ URL: " + what);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view in, const char* part) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) {
      fail(std::string("truncated percent escape in ") + part);
    }
    const int hi = hex_value(in[i + 1]);
    const int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) fail(std::string("bad percent escape in ") + part);
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

long long parse_number(std::string_view text, const char* what, long long lo, long long hi) {
  long long value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < lo || value > hi) {
    fail(std::string("bad ") + what + " '" + std::string(text) + "'");
  }
  return value;
}

}  // namespace

namespace {

// What one URL states; nullopt: not given (the defaults, or another node of the list, apply).
struct UrlParts {
  bool tls = false;
  std::optional<std::string> username, password, host, vhost, connection_name;
  std::optional<int> port, heartbeat_seconds;
  std::optional<std::chrono::milliseconds> connect_timeout;
};

UrlParts parse_parts(std::string_view rest) {
  UrlParts p;
  const auto scheme_end = rest.find("://");
  if (scheme_end == std::string_view::npos) fail("missing scheme (expected amqp:// or amqps://)");
  std::string scheme(rest.substr(0, scheme_end));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme == "amqp") {
    p.tls = false;
  } else if (scheme == "amqps") {
    p.tls = true;
  } else {
    fail("unsupported scheme '" + scheme + "' (expected amqp or amqps)");
  }
  rest.remove_prefix(scheme_end + 3);

  std::string_view query;
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string_view path;
  bool has_path = false;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    has_path = true;
    rest = rest.substr(0, slash);
  }
  std::string_view authority = rest;

  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    const auto colon = userinfo.find(':');
    p.username = percent_decode(userinfo.substr(0, colon), "user name");
    if (colon != std::string_view::npos) {
      p.password = percent_decode(userinfo.substr(colon + 1), "password");
    }
  }

  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) fail("unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') fail("unexpected text after IPv6 address");
      port = after.substr(1);
      if (port.empty()) fail("empty port");
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) fail("empty port");
  }
  if (!host.empty()) p.host = percent_decode(host, "host");
  if (!port.empty()) p.port = static_cast<int>(parse_number(port, "port", 1, 65535));

  if (has_path && !path.empty()) {
    if (path.find('/') != std::string_view::npos) {
      fail("vhost '" + std::string(path) + "' contains '/': write it as %2F");
    }
    p.vhost = percent_decode(path, "vhost");
  }

  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    const std::string key(pair.substr(0, eq));
    const std::string value =
        eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), key.c_str());
    if (key == "heartbeat") {
      p.heartbeat_seconds = static_cast<int>(parse_number(value, "heartbeat", 0, 65535));
    } else if (key == "connection_timeout") {
      p.connect_timeout = std::chrono::milliseconds(
          parse_number(value, "connection_timeout", 1, 24LL * 3600 * 1000));
    } else if (key == "connection_name") {
      p.connection_name = value;
    } else {
      fail("unknown query parameter '" + key + "'");
    }
  }
  return p;
}

// The settings of `p` over `defaults`.
ConnectionSettings apply(const UrlParts& p, ConnectionSettings s) {
  s.tls = p.tls;
  s.port = p.port.value_or(p.tls ? 5671 : 5672);
  if (p.host) s.host = *p.host;
  if (p.username) s.username = *p.username;
  if (p.password) s.password = *p.password;
  if (p.vhost) s.vhost = *p.vhost;
  if (p.heartbeat_seconds) s.heartbeat_seconds = *p.heartbeat_seconds;
  if (p.connect_timeout) s.connect_timeout = *p.connect_timeout;
  if (p.connection_name) s.connection_name = *p.connection_name;
  return s;
}

std::string trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return std::string(text);
}

}  // namespace

ConnectionSettings parse_amqp_url(const std::string& url, ConnectionSettings defaults) {
  // nodes stays empty: the client connects to host/port (callers may still change them).
  ConnectionSettings s = apply(parse_parts(url), std::move(defaults));
  s.nodes.clear();
  return s;
}

ConnectionSettings parse_amqp_urls(const std::string& text, ConnectionSettings defaults) {
  std::vector<std::string> items;
  for (std::size_t start = 0;;) {
    const auto comma = text.find(',', start);
    items.push_back(trim(std::string_view(text).substr(start, comma == std::string::npos ? std::string::npos
                                                                                          : comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (items.size() == 1) return parse_amqp_url(items.front(), std::move(defaults));

  std::vector<UrlParts> parts;
  std::string scheme;  // of the first node, with "://"
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string which = "node " + std::to_string(i + 1) + " of " + std::to_string(items.size());
    if (items[i].empty()) fail(which + " is empty (nodes are separated by single commas)");
    std::string item = items[i];
    if (i == 0) {
      const auto end = item.find("://");
      if (end == std::string::npos) fail(which + ": missing scheme (expected amqp:// or amqps://)");
      scheme = item.substr(0, end + 3);
    } else if (item.find("://") == std::string::npos) {
      item = scheme + item;  // "h2:5673": same scheme as the first node
    }
    try {
      parts.push_back(parse_parts(item));
    } catch (const std::invalid_argument& e) {
      // "invalid RabbitMQ URL: ..." -> "invalid RabbitMQ URL: node 2 of 3: ..."
      std::string what = e.what();
      const std::string prefix = "invalid RabbitMQ URL: ";
      if (what.rfind(prefix, 0) == 0) what.erase(0, prefix.size());
      fail(which + ": " + what);
    }
  }

  // One cluster, one login: a part stated by several nodes must agree; a node that
  // leaves it out takes it from the others (or the defaults).
  UrlParts merged = parts.front();
  auto agree = [&](auto member, const char* what) {
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const auto& value = parts[i].*member;
      if (!value) continue;
      auto& have = merged.*member;
      if (have && *have != *value) {
        fail(std::string("the nodes disagree on the ") + what + " (node " + std::to_string(i + 1) +
             " differs): every node of one cluster takes the same " + what);
      }
      have = value;
    }
  };
  agree(&UrlParts::username, "user name");
  agree(&UrlParts::password, "password");
  agree(&UrlParts::vhost, "vhost");
  agree(&UrlParts::heartbeat_seconds, "heartbeat");
  agree(&UrlParts::connect_timeout, "connection_timeout");
  agree(&UrlParts::connection_name, "connection_name");

  ConnectionSettings s;
  std::vector<BrokerNode> nodes;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].tls != parts.front().tls) {
      fail("node " + std::to_string(i + 1) + " uses another scheme than node 1 (all amqp:// or all amqps://)");
    }
    UrlParts p = merged;
    p.host = parts[i].host;
    p.port = parts[i].port;
    const ConnectionSettings node = apply(p, defaults);
    for (const auto& seen : nodes) {
      if (seen.host == node.host && seen.port == node.port) {
        fail("node " + std::to_string(i + 1) + " (" + node.host + ":" + std::to_string(node.port) +
             ") is listed twice");
      }
    }
    nodes.push_back(BrokerNode{node.host, node.port});
    if (i == 0) s = node;
  }
  s.nodes = std::move(nodes);
  return s;
}

NodeRotation::NodeRotation(std::vector<BrokerNode> nodes) : nodes_(std::move(nodes)) {
  if (nodes_.empty()) throw std::invalid_argument("NodeRotation: no RabbitMQ node");
}

const BrokerNode& NodeRotation::next() {
  index_ = (index_ + 1) % nodes_.size();
  return nodes_[index_];
}

std::string describe(const BrokerNode& node) {
  const bool v6 = node.host.find(':') != std::string::npos;
  return (v6 ? "[" + node.host + "]" : node.host) + ":" + std::to_string(node.port);
}

std::chrono::milliseconds backoff_delay(std::uint32_t attempt, std::chrono::milliseconds min_backoff,
                                        std::chrono::milliseconds max_backoff, double unit_random) {
  const auto lo = std::max<std::int64_t>(0, min_backoff.count());
  const auto hi = std::max<std::int64_t>(lo, max_backoff.count());
  // Grow the window without overflow: stop doubling once it reaches the cap.
  std::int64_t window = std::max<std::int64_t>(lo, 1);
  for (std::uint32_t i = 0; i < attempt && window < hi; ++i) window *= 2;
  window = std::min(window, hi);
  const double r = std::clamp(unit_random, 0.0, 1.0);
  const auto delay = lo + static_cast<std::int64_t>(std::floor(r * static_cast<double>(window - lo)));
  return std::chrono::milliseconds(std::clamp(delay, lo, hi));
}

}  // namespace genx::broker
