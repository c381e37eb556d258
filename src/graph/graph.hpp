// The graph engine: a directed weighted graph bounded by max_nodes and max_edges.
//
// Writers take one core::RobustMutex and bump the seqlock word around every change
// (odd while changing). Readers take no lock: they copy what they need, bounds-checking
// every index and bounding every list walk by max_edges, and keep the copy only if the
// seqlock word did not move; after kOptimisticReads failed attempts (writers kept
// changing it, or a writer died mid-change and left it odd) they read under the mutex,
// whose takeover of a dead holder runs the repair. So a reader never waits for good and
// never follows a torn index out of bounds or round a loop.
//
// Crash repair (repair(), after a takeover) rebuilds every derived word from the primary
// facts (layout.hpp) in O(max_nodes + max_edges): whatever instruction a writer died at,
// the graph is consistent afterwards and no edge dangles.
#pragma once

#include "core/engine_factory.hpp"
#include "core/error.hpp"
#include "core/eventfd.hpp"
#include "core/segment.hpp"
#include "graph/layout.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace shmds::graph {

enum class Dir : std::uint8_t { out, in };

struct Config {
    ElemType variant;  // always int64: the factory's name for the one variant
    std::uint64_t max_nodes;
    std::uint64_t max_edges;
    std::uint64_t inline_degree;  // layout.hpp: Peer lists
};

struct Stats {
    std::uint64_t nodes, edges, max_nodes, max_edges, nodes_added, nodes_removed, edges_added,
        edges_removed, clears, read_retries, locked_reads, recoveries, segment_bytes,
        inline_degree;
};

inline std::uint64_t make_id(std::uint32_t gen, std::uint32_t slot) noexcept {
    return (std::uint64_t(gen) << 32) | slot;
}

struct ListSide;  // graph_write.cpp: one of an edge's two lists

class Graph final : public core::SegmentClient {
public:
    static int create(const shmds_options_t *opts, const Config &cfg, std::unique_ptr<Graph> &out);
    static int open(const shmds_options_t *opts, std::unique_ptr<Graph> &out);

    // ---- writers (take the mutex; a dead holder is taken over and repaired)
    // 0 with *id; -ENOSPC (max_nodes live).
    int add_node(std::int64_t data, std::uint64_t *id) noexcept;
    // Remove the node and every edge into or out of it. 0; -ENOENT (no such live node).
    int remove_node(std::uint64_t id) noexcept;
    int set_node_data(std::uint64_t id, std::int64_t data) noexcept;
    // 0; -ENOENT (src or dst not a live node); -EEXIST (src -> dst exists: weights are
    // changed with set_edge_weight); -ENOSPC (max_edges edges).
    int add_edge(std::uint64_t src, std::uint64_t dst, std::int64_t weight) noexcept;
    int remove_edge(std::uint64_t src, std::uint64_t dst) noexcept;
    int set_edge_weight(std::uint64_t src, std::uint64_t dst, std::int64_t weight) noexcept;
    // Remove every node and edge; the number of nodes removed.
    std::int64_t clear() noexcept;

    // ---- readers (no lock unless the optimistic reads keep failing)
    int has_node(std::uint64_t id) noexcept;  // 1 or 0
    int node_data(std::uint64_t id, std::int64_t *out) noexcept;
    // 1 or 0; -ENOENT when src or dst is not a live node.
    int has_edge(std::uint64_t src, std::uint64_t dst) noexcept;
    int edge_weight(std::uint64_t src, std::uint64_t dst, std::int64_t *out) noexcept;
    // The node's out- (dst ids) or in-neighbours (src ids), newest edge first: the first
    // min(cap, total) into ids/weights (weights may be NULL), *count = total. 0;
    // -ENOBUFS (total > cap); -ENOENT.
    int neighbors(Dir dir, std::uint64_t id, std::uint64_t *ids, std::int64_t *weights,
                  std::size_t cap, std::size_t *count) noexcept;
    int degree(Dir dir, std::uint64_t id, std::uint64_t *out) noexcept;
    // The first live node in a slot after after's slot (all slots for kBegin). 0 with
    // *id; -ENOENT (no more).
    int next_node(std::uint64_t after, std::uint64_t *id) noexcept;
    static constexpr std::uint64_t kBegin = ~std::uint64_t{0};

