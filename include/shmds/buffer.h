/*
 * libshmds buffer: a fixed array of `length` typed elements in shared memory, for shared
 * sensor arrays, metric tables, numpy/PDL arrays and vertex buffers filled by one
 * process and read by another.
 *
 * Element types: every shmds_type_t (common.h). Numeric elements are stored packed at
 * their type's width, element i at shmds_buffer_data() + i * elem_size, the data area
 * aligned to 64 bytes: a plain C array of int8_t ... double. A SHMDS_TYPE_BYTES buffer
 * has elements of a fixed `width` (1 ..= 2^20 bytes) chosen at creation: a shorter value
 * is stored zero-padded to the width and read back with its trailing NUL bytes removed
 * (the packed layout numpy calls 'S<width>'; so a value that itself ends in NUL bytes
 * reads back without them); a longer value is refused with -E2BIG, never truncated.
 * Verbs by kind: _int (int64_t) and _uint (uint64_t) on the integer types, range-checked
 * both ways (-ERANGE, never truncated); _f64 (double) on f32 and f64 (an f32 element
 * stores the nearest float); _bytes on bytes buffers. A verb of the wrong kind returns
 * SHMDS_EVARIANT. Every index, offset and length is checked (-ERANGE with a sentence;
 * offset + length is never formed, so it cannot overflow).
 *
 * Consistency: two kinds of access.
 *  - Per element (get/set/add/cas/exchange/and/or/xor on numeric types): one hardware
 *    atomic of the element's width, lock-free, never blocked by anyone.
 *  - Bulk (get_raw/get_slice, set_raw/set_slice/fill/clear, the batches, and every
 *    bytes element, which no hardware atomic covers): a seqlock. Bulk writers take the
 *    buffer's writer lock, mark a write in progress, write, and mark it done. Bulk
 *    readers copy and retry when a bulk write overlapped the copy, so a bulk read never
 *    returns a slice torn by a bulk write. Readers write no shared memory while they do
 *    not wait (a reader waiting for a writer registers as a sleeper, counted out again
 *    if it dies), so a dead reader pins nothing.
 *  Per-element writes do not take part in the seqlock: a bulk read is consistent with
 *  respect to bulk writes, and each element is atomic on its own. An element that a
 *  per-element verb changes while a bulk read copies it is copied old or new (on
 *  hardware that splits wide vector loads below the element's width, the copy could mix
 *  them; use bulk writes for data bulk readers must see whole).
 *
 * Crash model: a per-element verb is one atomic instruction: a killed process leaves the
 * element old or new. A bulk writer killed mid-write leaves the write marked in
 * progress and the lock naming it: readers that wait more than 1 ms probe the writer's
 * liveness and take over a dead one within about 10 ms (counted in stats.recoveries).
 * The data it half wrote stays as it left it (no undo): each numeric element is old or
 * new (bulk writes store whole elements atomically); a bytes element being copied when
 * the writer died may be part old, part new. A writer killed after finishing but before
 * waking sleeping readers costs them at most one probe interval.
 *
 * Blocking: per-element numeric verbs never block. Bulk verbs and bytes-element verbs
 * take timeout_ns (common.h: SHMDS_NOWAIT, SHMDS_FOREVER or nanoseconds): a bulk write
 * waits for the writer lock, a bulk read waits while a bulk write is in progress; both
 * return -EAGAIN (NOWAIT) or -ETIMEDOUT when a live writer keeps them out. A dead
 * writer never blocks anyone for good, even with NOWAIT (a try probes the holder at once).
 * Writes never signal the eventfd by themselves: call shmds_buffer_notify().
 *
 * Zero-copy: shmds_buffer_data() is a read-only pointer to the data. Reading through it
 * is a bulk read without the seqlock: wrap it in shmds_buffer_read_begin/_end (and
 * retry when _end says -EAGAIN) to get a consistent view. shmds_buffer_write_begin()
 * gives a writable pointer, valid for the calling thread until shmds_buffer_write_end().
 *
 * Thread safety: a handle may be shared by the threads of a process and used in a
 * fork() child. A write batch belongs to the thread that began it. shmds_buffer_close()
 * must not race other calls on the same handle. A damaged or hostile segment can make
 * reads report wrong values, never read or write outside the mapping.
 */
#ifndef SHMDS_BUFFER_H
#define SHMDS_BUFFER_H

#include <shmds/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque handle to a mapped buffer. */
typedef struct shmds_buffer shmds_buffer_t;

/** Geometry of a new buffer. Initialise with SHMDS_BUFFER_CONFIG_INIT or
 * shmds_buffer_config_init(). */
