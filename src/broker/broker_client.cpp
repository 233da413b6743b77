// BrokerClient on rabbitmq-c 0.11. One I/O thread owns the amqp connection; public
// methods enqueue commands and wake it through an eventfd (see broker_client.hpp).
//
// Channels: 1 = topology declarations, then publishing in confirm mode;
// 2..8 = passive queue checks (rotated: a failed passive declare closes its channel);
// 9 = operator get/purge;
// 10 + i = consumer i.
#include "broker/broker_client.hpp"

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <limits>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <utility>

namespace genx::broker {
namespace {

constexpr amqp_channel_t kPublishChannel = 1;
constexpr amqp_channel_t kFirstCheckChannel = 2;
constexpr amqp_channel_t kLastCheckChannel = 8;
constexpr amqp_channel_t kGetChannel = 9;
constexpr amqp_channel_t kFirstConsumerChannel = 10;
constexpr int kFrameBudget = 512;  // frames handled before looking at commands again
constexpr int kPollMillis = 200;   // bounds the time between heartbeat checks
constexpr const char* kSeqHeader = "x-genx-publish-seq";
constexpr const char* kDefaultCaFile = "/etc/ssl/certs/ca-certificates.crt";

// Thrown inside the I/O thread when the connection is unusable; handled by reconnecting.
struct ConnectionError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

amqp_bytes_t bytes_of(const std::string& s) {
  amqp_bytes_t b;
  b.len = s.size();
  b.bytes = const_cast<char*>(s.data());
  return b;
}

std::string string_of(amqp_bytes_t b) {
  return b.len == 0 ? std::string() : std::string(static_cast<const char*>(b.bytes), b.len);
}

// Owns the storage an amqp_table_t points into.
class TableBuilder {
 public:
  void add(const std::string& key, const std::variant<std::string, std::int64_t>& value) {
    keys_.push_back(key);
    amqp_table_entry_t e{};
    if (const auto* text = std::get_if<std::string>(&value)) {
      values_.push_back(*text);
      e.value.kind = AMQP_FIELD_KIND_UTF8;
    } else {
      const auto n = std::get<std::int64_t>(value);
      // I32 ('I') is what every broker plugin accepts for x-max-priority and friends.
      if (n >= std::numeric_limits<std::int32_t>::min() && n <= std::numeric_limits<std::int32_t>::max()) {
        e.value.kind = AMQP_FIELD_KIND_I32;
        e.value.value.i32 = static_cast<std::int32_t>(n);
      } else {
        e.value.kind = AMQP_FIELD_KIND_I64;
        e.value.value.i64 = n;
      }
      values_.emplace_back();
    }
    entries_.push_back(e);
  }
  amqp_table_t table() {
    // keys_/values_ are deques: element addresses are stable while we add.
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      entries_[i].key = bytes_of(keys_[i]);
      if (entries_[i].value.kind == AMQP_FIELD_KIND_UTF8) entries_[i].value.value.bytes = bytes_of(values_[i]);
    }
    amqp_table_t t;
    t.num_entries = static_cast<int>(entries_.size());
    t.entries = entries_.empty() ? nullptr : entries_.data();
    return t;
  }

 private:
  std::deque<std::string> keys_;
  std::deque<std::string> values_;
  std::vector<amqp_table_entry_t> entries_;
};

Headers headers_of(const amqp_table_t& t) {
  Headers h;
  for (int i = 0; i < t.num_entries; ++i) {
    const auto& e = t.entries[i];
    const std::string key = string_of(e.key);
    switch (e.value.kind) {
      case AMQP_FIELD_KIND_UTF8:
      case AMQP_FIELD_KIND_BYTES: h[key] = string_of(e.value.value.bytes); break;
      case AMQP_FIELD_KIND_BOOLEAN: h[key] = std::int64_t{e.value.value.boolean ? 1 : 0}; break;
      case AMQP_FIELD_KIND_I8: h[key] = std::int64_t{e.value.value.i8}; break;
      case AMQP_FIELD_KIND_U8: h[key] = std::int64_t{e.value.value.u8}; break;
      case AMQP_FIELD_KIND_I16: h[key] = std::int64_t{e.value.value.i16}; break;
      case AMQP_FIELD_KIND_U16: h[key] = std::int64_t{e.value.value.u16}; break;
      case AMQP_FIELD_KIND_I32: h[key] = std::int64_t{e.value.value.i32}; break;
      case AMQP_FIELD_KIND_U32: h[key] = std::int64_t{e.value.value.u32}; break;
      case AMQP_FIELD_KIND_I64: h[key] = std::int64_t{e.value.value.i64}; break;
      case AMQP_FIELD_KIND_U64: h[key] = static_cast<std::int64_t>(e.value.value.u64); break;
      case AMQP_FIELD_KIND_TIMESTAMP: h[key] = static_cast<std::int64_t>(e.value.value.u64); break;
      case AMQP_FIELD_KIND_F32:
      case AMQP_FIELD_KIND_F64:
      case AMQP_FIELD_KIND_DECIMAL:
      case AMQP_FIELD_KIND_TABLE:
      case AMQP_FIELD_KIND_ARRAY:
      case AMQP_FIELD_KIND_VOID:
        break;  // not used by GenX; dropped
    }
  }
  return h;
}

std::string describe_reply(const amqp_rpc_reply_t& r) {
  switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL: return "ok";
    case AMQP_RESPONSE_NONE: return "missing RPC reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION: return amqp_error_string2(r.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        const auto* m = static_cast<amqp_connection_close_t*>(r.reply.decoded);
        return "connection closed by broker: " + std::to_string(m->reply_code) + " " + string_of(m->reply_text);
      }
      if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        const auto* m = static_cast<amqp_channel_close_t*>(r.reply.decoded);
        return "channel closed by broker: " + std::to_string(m->reply_code) + " " + string_of(m->reply_text);
      }
      return "unexpected server method " + std::to_string(r.reply.id);
  }
  return "unknown reply";
}

struct PublishCommand {
  Message message;
  BrokerClient::PublishCallback cb;
  std::chrono::steady_clock::time_point accepted_at;
};
struct AckCommand {
  std::uint64_t generation;
  std::uint16_t channel;
  std::uint64_t tag;
  bool ack;
  bool requeue;
};
struct ConsumeCommand {};  // new registrations are picked up from the registry
struct CheckCommand {
  std::string queue;
  std::shared_ptr<std::promise<std::optional<QueueInfo>>> answer;
};
struct GetCommand {
  std::string queue;
  std::shared_ptr<std::promise<std::optional<Delivery>>> answer;
};
struct PurgeCommand {
  std::string queue;
  std::shared_ptr<std::promise<std::uint32_t>> answer;
};
struct BindCommand {
  std::string queue;
  std::string exchange;
  std::string routing_key;
  bool bind;                     // false: unbind
  std::function<void()> on_bound;  // bind only; may be empty
};
using Command = std::variant<PublishCommand, AckCommand, ConsumeCommand, CheckCommand, GetCommand,
                             PurgeCommand, BindCommand>;
