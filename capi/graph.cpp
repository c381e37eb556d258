// The exported graph functions: argument checks and the turn into the engine
// (src/graph/). No graph logic lives here.
#include "graph/graph.hpp"
#include "lifecycle.hpp"

#include <shmds/graph.h>

using shmds::graph::Dir;
using shmds::graph::Graph;
namespace capi = shmds::capi;

namespace {

Graph *engine(shmds_graph_t *g) noexcept { return capi::engine_of<Graph>(g); }
const Graph *engine(const shmds_graph_t *g) noexcept { return capi::engine_of<Graph>(g); }
constexpr char kNoun[] = "graph";
constexpr std::size_t kConfigV1Size = SHMDS_V1_SIZE(shmds_graph_config_t, max_edges);
constexpr std::size_t kStatsV1Size = SHMDS_V1_SIZE(shmds_graph_stats_t, segment_bytes);

#define CHECK_HANDLE(g, fn) CAPI_REQUIRE(g, fn, kNoun)

int neighbors(shmds_graph_t *g, Dir dir, uint64_t id, uint64_t *ids, int64_t *weights,
              size_t cap, size_t *count, const char *fn) noexcept {
    CHECK_HANDLE(g, fn);
    CAPI_REQUIRE(count, fn, "count");
    if (cap) CAPI_REQUIRE(ids, fn, "ids");
    return engine(g)->neighbors(dir, id, ids, weights, cap, count);
}

int degree(shmds_graph_t *g, Dir dir, uint64_t id, uint64_t *out, const char *fn) noexcept {
    CHECK_HANDLE(g, fn);
    CAPI_REQUIRE(out, fn, "out");
    return engine(g)->degree(dir, id, out);
}

}  // namespace

