// Callbacks (design §6): the re-entrancy guard, write_cb / delete_cb, write-back of
// dirty records, get_and_set and empty. read_cb and the stampede guard are fill.cpp.
// A callback that fails leaves the page as it was: every callback here runs before
// the change it reports, and its caller returns its code (the Held releases the lock).
#include "cache/callbacks.hpp"

#include "cache/cache.hpp"
#include "cache/held.hpp"
#include "core/error.hpp"
#include "core/failpoint.hpp"

#include <cerrno>
#include <cstring>
#include <new>
#include <vector>

namespace shmds::cache {

namespace {
// initial-exec: every call's re-entry check reads it; the general TLS model made that
// a __tls_get_addr call (about 2% of a cache get). Eight bytes of static TLS.
__attribute__((tls_model("initial-exec"))) thread_local const CallbackScope *t_innermost =
    nullptr;

bool same_cache(const core::HashSeed &a, const core::HashSeed &b) noexcept {
    return a.k0 == b.k0 && a.k1 == b.k1;
}

// A callback's code as the caller's: a positive or zero "failure" cannot be told
// from success, so only negatives fail; the sentence names the callback when the
// callback did not set one of its own.
int callback_failed(const char *which, int r) noexcept {
    return core::fail(r, "the {} callback failed ({})", which, shmds_errname(r));
}
}  // namespace

CallbackScope::CallbackScope(const core::HashSeed &s, std::uint64_t p, bool allow) noexcept
    : seed(s), page(p), allow_recursive(allow), outer(t_innermost) {
    t_innermost = this;
}

CallbackScope::~CallbackScope() { t_innermost = outer; }

const CallbackScope *CallbackScope::innermost() noexcept { return t_innermost; }

int Cache::reentry(const char *verb, std::uint64_t page) const noexcept {
    for (const CallbackScope *s = t_innermost; s; s = s->outer) {
        if (!same_cache(s->seed, seed_)) continue;
        if (!s->allow_recursive)
            return core::fail(-EDEADLK,
                              "shmds_cache_{}: called from inside a callback of this cache "
                              "(set allow_recursive to allow it)",
                              verb);
        if (s->page != kNoPage && (page == kAllPages || page == s->page))
            return core::fail(-EDEADLK,
                              "shmds_cache_{}: called from inside a callback that holds the "
                              "lock of the page this call needs (cache page {})",
                              verb, s->page);
    }
    return 0;
}

int Cache::call_write(std::uint64_t page, Bytes key, Bytes value, std::uint64_t exp) noexcept {
    CallbackScope scope(seed_, page, cb_.allow_recursive != 0);
    const int r = cb_.write_cb(cb_.ctx, key.data, key.len, value.data, value.len, exp);
    return r < 0 ? callback_failed("write_cb", r) : 0;
}

int Cache::call_delete(std::uint64_t page, Bytes key) noexcept {
    CallbackScope scope(seed_, page, cb_.allow_recursive != 0);
    const int r = cb_.delete_cb(cb_.ctx, key.data, key.len);
    return r < 0 ? callback_failed("delete_cb", r) : 0;
}

int Cache::write_back_records(Held &h, const std::uint32_t *offs, std::size_t n) noexcept {
    Frame &f = h.frame();
    for (std::size_t i = 0; i < n; ++i) {
        RecordHeader rh;
        if (!f.record(offs[i], &rh) || !(rh.flags & kRecordDirty)) continue;
        const Bytes key{f.record_key(offs[i]), rh.key_len};
        const Bytes value{f.record_value(offs[i], rh), rh.val_len};
        if (int r = call_write(h.page(), key, value, rh.expire_on_ms)) return r;
        SHMDS_FAILPOINT("cache.writeback.written");
        // Clean from now on, so no later expunge or empty writes it again. One aligned
        // u32 store into the live frame under the lock: no journal needed (killed before
        // it, the item is written back once more: at least once across a crash).
        f.set_flags(offs[i], rh.flags & ~kRecordDirty);
    }
    return 0;
}

int Cache::value_expiry(const shmds_cache_value_t &v, std::uint64_t keep, std::uint64_t now,
                        std::uint64_t &exp) const noexcept {
    const std::uint64_t ms = v.expire_ms;
    if (ms == SHMDS_CACHE_EXPIRE_KEEP) exp = keep;
    else if (ms == SHMDS_CACHE_EXPIRE_DEFAULT) exp = expire_on(Expiry{Expiry::by_default, 0}, now);
    else if (ms == SHMDS_CACHE_EXPIRE_NOW) exp = expire_on(Expiry{Expiry::now, 0}, now);
    else if (ms > SHMDS_CACHE_MAX_EXPIRE_MS)
        return core::fail(-ERANGE, "a callback's expire_ms {} exceeds SHMDS_CACHE_MAX_EXPIRE_MS", ms);
    else exp = expire_on(Expiry{Expiry::relative, ms}, now);
    return 0;
}

int Cache::get_and_set(Bytes key, shmds_cache_update_fn fn, shmds_cache_update_modseq_fn fnm,
                       void *ctx) noexcept {
    const Place pl = place(key);
    if (int r = reentry("get_and_set", pl.page)) return r;
    Held h(*this, pl.page);
    if (int r = h.status()) return r;
    const std::uint64_t now = clock_.now_ms();
    Frame::Probe p;
    if (int r = h.frame().probe(h.page(), pl.slot_hash, key, p)) return r;
    RecordHeader rh{};
    const bool found = p.found >= 0 && h.frame().record(p.off, &rh) &&
                       !expired(rh, now) &&
                       !(rh.flags & (kRecordNotFound | kRecordTombstone));
    // fn gets a private copy: the page's bytes may move when the store expunges.
    std::vector<std::uint8_t> old;
    if (found) {
        try {
            const std::uint8_t *v = h.frame().record_value(p.off, rh);
            old.assign(v, v + rh.val_len);
        } catch (const std::bad_alloc &) {
            return core::fail_static(-ENOMEM, "out of memory for get_and_set's old value");
        }
    }
    shmds_cache_value_t out{nullptr, 0, SHMDS_CACHE_EXPIRE_KEEP, nullptr};
    std::uint64_t modseq = 0;  // fnm's: 0 = a plain store
    int r;
    {
        CallbackScope scope(seed_, pl.page, cb_.allow_recursive != 0);
        const void *cur = found ? old.data() : nullptr;
        r = fnm ? fnm(ctx, key.data, key.len, cur, old.size(), found ? 1 : 0,
                      found ? h.frame().record_modseq(p.off, rh) : 0, &out, &modseq)
                : fn(ctx, key.data, key.len, cur, old.size(), found ? 1 : 0, &out);
    }
    const ReleaseValue release{out, ctx};
    if (r < 0) return callback_failed("get_and_set", r);
    if (r == SHMDS_CACHE_DONT_STORE) return SHMDS_CACHE_DONT_STORE;
    if (r != 0) return core::fail(-EINVAL, "the get_and_set callback returned {}", r);
    if (!out.value && out.value_len != 0)
        return core::fail(-EINVAL, "the get_and_set callback gave a NULL value of length {}",
                          out.value_len);
    SHMDS_FAILPOINT("cache.get_and_set.called");
    std::uint64_t exp = 0;
    const std::uint64_t keep =
        found ? rh.expire_on_ms : expire_on(Expiry{Expiry::by_default, 0}, now);
    if (int e = value_expiry(out, keep, now, exp)) return e;
    const Bytes value{out.value, out.value_len};
    // As the anchor's set inside get_and_set: write_cb with the page still locked.
    if (write_through()) {  // a store the modseq rules refuse never reaches write_cb
        if (int a = admit(h.frame(), p, 0, modseq, now); a < 0) return a;
        if (int w = call_write(pl.page, key, value, exp)) return w;
    }
    const int r2 =
        set_in(h, pl.slot_hash, key, value, exp, now, write_back() ? kRecordDirty : 0, modseq);
    if (r2 == -E2BIG && write_back()) {
        // Not cached, so never written back: through to the store now, as set does.
        if (int w = call_write(pl.page, key, value, exp)) return w;
        return core::fail(-E2BIG, "the value is too big for a cache page; write_cb stored it");
    }
    return r2;
}

int Cache::take_from_store(Bytes key, Out out) noexcept {
    shmds_cache_value_t v{nullptr, 0, SHMDS_CACHE_EXPIRE_DEFAULT, nullptr};
    int r;
    {
        CallbackScope scope(seed_, kNoPage, cb_.allow_recursive != 0);
        r = cb_.read_cb(cb_.ctx, key.data, key.len, &v);
    }
    const ReleaseValue release{v, cb_.ctx};
    if (r < 0) return callback_failed("read_cb", r);
    const bool found = r != SHMDS_CACHE_NOT_FOUND;
    if (found) {
        if (r != 0 || (!v.value && v.value_len != 0))
            return core::fail(-EINVAL, "read_cb returned {} with a {}-byte value", r, v.value_len);
        if (out.len) *out.len = v.value_len;
        if ((out.buf || out.len) && out.cap < v.value_len)
            return core::fail(-ENOBUFS, "the value is {} bytes; the buffer holds {}", v.value_len,
                              out.cap);
        if (v.value_len) std::memcpy(out.buf, v.value, v.value_len);
    }
    // Taken: the value read from the store is clean, so delete_cb removes it there (and
    // is called for an absent key too, the remove rule).
    if (cb_.delete_cb) {
        if (int d = call_delete(kNoPage, key)) return d;
    }
    return found ? 0 : core::fail_static(-ENOENT, "no such key (read_cb found nothing)");
}

int Cache::empty(bool only_expired) noexcept {
    if (!write_back()) return only_expired ? purge(nullptr) : clear();
    if (int r = reentry("empty", kAllPages)) return r;
    const std::uint64_t now = clock_.now_ms();
    return each_sound_page([&](Held &h, int &result) {
        if (h.frame().used() == 0) return 0;
        std::uint64_t dropped = 0;
        const int r = rebuild(h, only_expired ? Rebuild::purge : Rebuild::clear, 0, now,
                              &dropped, true);
        if (r != SHMDS_ECORRUPT) return r;  // a write_cb failure (or no spare frame) stops
        result = r;
        return 0;
    });
}

}  // namespace shmds::cache
