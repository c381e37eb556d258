/*
 * libshmds pool: `capacity` fixed-size slots in shared memory, handed out by index to
 * any number of processes (alloc) and given back (free). For scratch buffers, job
 * records, counters a worker owns while it runs: a process allocates a slot, uses it
 * through the typed verbs or a pointer, and frees it.
 *
 * Variants, fixed at creation: SHMDS_POOL_RAW (slots of elem_size bytes with no type),
 * any integer shmds_type_t (SHMDS_TYPE_INT8 ... _UINT64), SHMDS_TYPE_F32/_F64, and
 * SHMDS_TYPE_BYTES (byte strings of at most max_len bytes, stored with their length, so
 * NUL, 0xFF and the empty string come back exact; longer is refused with -E2BIG, never
 * truncated). Slots are contiguous: slot i starts at shmds_pool_data_ptr() + i *
 * shmds_pool_elem_size(), so the data area is a plain C array that qsort(), numpy or an
 * FFI can use directly. Number slots are stored at their type's width (an int32 pool is
 * an int32_t array), naturally aligned; a bytes slot is a uint32_t length followed by
 * max_len bytes (elem_size = 4 + max_len rounded up to 4); a raw slot is exactly
 * elem_size bytes.
 *
 * Allocation: each slot has an owner word, 0 when free, else the allocating process's
 * identity (PID + start time, safe against PID reuse). alloc takes a free slot with one
 * compare-and-swap of that word, which both takes the slot and records its owner, and
 * then zeroes the slot's data. Any process may free any allocated slot (slots are meant
 * to be handed between processes: a producer allocates, a consumer frees); freeing a
 * free slot is -ENOENT. alloc scans from where this handle last allocated or freed, so
 * an alloc/free loop reuses one warm slot.
 *
 * Crash model: a process may be killed at any instruction. Its slots stay allocated
 * until someone notices it is dead, and that happens by itself: an alloc that finds no
 * free slot frees every slot whose owner is dead and takes one (a try at most once per
 * 10 ms per process, a blocking alloc on every re-attempt, i.e. within 100 ms), counted
 * in stats.recoveries. There is no window in which a slot is taken but has no owner (the
 * reference design's bitmap-then-owner gap). shmds_pool_recover_stale() does the same on
 * demand. A process killed inside alloc after the compare-and-swap holds a slot whose
 * data was not zeroed yet: it is reclaimed like any other, and zeroed when handed out.
 * A killed sleeper is taken off the wait list later (stats.recoveries). A free's wake
 * lost with a killed freer costs a sleeper at most 100 ms.
 *
 * Slot contents: the number verbs (get/set/cas/exchange/add/incr/decr) are single
 * atomics of the slot's width (floats through an integer of the same width), so they are
 * safe between processes sharing a slot. Raw and bytes slots are copied with memcpy:
 * they are the owner's business, and a get racing a set of the same slot may see a mix
 * (a bytes get never reads past max_len; a length above it is SHMDS_ECORRUPT). No slot
 * verb checks that the slot is allocated or by whom.
 *
 * Blocking: alloc and alloc_n take timeout_ns (common.h); free, free_n, reset and
 * reclaims wake sleepers only when some are waiting. Nothing signals the eventfd by
 * itself: call shmds_pool_notify() (common.h, "Eventfds").
 *
 * Counts: used and available are computed from the owner words when asked (one load per
 * slot): exact for the instant each word is read; never drifted by a crash.
 *
 * Thread safety: a handle may be shared by the threads of a process and used in a
 * fork() child (the child allocates under its own identity). shmds_pool_close() must not
 * race other calls on the same handle. A damaged or hostile segment can make calls fail
 * with SHMDS_ECORRUPT or return wrong values, never read or write outside the mapping.
 */
#ifndef SHMDS_POOL_H
#define SHMDS_POOL_H

#include <shmds/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque handle to a mapped pool. */
typedef struct shmds_pool shmds_pool_t;

/** The variant of untyped slots of a caller-chosen size (not a shmds_type_t). */
#define SHMDS_POOL_RAW 100
/** For shmds_pool_open(): accept whatever variant the segment holds. */
#define SHMDS_POOL_ANY 0

