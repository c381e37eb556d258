// Shared-memory layout of a ring buffer segment:
//
//   [SegmentHeader 256 B][RingControl][capacity slots of 16 bytes]
//
// A slot is a {tag, value} pair (core::Pair64) committed with ONE 16-byte CAS: tag is
// the sequence number of the write it holds plus one (0 = never written), value is
// the element's 8-byte word (every element type is stored in a whole word). Sequence s
// lives in slot s mod capacity; capacity is exactly what the creator asked for (not
// rounded), so the index is a division.
//
// Everything here is computed from (type, capacity) alone, both when a segment is
// created and when one is opened, so a peer cannot make us trust an offset.
#pragma once

#include "core/elem_type.hpp"
#include "core/header.hpp"
#include "core/platform.hpp"
#include "core/waitpoint.hpp"
#include "core/wide_cas.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace shmds::ringbuffer {

using core::kCacheLine;
using core::ElemType;

inline constexpr std::uint64_t kMaxCapacity = std::uint64_t{1} << 30;

// Header geometry words.
enum GeometryIndex { kGeomCapacity = 0 };

using Slot = core::Pair64;  // lo: sequence + 1 (0 = empty); hi: the value word

struct RingControl {
    // The next sequence to claim: also the number of writes ever claimed. Alone on its
    // line: every write's fetch_add moves it, and nothing else should move with it.
    alignas(kCacheLine) std::atomic<std::uint64_t> head;
    // wait_for sleepers. Writers only read its `sleepers` word unless someone sleeps.
    alignas(kCacheLine) core::WaitPoint written;
    // Writes dropped because their slot already held a later sequence (the writer was
    // preempted for a whole lap): rare, so counting them costs the hot path nothing.
    alignas(kCacheLine) std::atomic<std::uint64_t> stale_writes;
};
static_assert(offsetof(RingControl, written) == kCacheLine);
static_assert(sizeof(RingControl) % kCacheLine == 0);
static_assert(sizeof(Slot) == 16 && alignof(Slot) == 16);

struct Geometry {
    ElemType type;
    std::uint64_t capacity;
    std::uint64_t control_off;
    std::uint64_t slots_off;
    std::uint64_t total;
};

// Whether a ring buffer stores elements of `type`: the integers (8..64 bits, signed or
// unsigned) and f64.
bool supported_type(std::uint32_t type) noexcept;

// The full layout; 0 or a fail() code naming what is out of range.
int compute_geometry(std::uint32_t type, std::uint64_t capacity, Geometry &out);

std::uint64_t layout_hash(ElemType t) noexcept;

}  // namespace shmds::ringbuffer
