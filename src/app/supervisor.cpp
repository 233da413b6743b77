// genx run: a small supervisor for one machine. Starts every role as a child process of
// this binary, restarts a child that dies (with backoff; gives up loudly when a child
// keeps dying), forwards SIGINT/SIGTERM and waits for every child's graceful exit.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <optional>
#include <chrono>
#include <cstring>
#include <thread>

#include <spdlog/spdlog.h>

#include "app/gateway_security.hpp"
#include "app/roles.hpp"
#include "runtime/role.hpp"
#include "store/open_store.hpp"

namespace genx::app {
namespace {

struct Child {
  std::string role;
  int index = 0;
  pid_t pid = -1;
  int restarts_in_window = 0;
  std::chrono::steady_clock::time_point started;
  std::chrono::steady_clock::time_point restart_at;
  std::optional<std::vector<std::string>> args;  // instead of genx run's own arguments
  std::string name() const { return role + "." + std::to_string(index); }
};

constexpr int kMaxQuickRestarts = 5;              // within kRestartWindow
constexpr auto kRestartWindow = std::chrono::seconds(60);
constexpr auto kShutdownGrace = std::chrono::seconds(15);

pid_t spawn(const Child& child, const std::string& self_path, const Config& config,
            const std::vector<std::string>& passthrough) {
  pid_t pid = fork();
  if (pid < 0) {
    spdlog::error("fork failed for {}: {}", child.name(), std::strerror(errno));
    return -1;
  }
  if (pid == 0) {
    // Child: default signal mask, own instance id, same environment otherwise.
    sigset_t set;
    sigemptyset(&set);
    pthread_sigmask(SIG_SETMASK, &set, nullptr);
    std::string instance = config.instance_id + "-" + child.name();
    setenv("GENX_INSTANCE_ID", instance.c_str(), 1);
    setenv("GENX_PROCESS_NAME", child.name().c_str(), 1);
    setenv("GENX_ROLE_INDEX", std::to_string(child.index).c_str(), 1);
    std::vector<std::string> args = {self_path, child.role};
    const auto& extra = child.args ? *child.args : passthrough;
    args.insert(args.end(), extra.begin(), extra.end());
    // Each notifier listens on its own port (a later flag wins over the passthrough).
    if (child.role == "notifier") {
      args.push_back("--notify-port=" + std::to_string(config.notify_port + child.index));
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(self_path.c_str(), argv.data());
    std::fprintf(stderr, "cannot exec %s: %s\n", self_path.c_str(), std::strerror(errno));
    _exit(127);
  }
  return pid;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("signal ") + strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace

int run_supervisor(const Config& config, const std::string& self_path,
                   const std::vector<std::string>& passthrough) {
  std::atomic<int> shutdown_signal{0};
  runtime::install_shutdown_handler([&](int signal) { shutdown_signal = signal; });
  // A closed terminal (SIGHUP) stops everything like SIGTERM: the gateway child, which
  // takes SIGHUP as "reload TLS", must not outlive us. Reload: signal the gateway itself.
  // (The handler thread outlives this function: it only sets a flag with static storage.)
  static std::atomic<bool> hangup{false};
  install_sighup_handler([] { hangup = true; });

  std::vector<Child> children;
  auto add = [&](std::string role, int index) {
    Child child;
    child.role = std::move(role);
    child.index = index;
    children.push_back(std::move(child));
  };
  add("gateway", 0);
  for (int i = 0; i < config.ocpp_workers; ++i) add("ocpp-worker", i);
  if (has_role("notifier")) {
    for (int i = 0; i < config.notifiers; ++i) add("notifier", i);
  } else if (config.notifiers > 0) {
    spdlog::warn("this build has no notifier role; --notifiers {} ignored", config.notifiers);
  }
  add("api", 0);
  if (config.sim_chargers > 0 && config.gateway_port == 0) {
    spdlog::info("no plain ws:// listener (GATEWAY_PORT=0): no simulated demo chargers");
  } else if (config.sim_chargers > 0) {
    // The demo: a few simulated chargers (genx sim) so the dashboard shows life.
    add("sim", 0);
    std::string host = config.bind_address.rfind("127.", 0) == 0 ? config.bind_address : "127.0.0.1";
    children.back().args = std::vector<std::string>{
        "--gateway-url", "ws://" + host + ":" + std::to_string(config.gateway_port) + "/ocpp/",
        "--chargers", std::to_string(config.sim_chargers), "--id-prefix", "DEMO-",
        "--ocpp", config.sim_ocpp,
        "--profile", "realistic", "--interval", "10", "--ramp-up", "2", "--duration", "0",
        "--source-addresses", "127.0.0.1", "--quiet"};
  }
  for (int i = 0; i < config.analytics_processes; ++i) add("analytics", i);

  // Only `genx db migrate` and the ocpp-worker migrate; the other roles wait for the
  // schema (app/schema_wait.hpp). Migrating here first, as `genx db migrate` does, means
  // nobody waits on a fresh database.
  const int schema = store::migrate_database(config.database_url);
  spdlog::info("database schema at version {}", schema);

  auto now = std::chrono::steady_clock::now();
  for (auto& child : children) {
    child.pid = spawn(child, self_path, config, passthrough);
    child.started = now;
    spdlog::info("started {} (pid {})", child.name(), child.pid);
  }
  spdlog::info("GenX running: chargers ws://HOST:{}/ocpp/ID, api http://HOST:{}/ (Ctrl-C stops)",
               config.gateway_port, config.api_port);
  if (config.notifiers > 0) {
    spdlog::info("dashboard http://HOST:{}/, Socket.IO http://HOST:{}/socket.io/", config.api_port,
                 config.notify_port);
  }

  int exit_code = 0;
  while (shutdown_signal == 0) {
    if (hangup) {
      shutdown_signal = SIGHUP;
      break;
    }
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    now = std::chrono::steady_clock::now();
    if (pid > 0) {
      for (auto& child : children) {
        if (child.pid != pid) continue;
        child.pid = -1;
        if (now - child.started > kRestartWindow) child.restarts_in_window = 0;
        if (++child.restarts_in_window > kMaxQuickRestarts) {
          spdlog::critical("{} died {} times within {} s ({}); giving up and stopping GenX",
                           child.name(), kMaxQuickRestarts,
                           std::chrono::duration_cast<std::chrono::seconds>(kRestartWindow).count(),
                           describe_status(status));
          exit_code = 1;
          shutdown_signal = SIGTERM;
          break;
        }
        auto delay = std::chrono::milliseconds(500) * (1 << (child.restarts_in_window - 1));
        child.restart_at = now + delay;
        spdlog::error("{} exited ({}); restarting in {} ms", child.name(), describe_status(status),
                      delay.count());
      }
    }
    for (auto& child : children) {
      if (child.pid == -1 && shutdown_signal == 0 && now >= child.restart_at) {
        child.pid = spawn(child, self_path, config, passthrough);
        child.started = now;
        spdlog::info("restarted {} (pid {})", child.name(), child.pid);
      }
    }
    if (pid <= 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  spdlog::info("stopping: sending SIGTERM to every role");
  for (auto& child : children) {
    if (child.pid > 0) kill(child.pid, SIGTERM);
  }
  auto deadline = std::chrono::steady_clock::now() + kShutdownGrace;
  auto alive = [&] {
    return std::any_of(children.begin(), children.end(), [](const Child& c) { return c.pid > 0; });
  };
  while (alive()) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      for (auto& child : children) {
        if (child.pid == pid) {
          child.pid = -1;
          bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
          if (!clean) exit_code = 1;
          spdlog::info("{} stopped ({})", child.name(), describe_status(status));
        }
      }
      continue;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      for (auto& child : children) {
        if (child.pid > 0) {
          spdlog::error("{} did not stop in time; killing it", child.name());
          kill(child.pid, SIGKILL);
        }
      }
      deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  spdlog::info("GenX stopped");
  return exit_code;
}

}  // namespace genx::app
