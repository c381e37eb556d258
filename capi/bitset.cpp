// The exported bit set functions: check arguments, turn the handle into the engine. No
// bit logic lives here. The per-bit verbs are one inline engine call after a NULL check
// (the engine's own range/frozen check refuses out of line), so a set or test costs
// little beyond its atomic instruction.
#include "bitset/bitset.hpp"
#include "lifecycle.hpp"

#include <shmds/bitset.h>

using shmds::bitset::Bitset;
using shmds::core::fail;
namespace capi = shmds::capi;
namespace bs = shmds::bitset;

namespace {

Bitset *engine(shmds_bitset_t *h) noexcept { return capi::engine_of<Bitset>(h); }
const Bitset *engine(const shmds_bitset_t *h) noexcept { return capi::engine_of<Bitset>(h); }
constexpr char kNoun[] = "bit set";

#define CHECK_HANDLE(h, fn) CAPI_REQUIRE(h, fn, kNoun)

constexpr std::size_t kConfigV1Size = SHMDS_V1_SIZE(shmds_bitset_config_t, nbits);
constexpr std::size_t kStatsV1Size = SHMDS_V1_SIZE(shmds_bitset_stats_t, read_only);

int first_of(const shmds_bitset_t *h, bool set, std::uint64_t from, std::uint64_t *bit,
             const char *fn) noexcept {
    CHECK_HANDLE(h, fn);
    CAPI_REQUIRE(bit, fn, "bit");
    return set ? engine(h)->first_set(from, bit) : engine(h)->first_clear(from, bit);
}

}  // namespace

