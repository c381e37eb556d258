// The graph through its public C API, one behaviour per test: every verb and every
// return code graph.h documents, stale ids, limits, iteration, the lock-free reads'
// fallback past a dead writer, and damage a hostile peer can write.
#include "graph_helpers.hpp"

#include "core/header.hpp"
#include "graph/layout.hpp"  // the hostile-peer tests need to know where the words live

#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

using namespace shmds::test;
using namespace shmds::test::graph;

namespace {

bool says(const char *word) { return std::strstr(shmds_last_error(), word) != nullptr; }

TEST(Graph, CreateRefusesBadGeometryAndNullArguments) {
    shmds_graph_t *g = nullptr;
    shmds_graph_config_t cfg = SHMDS_GRAPH_CONFIG_INIT(0, 10);
    EXPECT_EQ(-EINVAL, shmds_graph_create(nullptr, &cfg, &g));
    EXPECT_TRUE(says("max_nodes")) << shmds_last_error();
    cfg.max_nodes = 10;
    cfg.max_edges = 0;
    EXPECT_EQ(-EINVAL, shmds_graph_create(nullptr, &cfg, &g));
    EXPECT_TRUE(says("max_edges"));
    cfg.max_edges = (std::uint64_t{1} << 30) + 1;
    EXPECT_EQ(-EINVAL, shmds_graph_create(nullptr, &cfg, &g));
    cfg.max_edges = 10;
    EXPECT_EQ(-EINVAL, shmds_graph_create(nullptr, nullptr, &g));
    EXPECT_EQ(-EINVAL, shmds_graph_create(nullptr, &cfg, nullptr));
    EXPECT_EQ(nullptr, g);
    shmds_graph_config_t small{};
    EXPECT_EQ(-EINVAL, shmds_graph_config_init(&small, 1, 3, 4));
    EXPECT_EQ(0, shmds_graph_config_init(&small, sizeof small, 3, 4));
    EXPECT_EQ(3u, small.max_nodes);
    EXPECT_EQ(4u, small.max_edges);
    EXPECT_EQ(std::uint64_t(SHMDS_GRAPH_INLINE_DEGREE), small.inline_degree);
    cfg.inline_degree = 65;
    EXPECT_EQ(-EINVAL, shmds_graph_create(nullptr, &cfg, &g));
    EXPECT_TRUE(says("inline_degree")) << shmds_last_error();
    // A caller built against the first version (no inline_degree) gets the default.
    shmds_graph_config_t v1 = SHMDS_GRAPH_CONFIG_INIT(3, 4);
    v1.struct_size = offsetof(shmds_graph_config_t, inline_degree);
    v1.inline_degree = 999;  // beyond its struct_size: never read
    ASSERT_EQ(0, shmds_graph_create(nullptr, &v1, &g)) << shmds_last_error();
    shmds_graph_stats_t st{};
    st.struct_size = sizeof st;
    ASSERT_EQ(0, shmds_graph_stats(g, &st));
    EXPECT_EQ(std::uint64_t(SHMDS_GRAPH_INLINE_DEGREE), st.inline_degree);
    shmds_graph_close(g);
}

// Neighbours come newest first whether a node's edges are read from the copy kept beside
// it (degree <= inline_degree) or walked one by one, and stay exact while the degree
// crosses inline_degree both ways, with edges removed from the middle and weights changed.
class GraphInlineDegree : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(GraphInlineDegree, NeighboursStayNewestFirstAcrossTheInlineDegree) {
    const std::uint64_t k = GetParam();
    shmds_graph_config_t cfg = SHMDS_GRAPH_CONFIG_INIT(32, 64);
    cfg.inline_degree = k;
    shmds_graph_t *raw = nullptr;
    ASSERT_EQ(0, shmds_graph_create(nullptr, &cfg, &raw)) << shmds_last_error();
    GraphPtr g(raw);
    const std::uint64_t hub = add_node(g.get(), 0);
    std::vector<std::uint64_t> spokes;
    for (int i = 0; i < 12; ++i) spokes.push_back(add_node(g.get(), i));
    // The expected out-list of the hub, newest first, as (id, weight); and each spoke's
    // in-list (the hub, or nothing).
    std::vector<std::pair<std::uint64_t, std::int64_t>> want;
    auto expect_lists = [&](const std::string &when) {
        SCOPED_TRACE(when + ", inline_degree " + std::to_string(k));
        std::uint64_t ids[16];
        std::int64_t ws[16];
        std::size_t c = 0;
        ASSERT_EQ(0, shmds_graph_neighbors(g.get(), hub, ids, ws, 16, &c)) << shmds_last_error();
        ASSERT_EQ(want.size(), c);
        for (std::size_t i = 0; i < c; ++i) {
            EXPECT_EQ(want[i].first, ids[i]) << "position " << i;
            EXPECT_EQ(want[i].second, ws[i]) << "position " << i;
        }
        for (const auto &[spoke, w] : want) {
            ASSERT_EQ(0, shmds_graph_in_neighbors(g.get(), spoke, ids, ws, 16, &c));
            ASSERT_EQ(1u, c);
            EXPECT_EQ(hub, ids[0]);
            EXPECT_EQ(w, ws[0]);
        }
        EXPECT_EQ(0, shmds_graph_check(g.get())) << shmds_last_error();
    };
    for (int i = 0; i < 12; ++i) {
        ASSERT_EQ(0, shmds_graph_add_edge(g.get(), hub, spokes[i], 100 + i));
        want.insert(want.begin(), {spokes[i], 100 + i});
        expect_lists("after adding edge " + std::to_string(i));
    }
    // Down through the inline degree, taking edges from the middle, the oldest and the
    // newest in turn, changing a weight each time.
    for (int round = 0; round < 11; ++round) {
        const std::size_t at = round % 3 == 0 ? want.size() / 2 : round % 3 == 1 ? want.size() - 1 : 0;
        ASSERT_EQ(0, shmds_graph_remove_edge(g.get(), hub, want[at].first));
        want.erase(want.begin() + std::ptrdiff_t(at));
        expect_lists("after removal " + std::to_string(round));
        ASSERT_EQ(0, shmds_graph_set_edge_weight(g.get(), hub, want[0].first, -round));
        want[0].second = -round;
        expect_lists("after a weight change " + std::to_string(round));
    }
    // Back up again, and a removed node takes its edge out of the hub's list.
    for (int i = 0; i < 10; ++i) {
        if (shmds_graph_has_edge(g.get(), hub, spokes[i]) == 1) continue;
        ASSERT_EQ(0, shmds_graph_add_edge(g.get(), hub, spokes[i], 200 + i));
        want.insert(want.begin(), {spokes[i], 200 + i});
    }
    expect_lists("after adding again");
    const std::uint64_t gone = want[want.size() / 2].first;
    ASSERT_EQ(0, shmds_graph_remove_node(g.get(), gone));
    want.erase(want.begin() + std::ptrdiff_t(want.size() / 2));
    expect_lists("after removing a spoke");
}

INSTANTIATE_TEST_SUITE_P(Degrees, GraphInlineDegree, ::testing::Values(0, 1, 3, 8, 64));

TEST(Graph, NullHandlesAreRefused) {
    std::uint64_t id = 0, n = 0;
    std::int64_t v = 0;
    std::size_t c = 0;
    EXPECT_EQ(-EINVAL, shmds_graph_add_node(nullptr, 1, &id));
    EXPECT_EQ(-EINVAL, shmds_graph_remove_node(nullptr, 1));
    EXPECT_EQ(-EINVAL, shmds_graph_remove_node_full(nullptr, 1));
    EXPECT_EQ(-EINVAL, shmds_graph_has_node(nullptr, 1));
    EXPECT_EQ(-EINVAL, shmds_graph_node_data(nullptr, 1, &v));
    EXPECT_EQ(-EINVAL, shmds_graph_set_node_data(nullptr, 1, 1));
    EXPECT_EQ(-EINVAL, shmds_graph_add_edge(nullptr, 1, 2, 1));
    EXPECT_EQ(-EINVAL, shmds_graph_remove_edge(nullptr, 1, 2));
    EXPECT_EQ(-EINVAL, shmds_graph_has_edge(nullptr, 1, 2));
    EXPECT_EQ(-EINVAL, shmds_graph_edge_weight(nullptr, 1, 2, &v));
    EXPECT_EQ(-EINVAL, shmds_graph_set_edge_weight(nullptr, 1, 2, 1));
    EXPECT_EQ(-EINVAL, shmds_graph_neighbors(nullptr, 1, &id, &v, 1, &c));
    EXPECT_EQ(-EINVAL, shmds_graph_in_neighbors(nullptr, 1, &id, &v, 1, &c));
    EXPECT_EQ(-EINVAL, shmds_graph_out_degree(nullptr, 1, &n));
    EXPECT_EQ(-EINVAL, shmds_graph_in_degree(nullptr, 1, &n));
    EXPECT_EQ(-EINVAL, shmds_graph_next_node(nullptr, SHMDS_GRAPH_BEGIN, &id));
    EXPECT_EQ(-EINVAL, shmds_graph_clear(nullptr, &n));
    EXPECT_EQ(-EINVAL, shmds_graph_check(nullptr));
    EXPECT_EQ(-EINVAL, shmds_graph_fd(nullptr));
    EXPECT_EQ(-EINVAL, shmds_graph_sync(nullptr));
    EXPECT_EQ(0u, shmds_graph_node_count(nullptr));
    EXPECT_EQ(0u, shmds_graph_edge_count(nullptr));
    EXPECT_EQ(0u, shmds_graph_max_nodes(nullptr));
    EXPECT_EQ(0u, shmds_graph_max_edges(nullptr));
    EXPECT_EQ(0u, shmds_graph_recoveries(nullptr));
    shmds_graph_close(nullptr);

    GraphPtr g = make_graph(4, 4);
    EXPECT_EQ(-EINVAL, shmds_graph_add_node(g.get(), 1, nullptr));
    EXPECT_EQ(-EINVAL, shmds_graph_node_data(g.get(), 1, nullptr));
    EXPECT_EQ(-EINVAL, shmds_graph_edge_weight(g.get(), 1, 2, nullptr));
    EXPECT_EQ(-EINVAL, shmds_graph_neighbors(g.get(), 1, nullptr, nullptr, 1, &c));
    EXPECT_EQ(-EINVAL, shmds_graph_neighbors(g.get(), 1, &id, nullptr, 1, nullptr));
    EXPECT_EQ(-EINVAL, shmds_graph_out_degree(g.get(), 1, nullptr));
    EXPECT_EQ(-EINVAL, shmds_graph_next_node(g.get(), 1, nullptr));
    EXPECT_EQ(-EINVAL, shmds_graph_stats(g.get(), nullptr));
}

TEST(Graph, NodesCarryDataAndIdsAreNeverZero) {
    GraphPtr g = make_graph(3, 4);
    EXPECT_EQ(3u, shmds_graph_max_nodes(g.get()));
    EXPECT_EQ(4u, shmds_graph_max_edges(g.get()));
    const std::uint64_t a = add_node(g.get(), INT64_MIN), b = add_node(g.get(), INT64_MAX);
    EXPECT_NE(0u, a);
    EXPECT_NE(a, b);
    std::int64_t v = 0;
    ASSERT_EQ(0, shmds_graph_node_data(g.get(), a, &v));
    EXPECT_EQ(INT64_MIN, v);
    ASSERT_EQ(0, shmds_graph_node_data(g.get(), b, &v));
    EXPECT_EQ(INT64_MAX, v);
    ASSERT_EQ(0, shmds_graph_set_node_data(g.get(), a, -5));
    ASSERT_EQ(0, shmds_graph_node_data(g.get(), a, &v));
    EXPECT_EQ(-5, v);
    EXPECT_EQ(1, shmds_graph_has_node(g.get(), a));
    EXPECT_EQ(0, shmds_graph_has_node(g.get(), 0));
    EXPECT_EQ(0, shmds_graph_has_node(g.get(), ~std::uint64_t{0}));
    EXPECT_EQ(2u, shmds_graph_node_count(g.get()));
}

TEST(Graph, AFullGraphRefusesNodesAndEdgesWithENOSPC) {
    GraphPtr g = make_graph(2, 1);
    const std::uint64_t a = add_node(g.get(), 1), b = add_node(g.get(), 2);
    std::uint64_t id = 77;
    EXPECT_EQ(-ENOSPC, shmds_graph_add_node(g.get(), 3, &id));
    EXPECT_TRUE(says("full")) << shmds_last_error();
    EXPECT_EQ(77u, id);
    ASSERT_EQ(0, shmds_graph_add_edge(g.get(), a, b, 1));
    EXPECT_EQ(-ENOSPC, shmds_graph_add_edge(g.get(), b, a, 1));
    ASSERT_EQ(0, shmds_graph_remove_node(g.get(), a));
    EXPECT_EQ(0u, shmds_graph_edge_count(g.get()));
    EXPECT_EQ(0, shmds_graph_add_node(g.get(), 3, &id)) << "the freed slot is reused";
    EXPECT_EQ(0, shmds_graph_add_edge(g.get(), b, id, 1)) << "the freed edge is reused";
    EXPECT_EQ(0, shmds_graph_check(g.get())) << shmds_last_error();
}

TEST(Graph, AStaleIdIsRefusedAndNeverNamesTheSlotsNewNode) {
    GraphPtr g = make_graph(1, 2);
    const std::uint64_t old = add_node(g.get(), 10);
    ASSERT_EQ(0, shmds_graph_remove_node(g.get(), old));
    const std::uint64_t now = add_node(g.get(), 20);
    EXPECT_EQ(old & 0xFFFFFFFFu, now & 0xFFFFFFFFu) << "one slot: it is reused";
    EXPECT_NE(old, now);
    std::int64_t v = 0;
    EXPECT_EQ(0, shmds_graph_has_node(g.get(), old));
    EXPECT_EQ(-ENOENT, shmds_graph_node_data(g.get(), old, &v));
    EXPECT_TRUE(says("stale")) << shmds_last_error();
    EXPECT_EQ(-ENOENT, shmds_graph_set_node_data(g.get(), old, 1));
    EXPECT_EQ(-ENOENT, shmds_graph_remove_node(g.get(), old));
    EXPECT_EQ(-ENOENT, shmds_graph_add_edge(g.get(), old, now, 1));
    EXPECT_EQ(-ENOENT, shmds_graph_add_edge(g.get(), now, old, 1));
    std::size_t c = 9;
    std::uint64_t ids[2];
    EXPECT_EQ(-ENOENT, shmds_graph_neighbors(g.get(), old, ids, nullptr, 2, &c));
    std::uint64_t d;
    EXPECT_EQ(-ENOENT, shmds_graph_out_degree(g.get(), old, &d));
    ASSERT_EQ(0, shmds_graph_node_data(g.get(), now, &v));
    EXPECT_EQ(20, v) << "the new node is untouched";
    EXPECT_EQ(-ENOENT, shmds_graph_node_data(g.get(), (std::uint64_t{1} << 32) | 5, &v));
    EXPECT_TRUE(says("not a graph node id")) << shmds_last_error();
}

TEST(Graph, EdgesHaveWeightsAndAtMostOnePerDirection) {
    GraphPtr g = make_graph(4, 8);
    const std::uint64_t a = add_node(g.get(), 1), b = add_node(g.get(), 2);
    ASSERT_EQ(0, shmds_graph_add_edge(g.get(), a, b, 7));
    EXPECT_EQ(-EEXIST, shmds_graph_add_edge(g.get(), a, b, 8));
    EXPECT_TRUE(says("set_edge_weight")) << shmds_last_error();
    ASSERT_EQ(0, shmds_graph_add_edge(g.get(), b, a, -3)) << "the other direction is another edge";
    ASSERT_EQ(0, shmds_graph_add_edge(g.get(), a, a, 1)) << "self-loops are allowed";
    EXPECT_EQ(1, shmds_graph_has_edge(g.get(), a, b));
    EXPECT_EQ(1, shmds_graph_has_edge(g.get(), a, a));
    std::int64_t w = 0;
    ASSERT_EQ(0, shmds_graph_edge_weight(g.get(), a, b, &w));
    EXPECT_EQ(7, w);
    ASSERT_EQ(0, shmds_graph_set_edge_weight(g.get(), a, b, INT64_MIN));
    ASSERT_EQ(0, shmds_graph_edge_weight(g.get(), a, b, &w));
    EXPECT_EQ(INT64_MIN, w);
    ASSERT_EQ(0, shmds_graph_remove_edge(g.get(), a, b));
    EXPECT_EQ(0, shmds_graph_has_edge(g.get(), a, b));
    EXPECT_EQ(-ENOENT, shmds_graph_remove_edge(g.get(), a, b));
    EXPECT_TRUE(says("no edge")) << shmds_last_error();
    EXPECT_EQ(-ENOENT, shmds_graph_edge_weight(g.get(), a, b, &w));
    EXPECT_EQ(-ENOENT, shmds_graph_set_edge_weight(g.get(), a, b, 1));
    EXPECT_EQ(-ENOENT, shmds_graph_has_edge(g.get(), a, 12345));
    EXPECT_EQ(2u, shmds_graph_edge_count(g.get()));
    EXPECT_EQ(0, shmds_graph_check(g.get())) << shmds_last_error();
}

TEST(Graph, NeighborsComeNewestFirstWithTheTotalCount) {
    GraphPtr g = make_graph(8, 16);
    const std::uint64_t hub = add_node(g.get(), 0);
    std::uint64_t n[4];
    for (int i = 0; i < 4; ++i) {
        n[i] = add_node(g.get(), i);
        ASSERT_EQ(0, shmds_graph_add_edge(g.get(), hub, n[i], 10 + i));
    }
    std::uint64_t ids[4];
    std::int64_t ws[4];
    std::size_t c = 0;
    ASSERT_EQ(0, shmds_graph_neighbors(g.get(), hub, ids, ws, 4, &c));
    ASSERT_EQ(4u, c);
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(n[3 - i], ids[i]);
        EXPECT_EQ(13 - i, ws[i]);
    }
    // A short buffer: the first entries and the total, -ENOBUFS.
    std::uint64_t two[2];
    EXPECT_EQ(-ENOBUFS, shmds_graph_neighbors(g.get(), hub, two, nullptr, 2, &c));
    EXPECT_EQ(4u, c);
    EXPECT_EQ(n[3], two[0]);
    EXPECT_EQ(-ENOBUFS, shmds_graph_neighbors(g.get(), hub, nullptr, nullptr, 0, &c));
    EXPECT_EQ(4u, c) << "cap 0 asks only for the count";
    // In-neighbours: the hub is each one's only source.
    ASSERT_EQ(0, shmds_graph_in_neighbors(g.get(), n[2], ids, ws, 4, &c));
    ASSERT_EQ(1u, c);
    EXPECT_EQ(hub, ids[0]);
    EXPECT_EQ(12, ws[0]);
    ASSERT_EQ(0, shmds_graph_in_neighbors(g.get(), hub, ids, ws, 4, &c));
    EXPECT_EQ(0u, c);
    std::uint64_t d = 0;
    ASSERT_EQ(0, shmds_graph_out_degree(g.get(), hub, &d));
    EXPECT_EQ(4u, d);
    ASSERT_EQ(0, shmds_graph_in_degree(g.get(), n[0], &d));
    EXPECT_EQ(1u, d);
}

