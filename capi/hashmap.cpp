// The exported hash map functions: thin adapters from each key/value shape to the
// engine's one verb set (keys and values as byte strings; integers as their 8 native
// bytes after the range check). No map logic lives here.
#include "hashmap_args.hpp"

#include <shmds/hashmap.h>

#include <climits>
#include <cstring>

using namespace shmds::capi::hm_args;
using shmds::hashmap::WriteMode;

namespace {

constexpr std::size_t kConfigV1Size = SHMDS_V1_SIZE(shmds_hashmap_config_t, arena_bytes);
constexpr std::size_t kStatsV1Size = SHMDS_V1_SIZE(shmds_hashmap_stats_t, segment_bytes);

// ---- the verbs, once per family; each export below is one line --------------------

int check_ttl(const char *fn, std::uint64_t ttl_ms) noexcept {
    if (ttl_ms > hm::kMaxTtlMs)
        return fail(-ERANGE, "{}: a TTL of {} ms exceeds SHMDS_HASHMAP_MAX_TTL_MS", fn, ttl_ms);
    return 0;
}

template <typename K, typename V>
int write_verb(shmds_hashmap_t *h, const char *fn, K &&k, V &&v, WriteMode mode,
               std::uint64_t ttl_ms = hm::kDefaultTtl) noexcept {
    CAPI_REQUIRE(h, fn, kNoun);
    Span ks, vs;
    if (ttl_ms != hm::kDefaultTtl)
        if (int r = check_ttl(fn, ttl_ms)) return r;
    if (int r = key_of(engine(h), fn, k, ks)) return r;
    if (int r = value_of(engine(h), fn, v, vs)) return r;
    return engine(h)->write(ks, vs, mode, nullptr, ttl_ms);
}

template <typename K, typename V, typename O>
int swap_verb(shmds_hashmap_t *h, const char *fn, K &&k, V &&v, O &&o) noexcept {
    CAPI_REQUIRE(h, fn, kNoun);
    Span ks, vs;
    OutBuf *out = nullptr;
    if (int r = key_of(engine(h), fn, k, ks)) return r;
    if (int r = value_of(engine(h), fn, v, vs)) return r;
    if (int r = o.prepare(engine(h)->variant().value, fn, out)) return r;
    const int r = engine(h)->write(ks, vs, WriteMode::swap, out);
    return r == 1 ? o.finish(r) : r;
}

template <typename K, typename V>
int cas_verb(shmds_hashmap_t *h, const char *fn, K &&k, V &&expected, V &&desired) noexcept {
    CAPI_REQUIRE(h, fn, kNoun);
    Span ks, es, ds;
    if (int r = key_of(engine(h), fn, k, ks)) return r;
    if (int r = value_of(engine(h), fn, expected, es)) return r;
    if (int r = value_of(engine(h), fn, desired, ds)) return r;
    return engine(h)->cas(ks, es, ds);
}

template <typename K, typename V, typename O>
int get_or_set_verb(shmds_hashmap_t *h, const char *fn, K &&k, V &&v, O &&o) noexcept {
    CAPI_REQUIRE(h, fn, kNoun);
    Span ks, vs;
    OutBuf *out = nullptr;
    if (int r = key_of(engine(h), fn, k, ks)) return r;
    if (int r = value_of(engine(h), fn, v, vs)) return r;
    if (int r = o.prepare(engine(h)->variant().value, fn, out)) return r;
    const int r = engine(h)->get_or_set(ks, vs, out);
    return r >= 0 || r == -ENOBUFS ? o.finish(r) : r;
}

template <typename K, typename O>
int get_verb(shmds_hashmap_t *h, const char *fn, K &&k, O &&o, bool take) noexcept {
    CAPI_REQUIRE(h, fn, kNoun);
    Span ks;
    OutBuf *out = nullptr;
    if (int r = key_of(engine(h), fn, k, ks)) return r;
    if (int r = o.prepare(engine(h)->variant().value, fn, out)) return r;
    const int r = take ? engine(h)->remove(ks, out) : engine(h)->get(ks, out);
    return r == 0 || r == -ENOBUFS ? o.finish(r) : r;
}

// The end of shmds_hashmap_get_ii's short lane when the value was not 8 bytes (damage):
// IntOut's check and sentence, out of line.
SHMDS_COLD int finish_int_get(int r, std::int64_t *out, std::int64_t word,
                              std::size_t len) noexcept {
    IntOut o{out};
    o.word = word;
    o.len = len;
    return o.finish(r);
}

// get that also reports the remaining TTL.
template <typename K, typename O>
int get_ttl_verb(shmds_hashmap_t *h, const char *fn, K &&k, O &&o, std::uint64_t *ttl_ms) noexcept {
    CAPI_REQUIRE(h, fn, kNoun);
    CAPI_REQUIRE(ttl_ms, fn, "ttl_ms");
    Span ks;
    OutBuf *out = nullptr;
    if (int r = key_of(engine(h), fn, k, ks)) return r;
    if (int r = o.prepare(engine(h)->variant().value, fn, out)) return r;
    std::uint64_t expire = 0;
    const int r = engine(h)->get(ks, out, &expire);
    if (r == 0) *ttl_ms = engine(h)->remaining_ms(expire);
    return r == 0 || r == -ENOBUFS ? o.finish(r) : r;
}

template <typename K>
int ttl_remaining_verb(shmds_hashmap_t *h, const char *fn, K &&k, std::uint64_t *ttl_ms) noexcept {
    CAPI_REQUIRE(h, fn, kNoun);
    CAPI_REQUIRE(ttl_ms, fn, "ttl_ms");
    Span ks;
    if (int r = key_of(engine(h), fn, k, ks)) return r;
    std::uint64_t expire = 0;
    if (int r = engine(h)->get(ks, nullptr, &expire)) return r;
    *ttl_ms = engine(h)->remaining_ms(expire);
    return expire != 0 ? 1 : 0;
}

template <typename K>
int set_expire_verb(shmds_hashmap_t *h, const char *fn, K &&k, hm::TtlChange how,
                    std::uint64_t ttl_ms = 0) noexcept {
    CAPI_REQUIRE(h, fn, kNoun);
    if (int r = check_ttl(fn, ttl_ms)) return r;
    Span ks;
    if (int r = key_of(engine(h), fn, k, ks)) return r;
    return engine(h)->set_expire(ks, how, ttl_ms);
}

// pop / shift: the key out (typed by the map's key type) and the value out.
template <typename KO, typename VO>
int evict_verb(shmds_hashmap_t *h, const char *fn, KO &&ko, VO &&vo, bool newest) noexcept {
    CAPI_REQUIRE(h, fn, kNoun);
    OutBuf *kb = nullptr, *vb = nullptr;
    if (int r = ko.prepare(engine(h)->variant().key, fn, kb)) return r;
    if (int r = vo.prepare(engine(h)->variant().value, fn, vb)) return r;
    const int r = engine(h)->evict_entry(newest, kb, vb);
    if (r != 0) return r;  // -ENOBUFS: both lengths are set
    if (int kr = ko.finish(0)) return kr;
    return vo.finish(0);
}

template <typename K>
int key_verb(shmds_hashmap_t *h, const char *fn, K &&k, bool remove) noexcept {
    CAPI_REQUIRE(h, fn, kNoun);
    Span ks;
    if (int r = key_of(engine(h), fn, k, ks)) return r;
    return remove ? engine(h)->remove(ks, nullptr) : engine(h)->exists(ks);
}

template <typename K>
int incr_verb(shmds_hashmap_t *h, const char *fn, K &&k, std::int64_t delta,
              std::int64_t *out) noexcept {
    CAPI_REQUIRE(h, fn, kNoun);
    CAPI_REQUIRE(out, fn, "out");
    Span ks, ignored;
    if (int r = key_of(engine(h), fn, k, ks)) return r;
    IntArg probe{0};
    if (int r = value_of(engine(h), fn, probe, ignored)) return r;  // integer values only
    return engine(h)->incr_by(ks, delta, out);
}

bool valid_type_pair(int key_type, int value_type) noexcept {
    if (key_type <= 0 || value_type <= 0 || key_type > 0xff || value_type > 0xff) return false;
    return hm::valid_variant(hm::Variant{ElemType(key_type), ElemType(value_type)}.word());
}

}  // namespace

