/*
 * libshmds — typed concurrent data structures in shared memory.
 *
 * common.h: what every structure shares. Error codes, timeouts, how a segment is
 * backed (file, anonymous, memfd, received fd), version queries, and the helpers that
 * pass a segment's fd to an unrelated process.
 *
 * Conventions that hold for every function of the library:
 *  - Functions return int: 0 on success, a negative errno for system-like failures,
 *    or a SHMDS_E* code (a reserved negative band) for library failures. After any
 *    failure, shmds_last_error() holds a sentence saying what went wrong and where.
 *  - Blocking calls take `int64_t timeout_ns`: SHMDS_NOWAIT (0) tries once and returns
 *    -EAGAIN at once; SHMDS_FOREVER (-1) waits as long as it takes; a positive value is a
 *    relative timeout measured against CLOCK_MONOTONIC, after which -ETIMEDOUT is
 *    returned. Signals (EINTR) and spurious wakeups never shorten or lengthen a wait.
 *    Any other negative value is refused with -EINVAL.
 *  - How a blocked call spends its wait: when the process it waits for last ran on
 *    another CPU, it first polls for up to 20 us; when that process last ran on the
 *    caller's own CPU (both pinned to one core, or more runnable processes than cores),
 *    it gives the CPU up once with sched_yield(), so that process can run on; then it
 *    sleeps in the kernel (futex) and uses no CPU. A yield that let some other process
 *    run for over 1 ms stops that thread's yields for a second, so a busy neighbour on
 *    the CPU never holds a waiter off for a whole time slice on every hand-over.
 *  - No blocked call depends on a wake that a dead process owed it. A process can be
 *    killed between making data ready and waking its sleepers; every sleeper therefore
 *    looks again at least every 100 ms, so a SHMDS_FOREVER call returns with data that
 *    is ready at most 100 ms late instead of never. An idle sleeper costs one cheap check
 *    per 100 ms.
 *  - Non-blocking calls (try_*, SHMDS_NOWAIT) take over from dead holders too: when they
 *    meet contention they check the holder's liveness, at most once per 10 ms per
 *    structure in each process, so a process that only ever tries is not locked out
 *    for good by a death.
 *  - Handles are thread-safe and survive fork(): the child may keep using them.
 *  - Versioned structs (options, configs, stats) start with `size_t struct_size`, the
 *    size of the struct as the caller compiled it, so they can grow without breaking
 *    the ABI. The library reads and writes only the first struct_size bytes: fields
 *    your version lacks take their defaults on input, and on output fields your
 *    version has but the library lacks are zeroed. A struct_size smaller than the
 *    struct's first released version is refused with -EINVAL.
 *  - Every *_INIT macro has a real function beside it for FFI, which cannot use macros.
 *    One convention for all of them: `int shmds_<struct>_init(<struct> *out,
 *    size_t struct_size, <the macro's arguments>)` fills *out exactly as the macro
 *    would, for a struct of struct_size bytes (pass sizeof *out), and sets
 *    out->struct_size to struct_size. Returns 0, or -EINVAL if out is NULL or
 *    struct_size is smaller than the struct's first version (nothing is written then).
 *    Never blocks; needs no handle. The size is passed because only the caller knows
 *    how long its struct is: returning the struct by value would write our sizeof.
 *  - The library never takes ownership of a file descriptor you give it: it duplicates
 *    it (close-on-exec) and closes only its own copy. Descriptors it returns to you
 *    stay owned by the handle unless the function says otherwise.
 */
#ifndef SHMDS_COMMON_H
#define SHMDS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SHMDS_BUILDING_LIBRARY)
#define SHMDS_API __attribute__((visibility("default")))
#else
#define SHMDS_API
#endif

/* ---------------------------------------------------------------- versions */

#define SHMDS_VERSION_MAJOR 0
#define SHMDS_VERSION_MINOR 1
#define SHMDS_VERSION_PATCH 0
/** The version as one comparable number: major * 10000 + minor * 100 + patch. */
#define SHMDS_VERSION_NUMBER \
    (SHMDS_VERSION_MAJOR * 10000 + SHMDS_VERSION_MINOR * 100 + SHMDS_VERSION_PATCH)

/** The run-time library version as "MAJOR.MINOR.PATCH". Never NULL; static storage. */
SHMDS_API const char *shmds_version(void);

/** The run-time library version as SHMDS_VERSION_NUMBER would give it. */
SHMDS_API int shmds_version_number(void);

/* ------------------------------------------------------------------ errors */

/*
 * Library error codes: a reserved negative band, far from any errno, so that every
 * return value is either 0, -errno or one of these.
 */
#define SHMDS_EBASE (-20000)
/** The segment holds another structure or another variant than the one asked for. */
#define SHMDS_ETYPE (-20001)
/** The segment was made by an incompatible layout version or build (layout hash). */
#define SHMDS_EVERSION (-20002)
/** The segment failed validation: not a libshmds segment, truncated, or damaged. */
#define SHMDS_ECORRUPT (-20003)
/** A lock was acquired, but its previous owner died holding it; the lock is held. */
#define SHMDS_EOWNERDEAD (-20004)
/** The call is not allowed on this variant (e.g. a bytes verb on an integer queue). */
#define SHMDS_EVARIANT (-20005)

