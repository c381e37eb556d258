// The crash-recoverable lock behind every locked structure: a process-shared robust
// pthread mutex. When its holder dies, the kernel walks the dead thread's robust list
// at exit and the next locker gets EOWNERDEAD at once (no polling, no PID probing, safe
// against PID reuse and zombies, since the kernel acts before the zombie exists).
//
// Structures pass a repair function that restores their invariants; lock() runs it
// with the lock held, marks the mutex consistent and counts the recovery, so a dead
// holder never poisons the structure.
#pragma once

#include "core/deadline.hpp"

#include <atomic>
#include <cstdint>
#include <pthread.h>

namespace shmds::core {

struct RobustMutex {
    pthread_mutex_t mutex;
};

// Initialise in freshly created shared memory (before the segment is published).
int robust_mutex_init(RobustMutex &m) noexcept;

// The two layers every process-shared robust pthread mutex of the library goes through,
// whatever its type (PTHREAD_MUTEX_NORMAL or _ERRORCHECK):
//  - init: process-shared, robust, of that type; 0 or -errno.
//  - lock: refuses a mutex whose type word in shared memory differs from what init
//    wrote (EUCLEAN), polls the lock word up to `spin` rounds (0 = go straight to the
//    kernel, best for short user critical sections), then waits per the deadline (with
//    the TSan annotations pthread_mutex_clocklock needs). Returns 0, EOWNERDEAD, EBUSY
//    (a NOWAIT deadline and the lock is taken), ETIMEDOUT, EDEADLK, or EUCLEAN.
int robust_pthread_init(pthread_mutex_t *m, int type) noexcept;
int robust_pthread_lock(pthread_mutex_t *m, int type, const Deadline &deadline,
                        int spin = 0) noexcept;

// damaged: not acquired because the lock itself is damaged (its type word is not what
// robust_mutex_init() wrote); the SHMDS_ECORRUPT sentence is set, and callers return
// SHMDS_ECORRUPT rather than report a lock that was merely busy.
enum class LockResult { acquired, recovered, timed_out, damaged };

using RepairFn = void (*)(void *context) noexcept;

// Acquire, running repair(context) if the previous holder died. recoveries (if not null)
// is incremented for every takeover. Returns recovered instead of acquired when a
// repair ran. A short trylock spin precedes the kernel wait.
LockResult robust_mutex_lock(RobustMutex &m, const Deadline &deadline, RepairFn repair,
                             void *context, std::atomic<std::uint64_t> *recoveries) noexcept;

void robust_mutex_unlock(RobustMutex &m) noexcept;

// Scoped holder for engines: unlocks on every path out of a critical section.
class RobustLock {
public:
    RobustLock(RobustMutex &m, const Deadline &deadline, RepairFn repair, void *context,
               std::atomic<std::uint64_t> *recoveries) noexcept
        : m_(m), result_(robust_mutex_lock(m, deadline, repair, context, recoveries)) {}
    ~RobustLock() {
        if (owns()) robust_mutex_unlock(m_);
    }
    RobustLock(const RobustLock &) = delete;
    RobustLock &operator=(const RobustLock &) = delete;

    bool owns() const noexcept {
        return result_ == LockResult::acquired || result_ == LockResult::recovered;
    }
    LockResult result() const noexcept { return result_; }

private:
    RobustMutex &m_;
    LockResult result_;
};

}  // namespace shmds::core
