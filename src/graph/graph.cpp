// The graph's lifecycle and its readers (graph_write.cpp: writers; graph_repair.cpp:
// the rebuild and the consistency check).
#include "graph/graph.hpp"

#include "core/failpoint.hpp"
#include "core/platform.hpp"
#include "graph/write_section.hpp"

namespace shmds::graph {

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;
// Optimistic attempts before a reader reads under the mutex. A writer holds the seqlock
// odd for one mutation (a few hundred instructions, or a remove_node's degree), so a
// reader that keeps failing is most likely facing a dead writer: the mutex takes it over.
constexpr int kOptimisticReads = 64;
constexpr int kTornRead = SHMDS_ECORRUPT;

core::SegmentShape shape_of(const Geometry &g) {
    static_assert(kGeomMaxNodes == 0 && kGeomMaxEdges == 1 && kGeomInlineDegree == 2);
    return core::SegmentShape::of(std::uint32_t(ElemType::int64), sizeof(Edge), 8, g.total,
                                  layout_hash(), {g.max_nodes, g.max_edges, g.inline_degree});
}
}  // namespace

int Graph::create(const shmds_options_t *opts, const Config &cfg, std::unique_ptr<Graph> &out) {
    Config c = cfg;
    c.variant = ElemType::int64;
    return core::EngineFactory::create(opts, c, "graph", out);
}

int Graph::open(const shmds_options_t *opts, std::unique_ptr<Graph> &out) {
    return core::EngineFactory::open(opts, 0, std::uint32_t(ElemType::f64), "graph", out);
}

int Graph::describe(core::SegmentShape &s) {
    if (int r = compute_geometry(requested_.max_nodes, requested_.max_edges,
                                 requested_.inline_degree, geom_))
        return r;
    s = shape_of(geom_);
    return 0;
}

int Graph::reshape(std::uint32_t v, const std::uint64_t (&geometry)[core::kGeometryWords],
                   core::SegmentShape &s) {
    if (v != std::uint32_t(ElemType::int64))
        return core::fail(SHMDS_ECORRUPT, "graph segment names variant {}, not int64", v);
    if (int r = compute_geometry(geometry[kGeomMaxNodes], geometry[kGeomMaxEdges],
                                 geometry[kGeomInlineDegree], geom_))
        return r;
    s = shape_of(geom_);
    return 0;
}

void Graph::point_at(std::uint8_t *base) noexcept {
    ctl_ = reinterpret_cast<Control *>(base + geom_.control_off);
    nodes_ = reinterpret_cast<Node *>(base + geom_.nodes_off);
    edges_ = reinterpret_cast<Edge *>(base + geom_.edges_off);
    peers_ = reinterpret_cast<Peer *>(base + geom_.peers_off);
}

void Graph::initialize(std::uint8_t *base) noexcept {
    point_at(base);
    core::robust_mutex_init(ctl_->mutex);
    // A new segment is all zero: no node alive, no edge valid. The lists and free lists
    // are derived, so the rebuild sets them up.
    rebuild();
}

void Graph::bind(std::uint8_t *base) noexcept { point_at(base); }

std::uint32_t Graph::live_slot(std::uint64_t id) const noexcept {
    const std::uint64_t slot = id & 0xFFFFFFFFu;
    const std::uint32_t gen = std::uint32_t(id >> 32);
    if (slot >= geom_.max_nodes || gen == 0) return kNone;
    const Node &n = nodes_[slot];
    if (n.alive.load(kRelaxed) != 1 || n.gen.load(kRelaxed) != gen) return kNone;
    return std::uint32_t(slot);
}

std::uint32_t Graph::find_edge(std::uint32_t src, std::uint32_t dst) const noexcept {
    // Walk the shorter list: src's out-list or dst's in-list.
    const bool by_out =
        nodes_[src].out_degree.load(kRelaxed) <= nodes_[dst].in_degree.load(kRelaxed);
    std::uint32_t e = by_out ? nodes_[src].out_head.load(kRelaxed)
                             : nodes_[dst].in_head.load(kRelaxed);
    for (std::uint64_t steps = 0; e != kNone; ++steps) {
        if (e >= geom_.max_edges || steps >= geom_.max_edges) return kDamaged;
        const Edge &x = edges_[e];
        if (by_out ? x.dst.load(kRelaxed) == dst : x.src.load(kRelaxed) == src) return e;
        e = by_out ? x.next_out.load(kRelaxed) : x.next_in.load(kRelaxed);
    }
    return kNone;
}

Peer *Graph::peer_entry(std::uint32_t node, Dir dir, std::uint32_t degree,
                        std::uint32_t peer) const noexcept {
    Peer *list = peers(node, dir);
    for (std::uint32_t i = 0; i < degree; ++i)
        if (list[i].slot.load(kRelaxed) == peer) return list + i;
    return nullptr;
}

