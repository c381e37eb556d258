// One shard of a hash map: its table pair, arena, seqlock and lock. Readers call get()
// without a lock (design §3); every writer verb runs in a WriteTxn, which takes the
// shard's robust lock, journals every shared word it changes and either commits or
// rolls back (design §4). Nothing here knows handles, typed values or the C ABI.
#pragma once

#include "core/deadline.hpp"
#include "core/platform.hpp"
#include "core/robust_mutex.hpp"
#include "core/undo_journal.hpp"
#include "hashmap/clock.hpp"
#include "hashmap/hash.hpp"
#include "hashmap/layout.hpp"
#include "hashmap/words.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace shmds::hashmap {

struct Span {
    const void *data = nullptr;
    std::size_t len = 0;
};

// Where a value is copied: buf holds cap bytes; *len receives the value's length (also
// when it does not fit: -ENOBUFS).
struct OutBuf {
    void *buf;
    std::size_t cap;
    std::size_t *len;
};

enum class WriteMode { put, add, update, swap };

// What set_expire does: touch (now + the map's default TTL when it has one, and a hit
// for eviction), persist (never expires), set (now + ttl_ms; 0 = never).
enum class TtlChange { touch, persist, set };

struct ShardSnapshot {
    std::uint64_t size, cap, tombstones, arena_used, resizes, evictions, expirations;
};

// A writer's TTL argument meaning "the map's default TTL" (0 means never expires).
inline constexpr std::uint64_t kDefaultTtl = ~std::uint64_t{0};

class WriteTxn;

// SHMDS_ECORRUPT with a sentence naming what is damaged.
int corrupt(const char *what) noexcept;

class Shard {
public:
    Shard() = default;
    Shard(std::uint8_t *seg_base, ShardControl *ctl, std::uint8_t *data, const Geometry *g,
          HashSeed seed, std::atomic<std::uint64_t> *recoveries) noexcept;

    static void initialize(ShardControl *ctl, const Geometry &g) noexcept;

    // Inline: every verb starts here, and a get is only a few dozen instructions more.
    std::uint64_t hash(Span key) const noexcept {
        if (g_->variant.key != ElemType::bytes) {
            std::uint64_t k = 0;
            std::memcpy(&k, key.data, key.len < 8 ? key.len : 8);
            return hash_u64(k, seed_);
        }
        return hash_bytes(key.data, key.len, seed_);
    }
    // The handle's clock (TTL); it must outlive the shard.
    void set_clock(const Clock *c) noexcept { clock_ = c; }
    // The handle's bound on waiting for this shard's lock, in ns (-1: forever, 0: no
    // wait); it must outlive the shard. Every WriteTxn reads it.
    void set_lock_timeout(const std::atomic<std::int64_t> *ns) noexcept { lock_timeout_ = ns; }
    std::int64_t lock_timeout_ns() const noexcept {
        return lock_timeout_ ? lock_timeout_->load(std::memory_order_relaxed) : -1;
    }

    // Lock-free. 0 (copied to *out, or found when out is null), -ENOENT (absent or
    // expired), -ENOBUFS (*out->len says how much is needed), SHMDS_ECORRUPT. *expire
    // (if given) receives the entry's absolute expiry in ms, 0 = never. On an evicting
    // map a hit marks the entry visited (design §6).
    int get(std::uint64_t h, Span key, OutBuf *out, std::uint64_t *expire = nullptr) noexcept;
    // get() of an 8-byte key (its native word) on a map of 8-byte values, for the C
    // API's integer short lane: one seqlock pass with no closure and no OutBuf. 0 with
    // *value, -ENOENT (absent), or kAskGet: the pass could not answer alone (a write
    // window, a torn pass, an entry with an expiry, a value of another length, damage),
    // and get() must (it retries, reports). A hit on an evicting map is marked here too.
    static constexpr int kAskGet = 1;
    int get_word(std::uint64_t h, std::uint64_t key, std::uint64_t *value) noexcept;

