/*
 * libshmds bit set: a fixed number of bits in shared memory, for flags, membership and
 * "job N is done" marks shared by many processes. Bits are numbered 0 .. nbits - 1;
 * nbits (1 ..= 2^36) is fixed at creation. Every bit starts clear.
 *
 * Per-bit verbs return the bit as a non-negative int: set and clear return the OLD bit
 * (so among processes racing to set one bit, exactly one sees 0: the winner), toggle
 * returns the NEW bit, test the bit. A bit index >= nbits is refused with -ERANGE (and a
 * sentence in shmds_last_error()), never wrapped or ignored.
 *
 * Bulk verbs (fill, zero, and their _range forms) change one 64-bit word at a time with
 * one atomic read-modify-write per word, so a per-bit operation running at the same
 * time, on any bit, is never lost or reverted: it takes effect either before or after
 * the bulk change of its word. A bulk verb is NOT atomic as a whole: a reader running
 * alongside may see some words changed and others not yet, and count() over a changing
 * set is a sum over words read one after the other. Scans (count, any, none, first_set,
 * first_clear, set_bits, to_string) read each word once, atomically.
 *
 * Freeze and read-only handles: shmds_bitset_freeze() makes the set read-only for good
 * (there is no unfreeze, the flag lives in the segment); from then on every mutation,
 * through any handle of any process, returns -EROFS and changes nothing, while reads go
 * on. A mutation that had already passed its check when freeze() was called may still
 * land just after it (it was concurrent with the freeze); one that starts after freeze()
 * returned never does. shmds_bitset_open_read_only() attaches with the file opened
 * O_RDONLY and mapped PROT_READ (read permission on the file is enough); every mutation
 * through such a handle returns -EROFS before touching memory, never SIGSEGV. A
 * read-only handle may attach to a set that is not frozen: it then sees other
 * processes' changes as they happen.
 *
 * Crash model: every operation is lock-free. A per-bit verb is a single atomic
 * instruction on its word, so a process killed at any instruction has either done it or
 * not; there is no lock, no claim and nothing anybody must repair or take over
 * (stats.recoveries stays 0). A process killed during a bulk verb leaves its first
 * words changed and the rest untouched, each word whole; the set stays fully usable.
 * No verb blocks.
 *
 * Thread safety: a handle may be shared by the threads of a process and used in a
 * fork() child. shmds_bitset_close() must not race other calls on the same handle. A
 * damaged or hostile segment can make reads report wrong bits, never read or write
 * outside the mapping: every index is checked against the handle's own copy of nbits,
 * and the unused bits of the last word are ignored by every read.
 */
#ifndef SHMDS_BITSET_H
#define SHMDS_BITSET_H

#include <shmds/common.h>

#include <errno.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque handle to a mapped bit set. */
typedef struct shmds_bitset shmds_bitset_t;

/** Geometry of a new bit set. Initialise with SHMDS_BITSET_CONFIG_INIT or
 * shmds_bitset_config_init(). */
typedef struct shmds_bitset_config {
    size_t struct_size; /**< sizeof(shmds_bitset_config_t) */
    uint64_t nbits;     /**< number of bits (1 ..= 2^36) */
} shmds_bitset_config_t;

#define SHMDS_BITSET_CONFIG_INIT(nbits) { sizeof(shmds_bitset_config_t), (uint64_t)(nbits) }

/**
 * SHMDS_BITSET_CONFIG_INIT(nbits) as a function, for FFI (see the *_init convention in
 * common.h).
 * @return 0; -EINVAL (out is NULL, or struct_size below the first version's). Does not
 *   check nbits: shmds_bitset_create() does.
 */
SHMDS_API int shmds_bitset_config_init(shmds_bitset_config_t *out, size_t struct_size,
                                       uint64_t nbits);

