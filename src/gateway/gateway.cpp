#include "gateway/gateway.hpp"

#include <atomic>
#include <chrono>
#include <deque>
#include <random>
#include <unordered_map>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include "gateway/charger_auth.hpp"
#include "gateway/charger_stream.hpp"
#include "gateway/gateway_metrics.hpp"
#include "gateway/limit_metrics.hpp"
#include "gateway/limits.hpp"
#include "gateway/tls_listener.hpp"
#include "messages/actions.hpp"
#include "messages/commands.hpp"
#include "messages/envelope.hpp"
#include "messages/takeover.hpp"
#include "net/listener.hpp"
#include "ocpp/frame.hpp"
#include "ocpp/v16_validation.hpp"
#include "ocpp/v201_validation.hpp"

namespace genx::gateway {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {

constexpr std::string_view kSubprotocol16 = "ocpp1.6";
constexpr std::string_view kSubprotocol201 = "ocpp2.0.1";
constexpr std::string_view kPathPrefix = "/ocpp/";
constexpr std::size_t kMaxIdentityLength = 48;  // OCPP 1.6 chargeBoxIdentity

std::int64_t unix_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string random_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(36, '-');
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    id[i] = kHex[rng() & 0xf];
  }
  id[14] = '4';
  return id;
}

// Percent-decodes the charge point identity from the URL; empty when invalid.
std::string decode_identity(std::string_view encoded) {
  std::string out;
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    char c = encoded[i];
    if (c == '%') {
      if (i + 2 >= encoded.size()) return {};
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      int hi = hex(encoded[i + 1]);
      int lo = hex(encoded[i + 2]);
      if (hi < 0 || lo < 0) return {};
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '/' || c == '?' || c == '#') {
      return {};
    } else {
      out.push_back(c);
    }
  }
  for (unsigned char c : out) {
    if (c < 0x21 || c == 0x7f) return {};
  }
  return out;
}

// The subprotocol to answer from those offered: ocpp2.0.1 or ocpp1.6, the preferred one
// when both are offered; nullopt when neither is.
std::optional<ocpp::Dialect> negotiate_subprotocol(std::string_view header, bool prefer_ocpp201) {
  bool v16 = false;
  bool v201 = false;
  while (!header.empty()) {
    auto comma = header.find(',');
    std::string_view token = header.substr(0, comma);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    v16 = v16 || token == kSubprotocol16;
    v201 = v201 || token == kSubprotocol201;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  if (v16 && v201) return prefer_ocpp201 ? ocpp::Dialect::kOcpp201 : ocpp::Dialect::kOcpp16;
  if (v201) return ocpp::Dialect::kOcpp201;
  if (v16) return ocpp::Dialect::kOcpp16;
  return std::nullopt;
}

std::string_view subprotocol_name(ocpp::Dialect dialect) {
  return dialect == ocpp::Dialect::kOcpp201 ? kSubprotocol201 : kSubprotocol16;
}

// The version's validators (the session negotiated its version at the handshake).
std::optional<ocpp::v16::Violation> validate_request(ocpp::Dialect d, std::string_view action,
                                                     const nlohmann::json& payload) {
  return d == ocpp::Dialect::kOcpp201 ? ocpp::v201::validate_request(action, payload)
                                      : ocpp::v16::validate_request(action, payload);
}
std::optional<ocpp::v16::Violation> validate_response(ocpp::Dialect d, std::string_view action,
                                                      const nlohmann::json& payload) {
  return d == ocpp::Dialect::kOcpp201 ? ocpp::v201::validate_response(action, payload)
                                      : ocpp::v16::validate_response(action, payload);
}
std::optional<ocpp::v16::Violation> validate_command(ocpp::Dialect d, std::string_view action,
                                                     const nlohmann::json& payload) {
  return d == ocpp::Dialect::kOcpp201 ? ocpp::v201::validate_command(action, payload)
                                      : ocpp::v16::validate_command(action, payload);
}

const char* outcome_name(broker::PublishOutcome outcome) {
  switch (outcome) {
    case broker::PublishOutcome::kConfirmed: return "confirmed";
    case broker::PublishOutcome::kNacked: return "nacked";
    case broker::PublishOutcome::kReturned: return "returned";
    case broker::PublishOutcome::kConnectionLost: return "connection_lost";
    case broker::PublishOutcome::kStopped: return "stopped";
  }
  return "unknown";
}

// The peer's address as the connection limits count it (IPv4-mapped IPv6 as IPv4).
std::string source_address(const tcp::socket& socket) {
  beast::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  auto address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

// A connection limit the process cannot reach (each connection is a file descriptor)
// would let accept() fail first: say so at start-up.
void warn_if_above_open_files_limit(const ConnectionLimits& limits) {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_cur == RLIM_INFINITY) return;
  constexpr rlim_t kReserved = 64;  // broker, ops endpoint, logs, database
  const rlim_t usable = files.rlim_cur > kReserved ? files.rlim_cur - kReserved : 0;
  if (limits.total == 0 || limits.total > usable) {
    spdlog::warn("GENX_MAX_CONNECTIONS={} but the open-files limit is {}: connections beyond about {} "
                 "fail at accept; raise ulimit -n (systemd: LimitNOFILE) or lower GENX_MAX_CONNECTIONS",
                 limits.total == 0 ? std::string("0 (unlimited)") : std::to_string(limits.total),
                 files.rlim_cur, usable);
  }
}

}  // namespace

class Session;

struct Gateway::Impl : std::enable_shared_from_this<Gateway::Impl> {
  GatewayOptions options;
  broker::BrokerClient& broker;
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::string reply_queue;
  std::string command_queue;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> connected{0};
  // Charger security (docs/security.md): the TLS listener and the handshake checks.
  // Declared after ioc: the authenticator's threads post to it until they are joined.
  tcp::acceptor tls_acceptor{ioc};
  std::unique_ptr<TlsServer> tls;
  std::unique_ptr<ChargerAuthenticator> auth;

