// libshmds C++ veneer: shmds::hash_map<K, V> over the C hash map API (shmds/hashmap.h).
//
//   auto m = shmds::hash_map<std::string, std::int64_t>::create(
//       shmds::backing::path("/dev/shm/counts"), 100000);
//   m.put("apples", 3);
//   if (auto n = m.get("apples")) use(*n);           // std::nullopt when absent
//   std::int64_t seen = m.incr("pears");             // a missing key starts from 0
//   auto [v, inserted] = m.get_or_set("plums", 7);   // one atomic step across processes
//
// K is std::int16_t, std::int32_t, std::int64_t or std::string (bytes keys); V is one of
// the integers, double or std::string (bytes values). The pair picks the C verbs' shape
// (_ii, _ib, _bi, _bb, _if, _bf) and the map's key and value types at compile time; a
// map of other types is refused when opened or adopted (SHMDS_ETYPE). Bytes keys and values are
// passed as std::string_view and are byte-exact: NUL, 0xFF and the empty string too.
//
//   for (const auto &[k, v] : m) use(k, v);        // every entry present throughout, once
//   for (const auto &k : m.keys()) use(k);         // and m.values()
//   auto c = m.cursor(); c.seek("pears"); auto rest = c.next_batch(100);
//
// Iteration walks a C cursor (hashmap.h, "cursors"). The iterators, views and cursors
// share ownership of the map's handle, so the C rule "destroy a cursor before closing its
// handle" holds by construction: a map destroyed or moved from while a walk goes on stays
// mapped until the walk's last iterator or cursor is gone. Removing through the same
// map object while iterating is safe (its removes do not shrink a table while a cursor
// lives). A table rebuild under the walk (a grow from inserting, a shrink caused through
// another handle or process, a clear) throws shmds::error(-ESTALE) from the iterator's ++
// (or begin()) instead of skipping or repeating an entry: the C API offers no correct
// continuation, so the walk ends there; reserve() before a walk that inserts avoids the grow.
// A walk (an iterator and its copies, or a cursor) is used by one thread at a time; the
// map itself may be shared by threads, each walking with its own.
//
// "Absent", "already present" and "the value differs" are values (std::optional, bool);
// every other failure the C function reports throws shmds::error (a member marked
// noexcept never throws): -ENOSPC for a full map or arena, -ERANGE for a counter that
// would overflow, -E2BIG for a bytes key or value that can never fit, -ETIMEDOUT when a
// shard's lock stayed held past set_lock_timeout() (forever by default). No verb waits
// for anything but another process's critical section (hashmap.h, "Blocking"); reads
// take no lock. Crash behaviour and thread safety are those of the C API.
#ifndef SHMDS_HASHMAP_HPP
#define SHMDS_HASHMAP_HPP

#include <shmds/detail.hpp>
#include <shmds/hashmap.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace shmds {

namespace detail {

/** The shmds_type_t of a hash map key or value type. */
template <class T>
struct hashmap_type;
template <>
struct hashmap_type<std::int16_t> : std::integral_constant<int, SHMDS_TYPE_INT16> {};
template <>
struct hashmap_type<std::int32_t> : std::integral_constant<int, SHMDS_TYPE_INT32> {};
template <>
struct hashmap_type<std::int64_t> : std::integral_constant<int, SHMDS_TYPE_INT64> {};
template <>
struct hashmap_type<double> : std::integral_constant<int, SHMDS_TYPE_F64> {};
template <>
struct hashmap_type<std::string> : std::integral_constant<int, SHMDS_TYPE_BYTES> {};

/** How a value crosses the C API: as an int64_t, a double or (pointer, length). */
enum class hashmap_value_kind { integer, f64, bytes };

/**
 * The C verbs that take a key and a value, by shape: the key's kind (bytes or an
 * integer) and the value's. One table per shape, so each verb of hash_map is written
 * once. The f64 shapes have no counters, which live in hashmap_key_verbs.
 */
template <bool BytesKey, hashmap_value_kind Value>
struct hashmap_verbs;

#define SHMDS_HASHMAP_VERBS_(BytesKey, Value, shape)                          \
    template <>                                                               \
    struct hashmap_verbs<BytesKey, hashmap_value_kind::Value> {               \
        static constexpr auto put = shmds_hashmap_put_##shape;                \
        static constexpr auto add = shmds_hashmap_add_##shape;                \
        static constexpr auto update = shmds_hashmap_update_##shape;          \
        static constexpr auto swap = shmds_hashmap_swap_##shape;              \
        static constexpr auto cas = shmds_hashmap_cas_##shape;                \
        static constexpr auto get_or_set = shmds_hashmap_get_or_set_##shape;  \
        static constexpr auto take = shmds_hashmap_take_##shape;              \
        static constexpr auto get = shmds_hashmap_get_##shape;                \
        static constexpr auto cas_take = shmds_hashmap_cas_take_##shape;      \
        static constexpr auto put_batch = shmds_hashmap_put_batch_##shape;    \
        static constexpr auto get_batch = shmds_hashmap_get_batch_##shape;    \
        static constexpr auto cursor_next = shmds_hashmap_cursor_next_##shape; \
        static constexpr auto put_ttl = shmds_hashmap_put_ttl_##shape;        \
        static constexpr auto add_ttl = shmds_hashmap_add_ttl_##shape;        \
        static constexpr auto update_ttl = shmds_hashmap_update_ttl_##shape;  \
        static constexpr auto get_with_ttl = shmds_hashmap_get_with_ttl_##shape; \
        static constexpr auto pop = shmds_hashmap_pop_##shape;                \
        static constexpr auto shift = shmds_hashmap_shift_##shape;            \
    }
SHMDS_HASHMAP_VERBS_(false, integer, ii);
SHMDS_HASHMAP_VERBS_(false, bytes, ib);
SHMDS_HASHMAP_VERBS_(false, f64, if);
SHMDS_HASHMAP_VERBS_(true, integer, bi);
SHMDS_HASHMAP_VERBS_(true, bytes, bb);
SHMDS_HASHMAP_VERBS_(true, f64, bf);
#undef SHMDS_HASHMAP_VERBS_

/** The C verbs that take only a key (and a delta), by the key's kind. */
template <bool BytesKey>
struct hashmap_key_verbs;
template <>
struct hashmap_key_verbs<false> {
    static constexpr auto remove = shmds_hashmap_remove_i;
    static constexpr auto exists = shmds_hashmap_exists_i;
    static constexpr auto incr_by = shmds_hashmap_incr_by_i;
    static constexpr auto incr = shmds_hashmap_incr_i;
    static constexpr auto decr = shmds_hashmap_decr_i;
    static constexpr auto max = shmds_hashmap_max_i;
    static constexpr auto min = shmds_hashmap_min_i;
    static constexpr auto remove_batch = shmds_hashmap_remove_batch_i;
    static constexpr auto cursor_seek = shmds_hashmap_cursor_seek_i;
    static constexpr auto ttl_remaining = shmds_hashmap_ttl_remaining_i;
    static constexpr auto touch = shmds_hashmap_touch_i;
    static constexpr auto persist = shmds_hashmap_persist_i;
    static constexpr auto set_ttl = shmds_hashmap_set_ttl_i;
};
template <>
struct hashmap_key_verbs<true> {
    static constexpr auto remove = shmds_hashmap_remove_b;
    static constexpr auto exists = shmds_hashmap_exists_b;
    static constexpr auto incr_by = shmds_hashmap_incr_by_b;
    static constexpr auto incr = shmds_hashmap_incr_b;
    static constexpr auto decr = shmds_hashmap_decr_b;
    static constexpr auto max = shmds_hashmap_max_b;
    static constexpr auto min = shmds_hashmap_min_b;
    static constexpr auto remove_batch = shmds_hashmap_remove_batch_b;
    static constexpr auto cursor_seek = shmds_hashmap_cursor_seek_b;
    static constexpr auto ttl_remaining = shmds_hashmap_ttl_remaining_b;
    static constexpr auto touch = shmds_hashmap_touch_b;
    static constexpr auto persist = shmds_hashmap_persist_b;
    static constexpr auto set_ttl = shmds_hashmap_set_ttl_b;
};

/**
 * detail::read_bytes for the map's verbs that return 1 or 0 with a value in the buffer
 * (swap: 1 = present, the old value; get_or_set: 1 = present, 0 = inserted): read_bytes
 * keeps the bytes only on 0, so the flag is carried around it. f(buf, buf_size, &len)
 * is called again, with a buffer of the length needed, after -ENOBUFS (which changed
 * nothing). Returns f's last code; `out` holds the value on >= 0 (empty if f wrote none).
 */
template <class F>
int hashmap_read_bytes(std::string &out, F &&f) {
    int flag = 0;
    const int rc = read_bytes(out, SHMDS_NOWAIT,
                              [&](void *buf, std::size_t size, std::size_t *len, std::int64_t) {
                                  const int r = f(buf, size, len);
                                  flag = r > 0 ? r : 0;
                                  return r > 0 ? 0 : r;
                              });
    return rc < 0 ? rc : flag;
}

/** The value kind of a hash map value type. */
template <class V>
constexpr hashmap_value_kind hashmap_value_kind_of = std::is_same_v<V, std::string> ? hashmap_value_kind::bytes
                                                     : std::is_same_v<V, double> ? hashmap_value_kind::f64
                                                                                 : hashmap_value_kind::integer;

/** A key's C arguments, as a tuple to splice into a call: (int64_t) or (pointer, length). */
inline std::tuple<std::int64_t> hashmap_key_parts(std::int64_t k) noexcept {
    return std::tuple<std::int64_t>(k);
}
inline std::tuple<const void *, std::size_t> hashmap_key_parts(std::string_view k) noexcept {
    return std::tuple<const void *, std::size_t>(k.data(), k.size());
}

/**
 * Whether a range hands out references to elements it owns, so that a std::string_view
 * taken from one stays valid for the whole batch call (a range of temporaries would
 * leave the batch reading freed strings).
 */
template <class Range>
constexpr bool hashmap_range_of_lvalues =
    std::is_lvalue_reference_v<decltype(*std::begin(std::declval<const Range &>()))>;

/** What a walk yields: whole entries (key, value), keys only or values only. */
enum class hashmap_walk { items, keys, values };

/**
 * One C cursor and the map handle it walks, declared in that order so that the cursor is
 * destroyed before this share of the handle is released: the C rule "destroy a cursor
 * before closing its handle" cannot be broken from C++, whatever happens to the hash_map
 * object. Not thread-safe (one C cursor must not be used by two threads at once).
 */
template <class K, class V>
class hashmap_cursor_core {
    static constexpr bool key_is_bytes = std::is_same_v<K, std::string>;
    static constexpr hashmap_value_kind value_kind = hashmap_value_kind_of<V>;
    using verbs = hashmap_verbs<key_is_bytes, value_kind>;
    using key_verbs = hashmap_key_verbs<key_is_bytes>;

public:
    /** A cursor at the start of `map`. Throws shmds::error (-EINVAL for no map, -ENOMEM). */
    explicit hashmap_cursor_core(std::shared_ptr<shmds_hashmap_t> map)
        : map_(std::move(map)), c_(new_handle(shmds_hashmap_cursor_create, map_.get())) {}

