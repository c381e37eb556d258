// The whole-cache verbs: page by page, each page under its own lock (not a snapshot,
// as in the anchor). A damaged page does not stop the others: the call finishes every
// page it can and returns SHMDS_ECORRUPT at the end, naming the (last) damaged page.
#include "cache/cache.hpp"

#include "cache/held.hpp"
#include "core/error.hpp"

#include <cerrno>
#include <cstring>
#include <new>
#include <vector>

namespace shmds::cache {

int Cache::clear() noexcept {
    if (int r = reentry("clear", kAllPages)) return r;
    int result = 0;
    const std::uint64_t now = clock_.now_ms();
    for (std::uint64_t p = 0; p < geom_.num_pages; ++p) {
        Held h(*this, p, false);
        if (!h.owns()) return h.status();
        // A page whose map word or header is damaged is re-initialised: clear keeps
        // nothing anyway.
        const bool sound = h.status() == 0 && h.frame().check(p) == 0;
        if (sound && h.frame().used() == 0) continue;
        std::uint64_t dropped = 0;
        if (int r = rebuild(h, sound ? Rebuild::clear : Rebuild::reinit, 0, now, &dropped))
            result = r;
    }
    return result;
}

int Cache::purge(std::uint64_t *removed) noexcept {
    if (int r = reentry("purge", kAllPages)) return r;
    const std::uint64_t now = clock_.now_ms();
    return each_sound_page([&](Held &h, int &result) {
        std::uint64_t dropped = 0;
        if (int r = rebuild(h, Rebuild::purge, 0, now, &dropped)) result = r;
        if (removed) *removed += dropped;
        return 0;
    });
}

int Cache::get_keys(int detail, EntryFn fn, void *ctx) noexcept {
    if (detail < 0 || detail > 2)
        return core::fail(-EINVAL, "get_keys detail {} is not 0, 1 or 2", detail);
    if (int r = reentry("get_keys", kAllPages)) return r;
    int result = 0;
    struct Copied {
        std::size_t at;  // into buf: key bytes, then (detail 2) value bytes
        std::uint32_t key_len, val_len;
        std::uint64_t last_access, expire_on;
        std::uint32_t flags;
        std::uint64_t modseq;
    };
    std::vector<Copied> entries;
    std::vector<std::uint8_t> buf;
    for (std::uint64_t p = 0; p < geom_.num_pages; ++p) {
        entries.clear();
        buf.clear();
        {
            // Copy the page's entries out, so the callback runs without the lock (it
            // may call the cache).
            Held h(*this, p);
            if (!h.owns()) return h.status();
            if (h.status() != 0) {
                result = h.status();
                continue;
            }
            const std::uint64_t now = clock_.now_ms();
            Frame &f = h.frame();
            try {
                for (std::uint64_t i = 0; i < f.num_slots(); ++i) {
                    const std::uint32_t w = f.slots()[i].load(std::memory_order_relaxed);
                    if (w == kSlotEmpty || w == kSlotDeleted) continue;
                    const std::uint32_t off = slot_offset(w);
                    RecordHeader rh;
                    if (!f.record(off, &rh)) {
                        result = core::fail(SHMDS_ECORRUPT,
                                            "cache page {} is damaged (a slot points outside "
                                            "the data); shmds_cache_verify re-initialises it",
                                            p);
                        continue;
                    }
                    if (expired(rh, now)) continue;
                    if (rh.flags & kRecordTombstone) continue;  // a removed key (the anchor's)
                    const std::uint32_t vlen = detail == 2 ? rh.val_len : 0;
                    entries.push_back({buf.size(), rh.key_len, vlen, rh.last_access_ms,
                                       rh.expire_on_ms, rh.flags, f.record_modseq(off, rh)});
                    const std::uint8_t *k = f.record_key(off);
                    buf.insert(buf.end(), k, k + rh.key_len + vlen);  // value follows key
                }
            } catch (const std::bad_alloc &) {
                return core::fail_static(-ENOMEM, "out of memory for get_keys");
            }
        }
        for (const Copied &c : entries) {
            Entry e{};
            e.key = Bytes{buf.data() + c.at, c.key_len};
            if (detail == 2) e.value = Bytes{buf.data() + c.at + c.key_len, c.val_len};
            if (detail >= 1) {
                e.last_access_ms = c.last_access;
                e.expire_on_ms = c.expire_on;
                e.flags = c.flags;
                e.modseq = c.modseq;
            }
            if (int r = fn(e, ctx)) return r;
        }
    }
    return result;
}

namespace {
// A page counter's count since the last clear (clear: and clear it). The counter is
// only ever raised, by the page's lock holder, so a clear records the value it saw
// instead of resetting it: a get counted meanwhile is neither lost nor counted twice.
// Concurrent clears keep the highest value seen; a base above the counter (damage)
// reads as 0.
std::uint64_t counted_since_clear(const std::atomic<std::uint64_t> &counter,
                                  std::atomic<std::uint64_t> &cleared, bool clear) noexcept {
    const std::uint64_t now = counter.load(std::memory_order_relaxed);
    std::uint64_t base = cleared.load(std::memory_order_relaxed);
    const std::uint64_t since = now >= base ? now - base : 0;
    while (clear && base < now &&
           !cleared.compare_exchange_weak(base, now, std::memory_order_relaxed)) {
    }
    return since;
}
}  // namespace

int Cache::stats(Stats &s, bool clear) noexcept {
    s = Stats{};
    s.num_pages = geom_.num_pages;
    s.page_size = geom_.page_size;
    s.start_slots = geom_.start_slots;
    s.spare_frames = geom_.spare_frames;
    s.default_expire_ms = geom_.default_expire_ms;
    s.segment_bytes = geom_.total;
    s.recoveries = segment_.recoveries();
    for (std::uint64_t p = 0; p < geom_.num_pages; ++p) {
        PageControl &pc = page_control(p);
        // Counters are read without the page lock: each is exact, the sum a moment's.
        s.reads += counted_since_clear(pc.reads, pc.reads_cleared, clear);
        s.hits += counted_since_clear(pc.hits, pc.hits_cleared, clear);
        const std::uint64_t f = page_map(p).load(std::memory_order_relaxed);
        if (f < geom_.frames) {
            const auto &fh = *reinterpret_cast<const FrameHeader *>(frame_bytes(f));
            const std::uint64_t live = fh.live.load(std::memory_order_relaxed);
            if (live <= geom_.max_slots) s.items += live;
        }
    }
    return 0;
}

int Cache::verify(std::uint64_t *repaired) noexcept {
    if (int r = reentry("verify", kAllPages)) return r;
    const std::uint64_t now = clock_.now_ms();
    for (std::uint64_t p = 0; p < geom_.num_pages; ++p) {
        Held h(*this, p, false);
        if (!h.owns()) return h.status();
        // A damaged map word (no frame at all) or a frame that fails the deep check.
        const bool bad = h.status() != 0 || h.frame().check_deep(p) != 0;
        if (!bad) continue;
        std::uint64_t dropped = 0;
        if (int r = rebuild(h, Rebuild::reinit, 0, now, &dropped)) return r;
        segment_.header().recoveries.fetch_add(1, std::memory_order_relaxed);
        if (repaired) ++*repaired;
    }
    return 0;
}

}  // namespace shmds::cache
