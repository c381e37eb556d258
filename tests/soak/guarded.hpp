// Data behind a lock, for the lock workloads: an update writes `a`, dawdles, then writes
// `b`, so a holder killed mid-update leaves a != b for the next holder to find (and a
// lock handed over silently, without SHMDS_EOWNERDEAD, shows). Updates are plain
// load-then-store, so two holders at once also lose increments, which `completed`
// reveals at the end.
#pragma once

#include "soak.hpp"

#include <atomic>
#include <cstdint>
#include <sched.h>

namespace soak {

struct Guarded {
    std::atomic<std::uint64_t> a, b;
    std::atomic<std::uint64_t> completed;  // updates that finished (counted under the lock)
    std::atomic<std::uint64_t> repairs;    // a != b found after SHMDS_EOWNERDEAD

    bool consistent() const { return a.load() == b.load(); }

    // Under the lock, after SHMDS_EOWNERDEAD.
    void repair() {
        if (!consistent()) {
            b.store(a.load());
            repairs.fetch_add(1);
        }
    }

    // Under the lock: one update, holding it for a random while so kills land inside.
    void update(Worker &w) {
        a.store(a.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        dawdle(w);
        b.store(b.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        completed.fetch_add(1);
    }

    static void dawdle(Worker &w) {
        switch (w.rng()() % 4) {
        case 0: break;
        case 1: sched_yield(); break;
        default:
            for (volatile unsigned i = 0, n = static_cast<unsigned>(w.rng()() % 4000); i < n; ++i) {
            }
        }
    }

    // After the run, holding the lock: only holders killed mid-update may account for a
    // difference between the updates begun and those completed.
    void check(const char *structure, std::uint64_t kills) const {
        std::uint64_t begun = a.load(), done = completed.load();
        note("updates: {} begun, {} completed, {} repaired after a holder died", begun, done,
             repairs.load());
        if (begun < done)
            violation("{}: {} updates completed but the counter shows {}: two holders were "
                      "inside at once and lost increments",
                      structure, done, begun);
        else if (begun - done > kills)
            violation("{}: {} updates begun but not completed, more than the {} kills", structure,
                      begun - done, kills);
    }
};

inline std::uint64_t total(const std::vector<std::uint64_t> &v) {
    std::uint64_t s = 0;
    for (std::uint64_t x : v) s += x;
    return s;
}

}  // namespace soak
