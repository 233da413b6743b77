#include "sim/simulator.hpp"

#include <deque>
#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <spdlog/spdlog.h>

#include "ocpp/frame.hpp"
#include "ocpp/v16_validation.hpp"
#include "ocpp/v201_validation.hpp"

namespace genx::sim {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

std::int64_t unix_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The ISO timestamp of "now", rebuilt at most once per millisecond.
class NowIso {
 public:
  const std::string& get() {
    std::int64_t ms = unix_millis();
    if (ms != cached_ms_) {
      cached_ms_ = ms;
      text_ = iso_time(ms);
    }
    return text_;
  }

 private:
  std::int64_t cached_ms_ = -1;
  std::string text_;
};

class Simulation;

struct Charger {
  Charger(Simulation& sim, std::size_t index, std::string identity, ScriptOptions script_options,
          std::uint64_t seed, net::io_context& ioc)
      : sim(sim), index(index), identity(identity), script(script_options, identity, seed),
        timer(ioc), call_timer(ioc) {}

  Simulation& sim;
  std::size_t index;
  std::string identity;
  ChargerScript script;
  std::unique_ptr<websocket::stream<beast::tcp_stream>> ws;
  beast::flat_buffer buffer;
  net::steady_timer timer;       // ramp-up, pause before the next call, reconnect delay
  net::steady_timer call_timer;  // call timeout
  std::uint64_t generation = 0;  // bumped on every (re)connect and close: stale handlers see it
  bool connected = false;
  bool ever_booted = false;
  bool in_storm = false;
  std::string outstanding_id;
  std::string outstanding_action;
  Clock::time_point sent_at;
  std::uint64_t next_id = 1;
  std::deque<std::string> writes;
  bool writing = false;
  std::shared_ptr<PlannedCall> waiting;  // the next call while its pause runs
};

class Simulation {
 public:
  Simulation(const SimOptions& options, const std::atomic<bool>& stop)
      : options_(options), stop_(stop), tick_(ioc_) {
    auto address = net::ip::make_address(options_.host);
    if (!address.is_v4() || (address.to_v4().to_uint() >> 24) != 127) {
      throw std::invalid_argument("genx sim only targets loopback addresses (127.0.0.0/8), not " +
                                  options_.host);
    }
    target_ = tcp::endpoint(address, static_cast<unsigned short>(options_.port));
    for (const auto& s : options_.source_addresses) {
      auto a = net::ip::make_address(s);
      if (!a.is_v4() || (a.to_v4().to_uint() >> 24) != 127) {
        throw std::invalid_argument("source address must be in 127.0.0.0/8: " + s);
      }
      sources_.push_back(a);
    }
    if (sources_.empty()) sources_.push_back(net::ip::make_address("127.0.0.1"));
    report_.profile = std::string(to_string(options_.script.profile));
    report_.chargers = options_.chargers;
    chargers_.reserve(options_.chargers);
    for (std::size_t i = 0; i < options_.chargers; ++i) {
      std::size_t n = options_.first_index + i;
      ScriptOptions script = options_.script;
      script.ocpp201 = is_ocpp201_charger(n, options_.ocpp201_share);
      if (script.ocpp201) ++report_.chargers_ocpp201;
      chargers_.push_back(std::make_unique<Charger>(*this, i, options_.id_prefix + std::to_string(n),
                                                    script, options_.seed * 1000003 + n, ioc_));
    }
  }

  SimReport run() {
    start_ = Clock::now();
    window_start_ = start_ + options_.ramp_up + options_.settle;
    for (auto& c : chargers_) {
      auto offset = options_.chargers > 1
                        ? options_.ramp_up * static_cast<std::int64_t>(c->index) /
                              static_cast<std::int64_t>(options_.chargers)
                        : std::chrono::milliseconds(0);
      Charger* charger = c.get();
      charger->timer.expires_at(start_ + offset);
      charger->timer.async_wait([this, charger](beast::error_code ec) {
        if (!ec) connect(*charger);
      });
    }
    schedule_tick();
    ioc_.run();
    return report_;
  }

