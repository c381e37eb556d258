// The exported cache functions: argument checks and the mapping onto the engine's
// verbs (src/cache/cache.hpp). No cache logic lives here.
#include "api.hpp"
#include "lifecycle.hpp"

#include "cache/cache.hpp"

#include <shmds/cache.h>

#include <climits>

using shmds::cache::Bytes;
using shmds::cache::Cache;
using shmds::cache::Expiry;
using shmds::cache::Out;
namespace capi = shmds::capi;
using shmds::core::fail;

namespace {

constexpr char kNoun[] = "cache";
constexpr std::size_t kConfigV1Size = SHMDS_V1_SIZE(shmds_cache_config_t, default_expire_ms);
constexpr std::size_t kStatsV1Size = SHMDS_V1_SIZE(shmds_cache_stats_t, segment_bytes);
constexpr std::size_t kCallbacksV1Size = SHMDS_V1_SIZE(shmds_cache_callbacks_t, fill_wait_ms);

Cache *engine(shmds_cache_t *c) noexcept { return capi::engine_of<Cache>(c); }

// A (pointer, length) argument: NULL only with length 0.
int bytes_of(const char *fn, const char *name, const void *p, std::size_t len,
             Bytes &out) noexcept {
    if (!p && len != 0) return fail(-EINVAL, "{}: {} is NULL with length {}", fn, name, len);
    out = Bytes{p, len};
    return 0;
}

int key_of(const char *fn, shmds_cache_t *c, const void *key, std::size_t len, Bytes &out) noexcept {
    CAPI_REQUIRE(c, fn, kNoun);
    return bytes_of(fn, "key", key, len, out);
}

int relative_expiry(const char *fn, std::uint64_t ms, Expiry &e) noexcept {
    if (ms == SHMDS_CACHE_EXPIRE_DEFAULT) e = {Expiry::by_default, 0};
    else if (ms == SHMDS_CACHE_EXPIRE_NOW) e = {Expiry::now, 0};
    else if (ms == SHMDS_CACHE_EXPIRE_NEVER) e = {Expiry::never, 0};
    else if (ms > SHMDS_CACHE_MAX_EXPIRE_MS)
        return fail(-ERANGE, "{}: expire_ms {} exceeds SHMDS_CACHE_MAX_EXPIRE_MS", fn, ms);
    else e = {Expiry::relative, ms};
    return 0;
}

int set_verb(const char *fn, shmds_cache_t *c, const void *key, std::size_t key_len,
             const void *value, std::size_t value_len, Expiry e,
             std::uint64_t modseq = 0) noexcept {
    Bytes k, v;
    if (int r = key_of(fn, c, key, key_len, k)) return r;
    if (int r = bytes_of(fn, "value", value, value_len, v)) return r;
    return engine(c)->set(k, v, e, modseq);
}

int get_verb(const char *fn, shmds_cache_t *c, const void *key, std::size_t key_len, void *buf,
             std::size_t buf_size, std::size_t *len, bool take,
             std::uint64_t *modseq = nullptr) noexcept {
    Bytes k;
    if (int r = key_of(fn, c, key, key_len, k)) return r;
    CAPI_REQUIRE(len, fn, "len");
    if (!buf && buf_size != 0) return fail(-EINVAL, "{}: buf is NULL with size {}", fn, buf_size);
    if (modseq) *modseq = 0;  // a read_cb's value has none; a hit overwrites it
    const Out out{buf, buf_size, len, modseq};
    return take ? engine(c)->get_and_remove(k, out) : engine(c)->get(k, out);
}

int modseq_of(const char *fn, std::uint64_t modseq) noexcept {
    if (modseq == 0) return fail(-EINVAL, "{}: modseq 0 (modseqs start at 1; 0 means none)", fn);
    return 0;
}

// create or open, then the anchor's test_file pass; the handle is closed on failure.
template <class Make>
int tested(const char *fn, shmds_cache_t **out, std::uint64_t *repaired, Make make) noexcept {
    CAPI_REQUIRE(out, fn, "out");
    if (int r = make()) return r;
    if (int r = engine(*out)->verify(repaired)) {
        shmds_cache_close(*out);
        *out = nullptr;
        return r;
    }
    return 0;
}

// multi_*: check every item, then hand the engine its own item list.
int items_of(const char *fn, const shmds_cache_item_t *items, std::size_t n, bool for_get,
             std::unique_ptr<shmds::cache::Item[]> &out) noexcept {
    if (!items && n != 0) return fail(-EINVAL, "{}: items is NULL with n {}", fn, n);
    if (n > INT_MAX) return fail(-EINVAL, "{}: n {} exceeds INT_MAX", fn, n);
    out.reset(new (std::nothrow) shmds::cache::Item[n ? n : 1]);
    if (!out) return shmds::core::fail_static(-ENOMEM, "out of memory for a multi_* call");
    for (std::size_t i = 0; i < n; ++i) {
        if (int r = bytes_of(fn, "an item's key", items[i].key, items[i].key_len, out[i].key))
            return r;
        if (for_get) {
            if (!items[i].buf && items[i].buf_size != 0)
                return fail(-EINVAL, "{}: item {}'s buf is NULL with size {}", fn, i,
                            items[i].buf_size);
        } else if (int r = bytes_of(fn, "an item's value", items[i].value, items[i].value_len,
                                    out[i].value)) {
            return r;
        }
    }
    return 0;
}

// The lifecycle bits of a config.
int lifecycle_of(const char *fn, std::uint64_t bits, shmds::cache::Lifecycle &out) noexcept {
    constexpr std::uint64_t known = SHMDS_CACHE_INIT_FILE | SHMDS_CACHE_UNLINK_ON_EXIT |
                                    SHMDS_CACHE_EMPTY_ON_EXIT | SHMDS_CACHE_LAZY_MEMORY;
    if (bits & ~known)
        return fail(-EINVAL, "{}: lifecycle {:#x} has bits other than SHMDS_CACHE_INIT_FILE, "
                             "_UNLINK_ON_EXIT, _EMPTY_ON_EXIT and _LAZY_MEMORY", fn, bits);
    out.init_file = bits & SHMDS_CACHE_INIT_FILE;
    out.unlink_on_exit = bits & SHMDS_CACHE_UNLINK_ON_EXIT;
    out.empty_on_exit = bits & SHMDS_CACHE_EMPTY_ON_EXIT;
    return 0;
}

}  // namespace