/** A snapshot while other processes change bits. */
typedef struct shmds_bitset_stats {
    size_t struct_size;     /**< set by the caller: sizeof(shmds_bitset_stats_t) */
    uint64_t nbits;         /**< number of bits */
    uint64_t count;         /**< bits set (as one scan saw them) */
    uint64_t recoveries;    /**< always 0: nothing in a bit set ever needs repair */
    uint64_t segment_bytes; /**< size of the whole mapping */
    uint32_t frozen;        /**< 1 once the set is frozen */
    uint32_t read_only;     /**< 1 for a handle from shmds_bitset_open_read_only() */
} shmds_bitset_stats_t;

/* ------------------------------------------------------------- lifecycle */

/**
 * Create a bit set with every bit clear, or attach to the existing one at the same path
 * (its nbits wins).
 * @param opts  backing; NULL = anonymous (shared with fork() children only).
 * @param cfg   nbits; must not be NULL.
 * @param out   receives the handle; untouched on failure.
 * @return 0; -EINVAL (nbits 0 or above 2^36, bad options: the sentence says which);
 *   -EEXIST (SHMDS_EXCL and the file exists); -ENOSPC; -EACCES, -ELOOP, other -errno
 *   from open/mmap/memfd_create; SHMDS_ETYPE (the existing segment is another
 *   structure); SHMDS_EVERSION; SHMDS_ECORRUPT (the existing file is not a valid
 *   segment; never overwritten).
 * Blocks only while another process is initialising the same path.
 */
SHMDS_API int shmds_bitset_create(const shmds_options_t *opts, const shmds_bitset_config_t *cfg,
                                  shmds_bitset_t **out);

/**
 * Attach to an existing bit set (PATH or FD backing), reading nbits from the segment
 * after validating all of it.
 * @return 0; -ENOENT (no such file); -EINVAL (anonymous or memfd-by-name backing);
 *   SHMDS_ETYPE (another structure); SHMDS_EVERSION; SHMDS_ECORRUPT (truncated,
 *   garbage, unfinished); other -errno.
 */
SHMDS_API int shmds_bitset_open(const shmds_options_t *opts, shmds_bitset_t **out);

/**
 * Attach to an existing bit set read-only: the file (or fd) is opened O_RDONLY and
 * mapped PROT_READ, so read permission is enough. Every read verb works; every mutation
 * (set, clear, toggle, fill, zero, and freeze of a set not yet frozen) returns -EROFS.
 * The set need not be frozen. Same return codes as shmds_bitset_open(), plus -EACCES
 * when even reading is not permitted.
 */
SHMDS_API int shmds_bitset_open_read_only(const shmds_options_t *opts, shmds_bitset_t **out);

/** Unmap and free the handle (NULL is allowed). The segment itself stays. */
SHMDS_API void shmds_bitset_close(shmds_bitset_t *bs);

/**
 * The descriptor behind the segment (file or memfd), owned by the handle: pass it with
 * shmds_send_fd(), do not close it. -ENOENT for anonymous sets, -EINVAL for NULL.
 */
SHMDS_API int shmds_bitset_fd(const shmds_bitset_t *bs);

/** Flush a file-backed set to its file (msync). 0 or -errno; -EINVAL for NULL. */
SHMDS_API int shmds_bitset_sync(const shmds_bitset_t *bs);

/** The number of bits (fixed at creation); 0 for NULL. */
SHMDS_API uint64_t shmds_bitset_size(const shmds_bitset_t *bs);

/* ------------------------------------------------------------- per-bit verbs
 * One atomic instruction each; never block. A killed caller has done it or not.
 * @return the bit as described (0 or 1); -ERANGE (bit >= nbits); -EROFS (the set is
 *   frozen, or the handle is read-only; nothing changed); -EINVAL (NULL handle).
 */

