// The C++ veneer: Lockable/SharedLockable with std::unique_lock, std::shared_lock and
// std::scoped_lock; owner death as an exception or lock_result; guards that release
// nothing in a fork() child; semaphore, barrier and once wrappers.
#include "support/proc.hpp"

#include <shmds/sync.hpp>

#include <mutex>
#include <optional>
#include <stdexcept>
#include <shared_mutex>
#include <thread>

// Every member of every guard compiles, used by a test or not.
template class shmds::lock_guard<shmds::mutex>;
template class shmds::lock_guard<shmds::condvar>;
template class shmds::lock_guard<shmds::rwlock>;

using namespace shmds::test;

namespace {

TEST(SyncCpp, StandardLocksWork) {
    auto m = shmds::mutex::create(shmds::backing::anonymous());
    auto rw = shmds::rwlock::create(shmds::backing::anonymous());
    auto cv = shmds::condvar::create(shmds::backing::anonymous());
    {
        std::scoped_lock both(m, cv);
        std::thread([&] { EXPECT_FALSE(m.try_lock()); }).join();
    }
    {
        std::unique_lock<shmds::mutex> u(m, std::chrono::milliseconds(10));
        EXPECT_TRUE(u.owns_lock());
    }
    {
        std::shared_lock<shmds::rwlock> r1(rw);
        std::thread([&] { EXPECT_FALSE(rw.try_lock()); }).join();
        std::thread([&] {
            std::shared_lock<shmds::rwlock> r2(rw);
            EXPECT_EQ(2u, rw.readers());
        }).join();
    }
    {
        std::unique_lock<shmds::rwlock> w(rw);
        std::thread([&] { EXPECT_FALSE(rw.try_lock_shared()); }).join();
    }
    std::unique_lock<shmds::condvar> lk(cv);
    EXPECT_FALSE(cv.wait_for(std::chrono::milliseconds(5), [] { return false; }));
    EXPECT_THROW(m.unlock(), shmds::error);  // not held
}

TEST(SyncCpp, OwnerDeathIsAnExceptionOrALockResult) {
    auto m = shmds::mutex::create(shmds::backing::anonymous());
    pid_t pid = fork_child([&] {
        m.lock();
        pause();
        return 1;
    });
    std::this_thread::sleep_for(30ms);
    kill(pid, SIGKILL);
    wait_child(pid, 5s);
    try {
        std::lock_guard<shmds::mutex> g(m);
        FAIL() << "lock() after an owner died must throw";
    } catch (const shmds::error &e) {
        EXPECT_EQ(SHMDS_EOWNERDEAD, e.value());
    }
    EXPECT_EQ(shmds::lock_result::owner_died, m.lock_recoverable());  // not silent
    m.consistent();
    m.unlock();
    EXPECT_EQ(shmds::lock_result::acquired, m.lock_recoverable());
    m.unlock();
}

TEST(SyncCpp, GuardsReleaseNothingInAForkedChild) {
    auto m = shmds::mutex::create(shmds::backing::anonymous());
    auto rw = shmds::rwlock::create(shmds::backing::anonymous());
    auto s = shmds::semaphore::create(shmds::backing::anonymous(), 1, 1);
    std::optional<shmds::lock_guard<shmds::mutex>> g;
    std::optional<shmds::read_guard> r;
    std::optional<shmds::permit_guard> p;
    g.emplace(m);
    r.emplace(rw);
    p.emplace(s);
    run_child_ok([&] {
        g.reset();  // the guards' destructors run here, in the child
        r.reset();
        p.reset();
        CHILD_CHECK(!m.try_lock());
        CHILD_CHECK(!rw.try_lock());
        CHILD_CHECK(s.value() == 0);
        return 0;
    });
    EXPECT_EQ(0u, s.value());
    EXPECT_EQ(1u, rw.readers());
    g.reset();
    r.reset();
    p.reset();
    EXPECT_EQ(1u, s.value());
    EXPECT_EQ(0u, rw.readers());
    std::thread([&] {
        EXPECT_TRUE(m.try_lock());
        m.unlock();
    }).join();
}

TEST(SyncCpp, SemaphoreBarrierAndOnce) {
    auto s = shmds::semaphore::create(shmds::backing::anonymous(), 2, 0);
    EXPECT_FALSE(s.try_acquire());
    s.release(2);
    EXPECT_TRUE(s.try_acquire_for(std::chrono::milliseconds(10), 2));
    EXPECT_EQ(2u, s.held());
    s.release(2);
    EXPECT_THROW(shmds::semaphore::create(shmds::backing::anonymous(), 0, 0), shmds::error);

    auto b = shmds::barrier::create(shmds::backing::anonymous(), 2);
    shmds::barrier_result other{};
    std::thread t([&] { other = b.wait(); });
    EXPECT_NE(shmds::barrier_result::timed_out, b.wait_for(std::chrono::seconds(5)));
    t.join();
    EXPECT_NE(shmds::barrier_result::timed_out, other);
    EXPECT_EQ(1u, b.generation());

    auto o = shmds::once::create(shmds::backing::anonymous());
    int runs = 0;
    EXPECT_THROW(o.call([&] { throw std::runtime_error("init failed"); }), std::runtime_error);
    EXPECT_FALSE(o.is_done());  // the failed initializer gave its role back
    EXPECT_TRUE(o.call([&] { ++runs; }));
    EXPECT_FALSE(o.call([&] { ++runs; }));
    EXPECT_EQ(1, runs);
}

}  // namespace

