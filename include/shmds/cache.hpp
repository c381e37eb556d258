// libshmds C++ veneer: shmds::cache over the C cache API (shmds/cache.h), the
// interprocess page cache with the shape and semantics of Perl's Cache::FastMmap.
//
//   auto cfg = shmds::cache::config();
//   cfg.cache_size = 64 << 20;
//   auto c = shmds::cache::create(shmds::backing::path("/dev/shm/pages"), cfg);
//   c.set("user:1", "alice");                               // the cache's default expiry
//   c.set("session", token, std::chrono::minutes(20));      // relative
//   c.set("flash", msg, shmds::cache_expiry::now());        // stored, reads as a miss
//   if (auto v = c.get("user:1")) use(*v);                  // std::nullopt on a miss
//   for (const auto &e : c.get_keys(shmds::cache::key_detail::values)) use(e.key, e.value);
//
// Keys and values are byte strings passed as std::string_view and returned as
// std::string, byte-exact (NUL, 0xFF and the empty string too).
//
// The anchor's init_file, unlink_on_exit and empty_on_exit are bits of the config's
// lifecycle field (cache.h, "Lifecycle"); the exit actions run when the creating
// process destroys its object (the anchor's DESTROY), never in a fork child.
//
// A miss, an absent key and a record too large for a page are values (std::optional,
// bool); every other failure the C function reports throws shmds::error, whose what() is
// the C API's shmds_last_error() sentence (a member marked noexcept never throws):
// -EAGAIN when an expunge waited 2 s for a spare frame, SHMDS_ECORRUPT for a damaged page,
// -ERANGE for an expiry out of range, -EINVAL for a moved-from cache. Blocking, crash
// behaviour and thread safety are those of the C API (cache.h).
//
// Callbacks (set_callbacks: std::function read_cb / write_cb / delete_cb, write_back,
// cache_not_found, allow_recursive) follow cache.h's "Callbacks": get, set, remove,
// expire, get_and_remove and empty may call them; an exception a callback throws makes
// that call fail with the page lock released and its change not made, and is rethrown
// from it unchanged; a call into this cache from inside a callback throws shmds::error
// -EDEADLK unless allow_recursive.
#ifndef SHMDS_CACHE_HPP
#define SHMDS_CACHE_HPP

#include <shmds/cache.h>
#include <shmds/detail.hpp>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace shmds {

/**
 * How long a stored item lives, as the C API's expire_ms argument. Converts implicitly
 * from a std::chrono duration, so `c.set(k, v, std::chrono::seconds(30))` reads as it
 * should. One meaning of 0 everywhere, the C API's: a zero duration never expires
 * (use cache_expiry::now() for "expired at once"). A positive duration is rounded UP to
 * whole milliseconds, so no positive duration turns into "never".
 */
class cache_expiry {
public:
    /** The cache's default_expire_ms (SHMDS_CACHE_EXPIRE_DEFAULT). */
    static constexpr cache_expiry by_default() noexcept {
        return cache_expiry(SHMDS_CACHE_EXPIRE_DEFAULT);
    }
    /** Expired at once: stored, but reads miss (the anchor's 'now'). */
    static constexpr cache_expiry now() noexcept { return cache_expiry(SHMDS_CACHE_EXPIRE_NOW); }
    /** Never expires (SHMDS_CACHE_EXPIRE_NEVER, 0). */
    static constexpr cache_expiry never() noexcept {
        return cache_expiry(SHMDS_CACHE_EXPIRE_NEVER);
    }

    /**
     * After `d`: zero is never(); a positive duration rounds up to whole ms. Throws
     * shmds::error(-ERANGE) for a negative duration (use now()). A duration beyond
     * SHMDS_CACHE_MAX_EXPIRE_MS is refused with -ERANGE by the set that uses it.
     */
    template <class Rep, class Period>
    cache_expiry(std::chrono::duration<Rep, Period> d) : ms_(to_ms(d)) {}  // NOLINT: implicit

    /** The C API's expire_ms argument. */
    constexpr std::uint64_t c_value() const noexcept { return ms_; }

private:
    explicit constexpr cache_expiry(std::uint64_t ms) noexcept : ms_(ms) {}

