// The graph's repair: every derived word rebuilt from the primary facts, and the check
// that compares the two without changing anything (for tests and for callers who want to
// verify a segment).
#include "core/failpoint.hpp"
#include "graph/graph.hpp"
#include "graph/write_section.hpp"

#include <vector>

namespace shmds::graph {

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;
}  // namespace

void Graph::repair(void *self) noexcept {
    // A writer died holding the mutex, possibly with the seqlock odd and its derived
    // words half-changed: hold the seqlock odd ourselves and rebuild.
    auto *g = static_cast<Graph *>(self);
    const std::uint64_t s = g->ctl_->seq.load(kRelaxed) | 1;
    g->ctl_->seq.store(s, kRelaxed);
    std::atomic_thread_fence(std::memory_order_release);
    g->rebuild();
    g->ctl_->seq.store(s + 1, std::memory_order_release);
}

// O(max_nodes + max_edges). Walks slots downwards and pushes at list heads, so every
// list comes out in ascending slot order.
void Graph::rebuild() noexcept {
    std::uint64_t live_nodes = 0, live_edges = 0;
    std::uint32_t free_head = kNone;
    for (std::uint64_t i = geom_.max_nodes; i-- > 0;) {
        Node &n = nodes_[i];
        const std::uint32_t alive = n.alive.load(kRelaxed);
        // A live node needs a generation (0 never names a node); anything but 0 or 1 is a
        // scribble. Either way the slot is freed.
        if (alive != 0 && (alive != 1 || n.gen.load(kRelaxed) == 0)) n.alive.store(0, kRelaxed);
        n.out_head.store(kNone, kRelaxed);
        n.in_head.store(kNone, kRelaxed);
        n.out_degree.store(0, kRelaxed);
        n.in_degree.store(0, kRelaxed);
        if (n.alive.load(kRelaxed) == 1) {
            n.next_free.store(kNone, kRelaxed);
            ++live_nodes;
        } else {
            n.next_free.store(free_head, kRelaxed);
            free_head = std::uint32_t(i);
        }
    }
    ctl_->node_free.store(free_head, kRelaxed);
    ctl_->node_count.store(live_nodes, kRelaxed);

    free_head = kNone;
    for (std::uint64_t i = geom_.max_edges; i-- > 0;) {
        Edge &x = edges_[i];
        const std::uint32_t e = std::uint32_t(i);
        if (x.valid.load(kRelaxed) != 0) {
            const std::uint32_t s = x.src.load(kRelaxed), d = x.dst.load(kRelaxed);
            // An edge stands only if both endpoints are alive with the generations the
            // edge recorded: an edge a dead writer left behind is dropped, never dangles.
            const bool sound = x.valid.load(kRelaxed) == 1 && s < geom_.max_nodes &&
                               d < geom_.max_nodes && nodes_[s].alive.load(kRelaxed) == 1 &&
                               nodes_[d].alive.load(kRelaxed) == 1 &&
                               nodes_[s].gen.load(kRelaxed) == x.src_gen.load(kRelaxed) &&
                               nodes_[d].gen.load(kRelaxed) == x.dst_gen.load(kRelaxed);
            if (sound) {
                (void)link_edge(e, s, d);  // heads were just reset: always in bounds
                x.next_free.store(kNone, kRelaxed);
                ++live_edges;
                continue;
            }
            x.valid.store(0, kRelaxed);
        }
        x.next_free.store(free_head, kRelaxed);
        free_head = e;
    }
    ctl_->edge_free.store(free_head, kRelaxed);
    ctl_->edge_count.store(live_edges, kRelaxed);
}

