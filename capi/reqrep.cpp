// The exported reqrep functions: check arguments, turn the handle into the engine, map
// failures to codes. No reqrep logic lives here; the INT64 verbs are the bytes verbs
// with an 8-byte payload.
#include "lifecycle.hpp"
#include "reqrep/reqrep.hpp"

#include <shmds/reqrep.h>


using shmds::core::Deadline;
using shmds::core::fail;
using shmds::reqrep::Channel;
using shmds::reqrep::RecvBuffer;
using shmds::reqrep::ReqRep;
namespace capi = shmds::capi;

namespace {

ReqRep *engine(shmds_reqrep_t *r) noexcept { return capi::engine_of<ReqRep>(r); }
const ReqRep *engine(const shmds_reqrep_t *r) noexcept { return capi::engine_of<ReqRep>(r); }
constexpr char kNoun[] = "reqrep";

int need(const ReqRep *r, bool bytes, const char *fn) noexcept {
    if (SHMDS_UNLIKELY(r->is_bytes() != bytes))
        return fail(SHMDS_EVARIANT, "{}: the reqrep carries {}; use the {} verbs", fn,
                    r->is_bytes() ? "bytes" : "int64 values", r->is_bytes() ? "_bytes" : "_int");
    return 0;
}

// The eventfd verbs of the kit, applied to the notifier of one channel.
template <typename Verb>
int on_channel(shmds_reqrep_t *rr, int channel, const char *fn, Verb verb) noexcept {
    CAPI_REQUIRE(rr, fn, kNoun);
    if (channel != SHMDS_REQREP_REQUESTS && channel != SHMDS_REQREP_REPLIES)
        return fail(-EINVAL, "{}: channel {} is not SHMDS_REQREP_REQUESTS or _REPLIES", fn,
                    channel);
    return verb(engine(rr)->events(Channel(channel)));
}

#define CHECK_HANDLE(r, fn) CAPI_REQUIRE(r, fn, kNoun)
#define CHECK_VARIANT(r, bytes, fn) \
    if (int rc_ = need(engine(r), bytes, fn)) return rc_

constexpr std::size_t kConfigV1Size = SHMDS_V1_SIZE(shmds_reqrep_config_t, resp_size);
constexpr std::size_t kStatsV1Size = SHMDS_V1_SIZE(shmds_reqrep_stats_t, waiting_senders);

int send_common(shmds_reqrep_t *rr, const void *data, size_t len, uint64_t *id,
                int64_t timeout_ns, const char *fn) noexcept {
    CAPI_REQUIRE(id, fn, "id");
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return engine(rr)->send(data, len, id, dl);
}

int recv_common(shmds_reqrep_t *rr, const RecvBuffer &out, size_t *got, int64_t timeout_ns)
    noexcept {
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return engine(rr)->recv(out, got, dl);
}

}  // namespace