    template <class Rep, class Period>
    static std::uint64_t to_ms(std::chrono::duration<Rep, Period> d) {
        const long double ms = std::chrono::duration<long double, std::milli>(d).count();
        if (ms < 0 || ms != ms)
            throw error(-ERANGE, "shmds::cache_expiry: a negative duration (use "
                                 "cache_expiry::now() for an item expired at once)");
        // Above the C limit: one past it, so the C call refuses it with its own sentence
        // (a constant like UINT64_MAX - 1 must not be reached by a long duration).
        constexpr auto limit = static_cast<long double>(SHMDS_CACHE_MAX_EXPIRE_MS);
        if (ms > limit) return SHMDS_CACHE_MAX_EXPIRE_MS + 1;
        const auto whole = static_cast<std::uint64_t>(ms);
        return whole + (static_cast<long double>(whole) < ms ? 1 : 0);  // round up
    }

    std::uint64_t ms_;
};

/** The Cache::FastMmap-style page cache; move-only, closes its handle when destroyed. */
class cache : public detail::handle_base<shmds_cache_t, shmds_cache_close> {
public:
    using config_type = shmds_cache_config_t;
    using stats_type = shmds_cache_stats_t;
    using clock_fn = std::uint64_t (*)(void *ctx);

    /** What get_keys() reports per item, as the anchor's get_keys(0|1|2). */
    enum class key_detail : int {
        keys = 0,   ///< the key only
        meta = 1,   ///< also last_access_ms, expire_on_ms and flags
        values = 2  ///< also the value
    };

    /** One item of get_keys(); fields beyond the detail asked for are empty or 0. */
    struct entry {
        std::string key;
        std::string value;               ///< key_detail::values
        std::uint64_t last_access_ms{};  ///< key_detail::meta and up
        std::uint64_t expire_on_ms{};    ///< key_detail::meta and up; 0 = never
        std::uint32_t flags{};           ///< key_detail::meta and up; SHMDS_CACHE_FLAG_*
        std::uint64_t modseq{};          ///< key_detail::meta and up; 0 = none
    };

    /** A value with its modification sequence (0: stored without one). */
    struct versioned {
        std::string value;
        std::uint64_t modseq{};
    };

    // ---- creation ----

    /**
     * A C config with every default (SHMDS_CACHE_CONFIG_INIT: 89 pages of 64 KiB, 89
     * start slots, items never expire, no lifecycle options); set fields, then pass to
     * create(). Never throws.
     */
    static config_type config() noexcept {
        config_type c = SHMDS_CACHE_CONFIG_INIT;
        return c;
    }

    /**
     * Create a cache with `cfg`'s geometry, or attach to the one already at that path
     * with its stored geometry (read it back with stats()). Throws shmds::error: -EINVAL
     * (a geometry out of range), -EEXIST (exclusive() and the path exists), SHMDS_ETYPE
     * (another structure), SHMDS_EVERSION / SHMDS_ECORRUPT (left untouched), -ENOMEM, ...
     * Never deletes or truncates an existing cache. Blocks only for init_file, on each
     * page lock in turn.
     */
    static cache create(const backing &where, const config_type &cfg = config()) {
        return cache(detail::new_handle(shmds_cache_create, where.options(), &cfg));
    }

    /**
     * Attach to an existing cache (a path or a received fd) with its stored geometry.
     * Throws shmds::error (-ENOENT, SHMDS_ETYPE, -EINVAL for an anonymous backing, ...).
     */
    static cache open(const backing &where) {
        return cache(detail::new_handle(shmds_cache_open, where.options()));
    }

    /**
     * create() then the verify pass over every page (the anchor's test_file => 1):
     * exactly the damaged pages are re-initialised; *repaired (if given) gets how many.
     * Throws as create(), and -EAGAIN (no spare frame for 2 s).
     */
    static cache create_tested(const backing &where, const config_type &cfg = config(),
                               std::uint64_t *repaired = nullptr) {
        std::uint64_t n = 0;
        shmds_cache_t *h = nullptr;
        detail::check(shmds_cache_create_tested(where.options(), &cfg, &h, &n));
        if (repaired) *repaired = n;
        return cache(h);
    }

    /** open() then the verify pass, as create_tested(). Throws as open(), -EAGAIN. */
    static cache open_tested(const backing &where, std::uint64_t *repaired = nullptr) {
        std::uint64_t n = 0;
        shmds_cache_t *h = nullptr;
        detail::check(shmds_cache_open_tested(where.options(), &h, &n));
        if (repaired) *repaired = n;
        return cache(h);
    }

