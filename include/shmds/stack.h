/*
 * libshmds stack: a bounded LIFO in shared memory, for any number of processes pushing
 * and popping.
 *
 * Elements: one type chosen at creation from common.h's shmds_type_t: SHMDS_TYPE_INT8 ..
 * _INT64, _UINT8 .. _UINT64 (the _int and _uint verbs, both on any integer type: the
 * _int verbs take and give int64_t, the _uint verbs uint64_t; the type only decides the
 * range, checked both ways: -ERANGE, never truncated), SHMDS_TYPE_F32 or _F64 (the _f64
 * verbs), or SHMDS_TYPE_BYTES with a fixed maximum length chosen at creation (the
 * _bytes verbs; a longer item is refused with -E2BIG, never truncated as the
 * reference's stack did; 0-byte items and every byte value are kept exactly).
 * Capacity is exactly what was asked (1 ..= 2^31), not rounded.
 *
 * The stack is the deque's engine (shmds/deque.h) used at one end, under its own
 * structure type: a deque's segment opened as a stack is SHMDS_ETYPE, and the reverse.
 *
 * Crash model: one crash-recoverable internal lock guards the slots and the two
 * counters. A push writes its slot and then commits by storing the top counter; a pop
 * copies the top slot out and then commits. So a pop never sees a slot before its push
 * published it (the reference's v1 race), and a process killed at any instruction
 * leaves the old state or the new one: only its own in-flight call is lost, nothing is
 * duplicated or torn. The next caller takes the lock over; a caller already waiting
 * checks on the holder after 1 ms and then every 8 ms, so the stack moves again within
 * about 10 ms, and nobody spins meanwhile. The takeover validates the counters; counters
 * a peer scribbled are never trusted: the stack is emptied and the repair counted in
 * stats.recoveries (with takeovers and dead sleepers). A bytes slot whose stored length
 * exceeds max_len is removed and reported as SHMDS_ECORRUPT.
 *
 * Blocking: every verb with `timeout_ns` follows common.h (SHMDS_NOWAIT, SHMDS_FOREVER,
 * relative nanoseconds). SHMDS_NOWAIT never waits for items or room, but may wait up to
 * 3 ms for the internal lock, which a live holder keeps for one batch copy (then
 * -EAGAIN, as for full or empty). Sleepers spin briefly, then sleep in the kernel; a
 * waker killed between its commit and its wake costs a sleeper at most 100 ms. Pushing
 * never signals the eventfd by itself (common.h, "Eventfds").
 *
 * Thread safety: a handle may be shared by the threads of a process, and used in a
 * fork() child. shmds_stack_close() must not race other calls on the same handle.
 */
#ifndef SHMDS_STACK_H
#define SHMDS_STACK_H

#include <shmds/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque handle to a mapped stack. */
typedef struct shmds_stack shmds_stack_t;

/** For shmds_stack_open(): accept whatever element type the segment holds. */
#define SHMDS_STACK_ANY 0

/** Geometry of a new stack. Initialise with SHMDS_STACK_CONFIG_INIT or
 * shmds_stack_config_init(). */
typedef struct shmds_stack_config {
    size_t struct_size; /**< sizeof(shmds_stack_config_t) */
    int type;           /**< a shmds_type_t */
    uint64_t capacity;  /**< items, 1 ..= 2^31 (not rounded) */
    uint64_t max_len;   /**< BYTES only (then required): the longest item, 1 ..= 2^20;
                             every slot takes 4 + max_len bytes. 0 for other types */
} shmds_stack_config_t;

#define SHMDS_STACK_CONFIG_INIT(type, capacity) \
    { sizeof(shmds_stack_config_t), (type), (uint64_t)(capacity), 0u }

/**
 * SHMDS_STACK_CONFIG_INIT(type, capacity) as a function, for FFI (max_len 0).
 * @return 0; -EINVAL (out is NULL, or struct_size below the first version's).
 */
SHMDS_API int shmds_stack_config_init(shmds_stack_config_t *out, size_t struct_size, int type,
                                      uint64_t capacity);

