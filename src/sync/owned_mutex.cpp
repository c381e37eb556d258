#include "sync/owned_mutex.hpp"

#include "core/error.hpp"
#include "core/futex.hpp"
#include "core/owner.hpp"

#include <cerrno>

namespace shmds::sync {

namespace {

constexpr std::uint64_t kWaiters = kOwnedMutexWaiters;

// No spinning before sleeping: in a 2-process counter, polling the word for 30 to 300
// rounds before each sleep cost 15-60% of the throughput, because every poll pulls the
// line away from a holder that is about to take the lock again.
// A dead holder cannot wake anyone, so a sleeping waiter wakes on its own to check that
// the holder lives: first after kFirstProbeNs (a contended lock is normally handed over
// long before, so the check costs a live lock nothing), then every kProbeNs. The check
// reads /proc, so it also catches a holder that is an unreaped zombie or whose thread
// id was recycled. Those two bound recovery at about 11 ms, and cost a waiter on a lock
// held for long about 1.5 ms of CPU per second.
constexpr std::int64_t kFirstProbeNs = 1'000'000;
constexpr std::int64_t kProbeNs = 10'000'000;

std::uint64_t holder_of(std::uint64_t word) noexcept { return word & ~kWaiters; }

// The futex word is the low half of the 64-bit lock word.
std::atomic<std::uint32_t> *futex_half(std::atomic<std::uint64_t> &word) noexcept {
    auto *halves = reinterpret_cast<std::atomic<std::uint32_t> *>(&word);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return halves + 1;
#else
    return halves;
#endif
}

int acquired(OwnedMutex &m, const char *what) noexcept {
    SHMDS_FAILPOINT("owned_mutex.lock.acquired");
    if (m.inconsistent.load(std::memory_order_relaxed) == 0) return 0;
    return owned_mutex_inconsistent_outcome(what);
}

}  // namespace

void owned_mutex_init(OwnedMutex &m) noexcept {
    m.word.store(0, std::memory_order_relaxed);
    m.inconsistent.store(0, std::memory_order_relaxed);
    m.reserved_ = 0;
}

int owned_mutex_inconsistent_outcome(const char *what) noexcept {
    return core::fail(SHMDS_EOWNERDEAD,
                      "{} acquired; a previous owner died holding it and its state was not "
                      "marked consistent since",
                      what);
}

int owned_mutex_lock_slow(OwnedMutex &m, std::uint64_t seen, const core::Deadline &deadline,
                          std::atomic<std::uint64_t> &recoveries, const char *what) noexcept {
    const std::uint64_t me = core::self_thread_stamp();
    // A thread that has slept cannot know whether other sleepers remain, so from then on
    // it takes the lock marked kWaiters and its unlock wakes the next one.
    std::uint64_t mark = 0;
    std::uint64_t watched = 0;  // the holder this call is waiting behind
    int probes = 0;             // liveness checks of `watched` so far
    for (;;) {
        const std::uint64_t holder = holder_of(seen);
        if (holder == 0) {
            if (m.word.compare_exchange_weak(seen, me | mark, std::memory_order_acquire,
                                             std::memory_order_relaxed))
                return acquired(m, what);
            continue;
        }
        if (SHMDS_UNLIKELY(holder == me))
            return core::fail(-EDEADLK, "{} is already held by the calling thread", what);
        if (holder != watched) {
            watched = holder;
            probes = 0;
        }
        if (deadline.nowait()) {
            // try_lock never sleeps, so it asks at once, and only the quick question:
            // a try_lock that fails costs one system call, not a /proc read.
            if (core::thread_liveness(holder, /*quick=*/true) == core::Liveness::dead) break;
            return core::fail_static(-EAGAIN, "the lock is held by another thread");
        }
        if (deadline.expired())
            return core::fail_static(-ETIMEDOUT, "the lock stayed held until the deadline");
        if (!(seen & kWaiters)) {
            if (!m.word.compare_exchange_weak(seen, seen | kWaiters, std::memory_order_relaxed))
                continue;
            seen |= kWaiters;
        }
        const std::int64_t slice = probes == 0 ? kFirstProbeNs : kProbeNs;
        const int slept = core::futex_wait(futex_half(m.word), std::uint32_t(seen),
                                           deadline.capped_at(core::monotonic_ns() + slice));
        mark = kWaiters;
        seen = m.word.load(std::memory_order_relaxed);
        if (slept == -ETIMEDOUT && holder_of(seen) == watched) {
            ++probes;
            if (core::thread_liveness(watched, /*quick=*/false) == core::Liveness::dead) break;
        }
    }
    // The holder is dead. Swapping our stamp in for its exact word makes exactly one
    // waiter the heir; a loser sees the heir as the new holder and waits for it.
    for (;;) {
        const std::uint64_t dead = seen;
        if (m.word.compare_exchange_strong(seen, me | (dead & kWaiters) | mark,
                                           std::memory_order_acquire, std::memory_order_relaxed))
            break;
        if (holder_of(seen) != holder_of(dead))  // someone else took over, or it was freed
            return owned_mutex_lock_slow(m, seen, deadline, recoveries, what);
    }
    // Dying from here on leaves our own stamp in the word: the next waiter takes over
    // from us and flags the state again.
    m.inconsistent.store(1, std::memory_order_relaxed);
    SHMDS_FAILPOINT("owned_mutex.recover.flagged");
    recoveries.fetch_add(1, std::memory_order_relaxed);
    return core::fail(SHMDS_EOWNERDEAD, "{} acquired; its previous owner died holding it", what);
}

int owned_mutex_unlock_refused(const char *what) noexcept {
    return core::fail(-EPERM, "{} is not held by the calling thread", what);
}

void owned_mutex_wake_one(OwnedMutex &m) noexcept { core::futex_wake(futex_half(m.word), 1); }

int owned_mutex_consistent(OwnedMutex &m, const char *what) noexcept {
    if (!owned_mutex_held_by_caller(m))
        return core::fail(-EPERM, "{}: only the holder may mark it consistent", what);
    if (m.inconsistent.load(std::memory_order_relaxed) == 0)
        return core::fail(-EINVAL, "{} is not marked inconsistent", what);
    m.inconsistent.store(0, std::memory_order_relaxed);
    return 0;
}

}  // namespace shmds::sync