extern "C" {

SHMDS_API int shmds_graph_config_init(shmds_graph_config_t *out, size_t struct_size,
                                      uint64_t max_nodes, uint64_t max_edges) {
    const shmds_graph_config_t defaults = SHMDS_GRAPH_CONFIG_INIT(max_nodes, max_edges);
    return capi::init_versioned("shmds_graph_config_init", out, struct_size, defaults,
                                kConfigV1Size);
}

SHMDS_API int shmds_graph_create(const shmds_options_t *opts, const shmds_graph_config_t *cfg_in,
                                 shmds_graph_t **out) {
    static const char fn[] = "shmds_graph_create";
    shmds_graph_config_t cfg = SHMDS_GRAPH_CONFIG_INIT(0, 0);
    if (int r = capi::read_versioned(fn, "cfg", cfg_in, cfg, kConfigV1Size)) return r;
    const shmds::graph::Config c{shmds::core::ElemType::int64, cfg.max_nodes, cfg.max_edges,
                                 cfg.inline_degree};
    return capi::make_handle<Graph>(fn, opts, out,
                                    [&](auto *o, auto &e) { return Graph::create(o, c, e); });
}

SHMDS_API int shmds_graph_open(const shmds_options_t *opts, shmds_graph_t **out) {
    return capi::make_handle<Graph>("shmds_graph_open", opts, out,
                                    [&](auto *o, auto &e) { return Graph::open(o, e); });
}

SHMDS_API void shmds_graph_close(shmds_graph_t *g) { capi::close_handle<Graph>(g); }

SHMDS_API int shmds_graph_fd(const shmds_graph_t *g) {
    return capi::segment_fd<Graph>(g, "shmds_graph_fd", kNoun);
}

SHMDS_API int shmds_graph_sync(const shmds_graph_t *g) {
    return capi::segment_sync<Graph>(g, "shmds_graph_sync", kNoun);
}

SHMDS_API uint64_t shmds_graph_recoveries(const shmds_graph_t *g) {
    return capi::recoveries_of<Graph>(g);
}

SHMDS_API int shmds_graph_add_node(shmds_graph_t *g, int64_t data, uint64_t *id) {
    static const char fn[] = "shmds_graph_add_node";
    CHECK_HANDLE(g, fn);
    CAPI_REQUIRE(id, fn, "id");
    return engine(g)->add_node(data, id);
}

SHMDS_API int shmds_graph_remove_node(shmds_graph_t *g, uint64_t id) {
    CHECK_HANDLE(g, "shmds_graph_remove_node");
    return engine(g)->remove_node(id);
}

SHMDS_API int shmds_graph_remove_node_full(shmds_graph_t *g, uint64_t id) {
    CHECK_HANDLE(g, "shmds_graph_remove_node_full");
    return engine(g)->remove_node(id);
}

SHMDS_API int shmds_graph_has_node(shmds_graph_t *g, uint64_t id) {
    CHECK_HANDLE(g, "shmds_graph_has_node");
    return engine(g)->has_node(id);
}

SHMDS_API int shmds_graph_node_data(shmds_graph_t *g, uint64_t id, int64_t *out) {
    static const char fn[] = "shmds_graph_node_data";
    CHECK_HANDLE(g, fn);
    CAPI_REQUIRE(out, fn, "out");
    return engine(g)->node_data(id, out);
}

SHMDS_API int shmds_graph_set_node_data(shmds_graph_t *g, uint64_t id, int64_t data) {
    CHECK_HANDLE(g, "shmds_graph_set_node_data");
    return engine(g)->set_node_data(id, data);
}

SHMDS_API int shmds_graph_add_edge(shmds_graph_t *g, uint64_t src, uint64_t dst, int64_t weight) {
    CHECK_HANDLE(g, "shmds_graph_add_edge");
    return engine(g)->add_edge(src, dst, weight);
}

SHMDS_API int shmds_graph_remove_edge(shmds_graph_t *g, uint64_t src, uint64_t dst) {
    CHECK_HANDLE(g, "shmds_graph_remove_edge");
    return engine(g)->remove_edge(src, dst);
}

SHMDS_API int shmds_graph_has_edge(shmds_graph_t *g, uint64_t src, uint64_t dst) {
    CHECK_HANDLE(g, "shmds_graph_has_edge");
    return engine(g)->has_edge(src, dst);
}

SHMDS_API int shmds_graph_edge_weight(shmds_graph_t *g, uint64_t src, uint64_t dst,
                                      int64_t *out) {
    static const char fn[] = "shmds_graph_edge_weight";
    CHECK_HANDLE(g, fn);
    CAPI_REQUIRE(out, fn, "out");
    return engine(g)->edge_weight(src, dst, out);
}

SHMDS_API int shmds_graph_set_edge_weight(shmds_graph_t *g, uint64_t src, uint64_t dst,
                                          int64_t weight) {
    CHECK_HANDLE(g, "shmds_graph_set_edge_weight");
    return engine(g)->set_edge_weight(src, dst, weight);
}

SHMDS_API int shmds_graph_neighbors(shmds_graph_t *g, uint64_t id, uint64_t *ids,
                                    int64_t *weights, size_t cap, size_t *count) {
    return neighbors(g, Dir::out, id, ids, weights, cap, count, "shmds_graph_neighbors");
}

SHMDS_API int shmds_graph_in_neighbors(shmds_graph_t *g, uint64_t id, uint64_t *ids,
                                       int64_t *weights, size_t cap, size_t *count) {
    return neighbors(g, Dir::in, id, ids, weights, cap, count, "shmds_graph_in_neighbors");
}

SHMDS_API int shmds_graph_out_degree(shmds_graph_t *g, uint64_t id, uint64_t *out) {
    return degree(g, Dir::out, id, out, "shmds_graph_out_degree");
}

SHMDS_API int shmds_graph_in_degree(shmds_graph_t *g, uint64_t id, uint64_t *out) {
    return degree(g, Dir::in, id, out, "shmds_graph_in_degree");
}

SHMDS_API int shmds_graph_next_node(shmds_graph_t *g, uint64_t after, uint64_t *id) {
    static const char fn[] = "shmds_graph_next_node";
    CHECK_HANDLE(g, fn);
    CAPI_REQUIRE(id, fn, "id");
    return engine(g)->next_node(after, id);
}

SHMDS_API uint64_t shmds_graph_node_count(const shmds_graph_t *g) {
    return g ? engine(g)->node_count() : 0;
}

SHMDS_API uint64_t shmds_graph_edge_count(const shmds_graph_t *g) {
    return g ? engine(g)->edge_count() : 0;
}

SHMDS_API uint64_t shmds_graph_max_nodes(const shmds_graph_t *g) {
    return g ? engine(g)->max_nodes() : 0;
}

SHMDS_API uint64_t shmds_graph_max_edges(const shmds_graph_t *g) {
    return g ? engine(g)->max_edges() : 0;
}

SHMDS_API int shmds_graph_clear(shmds_graph_t *g, uint64_t *removed) {
    CHECK_HANDLE(g, "shmds_graph_clear");
    const std::int64_t n = engine(g)->clear();
    if (n < 0) return int(n);
    if (removed) *removed = std::uint64_t(n);
    return 0;
}

SHMDS_API int shmds_graph_check(shmds_graph_t *g) {
    CHECK_HANDLE(g, "shmds_graph_check");
    return engine(g)->check();
}

SHMDS_API int shmds_graph_stats(shmds_graph_t *g, shmds_graph_stats_t *out) {
    static const char fn[] = "shmds_graph_stats";
    CHECK_HANDLE(g, fn);
    CAPI_REQUIRE(out, fn, "stats");
    shmds::graph::Stats s;
    if (int r = engine(g)->stats(s)) return r;
    shmds_graph_stats_t ours{};
    ours.nodes = s.nodes;
    ours.edges = s.edges;
    ours.max_nodes = s.max_nodes;
    ours.max_edges = s.max_edges;
    ours.nodes_added = s.nodes_added;
    ours.nodes_removed = s.nodes_removed;
    ours.edges_added = s.edges_added;
    ours.edges_removed = s.edges_removed;
    ours.clears = s.clears;
    ours.read_retries = s.read_retries;
    ours.locked_reads = s.locked_reads;
    ours.recoveries = s.recoveries;
    ours.segment_bytes = s.segment_bytes;
    ours.inline_degree = s.inline_degree;
    return capi::copy_versioned(fn, "stats", out, ours, kStatsV1Size);
}

SHMDS_CAPI_EVENTFD_EXPORTS(shmds_graph, shmds_graph_t, Graph, kNoun)

}  // extern "C"
