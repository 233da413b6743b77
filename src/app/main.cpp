// genx: one binary, one subcommand per role (DESIGN.md "Processes"). main only parses
// the command line, loads the configuration and hands over to the role.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "app/arguments.hpp"
#include "app/config.hpp"
#include "app/db_command.hpp"
#include "app/dlq_command.hpp"
#include "app/tokens_command.hpp"
#include "app/logging.hpp"
#include "app/retention.hpp"
#include "runtime/ops.hpp"
#include "app/security_command.hpp"
#include "app/roles.hpp"
#include "worker/worker.hpp"
#include "sim/broker_bench.hpp"
#include "sim/simulator.hpp"
#include "store/open_store.hpp"

namespace {

constexpr const char* kUsage = R"(genx — GenX CSMS, a central system for EV charging networks

Usage: genx COMMAND [OPTIONS]

Commands:
  run            start the whole system on this machine: gateway, ocpp-workers, api,
                 each as a supervised child process (Ctrl-C / SIGTERM stops all)
  gateway        OCPP-J WebSocket edge for chargers (ws://HOST:GATEWAY_PORT/ocpp/ID)
  ocpp-worker    processes charger messages from RabbitMQ into the database
  api            REST API, health and the dashboard (http://HOST:API_PORT/)
  notifier       Socket.IO live events (http://HOST:NOTIFY_PORT/socket.io/)
  id-tags set TAG [--status Accepted|Blocked|Expired|Invalid|ConcurrentTx]
              [--expiry ISO-8601] [--parent TAG]
                 add or change an id tag that chargers may authorize with
  id-tags list   print the id tags as JSON
  chargers register ID
                 pre-register a charge point (accepted at boot whatever the
                 unknown-charger policy)
  chargers list  print the chargers as JSON
  chargers set-password ID [--generate]
                 set a charger's password (security profiles 1 and 2), read from
                 stdin (prompted on a terminal; never from the command line);
                 --generate makes a random one and prints it once
  chargers set-profile ID 0|1|2|3
                 set a charger's OCPP security profile (docs/security.md)
  chargers security ID
                 print a charger's profile and whether a password is set
  sim            charger simulator / load generator (genx sim --help)
  bench-broker   RabbitMQ alone with GenX's settings: the limit for bench/ (--help)
  health [--url URL]
                 print the stack's health (the api's /health, which includes every
                 local role's) and exit 0 when healthy, 1 when not or unreachable;
                 default URL http://127.0.0.1:API_PORT/health
  dlq list|show ID|replay ID|replay --all|purge [--queue Q] [--limit N]
                 dead-letter queue of Q (default the ocpp_messages queue): list
                 (JSON, without removing), show one, replay to where it came
                 from, or purge
  analytics      consumes the analytics queue into hourly and daily aggregates
  analytics rebuild --from DATE
                 recomputes every aggregate from DATE (YYYY-MM-DD in GENX_TIMEZONE,
                 or an ISO 8601 time) from the stored transactions, meter values
                 and status history
  db migrate     applies pending database migrations and prints the schema version
                 (the ocpp-worker and genx run do it too; gateway, api, notifier
                 and analytics only wait for it: GENX_SCHEMA_WAIT_SECONDS)
  db copy --from URL --to URL [--force]
                 copies every row of one database into another (SQLite to
                 PostgreSQL or back), in one transaction of the target, migrated
                 first; refuses a target that holds rows unless --force (which
                 replaces them); prints the rows per table of both sides and
                 the next ids. Stop the stack first
  db grant read|api|worker ROLE
                 PostgreSQL: grants an existing role what that part of GenX
                 needs (read: SELECT only; api: read plus the api's writes;
                 worker: read and write every table), run as the schema owner
  db prune [--dry-run]
                 removes rows older than their retention (GENX_RETENTION_*), in
                 short batches, and prints what it removed per table; --dry-run
                 only counts what it would remove
  tariff set ID [--energy-per-kwh P] [--time-per-minute P] [--session-fee P]
                 per-charger tariff override (prices in currency units; unset = 0)
  tariff clear ID
                 back to the GENX_TARIFF_* default
  tariff list    print the overrides as JSON
  tokens create --name NAME --role read|operator
                 new API token for REST and Socket.IO, printed once (only its
                 SHA-256 digest is stored)
  tokens list    print the API tokens as JSON (names, roles, dates; no secret)
  tokens revoke ID|NAME
                 revoke a token at once (api and notifier refuse it)
  help           show this text

Every option can also be given as an environment variable or in the .env file
(precedence: flag > environment > .env > default). Options:
)";

void print_usage() {
  std::fputs(kUsage, stdout);
  for (const auto& s : genx::app::settings_table()) {
    const std::string flag = *s.flag ? std::string(s.flag) + " VALUE" : std::string("(environment only)");
    std::printf("  %-34s %s\n", flag.c_str(), s.help);
    std::printf("  %-34s env %s, default \"%s\"\n", "", s.env, s.default_value);
  }
  std::fputs("\nEvery setting in full: docs/configuration.md (or genx config reference).\n", stdout);
}

// Operator commands against the database: `genx id-tags ...`, `genx chargers ...`.
// Their own words come first; the remaining --flags are configuration.
int run_admin(const std::string& command, std::vector<std::string> args) {
  if (args.empty()) {
    std::fprintf(stderr, "genx %s: missing subcommand (see genx --help)\n", command.c_str());
    return 2;
  }
  std::string sub = args.front();
  args.erase(args.begin());
  auto split = genx::app::split_arguments(
      args,
      {"--status", "--expiry", "--parent", "--from", "--to", "--energy-per-kwh", "--time-per-minute",
       "--session-fee"},
      {"--generate", "--dry-run", "--force"});
  if (auto* error = std::get_if<std::string>(&split)) {
    std::fprintf(stderr, "genx: %s\n", error->c_str());
    return 2;
  }
  auto& split_args = std::get<genx::app::SubcommandArgs>(split);
  auto& positional = split_args.positional;
  auto& own = split_args.own;
  auto& config_args = split_args.config;
  genx::app::Config config;
  try {
    config = genx::app::load_config(genx::app::process_environment(), config_args);
  } catch (const genx::app::ConfigError& e) {
    std::fprintf(stderr, "genx: configuration error: %s\n", e.what());
    return 2;
  }
  try {
    if (command == "db" && sub == "migrate" && positional.empty()) {
      const int version = genx::store::migrate_database(config.database_url);
      std::printf("database schema at version %d\n", version);
      return 0;
    }
    if (command == "db" && sub == "copy" && positional.empty()) {
      return genx::app::run_db_copy(own, own.count("--force") > 0);
    }
    if (command == "db" && sub == "grant") {
      return genx::app::run_db_grant(config, positional);
    }
    auto store = genx::store::open_store(config.database_url, genx::store::Schema::require_current);
    if (command == "id-tags" && sub == "set" && positional.size() == 1) {
      auto opt = [&](const char* k) -> std::optional<std::string> {
        auto it = own.find(k);
        return it == own.end() ? std::nullopt : std::optional<std::string>(it->second);
      };
      store->upsert_id_tag(positional[0], opt("--status").value_or("Accepted"), opt("--expiry"),
                           opt("--parent"));
      std::printf("id tag %s saved\n", positional[0].c_str());
      return 0;
    }
    if (command == "id-tags" && sub == "list" && positional.empty()) {
      std::printf("%s\n", store->list_id_tags().dump(2).c_str());
      return 0;
    }
    if (command == "chargers") {
      if (auto code = genx::app::run_charger_security_command(*store, sub, positional, own.count("--generate") != 0)) {
        return *code;
      }
    }
    if (command == "chargers" && sub == "register" && positional.size() == 1) {
      store->register_charger(positional[0]);
      std::printf("charger %s registered\n", positional[0].c_str());
      return 0;
    }
    if (command == "db" && sub == "prune" && positional.empty()) {
      store.reset();
      return genx::app::run_db_prune(config, own.count("--dry-run") > 0);
    }
    if (command == "analytics" && sub == "rebuild" && positional.empty() && own.count("--from")) {
      store.reset();
      return genx::app::run_analytics_rebuild(config, own["--from"]);
    }
    if (command == "tariff" && sub == "set" && positional.size() == 1) {
      genx::csms::Tariff tariff;
      for (auto [flag, field] : {std::pair{"--energy-per-kwh", &tariff.energy_per_kwh_micro},
                                 std::pair{"--time-per-minute", &tariff.time_per_minute_micro},
                                 std::pair{"--session-fee", &tariff.session_fee_micro}}) {
        if (auto it = own.find(flag); it != own.end()) {
          const auto micro = genx::csms::parse_price_micro(it->second);
          if (!micro) {
            std::fprintf(stderr, "genx tariff set: %s \"%s\" is not a price like 0.35\n", flag,
                         it->second.c_str());
            return 2;
          }
          *field = *micro;
        }
      }
      store->set_tariff(positional[0], tariff);
      std::printf("tariff of %s saved\n", positional[0].c_str());
      return 0;
    }
    if (command == "tariff" && sub == "clear" && positional.size() == 1) {
      store->set_tariff(positional[0], std::nullopt);
      std::printf("tariff of %s cleared\n", positional[0].c_str());
      return 0;
    }
    if (command == "tariff" && sub == "list" && positional.empty()) {
      std::printf("%s\n", store->list_tariffs().dump(2).c_str());
      return 0;
    }
    if (command == "chargers" && sub == "list" && positional.empty()) {
      nlohmann::json all = nlohmann::json::array();
      genx::api::ChargerQuery page_query;
      page_query.limit = 1000;
      for (;;) {
        auto page = store->list_chargers(page_query);
        for (auto& c : page.items) all.push_back(std::move(c));
        if (page.items.size() < 1000) break;
        page_query.offset += 1000;
      }
      std::printf("%s\n", all.dump(2).c_str());
      return 0;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "genx %s %s: %s\n", command.c_str(), sub.c_str(), e.what());
    return 1;
  }
  std::fprintf(stderr, "genx %s: unknown or incomplete subcommand \"%s\" (see genx --help)\n",
               command.c_str(), sub.c_str());
  return 2;
}

// genx health [--url URL] [config flags]: for scripts and container probes.
int run_health(std::vector<std::string> args) {
  auto split = genx::app::split_arguments(args, {"--url"});
  if (auto* error = std::get_if<std::string>(&split)) {
    std::fprintf(stderr, "genx health: %s\n", error->c_str());
    return 2;
  }
  auto& parsed = std::get<genx::app::SubcommandArgs>(split);
  std::string url = parsed.has("--url") ? parsed.own["--url"] : std::string();
  // Anything else is configuration (load_config refuses what it does not know).
  std::vector<std::string> config_args = parsed.config;
  config_args.insert(config_args.end(), parsed.positional.begin(), parsed.positional.end());
  if (url.empty()) {
    genx::app::Config config;
    try {
      config = genx::app::load_config(genx::app::process_environment(), config_args);
    } catch (const genx::app::ConfigError& e) {
      std::fprintf(stderr, "genx: configuration error: %s\n", e.what());
      return 2;
    }
    url = "http://127.0.0.1:" + std::to_string(config.api_port) + "/health";
  }
  auto result = genx::metrics::http_get(url, 10000);
  if (result.status == 0) {
    std::printf("unhealthy: %s unreachable (%s)\n", url.c_str(), result.error.c_str());
    return 1;
  }
  auto body = nlohmann::json::parse(result.body, nullptr, false);
  bool healthy = result.status == 200;
  std::vector<std::string> failing;
  if (!body.is_discarded() && body.is_object()) {
    for (const char* section : {"checks", "roles"}) {
      if (!body.contains(section) || !body[section].is_object()) continue;
      for (const auto& [name, part] : body[section].items()) {
        std::string status = part.value("status", "");
        if (status != "up" && status != "healthy") {
          healthy = false;
          failing.push_back(name + " " + (status.empty() ? "?" : status));
        }
      }
    }
    std::printf("%s\n", body.dump(2).c_str());
  } else {
    std::printf("%s\n", result.body.c_str());
    healthy = false;
  }
  if (healthy) {
    std::printf("healthy (%s)\n", url.c_str());
    return 0;
  }
  std::string parts;
  for (const auto& f : failing) parts += (parts.empty() ? "" : ", ") + f;
  std::printf("unhealthy (HTTP %d%s%s)\n", result.status, parts.empty() ? "" : ": ", parts.c_str());
  return 1;
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
  if (command == "config" && args.size() == 1 && args.front() == "reference") {
    std::fputs(genx::app::settings_reference().c_str(), stdout);
    return 0;
  }
  if (command == "health") return run_health(args);
  if (command == "id-tags" || command == "chargers" || command == "tariff" || command == "db" ||
      (command == "analytics" && !args.empty() && args.front() == "rebuild")) {
    return run_admin(command, args);
  }
  if (command == "sim" || command == "bench-broker") {
    const char* name = std::getenv("GENX_PROCESS_NAME");
    const char* level = std::getenv("GENX_LOG_LEVEL");
    genx::app::setup_logging(name ? name : command, level ? level : "info");
    if (command == "sim") return genx::sim::run_sim_command(args, self_path(argv[0]));
    return genx::sim::run_broker_bench_command(args);
  }
  if (command == "dlq") return genx::app::run_dlq_command(args);
  if (command == "tokens") return genx::app::run_tokens_command(args);
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
  genx::app::setup_logging(process_name ? process_name : command, config.log_level,
                           config.log_format);

  // The roles handle SIGINT/SIGTERM on one sigwait thread (install_shutdown_handler).
  // Block both before any thread exists (ops server, broker I/O), so that no thread
  // inherits the default action and the process is never killed mid-shutdown.
  if (genx::app::has_role(command) || command == "run") {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    // SIGHUP: the gateway reloads its TLS files, genx run stops (app/gateway_security.hpp).
    if (command == "gateway" || command == "run") sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
  }

  try {
    if (command == "run") return genx::app::run_supervisor(config, self_path(argv[0]), args);
    if (command == "gateway") return genx::app::run_gateway(config);
    if (command == "ocpp-worker") return genx::worker::run(config);
    if (command == "api") return genx::app::run_api(config);
    if (command == "notifier") return genx::app::run_notifier(config);
    if (command == "analytics") return genx::app::run_analytics(config);
  } catch (const std::exception& e) {
    spdlog::critical("{} failed: {}", command, e.what());
    return 1;
  }
  std::fprintf(stderr, "genx: unknown command \"%s\" (see genx --help)\n", command.c_str());
  return 2;
}