TEST(Graph, RemoveNodeTakesEveryEdgeInAndOutWithIt) {
    GraphPtr g = make_graph(8, 16);
    const std::uint64_t x = add_node(g.get(), 0), a = add_node(g.get(), 1),
                        b = add_node(g.get(), 2);
    ASSERT_EQ(0, shmds_graph_add_edge(g.get(), x, a, 1));
    ASSERT_EQ(0, shmds_graph_add_edge(g.get(), b, x, 1));
    ASSERT_EQ(0, shmds_graph_add_edge(g.get(), x, x, 1));
    ASSERT_EQ(0, shmds_graph_add_edge(g.get(), a, b, 1));
    ASSERT_EQ(0, shmds_graph_remove_node_full(g.get(), x));
    EXPECT_EQ(1u, shmds_graph_edge_count(g.get()));
    EXPECT_EQ(2u, shmds_graph_node_count(g.get()));
    std::uint64_t d = 9;
    ASSERT_EQ(0, shmds_graph_in_degree(g.get(), a, &d));
    EXPECT_EQ(0u, d);
    ASSERT_EQ(0, shmds_graph_out_degree(g.get(), b, &d));
    EXPECT_EQ(0u, d);
    EXPECT_EQ(1, shmds_graph_has_edge(g.get(), a, b));
    EXPECT_EQ(0, shmds_graph_check(g.get())) << shmds_last_error();
}