/** Counters and gauges; approximate while other processes are operating. */
typedef struct shmds_stack_stats {
    size_t struct_size;     /**< set by the caller: sizeof(shmds_stack_stats_t) */
    uint64_t size;          /**< items held */
    uint64_t capacity;      /**< items it can hold */
    uint64_t max_len;       /**< BYTES: the longest item; else 0 */
    uint64_t push_ok;       /**< items pushed, ever */
    uint64_t pop_ok;        /**< items popped, ever (clear() is not counted) */
    uint64_t push_full;     /**< push calls refused or timed out because it was full */
    uint64_t pop_empty;     /**< pop calls refused or timed out because it was empty */
    uint64_t cleared;       /**< items removed by clear() */
    uint64_t recoveries;    /**< dead lock holders taken over, repairs, dead sleepers */
    uint32_t push_waiters;  /**< pushers asleep now */
    uint32_t pop_waiters;   /**< poppers asleep now */
    uint64_t segment_bytes; /**< size of the whole mapping */
} shmds_stack_stats_t;

/* ------------------------------------------------------------- lifecycle */

/**
 * Create a stack, or attach to the existing one at the same path (its geometry wins; its
 * element type must equal cfg->type).
 * @return 0; -EINVAL (bad config or options: the sentence says which); -EEXIST
 *   (SHMDS_EXCL and the file exists); -ENOSPC; -EACCES, -ELOOP, other -errno;
 *   SHMDS_ETYPE (another structure, a deque included, or another element type);
 *   SHMDS_EVERSION; SHMDS_ECORRUPT. Blocks only while another process initialises it.
 */
SHMDS_API int shmds_stack_create(const shmds_options_t *opts, const shmds_stack_config_t *cfg,
                                 shmds_stack_t **out);

/**
 * Attach to an existing stack (PATH or FD backing), validating its geometry.
 * @param type  the element type expected, or SHMDS_STACK_ANY.
 * @return 0; -ENOENT; -EINVAL; SHMDS_ETYPE; SHMDS_EVERSION; SHMDS_ECORRUPT; other -errno.
 */
SHMDS_API int shmds_stack_open(const shmds_options_t *opts, int type, shmds_stack_t **out);

/** Unmap and free the handle (NULL is allowed). The segment itself stays. */
SHMDS_API void shmds_stack_close(shmds_stack_t *s);

/** The element type (a shmds_type_t), or -EINVAL for NULL. */
SHMDS_API int shmds_stack_type(const shmds_stack_t *s);

/** The descriptor behind the segment, owned by the handle; -ENOENT for anonymous stacks,
 * -EINVAL for NULL. */
SHMDS_API int shmds_stack_fd(const shmds_stack_t *s);

/** Flush a file-backed stack to its file (msync). 0 or -errno. */
SHMDS_API int shmds_stack_sync(const shmds_stack_t *s);

/* ------------------------------------------------------------------ verbs
 * Every verb comes in four forms: _int and _uint (integer types), _f64 (F32, F64) and
 * _bytes.
 * A form that does not match the element type returns SHMDS_EVARIANT. Every verb
 * returns -EINVAL for a NULL handle or required pointer or a timeout below -1; and
 * SHMDS_ECORRUPT when a peer damaged the item it met (that item is removed, counted in
 * recoveries, and the call reports it).
 */

/**
 * Push one value on top.
 * @return 0; -EAGAIN (NOWAIT and full); -ETIMEDOUT (full until the deadline, or the
 *   internal lock held by a live process until then); -ERANGE (does not fit the type:
 *   _int a negative value into an unsigned type, _uint a value above INT64_MAX into a
 *   signed type, either a value out of a narrower type's range; nothing pushed);
 *   -EINVAL; SHMDS_EVARIANT. Blocks while full, per timeout_ns.
 */
SHMDS_API int shmds_stack_push_int(shmds_stack_t *s, int64_t value, int64_t timeout_ns);
SHMDS_API int shmds_stack_push_uint(shmds_stack_t *s, uint64_t value, int64_t timeout_ns);
SHMDS_API int shmds_stack_push_f64(shmds_stack_t *s, double value, int64_t timeout_ns);
/** As push_int, for a BYTES stack (data may be NULL when len is 0). -E2BIG when len
 * exceeds max_len (nothing pushed). */