 private:
  // -- lifecycle ticks: progress, storm, end of run --------------------------------
  void schedule_tick() {
    tick_.expires_after(std::chrono::milliseconds(50));
    tick_.async_wait([this](beast::error_code ec) {
      if (ec) return;
      on_tick();
    });
  }

  void on_tick() {
    auto now = Clock::now();
    if (phase_ == Phase::kRunning) {
      if (options_.storm_after && !storm_started_ && now >= window_start_ + *options_.storm_after) {
        start_storm();
      }
      bool timed_out = options_.duration.count() > 0 && now >= window_start_ + options_.duration;
      // A storm run ends as soon as every charger is answered again.
      if (storm_started_ && report_.storm_seconds) timed_out = true;
      if (timed_out || stop_.load()) {
        begin_drain(now);
      } else if (options_.progress && now - last_progress_ >= std::chrono::seconds(10)) {
        last_progress_ = now;
        spdlog::info("sim: {} of {} chargers connected, {} calls answered, {} CALLERRORs, {} timeouts",
                     connected_now_, options_.chargers, report_.calls_answered, report_.call_errors,
                     report_.timeouts);
      }
    } else if (phase_ == Phase::kDraining) {
      if (outstanding_ == 0 || now >= drain_deadline_) close_all(now);
    } else if (phase_ == Phase::kClosing) {
      if (connected_now_ == 0 || now >= close_deadline_) {
        finish();
        return;
      }
    }
    schedule_tick();
  }

  void begin_drain(Clock::time_point now) {
    phase_ = Phase::kDraining;
    window_end_ = now;
    drain_deadline_ = now + std::min<Clock::duration>(options_.call_timeout, std::chrono::seconds(5));
    for (auto& c : chargers_) c->timer.cancel();
  }

  void close_all(Clock::time_point now) {
    phase_ = Phase::kClosing;
    report_.connected_at_end = connected_now_;
    close_deadline_ = now + std::chrono::seconds(3);
    for (auto& c : chargers_) {
      c->timer.cancel();
      c->call_timer.cancel();
      if (c->connected && c->ws) {
        Charger* charger = c.get();
        std::uint64_t gen = charger->generation;
        charger->ws->async_close(websocket::close_code::normal, [this, charger, gen](beast::error_code) {
          if (charger->generation == gen) mark_disconnected(*charger, /*unexpected=*/false);
        });
      }
    }
  }

  void finish() {
    phase_ = Phase::kDone;
    auto end = window_end_.value_or(Clock::now());
    report_.measured_seconds =
        end > window_start_ ? std::chrono::duration<double>(end - window_start_).count() : 0.0;
    for (auto& c : chargers_) {
      c->generation++;
      c->timer.cancel();
      c->call_timer.cancel();
      if (c->ws) {
        beast::error_code ignored;
        c->ws->next_layer().socket().close(ignored);
      }
    }
    tick_.cancel();
    ioc_.stop();
  }

  void start_storm() {
    storm_started_ = true;
    storm_start_ = Clock::now();
    storm_total_ = 0;
    spdlog::info("sim: reconnect storm: dropping {} connected chargers at once", connected_now_);
    for (auto& c : chargers_) {
      if (!c->connected) continue;
      ++storm_total_;
      c->in_storm = true;
      drop(*c);
      connect(*c);
    }
    if (storm_total_ == 0) report_.storm_seconds = 0.0;
  }

  // -- connection -----------------------------------------------------------------
  void drop(Charger& c) {
    c.generation++;
    c.timer.cancel();
    c.call_timer.cancel();
    if (!c.outstanding_id.empty()) {
      c.outstanding_id.clear();
      --outstanding_;
    }
    if (c.ws) {
      beast::error_code ignored;
      c.ws->next_layer().socket().close(ignored);
    }
    if (c.connected) {
      c.connected = false;
      --connected_now_;
    }
    c.writes.clear();
    c.writing = false;
    c.waiting.reset();
  }

