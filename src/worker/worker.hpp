#pragma once
// The ocpp-worker role (genx ocpp-worker): see worker.cpp.
#include "app/config.hpp"

namespace genx::worker {

// Runs until SIGINT/SIGTERM; returns the process exit code.
int run(const app::Config& config);

}  // namespace genx::worker