using BindingKey = std::tuple<std::string, std::string, std::string>;  // queue, exchange, key

// TCP_CORK on a connection's socket while held: what is written meanwhile leaves in full
// segments when released (or after 200 ms at most, the kernel's bound). fd -1: a no-op.
class Cork {
 public:
  explicit Cork(int fd) : fd_(fd) {}
  Cork(const Cork&) = delete;
  Cork& operator=(const Cork&) = delete;
  ~Cork() { release(); }
  void hold() { set(true); }
  void release() { set(false); }

 private:
  void set(bool on) {
    if (fd_ < 0 || on == held_) return;
    const int value = on ? 1 : 0;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_CORK, &value, sizeof value);
    held_ = on;
  }
  int fd_;
  bool held_ = false;
};

// Copies the basic properties GenX uses into a delivery.
void fill_properties(Delivery& d, const amqp_basic_properties_t& p) {
  if (p._flags & AMQP_BASIC_CONTENT_TYPE_FLAG) d.content_type = string_of(p.content_type);
  if (p._flags & AMQP_BASIC_MESSAGE_ID_FLAG) d.message_id = string_of(p.message_id);
  if (p._flags & AMQP_BASIC_CORRELATION_ID_FLAG) d.correlation_id = string_of(p.correlation_id);
  if (p._flags & AMQP_BASIC_REPLY_TO_FLAG) d.reply_to = string_of(p.reply_to);
  if (p._flags & AMQP_BASIC_TYPE_FLAG) d.type = string_of(p.type);
  if (p._flags & AMQP_BASIC_PRIORITY_FLAG) d.priority = p.priority;
  if (p._flags & AMQP_BASIC_HEADERS_FLAG) d.headers = headers_of(p.headers);
}

template <typename T>
void fail_answer(const std::shared_ptr<std::promise<T>>& answer, const std::string& why) {
  answer->set_exception(std::make_exception_ptr(BrokerError(why)));
}

struct Consumer {
  std::string queue;
  std::uint16_t prefetch;
  BrokerClient::DeliveryHandler handler;
  bool no_ack;
};

struct InFlight {
  BrokerClient::PublishCallback cb;
  bool returned = false;
};

// A content-bearing method (deliver or return) waiting for its header and body frames.
struct Assembly {
  bool is_return = false;
  Delivery delivery;
  std::uint64_t body_size = 0;
  bool have_header = false;
  std::optional<std::uint64_t> seq;  // returns: from the seq header
};

void run_callback(const BrokerClient::PublishCallback& cb, PublishOutcome outcome) {
  if (!cb) return;
  try {
    cb(outcome);
  } catch (const std::exception& e) {
    spdlog::error("broker: publish callback threw: {}", e.what());
  } catch (...) {
    spdlog::error("broker: publish callback threw");
  }
}

}  // namespace

struct BrokerClient::Impl {
  Impl(ConnectionSettings s, Topology t)
      : settings(std::move(s)),
        topology(std::move(t)),
        rotation(settings.nodes.empty() ? std::vector<BrokerNode>{{settings.host, settings.port}} : settings.nodes) {
    node_text = describe(rotation.current());
    event_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (event_fd < 0) throw std::runtime_error("broker: eventfd failed");
  }
  ~Impl() {
    if (event_fd >= 0) ::close(event_fd);
  }

  const ConnectionSettings settings;
  const Topology topology;
  NodeRotation rotation;  // I/O thread only
  int event_fd = -1;
  std::thread thread;

  // Shared with callers, under mu.
  std::mutex stop_mu;  // serializes stop() callers (join once)
  mutable std::mutex mu;
  std::condition_variable state_cv;
  std::deque<Command> commands;
  std::vector<std::shared_ptr<Consumer>> consumers;
  std::set<BindingKey> runtime_bindings;
  std::vector<std::function<void()>> bind_waiters;  // broker thread only
  bool started = false;
  bool stopping = false;
  bool is_connected = false;
  std::chrono::steady_clock::time_point drain_deadline;
  StateHandler state_handler;
  std::string node_text;  // describe(rotation.current())

  std::atomic<std::uint64_t> generation{0};
  std::atomic<std::uint64_t> n_published{0}, n_confirmed{0}, n_nacked{0}, n_returned{0},
      n_connection_lost{0}, n_delivered{0}, n_reconnects{0};

  // I/O thread only.
  amqp_connection_state_t conn = nullptr;
  std::deque<PublishCommand> unsent;
  std::map<std::uint64_t, InFlight> in_flight;
  std::uint64_t next_seq = 1;
  std::map<amqp_channel_t, Assembly> assembling;
  std::map<amqp_channel_t, std::shared_ptr<Consumer>> consumer_channels;
  std::map<amqp_channel_t, std::string> consumer_tags;
  std::size_t consumers_started = 0;  // registry entries with a channel this generation
  amqp_channel_t check_channel = 0;     // open check channel, 0 = none
  bool get_channel_open = false;
  amqp_channel_t next_check_channel = kFirstCheckChannel;
  std::mt19937_64 rng{std::random_device{}()};