bool Graph::find_peer(std::uint32_t src, std::uint32_t dst, const Peer **found) const noexcept {
    const std::uint32_t out = nodes_[src].out_degree.load(kRelaxed);
    if (out <= geom_.inline_degree) {
        *found = peer_entry(src, Dir::out, out, dst);
        return true;
    }
    const std::uint32_t in = nodes_[dst].in_degree.load(kRelaxed);
    if (in <= geom_.inline_degree) {
        *found = peer_entry(dst, Dir::in, in, src);
        return true;
    }
    return false;
}

int Graph::missing(std::uint64_t id) const noexcept {
    const std::uint64_t slot = id & 0xFFFFFFFFu;
    if (slot >= geom_.max_nodes || (id >> 32) == 0)
        return core::fail(-ENOENT, "{:#x} is not a graph node id (slot {} of {}, generation {})",
                          id, slot, geom_.max_nodes, id >> 32);
    return core::fail(-ENOENT, "graph node {:#x} does not exist: it was removed (its id is "
                               "stale) or never added", id);
}

template <typename Body>
int Graph::read(Body &&body) noexcept {
    for (int attempt = 0; attempt < kOptimisticReads; ++attempt) {
        const std::uint64_t s1 = ctl_->seq.load(std::memory_order_acquire);
        if (SHMDS_LIKELY((s1 & 1) == 0)) {
            const int r = body();
            std::atomic_thread_fence(std::memory_order_acquire);
            if (SHMDS_LIKELY(ctl_->seq.load(kRelaxed) == s1 && r != kTornRead)) return r;
            if (ctl_->seq.load(kRelaxed) == s1) break;  // a stable impossible state: damage
        }
        if (attempt == 0) ctl_->read_retries.fetch_add(1, kRelaxed);
        core::cpu_relax();
    }
    // Writers kept it moving, a writer died mid-change (the word stays odd), or the
    // stable state is damaged: read under the mutex, which takes a dead writer over and
    // repairs; damage found there is repaired here.
    ctl_->locked_reads.fetch_add(1, kRelaxed);
    core::RobustLock lock(ctl_->mutex, core::Deadline::from_timeout(-1), &Graph::repair, this,
                          &segment_.header().recoveries);
    if (!lock.owns()) return SHMDS_ECORRUPT;  // without a deadline only a damaged word fails
    SHMDS_FAILPOINT("graph.read.locked");
    if (ctl_->seq.load(kRelaxed) & 1) {
        // Odd with the lock free: a peer scribbled it (a dead writer's takeover repairs
        // and evens it). Rebuild, so the next reads are lock-free again.
        repair(this);
        segment_.header().recoveries.fetch_add(1, kRelaxed);
    }
    int r = body();
    if (r == kTornRead) {
        repair(this);
        segment_.header().recoveries.fetch_add(1, kRelaxed);
        r = body();
        if (r == kTornRead)
            return core::fail(SHMDS_ECORRUPT, "graph lists stay damaged after a rebuild");
    }
    return r;
}

int Graph::has_node(std::uint64_t id) noexcept {
    return read([&] { return live_slot(id) != kNone ? 1 : 0; });
}

int Graph::node_data(std::uint64_t id, std::int64_t *out) noexcept {
    const int r = read([&] {
        const std::uint32_t s = live_slot(id);
        if (s == kNone) return -ENOENT;
        *out = nodes_[s].data.load(kRelaxed);
        return 0;
    });
    return r == -ENOENT ? missing(id) : r;
}

int Graph::has_edge(std::uint64_t src, std::uint64_t dst) noexcept {
    std::uint64_t bad = 0;
    const int r = read([&] {
        const std::uint32_t s = live_slot(src), d = live_slot(dst);
        if (s == kNone || d == kNone) {
            bad = s == kNone ? src : dst;
            return -ENOENT;
        }
        if (const Peer *p; find_peer(s, d, &p)) return p ? 1 : 0;
        const std::uint32_t e = find_edge(s, d);
        if (e == kDamaged) return kTornRead;
        return e == kNone ? 0 : 1;
    });
    return r == -ENOENT ? missing(bad) : r;
}

int Graph::edge_weight(std::uint64_t src, std::uint64_t dst, std::int64_t *out) noexcept {
    std::uint64_t bad = 0;
    const int r = read([&] {
        const std::uint32_t s = live_slot(src), d = live_slot(dst);
        if (s == kNone || d == kNone) {
            bad = s == kNone ? src : dst;
            return -ENOENT;
        }
        if (const Peer *p; find_peer(s, d, &p)) {
            if (!p) return -ESRCH;
            *out = p->weight.load(kRelaxed);
            return 0;
        }
        const std::uint32_t e = find_edge(s, d);
        if (e == kDamaged) return kTornRead;
        if (e == kNone) return -ESRCH;
        *out = edges_[e].weight.load(kRelaxed);
        return 0;
    });
    if (r == -ESRCH)
        return core::fail(-ENOENT, "graph has no edge {:#x} -> {:#x}", src, dst);
    return r == -ENOENT ? missing(bad) : r;
}

