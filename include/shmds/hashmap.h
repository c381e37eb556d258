/*
 * libshmds hash map: a key-value map in shared memory with lock-free reads.
 *
 * Types
 *   Chosen at creation from common.h's shmds_type_t: keys SHMDS_TYPE_INT16, _INT32,
 *   _INT64 or _BYTES; values those or SHMDS_TYPE_F64.
 *   Integers cross the API as int64_t and are range-checked against the declared width
 *   (-ERANGE, never truncated). Bytes keys and values are byte-exact (NUL, 0xFF and the
 *   empty string included). Short bytes are stored in the entry (keys up to 16 bytes,
 *   values up to 32); longer ones in the map's arena, whose size is set at creation and
 *   whose exhaustion is -ENOSPC.
 *
 * Verb shapes: each verb exists for the key/value shapes it makes sense for, named by
 * suffix: _ii (integer key, integer value), _ib (integer key, bytes value), _bi (bytes
 * key, integer value), _bb (bytes key, bytes value), _if and _bf (f64 values, at the
 * end of this file); _i/_b for verbs that take only a key. A verb of the wrong shape for the map returns SHMDS_EVARIANT. Bytes keys and
 * values are (pointer, length); a pointer may be NULL only with length 0. Bytes results
 * go to a caller's (buf, buf_size) with the length in *len (required): a value that
 * does not fit returns -ENOBUFS with *len set to the length needed, and changes nothing.
 *
 * Capacity: max_entries is fixed at creation (1 ..= 2^31) and a put that would exceed
 * it returns -ENOSPC. The limit is per shard: each of the `shards` shards holds at most
 * ceil(max_entries / shards) entries, and a key's shard is chosen by its hash. So with
 * shards > 1 the map can refuse an insert (-ENOSPC, the sentence says "in this key's
 * shard") while it holds fewer than max_entries in all: the fullest shard fills first.
 * Random keys spread over S shards of n keys each vary by about sqrt(n) per shard, and
 * a skewed or adversarial key set (the hash is keyed, so only by chance) can fill one
 * shard long before the others. Size a sharded map with headroom: the demo's 65536
 * inputs over 16 shards (4096 +- 64 per shard) get max_entries = 65536 * 1.25. With
 * one shard (the default) max_entries is exact. The table grows and shrinks inside the
 * segment as entries come and go; the segment's size is fixed at creation. A map
 * created with SHMDS_HASHMAP_EVICT evicts instead of returning -ENOSPC (see "Eviction"
 * at the end; it evicts per shard too), and entries may expire (see "TTL").
 *
 * Blocking: reads (get, exists) take no lock: they retry while a writer changes the
 * shard they read. Writers take their shard's lock (held for microseconds; a rebuild
 * of the table holds it for a pass over the shard). No verb waits for anything but
 * another thread's critical section on a shard, so no verb takes a timeout_ns; how
 * long a handle waits for a shard's lock is its lock timeout instead (see
 * shmds_hashmap_set_lock_timeout(); forever by default). A holder that died is taken
 * over whatever the timeout; the timeout bounds the wait for a live holder that never
 * releases the lock (a stopped process, or a peer that writes a living thread's id
 * into the lock word), after which the verb fails with -ETIMEDOUT and changes nothing.
 * No verb signals the handle's eventfd by itself; call shmds_hashmap_notify() (the
 * eventfd rule of the whole library is in common.h, "Eventfds").
 *
 * Crash behaviour: a process killed at any instruction never wedges the map and never
 * leaves a half-done change. Every writer journals the words it changes; the next
 * writer (or a reader that finds the shard's write window open for long) takes over
 * the dead holder's lock within about 11 ms and rolls its change back, so the map
 * holds exactly the state before or after the dead call (counted in stats.recoveries).
 * Readers write nothing shared, so a reader killed mid-read pins nothing. A peer that
 * damages the segment can make calls fail with SHMDS_ECORRUPT, never make this process
 * read or write outside the mapping.
 *
 * Thread safety: a handle may be shared by the threads of a process and used in a
 * fork() child. shmds_hashmap_close() must not race other calls on the same handle.
 */
#ifndef SHMDS_HASHMAP_H
#define SHMDS_HASHMAP_H

#include <shmds/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque handle to a mapped hash map. */
typedef struct shmds_hashmap shmds_hashmap_t;

/** Geometry of a new map. Initialise with SHMDS_HASHMAP_CONFIG_INIT or
 * shmds_hashmap_config_init(). */
typedef struct shmds_hashmap_config {
    size_t struct_size;   /**< sizeof(shmds_hashmap_config_t) */
    int key_type;         /**< SHMDS_TYPE_INT16, _INT32, _INT64 or _BYTES */
    int value_type;       /**< SHMDS_TYPE_INT16, _INT32, _INT64, _F64 or _BYTES */
    uint64_t max_entries; /**< 1 ..= 2^31 */
    uint64_t shards;      /**< independent locks and tables: a power of two 1 ..= 256;
                               0 = 1 */
    uint64_t arena_bytes; /**< maps with a bytes key or value: arena for keys over 16
                               bytes and values over 32, over all shards; 0 =
                               128 * max_entries (at least 4096 per shard). A string
                               takes its length rounded up to a power of two (>= 16).
                               Must be 0 for integer-only maps */
    uint64_t flags;       /**< 0 or SHMDS_HASHMAP_EVICT (see "Eviction" below) */
    uint64_t default_ttl_ms; /**< TTL given to entries written without one, in
                               milliseconds, at most SHMDS_HASHMAP_MAX_TTL_MS; 0 = they
                               never expire (see "TTL" below) */
} shmds_hashmap_config_t;

/** flags: a full shard evicts an entry (SIEVE) to make room instead of refusing the
 * insert with -ENOSPC. At most 2^30 entries per shard. */
#define SHMDS_HASHMAP_EVICT 1u
/** The longest TTL any call accepts (2^48 ms, about 8900 years). */
#define SHMDS_HASHMAP_MAX_TTL_MS ((uint64_t)1 << 48)

#define SHMDS_HASHMAP_CONFIG_INIT(key_type, value_type, max_entries) \
    { sizeof(shmds_hashmap_config_t), (key_type), (value_type), (uint64_t)(max_entries), \
      0u, 0u, 0u, 0u }

/**
 * SHMDS_HASHMAP_CONFIG_INIT(key_type, value_type, max_entries) as a function, for FFI
 * (shards and arena_bytes 0). See the *_init convention in common.h.
 * @return 0; -EINVAL (out is NULL, or struct_size below the first version's). Does not
 *   check the values: shmds_hashmap_create() does.
 */
SHMDS_API int shmds_hashmap_config_init(shmds_hashmap_config_t *out, size_t struct_size,
                                        int key_type, int value_type, uint64_t max_entries);

/** Counters and gauges; approximate while other processes are writing. */
typedef struct shmds_hashmap_stats {
    size_t struct_size;        /**< set by the caller: sizeof(shmds_hashmap_stats_t) */
    uint64_t size;             /**< entries held */
    uint64_t max_entries;      /**< as created */
    uint64_t table_slots;      /**< slots of the live tables now (grows and shrinks) */
    uint64_t table_slots_max;  /**< slots the tables can grow to */
    uint64_t tombstones;       /**< removed slots not yet reclaimed by a rebuild */
    uint64_t resizes;          /**< table rebuilds: grow, shrink, tombstone compaction */
    uint64_t arena_capacity;   /**< arena bytes over all shards (0: integer-only map) */
    uint64_t arena_used;       /**< arena bytes in live blocks */
    uint64_t shards;           /**< as created */
    uint64_t recoveries;       /**< dead writers taken over and rolled back */
    uint64_t segment_bytes;    /**< size of the whole mapping */
    /* ---- added after the first version (struct_size says whether they are filled) */
    uint64_t max_probe;        /**< the longest probe sequence: slots a get reads to find
                                    the worst-placed key (1 = every key at its home slot).
                                    Stays small under chosen keys: the hash is keyed */
    uint64_t frozen;           /**< 1 once shmds_hashmap_freeze() was called, else 0 */
    uint64_t evictions;        /**< entries evicted to make room (SHMDS_HASHMAP_EVICT) */
    uint64_t expirations;      /**< expired entries reclaimed (by writers, flushes,
                                    pops and evictions) */
} shmds_hashmap_stats_t;

