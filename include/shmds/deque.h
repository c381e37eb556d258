/*
 * libshmds deque: a bounded double-ended queue in shared memory, for any number of
 * processes pushing and popping at either end.
 *
 * Elements: one type chosen at creation from common.h's shmds_type_t: SHMDS_TYPE_INT8 ..
 * _INT64, _UINT8 .. _UINT64 (the _int and _uint verbs, both on any integer type: the
 * _int verbs take and give int64_t, the _uint verbs uint64_t; the type only decides the
 * range, checked both ways: -ERANGE, never truncated), SHMDS_TYPE_F32 or _F64 (the _f64
 * verbs; an f32 refuses a finite double out of its range with -ERANGE), or
 * SHMDS_TYPE_BYTES with a fixed maximum length chosen at creation (the _bytes verbs; a
 * longer item is refused with -E2BIG, never truncated; 0-byte items and any byte values,
 * NUL and 0xFF included, are kept exactly).
 * Capacity is exactly what was asked (1 ..= 2^31), not rounded.
 *
 * Crash model: one crash-recoverable internal lock guards the ring and its two
 * counters. Every change writes its slot first and commits with one store of a counter
 * last, so a process killed at any instruction leaves the old state or the new one:
 * only its own in-flight call is lost (an item it was pushing, or the item it was
 * popping when killed after the commit), nothing is duplicated, and no torn item is
 * ever delivered. The next caller takes the lock over: a caller already waiting checks
 * on the holder after 1 ms and then every 8 ms, so the deque moves again within about
 * 10 ms of the holder's death (the reference design needed a 2 s stuck-slot timeout).
 * The takeover validates the counters (head <= tail <= head + capacity); counters a
 * peer scribbled are never trusted: the deque is emptied and the repair counted in
 * stats.recoveries, as are takeovers and dead sleepers. A bytes slot whose stored length
 * exceeds max_len is removed and reported as SHMDS_ECORRUPT.
 *
 * Blocking: every verb with `timeout_ns` follows common.h (SHMDS_NOWAIT, SHMDS_FOREVER,
 * relative nanoseconds). SHMDS_NOWAIT never waits for items or room, but may wait up to
 * 3 ms for the internal lock, which a live holder keeps for one batch copy (then
 * -EAGAIN, as for full or empty).
 * Sleepers spin briefly, then sleep in the kernel (futex); a waker killed between its
 * commit and its wake costs a sleeper at most 100 ms. Pushing never signals the eventfd by itself
 * (common.h, "Eventfds").
 *
 * Ends: `end` is SHMDS_DEQUE_FRONT or SHMDS_DEQUE_BACK. push at BACK + pop at FRONT is
 * FIFO; push and pop at the same end is LIFO (the stack, shmds/stack.h, is this engine
 * used at BACK only, as its own structure type).
 *
 * Thread safety: a handle may be shared by the threads of a process, and used in a
 * fork() child. shmds_deque_close() must not race other calls on the same handle.
 */
#ifndef SHMDS_DEQUE_H
#define SHMDS_DEQUE_H

#include <shmds/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque handle to a mapped deque. */
typedef struct shmds_deque shmds_deque_t;

/** Which end a verb works at. */
typedef enum shmds_deque_end { SHMDS_DEQUE_FRONT = 0, SHMDS_DEQUE_BACK = 1 } shmds_deque_end_t;

/** For shmds_deque_open(): accept whatever element type the segment holds. */
#define SHMDS_DEQUE_ANY 0

/** Geometry of a new deque. Initialise with SHMDS_DEQUE_CONFIG_INIT or
 * shmds_deque_config_init(). */
typedef struct shmds_deque_config {
    size_t struct_size; /**< sizeof(shmds_deque_config_t) */
    int type;           /**< a shmds_type_t */
    uint64_t capacity;  /**< items, 1 ..= 2^31 (not rounded) */
    uint64_t max_len;   /**< BYTES only (then required): the longest item, 1 ..= 2^20;
                             every slot takes 4 + max_len bytes. 0 for other types */
} shmds_deque_config_t;

#define SHMDS_DEQUE_CONFIG_INIT(type, capacity) \
    { sizeof(shmds_deque_config_t), (type), (uint64_t)(capacity), 0u }

