// genx tokens ... (see tokens_command.hpp).
#include "app/tokens_command.hpp"

#include <cstdio>
#include <map>

#include "app/arguments.hpp"
#include "app/config.hpp"
#include "auth/access.hpp"
#include "store/open_store.hpp"

namespace genx::app {

int run_tokens_command(std::vector<std::string> args) {
  constexpr const char* kUsage =
      "usage: genx tokens create --name NAME --role read|operator | list | revoke ID|NAME";
  if (args.empty()) {
    std::fprintf(stderr, "%s\n", kUsage);
    return 2;
  }
  const std::string sub = args.front();
  args.erase(args.begin());
  auto split = split_arguments(args, {"--name", "--role"});
  if (auto* error = std::get_if<std::string>(&split)) {
    std::fprintf(stderr, "genx tokens: %s\n", error->c_str());
    return 2;
  }
  auto& split_args = std::get<SubcommandArgs>(split);
  auto& positional = split_args.positional;
  auto& own = split_args.own;
  auto& config_args = split_args.config;
  const bool usage_ok = (sub == "create" && positional.empty() && own.count("--name") && own.count("--role")) ||
                        (sub == "list" && positional.empty() && own.empty()) ||
                        (sub == "revoke" && positional.size() == 1 && own.empty());
  if (!usage_ok) {
    std::fprintf(stderr, "genx tokens: bad arguments\n%s\n", kUsage);
    return 2;
  }
  std::optional<auth::Role> role;
  if (sub == "create") {
    role = auth::parse_role(own["--role"]);
    if (!role) {
      std::fprintf(stderr, "genx tokens create: --role: expected read or operator, got \"%s\"\n",
                   own["--role"].c_str());
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
  try {
    auto store = store::open_store(config.database_url);
    if (sub == "create") {
      const std::string token = auth::generate_token();
      const auto id = store->create_api_token(own["--name"], auth::role_name(*role), auth::token_digest(token));
      std::fprintf(stderr, "token %lld \"%s\" (%s) created; it is shown once, store it now:\n",
                   static_cast<long long>(id), own["--name"].c_str(), auth::role_name(*role));
      std::printf("%s\n", token.c_str());
      return 0;
    }
    if (sub == "list") {
      std::printf("%s\n", store->list_api_tokens().dump(2).c_str());
      return 0;
    }
    if (store->revoke_api_token(positional[0])) {
      std::printf("token %s revoked\n", positional[0].c_str());
      return 0;
    }
    std::fprintf(stderr, "genx tokens revoke: no active token with id or name \"%s\"\n", positional[0].c_str());
    return 1;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "genx tokens %s: %s\n", sub.c_str(), e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "genx tokens %s: %s\n", sub.c_str(), e.what());
    return 1;
  }
}

}  // namespace genx::app