extern "C" {

SHMDS_API int shmds_hashmap_config_init(shmds_hashmap_config_t *out, size_t struct_size,
                                        int key_type, int value_type, uint64_t max_entries) {
    const shmds_hashmap_config_t defaults =
        SHMDS_HASHMAP_CONFIG_INIT(key_type, value_type, max_entries);
    return capi::init_versioned("shmds_hashmap_config_init", out, struct_size, defaults,
                                kConfigV1Size);
}

SHMDS_API int shmds_hashmap_create(const shmds_options_t *opts,
                                   const shmds_hashmap_config_t *cfg_in, shmds_hashmap_t **out) {
    static const char fn[] = "shmds_hashmap_create";
    shmds_hashmap_config_t cfg = SHMDS_HASHMAP_CONFIG_INIT(0, 0, 0);
    if (int r = capi::read_versioned(fn, "cfg", cfg_in, cfg, kConfigV1Size)) return r;
    if (!valid_type_pair(cfg.key_type, cfg.value_type))
        return fail(-EINVAL,
                    "{}: key type {} and value type {} are not a hash map's (keys: INT16, "
                    "INT32, INT64, BYTES; values: those or F64)",
                    fn, cfg.key_type, cfg.value_type);
    const hm::Config c{{ElemType(cfg.key_type), ElemType(cfg.value_type)}, cfg.max_entries,
                       cfg.shards, cfg.arena_bytes, cfg.flags, cfg.default_ttl_ms};
    return capi::make_handle<HashMap>(fn, opts, out,
                                      [&](auto *o, auto &e) { return HashMap::create(o, c, e); });
}

SHMDS_API int shmds_hashmap_open(const shmds_options_t *opts, int key_type, int value_type,
                                 shmds_hashmap_t **out) {
    static const char fn[] = "shmds_hashmap_open";
    std::uint32_t wanted = 0;
    if (key_type != 0 || value_type != 0) {
        if (!valid_type_pair(key_type, value_type))
            return fail(-EINVAL, "{}: key type {} and value type {} are not a hash map's", fn,
                        key_type, value_type);
        wanted = hm::Variant{ElemType(key_type), ElemType(value_type)}.word();
    }
    return capi::make_handle<HashMap>(fn, opts, out,
                                      [&](auto *o, auto &e) { return HashMap::open(o, wanted, e); });
}

SHMDS_API void shmds_hashmap_close(shmds_hashmap_t *m) { capi::close_handle<HashMap>(m); }

SHMDS_API int shmds_hashmap_key_type(const shmds_hashmap_t *m) {
    CAPI_REQUIRE(m, "shmds_hashmap_key_type", kNoun);
    return int(engine(m)->variant().key);
}

SHMDS_API int shmds_hashmap_value_type(const shmds_hashmap_t *m) {
    CAPI_REQUIRE(m, "shmds_hashmap_value_type", kNoun);
    return int(engine(m)->variant().value);
}

SHMDS_API int shmds_hashmap_fd(const shmds_hashmap_t *m) {
    return capi::segment_fd<HashMap>(m, "shmds_hashmap_fd", kNoun);
}

SHMDS_API int shmds_hashmap_sync(const shmds_hashmap_t *m) {
    return capi::segment_sync<HashMap>(m, "shmds_hashmap_sync", kNoun);
}

SHMDS_API uint64_t shmds_hashmap_size(const shmds_hashmap_t *m) {
    if (!m) return 0;
    return engine(m)->size();
}

SHMDS_API uint64_t shmds_hashmap_recoveries(const shmds_hashmap_t *m) {
    if (!m) return 0;
    return const_cast<HashMap *>(engine(m))->segment().recoveries();
}

SHMDS_API int shmds_hashmap_stats(shmds_hashmap_t *m, shmds_hashmap_stats_t *out) {
    static const char fn[] = "shmds_hashmap_stats";
    CAPI_REQUIRE(m, fn, kNoun);
    hm::Stats s;
    if (int r = engine(m)->stats(s)) return r;
    shmds_hashmap_stats_t c{};
    c.struct_size = sizeof c;
    c.size = s.size;
    c.max_entries = s.max_entries;
    c.table_slots = s.table_slots;
    c.table_slots_max = s.table_slots_max;
    c.tombstones = s.tombstones;
    c.resizes = s.resizes;
    c.arena_capacity = s.arena_capacity;
    c.arena_used = s.arena_used;
    c.shards = s.shards;
    c.recoveries = s.recoveries;
    c.segment_bytes = s.segment_bytes;
    c.max_probe = s.max_probe;
    c.frozen = s.frozen;
    c.evictions = s.evictions;
    c.expirations = s.expirations;
    return capi::copy_versioned(fn, "out", out, c, kStatsV1Size);
}

// ---- writes ----

SHMDS_API int shmds_hashmap_put_ii(shmds_hashmap_t *m, int64_t key, int64_t value) {
    return write_verb(m, __func__, IntArg{key}, IntArg{value}, WriteMode::put);
}
SHMDS_API int shmds_hashmap_put_ib(shmds_hashmap_t *m, int64_t key, const void *value,
                                   size_t value_len) {
    return write_verb(m, __func__, IntArg{key}, BytesArg{value, value_len}, WriteMode::put);
}
SHMDS_API int shmds_hashmap_put_bi(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   int64_t value) {
    return write_verb(m, __func__, BytesArg{key, key_len}, IntArg{value}, WriteMode::put);
}
SHMDS_API int shmds_hashmap_put_bb(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   const void *value, size_t value_len) {
    return write_verb(m, __func__, BytesArg{key, key_len}, BytesArg{value, value_len}, WriteMode::put);
}

SHMDS_API int shmds_hashmap_add_ii(shmds_hashmap_t *m, int64_t key, int64_t value) {
    return write_verb(m, __func__, IntArg{key}, IntArg{value}, WriteMode::add);
}
SHMDS_API int shmds_hashmap_add_ib(shmds_hashmap_t *m, int64_t key, const void *value,
                                   size_t value_len) {
    return write_verb(m, __func__, IntArg{key}, BytesArg{value, value_len}, WriteMode::add);
}
SHMDS_API int shmds_hashmap_add_bi(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   int64_t value) {
    return write_verb(m, __func__, BytesArg{key, key_len}, IntArg{value}, WriteMode::add);
}
SHMDS_API int shmds_hashmap_add_bb(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   const void *value, size_t value_len) {
    return write_verb(m, __func__, BytesArg{key, key_len}, BytesArg{value, value_len}, WriteMode::add);
}

SHMDS_API int shmds_hashmap_update_ii(shmds_hashmap_t *m, int64_t key, int64_t value) {
    return write_verb(m, __func__, IntArg{key}, IntArg{value}, WriteMode::update);
}
SHMDS_API int shmds_hashmap_update_ib(shmds_hashmap_t *m, int64_t key, const void *value,
                                      size_t value_len) {
    return write_verb(m, __func__, IntArg{key}, BytesArg{value, value_len}, WriteMode::update);
}
SHMDS_API int shmds_hashmap_update_bi(shmds_hashmap_t *m, const void *key, size_t key_len,
                                      int64_t value) {
    return write_verb(m, __func__, BytesArg{key, key_len}, IntArg{value}, WriteMode::update);
}
SHMDS_API int shmds_hashmap_update_bb(shmds_hashmap_t *m, const void *key, size_t key_len,
                                      const void *value, size_t value_len) {
    return write_verb(m, __func__, BytesArg{key, key_len}, BytesArg{value, value_len}, WriteMode::update);
}

SHMDS_API int shmds_hashmap_swap_ii(shmds_hashmap_t *m, int64_t key, int64_t value,
                                    int64_t *old) {
    return swap_verb(m, __func__, IntArg{key}, IntArg{value}, IntOut{old});
}
SHMDS_API int shmds_hashmap_swap_ib(shmds_hashmap_t *m, int64_t key, const void *value,
                                    size_t value_len, void *old_buf, size_t old_buf_size,
                                    size_t *old_len) {
    return swap_verb(m, __func__, IntArg{key}, BytesArg{value, value_len}, BytesOut{old_buf, old_buf_size, old_len});
}
SHMDS_API int shmds_hashmap_swap_bi(shmds_hashmap_t *m, const void *key, size_t key_len,
                                    int64_t value, int64_t *old) {
    return swap_verb(m, __func__, BytesArg{key, key_len}, IntArg{value}, IntOut{old});
}
SHMDS_API int shmds_hashmap_swap_bb(shmds_hashmap_t *m, const void *key, size_t key_len,
                                    const void *value, size_t value_len, void *old_buf,
                                    size_t old_buf_size, size_t *old_len) {
    return swap_verb(m, __func__, BytesArg{key, key_len}, BytesArg{value, value_len},
                     BytesOut{old_buf, old_buf_size, old_len});
}

SHMDS_API int shmds_hashmap_cas_ii(shmds_hashmap_t *m, int64_t key, int64_t expected,
                                   int64_t desired) {
    return cas_verb(m, __func__, IntArg{key}, IntArg{expected}, IntArg{desired});
}
SHMDS_API int shmds_hashmap_cas_ib(shmds_hashmap_t *m, int64_t key, const void *expected,
                                   size_t expected_len, const void *desired, size_t desired_len) {
    return cas_verb(m, __func__, IntArg{key}, BytesArg{expected, expected_len}, BytesArg{desired, desired_len});
}
SHMDS_API int shmds_hashmap_cas_bi(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   int64_t expected, int64_t desired) {
    return cas_verb(m, __func__, BytesArg{key, key_len}, IntArg{expected}, IntArg{desired});
}
SHMDS_API int shmds_hashmap_cas_bb(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   const void *expected, size_t expected_len,
                                   const void *desired, size_t desired_len) {
    return cas_verb(m, __func__, BytesArg{key, key_len}, BytesArg{expected, expected_len},
                    BytesArg{desired, desired_len});
}

SHMDS_API int shmds_hashmap_get_or_set_ii(shmds_hashmap_t *m, int64_t key, int64_t value,
                                          int64_t *out) {
    return get_or_set_verb(m, __func__, IntArg{key}, IntArg{value}, IntOut{out});
}
SHMDS_API int shmds_hashmap_get_or_set_ib(shmds_hashmap_t *m, int64_t key, const void *value,
                                          size_t value_len, void *buf, size_t buf_size,
                                          size_t *len) {
    return get_or_set_verb(m, __func__, IntArg{key}, BytesArg{value, value_len}, BytesOut{buf, buf_size, len});
}
SHMDS_API int shmds_hashmap_get_or_set_bi(shmds_hashmap_t *m, const void *key, size_t key_len,
                                          int64_t value, int64_t *out) {
    return get_or_set_verb(m, __func__, BytesArg{key, key_len}, IntArg{value}, IntOut{out});
}
SHMDS_API int shmds_hashmap_get_or_set_bb(shmds_hashmap_t *m, const void *key, size_t key_len,
                                          const void *value, size_t value_len, void *buf,
                                          size_t buf_size, size_t *len) {
    return get_or_set_verb(m, __func__, BytesArg{key, key_len}, BytesArg{value, value_len},
                           BytesOut{buf, buf_size, len});
}

SHMDS_API int shmds_hashmap_take_ii(shmds_hashmap_t *m, int64_t key, int64_t *out) {
    return get_verb(m, __func__, IntArg{key}, IntOut{out}, true);
}
SHMDS_API int shmds_hashmap_take_ib(shmds_hashmap_t *m, int64_t key, void *buf,
                                    size_t buf_size, size_t *len) {
    return get_verb(m, __func__, IntArg{key}, BytesOut{buf, buf_size, len}, true);
}
SHMDS_API int shmds_hashmap_take_bi(shmds_hashmap_t *m, const void *key, size_t key_len,
                                    int64_t *out) {
    return get_verb(m, __func__, BytesArg{key, key_len}, IntOut{out}, true);
}
SHMDS_API int shmds_hashmap_take_bb(shmds_hashmap_t *m, const void *key, size_t key_len,
                                    void *buf, size_t buf_size, size_t *len) {
    return get_verb(m, __func__, BytesArg{key, key_len}, BytesOut{buf, buf_size, len}, true);
}

SHMDS_API int shmds_hashmap_remove_i(shmds_hashmap_t *m, int64_t key) {
    return key_verb(m, __func__, IntArg{key}, true);
}
SHMDS_API int shmds_hashmap_remove_b(shmds_hashmap_t *m, const void *key, size_t key_len) {
    return key_verb(m, __func__, BytesArg{key, key_len}, true);
}

SHMDS_API int shmds_hashmap_incr_by_i(shmds_hashmap_t *m, int64_t key, int64_t delta,
                                      int64_t *out) {
    return incr_verb(m, __func__, IntArg{key}, delta, out);
}
SHMDS_API int shmds_hashmap_incr_by_b(shmds_hashmap_t *m, const void *key, size_t key_len,
                                      int64_t delta, int64_t *out) {
    return incr_verb(m, __func__, BytesArg{key, key_len}, delta, out);
}
SHMDS_API int shmds_hashmap_incr_i(shmds_hashmap_t *m, int64_t key, int64_t *out) {
    return incr_verb(m, __func__, IntArg{key}, 1, out);
}
SHMDS_API int shmds_hashmap_incr_b(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   int64_t *out) {
    return incr_verb(m, __func__, BytesArg{key, key_len}, 1, out);
}
SHMDS_API int shmds_hashmap_decr_i(shmds_hashmap_t *m, int64_t key, int64_t *out) {
    return incr_verb(m, __func__, IntArg{key}, -1, out);
}
SHMDS_API int shmds_hashmap_decr_b(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   int64_t *out) {
    return incr_verb(m, __func__, BytesArg{key, key_len}, -1, out);
}

// ---- f64 values ----

SHMDS_API int shmds_hashmap_put_if(shmds_hashmap_t *m, int64_t key, double value) {
    return write_verb(m, __func__, IntArg{key}, F64Arg{value}, WriteMode::put);
}
SHMDS_API int shmds_hashmap_put_bf(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   double value) {
    return write_verb(m, __func__, BytesArg{key, key_len}, F64Arg{value}, WriteMode::put);
}
SHMDS_API int shmds_hashmap_add_if(shmds_hashmap_t *m, int64_t key, double value) {
    return write_verb(m, __func__, IntArg{key}, F64Arg{value}, WriteMode::add);
}
SHMDS_API int shmds_hashmap_add_bf(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   double value) {
    return write_verb(m, __func__, BytesArg{key, key_len}, F64Arg{value}, WriteMode::add);
}
SHMDS_API int shmds_hashmap_update_if(shmds_hashmap_t *m, int64_t key, double value) {
    return write_verb(m, __func__, IntArg{key}, F64Arg{value}, WriteMode::update);
}
SHMDS_API int shmds_hashmap_update_bf(shmds_hashmap_t *m, const void *key, size_t key_len,
                                      double value) {
    return write_verb(m, __func__, BytesArg{key, key_len}, F64Arg{value}, WriteMode::update);
}
SHMDS_API int shmds_hashmap_swap_if(shmds_hashmap_t *m, int64_t key, double value, double *old) {
    return swap_verb(m, __func__, IntArg{key}, F64Arg{value}, F64Out{old});
}
SHMDS_API int shmds_hashmap_swap_bf(shmds_hashmap_t *m, const void *key, size_t key_len,
                                    double value, double *old) {
    return swap_verb(m, __func__, BytesArg{key, key_len}, F64Arg{value}, F64Out{old});
}
SHMDS_API int shmds_hashmap_cas_if(shmds_hashmap_t *m, int64_t key, double expected,
                                   double desired) {
    return cas_verb(m, __func__, IntArg{key}, F64Arg{expected}, F64Arg{desired});
}
SHMDS_API int shmds_hashmap_cas_bf(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   double expected, double desired) {
    return cas_verb(m, __func__, BytesArg{key, key_len}, F64Arg{expected}, F64Arg{desired});
}
SHMDS_API int shmds_hashmap_get_or_set_if(shmds_hashmap_t *m, int64_t key, double value,
                                          double *out) {
    return get_or_set_verb(m, __func__, IntArg{key}, F64Arg{value}, F64Out{out});
}
SHMDS_API int shmds_hashmap_get_or_set_bf(shmds_hashmap_t *m, const void *key, size_t key_len,
                                          double value, double *out) {
    return get_or_set_verb(m, __func__, BytesArg{key, key_len}, F64Arg{value}, F64Out{out});
}
SHMDS_API int shmds_hashmap_take_if(shmds_hashmap_t *m, int64_t key, double *out) {
    return get_verb(m, __func__, IntArg{key}, F64Out{out}, true);
}
SHMDS_API int shmds_hashmap_take_bf(shmds_hashmap_t *m, const void *key, size_t key_len,
                                    double *out) {
    return get_verb(m, __func__, BytesArg{key, key_len}, F64Out{out}, true);
}
SHMDS_API int shmds_hashmap_get_if(shmds_hashmap_t *m, int64_t key, double *out) {
    return get_verb(m, __func__, IntArg{key}, F64Out{out}, false);
}
SHMDS_API int shmds_hashmap_get_bf(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   double *out) {
    return get_verb(m, __func__, BytesArg{key, key_len}, F64Out{out}, false);
}

// ---- reads ----

// The gets' short lanes: sound arguments on a map of the verb's shape go straight to the
// engine, whose answers are the verb's; anything else, and every error's sentence, is
// get_verb's. get_verb's argument objects are built in memory and read back as 16-byte
// loads, which stall on store forwarding: get_bb's own share of a random get's cycles
// fell from 18% to 3%, get_ib's from 16% to 2%. get_ii, the hottest, first tries the
// engine's one-word lane (every int64 key is in range, so nothing else needs checking).
namespace {
[[gnu::always_inline]] inline int get_int_lane(HashMap *e, Span key, std::int64_t *out) noexcept {
    std::int64_t word = 0;
    std::size_t len = 0;
    OutBuf buf{&word, sizeof word, &len};
    const int r = e->get(key, &buf);
    if (SHMDS_LIKELY(r == 0 && len == sizeof word)) {
        *out = word;
        return 0;
    }
    return r == 0 || r == -ENOBUFS ? finish_int_get(r, out, word, len) : r;
}
[[gnu::always_inline]] inline int get_bytes_lane(HashMap *e, Span key, void *buf,
                                                std::size_t buf_size, std::size_t *len) noexcept {
    OutBuf out{buf, buf_size, len};
    return e->get(key, &out);
}
}  // namespace

SHMDS_API int shmds_hashmap_get_ii(shmds_hashmap_t *m, int64_t key, int64_t *out) {
    if (SHMDS_LIKELY(m && out)) {
        const hm::Variant v = engine(m)->variant();
        if (SHMDS_LIKELY(v.key == ElemType::int64 && hm::is_int_type(v.value))) {
            std::uint64_t got = 0;
            const int fast = engine(m)->get_word(std::uint64_t(key), &got);
            if (SHMDS_LIKELY(fast <= 0)) {
                if (fast == 0) *out = std::int64_t(got);
                return fast;
            }
            return get_int_lane(engine(m), {&key, sizeof key}, out);
        }
    }
    return get_verb(m, __func__, IntArg{key}, IntOut{out}, false);
}
SHMDS_API int shmds_hashmap_get_ib(shmds_hashmap_t *m, int64_t key, void *buf, size_t buf_size,
                                   size_t *len) {
    if (SHMDS_LIKELY(m && len && (buf || !buf_size))) {
        const hm::Variant v = engine(m)->variant();
        if (SHMDS_LIKELY(v.key == ElemType::int64 && v.value == ElemType::bytes))
            return get_bytes_lane(engine(m), {&key, sizeof key}, buf, buf_size, len);
    }
    return get_verb(m, __func__, IntArg{key}, BytesOut{buf, buf_size, len}, false);
}
SHMDS_API int shmds_hashmap_get_bi(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   int64_t *out) {
    if (SHMDS_LIKELY(m && key && out && key_len <= kMaxStringLen)) {
        const hm::Variant v = engine(m)->variant();
        if (SHMDS_LIKELY(v.key == ElemType::bytes && hm::is_int_type(v.value)))
            return get_int_lane(engine(m), {key, key_len}, out);
    }
    return get_verb(m, __func__, BytesArg{key, key_len}, IntOut{out}, false);
}
SHMDS_API int shmds_hashmap_get_bb(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   void *buf, size_t buf_size, size_t *len) {
    if (SHMDS_LIKELY(m && key && len && (buf || !buf_size) && key_len <= kMaxStringLen)) {
        const hm::Variant v = engine(m)->variant();
        if (SHMDS_LIKELY(v.key == ElemType::bytes && v.value == ElemType::bytes))
            return get_bytes_lane(engine(m), {key, key_len}, buf, buf_size, len);
    }
    return get_verb(m, __func__, BytesArg{key, key_len}, BytesOut{buf, buf_size, len}, false);
}

SHMDS_API int shmds_hashmap_exists_i(shmds_hashmap_t *m, int64_t key) {
    return key_verb(m, __func__, IntArg{key}, false);
}
SHMDS_API int shmds_hashmap_exists_b(shmds_hashmap_t *m, const void *key, size_t key_len) {
    return key_verb(m, __func__, BytesArg{key, key_len}, false);
}

// ---- TTL ----

SHMDS_API int shmds_hashmap_set_clock(shmds_hashmap_t *m, uint64_t (*now_ms)(void *ctx),
                                      void *ctx) {
    CAPI_REQUIRE(m, __func__, kNoun);
    engine(m)->set_clock(hm::Clock{now_ms, now_ms ? ctx : nullptr});
    return 0;
}

#define SHMDS_HM_TTL_WRITES(verb, mode)                                                          \
    SHMDS_API int shmds_hashmap_##verb##_ttl_ii(shmds_hashmap_t *m, int64_t key, int64_t value,  \
                                                uint64_t ttl_ms) {                               \
        return write_verb(m, __func__, IntArg{key}, IntArg{value}, mode, ttl_ms);                \
    }                                                                                            \
    SHMDS_API int shmds_hashmap_##verb##_ttl_ib(shmds_hashmap_t *m, int64_t key,                 \
                                                const void *value, size_t value_len,             \
                                                uint64_t ttl_ms) {                               \
        return write_verb(m, __func__, IntArg{key}, BytesArg{value, value_len}, mode, ttl_ms);   \
    }                                                                                            \
    SHMDS_API int shmds_hashmap_##verb##_ttl_bi(shmds_hashmap_t *m, const void *key,             \
                                                size_t key_len, int64_t value, uint64_t ttl_ms) { \
        return write_verb(m, __func__, BytesArg{key, key_len}, IntArg{value}, mode, ttl_ms);     \
    }                                                                                            \
    SHMDS_API int shmds_hashmap_##verb##_ttl_bb(shmds_hashmap_t *m, const void *key,             \
                                                size_t key_len, const void *value,               \
                                                size_t value_len, uint64_t ttl_ms) {             \
        return write_verb(m, __func__, BytesArg{key, key_len}, BytesArg{value, value_len}, mode, \
                          ttl_ms);                                                               \
    }                                                                                            \
    SHMDS_API int shmds_hashmap_##verb##_ttl_if(shmds_hashmap_t *m, int64_t key, double value,   \
                                                uint64_t ttl_ms) {                               \
        return write_verb(m, __func__, IntArg{key}, F64Arg{value}, mode, ttl_ms);                \
    }                                                                                            \
    SHMDS_API int shmds_hashmap_##verb##_ttl_bf(shmds_hashmap_t *m, const void *key,             \
                                                size_t key_len, double value, uint64_t ttl_ms) { \
        return write_verb(m, __func__, BytesArg{key, key_len}, F64Arg{value}, mode, ttl_ms);     \
    }

