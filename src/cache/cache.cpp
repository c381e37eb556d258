#include "cache/cache.hpp"

#include "cache/held.hpp"
#include "core/error.hpp"
#include "core/failpoint.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <optional>

namespace shmds::cache {

namespace {
core::SegmentShape shape_of(const Geometry &g) {
    static_assert(kGeomPageSize == 0 && kGeomPages == 1 && kGeomStartSlots == 2 &&
                  kGeomSpares == 3 && kGeomDefaultExpire == 4);
    return core::SegmentShape::of(Cache::kVariant, 1, 8, g.total, layout_hash(),
                                  {g.page_size, g.num_pages, g.start_slots, g.spare_frames,
                                   g.default_expire_ms});
}

// How much of a new record set_in prefetches: a larger value's copy streams anyway.
constexpr std::uint64_t kPrefetchSpan = 1024;

}  // namespace

// ---- lifecycle ----------------------------------------------------------------------

int Cache::create(const shmds_options_t *opts, const Sizing &cfg, std::unique_ptr<Cache> &out) {
    return core::EngineFactory::make<Cache>(true, opts, "cache", out,
                                            [&](Cache &c) { c.requested_ = cfg; });
}

int Cache::open(const shmds_options_t *opts, std::unique_ptr<Cache> &out) {
    return core::EngineFactory::make<Cache>(false, opts, "cache", out, [](Cache &) {});
}

int Cache::describe(core::SegmentShape &s) {
    if (int r = resolve_geometry(requested_, geom_)) return r;
    s = shape_of(geom_);
    return 0;
}

// An existing cache attaches with its stored geometry, whatever a creator asked for
// (the anchor deletes the file instead); only SHMDS_EXCL makes that an error.
int Cache::reshape(std::uint32_t variant, const std::uint64_t (&words)[core::kGeometryWords],
                   core::SegmentShape &s) {
    if (variant != kVariant) return core::fail(-EINVAL, "unknown cache variant {}", variant);
    if (int r = layout_geometry(words, geom_)) return r;
    s = shape_of(geom_);
    return 0;
}

void Cache::initialize(std::uint8_t *base) noexcept {
    auto *cc = reinterpret_cast<CacheControl *>(base + geom_.control_off);
    core::draw_hash_seed(cc->seed);
    base_ = base;
    // Page p starts in frame p; the spare frames fill the pool.
    for (std::uint64_t p = 0; p < geom_.num_pages; ++p) {
        core::robust_mutex_init(page_control(p).lock);
        core::waitpoint_init(page_control(p).fill_wait);
        for (FillEntry &e : page_control(p).fills) {
            e.key_hash.store(0, std::memory_order_relaxed);
            e.owner.store(core::kNoOwner, std::memory_order_relaxed);
        }
        page_map(p).store(p, std::memory_order_relaxed);
        Frame::format(frame_bytes(p), geom_.start_slots);
    }
    for (std::uint64_t i = 0; i < geom_.spare_frames; ++i)
        pool(i).store(kPoolFree | (geom_.num_pages + i), std::memory_order_relaxed);
    if (requested_.commit_memory) commit_frames();
}

// Fault every frame in now, as the anchor's zero-filled file is: a page appends its
// records, so until each frame has been written once a set keeps reaching fresh memory
// and the kernel zeroes it under the page lock. Best effort: a kernel without
// MADV_POPULATE_WRITE (before 5.14), or a backing it cannot populate, leaves the
// memory to come on demand, which is only slower.
void Cache::commit_frames() noexcept {
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14 (uapi asm-generic/mman-common.h)
#endif
    const std::uint64_t os_page = std::uint64_t(::sysconf(_SC_PAGESIZE));
    const std::uint64_t start = geom_.frames_off / os_page * os_page;
    const std::uint64_t end = geom_.frames_off + geom_.frames * geom_.page_size;
    (void)::madvise(base_ + start, end - start, MADV_POPULATE_WRITE);
}

void Cache::bind(std::uint8_t *base) noexcept {
    base_ = base;
    const auto *cc = reinterpret_cast<const CacheControl *>(base + geom_.control_off);
    seed_ = core::HashSeed{cc->seed[0], cc->seed[1]};
    std::uint64_t n = 1;
    while (n < geom_.num_pages && n < kMaxFrameHints) n <<= 1;
    hints_.reset(new (std::nothrow) std::atomic<std::uint64_t>[n]);
    if (hints_) {
        // Every entry starts out of range, so nothing is prefetched from it.
        for (std::uint64_t i = 0; i < n; ++i)
            hints_[i].store(~std::uint64_t{0}, std::memory_order_relaxed);
        hint_mask_ = n - 1;
    }
}

std::uint64_t Cache::expire_on(Expiry e, std::uint64_t now) const noexcept {
    switch (e.kind) {
    case Expiry::never: return 0;
    case Expiry::now: return now ? now : 1;  // 0 would mean never
    case Expiry::absolute: return e.ms;
    case Expiry::relative: return e.ms ? now + e.ms : 0;
    case Expiry::by_default: break;
    }
    return geom_.default_expire_ms ? now + geom_.default_expire_ms : 0;
}

// ---- under a held page ----------------------------------------------------------------

int Cache::get_in(Held &h, std::uint32_t slot_hash, Bytes key, Out out, core::CallTime now,
                  std::uint64_t *expire, bool take, bool *cached_miss, bool count) noexcept {
    Frame &f = h.frame();
    Frame::Probe p;
    if (int r = f.probe(h.page(), slot_hash, key, p)) return r;
    PageControl &pc = h.control();
    if (count) core::add_locked(pc.reads, 1);
    const RecordHeader &rh = p.rec;
    if (cached_miss) *cached_miss = false;
    if (p.found < 0 || clock_.passed(rh.expire_on_ms, now))
        return core::fail_static(-ENOENT, "no such key in the cache");
    if (rh.flags & kRecordNotFound) {  // a cached "read_cb found nothing"
        if (cached_miss) *cached_miss = true;
        if (take) remove_slot(h, std::uint64_t(p.found));
        else f.touch(p.off, now.ms);
        return core::fail_static(-ENOENT, "no such key (a cached not-found)");
    }
    if (rh.flags & kRecordTombstone)  // stays (even for take): it guards against stale stores
        return core::fail_static(-ENOENT, "no such key (a tombstone)");
    if (count) core::add_locked(pc.hits, 1);
    if (expire) *expire = rh.expire_on_ms;
    if (out.modseq) *out.modseq = f.record_modseq(p.off, rh);
    if (out.len) *out.len = rh.val_len;
    if (out.buf || out.len) {
        if (out.cap < rh.val_len)
            return core::fail(-ENOBUFS, "the value is {} bytes; the buffer holds {}", rh.val_len,
                              out.cap);
        if (rh.val_len) std::memcpy(out.buf, f.record_value(p.off, rh), rh.val_len);
    }
    if (take) return remove_slot(h, std::uint64_t(p.found));
    f.touch(p.off, now.ms);  // LRU by access time, in ms (the anchor's is 1 s)
    return 0;
}

int Cache::remove_slot(Held &h, std::uint64_t slot) noexcept {
    Frame &f = h.frame();
    core::UndoJournal &j = h.journal();
    j.set_u32(&f.slots()[slot], kSlotDeleted);
    SHMDS_FAILPOINT("cache.remove.journaled");
    j.set(&f.header().live, f.live() - 1);
    j.commit();
    f.adopt(f.free_data(), f.used(), f.live() - 1);  // the copied counts follow the frame
    return 0;
}

// The anchor's 1.63 rules, against an unexpired record that has a modseq (any other
// record, and a missing one, admit every store). Equal modseqs store: a value is
// refused only by a strictly newer modseq (the anchor's `modseq < old_modseq`), and a
// tombstone is kept (success, no store) when what is there is at least as new.
int Cache::admit(const Frame &f, const Frame::Probe &p, std::uint32_t flags,
                 std::uint64_t modseq, std::uint64_t now) const noexcept {
    const RecordHeader &rh = p.rec;
    if (p.found < 0 || expired(rh, now) || !(rh.flags & kRecordHasModseq)) return 0;
    const std::uint64_t old = f.record_modseq(p.off, rh);
    if (flags & kRecordTombstone) return modseq <= old ? 1 : 0;  // never lower a modseq
    if (rh.flags & kRecordTombstone) {
        if (modseq == 0)
            return core::fail(-ESTALE, "the key was removed at modseq {} (a tombstone refuses "
                              "a store without a modseq until it expires)", old);
    }
    if (modseq != 0 && modseq < old)
        return core::fail(-ESTALE, "the cache holds modseq {}; a store at {} is older", old,
                          modseq);
    return 0;
}

int Cache::admit_key(Held &h, std::uint32_t slot_hash, Bytes key, std::uint32_t flags,
                     std::uint64_t modseq, std::uint64_t now) noexcept {
    Frame::Probe p;
    if (int r = h.frame().probe(h.page(), slot_hash, key, p)) return r;
    return admit(h.frame(), p, flags, modseq, now);
}

int Cache::set_in(Held &h, std::uint32_t slot_hash, Bytes key, Bytes value,
                  std::uint64_t expire, std::uint64_t now, std::uint32_t flags,
                  std::uint64_t modseq) noexcept {
    if (modseq != 0) flags |= kRecordHasModseq;
    // The modseq word counts from the first size check on (the anchor checks len + 0
    // and writes len + 8, so near a full page its modseq store fails needlessly).
    const std::uint64_t ms_len = modseq != 0 ? kModseqLen : 0;
    const std::uint64_t need = record_size(key.len, value.len + ms_len);
    // A record that cannot fit even an empty page is refused before anything changes,
    // so the old value stays (the anchor's 1.61 fix).
    if (key.len > UINT32_MAX || value.len > UINT32_MAX || need > h.frame().max_record())
        return core::fail(-E2BIG,
                          "a {}-byte key with a {}-byte value needs {} bytes; a page of this "
                          "cache holds at most {}",
                          key.len, value.len, need, h.frame().max_record());
    // The record goes to lines no one touched lately: start their misses now, for
    // writing, so they overlap the probe's instead of waiting in the unlock (a 16-byte
    // key with a 32-byte value: 80 bytes, 2 or 3 lines).
    if (h.frame().free_bytes() >= need)
        core::prefetch_lines_for_write(h.frame().bytes() + h.frame().free_data(),
                                       need < kPrefetchSpan ? need : kPrefetchSpan);
    Frame::Probe p;
    for (int attempt = 0;; ++attempt) {
        Frame &f = h.frame();
        if (int r = f.probe(h.page(), slot_hash, key, p)) return r;
        if (attempt == 0) {  // before an expunge can drop what the rules compare with
            const int a = admit(f, p, flags, modseq, now);
            if (a < 0) return a;
            if (a == 1) return 0;  // a stale tombstone: the cache is already as new
        }
        const std::uint64_t empties = f.num_slots() - f.used();
        const bool slot_ok = p.found >= 0 || p.deleted >= 0 ||
                             (p.empty >= 0 && empties >= 1 &&
                              (empties - 1) * 10 >= 3 * f.num_slots());
        if (slot_ok && f.free_bytes() >= need) break;
        if (attempt == 1)
            return core::fail(-ENOSPC, "cache page {} has no room for {} bytes after expunge",
                              h.page(), need);
        std::uint64_t dropped = 0;
        if (int r = rebuild(h, Rebuild::expunge, need, now, &dropped, write_back())) return r;
    }
    Frame &f = h.frame();
    // The record goes where nothing references yet: no journal needed for its bytes.
    const std::uint64_t off = f.free_data();
    const RecordHeader rh{now, expire, slot_hash, flags, std::uint32_t(key.len),
                          std::uint32_t(value.len)};
    std::uint8_t *at = f.bytes() + off;
    std::memcpy(at, &rh, sizeof rh);
    if (key.len) std::memcpy(at + sizeof rh, key.data, key.len);
    if (value.len) std::memcpy(at + sizeof rh + key.len, value.data, value.len);
    if (ms_len) std::memcpy(at + sizeof rh + key.len + value.len, &modseq, kModseqLen);
    SHMDS_FAILPOINT("cache.set.appended");

    core::UndoJournal &j = h.journal();
    FrameHeader &fh = f.header();
    std::uint64_t slot;
    std::uint64_t used = f.used(), live = f.live();
    if (p.found >= 0) {
        slot = std::uint64_t(p.found);  // the old record becomes garbage for the next expunge
    } else if (p.deleted >= 0) {
        slot = std::uint64_t(p.deleted);  // deleted-slot reuse
        ++live;
    } else {
        slot = std::uint64_t(p.empty);
        ++used;
        ++live;
    }
    j.set_u32(&f.slots()[slot], slot_word(off, slot_hash));
    SHMDS_FAILPOINT("cache.set.journaled");
    j.set(&fh.free_data, off + need);
    if (used != f.used()) j.set(&fh.used, used);
    if (live != f.live()) j.set(&fh.live, live);
    j.commit();
    SHMDS_FAILPOINT("cache.set.committed");
    f.adopt(off + need, used, live);  // what check() would read back now
    return 0;
}

// ---- verbs ----------------------------------------------------------------------------
// Every verb first refuses a call from inside one of this cache's callbacks that could
// deadlock on a page lock its caller holds (callbacks.cpp, design §6).

int Cache::get(Bytes key, Out out, std::uint64_t *expire) noexcept {
    const Place pl = place(key);
    if (int r = reentry("get", pl.page)) return r;
    {
        // The coarse clock: a get is mostly its cache misses, and the exact clock's
        // rdtscp waits for them. Expiry stays exact (passed()).
        const core::CallTime now = clock_.call_time();
        prefetch_record(pl);
        Held h(*this, pl.page);
        if (int r = h.status()) return r;
        bool cached_miss = false;
        const int r = get_in(h, pl.slot_hash, key, out, now, expire, false, &cached_miss);
        if (r != -ENOENT || cached_miss || !cb_.read_cb) return r;
    }
    return read_through(key, out, expire);  // fill.cpp: read_cb runs without the lock
}

int Cache::get_and_remove(Bytes key, Out out) noexcept {
    const Place pl = place(key);
    if (int r = reentry("get_and_remove", pl.page)) return r;
    {
        const std::uint64_t now = now_then_prefetch(pl);
        Held h(*this, pl.page);
        if (int r = h.status()) return r;
        if (!cb_.delete_cb && !cb_.read_cb)
            return get_in(h, pl.slot_hash, key, out, core::CallTime{now}, nullptr, true);
        Frame::Probe p;
        if (int r = h.frame().probe(h.page(), pl.slot_hash, key, p)) return r;
        RecordHeader rh{};
        const bool have = p.found >= 0 && h.frame().record(p.off, &rh) && !expired(rh, now) &&
                          !(rh.flags & kRecordTombstone);
        if (have || !cb_.read_cb) {
            // delete_cb as for remove: not for a dirty item; before the item goes.
            const bool value = have && !(rh.flags & kRecordNotFound);
            if (value && (out.buf || out.len) && out.cap < rh.val_len) {
                if (out.len) *out.len = rh.val_len;  // -ENOBUFS keeps the key: no delete_cb
                return core::fail(-ENOBUFS, "the value is {} bytes; the buffer holds {}",
                                  rh.val_len, out.cap);
            }
            if (cb_.delete_cb && !(have && (rh.flags & kRecordDirty))) {
                if (int r = call_delete(pl.page, key)) return r;
            }
            return get_in(h, pl.slot_hash, key, out, core::CallTime{now}, nullptr, true);
        }
    }
    return take_from_store(key, out);  // callbacks.cpp: a miss with read_cb
}

int Cache::set(Bytes key, Bytes value, Expiry e, std::uint64_t modseq) noexcept {
    const Place pl = place(key);
    if (int r = reentry("set", pl.page)) return r;
    std::uint64_t now = now_then_prefetch(pl);
    if (write_through() && cb_.allow_recursive) {
        // A store the modseq rules refuse must not reach the backing store. Checked
        // under the lock, but write_cb runs unlocked: a tombstone landing in between
        // is not seen by this write_cb (the store itself is still refused).
        {
            Held h(*this, pl.page);
            if (int r = h.status()) return r;
            if (int a = admit_key(h, pl.slot_hash, key, 0, modseq, now); a < 0) return a;
        }
        // The anchor's unlocked write_cb; before the store, so a failure keeps the old
        // value. Concurrent sets of one key may then reach the store in another order.
        if (int r = call_write(kNoPage, key, value, expire_on(e, now))) return r;
        now = clock_.now_ms();  // write_cb may have taken a while
    }
    Held h(*this, pl.page);
    if (int r = h.status()) return r;
    const std::uint64_t exp = expire_on(e, now);
    if (write_through() && !cb_.allow_recursive) {
        if (int a = admit_key(h, pl.slot_hash, key, 0, modseq, now); a < 0) return a;
        if (int r = call_write(pl.page, key, value, exp)) return r;
    }
    const int r = set_in(h, pl.slot_hash, key, value, exp, now,
                         write_back() ? kRecordDirty : 0, modseq);
    if (r == -E2BIG && write_back()) {
        // Not cached, so it cannot be written back later: write it through now (the
        // anchor's rule), then still report that the cache does not hold it.
        if (int w = call_write(cb_.allow_recursive ? kNoPage : pl.page, key, value, exp))
            return w;
        return core::fail(-E2BIG, "the value is too big for a cache page; write_cb stored it");
    }
    return r;
}

int Cache::exists(Bytes key) noexcept {
    const Place pl = place(key);
    if (int r = reentry("exists", pl.page)) return r;
    const core::CallTime now = clock_.call_time();  // as get's: coarse, expiry exact
    prefetch_record(pl);
    Held h(*this, pl.page);
    if (int r = h.status()) return r;
    Frame::Probe p;
    if (int r = h.frame().probe(h.page(), pl.slot_hash, key, p)) return r;
    RecordHeader rh{};
    return p.found >= 0 && h.frame().record(p.off, &rh) &&
                   !clock_.passed(rh.expire_on_ms, now) &&
                   !(rh.flags & kRecordTombstone)
               ? 1
               : 0;
}

int Cache::remove(Bytes key, const Tomb *tomb) noexcept {
    const Place pl = place(key);
    if (int r = reentry("remove", pl.page)) return r;
    std::optional<Held> h;
    h.emplace(*this, pl.page);
    if (int r = h->status()) return r;
    Frame::Probe p;
    if (int r = h->frame().probe(h->page(), pl.slot_hash, key, p)) return r;
    RecordHeader rh{};
    bool have = p.found >= 0 && h->frame().record(p.off, &rh);
    // The anchor's rule: delete_cb unless the item is dirty (never reached the store),
    // so for a clean item and for an absent key. Before the removal: a failure keeps it.
    if (cb_.delete_cb && !(have && (rh.flags & kRecordDirty))) {
        if (cb_.allow_recursive) {
            h.reset();  // the anchor calls delete_cb unlocked
            if (int r = call_delete(kNoPage, key)) return r;
            h.emplace(*this, pl.page);
            if (int r = h->status()) return r;
            if (int r = h->frame().probe(h->page(), pl.slot_hash, key, p)) return r;
            have = p.found >= 0 && h->frame().record(p.off, &rh);
        } else if (int r = call_delete(pl.page, key)) {
            return r;
        }
    }
    const std::uint64_t now = clock_.now_ms();
    if (tomb) {
        // The tombstone replaces the item (a dirty one is dropped without write_cb, as
        // remove drops it), or is not stored when the cache holds a newer modseq.
        const Expiry te = tomb->expiry.kind == Expiry::by_default ? tomb_expiry_ : tomb->expiry;
        return set_in(*h, pl.slot_hash, key, Bytes{}, expire_on(te, now), now,
                      kRecordTombstone, tomb->modseq);
    }
    if (p.found < 0) return core::fail_static(-ENOENT, "no such key in the cache");
    // An unexpired tombstone counts as present: removing it is what a plain remove is for.
    const bool was_live = have && !expired(rh, now) && !(rh.flags & kRecordNotFound);
    if (int r = remove_slot(*h, std::uint64_t(p.found))) return r;
    return was_live ? 0 : core::fail_static(-ENOENT, "no such key in the cache");
}

// The anchor's expire(key): a dirty item is written back first; no delete_cb.
int Cache::expire(Bytes key) noexcept {
    const Place pl = place(key);
    if (int r = reentry("expire", pl.page)) return r;
    Held h(*this, pl.page);
    if (int r = h.status()) return r;
    Frame::Probe p;
    if (int r = h.frame().probe(h.page(), pl.slot_hash, key, p)) return r;
    if (p.found < 0) return core::fail_static(-ENOENT, "no such key in the cache");
    RecordHeader rh{};
    const bool have = h.frame().record(p.off, &rh);
    if (have && write_back()) {
        if (int r = write_back_records(h, &p.off, 1)) return r;
    }
    const bool was_live = have && !expired(rh, clock_.now_ms()) && !(rh.flags & kRecordNotFound);
    if (int r = remove_slot(h, std::uint64_t(p.found))) return r;
    return was_live ? 0 : core::fail_static(-ENOENT, "no such key in the cache");
}

int Cache::multi_get(Bytes page_key, Item *items, std::size_t n) noexcept {
    const std::uint64_t page = page_of(core::hash_bytes(page_key.data, page_key.len, seed_));
    if (int r = reentry("multi_get", page)) return r;
    Held h(*this, page);
    if (int r = h.status()) return r;
    const std::uint64_t now = clock_.now_ms();
    int hits = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t sh = std::uint32_t(core::hash_bytes(items[i].key.data, items[i].key.len, seed_));
        items[i].result =
            get_in(h, sh, items[i].key, items[i].out, core::CallTime{now}, nullptr, false);
        if (items[i].result == SHMDS_ECORRUPT) return SHMDS_ECORRUPT;
        hits += items[i].result == 0;
    }
    return hits;
}

int Cache::multi_set(Bytes page_key, Item *items, std::size_t n, Expiry e) noexcept {
    const std::uint64_t page = page_of(core::hash_bytes(page_key.data, page_key.len, seed_));
    if (int r = reentry("multi_set", page)) return r;
    Held h(*this, page);
    if (int r = h.status()) return r;
    const std::uint64_t now = clock_.now_ms();
    const std::uint64_t exp = expire_on(e, now);
    int stored = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t sh = std::uint32_t(core::hash_bytes(items[i].key.data, items[i].key.len, seed_));
        items[i].result = set_in(h, sh, items[i].key, items[i].value, exp, now);
        if (items[i].result == SHMDS_ECORRUPT) return SHMDS_ECORRUPT;
        stored += items[i].result == 0;
    }
    return stored;
}

}  // namespace shmds::cache
