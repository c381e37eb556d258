#include "pubsub/pubsub.hpp"

#include "core/engine_factory.hpp"

#include "core/failpoint.hpp"
#include "core/int_range.hpp"
#include "core/waitpoint.hpp"
#include "pubsub/test_hook.hpp"

#include <cerrno>
#include <cstring>
#include <sched.h>

namespace shmds::pubsub {

namespace {

constexpr int kWakeAll = 1 << 30;
constexpr auto kRelaxed = std::memory_order_relaxed;

}  // namespace

std::uint64_t message_check(std::uint64_t pos, const void *data, std::size_t len) noexcept {
    constexpr std::uint64_t kMul = 0x9e3779b97f4a7c15ull;
    std::uint64_t h = (pos + 1) * 0xff51afd7ed558ccdull ^ (std::uint64_t(len) * kMul);
    const auto *p = static_cast<const std::uint8_t *>(data);
    std::size_t n = len;
    while (n >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        h = (h ^ w) * kMul;
        h ^= h >> 31;
        p += 8;
        n -= 8;
    }
    std::uint64_t tail = 0;
    if (n) std::memcpy(&tail, p, n);
    h = (h ^ tail ^ (std::uint64_t(n) << 56)) * kMul;
    h ^= h >> 29;
    return h * 0xbf58476d1ce4e5b9ull ^ (h >> 32);
}

int PubSub::create(const shmds_options_t *opts, const Config &cfg, std::unique_ptr<PubSub> &out) {
    return core::EngineFactory::create(opts, cfg, "pubsub", out);
}

int PubSub::open(const shmds_options_t *opts, std::uint32_t wanted_variant,
                std::unique_ptr<PubSub> &out) {
    return core::EngineFactory::open(opts, wanted_variant, std::uint32_t(Variant::bytes), "pubsub",
                                     out);
}

namespace {
core::SegmentShape shape_of(const Geometry &g) {
    static_assert(kGeomCapacity == 0 && kGeomMsgSize == 1);
    return core::SegmentShape::of(std::uint32_t(g.variant), g.elem_size, g.elem_align, g.total,
                                  layout_hash(g.variant), {g.capacity, g.msg_size});
}
}  // namespace

int PubSub::describe(core::SegmentShape &s) {
    if (int r = compute_geometry(requested_.variant, requested_.capacity, requested_.msg_size,
                                 geom_))
        return r;
    s = shape_of(geom_);
    return 0;
}

int PubSub::reshape(std::uint32_t v, const std::uint64_t (&geometry)[core::kGeometryWords],
                    core::SegmentShape &s) {
    if (v < std::uint32_t(Variant::int16) || v > std::uint32_t(Variant::bytes))
        return core::fail(-EINVAL, "unknown pubsub variant {}", v);
    // The stored message size of an integer pubsub is 0, as describe() writes it.
    if (int r = compute_geometry(Variant(v), geometry[kGeomCapacity], geometry[kGeomMsgSize],
                                 geom_))
        return r;
    s = shape_of(geom_);
    return 0;
}

void PubSub::initialize(std::uint8_t *base) noexcept {
    auto *ctl = reinterpret_cast<PubControl *>(base + geom_.control_off);
    ctl->write_pos.store(0, kRelaxed);
    core::waitpoint_init(ctl->readable);
    ctl->dropped.store(0, kRelaxed);
    ctl->skipped.store(0, kRelaxed);
    ctl->torn.store(0, kRelaxed);
    ctl->takeovers.store(0, kRelaxed);
    ctl->overflowed.store(0, kRelaxed);
    std::uint8_t *slots = base + geom_.slots_off;
    const std::uint64_t cap = geom_.capacity;
    const core::SpreadIndex<sizeof(WideSlot)> wide_at(cap);
    const core::SpreadIndex<sizeof(NarrowSlot)> narrow_at(cap);
    switch (geom_.variant) {
        case Variant::int64:
            for (std::uint64_t pos = 0; pos < cap; ++pos)
                WideTraits::init(reinterpret_cast<WideSlot *>(slots) + wide_at(pos), pos, cap);
            break;
        case Variant::int32:
            for (std::uint64_t pos = 0; pos < cap; ++pos)
                Int32Traits::init(reinterpret_cast<NarrowSlot *>(slots) + narrow_at(pos), pos, cap);
            break;
        case Variant::int16:
            for (std::uint64_t pos = 0; pos < cap; ++pos)
                Int16Traits::init(reinterpret_cast<NarrowSlot *>(slots) + narrow_at(pos), pos, cap);
            break;
        case Variant::bytes:
            // Slot i starts one lap behind position i (seq of position i - cap, committed).
            for (std::uint64_t i = 0; i < cap; ++i) {
                auto *h = reinterpret_cast<BytesSlotHeader *>(slots + i * geom_.stride);
                h->seq.store((i + 1 - cap) << 1, kRelaxed);
            }
            break;
        default:  // compute_geometry admits no other element type
            break;
    }
}

void PubSub::bind(std::uint8_t *base) noexcept {
    ctl_ = reinterpret_cast<PubControl *>(base + geom_.control_off);
    slots_ = base + geom_.slots_off;
    mask_ = geom_.capacity - 1;
    wide_index_ = core::SpreadIndex<sizeof(WideSlot)>(geom_.capacity);
    narrow_index_ = core::SpreadIndex<sizeof(NarrowSlot)>(geom_.capacity);
    segment_.track(ctl_->readable);
}

int PubSub::check_range(std::int64_t v) const noexcept {
    switch (geom_.variant) {
        case Variant::int16: return core::check_int_range(v, 16, "an int16 pubsub");
        case Variant::int32: return core::check_int_range(v, 32, "an int32 pubsub");
        default: return 0;
    }
}

int PubSub::publish_int(const std::int64_t *values, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i)
        if (int r = check_range(values[i])) return r;
    const std::uint64_t first = ctl_->write_pos.fetch_add(n, std::memory_order_acq_rel);
    SHMDS_PUBSUB_CLAIMED(first);
    SHMDS_FAILPOINT("pubsub.int.publish.claimed");
    std::uint64_t dropped = 0;
    with_int_slots([&](auto traits, auto slot_of) {
        using Traits = decltype(traits);
        for (std::size_t i = 0; i < n; ++i) {
            if (!Traits::commit(slot_of(first + i), first + i, values[i], ctl_->write_pos)) ++dropped;
            if (i == 0) SHMDS_FAILPOINT("pubsub.int.publish.first_committed");
        }
        return 0;
    });
    if (dropped) ctl_->dropped.fetch_add(dropped, kRelaxed);
    SHMDS_FAILPOINT("pubsub.int.publish.unwoken");
    core::waitpoint_wake(ctl_->readable, kWakeAll);
    return 0;
}

