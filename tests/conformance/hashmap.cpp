// The hash map in the conformance registry: one entry per key/value shape (and a narrow
// integer pair, so that maps of the same shapes but other types refuse each other).
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

Structure entry(int key_type, int value_type) {
    const std::string variant = std::string(shmds_type_name(key_type)) + "->" +
                                shmds_type_name(value_type);
    Structure s;
    s.family = "hashmap";
    s.name = std::string("hashmap_") + shmds_type_name(key_type) + "_" + shmds_type_name(value_type);
    s.type_name = "hashmap";
    s.variant_name = variant;
    s.create = [=](const shmds_options_t *o, Handle *out) {
        shmds_hashmap_config_t cfg = SHMDS_HASHMAP_CONFIG_INIT(key_type, value_type, 16);
        return shmds_hashmap_create(o, &cfg, reinterpret_cast<M **>(out));
    };
    s.open = [=](const shmds_options_t *o, Handle *out) {
        return shmds_hashmap_open(o, key_type, value_type, reinterpret_cast<M **>(out));
    };
    s.close = [](Handle h) { shmds_hashmap_close(as<M>(h)); };
    s.fd = [](Handle h) { return shmds_hashmap_fd(as<M>(h)); };
    s.write = [=](Handle h) { return write_item(h, key_type, value_type); };
    s.read = [=](Handle h) { return read_item(h, key_type, value_type); };
    // No eventfd yet (docs/hashmap-progress.md).
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
            entry(SHMDS_TYPE_BYTES, SHMDS_TYPE_BYTES)};
}

const Registration registered(entries);

}  // namespace
}  // namespace shmds::conformance