  void mark_disconnected(Charger& c, bool unexpected) {
    if (unexpected) ++report_.disconnects;
    drop(c);
  }

  void reconnect_later(Charger& c, std::chrono::milliseconds delay) {
    if (phase_ != Phase::kRunning) return;
    std::uint64_t gen = c.generation;
    c.timer.expires_after(delay);
    c.timer.async_wait([this, &c, gen](beast::error_code ec) {
      if (!ec && c.generation == gen && phase_ == Phase::kRunning) connect(c);
    });
  }

  void connect(Charger& c) {
    if (phase_ != Phase::kRunning) return;
    std::uint64_t gen = ++c.generation;
    c.ws = std::make_unique<websocket::stream<beast::tcp_stream>>(ioc_);
    c.buffer.clear();
    auto& socket = c.ws->next_layer().socket();
    beast::error_code ec;
    const auto& source = sources_[c.index % sources_.size()];
    socket.open(tcp::v4(), ec);
    if (!ec) socket.bind(tcp::endpoint(source, 0), ec);
    if (ec) {
      ++report_.connect_failures;
      reconnect_later(c, retry_delay());
      return;
    }
    c.ws->next_layer().expires_after(std::chrono::seconds(30));
    c.ws->next_layer().async_connect(target_, [this, &c, gen](beast::error_code ec2) {
      if (c.generation != gen) return;
      if (ec2) return connect_failed(c);
      c.ws->next_layer().expires_never();
      websocket::stream_base::timeout timeouts = websocket::stream_base::timeout::suggested(beast::role_type::client);
      timeouts.handshake_timeout = std::chrono::seconds(30);
      c.ws->set_option(timeouts);
      const char* protocol = c.script.ocpp201() ? "ocpp2.0.1" : "ocpp1.6";
      c.ws->set_option(websocket::stream_base::decorator([protocol](websocket::request_type& req) {
        req.set(beast::http::field::sec_websocket_protocol, protocol);
        req.set(beast::http::field::user_agent, "genx-sim");
      }));
      c.ws->text(true);
      std::string host = options_.host + ":" + std::to_string(options_.port);
      c.ws->async_handshake(host, options_.path_prefix + c.identity, [this, &c, gen](beast::error_code ec3) {
        if (c.generation != gen) return;
        if (ec3) return connect_failed(c);
        on_connected(c);
      });
    });
  }

  std::chrono::milliseconds retry_delay() {
    std::uniform_int_distribution<int> d(200, 1000);
    return std::chrono::milliseconds(d(rng_));
  }

  void connect_failed(Charger& c) {
    ++report_.connect_failures;
    if (report_.connect_failures <= 3) spdlog::warn("sim: {} could not connect", c.identity);
    c.generation++;
    reconnect_later(c, retry_delay());
  }

  void on_connected(Charger& c) {
    c.connected = true;
    ++connected_now_;
    report_.connected_peak = std::max<std::uint64_t>(report_.connected_peak, connected_now_);
    c.script.restart();
    read(c);
    send_next(c);
  }

  // -- calls ----------------------------------------------------------------------
  void send_next(Charger& c) {
    if (phase_ != Phase::kRunning || !c.connected) return;
    PlannedCall call = c.script.next(now_iso_.get());
    if (call.delay.count() == 0) return send_call(c, std::move(call));
    std::uint64_t gen = c.generation;
    auto shared = std::make_shared<PlannedCall>(std::move(call));
    c.waiting = shared;
    c.timer.expires_after(shared->delay);
    c.timer.async_wait([this, &c, gen, shared](beast::error_code ec) {
      if (ec || c.generation != gen || c.waiting != shared) return;
      c.waiting.reset();
      send_call(c, std::move(*shared));
    });
  }

