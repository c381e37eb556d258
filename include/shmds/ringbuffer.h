/*
 * libshmds ring buffer: an overwriting window of the last `capacity` values in shared
 * memory, for metrics and rolling logs. Writers never block and never fail; the newest
 * write replaces the oldest. Readers keep no state: they read by distance from the
 * newest (latest) or by sequence number (read_seq), or copy the whole window (to_list).
 *
 * Element types: the integers of common.h's shmds_type_t (SHMDS_TYPE_INT8 ... _UINT64)
 * and SHMDS_TYPE_F64, fixed at creation. Every element is stored in an 8-byte word, so
 * the type only decides the range: the _int verbs take and give int64_t, the _uint
 * verbs uint64_t (both on any integer type, range-checked both ways: -ERANGE, never
 * truncated), the _f64 verbs double (f64 rings only). A verb of the wrong kind returns
 * SHMDS_EVARIANT. Capacity is exactly what was asked (1 ..= 2^30), not rounded.
 *
 * Sequences: every write gets the next sequence number (0, 1, 2, ...), returned by the
 * write. Sequence s is readable until sequence s + capacity is written. count() is the
 * number of writes ever made, which is also head(), the next sequence.
 *
 * Crash model: a write is one fetch-and-add that claims its sequence and one 16-byte
 * compare-and-swap that stores {sequence, value} into its slot together. There is no
 * "being written" state and no lock, so nothing a killed process leaves behind needs
 * taking over: a writer killed between its claim and its commit leaves its sequence
 * never written (read_seq says -EAGAIN for it until the next lap overwrites its slot,
 * then -ENOENT; no reader ever waits on it, later writes go on). The reference design's
 * 2 s takeover of a dead writer's half-written slot is thus not needed at all, and a
 * late writer that was only stalled (preempted for a whole lap) finds a newer sequence
 * in its slot and drops its value (counted in stats.stale_writes): it can never
 * overwrite a newer value or revert a slot another writer took. Readers check that the
 * slot holds exactly the sequence they want, so a torn or wrong value is impossible. A
 * killed sleeper in wait_for is taken off the wait list later (stats.recoveries).
 *
 * Blocking: only wait_for blocks (timeout_ns as in common.h). A write wakes sleepers
 * only when some are waiting, so an unwatched write makes no system call. Writes never
 * signal the eventfd by themselves: call shmds_ringbuffer_notify() (common.h,
 * "Eventfds").
 *
 * Thread safety: a handle may be shared by the threads of a process and used in a
 * fork() child. shmds_ringbuffer_close() must not race other calls on the same handle.
 * A damaged or hostile segment can make reads report wrong values or missing
 * sequences, never read or write outside the mapping.
 */
#ifndef SHMDS_RINGBUFFER_H
#define SHMDS_RINGBUFFER_H

#include <shmds/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque handle to a mapped ring buffer. */
typedef struct shmds_ringbuffer shmds_ringbuffer_t;

/** Geometry of a new ring buffer. Initialise with SHMDS_RINGBUFFER_CONFIG_INIT or
 * shmds_ringbuffer_config_init(). */
typedef struct shmds_ringbuffer_config {
    size_t struct_size; /**< sizeof(shmds_ringbuffer_config_t) */
    int type;           /**< an integer shmds_type_t or SHMDS_TYPE_F64 */
    uint64_t capacity;  /**< values kept (1 ..= 2^30), not rounded */
} shmds_ringbuffer_config_t;

#define SHMDS_RINGBUFFER_CONFIG_INIT(type, capacity) \
    { sizeof(shmds_ringbuffer_config_t), (type), (uint64_t)(capacity) }

/**
 * SHMDS_RINGBUFFER_CONFIG_INIT(type, capacity) as a function, for FFI (see the *_init
 * convention in common.h).
 * @return 0; -EINVAL (out is NULL, or struct_size below the first version's). Does not
 *   check the values: shmds_ringbuffer_create() does.
 */
SHMDS_API int shmds_ringbuffer_config_init(shmds_ringbuffer_config_t *out, size_t struct_size,
                                           int type, uint64_t capacity);

