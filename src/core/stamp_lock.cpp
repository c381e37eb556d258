#include "core/stamp_lock.hpp"

#include "core/failpoint.hpp"

#include "core/futex.hpp"
#include "core/owner.hpp"
#include "core/probe_wait.hpp"
#include "core/probe_throttle.hpp"

#include <cerrno>

namespace shmds::core {

namespace {

constexpr std::uint64_t kWaiters = kStampLockWaiters;

// A dead holder cannot wake anyone, so a sleeping waiter wakes on its own to check that
// the holder lives, on the schedule of core/probe_wait.hpp (after 1 ms, then every
// 8 ms). The check reads /proc, so it also catches a holder that is an unreaped zombie
// or whose thread id was recycled.

std::uint64_t holder_of(std::uint64_t word) noexcept { return word & ~kWaiters; }

// The futex word is the low half of the 64-bit lock word.
std::atomic<std::uint32_t> *futex_half(StampLock &word) noexcept {
    auto *halves = reinterpret_cast<std::atomic<std::uint32_t> *>(&word);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return halves + 1;
#else
    return halves;
#endif
}

// Poll with plain loads until the lock looks free, for at most `rounds` rounds: a CAS
// per round would pull the line away from the holder. `seen` is the last word read.
void poll_until_free(const StampLock &word, std::uint64_t &seen, int rounds) noexcept {
    for (int i = 0; i < rounds; ++i) {
        cpu_relax();
        seen = word.load(std::memory_order_relaxed);
        if (holder_of(seen) == 0) return;
    }
}

// Swap our stamp in for the dead holder's exact word, so that exactly one waiter
// becomes the heir. False, with `seen` the word found, when the word no longer names
// that holder (another waiter took over, or the word was freed): the caller starts over.
bool take_over(StampLock &word, std::uint64_t &seen, std::uint64_t me,
               std::uint64_t mark) noexcept {
    const std::uint64_t dead = holder_of(seen);
    for (;;) {
        if (word.compare_exchange_strong(seen, me | (seen & kWaiters) | mark,
                                         std::memory_order_acquire, std::memory_order_relaxed))
            return true;
        if (holder_of(seen) != dead) return false;
    }
}

}  // namespace

int stamp_lock_slow(StampLock &word, std::uint64_t seen, const Deadline &deadline,
                    int spin) noexcept {
    const std::uint64_t me = self_thread_stamp();
    // A thread that has slept cannot know whether other sleepers remain, so from then on
    // it takes the lock marked kWaiters and its unlock wakes the next one.
    std::uint64_t mark = 0;
    std::uint64_t watched = 0;  // the holder this call is waiting behind
    int probes = 0;             // liveness checks of `watched` so far
    bool spun = false;          // this call polled since it last slept
    for (;;) {
        const std::uint64_t holder = holder_of(seen);
        if (holder == 0) {
            if (word.compare_exchange_weak(seen, me | mark, std::memory_order_acquire,
                                           std::memory_order_relaxed))
                return kStampAcquired;
            continue;
        }
        if (SHMDS_UNLIKELY(holder == me)) return -EDEADLK;
        if (holder != watched) {
            watched = holder;
            probes = 0;
        }
        if (deadline.nowait()) {
            // A NOWAIT attempt never sleeps, so it asks at once: the quick question
            // (one system call) on every try, the full one (a /proc read, which sees an
            // unreaped zombie or a recycled id) at most once per interval per lock.
            if (thread_liveness(holder, /*quick=*/true) == Liveness::alive &&
                !(try_probe_due(&word) &&
                  thread_liveness(holder, /*quick=*/false) == Liveness::dead))
                return -EAGAIN;
            if (take_over(word, seen, me, mark)) return kStampTookOver;
            continue;
        }
        if (deadline.expired()) return -ETIMEDOUT;
        if (spin > 0 && !spun) {
            spun = true;
            poll_until_free(word, seen, spin);
            continue;  // free: take it; still held: re-check the holder, then sleep
        }
        if (!(seen & kWaiters)) {
            if (!word.compare_exchange_weak(seen, seen | kWaiters, std::memory_order_relaxed))
                continue;
            seen |= kWaiters;
        }
        const std::int64_t slice = probes == 0 ? kFirstProbeNs : kProbeIntervalNs;
        const int slept = futex_wait(futex_half(word), std::uint32_t(seen),
                                     deadline.capped_at(monotonic_ns() + slice));
        mark = kWaiters;
        spun = false;
        seen = word.load(std::memory_order_relaxed);
        if (slept == -ETIMEDOUT && holder_of(seen) == watched) {
            ++probes;
            if (thread_liveness(watched, /*quick=*/false) == Liveness::dead &&
                take_over(word, seen, me, mark))
                return kStampTookOver;
        }
    }
}

bool stamp_unlock_if_held_slow(StampLock &word, std::uint64_t seen) noexcept {
    // Ours with the waiters bit, or not ours. Only the holder frees the word, but
    // waiters may set their bit meanwhile, so the release is an exchange.
    if (holder_of(seen) != self_thread_stamp()) return false;
    stamp_unlock(word);
    return true;
}

void stamp_lock_wake_one(StampLock &word) noexcept {
    SHMDS_FAILPOINT("stamp_lock.unlock.unwoken");  // released, the sleeper not yet woken
    futex_wake(futex_half(word), 1);
}

}  // namespace shmds::core
