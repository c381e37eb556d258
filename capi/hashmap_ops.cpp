// The hash map's exports beyond single-key CRUD: cas_take, max/min, batches, reserve,
// clear, freeze, the read-only open and cursors. Thin adapters over the engine, like
// capi/hashmap.cpp, sharing its argument shapes (hashmap_args.hpp).
#include "hashmap/cursor.hpp"
#include "hashmap_args.hpp"

#include <shmds/hashmap.h>

#include <climits>
#include <memory>
#include <new>

using namespace shmds::capi::hm_args;
using shmds::hashmap::BatchItem;
using shmds::hashmap::Cursor;

// The C cursor type is the engine's cursor.
struct shmds_hashmap_cursor : Cursor {
    using Cursor::Cursor;
};

namespace {

template <typename K, typename V>
int cas_take_verb(shmds_hashmap_t *h, const char *fn, K k, V expected) noexcept {
    CAPI_REQUIRE(h, fn, kNoun);
    Span ks, es;
    if (int r = key_of(engine(h), fn, k, ks)) return r;
    if (int r = value_of(engine(h), fn, expected, es)) return r;
    return engine(h)->cas_take(ks, es);
}

template <typename K>
int minmax_verb(shmds_hashmap_t *h, const char *fn, K k, std::int64_t v, bool is_max,
                std::int64_t *out) noexcept {
    CAPI_REQUIRE(h, fn, kNoun);
    CAPI_REQUIRE(out, fn, "out");
    Span ks, vs;
    if (int r = key_of(engine(h), fn, k, ks)) return r;
    IntArg value{v};  // integer values only, and v must fit them
    if (int r = value_of(engine(h), fn, value, vs)) return r;
    return engine(h)->minmax(ks, v, is_max, out);
}

// ---- batches ----------------------------------------------------------------------
// Argument sources: element i of the caller's arrays as an argument shape.
struct IntKeys {
    const std::int64_t *keys;
    bool null() const noexcept { return !keys; }
    IntArg at(std::size_t i) const noexcept { return IntArg{keys[i]}; }
};
struct BytesKeys {
    const void *const *keys;
    const std::size_t *lens;
    bool null() const noexcept { return !keys || !lens; }
    BytesArg at(std::size_t i) const noexcept { return BytesArg{keys[i], lens[i]}; }
};
struct F64Values {
    const double *values;
    bool null() const noexcept { return !values; }
    F64Arg at(std::size_t i) const noexcept { return F64Arg{values[i]}; }
};
using IntValues = IntKeys;
using BytesValues = BytesKeys;
struct NoValues {
    bool null() const noexcept { return false; }
    IntArg at(std::size_t) const noexcept { return IntArg{0}; }
};
// Result destinations for get.
struct IntDest {
    std::int64_t *values;
    bool null() const noexcept { return !values; }
    IntOut at(std::size_t i) const noexcept { return IntOut{&values[i]}; }
};
struct F64Dest {
    double *values;
    bool null() const noexcept { return !values; }
    F64Out at(std::size_t i) const noexcept { return F64Out{&values[i]}; }
};
struct BytesDest {
    void *const *bufs;
    const std::size_t *sizes;
    std::size_t *lens;
    bool null() const noexcept { return !bufs || !sizes || !lens; }
    BytesOut at(std::size_t i) const noexcept { return BytesOut{bufs[i], sizes[i], &lens[i]}; }
};

int check_batch(shmds_hashmap_t *h, const char *fn, std::size_t n, bool arrays_null) noexcept {
    CAPI_REQUIRE(h, fn, kNoun);
    if (n > std::size_t(INT_MAX)) return fail(-EINVAL, "{}: {} keys exceed INT_MAX", fn, n);
    if (n && arrays_null) return fail(-EINVAL, "{}: an array is NULL with n = {}", fn, n);
    return 0;
}

// One key's arguments (and result buffer), kept alive while the engine reads them.
template <typename KA, typename VA, typename O>
struct Slot {
    KA k;
    VA v;
    O o;
};

enum class BatchVerb { put, remove, get };

// Encode every key (and value, or result buffer), run the engine's batch, decode.
// `values` is NoValues for remove; `dest` is unused (IntDest{nullptr}) for put/remove.
template <typename Keys, typename Values, typename Dest>
int batch_verb(shmds_hashmap_t *h, const char *fn, BatchVerb verb, Keys keys, Values values,
               Dest dest, std::size_t n, int *results) noexcept {
    const bool is_get = verb == BatchVerb::get;
    if (int r = check_batch(h, fn, n,
                            keys.null() || values.null() || (is_get && (dest.null() || !results))))
        return r;
    HashMap *m = engine(h);
    // The shape is the whole call's error, even with n == 0.
    {
        Span ignored;
        auto k0 = decltype(keys.at(0)){};
        if (int r = key_of(m, fn, k0, ignored); r == SHMDS_EVARIANT) return r;
        if (verb == BatchVerb::put) {
            auto v0 = decltype(values.at(0)){};
            if (int r = value_of(m, fn, v0, ignored); r == SHMDS_EVARIANT) return r;
        }
        if (is_get) {
            OutBuf *ignored_out;
            auto o0 = decltype(dest.at(0)){};
            if (int r = o0.prepare(m->variant().value, fn, ignored_out); r == SHMDS_EVARIANT)
                return r;
        }
    }
    if (n == 0) return 0;
    using S = Slot<decltype(keys.at(0)), decltype(values.at(0)), decltype(dest.at(0))>;
    std::unique_ptr<S[]> slots(new (std::nothrow) S[n]);
    std::unique_ptr<BatchItem[]> items(new (std::nothrow) BatchItem[n]);
    if (!slots || !items) return fail(-ENOMEM, "{}: out of memory for {} keys", fn, n);
    for (std::size_t i = 0; i < n; ++i) {
        S &s = slots[i];
        BatchItem &it = items[i];
        s.k = keys.at(i);
        it.result = key_of(m, fn, s.k, it.key);
        if (it.result == 0 && verb == BatchVerb::put) {
            s.v = values.at(i);
            it.result = value_of(m, fn, s.v, it.val);
        }
        if (it.result == 0 && is_get) {
            s.o = dest.at(i);
            it.result = s.o.prepare(m->variant().value, fn, it.out);
        }
    }
    const int r = verb == BatchVerb::put      ? m->put_batch(items.get(), n)
                  : verb == BatchVerb::remove ? m->remove_batch(items.get(), n)
                                              : m->get_batch(items.get(), n);
    if (r < 0) return r;
    for (std::size_t i = 0; i < n; ++i) {
        int res = items[i].result;
        if (is_get && items[i].out && (res == 0 || res == -ENOBUFS)) res = slots[i].o.finish(res);
        if (results) results[i] = res;
    }
    return r;
}

// ---- cursors ----------------------------------------------------------------------

// A key output: an integer (8 bytes decoded) or the caller's buffer.
struct IntKeyOut {
    std::int64_t *v;
    std::int64_t word = 0;
    std::size_t len = 0;
    OutBuf buf{};
    int prepare(ElemType t, const char *fn, OutBuf *&out) noexcept {
        Span ignored;
        if (int r = IntArg{0}.to_span(t, fn, "key", ignored)) return r;
        out = nullptr;
        if (!v) return 0;
        buf = {&word, sizeof word, &len};
        out = &buf;
        return 0;
    }
    void finish() noexcept {
        if (v) *v = word;
    }
};
struct BytesKeyOut {
    void *p;
    std::size_t size;
    std::size_t *len;
    OutBuf buf{};
    int prepare(ElemType t, const char *fn, OutBuf *&out) noexcept {
        Span ignored;
        if (int r = BytesArg{nullptr, 0}.to_span(t, fn, "key", ignored)) return r;
        out = nullptr;
        if (!p && !len) return 0;  // keys not wanted
        if (!len) return capi::null_arg(fn, "key_len");
        if (!p && size) return capi::null_arg(fn, "key_buf");
        buf = {p, size, len};
        out = &buf;
        return 0;
    }
    void finish() noexcept {}
};

// Value outputs may be absent (walk keys only); the map's value type is checked anyway.
bool value_wanted(const BytesOut &o) noexcept { return o.p || o.len; }
bool value_wanted(const IntOut &o) noexcept { return o.v; }
bool value_wanted(const F64Out &o) noexcept { return o.v; }
int value_shape(const BytesOut &, ElemType t, const char *fn) noexcept {
    Span ignored;
    return BytesArg{nullptr, 0}.to_span(t, fn, "value", ignored);
}
int value_shape(const IntOut &, ElemType t, const char *fn) noexcept {
    Span ignored;
    return IntArg{0}.to_span(t, fn, "value", ignored);
}
int value_shape(const F64Out &, ElemType t, const char *fn) noexcept {
    Span ignored;
    return F64Arg{0}.to_span(t, fn, "value", ignored);
}

template <typename KO, typename VO>
int cursor_next_verb(shmds_hashmap_cursor_t *c, const char *fn, KO ko, VO vo) noexcept {
    CAPI_REQUIRE(c, fn, "cursor");
    HashMap &m = c->map();
    OutBuf *kout = nullptr, *vout = nullptr;
    if (int r = ko.prepare(m.variant().key, fn, kout)) return r;
    if (int r = value_shape(vo, m.variant().value, fn)) return r;
    if (value_wanted(vo))
        if (int r = vo.prepare(m.variant().value, fn, vout)) return r;
    const int r = c->next(kout, vout);
    if (r == 1) {
        ko.finish();
        if (vout) return vo.finish(1);
    }
    return r;
}

template <typename K>
int cursor_seek_verb(shmds_hashmap_cursor_t *c, const char *fn, K k) noexcept {
    CAPI_REQUIRE(c, fn, "cursor");
    Span ks;
    if (int r = key_of(&c->map(), fn, k, ks)) return r;
    return c->seek(ks);
}

}  // namespace

