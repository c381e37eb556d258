// The application-facing crash-safe mutex shared by the mutex and the condvar: the
// library's lock protocol (core/stamp_lock.hpp: one 64-bit word, 0 or the holder's
// thread stamp plus a waiters bit; one CAS to lock, one exchange to unlock; a dead
// holder found by its waiters' liveness probes and taken over by one CAS) plus an
// "inconsistent" flag.
//
// After a takeover the flag stays set, and every locker gets SHMDS_EOWNERDEAD, until a
// holder calls consistent(): never poisoned, never silent.
#pragma once

#include "core/deadline.hpp"
#include "core/failpoint.hpp"
#include "core/platform.hpp"
#include "core/stamp_lock.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace shmds::sync {

struct OwnedMutex {
    core::StampLock word;                     // 0, or holder stamp | kOwnedMutexWaiters
    std::atomic<std::uint32_t> inconsistent;  // written only by the holder
    std::uint32_t reserved_;
};
static_assert(offsetof(OwnedMutex, word) == 0 && offsetof(OwnedMutex, inconsistent) == 8);

inline constexpr std::uint64_t kOwnedMutexWaiters = core::kStampLockWaiters;

// Initialise in freshly created shared memory.
void owned_mutex_init(OwnedMutex &m) noexcept;

// Every outcome of a lock attempt but a clean acquisition (out of line).
int owned_mutex_lock_outcome(OwnedMutex &m, int stamp_result,
                             std::atomic<std::uint64_t> &recoveries, const char *what) noexcept;
int owned_mutex_inconsistent_outcome(const char *what) noexcept;
// A lock attempt whose first CAS found `seen` (out of line; the second form makes the
// deadline from a validated timeout_ns, so the fast path reaches it by a tail call).
int owned_mutex_lock_slow(OwnedMutex &m, std::uint64_t seen, const core::Deadline &deadline,
                          std::atomic<std::uint64_t> &recoveries, const char *what) noexcept;
int owned_mutex_lock_slow_within(OwnedMutex &m, std::uint64_t seen, std::int64_t timeout_ns,
                                 std::atomic<std::uint64_t> &recoveries,
                                 const char *what) noexcept;

// The lock is ours: 0, or SHMDS_EOWNERDEAD while the state is marked inconsistent.
inline int owned_mutex_acquired(OwnedMutex &m, const char *what) noexcept {
    SHMDS_FAILPOINT("owned_mutex.lock.acquired");
    if (SHMDS_LIKELY(m.inconsistent.load(std::memory_order_relaxed) == 0)) return 0;
    return owned_mutex_inconsistent_outcome(what);
}

// 0; SHMDS_EOWNERDEAD (held; a previous owner died and nobody marked it consistent
// since); -EAGAIN (NOWAIT and held); -ETIMEDOUT; -EDEADLK (the calling thread holds it).
// Every takeover of a dead owner adds one to *recoveries. Sets the error sentence.
//
// A lock found held is polled with backoff (core::stamp_try_lock_polled: about 0.1 us
// between looks at first, 8 us in all) before the checked path, which sleeps at once
// (its spin is 0). Polling every pause, 30 to 300 rounds, cost a 2-process counter 15-60%
// of its throughput: each poll pulled the line away from a holder about to take the
// lock again. Spaced out, the holder keeps its line through its critical section and
// the waiter takes the lock between two of its calls: the counter went from 10M to
// 24-26M increments/s (Intel, 2 vCPUs), 0.8x to 1.8x the bare futex mutex.
inline int owned_mutex_lock(OwnedMutex &m, const core::Deadline &deadline,
                            std::atomic<std::uint64_t> &recoveries, const char *what) noexcept {
    std::uint64_t seen;
    if (SHMDS_LIKELY(core::stamp_try_lock_fast(m.word, seen))) return owned_mutex_acquired(m, what);
    return owned_mutex_lock_slow(m, seen, deadline, recoveries, what);
}

// The same for a caller's timeout_ns (validated: -1, 0 or positive). The deadline, and
// with it the clock read a finite timeout needs, is made only when the first CAS fails:
// an uncontended lock is that CAS and nothing else.
inline int owned_mutex_lock_within(OwnedMutex &m, std::int64_t timeout_ns,
                                   std::atomic<std::uint64_t> &recoveries,
                                   const char *what) noexcept {
    std::uint64_t seen;
    if (SHMDS_LIKELY(core::stamp_try_lock_fast(m.word, seen))) return owned_mutex_acquired(m, what);
    return owned_mutex_lock_slow_within(m, seen, timeout_ns, recoveries, what);
}

// 0 or -EPERM (the calling thread does not hold it). Never blocks.
int owned_mutex_unlock_refused(const char *what) noexcept;
// An unlock whose CAS found `seen`: waiters to wake, or not ours (out of line).
int owned_mutex_unlock_slow(OwnedMutex &m, std::uint64_t seen, const char *what) noexcept;
inline int owned_mutex_unlock(OwnedMutex &m, const char *what) noexcept {
    SHMDS_FAILPOINT("owned_mutex.unlock.before");
    // One CAS from exactly our stamp to free: the ownership check and the release in
    // one atomic step.
    std::uint64_t seen = core::self_thread_stamp();
    if (SHMDS_LIKELY(m.word.compare_exchange_strong(seen, 0, std::memory_order_release,
                                                    std::memory_order_relaxed)))
        return 0;
    return owned_mutex_unlock_slow(m, seen, what);
}

// Mark the state repaired. 0; -EPERM (not held by the caller); -EINVAL (not marked
// inconsistent).
int owned_mutex_consistent(OwnedMutex &m, const char *what) noexcept;

// Whether the calling thread holds it.
inline bool owned_mutex_held_by_caller(const OwnedMutex &m) noexcept {
    return core::stamp_lock_held_by_caller(m.word);
}

}  // namespace shmds::sync