  // Abuse limits (docs/security.md "Abuse limits"), owned by the I/O thread; open_connections
  // mirrors connections.total() for other threads (metrics).
  ConnectionCounter connections{options.connection_limits};
  CallRateLimiter call_limiter{options.call_rate};
  std::atomic<std::size_t> open_connections{0};
  net::steady_timer limit_timer{ioc};
  LimitClock::time_point last_refusal_log{};
  std::size_t refusals_unlogged = 0;

  // Owned by the I/O thread.
  std::unordered_map<std::string, std::weak_ptr<Session>> sessions;
  struct PendingReply {
    std::weak_ptr<Session> session;
    std::string identity;
    std::string unique_id;
    std::string action;
    std::unique_ptr<net::steady_timer> timer;
  };
  std::unordered_map<std::string, PendingReply> pending;

  Impl(GatewayOptions o, broker::BrokerClient& b) : options(std::move(o)), broker(b) {}

  void accept();
  void accept_later(bool tls);
  void sweep_call_limits();
  void log_refusal(Admission reason, const std::string& address);
  void accept_tls();
  void on_reply(broker::Delivery&& delivery);
  void on_command(broker::Delivery&& delivery);
  void send_command_reply(const std::string& reply_to, const messages::CommandReply& reply);
  void publish_event(const messages::DomainEvent& event);
  void publish_takeover(const std::string& identity, std::int64_t connected_at_ms);
  void on_takeover(const broker::Delivery& delivery);
  void finish_pending(const std::string& correlation_id, const std::string& frame);
  void register_session(const std::string& identity, const std::shared_ptr<Session>& session);
  void unregister_session(const std::string& identity, const Session* session);
  // charger.connected / charger.disconnected on events_exchange (best effort: a lost
  // event only makes a dashboard show a charger online or offline late).
  void publish_connection_event(const std::string& identity, bool connected_now);
};

// One connection's place in the connection limits, taken at TCP accept (before a TLS
// handshake: a flood of handshakes from one address is bounded too) and given back
// exactly once, when the last owner lets go: the TLS handshake that failed or the
// session that ended. I/O thread only.
class ConnectionSlot {
 public:
  ConnectionSlot(std::shared_ptr<Gateway::Impl> gw, std::string address)
      : gw_(std::move(gw)), address_(std::move(address)), admission_(gw_->connections.admit(address_)) {
    if (admitted()) ++gw_->open_connections;
  }
  ~ConnectionSlot() {
    if (!admitted()) return;
    gw_->connections.release(address_);
    --gw_->open_connections;
  }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

  bool admitted() const { return admission_ == Admission::kAdmitted; }
  Admission admission() const { return admission_; }
  const std::string& address() const { return address_; }

 private:
  std::shared_ptr<Gateway::Impl> gw_;
  std::string address_;
  Admission admission_;
};