typedef struct shmds_buffer_config {
    size_t struct_size; /**< sizeof(shmds_buffer_config_t) */
    int type;           /**< any shmds_type_t */
    uint64_t length;    /**< elements (1 ..= 2^36; at most 2^40 data bytes) */
    uint64_t width;     /**< SHMDS_TYPE_BYTES only (then required): bytes per element,
                             1 ..= 2^20; 0 for other types */
} shmds_buffer_config_t;

#define SHMDS_BUFFER_CONFIG_INIT(type, length, width) \
    { sizeof(shmds_buffer_config_t), (type), (uint64_t)(length), (uint64_t)(width) }

/**
 * SHMDS_BUFFER_CONFIG_INIT(type, length, width) as a function, for FFI.
 * @return 0; -EINVAL (out is NULL, or struct_size below the first version's). Does not
 *   check the values: shmds_buffer_create() does.
 */
SHMDS_API int shmds_buffer_config_init(shmds_buffer_config_t *out, size_t struct_size, int type,
                                       uint64_t length, uint64_t width);

/** Counters and gauges; a snapshot while other processes write. */
typedef struct shmds_buffer_stats {
    size_t struct_size;     /**< set by the caller: sizeof(shmds_buffer_stats_t) */
    uint64_t length;        /**< elements */
    uint64_t elem_size;     /**< bytes per element (the width for bytes buffers) */
    uint64_t bulk_writes;   /**< bulk writes begun (write batches included) */
    uint64_t recoveries;    /**< dead writers taken over, dead sleepers counted out */
    uint64_t segment_bytes; /**< size of the whole mapping */
    uint32_t waiters;       /**< readers asleep waiting for a bulk write to finish */
} shmds_buffer_stats_t;

/* ------------------------------------------------------------- lifecycle */

/**
 * Create a buffer, or attach to the existing one at the same path (its geometry wins;
 * its type must equal cfg->type). A new buffer's elements are all zero.
 * @param opts  backing; NULL = anonymous (shared with fork() children only).
 * @param cfg   type, length, width; must not be NULL.
 * @param out   receives the handle; untouched on failure.
 * @return 0; -EINVAL (unknown type, length 0 or too large, a bytes buffer without a
 *   width or another type with one, bad options: the sentence says which); -EEXIST
 *   (SHMDS_EXCL and the file exists); -ENOSPC; -EACCES, -ELOOP, other -errno from
 *   open/mmap/memfd_create; SHMDS_ETYPE (the existing segment is another structure or
 *   type); SHMDS_EVERSION; SHMDS_ECORRUPT (the existing file is not a valid segment;
 *   never overwritten).
 * Blocks only while another process is initialising the same path.
 */
SHMDS_API int shmds_buffer_create(const shmds_options_t *opts, const shmds_buffer_config_t *cfg,
                                  shmds_buffer_t **out);

/**
 * Attach to an existing buffer (PATH or FD backing), reading its geometry (the width
 * too) from the segment after validating all of it.
 * @param type  the element type expected, or 0 for any.
 * @return 0; -ENOENT (no such file); -EINVAL (type is not a shmds_type_t, anonymous or
 *   memfd-by-name backing); SHMDS_ETYPE; SHMDS_EVERSION; SHMDS_ECORRUPT; other -errno.
 */
SHMDS_API int shmds_buffer_open(const shmds_options_t *opts, int type, shmds_buffer_t **out);

/** Unmap and free the handle (NULL is allowed). The segment itself stays. A write
 * batch the calling thread holds is ended first. */
SHMDS_API void shmds_buffer_close(shmds_buffer_t *b);

/** The element type (a shmds_type_t), or -EINVAL for NULL. */
SHMDS_API int shmds_buffer_type(const shmds_buffer_t *b);
/** The number of elements; 0 for NULL. */
SHMDS_API uint64_t shmds_buffer_length(const shmds_buffer_t *b);
/** Bytes per element (1, 2, 4, 8, or the width of a bytes buffer); 0 for NULL. */
SHMDS_API uint64_t shmds_buffer_elem_size(const shmds_buffer_t *b);
/** The segment's file descriptor (see common.h "File descriptors"), or -EINVAL. */
SHMDS_API int shmds_buffer_fd(const shmds_buffer_t *b);
/** msync the mapping (file backings): 0 or -errno. */
SHMDS_API int shmds_buffer_sync(const shmds_buffer_t *b);
/** Fill *stats (stats->struct_size set by the caller). 0; -EINVAL (NULL, struct_size
 * too small). Never blocks. */