    // Writers; each returns a code for the C API (documented in hashmap.h). ttl_ms: the
    // new expiry of what put/add/update/swap write (kDefaultTtl: the map's default).
    int write(std::uint64_t h, Span key, Span val, WriteMode mode, OutBuf *old,
              std::uint64_t ttl_ms = kDefaultTtl) noexcept;
    int remove(std::uint64_t h, Span key, OutBuf *old) noexcept;
    int cas(std::uint64_t h, Span key, Span expected, Span desired) noexcept;
    int get_or_set(std::uint64_t h, Span key, Span val, OutBuf *out) noexcept;
    int incr_by(std::uint64_t h, Span key, std::int64_t delta, int bits,
                std::int64_t *out) noexcept;

    ShardSnapshot snapshot() const noexcept;

    // TTL (ttl.cpp). set_expire: 0 or -ENOENT (absent or expired). flush_expired: sweep
    // at most `budget` slots from the shard's cursor (restart: from slot 0), removing
    // expired entries (counted in *removed); 1 when the sweep reached the table's end
    // (the cursor starts over next time), 0 when slots remain.
    int set_expire(std::uint64_t h, Span key, TtlChange how, std::uint64_t ttl_ms = 0) noexcept;
    int flush_expired(std::uint64_t budget, bool restart, std::uint64_t *removed) noexcept;

    // Eviction (sieve.cpp), evicting maps only: remove the entry the SIEVE hand would
    // evict (newest = false: pop) or the newest one (shift), copying key and value
    // out (key and val both null: just remove it, for drain). 0, -ENOENT (empty),
    // -ENOBUFS (a buffer too small: both lengths set, the entry stays), SHMDS_ECORRUPT.
    int evict_entry(bool newest, OutBuf *key, OutBuf *val) noexcept;

    // ---- more verbs (shard_ops.cpp) ----
    // Lock-held forms of write and remove, for a batch that holds the shard's lock
    // across many keys; each commits its own change. 0/1 or a code as write()/remove(),
    // with the same TTL (ttl_ms) and expiry rules: an expired entry of the key is
    // reclaimed first and counts as absent.
    int write_locked(WriteTxn &t, std::uint64_t h, Span key, Span val, WriteMode mode,
                     OutBuf *old, std::uint64_t ttl_ms = kDefaultTtl) noexcept;
    int remove_locked(WriteTxn &t, std::uint64_t h, Span key, OutBuf *old) noexcept;
    // Remove only if the value equals `expected` (bytes compared). 0, -ECANCELED, -ENOENT.
    int cas_take(std::uint64_t h, Span key, Span expected) noexcept;
    // Monotonic counters: store max(stored, v) (or min); insert v when missing. *out =
    // the resulting value; 1 if the map changed, 0 if the stored value already won.
    int minmax(std::uint64_t h, Span key, std::int64_t v, bool is_max, std::int64_t *out) noexcept;
    // Grow the live table so that `entries` fit without a rebuild. 0 or a code.
    int reserve(std::uint64_t entries) noexcept;
    // Remove every entry and return the arena: one committed step. *removed = how many.
    int clear(std::uint64_t *removed) noexcept;
    // The longest probe sequence (slots read to find a key) over the live table: one
    // pass without a lock, approximate while writers change the shard.
    std::uint64_t max_probe() const noexcept;
    // Wait for any writer to finish (taking over a dead one); for freeze().
    int quiesce() noexcept;

    // ---- cursors (cursor.cpp, design §8) ----
    // The shard's table generation: its rebuild count, bumped by every grow, shrink,
    // compaction and clear.
    std::uint64_t generation() const noexcept;
    // From *slot on, the next full slot of the live table of generation `gen`: copies
    // its key and value (either OutBuf may be null) and sets *slot past it. 1 found, 0
    // past the table's end, -ESTALE (the generation changed), -ENOBUFS (*len set,
    // nothing advanced), SHMDS_ECORRUPT.
    // *gen == kAnyGeneration (a cursor at the start of a shard) adopts the current one.
    static constexpr std::uint64_t kAnyGeneration = ~std::uint64_t{0};
    int cursor_read(std::uint64_t *gen, std::uint64_t *slot, OutBuf *key, OutBuf *val) noexcept;
    // The slot holding key and the generation it holds it in; 0 or -ENOENT.
    int find_slot(std::uint64_t h, Span key, std::uint64_t *slot, std::uint64_t *gen) noexcept;

