// The exported deque functions: argument checks and the turn into the slot-deque engine
// (capi/slot_deque_verbs.hpp holds what the stack shares). No deque logic lives here.
#include "deque/deque.hpp"
#include "slot_deque_verbs.hpp"

#include <shmds/deque.h>

using shmds::core::fail;
using shmds::deque::Deque;
using shmds::deque::End;
using shmds::deque::Form;
using shmds::deque::Out;
namespace capi = shmds::capi;
namespace seq = shmds::capi::seq;

namespace {

Deque *engine(shmds_deque_t *d) noexcept { return capi::engine_of<Deque>(d); }
const Deque *engine(const shmds_deque_t *d) noexcept { return capi::engine_of<Deque>(d); }
constexpr char kNoun[] = "deque";
constexpr std::size_t kConfigV1Size = SHMDS_V1_SIZE(shmds_deque_config_t, max_len);
constexpr std::size_t kStatsV1Size = SHMDS_V1_SIZE(shmds_deque_stats_t, segment_bytes);

#define CHECK_HANDLE(d, fn) CAPI_REQUIRE(d, fn, kNoun)

SHMDS_COLD int bad_end(const char *fn, int end) noexcept {
    return fail(-EINVAL, "{}: end {} is neither SHMDS_DEQUE_FRONT nor SHMDS_DEQUE_BACK", fn, end);
}

// The handle and the end, checked: the start of every verb.
#define CHECK_HANDLE_END(d, end, fn)                                            \
    CHECK_HANDLE(d, fn);                                                        \
    if (SHMDS_UNLIKELY((end) != SHMDS_DEQUE_FRONT && (end) != SHMDS_DEQUE_BACK)) \
        return bad_end(fn, end)

End end_of(int end) noexcept { return end == SHMDS_DEQUE_BACK ? End::back : End::front; }

// push_int and pop_int have a fast path, as the queue's: an int64 deque with room (or an
// item) and a free lock finishes in one inline attempt, before any deadline is built.
// Everything else goes the checked way, kept out of line.
[[gnu::noinline]] int push_int_checked(shmds_deque_t *d, int end, int64_t value,
                                       int64_t timeout_ns) noexcept {
    static const char fn[] = "shmds_deque_push_int";
    CHECK_HANDLE_END(d, end, fn);
    return seq::push_one(engine(d), end_of(end), seq::ints_in(&value), timeout_ns, fn);
}

[[gnu::noinline]] int pop_int_checked(shmds_deque_t *d, int end, int64_t *out,
                                      int64_t timeout_ns) noexcept {
    static const char fn[] = "shmds_deque_pop_int";
    CHECK_HANDLE_END(d, end, fn);
    CAPI_REQUIRE(out, fn, "out");
    std::size_t got = 0;
    Out o{Form::ints, out};
    return seq::pop(engine(d), end_of(end), o, 1, &got, timeout_ns, false, fn);
}

}  // namespace

