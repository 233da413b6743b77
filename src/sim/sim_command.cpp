// `genx sim` command line: options, several processes, output.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "sim/simulator.hpp"

namespace genx::sim {
namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop.store(true); }

constexpr const char* kSimUsage = R"(genx sim — charger simulator and load generator (OCPP 1.6-J and 2.0.1 over WebSocket)

Usage: genx sim [OPTIONS]
  --gateway-url URL      ws://127.0.0.1:PORT/ocpp/ (loopback only; default port GATEWAY_PORT or 9000)
  --chargers N           virtual chargers (default 10)
  --id-prefix P          charge point ids are P0, P1, ... (default SIM-)
  --first-index N        first id number (default 0)
  --profile NAME         realistic (default): a tick every --interval, mostly MeterValues,
                         StatusNotification, Heartbeat, --session-share of chargers in a session;
                         flat-out: the same mix with no pause; rpc: Authorize, StartTransaction,
                         StopTransaction, BootNotification with no pause; idle: a Heartbeat every interval
  --interval S           seconds between ticks (realistic, idle; default 10)
  --session-share F      share of chargers in a session (default 0.5)
  --session-ticks N      MeterValues per session (default 20)
  --ocpp VERSION         1.6 (default), 2.0.1, or mixed (1.6 and 2.0.1 chargers side by side,
                         --ocpp201-share of them 2.0.1, spread evenly over the ids)
  --ocpp201-share F      share of 2.0.1 chargers in a mixed fleet, 0 to 1 (default 0.5;
                         implies --ocpp mixed)
  --id-tag TAG           id tag to authorize with (default SIMTAG)
  --car-max-current A    amperes per phase a car draws when no charging profile limits it
                         (default 32); accepted profiles cap it (MeterValues report Current.Import)
  --ramp-up S            spread the connects over S seconds (default 0)
  --settle S             let the system settle S seconds after the ramp-up before measuring
                         (default 0)
  --duration S           measure for S seconds after the ramp-up (and settle), then stop (default 10;
                         0 = until Ctrl-C / SIGTERM)
  --call-timeout S       a call unanswered this long counts as a timeout (default 30)
  --storm-after S        reconnect storm S seconds into the window: every charger drops its
                         connection and reconnects at once (Boot + 2 StatusNotifications);
                         the run ends when all are answered again (or at --duration)
  --source-addresses L   comma-separated 127.x.y.z source addresses the chargers spread over
                         (default 127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4)
  --processes K          run K processes (default: enough to stay within the open-file limit)
  --json FILE            also write the report as JSON
  --seed N               random seed (default 1)
  --quiet                no table on stdout
)";

struct CommandLine {
  SimOptions sim;
  std::optional<int> processes;
  std::string json_file;
  bool quiet = false;
};

double parse_number(const std::string& flag, const std::string& value, double min, double max) {
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || errno != 0 || !std::isfinite(v) || v < min || v > max) {
    throw std::invalid_argument(flag + ": expected a number from " + std::to_string(min) + " to " +
                                std::to_string(max) + ", got \"" + value + "\"");
  }
  return v;
}

std::chrono::milliseconds seconds(const std::string& flag, const std::string& value, double max) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(parse_number(flag, value, 0, max) * 1000));
}

// ws://HOST:PORT/PREFIX -> host, port, path prefix (ending in '/').
void parse_gateway_url(const std::string& url, SimOptions& o) {
  const std::string scheme = "ws://";
  if (url.rfind(scheme, 0) != 0) throw std::invalid_argument("--gateway-url: expected ws://HOST:PORT/PATH");
  std::string rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "/ocpp/" : rest.substr(slash);
  if (path.empty() || path.back() != '/') path += '/';
  auto colon = authority.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("--gateway-url: the port is missing");
  o.host = authority.substr(0, colon);
  if (o.host == "localhost") o.host = "127.0.0.1";
  o.port = static_cast<int>(parse_number("--gateway-url port", authority.substr(colon + 1), 1, 65535));
  o.path_prefix = path;
}

