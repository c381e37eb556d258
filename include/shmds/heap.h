/*
 * libshmds heap: a bounded priority queue in shared memory, for any number of processes
 * pushing and popping (issue 14).
 *
 * Items: an int64_t priority with a value, the value an int64_t (SHMDS_TYPE_INT64, the
 * _int verbs) or bytes up to a fixed maximum length chosen at creation
 * (SHMDS_TYPE_BYTES, the _bytes verbs; a longer value is refused with -E2BIG, never
 * truncated; 0-byte values and any byte values, NUL and 0xFF included, are kept
 * exactly). Capacity is exactly what was asked (1 ..= 2^31).
 *
 * Order: pop and peek give the item with the LOWEST priority (a min-heap), or the
 * HIGHEST with SHMDS_HEAP_MAX at creation. Ties are FIFO: among equal priorities the
 * item pushed first leaves first (a 64-bit push counter breaks ties; the reference
 * design left this unspecified). A batch push counts as its items in array order.
 *
 * Crash model: one crash-recoverable internal lock guards the array heap. A push or pop
 * moves one entry through a "hole" under a journal in shared memory (a push whose item
 * belongs at the end instead writes it past the heap and commits with one store of the
 * size), so at every instruction the heap's contents are exactly known: a process
 * killed at any point loses only its own in-flight call (an item it was pushing, or the
 * item it was popping when killed after its commit), never duplicates an item, and
 * never leaves a heap that violates the heap property. The next caller takes the lock
 * over (a caller already waiting checks on the holder after 1 ms and then every 8 ms,
 * so the heap moves again within about 10 ms of the death), puts the journal's entry
 * in place and re-heapifies: O(size) comparisons, a few milliseconds for a million
 * entries (the reference design documents a half-sifted heap after recovery). A
 * control block that breaks an invariant (a size over the capacity, a journal out of
 * bounds) is never trusted: the heap is emptied. Takeovers, repairs and dead sleepers
 * are counted in stats.recoveries. A bytes entry whose stored length exceeds max_len is
 * removed and reported as SHMDS_ECORRUPT.
 *
 * Blocking: every verb with `timeout_ns` follows common.h (SHMDS_NOWAIT, SHMDS_FOREVER,
 * relative nanoseconds). Pops block while the heap is empty, pushes while it is full.
 * SHMDS_NOWAIT never waits for items or room, but may wait up to 3 ms for the internal
 * lock, which a live holder keeps for one batch (then -EAGAIN, as for full or empty).
 * Sleepers spin briefly, then sleep in the kernel (futex); a waker killed between its
 * commit and its wake costs a sleeper at most 100 ms. Pushing never signals the eventfd
 * by itself (common.h, "Eventfds").
 *
 * Thread safety: a handle may be shared by the threads of a process, and used in a
 * fork() child. shmds_heap_close() must not race other calls on the same handle.
 */
#ifndef SHMDS_HEAP_H
#define SHMDS_HEAP_H

#include <shmds/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque handle to a mapped heap. */
typedef struct shmds_heap shmds_heap_t;

/** For shmds_heap_open(): accept whatever value type the segment holds. */
#define SHMDS_HEAP_ANY 0

/** Creation flag: a max-heap (the highest priority leaves first; ties stay FIFO). */
#define SHMDS_HEAP_MAX ((uint64_t)1)

/** Geometry of a new heap. Initialise with SHMDS_HEAP_CONFIG_INIT or
 * shmds_heap_config_init(). */
typedef struct shmds_heap_config {
    size_t struct_size; /**< sizeof(shmds_heap_config_t) */
    int type;           /**< SHMDS_TYPE_INT64 or SHMDS_TYPE_BYTES: the value's type */
    uint64_t capacity;  /**< items, 1 ..= 2^31 (not rounded) */
    uint64_t max_len;   /**< BYTES only (then required): the longest value, 1 ..= 2^20;
                             every entry takes 20 + max_len bytes, rounded up to 8
                             (INT64: 24 bytes), for capacity + 1 entries (one is the
                             sift's moving entry). 0 for INT64 */
    uint64_t flags;     /**< 0 or SHMDS_HEAP_MAX */
} shmds_heap_config_t;

#define SHMDS_HEAP_CONFIG_INIT(type, capacity) \
    { sizeof(shmds_heap_config_t), (type), (uint64_t)(capacity), 0u, 0u }

