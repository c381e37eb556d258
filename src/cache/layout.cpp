#include "cache/layout.hpp"

#include "core/error.hpp"

#include <cerrno>

namespace shmds::cache {

namespace {

// Every check of a complete geometry, then the offsets (create and open alike).
int finish(Geometry &g) {
    if (!core::is_pow2(g.page_size) || g.page_size < kMinPageSize || g.page_size > kMaxPageSize)
        return core::fail(-EINVAL,
                          "cache page_size {} is not a power of two from 4 KiB to 1 MiB",
                          g.page_size);
    if (g.num_pages == 0 || g.num_pages > kMaxPages)
        return core::fail(-EINVAL, "cache num_pages {} is not in 1..{}", g.num_pages, kMaxPages);
    g.max_slots = (g.page_size / 2 - sizeof(FrameHeader)) / 4;
    if (g.start_slots < 3 || g.start_slots > g.max_slots)
        return core::fail(-EINVAL, "cache start_slots {} is not in 3..{} for {}-byte pages",
                          g.start_slots, g.max_slots, g.page_size);
    if (g.spare_frames == 0 || g.spare_frames > kMaxSpareFrames)
        return core::fail(-EINVAL, "cache spare_frames {} is not in 1..{}", g.spare_frames,
                          kMaxSpareFrames);
    if (g.default_expire_ms > kMaxExpireMs)
        return core::fail(-EINVAL, "cache default expire time {} ms exceeds {} ms",
                          g.default_expire_ms, kMaxExpireMs);
    g.frames = g.num_pages + g.spare_frames;
    g.control_off = sizeof(core::SegmentHeader);
    g.pages_off = g.control_off + sizeof(CacheControl);
    g.pool_off = core::align_up(g.pages_off + g.num_pages * sizeof(PageControl), kCacheLine);
    g.map_off = core::align_up(g.pool_off + g.spare_frames * 8, kCacheLine);
    // Frames start on a 4 KiB boundary, so each lies in whole memory pages.
    g.frames_off = core::align_up(g.map_off + g.num_pages * 8, kMinPageSize);
    g.total = g.frames_off + g.frames * g.page_size;
    return 0;
}

}  // namespace

int resolve_geometry(const Sizing &s, Geometry &g) {
    g = Geometry{};
    g.page_size = s.page_size ? s.page_size : kDefaultPageSize;
    if (s.cache_size != 0 && s.num_pages != 0)
        return core::fail(-EINVAL,
                          "give the cache either cache_size ({}) or num_pages ({}), not both",
                          s.cache_size, s.num_pages);
    if (s.cache_size != 0) {
        if (s.cache_size > kMaxPages * kMaxPageSize)
            return core::fail(-EINVAL, "cache_size {} exceeds {} bytes", s.cache_size,
                              kMaxPages * kMaxPageSize);
        g.num_pages = (s.cache_size + g.page_size - 1) / g.page_size;
    } else {
        g.num_pages = s.num_pages ? s.num_pages : kDefaultPages;
    }
    g.start_slots = s.start_slots ? s.start_slots : kDefaultStartSlots;
    g.spare_frames = s.spare_frames ? s.spare_frames
                                    : (g.num_pages < kDefaultSpareFrames ? g.num_pages
                                                                          : kDefaultSpareFrames);
    g.default_expire_ms = s.default_expire_ms;
    return finish(g);
}

int layout_geometry(const std::uint64_t (&w)[core::kGeometryWords], Geometry &g) {
    g = Geometry{};
    g.page_size = w[kGeomPageSize];
    g.num_pages = w[kGeomPages];
    g.start_slots = w[kGeomStartSlots];
    g.spare_frames = w[kGeomSpares];
    g.default_expire_ms = w[kGeomDefaultExpire];
    return finish(g);
}

std::uint64_t layout_hash() noexcept {
    core::LayoutHash h;
    h.add({std::uint64_t(core::StructureType::cache), sizeof(CacheControl), sizeof(PageControl),
           offsetof(PageControl, journal_count), offsetof(PageControl, claim_slot),
           offsetof(PageControl, claim_frame), offsetof(PageControl, reads),
           offsetof(PageControl, reads_cleared), offsetof(PageControl, hits_cleared),
           offsetof(PageControl, journal), sizeof(core::UndoRecord), kJournalCap,
           sizeof(FrameHeader), offsetof(FrameHeader, free_data), offsetof(FrameHeader, live),
           sizeof(RecordHeader), offsetof(RecordHeader, slot_hash), kFrameMagic, kPoolFree,
           kPoolClaimed, sizeof(core::RobustMutex), offsetof(PageControl, fills),
           sizeof(FillEntry), std::uint64_t(kFillSlots), offsetof(PageControl, fill_wait),
           sizeof(core::WaitPoint), kRecordDirty, kRecordNotFound, kRecordTombstone,
           kRecordHasModseq, kModseqLen,
           // Slot words carry a hash tag; the home slot is a multiply-shift (design §2).
           std::uint64_t(kSlotOffsetBits), std::uint64_t{kSlotOffsetMask},
           std::uint64_t{2} /* the probe scheme's version */});
    return h.value();
}

}  // namespace shmds::cache
