// The buffer across processes (buffer.h, "Consistency" and "Crash model"):
//  - fork stress: writers flip the whole buffer between two patterns with every bulk
//    verb (set_slice, set_raw, fill, write batches) while readers copy it with
//    get_raw, get_slice and read batches: no reader ever sees a torn copy.
//  - crash matrix: a writer killed at each failpoint of a bulk write (and one killed
//    inside a write batch at a random moment): readers then proceed within ~10 ms, the
//    data is consistent per element (each element old or new), later writes work, and
//    the takeover is counted.
#include "buffer_helpers.hpp"
#include "shmds_config.h"

#include <shmds/shmds.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <random>
#include <thread>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

using namespace shmds::test;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint64_t kLen = 512;  // 4 KiB of uint64
constexpr int kReads = 20000;       // per reader: a few hundred ms of overlap

// A pattern: every element equal to `tag` (two per flip: even and odd generations).
bool uniform(const std::uint64_t *v, std::size_t n) {
    for (std::size_t i = 1; i < n; ++i)
        if (v[i] != v[0]) return false;
    return true;
}

TEST(BufferProcs, BulkReadersNeverSeeATornSlice) {
    auto buf = make_buffer(SHMDS_TYPE_UINT64, kLen);
    shmds_buffer_t *b = buf.get();
    auto *stop = static_cast<std::atomic<int> *>(
        mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(MAP_FAILED, static_cast<void *>(stop));
    stop->store(0);
    std::vector<pid_t> kids;
    for (int w = 0; w < 2; ++w)
        kids.push_back(fork_child([&, w] {
            std::vector<std::uint64_t> pat(kLen);
            for (std::uint64_t g = 1; stop->load() == 0; ++g) {
                const std::uint64_t tag = g * 2 + std::uint64_t(w);
                std::fill(pat.begin(), pat.end(), tag);
                int rc = 0;
                switch (g % 4) {
                    case 0: rc = shmds_buffer_set_slice_uint(b, 0, pat.data(), kLen, -1); break;
                    case 1: rc = shmds_buffer_set_raw(b, 0, pat.data(), kLen * 8, -1); break;
                    case 2: rc = shmds_buffer_fill_uint(b, tag, -1); break;
                    default: {
                        void *d;
                        rc = shmds_buffer_write_begin(b, &d, -1);
                        if (rc == 0) {
                            auto *p = static_cast<std::uint64_t *>(d);
                            for (std::uint64_t i = 0; i < kLen; ++i) p[i] = tag;
                            rc = shmds_buffer_write_end(b);
                        }
                    }
                }
                if (rc != 0) return 10;
            }
            return 0;
        }));
    for (int r = 0; r < 2; ++r)
        kids.push_back(fork_child([&, r] {
            std::vector<std::uint64_t> got(kLen);
            std::uint64_t reads = 0;
            for (int k = 0; k < kReads; ++k) {
                // Halfway, wait for a first bulk write, so writes overlap the reads even
                // when the scheduler ran the readers first.
                if (k == kReads / 2)
                    wait_until([&] { return buffer_stats(b).bulk_writes > 0; }, 10s);
                int rc;
                if ((k + r) % 3 == 0) {
                    rc = shmds_buffer_get_raw(b, 0, kLen * 8, got.data(), -1);
                } else if ((k + r) % 3 == 1) {
                    rc = shmds_buffer_get_slice_uint(b, 0, kLen, got.data(), -1);
                } else {
                    for (;;) {  // a read batch over the zero-copy pointer
                        const void *d;
                        std::uint64_t seq;
                        rc = shmds_buffer_read_begin(b, &d, &seq, -1);
                        if (rc) break;
                        std::memcpy(got.data(), d, kLen * 8);
                        if (shmds_buffer_read_end(b, seq) == 0) break;
                    }
                }
                if (rc != 0) return 20;
                if (!uniform(got.data(), kLen)) return 21;  // torn
                ++reads;
            }
            return reads == std::uint64_t(kReads) ? 0 : 22;
        }));
    for (std::size_t k = 2; k < kids.size(); ++k) {
        const ChildExit e = wait_child(kids[k], std::chrono::seconds(60));
        EXPECT_TRUE(e.exited && e.code == 0) << "reader: " << e.describe();
    }
    stop->store(1);
    for (std::size_t k = 0; k < 2; ++k) {
        const ChildExit e = wait_child(kids[k], std::chrono::seconds(20));
        EXPECT_TRUE(e.exited && e.code == 0) << "writer: " << e.describe();
    }
    EXPECT_GT(buffer_stats(b).bulk_writes, 0u);
    munmap(stop, 4096);
}

::testing::AssertionResult died_by_sigkill(const ChildExit &e) {
    if (!e.timed_out && !e.exited && e.signal == SIGKILL) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "the child should have died by SIGKILL but "
                                         << e.describe();
}

// After a writer died mid-write: a bulk read proceeds within a bound, each element is
// the old value or the new one, and a new bulk write works.
void expect_readers_proceed(shmds_buffer_t *b, std::uint64_t old_v, std::uint64_t new_v,
                            bool must_take_over) {
    const auto before = buffer_stats(b).recoveries;
    std::vector<std::uint64_t> got(kLen);
    const auto t0 = Clock::now();
    ASSERT_EQ(0, shmds_buffer_get_raw(b, 0, kLen * 8, got.data(), 2'000'000'000))
        << shmds_last_error();
    const auto waited = Clock::now() - t0;
    // Takeover within ~10 ms (first probe after 1 ms, then every 8 ms); generous for CI.
    EXPECT_LT(waited, std::chrono::milliseconds(200));
    for (std::uint64_t i = 0; i < kLen; ++i)
        ASSERT_TRUE(got[i] == old_v || got[i] == new_v) << "element " << i << " = " << got[i];
    if (must_take_over) {
        EXPECT_GT(buffer_stats(b).recoveries, before);
    }
    ASSERT_EQ(0, shmds_buffer_fill_uint(b, 99, 1'000'000'000));
    std::uint64_t v = 0;
    ASSERT_EQ(0, shmds_buffer_get_uint(b, kLen - 1, &v));
    EXPECT_EQ(99u, v);
}

struct CrashCase {
    const char *failpoint;
    bool lock_left;  // the writer died holding the lock (a takeover is needed)
    bool written;    // the data is fully new
};

const CrashCase kCases[] = {
    {"buffer.write.odd", true, false},
    {"buffer.write.written", true, true},
    {"buffer.write.unwoken", false, true},
};

class BufferCrash : public ::testing::TestWithParam<CrashCase> {};

TEST_P(BufferCrash, ADeadWriterNeverBlocksReaders) {
    if (!SHMDS_FAILPOINTS) GTEST_SKIP() << "built without -Dfailpoints=true: no crash points";
    const CrashCase cc = GetParam();
    for (int verb = 0; verb < 3; ++verb) {
        SCOPED_TRACE(verb);
        auto buf = make_buffer(SHMDS_TYPE_UINT64, kLen);
        shmds_buffer_t *b = buf.get();
        ASSERT_EQ(0, shmds_buffer_fill_uint(b, 1, -1));
        const pid_t pid = fork_child([&] {
            arm_failpoint(cc.failpoint);
            std::vector<std::uint64_t> v(kLen, 2);
            if (verb == 0) shmds_buffer_set_slice_uint(b, 0, v.data(), kLen, -1);
            else if (verb == 1) shmds_buffer_set_raw(b, 0, v.data(), kLen * 8, -1);
            else shmds_buffer_fill_uint(b, 2, -1);
            return 3;  // the failpoint should have killed us
        });
        ASSERT_TRUE(died_by_sigkill(wait_child(pid, std::chrono::seconds(10))));
        if (cc.written) {
            std::uint64_t v = 0;
            ASSERT_EQ(0, shmds_buffer_get_uint(b, 0, &v));  // per element: never blocked
            EXPECT_EQ(2u, v);
        }
        expect_readers_proceed(b, 1, 2, cc.lock_left);
    }
}

INSTANTIATE_TEST_SUITE_P(Failpoints, BufferCrash, ::testing::ValuesIn(kCases),
                         failpoint_case_name<CrashCase>);

// A reader already asleep waiting for a bulk write (FOREVER) when the writer dies.
TEST(BufferCrashSleeper, ASleepingReaderIsReleasedWhenTheWriterDies) {
    auto buf = make_buffer(SHMDS_TYPE_UINT64, kLen);
    shmds_buffer_t *b = buf.get();
    int ready[2];
    ASSERT_EQ(0, pipe(ready));
    const pid_t writer = fork_child([&] {
        void *d;
        if (shmds_buffer_write_begin(b, &d, -1) != 0) return 5;
        auto *p = static_cast<std::uint64_t *>(d);
        for (std::uint64_t i = 0; i < kLen / 2; ++i) __atomic_store_n(&p[i], 7, __ATOMIC_RELAXED);
        const char c = 1;
        if (write(ready[1], &c, 1) != 1) return 6;
        pause();  // killed here, inside its batch, half written
        return 7;
    });
    char c;
    ASSERT_EQ(1, read(ready[0], &c, 1));
    const pid_t reader = fork_child([&] {
        std::vector<std::uint64_t> got(kLen);
        if (shmds_buffer_get_raw(b, 0, kLen * 8, got.data(), -1) != 0) return 8;
        for (std::uint64_t i = 0; i < kLen; ++i)
            if (got[i] != (i < kLen / 2 ? 7u : 0u)) return 9;  // the half write stays
        return 0;
    });
    ASSERT_TRUE(wait_until_asleep(reader, std::chrono::seconds(5)));
    kill(writer, SIGKILL);
    ASSERT_TRUE(died_by_sigkill(wait_child(writer, std::chrono::seconds(5))));
    const ChildExit e = wait_child(reader, std::chrono::seconds(5));
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    EXPECT_GE(buffer_stats(b).recoveries, 1u);
    close(ready[0]);
    close(ready[1]);
}

// Random kill timing: a writer flipping the buffer between patterns with set_slice is
// killed at random moments; every element is then one of the patterns, and readers go on.
TEST(BufferCrashRandom, RandomKillsLeaveEveryElementWhole) {
    const std::uint64_t seed = std::random_device{}();
    std::printf("BufferCrashRandom seed %llu\n", static_cast<unsigned long long>(seed));
    std::mt19937_64 rng(seed);
    auto buf = make_buffer(SHMDS_TYPE_UINT64, kLen);
    shmds_buffer_t *b = buf.get();
    for (int round = 0; round < 8; ++round) {
        const pid_t pid = fork_child([&] {
            std::vector<std::uint64_t> v(kLen);
            for (std::uint64_t g = 0;; ++g) {
                std::fill(v.begin(), v.end(), g % 2 ? 0x1111111111111111ull : 0x2222222222222222ull);
                if (shmds_buffer_set_slice_uint(b, 0, v.data(), kLen, -1)) return 4;
            }
        });
        std::this_thread::sleep_for(std::chrono::microseconds(200 + rng() % 3000));
        kill(pid, SIGKILL);
        ASSERT_TRUE(died_by_sigkill(wait_child(pid, std::chrono::seconds(5))));
        std::vector<std::uint64_t> got(kLen);
        ASSERT_EQ(0, shmds_buffer_get_raw(b, 0, kLen * 8, got.data(), 2'000'000'000));
        for (std::uint64_t i = 0; i < kLen; ++i)
            ASSERT_TRUE(got[i] == 0 || got[i] == 0x1111111111111111ull ||
                        got[i] == 0x2222222222222222ull)
                << "seed " << seed << " element " << i << " = " << std::hex << got[i];
    }
}

}  // namespace
