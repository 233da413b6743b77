#pragma once
// The OCPP-J WebSocket edge (DESIGN.md "gateway"): accepts ws://HOST:PORT/ocpp/{id}
// with subprotocol ocpp1.6 or ocpp2.0.1 (docs/ocpp201.md: when a charger offers both,
// options.preferred_ocpp decides), validates every frame against its version, publishes valid calls to
// ocpp_exchange and answers the charger only when the call is safe: telemetry on the
// broker's publisher confirm, calls that need a decision with the worker's reply.
// No business rule lives here.
//
// Commands (CSMS -> charger, docs/api.md "Remote commands"): while a charger is connected,
// its id is bound to this instance's command queue on the commands exchange (unbound
// when it goes; a replacing connection on this instance keeps the binding). Each
// command is written to the charger as a CALL; at most one is outstanding per charger
// (OCPP-J), others wait in order (at most max_queued_commands, more are answered
// "busy"). The charger's CALLRESULT (validated against the response schema) or
// CALLERROR, or a timeout, or its disconnection, is sent back to the command's
// reply_to. The charger's own calls never wait for a command. A command for a charger
// this instance does not hold (a binding race) is dropped with a log line.
// A charger that connects here while another instance still holds an older connection
// to it (a half-open TCP the other side has not noticed): this instance publishes a
// takeover notice on the commands exchange before binding; the other instance closes
// its older connection (1008) and so unbinds. The newest connection wins everywhere.
//
// Security (docs/security.md): with options.security.tls_port, a wss:// listener runs
// beside ws:// (port 0 = none). Before the WebSocket upgrade each handshake is checked
// against the charger's security profile (charger_auth.hpp, off the I/O thread); a
// refused one gets 401/403/503 and never reaches OCPP.
//
// Threading: run() drives one I/O thread; the BrokerClient's callbacks are posted onto
// it, so session state is only touched there. stop() may be called from any thread
// (for example a signal handler thread): it stops accepting, closes every WebSocket with
// 1001 (going away) and makes run() return.
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "broker/broker_client.hpp"
#include "broker/topology.hpp"
#include "gateway/limits.hpp"
#include "gateway/gateway_security.hpp"

namespace genx::gateway {

struct GatewayOptions {
  std::string bind_address = "0.0.0.0";
  int port = 9000;
  std::string instance_id;
  broker::Names names;
  std::size_t max_frame_bytes = 65536;
  std::size_t max_queued_frames = 64;  // per charger, outgoing; beyond it the charger is dropped
  std::chrono::milliseconds reply_timeout{30000};
  std::chrono::milliseconds command_timeout{30000};  // the charger's time to answer a command
  std::size_t max_queued_commands = 16;              // per charger, waiting behind the outstanding one
  // Abuse limits (docs/security.md "Abuse limits", gateway/limits.hpp).
  std::chrono::milliseconds handshake_timeout{10000};  // to send the upgrade request; again for the 101
  std::chrono::seconds idle_timeout{900};  // pinged every half; nothing since the last ping closes it
  CallRateSettings call_rate;              // per charger; excess answered GenericError
  ConnectionLimits connection_limits;      // per source address (429) and in total (503)
  GatewaySecurity security;  // port <= 0 above: no plain ws:// listener
  // OCPP_PREFERRED_VERSION: the subprotocol chosen when a charger offers both.
  bool prefer_ocpp201 = true;
};

class Gateway {
 public:
  Gateway(GatewayOptions options, broker::BrokerClient& broker);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Binds the port (throws std::runtime_error naming the address when it cannot), then
  // serves until stop(). Registers the reply consumer on the broker.
  void run();
  void stop();
  // Re-reads the TLS certificate, key and CA files (SIGHUP); connected chargers stay.
  // False (logged) when there is no TLS listener or the files are unusable.
  bool reload_tls();
  std::size_t connected_chargers() const;
  // Open TCP connections, handshakes included (what GENX_MAX_CONNECTIONS counts).
  std::size_t open_connections() const;

  struct Impl;  // public so the file-local session type can name it

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace genx::gateway