  void wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(event_fd, &one, sizeof one);
  }

  // Wakes the I/O thread only when the queue was empty: a non-empty queue already has a
  // wake-up pending (every loop of the I/O thread clears the eventfd before it takes the
  // whole queue, so a command queued behind another is taken with it). One eventfd write
  // per burst (a group's publishes, the acks its confirms release), not one per command.
  void push(Command c) {
    bool was_empty;
    {
      std::lock_guard lock(mu);
      was_empty = commands.empty();
      commands.push_back(std::move(c));
    }
    if (was_empty) wake();
  }

  bool stop_requested() {
    std::lock_guard lock(mu);
    return stopping;
  }

  void set_connected(bool value) {
    StateHandler handler;
    {
      std::lock_guard lock(mu);
      is_connected = value;
      handler = state_handler;
    }
    state_cv.notify_all();
    if (handler) {
      try {
        handler(value);
      } catch (...) {
        spdlog::error("broker: state handler threw");
      }
    }
  }

  void clear_eventfd() {
    std::uint64_t v;
    [[maybe_unused]] auto n = ::read(event_fd, &v, sizeof v);
  }

  // ---- outcomes -------------------------------------------------------------------

  void finish(InFlight& f, PublishOutcome outcome) {
    switch (outcome) {
      case PublishOutcome::kConfirmed: ++n_confirmed; break;
      case PublishOutcome::kNacked: ++n_nacked; break;
      case PublishOutcome::kReturned: ++n_returned; break;
      case PublishOutcome::kConnectionLost: ++n_connection_lost; break;
      case PublishOutcome::kStopped: break;
    }
    run_callback(f.cb, outcome);
  }

  void fail_in_flight() {
    auto pending = std::move(in_flight);
    in_flight.clear();
    for (auto& [seq, f] : pending) finish(f, PublishOutcome::kConnectionLost);
  }

  void fail_unsent(PublishOutcome outcome) {
    auto pending = std::move(unsent);
    unsent.clear();
    for (auto& p : pending) {
      InFlight f{std::move(p.cb), false};
      finish(f, outcome);
    }
  }

  // Held publishes beyond the bounds get kConnectionLost (header "Publish contract").
  void expire_unsent() {
    const auto now = std::chrono::steady_clock::now();
    while (!unsent.empty() && (unsent.size() > settings.max_unsent_publishes ||
                               now - unsent.front().accepted_at > settings.unsent_publish_timeout)) {
      InFlight f{std::move(unsent.front().cb), false};
      unsent.pop_front();
      finish(f, PublishOutcome::kConnectionLost);
    }
  }

  // ---- commands -------------------------------------------------------------------

  std::deque<Command> take_commands() {
    std::lock_guard lock(mu);
    return std::exchange(commands, {});
  }

  // While disconnected: publishes are held, acks are stale, checks fail fast.
  void process_commands_disconnected() {
    for (auto& c : take_commands()) {
      if (auto* p = std::get_if<PublishCommand>(&c)) {
        unsent.push_back(std::move(*p));
      } else if (auto* q = std::get_if<CheckCommand>(&c)) {
        q->answer->set_value(std::nullopt);
      } else if (auto* g = std::get_if<GetCommand>(&c)) {
        fail_answer(g->answer, "not connected to RabbitMQ");
      } else if (auto* u = std::get_if<PurgeCommand>(&c)) {
        fail_answer(u->answer, "not connected to RabbitMQ");
      }
    }
    expire_unsent();
  }

  void process_commands() {
    auto batch = take_commands();
    // Several publishes and acks at once (a worker's group commit, a busy gateway): corked,
    // they leave in full TCP segments instead of one or more per frame, so RabbitMQ's
    // reader wakes once for the batch. Released before anything that waits for an answer.
    const auto writes = unsent.size() + static_cast<std::size_t>(std::count_if(
                                            batch.begin(), batch.end(), [](const Command& c) {
                                              return std::holds_alternative<PublishCommand>(c) ||
                                                     std::holds_alternative<AckCommand>(c);
                                            }));
    Cork cork(writes > 1 ? amqp_get_sockfd(conn) : -1);
    for (auto& c : batch) {
      if (auto* p = std::get_if<PublishCommand>(&c)) {
        unsent.push_back(std::move(*p));
        continue;
      }
      if (auto* a = std::get_if<AckCommand>(&c)) {
        cork.hold();
        do_ack(*a);
        continue;
      }
      cork.release();
      if (std::holds_alternative<ConsumeCommand>(c)) {
        start_new_consumers();
      } else if (auto* q = std::get_if<CheckCommand>(&c)) {
        do_check(*q);
      } else if (auto* g = std::get_if<GetCommand>(&c)) {
        do_get(*g);
      } else if (auto* u = std::get_if<PurgeCommand>(&c)) {
        do_purge(*u);
      } else if (auto* b = std::get_if<BindCommand>(&c)) {
        // Kept until a bind-ok: when the bind fails with the connection, the reconnect
        // declares the binding again (runtime_bindings) and then tells the waiter.
        if (b->on_bound) bind_waiters.push_back(std::move(b->on_bound));
        do_bind(b->queue, b->exchange, b->routing_key, b->bind);
        tell_bind_waiters();
      }
    }
    if (!unsent.empty()) cork.hold();
    while (!unsent.empty()) {
      PublishCommand p = std::move(unsent.front());
      unsent.pop_front();
      do_publish(std::move(p));
    }
  }

  void do_publish(PublishCommand p) {
    const Message& m = p.message;
    const std::uint64_t seq = next_seq++;
    amqp_basic_properties_t props{};
    props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_TIMESTAMP_FLAG;
    props.delivery_mode = m.persistent ? 2 : 1;
    props.timestamp = static_cast<std::uint64_t>(
        m.timestamp_seconds != 0
            ? m.timestamp_seconds
            : std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                  .count());
    const std::string expiration = m.expiration ? std::to_string(m.expiration->count()) : std::string();
    auto set_text = [&](const std::string& value, amqp_flags_t flag, amqp_bytes_t& field) {
      if (value.empty()) return;
      props._flags |= flag;
      field = bytes_of(value);
    };
    set_text(m.content_type, AMQP_BASIC_CONTENT_TYPE_FLAG, props.content_type);
    set_text(m.message_id, AMQP_BASIC_MESSAGE_ID_FLAG, props.message_id);
    set_text(m.correlation_id, AMQP_BASIC_CORRELATION_ID_FLAG, props.correlation_id);
    set_text(m.reply_to, AMQP_BASIC_REPLY_TO_FLAG, props.reply_to);
    set_text(m.type, AMQP_BASIC_TYPE_FLAG, props.type);
    set_text(expiration, AMQP_BASIC_EXPIRATION_FLAG, props.expiration);
    if (m.priority) {
      props._flags |= AMQP_BASIC_PRIORITY_FLAG;
      props.priority = *m.priority;
    }
    TableBuilder headers;
    for (const auto& [k, v] : m.headers) headers.add(k, v);
    if (m.mandatory) headers.add(kSeqHeader, static_cast<std::int64_t>(seq));
    if (!m.headers.empty() || m.mandatory) {
      props._flags |= AMQP_BASIC_HEADERS_FLAG;
      props.headers = headers.table();
    }
    // In flight before writing: a failed write means "outcome unknown" -> kConnectionLost.
    in_flight.emplace(seq, InFlight{std::move(p.cb), false});
    const int rc = amqp_basic_publish(conn, kPublishChannel, bytes_of(m.exchange), bytes_of(m.routing_key),
                                      m.mandatory ? 1 : 0, 0, &props, bytes_of(m.body));
    if (rc != AMQP_STATUS_OK) throw ConnectionError(std::string("publish failed: ") + amqp_error_string2(rc));
    ++n_published;
  }

  void do_ack(const AckCommand& a) {
    const auto c = consumer_channels.find(a.channel);
    const bool on_get_channel = a.channel == kGetChannel && get_channel_open;
    if (a.generation != generation.load() ||
        (!on_get_channel && (c == consumer_channels.end() || c->second->no_ack))) {
      spdlog::debug("broker: ignoring {} of delivery {} from generation {}", a.ack ? "ack" : "nack", a.tag,
                    a.generation);
      return;
    }
    const int rc = a.ack ? amqp_basic_ack(conn, a.channel, a.tag, 0)
                         : amqp_basic_nack(conn, a.channel, a.tag, 0, a.requeue ? 1 : 0);
    if (rc != AMQP_STATUS_OK) throw ConnectionError(std::string("ack failed: ") + amqp_error_string2(rc));
  }

  void do_bind(const std::string& queue, const std::string& exchange, const std::string& key, bool bind) {
    if (bind) {
      amqp_queue_bind(conn, kPublishChannel, bytes_of(queue), bytes_of(exchange), bytes_of(key), amqp_empty_table);
    } else {
      amqp_queue_unbind(conn, kPublishChannel, bytes_of(queue), bytes_of(exchange), bytes_of(key), amqp_empty_table);
    }
    rpc_or_throw(((bind ? "queue.bind " : "queue.unbind ") + queue + " " + exchange + " " + key).c_str());
  }

  // After a (re)connect: the run-time binding set, declared again.
  void declare_runtime_bindings() {
    std::set<BindingKey> snapshot;
    {
      std::lock_guard lock(mu);
      snapshot = runtime_bindings;
    }
    for (const auto& [queue, exchange, key] : snapshot) do_bind(queue, exchange, key, true);
    if (!snapshot.empty()) spdlog::info("broker: {} run-time bindings declared", snapshot.size());
    tell_bind_waiters();
  }

  // Every run-time binding asked for so far is in place: their on_bound callbacks run.
  void tell_bind_waiters() {
    auto waiters = std::move(bind_waiters);
    bind_waiters.clear();
    for (auto& done : waiters) done();
  }

  void do_check(const CheckCommand& q) {
    if (check_channel == 0) {
      const amqp_channel_t ch = next_check_channel;
      next_check_channel = ch == kLastCheckChannel ? kFirstCheckChannel : static_cast<amqp_channel_t>(ch + 1);
      amqp_channel_open(conn, ch);
      rpc_or_throw("open check channel");
      check_channel = ch;
    }
    const amqp_queue_declare_ok_t* ok =
        amqp_queue_declare(conn, check_channel, bytes_of(q.queue), 1, 0, 0, 0, amqp_empty_table);
    const amqp_rpc_reply_t r = amqp_get_rpc_reply(conn);
    if (ok != nullptr && r.reply_type == AMQP_RESPONSE_NORMAL) {
      q.answer->set_value(QueueInfo{ok->message_count, ok->consumer_count});
      return;
    }
    if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION && r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
      spdlog::debug("broker: check_queue {}: {}", q.queue, describe_reply(r));
      amqp_channel_close_ok_t close_ok{};
      const int rc = amqp_send_method(conn, check_channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &close_ok);
      check_channel = 0;
      q.answer->set_value(std::nullopt);
      if (rc != AMQP_STATUS_OK) throw ConnectionError("channel.close-ok failed");
      return;
    }
    q.answer->set_value(std::nullopt);
    throw ConnectionError("check_queue " + q.queue + ": " + describe_reply(r));
  }

  void open_get_channel() {
    if (get_channel_open) return;
    amqp_channel_open(conn, kGetChannel);
    rpc_or_throw("open get channel");
    get_channel_open = true;
  }

  // A refused get/purge closes the get channel (and requeues what it held); anything
  // else is a connection problem. Returns the reason.
  std::string get_channel_failed(const amqp_rpc_reply_t& r, const std::string& what) {
    const std::string why = what + ": " + describe_reply(r);
    if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION && r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
      amqp_channel_close_ok_t close_ok{};
      get_channel_open = false;
      if (amqp_send_method(conn, kGetChannel, AMQP_CHANNEL_CLOSE_OK_METHOD, &close_ok) != AMQP_STATUS_OK) {
        throw ConnectionError("channel.close-ok failed");
      }
      return why;
    }
    throw ConnectionError(why);
  }

  void do_get(const GetCommand& g) {
    open_get_channel();
    const amqp_rpc_reply_t r = amqp_basic_get(conn, kGetChannel, bytes_of(g.queue), 0);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
      std::string why;
      try {
        why = get_channel_failed(r, "basic.get " + g.queue);
      } catch (...) {
        fail_answer(g.answer, "basic.get " + g.queue + ": connection lost");
        throw;
      }
      fail_answer(g.answer, why);
      return;
    }
    if (r.reply.id == AMQP_BASIC_GET_EMPTY_METHOD) {
      g.answer->set_value(std::nullopt);
      return;
    }
    const auto* ok = static_cast<amqp_basic_get_ok_t*>(r.reply.decoded);
    Delivery d;
    d.generation = generation.load();
    d.channel = kGetChannel;
    d.delivery_tag = ok->delivery_tag;
    d.redelivered = ok->redelivered != 0;
    d.exchange = string_of(ok->exchange);
    d.routing_key = string_of(ok->routing_key);
    d.consumer_queue = g.queue;
    amqp_message_t message;
    const amqp_rpc_reply_t read = amqp_read_message(conn, kGetChannel, &message, 0);
    if (read.reply_type != AMQP_RESPONSE_NORMAL) {
      fail_answer(g.answer, "basic.get " + g.queue + ": " + describe_reply(read));
      throw ConnectionError("reading a got message: " + describe_reply(read));
    }
    fill_properties(d, message.properties);
    d.body = string_of(message.body);
    amqp_destroy_message(&message);
    amqp_maybe_release_buffers_on_channel(conn, kGetChannel);
    g.answer->set_value(std::move(d));
  }

  void do_purge(const PurgeCommand& p) {
    open_get_channel();
    const amqp_queue_purge_ok_t* ok = amqp_queue_purge(conn, kGetChannel, bytes_of(p.queue));
    const amqp_rpc_reply_t r = amqp_get_rpc_reply(conn);
    if (ok != nullptr && r.reply_type == AMQP_RESPONSE_NORMAL) {
      p.answer->set_value(ok->message_count);
      return;
    }
    std::string why;
    try {
      why = get_channel_failed(r, "queue.purge " + p.queue);
    } catch (...) {
      fail_answer(p.answer, "queue.purge " + p.queue + ": connection lost");
      throw;
    }
    fail_answer(p.answer, why);
  }

  // ---- connection setup -----------------------------------------------------------

  void rpc_or_throw(const char* what) {
    const amqp_rpc_reply_t r = amqp_get_rpc_reply(conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
      throw ConnectionError(std::string(what) + ": " + describe_reply(r));
    }
  }

  void open_connection() {
    conn = amqp_new_connection();
    if (conn == nullptr) throw ConnectionError("out of memory");
    amqp_socket_t* socket = nullptr;
    if (settings.tls) {
      socket = amqp_ssl_socket_new(conn);
      if (socket == nullptr) throw ConnectionError("cannot create TLS socket");
      amqp_ssl_socket_set_verify_peer(socket, 1);
      amqp_ssl_socket_set_verify_hostname(socket, 1);
      const std::string ca = settings.ca_file.empty() ? kDefaultCaFile : settings.ca_file;
      if (amqp_ssl_socket_set_cacert(socket, ca.c_str()) != AMQP_STATUS_OK) {
        throw ConnectionError("cannot load CA file " + ca + " (RABBITMQ_CA_FILE)");
      }
      amqp_ssl_socket_set_ssl_versions(socket, AMQP_TLSv1_2, AMQP_TLSvLATEST);
      if (!settings.cert_file.empty() &&
          amqp_ssl_socket_set_key(socket, settings.cert_file.c_str(), settings.key_file.c_str()) != AMQP_STATUS_OK) {
        throw ConnectionError("cannot load the client certificate " + settings.cert_file + " or its key " +
                              settings.key_file + " (RABBITMQ_CERT_FILE, RABBITMQ_KEY_FILE)");
      }
    } else {
      socket = amqp_tcp_socket_new(conn);
      if (socket == nullptr) throw ConnectionError("cannot create socket");
    }
    const BrokerNode& node = rotation.current();
    const auto ms = settings.connect_timeout.count();
    timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
    int rc = amqp_socket_open_noblock(socket, node.host.c_str(), node.port, &tv);
    if (rc != AMQP_STATUS_OK) {
      std::string hint;
      if (rc == AMQP_STATUS_SSL_PEER_VERIFY_FAILED || rc == AMQP_STATUS_SSL_CONNECTION_FAILED) {
        hint = " (the broker's TLS certificate is not trusted: it must be signed by a CA in " +
               (settings.ca_file.empty() ? std::string(kDefaultCaFile) : settings.ca_file) +
               ", see RABBITMQ_CA_FILE; or the broker refused the TLS handshake)";
      } else if (rc == AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED) {
        hint = " (the broker's TLS certificate is not valid for the host name " + node.host +
               ": connect with a name the certificate lists)";
      }
      throw ConnectionError(std::string(settings.tls ? "cannot connect (TLS) to " : "cannot connect to ") +
                            describe(node) + ": " + amqp_error_string2(rc) + hint);
    }
    const int fd = amqp_socket_get_sockfd(socket);
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const auto rpc_ms = std::max<std::int64_t>(ms, 10000);
    timeval rpc_tv{static_cast<time_t>(rpc_ms / 1000), static_cast<suseconds_t>((rpc_ms % 1000) * 1000)};
    amqp_set_handshake_timeout(conn, &tv);
    amqp_set_rpc_timeout(conn, &rpc_tv);

    amqp_table_entry_t caps[3];
    caps[0].key = amqp_cstring_bytes("publisher_confirms");
    caps[0].value.kind = AMQP_FIELD_KIND_BOOLEAN;
    caps[0].value.value.boolean = 1;
    caps[1].key = amqp_cstring_bytes("consumer_cancel_notify");
    caps[1].value.kind = AMQP_FIELD_KIND_BOOLEAN;
    caps[1].value.value.boolean = 1;
    caps[2].key = amqp_cstring_bytes("basic.nack");
    caps[2].value.kind = AMQP_FIELD_KIND_BOOLEAN;
    caps[2].value.value.boolean = 1;
    amqp_table_entry_t props[2];
    props[0].key = amqp_cstring_bytes("capabilities");
    props[0].value.kind = AMQP_FIELD_KIND_TABLE;
    props[0].value.value.table = amqp_table_t{3, caps};
    props[1].key = amqp_cstring_bytes("connection_name");
    props[1].value.kind = AMQP_FIELD_KIND_UTF8;
    props[1].value.value.bytes = bytes_of(settings.connection_name);
    const amqp_table_t client_props{settings.connection_name.empty() ? 1 : 2, props};
    const amqp_rpc_reply_t login = amqp_login_with_properties(
        conn, settings.vhost.c_str(), 0, 131072, settings.heartbeat_seconds, &client_props, AMQP_SASL_METHOD_PLAIN,
        settings.username.c_str(), settings.password.c_str());
    if (login.reply_type != AMQP_RESPONSE_NORMAL) throw ConnectionError("login failed: " + describe_reply(login));
  }

  void declare_topology() {
    amqp_channel_open(conn, kPublishChannel);
    rpc_or_throw("channel.open");
    for (const auto& x : topology.exchanges) {
      TableBuilder args;
      for (const auto& [k, v] : x.arguments) args.add(k, v);
      amqp_exchange_declare(conn, kPublishChannel, bytes_of(x.name), bytes_of(x.type), 0, x.durable ? 1 : 0, 0, 0,
                            args.table());
      rpc_or_throw(("exchange.declare " + x.name).c_str());
    }
    for (const auto& q : topology.queues) {
      TableBuilder args;
      for (const auto& [k, v] : q.arguments) args.add(k, v);
      amqp_queue_declare(conn, kPublishChannel, bytes_of(q.name), 0, q.durable ? 1 : 0, q.exclusive ? 1 : 0,
                         q.auto_delete ? 1 : 0, args.table());
      const amqp_rpc_reply_t r = amqp_get_rpc_reply(conn);
      if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION && r.reply.id == AMQP_CHANNEL_CLOSE_METHOD &&
          static_cast<amqp_channel_close_t*>(r.reply.decoded)->reply_code == AMQP_PRECONDITION_FAILED) {
        // The queue exists with other arguments (an older GenX declared it): RabbitMQ
        // never changes a queue's arguments, so this repeats until an operator acts.
        spdlog::error(
            "broker: queue {} exists on RabbitMQ with other properties than this GenX declares "
            "({}). Delete it (after draining it: genx dlq list/replay for a DLQ), e.g. "
            "`rabbitmqctl -p '{}' delete_queue {}`, and GenX declares it anew; see docs/operations.md "
            "\"Queues and their bounds\", upgrading",
            q.name, describe_reply(r), settings.vhost, q.name);
      }
      if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        throw ConnectionError("queue.declare " + q.name + ": " + describe_reply(r));
      }
    }
    // Makes (bind) or removes (!bind) one binding, queue or exchange-to-exchange.
    auto apply_binding = [&](const BindingDecl& b, bool bind) {
      std::string what = std::string(b.to_exchange ? "exchange." : "queue.") + (bind ? "bind " : "unbind ");
      if (b.to_exchange && bind) {
        amqp_exchange_bind(conn, kPublishChannel, bytes_of(b.queue), bytes_of(b.exchange), bytes_of(b.routing_key),
                           amqp_empty_table);
      } else if (b.to_exchange) {
        amqp_exchange_unbind(conn, kPublishChannel, bytes_of(b.queue), bytes_of(b.exchange), bytes_of(b.routing_key),
                             amqp_empty_table);
      } else if (bind) {
        amqp_queue_bind(conn, kPublishChannel, bytes_of(b.queue), bytes_of(b.exchange), bytes_of(b.routing_key),
                        amqp_empty_table);
      } else {
        amqp_queue_unbind(conn, kPublishChannel, bytes_of(b.queue), bytes_of(b.exchange), bytes_of(b.routing_key),
                          amqp_empty_table);
      }
      rpc_or_throw((what + b.queue + " " + b.exchange + " " + b.routing_key).c_str());
    };
    for (const auto& b : topology.bindings) apply_binding(b, true);
    for (const auto& b : topology.unbindings) apply_binding(b, false);
    amqp_confirm_select(conn, kPublishChannel);
    rpc_or_throw("confirm.select");
    next_seq = 1;
  }

  void start_new_consumers() {
    std::vector<std::shared_ptr<Consumer>> registry;
    {
      std::lock_guard lock(mu);
      registry = consumers;
    }
    for (; consumers_started < registry.size(); ++consumers_started) {
      const auto& c = registry[consumers_started];
      const auto ch = static_cast<amqp_channel_t>(kFirstConsumerChannel + consumers_started);
      amqp_channel_open(conn, ch);
      rpc_or_throw("consumer channel.open");
      if (!c->no_ack) {
        amqp_basic_qos(conn, ch, 0, c->prefetch, 0);
        rpc_or_throw("basic.qos");
      }
      const amqp_basic_consume_ok_t* ok = amqp_basic_consume(conn, ch, bytes_of(c->queue), amqp_empty_bytes, 0,
                                                             c->no_ack ? 1 : 0, 0, amqp_empty_table);
      rpc_or_throw(("basic.consume " + c->queue).c_str());
      consumer_channels[ch] = c;
      if (ok != nullptr) consumer_tags[ch] = string_of(ok->consumer_tag);
    }
  }

  void close_connection_state() {
    if (conn != nullptr) amqp_destroy_connection(conn);
    conn = nullptr;
    assembling.clear();
    consumer_channels.clear();
    consumer_tags.clear();
    consumers_started = 0;
    check_channel = 0;
    get_channel_open = false;
  }

  // ---- frames ---------------------------------------------------------------------

  void handle_method(const amqp_frame_t& f) {
    const amqp_method_t& m = f.payload.method;
    switch (m.id) {
      case AMQP_BASIC_ACK_METHOD: {
        const auto* a = static_cast<amqp_basic_ack_t*>(m.decoded);
        complete(a->delivery_tag, a->multiple != 0, true);
        break;
      }
      case AMQP_BASIC_NACK_METHOD: {
        const auto* n = static_cast<amqp_basic_nack_t*>(m.decoded);
        complete(n->delivery_tag, n->multiple != 0, false);
        break;
      }
      case AMQP_BASIC_RETURN_METHOD: {
        const auto* r = static_cast<amqp_basic_return_t*>(m.decoded);
        Assembly a;
        a.is_return = true;
        a.delivery.exchange = string_of(r->exchange);
        a.delivery.routing_key = string_of(r->routing_key);
        spdlog::debug("broker: returned {} {}: {}", a.delivery.exchange, a.delivery.routing_key,
                      string_of(r->reply_text));
        assembling[f.channel] = std::move(a);
        break;
      }
      case AMQP_BASIC_DELIVER_METHOD: {
        const auto* d = static_cast<amqp_basic_deliver_t*>(m.decoded);
        Assembly a;
        a.delivery.generation = generation.load();
        a.delivery.delivery_tag = d->delivery_tag;
        a.delivery.redelivered = d->redelivered != 0;
        a.delivery.exchange = string_of(d->exchange);
        a.delivery.routing_key = string_of(d->routing_key);
        a.delivery.channel = f.channel;
        assembling[f.channel] = std::move(a);
        break;
      }
      case AMQP_CHANNEL_CLOSE_METHOD: {
        const auto* c = static_cast<amqp_channel_close_t*>(m.decoded);
        throw ConnectionError("channel " + std::to_string(f.channel) + " closed by broker: " +
                              std::to_string(c->reply_code) + " " + string_of(c->reply_text));
      }
      case AMQP_CONNECTION_CLOSE_METHOD: {
        const auto* c = static_cast<amqp_connection_close_t*>(m.decoded);
        const std::string text =
            "connection closed by broker: " + std::to_string(c->reply_code) + " " + string_of(c->reply_text);
        amqp_connection_close_ok_t ok{};
        amqp_send_method(conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
        throw ConnectionError(text);
      }
      case AMQP_BASIC_CANCEL_METHOD:
        // The queue was deleted (or failed over): reconnecting re-declares and re-consumes.
        throw ConnectionError("consumer on channel " + std::to_string(f.channel) + " cancelled by broker");
      case AMQP_CONNECTION_BLOCKED_METHOD:
        spdlog::warn("broker: connection blocked by broker (resource alarm): publishing stalls");
        break;
      case AMQP_CONNECTION_UNBLOCKED_METHOD:
        spdlog::info("broker: connection unblocked");
        break;
      default:
        spdlog::debug("broker: ignoring method 0x{:08x} on channel {}", m.id, f.channel);
        break;
    }
  }

  void complete(std::uint64_t tag, bool multiple, bool ack) {
    auto settle = [&](std::map<std::uint64_t, InFlight>::iterator it) {
      InFlight f = std::move(it->second);
      in_flight.erase(it);
      finish(f, f.returned ? PublishOutcome::kReturned : ack ? PublishOutcome::kConfirmed : PublishOutcome::kNacked);
    };
    if (multiple) {
      while (!in_flight.empty() && in_flight.begin()->first <= tag) settle(in_flight.begin());
    } else if (auto it = in_flight.find(tag); it != in_flight.end()) {
      settle(it);
    }
  }

  void handle_header(const amqp_frame_t& f) {
    auto it = assembling.find(f.channel);
    if (it == assembling.end()) throw ConnectionError("content header without a method");
    Assembly& a = it->second;
    a.have_header = true;
    a.body_size = f.payload.properties.body_size;
    const auto* p = static_cast<amqp_basic_properties_t*>(f.payload.properties.decoded);
    Delivery& d = a.delivery;
    fill_properties(d, *p);
    if (a.is_return) {
      if (auto h = d.headers.find(kSeqHeader); h != d.headers.end()) {
        if (const auto* n = std::get_if<std::int64_t>(&h->second)) a.seq = static_cast<std::uint64_t>(*n);
      }
    }
    if (a.body_size == 0) finish_assembly(f.channel);
  }

  void handle_body(const amqp_frame_t& f) {
    auto it = assembling.find(f.channel);
    if (it == assembling.end() || !it->second.have_header) throw ConnectionError("content body without a header");
    Assembly& a = it->second;
    const auto& frag = f.payload.body_fragment;
    a.delivery.body.append(static_cast<const char*>(frag.bytes), frag.len);
    if (a.delivery.body.size() >= a.body_size) finish_assembly(f.channel);
  }

  void finish_assembly(amqp_channel_t channel) {
    Assembly a = std::move(assembling[channel]);
    assembling.erase(channel);
    if (a.is_return) {
      if (a.seq) {
        if (auto it = in_flight.find(*a.seq); it != in_flight.end()) it->second.returned = true;
      } else {
        spdlog::warn("broker: returned message without {} header ignored", kSeqHeader);
      }
      return;
    }
    auto c = consumer_channels.find(channel);
    if (c == consumer_channels.end()) return;  // channel from a consumer we no longer know
    Delivery d = std::move(a.delivery);
    d.consumer_queue = c->second->queue;
    const bool no_ack = c->second->no_ack;
    const auto tag = d.delivery_tag;
    ++n_delivered;
    try {
      c->second->handler(std::move(d));
    } catch (const std::exception& e) {
      spdlog::error("broker: delivery handler for {} threw: {}; requeueing", c->second->queue, e.what());
      if (!no_ack) do_ack(AckCommand{generation.load(), channel, tag, false, true});
    }
  }

  // Returns true when every buffered frame was handled (nothing left to read now).
  bool drain_frames() {
    for (int i = 0; i < kFrameBudget; ++i) {
      amqp_frame_t frame;
      timeval zero{0, 0};
      const int rc = amqp_simple_wait_frame_noblock(conn, &frame, &zero);
      if (rc == AMQP_STATUS_TIMEOUT) return true;
      if (rc != AMQP_STATUS_OK) throw ConnectionError(amqp_error_string2(rc));
      switch (frame.frame_type) {
        case AMQP_FRAME_METHOD: handle_method(frame); break;
        case AMQP_FRAME_HEADER: handle_header(frame); break;
        case AMQP_FRAME_BODY: handle_body(frame); break;
        default: break;
      }
      amqp_maybe_release_buffers_on_channel(conn, frame.channel);
    }
    return false;
  }

  void wait_for_io(int timeout_ms) {
    pollfd fds[2];
    fds[0] = pollfd{amqp_get_sockfd(conn), POLLIN, 0};
    fds[1] = pollfd{event_fd, POLLIN, 0};
    ::poll(fds, 2, timeout_ms);
    if (fds[1].revents & POLLIN) clear_eventfd();
  }

  // Serves a live connection until it drops (throws) or stop() is requested.
  void serve() {
    for (;;) {
      process_commands();
      if (stop_requested()) return;
      if (drain_frames()) wait_for_io(kPollMillis);
    }
  }

  // Graceful end: cancel consumers, send what is queued, wait for confirms, close.
  void shutdown_connection() {
    std::chrono::steady_clock::time_point deadline;
    {
      std::lock_guard lock(mu);
      deadline = drain_deadline;
    }
    // Cancel first: no new deliveries; unacked ones are requeued by the broker on close.
    for (const auto& [ch, tag] : consumer_tags) {
      amqp_basic_cancel(conn, ch, bytes_of(tag));
      rpc_or_throw("basic.cancel");
    }
    process_commands();
    while (!in_flight.empty() && std::chrono::steady_clock::now() < deadline) {
      process_commands();
      if (drain_frames()) wait_for_io(20);
    }
    process_commands();
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
  }

  void run() {
    std::uint32_t attempt = 0;
    bool ever_connected = false;
    while (!stop_requested()) {
      try {
        open_connection();
        declare_topology();
        declare_runtime_bindings();
        generation.fetch_add(1);
        start_new_consumers();
        if (ever_connected) ++n_reconnects;
        ever_connected = true;
        attempt = 0;
        if (rotation.size() > 1) {
          spdlog::info("broker: connected to node {} ({} of {}) vhost '{}' (generation {})",
                       describe(rotation.current()), rotation.index() + 1, rotation.size(), settings.vhost,
                       generation.load());
        } else {
          spdlog::info("broker: connected to {} vhost '{}' (generation {})", describe(rotation.current()),
                       settings.vhost, generation.load());
        }
        set_connected(true);
        serve();
        shutdown_connection();
        close_connection_state();
        set_connected(false);
        break;
      } catch (const ConnectionError& e) {
        spdlog::warn("broker: {}", e.what());
      } catch (const std::exception& e) {
        spdlog::error("broker: unexpected error: {}", e.what());
      }
      const bool was_connected = [&] {
        std::lock_guard lock(mu);
        return is_connected;
      }();
      close_connection_state();
      fail_in_flight();
      if (was_connected) set_connected(false);
      if (rotation.size() > 1) {
        // That node is down, restarting or cut off: the next attempt goes to the next one.
        const std::string from = describe(rotation.current());
        const std::string to = describe(rotation.next());
        {
          std::lock_guard lock(mu);
          node_text = to;
        }
        spdlog::info("broker: {} node {}; next attempt on node {}",
                     was_connected ? "lost the connection to" : "could not connect to", from, to);
      }
      backoff(attempt++);
    }
    close_connection_state();
    fail_in_flight();
    // Commands that arrived during shutdown.
    for (auto& c : take_commands()) {
      if (auto* p = std::get_if<PublishCommand>(&c)) unsent.push_back(std::move(*p));
      if (auto* q = std::get_if<CheckCommand>(&c)) q->answer->set_value(std::nullopt);
      if (auto* g = std::get_if<GetCommand>(&c)) fail_answer(g->answer, "client stopped");
      if (auto* u = std::get_if<PurgeCommand>(&c)) fail_answer(u->answer, "client stopped");
    }
    fail_unsent(PublishOutcome::kStopped);
  }

  void backoff(std::uint32_t attempt) {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const auto delay = backoff_delay(attempt, settings.min_backoff, settings.max_backoff, unit(rng));
    spdlog::info("broker: reconnecting in {} ms", delay.count());
    const auto until = std::chrono::steady_clock::now() + delay;
    while (!stop_requested()) {
      process_commands_disconnected();
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd fd{event_fd, POLLIN, 0};
      ::poll(&fd, 1, static_cast<int>(std::min<std::int64_t>(left.count(), kPollMillis)));
      if (fd.revents & POLLIN) clear_eventfd();
    }
  }
};