/** Geometry of a new pool. Initialise with SHMDS_POOL_CONFIG_INIT or
 * shmds_pool_config_init(). */
typedef struct shmds_pool_config {
    size_t struct_size; /**< sizeof(shmds_pool_config_t) */
    int variant;        /**< SHMDS_POOL_RAW or a shmds_type_t */
    uint64_t capacity;  /**< slots, 1 ..= 2^30 */
    uint64_t elem_size; /**< SHMDS_POOL_RAW: bytes per slot; SHMDS_TYPE_BYTES: max_len;
                             both 1 ..= 2^20. Number variants: 0 (or the
                             type's width) */
} shmds_pool_config_t;

#define SHMDS_POOL_CONFIG_INIT(variant, capacity, elem_size) \
    { sizeof(shmds_pool_config_t), (variant), (uint64_t)(capacity), (uint64_t)(elem_size) }

/**
 * SHMDS_POOL_CONFIG_INIT(variant, capacity, elem_size) as a function, for FFI.
 * @return 0; -EINVAL (out is NULL, or struct_size below the first version's). Does not
 *   check the values: shmds_pool_create() does.
 */
SHMDS_API int shmds_pool_config_init(shmds_pool_config_t *out, size_t struct_size, int variant,
                                     uint64_t capacity, uint64_t elem_size);

/** Counters and gauges; a snapshot while other processes allocate. */
typedef struct shmds_pool_stats {
    size_t struct_size;     /**< set by the caller: sizeof(shmds_pool_stats_t) */
    uint64_t capacity;      /**< slots */
    uint64_t used;          /**< allocated slots (owner words read one by one) */
    uint64_t available;     /**< capacity - used */
    uint64_t elem_size;     /**< bytes per slot in the data area */
    uint64_t max_len;       /**< SHMDS_TYPE_BYTES: the longest value; else 0 */
    uint64_t recoveries;    /**< dead owners' slots reclaimed + dead sleepers removed */
    uint64_t segment_bytes; /**< size of the whole mapping */
    uint32_t waiters;       /**< processes or threads asleep in alloc/alloc_n now */
} shmds_pool_stats_t;

/* ------------------------------------------------------------- lifecycle */

/**
 * Create a pool, or attach to the existing one at the same path (its geometry wins; its
 * variant must equal cfg->variant). Every slot starts free and zeroed.
 * @param opts  backing; NULL = anonymous (shared with fork() children only).
 * @param cfg   variant, capacity, elem_size; must not be NULL.
 * @param out   receives the handle; untouched on failure.
 * @return 0; -EINVAL (unknown variant, capacity 0 or above 2^30, elem_size missing,
 *   too large, or for a number variant neither 0 nor the type's width, bad options:
 *   the sentence says which);
 *   -EEXIST (SHMDS_EXCL and the file exists); -ENOSPC; -EACCES, other -errno from
 *   open/mmap/memfd_create; SHMDS_ETYPE (the existing segment is another structure or
 *   variant); SHMDS_EVERSION; SHMDS_ECORRUPT (not a valid segment; never overwritten).
 * Blocks only while another process is initialising the same path.
 */
SHMDS_API int shmds_pool_create(const shmds_options_t *opts, const shmds_pool_config_t *cfg,
                                shmds_pool_t **out);

/**
 * Attach to an existing pool (PATH or FD backing), reading its geometry from the segment
 * after validating all of it.
 * @param variant  the variant expected, or SHMDS_POOL_ANY.
 * @return 0; -ENOENT (no such file); -EINVAL (unknown variant, anonymous or
 *   memfd-by-name backing); SHMDS_ETYPE; SHMDS_EVERSION; SHMDS_ECORRUPT; other -errno.
 */
SHMDS_API int shmds_pool_open(const shmds_options_t *opts, int variant, shmds_pool_t **out);

/** Unmap and free the handle (NULL is allowed). The segment and its slots stay. */
SHMDS_API void shmds_pool_close(shmds_pool_t *p);

