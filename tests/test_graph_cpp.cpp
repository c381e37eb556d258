// shmds::graph, the C++ veneer: outcomes as values, lists as vectors, the demo's use
// (jobs as nodes, dependencies as edges, a job's dependencies as its in-neighbours).
#include "support/proc.hpp"

#include <shmds/graph.hpp>

#include <algorithm>

using namespace shmds::test;

namespace {

TEST(GraphCpp, JobsAndTheirDependencies) {
    auto g = shmds::graph::create(shmds::backing::anonymous(), 8, 16);
    const auto build = *g.add_node(100), test = *g.add_node(101), ship = *g.add_node(102);
    EXPECT_TRUE(g.add_edge(build, test));  // test depends on build
    EXPECT_TRUE(g.add_edge(test, ship, 3));
    EXPECT_TRUE(g.add_edge(build, ship));
    auto deps = g.in_neighbors(ship);
    std::sort(deps.begin(), deps.end(), [](auto a, auto b) { return a.id < b.id; });
    ASSERT_EQ(2u, deps.size());
    EXPECT_EQ((shmds::graph_neighbor{build, 1}), deps[0]);
    EXPECT_EQ((shmds::graph_neighbor{test, 3}), deps[1]);
    EXPECT_EQ(2u, g.neighbors(build).size());
    EXPECT_EQ(101, g.node_data(test).value());
    EXPECT_EQ(2u, g.out_degree(build).value());
    EXPECT_EQ(2u, g.in_degree(ship).value());
    EXPECT_EQ(3, g.edge_weight(test, ship).value());
    EXPECT_TRUE(g.set_edge_weight(test, ship, 4));
    EXPECT_TRUE(g.has_edge(test, ship));
    EXPECT_THROW(g.add_edge(test, ship), shmds::error) << "-EEXIST is a real failure";
    EXPECT_EQ((std::vector<std::uint64_t>{build, test, ship}), g.nodes());
    // Done jobs leave the graph; their ids go stale.
    EXPECT_TRUE(g.remove_node(build));
    EXPECT_FALSE(g.remove_node_full(build));
    EXPECT_FALSE(g.has_node(build));
    EXPECT_FALSE(g.node_data(build).has_value());
    EXPECT_FALSE(g.out_degree(build).has_value());
    EXPECT_TRUE(g.neighbors(build).empty());
    EXPECT_FALSE(g.has_edge(build, ship));
    EXPECT_EQ(1u, g.in_neighbors(ship).size());
    EXPECT_TRUE(g.set_node_data(test, 7));
    EXPECT_FALSE(g.set_node_data(build, 7));
    EXPECT_TRUE(g.remove_edge(test, ship));
    EXPECT_FALSE(g.remove_edge(test, ship));
    EXPECT_FALSE(g.edge_weight(test, ship).has_value());
    EXPECT_EQ(2u, g.node_count());
    EXPECT_EQ(0u, g.edge_count());
    EXPECT_EQ(8u, g.max_nodes());
    EXPECT_EQ(16u, g.max_edges());
    g.check();
    EXPECT_EQ(2u, g.stats().nodes);
    EXPECT_EQ(0u, g.recoveries());
    EXPECT_EQ(2u, g.clear());
    EXPECT_THROW(g.fd(), shmds::error);
}

TEST(GraphCpp, FullIsAValueAndNeighborListsGrowPastTheFirstBuffer) {
    auto g = shmds::graph::create(shmds::backing::anonymous(), 40, 40);
    const auto hub = *g.add_node();
    for (int i = 0; i < 39; ++i) EXPECT_TRUE(g.add_edge(hub, *g.add_node(i), i));
    EXPECT_FALSE(g.add_node().has_value());
    EXPECT_EQ(39u, g.neighbors(hub).size());
    EXPECT_EQ(38, g.neighbors(hub).front().weight) << "newest first";
    EXPECT_TRUE(g.add_edge(g.nodes()[1], hub));
    EXPECT_FALSE(g.add_edge(g.nodes()[2], hub)) << "max_edges reached";
}

TEST(GraphCpp, OpenAttachesToTheSameGraph) {
    TempPath path("graphcpp");
    auto g = shmds::graph::create(shmds::backing::path(path.c_str()), 4, 4);
    const auto a = *g.add_node(9);
    auto h = shmds::graph::open(shmds::backing::path(path.c_str()));
    EXPECT_EQ(9, h.node_data(a).value());
    EXPECT_GE(h.fd(), 0);
}

}  // namespace