BrokerClient::BrokerClient(ConnectionSettings settings, Topology topology)
    : impl_(std::make_unique<Impl>(std::move(settings), std::move(topology))) {}

BrokerClient::~BrokerClient() { stop(); }

void BrokerClient::start() {
  std::lock_guard lock(impl_->mu);
  if (impl_->started || impl_->stopping) return;
  impl_->started = true;
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

void BrokerClient::stop(std::chrono::milliseconds drain) {
  std::lock_guard stop_lock(impl_->stop_mu);
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->stopping) {
      impl_->stopping = true;
      impl_->drain_deadline = std::chrono::steady_clock::now() + drain;
    }
  }
  impl_->wake();
  if (impl_->thread.joinable() && impl_->thread.get_id() != std::this_thread::get_id()) impl_->thread.join();
  // Never started: whatever was queued can only be reported as stopped.
  for (auto& c : impl_->take_commands()) {
    if (auto* p = std::get_if<PublishCommand>(&c)) run_callback(p->cb, PublishOutcome::kStopped);
    if (auto* q = std::get_if<CheckCommand>(&c)) q->answer->set_value(std::nullopt);
    if (auto* g = std::get_if<GetCommand>(&c)) fail_answer(g->answer, "client stopped");
    if (auto* u = std::get_if<PurgeCommand>(&c)) fail_answer(u->answer, "client stopped");
  }
}

