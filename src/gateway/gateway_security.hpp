#pragma once
// Charger security settings of the gateway (docs/security.md): the wss:// listener
// (tls_listener.hpp) and the handshake checks (charger_auth.hpp).
#include <functional>
#include <optional>
#include <string>

#include "security/charger_policy.hpp"

namespace genx::gateway {

struct GatewaySecurity {
  int tls_port = 0;           // GATEWAY_TLS_PORT; 0 = no wss:// listener
  std::string tls_cert_file;  // GATEWAY_TLS_CERT_FILE
  std::string tls_key_file;   // GATEWAY_TLS_KEY_FILE
  std::string tls_ca_file;    // GATEWAY_TLS_CA_FILE (client certificates, profile 3)
  std::string tls_ciphers;    // GATEWAY_TLS_CIPHERS; empty = the built-in modern list
  int min_profile = 0;        // GATEWAY_MIN_SECURITY_PROFILE
  int auth_threads = 2;       // GATEWAY_AUTH_THREADS
  // A charger's security from the database; called on the authenticator's threads
  // (one at a time is not promised: guard a Store with a mutex). Unset: every charger
  // is unknown (profile 0 / min_profile). Throws when the database is unavailable.
  std::function<std::optional<security::ChargerSecurity>(const std::string& charge_point_id)> credentials;
};

}  // namespace genx::gateway
