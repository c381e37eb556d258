// Fork-based MPMC stress: per variant, 4 producer and 4 consumer processes share a
// 64-slot queue, so it runs full and empty often. Producers mix single, batched, timed
// and endless pushes; consumers mix single, batched, timed, endless pops and drains.
// Checked: every item delivered exactly once, each producer's order kept as each
// consumer saw it, sums and stats equal. Replay a run with SHMDS_TEST_SEED.
#include "queue_traffic.hpp"

#include <shmds/queue.h>

#include <cstdio>
#include <vector>

using namespace shmds::test;
using namespace shmds::test::traffic;

namespace {

constexpr std::uint32_t kProducers = 4;
constexpr std::uint32_t kConsumers = 4;
constexpr std::uint64_t kCapacity = 64;

struct StressCase {
    const char *name;
    int variant;
    std::uint64_t per_producer;
    std::uint64_t arena_bytes;  // bytes: small enough that the arena fills before the ring
};

void PrintTo(const StressCase &c, std::ostream *os) { *os << c.name; }

class QueueStress : public ::testing::TestWithParam<StressCase> {};

TEST_P(QueueStress, FourProducersFourConsumersDeliverExactlyOnceInOrder) {
    const StressCase &sc = GetParam();
    SKIP_IF_NOT_ATOMIC_ACROSS_PROCESSES(sc.variant);
    const std::uint64_t seed = test_seed();
    const Codec codec(sc.variant);
    shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(sc.variant, kCapacity);
    cfg.arena_bytes = sc.arena_bytes;
    shmds_queue_t *q = nullptr;
    ASSERT_EQ(0, shmds_queue_create(nullptr, &cfg, &q)) << shmds_last_error();
    Board board(kProducers, kConsumers, sc.per_producer);
    ASSERT_TRUE(board.ok());

    std::vector<pid_t> pids;
    for (std::uint32_t p = 0; p < kProducers; ++p)
        pids.push_back(fork_child([&, p] { return produce(q, codec, p, seed, board); }));
    for (std::uint32_t c = 0; c < kConsumers; ++c)
        pids.push_back(fork_child([&, c] { return consume(q, codec, c, seed, board); }));
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < pids.size(); ++i) {
        ASSERT_GT(pids[i], 0);
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            60s - (std::chrono::steady_clock::now() - start));
        ChildExit e = wait_child(pids[i], std::max(left, std::chrono::milliseconds(1)));
        EXPECT_TRUE(e.exited && e.code == 0)
            << (i < kProducers ? "producer " : "consumer ") << (i < kProducers ? i : i - kProducers)
            << " " << e.describe();
    }
    const double ms = ms_since(start);

    EXPECT_TRUE(delivered_exactly_once(board));
    for (std::uint32_t p = 0; p < kProducers; ++p)
        EXPECT_EQ(sc.per_producer, board.h().produced[p].load()) << "producer " << p;

    shmds_queue_stats_t st{};
    st.struct_size = sizeof st;
    ASSERT_EQ(0, shmds_queue_stats(q, &st)) << shmds_last_error();
    EXPECT_EQ(board.total(), st.push_ok);
    EXPECT_EQ(board.total(), st.pop_ok);
    EXPECT_EQ(0u, st.size);
    EXPECT_EQ(0u, st.arena_used);
    EXPECT_EQ(0u, st.recoveries);
    EXPECT_EQ(0u, st.push_waiters);
    EXPECT_EQ(0u, st.pop_waiters);
    std::fprintf(stderr,
                 "[stress] %s: %llu items in %.0f ms; the queue was found full %llu times and "
                 "empty %llu times\n",
                 sc.name, (unsigned long long)board.total(), ms, (unsigned long long)st.push_full,
                 (unsigned long long)st.pop_empty);
    shmds_queue_close(q);
}

INSTANTIATE_TEST_SUITE_P(Variants, QueueStress,
                         ::testing::Values(StressCase{"int64", SHMDS_QUEUE_INT64, 150000, 0},
                                           StressCase{"int32", SHMDS_QUEUE_INT32, 150000, 0},
                                           StressCase{"bytes", SHMDS_QUEUE_BYTES, 100000, 4096}),
                         [](const ::testing::TestParamInfo<StressCase> &i) {
                             return std::string(i.param.name);
                         });

}  // namespace
