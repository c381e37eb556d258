// Semaphore, once and barrier: every operation and error, semantics across fork(),
// dead holders' permits returned, exactly one Once initializer among 8 processes,
// exactly one barrier leader per generation, a dead party breaking the barrier.
#include "sync_support.hpp"

#include "core/deadline.hpp"
#include "core/header.hpp"
#include "support/damaged_lock.hpp"
#include "sync/barrier.hpp"
#include "sync/semaphore.hpp"

#include <shmds/sync.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <sys/mman.h>
#include <thread>

using namespace shmds::test;

namespace {

template <typename T>
T *shared() {
    void *p = mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(MAP_FAILED, p);
    return new (p) T{};
}
template <typename T>
void unshare(T *p) {
    munmap(p, sizeof(T));
}

shmds_options_t memfd_options() {
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_MEMFD;
    o.name = "sync-counting";
    return o;
}

constexpr std::uint64_t kControl = sizeof(shmds::core::SegmentHeader);

// ---------------------------------------------------------------- semaphore

TEST(Semaphore, ParametersAreChecked) {
    shmds_semaphore_t *s = nullptr;
    EXPECT_EQ(-EINVAL, shmds_semaphore_create(nullptr, 0, 0, &s));
    EXPECT_EQ(-EINVAL, shmds_semaphore_create(nullptr, 2, 3, &s));
    EXPECT_EQ(-EINVAL, shmds_semaphore_create(nullptr, 0x80000000u, 0, &s));
    EXPECT_EQ(nullptr, s);
    EXPECT_EQ(-EINVAL, shmds_semaphore_create(nullptr, 1, 1, nullptr));
}

TEST(Semaphore, AcquireReleaseClampDrainAndTry) {
    shmds_semaphore_t *s = nullptr;
    ASSERT_EQ(0, shmds_semaphore_create(nullptr, 5, 3, &s));
    EXPECT_EQ(3u, shmds_semaphore_value(s));
    EXPECT_EQ(5u, shmds_semaphore_max(s));
    EXPECT_EQ(0, shmds_semaphore_acquire(s, SHMDS_FOREVER));
    EXPECT_EQ(0, shmds_semaphore_acquire_n(s, 2, 0));
    EXPECT_EQ(3u, shmds_semaphore_held(s));
    EXPECT_EQ(-EAGAIN, shmds_semaphore_try_acquire(s));
    EXPECT_EQ(-ETIMEDOUT, shmds_semaphore_acquire(s, 20'000'000));
    EXPECT_EQ(-EINVAL, shmds_semaphore_acquire_n(s, 0, 0));
    EXPECT_EQ(-EINVAL, shmds_semaphore_acquire_n(s, 6, 0));
    EXPECT_EQ(-EINVAL, shmds_semaphore_release(s, 0));
    EXPECT_EQ(0, shmds_semaphore_release(s, 100));  // clamped at max
    EXPECT_EQ(5u, shmds_semaphore_value(s));
    EXPECT_EQ(0u, shmds_semaphore_held(s));
    EXPECT_EQ(0, shmds_semaphore_try_acquire_n(s, 4));
    uint32_t taken = 99;
    EXPECT_EQ(0, shmds_semaphore_drain(s, &taken));
    EXPECT_EQ(1u, taken);
    EXPECT_EQ(0, shmds_semaphore_drain(s, &taken));
    EXPECT_EQ(0u, taken);
    EXPECT_EQ(5u, shmds_semaphore_held(s));
    EXPECT_EQ(0, shmds_semaphore_release(s, 5));
    EXPECT_EQ(-EINVAL, shmds_semaphore_drain(s, nullptr));
    shmds_semaphore_close(s);
}

// Release wakes sleepers but leaves the eventfd to notify (common.h, "Eventfds").
TEST(Semaphore, ReleaseWakesABlockedProcessAndOnlyNotifySignalsTheEventfd) {
    shmds_semaphore_t *s = nullptr;
    ASSERT_EQ(0, shmds_semaphore_create(nullptr, 1, 0, &s));
    int efd = shmds_semaphore_eventfd(s);
    ASSERT_GE(efd, 0);
    pid_t pid = fork_child([&] {
        CHILD_CHECK(shmds_semaphore_acquire(s, 10'000'000'000) == 0);
        return 0;
    });
    std::this_thread::sleep_for(30ms);
    EXPECT_EQ(0, shmds_semaphore_release(s, 1));
    ChildExit e = wait_child(pid, 10s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    uint64_t count = 0;
    EXPECT_EQ(-EAGAIN, shmds_semaphore_eventfd_consume(s, &count));
    EXPECT_EQ(0, shmds_semaphore_notify(s));
    EXPECT_EQ(0, shmds_semaphore_eventfd_consume(s, &count));
    EXPECT_EQ(1u, count);
    EXPECT_EQ(-EAGAIN, shmds_semaphore_eventfd_consume(s, &count));
    // The child exited holding its permit: it comes back to the next waiter in need.
    EXPECT_EQ(0, shmds_semaphore_acquire(s, 1'000'000'000));
    EXPECT_EQ(1u, shmds_semaphore_recoveries(s));
    shmds_semaphore_close(s);
}

TEST(Semaphore, BoundsConcurrencyAcrossProcesses) {
    shmds_semaphore_t *s = nullptr;
    ASSERT_EQ(0, shmds_semaphore_create(nullptr, 2, 2, &s));
    struct Shared {
        std::atomic<int> inside, peak;
    };
    auto *sh = shared<Shared>();
    pid_t pids[5];
    for (pid_t &p : pids)
        p = fork_child([&] {
            for (int i = 0; i < 200; ++i) {
                CHILD_CHECK(shmds_semaphore_acquire(s, SHMDS_FOREVER) == 0);
                int now = sh->inside.fetch_add(1) + 1;
                int peak = sh->peak.load();
                while (now > peak && !sh->peak.compare_exchange_weak(peak, now)) {
                }
                sh->inside.fetch_sub(1);
                CHILD_CHECK(shmds_semaphore_release(s, 1) == 0);
            }
            return 0;
        });
    for (pid_t p : pids) {
        ChildExit e = wait_child(p, 30s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    EXPECT_LE(sh->peak.load(), 2);
    EXPECT_EQ(2u, shmds_semaphore_value(s));
    EXPECT_EQ(0u, shmds_semaphore_recoveries(s));
    unshare(sh);
    shmds_semaphore_close(s);
}

TEST(Semaphore, DeadHoldersPermitsReturnToAWaiterWithin100ms) {
    shmds_semaphore_t *s = nullptr;
    ASSERT_EQ(0, shmds_semaphore_create(nullptr, 3, 3, &s));
    auto *held = shared<std::atomic<int>>();
    pid_t pid = fork_child([&] {
        CHILD_CHECK(shmds_semaphore_acquire_n(s, 3, 0) == 0);
        held->store(1);
        pause();
        return 1;
    });
    while (held->load() != 1) std::this_thread::sleep_for(1ms);
    EXPECT_EQ(-EAGAIN, shmds_semaphore_try_acquire(s));
    std::atomic<std::int64_t> killed{0};
    std::thread killer([&] {
        std::this_thread::sleep_for(30ms);  // the waiter below is asleep by now
        killed = shmds::core::monotonic_ns();
        kill(pid, SIGKILL);
    });
    EXPECT_EQ(0, shmds_semaphore_acquire_n(s, 3, 5'000'000'000));
    const double ms = double(shmds::core::monotonic_ns() - killed.load()) / 1e6;
    killer.join();
    EXPECT_LE(ms, kRecoveryBoundMs);
    EXPECT_EQ(1u, shmds_semaphore_recoveries(s));
    EXPECT_EQ(3u, shmds_semaphore_held(s));
    expect_killed(pid, "semaphore holder");
    unshare(held);
    shmds_semaphore_close(s);
}

TEST(Semaphore, StoppedHolderKeepsItsPermits) {
    shmds_semaphore_t *s = nullptr;
    ASSERT_EQ(0, shmds_semaphore_create(nullptr, 1, 1, &s));
    auto *stage = shared<std::atomic<int>>();
    pid_t pid = fork_child([&] {
        CHILD_CHECK(shmds_semaphore_acquire(s, 0) == 0);
        stage->store(1);
        while (stage->load() != 2) std::this_thread::sleep_for(1ms);
        CHILD_CHECK(shmds_semaphore_release(s, 1) == 0);
        return 0;
    });
    while (stage->load() != 1) std::this_thread::sleep_for(1ms);
    kill(pid, SIGSTOP);
    EXPECT_EQ(-ETIMEDOUT, shmds_semaphore_acquire(s, 250'000'000));
    stage->store(2);
    kill(pid, SIGCONT);
    EXPECT_EQ(0, shmds_semaphore_acquire(s, 5'000'000'000));
    ChildExit e = wait_child(pid, 10s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    EXPECT_EQ(0u, shmds_semaphore_recoveries(s));
    unshare(stage);
    shmds_semaphore_close(s);
}

// The internal lock's word scribbled by a peer. Naming no live thread, it is a dead
// holder's: the next call that needs the lock (a first acquire, which claims a holder
// slot; a release of more than the caller holds; a drain) takes it over, succeeds and
// _recoveries() counts it. Naming a live thread that does not hold it, the calls that
// need the lock time out cleanly.
TEST(Semaphore, ScribbledLockWordIsTakenOverOrWaitedFor) {
    shmds_options_t o = memfd_options();
    shmds_semaphore_t *s = nullptr;
    ASSERT_EQ(0, shmds_semaphore_create(&o, 4, 2, &s));
    const int fd = shmds_semaphore_fd(s);
    using shmds::sync::SemaphoreControl;
    const std::uint64_t lock = kControl + offsetof(SemaphoreControl, lock);

    scribble_u64(fd, lock, kNoSuchThreadWord);
    EXPECT_EQ(0, shmds_semaphore_try_acquire(s)) << shmds_last_error();
    EXPECT_EQ(1u, shmds_semaphore_value(s));
    EXPECT_EQ(1u, shmds_semaphore_recoveries(s));
    // Thread id 0: release and drain, which wait without a deadline, take it over too.
    scribble_u64(fd, lock, kThreadZeroWord | shmds::core::kStampLockWaiters);
    EXPECT_EQ(0, shmds_semaphore_release(s, 2));  // its own 1, then 1 missing
    EXPECT_EQ(3u, shmds_semaphore_value(s));
    scribble_u64(fd, lock, kThreadZeroWord);
    uint32_t taken = 0;
    EXPECT_EQ(0, shmds_semaphore_drain(s, &taken));
    EXPECT_EQ(3u, taken);
    EXPECT_EQ(0, shmds_semaphore_release(s, 3));
    EXPECT_EQ(3u, shmds_semaphore_recoveries(s));
    EXPECT_EQ(0u, read_u64_at(fd, lock));

    // A live stranger: waited for, never taken over. A second handle has no holder
    // slot yet, so its acquire needs the lock.
    shmds_options_t by_fd = SHMDS_OPTIONS_INIT;
    by_fd.backing = SHMDS_BACKING_FD;
    by_fd.fd = fd;
    shmds_semaphore_t *s2 = nullptr;
    ASSERT_EQ(0, shmds_semaphore_open(&by_fd, &s2)) << shmds_last_error();
    LiveBystander stranger;
    scribble_u64(fd, lock, stranger.stamp());
    EXPECT_EQ(-EAGAIN, shmds_semaphore_try_acquire(s2));
    EXPECT_EQ(-ETIMEDOUT, shmds_semaphore_acquire(s2, 20'000'000));
    EXPECT_EQ(3u, shmds_semaphore_value(s));
    EXPECT_EQ(3u, shmds_semaphore_recoveries(s));
    stranger.stop();
    EXPECT_EQ(0, shmds_semaphore_acquire(s2, 1'000'000'000)) << shmds_last_error();
    EXPECT_EQ(4u, shmds_semaphore_recoveries(s));
    EXPECT_EQ(1u, shmds_semaphore_held(s));  // one process, two handles: one slot
    EXPECT_EQ(0, shmds_semaphore_release(s2, 1));
    shmds_semaphore_close(s2);
    shmds_semaphore_close(s);
}

// Signalling use: a producer that holds nothing releases, a consumer acquires and never
// releases. The value stays clamped at max however long it runs, and the consumer's
// record never exceeds max: a release that would pass max counts the consumer's
// permits as returned instead of growing the total.
TEST(Semaphore, SignallingReleasesAreClampedAndNeverOutgrowMax) {
    shmds_semaphore_t *s = nullptr;
    ASSERT_EQ(0, shmds_semaphore_create(nullptr, 3, 0, &s));
    pid_t consumer = fork_child([&] {
        for (int i = 0; i < 50; ++i) CHILD_CHECK(shmds_semaphore_acquire(s, 10'000'000'000) == 0);
        CHILD_CHECK(shmds_semaphore_held(s) <= 3);
        return 0;
    });
    for (int i = 0; i < 50; ++i) {
        while (shmds_semaphore_value(s) != 0) std::this_thread::sleep_for(100us);
        EXPECT_EQ(0, shmds_semaphore_release(s, 1));
    }
    ChildExit e = wait_child(consumer, 30s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    EXPECT_EQ(0, shmds_semaphore_release(s, 100));
    EXPECT_EQ(3u, shmds_semaphore_value(s));
    EXPECT_EQ(0u, shmds_semaphore_held(s));
    shmds_semaphore_close(s);
}

// The lock-free acquire never lets more than max holders in, with threads of one
// process sharing a holder slot and processes racing for the last permits.
TEST(Semaphore, FastPathBoundsConcurrencyAcrossThreadsAndProcesses) {
    shmds_semaphore_t *s = nullptr;
    ASSERT_EQ(0, shmds_semaphore_create(nullptr, 3, 3, &s));
    struct Shared {
        std::atomic<int> inside, peak, started;
    };
    auto *sh = shared<Shared>();
    auto work = [&] {
        sh->started.fetch_add(1);
        while (sh->started.load() < 6) std::this_thread::yield();
        for (int i = 0; i < 20000; ++i) {
            if (shmds_semaphore_acquire(s, SHMDS_FOREVER) != 0) return false;
            int now = sh->inside.fetch_add(1) + 1;
            int peak = sh->peak.load();
            while (now > peak && !sh->peak.compare_exchange_weak(peak, now)) {
            }
            for (volatile int spin = 0; spin < 200; ++spin) {  // stay inside a while
            }
            sh->inside.fetch_sub(1);
            if (shmds_semaphore_release(s, 1) != 0) return false;
        }
        return true;
    };
    pid_t pids[3];
    for (pid_t &p : pids)
        p = fork_child([&] {
            std::atomic<bool> ok{true};
            std::thread t([&] { ok = work() && ok; });
            const bool mine = work();
            t.join();
            CHILD_CHECK(mine && ok);
            return 0;
        });
    for (pid_t p : pids) {
        ChildExit e = wait_child(p, 60s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    EXPECT_LE(sh->peak.load(), 3);
    EXPECT_EQ(3u, shmds_semaphore_value(s));
    EXPECT_EQ(0u, shmds_semaphore_recoveries(s));
    unshare(sh);
    shmds_semaphore_close(s);
}

// Once every holder slot has been used, a new process takes over an idle slot of
// another process. That owner needs no lock to start an acquire on it, so the slot can
// stop being idle between the claimer's look and its take: the claimer must move on to
// another idle slot, not report that every slot is held (the kill soak found this
// after about 256 respawned workers).
TEST(Semaphore, AClaimerBeatenToAnIdleSlotByItsOwnerTakesAnother) {
    if (!SHMDS_FAILPOINTS) GTEST_SKIP() << "built without -Dfailpoints=true";
    shmds_semaphore_t *s = nullptr;
    ASSERT_EQ(0, shmds_semaphore_create(nullptr, 2, 2, &s));
    auto acquire_release = [&] {
        return shmds_semaphore_acquire(s, SHMDS_NOWAIT) == 0 && shmds_semaphore_release(s, 1) == 0;
    };
    ASSERT_TRUE(acquire_release());  // slot 0: ours, idle, owner alive
    // Slots 1 .. 255: idle, their owners dead (an idle slot has nothing to give back,
    // so nobody frees it: it is only ever taken over).
    for (std::uint32_t i = 1; i < shmds::sync::kHolderSlots; ++i)
        run_child_ok([&] { return acquire_release() ? 0 : 1; });
    const pid_t claimer = fork_child([&] {
        arm_failpoint("semaphore.claim.picked@stop");  // at its look at idle slot 0
        const int rc = shmds_semaphore_acquire(s, 1'000'000'000);
        CHILD_CHECK(rc == 0);
        CHILD_CHECK(shmds_semaphore_release(s, 1) == 0);
        return 0;
    });
    ASSERT_GT(claimer, 0);
    ASSERT_TRUE(wait_until_stopped(claimer, 5s));
    ASSERT_EQ(0, shmds_semaphore_acquire(s, SHMDS_NOWAIT));  // slot 0 is no longer idle
    kill(claimer, SIGCONT);
    const ChildExit e = wait_child(claimer, 10s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    EXPECT_EQ(0, shmds_semaphore_release(s, 1));
    EXPECT_EQ(2u, shmds_semaphore_value(s));
    shmds_semaphore_close(s);
}

// --------------------------------------------------------------------- once

TEST(Once, EnterDoneResetAndErrors) {
    shmds_once_t *o = nullptr;
    ASSERT_EQ(0, shmds_once_create(nullptr, &o));
    EXPECT_EQ(0, shmds_once_is_done(o));
    EXPECT_EQ(-EPERM, shmds_once_done(o));
    EXPECT_EQ(1, shmds_once_enter(o, 0));
    EXPECT_EQ(-EDEADLK, shmds_once_enter(o, SHMDS_FOREVER));
    run_child_ok([&] {
        CHILD_CHECK(shmds_once_enter(o, 0) == -EAGAIN);
        CHILD_CHECK(shmds_once_enter(o, 20'000'000) == -ETIMEDOUT);
        CHILD_CHECK(shmds_once_done(o) == -EPERM);
        CHILD_CHECK(shmds_once_reset(o) == -EBUSY);
        return 0;
    });
    EXPECT_EQ(0, shmds_once_done(o));
    EXPECT_EQ(1, shmds_once_is_done(o));
    EXPECT_EQ(0, shmds_once_enter(o, 0));
    EXPECT_EQ(0, shmds_once_reset(o));
    EXPECT_EQ(0, shmds_once_is_done(o));
    EXPECT_EQ(1, shmds_once_enter(o, 0));
    EXPECT_EQ(0, shmds_once_reset(o));  // the initializer gives up
    EXPECT_EQ(1, shmds_once_enter(o, 0));
    EXPECT_EQ(0, shmds_once_done(o));
    EXPECT_EQ(0u, shmds_once_recoveries(o));
    shmds_once_close(o);
}

TEST(Once, ExactlyOneInitializerAmongEightProcesses) {
    shmds_once_t *o = nullptr;
    ASSERT_EQ(0, shmds_once_create(nullptr, &o));
    struct Shared {
        std::atomic<int> go, initializers, saw_done;
    };
    auto *sh = shared<Shared>();
    pid_t pids[8];
    for (pid_t &p : pids)
        p = fork_child([&] {
            while (!sh->go.load()) std::this_thread::yield();
            int r = shmds_once_enter(o, 10'000'000'000);
            if (r == 1) {
                sh->initializers.fetch_add(1);
                std::this_thread::sleep_for(20ms);
                CHILD_CHECK(shmds_once_done(o) == 0);
            } else {
                CHILD_CHECK(r == 0);
                CHILD_CHECK(shmds_once_is_done(o) == 1);
                sh->saw_done.fetch_add(1);
            }
            return 0;
        });
    sh->go.store(1);
    for (pid_t p : pids) {
        ChildExit e = wait_child(p, 20s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    EXPECT_EQ(1, sh->initializers.load());
    EXPECT_EQ(7, sh->saw_done.load());
    unshare(sh);
    shmds_once_close(o);
}

TEST(Once, StoppedInitializerIsNotReplaced) {
    shmds_once_t *o = nullptr;
    ASSERT_EQ(0, shmds_once_create(nullptr, &o));
    auto *stage = shared<std::atomic<int>>();
    pid_t pid = fork_child([&] {
        CHILD_CHECK(shmds_once_enter(o, 0) == 1);
        stage->store(1);
        while (stage->load() != 2) std::this_thread::sleep_for(1ms);
        CHILD_CHECK(shmds_once_done(o) == 0);
        return 0;
    });
    while (stage->load() != 1) std::this_thread::sleep_for(1ms);
    kill(pid, SIGSTOP);
    EXPECT_EQ(-ETIMEDOUT, shmds_once_enter(o, 250'000'000));
    stage->store(2);
    kill(pid, SIGCONT);
    EXPECT_EQ(0, shmds_once_enter(o, 5'000'000'000));
    ChildExit e = wait_child(pid, 10s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    EXPECT_EQ(0u, shmds_once_recoveries(o));
    unshare(stage);
    shmds_once_close(o);
}

// ------------------------------------------------------------------ barrier

TEST(Barrier, ParametersProbeTimeoutBrokenAndReset) {
    shmds_barrier_t *b = nullptr;
    EXPECT_EQ(-EINVAL, shmds_barrier_create(nullptr, 1, &b));
    EXPECT_EQ(-EINVAL, shmds_barrier_create(nullptr, 0, &b));
    ASSERT_EQ(0, shmds_barrier_create(nullptr, 2, &b));
    EXPECT_EQ(2u, shmds_barrier_parties(b));
    EXPECT_EQ(-EAGAIN, shmds_barrier_wait(b, SHMDS_NOWAIT));  // a probe: changes nothing
    EXPECT_EQ(0u, shmds_barrier_arrived(b));
    EXPECT_EQ(0, shmds_barrier_is_broken(b));
    EXPECT_EQ(-ETIMEDOUT, shmds_barrier_wait(b, 20'000'000));
    EXPECT_EQ(1, shmds_barrier_is_broken(b));
    EXPECT_EQ(-ECANCELED, shmds_barrier_wait(b, SHMDS_NOWAIT));
    EXPECT_EQ(-ECANCELED, shmds_barrier_wait(b, 1'000'000));
    const uint32_t gen = shmds_barrier_generation(b);
    EXPECT_EQ(0, shmds_barrier_reset(b));
    EXPECT_EQ(0, shmds_barrier_is_broken(b));
    EXPECT_EQ(gen + 1, shmds_barrier_generation(b));
    int efd = shmds_barrier_eventfd(b);
    ASSERT_GE(efd, 0);
    // The second party arrives from a thread; NOWAIT by the last party trips it.
    std::thread t([&] { EXPECT_EQ(0, shmds_barrier_wait(b, 5'000'000'000)); });
    while (shmds_barrier_arrived(b) != 1) std::this_thread::sleep_for(1ms);
    EXPECT_EQ(SHMDS_BARRIER_LEADER, shmds_barrier_wait(b, SHMDS_NOWAIT));
    t.join();
    uint64_t count = 0;  // the trip does not signal; notify does (common.h, "Eventfds")
    EXPECT_EQ(-EAGAIN, shmds_barrier_eventfd_consume(b, &count));
    EXPECT_EQ(0, shmds_barrier_notify(b));
    EXPECT_EQ(0, shmds_barrier_eventfd_consume(b, &count));
    EXPECT_EQ(1u, count);
    shmds_barrier_close(b);
}

// As for the semaphore. The barrier's lock guards single-store changes, so a takeover
// has nothing to repair: it is only counted.
TEST(Barrier, ScribbledLockWordIsTakenOverOrWaitedFor) {
    shmds_options_t o = memfd_options();
    shmds_barrier_t *b = nullptr;
    ASSERT_EQ(0, shmds_barrier_create(&o, 2, &b));
    const int fd = shmds_barrier_fd(b);
    const std::uint64_t lock = kControl + offsetof(shmds::sync::BarrierControl, lock);
    scribble_u64(fd, lock, kNoSuchThreadWord);
    EXPECT_EQ(0, shmds_barrier_reset(b)) << shmds_last_error();
    EXPECT_EQ(1u, shmds_barrier_recoveries(b));
    scribble_u64(fd, lock, kThreadZeroWord);
    EXPECT_EQ(-EAGAIN, shmds_barrier_wait(b, SHMDS_NOWAIT));  // the probe got the lock
    EXPECT_EQ(2u, shmds_barrier_recoveries(b));
    EXPECT_EQ(0u, read_u64_at(fd, lock));

    LiveBystander stranger;
    scribble_u64(fd, lock, stranger.stamp());
    EXPECT_EQ(-EAGAIN, shmds_barrier_wait(b, SHMDS_NOWAIT));
    EXPECT_EQ(-ETIMEDOUT, shmds_barrier_wait(b, 20'000'000));
    EXPECT_EQ(0u, shmds_barrier_arrived(b));
    EXPECT_FALSE(shmds_barrier_is_broken(b));
    EXPECT_EQ(2u, shmds_barrier_recoveries(b));
    stranger.stop();
    EXPECT_EQ(0, shmds_barrier_reset(b)) << shmds_last_error();
    EXPECT_EQ(3u, shmds_barrier_recoveries(b));
    shmds_barrier_close(b);
}

TEST(Barrier, ExactlyOneLeaderPerGenerationAcrossProcesses) {
    constexpr int kParties = 4, kRounds = 50;
    shmds_barrier_t *b = nullptr;
    ASSERT_EQ(0, shmds_barrier_create(nullptr, kParties, &b));
    struct Shared {
        std::atomic<int> leaders[kRounds];
        std::atomic<int> followers[kRounds];
    };
    auto *sh = shared<Shared>();
    pid_t pids[kParties];
    for (pid_t &p : pids)
        p = fork_child([&] {
            for (int round = 0; round < kRounds; ++round) {
                int r = shmds_barrier_wait(b, 10'000'000'000);
                CHILD_CHECK(r == SHMDS_BARRIER_LEADER || r == 0);
                (r == SHMDS_BARRIER_LEADER ? sh->leaders : sh->followers)[round].fetch_add(1);
            }
            return 0;
        });
    for (pid_t p : pids) {
        ChildExit e = wait_child(p, 30s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    for (int round = 0; round < kRounds; ++round) {
        EXPECT_EQ(1, sh->leaders[round].load()) << "round " << round;
        EXPECT_EQ(kParties - 1, sh->followers[round].load()) << "round " << round;
    }
    EXPECT_EQ(uint32_t(kRounds), shmds_barrier_generation(b));
    unshare(sh);
    shmds_barrier_close(b);
}

TEST(Barrier, ResetCancelsWaiters) {
    shmds_barrier_t *b = nullptr;
    ASSERT_EQ(0, shmds_barrier_create(nullptr, 3, &b));
    pid_t pid = fork_child([&] {
        CHILD_CHECK(shmds_barrier_wait(b, 10'000'000'000) == -ECANCELED);
        return 0;
    });
    while (shmds_barrier_arrived(b) != 1) std::this_thread::sleep_for(1ms);
    EXPECT_EQ(0, shmds_barrier_reset(b));
    ChildExit e = wait_child(pid, 10s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    EXPECT_EQ(0u, shmds_barrier_arrived(b));
    EXPECT_EQ(0, shmds_barrier_is_broken(b));
    shmds_barrier_close(b);
}

TEST(Barrier, APartyThatDiesWhileWaitingBreaksItForTheOthers) {
    shmds_barrier_t *b = nullptr;
    ASSERT_EQ(0, shmds_barrier_create(nullptr, 3, &b));
    pid_t pid = fork_child([&] {
        shmds_barrier_wait(b, SHMDS_FOREVER);
        return 1;
    });
    while (shmds_barrier_arrived(b) != 1) std::this_thread::sleep_for(1ms);
    std::atomic<std::int64_t> killed{0};
    std::thread killer([&] {
        std::this_thread::sleep_for(30ms);
        killed = shmds::core::monotonic_ns();
        kill(pid, SIGKILL);  // left unreaped: a zombie party
    });
    EXPECT_EQ(-ECANCELED, shmds_barrier_wait(b, 5'000'000'000));
    const double ms = double(shmds::core::monotonic_ns() - killed.load()) / 1e6;
    killer.join();
    EXPECT_LE(ms, kRecoveryBoundMs);
    EXPECT_EQ(1, shmds_barrier_is_broken(b));
    EXPECT_EQ(1u, shmds_barrier_recoveries(b));
    expect_killed(pid, "barrier party");
    shmds_barrier_close(b);
}

TEST(Barrier, StoppedPartyDoesNotBreakIt) {
    shmds_barrier_t *b = nullptr;
    ASSERT_EQ(0, shmds_barrier_create(nullptr, 2, &b));
    pid_t pid = fork_child([&] {
        CHILD_CHECK(shmds_barrier_wait(b, 10'000'000'000) == 0);
        return 0;
    });
    while (shmds_barrier_arrived(b) != 1) std::this_thread::sleep_for(1ms);
    // Stopped while still inside the barrier's lock (its arrival is published just
    // before the unlock), it would hold every other party off: a live holder is waited
    // for. Stop it once it sleeps in the wait, as a preempted or stopped worker would be.
    ASSERT_TRUE(wait_until_asleep(pid, 10s));
    kill(pid, SIGSTOP);
    std::this_thread::sleep_for(200ms);  // several liveness probes would have run
    EXPECT_EQ(0, shmds_barrier_is_broken(b));
    EXPECT_EQ(SHMDS_BARRIER_LEADER, shmds_barrier_wait(b, 1'000'000'000));
    kill(pid, SIGCONT);
    ChildExit e = wait_child(pid, 10s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    shmds_barrier_close(b);
}

}  // namespace
