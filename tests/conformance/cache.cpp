// The cache in the conformance registry: one entry (byte keys and values, no variants).
#include "structure.hpp"

#include <cerrno>
#include <cstring>

namespace shmds::conformance {
namespace {

using C = shmds_cache_t;
constexpr char kProbeKey[] = "conformance-probe-key";

std::vector<Structure> entries() {
    Structure s;
    s.family = "cache";
    s.name = "cache_bytes";
    s.type_name = "cache";
    s.variant_name = "";
    s.create = [](const shmds_options_t *o, Handle *out) {
        shmds_cache_config_t cfg = SHMDS_CACHE_CONFIG_INIT;
        cfg.page_size = 4096;
        cfg.num_pages = 4;
        return shmds_cache_create(o, &cfg, reinterpret_cast<C **>(out));
    };
    s.open = [](const shmds_options_t *o, Handle *out) {
        return shmds_cache_open(o, reinterpret_cast<C **>(out));
    };
    s.close = [](Handle h) { shmds_cache_close(as<C>(h)); };
    s.fd = [](Handle h) { return shmds_cache_fd(as<C>(h)); };
    s.write = [](Handle h) {
        return shmds_cache_set(as<C>(h), kProbeKey, sizeof kProbeKey, kProbeBytes,
                               sizeof kProbeBytes, SHMDS_CACHE_EXPIRE_NEVER);
    };
    s.read = [](Handle h) {
        char buf[sizeof kProbeBytes + 8] = {};
        std::size_t len = 0;
        const int r = shmds_cache_get(as<C>(h), kProbeKey, sizeof kProbeKey, buf, sizeof buf, &len);
        if (r == -ENOENT) return 1;
        if (r) return r;
        return len == sizeof kProbeBytes && std::memcmp(buf, kProbeBytes, len) == 0 ? 0 : 1;
    };
    // No eventfd: no cache verb blocks on anything but a page lock.
    s.stats = StatsOps{[](Handle h, void *st) {
                           return shmds_cache_stats(as<C>(h), static_cast<shmds_cache_stats_t *>(st), 0);
                       },
                       offsetof(shmds_cache_stats_t, segment_bytes) + sizeof(std::uint64_t),
                       sizeof(shmds_cache_stats_t)};
    return {s};
}

const Registration registered(entries);

}  // namespace
}  // namespace shmds::conformance
