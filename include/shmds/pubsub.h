/*
 * libshmds pubsub: a broadcast ring in shared memory. Publishers append messages;
 * every subscriber reads every message at its own pace through its own cursor.
 * Messages are never consumed: the ring keeps the newest `capacity` of them.
 *
 * Variants
 *   SHMDS_PUBSUB_INT16, _INT32, _INT64: lock-free. Values cross the API as int64_t and
 *     are range-checked against the variant's width (-ERANGE).
 *   SHMDS_PUBSUB_BYTES: byte strings of 0..msg_size bytes (default 256); every slot owns
 *     a fixed region, so a message never shares bytes with another.
 * Capacity is rounded up to a power of two (1 becomes 2).
 *
 * Publishers never block and never wait for subscribers. Subscribers are cursors owned
 * by the process (and thread) that made them (shmds_pubsub_sub_t). A subscriber that
 * falls more than `capacity` messages behind (lapped) resumes at the oldest message still
 * held and adds what it missed to its overflow count.
 *
 * Blocking: the poll verbs take `timeout_ns` as in common.h. Sleeping subscribers use no
 * CPU; publishers pay for a wakeup only when someone sleeps. Publishing never signals
 * the eventfd by itself: use the _notify verbs or shmds_pubsub_notify() (the eventfd
 * rule of the whole library is in common.h, "Eventfds").
 *
 * Crash behaviour: a publisher killed at any instruction never wedges the ring. A
 * message is committed by one atomic step (integers: one compare-and-swap of sequence
 * and value together; bytes: a per-slot sequence that is odd while the payload is copied
 * and is checked with a checksum). A position a dead publisher claimed but never
 * committed is skipped by subscribers after at most 0.5 s once later messages exist
 * (counted in their skipped count and stats.skipped); it is never delivered torn. A
 * publisher preempted for a whole lap never overwrites a newer message (its store is
 * dropped, stats.dropped). Subscribers keep no shared state, so their death costs
 * nothing (a sleeper's registration is cleaned up later, counted in recoveries).
 *
 * Thread safety: a pubsub handle may be shared by threads and used after fork(). A
 * subscriber must be used by one thread at a time, must not outlive its pubsub handle,
 * and after fork() each process's copy is an independent cursor.
 */
#ifndef SHMDS_PUBSUB_H
#define SHMDS_PUBSUB_H

#include <shmds/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque handle to a mapped pubsub ring. */
typedef struct shmds_pubsub shmds_pubsub_t;
/** Opaque subscriber: a process-local cursor over one pubsub handle. */
typedef struct shmds_pubsub_sub shmds_pubsub_sub_t;

/**
 * PubSub variants: the element types of common.h's shmds_type_t (stored in the segment),
 * under the names the pubsub has always used: SHMDS_PUBSUB_INT64 is SHMDS_TYPE_INT64.
 */
typedef shmds_type_t shmds_pubsub_variant_t;
#define SHMDS_PUBSUB_ANY 0 /**< for shmds_pubsub_open(): accept what the segment holds */
#define SHMDS_PUBSUB_INT16 SHMDS_TYPE_INT16
#define SHMDS_PUBSUB_INT32 SHMDS_TYPE_INT32
#define SHMDS_PUBSUB_INT64 SHMDS_TYPE_INT64
#define SHMDS_PUBSUB_BYTES SHMDS_TYPE_BYTES

/** Geometry of a new ring. Initialise with SHMDS_PUBSUB_CONFIG_INIT
 * or shmds_pubsub_config_init(). */
typedef struct shmds_pubsub_config {
    size_t struct_size; /**< sizeof(shmds_pubsub_config_t) */
    int variant;        /**< a shmds_pubsub_variant_t other than ANY */
    uint64_t capacity;  /**< messages held (1 ..= 2^30; bytes: 2^24), rounded up to 2^k */
    uint64_t msg_size;  /**< BYTES only: largest message, 0 = 256, at most 16 MiB */
} shmds_pubsub_config_t;

#define SHMDS_PUBSUB_CONFIG_INIT(variant, capacity) \
    { sizeof(shmds_pubsub_config_t), (variant), (uint64_t)(capacity), 0u }

/**
 * SHMDS_PUBSUB_CONFIG_INIT(variant, capacity) as a function, for FFI:
 * shmds_pubsub_config_init(&cfg, sizeof cfg, ...)
 * (variant and capacity set, msg_size 0). See the *_init convention in common.h.
 * @return 0; -EINVAL (out is NULL, or struct_size below the first version's). Does
 *   not check the values: shmds_pubsub_create() does.
 */
