// The bit set across processes (bitset.h, "Crash model"; DESIGN.md §5 and §7):
//  - fork stress: N processes race set() on every bit, each in its own seeded order;
//    exactly one of them sees old = 0 for each bit. Then they race clear(): exactly one
//    sees old = 1.
//  - bulk changes alongside per-bit ones: one process fills and zeroes a range that
//    shares a word with bits other processes toggle; every toggle returns exactly the
//    value its owner expects (a bulk change that stored whole words would revert some).
//  - the crash matrix: a process killed partway through a fill or a zero (the only
//    failpoints: per-bit verbs are one instruction) leaves its first word changed and
//    the rest untouched, no tail bit set, and the set fully usable.
// The seed is printed; SHMDS_TEST_SEED=<seed> replays a run.
#include "bitset_helpers.hpp"
#include "shmds_config.h"

#include <shmds/shmds.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace shmds::test;

namespace {

// Shared between the processes (MAP_SHARED before fork), unmapped at the end.
template <typename T>
class SharedBoard {
public:
    SharedBoard() {
        void *p = mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::bad_alloc();
        b_ = new (p) T();
    }
    ~SharedBoard() { munmap(b_, sizeof(T)); }
    T *operator->() const { return b_; }
    T *get() const { return b_; }

private:
    T *b_;
};

::testing::AssertionResult died_by_sigkill(const ChildExit &e) {
    if (!e.timed_out && !e.exited && e.signal == SIGKILL) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "the child should have died by SIGKILL but "
                                         << e.describe();
}

constexpr int kRacers = 4;
constexpr std::uint64_t kRaceBits = 20000;

struct RaceBoard {
    std::atomic<int> ready;
    std::atomic<std::uint32_t> set_wins[kRaceBits];    // setters that saw old = 0
    std::atomic<std::uint32_t> clear_wins[kRaceBits];  // clearers that saw old = 1
};

std::vector<std::uint64_t> shuffled(std::uint64_t seed) {
    std::vector<std::uint64_t> order(kRaceBits);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(seed);
    std::shuffle(order.begin(), order.end(), rng);
    return order;
}

}  // namespace

