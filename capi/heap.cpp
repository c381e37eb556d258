// The exported heap functions: argument checks and the turn into the heap engine
// (src/heap/heap.hpp). No heap logic lives here.
#include "heap/heap.hpp"
#include "lifecycle.hpp"

#include <shmds/heap.h>

using shmds::core::fail;
using shmds::heap::Heap;
using shmds::heap::Items;
using shmds::heap::Out;
namespace capi = shmds::capi;

namespace {

Heap *engine(shmds_heap_t *h) noexcept { return capi::engine_of<Heap>(h); }
const Heap *engine(const shmds_heap_t *h) noexcept { return capi::engine_of<Heap>(h); }
constexpr char kNoun[] = "heap";
constexpr std::size_t kConfigV1Size = SHMDS_V1_SIZE(shmds_heap_config_t, flags);
constexpr std::size_t kStatsV1Size = SHMDS_V1_SIZE(shmds_heap_stats_t, segment_bytes);

#define CHECK_HANDLE(h, fn) CAPI_REQUIRE(h, fn, kNoun)

SHMDS_COLD int wrong_form(const Heap *e, const char *fn) noexcept {
    return fail(SHMDS_EVARIANT, "{}: the heap holds {} values; use its _{} verbs", fn,
                e->is_bytes() ? "bytes" : "int64", e->is_bytes() ? "bytes" : "int");
}

// The verb's value form must be the heap's: bytes verbs on a bytes heap only.
int need(const Heap *e, bool bytes, const char *fn) noexcept {
    if (SHMDS_UNLIKELY(e->is_bytes() != bytes)) return wrong_form(e, fn);
    return 0;
}

int check_type(const char *fn, int type) noexcept {
    if (type == SHMDS_TYPE_INT64 || type == SHMDS_TYPE_BYTES) return 0;
    return fail(-EINVAL, "{}: a heap's value type is SHMDS_TYPE_INT64 or SHMDS_TYPE_BYTES (got {})",
                fn, type);
}

int check_buf(const void *buf, std::size_t buf_size, const char *fn) noexcept {
    if (!buf && buf_size) return capi::null_arg(fn, "buf");
    return 0;
}

int push(Heap *e, bool bytes, const Items &items, std::size_t n, std::size_t *pushed,
         std::int64_t timeout_ns, const char *fn) noexcept {
    if (int r = need(e, bytes, fn)) return r;
    *pushed = 0;
    if (n == 0) return 0;
    if (bytes)
        for (std::size_t i = 0; i < n; ++i)
            if (!items.datas[i] && items.lens[i])
                return fail(-EINVAL, "{}: datas[{}] is NULL", fn, i);
    if (int r = e->check_items(items, n)) return r;
    shmds::core::Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return e->push(items, n, pushed, dl);
}

int pop(Heap *e, bool bytes, const Out &out, std::size_t max, std::size_t *got,
        std::int64_t timeout_ns, const char *fn) noexcept {
    if (int r = need(e, bytes, fn)) return r;
    *got = 0;
    if (max == 0) return 0;
    shmds::core::Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return e->pop(out, max, got, dl);
}

// push_int and pop_int have a fast path, as the deque's: an int64 heap with room (or an
// item) and a free lock finishes in one attempt, before any deadline is built.
[[gnu::noinline]] int push_int_checked(shmds_heap_t *h, int64_t priority, int64_t value,
                                       int64_t timeout_ns) noexcept {
    static const char fn[] = "shmds_heap_push_int";
    CHECK_HANDLE(h, fn);
    std::size_t pushed = 0;
    return push(engine(h), false, Items{&priority, &value}, 1, &pushed, timeout_ns, fn);
}

[[gnu::noinline]] int pop_int_checked(shmds_heap_t *h, int64_t *priority, int64_t *value,
                                      int64_t timeout_ns) noexcept {
    static const char fn[] = "shmds_heap_pop_int";
    CHECK_HANDLE(h, fn);
    CAPI_REQUIRE(value, fn, "value");
    std::size_t got = 0;
    return pop(engine(h), false, Out{priority, value}, 1, &got, timeout_ns, fn);
}

}  // namespace

