// The graph's writers. Each one checks its arguments under the mutex, then opens the
// seqlock (WriteSection::begin) and changes the primary facts in an order that keeps
// them a valid graph at every instant, committing with one store of `valid` or `alive`;
// the derived words (lists, degrees, free lists, counts) follow. A writer killed after
// the commit leaves derived words behind that the repair rebuilds.
#include "core/failpoint.hpp"
#include "graph/graph.hpp"
#include "graph/write_section.hpp"

namespace shmds::graph {

using core::add_locked;

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;

void sub_locked(std::atomic<std::uint64_t> &w, std::uint64_t n) noexcept {
    const std::uint64_t v = w.load(kRelaxed);
    w.store(v >= n ? v - n : 0, kRelaxed);
}
void dec(std::atomic<std::uint32_t> &w) noexcept {
    const std::uint32_t v = w.load(kRelaxed);
    w.store(v ? v - 1 : 0, kRelaxed);
}
void inc(std::atomic<std::uint32_t> &w) noexcept { w.store(w.load(kRelaxed) + 1, kRelaxed); }

int damaged_lock() noexcept {
    return core::fail(SHMDS_ECORRUPT, "the graph lock word is damaged");
}
}  // namespace

// An edge is in two lists: its src's out-list and its dst's in-list. One description
// of each, so linking and unlinking are written once for both.
struct ListSide {
    Dir dir;
    std::atomic<std::uint32_t> Edge::*owner;  // the node whose list it is (src or dst)
    std::atomic<std::uint32_t> Edge::*peer, Edge::*peer_gen;  // the other endpoint
    std::atomic<std::uint32_t> Edge::*prev, Edge::*next;
    std::atomic<std::uint32_t> Node::*head, Node::*degree;
};
constexpr ListSide kOutList{Dir::out,       &Edge::src,      &Edge::dst,
                            &Edge::dst_gen, &Edge::prev_out, &Edge::next_out,
                            &Node::out_head, &Node::out_degree};
constexpr ListSide kInList{Dir::in,        &Edge::dst,     &Edge::src,
                           &Edge::src_gen, &Edge::prev_in, &Edge::next_in,
                           &Node::in_head, &Node::in_degree};

namespace {
void copy_peer(Peer &p, const Edge &x, const ListSide &side) noexcept {
    p.slot.store((x.*side.peer).load(kRelaxed), kRelaxed);
    p.gen.store((x.*side.peer_gen).load(kRelaxed), kRelaxed);
    p.weight.store(x.weight.load(kRelaxed), kRelaxed);
}
}  // namespace

bool Graph::link_edge(std::uint32_t e, std::uint32_t src, std::uint32_t dst) noexcept {
    const std::uint32_t out = nodes_[src].out_head.load(kRelaxed);
    const std::uint32_t in = nodes_[dst].in_head.load(kRelaxed);
    if ((out != kNone && out >= geom_.max_edges) || (in != kNone && in >= geom_.max_edges))
        return false;
    push_front(e, src, kOutList);
    push_front(e, dst, kInList);
    return true;
}

// Put e at the head of node's list on `side` (the caller checked the head's bounds).
void Graph::push_front(std::uint32_t e, std::uint32_t node, const ListSide &side) noexcept {
    Edge &x = edges_[e];
    Node &n = nodes_[node];
    const std::uint32_t first = (n.*side.head).load(kRelaxed);
    (x.*side.prev).store(kNone, kRelaxed);
    (x.*side.next).store(first, kRelaxed);
    if (first != kNone) (edges_[first].*side.prev).store(e, kRelaxed);
    (n.*side.head).store(e, kRelaxed);
    const std::uint32_t degree = (n.*side.degree).load(kRelaxed);
    if (degree < geom_.inline_degree) copy_peer(peers(node, side.dir)[degree], x, side);
    inc(n.*side.degree);
}

// Take e out of its list on `side`; false (nothing changed) when a link is out of bounds.
bool Graph::unlink(std::uint32_t e, const ListSide &side) noexcept {
    Edge &x = edges_[e];
    const std::uint32_t node = (x.*side.owner).load(kRelaxed);
    const std::uint32_t p = (x.*side.prev).load(kRelaxed), n = (x.*side.next).load(kRelaxed);
    if (node >= geom_.max_nodes || (p != kNone && p >= geom_.max_edges) ||
        (n != kNone && n >= geom_.max_edges))
        return false;
    if (p == kNone)
        (nodes_[node].*side.head).store(n, kRelaxed);
    else
        (edges_[p].*side.next).store(n, kRelaxed);
    if (n != kNone) (edges_[n].*side.prev).store(p, kRelaxed);
    const std::uint32_t degree = (nodes_[node].*side.degree).load(kRelaxed);
    dec(nodes_[node].*side.degree);
    if (degree <= geom_.inline_degree)
        return drop_peer(node, side, (x.*side.peer).load(kRelaxed), degree);
    if (degree == geom_.inline_degree + 1) return refill_peers(node, side);
    return true;
}

