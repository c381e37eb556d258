// Shard verbs that act on the whole shard rather than one key: reserve, clear, the
// max_probe diagnostic, the freeze barrier; and the cursor reads (design §8).
#include "core/error.hpp"
#include "core/failpoint.hpp"
#include "hashmap/shard.hpp"
#include "hashmap/txn.hpp"

#include <cerrno>
#include <memory>
#include <new>

namespace shmds::hashmap {

const Word *Shard::frozen_word() const noexcept {
    return &reinterpret_cast<const MapControl *>(seg_base_ + g_->map_control_off)->frozen;
}

std::uint64_t Shard::generation() const noexcept {
    return ctl_->resizes.load(std::memory_order_acquire);
}

int Shard::reserve(std::uint64_t entries) noexcept {
    // An insert rebuilds once (size + tombstones + 1) * 4 > cap * 3 (shard.cpp insert),
    // so `entries` fit without one in cap >= ceil(4 * entries / 3).
    std::uint64_t want = core::round_up_pow2((entries * 4 + 2) / 3);
    if (want < kMinTable) want = kMinTable;
    if (want > g_->max_cap) want = g_->max_cap;
    WriteTxn t(*this);
    if (int r = t.writable()) return r;
    const std::uint64_t b = ctl_->active.load(std::memory_order_relaxed);
    const std::uint64_t cap = ctl_->cap.load(std::memory_order_relaxed);
    if (b > 1 || !valid_cap(cap)) return corrupt("a hash map shard's table words are damaged");
    if (cap >= want) return 0;
    return rebuild(t, want);
}

// Like a rebuild into an empty table: the scratch buffer's tags are cleared (nothing
// refers to them), then one committed step flips to it and resets the counters and
// the arena. A writer killed before the commit leaves every entry in place.
int Shard::clear(std::uint64_t *removed) noexcept {
    *removed = 0;
    WriteTxn t(*this);
    if (int r = t.writable()) return r;
    const std::uint64_t b = ctl_->active.load(std::memory_order_relaxed);
    const std::uint64_t cap = ctl_->cap.load(std::memory_order_relaxed);
    if (b > 1 || !valid_cap(cap)) return corrupt("a hash map shard's table words are damaged");
    const std::uint64_t size = ctl_->size.load(std::memory_order_relaxed);
    const std::uint64_t new_cap = g_->max_cap < kMinTable ? g_->max_cap : kMinTable;
    t.open();
    const std::uint64_t nb = 1 - b;
    std::atomic<std::uint8_t> *to = tags(nb);
    for (std::uint64_t i = 0; i < new_cap; ++i) to[i].store(kTagEmpty, std::memory_order_relaxed);
    if (evicting()) {
        // The scratch buffer's marks too (nothing refers to them), so no entry of the
        // emptied map starts with a stale mark.
        std::atomic<std::uint8_t> *seen = visited(nb);
        for (std::uint64_t i = 0; i < new_cap; ++i) seen[i].store(0, std::memory_order_relaxed);
    }
    SHMDS_FAILPOINT("hashmap.clear.emptied");
    t.set(&ctl_->active, nb);
    t.set(&ctl_->cap, new_cap);
    t.set(&ctl_->size, 0);
    t.set(&ctl_->tombstones, 0);
    t.set(&ctl_->arena_bump, 0);
    t.set(&ctl_->arena_used, 0);
    for (int c = 0; c < kArenaClasses; ++c)  // at most 28 of the journal's 64 records
        if (ctl_->free_head[c].load(std::memory_order_relaxed) != 0) t.set(&ctl_->free_head[c], 0);
    // The eviction list and its hand point into the old table: the empty map has neither.
    AgingControl &a = ctl_->aging;
    if (a.newest.load(std::memory_order_relaxed) != 0) t.set(&a.newest, 0);
    if (a.oldest.load(std::memory_order_relaxed) != 0) t.set(&a.oldest, 0);
    if (a.hand.load(std::memory_order_relaxed) != 0) t.set(&a.hand, 0);
    // A partial expiry sweep starts the new table from slot 0 (a hint: not journaled).
    a.flush_cursor.store(0, std::memory_order_relaxed);
    t.add(&ctl_->resizes, 1);  // the generation: cursors in this shard are invalidated
    t.commit();
    *removed = size;
    return 0;
}

// A diagnostic for stats, which never blocks and never fails: one pass over the live
// table inside the seqlock window, retried a few times while writers move it (after
// that the last pass stands, approximate like every stat). Keys are copied out word by
// word like every lock-free read; one that is out of bounds (torn or damaged) is
// skipped.
std::uint64_t Shard::max_probe() const noexcept {
    unsigned char local[256];
    std::unique_ptr<unsigned char[]> heap;
    std::uint64_t heap_size = 0, longest = 0;
    for (int tries = 0; tries < 8; ++tries) {
        const std::uint64_t s1 = ctl_->seq.load(std::memory_order_acquire);
        const std::uint64_t b = ctl_->active.load(std::memory_order_relaxed);
        const std::uint64_t cap = ctl_->cap.load(std::memory_order_relaxed);
        longest = 0;
        if (b <= 1 && valid_cap(cap)) {
            std::atomic<std::uint8_t> *tg = tags(b);
            for (std::uint64_t i = 0; i < cap; ++i) {
                if (tg[i].load(std::memory_order_relaxed) < kTagFull) continue;
                Word *e = entry(b, i);
                const std::uint64_t klen =
                    e[kEntryWordLens].load(std::memory_order_relaxed) & 0xffffffffu;
                const Word *k = bytes_at(key_area(e), g_->key_area, klen);
                if (!k) continue;
                unsigned char *buf = local;
                if (klen > sizeof local) {
                    if (klen > heap_size) {
                        heap.reset(new (std::nothrow) unsigned char[klen]);
                        heap_size = heap ? klen : 0;
                    }
                    if (!heap) continue;
                    buf = heap.get();
                }
                load_bytes(k, buf, klen);
                const std::uint64_t h = hash({buf, klen});
                const std::uint64_t dist = ((i - (h & (cap - 1))) & (cap - 1)) + 1;
                if (dist > longest) longest = dist;
            }
        }
        std::atomic_thread_fence(std::memory_order_acquire);
        if (!(s1 & 1) && ctl_->seq.load(std::memory_order_relaxed) == s1) break;
    }
    return longest;
}

int Shard::quiesce() noexcept {
    WriteTxn t(*this);  // waits for the holder; a dead one is taken over and rolled back
    return t.status();
}

// ---- cursor reads -----------------------------------------------------------------

int Shard::copy_key(const Word *e, OutBuf *out) const noexcept {
    const std::uint64_t klen = e[kEntryWordLens].load(std::memory_order_relaxed) & 0xffffffffu;
    *out->len = klen;
    if (klen > out->cap) return -ENOBUFS;
    const Word *k = bytes_at(key_area(const_cast<Word *>(e)), g_->key_area, klen);
    if (!k) return kTorn;
    load_bytes(k, out->buf, klen);
    return 0;
}

int Shard::cursor_read(std::uint64_t *gen, std::uint64_t *slot, OutBuf *key,
                       OutBuf *val) noexcept {
    std::uint64_t found = 0, now = 0;
    const int r = read_stable([&](std::uint64_t b, std::uint64_t cap) -> int {
        now = ctl_->resizes.load(std::memory_order_relaxed);
        if (*gen != kAnyGeneration && now != *gen) return -ESTALE;
        std::atomic<std::uint8_t> *tg = tags(b);
        for (std::uint64_t i = *slot; i < cap; ++i) {
            if (tg[i].load(std::memory_order_relaxed) < kTagFull) continue;
            const Word *e = entry(b, i);
            if (expired(e)) continue;  // absent for every reader (design §7)
            if (key)
                if (int k = copy_key(e, key)) return k;
            if (val)
                if (int v = copy_value(e, val)) return v;
            found = i;
            return 1;
        }
        return 0;
    });
    if (r == -ESTALE)
        return core::fail_static(-ESTALE,
                                 "the hash map's table was rebuilt (grown, shrunk, compacted or "
                                 "cleared) under the cursor; reset it");
    if (r == 1) {
        *gen = now;
        *slot = found + 1;
    } else if (r == 0 && *gen == kAnyGeneration) {
        *gen = now;
    }
    return r;
}

int Shard::find_slot(std::uint64_t h, Span key, std::uint64_t *slot, std::uint64_t *gen) noexcept {
    std::uint64_t at = 0, now = 0;
    const int r = read_stable([&](std::uint64_t b, std::uint64_t cap) -> int {
        now = ctl_->resizes.load(std::memory_order_relaxed);
        std::uint64_t free;
        const int p = probe(b, cap, h, key, &at, &free);
        if (p == 1 && expired(entry(b, at))) return -ENOENT;  // absent, as for get()
        return p == 1 ? 0 : p == 0 ? -ENOENT : p;
    });
    if (r == 0) {
        *slot = at;
        *gen = now;
    } else if (r == -ENOENT) {
        core::fail_static(-ENOENT, "no such key");
    }
    return r;
}

}  // namespace shmds::hashmap
