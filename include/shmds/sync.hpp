// libshmds C++ veneer: the sync primitives of shmds/sync.h as RAII classes.
//
//   auto m = shmds::mutex::create(shmds::backing::path("/dev/shm/app.lock"));
//   { std::lock_guard<shmds::mutex> g(m); ... }           // Lockable, TimedLockable
//   auto rw = shmds::rwlock::create(shmds::backing::anonymous());
//   { std::shared_lock<shmds::rwlock> r(rw); ... }        // SharedLockable
//   { shmds::lock_guard<shmds::rwlock> w(rw); ... }       // safe across fork()
//
// Dead owners. The standard Lockable verbs (lock, try_lock, try_lock_for/_until, and the
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
// "Would block" and timeouts are values; every other failure the C function reports
// throws shmds::error (a member marked noexcept never throws). A duration of zero or
// less, or a deadline already past, is the C API's probe (SHMDS_NOWAIT): it never
// waits, and a barrier probe does not arrive, so it cannot break the barrier.
// "Never blocks" below still allows the brief internal lock and the liveness check
// of a holder that the C API documents.
#ifndef SHMDS_SYNC_HPP
#define SHMDS_SYNC_HPP

#include <shmds/detail.hpp>
#include <shmds/sync.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <optional>
#include <unistd.h>