SHMDS_API int shmds_buffer_stats(shmds_buffer_t *b, shmds_buffer_stats_t *stats);

/* ------------------------------------------------ per element (numeric) */
/* Each is one atomic instruction: never blocks; a killed caller leaves the element old
 * or new. Common returns: -EINVAL (NULL handle or out pointer); -ERANGE (index not below
 * the length, or a value that does not fit the type: nothing changed); SHMDS_EVARIANT (a
 * verb of the wrong kind for the buffer's type). */

/** Element i as int64_t (integer types; -ERANGE for a uint64 above INT64_MAX). */
SHMDS_API int shmds_buffer_get_int(const shmds_buffer_t *b, uint64_t i, int64_t *out);
/** Element i as uint64_t (integer types; -ERANGE for a negative element). */
SHMDS_API int shmds_buffer_get_uint(const shmds_buffer_t *b, uint64_t i, uint64_t *out);
/** Element i as double (f32, f64). */
SHMDS_API int shmds_buffer_get_f64(const shmds_buffer_t *b, uint64_t i, double *out);
/** Store value into element i (integer types; -ERANGE if it does not fit). */
SHMDS_API int shmds_buffer_set_int(shmds_buffer_t *b, uint64_t i, int64_t value);
SHMDS_API int shmds_buffer_set_uint(shmds_buffer_t *b, uint64_t i, uint64_t value);
/** Store value into element i (f32: the nearest float; f64). */
SHMDS_API int shmds_buffer_set_f64(shmds_buffer_t *b, uint64_t i, double value);

/**
 * Add delta to integer element i atomically; the sum must fit the type (-ERANGE and
 * nothing changed otherwise: no wrap-around). *new_value (optional) receives the sum.
 * _uint reports the sum as uint64_t (so a uint64 sum above INT64_MAX is reportable).
 */
SHMDS_API int shmds_buffer_add_int(shmds_buffer_t *b, uint64_t i, int64_t delta,
                                   int64_t *new_value);
SHMDS_API int shmds_buffer_add_uint(shmds_buffer_t *b, uint64_t i, int64_t delta,
                                    uint64_t *new_value);
/** add_int with delta +1 / -1. */
SHMDS_API int shmds_buffer_incr(shmds_buffer_t *b, uint64_t i, int64_t *new_value);
SHMDS_API int shmds_buffer_decr(shmds_buffer_t *b, uint64_t i, int64_t *new_value);

/**
 * Compare-and-swap integer element i: if it equals expected, store desired and return 0;
 * otherwise return -EAGAIN (no sentence: a normal outcome). *actual (optional) receives
 * the value found. -ERANGE when expected or desired does not fit the type.
 */
SHMDS_API int shmds_buffer_cas_int(shmds_buffer_t *b, uint64_t i, int64_t expected,
                                   int64_t desired, int64_t *actual);
SHMDS_API int shmds_buffer_cas_uint(shmds_buffer_t *b, uint64_t i, uint64_t expected,
                                    uint64_t desired, uint64_t *actual);
/** Store value into element i and return the previous value in *old (optional). */
SHMDS_API int shmds_buffer_exchange_int(shmds_buffer_t *b, uint64_t i, int64_t value,
                                        int64_t *old);
SHMDS_API int shmds_buffer_exchange_uint(shmds_buffer_t *b, uint64_t i, uint64_t value,
                                         uint64_t *old);
SHMDS_API int shmds_buffer_exchange_f64(shmds_buffer_t *b, uint64_t i, double value,
                                        double *old);

/**
 * Bitwise and/or/xor of integer element i with `bits`, atomically. bits is the
 * element's bit pattern (two's complement for signed types) and must fit its width
 * (-ERANGE: bits set above it). *old_bits (optional) receives the previous bit pattern,
 * zero-extended.
 */
SHMDS_API int shmds_buffer_and(shmds_buffer_t *b, uint64_t i, uint64_t bits, uint64_t *old_bits);
SHMDS_API int shmds_buffer_or(shmds_buffer_t *b, uint64_t i, uint64_t bits, uint64_t *old_bits);
SHMDS_API int shmds_buffer_xor(shmds_buffer_t *b, uint64_t i, uint64_t bits, uint64_t *old_bits);

/* ------------------------------------------------ bytes elements */

/**
 * Copy bytes element i into out (at most cap bytes), trailing NUL bytes removed; *len
 * receives its length. A seqlocked read: never torn by a concurrent write.
 * @return 0; -ENOBUFS (cap is below the length: *len says how much is needed, nothing
 *   copied); -ERANGE (index); SHMDS_EVARIANT (not a bytes buffer); -EINVAL (NULL len, or
 *   NULL out with cap > 0); -EAGAIN / -ETIMEDOUT (a live writer's bulk write stayed in
 *   progress). Blocks while a bulk write is in progress, up to timeout_ns.
 */
