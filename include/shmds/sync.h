/*
 * libshmds sync: crash-safe synchronisation primitives shared between processes.
 *
 *   shmds_mutex_t      lock / try_lock / unlock, SHMDS_EOWNERDEAD + consistent()
 *   shmds_semaphore_t  counting semaphore (max, initial); a dead holder's permits return
 *   shmds_barrier_t    N parties meet; leader, follower, timeout, broken, reset
 *   shmds_rwlock_t     write-preferring reader/writer lock, readers recursive per thread
 *   shmds_condvar_t    condition variable with its own crash-safe mutex
 *   shmds_once_t       exactly one initializer; a dead initializer is replaced
 *
 * Each primitive is its own segment with the four backings of common.h (anonymous for
 * fork() children, a path, a memfd, a received fd). _create attaches to an existing
 * segment of the same primitive at that path (its parameters win); a segment holding
 * anything else gives SHMDS_ETYPE. _open attaches to an existing one (PATH or FD).
 *
 * Blocking verbs take timeout_ns as in common.h (SHMDS_NOWAIT, SHMDS_FOREVER, relative
 * nanoseconds). Sleepers use almost no CPU: they sleep on futexes and wake when woken,
 * or on their own to check that the owner they wait for is alive (after 1 ms, then
 * every 8 ms), so a dead owner is taken over within about 10 ms by every primitive
 * (shmds-bench's takeover workload measures each). A semaphore waiter probes only while
 * another process holds permits (only a holder's death can return any); otherwise it
 * wakes every 100 ms. Each wake-up of an idle sleeper costs tens of microseconds of
 * CPU in the kernel (about 65 us on a 2-vCPU VM), so a sleeper waiting 1 s on nothing
 * uses under 1 ms of CPU.
 *
 * Crash model. A process may be killed at any instruction:
 *  - mutex, condvar mutex: a lock whose holder thread died (its process killed, or the
 *    thread ended without unlocking) is taken over by the next locker, which gets
 *    SHMDS_EOWNERDEAD with the lock held: a locker that arrives after the death within
 *    about 1 ms, a waiter already asleep when the holder died within about 9 ms (a dead
 *    holder wakes nobody, so waiters check on it). try_lock takes over at once a holder
 *    whose thread is gone, but not one whose process is still an unreaped zombie
 *    (telling a zombie apart costs a /proc read, which try_lock does not pay). Until a
 *    holder calls _consistent(), every later locker gets SHMDS_EOWNERDEAD too: the lock
 *    is never poisoned and a repair is never silently skipped. Owners are threads named
 *    by thread id plus thread start time, so a recycled thread id is never the owner.
 *  - rwlock: a dead writer (its process killed, or its thread ended without unlocking)
 *    is cleared by a waiter within about 10 ms of the death (waiters check on it after
 *    1 ms, then every 8 ms); if it held the lock (not merely queued for it), lockers
 *    get SHMDS_EOWNERDEAD until a writer calls shmds_rwlock_consistent(). Dead readers
 *    (processes or threads) are cleared by a waiting writer on the same schedule, or
 *    by a reader that finds no free slot, and never pin the lock.
 *  - semaphore: permits held by a dead process return to the semaphore once a waiter
 *    needs them: within about 10 ms of the death for a waiter already asleep (one that
 *    went to sleep while no other process held permits notices at its next 100 ms
 *    wake-up), within about 1 ms for a waiter that arrives later, and at the first try
 *    at least 10 ms after the previous one for try_acquire. A process killed inside
 *    acquire either holds the permits (they return with the rest) or never took them;
 *    one killed inside a release of n > 1 may have returned only part of them.
 *  - barrier: a party that dies while waiting breaks the barrier for the others within
 *    about 10 ms (they get -ECANCELED) instead of hanging them.
 *  - once: if the initializer dies before done, one waiter is elected within about
 *    10 ms.
 *  Ownership is by process identity (PID plus start time), so PID reuse and zombies
 *  never pass for the owner; a stopped (SIGSTOP) process is alive and keeps what it
 *  holds. Every takeover is counted in _recoveries().
 *
 * Ownership and fork(): locks belong to the thread (mutex, rwlock) or process
 * (semaphore permits, once) that took them. A fork() child does not own its parent's
 * locks or permits: unlocking them in the child fails with -EPERM (mutex, rwlock) or
 * returns the child's own holdings only (semaphore).
 *
 * Thread safety: handles may be shared by the threads of a process and used in a fork()
 * child. _close() must not race other calls on the same handle.
 */
