// libshmds C++ veneer: shmds::deque<T> over the C deque API (shmds/deque.h).
//
//   auto d = shmds::deque<std::int64_t>::create(shmds::backing::path("/dev/shm/work"), 1024);
//   d.push_back(42);                               // blocks while full
//   if (auto v = d.try_pop_front()) use(*v);       // std::nullopt when empty
//   auto v = d.try_pop_back_for(std::chrono::milliseconds(300));
//
// T is an integer type of 8..64 bits (std::uint64_t through the _uint verbs), float,
// double or std::string (a bytes deque; pass max_len to create()). Full, empty and
// timeouts are values (bool, std::optional); every other failure throws shmds::error.
// A duration of zero or less is a probe that never waits. Crash behaviour and thread safety are the C API's.
#ifndef SHMDS_DEQUE_HPP
#define SHMDS_DEQUE_HPP

#include <shmds/deque.h>
#include <shmds/detail.hpp>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace shmds {

namespace detail {
template <class T>
constexpr int seq_type() noexcept {
    if constexpr (std::is_same_v<T, std::string>) return SHMDS_TYPE_BYTES;
    else if constexpr (std::is_same_v<T, double>) return SHMDS_TYPE_F64;
    else if constexpr (std::is_same_v<T, float>) return SHMDS_TYPE_F32;
    else if constexpr (std::is_same_v<T, std::int8_t>) return SHMDS_TYPE_INT8;
    else if constexpr (std::is_same_v<T, std::int16_t>) return SHMDS_TYPE_INT16;
    else if constexpr (std::is_same_v<T, std::int32_t>) return SHMDS_TYPE_INT32;
    else if constexpr (std::is_same_v<T, std::int64_t>) return SHMDS_TYPE_INT64;
    else if constexpr (std::is_same_v<T, std::uint8_t>) return SHMDS_TYPE_UINT8;
    else if constexpr (std::is_same_v<T, std::uint16_t>) return SHMDS_TYPE_UINT16;
    else if constexpr (std::is_same_v<T, std::uint32_t>) return SHMDS_TYPE_UINT32;
    else if constexpr (std::is_same_v<T, std::uint64_t>) return SHMDS_TYPE_UINT64;
    else static_assert(sizeof(T) == 0, "deque/stack element: an integer of 8..64 bits, "
                                       "float, double or std::string");
}
}  // namespace detail

/** Which end of a shmds::deque a verb works at. */
enum class deque_end : int { front = SHMDS_DEQUE_FRONT, back = SHMDS_DEQUE_BACK };