/**
 * SHMDS_DEQUE_CONFIG_INIT(type, capacity) as a function, for FFI (max_len 0).
 * @return 0; -EINVAL (out is NULL, or struct_size below the first version's). Does not
 *   check the values: shmds_deque_create() does.
 */
SHMDS_API int shmds_deque_config_init(shmds_deque_config_t *out, size_t struct_size, int type,
                                      uint64_t capacity);

/** Counters and gauges; approximate while other processes are operating. */
typedef struct shmds_deque_stats {
    size_t struct_size;     /**< set by the caller: sizeof(shmds_deque_stats_t) */
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
} shmds_deque_stats_t;

/* ------------------------------------------------------------- lifecycle */

/**
 * Create a deque, or attach to the existing one at the same path (its geometry wins; its
 * element type must equal cfg->type).
 * @param opts  backing; NULL = anonymous (shared with fork() children only).
 * @param cfg   type, capacity, max_len; must not be NULL.
 * @param out   receives the handle; untouched on failure.
 * @return 0; -EINVAL (bad config or options: the sentence says which); -EEXIST
 *   (SHMDS_EXCL and the file exists); -ENOSPC; -EACCES, -ELOOP, other -errno from
 *   open/mmap/memfd_create; SHMDS_ETYPE (the segment is another structure, a stack
 *   included, or another element type); SHMDS_EVERSION; SHMDS_ECORRUPT (not a valid
 *   segment; never overwritten unless it is an interrupted create of ours).
 * Blocks only while another process is initialising the same path.
 */
SHMDS_API int shmds_deque_create(const shmds_options_t *opts, const shmds_deque_config_t *cfg,
                                 shmds_deque_t **out);

/**
 * Attach to an existing deque (PATH or FD backing), validating its geometry.
 * @param type  the element type expected, or SHMDS_DEQUE_ANY.
 * @return 0; -ENOENT; -EINVAL (anonymous or memfd-by-name backing, unknown type);
 *   SHMDS_ETYPE; SHMDS_EVERSION; SHMDS_ECORRUPT; other -errno.
 */
SHMDS_API int shmds_deque_open(const shmds_options_t *opts, int type, shmds_deque_t **out);

/** Unmap and free the handle (NULL is allowed). The segment itself stays. */
SHMDS_API void shmds_deque_close(shmds_deque_t *d);

/** The element type (a shmds_type_t), or -EINVAL for NULL. */
SHMDS_API int shmds_deque_type(const shmds_deque_t *d);

/**
 * The descriptor behind the segment (file or memfd), owned by the handle: pass it with
 * shmds_send_fd(), do not close it. -ENOENT for anonymous deques, -EINVAL for NULL.
 */
SHMDS_API int shmds_deque_fd(const shmds_deque_t *d);

/** Flush a file-backed deque to its file (msync). 0 or -errno. */
SHMDS_API int shmds_deque_sync(const shmds_deque_t *d);

/* ------------------------------------------------------------------ verbs
 * Every verb comes in four forms: _int and _uint (integer types), _f64 (F32, F64) and
 * _bytes.
 * A form that does not match the element type returns SHMDS_EVARIANT. Every verb
 * returns -EINVAL for a NULL handle or required pointer, an `end` that is neither
 * FRONT nor BACK, or a timeout below -1; and SHMDS_ECORRUPT when a peer damaged the
 * item it met (that item is removed, counted in recoveries, and the call reports it).
 */

/**
 * Push one value at `end`.
 * @return 0; -EAGAIN (NOWAIT and full); -ETIMEDOUT (full until the deadline, or the
 *   internal lock held by a live process until then); -ERANGE (does not fit the type:
 *   _int a negative value into an unsigned type, _uint a value above INT64_MAX into a
 *   signed type, either a value out of a narrower type's range; nothing pushed);
 *   -EINVAL; SHMDS_EVARIANT. Blocks while full, per timeout_ns.
 */
SHMDS_API int shmds_deque_push_int(shmds_deque_t *d, int end, int64_t value, int64_t timeout_ns);
SHMDS_API int shmds_deque_push_uint(shmds_deque_t *d, int end, uint64_t value,
                                    int64_t timeout_ns);
SHMDS_API int shmds_deque_push_f64(shmds_deque_t *d, int end, double value, int64_t timeout_ns);
/** As push_int, for a BYTES deque: len bytes at data (data may be NULL when len is 0).
 * -E2BIG when len exceeds max_len (nothing pushed). */
