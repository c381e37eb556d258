// libshmds C++ veneer: shmds::ring_buffer<T> over the C ring buffer API (shmds/ringbuffer.h).
//
//   auto r = shmds::ring_buffer<double>::create(shmds::backing::path("/dev/shm/load"), 600);
//   std::uint64_t seq = r.write(0.75);           // never blocks
//   if (auto v = r.latest()) show(*v);           // the newest value, if readable
//   for (double v : r.to_list()) plot(v);        // oldest first
//   r.wait_for(r.count(), std::chrono::seconds(1));  // the next write, or a timeout
//
// T is one of std::int8_t ... std::int64_t, std::uint8_t ... std::uint64_t, or double;
// the ring's element type is T's (SHMDS_TYPE_INT8 ... SHMDS_TYPE_F64). Missing values
// and timeouts are values (std::optional, read_status, bool); every other failure the C
// function reports throws shmds::error. A duration of zero or less is a probe that never
// waits (shmds::detail::to_timeout_ns). Crash behaviour and thread safety are those of
// the C API. The ring keeps no per-process state, so nothing here depends on the
// process that made the object (it may be used in a fork() child).
#ifndef SHMDS_RINGBUFFER_HPP
#define SHMDS_RINGBUFFER_HPP

#include <shmds/detail.hpp>
#include <shmds/ringbuffer.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <vector>