// One charger's WebSocket. Lives while a read or write is outstanding; all members are
// touched on the I/O thread only.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<Gateway::Impl> gw, ChargerStream stream, std::shared_ptr<ConnectionSlot> slot)
      : gw_(std::move(gw)),
        slot_(std::move(slot)),
        address_(slot_->address()),
        admission_(slot_->admission()),
        stream_(std::move(stream)) {}

  void start() { read_request(); }

  // Sends a frame (bounded queue: a charger that does not read is dropped).
  void send(std::string frame) {
    count_frame_sent(frame);
    if (closed_) return;
    if (queue_.size() >= gw_->options.max_queued_frames) {
      spdlog::warn("charger {}: outgoing queue full, closing", identity_);
      close(websocket::close_code::policy_error, "outgoing queue full");
      return;
    }
    queue_.push_back(std::move(frame));
    if (queue_.size() == 1) write_next();
  }

  void close(websocket::close_code code, std::string_view reason) {
    if (closed_ || !ws_) return;
    closed_ = true;
    queue_.clear();
    websocket::close_reason cr(code, beast::string_view(reason.data(), reason.size()));
    ws_->async_close(cr, [self = shared_from_this()](beast::error_code) {});
  }

  const std::string& identity() const { return identity_; }
  std::int64_t connected_at_ms() const { return connected_at_ms_; }
  void close_taken_over() {
    taken_over_ = true;
    close(websocket::close_code::policy_error, "connected to another gateway");
  }

  // A command from the api (see gateway.hpp): queued, sent when none is outstanding.
  void enqueue_command(messages::CommandRequest request, std::string reply_to) {
    if (closed_ && taken_over_) return;  // the instance that took over answers it
    if (closed_) return reply_command(request, reply_to, messages::CommandOutcome::kDisconnected, {});
    if (commands_.size() >= gw_->options.max_queued_commands) {
      messages::CommandReply busy = make_reply(request, messages::CommandOutcome::kBusy, {});
      busy.error_description = std::to_string(commands_.size()) + " commands already waiting";
      spdlog::warn("charger {}: {} refused, {}", identity_, request.action, busy.error_description);
      gw_->send_command_reply(reply_to, busy);
      return;
    }
    commands_.push_back(QueuedCommand{std::move(request), std::move(reply_to)});
    if (outstanding_) {
      spdlog::info("charger {}: {} waits for the outstanding {} ({} waiting)", identity_,
                   commands_.back().request.action, outstanding_->command.request.action, commands_.size());
    }
    send_next_command();
  }

 private:
  struct QueuedCommand {
    messages::CommandRequest request;
    std::string reply_to;
  };
  struct OutstandingCommand {
    QueuedCommand command;
    std::string unique_id;
    std::unique_ptr<net::steady_timer> timer;
  };

  messages::CommandReply make_reply(const messages::CommandRequest& request, messages::CommandOutcome outcome,
                                std::string unique_id) {
    messages::CommandReply reply;
    reply.command_id = request.command_id;
    reply.device_id = identity_;
    reply.action = request.action;
    reply.outcome = outcome;
    reply.unique_id = std::move(unique_id);
    return reply;
  }

  void reply_command(const messages::CommandRequest& request, const std::string& reply_to,
                     messages::CommandOutcome outcome, std::string unique_id) {
    gw_->send_command_reply(reply_to, make_reply(request, outcome, std::move(unique_id)));
  }

  void send_next_command() {
    while (!outstanding_ && !closed_ && !commands_.empty()) {
      QueuedCommand next = std::move(commands_.front());
      commands_.pop_front();
      auto budget = gw_->options.command_timeout;
      if (next.request.deadline_ms != 0) {
        const auto left = std::chrono::milliseconds(next.request.deadline_ms - unix_millis());
        if (left.count() <= 0) {
          spdlog::info("charger {}: {} dropped, its caller stopped waiting", identity_,
                       next.request.action);
          reply_command(next.request, next.reply_to, messages::CommandOutcome::kTimeout, {});
          continue;
        }
        budget = std::min(budget, left);
      }
      // The api checked the command against the version it knew; the charger may have
      // reconnected speaking the other one since.
      if (auto bad = validate_command(dialect_, next.request.action, next.request.payload)) {
        messages::CommandReply refused = make_reply(next.request, messages::CommandOutcome::kCallError, {});
        refused.error_code = std::string(ocpp::to_string(bad->code));
        refused.error_description = "not sent: the charger speaks " +
                                    std::string(subprotocol_name(dialect_)) + ": " + bad->description;
        gw_->send_command_reply(next.reply_to, refused);
        continue;
      }
      std::string unique_id = random_id();
      send(ocpp::serialize(ocpp::Call{unique_id, next.request.action, next.request.payload}));
      gw_->publish_event(messages::command_sent_event(next.request, unique_id));
      auto timer = std::make_unique<net::steady_timer>(gw_->ioc, budget);
      timer->async_wait([weak = weak_from_this(), unique_id](beast::error_code ec) {
        auto self = weak.lock();
        if (ec || !self || !self->outstanding_ || self->outstanding_->unique_id != unique_id) return;
        spdlog::warn("charger {}: no answer to {} {} in time", self->identity_,
                     self->outstanding_->command.request.action, unique_id);
        self->finish_command(messages::CommandOutcome::kTimeout, nlohmann::json::object(), {});
      });
      outstanding_ = OutstandingCommand{std::move(next), std::move(unique_id), std::move(timer)};
    }
  }

  // Ends the outstanding command with this outcome and sends the next one.
  void finish_command(messages::CommandOutcome outcome, nlohmann::json payload,
                      std::optional<ocpp::CallError> error, std::string problem = {}) {
    if (!outstanding_) return;
    OutstandingCommand done = std::move(*outstanding_);
    outstanding_.reset();
    done.timer->cancel();
    messages::CommandReply reply = make_reply(done.command.request, outcome, done.unique_id);
    reply.payload = std::move(payload);
    if (error) {
      reply.error_code = std::string(ocpp::to_string(error->code));
      reply.error_description = error->description;
      reply.error_details = error->details;
    } else if (!problem.empty()) {
      reply.error_description = std::move(problem);
    }
    gw_->send_command_reply(done.command.reply_to, reply);
    send_next_command();
  }

  // The charger's CALLRESULT / CALLERROR: only the outstanding command's id counts.
  void handle_response(ocpp::Frame& frame) {
    const std::string& id = std::holds_alternative<ocpp::CallResult>(frame)
                                ? std::get<ocpp::CallResult>(frame).unique_id
                                : std::get<ocpp::CallError>(frame).unique_id;
    if (const auto* error = std::get_if<ocpp::CallError>(&frame); error && error->about_result) {
      // 2.0.1 CALLRESULTERROR: the charger could not handle one of our answers. Nothing to
      // answer (OCPP-J 2.0.1 section 4.2.4); the log says what it disliked.
      spdlog::warn("charger {}: CALLRESULTERROR for our answer {}: {} {}", identity_, id,
                   ocpp::to_string(error->code), error->description);
      return;
    }
    if (!outstanding_ || outstanding_->unique_id != id) {
      spdlog::info("charger {}: response {} matches no outstanding command, ignored", identity_, id);
      return;
    }
    if (auto* result = std::get_if<ocpp::CallResult>(&frame)) {
      const auto& action = outstanding_->command.request.action;
      if (auto violation = validate_response(dialect_, action, result->payload)) {
        spdlog::warn("charger {}: invalid {} response: {}", identity_, action, violation->description);
        finish_command(messages::CommandOutcome::kInvalidResponse, std::move(result->payload), std::nullopt,
                       violation->description);
      } else {
        finish_command(messages::CommandOutcome::kResult, std::move(result->payload), std::nullopt);
      }
    } else {
      finish_command(messages::CommandOutcome::kCallError, nlohmann::json::object(),
                     std::move(std::get<ocpp::CallError>(frame)));
    }
  }

  // The connection is gone: nothing queued or outstanding can be answered by it.
  void abandon_commands() {
    if (outstanding_) {
      OutstandingCommand done = std::move(*outstanding_);
      outstanding_.reset();
      done.timer->cancel();
      reply_command(done.command.request, done.command.reply_to, messages::CommandOutcome::kDisconnected,
                    done.unique_id);
    }
    for (auto& c : commands_) reply_command(c.request, c.reply_to, messages::CommandOutcome::kDisconnected, {});
    commands_.clear();
  }

  void read_request() {
    stream_.expires_after(gw_->options.handshake_timeout);
    parser_.emplace();
    parser_->body_limit(8192);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_request(ec);
                     });
  }

  void reject(http::status status, std::string body) {
    auto res = std::make_shared<http::response<http::string_body>>(status, 11);
    res->set(http::field::server, "genx");
    res->set(http::field::content_type, "text/plain");
    res->keep_alive(false);
    res->body() = std::move(body) + "\n";
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code, std::size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    });
  }

  void on_request(beast::error_code ec) {
    if (ec) {  // timeout or garbage before a request: just drop the socket
      if (ec == beast::error::timeout) {
        count_handshake_timeout();
        spdlog::debug("connection from {}: no upgrade request within {} ms, closed", address_,
                      gw_->options.handshake_timeout.count());
      }
      return;
    }
    if (admission_ != Admission::kAdmitted) return refuse_connection();
    auto& req = parser_->get();
    std::string_view target(req.target().data(), req.target().size());
    if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
    if (target.substr(0, kPathPrefix.size()) != kPathPrefix) {
      return reject(http::status::not_found, "unknown path: use /ocpp/{chargePointId}");
    }
    identity_ = decode_identity(target.substr(kPathPrefix.size()));
    if (identity_.empty() || identity_.size() > kMaxIdentityLength) {
      return reject(http::status::bad_request,
                    "invalid charge point id: 1-48 printable characters without '/'");
    }
    if (!websocket::is_upgrade(req)) {
      return reject(http::status::upgrade_required, "this endpoint speaks OCPP-J over WebSocket");
    }
    auto proto = req[http::field::sec_websocket_protocol];
    const auto dialect = negotiate_subprotocol(std::string_view(proto.data(), proto.size()),
                                               gw_->options.prefer_ocpp201);
    if (!dialect) {
      spdlog::info("charger {}: refused, subprotocol \"{}\" is neither ocpp1.6 nor ocpp2.0.1",
                   identity_, std::string_view(proto.data(), proto.size()));
      return reject(http::status::bad_request,
                    "subprotocol ocpp1.6 or ocpp2.0.1 required (Sec-WebSocket-Protocol)");
    }
    dialect_ = *dialect;
    authorize(req);
  }

  // ---- Charger security (docs/security.md; checks in charger_auth.hpp) ----

  // Hands what the handshake showed to the authenticator (off this thread); the answer
  // comes back here. The handshake timeout keeps running meanwhile.
  void authorize(const http::request<http::string_body>& req) {
    security::ConnectionFacts facts;
    facts.charge_point_id = identity_;
    facts.tls = stream_.peer().tls;
    facts.client_certificate_cn = stream_.peer().client_certificate_cn;
    if (auto it = req.find(http::field::authorization); it != req.end()) {
      facts.authorization = std::string(it->value().data(), it->value().size());
    }
    gw_->auth->check(std::move(facts), [self = shared_from_this()](AuthDecision decision) {
      auto& ioc = self->gw_->ioc;
      net::post(ioc, [self = std::move(self), decision = std::move(decision)] {
        self->on_authorized(decision);
      });
    });
  }

  void on_authorized(const AuthDecision& decision) {
    if (decision.status == 0) return upgrade();
    beast::error_code ec;
    const auto remote = stream_.socket().remote_endpoint(ec);
    spdlog::warn("charger {}: refused at the handshake with HTTP {} ({}; profile {}, {} from {})", identity_,
                 decision.status, decision.reason, decision.profile, stream_.peer().tls ? "wss" : "ws",
                 ec ? std::string("?") : remote.address().to_string());
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(decision.status), 11);
    res->set(http::field::server, "genx");
    res->set(http::field::content_type, "text/plain");
    if (decision.status == 401) res->set(http::field::www_authenticate, "Basic realm=\"OCPP\", charset=\"UTF-8\"");
    if (decision.status == 503) res->set(http::field::retry_after, "30");
    res->keep_alive(false);
    res->body() = decision.reason + "\n";
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code, std::size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    });
  }

  // The request passed every check: the WebSocket handshake proper.
  void upgrade() {
    auto& req = parser_->get();
    stream_.expires_never();
    ws_.emplace(std::move(stream_));
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = gw_->options.handshake_timeout;
    timeouts.idle_timeout = gw_->options.idle_timeout;
    timeouts.keep_alive_pings = true;
    ws_->set_option(timeouts);
    ws_->set_option(websocket::stream_base::decorator([protocol = subprotocol_name(dialect_)](
                                                          websocket::response_type& res) {
      res.set(http::field::server, "genx");
      res.set(http::field::sec_websocket_protocol, std::string(protocol));
    }));
    // No limit inside Beast: read_frame() enforces GENX_MAX_FRAME_BYTES itself, so that an
    // oversized frame ends with a closing handshake (code 1009) the charger receives. Beast's
    // own limit fails the connection and its TCP teardown (Boost 1.74) stops draining after
    // one read: the socket closes with the rest of the frame unread, the kernel answers with
    // a reset, and the charger may see an abnormal close (1006) instead of 1009.
    ws_->read_message_max(0);
    ws_->auto_fragment(false);
    ws_->async_accept(req, [self = shared_from_this()](beast::error_code ec) {
      self->on_accept(ec);
    });
  }

  void on_accept(beast::error_code ec) {
    if (ec) {
      if (ec == beast::error::timeout) count_handshake_timeout();
      spdlog::info("charger {}: handshake failed: {}", identity_, ec.message());
      return;
    }
    if (gw_->stopping) {
      close(websocket::close_code::going_away, "server shutting down");
      return;
    }
    accepted_ = true;
    connected_at_ms_ = unix_millis();
    // Idle connections dominate a gateway's memory: drop what only the handshake needed
    // (the parsed HTTP request and the buffer it was read into).
    parser_.reset();
    buffer_.shrink_to_fit();
    gw_->register_session(identity_, shared_from_this());
    ws_->text(true);
    read_frame();
  }

  void read_frame() {
    buffer_.clear();
    read_more();
  }

  // Reads the message on, at most one byte past GENX_MAX_FRAME_BYTES: memory per charger
  // stays bounded whatever length a frame header announces.
  void read_more() {
    const std::size_t allowed = gw_->options.max_frame_bytes + 1 - std::min(buffer_.size(), gw_->options.max_frame_bytes);
    ws_->async_read_some(buffer_, allowed, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec && self->buffer_.size() > self->gw_->options.max_frame_bytes) {
        count_oversized_frame();
        spdlog::warn("charger {}: frame larger than {} bytes, connection closed (1009)", self->identity_,
                     self->gw_->options.max_frame_bytes);
        // The closing handshake reads and discards the rest of the frame until the
        // charger's close frame, so the charger gets 1009, not a reset.
        self->close(websocket::close_code::too_big, "frame too large");
        self->finish();
        return;
      }
      if (!ec && !self->ws_->is_message_done()) return self->read_more();
      self->on_frame(ec);
    });
  }

  void on_frame(beast::error_code ec) {
    if (ec) {
      if (ec == beast::error::timeout) {
        count_idle_timeout();
        spdlog::info("charger {}: no frame and no pong since the last ping (idle timeout {} s): connection closed",
                     identity_, gw_->options.idle_timeout.count());
      } else if (ec != websocket::error::closed && ec != net::error::operation_aborted) {
        spdlog::info("charger {}: connection ended: {}", identity_, ec.message());
      }
      closed_ = true;
      finish();
      return;
    }
    if (!ws_->got_text()) {
      close(websocket::close_code::unknown_data, "OCPP-J frames are text");
      return;
    }
    std::string text = beast::buffers_to_string(buffer_.data());
    handle_text(std::move(text));
    if (!closed_) read_frame();
  }

  void handle_text(std::string text) {
    auto parsed = ocpp::parse_frame(text, dialect_);
    if (auto* call = call_id(parsed); call && !admit_call(*call)) return;
    if (auto* err = std::get_if<ocpp::FrameError>(&parsed)) {
      if (err->was_call) {
        send(ocpp::serialize(ocpp::CallError{err->unique_id, err->code, err->description, {}}));
      } else if (outstanding_ && outstanding_->unique_id == err->unique_id) {
        spdlog::warn("charger {}: malformed answer to {}: {}", identity_,
                     outstanding_->command.request.action, err->description);
        finish_command(messages::CommandOutcome::kInvalidResponse, nlohmann::json::object(), std::nullopt,
                       err->description);
      } else {
        spdlog::info("charger {}: ignoring malformed response frame: {}", identity_,
                     err->description);
      }
      return;
    }
    auto& frame = std::get<ocpp::Frame>(parsed);
    if (auto* call = std::get_if<ocpp::Call>(&frame)) {
      handle_call(std::move(*call), std::move(text));
    } else {
      handle_response(frame);
    }
  }

  void handle_call(ocpp::Call call, std::string raw) {
    using ocpp::v16::ActionKind;
    const bool v201 = dialect_ == ocpp::Dialect::kOcpp201;
    auto kind = v201 ? ocpp::v201::classify_action(call.action) : ocpp::v16::classify_action(call.action);
    count_call_received(call.action, kind != ActionKind::kUnknown);
    if (kind != ActionKind::kChargerToCsms) {
      bool unknown = kind == ActionKind::kUnknown;
      send(ocpp::serialize(ocpp::CallError{
          call.unique_id,
          unknown ? ocpp::ErrorCode::kNotImplemented : ocpp::ErrorCode::kNotSupported,
          unknown ? "unknown action " + call.action
                  : call.action + " is sent by the central system, not by a charge point",
          {}}));
      return;
    }
    if (auto violation = validate_request(dialect_, call.action, call.payload)) {
      send(ocpp::serialize(
          ocpp::CallError{call.unique_id, violation->code, violation->description, {}}));
      return;
    }

    messages::Envelope envelope;
    envelope.message_id = random_id();
    envelope.device_id = identity_;
    envelope.gateway_id = gw_->options.instance_id;
    envelope.ocpp_version = v201 ? "2.0.1" : "1.6";
    envelope.message_type = call.action;
    envelope.unique_id = call.unique_id;
        envelope.timestamp = messages::format_timestamp(unix_millis());
    envelope.raw_data = std::move(raw);

    broker::Message message;
    message.exchange = gw_->options.names.exchange_ocpp;
    message.routing_key = "ocpp.message." + call.action;
    message.message_id = envelope.message_id;
    message.type = call.action;
    message.priority = messages::priority_for_action(call.action);
    message.headers["deviceId"] = identity_;
    bool on_confirm = messages::answered_on_confirm(call.action);
    if (!on_confirm) {
      message.reply_to = gw_->reply_queue;
      message.correlation_id = envelope.message_id;
      auto timer = std::make_unique<net::steady_timer>(gw_->ioc, gw_->options.reply_timeout);
      timer->async_wait([gw = gw_, id = envelope.message_id](beast::error_code ec) {
        if (ec) return;
        auto it = gw->pending.find(id);
        if (it == gw->pending.end()) return;
        spdlog::warn("charger {}: no reply for {} {} within the timeout", it->second.identity,
                     it->second.action,
                     it->second.unique_id);
        gw->finish_pending(id, ocpp::serialize(ocpp::CallError{
                                   it->second.unique_id, ocpp::ErrorCode::kInternalError,
                                   "the central system did not process the call in time", {}}));
      });
      gw_->pending.emplace(envelope.message_id,
                           Gateway::Impl::PendingReply{weak_from_this(), identity_, call.unique_id,
                                                       call.action, std::move(timer)});
    }
    message.body = messages::encode_envelope(envelope);

    gw_->broker.publish(
        std::move(message),
        [gw = gw_, weak = weak_from_this(), unique_id = call.unique_id, action = call.action,
         message_id = envelope.message_id, on_confirm,
         published_at = std::chrono::steady_clock::now()](broker::PublishOutcome outcome) {
          observe_publish(outcome_name(outcome), std::chrono::steady_clock::now() - published_at);
          net::post(gw->ioc, [gw, weak, unique_id, action, message_id, on_confirm, outcome] {
            if (outcome == broker::PublishOutcome::kConfirmed) {
              if (on_confirm) {
                if (auto s = weak.lock()) {
                  s->send(ocpp::serialize(ocpp::CallResult{
                      unique_id, messages::confirm_result(action, messages::format_timestamp(unix_millis()))}));
                }
              }
              return;
            }
            spdlog::warn("{} {} not accepted by RabbitMQ (outcome {})", action, unique_id,
                         static_cast<int>(outcome));
            std::string frame = ocpp::serialize(ocpp::CallError{
                unique_id, ocpp::ErrorCode::kInternalError,
                "message broker unavailable, retry later", {}});
            if (on_confirm) {
              if (auto s = weak.lock()) s->send(std::move(frame));
            } else {
              gw->finish_pending(message_id, frame);
            }
          });
        });
  }

  // The uniqueId of a frame that is a CALL (valid or not), else null: what the call rate counts.
  static const std::string* call_id(const std::variant<ocpp::Frame, ocpp::FrameError>& parsed) {
    if (auto* err = std::get_if<ocpp::FrameError>(&parsed)) return err->was_call ? &err->unique_id : nullptr;
    if (auto* call = std::get_if<ocpp::Call>(&std::get<ocpp::Frame>(parsed))) return &call->unique_id;
    return nullptr;
  }

  // The per-charger call rate (docs/security.md "Abuse limits"). False when the call was refused:
  // answered with the rate-limit CALLERROR, or, for a charger that keeps flooding, the
  // connection closed with 1008.
  bool admit_call(const std::string& unique_id) {
    auto& limiter = gw_->call_limiter;
    if (!limiter.enabled()) return true;
    const auto now = LimitClock::now();
    const bool accepted = limiter.try_call(identity_, now);
    const bool flooding = flood_.record(accepted);
    if (accepted) return true;
    count_rate_limited_call();
    if (flooding) {
      count_flood_disconnect();
      spdlog::warn("charger {}: {} more calls refused than accepted by the rate limit, connection closed (1008)",
                   identity_, flood_.strikes());
      close(websocket::close_code::policy_error, "rate limit exceeded repeatedly");
      return false;
    }
    if (!rate_limit_logged_) {  // once per connection: the counter has every refusal
      rate_limit_logged_ = true;
      spdlog::warn("charger {}: calls above {} per second (burst {}) refused with GenericError", identity_,
                   limiter.settings().calls_per_second, limiter.settings().burst);
    }
    send(ocpp::serialize(rate_limit_error(unique_id, limiter.settings(), limiter.time_to_token(identity_, now))));
    return false;
  }

  // A connection over a connection limit: HTTP 429 (its address) or 503 (the gateway).
  void refuse_connection() {
    count_connection_refused(admission_);
    gw_->log_refusal(admission_, address_);
    const auto& limits = gw_->connections.limits();
    if (admission_ == Admission::kAddressLimit) {
      return reject(http::status::too_many_requests,
                    "too many connections from " + address_ + " (limit " + std::to_string(limits.per_address) + ")");
    }
    reject(http::status::service_unavailable,
           "the gateway is at its connection limit (" + std::to_string(limits.total) + "), retry later");
  }

  void write_next() {
    ws_->async_write(net::buffer(queue_.front()),
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) {
                         self->closed_ = true;
                         self->queue_.clear();
                         return;
                       }
                       if (self->queue_.empty()) return;
                       self->queue_.pop_front();
                       if (!self->queue_.empty()) self->write_next();
                     });
  }

  void finish() {
    abandon_commands();
    if (accepted_) {
      accepted_ = false;
      gw_->unregister_session(identity_, this);
    }
  }

  std::shared_ptr<Gateway::Impl> gw_;
  std::shared_ptr<ConnectionSlot> slot_;  // released when the session ends
  std::string address_;  // source address, as the connection limits count it
  Admission admission_ = Admission::kAdmitted;
  FloodGuard flood_{gw_->options.call_rate.flood_close};
  bool rate_limit_logged_ = false;
  ChargerStream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<websocket::stream<ChargerStream>> ws_;
  std::deque<std::string> queue_;
  std::deque<QueuedCommand> commands_;
  std::optional<OutstandingCommand> outstanding_;
  std::string identity_;
  std::int64_t connected_at_ms_ = 0;
  bool taken_over_ = false;
  bool closed_ = false;
  ocpp::Dialect dialect_ = ocpp::Dialect::kOcpp16;  // negotiated at the handshake
  bool accepted_ = false;
};

