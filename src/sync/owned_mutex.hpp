// The application-facing crash-safe mutex shared by the mutex and the condvar: a
// process-shared, robust, error-checking pthread mutex plus an "inconsistent" flag.
//
// The kernel releases the lock of a dying thread at once (robust futex list, also for
// an unreaped zombie), and the next locker gets EOWNERDEAD. pthread would poison the
// mutex for good if the application unlocked without pthread_mutex_consistent(); we
// instead make the pthread mutex consistent immediately and keep our own flag, which
// only shmds_*_consistent() clears. So an application that unlocks without repairing
// hands SHMDS_EOWNERDEAD to the next locker again: never poisoned, never silent.
#pragma once

#include "core/deadline.hpp"
#include "core/failpoint.hpp"
#include "core/platform.hpp"
#include "core/robust_mutex.hpp"

#include <atomic>
#include <cstdint>
#include <pthread.h>

namespace shmds::sync {

struct OwnedMutex {
    pthread_mutex_t mutex;
    std::atomic<std::uint32_t> inconsistent;  // written only by the holder
    std::uint32_t reserved_;
};

// Initialise in freshly created shared memory. 0 or -errno.
int owned_mutex_init(OwnedMutex &m) noexcept;

// 0; SHMDS_EOWNERDEAD (held; a previous owner died and nobody marked it consistent
// since); -EAGAIN (NOWAIT and held); -ETIMEDOUT; -EDEADLK (the calling thread holds it).
// Every takeover of a dead owner adds one to *recoveries. Sets the error sentence.
// Inline, with every other outcome out of line, because an uncontended lock+unlock is
// only a few atomic operations: each extra call frame on the way to glibc was a
// measurable share of it (bench: mutex_uncontended).
int owned_mutex_lock_outcome(OwnedMutex &m, int pthread_result,
                             std::atomic<std::uint64_t> &recoveries, const char *what) noexcept;
inline int owned_mutex_lock(OwnedMutex &m, const core::Deadline &deadline,
                            std::atomic<std::uint64_t> &recoveries, const char *what) noexcept {
    const int r = core::robust_pthread_lock(&m.mutex, PTHREAD_MUTEX_ERRORCHECK, deadline);
    if (SHMDS_LIKELY(r == 0)) {
        SHMDS_FAILPOINT("owned_mutex.lock.acquired");
        if (SHMDS_LIKELY(m.inconsistent.load(std::memory_order_relaxed) == 0)) return 0;
    }
    return owned_mutex_lock_outcome(m, r, recoveries, what);
}

// 0 or -EPERM (the calling thread does not hold it).
int owned_mutex_unlock_refused(const char *what) noexcept;
inline int owned_mutex_unlock(OwnedMutex &m, const char *what) noexcept {
    SHMDS_FAILPOINT("owned_mutex.unlock.before");
    if (SHMDS_LIKELY(pthread_mutex_unlock(&m.mutex) == 0)) return 0;
    return owned_mutex_unlock_refused(what);
}

// Mark the state repaired. 0; -EPERM (not held by the caller); -EINVAL (not marked
// inconsistent).
int owned_mutex_consistent(OwnedMutex &m, const char *what) noexcept;

// Whether the calling thread holds it (a trylock that the error check answers).
bool owned_mutex_held_by_caller(OwnedMutex &m) noexcept;

}  // namespace shmds::sync
