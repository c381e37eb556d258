// graph: every worker owns a few node slots (a shared table per worker index, which a
// respawned worker inherits) and adds and removes its nodes and their out-edges, to its
// own nodes and to other workers'. Node data is a tagged item naming its owner; an
// edge's weight is derived from both endpoint ids, so a torn, stale or misattributed
// neighbour shows in every neighbours read. Each change is written to the table as a
// pending intent first; a respawned worker (and verify) resolves a dead one's intent
// from the graph itself (redoing a removal, looking for the added node's tag or edge),
// so the tables must match the graph exactly in the end: no node or edge nobody holds,
// none missing, shmds_graph_check() clean after the takeovers and repairs.
#include "ledger.hpp"

#include <shmds/graph.h>

#include <atomic>
#include <cerrno>
#include <set>

namespace soak {
namespace {

constexpr unsigned kSlots = 8;  // nodes per worker
constexpr unsigned kOut = 4;    // out-edges per node

std::int64_t weight_of(std::uint64_t src, std::uint64_t dst) {
    return static_cast<std::int64_t>(mix64(src * 0x9e3779b97f4a7c15ull ^ dst) >> 1);
}

enum Op : std::uint32_t { kNone, kAddNode, kRemoveNode, kAddEdge, kRemoveEdge };

struct Slot {
    std::atomic<std::uint64_t> id;         // 0: empty
    std::atomic<std::uint64_t> out[kOut];  // edge targets, 0: none
};

// The change in flight: written before the call, cleared after the table matches it.
struct Intent {
    std::atomic<std::uint32_t> op;
    std::atomic<std::uint32_t> slot;
    std::atomic<std::uint32_t> edge;
    std::atomic<std::uint64_t> a, b;
    std::atomic<std::int64_t> data;
};

struct Table {
    Slot slots[kSlots];
    Intent intent;
    std::atomic<std::uint64_t> serial;
};

class Graph : public Workload {
public:
    void setup(const Params &params) override {
        workers_ = params.workers;
        shmds_graph_config_t cfg =
            SHMDS_GRAPH_CONFIG_INIT(workers_ * kSlots + 8, workers_ * kSlots * kOut);
        int rc = shmds_graph_create(nullptr, &cfg, &g_);
        if (rc != 0) violation("shmds_graph_create: {}", describe_rc(rc));
        tables_ = shared_array<Table>(workers_);
        reads_ = shared_array<std::atomic<std::uint64_t>>(1);
    }

    void start(Worker &w) override { resolve(w.index()); }

    Step step(Worker &w) override {
        if (w.chance(40)) return read(w);
        Table &t = tables_[w.index()];
        const unsigned s = unsigned(w.rng()() % kSlots);
        const std::uint64_t id = t.slots[s].id.load();
        if (id == 0) return add_node(w, t, s);
        if (w.chance(8)) return remove_node(t, s, id);
        const unsigned e = unsigned(w.rng()() % kOut);
        const std::uint64_t dst = t.slots[s].out[e].load();
        if (dst != 0) {
            check_edge(id, dst);
            return w.chance(50) ? remove_edge(t, s, e, id, dst) : Step::idle;
        }
        return add_edge(w, t, s, e, id);
    }

    void verify(const Params &, const Deaths &deaths) override {
        for (unsigned i = 0; i < workers_; ++i) resolve(i);
        int rc = shmds_graph_check(g_);
        if (rc != 0) violation("shmds_graph_check: {}", describe_rc(rc));
        std::set<std::uint64_t> held;
        for (unsigned i = 0; i < workers_; ++i)
            for (const Slot &slot : tables_[i].slots)
                if (std::uint64_t id = slot.id.load()) held.insert(id);
        std::uint64_t nodes = 0, edges = 0;
        std::uint64_t id = SHMDS_GRAPH_BEGIN;
        while ((rc = shmds_graph_next_node(g_, id, &id)) == 0) {
            ++nodes;
            if (!held.count(id)) violation("node {:#x} is in the graph but no worker holds it", id);
        }
        if (rc != -ENOENT) violation("shmds_graph_next_node: {}", describe_rc(rc));
        if (nodes != held.size())
            violation("{} nodes in the graph, the workers hold {}", nodes, held.size());
        for (unsigned i = 0; i < workers_; ++i)
            for (const Slot &slot : tables_[i].slots)
                if (std::uint64_t src = slot.id.load()) edges += check_node(i, slot, src);
        shmds_graph_stats_t st{};
        st.struct_size = sizeof st;
        if ((rc = shmds_graph_stats(g_, &st)) != 0) violation("stats: {}", describe_rc(rc));
        if (st.nodes != nodes || st.edges != edges)
            violation("stats count {} nodes and {} edges, the graph has {} and {}", st.nodes,
                      st.edges, nodes, edges);
        std::uint64_t kills = 0;
        for (std::uint64_t k : deaths.kills) kills += k;
        note("{} nodes and {} edges match the workers' tables after {} kills; {} neighbour "
             "lists checked; {} recoveries, {} locked reads",
             nodes, edges, kills, reads_->load(), st.recoveries, st.locked_reads);
        shmds_graph_close(g_);
    }

private:
    // Bring table `index` in line with the graph after its worker died mid-change.
    void resolve(unsigned index) {
        Intent &in = tables_[index].intent;
        const std::uint32_t op = in.op.load();
        if (op == kNone) return;
        Slot &slot = tables_[index].slots[in.slot.load() % kSlots];
        std::atomic<std::uint64_t> &out = slot.out[in.edge.load() % kOut];
        const std::uint64_t a = in.a.load(), b = in.b.load();
        int rc = 0;
        switch (op) {
        case kAddNode:
            slot.id.store(find_node(in.data.load()));
            break;
        case kRemoveNode:
            rc = shmds_graph_remove_node(g_, a);
            if (rc != 0 && rc != -ENOENT) violation("redo remove_node: {}", describe_rc(rc));
            clear(slot);
            break;
        case kAddEdge:
            rc = shmds_graph_has_edge(g_, a, b);
            if (rc < 0 && rc != -ENOENT) violation("has_edge: {}", describe_rc(rc));
            out.store(rc == 1 ? b : 0);
            break;
        case kRemoveEdge:
            rc = shmds_graph_remove_edge(g_, a, b);
            if (rc != 0 && rc != -ENOENT) violation("redo remove_edge: {}", describe_rc(rc));
            out.store(0);
            break;
        default:
            violation("table {}: intent {} is no operation", index, op);
        }
        in.op.store(kNone);
    }