    std::uint64_t node_count() const noexcept;
    std::uint64_t edge_count() const noexcept;
    std::uint64_t max_nodes() const noexcept { return geom_.max_nodes; }
    std::uint64_t max_edges() const noexcept { return geom_.max_edges; }
    int stats(Stats &s) noexcept;
    // Under the mutex: check every derived word against the primary facts. 0, or
    // SHMDS_ECORRUPT with a sentence naming the first mismatch (nothing is changed).
    int check() noexcept;

    std::uint64_t recovery_count() const noexcept { return segment_.recoveries(); }
    core::EventNotifier &events() noexcept { return events_; }
    core::Segment &segment() noexcept { return segment_; }

    // SegmentClient
    core::StructureType type() const noexcept override { return core::StructureType::graph; }
    std::uint32_t wanted_variant() const noexcept override { return wanted_variant_; }
    const char *variant_name(std::uint32_t v) const noexcept override {
        return core::elem_type_name(v);
    }
    int describe(core::SegmentShape &s) override;
    int reshape(std::uint32_t variant, const std::uint64_t (&geometry)[core::kGeometryWords],
                core::SegmentShape &s) override;
    void initialize(std::uint8_t *base) noexcept override;

private:
    friend struct core::EngineFactory;
    friend class WriteSection;
    Graph() noexcept = default;
    void bind(std::uint8_t *base) noexcept;
    void point_at(std::uint8_t *base) noexcept;

    // The slot of a live node with this id, or kNone. Safe on torn memory.
    std::uint32_t live_slot(std::uint64_t id) const noexcept;
    // The edge src_slot -> dst_slot (walking the shorter of the two lists), kNone when
    // there is none, or kDamaged when a list is out of bounds or too long.
    std::uint32_t find_edge(std::uint32_t src, std::uint32_t dst) const noexcept;
    // The edge src_slot -> dst_slot as a Peer list holds it (src's out-list or dst's
    // in-list, when one is kept): true with *found the Peer, or nullptr when there is no
    // such edge; false when neither list is kept (find_edge() answers then).
    bool find_peer(std::uint32_t src, std::uint32_t dst, const Peer **found) const noexcept;
    static constexpr std::uint32_t kDamaged = kNone - 1;

    // Run body() as an optimistic read, falling back to the mutex. body returns a code;
    // kTornRead means "what I saw is impossible": valid only as damage under the mutex.
    template <typename Body>
    int read(Body &&body) noexcept;

    // Writers: the mutex with its repair, FOREVER (held only for one mutation).
    static void repair(void *self) noexcept;
    // Rebuild every derived word from the primary facts (also the initialisation).
    void rebuild() noexcept;
    // The writers' list surgery; false on an index out of bounds (damage).
    bool link_edge(std::uint32_t e, std::uint32_t src, std::uint32_t dst) noexcept;
    bool unlink_out(std::uint32_t e) noexcept;
    bool unlink_in(std::uint32_t e) noexcept;
    void push_front(std::uint32_t e, std::uint32_t node, const ListSide &side) noexcept;
    bool unlink(std::uint32_t e, const ListSide &side) noexcept;
    // Peer lists (layout.hpp): a node's on one side, and their upkeep beside the lists.
    Peer *peers(std::uint32_t node, Dir dir) const noexcept {
        return peers_ + ((dir == Dir::in ? geom_.max_nodes : 0) + node) * geom_.inline_degree;
    }
    // The entry for `peer` among the first `degree` of node's Peer list, or nullptr.
    Peer *peer_entry(std::uint32_t node, Dir dir, std::uint32_t degree,
                     std::uint32_t peer) const noexcept;
    bool drop_peer(std::uint32_t node, const ListSide &side, std::uint32_t peer,
                   std::uint32_t degree) noexcept;
    bool refill_peers(std::uint32_t node, const ListSide &side) noexcept;
    bool set_peer_weight(std::uint32_t node, const ListSide &side, std::uint32_t peer,
                         std::int64_t weight) noexcept;
    void free_edge(std::uint32_t e) noexcept;
    int remove_node_locked(std::uint32_t slot) noexcept;
    int missing(std::uint64_t id) const noexcept;

    core::Segment segment_;
    Geometry geom_{};
    Config requested_{};
    std::uint32_t wanted_variant_ = 0;
    Control *ctl_ = nullptr;
    Node *nodes_ = nullptr;
    Edge *edges_ = nullptr;
    Peer *peers_ = nullptr;
    core::EventNotifier events_;
};

}  // namespace shmds::graph
