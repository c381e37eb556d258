#include "core/robust_mutex.hpp"

#include "core/platform.hpp"

#include <cerrno>
#include <ctime>

namespace shmds::core {

int robust_mutex_init(RobustMutex &m) noexcept {
    pthread_mutexattr_t attr;
    int r = pthread_mutexattr_init(&attr);
    if (r) return -r;
    r = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (!r) r = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    if (!r) r = pthread_mutex_init(&m.mutex, &attr);
    pthread_mutexattr_destroy(&attr);
    return -r;
}

namespace {
constexpr int kTrylockSpins = 64;

int lock_raw(pthread_mutex_t *m, const Deadline &deadline) noexcept {
    int r = pthread_mutex_trylock(m);
    if (r != EBUSY) return r;
    for (int i = 0; i < kTrylockSpins; ++i) {
        cpu_relax();
        r = pthread_mutex_trylock(m);
        if (r != EBUSY) return r;
    }
    if (deadline.nowait()) return ETIMEDOUT;
    if (deadline.forever()) return pthread_mutex_lock(m);
    timespec abs = deadline.abs_timespec();
    return pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &abs);
}
}  // namespace

LockResult robust_mutex_lock(RobustMutex &m, const Deadline &deadline, RepairFn repair,
                             void *context, std::atomic<std::uint64_t> *recoveries) noexcept {
    int r = lock_raw(&m.mutex, deadline);
    if (r == 0) return LockResult::acquired;
    if (r == EOWNERDEAD) {
        if (repair) repair(context);
        pthread_mutex_consistent(&m.mutex);
        if (recoveries) recoveries->fetch_add(1, std::memory_order_relaxed);
        return LockResult::recovered;
    }
    // ETIMEDOUT, or ENOTRECOVERABLE which cannot happen since we always mark the mutex
    // consistent before releasing it; report both as "not acquired".
    return LockResult::timed_out;
}

void robust_mutex_unlock(RobustMutex &m) noexcept { pthread_mutex_unlock(&m.mutex); }

}  // namespace shmds::core
