// The pool in the conformance registry: one entry per variant (raw, every number type,
// bytes). write() allocates a slot and stores the probe in it; read() looks through the
// allocated slots of another handle for one holding the probe, so it also proves the
// owner words are shared (a slot allocated by the writer is seen as allocated).
#include "structure.hpp"

#include <shmds/pool.h>

#include <cerrno>
#include <cstring>
#include <initializer_list>

namespace shmds::conformance {
namespace {

using P = shmds_pool_t;
constexpr double kProbeDouble = 0.15625;  // exact in f32 too
constexpr std::int64_t kProbeInt = 123;   // fits int8 (kProbeValue does not)
// Above INT64_MAX: the uint64 entry proves the _uint verbs carry the full range.
constexpr std::uint64_t kProbeUint = (std::uint64_t{1} << 63) + 12345;
constexpr std::uint64_t kCapacity = 8;
constexpr std::uint64_t kRawSize = 40;  // kProbeBytes fits, with zeroed room after it

const char *name_of(int variant) {
    return variant == SHMDS_POOL_RAW ? "raw" : shmds_type_name(variant);
}

bool is_float(int v) { return v == SHMDS_TYPE_F32 || v == SHMDS_TYPE_F64; }

int store(P *p, int variant, std::uint64_t i) {
    if (variant == SHMDS_POOL_RAW) return shmds_pool_set_raw(p, i, kProbeBytes, sizeof kProbeBytes);
    if (variant == SHMDS_TYPE_BYTES)
        return shmds_pool_set_bytes(p, i, kProbeBytes, sizeof kProbeBytes);
    if (is_float(variant)) return shmds_pool_set_f64(p, i, kProbeDouble);
    if (variant == SHMDS_TYPE_UINT64) return shmds_pool_set_uint(p, i, kProbeUint);
    return shmds_pool_set_int(p, i, kProbeInt);
}

// 0 when slot i holds the probe, 1 when it holds something else, else the call's code.
int holds_probe(P *p, int variant, std::uint64_t i) {
    if (variant == SHMDS_POOL_RAW) {
        char buf[kRawSize];
        if (int r = shmds_pool_get_raw(p, i, buf, sizeof buf)) return r;
        return std::memcmp(buf, kProbeBytes, sizeof kProbeBytes) == 0 ? 0 : 1;
    }
    if (variant == SHMDS_TYPE_BYTES) {
        char buf[sizeof kProbeBytes + 8] = {};
        std::size_t len = 0;
        if (int r = shmds_pool_get_bytes(p, i, buf, sizeof buf, &len)) return r;
        return len == sizeof kProbeBytes && std::memcmp(buf, kProbeBytes, len) == 0 ? 0 : 1;
    }
    if (is_float(variant)) {
        double v = 0;
        if (int r = shmds_pool_get_f64(p, i, &v)) return r;
        return v == kProbeDouble ? 0 : 1;
    }
    if (variant == SHMDS_TYPE_UINT64) {
        std::uint64_t v = 0;
        if (int r = shmds_pool_get_uint(p, i, &v)) return r;
        return v == kProbeUint ? 0 : 1;
    }
    std::int64_t v = 0;
    if (int r = shmds_pool_get_int(p, i, &v)) return r;
    return v == kProbeInt ? 0 : 1;
}

Structure entry(int variant) {
    Structure s;
    s.family = "resource";
    s.name = std::string("resource_pool_") + name_of(variant);
    s.type_name = "pool";
    s.variant_name = name_of(variant);
    s.create = [variant](const shmds_options_t *o, Handle *out) {
        const std::uint64_t size =
            variant == SHMDS_POOL_RAW ? kRawSize : variant == SHMDS_TYPE_BYTES ? 64 : 0;
        shmds_pool_config_t cfg = SHMDS_POOL_CONFIG_INIT(variant, kCapacity, size);
        return shmds_pool_create(o, &cfg, reinterpret_cast<P **>(out));
    };
    s.open = [variant](const shmds_options_t *o, Handle *out) {
        return shmds_pool_open(o, variant, reinterpret_cast<P **>(out));
    };
    s.close = [](Handle h) { shmds_pool_close(as<P>(h)); };
    s.fd = [](Handle h) { return shmds_pool_fd(as<P>(h)); };
    s.write = [variant](Handle h) {
        std::uint64_t i = 0;
        if (int r = shmds_pool_try_alloc(as<P>(h), &i)) return r;
        return store(as<P>(h), variant, i);
    };
    s.read = [variant](Handle h) {
        std::uint64_t slots[kCapacity];
        std::size_t n = 0;
        if (int r = shmds_pool_allocated(as<P>(h), slots, kCapacity, &n)) return r;
        for (std::size_t k = 0; k < n; ++k) {
            const int r = holds_probe(as<P>(h), variant, slots[k]);
            if (r <= 0) return r;
        }
        return 1;
    };
    // pool.h: alloc and free never signal the eventfd by themselves.
    s.eventfds.push_back({"",
                          [](Handle h) { return shmds_pool_eventfd(as<P>(h)); },
                          [](Handle h, int fd) { return shmds_pool_set_eventfd(as<P>(h), fd); },
                          [](Handle h) { return shmds_pool_notify(as<P>(h)); },
                          [](Handle h, std::uint64_t *n) {
                              return shmds_pool_eventfd_consume(as<P>(h), n);
                          },
                          {},
                          // free wakes alloc sleepers but must not signal the eventfd.
                          [](Handle h) {
                              std::uint64_t i = 0;
                              if (int r = shmds_pool_try_alloc(as<P>(h), &i)) return r;
                              return shmds_pool_free(as<P>(h), i);
                          }});
    s.stats = StatsOps{[](Handle h, void *st) {
                           return shmds_pool_stats(as<P>(h),
                                                   static_cast<shmds_pool_stats_t *>(st));
                       },
                       offsetof(shmds_pool_stats_t, waiters) + sizeof(std::uint32_t),
                       sizeof(shmds_pool_stats_t)};
    return s;
}

std::vector<Structure> entries() {
    std::vector<Structure> out;
    for (int v : std::initializer_list<int>{SHMDS_POOL_RAW, SHMDS_TYPE_INT8, SHMDS_TYPE_INT16, SHMDS_TYPE_INT32,
                  SHMDS_TYPE_INT64, SHMDS_TYPE_UINT8, SHMDS_TYPE_UINT16, SHMDS_TYPE_UINT32,
                  SHMDS_TYPE_UINT64, SHMDS_TYPE_F32, SHMDS_TYPE_F64, SHMDS_TYPE_BYTES})
        out.push_back(entry(v));
    return out;
}

const Registration registered(entries);

}  // namespace
}  // namespace shmds::conformance
