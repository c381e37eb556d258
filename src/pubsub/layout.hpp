// Shared-memory layout of a pubsub segment:
//
//   [SegmentHeader 256 B][PubControl][slot region]
//
// Integer variants: `capacity` slots of {seq, value}, committed with one CAS (16 bytes
// for Int64, 8 bytes for Int32/Int16). Bytes variant: `capacity` slots, each with its
// own fixed region: a 64-byte header (sequence word, length, checksum) and msg_size
// bytes of payload, so no message ever shares bytes with another (the reference's
// lesson 4: a shared arena let one writer tear another slot's message).
//
// Everything here is computed from (variant, capacity, msg_size) alone, both when a
// segment is created and when one is opened, so a peer cannot make us trust an offset.
#pragma once

#include "core/header.hpp"
#include "core/platform.hpp"
#include "core/variant.hpp"
#include "core/waitpoint.hpp"
#include "core/wide_cas.hpp"

#include <atomic>
#include <cstdint>

namespace shmds::pubsub {

using core::kCacheLine;

using Variant = core::ElementVariant;

inline const char *variant_name(std::uint32_t v) noexcept { return core::element_variant_name(v); }

inline constexpr std::uint64_t kMaxIntCapacity = std::uint64_t{1} << 30;
inline constexpr std::uint64_t kMaxBytesCapacity = std::uint64_t{1} << 24;
inline constexpr std::uint64_t kDefaultMsgSize = 256;
inline constexpr std::uint64_t kMaxMsgSize = std::uint64_t{1} << 24;
// Bound on the whole segment, so capacity * stride can never overflow or ask the
// kernel for absurd amounts by accident.
inline constexpr std::uint64_t kMaxSegment = std::uint64_t{1} << 40;

// A claimed position whose commit has not appeared after this long is treated as
// abandoned (its publisher died or is stalled): subscribers skip it, and a later-lap
// bytes publisher takes its slot over. Well inside DESIGN.md's 2 s bound.
inline constexpr std::int64_t kAbandonNs = 500'000'000;

enum GeometryIndex { kGeomCapacity = 0, kGeomMsgSize = 1 };

// Int64 slot: lo = seq, hi = value.
using WideSlot = core::WideIntSlot;
// Int32 slot: low 32 bits seq, high 32 value. Int16: low 48 bits seq, high 16 value.
using NarrowSlot = core::NarrowIntSlot;

struct BytesSlotHeader {
    // (position + 1) << 1, plus 1 while a writer copies: odd = being written.
    std::atomic<std::uint64_t> seq;
    std::atomic<std::uint64_t> check;  // checksum of (position, len, payload)
    std::atomic<std::uint32_t> len;
    std::uint32_t reserved_[11];
};
static_assert(sizeof(BytesSlotHeader) == kCacheLine);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

struct PubControl {
    alignas(kCacheLine) std::atomic<std::uint64_t> write_pos;  // next position to claim
    core::WaitPoint readable;  // subscribers asleep until something is committed
    alignas(kCacheLine) std::atomic<std::uint64_t> dropped;  // stale commits refused
    std::atomic<std::uint64_t> skipped;    // abandoned positions skipped by subscribers
    std::atomic<std::uint64_t> torn;       // torn or damaged reads rejected (bytes)
    std::atomic<std::uint64_t> takeovers;  // abandoned bytes slots taken by a later writer
    std::atomic<std::uint64_t> overflowed; // messages subscribers missed by being lapped
};
static_assert(offsetof(PubControl, readable) == kCacheLine);
static_assert(sizeof(PubControl) % kCacheLine == 0);

struct Geometry {
    Variant variant;
    std::uint64_t capacity;  // slots; a power of two
    std::uint64_t msg_size;  // bytes variant: the largest message
    std::uint64_t stride;    // bytes per slot
    std::uint64_t control_off;
    std::uint64_t slots_off;
    std::uint64_t total;
    std::uint32_t elem_size;
    std::uint32_t elem_align;
};

// Compute the full layout; 0 or a fail() code naming what is out of range.
int compute_geometry(Variant v, std::uint64_t capacity, std::uint64_t msg_size, Geometry &out);

std::uint64_t layout_hash(Variant v) noexcept;

}  // namespace shmds::pubsub
