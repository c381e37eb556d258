// Shared-memory layout of the slot deque, the one engine behind the deque and the stack:
//
//   [SegmentHeader 256 B][Control][slot 0][slot 1]...[slot capacity-1]
//
// One robust mutex guards a ring of fixed-size slots and two 64-bit counters, head (the
// first item) and tail (one past the last). size = tail - head; item i lives in slot
// (head + i) mod capacity. Every mutation writes its slot first and commits by storing
// one counter last, so a holder killed at any instruction leaves the old state or the
// new one, never a half-written item that a reader can see.
//
// Slots: an integer or float element is stored at its type's width; a bytes element is
// a u32 length followed by max_len bytes (the length is bounds-checked on every read).
//
// Everything here is computed from (type, capacity, max_len) alone, on create and on
// open, so a peer cannot make us trust an offset.
#pragma once

#include "core/elem_type.hpp"
#include "core/header.hpp"
#include "core/platform.hpp"
#include "core/robust_mutex.hpp"
#include "core/waitpoint.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace shmds::deque {

using core::ElemType;
using core::kCacheLine;

inline constexpr std::uint64_t kMaxCapacity = std::uint64_t{1} << 31;
inline constexpr std::uint64_t kMaxBytesLen = std::uint64_t{1} << 20;  // 1 MiB per item
inline constexpr std::uint64_t kMaxSegment = std::uint64_t{1} << 40;
// Counters start here, so that push_front (which moves head down) never wraps them: the
// slot index is the counter mod capacity, which is continuous only away from 2^64.
inline constexpr std::uint64_t kOrigin = std::uint64_t{1} << 62;
inline constexpr std::uint32_t kBytesLenField = 4;

// Header geometry words.
enum GeometryIndex { kGeomCapacity = 0, kGeomMaxLen = 1 };

struct Control {
    // The lock and every word its holder reads and writes on one cache line.
    alignas(kCacheLine) core::RobustMutex mutex;
    std::atomic<std::uint64_t> head;     // first item; stored under the mutex (commit)
    std::atomic<std::uint64_t> tail;     // one past the last; stored under the mutex
    std::atomic<std::uint64_t> push_ok;  // under the mutex
    std::atomic<std::uint64_t> pop_ok;   // under the mutex
    std::atomic<std::uint64_t> cleared;  // items clear() removed; under the mutex
    // Refused calls and repairs, counted outside the mutex: a caller polling an empty
    // deque never writes the lock's line.
    alignas(kCacheLine) std::atomic<std::uint64_t> push_full;
    std::atomic<std::uint64_t> pop_empty;
    core::WaitPoint not_empty;
    core::WaitPoint not_full;
};
static_assert(offsetof(Control, cleared) < kCacheLine);
static_assert(offsetof(Control, push_full) == kCacheLine);
static_assert(sizeof(Control) % kCacheLine == 0);

struct Geometry {
    ElemType type;
    std::uint64_t capacity;
    std::uint64_t max_len;      // bytes only, else 0
    std::uint32_t stride;       // bytes per slot
    std::uint32_t elem_align;
    std::uint64_t control_off;  // = sizeof(SegmentHeader)
    std::uint64_t data_off;
    std::uint64_t total;
};

// The full layout; 0 or a fail() code naming what is out of range. `noun` ("deque",
// "stack") names the structure in the sentence.
int compute_geometry(ElemType t, std::uint64_t capacity, std::uint64_t max_len,
                     const char *noun, Geometry &out);

// The layout hash: the core descriptor plus this file's structs, per structure type.
std::uint64_t layout_hash(core::StructureType s, ElemType t) noexcept;

}  // namespace shmds::deque
