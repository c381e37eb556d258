// Read-through with the stampede guard (design §6). A get that misses with a read_cb
// claims the key in its page's fill table (under the page lock), releases the lock,
// calls read_cb, then stores the value and frees the claim under the lock and wakes the
// page's fill WaitPoint. A get of the same key in any process that finds a live claim
// waits there (at most fill_wait_ms) and reads the stored value instead of calling
// read_cb. The claim names the filler's process (core::OwnerToken): a waiter probes it
// (after 1 ms, then every 8 ms) and a claim whose process died is free, so no waiter
// depends on a wake a dead filler owed it.
#include "cache/callbacks.hpp"

#include "cache/cache.hpp"
#include "cache/held.hpp"
#include "core/error.hpp"
#include "core/failpoint.hpp"
#include "core/owner.hpp"
#include "core/probe_wait.hpp"

#include <cerrno>
#include <cstring>
#include <optional>

namespace shmds::cache {

namespace {

bool owner_dead(core::OwnerToken t) noexcept {
    return t != core::self_owner() && !core::owner_alive(t);
}

// What a miss found in its page's fill table.
struct Claim {
    int slot = -1;                        // the entry this call owns (-1: none)
    int wait_slot = -1;                   // the entry of a live filler to wait for
    core::OwnerToken wait_owner = 0;
};

// Under the page lock: find a live filler of `hash`, or claim an entry for it.
Claim claim_fill(PageControl &pc, std::uint64_t hash, bool may_wait) noexcept {
    Claim c;
    int free_slot = -1;
    for (int i = 0; i < kFillSlots; ++i) {
        FillEntry &e = pc.fills[i];
        const core::OwnerToken o = e.owner.load(std::memory_order_acquire);
        const bool mine = o != core::kNoOwner && e.key_hash.load(std::memory_order_relaxed) == hash;
        if (o == core::kNoOwner || owner_dead(o)) {
            // A dead filler's entry is free (its key's waiters will see the change).
            if (mine || free_slot < 0) free_slot = i;
            if (mine) break;
            continue;
        }
        if (mine) {
            if (may_wait) {
                c.wait_slot = i;
                c.wait_owner = o;
            }
            return c;  // a live filler: wait for it (or, after the wait, fill unguarded)
        }
    }
    if (free_slot >= 0) {
        FillEntry &e = pc.fills[free_slot];
        e.owner.store(core::kNoOwner, std::memory_order_release);  // free while rewritten
        e.key_hash.store(hash, std::memory_order_relaxed);
        e.owner.store(core::self_owner(), std::memory_order_release);
        c.slot = free_slot;
    }
    return c;  // no entry free: fill unguarded
}

// Free this call's claim (after the value is stored, or on failure) and wake every
// waiter of the page: each re-reads the page. No lock needed: only the owner frees a
// live claim, and claimers take only free or dead entries.
void release_claim(PageControl &pc, int slot, std::uint64_t hash) noexcept {
    if (slot >= 0) {
        FillEntry &e = pc.fills[slot];
        core::OwnerToken self = core::self_owner();
        if (e.key_hash.load(std::memory_order_relaxed) == hash)
            e.owner.compare_exchange_strong(self, core::kNoOwner, std::memory_order_acq_rel);
    }
    core::waitpoint_wake(pc.fill_wait, INT32_MAX);
}

}  // namespace

int Cache::read_through(Bytes key, Out out, std::uint64_t *expire) noexcept {
    const Place pl = place(key);
    const std::uint64_t hash = core::hash_bytes(key.data, key.len, seed_);
    PageControl &pc = page_control(pl.page);
    const std::uint64_t wait_ms = cb_.fill_wait_ms ? cb_.fill_wait_ms : kDefaultFillWaitMs;
    const core::Deadline give_up = core::Deadline::from_timeout(std::int64_t(wait_ms) * 1'000'000);
    Claim c;
    for (;;) {
        {
            Held h(*this, pl.page);
            if (int r = h.status()) return r;
            // Another process may have stored it since the caller's miss (or the wait)
            // released the lock: then that value is the answer. Not counted again.
            bool cached_miss = false;
            const int r = get_in(h, pl.slot_hash, key, out, core::CallTime{clock_.now_ms()},
                                 expire, false, &cached_miss, false);
            if (r != -ENOENT || cached_miss) return r;
            c = claim_fill(pc, hash, !give_up.expired());
            if (c.slot >= 0) SHMDS_FAILPOINT("cache.fill.claimed");
        }
        if (c.wait_slot < 0) break;  // ours to fill
        FillEntry &e = pc.fills[c.wait_slot];
        const core::OwnerToken seen = c.wait_owner;
        core::wait_probing(
            pc.fill_wait, give_up,
            [&] {
                return e.owner.load(std::memory_order_acquire) != seen ||
                       e.key_hash.load(std::memory_order_relaxed) != hash;
            },
            [&] { return !core::owner_alive(seen); });
    }

    // The fill: read_cb without any lock.
    shmds_cache_value_t v{nullptr, 0, SHMDS_CACHE_EXPIRE_DEFAULT, nullptr};
    int r;
    {
        SHMDS_FAILPOINT("cache.fill.read");
        CallbackScope scope(seed_, kNoPage, cb_.allow_recursive != 0);
        r = cb_.read_cb(cb_.ctx, key.data, key.len, &v);
    }
    const ReleaseValue release{v, cb_.ctx};
    int result = 0;
    {
        Held h(*this, pl.page);
        if (int s = h.status()) {
            release_claim(pc, c.slot, hash);
            return s;
        }
        const std::uint64_t now = clock_.now_ms();
        std::uint64_t exp = 0;
        // read_cb's expiry; SHMDS_CACHE_EXPIRE_KEEP (meant for get_and_set) is the default.
        const std::uint64_t by_default = expire_on(Expiry{Expiry::by_default, 0}, now);
        if (r < 0) {
            result = core::fail(r, "the read_cb callback failed ({})", shmds_errname(r));
        } else if (r == SHMDS_CACHE_NOT_FOUND) {
            result = core::fail_static(-ENOENT, "no such key (read_cb found nothing)");
            if (cb_.cache_not_found && value_expiry(v, by_default, now, exp) == 0)
                set_in(h, pl.slot_hash, key, Bytes{}, exp, now, kRecordNotFound);
        } else if (r != 0 || (!v.value && v.value_len != 0)) {
            result = core::fail(-EINVAL, "read_cb returned {} with a {}-byte value at {}", r,
                                v.value_len, v.value);
        } else if ((result = value_expiry(v, by_default, now, exp)) == 0) {
            // A value another process stored while read_cb ran is newer: it wins.
            bool cached_miss = false;
            const int got = get_in(h, pl.slot_hash, key, out, core::CallTime{now}, expire,
                                   false, &cached_miss, false);
            if (got == -ENOENT) {
                const int s = set_in(h, pl.slot_hash, key, Bytes{v.value, v.value_len}, exp, now);
                // Too big, or refused by a tombstone (the anchor's t/25: served over a
                // tombstone, never cached): returned, not cached.
                if (s != 0 && s != -E2BIG && s != -ESTALE) result = s;
                if (expire) *expire = exp;
                if (out.len) *out.len = v.value_len;
                if (result == 0 && (out.buf || out.len)) {
                    if (out.cap < v.value_len)
                        result = core::fail(-ENOBUFS, "the value is {} bytes; the buffer holds {}",
                                            v.value_len, out.cap);
                    else if (v.value_len)
                        std::memcpy(out.buf, v.value, v.value_len);
                }
            } else {
                result = got;
            }
        }
    }
    release_claim(pc, c.slot, hash);
    return result;
}

}  // namespace shmds::cache
