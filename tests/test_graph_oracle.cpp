// The graph against an adjacency-map model: a seeded random sequence of every verb, the
// return codes and every observable compared after each step (SHMDS_TEST_SEED replays).
#include "graph_helpers.hpp"

#include <random>

using namespace shmds::test;
using namespace shmds::test::graph;

namespace {

// Over inline degrees that a node's degree crosses often (0: never kept, 3: often,
// 8: the default) and one it never crosses.
class GraphOracle : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(GraphOracle, RandomOperationsMatchAnAdjacencyMapModel) {
    const std::uint64_t seed = test_seed();
    std::mt19937_64 rng(seed);
    constexpr std::uint64_t kNodes = 12, kEdges = 30;
    shmds_graph_config_t cfg = SHMDS_GRAPH_CONFIG_INIT(kNodes, kEdges);
    cfg.inline_degree = GetParam();
    shmds_graph_t *raw = nullptr;
    ASSERT_EQ(0, shmds_graph_create(nullptr, &cfg, &raw)) << shmds_last_error();
    GraphPtr g(raw);
    Model m;
    std::vector<std::uint64_t> ever;  // every id ever handed out, stale ones included
    auto pick = [&]() -> std::uint64_t {
        if (ever.empty() || rng() % 16 == 0) return rng();  // junk ids too
        return ever[rng() % ever.size()];
    };
    for (int step = 0; step < 3000; ++step) {
        SCOPED_TRACE("seed " + std::to_string(seed) + " step " + std::to_string(step));
        const int op = int(rng() % 100);
        const std::int64_t v = std::int64_t(rng());
        if (op < 20) {
            std::uint64_t id = 0;
            const int rc = shmds_graph_add_node(g.get(), v, &id);
            if (m.nodes.size() == kNodes) {
                ASSERT_EQ(-ENOSPC, rc);
            } else {
                ASSERT_EQ(0, rc);
                ASSERT_EQ(0u, m.nodes.count(id));
                ASSERT_EQ(ever.end(), std::find(ever.begin(), ever.end(), id)) << "ids never repeat";
                m.nodes[id] = v;
                ever.push_back(id);
            }
        } else if (op < 30) {
            const std::uint64_t id = pick();
            const int rc = (op & 1 ? shmds_graph_remove_node : shmds_graph_remove_node_full)(g.get(), id);
            ASSERT_EQ(m.nodes.count(id) ? 0 : -ENOENT, rc);
            m.remove_node(id);
        } else if (op < 55) {
            const std::uint64_t s = pick(), d = pick();
            const int rc = shmds_graph_add_edge(g.get(), s, d, v);
            int want = 0;
            if (!m.nodes.count(s) || !m.nodes.count(d)) want = -ENOENT;
            else if (m.edges.count({s, d})) want = -EEXIST;
            else if (m.edges.size() == kEdges) want = -ENOSPC;
            ASSERT_EQ(want, rc);
            if (want == 0) m.edges[{s, d}] = v;
        } else if (op < 65) {
            // Usually an existing edge, so removals happen.
            std::uint64_t s = pick(), d = pick();
            if (!m.edges.empty() && rng() % 2) {
                auto it = m.edges.begin();
                std::advance(it, rng() % m.edges.size());
                s = it->first.first;
                d = it->first.second;
            }
            ASSERT_EQ(m.edges.count({s, d}) ? 0 : -ENOENT, shmds_graph_remove_edge(g.get(), s, d));
            m.edges.erase({s, d});
        } else if (op < 72) {
            const std::uint64_t id = pick();
            ASSERT_EQ(m.nodes.count(id) ? 0 : -ENOENT, shmds_graph_set_node_data(g.get(), id, v));
            if (m.nodes.count(id)) m.nodes[id] = v;
        } else if (op < 80) {
            std::uint64_t s = pick(), d = pick();
            if (!m.edges.empty() && rng() % 2) {
                auto it = m.edges.begin();
                std::advance(it, rng() % m.edges.size());
                s = it->first.first;
                d = it->first.second;
            }
            ASSERT_EQ(m.edges.count({s, d}) ? 0 : -ENOENT,
                      shmds_graph_set_edge_weight(g.get(), s, d, v));
            if (m.edges.count({s, d})) m.edges[{s, d}] = v;
        } else if (op < 98) {
            const std::uint64_t s = pick(), d = pick();
            const int want = !m.nodes.count(s) || !m.nodes.count(d) ? -ENOENT
                                                                    : int(m.edges.count({s, d}));
            ASSERT_EQ(want, shmds_graph_has_edge(g.get(), s, d));
            ASSERT_EQ(int(m.nodes.count(s)), shmds_graph_has_node(g.get(), s));
            int rc = 0;
            const Adj out = list(g.get(), s, true, &rc);
            ASSERT_EQ(m.nodes.count(s) ? 0 : -ENOENT, rc);
            ASSERT_EQ(m.out(s), out);
        } else {
            std::uint64_t removed = 0;
            ASSERT_EQ(0, shmds_graph_clear(g.get(), &removed));
            ASSERT_EQ(m.nodes.size(), removed);
            m = Model{};
        }
        if (step % 50 == 0 || op >= 98) {
            ASSERT_EQ("", differs(g.get(), m));
        }
    }
    ASSERT_EQ("", differs(g.get(), m));
}

INSTANTIATE_TEST_SUITE_P(InlineDegrees, GraphOracle, ::testing::Values(0, 3, 8, 64));

}  // namespace