#ifndef SHMDS_SYNC_H
#define SHMDS_SYNC_H

#include <shmds/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct shmds_mutex shmds_mutex_t;
typedef struct shmds_semaphore shmds_semaphore_t;
typedef struct shmds_barrier shmds_barrier_t;
typedef struct shmds_rwlock shmds_rwlock_t;
typedef struct shmds_condvar shmds_condvar_t;
typedef struct shmds_once shmds_once_t;

/*
 * Lifecycle, the same for every primitive P:
 *
 * shmds_P_create(opts, <parameters>, &out): create, or attach to the same primitive
 *   already at that path. opts NULL = anonymous. Returns 0; -EINVAL (bad parameter or
 *   options: the sentence says which); -EEXIST (SHMDS_EXCL and the file exists);
 *   -ENOSPC; -EACCES, -ELOOP and other -errno from open/mmap/memfd_create; SHMDS_ETYPE
 *   (the path holds another structure); SHMDS_EVERSION; SHMDS_ECORRUPT. Blocks only
 *   while another process initialises the same path.
 * shmds_P_open(opts, &out): attach to an existing one (PATH or FD backing). Returns 0;
 *   -ENOENT; -EINVAL (anonymous or memfd-by-name); SHMDS_ETYPE; SHMDS_EVERSION;
 *   SHMDS_ECORRUPT; other -errno.
 * shmds_P_close(h): unmap and free the handle (NULL allowed). Locks and permits the
 *   caller still holds stay held (they are recovered when the process dies).
 * shmds_P_fd(h): the descriptor behind the segment, owned by the handle (pass it with
 *   shmds_send_fd()); -ENOENT if anonymous; -EINVAL for NULL.
 * shmds_P_recoveries(h): dead owners, holders, parties and sleepers taken over so far;
 *   0 for NULL. Never blocks.
 */

/* ================================================================== mutex */

SHMDS_API int shmds_mutex_create(const shmds_options_t *opts, shmds_mutex_t **out);
SHMDS_API int shmds_mutex_open(const shmds_options_t *opts, shmds_mutex_t **out);
SHMDS_API void shmds_mutex_close(shmds_mutex_t *m);
SHMDS_API int shmds_mutex_fd(const shmds_mutex_t *m);
SHMDS_API uint64_t shmds_mutex_recoveries(const shmds_mutex_t *m);

/**
 * Lock, waiting per timeout_ns.
 * @return 0; SHMDS_EOWNERDEAD (the lock IS held: a previous owner died holding it; repair
 *   the data, call shmds_mutex_consistent(), then unlock); -EAGAIN (NOWAIT and held);
 *   -ETIMEDOUT; -EDEADLK (the calling thread already holds it); -EINVAL.
 */
SHMDS_API int shmds_mutex_lock(shmds_mutex_t *m, int64_t timeout_ns);
/**
 * shmds_mutex_lock(m, SHMDS_NOWAIT). Never blocks. A holder that died (even one not yet
 * reaped: a zombie) is taken over, so the result is then SHMDS_EOWNERDEAD; the full
 * liveness check (a /proc read) runs at most once per 10 ms per mutex in each process.
 */
SHMDS_API int shmds_mutex_try_lock(shmds_mutex_t *m);
/** Unlock. @return 0; -EPERM (the calling thread does not hold it); -EINVAL. */
SHMDS_API int shmds_mutex_unlock(shmds_mutex_t *m);
/**
 * Declare the protected data repaired after SHMDS_EOWNERDEAD; the caller must hold the
 * lock. @return 0; -EPERM (not held by the calling thread); -EINVAL (not inconsistent,
 * or NULL). Never blocks.
 */
SHMDS_API int shmds_mutex_consistent(shmds_mutex_t *m);

/* ============================================================== semaphore */