    /**
     * The next entry into *k and *v (either may be NULL to skip it; a std::string keeps
     * its buffer): true, or false at the end. Throws shmds::error: -ESTALE (the shard was
     * rebuilt under the cursor: reset() to start over), SHMDS_ECORRUPT.
     */
    bool next(K *k, V *v) { return check(read_entry(verbs::cursor_next, c_.get(), k, v)) != 0; }

    /**
     * fn(h, key outputs..., value outputs...), a C verb that hands out one entry
     * (cursor_next, pop, shift): grows bytes outputs and calls again after -ENOBUFS
     * (which changed nothing), then decodes *k and *v (either may be NULL) on a code
     * >= 0. Returns fn's last code.
     */
    template <class F, class H>
    static int read_entry(F fn, H *h, K *k, V *v) {
        for (;;) {
            std::int64_t ik = 0, iv = 0;
            std::size_t klen = 0, vlen = 0;
            make_room(k);
            make_room(v);
            const int rc = std::apply(
                fn, std::tuple_cat(std::make_tuple(h), key_out(k, ik, klen), value_out(v, iv, vlen)));
            if (rc == -ENOBUFS) {
                const bool grew_k = grow(k, klen), grew_v = grow(v, vlen);
                if (grew_k || grew_v) continue;
            }
            if (rc >= 0) {
                finish(k, ik, klen);
                finish(v, iv, vlen);
            }
            return rc;
        }
    }

    /**
     * Up to `max` entries in one C call (shmds_hashmap_cursor_next_batch); fewer when
     * the next entry does not fit the buffers, none only at the end. Throws as next().
     */
    std::vector<std::pair<K, V>> next_batch(std::size_t max) {
        std::vector<std::pair<K, V>> out;
        check(read_batch(
            [&](auto... a) { return shmds_hashmap_cursor_next_batch(c_.get(), a...); }, max,
            kbuf_, vbuf_, lens_, out));
        return out;
    }

    /**
     * One call of a C verb that packs entries into buffers (cursor_next_batch,
     * drain_batch): fn(keys, keys_size, key_lens, values, values_size, value_lens, max).
     * Sizes the buffers, grows them and calls again while not even the first entry fits
     * (-ENOBUFS, which consumed nothing), then appends the entries to `out`, decoded.
     * Returns fn's last code: the count, or a negative code (out unchanged).
     */
    template <class F>
    static int read_batch(F &&fn, std::size_t max, std::string &kbuf, std::string &vbuf,
                          std::vector<std::size_t> &lens, std::vector<std::pair<K, V>> &out) {
        if (max == 0) return 0;
        if (max > 65536) max = 65536;  // one call's buffers stay modest (and max <= INT_MAX)
        lens.resize(2 * max);
        std::size_t *klens = lens.data(), *vlens = lens.data() + max;
        // Integers and doubles take exactly 8 bytes; bytes start at 64 each on average.
        fit(kbuf, max * (key_is_bytes ? 64 : 8));
        fit(vbuf, max * (value_kind == hashmap_value_kind::bytes ? 64 : 8));
        int n;
        for (;;) {
            n = fn(&kbuf[0], kbuf.size(), klens, &vbuf[0], vbuf.size(), vlens, max);
            if (n != -ENOBUFS) break;
            // Not even the first entry fits: its lengths are in klens[0] and vlens[0].
            const bool grew_k = fit(kbuf, klens[0]), grew_v = fit(vbuf, vlens[0]);
            if (!grew_k && !grew_v) break;
        }
        if (n <= 0) return n;
        out.reserve(out.size() + std::size_t(n));
        std::size_t koff = 0, voff = 0;
        for (std::size_t i = 0; i < std::size_t(n); ++i) {
            out.emplace_back(decode<K>(kbuf.data() + koff, klens[i]),
                             decode<V>(vbuf.data() + voff, vlens[i]));
            koff += klens[i];
            voff += vlens[i];
        }
        return n;
    }

