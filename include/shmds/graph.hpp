// libshmds C++ veneer: shmds::graph over the C graph API (shmds/graph.h).
//
//   auto g = shmds::graph::create(shmds::backing::path("/dev/shm/jobs"), 1024, 4096);
//   auto a = *g.add_node(17), b = *g.add_node(18);   // std::nullopt when full
//   g.add_edge(a, b);                                // a -> b, weight 1
//   for (auto n : g.in_neighbors(b)) use(n.id, n.weight);
//
// "Not now" outcomes are values: a full graph (nullopt / false), a node or edge that is
// not there (false / nullopt); -EEXIST from add_edge, damage and bad arguments throw
// shmds::error. No verb waits for a condition. Crash behaviour and thread safety are the
// C API's.
#ifndef SHMDS_GRAPH_HPP
#define SHMDS_GRAPH_HPP

#include <shmds/detail.hpp>
#include <shmds/graph.h>

#include <cerrno>
#include <cstdint>
#include <optional>
#include <vector>

namespace shmds {

/** One neighbour of a node: the node at the other end and the edge's weight. */
struct graph_neighbor {
    std::uint64_t id;
    std::int64_t weight;
    bool operator==(const graph_neighbor &o) const noexcept {
        return id == o.id && weight == o.weight;
    }
};

/** A bounded directed weighted graph in shared memory; move-only. */
class graph : public detail::handle_base<shmds_graph_t, shmds_graph_close>,
              public detail::eventfd_verbs<graph, shmds_graph_eventfd, shmds_graph_set_eventfd,
                                           shmds_graph_notify, shmds_graph_eventfd_consume> {
public:
    using node_id = std::uint64_t;
    using stats_type = shmds_graph_stats_t;

    /** Create a graph (or attach to the one at that path). Throws shmds::error (-EINVAL
     * bad geometry, -EEXIST with exclusive(), SHMDS_ETYPE another structure).
     * inline_degree: shmds_graph_config_t. */
    static graph create(const backing &where, std::uint64_t max_nodes, std::uint64_t max_edges,
                        std::uint64_t inline_degree = SHMDS_GRAPH_INLINE_DEGREE) {
        shmds_graph_config_t cfg = SHMDS_GRAPH_CONFIG_INIT(max_nodes, max_edges);
        cfg.inline_degree = inline_degree;
        return graph(detail::new_handle(shmds_graph_create, where.options(), &cfg));
    }
    /** Attach to an existing graph. Throws shmds::error (-ENOENT, SHMDS_ETYPE). */
    static graph open(const backing &where) {
        return graph(detail::new_handle(shmds_graph_open, where.options()));
    }
    /** Adopt a C handle (takes ownership). */
    explicit graph(shmds_graph_t *handle) noexcept : handle_base(handle) {}

    // ---- nodes
    /** The new node's id; std::nullopt when max_nodes nodes are live. */
    std::optional<node_id> add_node(std::int64_t data = 0) {
        node_id id = 0;
        if (!detail::outcome<-ENOSPC>(shmds_graph_add_node(handle(), data, &id)))
            return std::nullopt;
        return id;
    }
    /** Remove the node and all its edges; false if it was not a live node. */
    bool remove_node(node_id id) {
        return detail::outcome<-ENOENT>(shmds_graph_remove_node(handle(), id));
    }
    /** The reference's name for remove_node() (the same call). */
    bool remove_node_full(node_id id) { return remove_node(id); }
    bool has_node(node_id id) const { return detail::check(shmds_graph_has_node(handle(), id)) == 1; }
    std::optional<std::int64_t> node_data(node_id id) const {
        std::int64_t v = 0;
        if (!detail::outcome<-ENOENT>(shmds_graph_node_data(handle(), id, &v))) return std::nullopt;
        return v;
    }
    /** false if it is not a live node. */
    bool set_node_data(node_id id, std::int64_t data) {
        return detail::outcome<-ENOENT>(shmds_graph_set_node_data(handle(), id, data));
    }
    /** Every live node id, in slot order (a snapshot per step: see shmds_graph_next_node). */
    std::vector<node_id> nodes() const {
        std::vector<node_id> out;
        node_id id = SHMDS_GRAPH_BEGIN;
        while (detail::outcome<-ENOENT>(shmds_graph_next_node(handle(), id, &id))) out.push_back(id);
        return out;
    }

    // ---- edges
    /** Add src -> dst; false when max_edges edges exist. Throws shmds::error for -EEXIST
     * (the edge exists) and -ENOENT (an endpoint is not a live node). */
    bool add_edge(node_id src, node_id dst, std::int64_t weight = 1) {
        return detail::outcome<-ENOSPC>(shmds_graph_add_edge(handle(), src, dst, weight));
    }
    /** false if there was no such edge (or node). */
    bool remove_edge(node_id src, node_id dst) {
        return detail::outcome<-ENOENT>(shmds_graph_remove_edge(handle(), src, dst));
    }
    /** false if there is no such edge, or an endpoint is not a live node. */
    bool has_edge(node_id src, node_id dst) const {
        const int rc = shmds_graph_has_edge(handle(), src, dst);
        return detail::outcome<-ENOENT>(rc) && rc == 1;
    }
    std::optional<std::int64_t> edge_weight(node_id src, node_id dst) const {
        std::int64_t w = 0;
        if (!detail::outcome<-ENOENT>(shmds_graph_edge_weight(handle(), src, dst, &w)))
            return std::nullopt;
        return w;
    }
    /** false if there is no such edge. */
    bool set_edge_weight(node_id src, node_id dst, std::int64_t weight) {
        return detail::outcome<-ENOENT>(shmds_graph_set_edge_weight(handle(), src, dst, weight));
    }
    /** Out-neighbours, newest edge first; empty if not a live node. */
    std::vector<graph_neighbor> neighbors(node_id id) const {
        return collect(shmds_graph_neighbors, id);
    }
    /** In-neighbours (the src of every edge into id); empty if not a live node. */
    std::vector<graph_neighbor> in_neighbors(node_id id) const {
        return collect(shmds_graph_in_neighbors, id);
    }
    std::optional<std::uint64_t> out_degree(node_id id) const {
        std::uint64_t n = 0;
        if (!detail::outcome<-ENOENT>(shmds_graph_out_degree(handle(), id, &n))) return std::nullopt;
        return n;
    }
    std::optional<std::uint64_t> in_degree(node_id id) const {
        std::uint64_t n = 0;
        if (!detail::outcome<-ENOENT>(shmds_graph_in_degree(handle(), id, &n))) return std::nullopt;
        return n;
    }

    // ---- whole graph
    std::uint64_t node_count() const noexcept { return shmds_graph_node_count(handle()); }
    std::uint64_t edge_count() const noexcept { return shmds_graph_edge_count(handle()); }
    std::uint64_t max_nodes() const noexcept { return shmds_graph_max_nodes(handle()); }
    std::uint64_t max_edges() const noexcept { return shmds_graph_max_edges(handle()); }
    /** Remove everything; the number of nodes removed. */
    std::uint64_t clear() {
        std::uint64_t n = 0;
        detail::check(shmds_graph_clear(handle(), &n));
        return n;
    }
    /** Verify every list and count against the nodes and edges; throws on a mismatch. */
    void check() const { detail::check(shmds_graph_check(handle())); }
    stats_type stats() const { return detail::read_stats(shmds_graph_stats, handle()); }
    std::uint64_t recoveries() const noexcept { return shmds_graph_recoveries(handle()); }
    /** The segment's fd for shmds_send_fd() (owned by the graph); throws -ENOENT if anonymous. */
    int fd() const { return detail::check(shmds_graph_fd(handle())); }

private:
    using list_fn = int (*)(shmds_graph_t *, std::uint64_t, std::uint64_t *, std::int64_t *,
                            std::size_t, std::size_t *);
    std::vector<graph_neighbor> collect(list_fn fn, node_id id) const {
        std::vector<std::uint64_t> ids(8);
        std::vector<std::int64_t> weights(8);
        for (;;) {
            std::size_t count = 0;
            const int rc = fn(handle(), id, ids.data(), weights.data(), ids.size(), &count);
            if (rc == -ENOBUFS) {  // grew meanwhile: make room for what it said, and retry
                ids.resize(count * 2);
                weights.resize(count * 2);
                continue;
            }
            if (!detail::outcome<-ENOENT>(rc)) return {};
            std::vector<graph_neighbor> out(count);
            for (std::size_t i = 0; i < count; ++i) out[i] = {ids[i], weights[i]};
            return out;
        }
    }
};

}  // namespace shmds

#endif  // SHMDS_GRAPH_HPP