/* ------------------------------------------------------------- lifecycle */

/**
 * Create a map, or attach to the existing one at the same path (its geometry wins; its
 * key and value types must equal cfg's). A new map draws its own random hash seed.
 * @param opts  backing; NULL = anonymous (shared with fork() children only).
 * @param cfg   types, max_entries, shards, arena; must not be NULL.
 * @param out   receives the handle; untouched on failure.
 * @return 0; -EINVAL (bad config or options: the sentence says which); -EEXIST
 *   (SHMDS_EXCL and the file exists); -ENOSPC (no room for the segment); -ENOMEM;
 *   -EACCES, -ELOOP, other -errno from open/mmap/memfd_create; SHMDS_ETYPE (the existing
 *   segment is another structure or another key/value pair); SHMDS_EVERSION;
 *   SHMDS_ECORRUPT (the existing file is not a valid segment; never overwritten unless
 *   it is an interrupted create of ours).
 * Blocks only while another process is initialising the same path.
 */
SHMDS_API int shmds_hashmap_create(const shmds_options_t *opts, const shmds_hashmap_config_t *cfg,
                                   shmds_hashmap_t **out);

/**
 * Attach to an existing map (PATH or FD backing), reading its geometry from the segment
 * after validating all of it.
 * @param key_type, value_type  the types expected; both 0 accepts any map.
 * @return 0; -ENOENT (no such file); -EINVAL (anonymous or memfd-by-name backing, or
 *   only one type given, or a type that no map has); -ENOMEM; SHMDS_ETYPE (another
 *   structure or other types); SHMDS_EVERSION; SHMDS_ECORRUPT (truncated, garbage,
 *   unfinished); other -errno.
 */
SHMDS_API int shmds_hashmap_open(const shmds_options_t *opts, int key_type, int value_type,
                                 shmds_hashmap_t **out);

/** Unmap and free the handle (NULL is allowed). The segment itself stays. */
SHMDS_API void shmds_hashmap_close(shmds_hashmap_t *m);

/** The map's key type (a shmds_type_t), or -EINVAL for NULL. */
SHMDS_API int shmds_hashmap_key_type(const shmds_hashmap_t *m);

/** The map's value type (a shmds_type_t), or -EINVAL for NULL. */
SHMDS_API int shmds_hashmap_value_type(const shmds_hashmap_t *m);

/**
 * The descriptor behind the segment (file or memfd), owned by the handle: pass it with
 * shmds_send_fd(), do not close it. -ENOENT for anonymous maps, -EINVAL for NULL.
 */
SHMDS_API int shmds_hashmap_fd(const shmds_hashmap_t *m);

/** Flush a file-backed map to its file (msync). 0 or -errno. */
SHMDS_API int shmds_hashmap_sync(const shmds_hashmap_t *m);

/**
 * stats.size alone, cheaply: the entries held now, summed over the shards without a lock
 * and without the max_probe pass (a snapshot while writers run); 0 for NULL. Expired
 * entries not yet reclaimed are counted, as in stats.size. Never blocks.
 */
SHMDS_API uint64_t shmds_hashmap_size(const shmds_hashmap_t *m);

/** stats.max_entries alone, cheaply (the geometry, no shared read); 0 for NULL. */
SHMDS_API uint64_t shmds_hashmap_max_entries(const shmds_hashmap_t *m);

/**
 * stats.frozen alone, cheaply (one shared word, no pass over the tables): 1 once
 * shmds_hashmap_freeze() has begun on the map (through any handle), else 0; -EINVAL
 * for NULL. Never blocks.
 */
SHMDS_API int shmds_hashmap_frozen(const shmds_hashmap_t *m);

/** stats.recoveries alone, cheaply; 0 for NULL. */
SHMDS_API uint64_t shmds_hashmap_recoveries(const shmds_hashmap_t *m);

/**
 * Bound how long every verb of this handle waits for a shard's lock: writers, a read
 * (get, exists, the TTL reads, batch gets, cursors) that found the shard's writer
 * mid-change for long and goes through the lock, and the whole-map verbs. A wait that
 * runs out fails the verb with -ETIMEDOUT (timeout_ns 0: -EAGAIN at once when another
 * thread holds the lock), a shmds_last_error() sentence naming the shard and the
 * holder's thread id, and nothing changed by that verb. Per handle: other handles and
 * processes keep their own. A fork() child inherits it with the handle. Safe to call
 * while other threads use the handle; calls already waiting keep their bound.
 *
 * The default is SHMDS_FOREVER, as for every blocking call of the library that is
 * passed SHMDS_FOREVER: the verbs were written to wait (their callers need not handle
 * -ETIMEDOUT), and no fixed bound fits every map: a table rebuild holds a shard's lock
 * for a pass over the shard, which a map of millions of entries on a loaded machine
 * can stretch past any bound short enough to be worth setting. A holder that dies is
 * taken over within about 11 ms whatever the timeout, so a crash never needs it; set
 * a bound when a peer may stop (SIGSTOP, a debugger) or misbehave while holding a
 * lock, and you would rather fail and retry than wait: 100 ms is far above any honest
 * critical section but a rebuild of a very large shard.
 *
 * How each verb fails: a single-key verb waits for one lock, so it returns within
 * about timeout_ns (plus a read's short spin before it turns to the lock). A batch
 * shares one timeout over all its shards: keys of shards it could not lock get
 * -ETIMEDOUT in results, the others are done. clear, reserve, flush_expired, pop,
 * shift and drain go shard by shard and stop at the first shard whose wait ran out
 * (what they did to the shards before it stands: see each). freeze leaves writes
 * refused when it times out, as when killed: call it again to finish the seal.
 * @param timeout_ns  SHMDS_FOREVER (-1), SHMDS_NOWAIT (0) or a positive bound in ns.
 * @return 0; -EINVAL (NULL handle, or timeout_ns below -1).
 */
SHMDS_API int shmds_hashmap_set_lock_timeout(shmds_hashmap_t *m, int64_t timeout_ns);

/**
 * Fill *out (set out->struct_size first); writes only its first struct_size bytes.
 * Reads counters without a lock. max_probe costs one lock-free pass over every live
 * table (time in proportion to table_slots; keys are hashed again).
 * @return 0; -EINVAL (NULL, or struct_size below the first version's). Never blocks.
 */
SHMDS_API int shmds_hashmap_stats(shmds_hashmap_t *m, shmds_hashmap_stats_t *out);

/* ------------------------------------------------------------------ writes
 * Every write below takes the key's shard lock (see Blocking). Common codes: -EINVAL
 * (NULL handle or argument), SHMDS_EVARIANT (wrong shape for the map), -ERANGE (an
 * integer key or value does not fit its declared type), -E2BIG (a bytes key or value
 * longer than 4 GiB - 1, or than the largest arena block of a shard), -EROFS (the map
 * is frozen, or the handle was opened read-only: see shmds_hashmap_freeze()),
 * -ETIMEDOUT / -EAGAIN (the shard's lock stayed held past the handle's lock timeout:
 * see shmds_hashmap_set_lock_timeout()), SHMDS_ECORRUPT (shared state damaged by a
 * peer). Inserting verbs add -ENOSPC: the map (or the key's shard) holds max_entries,
 * or the arena has no block for the key or value; the sentence says which. On any
 * failure the map is unchanged.
 */