extern "C" {

SHMDS_API int shmds_heap_config_init(shmds_heap_config_t *out, size_t struct_size, int type,
                                     uint64_t capacity) {
    const shmds_heap_config_t defaults = SHMDS_HEAP_CONFIG_INIT(type, capacity);
    return capi::init_versioned("shmds_heap_config_init", out, struct_size, defaults,
                                kConfigV1Size);
}

SHMDS_API int shmds_heap_create(const shmds_options_t *opts, const shmds_heap_config_t *cfg_in,
                                shmds_heap_t **out) {
    static const char fn[] = "shmds_heap_create";
    shmds_heap_config_t cfg = SHMDS_HEAP_CONFIG_INIT(0, 0);
    if (int r = capi::read_versioned(fn, "cfg", cfg_in, cfg, kConfigV1Size)) return r;
    if (int r = check_type(fn, cfg.type)) return r;
    const shmds::heap::Config c{shmds::core::ElemType(cfg.type), cfg.capacity, cfg.max_len,
                                cfg.flags};
    return capi::make_handle<Heap>(fn, opts, out,
                                   [&](auto *o, auto &e) { return Heap::create(o, c, e); });
}

SHMDS_API int shmds_heap_open(const shmds_options_t *opts, int type, shmds_heap_t **out) {
    static const char fn[] = "shmds_heap_open";
    if (type != SHMDS_HEAP_ANY)
        if (int r = check_type(fn, type)) return r;
    return capi::make_handle<Heap>(fn, opts, out, [&](auto *o, auto &e) {
        return Heap::open(o, std::uint32_t(type), e);
    });
}

SHMDS_API void shmds_heap_close(shmds_heap_t *h) { capi::close_handle<Heap>(h); }

SHMDS_API int shmds_heap_type(const shmds_heap_t *h) {
    CHECK_HANDLE(h, "shmds_heap_type");
    return int(engine(h)->elem_type());
}

SHMDS_API int shmds_heap_is_max(const shmds_heap_t *h) {
    CHECK_HANDLE(h, "shmds_heap_is_max");
    return engine(h)->is_max() ? 1 : 0;
}

SHMDS_API int shmds_heap_fd(const shmds_heap_t *h) {
    return capi::segment_fd<Heap>(h, "shmds_heap_fd", kNoun);
}

SHMDS_API int shmds_heap_sync(const shmds_heap_t *h) {
    return capi::segment_sync<Heap>(h, "shmds_heap_sync", kNoun);
}

SHMDS_API uint64_t shmds_heap_recoveries(const shmds_heap_t *h) {
    return capi::recoveries_of<Heap>(h);
}

SHMDS_API int shmds_heap_push_int(shmds_heap_t *h, int64_t priority, int64_t value,
                                  int64_t timeout_ns) {
    if (SHMDS_LIKELY(h && timeout_ns >= SHMDS_FOREVER && !engine(h)->is_bytes())) {
        if (SHMDS_LIKELY(engine(h)->try_push_i64(priority, value) == 0)) return 0;
    }
    return push_int_checked(h, priority, value, timeout_ns);
}

SHMDS_API int shmds_heap_pop_int(shmds_heap_t *h, int64_t *priority, int64_t *value,
                                 int64_t timeout_ns) {
    if (SHMDS_LIKELY(h && value && timeout_ns >= SHMDS_FOREVER && !engine(h)->is_bytes())) {
        int64_t p;
        if (SHMDS_LIKELY(engine(h)->try_pop_i64(&p, value) == 0)) {
            if (priority) *priority = p;
            return 0;
        }
    }
    return pop_int_checked(h, priority, value, timeout_ns);
}

SHMDS_API int shmds_heap_peek_int(shmds_heap_t *h, int64_t *priority, int64_t *value) {
    static const char fn[] = "shmds_heap_peek_int";
    CHECK_HANDLE(h, fn);
    CAPI_REQUIRE(value, fn, "value");
    if (int r = need(engine(h), false, fn)) return r;
    return engine(h)->peek(Out{priority, value});
}

SHMDS_API int shmds_heap_push_multi_int(shmds_heap_t *h, const int64_t *priorities,
                                        const int64_t *values, size_t n, size_t *pushed,
                                        int64_t timeout_ns) {
    static const char fn[] = "shmds_heap_push_multi_int";
    CHECK_HANDLE(h, fn);
    CAPI_REQUIRE(pushed, fn, "pushed");
    if (n) {
        CAPI_REQUIRE(priorities, fn, "priorities");
        CAPI_REQUIRE(values, fn, "values");
    }
    return push(engine(h), false, Items{priorities, values}, n, pushed, timeout_ns, fn);
}

SHMDS_API int shmds_heap_pop_multi_int(shmds_heap_t *h, int64_t *priorities, int64_t *values,
                                       size_t max, size_t *got, int64_t timeout_ns) {
    static const char fn[] = "shmds_heap_pop_multi_int";
    CHECK_HANDLE(h, fn);
    CAPI_REQUIRE(got, fn, "got");
    if (max) CAPI_REQUIRE(values, fn, "values");
    return pop(engine(h), false, Out{priorities, values}, max, got, timeout_ns, fn);
}

SHMDS_API int shmds_heap_push_bytes(shmds_heap_t *h, int64_t priority, const void *data,
                                    size_t len, int64_t timeout_ns) {
    static const char fn[] = "shmds_heap_push_bytes";
    CHECK_HANDLE(h, fn);
    std::size_t pushed = 0;
    return push(engine(h), true, Items{&priority, nullptr, &data, &len}, 1, &pushed, timeout_ns,
                fn);
}

SHMDS_API int shmds_heap_pop_bytes(shmds_heap_t *h, int64_t *priority, void *buf,
                                   size_t buf_size, size_t *len, int64_t timeout_ns) {
    static const char fn[] = "shmds_heap_pop_bytes";
    CHECK_HANDLE(h, fn);
    CAPI_REQUIRE(len, fn, "len");
    if (int r = check_buf(buf, buf_size, fn)) return r;
    std::size_t got = 0;
    return pop(engine(h), true, Out{priority, nullptr, buf, buf_size, len}, 1, &got, timeout_ns,
               fn);
}

SHMDS_API int shmds_heap_peek_bytes(shmds_heap_t *h, int64_t *priority, void *buf,
                                    size_t buf_size, size_t *len) {
    static const char fn[] = "shmds_heap_peek_bytes";
    CHECK_HANDLE(h, fn);
    CAPI_REQUIRE(len, fn, "len");
    if (int r = check_buf(buf, buf_size, fn)) return r;
    if (int r = need(engine(h), true, fn)) return r;
    return engine(h)->peek(Out{priority, nullptr, buf, buf_size, len});
}

SHMDS_API int shmds_heap_push_multi_bytes(shmds_heap_t *h, const int64_t *priorities,
                                          const void *const *datas, const size_t *lens,
                                          size_t n, size_t *pushed, int64_t timeout_ns) {
    static const char fn[] = "shmds_heap_push_multi_bytes";
    CHECK_HANDLE(h, fn);
    CAPI_REQUIRE(pushed, fn, "pushed");
    if (n) {
        CAPI_REQUIRE(priorities, fn, "priorities");
        CAPI_REQUIRE(datas, fn, "datas");
        CAPI_REQUIRE(lens, fn, "lens");
    }
    return push(engine(h), true, Items{priorities, nullptr, datas, lens}, n, pushed, timeout_ns,
                fn);
}

SHMDS_API int shmds_heap_pop_multi_bytes(shmds_heap_t *h, int64_t *priorities, void *buf,
                                         size_t buf_size, size_t *lens, size_t max, size_t *got,
                                         int64_t timeout_ns) {
    static const char fn[] = "shmds_heap_pop_multi_bytes";
    CHECK_HANDLE(h, fn);
    CAPI_REQUIRE(got, fn, "got");
    if (max) CAPI_REQUIRE(lens, fn, "lens");
    if (int r = check_buf(buf, buf_size, fn)) return r;
    return pop(engine(h), true, Out{priorities, nullptr, buf, buf_size, lens}, max, got,
               timeout_ns, fn);
}

SHMDS_API uint64_t shmds_heap_size(const shmds_heap_t *h) { return h ? engine(h)->size() : 0; }

SHMDS_API uint64_t shmds_heap_capacity(const shmds_heap_t *h) {
    return h ? engine(h)->capacity() : 0;
}

SHMDS_API int shmds_heap_is_empty(const shmds_heap_t *h) {
    CHECK_HANDLE(h, "shmds_heap_is_empty");
    return engine(h)->size() == 0;
}

SHMDS_API int shmds_heap_is_full(const shmds_heap_t *h) {
    CHECK_HANDLE(h, "shmds_heap_is_full");
    return engine(h)->is_full();
}

SHMDS_API int shmds_heap_clear(shmds_heap_t *h, uint64_t *removed) {
    CHECK_HANDLE(h, "shmds_heap_clear");
    const std::int64_t n = engine(h)->clear();
    if (n < 0) return int(n);
    if (removed) *removed = std::uint64_t(n);
    return 0;
}

SHMDS_API int shmds_heap_stats(shmds_heap_t *h, shmds_heap_stats_t *stats) {
    static const char fn[] = "shmds_heap_stats";
    CHECK_HANDLE(h, fn);
    CAPI_REQUIRE(stats, fn, "stats");
    shmds::heap::Stats s;
    if (int r = engine(h)->stats(s)) return r;
    shmds_heap_stats_t ours{};
    ours.size = s.size;
    ours.capacity = s.capacity;
    ours.max_len = s.max_len;
    ours.flags = s.flags;
    ours.push_ok = s.push_ok;
    ours.pop_ok = s.pop_ok;
    ours.push_full = s.push_full;
    ours.pop_empty = s.pop_empty;
    ours.cleared = s.cleared;
    ours.recoveries = s.recoveries;
    ours.push_waiters = s.push_waiters;
    ours.pop_waiters = s.pop_waiters;
    ours.segment_bytes = s.segment_bytes;
    return capi::copy_versioned(fn, "stats", stats, ours, kStatsV1Size);
}

SHMDS_CAPI_EVENTFD_EXPORTS(shmds_heap, shmds_heap_t, Heap, kNoun)

}  // extern "C"
