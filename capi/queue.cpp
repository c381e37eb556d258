// The exported queue functions: check arguments, turn the handle into the engine,
// map failures to codes. No queue logic lives here.
#include "lifecycle.hpp"
#include "queue/queue.hpp"

#include <shmds/queue.h>

#include <cstring>

using shmds::core::Deadline;
using shmds::core::fail;
using shmds::queue::ByteSpan;
using shmds::queue::End;
using shmds::queue::PopBuffer;
using shmds::queue::Queue;
namespace capi = shmds::capi;

namespace {

Queue *engine(shmds_queue_t *q) noexcept { return capi::engine_of<Queue>(q); }
const Queue *engine(const shmds_queue_t *q) noexcept { return capi::engine_of<Queue>(q); }
constexpr char kNoun[] = "queue";

int need_int(const Queue *q, const char *fn) noexcept {
    if (SHMDS_UNLIKELY(q->is_bytes()))
        return fail(SHMDS_EVARIANT, "{}: the queue holds bytes; use the _bytes verbs", fn);
    return 0;
}

int need_bytes(const Queue *q, const char *fn) noexcept {
    if (SHMDS_UNLIKELY(!q->is_bytes()))
        return fail(SHMDS_EVARIANT, "{}: the queue holds {} integers; use the _int verbs", fn,
                    shmds::queue::variant_name(std::uint32_t(q->variant())));
    return 0;
}

#define CHECK_HANDLE(q, fn) CAPI_REQUIRE(q, fn, kNoun)

constexpr std::size_t kConfigV1Size = SHMDS_V1_SIZE(shmds_queue_config_t, arena_bytes);
constexpr std::size_t kStatsV1Size = SHMDS_V1_SIZE(shmds_queue_stats_t, segment_bytes);

int push_bytes_at(shmds_queue_t *q, End end, const void *data, std::size_t len,
                  std::int64_t timeout_ns, const char *fn) noexcept {
    CHECK_HANDLE(q, fn);
    if (int r = need_bytes(engine(q), fn)) return r;
    if (!data && len) return capi::null_arg(fn, "data");
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    ByteSpan msg{data, len};
    std::size_t pushed = 0;
    return engine(q)->bytes().push(end, &msg, 1, &pushed, dl);
}

int pop_bytes_at(shmds_queue_t *q, End end, void *buf, std::size_t buf_size, std::size_t *len,
                 std::int64_t timeout_ns, const char *fn) noexcept {
    CHECK_HANDLE(q, fn);
    if (int r = need_bytes(engine(q), fn)) return r;
    CAPI_REQUIRE(len, fn, "len");
    if (!buf && buf_size) return capi::null_arg(fn, "buf");
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    std::size_t got = 0;
    PopBuffer out{buf, buf_size, len, 1};
    return engine(q)->bytes().pop(end, out, &got, dl, false);
}

int pop_multi_bytes(shmds_queue_t *q, void *buf, std::size_t buf_size, std::size_t *lens,
                    std::size_t max, std::size_t *got, const Deadline &dl, bool allow_empty,
                    const char *fn) noexcept {
    CHECK_HANDLE(q, fn);
    if (int r = need_bytes(engine(q), fn)) return r;
    CAPI_REQUIRE(got, fn, "got");
    *got = 0;
    if (max == 0) return 0;
    CAPI_REQUIRE(lens, fn, "lens");
    if (!buf && buf_size) return capi::null_arg(fn, "buf");
    PopBuffer out{buf, buf_size, lens, max};
    return engine(q)->bytes().pop(End::front, out, got, dl, allow_empty);
}

}  // namespace

