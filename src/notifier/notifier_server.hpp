#pragma once
// NotifierServer: a small Socket.IO v4 server (Engine.IO v4: HTTP long-polling, upgrade
// to WebSocket, server pings) that pushes domain events to browsers and other clients.
// Written here because no C++ Socket.IO server library is packaged in Debian; only what
// GenX needs: text packets, the "/" namespace, rooms per charger, acks for our own
// client events. No Boost type appears in this header.
//
// Threading: run() serves on the calling thread (one I/O thread owns every session);
// broadcast() and stop() are thread-safe and never block.
//
// Delivery: best effort, in order per client. Every client has a bounded outgoing queue
// (max_queued_packets); a client that does not read fast enough is disconnected (it
// reconnects and reloads its view), so a slow or dead client never holds memory or
// delays the others. A client that answers no ping within ping_timeout, or that has not
// connected to the "/" namespace within connect_timeout, is dropped.
//
// Rooms: a client that joined no room receives every event; a client that joined rooms
// (chargePointIds) receives only the events of those chargers.
//
// Authentication: when `access` reports tokens configured (API_TOKEN or database
// tokens), a client must present a valid token of either role (read is enough), in the
// Socket.IO CONNECT auth payload ({token}) or at the Engine.IO handshake (?token= or
// "Authorization: Bearer"); otherwise its CONNECT is refused with CONNECT_ERROR
// {"message":"unauthorized"}. Tokens are checked at CONNECT: a client already connected
// keeps its stream when its token is revoked (until it reconnects).
// CORS: an Origin that is not allowed (origin_allowed) gets 403 on every request.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/access_control.hpp"

namespace genx::notifier {

struct NotifierOptions {
  std::string bind_address = "0.0.0.0";
  int port = 8081;
  auth::AccessControl* access = nullptr;  // null: open; used on the I/O thread only
  // CORS origins (see origin_allowed): empty = the dashboard on dashboard_port, any host.
  std::vector<std::string> cors_origins;
  int dashboard_port = 8080;
  std::chrono::milliseconds ping_interval{25000};
  std::chrono::milliseconds ping_timeout{20000};
  std::chrono::milliseconds connect_timeout{45000};
  std::size_t max_payload = 1000000;        // bytes of one POST body or WebSocket message
  std::size_t max_queued_packets = 1000;    // per client, then the client is dropped
  std::size_t max_clients = 10000;          // handshakes beyond this get HTTP 503
  // Runs on the I/O thread with true when the first Engine.IO session opens (before its
  // handshake is answered) and with false when the last one closes: the notifier's event
  // queue is bound only while someone can receive what it carries. With true, the
  // callee calls feed_ready (from any thread) once events flow to this server; until
  // then Socket.IO CONNECTs wait unanswered, so "connected" means "receives every event
  // from now on". Unset: no feed to wait for.
  std::function<void(bool any_client, std::function<void()> feed_ready)> on_audience;
};

struct NotifierStats {
  std::size_t clients = 0;            // Engine.IO sessions open now
  std::uint64_t events = 0;           // events broadcast
  std::uint64_t dropped_slow = 0;     // clients dropped because their queue was full
};

class NotifierServer {
 public:
  explicit NotifierServer(NotifierOptions options);
  ~NotifierServer();
  NotifierServer(const NotifierServer&) = delete;
  NotifierServer& operator=(const NotifierServer&) = delete;

  // Binds (throws std::runtime_error naming the address) and serves until stop().
  void run();
  void stop();

  // Sends Socket.IO event `name` with `payload_json` (valid JSON text) to every
  // connected client without rooms and to the clients in room `charger_id`. `done`
  // (optional) runs on the I/O thread once the event sits in every client's queue.
  void broadcast(std::string name, std::string payload_json, std::string charger_id,
                 std::function<void()> done = {});

  NotifierStats stats() const;

  struct Impl;  // defined and used only in notifier_server.cpp

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace genx::notifier