/**
 * SHMDS_HEAP_CONFIG_INIT(type, capacity) as a function, for FFI (max_len and flags 0).
 * @return 0; -EINVAL (out is NULL, or struct_size below the first version's). Does not
 *   check the values: shmds_heap_create() does.
 */
SHMDS_API int shmds_heap_config_init(shmds_heap_config_t *out, size_t struct_size, int type,
                                     uint64_t capacity);

/** Counters and gauges; approximate while other processes are operating. */
typedef struct shmds_heap_stats {
    size_t struct_size;     /**< set by the caller: sizeof(shmds_heap_stats_t) */
    uint64_t size;          /**< items held */
    uint64_t capacity;      /**< items it can hold */
    uint64_t max_len;       /**< BYTES: the longest value; else 0 */
    uint64_t flags;         /**< the creation flags (SHMDS_HEAP_MAX) */
    uint64_t push_ok;       /**< items pushed, ever */
    uint64_t pop_ok;        /**< items popped, ever (clear() is not counted) */
    uint64_t push_full;     /**< push calls refused or timed out because it was full */
    uint64_t pop_empty;     /**< pop calls refused or timed out because it was empty */
    uint64_t cleared;       /**< items removed by clear() */
    uint64_t recoveries;    /**< dead lock holders taken over, repairs, dead sleepers */
    uint32_t push_waiters;  /**< pushers asleep now */
    uint32_t pop_waiters;   /**< poppers asleep now */
    uint64_t segment_bytes; /**< size of the whole mapping */
} shmds_heap_stats_t;

/* ------------------------------------------------------------- lifecycle */

/**
 * Create a heap, or attach to the existing one at the same path (its geometry and flags
 * win; its value type must equal cfg->type).
 * @param opts  backing; NULL = anonymous (shared with fork() children only).
 * @param cfg   type, capacity, max_len, flags; must not be NULL.
 * @param out   receives the handle; untouched on failure.
 * @return 0; -EINVAL (bad config or options, a type other than INT64 or BYTES, unknown
 *   flags: the sentence says which); -EEXIST (SHMDS_EXCL and the file exists); -ENOSPC;
 *   -EACCES, -ELOOP, other -errno from open/mmap/memfd_create; SHMDS_ETYPE (the segment
 *   is another structure or another value type); SHMDS_EVERSION; SHMDS_ECORRUPT (not a
 *   valid segment; never overwritten unless it is an interrupted create of ours).
 * Blocks only while another process is initialising the same path.
 */
SHMDS_API int shmds_heap_create(const shmds_options_t *opts, const shmds_heap_config_t *cfg,
                                shmds_heap_t **out);

/**
 * Attach to an existing heap (PATH or FD backing), validating its geometry.
 * @param type  SHMDS_TYPE_INT64, SHMDS_TYPE_BYTES, or SHMDS_HEAP_ANY.
 * @return 0; -ENOENT; -EINVAL (anonymous or memfd-by-name backing, another type);
 *   SHMDS_ETYPE; SHMDS_EVERSION; SHMDS_ECORRUPT; other -errno.
 */
SHMDS_API int shmds_heap_open(const shmds_options_t *opts, int type, shmds_heap_t **out);

/** Unmap and free the handle (NULL is allowed). The segment itself stays. */
SHMDS_API void shmds_heap_close(shmds_heap_t *h);

/** The value type (SHMDS_TYPE_INT64 or SHMDS_TYPE_BYTES), or -EINVAL for NULL. */
SHMDS_API int shmds_heap_type(const shmds_heap_t *h);

/** 1 for a max-heap (created with SHMDS_HEAP_MAX), 0 for a min-heap, -EINVAL for NULL. */
SHMDS_API int shmds_heap_is_max(const shmds_heap_t *h);

/**
 * The descriptor behind the segment (file or memfd), owned by the handle: pass it with
 * shmds_send_fd(), do not close it. -ENOENT for anonymous heaps, -EINVAL for NULL.
 */
SHMDS_API int shmds_heap_fd(const shmds_heap_t *h);

/** Flush a file-backed heap to its file (msync). 0 or -errno. */
SHMDS_API int shmds_heap_sync(const shmds_heap_t *h);

