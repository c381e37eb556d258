// libshmds C++ veneer: the sync primitives of shmds/sync.h as RAII classes.
//
//   auto m = shmds::mutex::create(shmds::backing::path("/dev/shm/app.lock"));
//   { std::lock_guard<shmds::mutex> g(m); ... }           // Lockable, TimedLockable
//   auto rw = shmds::rwlock::create(shmds::backing::anonymous());
//   { std::shared_lock<shmds::rwlock> r(rw); ... }        // SharedLockable
//   { shmds::lock_guard<shmds::rwlock> w(rw); ... }       // safe across fork()
//
// Dead owners. The standard Lockable verbs (lock, try_lock, try_lock_for, and the
// _shared ones) cannot report "acquired, but the previous owner died": when the C API
// says SHMDS_EOWNERDEAD they release the lock and throw shmds::error(SHMDS_EOWNERDEAD).
// Code that repairs uses lock_recoverable(), which returns lock_result::owner_died with
// the lock held; repair, call consistent(), unlock. Until then every locker hears it.
//
// Guards (lock_guard, read_guard, permit_guard, once_guard) remember the PID that
// acquired and release nothing in a fork() child, whose exit would otherwise release
// the parent's lock (the reference's lesson 7). std::unique_lock does not know that:
// do not let one cross a fork().
//
// Real failures throw shmds::error; "would block" and timeouts are values.
#ifndef SHMDS_SYNC_HPP
#define SHMDS_SYNC_HPP

#include <shmds/error.hpp>
#include <shmds/sync.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <utility>
#include <unistd.h>

namespace shmds {

enum class lock_result { acquired, owner_died };
enum class barrier_result { leader, follower, timed_out, broken };

namespace detail {
template <class Rep, class Period>
std::int64_t wait_ns(std::chrono::duration<Rep, Period> d) noexcept {
    return to_timeout_ns(d);
}
template <class Clock, class Duration>
std::int64_t wait_ns_until(std::chrono::time_point<Clock, Duration> t) noexcept {
    return to_timeout_ns(t - Clock::now());
}

// A Lockable verb's outcome: true = held, false = would block or timed out. A dead
// previous owner releases again (through `release`) and throws.
template <class Release>
bool lockable_outcome(int rc, Release &&release) {
    if (rc == 0) return true;
    if (rc == -EAGAIN || rc == -ETIMEDOUT) return false;
    if (rc == SHMDS_EOWNERDEAD) {
        error e(rc);
        release();
        throw e;
    }
    throw error(rc);
}

inline lock_result recoverable_outcome(int rc) {
    if (rc == 0) return lock_result::acquired;
    if (rc == SHMDS_EOWNERDEAD) return lock_result::owner_died;
    throw error(rc);
}
}  // namespace detail

/** A crash-safe process-shared mutex (Lockable, TimedLockable). */
class mutex {
public:
    static mutex create(const backing &where) { return make(shmds_mutex_create, where); }
    static mutex open(const backing &where) { return make(shmds_mutex_open, where); }
    explicit mutex(shmds_mutex_t *h) noexcept : h_(h) {}