TEST(Graph, NextNodeVisitsEveryLiveNodeOnceEvenWhileRemoving) {
    GraphPtr g = make_graph(8, 4);
    std::uint64_t ids[6];
    for (int i = 0; i < 6; ++i) ids[i] = add_node(g.get(), i);
    ASSERT_EQ(0, shmds_graph_remove_node(g.get(), ids[1]));
    ASSERT_EQ(0, shmds_graph_remove_node(g.get(), ids[4]));
    std::vector<std::uint64_t> seen;
    std::uint64_t id = SHMDS_GRAPH_BEGIN;
    while (shmds_graph_next_node(g.get(), id, &id) == 0) {
        seen.push_back(id);
        if (seen.size() == 2) {
            ASSERT_EQ(0, shmds_graph_remove_node(g.get(), id));
        }
    }
    EXPECT_EQ((std::vector<std::uint64_t>{ids[0], ids[2], ids[3], ids[5]}), seen);
    EXPECT_EQ(-ENOENT, shmds_graph_next_node(g.get(), ids[5], &id));
    EXPECT_TRUE(says("no more"));
    GraphPtr empty = make_graph(3, 1);
    EXPECT_EQ(-ENOENT, shmds_graph_next_node(empty.get(), SHMDS_GRAPH_BEGIN, &id));
}

