// libshmds C++ veneer: shmds::buffer<T> and shmds::bytes_buffer over the C buffer API
// (shmds/buffer.h).
//
//   auto b = shmds::buffer<float>::create(shmds::backing::path("/dev/shm/verts"), 30000);
//   b.set(0, 1.5f);                               // one atomic store
//   std::vector<float> v = b.get_slice(0, 300);   // one consistent snapshot
//   {
//       shmds::buffer<float>::write_batch w(b);   // writer lock held, readers retry
//       std::fill(w.data(), w.data() + 300, 0.0f);
//   }                                             // published here
//   for (;;) {                                    // zero-copy reading
//       shmds::buffer<float>::read_batch r(b);
//       draw(r.data(), b.length());
//       if (r.valid()) break;                     // else a bulk write overlapped: redo
//   }
//
// T is one of std::int8_t ... std::int64_t, std::uint8_t ... std::uint64_t, float or
// double; the buffer's element type is T's. bytes_buffer holds fixed-width bytes
// elements (std::string values). Timeouts are values (bool); every other failure the C
// function reports throws shmds::error. A duration of zero or less is a probe that never
// waits. The batch guards remember the process that began them and do nothing when
// destroyed in a fork() child; a write batch belongs to the thread that began it.
// Crash behaviour and thread safety are those of the C API.
#ifndef SHMDS_BUFFER_HPP
#define SHMDS_BUFFER_HPP

#include <shmds/buffer.h>
#include <shmds/detail.hpp>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace shmds {