    void lock() { try_lock_raw(SHMDS_FOREVER); }
    bool try_lock() { return try_lock_raw(SHMDS_NOWAIT); }
    template <class Rep, class Period>
    bool try_lock_for(std::chrono::duration<Rep, Period> d) {
        return try_lock_raw(detail::wait_ns(d));
    }
    template <class Clock, class Duration>
    bool try_lock_until(std::chrono::time_point<Clock, Duration> t) {
        return try_lock_raw(detail::wait_ns_until(t));
    }
    void unlock() { detail::check(shmds_mutex_unlock(handle())); }
    /** Lock; owner_died means held, with the protected data to repair. */
    lock_result lock_recoverable() {
        return detail::recoverable_outcome(shmds_mutex_lock(handle(), SHMDS_FOREVER));
    }
    void consistent() { detail::check(shmds_mutex_consistent(handle())); }
    std::uint64_t recoveries() const noexcept { return shmds_mutex_recoveries(handle()); }
    int fd() const { return detail::check(shmds_mutex_fd(handle())); }
    shmds_mutex_t *handle() const noexcept { return h_.get(); }

private:
    static mutex make(int (*fn)(const shmds_options_t *, shmds_mutex_t **), const backing &w) {
        shmds_mutex_t *h = nullptr;
        detail::check(fn(w.options(), &h));
        return mutex(h);
    }
    bool try_lock_raw(std::int64_t ns) {
        return detail::lockable_outcome(shmds_mutex_lock(handle(), ns),
                                        [&] { shmds_mutex_unlock(handle()); });
    }
    detail::unique_handle<shmds_mutex_t, shmds_mutex_close> h_;
};

/** A reader/writer lock (Lockable for writing, SharedLockable for reading). */
class rwlock {
public:
    static rwlock create(const backing &where, std::uint32_t reader_slots = 0) {
        shmds_rwlock_t *h = nullptr;
        detail::check(shmds_rwlock_create(where.options(), reader_slots, &h));
        return rwlock(h);
    }
    static rwlock open(const backing &where) {
        shmds_rwlock_t *h = nullptr;
        detail::check(shmds_rwlock_open(where.options(), &h));
        return rwlock(h);
    }
    explicit rwlock(shmds_rwlock_t *h) noexcept : h_(h) {}

    void lock() { write_raw(SHMDS_FOREVER); }
    bool try_lock() { return write_raw(SHMDS_NOWAIT); }
    template <class Rep, class Period>
    bool try_lock_for(std::chrono::duration<Rep, Period> d) {
        return write_raw(detail::wait_ns(d));
    }
    void unlock() { detail::check(shmds_rwlock_unlock(handle())); }

    void lock_shared() { read_raw(SHMDS_FOREVER); }
    bool try_lock_shared() { return read_raw(SHMDS_NOWAIT); }
    template <class Rep, class Period>
    bool try_lock_shared_for(std::chrono::duration<Rep, Period> d) {
        return read_raw(detail::wait_ns(d));
    }
    void unlock_shared() { detail::check(shmds_rwlock_unlock(handle())); }

    /** Write-lock; owner_died means held, with the protected data to repair. */
    lock_result lock_recoverable() {
        return detail::recoverable_outcome(shmds_rwlock_wrlock(handle(), SHMDS_FOREVER));
    }
    void consistent() { detail::check(shmds_rwlock_consistent(handle())); }
    void downgrade() { detail::check(shmds_rwlock_downgrade(handle())); }
    std::uint32_t readers() const noexcept { return shmds_rwlock_readers(handle()); }
    bool is_write_locked() const { return detail::check(shmds_rwlock_is_write_locked(handle())); }
    std::uint64_t recoveries() const noexcept { return shmds_rwlock_recoveries(handle()); }
    int fd() const { return detail::check(shmds_rwlock_fd(handle())); }
    shmds_rwlock_t *handle() const noexcept { return h_.get(); }

private:
    bool write_raw(std::int64_t ns) {
        return detail::lockable_outcome(shmds_rwlock_wrlock(handle(), ns),
                                        [&] { shmds_rwlock_unlock(handle()); });
    }
    bool read_raw(std::int64_t ns) {
        return detail::lockable_outcome(shmds_rwlock_rdlock(handle(), ns),
                                        [&] { shmds_rwlock_unlock(handle()); });
    }
    detail::unique_handle<shmds_rwlock_t, shmds_rwlock_close> h_;
};

/** A condition variable that is also its own Lockable mutex. */
class condvar {
public:
    static condvar create(const backing &where) {
        shmds_condvar_t *h = nullptr;
        detail::check(shmds_condvar_create(where.options(), &h));
        return condvar(h);
    }
    static condvar open(const backing &where) {
        shmds_condvar_t *h = nullptr;
        detail::check(shmds_condvar_open(where.options(), &h));
        return condvar(h);
    }
    explicit condvar(shmds_condvar_t *h) noexcept : h_(h) {}

