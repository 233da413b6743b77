// genx: one binary, one subcommand per role (DESIGN.md "Processes"). main only parses
// the command line, loads the configuration and hands over to the role.
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "app/config.hpp"
#include "app/logging.hpp"
#include "app/roles.hpp"

namespace {

constexpr const char* kUsage = R"(genx — GenX CSMS, a central system for EV charging networks

Usage: genx COMMAND [OPTIONS]

Commands:
  run            start the whole system on this machine: gateway, ocpp-workers, api,
                 each as a supervised child process (Ctrl-C / SIGTERM stops all)
  gateway        OCPP-J WebSocket edge for chargers (ws://HOST:GATEWAY_PORT/ocpp/ID)
  ocpp-worker    processes charger messages from RabbitMQ into the database
  api            REST API and health (http://HOST:API_PORT/)
  help           show this text

Every option can also be given as an environment variable or in the .env file
(precedence: flag > environment > .env > default). Options:
)";

void print_usage() {
  std::fputs(kUsage, stdout);
  for (const auto& s : genx::app::settings_table()) {
    std::printf("  %-34s %s\n", (std::string(s.flag) + " VALUE").c_str(), s.help);
    std::printf("  %-34s env %s, default \"%s\"\n", "", s.env, s.default_value);
  }
}

std::string self_path(const char* argv0) {
  char buffer[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  if (n > 0) return std::string(buffer, static_cast<std::size_t>(n));
  return argv0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage();
    return 2;
  }
  std::string command = argv[1];
  if (command == "help" || command == "--help" || command == "-h") {
    print_usage();
    return 0;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      print_usage();
      return 0;
    }
  }

  genx::app::Config config;
  try {
    config = genx::app::load_config(genx::app::process_environment(), args);
  } catch (const genx::app::ConfigError& e) {
    std::fprintf(stderr, "genx: configuration error: %s\n", e.what());
    return 2;
  }
  const char* process_name = std::getenv("GENX_PROCESS_NAME");
  genx::app::setup_logging(process_name ? process_name : command, config.log_level);

  try {
    if (command == "run") return genx::app::run_supervisor(config, self_path(argv[0]), args);
    if (command == "gateway") return genx::app::run_gateway(config);
    if (command == "ocpp-worker") return genx::app::run_ocpp_worker(config);
    if (command == "api") return genx::app::run_api(config);
  } catch (const std::exception& e) {
    spdlog::critical("{} failed: {}", command, e.what());
    return 1;
  }
  std::fprintf(stderr, "genx: unknown command \"%s\" (see genx --help)\n", command.c_str());
  return 2;
}