    /** Adopt a C handle (takes ownership; NULL gives a moved-from cache). */
    explicit cache(shmds_cache_t *handle) noexcept : handle_base(handle) {}
    cache(cache &&) noexcept = default;
    cache &operator=(cache &&) noexcept = default;
    /** Closes the handle while its callbacks are still alive: SHMDS_CACHE_EMPTY_ON_EXIT
     * writes dirty items back through them (an exception there is swallowed: a
     * destructor cannot report it). Nothing calls them after. */
    ~cache() { close_handle(); }

    // ---- writes: each takes the key's page lock (and may expunge that page) ----

    /**
     * Store `v` under `k`, replacing any old value, expiring per `e` (the cache's default
     * unless given). false if the record can never fit a page, or an unexpired tombstone
     * holds `k` (remove_modseq) (the anchor's false: the old value, if any, stays). Throws shmds::error: -ERANGE (expiry beyond
     * SHMDS_CACHE_MAX_EXPIRE_MS), -EAGAIN (an expunge waited 2 s for a spare frame;
     * nothing changed), SHMDS_ECORRUPT, -ENOMEM.
     */
    bool set(std::string_view k, std::string_view v, cache_expiry e = cache_expiry::by_default()) {
        return stored(relay(
            shmds_cache_set(handle(), k.data(), k.size(), v.data(), v.size(), e.c_value())));
    }

    /**
     * set() with an absolute expiry (the anchor's expire_on): the item expires at `t`
     * (rounded up to whole ms). An instant already past, or at or before the epoch,
     * stores an item that reads as a miss. Returns and throws as set().
     */
    template <class Duration>
    bool set_expire_on(std::string_view k, std::string_view v,
                       std::chrono::time_point<std::chrono::system_clock, Duration> t) {
        const auto ms = std::chrono::ceil<std::chrono::milliseconds>(t.time_since_epoch()).count();
        // 0 would mean "never" to the C API; an instant at or before the epoch is long past.
        const std::uint64_t on = ms > 0 ? std::uint64_t(ms) : 1;
        return set_expire_on_ms(k, v, on);
    }

    /**
     * set() with an absolute expiry in wall-clock ms since the epoch, exactly as the C
     * API takes it: 0 (SHMDS_CACHE_EXPIRE_NEVER) never expires. Returns and throws as
     * set() (-ERANGE above SHMDS_CACHE_MAX_EXPIRE_MS).
     */
    bool set_expire_on_ms(std::string_view k, std::string_view v, std::uint64_t expire_on_ms) {
        return stored(relay(shmds_cache_set_expire_on(
            handle(), k.data(), k.size(), v.data(), v.size(), expire_on_ms)));
    }

    // ---- modification sequences and tombstones (cache.h "Modification sequences") ----

    /**
     * A conditional set() at `modseq` (>= 1): false if refused (a newer modseq or an
     * unexpired tombstone holds `k`) or if the record can never fit a page; nothing
     * changed then. Throws as set(), and -EINVAL for modseq 0.
     */
    bool set_modseq(std::string_view k, std::string_view v, std::uint64_t modseq,
                    cache_expiry e = cache_expiry::by_default()) {
        const int rc = relay(shmds_cache_set_modseq(handle(), k.data(), k.size(), v.data(),
                                                    v.size(), e.c_value(), modseq));
        return stored(rc);
    }

    /** get() with the value's modseq (0: none). std::nullopt on a miss (a tombstone too). */
    std::optional<versioned> get_modseq(std::string_view k) {
        versioned out;
        const int rc = detail::read_bytes(
            out.value, SHMDS_NOWAIT, [&](void *b, std::size_t n, std::size_t *len, std::int64_t) {
                return relay(shmds_cache_get_modseq(handle(), k.data(), k.size(), b, n, len,
                                                    &out.modseq));
            });
        if (!detail::outcome<-ENOENT>(rc)) return std::nullopt;
        return out;
    }