SHMDS_API int shmds_stack_push_bytes(shmds_stack_t *s, const void *data, size_t len,
                                     int64_t timeout_ns);

/**
 * Pop the top item into *out.
 * @return 0; -EAGAIN (NOWAIT and empty); -ETIMEDOUT; -ERANGE (the item does not fit
 *   *out: _int a UINT64 value above INT64_MAX, _uint a negative value; the item stays,
 *   read it with the other form); -EINVAL; SHMDS_EVARIANT; SHMDS_ECORRUPT. Blocks while
 *   empty, per timeout_ns.
 */
SHMDS_API int shmds_stack_pop_int(shmds_stack_t *s, int64_t *out, int64_t timeout_ns);
SHMDS_API int shmds_stack_pop_uint(shmds_stack_t *s, uint64_t *out, int64_t timeout_ns);
SHMDS_API int shmds_stack_pop_f64(shmds_stack_t *s, double *out, int64_t timeout_ns);
/** As pop_int, for a BYTES stack: the item goes to buf[0..buf_size) and *len (required)
 * gets its length. -ENOBUFS when it does not fit (*len = the length needed; the item
 * stays). buf may be NULL when buf_size is 0. */
SHMDS_API int shmds_stack_pop_bytes(shmds_stack_t *s, void *buf, size_t buf_size, size_t *len,
                                    int64_t timeout_ns);

/**
 * Read the top item without removing it (a snapshot: another process may take it).
 * Exact (taken under the lock), unlike the reference's retrying seqlock peek.
 * @return 0; -EAGAIN (empty); -ERANGE (as pop: the item does not fit *out); -EINVAL;
 *   SHMDS_EVARIANT; SHMDS_ECORRUPT; bytes: -ENOBUFS (*len = the length needed). Never
 *   waits for items.
 */
SHMDS_API int shmds_stack_peek_int(shmds_stack_t *s, int64_t *out);
SHMDS_API int shmds_stack_peek_uint(shmds_stack_t *s, uint64_t *out);
SHMDS_API int shmds_stack_peek_f64(shmds_stack_t *s, double *out);
SHMDS_API int shmds_stack_peek_bytes(shmds_stack_t *s, void *buf, size_t buf_size, size_t *len);

/**
 * Push values[0..n) in order (values[n-1] ends on top). While full it waits for room
 * per timeout_ns and carries on; *pushed (required) tells how many went in. Wakes as
 * many poppers as items went in.
 * @return 0 when all n went in; -EAGAIN (NOWAIT) or -ETIMEDOUT when it stayed full
 *   (a partial push: *pushed < n); -ERANGE / -E2BIG if any value does not fit (nothing
 *   pushed); -EINVAL; SHMDS_EVARIANT.
 */
SHMDS_API int shmds_stack_push_multi_int(shmds_stack_t *s, const int64_t *values, size_t n,
                                         size_t *pushed, int64_t timeout_ns);
SHMDS_API int shmds_stack_push_multi_uint(shmds_stack_t *s, const uint64_t *values, size_t n,
                                          size_t *pushed, int64_t timeout_ns);
SHMDS_API int shmds_stack_push_multi_f64(shmds_stack_t *s, const double *values, size_t n,
                                         size_t *pushed, int64_t timeout_ns);
SHMDS_API int shmds_stack_push_multi_bytes(shmds_stack_t *s, const void *const *datas,
                                           const size_t *lens, size_t n, size_t *pushed,
                                           int64_t timeout_ns);

/**
 * Pop up to max items, top first. Waits per timeout_ns for the first item only, then
 * takes what else is there. Bytes items are packed back to back into buf with lens[i]
 * each; the batch stops at an item that would overflow buf.
 * @return 0 with *got in 1..max (0 when max is 0); -EAGAIN; -ETIMEDOUT; -ENOBUFS (bytes:
 *   not even the first fits: lens[0] = its length, nothing removed); -ERANGE (the
 *   first item does not fit out[] (see pop_int): nothing removed; a later one ends the
 *   batch with 0 and stays); -EINVAL; SHMDS_EVARIANT; SHMDS_ECORRUPT (*got counts the
 *   items delivered before it).
 */
