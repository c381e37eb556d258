// Cross-process pool tests: N processes x M alloc/free with no slot handed out twice
// (each allocator stamps its pid and counter into the slot and checks it unchanged
// before freeing), a blocking alloc woken by another process's free, and a holder of
// slots killed while another process sleeps in alloc: the sleeper gets them back by
// itself, without recover_stale.
#include "pool_helpers.hpp"

#include <shmds/shmds.h>

#include <csignal>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace shmds::test;

namespace {

TEST(PoolProcs, NoSlotIsHandedOutTwice) {
    constexpr int kProcs = 4, kRounds = 3000;
    auto p = make_pool(SHMDS_TYPE_UINT64, 6);  // fewer slots than holds: real contention
    std::vector<pid_t> kids;
    for (int k = 0; k < kProcs; ++k)
        kids.push_back(fork_child([&, k] {
            const std::uint64_t me = std::uint64_t(getpid()) << 32;
            for (int r = 0; r < kRounds; ++r) {
                std::uint64_t i;
                CHILD_CHECK(shmds_pool_alloc(p.get(), 5'000'000'000, &i) == 0);
                std::uint64_t v = 1;
                CHILD_CHECK(shmds_pool_get_uint(p.get(), i, &v) == 0 && v == 0);  // zeroed
                const std::uint64_t stamp = me | std::uint64_t(r);
                CHILD_CHECK(shmds_pool_set_uint(p.get(), i, stamp) == 0);
                if (r % 7 == k) sched_yield();
                CHILD_CHECK(shmds_pool_get_uint(p.get(), i, &v) == 0);
                CHILD_CHECK(v == stamp);  // nobody else was handed this slot
                CHILD_CHECK(shmds_pool_free(p.get(), i) == 0);
            }
            return 0;
        }));
    for (pid_t c : kids) {
        const ChildExit e = wait_child(c, 60s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    EXPECT_EQ(0u, shmds_pool_used(p.get()));
    EXPECT_EQ(0u, pool_stats(p.get()).recoveries);
}

TEST(PoolProcs, AllocNAcrossProcessesIsAllOrNothing) {
    constexpr int kProcs = 3, kRounds = 500;
    auto p = make_pool(SHMDS_TYPE_INT64, 7);
    std::vector<pid_t> kids;
    for (int k = 0; k < kProcs; ++k)
        kids.push_back(fork_child([&] {
            for (int r = 0; r < kRounds; ++r) {
                std::uint64_t idx[3];
                CHILD_CHECK(shmds_pool_alloc_n(p.get(), 3, idx, 5'000'000'000) == 0);
                for (std::uint64_t i : idx) CHILD_CHECK(shmds_pool_add_int(p.get(), i, getpid(), nullptr) == 0);
                for (std::uint64_t i : idx) {
                    std::int64_t v;
                    CHILD_CHECK(shmds_pool_get_int(p.get(), i, &v) == 0 && v == getpid());
                }
                size_t freed = 0;
                CHILD_CHECK(shmds_pool_free_n(p.get(), idx, 3, &freed) == 0 && freed == 3);
            }
            return 0;
        }));
    for (pid_t c : kids) {
        const ChildExit e = wait_child(c, 60s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    EXPECT_EQ(0u, shmds_pool_used(p.get()));
}

TEST(PoolProcs, ABlockedAllocIsWokenByAFree) {
    auto p = make_pool(SHMDS_TYPE_INT64, 1);
    std::uint64_t held;
    ASSERT_EQ(0, shmds_pool_try_alloc(p.get(), &held));
    const pid_t sleeper = fork_child([&] {
        std::uint64_t i;
        CHILD_CHECK(shmds_pool_alloc(p.get(), SHMDS_FOREVER, &i) == 0);
        CHILD_CHECK(i == 0);
        return 0;
    });
    ASSERT_TRUE(wait_until_asleep(sleeper, 5s));
    EXPECT_EQ(1u, pool_stats(p.get()).waiters);
    ASSERT_EQ(0, shmds_pool_free(p.get(), held));
    const ChildExit e = wait_child(sleeper, 10s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
}

// The kill test: a holder of every slot dies; a process blocked in alloc gets a
// slot back by itself (no recover_stale anywhere).
TEST(PoolProcs, AKilledHoldersSlotsGoToABlockedAllocByThemselves) {
    auto p = make_pool(SHMDS_TYPE_INT64, 3);
    int ready[2];
    ASSERT_EQ(0, pipe(ready));
    const pid_t holder = fork_child([&] {
        for (int k = 0; k < 3; ++k) {
            std::uint64_t i;
            CHILD_CHECK(shmds_pool_try_alloc(p.get(), &i) == 0);
        }
        CHILD_CHECK(write(ready[1], "x", 1) == 1);
        pause();
        return 0;
    });
    char c;
    ASSERT_EQ(1, read(ready[0], &c, 1));
    const pid_t sleeper = fork_child([&] {
        std::uint64_t idx[2];
        CHILD_CHECK(shmds_pool_alloc_n(p.get(), 2, idx, SHMDS_FOREVER) == 0);
        std::uint64_t i;
        CHILD_CHECK(shmds_pool_alloc(p.get(), SHMDS_FOREVER, &i) == 0);
        return 0;
    });
    ASSERT_TRUE(wait_until_asleep(sleeper, 5s));
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(0, kill(holder, SIGKILL));
    wait_child(holder, 5s);
    const ChildExit e = wait_child(sleeper, 10s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    EXPECT_LT(ms_since(t0), 2000.0);
    EXPECT_EQ(3u, pool_stats(p.get()).recoveries);
    EXPECT_EQ(3u, shmds_pool_used(p.get()));  // all three now the (exited) sleeper's
    close(ready[0]);
    close(ready[1]);
}

}  // namespace
