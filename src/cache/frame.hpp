// One frame (a page's current storage) seen by the process that holds the page's lock
// (design §2). The frame lives in shared memory, so every number read from it is
// checked before it is used as an offset or a length: a damaged frame makes calls on
// its page fail with SHMDS_ECORRUPT and can never make this process touch memory
// outside the frame.
#pragma once

#include "cache/layout.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace shmds::cache {

struct Bytes {
    const void *data = nullptr;
    std::size_t len = 0;
};

class Frame {
public:
    Frame() = default;
    Frame(std::uint8_t *p, const Geometry *g) noexcept : p_(p), g_(g) {}

    std::uint8_t *bytes() const noexcept { return p_; }
    FrameHeader &header() const noexcept { return *reinterpret_cast<FrameHeader *>(p_); }
    std::atomic<std::uint32_t> *slots() const noexcept {
        return reinterpret_cast<std::atomic<std::uint32_t> *>(p_ + sizeof(FrameHeader));
    }

    // Check the header's invariants and take this process's copy of its numbers
    // (num_slots, data_start, free_data, used, live); every later check uses the copy.
    // 0, or SHMDS_ECORRUPT with a sentence naming `page`.
    int check(std::uint64_t page) noexcept;
    // check() plus every slot's record, every record's probe path and the counts (the
    // verify pass). 0 or SHMDS_ECORRUPT.
    int check_deep(std::uint64_t page) noexcept;

    std::uint64_t num_slots() const noexcept { return ns_; }
    std::uint64_t data_start() const noexcept { return ds_; }
    std::uint64_t free_data() const noexcept { return fd_; }
    std::uint64_t used() const noexcept { return used_; }
    std::uint64_t live() const noexcept { return live_; }
    std::uint64_t free_bytes() const noexcept { return g_->page_size - fd_; }
    // The largest record a page with this slot table can ever hold.
    std::uint64_t max_record() const noexcept { return g_->page_size - ds_; }

    // The record a slot word points at, validated: its header copied into *h. False
    // when the offset or lengths fall outside the data in use.
    bool record(std::uint32_t off, RecordHeader *h) const noexcept;
    const std::uint8_t *record_key(std::uint32_t off) const noexcept {
        return p_ + off + sizeof(RecordHeader);
    }
    const std::uint8_t *record_value(std::uint32_t off, const RecordHeader &h) const noexcept {
        return p_ + off + sizeof(RecordHeader) + h.key_len;
    }
    // The record's modseq (0 when it has none; stored modseqs are never 0).
    std::uint64_t record_modseq(std::uint32_t off, const RecordHeader &h) const noexcept {
        std::uint64_t m = 0;
        if (h.flags & kRecordHasModseq)
            std::memcpy(&m, record_value(off, h) + h.val_len, kModseqLen);
        return m;
    }
    void touch(std::uint32_t off, std::uint64_t now_ms) const noexcept {
        std::memcpy(p_ + off + offsetof(RecordHeader, last_access_ms), &now_ms, 8);
    }
    void set_flags(std::uint32_t off, std::uint32_t flags) const noexcept {
        std::memcpy(p_ + off + offsetof(RecordHeader, flags), &flags, 4);
    }

    // Where a key is, and where it would go (linear probing from home_slot(); a step
    // whose slot word's tag differs from the key's is skipped without loading its record).
    struct Probe {
        std::int64_t found = -1;     // slot of the key's record
        std::uint32_t off = 0;       // its record offset
        RecordHeader rec{};          // its header, validated (when found)
        std::int64_t deleted = -1;   // first deleted slot on the path
        std::int64_t empty = -1;     // the empty slot that ended the path
    };
    // 0, or SHMDS_ECORRUPT when a slot on the path points at a damaged record.
    int probe(std::uint64_t page, std::uint32_t slot_hash, Bytes key, Probe &out) const noexcept;

    // After this holder's own committed store of the header's counters: take the new
    // values as the copy (what check() would read back, without re-reading the frame).
    void adopt(std::uint64_t free_data, std::uint64_t used, std::uint64_t live) noexcept {
        fd_ = free_data;
        used_ = used;
        live_ = live;
    }

    // Lay out an empty frame with `slots` slots (a frame nobody else references).
    static void format(std::uint8_t *p, std::uint64_t slots) noexcept;

private:
    int damaged(std::uint64_t page, const char *what) const noexcept;

    std::uint8_t *p_ = nullptr;
    const Geometry *g_ = nullptr;
    std::uint64_t ns_ = 0, ds_ = 0, fd_ = 0, used_ = 0, live_ = 0;
};

}  // namespace shmds::cache