/** Dead lock holders taken over, repairs and dead sleepers, ever; 0 for NULL. */
SHMDS_API uint64_t shmds_heap_recoveries(const shmds_heap_t *h);

/* ------------------------------------------------------------------ verbs
 * Every verb returns SHMDS_EVARIANT when called on a heap of the other value type
 * (an _int verb on a BYTES heap or a _bytes verb on an INT64 heap), -EINVAL for a NULL
 * handle or a required NULL pointer, and -EINVAL for a timeout below SHMDS_FOREVER. */

/**
 * Push (priority, value) into an INT64 heap, waiting for room per timeout_ns.
 * @return 0; -EAGAIN (full, SHMDS_NOWAIT); -ETIMEDOUT (still full at the deadline);
 *   SHMDS_EVARIANT; -EINVAL; SHMDS_ECORRUPT (the lock word is damaged).
 * Crash: killed inside, the item is in or not; nothing else changes.
 */
SHMDS_API int shmds_heap_push_int(shmds_heap_t *h, int64_t priority, int64_t value,
                                  int64_t timeout_ns);

/**
 * Pop the first item (lowest priority; highest for a max-heap; FIFO among equals),
 * waiting while the heap is empty per timeout_ns.
 * @param priority  optional (may be NULL): receives the item's priority.
 * @param value     receives the value; must not be NULL.
 * @return 0; -EAGAIN (empty, SHMDS_NOWAIT); -ETIMEDOUT; SHMDS_EVARIANT; -EINVAL;
 *   SHMDS_ECORRUPT. Crash: killed inside, the item is out (lost with the caller) or
 *   still in; never both.
 */
SHMDS_API int shmds_heap_pop_int(shmds_heap_t *h, int64_t *priority, int64_t *value,
                                 int64_t timeout_ns);

/** Copy the first item without removing it. priority optional. Never waits for items
 * (waits for the lock). @return 0; -EAGAIN (empty); SHMDS_EVARIANT; -EINVAL;
 * SHMDS_ECORRUPT. */
SHMDS_API int shmds_heap_peek_int(shmds_heap_t *h, int64_t *priority, int64_t *value);

/**
 * Push n items (priorities[i], values[i]) in order, waiting for room for the first
 * one not yet in per timeout_ns; each item is pushed as room appears.
 * @param pushed  receives how many went in (all on 0).
 * @return 0 (all in; n == 0 is a no-op); -EAGAIN / -ETIMEDOUT (full: *pushed < n);
 *   SHMDS_EVARIANT; -EINVAL; SHMDS_ECORRUPT.
 */
SHMDS_API int shmds_heap_push_multi_int(shmds_heap_t *h, const int64_t *priorities,
                                        const int64_t *values, size_t n, size_t *pushed,
                                        int64_t timeout_ns);

/**
 * Pop up to max items in order under one lock hold, waiting for the first per
 * timeout_ns. priorities optional (NULL: not wanted).
 * @param got  receives the count (>= 1 on 0).
 * @return 0; -EAGAIN; -ETIMEDOUT; SHMDS_EVARIANT; -EINVAL; SHMDS_ECORRUPT. max == 0
 *   returns 0 with *got == 0.
 */
SHMDS_API int shmds_heap_pop_multi_int(shmds_heap_t *h, int64_t *priorities, int64_t *values,
                                       size_t max, size_t *got, int64_t timeout_ns);

/**
 * Push (priority, data[0..len)) into a BYTES heap, waiting for room per timeout_ns.
 * data may be NULL only when len is 0.
 * @return 0; -E2BIG (len > max_len: nothing pushed); -EAGAIN; -ETIMEDOUT;
 *   SHMDS_EVARIANT; -EINVAL; SHMDS_ECORRUPT.
 */
SHMDS_API int shmds_heap_push_bytes(shmds_heap_t *h, int64_t priority, const void *data,
                                    size_t len, int64_t timeout_ns);

/**
 * Pop the first item of a BYTES heap into buf, waiting while empty per timeout_ns.
 * @param priority  optional.
 * @param len       receives the value's length (on -ENOBUFS: the length needed).
 * @return 0; -ENOBUFS (buf_size too small: nothing removed); -EAGAIN; -ETIMEDOUT;
 *   SHMDS_EVARIANT; -EINVAL (len NULL, or buf NULL with buf_size > 0);
 *   SHMDS_ECORRUPT (the entry's stored length is damaged: it is removed).
 */
