// Crash behaviour of the pool (pool.h, "Crash model"): a process is killed at each
// failpoint (between its CAS and zeroing in alloc, half-way through alloc_n, between a
// free's commit and its wake in free and free_n). Afterwards no slot is lost for good:
// every slot the dead process held comes back to a full pool's alloc by itself, a free
// it made stays made, and nothing is handed out twice. A random-timing kill loop checks
// the same of allocators killed anywhere.
#include "pool_helpers.hpp"
#include "shmds_config.h"

#include <shmds/shmds.h>

#include <csignal>
#include <random>
#include <set>
#include <thread>
#include <unistd.h>

using namespace shmds::test;

namespace {

struct CrashCase {
    const char *failpoint;
    int held_after;  // slots the dead process holds when it dies
};

const CrashCase kCases[] = {
    {"pool.alloc.claimed", 1},
    {"pool.alloc_n.partial", 1},
    {"pool.free.unwoken", 0},
    {"pool.free_n.unwoken", 0},
};

class PoolCrash : public ::testing::TestWithParam<CrashCase> {};

TEST_P(PoolCrash, NothingIsLostBeyondTheDeadProcessUntilReclaimed) {
    if (!SHMDS_FAILPOINTS) GTEST_SKIP() << "built without -Dfailpoints=true: no crash points";
    const CrashCase cc = GetParam();
    constexpr std::uint64_t kCap = 4;
    auto p = make_pool(SHMDS_TYPE_INT64, kCap);
    const pid_t pid = fork_child([&] {
        std::uint64_t a[2];
        const bool freeing = cc.held_after == 0;
        if (freeing) CHILD_CHECK(shmds_pool_alloc_n(p.get(), 2, a, 0) == 0);
        arm_failpoint(cc.failpoint);
        const std::string fp = cc.failpoint;
        if (fp == "pool.alloc.claimed") shmds_pool_try_alloc(p.get(), &a[0]);
        if (fp == "pool.alloc_n.partial") shmds_pool_alloc_n(p.get(), 2, a, 0);
        if (fp == "pool.free.unwoken") shmds_pool_free(p.get(), a[0]);
        if (fp == "pool.free_n.unwoken") shmds_pool_free_n(p.get(), a, 2, nullptr);
        return 3;  // the failpoint should have killed us
    });
    const ChildExit e = wait_child(pid, 10s);
    ASSERT_TRUE(!e.exited && e.signal == SIGKILL) << e.describe();
    const std::uint64_t used = shmds_pool_used(p.get());
    if (std::string(cc.failpoint) == "pool.free.unwoken")
        EXPECT_EQ(1u, used);  // the free committed; the other slot is still the dead one's
    else if (std::string(cc.failpoint) == "pool.free_n.unwoken")
        EXPECT_EQ(0u, used);
    else
        EXPECT_EQ(std::uint64_t(cc.held_after), used);
    // A full pool's blocking alloc gets every slot, the dead process's included.
    std::set<std::uint64_t> got;
    for (std::uint64_t k = 0; k < kCap; ++k) {
        std::uint64_t i;
        ASSERT_EQ(0, shmds_pool_alloc(p.get(), 2'000'000'000, &i)) << shmds_last_error();
        EXPECT_TRUE(got.insert(i).second);
        std::int64_t v = -1;
        ASSERT_EQ(0, shmds_pool_get_int(p.get(), i, &v));
        EXPECT_EQ(0, v);
    }
    EXPECT_EQ(kCap, shmds_pool_used(p.get()));
    EXPECT_EQ(used, pool_stats(p.get()).recoveries);
}

INSTANTIATE_TEST_SUITE_P(Failpoints, PoolCrash, ::testing::ValuesIn(kCases),
                         failpoint_case_name<CrashCase>);

TEST(PoolCrashLoop, AllocatorsKilledAtRandomLoseNothingForGood) {
    auto p = make_pool(SHMDS_TYPE_UINT64, 4);
    const std::uint64_t seed = test_seed();
    std::mt19937_64 rng(seed);
    std::set<pid_t> killed;
    for (int round = 0; round < 15; ++round) {
        const pid_t c = fork_child([&] {
            for (std::uint64_t r = 0;; ++r) {
                std::uint64_t idx[2];
                CHILD_CHECK(shmds_pool_alloc_n(p.get(), 2, idx, 2'000'000'000) == 0);
                for (std::uint64_t i : idx) CHILD_CHECK(shmds_pool_set_uint(p.get(), i, r + 1) == 0);
                for (std::uint64_t i : idx) {
                    std::uint64_t v;
                    CHILD_CHECK(shmds_pool_get_uint(p.get(), i, &v) == 0 && v == r + 1);
                }
                CHILD_CHECK(shmds_pool_free(p.get(), idx[0]) == 0);
                CHILD_CHECK(shmds_pool_free(p.get(), idx[1]) == 0);
            }
            return 0;
        });
        std::this_thread::sleep_for(std::chrono::microseconds(200 + rng() % 3000));
        kill(c, SIGKILL);
        const ChildExit e = wait_child(c, 5s);
        ASSERT_EQ(SIGKILL, e.signal) << e.describe();
        killed.insert(c);
        // Every allocated slot belongs to a killed allocator (at most 2 of the last one;
        // earlier ones' come back when the pool runs full).
        for (std::uint64_t i = 0; i < 4; ++i) {
            std::int32_t owner = 0;
            ASSERT_EQ(0, shmds_pool_owner(p.get(), i, &owner));
            if (owner) {
                EXPECT_TRUE(killed.count(owner)) << "slot " << i << " owner " << owner;
            }
        }
    }
    std::uint64_t idx[4];
    ASSERT_EQ(0, shmds_pool_alloc_n(p.get(), 4, idx, 2'000'000'000)) << shmds_last_error();
    EXPECT_EQ(4u, shmds_pool_used(p.get()));
}

}  // namespace