CommandLine parse_command_line(const std::vector<std::string>& args) {
  CommandLine cl;
  const char* port_env = std::getenv("GATEWAY_PORT");
  cl.sim.port = port_env ? static_cast<int>(parse_number("GATEWAY_PORT", port_env, 1, 65535)) : 9000;
  cl.sim.source_addresses = {"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"};
  cl.sim.script.interval = std::chrono::milliseconds(10000);
  std::string version_given;
  bool share_given = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::string value;
    if (auto eq = flag.find('='); eq != std::string::npos && flag.rfind("--", 0) == 0) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else if (flag != "--quiet") {
      if (i + 1 >= args.size()) throw std::invalid_argument(flag + " needs a value");
      value = args[++i];
    }
    auto& o = cl.sim;
    if (flag == "--gateway-url") {
      parse_gateway_url(value, o);
    } else if (flag == "--chargers") {
      o.chargers = static_cast<std::size_t>(parse_number(flag, value, 0, 1000000));
    } else if (flag == "--id-prefix") {
      if (value.empty() || value.size() > 30) throw std::invalid_argument("--id-prefix: 1-30 characters");
      o.id_prefix = value;
    } else if (flag == "--first-index") {
      o.first_index = static_cast<std::size_t>(parse_number(flag, value, 0, 1e9));
    } else if (flag == "--profile") {
      auto p = profile_from_string(value);
      if (!p) throw std::invalid_argument("--profile: expected realistic, flat-out, rpc or idle, got \"" + value + "\"");
      o.script.profile = *p;
    } else if (flag == "--interval") {
      o.script.interval = seconds(flag, value, 86400);
      if (o.script.interval.count() < 1) throw std::invalid_argument("--interval: at least 0.001");
    } else if (flag == "--session-share") {
      o.script.session_share = parse_number(flag, value, 0, 0.95);
    } else if (flag == "--session-ticks") {
      o.script.session_ticks = static_cast<int>(parse_number(flag, value, 1, 100000));
    } else if (flag == "--car-max-current") {
      o.script.car_max_current_a = parse_number(flag, value, 0, 1000);
    } else if (flag == "--ocpp") {
      if (value == "1.6") {
        o.ocpp201_share = 0;
      } else if (value == "2.0.1") {
        o.ocpp201_share = 1;
      } else if (value == "mixed") {
        if (!share_given) o.ocpp201_share = 0.5;
      } else {
        throw std::invalid_argument("--ocpp: expected 1.6, 2.0.1 or mixed, got \"" + value + "\"");
      }
      version_given = value;
    } else if (flag == "--ocpp201-share") {
      o.ocpp201_share = parse_number(flag, value, 0, 1);
      share_given = true;
    } else if (flag == "--id-tag") {
      if (value.empty() || value.size() > 20) throw std::invalid_argument("--id-tag: 1-20 characters");
      o.script.id_tag = value;
    } else if (flag == "--ramp-up") {
      o.ramp_up = seconds(flag, value, 3600);
    } else if (flag == "--settle") {
      o.settle = seconds(flag, value, 3600);
    } else if (flag == "--duration") {
      o.duration = seconds(flag, value, 7 * 86400);
    } else if (flag == "--call-timeout") {
      o.call_timeout = seconds(flag, value, 3600);
      if (o.call_timeout.count() < 1) throw std::invalid_argument("--call-timeout: at least 0.001");
    } else if (flag == "--storm-after") {
      o.storm_after = seconds(flag, value, 86400);
    } else if (flag == "--source-addresses") {
      o.source_addresses.clear();
      std::stringstream ss(value);
      for (std::string a; std::getline(ss, a, ',');) {
        if (!a.empty()) o.source_addresses.push_back(a);
      }
      if (o.source_addresses.empty()) throw std::invalid_argument("--source-addresses: none given");
    } else if (flag == "--processes") {
      cl.processes = static_cast<int>(parse_number(flag, value, 1, 64));
    } else if (flag == "--json") {
      cl.json_file = value;
    } else if (flag == "--seed") {
      o.seed = static_cast<std::uint64_t>(parse_number(flag, value, 0, 1e15));
    } else if (flag == "--quiet") {
      cl.quiet = true;
    } else {
      throw std::invalid_argument("unknown option " + flag + " (see genx sim --help)");
    }
  }
  if (share_given && !version_given.empty() && version_given != "mixed") {
    throw std::invalid_argument("--ocpp201-share goes with --ocpp mixed, not --ocpp " + version_given);
  }
  if (cl.sim.storm_after && cl.sim.duration.count() > 0 && *cl.sim.storm_after >= cl.sim.duration) {
    throw std::invalid_argument("--storm-after must be shorter than --duration");
  }
  return cl;
}

// Raises the soft open-file limit to the hard one and returns the chargers one process
// can hold (one socket each, plus a margin).
std::size_t chargers_per_process() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    if (limit.rlim_cur < limit.rlim_max) {
      limit.rlim_cur = limit.rlim_max;
      setrlimit(RLIMIT_NOFILE, &limit);
      getrlimit(RLIMIT_NOFILE, &limit);
    }
    auto usable = limit.rlim_cur == RLIM_INFINITY ? 1000000 : static_cast<std::size_t>(limit.rlim_cur);
    return usable > 600 ? usable - 500 : 100;
  }
  return 900;
}

void write_json(const std::string& file, const SimReport& report) {
  std::ofstream out(file);
  out << report.to_json().dump(2) << "\n";
  if (!out) throw std::runtime_error("cannot write " + file);
}

