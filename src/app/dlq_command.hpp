#pragma once
// `genx dlq list|show ID|replay ID|replay --all|purge [--queue Q] [--limit N]`: the
// operator's dead-letter tools (broker/dead_letters.hpp) on the command line. Output is
// JSON (list, show) or one line (replay, purge); exit 0 on success, 1 when the broker
// fails or the id is unknown, 2 on a usage error.
#include <string>
#include <vector>

namespace genx::app {

int run_dlq_command(std::vector<std::string> args);

}  // namespace genx::app