int Graph::check() noexcept {
    const std::uint64_t N = geom_.max_nodes, E = geom_.max_edges;
    // Scratch allocated before the lock: nothing that can throw runs while it is held.
    std::vector<std::uint32_t> out_deg, in_deg;
    std::vector<std::uint8_t> seen_edge, seen_node;
    try {
        out_deg.assign(N, 0);
        in_deg.assign(N, 0);
        seen_edge.assign(E, 0);
        seen_node.assign(N, 0);
    } catch (...) {
        return core::fail(-ENOMEM, "out of memory checking the graph");
    }
    WriteSection w(*this, "graph.check.locked");
    if (!w.owns()) return core::fail(SHMDS_ECORRUPT, "the graph lock word is damaged");
    // Count what the primary facts say, then walk every list and free list.
    std::uint64_t nodes = 0, edges = 0;
    for (std::uint64_t i = 0; i < N; ++i) {
        const std::uint32_t a = nodes_[i].alive.load(kRelaxed);
        if (a > 1) return core::fail(SHMDS_ECORRUPT, "graph node slot {} has alive = {}", i, a);
        nodes += a;
    }
    for (std::uint64_t i = 0; i < E; ++i) {
        const Edge &x = edges_[i];
        if (x.valid.load(kRelaxed) == 0) continue;
        const std::uint32_t s = x.src.load(kRelaxed), d = x.dst.load(kRelaxed);
        if (s >= N || d >= N || nodes_[s].alive.load(kRelaxed) != 1 ||
            nodes_[d].alive.load(kRelaxed) != 1 ||
            nodes_[s].gen.load(kRelaxed) != x.src_gen.load(kRelaxed) ||
            nodes_[d].gen.load(kRelaxed) != x.dst_gen.load(kRelaxed))
            return core::fail(SHMDS_ECORRUPT, "graph edge {} ({} -> {}) dangles", i, s, d);
        ++out_deg[s];
        ++in_deg[d];
        ++edges;
    }
    if (ctl_->node_count.load(kRelaxed) != nodes || ctl_->edge_count.load(kRelaxed) != edges)
        return core::fail(SHMDS_ECORRUPT, "graph counts say {} nodes and {} edges, the slots {} "
                          "and {}", ctl_->node_count.load(kRelaxed),
                          ctl_->edge_count.load(kRelaxed), nodes, edges);
    for (std::uint64_t i = 0; i < N; ++i) {
        const Node &n = nodes_[i];
        if (n.alive.load(kRelaxed) != 1) continue;
        for (int list = 0; list < 2; ++list) {
            const bool out = list == 0;
            std::uint32_t prev = kNone, e = out ? n.out_head.load(kRelaxed) : n.in_head.load(kRelaxed);
            const std::uint32_t deg = out ? n.out_degree.load(kRelaxed) : n.in_degree.load(kRelaxed);
            // The Peer list, when kept, is the list reversed (layout.hpp).
            const Peer *peer_list =
                deg <= geom_.inline_degree ? peers(std::uint32_t(i), out ? Dir::out : Dir::in)
                                           : nullptr;
            std::uint64_t len = 0;
            for (; e != kNone; ++len) {
                if (e >= E || len >= E)
                    return core::fail(SHMDS_ECORRUPT, "graph node {} {}-list runs out of bounds",
                                      i, out ? "out" : "in");
                const Edge &x = edges_[e];
                const std::uint32_t end = out ? x.src.load(kRelaxed) : x.dst.load(kRelaxed);
                const std::uint32_t back = out ? x.prev_out.load(kRelaxed) : x.prev_in.load(kRelaxed);
                if (x.valid.load(kRelaxed) != 1 || end != i || back != prev)
                    return core::fail(SHMDS_ECORRUPT, "graph node {} {}-list holds edge {} "
                                      "wrongly", i, out ? "out" : "in", e);
                if (peer_list && len < deg) {
                    const Peer &p = peer_list[deg - 1 - len];
                    const std::uint32_t peer = out ? x.dst.load(kRelaxed) : x.src.load(kRelaxed);
                    const std::uint32_t gen = out ? x.dst_gen.load(kRelaxed) : x.src_gen.load(kRelaxed);
                    if (p.slot.load(kRelaxed) != peer || p.gen.load(kRelaxed) != gen ||
                        p.weight.load(kRelaxed) != x.weight.load(kRelaxed))
                        return core::fail(SHMDS_ECORRUPT, "graph node {} {}-peer list differs "
                                          "from its list at edge {}", i, out ? "out" : "in", e);
                }
                seen_edge[e] |= out ? 1 : 2;
                prev = e;
                e = out ? x.next_out.load(kRelaxed) : x.next_in.load(kRelaxed);
            }
            if (len != (out ? out_deg[i] : in_deg[i]) || deg != len)
                return core::fail(SHMDS_ECORRUPT, "graph node {} {}-degree {} but {} listed",
                                  i, out ? "out" : "in", deg, len);
        }
    }
    for (std::uint64_t i = 0; i < E; ++i)
        if (edges_[i].valid.load(kRelaxed) == 1 && seen_edge[i] != 3)
            return core::fail(SHMDS_ECORRUPT, "graph edge {} is missing from a list", i);
    // Free lists: exactly the dead node slots and the invalid edge slots.
    std::uint64_t free_nodes = 0, free_edges = 0;
    for (std::uint32_t s = ctl_->node_free.load(kRelaxed); s != kNone; ++free_nodes) {
        if (s >= N || free_nodes >= N || seen_node[s] || nodes_[s].alive.load(kRelaxed) != 0)
            return core::fail(SHMDS_ECORRUPT, "graph node free list is damaged at {}", s);
        seen_node[s] = 1;
        s = nodes_[s].next_free.load(kRelaxed);
    }
    for (std::uint32_t e = ctl_->edge_free.load(kRelaxed); e != kNone; ++free_edges) {
        if (e >= E || free_edges >= E || seen_edge[e] == 4 || edges_[e].valid.load(kRelaxed) != 0)
            return core::fail(SHMDS_ECORRUPT, "graph edge free list is damaged at {}", e);
        seen_edge[e] = 4;
        e = edges_[e].next_free.load(kRelaxed);
    }
    if (free_nodes != N - nodes || free_edges != E - edges)
        return core::fail(SHMDS_ECORRUPT, "graph free lists hold {} nodes and {} edges, not {} "
                          "and {}", free_nodes, free_edges, N - nodes, E - edges);
    return 0;
}

}  // namespace shmds::graph
