// Shared-memory layout of a hash map segment (docs/hashmap-design.md §2):
//
//   [SegmentHeader 256][MapControl][ShardControl x shards]
//   per shard: [tags A][tags B][entries A][entries B]
//              (evicting maps: [visited A][visited B][links A][links B]) [arena]
//
// Everything is computed from (variant, max_entries, shards, arena_bytes) alone, on
// create and on open, so no offset is ever taken from shared memory.
#pragma once

#include "core/elem_type.hpp"
#include "core/header.hpp"
#include "core/platform.hpp"
#include "core/robust_mutex.hpp"
#include "core/undo_journal.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace shmds::hashmap {

using core::ElemType;
using core::kCacheLine;

inline constexpr std::uint64_t kMaxEntries = std::uint64_t{1} << 31;
inline constexpr std::uint64_t kMaxShards = 256;
inline constexpr std::uint32_t kMinTable = 16;
inline constexpr std::uint64_t kDefaultArenaPerEntry = 128;
inline constexpr std::uint64_t kMinShardArena = 4096;
// One shard's arena offsets stay below 2^40 (1 TiB): far beyond any real map, and it
// keeps every offset + length sum far from overflow.
inline constexpr std::uint64_t kMaxShardArena = std::uint64_t{1} << 40;
inline constexpr int kArenaClasses = 28;  // blocks of 16 B << 0 .. 27 (2 GiB)
inline constexpr std::uint64_t kMinBlock = 16;
inline constexpr std::uint32_t kJournalCap = 64;

// Tag bytes: 0 empty, 1 tombstone, 0x80 | 7 hash bits for a full slot.
inline constexpr std::uint8_t kTagEmpty = 0;
inline constexpr std::uint8_t kTagTombstone = 1;
inline constexpr std::uint8_t kTagFull = 0x80;

// Header geometry words.
enum GeometryIndex {
    kGeomMaxEntries = 0,
    kGeomShards = 1,
    kGeomArena = 2,
    kGeomFlags = 3,         // kFlagEvict
    kGeomDefaultTtl = 4,    // milliseconds, 0 = entries never expire by default
};

// Map flags (geometry word 3).
inline constexpr std::uint64_t kFlagEvict = 1;  // full shard: evict (SIEVE) instead of -ENOSPC
inline constexpr std::uint64_t kKnownFlags = kFlagEvict;
// The longest TTL (about 8900 years): now + ttl never overflows.
inline constexpr std::uint64_t kMaxTtlMs = std::uint64_t{1} << 48;

// The header's variant word: key type in the low byte, value type in the next.
struct Variant {
    ElemType key;
    ElemType value;
    std::uint32_t word() const noexcept { return std::uint32_t(key) | std::uint32_t(value) << 8; }
    static Variant of(std::uint32_t w) noexcept { return {ElemType(w & 0xff), ElemType(w >> 8)}; }
};

inline bool is_int_type(ElemType t) noexcept {
    return t == ElemType::int16 || t == ElemType::int32 || t == ElemType::int64;
}
// Key types: int16/32/64, bytes. Value types: those plus f64.
inline bool valid_key_type(ElemType t) noexcept { return is_int_type(t) || t == ElemType::bytes; }
inline bool valid_value_type(ElemType t) noexcept {
    return valid_key_type(t) || t == ElemType::f64;
}
inline bool valid_variant(std::uint32_t w) noexcept {
    const Variant v = Variant::of(w);
    return w <= 0xffff && valid_key_type(v.key) && valid_value_type(v.value);
}
// "int64->bytes" etc. (static storage), or "unknown-variant".
const char *variant_name(std::uint32_t w) noexcept;

// ---- shared structs ---------------------------------------------------------------

// MapControl::frozen: writes are refused from kFreezing on; kSealed also says every
// shard was found clean afterwards, which a read-only open requires (design §10).
inline constexpr std::uint64_t kWritable = 0;
inline constexpr std::uint64_t kFreezing = 1;
inline constexpr std::uint64_t kSealed = 2;

struct MapControl {
    std::uint64_t seed[2];  // the keyed hash's secret, from getrandom at creation
    std::atomic<std::uint64_t> frozen;  // kWritable, kFreezing or kSealed; never goes back
    std::uint64_t reserved[5];
};
static_assert(sizeof(MapControl) == kCacheLine);

// The undo journal (design §4) is the library's (core/undo_journal.hpp): records of
// {offset from the segment base, the word's old value}, kJournalCap per shard.
using JournalRecord = core::UndoRecord;
static_assert(sizeof(JournalRecord) == 16);

