// The exported log functions: check arguments, turn the handle into the engine, map
// failures to codes. No log logic lives here.
#include "lifecycle.hpp"
#include "log/log.hpp"

#include <shmds/log.h>

#include <vector>

using shmds::core::Deadline;
using shmds::core::fail;
using shmds::log::ByteSpan;
using shmds::log::Log;
using shmds::log::ReadBuffer;
namespace capi = shmds::capi;

namespace {

Log *engine(shmds_log_t *l) noexcept { return capi::engine_of<Log>(l); }
const Log *engine(const shmds_log_t *l) noexcept { return capi::engine_of<Log>(l); }
constexpr char kNoun[] = "log";

#define CHECK_HANDLE(l, fn) CAPI_REQUIRE(l, fn, kNoun)

constexpr std::size_t kConfigV1Size = SHMDS_V1_SIZE(shmds_log_config_t, capacity);
constexpr std::size_t kStatsV1Size = SHMDS_V1_SIZE(shmds_log_stats_t, segment_bytes);

// The output arguments a read needs, checked once.
int check_read_args(const char *fn, const void *buf, std::size_t buf_size,
                    const std::size_t *len) noexcept {
    CAPI_REQUIRE(len, fn, "len");
    if (!buf && buf_size) return capi::null_arg(fn, "buf");
    return 0;
}

}  // namespace

