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
