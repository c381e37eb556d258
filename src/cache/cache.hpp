// The cache engine (docs/cache-design.md): `num_pages` pages, each a slot table plus an
// append-only data area in one frame, each under its own robust lock. A key's page is
// fixed by its keyed hash; every verb is hash -> page -> lock -> operate -> unlock.
// Keys and values are byte strings. The C API turns handles into this object.
#pragma once

#include "cache/frame.hpp"
#include "cache/layout.hpp"
#include "core/engine_factory.hpp"
#include "core/keyed_hash.hpp"
#include "core/ms_clock.hpp"
#include "core/segment.hpp"

#include <shmds/cache.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <sys/types.h>

namespace shmds::cache {

class Held;

// A caller's output buffer; *len receives the value's length (also on -ENOBUFS).
struct Out {
    void *buf = nullptr;
    std::size_t cap = 0;
    std::size_t *len = nullptr;
    std::uint64_t *modseq = nullptr;  // a hit's modseq (0: stored without one)
};

// When a stored item expires (design §1: one meaning of 0, "never").
struct Expiry {
    enum Kind { by_default, never, now, relative, absolute } kind = by_default;
    std::uint64_t ms = 0;  // relative: ms from now (0 = never); absolute: realtime ms (0 = never)
};

// A remove with a modseq leaves this tombstone (design §3 "Modseqs").
struct Tomb {
    std::uint64_t modseq;  // never 0
    Expiry expiry;         // by_default: the handle's tombstone expiry
};

struct Stats {
    std::uint64_t reads, hits;  // gets since creation or the last clear
    std::uint64_t items;        // records held (expired ones not yet reclaimed too)
    std::uint64_t num_pages, page_size, start_slots, spare_frames, default_expire_ms;
    std::uint64_t recoveries, segment_bytes;
};

// One entry handed to a get_keys callback.
struct Entry {
    Bytes key, value;  // value: detail 2 only
    std::uint64_t last_access_ms, expire_on_ms;
    std::uint32_t flags;
    std::uint64_t modseq;  // detail >= 1; 0: none
};
using EntryFn = int (*)(const Entry &e, void *ctx);

// One key of multi_get / multi_set; result: 0 or a code for that key.
struct Item {
    Bytes key;
    Bytes value;  // multi_set
    Out out;      // multi_get
    int result = 0;
};

// The lifecycle options of a handle (design §7, lifecycle.cpp).
struct Lifecycle {
    bool init_file = false;       // wipe every page when the handle is made
    bool unlink_on_exit = false;  // at close: unlink the file (a PATH backing)
    bool empty_on_exit = false;   // at close: remove every item
};

class Cache final : public core::SegmentClient {
public:
    static int create(const shmds_options_t *opts, const Sizing &cfg, std::unique_ptr<Cache> &out);
    static int open(const shmds_options_t *opts, std::unique_ptr<Cache> &out);

    // Verbs (return codes: include/shmds/cache.h).
    int get(Bytes key, Out out, std::uint64_t *expire_on = nullptr) noexcept;
    // modseq != 0: a conditional store (refused with -ESTALE by a newer modseq or an
    // unexpired tombstone); 0: a plain store (refused only by an unexpired tombstone).
    int set(Bytes key, Bytes value, Expiry e, std::uint64_t modseq = 0) noexcept;
    int exists(Bytes key) noexcept;
    // tomb: leave a tombstone instead of removing (0 whatever was there).
    int remove(Bytes key, const Tomb *tomb = nullptr) noexcept;
    int get_and_remove(Bytes key, Out out) noexcept;
    int multi_get(Bytes page_key, Item *items, std::size_t n) noexcept;
    int multi_set(Bytes page_key, Item *items, std::size_t n, Expiry e) noexcept;
    int expire(Bytes key) noexcept;
    // Callbacks (callbacks.cpp, design §6): fn under the page lock; 0, 1 (not stored) or
    // a negative code.
    // Exactly one of fn, fnm: fnm sees the item's modseq and may make the store conditional.
    int get_and_set(Bytes key, shmds_cache_update_fn fn, shmds_cache_update_modseq_fn fnm,
                    void *ctx) noexcept;
    int empty(bool only_expired) noexcept;

