// The graph under fuzzing: a segment that opens must survive every verb. Its adjacency
// lists, degrees, free lists and counts are the peer's to scribble: readers bounds-check
// every index they follow, writers and check() meet the damage as SHMDS_ECORRUPT (or a
// repair), never a read past the arrays or a loop around a cycle.
#include "exercise.hpp"

#include "core/header.hpp"
#include "graph/layout.hpp"

#include <shmds/graph.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

namespace shmds_fuzz {

namespace {

constexpr std::uint64_t kLock =
    sizeof(shmds::core::SegmentHeader) + offsetof(shmds::graph::Control, mutex);

// The first few live nodes (fewer when the walk ends): ids to read and change.
std::size_t some_nodes(shmds_graph_t *g, std::uint64_t (&ids)[4]) {
    std::size_t n = 0;
    std::uint64_t id = SHMDS_GRAPH_BEGIN;
    while (n < 4 && shmds_graph_next_node(g, id, &id) == 0) ids[n++] = id;
    return n;
}

void read_node(shmds_graph_t *g, std::uint64_t id, std::uint64_t other) {
    (void)shmds_graph_has_node(g, id);
    std::int64_t data = 0;
    (void)shmds_graph_node_data(g, id, &data);
    std::uint64_t deg = 0;
    (void)shmds_graph_out_degree(g, id, &deg);
    (void)shmds_graph_in_degree(g, id, &deg);
    std::uint64_t ids[8];
    std::int64_t weights[8];
    std::size_t count = 0;
    expect_code(shmds_graph_neighbors(g, id, ids, weights, 8, &count), {0, -ENOBUFS, -ENOENT},
                "shmds_graph_neighbors");
    expect_code(shmds_graph_in_neighbors(g, id, ids, nullptr, 8, &count),
                {0, -ENOBUFS, -ENOENT}, "shmds_graph_in_neighbors");
    (void)shmds_graph_has_edge(g, id, other);
    std::int64_t w = 0;
    (void)shmds_graph_edge_weight(g, id, other, &w);
}

void exercise(shmds_graph_t *g, const InputSegment &in) {
    (void)shmds_graph_node_count(g);
    (void)shmds_graph_edge_count(g);
    (void)shmds_graph_max_nodes(g);
    (void)shmds_graph_max_edges(g);
    (void)shmds_graph_recoveries(g);
    // Writers, stats and check wait for the lock without a deadline, and a read that keeps
    // failing (a fuzzed odd sequence word looks like a writer mid-change) falls back to it:
    // a word naming a live thread is what a live holder looks like, so nothing else runs
    // unless the lock is free.
    if (!in.robust_lock_free(kLock)) return;
    shmds_graph_stats_t st{};
    st.struct_size = sizeof st;
    expect_code(shmds_graph_stats(g, &st), {0}, "shmds_graph_stats");
    std::uint64_t ids[4];
    const std::size_t n = some_nodes(g, ids);
    for (std::size_t i = 0; i < n; ++i) read_node(g, ids[i], ids[(i + 1) % n]);
    read_node(g, 0, 1);                       // never an id
    read_node(g, 0xffffffff00000000ull, 0);   // a generation no node has
    (void)shmds_graph_check(g);
    std::uint64_t a = 0, b = 0;
    expect_code(shmds_graph_add_node(g, 7, &a), {0, -ENOSPC}, "shmds_graph_add_node");
    expect_code(shmds_graph_add_node(g, 8, &b), {0, -ENOSPC}, "shmds_graph_add_node");
    if (n > 0) {
        expect_code(shmds_graph_add_edge(g, ids[0], a, 3), {0, -ENOENT, -EEXIST, -ENOSPC},
                    "shmds_graph_add_edge");
        expect_code(shmds_graph_set_node_data(g, ids[0], -1), {0, -ENOENT},
                    "shmds_graph_set_node_data");
        expect_code(shmds_graph_remove_edge(g, ids[0], ids[n - 1]), {0, -ENOENT},
                    "shmds_graph_remove_edge");
    }
    expect_code(shmds_graph_add_edge(g, a, b, 5), {0, -ENOENT, -EEXIST, -ENOSPC},
                "shmds_graph_add_edge");
    expect_code(shmds_graph_set_edge_weight(g, a, b, 6), {0, -ENOENT},
                "shmds_graph_set_edge_weight");
    if (n > 1)
        expect_code(shmds_graph_remove_node(g, ids[1]), {0, -ENOENT}, "shmds_graph_remove_node");
    expect_code(shmds_graph_remove_node(g, a), {0, -ENOENT}, "shmds_graph_remove_node");
    (void)shmds_graph_check(g);
    std::uint64_t removed = 0;
    expect_code(shmds_graph_clear(g, &removed), {0}, "shmds_graph_clear");
}

}  // namespace

void fuzz_graph(InputSegment &in) {
    shmds_options_t opts = in.options();
    shmds_graph_t *g = nullptr;
    if (shmds_graph_open(&opts, &g) != 0) return;
    in.opened();
    exercise(g, in);
    shmds_graph_close(g);
}

}  // namespace shmds_fuzz