bool BrokerClient::wait_connected(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  return impl_->state_cv.wait_for(lock, timeout, [&] { return impl_->is_connected || impl_->stopping; }) &&
         impl_->is_connected;
}

bool BrokerClient::connected() const {
  std::lock_guard lock(impl_->mu);
  return impl_->is_connected;
}

std::string BrokerClient::node() const {
  std::lock_guard lock(impl_->mu);
  return impl_->node_text;
}

std::uint64_t BrokerClient::reconnects() const { return impl_->n_reconnects.load(); }

BrokerCounters BrokerClient::counters() const {
  BrokerCounters c;
  c.published = impl_->n_published.load();
  c.confirmed = impl_->n_confirmed.load();
  c.nacked = impl_->n_nacked.load();
  c.returned = impl_->n_returned.load();
  c.connection_lost = impl_->n_connection_lost.load();
  c.delivered = impl_->n_delivered.load();
  c.reconnects = impl_->n_reconnects.load();
  return c;
}

void BrokerClient::on_state_change(StateHandler handler) {
  std::lock_guard lock(impl_->mu);
  impl_->state_handler = std::move(handler);
}

void BrokerClient::publish(Message message, PublishCallback cb) {
  bool was_empty = false;
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->stopping) {
      was_empty = impl_->commands.empty();
      impl_->commands.push_back(PublishCommand{std::move(message), std::move(cb), std::chrono::steady_clock::now()});
      cb = nullptr;
    }
  }
  if (cb) {
    run_callback(cb, PublishOutcome::kStopped);
    return;
  }
  if (was_empty) impl_->wake();  // see Impl::push
}