/** Insert or overwrite. @return 0 or a common code. */
SHMDS_API int shmds_hashmap_put_ii(shmds_hashmap_t *m, int64_t key, int64_t value);
SHMDS_API int shmds_hashmap_put_ib(shmds_hashmap_t *m, int64_t key, const void *value,
                                   size_t value_len);
SHMDS_API int shmds_hashmap_put_bi(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   int64_t value);
SHMDS_API int shmds_hashmap_put_bb(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   const void *value, size_t value_len);

/** Insert only if the key is absent. @return 0; -EEXIST (present: unchanged); common. */
SHMDS_API int shmds_hashmap_add_ii(shmds_hashmap_t *m, int64_t key, int64_t value);
SHMDS_API int shmds_hashmap_add_ib(shmds_hashmap_t *m, int64_t key, const void *value,
                                   size_t value_len);
SHMDS_API int shmds_hashmap_add_bi(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   int64_t value);
SHMDS_API int shmds_hashmap_add_bb(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   const void *value, size_t value_len);

/** Overwrite only if the key is present. @return 0; -ENOENT (absent); common. */
SHMDS_API int shmds_hashmap_update_ii(shmds_hashmap_t *m, int64_t key, int64_t value);
SHMDS_API int shmds_hashmap_update_ib(shmds_hashmap_t *m, int64_t key, const void *value,
                                      size_t value_len);
SHMDS_API int shmds_hashmap_update_bi(shmds_hashmap_t *m, const void *key, size_t key_len,
                                      int64_t value);
SHMDS_API int shmds_hashmap_update_bb(shmds_hashmap_t *m, const void *key, size_t key_len,
                                      const void *value, size_t value_len);

/**
 * Insert or overwrite, returning the old value.
 * @return 1 (the key was present: its old value is in *old / old_buf); 0 (it was absent
 *   and is inserted; the old-value outputs are untouched); -ENOBUFS (_ib, _bb: the old
 *   value does not fit old_buf: *old_len = its length, nothing changed); common.
 */
SHMDS_API int shmds_hashmap_swap_ii(shmds_hashmap_t *m, int64_t key, int64_t value,
                                    int64_t *old);
SHMDS_API int shmds_hashmap_swap_ib(shmds_hashmap_t *m, int64_t key, const void *value,
                                    size_t value_len, void *old_buf, size_t old_buf_size,
                                    size_t *old_len);
SHMDS_API int shmds_hashmap_swap_bi(shmds_hashmap_t *m, const void *key, size_t key_len,
                                    int64_t value, int64_t *old);
SHMDS_API int shmds_hashmap_swap_bb(shmds_hashmap_t *m, const void *key, size_t key_len,
                                    const void *value, size_t value_len, void *old_buf,
                                    size_t old_buf_size, size_t *old_len);

/**
 * Compare and swap: replace the value with `desired` only if it equals `expected`
 * (bytes: same length and bytes). Atomic against every other writer of the map.
 * @return 0 (replaced); -ECANCELED (the value differs: unchanged); -ENOENT (absent);
 *   common.
 */
SHMDS_API int shmds_hashmap_cas_ii(shmds_hashmap_t *m, int64_t key, int64_t expected,
                                   int64_t desired);
SHMDS_API int shmds_hashmap_cas_ib(shmds_hashmap_t *m, int64_t key, const void *expected,
                                   size_t expected_len, const void *desired,
                                   size_t desired_len);
SHMDS_API int shmds_hashmap_cas_bi(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   int64_t expected, int64_t desired);
SHMDS_API int shmds_hashmap_cas_bb(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   const void *expected, size_t expected_len,
                                   const void *desired, size_t desired_len);

/**
 * Return the stored value, inserting `value` first if the key is absent (one atomic
 * step: of racing callers exactly one inserts and all get the same value).
 * @return 1 (present: *out / buf holds the stored value); 0 (inserted: *out / buf holds
 *   `value`); -ENOBUFS (_ib, _bb: the stored value, or the given one when absent, does
 *   not fit buf: *len = its length, nothing changed); common.
 */
SHMDS_API int shmds_hashmap_get_or_set_ii(shmds_hashmap_t *m, int64_t key, int64_t value,
                                          int64_t *out);
SHMDS_API int shmds_hashmap_get_or_set_ib(shmds_hashmap_t *m, int64_t key, const void *value,
                                          size_t value_len, void *buf, size_t buf_size,
                                          size_t *len);
SHMDS_API int shmds_hashmap_get_or_set_bi(shmds_hashmap_t *m, const void *key, size_t key_len,
                                          int64_t value, int64_t *out);
SHMDS_API int shmds_hashmap_get_or_set_bb(shmds_hashmap_t *m, const void *key, size_t key_len,
                                          const void *value, size_t value_len, void *buf,
                                          size_t buf_size, size_t *len);

/**
 * Remove and return the value.
 * @return 0; -ENOENT (absent); -ENOBUFS (_ib, _bb: *len = the length needed, nothing
 *   removed); common.
 */
SHMDS_API int shmds_hashmap_take_ii(shmds_hashmap_t *m, int64_t key, int64_t *out);
SHMDS_API int shmds_hashmap_take_ib(shmds_hashmap_t *m, int64_t key, void *buf,
                                    size_t buf_size, size_t *len);
SHMDS_API int shmds_hashmap_take_bi(shmds_hashmap_t *m, const void *key, size_t key_len,
                                    int64_t *out);
SHMDS_API int shmds_hashmap_take_bb(shmds_hashmap_t *m, const void *key, size_t key_len,
                                    void *buf, size_t buf_size, size_t *len);

/** Remove. @return 0; -ENOENT (absent); common. */
SHMDS_API int shmds_hashmap_remove_i(shmds_hashmap_t *m, int64_t key);
SHMDS_API int shmds_hashmap_remove_b(shmds_hashmap_t *m, const void *key, size_t key_len);

/**
 * Counters on integer values: add `delta` (incr: 1, decr: -1) and return the new value
 * in *out. A missing key starts from 0, so the first incr returns 1. Overflow is
 * defined: a result that does not fit the value type (int16, int32 or int64) returns
 * -ERANGE and leaves the value unchanged; it never wraps. Atomic against every other
 * writer: N processes doing M increments each add exactly N * M.
 * @return 0; -ERANGE (overflow, or a key out of range); -ENOSPC (a missing key cannot be
 *   inserted); common.
 */
SHMDS_API int shmds_hashmap_incr_by_i(shmds_hashmap_t *m, int64_t key, int64_t delta,
                                      int64_t *out);
SHMDS_API int shmds_hashmap_incr_by_b(shmds_hashmap_t *m, const void *key, size_t key_len,
                                      int64_t delta, int64_t *out);
SHMDS_API int shmds_hashmap_incr_i(shmds_hashmap_t *m, int64_t key, int64_t *out);
SHMDS_API int shmds_hashmap_incr_b(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   int64_t *out);
SHMDS_API int shmds_hashmap_decr_i(shmds_hashmap_t *m, int64_t key, int64_t *out);
SHMDS_API int shmds_hashmap_decr_b(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   int64_t *out);

/* ------------------------------------------------------------------- reads
 * No lock: a read retries while a writer changes the key's shard and never returns a
 * torn value; if the shard's writer stays mid-change (a dead or stalled process), the
 * read goes through the shard's lock once, which takes over a dead writer. An expired
 * entry reads as absent (-ENOENT, or 0 from exists). Codes:
 * -EINVAL, SHMDS_EVARIANT, -ERANGE (integer key out of range), -E2BIG, -ETIMEDOUT /
 * -EAGAIN (the writer stayed mid-change and its lock stayed held past the handle's
 * lock timeout: see shmds_hashmap_set_lock_timeout()), SHMDS_ECORRUPT.
 */

