// The one sleep/wake mechanism of the library (DESIGN.md §4).
//
// A WaitPoint lives in shared memory next to the condition it guards ("not empty",
// "not full", ...). Sleepers announce themselves, sample the sequence word, re-check the
// condition, then sleep on the sequence word; wakers make the condition true, bump the
// sequence and issue FUTEX_WAKE only when someone announced. That ordering is what makes
// missed wakeups impossible (the reference's lesson 1).
//
// Announcing is crash-safe: a sleeper first writes its owner token into a free slot of
// the registry, then sets that slot's bit in `sleepers`; it clears the bit before the
// slot. Whatever instruction a sleeper dies at, a later repair can tell its entry is
// dead and take it out, so a SIGKILLed sleeper never leaves wakers paying a futex
// syscall on every operation for ever. Sleepers that find the registry full are counted
// in the high half of `sleepers` instead (unrepairable, hence the generous registry).
#pragma once

#include "core/deadline.hpp"
#include "core/futex.hpp"
#include "core/owner.hpp"
#include "core/platform.hpp"

#include <atomic>
#include <cerrno>
#include <cstdint>

namespace shmds::core {

inline constexpr int kWaitSlots = 32;

struct alignas(kCacheLine) WaitPoint {
    std::atomic<std::uint64_t> sleepers;  // low 32: registry bits; high 32: unregistered
    std::atomic<std::uint32_t> seq;       // the futex word
    std::atomic<std::uint32_t> idle_wakes;
    std::atomic<std::uint32_t> repaired;  // dead sleepers taken out (a recovery count)
    std::uint32_t reserved_;
    std::atomic<OwnerToken> slot[kWaitSlots];
};
static_assert(sizeof(WaitPoint) == 320);
static_assert(alignof(WaitPoint) == kCacheLine);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

// How long a sleeper spins on the condition before it sleeps in the kernel. A blocking
// round trip through the kernel costs ~10 µs; a short spin catches the item that is
// about to arrive at a fraction of that, and a waiter with nothing to do still sleeps.
// Bounded by time, not only by iterations: one `pause` costs 5 ns on some CPUs and
// 36 ns on others, which made 2000 iterations anything from 10 to 72 µs.
inline constexpr int kDefaultSpin = 2000;
inline constexpr std::int64_t kSpinNs = 20000;

// Spin on ready() for at most `iterations` rounds, kSpinNs, or until the deadline,
// whichever ends first. True as soon as ready() holds.
template <typename Ready>
bool spin_until(Ready &&ready, const Deadline &deadline, int iterations = kDefaultSpin) {
    std::int64_t stop = 0;
    for (int i = 0; i < iterations; ++i) {
        if (ready()) return true;
        cpu_relax();
        if ((i & 31) == 31) {  // the clock costs ~20 ns: read it every 32 rounds
            const std::int64_t now = monotonic_ns();
            if (stop == 0) stop = now + kSpinNs < deadline.at_ns() ? now + kSpinNs : deadline.at_ns();
            if (now >= stop) return false;
        }
    }
    return false;
}

void waitpoint_init(WaitPoint &wp) noexcept;

// Wake up to n sleepers if any announced. Call after making the condition true; the
// seq_cst load pairs with the sleeper's seq_cst announce (a StoreLoad fence).
void waitpoint_wake_slow(WaitPoint &wp, int n) noexcept;
inline void waitpoint_wake(WaitPoint &wp, int n = 1) noexcept {
    if (SHMDS_LIKELY(wp.sleepers.load(std::memory_order_seq_cst) == 0)) return;
    waitpoint_wake_slow(wp, n);
}

// Remove registry entries whose owner died; returns how many were removed.
int waitpoint_repair(WaitPoint &wp) noexcept;

// How many sleepers are announced (registered plus unregistered).
std::uint32_t waitpoint_sleepers(const WaitPoint &wp) noexcept;

// RAII announcement of one sleeper.
class SleeperRegistration {
public:
    explicit SleeperRegistration(WaitPoint &wp) noexcept;
    ~SleeperRegistration();
    SleeperRegistration(const SleeperRegistration &) = delete;
    SleeperRegistration &operator=(const SleeperRegistration &) = delete;

private:
    WaitPoint &wp_;
    int slot_;  // -1: counted in the unregistered half
};

// Block until ready() holds (returns 0) or the deadline passes (-ETIMEDOUT).
// ready() must be cheap and side-effect free; it is evaluated after every wakeup.
template <typename Ready>
int waitpoint_wait(WaitPoint &wp, const Deadline &deadline, Ready &&ready,
                   int spin = kDefaultSpin) {
    if (spin_until(ready, deadline, spin)) return 0;
    for (;;) {
        if (ready()) return 0;
        if (deadline.expired()) return -ETIMEDOUT;
        SleeperRegistration announce(wp);
        std::uint32_t seq = wp.seq.load(std::memory_order_seq_cst);
        // Pairs with the waker's seq_cst state change + sleepers load: either the waker
        // sees our announcement, or we see its state change here. Only on the sleep path.
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (ready()) return 0;
        futex_wait(&wp.seq, seq, deadline);
    }
}

}  // namespace shmds::core
