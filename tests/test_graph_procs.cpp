// The graph across processes: writers add and remove nodes and edges while readers list
// neighbours without the lock. Every edge's weight is a function of its two endpoint
// ids (generations included), so a torn read, a stale id or a reused slot in a reader's
// result shows as a weight that does not match; ids must name slots in range, lists hold
// no duplicate and no more than max_edges. Seeded (printed); the graph is checked at the
// end.
#include "graph_helpers.hpp"

#include <atomic>
#include <random>
#include <set>
#include <sys/mman.h>
#include <unistd.h>

using namespace shmds::test;
using namespace shmds::test::graph;

namespace {

constexpr std::uint64_t kNodes = 64, kEdges = 256;

std::int64_t weight_of(std::uint64_t src, std::uint64_t dst) {
    return std::int64_t((src * 0x9E3779B97F4A7C15ull) ^ (dst * 0xC2B2AE3D27D4EB4Full));
}

// Up to 64 live ids, through the iteration.
std::vector<std::uint64_t> live_ids(shmds_graph_t *g) {
    std::vector<std::uint64_t> ids;
    for (std::uint64_t id = SHMDS_GRAPH_BEGIN; shmds_graph_next_node(g, id, &id) == 0;)
        ids.push_back(id);
    return ids;
}

int writer(shmds_graph_t *g, std::uint64_t seed, const std::atomic<bool> *stop) {
    std::mt19937_64 rng(seed);
    while (!stop->load(std::memory_order_relaxed)) {
        const std::vector<std::uint64_t> ids = live_ids(g);
        const auto pick = [&] { return ids.empty() ? rng() : ids[rng() % ids.size()]; };
        for (int i = 0; i < 32; ++i) {
            const int op = int(rng() % 10);
            int rc;
            if (op < 3) {
                std::uint64_t id;
                rc = shmds_graph_add_node(g, std::int64_t(rng()), &id);
                CHILD_CHECK(rc == 0 || rc == -ENOSPC);
            } else if (op < 4) {
                rc = shmds_graph_remove_node(g, pick());
                CHILD_CHECK(rc == 0 || rc == -ENOENT);
            } else if (op < 8) {
                const std::uint64_t s = pick(), d = pick();
                rc = shmds_graph_add_edge(g, s, d, weight_of(s, d));
                CHILD_CHECK(rc == 0 || rc == -ENOENT || rc == -EEXIST || rc == -ENOSPC);
            } else {
                rc = shmds_graph_remove_edge(g, pick(), pick());
                CHILD_CHECK(rc == 0 || rc == -ENOENT);
            }
        }
    }
    return 0;
}

int reader(shmds_graph_t *g, std::uint64_t seed, const std::atomic<bool> *stop,
           std::atomic<std::uint64_t> *lists) {
    std::mt19937_64 rng(seed);
    std::uint64_t ids[kEdges];
    std::int64_t ws[kEdges];
    while (!stop->load(std::memory_order_relaxed)) {
        for (std::uint64_t id : live_ids(g)) {
            std::size_t n = 0;
            const bool out = rng() & 1;
            const int rc = (out ? shmds_graph_neighbors : shmds_graph_in_neighbors)(
                g, id, ids, ws, kEdges, &n);
            CHILD_CHECK(rc == 0 || rc == -ENOENT);  // removed since the iteration
            if (rc) continue;
            CHILD_CHECK(n <= kNodes);
            std::set<std::uint64_t> seen;
            for (std::size_t i = 0; i < n; ++i) {
                CHILD_CHECK((ids[i] & 0xFFFFFFFFu) < kNodes);
                CHILD_CHECK((ids[i] >> 32) != 0);
                CHILD_CHECK(seen.insert(ids[i]).second);
                CHILD_CHECK(ws[i] == (out ? weight_of(id, ids[i]) : weight_of(ids[i], id)));
            }
            std::uint64_t deg = 0;
            const int drc = shmds_graph_out_degree(g, id, &deg);
            CHILD_CHECK(drc == 0 || drc == -ENOENT);
            CHILD_CHECK(deg <= kNodes);
            lists->fetch_add(1, std::memory_order_relaxed);
        }
    }
    return 0;
}

TEST(GraphProcs, ReadersNeverSeeATornStaleOrOutOfRangeNeighbour) {
    const std::uint64_t seed = test_seed();
    GraphPtr g = make_graph(kNodes, kEdges);
    auto *shared = static_cast<std::atomic<std::uint64_t> *>(
        mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(MAP_FAILED, static_cast<void *>(shared));
    auto *stop = reinterpret_cast<std::atomic<bool> *>(shared + 1);
    std::vector<pid_t> pids;
    for (int w = 0; w < 2; ++w)
        pids.push_back(fork_child([&, w] { return writer(g.get(), seed + w, stop); }));
    for (int r = 0; r < 2; ++r)
        pids.push_back(fork_child([&, r] { return reader(g.get(), seed + 10 + r, stop, shared); }));
    usleep(1'500'000);
    stop->store(true);
    for (pid_t p : pids) {
        const ChildExit e = wait_child(p, 20s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe() << " seed " << seed;
    }
    EXPECT_GT(shared->load(), 100u) << "the readers read";
    EXPECT_EQ(0, shmds_graph_check(g.get())) << shmds_last_error();
    shmds_graph_stats_t st{};
    st.struct_size = sizeof st;
    ASSERT_EQ(0, shmds_graph_stats(g.get(), &st));
    EXPECT_GT(st.edges_added, 100u);
    EXPECT_EQ(st.nodes_added - st.nodes_removed, st.nodes);
    EXPECT_EQ(st.edges_added - st.edges_removed, st.edges);
    EXPECT_EQ(0u, st.recoveries);
    munmap(shared, 4096);
}

// A writer killed at random moments (SIGKILL, no failpoint) while readers read: the
// readers never hang and never see a broken list, and the graph checks out.
TEST(GraphProcs, WritersKilledAtRandomLeaveReadersWorkingAndTheGraphConsistent) {
    const std::uint64_t seed = test_seed();
    std::mt19937_64 rng(seed);
    GraphPtr g = make_graph(kNodes, kEdges);
    auto *shared = static_cast<std::atomic<std::uint64_t> *>(
        mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(MAP_FAILED, static_cast<void *>(shared));
    auto *stop = reinterpret_cast<std::atomic<bool> *>(shared + 1);
    const pid_t rd = fork_child([&] { return reader(g.get(), seed + 20, stop, shared); });
    for (int round = 0; round < 10; ++round) {
        const pid_t w = fork_child([&] { return writer(g.get(), seed + round, stop); });
        usleep(std::uint32_t(20'000 + rng() % 60'000));
        kill(w, SIGKILL);
        const ChildExit e = wait_child(w, 5s);
        EXPECT_EQ(SIGKILL, e.signal) << e.describe();
        ASSERT_EQ(0, shmds_graph_check(g.get())) << shmds_last_error() << " seed " << seed;
    }
    stop->store(true);
    const ChildExit e = wait_child(rd, 20s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe() << " seed " << seed;
    munmap(shared, 4096);
}

}  // namespace