/** The variant (SHMDS_POOL_RAW or a shmds_type_t), or -EINVAL for NULL. */
SHMDS_API int shmds_pool_variant(const shmds_pool_t *p);

/**
 * The descriptor behind the segment (file or memfd), owned by the handle: pass it with
 * shmds_send_fd(), do not close it. -ENOENT for anonymous pools, -EINVAL for NULL.
 */
SHMDS_API int shmds_pool_fd(const shmds_pool_t *p);

/** Flush a file-backed pool to its file (msync). 0 or -errno; -EINVAL for NULL. */
SHMDS_API int shmds_pool_sync(const shmds_pool_t *p);

/* ------------------------------------------------------------ allocation */

/**
 * Allocate a free slot for the calling process and zero its data, waiting up to
 * timeout_ns while every slot is allocated (common.h). Before waiting, and on every
 * re-attempt while waiting, slots of dead owners are reclaimed (see the crash model).
 * @param index  receives the slot's index.
 * @return 0; -EAGAIN (SHMDS_NOWAIT and no slot free); -ETIMEDOUT; -EINVAL (NULL
 *   handle or index, bad timeout).
 */
SHMDS_API int shmds_pool_alloc(shmds_pool_t *p, int64_t timeout_ns, uint64_t *index);

/** shmds_pool_alloc(p, SHMDS_NOWAIT, index): never blocks. Same return codes. */
SHMDS_API int shmds_pool_try_alloc(shmds_pool_t *p, uint64_t *index);

/**
 * Allocate a slot and store `value` in it in one call (the reference's alloc_set): the
 * value is checked against the pool's type before anything is allocated, so a refused
 * value leaves no slot behind. Waits like shmds_pool_alloc(). The store is one atomic of
 * the slot's width (bytes: a copy) after the alloc: a process killed between the two
 * holds a zeroed slot, reclaimed like any other. Which variant takes which form: as the
 * slot verbs below (_int: signed types and uint8..uint32; _uint: unsigned types; _f64:
 * f32/f64; _bytes: SHMDS_TYPE_BYTES, NUL and 0xFF included, len 0 the empty value).
 * @param index  receives the slot's index.
 * @return 0; -EAGAIN (SHMDS_NOWAIT and no slot free); -ETIMEDOUT; -ERANGE (the value
 *   does not fit the type: nothing allocated); -E2BIG (_bytes: len above max_len:
 *   nothing allocated); SHMDS_EVARIANT (the pool's variant is of another form);
 *   -EINVAL (NULL handle or index, NULL data with len > 0, bad timeout).
 */
SHMDS_API int shmds_pool_alloc_set_int(shmds_pool_t *p, int64_t value, int64_t timeout_ns,
                                       uint64_t *index);
SHMDS_API int shmds_pool_alloc_set_uint(shmds_pool_t *p, uint64_t value, int64_t timeout_ns,
                                        uint64_t *index);
SHMDS_API int shmds_pool_alloc_set_f64(shmds_pool_t *p, double value, int64_t timeout_ns,
                                       uint64_t *index);
SHMDS_API int shmds_pool_alloc_set_bytes(shmds_pool_t *p, const void *data, size_t len,
                                         int64_t timeout_ns, uint64_t *index);
/** The alloc_set verbs with SHMDS_NOWAIT: never block. Same return codes. */
SHMDS_API int shmds_pool_try_alloc_set_int(shmds_pool_t *p, int64_t value, uint64_t *index);
SHMDS_API int shmds_pool_try_alloc_set_uint(shmds_pool_t *p, uint64_t value, uint64_t *index);
SHMDS_API int shmds_pool_try_alloc_set_f64(shmds_pool_t *p, double value, uint64_t *index);
SHMDS_API int shmds_pool_try_alloc_set_bytes(shmds_pool_t *p, const void *data, size_t len,
                                             uint64_t *index);

/**
 * Allocate n slots at once, all or none: indices[0..n) receive them (in scan order),
 * each zeroed. Waits up to timeout_ns until n slots are free together. A process killed
 * inside alloc_n leaves the slots it took owned by itself, so they are reclaimed.
 * n = 0 succeeds at once.
 * @return 0; -EAGAIN (SHMDS_NOWAIT and fewer than n free); -ETIMEDOUT; -EINVAL (n above
 *   the capacity, NULL handle, NULL indices with n > 0, bad timeout).
 */
