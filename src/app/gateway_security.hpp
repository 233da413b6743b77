#pragma once
// Wiring of the gateway's charger security (docs/security.md): settings from the
// configuration, charger credentials read from the database, SIGHUP for TLS reloads.
#include <functional>

#include "app/config.hpp"
#include "gateway/gateway_security.hpp"

namespace genx::app {

// The gateway reads each charger's profile and password hash from DATABASE_URL at its
// handshake (one connection, opened on first use, guarded by a mutex; the gateway
// writes nothing there). Fails closed: an unreadable database refuses the handshake.
gateway::GatewaySecurity gateway_security_settings(const Config& config);

// Runs on_sighup on a thread of its own at every SIGHUP. SIGHUP must already be blocked
// in every thread (main blocks it for `gateway` and `run` before any thread starts).
// The gateway reloads its TLS files; `genx run` stops like on SIGTERM (a closed
// terminal), so no child outlives it.
void install_sighup_handler(std::function<void()> on_sighup);

}  // namespace genx::app