SHMDS_API int shmds_buffer_get_bytes(shmds_buffer_t *b, uint64_t i, void *out, size_t cap,
                                     size_t *len, int64_t timeout_ns);
/**
 * Store len bytes into element i, zero-padded to the width, under the writer lock.
 * @return 0; -E2BIG (len above the width: nothing stored); -ERANGE; SHMDS_EVARIANT;
 *   -EINVAL (NULL data with len > 0); -EAGAIN / -ETIMEDOUT (the lock stayed held by a
 *   live process). Blocks for the writer lock, up to timeout_ns.
 */
SHMDS_API int shmds_buffer_set_bytes(shmds_buffer_t *b, uint64_t i, const void *data, size_t len,
                                     int64_t timeout_ns);

/* ------------------------------------------------ bulk */
/* Bulk reads are seqlocked (retried, never torn by a bulk write) and wait while a bulk
 * write is in progress; bulk writes take the writer lock. Both block up to timeout_ns
 * and return -EAGAIN (NOWAIT) / -ETIMEDOUT when a live writer keeps them out; a dead
 * writer is taken over (see the crash model). A bulk write called by the thread that
 * holds a write batch runs inside that batch; a bulk read by it sees the batch's writes.
 * Common returns: -EINVAL (NULL pointer with a non-zero count, bad timeout_ns);
 * -ERANGE (the span reaches past the end). */

/** Copy data bytes [offset, offset + len) into out. Any type. */
SHMDS_API int shmds_buffer_get_raw(shmds_buffer_t *b, uint64_t offset, size_t len, void *out,
                                   int64_t timeout_ns);
/** Copy len bytes into the data at offset. Any type; whole numeric elements are stored
 * atomically one by one. */
SHMDS_API int shmds_buffer_set_raw(shmds_buffer_t *b, uint64_t offset, const void *data,
                                   size_t len, int64_t timeout_ns);
/** Elements [from, from + n) converted to out[0..n) (one consistent snapshot).
 * -ERANGE also when an element does not fit the C type (out is then partly written). */
SHMDS_API int shmds_buffer_get_slice_int(shmds_buffer_t *b, uint64_t from, size_t n, int64_t *out,
                                         int64_t timeout_ns);
SHMDS_API int shmds_buffer_get_slice_uint(shmds_buffer_t *b, uint64_t from, size_t n,
                                          uint64_t *out, int64_t timeout_ns);
SHMDS_API int shmds_buffer_get_slice_f64(shmds_buffer_t *b, uint64_t from, size_t n, double *out,
                                         int64_t timeout_ns);
/** Store values[0..n) into elements [from, from + n) as one bulk write. Every value is
 * checked first: -ERANGE (values[k] does not fit: nothing stored). */
SHMDS_API int shmds_buffer_set_slice_int(shmds_buffer_t *b, uint64_t from, const int64_t *values,
                                         size_t n, int64_t timeout_ns);
SHMDS_API int shmds_buffer_set_slice_uint(shmds_buffer_t *b, uint64_t from,
                                          const uint64_t *values, size_t n, int64_t timeout_ns);
SHMDS_API int shmds_buffer_set_slice_f64(shmds_buffer_t *b, uint64_t from, const double *values,
                                         size_t n, int64_t timeout_ns);
/**
 * Add deltas[k] to integer element from + k for k in [0, n), as one bulk write: a bulk
 * reader sees all of the adds or none. Every sum is checked against the type before
 * anything changes, so a sum that does not fit returns -ERANGE with nothing changed (no
 * wrap-around). Each add is its own atomic read-modify-write, so a concurrent
 * per-element verb (add, cas, set...) is never lost; if one moves an element out of
 * range between the check and the add, the adds stop at that element, the earlier ones
 * stay and *applied says how many went in.
 * @param applied  optional: receives how many elements were added to (n on 0).
 * @return 0; -ERANGE (a sum does not fit, or the span reaches past the end);
 *   SHMDS_EVARIANT (not an integer buffer); -EINVAL (NULL handle, NULL deltas with
 *   n > 0, bad timeout_ns); -EAGAIN / -ETIMEDOUT (a live writer kept the lock).
 *   Blocks for the writer lock, up to timeout_ns.
 */
SHMDS_API int shmds_buffer_add_slice(shmds_buffer_t *b, uint64_t from, const int64_t *deltas,
                                     size_t n, size_t *applied, int64_t timeout_ns);
