// libshmds C++ veneer: shmds::queue<T> over the C queue API (shmds/queue.h).
//
//   auto q = shmds::queue<std::int64_t>::create(shmds::backing::path("/dev/shm/jobs"), 1024);
//   q.push(42);                                   // blocks while full
//   if (auto v = q.try_pop()) use(*v);            // std::nullopt when empty
//   auto v = q.try_pop_for(std::chrono::milliseconds(300));
//
// T is std::int16_t, std::int32_t, std::int64_t or std::string (the bytes variant).
// Full, empty and timeouts are values (bool, std::optional); real failures throw
// shmds::error. Crash behaviour and thread safety are those of the C API.
#ifndef SHMDS_QUEUE_HPP
#define SHMDS_QUEUE_HPP

#include <shmds/error.hpp>
#include <shmds/queue.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace shmds {

namespace detail {
template <class T>
struct queue_variant;
template <>
struct queue_variant<std::int16_t> : std::integral_constant<int, SHMDS_QUEUE_INT16> {};
template <>
struct queue_variant<std::int32_t> : std::integral_constant<int, SHMDS_QUEUE_INT32> {};
template <>
struct queue_variant<std::int64_t> : std::integral_constant<int, SHMDS_QUEUE_INT64> {};
template <>
struct queue_variant<std::string> : std::integral_constant<int, SHMDS_QUEUE_BYTES> {};

// "would block" outcomes are values; everything else throws.
inline bool ok_or_would_block(int rc) {
    if (rc == 0) return true;
    if (rc == -EAGAIN || rc == -ETIMEDOUT) return false;
    throw error(rc);
}
}  // namespace detail

template <class T>
class queue {
    static constexpr bool is_bytes = std::is_same_v<T, std::string>;
    static constexpr int variant = detail::queue_variant<T>::value;

public:
    using value_type = T;
    using stats_type = shmds_queue_stats_t;

    /** Create (or attach to the same-variant queue already at that path). */
    static queue create(const backing &where, std::uint64_t capacity,
                        std::uint64_t arena_bytes = 0) {
        shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(variant, capacity);
        cfg.arena_bytes = arena_bytes;
        shmds_queue_t *h = nullptr;
        detail::check(shmds_queue_create(where.options(), &cfg, &h));
        return queue(h);
    }

    /** Attach to an existing queue of this variant. */
    static queue open(const backing &where) {
        shmds_queue_t *h = nullptr;
        detail::check(shmds_queue_open(where.options(), variant, &h));
        return queue(h);
    }

    /** Adopt a C handle (takes ownership). */
    explicit queue(shmds_queue_t *handle) noexcept : h_(handle) {}
    queue(queue &&) noexcept = default;
    queue &operator=(queue &&) noexcept = default;

    /** The C handle, for the C API (still owned by this object). */
    shmds_queue_t *handle() const noexcept { return h_.get(); }

    // ---- push ----
    /** Push, waiting as long as the queue is full. */
    void push(const T &v) { detail::check(push_raw(v, SHMDS_FOREVER)); }
    /** Push if there is room now. */
    bool try_push(const T &v) { return detail::ok_or_would_block(push_raw(v, SHMDS_NOWAIT)); }
    /** Push, waiting at most `d` for room. */
    template <class Rep, class Period>
    bool try_push_for(const T &v, std::chrono::duration<Rep, Period> d) {
        return detail::ok_or_would_block(push_raw(v, detail::to_timeout_ns(d)));
    }

    /** Push values in order while there is room; returns how many went in. */
    std::size_t try_push_multi(const std::vector<T> &values) {
        return push_multi_raw(values, SHMDS_NOWAIT);
    }
    /** Push all values, waiting for room as long as it takes. */
    void push_multi(const std::vector<T> &values) { push_multi_raw(values, SHMDS_FOREVER); }

    // ---- pop ----
    /** Pop, waiting as long as the queue is empty. */
    T pop() {
        T v{};
        detail::check(pop_raw(v, SHMDS_FOREVER, false));
        return v;
    }
    std::optional<T> try_pop() { return pop_opt(SHMDS_NOWAIT, false); }
    template <class Rep, class Period>
    std::optional<T> try_pop_for(std::chrono::duration<Rep, Period> d) {
        return pop_opt(detail::to_timeout_ns(d), false);
    }