void PubSub::publish_one_bytes(std::uint64_t pos, const ByteSpan &msg,
                               std::int64_t &odd_since) noexcept {
    BytesSlotHeader *h = bytes_header(pos);
    const std::uint64_t writing = ((pos + 1) << 1) | 1;
    std::uint64_t cur = h->seq.load(std::memory_order_acquire);
    for (int spins = 0;; ++spins) {
        if (bytes_seq_diff(cur, pos + 1) >= 0) {
            // A later lap owns the slot already: ours is older than anything a
            // subscriber would still read there.
            ctl_->dropped.fetch_add(1, kRelaxed);
            return;
        }
        if (cur & 1) {
            // An earlier lap's writer is copying. It is normally nanoseconds from done;
            // take the slot only once it has stayed odd past the abandon bound.
            const std::int64_t now = core::monotonic_ns();
            if (odd_since == 0) odd_since = now;
            if (now - odd_since >= kAbandonNs) {
                if (h->seq.compare_exchange_strong(cur, writing, std::memory_order_acq_rel)) {
                    ctl_->takeovers.fetch_add(1, kRelaxed);
                    break;
                }
                continue;
            }
            if (spins > 64) sched_yield();
            else core::cpu_relax();
            cur = h->seq.load(std::memory_order_acquire);
            continue;
        }
        if (h->seq.compare_exchange_weak(cur, writing, std::memory_order_acq_rel)) break;
    }
    SHMDS_FAILPOINT("pubsub.bytes.publish.writing");
    if (msg.len) std::memcpy(bytes_payload(pos), msg.data, msg.len);
    h->len.store(std::uint32_t(msg.len), kRelaxed);
    h->check.store(message_check(pos, msg.data, msg.len), kRelaxed);
    SHMDS_FAILPOINT("pubsub.bytes.publish.copied");
    std::uint64_t expected = writing;
    // A CAS, not a store: if we were stalled past the abandon bound and a later writer
    // took the slot, its message wins and ours is dropped.
    if (!h->seq.compare_exchange_strong(expected, writing - 1, std::memory_order_release,
                                        std::memory_order_relaxed))
        ctl_->dropped.fetch_add(1, kRelaxed);
}

int PubSub::publish_bytes(const ByteSpan *msgs, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i)
        if (msgs[i].len > geom_.msg_size)
            return core::fail(-E2BIG, "message {} is {} bytes; this pubsub holds at most {}", i,
                              msgs[i].len, geom_.msg_size);
    const std::uint64_t first = ctl_->write_pos.fetch_add(n, std::memory_order_acq_rel);
    SHMDS_PUBSUB_CLAIMED(first);
    SHMDS_FAILPOINT("pubsub.bytes.publish.claimed");
    std::int64_t stalled_since = 0;
    for (std::size_t i = 0; i < n; ++i) publish_one_bytes(first + i, msgs[i], stalled_since);
    SHMDS_FAILPOINT("pubsub.bytes.publish.unwoken");
    core::waitpoint_wake(ctl_->readable, kWakeAll);
    return 0;
}

void PubSub::stats(Stats &s) const noexcept {
    s = Stats{};
    s.capacity = geom_.capacity;
    s.msg_size = geom_.msg_size;
    s.write_pos = write_pos();
    s.dropped = ctl_->dropped.load(kRelaxed);
    s.skipped = ctl_->skipped.load(kRelaxed);
    s.torn = ctl_->torn.load(kRelaxed);
    s.takeovers = ctl_->takeovers.load(kRelaxed);
    s.overflowed = ctl_->overflowed.load(kRelaxed);
    s.recoveries = segment_.recoveries() + s.takeovers;
    s.segment_bytes = geom_.total;
    s.waiting_subscribers = core::waitpoint_sleepers(ctl_->readable);
}

}  // namespace shmds::pubsub