    /**
     * Remove `k` at `modseq` (>= 1), leaving a tombstone that expires per `e` (by default
     * this handle's tombstone expiry); a record with a modseq >= this one is kept instead.
     * Throws shmds::error (-EINVAL for modseq 0, -ERANGE, -EAGAIN, SHMDS_ECORRUPT, a
     * delete_cb failure).
     */
    void remove_modseq(std::string_view k, std::uint64_t modseq,
                       cache_expiry e = cache_expiry::by_default()) {
        detail::check(relay(
            shmds_cache_remove_modseq(handle(), k.data(), k.size(), modseq, e.c_value())));
    }

    /** The expiry of tombstones removed with the default expiry (the anchor's
     * tombstone_expire_time); per handle. Must not race other calls on this object. */
    void set_tombstone_expire(cache_expiry e) {
        detail::check(shmds_cache_set_tombstone_expire(handle(), e.c_value()));
    }

    /**
     * get_and_set() with modseqs: fn(current value or std::nullopt, its modseq) returns a
     * versioned to store (modseq 0: a plain store; else conditional; the item's expiry is
     * kept) or std::nullopt to store nothing. true if stored; false if fn declined, the
     * store was refused by the modseq rules or the value can never fit a page.
     */
    template <class F>
    bool get_and_set_modseq(std::string_view k, F &&fn) {
        struct state {
            std::remove_reference_t<F> *fn;
            std::optional<versioned> keep;
        } st{&fn, std::nullopt};
        const int rc = relay(shmds_cache_get_and_set_modseq(
            handle(), k.data(), k.size(),
            [](void *p, const void *, size_t, const void *v, size_t vl, int found,
               std::uint64_t modseq, shmds_cache_value_t *out, std::uint64_t *out_modseq) -> int {
                auto *s = static_cast<state *>(p);
                try {
                    std::optional<std::string_view> cur;
                    if (found) cur = std::string_view(static_cast<const char *>(v), vl);
                    s->keep = (*s->fn)(cur, modseq);
                    if (!s->keep) return SHMDS_CACHE_DONT_STORE;
                    out->value = s->keep->value.data();
                    out->value_len = s->keep->value.size();
                    *out_modseq = s->keep->modseq;
                    return 0;
                } catch (...) {
                    return caught();
                }
            },
            &st));
        if (rc == SHMDS_CACHE_DONT_STORE) return false;
        return stored(rc);
    }

    /** Remove `k`; false if it was absent or had expired (it is removed anyway). */
    bool remove(std::string_view k) {
        return detail::outcome<-ENOENT>(relay(shmds_cache_remove(handle(), k.data(), k.size())));
    }

    /**
     * The anchor's expire(key): remove it now; false as remove(). In write_back mode a
     * dirty item is handed to write_cb first (see set_callbacks()).
     */
    bool expire(std::string_view k) {
        return detail::outcome<-ENOENT>(relay(shmds_cache_expire(handle(), k.data(), k.size())));
    }

    /**
     * The value of `k` and its removal in one step under the page lock: of racing
     * callers at most one gets it. std::nullopt on a miss. Throws as get().
     */
    std::optional<std::string> get_and_remove(std::string_view k) {
        std::string out;
        if (!read_value(out, shmds_cache_get_and_remove, k)) return std::nullopt;
        return out;
    }

    /**
     * Remove every item, page by page (not a snapshot); damaged pages are re-initialised.
     * Throws shmds::error (-EAGAIN: no spare frame for 2 s, some pages kept their items).
     */
    void clear() { detail::check(shmds_cache_clear(handle())); }

    /**
     * Remove the expired items only, page by page; how many. Throws shmds::error
     * (SHMDS_ECORRUPT: a damaged page was skipped after purging the others; -EAGAIN).
     */
    std::uint64_t purge() {
        std::uint64_t removed = 0;
        detail::check(shmds_cache_purge(handle(), &removed));
        return removed;
    }

    // ---- reads: take the key's page lock (a hit updates the access time, as the anchor) ----

    /**
     * The value of an unexpired `k`, or std::nullopt (absent or expired). A hit makes it
     * its page's most recently used; counted in stats(). Throws shmds::error
     * (SHMDS_ECORRUPT: the key's page is damaged).
     */
    std::optional<std::string> get(std::string_view k) {
        std::string out;
        if (!get(k, out)) return std::nullopt;
        return out;
    }

    /**
     * The value into `out` (a reused std::string keeps its buffer, so a steady loop
     * allocates nothing); false on a miss, and then `out` is empty. Throws as get().
     */
    bool get(std::string_view k, std::string &out) {
        return read_value(out, shmds_cache_get, k);
    }