extern "C" {

SHMDS_API int shmds_queue_config_init(shmds_queue_config_t *out, size_t struct_size,
                                      int variant, uint64_t capacity) {
    const shmds_queue_config_t defaults = SHMDS_QUEUE_CONFIG_INIT(variant, capacity);
    return capi::init_versioned("shmds_queue_config_init", out, struct_size, defaults,
                                kConfigV1Size);
}

SHMDS_API int shmds_queue_create(const shmds_options_t *opts,
                                 const shmds_queue_config_t *cfg_in, shmds_queue_t **out) {
    static const char fn[] = "shmds_queue_create";
    shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(0, 0);
    if (int r = capi::read_versioned(fn, "cfg", cfg_in, cfg, kConfigV1Size)) return r;
    if (int r = capi::check_ring_variant(fn, cfg.variant, "SHMDS_QUEUE")) return r;
    const shmds::queue::Config c{shmds::queue::Variant(cfg.variant), cfg.capacity,
                                 cfg.arena_bytes};
    return capi::make_handle<Queue>(fn, opts, out,
                                    [&](auto *o, auto &e) { return Queue::create(o, c, e); });
}

SHMDS_API int shmds_queue_open(const shmds_options_t *opts, int variant, shmds_queue_t **out) {
    static const char fn[] = "shmds_queue_open";
    if (variant < SHMDS_QUEUE_ANY || variant > SHMDS_QUEUE_BYTES)
        return fail(-EINVAL, "{}: variant {} is not a queue variant", fn, variant);
    return capi::make_handle<Queue>(fn, opts, out, [&](auto *o, auto &e) {
        return Queue::open(o, std::uint32_t(variant), e);
    });
}

SHMDS_API void shmds_queue_close(shmds_queue_t *q) { capi::close_handle<Queue>(q); }

SHMDS_API int shmds_queue_variant(const shmds_queue_t *q) {
    CHECK_HANDLE(q, "shmds_queue_variant");
    return int(engine(q)->variant());
}

SHMDS_API int shmds_queue_fd(const shmds_queue_t *q) {
    return capi::segment_fd<Queue>(q, "shmds_queue_fd", kNoun);
}

SHMDS_API int shmds_queue_sync(const shmds_queue_t *q) {
    return capi::segment_sync<Queue>(q, "shmds_queue_sync", kNoun);
}

// push_int and pop_int have a fast path: an integer queue that has room (or an item)
// finishes in one inline attempt, before any deadline is built, since a positive
// timeout reads the clock and only a call about to wait needs it. Everything else (a
// full or empty ring, bad arguments, a bytes queue) goes the checked blocking way,
// kept out of line so the fast path stays a small function.
namespace {

[[gnu::noinline]] int push_int_blocking(shmds_queue_t *q, int64_t value,
                                        int64_t timeout_ns) noexcept {
    static const char fn[] = "shmds_queue_push_int";
    CHECK_HANDLE(q, fn);
    Queue *e = engine(q);
    if (int r = need_int(e, fn)) return r;
    if (int r = e->check_range(value)) return r;
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return e->push_int(value, dl);
}

[[gnu::noinline]] int pop_int_blocking(shmds_queue_t *q, int64_t *out,
                                       int64_t timeout_ns) noexcept {
    static const char fn[] = "shmds_queue_pop_int";
    CHECK_HANDLE(q, fn);
    CAPI_REQUIRE(out, fn, "out");
    Queue *e = engine(q);
    if (int r = need_int(e, fn)) return r;
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return e->pop_int(out, dl);
}

}  // namespace

SHMDS_API int shmds_queue_push_int(shmds_queue_t *q, int64_t value, int64_t timeout_ns) {
    if (SHMDS_LIKELY(q && timeout_ns >= SHMDS_FOREVER && !engine(q)->is_bytes())) {
        const int r = engine(q)->try_push_int(value);
        if (SHMDS_LIKELY(r != -EAGAIN)) return r;
    }
    return push_int_blocking(q, value, timeout_ns);
}

SHMDS_API int shmds_queue_pop_int(shmds_queue_t *q, int64_t *out, int64_t timeout_ns) {
    if (SHMDS_LIKELY(q && out && timeout_ns >= SHMDS_FOREVER && !engine(q)->is_bytes())) {
        const int r = engine(q)->try_pop_int(out);
        if (SHMDS_LIKELY(r != -EAGAIN)) return r;
    }
    return pop_int_blocking(q, out, timeout_ns);
}

SHMDS_API int shmds_queue_push_multi_int(shmds_queue_t *q, const int64_t *values, size_t n,
                                         size_t *pushed, int64_t timeout_ns) {
    static const char fn[] = "shmds_queue_push_multi_int";
    CHECK_HANDLE(q, fn);
    Queue *e = engine(q);
    if (int r = need_int(e, fn)) return r;
    CAPI_REQUIRE(pushed, fn, "pushed");
    *pushed = 0;
    if (n == 0) return 0;
    CAPI_REQUIRE(values, fn, "values");
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return e->push_multi_int(values, n, pushed, dl);
}

SHMDS_API int shmds_queue_pop_multi_int(shmds_queue_t *q, int64_t *out, size_t max, size_t *got,
                                        int64_t timeout_ns) {
    static const char fn[] = "shmds_queue_pop_multi_int";
    CHECK_HANDLE(q, fn);
    Queue *e = engine(q);
    if (int r = need_int(e, fn)) return r;
    CAPI_REQUIRE(got, fn, "got");
    *got = 0;
    if (max == 0) return 0;
    CAPI_REQUIRE(out, fn, "out");
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return e->pop_multi_int(out, max, got, dl, false);
}

SHMDS_API int shmds_queue_drain_int(shmds_queue_t *q, int64_t *out, size_t max, size_t *got) {
    static const char fn[] = "shmds_queue_drain_int";
    CHECK_HANDLE(q, fn);
    Queue *e = engine(q);
    if (int r = need_int(e, fn)) return r;
    CAPI_REQUIRE(got, fn, "got");
    *got = 0;
    if (max == 0) return 0;
    CAPI_REQUIRE(out, fn, "out");
    return e->pop_multi_int(out, max, got, Deadline::from_timeout(0), true);
}

SHMDS_API int shmds_queue_peek_int(const shmds_queue_t *q, int64_t *out) {
    static const char fn[] = "shmds_queue_peek_int";
    CHECK_HANDLE(q, fn);
    CAPI_REQUIRE(out, fn, "out");
    const Queue *e = engine(q);
    if (int r = need_int(e, fn)) return r;
    return e->peek_int(out);
}

SHMDS_API int shmds_queue_push_bytes(shmds_queue_t *q, const void *data, size_t len,
                                     int64_t timeout_ns) {
    return push_bytes_at(q, End::back, data, len, timeout_ns, "shmds_queue_push_bytes");
}

SHMDS_API int shmds_queue_push_front_bytes(shmds_queue_t *q, const void *data, size_t len,
                                           int64_t timeout_ns) {
    return push_bytes_at(q, End::front, data, len, timeout_ns, "shmds_queue_push_front_bytes");
}

SHMDS_API int shmds_queue_pop_bytes(shmds_queue_t *q, void *buf, size_t buf_size, size_t *len,
                                    int64_t timeout_ns) {
    return pop_bytes_at(q, End::front, buf, buf_size, len, timeout_ns, "shmds_queue_pop_bytes");
}

SHMDS_API int shmds_queue_pop_back_bytes(shmds_queue_t *q, void *buf, size_t buf_size,
                                         size_t *len, int64_t timeout_ns) {
    return pop_bytes_at(q, End::back, buf, buf_size, len, timeout_ns,
                        "shmds_queue_pop_back_bytes");
}

SHMDS_API int shmds_queue_peek_bytes(shmds_queue_t *q, void *buf, size_t buf_size, size_t *len) {
    static const char fn[] = "shmds_queue_peek_bytes";
    CHECK_HANDLE(q, fn);
    if (int r = need_bytes(engine(q), fn)) return r;
    CAPI_REQUIRE(len, fn, "len");
    if (!buf && buf_size) return capi::null_arg(fn, "buf");
    int r = engine(q)->bytes().peek(buf, buf_size, len);
    return r == -EAGAIN ? shmds::core::fail_static(-EAGAIN, "queue is empty") : r;
}

SHMDS_API int shmds_queue_push_multi_bytes(shmds_queue_t *q, const void *const *datas,
                                           const size_t *lens, size_t n, size_t *pushed,
                                           int64_t timeout_ns) {
    static const char fn[] = "shmds_queue_push_multi_bytes";
    CHECK_HANDLE(q, fn);
    if (int r = need_bytes(engine(q), fn)) return r;
    CAPI_REQUIRE(pushed, fn, "pushed");
    *pushed = 0;
    if (n == 0) return 0;
    CAPI_REQUIRE(datas, fn, "datas");
    CAPI_REQUIRE(lens, fn, "lens");
    for (std::size_t i = 0; i < n; ++i)
        if (!datas[i] && lens[i]) return fail(-EINVAL, "{}: datas[{}] is NULL", fn, i);
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return capi::guarded(fn, [&] {
        // Spans are built in small batches on the stack: no allocation per call.
        constexpr std::size_t kBatch = 64;
        ByteSpan spans[kBatch];
        while (*pushed < n) {
            const std::size_t base = *pushed;
            const std::size_t count = n - base < kBatch ? n - base : kBatch;
            for (std::size_t i = 0; i < count; ++i) spans[i] = {datas[base + i], lens[base + i]};
            std::size_t done = 0;
            int r = engine(q)->bytes().push(End::back, spans, count, &done, dl);
            *pushed += done;
            if (r) return r;
        }
        return 0;
    });
}

SHMDS_API int shmds_queue_pop_multi_bytes(shmds_queue_t *q, void *buf, size_t buf_size,
                                          size_t *lens, size_t max, size_t *got,
                                          int64_t timeout_ns) {
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return pop_multi_bytes(q, buf, buf_size, lens, max, got, dl, false,
                           "shmds_queue_pop_multi_bytes");
}

SHMDS_API int shmds_queue_drain_bytes(shmds_queue_t *q, void *buf, size_t buf_size, size_t *lens,
                                      size_t max, size_t *got) {
    return pop_multi_bytes(q, buf, buf_size, lens, max, got, Deadline::from_timeout(0), true,
                           "shmds_queue_drain_bytes");
}

SHMDS_API uint64_t shmds_queue_size(const shmds_queue_t *q) { return q ? engine(q)->size() : 0; }

SHMDS_API uint64_t shmds_queue_capacity(const shmds_queue_t *q) {
    return q ? engine(q)->capacity() : 0;
}

SHMDS_API int shmds_queue_is_empty(const shmds_queue_t *q) {
    CHECK_HANDLE(q, "shmds_queue_is_empty");
    return engine(q)->size() == 0;
}

SHMDS_API int shmds_queue_is_full(const shmds_queue_t *q) {
    CHECK_HANDLE(q, "shmds_queue_is_full");
    return engine(q)->is_full();
}

SHMDS_API int shmds_queue_clear(shmds_queue_t *q, uint64_t *removed) {
    CHECK_HANDLE(q, "shmds_queue_clear");
    std::int64_t n = engine(q)->clear();
    if (n < 0) return int(n);
    if (removed) *removed = std::uint64_t(n);
    return 0;
}

SHMDS_API int shmds_queue_stats(shmds_queue_t *q, shmds_queue_stats_t *stats) {
    static const char fn[] = "shmds_queue_stats";
    CHECK_HANDLE(q, fn);
    CAPI_REQUIRE(stats, fn, "stats");
    shmds::queue::Stats s;
    if (int r = engine(q)->stats(s)) return r;
    shmds_queue_stats_t ours{};
    ours.size = s.size;
    ours.capacity = s.capacity;
    ours.push_ok = s.push_ok;
    ours.pop_ok = s.pop_ok;
    ours.push_full = s.push_full;
    ours.pop_empty = s.pop_empty;
    ours.recoveries = s.recoveries;
    ours.push_waiters = s.push_waiters;
    ours.pop_waiters = s.pop_waiters;
    ours.arena_capacity = s.arena_capacity;
    ours.arena_used = s.arena_used;
    ours.segment_bytes = s.segment_bytes;
    return capi::copy_versioned(fn, "stats", stats, ours, kStatsV1Size);
}

SHMDS_CAPI_EVENTFD_EXPORTS(shmds_queue, shmds_queue_t, Queue, kNoun)

}  // extern "C"