namespace shmds {

/** What lock_recoverable() found: a plain lock, or a lock whose previous owner died. */
enum class lock_result { acquired, owner_died };

/** How a barrier wait ended. */
enum class barrier_result {
    leader,       ///< this caller arrived last and tripped the barrier
    follower,     ///< the barrier tripped after this caller arrived
    timed_out,    ///< a positive timeout ran out: the barrier is now broken for everyone
    broken,       ///< the barrier was broken (a timeout, a dead party) or reset meanwhile
    would_block,  ///< a probe (zero duration) that would not be last: it did not arrive
};

namespace detail {

/** The C functions of each sync primitive, by handle type, for the shared bases below. */
template <class H>
struct sync_c;
template <>
struct sync_c<shmds_mutex_t> {
    static constexpr auto close = shmds_mutex_close;
    static constexpr auto fd = shmds_mutex_fd;
    static constexpr auto recoveries = shmds_mutex_recoveries;
    static constexpr auto lock = shmds_mutex_lock;
    static constexpr auto unlock = shmds_mutex_unlock;
    static constexpr auto consistent = shmds_mutex_consistent;
};
template <>
struct sync_c<shmds_rwlock_t> {
    static constexpr auto close = shmds_rwlock_close;
    static constexpr auto fd = shmds_rwlock_fd;
    static constexpr auto recoveries = shmds_rwlock_recoveries;
    static constexpr auto lock = shmds_rwlock_wrlock;  // the exclusive side
    static constexpr auto unlock = shmds_rwlock_unlock;
    static constexpr auto consistent = shmds_rwlock_consistent;
};
template <>
struct sync_c<shmds_condvar_t> {
    static constexpr auto close = shmds_condvar_close;
    static constexpr auto fd = shmds_condvar_fd;
    static constexpr auto recoveries = shmds_condvar_recoveries;
    static constexpr auto lock = shmds_condvar_lock;
    static constexpr auto unlock = shmds_condvar_unlock;
    static constexpr auto consistent = shmds_condvar_consistent;
};
template <>
struct sync_c<shmds_semaphore_t> {
    static constexpr auto close = shmds_semaphore_close;
    static constexpr auto fd = shmds_semaphore_fd;
    static constexpr auto recoveries = shmds_semaphore_recoveries;
};
template <>
struct sync_c<shmds_barrier_t> {
    static constexpr auto close = shmds_barrier_close;
    static constexpr auto fd = shmds_barrier_fd;
    static constexpr auto recoveries = shmds_barrier_recoveries;
};
template <>
struct sync_c<shmds_once_t> {
    static constexpr auto close = shmds_once_close;
    static constexpr auto fd = shmds_once_fd;
    static constexpr auto recoveries = shmds_once_recoveries;
};

/** What every sync primitive offers besides its verbs: ownership, fd(), recoveries(). */
template <class H>
class sync_base : public handle_base<H, sync_c<H>::close> {
public:
    /** Dead owners, holders, parties and sleepers taken over so far. Never blocks. */
    std::uint64_t recoveries() const noexcept { return sync_c<H>::recoveries(this->handle()); }
    /** The segment's fd for shmds_send_fd() (owned by the handle). Throws -ENOENT if anonymous. */
    int fd() const { return check(sync_c<H>::fd(this->handle())); }

protected:
    explicit sync_base(H *h) noexcept : handle_base<H, sync_c<H>::close>(h) {}
};

/**
 * The outcome of a Lockable verb called with timeout `ns`: true = held; false = would
 * block or timed out, except after SHMDS_FOREVER, which has no such outcome (lock()
 * returns holding the lock or throws). Acquired from a dead previous owner: released
 * again, and shmds::error(SHMDS_EOWNERDEAD) thrown.
 */
template <class H>
bool lockable_outcome(int rc, std::int64_t ns, H *h) {
    if (rc == SHMDS_EOWNERDEAD) {
        error e(rc);  // before the unlock, which would replace shmds_last_error()
        sync_c<H>::unlock(h);
        throw e;
    }
    return ns == SHMDS_FOREVER ? outcome<>(rc) : done(rc);
}

/**
 * The exclusive side that mutex, condvar and rwlock (writing) share: Lockable and
 * TimedLockable, plus lock_recoverable() and consistent() for repair after a dead owner.
 * Every lock verb throws shmds::error: SHMDS_EOWNERDEAD (see the top of this file),
 * -EDEADLK (this thread holds it already).
 */
template <class H>
class exclusive_lock : public sync_base<H> {
public:
    /** Lock, blocking as long as it takes. */
    void lock() { lock_raw(SHMDS_FOREVER); }
    /** Lock if free now; false if held. Never blocks. */
    bool try_lock() { return lock_raw(SHMDS_NOWAIT); }
    /** Lock, blocking at most `d`; false on timeout. */
    template <class Rep, class Period>
    bool try_lock_for(std::chrono::duration<Rep, Period> d) {
        return lock_raw(to_timeout_ns(d));
    }
    /** Lock, blocking until `t` at the latest; false on timeout. */
    template <class Clock, class Duration>
    bool try_lock_until(std::chrono::time_point<Clock, Duration> t) {
        return lock_raw(until_timeout_ns(t));
    }
    /** Unlock. Never blocks. Throws -EPERM (this thread does not hold it). */
    void unlock() { check(sync_c<H>::unlock(this->handle())); }
    /**
     * Lock, blocking as long as it takes; owner_died means held, with the protected
     * data to repair (then consistent(), then unlock()). Throws -EDEADLK.
     */
    lock_result lock_recoverable() {
        const int rc = sync_c<H>::lock(this->handle(), SHMDS_FOREVER);
        const bool plain = outcome<SHMDS_EOWNERDEAD>(rc);
        return plain ? lock_result::acquired : lock_result::owner_died;
    }
    /** Declare the data repaired after owner_died; needs the lock. Never blocks. Throws -EPERM. */
    void consistent() { check(sync_c<H>::consistent(this->handle())); }

protected:
    explicit exclusive_lock(H *h) noexcept : sync_base<H>(h) {}

private:
    bool lock_raw(std::int64_t ns) {
        return lockable_outcome(sync_c<H>::lock(this->handle(), ns), ns, this->handle());
    }
};

/** Give a once's initializer role back (shmds_once_reset), for unique_handle. */
inline void give_back_once_role(shmds_once_t *o) noexcept {
    if (o) shmds_once_reset(o);
}

}  // namespace detail

/** A crash-safe process-shared mutex (Lockable, TimedLockable); move-only. */
class mutex : public detail::exclusive_lock<shmds_mutex_t> {
public:
    /** Create, or attach to the mutex at that path. Throws shmds::error. */
    static mutex create(const backing &where) {
        return mutex(detail::new_handle(shmds_mutex_create, where.options()));
    }
    /** Attach to an existing mutex. Throws shmds::error (-ENOENT, SHMDS_ETYPE, ...). */
    static mutex open(const backing &where) {
        return mutex(detail::new_handle(shmds_mutex_open, where.options()));
    }
    /** Adopt a C handle (takes ownership). */
    explicit mutex(shmds_mutex_t *h) noexcept : exclusive_lock(h) {}
};

/**
 * A reader/writer lock: Lockable and TimedLockable for writing, SharedLockable and
 * SharedTimedLockable for reading; move-only. Recursive for readers, write-preferring.
 */
class rwlock : public detail::exclusive_lock<shmds_rwlock_t> {
public:
    /** Create with `reader_slots` (0: 128), or attach to the one at that path. Throws error. */
    static rwlock create(const backing &where, std::uint32_t reader_slots = 0) {
        return rwlock(detail::new_handle(shmds_rwlock_create, where.options(), reader_slots));
    }
    /** Attach to an existing rwlock. Throws shmds::error (-ENOENT, SHMDS_ETYPE, ...). */
    static rwlock open(const backing &where) {
        return rwlock(detail::new_handle(shmds_rwlock_open, where.options()));
    }
    /** Adopt a C handle (takes ownership). */
    explicit rwlock(shmds_rwlock_t *h) noexcept : exclusive_lock(h) {}