    // Whole-cache verbs, page by page (not a snapshot, as in the anchor).
    int clear() noexcept;
    int purge(std::uint64_t *removed) noexcept;
    int get_keys(int detail, EntryFn fn, void *ctx) noexcept;
    int stats(Stats &s, bool clear) noexcept;
    int verify(std::uint64_t *repaired) noexcept;

    // Lifecycle (lifecycle.cpp): start right after create (wipes for init_file, records
    // this process as the creator and, for unlink_on_exit, the file's absolute path);
    // finish right before the handle is freed (empties and unlinks, in the creator only).
    int start_lifecycle(const Lifecycle &l, const char *path) noexcept;
    void finish_lifecycle() noexcept;

    // Not thread-safe against other calls on this handle (set them before use).
    void set_clock(core::MsClock c) noexcept { clock_ = c; }
    // Checked by the C API (modes 0/1, fill_wait_ms in range); struct_size normalised.
    void set_callbacks(const shmds_cache_callbacks_t &cb) noexcept { cb_ = cb; }
    // The expiry of tombstones left with Expiry::by_default (the anchor's
    // tombstone_expire_time, a per-object option there too). Checked by the C API.
    void set_tombstone_expiry(Expiry e) noexcept { tomb_expiry_ = e; }
    static constexpr std::uint64_t kDefaultFillWaitMs = 5000;
    static constexpr std::uint64_t kMaxFillWaitMs = 3'600'000;
    const Geometry &geometry() const noexcept { return geom_; }
    core::Segment &segment() noexcept { return segment_; }

    // SegmentClient
    core::StructureType type() const noexcept override { return core::StructureType::cache; }
    std::uint32_t wanted_variant() const noexcept override { return kVariant; }
    const char *variant_name(std::uint32_t v) const noexcept override {
        return v == kVariant ? "bytes" : "unknown-variant";
    }
    int describe(core::SegmentShape &s) override;
    int reshape(std::uint32_t variant, const std::uint64_t (&geometry)[core::kGeometryWords],
                core::SegmentShape &s) override;
    void initialize(std::uint8_t *base) noexcept override;

    static constexpr std::uint32_t kVariant = 1;  // one variant: byte keys and values

private:
    friend struct core::EngineFactory;
    friend class Held;
    Cache() = default;
    void bind(std::uint8_t *base) noexcept;
    void commit_frames() noexcept;

    // Which page a key lives on, and its in-page hash.
    struct Place {
        std::uint64_t page;
        std::uint32_t slot_hash;
        // The home slot the last frame this handle saw for the page would probe first,
        // and that frame (nullptr: no hint). A guess: only ever prefetched from.
        const std::atomic<std::uint32_t> *home = nullptr;
        std::uint8_t *frame = nullptr;
    };
    // The key's page and slot hash; starts the page's cache misses (prefetch_page).
    Place place(Bytes key) const noexcept {
        const std::uint64_t h = core::hash_bytes(key.data, key.len, seed_);
        Place pl{page_of(h), std::uint32_t(h)};
        prefetch_page(pl);
        return pl;
    }
    // The call's time (its "now"), read while place()'s misses are in flight: the clock
    // waits for earlier loads, so read under the lock it adds its whole cost. Then
    // prefetch_record, which waits for the home slot's line anyway.
    std::uint64_t now_then_prefetch(const Place &pl) const noexcept {
        const std::uint64_t now = clock_.now_ms();
        prefetch_record(pl);
        return now;
    }
    // Start the miss on the key's record when its home slot names it (a lookup's usual
    // hit), so that it overlaps the lock and the frame check instead of following the
    // probe. Reads the guessed slot word, so it waits for that line: call it after
    // work that can overlap place()'s misses (the clock). Racy and unchecked: a wrong
    // guess costs a wasted prefetch inside the frame.
    void prefetch_record(const Place &pl) const noexcept {
        if (!pl.home) return;
        const std::uint32_t w = pl.home->load(std::memory_order_relaxed);
        if (w <= kSlotDeleted || slot_word_tag(w) != slot_tag(pl.slot_hash) ||
            slot_offset(w) >= geom_.page_size)
            return;
        __builtin_prefetch(pl.frame + slot_offset(w));
        __builtin_prefetch(pl.frame + slot_offset(w) + kCacheLine);  // a short key's value
    }
    std::uint64_t page_of(std::uint64_t h) const noexcept {
        return ((h >> 32) * geom_.num_pages) >> 32;  // the top bits, scaled
    }
    std::uint64_t expire_on(Expiry e, std::uint64_t now) const noexcept;