// Take the peer out of node's Peer list of `degree` entries, keeping the order; false
// when it is not there (damage).
bool Graph::drop_peer(std::uint32_t node, const ListSide &side, std::uint32_t peer,
                      std::uint32_t degree) noexcept {
    Peer *list = peers(node, side.dir);
    const Peer *at = peer_entry(node, side.dir, degree, peer);
    if (!at) return false;
    for (std::uint32_t i = std::uint32_t(at - list); i + 1 < degree; ++i) {
        list[i].slot.store(list[i + 1].slot.load(kRelaxed), kRelaxed);
        list[i].gen.store(list[i + 1].gen.load(kRelaxed), kRelaxed);
        list[i].weight.store(list[i + 1].weight.load(kRelaxed), kRelaxed);
    }
    return true;
}

// The degree came down to inline_degree: copy the linked list into the Peer list,
// reversed (the list is newest first, the Peer list oldest first). False on damage.
bool Graph::refill_peers(std::uint32_t node, const ListSide &side) noexcept {
    const std::uint32_t k = std::uint32_t(geom_.inline_degree);
    Peer *list = peers(node, side.dir);
    std::uint32_t e = (nodes_[node].*side.head).load(kRelaxed);
    for (std::uint32_t i = 0; i < k; ++i) {
        if (e >= geom_.max_edges) return false;  // kNone included: the list is too short
        copy_peer(list[k - 1 - i], edges_[e], side);
        e = (edges_[e].*side.next).load(kRelaxed);
    }
    return e == kNone;
}

// A weight changed: its copy in node's Peer list follows. False when the list is kept
// and the peer is not in it (damage).
bool Graph::set_peer_weight(std::uint32_t node, const ListSide &side, std::uint32_t peer,
                            std::int64_t weight) noexcept {
    const std::uint32_t degree = (nodes_[node].*side.degree).load(kRelaxed);
    if (degree > geom_.inline_degree) return true;
    Peer *at = peer_entry(node, side.dir, degree, peer);
    if (at) at->weight.store(weight, kRelaxed);
    return at != nullptr;
}

bool Graph::unlink_out(std::uint32_t e) noexcept { return unlink(e, kOutList); }
bool Graph::unlink_in(std::uint32_t e) noexcept { return unlink(e, kInList); }

void Graph::free_edge(std::uint32_t e) noexcept {
    edges_[e].next_free.store(ctl_->edge_free.load(kRelaxed), kRelaxed);
    ctl_->edge_free.store(e, kRelaxed);
    sub_locked(ctl_->edge_count, 1);
    add_locked(ctl_->edges_removed, 1);
}

int Graph::add_node(std::int64_t data, std::uint64_t *id) noexcept {
    WriteSection w(*this, "graph.add_node.locked");
    if (!w.owns()) return damaged_lock();
    std::uint32_t s = ctl_->node_free.load(kRelaxed);
    if (s != kNone && (s >= geom_.max_nodes || nodes_[s].alive.load(kRelaxed) != 0)) {
        // A free list pointing out of bounds or at a live node: rebuild, then look again.
        w.begin();
        w.damaged();
        w.end();
        s = ctl_->node_free.load(kRelaxed);
    }
    if (s == kNone)
        return core::fail(-ENOSPC, "graph is full: {} nodes", geom_.max_nodes);
    w.begin();
    Node &n = nodes_[s];
    std::uint32_t gen = n.gen.load(kRelaxed) + 1;
    if (gen == 0) gen = 1;  // 0 never names a node
    ctl_->node_free.store(n.next_free.load(kRelaxed), kRelaxed);
    n.data.store(data, kRelaxed);
    n.gen.store(gen, kRelaxed);
    n.out_head.store(kNone, kRelaxed);
    n.in_head.store(kNone, kRelaxed);
    n.out_degree.store(0, kRelaxed);
    n.in_degree.store(0, kRelaxed);
    n.alive.store(1, kRelaxed);  // commit
    SHMDS_FAILPOINT("graph.add_node.committed");
    add_locked(ctl_->node_count, 1);
    add_locked(ctl_->nodes_added, 1);
    *id = make_id(gen, s);
    return 0;
}