void BrokerClient::consume(std::string queue, std::uint16_t prefetch, DeliveryHandler handler, bool no_ack) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->consumers.push_back(std::make_shared<Consumer>(Consumer{std::move(queue), prefetch, std::move(handler), no_ack}));
  }
  impl_->push(ConsumeCommand{});
}

void BrokerClient::bind(std::string queue, std::string exchange, std::string routing_key,
                        std::function<void()> on_bound) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->runtime_bindings.emplace(queue, exchange, routing_key);
  }
  impl_->push(BindCommand{std::move(queue), std::move(exchange), std::move(routing_key), true,
                          std::move(on_bound)});
}

void BrokerClient::unbind(std::string queue, std::string exchange, std::string routing_key) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->runtime_bindings.erase(BindingKey{queue, exchange, routing_key});
  }
  impl_->push(BindCommand{std::move(queue), std::move(exchange), std::move(routing_key), false, {}});
}

void BrokerClient::ack(const Delivery& delivery) {
  impl_->push(AckCommand{delivery.generation, delivery.channel, delivery.delivery_tag, true, false});
}

void BrokerClient::nack(const Delivery& delivery, bool requeue) {
  impl_->push(AckCommand{delivery.generation, delivery.channel, delivery.delivery_tag, false, requeue});
}