extern "C" {

SHMDS_API int shmds_cache_config_init(shmds_cache_config_t *out, size_t struct_size) {
    const shmds_cache_config_t defaults = SHMDS_CACHE_CONFIG_INIT;
    return capi::init_versioned("shmds_cache_config_init", out, struct_size, defaults,
                                kConfigV1Size);
}

SHMDS_API int shmds_cache_create(const shmds_options_t *opts, const shmds_cache_config_t *cfg_in,
                                 shmds_cache_t **out) {
    static const char fn[] = "shmds_cache_create";
    shmds_cache_config_t cfg = SHMDS_CACHE_CONFIG_INIT;
    if (int r = capi::read_versioned(fn, "cfg", cfg_in, cfg, kConfigV1Size)) return r;
    shmds::cache::Sizing s;
    s.cache_size = cfg.cache_size;
    s.page_size = cfg.page_size;
    s.num_pages = cfg.num_pages;
    s.start_slots = cfg.start_slots;
    s.spare_frames = cfg.spare_frames;
    s.default_expire_ms = cfg.default_expire_ms;
    s.commit_memory = !(cfg.lifecycle & SHMDS_CACHE_LAZY_MEMORY);
    shmds::cache::Lifecycle life;
    if (int r = lifecycle_of(fn, cfg.lifecycle, life)) return r;
    return capi::make_handle<Cache>(fn, opts, out, [&](const shmds_options_t *o, auto &e) {
        const bool file = o && o->backing == SHMDS_BACKING_PATH && o->name;
        if (life.unlink_on_exit && !file)
            return fail(-EINVAL, "{}: SHMDS_CACHE_UNLINK_ON_EXIT needs a PATH backing (there "
                                 "is no file to unlink)", fn);
        if (int r = Cache::create(o, s, e)) return r;
        return e->start_lifecycle(life, file ? o->name : nullptr);  // failed: e is freed
    });
}

SHMDS_API int shmds_cache_open(const shmds_options_t *opts, shmds_cache_t **out) {
    return capi::make_handle<Cache>("shmds_cache_open", opts, out,
                                    [&](auto *o, auto &e) { return Cache::open(o, e); });
}

SHMDS_API int shmds_cache_create_tested(const shmds_options_t *opts,
                                        const shmds_cache_config_t *cfg, shmds_cache_t **out,
                                        uint64_t *repaired) {
    return tested(__func__, out, repaired, [&] { return shmds_cache_create(opts, cfg, out); });
}

SHMDS_API int shmds_cache_open_tested(const shmds_options_t *opts, shmds_cache_t **out,
                                      uint64_t *repaired) {
    return tested(__func__, out, repaired, [&] { return shmds_cache_open(opts, out); });
}

SHMDS_API void shmds_cache_close(shmds_cache_t *c) {
    if (c) engine(c)->finish_lifecycle();
    capi::close_handle<Cache>(c);
}

SHMDS_API int shmds_cache_fd(const shmds_cache_t *c) {
    return capi::segment_fd<Cache>(c, "shmds_cache_fd", kNoun);
}

SHMDS_API int shmds_cache_sync(const shmds_cache_t *c) {
    return capi::segment_sync<Cache>(c, "shmds_cache_sync", kNoun);
}

SHMDS_API uint64_t shmds_cache_recoveries(const shmds_cache_t *c) {
    if (!c) return 0;
    return const_cast<Cache *>(capi::engine_of<Cache>(c))->segment().recoveries();
}

SHMDS_API int shmds_cache_set(shmds_cache_t *c, const void *key, size_t key_len,
                              const void *value, size_t value_len, uint64_t expire_ms) {
    Expiry e;
    if (int r = relative_expiry(__func__, expire_ms, e)) return r;
    return set_verb(__func__, c, key, key_len, value, value_len, e);
}

SHMDS_API int shmds_cache_set_expire_on(shmds_cache_t *c, const void *key, size_t key_len,
                                        const void *value, size_t value_len,
                                        uint64_t expire_on_ms) {
    if (expire_on_ms > SHMDS_CACHE_MAX_EXPIRE_MS)
        return fail(-ERANGE, "{}: expire_on_ms {} exceeds SHMDS_CACHE_MAX_EXPIRE_MS", __func__,
                    expire_on_ms);
    return set_verb(__func__, c, key, key_len, value, value_len,
                    Expiry{Expiry::absolute, expire_on_ms});
}

SHMDS_API int shmds_cache_set_modseq(shmds_cache_t *c, const void *key, size_t key_len,
                                     const void *value, size_t value_len, uint64_t expire_ms,
                                     uint64_t modseq) {
    Expiry e;
    if (int r = relative_expiry(__func__, expire_ms, e)) return r;
    if (int r = modseq_of(__func__, modseq)) return r;
    return set_verb(__func__, c, key, key_len, value, value_len, e, modseq);
}

SHMDS_API int shmds_cache_get_modseq(shmds_cache_t *c, const void *key, size_t key_len,
                                     void *buf, size_t buf_size, size_t *len, uint64_t *modseq) {
    CAPI_REQUIRE(modseq, __func__, "modseq");
    return get_verb(__func__, c, key, key_len, buf, buf_size, len, false, modseq);
}

SHMDS_API int shmds_cache_remove_modseq(shmds_cache_t *c, const void *key, size_t key_len,
                                        uint64_t modseq, uint64_t expire_ms) {
    Bytes k;
    if (int r = key_of(__func__, c, key, key_len, k)) return r;
    if (int r = modseq_of(__func__, modseq)) return r;
    shmds::cache::Tomb t{modseq, {}};
    if (int r = relative_expiry(__func__, expire_ms, t.expiry)) return r;
    return engine(c)->remove(k, &t);
}

SHMDS_API int shmds_cache_set_tombstone_expire(shmds_cache_t *c, uint64_t expire_ms) {
    CAPI_REQUIRE(c, __func__, kNoun);
    Expiry e;
    if (int r = relative_expiry(__func__, expire_ms, e)) return r;
    engine(c)->set_tombstone_expiry(e);
    return 0;
}

SHMDS_API int shmds_cache_get(shmds_cache_t *c, const void *key, size_t key_len, void *buf,
                              size_t buf_size, size_t *len) {
    return get_verb(__func__, c, key, key_len, buf, buf_size, len, false);
}

SHMDS_API int shmds_cache_get_and_remove(shmds_cache_t *c, const void *key, size_t key_len,
                                         void *buf, size_t buf_size, size_t *len) {
    return get_verb(__func__, c, key, key_len, buf, buf_size, len, true);
}

SHMDS_API int shmds_cache_exists(shmds_cache_t *c, const void *key, size_t key_len) {
    Bytes k;
    if (int r = key_of(__func__, c, key, key_len, k)) return r;
    return engine(c)->exists(k);
}

SHMDS_API int shmds_cache_remove(shmds_cache_t *c, const void *key, size_t key_len) {
    Bytes k;
    if (int r = key_of(__func__, c, key, key_len, k)) return r;
    return engine(c)->remove(k);
}

SHMDS_API int shmds_cache_expire(shmds_cache_t *c, const void *key, size_t key_len) {
    Bytes k;
    if (int r = key_of(__func__, c, key, key_len, k)) return r;
    return engine(c)->expire(k);
}

SHMDS_API int shmds_cache_clear(shmds_cache_t *c) {
    CAPI_REQUIRE(c, __func__, kNoun);
    return engine(c)->clear();
}

SHMDS_API int shmds_cache_purge(shmds_cache_t *c, uint64_t *removed) {
    CAPI_REQUIRE(c, __func__, kNoun);
    return engine(c)->purge(removed);
}

SHMDS_API int shmds_cache_get_keys(shmds_cache_t *c, int detail, shmds_cache_entry_fn fn,
                                   void *ctx) {
    CAPI_REQUIRE(c, __func__, kNoun);
    CAPI_REQUIRE(fn, __func__, "fn");
    struct Forward {
        shmds_cache_entry_fn fn;
        void *ctx;
    } fw{fn, ctx};
    return engine(c)->get_keys(
        detail,
        [](const shmds::cache::Entry &e, void *p) {
            const auto *f = static_cast<const Forward *>(p);
            shmds_cache_entry_t ce{};
            ce.key = e.key.data;
            ce.key_len = e.key.len;
            ce.value = e.value.data;
            ce.value_len = e.value.len;
            ce.last_access_ms = e.last_access_ms;
            ce.expire_on_ms = e.expire_on_ms;
            ce.flags = e.flags;
            ce.modseq = e.modseq;
            return f->fn(&ce, f->ctx);
        },
        &fw);
}

SHMDS_API int shmds_cache_stats(shmds_cache_t *c, shmds_cache_stats_t *out, int clear) {
    static const char fn[] = "shmds_cache_stats";
    CAPI_REQUIRE(c, fn, kNoun);
    CAPI_REQUIRE(out, fn, "out");
    if (out->struct_size < kStatsV1Size)
        return capi::struct_too_small(fn, "out", out->struct_size, kStatsV1Size);
    shmds::cache::Stats s;
    if (int r = engine(c)->stats(s, clear != 0)) return r;
    shmds_cache_stats_t o{};
    o.struct_size = sizeof o;
    o.reads = s.reads;
    o.hits = s.hits;
    o.items = s.items;
    o.num_pages = s.num_pages;
    o.page_size = s.page_size;
    o.start_slots = s.start_slots;
    o.spare_frames = s.spare_frames;
    o.default_expire_ms = s.default_expire_ms;
    o.recoveries = s.recoveries;
    o.segment_bytes = s.segment_bytes;
    return capi::copy_versioned(fn, "out", out, o, kStatsV1Size);
}

SHMDS_API int shmds_cache_multi_get(shmds_cache_t *c, const void *page_key, size_t page_key_len,
                                    shmds_cache_item_t *items, size_t n) {
    static const char fn[] = "shmds_cache_multi_get";
    Bytes pk;
    if (int r = key_of(fn, c, page_key, page_key_len, pk)) return r;
    std::unique_ptr<shmds::cache::Item[]> its;
    if (int r = items_of(fn, items, n, true, its)) return r;
    for (std::size_t i = 0; i < n; ++i) its[i].out = Out{items[i].buf, items[i].buf_size, &items[i].value_len};
    const int r = engine(c)->multi_get(pk, its.get(), n);
    for (std::size_t i = 0; i < n; ++i) items[i].result = its[i].result;
    return r;
}

SHMDS_API int shmds_cache_multi_set(shmds_cache_t *c, const void *page_key, size_t page_key_len,
                                    shmds_cache_item_t *items, size_t n, uint64_t expire_ms) {
    static const char fn[] = "shmds_cache_multi_set";
    Bytes pk;
    if (int r = key_of(fn, c, page_key, page_key_len, pk)) return r;
    Expiry e;
    if (int r = relative_expiry(fn, expire_ms, e)) return r;
    std::unique_ptr<shmds::cache::Item[]> its;
    if (int r = items_of(fn, items, n, false, its)) return r;
    const int r = engine(c)->multi_set(pk, its.get(), n, e);
    for (std::size_t i = 0; i < n; ++i) items[i].result = its[i].result;
    return r;
}

SHMDS_API int shmds_cache_verify(shmds_cache_t *c, uint64_t *repaired) {
    CAPI_REQUIRE(c, __func__, kNoun);
    return engine(c)->verify(repaired);
}

SHMDS_API int shmds_cache_set_clock(shmds_cache_t *c, uint64_t (*now_ms)(void *ctx), void *ctx) {
    CAPI_REQUIRE(c, __func__, kNoun);
    engine(c)->set_clock(shmds::core::MsClock{now_ms, now_ms ? ctx : nullptr});
    return 0;
}

SHMDS_API int shmds_cache_callbacks_init(shmds_cache_callbacks_t *out, size_t struct_size) {
    const shmds_cache_callbacks_t defaults = SHMDS_CACHE_CALLBACKS_INIT;
    return capi::init_versioned("shmds_cache_callbacks_init", out, struct_size, defaults,
                                kCallbacksV1Size);
}

SHMDS_API int shmds_cache_set_callbacks(shmds_cache_t *c, const shmds_cache_callbacks_t *in) {
    static const char fn[] = "shmds_cache_set_callbacks";
    CAPI_REQUIRE(c, fn, kNoun);
    shmds_cache_callbacks_t cb = SHMDS_CACHE_CALLBACKS_INIT;
    if (in) {
        if (int r = capi::read_versioned(fn, "cb", in, cb, kCallbacksV1Size)) return r;
    }
    for (int flag : {cb.write_back, cb.cache_not_found, cb.allow_recursive})
        if (flag != 0 && flag != 1)
            return fail(-EINVAL, "{}: write_back, cache_not_found and allow_recursive are 0 or 1 "
                                 "(got {})",
                        fn, flag);
    if (cb.fill_wait_ms > Cache::kMaxFillWaitMs)
        return fail(-EINVAL, "{}: fill_wait_ms {} exceeds {}", fn, cb.fill_wait_ms,
                    Cache::kMaxFillWaitMs);
    cb.struct_size = sizeof cb;
    engine(c)->set_callbacks(cb);
    return 0;
}

SHMDS_API int shmds_cache_get_and_set(shmds_cache_t *c, const void *key, size_t key_len,
                                      shmds_cache_update_fn fn, void *ctx) {
    Bytes k;
    if (int r = key_of(__func__, c, key, key_len, k)) return r;
    CAPI_REQUIRE(fn, __func__, "fn");
    return engine(c)->get_and_set(k, fn, nullptr, ctx);
}

SHMDS_API int shmds_cache_get_and_set_modseq(shmds_cache_t *c, const void *key, size_t key_len,
                                             shmds_cache_update_modseq_fn fn, void *ctx) {
    Bytes k;
    if (int r = key_of(__func__, c, key, key_len, k)) return r;
    CAPI_REQUIRE(fn, __func__, "fn");
    return engine(c)->get_and_set(k, nullptr, fn, ctx);
}

SHMDS_API int shmds_cache_empty(shmds_cache_t *c, int only_expired) {
    CAPI_REQUIRE(c, __func__, kNoun);
    return engine(c)->empty(only_expired != 0);
}

}  // extern "C"
