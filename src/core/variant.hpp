// The element variants shared by the structures that carry typed items (queue, pubsub):
// their values are stored in segment headers, so they never change. Also what those
// typed rings share about their slots and capacity.
#pragma once

#include "core/elem_type.hpp"
#include "core/error.hpp"
#include "core/platform.hpp"
#include "core/wide_cas.hpp"

#include <cerrno>
#include <cstdint>

namespace shmds::core {

// The queue's and pubsub's variants are the first four element types.
using ElementVariant = ElemType;

// The name of a variant these rings support (int16, int32, int64, bytes), else
// "unknown-variant".
inline const char *element_variant_name(std::uint32_t v) noexcept {
    return v >= std::uint32_t(ElemType::int16) && v <= std::uint32_t(ElemType::bytes)
               ? elem_type_name(v)
               : "unknown-variant";
}

// An integer variant keeps one slot per item with its sequence and value together, so
// that one CAS commits both: int64 in a 16-byte {seq, value} pair (a 16-byte CAS),
// int16 and int32 packed into 8 bytes (value high, sequence low).
using WideIntSlot = Pair64;
using NarrowIntSlot = std::uint64_t;

struct ElementShape {
    std::uint32_t size;
    std::uint32_t align;
};

// The slot shape of an integer variant; {0, 0} for bytes and unknown values.
constexpr ElementShape int_slot_shape(ElementVariant v) noexcept {
    switch (v) {
        case ElementVariant::int16:
        case ElementVariant::int32: return {sizeof(NarrowIntSlot), alignof(NarrowIntSlot)};
        case ElementVariant::int64: return {sizeof(WideIntSlot), alignof(WideIntSlot)};
        default: return {0, 0};
    }
}

// A typed ring's capacity: 1 ..= max_capacity asked, rounded up to a power of two (cheap
// index masking) of at least 2 (a ring of one slot is never both usable and full).
// 0 with *out set, or -EINVAL with the sentence naming `what` ("queue", "pubsub").
inline int ring_capacity(std::uint64_t asked, std::uint64_t max_capacity, const char *what,
                         ElementVariant v, std::uint64_t *out) noexcept {
    if (asked == 0) return fail(-EINVAL, "{} capacity must be at least 1", what);
    if (asked > max_capacity)
        return fail(-EINVAL, "{} capacity {} exceeds the maximum {} for {}", what, asked,
                    max_capacity, element_variant_name(std::uint32_t(v)));
    *out = round_up_pow2(asked < 2 ? 2 : asked);
    return 0;
}

// Where a typed ring keeps the slot of position pos: consecutive positions on
// consecutive cache lines, the slots of one line a lap / per_line positions apart (the
// index remapping atomic_queue does, here over the whole ring). Slots side by side
// (pos & mask) put a consumer taking position p and a producer publishing p + 1 on one
// line, which then crosses CPUs twice per item in a 1 -> 1 stream; spread, each end
// works on lines of its own until the ring wraps. Measured on Intel (Xeon, 2 vCPUs),
// Int64, 1024 slots, 1 -> 1 across processes, medians of 9 alternated runs: single
// items 15.4M -> 22.4M msgs/s, batches of 64 16.8M -> 22.6M; push+pop in one process
// pays for the index arithmetic, 27.9M -> 26.3M pairs/s. Spreading only within blocks
// of per_line^2 positions (atomic_queue's own choice, which keeps a batch on fewer
// lines) did worse on batches. A ring of one line keeps the plain order. A bijection of
// [0, capacity), and part of the segment layout (kSlotOrderSpread below goes into the
// layout hashes).
//
// The slot size is a template argument because this sits on every push and pop: with
// the line's slot count a constant, the index is two masks, one variable shift and an
// or.
template <std::size_t kSlotSize>
class SpreadIndex {
    static constexpr std::uint64_t kPerLine = kSlotSize < kCacheLine ? kCacheLine / kSlotSize : 1;
    static constexpr int kSlotShift = __builtin_ctzll(kPerLine);
    static_assert((kSlotSize & (kSlotSize - 1)) == 0, "slot sizes are powers of two");

public:
    SpreadIndex() = default;
    explicit SpreadIndex(std::uint64_t capacity) noexcept  // a power of two
        : mask_(capacity - 1) {
        if (capacity <= kPerLine) return;  // one line: the formula below is pos & mask_
        const std::uint64_t lines = capacity / kPerLine;
        line_mask_ = lines - 1;
        line_bits_ = std::uint32_t(__builtin_ctzll(lines));
    }
    std::uint64_t operator()(std::uint64_t pos) const noexcept {
        return ((pos & line_mask_) << kSlotShift) | ((pos & mask_) >> line_bits_);
    }

private:
    std::uint64_t mask_ = 0;
    std::uint64_t line_mask_ = 0;
    std::uint32_t line_bits_ = 0;
};
// Folded into the integer variants' layout hashes: 1 = SpreadIndex's order (the bytes
// variants keep theirs: their slots did not move).
inline constexpr std::uint64_t kSlotOrderSpread = 1;

}  // namespace shmds::core