/** Counters and gauges; a snapshot while other processes write. */
typedef struct shmds_ringbuffer_stats {
    size_t struct_size;    /**< set by the caller: sizeof(shmds_ringbuffer_stats_t) */
    uint64_t capacity;     /**< values kept */
    uint64_t size;         /**< values in the window: min(count, capacity) */
    uint64_t count;        /**< writes ever made (= the next sequence) */
    uint64_t overwrites;   /**< values pushed out of the window: count - size */
    uint64_t stale_writes; /**< writes dropped because their slot already held a later
                                sequence (the writer was stalled for a whole lap) */
    uint64_t recoveries;   /**< dead sleepers taken off the wait list */
    uint64_t segment_bytes; /**< size of the whole mapping */
    uint32_t waiters;      /**< processes or threads asleep in wait_for now */
} shmds_ringbuffer_stats_t;

/* ------------------------------------------------------------- lifecycle */

/**
 * Create a ring buffer, or attach to the existing one at the same path (its capacity
 * wins; its type must equal cfg->type).
 * @param opts  backing; NULL = anonymous (shared with fork() children only).
 * @param cfg   type and capacity; must not be NULL.
 * @param out   receives the handle; untouched on failure.
 * @return 0; -EINVAL (a type the ring does not store, capacity 0 or above 2^30, bad
 *   options: the sentence says which); -EEXIST (SHMDS_EXCL and the file exists);
 *   -ENOSPC; -EACCES, -ELOOP, other -errno from open/mmap/memfd_create; SHMDS_ETYPE (the
 *   existing segment is another structure or type); SHMDS_EVERSION; SHMDS_ECORRUPT
 *   (the existing file is not a valid segment; never overwritten).
 * Blocks only while another process is initialising the same path.
 */
SHMDS_API int shmds_ringbuffer_create(const shmds_options_t *opts,
                                      const shmds_ringbuffer_config_t *cfg,
                                      shmds_ringbuffer_t **out);

/**
 * Attach to an existing ring buffer (PATH or FD backing), reading its geometry from the
 * segment after validating all of it.
 * @param type  the element type expected, or 0 for any.
 * @return 0; -ENOENT (no such file); -EINVAL (a type the ring does not store,
 *   anonymous or memfd-by-name backing); SHMDS_ETYPE (another structure or type);
 *   SHMDS_EVERSION; SHMDS_ECORRUPT (truncated, garbage, unfinished); other -errno.
 */
SHMDS_API int shmds_ringbuffer_open(const shmds_options_t *opts, int type,
                                    shmds_ringbuffer_t **out);

/** Unmap and free the handle (NULL is allowed). The segment itself stays. */
SHMDS_API void shmds_ringbuffer_close(shmds_ringbuffer_t *rb);

/** The element type (a shmds_type_t), or -EINVAL for NULL. */
SHMDS_API int shmds_ringbuffer_type(const shmds_ringbuffer_t *rb);

/**
 * The descriptor behind the segment (file or memfd), owned by the handle: pass it with
 * shmds_send_fd(), do not close it. -ENOENT for anonymous rings, -EINVAL for NULL.
 */
SHMDS_API int shmds_ringbuffer_fd(const shmds_ringbuffer_t *rb);

/** Flush a file-backed ring to its file (msync). 0 or -errno; -EINVAL for NULL. */
SHMDS_API int shmds_ringbuffer_sync(const shmds_ringbuffer_t *rb);

/* ----------------------------------------------------------------- write
 * Store a value as the next sequence, overwriting the oldest when the window is full.
 * Never blocks. A write that a newer lap overtook while it was stalled is dropped
 * (stats.stale_writes) and still returns its sequence.
 * @param seq  optional: receives the write's sequence.
 * @return 0; -EINVAL (NULL handle); SHMDS_EVARIANT (a verb of the wrong kind: _f64 on
 *   an integer ring or the integer verbs on an f64 ring); -ERANGE (the value does not
 *   fit the ring's type: nothing written).
 */