    // A handle mapped read-only (a frozen file): reads never fall back to the lock.
    void set_read_only() noexcept { read_only_ = true; }
    // While *hold is nonzero (the handle's open cursors), removes through this handle
    // do not shrink the table, so removing while iterating never invalidates its own
    // cursors. Process-local: a dead process holds nothing.
    void set_shrink_hold(const std::atomic<std::uint32_t> *hold) noexcept { shrink_hold_ = hold; }

private:
    friend class WriteTxn;
    static constexpr int kTorn = 2;  // a bounds check failed: torn read or damage
    // A reader that sees the write window open this many times in a row, or whose copy a
    // writer invalidates this many times, reads once under the lock instead (design §3):
    // a dead writer is taken over there, and a stream of writes cannot starve it.
    static constexpr int kReadSpins = 2000;
    static constexpr int kReadRetries = 64;

    std::uint64_t seg_off(const void *p) const noexcept {
        return std::uint64_t(static_cast<const std::uint8_t *>(p) - seg_base_);
    }
    // The shard's undo journal (design §4), a view over its ShardControl. Its repair
    // writes only inside the shards' region of the segment (never the header, the
    // MapControl or past the end), whatever a damaged record says.
    core::UndoJournal journal() const noexcept {
        return core::UndoJournal(ctl_->journal_count, ctl_->journal, kJournalCap, seg_base_,
                                 g_->shard_control_off, g_->total);
    }
    std::atomic<std::uint8_t> *tags(std::uint64_t b) const noexcept {
        return reinterpret_cast<std::atomic<std::uint8_t> *>(data_ + g_->tags_off[b]);
    }
    Word *entry(std::uint64_t b, std::uint64_t i) const noexcept {
        return reinterpret_cast<Word *>(data_ + g_->entries_off[b] + i * g_->stride);
    }
    Word *key_area(Word *e) const noexcept { return e + kEntryHeaderWords; }
    Word *val_area(Word *e) const noexcept { return e + kEntryHeaderWords + g_->key_area / 8; }
    Word *arena_word(std::uint64_t off) const noexcept {
        return reinterpret_cast<Word *>(data_ + g_->arena_off + off);
    }
    bool evicting() const noexcept { return (g_->flags & kFlagEvict) != 0; }
    std::atomic<std::uint8_t> *visited(std::uint64_t b) const noexcept {
        return reinterpret_cast<std::atomic<std::uint8_t> *>(data_ + g_->visited_off[b]);
    }
    Word *links(std::uint64_t b) const noexcept {
        return reinterpret_cast<Word *>(data_ + g_->links_off[b]);
    }
    // Every live table has 16 to max_cap slots (a power of two), so a reader's probe can
    // take 8 tags per load without meeting the table's end mid-group.
    bool valid_cap(std::uint64_t cap) const noexcept {
        // cap - kMinTable wraps round for cap < kMinTable (0 included), so one unsigned
        // comparison checks both ends; a power of two has no bit in common with cap - 1.
        return (cap & (cap - 1)) == 0 && cap - kMinTable <= g_->max_cap - kMinTable;
    }