    void lock() { lock_raw(SHMDS_FOREVER); }
    bool try_lock() { return lock_raw(SHMDS_NOWAIT); }
    template <class Rep, class Period>
    bool try_lock_for(std::chrono::duration<Rep, Period> d) {
        return lock_raw(detail::wait_ns(d));
    }
    void unlock() { detail::check(shmds_condvar_unlock(handle())); }
    lock_result lock_recoverable() {
        return detail::recoverable_outcome(shmds_condvar_lock(handle(), SHMDS_FOREVER));
    }
    void consistent() { detail::check(shmds_condvar_consistent(handle())); }

    /**
     * Wait for a signal; the caller holds this condvar's lock and holds it again on
     * return, also when this throws (SHMDS_EOWNERDEAD: a holder died meanwhile).
     */
    void wait() { wait_raw(SHMDS_FOREVER); }
    template <class Rep, class Period>
    std::cv_status wait_for(std::chrono::duration<Rep, Period> d) {
        return wait_raw(detail::wait_ns(d));
    }
    template <class Pred>
    void wait(Pred pred) {
        while (!pred()) wait();
    }
    /** Wait until pred() holds or `d` passes; returns pred(). */
    template <class Rep, class Period, class Pred>
    bool wait_for(std::chrono::duration<Rep, Period> d, Pred pred) {
        const auto until = std::chrono::steady_clock::now() + d;
        while (!pred()) {
            if (wait_raw(detail::wait_ns_until(until)) == std::cv_status::timeout) return pred();
        }
        return true;
    }
    void notify_one() { detail::check(shmds_condvar_signal(handle())); }
    void notify_all() { detail::check(shmds_condvar_broadcast(handle())); }
    std::uint32_t waiters() const noexcept { return shmds_condvar_waiters(handle()); }
    std::uint64_t recoveries() const noexcept { return shmds_condvar_recoveries(handle()); }
    int fd() const { return detail::check(shmds_condvar_fd(handle())); }
    shmds_condvar_t *handle() const noexcept { return h_.get(); }

private:
    bool lock_raw(std::int64_t ns) {
        return detail::lockable_outcome(shmds_condvar_lock(handle(), ns),
                                        [&] { shmds_condvar_unlock(handle()); });
    }
    std::cv_status wait_raw(std::int64_t ns) {
        int rc = shmds_condvar_wait(handle(), ns);
        if (rc == 0) return std::cv_status::no_timeout;
        if (rc == -ETIMEDOUT) return std::cv_status::timeout;
        throw error(rc);
    }
    detail::unique_handle<shmds_condvar_t, shmds_condvar_close> h_;
};

/** A counting semaphore whose permits return when their holder process dies. */
class semaphore {
public:
    static semaphore create(const backing &where, std::uint32_t max, std::uint32_t initial) {
        shmds_semaphore_t *h = nullptr;
        detail::check(shmds_semaphore_create(where.options(), max, initial, &h));
        return semaphore(h);
    }
    static semaphore open(const backing &where) {
        shmds_semaphore_t *h = nullptr;
        detail::check(shmds_semaphore_open(where.options(), &h));
        return semaphore(h);
    }
    explicit semaphore(shmds_semaphore_t *h) noexcept : h_(h) {}