namespace detail {
template <class T>
struct buffer_type;
template <> struct buffer_type<std::int8_t> : std::integral_constant<int, SHMDS_TYPE_INT8> {};
template <> struct buffer_type<std::int16_t> : std::integral_constant<int, SHMDS_TYPE_INT16> {};
template <> struct buffer_type<std::int32_t> : std::integral_constant<int, SHMDS_TYPE_INT32> {};
template <> struct buffer_type<std::int64_t> : std::integral_constant<int, SHMDS_TYPE_INT64> {};
template <> struct buffer_type<std::uint8_t> : std::integral_constant<int, SHMDS_TYPE_UINT8> {};
template <> struct buffer_type<std::uint16_t> : std::integral_constant<int, SHMDS_TYPE_UINT16> {};
template <> struct buffer_type<std::uint32_t> : std::integral_constant<int, SHMDS_TYPE_UINT32> {};
template <> struct buffer_type<std::uint64_t> : std::integral_constant<int, SHMDS_TYPE_UINT64> {};
template <> struct buffer_type<float> : std::integral_constant<int, SHMDS_TYPE_F32> {};
template <> struct buffer_type<double> : std::integral_constant<int, SHMDS_TYPE_F64> {};

// Which C verbs carry T: floats the _f64 ones, uint64 the _uint ones, other integers _int.
template <class T, class = void>
struct buffer_verbs {
    using wire = std::int64_t;
    static constexpr auto get = shmds_buffer_get_int;
    static constexpr auto set = shmds_buffer_set_int;
    static constexpr auto exchange = shmds_buffer_exchange_int;
    static constexpr auto get_slice = shmds_buffer_get_slice_int;
    static constexpr auto set_slice = shmds_buffer_set_slice_int;
    static constexpr auto fill = shmds_buffer_fill_int;
};
template <>
struct buffer_verbs<std::uint64_t> {
    using wire = std::uint64_t;
    static constexpr auto get = shmds_buffer_get_uint;
    static constexpr auto set = shmds_buffer_set_uint;
    static constexpr auto exchange = shmds_buffer_exchange_uint;
    static constexpr auto get_slice = shmds_buffer_get_slice_uint;
    static constexpr auto set_slice = shmds_buffer_set_slice_uint;
    static constexpr auto fill = shmds_buffer_fill_uint;
};
template <class T>
struct buffer_verbs<T, std::enable_if_t<std::is_floating_point_v<T>>> {
    using wire = double;
    static constexpr auto get = shmds_buffer_get_f64;
    static constexpr auto set = shmds_buffer_set_f64;
    static constexpr auto exchange = shmds_buffer_exchange_f64;
    static constexpr auto get_slice = shmds_buffer_get_slice_f64;
    static constexpr auto set_slice = shmds_buffer_set_slice_f64;
    static constexpr auto fill = shmds_buffer_fill_f64;
};

/** What buffer<T> and bytes_buffer share: bulk bytes, batches, zero-copy, stats. */
template <class Derived>
class buffer_common
    : public handle_base<shmds_buffer_t, shmds_buffer_close>,
      public eventfd_verbs<Derived, shmds_buffer_eventfd, shmds_buffer_set_eventfd,
                           shmds_buffer_notify, shmds_buffer_eventfd_consume> {
public:
    using stats_type = shmds_buffer_stats_t;

    /** Elements in the buffer. Never blocks or throws. */
    std::uint64_t length() const noexcept { return shmds_buffer_length(handle()); }
    /** Bytes per element. Never blocks or throws. */
    std::uint64_t elem_size() const noexcept { return shmds_buffer_elem_size(handle()); }
    /** Read-only pointer to the packed data (see read_batch for consistent reads). */
    const void *raw_data() const noexcept { return shmds_buffer_data(handle()); }

    /** Copy data bytes [offset, offset + len) into out (seqlocked). False on timeout;
     * throws shmds::error (-ERANGE ...). */
    template <class Rep = std::int64_t, class Period = std::nano>
    bool get_raw(std::uint64_t offset, void *out, std::size_t len,
                 std::chrono::duration<Rep, Period> timeout = std::chrono::nanoseconds::max()) {
        return done(shmds_buffer_get_raw(handle(), offset, len, out, timeout_of(timeout)));
    }
    /** Copy len bytes into the data at offset (one bulk write). False on timeout. */
    template <class Rep = std::int64_t, class Period = std::nano>
    bool set_raw(std::uint64_t offset, const void *data, std::size_t len,
                 std::chrono::duration<Rep, Period> timeout = std::chrono::nanoseconds::max()) {
        return done(shmds_buffer_set_raw(handle(), offset, data, len, timeout_of(timeout)));
    }
    /** Zero every element (one bulk write). False on timeout. */
    template <class Rep = std::int64_t, class Period = std::nano>
    bool clear(std::chrono::duration<Rep, Period> timeout = std::chrono::nanoseconds::max()) {
        return done(shmds_buffer_clear(handle(), timeout_of(timeout)));
    }
    /** A snapshot of the counters. Throws shmds::error. */
    stats_type stats() const { return read_stats(shmds_buffer_stats, handle()); }

protected:
    using handle_base::handle_base;
    // The default timeout, nanoseconds::max(), is SHMDS_FOREVER (detail::to_timeout_ns).
    template <class Rep, class Period>
    static std::int64_t timeout_of(std::chrono::duration<Rep, Period> d) noexcept {
        return to_timeout_ns(d);
    }
};

/**
 * Scoped read batch: waits for no bulk write in progress (or throws shmds::error with
 * -ETIMEDOUT when `timeout` passes), then data() reads the buffer without copying;
 * valid() says whether a bulk write overlapped the reads since (retry if so). Writes
 * nothing to shared memory, so nothing to release: safe in a fork() child.
 */
template <class T, class Buffer>
class read_batch_of {
public:
    template <class Rep = std::int64_t, class Period = std::nano>
    explicit read_batch_of(Buffer &b,
                           std::chrono::duration<Rep, Period> timeout = std::chrono::nanoseconds::max())
        : b_(b) {
        const void *p = nullptr;
        check(shmds_buffer_read_begin(b.handle(), &p, &seq_, Buffer::timeout_of(timeout)));
        data_ = static_cast<const T *>(p);
    }
    const T *data() const noexcept { return data_; }
    /** True when the reads made so far are consistent. Never blocks or throws. */
    bool valid() const noexcept { return shmds_buffer_read_end(b_.handle(), seq_) == 0; }

private:
    Buffer &b_;
    std::uint64_t seq_ = 0;
    const T *data_ = nullptr;
};

/**
 * Scoped write batch: holds the writer lock (readers wait or retry) and gives a writable
 * pointer until destroyed, which publishes the writes. Throws shmds::error if the lock
 * could not be had (-ETIMEDOUT, -EDEADLK). Destroyed in a fork() child it does nothing
 * (the batch belongs to the parent's thread). Must be destroyed on the thread that made it.
 */
template <class T, class Buffer>
class write_batch_of : private fork_owner {
public:
    template <class Rep = std::int64_t, class Period = std::nano>
    explicit write_batch_of(Buffer &b,
                            std::chrono::duration<Rep, Period> timeout = std::chrono::nanoseconds::max())
        : b_(b) {
        void *p = nullptr;
        check(shmds_buffer_write_begin(b.handle(), &p, Buffer::timeout_of(timeout)));
        data_ = static_cast<T *>(p);
    }
    ~write_batch_of() {
        if (in_acquiring_process()) (void)shmds_buffer_write_end(b_.handle());
    }
    write_batch_of(const write_batch_of &) = delete;
    write_batch_of &operator=(const write_batch_of &) = delete;
    T *data() const noexcept { return data_; }

private:
    Buffer &b_;
    T *data_ = nullptr;
};
}  // namespace detail