/**
 * Create a semaphore of at most `max` permits (1 ..= 2^31-1) holding `initial` now
 * (0 ..= max). Each process that acquires gets a holder slot, the record of what it
 * holds; there are 256, and a process keeps its slot while it lives unless another
 * process needs it while it holds nothing. So up to min(max, 256) processes hold permits
 * at the same time; a further process gets -EUSERS from acquire (see below). The
 * permits available, those held and those missing (max - initial at first) always add
 * up to max. -EINVAL for max 0, initial > max. Other codes as for every _create.
 */
SHMDS_API int shmds_semaphore_create(const shmds_options_t *opts, uint32_t max, uint32_t initial,
                                     shmds_semaphore_t **out);
SHMDS_API int shmds_semaphore_open(const shmds_options_t *opts, shmds_semaphore_t **out);
SHMDS_API void shmds_semaphore_close(shmds_semaphore_t *s);
SHMDS_API int shmds_semaphore_fd(const shmds_semaphore_t *s);
SHMDS_API uint64_t shmds_semaphore_recoveries(const shmds_semaphore_t *s);

/**
 * Take one permit, waiting per timeout_ns. The permit is recorded as held by the calling
 * process until it releases it, and returned to the semaphore if the process dies.
 * Lock-free when permits are there: one CAS on the process's holder slot and a read of
 * the others' (the first acquire in a process, and one that keeps colliding with other
 * processes' claims for the last permits, takes an internal lock).
 * @return 0; -EAGAIN (NOWAIT and none available); -ETIMEDOUT; -EUSERS (every holder slot
 *   belongs to a live process holding permits); -EINVAL; SHMDS_ECORRUPT (the internal
 *   lock word is damaged beyond repair).
 */
SHMDS_API int shmds_semaphore_acquire(shmds_semaphore_t *s, int64_t timeout_ns);
/** Take n permits at once (all or nothing), as acquire. -EINVAL for n 0 or n > max. */
SHMDS_API int shmds_semaphore_acquire_n(shmds_semaphore_t *s, uint32_t n, int64_t timeout_ns);
/**
 * acquire with SHMDS_NOWAIT (may wait a few ms for the internal lock, never for permits).
 * When permits are short it also reclaims the permits of holders that died (checked at
 * most once per 10 ms per semaphore in each process), so a process that only tries is
 * never locked out for good by a death.
 */
SHMDS_API int shmds_semaphore_try_acquire(shmds_semaphore_t *s);
/** acquire_n with SHMDS_NOWAIT. */
SHMDS_API int shmds_semaphore_try_acquire_n(shmds_semaphore_t *s, uint32_t n);
/**
 * Return n permits. The value is clamped at max (extra releases are dropped). The
 * calling process's own holdings are paid back first (one CAS, no lock, when it holds
 * n); a process may also release permits it never acquired (signalling use): they pay
 * back missing permits first, and when the value would pass max minus what processes
 * hold, the rest is taken off other holders' records, as if they had released (a holder
 * that dies afterwards returns only what it still holds). So the permits recorded as
 * held never add up to more than max. Wakes up to n waiters. Never signals the eventfd:
 * call shmds_semaphore_notify() (common.h, "Eventfds").
 * @return 0; -EINVAL (n 0 or NULL); SHMDS_ECORRUPT (damaged internal lock). Waits only
 *   for the internal lock, and in a signalling release for at most 10 ms for another
 *   process's acquire in flight (a stopped one's record is then left alone).
 */
SHMDS_API int shmds_semaphore_release(shmds_semaphore_t *s, uint32_t n);
/**
 * Take every permit available now (held like acquired ones). *taken (required) gets
 * how many, possibly 0. @return 0; -EUSERS; -EINVAL; SHMDS_ECORRUPT (damaged internal
 * lock). Never waits for permits.
 */
SHMDS_API int shmds_semaphore_drain(shmds_semaphore_t *s, uint32_t *taken);
/** Permits available now (a snapshot); 0 for NULL. */
SHMDS_API uint32_t shmds_semaphore_value(const shmds_semaphore_t *s);
/** The semaphore's max; 0 for NULL. */
SHMDS_API uint32_t shmds_semaphore_max(const shmds_semaphore_t *s);
/** Permits the calling process holds now; 0 for NULL. */
SHMDS_API uint64_t shmds_semaphore_held(const shmds_semaphore_t *s);
/**
 * The handle's eventfd, created on first call (non-blocking, close-on-exec, owned by
 * the handle); only shmds_semaphore_notify() signals it (common.h, "Eventfds"). Share
 * it by fork() or shmds_send_fd() and attach it elsewhere with
 * shmds_semaphore_set_eventfd(). @return fd >= 0, -EINVAL (NULL) or -errno.
 */
