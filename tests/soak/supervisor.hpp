// The supervisor: spawns the workers, kills and respawns them, watches for wedges and
// reports. One call runs one workload.
#pragma once

#include "soak.hpp"

#include <cstdint>

namespace soak {

struct RunOptions {
    double seconds = 10;
    unsigned workers = 4;
    unsigned kill_interval_ms = 50;  // mean time between kills (uniform 0.5x..1.5x)
    unsigned bound_ms = 2000;        // longest a step may take, and a stretch without progress
    std::uint64_t seed = 0;
};

// Run `reg` under `opt`; prints its report. Returns true when no violation was found.
bool run_workload(const Registration &reg, const RunOptions &opt);

}  // namespace soak
