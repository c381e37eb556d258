/*
 * libshmds log: an append-only log of byte entries in shared memory (a write-ahead
 * log, an audit trail). Appends go to the tail and return the entry's offset; readers
 * read any entry by offset, iterate with a callback or a cursor, and wait for new
 * entries. Space is never reclaimed: truncate() hides old entries, reset() empties the
 * log. Each entry takes 8 header bytes plus its length rounded up to 8.
 *
 * Offsets: an entry's offset is where its header starts in the data region; the first
 * entry is at 0 and each next one at the `next` offset a read returns. The tail is the
 * offset the next append will get. Offsets are only meaningful within one epoch (see
 * "Resets").
 *
 * Crash model: appends serialise on an internal crash-recoverable lock; readers take no
 * lock. An appender writes its entry above the committed tail and then publishes the
 * new tail and entry count with one atomic store. Readers read only below the tail they
 * saw, so an appender killed at any instruction leaves either its whole entry (or
 * batch) or nothing visible: no torn entry is ever accepted and there is no hole to
 * skip or pad (stronger than the reference's Aeron-style padding: the next appender
 * takes the dead one's lock over, within about 10 ms, and writes over its uncommitted
 * bytes). entry_count is exact at every instant. A killed truncate() leaves the old or
 * the new truncation point; a killed reset() is finished by the next process that
 * takes the lock (counted in stats.recoveries with every takeover and every dead
 * sleeper taken off the wait list).
 *
 * Shared memory is untrusted: every offset and length read from the segment is checked
 * against the data region and the committed tail; a damaged one is SHMDS_ECORRUPT,
 * never a read out of bounds. Entry headers carry a keyed tag, so an offset that is
 * not an entry's start is reported (-EINVAL) rather than read as one (a random offset
 * passes the tag with probability 2^-32).
 *
 * Resets: shmds_log_reset() empties the log under the append lock and starts a new
 * epoch (shmds_log_epoch()). Readers check the epoch around every copy (a seqlock): a
 * read that raced a reset returns -ESTALE, never bytes of the new epoch as an entry of
 * the old one. Cursors and shmds_log_each_entry() carry the epoch they started in and
 * return -ESTALE once a reset happened. A bare offset kept across a reset may name an
 * entry of the new epoch: compare shmds_log_epoch() or use a cursor to tell.
 *
 * Blocking: shmds_log_wait_for() takes `timeout_ns` as in common.h (SHMDS_NOWAIT,
 * SHMDS_FOREVER, relative nanoseconds). Appends, truncate() and reset() wait only for
 * the append lock (held for one copy; a dead holder is taken over in ~10 ms). Reads
 * never block. Appending never signals the eventfd by itself; call shmds_log_notify()
 * (the eventfd rule of the whole library is in common.h, "Eventfds").
 *
 * Thread safety: a handle may be shared by the threads of a process, and used in a
 * fork() child. shmds_log_close() must not race other calls on the same handle.
 */
#ifndef SHMDS_LOG_H
#define SHMDS_LOG_H

#include <shmds/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque handle to a mapped log. */
typedef struct shmds_log shmds_log_t;

/** The longest entry, in bytes. */
#define SHMDS_LOG_MAX_ENTRY 0xFFFFFFF0u

/** Geometry of a new log. Initialise with SHMDS_LOG_CONFIG_INIT or shmds_log_config_init(). */
typedef struct shmds_log_config {
    size_t struct_size; /**< sizeof(shmds_log_config_t) */
    uint64_t capacity;  /**< data region bytes: 64 ..= 2^34 (16 GiB), rounded up to 8 */
} shmds_log_config_t;

#define SHMDS_LOG_CONFIG_INIT(capacity) { sizeof(shmds_log_config_t), (uint64_t)(capacity) }

/**
 * SHMDS_LOG_CONFIG_INIT(capacity) as a function, for FFI (the *_init convention of
 * common.h).
 * @return 0; -EINVAL (out is NULL, or struct_size below the first version's). Does not
 *   check the capacity: shmds_log_create() does.
 */
