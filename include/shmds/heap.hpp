// libshmds C++ veneer: shmds::heap<V> over the C heap API (shmds/heap.h).
//
//   auto jobs = shmds::heap<std::int64_t>::create(shmds::backing::path("/dev/shm/jobs"), 1024);
//   jobs.push(5, job_id);                           // blocks while full
//   if (auto it = jobs.try_pop_for(std::chrono::milliseconds(300)))
//       run(it->value);                             // lowest priority first, FIFO ties
//
// V is std::int64_t or std::string (a bytes heap; pass max_len to create()). Full,
// empty and timeouts are values (bool, std::optional); every other failure throws
// shmds::error. A duration of zero or less is a probe that never waits. Crash behaviour
// and thread safety are the C API's.
#ifndef SHMDS_HEAP_HPP
#define SHMDS_HEAP_HPP

#include <shmds/detail.hpp>
#include <shmds/heap.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace shmds {

/** One heap item: its priority and its value. */
template <class V>
struct heap_item {
    std::int64_t priority;
    V value;
    bool operator==(const heap_item &o) const { return priority == o.priority && value == o.value; }
};

/** A bounded MPMC priority queue in shared memory (min-heap unless created max); move-only. */
template <class V>
class heap : public detail::handle_base<shmds_heap_t, shmds_heap_close>,
             public detail::eventfd_verbs<heap<V>, shmds_heap_eventfd, shmds_heap_set_eventfd,
                                          shmds_heap_notify, shmds_heap_eventfd_consume> {
    static_assert(std::is_same_v<V, std::int64_t> || std::is_same_v<V, std::string>,
                  "heap value: std::int64_t or std::string");
    static constexpr bool is_bytes = std::is_same_v<V, std::string>;
    static constexpr int type = is_bytes ? SHMDS_TYPE_BYTES : SHMDS_TYPE_INT64;

public:
    using value_type = V;
    using item = heap_item<V>;
    using stats_type = shmds_heap_stats_t;

    /**
     * Create a heap of `capacity` items (std::string: each at most `max_len` bytes; a
     * max-heap with max_heap), or attach to the same-type heap already at that path.
     * Throws shmds::error (-EINVAL bad geometry, -EEXIST with exclusive(), SHMDS_ETYPE).
     */
    static heap create(const backing &where, std::uint64_t capacity, std::uint64_t max_len = 0,
                       bool max_heap = false) {
        shmds_heap_config_t cfg = SHMDS_HEAP_CONFIG_INIT(type, capacity);
        cfg.max_len = max_len;
        cfg.flags = max_heap ? SHMDS_HEAP_MAX : 0;
        return heap(detail::new_handle(shmds_heap_create, where.options(), &cfg));
    }
    /** Attach to an existing heap of this type. Throws shmds::error (-ENOENT, SHMDS_ETYPE). */
    static heap open(const backing &where) {
        return heap(detail::new_handle(shmds_heap_open, where.options(), type));
    }
    /** Adopt a C handle of this type (takes ownership). */
    explicit heap(shmds_heap_t *handle) noexcept : handle_base(handle) {}

    // ---- push: blocking, probing (false when full) and bounded (false on timeout) ----
    void push(std::int64_t priority, const V &v) {
        detail::check(push_raw(priority, v, SHMDS_FOREVER));
    }
    bool try_push(std::int64_t priority, const V &v) {
        return detail::done(push_raw(priority, v, SHMDS_NOWAIT));
    }
    template <class Rep, class Period>
    bool try_push_for(std::int64_t priority, const V &v, std::chrono::duration<Rep, Period> d) {
        return detail::done(push_raw(priority, v, detail::to_timeout_ns(d)));
    }
    /** Push items in order while there is room (never blocks); how many went in. */
    std::size_t try_push_multi(const std::vector<item> &items) {
        std::vector<std::int64_t> prios;
        for (const item &it : items) prios.push_back(it.priority);
        std::size_t pushed = 0;
        int rc;
        if constexpr (is_bytes) {
            std::vector<const void *> datas;
            std::vector<std::size_t> lens;
            for (const item &it : items) {
                datas.push_back(it.value.data());
                lens.push_back(it.value.size());
            }
            rc = shmds_heap_push_multi_bytes(handle(), prios.data(), datas.data(), lens.data(),
                                             items.size(), &pushed, SHMDS_NOWAIT);
        } else {
            std::vector<std::int64_t> values;
            for (const item &it : items) values.push_back(it.value);
            rc = shmds_heap_push_multi_int(handle(), prios.data(), values.data(), items.size(),
                                           &pushed, SHMDS_NOWAIT);
        }
        detail::done(rc);  // full is a short count, not a failure
        return pushed;
    }

    // ---- pop: the first item (lowest priority, or highest for a max-heap) ----
    item pop() {
        item it{};
        detail::check(pop_raw(it, SHMDS_FOREVER));
        return it;
    }
    std::optional<item> try_pop() { return pop_opt(SHMDS_NOWAIT); }
    /** Pop, blocking at most `d` for an item; std::nullopt on timeout. */
    template <class Rep, class Period>
    std::optional<item> try_pop_for(std::chrono::duration<Rep, Period> d) {
        return pop_opt(detail::to_timeout_ns(d));
    }
    /** Pop, blocking until `t` for an item; std::nullopt on timeout. */
    template <class Clock, class Duration>
    std::optional<item> try_pop_until(std::chrono::time_point<Clock, Duration> t) {
        return pop_opt(detail::until_timeout_ns(t));
    }
    /** Everything there now, up to `max`, in pop order. */
    std::vector<item> drain(std::size_t max = SIZE_MAX) {
        std::vector<item> out;
        while (out.size() < max) {
            auto it = pop_opt(SHMDS_NOWAIT);
            if (!it) break;
            out.push_back(std::move(*it));
        }
        return out;
    }
    /** A copy of the first item, or std::nullopt if empty. Never waits for items. */
    std::optional<item> peek() const {
        item it{};
        int rc;
        if constexpr (is_bytes) {
            rc = detail::read_bytes(it.value, SHMDS_NOWAIT,
                                    [&](void *b, std::size_t n, std::size_t *len, std::int64_t) {
                                        return shmds_heap_peek_bytes(handle(), &it.priority, b, n,
                                                                     len);
                                    });
        } else {
            rc = shmds_heap_peek_int(handle(), &it.priority, &it.value);
        }
        if (!detail::done(rc)) return std::nullopt;
        return it;
    }

    // ---- gauges (snapshots; never block) ----
    std::uint64_t size() const noexcept { return shmds_heap_size(handle()); }
    std::uint64_t capacity() const noexcept { return shmds_heap_capacity(handle()); }
    bool empty() const noexcept { return shmds_heap_is_empty(handle()) == 1; }
    bool full() const noexcept { return shmds_heap_is_full(handle()) == 1; }
    bool is_max() const noexcept { return shmds_heap_is_max(handle()) == 1; }
    /** Remove everything (safe under concurrency); how many were removed. */
    std::uint64_t clear() {
        std::uint64_t n = 0;
        detail::check(shmds_heap_clear(handle(), &n));
        return n;
    }
    stats_type stats() const { return detail::read_stats(shmds_heap_stats, handle()); }
    std::uint64_t recoveries() const noexcept { return shmds_heap_recoveries(handle()); }
    /** The segment's fd for shmds_send_fd() (owned by the heap); throws -ENOENT if anonymous. */
    int fd() const { return detail::check(shmds_heap_fd(handle())); }

private:
    int push_raw(std::int64_t priority, const V &v, std::int64_t timeout) {
        if constexpr (is_bytes)
            return shmds_heap_push_bytes(handle(), priority, v.data(), v.size(), timeout);
        else
            return shmds_heap_push_int(handle(), priority, v, timeout);
    }
    int pop_raw(item &it, std::int64_t timeout) {
        if constexpr (is_bytes) {
            return detail::read_bytes(it.value, timeout,
                                      [&](void *b, std::size_t n, std::size_t *len,
                                          std::int64_t left) {
                                          return shmds_heap_pop_bytes(handle(), &it.priority, b, n,
                                                                      len, left);
                                      });
        } else {
            return shmds_heap_pop_int(handle(), &it.priority, &it.value, timeout);
        }
    }
    std::optional<item> pop_opt(std::int64_t timeout) {
        item it{};
        if (!detail::done(pop_raw(it, timeout))) return std::nullopt;
        return it;
    }
};

}  // namespace shmds

#endif  // SHMDS_HEAP_HPP
