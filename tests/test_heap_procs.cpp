// The heap across processes: forked producers and consumers on one anonymous heap.
//  - Push everything, then pop concurrently: every item comes out exactly once, and
//    each consumer's pops are in (priority, push order) order: with no push after the
//    first pop, every pop takes the current first item, so no later pop of the same
//    consumer can see an earlier one.
//  - Push and pop concurrently through a small heap (pushers wait for room, poppers
//    for items): every item comes out exactly once.
// The seed (priorities) is printed; SHMDS_TEST_SEED replays it.
#include "heap_helpers.hpp"

#include <random>
#include <sys/mman.h>

using namespace heap_test;
using namespace shmds::test;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

// Per-consumer logs in a shared mapping, so the parent can read what children popped.
struct Logs {
    Logs(int consumers, std::size_t per) : consumers_(consumers), per_(per) {
        bytes_ = sizeof(std::uint64_t) * consumers + sizeof(ModelItem) * consumers * per;
        void *m = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        EXPECT_NE(MAP_FAILED, m);
        counts_ = static_cast<std::uint64_t *>(m);
        items_ = reinterpret_cast<ModelItem *>(counts_ + consumers);
    }
    ~Logs() { munmap(counts_, bytes_); }
    void add(int c, std::int64_t p, std::int64_t v) {
        items_[c * per_ + counts_[c]++] = ModelItem{p, 0, v};
    }
    std::size_t count(int c) const { return counts_[c]; }
    const ModelItem &at(int c, std::size_t i) const { return items_[c * per_ + i]; }

    int consumers_;
    std::size_t per_, bytes_;
    std::uint64_t *counts_;
    ModelItem *items_;
};

TEST(HeapProcs, PushAllThenPopConcurrentlyKeepsEachConsumersOrder) {
    const std::uint64_t seed = test_seed();
    std::mt19937_64 rng(seed);
    constexpr std::size_t kItems = 20000;
    constexpr int kConsumers = 3;
    auto h = make_heap(SHMDS_TYPE_INT64, kItems);
    std::vector<std::int64_t> prio_of(kItems);
    for (std::size_t i = 0; i < kItems; ++i) {
        prio_of[i] = std::int64_t(rng() % 100);
        ASSERT_EQ(0, shmds_heap_push_int(h.get(), prio_of[i], std::int64_t(i), 0));
    }
    Logs logs(kConsumers, kItems);
    std::vector<pid_t> kids;
    for (int c = 0; c < kConsumers; ++c)
        kids.push_back(fork_child([&, c] {
            std::int64_t ps[16], vs[16];
            std::size_t got = 0;
            for (int turn = 0;; ++turn) {
                int rc;
                if (turn % 3 == 0) {
                    rc = shmds_heap_pop_multi_int(h.get(), ps, vs, 16, &got, SHMDS_NOWAIT);
                } else {
                    rc = shmds_heap_pop_int(h.get(), &ps[0], &vs[0], SHMDS_NOWAIT);
                    got = rc == 0 ? 1 : 0;
                }
                if (rc == -EAGAIN) return 0;
                if (rc != 0) return 1;
                for (std::size_t i = 0; i < got; ++i) logs.add(c, ps[i], vs[i]);
            }
        }));
    for (pid_t k : kids) {
        const ChildExit e = wait_child(k, 60s);
        ASSERT_TRUE(e.exited && e.code == 0) << e.describe() << " seed " << seed;
    }
    std::vector<int> seen(kItems, 0);
    for (int c = 0; c < kConsumers; ++c) {
        for (std::size_t i = 0; i < logs.count(c); ++i) {
            const ModelItem &it = logs.at(c, i);
            ASSERT_LT(std::uint64_t(it.value), kItems);
            ASSERT_EQ(prio_of[it.value], it.priority) << "an entry torn apart";
            ++seen[it.value];
            if (i == 0) continue;
            const ModelItem &prev = logs.at(c, i - 1);
            ASSERT_TRUE(prev.priority < it.priority ||
                        (prev.priority == it.priority && prev.value < it.value))
                << "consumer " << c << " popped (" << prev.priority << ", " << prev.value
                << ") before (" << it.priority << ", " << it.value << "); seed " << seed;
        }
    }
    for (std::size_t i = 0; i < kItems; ++i) ASSERT_EQ(1, seen[i]) << "item " << i;
    EXPECT_EQ(0u, shmds_heap_size(h.get()));
}

TEST(HeapProcs, ProducersAndConsumersThroughASmallHeap) {
    const std::uint64_t seed = test_seed();
    constexpr int kProducers = 3, kConsumers = 3;
    constexpr std::size_t kPer = 4000, kItems = kProducers * kPer;
    auto h = make_heap(SHMDS_TYPE_INT64, 32);
    Logs logs(kConsumers, kItems);
    // The consumers stop at a shared total, counted in the mapping's spare word.
    auto *taken = static_cast<std::atomic<std::uint64_t> *>(
        mmap(nullptr, 64, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(MAP_FAILED, static_cast<void *>(taken));
    taken->store(0);
    std::vector<pid_t> kids;
    for (int p = 0; p < kProducers; ++p)
        kids.push_back(fork_child([&, p] {
            std::mt19937_64 rng(seed + std::uint64_t(p));
            for (std::size_t i = 0; i < kPer; ++i) {
                const std::int64_t id = std::int64_t(p * kPer + i);
                if (shmds_heap_push_int(h.get(), std::int64_t(rng() % 50), id, 10 * kSecond) != 0)
                    return 1;
            }
            return 0;
        }));
    for (int c = 0; c < kConsumers; ++c)
        kids.push_back(fork_child([&, c] {
            std::int64_t ps[8], vs[8];
            std::size_t got = 0;
            while (taken->load() < kItems) {
                const int rc = shmds_heap_pop_multi_int(h.get(), ps, vs, 8, &got, 20'000'000);
                if (rc == -ETIMEDOUT) continue;
                if (rc != 0) return 1;
                taken->fetch_add(got);
                for (std::size_t i = 0; i < got; ++i) logs.add(c, ps[i], vs[i]);
            }
            return 0;
        }));
    for (pid_t k : kids) {
        const ChildExit e = wait_child(k, 60s);
        ASSERT_TRUE(e.exited && e.code == 0) << e.describe() << " seed " << seed;
    }
    std::vector<int> seen(kItems, 0);
    for (int c = 0; c < kConsumers; ++c)
        for (std::size_t i = 0; i < logs.count(c); ++i) {
            const ModelItem &it = logs.at(c, i);
            ASSERT_LT(std::uint64_t(it.value), kItems);
            ++seen[it.value];
        }
    for (std::size_t i = 0; i < kItems; ++i) ASSERT_EQ(1, seen[i]) << "item " << i;
    EXPECT_EQ(0u, shmds_heap_size(h.get()));
    munmap(taken, 64);
}

}  // namespace