/** A fixed array of T in shared memory; move-only, closes its handle. */
template <class T>
class buffer : public detail::buffer_common<buffer<T>> {
    using base = detail::buffer_common<buffer<T>>;
    using verbs = detail::buffer_verbs<T>;
    using wire = typename verbs::wire;
    static constexpr int type = detail::buffer_type<T>::value;
    friend class detail::read_batch_of<T, buffer>;
    friend class detail::write_batch_of<T, buffer>;

public:
    using value_type = T;
    using read_batch = detail::read_batch_of<T, buffer>;
    using write_batch = detail::write_batch_of<T, buffer>;

    /** Create a buffer of `length` zeroed elements, or attach to the buffer of this type
     * at that path (its length wins). Throws shmds::error. */
    static buffer create(const backing &where, std::uint64_t length) {
        shmds_buffer_config_t cfg = SHMDS_BUFFER_CONFIG_INIT(type, length, 0);
        return buffer(detail::new_handle(shmds_buffer_create, where.options(), &cfg));
    }
    /** Attach to an existing buffer of this type. Throws shmds::error. */
    static buffer open(const backing &where) {
        return buffer(detail::new_handle(shmds_buffer_open, where.options(), type));
    }
    explicit buffer(shmds_buffer_t *h) noexcept : base(h) {}

    // ---- per element (atomic, never blocks; throws shmds::error, -ERANGE for an index)
    T get(std::uint64_t i) const {
        wire w{};
        detail::check(verbs::get(this->handle(), i, &w));
        return T(w);
    }
    void set(std::uint64_t i, T v) { detail::check(verbs::set(this->handle(), i, wire(v))); }
    T exchange(std::uint64_t i, T v) {
        wire old{};
        detail::check(verbs::exchange(this->handle(), i, wire(v), &old));
        return T(old);
    }
    /** Integers: add delta (the sum must fit T: -ERANGE otherwise); the new value. */
    template <class U = T, class = std::enable_if_t<std::is_integral_v<U>>>
    T add(std::uint64_t i, std::int64_t delta) {
        if constexpr (std::is_same_v<T, std::uint64_t>) {
            std::uint64_t n = 0;
            detail::check(shmds_buffer_add_uint(this->handle(), i, delta, &n));
            return n;
        } else {
            std::int64_t n = 0;
            detail::check(shmds_buffer_add_int(this->handle(), i, delta, &n));
            return T(n);
        }
    }
    /** Integers: add deltas[k] to element from + k as one bulk write (every sum must fit
     * T: -ERANGE, nothing changed). False on timeout. */
    template <class U = T, class = std::enable_if_t<std::is_integral_v<U>>,
              class Rep = std::int64_t, class Period = std::nano>
    bool add_slice(std::uint64_t from, const std::vector<std::int64_t> &deltas,
                   std::chrono::duration<Rep, Period> timeout = std::chrono::nanoseconds::max()) {
        return detail::done(shmds_buffer_add_slice(this->handle(), from, deltas.data(),
                                                   deltas.size(), nullptr,
                                                   base::timeout_of(timeout)));
    }
    template <class U = T, class = std::enable_if_t<std::is_integral_v<U>>>
    T incr(std::uint64_t i) { return add(i, 1); }
    template <class U = T, class = std::enable_if_t<std::is_integral_v<U>>>
    T decr(std::uint64_t i) { return add(i, -1); }
    /** Integers: compare-and-swap; true when swapped, else `expected` is set to what is there. */
    template <class U = T, class = std::enable_if_t<std::is_integral_v<U>>>
    bool cas(std::uint64_t i, T &expected, T desired) {
        wire actual{};
        int rc;
        if constexpr (std::is_same_v<T, std::uint64_t>)
            rc = shmds_buffer_cas_uint(this->handle(), i, expected, desired, &actual);
        else
            rc = shmds_buffer_cas_int(this->handle(), i, expected, desired, &actual);
        if (rc == -EAGAIN) {
            expected = T(actual);
            return false;
        }
        detail::check(rc);
        return true;
    }
    /** Integers: bitwise and/or/xor with T's bit pattern; the previous value. */
    template <class U = T, class = std::enable_if_t<std::is_integral_v<U>>>
    T fetch_and(std::uint64_t i, T bits) { return bitop(shmds_buffer_and, i, bits); }
    template <class U = T, class = std::enable_if_t<std::is_integral_v<U>>>
    T fetch_or(std::uint64_t i, T bits) { return bitop(shmds_buffer_or, i, bits); }
    template <class U = T, class = std::enable_if_t<std::is_integral_v<U>>>
    T fetch_xor(std::uint64_t i, T bits) { return bitop(shmds_buffer_xor, i, bits); }

