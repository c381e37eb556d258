// The ring buffer in the conformance registry: one entry per element type.
#include "structure.hpp"

#include <shmds/ringbuffer.h>

#include <cerrno>
#include <cstring>

namespace shmds::conformance {
namespace {

using R = shmds_ringbuffer_t;

// kProbeValue does not fit the 8-bit types; this fits every type.
constexpr std::int64_t kRingProbe = 123;

int write_item(Handle h, int type) {
    if (type == SHMDS_TYPE_F64) return shmds_ringbuffer_write_f64(as<R>(h), 0.5, nullptr);
    return shmds_ringbuffer_write_int(as<R>(h), kRingProbe, nullptr);
}

int read_item(Handle h, int type) {
    if (type == SHMDS_TYPE_F64) {
        double v = 0;
        if (int r = shmds_ringbuffer_latest_f64(as<R>(h), 0, &v, nullptr)) return r;
        return v == 0.5 ? 0 : 1;
    }
    std::int64_t v = 0;
    if (int r = shmds_ringbuffer_latest_int(as<R>(h), 0, &v, nullptr)) return r;
    return v == kRingProbe ? 0 : 1;
}

Structure entry(int type) {
    Structure s;
    s.family = "sequential";
    s.name = std::string("sequential_ringbuffer_") + shmds_type_name(type);
    s.type_name = "ringbuffer";
    s.variant_name = shmds_type_name(type);
    s.create = [type](const shmds_options_t *o, Handle *out) {
        shmds_ringbuffer_config_t cfg = SHMDS_RINGBUFFER_CONFIG_INIT(type, 8);
        return shmds_ringbuffer_create(o, &cfg, reinterpret_cast<R **>(out));
    };
    s.open = [type](const shmds_options_t *o, Handle *out) {
        return shmds_ringbuffer_open(o, type, reinterpret_cast<R **>(out));
    };
    s.close = [](Handle h) { shmds_ringbuffer_close(as<R>(h)); };
    s.fd = [](Handle h) { return shmds_ringbuffer_fd(as<R>(h)); };
    s.write = [type](Handle h) { return write_item(h, type); };
    s.read = [type](Handle h) { return read_item(h, type); };
    // ringbuffer.h: writes never signal the eventfd by themselves.
    s.eventfds.push_back({"",
                          [](Handle h) { return shmds_ringbuffer_eventfd(as<R>(h)); },
                          [](Handle h, int fd) { return shmds_ringbuffer_set_eventfd(as<R>(h), fd); },
                          [](Handle h) { return shmds_ringbuffer_notify(as<R>(h)); },
                          [](Handle h, std::uint64_t *n) {
                              return shmds_ringbuffer_eventfd_consume(as<R>(h), n);
                          },
                          {}});
    s.stats = StatsOps{[](Handle h, void *st) {
                           return shmds_ringbuffer_stats(
                               as<R>(h), static_cast<shmds_ringbuffer_stats_t *>(st));
                       },
                       offsetof(shmds_ringbuffer_stats_t, waiters) + sizeof(std::uint32_t),
                       sizeof(shmds_ringbuffer_stats_t)};
    return s;
}

std::vector<Structure> entries() {
    std::vector<Structure> out;
    for (int t : {SHMDS_TYPE_INT8, SHMDS_TYPE_INT16, SHMDS_TYPE_INT32, SHMDS_TYPE_INT64,
                  SHMDS_TYPE_UINT8, SHMDS_TYPE_UINT16, SHMDS_TYPE_UINT32, SHMDS_TYPE_UINT64,
                  SHMDS_TYPE_F64})
        out.push_back(entry(t));
    return out;
}

const Registration registered(entries);

}  // namespace
}  // namespace shmds::conformance
