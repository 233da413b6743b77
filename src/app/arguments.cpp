#include "app/arguments.hpp"

#include <algorithm>

namespace genx::app {

std::variant<SubcommandArgs, std::string> split_arguments(const std::vector<std::string>& args,
                                                          std::initializer_list<std::string_view> valued,
                                                          std::initializer_list<std::string_view> switches) {
  auto in = [](std::initializer_list<std::string_view> set, std::string_view flag) {
    return std::find(set.begin(), set.end(), flag) != set.end();
  };
  SubcommandArgs out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0) {
      out.positional.push_back(a);
      continue;
    }
    const auto eq = a.find('=');
    const std::string flag = a.substr(0, eq);
    if (in(switches, flag) && eq == std::string::npos) {
      out.own[flag] = "1";
    } else if (in(valued, flag)) {
      if (eq != std::string::npos) {
        out.own[flag] = a.substr(eq + 1);
      } else if (i + 1 < args.size()) {
        out.own[flag] = args[++i];
      } else {
        return flag + " needs a value";
      }
    } else {
      out.config.push_back(a);
      if (eq == std::string::npos && i + 1 < args.size()) out.config.push_back(args[++i]);
    }
  }
  return out;
}

}  // namespace genx::app
