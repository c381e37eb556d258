// The six sync primitives under fuzzing. Each has one variant; a segment that opens is
// locked, waited on and released the ordinary ways, and every lock the harness gets is
// given back before the handle closes.
#include "exercise.hpp"

#include "core/header.hpp"
#include "sync/barrier.hpp"
#include "sync/semaphore.hpp"

#include <shmds/sync.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

namespace shmds_fuzz {

namespace {

constexpr std::uint64_t kControl = sizeof(shmds::core::SegmentHeader);
constexpr std::uint64_t kSemaphoreLock = kControl + offsetof(shmds::sync::SemaphoreControl, lock);
constexpr std::uint64_t kBarrierLock = kControl + offsetof(shmds::sync::BarrierControl, lock);

bool held(int r) { return r == 0 || r == SHMDS_EOWNERDEAD; }

// Check a lock attempt's result r; when it holds the lock, mark it consistent if a
// previous owner died, and unlock.
template <typename Consistent, typename Unlock>
void lock_cycle(int r, const char *call, std::initializer_list<int> allowed,
                Consistent &&consistent, Unlock &&unlock) {
    expect_code(r, allowed, call);
    if (!held(r)) return;
    if (r == SHMDS_EOWNERDEAD) expect_code(consistent(), {0}, "consistent after EOWNERDEAD");
    expect_code(unlock(), {0}, "unlock of a held lock");
}

void exercise_mutex(shmds_mutex_t *m) {
    auto consistent = [&] { return shmds_mutex_consistent(m); };
    auto unlock = [&] { return shmds_mutex_unlock(m); };
    lock_cycle(shmds_mutex_try_lock(m), "shmds_mutex_try_lock",
               {0, SHMDS_EOWNERDEAD, -EAGAIN, -EDEADLK}, consistent, unlock);
    lock_cycle(shmds_mutex_lock(m, kShortTimeoutNs), "shmds_mutex_lock",
               {0, SHMDS_EOWNERDEAD, -ETIMEDOUT, -EDEADLK}, consistent, unlock);
    // Not held, unless the lock word names this very thread: then these succeed.
    expect_code(shmds_mutex_consistent(m), {-EPERM, 0, -EINVAL},
                "shmds_mutex_consistent (not held)");
    expect_code(shmds_mutex_unlock(m), {-EPERM, 0}, "shmds_mutex_unlock (not held)");
    (void)shmds_mutex_recoveries(m);
}

void exercise_semaphore(shmds_semaphore_t *s, const InputSegment &in) {
    (void)shmds_semaphore_value(s);
    (void)shmds_semaphore_held(s);
    const std::uint32_t max = shmds_semaphore_max(s);
    std::uint32_t taken = 0;
    int r = shmds_semaphore_try_acquire(s);
    expect_code(r, {0, -EAGAIN, -EUSERS}, "shmds_semaphore_try_acquire");
    taken += r == 0;
    r = shmds_semaphore_try_acquire_n(s, 2);
    expect_code(r, {0, -EAGAIN, -EUSERS, -EINVAL}, "shmds_semaphore_try_acquire_n");
    if (r == -EINVAL && max >= 2) expect_code(r, {}, "shmds_semaphore_try_acquire_n (max >= 2)");
    taken += r == 0 ? 2 : 0;
    r = shmds_semaphore_acquire(s, kShortTimeoutNs);
    expect_code(r, {0, -ETIMEDOUT, -EUSERS}, "shmds_semaphore_acquire");
    taken += r == 0;
    if (!in.robust_lock_free(kSemaphoreLock)) return;
    std::uint32_t drained = 0;
    expect_code(shmds_semaphore_drain(s, &drained), {0, -EUSERS}, "shmds_semaphore_drain");
    if (taken + drained > 0)
        expect_code(shmds_semaphore_release(s, taken + drained), {0}, "shmds_semaphore_release");
    (void)shmds_semaphore_recoveries(s);
}

void exercise_barrier(shmds_barrier_t *b, const InputSegment &in) {
    (void)shmds_barrier_parties(b);
    (void)shmds_barrier_arrived(b);
    (void)shmds_barrier_generation(b);
    (void)shmds_barrier_is_broken(b);
    expect_code(shmds_barrier_wait(b, SHMDS_NOWAIT), {SHMDS_BARRIER_LEADER, -EAGAIN, -ECANCELED},
                "shmds_barrier_wait (NOWAIT)");
    // Arrives, and unless it completes the barrier, times out and breaks it.
    expect_code(shmds_barrier_wait(b, kShortTimeoutNs),
                {SHMDS_BARRIER_LEADER, 0, -ETIMEDOUT, -ECANCELED}, "shmds_barrier_wait");
    if (in.robust_lock_free(kBarrierLock))
        expect_code(shmds_barrier_reset(b), {0}, "shmds_barrier_reset");
    (void)shmds_barrier_recoveries(b);
}

void exercise_rwlock(shmds_rwlock_t *rw) {
    auto consistent = [&] { return shmds_rwlock_consistent(rw); };
    auto unlock = [&] { return shmds_rwlock_unlock(rw); };
    // Only a writer can mark the lock consistent; a reader that got EOWNERDEAD unlocks.
    auto reader_done = [&] { return 0; };
    (void)shmds_rwlock_readers(rw);
    (void)shmds_rwlock_is_write_locked(rw);
    lock_cycle(shmds_rwlock_try_rdlock(rw), "shmds_rwlock_try_rdlock",
               {0, SHMDS_EOWNERDEAD, -EAGAIN, -EUSERS}, reader_done, unlock);
    lock_cycle(shmds_rwlock_rdlock(rw, kShortTimeoutNs), "shmds_rwlock_rdlock",
               {0, SHMDS_EOWNERDEAD, -ETIMEDOUT, -EUSERS}, reader_done, unlock);
    lock_cycle(shmds_rwlock_wrlock(rw, kShortTimeoutNs), "shmds_rwlock_wrlock",
               {0, SHMDS_EOWNERDEAD, -ETIMEDOUT}, consistent, unlock);
    int r = shmds_rwlock_try_wrlock(rw);
    expect_code(r, {0, SHMDS_EOWNERDEAD, -EAGAIN}, "shmds_rwlock_try_wrlock");
    if (held(r)) {
        const int d = shmds_rwlock_downgrade(rw);
        expect_code(d, {0, -EUSERS}, "shmds_rwlock_downgrade");
        // Downgraded: one read lock to give back; refused: still the write lock.
        expect_code(shmds_rwlock_unlock(rw), {0}, "shmds_rwlock_unlock");
    }
    expect_code(shmds_rwlock_unlock(rw), {-EPERM, 0}, "shmds_rwlock_unlock (not held)");
    (void)shmds_rwlock_recoveries(rw);
}

void exercise_condvar(shmds_condvar_t *cv) {
    auto consistent = [&] { return shmds_condvar_consistent(cv); };
    auto unlock = [&] { return shmds_condvar_unlock(cv); };
    expect_code(shmds_condvar_signal(cv), {0}, "shmds_condvar_signal");
    lock_cycle(shmds_condvar_try_lock(cv), "shmds_condvar_try_lock",
               {0, SHMDS_EOWNERDEAD, -EAGAIN, -EDEADLK}, consistent, unlock);
    int r = shmds_condvar_lock(cv, kShortTimeoutNs);
    expect_code(r, {0, SHMDS_EOWNERDEAD, -ETIMEDOUT, -EDEADLK}, "shmds_condvar_lock");
    if (held(r)) {
        if (r == SHMDS_EOWNERDEAD) expect_code(consistent(), {0}, "shmds_condvar_consistent");
        // Relocks whatever happens while it waits.
        r = shmds_condvar_wait(cv, kShortTimeoutNs);
        expect_code(r, {0, -ETIMEDOUT, SHMDS_EOWNERDEAD}, "shmds_condvar_wait");
        if (r == SHMDS_EOWNERDEAD) expect_code(consistent(), {0}, "shmds_condvar_consistent");
        expect_code(unlock(), {0}, "shmds_condvar_unlock");
    }
    expect_code(shmds_condvar_broadcast(cv), {0}, "shmds_condvar_broadcast");
    (void)shmds_condvar_waiters(cv);
    (void)shmds_condvar_recoveries(cv);
}

void exercise_once(shmds_once_t *o) {
    (void)shmds_once_is_done(o);
    int r = shmds_once_enter(o, SHMDS_NOWAIT);
    expect_code(r, {0, 1, -EAGAIN, -EDEADLK}, "shmds_once_enter (NOWAIT)");
    if (r != 1) {
        r = shmds_once_enter(o, kShortTimeoutNs);
        expect_code(r, {0, 1, -ETIMEDOUT, -EDEADLK}, "shmds_once_enter");
    }
    if (r == 1) expect_code(shmds_once_done(o), {0}, "shmds_once_done");
    expect_code(shmds_once_reset(o), {0, -EBUSY}, "shmds_once_reset");
    (void)shmds_once_recoveries(o);
}

// Open one primitive from the input and exercise it.
template <typename Handle, typename Open, typename Exercise, typename Close>
void try_primitive(InputSegment &in, Open &&open, Exercise &&exercise, Close &&close) {
    shmds_options_t opts = in.options();
    Handle *h = nullptr;
    if (open(&opts, &h) != 0) return;
    in.opened();
    exercise(h);
    close(h);
}

}  // namespace

void fuzz_mutex(InputSegment &in) {
    try_primitive<shmds_mutex_t>(in, shmds_mutex_open, exercise_mutex, shmds_mutex_close);
}

void fuzz_semaphore(InputSegment &in) {
    try_primitive<shmds_semaphore_t>(
        in, shmds_semaphore_open, [&](shmds_semaphore_t *s) { exercise_semaphore(s, in); },
        shmds_semaphore_close);
}

void fuzz_barrier(InputSegment &in) {
    try_primitive<shmds_barrier_t>(
        in, shmds_barrier_open, [&](shmds_barrier_t *b) { exercise_barrier(b, in); },
        shmds_barrier_close);
}

void fuzz_rwlock(InputSegment &in) {
    try_primitive<shmds_rwlock_t>(in, shmds_rwlock_open, exercise_rwlock, shmds_rwlock_close);
}

void fuzz_condvar(InputSegment &in) {
    try_primitive<shmds_condvar_t>(in, shmds_condvar_open, exercise_condvar,
                                   shmds_condvar_close);
}

void fuzz_once(InputSegment &in) {
    try_primitive<shmds_once_t>(in, shmds_once_open, exercise_once, shmds_once_close);
}

}  // namespace shmds_fuzz