SHMDS_HM_TTL_WRITES(put, WriteMode::put)
SHMDS_HM_TTL_WRITES(add, WriteMode::add)
SHMDS_HM_TTL_WRITES(update, WriteMode::update)
#undef SHMDS_HM_TTL_WRITES

SHMDS_API int shmds_hashmap_get_with_ttl_ii(shmds_hashmap_t *m, int64_t key, int64_t *out,
                                            uint64_t *ttl_ms) {
    return get_ttl_verb(m, __func__, IntArg{key}, IntOut{out}, ttl_ms);
}
SHMDS_API int shmds_hashmap_get_with_ttl_ib(shmds_hashmap_t *m, int64_t key, void *buf,
                                            size_t buf_size, size_t *len, uint64_t *ttl_ms) {
    return get_ttl_verb(m, __func__, IntArg{key}, BytesOut{buf, buf_size, len}, ttl_ms);
}
SHMDS_API int shmds_hashmap_get_with_ttl_bi(shmds_hashmap_t *m, const void *key,
                                            size_t key_len, int64_t *out, uint64_t *ttl_ms) {
    return get_ttl_verb(m, __func__, BytesArg{key, key_len}, IntOut{out}, ttl_ms);
}
SHMDS_API int shmds_hashmap_get_with_ttl_bb(shmds_hashmap_t *m, const void *key,
                                            size_t key_len, void *buf, size_t buf_size,
                                            size_t *len, uint64_t *ttl_ms) {
    return get_ttl_verb(m, __func__, BytesArg{key, key_len}, BytesOut{buf, buf_size, len}, ttl_ms);
}
SHMDS_API int shmds_hashmap_get_with_ttl_if(shmds_hashmap_t *m, int64_t key, double *out,
                                            uint64_t *ttl_ms) {
    return get_ttl_verb(m, __func__, IntArg{key}, F64Out{out}, ttl_ms);
}
SHMDS_API int shmds_hashmap_get_with_ttl_bf(shmds_hashmap_t *m, const void *key,
                                            size_t key_len, double *out, uint64_t *ttl_ms) {
    return get_ttl_verb(m, __func__, BytesArg{key, key_len}, F64Out{out}, ttl_ms);
}