SHMDS_API int shmds_log_config_init(shmds_log_config_t *out, size_t struct_size,
                                    uint64_t capacity);

/** Counters and gauges; approximate while other processes are operating. */
typedef struct shmds_log_stats {
    size_t struct_size;   /**< set by the caller: sizeof(shmds_log_stats_t) */
    uint64_t entries;     /**< entries appended in this epoch (truncated ones included) */
    uint64_t tail;        /**< the tail offset */
    uint64_t truncation;  /**< the truncation point */
    uint64_t data_size;   /**< tail - truncation: bytes of the visible entries */
    uint64_t capacity;    /**< data region bytes */
    uint64_t available;   /**< capacity - tail */
    uint64_t epoch;       /**< the epoch (even; odd only while a reset is under way) */
    uint64_t resets;      /**< resets, ever */
    uint64_t append_full; /**< appends refused with -ENOSPC */
    uint64_t recoveries;  /**< dead lock holders and dead sleepers taken over */
    uint32_t waiters;     /**< processes asleep in shmds_log_wait_for() now */
    uint64_t segment_bytes; /**< size of the whole mapping */
} shmds_log_stats_t;

/* ------------------------------------------------------------- lifecycle */

/**
 * Create a log, or attach to the existing one at the same path (its capacity wins).
 * @param opts  backing; NULL = anonymous (shared with fork() children only).
 * @param cfg   the capacity; must not be NULL.
 * @param out   receives the handle; untouched on failure.
 * @return 0; -EINVAL (bad config or options: the sentence says which); -EEXIST
 *   (SHMDS_EXCL and the file exists); -ENOSPC (no room for the segment); -EACCES, -ELOOP,
 *   other -errno from open/mmap/memfd_create; SHMDS_ETYPE (the existing segment is
 *   another structure); SHMDS_EVERSION; SHMDS_ECORRUPT (the existing file is not a valid
 *   segment; it is never overwritten unless it is an interrupted create of ours).
 * Blocks only while another process is initialising the same path.
 */
SHMDS_API int shmds_log_create(const shmds_options_t *opts, const shmds_log_config_t *cfg,
                               shmds_log_t **out);

/**
 * Attach to an existing log (PATH or FD backing), validating its whole geometry.
 * @return 0; -ENOENT (no such file); -EINVAL (anonymous or memfd-by-name backing);
 *   SHMDS_ETYPE (another structure); SHMDS_EVERSION; SHMDS_ECORRUPT (truncated, garbage,
 *   unfinished); other -errno.
 */
SHMDS_API int shmds_log_open(const shmds_options_t *opts, shmds_log_t **out);

/** Unmap and free the handle (NULL is allowed). The segment itself stays. */
SHMDS_API void shmds_log_close(shmds_log_t *log);

/**
 * The descriptor behind the segment (file or memfd), owned by the handle: pass it with
 * shmds_send_fd(), do not close it. -ENOENT for anonymous logs, -EINVAL for NULL.
 */
SHMDS_API int shmds_log_fd(const shmds_log_t *log);

/** Flush a file-backed log to its file (msync). 0 or -errno. */
SHMDS_API int shmds_log_sync(const shmds_log_t *log);

/** Dead lock holders and dead sleepers taken over, ever (0 for NULL). */
SHMDS_API uint64_t shmds_log_recoveries(const shmds_log_t *log);

/* ---------------------------------------------------------------- appends */

/**
 * Append one entry of `len` bytes (any bytes, NUL and 0xFF included) at the tail.
 * @param offset  receives the entry's offset (optional).
 * @return 0; -EINVAL (log NULL, data NULL, or len 0: an entry holds at least one byte);
 *   -E2BIG (len > SHMDS_LOG_MAX_ENTRY); -ENOSPC (the entry needs more than the space
 *   left: nothing is written; counted in stats.append_full); SHMDS_ECORRUPT (a damaged
 *   tail or lock word).
 * Blocks only for the append lock. Crash: a process killed inside the call appended the
 * whole entry or nothing visible.
 */
SHMDS_API int shmds_log_append(shmds_log_t *log, const void *data, size_t len,
                               uint64_t *offset);