/**
 * A short English description of `code` (0, -errno or SHMDS_E*). Never NULL; static
 * storage; unknown codes give "unknown error".
 */
SHMDS_API const char *shmds_strerror(int code);

/** The symbolic name of `code`, e.g. "EAGAIN" or "SHMDS_ETYPE"; "UNKNOWN" if unknown. */
SHMDS_API const char *shmds_errname(int code);

/**
 * The sentence describing the most recent failure on the calling thread, with context
 * (path, expected against found). Valid until the thread's next libshmds call that
 * fails. Empty ("") if nothing failed yet. Never NULL. Thread-local storage.
 */
SHMDS_API const char *shmds_last_error(void);

/* ---------------------------------------------------------------- timeouts */

/** Try once; never block. */
#define SHMDS_NOWAIT ((int64_t)0)
/** Block until the operation can complete. */
#define SHMDS_FOREVER ((int64_t)-1)

/* ---------------------------------------------------------------- backings */

/** Where a segment's memory comes from. */
typedef enum shmds_backing {
    /** MAP_SHARED|MAP_ANONYMOUS: shared with fork() children only; no fd, no name. */
    SHMDS_BACKING_ANON = 0,
    /** A file at `name` (e.g. under /dev/shm); survives the processes; unlink to remove. */
    SHMDS_BACKING_PATH = 1,
    /** A memfd called `name` (a label only), sealed against shrink and grow; pass its fd. */
    SHMDS_BACKING_MEMFD = 2,
    /** Attach to the segment behind `fd` (received over a socket or inherited). */
    SHMDS_BACKING_FD = 3
} shmds_backing_t;

/*
 * What a backing can promise about its size. A mapped file that another process shrinks
 * kills every process that then touches the lost pages with SIGBUS, and no library can
 * catch that. So:
 *  - MEMFD segments are sealed (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) at creation:
 *    nobody, not even a hostile holder of the fd, can change their size.
 *  - FD attaches check the seals of the file behind the descriptor. A memfd sealed
 *    against shrinking is accepted; a memfd that can still be sealed is sealed
 *    (F_SEAL_SHRINK | F_SEAL_GROW) once it has its size; anything else (a regular or
 *    /dev/shm file, an unsealable memfd) is refused with -EPERM unless the caller sets
 *    SHMDS_ACCEPT_UNSEALED.
 *  - PATH segments are regular files, which cannot be sealed: any process allowed to
 *    write the file can truncate it. The library sizes them with posix_fallocate (so a
 *    full /dev/shm gives -ENOSPC at creation, never SIGBUS later), creates them with mode
 *    0600 by default, and validates their size at open, but cannot stop a later
 *    truncation. Keep PATH segments in a directory only trusted processes can write, or
 *    share a MEMFD segment's descriptor instead.
 */

/** Create flags for shmds_options_t.flags. */
/** With _create on a path: fail with -EEXIST if the file already exists. */
#define SHMDS_EXCL 0x1u
/**
 * With SHMDS_BACKING_FD: attach even if the file behind the descriptor is not sealed
 * against shrinking (a regular file, or a memfd that cannot be sealed), accepting that a
 * process that truncates it kills this one with SIGBUS. See "What a backing can promise".
 */
#define SHMDS_ACCEPT_UNSEALED 0x2u

/**
 * How to create or open a segment. Zero-initialise it with SHMDS_OPTIONS_INIT (or set
 * struct_size yourself): the struct may grow in later versions, and struct_size tells the
 * library which fields you know about.
 */
typedef struct shmds_options {
    size_t struct_size;   /**< sizeof(shmds_options_t) as the caller compiled it */
    int backing;          /**< a shmds_backing_t */
    const char *name;     /**< PATH: the file path; MEMFD: the memfd label; else NULL */
    int fd;               /**< FD: the descriptor to attach to (duplicated); else -1 */
    uint32_t flags;       /**< SHMDS_EXCL, SHMDS_ACCEPT_UNSEALED, or 0 */
    uint32_t mode;        /**< PATH: file mode, applied exactly (umask-proof); 0 = 0600 */
} shmds_options_t;

#define SHMDS_OPTIONS_INIT { sizeof(shmds_options_t), SHMDS_BACKING_ANON, NULL, -1, 0u, 0u }

/**
 * SHMDS_OPTIONS_INIT as a function (anonymous backing, fd -1, no flags, default mode),
 * for FFI: shmds_options_init(&o, sizeof o). See the *_init convention above.
 * @return 0; -EINVAL (out is NULL, or struct_size below the first version's).
 */
SHMDS_API int shmds_options_init(shmds_options_t *out, size_t struct_size);

/* ------------------------------------------------------------------- types */