extern "C" {

// ---- cas_take ----

SHMDS_API int shmds_hashmap_cas_take_ii(shmds_hashmap_t *m, int64_t key, int64_t expected) {
    return cas_take_verb(m, __func__, IntArg{key}, IntArg{expected});
}
SHMDS_API int shmds_hashmap_cas_take_ib(shmds_hashmap_t *m, int64_t key, const void *expected,
                                        size_t expected_len) {
    return cas_take_verb(m, __func__, IntArg{key}, BytesArg{expected, expected_len});
}
SHMDS_API int shmds_hashmap_cas_take_bi(shmds_hashmap_t *m, const void *key, size_t key_len,
                                        int64_t expected) {
    return cas_take_verb(m, __func__, BytesArg{key, key_len}, IntArg{expected});
}
SHMDS_API int shmds_hashmap_cas_take_bb(shmds_hashmap_t *m, const void *key, size_t key_len,
                                        const void *expected, size_t expected_len) {
    return cas_take_verb(m, __func__, BytesArg{key, key_len}, BytesArg{expected, expected_len});
}
SHMDS_API int shmds_hashmap_cas_take_if(shmds_hashmap_t *m, int64_t key, double expected) {
    return cas_take_verb(m, __func__, IntArg{key}, F64Arg{expected});
}
SHMDS_API int shmds_hashmap_cas_take_bf(shmds_hashmap_t *m, const void *key, size_t key_len,
                                        double expected) {
    return cas_take_verb(m, __func__, BytesArg{key, key_len}, F64Arg{expected});
}

// ---- max / min ----

SHMDS_API int shmds_hashmap_max_i(shmds_hashmap_t *m, int64_t key, int64_t value, int64_t *out) {
    return minmax_verb(m, __func__, IntArg{key}, value, true, out);
}
SHMDS_API int shmds_hashmap_max_b(shmds_hashmap_t *m, const void *key, size_t key_len,
                                  int64_t value, int64_t *out) {
    return minmax_verb(m, __func__, BytesArg{key, key_len}, value, true, out);
}
SHMDS_API int shmds_hashmap_min_i(shmds_hashmap_t *m, int64_t key, int64_t value, int64_t *out) {
    return minmax_verb(m, __func__, IntArg{key}, value, false, out);
}
SHMDS_API int shmds_hashmap_min_b(shmds_hashmap_t *m, const void *key, size_t key_len,
                                  int64_t value, int64_t *out) {
    return minmax_verb(m, __func__, BytesArg{key, key_len}, value, false, out);
}

// ---- batches ----

SHMDS_API int shmds_hashmap_put_batch_ii(shmds_hashmap_t *m, const int64_t *keys,
                                         const int64_t *values, size_t n, int *results) {
    return batch_verb(m, __func__, BatchVerb::put, IntKeys{keys}, IntValues{values},
                      IntDest{nullptr}, n, results);
}
SHMDS_API int shmds_hashmap_put_batch_ib(shmds_hashmap_t *m, const int64_t *keys,
                                         const void *const *values, const size_t *value_lens,
                                         size_t n, int *results) {
    return batch_verb(m, __func__, BatchVerb::put, IntKeys{keys}, BytesValues{values, value_lens},
                      IntDest{nullptr}, n, results);
}
SHMDS_API int shmds_hashmap_put_batch_bi(shmds_hashmap_t *m, const void *const *keys,
                                         const size_t *key_lens, const int64_t *values,
                                         size_t n, int *results) {
    return batch_verb(m, __func__, BatchVerb::put, BytesKeys{keys, key_lens}, IntValues{values},
                      IntDest{nullptr}, n, results);
}
SHMDS_API int shmds_hashmap_put_batch_bb(shmds_hashmap_t *m, const void *const *keys,
                                         const size_t *key_lens, const void *const *values,
                                         const size_t *value_lens, size_t n, int *results) {
    return batch_verb(m, __func__, BatchVerb::put, BytesKeys{keys, key_lens},
                      BytesValues{values, value_lens}, IntDest{nullptr}, n, results);
}
SHMDS_API int shmds_hashmap_put_batch_if(shmds_hashmap_t *m, const int64_t *keys,
                                         const double *values, size_t n, int *results) {
    return batch_verb(m, __func__, BatchVerb::put, IntKeys{keys}, F64Values{values},
                      IntDest{nullptr}, n, results);
}
SHMDS_API int shmds_hashmap_put_batch_bf(shmds_hashmap_t *m, const void *const *keys,
                                         const size_t *key_lens, const double *values,
                                         size_t n, int *results) {
    return batch_verb(m, __func__, BatchVerb::put, BytesKeys{keys, key_lens}, F64Values{values},
                      IntDest{nullptr}, n, results);
}

SHMDS_API int shmds_hashmap_remove_batch_i(shmds_hashmap_t *m, const int64_t *keys, size_t n,
                                           int *results) {
    return batch_verb(m, __func__, BatchVerb::remove, IntKeys{keys}, NoValues{}, IntDest{nullptr},
                      n, results);
}
SHMDS_API int shmds_hashmap_remove_batch_b(shmds_hashmap_t *m, const void *const *keys,
                                           const size_t *key_lens, size_t n, int *results) {
    return batch_verb(m, __func__, BatchVerb::remove, BytesKeys{keys, key_lens}, NoValues{},
                      IntDest{nullptr}, n, results);
}

SHMDS_API int shmds_hashmap_get_batch_ii(shmds_hashmap_t *m, const int64_t *keys, size_t n,
                                         int64_t *values, int *results) {
    return batch_verb(m, __func__, BatchVerb::get, IntKeys{keys}, NoValues{}, IntDest{values}, n,
                      results);
}
SHMDS_API int shmds_hashmap_get_batch_ib(shmds_hashmap_t *m, const int64_t *keys, size_t n,
                                         void *const *bufs, const size_t *buf_sizes,
                                         size_t *lens, int *results) {
    return batch_verb(m, __func__, BatchVerb::get, IntKeys{keys}, NoValues{},
                      BytesDest{bufs, buf_sizes, lens}, n, results);
}
SHMDS_API int shmds_hashmap_get_batch_bi(shmds_hashmap_t *m, const void *const *keys,
                                         const size_t *key_lens, size_t n, int64_t *values,
                                         int *results) {
    return batch_verb(m, __func__, BatchVerb::get, BytesKeys{keys, key_lens}, NoValues{},
                      IntDest{values}, n, results);
}
SHMDS_API int shmds_hashmap_get_batch_bb(shmds_hashmap_t *m, const void *const *keys,
                                         const size_t *key_lens, size_t n, void *const *bufs,
                                         const size_t *buf_sizes, size_t *lens, int *results) {
    return batch_verb(m, __func__, BatchVerb::get, BytesKeys{keys, key_lens}, NoValues{},
                      BytesDest{bufs, buf_sizes, lens}, n, results);
}
SHMDS_API int shmds_hashmap_get_batch_if(shmds_hashmap_t *m, const int64_t *keys, size_t n,
                                         double *values, int *results) {
    return batch_verb(m, __func__, BatchVerb::get, IntKeys{keys}, NoValues{}, F64Dest{values}, n,
                      results);
}
SHMDS_API int shmds_hashmap_get_batch_bf(shmds_hashmap_t *m, const void *const *keys,
                                         const size_t *key_lens, size_t n, double *values,
                                         int *results) {
    return batch_verb(m, __func__, BatchVerb::get, BytesKeys{keys, key_lens}, NoValues{},
                      F64Dest{values}, n, results);
}

// ---- whole map ----

SHMDS_API int shmds_hashmap_reserve(shmds_hashmap_t *m, uint64_t entries) {
    CAPI_REQUIRE(m, __func__, kNoun);
    return engine(m)->reserve(entries);
}

SHMDS_API int shmds_hashmap_clear(shmds_hashmap_t *m, uint64_t *removed) {
    CAPI_REQUIRE(m, __func__, kNoun);
    std::uint64_t n = 0;
    const int r = engine(m)->clear(&n);
    if (removed) *removed = n;
    return r;
}

SHMDS_API int shmds_hashmap_freeze(shmds_hashmap_t *m) {
    CAPI_REQUIRE(m, __func__, kNoun);
    return engine(m)->freeze();
}

SHMDS_API int shmds_hashmap_open_read_only(const shmds_options_t *opts, int key_type,
                                           int value_type, shmds_hashmap_t **out) {
    static const char fn[] = "shmds_hashmap_open_read_only";
    std::uint32_t wanted = 0;
    if (key_type != 0 || value_type != 0) {
        wanted = hm::Variant{ElemType(key_type), ElemType(value_type)}.word();
        if (key_type <= 0 || value_type <= 0 || key_type > 0xff || value_type > 0xff ||
            !hm::valid_variant(wanted))
            return fail(-EINVAL, "{}: key type {} and value type {} are not a hash map's", fn,
                        key_type, value_type);
    }
    return capi::make_handle<HashMap>(fn, opts, out, [&](auto *o, auto &e) {
        return HashMap::open_read_only(o, wanted, e);
    });
}

// ---- cursors ----

SHMDS_API int shmds_hashmap_cursor_create(shmds_hashmap_t *m, shmds_hashmap_cursor_t **out) {
    CAPI_REQUIRE(m, __func__, kNoun);
    CAPI_REQUIRE(out, __func__, "out");
    auto *c = new (std::nothrow) shmds_hashmap_cursor(*engine(m));
    if (!c) return fail(-ENOMEM, "{}: out of memory for a cursor", __func__);
    *out = c;
    return 0;
}

SHMDS_API void shmds_hashmap_cursor_destroy(shmds_hashmap_cursor_t *c) { delete c; }

SHMDS_API int shmds_hashmap_cursor_reset(shmds_hashmap_cursor_t *c) {
    CAPI_REQUIRE(c, __func__, "cursor");
    c->reset();
    return 0;
}

SHMDS_API int shmds_hashmap_cursor_seek_i(shmds_hashmap_cursor_t *c, int64_t key) {
    return cursor_seek_verb(c, __func__, IntArg{key});
}
SHMDS_API int shmds_hashmap_cursor_seek_b(shmds_hashmap_cursor_t *c, const void *key,
                                          size_t key_len) {
    return cursor_seek_verb(c, __func__, BytesArg{key, key_len});
}

SHMDS_API int shmds_hashmap_cursor_next_ii(shmds_hashmap_cursor_t *c, int64_t *key,
                                           int64_t *value) {
    return cursor_next_verb(c, __func__, IntKeyOut{key}, IntOut{value});
}
SHMDS_API int shmds_hashmap_cursor_next_ib(shmds_hashmap_cursor_t *c, int64_t *key, void *buf,
                                           size_t buf_size, size_t *len) {
    return cursor_next_verb(c, __func__, IntKeyOut{key}, BytesOut{buf, buf_size, len});
}
SHMDS_API int shmds_hashmap_cursor_next_bi(shmds_hashmap_cursor_t *c, void *key_buf,
                                           size_t key_buf_size, size_t *key_len,
                                           int64_t *value) {
    return cursor_next_verb(c, __func__, BytesKeyOut{key_buf, key_buf_size, key_len},
                            IntOut{value});
}
SHMDS_API int shmds_hashmap_cursor_next_bb(shmds_hashmap_cursor_t *c, void *key_buf,
                                           size_t key_buf_size, size_t *key_len, void *buf,
                                           size_t buf_size, size_t *len) {
    return cursor_next_verb(c, __func__, BytesKeyOut{key_buf, key_buf_size, key_len},
                            BytesOut{buf, buf_size, len});
}
SHMDS_API int shmds_hashmap_cursor_next_if(shmds_hashmap_cursor_t *c, int64_t *key,
                                           double *value) {
    return cursor_next_verb(c, __func__, IntKeyOut{key}, F64Out{value});
}
SHMDS_API int shmds_hashmap_cursor_next_bf(shmds_hashmap_cursor_t *c, void *key_buf,
                                           size_t key_buf_size, size_t *key_len,
                                           double *value) {
    return cursor_next_verb(c, __func__, BytesKeyOut{key_buf, key_buf_size, key_len},
                            F64Out{value});
}

SHMDS_API int shmds_hashmap_cursor_next_batch(shmds_hashmap_cursor_t *c, void *keys,
                                              size_t keys_size, size_t *key_lens, void *values,
                                              size_t values_size, size_t *value_lens,
                                              size_t max_items) {
    static const char fn[] = "shmds_hashmap_cursor_next_batch";
    CAPI_REQUIRE(c, fn, "cursor");
    const PackedBatch batch{keys, keys_size, key_lens, values, values_size, value_lens, max_items};
    if (int r = batch.check(fn)) return r;
    return batch.fill([&](OutBuf *k, OutBuf *v) { return c->next(k, v); });
}

}  // extern "C"
