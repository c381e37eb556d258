// The crash matrix of the sync primitives: a child is SIGKILLed at every failpoint of
// every primitive (and left a zombie while the parent recovers); the parent checks the
// outcome, that recovery took at most 100 ms, and the recovery counters.
#include "sync_support.hpp"

#include <shmds/sync.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <sys/mman.h>
#include <string>
#include <thread>

using namespace shmds::test;

namespace {

#define NEED_FAILPOINTS() \
    if (!SHMDS_FAILPOINTS) GTEST_SKIP() << "built without -Dfailpoints=true: no crash points"

#if SHMDS_FAILPOINTS

// Run op() and check it returned `expected` within the recovery bound.
template <typename Op>
void expect_recovered(const char *fp, int expected, Op &&op) {
    auto t0 = std::chrono::steady_clock::now();
    int r = op();
    const double ms = ms_since(t0);
    EXPECT_EQ(expected, r) << fp << ": " << shmds_errname(r) << " " << shmds_last_error();
    EXPECT_LE(ms, kRecoveryBoundMs) << fp;
}

TEST(SyncCrash, Mutex) {
    for (const char *fp : {"owned_mutex.lock.acquired", "owned_mutex.unlock.before"}) {
        shmds_mutex_t *m = nullptr;
        ASSERT_EQ(0, shmds_mutex_create(nullptr, &m));
        pid_t pid = crash_at(fp, [&] {
            shmds_mutex_lock(m, SHMDS_FOREVER);
            shmds_mutex_unlock(m);
        });
        expect_recovered(fp, SHMDS_EOWNERDEAD, [&] { return shmds_mutex_lock(m, 1'000'000'000); });
        EXPECT_EQ(0, shmds_mutex_consistent(m));
        EXPECT_EQ(0, shmds_mutex_unlock(m));
        EXPECT_EQ(1u, shmds_mutex_recoveries(m)) << fp;
        expect_killed(pid, fp);
        shmds_mutex_close(m);
    }
}

TEST(SyncCrash, MutexRecovererDiesWhileRecovering) {
    const char *fp = "owned_mutex.recover.flagged";
    shmds_mutex_t *m = nullptr;
    ASSERT_EQ(0, shmds_mutex_create(nullptr, &m));
    pid_t first = crash_at("owned_mutex.lock.acquired", [&] { shmds_mutex_lock(m, SHMDS_FOREVER); });
    pid_t second = crash_at(fp, [&] { shmds_mutex_lock(m, SHMDS_FOREVER); });
    expect_recovered(fp, SHMDS_EOWNERDEAD, [&] { return shmds_mutex_lock(m, 1'000'000'000); });
    EXPECT_EQ(0, shmds_mutex_consistent(m));
    EXPECT_EQ(0, shmds_mutex_unlock(m));
    EXPECT_EQ(0, shmds_mutex_lock(m, 0));
    EXPECT_EQ(0, shmds_mutex_unlock(m));
    expect_killed(first, "owned_mutex.lock.acquired");
    expect_killed(second, fp);
    shmds_mutex_close(m);
}

TEST(SyncCrash, Condvar) {
    struct Case {
        const char *fp;
        int expected;
    };
    for (Case c : {Case{"condvar.wait.unlocked", 0}, Case{"condvar.wait.relocked", SHMDS_EOWNERDEAD}}) {
        shmds_condvar_t *cv = nullptr;
        ASSERT_EQ(0, shmds_condvar_create(nullptr, &cv));
        pid_t pid = crash_at(c.fp, [&] {
            shmds_condvar_lock(cv, SHMDS_FOREVER);
            shmds_condvar_wait(cv, 1'000'000);
        });
        expect_recovered(c.fp, c.expected, [&] { return shmds_condvar_lock(cv, 1'000'000'000); });
        if (c.expected) {
            EXPECT_EQ(0, shmds_condvar_consistent(cv));
        }
        EXPECT_EQ(0, shmds_condvar_signal(cv));
        EXPECT_EQ(-ETIMEDOUT, shmds_condvar_wait(cv, 1'000'000));  // still a working condvar
        EXPECT_EQ(0, shmds_condvar_unlock(cv));
        if (c.expected) {
            EXPECT_EQ(1u, shmds_condvar_recoveries(cv)) << c.fp;
        }
        expect_killed(pid, c.fp);
        shmds_condvar_close(cv);
    }
}

// A process killed anywhere in an acquire: whatever its slot records comes back (a
// claim it died in included), and a lock it held is taken over.
TEST(SyncCrash, Semaphore) {
    for (const char *fp :
         {"semaphore.claim.picked", "semaphore.claim.tagged", "semaphore.acquire.claiming",
          "semaphore.acquire.held"}) {
        shmds_semaphore_t *s = nullptr;
        ASSERT_EQ(0, shmds_semaphore_create(nullptr, 2, 2, &s));
        pid_t pid = crash_at(fp, [&] {
            shmds_semaphore_acquire(s, 0);
            shmds_semaphore_release(s, 1);
        });
        expect_recovered(fp, 0, [&] { return shmds_semaphore_acquire_n(s, 2, 1'000'000'000); });
        EXPECT_EQ(0, shmds_semaphore_release(s, 2));
        EXPECT_EQ(2u, shmds_semaphore_value(s)) << fp;
        EXPECT_GE(shmds_semaphore_recoveries(s), 1u) << fp;
        expect_killed(pid, fp);
        shmds_semaphore_close(s);
    }
}

// A release that pays its own permit, then one missing from the semaphore, killed in
// between: each step was whole, so the value is 1 or 2 and the semaphore works on.
TEST(SyncCrash, SemaphoreReleaserDiesWhileReleasing) {
    for (const char *fp : {"semaphore.release.paid", "semaphore.release.returned"}) {
        shmds_semaphore_t *s = nullptr;
        ASSERT_EQ(0, shmds_semaphore_create(nullptr, 2, 1, &s));
        pid_t pid = crash_at(fp, [&] {
            shmds_semaphore_acquire(s, 0);
            shmds_semaphore_release(s, 2);
        });
        expect_recovered(fp, 0, [&] { return shmds_semaphore_acquire(s, 1'000'000'000); });
        EXPECT_EQ(0, shmds_semaphore_release(s, 1));
        const uint32_t v = shmds_semaphore_value(s);
        EXPECT_TRUE(v == 1 || v == 2) << fp << ": value " << v;
        EXPECT_EQ(0u, shmds_semaphore_held(s));
        EXPECT_GE(shmds_semaphore_recoveries(s), 1u) << fp;  // the lock it held
        expect_killed(pid, fp);
        shmds_semaphore_close(s);
    }
}

TEST(SyncCrash, SemaphoreReclaimerDiesWhileReclaiming) {
    for (const char *fp : {"semaphore.reclaim.returned"}) {
        shmds_semaphore_t *s = nullptr;
        ASSERT_EQ(0, shmds_semaphore_create(nullptr, 2, 2, &s));
        pid_t holder = crash_at("semaphore.acquire.held", [&] { shmds_semaphore_acquire(s, 0); });
        pid_t reclaimer = crash_at(fp, [&] { shmds_semaphore_acquire_n(s, 2, 1'000'000'000); });
        expect_recovered(fp, 0, [&] { return shmds_semaphore_acquire_n(s, 2, 1'000'000'000); });
        EXPECT_EQ(0, shmds_semaphore_release(s, 2));
        EXPECT_EQ(2u, shmds_semaphore_value(s)) << fp;
        EXPECT_GE(shmds_semaphore_recoveries(s), 2u) << fp;
        expect_killed(holder, "semaphore.acquire.held");
        expect_killed(reclaimer, fp);
        shmds_semaphore_close(s);
    }
}

TEST(SyncCrash, Once) {
    for (const char *fp : {"once.enter.claimed", "once.done.before"}) {
        shmds_once_t *o = nullptr;
        ASSERT_EQ(0, shmds_once_create(nullptr, &o));
        pid_t pid = crash_at(fp, [&] {
            if (shmds_once_enter(o, 0) == 1) shmds_once_done(o);
        });
        expect_recovered(fp, 1, [&] { return shmds_once_enter(o, 1'000'000'000); });
        EXPECT_EQ(0, shmds_once_done(o));
        EXPECT_EQ(1, shmds_once_is_done(o));
        EXPECT_EQ(1u, shmds_once_recoveries(o)) << fp;
        expect_killed(pid, fp);
        shmds_once_close(o);
    }
}

TEST(SyncCrash, BarrierPartyDiesAfterArriving) {
    for (const char *fp : {"barrier.wait.arrived", "barrier.wait.sleeping"}) {
        shmds_barrier_t *b = nullptr;
        ASSERT_EQ(0, shmds_barrier_create(nullptr, 3, &b));
        pid_t pid = crash_at(fp, [&] { shmds_barrier_wait(b, SHMDS_FOREVER); });
        expect_recovered(fp, -ECANCELED, [&] { return shmds_barrier_wait(b, 1'000'000'000); });
        EXPECT_EQ(1, shmds_barrier_is_broken(b));
        EXPECT_GE(shmds_barrier_recoveries(b), 1u) << fp;
        EXPECT_EQ(0, shmds_barrier_reset(b));
        EXPECT_EQ(0, shmds_barrier_is_broken(b));
        expect_killed(pid, fp);
        shmds_barrier_close(b);
    }
}

TEST(SyncCrash, BarrierLockHolderDiesBeforeTripOrReset) {
    for (const char *fp : {"barrier.trip.before", "barrier.reset.before"}) {
        shmds_barrier_t *b = nullptr;
        ASSERT_EQ(0, shmds_barrier_create(nullptr, 2, &b));
        int follower = 99;
        std::thread t([&] { follower = shmds_barrier_wait(b, 5'000'000'000); });
        while (shmds_barrier_arrived(b) != 1) std::this_thread::sleep_for(1ms);
        pid_t pid = crash_at(fp, [&] {
            if (std::string(fp) == "barrier.trip.before") shmds_barrier_wait(b, SHMDS_FOREVER);
            else shmds_barrier_reset(b);
        });
        // The dead process never completed its change: the generation is intact and the
        // next party completes it.
        expect_recovered(fp, SHMDS_BARRIER_LEADER, [&] { return shmds_barrier_wait(b, 1'000'000'000); });
        t.join();
        EXPECT_EQ(0, follower) << fp;
        EXPECT_EQ(1u, shmds_barrier_recoveries(b)) << fp;
        expect_killed(pid, fp);
        shmds_barrier_close(b);
    }
}

TEST(SyncCrash, RwLock) {
    struct Case {
        const char *fp;
        bool writer_held;  // the dead process held the write lock: EOWNERDEAD follows
    };
    for (Case c : {Case{"rwlock.rdlock.claimed", false}, Case{"rwlock.unlock.read", false},
                   Case{"rwlock.wrlock.claimed", false}, Case{"rwlock.wrlock.acquired", true},
                   Case{"rwlock.unlock.write", true}, Case{"rwlock.downgrade.claimed", true}}) {
        shmds_rwlock_t *rw = nullptr;
        ASSERT_EQ(0, shmds_rwlock_create(nullptr, 0, &rw));
        pid_t pid = crash_at(c.fp, [&] {
            shmds_rwlock_rdlock(rw, 0);
            shmds_rwlock_unlock(rw);
            shmds_rwlock_wrlock(rw, 0);
            shmds_rwlock_unlock(rw);
            shmds_rwlock_wrlock(rw, 0);
            shmds_rwlock_downgrade(rw);
        });
        const int expected = c.writer_held ? SHMDS_EOWNERDEAD : 0;
        expect_recovered(c.fp, expected, [&] { return shmds_rwlock_wrlock(rw, 1'000'000'000); });
        if (c.writer_held) {
            EXPECT_EQ(0, shmds_rwlock_consistent(rw));
        }
        EXPECT_EQ(0, shmds_rwlock_unlock(rw));
        EXPECT_EQ(0, shmds_rwlock_rdlock(rw, 0)) << c.fp;
        EXPECT_EQ(0, shmds_rwlock_unlock(rw));
        EXPECT_EQ(0u, shmds_rwlock_readers(rw)) << c.fp;
        EXPECT_GE(shmds_rwlock_recoveries(rw), 1u) << c.fp;
        expect_killed(pid, c.fp);
        shmds_rwlock_close(rw);
    }
}

#else
TEST(SyncCrash, NeedsFailpoints) { NEED_FAILPOINTS(); }
#endif

// ----------------------------------------------- try verbs take over from the dead
// A process that only ever tries must not be locked out for good by a death
// (DESIGN.md §5): a holder SIGKILLed while holding — left a zombie, or reaped — is
// taken over by a plain try within the recovery bound, with no blocking call involved.

// A child that runs hold() and then waits to be killed; returns once hold() is done.
template <typename Hold>
pid_t holder_child(Hold &&hold) {
    auto *ready = static_cast<std::atomic<int> *>(mmap(nullptr, sizeof(std::atomic<int>),
                                                       PROT_READ | PROT_WRITE,
                                                       MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    pid_t pid = fork_child([&] {
        CHILD_CHECK(hold());
        ready->store(1);
        for (;;) pause();
        return 0;
    });
    EXPECT_GT(pid, 0);
    while (ready->load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    munmap(ready, sizeof(*ready));
    return pid;
}

// Kill the holder (left a zombie unless `reap`), then poll try() until it returns
// something other than -EAGAIN; expect `expected` within the recovery bound.
template <typename Try>
void expect_try_takes_over(pid_t holder, bool reap, int expected, Try &&attempt) {
    ASSERT_EQ(0, kill(holder, SIGKILL));
    ASSERT_TRUE(wait_dead_unreaped(holder, std::chrono::seconds(10)));
    if (reap) wait_child(holder, std::chrono::seconds(1));
    const auto t0 = std::chrono::steady_clock::now();
    int r = -EAGAIN;
    int polls = 0;
    while (r == -EAGAIN && ms_since(t0) < 2000) {
        r = attempt();
        ++polls;
        if (r == -EAGAIN) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    EXPECT_EQ(expected, r) << shmds_errname(r) << " after " << polls << " tries: "
                           << shmds_last_error();
    EXPECT_LE(ms_since(t0), kRecoveryBoundMs) << (reap ? "reaped" : "zombie") << " holder";
    if (!reap) wait_child(holder, std::chrono::seconds(1));
}

class TryTakesOver : public ::testing::TestWithParam<bool> {};

TEST_P(TryTakesOver, MutexTryLock) {
    shmds_mutex_t *m = nullptr;
    ASSERT_EQ(0, shmds_mutex_create(nullptr, &m));
    const pid_t pid = holder_child([&] { return shmds_mutex_lock(m, SHMDS_FOREVER) == 0; });
    EXPECT_EQ(-EAGAIN, shmds_mutex_try_lock(m));
    expect_try_takes_over(pid, GetParam(), SHMDS_EOWNERDEAD, [&] { return shmds_mutex_try_lock(m); });
    EXPECT_EQ(0, shmds_mutex_consistent(m));
    EXPECT_EQ(0, shmds_mutex_unlock(m));
    shmds_mutex_close(m);
}

TEST_P(TryTakesOver, RwLockTryWrlockAfterADeadWriter) {
    shmds_rwlock_t *rw = nullptr;
    ASSERT_EQ(0, shmds_rwlock_create(nullptr, 8, &rw));
    const pid_t pid = holder_child([&] { return shmds_rwlock_wrlock(rw, SHMDS_FOREVER) == 0; });
    EXPECT_EQ(-EAGAIN, shmds_rwlock_try_wrlock(rw));
    expect_try_takes_over(pid, GetParam(), SHMDS_EOWNERDEAD,
                          [&] { return shmds_rwlock_try_wrlock(rw); });
    EXPECT_EQ(0, shmds_rwlock_consistent(rw));
    EXPECT_EQ(0, shmds_rwlock_unlock(rw));
    shmds_rwlock_close(rw);
}

TEST_P(TryTakesOver, RwLockTryRdlockAfterADeadWriter) {
    shmds_rwlock_t *rw = nullptr;
    ASSERT_EQ(0, shmds_rwlock_create(nullptr, 8, &rw));
    const pid_t pid = holder_child([&] { return shmds_rwlock_wrlock(rw, SHMDS_FOREVER) == 0; });
    EXPECT_EQ(-EAGAIN, shmds_rwlock_try_rdlock(rw));
    expect_try_takes_over(pid, GetParam(), SHMDS_EOWNERDEAD,
                          [&] { return shmds_rwlock_try_rdlock(rw); });
    EXPECT_EQ(0, shmds_rwlock_unlock(rw));
    shmds_rwlock_close(rw);
}

TEST_P(TryTakesOver, SemaphoreTryAcquireReclaimsADeadHoldersPermits) {
    shmds_semaphore_t *s = nullptr;
    ASSERT_EQ(0, shmds_semaphore_create(nullptr, 2, 2, &s));
    const pid_t pid = holder_child([&] { return shmds_semaphore_acquire_n(s, 2, SHMDS_FOREVER) == 0; });
    EXPECT_EQ(-EAGAIN, shmds_semaphore_try_acquire(s));
    expect_try_takes_over(pid, GetParam(), 0, [&] { return shmds_semaphore_try_acquire(s); });
    EXPECT_EQ(0, shmds_semaphore_try_acquire(s));  // both permits came back
    EXPECT_EQ(0, shmds_semaphore_release(s, 2));
    shmds_semaphore_close(s);
}

INSTANTIATE_TEST_SUITE_P(Holder, TryTakesOver, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool> &i) {
                             return i.param ? "Reaped" : "Zombie";
                         });

}  // namespace
