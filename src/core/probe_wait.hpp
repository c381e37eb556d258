// Waiting on state owned by a process token (a lock word, an arrival, an initializer).
// A token cannot wake anyone when its process dies, so the sleeper wakes on its own to
// ask whether the owner still lives: first after kFirstProbeNs (a contended hand-over
// normally happens long before, so a live owner costs nothing), then every
// kProbeIntervalNs. A dead owner is therefore taken over within about 10 ms, the bound
// every lock of the library meets (the user mutex's StampLock uses the same schedule),
// and a live one costs one liveness check per interval, never a busy spin.
#pragma once

#include "core/deadline.hpp"
#include "core/waitpoint.hpp"

#include <cerrno>
#include <cstdint>

namespace shmds::core {

inline constexpr std::int64_t kFirstProbeNs = 1'000'000;
inline constexpr std::int64_t kProbeIntervalNs = 8'000'000;

// Sleep on wp until ready() holds (0), probe() reports that it changed something the
// caller must re-check (0), or the deadline passes (-ETIMEDOUT). probe() runs after
// kFirstProbeNs, then after every kProbeIntervalNs without progress.
template <typename Ready, typename Probe>
int wait_probing(WaitPoint &wp, const Deadline &deadline, Ready &&ready, Probe &&probe,
                 int spin = kDefaultSpin) {
    std::int64_t next_probe = monotonic_ns() + kFirstProbeNs;
    for (;;) {
        if (waitpoint_wait(wp, deadline.capped_at(next_probe), ready, spin) == 0) return 0;
        if (probe()) return 0;
        if (deadline.expired()) return ready() ? 0 : -ETIMEDOUT;
        next_probe = monotonic_ns() + kProbeIntervalNs;
        spin = 0;
    }
}

}  // namespace shmds::core