/** Store value into every element, as one bulk write (-ERANGE: does not fit). */
SHMDS_API int shmds_buffer_fill_int(shmds_buffer_t *b, int64_t value, int64_t timeout_ns);
SHMDS_API int shmds_buffer_fill_uint(shmds_buffer_t *b, uint64_t value, int64_t timeout_ns);
SHMDS_API int shmds_buffer_fill_f64(shmds_buffer_t *b, double value, int64_t timeout_ns);
/** Store data (zero-padded) into every bytes element (-E2BIG: len above the width). */
SHMDS_API int shmds_buffer_fill_bytes(shmds_buffer_t *b, const void *data, size_t len,
                                      int64_t timeout_ns);
/** Zero every element, as one bulk write. Any type. */
SHMDS_API int shmds_buffer_clear(shmds_buffer_t *b, int64_t timeout_ns);

/* ------------------------------------------------ batches and zero-copy */

/** Read-only pointer to element 0 (elements packed: i * elem_size), valid until close;
 * NULL for NULL. Reads through it are unsynchronized: use a read batch. */
SHMDS_API const void *shmds_buffer_data(const shmds_buffer_t *b);

/**
 * Begin a read batch: wait until no bulk write is in progress, then return the
 * read-only data pointer in *data (optional) and a token in *seq. Read through the
 * pointer, then call shmds_buffer_read_end(seq): -EAGAIN means a bulk write overlapped
 * the reads (discard them and retry). Writes nothing to shared memory: a reader killed
 * inside the batch pins nothing.
 * @return 0; -EINVAL (NULL handle or seq); -EAGAIN / -ETIMEDOUT (a live writer's bulk
 *   write stayed in progress).
 */
SHMDS_API int shmds_buffer_read_begin(shmds_buffer_t *b, const void **data, uint64_t *seq,
                                      int64_t timeout_ns);
/** 0 when the reads since read_begin returned `seq` are consistent; -EAGAIN (no
 * sentence) when a bulk write overlapped them; -EINVAL (NULL handle). Never blocks. */
SHMDS_API int shmds_buffer_read_end(const shmds_buffer_t *b, uint64_t seq);

/**
 * Begin a write batch: take the writer lock and mark a write in progress; *data
 * receives a writable pointer to element 0, valid for the calling thread until
 * shmds_buffer_write_end(). Bulk readers wait (or retry) until then. Keep batches short
 * and do not block inside one. If the thread dies inside the batch, readers take it over
 * (crash model): its writes so far stay.
 * @return 0; -EINVAL (NULL handle or data, bad timeout); -EDEADLK (this thread already
 *   holds the batch); -EAGAIN / -ETIMEDOUT (the lock stayed held by a live process).
 */
SHMDS_API int shmds_buffer_write_begin(shmds_buffer_t *b, void **data, int64_t timeout_ns);
/** End the calling thread's write batch: publish it and wake waiting readers.
 * 0; -EINVAL (NULL); -EPERM (this thread holds no write batch). Never blocks. */
SHMDS_API int shmds_buffer_write_end(shmds_buffer_t *b);

/* ------------------------------------------------- eventfd (common.h, "Eventfds") */

/**
 * The handle's eventfd for epoll, created on first call (non-blocking, close-on-exec)
 * and owned by the handle. Share it across fork() or with shmds_send_fd() and attach it
 * on the other side with shmds_buffer_set_eventfd().
 * @return the fd (>= 0), or -errno (-EMFILE...); -EINVAL for NULL.
 */
SHMDS_API int shmds_buffer_eventfd(shmds_buffer_t *b);

/**
 * Use a duplicate of `fd` (an eventfd) as this handle's eventfd; the caller keeps its
 * own fd. -1 detaches. Setting the fd the handle already uses is a no-op.
 * @return 0; -EBADF; -EINVAL.
 */
SHMDS_API int shmds_buffer_set_eventfd(shmds_buffer_t *b, int fd);

/** Signal the eventfd (add 1). 0; -ENOENT if the handle has no eventfd; -EINVAL. */
SHMDS_API int shmds_buffer_notify(shmds_buffer_t *b);

/**
 * Read and reset the eventfd counter into *count (optional).
 * @return 0; -EAGAIN if nothing is pending; -ENOENT if no eventfd; -EINVAL. Never blocks.
 */
SHMDS_API int shmds_buffer_eventfd_consume(shmds_buffer_t *b, uint64_t *count);

#ifdef __cplusplus
}
#endif

#endif /* SHMDS_BUFFER_H */