SHMDS_API int shmds_heap_pop_bytes(shmds_heap_t *h, int64_t *priority, void *buf,
                                   size_t buf_size, size_t *len, int64_t timeout_ns);

/** Copy the first item of a BYTES heap without removing it. @return 0; -EAGAIN (empty);
 * -ENOBUFS (*len = the length needed); SHMDS_EVARIANT; -EINVAL; SHMDS_ECORRUPT. */
SHMDS_API int shmds_heap_peek_bytes(shmds_heap_t *h, int64_t *priority, void *buf,
                                    size_t buf_size, size_t *len);

/**
 * Push n byte values (datas[i] of lens[i] bytes, priorities[i]) in order; as
 * shmds_heap_push_multi_int. All lengths are checked first: -E2BIG pushes nothing.
 */
SHMDS_API int shmds_heap_push_multi_bytes(shmds_heap_t *h, const int64_t *priorities,
                                          const void *const *datas, const size_t *lens,
                                          size_t n, size_t *pushed, int64_t timeout_ns);

/**
 * Pop up to max items of a BYTES heap, packed back to back into buf (lens[i] each
 * length), stopping before the first that does not fit. priorities optional.
 * @return 0 (*got >= 1); -ENOBUFS (not even the first fits: lens[0] = its length);
 *   -EAGAIN; -ETIMEDOUT; SHMDS_EVARIANT; -EINVAL; SHMDS_ECORRUPT.
 */
SHMDS_API int shmds_heap_pop_multi_bytes(shmds_heap_t *h, int64_t *priorities, void *buf,
                                         size_t buf_size, size_t *lens, size_t max, size_t *got,
                                         int64_t timeout_ns);

/** Items held now (a lock-free snapshot); 0 for NULL. */
SHMDS_API uint64_t shmds_heap_size(const shmds_heap_t *h);
/** Items it can hold; 0 for NULL. */
SHMDS_API uint64_t shmds_heap_capacity(const shmds_heap_t *h);
/** 1 if empty now, 0 if not, -EINVAL for NULL. */
SHMDS_API int shmds_heap_is_empty(const shmds_heap_t *h);
/** 1 if full now, 0 if not, -EINVAL for NULL. */
SHMDS_API int shmds_heap_is_full(const shmds_heap_t *h);

/**
 * Remove every item, under the lock (each concurrent call lands wholly before or after
 * it). Wakes blocked pushers.
 * @param removed  optional: how many items were removed.
 * @return 0; -EINVAL for NULL; SHMDS_ECORRUPT (the lock word is damaged). Waits for the
 *   lock (a dead holder is taken over).
 */
SHMDS_API int shmds_heap_clear(shmds_heap_t *h, uint64_t *removed);

/**
 * Fill *stats (set stats->struct_size first); writes only its first struct_size bytes
 * (see "Versioned structs" in common.h). Takes the lock briefly.
 * @return 0; -EINVAL (NULL, or struct_size below the first version's); SHMDS_ECORRUPT.
 */
SHMDS_API int shmds_heap_stats(shmds_heap_t *h, shmds_heap_stats_t *stats);

/* ------------------------------------------------- eventfd (common.h, "Eventfds") */

/**
 * The handle's eventfd for epoll, created on first call (non-blocking, close-on-exec)
 * and owned by the handle. @return the fd (>= 0), or -errno.
 */
SHMDS_API int shmds_heap_eventfd(shmds_heap_t *h);
/** Use a duplicate of `fd` as this handle's eventfd (-1 detaches); the caller keeps its
 * fd. Setting the fd already in use is a no-op. @return 0; -EBADF; -EINVAL. */
SHMDS_API int shmds_heap_set_eventfd(shmds_heap_t *h, int fd);
/** Signal the eventfd (add 1). 0; -ENOENT if the handle has no eventfd; -EINVAL. */
SHMDS_API int shmds_heap_notify(shmds_heap_t *h);
/** Read and reset the eventfd counter into *count (optional). 0; -EAGAIN (nothing
 * pending); -ENOENT (no eventfd); -EINVAL. Never blocks. */
SHMDS_API int shmds_heap_eventfd_consume(shmds_heap_t *h, uint64_t *count);

#ifdef __cplusplus
}
#endif

#endif /* SHMDS_HEAP_H */
