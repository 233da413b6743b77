#include "app/security_command.hpp"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "security/password_hash.hpp"

namespace genx::app {
namespace {

// One line from stdin without its line end; on a terminal, without echo.
std::optional<std::string> read_secret_line(const char* prompt) {
  const bool tty = isatty(STDIN_FILENO) != 0;
  termios saved{};
  if (tty) {
    std::fprintf(stderr, "%s", prompt);
    std::fflush(stderr);
    tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  const bool got = static_cast<bool>(std::getline(std::cin, line));
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::fprintf(stderr, "\n");
  }
  if (!got) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

std::optional<int> run_charger_security_command(security::CredentialStore& store, const std::string& sub,
                                                const std::vector<std::string>& positional, bool generate) {
  if (sub == "set-password" && positional.size() == 1) {
    const std::string& id = positional[0];
    std::string password;
    if (generate) {
      password = security::generate_password();
    } else {
      auto line = read_secret_line(("New password for charger " + id + ": ").c_str());
      if (!line) {
        std::fprintf(stderr, "genx chargers set-password: no password on stdin (or use --generate)\n");
        return 2;
      }
      password = std::move(*line);
      if (isatty(STDIN_FILENO) != 0) {
        auto again = read_secret_line("Repeat it: ");
        if (!again || *again != password) {
          std::fprintf(stderr, "genx chargers set-password: the two entries differ; nothing changed\n");
          return 2;
        }
      }
    }
    if (auto problem = security::password_problem(password)) {
      std::fprintf(stderr, "genx chargers set-password: %s; nothing changed\n", problem->c_str());
      return 2;
    }
    store.set_charger_security(id, std::nullopt, security::hash_password(password));
    auto summary = store.charger_security_summary(id);
    const int profile = summary ? summary->value("securityProfile", 0) : 0;
    if (generate) std::printf("%s\n", password.c_str());  // shown once, on stdout only
    std::fprintf(stderr, "password of charger %s saved (security profile %d%s)\n", id.c_str(), profile,
                 profile == 0 ? "; it is used once the profile is 1 or 2: genx chargers set-profile" : "");
    return 0;
  }
  if (sub == "set-profile" && positional.size() == 2) {
    const std::string& id = positional[0];
    const std::string& value = positional[1];
    if (value.size() != 1 || value[0] < '0' || value[0] > '3') {
      std::fprintf(stderr, "genx chargers set-profile: profile must be 0, 1, 2 or 3, got \"%s\"\n", value.c_str());
      return 2;
    }
    const int profile = value[0] - '0';
    store.set_charger_security(id, profile, std::nullopt);
    auto summary = store.charger_security_summary(id);
    const bool has_password = summary && summary->value("passwordSet", false);
    std::printf("charger %s: security profile %d\n", id.c_str(), profile);
    if ((profile == 1 || profile == 2) && !has_password) {
      std::fprintf(stderr, "note: charger %s has no password yet and cannot connect until one is set "
                   "(genx chargers set-password %s)\n", id.c_str(), id.c_str());
    }
    return 0;
  }
  if (sub == "security" && positional.size() == 1) {
    auto summary = store.charger_security_summary(positional[0]);
    if (!summary) {
      summary = nlohmann::json{{"chargePointId", positional[0]}, {"securityProfile", 0}, {"passwordSet", false},
                               {"updatedAt", nullptr}};
    }
    std::printf("%s\n", summary->dump(2).c_str());
    return 0;
  }
  return std::nullopt;
}

}  // namespace genx::app