SHMDS_API int shmds_pool_alloc_n(shmds_pool_t *p, size_t n, uint64_t *indices,
                                 int64_t timeout_ns);

/**
 * Free a slot (any process may free any allocated slot) and wake one sleeping alloc.
 * The data stays until the next alloc of the slot zeroes it.
 * @return 0; -ENOENT (the slot is free already); -EINVAL (index out of range, NULL).
 * Never blocks.
 */
SHMDS_API int shmds_pool_free(shmds_pool_t *p, uint64_t index);

/**
 * Free every allocated slot of indices[0..n), then wake as many sleepers as slots were
 * freed. Slots already free are skipped (not an error).
 * @param freed  optional: how many of the slots were allocated (and are now free).
 * @return 0; -EINVAL (an index out of range: nothing freed; NULL handle; NULL indices
 *   with n > 0). Never blocks.
 */
SHMDS_API int shmds_pool_free_n(shmds_pool_t *p, const uint64_t *indices, size_t n,
                                size_t *freed);

/**
 * Free every slot and wake every sleeper. Concurrency rule: safe to call at any time
 * (no slot is ever handed out twice by it), but a process still using a slot loses it
 * silently, and a later free of it returns -ENOENT (or frees a new owner's slot): call
 * it when no process holds slots it will keep using.
 * @param freed  optional: how many slots were allocated.
 * @return 0; -EINVAL (NULL). Never blocks.
 */
SHMDS_API int shmds_pool_reset(shmds_pool_t *p, uint64_t *freed);

/**
 * Free every slot whose owner process is dead (also done by alloc when the pool is
 * full), counted in stats.recoveries, and wake sleepers for them.
 * @param reclaimed  optional: how many slots were freed.
 * @return 0; -EINVAL (NULL). Never blocks (reads /proc once per owner process).
 */
SHMDS_API int shmds_pool_recover_stale(shmds_pool_t *p, uint64_t *reclaimed);

/* --------------------------------------------------------------- queries */

/** 1 if slot `index` is allocated, 0 if free; -EINVAL (out of range, NULL). */
SHMDS_API int shmds_pool_is_allocated(const shmds_pool_t *p, uint64_t index);

/**
 * The PID of the process that allocated slot `index` (*pid = 0 when the slot is free).
 * A dead owner's PID is reported until its slot is reclaimed.
 * @return 0; -EINVAL (out of range, NULL handle or pid).
 */
SHMDS_API int shmds_pool_owner(const shmds_pool_t *p, uint64_t index, int32_t *pid);

/** Allocated slots now (one load per slot); 0 for NULL. */
SHMDS_API uint64_t shmds_pool_used(const shmds_pool_t *p);
/** capacity - used; 0 for NULL. */
SHMDS_API uint64_t shmds_pool_available(const shmds_pool_t *p);
/** Slots, as created; 0 for NULL. */
SHMDS_API uint64_t shmds_pool_capacity(const shmds_pool_t *p);
/** Bytes per slot in the data area (the stride); 0 for NULL. */
SHMDS_API uint64_t shmds_pool_elem_size(const shmds_pool_t *p);
/** SHMDS_TYPE_BYTES: the longest value a slot holds; else 0 (and 0 for NULL). */
SHMDS_API uint64_t shmds_pool_max_len(const shmds_pool_t *p);

/** shmds_pool_each_allocated's callback: return nonzero to stop the walk. */
typedef int (*shmds_pool_visit_fn)(uint64_t index, int32_t owner_pid, void *ctx);

/**
 * Call visit(index, owner_pid, ctx) for every allocated slot, in index order, as each
 * owner word is read (slots allocated or freed meanwhile may or may not be seen). The
 * callback may call any pool verb, including free.
 * @return 0 (walked every slot); the callback's nonzero value (stopped there);
 *   -EINVAL (NULL handle or visit).
 */
SHMDS_API int shmds_pool_each_allocated(const shmds_pool_t *p, shmds_pool_visit_fn visit,
                                        void *ctx);