  void send_call(Charger& c, PlannedCall call) {
    if (phase_ != Phase::kRunning || !c.connected) return;
    // Timestamps are taken when the call leaves, not when it was planned.
    if (call.payload.is_object() && call.payload.contains("timestamp")) call.payload["timestamp"] = now_iso_.get();
    ocpp::Call frame{std::to_string(c.next_id++), call.action, std::move(call.payload)};
    c.outstanding_id = frame.unique_id;
    c.outstanding_action = frame.action;
    c.sent_at = Clock::now();
    ++outstanding_;
    ++report_.calls_sent;
    write(c, ocpp::serialize(frame));
    std::uint64_t gen = c.generation;
    std::string id = c.outstanding_id;
    c.call_timer.expires_after(options_.call_timeout);
    c.call_timer.async_wait([this, &c, gen, id](beast::error_code ec) {
      if (ec || c.generation != gen || c.outstanding_id != id) return;
      ++report_.timeouts;
      if (report_.timeouts <= 3) spdlog::warn("sim: {} {} timed out", c.identity, c.outstanding_action);
      c.outstanding_id.clear();
      --outstanding_;
      c.script.on_result(c.outstanding_action, std::nullopt);
      send_next(c);
    });
  }

  void write(Charger& c, std::string text) {
    c.writes.push_back(std::move(text));
    if (!c.writing) write_front(c);
  }

  void write_front(Charger& c) {
    c.writing = true;
    std::uint64_t gen = c.generation;
    c.ws->async_write(net::buffer(c.writes.front()), [this, &c, gen](beast::error_code ec, std::size_t) {
      if (c.generation != gen) return;
      if (ec) return lost(c);
      c.writes.pop_front();
      c.writing = false;
      if (!c.writes.empty()) write_front(c);
    });
  }

  void lost(Charger& c) {
    if (phase_ != Phase::kRunning) {
      mark_disconnected(c, false);
      return;
    }
    if (report_.disconnects < 3) spdlog::warn("sim: {} lost its connection", c.identity);
    mark_disconnected(c, true);
    reconnect_later(c, std::chrono::milliseconds(1000));
  }

  void read(Charger& c) {
    std::uint64_t gen = c.generation;
    c.ws->async_read(c.buffer, [this, &c, gen](beast::error_code ec, std::size_t) {
      if (c.generation != gen) return;
      if (ec) return lost(c);
      auto data = c.buffer.cdata();
      std::string_view text(static_cast<const char*>(data.data()), data.size());
      on_message(c, text);
      c.buffer.consume(c.buffer.size());
      if (c.generation == gen) read(c);
    });
  }

