#include "core/robust_mutex.hpp"

#include "core/error.hpp"
#include "core/platform.hpp"

#include <cerrno>

namespace shmds::core {

namespace {
// Internal locks guard copies of whole messages: a short spin on the lock word beats a
// kernel sleep and wake there (bytes queue 1:1 across processes: 2.1x).
constexpr int kInternalLockSpin = 128;
}  // namespace

LockResult robust_mutex_lock(RobustMutex &m, const Deadline &deadline, RepairFn repair,
                             void *context, std::atomic<std::uint64_t> *recoveries) noexcept {
    // A live peer holds an internal lock for a few hundred nanoseconds at a time, call
    // after call: polled with backoff, the lock's line stays with it through its
    // critical section and the waiter takes the lock between two of its calls. Straight
    // into the checked path, the eager polls pulled that line away on every pause and
    // the waiter soon slept: a log appended from two processes ran 4.6M appends/s, polled
    // first 15-19M. A word still held after the polls (a preempted or dead holder, a
    // long critical section) goes the checked way: sleep, liveness probes, takeover.
    if (SHMDS_LIKELY(stamp_try_lock_polled(m.word))) return LockResult::acquired;
    const int r = stamp_lock_slow(m.word, m.word.load(std::memory_order_relaxed), deadline,
                                  kInternalLockSpin);
    if (SHMDS_LIKELY(r == kStampAcquired)) return LockResult::acquired;
    if (r == kStampTookOver) {
        if (repair) repair(context);
        if (recoveries) recoveries->fetch_add(1, std::memory_order_relaxed);
        return LockResult::recovered;
    }
    if (r == -EDEADLK)
        fail_static(SHMDS_ECORRUPT,
                    "an internal lock names the calling thread as its holder, which it is "
                    "not: the lock word in shared memory is damaged");
    return LockResult::timed_out;
}

int lock_wait_timed_out(const Deadline &dl, const char *noun) noexcept {
    return fail(dl.nowait() ? -EAGAIN : -ETIMEDOUT, "the {} lock stayed held by a live process",
                noun);
}

}  // namespace shmds::core
