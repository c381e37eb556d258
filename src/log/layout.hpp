// Shared-memory layout of a log segment:
//
//   [SegmentHeader 256 B][LogControl][data region: `capacity` bytes]
//
// The data region holds entries back to back from offset 0. An entry is an 8-byte
// header {u32 length, u32 tag} followed by its bytes, padded to a multiple of 8, so
// every header is 8-byte aligned (the reference's lesson 11: an unaligned commit word
// faults on ARM64). The tag is a keyed hash of (offset, length) under the segment's
// secret seed: an offset that is not an entry's start is recognised as such (up to a
// 2^-32 chance), instead of its bytes being taken for a length.
//
// Entries are published by one word, `commit`: (entry count << 32) | (tail / 8). The
// tail is the first byte past the last committed entry; readers read only below it, so
// nothing an appender writes is visible before the release store of `commit`, and the
// count and the tail can never disagree.
//
// Everything here is computed from the capacity alone, on create and on open, so a
// peer cannot make us trust an offset.
#pragma once

#include "core/header.hpp"
#include "core/platform.hpp"
#include "core/robust_mutex.hpp"
#include "core/waitpoint.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace shmds::log {

using core::kCacheLine;

// The data region's bounds. 2^34 bytes keeps tail / 8 within 32 bits of `commit`; an
// entry takes at least 16 bytes, so the count (at most 2^30) fits the other 32.
inline constexpr std::uint64_t kMinCapacity = 64;
inline constexpr std::uint64_t kMaxCapacity = std::uint64_t{1} << 34;
inline constexpr std::uint64_t kEntryAlign = 8;
inline constexpr std::uint64_t kEntryHeader = 8;
// The longest entry: its length is a u32 and its padded size must not wrap.
inline constexpr std::uint64_t kMaxEntry = 0xFFFFFFF0u;

// The only variant: entries are byte strings (SHMDS_TYPE_BYTES).
inline constexpr std::uint32_t kVariant = 4;

enum GeometryIndex { kGeomCapacity = 0 };

struct EntryHeader {
    std::uint32_t len;  // 1 ..= kMaxEntry: an empty entry is refused
    std::uint32_t tag;  // entry_tag(offset, len)
};
static_assert(sizeof(EntryHeader) == kEntryHeader);

// The bytes an entry of `len` bytes occupies, header and padding included.
constexpr std::uint64_t entry_size(std::uint64_t len) noexcept {
    return kEntryHeader + core::align_up(len, kEntryAlign);
}

constexpr std::uint64_t pack_commit(std::uint64_t count, std::uint64_t tail) noexcept {
    return (count << 32) | (tail / kEntryAlign);
}
constexpr std::uint64_t commit_count(std::uint64_t c) noexcept { return c >> 32; }
constexpr std::uint64_t commit_tail(std::uint64_t c) noexcept {
    return (c & 0xFFFFFFFFu) * kEntryAlign;
}

struct LogControl {
    // The appenders' line: the lock and every word its holder writes, so an append
    // moves one control line between processes.
    alignas(kCacheLine) core::RobustMutex mutex;
    std::atomic<std::uint64_t> commit;      // pack_commit(count, tail); release-stored
    // Even: stable. Odd: a reset is rewriting the control words. Every reset adds 2;
    // readers check it around each copy (seqlock) and cursors carry it.
    std::atomic<std::uint64_t> epoch;
    std::atomic<std::uint64_t> truncation;  // the first visible offset; only grows
    std::atomic<std::uint64_t> resets;      // written under the mutex
    std::atomic<std::uint64_t> append_full; // appends refused for want of space
    std::uint64_t seed[2];                  // the tag key, drawn at creation
    core::WaitPoint appended;               // wait_for sleepers; woken after commits
};
static_assert(offsetof(LogControl, seed) < kCacheLine);
static_assert(offsetof(LogControl, appended) == kCacheLine);
static_assert(sizeof(LogControl) % kCacheLine == 0);

struct Geometry {
    std::uint64_t capacity;     // data region bytes, a multiple of 8
    std::uint64_t control_off;  // = sizeof(SegmentHeader)
    std::uint64_t data_off;
    std::uint64_t total;
};

// Compute the layout; 0 or a fail() code naming what is out of range.
int compute_geometry(std::uint64_t capacity, Geometry &out);

std::uint64_t layout_hash() noexcept;

}  // namespace shmds::log