/**
 * The indices of the allocated slots, in order, into out[0..max).
 * @param count  receives how many were allocated (also on -ENOBUFS).
 * @return 0; -ENOBUFS (more than max: out holds the first max); -EINVAL (NULL handle or
 *   count, NULL out with max > 0).
 */
SHMDS_API int shmds_pool_allocated(const shmds_pool_t *p, uint64_t *out, size_t max,
                                   size_t *count);

/* ----------------------------------------------------------- slot access
 * Every slot verb takes the slot's index and returns -EINVAL when it is out of range
 * (or the handle or an output pointer is NULL), SHMDS_EVARIANT when the pool's variant
 * is of another form. None checks that the slot is allocated. None blocks.
 *
 * Integer forms: the _int verbs work on the signed types and on uint8..uint32 (every
 * value fits int64_t); the _uint verbs on the unsigned types. Values are range-checked
 * against the type (-ERANGE, nothing changed). add/incr/decr wrap modulo 2^width, like
 * the hardware atomics; a delta must satisfy |delta| < 2^width (-ERANGE). */

/** Read slot `index`: one atomic load of its width. */
SHMDS_API int shmds_pool_get_int(const shmds_pool_t *p, uint64_t index, int64_t *out);
SHMDS_API int shmds_pool_get_uint(const shmds_pool_t *p, uint64_t index, uint64_t *out);
/** Float slots (f32 widened to double). */
SHMDS_API int shmds_pool_get_f64(const shmds_pool_t *p, uint64_t index, double *out);

/** Write slot `index`: one atomic store. -ERANGE (does not fit the type: unchanged). */
SHMDS_API int shmds_pool_set_int(shmds_pool_t *p, uint64_t index, int64_t value);
SHMDS_API int shmds_pool_set_uint(shmds_pool_t *p, uint64_t index, uint64_t value);
/** Float slots; an f32 slot refuses a finite value out of float range (-ERANGE). */
SHMDS_API int shmds_pool_set_f64(shmds_pool_t *p, uint64_t index, double value);

/**
 * Compare and swap: store `desired` only if the slot holds `expected`.
 * @param old  optional: the value found (the reference's cmpxchg).
 * @return 0 (swapped); -ECANCELED (the slot held another value: unchanged); -ERANGE
 *   (expected or desired does not fit the type); -EINVAL; SHMDS_EVARIANT.
 */
SHMDS_API int shmds_pool_cas_int(shmds_pool_t *p, uint64_t index, int64_t expected,
                                 int64_t desired, int64_t *old);
SHMDS_API int shmds_pool_cas_uint(shmds_pool_t *p, uint64_t index, uint64_t expected,
                                  uint64_t desired, uint64_t *old);

/** Store `value` and return the previous one in *old (optional). -ERANGE as set. */
SHMDS_API int shmds_pool_exchange_int(shmds_pool_t *p, uint64_t index, int64_t value,
                                      int64_t *old);
SHMDS_API int shmds_pool_exchange_uint(shmds_pool_t *p, uint64_t index, uint64_t value,
                                       uint64_t *old);

/** Add `delta` (wrapping) and return the new value in *now (optional). */
SHMDS_API int shmds_pool_add_int(shmds_pool_t *p, uint64_t index, int64_t delta, int64_t *now);
SHMDS_API int shmds_pool_add_uint(shmds_pool_t *p, uint64_t index, int64_t delta,
                                  uint64_t *now);
/** add 1 / add -1. */
SHMDS_API int shmds_pool_incr_int(shmds_pool_t *p, uint64_t index, int64_t *now);
SHMDS_API int shmds_pool_decr_int(shmds_pool_t *p, uint64_t index, int64_t *now);
SHMDS_API int shmds_pool_incr_uint(shmds_pool_t *p, uint64_t index, uint64_t *now);
SHMDS_API int shmds_pool_decr_uint(shmds_pool_t *p, uint64_t index, uint64_t *now);