std::optional<QueueInfo> BrokerClient::check_queue(const std::string& queue, std::chrono::milliseconds timeout) {
  if (!connected()) return std::nullopt;
  auto answer = std::make_shared<std::promise<std::optional<QueueInfo>>>();
  auto future = answer->get_future();
  impl_->push(CheckCommand{queue, answer});
  if (future.wait_for(timeout) != std::future_status::ready) return std::nullopt;
  return future.get();
}

}  // namespace genx::broker

namespace genx::broker {

std::optional<Delivery> BrokerClient::get(const std::string& queue, std::chrono::milliseconds timeout) {
  if (!connected()) throw BrokerError("not connected to RabbitMQ");
  auto answer = std::make_shared<std::promise<std::optional<Delivery>>>();
  auto future = answer->get_future();
  impl_->push(GetCommand{queue, answer});
  if (future.wait_for(timeout) != std::future_status::ready) throw BrokerError("basic.get " + queue + ": timed out");
  return future.get();
}

std::uint32_t BrokerClient::purge(const std::string& queue, std::chrono::milliseconds timeout) {
  if (!connected()) throw BrokerError("not connected to RabbitMQ");
  auto answer = std::make_shared<std::promise<std::uint32_t>>();
  auto future = answer->get_future();
  impl_->push(PurgeCommand{queue, answer});
  if (future.wait_for(timeout) != std::future_status::ready) throw BrokerError("queue.purge " + queue + ": timed out");
  return future.get();
}

}  // namespace genx::broker