    std::uint64_t find_node(std::int64_t data) {
        std::uint64_t id = SHMDS_GRAPH_BEGIN;
        std::int64_t d = 0;
        while (shmds_graph_next_node(g_, id, &id) == 0)
            if (shmds_graph_node_data(g_, id, &d) == 0 && d == data) return id;
        return 0;
    }

    static void clear(Slot &slot) {
        for (auto &o : slot.out) o.store(0);
        slot.id.store(0);
    }

    void begin(Table &t, Op op, unsigned s, unsigned e, std::uint64_t a, std::uint64_t b,
               std::int64_t data = 0) {
        t.intent.slot.store(s);
        t.intent.edge.store(e);
        t.intent.a.store(a);
        t.intent.b.store(b);
        t.intent.data.store(data);
        t.intent.op.store(op);
    }

    Step add_node(Worker &w, Table &t, unsigned s) {
        const std::uint64_t serial = t.serial.fetch_add(1) + 1;
        const std::int64_t data = tagged_item((std::uint64_t(w.index()) << 32) | serial);
        begin(t, kAddNode, s, 0, 0, 0, data);
        std::uint64_t id = 0;
        const int rc = shmds_graph_add_node(g_, data, &id);
        if (rc == 0) {
            for (auto &o : t.slots[s].out) o.store(0);
            t.slots[s].id.store(id);
        } else if (rc != -ENOSPC) {
            violation("shmds_graph_add_node: {}", describe_rc(rc));
        }
        t.intent.op.store(kNone);
        return rc == 0 ? Step::progress : Step::idle;
    }

    Step remove_node(Table &t, unsigned s, std::uint64_t id) {
        begin(t, kRemoveNode, s, 0, id, 0);
        const int rc = shmds_graph_remove_node(g_, id);
        if (rc != 0) violation("shmds_graph_remove_node of our own node: {}", describe_rc(rc));
        clear(t.slots[s]);
        t.intent.op.store(kNone);
        return Step::progress;
    }

    Step add_edge(Worker &w, Table &t, unsigned s, unsigned e, std::uint64_t src) {
        const std::uint64_t dst =
            tables_[w.rng()() % workers_].slots[w.rng()() % kSlots].id.load();
        if (dst == 0) return Step::idle;
        for (const auto &o : t.slots[s].out)
            if (o.load() == dst) return Step::idle;  // at most one edge per direction
        begin(t, kAddEdge, s, e, src, dst);
        const int rc = shmds_graph_add_edge(g_, src, dst, weight_of(src, dst));
        if (rc == 0) t.slots[s].out[e].store(dst);
        else if (rc != -ENOENT)  // dst was removed meanwhile; -EEXIST: an edge nobody holds
            violation("shmds_graph_add_edge {:#x} -> {:#x}: {}", src, dst, describe_rc(rc));
        t.intent.op.store(kNone);
        return rc == 0 ? Step::progress : Step::idle;
    }

    Step remove_edge(Table &t, unsigned s, unsigned e, std::uint64_t src, std::uint64_t dst) {
        begin(t, kRemoveEdge, s, e, src, dst);
        const int rc = shmds_graph_remove_edge(g_, src, dst);
        if (rc == -ENOENT && !removal_pending(dst) && shmds_graph_has_node(g_, dst) == 1)
            violation("edge {:#x} -> {:#x} vanished while both nodes live", src, dst);
        else if (rc != 0 && rc != -ENOENT)
            violation("shmds_graph_remove_edge: {}", describe_rc(rc));
        t.slots[s].out[e].store(0);
        t.intent.op.store(kNone);
        return Step::progress;
    }

