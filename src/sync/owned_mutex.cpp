#include "sync/owned_mutex.hpp"

#include "core/error.hpp"

#include <cerrno>

namespace shmds::sync {

void owned_mutex_init(OwnedMutex &m) noexcept {
    core::stamp_lock_init(m.word);
    m.inconsistent.store(0, std::memory_order_relaxed);
    m.reserved_ = 0;
}

int owned_mutex_inconsistent_outcome(const char *what) noexcept {
    return core::fail(SHMDS_EOWNERDEAD,
                      "{} acquired; a previous owner died holding it and its state was not "
                      "marked consistent since",
                      what);
}

int owned_mutex_lock_outcome(OwnedMutex &m, int stamp_result,
                             std::atomic<std::uint64_t> &recoveries, const char *what) noexcept {
    switch (stamp_result) {
    case core::kStampTookOver:
        // Dying from here on leaves our own stamp in the word: the next waiter takes
        // over from us and flags the state again.
        m.inconsistent.store(1, std::memory_order_relaxed);
        SHMDS_FAILPOINT("owned_mutex.recover.flagged");
        recoveries.fetch_add(1, std::memory_order_relaxed);
        return core::fail(SHMDS_EOWNERDEAD, "{} acquired; its previous owner died holding it",
                          what);
    case -EDEADLK:
        return core::fail(-EDEADLK, "{} is already held by the calling thread", what);
    case -EAGAIN:
        return core::fail_static(-EAGAIN, "the lock is held by another thread");
    default:  // -ETIMEDOUT, the only outcome left
        return core::fail_static(-ETIMEDOUT, "the lock stayed held until the deadline");
    }
}

int owned_mutex_lock_slow(OwnedMutex &m, std::uint64_t seen, const core::Deadline &deadline,
                          std::atomic<std::uint64_t> &recoveries, const char *what) noexcept {
    // Polled with backoff first (owned_mutex.hpp says why); a try_lock (NOWAIT) answers
    // at once.
    if (!deadline.nowait() && core::stamp_try_lock_polled(m.word))
        return owned_mutex_acquired(m, what);
    seen = m.word.load(std::memory_order_relaxed);
    const int r = core::stamp_lock_slow(m.word, seen, deadline, /*spin=*/0);
    if (r == core::kStampAcquired) return owned_mutex_acquired(m, what);
    return owned_mutex_lock_outcome(m, r, recoveries, what);
}

int owned_mutex_lock_slow_within(OwnedMutex &m, std::uint64_t seen, std::int64_t timeout_ns,
                                 std::atomic<std::uint64_t> &recoveries,
                                 const char *what) noexcept {
    return owned_mutex_lock_slow(m, seen, core::Deadline::from_timeout(timeout_ns), recoveries,
                                 what);
}

int owned_mutex_unlock_slow(OwnedMutex &m, std::uint64_t seen, const char *what) noexcept {
    if (core::stamp_unlock_if_held_slow(m.word, seen)) return 0;
    return owned_mutex_unlock_refused(what);
}

int owned_mutex_unlock_refused(const char *what) noexcept {
    return core::fail(-EPERM, "{} is not held by the calling thread", what);
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