SHMDS_API int shmds_hashmap_ttl_remaining_i(shmds_hashmap_t *m, int64_t key, uint64_t *ttl_ms) {
    return ttl_remaining_verb(m, __func__, IntArg{key}, ttl_ms);
}
SHMDS_API int shmds_hashmap_ttl_remaining_b(shmds_hashmap_t *m, const void *key,
                                            size_t key_len, uint64_t *ttl_ms) {
    return ttl_remaining_verb(m, __func__, BytesArg{key, key_len}, ttl_ms);
}

SHMDS_API int shmds_hashmap_touch_i(shmds_hashmap_t *m, int64_t key) {
    return set_expire_verb(m, __func__, IntArg{key}, hm::TtlChange::touch);
}
SHMDS_API int shmds_hashmap_touch_b(shmds_hashmap_t *m, const void *key, size_t key_len) {
    return set_expire_verb(m, __func__, BytesArg{key, key_len}, hm::TtlChange::touch);
}
SHMDS_API int shmds_hashmap_persist_i(shmds_hashmap_t *m, int64_t key) {
    return set_expire_verb(m, __func__, IntArg{key}, hm::TtlChange::persist);
}
SHMDS_API int shmds_hashmap_persist_b(shmds_hashmap_t *m, const void *key, size_t key_len) {
    return set_expire_verb(m, __func__, BytesArg{key, key_len}, hm::TtlChange::persist);
}
SHMDS_API int shmds_hashmap_set_ttl_i(shmds_hashmap_t *m, int64_t key, uint64_t ttl_ms) {
    return set_expire_verb(m, __func__, IntArg{key}, hm::TtlChange::set, ttl_ms);
}
SHMDS_API int shmds_hashmap_set_ttl_b(shmds_hashmap_t *m, const void *key, size_t key_len,
                                      uint64_t ttl_ms) {
    return set_expire_verb(m, __func__, BytesArg{key, key_len}, hm::TtlChange::set, ttl_ms);
}