void Gateway::Impl::accept() {
  acceptor.async_accept(ioc, [self = shared_from_this()](beast::error_code ec,
                                                                            tcp::socket socket) {
    if (self->stopping) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      // A refused ws:// connection still gets its session: it answers HTTP 429 or 503.
      auto slot = std::make_shared<ConnectionSlot>(self, source_address(socket));
      std::make_shared<Session>(self, ChargerStream(make_plain_transport(std::move(socket))), std::move(slot))
          ->start();
    } else if (ec == net::error::no_descriptors ||
               ec == boost::system::errc::too_many_files_open_in_system) {
      // Out of file descriptors: retrying at once would spin; the backlog waits meanwhile.
      spdlog::warn("accept failed: {} ({} connections open)", ec.message(), self->open_connections.load());
      return self->accept_later(false);
    } else if (ec != net::error::operation_aborted) {
      spdlog::warn("accept failed: {}", ec.message());
    }
    self->accept();
  });
}

void Gateway::Impl::accept_later(bool tls) {
  auto timer = std::make_shared<net::steady_timer>(ioc, std::chrono::milliseconds(100));
  timer->async_wait([self = shared_from_this(), timer, tls](beast::error_code ec) {
    if (ec || self->stopping) return;
    if (tls) {
      self->accept_tls();
    } else {
      self->accept();
    }
  });
}

