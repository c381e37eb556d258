// Fork stress of the deque and the stack: 4 writer processes push distinct keys (at
// random ends, singly and in batches), 4 reader processes pop them (at random ends,
// singly and in batches); every key must come out exactly once, none torn or zero, and
// the sum must be exact. The seed is printed (SHMDS_TEST_SEED replays it).
#include "seq_adapter.hpp"

#include <algorithm>
#include <atomic>
#include <random>
#include <sys/mman.h>
#include <vector>

using namespace shmds::test;
using seq_test::Seq;
using seq_test::Structure;

namespace {

constexpr int kWriters = 4, kReaders = 4;
constexpr std::uint64_t kPerWriter = 50000;
constexpr std::uint64_t kTotal = kWriters * kPerWriter;

struct Shared {
    std::atomic<std::uint64_t> taken;  // keys popped so far, by all readers
    std::atomic<std::uint64_t> bad;    // torn or zero items seen
    std::uint64_t keys[kTotal + 64];   // each reader appends at taken.fetch_add
};

void stress(Structure structure, int type) {
    const std::uint64_t seed = test_seed();
    Seq s(structure, type, 64);
    ASSERT_EQ(0, s.create_rc()) << shmds_last_error();
    void *mem = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                     -1, 0);
    ASSERT_NE(MAP_FAILED, mem);
    auto *sh = new (mem) Shared();
    std::vector<pid_t> kids;
    for (int w = 0; w < kWriters; ++w)
        kids.push_back(fork_child([&, w] {
            std::mt19937_64 rng(seed + std::uint64_t(w));
            std::uint64_t next = 0;
            while (next < kPerWriter) {
                const int end = rng() & 1 ? SHMDS_DEQUE_BACK : SHMDS_DEQUE_FRONT;
                if (rng() % 4 == 0) {
                    std::vector<std::uint64_t> batch;
                    for (int i = 0; i < 5 && next < kPerWriter; ++i)
                        batch.push_back(std::uint64_t(w + 1) * 1'000'000'000 + ++next);
                    std::size_t pushed = 0;
                    CHILD_CHECK(s.push_multi(batch, &pushed, 5'000'000'000, end) == 0);
                    CHILD_CHECK(pushed == batch.size());
                } else {
                    CHILD_CHECK(s.push(std::uint64_t(w + 1) * 1'000'000'000 + ++next,
                                       5'000'000'000, end) == 0);
                }
            }
            return 0;
        }));
    for (int r = 0; r < kReaders; ++r)
        kids.push_back(fork_child([&, r] {
            std::mt19937_64 rng(seed + 100 + std::uint64_t(r));
            while (sh->taken.load() < kTotal) {
                const int end = rng() & 1 ? SHMDS_DEQUE_BACK : SHMDS_DEQUE_FRONT;
                std::vector<std::uint64_t> got;
                const int rc = rng() % 4 == 0 ? s.pop_multi(&got, 4, 20'000'000, end)
                                              : [&] {
                                                    std::uint64_t k = 0;
                                                    const int e = s.pop(&k, 20'000'000, end);
                                                    if (e == 0 || e == -EPROTO) got.push_back(k);
                                                    return e;
                                                }();
                if (rc == -EPROTO) sh->bad.fetch_add(1);
                CHILD_CHECK(rc == 0 || rc == -ETIMEDOUT || rc == -EPROTO);
                for (std::uint64_t k : got) {
                    const std::uint64_t at = sh->taken.fetch_add(1);
                    CHILD_CHECK(at < kTotal);
                    sh->keys[at] = k;
                }
            }
            return 0;
        }));
    for (pid_t k : kids) {
        const ChildExit e = wait_child(k, 120s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    EXPECT_EQ(0u, sh->bad.load()) << "torn or zero items";
    ASSERT_EQ(kTotal, sh->taken.load());
    std::vector<std::uint64_t> keys(sh->keys, sh->keys + kTotal);
    std::sort(keys.begin(), keys.end());
    EXPECT_EQ(keys.end(), std::adjacent_find(keys.begin(), keys.end())) << "a duplicate";
    // Checked uint64 sums (ISO C++ has no 128-bit integer): the real keys sum far below
    // 2^64, so a wrap can only come from a wrong key and fails the test by itself.
    bool wrapped = false;
    auto add = [&wrapped](std::uint64_t &acc, std::uint64_t k) {
        wrapped |= acc + k < acc;
        acc += k;
    };
    std::uint64_t sum = 0, want = 0;
    for (std::uint64_t k : keys) add(sum, k);
    for (int w = 0; w < kWriters; ++w)
        for (std::uint64_t i = 1; i <= kPerWriter; ++i)
            add(want, std::uint64_t(w + 1) * 1'000'000'000 + i);
    EXPECT_FALSE(wrapped) << "a key so large the sum wrapped";
    EXPECT_EQ(want, sum) << "the sum of the keys popped is not the sum pushed";
    EXPECT_EQ(0u, keys.front() == 0 ? 1u : 0u);
    const Seq::Stats st = s.stats();
    EXPECT_EQ(0u, st.size);
    EXPECT_EQ(kTotal, st.push_ok);
    EXPECT_EQ(kTotal, st.pop_ok);
    munmap(mem, sizeof(Shared));
}

TEST(SeqStress, DequeInt64) { stress(Structure::deque, SHMDS_TYPE_INT64); }
TEST(SeqStress, DequeBytes) { stress(Structure::deque, SHMDS_TYPE_BYTES); }
TEST(SeqStress, StackInt64) { stress(Structure::stack, SHMDS_TYPE_INT64); }
TEST(SeqStress, StackBytes) { stress(Structure::stack, SHMDS_TYPE_BYTES); }

}  // namespace