int Graph::remove_node(std::uint64_t id) noexcept {
    WriteSection w(*this, "graph.remove_node.locked");
    if (!w.owns()) return damaged_lock();
    const std::uint32_t s = live_slot(id);
    if (s == kNone) return missing(id);
    w.begin();
    Node &n = nodes_[s];
    // 1. Invalidate every edge out of and into the node (each store is a commit of one
    //    edge's removal), walking lists that stay linked until step 3.
    for (int list = 0; list < 2; ++list) {
        std::uint32_t e = list == 0 ? n.out_head.load(kRelaxed) : n.in_head.load(kRelaxed);
        for (std::uint64_t steps = 0; e != kNone; ++steps) {
            if (e >= geom_.max_edges || steps >= geom_.max_edges) {
                w.damaged();
                break;
            }
            edges_[e].valid.store(0, kRelaxed);
            SHMDS_FAILPOINT("graph.remove_node.edge_invalidated");
            e = list == 0 ? edges_[e].next_out.load(kRelaxed) : edges_[e].next_in.load(kRelaxed);
        }
    }
    // 2. The node dies (commit): no valid edge names it any more.
    n.alive.store(0, kRelaxed);
    SHMDS_FAILPOINT("graph.remove_node.committed");
    // 3. Derived words: unlink each edge from its other endpoint's list, free it.
    std::uint32_t e = n.out_head.load(kRelaxed);
    for (std::uint64_t steps = 0; e != kNone && !w.is_damaged(); ++steps) {
        if (e >= geom_.max_edges || steps >= geom_.max_edges) {
            w.damaged();
            break;
        }
        const std::uint32_t next = edges_[e].next_out.load(kRelaxed);
        if (!unlink_in(e)) w.damaged();
        free_edge(e);
        e = next;
    }
    e = n.in_head.load(kRelaxed);  // self-loops left it in step 3's unlink_in
    for (std::uint64_t steps = 0; e != kNone && !w.is_damaged(); ++steps) {
        if (e >= geom_.max_edges || steps >= geom_.max_edges) {
            w.damaged();
            break;
        }
        const std::uint32_t next = edges_[e].next_in.load(kRelaxed);
        if (!unlink_out(e)) w.damaged();
        free_edge(e);
        e = next;
    }
    n.out_head.store(kNone, kRelaxed);
    n.in_head.store(kNone, kRelaxed);
    n.out_degree.store(0, kRelaxed);
    n.in_degree.store(0, kRelaxed);
    n.next_free.store(ctl_->node_free.load(kRelaxed), kRelaxed);
    ctl_->node_free.store(s, kRelaxed);
    sub_locked(ctl_->node_count, 1);
    add_locked(ctl_->nodes_removed, 1);
    return 0;
}

int Graph::set_node_data(std::uint64_t id, std::int64_t data) noexcept {
    WriteSection w(*this, "graph.set_node_data.locked");
    if (!w.owns()) return damaged_lock();
    const std::uint32_t s = live_slot(id);
    if (s == kNone) return missing(id);
    w.begin();
    nodes_[s].data.store(data, kRelaxed);
    return 0;
}

