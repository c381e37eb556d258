/*
 * libshmds reqrep: request/response between processes through shared memory.
 * Clients send requests into a bounded queue; servers receive them and reply to the
 * request's id; each request owns a response slot, so a reply reaches exactly the
 * client that asked, and only while it still waits for it.
 *
 * One handle, both roles: every process that maps the segment can send (client verbs)
 * and receive/reply (server verbs) through the same shmds_reqrep_t. The roles share
 * one segment, geometry and descriptors, anonymous and memfd segments can only be
 * reached through a handle anyway, and a proxy that is both client and server needs no
 * second mapping. shmds_reqrep_pending() counts what was sent through this handle.
 *
 * Variants
 *   SHMDS_REQREP_INT64: one int64_t each way.
 *   SHMDS_REQREP_BYTES: requests of 0..req_size bytes, replies of 0..resp_size bytes
 *     (default 256 each).
 *
 * Ids: the send verbs return a 64-bit id, generation << 32 | slot. The generation
 * changes every time the slot is reused, so an old (stale) id is refused with -ENOENT
 * and never reads another request's reply.
 *
 * Blocking: verbs with `timeout_ns` follow common.h. Sleepers use no CPU. Sending and
 * replying never signal the eventfds by themselves: use shmds_reqrep_notify() (the
 * eventfd rule of the whole library is in common.h, "Eventfds").
 *
 * Crash behaviour: the request queue is under a crash-recoverable lock; every change
 * commits with one store, so a sender or receiver killed anywhere leaves it intact
 * (takeovers counted in stats.recoveries). A reply is copied only after the slot is
 * claimed for writing, so a cancelled or recycled request can never receive it. A
 * response slot whose client died is reclaimed by the next send that finds no free
 * slot (stats.reclaimed). A server that dies holding a request (received, not yet
 * answered, or killed while writing the reply) leaves its client a clean -ETIMEDOUT
 * from get; the client then cancels to free the slot.
 *
 * Thread safety: a handle may be shared by threads and used after fork(); the child is
 * another client (its own pending count starts from the parent's value).
 */
#ifndef SHMDS_REQREP_H
#define SHMDS_REQREP_H

#include <shmds/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque handle to a mapped reqrep segment (client and server). */
typedef struct shmds_reqrep shmds_reqrep_t;

/** ReqRep variants (stored in the segment). */
typedef enum shmds_reqrep_variant {
    SHMDS_REQREP_ANY = 0, /**< for shmds_reqrep_open(): accept what the segment holds */
    SHMDS_REQREP_INT64 = 1,
    SHMDS_REQREP_BYTES = 2
} shmds_reqrep_variant_t;

/** Which of the handle's two eventfds a call means. */
typedef enum shmds_reqrep_channel {
    SHMDS_REQREP_REQUESTS = 0, /**< servers wait on this one: requests were sent */
    SHMDS_REQREP_REPLIES = 1   /**< clients wait on this one: replies were written */
} shmds_reqrep_channel_t;

/** Geometry of a new segment. Initialise with SHMDS_REQREP_CONFIG_INIT
 * or shmds_reqrep_config_init(). */
typedef struct shmds_reqrep_config {
    size_t struct_size;        /**< sizeof(shmds_reqrep_config_t) */
    int variant;               /**< a shmds_reqrep_variant_t other than ANY */
    uint64_t request_capacity; /**< queued requests (1 ..= 2^24), rounded up to 2^k */
    uint64_t response_slots;   /**< requests in flight at once (1 ..= 2^20) */
    uint64_t req_size;         /**< BYTES: largest request, 0 = 256, at most 16 MiB */
    uint64_t resp_size;        /**< BYTES: largest reply, 0 = 256, at most 16 MiB */
} shmds_reqrep_config_t;

#define SHMDS_REQREP_CONFIG_INIT(variant, request_capacity, response_slots)            \
    { sizeof(shmds_reqrep_config_t), (variant), (uint64_t)(request_capacity),        \
      (uint64_t)(response_slots), 0u, 0u }

