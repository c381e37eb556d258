// The exported ring buffer functions: check arguments, encode and decode values in the
// ring's element type, turn the handle into the engine. No ring logic lives here.
#include "lifecycle.hpp"
#include "ringbuffer/ringbuffer.hpp"

#include <shmds/ringbuffer.h>

#include <cstring>

using shmds::core::Deadline;
using shmds::core::ElemKind;
using shmds::core::ElemType;
using shmds::core::fail;
using shmds::ringbuffer::RingBuffer;
namespace capi = shmds::capi;
namespace rb = shmds::ringbuffer;

namespace {

RingBuffer *engine(shmds_ringbuffer_t *h) noexcept { return capi::engine_of<RingBuffer>(h); }
const RingBuffer *engine(const shmds_ringbuffer_t *h) noexcept {
    return capi::engine_of<RingBuffer>(h);
}
constexpr char kNoun[] = "ring buffer";
constexpr char kWhat[] = "the ring buffer's type";

#define CHECK_HANDLE(h, fn) CAPI_REQUIRE(h, fn, kNoun)

constexpr std::size_t kConfigV1Size = SHMDS_V1_SIZE(shmds_ringbuffer_config_t, capacity);
constexpr std::size_t kStatsV1Size = SHMDS_V1_SIZE(shmds_ringbuffer_stats_t, waiters);

bool is_float(ElemType t) noexcept { return t == ElemType::f64; }

// How a C type crosses the API: which rings take it, and its encoding into the ring's
// 8-byte value word (core::encode_* and decode_*, range-checked both ways).
struct IntCodec {
    using C = std::int64_t;
    static int encode(ElemType t, C v, std::uint64_t *w) noexcept {
        if (SHMDS_LIKELY(t == ElemType::int64)) {  // the common case, without a call
            *w = std::uint64_t(v);
            return 0;
        }
        return shmds::core::encode_int(t, v, w, kWhat);
    }
    static int decode(ElemType t, std::uint64_t w, C *out) noexcept {
        if (SHMDS_LIKELY(t == ElemType::int64)) {
            *out = C(w);
            return 0;
        }
        return shmds::core::decode_int(t, &w, out, kWhat);
    }
};
struct UintCodec {
    using C = std::uint64_t;
    static int encode(ElemType t, C v, std::uint64_t *w) noexcept {
        return shmds::core::encode_uint(t, v, w, kWhat);
    }
    static int decode(ElemType t, std::uint64_t w, C *out) noexcept {
        return shmds::core::decode_uint(t, &w, out, kWhat);
    }
};
struct F64Codec {
    using C = double;
    static int encode(ElemType, C v, std::uint64_t *w) noexcept {
        std::memcpy(w, &v, sizeof v);
        return 0;
    }
    static int decode(ElemType, std::uint64_t w, C *out) noexcept {
        std::memcpy(out, &w, sizeof w);
        return 0;
    }
};

// SHMDS_EVARIANT unless the ring's type is of the codec's kind.
template <typename Codec>
int need_kind(const RingBuffer *e, const char *fn) noexcept {
    const bool f = is_float(e->elem_type());
    if (SHMDS_LIKELY((f == std::is_same_v<Codec, F64Codec>))) return 0;
    return fail(SHMDS_EVARIANT, "{}: the ring buffer holds {}; use the {} verbs", fn,
                shmds::core::elem_type_name(std::uint32_t(e->elem_type())),
                f ? "_f64" : "_int or _uint");
}

// The checked write, out of line: every type and every failure. The exported write
// verbs first try the one case that needs no check beyond the handle and no encoding
// (the ring's type is the C type's own: int64, uint64, f64), so that path is a small
// function without the frame the error sentences need (write_fast below).
template <typename Codec>
[[gnu::noinline]] int write_one(shmds_ringbuffer_t *h, typename Codec::C v, std::uint64_t *seq,
                                const char *fn) noexcept {
    CHECK_HANDLE(h, fn);
    RingBuffer *e = engine(h);
    if (int r = need_kind<Codec>(e, fn)) return r;
    std::uint64_t word = 0;
    if (int r = Codec::encode(e->elem_type(), v, &word)) return r;
    const std::uint64_t s = e->write(word);
    if (seq) *seq = s;
    return 0;
}

// The word of a value whose C type is the ring's own type: its bits.
template <typename C>
std::uint64_t bits_of(C v) noexcept {
    static_assert(sizeof(C) == sizeof(std::uint64_t));
    std::uint64_t w;
    std::memcpy(&w, &v, sizeof w);
    return w;
}

template <typename Codec>
inline int write_fast(shmds_ringbuffer_t *h, typename Codec::C v, std::uint64_t *seq,
                      ElemType own, const char *fn) noexcept {
    if (SHMDS_LIKELY(h && engine(h)->elem_type() == own)) {
        const std::uint64_t s = engine(h)->write(bits_of(v));
        if (seq) *seq = s;
        return 0;
    }
    return write_one<Codec>(h, v, seq, fn);
}

template <typename Codec>
int write_multi(shmds_ringbuffer_t *h, const typename Codec::C *values, std::size_t n,
                std::uint64_t *first_seq, const char *fn) noexcept {
    CHECK_HANDLE(h, fn);
    RingBuffer *e = engine(h);
    if (int r = need_kind<Codec>(e, fn)) return r;
    if (n == 0) {
        if (first_seq) *first_seq = e->head();
        return 0;
    }
    CAPI_REQUIRE(values, fn, "values");
    // Encode in stack batches (no allocation); every value is checked before the first
    // batch is written, so -ERANGE writes nothing.
    constexpr std::size_t kBatch = 256;
    std::uint64_t words[kBatch];
    for (std::size_t i = 0; i < n; ++i)
        if (int r = Codec::encode(e->elem_type(), values[i], &words[0]))
            return fail(r, "{}: values[{}] does not fit the ring's {}", fn, i,
                        shmds::core::elem_type_name(std::uint32_t(e->elem_type())));
    std::uint64_t first = 0;
    for (std::size_t done = 0; done < n;) {
        const std::size_t k = n - done < kBatch ? n - done : kBatch;
        for (std::size_t i = 0; i < k; ++i)
            (void)Codec::encode(e->elem_type(), values[done + i], &words[i]);
        const std::uint64_t s = e->write_multi(words, k);
        if (done == 0) first = s;
        done += k;
    }
    if (first_seq) *first_seq = first;
    return 0;
}

// Word a read outcome for the caller: the engine keeps these normal outcomes silent.
int read_outcome(int r) noexcept {
    if (r == rb::kNotWritten) return shmds::core::fail_static(-EAGAIN, "not written (yet)");
    if (r == rb::kOverwritten)
        return shmds::core::fail_static(-ENOENT, "overwritten: the ring holds a later value there");
    return r;
}

template <typename Codec>
[[gnu::noinline]] int read_seq(const shmds_ringbuffer_t *h, std::uint64_t seq,
                               typename Codec::C *out, const char *fn) noexcept {
    CHECK_HANDLE(h, fn);
    CAPI_REQUIRE(out, fn, "out");
    const RingBuffer *e = engine(h);
    if (int r = need_kind<Codec>(e, fn)) return r;
    std::uint64_t w;
    if (int r = e->read(seq, &w)) return read_outcome(r);
    return Codec::decode(e->elem_type(), w, out);
}

template <typename Codec>
[[gnu::noinline]] int latest(const shmds_ringbuffer_t *h, std::uint64_t n, typename Codec::C *out,
                             std::uint64_t *seq, const char *fn) noexcept {
    CHECK_HANDLE(h, fn);
    CAPI_REQUIRE(out, fn, "out");
    const RingBuffer *e = engine(h);
    if (int r = need_kind<Codec>(e, fn)) return r;
    std::uint64_t w;
    if (int r = e->latest(n, &w, seq)) return read_outcome(r);
    return Codec::decode(e->elem_type(), w, out);
}

// latest and read_seq of the ring's own C type: no check beyond the pointers, no
// decoding; anything else (and every outcome but a value) takes the checked path.
template <typename Codec>
inline int latest_fast(const shmds_ringbuffer_t *h, std::uint64_t n, typename Codec::C *out,
                       std::uint64_t *seq, ElemType own, const char *fn) noexcept {
    if (SHMDS_LIKELY(h && out && engine(h)->elem_type() == own)) {
        std::uint64_t w;
        if (SHMDS_LIKELY(engine(h)->latest(n, &w, seq) == 0)) {
            std::memcpy(out, &w, sizeof w);
            return 0;
        }
    }
    return latest<Codec>(h, n, out, seq, fn);
}

template <typename Codec>
inline int read_seq_fast(const shmds_ringbuffer_t *h, std::uint64_t seq, typename Codec::C *out,
                         ElemType own, const char *fn) noexcept {
    if (SHMDS_LIKELY(h && out && engine(h)->elem_type() == own)) {
        std::uint64_t w;
        if (SHMDS_LIKELY(engine(h)->read(seq, &w) == 0)) {
            std::memcpy(out, &w, sizeof w);
            return 0;
        }
    }
    return read_seq<Codec>(h, seq, out, fn);
}

template <typename Codec>
int to_list(const shmds_ringbuffer_t *h, typename Codec::C *out, std::uint64_t *seqs,
            std::size_t max, std::size_t *count, const char *fn) noexcept {
    static_assert(sizeof(typename Codec::C) == sizeof(std::uint64_t));
    CHECK_HANDLE(h, fn);
    CAPI_REQUIRE(count, fn, "count");
    if (!out && max) return capi::null_arg(fn, "out");
    const RingBuffer *e = engine(h);
    if (int r = need_kind<Codec>(e, fn)) return r;
    *count = 0;
    // The engine fills the caller's buffer with words, decoded in place after.
    std::size_t got = 0;
    auto *words = reinterpret_cast<std::uint64_t *>(out);
    if (int r = e->to_list(words, seqs, max, &got)) {
        *count = got;
        return r;
    }
    for (std::size_t i = 0; i < got; ++i) {
        typename Codec::C v;
        if (int r = Codec::decode(e->elem_type(), words[i], &v)) return r;
        std::memcpy(&out[i], &v, sizeof v);
        *count = i + 1;
    }
    return 0;
}

}  // namespace

