// libshmds C++ veneer: shmds::pubsub<T> and its subscriber over the C API (shmds/pubsub.h).
//
//   auto ps = shmds::pubsub<std::int64_t>::create(shmds::backing::anonymous(), 1024);
//   auto sub = ps.subscribe();              // future messages only
//   ps.publish(42);
//   if (auto v = sub.try_poll()) use(*v);   // std::nullopt when nothing is new
//   auto v = sub.poll_for(std::chrono::milliseconds(100));
//
// T is std::int16_t, std::int32_t, std::int64_t or std::string (the bytes variant).
// "Nothing new" and timeouts are values (std::optional); real failures throw
// shmds::error. A subscriber must not outlive the pubsub it came from.
#ifndef SHMDS_PUBSUB_HPP
#define SHMDS_PUBSUB_HPP

#include <shmds/error.hpp>
#include <shmds/pubsub.h>

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
struct pubsub_variant;
template <>
struct pubsub_variant<std::int16_t> : std::integral_constant<int, SHMDS_PUBSUB_INT16> {};
template <>
struct pubsub_variant<std::int32_t> : std::integral_constant<int, SHMDS_PUBSUB_INT32> {};
template <>
struct pubsub_variant<std::int64_t> : std::integral_constant<int, SHMDS_PUBSUB_INT64> {};
template <>
struct pubsub_variant<std::string> : std::integral_constant<int, SHMDS_PUBSUB_BYTES> {};

inline bool got_or_nothing(int rc) {
    if (rc == 0) return true;
    if (rc == -EAGAIN || rc == -ETIMEDOUT) return false;
    throw error(rc);
}
}  // namespace detail

template <class T>
class pubsub;

/** A cursor over a pubsub ring, owned by this process; move-only. */
template <class T>
class subscriber {
    static constexpr bool is_bytes = std::is_same_v<T, std::string>;

public:
    explicit subscriber(shmds_pubsub_sub_t *handle, std::uint64_t msg_size) noexcept
        : h_(handle), msg_size_(msg_size) {}
    subscriber(subscriber &&o) noexcept
        : h_(std::exchange(o.h_, nullptr)), msg_size_(o.msg_size_) {}
    subscriber &operator=(subscriber &&o) noexcept {
        if (this != &o) {
            shmds_pubsub_sub_close(h_);
            h_ = std::exchange(o.h_, nullptr);
            msg_size_ = o.msg_size_;
        }
        return *this;
    }
    subscriber(const subscriber &) = delete;
    subscriber &operator=(const subscriber &) = delete;
    ~subscriber() { shmds_pubsub_sub_close(h_); }

    shmds_pubsub_sub_t *handle() const noexcept { return h_; }

    /** The next message if there is one now. */
    std::optional<T> try_poll() { return poll_raw(SHMDS_NOWAIT); }
    /** The next message, waiting at most `d`. */
    template <class Rep, class Period>
    std::optional<T> poll_for(std::chrono::duration<Rep, Period> d) {
        return poll_raw(detail::to_timeout_ns(d));
    }
    /** The next message, waiting as long as it takes. */
    T poll() {
        auto v = poll_raw(SHMDS_FOREVER);
        return std::move(*v);
    }
    /** Up to `max` messages; waits at most `d` for the first (zero: do not wait). */
    template <class Rep = std::int64_t, class Period = std::nano>
    std::vector<T> poll_multi(std::size_t max,
                              std::chrono::duration<Rep, Period> d = std::chrono::nanoseconds(0)) {
        std::vector<T> out;
        if (max == 0) return out;
        auto first = poll_raw(detail::to_timeout_ns(d));
        if (!first) return out;
        out.push_back(std::move(*first));
        while (out.size() < max) {
            auto next = poll_raw(SHMDS_NOWAIT);
            if (!next) break;
            out.push_back(std::move(*next));
        }
        return out;
    }
    /** Everything new now, up to `max`. */
    std::vector<T> drain(std::size_t max = SIZE_MAX) { return poll_multi(max); }

    std::uint64_t lag() const noexcept { return shmds_pubsub_sub_lag(h_); }
    std::uint64_t overflow_count() const noexcept { return shmds_pubsub_sub_overflow_count(h_); }
    bool has_overflow() const noexcept { return overflow_count() != 0; }
    std::uint64_t skipped_count() const noexcept { return shmds_pubsub_sub_skipped_count(h_); }
    std::uint64_t cursor() const noexcept { return shmds_pubsub_sub_cursor(h_); }
    void set_cursor(std::uint64_t pos) { detail::check(shmds_pubsub_sub_set_cursor(h_, pos)); }
    std::uint64_t write_pos() const noexcept { return shmds_pubsub_sub_write_pos(h_); }
    void reset() { detail::check(shmds_pubsub_sub_reset(h_)); }
    void reset_oldest() { detail::check(shmds_pubsub_sub_reset_oldest(h_)); }
    int eventfd() { return detail::check(shmds_pubsub_sub_eventfd(h_)); }

private:
    std::optional<T> poll_raw(std::int64_t timeout) {
        if constexpr (is_bytes) {
            std::string v(msg_size_, '\0');
            std::size_t len = 0;
            if (!detail::got_or_nothing(
                    shmds_pubsub_sub_poll_bytes(h_, &v[0], v.size(), &len, timeout)))
                return std::nullopt;
            v.resize(len);
            return v;
        } else {
            std::int64_t x = 0;
            if (!detail::got_or_nothing(shmds_pubsub_sub_poll_int(h_, &x, timeout)))
                return std::nullopt;
            return T(x);
        }
    }

