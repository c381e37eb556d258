// Crash behaviour of the graph: a child dies by SIGKILL at every named failpoint of every
// verb, holding the lock (and, for a writer, the sequence word odd). Another process
// must then read within 100 ms (its lock-free read falls back to the lock and takes the
// dead writer over, counted once), find the graph consistent (check: no dangling edge,
// every list, degree, count and free list rebuilt from the nodes and edges) and equal to
// the state before the dead call or after it, never anything else.
#include "graph_helpers.hpp"
#include "shmds_config.h"

#include "graph/layout.hpp"

#include <csignal>
#include <sys/mman.h>

using namespace shmds::test;
using namespace shmds::test::graph;

namespace {

enum class Op { add_node, add_edge, remove_edge, remove_node, set_data, set_weight, clear,
                stats, check, read_odd };
enum class Want { before, after, half_removed, edges_cleared };

struct CrashCase {
    const char *failpoint;
    Op op;
    Want want;
};

void PrintTo(const CrashCase &c, std::ostream *os) { *os << c.failpoint; }

class GraphCrashMatrix : public ::testing::TestWithParam<CrashCase> {};

TEST_P(GraphCrashMatrix, ChildKilledAtTheFailpointLeavesAConsistentGraph) {
    if (!SHMDS_FAILPOINTS) GTEST_SKIP() << "built without -Dfailpoints=true: no crash points";
    const CrashCase &cc = GetParam();
    TempPath path("graphcrash");
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = path.c_str();
    GraphPtr g = make_graph(6, 8, &o);
    shmds::graph::Geometry geo;
    ASSERT_EQ(0, shmds::graph::compute_geometry(6, 8, SHMDS_GRAPH_INLINE_DEGREE, geo));
    void *raw = mmap(nullptr, geo.total, PROT_READ | PROT_WRITE, MAP_SHARED,
                     shmds_graph_fd(g.get()), 0);
    ASSERT_NE(MAP_FAILED, raw);
    auto *ctl = reinterpret_cast<shmds::graph::Control *>(static_cast<char *>(raw) + geo.control_off);

    Model before;
    const std::uint64_t a = add_node(g.get(), 1), b = add_node(g.get(), 2), c = add_node(g.get(), 3);
    for (std::uint64_t id : {a, b, c}) before.nodes[id] = std::int64_t(id & 0xFF) + 1;
    const std::pair<std::uint64_t, std::uint64_t> edges[] = {{a, b}, {b, c}, {c, a}, {a, c}, {a, a}};
    std::int64_t w = 10;
    for (auto [s, d] : edges) {
        ASSERT_EQ(0, shmds_graph_add_edge(g.get(), s, d, w));
        before.edges[{s, d}] = w;
        w += 10;
    }
    ASSERT_EQ("", differs(g.get(), before));
    const std::uint64_t r0 = shmds_graph_recoveries(g.get());

    const pid_t pid = fork_child([&] {
        std::uint64_t id;
        shmds_graph_stats_t st{};
        st.struct_size = sizeof st;
        if (cc.op == Op::read_odd) ctl->seq.fetch_add(1);  // as a writer killed mid-change
        arm_failpoint(cc.failpoint);
        int rc = -1;
        switch (cc.op) {
            case Op::add_node: rc = shmds_graph_add_node(g.get(), 4, &id); break;
            case Op::add_edge: rc = shmds_graph_add_edge(g.get(), b, a, 60); break;
            case Op::remove_edge: rc = shmds_graph_remove_edge(g.get(), a, b); break;
            case Op::remove_node: rc = shmds_graph_remove_node(g.get(), a); break;
            case Op::set_data: rc = shmds_graph_set_node_data(g.get(), b, 99); break;
            case Op::set_weight: rc = shmds_graph_set_edge_weight(g.get(), b, c, 99); break;
            case Op::clear: rc = shmds_graph_clear(g.get(), nullptr); break;
            case Op::stats: rc = shmds_graph_stats(g.get(), &st); break;
            case Op::check: rc = shmds_graph_check(g.get()); break;
            case Op::read_odd: rc = shmds_graph_has_node(g.get(), a); break;
        }
        std::fprintf(stderr, "child: returned %d instead of dying at %s\n", rc, cc.failpoint);
        return 3;
    });
    ASSERT_GT(pid, 0);
    const ChildExit e = wait_child(pid, 10s);
    ASSERT_TRUE(!e.timed_out && !e.exited && e.signal == SIGKILL) << e.describe();
    const auto death = std::chrono::steady_clock::now();

    // A lock-free read from another process proceeds within 100 ms of the death.
    std::size_t n = 0;
    std::uint64_t ids[8];
    const int rc = shmds_graph_neighbors(g.get(), b, ids, nullptr, 8, &n);
    EXPECT_LE(ms_since(death), 100.0) << "a read (and the takeover) after the death";
    // A child that died before opening the sequence word left nothing for readers to
    // wait on: the next locker (here stats) takes it over.
    shmds_graph_stats_t st{};
    st.struct_size = sizeof st;
    ASSERT_EQ(0, shmds_graph_stats(g.get(), &st));
    EXPECT_LE(ms_since(death), 100.0) << "a lock taken over after the death";
    EXPECT_EQ(r0 + 1, st.recoveries) << "exactly one takeover";
    EXPECT_EQ(0, shmds_graph_check(g.get())) << shmds_last_error();

    Model after = before;
    switch (cc.op) {
        case Op::add_node: break;  // its id is unknown here: compared by count below
        case Op::add_edge: after.edges[{b, a}] = 60; break;
        case Op::remove_edge: after.edges.erase({a, b}); break;
        case Op::remove_node: after.remove_node(a); break;
        case Op::set_data: after.nodes[b] = 99; break;
        case Op::set_weight: after.edges[{b, c}] = 99; break;
        case Op::clear: after = Model{}; break;
        default: break;
    }
    if (cc.want == Want::before) {
        EXPECT_EQ(0, rc);
        EXPECT_EQ("", differs(g.get(), before));
    } else if (cc.want == Want::after && cc.op == Op::add_node) {
        EXPECT_EQ(4u, shmds_graph_node_count(g.get()));
        std::uint64_t id = SHMDS_GRAPH_BEGIN, last = 0;
        while (shmds_graph_next_node(g.get(), id, &id) == 0) last = id;
        before.nodes[last] = 4;
        EXPECT_EQ("", differs(g.get(), before));
    } else if (cc.want == Want::after) {
        EXPECT_EQ("", differs(g.get(), after));
    } else if (cc.want == Want::edges_cleared) {
        Model nodes_only = before;
        nodes_only.edges.clear();
        EXPECT_EQ("", differs(g.get(), nodes_only));
    } else {
        // Killed after invalidating the first of a's edges: a is still there, one of its
        // edges is gone, every other edge stands.
        EXPECT_EQ(1, shmds_graph_has_node(g.get(), a));
        EXPECT_EQ(before.edges.size() - 1, shmds_graph_edge_count(g.get()));
        EXPECT_EQ(1, shmds_graph_has_edge(g.get(), b, c));
    }
    // And the graph works afterwards: a full lap of writes.
    const std::uint64_t x = add_node(g.get(), 7), y = add_node(g.get(), 8);
    EXPECT_EQ(0, shmds_graph_add_edge(g.get(), x, y, 1)) << shmds_last_error();
    EXPECT_EQ(0, shmds_graph_remove_node(g.get(), y));
    EXPECT_EQ(0, shmds_graph_clear(g.get(), nullptr));
    EXPECT_EQ(0, shmds_graph_check(g.get())) << shmds_last_error();
    munmap(raw, geo.total);
}

std::vector<CrashCase> cases() {
    return {
        {"graph.add_node.locked", Op::add_node, Want::before},
        {"graph.add_node.committed", Op::add_node, Want::after},
        {"graph.add_edge.locked", Op::add_edge, Want::before},
        {"graph.add_edge.slot_written", Op::add_edge, Want::before},
        {"graph.add_edge.committed", Op::add_edge, Want::after},
        {"graph.remove_edge.locked", Op::remove_edge, Want::before},
        {"graph.remove_edge.committed", Op::remove_edge, Want::after},
        {"graph.remove_node.locked", Op::remove_node, Want::before},
        {"graph.remove_node.edge_invalidated", Op::remove_node, Want::half_removed},
        {"graph.remove_node.committed", Op::remove_node, Want::after},
        {"graph.set_node_data.locked", Op::set_data, Want::before},
        {"graph.set_edge_weight.locked", Op::set_weight, Want::before},
        {"graph.clear.locked", Op::clear, Want::before},
        {"graph.clear.edges_invalidated", Op::clear, Want::edges_cleared},
        {"graph.clear.committed", Op::clear, Want::after},
        {"graph.stats.locked", Op::stats, Want::before},
        {"graph.check.locked", Op::check, Want::before},
        {"graph.read.locked", Op::read_odd, Want::before},
    };
}

INSTANTIATE_TEST_SUITE_P(Failpoints, GraphCrashMatrix, ::testing::ValuesIn(cases()),
                         failpoint_case_name<CrashCase>);

}  // namespace