/**
 * SHMDS_REQREP_CONFIG_INIT(variant, request_capacity, response_slots) as a function, for FFI:
 * shmds_reqrep_config_init(&cfg, sizeof cfg, ...)
 * (variant and counts set, req_size and resp_size 0). See the *_init convention in common.h.
 * @return 0; -EINVAL (out is NULL, or struct_size below the first version's). Does
 *   not check the values: shmds_reqrep_create() does.
 */
SHMDS_API int shmds_reqrep_config_init(shmds_reqrep_config_t *out, size_t struct_size,
                                       int variant, uint64_t request_capacity,
                                       uint64_t response_slots);

/** Counters; approximate while other processes are operating. */
typedef struct shmds_reqrep_stats {
    size_t struct_size;        /**< set by the caller: sizeof(shmds_reqrep_stats_t) */
    uint64_t request_capacity; /**< queue entries */
    uint64_t response_slots;   /**< slots */
    uint64_t req_size;         /**< largest request */
    uint64_t resp_size;        /**< largest reply */
    uint64_t queued;           /**< requests waiting for a server now */
    uint64_t slots_in_use;     /**< requests in flight now */
    uint64_t sent;             /**< requests queued, ever */
    uint64_t received;         /**< requests taken by servers, ever */
    uint64_t replied;          /**< replies written, ever */
    uint64_t collected;        /**< replies collected by clients, ever */
    uint64_t cancelled;        /**< requests cancelled, ever */
    uint64_t reclaimed;        /**< slots of dead clients taken back */
    uint64_t send_full;        /**< sends refused: queue full or no slot free */
    uint64_t reply_refused;    /**< replies to cancelled, stale or answered ids */
    uint64_t recoveries;       /**< lock takeovers, reclaimed slots, dead sleepers */
    uint64_t segment_bytes;    /**< size of the whole mapping */
    uint32_t waiting_servers;  /**< servers asleep in recv now */
    uint32_t waiting_senders;  /**< clients asleep in send now */
} shmds_reqrep_stats_t;

/* ------------------------------------------------------------- lifecycle */

/**
 * Create a segment, or attach to the existing one at the same path (its geometry wins;
 * its variant must equal cfg->variant).
 * @param opts  backing; NULL = anonymous (shared with fork() children only).
 * @return 0; -EINVAL (bad config or options: the sentence says which); -EEXIST;
 *   -ENOSPC; -EACCES, -ELOOP, other -errno; SHMDS_ETYPE; SHMDS_EVERSION; SHMDS_ECORRUPT.
 * Blocks only while another process is initialising the same path.
 */
SHMDS_API int shmds_reqrep_create(const shmds_options_t *opts, const shmds_reqrep_config_t *cfg,
                                  shmds_reqrep_t **out);

/**
 * Attach to an existing segment (PATH or FD backing), validating all of it.
 * @param variant  the variant expected, or SHMDS_REQREP_ANY.
 * @return 0; -ENOENT; -EINVAL; SHMDS_ETYPE; SHMDS_EVERSION; SHMDS_ECORRUPT; other -errno.
 */
SHMDS_API int shmds_reqrep_open(const shmds_options_t *opts, int variant, shmds_reqrep_t **out);

/** Unmap and free the handle (NULL is allowed). Requests in flight stay in the segment. */
SHMDS_API void shmds_reqrep_close(shmds_reqrep_t *rr);

/** The variant (a shmds_reqrep_variant_t), or -EINVAL for NULL. */
SHMDS_API int shmds_reqrep_variant(const shmds_reqrep_t *rr);

/** The descriptor behind the segment, owned by the handle; -ENOENT if anonymous. */
SHMDS_API int shmds_reqrep_fd(const shmds_reqrep_t *rr);

/** Flush a file-backed segment (msync). 0; -EINVAL; -errno. */
SHMDS_API int shmds_reqrep_sync(const shmds_reqrep_t *rr);