/**
 * Append n entries as one commit: all of them, consecutively, or none.
 * @param offsets  receives entry i's offset in offsets[i] (optional; n elements).
 * @return 0 (also for n == 0); -EINVAL (NULL arguments, or an empty entry: the sentence
 *   names it); -E2BIG; -ENOSPC (they do not all fit: nothing is written);
 *   SHMDS_ECORRUPT.
 * Blocking and crash behaviour as shmds_log_append (the batch is one commit).
 */
SHMDS_API int shmds_log_append_multi(shmds_log_t *log, const void *const *datas,
                                     const size_t *lens, size_t n, uint64_t *offsets);

/* ------------------------------------------------------------------ reads */

/**
 * Copy the entry at `offset` into buf.
 * @param len   receives its length (also on -ENOBUFS: the size needed).
 * @param next  receives the next entry's offset (optional).
 * @return 0; -EAGAIN (offset is the tail: no entry there yet); -ERANGE (offset beyond
 *   the tail); -ENOENT (offset below the truncation point); -EINVAL (NULL arguments, or
 *   offset not at an entry's start); -ENOBUFS (buf_size too small: nothing copied);
 *   -ESTALE (a reset is under way or happened during the copy: the entry is gone);
 *   SHMDS_ECORRUPT (a damaged tail or entry length).
 * Never blocks.
 */
SHMDS_API int shmds_log_read_entry(const shmds_log_t *log, uint64_t offset, void *buf,
                                   size_t buf_size, size_t *len, uint64_t *next);

/**
 * Called for each entry by shmds_log_each_entry(): data points to a private copy valid
 * during the call. Return 0 to go on, anything else to stop after this entry.
 */
typedef int (*shmds_log_entry_fn)(const void *data, size_t len, uint64_t offset, void *ctx);

/**
 * Call fn for each entry from `from` up to the tail as it was when the call began, in
 * order, all within the epoch current at the start.
 * @param final  receives the offset after the last entry visited (where to continue;
 *   `from` if none was), also on failure (optional).
 * @return the number of entries visited (>= 0); the codes of shmds_log_read_entry for
 *   `from` or a later entry except -EAGAIN and -ENOBUFS (-ESTALE once the log was
 *   reset); -ENOMEM.
 * Never blocks (fn may).
 */
SHMDS_API int64_t shmds_log_each_entry(const shmds_log_t *log, uint64_t from,
                                       shmds_log_entry_fn fn, void *ctx, uint64_t *final);

/** A reading position that remembers its epoch. Fill with shmds_log_cursor_init(). */
typedef struct shmds_log_cursor {
    uint64_t offset; /**< the next entry to read */
    uint64_t epoch;  /**< the epoch it belongs to */
} shmds_log_cursor_t;

/**
 * Point *cursor at `from` in the current epoch. The offset is checked by the first
 * shmds_log_cursor_next(); pass shmds_log_truncation() for the oldest visible entry.
 * @return 0; -EINVAL (NULL); -ESTALE (a reset is under way).
 */
SHMDS_API int shmds_log_cursor_init(const shmds_log_t *log, shmds_log_cursor_t *cursor,
                                    uint64_t from);

/**
 * Copy the cursor's entry into buf and advance past it.
 * @param offset  receives the entry's offset (optional).
 * @return 0; -EAGAIN (at the tail: nothing new yet; wait with shmds_log_wait_for());
 *   -ESTALE (the log was reset since the cursor's epoch); -ENOBUFS (*len = the size
 *   needed; the cursor stays); the other codes of shmds_log_read_entry. The cursor
 *   moves only on 0.
 * Never blocks.
 */
SHMDS_API int shmds_log_cursor_next(const shmds_log_t *log, shmds_log_cursor_t *cursor,
                                    void *buf, size_t buf_size, size_t *len, uint64_t *offset);

/* --------------------------------------------------------------- gauges */
/* Each returns 0 for a NULL log. */