/**
 * Copy the value out.
 * @return 0; -ENOENT (absent); -ENOBUFS (_ib, _bb: *len = the length needed); common.
 */
SHMDS_API int shmds_hashmap_get_ii(shmds_hashmap_t *m, int64_t key, int64_t *out);
SHMDS_API int shmds_hashmap_get_ib(shmds_hashmap_t *m, int64_t key, void *buf,
                                   size_t buf_size, size_t *len);
SHMDS_API int shmds_hashmap_get_bi(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   int64_t *out);
SHMDS_API int shmds_hashmap_get_bb(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   void *buf, size_t buf_size, size_t *len);

/** Whether the key is present. @return 1; 0 (absent); a negative code as for get. */
SHMDS_API int shmds_hashmap_exists_i(shmds_hashmap_t *m, int64_t key);
SHMDS_API int shmds_hashmap_exists_b(shmds_hashmap_t *m, const void *key, size_t key_len);

/* ------------------------------------------------------------ f64 values
 * The verbs above for maps whose value type is SHMDS_TYPE_F64, with an integer (_if) or
 * bytes (_bf) key. Each behaves, blocks and returns exactly as its _ii/_bi namesake
 * (there are no counters on f64 values). cas compares the 8 bytes of the double, so
 * 0.0 and -0.0 differ and a NaN matches only the same NaN bits.
 */
SHMDS_API int shmds_hashmap_put_if(shmds_hashmap_t *m, int64_t key, double value);
SHMDS_API int shmds_hashmap_put_bf(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   double value);
SHMDS_API int shmds_hashmap_add_if(shmds_hashmap_t *m, int64_t key, double value);
SHMDS_API int shmds_hashmap_add_bf(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   double value);
SHMDS_API int shmds_hashmap_update_if(shmds_hashmap_t *m, int64_t key, double value);
SHMDS_API int shmds_hashmap_update_bf(shmds_hashmap_t *m, const void *key, size_t key_len,
                                      double value);
SHMDS_API int shmds_hashmap_swap_if(shmds_hashmap_t *m, int64_t key, double value, double *old);
SHMDS_API int shmds_hashmap_swap_bf(shmds_hashmap_t *m, const void *key, size_t key_len,
                                    double value, double *old);
SHMDS_API int shmds_hashmap_cas_if(shmds_hashmap_t *m, int64_t key, double expected,
                                   double desired);
SHMDS_API int shmds_hashmap_cas_bf(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   double expected, double desired);
SHMDS_API int shmds_hashmap_get_or_set_if(shmds_hashmap_t *m, int64_t key, double value,
                                          double *out);
SHMDS_API int shmds_hashmap_get_or_set_bf(shmds_hashmap_t *m, const void *key, size_t key_len,
                                          double value, double *out);
SHMDS_API int shmds_hashmap_take_if(shmds_hashmap_t *m, int64_t key, double *out);
SHMDS_API int shmds_hashmap_take_bf(shmds_hashmap_t *m, const void *key, size_t key_len,
                                    double *out);
SHMDS_API int shmds_hashmap_get_if(shmds_hashmap_t *m, int64_t key, double *out);
SHMDS_API int shmds_hashmap_get_bf(shmds_hashmap_t *m, const void *key, size_t key_len,
                                   double *out);

/* ------------------------------------------------------------------- TTL
 * Every entry may carry an expiry, kept as an absolute wall-clock time in milliseconds
 * (CLOCK_REALTIME), so a file-backed map reopened after a reboot expires its entries at
 * the right time; stepping the system clock moves expiry with it. An expired entry is
 * absent for every verb (get, exists, cas, update, ...). Reads check the clock only
 * for entries that carry an expiry. Expired entries are reclaimed lazily: a writer that
 * meets one (its own key, or a full shard that needs room) and the flush functions
 * remove them, counted in stats.expirations.
 *
 * Which TTL an entry gets: put, add, update and swap (and an insert by get_or_set,
 * incr, max/min or a batch put) give it the map's default_ttl_ms (0: never expires);
 * the _ttl forms give it ttl_ms (0: never expires). An overwrite by put/update/swap or
 * a batch put sets the expiry anew; cas, incr and max/min keep it. ttl_ms above
 * SHMDS_HASHMAP_MAX_TTL_MS returns -ERANGE. Batch gets and cursors skip expired
 * entries as get does (a cursor seek to an expired key is -ENOENT).
 *
 * Frozen maps: touch, persist, set_ttl and the flushes are writes (-EROFS). A read-only
 * handle (shmds_hashmap_open_read_only) sees expired entries as absent and never
 * stores: it reclaims nothing and marks no hit.
 * Blocking and crash behaviour: as the other writes (a writer killed while setting an
 * expiry leaves the old one).
 */

/**
 * Override the clock of this handle (tests): now_ms(ctx) returns wall-clock
 * milliseconds and must be safe to call from any thread using the handle; NULL
 * restores CLOCK_REALTIME. Only this handle's calls use it; other handles and
 * processes keep their own. Must not race other calls on the handle.
 * @return 0; -EINVAL (NULL handle).
 */
SHMDS_API int shmds_hashmap_set_clock(shmds_hashmap_t *m, uint64_t (*now_ms)(void *ctx),
                                      void *ctx);

/** put, add and update (above) with an explicit TTL. @return as their namesakes;
 * -ERANGE also for ttl_ms > SHMDS_HASHMAP_MAX_TTL_MS. */
SHMDS_API int shmds_hashmap_put_ttl_ii(shmds_hashmap_t *m, int64_t key, int64_t value,
                                       uint64_t ttl_ms);
SHMDS_API int shmds_hashmap_put_ttl_ib(shmds_hashmap_t *m, int64_t key, const void *value,
                                       size_t value_len, uint64_t ttl_ms);
SHMDS_API int shmds_hashmap_put_ttl_bi(shmds_hashmap_t *m, const void *key, size_t key_len,
                                       int64_t value, uint64_t ttl_ms);
SHMDS_API int shmds_hashmap_put_ttl_bb(shmds_hashmap_t *m, const void *key, size_t key_len,
                                       const void *value, size_t value_len, uint64_t ttl_ms);
SHMDS_API int shmds_hashmap_put_ttl_if(shmds_hashmap_t *m, int64_t key, double value,
                                       uint64_t ttl_ms);
SHMDS_API int shmds_hashmap_put_ttl_bf(shmds_hashmap_t *m, const void *key, size_t key_len,
                                       double value, uint64_t ttl_ms);
SHMDS_API int shmds_hashmap_add_ttl_ii(shmds_hashmap_t *m, int64_t key, int64_t value,
                                       uint64_t ttl_ms);
SHMDS_API int shmds_hashmap_add_ttl_ib(shmds_hashmap_t *m, int64_t key, const void *value,
                                       size_t value_len, uint64_t ttl_ms);
SHMDS_API int shmds_hashmap_add_ttl_bi(shmds_hashmap_t *m, const void *key, size_t key_len,
                                       int64_t value, uint64_t ttl_ms);
SHMDS_API int shmds_hashmap_add_ttl_bb(shmds_hashmap_t *m, const void *key, size_t key_len,
                                       const void *value, size_t value_len, uint64_t ttl_ms);
SHMDS_API int shmds_hashmap_add_ttl_if(shmds_hashmap_t *m, int64_t key, double value,
                                       uint64_t ttl_ms);