    shmds_pubsub_sub_t *h_ = nullptr;
    std::uint64_t msg_size_ = 0;
};

template <class T>
class pubsub {
    static constexpr bool is_bytes = std::is_same_v<T, std::string>;
    static constexpr int variant = detail::pubsub_variant<T>::value;

public:
    using value_type = T;
    using stats_type = shmds_pubsub_stats_t;

    /** Create (or attach to the same-variant ring already at that path). */
    static pubsub create(const backing &where, std::uint64_t capacity,
                         std::uint64_t msg_size = 0) {
        shmds_pubsub_config_t cfg = SHMDS_PUBSUB_CONFIG_INIT(variant, capacity);
        cfg.msg_size = msg_size;
        shmds_pubsub_t *h = nullptr;
        detail::check(shmds_pubsub_create(where.options(), &cfg, &h));
        return pubsub(h);
    }
    /** Attach to an existing ring of this variant. */
    static pubsub open(const backing &where) {
        shmds_pubsub_t *h = nullptr;
        detail::check(shmds_pubsub_open(where.options(), variant, &h));
        return pubsub(h);
    }

    explicit pubsub(shmds_pubsub_t *handle) noexcept : h_(handle) {}
    pubsub(pubsub &&) noexcept = default;
    pubsub &operator=(pubsub &&) noexcept = default;

    shmds_pubsub_t *handle() const noexcept { return h_.get(); }

    /** Publish one message; never blocks. */
    void publish(const T &v) {
        if constexpr (is_bytes)
            detail::check(shmds_pubsub_publish_bytes(h_, v.data(), v.size()));
        else
            detail::check(shmds_pubsub_publish_int(h_, std::int64_t(v)));
    }
    /** Publish a batch under one claim. */
    void publish_multi(const std::vector<T> &values) {
        if constexpr (is_bytes) {
            std::vector<const void *> datas(values.size());
            std::vector<std::size_t> lens(values.size());
            for (std::size_t i = 0; i < values.size(); ++i) {
                datas[i] = values[i].data();
                lens[i] = values[i].size();
            }
            detail::check(
                shmds_pubsub_publish_multi_bytes(h_, datas.data(), lens.data(), values.size()));
        } else {
            std::vector<std::int64_t> wide(values.begin(), values.end());
            detail::check(shmds_pubsub_publish_multi_int(h_, wide.data(), wide.size()));
        }
    }
    /** Publish, then signal the eventfd. */
    void publish_notify(const T &v) {
        publish(v);
        notify();
    }

    /** Future messages only. */
    subscriber<T> subscribe() {
        shmds_pubsub_sub_t *s = nullptr;
        detail::check(shmds_pubsub_subscribe(h_, &s));
        return subscriber<T>(s, msg_size());
    }
    /** From the oldest message still held. */
    subscriber<T> subscribe_all() {
        shmds_pubsub_sub_t *s = nullptr;
        detail::check(shmds_pubsub_subscribe_all(h_, &s));
        return subscriber<T>(s, msg_size());
    }

    std::uint64_t capacity() const noexcept { return shmds_pubsub_capacity(h_); }
    std::uint64_t msg_size() const noexcept { return shmds_pubsub_msg_size(h_); }
    std::uint64_t write_pos() const noexcept { return shmds_pubsub_write_pos(h_); }
    stats_type stats() const {
        stats_type s{};
        s.struct_size = sizeof s;
        detail::check(shmds_pubsub_stats(h_, &s));
        return s;
    }
    int fd() const { return detail::check(shmds_pubsub_fd(h_)); }

    int eventfd() { return detail::check(shmds_pubsub_eventfd(h_)); }
    void set_eventfd(int fd) { detail::check(shmds_pubsub_set_eventfd(h_, fd)); }
    void notify() { detail::check(shmds_pubsub_notify(h_)); }
    std::optional<std::uint64_t> consume_events() {
        std::uint64_t n = 0;
        int rc = shmds_pubsub_eventfd_consume(h_, &n);
        if (rc == -EAGAIN) return std::nullopt;
        detail::check(rc);
        return n;
    }

private:
    detail::unique_handle<shmds_pubsub_t, shmds_pubsub_close> h_;
};

}  // namespace shmds

#endif  // SHMDS_PUBSUB_HPP