extern "C" {

SHMDS_API int shmds_bitset_config_init(shmds_bitset_config_t *out, size_t struct_size,
                                       uint64_t nbits) {
    const shmds_bitset_config_t defaults = SHMDS_BITSET_CONFIG_INIT(nbits);
    return capi::init_versioned("shmds_bitset_config_init", out, struct_size, defaults,
                                kConfigV1Size);
}

SHMDS_API int shmds_bitset_create(const shmds_options_t *opts, const shmds_bitset_config_t *cfg_in,
                                  shmds_bitset_t **out) {
    static const char fn[] = "shmds_bitset_create";
    shmds_bitset_config_t cfg = SHMDS_BITSET_CONFIG_INIT(0);
    if (int r = capi::read_versioned(fn, "cfg", cfg_in, cfg, kConfigV1Size)) return r;
    const bs::Config c{cfg.nbits};
    return capi::make_handle<Bitset>(fn, opts, out,
                                     [&](auto *o, auto &e) { return Bitset::create(o, c, e); });
}

SHMDS_API int shmds_bitset_open(const shmds_options_t *opts, shmds_bitset_t **out) {
    return capi::make_handle<Bitset>("shmds_bitset_open", opts, out,
                                     [&](auto *o, auto &e) { return Bitset::open(o, e); });
}

SHMDS_API int shmds_bitset_open_read_only(const shmds_options_t *opts, shmds_bitset_t **out) {
    return capi::make_handle<Bitset>("shmds_bitset_open_read_only", opts, out, [&](auto *o, auto &e) {
        return Bitset::open_read_only(o, e);
    });
}

SHMDS_API void shmds_bitset_close(shmds_bitset_t *h) { capi::close_handle<Bitset>(h); }

SHMDS_API int shmds_bitset_fd(const shmds_bitset_t *h) {
    return capi::segment_fd<Bitset>(h, "shmds_bitset_fd", kNoun);
}

SHMDS_API int shmds_bitset_sync(const shmds_bitset_t *h) {
    return capi::segment_sync<Bitset>(h, "shmds_bitset_sync", kNoun);
}

SHMDS_API uint64_t shmds_bitset_size(const shmds_bitset_t *h) {
    return h ? engine(h)->nbits() : 0;
}

SHMDS_API int shmds_bitset_set(shmds_bitset_t *h, uint64_t bit) {
    if (SHMDS_UNLIKELY(!h)) return capi::null_arg("shmds_bitset_set", kNoun);
    return engine(h)->set(bit);
}
SHMDS_API int shmds_bitset_clear(shmds_bitset_t *h, uint64_t bit) {
    if (SHMDS_UNLIKELY(!h)) return capi::null_arg("shmds_bitset_clear", kNoun);
    return engine(h)->clear(bit);
}
SHMDS_API int shmds_bitset_toggle(shmds_bitset_t *h, uint64_t bit) {
    if (SHMDS_UNLIKELY(!h)) return capi::null_arg("shmds_bitset_toggle", kNoun);
    return engine(h)->toggle(bit);
}
SHMDS_API int shmds_bitset_test(const shmds_bitset_t *h, uint64_t bit) {
    if (SHMDS_UNLIKELY(!h)) return capi::null_arg("shmds_bitset_test", kNoun);
    return engine(h)->test(bit);
}

SHMDS_API const uint64_t *shmds_bitset_words(const shmds_bitset_t *h) {
    return h ? engine(h)->words() : nullptr;
}
SHMDS_API int shmds_bitset_words_test(const uint64_t *words, uint64_t nbits, uint64_t bit) {
    return shmds_bitset_words_test_inline(words, nbits, bit);
}

SHMDS_API uint64_t shmds_bitset_count(const shmds_bitset_t *h) {
    return h ? engine(h)->count() : 0;
}
SHMDS_API int shmds_bitset_any(const shmds_bitset_t *h) {
    CHECK_HANDLE(h, "shmds_bitset_any");
    return engine(h)->any() ? 1 : 0;
}
SHMDS_API int shmds_bitset_none(const shmds_bitset_t *h) {
    CHECK_HANDLE(h, "shmds_bitset_none");
    return engine(h)->any() ? 0 : 1;
}

SHMDS_API int shmds_bitset_first_set(const shmds_bitset_t *h, uint64_t from, uint64_t *bit) {
    return first_of(h, true, from, bit, "shmds_bitset_first_set");
}
SHMDS_API int shmds_bitset_first_clear(const shmds_bitset_t *h, uint64_t from, uint64_t *bit) {
    return first_of(h, false, from, bit, "shmds_bitset_first_clear");
}

SHMDS_API int shmds_bitset_set_bits(const shmds_bitset_t *h, uint64_t from, uint64_t *out,
                                    size_t max, size_t *count) {
    static const char fn[] = "shmds_bitset_set_bits";
    CHECK_HANDLE(h, fn);
    CAPI_REQUIRE(count, fn, "count");
    if (!out && max) return capi::null_arg(fn, "out");
    return engine(h)->set_bits(from, out, max, count);
}

SHMDS_API int shmds_bitset_to_string(const shmds_bitset_t *h, char *buf, size_t len,
                                     size_t *needed) {
    static const char fn[] = "shmds_bitset_to_string";
    CHECK_HANDLE(h, fn);
    if (needed) *needed = std::size_t(engine(h)->nbits() + 1);
    if (!buf && len) return capi::null_arg(fn, "buf");
    return engine(h)->to_string(buf, len);
}

SHMDS_API int shmds_bitset_fill(shmds_bitset_t *h) {
    CHECK_HANDLE(h, "shmds_bitset_fill");
    return engine(h)->fill(0, engine(h)->nbits());
}
SHMDS_API int shmds_bitset_zero(shmds_bitset_t *h) {
    CHECK_HANDLE(h, "shmds_bitset_zero");
    return engine(h)->zero(0, engine(h)->nbits());
}
SHMDS_API int shmds_bitset_fill_range(shmds_bitset_t *h, uint64_t from, uint64_t n) {
    CHECK_HANDLE(h, "shmds_bitset_fill_range");
    return engine(h)->fill(from, n);
}
SHMDS_API int shmds_bitset_zero_range(shmds_bitset_t *h, uint64_t from, uint64_t n) {
    CHECK_HANDLE(h, "shmds_bitset_zero_range");
    return engine(h)->zero(from, n);
}

SHMDS_API int shmds_bitset_freeze(shmds_bitset_t *h) {
    CHECK_HANDLE(h, "shmds_bitset_freeze");
    return engine(h)->freeze();
}
SHMDS_API int shmds_bitset_is_frozen(const shmds_bitset_t *h) {
    CHECK_HANDLE(h, "shmds_bitset_is_frozen");
    return engine(h)->frozen() ? 1 : 0;
}

SHMDS_API int shmds_bitset_stats(shmds_bitset_t *h, shmds_bitset_stats_t *stats) {
    static const char fn[] = "shmds_bitset_stats";
    CHECK_HANDLE(h, fn);
    CAPI_REQUIRE(stats, fn, "stats");
    bs::Stats s;
    engine(h)->stats(s);
    shmds_bitset_stats_t ours{};
    ours.nbits = s.nbits;
    ours.count = s.count;
    ours.recoveries = s.recoveries;
    ours.segment_bytes = s.segment_bytes;
    ours.frozen = s.frozen ? 1 : 0;
    ours.read_only = s.read_only ? 1 : 0;
    return capi::copy_versioned(fn, "stats", stats, ours, kStatsV1Size);
}

SHMDS_CAPI_EVENTFD_EXPORTS(shmds_bitset, shmds_bitset_t, Bitset, kNoun)

}  // extern "C"