SHMDS_API int shmds_semaphore_eventfd(shmds_semaphore_t *s);
/** Use a duplicate of fd (-1 detaches); the caller keeps its fd. 0; -EBADF; -EINVAL. */
SHMDS_API int shmds_semaphore_set_eventfd(shmds_semaphore_t *s, int fd);
/** Signal the eventfd. 0; -ENOENT (no eventfd); -EINVAL. */
SHMDS_API int shmds_semaphore_notify(shmds_semaphore_t *s);
/** Read and reset the eventfd counter. 0; -EAGAIN (nothing pending); -ENOENT; -EINVAL. */
SHMDS_API int shmds_semaphore_eventfd_consume(shmds_semaphore_t *s, uint64_t *count);

/* ================================================================ barrier */

/** shmds_barrier_wait() returns this to the one caller that completed the generation. */
#define SHMDS_BARRIER_LEADER 1

/** Create a barrier for `parties` callers (2 ..= 4096; else -EINVAL). */
SHMDS_API int shmds_barrier_create(const shmds_options_t *opts, uint32_t parties,
                                   shmds_barrier_t **out);
SHMDS_API int shmds_barrier_open(const shmds_options_t *opts, shmds_barrier_t **out);
SHMDS_API void shmds_barrier_close(shmds_barrier_t *b);
SHMDS_API int shmds_barrier_fd(const shmds_barrier_t *b);
SHMDS_API uint64_t shmds_barrier_recoveries(const shmds_barrier_t *b);

/**
 * Arrive and wait for the other parties, per timeout_ns.
 * @return SHMDS_BARRIER_LEADER to the last to arrive (it trips the barrier, wakes the
 *   others; the eventfd is signalled only by shmds_barrier_notify()); 0 to the others
 *   once it tripped;
 *   -EAGAIN: SHMDS_NOWAIT and the caller would not be the last. Such a probe does not
 *     arrive and never breaks the barrier;
 *   -ETIMEDOUT: the wait timed out; the generation is now broken for every party;
 *   -ECANCELED: the barrier is broken (a timeout, or a party died while waiting) or was
 *     reset while waiting. A broken barrier refuses every wait until shmds_barrier_reset();
 *   -EINVAL; SHMDS_ECORRUPT.
 */
SHMDS_API int shmds_barrier_wait(shmds_barrier_t *b, int64_t timeout_ns);
/**
 * Make the barrier usable again: clears "broken"; parties waiting now get -ECANCELED.
 * @return 0; -EINVAL; SHMDS_ECORRUPT (damaged internal lock). Waits only for the
 * internal lock.
 */
SHMDS_API int shmds_barrier_reset(shmds_barrier_t *b);
/** Generations ended so far (trips plus resets that cancelled waiters); 0 for NULL. */
SHMDS_API uint32_t shmds_barrier_generation(const shmds_barrier_t *b);
/** Parties waiting in the current generation; 0 for NULL. */
SHMDS_API uint32_t shmds_barrier_arrived(const shmds_barrier_t *b);
/** The barrier's party count; 0 for NULL. */
SHMDS_API uint32_t shmds_barrier_parties(const shmds_barrier_t *b);
/** 1 if broken, 0 if not, -EINVAL for NULL. */
SHMDS_API int shmds_barrier_is_broken(const shmds_barrier_t *b);
/** Eventfd verbs as for the semaphore: only shmds_barrier_notify() signals it. */
SHMDS_API int shmds_barrier_eventfd(shmds_barrier_t *b);
SHMDS_API int shmds_barrier_set_eventfd(shmds_barrier_t *b, int fd);
SHMDS_API int shmds_barrier_notify(shmds_barrier_t *b);
SHMDS_API int shmds_barrier_eventfd_consume(shmds_barrier_t *b, uint64_t *count);

/* ================================================================= rwlock */

