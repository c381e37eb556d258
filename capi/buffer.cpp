// The exported buffer functions: check arguments, encode and decode values in the
// buffer's element type, turn the handle into the engine. No buffer logic lives here.
#include "buffer/buffer.hpp"
#include "lifecycle.hpp"

#include <shmds/buffer.h>

#include <cstring>

using shmds::buffer::Buffer;
using shmds::core::Deadline;
using shmds::core::ElemKind;
using shmds::core::ElemType;
using shmds::core::fail;
namespace capi = shmds::capi;
namespace core = shmds::core;
namespace bf = shmds::buffer;

namespace {

Buffer *engine(shmds_buffer_t *h) noexcept { return capi::engine_of<Buffer>(h); }
const Buffer *engine(const shmds_buffer_t *h) noexcept { return capi::engine_of<Buffer>(h); }
constexpr char kNoun[] = "buffer";
constexpr char kWhat[] = "the buffer's type";

#define CHECK_HANDLE(h, fn) CAPI_REQUIRE(h, fn, kNoun)

constexpr std::size_t kConfigV1Size = SHMDS_V1_SIZE(shmds_buffer_config_t, width);
constexpr std::size_t kStatsV1Size = SHMDS_V1_SIZE(shmds_buffer_stats_t, waiters);

ElemKind kind_of(const Buffer *e) noexcept {
    return core::elem_type_info(std::uint32_t(e->elem_type()))->kind;
}
const char *type_name(const Buffer *e) noexcept {
    return core::elem_type_name(std::uint32_t(e->elem_type()));
}

// How a C type crosses the API: which buffers take it, and its encoding into an
// element (core::encode_* and decode_*, range-checked both ways).
struct IntCodec {
    using C = std::int64_t;
    static bool takes(ElemKind k) noexcept {
        return k == ElemKind::signed_int || k == ElemKind::unsigned_int;
    }
    static int encode(ElemType t, C v, void *out) noexcept { return core::encode_int(t, v, out, kWhat); }
    static int decode(ElemType t, const void *in, C *v) noexcept {
        return core::decode_int(t, in, v, kWhat);
    }
};
struct UintCodec {
    using C = std::uint64_t;
    static bool takes(ElemKind k) noexcept { return IntCodec::takes(k); }
    static int encode(ElemType t, C v, void *out) noexcept {
        return core::encode_uint(t, v, out, kWhat);
    }
    static int decode(ElemType t, const void *in, C *v) noexcept {
        return core::decode_uint(t, in, v, kWhat);
    }
};
struct F64Codec {
    using C = double;
    static bool takes(ElemKind k) noexcept { return k == ElemKind::floating; }
    static int encode(ElemType t, C v, void *out) noexcept {
        return core::encode_float(t, v, out, kWhat);
    }
    static int decode(ElemType t, const void *in, C *v) noexcept {
        return core::decode_float(t, in, v, kWhat);
    }
};

SHMDS_COLD int wrong_kind(const Buffer *e, const char *fn, const char *verbs) noexcept {
    return fail(SHMDS_EVARIANT, "{}: the buffer holds {}; use the {} verbs", fn, type_name(e),
                verbs);
}
const char *verbs_for(const Buffer *e) noexcept {
    switch (kind_of(e)) {
        case ElemKind::floating: return "_f64";
        case ElemKind::bytes: return "_bytes";
        default: return "_int or _uint";
    }
}
template <typename Codec>
int need_kind(const Buffer *e, const char *fn) noexcept {
    if (SHMDS_LIKELY(Codec::takes(kind_of(e)))) return 0;
    return wrong_kind(e, fn, verbs_for(e));
}
int need_bytes(const Buffer *e, const char *fn) noexcept {
    if (SHMDS_LIKELY(e->is_bytes())) return 0;
    return wrong_kind(e, fn, verbs_for(e));
}

// The element bits of a caller's value: 0, -ERANGE (does not fit).
template <typename Codec>
int encode_bits(const Buffer *e, typename Codec::C v, std::uint64_t *bits) noexcept {
    unsigned char buf[8];
    if (int r = Codec::encode(e->elem_type(), v, buf)) return r;
    *bits = core::element_bits(buf, e->elem_size());
    return 0;
}
template <typename Codec>
int decode_bits(const Buffer *e, std::uint64_t bits, typename Codec::C *out) noexcept {
    unsigned char buf[8];
    core::element_bytes(bits, buf, e->elem_size());
    return Codec::decode(e->elem_type(), buf, out);
}

// Handle, kind and index checks shared by every per-element verb.
template <typename Codec>
int element_checks(const shmds_buffer_t *h, std::uint64_t i, const char *fn) noexcept {
    CHECK_HANDLE(h, fn);
    const Buffer *e = engine(h);
    if (int r = need_kind<Codec>(e, fn)) return r;
    return e->check_index(i, fn);
}

template <typename Codec>
int get(const shmds_buffer_t *h, std::uint64_t i, typename Codec::C *out, const char *fn) noexcept {
    if (int r = element_checks<Codec>(h, i, fn)) return r;
    CAPI_REQUIRE(out, fn, "out");
    return decode_bits<Codec>(engine(h), engine(h)->load_bits(i), out);
}

template <typename Codec>
int set(shmds_buffer_t *h, std::uint64_t i, typename Codec::C v, const char *fn) noexcept {
    if (int r = element_checks<Codec>(h, i, fn)) return r;
    std::uint64_t bits;
    if (int r = encode_bits<Codec>(engine(h), v, &bits)) return r;
    engine(h)->store_bits(i, bits);
    return 0;
}

template <typename Codec>
int exchange(shmds_buffer_t *h, std::uint64_t i, typename Codec::C v, typename Codec::C *old,
             const char *fn) noexcept {
    if (int r = element_checks<Codec>(h, i, fn)) return r;
    std::uint64_t bits;
    if (int r = encode_bits<Codec>(engine(h), v, &bits)) return r;
    const std::uint64_t was = engine(h)->exchange_bits(i, bits);
    typename Codec::C o;
    // The old value was stored through this type's verbs or bits; one that does not fit
    // the C type (a uint64 above INT64_MAX asked as int64) is reported, the swap stands.
    if (int r = decode_bits<Codec>(engine(h), was, &o)) return r;
    if (old) *old = o;
    return 0;
}

template <typename Codec>
int cas(shmds_buffer_t *h, std::uint64_t i, typename Codec::C expected, typename Codec::C desired,
        typename Codec::C *actual, const char *fn) noexcept {
    if (int r = element_checks<Codec>(h, i, fn)) return r;
    std::uint64_t exp_bits, des_bits;
    if (int r = encode_bits<Codec>(engine(h), expected, &exp_bits)) return r;
    if (int r = encode_bits<Codec>(engine(h), desired, &des_bits)) return r;
    const bool ok = engine(h)->cas_bits(i, exp_bits, des_bits);
    if (actual) {
        if (ok) *actual = expected;
        else if (int r = decode_bits<Codec>(engine(h), exp_bits, actual)) return r;
    }
    return ok ? 0 : -EAGAIN;
}

__extension__ typedef __int128 Wide;  // holds any int64 or uint64 plus any int64

// An integer element's bits plus delta: 0 with the sum and its element bits, or -ERANGE
// (no sentence) when the sum does not fit the buffer's type.
int sum_of(const Buffer *e, std::uint64_t old_bits, std::int64_t delta, Wide *sum,
           std::uint64_t *new_bits) noexcept {
    unsigned char buf[8];
    core::element_bytes(old_bits, buf, e->elem_size());
    if (kind_of(e) == ElemKind::signed_int) {
        std::int64_t v;
        (void)core::decode_int(e->elem_type(), buf, &v, kWhat);  // always fits
        *sum = Wide(v) + delta;
    } else {
        std::uint64_t v;
        (void)core::decode_uint(e->elem_type(), buf, &v, kWhat);
        *sum = Wide(v) + delta;
    }
    if (*sum < Wide(INT64_MIN) || *sum > Wide(UINT64_MAX)) return -ERANGE;
    const int enc = *sum < 0
                        ? core::encode_int(e->elem_type(), std::int64_t(*sum), buf, kWhat)
                        : core::encode_uint(e->elem_type(), std::uint64_t(*sum), buf, kWhat);
    if (enc) return -ERANGE;
    *new_bits = core::element_bits(buf, e->elem_size());
    return 0;
}

// Add with the sum range-checked against the type and the C type of *new_value: a CAS
// loop, so a sum that does not fit changes nothing (no wrap-around).
template <typename Codec>
int add(shmds_buffer_t *h, std::uint64_t i, std::int64_t delta, typename Codec::C *new_value,
        const char *fn) noexcept {
    static_assert(!std::is_same_v<Codec, F64Codec>);
    if (int r = element_checks<Codec>(h, i, fn)) return r;
    Buffer *e = engine(h);
    std::uint64_t old_bits = e->load_bits(i);
    for (;;) {
        Wide sum;
        std::uint64_t new_bits;
        if (sum_of(e, old_bits, delta, &sum, &new_bits))
            return fail(-ERANGE, "{}: element {} plus {} does not fit {}", fn, i, delta,
                        type_name(e));
        // The sum must fit the caller's C type too before it is stored.
        typename Codec::C out;
        if constexpr (std::is_same_v<Codec, IntCodec>) {
            if (sum > Wide(INT64_MAX))
                return fail(-ERANGE, "{}: the sum does not fit int64_t: use the _uint verb", fn);
            out = std::int64_t(sum);
        } else {
            if (sum < 0) return fail(-ERANGE, "{}: element {} plus {} is negative", fn, i, delta);
            out = std::uint64_t(sum);
        }
        if (e->cas_bits(i, old_bits, new_bits)) {
            if (new_value) *new_value = out;
            return 0;
        }
    }
}

int bitop(shmds_buffer_t *h, std::uint64_t i, Buffer::BitOp op, std::uint64_t bits,
          std::uint64_t *old, const char *fn) noexcept {
    if (int r = element_checks<IntCodec>(h, i, fn)) return r;
    Buffer *e = engine(h);
    const std::uint32_t width_bits = e->elem_size() * 8;
    if (width_bits < 64 && (bits >> width_bits) != 0)
        return fail(-ERANGE, "{}: bits {:#x} reach above the {} element's {} bits", fn, bits,
                    type_name(e), width_bits);
    const std::uint64_t was = e->fetch_bitop(i, op, bits);
    if (old) *old = was;
    return 0;
}

// ---- bulk

int span_of_elements(const Buffer *e, std::uint64_t from, std::size_t n, const char *fn) noexcept {
    if (SHMDS_LIKELY(from <= e->length() && n <= e->length() - from)) return 0;
    return fail(-ERANGE, "{}: elements {} + {} reach past the buffer's length {}", fn, from, n,
                e->length());
}

template <typename Codec>
int get_slice(shmds_buffer_t *h, std::uint64_t from, std::size_t n, typename Codec::C *out,
              std::int64_t timeout_ns, const char *fn) noexcept {
    static_assert(sizeof(typename Codec::C) == 8);
    CHECK_HANDLE(h, fn);
    Buffer *e = engine(h);
    if (int r = need_kind<Codec>(e, fn)) return r;
    if (int r = span_of_elements(e, from, n, fn)) return r;
    if (n == 0) return 0;
    CAPI_REQUIRE(out, fn, "out");
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    const std::uint32_t es = e->elem_size();
    // One consistent copy of the packed elements into the front of out, then decoded in
    // place from the last: element k (bytes [k*es, k*es+es)) is read before out[k]
    // (bytes [8k, 8k+8)) overwrites it, and out[k] covers no element below k.
    auto *raw = reinterpret_cast<unsigned char *>(out);
    if (int r = e->read(from * es, std::uint64_t(n) * es, raw, dl)) return r;
    for (std::size_t k = n; k-- > 0;) {
        unsigned char buf[8];
        std::memcpy(buf, raw + k * es, es);
        typename Codec::C v;
        if (int r = Codec::decode(e->elem_type(), buf, &v))
            return fail(r, "{}: element {} does not fit the C type", fn, from + k);
        std::memcpy(&out[k], &v, sizeof v);
    }
    return 0;
}

template <typename Codec>
int set_slice(shmds_buffer_t *h, std::uint64_t from, const typename Codec::C *values,
              std::size_t n, std::int64_t timeout_ns, const char *fn) noexcept {
    CHECK_HANDLE(h, fn);
    Buffer *e = engine(h);
    if (int r = need_kind<Codec>(e, fn)) return r;
    if (int r = span_of_elements(e, from, n, fn)) return r;
    if (n == 0) return 0;
    CAPI_REQUIRE(values, fn, "values");
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    std::uint64_t bits;
    for (std::size_t k = 0; k < n; ++k)  // every value checked before anything is stored
        if (int r = encode_bits<Codec>(e, values[k], &bits))
            return fail(r, "{}: values[{}] does not fit the buffer's {}", fn, k, type_name(e));
    return e->write(dl, [&](std::uint8_t *) {
        for (std::size_t k = 0; k < n; ++k) {
            (void)encode_bits<Codec>(e, values[k], &bits);
            e->store_bits(from + k, bits);
        }
    });
}

// deltas[k] added to element from + k, as one bulk write (bulk readers see all of the
// adds or none). Every sum is checked against the type first, so -ERANGE normally changes
// nothing; each add is then its own CAS loop, so a concurrent per-element verb is never
// lost, and if one pushed an element out of range between the check and the add, the
// adds stop there and *applied says how many went in.
int add_slice(shmds_buffer_t *h, std::uint64_t from, const std::int64_t *deltas, std::size_t n,
              std::size_t *applied, std::int64_t timeout_ns, const char *fn) noexcept {
    CHECK_HANDLE(h, fn);
    Buffer *e = engine(h);
    if (applied) *applied = 0;
    if (int r = need_kind<IntCodec>(e, fn)) return r;
    if (int r = span_of_elements(e, from, n, fn)) return r;
    if (n == 0) return 0;
    CAPI_REQUIRE(deltas, fn, "deltas");
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    std::size_t done = 0, bad = n;
    const int r = e->write(dl, [&](std::uint8_t *) {
        Wide sum;
        std::uint64_t bits;
        for (std::size_t k = 0; k < n && bad == n; ++k)
            if (sum_of(e, e->load_bits(from + k), deltas[k], &sum, &bits)) bad = k;
        if (bad != n) return;
        for (; done < n; ++done) {
            std::uint64_t old_bits = e->load_bits(from + done);
            for (;;) {
                if (sum_of(e, old_bits, deltas[done], &sum, &bits)) {
                    bad = done;
                    return;
                }
                if (e->cas_bits(from + done, old_bits, bits)) break;
            }
        }
    });
    if (applied) *applied = done;
    if (r) return r;
    if (bad != n)
        return fail(-ERANGE, "{}: element {} plus deltas[{}] = {} does not fit {}{}", fn,
                    from + bad, bad, deltas[bad], type_name(e),
                    done ? " (changed by another process meanwhile: the adds before it stay)"
                         : ": nothing changed");
    return 0;
}

template <typename Codec>
int fill(shmds_buffer_t *h, typename Codec::C v, std::int64_t timeout_ns, const char *fn) noexcept {
    CHECK_HANDLE(h, fn);
    Buffer *e = engine(h);
    if (int r = need_kind<Codec>(e, fn)) return r;
    std::uint64_t bits;
    if (int r = encode_bits<Codec>(e, v, &bits)) return r;
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return e->write(dl, [&](std::uint8_t *) {
        for (std::uint64_t i = 0; i < e->length(); ++i) e->store_bits(i, bits);
    });
}

// Copy bytes element i, trailing NULs stripped, reading through a read batch (the
// length is only known once the element is seen).
int get_bytes(Buffer *e, std::uint64_t i, void *out, std::size_t cap, std::size_t *len,
              const Deadline &dl, const char *fn) noexcept {
    const std::uint64_t w = e->width();
    for (;;) {
        std::uint64_t seq;
        if (int r = e->begin_read_batch(&seq, dl)) return r;
        const volatile std::uint8_t *p = e->data() + i * w;
        std::uint64_t n = w;
        while (n > 0 && p[n - 1] == 0) --n;
        if (n <= cap) std::memcpy(out, const_cast<const std::uint8_t *>(p), n);
        if (!e->read_batch_valid(seq)) continue;  // torn by a write: again
        *len = std::size_t(n);
        if (n > cap)
            return fail(-ENOBUFS, "{}: element {} is {} bytes; out has room for {}", fn, i, n, cap);
        return 0;
    }
}

int check_bytes_len(const Buffer *e, std::size_t len, const char *fn) noexcept {
    if (SHMDS_LIKELY(len <= e->width())) return 0;
    return fail(-E2BIG, "{}: {} bytes exceed the buffer's element width {}", fn, len, e->width());
}

void put_padded(std::uint8_t *p, const void *data, std::size_t len, std::uint64_t w) noexcept {
    if (len) std::memcpy(p, data, len);
    std::memset(p + len, 0, w - len);
}

}  // namespace