// Forgets call-rate buckets that are full again, once a minute.
void Gateway::Impl::sweep_call_limits() {
  if (!call_limiter.enabled()) return;
  limit_timer.expires_after(std::chrono::seconds(60));
  limit_timer.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || self->stopping) return;
    self->call_limiter.sweep(LimitClock::now());
    self->sweep_call_limits();
  });
}

// Refused connections come in floods: one log line per 10 s, with the count.
void Gateway::Impl::log_refusal(Admission reason, const std::string& address) {
  ++refusals_unlogged;
  const auto now = LimitClock::now();
  if (now - last_refusal_log < std::chrono::seconds(10)) return;
  last_refusal_log = now;
  spdlog::warn("connection from {} refused: {} ({} refused since the last such line; {} open)", address,
               reason == Admission::kAddressLimit ? "GENX_MAX_CONNECTIONS_PER_ADDRESS reached"
                                                  : "GENX_MAX_CONNECTIONS reached",
               refusals_unlogged, connections.total());
  refusals_unlogged = 0;
}

// wss:// (security profiles 2 and 3): the connection limits at accept, then the TLS
// handshake, then the same session. A connection over a limit is closed at once: no
// HTTP answer can reach a TLS client before its handshake, and the handshake is the
// cost the limit bounds.
void Gateway::Impl::accept_tls() {
  tls_acceptor.async_accept(ioc, [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (self->stopping) return;
    if (!ec) {
      auto slot = std::make_shared<ConnectionSlot>(self, source_address(socket));
      if (!slot->admitted()) {
        count_connection_refused(slot->admission());
        self->log_refusal(slot->admission(), slot->address());
        socket.close(ec);
        return self->accept_tls();
      }
      socket.set_option(tcp::no_delay(true), ec);
      // The slot lives in this callback until the handshake ends (failed: released here)
      // and then in the session.
      self->tls->handshake(std::move(socket), self->options.handshake_timeout,
                           [self, slot](std::unique_ptr<ChargerTransport> transport) {
                             if (!transport || self->stopping) return;
                             std::make_shared<Session>(self, ChargerStream(std::move(transport)), slot)->start();
                           });
    } else if (ec == net::error::no_descriptors ||
               ec == boost::system::errc::too_many_files_open_in_system) {
      spdlog::warn("TLS accept failed: {} ({} connections open)", ec.message(), self->open_connections.load());
      return self->accept_later(true);
    } else if (ec != net::error::operation_aborted) {
      spdlog::warn("TLS accept failed: {}", ec.message());
    }
    self->accept_tls();
  });
}