    /** Back to the start; clears -ESTALE. Never blocks. */
    void reset() { check(shmds_hashmap_cursor_reset(c_.get())); }

    /**
     * Position on `k` so that the next entry is k's, then those after it in cursor
     * order; false (the cursor unchanged) if k is absent. Clears -ESTALE.
     */
    template <class KeyArg>
    bool seek(KeyArg k) {
        return outcome<-ENOENT>(std::apply(
            key_verbs::cursor_seek, std::tuple_cat(std::make_tuple(c_.get()), hashmap_key_parts(k))));
    }

private:
    template <class T>
    static constexpr bool is_bytes = std::is_same_v<T, std::string>;

    // A bytes output starts at the room its string already has (a reused string
    // allocates nothing in a steady state); -ENOBUFS grows it to the length needed.
    template <class T>
    static void make_room(T *out) {
        if constexpr (is_bytes<T>)
            if (out) out->resize(out->capacity() > 32 ? out->capacity() : 32);
    }
    template <class T>
    static bool grow(T *out, std::size_t needed) {
        if constexpr (is_bytes<T>)
            if (out && needed > out->size()) {
                out->resize(needed);
                return true;
            }
        return false;
    }
    static bool fit(std::string &buf, std::size_t size) {
        if (size <= buf.size()) return false;
        buf.resize(size);
        return true;
    }
    template <class T>
    static void finish(T *out, std::int64_t word, std::size_t len) {
        if (!out) return;
        if constexpr (is_bytes<T>)
            out->resize(len);
        else if constexpr (std::is_integral_v<T>)
            *out = T(word);  // the C API stores only values that fit the map's width
    }

    // The C output arguments of a key or value: (int64_t *), (double *) or (buf, size, len),
    // all NULL when not wanted.
    static auto key_out(K *k, std::int64_t &word, std::size_t &len) noexcept {
        if constexpr (key_is_bytes)
            return std::tuple<void *, std::size_t, std::size_t *>(
                k ? &(*k)[0] : nullptr, k ? k->size() : 0, k ? &len : nullptr);
        else
            return std::tuple<std::int64_t *>(k ? &word : nullptr);
    }
    static auto value_out(V *v, std::int64_t &word, std::size_t &len) noexcept {
        if constexpr (value_kind == hashmap_value_kind::bytes)
            return std::tuple<void *, std::size_t, std::size_t *>(
                v ? &(*v)[0] : nullptr, v ? v->size() : 0, v ? &len : nullptr);
        else if constexpr (value_kind == hashmap_value_kind::f64)
            return std::tuple<double *>(v);
        else
            return std::tuple<std::int64_t *>(v ? &word : nullptr);
    }

    // One packed key or value of a next_batch: integers and doubles are 8 bytes.
    template <class T>
    static T decode(const char *p, std::size_t len) {
        if constexpr (is_bytes<T>) {
            return T(p, len);
        } else if constexpr (std::is_same_v<T, double>) {
            double d;
            std::memcpy(&d, p, sizeof d);
            return d;
        } else {
            std::int64_t x;
            std::memcpy(&x, p, sizeof x);
            return T(x);
        }
    }

    std::shared_ptr<shmds_hashmap_t> map_;  // first: released after the cursor is destroyed
    unique_handle<shmds_hashmap_cursor_t, shmds_hashmap_cursor_destroy> c_;
    std::string kbuf_, vbuf_;       // next_batch's packed keys and values, reused
    std::vector<std::size_t> lens_;  // next_batch's key and value lengths, reused
};

/**
 * An input iterator over a cursor: entries (std::pair<K, V>), keys or values. It holds
 * its current element (a copy: writing to it does not change the map); copies share one
 * cursor, so advancing one moves them all (as std::istream_iterator's copies share a
 * stream). At the end it lets its cursor go and equals the default-constructed iterator.
 */
template <class K, class V, hashmap_walk W>
class hashmap_iterator {
    using core = hashmap_cursor_core<K, V>;

public:
    using iterator_category = std::input_iterator_tag;
    using value_type = std::conditional_t<W == hashmap_walk::items, std::pair<K, V>,
                                          std::conditional_t<W == hashmap_walk::keys, K, V>>;
    using difference_type = std::ptrdiff_t;
    using pointer = const value_type *;
    using reference = const value_type &;

    /** The end. */
    hashmap_iterator() noexcept = default;
    /** On the next element of `c` (the end if there is none). Throws as operator++. */
    explicit hashmap_iterator(std::shared_ptr<core> c) : c_(std::move(c)) { ++*this; }

    reference operator*() const noexcept { return item_; }
    pointer operator->() const noexcept { return &item_; }

    /**
     * The next element. Throws shmds::error(-ESTALE) when a table rebuild under the
     * walk would make it skip or repeat an entry, SHMDS_ECORRUPT for a damaged map.
     */
    hashmap_iterator &operator++() {
        if (!c_) return *this;
        bool more;
        if constexpr (W == hashmap_walk::items)
            more = c_->next(&item_.first, &item_.second);
        else if constexpr (W == hashmap_walk::keys)
            more = c_->next(&item_, nullptr);
        else
            more = c_->next(nullptr, &item_);
        if (!more) c_.reset();
        return *this;
    }
    hashmap_iterator operator++(int) {
        hashmap_iterator old = *this;
        ++*this;
        return old;
    }

    friend bool operator==(const hashmap_iterator &a, const hashmap_iterator &b) noexcept {
        return a.c_ == b.c_;
    }
    friend bool operator!=(const hashmap_iterator &a, const hashmap_iterator &b) noexcept {
        return !(a == b);
    }

private:
    std::shared_ptr<core> c_;
    value_type item_{};
};

/**
 * A range over a map (map.keys(), map.values()): each begin() walks a new cursor. Holds
 * a share of the map's handle, so it may outlive the hash_map object it came from.
 */
template <class K, class V, hashmap_walk W>
class hashmap_view {
public:
    using iterator = hashmap_iterator<K, V, W>;
    explicit hashmap_view(std::shared_ptr<shmds_hashmap_t> map) noexcept : map_(std::move(map)) {}
    /** A new walk from the start. Throws shmds::error (-EINVAL for a moved-from map). */
    iterator begin() const {
        return iterator(std::make_shared<hashmap_cursor_core<K, V>>(map_));
    }
    iterator end() const noexcept { return iterator(); }

private:
    std::shared_ptr<shmds_hashmap_t> map_;
};

}  // namespace detail

/**
 * An explicit position in a hash_map (map.cursor()), for walks that need control: step
 * one entry or a batch at a time, seek to a key, reset. Holds a share of the map's
 * handle (it may outlive the hash_map object). Move-only; one cursor must not be used by
 * two threads at once. While it lives, removes through its map's handle do not shrink a
 * table (hashmap.h, "cursors"): destroy cursors you no longer need.
 *
 * Every step throws shmds::error(-ESTALE) once a table rebuild in the shard being walked
 * (a grow, a shrink through another handle, a clear) would make it skip or repeat an
 * entry; reset() starts over. A moved-from cursor throws -EINVAL.
 */
template <class K, class V>
class hashmap_cursor {
    using core = detail::hashmap_cursor_core<K, V>;

public:
    using key_arg = std::conditional_t<std::is_same_v<K, std::string>, std::string_view, K>;
    /** begin() continues from the cursor's position; its copies share the position. */
    using iterator = detail::hashmap_iterator<K, V, detail::hashmap_walk::items>;