SHMDS_API int shmds_deque_push_bytes(shmds_deque_t *d, int end, const void *data, size_t len,
                                     int64_t timeout_ns);

/**
 * Pop the item at `end` into *out.
 * @return 0; -EAGAIN (NOWAIT and empty); -ETIMEDOUT; -ERANGE (the item does not fit
 *   *out: _int a UINT64 value above INT64_MAX, _uint a negative value; the item stays,
 *   read it with the other form); -EINVAL; SHMDS_EVARIANT; SHMDS_ECORRUPT. Blocks while
 *   empty, per timeout_ns.
 */
SHMDS_API int shmds_deque_pop_int(shmds_deque_t *d, int end, int64_t *out, int64_t timeout_ns);
SHMDS_API int shmds_deque_pop_uint(shmds_deque_t *d, int end, uint64_t *out,
                                   int64_t timeout_ns);
SHMDS_API int shmds_deque_pop_f64(shmds_deque_t *d, int end, double *out, int64_t timeout_ns);
/** As pop_int, for a BYTES deque: the item goes to buf[0..buf_size) and *len (required)
 * gets its length. -ENOBUFS when it does not fit (*len = the length needed; the item
 * stays). buf may be NULL when buf_size is 0. */
SHMDS_API int shmds_deque_pop_bytes(shmds_deque_t *d, int end, void *buf, size_t buf_size,
                                    size_t *len, int64_t timeout_ns);

/**
 * Read the item at `end` without removing it (a snapshot: another process may take it).
 * @return 0; -EAGAIN (empty); -ERANGE (as pop: the item does not fit *out); -EINVAL;
 *   SHMDS_EVARIANT; SHMDS_ECORRUPT; bytes: -ENOBUFS (*len = the length needed). Takes
 *   the lock briefly; never waits for items.
 */
SHMDS_API int shmds_deque_peek_int(shmds_deque_t *d, int end, int64_t *out);
SHMDS_API int shmds_deque_peek_uint(shmds_deque_t *d, int end, uint64_t *out);
SHMDS_API int shmds_deque_peek_f64(shmds_deque_t *d, int end, double *out);
SHMDS_API int shmds_deque_peek_bytes(shmds_deque_t *d, int end, void *buf, size_t buf_size,
                                     size_t *len);

/**
 * Push values[0..n) at `end`, one after the other (at FRONT, values[n-1] ends up in
 * front). While full it waits for room per timeout_ns and carries on; *pushed
 * (required) tells how many went in. Wakes as many poppers as items went in.
 * @return 0 when all n went in; -EAGAIN (NOWAIT) or -ETIMEDOUT when it stayed full
 *   (*pushed < n went in: a partial push); -ERANGE / -E2BIG if any value does not fit
 *   (then nothing is pushed); -EINVAL; SHMDS_EVARIANT.
 */
SHMDS_API int shmds_deque_push_multi_int(shmds_deque_t *d, int end, const int64_t *values,
                                         size_t n, size_t *pushed, int64_t timeout_ns);
SHMDS_API int shmds_deque_push_multi_uint(shmds_deque_t *d, int end, const uint64_t *values,
                                          size_t n, size_t *pushed, int64_t timeout_ns);
SHMDS_API int shmds_deque_push_multi_f64(shmds_deque_t *d, int end, const double *values,
                                         size_t n, size_t *pushed, int64_t timeout_ns);
/** datas[i] (NULL allowed when lens[i] is 0) and lens[i] for each item. */
SHMDS_API int shmds_deque_push_multi_bytes(shmds_deque_t *d, int end, const void *const *datas,
                                           const size_t *lens, size_t n, size_t *pushed,
                                           int64_t timeout_ns);

/**
 * Pop up to max items from `end` into out[] in the order they come off. Waits per
 * timeout_ns for the first item only, then takes what else is there without waiting.
 * Bytes items are packed back to back into buf with lens[i] each; the batch stops at an
 * item that would overflow buf.
 * @return 0 with *got in 1..max (0 when max is 0); -EAGAIN (NOWAIT and empty);
 *   -ETIMEDOUT; -ENOBUFS (bytes: not even the first fits: lens[0] = its length, nothing
 *   removed); -ERANGE (the first item does not fit out[] (see pop_int): nothing removed;
 *   a later one ends the batch with 0 and stays); -EINVAL; SHMDS_EVARIANT;
 *   SHMDS_ECORRUPT (items before the damaged one are delivered: *got counts them).
 */
