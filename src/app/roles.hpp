#pragma once
// Entry points of the roles (DESIGN.md "Processes"). Each runs in the foreground until
// SIGINT/SIGTERM and returns the process exit code; each is a runtime::Role
// (runtime/role.hpp) plus what is its own. The ocpp-worker is in worker/worker.hpp.
// main only parses and wires.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "app/config.hpp"
#include "auth/access_control.hpp"

namespace genx::app {

int run_gateway(const Config& config);
int run_api(const Config& config);
int run_notifier(const Config& config);
// Whether this binary has the subcommand `role` (genx run starts only roles it has).
bool has_role(std::string_view role);
int run_analytics(const Config& config);
// genx analytics rebuild --from DATE: recomputes every aggregate from the stored facts.
int run_analytics_rebuild(const Config& config, const std::string& from);
// Starts and supervises every role as a child process of this binary.
int run_supervisor(const Config& config, const std::string& self_path,
                   const std::vector<std::string>& passthrough_args);

// Logs a loud warning when no API token is configured at all (what: what is open).
void warn_when_open(auth::AccessControl& access, const char* role, const char* what);

}  // namespace genx::app
