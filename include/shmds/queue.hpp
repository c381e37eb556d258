// libshmds C++ veneer: shmds::queue<T> over the C queue API (shmds/queue.h).
//
//   auto q = shmds::queue<std::int64_t>::create(shmds::backing::path("/dev/shm/jobs"), 1024);
//   q.push(42);                                   // blocks while full
//   if (auto v = q.try_pop()) use(*v);            // std::nullopt when empty
//   auto v = q.try_pop_for(std::chrono::milliseconds(300));
//
// T is std::int16_t, std::int32_t, std::int64_t or std::string (the bytes variant).
// Full, empty and timeouts are values (bool, std::optional); every other failure the C
// function reports throws shmds::error (a member marked noexcept never throws). A
// duration of zero or less is a probe that never waits (shmds::detail::to_timeout_ns).
// Crash behaviour and thread safety are those of the C API.
#ifndef SHMDS_QUEUE_HPP
#define SHMDS_QUEUE_HPP

#include <shmds/detail.hpp>
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
}  // namespace detail

/** A bounded MPMC FIFO in shared memory; move-only, closes its handle when destroyed. */
template <class T>
class queue : public detail::handle_base<shmds_queue_t, shmds_queue_close>,
              public detail::eventfd_verbs<queue<T>, shmds_queue_eventfd, shmds_queue_set_eventfd,
                                           shmds_queue_notify, shmds_queue_eventfd_consume> {
    static constexpr bool is_bytes = std::is_same_v<T, std::string>;
    static constexpr int variant = detail::queue_variant<T>::value;
    template <class U>
    using bytes_only = std::enable_if_t<std::is_same_v<U, std::string>, int>;

public:
    using value_type = T;
    using stats_type = shmds_queue_stats_t;

    /**
     * Create a queue of `capacity` items (and, for std::string, an arena of
     * `arena_bytes`; 0 picks the default), or attach to the same-variant queue already
     * at that path. Throws shmds::error (-EINVAL bad geometry, -EEXIST with exclusive(),
     * SHMDS_ETYPE another structure, ...). Waits only for a concurrent creator.
     */
    static queue create(const backing &where, std::uint64_t capacity,
                        std::uint64_t arena_bytes = 0) {
        shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(variant, capacity);
        cfg.arena_bytes = arena_bytes;
        return queue(detail::new_handle(shmds_queue_create, where.options(), &cfg));
    }

    /** Attach to an existing queue of this variant. Throws shmds::error (-ENOENT, SHMDS_ETYPE). */
    static queue open(const backing &where) {
        return queue(detail::new_handle(shmds_queue_open, where.options(), variant));
    }

    /** Adopt a C handle of this variant (takes ownership). */
    explicit queue(shmds_queue_t *handle) noexcept : handle_base(handle) {}

    // ---- push ----
    /** Push, blocking as long as the queue is full. Throws shmds::error (-E2BIG, -ERANGE, ...). */
    void push(const T &v) { detail::check(push_raw(v, SHMDS_FOREVER)); }
    /** Push if there is room now; false if full. Never blocks. Throws as push(). */
    bool try_push(const T &v) { return detail::done(push_raw(v, SHMDS_NOWAIT)); }
    /** Push, blocking at most `d` for room; false if it stayed full. Throws as push(). */
    template <class Rep, class Period>
    bool try_push_for(const T &v, std::chrono::duration<Rep, Period> d) {
        return detail::done(push_raw(v, detail::to_timeout_ns(d)));
    }

    /**
     * Push values in order while there is room; how many went in. Never blocks.
     * Throws as push() (the values before the failing one are in).
     */
    std::size_t try_push_multi(const std::vector<T> &values) {
        return push_multi_raw(values, SHMDS_NOWAIT);
    }
    /** Push all values in order, blocking for room as long as it takes. Throws as push(). */
    void push_multi(const std::vector<T> &values) { push_multi_raw(values, SHMDS_FOREVER); }

    // ---- pop ----
    /** Pop the oldest item, blocking as long as the queue is empty. Throws shmds::error. */
    T pop() {
        T v{};
        detail::check(pop_raw(v, SHMDS_FOREVER, false));
        return v;
    }
    /** The oldest item if there is one now, else std::nullopt. Never blocks. Throws as pop(). */
    std::optional<T> try_pop() { return pop_opt(SHMDS_NOWAIT, false); }
    /** The oldest item, blocking at most `d` for one; std::nullopt on timeout. Throws as pop(). */
    template <class Rep, class Period>
    std::optional<T> try_pop_for(std::chrono::duration<Rep, Period> d) {
        return pop_opt(detail::to_timeout_ns(d), false);
    }

    /**
     * Up to `max` items, oldest first; blocks at most `d` for the first (zero: not at
     * all), then takes what is there. Empty on timeout. Throws as pop().
     */
    template <class Rep = std::int64_t, class Period = std::nano>
    std::vector<T> pop_multi(std::size_t max,
                             std::chrono::duration<Rep, Period> d = std::chrono::nanoseconds(0)) {
        return pop_multi_raw(max, detail::to_timeout_ns(d));
    }
    /** Everything there is now, up to `max`, oldest first. Never blocks. Throws as pop(). */
    std::vector<T> drain(std::size_t max = SIZE_MAX) { return pop_multi_raw(max, SHMDS_NOWAIT); }

    /**
     * A copy of the oldest item without removing it (another consumer may take it
     * meanwhile); std::nullopt if empty. Never waits for items. Throws shmds::error.
     */
    std::optional<T> peek() const {
        T v{};
        int rc;
        if constexpr (is_bytes) {
            rc = detail::read_bytes(v, SHMDS_NOWAIT, [&](void *b, std::size_t n, std::size_t *len,
                                                         std::int64_t) {
                return shmds_queue_peek_bytes(handle(), b, n, len);
            });
        } else {
            std::int64_t x = 0;
            rc = shmds_queue_peek_int(handle(), &x);
            v = T(x);
        }
        if (!detail::done(rc)) return std::nullopt;
        return v;
    }

    // ---- deque verbs (std::string only) ----
    /** Push at the front (the next pop returns it) if there is room now. Never blocks. */
    template <class U = T, bytes_only<U> = 0>
    bool try_push_front(const std::string &v) {
        return detail::done(push_front_raw(v, SHMDS_NOWAIT));
    }
    /** Push at the front, blocking as long as the queue is full. Throws as push(). */
    template <class U = T, bytes_only<U> = 0>
    void push_front(const std::string &v) {
        detail::check(push_front_raw(v, SHMDS_FOREVER));
    }
    /** Push at the front, blocking at most `d` for room; false on timeout. Throws as push(). */
    template <class Rep, class Period, class U = T, bytes_only<U> = 0>
    bool try_push_front_for(const std::string &v, std::chrono::duration<Rep, Period> d) {
        return detail::done(push_front_raw(v, detail::to_timeout_ns(d)));
    }
    /** Remove the newest message, blocking as long as the queue is empty. Throws as pop(). */
    template <class U = T, bytes_only<U> = 0>
    std::string pop_back() {
        std::string v;
        detail::check(pop_raw(v, SHMDS_FOREVER, true));
        return v;
    }
    /** The newest message if there is one now, else std::nullopt. Never blocks. */
    template <class U = T, bytes_only<U> = 0>
    std::optional<std::string> try_pop_back() {
        return pop_opt(SHMDS_NOWAIT, true);
    }
    /** Remove the newest message, blocking at most `d` for one; std::nullopt on timeout. */
    template <class Rep, class Period, class U = T, bytes_only<U> = 0>
    std::optional<std::string> try_pop_back_for(std::chrono::duration<Rep, Period> d) {
        return pop_opt(detail::to_timeout_ns(d), true);
    }

    // ---- gauges (snapshots; never block) ----
    /** Items in the queue now; 0 for a moved-from queue. */
    std::uint64_t size() const noexcept { return shmds_queue_size(handle()); }
    /** How many items fit. */
    std::uint64_t capacity() const noexcept { return shmds_queue_capacity(handle()); }
    /** Whether the queue is empty now. */
    bool empty() const noexcept { return shmds_queue_is_empty(handle()) == 1; }
    /** Whether the queue is full now. */
    bool full() const noexcept { return shmds_queue_is_full(handle()) == 1; }
    /** Remove everything present; how many items were removed. Waits only for the queue lock. */
    std::uint64_t clear() {
        std::uint64_t n = 0;
        detail::check(shmds_queue_clear(handle(), &n));
        return n;
    }
    /** Counters and geometry (shmds_queue_stats_t). Throws shmds::error. */
    stats_type stats() const { return detail::read_stats(shmds_queue_stats, handle()); }
    /** The segment's fd for shmds_send_fd() (owned by the queue); throws -ENOENT if anonymous. */
    int fd() const { return detail::check(shmds_queue_fd(handle())); }

    // eventfd(), set_eventfd(), notify(), consume_events(): detail::eventfd_verbs.

private:
    int push_raw(const T &v, std::int64_t timeout) {
        if constexpr (is_bytes)
            return shmds_queue_push_bytes(handle(), v.data(), v.size(), timeout);
        else
            return shmds_queue_push_int(handle(), std::int64_t(v), timeout);
    }

    int push_front_raw(const std::string &v, std::int64_t timeout) {
        return shmds_queue_push_front_bytes(handle(), v.data(), v.size(), timeout);
    }

    std::size_t push_multi_raw(const std::vector<T> &values, std::int64_t timeout) {
        std::size_t pushed = 0;
        int rc;
        if constexpr (is_bytes) {
            const detail::byte_views views(values);
            rc = shmds_queue_push_multi_bytes(handle(), views.datas.data(), views.lens.data(),
                                              values.size(), &pushed, timeout);
        } else {
            std::vector<std::int64_t> wide(values.begin(), values.end());
            rc = shmds_queue_push_multi_int(handle(), wide.data(), wide.size(), &pushed, timeout);
        }
        detail::done(rc);  // full is a short count, not a failure
        return pushed;
    }

    int pop_raw(T &v, std::int64_t timeout, bool back) {
        if constexpr (is_bytes) {
            return detail::read_bytes(v, timeout, [&](void *b, std::size_t n, std::size_t *len,
                                                      std::int64_t left) {
                return back ? shmds_queue_pop_back_bytes(handle(), b, n, len, left)
                            : shmds_queue_pop_bytes(handle(), b, n, len, left);
            });
        } else {
            (void)back;
            std::int64_t x = 0;
            int rc = shmds_queue_pop_int(handle(), &x, timeout);
            v = T(x);
            return rc;
        }
    }

    std::optional<T> pop_opt(std::int64_t timeout, bool back) {
        T v{};
        if (!detail::done(pop_raw(v, timeout, back))) return std::nullopt;
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
                int rc = shmds_queue_drain_bytes(handle(), &buf[0], buf.size(), lens.data(), want,
                                                 &got);
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
            if (!detail::done(
                    shmds_queue_pop_multi_int(handle(), wide.data(), wide.size(), &got, timeout)))
                return out;
            out.assign(wide.begin(), wide.begin() + std::ptrdiff_t(got));
            while (got == wide.size() && out.size() < max) {
                std::size_t want = max - out.size() < wide.size() ? max - out.size() : wide.size();
                detail::check(shmds_queue_drain_int(handle(), wide.data(), want, &got));
                out.insert(out.end(), wide.begin(), wide.begin() + std::ptrdiff_t(got));
                if (got < want) break;
            }
        }
        return out;
    }
};

}  // namespace shmds

#endif  // SHMDS_QUEUE_HPP
