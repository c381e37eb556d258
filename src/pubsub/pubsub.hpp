// The pubsub engine: one segment, one variant, the broadcast ring and its publishers.
// Subscribers (subscriber.hpp) are process-local cursors over it. The C API turns
// handles into these objects and nothing else.
#pragma once

#include "core/engine_factory.hpp"
#include "core/deadline.hpp"
#include "core/error.hpp"
#include "core/eventfd.hpp"
#include "core/segment.hpp"
#include "pubsub/int_slots.hpp"
#include "pubsub/layout.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>

namespace shmds::pubsub {

struct Config {
    Variant variant;
    std::uint64_t capacity;
    std::uint64_t msg_size;  // bytes variant; 0 = 256
};

struct ByteSpan {
    const void *data;
    std::size_t len;
};

struct Stats {
    std::uint64_t capacity, msg_size, write_pos, dropped, skipped, torn, takeovers, overflowed,
        recoveries, segment_bytes;
    std::uint32_t waiting_subscribers;
};

class PubSub final : public core::SegmentClient {
public:
    static int create(const shmds_options_t *opts, const Config &cfg,
                      std::unique_ptr<PubSub> &out);
    static int open(const shmds_options_t *opts, std::uint32_t wanted_variant,
                    std::unique_ptr<PubSub> &out);

    Variant variant() const noexcept { return geom_.variant; }
    bool is_bytes() const noexcept { return geom_.variant == Variant::bytes; }
    std::uint64_t capacity() const noexcept { return geom_.capacity; }
    std::uint64_t msg_size() const noexcept { return geom_.msg_size; }

    // 0 or -ERANGE when v does not fit the variant's width.
    int check_range(std::int64_t v) const noexcept;
    // Publish n >= 1 values (range-checked, all or nothing) under one claim. Never blocks.
    int publish_int(const std::int64_t *values, std::size_t n) noexcept;
    // Publish n >= 1 messages (each <= msg_size, checked first) under one claim.
    int publish_bytes(const ByteSpan *msgs, std::size_t n) noexcept;

    std::uint64_t write_pos() const noexcept {
        return ctl_->write_pos.load(std::memory_order_acquire);
    }
    void stats(Stats &s) const noexcept;

    core::EventNotifier &events() noexcept { return events_; }
    core::Segment &segment() noexcept { return segment_; }

    // ---- for subscribers ----
    PubControl *control() const noexcept { return ctl_; }
    // Call f(traits_tag, slot_of) with the variant's traits; integer variants only.
    template <typename F>
    decltype(auto) with_int_slots(F &&f) const {
        switch (geom_.variant) {
            case Variant::int64:
                return f(WideTraits{}, [this](std::uint64_t pos) {
                    return reinterpret_cast<WideSlot *>(slots_) + wide_index_(pos);
                });
            case Variant::int32:
                return f(Int32Traits{}, [this](std::uint64_t pos) {
                    return reinterpret_cast<NarrowSlot *>(slots_) + narrow_index_(pos);
                });
            default:
                return f(Int16Traits{}, [this](std::uint64_t pos) {
                    return reinterpret_cast<NarrowSlot *>(slots_) + narrow_index_(pos);
                });
        }
    }
    BytesSlotHeader *bytes_header(std::uint64_t pos) const noexcept {
        return reinterpret_cast<BytesSlotHeader *>(slots_ + (pos & mask_) * geom_.stride);
    }
    std::uint8_t *bytes_payload(std::uint64_t pos) const noexcept {
        return slots_ + (pos & mask_) * geom_.stride + sizeof(BytesSlotHeader);
    }

    // SegmentClient
    core::StructureType type() const noexcept override { return core::StructureType::pubsub; }
    std::uint32_t wanted_variant() const noexcept override { return wanted_variant_; }
    const char *variant_name(std::uint32_t v) const noexcept override {
        return pubsub::variant_name(v);
    }
    int describe(core::SegmentShape &s) override;
    int reshape(std::uint32_t variant, const std::uint64_t (&geometry)[core::kGeometryWords],
                core::SegmentShape &s) override;
    void initialize(std::uint8_t *base) noexcept override;

private:
    friend struct core::EngineFactory;
    PubSub() = default;
    void bind(std::uint8_t *base) noexcept;
    // stalled_since: when this publish call first found a slot still being written (0:
    // not yet). Shared by the messages of one call, so a batch waits out the abandon
    // bound once, not once per message.
    void publish_one_bytes(std::uint64_t pos, const ByteSpan &msg,
                           std::int64_t &stalled_since) noexcept;

    core::Segment segment_;
    Geometry geom_{};
    Config requested_{};
    std::uint32_t wanted_variant_ = 0;
    PubControl *ctl_ = nullptr;
    std::uint8_t *slots_ = nullptr;
    std::uint64_t mask_ = 0;
    // The slot of a position, for the integer variants (core/variant.hpp).
    core::SpreadIndex<sizeof(WideSlot)> wide_index_;
    core::SpreadIndex<sizeof(NarrowSlot)> narrow_index_;
    core::EventNotifier events_;
};

// How far the position a bytes slot's seq names is from `want` (a position + 1).
// Seqs carry 63 bits of position, so the difference is taken in 63 bits.
inline std::int64_t bytes_seq_diff(std::uint64_t seq, std::uint64_t want) noexcept {
    return std::int64_t(((seq >> 1) - want) << 1) >> 1;
}

// The checksum a bytes slot carries: of the position, the length and the payload, so a
// reader detects both a torn payload and a complete payload of another position.
std::uint64_t message_check(std::uint64_t pos, const void *data, std::size_t len) noexcept;

}  // namespace shmds::pubsub