extern "C" {

SHMDS_API int shmds_reqrep_config_init(shmds_reqrep_config_t *out, size_t struct_size,
                                       int variant, uint64_t request_capacity,
                                       uint64_t response_slots) {
    const shmds_reqrep_config_t defaults =
        SHMDS_REQREP_CONFIG_INIT(variant, request_capacity, response_slots);
    return capi::init_versioned("shmds_reqrep_config_init", out, struct_size, defaults,
                                kConfigV1Size);
}

SHMDS_API int shmds_reqrep_create(const shmds_options_t *opts,
                                  const shmds_reqrep_config_t *cfg_in, shmds_reqrep_t **out) {
    static const char fn[] = "shmds_reqrep_create";
    shmds_reqrep_config_t cfg = SHMDS_REQREP_CONFIG_INIT(0, 0, 0);
    if (int r = capi::read_versioned(fn, "cfg", cfg_in, cfg, kConfigV1Size)) return r;
    if (cfg.variant != SHMDS_REQREP_INT64 && cfg.variant != SHMDS_REQREP_BYTES)
        return fail(-EINVAL, "{}: variant {} is not SHMDS_REQREP_INT64 or _BYTES", fn,
                    cfg.variant);
    const shmds::reqrep::Config c{shmds::reqrep::Variant(cfg.variant), cfg.request_capacity,
                                  cfg.response_slots, cfg.req_size, cfg.resp_size};
    return capi::make_handle<ReqRep>(fn, opts, out,
                                     [&](auto *o, auto &e) { return ReqRep::create(o, c, e); });
}

SHMDS_API int shmds_reqrep_open(const shmds_options_t *opts, int variant, shmds_reqrep_t **out) {
    static const char fn[] = "shmds_reqrep_open";
    if (variant < SHMDS_REQREP_ANY || variant > SHMDS_REQREP_BYTES)
        return fail(-EINVAL, "{}: variant {} is not a reqrep variant", fn, variant);
    return capi::make_handle<ReqRep>(fn, opts, out, [&](auto *o, auto &e) {
        return ReqRep::open(o, std::uint32_t(variant), e);
    });
}

SHMDS_API void shmds_reqrep_close(shmds_reqrep_t *rr) { capi::close_handle<ReqRep>(rr); }

SHMDS_API int shmds_reqrep_variant(const shmds_reqrep_t *rr) {
    CHECK_HANDLE(rr, "shmds_reqrep_variant");
    return int(engine(rr)->variant());
}

SHMDS_API int shmds_reqrep_fd(const shmds_reqrep_t *rr) {
    return capi::segment_fd<ReqRep>(rr, "shmds_reqrep_fd", kNoun);
}

SHMDS_API int shmds_reqrep_sync(const shmds_reqrep_t *rr) {
    return capi::segment_sync<ReqRep>(rr, "shmds_reqrep_sync", kNoun);
}

SHMDS_API int shmds_reqrep_stats(const shmds_reqrep_t *rr, shmds_reqrep_stats_t *stats) {
    static const char fn[] = "shmds_reqrep_stats";
    CHECK_HANDLE(rr, fn);
    CAPI_REQUIRE(stats, fn, "stats");
    shmds::reqrep::Stats s;
    engine(rr)->stats(s);
    shmds_reqrep_stats_t ours{};
    ours.request_capacity = s.request_capacity;
    ours.response_slots = s.response_slots;
    ours.req_size = s.req_size;
    ours.resp_size = s.resp_size;
    ours.queued = s.queued;
    ours.slots_in_use = s.slots_in_use;
    ours.sent = s.sent;
    ours.received = s.received;
    ours.replied = s.replied;
    ours.collected = s.collected;
    ours.cancelled = s.cancelled;
    ours.reclaimed = s.reclaimed;
    ours.send_full = s.send_full;
    ours.reply_refused = s.reply_refused;
    ours.recoveries = s.recoveries;
    ours.segment_bytes = s.segment_bytes;
    ours.waiting_servers = s.waiting_servers;
    ours.waiting_senders = s.waiting_senders;
    return capi::copy_versioned(fn, "stats", stats, ours, kStatsV1Size);
}

SHMDS_API int shmds_reqrep_send_bytes(shmds_reqrep_t *rr, const void *data, size_t len,
                                      uint64_t *id, int64_t timeout_ns) {
    static const char fn[] = "shmds_reqrep_send_bytes";
    CHECK_HANDLE(rr, fn);
    CHECK_VARIANT(rr, true, fn);
    if (!data && len) return capi::null_arg(fn, "data");
    return send_common(rr, data, len, id, timeout_ns, fn);
}

SHMDS_API int shmds_reqrep_send_int(shmds_reqrep_t *rr, int64_t value, uint64_t *id,
                                    int64_t timeout_ns) {
    static const char fn[] = "shmds_reqrep_send_int";
    CHECK_HANDLE(rr, fn);
    CHECK_VARIANT(rr, false, fn);
    return send_common(rr, &value, sizeof value, id, timeout_ns, fn);
}

SHMDS_API int shmds_reqrep_get_bytes(shmds_reqrep_t *rr, uint64_t id, void *buf,
                                     size_t buf_size, size_t *len, int64_t timeout_ns) {
    static const char fn[] = "shmds_reqrep_get_bytes";
    CHECK_HANDLE(rr, fn);
    CHECK_VARIANT(rr, true, fn);
    CAPI_REQUIRE(len, fn, "len");
    if (!buf && buf_size) return capi::null_arg(fn, "buf");
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return engine(rr)->get(id, buf, buf_size, len, dl);
}

SHMDS_API int shmds_reqrep_get_int(shmds_reqrep_t *rr, uint64_t id, int64_t *out,
                                   int64_t timeout_ns) {
    static const char fn[] = "shmds_reqrep_get_int";
    CHECK_HANDLE(rr, fn);
    CHECK_VARIANT(rr, false, fn);
    CAPI_REQUIRE(out, fn, "out");
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    std::size_t len = 0;
    return engine(rr)->get(id, out, sizeof *out, &len, dl);
}

SHMDS_API int shmds_reqrep_request_bytes(shmds_reqrep_t *rr, const void *data, size_t len,
                                         void *buf, size_t buf_size, size_t *out_len,
                                         int64_t timeout_ns) {
    static const char fn[] = "shmds_reqrep_request_bytes";
    CHECK_HANDLE(rr, fn);
    CHECK_VARIANT(rr, true, fn);
    CAPI_REQUIRE(out_len, fn, "out_len");
    if (!data && len) return capi::null_arg(fn, "data");
    if (!buf && buf_size) return capi::null_arg(fn, "buf");
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return engine(rr)->request(data, len, buf, buf_size, out_len, dl);
}

SHMDS_API int shmds_reqrep_request_int(shmds_reqrep_t *rr, int64_t value, int64_t *out,
                                       int64_t timeout_ns) {
    static const char fn[] = "shmds_reqrep_request_int";
    CHECK_HANDLE(rr, fn);
    CHECK_VARIANT(rr, false, fn);
    CAPI_REQUIRE(out, fn, "out");
    Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    std::size_t len = 0;
    return engine(rr)->request(&value, sizeof value, out, sizeof *out, &len, dl);
}

SHMDS_API int shmds_reqrep_cancel(shmds_reqrep_t *rr, uint64_t id) {
    CHECK_HANDLE(rr, "shmds_reqrep_cancel");
    return engine(rr)->cancel(id);
}

SHMDS_API uint64_t shmds_reqrep_pending(const shmds_reqrep_t *rr) {
    if (!rr) return 0;
    const std::int64_t n = engine(rr)->pending();
    return n > 0 ? std::uint64_t(n) : 0;
}

SHMDS_API int shmds_reqrep_recv_bytes(shmds_reqrep_t *rr, void *buf, size_t buf_size,
                                      size_t *len, uint64_t *id, int64_t timeout_ns) {
    static const char fn[] = "shmds_reqrep_recv_bytes";
    CHECK_HANDLE(rr, fn);
    CHECK_VARIANT(rr, true, fn);
    CAPI_REQUIRE(len, fn, "len");
    CAPI_REQUIRE(id, fn, "id");
    if (!buf && buf_size) return capi::null_arg(fn, "buf");
    std::size_t got = 0;
    return recv_common(rr, RecvBuffer{buf, buf_size, len, id, 1}, &got, timeout_ns);
}

SHMDS_API int shmds_reqrep_recv_int(shmds_reqrep_t *rr, int64_t *value, uint64_t *id,
                                    int64_t timeout_ns) {
    static const char fn[] = "shmds_reqrep_recv_int";
    CHECK_HANDLE(rr, fn);
    CHECK_VARIANT(rr, false, fn);
    CAPI_REQUIRE(value, fn, "value");
    CAPI_REQUIRE(id, fn, "id");
    std::size_t got = 0;
    return recv_common(rr, RecvBuffer{value, sizeof *value, nullptr, id, 1}, &got, timeout_ns);
}

SHMDS_API int shmds_reqrep_recv_multi_bytes(shmds_reqrep_t *rr, void *buf, size_t buf_size,
                                            size_t *lens, uint64_t *ids, size_t max,
                                            size_t *got, int64_t timeout_ns) {
    static const char fn[] = "shmds_reqrep_recv_multi_bytes";
    CHECK_HANDLE(rr, fn);
    CHECK_VARIANT(rr, true, fn);
    CAPI_REQUIRE(got, fn, "got");
    *got = 0;
    if (max == 0) return 0;
    CAPI_REQUIRE(lens, fn, "lens");
    CAPI_REQUIRE(ids, fn, "ids");
    if (!buf && buf_size) return capi::null_arg(fn, "buf");
    return recv_common(rr, RecvBuffer{buf, buf_size, lens, ids, max}, got, timeout_ns);
}

SHMDS_API int shmds_reqrep_recv_multi_int(shmds_reqrep_t *rr, int64_t *values, uint64_t *ids,
                                          size_t max, size_t *got, int64_t timeout_ns) {
    static const char fn[] = "shmds_reqrep_recv_multi_int";
    CHECK_HANDLE(rr, fn);
    CHECK_VARIANT(rr, false, fn);
    CAPI_REQUIRE(got, fn, "got");
    *got = 0;
    if (max == 0) return 0;
    CAPI_REQUIRE(values, fn, "values");
    CAPI_REQUIRE(ids, fn, "ids");
    return recv_common(rr, RecvBuffer{values, max * sizeof *values, nullptr, ids, max}, got,
                       timeout_ns);
}

SHMDS_API int shmds_reqrep_reply_bytes(shmds_reqrep_t *rr, uint64_t id, const void *data,
                                       size_t len) {
    static const char fn[] = "shmds_reqrep_reply_bytes";
    CHECK_HANDLE(rr, fn);
    CHECK_VARIANT(rr, true, fn);
    if (!data && len) return capi::null_arg(fn, "data");
    return engine(rr)->reply(id, data, len);
}

SHMDS_API int shmds_reqrep_reply_int(shmds_reqrep_t *rr, uint64_t id, int64_t value) {
    static const char fn[] = "shmds_reqrep_reply_int";
    CHECK_HANDLE(rr, fn);
    CHECK_VARIANT(rr, false, fn);
    return engine(rr)->reply(id, &value, sizeof value);
}

SHMDS_API int shmds_reqrep_eventfd(shmds_reqrep_t *rr, int channel) {
    return on_channel(rr, channel, "shmds_reqrep_eventfd", capi::EventfdGet{});
}

SHMDS_API int shmds_reqrep_set_eventfd(shmds_reqrep_t *rr, int channel, int fd) {
    return on_channel(rr, channel, "shmds_reqrep_set_eventfd", capi::EventfdSet{fd});
}

SHMDS_API int shmds_reqrep_notify(shmds_reqrep_t *rr, int channel) {
    return on_channel(rr, channel, "shmds_reqrep_notify", capi::EventfdNotify{});
}

SHMDS_API int shmds_reqrep_eventfd_consume(shmds_reqrep_t *rr, int channel, uint64_t *count) {
    return on_channel(rr, channel, "shmds_reqrep_eventfd_consume", capi::EventfdConsume{count});
}

}  // extern "C"