    // The words holding a byte string of `len` whose area is `area` (inline) or whose
    // area's first word is an arena offset; nullptr if that offset is out of bounds.
    const Word *bytes_at(const Word *area, std::uint64_t area_size, std::uint64_t len) const noexcept;
    // Probe for key: 1 found (*slot), 0 absent (*free: first tombstone or empty slot on
    // the path, or ~0 if none), kTorn.
    int probe(std::uint64_t b, std::uint64_t cap, std::uint64_t h, Span key, std::uint64_t *slot,
              std::uint64_t *free) const noexcept;
    // The readers' probe: the same answer as probe() without the free slot, matching
    // eight tags per word load. 1 found (*slot), 0 absent, kTorn.
    int find(std::uint64_t b, std::uint64_t cap, std::uint64_t h, Span key,
             std::uint64_t *slot) const noexcept;
    // find()'s two steps: the home slot alone (1, 0, kTorn, or kPastHome: the key may
    // lie further on), then the 8-slot groups from the home slot on (1, 0, kTorn).
    static constexpr int kPastHome = 3;
    int find_home(std::uint64_t b, std::uint64_t cap, std::uint64_t h, Span key,
                  std::uint64_t *slot) const noexcept;
    int find_groups(std::uint64_t b, std::uint64_t cap, std::uint64_t h, Span key,
                    std::uint64_t *slot) const noexcept;
    // find_groups for get_word's one-word key, out of line: the usual get ends at the
    // home slot, and inlining the groups' loop would cost it register saves.
    [[gnu::noinline]] int find_word_groups(std::uint64_t b, std::uint64_t cap, std::uint64_t h,
                                        std::uint64_t key, std::uint64_t *slot) const noexcept;
    // Whether entry e holds key: 1, 0, kTorn (its arena offset is out of bounds).
    int key_matches(const Word *e, Span key) const noexcept;
    int copy_value(const Word *e, OutBuf *out) const noexcept;  // 0, -ENOBUFS, kTorn
    int read_value(const Word *e, OutBuf *out) const noexcept;  // copy_value, for get
    int value_equals(const Word *e, Span v) const noexcept;     // 1, 0, kTorn
    int finish_read(int r, std::uint64_t b, std::uint64_t slot, std::uint64_t exp,
                    std::uint64_t *expire) noexcept;
    SHMDS_COLD int expired_at(std::uint64_t exp) const noexcept;
    void wait_for_writer() noexcept;
    int copy_key(const Word *e, OutBuf *out) const noexcept;  // 0, -ENOBUFS, kTorn

    // The one seqlock read loop (design §3). read(b, cap) -> code runs inside a window
    // (b and cap already checked) until a pass is not torn: kTorn or a moved sequence is
    // retried; kTorn in a pass that validated is damage (SHMDS_ECORRUPT). The first pass
    // is inline and short, since a get is mostly a wait for the entry's cache line and the
    // fewer instructions around it, the more gets a CPU overlaps; anything unusual goes
    // to read_retrying, out of line: it spins while the write window is open and, after
    // too many failures, reads once under the lock (never for a read-only handle).
    template <typename Read>
    int read_stable(Read &&read) noexcept;
    template <typename Read>
    SHMDS_COLD int read_retrying(Read &read) noexcept;
    // read_retrying's last resort, out of line and not a template: read(ctx, b, cap)
    // once with the shard's lock held (a dead writer taken over and repaired first).
    using LockedRead = int (*)(void *ctx, std::uint64_t b, std::uint64_t cap);
    SHMDS_COLD int read_locked(LockedRead read, void *ctx) noexcept;
    const Word *frozen_word() const noexcept;

    // TTL helpers (ttl.cpp). The absolute expiry for a TTL argument (0 = never).
    std::uint64_t expiry_for(std::uint64_t ttl_ms) const noexcept;
    bool expired(const Word *e) const noexcept;
    // probe() for writers: an expired entry of the key is reclaimed (committed on its
    // own) and reported absent, with *free valid for an insert.
    int probe_live(WriteTxn &t, std::uint64_t b, std::uint64_t cap, std::uint64_t h, Span key,
                   std::uint64_t *slot, std::uint64_t *free) noexcept;
    int reclaim_expired(WriteTxn &t, std::uint64_t slot) noexcept;
    // A full non-evicting shard: reclaim every expired entry, each as a committed step
    // of its own (readers saw them absent already); how many, or a negative code.
    int reclaim_all_expired(WriteTxn &t) noexcept;

