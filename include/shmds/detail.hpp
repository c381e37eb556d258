// libshmds C++ veneer: the pieces every class is built from, each in one place.
// Not an API of its own: names in shmds::detail may change in any release.
// Header-only, C++17; calls nothing but the C API.
//
//   outcome(), done(), check()        a C return code -> a value or shmds::error
//   to_timeout_ns(), until_timeout_ns(),
//   deadline                          std::chrono -> the C API's timeout_ns
//   unique_handle, handle_base,
//   new_handle(), read_stats()        ownership of one C handle, its stats
//   read_bytes(), byte_views          byte messages in and out of std::string
//   fork_owner, consume_events()      what the guards and the eventfd verbs share
#ifndef SHMDS_DETAIL_HPP
#define SHMDS_DETAIL_HPP

#include <shmds/error.hpp>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>
#include <unistd.h>

namespace shmds {
namespace detail {

// ------------------------------------------------------------------ outcomes

/**
 * The one mapping from a C return code to a C++ outcome. rc >= 0 is success: true.
 * A code listed in NotNow is a normal outcome of the calling verb ("not now": empty,
 * full, timed out, already gone): false. Anything else is a real failure and throws
 * shmds::error(rc), whose what() is this thread's shmds_last_error() sentence.
 */
template <int... NotNow>
bool outcome(int rc) {
    if (rc >= 0) return true;
    const bool not_now = (false || ... || (rc == NotNow));
    if (not_now) return false;
    throw error(rc);
}

/**
 * The outcome of a verb that may wait: -EAGAIN (nothing there or no room now) and
 * -ETIMEDOUT are false, every other failure throws.
 */
inline bool done(int rc) { return outcome<-EAGAIN, -ETIMEDOUT>(rc); }

/** A verb with no normal failure: returns rc (>= 0) or throws shmds::error(rc). */
inline int check(int rc) {
    outcome<>(rc);
    return rc;
}

// ------------------------------------------------------------------ timeouts

/**
 * The one conversion from a std::chrono duration to the C API's timeout_ns; every
 * timed call of the veneer goes through it.
 *  - Zero, negative (or NaN): SHMDS_NOWAIT, the C API's probe, which tries once and
 *    never waits. A barrier probe does not even arrive, so it cannot break a barrier.
 *  - Positive: rounded UP to whole nanoseconds, so no wait ends before the time asked
 *    for and no positive duration (0.4 ns, 1 ps) turns into a probe.
 *  - At or beyond INT64_MAX ns (292 years: hours::max(), 1e300 s): SHMDS_FOREVER, not
 *    INT64_MAX. Both mean "no end" to every caller alive; FOREVER says so to the C API,
 *    which then arms no deadline at all instead of one that can never come.
 * Never overflows: the bounds are checked in long double, whatever Rep and Period are.
 */
template <class Rep, class Period>
std::int64_t to_timeout_ns(std::chrono::duration<Rep, Period> d) noexcept {
    using std::chrono::nanoseconds;
    const long double ns = std::chrono::duration<long double, std::nano>(d).count();
    if (!(ns > 0)) return SHMDS_NOWAIT;
    if (ns >= static_cast<long double>(nanoseconds::max().count())) return SHMDS_FOREVER;
    if constexpr (std::is_floating_point_v<Rep>)
        return static_cast<std::int64_t>(std::ceil(ns));
    else
        return std::chrono::ceil<nanoseconds>(d).count();  // exact: it fits, checked above
}

/**
 * The timeout_ns for a wait until `t` on Clock: the time left, as to_timeout_ns()
 * converts it. A deadline now or past is the probe (SHMDS_NOWAIT); time_point::max(),
 * the usual "no deadline", is SHMDS_FOREVER. The C API measures on CLOCK_MONOTONIC, so
 * a deadline on another clock is read once, here: a later step of that clock does not
 * move the wait.
 */
template <class Clock, class Duration>
std::int64_t until_timeout_ns(std::chrono::time_point<Clock, Duration> t) {
    if (t == std::chrono::time_point<Clock, Duration>::max()) return SHMDS_FOREVER;
    // In long double: t - now in the clocks' own types can overflow at the extremes.
    using wide = std::chrono::duration<long double, std::nano>;
    return to_timeout_ns(wide(t.time_since_epoch()) - wide(Clock::now().time_since_epoch()));
}

/**
 * One timeout_ns spread over several C calls (a retry, a send then a get): each call
 * gets what is left. NOWAIT and FOREVER stay what they are.
 */
class deadline {
public:
    explicit deadline(std::int64_t timeout_ns) noexcept
        : timeout_(timeout_ns), start_(clock::now()) {}

