// The application-facing crash-safe mutex shared by the mutex and the condvar.
//
// One 64-bit lock word holds the whole truth: 0 when free, otherwise the holder's thread
// stamp (core/thread_id.hpp: thread id in the low half, the low 32 bits of the thread's
// start time in the high half) plus kWaiters, a bit of the low half that says a waiter
// may be asleep. The low half is the futex word. Taking the lock is one CAS from 0 to
// the caller's stamp, so there is no moment at which the lock is held and its owner
// unrecorded, and releasing it is one exchange. That is a bare futex mutex's fast path:
// unlike a robust pthread mutex, nothing is linked into a per-thread robust list.
//
// A dead holder is found by its waiters instead of the kernel: a sleeping waiter wakes
// on its own after 1 ms, then every 10 ms, and checks that the holder's thread lives
// (gone, an unreaped zombie, or a recycled thread id all count as dead). try_lock,
// which never sleeps, asks at once whether the holder's thread still exists (one
// system call). The first waiter to see the holder dead swaps its own stamp in with a
// CAS from the dead word, so two waiters can never both take over.
//
// After a takeover the "inconsistent" flag stays set, and every locker gets
// SHMDS_EOWNERDEAD, until a holder calls consistent(): never poisoned, never silent.
#pragma once

#include "core/deadline.hpp"
#include "core/failpoint.hpp"
#include "core/platform.hpp"
#include "core/thread_id.hpp"

#include <atomic>
#include <cstdint>

namespace shmds::sync {

struct OwnedMutex {
    std::atomic<std::uint64_t> word;          // 0, or holder stamp | kOwnedMutexWaiters
    std::atomic<std::uint32_t> inconsistent;  // written only by the holder
    std::uint32_t reserved_;
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

// In the low (futex) half, above any thread id (Linux thread ids fit in 30 bits).
inline constexpr std::uint64_t kOwnedMutexWaiters = 0x80000000u;

// Initialise in freshly created shared memory.
void owned_mutex_init(OwnedMutex &m) noexcept;

// Everything but an uncontended acquisition of a consistent mutex (out of line).
int owned_mutex_lock_slow(OwnedMutex &m, std::uint64_t seen, const core::Deadline &deadline,
                          std::atomic<std::uint64_t> &recoveries, const char *what) noexcept;
int owned_mutex_inconsistent_outcome(const char *what) noexcept;

// 0; SHMDS_EOWNERDEAD (held; a previous owner died and nobody marked it consistent
// since); -EAGAIN (NOWAIT and held); -ETIMEDOUT; -EDEADLK (the calling thread holds it).
// Every takeover of a dead owner adds one to *recoveries. Sets the error sentence.
inline int owned_mutex_lock(OwnedMutex &m, const core::Deadline &deadline,
                            std::atomic<std::uint64_t> &recoveries, const char *what) noexcept {
    std::uint64_t seen = 0;
    if (SHMDS_LIKELY(m.word.compare_exchange_strong(seen, core::self_thread_stamp(),
                                                    std::memory_order_acquire,
                                                    std::memory_order_relaxed))) {
        SHMDS_FAILPOINT("owned_mutex.lock.acquired");
        if (SHMDS_LIKELY(m.inconsistent.load(std::memory_order_relaxed) == 0)) return 0;
        return owned_mutex_inconsistent_outcome(what);
    }
    return owned_mutex_lock_slow(m, seen, deadline, recoveries, what);
}

// 0 or -EPERM (the calling thread does not hold it). Never blocks.
int owned_mutex_unlock_refused(const char *what) noexcept;
void owned_mutex_wake_one(OwnedMutex &m) noexcept;
inline int owned_mutex_unlock(OwnedMutex &m, const char *what) noexcept {
    const std::uint64_t held = m.word.load(std::memory_order_relaxed);
    if (SHMDS_UNLIKELY((held & ~kOwnedMutexWaiters) != core::self_thread_stamp()))
        return owned_mutex_unlock_refused(what);
    SHMDS_FAILPOINT("owned_mutex.unlock.before");
    if (SHMDS_UNLIKELY(m.word.exchange(0, std::memory_order_release) & kOwnedMutexWaiters))
        owned_mutex_wake_one(m);
    return 0;
}

// Mark the state repaired. 0; -EPERM (not held by the caller); -EINVAL (not marked
// inconsistent).
int owned_mutex_consistent(OwnedMutex &m, const char *what) noexcept;

// Whether the calling thread holds it.
inline bool owned_mutex_held_by_caller(const OwnedMutex &m) noexcept {
    return (m.word.load(std::memory_order_relaxed) & ~kOwnedMutexWaiters) ==
           core::self_thread_stamp();
}

}  // namespace shmds::sync