TEST(Graph, ClearRemovesEverythingAndLeavesOldIdsStale) {
    GraphPtr g = make_graph(4, 4);
    const std::uint64_t a = add_node(g.get(), 1), b = add_node(g.get(), 2);
    ASSERT_EQ(0, shmds_graph_add_edge(g.get(), a, b, 1));
    std::uint64_t removed = 0;
    ASSERT_EQ(0, shmds_graph_clear(g.get(), &removed));
    EXPECT_EQ(2u, removed);
    EXPECT_EQ(0u, shmds_graph_node_count(g.get()));
    EXPECT_EQ(0u, shmds_graph_edge_count(g.get()));
    EXPECT_EQ(0, shmds_graph_has_node(g.get(), a));
    const std::uint64_t c = add_node(g.get(), 3);
    EXPECT_NE(a, c);
    EXPECT_EQ(0, shmds_graph_clear(g.get(), nullptr));
    shmds_graph_stats_t st{};
    st.struct_size = sizeof st;
    ASSERT_EQ(0, shmds_graph_stats(g.get(), &st));
    EXPECT_EQ(2u, st.clears);
    EXPECT_EQ(3u, st.nodes_added);
    EXPECT_EQ(3u, st.nodes_removed);
    EXPECT_EQ(1u, st.edges_added);
    EXPECT_EQ(1u, st.edges_removed);
    EXPECT_EQ(0u, st.nodes);
    EXPECT_EQ(4u, st.max_nodes);
    EXPECT_GT(st.segment_bytes, 4u * 40 + 4u * 48);
    st.struct_size = 4;
    EXPECT_EQ(-EINVAL, shmds_graph_stats(g.get(), &st));
}

