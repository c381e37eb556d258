// The hash map in the conformance registry: one entry per key/value shape (and a narrow
// integer pair, so that maps of the same shapes but other types refuse each other), an
// evicting map and a TTL map (each of a pair no other entry uses, since the map's flags
// are not part of its type: a map opens whatever its flags).
#include "structure.hpp"

#include <cerrno>
#include <cstring>

namespace shmds::conformance {
namespace {

using M = shmds_hashmap_t;
constexpr char kProbeKey[] = "conformance-probe-key";  // long enough for the arena

int write_item(Handle h, int key_type, int value_type) {
    M *m = as<M>(h);
    const bool bk = key_type == SHMDS_TYPE_BYTES, bv = value_type == SHMDS_TYPE_BYTES;
    if (bk && bv) return shmds_hashmap_put_bb(m, kProbeKey, sizeof kProbeKey, kProbeBytes, sizeof kProbeBytes);
    if (bk) return shmds_hashmap_put_bi(m, kProbeKey, sizeof kProbeKey, kProbeValue);
    if (bv) return shmds_hashmap_put_ib(m, kProbeValue, kProbeBytes, sizeof kProbeBytes);
    return shmds_hashmap_put_ii(m, kProbeValue, kProbeValue);
}

int read_item(Handle h, int key_type, int value_type) {
    M *m = as<M>(h);
    const bool bk = key_type == SHMDS_TYPE_BYTES, bv = value_type == SHMDS_TYPE_BYTES;
    if (bv) {
        char buf[sizeof kProbeBytes + 8] = {};
        std::size_t len = 0;
        const int r = bk ? shmds_hashmap_get_bb(m, kProbeKey, sizeof kProbeKey, buf, sizeof buf, &len)
                         : shmds_hashmap_get_ib(m, kProbeValue, buf, sizeof buf, &len);
        if (r == -ENOENT) return 1;
        if (r) return r;
        return len == sizeof kProbeBytes && std::memcmp(buf, kProbeBytes, len) == 0 ? 0 : 1;
    }
    std::int64_t v = 0;
    const int r = bk ? shmds_hashmap_get_bi(m, kProbeKey, sizeof kProbeKey, &v)
                     : shmds_hashmap_get_ii(m, kProbeValue, &v);
    if (r == -ENOENT) return 1;
    if (r) return r;
    return v == kProbeValue ? 0 : 1;
}

// The evicting map: max_entries 16, and a write puts 17 other keys before the probe,
// so the read (another handle, maybe another process) sees the probe and the eviction.
constexpr std::uint64_t kEvictMax = 16;

int write_evicting(Handle h) {
    M *m = as<M>(h);
    const char filler[] = "filler";
    for (std::int64_t k = 1; k <= std::int64_t(kEvictMax) + 1; ++k)
        if (int r = shmds_hashmap_put_ib(m, 1000 + k, filler, sizeof filler)) return r;
    return shmds_hashmap_put_ib(m, kProbeValue, kProbeBytes, sizeof kProbeBytes);
}

int read_evicting(Handle h) {
    M *m = as<M>(h);
    if (int r = read_item(h, SHMDS_TYPE_INT32, SHMDS_TYPE_BYTES)) return r;
    shmds_hashmap_stats_t st{};
    st.struct_size = sizeof st;
    if (int r = shmds_hashmap_stats(m, &st)) return r;
    return st.evictions >= 1 && st.size <= kEvictMax ? 0 : 1;
}

// The TTL map: a default TTL of an hour, and the probe written with a per-key TTL of two
// hours, which the read must see (the per-key expiry is in the shared entry).
constexpr std::uint64_t kDefaultTtlMs = 3600000, kProbeTtlMs = 7200000;

int write_ttl(Handle h) {
    return shmds_hashmap_put_ttl_if(as<M>(h), kProbeValue, double(kProbeValue), kProbeTtlMs);
}

int read_ttl(Handle h) {
    double v = 0;
    std::uint64_t ttl = 0;
    const int r = shmds_hashmap_get_with_ttl_if(as<M>(h), kProbeValue, &v, &ttl);
    if (r == -ENOENT) return 1;
    if (r) return r;
    return v == double(kProbeValue) && ttl > kDefaultTtlMs && ttl <= kProbeTtlMs ? 0 : 1;
}

Structure entry(int key_type, int value_type, std::uint64_t flags = 0,
                std::uint64_t default_ttl_ms = 0) {
    const std::string variant = std::string(shmds_type_name(key_type)) + "->" +
                                shmds_type_name(value_type);
    Structure s;
    s.family = "hashmap";
    s.name = std::string("hashmap_") + shmds_type_name(key_type) + "_" + shmds_type_name(value_type) +
             (flags & SHMDS_HASHMAP_EVICT ? "_evict" : "") + (default_ttl_ms ? "_ttl" : "");
    s.type_name = "hashmap";
    s.variant_name = variant;
    s.create = [=](const shmds_options_t *o, Handle *out) {
        shmds_hashmap_config_t cfg = SHMDS_HASHMAP_CONFIG_INIT(key_type, value_type, 16);
        cfg.flags = flags;
        cfg.default_ttl_ms = default_ttl_ms;
        return shmds_hashmap_create(o, &cfg, reinterpret_cast<M **>(out));
    };
    s.open = [=](const shmds_options_t *o, Handle *out) {
        return shmds_hashmap_open(o, key_type, value_type, reinterpret_cast<M **>(out));
    };
    s.close = [](Handle h) { shmds_hashmap_close(as<M>(h)); };
    s.fd = [](Handle h) { return shmds_hashmap_fd(as<M>(h)); };
    if (flags & SHMDS_HASHMAP_EVICT) {
        s.write = write_evicting;
        s.read = read_evicting;
    } else if (default_ttl_ms) {
        s.write = write_ttl;
        s.read = read_ttl;
    } else {
        s.write = [=](Handle h) { return write_item(h, key_type, value_type); };
        s.read = [=](Handle h) { return read_item(h, key_type, value_type); };
    }
    // hashmap.h: no verb signals the eventfd by itself; only notify does.
    s.eventfds.push_back({"",
                          [](Handle h) { return shmds_hashmap_eventfd(as<M>(h)); },
                          [](Handle h, int fd) { return shmds_hashmap_set_eventfd(as<M>(h), fd); },
                          [](Handle h) { return shmds_hashmap_notify(as<M>(h)); },
                          [](Handle h, std::uint64_t *n) {
                              return shmds_hashmap_eventfd_consume(as<M>(h), n);
                          },
                          {},
                          [](Handle h) {
                              std::uint64_t removed = 0;
                              return shmds_hashmap_clear(as<M>(h), &removed);
                          }});
    s.stats = StatsOps{[](Handle h, void *st) {
                           return shmds_hashmap_stats(as<M>(h), static_cast<shmds_hashmap_stats_t *>(st));
                       },
                       offsetof(shmds_hashmap_stats_t, segment_bytes) + sizeof(std::uint64_t),
                       sizeof(shmds_hashmap_stats_t)};
    return s;
}

std::vector<Structure> entries() {
    return {entry(SHMDS_TYPE_INT64, SHMDS_TYPE_INT64), entry(SHMDS_TYPE_INT16, SHMDS_TYPE_INT32),
            entry(SHMDS_TYPE_INT64, SHMDS_TYPE_BYTES), entry(SHMDS_TYPE_BYTES, SHMDS_TYPE_INT64),
            entry(SHMDS_TYPE_BYTES, SHMDS_TYPE_BYTES),
            entry(SHMDS_TYPE_INT32, SHMDS_TYPE_BYTES, SHMDS_HASHMAP_EVICT),
            entry(SHMDS_TYPE_INT64, SHMDS_TYPE_F64, 0, kDefaultTtlMs)};
}

const Registration registered(entries);

}  // namespace
}  // namespace shmds::conformance
