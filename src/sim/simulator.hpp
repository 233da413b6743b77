#pragma once
// `genx sim`: a charger simulator and load generator (Beast WebSocket client).
//
// run_simulation drives `chargers` virtual chargers from one I/O thread: each connects
// (from one of the source addresses, ramped over ramp_up) with subprotocol ocpp1.6 or,
// for ocpp201_share of them, ocpp2.0.1, runs its ChargerScript with at most one call in
// flight (OCPP-J), validates every answer with the validator of its version, and answers
// calls from the CSMS (its script's answer, else Accepted where that is a valid answer,
// otherwise NotImplemented). It stops by itself after ramp_up + duration (duration 0: when
// `stop` becomes true), lets calls in flight finish for a moment, closes every socket
// and returns the report. Only loopback targets are accepted (127.0.0.0/8).
//
// run_sim_command is the whole subcommand: option parsing, several processes
// (--processes K forks/execs this binary and merges the children's JSON reports), the
// table on stdout and --json FILE.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/sim_core.hpp"

namespace genx::sim {

struct SimOptions {
  std::string host = "127.0.0.1";
  int port = 9000;
  std::string path_prefix = "/ocpp/";
  std::string id_prefix = "SIM-";
  std::size_t chargers = 10;
  std::size_t first_index = 0;  // identities are id_prefix + (first_index + i)
  std::vector<std::string> source_addresses = {"127.0.0.1"};
  ScriptOptions script;
  std::chrono::milliseconds ramp_up{0};
  std::chrono::milliseconds settle{0};  // after the ramp-up, before the measured window
  std::chrono::milliseconds duration{10000};  // 0: until stop
  std::chrono::milliseconds call_timeout{30000};
  std::optional<std::chrono::milliseconds> storm_after;  // after ramp-up: all drop at once
  std::uint64_t seed = 1;
  double ocpp201_share = 0;  // share of chargers speaking OCPP 2.0.1 (is_ocpp201_charger)
  bool progress = true;  // log a progress line every 10 s
};

SimReport run_simulation(const SimOptions& options, const std::atomic<bool>& stop);

// argv after "sim". self_path is this binary (for --processes). Returns the exit code.
int run_sim_command(const std::vector<std::string>& args, const std::string& self_path);

}  // namespace genx::sim
