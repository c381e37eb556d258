// RWLock: the try-lock matrix, recursion per thread, threads counting separately,
// downgrade, fork (a child owns none of its parent's read locks), no writer
// starvation, dead readers and writers, a stopped writer that is not dead.
#include "sync_support.hpp"

#include "core/deadline.hpp"

#include <shmds/sync.h>

#include <atomic>
#include <cerrno>
#include <sys/mman.h>
#include <thread>

using namespace shmds::test;

namespace {

struct RwHandle {
    shmds_rwlock_t *rw = nullptr;
    explicit RwHandle(uint32_t slots = 0) {
        EXPECT_EQ(0, shmds_rwlock_create(nullptr, slots, &rw)) << shmds_last_error();
    }
    ~RwHandle() { shmds_rwlock_close(rw); }
};

template <typename T>
T *shared() {
    void *p = mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(MAP_FAILED, p);
    return new (p) T{};
}

// What another thread sees for try_rdlock / try_wrlock (it releases what it gets).
std::pair<int, int> other_thread_tries(shmds_rwlock_t *rw) {
    std::pair<int, int> out;
    std::thread([&] {
        out.first = shmds_rwlock_try_rdlock(rw);
        if (out.first == 0) shmds_rwlock_unlock(rw);
        out.second = shmds_rwlock_try_wrlock(rw);
        if (out.second == 0) shmds_rwlock_unlock(rw);
    }).join();
    return out;
}

TEST(RwLock, ParametersAndErrors) {
    shmds_rwlock_t *rw = nullptr;
    EXPECT_EQ(-EINVAL, shmds_rwlock_create(nullptr, 4097, &rw));
    RwHandle h;
    EXPECT_EQ(-EPERM, shmds_rwlock_unlock(h.rw));
    EXPECT_EQ(-EPERM, shmds_rwlock_downgrade(h.rw));
    EXPECT_EQ(-EPERM, shmds_rwlock_consistent(h.rw));
    EXPECT_EQ(-EINVAL, shmds_rwlock_rdlock(nullptr, 0));
    EXPECT_EQ(-EINVAL, shmds_rwlock_wrlock(h.rw, -5));
}

TEST(RwLock, TryLockMatrix) {
    RwHandle h;
    // Free: both succeed.
    EXPECT_EQ(std::make_pair(0, 0), other_thread_tries(h.rw));
    // Read-held: readers yes, writers no.
    ASSERT_EQ(0, shmds_rwlock_try_rdlock(h.rw));
    EXPECT_EQ(std::make_pair(0, -EAGAIN), other_thread_tries(h.rw));
    EXPECT_EQ(1u, shmds_rwlock_readers(h.rw));
    EXPECT_EQ(-EDEADLK, shmds_rwlock_try_wrlock(h.rw));  // no upgrade
    ASSERT_EQ(0, shmds_rwlock_unlock(h.rw));
    // Write-held: neither.
    ASSERT_EQ(0, shmds_rwlock_try_wrlock(h.rw));
    EXPECT_EQ(1, shmds_rwlock_is_write_locked(h.rw));
    EXPECT_EQ(std::make_pair(-EAGAIN, -EAGAIN), other_thread_tries(h.rw));
    EXPECT_EQ(-EDEADLK, shmds_rwlock_try_wrlock(h.rw));
    EXPECT_EQ(-EDEADLK, shmds_rwlock_try_rdlock(h.rw));
    ASSERT_EQ(0, shmds_rwlock_unlock(h.rw));
    EXPECT_EQ(0, shmds_rwlock_is_write_locked(h.rw));
    // And across processes.
    ASSERT_EQ(0, shmds_rwlock_rdlock(h.rw, 0));
    run_child_ok([&] {
        CHILD_CHECK(shmds_rwlock_try_wrlock(h.rw) == -EAGAIN);
        CHILD_CHECK(shmds_rwlock_try_rdlock(h.rw) == 0);
        CHILD_CHECK(shmds_rwlock_unlock(h.rw) == 0);
        CHILD_CHECK(shmds_rwlock_unlock(h.rw) == -EPERM);  // the parent's read lock
        return 0;
    });
    ASSERT_EQ(0, shmds_rwlock_unlock(h.rw));
    EXPECT_EQ(0u, shmds_rwlock_readers(h.rw));
}

TEST(RwLock, ReadersAreRecursivePerThreadAndThreadsCountSeparately) {
    RwHandle h;
    ASSERT_EQ(0, shmds_rwlock_rdlock(h.rw, 0));
    ASSERT_EQ(0, shmds_rwlock_rdlock(h.rw, 0));
    std::thread([&] {
        EXPECT_EQ(0, shmds_rwlock_rdlock(h.rw, 0));
        EXPECT_EQ(2u, shmds_rwlock_readers(h.rw));
        EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
        EXPECT_EQ(-EPERM, shmds_rwlock_unlock(h.rw));  // the main thread's levels are not ours
    }).join();
    EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
    EXPECT_EQ(-EAGAIN, other_thread_tries(h.rw).second);  // one level still held
    EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
    EXPECT_EQ(-EPERM, shmds_rwlock_unlock(h.rw));
    EXPECT_EQ(0, other_thread_tries(h.rw).second);
}

TEST(RwLock, RecursiveReaderGetsInPastAWaitingWriter) {
    RwHandle h;
    ASSERT_EQ(0, shmds_rwlock_rdlock(h.rw, 0));
    std::thread writer([&] { EXPECT_EQ(0, shmds_rwlock_wrlock(h.rw, 5'000'000'000)); });
    // Another thread's try_rdlock fails once the writer has claimed the lock.
    while (other_thread_tries(h.rw).first == 0) std::this_thread::sleep_for(1ms);
    // A writer has claimed: a new reader waits, but our recursion must not deadlock.
    EXPECT_EQ(0, shmds_rwlock_rdlock(h.rw, 0));
    EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
    EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
    writer.join();
    EXPECT_EQ(1, shmds_rwlock_is_write_locked(h.rw));
    std::thread([&] { EXPECT_EQ(-EAGAIN, shmds_rwlock_try_rdlock(h.rw)); }).join();
    // The writer thread exited holding it; only it could unlock. Recreate to clean up.
}

TEST(RwLock, DowngradeLetsReadersInButNoWriter) {
    RwHandle h;
    ASSERT_EQ(0, shmds_rwlock_wrlock(h.rw, 0));
    ASSERT_EQ(0, shmds_rwlock_downgrade(h.rw));
    EXPECT_EQ(0, shmds_rwlock_is_write_locked(h.rw));
    EXPECT_EQ(std::make_pair(0, -EAGAIN), other_thread_tries(h.rw));
    EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
    EXPECT_EQ(std::make_pair(0, 0), other_thread_tries(h.rw));
}

TEST(RwLock, ExclusiveWritersAcrossProcesses) {
    SKIP_IF_WIDE_ATOMICS_ARE_PROCESS_LOCAL();
    RwHandle h;
    struct Shared {
        long counter;
        std::atomic<int> bad_reads;
    };
    auto *sh = shared<Shared>();
    constexpr int kProcs = 3, kIters = 3000;
    pid_t pids[kProcs];
    for (int k = 0; k < kProcs; ++k)
        pids[k] = fork_child([&, k] {
            for (int i = 0; i < kIters; ++i) {
                if ((i + k) % 4 == 0) {
                    CHILD_CHECK(shmds_rwlock_wrlock(h.rw, SHMDS_FOREVER) == 0);
                    long v = sh->counter;
                    sh->counter = v + 1;
                    sh->counter = v + 2;  // readers must never see an odd value
                    CHILD_CHECK(shmds_rwlock_unlock(h.rw) == 0);
                } else {
                    CHILD_CHECK(shmds_rwlock_rdlock(h.rw, SHMDS_FOREVER) == 0);
                    if (sh->counter % 2) sh->bad_reads.fetch_add(1);
                    CHILD_CHECK(shmds_rwlock_unlock(h.rw) == 0);
                }
            }
            return 0;
        });
    for (pid_t p : pids) {
        ChildExit e = wait_child(p, 30s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    long writes = 0;
    for (int k = 0; k < kProcs; ++k)
        for (int i = 0; i < kIters; ++i) writes += (i + k) % 4 == 0;
    EXPECT_EQ(2 * writes, sh->counter);
    EXPECT_EQ(0, sh->bad_reads.load());
    munmap(sh, sizeof(Shared));
}

// Readers in 2 processes overlap continuously, so the lock is never free of readers;
// a write-preferring lock still lets the writer in.
TEST(RwLock, WriterIsNotStarvedByOverlappingReaders) {
    SKIP_IF_WIDE_ATOMICS_ARE_PROCESS_LOCAL();
    RwHandle h;
    auto *stop = shared<std::atomic<int>>();
    pid_t pids[2];
    for (pid_t &p : pids)
        p = fork_child([&] {
            auto reader = [&] {
                while (!stop->load()) {
                    if (shmds_rwlock_rdlock(h.rw, 100'000'000) != 0) continue;
                    std::this_thread::sleep_for(2ms);
                    shmds_rwlock_unlock(h.rw);
                }
            };
            std::thread other(reader);
            reader();
            other.join();
            return 0;
        });
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(0, shmds_rwlock_wrlock(h.rw, 2'000'000'000)) << "writer starved";
    EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
    stop->store(1);
    for (pid_t p : pids) {
        ChildExit e = wait_child(p, 10s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    munmap(stop, sizeof(*stop));
}

TEST(RwLock, DeadReaderDoesNotPinTheLock) {
    RwHandle h;
    auto *stage = shared<std::atomic<int>>();
    pid_t pid = fork_child([&] {
        CHILD_CHECK(shmds_rwlock_rdlock(h.rw, 0) == 0);
        CHILD_CHECK(shmds_rwlock_rdlock(h.rw, 0) == 0);
        stage->store(1);
        pause();
        return 1;
    });
    while (stage->load() != 1) std::this_thread::sleep_for(1ms);
    kill(pid, SIGKILL);
    ASSERT_TRUE(wait_dead_unreaped(pid, 5s));  // a zombie reader
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(0, shmds_rwlock_wrlock(h.rw, 1'000'000'000));
    EXPECT_LE(ms_since(t0), kRecoveryBoundMs);
    EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
    EXPECT_EQ(1u, shmds_rwlock_recoveries(h.rw));
    expect_killed(pid, "rwlock reader");
    munmap(stage, sizeof(*stage));
}

TEST(RwLock, DeadWriterIsRecoveredAndReportedUntilConsistent) {
    RwHandle h;
    auto *stage = shared<std::atomic<int>>();
    pid_t pid = fork_child([&] {
        CHILD_CHECK(shmds_rwlock_wrlock(h.rw, 0) == 0);
        stage->store(1);
        pause();
        return 1;
    });
    while (stage->load() != 1) std::this_thread::sleep_for(1ms);
    std::atomic<std::int64_t> killed{0};
    std::thread killer([&] {
        std::this_thread::sleep_for(30ms);
        killed = shmds::core::monotonic_ns();
        kill(pid, SIGKILL);
    });
    EXPECT_EQ(SHMDS_EOWNERDEAD, shmds_rwlock_rdlock(h.rw, 5'000'000'000));
    const double ms = double(shmds::core::monotonic_ns() - killed.load()) / 1e6;
    killer.join();
    EXPECT_LE(ms, kRecoveryBoundMs);
    EXPECT_EQ(-EPERM, shmds_rwlock_consistent(h.rw));  // a reader cannot repair
    EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
    EXPECT_EQ(SHMDS_EOWNERDEAD, shmds_rwlock_wrlock(h.rw, 0));
    EXPECT_EQ(0, shmds_rwlock_consistent(h.rw));
    EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
    EXPECT_EQ(0, shmds_rwlock_rdlock(h.rw, 0));
    EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
    EXPECT_EQ(1u, shmds_rwlock_recoveries(h.rw));
    expect_killed(pid, "rwlock writer");
    munmap(stage, sizeof(*stage));
}

TEST(RwLock, WriterThreadThatEndsHoldingItIsADeadWriter) {
    // The write lock belongs to a thread: one that ends without unlocking is a dead
    // writer even though its process lives on, and the lock does not stay wedged.
    RwHandle h;
    std::thread([&] { ASSERT_EQ(0, shmds_rwlock_wrlock(h.rw, 0)); }).join();
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(SHMDS_EOWNERDEAD, shmds_rwlock_wrlock(h.rw, 1'000'000'000)) << shmds_last_error();
    EXPECT_LE(ms_since(t0), kRecoveryBoundMs);
    EXPECT_EQ(0, shmds_rwlock_consistent(h.rw));
    EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
    // A writer that gives up waiting for readers to drain withdraws its claim: readers
    // go on, and nothing is flagged.
    ASSERT_EQ(0, shmds_rwlock_rdlock(h.rw, 0));
    std::thread([&] { EXPECT_EQ(-ETIMEDOUT, shmds_rwlock_wrlock(h.rw, 20'000'000)); }).join();
    EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
    EXPECT_EQ(0, shmds_rwlock_rdlock(h.rw, 0));
    EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
    EXPECT_EQ(1u, shmds_rwlock_recoveries(h.rw));
}

TEST(RwLock, StoppedWriterIsNotDead) {
    RwHandle h;
    auto *stage = shared<std::atomic<int>>();
    pid_t pid = fork_child([&] {
        CHILD_CHECK(shmds_rwlock_wrlock(h.rw, 0) == 0);
        stage->store(1);
        while (stage->load() != 2) std::this_thread::sleep_for(1ms);
        CHILD_CHECK(shmds_rwlock_unlock(h.rw) == 0);
        return 0;
    });
    while (stage->load() != 1) std::this_thread::sleep_for(1ms);
    kill(pid, SIGSTOP);
    EXPECT_EQ(-ETIMEDOUT, shmds_rwlock_rdlock(h.rw, 250'000'000));
    stage->store(2);
    kill(pid, SIGCONT);
    EXPECT_EQ(0, shmds_rwlock_rdlock(h.rw, 5'000'000'000));
    EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
    ChildExit e = wait_child(pid, 10s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    EXPECT_EQ(0u, shmds_rwlock_recoveries(h.rw));
    munmap(stage, sizeof(*stage));
}

TEST(RwLock, ReaderSlotsRunOutWithEUSERS) {
    RwHandle h(1);
    ASSERT_EQ(0, shmds_rwlock_rdlock(h.rw, 0));
    std::thread([&] { EXPECT_EQ(-EUSERS, shmds_rwlock_try_rdlock(h.rw)); }).join();
    EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
}

}  // namespace
