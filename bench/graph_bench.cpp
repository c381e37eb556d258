// Graph benchmarks (issue 14): add_node, add_edge and neighbours in one process, against
// boost::adjacency_list (vecS/vecS, directed, bundled int64 node data and edge weight) in
// the same process with no lock at all: the ceiling a shared-memory graph is measured
// against, in the same run.
//  - graph_add_node: add nodes until 65536, clear, again (both subjects pay their clear).
//  - graph_add_edge: 1024 nodes; add distinct edges until 65536, then start over.
//  - graph_neighbors: 1024 nodes with 8 out-edges each, added round-robin over the
//    nodes; list one node's neighbours (ids and weights into a buffer) per operation,
//    cycling over the nodes. graph_neighbors_grouped: the same edges added node by node.
#include "drivers.hpp"
#include "harness.hpp"
#include "procs.hpp"
#include "queue_channels.hpp"  // check_shmds
#include "timed_rate.hpp"

#include <shmds/graph.h>

#include <boost/graph/adjacency_list.hpp>

#include <cstdint>
#include <vector>

namespace shmds::bench {

namespace {

constexpr std::uint64_t kNodes = 65536, kEdges = 65536, kEdgeNodes = 1024, kDegree = 8;

struct VertexData {
    std::int64_t data;
};
struct EdgeData {
    std::int64_t weight;
};
using BoostGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, VertexData,
                                         EdgeData>;

// The k-th distinct edge among kEdgeNodes nodes (k < kEdgeNodes * (kEdgeNodes - 1)).
std::uint64_t edge_src(std::uint64_t k) { return k % kEdgeNodes; }
std::uint64_t edge_dst(std::uint64_t k) { return (k % kEdgeNodes + 1 + k / kEdgeNodes) % kEdgeNodes; }

// Make the compiler assume the buffers are read: without it, a loop whose results are
// only summed in part could skip the copies the shmds side makes through a call.
inline void escape(const void *p) { asm volatile("" : : "r"(p) : "memory"); }

// The j-th edge added to the neighbours graph: round-robin over the nodes (a node's
// edges far apart in the edge slots), or grouped (each node's edges added together, as
// a job and its dependencies are).
std::uint64_t edge_order(std::uint64_t j, bool grouped) {
    return grouped ? (j % kDegree) * kEdgeNodes + j / kDegree : j;
}

class ShmdsGraph {
public:
    ShmdsGraph() {
        shmds_options_t opts = SHMDS_OPTIONS_INIT;
        shmds_graph_config_t cfg = SHMDS_GRAPH_CONFIG_INIT(kNodes, kEdges);
        check_shmds(shmds_graph_create(&opts, &cfg, &g_), "shmds_graph_create");
    }
    ~ShmdsGraph() { shmds_graph_close(g_); }
    ShmdsGraph(const ShmdsGraph &) = delete;
    ShmdsGraph &operator=(const ShmdsGraph &) = delete;
    std::uint64_t add_node(std::int64_t data) {
        std::uint64_t id;
        check_shmds(shmds_graph_add_node(g_, data, &id), "shmds_graph_add_node");
        return id;
    }
    void add_edge(std::uint64_t s, std::uint64_t d, std::int64_t w) {
        check_shmds(shmds_graph_add_edge(g_, s, d, w), "shmds_graph_add_edge");
    }
    void clear() { check_shmds(shmds_graph_clear(g_, nullptr), "shmds_graph_clear"); }
    std::size_t neighbors(std::uint64_t id, std::uint64_t *ids, std::int64_t *ws, std::size_t cap) {
        std::size_t n = 0;
        check_shmds(shmds_graph_neighbors(g_, id, ids, ws, cap, &n), "shmds_graph_neighbors");
        return n;
    }

private:
    shmds_graph_t *g_ = nullptr;
};

void add_node_shmds(const RunParams &p, Sample &s) {
    ShmdsGraph g;
    auto reports = run_children({{p.cpu_a, [&](ChildReport &r) {
                                      std::uint64_t n = 0;
                                      timed(p.seconds, [&] {
                                          if (n == kNodes) {
                                              g.clear();
                                              n = 0;
                                          }
                                          g.add_node(std::int64_t(n++));
                                      }).into(r);
                                  }}},
                                case_timeout(p));
    add_rate(s, reports, "add_node/s");
}

void add_node_boost(const RunParams &p, Sample &s) {
    auto reports = run_children({{p.cpu_a, [&](ChildReport &r) {
                                      BoostGraph g;
                                      std::uint64_t n = 0;
                                      timed(p.seconds, [&] {
                                          if (n == kNodes) {
                                              g.clear();
                                              n = 0;
                                          }
                                          boost::add_vertex(VertexData{std::int64_t(n++)}, g);
                                      }).into(r);
                                  }}},
                                case_timeout(p));
    add_rate(s, reports, "add_node/s");
}

void add_edge_shmds(const RunParams &p, Sample &s) {
    ShmdsGraph g;
    auto reports = run_children({{p.cpu_a, [&](ChildReport &r) {
                                      std::vector<std::uint64_t> ids(kEdgeNodes);
                                      std::uint64_t k = kEdges;
                                      timed(p.seconds, [&] {
                                          if (k == kEdges) {
                                              g.clear();
                                              for (auto &id : ids) id = g.add_node(0);
                                              k = 0;
                                          }
                                          g.add_edge(ids[edge_src(k)], ids[edge_dst(k)],
                                                     std::int64_t(k));
                                          ++k;
                                      }).into(r);
                                  }}},
                                case_timeout(p));
    add_rate(s, reports, "add_edge/s");
}

void add_edge_boost(const RunParams &p, Sample &s) {
    auto reports = run_children({{p.cpu_a, [&](ChildReport &r) {
                                      BoostGraph g;
                                      std::uint64_t k = kEdges;
                                      timed(p.seconds, [&] {
                                          if (k == kEdges) {
                                              g.clear();
                                              for (std::uint64_t i = 0; i < kEdgeNodes; ++i)
                                                  boost::add_vertex(VertexData{0}, g);
                                              k = 0;
                                          }
                                          boost::add_edge(edge_src(k), edge_dst(k),
                                                          EdgeData{std::int64_t(k)}, g);
                                          ++k;
                                      }).into(r);
                                  }}},
                                case_timeout(p));
    add_rate(s, reports, "add_edge/s");
}

void neighbors_shmds(const RunParams &p, Sample &s, bool grouped) {
    ShmdsGraph g;
    std::vector<std::uint64_t> ids(kEdgeNodes);
    for (auto &id : ids) id = g.add_node(0);
    for (std::uint64_t j = 0; j < kEdgeNodes * kDegree; ++j) {
        const std::uint64_t k = edge_order(j, grouped);
        g.add_edge(ids[edge_src(k)], ids[edge_dst(k)], std::int64_t(k));
    }
    auto reports = run_children({{p.cpu_a, [&](ChildReport &r) {
                                      std::uint64_t out[kDegree];
                                      std::int64_t ws[kDegree];
                                      std::uint64_t i = 0, sum = 0;
                                      timed(p.seconds, [&] {
                                          const std::size_t n =
                                              g.neighbors(ids[i++ % kEdgeNodes], out, ws, kDegree);
                                          escape(out);
                                          escape(ws);
                                          sum += out[n - 1] + std::uint64_t(ws[0]);
                                      }).into(r);
                                      if (sum == 42) r.values[4] = 1;  // keeps the reads
                                  }}},
                                case_timeout(p));
    add_rate(s, reports, "neighbors/s");
}

void neighbors_boost(const RunParams &p, Sample &s, bool grouped) {
    auto reports = run_children({{p.cpu_a, [&](ChildReport &r) {
                                      BoostGraph g;
                                      for (std::uint64_t i = 0; i < kEdgeNodes; ++i)
                                          boost::add_vertex(VertexData{0}, g);
                                      for (std::uint64_t j = 0; j < kEdgeNodes * kDegree; ++j) {
                                          const std::uint64_t k = edge_order(j, grouped);
                                          boost::add_edge(edge_src(k), edge_dst(k),
                                                          EdgeData{std::int64_t(k)}, g);
                                      }
                                      std::uint64_t out[kDegree];
                                      std::int64_t ws[kDegree];
                                      std::uint64_t i = 0, sum = 0;
                                      timed(p.seconds, [&] {
                                          std::size_t n = 0;
                                          auto [b, e] = boost::out_edges(i++ % kEdgeNodes, g);
                                          for (; b != e && n < kDegree; ++b, ++n) {
                                              out[n] = boost::target(*b, g);
                                              ws[n] = g[*b].weight;
                                          }
                                          escape(out);
                                          escape(ws);
                                          sum += out[n - 1] + std::uint64_t(ws[0]);
                                      }).into(r);
                                      if (sum == 42) r.values[4] = 1;
                                  }}},
                                case_timeout(p));
    add_rate(s, reports, "neighbors/s");
}

void register_graph_benchmarks() {
    constexpr char kBoost[] = "boost-adjacency_list";
    add_case({"graph_add_node", "shmds", kBoost, add_node_shmds});
    add_case({"graph_add_node", kBoost, "", add_node_boost});
    add_case({"graph_add_edge", "shmds", kBoost, add_edge_shmds});
    add_case({"graph_add_edge", kBoost, "", add_edge_boost});
    for (bool grouped : {false, true}) {
        const std::string w = grouped ? "graph_neighbors_grouped" : "graph_neighbors";
        add_case({w, "shmds", kBoost,
                  [grouped](const RunParams &p, Sample &s) { neighbors_shmds(p, s, grouped); }});
        add_case({w, kBoost, "",
                  [grouped](const RunParams &p, Sample &s) { neighbors_boost(p, s, grouped); }});
    }
    add_target({"graph_neighbors", "shmds", "rate", kBoost, true, 0.5,
                "Graph neighbours (8 out-edges, ids and weights copied out) vs an unlocked "
                "boost::adjacency_list in one process"});
}

}  // namespace

SHMDS_BENCH_REGISTER(register_graph_benchmarks);

}  // namespace shmds::bench