SHMDS_API int shmds_hashmap_add_ttl_bf(shmds_hashmap_t *m, const void *key, size_t key_len,
                                       double value, uint64_t ttl_ms);
SHMDS_API int shmds_hashmap_update_ttl_ii(shmds_hashmap_t *m, int64_t key, int64_t value,
                                          uint64_t ttl_ms);
SHMDS_API int shmds_hashmap_update_ttl_ib(shmds_hashmap_t *m, int64_t key, const void *value,
                                          size_t value_len, uint64_t ttl_ms);
SHMDS_API int shmds_hashmap_update_ttl_bi(shmds_hashmap_t *m, const void *key, size_t key_len,
                                          int64_t value, uint64_t ttl_ms);
SHMDS_API int shmds_hashmap_update_ttl_bb(shmds_hashmap_t *m, const void *key, size_t key_len,
                                          const void *value, size_t value_len,
                                          uint64_t ttl_ms);
SHMDS_API int shmds_hashmap_update_ttl_if(shmds_hashmap_t *m, int64_t key, double value,
                                          uint64_t ttl_ms);
SHMDS_API int shmds_hashmap_update_ttl_bf(shmds_hashmap_t *m, const void *key, size_t key_len,
                                          double value, uint64_t ttl_ms);

/**
 * get (above) that also returns the entry's remaining TTL in *ttl_ms (0: it never
 * expires; otherwise at least 1). No lock, as get.
 * @return as get; -EINVAL also for a NULL ttl_ms.
 */
SHMDS_API int shmds_hashmap_get_with_ttl_ii(shmds_hashmap_t *m, int64_t key, int64_t *out,
                                            uint64_t *ttl_ms);
SHMDS_API int shmds_hashmap_get_with_ttl_ib(shmds_hashmap_t *m, int64_t key, void *buf,
                                            size_t buf_size, size_t *len, uint64_t *ttl_ms);
SHMDS_API int shmds_hashmap_get_with_ttl_bi(shmds_hashmap_t *m, const void *key,
                                            size_t key_len, int64_t *out, uint64_t *ttl_ms);
SHMDS_API int shmds_hashmap_get_with_ttl_bb(shmds_hashmap_t *m, const void *key,
                                            size_t key_len, void *buf, size_t buf_size,
                                            size_t *len, uint64_t *ttl_ms);
SHMDS_API int shmds_hashmap_get_with_ttl_if(shmds_hashmap_t *m, int64_t key, double *out,
                                            uint64_t *ttl_ms);
SHMDS_API int shmds_hashmap_get_with_ttl_bf(shmds_hashmap_t *m, const void *key,
                                            size_t key_len, double *out, uint64_t *ttl_ms);

/**
 * The key's remaining TTL in *ttl_ms. No lock, as get.
 * @return 1 (it expires in *ttl_ms >= 1 ms); 0 (present, never expires: *ttl_ms = 0);
 *   -ENOENT (absent or expired); -EINVAL (NULL ttl_ms); the read codes.
 */
SHMDS_API int shmds_hashmap_ttl_remaining_i(shmds_hashmap_t *m, int64_t key, uint64_t *ttl_ms);
SHMDS_API int shmds_hashmap_ttl_remaining_b(shmds_hashmap_t *m, const void *key,
                                            size_t key_len, uint64_t *ttl_ms);

/**
 * touch: the key was used. Its expiry restarts at now + the map's default_ttl_ms (a
 * map without a default TTL keeps the expiry as it is), and on an evicting map it
 * counts as a hit. persist: the key never expires. set_ttl: it expires in ttl_ms
 * (0: never). Each takes the key's shard lock.
 * @return 0; -ENOENT (absent or expired); -ERANGE (ttl_ms too large, or an integer key
 *   out of range); the common write codes.
 */
SHMDS_API int shmds_hashmap_touch_i(shmds_hashmap_t *m, int64_t key);
SHMDS_API int shmds_hashmap_touch_b(shmds_hashmap_t *m, const void *key, size_t key_len);
SHMDS_API int shmds_hashmap_persist_i(shmds_hashmap_t *m, int64_t key);
SHMDS_API int shmds_hashmap_persist_b(shmds_hashmap_t *m, const void *key, size_t key_len);
SHMDS_API int shmds_hashmap_set_ttl_i(shmds_hashmap_t *m, int64_t key, uint64_t ttl_ms);
SHMDS_API int shmds_hashmap_set_ttl_b(shmds_hashmap_t *m, const void *key, size_t key_len,
                                      uint64_t ttl_ms);

/**
 * Remove every expired entry; *removed (may be NULL) = how many. Sweeps each shard in
 * steps of 4096 slots, each step under the shard's lock (readers of that shard wait
 * for at most one step).
 * @return 0; -EINVAL (NULL handle); -EROFS (frozen or read-only); SHMDS_ECORRUPT. A
 *   process killed mid-sweep leaves every entry either present or removed (each
 *   removal is its own committed step).
 */
SHMDS_API int shmds_hashmap_flush_expired(shmds_hashmap_t *m, uint64_t *removed);

/**
 * A bounded flush: examine at most about max_slots table slots, continuing where the
 * last partial flush stopped, and remove the expired entries found (*removed, may be
 * NULL). Within a shard the position is shared by every process (kept in the shard);
 * which shard comes next is kept per handle. Call until it returns 1 for a full sweep.
 * @return 1 (the sweep has now covered every slot of every shard: the next call starts
 *   a new pass); 0 (slots remain); -EINVAL (NULL handle, max_slots 0); -EROFS (frozen
 *   or read-only); SHMDS_ECORRUPT. A clear starts the next pass of its shards afresh.
 *   Blocking and crash behaviour as shmds_hashmap_flush_expired().
 */
SHMDS_API int shmds_hashmap_flush_expired_partial(shmds_hashmap_t *m, uint64_t max_slots,
                                                  uint64_t *removed);

/* -------------------------------------------------------------- Eviction
 * A map created with SHMDS_HASHMAP_EVICT never refuses an insert for lack of room:
 * when the key's shard holds its share of max_entries, one entry of that shard is
 * evicted first (counted in stats.evictions; an expired entry found on the way is
 * taken instead and counted in stats.expirations). Eviction scope is the shard: with
 * shards > 1 each shard evicts among its own entries only, so the map's order is
 * exact only with one shard (the default).
 *
 * Policy: SIEVE (NSDI'24). Each shard keeps its entries in insertion order and a hand.
 * Marks: one rule: a verb that finds its key present (and not expired) is a hit and
 * marks the entry visited, whatever it then does. That is every read (get,
 * get_with_ttl, exists, ttl_remaining, a batch get) and every writer that finds its key:
 * put/update/swap and their _ttl forms (an overwrite), add refused with -EEXIST, cas
 * (either outcome), get_or_set that finds the key, incr/decr/incr_by, max/min (also when
 * the stored value already wins), touch, persist, set_ttl, a batch put's overwrites
 * (take, remove and cas_take remove the entry anyway). Cursors, seek, pop, shift, drain
 * and stats are not hits. Like the reference's clock bit, set on get and on update.
 * A read marks without any lock; every verb writes the mark only when it is clear, so
 * a hot entry's mark is stored once, never again. To make room the hand walks from the
 * oldest entry towards the newest, clearing marks, and evicts the first unmarked entry;
 * it resumes there next time. So with max_entries 3: put 1, 2, 3, put 4 evicts 1; then
 * get 2, put 5 evicts 3 and keeps 2 (and likewise with incr 2, cas 2, touch 2, ...).
 * Table rebuilds (grow, shrink, compaction, shmds_hashmap_reserve) keep the order, the
 * marks and the hand; shmds_hashmap_clear empties the order and resets the hand. Every
 * insert evicts this way, whichever verb makes it: put, add, the _ttl forms, a batch
 * put, get_or_set, incr and max/min. A read-only handle marks nothing.
 *
 * Crash behaviour: the list changes are journaled with the rest of the write; a
 * writer killed mid-eviction leaves the evicted entry and the list as they were. Marks
 * are hints and are not journaled (a lost mark changes which entry goes next, never
 * the map's consistency). Arena exhaustion is still -ENOSPC (eviction makes room in
 * the table, not in the arena).
 *
 * pop, shift and drain need an evicting map (-EINVAL otherwise). With shards > 1 they
 * take from the shards in turn (this handle remembers where it stopped).
 *
 * Not offered: the reference's lru_skip (a rate that skips some promotions on write
 * hits). Its clock policy moved an accessed entry to the front of the list, a relink
 * under the lock worth rate-limiting; a SIEVE hit moves nothing, it only sets the
 * entry's mark (on a write hit under the lock the writer already holds, on a read hit
 * at most once), so there is no promotion to skip.
 */