/** A bounded MPMC double-ended queue in shared memory; move-only. */
template <class T>
class deque : public detail::handle_base<shmds_deque_t, shmds_deque_close>,
              public detail::eventfd_verbs<deque<T>, shmds_deque_eventfd, shmds_deque_set_eventfd,
                                           shmds_deque_notify, shmds_deque_eventfd_consume> {
    static constexpr int type = detail::seq_type<T>();
    static constexpr bool is_bytes = type == SHMDS_TYPE_BYTES;
    static constexpr bool is_float = type == SHMDS_TYPE_F64 || type == SHMDS_TYPE_F32;
    static constexpr bool is_u64 = type == SHMDS_TYPE_UINT64;  // the _uint verbs

public:
    using value_type = T;
    using stats_type = shmds_deque_stats_t;

    /**
     * Create a deque of `capacity` items (std::string: each at most `max_len` bytes), or
     * attach to the same-type deque already at that path. Throws shmds::error (-EINVAL
     * bad geometry, -EEXIST with exclusive(), SHMDS_ETYPE another structure or type).
     */
    static deque create(const backing &where, std::uint64_t capacity, std::uint64_t max_len = 0) {
        shmds_deque_config_t cfg = SHMDS_DEQUE_CONFIG_INIT(type, capacity);
        cfg.max_len = max_len;
        return deque(detail::new_handle(shmds_deque_create, where.options(), &cfg));
    }
    /** Attach to an existing deque of this type. Throws shmds::error (-ENOENT, SHMDS_ETYPE). */
    static deque open(const backing &where) {
        return deque(detail::new_handle(shmds_deque_open, where.options(), type));
    }
    /** Adopt a C handle of this type (takes ownership). */
    explicit deque(shmds_deque_t *handle) noexcept : handle_base(handle) {}

    // ---- push: blocking, probing (false when full) and bounded (false on timeout) ----
    void push_back(const T &v) { detail::check(push_raw(deque_end::back, v, SHMDS_FOREVER)); }
    void push_front(const T &v) { detail::check(push_raw(deque_end::front, v, SHMDS_FOREVER)); }
    bool try_push_back(const T &v) { return detail::done(push_raw(deque_end::back, v, SHMDS_NOWAIT)); }
    bool try_push_front(const T &v) {
        return detail::done(push_raw(deque_end::front, v, SHMDS_NOWAIT));
    }
    /** Push at `end`, blocking at most `d` for room; false if it stayed full. */
    template <class Rep, class Period>
    bool try_push_for(deque_end end, const T &v, std::chrono::duration<Rep, Period> d) {
        return detail::done(push_raw(end, v, detail::to_timeout_ns(d)));
    }
    /** Push values in order at `end` while there is room (never blocks); how many went in. */
    std::size_t try_push_multi(deque_end end, const std::vector<T> &values) {
        std::size_t pushed = 0;
        int rc;
        if constexpr (is_bytes) {
            const detail::byte_views views(values);
            rc = shmds_deque_push_multi_bytes(handle(), int(end), views.datas.data(),
                                              views.lens.data(), values.size(), &pushed,
                                              SHMDS_NOWAIT);
        } else if constexpr (is_float) {
            std::vector<double> wide(values.begin(), values.end());
            rc = shmds_deque_push_multi_f64(handle(), int(end), wide.data(), wide.size(), &pushed,
                                            SHMDS_NOWAIT);
        } else if constexpr (is_u64) {
            rc = shmds_deque_push_multi_uint(handle(), int(end), values.data(), values.size(),
                                             &pushed, SHMDS_NOWAIT);
        } else {
            std::vector<std::int64_t> wide(values.begin(), values.end());
            rc = shmds_deque_push_multi_int(handle(), int(end), wide.data(), wide.size(), &pushed,
                                            SHMDS_NOWAIT);
        }
        detail::done(rc);  // full is a short count, not a failure
        return pushed;
    }

    // ---- pop ----
    T pop_front() { return pop_wait(deque_end::front); }
    T pop_back() { return pop_wait(deque_end::back); }
    std::optional<T> try_pop_front() { return pop_opt(deque_end::front, SHMDS_NOWAIT); }
    std::optional<T> try_pop_back() { return pop_opt(deque_end::back, SHMDS_NOWAIT); }
    /** Pop at `end`, blocking at most `d` for an item; std::nullopt on timeout. */
    template <class Rep, class Period>
    std::optional<T> try_pop_for(deque_end end, std::chrono::duration<Rep, Period> d) {
        return pop_opt(end, detail::to_timeout_ns(d));
    }
    /** Everything there now from `end`, up to `max`, in the order it comes off. */
    std::vector<T> drain(deque_end end = deque_end::front, std::size_t max = SIZE_MAX) {
        std::vector<T> out;
        while (out.size() < max) {
            auto v = pop_opt(end, SHMDS_NOWAIT);
            if (!v) break;
            out.push_back(std::move(*v));
        }
        return out;
    }
    /** A copy of the item at `end`, or std::nullopt if empty. Never waits for items. */
    std::optional<T> peek(deque_end end = deque_end::front) const {
        T v{};
        int rc;
        if constexpr (is_bytes) {
            rc = detail::read_bytes(v, SHMDS_NOWAIT, [&](void *b, std::size_t n, std::size_t *len,
                                                         std::int64_t) {
                return shmds_deque_peek_bytes(handle(), int(end), b, n, len);
            });
        } else if constexpr (is_float) {
            double x = 0;
            rc = shmds_deque_peek_f64(handle(), int(end), &x);
            v = T(x);
        } else if constexpr (is_u64) {
            rc = shmds_deque_peek_uint(handle(), int(end), &v);
        } else {
            std::int64_t x = 0;
            rc = shmds_deque_peek_int(handle(), int(end), &x);
            v = T(x);
        }
        if (!detail::done(rc)) return std::nullopt;
        return v;
    }

    // ---- gauges (snapshots; never block) ----
    std::uint64_t size() const noexcept { return shmds_deque_size(handle()); }
    std::uint64_t capacity() const noexcept { return shmds_deque_capacity(handle()); }
    bool empty() const noexcept { return shmds_deque_is_empty(handle()) == 1; }
    bool full() const noexcept { return shmds_deque_is_full(handle()) == 1; }
    /** Remove everything (safe under concurrency); how many were removed. */
    std::uint64_t clear() {
        std::uint64_t n = 0;
        detail::check(shmds_deque_clear(handle(), &n));
        return n;
    }
    stats_type stats() const { return detail::read_stats(shmds_deque_stats, handle()); }
    /** The segment's fd for shmds_send_fd() (owned by the deque); throws -ENOENT if anonymous. */
    int fd() const { return detail::check(shmds_deque_fd(handle())); }

private:
    int push_raw(deque_end end, const T &v, std::int64_t timeout) {
        if constexpr (is_bytes)
            return shmds_deque_push_bytes(handle(), int(end), v.data(), v.size(), timeout);
        else if constexpr (is_float)
            return shmds_deque_push_f64(handle(), int(end), double(v), timeout);
        else if constexpr (is_u64)
            return shmds_deque_push_uint(handle(), int(end), v, timeout);
        else
            return shmds_deque_push_int(handle(), int(end), std::int64_t(v), timeout);
    }
    int pop_raw(deque_end end, T &v, std::int64_t timeout) {
        if constexpr (is_bytes) {
            return detail::read_bytes(v, timeout, [&](void *b, std::size_t n, std::size_t *len,
                                                      std::int64_t left) {
                return shmds_deque_pop_bytes(handle(), int(end), b, n, len, left);
            });
        } else if constexpr (is_float) {
            double x = 0;
            const int rc = shmds_deque_pop_f64(handle(), int(end), &x, timeout);
            v = T(x);
            return rc;
        } else if constexpr (is_u64) {
            return shmds_deque_pop_uint(handle(), int(end), &v, timeout);
        } else {
            std::int64_t x = 0;
            const int rc = shmds_deque_pop_int(handle(), int(end), &x, timeout);
            v = T(x);
            return rc;
        }
    }
    T pop_wait(deque_end end) {
        T v{};
        detail::check(pop_raw(end, v, SHMDS_FOREVER));
        return v;
    }
    std::optional<T> pop_opt(deque_end end, std::int64_t timeout) {
        T v{};
        if (!detail::done(pop_raw(end, v, timeout))) return std::nullopt;
        return v;
    }
};

}  // namespace shmds

#endif  // SHMDS_DEQUE_HPP
