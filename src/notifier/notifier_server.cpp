// Engine.IO v4 / Socket.IO v4 server on Boost.Beast (see notifier_server.hpp). Layout
// after the Beast chat example: HttpConnection (long-polling requests and the WebSocket
// upgrade), WsConnection (one WebSocket), Session (one Engine.IO client, whatever its
// transport), Impl (the shared state). Everything runs on one I/O thread.
#include "notifier/notifier_server.hpp"

#include <atomic>
#include <deque>
#include <random>
#include <set>
#include <unordered_map>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "notifier/socketio_protocol.hpp"
#include "util/url.hpp"
#include "net/listener.hpp"

namespace genx::notifier {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

std::string random_sid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kChars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string id(20, 'x');
  for (auto& c : id) c = kChars[rng() % 64];
  return id;
}

// Engine.IO error bodies, as the reference server answers them.
json eio_error(int code, std::string_view message) { return {{"code", code}, {"message", message}}; }

}  // namespace

class Session;
class HttpConnection;
class WsConnection;

struct NotifierServer::Impl : std::enable_shared_from_this<NotifierServer::Impl> {
  NotifierOptions options;
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  net::steady_timer ticker{ioc};
  std::atomic<bool> stopping{false};
  std::unordered_map<std::string, std::shared_ptr<Session>> sessions;  // I/O thread only
  std::atomic<std::size_t> client_count{0};
  std::atomic<std::uint64_t> events{0};
  std::atomic<std::uint64_t> dropped_slow{0};

  explicit Impl(NotifierOptions o) : options(std::move(o)) {}

  // The event feed is in place (on_audience's feed_ready ran for the current audience),
  // or there is no feed to wait for. CONNECTs are answered only then. I/O thread only.
  bool feed_ready = true;
  std::uint64_t audience = 0;  // bumped on 0 <-> 1 sessions: a late feed_ready is ignored

  void accept();
  void tick();
  void remove(const std::string& sid);
  // After sessions changed (I/O thread): the count, and on_audience on 0 <-> 1 and more.
  void sessions_changed() {
    const std::size_t before = client_count.exchange(sessions.size());
    if (!options.on_audience || (before == 0) == sessions.empty()) return;
    const std::uint64_t current = ++audience;
    if (sessions.empty()) {
      options.on_audience(false, {});
      return;
    }
    feed_ready = false;
    std::weak_ptr<Impl> weak = weak_from_this();
    options.on_audience(true, [weak, current] {
      auto self = weak.lock();
      if (!self) return;
      net::post(self->ioc, [self, current] { self->on_feed_ready(current); });
    });
  }
  void on_feed_ready(std::uint64_t for_audience);
  // Whether tokens are required now (any configured); a database error counts as yes.
  bool auth_enabled() const { return options.access != nullptr && options.access->enabled(); }
  // A valid token of either role.
  bool token_ok(std::string_view token) const {
    if (options.access == nullptr) return true;
    try {
      return options.access->identify(token).has_value();
    } catch (const std::exception& e) {
      spdlog::warn("notifier: cannot check the API token: {}", e.what());
      return false;
    }
  }
};

// One WebSocket. Bounded write queue; reads are handed to its Session.
class WsConnection : public std::enable_shared_from_this<WsConnection> {
 public:
  WsConnection(std::shared_ptr<NotifierServer::Impl> impl, beast::tcp_stream stream)
      : impl_(std::move(impl)), ws_(std::move(stream)) {}

  void accept(http::request<http::string_body> request, std::function<void(bool)> on_open) {
    beast::get_lowest_layer(ws_).expires_never();
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(impl_->options.max_payload);
    ws_.async_accept(request, [self = shared_from_this(), on_open = std::move(on_open)](
                                  beast::error_code ec) { on_open(!ec); });
  }

  void attach(std::weak_ptr<Session> session) { session_ = std::move(session); }
  void read();

  // false when the queue is full (the caller drops the client).
  bool send(std::string text) {
    if (closed_) return true;
    if (queue_.size() >= impl_->options.max_queued_packets) return false;
    queue_.push_back(std::move(text));
    if (queue_.size() == 1) write_next();
    return true;
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    queue_.clear();
    ws_.async_close(websocket::close_code::normal, [self = shared_from_this()](beast::error_code) {});
  }

