/*
 * libshmds queue: a bounded multi-producer multi-consumer FIFO in shared memory.
 *
 * Variants
 *   SHMDS_QUEUE_INT16, _INT32, _INT64: lock-free. Values cross the API as int64_t and
 *     are range-checked against the variant's width (-ERANGE).
 *   SHMDS_QUEUE_BYTES: variable-length byte strings (0 bytes allowed) in a circular
 *     arena, with a crash-recoverable lock per end: push (to the back) and pop (from the
 *     front) never wait for each other; push_front, pop_back, clear and stats take
 *     both locks. Also a deque: push_front and pop_back.
 * Capacity is rounded up to a power of two (1 becomes 2).
 *
 * Blocking: every verb with `timeout_ns` follows common.h (SHMDS_NOWAIT, SHMDS_FOREVER,
 * relative nanoseconds). Sleepers spin briefly, then sleep in the kernel (futex) using no
 * CPU. Pushing never signals the eventfd by itself; call shmds_queue_notify() (the
 * eventfd rule of the whole library is in common.h, "Eventfds").
 *
 * Crash behaviour: a process killed at any instruction never wedges the queue and never
 * duplicates an item. Integer variants have no lock and no claim window at all: an
 * item is published or taken by one atomic step, so only the dead process's own
 * in-flight call is lost. A bytes-variant lock is taken over by the next caller that
 * needs it when its holder dies (a caller already waiting checks on the holder every
 * 10 ms, so within about 9 ms; one recovery per lock in stats.recoveries); every change
 * commits with one store, so the queue holds either the old or the new state. Sleepers
 * killed while waiting are taken off the wait list later (also counted in recoveries).
 *
 * Thread safety: a handle may be shared by the threads of a process, and used in a
 * fork() child. shmds_queue_close() must not race other calls on the same handle.
 */
#ifndef SHMDS_QUEUE_H
#define SHMDS_QUEUE_H

#include <shmds/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque handle to a mapped queue. */
typedef struct shmds_queue shmds_queue_t;

/**
 * Queue variants: the element types of common.h's shmds_type_t (stored in the segment),
 * under the names the queue has always used: SHMDS_QUEUE_INT64 is SHMDS_TYPE_INT64.
 */
typedef shmds_type_t shmds_queue_variant_t;
#define SHMDS_QUEUE_ANY 0 /**< for shmds_queue_open(): accept whatever the segment holds */
#define SHMDS_QUEUE_INT16 SHMDS_TYPE_INT16
#define SHMDS_QUEUE_INT32 SHMDS_TYPE_INT32
#define SHMDS_QUEUE_INT64 SHMDS_TYPE_INT64
#define SHMDS_QUEUE_BYTES SHMDS_TYPE_BYTES

/** Geometry of a new queue. Initialise with SHMDS_QUEUE_CONFIG_INIT
 * or shmds_queue_config_init(). */
typedef struct shmds_queue_config {
    size_t struct_size;   /**< sizeof(shmds_queue_config_t) */
    int variant;          /**< a shmds_queue_variant_t other than ANY */
    uint64_t capacity;    /**< items (1 ..= 2^30; bytes: 2^26), rounded up to a power of 2 */
    uint64_t arena_bytes; /**< BYTES only: arena size; 0 = capacity * 256, at least 4096,
                               at most 4 GiB - 64. Each message takes its length rounded
                               up to 8 (at least 8) */
} shmds_queue_config_t;

#define SHMDS_QUEUE_CONFIG_INIT(variant, capacity) \
    { sizeof(shmds_queue_config_t), (variant), (uint64_t)(capacity), 0u }

/**
 * SHMDS_QUEUE_CONFIG_INIT(variant, capacity) as a function, for FFI:
 * shmds_queue_config_init(&cfg, sizeof cfg, ...)
 * (variant and capacity set, arena_bytes 0). See the *_init convention in common.h.
 * @return 0; -EINVAL (out is NULL, or struct_size below the first version's). Does
 *   not check the values: shmds_queue_create() does.
 */
SHMDS_API int shmds_queue_config_init(shmds_queue_config_t *out, size_t struct_size,
                                      int variant, uint64_t capacity);