namespace shmds {

namespace detail {
template <class T>
struct ring_type;
template <> struct ring_type<std::int8_t> : std::integral_constant<int, SHMDS_TYPE_INT8> {};
template <> struct ring_type<std::int16_t> : std::integral_constant<int, SHMDS_TYPE_INT16> {};
template <> struct ring_type<std::int32_t> : std::integral_constant<int, SHMDS_TYPE_INT32> {};
template <> struct ring_type<std::int64_t> : std::integral_constant<int, SHMDS_TYPE_INT64> {};
template <> struct ring_type<std::uint8_t> : std::integral_constant<int, SHMDS_TYPE_UINT8> {};
template <> struct ring_type<std::uint16_t> : std::integral_constant<int, SHMDS_TYPE_UINT16> {};
template <> struct ring_type<std::uint32_t> : std::integral_constant<int, SHMDS_TYPE_UINT32> {};
template <> struct ring_type<std::uint64_t> : std::integral_constant<int, SHMDS_TYPE_UINT64> {};
template <> struct ring_type<double> : std::integral_constant<int, SHMDS_TYPE_F64> {};

// Which C verbs carry T: double the _f64 ones, uint64 the _uint ones (its values do not
// all fit int64_t), every other integer the _int ones.
template <class T>
struct ring_verbs {
    using wire = std::int64_t;
    static constexpr auto write = shmds_ringbuffer_write_int;
    static constexpr auto write_multi = shmds_ringbuffer_write_multi_int;
    static constexpr auto read_seq = shmds_ringbuffer_read_seq_int;
    static constexpr auto latest = shmds_ringbuffer_latest_int;
    static constexpr auto to_list = shmds_ringbuffer_to_list_int;
};
template <>
struct ring_verbs<std::uint64_t> {
    using wire = std::uint64_t;
    static constexpr auto write = shmds_ringbuffer_write_uint;
    static constexpr auto write_multi = shmds_ringbuffer_write_multi_uint;
    static constexpr auto read_seq = shmds_ringbuffer_read_seq_uint;
    static constexpr auto latest = shmds_ringbuffer_latest_uint;
    static constexpr auto to_list = shmds_ringbuffer_to_list_uint;
};
template <>
struct ring_verbs<double> {
    using wire = double;
    static constexpr auto write = shmds_ringbuffer_write_f64;
    static constexpr auto write_multi = shmds_ringbuffer_write_multi_f64;
    static constexpr auto read_seq = shmds_ringbuffer_read_seq_f64;
    static constexpr auto latest = shmds_ringbuffer_latest_f64;
    static constexpr auto to_list = shmds_ringbuffer_to_list_f64;
};
}  // namespace detail

/** What read_seq found for a sequence: ringbuffer.h's three outcomes. */
enum class read_status {
    ok,           ///< the value written under that sequence
    not_written,  ///< not written yet (or claimed by a writer that has not committed)
    overwritten,  ///< the slot holds a later sequence now
};

/** A value of the window with its sequence. */
template <class T>
struct ring_entry {
    std::uint64_t seq;
    T value;
};

/** An overwriting window of the last `capacity` values; move-only, closes its handle. */
template <class T>
class ring_buffer
    : public detail::handle_base<shmds_ringbuffer_t, shmds_ringbuffer_close>,
      public detail::eventfd_verbs<ring_buffer<T>, shmds_ringbuffer_eventfd,
                                   shmds_ringbuffer_set_eventfd, shmds_ringbuffer_notify,
                                   shmds_ringbuffer_eventfd_consume> {
    using verbs = detail::ring_verbs<T>;
    using wire = typename verbs::wire;
    static constexpr int type = detail::ring_type<T>::value;

public:
    using value_type = T;
    using stats_type = shmds_ringbuffer_stats_t;

    /**
     * Create a ring of `capacity` values (1 ..= 2^30, not rounded), or attach to the
     * ring of this type already at that path (its capacity wins). Throws shmds::error
     * (-EINVAL bad capacity, -EEXIST with exclusive(), SHMDS_ETYPE another structure
     * or type, ...). Waits only for a concurrent creator.
     */
    static ring_buffer create(const backing &where, std::uint64_t capacity) {
        shmds_ringbuffer_config_t cfg = SHMDS_RINGBUFFER_CONFIG_INIT(type, capacity);
        return ring_buffer(detail::new_handle(shmds_ringbuffer_create, where.options(), &cfg));
    }
    /** Attach to an existing ring of this type. Throws shmds::error (-ENOENT, SHMDS_ETYPE). */
    static ring_buffer open(const backing &where) {
        return ring_buffer(detail::new_handle(shmds_ringbuffer_open, where.options(), type));
    }
    /** Adopt a C handle of this type (takes ownership). */
    explicit ring_buffer(shmds_ringbuffer_t *handle) noexcept : handle_base(handle) {}

    // ---- write (never blocks) ----
    /** Write `v` as the next sequence; returns that sequence. Throws shmds::error. */
    std::uint64_t write(T v) {
        std::uint64_t seq = 0;
        detail::check(verbs::write(handle(), wire(v), &seq));
        return seq;
    }
    /** Write values under consecutive sequences; returns the first. Throws shmds::error. */
    std::uint64_t write_multi(const std::vector<T> &values) {
        std::uint64_t first = 0;
        if constexpr (std::is_same_v<T, wire>) {
            detail::check(verbs::write_multi(handle(), values.data(), values.size(), &first));
        } else {
            const std::vector<wire> w(values.begin(), values.end());
            detail::check(verbs::write_multi(handle(), w.data(), w.size(), &first));
        }
        return first;
    }

    // ---- read (never blocks) ----
    /** The value of sequence `seq` into `out`, and what was found. Throws shmds::error. */
    read_status read_seq(std::uint64_t seq, T &out) const {
        wire w{};
        const int rc = verbs::read_seq(handle(), seq, &w);
        if (rc == -EAGAIN) return read_status::not_written;
        if (rc == -ENOENT) return read_status::overwritten;
        detail::check(rc);
        out = T(w);
        return read_status::ok;
    }
    /** The value of sequence `seq`, or std::nullopt (not written or overwritten). */
    std::optional<T> try_read_seq(std::uint64_t seq) const {
        T v{};
        if (read_seq(seq, v) != read_status::ok) return std::nullopt;
        return v;
    }
    /**
     * The n-th newest value (0 = the newest), or std::nullopt when fewer than n + 1
     * writes were made, n >= capacity, or that write is not committed. Throws shmds::error.
     */
    std::optional<T> latest(std::uint64_t n = 0) const {
        wire w{};
        if (!detail::outcome<-EAGAIN, -ENOENT>(verbs::latest(handle(), n, &w, nullptr)))
            return std::nullopt;
        return T(w);
    }
    /** The window's readable values, oldest first. Throws shmds::error. */
    std::vector<T> to_list() const {
        std::vector<T> out;
        for (const ring_entry<T> &e : entries()) out.push_back(e.value);
        return out;
    }
    /** The window's readable values with their sequences, oldest first. */
    std::vector<ring_entry<T>> entries() const {
        // Room for the whole capacity: the window never holds more, so -ENOBUFS (a
        // window that grew since a size() call) cannot happen.
        const std::size_t cap = std::size_t(capacity());
        std::vector<wire> w(cap);
        std::vector<std::uint64_t> seqs(cap);
        std::size_t n = 0;
        detail::check(verbs::to_list(handle(), w.data(), seqs.data(), cap, &n));
        std::vector<ring_entry<T>> out;
        out.reserve(n);
        for (std::size_t i = 0; i < n; ++i) out.push_back(ring_entry<T>{seqs[i], T(w[i])});
        return out;
    }

    // ---- waiting ----
    /**
     * Block until a write of sequence `count` or later has committed (pass the count()
     * you last saw), at most `d`; false on timeout. Throws shmds::error.
     */
    template <class Rep, class Period>
    bool wait_for(std::uint64_t count, std::chrono::duration<Rep, Period> d) {
        return detail::done(shmds_ringbuffer_wait_for(handle(), count, detail::to_timeout_ns(d)));
    }
    /** As wait_for, until the time point `t`. */
    template <class Clock, class Duration>
    bool wait_until(std::uint64_t count, std::chrono::time_point<Clock, Duration> t) {
        return detail::done(shmds_ringbuffer_wait_for(handle(), count, detail::until_timeout_ns(t)));
    }
    /** Block, for as long as it takes, until a write of sequence >= `count` has committed. */
    void wait(std::uint64_t count) {
        detail::check(shmds_ringbuffer_wait_for(handle(), count, SHMDS_FOREVER));
    }

    // ---- gauges (snapshots; never block) ----
    /** Values in the window: min(count, capacity). */
    std::uint64_t size() const noexcept { return shmds_ringbuffer_size(handle()); }
    /** Values kept, as created. */
    std::uint64_t capacity() const noexcept { return shmds_ringbuffer_capacity(handle()); }
    /** The next sequence a write will get. */
    std::uint64_t head() const noexcept { return shmds_ringbuffer_head(handle()); }
    /** Writes ever made. */
    std::uint64_t count() const noexcept { return shmds_ringbuffer_count(handle()); }
    /** Values pushed out of the window. */
    std::uint64_t overwrites() const noexcept { return shmds_ringbuffer_overwrites(handle()); }
    /** Counters and geometry (shmds_ringbuffer_stats_t). Throws shmds::error. */
    stats_type stats() const { return detail::read_stats(shmds_ringbuffer_stats, handle()); }
    /** The segment's fd for shmds_send_fd() (owned by the ring); throws -ENOENT if anonymous. */
    int fd() const { return detail::check(shmds_ringbuffer_fd(handle())); }

    // eventfd(), set_eventfd(), notify(), consume_events(): detail::eventfd_verbs.
};

}  // namespace shmds

#endif  // SHMDS_RINGBUFFER_HPP