SHMDS_API int shmds_deque_pop_multi_int(shmds_deque_t *d, int end, int64_t *out, size_t max,
                                        size_t *got, int64_t timeout_ns);
SHMDS_API int shmds_deque_pop_multi_uint(shmds_deque_t *d, int end, uint64_t *out, size_t max,
                                         size_t *got, int64_t timeout_ns);
SHMDS_API int shmds_deque_pop_multi_f64(shmds_deque_t *d, int end, double *out, size_t max,
                                        size_t *got, int64_t timeout_ns);
SHMDS_API int shmds_deque_pop_multi_bytes(shmds_deque_t *d, int end, void *buf,
                                          size_t buf_size, size_t *lens, size_t max,
                                          size_t *got, int64_t timeout_ns);

/**
 * As pop_multi with SHMDS_NOWAIT, except that an empty deque is success with *got = 0.
 * Never waits for items.
 */
SHMDS_API int shmds_deque_drain_int(shmds_deque_t *d, int end, int64_t *out, size_t max,
                                    size_t *got);
SHMDS_API int shmds_deque_drain_uint(shmds_deque_t *d, int end, uint64_t *out, size_t max,
                                     size_t *got);
SHMDS_API int shmds_deque_drain_f64(shmds_deque_t *d, int end, double *out, size_t max,
                                    size_t *got);
SHMDS_API int shmds_deque_drain_bytes(shmds_deque_t *d, int end, void *buf, size_t buf_size,
                                      size_t *lens, size_t max, size_t *got);

/* ---------------------------------------------------------------- gauges */

/** Items held now (a snapshot, never above the capacity); 0 for NULL. Never blocks. */
SHMDS_API uint64_t shmds_deque_size(const shmds_deque_t *d);
/** Items the deque can hold; 0 for NULL. */
SHMDS_API uint64_t shmds_deque_capacity(const shmds_deque_t *d);
/** 1 if empty now, 0 if not, -EINVAL for NULL. */
SHMDS_API int shmds_deque_is_empty(const shmds_deque_t *d);
/** 1 if full now, 0 if not, -EINVAL for NULL. */
SHMDS_API int shmds_deque_is_full(const shmds_deque_t *d);

/**
 * Remove every item, under the lock: safe while others push and pop (each of their
 * calls lands wholly before or after it). Wakes blocked pushers.
 * @param removed  optional: how many items were removed.
 * @return 0; -EINVAL for NULL; SHMDS_ECORRUPT (the lock word is damaged). Waits for the
 *   lock (a dead holder is taken over).
 */
SHMDS_API int shmds_deque_clear(shmds_deque_t *d, uint64_t *removed);

/**
 * Fill *stats (set stats->struct_size first); writes only its first struct_size bytes
 * (see "Versioned structs" in common.h). Takes the lock briefly.
 * @return 0; -EINVAL (NULL, or struct_size below the first version's); SHMDS_ECORRUPT.
 */
SHMDS_API int shmds_deque_stats(shmds_deque_t *d, shmds_deque_stats_t *stats);

/* ------------------------------------------------- eventfd (common.h, "Eventfds") */

/**
 * The handle's eventfd for epoll, created on first call (non-blocking, close-on-exec)
 * and owned by the handle. @return the fd (>= 0), or -errno.
 */
SHMDS_API int shmds_deque_eventfd(shmds_deque_t *d);
/** Use a duplicate of `fd` as this handle's eventfd (-1 detaches); the caller keeps its
 * fd. Setting the fd already in use is a no-op. @return 0; -EBADF; -EINVAL. */
SHMDS_API int shmds_deque_set_eventfd(shmds_deque_t *d, int fd);
/** Signal the eventfd (add 1). 0; -ENOENT if the handle has no eventfd; -EINVAL. */
SHMDS_API int shmds_deque_notify(shmds_deque_t *d);
/** Read and reset the eventfd counter into *count (optional). 0; -EAGAIN (nothing
 * pending); -ENOENT (no eventfd); -EINVAL. Never blocks. */
SHMDS_API int shmds_deque_eventfd_consume(shmds_deque_t *d, uint64_t *count);

#ifdef __cplusplus
}
#endif

#endif /* SHMDS_DEQUE_H */