/** Set `bit`; returns its OLD value (0: this call set it). */
SHMDS_API int shmds_bitset_set(shmds_bitset_t *bs, uint64_t bit);
/** Clear `bit`; returns its OLD value (1: this call cleared it). */
SHMDS_API int shmds_bitset_clear(shmds_bitset_t *bs, uint64_t bit);
/** Flip `bit`; returns its NEW value. */
SHMDS_API int shmds_bitset_toggle(shmds_bitset_t *bs, uint64_t bit);
/** Read `bit` (0 or 1). Never -EROFS: reads work on frozen sets and read-only handles. */
SHMDS_API int shmds_bitset_test(const shmds_bitset_t *bs, uint64_t bit);

/* ------------------------------------------------------------- zero-copy reads */

/**
 * The set's words, for reads without a call per bit (a hot loop, numpy over the words):
 * bit i is bit (i % 64) of words[i / 64], a native-endian uint64_t; the bits of the last
 * word at and beyond nbits are not part of the set (mask them; a damaged segment may
 * have set them). Other processes change the words while you read: load each word
 * atomically (__atomic_load_n(&words[k], __ATOMIC_ACQUIRE), std::atomic_ref), and never
 * write through the pointer (a read-only handle's mapping faults). Valid until
 * shmds_bitset_close(); the handle's nbits (shmds_bitset_size()) bounds every index.
 * @return the first word; NULL for NULL.
 */
SHMDS_API const uint64_t *shmds_bitset_words(const shmds_bitset_t *bs);

/**
 * shmds_bitset_test() over shmds_bitset_words() and shmds_bitset_size() of one handle:
 * the bit (0 or 1), or -ERANGE for bit >= nbits (without a sentence). The exported twin
 * of shmds_bitset_words_test_inline(), for FFI.
 */
SHMDS_API int shmds_bitset_words_test(const uint64_t *words, uint64_t nbits, uint64_t bit);

/** shmds_bitset_words_test() inlined: a test costs one compare and one load. */
static inline int shmds_bitset_words_test_inline(const uint64_t *words, uint64_t nbits,
                                                 uint64_t bit)
{
    if (bit >= nbits) return -ERANGE;
    return (int)((__atomic_load_n(&words[bit / 64], __ATOMIC_ACQUIRE) >> (bit % 64)) & 1);
}

/* ------------------------------------------------------------- scans (never block) */

/** The number of set bits (one scan, word by word); 0 for NULL. */
SHMDS_API uint64_t shmds_bitset_count(const shmds_bitset_t *bs);
/** 1 if some bit is set, 0 if none; -EINVAL for NULL. */
SHMDS_API int shmds_bitset_any(const shmds_bitset_t *bs);
/** 1 if no bit is set, 0 otherwise; -EINVAL for NULL. */
SHMDS_API int shmds_bitset_none(const shmds_bitset_t *bs);

/**
 * The lowest set bit at or after `from` (0 for the first of the set) into *bit.
 * @return 0; -ENOENT (no set bit at or after `from`; also for from == nbits, so
 *   "first_set(last + 1)" ends an iteration); -ERANGE (from > nbits); -EINVAL (NULL).
 */
SHMDS_API int shmds_bitset_first_set(const shmds_bitset_t *bs, uint64_t from, uint64_t *bit);
/** The lowest clear bit at or after `from`; returns as shmds_bitset_first_set(). */
SHMDS_API int shmds_bitset_first_clear(const shmds_bitset_t *bs, uint64_t from, uint64_t *bit);

/**
 * List set bits in ascending order: up to `max` of them, starting at `from`, into
 * out[0 .. *count). A *count below max means the scan reached the end; otherwise call
 * again with from = out[max - 1] + 1 to page through a large set.
 * @param out  room for max bit numbers (may be NULL when max is 0).
 * @return 0 with *count; -ERANGE (from > nbits); -EINVAL (NULL handle or count, or out
 *   NULL with max > 0).
 */
SHMDS_API int shmds_bitset_set_bits(const shmds_bitset_t *bs, uint64_t from, uint64_t *out,
                                    size_t max, size_t *count);

