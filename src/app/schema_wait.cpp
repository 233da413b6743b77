#include "app/schema_wait.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "store/open_store.hpp"

namespace genx::app {

void wait_for_schema(const Config& config, std::string_view role) {
  const auto deadline = std::chrono::steady_clock::now() + config.schema_wait;
  bool logged = false;
  for (;;) {
    try {
      const int version = store::open_admin_store(config.database_url)->schema_version();
      if (logged) spdlog::info("{}: database schema is at version {}: starting", role, version);
      return;
    } catch (const store::SchemaBehindError& e) {
      if (!logged) {
        spdlog::warn("{}: waiting for the database schema: at version {}, this genx needs {}; "
                     "`genx db migrate` or an ocpp-worker migrates it (waiting up to {} s, "
                     "GENX_SCHEMA_WAIT_SECONDS)",
                     role, e.have, e.need, config.schema_wait.count());
        logged = true;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        throw std::runtime_error(std::string(role) + " gave up after " +
                                 std::to_string(config.schema_wait.count()) + " s: " + e.what());
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

}  // namespace genx::app