TEST(Graph, TwoHandlesOnOnePathShareTheGraphAndItsGeometry) {
    TempPath path("graph");
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = path.c_str();
    GraphPtr g = make_graph(5, 6, &o);
    const std::uint64_t a = add_node(g.get(), 42);
    shmds_graph_t *h = nullptr;
    ASSERT_EQ(0, shmds_graph_open(&o, &h)) << shmds_last_error();
    GraphPtr other(h);
    EXPECT_EQ(5u, shmds_graph_max_nodes(other.get()));
    std::int64_t v = 0;
    ASSERT_EQ(0, shmds_graph_node_data(other.get(), a, &v));
    EXPECT_EQ(42, v);
    EXPECT_GE(shmds_graph_fd(other.get()), 0);
    EXPECT_EQ(0, shmds_graph_sync(other.get()));
    GraphPtr anon = make_graph(1, 1);
    EXPECT_EQ(-ENOENT, shmds_graph_fd(anon.get()));
}

TEST(Graph, EventfdIsOptInAndOnlyNotifySignalsIt) {
    GraphPtr g = make_graph(4, 4);
    std::uint64_t n = 0;
    EXPECT_EQ(-ENOENT, shmds_graph_notify(g.get()));
    const int fd = shmds_graph_eventfd(g.get());
    ASSERT_GE(fd, 0);
    EXPECT_EQ(fd, shmds_graph_eventfd(g.get()));
    add_node(g.get(), 1);
    EXPECT_EQ(-EAGAIN, shmds_graph_eventfd_consume(g.get(), &n)) << "changes never signal";
    ASSERT_EQ(0, shmds_graph_notify(g.get()));
    ASSERT_EQ(0, shmds_graph_eventfd_consume(g.get(), &n));
    EXPECT_EQ(1u, n);
    EXPECT_EQ(0, shmds_graph_set_eventfd(g.get(), fd));
}