/**
 * SHMDS_TYPE_BYTES: store `len` bytes (NUL and 0xFF included; 0 is the empty value).
 * Not atomic against a concurrent get of the same slot.
 * @return 0; -E2BIG (len above max_len: unchanged); -EINVAL (NULL data with len > 0);
 *   SHMDS_EVARIANT.
 */
SHMDS_API int shmds_pool_set_bytes(shmds_pool_t *p, uint64_t index, const void *data,
                                   size_t len);
/**
 * SHMDS_TYPE_BYTES: copy the value into buf[0..buf_size); *len receives its length.
 * @return 0; -ENOBUFS (buf_size < *len: nothing copied, *len set); SHMDS_ECORRUPT (the
 *   stored length exceeds max_len); -EINVAL (NULL len, NULL buf with buf_size > 0);
 *   SHMDS_EVARIANT.
 */
SHMDS_API int shmds_pool_get_bytes(const shmds_pool_t *p, uint64_t index, void *buf,
                                   size_t buf_size, size_t *len);

/**
 * SHMDS_POOL_RAW: copy len <= elem_size bytes into the slot; the rest of the slot is
 * zeroed. Not atomic.
 * @return 0; -E2BIG (len above elem_size); -EINVAL; SHMDS_EVARIANT.
 */
SHMDS_API int shmds_pool_set_raw(shmds_pool_t *p, uint64_t index, const void *data, size_t len);
/**
 * SHMDS_POOL_RAW: copy the slot's elem_size bytes into buf. Not atomic.
 * @return 0; -ENOBUFS (buf_size below elem_size: nothing copied); -EINVAL; SHMDS_EVARIANT.
 */
SHMDS_API int shmds_pool_get_raw(const shmds_pool_t *p, uint64_t index, void *buf,
                                 size_t buf_size);

/**
 * The start of the data area (slot 0), for zero-copy use: slot i is at
 * data_ptr + i * shmds_pool_elem_size(). Valid until shmds_pool_close(). Writes through
 * it are the caller's business (number slots: use atomics if others touch the slot).
 * NULL for NULL.
 */
SHMDS_API void *shmds_pool_data_ptr(shmds_pool_t *p);
/** The start of slot `index`; NULL when out of range (or p is NULL). */
SHMDS_API void *shmds_pool_slot_ptr(shmds_pool_t *p, uint64_t index);

/**
 * Fill *stats (see "Versioned structs" in common.h). Never blocks; reads every owner
 * word once.
 * @return 0; -EINVAL (NULL, or struct_size smaller than the first version's).
 */
SHMDS_API int shmds_pool_stats(shmds_pool_t *p, shmds_pool_stats_t *stats);

/** stats.recoveries alone; 0 for NULL. */
SHMDS_API uint64_t shmds_pool_recoveries(const shmds_pool_t *p);

/* ------------------------------------------------- eventfd (common.h, "Eventfds") */

/**
 * The handle's eventfd for epoll, created on first call (non-blocking, close-on-exec)
 * and owned by the handle. Share it across fork() or with shmds_send_fd() and attach it
 * on the other side with shmds_pool_set_eventfd().
 * @return the fd (>= 0), or -errno (-EMFILE...); -EINVAL for NULL.
 */
SHMDS_API int shmds_pool_eventfd(shmds_pool_t *p);

/**
 * Use a duplicate of `fd` (an eventfd) as this handle's eventfd; the caller keeps its
 * own fd. -1 detaches. Setting the fd the handle already uses is a no-op.
 * @return 0; -EBADF; -EINVAL.
 */
SHMDS_API int shmds_pool_set_eventfd(shmds_pool_t *p, int fd);

/** Signal the eventfd (add 1). 0; -ENOENT if the handle has no eventfd; -EINVAL. */
SHMDS_API int shmds_pool_notify(shmds_pool_t *p);

/**
 * Read and reset the eventfd counter into *count (optional).
 * @return 0; -EAGAIN if nothing is pending; -ENOENT if no eventfd; -EINVAL. Never blocks.
 */
SHMDS_API int shmds_pool_eventfd_consume(shmds_pool_t *p, uint64_t *count);

#ifdef __cplusplus
}
#endif

#endif /* SHMDS_POOL_H */
