#include "cache/frame.hpp"

#include "core/error.hpp"

#include <cerrno>

namespace shmds::cache {

int Frame::damaged(std::uint64_t page, const char *what) const noexcept {
    return core::fail(SHMDS_ECORRUPT,
                      "cache page {} is damaged ({}); shmds_cache_verify re-initialises it",
                      page, what);
}

int Frame::check(std::uint64_t page) noexcept {
    const FrameHeader &h = header();
    if (h.magic.load(std::memory_order_relaxed) != kFrameMagic) return damaged(page, "bad magic");
    ns_ = h.num_slots.load(std::memory_order_relaxed);
    if (ns_ < 3 || ns_ > g_->max_slots) return damaged(page, "slot count out of range");
    ds_ = Geometry::data_start(ns_);
    fd_ = h.free_data.load(std::memory_order_relaxed);
    if (fd_ < ds_ || fd_ > g_->page_size || fd_ % 8 != 0)
        return damaged(page, "data offset out of range");
    used_ = h.used.load(std::memory_order_relaxed);
    live_ = h.live.load(std::memory_order_relaxed);
    if (used_ > ns_ || live_ > used_) return damaged(page, "slot counts out of range");
    return 0;
}

bool Frame::record(std::uint32_t off, RecordHeader *h) const noexcept {
    if (off < ds_ || off % 8 != 0 || std::uint64_t(off) + sizeof(RecordHeader) > fd_) return false;
    std::memcpy(h, p_ + off, sizeof *h);
    // Both lengths are u32, so the sum cannot overflow 64 bits.
    return std::uint64_t(off) + stored_size(*h) <= fd_;
}

int Frame::probe(std::uint64_t page, std::uint32_t slot_hash, Bytes key,
                 Probe &out) const noexcept {
    out = Probe{};
    const std::atomic<std::uint32_t> *s = slots();
    const std::uint32_t tag = slot_tag(slot_hash);
    std::uint64_t i = home_slot(slot_hash, ns_);
    for (std::uint64_t n = 0; n < ns_; ++n, i = i + 1 == ns_ ? 0 : i + 1) {
        const std::uint32_t w = s[i].load(std::memory_order_relaxed);
        if (w == kSlotEmpty) {
            out.empty = std::int64_t(i);
            return 0;
        }
        if (w == kSlotDeleted) {
            if (out.deleted < 0) out.deleted = std::int64_t(i);
            continue;
        }
        // Another key's record (unless the 15-bit tags collide): not loaded. A damaged
        // tag hides its record from probes; check_deep (verify) reports it.
        if (slot_word_tag(w) != tag) continue;
        const std::uint32_t off = slot_offset(w);
        RecordHeader h;
        if (!record(off, &h)) return damaged(page, "a slot points outside the data");
        if (h.slot_hash == slot_hash && h.key_len == key.len &&
            (key.len == 0 || std::memcmp(record_key(off), key.data, key.len) == 0)) {
            out.found = std::int64_t(i);
            out.off = off;
            out.rec = h;
            return 0;
        }
    }
    return 0;  // every slot is live or deleted: no empty slot ends the path
}

int Frame::check_deep(std::uint64_t page) noexcept {
    if (int r = check(page)) return r;
    const std::atomic<std::uint32_t> *s = slots();
    std::uint64_t used = 0, live = 0;
    for (std::uint64_t i = 0; i < ns_; ++i) {
        const std::uint32_t w = s[i].load(std::memory_order_relaxed);
        if (w == kSlotEmpty) continue;
        ++used;
        if (w == kSlotDeleted) continue;
        ++live;
        const std::uint32_t off = slot_offset(w);
        RecordHeader h;
        if (!record(off, &h)) return damaged(page, "a slot points outside the data");
        if (slot_word_tag(w) != slot_tag(h.slot_hash))
            return damaged(page, "a slot's hash tag disagrees with its record");
        Probe p;
        if (int r = probe(page, h.slot_hash, Bytes{record_key(off), h.key_len}, p)) return r;
        if (p.found != std::int64_t(i))
            return damaged(page, "a record's key does not probe to its slot");
    }
    if (used != used_ || live != live_) return damaged(page, "slot counts disagree with the slots");
    return 0;
}

void Frame::format(std::uint8_t *p, std::uint64_t slots) noexcept {
    std::memset(p + sizeof(FrameHeader), 0, 4 * slots);
    auto &h = *reinterpret_cast<FrameHeader *>(p);
    h.num_slots.store(slots, std::memory_order_relaxed);
    h.free_data.store(Geometry::data_start(slots), std::memory_order_relaxed);
    h.used.store(0, std::memory_order_relaxed);
    h.live.store(0, std::memory_order_relaxed);
    for (auto &r : h.reserved) r.store(0, std::memory_order_relaxed);
    h.magic.store(kFrameMagic, std::memory_order_relaxed);
}

}  // namespace shmds::cache