// ---- hostile peers and dead writers

struct Raw {
    shmds::graph::Control *ctl;
    shmds::graph::Node *nodes;
    shmds::graph::Edge *edges;
    shmds::graph::Peer *peers;  // all out-lists (node 0's first), then all in-lists
};

// A file graph mapped a second time, raw, to scribble on.
class GraphDamage : public ::testing::Test {
protected:
    void SetUp() override {
        o_.backing = SHMDS_BACKING_PATH;
        o_.name = path_.c_str();
        g_ = make_graph(kNodes, kEdges, &o_);
        shmds::graph::Geometry geo;
        ASSERT_EQ(0, shmds::graph::compute_geometry(kNodes, kEdges, SHMDS_GRAPH_INLINE_DEGREE, geo));
        size_ = geo.total;
        const int fd = shmds_graph_fd(g_.get());
        base_ = static_cast<std::uint8_t *>(
            mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
        ASSERT_NE(MAP_FAILED, static_cast<void *>(base_));
        raw_ = {reinterpret_cast<shmds::graph::Control *>(base_ + geo.control_off),
                reinterpret_cast<shmds::graph::Node *>(base_ + geo.nodes_off),
                reinterpret_cast<shmds::graph::Edge *>(base_ + geo.edges_off),
                reinterpret_cast<shmds::graph::Peer *>(base_ + geo.peers_off)};
        a_ = add_node(g_.get(), 1);
        b_ = add_node(g_.get(), 2);
        ASSERT_EQ(0, shmds_graph_add_edge(g_.get(), a_, b_, 5));
    }
    void TearDown() override { munmap(base_, size_); }
    static constexpr std::uint64_t kNodes = 4, kEdges = 4;
    TempPath path_{"graphdmg"};
    shmds_options_t o_ = SHMDS_OPTIONS_INIT;
    GraphPtr g_;
    std::uint8_t *base_ = nullptr;
    std::size_t size_ = 0;
    Raw raw_{};
    std::uint64_t a_ = 0, b_ = 0;
};

TEST_F(GraphDamage, AReadNeverFollowsAListOutOfBoundsOrRoundALoop) {
    raw_.edges[0].next_out.store(0);  // a loop: the edge points at itself
    std::uint64_t ids[8];
    std::size_t c = 0;
    const std::uint64_t before = shmds_graph_recoveries(g_.get());
    // Degree 1 is within the inline degree: the read copies the Peer list and never
    // walks the damaged list.
    ASSERT_EQ(0, shmds_graph_neighbors(g_.get(), a_, ids, nullptr, 8, &c)) << shmds_last_error();
    ASSERT_EQ(1u, c);
    EXPECT_EQ(b_, ids[0]);
    EXPECT_EQ(before, shmds_graph_recoveries(g_.get()));
    // A degree over it makes the read walk the list: it stops at the loop and repairs.
    raw_.nodes[0].out_degree.store(SHMDS_GRAPH_INLINE_DEGREE + 1);
    ASSERT_EQ(0, shmds_graph_neighbors(g_.get(), a_, ids, nullptr, 8, &c)) << shmds_last_error();
    EXPECT_EQ(1u, c) << "the lists were rebuilt from the edges";
    EXPECT_EQ(b_, ids[0]);
    EXPECT_GT(shmds_graph_recoveries(g_.get()), before);
    raw_.nodes[0].out_head.store(1000);  // out of bounds
    raw_.nodes[0].out_degree.store(SHMDS_GRAPH_INLINE_DEGREE + 1);
    ASSERT_EQ(0, shmds_graph_neighbors(g_.get(), a_, ids, nullptr, 8, &c));
    EXPECT_EQ(1u, c);
    EXPECT_EQ(0, shmds_graph_check(g_.get())) << shmds_last_error();
}

TEST_F(GraphDamage, ADamagedPeerListIsNamedByCheckAndRepairedByAWriter) {
    raw_.peers[0].slot.store(3);  // a's out-list copy names another node than b
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_graph_check(g_.get()));
    EXPECT_TRUE(says("peer list")) << shmds_last_error();
    // Removing a -> b does not find b in the copy: the writer rebuilds.
    const std::uint64_t before = shmds_graph_recoveries(g_.get());
    EXPECT_EQ(0, shmds_graph_remove_edge(g_.get(), a_, b_));
    EXPECT_GT(shmds_graph_recoveries(g_.get()), before);
    EXPECT_EQ(0, shmds_graph_check(g_.get())) << shmds_last_error();
    EXPECT_EQ(0u, shmds_graph_edge_count(g_.get()));
    ASSERT_EQ(0, shmds_graph_add_edge(g_.get(), a_, b_, 6));
    std::uint64_t id = 0;
    std::int64_t w = 0;
    std::size_t c = 0;
    ASSERT_EQ(0, shmds_graph_neighbors(g_.get(), a_, &id, &w, 1, &c));
    EXPECT_EQ(b_, id);
    EXPECT_EQ(6, w);
}

