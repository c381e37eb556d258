// The exported stack functions: the slot-deque verbs (capi/slot_deque_verbs.hpp) at the
// stack's top. No stack logic lives here.
#include "slot_deque_verbs.hpp"
#include "stack/stack.hpp"

#include <shmds/stack.h>

using shmds::deque::Form;
using shmds::deque::Out;
using shmds::stack::kTop;
using shmds::stack::Stack;
namespace capi = shmds::capi;
namespace seq = shmds::capi::seq;

namespace {

Stack *engine(shmds_stack_t *s) noexcept { return capi::engine_of<Stack>(s); }
const Stack *engine(const shmds_stack_t *s) noexcept { return capi::engine_of<Stack>(s); }
constexpr char kNoun[] = "stack";
constexpr std::size_t kConfigV1Size = SHMDS_V1_SIZE(shmds_stack_config_t, max_len);
constexpr std::size_t kStatsV1Size = SHMDS_V1_SIZE(shmds_stack_stats_t, segment_bytes);

#define CHECK_HANDLE(s, fn) CAPI_REQUIRE(s, fn, kNoun)

// The int64 fast path, as the deque's (capi/deque.cpp).
[[gnu::noinline]] int push_int_checked(shmds_stack_t *s, int64_t value,
                                       int64_t timeout_ns) noexcept {
    static const char fn[] = "shmds_stack_push_int";
    CHECK_HANDLE(s, fn);
    return seq::push_one(engine(s), kTop, seq::ints_in(&value), timeout_ns, fn);
}

[[gnu::noinline]] int pop_int_checked(shmds_stack_t *s, int64_t *out,
                                      int64_t timeout_ns) noexcept {
    static const char fn[] = "shmds_stack_pop_int";
    CHECK_HANDLE(s, fn);
    CAPI_REQUIRE(out, fn, "out");
    std::size_t got = 0;
    return seq::pop(engine(s), kTop, Out{Form::ints, out}, 1, &got, timeout_ns, false, fn);
}

}  // namespace

