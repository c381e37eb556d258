// Mutex and condvar: every operation and error, semantics across fork(), owner death
// (SHMDS_EOWNERDEAD until consistent), zombies, SIGSTOP, condvar signal counts.
#include "sync_support.hpp"

#include "core/deadline.hpp"
#include "core/thread_id.hpp"
#include "sync/owned_mutex.hpp"

#include <shmds/sync.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <thread>
#include <vector>

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

TEST(Mutex, ThreadThatExitsHoldingItIsADeadOwner) {
    // Ownership is per thread: a thread that ends while holding the lock is a dead
    // owner even though its process lives on.
    MutexHandle h;
    std::thread([&] { ASSERT_EQ(0, shmds_mutex_lock(h.m, SHMDS_FOREVER)); }).join();
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(SHMDS_EOWNERDEAD, shmds_mutex_lock(h.m, 1'000'000'000)) << shmds_last_error();
    EXPECT_LE(ms_since(t0), kRecoveryBoundMs);
    EXPECT_EQ(0, shmds_mutex_consistent(h.m));
    EXPECT_EQ(0, shmds_mutex_unlock(h.m));
    // try_lock recovers too: it never sleeps, so it asks about the holder at once.
    std::thread([&] { ASSERT_EQ(0, shmds_mutex_lock(h.m, SHMDS_FOREVER)); }).join();
    EXPECT_EQ(SHMDS_EOWNERDEAD, shmds_mutex_try_lock(h.m)) << shmds_last_error();
    EXPECT_EQ(0, shmds_mutex_consistent(h.m));
    EXPECT_EQ(0, shmds_mutex_unlock(h.m));
    EXPECT_EQ(2u, shmds_mutex_recoveries(h.m));
}

TEST(Mutex, WaiterAsleepWhenTheHolderDiesTakesOver) {
    // The holder dies while a waiter is already asleep in the kernel: nobody wakes the
    // waiter, so its own liveness checks must find the death within the bound.
    MutexHandle h;
    auto *ready = shared_counter<std::atomic<int>>();
    pid_t holder = fork_child([&] {
        CHILD_CHECK(shmds_mutex_lock(h.m, SHMDS_FOREVER) == 0);
        ready->store(1);
        pause();
        return 1;
    });
    while (ready->load() != 1) std::this_thread::sleep_for(1ms);
    std::atomic<double> waited_after_kill_ms{-1};
    std::atomic<std::int64_t> killed_at{0};
    std::thread waiter([&] {
        EXPECT_EQ(SHMDS_EOWNERDEAD, shmds_mutex_lock(h.m, 5'000'000'000)) << shmds_last_error();
        waited_after_kill_ms = double(shmds::core::monotonic_ns() - killed_at.load()) / 1e6;
        EXPECT_EQ(0, shmds_mutex_consistent(h.m));
        EXPECT_EQ(0, shmds_mutex_unlock(h.m));
    });
    std::this_thread::sleep_for(30ms);  // the waiter is asleep by now
    killed_at = shmds::core::monotonic_ns();
    kill(holder, SIGKILL);
    waiter.join();
    EXPECT_GE(waited_after_kill_ms.load(), 0.0);
    EXPECT_LE(waited_after_kill_ms.load(), kRecoveryBoundMs);
    wait_child(holder, 5s);
    EXPECT_EQ(1u, shmds_mutex_recoveries(h.m));
    munmap(ready, sizeof(*ready));
}

TEST(Mutex, ManyWaitersOneHeirPerDeath) {
    // Four processes queue behind a holder that is then killed: exactly one of them
    // hears SHMDS_EOWNERDEAD, and the lock keeps counting exactly afterwards.
    MutexHandle h;
    struct Shared {
        std::atomic<int> ready{0};
        std::atomic<int> owner_dead{0};
        long counter = 0;
    };
    auto *sh = shared_counter<Shared>();
    pid_t holder = fork_child([&] {
        CHILD_CHECK(shmds_mutex_lock(h.m, SHMDS_FOREVER) == 0);
        sh->ready.store(1);
        pause();
        return 1;
    });
    while (sh->ready.load() != 1) std::this_thread::sleep_for(1ms);
    constexpr int kWaiters = 4, kIters = 500;
    std::vector<pid_t> waiters;
    for (int w = 0; w < kWaiters; ++w)
        waiters.push_back(fork_child([&] {
            for (int i = 0; i < kIters; ++i) {
                int r = shmds_mutex_lock(h.m, 10'000'000'000);
                if (r == SHMDS_EOWNERDEAD) {
                    sh->owner_dead.fetch_add(1);
                    CHILD_CHECK(shmds_mutex_consistent(h.m) == 0);
                } else {
                    CHILD_CHECK(r == 0);
                }
                ++sh->counter;
                CHILD_CHECK(shmds_mutex_unlock(h.m) == 0);
            }
            return 0;
        }));
    std::this_thread::sleep_for(20ms);
    kill(holder, SIGKILL);
    for (pid_t w : waiters) {
        ChildExit e = wait_child(w, 30s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    wait_child(holder, 5s);
    EXPECT_EQ(1, sh->owner_dead.load());
    EXPECT_EQ(long(kWaiters) * kIters, sh->counter);
    EXPECT_EQ(1u, shmds_mutex_recoveries(h.m));
    munmap(sh, sizeof(*sh));
}

TEST(OwnedMutex, ForeignOrDamagedLockWordsAreTakenOverNotTrusted) {
    // The lock word lives in memory other processes can scribble on. Whatever it
    // holds, a locker either waits for a live thread or takes the lock over: it never
    // follows the word anywhere.
    using namespace shmds;
    auto *m = shared_counter<sync::OwnedMutex>();
    sync::owned_mutex_init(*m);
    std::atomic<std::uint64_t> recoveries{0};
    // A thread id above any pid_max, with the waiters bit and a start time.
    m->word.store(0x3ffffff0u | sync::kOwnedMutexWaiters | (std::uint64_t{0x1234} << 32));
    EXPECT_EQ(-EPERM, sync::owned_mutex_unlock(*m, "m"));
    EXPECT_EQ(SHMDS_EOWNERDEAD,
              sync::owned_mutex_lock(*m, core::Deadline::from_timeout(0), recoveries, "m"));
    EXPECT_EQ(0, sync::owned_mutex_consistent(*m, "m"));
    EXPECT_EQ(0, sync::owned_mutex_unlock(*m, "m"));
    EXPECT_EQ(0u, m->word.load());
    // Thread id 0 with a start time (the fuzzer's example): no thread, taken over.
    m->word.store(std::uint64_t{1} << 32);
    EXPECT_EQ(SHMDS_EOWNERDEAD,
              sync::owned_mutex_lock(*m, core::Deadline::from_timeout(0), recoveries, "m"));
    EXPECT_EQ(0, sync::owned_mutex_unlock(*m, "m"));
    // Our own thread id with another start time: an earlier thread that had this id,
    // not us, so not EDEADLK. The quick check only sees that the id exists; try_lock's
    // throttled full check (and any waiting lock's) sees the start time differ and
    // takes over.
    m->word.store(core::self_thread_stamp() ^ (std::uint64_t{1} << 40));
    EXPECT_EQ(SHMDS_EOWNERDEAD,
              sync::owned_mutex_lock(*m, core::Deadline::from_timeout(0), recoveries, "m"));
    EXPECT_EQ(0, sync::owned_mutex_consistent(*m, "m"));
    EXPECT_EQ(0, sync::owned_mutex_unlock(*m, "m"));
    m->word.store(core::self_thread_stamp() ^ (std::uint64_t{1} << 40));
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(SHMDS_EOWNERDEAD, sync::owned_mutex_lock(*m, core::Deadline::from_timeout(1'000'000'000),
                                                       recoveries, "m"));
    EXPECT_LE(ms_since(t0), kRecoveryBoundMs);
    EXPECT_TRUE(sync::owned_mutex_held_by_caller(*m));
    EXPECT_EQ(0, sync::owned_mutex_consistent(*m, "m"));
    EXPECT_EQ(0, sync::owned_mutex_unlock(*m, "m"));
    EXPECT_EQ(4u, recoveries.load());
    munmap(m, sizeof(*m));
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