    /** Whether an unexpired value is stored under `k`; changes nothing (no access time, no stats). */
    bool exists(std::string_view k) {
        return detail::check(shmds_cache_exists(handle(), k.data(), k.size())) == 1;
    }

    // ---- many keys under one page key (the anchor's multi_get / multi_set) ----

    /**
     * The values of `keys` stored with multi_set() under `page_key` (only multi_get with
     * the same page_key finds them; a plain get() looks elsewhere), in their order,
     * std::nullopt for a miss; read under one page lock. A value longer than the first
     * buffer guess (256 bytes) is read again, with the others that were too long, under a
     * second lock: it then reflects that moment and counts twice in stats().reads.
     * `keys` is any range of std::string_view-convertible elements or a braced list.
     * Throws shmds::error (SHMDS_ECORRUPT: the page is damaged).
     */
    template <class Keys>
    std::vector<std::optional<std::string>> multi_get(std::string_view page_key,
                                                      const Keys &keys) {
        std::vector<std::string_view> ks;
        for (const auto &k : keys) ks.emplace_back(k);
        std::vector<std::optional<std::string>> out(ks.size());
        std::vector<std::size_t> pending(ks.size());
        for (std::size_t i = 0; i < pending.size(); ++i) pending[i] = i;
        std::vector<std::string> bufs(ks.size(), std::string(256, '\0'));
        while (!pending.empty()) {
            std::vector<shmds_cache_item_t> items(pending.size());
            for (std::size_t j = 0; j < pending.size(); ++j) {
                const std::size_t i = pending[j];
                items[j].key = ks[i].data();
                items[j].key_len = ks[i].size();
                items[j].buf = &bufs[i][0];
                items[j].buf_size = bufs[i].size();
            }
            detail::check(shmds_cache_multi_get(handle(), page_key.data(), page_key.size(),
                                                items.data(), items.size()));
            std::vector<std::size_t> again;
            for (std::size_t j = 0; j < pending.size(); ++j) {
                const std::size_t i = pending[j];
                const int rc = items[j].result;
                if (rc == 0) {
                    bufs[i].resize(items[j].value_len);
                    out[i] = std::move(bufs[i]);
                } else if (rc == -ENOBUFS) {
                    bufs[i].resize(items[j].value_len);
                    again.push_back(i);
                } else if (rc != -ENOENT) {
                    throw error(rc, "shmds::cache::multi_get: key " + std::to_string(i) + ": " +
                                        shmds_strerror(rc));
                }
            }
            pending.swap(again);
        }
        return out;
    }
    std::vector<std::optional<std::string>> multi_get(std::string_view page_key,
                                                      std::initializer_list<std::string_view> keys) {
        return multi_get<std::initializer_list<std::string_view>>(page_key, keys);
    }

    /**
     * Store (key, value) pairs under `page_key` (see multi_get()) under one page lock,
     * each expiring per `e`; how many were stored (a record too large for a page is not,
     * as set() returns false). An expunge for a later item may drop an earlier one, as in
     * the anchor. `items` is a range of pairs it owns (std::vector<std::pair<std::string,
     * std::string>>, std::map, ...) or a braced list. Throws shmds::error (-ERANGE, or a
     * key's failure other than -E2BIG: what() names the first such key; the others ran).
     */
    template <class Items>
    std::size_t multi_set(std::string_view page_key, const Items &items,
                          cache_expiry e = cache_expiry::by_default()) {
        static_assert(std::is_lvalue_reference_v<decltype(*std::begin(std::declval<const Items &>()))>,
                      "multi_set: the range must own its elements (its strings are read in place)");
        std::vector<shmds_cache_item_t> cs;
        for (const auto &item : items) {
            const auto &[k, v] = item;
            const std::string_view kv(k), vv(v);
            shmds_cache_item_t c{};
            c.key = kv.data();
            c.key_len = kv.size();
            c.value = vv.data();
            c.value_len = vv.size();
            cs.push_back(c);
        }
        const int stored = detail::check(relay(shmds_cache_multi_set(
            handle(), page_key.data(), page_key.size(), cs.data(), cs.size(), e.c_value())));
        for (std::size_t i = 0; i < cs.size(); ++i)
            if (cs[i].result != 0 && cs[i].result != -E2BIG)
                throw error(cs[i].result, "shmds::cache::multi_set: key " + std::to_string(i) +
                                              ": " + shmds_strerror(cs[i].result));
        return std::size_t(stored);
    }
    std::size_t multi_set(std::string_view page_key,
                          std::initializer_list<std::pair<std::string_view, std::string_view>> items,
                          cache_expiry e = cache_expiry::by_default()) {
        return multi_set<std::initializer_list<std::pair<std::string_view, std::string_view>>>(
            page_key, items, e);
    }