/**
 * The set as text: nbits characters '0' or '1', BIT 0 FIRST (character i is bit i),
 * then a NUL.
 * @param len     the size of buf; at least nbits + 1.
 * @param needed  optional: receives nbits + 1 (also when the buffer is too small).
 * @return 0; -ENOBUFS (len < nbits + 1: nothing written); -EINVAL (NULL handle, or buf
 *   NULL with len > 0).
 */
SHMDS_API int shmds_bitset_to_string(const shmds_bitset_t *bs, char *buf, size_t len,
                                     size_t *needed);

/* ------------------------------------------------------------- bulk verbs
 * One atomic read-modify-write per 64-bit word (see the top of this file: concurrent
 * per-bit operations are never lost; the whole is not atomic). Never block.
 * @return 0; -EROFS (frozen set or read-only handle: nothing changed); -ERANGE (the
 *   range does not fit in 0 .. nbits: nothing changed); -EINVAL (NULL handle).
 */

/** Set every bit. */
SHMDS_API int shmds_bitset_fill(shmds_bitset_t *bs);
/** Clear every bit. */
SHMDS_API int shmds_bitset_zero(shmds_bitset_t *bs);
/** Set bits [from, from + n) (n = 0 changes nothing). */
SHMDS_API int shmds_bitset_fill_range(shmds_bitset_t *bs, uint64_t from, uint64_t n);
/** Clear bits [from, from + n). */
SHMDS_API int shmds_bitset_zero_range(shmds_bitset_t *bs, uint64_t from, uint64_t n);

/* ------------------------------------------------------------- freeze */

/**
 * Make the set read-only for good, for every handle of every process (the flag is in
 * the segment and survives reopening; there is no unfreeze). Idempotent.
 * @return 0; -EROFS (a read-only handle of a set that is not frozen: freeze it through
 *   a writable handle); SHMDS_ECORRUPT (the segment's flag is damaged); -EINVAL (NULL).
 * Never blocks; one atomic store, so a killed caller has frozen the set or not.
 */
SHMDS_API int shmds_bitset_freeze(shmds_bitset_t *bs);

/** 1 if the set is frozen, 0 if not; -EINVAL for NULL. */
SHMDS_API int shmds_bitset_is_frozen(const shmds_bitset_t *bs);

/**
 * Fill *stats (its struct_size set by the caller; see common.h on versioned structs).
 * @return 0; -EINVAL (NULL, or struct_size too small).
 */
SHMDS_API int shmds_bitset_stats(shmds_bitset_t *bs, shmds_bitset_stats_t *stats);

/* ------------------------------------------------- eventfd (common.h, "Eventfds") */

/**
 * The handle's eventfd for epoll, created on first call (non-blocking, close-on-exec)
 * and owned by the handle. Share it across fork() or with shmds_send_fd() and attach it
 * on the other side with shmds_bitset_set_eventfd(). No bit verb signals it: call
 * shmds_bitset_notify() after a batch of changes.
 * @return the fd (>= 0), or -errno (-EMFILE...); -EINVAL for NULL.
 */
SHMDS_API int shmds_bitset_eventfd(shmds_bitset_t *bs);

/**
 * Use a duplicate of `fd` (an eventfd) as this handle's eventfd; the caller keeps its
 * own fd. -1 detaches. Setting the fd the handle already uses is a no-op.
 * @return 0; -EBADF; -EINVAL.
 */
SHMDS_API int shmds_bitset_set_eventfd(shmds_bitset_t *bs, int fd);

/** Signal the eventfd (add 1). 0; -ENOENT if the handle has no eventfd; -EINVAL. */
SHMDS_API int shmds_bitset_notify(shmds_bitset_t *bs);

/**
 * Read and reset the eventfd counter into *count (optional).
 * @return 0; -EAGAIN if nothing is pending; -ENOENT if no eventfd; -EINVAL. Never blocks.
 */
SHMDS_API int shmds_bitset_eventfd_consume(shmds_bitset_t *bs, uint64_t *count);

#ifdef __cplusplus
}
#endif

#endif /* SHMDS_BITSET_H */