    /** Up to `max` items; waits at most `d` for the first (zero: do not wait). */
    template <class Rep = std::int64_t, class Period = std::nano>
    std::vector<T> pop_multi(std::size_t max,
                             std::chrono::duration<Rep, Period> d = std::chrono::nanoseconds(0)) {
        return pop_multi_raw(max, detail::to_timeout_ns(d));
    }
    /** Everything there is now, up to `max`. */
    std::vector<T> drain(std::size_t max = SIZE_MAX) { return pop_multi_raw(max, SHMDS_NOWAIT); }

    std::optional<T> peek() const {
        T v{};
        int rc;
        if constexpr (is_bytes) {
            rc = with_buffer(v, [&](void *b, std::size_t n, std::size_t *len) {
                return shmds_queue_peek_bytes(h_, b, n, len);
            });
        } else {
            std::int64_t x = 0;
            rc = shmds_queue_peek_int(h_, &x);
            v = T(x);
        }
        if (!detail::ok_or_would_block(rc)) return std::nullopt;
        return v;
    }

    // ---- deque verbs (std::string only) ----
    template <class U = T, class = std::enable_if_t<std::is_same_v<U, std::string>>>
    bool try_push_front(const std::string &v) {
        return detail::ok_or_would_block(
            shmds_queue_push_front_bytes(h_, v.data(), v.size(), SHMDS_NOWAIT));
    }
    template <class U = T, class = std::enable_if_t<std::is_same_v<U, std::string>>>
    void push_front(const std::string &v) {
        detail::check(shmds_queue_push_front_bytes(h_, v.data(), v.size(), SHMDS_FOREVER));
    }
    /** Push at the front, waiting at most `d` for room. */
    template <class Rep, class Period, class U = T,
              class = std::enable_if_t<std::is_same_v<U, std::string>>>
    bool try_push_front_for(const std::string &v, std::chrono::duration<Rep, Period> d) {
        return detail::ok_or_would_block(
            shmds_queue_push_front_bytes(h_, v.data(), v.size(), detail::to_timeout_ns(d)));
    }
    /** Remove the newest message, waiting as long as the queue is empty. */
    template <class U = T, class = std::enable_if_t<std::is_same_v<U, std::string>>>
    std::string pop_back() {
        std::string v;
        detail::check(pop_raw(v, SHMDS_FOREVER, true));
        return v;
    }
    template <class U = T, class = std::enable_if_t<std::is_same_v<U, std::string>>>
    std::optional<std::string> try_pop_back() {
        return pop_opt(SHMDS_NOWAIT, true);
    }
    /** Remove the newest message, waiting at most `d` for one. */
    template <class Rep, class Period, class U = T,
              class = std::enable_if_t<std::is_same_v<U, std::string>>>
    std::optional<std::string> try_pop_back_for(std::chrono::duration<Rep, Period> d) {
        return pop_opt(detail::to_timeout_ns(d), true);
    }

    // ---- gauges ----
    std::uint64_t size() const noexcept { return shmds_queue_size(h_); }
    std::uint64_t capacity() const noexcept { return shmds_queue_capacity(h_); }
    bool empty() const noexcept { return shmds_queue_is_empty(h_) == 1; }
    bool full() const noexcept { return shmds_queue_is_full(h_) == 1; }
    /** Remove everything present; returns how many items were removed. */
    std::uint64_t clear() {
        std::uint64_t n = 0;
        detail::check(shmds_queue_clear(h_, &n));
        return n;
    }
    stats_type stats() const {
        stats_type s{};
        s.struct_size = sizeof s;
        detail::check(shmds_queue_stats(h_, &s));
        return s;
    }
    /** The segment's fd for shmds_send_fd() (owned by the queue); throws if anonymous. */
    int fd() const { return detail::check(shmds_queue_fd(h_)); }

    // ---- eventfd ----
    int eventfd() { return detail::check(shmds_queue_eventfd(h_)); }
    void set_eventfd(int fd) { detail::check(shmds_queue_set_eventfd(h_, fd)); }
    void notify() { detail::check(shmds_queue_notify(h_)); }
    /** The pending event count, or std::nullopt if nothing is pending. */
    std::optional<std::uint64_t> consume_events() {
        std::uint64_t n = 0;
        int rc = shmds_queue_eventfd_consume(h_, &n);
        if (rc == -EAGAIN) return std::nullopt;
        detail::check(rc);
        return n;
    }

private:
    int push_raw(const T &v, std::int64_t timeout) {
        if constexpr (is_bytes)
            return shmds_queue_push_bytes(h_, v.data(), v.size(), timeout);
        else
            return shmds_queue_push_int(h_, std::int64_t(v), timeout);
    }

