// libshmds C++ veneer: shmds::pubsub<T> and its subscriber over the C API (shmds/pubsub.h).
//
//   auto ps = shmds::pubsub<std::int64_t>::create(shmds::backing::anonymous(), 1024);
//   auto sub = ps.subscribe();              // future messages only
//   ps.publish(42);
//   if (auto v = sub.try_poll()) use(*v);   // std::nullopt when nothing is new
//   auto v = sub.poll_for(std::chrono::milliseconds(100));
//
// T is std::int16_t, std::int32_t, std::int64_t or std::string (the bytes variant).
// "Nothing new" and timeouts are values (std::optional); every other failure the C
// function reports throws shmds::error (a member marked noexcept never throws). A
// duration of zero or less is a probe that never waits. A subscriber must not outlive
// the pubsub it came from.
#ifndef SHMDS_PUBSUB_HPP
#define SHMDS_PUBSUB_HPP

#include <shmds/detail.hpp>
#include <shmds/pubsub.h>

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
struct pubsub_variant;
template <>
struct pubsub_variant<std::int16_t> : std::integral_constant<int, SHMDS_PUBSUB_INT16> {};
template <>
struct pubsub_variant<std::int32_t> : std::integral_constant<int, SHMDS_PUBSUB_INT32> {};
template <>
struct pubsub_variant<std::int64_t> : std::integral_constant<int, SHMDS_PUBSUB_INT64> {};
template <>
struct pubsub_variant<std::string> : std::integral_constant<int, SHMDS_PUBSUB_BYTES> {};
}  // namespace detail

/** A cursor over a pubsub ring, owned by this process; move-only, freed when destroyed. */
template <class T>
class subscriber : public detail::handle_base<shmds_pubsub_sub_t, shmds_pubsub_sub_close> {
    static constexpr bool is_bytes = std::is_same_v<T, std::string>;

public:
    /** Adopt a C subscriber of a T ring (takes ownership). */
    explicit subscriber(shmds_pubsub_sub_t *handle) noexcept : handle_base(handle) {}

    /** The next message if there is one now, else std::nullopt. Never blocks. */
    std::optional<T> try_poll() { return poll_opt(SHMDS_NOWAIT); }
    /** The next message, blocking at most `d` for one; std::nullopt on timeout. */
    template <class Rep, class Period>
    std::optional<T> poll_for(std::chrono::duration<Rep, Period> d) {
        return poll_opt(detail::to_timeout_ns(d));
    }
    /** The next message, blocking as long as it takes. */
    T poll() {
        T v{};
        detail::check(poll_raw(v, SHMDS_FOREVER));
        return v;
    }
    /**
     * Up to `max` messages; blocks at most `d` for the first (zero: not at all), then
     * takes what is new. Empty on timeout.
     */
    template <class Rep = std::int64_t, class Period = std::nano>
    std::vector<T> poll_multi(std::size_t max,
                              std::chrono::duration<Rep, Period> d = std::chrono::nanoseconds(0)) {
        std::vector<T> out;
        if (max == 0) return out;
        for (auto next = poll_opt(detail::to_timeout_ns(d)); next; next = poll_opt(SHMDS_NOWAIT)) {
            out.push_back(std::move(*next));
            if (out.size() == max) break;
        }
        return out;
    }
    /** Everything new now, up to `max`. Never blocks. */
    std::vector<T> drain(std::size_t max = SIZE_MAX) { return poll_multi(max); }

    /** Messages published but not read yet (may exceed the capacity). Never blocks. */
    std::uint64_t lag() const noexcept { return shmds_pubsub_sub_lag(handle()); }
    /** Messages missed because the ring lapped this subscriber. Never blocks. */
    std::uint64_t overflow_count() const noexcept {
        return shmds_pubsub_sub_overflow_count(handle());
    }
    /** Whether any message was missed to a lap. Never blocks. */
    bool has_overflow() const noexcept { return overflow_count() != 0; }
    /** Positions skipped because their publisher never committed them. Never blocks. */
    std::uint64_t skipped_count() const noexcept {
        return shmds_pubsub_sub_skipped_count(handle());
    }
    /** The position of the next message to read. Never blocks. */
    std::uint64_t cursor() const noexcept { return shmds_pubsub_sub_cursor(handle()); }
    /** Move the cursor to `pos` (from cursor() or write_pos()). Never blocks. */
    void set_cursor(std::uint64_t pos) {
        detail::check(shmds_pubsub_sub_set_cursor(handle(), pos));
    }
    /** The ring's write position. Never blocks. */
    std::uint64_t write_pos() const noexcept { return shmds_pubsub_sub_write_pos(handle()); }
    /** Skip everything unread: jump to the newest position. Never blocks. */
    void reset() { detail::check(shmds_pubsub_sub_reset(handle())); }
    /** Jump back to the oldest message still held. Never blocks. */
    void reset_oldest() { detail::check(shmds_pubsub_sub_reset_oldest(handle())); }
    /** The eventfd of the pubsub handle this came from, for epoll. Never blocks. */
    int eventfd() { return detail::check(shmds_pubsub_sub_eventfd(handle())); }

private:
    int poll_raw(T &v, std::int64_t timeout) {
        if constexpr (is_bytes) {
            return detail::read_bytes(v, timeout, [&](void *b, std::size_t n, std::size_t *len,
                                                      std::int64_t left) {
                return shmds_pubsub_sub_poll_bytes(handle(), b, n, len, left);
            });
        } else {
            std::int64_t x = 0;
            const int rc = shmds_pubsub_sub_poll_int(handle(), &x, timeout);
            v = T(x);
            return rc;
        }
    }

