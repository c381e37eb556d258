// Shared-memory layout of a bit set segment:
//
//   [SegmentHeader 256 B][BitsetControl 64 B][words: ceil(nbits / 64) × 8 bytes]
//
// Bit i lives in word i / 64 at position i % 64 (bit 0 of word 0 is bit 0 of the set).
// The bits of the last word at and beyond `nbits` ("tail bits") are never set: every
// bulk operation masks them, per-bit operations refuse their indexes, and count and
// first_clear ignore them anyway (a damaged segment cannot make them lie).
//
// Everything here is computed from nbits alone, both when a segment is created and when
// one is opened, so a peer cannot make us trust an offset.
#pragma once

#include "core/header.hpp"
#include "core/platform.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace shmds::bitset {

using core::kCacheLine;

// 2^36 bits = 8 GiB of words: far beyond any bitmap in shared memory, and small enough
// that no size computed from it can overflow.
inline constexpr std::uint64_t kMaxBits = std::uint64_t{1} << 36;
inline constexpr std::uint64_t kWordBits = 64;

// The only variant: plain bits (no element type).
inline constexpr std::uint32_t kVariant = 1;

enum GeometryIndex { kGeomBits = 0 };

// `frozen`'s values. Anything else is damage (SHMDS_ECORRUPT from freeze; a mutation
// treats it as frozen, the safe reading).
inline constexpr std::uint64_t kWritable = 0;
inline constexpr std::uint64_t kFrozen = 1;

struct BitsetControl {
    // Read by every mutation, written once by freeze: alone on its line, so the words'
    // traffic never moves it.
    alignas(kCacheLine) std::atomic<std::uint64_t> frozen;
    std::uint64_t reserved[7];  // for later fields without a layout change
};
static_assert(sizeof(BitsetControl) == kCacheLine);
static_assert(offsetof(BitsetControl, frozen) == 0);

struct Geometry {
    std::uint64_t nbits;
    std::uint64_t nwords;     // ceil(nbits / 64)
    std::uint64_t tail_mask;  // the valid bits of the last word (all ones if nbits % 64 == 0)
    std::uint64_t control_off;
    std::uint64_t words_off;
    std::uint64_t total;
};

// The full layout; 0 or a fail() code naming what is out of range.
int compute_geometry(std::uint64_t nbits, Geometry &out);

std::uint64_t layout_hash() noexcept;

}  // namespace shmds::bitset
