// Waiting on state owned by a process token (a lock word, an arrival, an initializer).
// A token cannot wake anyone when its process dies, so the sleeper wakes on its own at
// least every kProbeIntervalNs to ask whether the owner still lives: a dead owner is
// noticed within two intervals (the 100 ms of DESIGN.md §5), and a live one costs a
// /proc read per interval, never a busy spin.
#pragma once

#include "core/deadline.hpp"
#include "core/waitpoint.hpp"

#include <cerrno>
#include <cstdint>

namespace shmds::core {

inline constexpr std::int64_t kProbeIntervalNs = 50'000'000;

// Sleep on wp until ready() holds (0), probe() reports that it changed something the
// caller must re-check (0), or the deadline passes (-ETIMEDOUT). probe() runs after
// every kProbeIntervalNs without progress.
template <typename Ready, typename Probe>
int wait_probing(WaitPoint &wp, const Deadline &deadline, Ready &&ready, Probe &&probe,
                 int spin = kDefaultSpin) {
    std::int64_t next_probe = monotonic_ns() + kProbeIntervalNs;
    for (;;) {
        if (waitpoint_wait(wp, deadline.capped_at(next_probe), ready, spin) == 0) return 0;
        if (probe()) return 0;
        if (deadline.expired()) return ready() ? 0 : -ETIMEDOUT;
        next_probe = monotonic_ns() + kProbeIntervalNs;
        spin = 0;
    }
}

}  // namespace shmds::core