TEST_F(GraphDamage, WritersRepairDamagedListsAndFreeLists) {
    raw_.ctl->edge_free.store(0);  // points at the live edge
    const std::uint64_t c = add_node(g_.get(), 3);
    ASSERT_EQ(0, shmds_graph_add_edge(g_.get(), b_, c, 1)) << shmds_last_error();
    EXPECT_EQ(1, shmds_graph_has_edge(g_.get(), a_, b_)) << "the live edge was not reused";
    raw_.ctl->node_free.store(999);
    add_node(g_.get(), 4);
    raw_.edges[0].prev_in.store(777);
    EXPECT_EQ(0, shmds_graph_remove_edge(g_.get(), a_, b_));
    EXPECT_EQ(0, shmds_graph_check(g_.get())) << shmds_last_error();
}

TEST_F(GraphDamage, CheckNamesADanglingEdgeAndTheRepairDropsIt) {
    raw_.edges[0].dst_gen.store(99);  // names a generation the node never had
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_graph_check(g_.get()));
    EXPECT_TRUE(says("dangles")) << shmds_last_error();
    // Makes the next read walk a's out-list (degrees over the inline degree: no Peer
    // list answers) and find it out of bounds, so it repairs.
    raw_.nodes[0].out_head.store(1000);
    raw_.nodes[0].out_degree.store(SHMDS_GRAPH_INLINE_DEGREE + 1);
    raw_.nodes[1].in_degree.store(SHMDS_GRAPH_INLINE_DEGREE + 1);
    EXPECT_EQ(0, shmds_graph_has_edge(g_.get(), a_, b_));
    EXPECT_EQ(0, shmds_graph_check(g_.get())) << shmds_last_error();
    EXPECT_EQ(0u, shmds_graph_edge_count(g_.get()));
}

TEST_F(GraphDamage, AnOddSequenceWordLeftByAWriterDoesNotStopReads) {
    // A writer that died mid-change leaves the word odd; with the lock free (as if the
    // takeover already happened elsewhere) readers fall back to the lock and finish.
    raw_.ctl->seq.fetch_add(1);
    EXPECT_EQ(1, shmds_graph_has_node(g_.get(), a_));
    shmds_graph_stats_t st{};
    st.struct_size = sizeof st;
    ASSERT_EQ(0, shmds_graph_stats(g_.get(), &st));
    EXPECT_EQ(1u, st.locked_reads);
    EXPECT_EQ(1u, st.read_retries);
    EXPECT_EQ(1u, st.recoveries) << "the odd word was repaired";
    EXPECT_EQ(1, shmds_graph_has_node(g_.get(), b_));
    ASSERT_EQ(0, shmds_graph_stats(g_.get(), &st));
    EXPECT_EQ(1u, st.locked_reads) << "reads are lock-free again";
}

}  // namespace