    void acquire(std::uint32_t n = 1) {
        detail::check(shmds_semaphore_acquire_n(handle(), n, SHMDS_FOREVER));
    }
    bool try_acquire(std::uint32_t n = 1) { return acquire_raw(n, SHMDS_NOWAIT); }
    template <class Rep, class Period>
    bool try_acquire_for(std::chrono::duration<Rep, Period> d, std::uint32_t n = 1) {
        return acquire_raw(n, detail::wait_ns(d));
    }
    void release(std::uint32_t n = 1) { detail::check(shmds_semaphore_release(handle(), n)); }
    std::uint32_t drain() {
        std::uint32_t taken = 0;
        detail::check(shmds_semaphore_drain(handle(), &taken));
        return taken;
    }
    std::uint32_t value() const noexcept { return shmds_semaphore_value(handle()); }
    std::uint32_t max() const noexcept { return shmds_semaphore_max(handle()); }
    std::uint64_t held() const noexcept { return shmds_semaphore_held(handle()); }
    int eventfd() { return detail::check(shmds_semaphore_eventfd(handle())); }
    std::uint64_t recoveries() const noexcept { return shmds_semaphore_recoveries(handle()); }
    int fd() const { return detail::check(shmds_semaphore_fd(handle())); }
    shmds_semaphore_t *handle() const noexcept { return h_.get(); }

private:
    bool acquire_raw(std::uint32_t n, std::int64_t ns) {
        int rc = shmds_semaphore_acquire_n(handle(), n, ns);
        if (rc == 0) return true;
        if (rc == -EAGAIN || rc == -ETIMEDOUT) return false;
        throw error(rc);
    }
    detail::unique_handle<shmds_semaphore_t, shmds_semaphore_close> h_;
};

/** A barrier for a fixed number of parties. */
class barrier {
public:
    static barrier create(const backing &where, std::uint32_t parties) {
        shmds_barrier_t *h = nullptr;
        detail::check(shmds_barrier_create(where.options(), parties, &h));
        return barrier(h);
    }
    static barrier open(const backing &where) {
        shmds_barrier_t *h = nullptr;
        detail::check(shmds_barrier_open(where.options(), &h));
        return barrier(h);
    }
    explicit barrier(shmds_barrier_t *h) noexcept : h_(h) {}

    barrier_result wait() { return wait_raw(SHMDS_FOREVER); }
    template <class Rep, class Period>
    barrier_result wait_for(std::chrono::duration<Rep, Period> d) {
        return wait_raw(detail::wait_ns(d));
    }
    void reset() { detail::check(shmds_barrier_reset(handle())); }
    std::uint32_t generation() const noexcept { return shmds_barrier_generation(handle()); }
    std::uint32_t arrived() const noexcept { return shmds_barrier_arrived(handle()); }
    std::uint32_t parties() const noexcept { return shmds_barrier_parties(handle()); }
    bool is_broken() const { return detail::check(shmds_barrier_is_broken(handle())); }
    int eventfd() { return detail::check(shmds_barrier_eventfd(handle())); }
    std::uint64_t recoveries() const noexcept { return shmds_barrier_recoveries(handle()); }
    int fd() const { return detail::check(shmds_barrier_fd(handle())); }
    shmds_barrier_t *handle() const noexcept { return h_.get(); }

private:
    barrier_result wait_raw(std::int64_t ns) {
        // A zero wait is never a probe here: the C API's probe would not arrive.
        int rc = shmds_barrier_wait(handle(), ns == SHMDS_NOWAIT ? 1 : ns);
        if (rc == SHMDS_BARRIER_LEADER) return barrier_result::leader;
        if (rc == 0) return barrier_result::follower;
        if (rc == -ETIMEDOUT) return barrier_result::timed_out;
        if (rc == -ECANCELED) return barrier_result::broken;
        throw error(rc);
    }
    detail::unique_handle<shmds_barrier_t, shmds_barrier_close> h_;
};

/** Exactly-once initialization across processes. */
class once;

/**
 * The initializer's role from once::enter(): true when the caller must initialize.
 * done() publishes; destroying it without done() (an exception) gives the role back
 * so a waiter is elected. Nothing happens in a fork() child.
 */
class once_guard {
public:
    once_guard(once_guard &&o) noexcept
        : h_(std::exchange(o.h_, nullptr)), pid_(o.pid_) {}
    once_guard(const once_guard &) = delete;
    once_guard &operator=(const once_guard &) = delete;
    ~once_guard() {
        if (h_ && ::getpid() == pid_) shmds_once_reset(h_);
    }
    explicit operator bool() const noexcept { return h_ != nullptr; }
    void done() {
        if (!h_) return;
        detail::check(shmds_once_done(h_));
        h_ = nullptr;
    }

private:
    friend class once;
    once_guard(shmds_once_t *h) noexcept : h_(h), pid_(::getpid()) {}
    shmds_once_t *h_;
    pid_t pid_;
};

class once {
public:
    static once create(const backing &where) {
        shmds_once_t *h = nullptr;
        detail::check(shmds_once_create(where.options(), &h));
        return once(h);
    }
    static once open(const backing &where) {
        shmds_once_t *h = nullptr;
        detail::check(shmds_once_open(where.options(), &h));
        return once(h);
    }
    explicit once(shmds_once_t *h) noexcept : h_(h) {}

