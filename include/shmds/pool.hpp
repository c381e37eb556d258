// libshmds C++ veneer: shmds::pool over the C pool API (shmds/pool.h).
//
//   auto p = shmds::pool::create_of<std::int64_t>(shmds::backing::path("/dev/shm/jobs"), 64);
//   {
//       shmds::pool::slot_guard s = p.alloc_guard();   // blocks while every slot is taken
//       p.set<std::int64_t>(s.index(), 42);
//   }                                                  // freed here (not in a fork child)
//   if (auto i = p.try_alloc()) p.free(*i);           // std::nullopt when the pool is full
//
// The variant is chosen at creation (create_of<T>, create_bytes, create_raw); the slot
// verbs are templates over the value's C++ type: signed integers use the _int verbs,
// unsigned ones the _uint verbs, float and double the _f64 verbs (a wrong kind throws
// SHMDS_EVARIANT). "Not now" outcomes are values (std::optional, bool); every other
// failure the C function reports throws shmds::error. A duration of zero or less is a
// probe that never waits (shmds::detail::to_timeout_ns). Crash behaviour and thread
// safety are those of the C API. slot_guard remembers the process that allocated and
// frees nothing when destroyed in a fork() child.
#ifndef SHMDS_POOL_HPP
#define SHMDS_POOL_HPP

#include <shmds/detail.hpp>
#include <shmds/pool.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace shmds {

namespace detail {
template <class T>
struct pool_type;
template <> struct pool_type<std::int8_t> : std::integral_constant<int, SHMDS_TYPE_INT8> {};
template <> struct pool_type<std::int16_t> : std::integral_constant<int, SHMDS_TYPE_INT16> {};
template <> struct pool_type<std::int32_t> : std::integral_constant<int, SHMDS_TYPE_INT32> {};
template <> struct pool_type<std::int64_t> : std::integral_constant<int, SHMDS_TYPE_INT64> {};
template <> struct pool_type<std::uint8_t> : std::integral_constant<int, SHMDS_TYPE_UINT8> {};
template <> struct pool_type<std::uint16_t> : std::integral_constant<int, SHMDS_TYPE_UINT16> {};
template <> struct pool_type<std::uint32_t> : std::integral_constant<int, SHMDS_TYPE_UINT32> {};
template <> struct pool_type<std::uint64_t> : std::integral_constant<int, SHMDS_TYPE_UINT64> {};
template <> struct pool_type<float> : std::integral_constant<int, SHMDS_TYPE_F32> {};
template <> struct pool_type<double> : std::integral_constant<int, SHMDS_TYPE_F64> {};
}  // namespace detail