void Gateway::Impl::register_session(const std::string& identity,
                                     const std::shared_ptr<Session>& session) {
  auto& slot = sessions[identity];
  if (auto old = slot.lock()) {
    spdlog::info("charger {}: new connection replaces the previous one", identity);
    old->close(websocket::close_code::policy_error, "replaced by a new connection");
  } else {
    ++connected;
    // A connection to this charger still open on another instance (its TCP not yet seen
    // dead) is closed there: the takeover reaches whoever is bound, before we bind.
    publish_takeover(identity, session->connected_at_ms());
    // Commands for this charger now come to this instance (kept when a new connection
    // replaces an old one here: the old one's unregister sees it was replaced).
    broker.bind(command_queue, options.names.exchange_commands, identity);
    publish_connection_event(identity, true);
  }
  slot = session;
  spdlog::info("charger {} connected ({} online)", identity, connected.load());
}

void Gateway::Impl::unregister_session(const std::string& identity, const Session* session) {
  auto it = sessions.find(identity);
  if (it == sessions.end()) return;
  auto current = it->second.lock();
  if (current && current.get() != session) return;  // already replaced
  sessions.erase(it);
  --connected;
  broker.unbind(command_queue, options.names.exchange_commands, identity);
  publish_connection_event(identity, false);
  spdlog::info("charger {} disconnected ({} online)", identity, connected.load());
}

