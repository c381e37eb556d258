// The exported pool functions: check arguments, encode and decode slot values in the
// pool's element type, turn the handle into the engine. No pool logic lives here.
#include "lifecycle.hpp"
#include "pool/pool.hpp"

#include <shmds/pool.h>

#include <cstring>
#include <type_traits>

using shmds::core::Deadline;
using shmds::core::ElemType;
using shmds::core::fail;
using shmds::pool::Form;
using shmds::pool::Pool;
namespace capi = shmds::capi;
namespace pl = shmds::pool;

namespace {

Pool *engine(shmds_pool_t *h) noexcept { return capi::engine_of<Pool>(h); }
const Pool *engine(const shmds_pool_t *h) noexcept { return capi::engine_of<Pool>(h); }
constexpr char kNoun[] = "pool";
constexpr char kWhat[] = "the pool's type";

#define CHECK_HANDLE(h, fn) CAPI_REQUIRE(h, fn, kNoun)

constexpr std::size_t kConfigV1Size = SHMDS_V1_SIZE(shmds_pool_config_t, elem_size);
constexpr std::size_t kStatsV1Size = SHMDS_V1_SIZE(shmds_pool_stats_t, waiters);

// The verb families and the forms each accepts (pool.h, "slot access").
enum class Family { int_, uint_, f64, bytes, raw };

const char *verbs_for(const pl::Geometry &g) noexcept {
    switch (g.form) {
        case Form::signed_int: return "_int";
        case Form::unsigned_int: return g.size < 8 ? "_int or _uint" : "_uint";
        case Form::floating: return "_f64";
        case Form::bytes: return "_bytes";
        case Form::raw: return "_raw";
    }
    return "?";
}

bool accepts(Family f, const pl::Geometry &g) noexcept {
    switch (f) {
        case Family::int_:
            return g.form == Form::signed_int || (g.form == Form::unsigned_int && g.size < 8);
        case Family::uint_: return g.form == Form::unsigned_int;
        case Family::f64: return g.form == Form::floating;
        case Family::bytes: return g.form == Form::bytes;
        case Family::raw: return g.form == Form::raw;
    }
    return false;
}

// The checks every slot verb starts with: handle, output, family, index.
int slot_checks(const shmds_pool_t *h, const void *out, Family f, std::uint64_t index,
                const char *fn) noexcept {
    CHECK_HANDLE(h, fn);
    CAPI_REQUIRE(out, fn, "out");
    const Pool *e = engine(h);
    if (SHMDS_UNLIKELY(!accepts(f, e->geometry())))
        return fail(SHMDS_EVARIANT, "{}: the pool holds {}; use the {} verbs", fn,
                    pl::variant_name(e->variant()), verbs_for(e->geometry()));
    return e->check_index(index, fn);
}
// For verbs whose outputs are optional.
const void *const kNoOut = "";

// Bits <-> caller values through the type vocabulary's encoders (range-checked).
ElemType type_of(const Pool *e) noexcept { return ElemType(e->variant()); }

struct IntCodec {
    using C = std::int64_t;
    static int encode(const Pool *e, C v, std::uint64_t *bits) noexcept {
        unsigned char buf[8] = {};
        if (int r = shmds::core::encode_int(type_of(e), v, buf, kWhat)) return r;
        *bits = shmds::core::element_bits(buf, e->geometry().size);
        return 0;
    }
    static C decode(const Pool *e, std::uint64_t bits) noexcept {
        unsigned char buf[8] = {};
        shmds::core::element_bytes(bits, buf, e->geometry().size);
        C v = 0;
        (void)shmds::core::decode_int(type_of(e), buf, &v, kWhat);  // fits: accepts()
        return v;
    }
};
struct UintCodec {
    using C = std::uint64_t;
    static int encode(const Pool *e, C v, std::uint64_t *bits) noexcept {
        unsigned char buf[8] = {};
        if (int r = shmds::core::encode_uint(type_of(e), v, buf, kWhat)) return r;
        *bits = shmds::core::element_bits(buf, e->geometry().size);
        return 0;
    }
    static C decode(const Pool *e, std::uint64_t bits) noexcept {
        unsigned char buf[8] = {};
        shmds::core::element_bytes(bits, buf, e->geometry().size);
        C v = 0;
        (void)shmds::core::decode_uint(type_of(e), buf, &v, kWhat);
        return v;
    }
};
struct F64Codec {
    using C = double;
    static int encode(const Pool *e, C v, std::uint64_t *bits) noexcept {
        unsigned char buf[8] = {};
        if (int r = shmds::core::encode_float(type_of(e), v, buf, kWhat)) return r;
        *bits = shmds::core::element_bits(buf, e->geometry().size);
        return 0;
    }
    static C decode(const Pool *e, std::uint64_t bits) noexcept {
        unsigned char buf[8] = {};
        shmds::core::element_bytes(bits, buf, e->geometry().size);
        C v = 0;
        (void)shmds::core::decode_float(type_of(e), buf, &v, kWhat);
        return v;
    }
};

template <typename Codec> constexpr Family family_of() noexcept {
    if constexpr (std::is_same_v<Codec, IntCodec>) return Family::int_;
    else if constexpr (std::is_same_v<Codec, UintCodec>) return Family::uint_;
    else return Family::f64;
}

template <typename Codec>
int get(const shmds_pool_t *h, std::uint64_t index, typename Codec::C *out, const char *fn) noexcept {
    if (int r = slot_checks(h, out, family_of<Codec>(), index, fn)) return r;
    *out = Codec::decode(engine(h), engine(h)->load_bits(index));
    return 0;
}

template <typename Codec>
int set(shmds_pool_t *h, std::uint64_t index, typename Codec::C v, const char *fn) noexcept {
    if (int r = slot_checks(h, kNoOut, family_of<Codec>(), index, fn)) return r;
    Pool *e = engine(h);
    std::uint64_t bits;
    if (int r = Codec::encode(e, v, &bits)) return r;
    e->store_bits(index, bits);
    return 0;
}

template <typename Codec>
int cas(shmds_pool_t *h, std::uint64_t index, typename Codec::C expected,
        typename Codec::C desired, typename Codec::C *old, const char *fn) noexcept {
    if (int r = slot_checks(h, kNoOut, family_of<Codec>(), index, fn)) return r;
    Pool *e = engine(h);
    std::uint64_t want, put;
    if (int r = Codec::encode(e, expected, &want)) return r;
    if (int r = Codec::encode(e, desired, &put)) return r;
    const bool swapped = e->cas_bits(index, &want, put);
    if (old) *old = Codec::decode(e, want);
    if (swapped) return 0;
    return shmds::core::fail_static(-ECANCELED, "the pool slot held another value");
}

template <typename Codec>
int exchange(shmds_pool_t *h, std::uint64_t index, typename Codec::C v, typename Codec::C *old,
             const char *fn) noexcept {
    if (int r = slot_checks(h, kNoOut, family_of<Codec>(), index, fn)) return r;
    Pool *e = engine(h);
    std::uint64_t bits;
    if (int r = Codec::encode(e, v, &bits)) return r;
    const std::uint64_t was = e->exchange_bits(index, bits);
    if (old) *old = Codec::decode(e, was);
    return 0;
}

template <typename Codec>
int add(shmds_pool_t *h, std::uint64_t index, std::int64_t delta, typename Codec::C *now,
        const char *fn) noexcept {
    if (int r = slot_checks(h, kNoOut, family_of<Codec>(), index, fn)) return r;
    Pool *e = engine(h);
    const std::uint64_t width = e->geometry().size;
    if (width < 8) {
        const std::int64_t span = std::int64_t{1} << (8 * width);
        if (delta <= -span || delta >= span)
            return fail(-ERANGE, "{}: delta {} is not below 2^{} in magnitude (the pool holds {})",
                        fn, delta, 8 * width, pl::variant_name(e->variant()));
    }
    const std::uint64_t bits = e->add_bits(index, std::uint64_t(delta));
    if (now) *now = Codec::decode(e, bits);
    return 0;
}

}  // namespace