SHMDS_API int shmds_ringbuffer_write_int(shmds_ringbuffer_t *rb, int64_t value, uint64_t *seq);
SHMDS_API int shmds_ringbuffer_write_uint(shmds_ringbuffer_t *rb, uint64_t value, uint64_t *seq);
SHMDS_API int shmds_ringbuffer_write_f64(shmds_ringbuffer_t *rb, double value, uint64_t *seq);

/**
 * Write n values under n consecutive sequences, claimed at once (no other write falls
 * between them). All values are range-checked first: on -ERANGE nothing is written.
 * n = 0 writes nothing and succeeds (*first_seq = the next sequence).
 * @param first_seq  optional: the sequence of values[0].
 * @return 0; -EINVAL (NULL handle, or NULL values with n > 0); SHMDS_EVARIANT; -ERANGE.
 */
SHMDS_API int shmds_ringbuffer_write_multi_int(shmds_ringbuffer_t *rb, const int64_t *values,
                                               size_t n, uint64_t *first_seq);
SHMDS_API int shmds_ringbuffer_write_multi_uint(shmds_ringbuffer_t *rb, const uint64_t *values,
                                                size_t n, uint64_t *first_seq);
SHMDS_API int shmds_ringbuffer_write_multi_f64(shmds_ringbuffer_t *rb, const double *values,
                                               size_t n, uint64_t *first_seq);

/* ------------------------------------------------------------------ read
 * None of the reads blocks or changes the ring.
 */

/**
 * The value of sequence `seq`. Three outcomes, besides argument errors:
 * @return 0 with *out set (the value written as `seq`);
 *   -EAGAIN: not written: seq >= head(), or its writer claimed it but has not
 *     committed (a few instructions; for good if that writer was killed: it stays
 *     -EAGAIN until the next lap overwrites the slot, then -ENOENT);
 *   -ENOENT: overwritten: the slot holds a later sequence;
 *   -EINVAL (NULL argument); SHMDS_EVARIANT; -ERANGE (_int: a uint64 value above
 *   INT64_MAX; _uint: a negative value).
 * The normal outcomes (-EAGAIN, -ENOENT) set no sentence.
 */
SHMDS_API int shmds_ringbuffer_read_seq_int(const shmds_ringbuffer_t *rb, uint64_t seq,
                                            int64_t *out);
SHMDS_API int shmds_ringbuffer_read_seq_uint(const shmds_ringbuffer_t *rb, uint64_t seq,
                                             uint64_t *out);
SHMDS_API int shmds_ringbuffer_read_seq_f64(const shmds_ringbuffer_t *rb, uint64_t seq,
                                            double *out);

/**
 * The n-th newest value (n = 0: the newest), i.e. sequence head() - 1 - n.
 * @param seq  optional: receives that sequence (when there is one: n < head()).
 * @return 0 with *out set; -EAGAIN (fewer than n + 1 writes so far, or that write is not
 *   committed: see read_seq); -ENOENT (n >= capacity, or overwritten meanwhile);
 *   -EINVAL; SHMDS_EVARIANT; -ERANGE (as read_seq).
 */
SHMDS_API int shmds_ringbuffer_latest_int(const shmds_ringbuffer_t *rb, uint64_t n,
                                          int64_t *out, uint64_t *seq);
SHMDS_API int shmds_ringbuffer_latest_uint(const shmds_ringbuffer_t *rb, uint64_t n,
                                           uint64_t *out, uint64_t *seq);
SHMDS_API int shmds_ringbuffer_latest_f64(const shmds_ringbuffer_t *rb, uint64_t n,
                                          double *out, uint64_t *seq);

/**
 * Copy the window, oldest first, into out[0 .. *count). A value overwritten during the
 * copy, or claimed and not committed, is left out, so the copy may hold fewer than
 * size() values; the ones it holds are in increasing sequence order.
 * @param seqs   optional: receives each copied value's sequence (room for max).
 * @param max    room in out (and seqs); must be at least size().
 * @param count  receives how many values were copied; on -ENOBUFS, how many are needed.
 * @return 0; -ENOBUFS (max < size(): nothing copied); -EINVAL (NULL handle or count, or
 *   NULL out with max > 0); SHMDS_EVARIANT; -ERANGE (as read_seq: the values before the
 *   offending one are copied and counted).
 */
