// The graph in the conformance registry: one entry (a graph has no variants).
#include "structure.hpp"

#include <shmds/graph.h>

#include <cerrno>
#include <cstddef>

namespace shmds::conformance {
namespace {

using G = shmds_graph_t;

// The proof of sharing: a node whose data is the probe value, added through one handle,
// then found through another by walking the live nodes (ids are not known in advance).
int add_probe(Handle h) {
    std::uint64_t id = 0;
    return shmds_graph_add_node(as<G>(h), kProbeValue, &id);
}

int find_probe(Handle h) {
    std::uint64_t id = SHMDS_GRAPH_BEGIN;
    for (;;) {
        const int r = shmds_graph_next_node(as<G>(h), id, &id);
        if (r == -ENOENT) return 1;  // walked every node: none carries the probe
        if (r != 0) return r;
        std::int64_t data = 0;
        const int d = shmds_graph_node_data(as<G>(h), id, &data);
        if (d == -ENOENT) continue;  // removed meanwhile
        if (d != 0) return d;
        if (data == kProbeValue) return 0;
    }
}

std::vector<Structure> entries() {
    Structure s;
    s.family = "graph_heap";
    s.name = "graph_heap_graph";
    s.type_name = "graph";
    s.variant_name = "";
    s.create = [](const shmds_options_t *o, Handle *out) {
        shmds_graph_config_t cfg = SHMDS_GRAPH_CONFIG_INIT(16, 32);
        return shmds_graph_create(o, &cfg, reinterpret_cast<G **>(out));
    };
    s.open = [](const shmds_options_t *o, Handle *out) {
        return shmds_graph_open(o, reinterpret_cast<G **>(out));
    };
    s.close = [](Handle h) { shmds_graph_close(as<G>(h)); };
    s.fd = [](Handle h) { return shmds_graph_fd(as<G>(h)); };
    s.write = add_probe;
    s.read = find_probe;
    // graph.h: changes never signal the eventfd by themselves.
    s.eventfds.push_back({"",
                          [](Handle h) { return shmds_graph_eventfd(as<G>(h)); },
                          [](Handle h, int fd) { return shmds_graph_set_eventfd(as<G>(h), fd); },
                          [](Handle h) { return shmds_graph_notify(as<G>(h)); },
                          [](Handle h, std::uint64_t *n) {
                              return shmds_graph_eventfd_consume(as<G>(h), n);
                          },
                          {},
                          add_probe});
    s.stats = StatsOps{[](Handle h, void *st) {
                           return shmds_graph_stats(as<G>(h),
                                                    static_cast<shmds_graph_stats_t *>(st));
                       },
                       offsetof(shmds_graph_stats_t, segment_bytes) + sizeof(std::uint64_t),
                       sizeof(shmds_graph_stats_t)};
    return {s};
}

const Registration registered(entries);

}  // namespace
}  // namespace shmds::conformance