// The eviction list and the expiry sweep of one shard (design §6, §7). Slot indices
// are stored plus one, so 0 means none and a new (zeroed) segment needs no init.
struct AgingControl {
    std::atomic<std::uint64_t> newest;       // list head: slot + 1
    std::atomic<std::uint64_t> oldest;       // list tail: slot + 1
    std::atomic<std::uint64_t> hand;         // SIEVE hand: slot + 1, 0 = start at the tail
    std::atomic<std::uint64_t> evictions;    // entries evicted to make room
    std::atomic<std::uint64_t> expirations;  // expired entries reclaimed
    std::atomic<std::uint64_t> flush_cursor; // next slot of the partial expiry sweep
    std::atomic<std::uint64_t> reserved[2];
};
static_assert(sizeof(AgingControl) == kCacheLine);

struct ShardControl {
    // line 0: what every reader and writer touches
    core::RobustMutex lock;
    std::atomic<std::uint64_t> seq;         // odd while a writer changes the shard
    std::atomic<std::uint64_t> active;      // which table buffer (0 or 1) is live
    std::atomic<std::uint64_t> cap;         // slots in the live table: a power of two
    std::atomic<std::uint64_t> size;        // full slots
    std::atomic<std::uint64_t> tombstones;  // tombstone slots
    std::atomic<std::uint64_t> resizes;     // rebuilds (grow, shrink, compact)
    std::atomic<std::uint64_t> reserved0;
    // line 1..4: the arena
    alignas(kCacheLine) std::atomic<std::uint64_t> arena_bump;  // first never-used byte
    std::atomic<std::uint64_t> arena_used;                      // bytes in live blocks
    std::atomic<std::uint64_t> free_head[kArenaClasses];        // block offset + 1; 0 = none
    std::atomic<std::uint64_t> reserved1[2];
    // the journal: count, then records
    alignas(kCacheLine) std::atomic<std::uint64_t> journal_count;
    std::atomic<std::uint64_t> reserved2[7];
    JournalRecord journal[kJournalCap];
    // eviction and TTL (only written by writers; readers never look)
    alignas(kCacheLine) AgingControl aging;
};
static_assert(offsetof(ShardControl, seq) == 8);
static_assert(offsetof(ShardControl, arena_bump) == kCacheLine);
static_assert(offsetof(ShardControl, journal_count) == 5 * kCacheLine);
static_assert(sizeof(ShardControl) % kCacheLine == 0);

// An entry's first two words; the key area and value area follow.
inline constexpr std::uint32_t kEntryWordExpire = 0;  // absolute realtime ms, 0 = never
inline constexpr std::uint32_t kEntryWordLens = 1;    // key_len | val_len << 32
inline constexpr std::uint32_t kEntryHeaderWords = 2;

// An evicting map's per-slot list word (links array): (older + 1) | (newer + 1) << 32,
// 0 = none on that side. "Newer" points towards the list head.
inline constexpr std::uint64_t kLinkBytes = 8;

// ---- geometry ---------------------------------------------------------------------

struct Geometry {
    Variant variant;
    std::uint64_t max_entries;
    std::uint64_t shards;
    std::uint64_t shard_bits;      // log2(shards)
    std::uint64_t arena_bytes;     // over all shards
    std::uint64_t flags;           // kFlagEvict
    std::uint64_t default_ttl_ms;  // 0 = never expires
    std::uint64_t shard_max;       // entries one shard may hold: ceil(max_entries / shards)
    std::uint64_t max_cap;         // slots of one table buffer
    std::uint64_t key_area;        // bytes: 8 (integer keys) or 16
    std::uint64_t val_area;        // bytes: 8 (integer, f64 values) or 32
    std::uint64_t stride;          // bytes per entry
    std::uint64_t shard_arena;     // arena bytes per shard
    std::uint64_t map_control_off;
    std::uint64_t shard_control_off;  // ShardControl[shards]
    std::uint64_t shard_data_off;     // first shard's data
    std::uint64_t shard_data_size;    // stride between shards' data
    // Offsets inside one shard's data.
    std::uint64_t tags_off[2];
    std::uint64_t entries_off[2];
    std::uint64_t visited_off[2];  // evicting maps: one byte per slot (the SIEVE mark)
    std::uint64_t links_off[2];    // evicting maps: one list word per slot
    std::uint64_t arena_off;
    std::uint64_t total;
};

// Compute the full layout; 0 or a fail() code naming what is out of range.
int compute_geometry(Variant v, std::uint64_t max_entries, std::uint64_t shards,
                     std::uint64_t arena_bytes, Geometry &out, std::uint64_t flags = 0,
                     std::uint64_t default_ttl_ms = 0);

// Changes with the shared structs and with the per-slot arrays an evicting map adds.
std::uint64_t layout_hash(Variant v, std::uint64_t flags = 0) noexcept;

}  // namespace shmds::hashmap