    // ---- whole cache ----

    /**
     * Every unexpired item, page by page, with the detail asked for (the anchor's
     * get_keys(0|1|2)). Not a snapshot: an item changed meanwhile may be seen as it was,
     * or twice if it moved. Throws shmds::error (SHMDS_ECORRUPT: a damaged page was
     * skipped; -ENOMEM).
     */
    std::vector<entry> get_keys(key_detail d = key_detail::keys) {
        std::vector<entry> out;
        walk(d, [&](const shmds_cache_entry_t &e) {
            entry x;
            x.key.assign(static_cast<const char *>(e.key), e.key_len);
            if (e.value) x.value.assign(static_cast<const char *>(e.value), e.value_len);
            x.last_access_ms = e.last_access_ms;
            x.expire_on_ms = e.expire_on_ms;
            x.flags = e.flags;
            x.modseq = e.modseq;
            out.push_back(std::move(x));
        });
        return out;
    }

    /** The keys alone (get_keys(key_detail::keys) without the entries). Throws as get_keys(). */
    std::vector<std::string> keys() {
        std::vector<std::string> out;
        walk(key_detail::keys, [&](const shmds_cache_entry_t &e) {
            out.emplace_back(static_cast<const char *>(e.key), e.key_len);
        });
        return out;
    }

    /**
     * Counters and geometry (shmds_cache_stats_t); `clear` also resets reads and hits
     * (the anchor's get_statistics(clear)). Throws shmds::error. Does not block.
     */
    stats_type stats(bool clear = false) {
        stats_type s{};
        s.struct_size = sizeof s;
        detail::check(shmds_cache_stats(handle(), &s, clear ? 1 : 0));
        return s;
    }

    /**
     * Check every page and re-initialise exactly the damaged ones (the anchor's
     * test_file); how many were. Throws shmds::error (-EAGAIN: no spare frame for 2 s).
     */
    std::uint64_t verify() {
        std::uint64_t repaired = 0;
        detail::check(shmds_cache_verify(handle(), &repaired));
        return repaired;
    }

    /**
     * This handle's clock for expiry and access times (tests step time): now_ms(ctx)
     * returns wall-clock ms; nullptr restores CLOCK_REALTIME. Must not race other calls
     * on this cache object.
     */
    void set_clock(clock_fn now_ms, void *ctx) {
        detail::check(shmds_cache_set_clock(handle(), now_ms, ctx));
    }

    /** Dead lock holders taken over and pages re-initialised by verify; 0 if moved from. */
    std::uint64_t recoveries() const noexcept { return shmds_cache_recoveries(handle()); }
    /** The segment's fd for shmds_send_fd() (owned by the cache); throws -ENOENT if anonymous. */
    int fd() const { return detail::check(shmds_cache_fd(handle())); }
    /** Flush a file-backed cache to its file (msync). Throws shmds::error. */
    void sync() const { detail::check(shmds_cache_sync(handle())); }

    // ---- callbacks (cache.h "Callbacks": the rules are the C API's) ----

    /** What a read_cb found: the value, and its expiry (the cache's default unless given). */
    struct loaded {
        loaded(std::string v, cache_expiry e = cache_expiry::by_default())  // NOLINT: implicit
            : value(std::move(v)), expiry(e) {}
        std::string value;
        cache_expiry expiry;
    };
    /** read_cb: the backing store's value of a missed key, or std::nullopt (not found). */
    using read_fn = std::function<std::optional<loaded>(std::string_view key)>;
    /** write_cb: store (key, value); expire_on_ms is the item's absolute expiry (0 never). */
    using write_fn =
        std::function<void(std::string_view key, std::string_view value, std::uint64_t expire_on_ms)>;
    /** delete_cb: remove key from the backing store. */
    using delete_fn = std::function<void(std::string_view key)>;

