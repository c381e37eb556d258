// Shared-memory layout of a queue segment:
//
//   [SegmentHeader 256 B][control block][data region]
//
// Integer variants: the control block holds tail, head (each on its own cache line),
// two WaitPoints and the failure counters; the data region is `capacity` slots.
// Bytes variant: the control block holds the front end (its lock, head, the pop version)
// on one line, the back end (its lock, tail) on the next, then the counters and two
// WaitPoints; the data region is `capacity` descriptors followed by the byte arena.
//
// Everything here is computed from (variant, capacity, arena_bytes) alone, both when a
// segment is created and when one is opened, so a peer cannot make us trust an offset.
#pragma once

#include "core/header.hpp"
#include "core/platform.hpp"
#include "core/robust_mutex.hpp"
#include "core/variant.hpp"
#include "core/waitpoint.hpp"
#include "core/wide_cas.hpp"

#include <atomic>
#include <cstdint>

namespace shmds::queue {

using core::kCacheLine;

using Variant = core::ElementVariant;

inline const char *variant_name(std::uint32_t v) noexcept { return core::element_variant_name(v); }

inline constexpr std::uint64_t kMaxIntCapacity = std::uint64_t{1} << 30;
inline constexpr std::uint64_t kMaxBytesCapacity = std::uint64_t{1} << 26;
inline constexpr std::uint64_t kMinArena = 4096;
// Descriptors store 32-bit offsets; keep the arena strictly below 4 GiB.
inline constexpr std::uint64_t kMaxArena = (std::uint64_t{1} << 32) - kCacheLine;
inline constexpr std::uint64_t kDefaultBytesPerMessage = 256;
inline constexpr std::uint64_t kArenaAlign = 8;

// Header geometry words.
enum GeometryIndex { kGeomCapacity = 0, kGeomArena = 1 };

// ---- integer variants -------------------------------------------------------------

// Int64: a 16-byte slot {seq, value} committed with one 16-byte CAS.
using WideSlot = core::WideIntSlot;
// Int32 and Int16: an 8-byte slot, low half the 32-bit seq, high half the value.
using NarrowSlot = core::NarrowIntSlot;

struct IntControl {
    alignas(kCacheLine) std::atomic<std::uint64_t> tail;  // next position to publish
    alignas(kCacheLine) std::atomic<std::uint64_t> head;  // next position to consume
    core::WaitPoint not_empty;
    core::WaitPoint not_full;
    alignas(kCacheLine) std::atomic<std::uint64_t> push_full;
    std::atomic<std::uint64_t> pop_empty;
    std::atomic<std::uint64_t> cleared;  // items removed by clear(), not counted as pops
};
static_assert(offsetof(IntControl, head) == kCacheLine);
static_assert(sizeof(IntControl) % kCacheLine == 0);

// ---- bytes variant ----------------------------------------------------------------

// One message: its region of the arena is [start, start + alloc) modulo the arena size;
// the payload is at [off, off + len). alloc >= len covers padding and any bytes skipped
// to keep the payload contiguous at the arena's end.
struct BytesDesc {
    std::uint32_t start;
    std::uint32_t off;
    std::uint32_t len;
    std::uint32_t alloc;
};
static_assert(sizeof(BytesDesc) == 16);

struct BytesControl {
    // Two ends, each behind its own crash-recoverable lock, each on its own cache line
    // with everything its holder writes: push_back takes the back lock, pop_front the
    // front lock, so a producer and a consumer never contend for one lock and each end's
    // line moves between processes only when the other end reads it (once per batch).
    // push_front, pop_back, clear and stats take both, front first. Each operation
    // commits with a single store to head or tail, after its data and descriptor are in
    // place, so a holder killed at any instruction leaves either the old or the new state.
    alignas(kCacheLine) core::RobustMutex front_lock;
    std::atomic<std::uint64_t> head;    // first descriptor; written under front_lock
    std::atomic<std::uint64_t> popped;  // bumped by every pop and clear: push waiters watch it
    // The tail the last pop_front saw (never above tail; pop_back lowers it first), so a
    // consumer behind the producers need not read the back line (BytesRing::pop_locked).
    std::atomic<std::uint64_t> tail_seen;  // written under front_lock
    alignas(kCacheLine) core::RobustMutex back_lock;
    std::atomic<std::uint64_t> tail;    // one past the last; written under back_lock
    // What lets a push_back skip reading the front line (BytesRing::remembered_frontiers):
    // the arena bytes ever allocated at the back, and a count of push_fronts, the only
    // move of head downward (otherwise head only rises, and an older look at it sees the
    // ring fuller than it is). Both written under back_lock.
    std::atomic<std::uint64_t> back_allocs;
    std::atomic<std::uint64_t> head_lowered;
    // Refused calls, counted outside the locks: here, so that a caller polling an empty
    // queue without waiting never writes an end's line.
    alignas(kCacheLine) std::atomic<std::uint64_t> push_full;
    std::atomic<std::uint64_t> pop_empty;
    // Counted by each end's holder on a line nobody polls, so the count never costs a
    // store to a line the other end is watching.
    alignas(kCacheLine) std::atomic<std::uint64_t> push_ok;  // written under back_lock
    alignas(kCacheLine) std::atomic<std::uint64_t> pop_ok;   // written under front_lock
    // Read by every waker: on lines of their own (WaitPoint is line-aligned).
    core::WaitPoint not_empty;
    core::WaitPoint not_full;
};
static_assert(offsetof(BytesControl, tail_seen) < kCacheLine);
static_assert(offsetof(BytesControl, back_lock) == kCacheLine);
static_assert(offsetof(BytesControl, head_lowered) < 2 * kCacheLine);
static_assert(sizeof(BytesControl) % kCacheLine == 0);

// ---- geometry ---------------------------------------------------------------------

struct Geometry {
    Variant variant;
    std::uint64_t capacity;     // slots (ints) or descriptors (bytes); a power of two
    std::uint64_t arena;        // bytes variant only
    std::uint64_t control_off;  // = sizeof(SegmentHeader)
    std::uint64_t data_off;     // slots or descriptors
    std::uint64_t arena_off;    // bytes variant only
    std::uint64_t total;
    std::uint32_t elem_size;
    std::uint32_t elem_align;
};

// Compute the full layout; 0 or a fail() code naming what is out of range.
int compute_geometry(Variant v, std::uint64_t capacity, std::uint64_t arena, Geometry &out);

// The layout hash for a variant: the core descriptor plus this file's structs.
std::uint64_t layout_hash(Variant v) noexcept;

}  // namespace shmds::queue