    // ---- bulk (seqlocked; block up to the timeout for a live writer: false then)
    /** Elements [from, from + n) as one snapshot. Throws shmds::error (-ETIMEDOUT too). */
    std::vector<T> get_slice(std::uint64_t from, std::size_t n) const {
        std::vector<wire> w(n);
        detail::check(verbs::get_slice(this->handle(), from, n, w.data(), -1));
        return std::vector<T>(w.begin(), w.end());
    }
    /** Store values at from.. as one bulk write. False on timeout. */
    template <class Rep = std::int64_t, class Period = std::nano>
    bool set_slice(std::uint64_t from, const std::vector<T> &values,
                   std::chrono::duration<Rep, Period> timeout = std::chrono::nanoseconds::max()) {
        const std::vector<wire> w(values.begin(), values.end());
        return detail::done(verbs::set_slice(this->handle(), from, w.data(), w.size(),
                                             base::timeout_of(timeout)));
    }
    /** Store v into every element. False on timeout. */
    template <class Rep = std::int64_t, class Period = std::nano>
    bool fill(T v, std::chrono::duration<Rep, Period> timeout = std::chrono::nanoseconds::max()) {
        return detail::done(verbs::fill(this->handle(), wire(v), base::timeout_of(timeout)));
    }
    /** Read-only pointer to element 0 (use read_batch for consistent reads). */
    const T *data() const noexcept { return static_cast<const T *>(this->raw_data()); }

private:
    T bitop(int (*fn)(shmds_buffer_t *, std::uint64_t, std::uint64_t, std::uint64_t *),
            std::uint64_t i, T bits) {
        using UT = std::make_unsigned_t<T>;
        std::uint64_t old = 0;
        detail::check(fn(this->handle(), i, std::uint64_t(UT(bits)), &old));
        return T(UT(old));
    }
};

/** A fixed array of fixed-width bytes elements; move-only, closes its handle. Shorter
 * values are stored zero-padded and read back without trailing NUL bytes. */
class bytes_buffer : public detail::buffer_common<bytes_buffer> {
    friend class detail::read_batch_of<char, bytes_buffer>;
    friend class detail::write_batch_of<char, bytes_buffer>;

public:
    using read_batch = detail::read_batch_of<char, bytes_buffer>;
    using write_batch = detail::write_batch_of<char, bytes_buffer>;

    /** Create `length` elements of `width` bytes, or attach to the one at that path. */
    static bytes_buffer create(const backing &where, std::uint64_t length, std::uint64_t width) {
        shmds_buffer_config_t cfg = SHMDS_BUFFER_CONFIG_INIT(SHMDS_TYPE_BYTES, length, width);
        return bytes_buffer(detail::new_handle(shmds_buffer_create, where.options(), &cfg));
    }
    static bytes_buffer open(const backing &where) {
        return bytes_buffer(detail::new_handle(shmds_buffer_open, where.options(), SHMDS_TYPE_BYTES));
    }
    explicit bytes_buffer(shmds_buffer_t *h) noexcept : buffer_common(h) {}

    /** Element i, trailing NULs removed. Throws shmds::error (-ERANGE, -ETIMEDOUT). */
    std::string get(std::uint64_t i) const {
        std::string s(std::size_t(elem_size()), '\0');
        std::size_t len = 0;
        detail::check(shmds_buffer_get_bytes(handle(), i, s.data(), s.size(), &len, -1));
        s.resize(len);
        return s;
    }
    /** Store v (at most the width: -E2BIG) into element i. False on timeout. */
    template <class Rep = std::int64_t, class Period = std::nano>
    bool set(std::uint64_t i, std::string_view v,
             std::chrono::duration<Rep, Period> timeout = std::chrono::nanoseconds::max()) {
        return detail::done(
            shmds_buffer_set_bytes(handle(), i, v.data(), v.size(), timeout_of(timeout)));
    }
    /** Store v into every element. False on timeout. */
    template <class Rep = std::int64_t, class Period = std::nano>
    bool fill(std::string_view v,
              std::chrono::duration<Rep, Period> timeout = std::chrono::nanoseconds::max()) {
        return detail::done(shmds_buffer_fill_bytes(handle(), v.data(), v.size(), timeout_of(timeout)));
    }
};

}  // namespace shmds

#endif  // SHMDS_BUFFER_HPP