extern "C" {

SHMDS_API int shmds_stack_config_init(shmds_stack_config_t *out, size_t struct_size, int type,
                                      uint64_t capacity) {
    const shmds_stack_config_t defaults = SHMDS_STACK_CONFIG_INIT(type, capacity);
    return capi::init_versioned("shmds_stack_config_init", out, struct_size, defaults,
                                kConfigV1Size);
}

SHMDS_API int shmds_stack_create(const shmds_options_t *opts, const shmds_stack_config_t *cfg_in,
                                 shmds_stack_t **out) {
    static const char fn[] = "shmds_stack_create";
    shmds_stack_config_t cfg = SHMDS_STACK_CONFIG_INIT(0, 0);
    if (int r = capi::read_versioned(fn, "cfg", cfg_in, cfg, kConfigV1Size)) return r;
    if (int r = seq::check_type(fn, cfg.type)) return r;
    const shmds::deque::Config c{shmds::core::ElemType(cfg.type), cfg.capacity, cfg.max_len};
    return capi::make_handle<Stack>(fn, opts, out,
                                    [&](auto *o, auto &e) { return Stack::create(o, c, e); });
}

SHMDS_API int shmds_stack_open(const shmds_options_t *opts, int type, shmds_stack_t **out) {
    static const char fn[] = "shmds_stack_open";
    if (type != SHMDS_STACK_ANY)
        if (int r = seq::check_type(fn, type)) return r;
    return capi::make_handle<Stack>(fn, opts, out, [&](auto *o, auto &e) {
        return Stack::open(o, std::uint32_t(type), e);
    });
}

SHMDS_API void shmds_stack_close(shmds_stack_t *s) { capi::close_handle<Stack>(s); }

SHMDS_API int shmds_stack_type(const shmds_stack_t *s) {
    CHECK_HANDLE(s, "shmds_stack_type");
    return int(engine(s)->elem_type());
}

SHMDS_API int shmds_stack_fd(const shmds_stack_t *s) {
    return capi::segment_fd<Stack>(s, "shmds_stack_fd", kNoun);
}

SHMDS_API int shmds_stack_sync(const shmds_stack_t *s) {
    return capi::segment_sync<Stack>(s, "shmds_stack_sync", kNoun);
}

SHMDS_API int shmds_stack_push_int(shmds_stack_t *s, int64_t value, int64_t timeout_ns) {
    if (SHMDS_LIKELY(s && timeout_ns >= SHMDS_FOREVER && engine(s)->is_i64())) {
        if (SHMDS_LIKELY(engine(s)->try_push_i64(kTop, value) == 0)) return 0;
    }
    return push_int_checked(s, value, timeout_ns);
}

SHMDS_API int shmds_stack_pop_int(shmds_stack_t *s, int64_t *out, int64_t timeout_ns) {
    if (SHMDS_LIKELY(s && out && timeout_ns >= SHMDS_FOREVER && engine(s)->is_i64())) {
        if (SHMDS_LIKELY(engine(s)->try_pop_i64(kTop, out) == 0)) return 0;
    }
    return pop_int_checked(s, out, timeout_ns);
}

// The _uint verbs: the _int verbs' checked path with uint64_t values (no fast path;
// any integer stack takes them, the element type only decides the range).
SHMDS_API int shmds_stack_push_uint(shmds_stack_t *s, uint64_t value, int64_t timeout_ns) {
    static const char fn[] = "shmds_stack_push_uint";
    CHECK_HANDLE(s, fn);
    return seq::push_one(engine(s), kTop, seq::uints_in(&value), timeout_ns, fn);
}

SHMDS_API int shmds_stack_pop_uint(shmds_stack_t *s, uint64_t *out, int64_t timeout_ns) {
    static const char fn[] = "shmds_stack_pop_uint";
    CHECK_HANDLE(s, fn);
    CAPI_REQUIRE(out, fn, "out");
    std::size_t got = 0;
    return seq::pop(engine(s), kTop, seq::uints_out(out), 1, &got, timeout_ns, false, fn);
}

SHMDS_API int shmds_stack_peek_uint(shmds_stack_t *s, uint64_t *out) {
    static const char fn[] = "shmds_stack_peek_uint";
    CHECK_HANDLE(s, fn);
    CAPI_REQUIRE(out, fn, "out");
    return seq::peek(engine(s), kTop, seq::uints_out(out), fn);
}

SHMDS_API int shmds_stack_push_multi_uint(shmds_stack_t *s, const uint64_t *values, size_t n,
                                          size_t *pushed, int64_t timeout_ns) {
    static const char fn[] = "shmds_stack_push_multi_uint";
    CHECK_HANDLE(s, fn);
    CAPI_REQUIRE(pushed, fn, "pushed");
    if (n) CAPI_REQUIRE(values, fn, "values");
    return seq::push(engine(s), kTop, seq::uints_in(values), n, pushed, timeout_ns, fn);
}

SHMDS_API int shmds_stack_pop_multi_uint(shmds_stack_t *s, uint64_t *out, size_t max,
                                         size_t *got, int64_t timeout_ns) {
    static const char fn[] = "shmds_stack_pop_multi_uint";
    CHECK_HANDLE(s, fn);
    CAPI_REQUIRE(got, fn, "got");
    if (max) CAPI_REQUIRE(out, fn, "out");
    return seq::pop(engine(s), kTop, seq::uints_out(out), max, got, timeout_ns, false, fn);
}

SHMDS_API int shmds_stack_drain_uint(shmds_stack_t *s, uint64_t *out, size_t max, size_t *got) {
    static const char fn[] = "shmds_stack_drain_uint";
    CHECK_HANDLE(s, fn);
    CAPI_REQUIRE(got, fn, "got");
    if (max) CAPI_REQUIRE(out, fn, "out");
    return seq::pop(engine(s), kTop, seq::uints_out(out), max, got, 0, true, fn);
}

SHMDS_API int shmds_stack_push_f64(shmds_stack_t *s, double value, int64_t timeout_ns) {
    static const char fn[] = "shmds_stack_push_f64";
    CHECK_HANDLE(s, fn);
    return seq::push_one(engine(s), kTop, seq::floats_in(&value), timeout_ns, fn);
}

SHMDS_API int shmds_stack_push_bytes(shmds_stack_t *s, const void *data, size_t len,
                                     int64_t timeout_ns) {
    static const char fn[] = "shmds_stack_push_bytes";
    CHECK_HANDLE(s, fn);
    return seq::push_one(engine(s), kTop, seq::bytes_in(&data, &len), timeout_ns, fn);
}

SHMDS_API int shmds_stack_pop_f64(shmds_stack_t *s, double *out, int64_t timeout_ns) {
    static const char fn[] = "shmds_stack_pop_f64";
    CHECK_HANDLE(s, fn);
    CAPI_REQUIRE(out, fn, "out");
    std::size_t got = 0;
    return seq::pop(engine(s), kTop, Out{Form::floats, nullptr, out}, 1, &got, timeout_ns, false,
                    fn);
}

SHMDS_API int shmds_stack_pop_bytes(shmds_stack_t *s, void *buf, size_t buf_size, size_t *len,
                                    int64_t timeout_ns) {
    static const char fn[] = "shmds_stack_pop_bytes";
    CHECK_HANDLE(s, fn);
    CAPI_REQUIRE(len, fn, "len");
    if (int r = seq::check_buf(buf, buf_size, fn)) return r;
    std::size_t got = 0;
    return seq::pop(engine(s), kTop, Out{Form::bytes, nullptr, nullptr, buf, buf_size, len}, 1,
                    &got, timeout_ns, false, fn);
}

SHMDS_API int shmds_stack_peek_int(shmds_stack_t *s, int64_t *out) {
    static const char fn[] = "shmds_stack_peek_int";
    CHECK_HANDLE(s, fn);
    CAPI_REQUIRE(out, fn, "out");
    return seq::peek(engine(s), kTop, Out{Form::ints, out}, fn);
}

SHMDS_API int shmds_stack_peek_f64(shmds_stack_t *s, double *out) {
    static const char fn[] = "shmds_stack_peek_f64";
    CHECK_HANDLE(s, fn);
    CAPI_REQUIRE(out, fn, "out");
    return seq::peek(engine(s), kTop, Out{Form::floats, nullptr, out}, fn);
}

SHMDS_API int shmds_stack_peek_bytes(shmds_stack_t *s, void *buf, size_t buf_size, size_t *len) {
    static const char fn[] = "shmds_stack_peek_bytes";
    CHECK_HANDLE(s, fn);
    CAPI_REQUIRE(len, fn, "len");
    if (int r = seq::check_buf(buf, buf_size, fn)) return r;
    return seq::peek(engine(s), kTop, Out{Form::bytes, nullptr, nullptr, buf, buf_size, len}, fn);
}

SHMDS_API int shmds_stack_push_multi_int(shmds_stack_t *s, const int64_t *values, size_t n,
                                         size_t *pushed, int64_t timeout_ns) {
    static const char fn[] = "shmds_stack_push_multi_int";
    CHECK_HANDLE(s, fn);
    CAPI_REQUIRE(pushed, fn, "pushed");
    if (n) CAPI_REQUIRE(values, fn, "values");
    return seq::push(engine(s), kTop, seq::ints_in(values), n, pushed, timeout_ns, fn);
}

SHMDS_API int shmds_stack_push_multi_f64(shmds_stack_t *s, const double *values, size_t n,
                                         size_t *pushed, int64_t timeout_ns) {
    static const char fn[] = "shmds_stack_push_multi_f64";
    CHECK_HANDLE(s, fn);
    CAPI_REQUIRE(pushed, fn, "pushed");
    if (n) CAPI_REQUIRE(values, fn, "values");
    return seq::push(engine(s), kTop, seq::floats_in(values), n, pushed, timeout_ns, fn);
}

SHMDS_API int shmds_stack_push_multi_bytes(shmds_stack_t *s, const void *const *datas,
                                           const size_t *lens, size_t n, size_t *pushed,
                                           int64_t timeout_ns) {
    static const char fn[] = "shmds_stack_push_multi_bytes";
    CHECK_HANDLE(s, fn);
    CAPI_REQUIRE(pushed, fn, "pushed");
    if (n) {
        CAPI_REQUIRE(datas, fn, "datas");
        CAPI_REQUIRE(lens, fn, "lens");
    }
    return seq::push(engine(s), kTop, seq::bytes_in(datas, lens), n, pushed, timeout_ns, fn);
}

SHMDS_API int shmds_stack_pop_multi_int(shmds_stack_t *s, int64_t *out, size_t max, size_t *got,
                                        int64_t timeout_ns) {
    static const char fn[] = "shmds_stack_pop_multi_int";
    CHECK_HANDLE(s, fn);
    CAPI_REQUIRE(got, fn, "got");
    if (max) CAPI_REQUIRE(out, fn, "out");
    return seq::pop(engine(s), kTop, Out{Form::ints, out}, max, got, timeout_ns, false, fn);
}

SHMDS_API int shmds_stack_pop_multi_f64(shmds_stack_t *s, double *out, size_t max, size_t *got,
                                        int64_t timeout_ns) {
    static const char fn[] = "shmds_stack_pop_multi_f64";
    CHECK_HANDLE(s, fn);
    CAPI_REQUIRE(got, fn, "got");
    if (max) CAPI_REQUIRE(out, fn, "out");
    return seq::pop(engine(s), kTop, Out{Form::floats, nullptr, out}, max, got, timeout_ns, false,
                    fn);
}

SHMDS_API int shmds_stack_pop_multi_bytes(shmds_stack_t *s, void *buf, size_t buf_size,
                                          size_t *lens, size_t max, size_t *got,
                                          int64_t timeout_ns) {
    static const char fn[] = "shmds_stack_pop_multi_bytes";
    CHECK_HANDLE(s, fn);
    CAPI_REQUIRE(got, fn, "got");
    if (max) CAPI_REQUIRE(lens, fn, "lens");
    if (int r = seq::check_buf(buf, buf_size, fn)) return r;
    return seq::pop(engine(s), kTop, Out{Form::bytes, nullptr, nullptr, buf, buf_size, lens}, max,
                    got, timeout_ns, false, fn);
}

SHMDS_API int shmds_stack_drain_int(shmds_stack_t *s, int64_t *out, size_t max, size_t *got) {
    static const char fn[] = "shmds_stack_drain_int";
    CHECK_HANDLE(s, fn);
    CAPI_REQUIRE(got, fn, "got");
    if (max) CAPI_REQUIRE(out, fn, "out");
    return seq::pop(engine(s), kTop, Out{Form::ints, out}, max, got, 0, true, fn);
}

SHMDS_API int shmds_stack_drain_f64(shmds_stack_t *s, double *out, size_t max, size_t *got) {
    static const char fn[] = "shmds_stack_drain_f64";
    CHECK_HANDLE(s, fn);
    CAPI_REQUIRE(got, fn, "got");
    if (max) CAPI_REQUIRE(out, fn, "out");
    return seq::pop(engine(s), kTop, Out{Form::floats, nullptr, out}, max, got, 0, true, fn);
}

SHMDS_API int shmds_stack_drain_bytes(shmds_stack_t *s, void *buf, size_t buf_size, size_t *lens,
                                      size_t max, size_t *got) {
    static const char fn[] = "shmds_stack_drain_bytes";
    CHECK_HANDLE(s, fn);
    CAPI_REQUIRE(got, fn, "got");
    if (max) CAPI_REQUIRE(lens, fn, "lens");
    if (int r = seq::check_buf(buf, buf_size, fn)) return r;
    return seq::pop(engine(s), kTop, Out{Form::bytes, nullptr, nullptr, buf, buf_size, lens}, max,
                    got, 0, true, fn);
}

SHMDS_API uint64_t shmds_stack_size(const shmds_stack_t *s) { return s ? engine(s)->size() : 0; }

SHMDS_API uint64_t shmds_stack_capacity(const shmds_stack_t *s) {
    return s ? engine(s)->capacity() : 0;
}

SHMDS_API int shmds_stack_is_empty(const shmds_stack_t *s) {
    CHECK_HANDLE(s, "shmds_stack_is_empty");
    return engine(s)->size() == 0;
}

SHMDS_API int shmds_stack_is_full(const shmds_stack_t *s) {
    CHECK_HANDLE(s, "shmds_stack_is_full");
    return engine(s)->is_full();
}

SHMDS_API int shmds_stack_clear(shmds_stack_t *s, uint64_t *removed) {
    CHECK_HANDLE(s, "shmds_stack_clear");
    return seq::clear(engine(s), removed);
}

SHMDS_API int shmds_stack_stats(shmds_stack_t *s, shmds_stack_stats_t *stats) {
    static const char fn[] = "shmds_stack_stats";
    CHECK_HANDLE(s, fn);
    return seq::stats(engine(s), stats, kStatsV1Size, fn);
}

SHMDS_CAPI_EVENTFD_EXPORTS(shmds_stack, shmds_stack_t, Stack, kNoun)

}  // extern "C"
