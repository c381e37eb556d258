// Eviction for maps created with SHMDS_HASHMAP_EVICT (design §6): SIEVE.
//
// Each shard keeps its entries in a FIFO list in insertion order (newest at the head,
// oldest at the tail) through a per-slot list word, and a hand. A hit sets the entry's
// visited byte (a reader does it without the lock, see Shard::finish_read). To make
// room, the hand walks from where it stopped (or the tail) towards the head: a visited
// entry is cleared and passed over, the first unvisited one is evicted and the hand
// moves on to its newer neighbour. Hits never relink anything, so readers stay
// store-free apart from that one byte.
//
// List words and the shard's newest/oldest/hand words change through the journal, so
// a writer killed mid-change leaves the list as it was. Visited bytes are hints and are
// not journaled: losing a clear only gives an entry one more chance.
#include "core/error.hpp"
#include "core/failpoint.hpp"
#include "hashmap/shard.hpp"
#include "hashmap/txn.hpp"

#include <cerrno>

namespace shmds::hashmap {

namespace {
// List positions are slot + 1 so that 0 means none.
std::uint64_t older_of(std::uint64_t w) noexcept { return w & 0xffffffffu; }
std::uint64_t newer_of(std::uint64_t w) noexcept { return w >> 32; }
std::uint64_t link_word(std::uint64_t older, std::uint64_t newer) noexcept {
    return older | newer << 32;
}
int damaged_list() noexcept {
    return core::fail_static(SHMDS_ECORRUPT, "a hash map shard's eviction list is damaged");
}
}  // namespace

int Shard::list_push_newest(WriteTxn &t, std::uint64_t b, std::uint64_t slot) noexcept {
    AgingControl &a = ctl_->aging;
    Word *l = links(b);
    const std::uint64_t head = a.newest.load(std::memory_order_relaxed);
    const std::uint64_t cap = ctl_->cap.load(std::memory_order_relaxed);
    if (head > cap) return damaged_list();
    // The new slot is in no list yet: its own word needs no journal.
    l[slot].store(link_word(head, 0), std::memory_order_relaxed);
    visited(b)[slot].store(0, std::memory_order_relaxed);
    if (head) t.set(&l[head - 1], link_word(older_of(l[head - 1].load(std::memory_order_relaxed)), slot + 1));
    else t.set(&a.oldest, slot + 1);
    t.set(&a.newest, slot + 1);
    SHMDS_FAILPOINT("hashmap.evict.linked");
    return 0;
}

int Shard::list_unlink(WriteTxn &t, std::uint64_t b, std::uint64_t cap, std::uint64_t slot) noexcept {
    AgingControl &a = ctl_->aging;
    Word *l = links(b);
    const std::uint64_t w = l[slot].load(std::memory_order_relaxed);
    const std::uint64_t older = older_of(w), newer = newer_of(w);
    if (older > cap || newer > cap) return damaged_list();
    if (older) {
        t.set(&l[older - 1], link_word(older_of(l[older - 1].load(std::memory_order_relaxed)), newer));
    } else {
        if (a.oldest.load(std::memory_order_relaxed) != slot + 1) return damaged_list();
        t.set(&a.oldest, newer);
    }
    if (newer) {
        t.set(&l[newer - 1], link_word(older, newer_of(l[newer - 1].load(std::memory_order_relaxed))));
    } else {
        if (a.newest.load(std::memory_order_relaxed) != slot + 1) return damaged_list();
        t.set(&a.newest, older);
    }
    // The hand never rests on a removed entry: it moves on towards the head, where the
    // walk would have gone next.
    if (a.hand.load(std::memory_order_relaxed) == slot + 1) t.set(&a.hand, newer);
    return 0;
}

// The entry SIEVE evicts next; clears the visited bytes it passes. An expired entry is
// taken at once (nothing is gained by keeping it).
int Shard::sieve_victim(std::uint64_t b, std::uint64_t cap, std::uint64_t *slot) noexcept {
    const AgingControl &a = ctl_->aging;
    const Word *l = links(b);
    std::atomic<std::uint8_t> *seen = visited(b), *tg = tags(b);
    // One lap clears every mark, so two laps always end the walk, even with readers
    // marking entries again behind the hand: then the entry under the hand goes.
    const std::uint64_t laps = 2 * ctl_->size.load(std::memory_order_relaxed) + 2;
    std::uint64_t pos = a.hand.load(std::memory_order_relaxed);
    for (std::uint64_t n = 0;; ++n) {
        if (pos == 0) pos = a.oldest.load(std::memory_order_relaxed);  // wrap to the tail
        if (pos == 0 || pos > cap || tg[pos - 1].load(std::memory_order_relaxed) < kTagFull)
            return damaged_list();
        const std::uint64_t i = pos - 1;
        if (n >= laps || seen[i].load(std::memory_order_relaxed) == 0 || expired(entry(b, i))) {
            *slot = i;
            return 0;
        }
        seen[i].store(0, std::memory_order_relaxed);
        pos = newer_of(l[i].load(std::memory_order_relaxed));
    }
}

// The one rule for marks (design §6): a verb that finds its key present and live
// counts as an access. Lock-free readers mark in finish_read; writers through
// probe_live. The byte is written only when clear, so an entry that is hit again and
// again dirties its line once, not on every hit.
void Shard::mark_visited(std::uint64_t b, std::uint64_t slot) noexcept {
    if (!evicting() || read_only_) return;
    std::atomic<std::uint8_t> &v = visited(b)[slot];
    if (v.load(std::memory_order_relaxed) == 0) v.store(1, std::memory_order_relaxed);
}

int Shard::evict_slot(WriteTxn &t, std::uint64_t slot) noexcept {
    const std::uint64_t b = ctl_->active.load(std::memory_order_relaxed);
    const bool was_expired = expired(entry(b, slot));
    t.set(&ctl_->aging.hand, slot + 1);  // unlinking it moves the hand on
    if (int r = erase(t, slot)) return r;
    SHMDS_FAILPOINT("hashmap.evict.erased");
    t.add(was_expired ? &ctl_->aging.expirations : &ctl_->aging.evictions, 1);
    return 0;
}

int Shard::evict_entry(bool newest, OutBuf *key, OutBuf *val) noexcept {
    WriteTxn t(*this);
    if (int r = t.writable()) return r;  // -EROFS once frozen
    for (;;) {
        const std::uint64_t b = ctl_->active.load(std::memory_order_relaxed);
        const std::uint64_t cap = ctl_->cap.load(std::memory_order_relaxed);
        if (b > 1 || !valid_cap(cap)) return corrupt("a hash map shard's table words are damaged");
        if (ctl_->size.load(std::memory_order_relaxed) == 0)
            return core::fail_static(-ENOENT, "the hash map shard is empty");
        std::uint64_t slot;
        if (newest) {
            const std::uint64_t head = ctl_->aging.newest.load(std::memory_order_relaxed);
            if (head == 0 || head > cap || tags(b)[head - 1].load(std::memory_order_relaxed) < kTagFull)
                return damaged_list();
            slot = head - 1;
        } else if (int r = sieve_victim(b, cap, &slot)) {
            return r;
        }
        Word *e = entry(b, slot);
        if (!newest) t.set(&ctl_->aging.hand, slot + 1);  // removing it moves the hand on
        if (expired(e)) {  // already gone for readers: reclaim it and look again
            if (int r = reclaim_expired(t, slot)) return r;
            t.commit();
            continue;
        }
        // The entry is copied out before it is erased: when either output is too small
        // nothing is removed and both lengths are set. The walk's progress stands (the
        // hand on this entry, the marks it passed cleared, as any walk leaves them), so
        // the same entry comes first next time: rolling the hand back would restart the
        // walk before entries it has just unmarked, and the retry would take one of them.
        const int kr = key ? copy_key(e, key) : 0;
        const int vr = val ? copy_value(e, val) : 0;
        if (kr == kTorn) return corrupt("a hash map key is out of bounds");
        if (vr == kTorn) return corrupt("a hash map value is out of bounds");
        if (kr || vr) {
            t.commit();
            return core::fail(-ENOBUFS, "the entry needs {} bytes of key and {} of value",
                              key ? *key->len : 0, val ? *val->len : 0);
        }
        if (int r = erase(t, slot)) return r;
        maybe_shrink(t);
        t.commit();
        return 0;
    }
}

// Copy the entries into buffer nb in list order (oldest first), rebuilding the list
// there, so a grow, shrink or compaction keeps the eviction order and the hand. A
// damaged list is not followed: the entries are then linked in slot order instead, so
// a peer's damage costs the order, never the entries or the ability to rebuild.
int Shard::relink_into(WriteTxn &t, std::uint64_t nb, std::uint64_t new_cap) noexcept {
    AgingControl &a = ctl_->aging;
    const std::uint64_t b = ctl_->active.load(std::memory_order_relaxed);
    const std::uint64_t cap = ctl_->cap.load(std::memory_order_relaxed);
    const std::uint64_t size = ctl_->size.load(std::memory_order_relaxed);
    const std::uint64_t hand = a.hand.load(std::memory_order_relaxed);
    const Word *from = links(b);
    Word *to = links(nb);
    std::uint64_t oldest = 0, newest = 0, new_hand = 0, count = 0;
    // Append old slot i at the new list's head; false if it cannot be placed.
    auto append = [&](std::uint64_t i) {
        const std::uint64_t j = place(b, i, nb, new_cap);
        if (j == ~std::uint64_t{0}) return false;
        visited(nb)[j].store(visited(b)[i].load(std::memory_order_relaxed), std::memory_order_relaxed);
        to[j].store(link_word(newest, 0), std::memory_order_relaxed);
        if (newest)
            to[newest - 1].store(link_word(older_of(to[newest - 1].load(std::memory_order_relaxed)), j + 1),
                                 std::memory_order_relaxed);
        if (!oldest) oldest = j + 1;
        if (hand == i + 1) new_hand = j + 1;
        newest = j + 1;
        ++count;
        return true;
    };
    bool ok = true;
    for (std::uint64_t pos = a.oldest.load(std::memory_order_relaxed); pos != 0 && ok;) {
        ok = pos <= cap && count < size && tags(b)[pos - 1].load(std::memory_order_relaxed) >= kTagFull &&
             append(pos - 1);
        if (ok) pos = newer_of(from[pos - 1].load(std::memory_order_relaxed));
    }
    if (!ok || count != size) {
        std::atomic<std::uint8_t> *tn = tags(nb);
        for (std::uint64_t i = 0; i < new_cap; ++i) tn[i].store(kTagEmpty, std::memory_order_relaxed);
        oldest = newest = new_hand = count = 0;
        for (std::uint64_t i = 0; i < cap; ++i)
            if (tags(b)[i].load(std::memory_order_relaxed) >= kTagFull && !append(i))
                return corrupt("a hash map entry is damaged or the shard holds more entries "
                               "than it counts");
    }
    t.set(&a.oldest, oldest);
    t.set(&a.newest, newest);
    t.set(&a.hand, new_hand);
    return 0;
}

}  // namespace shmds::hashmap