extern "C" {

SHMDS_API int shmds_ringbuffer_config_init(shmds_ringbuffer_config_t *out, size_t struct_size,
                                           int type, uint64_t capacity) {
    const shmds_ringbuffer_config_t defaults = SHMDS_RINGBUFFER_CONFIG_INIT(type, capacity);
    return capi::init_versioned("shmds_ringbuffer_config_init", out, struct_size, defaults,
                                kConfigV1Size);
}

SHMDS_API int shmds_ringbuffer_create(const shmds_options_t *opts,
                                      const shmds_ringbuffer_config_t *cfg_in,
                                      shmds_ringbuffer_t **out) {
    static const char fn[] = "shmds_ringbuffer_create";
    shmds_ringbuffer_config_t cfg = SHMDS_RINGBUFFER_CONFIG_INIT(0, 0);
    if (int r = capi::read_versioned(fn, "cfg", cfg_in, cfg, kConfigV1Size)) return r;
    if (cfg.type < 0 || !rb::supported_type(std::uint32_t(cfg.type)))
        return fail(-EINVAL, "{}: type {} is not an integer type or SHMDS_TYPE_F64", fn, cfg.type);
    const rb::Config c{ElemType(cfg.type), cfg.capacity};
    return capi::make_handle<RingBuffer>(fn, opts, out,
                                         [&](auto *o, auto &e) { return RingBuffer::create(o, c, e); });
}

SHMDS_API int shmds_ringbuffer_open(const shmds_options_t *opts, int type,
                                    shmds_ringbuffer_t **out) {
    static const char fn[] = "shmds_ringbuffer_open";
    if (type != 0 && (type < 0 || !rb::supported_type(std::uint32_t(type))))
        return fail(-EINVAL, "{}: type {} is not a ring buffer type (an integer type, "
                             "SHMDS_TYPE_F64, or 0 for any)",
                    fn, type);
    return capi::make_handle<RingBuffer>(fn, opts, out, [&](auto *o, auto &e) {
        return RingBuffer::open(o, std::uint32_t(type), e);
    });
}

SHMDS_API void shmds_ringbuffer_close(shmds_ringbuffer_t *h) { capi::close_handle<RingBuffer>(h); }

SHMDS_API int shmds_ringbuffer_type(const shmds_ringbuffer_t *h) {
    CHECK_HANDLE(h, "shmds_ringbuffer_type");
    return int(engine(h)->elem_type());
}

SHMDS_API int shmds_ringbuffer_fd(const shmds_ringbuffer_t *h) {
    return capi::segment_fd<RingBuffer>(h, "shmds_ringbuffer_fd", kNoun);
}

SHMDS_API int shmds_ringbuffer_sync(const shmds_ringbuffer_t *h) {
    return capi::segment_sync<RingBuffer>(h, "shmds_ringbuffer_sync", kNoun);
}

SHMDS_API int shmds_ringbuffer_write_int(shmds_ringbuffer_t *h, int64_t value, uint64_t *seq) {
    return write_fast<IntCodec>(h, value, seq, ElemType::int64, "shmds_ringbuffer_write_int");
}
SHMDS_API int shmds_ringbuffer_write_uint(shmds_ringbuffer_t *h, uint64_t value, uint64_t *seq) {
    return write_fast<UintCodec>(h, value, seq, ElemType::uint64, "shmds_ringbuffer_write_uint");
}
SHMDS_API int shmds_ringbuffer_write_f64(shmds_ringbuffer_t *h, double value, uint64_t *seq) {
    return write_fast<F64Codec>(h, value, seq, ElemType::f64, "shmds_ringbuffer_write_f64");
}

SHMDS_API int shmds_ringbuffer_write_multi_int(shmds_ringbuffer_t *h, const int64_t *values,
                                               size_t n, uint64_t *first_seq) {
    return write_multi<IntCodec>(h, values, n, first_seq, "shmds_ringbuffer_write_multi_int");
}
SHMDS_API int shmds_ringbuffer_write_multi_uint(shmds_ringbuffer_t *h, const uint64_t *values,
                                                size_t n, uint64_t *first_seq) {
    return write_multi<UintCodec>(h, values, n, first_seq, "shmds_ringbuffer_write_multi_uint");
}
SHMDS_API int shmds_ringbuffer_write_multi_f64(shmds_ringbuffer_t *h, const double *values,
                                               size_t n, uint64_t *first_seq) {
    return write_multi<F64Codec>(h, values, n, first_seq, "shmds_ringbuffer_write_multi_f64");
}

SHMDS_API int shmds_ringbuffer_read_seq_int(const shmds_ringbuffer_t *h, uint64_t seq,
                                            int64_t *out) {
    return read_seq_fast<IntCodec>(h, seq, out, ElemType::int64, "shmds_ringbuffer_read_seq_int");
}
SHMDS_API int shmds_ringbuffer_read_seq_uint(const shmds_ringbuffer_t *h, uint64_t seq,
                                             uint64_t *out) {
    return read_seq_fast<UintCodec>(h, seq, out, ElemType::uint64, "shmds_ringbuffer_read_seq_uint");
}
SHMDS_API int shmds_ringbuffer_read_seq_f64(const shmds_ringbuffer_t *h, uint64_t seq,
                                            double *out) {
    return read_seq_fast<F64Codec>(h, seq, out, ElemType::f64, "shmds_ringbuffer_read_seq_f64");
}

SHMDS_API int shmds_ringbuffer_latest_int(const shmds_ringbuffer_t *h, uint64_t n, int64_t *out,
                                          uint64_t *seq) {
    return latest_fast<IntCodec>(h, n, out, seq, ElemType::int64, "shmds_ringbuffer_latest_int");
}
SHMDS_API int shmds_ringbuffer_latest_uint(const shmds_ringbuffer_t *h, uint64_t n,
                                           uint64_t *out, uint64_t *seq) {
    return latest_fast<UintCodec>(h, n, out, seq, ElemType::uint64, "shmds_ringbuffer_latest_uint");
}
SHMDS_API int shmds_ringbuffer_latest_f64(const shmds_ringbuffer_t *h, uint64_t n, double *out,
                                          uint64_t *seq) {
    return latest_fast<F64Codec>(h, n, out, seq, ElemType::f64, "shmds_ringbuffer_latest_f64");
}

SHMDS_API int shmds_ringbuffer_to_list_int(const shmds_ringbuffer_t *h, int64_t *out,
                                           uint64_t *seqs, size_t max, size_t *count) {
    return to_list<IntCodec>(h, out, seqs, max, count, "shmds_ringbuffer_to_list_int");
}
SHMDS_API int shmds_ringbuffer_to_list_uint(const shmds_ringbuffer_t *h, uint64_t *out,
                                            uint64_t *seqs, size_t max, size_t *count) {
    return to_list<UintCodec>(h, out, seqs, max, count, "shmds_ringbuffer_to_list_uint");
}
SHMDS_API int shmds_ringbuffer_to_list_f64(const shmds_ringbuffer_t *h, double *out,
                                           uint64_t *seqs, size_t max, size_t *count) {
    return to_list<F64Codec>(h, out, seqs, max, count, "shmds_ringbuffer_to_list_f64");
}

SHMDS_API uint64_t shmds_ringbuffer_size(const shmds_ringbuffer_t *h) {
    return h ? engine(h)->size() : 0;
}
SHMDS_API uint64_t shmds_ringbuffer_capacity(const shmds_ringbuffer_t *h) {
    return h ? engine(h)->capacity() : 0;
}
SHMDS_API uint64_t shmds_ringbuffer_head(const shmds_ringbuffer_t *h) {
    return h ? engine(h)->head() : 0;
}
SHMDS_API uint64_t shmds_ringbuffer_count(const shmds_ringbuffer_t *h) {
    return h ? engine(h)->head() : 0;
}
SHMDS_API uint64_t shmds_ringbuffer_overwrites(const shmds_ringbuffer_t *h) {
    return h ? engine(h)->overwrites() : 0;
}

SHMDS_API int shmds_ringbuffer_wait_for(shmds_ringbuffer_t *h, uint64_t count,
                                        int64_t timeout_ns) {
    return capi::timed<RingBuffer>(h, "shmds_ringbuffer_wait_for", kNoun, timeout_ns,
                                   [&](RingBuffer &e, const Deadline &dl) {
                                       return e.wait_for(count, dl);
                                   });
}

SHMDS_API int shmds_ringbuffer_stats(shmds_ringbuffer_t *h, shmds_ringbuffer_stats_t *stats) {
    static const char fn[] = "shmds_ringbuffer_stats";
    CHECK_HANDLE(h, fn);
    CAPI_REQUIRE(stats, fn, "stats");
    rb::Stats s;
    engine(h)->stats(s);
    shmds_ringbuffer_stats_t ours{};
    ours.capacity = s.capacity;
    ours.size = s.size;
    ours.count = s.count;
    ours.overwrites = s.overwrites;
    ours.stale_writes = s.stale_writes;
    ours.recoveries = s.recoveries;
    ours.segment_bytes = s.segment_bytes;
    ours.waiters = s.waiters;
    return capi::copy_versioned(fn, "stats", stats, ours, kStatsV1Size);
}

SHMDS_CAPI_EVENTFD_EXPORTS(shmds_ringbuffer, shmds_ringbuffer_t, RingBuffer, kNoun)

}  // extern "C"