    /** A cursor at the start of `map` (a hash_map's share of its handle). */
    explicit hashmap_cursor(std::shared_ptr<shmds_hashmap_t> map)
        : c_(std::make_shared<core>(std::move(map))) {}
    hashmap_cursor(hashmap_cursor &&) noexcept = default;
    hashmap_cursor &operator=(hashmap_cursor &&) noexcept = default;
    hashmap_cursor(const hashmap_cursor &) = delete;
    hashmap_cursor &operator=(const hashmap_cursor &) = delete;

    /** The next entry, or std::nullopt at the end (it stays there until reset()). */
    std::optional<std::pair<K, V>> next() {
        std::pair<K, V> item;
        if (!get().next(&item.first, &item.second)) return std::nullopt;
        return item;
    }
    /** The next entry into k and v (reused strings keep their buffers); false at the end. */
    bool next(K &k, V &v) { return get().next(&k, &v); }
    /** The next entry's key alone, or std::nullopt at the end. */
    std::optional<K> next_key() {
        K k{};
        if (!get().next(&k, nullptr)) return std::nullopt;
        return k;
    }
    /** The next entry's value alone, or std::nullopt at the end. */
    std::optional<V> next_value() {
        V v{};
        if (!get().next(nullptr, &v)) return std::nullopt;
        return v;
    }
    /**
     * Up to `max` entries in one C call; fewer when the next one does not fit this
     * call's buffers (it comes first next time), empty only at the end.
     */
    std::vector<std::pair<K, V>> next_batch(std::size_t max) { return get().next_batch(max); }
    /** Back to the start; clears -ESTALE. */
    void reset() { get().reset(); }
    /**
     * Position on `k`: the next entry is k's, then those after it in cursor order (not
     * key order); false if k is absent (the cursor unchanged). Clears -ESTALE.
     */
    bool seek(key_arg k) { return get().seek(k); }

    /** Range-for over the entries from the current position on. */
    iterator begin() {
        get();  // throws for a moved-from cursor
        return iterator(c_);
    }
    iterator end() const noexcept { return iterator(); }

private:
    core &get() const {
        if (!c_) throw error(-EINVAL, "shmds::hashmap_cursor: the cursor was moved from");
        return *c_;
    }
    std::shared_ptr<core> c_;
};

/**
 * A key-value map in shared memory with lock-free reads; move-only. Its handle is closed
 * when the map and every iterator, view and cursor taken from it are gone (those hold a
 * share of it, so a cursor is always destroyed before its handle is closed). A moved-from
 * map holds NULL: its verbs throw -EINVAL and its gauges read zero.
 */