// Arguments for one child: the parent's, minus what the parent decides per child.
std::vector<std::string> child_args(const std::vector<std::string>& args) {
  static const std::set<std::string> kOwn = {"--chargers", "--first-index", "--processes", "--json", "--seed"};
  std::vector<std::string> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i].substr(0, args[i].find('='));
    if (args[i] == "--quiet") continue;
    if (kOwn.count(flag)) {
      if (args[i].find('=') == std::string::npos) ++i;
      continue;
    }
    out.push_back(args[i]);
  }
  return out;
}

int run_processes(const CommandLine& cl, const std::vector<std::string>& args,
                  const std::string& self_path, int processes) {
  char dir_template[] = "/tmp/genx-sim-XXXXXX";
  if (!mkdtemp(dir_template)) throw std::runtime_error("cannot create a temporary directory");
  std::string dir = dir_template;
  std::vector<pid_t> pids;
  std::vector<std::string> files;
  std::size_t offset = cl.sim.first_index;
  std::size_t left = cl.sim.chargers;
  for (int k = 0; k < processes; ++k) {
    std::size_t n = left / static_cast<std::size_t>(processes - k);
    left -= n;
    std::string file = dir + "/report-" + std::to_string(k) + ".json";
    files.push_back(file);
    std::vector<std::string> argv_strings = {self_path, "sim"};
    auto rest = child_args(args);
    argv_strings.insert(argv_strings.end(), rest.begin(), rest.end());
    for (const auto& a : {std::string("--chargers"), std::to_string(n), std::string("--first-index"),
                          std::to_string(offset), std::string("--processes"), std::string("1"),
                          std::string("--json"), file, std::string("--seed"),
                          std::to_string(cl.sim.seed * 7919 + static_cast<std::uint64_t>(k)),
                          std::string("--quiet")}) {
      argv_strings.push_back(a);
    }
    offset += n;
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
      std::vector<char*> argv;
      for (auto& a : argv_strings) argv.push_back(a.data());
      argv.push_back(nullptr);
      signal(SIGINT, SIG_DFL);
      signal(SIGTERM, SIG_DFL);
      execv(self_path.c_str(), argv.data());
      std::fprintf(stderr, "cannot exec %s: %s\n", self_path.c_str(), std::strerror(errno));
      _exit(127);
    }
    pids.push_back(pid);
  }
  spdlog::info("sim: {} chargers over {} processes", cl.sim.chargers, processes);
  std::size_t running = pids.size();
  bool forwarded = false;
  bool failed = false;
  while (running > 0) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      --running;
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = true;
      continue;
    }
    if (g_stop.load() && !forwarded) {
      forwarded = true;
      for (pid_t p : pids) kill(p, SIGTERM);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  SimReport merged;
  for (const auto& file : files) {
    std::ifstream in(file);
    if (!in) {
      failed = true;
      continue;
    }
    try {
      merged.merge(report_from_json(nlohmann::json::parse(in)));
    } catch (const std::exception& e) {
      spdlog::error("sim: bad child report {}: {}", file, e.what());
      failed = true;
    }
    std::remove(file.c_str());
  }
  rmdir(dir.c_str());
  if (!cl.quiet) std::fputs(merged.table().c_str(), stdout);
  if (!cl.json_file.empty()) write_json(cl.json_file, merged);
  if (failed) {
    spdlog::error("sim: a simulator process failed; the report covers the others");
    return 1;
  }
  return 0;
}

}  // namespace

int run_sim_command(const std::vector<std::string>& args, const std::string& self_path) {
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::fputs(kSimUsage, stdout);
      return 0;
    }
  }
  CommandLine cl;
  try {
    cl = parse_command_line(args);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "genx sim: %s\n", e.what());
    return 2;
  }
  signal(SIGINT, on_stop_signal);
  signal(SIGTERM, on_stop_signal);
  signal(SIGPIPE, SIG_IGN);
  std::size_t per_process = chargers_per_process();
  int processes = cl.processes.value_or(
      static_cast<int>(std::max<std::size_t>(1, (cl.sim.chargers + per_process - 1) / per_process)));
  if (static_cast<std::size_t>(processes) * per_process < cl.sim.chargers) {
    std::fprintf(stderr, "genx sim: %zu chargers need more than %d processes (%zu open files each)\n",
                 cl.sim.chargers, processes, per_process);
    return 2;
  }
  try {
    if (processes > 1) return run_processes(cl, args, self_path, processes);
    SimReport report = run_simulation(cl.sim, g_stop);
    if (!cl.quiet) std::fputs(report.table().c_str(), stdout);
    if (!cl.json_file.empty()) write_json(cl.json_file, report);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "genx sim: %s\n", e.what());
    return 1;
  }
}

}  // namespace genx::sim
