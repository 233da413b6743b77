// parse_amqp_url and backoff_delay: pure helpers of the broker adapter (no I/O).
#include <algorithm>
#include <charconv>
#include <cctype>
#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>

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

ConnectionSettings parse_amqp_url(const std::string& url, ConnectionSettings defaults) {
  ConnectionSettings s = std::move(defaults);
  std::string_view rest(url);
  const auto scheme_end = rest.find("://");
  if (scheme_end == std::string_view::npos) fail("missing scheme (expected amqp:// or amqps://)");
  std::string scheme(rest.substr(0, scheme_end));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme == "amqp") {
    s.tls = false;
    s.port = 5672;
  } else if (scheme == "amqps") {
    s.tls = true;
    s.port = 5671;
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
    s.username = percent_decode(userinfo.substr(0, colon), "user name");
    if (colon != std::string_view::npos) {
      s.password = percent_decode(userinfo.substr(colon + 1), "password");
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
  if (!host.empty()) s.host = percent_decode(host, "host");
  if (!port.empty()) s.port = static_cast<int>(parse_number(port, "port", 1, 65535));

  if (has_path && !path.empty()) {
    if (path.find('/') != std::string_view::npos) {
      fail("vhost '" + std::string(path) + "' contains '/': write it as %2F");
    }
    s.vhost = percent_decode(path, "vhost");
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
      s.heartbeat_seconds = static_cast<int>(parse_number(value, "heartbeat", 0, 65535));
    } else if (key == "connection_timeout") {
      s.connect_timeout = std::chrono::milliseconds(
          parse_number(value, "connection_timeout", 1, 24LL * 3600 * 1000));
    } else if (key == "connection_name") {
      s.connection_name = value;
    } else {
      fail("unknown query parameter '" + key + "'");
    }
  }
  return s;
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
