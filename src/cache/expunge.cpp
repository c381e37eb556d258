// Expunge without a torn page (design §4): the compacted page is built in a spare frame
// that nothing references, then one journaled transaction flips the page map to it and
// hands the old frame to the spare pool. A writer killed before the commit leaves the
// old page untouched (the next holder undoes the flip and returns the spare); after the
// commit the new page stands (the next holder returns the old frame).
#include "cache/cache.hpp"

#include "cache/held.hpp"
#include "core/error.hpp"
#include "core/failpoint.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <new>
#include <vector>

namespace shmds::cache {

namespace {
// The anchor's hysteresis: an expunge keeps at most 60% of the data area and of the
// slots, so the next few sets append without another one.
constexpr std::uint64_t kKeepTenths = 6;
// A table more than 30% full after dropping the expired grows to 2n+1 (the anchor's).
constexpr std::uint64_t kGrowTenths = 3;
// How long a writer waits for a spare frame before giving up with -EAGAIN.
constexpr std::int64_t kSpareWaitNs = 2'000'000'000;

int oom() noexcept { return core::fail_static(-ENOMEM, "out of memory for a cache expunge"); }

bool push(std::vector<std::uint32_t> &v, std::uint32_t off) noexcept {
    try {
        v.push_back(off);
        return true;
    } catch (const std::bad_alloc &) {
        return false;
    }
}

struct Kept {
    std::uint32_t off;
    std::uint32_t size;
    std::uint64_t last_access;
};
}  // namespace

// What a pool slot holds after handing back frame f: f, or (when a damaged page map
// word lost the page's frame and verify re-initialised the page from a spare) nothing:
// 0 is neither free nor claimed, so the pool is one spare smaller for good.
std::uint64_t Cache::pool_word_for(std::uint64_t f) const noexcept {
    return f < geom_.frames ? kPoolFree | f : 0;
}

void Cache::repair_page(std::uint64_t page) noexcept {
    journal(page).repair();
    PageControl &pc = page_control(page);
    const std::uint64_t s = pc.claim_slot.load(std::memory_order_acquire);
    if (s == 0) return;
    // The pool slot is still ours only if it says so; hand back what claim_frame names
    // (the spare before the flip committed, the page's old frame after).
    const std::uint64_t f = pc.claim_frame.load(std::memory_order_relaxed);
    if (s <= geom_.spare_frames) {
        std::uint64_t mine = kPoolClaimed | page;
        pool(s - 1).compare_exchange_strong(mine, pool_word_for(f), std::memory_order_acq_rel);
    }
    pc.claim_slot.store(0, std::memory_order_release);
}

int Cache::claim_spare(Held &h, std::uint64_t &slot, std::uint64_t &frame) noexcept {
    PageControl &pc = h.control();
    const core::Deadline give_up = core::Deadline::from_timeout(kSpareWaitNs);
    for (;;) {
        for (std::uint64_t i = 0; i < geom_.spare_frames; ++i) {
            std::uint64_t w = pool(i).load(std::memory_order_acquire);
            if (!(w & kPoolFree) || (w & kPoolIndexMask) >= geom_.frames) continue;
            // A free spare naming this page's own frame (a damaged pool word) would be
            // built over the records being copied out of it: never claim it (found by
            // the fuzz replay under ASan as an overlapping memcpy).
            if ((w & kPoolIndexMask) == h.frame_index()) continue;
            // Record the claim in the page's control before making it, so a holder
            // killed right after the CAS leaves a claim its page's repair finds.
            pc.claim_frame.store(w & kPoolIndexMask, std::memory_order_relaxed);
            pc.claim_slot.store(i + 1, std::memory_order_release);
            std::atomic_signal_fence(std::memory_order_seq_cst);
            if (pool(i).compare_exchange_strong(w, kPoolClaimed | h.page(),
                                                std::memory_order_acq_rel)) {
                slot = i;
                frame = w & kPoolIndexMask;
                SHMDS_FAILPOINT("cache.expunge.claimed");
                return 0;
            }
            pc.claim_slot.store(0, std::memory_order_release);
        }
        // Every spare is being used by an expunge on another page: a dead expunger's
        // frame comes back when its page is locked, so try those pages once.
        reclaim_dead_claims(h.page());
        if (give_up.expired())
            return core::fail(-EAGAIN,
                              "no spare frame came free within 2 s (all {} are claimed by "
                              "expunges on other pages)",
                              geom_.spare_frames);
        const timespec pause{0, 100'000};
        nanosleep(&pause, nullptr);
    }
}

void Cache::reclaim_dead_claims(std::uint64_t except_page) noexcept {
    for (std::uint64_t i = 0; i < geom_.spare_frames; ++i) {
        const std::uint64_t w = pool(i).load(std::memory_order_acquire);
        if (!(w & kPoolClaimed)) continue;
        const std::uint64_t q = w & kPoolIndexMask;
        if (q >= geom_.num_pages || q == except_page) continue;
        // NOWAIT: never waits while holding our own page. Taking over a dead holder's
        // lock repairs its page, which hands its spare back.
        Held probe(*this, q, false, core::Deadline::from_timeout(0));
    }
}

int Cache::rebuild(Held &h, Rebuild mode, std::uint64_t need, std::uint64_t now,
                   std::uint64_t *dropped, bool write_back) noexcept {
    *dropped = 0;
    Frame &old = h.frame();  // unusable (and unread) for reinit of a page without a frame
    std::vector<Kept> kept;
    std::vector<std::uint32_t> leaving;  // write_back: the records this rebuild drops
    write_back = write_back && mode != Rebuild::reinit && cb_.write_cb;
    std::uint64_t slots = mode == Rebuild::reinit ? geom_.start_slots : old.num_slots();
    if (mode == Rebuild::expunge || mode == Rebuild::purge) {
        // Derive everything from the slots (never trust the header's counts: the
        // anchor's #26), checking every offset and length.
        try {
            kept.reserve(old.live());
        } catch (const std::bad_alloc &) {
            return core::fail_static(-ENOMEM, "out of memory for a cache expunge");
        }
        const std::atomic<std::uint32_t> *s = old.slots();
        for (std::uint64_t i = 0; i < old.num_slots(); ++i) {
            const std::uint32_t w = s[i].load(std::memory_order_relaxed);
            if (w == kSlotEmpty || w == kSlotDeleted) continue;
            const std::uint32_t off = slot_offset(w);
            RecordHeader rh;
            if (!old.record(off, &rh))
                return core::fail(SHMDS_ECORRUPT,
                                  "cache page {} is damaged (a slot points outside the data); "
                                  "shmds_cache_verify re-initialises it",
                                  h.page());
            if (expired(rh, now)) {
                ++*dropped;  // expired records go first, in every mode
                if (write_back && !push(leaving, off)) return oom();
                continue;
            }
            try {
                kept.push_back({off, std::uint32_t(stored_size(rh)),
                                rh.last_access_ms});
            } catch (const std::bad_alloc &) {
                return core::fail_static(-ENOMEM, "out of memory for a cache expunge");
            }
        }
        if (mode == Rebuild::purge && *dropped == 0) return 0;  // nothing to reclaim
    }
    if (mode == Rebuild::expunge) {
        if ((kept.size() + 1) * 10 > kGrowTenths * slots) {
            const std::uint64_t grown = std::min(2 * slots + 1, geom_.max_slots);
            if (Geometry::data_start(grown) + need <= geom_.page_size) slots = grown;
        }
        const std::uint64_t area = geom_.page_size - Geometry::data_start(slots);
        const std::uint64_t bytes_cap = std::min(area * kKeepTenths / 10, area - need);
        const std::uint64_t count_cap = slots * kKeepTenths / 10;
        // Least recently accessed last (ties: the later write is the newer).
        std::sort(kept.begin(), kept.end(), [](const Kept &a, const Kept &b) {
            return a.last_access != b.last_access ? a.last_access > b.last_access : a.off > b.off;
        });
        std::size_t n = 0;
        std::uint64_t bytes = 0;
        while (n < kept.size() && n + 1 < count_cap && bytes + kept[n].size <= bytes_cap)
            bytes += kept[n++].size;
        *dropped += kept.size() - n;
        for (std::size_t i = n; write_back && i < kept.size(); ++i)
            if (!push(leaving, kept[i].off)) return oom();
        kept.resize(n);
    }
    if (mode == Rebuild::clear && write_back) {
        for (std::uint64_t i = 0; i < old.num_slots(); ++i) {
            const std::uint32_t w = old.slots()[i].load(std::memory_order_relaxed);
            if (w != kSlotEmpty && w != kSlotDeleted && !push(leaving, slot_offset(w)))
                return oom();
        }
    }
    // Write-backs before the page changes (and before a spare is claimed, so a write_cb
    // that calls the cache cannot starve other pages of spares): a failure leaves the
    // page as it was, the records already written marked clean.
    if (!leaving.empty()) {
        if (int r = write_back_records(h, leaving.data(), leaving.size())) return r;
    }

    std::uint64_t pool_slot = 0, spare = 0;
    if (int r = claim_spare(h, pool_slot, spare)) return r;
    // Build the new page where nobody looks: plain stores, no journal.
    std::uint8_t *nb = frame_bytes(spare);
    Frame::format(nb, slots);
    auto *ns = reinterpret_cast<std::atomic<std::uint32_t> *>(nb + sizeof(FrameHeader));
    std::uint64_t at = Geometry::data_start(slots);
    for (const Kept &k : kept) {
        if (at + k.size > geom_.page_size || kept.size() >= slots) {
            // Only slots pointing at one record twice get here: damage.
            pool(pool_slot).store(kPoolFree | spare, std::memory_order_release);
            h.control().claim_slot.store(0, std::memory_order_release);
            return core::fail(SHMDS_ECORRUPT,
                              "cache page {} is damaged (its records overlap); "
                              "shmds_cache_verify re-initialises it",
                              h.page());
        }
        std::memcpy(nb + at, old.bytes() + k.off, k.size);
        RecordHeader rh;
        std::memcpy(&rh, nb + at, sizeof rh);
        std::uint64_t i = home_slot(rh.slot_hash, slots);
        while (ns[i].load(std::memory_order_relaxed) != kSlotEmpty) i = i + 1 == slots ? 0 : i + 1;
        ns[i].store(slot_word(at, rh.slot_hash), std::memory_order_relaxed);
        at += k.size;
    }
    auto &nh = *reinterpret_cast<FrameHeader *>(nb);
    nh.free_data.store(at, std::memory_order_relaxed);
    nh.used.store(kept.size(), std::memory_order_relaxed);
    nh.live.store(kept.size(), std::memory_order_relaxed);
    SHMDS_FAILPOINT("cache.expunge.built");

    // The flip: one transaction, then the old frame goes to the pool.
    const std::uint64_t old_frame = h.frame_index();
    core::UndoJournal &j = h.journal();
    j.set(&page_map(h.page()), spare);
    SHMDS_FAILPOINT("cache.expunge.flipping");
    j.set(&h.control().claim_frame, old_frame);
    j.commit();
    SHMDS_FAILPOINT("cache.expunge.committed");
    pool(pool_slot).store(pool_word_for(old_frame), std::memory_order_release);
    h.control().claim_slot.store(0, std::memory_order_release);
    return h.rebind(true);
}

}  // namespace shmds::cache