SHMDS_API int shmds_pubsub_config_init(shmds_pubsub_config_t *out, size_t struct_size,
                                       int variant, uint64_t capacity);

/** Counters; approximate while other processes are operating. */
typedef struct shmds_pubsub_stats {
    size_t struct_size;           /**< set by the caller: sizeof(shmds_pubsub_stats_t) */
    uint64_t capacity;            /**< messages held */
    uint64_t msg_size;            /**< BYTES: largest message; else 0 */
    uint64_t write_pos;           /**< positions claimed by publishers, ever */
    uint64_t dropped;             /**< publishes superseded by a later lap before commit */
    uint64_t skipped;             /**< abandoned positions skipped by subscribers */
    uint64_t torn;                /**< BYTES: damaged messages rejected by subscribers */
    uint64_t takeovers;           /**< BYTES: slots of dead writers taken over */
    uint64_t overflowed;          /**< messages subscribers missed by being lapped */
    uint64_t recoveries;          /**< takeovers plus dead sleepers cleaned up */
    uint64_t segment_bytes;       /**< size of the whole mapping */
    uint32_t waiting_subscribers; /**< subscribers asleep now */
} shmds_pubsub_stats_t;

/* ------------------------------------------------------------- lifecycle */

/**
 * Create a ring, or attach to the existing one at the same path (its geometry wins;
 * its variant must equal cfg->variant).
 * @param opts  backing; NULL = anonymous (shared with fork() children only).
 * @param cfg   variant, capacity and msg_size; must not be NULL.
 * @param out   receives the handle; untouched on failure.
 * @return 0; -EINVAL (bad config or options: the sentence says which); -EEXIST
 *   (SHMDS_EXCL and the file exists); -ENOSPC; -EACCES, -ELOOP, other -errno from
 *   open/mmap/memfd_create; SHMDS_ETYPE (another structure or variant); SHMDS_EVERSION;
 *   SHMDS_ECORRUPT (an existing file that is not a valid segment; never overwritten).
 * Blocks only while another process is initialising the same path.
 */
SHMDS_API int shmds_pubsub_create(const shmds_options_t *opts, const shmds_pubsub_config_t *cfg,
                                  shmds_pubsub_t **out);

/**
 * Attach to an existing ring (PATH or FD backing), validating all of it.
 * @param variant  the variant expected, or SHMDS_PUBSUB_ANY.
 * @return 0; -ENOENT; -EINVAL (anonymous or memfd-by-name backing, bad variant);
 *   SHMDS_ETYPE; SHMDS_EVERSION; SHMDS_ECORRUPT; other -errno.
 */
SHMDS_API int shmds_pubsub_open(const shmds_options_t *opts, int variant, shmds_pubsub_t **out);

/** Unmap and free the handle (NULL is allowed). Close its subscribers first. */
SHMDS_API void shmds_pubsub_close(shmds_pubsub_t *ps);

/** The ring's variant (a shmds_pubsub_variant_t), or -EINVAL for NULL. */
SHMDS_API int shmds_pubsub_variant(const shmds_pubsub_t *ps);

/** Messages the ring holds; 0 for NULL. */
SHMDS_API uint64_t shmds_pubsub_capacity(const shmds_pubsub_t *ps);

/** BYTES: the largest message; 0 for integer variants and NULL. */
SHMDS_API uint64_t shmds_pubsub_msg_size(const shmds_pubsub_t *ps);

/** Positions claimed so far (the next message's position); 0 for NULL. Never blocks. */
SHMDS_API uint64_t shmds_pubsub_write_pos(const shmds_pubsub_t *ps);

/**
 * The descriptor behind the segment (file or memfd), owned by the handle.
 * @return the fd; -ENOENT for anonymous rings; -EINVAL for NULL.
 */
SHMDS_API int shmds_pubsub_fd(const shmds_pubsub_t *ps);

/** Flush a file-backed ring to its file (msync). 0; -EINVAL; or -errno. */
SHMDS_API int shmds_pubsub_sync(const shmds_pubsub_t *ps);

/**
 * Fill *stats (set stats->struct_size first); writes only its first struct_size bytes
 * (see "Versioned structs" in common.h). Never blocks.
 * @return 0; -EINVAL (NULL, or struct_size smaller than the first version's).
 */
SHMDS_API int shmds_pubsub_stats(const shmds_pubsub_t *ps, shmds_pubsub_stats_t *stats);

/* ------------------------------------------------------------ publishing */

/**
 * Publish one value. Never blocks, never fails for lack of room: the oldest message
 * is overwritten.
 * @return 0; -ERANGE (does not fit the variant); -EINVAL (NULL); SHMDS_EVARIANT (BYTES).
 */