template <class K, class V>
class hash_map
    : public detail::eventfd_verbs<hash_map<K, V>, shmds_hashmap_eventfd, shmds_hashmap_set_eventfd,
                                   shmds_hashmap_notify, shmds_hashmap_eventfd_consume> {
    static_assert(std::is_same_v<K, std::int16_t> || std::is_same_v<K, std::int32_t> ||
                      std::is_same_v<K, std::int64_t> || std::is_same_v<K, std::string>,
                  "shmds::hash_map keys are std::int16_t, std::int32_t, std::int64_t or "
                  "std::string (whose verbs take std::string_view)");
    static_assert(std::is_same_v<V, std::int16_t> || std::is_same_v<V, std::int32_t> ||
                      std::is_same_v<V, std::int64_t> || std::is_same_v<V, double> ||
                      std::is_same_v<V, std::string>,
                  "shmds::hash_map values are std::int16_t, std::int32_t, std::int64_t, "
                  "double or std::string (whose verbs take std::string_view)");

    static constexpr bool key_is_bytes = std::is_same_v<K, std::string>;
    static constexpr detail::hashmap_value_kind value_kind = detail::hashmap_value_kind_of<V>;
    static constexpr bool value_is_bytes = value_kind == detail::hashmap_value_kind::bytes;
    using verbs = detail::hashmap_verbs<key_is_bytes, value_kind>;
    using key_verbs = detail::hashmap_key_verbs<key_is_bytes>;
    template <class U>
    using integer_values_only =
        std::enable_if_t<std::is_same_v<U, V> && std::is_integral_v<U>, int>;

public:
    using key_type = K;
    using mapped_type = V;
    /** What the verbs take: the type itself, or std::string_view for bytes. */
    using key_arg = std::conditional_t<key_is_bytes, std::string_view, K>;
    using value_arg = std::conditional_t<std::is_same_v<V, std::string>, std::string_view, V>;
    using stats_type = shmds_hashmap_stats_t;
    using handle_type = shmds_hashmap_t;
    /** Range-for over the map yields these (copies of the entries). */
    using value_type = std::pair<K, V>;
    using iterator = detail::hashmap_iterator<K, V, detail::hashmap_walk::items>;
    using key_view = detail::hashmap_view<K, V, detail::hashmap_walk::keys>;
    using value_view = detail::hashmap_view<K, V, detail::hashmap_walk::values>;
    using cursor_type = hashmap_cursor<K, V>;

    /** The map's key and value types as common.h's shmds_type_t. */
    static constexpr int key_type_code = detail::hashmap_type<K>::value;
    static constexpr int value_type_code = detail::hashmap_type<V>::value;

    /**
     * Create a map of at most `max_entries` entries over `shards` independent locks and
     * tables (a power of two up to 256; 0 = 1), with, for bytes keys or values, an arena
     * of `arena_bytes` for keys over 16 and values over 32 bytes (0 picks the default;
     * must be 0 for an integer-only map); or attach to the map of these types already at
     * that path (its geometry wins). Throws shmds::error (-EINVAL bad geometry, -EEXIST
     * with exclusive(), SHMDS_ETYPE another structure or other types, ...). Waits only
     * for a concurrent creator.
     */
    static hash_map create(const backing &where, std::uint64_t max_entries,
                           std::uint64_t shards = 0, std::uint64_t arena_bytes = 0) {
        shmds_hashmap_config_t cfg =
            SHMDS_HASHMAP_CONFIG_INIT(key_type_code, value_type_code, max_entries);
        cfg.shards = shards;
        cfg.arena_bytes = arena_bytes;
        return hash_map(detail::new_handle(shmds_hashmap_create, where.options(), &cfg));
    }

    /**
     * A C config for this class's key and value types (SHMDS_HASHMAP_CONFIG_INIT), to set
     * what create()'s arguments do not reach: flags (SHMDS_HASHMAP_EVICT) and
     * default_ttl_ms, then pass to create(where, cfg). Never throws.
     */
    static shmds_hashmap_config_t config(std::uint64_t max_entries) noexcept {
        return SHMDS_HASHMAP_CONFIG_INIT(key_type_code, value_type_code, max_entries);
    }

    /**
     * Create (or attach to) a map from a full C config, e.g. an evicting map with a
     * default TTL: `auto c = config(1000); c.flags = SHMDS_HASHMAP_EVICT;
     * c.default_ttl_ms = 60000; create(where, c)`. Throws SHMDS_ETYPE if cfg's key or
     * value type is not this class's, else as create() above.
     */
    static hash_map create(const backing &where, const shmds_hashmap_config_t &cfg) {
        if (cfg.key_type != key_type_code || cfg.value_type != value_type_code)
            throw error(SHMDS_ETYPE, "shmds::hash_map::create: the config's key or value type "
                                     "is not the class's (use hash_map::config())");
        return hash_map(detail::new_handle(shmds_hashmap_create, where.options(), &cfg));
    }

    /**
     * Attach to an existing map of these types (a path or a received fd). Throws
     * shmds::error (-ENOENT, SHMDS_ETYPE another structure or other types, -EINVAL for
     * an anonymous backing, ...).
     */
    static hash_map open(const backing &where) {
        return hash_map(detail::new_handle(shmds_hashmap_open, where.options(), key_type_code,
                                           value_type_code));
    }

    /**
     * Attach to a frozen map (see freeze()) mapped read-only: the file is opened
     * O_RDONLY, so read permission is enough. Reads, iteration and stats work; every
     * write throws -EROFS and touches nothing. Throws shmds::error (-EPERM: the map is
     * not frozen; as open()).
     */
    static hash_map open_read_only(const backing &where) {
        return hash_map(detail::new_handle(shmds_hashmap_open_read_only, where.options(),
                                           key_type_code, value_type_code));
    }

    /**
     * Adopt a C handle (takes ownership; NULL gives a moved-from map). Throws
     * SHMDS_ETYPE, after closing the handle, if its map has other key or value types:
     * the C verbs would refuse only a different shape, not a different integer width.
     */
    explicit hash_map(shmds_hashmap_t *handle) : h_(adopt(handle)) {
        if (handle && (shmds_hashmap_key_type(handle) != key_type_code ||
                       shmds_hashmap_value_type(handle) != value_type_code))
            throw error(SHMDS_ETYPE, "shmds::hash_map: the adopted map has other key or "
                                     "value types than the class");
    }
    hash_map(hash_map &&) noexcept = default;
    /** Gives up this map's share of its old handle (closed if nothing else holds it). */
    hash_map &operator=(hash_map &&) noexcept = default;
    hash_map(const hash_map &) = delete;
    hash_map &operator=(const hash_map &) = delete;

    /** The C handle, for the C API; still owned by this object. Never blocks or throws. */
    shmds_hashmap_t *handle() const noexcept { return h_.get(); }

    // ---- writes: each takes the key's shard lock for microseconds ----

    /** Insert or overwrite. Throws -ENOSPC (map or arena full), -E2BIG. */
    void put(key_arg k, value_arg v) { detail::check(call(verbs::put, key(k), value(v))); }

    /** Insert only if absent; false (unchanged) if present. Throws as put(). */
    bool add(key_arg k, value_arg v) {
        return detail::outcome<-EEXIST>(call(verbs::add, key(k), value(v)));
    }

    /** Overwrite only if present; false if absent. Throws as put() (-ENOSPC: the arena). */
    bool update(key_arg k, value_arg v) {
        return detail::outcome<-ENOENT>(call(verbs::update, key(k), value(v)));
    }

    /**
     * Insert or overwrite; the old value, or std::nullopt if the key was absent (and is
     * now inserted). Throws as put().
     */
    std::optional<V> swap(key_arg k, value_arg v) {
        V old{};
        if (detail::check(read_value(old, verbs::swap, key(k), value(v))) == 0)
            return std::nullopt;  // absent: inserted
        return old;
    }

    /**
     * Replace the value with `desired` only if it equals `expected` (bytes: the same
     * bytes; double: the same 8 bytes, so 0.0 is not -0.0); false if it differs or the
     * key is absent (then nothing changes). Atomic against every other writer. Throws as put().
     */
    bool cas(key_arg k, value_arg expected, value_arg desired) {
        return detail::outcome<-ECANCELED, -ENOENT>(
            call(verbs::cas, key(k), value(expected), value(desired)));
    }

    /**
     * The stored value, inserting `v` first if the key is absent, in one atomic step:
     * of racing callers exactly one inserts and all get the same value. `second` is true
     * if this call inserted (as std::unordered_map::try_emplace says). Throws as put().
     */
    std::pair<V, bool> get_or_set(key_arg k, value_arg v) {
        std::pair<V, bool> out{};
        const int rc = read_value(out.first, verbs::get_or_set, key(k), value(v));
        out.second = detail::check(rc) == 0;  // 1: it was present
        return out;
    }

    /** Remove and return the value; std::nullopt if absent. Throws shmds::error. */
    std::optional<V> take(key_arg k) {
        V v{};
        if (!detail::outcome<-ENOENT>(read_value(v, verbs::take, key(k)))) return std::nullopt;
        return v;
    }

    /** Remove; false if absent. Throws shmds::error. */
    bool remove(key_arg k) { return detail::outcome<-ENOENT>(call(key_verbs::remove, key(k))); }

    /**
     * Remove only if the value equals `expected` (compared as cas() does); false if it
     * differs or the key is absent (nothing changes). Of racing callers taking the same
     * (key, value), exactly one gets true. Throws shmds::error (-EROFS frozen, ...).
     */
    bool cas_take(key_arg k, value_arg expected) {
        return detail::outcome<-ECANCELED, -ENOENT>(call(verbs::cas_take, key(k), value(expected)));
    }

    // ---- counters (integer values only) ----

    /**
     * Add `delta` and return the new value; a missing key starts from 0, so the first
     * incr_by(k, 5) returns 5. Atomic against every other writer. Throws -ERANGE when the
     * result does not fit V (the value is then unchanged: it never wraps), -ENOSPC when
     * a missing key cannot be inserted.
     */
    template <class U = V, integer_values_only<U> = 0>
    V incr_by(key_arg k, std::int64_t delta) {
        return counter(key_verbs::incr_by, key(k), std::make_tuple(delta));
    }
    /** incr_by(k, 1): the first incr of a missing key returns 1. Throws as incr_by(). */
    template <class U = V, integer_values_only<U> = 0>
    V incr(key_arg k) {
        return counter(key_verbs::incr, key(k), std::tuple<>());
    }
    /** incr_by(k, -1). Throws as incr_by(). */
    template <class U = V, integer_values_only<U> = 0>
    V decr(key_arg k) {
        return counter(key_verbs::decr, key(k), std::tuple<>());
    }

    /**
     * Monotonic counters: store max(stored, value) (min: the smaller), inserting `value`
     * when the key is missing. Returns the value now stored and whether this call changed
     * the map (inserted, raised or lowered). Atomic: racing callers leave exactly the
     * extreme. Throws -ERANGE (value out of V's range), -ENOSPC, -EROFS.
     */
    template <class U = V, integer_values_only<U> = 0>
    std::pair<V, bool> max(key_arg k, std::int64_t value) {
        return extreme(key_verbs::max, k, value);
    }
    /** As max(), keeping the smaller value. */
    template <class U = V, integer_values_only<U> = 0>
    std::pair<V, bool> min(key_arg k, std::int64_t value) {
        return extreme(key_verbs::min, k, value);
    }

    // ---- TTL: milliseconds of wall-clock time; 0 = never expires (hashmap.h, "TTL") ----
    // An expired entry is absent for every member. Throws -ERANGE for a ttl_ms above
    // SHMDS_HASHMAP_MAX_TTL_MS, -EROFS on a frozen map, and otherwise as put().

    /** put() giving the entry its own TTL instead of the map's default. */
    void put_ttl(key_arg k, value_arg v, std::uint64_t ttl_ms) {
        detail::check(call(verbs::put_ttl, key(k), value(v), std::make_tuple(ttl_ms)));
    }
    /** add() with its own TTL; false (unchanged) if present. */
    bool add_ttl(key_arg k, value_arg v, std::uint64_t ttl_ms) {
        return detail::outcome<-EEXIST>(call(verbs::add_ttl, key(k), value(v), std::make_tuple(ttl_ms)));
    }
    /** update() with a new TTL; false if absent. */
    bool update_ttl(key_arg k, value_arg v, std::uint64_t ttl_ms) {
        return detail::outcome<-ENOENT>(
            call(verbs::update_ttl, key(k), value(v), std::make_tuple(ttl_ms)));
    }

    /**
     * The value and its remaining TTL in ms (0: never expires), or std::nullopt if
     * absent or expired. No lock, as get(). Throws as get().
     */
    std::optional<std::pair<V, std::uint64_t>> get_with_ttl(key_arg k) const {
        std::pair<V, std::uint64_t> out{};
        std::uint64_t *ttl = &out.second;
        int rc;
        if constexpr (value_kind == detail::hashmap_value_kind::bytes) {
            rc = detail::hashmap_read_bytes(out.first, [&](void *b, std::size_t n, std::size_t *len) {
                return call(verbs::get_with_ttl, key(k), std::make_tuple(b, n, len, ttl));
            });
        } else if constexpr (value_kind == detail::hashmap_value_kind::f64) {
            rc = call(verbs::get_with_ttl, key(k), std::make_tuple(&out.first, ttl));
        } else {
            std::int64_t x = 0;
            rc = call(verbs::get_with_ttl, key(k), std::make_tuple(&x, ttl));
            out.first = V(x);
        }
        if (!detail::outcome<-ENOENT>(rc)) return std::nullopt;
        return out;
    }

    /**
     * The key's remaining TTL in ms: 0 if it never expires, std::nullopt if absent or
     * expired. No lock. Throws as get().
     */
    std::optional<std::uint64_t> ttl_remaining(key_arg k) const {
        std::uint64_t ttl = 0;
        if (!detail::outcome<-ENOENT>(call(key_verbs::ttl_remaining, key(k), std::make_tuple(&ttl))))
            return std::nullopt;
        return ttl;
    }

    /**
     * The key was used: its expiry restarts at now + the map's default TTL (a map without
     * one keeps the expiry), and on an evicting map it counts as a hit. False if absent.
     */
    bool touch(key_arg k) { return detail::outcome<-ENOENT>(call(key_verbs::touch, key(k))); }
    /** The key never expires from now on; false if absent. */
    bool persist(key_arg k) { return detail::outcome<-ENOENT>(call(key_verbs::persist, key(k))); }
    /** The key expires ttl_ms from now (0: never); false if absent. */
    bool set_ttl(key_arg k, std::uint64_t ttl_ms) {
        return detail::outcome<-ENOENT>(call(key_verbs::set_ttl, key(k), std::make_tuple(ttl_ms)));
    }

    /** Remove every expired entry; how many. Locks each shard in steps of 4096 slots. */
    std::uint64_t flush_expired() {
        std::uint64_t removed = 0;
        detail::check(shmds_hashmap_flush_expired(handle(), &removed));
        return removed;
    }
    /**
     * A bounded flush over at most about max_slots slots, continuing where the last one
     * stopped: how many it removed, and whether the sweep has now covered every shard
     * (then the next call starts a new pass). Throws -EINVAL for max_slots 0.
     */
    std::pair<std::uint64_t, bool> flush_expired_partial(std::uint64_t max_slots) {
        std::uint64_t removed = 0;
        const int rc = detail::check(shmds_hashmap_flush_expired_partial(handle(), max_slots, &removed));
        return {removed, rc == 1};
    }

    /**
     * This handle's clock (tests step time instead of sleeping): now_ms(ctx) returns
     * wall-clock milliseconds; nullptr restores CLOCK_REALTIME. Must not race other
     * calls on this map object.
     */
    void set_clock(std::uint64_t (*now_ms)(void *ctx), void *ctx) {
        detail::check(shmds_hashmap_set_clock(handle(), now_ms, ctx));
    }

    /**
     * How long this map object's calls wait for a shard's lock that a live thread holds
     * (a stopped or stuck peer) before throwing shmds::error with -ETIMEDOUT; nothing is
     * changed then. Zero or negative: never wait (-EAGAIN when the lock is held);
     * nanoseconds::max() (or any longer duration): forever, the default. A dead holder
     * is taken over whatever the bound. See shmds_hashmap_set_lock_timeout() for how
     * each verb fails and why the default is forever. Safe while other threads use it.
     */
    template <class Rep, class Period>
    void set_lock_timeout(std::chrono::duration<Rep, Period> d) {
        detail::check(shmds_hashmap_set_lock_timeout(handle(), detail::to_timeout_ns(d)));
    }

    // ---- eviction order (maps created with SHMDS_HASHMAP_EVICT; -EINVAL otherwise) ----

    /** Remove and return the entry eviction would take next; std::nullopt if empty. */
    std::optional<value_type> pop() { return take_entry(verbs::pop); }
    /** Remove and return the newest entry; std::nullopt if empty. */
    std::optional<value_type> shift() { return take_entry(verbs::shift); }
    /**
     * Remove up to n entries in eviction order, as n pops, and return them in that order
     * (fewer when the map empties: an empty map gives an empty vector). Takes the shard
     * lock once per entry (shmds_hashmap_drain_batch, up to 1024 entries per C call).
     * Throws shmds::error: -EINVAL (not an evicting map), -EROFS (frozen or read-only),
     * SHMDS_ECORRUPT; an error met after some entries were removed returns those
     * entries (they are out of the map) and the error comes with the next call.
     */
    std::vector<value_type> drain(std::uint64_t n) {
        std::vector<value_type> out;
        if (n == 0) {  // still refused on a map that cannot drain (-EINVAL, -EROFS)
            detail::check(shmds_hashmap_drain_batch(handle(), nullptr, 0, nullptr, nullptr, 0,
                                                    nullptr, 0));
            return out;
        }
        std::string kbuf, vbuf;
        std::vector<std::size_t> lens;
        do {
            const std::uint64_t left = n - out.size();
            const int got = detail::hashmap_cursor_core<K, V>::read_batch(
                [&](auto... a) { return shmds_hashmap_drain_batch(handle(), a...); },
                std::size_t(left < 1024 ? left : 1024), kbuf, vbuf, lens, out);
            if (got < 0 && out.empty()) detail::check(got);
            if (got <= 0) break;
        } while (out.size() < n);
        return out;
    }
    /** Remove up to n entries in eviction order without returning them; how many. */
    std::uint64_t discard(std::uint64_t n) {
        std::uint64_t removed = 0;
        detail::check(shmds_hashmap_drain(handle(), n, &removed));
        return removed;
    }

    // ---- batches: one lock per shard for all its keys; each key commits on its own ----

    /**
     * The values of many keys, in their order (std::nullopt for an absent key), read
     * without a lock. `keys` is any range of key_arg-convertible elements it owns
     * (std::vector<K>, std::vector<std::string_view>, ...) or a braced list. Not a
     * snapshot: each key is read at its own moment. Throws shmds::error (SHMDS_ECORRUPT).
     */
    template <class Keys>
    std::vector<std::optional<V>> get_batch(const Keys &keys) const {
        const batch_keys ks(keys);
        std::vector<std::optional<V>> out(ks.size());
        std::vector<std::size_t> pending(ks.size());
        for (std::size_t i = 0; i < pending.size(); ++i) pending[i] = i;
        // Bytes values start in each string's own room; a value that does not fit
        // (-ENOBUFS) is read again, alone with its siblings, into a string of its length.
        std::vector<V> values(ks.size());
        std::vector<int> codes;
        while (!pending.empty()) {
            const batch_keys sub(ks, pending);
            codes.assign(pending.size(), 0);
            const int rc = get_batch_raw(sub, pending, values, codes);
            detail::check(rc);
            std::vector<std::size_t> again;
            for (std::size_t j = 0; j < pending.size(); ++j) {
                const std::size_t i = pending[j];
                if (codes[j] == 0)
                    out[i] = std::move(values[i]);
                else if (codes[j] == -ENOBUFS)
                    again.push_back(i);
                else if (codes[j] != -ENOENT)
                    batch_failed("get_batch", i, ks.size(), codes[j], 1, "nothing was changed");
            }
            pending.swap(again);
        }
        return out;
    }
    std::vector<std::optional<V>> get_batch(std::initializer_list<key_arg> keys) const {
        return get_batch<std::initializer_list<key_arg>>(keys);
    }

    /**
     * Insert or overwrite many entries: `items` is a range of (key, value) pairs it owns
     * (std::vector<std::pair<K, V>>, std::map, ...) or a braced list. Not atomic across
     * keys: a key's failure (-ENOSPC for a full map or arena, -ERANGE for an integer out
     * of K's or V's range, -E2BIG) leaves the others
     * done, and once the whole batch ran throws shmds::error for the first key that
     * failed (what() names it and how many failed). Throws -EROFS (frozen or read-only)
     * with nothing done.
     */
    template <class Items>
    void put_batch(const Items &items) {
        static_assert(!(key_is_bytes || value_is_bytes) || detail::hashmap_range_of_lvalues<Items>,
                      "put_batch: the range must own its elements (its strings are read in place)");
        // Integers cross as int64_t, unnarrowed, so that the C API range-checks each one
        // (-ERANGE for that key) instead of the cast truncating it.
        batch_keys ks;
        std::vector<const void *> datas;
        std::vector<std::size_t> lens;
        std::vector<std::conditional_t<value_kind == detail::hashmap_value_kind::f64, double,
                                       std::int64_t>>
            words;
        for (const auto &item : items) {
            const auto &[k, v] = item;
            ks.add(k);
            if constexpr (value_is_bytes) {
                const std::string_view view(v);
                datas.push_back(view.data());
                lens.push_back(view.size());
            } else {
                words.push_back(v);
            }
        }
        std::vector<int> codes(ks.size(), 0);
        int rc;
        if constexpr (value_is_bytes)
            rc = call(verbs::put_batch, ks.parts(), std::make_tuple(datas.data(), lens.data()),
                      std::make_tuple(ks.size(), codes.data()));
        else
            rc = call(verbs::put_batch, ks.parts(), std::make_tuple(words.data()),
                      std::make_tuple(ks.size(), codes.data()));
        detail::check(rc);
        check_codes("put_batch", codes, 0);
    }
    void put_batch(std::initializer_list<std::pair<key_arg, value_arg>> items) {
        put_batch<std::initializer_list<std::pair<key_arg, value_arg>>>(items);
    }

    /**
     * Remove many keys: for each, in order, whether it was there (false: absent). Not
     * atomic across keys; another failure of a key leaves the others done and then throws
     * as put_batch() does. Throws -EROFS (frozen or read-only) with nothing done.
     */
    template <class Keys>
    std::vector<bool> remove_batch(const Keys &keys) {
        const batch_keys ks(keys);
        std::vector<int> codes(ks.size(), 0);
        detail::check(call(key_verbs::remove_batch, ks.parts(),
                           std::make_tuple(ks.size(), codes.data())));
        check_codes("remove_batch", codes, -ENOENT);
        std::vector<bool> removed(codes.size());
        for (std::size_t i = 0; i < codes.size(); ++i) removed[i] = codes[i] == 0;
        return removed;
    }
    std::vector<bool> remove_batch(std::initializer_list<key_arg> keys) {
        return remove_batch<std::initializer_list<key_arg>>(keys);
    }

    // ---- whole map ----

    /**
     * Grow the tables now so that `entries` entries fit without a rebuild (a walk that
     * inserts then never meets -ESTALE from a grow). Never shrinks. Throws -ENOSPC
     * (entries > max_entries), -EROFS. Takes each shard's lock in turn.
     */
    void reserve(std::uint64_t entries) { detail::check(shmds_hashmap_reserve(handle(), entries)); }

    /**
     * Remove every entry, shard by shard (each shard atomically); how many were removed.
     * Walks in a cleared shard throw -ESTALE. Throws -EROFS.
     */
    std::uint64_t clear() {
        std::uint64_t n = 0;
        detail::check(shmds_hashmap_clear(handle(), &n));
        return n;
    }

    /**
     * Seal the map for good: every later write through any handle throws -EROFS; reads
     * take no lock traffic at all. Returns once no write is in flight anywhere. The file
     * can then be opened with open_read_only(). Idempotent. Throws shmds::error.
     */
    void freeze() { detail::check(shmds_hashmap_freeze(handle())); }

    // ---- iteration: a C cursor per walk (hashmap.h, "cursors") ----

    /**
     * Range-for over the entries: `for (const auto &[k, v] : m)`. Every entry present
     * for the whole walk comes exactly once (entries added or removed meanwhile may or
     * may not); removing through this map object while walking is safe. ++ throws
     * shmds::error(-ESTALE) when a table rebuild under the walk would skip or repeat an
     * entry (the walk cannot go on: start a new one). Throws -EINVAL if moved from.
     */
    iterator begin() const {
        return iterator(std::make_shared<detail::hashmap_cursor_core<K, V>>(h_));
    }
    iterator end() const noexcept { return iterator(); }
    /** The keys alone, walked as begin() walks entries (no value is copied). */
    key_view keys() const noexcept { return key_view(h_); }
    /** The values alone, walked as begin() walks entries (no key is copied). */
    value_view values() const noexcept { return value_view(h_); }
    /** An explicit cursor at the start: next, next_batch, seek, reset (hashmap_cursor). */
    cursor_type cursor() const { return cursor_type(h_); }

    // ---- reads: no lock; a torn value is retried, never returned ----

    /** The value, or std::nullopt if absent. Throws shmds::error (SHMDS_ECORRUPT, ...). */
    std::optional<V> get(key_arg k) const {
        V v{};
        if (!get(k, v)) return std::nullopt;
        return v;
    }

    /**
     * The value into `out` (a reused std::string keeps its buffer); false if absent, and
     * then `out` is unspecified. Throws as get().
     */
    bool get(key_arg k, V &out) const {
        return detail::outcome<-ENOENT>(read_value(out, verbs::get, key(k)));
    }

    /** Whether the key is present. Throws as get(). */
    bool exists(key_arg k) const { return detail::check(call(key_verbs::exists, key(k))) == 1; }

    // ---- gauges (snapshots; never block) ----

    /** Entries held now; 0 for a moved-from map. */
    std::uint64_t size() const noexcept { return shmds_hashmap_size(handle()); }
    /** Whether the map holds no entry now. */
    bool empty() const noexcept { return size() == 0; }
    /** The most entries the map holds, as created; 0 for a moved-from map. */
    std::uint64_t max_entries() const noexcept { return shmds_hashmap_max_entries(handle()); }
    /** Dead writers taken over and rolled back (stats().recoveries), cheaply. */
    std::uint64_t recoveries() const noexcept { return shmds_hashmap_recoveries(handle()); }
    /** Whether the map is frozen (freeze()); false for a moved-from map. */
    bool frozen() const noexcept { return shmds_hashmap_frozen(handle()) == 1; }
    /**
     * Counters and geometry (shmds_hashmap_stats_t, including max_probe, which costs a
     * lock-free pass over the tables, and frozen). Throws shmds::error.
     */
    stats_type stats() const { return detail::read_stats(shmds_hashmap_stats, handle()); }
    /** The segment's fd for shmds_send_fd() (owned by the map); throws -ENOENT if anonymous. */
    int fd() const { return detail::check(shmds_hashmap_fd(handle())); }
    /** Flush a file-backed map to its file (msync). Throws shmds::error. */
    void sync() const { detail::check(shmds_hashmap_sync(handle())); }

    // ---- eventfd (hashmap.h, "eventfd"): the handle's own; no verb signals it ----
    // eventfd(), set_eventfd(), notify(), consume_events(): detail::eventfd_verbs.

private:
    static std::shared_ptr<shmds_hashmap_t> adopt(shmds_hashmap_t *h) {
        if (!h) return nullptr;
        return std::shared_ptr<shmds_hashmap_t>(h, shmds_hashmap_close);  // closes h if it throws
    }

    // The C arguments of a key or value, as a tuple that call() splices in.
    static auto key(key_arg k) noexcept { return detail::hashmap_key_parts(k); }
    static auto value(value_arg v) noexcept {
        if constexpr (value_kind == detail::hashmap_value_kind::bytes)
            return std::tuple<const void *, std::size_t>(v.data(), v.size());
        else if constexpr (value_kind == detail::hashmap_value_kind::f64)
            return std::tuple<double>(v);
        else
            return std::tuple<std::int64_t>(v);
    }

    /** fn(handle, the parts' elements...): the C verb's return code. */
    template <class F, class... Parts>
    int call(F fn, const Parts &...parts) const {
        return std::apply(fn, std::tuple_cat(std::make_tuple(handle()), parts...));
    }

    /**
     * A verb that ends in a value output (int64_t *, double * or buf, size, len): its
     * code, with the value in `out` on success. Bytes grow `out` to the value's length.
     */
    template <class F, class... Parts>
    int read_value(V &out, F fn, const Parts &...parts) const {
        if constexpr (value_kind == detail::hashmap_value_kind::bytes) {
            return detail::hashmap_read_bytes(out, [&](void *b, std::size_t n, std::size_t *len) {
                return call(fn, parts..., std::make_tuple(b, n, len));
            });
        } else if constexpr (value_kind == detail::hashmap_value_kind::f64) {
            return call(fn, parts..., std::make_tuple(&out));
        } else {
            std::int64_t x = 0;
            const int rc = call(fn, parts..., std::make_tuple(&x));
            out = V(x);  // the C API stores only values that fit the map's width
            return rc;
        }
    }

    /** pop / shift: the entry, std::nullopt if the map is empty, else shmds::error. */
    template <class F>
    std::optional<value_type> take_entry(F fn) {
        value_type e{};
        const int rc = detail::hashmap_cursor_core<K, V>::read_entry(fn, handle(), &e.first, &e.second);
        if (!detail::outcome<-ENOENT>(rc)) return std::nullopt;
        return e;
    }

    /** A counter verb (key, [delta], int64_t *out): the new value, or shmds::error. */
    template <class F, class KeyPart, class DeltaPart>
    V counter(F fn, const KeyPart &k, const DeltaPart &delta) {
        std::int64_t x = 0;
        detail::check(call(fn, k, delta, std::make_tuple(&x)));
        return V(x);
    }

    /** max / min: (key, value, int64_t *out) -> 1 changed, 0 unchanged. */
    template <class F>
    std::pair<V, bool> extreme(F fn, key_arg k, std::int64_t v) {
        std::int64_t x = 0;
        const int rc = detail::check(call(fn, key(k), std::make_tuple(v, &x)));
        return {V(x), rc == 1};
    }

    /**
     * The keys of a batch as the C arrays take them: int64_t[] or (pointers[], lengths[]).
     * Bytes keys point into the caller's range, which outlives the call.
     */
    class batch_keys {
    public:
        batch_keys() = default;
        template <class Keys>
        explicit batch_keys(const Keys &keys) {
            static_assert(!key_is_bytes || detail::hashmap_range_of_lvalues<Keys>,
                          "batch keys: the range must own its elements (read in place)");
            for (const auto &k : keys) add(k);
        }
        /** The keys of `all` at `indices`. */
        batch_keys(const batch_keys &all, const std::vector<std::size_t> &indices) {
            for (std::size_t i : indices) {
                if constexpr (key_is_bytes)
                    add(std::string_view(static_cast<const char *>(all.datas_[i]), all.lens_[i]));
                else
                    add(all.ints_[i]);
            }
        }
        std::size_t size() const noexcept { return key_is_bytes ? datas_.size() : ints_.size(); }
        auto parts() const noexcept {
            if constexpr (key_is_bytes)
                return std::make_tuple(datas_.data(), lens_.data());
            else
                return std::make_tuple(ints_.data());
        }

        /** One more key; an integer is kept unnarrowed, for the C API to range-check. */
        template <class T>
        void add(const T &k) {
            if constexpr (key_is_bytes) {
                const std::string_view view(k);
                datas_.push_back(view.data());
                lens_.push_back(view.size());
            } else {
                ints_.push_back(std::int64_t(k));
            }
        }

    private:
        std::vector<std::int64_t> ints_;
        std::vector<const void *> datas_;
        std::vector<std::size_t> lens_;
    };

    /**
     * One C get batch of `ks` (the keys at `indices` of the whole batch): values land in
     * values[indices[j]], codes in codes[j]. Bytes values are read into each string's
     * room; after -ENOBUFS the string is grown to the length needed for the next round.
     */
    int get_batch_raw(const batch_keys &ks, const std::vector<std::size_t> &indices,
                      std::vector<V> &values, std::vector<int> &codes) const {
        const std::size_t n = ks.size();
        if constexpr (value_is_bytes) {
            std::vector<void *> bufs(n);
            std::vector<std::size_t> sizes(n), lens(n);
            for (std::size_t j = 0; j < n; ++j) {
                std::string &s = values[indices[j]];
                s.resize(s.capacity() > 32 ? s.capacity() : 32);  // >= a length grown to
                bufs[j] = &s[0];
                sizes[j] = s.size();
            }
            const int rc = call(verbs::get_batch, ks.parts(),
                                std::make_tuple(n, bufs.data(), sizes.data(), lens.data(),
                                                codes.data()));
            for (std::size_t j = 0; rc >= 0 && j < n; ++j) {
                std::string &s = values[indices[j]];
                if (codes[j] == 0) s.resize(lens[j]);
                if (codes[j] == -ENOBUFS) s.resize(lens[j] > s.size() ? lens[j] : s.size() + 1);
            }
            return rc;
        } else {
            using wide = std::conditional_t<value_kind == detail::hashmap_value_kind::f64, double,
                                            std::int64_t>;
            std::vector<wide> out(n);
            const int rc = call(verbs::get_batch, ks.parts(),
                                std::make_tuple(n, out.data(), codes.data()));
            for (std::size_t j = 0; rc >= 0 && j < n; ++j)
                if (codes[j] == 0) values[indices[j]] = V(out[j]);
            return rc;
        }
    }

    /** After a write batch: throws for the first key whose code is neither 0 nor `normal`. */
    static void check_codes(const char *verb, const std::vector<int> &codes, int normal) {
        for (std::size_t i = 0; i < codes.size(); ++i)
            if (codes[i] != 0 && codes[i] != normal) {
                std::size_t failed = 0;
                for (int c : codes) failed += c != 0 && c != normal;
                batch_failed(verb, i, codes.size(), codes[i], failed, "the other keys are done");
            }
    }
    [[noreturn]] static void batch_failed(const char *verb, std::size_t i, std::size_t n, int code,
                                          std::size_t failed, const char *others) {
        throw error(code, std::string("shmds::hash_map::") + verb + ": key " + std::to_string(i) +
                              " of " + std::to_string(n) + " failed (" + shmds_strerror(code) +
                              "); " + std::to_string(failed) + " failed in all, " + others);
    }

    std::shared_ptr<shmds_hashmap_t> h_;
};

}  // namespace shmds

#endif  // SHMDS_HASHMAP_HPP
