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

}  // namespace shmds::core