/*
 * The element types of the library: what a structure's items, keys and values are. A
 * typed structure's variant constants are these values (SHMDS_QUEUE_INT64 ==
 * SHMDS_TYPE_INT64, ...). The numbers are stored in segment headers, so they are an
 * ABI and never change: they are identifiers, not an order (the first four are the
 * variants the first structures shipped with).
 * Integers cross the ABI as int64_t/uint64_t and are range-checked against the type's
 * width (-ERANGE); F32/F64 cross as double; BYTES as (const void *, size_t).
 */
typedef enum shmds_type {
    SHMDS_TYPE_INT16 = 1,
    SHMDS_TYPE_INT32 = 2,
    SHMDS_TYPE_INT64 = 3,
    SHMDS_TYPE_BYTES = 4, /**< variable-length byte strings */
    SHMDS_TYPE_INT8 = 5,
    SHMDS_TYPE_UINT8 = 6,
    SHMDS_TYPE_UINT16 = 7,
    SHMDS_TYPE_UINT32 = 8,
    SHMDS_TYPE_UINT64 = 9,
    SHMDS_TYPE_F32 = 10, /**< IEEE 754 binary32 (float) */
    SHMDS_TYPE_F64 = 11  /**< IEEE 754 binary64 (double) */
} shmds_type_t;

/**
 * The lower-case name of a type: "int8" ... "uint64", "f32", "f64", "bytes"; "unknown"
 * for any other value. Never NULL; static storage. Never fails, never blocks.
 */
SHMDS_API const char *shmds_type_name(int type);

/**
 * The size in bytes of one element of `type`: 1, 2, 4 or 8; 0 for SHMDS_TYPE_BYTES
 * (each element has its own length).
 * @return the size; -EINVAL (with shmds_last_error()) if `type` is not a shmds_type_t.
 *   Never blocks.
 */
SHMDS_API int shmds_type_size(int type);

/* ---------------------------------------------------------------- eventfds */

/*
 * Eventfds: the one rule every structure follows (each header's eventfd section points
 * here). Any structure handle can expose an eventfd (a Linux counter fd) so an epoll,
 * poll or select loop can wait for it next to sockets:
 *  - shmds_<s>_eventfd(h) creates the handle's eventfd on first call (non-blocking,
 *    close-on-exec) and returns it; the handle owns it. Pass it to other processes by
 *    fork() or shmds_send_fd() and attach it there with shmds_<s>_set_eventfd(h, fd),
 *    which uses a duplicate (the caller keeps and closes its own fd; -1 detaches).
 *  - Signalling is always explicit: shmds_<s>_notify(h) adds 1 to the counter. No verb
 *    (push, publish, send, reply, release, a barrier's trip...) ever signals it by
 *    itself, so a writer can batch many changes and wake an event loop once, and a
 *    program that never asked for an eventfd pays nothing. The only exceptions are
 *    verbs whose name says so (shmds_pubsub_publish_notify_*).
 *  - shmds_<s>_eventfd_consume(h, &count) reads and resets the counter (never blocks;
 *    -EAGAIN if nothing is pending). A wakeup means "look again", not "one item": read
 *    the structure with its NOWAIT verbs until they return -EAGAIN.
 *  - notify and consume return -ENOENT while the handle has no eventfd.
 *  - set_eventfd may run while other threads notify through the same handle: a replaced
 *    descriptor is closed only once no thread can still be using it (at the latest when
 *    the handle is closed). A descriptor returned by _eventfd() stays valid until the
 *    handle is closed or a later set_eventfd() replaces it.
 */

/* ------------------------------------------------------------- segments */

/**
 * Remove the segment file at `path`. Processes that have it open keep working on the
 * memory they mapped; new opens will not find it.
 * @return 0; -ENOENT if there is no such file; -EINVAL if path is NULL; another -errno
 *         from unlink(2). Never blocks.
 */
SHMDS_API int shmds_unlink(const char *path);

/**
 * Send a segment's fd (from shmds_<structure>_fd()) over the connected Unix socket
 * `sock` with SCM_RIGHTS, so an unrelated process can attach to it with
 * SHMDS_BACKING_FD. One byte of ordinary data travels with it.
 * @return 0; -EBADF/-EINVAL for bad descriptors; -EPIPE, -ECONNRESET or another -errno
 *         from sendmsg(2). Blocks as sendmsg does on a blocking socket.
 */
SHMDS_API int shmds_send_fd(int sock, int fd);

/**
 * Receive a descriptor sent by shmds_send_fd() on `sock`. On success *fd_out holds a
 * new close-on-exec descriptor that the caller owns and must close.
 * @return 0; -EINVAL if fd_out is NULL; -EPROTO if the message carried no descriptor;
 *         -ECONNRESET if the peer closed; another -errno from recvmsg(2). Blocks as
 *         recvmsg does on a blocking socket.
 */
SHMDS_API int shmds_recv_fd(int sock, int *fd_out);

#ifdef __cplusplus
}
#endif

#endif /* SHMDS_COMMON_H */
