#pragma once
// The one way subcommands split their arguments (genx tokens, dlq, health, the admin
// commands): the subcommand's own flags, its positional words, and everything else,
// which goes to load_config as configuration flags.
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace genx::app {

struct SubcommandArgs {
  std::vector<std::string> positional;
  std::map<std::string, std::string> own;  // "--name" -> value; a switch -> "1"
  std::vector<std::string> config;         // other --flags and their values, in order

  bool has(const std::string& flag) const { return own.count(flag) != 0; }
};

// `valued` flags take a value ("--flag V" or "--flag=V"), `switches` none; any other
// "--flag" goes to config with the next word as its value unless it is "--flag=V".
// Returns the split, or the error text ("--name needs a value").
std::variant<SubcommandArgs, std::string> split_arguments(const std::vector<std::string>& args,
                                                          std::initializer_list<std::string_view> valued,
                                                          std::initializer_list<std::string_view> switches = {});

}  // namespace genx::app