 private:
  void write_next() {
    ws_.text(true);
    ws_.async_write(net::buffer(queue_.front()),
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

  std::shared_ptr<NotifierServer::Impl> impl_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  std::weak_ptr<Session> session_;
  bool closed_ = false;
};

// One Engine.IO client and its Socket.IO state ("/" namespace only).
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(NotifierServer::Impl& impl, std::string sid) : impl_(impl), sid_(std::move(sid)) {
    auto now = Clock::now();
    created_ = now;
    next_ping_ = now + impl_.options.ping_interval;
  }

  const std::string& sid() const { return sid_; }
  bool closed() const { return closed_; }
  bool connected() const { return sio_connected_; }
  bool wants(const std::string& charger_id) const {
    return rooms_.empty() || rooms_.count(charger_id) > 0;
  }
  void set_handshake(bool token_ok, std::string room) {
    handshake_token_ok_ = token_ok;
    query_room_ = std::move(room);
  }

  // Queues an encoded Engine.IO packet; drops the client when its queue is full.
  void send(std::string packet) {
    if (closed_) return;
    if (ws_) {
      if (!ws_->send(std::move(packet))) drop_slow();
      return;
    }
    if (outbox_.size() >= impl_.options.max_queued_packets) {
      drop_slow();
      return;
    }
    outbox_.push_back(std::move(packet));
    flush_poll();
  }

  // A long-polling GET: answered now when something is queued (or an upgrade runs),
  // else held until something is. Returns false when a GET is already pending.
  bool poll(std::function<void(std::string)> respond) {
    if (pending_get_) return false;
    pending_get_ = std::move(respond);
    if (upgrading_ || ws_) {  // a poll that raced the upgrade: let it end
      answer_poll(encode(EioPacket{EioType::kNoop, ""}));
    } else {
      flush_poll();
    }
    return true;
  }

  void on_packet(const EioPacket& packet, WsConnection* via) {
    if (closed_) return;
    switch (packet.type) {
      case EioType::kPing:
        if (packet.data == "probe" && via && !ws_) {  // upgrade probe on the new WebSocket
          via->send(encode(EioPacket{EioType::kPong, "probe"}));
          upgrading_ = true;
          if (pending_get_) answer_poll(encode(EioPacket{EioType::kNoop, ""}));
        } else {
          send(encode(EioPacket{EioType::kPong, packet.data}));
        }
        break;
      case EioType::kPong:
        awaiting_pong_ = false;
        break;
      case EioType::kUpgrade:
        if (via && upgrading_ && probe_) finish_upgrade();
        break;
      case EioType::kMessage:
        on_message(packet.data);
        break;
      case EioType::kClose:
        close("client closed");
        break;
      case EioType::kOpen:
      case EioType::kNoop:
        break;
    }
  }

  void set_probe(std::shared_ptr<WsConnection> ws) {
    if (probe_) probe_->close();
    probe_ = std::move(ws);
  }
  // A session that starts on WebSocket (no polling at all).
  void set_websocket(std::shared_ptr<WsConnection> ws) { ws_ = std::move(ws); }

  // Called by the ticker: pings, ping timeouts, connect timeout.
  void check(Clock::time_point now) {
    if (closed_) return;
    if (awaiting_pong_ && now > pong_deadline_) {
      close("ping timeout");
      return;
    }
    if (!sio_connected_ && now - created_ > impl_.options.connect_timeout) {
      close("no Socket.IO connect in time");
      return;
    }
    if (!awaiting_pong_ && now >= next_ping_) {
      awaiting_pong_ = true;
      pong_deadline_ = now + impl_.options.ping_timeout;
      next_ping_ = now + impl_.options.ping_interval;
      send(encode(EioPacket{EioType::kPing, ""}));
    }
  }

  void close(std::string_view reason) {
    if (closed_) return;
    spdlog::debug("socket.io client {} closed: {}", sid_, reason);
    if (pending_get_) answer_poll(encode(EioPacket{EioType::kClose, ""}));
    closed_ = true;
    outbox_.clear();
    if (ws_) ws_->close();
    if (probe_) probe_->close();
    impl_.remove(sid_);
  }

  void on_transport_closed(WsConnection* ws) {
    if (ws_ && ws_.get() == ws) {
      close("transport closed");
    } else if (probe_ && probe_.get() == ws) {
      probe_.reset();
      upgrading_ = false;
    }
  }

 private:
  void drop_slow() {
    ++impl_.dropped_slow;
    spdlog::warn("socket.io client {}: outgoing queue full ({} packets), disconnecting it", sid_,
                 impl_.options.max_queued_packets);
    close("queue full");
  }

  void answer_poll(std::string body) {
    auto respond = std::move(pending_get_);
    pending_get_ = nullptr;
    respond(std::move(body));
  }

  void flush_poll() {
    if (!pending_get_ || outbox_.empty() || ws_) return;
    std::vector<std::string> packets(std::make_move_iterator(outbox_.begin()),
                                     std::make_move_iterator(outbox_.end()));
    outbox_.clear();
    answer_poll(encode_payload(packets));
  }

  void finish_upgrade() {
    ws_ = std::move(probe_);
    upgrading_ = false;
    if (pending_get_) answer_poll(encode(EioPacket{EioType::kNoop, ""}));
    auto queued = std::move(outbox_);
    outbox_.clear();
    for (auto& packet : queued) send(std::move(packet));
  }

  void send_sio(const SioPacket& packet) {
    send(encode(EioPacket{EioType::kMessage, encode(packet)}));
  }

  void on_message(const std::string& text) {
    auto decoded = decode_sio(text);
    if (auto* error = std::get_if<std::string>(&decoded)) {
      spdlog::debug("socket.io client {}: bad packet ({}), closing", sid_, *error);
      close("bad packet");
      return;
    }
    auto& packet = std::get<SioPacket>(decoded);
    if (packet.type == SioType::kConnect) {
      if (packet.nsp != "/") {
        send_sio({SioType::kConnectError, packet.nsp, std::nullopt,
                  json{{"message", "Invalid namespace"}}});
        return;
      }
      bool authorized = handshake_token_ok_;
      if (packet.data && packet.data->contains("token") && (*packet.data)["token"].is_string()) {
        authorized = authorized || impl_.token_ok((*packet.data)["token"].get<std::string>());
      }
      if (!authorized && !impl_.auth_enabled()) authorized = true;
      if (!authorized) {
        spdlog::info("socket.io client {}: refused (missing or wrong token)", sid_);
        send_sio({SioType::kConnectError, "/", std::nullopt, json{{"message", "unauthorized"}}});
        return;
      }
      // Answered once the event feed is bound, so a client that is told "connected"
      // receives every event published from then on (its view, reloaded on connect,
      // misses nothing in between).
      if (impl_.feed_ready) {
        complete_connect();
      } else {
        connect_waiting_ = true;
      }
      return;
    }
    if (packet.nsp != "/" || !sio_connected_) return;
    if (packet.type == SioType::kDisconnect) {
      sio_connected_ = false;
      rooms_.clear();
      return;
    }
    if (packet.type != SioType::kEvent) return;
    const auto& args = *packet.data;
    std::string name = args[0].get<std::string>();
    json result;
    if (name == "subscribe" || name == "join" || name == "unsubscribe" || name == "leave") {
      std::string room;
      if (args.size() > 1 && args[1].is_string()) {
        room = args[1].get<std::string>();
      } else if (args.size() > 1 && args[1].is_object()) {
        for (const char* key : {"chargePointId", "chargerId"}) {
          if (args[1].contains(key) && args[1][key].is_string()) room = args[1][key];
        }
      }
      if (room.empty() || room.size() > 255) {
        result = {{"ok", false}, {"error", "expected a chargePointId"}};
      } else {
        if (name == "subscribe" || name == "join") {
          rooms_.insert(room);
        } else {
          rooms_.erase(room);
        }
        result = {{"ok", true}, {"rooms", rooms_}};
      }
    } else {
      result = {{"ok", false}, {"error", "unknown event " + name}};
    }
    if (packet.id) send_sio({SioType::kAck, "/", packet.id, json::array({result})});
  }

 public:
  // The feed is bound: an authorized CONNECT that waited for it is answered now.
  void on_feed_ready() {
    if (!connect_waiting_ || closed_) return;
    connect_waiting_ = false;
    complete_connect();
  }

 private:
  void complete_connect() {
    sio_connected_ = true;
    if (!query_room_.empty()) rooms_.insert(query_room_);
    send_sio({SioType::kConnect, "/", std::nullopt, json{{"sid", random_sid()}}});
  }

  NotifierServer::Impl& impl_;
  std::string sid_;
  Clock::time_point created_;
  Clock::time_point next_ping_;
  Clock::time_point pong_deadline_;
  bool awaiting_pong_ = false;
  bool closed_ = false;
  bool upgrading_ = false;
  bool sio_connected_ = false;
  bool connect_waiting_ = false;  // authorized CONNECT, answered when the feed is bound
  bool handshake_token_ok_ = false;
  std::string query_room_;
  std::set<std::string> rooms_;
  std::deque<std::string> outbox_;  // polling only
  std::function<void(std::string)> pending_get_;
  std::shared_ptr<WsConnection> ws_;
  std::shared_ptr<WsConnection> probe_;
};

void WsConnection::read() {
  ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
    auto session = self->session_.lock();
    if (ec) {
      self->closed_ = true;
      if (session) session->on_transport_closed(self.get());
      return;
    }
    std::string text = beast::buffers_to_string(self->buffer_.data());
    self->buffer_.consume(self->buffer_.size());
    if (session) {
      if (auto packet = decode_eio(text)) {
        session->on_packet(*packet, self.get());
      } else {
        session->close("bad packet");
      }
    }
    if (!self->closed_) self->read();
  });
}