int Graph::add_edge(std::uint64_t src, std::uint64_t dst, std::int64_t weight) noexcept {
    WriteSection w(*this, "graph.add_edge.locked");
    if (!w.owns()) return damaged_lock();
    const std::uint32_t s = live_slot(src), d = live_slot(dst);
    if (s == kNone) return missing(src);
    if (d == kNone) return missing(dst);
    // Only whether the edge exists matters here: a kept Peer list answers that without
    // walking a list.
    const Peer *peer = nullptr;
    const bool by_peer = find_peer(s, d, &peer);
    std::uint32_t found = by_peer ? kNone : find_edge(s, d);
    bool exists = by_peer ? peer != nullptr : found != kNone;
    std::uint32_t e = ctl_->edge_free.load(kRelaxed);
    if (found == kDamaged || (e != kNone && (e >= geom_.max_edges ||
                                             edges_[e].valid.load(kRelaxed) != 0))) {
        w.begin();
        w.damaged();
        w.end();
        found = find_edge(s, d);
        e = ctl_->edge_free.load(kRelaxed);
        if (found == kDamaged) return core::fail(SHMDS_ECORRUPT, "graph lists stay damaged");
        exists = found != kNone;
    }
    if (exists)
        return core::fail(-EEXIST, "graph edge {:#x} -> {:#x} exists (set_edge_weight changes "
                          "its weight)", src, dst);
    if (e == kNone) return core::fail(-ENOSPC, "graph is full: {} edges", geom_.max_edges);
    w.begin();
    Edge &x = edges_[e];
    ctl_->edge_free.store(x.next_free.load(kRelaxed), kRelaxed);
    x.src.store(s, kRelaxed);
    x.dst.store(d, kRelaxed);
    x.src_gen.store(std::uint32_t(src >> 32), kRelaxed);
    x.dst_gen.store(std::uint32_t(dst >> 32), kRelaxed);
    x.weight.store(weight, kRelaxed);
    SHMDS_FAILPOINT("graph.add_edge.slot_written");
    x.valid.store(1, kRelaxed);  // commit
    SHMDS_FAILPOINT("graph.add_edge.committed");
    if (!link_edge(e, s, d)) w.damaged();
    add_locked(ctl_->edge_count, 1);
    add_locked(ctl_->edges_added, 1);
    return 0;
}

int Graph::remove_edge(std::uint64_t src, std::uint64_t dst) noexcept {
    WriteSection w(*this, "graph.remove_edge.locked");
    if (!w.owns()) return damaged_lock();
    const std::uint32_t s = live_slot(src), d = live_slot(dst);
    if (s == kNone) return missing(src);
    if (d == kNone) return missing(dst);
    std::uint32_t e = find_edge(s, d);
    if (e == kDamaged) {
        w.begin();
        w.damaged();
        w.end();
        e = find_edge(s, d);
        if (e == kDamaged) return core::fail(SHMDS_ECORRUPT, "graph lists stay damaged");
    }
    if (e == kNone) return core::fail(-ENOENT, "graph has no edge {:#x} -> {:#x}", src, dst);
    w.begin();
    edges_[e].valid.store(0, kRelaxed);  // commit
    SHMDS_FAILPOINT("graph.remove_edge.committed");
    if (!unlink_out(e) || !unlink_in(e)) w.damaged();
    free_edge(e);
    return 0;
}

int Graph::set_edge_weight(std::uint64_t src, std::uint64_t dst, std::int64_t weight) noexcept {
    WriteSection w(*this, "graph.set_edge_weight.locked");
    if (!w.owns()) return damaged_lock();
    const std::uint32_t s = live_slot(src), d = live_slot(dst);
    if (s == kNone) return missing(src);
    if (d == kNone) return missing(dst);
    std::uint32_t e = find_edge(s, d);
    if (e == kDamaged) {
        w.begin();
        w.damaged();
        w.end();
        e = find_edge(s, d);
        if (e == kDamaged) return core::fail(SHMDS_ECORRUPT, "graph lists stay damaged");
    }
    if (e == kNone) return core::fail(-ENOENT, "graph has no edge {:#x} -> {:#x}", src, dst);
    w.begin();
    edges_[e].weight.store(weight, kRelaxed);
    if (!set_peer_weight(s, kOutList, d, weight) || !set_peer_weight(d, kInList, s, weight))
        w.damaged();
    return 0;
}

std::int64_t Graph::clear() noexcept {
    WriteSection w(*this, "graph.clear.locked");
    if (!w.owns()) return damaged_lock();
    w.begin();
    // Edges first, then nodes: the primary facts stay a graph throughout; the rebuild
    // then derives the empty lists. Generations stay, so old ids stay stale.
    std::uint64_t edges = 0, nodes = 0;
    for (std::uint64_t e = 0; e < geom_.max_edges; ++e)
        if (edges_[e].valid.exchange(0, kRelaxed)) ++edges;
    SHMDS_FAILPOINT("graph.clear.edges_invalidated");
    for (std::uint64_t s = 0; s < geom_.max_nodes; ++s)
        if (nodes_[s].alive.exchange(0, kRelaxed)) ++nodes;
    SHMDS_FAILPOINT("graph.clear.committed");
    rebuild();
    add_locked(ctl_->nodes_removed, nodes);
    add_locked(ctl_->edges_removed, edges);
    ctl_->clears.fetch_add(1, kRelaxed);
    return std::int64_t(nodes);
}

}  // namespace shmds::graph
