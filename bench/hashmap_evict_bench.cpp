// Hash map eviction benchmarks (issue 10): what SIEVE eviction buys and costs.
//  - evict_zipf/int64: hit ratio of an evicting map (max_entries = the cache size) on a
//    Zipf(0.99) stream where every miss inserts the key, against an exact LRU of the
//    same capacity fed the same stream. Deterministic (fixed seed): the figure is a
//    ratio of hits, not a speed.
//  - evict_get/int64: uniformly random gets of 100k present int64 keys in one process,
//    on a map created with SHMDS_HASHMAP_EVICT (every hit may mark its entry) against a
//    plain map of the same keys: the price of the mark.
#include "drivers.hpp"
#include "harness.hpp"
#include "support/cache_workload.hpp"

#include <shmds/hashmap.h>

#include <memory>
#include <string>

namespace shmds::bench {

namespace {

using workload::ExactLru;
using workload::Zipf;

constexpr std::int64_t kGetKeys = 100000;

shmds_hashmap_t *new_map(std::uint64_t max_entries, bool evict) {
    shmds_hashmap_config_t c = SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_INT64, SHMDS_TYPE_INT64,
                                                         max_entries);
    c.flags = evict ? SHMDS_HASHMAP_EVICT : 0;
    shmds_hashmap_t *m = nullptr;
    if (shmds_hashmap_create(nullptr, &c, &m) != 0)
        throw Failure(std::string("shmds_hashmap_create: ") + shmds_last_error());
    return m;
}

struct MapCloser {
    void operator()(shmds_hashmap_t *m) const noexcept { shmds_hashmap_close(m); }
};

// The Zipf workload's shape: a cache of 10% of the keys.
struct ZipfShape {
    std::size_t keys, cache, requests;
};
ZipfShape zipf_shape(const RunParams &p) {
    if (p.quick) return {10000, 1000, 100000};
    return {100000, 10000, 2000000};
}

void zipf_shmds(const RunParams &p, Sample &s) {
    const ZipfShape z = zipf_shape(p);
    std::unique_ptr<shmds_hashmap_t, MapCloser> m(new_map(z.cache, true));
    Zipf zipf(z.keys, 0.99, 42);
    std::uint64_t hits = 0;
    for (std::size_t i = 0; i < z.requests; ++i) {
        const std::int64_t k = zipf.next();
        std::int64_t v;
        if (shmds_hashmap_get_ii(m.get(), k, &v) == 0) {
            ++hits;
        } else if (shmds_hashmap_put_ii(m.get(), k, k) != 0) {
            throw Failure(std::string("put on an evicting map: ") + shmds_last_error());
        }
    }
    s.add("hit_ratio", double(hits) / double(z.requests), "hits/req");
}

void zipf_lru(const RunParams &p, Sample &s) {
    const ZipfShape z = zipf_shape(p);
    ExactLru lru(z.cache);
    Zipf zipf(z.keys, 0.99, 42);
    std::uint64_t hits = 0;
    for (std::size_t i = 0; i < z.requests; ++i) hits += lru.access(zipf.next());
    s.add("hit_ratio", double(hits) / double(z.requests), "hits/req");
}

// Random gets of kGetKeys present keys, one process (the map is shared with the
// harness's forked child, as a map in shared memory is).
void random_gets(const RunParams &p, Sample &s, bool evict) {
    std::unique_ptr<shmds_hashmap_t, MapCloser> m(new_map(kGetKeys, evict));
    for (std::int64_t k = 0; k < kGetKeys; ++k)
        if (shmds_hashmap_put_ii(m.get(), k, k) != 0)
            throw Failure(std::string("put: ") + shmds_last_error());
    shmds_hashmap_t *map = m.get();
    s.note(evict ? "SHMDS_HASHMAP_EVICT, full" : "plain map");
    run_pairs(p, s, [map, x = std::uint64_t{0x9e3779b97f4a7c15}]() mutable {
        x ^= x << 13;  // xorshift64: no division on the measured path beyond the modulo
        x ^= x >> 7;
        x ^= x << 17;
        const std::int64_t k = std::int64_t(x % std::uint64_t(kGetKeys));
        std::int64_t v;
        if (shmds_hashmap_get_ii(map, k, &v) != 0 || v != k) throw Failure("a get missed");
        return std::uint64_t{1};
    });
}

void register_hashmap_evict() {
    add_case({"evict_zipf/int64", "shmds-sieve", "exact-lru", zipf_shmds, false, false, 1});
    add_case({"evict_zipf/int64", "exact-lru", "", zipf_lru, false, false, 1});
    add_case({"evict_get/int64", "shmds-evict", "shmds-plain",
              [](const RunParams &p, Sample &s) { random_gets(p, s, true); }});
    add_case({"evict_get/int64", "shmds-plain", "",
              [](const RunParams &p, Sample &s) { random_gets(p, s, false); }});
    add_target({"evict_zipf/int64", "shmds-sieve", "hit_ratio", "exact-lru", true, 1.0,
                "an evicting map's Zipf(0.99) hit ratio is no worse than an exact LRU's"});
    add_target({"evict_get/int64", "shmds-evict", "rate", "shmds-plain", true, 1.0 / 1.2,
                "an evicting map's random get is within 1.2x of a plain map's"});
}

}  // namespace

SHMDS_BENCH_REGISTER(register_hashmap_evict);

}  // namespace shmds::bench