void NotifierServer::Impl::on_feed_ready(std::uint64_t for_audience) {
  if (for_audience != audience || feed_ready) return;
  feed_ready = true;
  for (auto& [sid, session] : sessions) session->on_feed_ready();
}

void NotifierServer::Impl::remove(const std::string& sid) {
  // Deferred: the session may be on the call stack.
  net::post(ioc, [self = shared_from_this(), sid] {
    if (self->sessions.erase(sid)) self->sessions_changed();
  });
}

// HTTP requests on one connection: the polling transport, WebSocket upgrades, CORS.
class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  HttpConnection(std::shared_ptr<NotifierServer::Impl> impl, tcp::socket socket)
      : impl_(std::move(impl)), stream_(std::move(socket)) {}

  void read() {
    parser_.emplace();
    parser_->body_limit(impl_->options.max_payload);
    stream_.expires_after(std::chrono::seconds(60));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

 private:
  void on_read(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      respond(http::status::payload_too_large, "text/plain", "payload too large", false);
      return;
    }
    if (ec) return;
    request_ = parser_->release();
    handle();
  }

  void respond(http::status status, std::string_view content_type, std::string body,
               bool keep_alive = true) {
    auto res = std::make_shared<http::response<http::string_body>>(status, request_.version());
    res->set(http::field::server, "genx-notifier");
    res->set(http::field::content_type, std::string(content_type));
    res->set(http::field::cache_control, "no-store");
    add_cors(*res);
    res->keep_alive(keep_alive && request_.keep_alive());
    res->body() = std::move(body);
    res->prepare_payload();
    stream_.expires_after(std::chrono::seconds(30));
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
      if (ec) return;
      if (!res->keep_alive()) {
        beast::error_code ignored;
        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        return;
      }
      self->read();
    });
  }

  void respond_json(http::status status, const json& body) {
    respond(status, "application/json", body.dump());
  }

  void add_cors(http::response<http::string_body>& res) {
    auto origin = request_[http::field::origin];
    if (origin.empty()) return;
    std::string_view o(origin.data(), origin.size());
    if (!origin_allowed(o, impl_->options.cors_origins, impl_->options.dashboard_port, request_host())) return;
    res.set(http::field::access_control_allow_origin, origin);
    res.set(http::field::access_control_allow_credentials, "true");
    res.set(http::field::vary, "Origin");
  }

  std::string_view request_host() const {
    auto host = request_[http::field::host];
    return std::string_view(host.data(), host.size());
  }

  std::string bearer_token() const {
    auto auth = request_[http::field::authorization];
    std::string_view a(auth.data(), auth.size());
    if (a.substr(0, 7) == "Bearer ") return std::string(a.substr(7));
    return {};
  }

  void handle() {
    std::string_view target(request_.target().data(), request_.target().size());
    std::string_view path = target.substr(0, target.find('?'));
    auto query = util::parse_query(path.size() < target.size() ? target.substr(path.size() + 1) : "");

    if (path == "/health") {
      respond_json(http::status::ok, {{"status", "healthy"}, {"clients", impl_->sessions.size()}});
      return;
    }
    if (path != "/socket.io/" && path != "/socket.io") {
      respond_json(http::status::not_found, {{"error", "not found"}});
      return;
    }
    auto origin = request_[http::field::origin];
    if (!origin.empty() &&
        !origin_allowed(std::string_view(origin.data(), origin.size()),
                        impl_->options.cors_origins, impl_->options.dashboard_port, request_host())) {
      respond_json(http::status::forbidden, eio_error(4, "Origin not allowed"));
      return;
    }
    if (request_.method() == http::verb::options) {
      respond_preflight();
      return;
    }
    if (query["EIO"] != "4") {
      respond_json(http::status::bad_request, eio_error(5, "Unsupported protocol version"));
      return;
    }
    const std::string& transport = query["transport"];
    if (transport != "polling" && transport != "websocket") {
      respond_json(http::status::bad_request, eio_error(0, "Transport unknown"));
      return;
    }
    bool upgrade = websocket::is_upgrade(request_);
    if (transport == "websocket" && !upgrade) {
      respond_json(http::status::bad_request, eio_error(3, "Bad request"));
      return;
    }
    auto sid_it = query.find("sid");
    if (sid_it == query.end()) {
      handshake(transport == "websocket", query);
      return;
    }
    auto it = impl_->sessions.find(sid_it->second);
    if (it == impl_->sessions.end() || it->second->closed()) {
      respond_json(http::status::bad_request, eio_error(1, "Session ID unknown"));
      return;
    }
    auto session = it->second;
    if (transport == "websocket") {
      auto ws = std::make_shared<WsConnection>(impl_, std::move(stream_));
      std::weak_ptr<Session> weak = session;
      ws->attach(weak);
      ws->accept(std::move(request_), [ws, weak](bool ok) {
        auto s = weak.lock();
        if (!ok || !s || s->closed()) return;
        s->set_probe(ws);
        ws->read();
      });
      return;
    }
    if (request_.method() == http::verb::get) {
      // Held: the poll is answered when something is queued, at the latest by a ping.
      stream_.expires_never();
      auto self = shared_from_this();
      if (!session->poll([self](std::string body) {
            self->respond(http::status::ok, "text/plain; charset=UTF-8", std::move(body));
          })) {
        respond_json(http::status::bad_request, eio_error(3, "Bad request"));
        session->close("overlapping polls");
      }
      return;
    }
    if (request_.method() == http::verb::post) {
      auto packets = decode_payload(request_.body());
      if (!packets) {
        respond_json(http::status::bad_request, eio_error(3, "Bad request"));
        session->close("bad payload");
        return;
      }
      for (const auto& packet : *packets) session->on_packet(packet, nullptr);
      respond(http::status::ok, "text/html", "ok");
      return;
    }
    respond_json(http::status::bad_request, eio_error(2, "Bad handshake method"));
  }

  void respond_preflight() {
    auto res = std::make_shared<http::response<http::string_body>>(http::status::no_content,
                                                                   request_.version());
    res->set(http::field::server, "genx-notifier");
    add_cors(*res);
    res->set(http::field::access_control_allow_methods, "GET, POST, OPTIONS");
    auto requested = request_[http::field::access_control_request_headers];
    res->set(http::field::access_control_allow_headers,
             requested.empty() ? beast::string_view("content-type, authorization") : requested);
    res->set(http::field::access_control_max_age, "600");
    res->keep_alive(request_.keep_alive());
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
      if (!ec && res->keep_alive()) self->read();
    });
  }

  void handshake(bool websocket_transport, std::map<std::string, std::string>& query) {
    if (impl_->sessions.size() >= impl_->options.max_clients) {
      respond_json(http::status::service_unavailable, eio_error(3, "Too many clients"));
      return;
    }
    auto session = std::make_shared<Session>(*impl_, random_sid());
    std::string token = query.count("token") ? query["token"] : bearer_token();
    session->set_handshake(!token.empty() && impl_->token_ok(token),
                           query["chargerId"].size() <= 255 ? query["chargerId"] : "");
    impl_->sessions.emplace(session->sid(), session);
    impl_->sessions_changed();
    HandshakeParams params;
    params.sid = session->sid();
    params.allow_upgrade = !websocket_transport;
    params.ping_interval_ms = static_cast<int>(impl_->options.ping_interval.count());
    params.ping_timeout_ms = static_cast<int>(impl_->options.ping_timeout.count());
    params.max_payload = impl_->options.max_payload;
    std::string open = open_packet(params);
    if (!websocket_transport) {
      respond(http::status::ok, "text/plain; charset=UTF-8", std::move(open));
      return;
    }
    auto ws = std::make_shared<WsConnection>(impl_, std::move(stream_));
    std::weak_ptr<Session> weak = session;
    ws->attach(weak);
    ws->accept(std::move(request_), [ws, weak, open = std::move(open)](bool ok) {
      auto s = weak.lock();
      if (!s || s->closed()) return;
      if (!ok) {
        s->close("websocket handshake failed");
        return;
      }
      s->set_websocket(ws);
      s->send(open);
      ws->read();
    });
  }

  std::shared_ptr<NotifierServer::Impl> impl_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> request_;
};