/**
 * pop: remove the entry eviction would take next (clearing the marks the hand passes,
 * as an eviction does) and return its key and value. shift: remove the newest entry.
 * Expired entries met on the way are reclaimed, never returned.
 * @return 0; -ENOENT (the map is empty); -ENOBUFS (_ib, _bi, _bb: a buffer is too
 *   small: *key_len and *value_len say what is needed, nothing is removed, and the
 *   next pop takes that same entry); -EINVAL
 *   (NULL argument, not an evicting map); -EROFS (frozen or read-only); SHMDS_EVARIANT;
 *   SHMDS_ECORRUPT. Takes a shard lock per shard tried.
 */
SHMDS_API int shmds_hashmap_pop_ii(shmds_hashmap_t *m, int64_t *key, int64_t *value);
SHMDS_API int shmds_hashmap_pop_ib(shmds_hashmap_t *m, int64_t *key, void *value_buf,
                                   size_t value_buf_size, size_t *value_len);
SHMDS_API int shmds_hashmap_pop_bi(shmds_hashmap_t *m, void *key_buf, size_t key_buf_size,
                                   size_t *key_len, int64_t *value);
SHMDS_API int shmds_hashmap_pop_bb(shmds_hashmap_t *m, void *key_buf, size_t key_buf_size,
                                   size_t *key_len, void *value_buf, size_t value_buf_size,
                                   size_t *value_len);
SHMDS_API int shmds_hashmap_pop_if(shmds_hashmap_t *m, int64_t *key, double *value);
SHMDS_API int shmds_hashmap_pop_bf(shmds_hashmap_t *m, void *key_buf, size_t key_buf_size,
                                   size_t *key_len, double *value);
SHMDS_API int shmds_hashmap_shift_ii(shmds_hashmap_t *m, int64_t *key, int64_t *value);
SHMDS_API int shmds_hashmap_shift_ib(shmds_hashmap_t *m, int64_t *key, void *value_buf,
                                     size_t value_buf_size, size_t *value_len);
SHMDS_API int shmds_hashmap_shift_bi(shmds_hashmap_t *m, void *key_buf, size_t key_buf_size,
                                     size_t *key_len, int64_t *value);
SHMDS_API int shmds_hashmap_shift_bb(shmds_hashmap_t *m, void *key_buf, size_t key_buf_size,
                                     size_t *key_len, void *value_buf, size_t value_buf_size,
                                     size_t *value_len);
SHMDS_API int shmds_hashmap_shift_if(shmds_hashmap_t *m, int64_t *key, double *value);
SHMDS_API int shmds_hashmap_shift_bf(shmds_hashmap_t *m, void *key_buf, size_t key_buf_size,
                                     size_t *key_len, double *value);

/**
 * Remove up to n entries in eviction order (as n pops, discarding the entries);
 * *removed (may be NULL) = how many (fewer when the map empties). To get the entries,
 * use shmds_hashmap_drain_batch().
 * @return 0; -EINVAL (NULL handle, not an evicting map); -EROFS (frozen or read-only);
 *   SHMDS_ECORRUPT. Each entry is its own locked step: a process killed mid-drain leaves
 *   a map with some removed.
 */
SHMDS_API int shmds_hashmap_drain(shmds_hashmap_t *m, uint64_t n, uint64_t *removed);

/**
 * Remove up to max_items entries in eviction order (as that many pops) and return them,
 * any map shape, packed like shmds_hashmap_cursor_next_batch(): keys one after another
 * into keys (keys_size bytes) with their lengths in key_lens, values likewise; integer
 * keys and values as 8-byte int64_t, f64 values as 8-byte doubles (with an integer
 * shape and 8-aligned buffers the buffers are arrays of those). Pass keys, key_lens
 * (and keys_size 0) all NULL to skip keys, or the three value arguments to skip values
 * (the entries are removed all the same). Entry i is the i-th pop: with shards > 1 the
 * shards take turns, as for pop. Expired entries met on the way are reclaimed, never
 * returned.
 * @return how many entries were removed and copied, 0 ..= max_items (0: the map is
 *   empty, or max_items is 0). An entry that does not fit what is left of the buffers
 *   is not removed: it ends the batch and comes first next time. -ENOBUFS (not even the
 *   first entry fits: key_lens[0] / value_lens[0] = its lengths, nothing removed);
 *   -EINVAL (NULL handle, not an evicting map, a buffer NULL with a nonzero size, a
 *   buffer without its lengths array, max_items > INT_MAX); -EROFS (frozen or
 *   read-only); SHMDS_ECORRUPT. An error met after some entries were removed returns
 *   those entries; the error comes on the next call.
 * Blocking: takes the shard lock once per entry (held for that one pop), like pop; no
 *   timeout.
 * Crash behaviour: each entry is its own journaled step, copied into the buffers before
 *   its removal commits. A process killed mid-call leaves the entries it had removed
 *   gone (they were in its buffers only), the one in progress in the map (rolled back
 *   by the next writer) and the rest untouched: like a process killed after that many
 *   pops. Nothing is removed twice or half-removed.
 */
SHMDS_API int shmds_hashmap_drain_batch(shmds_hashmap_t *m, void *keys, size_t keys_size,
                                        size_t *key_lens, void *values, size_t values_size,
                                        size_t *value_lens, size_t max_items);

/* ------------------------------------------------------ more atomic verbs */

/**
 * Compare and remove: remove the key only if its value equals `expected` (bytes: same
 * length and bytes; f64: same 8 bytes). Atomic against every other writer: of N
 * processes racing to take the same (key, value), exactly one succeeds.
 * @return 0 (removed); -ECANCELED (the value differs: unchanged); -ENOENT (absent);
 *   -EROFS (the map is frozen); common.
 */
SHMDS_API int shmds_hashmap_cas_take_ii(shmds_hashmap_t *m, int64_t key, int64_t expected);
SHMDS_API int shmds_hashmap_cas_take_ib(shmds_hashmap_t *m, int64_t key, const void *expected,
                                        size_t expected_len);
SHMDS_API int shmds_hashmap_cas_take_bi(shmds_hashmap_t *m, const void *key, size_t key_len,
                                        int64_t expected);
SHMDS_API int shmds_hashmap_cas_take_bb(shmds_hashmap_t *m, const void *key, size_t key_len,
                                        const void *expected, size_t expected_len);
SHMDS_API int shmds_hashmap_cas_take_if(shmds_hashmap_t *m, int64_t key, double expected);
SHMDS_API int shmds_hashmap_cas_take_bf(shmds_hashmap_t *m, const void *key, size_t key_len,
                                        double expected);

