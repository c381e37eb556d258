// Shared-memory layout of a cache segment (docs/cache-design.md §2):
//
//   [SegmentHeader 256][CacheControl][PageControl x pages][spare pool u64 x spares]
//   [page map u64 x pages][frames x (pages + spares), page_size each]
//
// A page is a logical bucket of keys (fixed by the key's hash); the page map says which
// frame holds it now. Expunge builds a page's compacted copy in a spare frame and flips
// the map word (design §4), so a frame is either some page's or in the spare pool.
// Everything is computed from the geometry words alone, on create and on open, so no
// offset is ever taken from shared memory.
#pragma once

#include "core/header.hpp"
#include "core/ms_clock.hpp"
#include "core/platform.hpp"
#include "core/robust_mutex.hpp"
#include "core/undo_journal.hpp"
#include "core/waitpoint.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace shmds::cache {

using core::kCacheLine;

inline constexpr std::uint64_t kMinPageSize = 4096;
inline constexpr std::uint64_t kMaxPageSize = std::uint64_t{1} << 20;
inline constexpr std::uint64_t kDefaultPageSize = 65536;  // the anchor's
inline constexpr std::uint64_t kDefaultPages = 89;        // the anchor's
inline constexpr std::uint64_t kDefaultStartSlots = 89;   // the anchor's
inline constexpr std::uint64_t kMaxPages = std::uint64_t{1} << 24;
inline constexpr std::uint64_t kDefaultSpareFrames = 8;
inline constexpr std::uint64_t kMaxSpareFrames = 64;
inline constexpr std::uint32_t kJournalCap = 8;  // set: 4 words, flip: 2
// Expiry times stay below 2^48 ms (about 8900 years), so now + ttl never overflows.
inline constexpr std::uint64_t kMaxExpireMs = std::uint64_t{1} << 48;

// Header geometry words.
enum GeometryIndex {
    kGeomPageSize = 0,
    kGeomPages = 1,
    kGeomStartSlots = 2,
    kGeomSpares = 3,
    kGeomDefaultExpire = 4,  // milliseconds, 0 = items never expire by default
};

// ---- shared structs ---------------------------------------------------------------

struct CacheControl {
    std::uint64_t seed[2];  // the keyed hash's secret, drawn at creation
    std::uint64_t reserved[6];
};
static_assert(sizeof(CacheControl) == kCacheLine);

// The stampede guard (design §6): a key whose miss is being filled by a read_cb. Written
// only under the page lock; `owner` (a core::OwnerToken, 0 = free) is stored last and
// cleared first, so a half-written entry is free. A dead owner's entry is free too: any
// process that finds it probes the owner's liveness, so nothing waits on a dead filler.
inline constexpr int kFillSlots = 4;
struct FillEntry {
    std::atomic<std::uint64_t> key_hash;  // the key's full keyed hash
    std::atomic<std::uint64_t> owner;     // the filler's process
};

// One per page: its lock, its journal, its claim on a spare frame, its statistics, its
// fill table and the WaitPoint that misses waiting for a fill sleep on.
struct PageControl {
    core::RobustMutex lock;
    std::atomic<std::uint64_t> journal_count;
    // The spare-pool slot (+1; 0 = none) this page's expunge holds, and the frame to
    // hand back to that slot: the spare itself before the flip, the page's old frame
    // after it (changed in the flip's journaled transaction). design §4.
    std::atomic<std::uint64_t> claim_slot;
    std::atomic<std::uint64_t> claim_frame;
    // Statistics: gets counted since creation, written only by the page's lock holder
    // (a load and a store, not a locked add), and what a stats clear last saw of them:
    // the stats report the difference.
    std::atomic<std::uint64_t> reads;
    std::atomic<std::uint64_t> hits;
    std::atomic<std::uint64_t> reads_cleared;
    std::atomic<std::uint64_t> hits_cleared;
    core::UndoRecord journal[kJournalCap];
    FillEntry fills[kFillSlots];
    core::WaitPoint fill_wait;
};
static_assert(offsetof(PageControl, journal) == kCacheLine);
static_assert(sizeof(PageControl) % kCacheLine == 0);

// Spare pool words: a free frame, or claimed by a page (whose PageControl knows which
// frame goes back). 0 never occurs in a valid segment.
inline constexpr std::uint64_t kPoolFree = std::uint64_t{1} << 63;
inline constexpr std::uint64_t kPoolClaimed = std::uint64_t{1} << 62;
inline constexpr std::uint64_t kPoolIndexMask = (std::uint64_t{1} << 32) - 1;

// A frame starts with this header; the slot table (u32 each) follows, then records.
// Slot words: 0 empty (a probe stops), 1 deleted (a probe continues; a write may reuse
// it), otherwise a record's slot word (below).
struct FrameHeader {
    std::atomic<std::uint64_t> magic;
    std::atomic<std::uint64_t> num_slots;
    std::atomic<std::uint64_t> free_data;  // frame offset of the next record
    std::atomic<std::uint64_t> used;       // slots not empty: live + deleted
    std::atomic<std::uint64_t> live;       // slots holding a record (expired ones too)
    std::atomic<std::uint64_t> reserved[3];
};
static_assert(sizeof(FrameHeader) == kCacheLine);
inline constexpr std::uint64_t kFrameMagic = 0x31454741504d4853ull;  // "SHMPAGE1"
inline constexpr std::uint32_t kSlotEmpty = 0;
inline constexpr std::uint32_t kSlotDeleted = 1;