    /** This object's callbacks and modes (the anchor's new() options of the same names). */
    struct callbacks {
        read_fn read_cb;
        write_fn write_cb;
        delete_fn delete_cb;
        bool write_back = false;       ///< false: write_through (the anchor's default)
        bool cache_not_found = false;  ///< cache read_cb's std::nullopt as a miss record
        bool allow_recursive = false;  ///< callbacks may call this cache (see cache.h)
        std::chrono::milliseconds fill_wait{0};  ///< stampede guard wait; 0 = 5 s
    };

    /**
     * Set this object's callbacks (empty members are not called); they live with this
     * object (a move keeps them). An exception a callback throws fails the cache call
     * that called it, with the page lock released and that call's change not made
     * (cache.h), and is rethrown from that call unchanged. Callbacks run on the calling
     * thread. Must not race other calls on this object. Throws shmds::error (-EINVAL:
     * fill_wait beyond one hour).
     */
    void set_callbacks(callbacks cb) {
        auto st = std::make_unique<callbacks>(std::move(cb));
        shmds_cache_callbacks_t c = SHMDS_CACHE_CALLBACKS_INIT;
        c.ctx = st.get();
        if (st->read_cb) c.read_cb = &read_tramp;
        if (st->write_cb) c.write_cb = &write_tramp;
        if (st->delete_cb) c.delete_cb = &delete_tramp;
        c.write_back = st->write_back;
        c.cache_not_found = st->cache_not_found;
        c.allow_recursive = st->allow_recursive;
        c.fill_wait_ms = st->fill_wait.count() < 0 ? 0 : std::uint64_t(st->fill_wait.count());
        detail::check(shmds_cache_set_callbacks(handle(), &c));
        callbacks_ = std::move(st);  // the old ones are no longer referenced
    }

    /** Remove every callback. Throws shmds::error (-EINVAL for a moved-from cache). */
    void clear_callbacks() {
        detail::check(shmds_cache_set_callbacks(handle(), nullptr));
        callbacks_.reset();
    }

    /**
     * The anchor's get_and_set: fn(current value or std::nullopt) returns the new value
     * (std::string or loaded, to give an expiry; a plain value keeps the item's expiry) or
     * std::nullopt to store nothing, all under the page lock, so concurrent updates of one
     * key from any processes never lose one. true if stored; false if fn declined or the
     * value can never fit a page (the old item stays). fn must not call this cache
     * (shmds::error -EDEADLK) unless allow_recursive, and then not on the key's page. An
     * exception fn throws leaves the old item, releases the lock and is rethrown.
     */
    template <class F>
    bool get_and_set(std::string_view k, F &&fn) {
        struct state {
            std::remove_reference_t<F> *fn;
            std::optional<std::string> keep;  // the value handed to the C API
        } st{&fn, std::nullopt};
        const int rc = relay(shmds_cache_get_and_set(
            handle(), k.data(), k.size(),
            [](void *p, const void *, size_t, const void *v, size_t vl, int found,
               shmds_cache_value_t *out) -> int {
                auto *s = static_cast<state *>(p);
                try {
                    std::optional<std::string_view> cur;
                    if (found) cur = std::string_view(static_cast<const char *>(v), vl);
                    auto r = (*s->fn)(cur);
                    if (!r) return SHMDS_CACHE_DONT_STORE;
                    out->expire_ms = expiry_of(*r);
                    s->keep = std::move(value_of(*r));
                    out->value = s->keep->data();
                    out->value_len = s->keep->size();
                    return 0;
                } catch (...) {
                    return caught();
                }
            },
            &st));
        if (rc == SHMDS_CACHE_DONT_STORE) return false;
        return stored(rc);
    }