/** Counters and gauges; approximate while other processes are operating. */
typedef struct shmds_queue_stats {
    size_t struct_size;        /**< set by the caller: sizeof(shmds_queue_stats_t) */
    uint64_t size;             /**< items held */
    uint64_t capacity;         /**< items the queue can hold */
    uint64_t push_ok;          /**< items pushed, ever */
    uint64_t pop_ok;           /**< items popped, ever (clear() is not counted) */
    uint64_t push_full;        /**< pushes that failed or timed out because it was full */
    uint64_t pop_empty;        /**< pops that failed or timed out because it was empty */
    uint64_t recoveries;       /**< dead lock holders and dead sleepers taken over */
    uint32_t push_waiters;     /**< producers asleep now */
    uint32_t pop_waiters;      /**< consumers asleep now */
    uint64_t arena_capacity;   /**< BYTES: arena size; else 0 */
    uint64_t arena_used;       /**< BYTES: arena bytes in use; else 0 */
    uint64_t segment_bytes;    /**< size of the whole mapping */
} shmds_queue_stats_t;

/* ------------------------------------------------------------- lifecycle */

/**
 * Create a queue, or attach to the existing one at the same path (its geometry wins;
 * its variant must equal cfg->variant).
 * @param opts  backing; NULL = anonymous (shared with fork() children only).
 * @param cfg   variant, capacity and arena; must not be NULL.
 * @param out   receives the handle; untouched on failure.
 * @return 0; -EINVAL (bad config or options: the sentence says which); -EEXIST (SHMDS_EXCL
 *   and the file exists); -ENOSPC (no room for the segment); -EACCES, -ELOOP (path is a
 *   symlink), other -errno from open/mmap/memfd_create; SHMDS_ETYPE (the existing segment
 *   is another structure or variant); SHMDS_EVERSION; SHMDS_ECORRUPT (existing file is not
 *   a valid segment; it is never overwritten unless it is an interrupted create of ours).
 * Blocks only while another process is initialising the same path.
 */
SHMDS_API int shmds_queue_create(const shmds_options_t *opts, const shmds_queue_config_t *cfg,
                                 shmds_queue_t **out);

/**
 * Attach to an existing queue (PATH or FD backing), reading its geometry from the
 * segment after validating all of it.
 * @param variant  the variant expected, or SHMDS_QUEUE_ANY.
 * @return 0; -ENOENT (no such file); -EINVAL (anonymous or memfd-by-name backing);
 *   SHMDS_ETYPE (another structure or variant); SHMDS_EVERSION; SHMDS_ECORRUPT (truncated,
 *   garbage, unfinished); other -errno.
 */
SHMDS_API int shmds_queue_open(const shmds_options_t *opts, int variant, shmds_queue_t **out);

/** Unmap and free the handle (NULL is allowed). The segment itself stays. */
SHMDS_API void shmds_queue_close(shmds_queue_t *q);

/** The queue's variant (a shmds_queue_variant_t), or -EINVAL for NULL. */
SHMDS_API int shmds_queue_variant(const shmds_queue_t *q);

/**
 * The descriptor behind the segment (file or memfd), owned by the handle: pass it with
 * shmds_send_fd(), do not close it. -ENOENT for anonymous queues, -EINVAL for NULL.
 */
SHMDS_API int shmds_queue_fd(const shmds_queue_t *q);

/** Flush a file-backed queue to its file (msync). 0 or -errno. */
SHMDS_API int shmds_queue_sync(const shmds_queue_t *q);

/* ---------------------------------------------------------- integer verbs */
/* On the BYTES variant these return SHMDS_EVARIANT. On a ring whose slots a peer
 * damaged, push, pop and their _multi and drain forms return SHMDS_ECORRUPT (push_multi
 * with *pushed counting what went in; a pop batch that already took items returns them
 * and reports the damage on the next call). */

/**
 * Append one value.
 * @return 0; -EAGAIN (NOWAIT and full); -ETIMEDOUT; -ERANGE (does not fit the variant);
 *   -EINVAL (NULL handle or bad timeout); SHMDS_EVARIANT. Blocks while full, per timeout.
 */
SHMDS_API int shmds_queue_push_int(shmds_queue_t *q, int64_t value, int64_t timeout_ns);

/**
 * Remove the oldest value into *out.
 * @return 0; -EAGAIN (NOWAIT and empty); -ETIMEDOUT; -EINVAL; SHMDS_EVARIANT.
 *   Blocks while empty, per timeout.
 */