// A record's slot word: its frame offset / 8 in the low 17 bits (offsets are 8-aligned
// and below kMaxPageSize) and a 15-bit tag of its slot hash above them, so a probe step
// loads a record only when the tag matches (design §2): without the tag every step
// costs a cache miss on a record. A record starts past the frame header, so its offset
// field is >= 8 and its word is never kSlotEmpty or kSlotDeleted. The tag is the slot
// hash's low bits because the probe's home slot comes from its high bits (home_slot):
// keys that collide on a home slot still differ in their tags.
inline constexpr int kSlotOffsetBits = 17;
inline constexpr std::uint32_t kSlotOffsetMask = (std::uint32_t{1} << kSlotOffsetBits) - 1;
static_assert(kMaxPageSize / 8 <= std::uint64_t{kSlotOffsetMask} + 1);
static_assert(sizeof(FrameHeader) / 8 > kSlotDeleted);

inline std::uint32_t slot_tag(std::uint32_t slot_hash) noexcept {
    return slot_hash & (UINT32_MAX >> kSlotOffsetBits);
}
inline std::uint32_t slot_word(std::uint64_t off, std::uint32_t slot_hash) noexcept {
    return slot_tag(slot_hash) << kSlotOffsetBits | std::uint32_t(off >> 3);
}
// A record's slot word's parts (for a word that is neither empty nor deleted).
inline std::uint32_t slot_offset(std::uint32_t word) noexcept {
    return (word & kSlotOffsetMask) << 3;
}
inline std::uint32_t slot_word_tag(std::uint32_t word) noexcept {
    return word >> kSlotOffsetBits;
}
// Where a probe for slot_hash starts in a table of `slots`: the hash's high bits scaled
// (a multiply, not a division), so the tag's low bits stay independent of it.
inline std::uint64_t home_slot(std::uint32_t slot_hash, std::uint64_t slots) noexcept {
    return (std::uint64_t{slot_hash} * slots) >> 32;
}

// A record, 8-aligned, padded to 8: header, key bytes, value bytes.
struct RecordHeader {
    std::uint64_t last_access_ms;
    std::uint64_t expire_on_ms;  // absolute realtime ms; 0 = never
    std::uint32_t slot_hash;     // the key's in-page hash, so a rebuild never rehashes
    std::uint32_t flags;         // kRecord* below
    std::uint32_t key_len;
    std::uint32_t val_len;
};
static_assert(sizeof(RecordHeader) == 32);
// Record flags, the anchor's bit values (study §2). Dirty: set in write_back mode and
// not yet handed to write_cb. NotFound: a cached "read_cb found nothing"
// (cache_not_found); its value is empty and a get reports a miss without read_cb.
inline constexpr std::uint32_t kRecordDirty = 1;
inline constexpr std::uint32_t kRecordNotFound = std::uint32_t{1} << 29;
// Tombstone: a key removed with a modseq (the anchor's 1.63). It reads as a miss and
// refuses stores older than its modseq (design §3 "Modseqs"); its value is empty.
inline constexpr std::uint32_t kRecordTombstone = std::uint32_t{1} << 28;
// HasModseq: an 8-byte modification sequence follows the value (unaligned: memcpy).
// At the end rather than before the value (the anchor's prefix), so a record's key and
// value sit where they always did and only the record's length grows by 8.
inline constexpr std::uint32_t kRecordHasModseq = std::uint32_t{1} << 27;
inline constexpr std::uint64_t kModseqLen = 8;

inline std::uint64_t record_size(std::uint64_t key_len, std::uint64_t val_len) noexcept {
    return core::align_up(sizeof(RecordHeader) + key_len + val_len, 8);
}
// Whether a record has expired at `now` (exact ms; core::expiry_passed).
inline bool expired(const RecordHeader &h, std::uint64_t now) noexcept {
    return core::expiry_passed(h.expire_on_ms, now);
}

// The bytes a stored record takes, its modseq word included.
inline std::uint64_t stored_size(const RecordHeader &h) noexcept {
    return record_size(h.key_len,
                       std::uint64_t(h.val_len) + (h.flags & kRecordHasModseq ? kModseqLen : 0));
}

// ---- geometry ---------------------------------------------------------------------

struct Geometry {
    std::uint64_t page_size;
    std::uint64_t num_pages;
    std::uint64_t start_slots;
    std::uint64_t spare_frames;
    std::uint64_t default_expire_ms;
    std::uint64_t max_slots;  // a slot table never takes more than half a frame
    std::uint64_t frames;     // num_pages + spare_frames
    std::uint64_t control_off, pages_off, pool_off, map_off, frames_off, total;

    // Where records start in a frame with `slots` slots.
    static std::uint64_t data_start(std::uint64_t slots) noexcept {
        return core::align_up(sizeof(FrameHeader) + 4 * slots, 8);
    }
};

// The caller's sizes (0 = the default). cache_size and num_pages are alternatives.
struct Sizing {
    std::uint64_t cache_size = 0;
    std::uint64_t page_size = 0;
    std::uint64_t num_pages = 0;
    std::uint64_t start_slots = 0;
    std::uint64_t spare_frames = 0;
    std::uint64_t default_expire_ms = 0;
    bool commit_memory = false;  // create: populate the frames (SHMDS_CACHE_LAZY_MEMORY off)
};

// From the caller's sizes (defaults applied, cache_size rounded up to whole pages);
// 0 or a fail() code naming what is out of range.
int resolve_geometry(const Sizing &s, Geometry &out);
// From the stored geometry words (exact values, no defaults).
int layout_geometry(const std::uint64_t (&words)[core::kGeometryWords], Geometry &out);

std::uint64_t layout_hash() noexcept;

}  // namespace shmds::cache