/**
 * Create a reader/writer lock with `reader_slots` (1 ..= 4096; 0 = 128): how many
 * threads, over all processes, can hold read locks at the same time. A thread keeps
 * its slot between read locks (a read lock then touches only that slot's cache line);
 * a thread that finds no free slot takes one whose thread exited or holds no read
 * lock now. The segment takes 64 bytes per slot.
 */
SHMDS_API int shmds_rwlock_create(const shmds_options_t *opts, uint32_t reader_slots,
                                  shmds_rwlock_t **out);
SHMDS_API int shmds_rwlock_open(const shmds_options_t *opts, shmds_rwlock_t **out);
SHMDS_API void shmds_rwlock_close(shmds_rwlock_t *rw);
SHMDS_API int shmds_rwlock_fd(const shmds_rwlock_t *rw);
SHMDS_API uint64_t shmds_rwlock_recoveries(const shmds_rwlock_t *rw);

/**
 * Take a read lock, per timeout_ns. Recursive per thread: a thread that already reads
 * gets in at once (even past a waiting writer) and must unlock as often. Write-preferring:
 * once a writer waits, new readers wait behind it.
 * @return 0; SHMDS_EOWNERDEAD (read lock held; a writer died holding the lock and no
 *   writer has called shmds_rwlock_consistent() since); -EAGAIN (NOWAIT, or the thread
 *   already holds 2^32-1 levels); -ETIMEDOUT; -EDEADLK (the thread holds the write lock);
 *   -EUSERS (every reader slot has a reader inside); -EINVAL.
 */
SHMDS_API int shmds_rwlock_rdlock(shmds_rwlock_t *rw, int64_t timeout_ns);
/**
 * Take the write lock, per timeout_ns: waits for the writer ahead, then for the readers
 * inside to leave (new readers are held back meanwhile). A try (NOWAIT) that finds a
 * reader inside also checks whether it is dead, at most once per 10 ms per rwlock in
 * each process, as for a dead writer.
 * @return 0; SHMDS_EOWNERDEAD (write lock held; the previous writer died holding it:
 *   repair, then shmds_rwlock_consistent()); -EAGAIN; -ETIMEDOUT; -EDEADLK (the thread
 *   holds the write lock or a read lock: there is no upgrade); -EINVAL.
 */
SHMDS_API int shmds_rwlock_wrlock(shmds_rwlock_t *rw, int64_t timeout_ns);
/**
 * rdlock with SHMDS_NOWAIT. Never blocks. A writer that died holding the lock (reaped
 * or a zombie) is cleared (checked at most once per 10 ms per rwlock in each process),
 * so a process that only tries is never locked out for good by a death.
 */
SHMDS_API int shmds_rwlock_try_rdlock(shmds_rwlock_t *rw);
/** wrlock with SHMDS_NOWAIT. Never blocks. Takes over from a dead writer as try_rdlock. */
SHMDS_API int shmds_rwlock_try_wrlock(shmds_rwlock_t *rw);
/**
 * Release the calling thread's write lock, or else one level of its read lock.
 * @return 0; -EPERM (the thread holds neither); -EINVAL. Never blocks.
 */
SHMDS_API int shmds_rwlock_unlock(shmds_rwlock_t *rw);
/**
 * Turn the calling thread's write lock into a read lock with no writer in between.
 * @return 0; -EPERM (no write lock); -EUSERS (every reader slot has a reader inside:
 *   still write-locked). Never blocks.
 */
SHMDS_API int shmds_rwlock_downgrade(shmds_rwlock_t *rw);
/**
 * After SHMDS_EOWNERDEAD: declare the data repaired; needs the write lock.
 * @return 0; -EPERM (no write lock); -EINVAL (not inconsistent, or NULL).
 */
SHMDS_API int shmds_rwlock_consistent(shmds_rwlock_t *rw);
/** Threads holding read locks now (a snapshot); 0 for NULL. */
SHMDS_API uint32_t shmds_rwlock_readers(const shmds_rwlock_t *rw);
/** 1 if a writer holds the lock now, 0 if not, -EINVAL for NULL. */
SHMDS_API int shmds_rwlock_is_write_locked(const shmds_rwlock_t *rw);

/* ================================================================ condvar */

