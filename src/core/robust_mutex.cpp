#include "core/robust_mutex.hpp"

#include "core/error.hpp"
#include "core/platform.hpp"

#include <cerrno>
#include <ctime>

#if defined(__SANITIZE_THREAD__)
#define SHMDS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SHMDS_TSAN 1
#endif
#endif
#if SHMDS_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace shmds::core {

int robust_pthread_init(pthread_mutex_t *m, int type) noexcept {
    pthread_mutexattr_t attr;
    int r = pthread_mutexattr_init(&attr);
    if (r) return -r;
    r = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (!r) r = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    if (!r) r = pthread_mutexattr_settype(&attr, type);
    if (!r) r = pthread_mutex_init(m, &attr);
    pthread_mutexattr_destroy(&attr);
    return -r;
}

int robust_mutex_init(RobustMutex &m) noexcept {
    return robust_pthread_init(&m.mutex, PTHREAD_MUTEX_NORMAL);
}

namespace {
// Internal locks guard copies of whole messages: a short spin on the lock word beats a
// kernel sleep and wake there (bytes queue 1:1 across processes: 2.1x).
constexpr int kInternalLockSpin = 128;

// glibc takes a mutex's behaviour from its type word, which lives in shared memory with
// the rest of the mutex. A damaged type word steers glibc into paths that kill the
// caller (the lock-elision bits run XBEGIN: SIGILL on a CPU without TSX; found by
// fuzz/fuzz_open.cpp), so only a lock of the type robust_mutex_init() writes is used.
// (A live peer rewriting it between this check and the lock is beyond what a pthread
// mutex in shared memory can defend against.)
#if defined(__GLIBC__)
int probe_kind(int type) noexcept {
    pthread_mutex_t probe;
    const int kind = robust_pthread_init(&probe, type) == 0 ? probe.__data.__kind : -1;
    pthread_mutex_destroy(&probe);
    return kind;
}
// What init writes for each type, learnt once when the library loads, so every lock
// compares against plain constants instead of passing function-local static guards.
const int g_normal_kind = probe_kind(PTHREAD_MUTEX_NORMAL);
const int g_errorcheck_kind = probe_kind(PTHREAD_MUTEX_ERRORCHECK);
#endif

// A robust mutex's lock word follows the kernel's robust-futex ABI: 0 when free, the
// owner's TID (plus flag bits) when held.
bool lock_word_looks_free(const pthread_mutex_t &m) noexcept {
#if defined(__GLIBC__)
    return __atomic_load_n(&m.__data.__lock, __ATOMIC_RELAXED) == 0;
#else
    (void)m;
    return true;
#endif
}

bool type_intact(const pthread_mutex_t &m, int type) noexcept {
#if defined(__GLIBC__)
    int expected = type == PTHREAD_MUTEX_ERRORCHECK ? g_errorcheck_kind : g_normal_kind;
    // Still zero only if another library's static initialiser locks before ours ran
    // (a robust kind is never zero): probe on the spot.
    if (SHMDS_UNLIKELY(expected == 0)) expected = probe_kind(type);
    return __atomic_load_n(&m.__data.__kind, __ATOMIC_RELAXED) == expected;
#else
    (void)m;
    (void)type;
    return true;
#endif
}

// ThreadSanitizer (GCC 12, LLVM 14) intercepts pthread_mutex_lock and _trylock but not
// _clocklock: it would miss the acquisition and report every critical section entered
// this way as a race. Tell it by hand.
int clocklock(pthread_mutex_t *m, const timespec *abs) noexcept {
#if SHMDS_TSAN
    __tsan_mutex_pre_lock(m, 0);
    const int r = pthread_mutex_clocklock(m, CLOCK_MONOTONIC, abs);
    __tsan_mutex_post_lock(m, r == 0 || r == EOWNERDEAD ? 0 : __tsan_mutex_try_lock_failed, 0);
    return r;
#else
    return pthread_mutex_clocklock(m, CLOCK_MONOTONIC, abs);
#endif
}

}  // namespace

int robust_pthread_lock(pthread_mutex_t *m, int type, const Deadline &deadline,
                        int spin) noexcept {
    if (SHMDS_UNLIKELY(!type_intact(*m, type))) return EUCLEAN;
    if (spin > 0 && !deadline.nowait()) {
        // Poll with plain loads and try only when the lock looks free: a trylock is a
        // locked CAS that pulls the line from the holder (spinning on trylock made a
        // 2-process counter 2.8x slower than a plain robust lock).
        for (int i = 0; i < spin; ++i) {
            if (lock_word_looks_free(*m)) {
                int r = pthread_mutex_trylock(m);
                if (r != EBUSY) return r;
            }
            cpu_relax();
        }
    }
    if (deadline.forever()) return pthread_mutex_lock(m);
    int r = pthread_mutex_trylock(m);
    if (r != EBUSY) return r;
    if (deadline.nowait()) return EBUSY;
    timespec abs = deadline.abs_timespec();
    return clocklock(m, &abs);
}

LockResult robust_mutex_lock(RobustMutex &m, const Deadline &deadline, RepairFn repair,
                             void *context, std::atomic<std::uint64_t> *recoveries) noexcept {
    int r = robust_pthread_lock(&m.mutex, PTHREAD_MUTEX_NORMAL, deadline, kInternalLockSpin);
    if (SHMDS_LIKELY(r == 0)) return LockResult::acquired;
    if (r == EUCLEAN) {
        fail(SHMDS_ECORRUPT, "a lock in shared memory is damaged (unknown type); not using it");
        return LockResult::damaged;
    }
    if (r == EOWNERDEAD) {
        if (repair) repair(context);
        pthread_mutex_consistent(&m.mutex);
        if (recoveries) recoveries->fetch_add(1, std::memory_order_relaxed);
        return LockResult::recovered;
    }
    // EBUSY/ETIMEDOUT, or ENOTRECOVERABLE which cannot happen since we always mark the
    // mutex consistent before releasing it; report them as "not acquired".
    return LockResult::timed_out;
}

void robust_mutex_unlock(RobustMutex &m) noexcept { pthread_mutex_unlock(&m.mutex); }

}  // namespace shmds::core