SHMDS_API int shmds_ringbuffer_to_list_int(const shmds_ringbuffer_t *rb, int64_t *out,
                                           uint64_t *seqs, size_t max, size_t *count);
SHMDS_API int shmds_ringbuffer_to_list_uint(const shmds_ringbuffer_t *rb, uint64_t *out,
                                            uint64_t *seqs, size_t max, size_t *count);
SHMDS_API int shmds_ringbuffer_to_list_f64(const shmds_ringbuffer_t *rb, double *out,
                                           uint64_t *seqs, size_t max, size_t *count);

/* ---------------------------------------------------------------- gauges */

/** Values in the window: min(count, capacity); 0 for NULL. */
SHMDS_API uint64_t shmds_ringbuffer_size(const shmds_ringbuffer_t *rb);
/** Values kept, as created; 0 for NULL. */
SHMDS_API uint64_t shmds_ringbuffer_capacity(const shmds_ringbuffer_t *rb);
/** The next sequence a write will get; 0 for NULL. */
SHMDS_API uint64_t shmds_ringbuffer_head(const shmds_ringbuffer_t *rb);
/** Writes ever made (equal to head: sequences start at 0); 0 for NULL. */
SHMDS_API uint64_t shmds_ringbuffer_count(const shmds_ringbuffer_t *rb);
/** Values pushed out of the window: count - size; 0 for NULL. */
SHMDS_API uint64_t shmds_ringbuffer_overwrites(const shmds_ringbuffer_t *rb);

/**
 * Block until a write of sequence `count` or later has committed, i.e. the count has
 * passed `count` and such a value is readable (unless overwritten since): pass the
 * count() you last saw to wait for the next write. A sequence claimed by a writer that
 * was killed before committing is never waited for: any later write ends the wait.
 * @return 0; -EAGAIN (SHMDS_NOWAIT and no such write yet); -ETIMEDOUT; -EINVAL (NULL
 *   handle or bad timeout). A writer killed between its commit and its wake delays a
 *   sleeper by at most 100 ms.
 */
SHMDS_API int shmds_ringbuffer_wait_for(shmds_ringbuffer_t *rb, uint64_t count,
                                        int64_t timeout_ns);

/**
 * Fill *stats (set stats->struct_size first); writes only its first struct_size bytes
 * (see "Versioned structs" in common.h). Never blocks.
 * @return 0; -EINVAL (NULL, or struct_size smaller than the first version's).
 */
SHMDS_API int shmds_ringbuffer_stats(shmds_ringbuffer_t *rb, shmds_ringbuffer_stats_t *stats);

/* ------------------------------------------------- eventfd (common.h, "Eventfds") */

/**
 * The handle's eventfd for epoll, created on first call (non-blocking, close-on-exec)
 * and owned by the handle. Share it across fork() or with shmds_send_fd() and attach it
 * on the other side with shmds_ringbuffer_set_eventfd().
 * @return the fd (>= 0), or -errno (-EMFILE...); -EINVAL for NULL.
 */
SHMDS_API int shmds_ringbuffer_eventfd(shmds_ringbuffer_t *rb);

/**
 * Use a duplicate of `fd` (an eventfd) as this handle's eventfd; the caller keeps its
 * own fd. -1 detaches. Setting the fd the handle already uses is a no-op.
 * @return 0; -EBADF; -EINVAL.
 */
SHMDS_API int shmds_ringbuffer_set_eventfd(shmds_ringbuffer_t *rb, int fd);

/** Signal the eventfd (add 1). 0; -ENOENT if the handle has no eventfd; -EINVAL. */
SHMDS_API int shmds_ringbuffer_notify(shmds_ringbuffer_t *rb);

/**
 * Read and reset the eventfd counter into *count (optional).
 * @return 0; -EAGAIN if nothing is pending; -ENOENT if no eventfd; -EINVAL. Never blocks.
 */
SHMDS_API int shmds_ringbuffer_eventfd_consume(shmds_ringbuffer_t *rb, uint64_t *count);

#ifdef __cplusplus
}
#endif

#endif /* SHMDS_RINGBUFFER_H */
