// The heap in the conformance registry: one entry per value type (int64, bytes).
#include "structure.hpp"

#include <shmds/heap.h>

#include <cerrno>
#include <cstring>

namespace shmds::conformance {
namespace {

using H = shmds_heap_t;

constexpr std::int64_t kProbePriority = -7;

int write_item(Handle h, int type) {
    if (type == SHMDS_TYPE_BYTES)
        return shmds_heap_push_bytes(as<H>(h), kProbePriority, kProbeBytes, sizeof kProbeBytes,
                                     SHMDS_NOWAIT);
    return shmds_heap_push_int(as<H>(h), kProbePriority, kProbeValue, SHMDS_NOWAIT);
}

// Peek, so that a read in another process leaves the item for the next one.
int read_item(Handle h, int type) {
    std::int64_t prio = 0;
    if (type == SHMDS_TYPE_BYTES) {
        char buf[64];
        std::size_t len = 0;
        if (int r = shmds_heap_peek_bytes(as<H>(h), &prio, buf, sizeof buf, &len)) return r;
        return prio == kProbePriority && len == sizeof kProbeBytes &&
                       std::memcmp(buf, kProbeBytes, len) == 0
                   ? 0
                   : 1;
    }
    std::int64_t v = 0;
    if (int r = shmds_heap_peek_int(as<H>(h), &prio, &v)) return r;
    return prio == kProbePriority && v == kProbeValue ? 0 : 1;
}

Structure entry(int type) {
    Structure s;
    s.family = "graph_heap";
    s.name = std::string("graph_heap_heap_") + shmds_type_name(type);
    s.type_name = "heap";
    s.variant_name = shmds_type_name(type);
    s.create = [type](const shmds_options_t *o, Handle *out) {
        shmds_heap_config_t cfg = SHMDS_HEAP_CONFIG_INIT(type, 8);
        if (type == SHMDS_TYPE_BYTES) cfg.max_len = 64;
        return shmds_heap_create(o, &cfg, reinterpret_cast<H **>(out));
    };
    s.open = [type](const shmds_options_t *o, Handle *out) {
        return shmds_heap_open(o, type, reinterpret_cast<H **>(out));
    };
    s.close = [](Handle h) { shmds_heap_close(as<H>(h)); };
    s.fd = [](Handle h) { return shmds_heap_fd(as<H>(h)); };
    s.write = [type](Handle h) { return write_item(h, type); };
    s.read = [type](Handle h) { return read_item(h, type); };
    // heap.h: pushes never signal the eventfd by themselves.
    s.eventfds.push_back({"",
                          [](Handle h) { return shmds_heap_eventfd(as<H>(h)); },
                          [](Handle h, int fd) { return shmds_heap_set_eventfd(as<H>(h), fd); },
                          [](Handle h) { return shmds_heap_notify(as<H>(h)); },
                          [](Handle h, std::uint64_t *n) {
                              return shmds_heap_eventfd_consume(as<H>(h), n);
                          },
                          {},
                          [type](Handle h) { return write_item(h, type); }});
    s.stats = StatsOps{[](Handle h, void *st) {
                           return shmds_heap_stats(as<H>(h),
                                                   static_cast<shmds_heap_stats_t *>(st));
                       },
                       offsetof(shmds_heap_stats_t, segment_bytes) + sizeof(std::uint64_t),
                       sizeof(shmds_heap_stats_t)};
    return s;
}

std::vector<Structure> entries() { return {entry(SHMDS_TYPE_INT64), entry(SHMDS_TYPE_BYTES)}; }

const Registration registered(entries);

}  // namespace
}  // namespace shmds::conformance
