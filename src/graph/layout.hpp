// Shared-memory layout of the graph:
//
//   [SegmentHeader 256 B][Control][Node 0 .. max_nodes-1][Edge 0 .. max_edges-1]
//   [out Peer lists: per node slot, inline_degree Peers each][in Peer lists: the same]
//
// Two kinds of words live here, and the difference is the crash model:
//  - Primary facts: a node's {gen, alive, data} and an edge's {valid, src, dst, src_gen,
//    dst_gen, weight}. Every mutation keeps them a valid graph at every instant (an edge
//    is made valid only after its fields are written, and every edge of a node is made
//    invalid before the node dies), and commits with one store of a `valid` or `alive`.
//  - Derived words: the per-node out- and in-lists (doubly linked through the edges),
//    the degrees, the free lists and the counts. A writer killed mid-mutation may leave
//    them half-changed; the repair after a takeover rebuilds every one of them from the
//    primary facts in O(max_nodes + max_edges), dropping any edge whose endpoint is not
//    alive with the generation the edge recorded.
//
// Peer lists (derived too) are what makes neighbours as fast as an in-process adjacency
// list: walking a linked list is one dependent cache miss per edge, wherever the edges
// lie. While a node's out- (in-) degree is at most inline_degree, its out (in) Peer list
// holds a copy of every edge's {other endpoint's slot and generation, weight}, oldest
// first, the exact reverse of the linked list; a read copies it out of one or two cache
// lines. Above inline_degree the list is not kept (the linked list is walked); it is
// refilled when the degree comes back down. All out-lists come first, then all in-lists:
// neighbours reads out-lists far more than in-lists, and keeping the in-lists out of the
// way packs more of the hot ones per page (measured ~15% on neighbours at degree 8).
//
// Node ids are (gen << 32) | slot. gen starts at 1 on a slot's first use and grows by
// one on every reuse (skipping 0), so an id of a removed node never names the slot's
// next occupant, and 0 is never a node id.
//
// Everything here is computed from (max_nodes, max_edges) alone, on create and on open,
// so a peer cannot make us trust an offset; every index read from the segment is
// bounds-checked before use and every list walk is bounded by max_edges.
#pragma once

#include "core/elem_type.hpp"
#include "core/header.hpp"
#include "core/platform.hpp"
#include "core/robust_mutex.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace shmds::graph {

using core::ElemType;
using core::kCacheLine;

inline constexpr std::uint32_t kNone = 0xFFFFFFFFu;  // end of a list
inline constexpr std::uint64_t kMaxNodes = std::uint64_t{1} << 30;
inline constexpr std::uint64_t kMaxEdges = std::uint64_t{1} << 30;
inline constexpr std::uint64_t kMaxSegment = std::uint64_t{1} << 40;
inline constexpr std::uint64_t kMaxInlineDegree = 64;

enum GeometryIndex { kGeomMaxNodes = 0, kGeomMaxEdges = 1, kGeomInlineDegree = 2 };

struct Control {
    // The lock and the words its holders write, on one line.
    alignas(kCacheLine) core::RobustMutex mutex;
    // Seqlock generation: odd while a writer (holding the mutex) is changing anything a
    // reader follows. Readers copy, then check it did not move.
    std::atomic<std::uint64_t> seq;
    std::atomic<std::uint64_t> node_count;  // derived
    std::atomic<std::uint64_t> edge_count;  // derived
    std::atomic<std::uint32_t> node_free;   // derived: first free node slot, or kNone
    std::atomic<std::uint32_t> edge_free;   // derived: first free edge slot, or kNone
    // Statistics, under the mutex, on their own line (stats() reads them).
    alignas(kCacheLine) std::atomic<std::uint64_t> nodes_added;
    std::atomic<std::uint64_t> nodes_removed;
    std::atomic<std::uint64_t> edges_added;
    std::atomic<std::uint64_t> edges_removed;  // with their nodes and by clear() too
    std::atomic<std::uint64_t> clears;
    // Counted by readers, outside the mutex: a reader never writes a shared line unless
    // its optimistic read failed.
    alignas(kCacheLine) std::atomic<std::uint64_t> read_retries;
    std::atomic<std::uint64_t> locked_reads;
};
static_assert(offsetof(Control, edge_free) < kCacheLine);
static_assert(offsetof(Control, nodes_added) == kCacheLine);
static_assert(offsetof(Control, read_retries) == 2 * kCacheLine);
static_assert(sizeof(Control) % kCacheLine == 0);

struct Node {
    std::atomic<std::uint32_t> gen;    // primary: this occupant's generation (0: never used)
    std::atomic<std::uint32_t> alive;  // primary: 1 live, 0 free (the commit word)
    std::atomic<std::int64_t> data;    // primary
    std::atomic<std::uint32_t> out_head;    // derived: first outgoing edge, or kNone
    std::atomic<std::uint32_t> in_head;     // derived: first incoming edge, or kNone
    std::atomic<std::uint32_t> out_degree;  // derived
    std::atomic<std::uint32_t> in_degree;   // derived
    std::atomic<std::uint32_t> next_free;   // derived: free list link while not alive
    std::uint32_t reserved;
};
static_assert(sizeof(Node) == 40);

struct Edge {
    std::atomic<std::uint32_t> valid;    // primary: 1 an edge, 0 free (the commit word)
    std::atomic<std::uint32_t> src;      // primary: node slots
    std::atomic<std::uint32_t> dst;
    std::atomic<std::uint32_t> src_gen;  // primary: the endpoints' generations, so an
    std::atomic<std::uint32_t> dst_gen;  //   edge names its nodes' ids without a lookup
    std::atomic<std::uint32_t> next_out, prev_out;  // derived: src's out-list
    std::atomic<std::uint32_t> next_in, prev_in;    // derived: dst's in-list
    std::atomic<std::uint32_t> next_free;           // derived: free list link
    std::atomic<std::int64_t> weight;    // primary
};
static_assert(sizeof(Edge) == 48);

// One edge as its node's Peer list holds it (derived: layout.hpp's top comment).
struct Peer {
    std::atomic<std::uint32_t> slot;  // the other endpoint: dst for an out-edge, src for an in-edge
    std::atomic<std::uint32_t> gen;
    std::atomic<std::int64_t> weight;
};
static_assert(sizeof(Peer) == 16);

struct Geometry {
    std::uint64_t max_nodes;
    std::uint64_t max_edges;
    std::uint64_t inline_degree;  // Peers per node and direction; 0: no Peer lists
    std::uint64_t control_off;  // = sizeof(SegmentHeader)
    std::uint64_t nodes_off;
    std::uint64_t edges_off;
    std::uint64_t peers_off;
    std::uint64_t total;
};

// The full layout; 0 or a fail() code naming what is out of range.
int compute_geometry(std::uint64_t max_nodes, std::uint64_t max_edges,
                     std::uint64_t inline_degree, Geometry &out);

std::uint64_t layout_hash() noexcept;

}  // namespace shmds::graph
