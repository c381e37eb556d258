// The buffer in the conformance registry: one entry per element type.
#include "structure.hpp"

#include <shmds/buffer.h>

#include <cerrno>
#include <cstring>

namespace shmds::conformance {
namespace {

using B = shmds_buffer_t;

constexpr std::int64_t kProbe = 123;  // fits every integer type
constexpr std::uint64_t kIndex = 5;

int write_item(Handle h, int type) {
    if (type == SHMDS_TYPE_BYTES) return shmds_buffer_set_bytes(as<B>(h), kIndex, "probe", 5, -1);
    if (type == SHMDS_TYPE_F32 || type == SHMDS_TYPE_F64)
        return shmds_buffer_set_f64(as<B>(h), kIndex, 0.5);
    return shmds_buffer_set_int(as<B>(h), kIndex, kProbe);
}

int read_item(Handle h, int type) {
    if (type == SHMDS_TYPE_BYTES) {
        char out[8];
        std::size_t len = 0;
        if (int r = shmds_buffer_get_bytes(as<B>(h), kIndex, out, sizeof out, &len, -1)) return r;
        return len == 5 && std::memcmp(out, "probe", 5) == 0 ? 0 : 1;
    }
    if (type == SHMDS_TYPE_F32 || type == SHMDS_TYPE_F64) {
        double v = 0;
        if (int r = shmds_buffer_get_f64(as<B>(h), kIndex, &v)) return r;
        return v == 0.5 ? 0 : 1;
    }
    std::int64_t v = 0;
    if (int r = shmds_buffer_get_int(as<B>(h), kIndex, &v)) return r;
    return v == kProbe ? 0 : 1;
}

Structure entry(int type) {
    Structure s;
    s.family = "resource";
    s.name = std::string("resource_buffer_") + shmds_type_name(type);
    s.type_name = "buffer";
    s.variant_name = shmds_type_name(type);
    s.create = [type](const shmds_options_t *o, Handle *out) {
        shmds_buffer_config_t cfg =
            SHMDS_BUFFER_CONFIG_INIT(type, 16, type == SHMDS_TYPE_BYTES ? 8 : 0);
        return shmds_buffer_create(o, &cfg, reinterpret_cast<B **>(out));
    };
    s.open = [type](const shmds_options_t *o, Handle *out) {
        return shmds_buffer_open(o, type, reinterpret_cast<B **>(out));
    };
    s.close = [](Handle h) { shmds_buffer_close(as<B>(h)); };
    s.fd = [](Handle h) { return shmds_buffer_fd(as<B>(h)); };
    s.write = [type](Handle h) { return write_item(h, type); };
    s.read = [type](Handle h) { return read_item(h, type); };
    // buffer.h: writes never signal the eventfd by themselves.
    s.eventfds.push_back({"",
                          [](Handle h) { return shmds_buffer_eventfd(as<B>(h)); },
                          [](Handle h, int fd) { return shmds_buffer_set_eventfd(as<B>(h), fd); },
                          [](Handle h) { return shmds_buffer_notify(as<B>(h)); },
                          [](Handle h, std::uint64_t *n) {
                              return shmds_buffer_eventfd_consume(as<B>(h), n);
                          },
                          {}});
    s.stats = StatsOps{[](Handle h, void *st) {
                           return shmds_buffer_stats(as<B>(h),
                                                     static_cast<shmds_buffer_stats_t *>(st));
                       },
                       offsetof(shmds_buffer_stats_t, waiters) + sizeof(std::uint32_t),
                       sizeof(shmds_buffer_stats_t)};
    return s;
}

std::vector<Structure> entries() {
    std::vector<Structure> out;
    for (int t : {SHMDS_TYPE_INT8, SHMDS_TYPE_INT16, SHMDS_TYPE_INT32, SHMDS_TYPE_INT64,
                  SHMDS_TYPE_UINT8, SHMDS_TYPE_UINT16, SHMDS_TYPE_UINT32, SHMDS_TYPE_UINT64,
                  SHMDS_TYPE_F32, SHMDS_TYPE_F64, SHMDS_TYPE_BYTES})
        out.push_back(entry(t));
    return out;
}

const Registration registered(entries);

}  // namespace
}  // namespace shmds::conformance