/**
 * Fill *stats (set stats->struct_size first); writes only its first struct_size bytes
 * (see "Versioned structs" in common.h). Never blocks.
 * @return 0; -EINVAL (NULL, or struct_size smaller than the first version's).
 */
SHMDS_API int shmds_reqrep_stats(const shmds_reqrep_t *rr, shmds_reqrep_stats_t *stats);

/* ---------------------------------------------------------- client verbs */

/**
 * Send a request of len bytes; *id (required) receives its id.
 * @return 0; -EAGAIN (NOWAIT and the queue is full or no response slot is free);
 *   -ETIMEDOUT (that stayed so until the deadline); -E2BIG (len > req_size); -EINVAL;
 *   SHMDS_EVARIANT (INT64 segment); SHMDS_ECORRUPT (the request queue is damaged).
 *   Blocks for room and for a slot, per timeout_ns.
 */
SHMDS_API int shmds_reqrep_send_bytes(shmds_reqrep_t *rr, const void *data, size_t len,
                                      uint64_t *id, int64_t timeout_ns);
/** As shmds_reqrep_send_bytes() for an INT64 segment (SHMDS_EVARIANT on BYTES). */
SHMDS_API int shmds_reqrep_send_int(shmds_reqrep_t *rr, int64_t value, uint64_t *id,
                                    int64_t timeout_ns);

/**
 * Collect the reply to id into buf; *len (required) gets its length. Frees the slot.
 * @return 0; -EAGAIN (NOWAIT, no reply yet); -ETIMEDOUT (none before the deadline, e.g.
 *   the server died: the request stays pending, cancel it); -ENOENT (stale, unknown,
 *   already collected or cancelled id); -ENOBUFS (*len = length needed, the reply
 *   stays); -EINVAL; SHMDS_EVARIANT; SHMDS_ECORRUPT. Blocks per timeout_ns.
 */
SHMDS_API int shmds_reqrep_get_bytes(shmds_reqrep_t *rr, uint64_t id, void *buf,
                                     size_t buf_size, size_t *len, int64_t timeout_ns);
/** As shmds_reqrep_get_bytes() for an INT64 segment. */
SHMDS_API int shmds_reqrep_get_int(shmds_reqrep_t *rr, uint64_t id, int64_t *out,
                                   int64_t timeout_ns);

/**
 * Send and wait for the reply under one deadline; on timeout the request is cancelled.
 * @return 0 with the reply; -EAGAIN/-ETIMEDOUT (could not send, or no reply in time:
 *   cancelled); -ENOBUFS (*len = length needed; the reply is discarded); -E2BIG;
 *   -EINVAL; SHMDS_EVARIANT. Blocks per timeout_ns.
 */
SHMDS_API int shmds_reqrep_request_bytes(shmds_reqrep_t *rr, const void *data, size_t len,
                                         void *buf, size_t buf_size, size_t *out_len,
                                         int64_t timeout_ns);
/** As shmds_reqrep_request_bytes() for an INT64 segment. */
SHMDS_API int shmds_reqrep_request_int(shmds_reqrep_t *rr, int64_t value, int64_t *out,
                                       int64_t timeout_ns);

/**
 * Give up on id: its slot is freed now (a reply that already arrived is discarded, and
 * a reply written later is refused with -ECANCELED).
 * @return 0; -ENOENT (stale, unknown, collected or already cancelled); -EAGAIN (a live
 *   server has been writing this reply for over a second: try again); -EINVAL.
 *   Waits only while a server finishes copying the reply (normally microseconds).
 */
SHMDS_API int shmds_reqrep_cancel(shmds_reqrep_t *rr, uint64_t id);

/** Requests sent through this handle and not yet collected or cancelled; 0 for NULL. */
SHMDS_API uint64_t shmds_reqrep_pending(const shmds_reqrep_t *rr);