    // The read side throws as the write side does, and -EUSERS (every reader slot has a
    // reader inside).
    /** Take a read lock, blocking as long as it takes. */
    void lock_shared() { read_raw(SHMDS_FOREVER); }
    /** Take a read lock if there is no writer now; false otherwise. Never blocks. */
    bool try_lock_shared() { return read_raw(SHMDS_NOWAIT); }
    /** Take a read lock, blocking at most `d`; false on timeout. */
    template <class Rep, class Period>
    bool try_lock_shared_for(std::chrono::duration<Rep, Period> d) {
        return read_raw(detail::to_timeout_ns(d));
    }
    /** Take a read lock, blocking until `t` at the latest; false on timeout. */
    template <class Clock, class Duration>
    bool try_lock_shared_until(std::chrono::time_point<Clock, Duration> t) {
        return read_raw(detail::until_timeout_ns(t));
    }
    /** Release one level of this thread's read lock. Never blocks. Throws -EPERM. */
    void unlock_shared() { detail::check(shmds_rwlock_unlock(handle())); }

    /** Turn this thread's write lock into a read lock, no writer in between. Never blocks. */
    void downgrade() { detail::check(shmds_rwlock_downgrade(handle())); }
    /** Threads holding read locks now (a snapshot). Never blocks. */
    std::uint32_t readers() const noexcept { return shmds_rwlock_readers(handle()); }
    /** Whether a writer holds the lock now (a snapshot). Never blocks. */
    bool is_write_locked() const { return detail::check(shmds_rwlock_is_write_locked(handle())); }

private:
    bool read_raw(std::int64_t ns) {
        return detail::lockable_outcome(shmds_rwlock_rdlock(handle(), ns), ns, handle());
    }
};

/** A condition variable that is also its own Lockable, TimedLockable mutex; move-only. */
class condvar : public detail::exclusive_lock<shmds_condvar_t> {
public:
    /** Create, or attach to the condvar at that path. Throws shmds::error. */
    static condvar create(const backing &where) {
        return condvar(detail::new_handle(shmds_condvar_create, where.options()));
    }
    /** Attach to an existing condvar. Throws shmds::error (-ENOENT, SHMDS_ETYPE, ...). */
    static condvar open(const backing &where) {
        return condvar(detail::new_handle(shmds_condvar_open, where.options()));
    }
    /** Adopt a C handle (takes ownership). */
    explicit condvar(shmds_condvar_t *h) noexcept : exclusive_lock(h) {}