SHMDS_API int shmds_hashmap_flush_expired(shmds_hashmap_t *m, uint64_t *removed) {
    CAPI_REQUIRE(m, __func__, kNoun);
    std::uint64_t n = 0;
    const int r = engine(m)->flush_expired(&n);
    if (removed) *removed = n;
    return r;
}

SHMDS_API int shmds_hashmap_flush_expired_partial(shmds_hashmap_t *m, uint64_t max_slots,
                                                  uint64_t *removed) {
    CAPI_REQUIRE(m, __func__, kNoun);
    if (max_slots == 0) return fail(-EINVAL, "{}: max_slots is 0", __func__);
    std::uint64_t n = 0;
    const int r = engine(m)->flush_expired_partial(max_slots, &n);
    if (removed) *removed = n;
    return r;
}

// ---- eviction ----

SHMDS_API int shmds_hashmap_pop_ii(shmds_hashmap_t *m, int64_t *key, int64_t *value) {
    return evict_verb(m, __func__, IntOut{key}, IntOut{value}, false);
}
SHMDS_API int shmds_hashmap_pop_ib(shmds_hashmap_t *m, int64_t *key, void *value_buf,
                                   size_t value_buf_size, size_t *value_len) {
    return evict_verb(m, __func__, IntOut{key}, BytesOut{value_buf, value_buf_size, value_len}, false);
}
SHMDS_API int shmds_hashmap_pop_bi(shmds_hashmap_t *m, void *key_buf, size_t key_buf_size,
                                   size_t *key_len, int64_t *value) {
    return evict_verb(m, __func__, BytesOut{key_buf, key_buf_size, key_len}, IntOut{value}, false);
}
SHMDS_API int shmds_hashmap_pop_bb(shmds_hashmap_t *m, void *key_buf, size_t key_buf_size,
                                   size_t *key_len, void *value_buf, size_t value_buf_size,
                                   size_t *value_len) {
    return evict_verb(m, __func__, BytesOut{key_buf, key_buf_size, key_len},
                      BytesOut{value_buf, value_buf_size, value_len}, false);
}
SHMDS_API int shmds_hashmap_pop_if(shmds_hashmap_t *m, int64_t *key, double *value) {
    return evict_verb(m, __func__, IntOut{key}, F64Out{value}, false);
}
SHMDS_API int shmds_hashmap_pop_bf(shmds_hashmap_t *m, void *key_buf, size_t key_buf_size,
                                   size_t *key_len, double *value) {
    return evict_verb(m, __func__, BytesOut{key_buf, key_buf_size, key_len}, F64Out{value}, false);
}
SHMDS_API int shmds_hashmap_shift_ii(shmds_hashmap_t *m, int64_t *key, int64_t *value) {
    return evict_verb(m, __func__, IntOut{key}, IntOut{value}, true);
}
SHMDS_API int shmds_hashmap_shift_ib(shmds_hashmap_t *m, int64_t *key, void *value_buf,
                                     size_t value_buf_size, size_t *value_len) {
    return evict_verb(m, __func__, IntOut{key}, BytesOut{value_buf, value_buf_size, value_len}, true);
}
SHMDS_API int shmds_hashmap_shift_bi(shmds_hashmap_t *m, void *key_buf, size_t key_buf_size,
                                     size_t *key_len, int64_t *value) {
    return evict_verb(m, __func__, BytesOut{key_buf, key_buf_size, key_len}, IntOut{value}, true);
}
SHMDS_API int shmds_hashmap_shift_bb(shmds_hashmap_t *m, void *key_buf, size_t key_buf_size,
                                     size_t *key_len, void *value_buf, size_t value_buf_size,
                                     size_t *value_len) {
    return evict_verb(m, __func__, BytesOut{key_buf, key_buf_size, key_len},
                      BytesOut{value_buf, value_buf_size, value_len}, true);
}
SHMDS_API int shmds_hashmap_shift_if(shmds_hashmap_t *m, int64_t *key, double *value) {
    return evict_verb(m, __func__, IntOut{key}, F64Out{value}, true);
}
SHMDS_API int shmds_hashmap_shift_bf(shmds_hashmap_t *m, void *key_buf, size_t key_buf_size,
                                     size_t *key_len, double *value) {
    return evict_verb(m, __func__, BytesOut{key_buf, key_buf_size, key_len}, F64Out{value}, true);
}