int Graph::neighbors(Dir dir, std::uint64_t id, std::uint64_t *ids, std::int64_t *weights,
                     std::size_t cap, std::size_t *count) noexcept {
    const int r = read([&] {
        const std::uint32_t s = live_slot(id);
        if (s == kNone) return -ENOENT;
        const bool out = dir == Dir::out;
        const Node &node = nodes_[s];
        const std::uint32_t degree =
            out ? node.out_degree.load(kRelaxed) : node.in_degree.load(kRelaxed);
        if (degree <= geom_.inline_degree) {
            // The Peer list, oldest first: copied backwards, newest first like the list.
            const Peer *list = peers(s, dir);
            const std::size_t n = degree < cap ? degree : cap;
            for (std::size_t i = 0; i < n; ++i) {
                const Peer &p = list[degree - 1 - i];
                ids[i] = make_id(p.gen.load(kRelaxed), p.slot.load(kRelaxed));
                if (weights) weights[i] = p.weight.load(kRelaxed);
            }
            *count = degree;
            return degree > cap ? -ENOBUFS : 0;
        }
        std::uint32_t e = out ? node.out_head.load(kRelaxed) : node.in_head.load(kRelaxed);
        std::size_t n = 0;
        for (; e != kNone; ++n) {
            if (e >= geom_.max_edges || n >= geom_.max_edges) return kTornRead;
            const Edge &x = edges_[e];
            if (n < cap) {
                ids[n] = out ? make_id(x.dst_gen.load(kRelaxed), x.dst.load(kRelaxed))
                             : make_id(x.src_gen.load(kRelaxed), x.src.load(kRelaxed));
                if (weights) weights[n] = x.weight.load(kRelaxed);
            }
            e = out ? x.next_out.load(kRelaxed) : x.next_in.load(kRelaxed);
        }
        *count = n;
        return n > cap ? -ENOBUFS : 0;
    });
    if (r == -ENOBUFS)
        return core::fail(-ENOBUFS, "graph node {:#x} has {} {}-neighbours, the buffer holds {}",
                          id, *count, dir == Dir::out ? "out" : "in", cap);
    return r == -ENOENT ? missing(id) : r;
}

int Graph::degree(Dir dir, std::uint64_t id, std::uint64_t *out) noexcept {
    const int r = read([&] {
        const std::uint32_t s = live_slot(id);
        if (s == kNone) return -ENOENT;
        *out = dir == Dir::out ? nodes_[s].out_degree.load(kRelaxed)
                               : nodes_[s].in_degree.load(kRelaxed);
        return 0;
    });
    return r == -ENOENT ? missing(id) : r;
}

int Graph::next_node(std::uint64_t after, std::uint64_t *id) noexcept {
    const std::uint64_t start = after == kBegin ? 0 : (after & 0xFFFFFFFFu) + 1;
    const int r = read([&] {
        for (std::uint64_t s = start; s < geom_.max_nodes; ++s) {
            const Node &n = nodes_[s];
            if (n.alive.load(kRelaxed) == 1) {
                *id = make_id(n.gen.load(kRelaxed), std::uint32_t(s));
                return 0;
            }
        }
        return -ENOENT;
    });
    if (r == -ENOENT) return core::fail_static(-ENOENT, "no more graph nodes");
    return r;
}

std::uint64_t Graph::node_count() const noexcept {
    const std::uint64_t n = ctl_->node_count.load(kRelaxed);
    return n > geom_.max_nodes ? geom_.max_nodes : n;
}

std::uint64_t Graph::edge_count() const noexcept {
    const std::uint64_t n = ctl_->edge_count.load(kRelaxed);
    return n > geom_.max_edges ? geom_.max_edges : n;
}

int Graph::stats(Stats &s) noexcept {
    s = Stats{};
    {
        core::RobustLock lock(ctl_->mutex, core::Deadline::from_timeout(-1), &Graph::repair,
                              this, &segment_.header().recoveries);
        if (!lock.owns()) return SHMDS_ECORRUPT;
        SHMDS_FAILPOINT("graph.stats.locked");
        s.nodes_added = ctl_->nodes_added.load(kRelaxed);
        s.nodes_removed = ctl_->nodes_removed.load(kRelaxed);
        s.edges_added = ctl_->edges_added.load(kRelaxed);
        s.edges_removed = ctl_->edges_removed.load(kRelaxed);
    }
    s.nodes = node_count();
    s.edges = edge_count();
    s.max_nodes = geom_.max_nodes;
    s.max_edges = geom_.max_edges;
    s.clears = ctl_->clears.load(kRelaxed);
    s.read_retries = ctl_->read_retries.load(kRelaxed);
    s.locked_reads = ctl_->locked_reads.load(kRelaxed);
    s.recoveries = segment_.recoveries();
    s.segment_bytes = geom_.total;
    s.inline_degree = geom_.inline_degree;
    return 0;
}

}  // namespace shmds::graph