SHMDS_API int shmds_condvar_create(const shmds_options_t *opts, shmds_condvar_t **out);
SHMDS_API int shmds_condvar_open(const shmds_options_t *opts, shmds_condvar_t **out);
SHMDS_API void shmds_condvar_close(shmds_condvar_t *cv);
SHMDS_API int shmds_condvar_fd(const shmds_condvar_t *cv);
SHMDS_API uint64_t shmds_condvar_recoveries(const shmds_condvar_t *cv);

/** Lock the condvar's mutex; codes as shmds_mutex_lock(). */
SHMDS_API int shmds_condvar_lock(shmds_condvar_t *cv, int64_t timeout_ns);
/** shmds_condvar_lock(cv, SHMDS_NOWAIT). */
SHMDS_API int shmds_condvar_try_lock(shmds_condvar_t *cv);
/** Unlock the condvar's mutex; codes as shmds_mutex_unlock(). */
SHMDS_API int shmds_condvar_unlock(shmds_condvar_t *cv);
/** After SHMDS_EOWNERDEAD; codes as shmds_mutex_consistent(). */
SHMDS_API int shmds_condvar_consistent(shmds_condvar_t *cv);
/**
 * Atomically release the mutex (which the calling thread must hold) and wait for a
 * signal, per timeout_ns; then relock it, whatever happened (relocking itself waits as
 * long as it takes). Re-check your predicate after every return: a signal may wake more
 * than one waiter, a signal sent just before another waiter's return may be the one it
 * consumed, and a wait with no signal returns 0 after at most 100 ms (a spurious
 * wakeup), because a signaller killed between changing your state and signalling must
 * not leave you asleep for ever.
 * @return 0 (woken); -ETIMEDOUT (relocked); SHMDS_EOWNERDEAD (relocked, and a holder of
 *   the mutex died meanwhile: as shmds_mutex_lock()); -EPERM (the calling thread does
 *   not hold the mutex: nothing happened); -EINVAL.
 */
SHMDS_API int shmds_condvar_wait(shmds_condvar_t *cv, int64_t timeout_ns);
/** Wake one waiter if any (holding the mutex or not). 0; -EINVAL. Never blocks. */
SHMDS_API int shmds_condvar_signal(shmds_condvar_t *cv);
/** Wake every waiter. 0; -EINVAL. Never blocks. */
SHMDS_API int shmds_condvar_broadcast(shmds_condvar_t *cv);
/** Threads waiting now (a snapshot); 0 for NULL. */
SHMDS_API uint32_t shmds_condvar_waiters(const shmds_condvar_t *cv);

/* =================================================================== once */

SHMDS_API int shmds_once_create(const shmds_options_t *opts, shmds_once_t **out);
SHMDS_API int shmds_once_open(const shmds_options_t *opts, shmds_once_t **out);
SHMDS_API void shmds_once_close(shmds_once_t *o);
SHMDS_API int shmds_once_fd(const shmds_once_t *o);
SHMDS_API uint64_t shmds_once_recoveries(const shmds_once_t *o);

/**
 * Ask to run the initializer, waiting per timeout_ns while another process runs it.
 * @return 1: the caller must initialize, then call shmds_once_done() (also when the
 *   previous initializer died: the caller is its replacement); 0: initialization is done;
 *   -EAGAIN (NOWAIT and another process is initializing); -ETIMEDOUT; -EDEADLK (the
 *   calling thread is the initializer); -EINVAL.
 */
SHMDS_API int shmds_once_enter(shmds_once_t *o, int64_t timeout_ns);
/** Mark initialization done and wake the waiters. 0; -EPERM (not the initializer). */
SHMDS_API int shmds_once_done(shmds_once_t *o);
/** 1 if done, 0 if not, -EINVAL for NULL. Never blocks. */
SHMDS_API int shmds_once_is_done(const shmds_once_t *o);
/**
 * Back to "not started": after done, or by the initializer to give up (a waiter is then
 * elected), or when the initializer is dead.
 * @return 0; -EBUSY (another live process is initializing); -EINVAL. Never blocks.
 */
SHMDS_API int shmds_once_reset(shmds_once_t *o);

#ifdef __cplusplus
}
#endif

#endif /* SHMDS_SYNC_H */
