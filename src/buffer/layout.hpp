// Shared-memory layout of a buffer segment:
//
//   [SegmentHeader 256 B][Control 128 B][data: length elements of elem_size bytes]
//
// Element i lives at data + i * elem_size; the data area starts on a 64-byte boundary,
// so every numeric element is naturally aligned (elem_size is 1, 2, 4 or 8) and the
// data can be handed to numpy/PDL/OpenGL as a packed C array. A bytes element is
// exactly `width` bytes, zero-padded (no length field: the area stays a packed
// fixed-width array, numpy's 'S<width>').
//
// Everything here is computed from (type, length, width) alone, both when a segment is
// created and when one is opened, so a peer cannot make us trust an offset.
#pragma once

#include "core/elem_type.hpp"
#include "core/header.hpp"
#include "core/platform.hpp"
#include "core/robust_mutex.hpp"
#include "core/waitpoint.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace shmds::buffer {

using core::ElemType;
using core::kCacheLine;

inline constexpr std::uint64_t kMaxLength = std::uint64_t{1} << 36;
inline constexpr std::uint64_t kMaxWidth = std::uint64_t{1} << 20;  // bytes elements
inline constexpr std::uint64_t kMaxDataBytes = std::uint64_t{1} << 40;

// Header geometry words.
enum GeometryIndex { kGeomLength = 0, kGeomWidth = 1 };

struct Control {
    // The writer lock and the seqlock word its holder moves, on one line: a bulk write
    // touches this line once to lock and make seq odd, once to make it even and unlock.
    // seq is even while no bulk write is in progress; readers only ever load it.
    alignas(kCacheLine) core::RobustMutex mutex;
    std::atomic<std::uint64_t> seq;
    // Readers asleep on an odd seq; a writer wakes them only when some are asleep.
    alignas(kCacheLine) core::WaitPoint settled;
};
static_assert(offsetof(Control, seq) == 8);
static_assert(offsetof(Control, settled) == kCacheLine);
static_assert(sizeof(Control) % kCacheLine == 0);

struct Geometry {
    ElemType type;
    std::uint64_t length;     // elements
    std::uint64_t width;      // bytes elements: their width; else 0
    std::uint32_t elem_size;  // bytes per element
    std::uint64_t control_off;
    std::uint64_t data_off;
    std::uint64_t data_bytes;  // length * elem_size
    std::uint64_t total;
};

// The full layout; 0 or a fail() code naming what is out of range.
int compute_geometry(std::uint32_t type, std::uint64_t length, std::uint64_t width,
                     Geometry &out);

std::uint64_t layout_hash(ElemType t) noexcept;

}  // namespace shmds::buffer