void NotifierServer::Impl::accept() {
  acceptor.async_accept(ioc, [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (self->stopping) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<HttpConnection>(self, std::move(socket))->read();
    }
    self->accept();
  });
}

void NotifierServer::Impl::tick() {
  ticker.expires_after(std::chrono::milliseconds(250));
  ticker.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || self->stopping) return;
    auto now = Clock::now();
    std::vector<std::shared_ptr<Session>> all;
    all.reserve(self->sessions.size());
    for (auto& [sid, s] : self->sessions) all.push_back(s);
    for (auto& s : all) s->check(now);
    self->tick();
  });
}

NotifierServer::NotifierServer(NotifierOptions options)
    : impl_(std::make_shared<Impl>(std::move(options))) {}

NotifierServer::~NotifierServer() { stop(); }

void NotifierServer::run() {
  auto& impl = *impl_;
  genx::net::listen_on(impl.acceptor, impl.options.bind_address, impl.options.port, "notifier");
  spdlog::info("notifier listening on http://{}:{}/socket.io/", impl.options.bind_address,
               impl.options.port);
  impl.accept();
  impl.tick();
  impl.ioc.run();
}

void NotifierServer::stop() {
  if (impl_->stopping.exchange(true)) return;
  net::post(impl_->ioc, [impl = impl_] {
    beast::error_code ec;
    impl->acceptor.close(ec);
    impl->ticker.cancel();
    std::vector<std::shared_ptr<Session>> all;
    for (auto& [sid, s] : impl->sessions) all.push_back(s);
    for (auto& s : all) s->close("server shutting down");
    auto timer = std::make_shared<net::steady_timer>(impl->ioc, std::chrono::milliseconds(500));
    timer->async_wait([impl, timer](beast::error_code) { impl->ioc.stop(); });
  });
}

void NotifierServer::broadcast(std::string name, std::string payload_json, std::string charger_id,
                               std::function<void()> done) {
  net::post(impl_->ioc, [impl = impl_, name = std::move(name), payload = std::move(payload_json),
                         charger = std::move(charger_id), done = std::move(done)] {
    ++impl->events;
    std::string packet = event_message(name, payload);
    std::vector<std::shared_ptr<Session>> targets;
    for (auto& [sid, s] : impl->sessions) {
      if (s->connected() && s->wants(charger)) targets.push_back(s);
    }
    for (auto& s : targets) s->send(packet);
    if (done) done();
  });
}

NotifierStats NotifierServer::stats() const {
  return NotifierStats{impl_->client_count.load(), impl_->events.load(), impl_->dropped_slow.load()};
}

}  // namespace genx::notifier
