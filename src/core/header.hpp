// The common header at offset 0 of every segment (DESIGN.md §3). Line 0 and 1 are
// written once at creation; line 2 holds the few fields that change.
#pragma once

#include "core/platform.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace shmds::core {

// "SHMDSEG" + format byte; stored last, with release ordering, as the commit point.
inline constexpr std::uint64_t kMagic = 0x01474553444d4853ull;
// Stored first while the creator initialises; a dead creator leaves it behind.
inline constexpr std::uint64_t kMagicInitializing = 0x0049494e49444d53ull;
// 2: WaitPoint wake_state, mutex word; 3: the header's shape_check word
inline constexpr std::uint32_t kLayoutVersion = 3;
inline constexpr int kGeometryWords = 8;

// Every structure type the library knows. Values are stored in segments: never reuse.
enum class StructureType : std::uint32_t {
    queue = 1,
    pubsub = 2,
    reqrep = 3,
    mutex = 10,
    semaphore = 11,
    barrier = 12,
    rwlock = 13,
    condvar = 14,
    once = 15,
    hashmap = 20,
    cache = 21,
    stack = 30,
    deque = 31,
    ringbuffer = 32,
    log = 33,
    bitset = 41,
    buffer = 42,
    heap = 50,
    graph = 51,
    pool = 40,
};

const char *structure_name(std::uint32_t type) noexcept;

struct SegmentHeader {
    // line 0: identity
    std::atomic<std::uint64_t> magic;
    std::uint32_t layout_version;
    std::uint32_t header_size;
    std::uint32_t type;
    std::uint32_t variant;
    std::uint32_t elem_size;
    std::uint32_t elem_align;
    std::uint64_t layout_hash;
    std::uint64_t total_size;
    std::uint64_t creator;             // OwnerToken of the creating process
    std::uint64_t created_realtime_ns;
    // line 1: geometry, structure-specific, recomputed and checked on every open
    std::uint64_t geometry[kGeometryWords];
    // line 2: the mutable part
    alignas(kCacheLine) std::atomic<std::uint64_t> recoveries;
    // header_shape_check() of lines 0 and 1 at creation. A damaged header can still be
    // self-consistent (a queue's capacity 8 edited to 4 gives the same file size);
    // this word is what tells it from the header its creator wrote.
    std::uint64_t shape_check;
    std::uint64_t reserved2[6];
    std::uint64_t reserved3[8];
};
static_assert(sizeof(SegmentHeader) == 256);
static_assert(offsetof(SegmentHeader, magic) == 0);
static_assert(offsetof(SegmentHeader, layout_hash) == 32);
static_assert(offsetof(SegmentHeader, geometry) == 64);
static_assert(offsetof(SegmentHeader, recoveries) == 128);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

// A hash of every header field the layout depends on (type, variant, element shape,
// layout hash, size and geometry words); not of who created it or when.
std::uint64_t header_shape_check(const SegmentHeader &h) noexcept;

// What a structure's configuration determines about its segment: every header field
// besides identity and bookkeeping. A structure computes it from the caller's config to
// create a segment, and from the stored variant and geometry words to open one; the core
// writes it (create) or compares it with the header field by field (open).
struct SegmentShape {
    std::uint32_t variant = 0;
    std::uint32_t elem_size = 0;
    std::uint32_t elem_align = 0;
    std::uint64_t geometry[kGeometryWords] = {};
    std::uint64_t total_size = 0;
    std::uint64_t layout_hash = 0;

    // All fields at once; `geometry` fills the first words, the rest stay 0.
    static SegmentShape of(std::uint32_t variant, std::uint32_t elem_size,
                           std::uint32_t elem_align, std::uint64_t total_size,
                           std::uint64_t layout_hash,
                           std::initializer_list<std::uint64_t> geometry) noexcept {
        SegmentShape s;
        s.variant = variant;
        s.elem_size = elem_size;
        s.elem_align = elem_align;
        s.total_size = total_size;
        s.layout_hash = layout_hash;
        int i = 0;
        for (std::uint64_t g : geometry)
            if (i < kGeometryWords) s.geometry[i++] = g;
        return s;
    }
};

// FNV-1a over a list of numbers: sizes and offsets of the shared structs, so two builds
// whose layouts differ in any way refuse each other's segments (LMDB's lock_desc idea).
class LayoutHash {
public:
    LayoutHash() noexcept;
    LayoutHash &add(std::uint64_t v) noexcept;
    LayoutHash &add(std::initializer_list<std::uint64_t> vs) noexcept {
        for (auto v : vs) add(v);
        return *this;
    }
    std::uint64_t value() const noexcept { return h_; }

private:
    std::uint64_t h_;
};

}  // namespace shmds::core
