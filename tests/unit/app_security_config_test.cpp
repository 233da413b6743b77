// The gateway's charger-security settings (docs/security.md, configuration table).
#include <gtest/gtest.h>

#include "app/config.hpp"

using genx::app::ConfigError;
using genx::app::load_config;
using genx::app::Variables;

namespace {

Variables settings(std::initializer_list<std::pair<const std::string, std::string>> vars) {
  Variables v(vars);
  v.emplace("GENX_ENV_FILE", "");
  return v;
}

TEST(ChargerSecurityConfig, DefaultsKeepPlainWebSocketsOnly) {
  auto c = load_config(settings({}), {});
  EXPECT_EQ(c.gateway_port, 9000);
  EXPECT_EQ(c.charger_security.tls_port, 0);
  EXPECT_EQ(c.charger_security.min_profile, 0);
  EXPECT_EQ(c.charger_security.auth_threads, 2);
}

TEST(ChargerSecurityConfig, TlsOnlyGateway) {
  auto c = load_config(settings({{"GATEWAY_PORT", "0"},
                                 {"GATEWAY_TLS_PORT", "9443"},
                                 {"GATEWAY_TLS_CERT_FILE", "/etc/genx/server.crt"},
                                 {"GATEWAY_TLS_KEY_FILE", "/etc/genx/server.key"},
                                 {"GATEWAY_TLS_CA_FILE", "/etc/genx/chargers-ca.crt"}}),
                       {"--gateway-min-security-profile", "3"});
  EXPECT_EQ(c.gateway_port, 0);
  EXPECT_EQ(c.charger_security.tls_port, 9443);
  EXPECT_EQ(c.charger_security.tls_ca_file, "/etc/genx/chargers-ca.crt");
  EXPECT_EQ(c.charger_security.min_profile, 3);
}

TEST(ChargerSecurityConfig, InconsistentSettingsAreRefusedAtStart) {
  const std::vector<std::vector<std::pair<const std::string, std::string>>> bad = {
      {{"GATEWAY_TLS_PORT", "9443"}},                                     // no certificate
      {{"GATEWAY_TLS_PORT", "9443"}, {"GATEWAY_TLS_CERT_FILE", "a.crt"}},  // no key
      {{"GATEWAY_TLS_CERT_FILE", "a.crt"}, {"GATEWAY_TLS_KEY_FILE", "a.key"}},  // no port
      {{"GATEWAY_PORT", "0"}},                                            // nothing to listen on
      {{"GATEWAY_TLS_PORT", "9000"}, {"GATEWAY_TLS_CERT_FILE", "a"}, {"GATEWAY_TLS_KEY_FILE", "b"}},
      {{"GATEWAY_MIN_SECURITY_PROFILE", "4"}},
      {{"GATEWAY_AUTH_THREADS", "0"}},
  };
  for (const auto& vars : bad) {
    Variables v(vars.begin(), vars.end());
    v.emplace("GENX_ENV_FILE", "");
    EXPECT_THROW(load_config(v, {}), ConfigError) << vars.front().first;
  }
}

}  // namespace