extern "C" {

SHMDS_API int shmds_log_config_init(shmds_log_config_t *out, size_t struct_size,
                                    uint64_t capacity) {
    const shmds_log_config_t defaults = SHMDS_LOG_CONFIG_INIT(capacity);
    return capi::init_versioned("shmds_log_config_init", out, struct_size, defaults,
                                kConfigV1Size);
}

SHMDS_API int shmds_log_create(const shmds_options_t *opts, const shmds_log_config_t *cfg_in,
                               shmds_log_t **out) {
    static const char fn[] = "shmds_log_create";
    shmds_log_config_t cfg = SHMDS_LOG_CONFIG_INIT(0);
    if (int r = capi::read_versioned(fn, "cfg", cfg_in, cfg, kConfigV1Size)) return r;
    const shmds::log::Config c{cfg.capacity};
    return capi::make_handle<Log>(fn, opts, out,
                                  [&](auto *o, auto &e) { return Log::create(o, c, e); });
}

SHMDS_API int shmds_log_open(const shmds_options_t *opts, shmds_log_t **out) {
    return capi::make_handle<Log>("shmds_log_open", opts, out,
                                  [&](auto *o, auto &e) { return Log::open(o, e); });
}

SHMDS_API void shmds_log_close(shmds_log_t *l) { capi::close_handle<Log>(l); }

SHMDS_API int shmds_log_fd(const shmds_log_t *l) {
    return capi::segment_fd<Log>(l, "shmds_log_fd", kNoun);
}

SHMDS_API int shmds_log_sync(const shmds_log_t *l) {
    return capi::segment_sync<Log>(l, "shmds_log_sync", kNoun);
}

SHMDS_API uint64_t shmds_log_recoveries(const shmds_log_t *l) {
    return capi::recoveries_of<Log>(l);
}

SHMDS_API int shmds_log_append(shmds_log_t *l, const void *data, size_t len, uint64_t *offset) {
    static const char fn[] = "shmds_log_append";
    CHECK_HANDLE(l, fn);
    if (!data && len) return capi::null_arg(fn, "data");
    const ByteSpan entry{data, len};
    return engine(l)->append(&entry, 1, offset);
}

SHMDS_API int shmds_log_append_multi(shmds_log_t *l, const void *const *datas,
                                     const size_t *lens, size_t n, uint64_t *offsets) {
    static const char fn[] = "shmds_log_append_multi";
    CHECK_HANDLE(l, fn);
    if (n == 0) return 0;
    CAPI_REQUIRE(datas, fn, "datas");
    CAPI_REQUIRE(lens, fn, "lens");
    for (std::size_t i = 0; i < n; ++i)
        if (!datas[i] && lens[i]) return fail(-EINVAL, "{}: datas[{}] is NULL", fn, i);
    return capi::guarded(fn, [&] {
        // One commit needs every span at once: small batches live on the stack.
        constexpr std::size_t kStack = 64;
        ByteSpan stack[kStack] = {};
        std::vector<ByteSpan> heap;
        ByteSpan *spans = stack;
        if (n > kStack) {
            heap.resize(n);
            spans = heap.data();
        }
        for (std::size_t i = 0; i < n; ++i) spans[i] = {datas[i], lens[i]};
        return engine(l)->append(spans, n, offsets);
    });
}

SHMDS_API int shmds_log_read_entry(const shmds_log_t *l, uint64_t offset, void *buf,
                                   size_t buf_size, size_t *len, uint64_t *next) {
    static const char fn[] = "shmds_log_read_entry";
    CHECK_HANDLE(l, fn);
    if (int r = check_read_args(fn, buf, buf_size, len)) return r;
    std::uint64_t epoch = 0, after = 0;
    if (int r = engine(l)->begin_read(&epoch)) return r;
    const int r = engine(l)->read_at(epoch, offset, ReadBuffer{buf, buf_size, len}, &after);
    if (r == 0 && next) *next = after;
    return r;
}

SHMDS_API int64_t shmds_log_each_entry(const shmds_log_t *l, uint64_t from,
                                       shmds_log_entry_fn fn_cb, void *ctx, uint64_t *final) {
    static const char fn[] = "shmds_log_each_entry";
    if (final) *final = from;
    CHECK_HANDLE(l, fn);
    CAPI_REQUIRE(fn_cb, fn, "fn");
    const Log *e = engine(l);
    std::uint64_t epoch = 0;
    if (int r = e->begin_read(&epoch)) return r;
    const std::uint64_t end = e->tail();
    if (from > end) {  // say why, as read_entry would (-ERANGE, -EINVAL, ...)
        std::size_t len = 0;
        std::uint64_t next = 0;
        const int r = e->read_at(epoch, from, ReadBuffer{nullptr, 0, &len}, &next);
        // An entry appended there since `end` was read: past this call's end.
        return r == -ENOBUFS || r == -EAGAIN ? 0 : r;
    }
    std::int64_t visited = 0;
    std::uint64_t at = from;
    const int r = capi::guarded(fn, [&] {
        std::vector<unsigned char> copy(256);
        while (at < end) {
            std::size_t len = 0;
            std::uint64_t next = 0;
            int rc = e->read_at(epoch, at, ReadBuffer{copy.data(), copy.size(), &len}, &next);
            if (rc == -ENOBUFS) {
                copy.resize(len);
                rc = e->read_at(epoch, at, ReadBuffer{copy.data(), copy.size(), &len}, &next);
            }
            if (rc) return rc;
            const std::uint64_t offset = at;
            at = next;
            ++visited;
            if (final) *final = at;
            if (fn_cb(copy.data(), len, offset, ctx) != 0) break;
        }
        return 0;
    });
    return r ? r : visited;
}

SHMDS_API int shmds_log_cursor_init(const shmds_log_t *l, shmds_log_cursor_t *cursor,
                                    uint64_t from) {
    static const char fn[] = "shmds_log_cursor_init";
    CHECK_HANDLE(l, fn);
    CAPI_REQUIRE(cursor, fn, "cursor");
    std::uint64_t epoch = 0;
    if (int r = engine(l)->begin_read(&epoch)) return r;
    cursor->offset = from;
    cursor->epoch = epoch;
    return 0;
}

SHMDS_API int shmds_log_cursor_next(const shmds_log_t *l, shmds_log_cursor_t *cursor, void *buf,
                                    size_t buf_size, size_t *len, uint64_t *offset) {
    static const char fn[] = "shmds_log_cursor_next";
    CHECK_HANDLE(l, fn);
    CAPI_REQUIRE(cursor, fn, "cursor");
    if (int r = check_read_args(fn, buf, buf_size, len)) return r;
    std::uint64_t next = 0;
    const int r =
        engine(l)->read_at(cursor->epoch, cursor->offset, ReadBuffer{buf, buf_size, len}, &next);
    if (r) return r;
    if (offset) *offset = cursor->offset;
    cursor->offset = next;
    return 0;
}

SHMDS_API uint64_t shmds_log_tail_offset(const shmds_log_t *l) { return l ? engine(l)->tail() : 0; }
SHMDS_API uint64_t shmds_log_entry_count(const shmds_log_t *l) { return l ? engine(l)->count() : 0; }
SHMDS_API uint64_t shmds_log_data_size(const shmds_log_t *l) {
    return l ? engine(l)->data_size() : 0;
}
SHMDS_API uint64_t shmds_log_available(const shmds_log_t *l) {
    return l ? engine(l)->available() : 0;
}
SHMDS_API uint64_t shmds_log_capacity(const shmds_log_t *l) {
    return l ? engine(l)->capacity() : 0;
}
SHMDS_API uint64_t shmds_log_truncation(const shmds_log_t *l) {
    return l ? engine(l)->truncation() : 0;
}
SHMDS_API uint64_t shmds_log_epoch(const shmds_log_t *l) { return l ? engine(l)->epoch() : 0; }

SHMDS_API int shmds_log_wait_for(shmds_log_t *l, uint64_t count, int64_t timeout_ns) {
    return capi::timed<Log>(l, "shmds_log_wait_for", kNoun, timeout_ns,
                            [&](Log &e, const Deadline &dl) { return e.wait_for(count, dl); });
}

SHMDS_API int shmds_log_truncate(shmds_log_t *l, uint64_t offset) {
    CHECK_HANDLE(l, "shmds_log_truncate");
    return engine(l)->truncate(offset);
}

SHMDS_API int shmds_log_reset(shmds_log_t *l) {
    CHECK_HANDLE(l, "shmds_log_reset");
    return engine(l)->reset();
}

SHMDS_API int shmds_log_stats(shmds_log_t *l, shmds_log_stats_t *stats) {
    static const char fn[] = "shmds_log_stats";
    CHECK_HANDLE(l, fn);
    CAPI_REQUIRE(stats, fn, "stats");
    shmds::log::Stats s;
    const int rc = engine(l)->stats(s);
    shmds_log_stats_t ours{};
    ours.entries = s.entries;
    ours.tail = s.tail;
    ours.truncation = s.truncation;
    ours.data_size = s.data_size;
    ours.capacity = s.capacity;
    ours.available = s.available;
    ours.epoch = s.epoch;
    ours.resets = s.resets;
    ours.append_full = s.append_full;
    ours.recoveries = s.recoveries;
    ours.waiters = s.waiters;
    ours.segment_bytes = s.segment_bytes;
    if (int r = capi::copy_versioned(fn, "stats", stats, ours, kStatsV1Size)) return r;
    return rc;
}

SHMDS_CAPI_EVENTFD_EXPORTS(shmds_log, shmds_log_t, Log, kNoun)

}  // extern "C"
