#include "sync/owned_mutex.hpp"

#include "core/error.hpp"
#include "core/robust_mutex.hpp"
#include "core/failpoint.hpp"
#include "core/thread_id.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <linux/futex.h>

namespace shmds::sync {

int owned_mutex_init(OwnedMutex &m) noexcept {
    // Error-checking, so unlock by a non-owner and relocking are refused, not undefined.
    int r = core::robust_pthread_init(&m.mutex, PTHREAD_MUTEX_ERRORCHECK);
    m.inconsistent.store(0, std::memory_order_relaxed);
    if (r) return core::fail(r, "robust mutex initialisation failed: {}", std::strerror(-r));
    return 0;
}

int owned_mutex_lock_outcome(OwnedMutex &m, int r, std::atomic<std::uint64_t> &recoveries,
                             const char *what) noexcept {
    if (r == 0)  // acquired, still marked inconsistent
        return core::fail(SHMDS_EOWNERDEAD,
                          "{} acquired; a previous owner died holding it and its state was not "
                          "marked consistent since",
                          what);
    switch (r) {
        case EOWNERDEAD:
            // Flag first: dying between the two steps leaves the pthread mutex
            // owner-dead again, so the next locker comes through here once more.
            m.inconsistent.store(1, std::memory_order_relaxed);
            SHMDS_FAILPOINT("owned_mutex.recover.flagged");
            pthread_mutex_consistent(&m.mutex);
            recoveries.fetch_add(1, std::memory_order_relaxed);
            return core::fail(SHMDS_EOWNERDEAD, "{} acquired; its previous owner died holding it",
                              what);
        case EBUSY:
            return core::fail_static(-EAGAIN, "the lock is held by another thread");
        case ETIMEDOUT:
            return core::fail_static(-ETIMEDOUT, "the lock stayed held until the deadline");
        case EUCLEAN:
            return core::fail(SHMDS_ECORRUPT, "{} is damaged (unknown mutex type); not using it",
                              what);
        case EDEADLK:
            return core::fail(-EDEADLK, "{} is already held by the calling thread", what);
        default:
            // ENOTRECOVERABLE cannot happen (we always mark it consistent at once).
            return core::fail(-r, "{}: pthread_mutex lock failed: {}", what, std::strerror(r));
    }
}

int owned_mutex_unlock_refused(const char *what) noexcept {
    return core::fail(-EPERM, "{} is not held by the calling thread", what);
}

bool owned_mutex_held_by_caller(OwnedMutex &m) noexcept {
    // A robust mutex's lock word follows the kernel's robust-futex ABI: the owner's
    // thread id in FUTEX_TID_MASK. Reading it asks "is it me?" without side effects.
    const unsigned word = __atomic_load_n(
        reinterpret_cast<unsigned *>(&m.mutex.__data.__lock), __ATOMIC_RELAXED);
    return (word & FUTEX_TID_MASK) == core::self_tid();
}

int owned_mutex_consistent(OwnedMutex &m, const char *what) noexcept {
    if (!owned_mutex_held_by_caller(m))
        return core::fail(-EPERM, "{}: only the holder may mark it consistent", what);
    if (m.inconsistent.load(std::memory_order_relaxed) == 0)
        return core::fail(-EINVAL, "{} is not marked inconsistent", what);
    m.inconsistent.store(0, std::memory_order_relaxed);
    return 0;
}

}  // namespace shmds::sync
