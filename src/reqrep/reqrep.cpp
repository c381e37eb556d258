#include "reqrep/reqrep.hpp"

#include "core/block.hpp"
#include "core/engine_factory.hpp"
#include "core/failpoint.hpp"

#include <cerrno>

namespace shmds::reqrep {

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;
constexpr int kMaxWake = 1 << 20;
}  // namespace

int ReqRep::create(const shmds_options_t *opts, const Config &cfg, std::unique_ptr<ReqRep> &out) {
    return core::EngineFactory::create(opts, cfg, "reqrep", out);
}

int ReqRep::open(const shmds_options_t *opts, std::uint32_t wanted_variant,
                std::unique_ptr<ReqRep> &out) {
    return core::EngineFactory::open(opts, wanted_variant, std::uint32_t(Variant::bytes), "reqrep",
                                     out);
}

namespace {
core::SegmentShape shape_of(const Geometry &g) {
    static_assert(kGeomRequests == 0 && kGeomSlots == 1 && kGeomReqSize == 2 &&
                  kGeomRespSize == 3);
    return core::SegmentShape::of(std::uint32_t(g.variant), std::uint32_t(g.resp_stride),
                                  std::uint32_t(kCacheLine), g.total, layout_hash(g.variant),
                                  {g.requests, g.slots, g.req_size, g.resp_size});
}
}  // namespace

int ReqRep::describe(core::SegmentShape &s) {
    const Config &c = requested_;
    if (int r = compute_geometry(c.variant, c.requests, c.slots, c.req_size, c.resp_size, geom_))
        return r;
    s = shape_of(geom_);
    return 0;
}

int ReqRep::reshape(std::uint32_t v, const std::uint64_t (&geometry)[core::kGeometryWords],
                    core::SegmentShape &s) {
    if (v < std::uint32_t(Variant::int64) || v > std::uint32_t(Variant::bytes))
        return core::fail(-EINVAL, "unknown reqrep variant {}", v);
    // An int64 reqrep stores the sizes it fixed (8); its config leaves them 0.
    const bool bytes = Variant(v) == Variant::bytes;
    if (int r = compute_geometry(Variant(v), geometry[kGeomRequests], geometry[kGeomSlots],
                                 bytes ? geometry[kGeomReqSize] : 0,
                                 bytes ? geometry[kGeomRespSize] : 0, geom_))
        return r;
    s = shape_of(geom_);
    return 0;
}

void ReqRep::initialize(std::uint8_t *base) noexcept {
    auto *ctl = reinterpret_cast<ReqControl *>(base + geom_.control_off);
    // A fresh segment is zero-filled, so the counters start at 0; only the mutex and
    // the wait points need building.
    RequestRing::initialize(ctl);
    ctl->slot_hint.store(0, kRelaxed);
    ctl->releases.store(0, kRelaxed);
    core::waitpoint_init(ctl->requests);
    core::waitpoint_init(ctl->ring_space);
    core::waitpoint_init(ctl->slots_free);
    ResponseSlots::initialize(base + geom_.slots_off, geom_);
}

void ReqRep::bind(std::uint8_t *base) noexcept {
    ctl_ = reinterpret_cast<ReqControl *>(base + geom_.control_off);
    ring_ = RequestRing(ctl_, base + geom_.ring_off, geom_, &segment_.header().recoveries);
    slots_ = ResponseSlots(ctl_, base + geom_.slots_off, geom_, &segment_.header().recoveries);
    segment_.track(ctl_->requests);
    segment_.track(ctl_->ring_space);
    segment_.track(ctl_->slots_free);
}

// block_on re-attempts at least every wake bound even without a release; that matters
// here beyond lost wakes, because a client that dies holding slots releases nothing and
// only the acquire's scan reclaims them.
int ReqRep::acquire_slot(std::uint64_t *id, const core::Deadline &dl) noexcept {
    std::uint64_t seen = 0;
    const int r = core::block_on(
        ctl_->slots_free, dl,
        [&] {
            seen = ctl_->releases.load(std::memory_order_acquire);
            return slots_.acquire(id) == 0 ? 0 : -EAGAIN;
        },
        [&] { return ctl_->releases.load(std::memory_order_acquire) != seen; });
    if (r == -EAGAIN) return core::fail_static(-EAGAIN, "no response slot is free");
    if (r == -ETIMEDOUT)
        return core::fail_static(-ETIMEDOUT, "no response slot became free before the deadline");
    return r;
}