/**
 * Monotonic counters on integer values: store max(stored, value) (or min), inserting
 * `value` when the key is missing, and return the resulting value in *out. Atomic: N
 * processes each calling max with their numbers leave exactly the largest.
 * @return 1 (the map changed: inserted, raised or lowered); 0 (the stored value already
 *   was at least (max) / at most (min) `value`: unchanged); -ERANGE (value or key out of
 *   the declared type's range); -ENOSPC (a missing key cannot be inserted); -EROFS
 *   (frozen); common.
 */
SHMDS_API int shmds_hashmap_max_i(shmds_hashmap_t *m, int64_t key, int64_t value, int64_t *out);
SHMDS_API int shmds_hashmap_max_b(shmds_hashmap_t *m, const void *key, size_t key_len,
                                  int64_t value, int64_t *out);
SHMDS_API int shmds_hashmap_min_i(shmds_hashmap_t *m, int64_t key, int64_t value, int64_t *out);
SHMDS_API int shmds_hashmap_min_b(shmds_hashmap_t *m, const void *key, size_t key_len,
                                  int64_t value, int64_t *out);

/* ---------------------------------------------------------------- batches
 * Many keys in one call: the keys are grouped by shard and each shard's lock is taken
 * once for all of its keys (gets take no lock). Not atomic across keys: each key's
 * change commits on its own, in shard order, and readers may see some done before
 * others. A process killed mid-batch leaves every key before the one it was changing
 * done and the rest untouched. Arrays hold n elements; bytes keys and values come as an
 * array of pointers and an array of lengths.
 *
 * results (n ints, may be NULL for put and remove): each key's own code, as the
 * single-key verb returns it (0, -ENOENT, -ENOSPC, -ERANGE for that key, ...).
 * @return the number of keys that succeeded (get: were found), 0 ..= n; or a code for
 *   the whole call, with nothing done: -EINVAL (NULL handle, or a NULL array with n > 0,
 *   or n > INT_MAX), SHMDS_EVARIANT (wrong shape), -ENOMEM, -EROFS (read-only handle).
 */
SHMDS_API int shmds_hashmap_put_batch_ii(shmds_hashmap_t *m, const int64_t *keys,
                                         const int64_t *values, size_t n, int *results);
SHMDS_API int shmds_hashmap_put_batch_ib(shmds_hashmap_t *m, const int64_t *keys,
                                         const void *const *values, const size_t *value_lens,
                                         size_t n, int *results);
SHMDS_API int shmds_hashmap_put_batch_bi(shmds_hashmap_t *m, const void *const *keys,
                                         const size_t *key_lens, const int64_t *values,
                                         size_t n, int *results);
SHMDS_API int shmds_hashmap_put_batch_bb(shmds_hashmap_t *m, const void *const *keys,
                                         const size_t *key_lens, const void *const *values,
                                         const size_t *value_lens, size_t n, int *results);
SHMDS_API int shmds_hashmap_put_batch_if(shmds_hashmap_t *m, const int64_t *keys,
                                         const double *values, size_t n, int *results);
SHMDS_API int shmds_hashmap_put_batch_bf(shmds_hashmap_t *m, const void *const *keys,
                                         const size_t *key_lens, const double *values,
                                         size_t n, int *results);

/** Remove many keys; results[i] is 0 or -ENOENT (or another code). */
SHMDS_API int shmds_hashmap_remove_batch_i(shmds_hashmap_t *m, const int64_t *keys, size_t n,
                                           int *results);
SHMDS_API int shmds_hashmap_remove_batch_b(shmds_hashmap_t *m, const void *const *keys,
                                           const size_t *key_lens, size_t n, int *results);

/**
 * Get many keys, without a lock. results (required) holds each key's found flag as a
 * code: 0 (found: the value is in values[i], or in bufs[i] with lens[i] bytes),
 * -ENOENT (absent or expired: its outputs untouched), -ENOBUFS (bufs[i] of
 * buf_sizes[i] bytes is too small: lens[i] = the length needed), -ETIMEDOUT (the key's
 * shard stayed mid-change past the lock timeout; its later keys in the batch get
 * -ETIMEDOUT without waiting again). On an evicting map each key found counts as a
 * hit, as for get.
 */
SHMDS_API int shmds_hashmap_get_batch_ii(shmds_hashmap_t *m, const int64_t *keys, size_t n,
                                         int64_t *values, int *results);
SHMDS_API int shmds_hashmap_get_batch_ib(shmds_hashmap_t *m, const int64_t *keys, size_t n,
                                         void *const *bufs, const size_t *buf_sizes,
                                         size_t *lens, int *results);
SHMDS_API int shmds_hashmap_get_batch_bi(shmds_hashmap_t *m, const void *const *keys,
                                         const size_t *key_lens, size_t n, int64_t *values,
                                         int *results);
SHMDS_API int shmds_hashmap_get_batch_bb(shmds_hashmap_t *m, const void *const *keys,
                                         const size_t *key_lens, size_t n, void *const *bufs,
                                         const size_t *buf_sizes, size_t *lens, int *results);
SHMDS_API int shmds_hashmap_get_batch_if(shmds_hashmap_t *m, const int64_t *keys, size_t n,
                                         double *values, int *results);
SHMDS_API int shmds_hashmap_get_batch_bf(shmds_hashmap_t *m, const void *const *keys,
                                         const size_t *key_lens, size_t n, double *values,
                                         int *results);

/* ------------------------------------------------------------ whole map */

/**
 * Grow the live tables now so that `entries` entries fit without a table rebuild (each
 * shard grows for its share, entries / shards rounded up). Never shrinks; a later
 * remove that leaves a table a quarter full may shrink it again.
 * @return 0; -ENOSPC (entries > max_entries); -EROFS (frozen or read-only); -EINVAL;
 *   -ETIMEDOUT / -EAGAIN (a shard's lock wait ran out: the shards before it are grown,
 *   the rest untouched); SHMDS_ECORRUPT. Takes each shard's lock in turn; a grow holds
 *   it for one pass.
 */
SHMDS_API int shmds_hashmap_reserve(shmds_hashmap_t *m, uint64_t entries);

/**
 * Remove every entry and return the arena, shard by shard (each shard in one atomic
 * step: a process killed inside leaves that shard whole or empty). Cursors walking a
 * cleared shard report -ESTALE.
 * @param removed  receives how many entries were removed (may be NULL).
 * @return 0; -EROFS (frozen or read-only); -EINVAL; -ETIMEDOUT / -EAGAIN (a shard's
 *   lock wait ran out: the shards before it are cleared, *removed counts their
 *   entries, and the rest are untouched); SHMDS_ECORRUPT. Takes each shard's lock in
 *   turn.
 */
SHMDS_API int shmds_hashmap_clear(shmds_hashmap_t *m, uint64_t *removed);

/**
 * Seal the map for good: from now on every write (put, remove, counters, batches,
 * reserve, clear, ...) through any handle fails with -EROFS and a shmds_last_error()
 * sentence saying the map is frozen; reads go on without any lock traffic. Returns once
 * no write is in flight anywhere (it passes through every shard's lock, taking over a
 * dead writer). A frozen file can then be opened with shmds_hashmap_open_read_only().
 * Idempotent; a process killed inside leaves writes refused, and calling it again
 * finishes the seal.
 * @return 0; -EINVAL; -ETIMEDOUT / -EAGAIN (a shard's lock wait ran out: writes are
 *   refused from now on, as after a killed freeze, but a write may still be in flight
 *   on that shard; call again to finish the seal); SHMDS_ECORRUPT.
 */
SHMDS_API int shmds_hashmap_freeze(shmds_hashmap_t *m);

/**
 * Attach to a frozen map mapped PROT_READ (the file opened O_RDONLY, so read permission
 * is enough). Reads, cursors and stats work; every write returns -EROFS without touching
 * the mapping. Arguments as shmds_hashmap_open().
 * @return 0; -EPERM (the map is not frozen); the codes of shmds_hashmap_open().
 */