    /** Waits while another process initializes; a true guard means "you initialize". */
    once_guard enter() {
        int rc = detail::check(shmds_once_enter(handle(), SHMDS_FOREVER));
        return once_guard(rc == 1 ? handle() : nullptr);
    }
    /** Run f() if nobody has (or the one who did died first); returns whether we ran it. */
    template <class F>
    bool call(F &&f) {
        once_guard g = enter();
        if (!g) return false;
        f();
        g.done();
        return true;
    }
    bool is_done() const { return detail::check(shmds_once_is_done(handle())); }
    void reset() { detail::check(shmds_once_reset(handle())); }
    std::uint64_t recoveries() const noexcept { return shmds_once_recoveries(handle()); }
    int fd() const { return detail::check(shmds_once_fd(handle())); }
    shmds_once_t *handle() const noexcept { return h_.get(); }

private:
    detail::unique_handle<shmds_once_t, shmds_once_close> h_;
};

/**
 * Scoped exclusive lock on a shmds::mutex, condvar or rwlock that releases nothing in a
 * fork() child. Throws as Lockable::lock() does.
 */
template <class Lockable>
class lock_guard {
public:
    explicit lock_guard(Lockable &l) : l_(l), pid_(::getpid()) { l_.lock(); }
    ~lock_guard() {
        if (::getpid() == pid_) release(l_.handle());
    }
    lock_guard(const lock_guard &) = delete;
    lock_guard &operator=(const lock_guard &) = delete;

private:
    static void release(shmds_mutex_t *h) noexcept { shmds_mutex_unlock(h); }
    static void release(shmds_condvar_t *h) noexcept { shmds_condvar_unlock(h); }
    static void release(shmds_rwlock_t *h) noexcept { shmds_rwlock_unlock(h); }
    Lockable &l_;
    pid_t pid_;
};

/** Scoped write lock on an rwlock (fork-safe). */
using write_guard = lock_guard<rwlock>;

/** Scoped read lock on an rwlock that releases nothing in a fork() child. */
class read_guard {
public:
    explicit read_guard(rwlock &l) : l_(l), pid_(::getpid()) { l_.lock_shared(); }
    ~read_guard() {
        if (::getpid() == pid_) shmds_rwlock_unlock(l_.handle());
    }
    read_guard(const read_guard &) = delete;
    read_guard &operator=(const read_guard &) = delete;

private:
    rwlock &l_;
    pid_t pid_;
};

/** Holds n permits for a scope; returns nothing in a fork() child. */
class permit_guard {
public:
    explicit permit_guard(semaphore &s, std::uint32_t n = 1) : s_(s), n_(n), pid_(::getpid()) {
        s_.acquire(n_);
    }
    ~permit_guard() {
        if (::getpid() == pid_) shmds_semaphore_release(s_.handle(), n_);
    }
    permit_guard(const permit_guard &) = delete;
    permit_guard &operator=(const permit_guard &) = delete;

private:
    semaphore &s_;
    std::uint32_t n_;
    pid_t pid_;
};

}  // namespace shmds

#endif  // SHMDS_SYNC_HPP