    /** The timeout_ns left: SHMDS_NOWAIT once a positive timeout has passed. */
    std::int64_t left_ns() const noexcept {
        if (timeout_ <= 0) return timeout_;  // SHMDS_NOWAIT or SHMDS_FOREVER
        const std::int64_t spent =
            std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - start_).count();
        return spent < timeout_ ? timeout_ - spent : SHMDS_NOWAIT;
    }

private:
    using clock = std::chrono::steady_clock;
    std::int64_t timeout_;
    clock::time_point start_;
};

// ------------------------------------------------------------------- handles

/**
 * Move-only owner of one C handle, closed with its Close function, which must accept
 * NULL (a moved-from or released owner closes nothing). Converts to the raw handle.
 */
template <class H, void (*Close)(H *)>
class unique_handle {
public:
    explicit unique_handle(H *h = nullptr) noexcept : h_(h) {}
    unique_handle(unique_handle &&o) noexcept : h_(o.release()) {}
    unique_handle &operator=(unique_handle &&o) noexcept {
        if (this != &o) {
            Close(h_);
            h_ = o.release();
        }
        return *this;
    }
    unique_handle(const unique_handle &) = delete;
    unique_handle &operator=(const unique_handle &) = delete;
    ~unique_handle() { Close(h_); }

    H *get() const noexcept { return h_; }
    operator H *() const noexcept { return h_; }
    /** Give the handle up without closing it. */
    H *release() noexcept { return std::exchange(h_, nullptr); }

private:
    H *h_;
};

/**
 * The base of every class that owns one C handle (as cppzmq's detail::socket_base is
 * of its sockets): move-only, closes the handle when destroyed, hands it to the C API
 * through handle(). A moved-from object holds NULL; its verbs then fail with -EINVAL.
 */
template <class H, void (*Close)(H *)>
class handle_base {
public:
    using handle_type = H;

    /** The C handle, for the C API; still owned by this object. Never blocks or throws. */
    H *handle() const noexcept { return h_.get(); }

protected:
    explicit handle_base(H *h) noexcept : h_(h) {}
    handle_base(handle_base &&) noexcept = default;
    handle_base &operator=(handle_base &&) noexcept = default;
    ~handle_base() = default;