    /**
     * The anchor's empty([only_expired]): write back the dirty items (write_back mode),
     * then remove every item (only_expired: the expired ones). Throws shmds::error, or
     * rethrows write_cb's exception (that page keeps its items; see cache.h).
     */
    void empty(bool only_expired = false) {
        detail::check(relay(shmds_cache_empty(handle(), only_expired ? 1 : 0)));
    }

private:
    // An exception thrown by a callback cannot cross the C frames: the trampoline keeps
    // it (per thread: callbacks run on the calling thread), returns -ECANCELED so the C
    // call releases its lock and fails, and relay() rethrows it from the member.
    static std::exception_ptr &pending() noexcept {
        static thread_local std::exception_ptr p;
        return p;
    }
    static int caught() noexcept {
        pending() = std::current_exception();
        return -ECANCELED;
    }
    // A store's outcome: false for the anchor's "not stored" (the record can never fit a
    // page, or a modseq / tombstone refused it); anything else but 0 throws.
    static bool stored(int rc) {
        if (rc == -ESTALE) return false;
        return detail::outcome<-E2BIG>(rc);
    }

    static int relay(int rc) {
        if (pending()) {
            std::exception_ptr e = std::move(pending());
            pending() = nullptr;
            std::rethrow_exception(e);
        }
        return rc;
    }

    // get_and_set's result: a loaded brings its expiry; a plain string keeps the item's.
    static std::uint64_t expiry_of(const loaded &l) noexcept { return l.expiry.c_value(); }
    static std::uint64_t expiry_of(const std::string &) noexcept { return SHMDS_CACHE_EXPIRE_KEEP; }
    static std::string &value_of(loaded &l) noexcept { return l.value; }
    static std::string &value_of(std::string &v) noexcept { return v; }

    static int read_tramp(void *ctx, const void *k, size_t kl, shmds_cache_value_t *out) {
        auto *cb = static_cast<callbacks *>(ctx);
        try {
            std::optional<loaded> r = cb->read_cb(std::string_view(static_cast<const char *>(k), kl));
            if (!r) return SHMDS_CACHE_NOT_FOUND;
            // Heap bytes released by the C API once copied: a read_cb may run nested.
            char *b = new char[r->value.size() + 1];
            std::memcpy(b, r->value.data(), r->value.size());
            out->value = b;
            out->value_len = r->value.size();
            out->expire_ms = r->expiry.c_value();
            out->release = [](void *, const void *p) { delete[] static_cast<const char *>(p); };
            return 0;
        } catch (...) {
            return caught();
        }
    }
    static int write_tramp(void *ctx, const void *k, size_t kl, const void *v, size_t vl,
                           uint64_t expire_on_ms) {
        try {
            static_cast<callbacks *>(ctx)->write_cb(
                std::string_view(static_cast<const char *>(k), kl),
                std::string_view(static_cast<const char *>(v), vl), expire_on_ms);
            return 0;
        } catch (...) {
            return caught();
        }
    }
    static int delete_tramp(void *ctx, const void *k, size_t kl) {
        try {
            static_cast<callbacks *>(ctx)->delete_cb(std::string_view(static_cast<const char *>(k), kl));
            return 0;
        } catch (...) {
            return caught();
        }
    }

    std::unique_ptr<callbacks> callbacks_;  // the C API's ctx: a stable address across moves

    // The value of a get-shaped C verb into `out`, grown to the length needed after
    // -ENOBUFS (which changed nothing). false on -ENOENT; throws on anything else.
    using get_verb = int (*)(shmds_cache_t *, const void *, size_t, void *, size_t, size_t *);
    bool read_value(std::string &out, get_verb fn, std::string_view k) {
        const int rc = detail::read_bytes(
            out, SHMDS_NOWAIT, [&](void *b, std::size_t n, std::size_t *len, std::int64_t) {
                return relay(fn(handle(), k.data(), k.size(), b, n, len));
            });
        return detail::outcome<-ENOENT>(rc);
    }

    // shmds_cache_get_keys with a C++ callable. An exception thrown by f (bad_alloc)
    // must not cross the C frames: it stops the walk and is rethrown here.
    template <class F>
    void walk(key_detail d, F &&f) {
        struct state {
            F *f;
            std::exception_ptr failed;
        } st{&f, nullptr};
        const int rc = shmds_cache_get_keys(
            handle(), static_cast<int>(d),
            [](const shmds_cache_entry_t *e, void *p) -> int {
                auto *s = static_cast<state *>(p);
                try {
                    (*s->f)(*e);
                    return 0;
                } catch (...) {
                    s->failed = std::current_exception();
                    return 1;
                }
            },
            &st);
        if (st.failed) std::rethrow_exception(st.failed);
        detail::check(rc);
    }
};

}  // namespace shmds

#endif  // SHMDS_CACHE_HPP