SHMDS_API int shmds_pubsub_publish_int(shmds_pubsub_t *ps, int64_t value);

/**
 * Publish values[0..n) in order under one claim (one atomic step for the batch).
 * @return 0; -ERANGE if any value does not fit (then nothing is published); -EINVAL;
 *   SHMDS_EVARIANT. Never blocks.
 */
SHMDS_API int shmds_pubsub_publish_multi_int(shmds_pubsub_t *ps, const int64_t *values,
                                             size_t n);

/**
 * Publish one message of len bytes (data may be NULL when len is 0).
 * @return 0; -E2BIG (len > msg_size); -EINVAL; SHMDS_EVARIANT (integer variants).
 *   Never waits for subscribers. It waits for another publisher only when the ring has
 *   lapped a writer still copying into the same slot: until that copy ends, or at most
 *   0.5 s if that writer died mid-copy (then its slot is taken over, stats.takeovers).
 */
SHMDS_API int shmds_pubsub_publish_bytes(shmds_pubsub_t *ps, const void *data, size_t len);

/**
 * Publish n messages (datas[i], lens[i]) in order under one claim.
 * @return 0; -E2BIG if any is larger than msg_size (then nothing is published);
 *   -EINVAL; SHMDS_EVARIANT. Waits as shmds_pubsub_publish_bytes() does, at most 0.5 s
 *   for the whole call, however many of its slots dead writers left mid-copy.
 */
SHMDS_API int shmds_pubsub_publish_multi_bytes(shmds_pubsub_t *ps, const void *const *datas,
                                               const size_t *lens, size_t n);

/** shmds_pubsub_publish_int(), then signal the eventfd (-ENOENT if there is none). */
SHMDS_API int shmds_pubsub_publish_notify_int(shmds_pubsub_t *ps, int64_t value);

/** shmds_pubsub_publish_bytes(), then signal the eventfd (-ENOENT if there is none). */
SHMDS_API int shmds_pubsub_publish_notify_bytes(shmds_pubsub_t *ps, const void *data,
                                                size_t len);

/* ----------------------------------------------------------- subscribing */

/**
 * A new subscriber that sees only messages published from now on.
 * @return 0 with *out; -EINVAL (NULL); -ENOMEM. Never blocks.
 */
SHMDS_API int shmds_pubsub_subscribe(shmds_pubsub_t *ps, shmds_pubsub_sub_t **out);

/** As shmds_pubsub_subscribe(), but starting at the oldest message still held. */
SHMDS_API int shmds_pubsub_subscribe_all(shmds_pubsub_t *ps, shmds_pubsub_sub_t **out);

/** Free a subscriber (NULL is allowed). Touches no shared memory. */
SHMDS_API void shmds_pubsub_sub_close(shmds_pubsub_sub_t *sub);

/**
 * Read the next message into *out and advance. Lapped: jumps to the oldest message
 * held first (overflow count grows).
 * @return 0; -EAGAIN (NOWAIT, nothing new); -ETIMEDOUT; -EINVAL; SHMDS_EVARIANT (BYTES).
 *   Blocks while nothing is new, per timeout_ns.
 */
SHMDS_API int shmds_pubsub_sub_poll_int(shmds_pubsub_sub_t *sub, int64_t *out,
                                        int64_t timeout_ns);

/**
 * Read up to max messages into out[]; waits per timeout_ns for the first one only.
 * @return 0 with *got in 1..max (0 when max is 0); -EAGAIN; -ETIMEDOUT; -EINVAL;
 *   SHMDS_EVARIANT.
 */
SHMDS_API int shmds_pubsub_sub_poll_multi_int(shmds_pubsub_sub_t *sub, int64_t *out,
                                              size_t max, size_t *got, int64_t timeout_ns);

/**
 * Read everything new, up to max, without waiting.
 * @return 0 with *got in 0..max; -EINVAL; SHMDS_EVARIANT. Never blocks.
 */
SHMDS_API int shmds_pubsub_sub_drain_int(shmds_pubsub_sub_t *sub, int64_t *out, size_t max,
                                         size_t *got);

/**
 * Read the next message into buf[0..buf_size); *len (required) gets its length.
 * @return 0; -ENOBUFS (buf too small: *len = length needed, the cursor stays);
 *   -EAGAIN; -ETIMEDOUT; -EINVAL; SHMDS_EVARIANT (integer variants). Blocks per
 *   timeout_ns.
 */