    // A remove_node of `node` is under way or was cut short by its worker's death (the
    // intent stays until the respawned worker has redone it). graph.h allows a killed
    // remove_node to be left half done: some of the node's edges gone (an edge of ours
    // into it among them), the node still there until the redo.
    bool removal_pending(std::uint64_t node) const {
        for (unsigned i = 0; i < workers_; ++i) {
            const Intent &in = tables_[i].intent;
            if (in.op.load() == kRemoveNode && in.a.load() == node) return true;
        }
        return false;
    }

    // Our edge src -> dst: present with its weight while dst lives (ids are never reused,
    // so dst live after the read was live during it), unless dst's removal is pending.
    // Looked at in that order, after the read: an edge lost to a half-done removal was
    // lost under an intent set before the read and cleared only once dst is dead.
    void check_edge(std::uint64_t src, std::uint64_t dst) {
        std::int64_t wt = 0;
        const int rc = shmds_graph_edge_weight(g_, src, dst, &wt);
        if (rc == 0 && wt != weight_of(src, dst))
            violation("edge {:#x} -> {:#x} weighs {}, not {}", src, dst, wt, weight_of(src, dst));
        else if (rc == -ENOENT && !removal_pending(dst) && shmds_graph_has_node(g_, dst) == 1)
            violation("edge {:#x} -> {:#x} missing while both nodes live", src, dst);
        else if (rc != 0 && rc != -ENOENT)
            violation("shmds_graph_edge_weight: {}", describe_rc(rc));
    }

    // Any worker's node: its data names that worker, every neighbour's weight its ids.
    Step read(Worker &w) {
        const unsigned owner = unsigned(w.rng()() % workers_);
        const std::uint64_t id = tables_[owner].slots[w.rng()() % kSlots].id.load();
        if (id == 0) return Step::idle;
        std::int64_t data = 0;
        int rc = shmds_graph_node_data(g_, id, &data);
        std::uint64_t item = 0;
        if (rc == 0 && (!untag_item(data, item) || (item >> 32) != owner))
            violation("node {:#x} of worker {} carries {:#x}", id, owner, data);
        else if (rc != 0 && rc != -ENOENT)
            violation("shmds_graph_node_data: {}", describe_rc(rc));
        std::uint64_t ids[kOut + 2];
        std::int64_t weights[kOut + 2];
        std::size_t count = 0;
        rc = shmds_graph_neighbors(g_, id, ids, weights, kOut + 2, &count);
        if (rc == -ENOENT) return Step::idle;
        if (rc == -ENOBUFS || (rc == 0 && count > kOut)) {
            violation("node {:#x} has {} out-neighbours, at most {} were added", id, count, kOut);
            return Step::idle;
        }
        if (rc != 0) {
            violation("shmds_graph_neighbors: {}", describe_rc(rc));
            return Step::idle;
        }
        for (std::size_t i = 0; i < count; ++i)
            if (weights[i] != weight_of(id, ids[i]))
                violation("neighbour {:#x} of {:#x} weighs {}, not {}", ids[i], id, weights[i],
                          weight_of(id, ids[i]));
        reads_->fetch_add(1, std::memory_order_relaxed);
        return Step::progress;
    }

    // The final graph around one held node equals its table: the live targets, each
    // with its weight. Returns its out-edges.
    std::uint64_t check_node(unsigned owner, const Slot &slot, std::uint64_t src) {
        std::int64_t data = 0;
        std::uint64_t item = 0;
        int rc = shmds_graph_node_data(g_, src, &data);
        if (rc != 0 || !untag_item(data, item) || (item >> 32) != owner)
            violation("held node {:#x} of worker {}: data {:#x}, {}", src, owner, data,
                      describe_rc(rc));
        std::set<std::uint64_t> expected;
        for (const auto &o : slot.out)
            if (std::uint64_t dst = o.load(); dst && shmds_graph_has_node(g_, dst) == 1)
                expected.insert(dst);
        std::uint64_t ids[kOut + 2];
        std::int64_t weights[kOut + 2];
        std::size_t count = 0;
        rc = shmds_graph_neighbors(g_, src, ids, weights, kOut + 2, &count);
        if (rc != 0) {
            violation("final neighbours of {:#x}: {}", src, describe_rc(rc));
            return 0;
        }
        std::set<std::uint64_t> found;
        for (std::size_t i = 0; i < count; ++i) {
            found.insert(ids[i]);
            if (weights[i] != weight_of(src, ids[i]))
                violation("final edge {:#x} -> {:#x} weighs {}", src, ids[i], weights[i]);
        }
        if (found != expected || found.size() != count)
            violation("node {:#x}: {} out-edges in the graph, {} in its table", src, count,
                      expected.size());
        return count;
    }

    shmds_graph_t *g_ = nullptr;
    unsigned workers_ = 0;
    Table *tables_ = nullptr;
    std::atomic<std::uint64_t> *reads_ = nullptr;
};

}  // namespace
}  // namespace soak

SOAK_WORKLOAD(graph, "nodes and edges match the workers' tables exactly (dead intents resolved); "
              "neighbour weights derived from both ids; node tags name their owner; check clean",
              2, soak::Graph);
