// Shared-memory layout of the heap (a bounded priority queue):
//
//   [SegmentHeader 256 B][Control][entry 0][entry 1]...[entry capacity-1][moving entry]
//
// One robust mutex guards an array heap of fixed-size entries. An entry is
// {int64 priority, uint64 sequence, value}; the value is an int64, or a u32 length and
// max_len bytes. Entries are ordered by (priority, sequence): the sequence is a 64-bit
// push counter, so equal priorities leave in push order (FIFO). A max-heap (a creation
// flag) reverses the priority order only, never the sequence order.
//
// No half-sifted heap after a crash: a push or pop moves ONE entry (the new one, or the
// last one after the root left) through a hole. (A push whose entry already belongs at
// the end, its parent leaving first, writes it into slot size, outside the heap, and
// commits with the size store alone: nothing moves, no journal opens.) The moving entry
// waits in its own slot after the array, and the Control's journal {op, hole, jsize}
// says where the hole is.
// Each sift step copies a parent (or child) into the hole and then moves the hole with
// one 8-byte store, so at every instruction
//
//     entries [0, jsize) minus the hole, plus the moving entry = the heap's contents.
//
// The next locker after a holder's death puts the moving entry into the hole and
// re-heapifies (heap.cpp, repair()).
//
// Everything here is computed from (type, capacity, max_len, flags) alone, on create
// and on open, so a peer cannot make us trust an offset.
#pragma once

#include "core/elem_type.hpp"
#include "core/header.hpp"
#include "core/platform.hpp"
#include "core/robust_mutex.hpp"
#include "core/waitpoint.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace shmds::heap {

using core::ElemType;
using core::kCacheLine;

inline constexpr std::uint64_t kMaxCapacity = std::uint64_t{1} << 31;
inline constexpr std::uint64_t kMaxBytesLen = std::uint64_t{1} << 20;  // 1 MiB per value
inline constexpr std::uint64_t kMaxSegment = std::uint64_t{1} << 40;
inline constexpr std::uint64_t kFlagMax = 1;  // a max-heap: the largest priority first
inline constexpr std::uint64_t kKnownFlags = kFlagMax;

// An entry's fixed part; the value follows at kValueOff.
struct EntryKey {
    std::int64_t priority;
    std::uint64_t sequence;
};
inline constexpr std::uint32_t kValueOff = sizeof(EntryKey);
inline constexpr std::uint32_t kBytesLenField = 4;

// The journal's op: what the holder was doing when it held the lock.
enum Op : std::uint64_t { kOpNone = 0, kOpSiftUp = 1, kOpSiftDown = 2 };

// Header geometry words.
enum GeometryIndex { kGeomCapacity = 0, kGeomMaxLen = 1, kGeomFlags = 2 };

struct Control {
    // The lock and the words its holder writes once per call on one cache line.
    alignas(kCacheLine) core::RobustMutex mutex;
    std::atomic<std::uint64_t> size;      // entries in the heap; under the mutex
    std::atomic<std::uint64_t> next_seq;  // the next push's sequence; under the mutex
    std::atomic<std::uint64_t> op;        // journal: kOpNone when no sift is under way
    std::atomic<std::uint64_t> jsize;     // journal: the size once the sift is done
    std::atomic<std::uint64_t> push_ok;   // under the mutex
    std::atomic<std::uint64_t> pop_ok;    // under the mutex
    // journal: the slot the moving entry may take; under the mutex. Stored at every
    // sift step (ten per pop of a 1000-entry heap), so on a line of its own: a waiter
    // polling the lock's line (a spinning locker, a pusher waiting for room) would
    // otherwise take that line away from the holder at every step, and each step's
    // store would wait for it to come back.
    alignas(kCacheLine) std::atomic<std::uint64_t> hole;
    // Refused calls, counted outside the mutex: a caller polling an empty heap never
    // writes the lock's line.
    alignas(kCacheLine) std::atomic<std::uint64_t> push_full;
    std::atomic<std::uint64_t> pop_empty;
    std::atomic<std::uint64_t> cleared;  // under the mutex
    core::WaitPoint not_empty;
    core::WaitPoint not_full;
};
static_assert(offsetof(Control, pop_ok) < kCacheLine);
static_assert(offsetof(Control, hole) == kCacheLine);
static_assert(offsetof(Control, push_full) == 2 * kCacheLine);
static_assert(sizeof(Control) % kCacheLine == 0);

struct Geometry {
    ElemType type;  // int64 or bytes
    std::uint64_t capacity;
    std::uint64_t max_len;  // bytes only, else 0
    std::uint64_t flags;
    std::uint32_t stride;  // bytes per entry
    std::uint64_t control_off;
    std::uint64_t data_off;
    std::uint64_t total;
};

// The full layout; 0 or -EINVAL with a sentence naming what is out of range.
int compute_geometry(ElemType t, std::uint64_t capacity, std::uint64_t max_len,
                     std::uint64_t flags, Geometry &out);

std::uint64_t layout_hash(ElemType t) noexcept;

}  // namespace shmds::heap