    // The waits: the caller holds this condvar's lock and holds it again on return,
    // also when one throws (SHMDS_EOWNERDEAD: a holder died meanwhile; -EPERM: the
    // caller did not hold the lock, and nothing happened).
    /** Wait for a signal, blocking as long as it takes. Wakes may be spurious. */
    void wait() { wait_raw(SHMDS_FOREVER); }
    /** Wait for a signal, blocking at most `d`. */
    template <class Rep, class Period>
    std::cv_status wait_for(std::chrono::duration<Rep, Period> d) {
        return wait_raw(detail::to_timeout_ns(d));
    }
    /** Wait until pred() holds, blocking as long as it takes. */
    template <class Pred>
    void wait(Pred pred) {
        while (!pred()) wait();
    }
    /** Wait until pred() holds or `d` passes, blocking at most `d`; returns pred(). */
    template <class Rep, class Period, class Pred>
    bool wait_for(std::chrono::duration<Rep, Period> d, Pred pred) {
        const detail::deadline dl(detail::to_timeout_ns(d));
        while (!pred()) {
            if (wait_raw(dl.left_ns()) == std::cv_status::timeout) return pred();
        }
        return true;
    }
    /** Wake one waiter, if any (holding the lock or not). Never blocks. */
    void notify_one() { detail::check(shmds_condvar_signal(handle())); }
    /** Wake every waiter. Never blocks. */
    void notify_all() { detail::check(shmds_condvar_broadcast(handle())); }
    /** Threads waiting now (a snapshot). Never blocks. */
    std::uint32_t waiters() const noexcept { return shmds_condvar_waiters(handle()); }

private:
    std::cv_status wait_raw(std::int64_t ns) {
        const bool woken = detail::done(shmds_condvar_wait(handle(), ns));
        return woken ? std::cv_status::no_timeout : std::cv_status::timeout;
    }
};

/** A counting semaphore whose permits return when their holder process dies; move-only. */
class semaphore : public detail::sync_base<shmds_semaphore_t>,
                  public detail::eventfd_verbs<semaphore, shmds_semaphore_eventfd,
                                               shmds_semaphore_set_eventfd, shmds_semaphore_notify,
                                               shmds_semaphore_eventfd_consume> {
public:
    /**
     * Create with at most `max` permits, `initial` available now, or attach to the one
     * at that path. Throws shmds::error (-EINVAL: max 0 or initial > max, ...).
     */
    static semaphore create(const backing &where, std::uint32_t max, std::uint32_t initial) {
        return semaphore(detail::new_handle(shmds_semaphore_create, where.options(), max, initial));
    }
    /** Attach to an existing semaphore. Throws shmds::error (-ENOENT, SHMDS_ETYPE, ...). */
    static semaphore open(const backing &where) {
        return semaphore(detail::new_handle(shmds_semaphore_open, where.options()));
    }
    /** Adopt a C handle (takes ownership). */
    explicit semaphore(shmds_semaphore_t *h) noexcept : sync_base(h) {}

    // Acquiring takes n permits at once (all or nothing) and throws -EINVAL (n 0 or
    // above max), -EUSERS (every holder slot belongs to a live process).
    /** Take n permits, blocking as long as it takes. */
    void acquire(std::uint32_t n = 1) {
        detail::check(shmds_semaphore_acquire_n(handle(), n, SHMDS_FOREVER));
    }
    /** Take n permits if there are enough now; false otherwise. Never blocks. */
    bool try_acquire(std::uint32_t n = 1) { return acquire_raw(n, SHMDS_NOWAIT); }
    /** Take n permits, blocking at most `d`; false on timeout. */
    template <class Rep, class Period>
    bool try_acquire_for(std::chrono::duration<Rep, Period> d, std::uint32_t n = 1) {
        return acquire_raw(n, detail::to_timeout_ns(d));
    }
    /** Return n permits (clamped at max) and wake waiters. Never blocks. Throws -EINVAL (n 0). */
    void release(std::uint32_t n = 1) { detail::check(shmds_semaphore_release(handle(), n)); }
    /** Take every permit available now; how many. Never blocks. Throws -EUSERS. */
    std::uint32_t drain() {
        std::uint32_t taken = 0;
        detail::check(shmds_semaphore_drain(handle(), &taken));
        return taken;
    }
    /** Permits available now (a snapshot). Never blocks. */
    std::uint32_t value() const noexcept { return shmds_semaphore_value(handle()); }
    /** The most permits there can be. Never blocks. */
    std::uint32_t max() const noexcept { return shmds_semaphore_max(handle()); }
    /** Permits this process holds now. Never blocks. */
    std::uint64_t held() const noexcept { return shmds_semaphore_held(handle()); }
    // eventfd(), set_eventfd(), notify(), consume_events(): detail::eventfd_verbs.

private:
    bool acquire_raw(std::uint32_t n, std::int64_t ns) {
        return detail::done(shmds_semaphore_acquire_n(handle(), n, ns));
    }
};

/** A barrier for a fixed number of parties; move-only. */
class barrier : public detail::sync_base<shmds_barrier_t>,
                public detail::eventfd_verbs<barrier, shmds_barrier_eventfd,
                                             shmds_barrier_set_eventfd, shmds_barrier_notify,
                                             shmds_barrier_eventfd_consume> {
public:
    /** Create for `parties` (2 ..= 4096), or attach to the one at that path. Throws error. */
    static barrier create(const backing &where, std::uint32_t parties) {
        return barrier(detail::new_handle(shmds_barrier_create, where.options(), parties));
    }
    /** Attach to an existing barrier. Throws shmds::error (-ENOENT, SHMDS_ETYPE, ...). */
    static barrier open(const backing &where) {
        return barrier(detail::new_handle(shmds_barrier_open, where.options()));
    }
    /** Adopt a C handle (takes ownership). */
    explicit barrier(shmds_barrier_t *h) noexcept : sync_base(h) {}

    /** Arrive and wait for the other parties, blocking as long as it takes. */
    barrier_result wait() { return wait_raw(SHMDS_FOREVER); }
    /**
     * Arrive and wait at most `d`: timed_out then breaks the barrier for every party.
     * A zero or negative `d` is a probe instead: leader if this caller completes the
     * generation, else would_block without arriving (nothing breaks).
     */
    template <class Rep, class Period>
    barrier_result wait_for(std::chrono::duration<Rep, Period> d) {
        return wait_raw(detail::to_timeout_ns(d));
    }
    /** Clear "broken"; parties waiting now get broken. Waits only for the internal lock. */
    void reset() { detail::check(shmds_barrier_reset(handle())); }
    /** Generations ended so far. Never blocks. */
    std::uint32_t generation() const noexcept { return shmds_barrier_generation(handle()); }
    /** Parties waiting in the current generation. Never blocks. */
    std::uint32_t arrived() const noexcept { return shmds_barrier_arrived(handle()); }
    /** The party count. Never blocks. */
    std::uint32_t parties() const noexcept { return shmds_barrier_parties(handle()); }
    /** Whether the barrier is broken (refusing waits until reset()). Never blocks. */
    bool is_broken() const { return detail::check(shmds_barrier_is_broken(handle())); }
    // eventfd(), set_eventfd(), notify(), consume_events(): detail::eventfd_verbs.

private:
    barrier_result wait_raw(std::int64_t ns) {
        const int rc = shmds_barrier_wait(handle(), ns);
        if (detail::outcome<-EAGAIN, -ETIMEDOUT, -ECANCELED>(rc))
            return rc == SHMDS_BARRIER_LEADER ? barrier_result::leader : barrier_result::follower;
        if (rc == -EAGAIN) return barrier_result::would_block;
        return rc == -ETIMEDOUT ? barrier_result::timed_out : barrier_result::broken;
    }
};

class once;

/**
 * The initializer's role from once::enter(): true when the caller must initialize.
 * done() publishes; destroying it without done() (an exception) gives the role back
 * so a waiter is elected. Nothing happens in a fork() child. Move-only.
 */
class once_guard : private detail::fork_owner {
public:
    once_guard(once_guard &&) noexcept = default;
    once_guard(const once_guard &) = delete;
    once_guard &operator=(const once_guard &) = delete;
    ~once_guard() {
        if (!in_acquiring_process()) role_.release();  // the parent's role, not ours to give
    }
    /** Whether this caller must initialize (and has not called done() yet). */
    explicit operator bool() const noexcept { return role_.get() != nullptr; }
    /** Publish the initialization and wake the waiters. Never blocks. Throws -EPERM. */
    void done() {
        if (!role_.get()) return;
        detail::check(shmds_once_done(role_.get()));
        role_.release();
    }

private:
    friend class once;
    explicit once_guard(shmds_once_t *role) noexcept : role_(role) {}
    detail::unique_handle<shmds_once_t, detail::give_back_once_role> role_;
};

/** Exactly-once initialization across processes; move-only. */
class once : public detail::sync_base<shmds_once_t> {
public:
    /** Create, or attach to the once at that path. Throws shmds::error. */
    static once create(const backing &where) {
        return once(detail::new_handle(shmds_once_create, where.options()));
    }
    /** Attach to an existing once. Throws shmds::error (-ENOENT, SHMDS_ETYPE, ...). */
    static once open(const backing &where) {
        return once(detail::new_handle(shmds_once_open, where.options()));
    }
    /** Adopt a C handle (takes ownership). */
    explicit once(shmds_once_t *h) noexcept : sync_base(h) {}