  void on_message(Charger& c, std::string_view text) {
    auto parsed = ocpp::parse_frame(text);
    if (std::holds_alternative<ocpp::FrameError>(parsed)) {
      ++report_.invalid_responses;
      spdlog::warn("sim: {} got an unreadable frame: {}", c.identity,
                   std::get<ocpp::FrameError>(parsed).description);
      return;
    }
    auto& frame = std::get<ocpp::Frame>(parsed);
    if (auto* call = std::get_if<ocpp::Call>(&frame)) return answer_csms_call(c, *call);
    const std::string& id = std::visit([](const auto& f) -> const std::string& { return f.unique_id; }, frame);
    if (id != c.outstanding_id || c.outstanding_id.empty()) return;  // late answer to a timed-out call
    auto now = Clock::now();
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now - c.sent_at).count();
    c.outstanding_id.clear();
    --outstanding_;
    c.call_timer.cancel();
    ++report_.calls_answered;
    ++report_.answered_by_action[c.outstanding_action];
    if (now >= window_start_ && !window_end_) {
      ++report_.measured_answered;
      report_.latency.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, micros)));
    }
    std::optional<nlohmann::json> answer;
    if (auto* result = std::get_if<ocpp::CallResult>(&frame)) {
      auto violation = c.script.ocpp201() ? ocpp::v201::validate_response(c.outstanding_action, result->payload)
                                          : ocpp::v16::validate_response(c.outstanding_action, result->payload);
      if (violation) {
        ++report_.invalid_responses;
        if (report_.invalid_responses <= 5) {
          spdlog::warn("sim: {} invalid {} response: {}", c.identity, c.outstanding_action,
                       violation->description);
        }
      } else {
        answer = std::move(result->payload);
      }
    } else {
      const auto& error = std::get<ocpp::CallError>(frame);
      ++report_.call_errors;
      ++report_.errors_by_code[std::string(ocpp::to_string(error.code))];
      if (report_.call_errors <= 5) {
        spdlog::warn("sim: {} {} answered with CALLERROR {}: {}", c.identity, c.outstanding_action,
                     ocpp::to_string(error.code), error.description);
      }
    }
    bool was_boot = c.outstanding_action == "BootNotification";
    c.script.on_result(c.outstanding_action, answer);
    if (was_boot && answer && answer->value("status", "") == "Accepted" && !c.ever_booted) {
      c.ever_booted = true;
      ++report_.booted;
      if (c.script.ocpp201()) ++report_.booted_ocpp201;
    }
    if (c.in_storm && !c.script.in_boot_sequence()) {
      c.in_storm = false;
      if (++report_.storm_chargers == storm_total_) {
        report_.storm_seconds = std::chrono::duration<double>(now - storm_start_).count();
        spdlog::info("sim: reconnect storm answered in {:.2f} s", *report_.storm_seconds);
      }
    }
    send_next(c);
  }

  void answer_csms_call(Charger& c, const ocpp::Call& call) {
    if (auto answer = c.script.on_csms_call(call.action, call.payload, now_iso_.get())) {
      write(c, ocpp::serialize(ocpp::CallResult{call.unique_id, *answer}));
      if (c.script.has_urgent() && c.waiting && c.outstanding_id.empty() && phase_ == Phase::kRunning) {
        // A 2.0.1 station acts on the request now, not after its pause.
        auto waiting = std::move(c.waiting);
        c.timer.cancel();
        c.script.defer(std::move(*waiting));
        send_next(c);
      }
      return;
    }
    nlohmann::json accepted = {{"status", "Accepted"}};
    if (!c.script.ocpp201() && !ocpp::v16::validate_response(call.action, accepted)) {
      write(c, ocpp::serialize(ocpp::CallResult{call.unique_id, accepted}));
    } else {
      write(c, ocpp::serialize(ocpp::CallError{call.unique_id, ocpp::ErrorCode::kNotImplemented,
                                               "the simulator does not implement " + call.action,
                                               nlohmann::json::object()}));
    }
  }

  enum class Phase { kRunning, kDraining, kClosing, kDone };

  const SimOptions& options_;
  const std::atomic<bool>& stop_;
  net::io_context ioc_{1};
  net::steady_timer tick_;
  tcp::endpoint target_;
  std::vector<net::ip::address> sources_;
  std::vector<std::unique_ptr<Charger>> chargers_;
  SimReport report_;
  NowIso now_iso_;
  std::mt19937_64 rng_{12345};
  Phase phase_ = Phase::kRunning;
  Clock::time_point start_;
  Clock::time_point window_start_;
  std::optional<Clock::time_point> window_end_;
  Clock::time_point drain_deadline_;
  Clock::time_point close_deadline_;
  Clock::time_point last_progress_ = Clock::now();
  std::size_t connected_now_ = 0;
  std::size_t outstanding_ = 0;
  bool storm_started_ = false;
  Clock::time_point storm_start_;
  std::size_t storm_total_ = 0;
};

}  // namespace

SimReport run_simulation(const SimOptions& options, const std::atomic<bool>& stop) {
  Simulation simulation(options, stop);
  return simulation.run();
}

}  // namespace genx::sim
