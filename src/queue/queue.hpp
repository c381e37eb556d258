// The queue engine: one segment, one variant, its ring, its blocking logic and its
// eventfd. The C API turns handles into this object and nothing else.
#pragma once

#include "core/engine_factory.hpp"
#include "core/deadline.hpp"
#include "core/error.hpp"
#include "core/eventfd.hpp"
#include "core/int_range.hpp"
#include "core/segment.hpp"
#include "queue/bytes_ring.hpp"
#include "queue/int_ring.hpp"
#include "queue/layout.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace shmds::queue {

using core::Deadline;

struct Config {
    Variant variant;
    std::uint64_t capacity;
    std::uint64_t arena;  // bytes variant; 0 = capacity * 256 (at least 4 KiB)
};

struct Stats {
    std::uint64_t size, capacity, push_ok, pop_ok, push_full, pop_empty, recoveries;
    std::uint32_t push_waiters, pop_waiters;
    std::uint64_t arena_capacity, arena_used, segment_bytes;
};

class Queue final : public core::SegmentClient {
public:
    static int create(const shmds_options_t *opts, const Config &cfg, std::unique_ptr<Queue> &out);
    static int open(const shmds_options_t *opts, std::uint32_t wanted_variant,
                    std::unique_ptr<Queue> &out);

    Variant variant() const noexcept { return geom_.variant; }
    bool is_bytes() const noexcept { return geom_.variant == Variant::bytes; }

    // ---- integer variants (callers check !is_bytes()) ----
    // -ERANGE unless v fits the variant's storage width. Inline: it is on every push.
    int check_range(std::int64_t v) const noexcept {
        switch (geom_.variant) {
            case Variant::int16: return core::check_int_range(v, 16, "an int16 queue");
            case Variant::int32: return core::check_int_range(v, 32, "an int32 queue");
            default: return 0;
        }
    }
    // One non-blocking attempt, inline: the C API's fast path, which builds no deadline
    // and reads no clock (only a call about to wait needs them). 0 with the other side
    // woken, -EAGAIN (full or empty: take the blocking path, push_int or pop_int, which
    // tries again and counts and explains a refusal), -ERANGE, or SHMDS_ECORRUPT.
    inline int try_push_int(std::int64_t v) noexcept;
    inline int try_pop_int(std::int64_t *out) noexcept;
    int push_int(std::int64_t v, const Deadline &dl) noexcept;
    int pop_int(std::int64_t *out, const Deadline &dl) noexcept;
    int push_multi_int(const std::int64_t *v, std::size_t n, std::size_t *pushed,
                       const Deadline &dl) noexcept;
    int pop_multi_int(std::int64_t *out, std::size_t max, std::size_t *got, const Deadline &dl,
                      bool allow_empty) noexcept;
    int peek_int(std::int64_t *out) const noexcept;

    // ---- bytes variant (callers check is_bytes()) ----
    BytesRing &bytes() noexcept { return bytes_; }

    std::uint64_t size() const noexcept;
    std::uint64_t capacity() const noexcept { return geom_.capacity; }
    bool is_full() const noexcept;
    // Remove every item; returns how many were removed, or a negative code.
    std::int64_t clear() noexcept;
    int stats(Stats &s) noexcept;

    core::EventNotifier &events() noexcept { return events_; }
    core::Segment &segment() noexcept { return segment_; }

    // SegmentClient
    core::StructureType type() const noexcept override { return core::StructureType::queue; }
    std::uint32_t wanted_variant() const noexcept override { return wanted_variant_; }
    const char *variant_name(std::uint32_t v) const noexcept override {
        return queue::variant_name(v);
    }
    int describe(core::SegmentShape &s) override;
    int reshape(std::uint32_t variant, const std::uint64_t (&geometry)[core::kGeometryWords],
                core::SegmentShape &s) override;
    void initialize(std::uint8_t *base) noexcept override;

private:
    friend struct core::EngineFactory;
    Queue() = default;
    void bind(std::uint8_t *base) noexcept;  // point the rings into the mapping

    // Run f(ring) on the integer ring of this variant; the call inlines either way.
    template <typename F>
    decltype(auto) with_int_ring(F &&f) const noexcept {
        return geom_.variant == Variant::int64 ? f(wide_) : f(narrow_);
    }

    core::Segment segment_;
    Geometry geom_{};
    Config requested_{};
    std::uint32_t wanted_variant_ = 0;
    mutable IntRing<WideTraits> wide_;
    mutable IntRing<NarrowTraits> narrow_;
    BytesRing bytes_;
    core::EventNotifier events_;
};

int Queue::try_push_int(std::int64_t v) noexcept {
    if (int r = check_range(v)) return r;
    return with_int_ring([&](auto &ring) {
        const int r = ring.try_push(v);
        if (SHMDS_LIKELY(r == 0)) core::waitpoint_wake(ring.control()->not_empty, 1);
        return r;
    });
}

int Queue::try_pop_int(std::int64_t *out) noexcept {
    return with_int_ring([&](auto &ring) {
        const int r = ring.try_pop(out);
        if (SHMDS_LIKELY(r == 0)) core::waitpoint_wake(ring.control()->not_full, 1);
        return r;
    });
}

}  // namespace shmds::queue
