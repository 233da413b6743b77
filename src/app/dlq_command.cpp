// genx dlq ... (see dlq_command.hpp).
#include "app/dlq_command.hpp"

#include <cstdio>
#include <map>

#include <spdlog/spdlog.h>

#include "app/arguments.hpp"
#include "app/config.hpp"
#include "broker/dead_letters.hpp"
#include "broker/retry.hpp"

namespace genx::app {

int run_dlq_command(std::vector<std::string> args) {
  constexpr const char* kUsage = "usage: genx dlq list|show ID|replay ID|replay --all|purge [--queue Q] [--limit N]";
  if (args.empty()) {
    std::fprintf(stderr, "%s\n", kUsage);
    return 2;
  }
  const std::string sub = args.front();
  args.erase(args.begin());
  auto split = split_arguments(args, {"--queue", "--limit"}, {"--all"});
  if (auto* error = std::get_if<std::string>(&split)) {
    std::fprintf(stderr, "genx dlq: %s\n", error->c_str());
    return 2;
  }
  auto& split_args = std::get<SubcommandArgs>(split);
  auto& positional = split_args.positional;
  auto& own = split_args.own;
  auto& config_args = split_args.config;
  const bool all = own.erase("--all") != 0;
  const bool usage_ok = (sub == "list" && positional.empty() && !all) ||
                        (sub == "show" && positional.size() == 1 && !all) ||
                        (sub == "replay" && (positional.size() == 1) != all) ||
                        (sub == "purge" && positional.empty() && !all);
  if (!usage_ok) {
    std::fprintf(stderr, "genx dlq: bad arguments\n%s\n", kUsage);
    return 2;
  }
  std::size_t limit = 100;
  if (auto it = own.find("--limit"); it != own.end()) {
    try {
      const long n = std::stol(it->second);
      if (n < 1 || n > 100000) throw std::out_of_range("limit");
      limit = static_cast<std::size_t>(n);
    } catch (const std::exception&) {
      std::fprintf(stderr, "genx dlq: --limit: expected 1..100000, got \"%s\"\n", it->second.c_str());
      return 2;
    }
  }
  Config config;
  try {
    config = load_config(process_environment(), config_args);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "genx: configuration error: %s\n", e.what());
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  const std::string dlq = broker::resolve_dead_letter_queue(own.count("--queue") ? own["--queue"] : config.names.queue_ocpp_messages);

  broker::BrokerClient broker(config.amqp, broker::core_topology(config.names));
  broker.start();
  if (!broker.wait_connected(std::chrono::seconds(15))) {
    std::fprintf(stderr, "genx dlq: cannot connect to RabbitMQ at %s:%d (vhost %s)\n", config.amqp.host.c_str(),
                 config.amqp.port, config.amqp.vhost.c_str());
    return 1;
  }
  broker::DeadLetterTool tool(broker, std::chrono::seconds(10));
  int rc = 0;
  try {
    if (sub == "list") {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& l : tool.list(dlq, limit)) out.push_back(broker::to_json(l, false));
      std::printf("%s\n", out.dump(2).c_str());
    } else if (sub == "show") {
      if (auto l = tool.show(dlq, positional[0])) {
        std::printf("%s\n", broker::to_json(*l, true).dump(2).c_str());
      } else {
        std::fprintf(stderr, "genx dlq: no message %s in %s\n", positional[0].c_str(), dlq.c_str());
        rc = 1;
      }
    } else if (sub == "replay" && all) {
      std::printf("replayed %zu messages from %s\n", tool.replay_all(dlq), dlq.c_str());
    } else if (sub == "replay") {
      if (tool.replay(dlq, positional[0])) {
        std::printf("replayed %s from %s\n", positional[0].c_str(), dlq.c_str());
      } else {
        std::fprintf(stderr, "genx dlq: no message %s in %s\n", positional[0].c_str(), dlq.c_str());
        rc = 1;
      }
    } else {
      std::printf("purged %u messages from %s\n", tool.purge(dlq), dlq.c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "genx dlq %s: %s\n", sub.c_str(), e.what());
    rc = 1;
  }
  broker.stop(std::chrono::seconds(5));
  return rc;
}

}  // namespace genx::app