    // SIEVE list steps (sieve.cpp), under the lock.
    int list_push_newest(WriteTxn &t, std::uint64_t b, std::uint64_t slot) noexcept;
    int list_unlink(WriteTxn &t, std::uint64_t b, std::uint64_t cap, std::uint64_t slot) noexcept;
    int sieve_victim(std::uint64_t b, std::uint64_t cap, std::uint64_t *slot) noexcept;
    // A hit (any verb that finds its key live): set the visited byte if it is clear.
    void mark_visited(std::uint64_t b, std::uint64_t slot) noexcept;
    // Evict the entry at slot (the victim sieve_victim chose): counted in evictions, or
    // in expirations if it had expired.
    int evict_slot(WriteTxn &t, std::uint64_t slot) noexcept;
    // Rebuild of an evicting map: copy the entries in list order into buffer nb.
    int relink_into(WriteTxn &t, std::uint64_t nb, std::uint64_t new_cap) noexcept;
    std::uint64_t place(std::uint64_t b, std::uint64_t i, std::uint64_t nb,
                        std::uint64_t new_cap) noexcept;

    // Writer steps (under the lock, inside a WriteTxn).
    int insert(WriteTxn &t, std::uint64_t h, Span key, Span val, std::uint64_t free,
               std::uint64_t ttl_ms = kDefaultTtl) noexcept;
    int replace_value(WriteTxn &t, Word *e, Span val) noexcept;
    int erase(WriteTxn &t, std::uint64_t slot) noexcept;
    int store_string(WriteTxn &t, Word *area, std::uint64_t area_size, Span s, bool journal) noexcept;
    int rebuild(WriteTxn &t, std::uint64_t new_cap) noexcept;
    void maybe_shrink(WriteTxn &t) noexcept;
    int arena_alloc(WriteTxn &t, std::uint64_t len, std::uint64_t *off) noexcept;
    int arena_free(WriteTxn &t, std::uint64_t off, std::uint64_t len) noexcept;
    void repair() noexcept;
    static void repair_hook(void *self) noexcept { static_cast<Shard *>(self)->repair(); }

    std::uint8_t *seg_base_ = nullptr;
    ShardControl *ctl_ = nullptr;
    std::uint8_t *data_ = nullptr;
    const Geometry *g_ = nullptr;
    HashSeed seed_{};
    std::atomic<std::uint64_t> *recoveries_ = nullptr;
    const Clock *clock_ = &kRealClock;
    static const Clock kRealClock;
    bool read_only_ = false;
    const std::atomic<std::uint32_t> *shrink_hold_ = nullptr;
    const std::atomic<std::int64_t> *lock_timeout_ = nullptr;
};

template <typename Read>
[[gnu::always_inline]] inline int Shard::read_stable(Read &&read) noexcept {
    const std::uint64_t s1 = ctl_->seq.load(std::memory_order_acquire);
    const std::uint64_t b = ctl_->active.load(std::memory_order_relaxed);
    const std::uint64_t cap = ctl_->cap.load(std::memory_order_relaxed);
    const int r = (s1 & 1) == 0 && b <= 1 && valid_cap(cap) ? read(b, cap) : kTorn;
    std::atomic_thread_fence(std::memory_order_acquire);
    if (SHMDS_LIKELY(r != kTorn && ctl_->seq.load(std::memory_order_relaxed) == s1)) return r;
    return read_retrying(read);
}

template <typename Read>
int Shard::read_retrying(Read &read) noexcept {
    int spins = 0;
    for (int tries = 0; tries < kReadRetries;) {
        const std::uint64_t s1 = ctl_->seq.load(std::memory_order_acquire);
        if (s1 & 1) {
            if (++spins < kReadSpins) {
                core::cpu_relax();
                continue;
            }
            break;  // a writer is slow or dead: go through its lock
        }
        const std::uint64_t b = ctl_->active.load(std::memory_order_relaxed);
        const std::uint64_t cap = ctl_->cap.load(std::memory_order_relaxed);
        const int r = b <= 1 && valid_cap(cap) ? read(b, cap) : kTorn;
        std::atomic_thread_fence(std::memory_order_acquire);
        if (ctl_->seq.load(std::memory_order_relaxed) == s1)
            return r == kTorn ? corrupt("a hash map entry or table word is out of bounds") : r;
        ++tries;
    }
    return read_locked(
        [](void *ctx, std::uint64_t b, std::uint64_t cap) { return (*static_cast<Read *>(ctx))(b, cap); },
        &read);
}

