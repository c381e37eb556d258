// libshmds C++ veneer: shmds::stack<T> over the C stack API (shmds/stack.h).
//
//   auto s = shmds::stack<std::int64_t>::create(shmds::backing::path("/dev/shm/undo"), 1024);
//   s.push(42);                                   // blocks while full
//   if (auto v = s.try_pop()) use(*v);            // std::nullopt when empty
//
// T as for shmds::deque (shmds/deque.hpp): an integer of 8..64 bits (std::uint64_t
// through the _uint verbs), float, double or std::string (pass max_len to create()).
// Full, empty and timeouts are values; every other failure throws shmds::error. Crash
// behaviour is the C API's.
#ifndef SHMDS_STACK_HPP
#define SHMDS_STACK_HPP

#include <shmds/deque.hpp>  // detail::seq_type
#include <shmds/stack.h>

namespace shmds {

/** A bounded MPMC LIFO in shared memory; move-only. */
template <class T>
class stack : public detail::handle_base<shmds_stack_t, shmds_stack_close>,
              public detail::eventfd_verbs<stack<T>, shmds_stack_eventfd, shmds_stack_set_eventfd,
                                           shmds_stack_notify, shmds_stack_eventfd_consume> {
    static constexpr int type = detail::seq_type<T>();
    static constexpr bool is_bytes = type == SHMDS_TYPE_BYTES;
    static constexpr bool is_float = type == SHMDS_TYPE_F64 || type == SHMDS_TYPE_F32;
    static constexpr bool is_u64 = type == SHMDS_TYPE_UINT64;  // the _uint verbs

public:
    using value_type = T;
    using stats_type = shmds_stack_stats_t;

    /** Create a stack of `capacity` items (std::string: each at most `max_len` bytes), or
     * attach to the same-type stack at that path. Throws shmds::error. */
    static stack create(const backing &where, std::uint64_t capacity, std::uint64_t max_len = 0) {
        shmds_stack_config_t cfg = SHMDS_STACK_CONFIG_INIT(type, capacity);
        cfg.max_len = max_len;
        return stack(detail::new_handle(shmds_stack_create, where.options(), &cfg));
    }
    /** Attach to an existing stack of this type. Throws shmds::error (-ENOENT, SHMDS_ETYPE). */
    static stack open(const backing &where) {
        return stack(detail::new_handle(shmds_stack_open, where.options(), type));
    }
    explicit stack(shmds_stack_t *handle) noexcept : handle_base(handle) {}

    /** Push on top, blocking while full. Throws shmds::error (-ERANGE, -E2BIG, ...). */
    void push(const T &v) { detail::check(push_raw(v, SHMDS_FOREVER)); }
    /** Push if there is room now; false if full. */
    bool try_push(const T &v) { return detail::done(push_raw(v, SHMDS_NOWAIT)); }
    /** Push, blocking at most `d` for room; false if it stayed full. */
    template <class Rep, class Period>
    bool try_push_for(const T &v, std::chrono::duration<Rep, Period> d) {
        return detail::done(push_raw(v, detail::to_timeout_ns(d)));
    }
    /** Pop the top item, blocking while empty. */
    T pop() {
        T v{};
        detail::check(pop_raw(v, SHMDS_FOREVER));
        return v;
    }
    /** The top item if there is one now. */
    std::optional<T> try_pop() { return pop_opt(SHMDS_NOWAIT); }
    /** The top item, blocking at most `d` for one; std::nullopt on timeout. */
    template <class Rep, class Period>
    std::optional<T> try_pop_for(std::chrono::duration<Rep, Period> d) {
        return pop_opt(detail::to_timeout_ns(d));
    }
    /** Everything there now, up to `max`, top first. Never blocks. */
    std::vector<T> drain(std::size_t max = SIZE_MAX) {
        std::vector<T> out;
        while (out.size() < max) {
            auto v = pop_opt(SHMDS_NOWAIT);
            if (!v) break;
            out.push_back(std::move(*v));
        }
        return out;
    }
    /** A copy of the top item, or std::nullopt if empty. Never waits for items. */
    std::optional<T> peek() const {
        T v{};
        int rc;
        if constexpr (is_bytes) {
            rc = detail::read_bytes(v, SHMDS_NOWAIT, [&](void *b, std::size_t n, std::size_t *len,
                                                         std::int64_t) {
                return shmds_stack_peek_bytes(handle(), b, n, len);
            });
        } else if constexpr (is_float) {
            double x = 0;
            rc = shmds_stack_peek_f64(handle(), &x);
            v = T(x);
        } else if constexpr (is_u64) {
            rc = shmds_stack_peek_uint(handle(), &v);
        } else {
            std::int64_t x = 0;
            rc = shmds_stack_peek_int(handle(), &x);
            v = T(x);
        }
        if (!detail::done(rc)) return std::nullopt;
        return v;
    }

    std::uint64_t size() const noexcept { return shmds_stack_size(handle()); }
    std::uint64_t capacity() const noexcept { return shmds_stack_capacity(handle()); }
    bool empty() const noexcept { return shmds_stack_is_empty(handle()) == 1; }
    bool full() const noexcept { return shmds_stack_is_full(handle()) == 1; }
    /** Remove everything (safe under concurrency); how many were removed. */
    std::uint64_t clear() {
        std::uint64_t n = 0;
        detail::check(shmds_stack_clear(handle(), &n));
        return n;
    }
    stats_type stats() const { return detail::read_stats(shmds_stack_stats, handle()); }
    int fd() const { return detail::check(shmds_stack_fd(handle())); }

private:
    int push_raw(const T &v, std::int64_t timeout) {
        if constexpr (is_bytes)
            return shmds_stack_push_bytes(handle(), v.data(), v.size(), timeout);
        else if constexpr (is_float)
            return shmds_stack_push_f64(handle(), double(v), timeout);
        else if constexpr (is_u64)
            return shmds_stack_push_uint(handle(), v, timeout);
        else
            return shmds_stack_push_int(handle(), std::int64_t(v), timeout);
    }
    int pop_raw(T &v, std::int64_t timeout) {
        if constexpr (is_bytes) {
            return detail::read_bytes(v, timeout, [&](void *b, std::size_t n, std::size_t *len,
                                                      std::int64_t left) {
                return shmds_stack_pop_bytes(handle(), b, n, len, left);
            });
        } else if constexpr (is_float) {
            double x = 0;
            const int rc = shmds_stack_pop_f64(handle(), &x, timeout);
            v = T(x);
            return rc;
        } else if constexpr (is_u64) {
            return shmds_stack_pop_uint(handle(), &v, timeout);
        } else {
            std::int64_t x = 0;
            const int rc = shmds_stack_pop_int(handle(), &x, timeout);
            v = T(x);
            return rc;
        }
    }
    std::optional<T> pop_opt(std::int64_t timeout) {
        T v{};
        if (!detail::done(pop_raw(v, timeout))) return std::nullopt;
        return v;
    }
};

}  // namespace shmds

#endif  // SHMDS_STACK_HPP
