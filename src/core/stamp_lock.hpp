// The one lock protocol of the library, behind the user-facing mutex (sync/owned_mutex)
// and every internal lock (core/robust_mutex).
//
// One 64-bit lock word holds the whole truth: 0 when free, otherwise the holder's thread
// stamp (core/thread_id.hpp: thread id in the low half, the low 32 bits of the thread's
// start time in the high half) plus kStampLockWaiters, a bit of the low half that says a
// waiter may be asleep. The low half is the futex word. Taking the lock is one CAS from 0
// to the caller's stamp, so there is no moment at which the lock is held and its owner
// unrecorded, and releasing it is one exchange. That is a bare futex mutex's fast path:
// unlike a robust pthread mutex, nothing is linked into a per-thread robust list.
//
// A dead holder is found by its waiters instead of the kernel: a sleeping waiter wakes
// on its own after 1 ms, then every 8 ms, and checks that the holder's thread lives
// (gone, an unreaped zombie, or a recycled thread id all count as dead). A NOWAIT
// attempt, which never sleeps, asks at once whether the holder's thread still exists
// (one system call). The first waiter to see the holder dead swaps its own stamp in with
// a CAS from the exact dead word, so two waiters can never both take over. Because the
// word is checked against the living rather than trusted, a word scribbled by a peer to
// name a thread that does not exist is taken over like a dead holder's; one that names
// a live thread is waited for, so only deadlines bound the wait.
//
// Core only reports what happened; the caller owns error sentences, recovery counts and
// what "took over" means for the state the lock protects.
#pragma once

#include "core/deadline.hpp"
#include "core/platform.hpp"
#include "core/thread_id.hpp"

#include <atomic>
#include <cstdint>

namespace shmds::core {

// Lives in shared memory; 8 bytes, no other state.
using StampLock = std::atomic<std::uint64_t>;
static_assert(StampLock::is_always_lock_free);
static_assert(sizeof(StampLock) == 8);

// In the low (futex) half, above any thread id (Linux thread ids fit in 30 bits).
inline constexpr std::uint64_t kStampLockWaiters = 0x80000000u;

// Outcomes of stamp_lock() besides -EAGAIN (NOWAIT and held by a live thread),
// -ETIMEDOUT and -EDEADLK (the word names the calling thread).
inline constexpr int kStampAcquired = 0;
// Acquired by taking over from a holder that died: what it protected may be half-changed.
inline constexpr int kStampTookOver = 1;

// Initialise in freshly created shared memory.
inline void stamp_lock_init(StampLock &word) noexcept {
    word.store(0, std::memory_order_relaxed);
}

// Everything but an uncontended acquisition (out of line). `spin`: how many rounds to
// poll the word with plain loads before each sleep (0: sleep at once).
int stamp_lock_slow(StampLock &word, std::uint64_t seen, const Deadline &deadline,
                    int spin) noexcept;

// The uncontended acquisition alone: one CAS from free to the caller's stamp, no clock
// read, no deadline. False, with `seen` the word found, when it did not take the lock:
// hand `seen` to stamp_lock_slow().
inline bool stamp_try_lock_fast(StampLock &word, std::uint64_t &seen) noexcept {
    seen = 0;
    return word.compare_exchange_strong(seen, self_thread_stamp(), std::memory_order_acquire,
                                        std::memory_order_relaxed);
}

// A fast path's lock: the uncontended CAS, retried while a live peer holds the word for
// the few dozen instructions of its own fast path (a process on another CPU pushing or
// popping). Polls less often the longer the word stays held, about 630 pauses in all:
// each poll pulls the lock's line away from the holder, whose next store to that line
// (its commit, its counters) then waits for it to come back, so polling every pause
// made the holder's critical section pay a cross-CPU transfer per store; a peer running
// call after call now keeps its lines. False when the word stayed held: a dead or
// preempted holder is the checked path's business (stamp_lock sleeps and takes over).
inline bool stamp_try_lock_polled(StampLock &word) noexcept {
    constexpr int kPolls = 12;
    std::uint64_t seen;
    if (SHMDS_LIKELY(stamp_try_lock_fast(word, seen))) return true;
    PollBackoff backoff;
    for (int polls = 0; polls < kPolls; ++polls) {
        backoff.pause();
        if (word.load(std::memory_order_relaxed) != 0) continue;
        if (stamp_try_lock_fast(word, seen)) return true;
    }
    return false;
}

inline int stamp_lock(StampLock &word, const Deadline &deadline, int spin) noexcept {
    std::uint64_t seen;
    if (SHMDS_LIKELY(stamp_try_lock_fast(word, seen))) return kStampAcquired;
    return stamp_lock_slow(word, seen, deadline, spin);
}

// Whether the calling thread holds it.
inline bool stamp_lock_held_by_caller(const StampLock &word) noexcept {
    return (word.load(std::memory_order_relaxed) & ~kStampLockWaiters) == self_thread_stamp();
}

void stamp_lock_wake_one(StampLock &word) noexcept;

// Release a lock the calling thread holds (callers that must refuse others check
// stamp_lock_held_by_caller() first). Never blocks.
inline void stamp_unlock(StampLock &word) noexcept {
    if (SHMDS_UNLIKELY(word.exchange(0, std::memory_order_release) & kStampLockWaiters))
        stamp_lock_wake_one(word);
}

// Release without a locked instruction: a plain store when the word carries no waiters
// bit. A locked unlock waits until every store of the critical section owns its line,
// which was half the cost of a log append. Two prices, both for internal locks only
// (core/robust_mutex.hpp, RobustLock's Release::plain):
//  - A waiter that sets its bit between our load and our store has it overwritten and
//    is not woken. It sleeps at most one probe slice (core/probe_wait.hpp: 1 ms for a
//    waiter's first sleep, which is when it sets the bit), then finds the word free and
//    takes it: latency, never a wedge. A waiter that slept takes the lock marked, so
//    its own unlock exchanges and wakes the next one as stamp_unlock does.
//  - The unlock is no StoreLoad fence, so a wake check after it may read a sleeper
//    count from before the section's stores are visible. Sleepers of such a structure
//    pass through the lock after announcing (core/waitpoint.hpp, LockPassage) instead.
// The user mutex keeps the exchange: its waiters are owed their wake at once.
inline void stamp_unlock_lazy(StampLock &word) noexcept {
    if (SHMDS_UNLIKELY(word.load(std::memory_order_relaxed) & kStampLockWaiters)) {
        stamp_unlock(word);
        return;
    }
    word.store(0, std::memory_order_release);
}

// The rest of an unlock that tried one CAS from exactly the caller's stamp to 0 and
// found `seen`: release it (waking a waiter) if the caller holds it, and say so; false,
// leaving it alone, if the caller does not hold it.
bool stamp_unlock_if_held_slow(StampLock &word, std::uint64_t seen) noexcept;

}  // namespace shmds::core
