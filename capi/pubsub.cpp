// The exported pubsub functions: check arguments, turn handles into the engine and its
// subscribers, map failures to codes. No pubsub logic lives here.
#include "lifecycle.hpp"
#include "pubsub/pubsub.hpp"
#include "pubsub/subscriber.hpp"

#include <shmds/pubsub.h>

#include <memory>

using shmds::core::Deadline;
using shmds::core::fail;
using shmds::pubsub::ByteSpan;
using shmds::pubsub::PubSub;
using shmds::pubsub::Subscriber;
namespace capi = shmds::capi;

namespace {

PubSub *engine(shmds_pubsub_t *p) noexcept { return capi::engine_of<PubSub>(p); }
const PubSub *engine(const shmds_pubsub_t *p) noexcept { return capi::engine_of<PubSub>(p); }
Subscriber *cursor(shmds_pubsub_sub_t *s) noexcept { return capi::engine_of<Subscriber>(s); }
const Subscriber *cursor(const shmds_pubsub_sub_t *s) noexcept {
    return capi::engine_of<Subscriber>(s);
}
constexpr char kNoun[] = "pubsub";

int need_int(const PubSub *p, const char *fn) noexcept {
    if (SHMDS_UNLIKELY(p->is_bytes()))
        return fail(SHMDS_EVARIANT, "{}: the pubsub carries bytes; use the _bytes verbs", fn);
    return 0;
}

int need_bytes(const PubSub *p, const char *fn) noexcept {
    if (SHMDS_UNLIKELY(!p->is_bytes()))
        return fail(SHMDS_EVARIANT, "{}: the pubsub carries {} integers; use the _int verbs", fn,
                    shmds::pubsub::variant_name(std::uint32_t(p->variant())));
    return 0;
}

#define CHECK_HANDLE(p, fn) CAPI_REQUIRE(p, fn, kNoun)
#define CHECK_SUB(s, fn) CAPI_REQUIRE(s, fn, "sub")

constexpr std::size_t kConfigV1Size = SHMDS_V1_SIZE(shmds_pubsub_config_t, msg_size);
constexpr std::size_t kStatsV1Size = SHMDS_V1_SIZE(shmds_pubsub_stats_t, waiting_subscribers);

int subscribe(shmds_pubsub_t *ps, shmds_pubsub_sub_t **out, Subscriber::Start start,
              const char *fn) noexcept {
    CHECK_HANDLE(ps, fn);
    CAPI_REQUIRE(out, fn, "out");
    auto *s = new (std::nothrow) Subscriber(*engine(ps), start);
    if (!s) return fail(-ENOMEM, "{}: out of memory for a subscriber", fn);
    *out = reinterpret_cast<shmds_pubsub_sub_t *>(s);
    return 0;
}

int poll_multi_int(shmds_pubsub_sub_t *sub, int64_t *out, size_t max, size_t *got,
                   const Deadline &dl, bool allow_empty, const char *fn) noexcept {
    CHECK_SUB(sub, fn);
    CAPI_REQUIRE(got, fn, "got");
    *got = 0;
    if (int r = need_int(&cursor(sub)->pubsub(), fn)) return r;
    if (max == 0) return 0;
    CAPI_REQUIRE(out, fn, "out");
    return cursor(sub)->poll_multi_int(out, max, got, dl, allow_empty);
}

int poll_multi_bytes(shmds_pubsub_sub_t *sub, void *buf, size_t buf_size, size_t *lens,
                     size_t max, size_t *got, const Deadline &dl, bool allow_empty,
                     const char *fn) noexcept {
    CHECK_SUB(sub, fn);
    CAPI_REQUIRE(got, fn, "got");
    *got = 0;
    if (int r = need_bytes(&cursor(sub)->pubsub(), fn)) return r;
    if (max == 0) return 0;
    CAPI_REQUIRE(lens, fn, "lens");
    if (!buf && buf_size) return capi::null_arg(fn, "buf");
    return cursor(sub)->poll_multi_bytes(buf, buf_size, lens, max, got, dl, allow_empty);
}

}  // namespace