extern "C" {

SHMDS_API int shmds_buffer_config_init(shmds_buffer_config_t *out, size_t struct_size, int type,
                                       uint64_t length, uint64_t width) {
    const shmds_buffer_config_t defaults = SHMDS_BUFFER_CONFIG_INIT(type, length, width);
    return capi::init_versioned("shmds_buffer_config_init", out, struct_size, defaults,
                                kConfigV1Size);
}

SHMDS_API int shmds_buffer_create(const shmds_options_t *opts, const shmds_buffer_config_t *cfg_in,
                                  shmds_buffer_t **out) {
    static const char fn[] = "shmds_buffer_create";
    shmds_buffer_config_t cfg = SHMDS_BUFFER_CONFIG_INIT(0, 0, 0);
    if (int r = capi::read_versioned(fn, "cfg", cfg_in, cfg, kConfigV1Size)) return r;
    if (cfg.type <= 0 || !core::elem_type_info(std::uint32_t(cfg.type)))
        return fail(-EINVAL, "{}: type {} is not a shmds_type_t", fn, cfg.type);
    const bf::Config c{ElemType(cfg.type), cfg.length, cfg.width};
    return capi::make_handle<Buffer>(fn, opts, out,
                                     [&](auto *o, auto &e) { return Buffer::create(o, c, e); });
}

SHMDS_API int shmds_buffer_open(const shmds_options_t *opts, int type, shmds_buffer_t **out) {
    static const char fn[] = "shmds_buffer_open";
    if (type != 0 && (type < 0 || !core::elem_type_info(std::uint32_t(type))))
        return fail(-EINVAL, "{}: type {} is not a shmds_type_t (or 0 for any)", fn, type);
    return capi::make_handle<Buffer>(fn, opts, out, [&](auto *o, auto &e) {
        return Buffer::open(o, std::uint32_t(type), e);
    });
}

SHMDS_API void shmds_buffer_close(shmds_buffer_t *h) { capi::close_handle<Buffer>(h); }

SHMDS_API int shmds_buffer_type(const shmds_buffer_t *h) {
    CHECK_HANDLE(h, "shmds_buffer_type");
    return int(engine(h)->elem_type());
}
SHMDS_API uint64_t shmds_buffer_length(const shmds_buffer_t *h) {
    return h ? engine(h)->length() : 0;
}
SHMDS_API uint64_t shmds_buffer_elem_size(const shmds_buffer_t *h) {
    return h ? engine(h)->elem_size() : 0;
}
SHMDS_API int shmds_buffer_fd(const shmds_buffer_t *h) {
    return capi::segment_fd<Buffer>(h, "shmds_buffer_fd", kNoun);
}
SHMDS_API int shmds_buffer_sync(const shmds_buffer_t *h) {
    return capi::segment_sync<Buffer>(h, "shmds_buffer_sync", kNoun);
}

SHMDS_API int shmds_buffer_stats(shmds_buffer_t *h, shmds_buffer_stats_t *stats) {
    static const char fn[] = "shmds_buffer_stats";
    CHECK_HANDLE(h, fn);
    CAPI_REQUIRE(stats, fn, "stats");
    bf::Stats s;
    engine(h)->stats(s);
    shmds_buffer_stats_t ours{};
    ours.length = s.length;
    ours.elem_size = s.elem_size;
    ours.bulk_writes = s.bulk_writes;
    ours.recoveries = s.recoveries;
    ours.segment_bytes = s.segment_bytes;
    ours.waiters = s.waiters;
    return capi::copy_versioned(fn, "stats", stats, ours, kStatsV1Size);
}

// ---- per element

SHMDS_API int shmds_buffer_get_int(const shmds_buffer_t *h, uint64_t i, int64_t *out) {
    return get<IntCodec>(h, i, out, "shmds_buffer_get_int");
}
SHMDS_API int shmds_buffer_get_uint(const shmds_buffer_t *h, uint64_t i, uint64_t *out) {
    return get<UintCodec>(h, i, out, "shmds_buffer_get_uint");
}
SHMDS_API int shmds_buffer_get_f64(const shmds_buffer_t *h, uint64_t i, double *out) {
    return get<F64Codec>(h, i, out, "shmds_buffer_get_f64");
}
SHMDS_API int shmds_buffer_set_int(shmds_buffer_t *h, uint64_t i, int64_t v) {
    return set<IntCodec>(h, i, v, "shmds_buffer_set_int");
}
SHMDS_API int shmds_buffer_set_uint(shmds_buffer_t *h, uint64_t i, uint64_t v) {
    return set<UintCodec>(h, i, v, "shmds_buffer_set_uint");
}
SHMDS_API int shmds_buffer_set_f64(shmds_buffer_t *h, uint64_t i, double v) {
    return set<F64Codec>(h, i, v, "shmds_buffer_set_f64");
}

SHMDS_API int shmds_buffer_add_int(shmds_buffer_t *h, uint64_t i, int64_t delta, int64_t *nv) {
    return add<IntCodec>(h, i, delta, nv, "shmds_buffer_add_int");
}
SHMDS_API int shmds_buffer_add_uint(shmds_buffer_t *h, uint64_t i, int64_t delta, uint64_t *nv) {
    return add<UintCodec>(h, i, delta, nv, "shmds_buffer_add_uint");
}
SHMDS_API int shmds_buffer_incr(shmds_buffer_t *h, uint64_t i, int64_t *nv) {
    return add<IntCodec>(h, i, 1, nv, "shmds_buffer_incr");
}
SHMDS_API int shmds_buffer_decr(shmds_buffer_t *h, uint64_t i, int64_t *nv) {
    return add<IntCodec>(h, i, -1, nv, "shmds_buffer_decr");
}

SHMDS_API int shmds_buffer_cas_int(shmds_buffer_t *h, uint64_t i, int64_t expected,
                                   int64_t desired, int64_t *actual) {
    return cas<IntCodec>(h, i, expected, desired, actual, "shmds_buffer_cas_int");
}
SHMDS_API int shmds_buffer_cas_uint(shmds_buffer_t *h, uint64_t i, uint64_t expected,
                                    uint64_t desired, uint64_t *actual) {
    return cas<UintCodec>(h, i, expected, desired, actual, "shmds_buffer_cas_uint");
}
SHMDS_API int shmds_buffer_exchange_int(shmds_buffer_t *h, uint64_t i, int64_t v, int64_t *old) {
    return exchange<IntCodec>(h, i, v, old, "shmds_buffer_exchange_int");
}
SHMDS_API int shmds_buffer_exchange_uint(shmds_buffer_t *h, uint64_t i, uint64_t v,
                                         uint64_t *old) {
    return exchange<UintCodec>(h, i, v, old, "shmds_buffer_exchange_uint");
}
SHMDS_API int shmds_buffer_exchange_f64(shmds_buffer_t *h, uint64_t i, double v, double *old) {
    return exchange<F64Codec>(h, i, v, old, "shmds_buffer_exchange_f64");
}

SHMDS_API int shmds_buffer_and(shmds_buffer_t *h, uint64_t i, uint64_t bits, uint64_t *old) {
    return bitop(h, i, Buffer::BitOp::and_, bits, old, "shmds_buffer_and");
}
SHMDS_API int shmds_buffer_or(shmds_buffer_t *h, uint64_t i, uint64_t bits, uint64_t *old) {
    return bitop(h, i, Buffer::BitOp::or_, bits, old, "shmds_buffer_or");
}
SHMDS_API int shmds_buffer_xor(shmds_buffer_t *h, uint64_t i, uint64_t bits, uint64_t *old) {
    return bitop(h, i, Buffer::BitOp::xor_, bits, old, "shmds_buffer_xor");
}

// ---- bytes elements

SHMDS_API int shmds_buffer_get_bytes(shmds_buffer_t *h, uint64_t i, void *out, size_t cap,
                                     size_t *len, int64_t timeout_ns) {
    static const char fn[] = "shmds_buffer_get_bytes";
    CHECK_HANDLE(h, fn);
    Buffer *e = engine(h);
    if (int r = need_bytes(e, fn)) return r;
    if (int r = e->check_index(i, fn)) return r;
    CAPI_REQUIRE(len, fn, "len");
    if (!out && cap) return capi::null_arg(fn, "out");
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return get_bytes(e, i, out, cap, len, dl, fn);
}

SHMDS_API int shmds_buffer_set_bytes(shmds_buffer_t *h, uint64_t i, const void *data, size_t len,
                                     int64_t timeout_ns) {
    static const char fn[] = "shmds_buffer_set_bytes";
    CHECK_HANDLE(h, fn);
    Buffer *e = engine(h);
    if (int r = need_bytes(e, fn)) return r;
    if (int r = e->check_index(i, fn)) return r;
    if (!data && len) return capi::null_arg(fn, "data");
    if (int r = check_bytes_len(e, len, fn)) return r;
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return e->write(dl, [&](std::uint8_t *d) { put_padded(d + i * e->width(), data, len, e->width()); });
}

SHMDS_API int shmds_buffer_fill_bytes(shmds_buffer_t *h, const void *data, size_t len,
                                      int64_t timeout_ns) {
    static const char fn[] = "shmds_buffer_fill_bytes";
    CHECK_HANDLE(h, fn);
    Buffer *e = engine(h);
    if (int r = need_bytes(e, fn)) return r;
    if (!data && len) return capi::null_arg(fn, "data");
    if (int r = check_bytes_len(e, len, fn)) return r;
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return e->write(dl, [&](std::uint8_t *d) {
        for (std::uint64_t k = 0; k < e->length(); ++k)
            put_padded(d + k * e->width(), data, len, e->width());
    });
}

// ---- bulk

namespace {
// Every get_raw the fast path below did not finish: bad arguments (with their
// sentences), a write in progress, a copy that raced a write.
[[gnu::noinline]] int get_raw_checked(shmds_buffer_t *h, uint64_t offset, size_t len, void *out,
                                      int64_t timeout_ns) noexcept {
    static const char fn[] = "shmds_buffer_get_raw";
    CHECK_HANDLE(h, fn);
    Buffer *e = engine(h);
    if (int r = e->check_span(offset, len, fn)) return r;
    if (len == 0) return 0;
    CAPI_REQUIRE(out, fn, "out");
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return e->read(offset, len, out, dl);
}
}  // namespace

SHMDS_API int shmds_buffer_get_raw(shmds_buffer_t *h, uint64_t offset, size_t len, void *out,
                                   int64_t timeout_ns) {
    // Little but the seq and the return address is reloaded after the copy
    // (Buffer::try_read says why), so the checked path's arguments are parked.
    capi::Parked<shmds_buffer_t *, uint64_t, size_t, void *, int64_t> parked(h, offset, len, out,
                                                                            timeout_ns);
    if (SHMDS_LIKELY(h && out && timeout_ns >= -1 && engine(h)->try_read(offset, len, out)))
        return 0;
    return parked.call(get_raw_checked);
}

SHMDS_API int shmds_buffer_set_raw(shmds_buffer_t *h, uint64_t offset, const void *data,
                                   size_t len, int64_t timeout_ns) {
    static const char fn[] = "shmds_buffer_set_raw";
    CHECK_HANDLE(h, fn);
    Buffer *e = engine(h);
    if (int r = e->check_span(offset, len, fn)) return r;
    if (len == 0) return 0;
    CAPI_REQUIRE(data, fn, "data");
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return e->write(dl, [&](std::uint8_t *) { e->store_span(offset, data, len); });
}

SHMDS_API int shmds_buffer_get_slice_int(shmds_buffer_t *h, uint64_t from, size_t n, int64_t *out,
                                         int64_t timeout_ns) {
    return get_slice<IntCodec>(h, from, n, out, timeout_ns, "shmds_buffer_get_slice_int");
}
SHMDS_API int shmds_buffer_get_slice_uint(shmds_buffer_t *h, uint64_t from, size_t n,
                                          uint64_t *out, int64_t timeout_ns) {
    return get_slice<UintCodec>(h, from, n, out, timeout_ns, "shmds_buffer_get_slice_uint");
}
SHMDS_API int shmds_buffer_get_slice_f64(shmds_buffer_t *h, uint64_t from, size_t n, double *out,
                                         int64_t timeout_ns) {
    return get_slice<F64Codec>(h, from, n, out, timeout_ns, "shmds_buffer_get_slice_f64");
}
SHMDS_API int shmds_buffer_set_slice_int(shmds_buffer_t *h, uint64_t from, const int64_t *values,
                                         size_t n, int64_t timeout_ns) {
    return set_slice<IntCodec>(h, from, values, n, timeout_ns, "shmds_buffer_set_slice_int");
}
SHMDS_API int shmds_buffer_set_slice_uint(shmds_buffer_t *h, uint64_t from,
                                          const uint64_t *values, size_t n, int64_t timeout_ns) {
    return set_slice<UintCodec>(h, from, values, n, timeout_ns, "shmds_buffer_set_slice_uint");
}
SHMDS_API int shmds_buffer_set_slice_f64(shmds_buffer_t *h, uint64_t from, const double *values,
                                         size_t n, int64_t timeout_ns) {
    return set_slice<F64Codec>(h, from, values, n, timeout_ns, "shmds_buffer_set_slice_f64");
}
SHMDS_API int shmds_buffer_add_slice(shmds_buffer_t *h, uint64_t from, const int64_t *deltas,
                                     size_t n, size_t *applied, int64_t timeout_ns) {
    return add_slice(h, from, deltas, n, applied, timeout_ns, "shmds_buffer_add_slice");
}
SHMDS_API int shmds_buffer_fill_int(shmds_buffer_t *h, int64_t v, int64_t timeout_ns) {
    return fill<IntCodec>(h, v, timeout_ns, "shmds_buffer_fill_int");
}
SHMDS_API int shmds_buffer_fill_uint(shmds_buffer_t *h, uint64_t v, int64_t timeout_ns) {
    return fill<UintCodec>(h, v, timeout_ns, "shmds_buffer_fill_uint");
}
SHMDS_API int shmds_buffer_fill_f64(shmds_buffer_t *h, double v, int64_t timeout_ns) {
    return fill<F64Codec>(h, v, timeout_ns, "shmds_buffer_fill_f64");
}

SHMDS_API int shmds_buffer_clear(shmds_buffer_t *h, int64_t timeout_ns) {
    return capi::timed<Buffer>(h, "shmds_buffer_clear", kNoun, timeout_ns,
                               [&](Buffer &e, const Deadline &dl) {
                                   return e.write(dl, [&](std::uint8_t *d) {
                                       if (e.is_bytes()) {
                                           std::memset(d, 0, e.data_bytes());
                                           return;
                                       }
                                       for (std::uint64_t i = 0; i < e.length(); ++i)
                                           e.store_bits(i, 0);
                                   });
                               });
}

// ---- batches and zero-copy

SHMDS_API const void *shmds_buffer_data(const shmds_buffer_t *h) {
    return h ? engine(h)->data() : nullptr;
}

SHMDS_API int shmds_buffer_read_begin(shmds_buffer_t *h, const void **data, uint64_t *seq,
                                      int64_t timeout_ns) {
    static const char fn[] = "shmds_buffer_read_begin";
    CHECK_HANDLE(h, fn);
    CAPI_REQUIRE(seq, fn, "seq");
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    if (int r = engine(h)->begin_read_batch(seq, dl)) return r;
    if (data) *data = engine(h)->data();
    return 0;
}

SHMDS_API int shmds_buffer_read_end(const shmds_buffer_t *h, uint64_t seq) {
    CHECK_HANDLE(h, "shmds_buffer_read_end");
    return engine(h)->read_batch_valid(seq) ? 0 : -EAGAIN;
}

SHMDS_API int shmds_buffer_write_begin(shmds_buffer_t *h, void **data, int64_t timeout_ns) {
    static const char fn[] = "shmds_buffer_write_begin";
    CHECK_HANDLE(h, fn);
    CAPI_REQUIRE(data, fn, "data");
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    if (int r = engine(h)->begin_write_batch(dl)) return r;
    *data = engine(h)->data();
    return 0;
}

SHMDS_API int shmds_buffer_write_end(shmds_buffer_t *h) {
    CHECK_HANDLE(h, "shmds_buffer_write_end");
    return engine(h)->end_write_batch();
}

SHMDS_CAPI_EVENTFD_EXPORTS(shmds_buffer, shmds_buffer_t, Buffer, kNoun)

}  // extern "C"