void Gateway::Impl::publish_connection_event(const std::string& identity, bool connected_now) {
  messages::DomainEvent event;
  event.type = connected_now ? "charger.connected" : "charger.disconnected";
  event.device_id = identity;
  event.fields = {{"gatewayId", options.instance_id}};
  broker::Message message;
  message.exchange = options.names.exchange_events;
  message.routing_key = messages::event_routing_key(event.type);
  message.type = event.type;
  message.message_id = random_id();
  message.body = messages::encode_event(event, messages::format_timestamp(unix_millis()));
  broker.publish(std::move(message), [identity, type = event.type](broker::PublishOutcome outcome) {
    if (outcome != broker::PublishOutcome::kConfirmed) {
      spdlog::warn("{} event for {} not confirmed by RabbitMQ", type, identity);
    }
  });
}

void Gateway::Impl::finish_pending(const std::string& correlation_id, const std::string& frame) {
  auto it = pending.find(correlation_id);
  if (it == pending.end()) return;
  auto session = it->second.session.lock();
  it->second.timer->cancel();
  pending.erase(it);
  if (session) session->send(frame);
}

void Gateway::Impl::on_reply(broker::Delivery&& delivery) {
  // The worker sends the ready frame: forwarded as is (a reply from a worker older than
  // envelope version 2 is turned into the frame here).
  std::string correlation_id = std::move(delivery.correlation_id);
  std::string error;
  auto ready = messages::reply_body_to_frame(std::move(delivery.body), error);
  if (!ready) {
    spdlog::error("unusable reply for {}: {}", correlation_id, error);
    return;
  }
  std::string frame = std::move(*ready);
  net::post(ioc, [self = shared_from_this(), correlation_id = std::move(correlation_id),
                  frame = std::move(frame)] { self->finish_pending(correlation_id, frame); });
}

// Takeover notices share the commands exchange (messages/takeover.hpp).
void Gateway::Impl::publish_takeover(const std::string& identity, std::int64_t connected_at_ms) {
  broker::Message message;
  message.exchange = options.names.exchange_commands;
  message.routing_key = identity;
  message.type = std::string(messages::kTakeoverType);
  message.message_id = random_id();
  message.persistent = false;
  message.expiration = options.command_timeout;
  message.body = messages::encode_takeover({identity, options.instance_id, connected_at_ms});
  broker.publish(std::move(message), [](broker::PublishOutcome) {});
}

void Gateway::Impl::on_takeover(const broker::Delivery& delivery) {
  auto notice = messages::decode_takeover(delivery.body);
  if (!notice || notice->gateway_id == options.instance_id) return;
  const std::string identity = std::move(notice->device_id);
  const std::string other = std::move(notice->gateway_id);
  const std::int64_t at = notice->connected_at;
  net::post(ioc, [self = shared_from_this(), identity, other, at] {
    auto it = self->sessions.find(identity);
    auto session = it == self->sessions.end() ? nullptr : it->second.lock();
    // An older notice must not close a newer connection made here meanwhile.
    if (!session || session->connected_at_ms() > at) return;
    spdlog::info("charger {}: connected to gateway {} now, closing the connection here", identity, other);
    session->close_taken_over();
  });
}

void Gateway::Impl::on_command(broker::Delivery&& delivery) {
  if (delivery.type == messages::kTakeoverType) return on_takeover(delivery);
  // Broker thread: parse here, touch sessions on the I/O thread.
  auto parsed = messages::decode_command_request(delivery.body);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    spdlog::error("unusable command {} for {}: {}", delivery.correlation_id, delivery.routing_key, *error);
    return;
  }
  net::post(ioc, [self = shared_from_this(), request = std::get<messages::CommandRequest>(std::move(parsed)),
                  reply_to = std::move(delivery.reply_to)]() mutable {
    auto it = self->sessions.find(request.device_id);
    auto session = it == self->sessions.end() ? nullptr : it->second.lock();
    if (!session) {
      spdlog::info("command {} for charger {}, which is not connected here: dropped", request.action,
                   request.device_id);
      return;
    }
    session->enqueue_command(std::move(request), std::move(reply_to));
  });
}