extern "C" {

SHMDS_API int shmds_pubsub_config_init(shmds_pubsub_config_t *out, size_t struct_size,
                                       int variant, uint64_t capacity) {
    const shmds_pubsub_config_t defaults = SHMDS_PUBSUB_CONFIG_INIT(variant, capacity);
    return capi::init_versioned("shmds_pubsub_config_init", out, struct_size, defaults,
                                kConfigV1Size);
}

SHMDS_API int shmds_pubsub_create(const shmds_options_t *opts,
                                  const shmds_pubsub_config_t *cfg_in, shmds_pubsub_t **out) {
    static const char fn[] = "shmds_pubsub_create";
    shmds_pubsub_config_t cfg = SHMDS_PUBSUB_CONFIG_INIT(0, 0);
    if (int r = capi::read_versioned(fn, "cfg", cfg_in, cfg, kConfigV1Size)) return r;
    if (int r = capi::check_ring_variant(fn, cfg.variant, "SHMDS_PUBSUB")) return r;
    const shmds::pubsub::Config c{shmds::pubsub::Variant(cfg.variant), cfg.capacity,
                                  cfg.msg_size};
    return capi::make_handle<PubSub>(fn, opts, out,
                                     [&](auto *o, auto &e) { return PubSub::create(o, c, e); });
}

SHMDS_API int shmds_pubsub_open(const shmds_options_t *opts, int variant, shmds_pubsub_t **out) {
    static const char fn[] = "shmds_pubsub_open";
    if (variant < SHMDS_PUBSUB_ANY || variant > SHMDS_PUBSUB_BYTES)
        return fail(-EINVAL, "{}: variant {} is not a pubsub variant", fn, variant);
    return capi::make_handle<PubSub>(fn, opts, out, [&](auto *o, auto &e) {
        return PubSub::open(o, std::uint32_t(variant), e);
    });
}

SHMDS_API void shmds_pubsub_close(shmds_pubsub_t *ps) { capi::close_handle<PubSub>(ps); }

SHMDS_API int shmds_pubsub_variant(const shmds_pubsub_t *ps) {
    CHECK_HANDLE(ps, "shmds_pubsub_variant");
    return int(engine(ps)->variant());
}

SHMDS_API uint64_t shmds_pubsub_capacity(const shmds_pubsub_t *ps) {
    return ps ? engine(ps)->capacity() : 0;
}

SHMDS_API uint64_t shmds_pubsub_msg_size(const shmds_pubsub_t *ps) {
    return ps ? engine(ps)->msg_size() : 0;
}

SHMDS_API uint64_t shmds_pubsub_write_pos(const shmds_pubsub_t *ps) {
    return ps ? engine(ps)->write_pos() : 0;
}

SHMDS_API int shmds_pubsub_fd(const shmds_pubsub_t *ps) {
    return capi::segment_fd<PubSub>(ps, "shmds_pubsub_fd", kNoun);
}

SHMDS_API int shmds_pubsub_sync(const shmds_pubsub_t *ps) {
    return capi::segment_sync<PubSub>(ps, "shmds_pubsub_sync", kNoun);
}

SHMDS_API int shmds_pubsub_stats(const shmds_pubsub_t *ps, shmds_pubsub_stats_t *stats) {
    static const char fn[] = "shmds_pubsub_stats";
    CHECK_HANDLE(ps, fn);
    CAPI_REQUIRE(stats, fn, "stats");
    shmds::pubsub::Stats s;
    engine(ps)->stats(s);
    shmds_pubsub_stats_t ours{};
    ours.capacity = s.capacity;
    ours.msg_size = s.msg_size;
    ours.write_pos = s.write_pos;
    ours.dropped = s.dropped;
    ours.skipped = s.skipped;
    ours.torn = s.torn;
    ours.takeovers = s.takeovers;
    ours.overflowed = s.overflowed;
    ours.recoveries = s.recoveries;
    ours.segment_bytes = s.segment_bytes;
    ours.waiting_subscribers = s.waiting_subscribers;
    return capi::copy_versioned(fn, "stats", stats, ours, kStatsV1Size);
}

SHMDS_API int shmds_pubsub_publish_int(shmds_pubsub_t *ps, int64_t value) {
    static const char fn[] = "shmds_pubsub_publish_int";
    CHECK_HANDLE(ps, fn);
    if (int r = need_int(engine(ps), fn)) return r;
    return engine(ps)->publish_int(&value, 1);
}

SHMDS_API int shmds_pubsub_publish_multi_int(shmds_pubsub_t *ps, const int64_t *values,
                                             size_t n) {
    static const char fn[] = "shmds_pubsub_publish_multi_int";
    CHECK_HANDLE(ps, fn);
    if (int r = need_int(engine(ps), fn)) return r;
    if (n == 0) return 0;
    CAPI_REQUIRE(values, fn, "values");
    return engine(ps)->publish_int(values, n);
}

SHMDS_API int shmds_pubsub_publish_bytes(shmds_pubsub_t *ps, const void *data, size_t len) {
    static const char fn[] = "shmds_pubsub_publish_bytes";
    CHECK_HANDLE(ps, fn);
    if (int r = need_bytes(engine(ps), fn)) return r;
    if (!data && len) return capi::null_arg(fn, "data");
    ByteSpan msg{data, len};
    return engine(ps)->publish_bytes(&msg, 1);
}

SHMDS_API int shmds_pubsub_publish_multi_bytes(shmds_pubsub_t *ps, const void *const *datas,
                                               const size_t *lens, size_t n) {
    static const char fn[] = "shmds_pubsub_publish_multi_bytes";
    CHECK_HANDLE(ps, fn);
    if (int r = need_bytes(engine(ps), fn)) return r;
    if (n == 0) return 0;
    CAPI_REQUIRE(datas, fn, "datas");
    CAPI_REQUIRE(lens, fn, "lens");
    for (std::size_t i = 0; i < n; ++i)
        if (!datas[i] && lens[i]) return fail(-EINVAL, "{}: datas[{}] is NULL", fn, i);
    return capi::guarded(fn, [&] {
        // The batch is claimed at once, so the spans are built first (one allocation).
        std::unique_ptr<ByteSpan[]> spans(new ByteSpan[n]);
        for (std::size_t i = 0; i < n; ++i) spans[i] = ByteSpan{datas[i], lens[i]};
        return engine(ps)->publish_bytes(spans.get(), n);
    });
}

SHMDS_API int shmds_pubsub_publish_notify_int(shmds_pubsub_t *ps, int64_t value) {
    if (int r = shmds_pubsub_publish_int(ps, value)) return r;
    return engine(ps)->events().notify();
}

SHMDS_API int shmds_pubsub_publish_notify_bytes(shmds_pubsub_t *ps, const void *data,
                                                size_t len) {
    if (int r = shmds_pubsub_publish_bytes(ps, data, len)) return r;
    return engine(ps)->events().notify();
}

SHMDS_API int shmds_pubsub_subscribe(shmds_pubsub_t *ps, shmds_pubsub_sub_t **out) {
    return subscribe(ps, out, Subscriber::Start::latest, "shmds_pubsub_subscribe");
}

SHMDS_API int shmds_pubsub_subscribe_all(shmds_pubsub_t *ps, shmds_pubsub_sub_t **out) {
    return subscribe(ps, out, Subscriber::Start::oldest, "shmds_pubsub_subscribe_all");
}

SHMDS_API void shmds_pubsub_sub_close(shmds_pubsub_sub_t *sub) {
    capi::close_handle<Subscriber>(sub);
}

// poll_int's fast path: a message that is there is taken in one attempt, before any
// deadline is built (a positive timeout reads the clock, and only a call about to wait
// needs it). Nothing new, bad arguments or a bytes pubsub go the checked waiting way,
// kept out of line so the fast path stays a small function.
namespace {
[[gnu::noinline]] int poll_int_waiting(shmds_pubsub_sub_t *sub, int64_t *out,
                                       int64_t timeout_ns) noexcept {
    static const char fn[] = "shmds_pubsub_sub_poll_int";
    CHECK_SUB(sub, fn);
    CAPI_REQUIRE(out, fn, "out");
    if (int r = need_int(&cursor(sub)->pubsub(), fn)) return r;
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return cursor(sub)->poll_int(out, dl);
}
}  // namespace

SHMDS_API int shmds_pubsub_sub_poll_int(shmds_pubsub_sub_t *sub, int64_t *out,
                                        int64_t timeout_ns) {
    if (SHMDS_LIKELY(sub && out && timeout_ns >= SHMDS_FOREVER &&
                     !cursor(sub)->pubsub().is_bytes())) {
        const int r = cursor(sub)->try_poll_int(out);
        if (SHMDS_LIKELY(r != -EAGAIN)) return r;
    }
    return poll_int_waiting(sub, out, timeout_ns);
}

SHMDS_API int shmds_pubsub_sub_poll_multi_int(shmds_pubsub_sub_t *sub, int64_t *out,
                                              size_t max, size_t *got, int64_t timeout_ns) {
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return poll_multi_int(sub, out, max, got, dl, false, "shmds_pubsub_sub_poll_multi_int");
}

SHMDS_API int shmds_pubsub_sub_drain_int(shmds_pubsub_sub_t *sub, int64_t *out, size_t max,
                                         size_t *got) {
    return poll_multi_int(sub, out, max, got, Deadline::from_timeout(0), true,
                          "shmds_pubsub_sub_drain_int");
}

SHMDS_API int shmds_pubsub_sub_poll_bytes(shmds_pubsub_sub_t *sub, void *buf, size_t buf_size,
                                          size_t *len, int64_t timeout_ns) {
    static const char fn[] = "shmds_pubsub_sub_poll_bytes";
    CHECK_SUB(sub, fn);
    CAPI_REQUIRE(len, fn, "len");
    if (int r = need_bytes(&cursor(sub)->pubsub(), fn)) return r;
    if (!buf && buf_size) return capi::null_arg(fn, "buf");
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return cursor(sub)->poll_bytes(buf, buf_size, len, dl);
}

SHMDS_API int shmds_pubsub_sub_poll_multi_bytes(shmds_pubsub_sub_t *sub, void *buf,
                                                size_t buf_size, size_t *lens, size_t max,
                                                size_t *got, int64_t timeout_ns) {
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return poll_multi_bytes(sub, buf, buf_size, lens, max, got, dl, false,
                            "shmds_pubsub_sub_poll_multi_bytes");
}

SHMDS_API int shmds_pubsub_sub_drain_bytes(shmds_pubsub_sub_t *sub, void *buf, size_t buf_size,
                                           size_t *lens, size_t max, size_t *got) {
    return poll_multi_bytes(sub, buf, buf_size, lens, max, got, Deadline::from_timeout(0), true,
                            "shmds_pubsub_sub_drain_bytes");
}

SHMDS_API uint64_t shmds_pubsub_sub_lag(const shmds_pubsub_sub_t *sub) {
    return sub ? cursor(sub)->lag() : 0;
}

SHMDS_API uint64_t shmds_pubsub_sub_overflow_count(const shmds_pubsub_sub_t *sub) {
    return sub ? cursor(sub)->overflow() : 0;
}

SHMDS_API uint64_t shmds_pubsub_sub_skipped_count(const shmds_pubsub_sub_t *sub) {
    return sub ? cursor(sub)->skipped() : 0;
}

SHMDS_API uint64_t shmds_pubsub_sub_cursor(const shmds_pubsub_sub_t *sub) {
    return sub ? cursor(sub)->cursor() : 0;
}

SHMDS_API int shmds_pubsub_sub_set_cursor(shmds_pubsub_sub_t *sub, uint64_t pos) {
    CHECK_SUB(sub, "shmds_pubsub_sub_set_cursor");
    cursor(sub)->set_cursor(pos);
    return 0;
}

SHMDS_API uint64_t shmds_pubsub_sub_write_pos(const shmds_pubsub_sub_t *sub) {
    return sub ? cursor(sub)->pubsub().write_pos() : 0;
}

SHMDS_API int shmds_pubsub_sub_reset(shmds_pubsub_sub_t *sub) {
    CHECK_SUB(sub, "shmds_pubsub_sub_reset");
    cursor(sub)->reset_latest();
    return 0;
}

SHMDS_API int shmds_pubsub_sub_reset_oldest(shmds_pubsub_sub_t *sub) {
    CHECK_SUB(sub, "shmds_pubsub_sub_reset_oldest");
    cursor(sub)->reset_oldest();
    return 0;
}

SHMDS_API int shmds_pubsub_sub_eventfd(shmds_pubsub_sub_t *sub) {
    CHECK_SUB(sub, "shmds_pubsub_sub_eventfd");
    return capi::EventfdGet{}(cursor(sub)->pubsub().events());
}

SHMDS_CAPI_EVENTFD_EXPORTS(shmds_pubsub, shmds_pubsub_t, PubSub, kNoun)

}  // extern "C"
