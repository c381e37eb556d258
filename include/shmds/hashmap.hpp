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
// Range-for iteration is not offered yet: it waits for cursors in the C API.
//
// "Absent", "already present" and "the value differs" are values (std::optional, bool);
// every other failure the C function reports throws shmds::error (a member marked
// noexcept never throws): -ENOSPC for a full map or arena, -ERANGE for a counter that
// would overflow, -E2BIG for a bytes key or value that can never fit. No verb waits for
// anything but another process's critical section (hashmap.h, "Blocking"); reads take
// no lock. Crash behaviour and thread safety are those of the C API.
#ifndef SHMDS_HASHMAP_HPP
#define SHMDS_HASHMAP_HPP

#include <shmds/detail.hpp>
#include <shmds/hashmap.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

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
};
template <>
struct hashmap_key_verbs<true> {
    static constexpr auto remove = shmds_hashmap_remove_b;
    static constexpr auto exists = shmds_hashmap_exists_b;
    static constexpr auto incr_by = shmds_hashmap_incr_by_b;
    static constexpr auto incr = shmds_hashmap_incr_b;
    static constexpr auto decr = shmds_hashmap_decr_b;
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

}  // namespace detail

/**
 * A key-value map in shared memory with lock-free reads; move-only, closes its handle
 * when destroyed. A moved-from map holds NULL: its verbs throw -EINVAL and its gauges
 * read zero.
 */
template <class K, class V>
class hash_map : public detail::handle_base<shmds_hashmap_t, shmds_hashmap_close> {
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
    static constexpr detail::hashmap_value_kind value_kind =
        std::is_same_v<V, std::string> ? detail::hashmap_value_kind::bytes
        : std::is_same_v<V, double>    ? detail::hashmap_value_kind::f64
                                       : detail::hashmap_value_kind::integer;
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
     * Attach to an existing map of these types (a path or a received fd). Throws
     * shmds::error (-ENOENT, SHMDS_ETYPE another structure or other types, -EINVAL for
     * an anonymous backing, ...).
     */
    static hash_map open(const backing &where) {
        return hash_map(detail::new_handle(shmds_hashmap_open, where.options(), key_type_code,
                                           value_type_code));
    }

    /**
     * Adopt a C handle (takes ownership; NULL gives a moved-from map). Throws
     * SHMDS_ETYPE, after closing the handle, if its map has other key or value types:
     * the C verbs would refuse only a different shape, not a different integer width.
     */
    explicit hash_map(shmds_hashmap_t *handle) : handle_base(handle) {
        if (handle && (shmds_hashmap_key_type(handle) != key_type_code ||
                       shmds_hashmap_value_type(handle) != value_type_code))
            throw error(SHMDS_ETYPE, "shmds::hash_map: the adopted map has other key or "
                                     "value types than the class");
    }

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
    std::uint64_t size() const noexcept { return gauges().size; }
    /** Whether the map holds no entry now. */
    bool empty() const noexcept { return size() == 0; }
    /** The most entries the map holds, as created; 0 for a moved-from map. */
    std::uint64_t max_entries() const noexcept { return gauges().max_entries; }
    /** Dead writers taken over and rolled back (stats().recoveries), cheaply. */
    std::uint64_t recoveries() const noexcept { return shmds_hashmap_recoveries(handle()); }
    /** Counters and geometry (shmds_hashmap_stats_t). Throws shmds::error. */
    stats_type stats() const { return detail::read_stats(shmds_hashmap_stats, handle()); }
    /** The segment's fd for shmds_send_fd() (owned by the map); throws -ENOENT if anonymous. */
    int fd() const { return detail::check(shmds_hashmap_fd(handle())); }
    /** Flush a file-backed map to its file (msync). Throws shmds::error. */
    void sync() const { detail::check(shmds_hashmap_sync(handle())); }

private:
    // The C arguments of a key or value, as a tuple that call() splices in.
    static auto key(key_arg k) noexcept {
        if constexpr (key_is_bytes)
            return std::tuple<const void *, std::size_t>(k.data(), k.size());
        else
            return std::tuple<std::int64_t>(k);
    }
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

    /** A counter verb (key, [delta], int64_t *out): the new value, or shmds::error. */
    template <class F, class KeyPart, class DeltaPart>
    V counter(F fn, const KeyPart &k, const DeltaPart &delta) {
        std::int64_t x = 0;
        detail::check(call(fn, k, delta, std::make_tuple(&x)));
        return V(x);
    }

    /** stats() without throwing: zeroes for a moved-from map. */
    stats_type gauges() const noexcept {
        stats_type s{};
        s.struct_size = sizeof s;
        if (shmds_hashmap_stats(handle(), &s) != 0) return stats_type{};
        return s;
    }
};

}  // namespace shmds

#endif  // SHMDS_HASHMAP_HPP