    /** Close the handle now (a derived destructor that needs its members alive while
     * the C close runs, e.g. callbacks it may still call). Never throws. */
    void close_handle() noexcept { Close(h_.release()); }

private:
    unique_handle<H, Close> h_;
};

/**
 * Call a C create/open/subscribe function whose last parameter is the out-handle
 * (`int fn(args..., H **out)`) and return the new handle; throws shmds::error on failure.
 */
template <class... Params, class... Args>
auto new_handle(int (*fn)(Params...), Args &&...args) {
    using out_type = std::tuple_element_t<sizeof...(Params) - 1, std::tuple<Params...>>;
    std::remove_pointer_t<out_type> h = nullptr;
    check(fn(std::forward<Args>(args)..., &h));
    return h;
}

/**
 * Fill a versioned stats struct through a C *_stats function: struct_size set to ours,
 * so the library writes no field we do not know. Never blocks; throws shmds::error.
 */
template <class Param, class Stats, class H>
Stats read_stats(int (*fill)(Param *, Stats *), H *h) {
    Stats s{};
    s.struct_size = sizeof s;
    check(fill(h, &s));
    return s;
}

// ------------------------------------------------------------- byte messages

/**
 * Read one message into `out`, sized to the message rather than to the structure's
 * maximum: call f(buf, buf_size, &len, timeout_ns); on -ENOBUFS (the C API reports
 * the length needed and takes nothing) grow `out` to exactly that length and call
 * again with the time left. The first call uses what `out` already holds room for
 * (at least a small first guess), so a reused string allocates nothing in a steady
 * state. Returns f's last code; `out` holds the message on 0 and is empty otherwise.
 */
template <class F>
int read_bytes(std::string &out, std::int64_t timeout_ns, F &&f) {
    constexpr std::size_t first_guess = 256;
    out.resize(out.capacity() > first_guess ? out.capacity() : first_guess);
    const deadline dl(timeout_ns);
    for (;;) {
        std::size_t len = 0;
        const int rc = f(&out[0], out.size(), &len, dl.left_ns());
        if (rc == -ENOBUFS && len > out.size()) {
            out.resize(len);
            continue;
        }
        out.resize(rc == 0 ? len : 0);
        return rc;
    }
}

/** Pointer and length arrays over strings, for the C API's batch byte verbs. */
struct byte_views {
    explicit byte_views(const std::vector<std::string> &values)
        : datas(values.size()), lens(values.size()) {
        for (std::size_t i = 0; i < values.size(); ++i) {
            datas[i] = values[i].data();
            lens[i] = values[i].size();
        }
    }
    std::vector<const void *> datas;
    std::vector<std::size_t> lens;
};

// -------------------------------------------------------------------- shared

/**
 * The base of the scoped guards: remembers the process that acquired, so that a
 * guard destroyed in a fork() child releases nothing (the child's exit would
 * otherwise release the parent's hold).
 */
class fork_owner {
protected:
    fork_owner() noexcept : pid_(::getpid()) {}
    bool in_acquiring_process() const noexcept { return ::getpid() == pid_; }

private:
    pid_t pid_;
};

/**
 * Read and reset an eventfd through a C *_eventfd_consume function, called as
 * fn(args..., &count): the pending count, or std::nullopt when nothing is pending
 * (-EAGAIN). Never blocks; throws shmds::error otherwise (-ENOENT: no eventfd).
 */
template <class... Params, class... Args>
std::optional<std::uint64_t> consume_events(int (*consume)(Params...), Args &&...args) {
    std::uint64_t n = 0;
    if (!outcome<-EAGAIN>(consume(std::forward<Args>(args)..., &n))) return std::nullopt;
    return n;
}

/**
 * The four eventfd verbs of a handle with one eventfd, over its C functions; only
 * notify() signals it (common.h, "Eventfds"). None blocks. Derived is the class (CRTP:
 * it has a public handle()).
 */
template <class Derived, auto Get, auto Set, auto Notify, auto Consume>
class eventfd_verbs {
public:
    /** The handle's eventfd, created on first use. Throws shmds::error. */
    int eventfd() { return check(Get(self())); }
    /** Use `fd` (duplicated) as the handle's eventfd; -1 detaches. Throws shmds::error. */
    void set_eventfd(int fd) { check(Set(self(), fd)); }
    /** Signal the eventfd. Throws shmds::error (-ENOENT: no eventfd). */
    void notify() { check(Notify(self())); }
    /** The pending event count, or std::nullopt if none. Throws -ENOENT (no eventfd). */
    std::optional<std::uint64_t> consume_events() {
        return detail::consume_events(Consume, self());
    }

private:
    auto self() { return static_cast<Derived *>(this)->handle(); }
};

}  // namespace detail
}  // namespace shmds

#endif  // SHMDS_DETAIL_HPP