SHMDS_API int shmds_queue_pop_int(shmds_queue_t *q, int64_t *out, int64_t timeout_ns);

/**
 * Append values[0..n) in order. While the queue is full it waits for room per
 * timeout_ns and carries on. *pushed (required) tells how many went in.
 * @return 0 when all n were pushed; -EAGAIN (NOWAIT) or -ETIMEDOUT when the queue stayed
 *   full: *pushed < n are in (a partial push); -ERANGE if any value does not fit (then
 *   nothing is pushed); -EINVAL; SHMDS_EVARIANT.
 */
SHMDS_API int shmds_queue_push_multi_int(shmds_queue_t *q, const int64_t *values, size_t n,
                                         size_t *pushed, int64_t timeout_ns);

/**
 * Remove up to max oldest values into out[]. Waits per timeout_ns for the first one
 * only, then takes whatever else is there without waiting.
 * @return 0 with *got in 1..max (or 0 when max is 0); -EAGAIN (NOWAIT and empty);
 *   -ETIMEDOUT; -EINVAL; SHMDS_EVARIANT.
 */
SHMDS_API int shmds_queue_pop_multi_int(shmds_queue_t *q, int64_t *out, size_t max,
                                        size_t *got, int64_t timeout_ns);

/**
 * Take everything there is, up to max, without waiting.
 * @return 0 with *got in 0..max; -EINVAL; SHMDS_EVARIANT. Never blocks.
 */
SHMDS_API int shmds_queue_drain_int(shmds_queue_t *q, int64_t *out, size_t max, size_t *got);

/**
 * Read the oldest value without removing it (a snapshot: another consumer may take it).
 * @return 0; -EAGAIN if empty; -EINVAL; SHMDS_EVARIANT. Never blocks.
 */
SHMDS_API int shmds_queue_peek_int(const shmds_queue_t *q, int64_t *out);

/* ------------------------------------------------------------ bytes verbs */
/* On the integer variants these return SHMDS_EVARIANT. */

/**
 * Append one message of len bytes (data may be NULL when len is 0).
 * @return 0; -EAGAIN (NOWAIT and no room in the ring or the arena); -ETIMEDOUT;
 *   -E2BIG (larger than the whole arena: it can never fit); -EINVAL; SHMDS_EVARIANT;
 *   SHMDS_ECORRUPT (shared state damaged by a peer). Blocks while full, per timeout.
 */
SHMDS_API int shmds_queue_push_bytes(shmds_queue_t *q, const void *data, size_t len,
                                     int64_t timeout_ns);

/** As shmds_queue_push_bytes(), but at the front: the next pop returns this message. */
SHMDS_API int shmds_queue_push_front_bytes(shmds_queue_t *q, const void *data, size_t len,
                                           int64_t timeout_ns);

/**
 * Remove the oldest message into buf[0..buf_size); *len (required) gets its length.
 * @return 0; -ENOBUFS (buf too small: *len is the length needed, nothing is removed);
 *   -EAGAIN (NOWAIT and empty); -ETIMEDOUT; -EINVAL; SHMDS_EVARIANT; SHMDS_ECORRUPT.
 *   Blocks while empty, per timeout.
 */
SHMDS_API int shmds_queue_pop_bytes(shmds_queue_t *q, void *buf, size_t buf_size, size_t *len,
                                    int64_t timeout_ns);

/** As shmds_queue_pop_bytes(), but removes the newest message (deque use). */
SHMDS_API int shmds_queue_pop_back_bytes(shmds_queue_t *q, void *buf, size_t buf_size,
                                         size_t *len, int64_t timeout_ns);

/**
 * Copy the oldest message without removing it. Same buffer rules as pop.
 * @return 0; -ENOBUFS (*len = needed); -EAGAIN if empty; -EINVAL; SHMDS_EVARIANT.
 *   Takes the front lock briefly; never waits for items.
 */
SHMDS_API int shmds_queue_peek_bytes(shmds_queue_t *q, void *buf, size_t buf_size,
                                     size_t *len);

/**
 * Append n messages (datas[i], lens[i]) in order, under one hold of the back lock per
 * batch that fits. While full it waits for room per timeout_ns and carries on. *pushed
 * tells how many went in.
 * @return 0 when all n went in; -EAGAIN or -ETIMEDOUT when it stayed full (partial);
 *   -E2BIG when message *pushed can never fit (the ones before it are in); -EINVAL;
 *   SHMDS_EVARIANT; SHMDS_ECORRUPT.
 */