/** Fixed slots handed out by index to many processes; move-only, closes its handle. */
class pool : public detail::handle_base<shmds_pool_t, shmds_pool_close>,
             public detail::eventfd_verbs<pool, shmds_pool_eventfd, shmds_pool_set_eventfd,
                                          shmds_pool_notify, shmds_pool_eventfd_consume> {
public:
    using stats_type = shmds_pool_stats_t;

    /**
     * An allocated slot, freed when the guard is destroyed, unless release()d or
     * destroyed in another process than the one that allocated (a fork() child).
     * Move-only. The pool must outlive it.
     */
    class slot_guard : private detail::fork_owner {
    public:
        slot_guard(slot_guard &&o) noexcept : fork_owner(o), p_(o.p_), index_(o.index_) {
            o.p_ = nullptr;
        }
        slot_guard &operator=(slot_guard &&) = delete;
        slot_guard(const slot_guard &) = delete;
        slot_guard &operator=(const slot_guard &) = delete;
        ~slot_guard() {
            // The slot may have been freed by someone else meanwhile (any process may
            // free a slot): -ENOENT is then not ours to report from a destructor.
            if (p_ && in_acquiring_process()) (void)shmds_pool_free(p_, index_);
        }
        /** The slot's index. */
        std::uint64_t index() const noexcept { return index_; }
        /** Keep the slot allocated past the guard; returns its index. */
        std::uint64_t release() noexcept {
            p_ = nullptr;
            return index_;
        }

    private:
        friend class pool;
        slot_guard(shmds_pool_t *p, std::uint64_t i) noexcept : p_(p), index_(i) {}
        shmds_pool_t *p_;
        std::uint64_t index_;
    };

    // ---- lifecycle
    /**
     * Create a pool of `capacity` slots (1 ..= 2^30), or attach to the pool of this
     * variant already at that path (its geometry wins). variant: SHMDS_POOL_RAW
     * (elem_size = bytes per slot), SHMDS_TYPE_BYTES (elem_size = max_len) or a number
     * type (elem_size 0). Throws shmds::error (-EINVAL, -EEXIST, SHMDS_ETYPE, ...).
     */
    static pool create(const backing &where, int variant, std::uint64_t capacity,
                       std::uint64_t elem_size = 0) {
        shmds_pool_config_t cfg = SHMDS_POOL_CONFIG_INIT(variant, capacity, elem_size);
        return pool(detail::new_handle(shmds_pool_create, where.options(), &cfg));
    }
    /** A pool of T slots (an integer type, float or double). */
    template <class T>
    static pool create_of(const backing &where, std::uint64_t capacity) {
        return create(where, detail::pool_type<T>::value, capacity);
    }
    /** A pool of byte strings of at most max_len bytes. */
    static pool create_bytes(const backing &where, std::uint64_t capacity, std::uint64_t max_len) {
        return create(where, SHMDS_TYPE_BYTES, capacity, max_len);
    }
    /** A pool of untyped slots of elem_size bytes. */
    static pool create_raw(const backing &where, std::uint64_t capacity, std::uint64_t elem_size) {
        return create(where, SHMDS_POOL_RAW, capacity, elem_size);
    }
    /** Attach to an existing pool (variant SHMDS_POOL_ANY accepts any). Throws shmds::error. */
    static pool open(const backing &where, int variant = SHMDS_POOL_ANY) {
        return pool(detail::new_handle(shmds_pool_open, where.options(), variant));
    }
    /** Adopt a C handle (takes ownership). */
    explicit pool(shmds_pool_t *handle) noexcept : handle_base(handle) {}

    // ---- allocation
    /** A free slot, or std::nullopt when none is (never blocks). Throws shmds::error. */
    std::optional<std::uint64_t> try_alloc() {
        std::uint64_t i = 0;
        if (!detail::outcome<-EAGAIN>(shmds_pool_try_alloc(handle(), &i))) return std::nullopt;
        return i;
    }
    /** A free slot, waiting at most `d`; std::nullopt on timeout. Throws shmds::error. */
    template <class Rep, class Period>
    std::optional<std::uint64_t> alloc(std::chrono::duration<Rep, Period> d) {
        std::uint64_t i = 0;
        if (!detail::done(shmds_pool_alloc(handle(), detail::to_timeout_ns(d), &i)))
            return std::nullopt;
        return i;
    }
    /** A free slot, waiting as long as it takes. Throws shmds::error. */
    std::uint64_t alloc() {
        std::uint64_t i = 0;
        detail::check(shmds_pool_alloc(handle(), SHMDS_FOREVER, &i));
        return i;
    }
    /** alloc() as a guard that frees the slot at the end of its scope. */
    slot_guard alloc_guard() { return slot_guard(handle(), alloc()); }
    /** alloc(d) as a guard; std::nullopt on timeout. */
    template <class Rep, class Period>
    std::optional<slot_guard> alloc_guard(std::chrono::duration<Rep, Period> d) {
        if (auto i = alloc(d)) return slot_guard(handle(), *i);
        return std::nullopt;
    }
    /** A free slot holding `v` (T's kind picks the _int/_uint/_f64 verb), or std::nullopt
     * when none is free (never blocks). A value out of the type's range throws -ERANGE
     * and allocates nothing. */
    template <class T>
    std::optional<std::uint64_t> try_alloc_set(T v) {
        std::uint64_t i = 0;
        if (!detail::outcome<-EAGAIN>(verbs<T>::try_alloc_set(handle(), wire_t<T>(v), &i)))
            return std::nullopt;
        return i;
    }
    /** try_alloc_set, waiting at most `d`; std::nullopt on timeout. */
    template <class T, class Rep, class Period>
    std::optional<std::uint64_t> alloc_set(T v, std::chrono::duration<Rep, Period> d) {
        std::uint64_t i = 0;
        if (!detail::done(verbs<T>::alloc_set(handle(), wire_t<T>(v), detail::to_timeout_ns(d), &i)))
            return std::nullopt;
        return i;
    }
    /** A slot holding `v` (bytes pools), or std::nullopt when none is free (never blocks);
     * longer than max_len throws -E2BIG and allocates nothing. */
    std::optional<std::uint64_t> try_alloc_set_bytes(std::string_view v) {
        std::uint64_t i = 0;
        if (!detail::outcome<-EAGAIN>(
                shmds_pool_try_alloc_set_bytes(handle(), v.data(), v.size(), &i)))
            return std::nullopt;
        return i;
    }
    /** try_alloc_set_bytes, waiting at most `d`; std::nullopt on timeout. */
    template <class Rep, class Period>
    std::optional<std::uint64_t> alloc_set_bytes(std::string_view v,
                                                 std::chrono::duration<Rep, Period> d) {
        std::uint64_t i = 0;
        if (!detail::done(shmds_pool_alloc_set_bytes(handle(), v.data(), v.size(),
                                                     detail::to_timeout_ns(d), &i)))
            return std::nullopt;
        return i;
    }
    /** n slots at once or none, waiting at most `d`; std::nullopt on timeout. */
    template <class Rep, class Period>
    std::optional<std::vector<std::uint64_t>> alloc_n(std::size_t n,
                                                      std::chrono::duration<Rep, Period> d) {
        std::vector<std::uint64_t> out(n);
        if (!detail::done(shmds_pool_alloc_n(handle(), n, out.data(), detail::to_timeout_ns(d))))
            return std::nullopt;
        return out;
    }
    /** Free a slot; false when it was free already. Throws shmds::error (-EINVAL). */
    bool free(std::uint64_t index) { return detail::outcome<-ENOENT>(shmds_pool_free(handle(), index)); }
    /** Free the listed slots; how many were allocated. Throws shmds::error. */
    std::size_t free_n(const std::vector<std::uint64_t> &indices) {
        std::size_t n = 0;
        detail::check(shmds_pool_free_n(handle(), indices.data(), indices.size(), &n));
        return n;
    }
    /** Free every slot (see shmds_pool_reset's concurrency rule); how many were allocated. */
    std::uint64_t reset() {
        std::uint64_t n = 0;
        detail::check(shmds_pool_reset(handle(), &n));
        return n;
    }
    /** Free the slots of dead owners; how many. */
    std::uint64_t recover_stale() {
        std::uint64_t n = 0;
        detail::check(shmds_pool_recover_stale(handle(), &n));
        return n;
    }

    // ---- slot values (T: an integer type, float or double)
    template <class T>
    T get(std::uint64_t index) const {
        wire_t<T> v{};
        detail::check(verbs<T>::get(handle(), index, &v));
        return T(v);
    }
    template <class T>
    void set(std::uint64_t index, T v) {
        detail::check(verbs<T>::set(handle(), index, wire_t<T>(v)));
    }
    /** Store `desired` if the slot holds `expected`; whether it did. Integers only. */
    template <class T>
    bool cas(std::uint64_t index, T expected, T desired) {
        return detail::outcome<-ECANCELED>(
            verbs<T>::cas(handle(), index, wire_t<T>(expected), wire_t<T>(desired), nullptr));
    }
    /** Store `v`; returns the previous value. Integers only. */
    template <class T>
    T exchange(std::uint64_t index, T v) {
        wire_t<T> old{};
        detail::check(verbs<T>::exchange(handle(), index, wire_t<T>(v), &old));
        return T(old);
    }
    /** Add `delta` (wrapping); returns the new value. Integers only. */
    template <class T>
    T add(std::uint64_t index, std::int64_t delta) {
        wire_t<T> now{};
        detail::check(verbs<T>::add(handle(), index, delta, &now));
        return T(now);
    }
    template <class T>
    T incr(std::uint64_t index) { return add<T>(index, 1); }
    template <class T>
    T decr(std::uint64_t index) { return add<T>(index, -1); }

    /** A bytes slot's value. Throws shmds::error. */
    std::string get_bytes(std::uint64_t index) const {
        std::string out(std::size_t(max_len()), '\0');
        std::size_t len = 0;
        detail::check(shmds_pool_get_bytes(handle(), index, &out[0], out.size(), &len));
        out.resize(len);
        return out;
    }
    /** Store a bytes slot's value. Throws shmds::error (-E2BIG above max_len). */
    void set_bytes(std::uint64_t index, std::string_view v) {
        detail::check(shmds_pool_set_bytes(handle(), index, v.data(), v.size()));
    }
    /** A raw slot's bytes. */
    std::string get_raw(std::uint64_t index) const {
        std::string out(std::size_t(elem_size()), '\0');
        detail::check(shmds_pool_get_raw(handle(), index, &out[0], out.size()));
        return out;
    }
    /** Copy `v` into a raw slot (the rest zeroed). Throws -E2BIG above elem_size. */
    void set_raw(std::uint64_t index, std::string_view v) {
        detail::check(shmds_pool_set_raw(handle(), index, v.data(), v.size()));
    }
    /** Slot 0 of the data area; slot i at data() + i * elem_size(). */
    void *data() noexcept { return shmds_pool_data_ptr(handle()); }
    /** Slot `index`, or nullptr when out of range. */
    void *slot(std::uint64_t index) noexcept { return shmds_pool_slot_ptr(handle(), index); }

    // ---- queries (snapshots; never block)
    bool is_allocated(std::uint64_t index) const {
        return detail::check(shmds_pool_is_allocated(handle(), index)) == 1;
    }
    /** The allocating process's PID, 0 when free. */
    pid_t owner(std::uint64_t index) const {
        std::int32_t pid = 0;
        detail::check(shmds_pool_owner(handle(), index, &pid));
        return pid_t(pid);
    }
    /** The allocated slots' indices, in order. */
    std::vector<std::uint64_t> allocated() const {
        for (;;) {
            std::vector<std::uint64_t> out(std::size_t(used()) + 16);
            std::size_t n = 0;
            const int rc = shmds_pool_allocated(handle(), out.data(), out.size(), &n);
            if (rc == -ENOBUFS) continue;  // more were allocated meanwhile
            detail::check(rc);
            out.resize(n);
            return out;
        }
    }
    /** Call f(index, owner_pid) for every allocated slot. f must not throw. */
    template <class F>
    void for_each_allocated(F &&f) const {
        detail::check(shmds_pool_each_allocated(
            handle(),
            [](std::uint64_t i, std::int32_t pid, void *ctx) -> int {
                (*static_cast<std::remove_reference_t<F> *>(ctx))(i, pid_t(pid));
                return 0;
            },
            &f));
    }
    std::uint64_t used() const noexcept { return shmds_pool_used(handle()); }
    std::uint64_t available() const noexcept { return shmds_pool_available(handle()); }
    std::uint64_t capacity() const noexcept { return shmds_pool_capacity(handle()); }
    std::uint64_t elem_size() const noexcept { return shmds_pool_elem_size(handle()); }
    std::uint64_t max_len() const noexcept { return shmds_pool_max_len(handle()); }
    int variant() const { return detail::check(shmds_pool_variant(handle())); }
    stats_type stats() const { return detail::read_stats(shmds_pool_stats, handle()); }
    /** The segment's fd for shmds_send_fd() (owned by the pool); throws -ENOENT if anonymous. */
    int fd() const { return detail::check(shmds_pool_fd(handle())); }

    // eventfd(), set_eventfd(), notify(), consume_events(): detail::eventfd_verbs.

private:
    template <class T>
    using wire_t = std::conditional_t<std::is_floating_point_v<T>, double,
                                      std::conditional_t<std::is_signed_v<T>, std::int64_t,
                                                         std::uint64_t>>;
    template <class T, class = void>
    struct verbs;
    template <class T>
    struct verbs<T, std::enable_if_t<std::is_integral_v<T> && std::is_signed_v<T>>> {
        static constexpr auto get = shmds_pool_get_int;
        static constexpr auto set = shmds_pool_set_int;
        static constexpr auto cas = shmds_pool_cas_int;
        static constexpr auto exchange = shmds_pool_exchange_int;
        static constexpr auto add = shmds_pool_add_int;
        static constexpr auto alloc_set = shmds_pool_alloc_set_int;
        static constexpr auto try_alloc_set = shmds_pool_try_alloc_set_int;
    };
    template <class T>
    struct verbs<T, std::enable_if_t<std::is_integral_v<T> && std::is_unsigned_v<T>>> {
        static constexpr auto get = shmds_pool_get_uint;
        static constexpr auto set = shmds_pool_set_uint;
        static constexpr auto cas = shmds_pool_cas_uint;
        static constexpr auto exchange = shmds_pool_exchange_uint;
        static constexpr auto add = shmds_pool_add_uint;
        static constexpr auto alloc_set = shmds_pool_alloc_set_uint;
        static constexpr auto try_alloc_set = shmds_pool_try_alloc_set_uint;
    };
    template <class T>
    struct verbs<T, std::enable_if_t<std::is_floating_point_v<T>>> {
        static constexpr auto get = shmds_pool_get_f64;
        static constexpr auto set = shmds_pool_set_f64;
        static constexpr auto alloc_set = shmds_pool_alloc_set_f64;
        static constexpr auto try_alloc_set = shmds_pool_try_alloc_set_f64;
    };
};

}  // namespace shmds

#endif  // SHMDS_POOL_HPP