int ReqRep::send(const void *data, std::size_t len, std::uint64_t *id,
                 const core::Deadline &dl) noexcept {
    if (len > geom_.req_size)
        return core::fail(-E2BIG, "request of {} bytes exceeds the {}-byte request size", len,
                          geom_.req_size);
    std::uint64_t slot_id = 0;
    if (int r = acquire_slot(&slot_id, dl)) {
        ctl_->send_full.fetch_add(1, kRelaxed);
        return r;
    }
    SHMDS_FAILPOINT("reqrep.send.acquired");
    std::uint64_t head_seen = 0;
    const int r = core::block_on(
        ctl_->ring_space, dl,
        [&] {
            head_seen = ring_.head();
            return ring_.push(slot_id, data, len, dl);
        },
        [&] { return ring_.head() != head_seen; });
    if (r != 0) {
        slots_.abandon(slot_id);
        if (r != -EAGAIN && r != -ETIMEDOUT) return r;
        ctl_->send_full.fetch_add(1, kRelaxed);
        return r == -EAGAIN ? core::fail_static(-EAGAIN, "the request queue is full")
                            : core::fail_static(-ETIMEDOUT,
                                                "the request queue stayed full until the deadline");
    }
    SHMDS_FAILPOINT("reqrep.send.queued");
    core::waitpoint_wake(ctl_->requests, 1);
    pending_.fetch_add(1, kRelaxed);
    *id = slot_id;
    return 0;
}

int ReqRep::get(std::uint64_t id, void *buf, std::size_t size, std::size_t *len,
                const core::Deadline &dl) noexcept {
    // The reply slot has its own small futex (slots_.wait_change), bounded like every
    // sleep (core::futex_wait), so a replier killed between marking the reply ready and
    // waking costs this call at most the wake bound.
    for (;;) {
        int r = slots_.take(id, buf, size, len);
        if (r == 0) {
            pending_.fetch_sub(1, kRelaxed);
            return 0;
        }
        if (r != -EAGAIN) return r;
        if (dl.nowait()) return core::fail_static(-EAGAIN, "no reply yet");
        if (slots_.wait_change(id, dl) != 0) {
            r = slots_.take(id, buf, size, len);
            if (r == 0) pending_.fetch_sub(1, kRelaxed);
            return r == -EAGAIN ? core::fail_static(-ETIMEDOUT, "no reply before the deadline")
                                : r;
        }
    }
}

int ReqRep::cancel(std::uint64_t id) noexcept {
    int r = slots_.cancel(id);
    if (r == 0) pending_.fetch_sub(1, kRelaxed);
    return r;
}

int ReqRep::request(const void *data, std::size_t len, void *buf, std::size_t size,
                    std::size_t *out_len, const core::Deadline &dl) noexcept {
    std::uint64_t id = 0;
    if (int r = send(data, len, &id, dl)) return r;
    int r = get(id, buf, size, out_len, dl);
    if (r != -EAGAIN && r != -ETIMEDOUT && r != -ENOBUFS) return r;
    // One deadline covers both halves; what is not collected is given up, so the slot
    // goes back at once (a server still copying its reply keeps it a moment longer).
    cancel(id);
    if (r == -ENOBUFS)
        return core::fail(-ENOBUFS, "reply is {} bytes, buffer holds {}; it was discarded",
                          *out_len, size);
    return r == -EAGAIN ? core::fail_static(-EAGAIN, "no reply yet; the request was cancelled")
                        : core::fail_static(-ETIMEDOUT,
                                            "no reply before the deadline; the request was "
                                            "cancelled");
}

int ReqRep::recv(const RecvBuffer &out, std::size_t *got, const core::Deadline &dl) noexcept {
    const int r = core::block_on(
        ctl_->requests, dl, [&] { return ring_.pop(out, got, dl); },
        [&] { return ring_.maybe_nonempty(); });
    if (r == 0) {
        SHMDS_FAILPOINT("reqrep.recv.unwoken");
        core::waitpoint_wake(ctl_->ring_space, *got > std::size_t(kMaxWake) ? kMaxWake : int(*got));
        ctl_->received.fetch_add(*got, kRelaxed);
        return 0;
    }
    if (r == -EAGAIN) return core::fail_static(-EAGAIN, "no request queued");
    if (r == -ETIMEDOUT) return core::fail_static(-ETIMEDOUT, "no request before the deadline");
    return r;
}

int ReqRep::reply(std::uint64_t id, const void *data, std::size_t len) noexcept {
    return slots_.reply(id, data, len);
}

void ReqRep::stats(Stats &s) const noexcept {
    s = Stats{};
    s.request_capacity = geom_.requests;
    s.response_slots = geom_.slots;
    s.req_size = geom_.req_size;
    s.resp_size = geom_.resp_size;
    s.queued = ring_.size();
    s.slots_in_use = slots_.in_use();
    // The ring's tail counts every queued request exactly, even one whose sender died
    // right after queueing it (a separate counter would miss it; the field in
    // ReqControl stays for the layout).
    s.sent = ring_.tail();
    s.received = ctl_->received.load(kRelaxed);
    s.replied = ctl_->replied.load(kRelaxed);
    s.collected = ctl_->collected.load(kRelaxed);
    s.cancelled = ctl_->cancelled.load(kRelaxed);
    s.reclaimed = ctl_->reclaimed.load(kRelaxed);
    s.send_full = ctl_->send_full.load(kRelaxed);
    s.reply_refused = ctl_->reply_refused.load(kRelaxed);
    s.recoveries = segment_.recoveries();
    s.segment_bytes = geom_.total;
    s.waiting_servers = core::waitpoint_sleepers(ctl_->requests);
    s.waiting_senders = core::waitpoint_sleepers(ctl_->ring_space) +
                        core::waitpoint_sleepers(ctl_->slots_free);
}

}  // namespace shmds::reqrep