SHMDS_API int shmds_stack_pop_multi_int(shmds_stack_t *s, int64_t *out, size_t max, size_t *got,
                                        int64_t timeout_ns);
SHMDS_API int shmds_stack_pop_multi_uint(shmds_stack_t *s, uint64_t *out, size_t max,
                                         size_t *got, int64_t timeout_ns);
SHMDS_API int shmds_stack_pop_multi_f64(shmds_stack_t *s, double *out, size_t max, size_t *got,
                                        int64_t timeout_ns);
SHMDS_API int shmds_stack_pop_multi_bytes(shmds_stack_t *s, void *buf, size_t buf_size,
                                          size_t *lens, size_t max, size_t *got,
                                          int64_t timeout_ns);

/** As pop_multi with SHMDS_NOWAIT, except that an empty stack is success with *got = 0. */
SHMDS_API int shmds_stack_drain_int(shmds_stack_t *s, int64_t *out, size_t max, size_t *got);
SHMDS_API int shmds_stack_drain_uint(shmds_stack_t *s, uint64_t *out, size_t max, size_t *got);
SHMDS_API int shmds_stack_drain_f64(shmds_stack_t *s, double *out, size_t max, size_t *got);
SHMDS_API int shmds_stack_drain_bytes(shmds_stack_t *s, void *buf, size_t buf_size, size_t *lens,
                                      size_t max, size_t *got);

/* ---------------------------------------------------------------- gauges */

/** Items held now (a snapshot, never above the capacity); 0 for NULL. Never blocks. */
SHMDS_API uint64_t shmds_stack_size(const shmds_stack_t *s);
/** Items the stack can hold; 0 for NULL. */
SHMDS_API uint64_t shmds_stack_capacity(const shmds_stack_t *s);
/** 1 if empty now, 0 if not, -EINVAL for NULL. */
SHMDS_API int shmds_stack_is_empty(const shmds_stack_t *s);
/** 1 if full now, 0 if not, -EINVAL for NULL. */
SHMDS_API int shmds_stack_is_full(const shmds_stack_t *s);

/**
 * Remove every item, under the lock: safe while others push and pop. Wakes blocked
 * pushers. @param removed optional: how many were removed.
 * @return 0; -EINVAL for NULL; SHMDS_ECORRUPT (damaged lock word). Waits for the lock.
 */
SHMDS_API int shmds_stack_clear(shmds_stack_t *s, uint64_t *removed);

/**
 * Fill *stats (set stats->struct_size first); writes only its first struct_size bytes.
 * Takes the lock briefly. @return 0; -EINVAL; SHMDS_ECORRUPT.
 */
SHMDS_API int shmds_stack_stats(shmds_stack_t *s, shmds_stack_stats_t *stats);

/* ------------------------------------------------- eventfd (common.h, "Eventfds") */

/** The handle's eventfd, created on first call and owned by the handle. fd or -errno. */
SHMDS_API int shmds_stack_eventfd(shmds_stack_t *s);
/** Use a duplicate of `fd` as this handle's eventfd (-1 detaches). 0; -EBADF; -EINVAL. */
SHMDS_API int shmds_stack_set_eventfd(shmds_stack_t *s, int fd);
/** Signal the eventfd (add 1). 0; -ENOENT if the handle has no eventfd; -EINVAL. */
SHMDS_API int shmds_stack_notify(shmds_stack_t *s);
/** Read and reset the eventfd counter into *count (optional). 0; -EAGAIN; -ENOENT;
 * -EINVAL. Never blocks. */
SHMDS_API int shmds_stack_eventfd_consume(shmds_stack_t *s, uint64_t *count);

#ifdef __cplusplus
}
#endif

#endif /* SHMDS_STACK_H */