    std::size_t push_multi_raw(const std::vector<T> &values, std::int64_t timeout) {
        std::size_t pushed = 0;
        int rc;
        if constexpr (is_bytes) {
            std::vector<const void *> datas(values.size());
            std::vector<std::size_t> lens(values.size());
            for (std::size_t i = 0; i < values.size(); ++i) {
                datas[i] = values[i].data();
                lens[i] = values[i].size();
            }
            rc = shmds_queue_push_multi_bytes(h_, datas.data(), lens.data(), values.size(),
                                              &pushed, timeout);
        } else {
            std::vector<std::int64_t> wide(values.begin(), values.end());
            rc = shmds_queue_push_multi_int(h_, wide.data(), wide.size(), &pushed, timeout);
        }
        detail::ok_or_would_block(rc);
        return pushed;
    }

    // Call f(buf, size, &len) into v, growing v to the needed size on -ENOBUFS.
    template <class F>
    static int with_buffer(std::string &v, F &&f) {
        v.resize(v.capacity() > 256 ? v.capacity() : 256);
        for (;;) {
            std::size_t len = 0;
            int rc = f(&v[0], v.size(), &len);
            if (rc == -ENOBUFS) {
                v.resize(len);
                continue;
            }
            v.resize(rc == 0 ? len : 0);
            return rc;
        }
    }

    int pop_raw(T &v, std::int64_t timeout, bool back) {
        if constexpr (is_bytes) {
            return with_buffer(v, [&](void *b, std::size_t n, std::size_t *len) {
                return back ? shmds_queue_pop_back_bytes(h_, b, n, len, timeout)
                            : shmds_queue_pop_bytes(h_, b, n, len, timeout);
            });
        } else {
            (void)back;
            std::int64_t x = 0;
            int rc = shmds_queue_pop_int(h_, &x, timeout);
            v = T(x);
            return rc;
        }
    }

    std::optional<T> pop_opt(std::int64_t timeout, bool back) {
        T v{};
        if (!detail::ok_or_would_block(pop_raw(v, timeout, back))) return std::nullopt;
        return v;
    }

    std::vector<T> pop_multi_raw(std::size_t max, std::int64_t timeout) {
        std::vector<T> out;
        // More than the capacity cannot be there at once; the bound also keeps the
        // collecting loops below finite while producers keep pushing.
        if (const std::uint64_t cap = capacity(); cap && max > cap) max = std::size_t(cap);
        if (max == 0) return out;
        if constexpr (is_bytes) {
            // Pop one (waiting per timeout), then drain what fits in a modest buffer.
            auto first = pop_opt(timeout, false);
            if (!first) return out;
            out.push_back(std::move(*first));
            std::string buf(64 * 1024, '\0');
            std::vector<std::size_t> lens(max - 1 < 256 ? max - 1 : 256);
            while (out.size() < max && !lens.empty()) {
                std::size_t want = max - out.size() < lens.size() ? max - out.size() : lens.size();
                std::size_t got = 0;
                int rc = shmds_queue_drain_bytes(h_, &buf[0], buf.size(), lens.data(), want, &got);
                if (rc == -ENOBUFS) {
                    buf.resize(lens[0]);
                    continue;
                }
                detail::check(rc);
                if (got == 0) break;
                std::size_t at = 0;
                for (std::size_t i = 0; i < got; ++i) {
                    out.emplace_back(buf.data() + at, lens[i]);
                    at += lens[i];
                }
            }
        } else {
            // The first call waits per timeout; if it filled its chunk, more calls
            // collect what is already there, without waiting.
            std::vector<std::int64_t> wide(max < 4096 ? max : 4096);
            std::size_t got = 0;
            if (!detail::ok_or_would_block(
                    shmds_queue_pop_multi_int(h_, wide.data(), wide.size(), &got, timeout)))
                return out;
            out.assign(wide.begin(), wide.begin() + std::ptrdiff_t(got));
            while (got == wide.size() && out.size() < max) {
                std::size_t want = max - out.size() < wide.size() ? max - out.size() : wide.size();
                detail::check(shmds_queue_drain_int(h_, wide.data(), want, &got));
                out.insert(out.end(), wide.begin(), wide.begin() + std::ptrdiff_t(got));
                if (got < want) break;
            }
        }
        return out;
    }

    detail::unique_handle<shmds_queue_t, shmds_queue_close> h_;
};

}  // namespace shmds

#endif  // SHMDS_QUEUE_HPP