SHMDS_API int shmds_hashmap_open_read_only(const shmds_options_t *opts, int key_type,
                                           int value_type, shmds_hashmap_t **out);

/* ---------------------------------------------------------------- cursors
 * An independent position in the map: several cursors may walk one map, each at its
 * own pace, while other threads and processes read and write. A cursor walks the
 * shards in order and each live table slot by slot, reading without a lock, and
 * returns every entry present for the whole walk exactly once (entries added or
 * removed meanwhile may or may not appear). Removal while iterating is safe: a remove
 * never moves another entry, and while a handle has a cursor, removes through that
 * handle do not shrink tables (the first remove after its last cursor is destroyed
 * does). A table rebuild in the shard being walked (a grow, a shrink caused through
 * another handle or process, a tombstone compaction, a clear) would move entries under
 * the cursor: the cursor then reports -ESTALE (from then on, until reset) instead of
 * skipping or repeating an entry. shmds_hashmap_reserve() before a walk that inserts
 * avoids grows. A cursor belongs to its handle: destroy it before closing the handle;
 * one cursor must not be used by two threads at once. Never blocks (a read that finds
 * a writer stuck mid-change goes through its lock once, as get does, waiting at most
 * the handle's lock timeout: -ETIMEDOUT).
 */

/** Opaque cursor. */
typedef struct shmds_hashmap_cursor shmds_hashmap_cursor_t;

/** A cursor at the start of the map. @return 0; -EINVAL; -ENOMEM. */
SHMDS_API int shmds_hashmap_cursor_create(shmds_hashmap_t *m, shmds_hashmap_cursor_t **out);

/** Free a cursor (NULL is allowed). */
SHMDS_API void shmds_hashmap_cursor_destroy(shmds_hashmap_cursor_t *c);

/** Back to the start; clears -ESTALE. @return 0; -EINVAL. */
SHMDS_API int shmds_hashmap_cursor_reset(shmds_hashmap_cursor_t *c);

/**
 * Position on a key so that the next call returns it first, then the entries after it
 * in cursor order. Clears -ESTALE.
 * @return 0; -ENOENT (absent: the cursor unchanged); -EINVAL; SHMDS_EVARIANT; -ERANGE.
 */
SHMDS_API int shmds_hashmap_cursor_seek_i(shmds_hashmap_cursor_t *c, int64_t key);
SHMDS_API int shmds_hashmap_cursor_seek_b(shmds_hashmap_cursor_t *c, const void *key,
                                          size_t key_len);

/**
 * The next entry, one at a time. Key outputs or value outputs may all be NULL to walk
 * only values or only keys.
 * @return 1 (an entry: outputs filled); 0 (the end: stays there until reset); -ESTALE
 *   (the shard was rebuilt under the cursor: reset it); -ENOBUFS (a bytes output is
 *   too small: *key_len / *len = the length needed; the cursor stays on the entry);
 *   -EINVAL; SHMDS_EVARIANT; SHMDS_ECORRUPT.
 */
SHMDS_API int shmds_hashmap_cursor_next_ii(shmds_hashmap_cursor_t *c, int64_t *key,
                                           int64_t *value);
SHMDS_API int shmds_hashmap_cursor_next_ib(shmds_hashmap_cursor_t *c, int64_t *key, void *buf,
                                           size_t buf_size, size_t *len);
SHMDS_API int shmds_hashmap_cursor_next_bi(shmds_hashmap_cursor_t *c, void *key_buf,
                                           size_t key_buf_size, size_t *key_len,
                                           int64_t *value);
SHMDS_API int shmds_hashmap_cursor_next_bb(shmds_hashmap_cursor_t *c, void *key_buf,
                                           size_t key_buf_size, size_t *key_len, void *buf,
                                           size_t buf_size, size_t *len);
SHMDS_API int shmds_hashmap_cursor_next_if(shmds_hashmap_cursor_t *c, int64_t *key,
                                           double *value);
SHMDS_API int shmds_hashmap_cursor_next_bf(shmds_hashmap_cursor_t *c, void *key_buf,
                                           size_t key_buf_size, size_t *key_len,
                                           double *value);

/**
 * Up to max_items entries in one call, any map shape: keys packed one after another
 * into keys (keys_size bytes) with their lengths in key_lens, values likewise. Integer
 * keys and values come as 8-byte int64_t and f64 values as 8-byte doubles, so with an
 * integer shape and 8-aligned buffers the buffers are arrays of those. Pass keys,
 * key_lens (and keys_size 0) all NULL to skip keys, or the three value arguments to
 * skip values.
 * @return how many entries were copied, 0 ..= max_items (0 at the end); an entry that
 *   does not fit what is left of the buffers ends the batch and comes first next time;
 *   -ENOBUFS (not even the first entry fits: key_lens[0] / value_lens[0] = its
 *   lengths); -ESTALE as above (entries copied before the rebuild was seen are returned
 *   first, -ESTALE on the next call); -EINVAL (NULL cursor, a buffer NULL with a nonzero
 *   size, or max_items > INT_MAX); SHMDS_ECORRUPT.
 */
SHMDS_API int shmds_hashmap_cursor_next_batch(shmds_hashmap_cursor_t *c, void *keys,
                                              size_t keys_size, size_t *key_lens, void *values,
                                              size_t values_size, size_t *value_lens,
                                              size_t max_items);

/* ------------------------------------------------- eventfd (common.h, "Eventfds") */

/*
 * An opt-in eventfd per handle, for epoll-based event loops: a writer that wants its
 * readers woken (say, after a batch of puts) calls shmds_hashmap_notify(); no verb of
 * the map ever signals it by itself. The eventfd belongs to the handle, not to the
 * shared map: other handles and processes see it only if it is shared with them (a
 * fork() child inherits the handle and its eventfd; another process attaches a
 * received fd with shmds_hashmap_set_eventfd()). A read-only handle has one too. None
 * of these verbs blocks or takes a shard lock, and none touches shared memory, so a
 * process killed in one leaves nothing behind but its own descriptors.
 */

/**
 * The handle's eventfd for epoll, created on first call (non-blocking, close-on-exec)
 * and owned by the handle (closed by shmds_hashmap_close(); do not close it). Share
 * it across fork() or with shmds_send_fd() and attach it on the other side with
 * shmds_hashmap_set_eventfd().
 * @return the fd (>= 0); -EINVAL (NULL); or -errno (-EMFILE...).
 */
SHMDS_API int shmds_hashmap_eventfd(shmds_hashmap_t *m);

/**
 * Use a duplicate of `fd` (an eventfd) as this handle's eventfd; the caller keeps its
 * own fd (and closes it when it likes). The handle's previous eventfd, if any, is
 * closed (once no thread of this handle is still signalling through it). -1 detaches.
 * Setting the fd the handle already uses is a no-op.
 * @return 0; -EBADF (not a descriptor); -EINVAL (NULL, or fd is not an eventfd).
 */
SHMDS_API int shmds_hashmap_set_eventfd(shmds_hashmap_t *m, int fd);

/** Signal the eventfd (add 1). 0; -ENOENT if the handle has no eventfd; -EINVAL. */
SHMDS_API int shmds_hashmap_notify(shmds_hashmap_t *m);

/**
 * Read and reset the eventfd counter into *count (optional).
 * @return 0; -EAGAIN if nothing is pending; -ENOENT if no eventfd; -EINVAL. Never blocks.
 */
SHMDS_API int shmds_hashmap_eventfd_consume(shmds_hashmap_t *m, uint64_t *count);

#ifdef __cplusplus
}
#endif

#endif /* SHMDS_HASHMAP_H */