namespace {

// A zero duration is the C API's probe: a party that would not be last does not
// arrive, so nothing times out and nothing breaks (before, wait_for(0ms) became a 1 ns
// wait that timed out and broke the barrier for every party).
TEST(SyncCppTimeouts, AZeroDurationBarrierWaitIsAProbeThatBreaksNothing) {
    auto b = shmds::barrier::create(shmds::backing::anonymous(), 2);
    run_child_ok([&] {
        CHILD_CHECK(b.wait_for(0ms) == shmds::barrier_result::would_block);
        CHILD_CHECK(b.wait_for(-5s) == shmds::barrier_result::would_block);
        return 0;
    });
    EXPECT_FALSE(b.is_broken());
    EXPECT_EQ(0u, b.arrived());
    EXPECT_EQ(0u, b.generation());

    // A later full arrival trips it: the child waits, the parent completes it.
    pid_t child = fork_child([&] {
        const auto r = b.wait_for(10s);
        return r == shmds::barrier_result::follower || r == shmds::barrier_result::leader ? 0 : 1;
    });
    ASSERT_GT(child, 0);
    for (int i = 0; i < 5000 && b.arrived() == 0; ++i) std::this_thread::sleep_for(1ms);
    ASSERT_EQ(1u, b.arrived());
    // The probe of the party that completes the generation does arrive, and leads.
    EXPECT_EQ(shmds::barrier_result::leader, b.wait_for(0ms));
    ChildExit e = wait_child(child, 15s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    EXPECT_EQ(1u, b.generation());
    EXPECT_FALSE(b.is_broken());
}

TEST(SyncCppTimeouts, APositiveBarrierTimeoutStillBreaksTheBarrier) {
    auto b = shmds::barrier::create(shmds::backing::anonymous(), 2);
    EXPECT_EQ(shmds::barrier_result::timed_out, b.wait_for(1ms));
    EXPECT_TRUE(b.is_broken());
    EXPECT_EQ(shmds::barrier_result::broken, b.wait_for(0ms));
    b.reset();
    EXPECT_FALSE(b.is_broken());
}

// Every Lockable of the veneer is TimedLockable: a deadline already past is a probe
// (held: false at once; free: taken), a future one waits for the holder.
template <class Lock>
void check_until_verbs(Lock &l) {
    const auto past = std::chrono::steady_clock::now() - 1s;
    {
        std::unique_lock<Lock> held(l);
        std::thread([&] {
            const auto start = std::chrono::steady_clock::now();
            EXPECT_FALSE(l.try_lock_until(past));
            EXPECT_FALSE(l.try_lock_until(std::chrono::system_clock::now() - 1h));
            EXPECT_LT(ms_since(start), 500.0) << "a past deadline must not wait";
            EXPECT_FALSE(l.try_lock_until(std::chrono::steady_clock::now() + 20ms));
            EXPECT_GE(ms_since(start), 20.0) << "a future deadline waits";
        }).join();
    }
    std::thread([&] {
        EXPECT_TRUE(l.try_lock_until(past));  // free: the probe takes it
        l.unlock();
        EXPECT_TRUE(l.try_lock_for(0ms));
        l.unlock();
    }).join();
}

TEST(SyncCppTimeouts, UntilVerbsTreatAPastDeadlineAsAProbe) {
    auto m = shmds::mutex::create(shmds::backing::anonymous());
    auto rw = shmds::rwlock::create(shmds::backing::anonymous());
    auto cv = shmds::condvar::create(shmds::backing::anonymous());
    check_until_verbs(m);
    check_until_verbs(rw);
    check_until_verbs(cv);

    const auto past = std::chrono::steady_clock::now() - 1s;
    std::unique_lock<shmds::rwlock> w(rw);
    std::thread([&] {
        const auto start = std::chrono::steady_clock::now();
        EXPECT_FALSE(rw.try_lock_shared_until(past));
        EXPECT_LT(ms_since(start), 500.0);
        EXPECT_FALSE(rw.try_lock_shared_for(0ms));
    }).join();
    w.unlock();
    std::thread([&] {
        EXPECT_TRUE(rw.try_lock_shared_until(past));
        rw.unlock_shared();
    }).join();
}

TEST(SyncCppTimeouts, EndlessDurationsWaitWithoutOverflow) {
    auto cv = shmds::condvar::create(shmds::backing::anonymous());
    bool ready = false;
    std::thread signaller([&] {
        std::this_thread::sleep_for(20ms);
        std::lock_guard<shmds::condvar> g(cv);
        ready = true;
        cv.notify_all();
    });
    {
        std::unique_lock<shmds::condvar> lk(cv);
        // steady_clock::now() + hours::max() would overflow into a past deadline.
        EXPECT_TRUE(cv.wait_for(std::chrono::hours::max(), [&] { return ready; }));
    }
    signaller.join();

    auto s = shmds::semaphore::create(shmds::backing::anonymous(), 1, 0);
    std::thread releaser([&] {
        std::this_thread::sleep_for(20ms);
        s.release();
    });
    EXPECT_TRUE(s.try_acquire_for(std::chrono::hours::max()));
    releaser.join();
    EXPECT_FALSE(s.try_acquire_for(0ms));
    s.release();
}

TEST(SyncCppOnce, AGuardMovesItsRole) {
    auto o = shmds::once::create(shmds::backing::anonymous());
    shmds::once_guard g = o.enter();
    ASSERT_TRUE(g);
    shmds::once_guard moved = std::move(g);
    EXPECT_FALSE(g);  // NOLINT(bugprone-use-after-move): the moved-from guard is empty
    ASSERT_TRUE(moved);
    moved.done();
    EXPECT_FALSE(moved);
    EXPECT_TRUE(o.is_done());
    EXPECT_FALSE(o.enter());
}

TEST(SyncCpp, SemaphoreAndBarrierEventfdsFollowTheOneRule) {
    auto sem = shmds::semaphore::create(shmds::backing::anonymous(), 2, 1);
    const int fd = sem.eventfd();
    ASSERT_GE(fd, 0);
    EXPECT_EQ(std::nullopt, sem.consume_events());
    ASSERT_TRUE(sem.try_acquire());
    sem.release();
    EXPECT_EQ(std::nullopt, sem.consume_events()) << "release signalled the eventfd itself";
    sem.notify();
    sem.notify();
    EXPECT_EQ(std::optional<std::uint64_t>(2), sem.consume_events());

    auto bar = shmds::barrier::create(shmds::backing::anonymous(), 2);
    bar.set_eventfd(fd);  // one eventfd shared by two handles
    bar.notify();
    EXPECT_EQ(std::optional<std::uint64_t>(1), sem.consume_events());
    EXPECT_EQ(std::nullopt, bar.consume_events());
}

}  // namespace