SHMDS_API int shmds_hashmap_drain(shmds_hashmap_t *m, uint64_t n, uint64_t *removed) {
    CAPI_REQUIRE(m, __func__, kNoun);
    std::uint64_t done = 0;
    const int r = engine(m)->drain(n, &done);
    if (removed) *removed = done;
    return r;
}

// ---- drain with the entries, cheap gauges ----

SHMDS_API int shmds_hashmap_drain_batch(shmds_hashmap_t *m, void *keys, size_t keys_size,
                                        size_t *key_lens, void *values, size_t values_size,
                                        size_t *value_lens, size_t max_items) {
    CAPI_REQUIRE(m, __func__, kNoun);
    const PackedBatch batch{keys, keys_size, key_lens, values, values_size, value_lens, max_items};
    if (int r = batch.check(__func__)) return r;
    if (!engine(m)->evicting())  // also with max_items 0: the map is the wrong kind
        return engine(m)->evict_entry(false, nullptr, nullptr);
    // Each entry is one pop, copied out before it is erased, so an entry that does not
    // fit stays in the map; -ENOENT (empty) ends the batch.
    return batch.fill([&](OutBuf *k, OutBuf *v) {
        const int r = engine(m)->evict_entry(false, k, v);
        return r == 0 ? 1 : r == -ENOENT ? 0 : r;
    });
}

SHMDS_API uint64_t shmds_hashmap_max_entries(const shmds_hashmap_t *m) {
    if (!m) return 0;
    return engine(m)->max_entries();
}

SHMDS_API int shmds_hashmap_frozen(const shmds_hashmap_t *m) {
    CAPI_REQUIRE(m, __func__, kNoun);
    return engine(m)->frozen() ? 1 : 0;
}

SHMDS_API int shmds_hashmap_set_lock_timeout(shmds_hashmap_t *m, int64_t timeout_ns) {
    CAPI_REQUIRE(m, __func__, kNoun);
    if (int r = capi::check_timeout(timeout_ns)) return r;
    engine(m)->set_lock_timeout(timeout_ns);
    return 0;
}

// shmds_hashmap_eventfd, _set_eventfd, _notify, _eventfd_consume: the library's one
// eventfd kit, as the queue's (capi/lifecycle.hpp).
SHMDS_CAPI_EVENTFD_EXPORTS(shmds_hashmap, shmds_hashmap_t, HashMap, kNoun)

}  // extern "C"