SHMDS_API int shmds_pubsub_sub_poll_bytes(shmds_pubsub_sub_t *sub, void *buf, size_t buf_size,
                                          size_t *len, int64_t timeout_ns);

/**
 * Read up to max messages packed back to back into buf; lens[i] gets the length of
 * message i. Stops early at a message that would overflow buf (it stays unread).
 * Waits per timeout_ns for the first message only.
 * @return 0 with *got >= 1; -ENOBUFS (not even the first fits: lens[0] = its length);
 *   -EAGAIN; -ETIMEDOUT; -EINVAL; SHMDS_EVARIANT.
 */
SHMDS_API int shmds_pubsub_sub_poll_multi_bytes(shmds_pubsub_sub_t *sub, void *buf,
                                                size_t buf_size, size_t *lens, size_t max,
                                                size_t *got, int64_t timeout_ns);

/**
 * As shmds_pubsub_sub_poll_multi_bytes() without waiting; nothing new is success with
 * *got = 0. Never blocks.
 */
SHMDS_API int shmds_pubsub_sub_drain_bytes(shmds_pubsub_sub_t *sub, void *buf, size_t buf_size,
                                           size_t *lens, size_t max, size_t *got);

/** Messages published but not yet read by sub (may exceed capacity); 0 for NULL. */
SHMDS_API uint64_t shmds_pubsub_sub_lag(const shmds_pubsub_sub_t *sub);

/** Messages sub missed because it was lapped; 0 for NULL. */
SHMDS_API uint64_t shmds_pubsub_sub_overflow_count(const shmds_pubsub_sub_t *sub);

/** Positions sub skipped because their publisher never committed them (or they were
 *  damaged); 0 for NULL. */
SHMDS_API uint64_t shmds_pubsub_sub_skipped_count(const shmds_pubsub_sub_t *sub);

/** The position of the next message sub will read; 0 for NULL. */
SHMDS_API uint64_t shmds_pubsub_sub_cursor(const shmds_pubsub_sub_t *sub);

/**
 * Move the cursor to position pos (a value from _cursor() or _write_pos()). A position
 * no longer held reads as lapped; one not yet published waits for it.
 * @return 0; -EINVAL for NULL.
 */
SHMDS_API int shmds_pubsub_sub_set_cursor(shmds_pubsub_sub_t *sub, uint64_t pos);

/** The ring's write position (as shmds_pubsub_write_pos()); 0 for NULL. */
SHMDS_API uint64_t shmds_pubsub_sub_write_pos(const shmds_pubsub_sub_t *sub);

/** Jump to the newest position: skip everything unread. 0; -EINVAL for NULL. */
SHMDS_API int shmds_pubsub_sub_reset(shmds_pubsub_sub_t *sub);

/** Jump back to the oldest message still held. 0; -EINVAL for NULL. */
SHMDS_API int shmds_pubsub_sub_reset_oldest(shmds_pubsub_sub_t *sub);

/**
 * The eventfd of the subscriber's pubsub handle (created there on first use, owned by
 * that handle), for epoll. Readable after a publisher notifies.
 * @return the fd (>= 0); -EINVAL; -errno.
 */
SHMDS_API int shmds_pubsub_sub_eventfd(shmds_pubsub_sub_t *sub);

/* ------------------------------------------------- eventfd (common.h, "Eventfds") */

/**
 * The handle's eventfd, created on first call (non-blocking, close-on-exec) and owned
 * by the handle. Share it across fork() or with shmds_send_fd(); attach it elsewhere
 * with shmds_pubsub_set_eventfd().
 * @return the fd (>= 0), or -errno; -EINVAL for NULL.
 */
SHMDS_API int shmds_pubsub_eventfd(shmds_pubsub_t *ps);

/**
 * Use a duplicate of fd (an eventfd) as this handle's eventfd; the caller keeps its
 * own. -1 detaches. Setting the fd the handle already uses is a no-op.
 * @return 0; -EBADF; -EINVAL.
 */
SHMDS_API int shmds_pubsub_set_eventfd(shmds_pubsub_t *ps, int fd);

/** Signal the eventfd (add 1). 0; -ENOENT if the handle has no eventfd; -EINVAL. */
SHMDS_API int shmds_pubsub_notify(shmds_pubsub_t *ps);

/**
 * Read and reset the eventfd counter into *count (optional).
 * @return 0; -EAGAIN if nothing is pending; -ENOENT if no eventfd; -EINVAL. Never blocks.
 */
SHMDS_API int shmds_pubsub_eventfd_consume(shmds_pubsub_t *ps, uint64_t *count);

#ifdef __cplusplus
}
#endif

#endif /* SHMDS_PUBSUB_H */