SHMDS_API int shmds_queue_push_multi_bytes(shmds_queue_t *q, const void *const *datas,
                                           const size_t *lens, size_t n, size_t *pushed,
                                           int64_t timeout_ns);

/**
 * Remove up to max oldest messages, packed back to back into buf; lens[i] gets the
 * length of message i. Stops early at a message that would overflow buf. Waits per
 * timeout_ns for the first message only.
 * @return 0 with *got >= 1; -ENOBUFS (not even the first fits: lens[0] = its length,
 *   nothing removed); -EAGAIN; -ETIMEDOUT; -EINVAL; SHMDS_EVARIANT; SHMDS_ECORRUPT.
 */
SHMDS_API int shmds_queue_pop_multi_bytes(shmds_queue_t *q, void *buf, size_t buf_size,
                                          size_t *lens, size_t max, size_t *got,
                                          int64_t timeout_ns);

/**
 * As shmds_queue_pop_multi_bytes() with SHMDS_NOWAIT, except that an empty queue is
 * success with *got = 0. Never waits for items.
 */
SHMDS_API int shmds_queue_drain_bytes(shmds_queue_t *q, void *buf, size_t buf_size,
                                      size_t *lens, size_t max, size_t *got);

/* ---------------------------------------------------------------- gauges */

/** Items held now (a snapshot); 0 for NULL. Never blocks. */
SHMDS_API uint64_t shmds_queue_size(const shmds_queue_t *q);
/** Items the queue can hold; 0 for NULL. */
SHMDS_API uint64_t shmds_queue_capacity(const shmds_queue_t *q);
/** 1 if empty now, 0 if not, -EINVAL for NULL. */
SHMDS_API int shmds_queue_is_empty(const shmds_queue_t *q);
/** 1 if full now, 0 if not, -EINVAL for NULL. */
SHMDS_API int shmds_queue_is_full(const shmds_queue_t *q);

/**
 * Remove every item present now. Safe while others push and pop (items pushed during
 * the call may remain). Wakes blocked producers.
 * @param removed  optional: how many items were removed.
 * @return 0; -EINVAL for NULL. BYTES: takes both locks (may wait for them); it also
 *   restores a queue whose shared state a peer damaged to a working, empty one.
 */
SHMDS_API int shmds_queue_clear(shmds_queue_t *q, uint64_t *removed);

/**
 * Fill *stats (set stats->struct_size first); writes only its first struct_size bytes
 * (see "Versioned structs" in common.h).
 * @return 0; -EINVAL (NULL, or struct_size smaller than the first version's);
 *   SHMDS_ECORRUPT (BYTES: shared state damaged by a peer). BYTES takes both locks briefly.
 */
SHMDS_API int shmds_queue_stats(shmds_queue_t *q, shmds_queue_stats_t *stats);

/* ------------------------------------------------- eventfd (common.h, "Eventfds") */

/**
 * The handle's eventfd for epoll, created on first call (non-blocking, close-on-exec)
 * and owned by the handle. Share it across fork() or with shmds_send_fd() and attach
 * it on the other side with shmds_queue_set_eventfd().
 * @return the fd (>= 0), or -errno (-EMFILE...).
 */
SHMDS_API int shmds_queue_eventfd(shmds_queue_t *q);

/**
 * Use a duplicate of `fd` (an eventfd) as this handle's eventfd; the caller keeps its
 * own fd. -1 detaches. Setting the fd the handle already uses is a no-op.
 * @return 0; -EBADF; -EINVAL.
 */
SHMDS_API int shmds_queue_set_eventfd(shmds_queue_t *q, int fd);

/** Signal the eventfd (add 1). 0; -ENOENT if the handle has no eventfd; -EINVAL. */
SHMDS_API int shmds_queue_notify(shmds_queue_t *q);

/**
 * Read and reset the eventfd counter into *count (optional).
 * @return 0; -EAGAIN if nothing is pending; -ENOENT if no eventfd; -EINVAL. Never blocks.
 */
SHMDS_API int shmds_queue_eventfd_consume(shmds_queue_t *q, uint64_t *count);

#ifdef __cplusplus
}
#endif

#endif /* SHMDS_QUEUE_H */
