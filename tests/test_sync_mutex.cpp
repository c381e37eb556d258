// Mutex and condvar: every operation and error, semantics across fork(), owner death
// (SHMDS_EOWNERDEAD until consistent), zombies, SIGSTOP, condvar signal counts.
#include "sync_support.hpp"

#include "core/deadline.hpp"

#include <shmds/sync.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <thread>

using namespace shmds::test;

namespace {

struct MutexHandle {
    shmds_mutex_t *m = nullptr;
    explicit MutexHandle(const shmds_options_t *o = nullptr) {
        EXPECT_EQ(0, shmds_mutex_create(o, &m)) << shmds_last_error();
    }
    ~MutexHandle() { shmds_mutex_close(m); }
};

struct CondvarHandle {
    shmds_condvar_t *cv = nullptr;
    CondvarHandle() { EXPECT_EQ(0, shmds_condvar_create(nullptr, &cv)) << shmds_last_error(); }
    ~CondvarHandle() { shmds_condvar_close(cv); }
};

template <typename T>
T *shared_counter() {
    void *p = mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(MAP_FAILED, p);
    return new (p) T{};
}

TEST(Mutex, LockTryLockUnlockAndErrors) {
    MutexHandle h;
    EXPECT_EQ(0, shmds_mutex_lock(h.m, SHMDS_FOREVER));
    EXPECT_EQ(-EDEADLK, shmds_mutex_lock(h.m, SHMDS_FOREVER));
    EXPECT_EQ(-EDEADLK, shmds_mutex_try_lock(h.m));
    EXPECT_EQ(-EINVAL, shmds_mutex_consistent(h.m));  // held but not inconsistent
    std::thread([&] {
        EXPECT_EQ(-EAGAIN, shmds_mutex_try_lock(h.m));
        EXPECT_EQ(-ETIMEDOUT, shmds_mutex_lock(h.m, 20'000'000));
        EXPECT_EQ(-EPERM, shmds_mutex_unlock(h.m));
        EXPECT_EQ(-EPERM, shmds_mutex_consistent(h.m));
    }).join();
    EXPECT_EQ(0, shmds_mutex_unlock(h.m));
    EXPECT_EQ(-EPERM, shmds_mutex_unlock(h.m));
    EXPECT_EQ(-EINVAL, shmds_mutex_lock(h.m, -2));
    EXPECT_EQ(-EINVAL, shmds_mutex_lock(nullptr, 0));
    EXPECT_EQ(-ENOENT, shmds_mutex_fd(h.m));
    EXPECT_EQ(0u, shmds_mutex_recoveries(h.m));
}

TEST(Mutex, AllFourBackingsAndTypeMismatchOnReopen) {
    TempPath path("mutex");
    shmds_options_t po = path_options(path);
    MutexHandle a(&po);
    shmds_mutex_t *b = nullptr;
    ASSERT_EQ(0, shmds_mutex_open(&po, &b)) << shmds_last_error();
    EXPECT_EQ(0, shmds_mutex_lock(a.m, 0));
    run_child_ok([&] {
        CHILD_CHECK(shmds_mutex_try_lock(b) == -EAGAIN);  // same lock through the file
        return 0;
    });
    EXPECT_EQ(0, shmds_mutex_unlock(a.m));
    shmds_mutex_close(b);

    shmds_semaphore_t *s = nullptr;
    EXPECT_EQ(SHMDS_ETYPE, shmds_semaphore_open(&po, &s));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "mutex"));
    EXPECT_EQ(SHMDS_ETYPE, shmds_semaphore_create(&po, 1, 1, &s));
    shmds_once_t *o = nullptr;
    EXPECT_EQ(SHMDS_ETYPE, shmds_once_open(&po, &o));

    shmds_options_t mo = SHMDS_OPTIONS_INIT;
    mo.backing = SHMDS_BACKING_MEMFD;
    mo.name = "sync-mutex";
    MutexHandle m(&mo);
    int fd = shmds_mutex_fd(m.m);
    ASSERT_GE(fd, 0);
    shmds_options_t fo = SHMDS_OPTIONS_INIT;
    fo.backing = SHMDS_BACKING_FD;
    fo.fd = fd;
    shmds_mutex_t *via_fd = nullptr;
    ASSERT_EQ(0, shmds_mutex_open(&fo, &via_fd)) << shmds_last_error();
    EXPECT_EQ(0, shmds_mutex_lock(m.m, 0));
    std::thread([&] { EXPECT_EQ(-EAGAIN, shmds_mutex_try_lock(via_fd)); }).join();
    EXPECT_EQ(0, shmds_mutex_unlock(m.m));
    shmds_mutex_close(via_fd);
}