    // Under a held page (held.hpp). get_in: -ENOENT for a miss; *cached_miss (when
    // given) says whether that miss was a cached "not found" record.
    // count: whether this lookup counts in the stats (a get's re-check after waiting
    // for a fill does not). now: the call's time; a coarse one stamps the record's
    // access with its ms, and expiry is still decided exactly (MsClock::passed).
    int get_in(Held &h, std::uint32_t slot_hash, Bytes key, Out out, core::CallTime now,
               std::uint64_t *expire_on, bool take, bool *cached_miss = nullptr,
               bool count = true) noexcept;
    // modseq != 0 adds kRecordHasModseq. Applies the modseq rules first (admit): -ESTALE
    // when refused; 0 without a store when a tombstone finds something as new already.
    int set_in(Held &h, std::uint32_t slot_hash, Bytes key, Bytes value,
               std::uint64_t expire_on, std::uint64_t now, std::uint32_t flags = 0,
               std::uint64_t modseq = 0) noexcept;
    // The anchor's conditional-store rules against the key's current record (p):
    // 0 store; 1 keep what is there (a stale tombstone: success without a store);
    // -ESTALE refused.
    int admit(const Frame &f, const Frame::Probe &p, std::uint32_t flags, std::uint64_t modseq,
              std::uint64_t now) const noexcept;
    // admit() for `key` in h's page (probes it): before a write_cb that must not see a
    // store the cache then refuses.
    int admit_key(Held &h, std::uint32_t slot_hash, Bytes key, std::uint32_t flags,
                  std::uint64_t modseq, std::uint64_t now) noexcept;
    int remove_slot(Held &h, std::uint64_t slot) noexcept;

    // Callbacks (callbacks.cpp, fill.cpp). reentry: 0, or -EDEADLK when this thread is
    // inside a callback of this cache that forbids a call needing `page` (kAllPages:
    // every page).
    static constexpr std::uint64_t kNoPage = UINT64_MAX, kAllPages = UINT64_MAX - 1;
    int reentry(const char *verb, std::uint64_t page) const noexcept;
    // Every page in turn under its lock (purge, empty): fn(held, result) on each sound
    // page; a damaged page is skipped with its SHMDS_ECORRUPT kept in result. fn may set
    // result and go on (0), or stop the walk by returning an error. Returns that error,
    // or result. Defined in held.hpp.
    template <class Fn>
    int each_sound_page(Fn &&fn) noexcept;
    bool write_through() const noexcept { return cb_.write_cb && !cb_.write_back; }
    bool write_back() const noexcept { return cb_.write_cb && cb_.write_back; }
    // write_cb / delete_cb for one key, inside a callback scope holding `page`.
    int call_write(std::uint64_t page, Bytes key, Bytes value, std::uint64_t expire_on) noexcept;
    int call_delete(std::uint64_t page, Bytes key) noexcept;
    // Hand the dirty records among `offs` (in h's frame) to write_cb, marking each clean
    // as its write_cb returns 0; stops at the first failure (returned).
    int write_back_records(Held &h, const std::uint32_t *offs, std::size_t n) noexcept;
    // A miss with read_cb (fill.cpp): the stampede guard, read_cb, the store.
    int read_through(Bytes key, Out out, std::uint64_t *expire_on) noexcept;
    // get_and_remove's miss with read_cb (the anchor's get then remove): the store's
    // value, then delete_cb; nothing cached. No lock held.
    int take_from_store(Bytes key, Out out) noexcept;
    int value_expiry(const shmds_cache_value_t &v, std::uint64_t keep, std::uint64_t now,
                     std::uint64_t &expire_on) const noexcept;

    // Expunge (expunge.cpp, design §4).
    enum class Rebuild { expunge, purge, clear, reinit };
    // write_back: hand the dropped dirty records to write_cb first (set's expunge, empty).
    int rebuild(Held &h, Rebuild mode, std::uint64_t need, std::uint64_t now,
                std::uint64_t *dropped, bool write_back = false) noexcept;
    int claim_spare(Held &h, std::uint64_t &slot, std::uint64_t &frame) noexcept;
    void reclaim_dead_claims(std::uint64_t except_page) noexcept;
    std::uint64_t pool_word_for(std::uint64_t frame) const noexcept;