/* ---------------------------------------------------------- server verbs */

/**
 * Receive the oldest request into buf; *len (required) gets its length, *id (required)
 * the id to reply to.
 * @return 0; -EAGAIN (NOWAIT and none queued); -ETIMEDOUT; -ENOBUFS (*len = length
 *   needed; nothing taken); -EINVAL; SHMDS_EVARIANT; SHMDS_ECORRUPT. Blocks per
 *   timeout_ns.
 */
SHMDS_API int shmds_reqrep_recv_bytes(shmds_reqrep_t *rr, void *buf, size_t buf_size,
                                      size_t *len, uint64_t *id, int64_t timeout_ns);
/** As shmds_reqrep_recv_bytes() for an INT64 segment. */
SHMDS_API int shmds_reqrep_recv_int(shmds_reqrep_t *rr, int64_t *value, uint64_t *id,
                                    int64_t timeout_ns);

/**
 * Receive up to max requests, packed back to back into buf, with lens[i] and ids[i]
 * each, under one lock hold. Waits per timeout_ns for the first only; stops early at
 * one that would overflow buf.
 * @return 0 with *got >= 1 (0 when max is 0); -EAGAIN; -ETIMEDOUT; -ENOBUFS (not even
 *   the first fits: lens[0] = its length); -EINVAL; SHMDS_EVARIANT; SHMDS_ECORRUPT.
 */
SHMDS_API int shmds_reqrep_recv_multi_bytes(shmds_reqrep_t *rr, void *buf, size_t buf_size,
                                            size_t *lens, uint64_t *ids, size_t max,
                                            size_t *got, int64_t timeout_ns);
/** As shmds_reqrep_recv_multi_bytes() for an INT64 segment: values[i], ids[i]. */
SHMDS_API int shmds_reqrep_recv_multi_int(shmds_reqrep_t *rr, int64_t *values, uint64_t *ids,
                                          size_t max, size_t *got, int64_t timeout_ns);

/**
 * Write the reply to id. The slot is claimed before a byte is copied, so the reply can
 * only reach the request it answers.
 * @return 0; -ECANCELED (the client cancelled); -ENOENT (stale or unknown id: the slot
 *   was recycled); -EEXIST (already answered); -E2BIG (len > resp_size); -EINVAL;
 *   SHMDS_EVARIANT. Never blocks.
 */
SHMDS_API int shmds_reqrep_reply_bytes(shmds_reqrep_t *rr, uint64_t id, const void *data,
                                       size_t len);
/** As shmds_reqrep_reply_bytes() for an INT64 segment. */
SHMDS_API int shmds_reqrep_reply_int(shmds_reqrep_t *rr, uint64_t id, int64_t value);

/* ------------------------------------------------- eventfd (common.h, "Eventfds") */

/**
 * The handle's eventfd for `channel` (a shmds_reqrep_channel_t), created on first call
 * (non-blocking, close-on-exec), owned by the handle.
 * @return the fd; -EINVAL (NULL or bad channel); -errno.
 */
SHMDS_API int shmds_reqrep_eventfd(shmds_reqrep_t *rr, int channel);

/** Use a duplicate of fd for `channel`; -1 detaches. 0; -EBADF; -EINVAL. */
SHMDS_API int shmds_reqrep_set_eventfd(shmds_reqrep_t *rr, int channel, int fd);

/** Signal `channel`'s eventfd. 0; -ENOENT (none); -EINVAL. */
SHMDS_API int shmds_reqrep_notify(shmds_reqrep_t *rr, int channel);

/**
 * Read and reset `channel`'s eventfd counter into *count (optional).
 * @return 0; -EAGAIN (nothing pending); -ENOENT (none); -EINVAL. Never blocks.
 */
SHMDS_API int shmds_reqrep_eventfd_consume(shmds_reqrep_t *rr, int channel, uint64_t *count);

#ifdef __cplusplus
}
#endif

#endif /* SHMDS_REQREP_H */