extern "C" {

SHMDS_API int shmds_pool_config_init(shmds_pool_config_t *out, size_t struct_size, int variant,
                                     uint64_t capacity, uint64_t elem_size) {
    const shmds_pool_config_t defaults = SHMDS_POOL_CONFIG_INIT(variant, capacity, elem_size);
    return capi::init_versioned("shmds_pool_config_init", out, struct_size, defaults,
                                kConfigV1Size);
}

SHMDS_API int shmds_pool_create(const shmds_options_t *opts, const shmds_pool_config_t *cfg_in,
                                shmds_pool_t **out) {
    static const char fn[] = "shmds_pool_create";
    shmds_pool_config_t cfg = SHMDS_POOL_CONFIG_INIT(0, 0, 0);
    if (int r = capi::read_versioned(fn, "cfg", cfg_in, cfg, kConfigV1Size)) return r;
    if (cfg.variant <= 0 || !pl::supported_variant(std::uint32_t(cfg.variant)))
        return fail(-EINVAL, "{}: variant {} is neither SHMDS_POOL_RAW nor a shmds_type_t", fn,
                    cfg.variant);
    const pl::Config c{std::uint32_t(cfg.variant), cfg.capacity, cfg.elem_size};
    return capi::make_handle<Pool>(fn, opts, out,
                                   [&](auto *o, auto &e) { return Pool::create(o, c, e); });
}

SHMDS_API int shmds_pool_open(const shmds_options_t *opts, int variant, shmds_pool_t **out) {
    static const char fn[] = "shmds_pool_open";
    if (variant != SHMDS_POOL_ANY &&
        (variant < 0 || !pl::supported_variant(std::uint32_t(variant))))
        return fail(-EINVAL, "{}: variant {} is neither SHMDS_POOL_RAW, a shmds_type_t nor "
                             "SHMDS_POOL_ANY",
                    fn, variant);
    return capi::make_handle<Pool>(fn, opts, out, [&](auto *o, auto &e) {
        return Pool::open(o, std::uint32_t(variant), e);
    });
}

SHMDS_API void shmds_pool_close(shmds_pool_t *h) { capi::close_handle<Pool>(h); }

SHMDS_API int shmds_pool_variant(const shmds_pool_t *h) {
    CHECK_HANDLE(h, "shmds_pool_variant");
    return int(engine(h)->variant());
}

SHMDS_API int shmds_pool_fd(const shmds_pool_t *h) {
    return capi::segment_fd<Pool>(h, "shmds_pool_fd", kNoun);
}

SHMDS_API int shmds_pool_sync(const shmds_pool_t *h) {
    return capi::segment_sync<Pool>(h, "shmds_pool_sync", kNoun);
}

// ---- allocation

SHMDS_API int shmds_pool_try_alloc(shmds_pool_t *h, uint64_t *index) {
    static const char fn[] = "shmds_pool_try_alloc";
    CHECK_HANDLE(h, fn);
    CAPI_REQUIRE(index, fn, "index");
    if (SHMDS_LIKELY(engine(h)->try_alloc(index) == 0)) return 0;
    return fail(-EAGAIN, "every one of the pool's {} slots is allocated", engine(h)->capacity());
}

SHMDS_API int shmds_pool_alloc(shmds_pool_t *h, int64_t timeout_ns, uint64_t *index) {
    static const char fn[] = "shmds_pool_alloc";
    CAPI_REQUIRE(index, fn, "index");
    // The first try needs no deadline (no clock read): most allocs find a slot.
    if (SHMDS_LIKELY(h && timeout_ns >= -1 && engine(h)->try_alloc(index) == 0)) return 0;
    return capi::timed<Pool>(h, fn, kNoun, timeout_ns, [&](Pool &e, const Deadline &dl) {
        return e.alloc(dl, index);
    });
}

extern "C++" {
// alloc_set: every check and the value's encoding come before the alloc, so a refused
// value never leaves a slot allocated. A process killed between the alloc and the store
// holds a zeroed slot under its own (dead) identity: reclaimed like any other.
template <typename Codec>
int alloc_set(shmds_pool_t *h, typename Codec::C v, int64_t timeout_ns, uint64_t *index,
              const char *fn) noexcept {
    if (int r = slot_checks(h, index, family_of<Codec>(), 0, fn)) return r;
    std::uint64_t bits;
    if (int r = Codec::encode(engine(h), v, &bits)) return r;
    if (int r = shmds_pool_alloc(h, timeout_ns, index)) return r;
    engine(h)->store_bits(*index, bits);
    return 0;
}

int alloc_set_bytes(shmds_pool_t *h, const void *data, size_t len, int64_t timeout_ns,
                    uint64_t *index, const char *fn) noexcept {
    if (int r = slot_checks(h, index, Family::bytes, 0, fn)) return r;
    if (!data && len) return capi::null_arg(fn, "data");
    const std::uint64_t max_len = engine(h)->geometry().size;
    if (len > max_len)
        return fail(-E2BIG, "{}: {} bytes do not fit a pool slot of max_len {}", fn, len, max_len);
    if (int r = shmds_pool_alloc(h, timeout_ns, index)) return r;
    return engine(h)->set_bytes(*index, data, len);  // fits: checked above
}
}  // extern "C++"

SHMDS_API int shmds_pool_alloc_set_int(shmds_pool_t *h, int64_t value, int64_t timeout_ns,
                                       uint64_t *index) {
    return alloc_set<IntCodec>(h, value, timeout_ns, index, "shmds_pool_alloc_set_int");
}
SHMDS_API int shmds_pool_alloc_set_uint(shmds_pool_t *h, uint64_t value, int64_t timeout_ns,
                                        uint64_t *index) {
    return alloc_set<UintCodec>(h, value, timeout_ns, index, "shmds_pool_alloc_set_uint");
}
SHMDS_API int shmds_pool_alloc_set_f64(shmds_pool_t *h, double value, int64_t timeout_ns,
                                       uint64_t *index) {
    return alloc_set<F64Codec>(h, value, timeout_ns, index, "shmds_pool_alloc_set_f64");
}
SHMDS_API int shmds_pool_alloc_set_bytes(shmds_pool_t *h, const void *data, size_t len,
                                         int64_t timeout_ns, uint64_t *index) {
    return alloc_set_bytes(h, data, len, timeout_ns, index, "shmds_pool_alloc_set_bytes");
}
SHMDS_API int shmds_pool_try_alloc_set_int(shmds_pool_t *h, int64_t value, uint64_t *index) {
    return alloc_set<IntCodec>(h, value, SHMDS_NOWAIT, index, "shmds_pool_try_alloc_set_int");
}
SHMDS_API int shmds_pool_try_alloc_set_uint(shmds_pool_t *h, uint64_t value, uint64_t *index) {
    return alloc_set<UintCodec>(h, value, SHMDS_NOWAIT, index, "shmds_pool_try_alloc_set_uint");
}
SHMDS_API int shmds_pool_try_alloc_set_f64(shmds_pool_t *h, double value, uint64_t *index) {
    return alloc_set<F64Codec>(h, value, SHMDS_NOWAIT, index, "shmds_pool_try_alloc_set_f64");
}
SHMDS_API int shmds_pool_try_alloc_set_bytes(shmds_pool_t *h, const void *data, size_t len,
                                             uint64_t *index) {
    return alloc_set_bytes(h, data, len, SHMDS_NOWAIT, index, "shmds_pool_try_alloc_set_bytes");
}

SHMDS_API int shmds_pool_alloc_n(shmds_pool_t *h, size_t n, uint64_t *indices,
                                 int64_t timeout_ns) {
    static const char fn[] = "shmds_pool_alloc_n";
    if (!indices && n) return capi::null_arg(fn, "indices");
    return capi::timed<Pool>(h, fn, kNoun, timeout_ns, [&](Pool &e, const Deadline &dl) {
        return e.alloc_n(n, indices, dl);
    });
}

SHMDS_API int shmds_pool_free(shmds_pool_t *h, uint64_t index) {
    CHECK_HANDLE(h, "shmds_pool_free");
    return engine(h)->free(index);
}

SHMDS_API int shmds_pool_free_n(shmds_pool_t *h, const uint64_t *indices, size_t n,
                                size_t *freed) {
    static const char fn[] = "shmds_pool_free_n";
    CHECK_HANDLE(h, fn);
    if (!indices && n) return capi::null_arg(fn, "indices");
    return engine(h)->free_n(indices, n, freed);
}

SHMDS_API int shmds_pool_reset(shmds_pool_t *h, uint64_t *freed) {
    CHECK_HANDLE(h, "shmds_pool_reset");
    const std::uint64_t n = engine(h)->reset();
    if (freed) *freed = n;
    return 0;
}

SHMDS_API int shmds_pool_recover_stale(shmds_pool_t *h, uint64_t *reclaimed) {
    CHECK_HANDLE(h, "shmds_pool_recover_stale");
    const std::uint64_t n = engine(h)->recover_stale();
    if (reclaimed) *reclaimed = n;
    return 0;
}

// ---- queries

SHMDS_API int shmds_pool_is_allocated(const shmds_pool_t *h, uint64_t index) {
    static const char fn[] = "shmds_pool_is_allocated";
    CHECK_HANDLE(h, fn);
    if (int r = engine(h)->check_index(index, fn)) return r;
    return engine(h)->owner_of(index) != 0 ? 1 : 0;
}

SHMDS_API int shmds_pool_owner(const shmds_pool_t *h, uint64_t index, int32_t *pid) {
    static const char fn[] = "shmds_pool_owner";
    CHECK_HANDLE(h, fn);
    CAPI_REQUIRE(pid, fn, "pid");
    if (int r = engine(h)->check_index(index, fn)) return r;
    *pid = std::int32_t(shmds::core::owner_pid(engine(h)->owner_of(index)));
    return 0;
}

SHMDS_API uint64_t shmds_pool_used(const shmds_pool_t *h) { return h ? engine(h)->used() : 0; }
SHMDS_API uint64_t shmds_pool_available(const shmds_pool_t *h) {
    return h ? engine(h)->available() : 0;
}
SHMDS_API uint64_t shmds_pool_capacity(const shmds_pool_t *h) {
    return h ? engine(h)->capacity() : 0;
}
SHMDS_API uint64_t shmds_pool_elem_size(const shmds_pool_t *h) {
    return h ? engine(h)->stride() : 0;
}
SHMDS_API uint64_t shmds_pool_max_len(const shmds_pool_t *h) {
    return h && engine(h)->form() == Form::bytes ? engine(h)->geometry().size : 0;
}

namespace {
struct VisitCtx {
    shmds_pool_visit_fn visit;
    void *ctx;
};
int visit_adapter(std::uint64_t index, std::uint32_t pid, void *c) noexcept {
    auto *v = static_cast<VisitCtx *>(c);
    return v->visit(index, std::int32_t(pid), v->ctx);
}
}  // namespace

SHMDS_API int shmds_pool_each_allocated(const shmds_pool_t *h, shmds_pool_visit_fn visit,
                                        void *ctx) {
    static const char fn[] = "shmds_pool_each_allocated";
    CHECK_HANDLE(h, fn);
    CAPI_REQUIRE(visit, fn, "visit");
    VisitCtx v{visit, ctx};
    return engine(h)->each_allocated(visit_adapter, &v);
}

SHMDS_API int shmds_pool_allocated(const shmds_pool_t *h, uint64_t *out, size_t max,
                                   size_t *count) {
    static const char fn[] = "shmds_pool_allocated";
    CHECK_HANDLE(h, fn);
    CAPI_REQUIRE(count, fn, "count");
    if (!out && max) return capi::null_arg(fn, "out");
    return engine(h)->allocated(out, max, count);
}

// ---- slot access

SHMDS_API int shmds_pool_get_int(const shmds_pool_t *h, uint64_t index, int64_t *out) {
    return get<IntCodec>(h, index, out, "shmds_pool_get_int");
}
SHMDS_API int shmds_pool_get_uint(const shmds_pool_t *h, uint64_t index, uint64_t *out) {
    return get<UintCodec>(h, index, out, "shmds_pool_get_uint");
}
SHMDS_API int shmds_pool_get_f64(const shmds_pool_t *h, uint64_t index, double *out) {
    return get<F64Codec>(h, index, out, "shmds_pool_get_f64");
}
SHMDS_API int shmds_pool_set_int(shmds_pool_t *h, uint64_t index, int64_t value) {
    return set<IntCodec>(h, index, value, "shmds_pool_set_int");
}
SHMDS_API int shmds_pool_set_uint(shmds_pool_t *h, uint64_t index, uint64_t value) {
    return set<UintCodec>(h, index, value, "shmds_pool_set_uint");
}
SHMDS_API int shmds_pool_set_f64(shmds_pool_t *h, uint64_t index, double value) {
    return set<F64Codec>(h, index, value, "shmds_pool_set_f64");
}
SHMDS_API int shmds_pool_cas_int(shmds_pool_t *h, uint64_t index, int64_t expected,
                                 int64_t desired, int64_t *old) {
    return cas<IntCodec>(h, index, expected, desired, old, "shmds_pool_cas_int");
}
SHMDS_API int shmds_pool_cas_uint(shmds_pool_t *h, uint64_t index, uint64_t expected,
                                  uint64_t desired, uint64_t *old) {
    return cas<UintCodec>(h, index, expected, desired, old, "shmds_pool_cas_uint");
}
SHMDS_API int shmds_pool_exchange_int(shmds_pool_t *h, uint64_t index, int64_t value,
                                      int64_t *old) {
    return exchange<IntCodec>(h, index, value, old, "shmds_pool_exchange_int");
}
SHMDS_API int shmds_pool_exchange_uint(shmds_pool_t *h, uint64_t index, uint64_t value,
                                       uint64_t *old) {
    return exchange<UintCodec>(h, index, value, old, "shmds_pool_exchange_uint");
}
SHMDS_API int shmds_pool_add_int(shmds_pool_t *h, uint64_t index, int64_t delta, int64_t *now) {
    return add<IntCodec>(h, index, delta, now, "shmds_pool_add_int");
}
SHMDS_API int shmds_pool_add_uint(shmds_pool_t *h, uint64_t index, int64_t delta,
                                  uint64_t *now) {
    return add<UintCodec>(h, index, delta, now, "shmds_pool_add_uint");
}
SHMDS_API int shmds_pool_incr_int(shmds_pool_t *h, uint64_t index, int64_t *now) {
    return add<IntCodec>(h, index, 1, now, "shmds_pool_incr_int");
}
SHMDS_API int shmds_pool_decr_int(shmds_pool_t *h, uint64_t index, int64_t *now) {
    return add<IntCodec>(h, index, -1, now, "shmds_pool_decr_int");
}
SHMDS_API int shmds_pool_incr_uint(shmds_pool_t *h, uint64_t index, uint64_t *now) {
    return add<UintCodec>(h, index, 1, now, "shmds_pool_incr_uint");
}
SHMDS_API int shmds_pool_decr_uint(shmds_pool_t *h, uint64_t index, uint64_t *now) {
    return add<UintCodec>(h, index, -1, now, "shmds_pool_decr_uint");
}

SHMDS_API int shmds_pool_set_bytes(shmds_pool_t *h, uint64_t index, const void *data,
                                   size_t len) {
    static const char fn[] = "shmds_pool_set_bytes";
    if (int r = slot_checks(h, kNoOut, Family::bytes, index, fn)) return r;
    if (!data && len) return capi::null_arg(fn, "data");
    return engine(h)->set_bytes(index, data, len);
}

SHMDS_API int shmds_pool_get_bytes(const shmds_pool_t *h, uint64_t index, void *buf,
                                   size_t buf_size, size_t *len) {
    static const char fn[] = "shmds_pool_get_bytes";
    if (int r = slot_checks(h, len, Family::bytes, index, fn)) return r;
    if (!buf && buf_size) return capi::null_arg(fn, "buf");
    return engine(h)->get_bytes(index, buf, buf_size, len);
}

SHMDS_API int shmds_pool_set_raw(shmds_pool_t *h, uint64_t index, const void *data, size_t len) {
    static const char fn[] = "shmds_pool_set_raw";
    if (int r = slot_checks(h, kNoOut, Family::raw, index, fn)) return r;
    if (!data && len) return capi::null_arg(fn, "data");
    Pool *e = engine(h);
    if (len > e->stride())
        return fail(-E2BIG, "{}: {} bytes do not fit a raw slot of {}", fn, len, e->stride());
    std::uint8_t *s = e->slot(index);
    if (len) std::memcpy(s, data, len);
    std::memset(s + len, 0, e->stride() - len);
    return 0;
}

SHMDS_API int shmds_pool_get_raw(const shmds_pool_t *h, uint64_t index, void *buf,
                                 size_t buf_size) {
    static const char fn[] = "shmds_pool_get_raw";
    if (int r = slot_checks(h, buf, Family::raw, index, fn)) return r;
    const Pool *e = engine(h);
    if (buf_size < e->stride())
        return fail(-ENOBUFS, "{}: a raw slot is {} bytes; the buffer has room for {}", fn,
                    e->stride(), buf_size);
    std::memcpy(buf, e->slot(index), e->stride());
    return 0;
}

SHMDS_API void *shmds_pool_data_ptr(shmds_pool_t *h) { return h ? engine(h)->data() : nullptr; }

SHMDS_API void *shmds_pool_slot_ptr(shmds_pool_t *h, uint64_t index) {
    if (!h || index >= engine(h)->capacity()) return nullptr;
    return engine(h)->slot(index);
}

SHMDS_API int shmds_pool_stats(shmds_pool_t *h, shmds_pool_stats_t *stats) {
    static const char fn[] = "shmds_pool_stats";
    CHECK_HANDLE(h, fn);
    CAPI_REQUIRE(stats, fn, "stats");
    pl::Stats s;
    engine(h)->stats(s);
    shmds_pool_stats_t ours{};
    ours.capacity = s.capacity;
    ours.used = s.used;
    ours.available = s.available;
    ours.elem_size = s.elem_size;
    ours.max_len = s.max_len;
    ours.recoveries = s.recoveries;
    ours.segment_bytes = s.segment_bytes;
    ours.waiters = s.waiters;
    return capi::copy_versioned(fn, "stats", stats, ours, kStatsV1Size);
}

SHMDS_API uint64_t shmds_pool_recoveries(const shmds_pool_t *h) {
    return h ? const_cast<Pool *>(engine(h))->segment().recoveries() : 0;
}

SHMDS_CAPI_EVENTFD_EXPORTS(shmds_pool, shmds_pool_t, Pool, kNoun)

}  // extern "C"