// Inline here (not in shard.cpp) so that get_word inlines into the C API's short lane.
[[gnu::always_inline]] inline int Shard::key_matches(const Word *e, Span key) const noexcept {
    const std::uint64_t lens = e[kEntryWordLens].load(std::memory_order_relaxed);
    if ((lens & 0xffffffffu) != key.len) return 0;
    if (key.len == 8) {  // every integer key: one word, inline (key areas hold 8 or more)
        std::uint64_t k;
        std::memcpy(&k, key.data, 8);
        return key_area(const_cast<Word *>(e))[0].load(std::memory_order_relaxed) == k ? 1 : 0;
    }
    const Word *k = bytes_at(key_area(const_cast<Word *>(e)), g_->key_area, key.len);
    if (!k) return kTorn;
    return equal_bytes(k, key.data, key.len) ? 1 : 0;
}

// find()'s first step (the reason it is a branch on the tag: shard.cpp, find_groups).
[[gnu::always_inline]] inline int Shard::find_home(std::uint64_t b, std::uint64_t cap,
                                                    std::uint64_t h, Span key,
                                                    std::uint64_t *slot) const noexcept {
    const std::uint64_t home = h & (cap - 1);  // below cap: inside the table
    // Most keys sit in their home slot, whose entry lies in another array than its tag:
    // asked for now, the entry's cache miss overlaps the tag's instead of following it.
    __builtin_prefetch(entry(b, home));
    const std::uint8_t home_tag = tags(b)[home].load(std::memory_order_relaxed);
    if (home_tag == tag_of(h)) {
        const int m = key_matches(entry(b, home), key);
        if (m == 1) *slot = home;
        if (m != 0) return m;
    } else if (home_tag == kTagEmpty) {
        return 0;
    }
    return kPastHome;
}

// read_stable's first pass written out for one word: the same loads, fence and checks
// (seq even and unchanged, b and cap valid, every slot inside the table), with the key
// length a constant so key_matches keeps only its one-word compare, and without the
// closure whose captures read_stable's callers keep in memory.
[[gnu::always_inline]] inline int Shard::get_word(std::uint64_t h, std::uint64_t key,
                                                   std::uint64_t *value) noexcept {
    ShardControl &c = *ctl_;
    const std::uint64_t s1 = c.seq.load(std::memory_order_acquire);
    const std::uint64_t b = c.active.load(std::memory_order_relaxed);
    const std::uint64_t cap = c.cap.load(std::memory_order_relaxed);
    if (SHMDS_UNLIKELY((s1 & 1) != 0 || b > 1 || !valid_cap(cap))) return kAskGet;
    std::uint64_t slot = 0, exp = 0, lens = 0, v = 0;
    int f = find_home(b, cap, h, Span{&key, sizeof key}, &slot);
    if (f == kPastHome) f = find_word_groups(b, cap, h, key, &slot);
    if (f == 1) {
        const Word *e = entry(b, slot);  // slot < cap <= max_cap: inside the table
        exp = e[kEntryWordExpire].load(std::memory_order_relaxed);
        lens = e[kEntryWordLens].load(std::memory_order_relaxed);
        v = val_area(const_cast<Word *>(e))[0].load(std::memory_order_relaxed);
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (SHMDS_UNLIKELY(c.seq.load(std::memory_order_relaxed) != s1)) return kAskGet;
    if (f == 0) return -ENOENT;
    // An entry with an expiry needs the clock, and a value of another length is damage
    // that get() reports: neither is this lane's to answer.
    if (SHMDS_UNLIKELY(f != 1 || exp != 0 || lens >> 32 != sizeof v)) return kAskGet;
    // A validated hit is marked as finish_read marks it (design §6), so that an evicting
    // map's gets keep this lane (get() costs them about 3.5x).
    if (SHMDS_UNLIKELY(evicting())) mark_visited(b, slot);
    *value = v;
    return 0;
}

}  // namespace shmds::hashmap
