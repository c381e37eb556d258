// Expiry (design §7). Every entry holds its absolute expiry in wall-clock milliseconds
// (0 = never). Readers treat an expired entry as absent (Shard::finish_read); writers
// that meet one reclaim it (probe_live, a full shard's insert), and flush_expired
// sweeps a shard in bounded steps from a cursor kept in the shard. Each reclaimed
// entry counts in `expirations`.
#include "core/error.hpp"
#include "core/failpoint.hpp"
#include "hashmap/shard.hpp"
#include "hashmap/txn.hpp"

#include <cerrno>

namespace shmds::hashmap {

const Clock Shard::kRealClock{};

std::uint64_t Shard::expiry_for(std::uint64_t ttl_ms) const noexcept {
    if (ttl_ms == kDefaultTtl) ttl_ms = g_->default_ttl_ms;
    if (ttl_ms == 0) return 0;
    std::uint64_t at;
    // An injected clock may return anything: saturate rather than wrap to "expired".
    if (__builtin_add_overflow(clock_->now_ms(), ttl_ms, &at)) at = ~std::uint64_t{0};
    return at;
}

bool Shard::expired(const Word *e) const noexcept {
    const std::uint64_t at = e[kEntryWordExpire].load(std::memory_order_relaxed);
    return at != 0 && expired_at(at);  // the clock is read only for TTL entries
}

int Shard::reclaim_expired(WriteTxn &t, std::uint64_t slot) noexcept {
    if (int r = erase(t, slot)) return r;
    SHMDS_FAILPOINT("hashmap.expire.erased");
    t.add(&ctl_->aging.expirations, 1);
    return 0;
}

int Shard::probe_live(WriteTxn &t, std::uint64_t b, std::uint64_t cap, std::uint64_t h, Span key,
                      std::uint64_t *slot, std::uint64_t *free) noexcept {
    const int r = probe(b, cap, h, key, slot, free);
    if (r != 1) return r;
    if (!expired(entry(b, *slot))) {
        mark_visited(b, *slot);  // every writer that finds its key: a hit (design §6)
        return r;
    }
    // Reclaimed as a step of its own: it stands whatever the verb then does.
    if (int e = reclaim_expired(t, *slot)) return e;
    t.commit();
    return probe(b, cap, h, key, slot, free);
}

int Shard::reclaim_all_expired(WriteTxn &t) noexcept {
    const std::uint64_t b = ctl_->active.load(std::memory_order_relaxed);
    const std::uint64_t cap = ctl_->cap.load(std::memory_order_relaxed);
    std::atomic<std::uint8_t> *tg = tags(b);
    int n = 0;
    for (std::uint64_t i = 0; i < cap; ++i) {
        if (tg[i].load(std::memory_order_relaxed) < kTagFull || !expired(entry(b, i))) continue;
        if (int r = reclaim_expired(t, i)) return r;
        t.commit();  // one entry per step: the journal stays small
        ++n;
    }
    return n;
}

int Shard::set_expire(std::uint64_t h, Span key, TtlChange how, std::uint64_t ttl_ms) noexcept {
    WriteTxn t(*this);
    if (int r = t.writable()) return r;  // -EROFS once frozen
    const std::uint64_t b = ctl_->active.load(std::memory_order_relaxed);
    const std::uint64_t cap = ctl_->cap.load(std::memory_order_relaxed);
    if (b > 1 || !valid_cap(cap)) return corrupt("a hash map shard's table words are damaged");
    std::uint64_t slot, free;
    const int found = probe_live(t, b, cap, h, key, &slot, &free);
    if (found < 0) return found;
    if (found == kTorn) return corrupt("a hash map entry is out of bounds");
    if (!found) return core::fail_static(-ENOENT, "no such key");
    Word *e = entry(b, slot);
    std::uint64_t at = e[kEntryWordExpire].load(std::memory_order_relaxed);
    switch (how) {
        case TtlChange::touch:
            if (g_->default_ttl_ms != 0) at = expiry_for(kDefaultTtl);
            break;  // a hit: probe_live marked it, as for every writer that finds its key
        case TtlChange::persist: at = 0; break;
        case TtlChange::set: at = expiry_for(ttl_ms); break;
    }
    if (e[kEntryWordExpire].load(std::memory_order_relaxed) != at) {
        t.set(&e[kEntryWordExpire], at);
        SHMDS_FAILPOINT("hashmap.ttl.expire_set");
    }
    t.commit();
    return 0;
}

int Shard::flush_expired(std::uint64_t budget, bool restart, std::uint64_t *removed) noexcept {
    WriteTxn t(*this);
    if (int r = t.writable()) return r;  // -EROFS once frozen
    const std::uint64_t b = ctl_->active.load(std::memory_order_relaxed);
    const std::uint64_t cap = ctl_->cap.load(std::memory_order_relaxed);
    if (b > 1 || !valid_cap(cap)) return corrupt("a hash map shard's table words are damaged");
    std::atomic<std::uint64_t> &cursor = ctl_->aging.flush_cursor;
    std::uint64_t i = restart ? 0 : cursor.load(std::memory_order_relaxed);
    if (i > cap) i = 0;  // a stale or damaged hint: start over
    std::atomic<std::uint8_t> *tg = tags(b);
    // Removing an entry never moves another (a tag becomes a tombstone or empty), so the
    // cursor stays valid across the removals of the sweep.
    for (std::uint64_t n = 0; i < cap && n < budget; ++i, ++n) {
        if (tg[i].load(std::memory_order_relaxed) < kTagFull || !expired(entry(b, i))) continue;
        if (int r = reclaim_expired(t, i)) return r;
        t.commit();  // one entry per step: the journal stays small
        ++*removed;
    }
    if (i < cap) {
        cursor.store(i, std::memory_order_relaxed);  // a hint: not journaled
        return 0;
    }
    cursor.store(0, std::memory_order_relaxed);
    maybe_shrink(t);  // the pass is over: the table may now be too big
    t.commit();
    return 1;
}

}  // namespace shmds::hashmap
