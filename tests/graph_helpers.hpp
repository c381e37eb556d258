// Shared by the graph suites: a closing handle, and the adjacency-map model the oracle
// and the crash tests compare the graph with.
#pragma once

#include "support/proc.hpp"

#include <shmds/graph.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace shmds::test::graph {

struct GraphCloser {
    void operator()(shmds_graph_t *g) const { shmds_graph_close(g); }
};
using GraphPtr = std::unique_ptr<shmds_graph_t, GraphCloser>;

inline GraphPtr make_graph(std::uint64_t max_nodes, std::uint64_t max_edges,
                           const shmds_options_t *opts = nullptr) {
    shmds_graph_config_t cfg = SHMDS_GRAPH_CONFIG_INIT(max_nodes, max_edges);
    shmds_graph_t *g = nullptr;
    EXPECT_EQ(0, shmds_graph_create(opts, &cfg, &g)) << shmds_last_error();
    return GraphPtr(g);
}

inline std::uint64_t add_node(shmds_graph_t *g, std::int64_t data) {
    std::uint64_t id = 0;
    EXPECT_EQ(0, shmds_graph_add_node(g, data, &id)) << shmds_last_error();
    return id;
}

using Adj = std::vector<std::pair<std::uint64_t, std::int64_t>>;  // (id, weight), sorted

// A node's out- or in-neighbours, sorted (the graph's order is newest first, or slot
// order after a repair: the set is what is compared).
inline Adj list(shmds_graph_t *g, std::uint64_t id, bool out, int *rc = nullptr) {
    std::vector<std::uint64_t> ids(64);
    std::vector<std::int64_t> ws(64);
    std::size_t n = 0;
    int r;
    for (;;) {
        r = (out ? shmds_graph_neighbors : shmds_graph_in_neighbors)(g, id, ids.data(), ws.data(),
                                                                    ids.size(), &n);
        if (r != -ENOBUFS) break;
        ids.resize(n);
        ws.resize(n);
    }
    if (rc) *rc = r;
    Adj a;
    if (r == 0)
        for (std::size_t i = 0; i < n; ++i) a.emplace_back(ids[i], ws[i]);
    std::sort(a.begin(), a.end());
    return a;
}

// The model: live nodes with their data, edges with their weights.
struct Model {
    std::map<std::uint64_t, std::int64_t> nodes;
    std::map<std::pair<std::uint64_t, std::uint64_t>, std::int64_t> edges;

    void remove_node(std::uint64_t id) {
        nodes.erase(id);
        for (auto it = edges.begin(); it != edges.end();)
            it = it->first.first == id || it->first.second == id ? edges.erase(it) : std::next(it);
    }
    Adj out(std::uint64_t id) const {
        Adj a;
        for (auto &[k, w] : edges)
            if (k.first == id) a.emplace_back(k.second, w);
        std::sort(a.begin(), a.end());
        return a;
    }
    Adj in(std::uint64_t id) const {
        Adj a;
        for (auto &[k, w] : edges)
            if (k.second == id) a.emplace_back(k.first, w);
        std::sort(a.begin(), a.end());
        return a;
    }
};

// Every observable of the graph against the model; "" or the first difference.
inline std::string differs(shmds_graph_t *g, const Model &m) {
    if (shmds_graph_node_count(g) != m.nodes.size()) return "node_count";
    if (shmds_graph_edge_count(g) != m.edges.size()) return "edge_count";
    std::vector<std::uint64_t> ids;
    for (std::uint64_t id = SHMDS_GRAPH_BEGIN; shmds_graph_next_node(g, id, &id) == 0;)
        ids.push_back(id);
    std::vector<std::uint64_t> want;
    for (auto &kv : m.nodes) want.push_back(kv.first);
    std::sort(ids.begin(), ids.end());
    if (ids != want) return "the node iteration";
    for (auto &[id, data] : m.nodes) {
        std::int64_t d = 0;
        if (shmds_graph_node_data(g, id, &d) != 0 || d != data) return "node_data";
        if (list(g, id, true) != m.out(id)) return "out-neighbours of " + std::to_string(id);
        if (list(g, id, false) != m.in(id)) return "in-neighbours of " + std::to_string(id);
        std::uint64_t deg = 0;
        if (shmds_graph_out_degree(g, id, &deg) != 0 || deg != m.out(id).size()) return "out_degree";
        if (shmds_graph_in_degree(g, id, &deg) != 0 || deg != m.in(id).size()) return "in_degree";
    }
    for (auto &[k, w] : m.edges) {
        std::int64_t got = 0;
        if (shmds_graph_has_edge(g, k.first, k.second) != 1) return "has_edge";
        if (shmds_graph_edge_weight(g, k.first, k.second, &got) != 0 || got != w) return "weight";
    }
    if (shmds_graph_check(g) != 0) return std::string("check: ") + shmds_last_error();
    return "";
}

}  // namespace shmds::test::graph