    /**
     * Blocks while another process initializes; a true guard means "you initialize"
     * (also when the previous initializer died). Throws -EDEADLK (this thread is it).
     */
    once_guard enter() {
        const int rc = detail::check(shmds_once_enter(handle(), SHMDS_FOREVER));
        return once_guard(rc == 1 ? handle() : nullptr);
    }
    /**
     * Run f() if nobody has (or the one who did died first); whether we ran it. Blocks
     * as enter(); an exception from f() gives the role back and propagates.
     */
    template <class F>
    bool call(F &&f) {
        once_guard g = enter();
        if (!g) return false;
        f();
        g.done();
        return true;
    }
    /** Whether initialization is done. Never blocks. */
    bool is_done() const { return detail::check(shmds_once_is_done(handle())); }
    /** Back to "not started". Never blocks. Throws -EBUSY (a live process is initializing). */
    void reset() { detail::check(shmds_once_reset(handle())); }
};

/**
 * Scoped exclusive lock on a shmds::mutex, condvar or rwlock that releases nothing in a
 * fork() child. Blocks and throws as Lockable::lock() does.
 */
template <class Lockable>
class lock_guard : private detail::fork_owner {
public:
    explicit lock_guard(Lockable &l) : l_(l) { l_.lock(); }
    ~lock_guard() {
        if (in_acquiring_process()) unlock(l_.handle());
    }
    lock_guard(const lock_guard &) = delete;
    lock_guard &operator=(const lock_guard &) = delete;

private:
    static constexpr auto unlock = detail::sync_c<typename Lockable::handle_type>::unlock;
    Lockable &l_;
};

/** Scoped write lock on an rwlock (fork-safe). */
using write_guard = lock_guard<rwlock>;

/** Scoped read lock on an rwlock, releasing nothing in a fork() child. Blocks as lock_shared(). */
class read_guard : private detail::fork_owner {
public:
    explicit read_guard(rwlock &l) : l_(l) { l_.lock_shared(); }
    ~read_guard() {
        if (in_acquiring_process()) shmds_rwlock_unlock(l_.handle());
    }
    read_guard(const read_guard &) = delete;
    read_guard &operator=(const read_guard &) = delete;

private:
    rwlock &l_;
};

/** Holds n permits for a scope; returns nothing in a fork() child. Blocks as acquire(). */
class permit_guard : private detail::fork_owner {
public:
    explicit permit_guard(semaphore &s, std::uint32_t n = 1) : s_(s), n_(n) { s_.acquire(n_); }
    ~permit_guard() {
        if (in_acquiring_process()) shmds_semaphore_release(s_.handle(), n_);
    }
    permit_guard(const permit_guard &) = delete;
    permit_guard &operator=(const permit_guard &) = delete;

private:
    semaphore &s_;
    std::uint32_t n_;
};

}  // namespace shmds

#endif  // SHMDS_SYNC_HPP