TEST(BitsetProcs, ExactlyOneSetterAndOneClearerWinsEachBit) {
    const std::uint64_t seed = test_seed();
    auto b = make_bitset(kRaceBits);
    shmds_bitset_t *h = b.get();
    SharedBoard<RaceBoard> board;
    std::vector<pid_t> pids;
    for (int w = 0; w < kRacers; ++w)
        pids.push_back(fork_child([&, w] {
            const std::vector<std::uint64_t> order = shuffled(seed + std::uint64_t(w));
            board->ready.fetch_add(1);
            while (board->ready.load() < kRacers) {}  // start together
            for (std::uint64_t bit : order) {
                const int old = shmds_bitset_set(h, bit);
                CHILD_CHECK(old == 0 || old == 1);
                if (old == 0) board->set_wins[bit].fetch_add(1);
            }
            board->ready.fetch_add(1);
            while (board->ready.load() < 2 * kRacers) {}  // every set done before a clear
            for (auto it = order.rbegin(); it != order.rend(); ++it) {
                const int old = shmds_bitset_clear(h, *it);
                CHILD_CHECK(old == 0 || old == 1);
                if (old == 1) board->clear_wins[*it].fetch_add(1);
            }
            return 0;
        }));
    for (pid_t pid : pids) {
        const ChildExit e = wait_child(pid, std::chrono::seconds(60));
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    for (std::uint64_t bit = 0; bit < kRaceBits; ++bit) {
        ASSERT_EQ(1u, board->set_wins[bit].load()) << "bit " << bit;
        ASSERT_EQ(1u, board->clear_wins[bit].load()) << "bit " << bit;
    }
    EXPECT_EQ(0u, shmds_bitset_count(h));
}

namespace {

// Bits [0, kBulkBits) belong to the bulk process; the rest (from the middle of word 0 to
// the end) to the togglers, bit i to toggler i % kTogglers.
constexpr std::uint64_t kBulkBits = 40;
constexpr std::uint64_t kAllBits = 200;
constexpr int kTogglers = 2;
constexpr int kToggles = 150000;

struct BulkBoard {
    std::atomic<int> togglers_done;
    std::atomic<std::uint64_t> bulk_rounds;
};

}  // namespace

TEST(BitsetProcs, BulkChangesNeverRevertAConcurrentToggleOfAnotherBit) {
    const std::uint64_t seed = test_seed();
    auto b = make_bitset(kAllBits);
    shmds_bitset_t *h = b.get();
    SharedBoard<BulkBoard> board;
    const pid_t bulk = fork_child([&] {
        std::uint64_t rounds = 0;
        while (board->togglers_done.load() < kTogglers) {
            CHILD_CHECK(shmds_bitset_fill_range(h, 0, kBulkBits) == 0);
            CHILD_CHECK(shmds_bitset_zero_range(h, 0, kBulkBits / 2) == 0);
            CHILD_CHECK(shmds_bitset_zero_range(h, kBulkBits / 2, kBulkBits / 2) == 0);
            board->bulk_rounds.store(++rounds);
        }
        return 0;
    });
    std::vector<pid_t> togglers;
    for (int t = 0; t < kTogglers; ++t)
        togglers.push_back(fork_child([&, t] {
            std::mt19937_64 rng(seed + std::uint64_t(t));
            std::vector<std::uint64_t> mine;
            for (std::uint64_t i = kBulkBits; i < kAllBits; ++i)
                if (i % kTogglers == std::uint64_t(t)) mine.push_back(i);
            std::vector<bool> value(mine.size(), false);
            for (int k = 0; k < kToggles; ++k) {
                // Halfway, wait for the bulk process's first round, so bulk changes
                // overlap the toggles even when the scheduler ran the togglers first.
                if (k == kToggles / 2)
                    wait_until([&] { return board->bulk_rounds.load() > 0; }, 10s);
                // Mostly the bits of word 0 that share it with the bulk range.
                const std::size_t j = rng() % 4 ? rng() % ((64 - kBulkBits) / kTogglers)
                                                : rng() % mine.size();
                const int now = shmds_bitset_toggle(h, mine[j]);
                value[j] = !value[j];
                CHILD_CHECK(now == int(value[j]));  // nobody else changed it
                if (k % 64 == 0) { CHILD_CHECK(shmds_bitset_test(h, mine[j]) == int(value[j])); }
            }
            board->togglers_done.fetch_add(1);
            for (std::size_t j = 0; j < mine.size(); ++j)
                CHILD_CHECK(shmds_bitset_test(h, mine[j]) == int(value[j]));
            return 0;
        }));
    for (pid_t pid : togglers) {
        const ChildExit e = wait_child(pid, std::chrono::seconds(60));
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    board->togglers_done.store(kTogglers);  // also ends the bulk loop if a toggler failed
    const ChildExit e = wait_child(bulk, std::chrono::seconds(60));
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    EXPECT_GT(board->bulk_rounds.load(), 0u);
    for (std::uint64_t i = 0; i < kBulkBits; ++i) EXPECT_EQ(0, shmds_bitset_test(h, i)) << i;
}

// ---------------------------------------------------------------- the crash matrix

namespace {

struct CrashCase {
    const char *failpoint;
    bool fill;  // fill_range, else zero_range
};

const CrashCase kCases[] = {
    {"bitset.fill.partway", true},
    {"bitset.zero.partway", false},
};

class BitsetCrash : public ::testing::TestWithParam<CrashCase> {};

constexpr std::uint64_t kCrashBits = 64 * 4 + 10;
bool pattern(std::uint64_t i) { return i % 3 == 1; }

}  // namespace

TEST_P(BitsetCrash, AKilledBulkChangeLeavesWholeWordsAndAUsableSet) {
    if (!SHMDS_FAILPOINTS) GTEST_SKIP() << "built without -Dfailpoints=true: no crash points";
    const CrashCase cc = GetParam();
    auto b = make_bitset(kCrashBits);
    shmds_bitset_t *h = b.get();
    for (std::uint64_t i = 0; i < kCrashBits; ++i) {
        if (pattern(i)) { ASSERT_EQ(0, shmds_bitset_set(h, i)); }
    }
    constexpr std::uint64_t kFrom = 10, kLen = kCrashBits - 12;  // bits 10 .. 263
    const pid_t pid = fork_child([&] {
        arm_failpoint(cc.failpoint);
        if (cc.fill)
            shmds_bitset_fill_range(h, kFrom, kLen);
        else
            shmds_bitset_zero_range(h, kFrom, kLen);
        return 3;  // the failpoint should have killed us
    });
    ASSERT_TRUE(died_by_sigkill(wait_child(pid, std::chrono::seconds(10))));
    // Word 0 (bits 10..63) was changed whole; every other bit is as before.
    for (std::uint64_t i = 0; i < kCrashBits; ++i) {
        const bool changed = i >= kFrom && i < 64;
        const int want = changed ? int(cc.fill) : int(pattern(i));
        ASSERT_EQ(want, shmds_bitset_test(h, i)) << "bit " << i;
    }
    EXPECT_EQ(0u, raw_word(h, 4)->load() >> 10);  // no tail bit
    EXPECT_EQ(0u, bitset_stats(h).recoveries);    // nothing to repair
    // The set is fully usable at once, by this process and another.
    run_child_ok([&] {
        CHILD_CHECK(shmds_bitset_set(h, 0) == int(pattern(0)));
        CHILD_CHECK(shmds_bitset_toggle(h, kCrashBits - 1) == int(!pattern(kCrashBits - 1)));
        return 0;
    });
    ASSERT_EQ(0, cc.fill ? shmds_bitset_fill_range(h, kFrom, kLen)
                         : shmds_bitset_zero_range(h, kFrom, kLen));
    std::uint64_t want = 1 + (pattern(kCrashBits - 1) ? 0 : 1) + (cc.fill ? kLen : 0);
    for (std::uint64_t i = 1; i < kCrashBits - 1; ++i)
        if ((i < kFrom || i >= kFrom + kLen) && pattern(i)) ++want;
    EXPECT_EQ(want, shmds_bitset_count(h));
}

INSTANTIATE_TEST_SUITE_P(Failpoints, BitsetCrash, ::testing::ValuesIn(kCases),
                         failpoint_case_name<CrashCase>);

// Processes doing every kind of change are killed at random moments; after each kill
// the set has no tail bit set, every scan agrees with a bit-by-bit reading, and the next
// process works at once (nothing was left to take over).
TEST(BitsetKillLoop, ASetKilledAnywhereStaysConsistentAndUsable) {
    const std::uint64_t seed = test_seed();
    std::mt19937_64 rng(seed);
    constexpr std::uint64_t kBits = 64 * 3 + 5;
    auto b = make_bitset(kBits);
    shmds_bitset_t *h = b.get();
    for (int round = 0; round < 12; ++round) {
        const std::uint64_t child_seed = rng();
        const pid_t pid = fork_child([&] {
            std::mt19937_64 r(child_seed);
            for (;;) {
                const std::uint64_t bit = r() % kBits;
                switch (r() % 5) {
                    case 0: CHILD_CHECK(shmds_bitset_set(h, bit) >= 0); break;
                    case 1: CHILD_CHECK(shmds_bitset_clear(h, bit) >= 0); break;
                    case 2: CHILD_CHECK(shmds_bitset_toggle(h, bit) >= 0); break;
                    case 3: CHILD_CHECK(shmds_bitset_fill_range(h, bit, (kBits - bit) / 2) == 0); break;
                    case 4: CHILD_CHECK(shmds_bitset_zero_range(h, bit / 2, kBits - bit) == 0); break;
                }
            }
            return 0;
        });
        std::this_thread::sleep_for(std::chrono::microseconds(200 + rng() % 2000));
        ::kill(pid, SIGKILL);
        ASSERT_TRUE(died_by_sigkill(wait_child(pid, std::chrono::seconds(10))));
        EXPECT_EQ(0u, raw_word(h, 3)->load() >> 5) << "round " << round;
        std::uint64_t ones = 0;
        for (std::uint64_t i = 0; i < kBits; ++i) ones += std::uint64_t(shmds_bitset_test(h, i));
        ASSERT_EQ(ones, shmds_bitset_count(h)) << "round " << round;
        const int now = shmds_bitset_toggle(h, 0);
        ASSERT_GE(now, 0);
        ASSERT_EQ(now, shmds_bitset_test(h, 0));
    }
}