void Gateway::Impl::send_command_reply(const std::string& reply_to, const messages::CommandReply& reply) {
  if (reply_to.empty()) return;
  broker::Message message;
  message.exchange = "";  // default exchange: routing key = the api's reply queue
  message.routing_key = reply_to;
  message.correlation_id = reply.command_id;
  message.message_id = random_id();
  message.type = reply.action;
  message.persistent = false;
  message.body = messages::encode_command_reply(reply);
  broker.publish(std::move(message), [id = reply.command_id](broker::PublishOutcome outcome) {
    if (outcome != broker::PublishOutcome::kConfirmed) {
      spdlog::warn("command {}: reply not delivered to RabbitMQ (outcome {})", id, static_cast<int>(outcome));
    }
  });
}

void Gateway::Impl::publish_event(const messages::DomainEvent& event) {
  broker::Message message;
  message.exchange = options.names.exchange_events;
  message.routing_key = messages::event_routing_key(event.type);
  message.message_id = random_id();
  message.type = event.type;
  message.body = messages::encode_event(event, messages::format_timestamp(unix_millis()));
  broker.publish(std::move(message), [type = event.type](broker::PublishOutcome outcome) {
    if (outcome != broker::PublishOutcome::kConfirmed) {
      spdlog::warn("event {} not accepted by RabbitMQ (outcome {})", type, static_cast<int>(outcome));
    }
  });
}

Gateway::Gateway(GatewayOptions options, broker::BrokerClient& broker)
    : impl_(std::make_shared<Impl>(std::move(options), broker)) {
  impl_->reply_queue = broker::gateway_reply_queue(impl_->options.instance_id);
  impl_->command_queue = broker::gateway_command_queue(impl_->options.instance_id);
}

Gateway::~Gateway() { stop(); }

void Gateway::run() {
  auto& impl = *impl_;
  const auto& sec = impl.options.security;
  if (impl.options.port <= 0 && sec.tls_port <= 0) {
    throw std::runtime_error("gateway: neither GATEWAY_PORT nor GATEWAY_TLS_PORT is set");
  }
  if (impl.options.port > 0) genx::net::listen_on(impl.acceptor, impl.options.bind_address, impl.options.port, "gateway");
  if (sec.tls_port > 0) {
    impl.tls = std::make_unique<TlsServer>(TlsFiles{sec.tls_cert_file, sec.tls_key_file, sec.tls_ca_file,
                                                    sec.tls_ciphers});
    genx::net::listen_on(impl.tls_acceptor, impl.options.bind_address, sec.tls_port, "gateway");
  }
  ChargerAuthOptions auth_options;
  auth_options.min_profile = sec.min_profile;
  auth_options.threads = sec.auth_threads;
  auto lookup = sec.credentials;
  if (!lookup) lookup = [](const std::string&) { return std::optional<security::ChargerSecurity>(); };
  impl.auth = std::make_unique<ChargerAuthenticator>(auth_options, std::move(lookup));
  impl.broker.consume(
      impl.reply_queue, 0,
      [weak = std::weak_ptr<Impl>(impl_)](broker::Delivery&& d) {
        if (auto self = weak.lock()) self->on_reply(std::move(d));
      },
      true);
  impl.broker.consume(
      impl.command_queue, 0,
      [weak = std::weak_ptr<Impl>(impl_)](broker::Delivery&& d) {
        if (auto self = weak.lock()) self->on_command(std::move(d));
      },
      true);
  register_limit_metrics();
  warn_if_above_open_files_limit(impl.options.connection_limits);
  impl.sweep_call_limits();
  if (impl.options.port > 0) {
    spdlog::info("gateway listening on ws://{}:{}/ocpp/{{chargePointId}}", impl.options.bind_address,
                 impl.options.port);
    impl.accept();
  }
  if (impl.tls) {
    spdlog::info("gateway listening on wss://{}:{}/ocpp/{{chargePointId}} (certificate {}; client certificates {})",
                 impl.options.bind_address, sec.tls_port, impl.tls->describe(),
                 sec.tls_ca_file.empty() ? "not asked" : "checked against " + sec.tls_ca_file);
    impl.accept_tls();
  }
  if (sec.min_profile > 0) spdlog::info("chargers below security profile {} are refused", sec.min_profile);
  impl.ioc.run();
}

void Gateway::stop() {
  if (impl_->stopping.exchange(true)) return;
  net::post(impl_->ioc, [impl = impl_] {
    beast::error_code ec;
    impl->acceptor.close(ec);
    impl->tls_acceptor.close(ec);
    impl->limit_timer.cancel();
    for (auto& [id, weak] : impl->sessions) {
      if (auto s = weak.lock()) s->close(websocket::close_code::going_away, "server shutting down");
    }
    // Give close handshakes a moment, then stop the loop.
    auto timer = std::make_shared<net::steady_timer>(impl->ioc, std::chrono::seconds(2));
    timer->async_wait([impl, timer](beast::error_code) { impl->ioc.stop(); });
  });
}

bool Gateway::reload_tls() {
  if (!impl_->tls) {
    spdlog::info("SIGHUP: no TLS listener (GATEWAY_TLS_PORT), nothing to reload");
    return false;
  }
  try {
    impl_->tls->reload();
    spdlog::info("TLS certificate, key and CA reloaded: {}", impl_->tls->describe());
    return true;
  } catch (const std::exception& e) {
    spdlog::error("TLS reload failed, the previous certificate stays in use: {}", e.what());
    return false;
  }
}

std::size_t Gateway::connected_chargers() const { return impl_->connected.load(); }

std::size_t Gateway::open_connections() const { return impl_->open_connections.load(); }

}  // namespace genx::gateway