extern "C" {

SHMDS_API int shmds_deque_config_init(shmds_deque_config_t *out, size_t struct_size, int type,
                                      uint64_t capacity) {
    const shmds_deque_config_t defaults = SHMDS_DEQUE_CONFIG_INIT(type, capacity);
    return capi::init_versioned("shmds_deque_config_init", out, struct_size, defaults,
                                kConfigV1Size);
}

SHMDS_API int shmds_deque_create(const shmds_options_t *opts, const shmds_deque_config_t *cfg_in,
                                 shmds_deque_t **out) {
    static const char fn[] = "shmds_deque_create";
    shmds_deque_config_t cfg = SHMDS_DEQUE_CONFIG_INIT(0, 0);
    if (int r = capi::read_versioned(fn, "cfg", cfg_in, cfg, kConfigV1Size)) return r;
    if (int r = seq::check_type(fn, cfg.type)) return r;
    const shmds::deque::Config c{shmds::core::ElemType(cfg.type), cfg.capacity, cfg.max_len};
    return capi::make_handle<Deque>(fn, opts, out,
                                    [&](auto *o, auto &e) { return Deque::create(o, c, e); });
}

SHMDS_API int shmds_deque_open(const shmds_options_t *opts, int type, shmds_deque_t **out) {
    static const char fn[] = "shmds_deque_open";
    if (type != SHMDS_DEQUE_ANY)
        if (int r = seq::check_type(fn, type)) return r;
    return capi::make_handle<Deque>(fn, opts, out, [&](auto *o, auto &e) {
        return Deque::open(o, std::uint32_t(type), e);
    });
}

SHMDS_API void shmds_deque_close(shmds_deque_t *d) { capi::close_handle<Deque>(d); }

SHMDS_API int shmds_deque_type(const shmds_deque_t *d) {
    CHECK_HANDLE(d, "shmds_deque_type");
    return int(engine(d)->elem_type());
}

SHMDS_API int shmds_deque_fd(const shmds_deque_t *d) {
    return capi::segment_fd<Deque>(d, "shmds_deque_fd", kNoun);
}

SHMDS_API int shmds_deque_sync(const shmds_deque_t *d) {
    return capi::segment_sync<Deque>(d, "shmds_deque_sync", kNoun);
}

SHMDS_API int shmds_deque_push_int(shmds_deque_t *d, int end, int64_t value, int64_t timeout_ns) {
    if (SHMDS_LIKELY(d && timeout_ns >= SHMDS_FOREVER && engine(d)->is_i64() &&
                     (end == SHMDS_DEQUE_BACK || end == SHMDS_DEQUE_FRONT))) {
        if (SHMDS_LIKELY(engine(d)->try_push_i64(end_of(end), value) == 0)) return 0;
    }
    return push_int_checked(d, end, value, timeout_ns);
}

SHMDS_API int shmds_deque_pop_int(shmds_deque_t *d, int end, int64_t *out, int64_t timeout_ns) {
    if (SHMDS_LIKELY(d && out && timeout_ns >= SHMDS_FOREVER && engine(d)->is_i64() &&
                     (end == SHMDS_DEQUE_BACK || end == SHMDS_DEQUE_FRONT))) {
        if (SHMDS_LIKELY(engine(d)->try_pop_i64(end_of(end), out) == 0)) return 0;
    }
    return pop_int_checked(d, end, out, timeout_ns);
}

// The _uint verbs: the _int verbs' checked path with uint64_t values (no fast path;
// any integer deque takes them, the element type only decides the range).
SHMDS_API int shmds_deque_push_uint(shmds_deque_t *d, int end, uint64_t value,
                                    int64_t timeout_ns) {
    static const char fn[] = "shmds_deque_push_uint";
    CHECK_HANDLE_END(d, end, fn);
    return seq::push_one(engine(d), end_of(end), seq::uints_in(&value), timeout_ns, fn);
}

SHMDS_API int shmds_deque_pop_uint(shmds_deque_t *d, int end, uint64_t *out, int64_t timeout_ns) {
    static const char fn[] = "shmds_deque_pop_uint";
    CHECK_HANDLE_END(d, end, fn);
    CAPI_REQUIRE(out, fn, "out");
    std::size_t got = 0;
    return seq::pop(engine(d), end_of(end), seq::uints_out(out), 1, &got, timeout_ns, false, fn);
}

SHMDS_API int shmds_deque_peek_uint(shmds_deque_t *d, int end, uint64_t *out) {
    static const char fn[] = "shmds_deque_peek_uint";
    CHECK_HANDLE_END(d, end, fn);
    CAPI_REQUIRE(out, fn, "out");
    return seq::peek(engine(d), end_of(end), seq::uints_out(out), fn);
}

SHMDS_API int shmds_deque_push_multi_uint(shmds_deque_t *d, int end, const uint64_t *values,
                                          size_t n, size_t *pushed, int64_t timeout_ns) {
    static const char fn[] = "shmds_deque_push_multi_uint";
    CHECK_HANDLE_END(d, end, fn);
    CAPI_REQUIRE(pushed, fn, "pushed");
    if (n) CAPI_REQUIRE(values, fn, "values");
    return seq::push(engine(d), end_of(end), seq::uints_in(values), n, pushed, timeout_ns, fn);
}

SHMDS_API int shmds_deque_pop_multi_uint(shmds_deque_t *d, int end, uint64_t *out, size_t max,
                                         size_t *got, int64_t timeout_ns) {
    static const char fn[] = "shmds_deque_pop_multi_uint";
    CHECK_HANDLE_END(d, end, fn);
    CAPI_REQUIRE(got, fn, "got");
    if (max) CAPI_REQUIRE(out, fn, "out");
    return seq::pop(engine(d), end_of(end), seq::uints_out(out), max, got, timeout_ns, false, fn);
}

SHMDS_API int shmds_deque_drain_uint(shmds_deque_t *d, int end, uint64_t *out, size_t max,
                                     size_t *got) {
    static const char fn[] = "shmds_deque_drain_uint";
    CHECK_HANDLE_END(d, end, fn);
    CAPI_REQUIRE(got, fn, "got");
    if (max) CAPI_REQUIRE(out, fn, "out");
    return seq::pop(engine(d), end_of(end), seq::uints_out(out), max, got, 0, true, fn);
}

SHMDS_API int shmds_deque_push_f64(shmds_deque_t *d, int end, double value, int64_t timeout_ns) {
    static const char fn[] = "shmds_deque_push_f64";
    CHECK_HANDLE_END(d, end, fn);
    return seq::push_one(engine(d), end_of(end), seq::floats_in(&value), timeout_ns, fn);
}

SHMDS_API int shmds_deque_push_bytes(shmds_deque_t *d, int end, const void *data, size_t len,
                                     int64_t timeout_ns) {
    static const char fn[] = "shmds_deque_push_bytes";
    CHECK_HANDLE_END(d, end, fn);
    return seq::push_one(engine(d), end_of(end), seq::bytes_in(&data, &len), timeout_ns, fn);
}

SHMDS_API int shmds_deque_pop_f64(shmds_deque_t *d, int end, double *out, int64_t timeout_ns) {
    static const char fn[] = "shmds_deque_pop_f64";
    CHECK_HANDLE_END(d, end, fn);
    CAPI_REQUIRE(out, fn, "out");
    std::size_t got = 0;
    Out o{Form::floats, nullptr, out};
    return seq::pop(engine(d), end_of(end), o, 1, &got, timeout_ns, false, fn);
}

SHMDS_API int shmds_deque_pop_bytes(shmds_deque_t *d, int end, void *buf, size_t buf_size,
                                    size_t *len, int64_t timeout_ns) {
    static const char fn[] = "shmds_deque_pop_bytes";
    CHECK_HANDLE_END(d, end, fn);
    CAPI_REQUIRE(len, fn, "len");
    if (int r = seq::check_buf(buf, buf_size, fn)) return r;
    std::size_t got = 0;
    Out o{Form::bytes, nullptr, nullptr, buf, buf_size, len};
    return seq::pop(engine(d), end_of(end), o, 1, &got, timeout_ns, false, fn);
}

SHMDS_API int shmds_deque_peek_int(shmds_deque_t *d, int end, int64_t *out) {
    static const char fn[] = "shmds_deque_peek_int";
    CHECK_HANDLE_END(d, end, fn);
    CAPI_REQUIRE(out, fn, "out");
    return seq::peek(engine(d), end_of(end), Out{Form::ints, out}, fn);
}

SHMDS_API int shmds_deque_peek_f64(shmds_deque_t *d, int end, double *out) {
    static const char fn[] = "shmds_deque_peek_f64";
    CHECK_HANDLE_END(d, end, fn);
    CAPI_REQUIRE(out, fn, "out");
    return seq::peek(engine(d), end_of(end), Out{Form::floats, nullptr, out}, fn);
}

SHMDS_API int shmds_deque_peek_bytes(shmds_deque_t *d, int end, void *buf, size_t buf_size,
                                     size_t *len) {
    static const char fn[] = "shmds_deque_peek_bytes";
    CHECK_HANDLE_END(d, end, fn);
    CAPI_REQUIRE(len, fn, "len");
    if (int r = seq::check_buf(buf, buf_size, fn)) return r;
    return seq::peek(engine(d), end_of(end), Out{Form::bytes, nullptr, nullptr, buf, buf_size, len},
                     fn);
}

SHMDS_API int shmds_deque_push_multi_int(shmds_deque_t *d, int end, const int64_t *values,
                                         size_t n, size_t *pushed, int64_t timeout_ns) {
    static const char fn[] = "shmds_deque_push_multi_int";
    CHECK_HANDLE_END(d, end, fn);
    CAPI_REQUIRE(pushed, fn, "pushed");
    if (n) CAPI_REQUIRE(values, fn, "values");
    return seq::push(engine(d), end_of(end), seq::ints_in(values), n, pushed, timeout_ns, fn);
}

SHMDS_API int shmds_deque_push_multi_f64(shmds_deque_t *d, int end, const double *values,
                                         size_t n, size_t *pushed, int64_t timeout_ns) {
    static const char fn[] = "shmds_deque_push_multi_f64";
    CHECK_HANDLE_END(d, end, fn);
    CAPI_REQUIRE(pushed, fn, "pushed");
    if (n) CAPI_REQUIRE(values, fn, "values");
    return seq::push(engine(d), end_of(end), seq::floats_in(values), n, pushed, timeout_ns, fn);
}

SHMDS_API int shmds_deque_push_multi_bytes(shmds_deque_t *d, int end, const void *const *datas,
                                           const size_t *lens, size_t n, size_t *pushed,
                                           int64_t timeout_ns) {
    static const char fn[] = "shmds_deque_push_multi_bytes";
    CHECK_HANDLE_END(d, end, fn);
    CAPI_REQUIRE(pushed, fn, "pushed");
    if (n) {
        CAPI_REQUIRE(datas, fn, "datas");
        CAPI_REQUIRE(lens, fn, "lens");
    }
    return seq::push(engine(d), end_of(end), seq::bytes_in(datas, lens), n, pushed, timeout_ns,
                     fn);
}

SHMDS_API int shmds_deque_pop_multi_int(shmds_deque_t *d, int end, int64_t *out, size_t max,
                                        size_t *got, int64_t timeout_ns) {
    static const char fn[] = "shmds_deque_pop_multi_int";
    CHECK_HANDLE_END(d, end, fn);
    CAPI_REQUIRE(got, fn, "got");
    if (max) CAPI_REQUIRE(out, fn, "out");
    return seq::pop(engine(d), end_of(end), Out{Form::ints, out}, max, got, timeout_ns, false, fn);
}

SHMDS_API int shmds_deque_pop_multi_f64(shmds_deque_t *d, int end, double *out, size_t max,
                                        size_t *got, int64_t timeout_ns) {
    static const char fn[] = "shmds_deque_pop_multi_f64";
    CHECK_HANDLE_END(d, end, fn);
    CAPI_REQUIRE(got, fn, "got");
    if (max) CAPI_REQUIRE(out, fn, "out");
    return seq::pop(engine(d), end_of(end), Out{Form::floats, nullptr, out}, max, got, timeout_ns,
                    false, fn);
}

SHMDS_API int shmds_deque_pop_multi_bytes(shmds_deque_t *d, int end, void *buf, size_t buf_size,
                                          size_t *lens, size_t max, size_t *got,
                                          int64_t timeout_ns) {
    static const char fn[] = "shmds_deque_pop_multi_bytes";
    CHECK_HANDLE_END(d, end, fn);
    CAPI_REQUIRE(got, fn, "got");
    if (max) CAPI_REQUIRE(lens, fn, "lens");
    if (int r = seq::check_buf(buf, buf_size, fn)) return r;
    return seq::pop(engine(d), end_of(end), Out{Form::bytes, nullptr, nullptr, buf, buf_size, lens},
                    max, got, timeout_ns, false, fn);
}

SHMDS_API int shmds_deque_drain_int(shmds_deque_t *d, int end, int64_t *out, size_t max,
                                    size_t *got) {
    static const char fn[] = "shmds_deque_drain_int";
    CHECK_HANDLE_END(d, end, fn);
    CAPI_REQUIRE(got, fn, "got");
    if (max) CAPI_REQUIRE(out, fn, "out");
    return seq::pop(engine(d), end_of(end), Out{Form::ints, out}, max, got, 0, true, fn);
}

SHMDS_API int shmds_deque_drain_f64(shmds_deque_t *d, int end, double *out, size_t max,
                                    size_t *got) {
    static const char fn[] = "shmds_deque_drain_f64";
    CHECK_HANDLE_END(d, end, fn);
    CAPI_REQUIRE(got, fn, "got");
    if (max) CAPI_REQUIRE(out, fn, "out");
    return seq::pop(engine(d), end_of(end), Out{Form::floats, nullptr, out}, max, got, 0, true,
                    fn);
}

SHMDS_API int shmds_deque_drain_bytes(shmds_deque_t *d, int end, void *buf, size_t buf_size,
                                      size_t *lens, size_t max, size_t *got) {
    static const char fn[] = "shmds_deque_drain_bytes";
    CHECK_HANDLE_END(d, end, fn);
    CAPI_REQUIRE(got, fn, "got");
    if (max) CAPI_REQUIRE(lens, fn, "lens");
    if (int r = seq::check_buf(buf, buf_size, fn)) return r;
    return seq::pop(engine(d), end_of(end), Out{Form::bytes, nullptr, nullptr, buf, buf_size, lens},
                    max, got, 0, true, fn);
}

SHMDS_API uint64_t shmds_deque_size(const shmds_deque_t *d) { return d ? engine(d)->size() : 0; }

SHMDS_API uint64_t shmds_deque_capacity(const shmds_deque_t *d) {
    return d ? engine(d)->capacity() : 0;
}

SHMDS_API int shmds_deque_is_empty(const shmds_deque_t *d) {
    CHECK_HANDLE(d, "shmds_deque_is_empty");
    return engine(d)->size() == 0;
}

SHMDS_API int shmds_deque_is_full(const shmds_deque_t *d) {
    CHECK_HANDLE(d, "shmds_deque_is_full");
    return engine(d)->is_full();
}

SHMDS_API int shmds_deque_clear(shmds_deque_t *d, uint64_t *removed) {
    CHECK_HANDLE(d, "shmds_deque_clear");
    return seq::clear(engine(d), removed);
}

SHMDS_API int shmds_deque_stats(shmds_deque_t *d, shmds_deque_stats_t *stats) {
    static const char fn[] = "shmds_deque_stats";
    CHECK_HANDLE(d, fn);
    return seq::stats(engine(d), stats, kStatsV1Size, fn);
}

SHMDS_CAPI_EVENTFD_EXPORTS(shmds_deque, shmds_deque_t, Deque, kNoun)

}  // extern "C"
