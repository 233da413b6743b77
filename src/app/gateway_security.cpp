#include "app/gateway_security.hpp"

#include <pthread.h>
#include <signal.h>

#include <memory>
#include <mutex>
#include <thread>

#include "store/open_store.hpp"

namespace genx::app {

gateway::GatewaySecurity gateway_security_settings(const Config& config) {
  const auto& c = config.charger_security;
  gateway::GatewaySecurity sec;
  sec.tls_port = c.tls_port;
  sec.tls_cert_file = c.tls_cert_file;
  sec.tls_key_file = c.tls_key_file;
  sec.tls_ca_file = c.tls_ca_file;
  sec.tls_ciphers = c.tls_ciphers;
  sec.min_profile = c.min_profile;
  sec.auth_threads = c.auth_threads;
  struct Credentials {
    std::mutex mutex;
    std::unique_ptr<security::CredentialStore> store;  // opened on first use
  };
  auto shared = std::make_shared<Credentials>();
  sec.credentials = [shared, url = config.database_url](const std::string& id) {
    std::lock_guard lock(shared->mutex);
    if (!shared->store) shared->store = store::open_credential_store(url);
    return shared->store->charger_security(id);
  };
  return sec;
}

void install_sighup_handler(std::function<void()> on_sighup) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set, on_sighup = std::move(on_sighup)] {
    for (;;) {
      int signal = 0;
      if (sigwait(&set, &signal) == 0) on_sighup();
    }
  }).detach();
}

}  // namespace genx::app