/** The tail: the offset the next entry will get. */
SHMDS_API uint64_t shmds_log_tail_offset(const shmds_log_t *log);
/** Entries appended in this epoch (those hidden by truncate() included). */
SHMDS_API uint64_t shmds_log_entry_count(const shmds_log_t *log);
/** Bytes of the visible entries, headers and padding included: tail - truncation. */
SHMDS_API uint64_t shmds_log_data_size(const shmds_log_t *log);
/** Bytes left for appends (an entry of len bytes takes 8 + len rounded up to 8). */
SHMDS_API uint64_t shmds_log_available(const shmds_log_t *log);
/** The data region's size in bytes. */
SHMDS_API uint64_t shmds_log_capacity(const shmds_log_t *log);
/** The truncation point: the offset of the oldest visible entry (or the tail). */
SHMDS_API uint64_t shmds_log_truncation(const shmds_log_t *log);
/** The epoch: even, and 2 more after each reset (odd while one is under way). */
SHMDS_API uint64_t shmds_log_epoch(const shmds_log_t *log);

/* ---------------------------------------------------- waiting and changes */

/**
 * Wait until more than `count` entries have been appended (entry_count > count).
 * @return 0; -EAGAIN (SHMDS_NOWAIT and not yet); -ETIMEDOUT; -ESTALE (the log was
 *   reset before or during the wait); -EINVAL (NULL, bad timeout).
 * Blocks (per timeout_ns). Crash: an appender killed between its commit and its wake
 * delays the sleeper by at most 100 ms, never more.
 */
SHMDS_API int shmds_log_wait_for(shmds_log_t *log, uint64_t count, int64_t timeout_ns);

/**
 * Hide the entries below `offset`, which must be an entry's start or the tail. Space
 * is not reclaimed; entry_count does not change.
 * @return 0 (also when offset is the current truncation point); -EINVAL (NULL, offset
 *   not at an entry boundary, or below the current truncation point: it only moves
 *   forward); -ERANGE (beyond the tail); SHMDS_ECORRUPT.
 * Blocks only for the append lock.
 */
SHMDS_API int shmds_log_truncate(shmds_log_t *log, uint64_t offset);

/**
 * Remove every entry and start a new epoch: tail, count and truncation point return
 * to 0; readers and cursors of the old epoch get -ESTALE; wait_for sleepers return
 * -ESTALE.
 * @return 0; -EINVAL (NULL); SHMDS_ECORRUPT (a damaged lock word).
 * Blocks only for the append lock. Crash: a reset killed midway is finished by the next
 * process that takes the lock.
 */
SHMDS_API int shmds_log_reset(shmds_log_t *log);

/**
 * Fill *stats.
 * @return 0; -EINVAL (NULL, struct_size too small); SHMDS_ECORRUPT (a damaged tail: the
 *   counters are still filled in).
 */
SHMDS_API int shmds_log_stats(shmds_log_t *log, shmds_log_stats_t *stats);

/* ------------------------------------------------- eventfd (common.h, "Eventfds") */

/**
 * The handle's eventfd for epoll, created on first call (non-blocking, close-on-exec)
 * and owned by the handle. Share it across fork() or with shmds_send_fd() and attach
 * it on the other side with shmds_log_set_eventfd().
 * @return the fd (>= 0), or -errno (-EMFILE...).
 */
SHMDS_API int shmds_log_eventfd(shmds_log_t *log);

/**
 * Use a duplicate of `fd` (an eventfd) as this handle's eventfd; the caller keeps its
 * own fd. -1 detaches. Setting the fd the handle already uses is a no-op.
 * @return 0; -EBADF; -EINVAL.
 */
SHMDS_API int shmds_log_set_eventfd(shmds_log_t *log, int fd);

/** Signal the eventfd (add 1). 0; -ENOENT if the handle has no eventfd; -EINVAL. */
SHMDS_API int shmds_log_notify(shmds_log_t *log);

/**
 * Read and reset the eventfd counter into *count (optional).
 * @return 0; -EAGAIN if nothing is pending; -ENOENT if no eventfd; -EINVAL. Never blocks.
 */
SHMDS_API int shmds_log_eventfd_consume(shmds_log_t *log, uint64_t *count);

#ifdef __cplusplus
}
#endif

#endif /* SHMDS_LOG_H */
