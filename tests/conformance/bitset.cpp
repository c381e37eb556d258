// The bit set in the conformance registry: one entry (a bit set has no variants).
#include "structure.hpp"

#include <shmds/bitset.h>

#include <cerrno>
#include <cstddef>

namespace shmds::conformance {
namespace {

using B = shmds_bitset_t;

// The proof of sharing: a bit set through one handle, seen through another.
constexpr std::uint64_t kProbeBit = 77;

int set_probe(Handle h) {
    const int r = shmds_bitset_set(as<B>(h), kProbeBit);
    return r < 0 ? r : 0;  // the old bit is not a failure
}

int read_probe(Handle h) {
    const int r = shmds_bitset_test(as<B>(h), kProbeBit);
    if (r < 0) return r;
    return r == 1 ? 0 : 1;
}

std::vector<Structure> entries() {
    Structure s;
    s.family = "resource";
    s.name = "resource_bitset";
    s.type_name = "bitset";
    s.variant_name = "";
    s.create = [](const shmds_options_t *o, Handle *out) {
        shmds_bitset_config_t cfg = SHMDS_BITSET_CONFIG_INIT(100);
        return shmds_bitset_create(o, &cfg, reinterpret_cast<B **>(out));
    };
    s.open = [](const shmds_options_t *o, Handle *out) {
        return shmds_bitset_open(o, reinterpret_cast<B **>(out));
    };
    s.close = [](Handle h) { shmds_bitset_close(as<B>(h)); };
    s.fd = [](Handle h) { return shmds_bitset_fd(as<B>(h)); };
    s.write = set_probe;
    s.read = read_probe;
    // bitset.h: no bit verb signals the eventfd by itself.
    s.eventfds.push_back({"",
                          [](Handle h) { return shmds_bitset_eventfd(as<B>(h)); },
                          [](Handle h, int fd) { return shmds_bitset_set_eventfd(as<B>(h), fd); },
                          [](Handle h) { return shmds_bitset_notify(as<B>(h)); },
                          [](Handle h, std::uint64_t *n) {
                              return shmds_bitset_eventfd_consume(as<B>(h), n);
                          },
                          {},
                          set_probe});
    s.stats = StatsOps{[](Handle h, void *st) {
                           return shmds_bitset_stats(as<B>(h),
                                                     static_cast<shmds_bitset_stats_t *>(st));
                       },
                       offsetof(shmds_bitset_stats_t, read_only) + sizeof(std::uint32_t),
                       sizeof(shmds_bitset_stats_t)};
    return {s};
}

const Registration registered(entries);

}  // namespace
}  // namespace shmds::conformance
