#include "hashmap/shard.hpp"

#include "core/error.hpp"
#include "core/int_range.hpp"
#include "core/failpoint.hpp"
#include "hashmap/txn.hpp"

#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

namespace shmds::hashmap {

namespace {
constexpr std::uint64_t kNone = ~std::uint64_t{0};

std::uint64_t block_size(int cls) noexcept { return kMinBlock << cls; }

// The size class of a block that holds len bytes; -1 above the largest class.
int class_of(std::uint64_t len) noexcept {
    for (int c = 0; c < kArenaClasses; ++c)
        if (block_size(c) >= len) return c;
    return -1;
}

std::uint64_t lens_word(std::uint64_t klen, std::uint64_t vlen) noexcept {
    return klen | vlen << 32;
}
}  // namespace

int corrupt(const char *what) noexcept { return core::fail_static(SHMDS_ECORRUPT, what); }

Shard::Shard(std::uint8_t *seg_base, ShardControl *ctl, std::uint8_t *data, const Geometry *g,
             HashSeed seed, std::atomic<std::uint64_t> *recoveries) noexcept
    : seg_base_(seg_base), ctl_(ctl), data_(data), g_(g), seed_(seed), recoveries_(recoveries) {}

void Shard::initialize(ShardControl *ctl, const Geometry &g) noexcept {
    core::robust_mutex_init(ctl->lock);
    ctl->cap.store(g.max_cap < kMinTable ? g.max_cap : kMinTable, std::memory_order_relaxed);
    // Everything else (tags, counters, free lists, journal) is zero in a new segment.
}

// ---- reading ----------------------------------------------------------------------

const Word *Shard::bytes_at(const Word *area, std::uint64_t area_size,
                            std::uint64_t len) const noexcept {
    if (len <= area_size) return area;
    const std::uint64_t off = area[0].load(std::memory_order_relaxed);
    const int cls = class_of(len);
    if (cls < 0 || off % kMinBlock != 0 || off >= g_->shard_arena ||
        block_size(cls) > g_->shard_arena - off)
        return nullptr;
    return arena_word(off);
}

int Shard::probe(std::uint64_t b, std::uint64_t cap, std::uint64_t h, Span key,
                 std::uint64_t *slot, std::uint64_t *free) const noexcept {
    std::atomic<std::uint8_t> *tg = tags(b);
    const std::uint8_t want = tag_of(h);
    const std::uint64_t mask = cap - 1;
    *free = kNone;
    std::uint64_t i = h & mask;
    for (std::uint64_t n = 0; n < cap; ++n, i = (i + 1) & mask) {
        const std::uint8_t t = tg[i].load(std::memory_order_relaxed);
        if (t == kTagEmpty) {
            if (*free == kNone) *free = i;
            return 0;
        }
        if (t == kTagTombstone) {
            if (*free == kNone) *free = i;
            continue;
        }
        if (t != want) continue;
        const int m = key_matches(entry(b, i), key);
        if (m == 0) continue;
        if (m == 1) *slot = i;
        return m;
    }
    return 0;
}

namespace {
constexpr std::uint64_t kEveryByte = 0x0101010101010101ull;
constexpr std::uint64_t kLow7 = 0x7f7f7f7f7f7f7f7full;

// The zero bytes of w, each as its high bit. Exact (no borrow runs from one byte into
// the next, unlike the shorter (w - 1) & ~w trick), so a hit is always a real tag.
inline std::uint64_t zero_bytes(std::uint64_t w) noexcept {
    return ~(((w & kLow7) + kLow7) | w | kLow7);
}
}  // namespace

// Linear probing in two steps. First the home slot alone (find_home, in shard.hpp so
// that get_word inlines it), by a branch on its tag: the CPU predicts the branch and
// loads the home entry while the tag is still on its way, so the usual get (the key at
// its home slot) waits for one memory access, not for two in a row (matching the home
// group as a bit mask first made the entry's address depend on the tag load, and
// measured slower). Then 8-slot groups: one load gives eight tags, and the tags that
// match and the empty slots come out as bit masks, so a longer probe takes no branch
// per slot. Groups are 8-aligned and cap (16 or more, checked by valid_cap) is
// a multiple of 8, so none straddles the end of the table; the probe wraps round to the
// home group last. Bounds: a group index is below cap / 8 and a slot below cap, both
// within the buffer (cap <= max_cap).
[[gnu::always_inline]] inline int Shard::find_groups(std::uint64_t b, std::uint64_t cap,
                                                      std::uint64_t h, Span key,
                                                      std::uint64_t *slot) const noexcept {
    const std::uint64_t home = h & (cap - 1);
    const std::uint8_t tag = tag_of(h);
    // The tag buffer is cache-line aligned: its words are the tags of slots 8g..8g+7
    // (little-endian: slot 8g+k is byte k). Writers store single tag bytes; a torn or
    // stale word only misleads this probe, which the seqlock then discards.
    const Word *groups = reinterpret_cast<const Word *>(tags(b));
    const std::uint64_t want = std::uint64_t(tag) * kEveryByte;
    const std::uint64_t last_group = cap / 8 - 1;
    std::uint64_t g = home / 8;
    std::uint64_t from = (~std::uint64_t{0} << (home % 8 * 8)) << 8;  // bytes after home
    for (std::uint64_t n = 0; n <= last_group + 1; ++n, g = (g + 1) & last_group) {
        const std::uint64_t w = groups[g].load(std::memory_order_relaxed);
        const std::uint64_t empty = zero_bytes(w) & from;
        std::uint64_t hits = zero_bytes(w ^ want) & from;
        if (empty) hits &= (empty & (0 - empty)) - 1;  // the key lies before an empty slot
        for (; hits; hits &= hits - 1) {
            const std::uint64_t i = g * 8 + std::uint64_t(__builtin_ctzll(hits)) / 8;
            const int m = key_matches(entry(b, i), key);
            if (m == 0) continue;
            if (m == 1) *slot = i;
            return m;
        }
        if (empty) return 0;
        from = ~std::uint64_t{0};
    }
    return 0;
}

[[gnu::always_inline]] inline int Shard::find(std::uint64_t b, std::uint64_t cap, std::uint64_t h,
                                               Span key, std::uint64_t *slot) const noexcept {
    const int r = find_home(b, cap, h, key, slot);
    return r != kPastHome ? r : find_groups(b, cap, h, key, slot);
}

int Shard::find_word_groups(std::uint64_t b, std::uint64_t cap, std::uint64_t h, std::uint64_t key,
                            std::uint64_t *slot) const noexcept {
    return find_groups(b, cap, h, Span{&key, sizeof key}, slot);
}

int Shard::copy_value(const Word *e, OutBuf *out) const noexcept {
    const std::uint64_t vlen = e[kEntryWordLens].load(std::memory_order_relaxed) >> 32;
    *out->len = vlen;
    if (vlen > out->cap) return -ENOBUFS;
    const Word *v = bytes_at(val_area(const_cast<Word *>(e)), g_->val_area, vlen);
    if (!v) return kTorn;
    load_bytes(v, out->buf, vlen);
    return 0;
}

// copy_value with an 8-byte value (integers, f64: always inline) done in place: the
// usual get's copy is then one load and one store.
[[gnu::always_inline]] inline int Shard::read_value(const Word *e, OutBuf *out) const noexcept {
    const std::uint64_t vlen = e[kEntryWordLens].load(std::memory_order_relaxed) >> 32;
    if (vlen == 8 && out->cap >= 8) {
        *out->len = 8;
        const std::uint64_t w = val_area(const_cast<Word *>(e))[0].load(std::memory_order_relaxed);
        std::memcpy(out->buf, &w, 8);
        return 0;
    }
    return copy_value(e, out);
}

int Shard::value_equals(const Word *e, Span val) const noexcept {
    const std::uint64_t vlen = e[kEntryWordLens].load(std::memory_order_relaxed) >> 32;
    if (vlen != val.len) return 0;
    const Word *v = bytes_at(val_area(const_cast<Word *>(e)), g_->val_area, vlen);
    if (!v) return kTorn;
    return equal_bytes(v, val.data, val.len) ? 1 : 0;
}

// A found entry (r: 0 or -ENOBUFS) whose copy is validated: expired is absent; a hit
// on an evicting map sets the entry's visited byte (design §6). Both are rare or cheap
// enough to sit out of line; the common get (no TTL, no eviction) pays two branches.
[[gnu::always_inline]] inline int Shard::finish_read(int r, std::uint64_t b, std::uint64_t slot,
                                                      std::uint64_t exp,
                                                      std::uint64_t *expire) noexcept {
    if (r != 0 && r != -ENOBUFS) return r;
    if (SHMDS_UNLIKELY(exp != 0) && expired_at(exp)) return -ENOENT;
    if (expire) *expire = exp;
    if (r == 0 && SHMDS_UNLIKELY(evicting())) mark_visited(b, slot);
    return r;
}

// Reads treat an entry as absent from its expiry on; the clock is read only for an
// entry that has one (design §7), and exactly only near its expiry (MsClock::passed:
// the exact clock's rdtscp waits for the read's cache misses).
int Shard::expired_at(std::uint64_t exp) const noexcept {
    return clock_->passed(exp, clock_->call_time());
}

int Shard::get(std::uint64_t h, Span key, OutBuf *out, std::uint64_t *expire) noexcept {
    // What the last validated pass found: the later passes overwrite the torn ones'.
    std::uint64_t at_b = 0, slot = 0, exp = 0;
    // always_inline: the pass is the get (find inlined in it), not a call inside it.
    const int r = read_stable([&](std::uint64_t b, std::uint64_t cap) __attribute__((always_inline)) -> int {
        const int f = find(b, cap, h, key, &slot);
        if (f != 1) return f == 0 ? -ENOENT : f;
        const Word *e = entry(b, slot);
        at_b = b;
        exp = e[kEntryWordExpire].load(std::memory_order_relaxed);
        return out ? read_value(e, out) : 0;
    });
    return finish_read(r, at_b, slot, exp, expire);
}

int Shard::read_locked(LockedRead read, void *ctx) noexcept {
    if (read_only_) return corrupt("a frozen hash map's shard is mid-change (damaged)");
    WriteTxn t(*this);
    if (int r = t.status()) return r;
    const std::uint64_t b = ctl_->active.load(std::memory_order_relaxed);
    const std::uint64_t cap = ctl_->cap.load(std::memory_order_relaxed);
    if (b > 1 || !valid_cap(cap)) return corrupt("a hash map shard's table words are damaged");
    const int r = read(ctx, b, cap);
    return r == kTorn ? corrupt("a hash map entry is out of bounds") : r;
}

ShardSnapshot Shard::snapshot() const noexcept {
    ShardSnapshot s;
    s.size = ctl_->size.load(std::memory_order_relaxed);
    s.cap = ctl_->cap.load(std::memory_order_relaxed);
    s.tombstones = ctl_->tombstones.load(std::memory_order_relaxed);
    s.arena_used = ctl_->arena_used.load(std::memory_order_relaxed);
    s.resizes = ctl_->resizes.load(std::memory_order_relaxed);
    s.evictions = ctl_->aging.evictions.load(std::memory_order_relaxed);
    s.expirations = ctl_->aging.expirations.load(std::memory_order_relaxed);
    return s;
}

// ---- repair -----------------------------------------------------------------------

void Shard::repair() noexcept {
    journal().repair();
    // The rolled-back change's write window closes: readers may trust the shard again.
    const std::uint64_t s = ctl_->seq.load(std::memory_order_relaxed);
    if (s & 1) ctl_->seq.store(s + 1, std::memory_order_release);
}

// ---- arena ------------------------------------------------------------------------

int Shard::arena_alloc(WriteTxn &t, std::uint64_t len, std::uint64_t *off) noexcept {
    const int cls = class_of(len);
    if (cls < 0 || block_size(cls) > g_->shard_arena)
        return core::fail(-E2BIG, "{} bytes exceed the hash map's largest arena block ({} bytes)",
                          len, g_->shard_arena);
    const std::uint64_t size = block_size(cls);
    Word &head = ctl_->free_head[cls];
    const std::uint64_t h = head.load(std::memory_order_relaxed);
    if (h != 0) {
        const std::uint64_t o = h - 1;
        if (o % kMinBlock != 0 || o >= g_->shard_arena || size > g_->shard_arena - o)
            return corrupt("a hash map arena free list is damaged");
        Word *link = arena_word(o);
        const std::uint64_t next = link->load(std::memory_order_relaxed);
        t.save(link);  // the payload about to be written overwrites the link
        t.set(&head, next);
        SHMDS_FAILPOINT("hashmap.arena.block_taken");
        *off = o;
    } else {
        const std::uint64_t bump = ctl_->arena_bump.load(std::memory_order_relaxed);
        if (bump % kMinBlock != 0) return corrupt("a hash map arena's bump word is damaged");
        if (bump > g_->shard_arena || size > g_->shard_arena - bump)
            return core::fail(-ENOSPC,
                              "the hash map's arena is full ({} of {} bytes per shard in use); "
                              "create it with a larger arena_bytes",
                              ctl_->arena_used.load(std::memory_order_relaxed), g_->shard_arena);
        t.set(&ctl_->arena_bump, bump + size);
        *off = bump;
    }
    t.add(&ctl_->arena_used, std::int64_t(size));
    return 0;
}

int Shard::arena_free(WriteTxn &t, std::uint64_t off, std::uint64_t len) noexcept {
    const int cls = class_of(len);
    if (cls < 0) return corrupt("a hash map entry's length is damaged");
    if (off % kMinBlock != 0 || off >= g_->shard_arena || block_size(cls) > g_->shard_arena - off)
        return corrupt("a hash map entry's arena offset is damaged");
    Word &head = ctl_->free_head[cls];
    t.set(arena_word(off), head.load(std::memory_order_relaxed));
    t.set(&head, off + 1);
    t.add(&ctl_->arena_used, -std::int64_t(block_size(cls)));
    return 0;
}

// Write s into an area: inline if it fits, else into a new arena block whose offset
// goes in the area's first word. journal: the area belongs to a published entry.
int Shard::store_string(WriteTxn &t, Word *area, std::uint64_t area_size, Span s,
                        bool journal) noexcept {
    t.open();
    if (s.len <= area_size) {
        for (std::uint64_t k = 0; k < area_size / 8; ++k) {
            const std::uint64_t w = word_of(s.data, s.len, k);
            if (journal) t.set(&area[k], w);
            else area[k].store(w, std::memory_order_relaxed);
        }
        return 0;
    }
    std::uint64_t off;
    if (int r = arena_alloc(t, s.len, &off)) return r;
    store_bytes(arena_word(off), s.data, s.len);  // a fresh block: nothing refers to it
    if (journal) t.set(&area[0], off);
    else area[0].store(off, std::memory_order_relaxed);
    return 0;
}

// ---- writing ----------------------------------------------------------------------

// Copy the full slot i of buffer b into the table nb of new_cap slots (tags of nb
// cleared beforehand): its new slot, or kNone when the entry is damaged or the table
// has no room (more entries than counted).
std::uint64_t Shard::place(std::uint64_t b, std::uint64_t i, std::uint64_t nb,
                           std::uint64_t new_cap) noexcept {
    std::atomic<std::uint8_t> *to = tags(nb);
    const std::uint64_t mask = new_cap - 1, words = g_->stride / 8;
    Word *e = entry(b, i);
    const std::uint64_t klen = e[kEntryWordLens].load(std::memory_order_relaxed) & 0xffffffffu;
    const Word *k = bytes_at(key_area(e), g_->key_area, klen);
    if (!k) return kNone;
    // Under the lock nobody changes the key: hash it where it lies.
    const std::uint64_t h = hash({reinterpret_cast<const void *>(k), klen});
    std::uint64_t j = h & mask;
    for (std::uint64_t n = 0; to[j].load(std::memory_order_relaxed) != kTagEmpty; ++n) {
        if (n == new_cap) return kNone;
        j = (j + 1) & mask;
    }
    Word *dst = entry(nb, j);
    for (std::uint64_t w = 0; w < words; ++w)
        dst[w].store(e[w].load(std::memory_order_relaxed), std::memory_order_relaxed);
    to[j].store(tags(b)[i].load(std::memory_order_relaxed), std::memory_order_relaxed);
    return j;
}

int Shard::rebuild(WriteTxn &t, std::uint64_t new_cap) noexcept {
    t.open();
    const std::uint64_t b = ctl_->active.load(std::memory_order_relaxed);
    const std::uint64_t cap = ctl_->cap.load(std::memory_order_relaxed);
    const std::uint64_t nb = 1 - b;
    std::atomic<std::uint8_t> *from = tags(b), *to = tags(nb);
    for (std::uint64_t i = 0; i < new_cap; ++i) to[i].store(kTagEmpty, std::memory_order_relaxed);
    if (evicting()) {
        // In list order, so the eviction order survives (design §6).
        if (int r = relink_into(t, nb, new_cap)) return r;
    } else {
        for (std::uint64_t i = 0; i < cap; ++i) {
            if (from[i].load(std::memory_order_relaxed) < kTagFull) continue;
            if (place(b, i, nb, new_cap) == kNone)
                return corrupt("a hash map entry is damaged or the shard holds more entries "
                               "than it counts");
        }
    }
    // A partial expiry sweep restarts on the new table (a hint: not journaled).
    ctl_->aging.flush_cursor.store(0, std::memory_order_relaxed);
    SHMDS_FAILPOINT("hashmap.rebuild.copied");
    t.set(&ctl_->active, nb);
    t.set(&ctl_->cap, new_cap);
    t.set(&ctl_->tombstones, 0);
    t.add(&ctl_->resizes, 1);
    t.commit();
    // The old buffer leaves this process's resident set; its memory stays with the
    // segment, so a later regrow never faults for lack of it (design §5).
    const long page = sysconf(_SC_PAGESIZE);
    auto lo = core::align_up(reinterpret_cast<std::uintptr_t>(entry(b, 0)), std::uint64_t(page));
    auto hi = reinterpret_cast<std::uintptr_t>(entry(b, g_->max_cap)) & ~std::uintptr_t(page - 1);
    if (hi > lo) (void)madvise(reinterpret_cast<void *>(lo), hi - lo, MADV_DONTNEED);
    return 0;
}

int Shard::insert(WriteTxn &t, std::uint64_t h, Span key, Span val, std::uint64_t free,
                  std::uint64_t ttl_ms) noexcept {
    std::uint64_t size = ctl_->size.load(std::memory_order_relaxed);
    std::uint64_t b = ctl_->active.load(std::memory_order_relaxed);
    std::uint64_t cap = ctl_->cap.load(std::memory_order_relaxed);
    std::uint64_t slot;
    // A full shard makes room by evicting (evicting maps, below) or by reclaiming its
    // expired entries (one pass, so a map full of expired entries pays it once, not per
    // insert); without either the insert fails and only invisible entries went.
    const bool full = size >= g_->shard_max;
    if (full && !evicting()) {
        const int n = reclaim_all_expired(t);
        if (n < 0) return n;
        if (n == 0)
            return core::fail(-ENOSPC, "the hash map is full ({} entries{})", g_->shard_max,
                              g_->shards > 1 ? " in this key's shard" : "");
        size = ctl_->size.load(std::memory_order_relaxed);
        if (probe(b, cap, h, key, &slot, &free) != 0)  // the probe path may have changed
            return corrupt("a hash map shard changed under its lock");
    }
    const bool evict = full && evicting();
    if (free == kNone) return corrupt("a hash map shard has no free slot on a probe path");
    // An evicting shard at its ceiling churns tombstones at a steady size: compacting at
    // 7/8 instead of 3/4 leaves room for cap/8 of them between rebuilds, where 3/4 could
    // mean a rebuild per insert (the table may be sized exactly 4/3 of the entries).
    const std::uint64_t load = size + ctl_->tombstones.load(std::memory_order_relaxed) + 1;
    const bool over = evict && cap == g_->max_cap ? load * 8 > cap * 7 : load * 4 > cap * 3;
    if (tags(b)[free].load(std::memory_order_relaxed) == kTagEmpty && over) {
        // Grow when the live entries alone would fill half the table, else compact.
        const std::uint64_t new_cap = (size + 1) * 2 > cap && cap < g_->max_cap ? cap * 2 : cap;
        if (int r = rebuild(t, new_cap)) return r;
        b = ctl_->active.load(std::memory_order_relaxed);
        cap = new_cap;
        if (probe(b, new_cap, h, key, &slot, &free) != 0 || free == kNone)
            return corrupt("a hash map shard changed under its lock");
    }
    // The victim is chosen before the new entry joins the list (so it is never the new
    // entry) and erased after it is written: a slot or arena block freed by this change
    // is then never reused by it, so undoing the change finds the victim intact.
    std::uint64_t victim = kNone;
    if (evict)
        if (int r = sieve_victim(b, cap, &victim)) return r;
    Word *e = entry(b, free);
    // The slot is free: nothing refers to it until its tag says full.
    if (int r = store_string(t, key_area(e), g_->key_area, key, false)) return r;
    if (int r = store_string(t, val_area(e), g_->val_area, val, false)) return r;
    e[kEntryWordExpire].store(expiry_for(ttl_ms), std::memory_order_relaxed);
    e[kEntryWordLens].store(lens_word(key.len, val.len), std::memory_order_relaxed);
    SHMDS_FAILPOINT("hashmap.put.entry_written");
    std::atomic<std::uint8_t> *tag = &tags(b)[free];
    if (tag->load(std::memory_order_relaxed) == kTagTombstone) t.add(&ctl_->tombstones, -1);
    t.set_tag(tag, tag_of(h));
    SHMDS_FAILPOINT("hashmap.put.tag_set");
    if (evicting())
        if (int r = list_push_newest(t, b, free)) return r;
    t.add(&ctl_->size, 1);
    if (evict) {
        if (int r = evict_slot(t, victim)) return r;
        // SIEVE evicts before it inserts: a hand that moved past the newest entry wraps
        // to the oldest rather than resting on the entry just inserted.
        if (ctl_->aging.hand.load(std::memory_order_relaxed) == free + 1) t.set(&ctl_->aging.hand, 0);
    }
    return 0;
}

int Shard::replace_value(WriteTxn &t, Word *e, Span val) noexcept {
    const std::uint64_t lens = e[kEntryWordLens].load(std::memory_order_relaxed);
    const std::uint64_t old_len = lens >> 32;
    Word *area = val_area(e);
    const bool old_in_arena = old_len > g_->val_area;
    const std::uint64_t old_off = area[0].load(std::memory_order_relaxed);
    if (old_in_arena && !bytes_at(area, g_->val_area, old_len))
        return corrupt("a hash map value is out of bounds");
    // New block first, old block freed last: a block freed here is never reused by the
    // same change, so undoing it finds the old bytes intact (design §4).
    if (int r = store_string(t, area, g_->val_area, val, true)) return r;
    // The area holds the new value and the length word the old one's length: a reader
    // that copied now, without the seqlock, would return a torn value.
    SHMDS_FAILPOINT("hashmap.put.value_pointed");
    t.set(&e[kEntryWordLens], lens_word(lens & 0xffffffffu, val.len));
    SHMDS_FAILPOINT("hashmap.put.value_replaced");
    if (old_in_arena) return arena_free(t, old_off, old_len);
    return 0;
}

int Shard::erase(WriteTxn &t, std::uint64_t slot) noexcept {
    const std::uint64_t b = ctl_->active.load(std::memory_order_relaxed);
    const std::uint64_t cap = ctl_->cap.load(std::memory_order_relaxed);
    Word *e = entry(b, slot);
    const std::uint64_t lens = e[kEntryWordLens].load(std::memory_order_relaxed);
    const std::uint64_t klen = lens & 0xffffffffu, vlen = lens >> 32;
    const std::uint64_t koff = key_area(e)[0].load(std::memory_order_relaxed);
    const std::uint64_t voff = val_area(e)[0].load(std::memory_order_relaxed);
    if (!bytes_at(key_area(e), g_->key_area, klen) || !bytes_at(val_area(e), g_->val_area, vlen))
        return corrupt("a hash map entry is out of bounds");
    // Linear probing: a slot followed by an empty one ends every probe path through it,
    // so it can become empty instead of a tombstone.
    if (evicting())
        if (int r = list_unlink(t, b, cap, slot)) return r;
    std::atomic<std::uint8_t> *tg = tags(b);
    const bool tomb = tg[(slot + 1) & (cap - 1)].load(std::memory_order_relaxed) != kTagEmpty;
    t.set_tag(&tg[slot], tomb ? kTagTombstone : kTagEmpty);
    SHMDS_FAILPOINT("hashmap.remove.tag_cleared");
    if (klen > g_->key_area)
        if (int r = arena_free(t, koff, klen)) return r;
    if (vlen > g_->val_area)
        if (int r = arena_free(t, voff, vlen)) return r;
    t.add(&ctl_->size, -1);
    if (tomb) t.add(&ctl_->tombstones, 1);
    return 0;
}

void Shard::maybe_shrink(WriteTxn &t) noexcept {
    const std::uint64_t cap = ctl_->cap.load(std::memory_order_relaxed);
    if (cap <= kMinTable || ctl_->size.load(std::memory_order_relaxed) * 4 >= cap) return;
    if (shrink_hold_ && shrink_hold_->load(std::memory_order_relaxed) != 0)
        return;  // this handle's cursors are walking: a later remove shrinks (design §8)
    t.commit();  // the removal stands whatever happens to the shrink
    (void)rebuild(t, cap / 2);
}

// Check the table words and probe, the lock held: the start of every writer verb.
#define PROBE_HELD(h, key, slot, free, found)                                            \
    const std::uint64_t b_ = ctl_->active.load(std::memory_order_relaxed);               \
    const std::uint64_t cap_ = ctl_->cap.load(std::memory_order_relaxed);                \
    if (b_ > 1 || !valid_cap(cap_)) return corrupt("a hash map shard's table words are damaged"); \
    std::uint64_t slot = kNone, free = kNone;                                            \
    const int found = probe_live(t, b_, cap_, h, key, &slot, &free);                     \
    if (found < 0) return found;                                                         \
    if (found == kTorn) return corrupt("a hash map entry is out of bounds");             \
    Word *const e_ = found ? entry(b_, slot) : nullptr;                                  \
    (void)e_

// Lock (refused on a frozen map), then PROBE_HELD.
#define LOCKED_PROBE(t, h, key, slot, free, found)                                       \
    WriteTxn t(*this);                                                                   \
    if (int r_ = t.writable()) return r_;                                                \
    PROBE_HELD(h, key, slot, free, found)

int Shard::write(std::uint64_t h, Span key, Span val, WriteMode mode, OutBuf *old,
                 std::uint64_t ttl_ms) noexcept {
    WriteTxn t(*this);
    if (int r = t.writable()) return r;
    return write_locked(t, h, key, val, mode, old, ttl_ms);
}

int Shard::write_locked(WriteTxn &t, std::uint64_t h, Span key, Span val, WriteMode mode,
                        OutBuf *old, std::uint64_t ttl_ms) noexcept {
    PROBE_HELD(h, key, slot, free, found);
    if (found) {
        if (mode == WriteMode::add) return core::fail_static(-EEXIST, "the key is already present");
        if (old) {
            const int r = copy_value(e_, old);
            if (r == kTorn) return corrupt("a hash map value is out of bounds");
            if (r) return core::fail(r, "the old value needs {} bytes", *old->len);
        }
        if (int r = replace_value(t, e_, val)) return r;
        // An overwrite sets the expiry anew, as an insert would.
        const std::uint64_t exp = expiry_for(ttl_ms);
        if (e_[kEntryWordExpire].load(std::memory_order_relaxed) != exp)
            t.set(&e_[kEntryWordExpire], exp);
        t.commit();
        return mode == WriteMode::swap ? 1 : 0;
    }
    if (mode == WriteMode::update) return core::fail_static(-ENOENT, "no such key");
    if (int r = insert(t, h, key, val, free, ttl_ms)) return r;
    t.commit();
    return 0;
}

int Shard::remove(std::uint64_t h, Span key, OutBuf *old) noexcept {
    WriteTxn t(*this);
    if (int r = t.writable()) return r;
    return remove_locked(t, h, key, old);
}

int Shard::remove_locked(WriteTxn &t, std::uint64_t h, Span key, OutBuf *old) noexcept {
    PROBE_HELD(h, key, slot, free, found);
    if (!found) return core::fail_static(-ENOENT, "no such key");
    if (old) {
        const int r = copy_value(e_, old);
        if (r == kTorn) return corrupt("a hash map value is out of bounds");
        if (r) return core::fail(r, "the value needs {} bytes", *old->len);
    }
    if (int r = erase(t, slot)) return r;
    maybe_shrink(t);
    t.commit();
    return 0;
}

int Shard::cas(std::uint64_t h, Span key, Span expected, Span desired) noexcept {
    LOCKED_PROBE(t, h, key, slot, free, found);
    if (!found) return core::fail_static(-ENOENT, "no such key");
    const int eq = value_equals(e_, expected);
    if (eq == kTorn) return corrupt("a hash map value is out of bounds");
    if (!eq) return core::fail_static(-ECANCELED, "the value differs from the expected one");
    if (int r = replace_value(t, e_, desired)) return r;
    t.commit();
    return 0;
}

int Shard::get_or_set(std::uint64_t h, Span key, Span val, OutBuf *out) noexcept {
    LOCKED_PROBE(t, h, key, slot, free, found);
    if (found) {
        const int r = copy_value(e_, out);
        if (r == kTorn) return corrupt("a hash map value is out of bounds");
        if (r) return core::fail(r, "the stored value needs {} bytes", *out->len);
        return 1;
    }
    *out->len = val.len;
    if (val.len > out->cap) return core::fail(-ENOBUFS, "the value needs {} bytes", val.len);
    if (int r = insert(t, h, key, val, free)) return r;
    t.commit();
    if (val.len) std::memcpy(out->buf, val.data, val.len);
    return 0;
}

int Shard::incr_by(std::uint64_t h, Span key, std::int64_t delta, int bits,
                   std::int64_t *out) noexcept {
    LOCKED_PROBE(t, h, key, slot, free, found);
    std::int64_t now = 0;
    if (found) {
        const std::uint64_t vlen = e_[kEntryWordLens].load(std::memory_order_relaxed) >> 32;
        if (vlen != 8) return corrupt("a hash map counter is not 8 bytes long");
        now = std::int64_t(val_area(e_)[0].load(std::memory_order_relaxed));
    }
    std::int64_t next;
    if (__builtin_add_overflow(now, delta, &next))
        return core::fail(-ERANGE, "{} + {} overflows a 64-bit counter", now, delta);
    if (int r = core::check_int_range(next, bits, "the hash map's counter type")) return r;
    if (found) {
        t.set(&val_area(e_)[0], std::uint64_t(next));
    } else if (int r = insert(t, h, key, {&next, 8}, free)) {
        return r;
    }
    t.commit();
    *out = next;
    return 0;
}

int Shard::cas_take(std::uint64_t h, Span key, Span expected) noexcept {
    LOCKED_PROBE(t, h, key, slot, free, found);
    if (!found) return core::fail_static(-ENOENT, "no such key");
    const int eq = value_equals(e_, expected);
    if (eq == kTorn) return corrupt("a hash map value is out of bounds");
    if (!eq) return core::fail_static(-ECANCELED, "the value differs from the expected one");
    if (int r = erase(t, slot)) return r;
    maybe_shrink(t);
    t.commit();
    return 0;
}

int Shard::minmax(std::uint64_t h, Span key, std::int64_t v, bool is_max,
                  std::int64_t *out) noexcept {
    LOCKED_PROBE(t, h, key, slot, free, found);
    if (!found) {
        if (int r = insert(t, h, key, {&v, 8}, free)) return r;
        t.commit();
        *out = v;
        return 1;
    }
    const std::uint64_t vlen = e_[kEntryWordLens].load(std::memory_order_relaxed) >> 32;
    if (vlen != 8) return corrupt("a hash map counter is not 8 bytes long");
    Word *w = &val_area(e_)[0];
    const std::int64_t now = std::int64_t(w->load(std::memory_order_relaxed));
    if (is_max ? v <= now : v >= now) {
        *out = now;
        return 0;  // nothing to write: the lock is released without opening the window
    }
    t.set(w, std::uint64_t(v));
    SHMDS_FAILPOINT("hashmap.minmax.value_set");
    t.commit();
    *out = v;
    return 1;
}

#undef LOCKED_PROBE
#undef PROBE_HELD

}  // namespace shmds::hashmap
