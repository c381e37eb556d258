// Crash behaviour of the ring buffer (ringbuffer.h, "Crash model"; DESIGN.md §5):
//  - the failpoint matrix: a writer dies by SIGKILL between its claim and its commit,
//    or between its commit and its wake, in write and write_multi. A dead claim is
//    simply a sequence that is never written: read_seq says -EAGAIN for it every time
//    until the next lap takes the slot, then -ENOENT; readers never wait on it
//    (wait_for and latest move on), later writes go on, nothing needs taking over.
//  - a random-timing kill loop: a single writer whose values encode their sequence is
//    killed at random moments; after each kill every value in the window sits under its
//    own sequence and at most the killed write is missing.
#include "ringbuffer_helpers.hpp"
#include "shmds_config.h"

#include <shmds/shmds.h>

#include <csignal>
#include <cstdint>
#include <random>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace shmds::test;

namespace {

::testing::AssertionResult died_by_sigkill(const ChildExit &e) {
    if (!e.timed_out && !e.exited && e.signal == SIGKILL) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "the child should have died by SIGKILL but "
                                         << e.describe();
}

struct CrashCase {
    const char *failpoint;
    bool multi;      // write_multi of two values, else write
    bool committed;  // the dead call's values are in the ring
};

const CrashCase kCases[] = {
    {"ringbuffer.write.claimed", false, false},
    {"ringbuffer.write.unwoken", false, true},
    {"ringbuffer.write_multi.claimed", true, false},
    {"ringbuffer.write_multi.unwoken", true, true},
};

class RingBufferCrash : public ::testing::TestWithParam<CrashCase> {};

TEST_P(RingBufferCrash, ADeadWriterLeavesItsSequencesSkippedOrWritten) {
    if (!SHMDS_FAILPOINTS) GTEST_SKIP() << "built without -Dfailpoints=true: no crash points";
    const CrashCase cc = GetParam();
    auto ring = make_ring(SHMDS_TYPE_INT64, 4);
    shmds_ringbuffer_t *r = ring.get();
    for (int i = 0; i < 2; ++i) ASSERT_EQ(0, shmds_ringbuffer_write_int(r, 10 + i, nullptr));
    const pid_t pid = fork_child([&] {
        arm_failpoint(cc.failpoint);
        const std::int64_t vals[] = {1000, 1001};
        if (cc.multi)
            shmds_ringbuffer_write_multi_int(r, vals, 2, nullptr);
        else
            shmds_ringbuffer_write_int(r, vals[0], nullptr);
        return 3;  // the failpoint should have killed us
    });
    ASSERT_TRUE(died_by_sigkill(wait_child(pid, std::chrono::seconds(10))));
    const std::uint64_t dead_n = cc.multi ? 2 : 1;
    ASSERT_EQ(2 + dead_n, shmds_ringbuffer_count(r));  // the claim happened

    // The same answer every time: no timer turns a dead claim into anything else.
    for (int look = 0; look < 3; ++look) {
        for (std::uint64_t i = 0; i < dead_n; ++i) {
            std::int64_t v = -1;
            const int rc = shmds_ringbuffer_read_seq_int(r, 2 + i, &v);
            if (cc.committed) {
                ASSERT_EQ(0, rc);
                EXPECT_EQ(std::int64_t(1000 + i), v);
            } else {
                ASSERT_EQ(-EAGAIN, rc) << "seq " << 2 + i;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(look * 20));
    }
    // wait_for the dead call's sequence: satisfied only by a committed value.
    EXPECT_EQ(cc.committed ? 0 : -EAGAIN, shmds_ringbuffer_wait_for(r, 2, SHMDS_NOWAIT));
    // Readers never wait on it: latest answers at once.
    std::int64_t v;
    std::uint64_t seq;
    EXPECT_EQ(cc.committed ? 0 : -EAGAIN, shmds_ringbuffer_latest_int(r, 0, &v, &seq));
    EXPECT_EQ(1 + dead_n, seq);
    std::int64_t list[4];
    std::size_t n;
    ASSERT_EQ(0, shmds_ringbuffer_to_list_int(r, list, nullptr, 4, &n));
    EXPECT_EQ(cc.committed ? 2 + dead_n : 2u, n);

    // Later writes go on, and the first of them ends a wait for the dead sequence (a
    // sleeper in another process waits for it, FOREVER); the next lap takes the dead
    // slots, which then read as overwritten. Nothing was taken over, nothing was stale.
    const pid_t sleeper = fork_child([&] {
        CHILD_CHECK(shmds_ringbuffer_wait_for(r, 2, SHMDS_FOREVER) == 0);
        CHILD_CHECK(shmds_ringbuffer_count(r) > 2);
        return 0;
    });
    if (!cc.committed) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (int i = 0; i < 4; ++i) {
        ASSERT_EQ(0, shmds_ringbuffer_write_int(r, 20 + i, &seq));
        ASSERT_EQ(0, shmds_ringbuffer_read_seq_int(r, seq, &v));
        EXPECT_EQ(20 + i, v);
    }
    const ChildExit se = wait_child(sleeper, std::chrono::seconds(10));
    EXPECT_TRUE(se.exited && se.code == 0) << se.describe();
    for (std::uint64_t i = 0; i < dead_n; ++i)
        EXPECT_EQ(-ENOENT, shmds_ringbuffer_read_seq_int(r, 2 + i, &v));
    ASSERT_EQ(0, shmds_ringbuffer_to_list_int(r, list, nullptr, 4, &n));
    EXPECT_EQ(4u, n);
    EXPECT_EQ(23, list[3]);
    const shmds_ringbuffer_stats_t s = ring_stats(r);
    EXPECT_EQ(0u, s.stale_writes);
    EXPECT_EQ(0u, s.recoveries);
}

INSTANTIATE_TEST_SUITE_P(Failpoints, RingBufferCrash, ::testing::ValuesIn(kCases),
                         failpoint_case_name<CrashCase>);

// A value that names its own sequence, so a reader can tell it sits where it belongs.
std::int64_t value_for(std::uint64_t seq) { return std::int64_t(seq * 7 + 1); }

// One writer per round (so it knows the sequence its write will get) busy with write
// and write_multi, killed at a random moment.
TEST(RingBufferKillLoop, EveryValueSitsUnderItsOwnSequenceAfterEachKill) {
    const std::uint64_t seed = test_seed();
    std::mt19937_64 rng(seed);
    constexpr std::uint64_t kCap = 64;
    auto ring = make_ring(SHMDS_TYPE_INT64, kCap);
    shmds_ringbuffer_t *r = ring.get();
    for (int round = 0; round < 20; ++round) {
        const pid_t pid = fork_child([&] {
            for (std::uint64_t i = 0;; ++i) {
                const std::uint64_t h = shmds_ringbuffer_head(r);
                if (i % 5 == 0) {
                    const std::int64_t vals[] = {value_for(h), value_for(h + 1), value_for(h + 2)};
                    CHILD_CHECK(shmds_ringbuffer_write_multi_int(r, vals, 3, nullptr) == 0);
                } else {
                    CHILD_CHECK(shmds_ringbuffer_write_int(r, value_for(h), nullptr) == 0);
                }
            }
            return 0;
        });
        std::this_thread::sleep_for(std::chrono::microseconds(200 + rng() % 3000));
        ::kill(pid, SIGKILL);
        ASSERT_TRUE(died_by_sigkill(wait_child(pid, std::chrono::seconds(10))));
        std::int64_t vals[kCap];
        std::uint64_t seqs[kCap];
        std::size_t n = 0;
        ASSERT_EQ(0, shmds_ringbuffer_to_list_int(r, vals, seqs, kCap, &n));
        const std::uint64_t window = shmds_ringbuffer_size(r);
        EXPECT_GE(n + 3, window) << "round " << round;  // only the killed call's (<= 3) missing
        for (std::size_t i = 0; i < n; ++i) {
            ASSERT_EQ(value_for(seqs[i]), vals[i]) << "round " << round << " seq " << seqs[i];
            if (i) { ASSERT_LT(seqs[i - 1], seqs[i]); }
        }
        // The parent's own writes land and read back at once; a whole lap of them also
        // gives the next round a window with no gap, so any gap it finds is its kill's.
        for (std::uint64_t i = 0; i < kCap; ++i) {
            std::uint64_t seq;
            ASSERT_EQ(0, shmds_ringbuffer_write_int(r, value_for(shmds_ringbuffer_head(r)), &seq));
            std::int64_t v;
            ASSERT_EQ(0, shmds_ringbuffer_read_seq_int(r, seq, &v));
            ASSERT_EQ(value_for(seq), v);
        }
    }
    EXPECT_EQ(0u, ring_stats(r).stale_writes);
}

}  // namespace
