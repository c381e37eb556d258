// The queue in the conformance registry: one entry per variant.
#include "structure.hpp"

#include <cerrno>
#include <cstring>

namespace shmds::conformance {
namespace {

using Q = shmds_queue_t;

int write_item(Handle h, int variant) {
    if (variant == SHMDS_QUEUE_BYTES)
        return shmds_queue_push_bytes(as<Q>(h), kProbeBytes, sizeof kProbeBytes, SHMDS_NOWAIT);
    return shmds_queue_push_int(as<Q>(h), kProbeValue, SHMDS_NOWAIT);
}

int read_item(Handle h, int variant) {
    if (variant == SHMDS_QUEUE_BYTES) {
        char buf[sizeof kProbeBytes + 8] = {};
        std::size_t len = 0;
        if (int r = shmds_queue_pop_bytes(as<Q>(h), buf, sizeof buf, &len, SHMDS_NOWAIT)) return r;
        return len == sizeof kProbeBytes && std::memcmp(buf, kProbeBytes, len) == 0 ? 0 : 1;
    }
    std::int64_t v = 0;
    if (int r = shmds_queue_pop_int(as<Q>(h), &v, SHMDS_NOWAIT)) return r;
    return v == kProbeValue ? 0 : 1;
}

Structure entry(int variant, const char *variant_name) {
    Structure s;
    s.family = "queue";
    s.name = std::string("queue_") + variant_name;
    s.type_name = "queue";
    s.variant_name = variant_name;
    s.create = [variant](const shmds_options_t *o, Handle *out) {
        shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(variant, 8);
        return shmds_queue_create(o, &cfg, reinterpret_cast<Q **>(out));
    };
    s.open = [variant](const shmds_options_t *o, Handle *out) {
        return shmds_queue_open(o, variant, reinterpret_cast<Q **>(out));
    };
    s.close = [](Handle h) { shmds_queue_close(as<Q>(h)); };
    s.fd = [](Handle h) { return shmds_queue_fd(as<Q>(h)); };
    s.write = [variant](Handle h) { return write_item(h, variant); };
    s.read = [variant](Handle h) { return read_item(h, variant); };
    // queue.h: pushing never signals the eventfd by itself.
    s.eventfds.push_back({"",
                          [](Handle h) { return shmds_queue_eventfd(as<Q>(h)); },
                          [](Handle h, int fd) { return shmds_queue_set_eventfd(as<Q>(h), fd); },
                          [](Handle h) { return shmds_queue_notify(as<Q>(h)); },
                          [](Handle h, std::uint64_t *n) {
                              return shmds_queue_eventfd_consume(as<Q>(h), n);
                          },
                          {}});
    s.stats = StatsOps{[](Handle h, void *st) {
                           return shmds_queue_stats(as<Q>(h), static_cast<shmds_queue_stats_t *>(st));
                       },
                       offsetof(shmds_queue_stats_t, segment_bytes) + sizeof(std::uint64_t),
                       sizeof(shmds_queue_stats_t)};
    return s;
}

std::vector<Structure> entries() {
    return {entry(SHMDS_QUEUE_INT16, "int16"), entry(SHMDS_QUEUE_INT32, "int32"),
            entry(SHMDS_QUEUE_INT64, "int64"), entry(SHMDS_QUEUE_BYTES, "bytes")};
}

const Registration registered(entries);

}  // namespace
}  // namespace shmds::conformance
