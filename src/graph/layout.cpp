#include "graph/layout.hpp"

#include "core/error.hpp"

#include <cerrno>

namespace shmds::graph {

int compute_geometry(std::uint64_t max_nodes, std::uint64_t max_edges,
                     std::uint64_t inline_degree, Geometry &g) {
    g = Geometry{};
    if (max_nodes == 0 || max_nodes > kMaxNodes)
        return core::fail(-EINVAL, "graph max_nodes must be in 1 ..= {} (got {})", kMaxNodes,
                          max_nodes);
    if (max_edges == 0 || max_edges > kMaxEdges)
        return core::fail(-EINVAL, "graph max_edges must be in 1 ..= {} (got {})", kMaxEdges,
                          max_edges);
    if (inline_degree > kMaxInlineDegree)
        return core::fail(-EINVAL, "graph inline_degree must be in 0 ..= {} (got {})",
                          kMaxInlineDegree, inline_degree);
    g.max_nodes = max_nodes;
    g.max_edges = max_edges;
    g.inline_degree = inline_degree;
    g.control_off = sizeof(core::SegmentHeader);
    g.nodes_off = core::align_up(g.control_off + sizeof(Control), kCacheLine);
    // Both counts are at most 2^30, the structs 48 bytes at most and a node's Peers
    // 2 * 64 * 16 bytes at most: no overflow.
    g.edges_off = core::align_up(g.nodes_off + max_nodes * sizeof(Node), kCacheLine);
    g.peers_off = core::align_up(g.edges_off + max_edges * sizeof(Edge), kCacheLine);
    g.total = core::align_up(g.peers_off + max_nodes * 2 * inline_degree * sizeof(Peer),
                             kCacheLine);
    if (g.total > kMaxSegment)
        return core::fail(-EINVAL, "a graph of {} nodes and {} edges needs {} bytes, over the {} "
                          "limit", max_nodes, max_edges, g.total, kMaxSegment);
    return 0;
}

// Marks the Peer lists' order (all out, then all in), which the sizes above cannot show:
// a segment written with per-node interleaved lists must not open.
constexpr std::uint64_t kPeerListsOutThenIn = 2;

std::uint64_t layout_hash() noexcept {
    core::LayoutHash h;
    h.add({std::uint64_t(core::StructureType::graph), sizeof(Control), sizeof(Node),
           sizeof(Edge), offsetof(Control, seq), offsetof(Control, node_free),
           offsetof(Control, read_retries), offsetof(Node, data), offsetof(Node, out_head),
           offsetof(Node, next_free), offsetof(Edge, src_gen), offsetof(Edge, next_out),
           offsetof(Edge, next_free), offsetof(Edge, weight), sizeof(Peer),
           offsetof(Peer, weight), sizeof(core::RobustMutex),
           std::uint64_t(kNone), kPeerListsOutThenIn});
    return h.value();
}

}  // namespace shmds::graph
