// RWLock: the try-lock matrix, recursion per thread, threads counting separately,
// downgrade, fork (a child owns none of its parent's read locks), no writer
// starvation, dead readers and writers, a stopped writer that is not dead; the reader
// slots (kept by their thread, taken when idle, cleared when dead, bounded when
// scribbled).
#include "sync_support.hpp"

#include "core/deadline.hpp"
#include "sync/rwlock.hpp"

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
    std::atomic<bool> writer_holds{false}, writer_may_leave{false};
    std::thread writer([&] {
        EXPECT_EQ(0, shmds_rwlock_wrlock(h.rw, 5'000'000'000));
        writer_holds = true;
        while (!writer_may_leave) std::this_thread::sleep_for(1ms);
        EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
    });
    // Another thread's try_rdlock fails once the writer has claimed the lock.
    while (other_thread_tries(h.rw).first == 0) std::this_thread::sleep_for(1ms);
    // A writer has claimed: a new reader waits, but our recursion must not deadlock.
    EXPECT_EQ(0, shmds_rwlock_rdlock(h.rw, 0));
    EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
    EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
    while (!writer_holds) std::this_thread::sleep_for(1ms);
    // The writer thread stays alive while it is checked: a thread that ends holding the
    // lock is a dead writer, and the next reader would recover it (SHMDS_EOWNERDEAD).
    EXPECT_EQ(1, shmds_rwlock_is_write_locked(h.rw));
    std::thread([&] { EXPECT_EQ(-EAGAIN, shmds_rwlock_try_rdlock(h.rw)); }).join();
    writer_may_leave = true;
    writer.join();
    EXPECT_EQ(0, shmds_rwlock_is_write_locked(h.rw));
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

// ---------------------------------------------------------------- reader slots

shmds::sync::RwLock &engine(shmds_rwlock_t *rw) {
    return *reinterpret_cast<shmds::sync::RwLock *>(rw);
}
shmds::sync::RwControl &control_of(shmds_rwlock_t *rw) {
    return *reinterpret_cast<shmds::sync::RwControl *>(engine(rw).control());
}
shmds::sync::ReaderSlot &slot_of(shmds_rwlock_t *rw, std::uint32_t i) {
    return reinterpret_cast<shmds::sync::ReaderSlot *>(engine(rw).control() +
                                                        sizeof(shmds::sync::RwControl))[i];
}

TEST(RwLockSlots, AThreadKeepsItsSlotAcrossReadLocks) {
    RwHandle h;
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(0, shmds_rwlock_rdlock(h.rw, 0));
        EXPECT_EQ(1u, shmds_rwlock_readers(h.rw));
        ASSERT_EQ(0, shmds_rwlock_unlock(h.rw));
        EXPECT_EQ(0u, shmds_rwlock_readers(h.rw));
        EXPECT_EQ(1u, engine(h.rw).claimed_slots()) << "round " << i;  // the same slot
    }
    std::thread([&] {
        ASSERT_EQ(0, shmds_rwlock_rdlock(h.rw, 0));
        EXPECT_EQ(2u, engine(h.rw).claimed_slots());  // a thread of its own: another slot
        ASSERT_EQ(0, shmds_rwlock_unlock(h.rw));
    }).join();
    EXPECT_EQ(2u, control_of(h.rw).slots_used.load());
}

TEST(RwLockSlots, SlotOfAnExitedThreadIsReused) {
    RwHandle h(1);
    std::thread([&] {
        ASSERT_EQ(0, shmds_rwlock_rdlock(h.rw, 0));
        ASSERT_EQ(0, shmds_rwlock_unlock(h.rw));
    }).join();
    EXPECT_EQ(1u, engine(h.rw).claimed_slots());  // kept after the unlock...
    ASSERT_EQ(0, shmds_rwlock_rdlock(h.rw, 0));  // ...and reused once its thread is gone
    EXPECT_EQ(1u, engine(h.rw).claimed_slots());
    EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
    EXPECT_EQ(0u, shmds_rwlock_recoveries(h.rw));  // nothing was held: no recovery
}

TEST(RwLockSlots, SlotsBoundReadersAtOnceNotThreadsThatEverRead) {
    // One slot, two live threads: the idle one's slot is taken, and it takes it back.
    RwHandle h(1);
    std::atomic<int> stage{0};
    std::thread other([&] {
        ASSERT_EQ(0, shmds_rwlock_rdlock(h.rw, 0));
        ASSERT_EQ(0, shmds_rwlock_unlock(h.rw));
        stage = 1;
        while (stage != 2) std::this_thread::sleep_for(1ms);
        EXPECT_EQ(-EUSERS, shmds_rwlock_try_rdlock(h.rw));  // the main thread reads now
        EXPECT_EQ(-EPERM, shmds_rwlock_unlock(h.rw));      // its slot was taken
        stage = 3;
        while (stage != 4) std::this_thread::sleep_for(1ms);
        EXPECT_EQ(0, shmds_rwlock_rdlock(h.rw, 0));
        EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
    });
    while (stage != 1) std::this_thread::sleep_for(1ms);
    ASSERT_EQ(0, shmds_rwlock_rdlock(h.rw, 0));
    stage = 2;
    while (stage != 3) std::this_thread::sleep_for(1ms);
    EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
    stage = 4;
    other.join();
    EXPECT_EQ(0u, shmds_rwlock_readers(h.rw));
}

TEST(RwLockSlots, DeadReaderInsideIsClearedWhenSlotsRunOut) {
    RwHandle h(1);
    auto *stage = shared<std::atomic<int>>();
    pid_t pid = fork_child([&] {
        CHILD_CHECK(shmds_rwlock_rdlock(h.rw, 0) == 0);
        stage->store(1);
        pause();
        return 1;
    });
    while (stage->load() != 1) std::this_thread::sleep_for(1ms);
    EXPECT_EQ(-EUSERS, shmds_rwlock_try_rdlock(h.rw));  // the only slot has a live reader
    kill(pid, SIGKILL);
    ASSERT_TRUE(wait_dead_unreaped(pid, 5s));  // a zombie reader
    EXPECT_EQ(0, shmds_rwlock_try_rdlock(h.rw)) << shmds_last_error();
    EXPECT_EQ(1u, shmds_rwlock_recoveries(h.rw));
    EXPECT_EQ(1u, shmds_rwlock_readers(h.rw));
    EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
    expect_killed(pid, "rwlock reader");
    munmap(stage, sizeof(*stage));
}

TEST(RwLockSlots, WriterWaitsForAReaderStillInsideAndIsWokenByItsUnlock) {
    RwHandle h;
    ASSERT_EQ(0, shmds_rwlock_rdlock(h.rw, 0));
    std::atomic<bool> written{false};
    std::atomic<std::int64_t> got_ns{0};
    std::thread writer([&] {
        EXPECT_EQ(0, shmds_rwlock_wrlock(h.rw, SHMDS_FOREVER));
        got_ns = shmds::core::monotonic_ns();
        written = true;
        EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
    });
    // The writer claims and then waits for us: new readers are held back meanwhile.
    while (other_thread_tries(h.rw).first == 0) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(50ms);
    EXPECT_FALSE(written.load()) << "a writer got in beside a reader";
    EXPECT_EQ(0, shmds_rwlock_is_write_locked(h.rw));
    const std::int64_t released = shmds::core::monotonic_ns();
    ASSERT_EQ(0, shmds_rwlock_unlock(h.rw));
    writer.join();
    EXPECT_TRUE(written.load());
    EXPECT_GE(got_ns.load(), released);
    EXPECT_EQ(0u, shmds_rwlock_recoveries(h.rw));
}

TEST(RwLockSlots, AStaleHintNeverUsesAnotherThreadsSlot) {
    // The calling thread's hint names slot 0 at the first lock's address; the second
    // lock (often mapped at the same address) has another thread in its slot 0.
    {
        RwHandle first;
        ASSERT_EQ(0, shmds_rwlock_rdlock(first.rw, 0));
        ASSERT_EQ(0, shmds_rwlock_unlock(first.rw));
    }
    RwHandle second;
    std::atomic<int> stage{0};
    std::thread other([&] {
        ASSERT_EQ(0, shmds_rwlock_rdlock(second.rw, 0));
        stage = 1;
        while (stage != 2) std::this_thread::sleep_for(1ms);
        EXPECT_EQ(0, shmds_rwlock_unlock(second.rw));
    });
    while (stage != 1) std::this_thread::sleep_for(1ms);
    ASSERT_EQ(0, shmds_rwlock_rdlock(second.rw, 0));
    EXPECT_EQ(2u, shmds_rwlock_readers(second.rw));
    EXPECT_EQ(0, shmds_rwlock_unlock(second.rw));
    EXPECT_EQ(1u, shmds_rwlock_readers(second.rw));  // the other thread still reads
    EXPECT_EQ(-EPERM, shmds_rwlock_unlock(second.rw));
    stage = 2;
    other.join();
    EXPECT_EQ(0u, shmds_rwlock_readers(second.rw));
}

TEST(RwLockSlots, ScribbledHighWaterMarkStaysInsideTheSlots) {
    // One slot: a scan that believed the shared high-water mark would leave the mapping.
    RwHandle h(1);
    control_of(h.rw).slots_used.store(0xffffffffu);
    EXPECT_EQ(0u, shmds_rwlock_readers(h.rw));
    EXPECT_EQ(0u, engine(h.rw).claimed_slots());
    ASSERT_EQ(0, shmds_rwlock_rdlock(h.rw, 0));
    EXPECT_EQ(1u, shmds_rwlock_readers(h.rw));
    EXPECT_EQ(-EAGAIN, other_thread_tries(h.rw).second);
    ASSERT_EQ(0, shmds_rwlock_unlock(h.rw));
    ASSERT_EQ(0, shmds_rwlock_wrlock(h.rw, 0));
    ASSERT_EQ(0, shmds_rwlock_unlock(h.rw));
}

TEST(RwLockSlots, ScribbledReaderSlotsDoNotPinTheLock) {
    // Depth in a slot with no owner, and in a slot owned by a thread that does not
    // exist: neither can be a reader, so a writer clears both and gets in.
    RwHandle h(2);
    control_of(h.rw).slots_used.store(2);
    slot_of(h.rw, 0).state.store(5);
    slot_of(h.rw, 1).owner.store(0x7fffffffull << 32 | 0x3ffffffe);  // no such thread id
    slot_of(h.rw, 1).state.store((std::uint64_t{1} << 32) | 1);
    EXPECT_EQ(2u, shmds_rwlock_readers(h.rw));
    EXPECT_EQ(0, shmds_rwlock_wrlock(h.rw, 1'000'000'000)) << shmds_last_error();
    EXPECT_EQ(0u, shmds_rwlock_readers(h.rw));
    EXPECT_EQ(2u, shmds_rwlock_recoveries(h.rw));
    EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
    ASSERT_EQ(0, shmds_rwlock_rdlock(h.rw, 0));  // the cleared slots are claimable again
    EXPECT_EQ(0, shmds_rwlock_unlock(h.rw));
}

}  // namespace