    std::optional<T> poll_opt(std::int64_t timeout) {
        T v{};
        if (!detail::done(poll_raw(v, timeout))) return std::nullopt;
        return v;
    }
};

/** A broadcast ring in shared memory; move-only, closes its handle when destroyed. */
template <class T>
class pubsub : public detail::handle_base<shmds_pubsub_t, shmds_pubsub_close>,
               public detail::eventfd_verbs<pubsub<T>, shmds_pubsub_eventfd,
                                            shmds_pubsub_set_eventfd, shmds_pubsub_notify,
                                            shmds_pubsub_eventfd_consume> {
    static constexpr bool is_bytes = std::is_same_v<T, std::string>;
    static constexpr int variant = detail::pubsub_variant<T>::value;

public:
    using value_type = T;
    using stats_type = shmds_pubsub_stats_t;

    /**
     * Create a ring of `capacity` messages (for std::string, each up to `msg_size`
     * bytes; 0 picks the default), or attach to the same-variant ring already at that
     * path. Throws shmds::error (-EINVAL, -EEXIST, SHMDS_ETYPE, ...). Waits only for a
     * concurrent creator.
     */
    static pubsub create(const backing &where, std::uint64_t capacity,
                         std::uint64_t msg_size = 0) {
        shmds_pubsub_config_t cfg = SHMDS_PUBSUB_CONFIG_INIT(variant, capacity);
        cfg.msg_size = msg_size;
        return pubsub(detail::new_handle(shmds_pubsub_create, where.options(), &cfg));
    }
    /** Attach to an existing ring of this variant. Throws shmds::error (-ENOENT, SHMDS_ETYPE). */
    static pubsub open(const backing &where) {
        return pubsub(detail::new_handle(shmds_pubsub_open, where.options(), variant));
    }

    /** Adopt a C handle of this variant (takes ownership). */
    explicit pubsub(shmds_pubsub_t *handle) noexcept : handle_base(handle) {}

    /**
     * Publish one message, overwriting the oldest. Never waits for subscribers (only,
     * briefly, for a publisher copying into the same slot). Throws -E2BIG, -ERANGE.
     */
    void publish(const T &v) {
        if constexpr (is_bytes)
            detail::check(shmds_pubsub_publish_bytes(handle(), v.data(), v.size()));
        else
            detail::check(shmds_pubsub_publish_int(handle(), std::int64_t(v)));
    }
    /** Publish a batch in order under one claim; all or nothing. Blocks as publish(). */
    void publish_multi(const std::vector<T> &values) {
        if constexpr (is_bytes) {
            const detail::byte_views views(values);
            detail::check(shmds_pubsub_publish_multi_bytes(handle(), views.datas.data(),
                                                           views.lens.data(), values.size()));
        } else {
            std::vector<std::int64_t> wide(values.begin(), values.end());
            detail::check(shmds_pubsub_publish_multi_int(handle(), wide.data(), wide.size()));
        }
    }
    /** Publish, then signal the eventfd. Blocks as publish(); throws -ENOENT (no eventfd). */
    void publish_notify(const T &v) {
        publish(v);
        this->notify();
    }

    /** A subscriber that sees only messages published from now on. Never blocks. */
    subscriber<T> subscribe() {
        return subscriber<T>(detail::new_handle(shmds_pubsub_subscribe, handle()));
    }
    /** A subscriber starting at the oldest message still held. Never blocks. */
    subscriber<T> subscribe_all() {
        return subscriber<T>(detail::new_handle(shmds_pubsub_subscribe_all, handle()));
    }

    /** Messages the ring holds. Never blocks. */
    std::uint64_t capacity() const noexcept { return shmds_pubsub_capacity(handle()); }
    /** std::string: the largest message; 0 for integers. Never blocks. */
    std::uint64_t msg_size() const noexcept { return shmds_pubsub_msg_size(handle()); }
    /** Positions claimed so far. Never blocks. */
    std::uint64_t write_pos() const noexcept { return shmds_pubsub_write_pos(handle()); }
    /** Counters and geometry (shmds_pubsub_stats_t). Never blocks. */
    stats_type stats() const { return detail::read_stats(shmds_pubsub_stats, handle()); }
    /** The segment's fd for shmds_send_fd() (owned by the ring); throws -ENOENT if anonymous. */
    int fd() const { return detail::check(shmds_pubsub_fd(handle())); }

    // eventfd(), set_eventfd(), notify(), consume_events(): detail::eventfd_verbs.
};

}  // namespace shmds

#endif  // SHMDS_PUBSUB_HPP