TEST(Mutex, CountsExactlyAcrossProcesses) {
    MutexHandle h;
    auto *counter = shared_counter<long>();
    constexpr int kProcs = 3, kIters = 20000;
    pid_t pids[kProcs];
    for (pid_t &p : pids)
        p = fork_child([&] {
            for (int i = 0; i < kIters; ++i) {
                CHILD_CHECK(shmds_mutex_lock(h.m, SHMDS_FOREVER) == 0);
                long v = *counter;  // a non-atomic read-modify-write: only the lock protects it
                *counter = v + 1;
                CHILD_CHECK(shmds_mutex_unlock(h.m) == 0);
            }
            return 0;
        });
    for (pid_t p : pids) {
        ChildExit e = wait_child(p, 30s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    EXPECT_EQ(long(kProcs) * kIters, *counter);
    munmap(counter, sizeof(long));
}

TEST(Mutex, DeadOwnerGivesOwnerDeadUntilConsistent) {
    MutexHandle h;
    pid_t pid = fork_child([&] {
        CHILD_CHECK(shmds_mutex_lock(h.m, SHMDS_FOREVER) == 0);
        pause();  // killed while holding the lock
        return 1;
    });
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(-ETIMEDOUT, shmds_mutex_lock(h.m, 10'000'000));
    kill(pid, SIGKILL);
    ASSERT_TRUE(wait_dead_unreaped(pid, 5s));  // still a zombie now
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(SHMDS_EOWNERDEAD, shmds_mutex_lock(h.m, 1'000'000'000));
    EXPECT_LE(ms_since(t0), kRecoveryBoundMs);
    EXPECT_EQ(1u, shmds_mutex_recoveries(h.m));
    wait_child(pid, 5s);
    // Unlocked without repair: the next locker hears it again.
    EXPECT_EQ(0, shmds_mutex_unlock(h.m));
    EXPECT_EQ(SHMDS_EOWNERDEAD, shmds_mutex_lock(h.m, 0));
    EXPECT_EQ(0, shmds_mutex_consistent(h.m));
    EXPECT_EQ(0, shmds_mutex_unlock(h.m));
    EXPECT_EQ(0, shmds_mutex_lock(h.m, 0));
    EXPECT_EQ(0, shmds_mutex_unlock(h.m));
    EXPECT_EQ(1u, shmds_mutex_recoveries(h.m));
}

TEST(Mutex, StoppedOwnerIsNotDead) {
    MutexHandle h;
    auto *ready = shared_counter<std::atomic<int>>();
    pid_t pid = fork_child([&] {
        CHILD_CHECK(shmds_mutex_lock(h.m, SHMDS_FOREVER) == 0);
        ready->store(1);
        while (ready->load() != 2) std::this_thread::sleep_for(1ms);
        CHILD_CHECK(shmds_mutex_unlock(h.m) == 0);
        return 0;
    });
    while (ready->load() != 1) std::this_thread::sleep_for(1ms);
    kill(pid, SIGSTOP);
    EXPECT_EQ(-ETIMEDOUT, shmds_mutex_lock(h.m, 300'000'000));
    ready->store(2);
    kill(pid, SIGCONT);
    EXPECT_EQ(0, shmds_mutex_lock(h.m, 5'000'000'000));
    EXPECT_EQ(0, shmds_mutex_unlock(h.m));
    ChildExit e = wait_child(pid, 10s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    EXPECT_EQ(0u, shmds_mutex_recoveries(h.m));
    munmap(ready, sizeof(*ready));
}

TEST(Mutex, ForkedChildDoesNotOwnTheParentsLock) {
    MutexHandle h;
    ASSERT_EQ(0, shmds_mutex_lock(h.m, 0));
    run_child_ok([&] {
        CHILD_CHECK(shmds_mutex_unlock(h.m) == -EPERM);
        CHILD_CHECK(shmds_mutex_try_lock(h.m) == -EAGAIN);
        return 0;
    });
    EXPECT_EQ(0, shmds_mutex_unlock(h.m));
}

TEST(Condvar, LockErrorsAndWaitNeedsTheMutex) {
    CondvarHandle h;
    EXPECT_EQ(-EPERM, shmds_condvar_wait(h.cv, 0));
    EXPECT_EQ(-EPERM, shmds_condvar_unlock(h.cv));
    ASSERT_EQ(0, shmds_condvar_lock(h.cv, SHMDS_FOREVER));
    EXPECT_EQ(-EDEADLK, shmds_condvar_try_lock(h.cv));
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(-ETIMEDOUT, shmds_condvar_wait(h.cv, 30'000'000));
    EXPECT_GE(ms_since(t0), 29.0);
    EXPECT_EQ(-EDEADLK, shmds_condvar_try_lock(h.cv));  // relocked after the timeout
    EXPECT_EQ(0, shmds_condvar_signal(h.cv));             // nobody waits: a no-op
    EXPECT_EQ(0, shmds_condvar_broadcast(h.cv));
    EXPECT_EQ(0, shmds_condvar_unlock(h.cv));
    EXPECT_EQ(-EINVAL, shmds_condvar_signal(nullptr));
}

// Producers hand out tokens under the mutex and signal once per token; every waiter
// takes exactly one. If any signal were lost, a waiter would sleep past the deadline.
TEST(Condvar, SignalCountsAcrossFork) {
    CondvarHandle h;
    struct Shared {
        int tokens;
        int taken;
    };
    auto *sh = shared_counter<Shared>();
    constexpr int kWaiters = 4;
    pid_t pids[kWaiters];
    for (pid_t &p : pids)
        p = fork_child([&] {
            CHILD_CHECK(shmds_condvar_lock(h.cv, SHMDS_FOREVER) == 0);
            while (sh->tokens == 0) CHILD_CHECK(shmds_condvar_wait(h.cv, 10'000'000'000) == 0);
            --sh->tokens;
            ++sh->taken;
            CHILD_CHECK(shmds_condvar_unlock(h.cv) == 0);
            return 0;
        });
    for (int i = 0; i < kWaiters; ++i) {
        std::this_thread::sleep_for(5ms);
        ASSERT_EQ(0, shmds_condvar_lock(h.cv, SHMDS_FOREVER));
        ++sh->tokens;
        ASSERT_EQ(0, shmds_condvar_signal(h.cv));
        ASSERT_EQ(0, shmds_condvar_unlock(h.cv));
    }
    for (pid_t p : pids) {
        ChildExit e = wait_child(p, 20s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    EXPECT_EQ(kWaiters, sh->taken);
    EXPECT_EQ(0, sh->tokens);
    munmap(sh, sizeof(*sh));
}

TEST(Condvar, BroadcastWakesEveryWaiter) {
    CondvarHandle h;
    struct Shared {
        int go;
        int woken;
    };
    auto *sh = shared_counter<Shared>();
    constexpr int kWaiters = 4;
    pid_t pids[kWaiters];
    for (pid_t &p : pids)
        p = fork_child([&] {
            CHILD_CHECK(shmds_condvar_lock(h.cv, SHMDS_FOREVER) == 0);
            while (!sh->go) CHILD_CHECK(shmds_condvar_wait(h.cv, 10'000'000'000) == 0);
            ++sh->woken;
            CHILD_CHECK(shmds_condvar_unlock(h.cv) == 0);
            return 0;
        });
    auto t0 = std::chrono::steady_clock::now();
    while (shmds_condvar_waiters(h.cv) < kWaiters && ms_since(t0) < 5000)
        std::this_thread::sleep_for(1ms);
    EXPECT_EQ(uint32_t(kWaiters), shmds_condvar_waiters(h.cv));
    ASSERT_EQ(0, shmds_condvar_lock(h.cv, SHMDS_FOREVER));
    sh->go = 1;
    ASSERT_EQ(0, shmds_condvar_broadcast(h.cv));  // one call for all of them
    ASSERT_EQ(0, shmds_condvar_unlock(h.cv));
    for (pid_t p : pids) {
        ChildExit e = wait_child(p, 20s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    EXPECT_EQ(kWaiters, sh->woken);
    munmap(sh, sizeof(*sh));
}

TEST(Condvar, WaiterRelocksWithOwnerDeadWhenTheHolderDied) {
    CondvarHandle h;
    auto *stage = shared_counter<std::atomic<int>>();
    pid_t pid = fork_child([&] {
        while (shmds_condvar_waiters(h.cv) == 0) std::this_thread::sleep_for(1ms);
        CHILD_CHECK(shmds_condvar_lock(h.cv, SHMDS_FOREVER) == 0);
        CHILD_CHECK(shmds_condvar_signal(h.cv) == 0);
        stage->store(1);
        pause();  // dies holding the mutex, after signalling
        return 1;
    });
    std::atomic<std::int64_t> killed_ns{0};
    std::thread killer([&] {
        while (stage->load() != 1) std::this_thread::sleep_for(1ms);
        std::this_thread::sleep_for(20ms);  // the waiter is now blocked relocking
        killed_ns = shmds::core::monotonic_ns();
        kill(pid, SIGKILL);
    });
    ASSERT_EQ(0, shmds_condvar_lock(h.cv, SHMDS_FOREVER));
    int rc = shmds_condvar_wait(h.cv, 10'000'000'000);
    const double after_kill_ms = double(shmds::core::monotonic_ns() - killed_ns.load()) / 1e6;
    killer.join();
    EXPECT_EQ(SHMDS_EOWNERDEAD, rc) << shmds_errname(rc);
    EXPECT_LE(after_kill_ms, kRecoveryBoundMs);
    EXPECT_EQ(0, shmds_condvar_consistent(h.cv));
    EXPECT_EQ(0, shmds_condvar_unlock(h.cv));
    EXPECT_EQ(0, shmds_condvar_lock(h.cv, 0));
    EXPECT_EQ(0, shmds_condvar_unlock(h.cv));
    EXPECT_EQ(1u, shmds_condvar_recoveries(h.cv));
    expect_killed(pid, "condvar holder");
    munmap(stage, sizeof(*stage));
}

}  // namespace
