#pragma once
// Entry points of the roles (DESIGN.md "Processes"). Each runs in the foreground until
// SIGINT/SIGTERM and returns the process exit code. main only parses and wires.
#include <functional>
#include <string>
#include <vector>

#include "app/config.hpp"

namespace genx::app {

int run_gateway(const Config& config);
int run_ocpp_worker(const Config& config);
int run_api(const Config& config);
int run_notifier(const Config& config);
int run_analytics(const Config& config);
// genx analytics rebuild --from DATE: recomputes every aggregate from the stored facts.
int run_analytics_rebuild(const Config& config, const std::string& from);
// Starts and supervises every role as a child process of this binary.
int run_supervisor(const Config& config, const std::string& self_path,
                   const std::vector<std::string>& passthrough_args);

// Blocks SIGINT/SIGTERM in the calling thread (call first in main, before any thread
// starts) and runs `on_signal` once on a dedicated thread when one arrives.
void install_shutdown_handler(std::function<void(int signal)> on_signal);

}  // namespace genx::app