    // Lock repair (held.cpp): undo the journal, hand back an abandoned spare frame.
    void repair_page(std::uint64_t page) noexcept;

    PageControl &page_control(std::uint64_t p) const noexcept {
        return reinterpret_cast<PageControl *>(base_ + geom_.pages_off)[p];
    }
    // Start the cache misses a locked call on page p will take, so they overlap instead
    // of following one another (a page is rarely the last one used: keys spread over
    // pages): the lock's line, the journal, and, when this handle saw the page before,
    // its frame header and the probe's home slot. Only prefetches: nothing read here is
    // trusted (design section 8).
    void prefetch_page(Place &pl) const noexcept {
        PageControl &pc = page_control(pl.page);
        __builtin_prefetch(&pc.lock, 1);
        __builtin_prefetch(&pc.journal[0], 1);
        __builtin_prefetch(&page_map(pl.page));
        if (!hints_) return;
        const std::uint64_t h = hints_[pl.page & hint_mask_].load(std::memory_order_relaxed);
        const std::uint64_t frame = h >> 32, slots = h & 0xffffffffu;
        if (frame >= geom_.frames || slots > geom_.max_slots) return;
        pl.frame = frame_bytes(frame);
        pl.home = reinterpret_cast<const std::atomic<std::uint32_t> *>(
            pl.frame + sizeof(FrameHeader) + 4 * home_slot(pl.slot_hash, slots));
        __builtin_prefetch(pl.frame);
        __builtin_prefetch(pl.home);
    }
    // What Held found under the lock: page p's frame and its slot count, the aim of
    // the next prefetch_page (a hint table per handle, a direct-mapped page index).
    // Stored only when it changed, so threads sharing the handle do not bounce the
    // table's lines on every call.
    void remember_frame(std::uint64_t p, std::uint64_t frame, std::uint64_t slots) const noexcept {
        if (!hints_) return;
        std::atomic<std::uint64_t> &h = hints_[p & hint_mask_];
        const std::uint64_t v = frame << 32 | slots;
        if (h.load(std::memory_order_relaxed) != v) h.store(v, std::memory_order_relaxed);
    }
    std::atomic<std::uint64_t> &pool(std::uint64_t i) const noexcept {
        return reinterpret_cast<std::atomic<std::uint64_t> *>(base_ + geom_.pool_off)[i];
    }
    std::atomic<std::uint64_t> &page_map(std::uint64_t p) const noexcept {
        return reinterpret_cast<std::atomic<std::uint64_t> *>(base_ + geom_.map_off)[p];
    }
    std::uint8_t *frame_bytes(std::uint64_t f) const noexcept {
        return base_ + geom_.frames_off + f * geom_.page_size;
    }
    core::UndoJournal journal(std::uint64_t p) const noexcept {
        PageControl &pc = page_control(p);
        return core::UndoJournal(pc.journal_count, pc.journal, kJournalCap, base_,
                                 geom_.control_off, geom_.total);
    }
    std::atomic<std::uint64_t> &recoveries() const noexcept {
        return segment_.header().recoveries;
    }

    core::Segment segment_;
    Geometry geom_{};
    Sizing requested_{};
    std::uint8_t *base_ = nullptr;
    core::HashSeed seed_{};
    core::MsClock clock_;
    shmds_cache_callbacks_t cb_{};  // per handle: function pointers are per process
    Expiry tomb_expiry_{};          // per handle, as the anchor's tombstone_expire_time

    struct FreeDeleter {
        void operator()(char *p) const noexcept { std::free(p); }
    };
    // remember_frame's table: a power of two of u64 {frame << 32 | slots}, at most
    // kMaxFrameHints (128 KiB); null if it could not be allocated (no prefetch then).
    static constexpr std::uint64_t kMaxFrameHints = 16384;
    std::unique_ptr<std::atomic<std::uint64_t>[]> hints_;
    std::uint64_t hint_mask_ = 0;
    Lifecycle lifecycle_{};
    pid_t creator_ = 0;                       // the process whose close honours lifecycle_
    std::unique_ptr<char, FreeDeleter> path_;  // realpath() of the file, for unlink_on_exit
};

}  // namespace shmds::cache
