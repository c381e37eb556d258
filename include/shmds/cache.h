/*
 * libshmds cache: an interprocess page cache with LRU and expiry, the shape and the
 * observable semantics of Perl's Cache::FastMmap (the "anchor") without its hazards.
 *
 * Shape
 *   The cache is num_pages pages of page_size bytes (a power of two, 4 KiB ..= 1 MiB).
 *   A key's page is fixed by a keyed hash (a seed drawn per cache); each page holds a
 *   slot table and an append-only data area, so a record (key + value + 32 bytes,
 *   rounded up to 8) must fit in one page: a larger one is refused with -E2BIG and the
 *   old value of the key stays. Keys and values are byte strings (NUL, 0xFF and the empty
 *   string included); a pointer may be NULL only with length 0.
 *
 * Eviction and expiry
 *   A page that has no room for a set is compacted ("expunged") first: expired records
 *   are dropped, then the least recently accessed ones (access times in milliseconds;
 *   get updates them from the coarse wall clock, so accesses within its tick of a few
 *   ms tie; sets stamp the exact time) until at most 60% of the page's data and slots
 *   are in use, as in the anchor. LRU is therefore per page and approximate over the
 *   cache. Every item has an expiry time in wall-clock milliseconds (see "Expiry"
 *   below); an expired item reads as a miss and is reclaimed by the next expunge of its
 *   page or by purge.
 *
 * Blocking: every verb takes the lock of the page(s) it touches, held for the verb's
 *   own work (an expunge of one page at most). No verb takes a timeout: none waits for
 *   anything but another process's critical section on the same page. An expunge needs
 *   one of the cache's spare frames; when all are in use by expunges of other pages it
 *   waits for one (at most 2 s, then -EAGAIN).
 *
 * Crash behaviour: a process killed at any instruction never wedges the cache and never
 *   leaves a half-done change. The page locks are the library's robust locks: a dead
 *   holder's lock is taken over by the next caller on that page within about 10 ms.
 *   Every in-place change is journaled and rolled back on takeover, and an expunge
 *   builds the new page in a spare frame and switches to it in one journaled step, so
 *   every page holds exactly its state before or after the dead call (counted in
 *   shmds_cache_recoveries). Shared memory is untrusted: a page whose structure is
 *   damaged makes calls on that page (only) fail with SHMDS_ECORRUPT, never makes this
 *   process read or write outside the mapping; shmds_cache_verify() re-initialises
 *   exactly the damaged pages.
 *
 * Geometry on reopen: shmds_cache_create() on an existing cache attaches to it with its
 *   stored geometry, whatever the config asks (read it back with shmds_cache_stats);
 *   with SHMDS_EXCL in the options it fails with -EEXIST instead. It never deletes or
 *   truncates a cache (the anchor deletes a file whose size disagrees, while other
 *   processes keep using the old one).
 *
 * Thread safety: a handle may be shared by the threads of a process and used in a fork()
 *   child. shmds_cache_close() and shmds_cache_set_clock() must not race other calls on
 *   the same handle.
 *
 * Callbacks: see the section "Callbacks" below (read-through, write-through or
 *   write-back, delete_cb, get_and_set, empty, the stampede guard, re-entrancy).
 *
 * Tombstones and modification sequences: see "Modification sequences and tombstones" below.
 *   The C++ veneer is shmds/cache.hpp.
 */
#ifndef SHMDS_CACHE_H
#define SHMDS_CACHE_H

#include <shmds/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque handle to a mapped cache. */
typedef struct shmds_cache shmds_cache_t;

/** Geometry of a new cache. Initialise with SHMDS_CACHE_CONFIG_INIT or
 * shmds_cache_config_init(); every field's 0 means its default. */
typedef struct shmds_cache_config {
    size_t struct_size;         /**< sizeof(shmds_cache_config_t) */
    uint64_t cache_size;        /**< total page bytes wanted, rounded up to whole pages;
                                     0 = page_size * num_pages. Not with num_pages */
    uint64_t page_size;         /**< a power of two, 4096 ..= 1048576; 0 = 65536 */
    uint64_t num_pages;         /**< 1 ..= 2^24; 0 = 89 (or from cache_size) */
    uint64_t start_slots;       /**< a new page's slot table: 3 ..= (page_size / 2 - 64) / 4;
                                     0 = 89. An expunge grows it to 2n+1 when more than
                                     30% of it is in use */
    uint64_t spare_frames;      /**< frames for concurrent expunges, 1 ..= 64;
                                     0 = min(num_pages, 8). Each costs page_size bytes */
    uint64_t default_expire_ms; /**< expiry of items set with SHMDS_CACHE_EXPIRE_DEFAULT,
                                     in ms from the set, at most SHMDS_CACHE_MAX_EXPIRE_MS;
                                     0 = they never expire */
    uint64_t lifecycle;         /**< SHMDS_CACHE_INIT_FILE | _UNLINK_ON_EXIT | _EMPTY_ON_EXIT
                                     | _LAZY_MEMORY (see "Lifecycle"); 0 = none. Added after the first
                                     version: a caller's older, shorter struct reads as 0 */
} shmds_cache_config_t;

#define SHMDS_CACHE_CONFIG_INIT { sizeof(shmds_cache_config_t), 0u, 0u, 0u, 0u, 0u, 0u, 0u }

/*
 * Lifecycle: the anchor's init_file, unlink_on_exit and empty_on_exit, as bits of
 * shmds_cache_config_t.lifecycle, honoured by shmds_cache_create (which creates or
 * attaches; shmds_cache_open takes no config, so attach with create to use them). They
 * belong to the handle and to the process that made it: the exit actions run in
 * shmds_cache_close (the C++ destructor; the anchor's DESTROY) only when the caller is
 * that process, so a fork() child that closes its inherited copy neither empties nor
 * unlinks the cache its parent still uses. Other handles, in this process or others,
 * are not affected by this handle's options. Unlike the anchor none is on by default.
 */
/** Wipe on open: remove every item (and reset reads and hits) before create returns,
 * page by page under the page locks. The file is never deleted or recreated, so every
 * process attached to it keeps sharing the (now empty) cache; its geometry stays. */
#define SHMDS_CACHE_INIT_FILE ((uint64_t)1)
/** At close, unlink the file (PATH backing only), if the path still names the file this
 * handle maps (the path is resolved to an absolute one at create). Attached processes
 * keep using the unlinked cache until they close it. */
#define SHMDS_CACHE_UNLINK_ON_EXIT ((uint64_t)2)
/** At close, remove every item as shmds_cache_empty(c, 0) does (the anchor's empty()):
 * dirty items are written back through the handle's write_cb first. Best effort: items
 * whose write_cb fails, or of a page whose expunge waited 2 s for a spare frame, stay. */
#define SHMDS_CACHE_EMPTY_ON_EXIT ((uint64_t)4)
/** At creation, leave the page frames' memory to be committed as items arrive. Without
 * it, the call that creates a cache (not one that attaches) commits every frame up front
 * (MADV_POPULATE_WRITE; nothing on kernels before 5.14), as the anchor's zero-filled file
 * is, so the first fills of each page do not pay page faults (about a fifth of a set's
 * time on a new cache). Memory use is then cache_size from the start. */
#define SHMDS_CACHE_LAZY_MEMORY ((uint64_t)8)

/**
 * SHMDS_CACHE_CONFIG_INIT as a function, for FFI. See the *_init convention in common.h.
 * @return 0; -EINVAL (out is NULL, or struct_size below the first version's).
 */
SHMDS_API int shmds_cache_config_init(shmds_cache_config_t *out, size_t struct_size);

/*
 * Expiry. One meaning of 0 everywhere: "never expires" (the anchor's per-item 0 and
 * constructor 0 disagree). An item expires when now >= its expiry time, now being the
 * handle's clock (CLOCK_REALTIME in ms, or shmds_cache_set_clock's).
 */
/** expire_ms argument: use the cache's default_expire_ms. */
#define SHMDS_CACHE_EXPIRE_DEFAULT UINT64_MAX
/** expire_ms argument: expired at once (stored, but reads miss; the anchor's 'now'). */
#define SHMDS_CACHE_EXPIRE_NOW (UINT64_MAX - 1)
/** expire_ms / expire_on_ms argument: never expires. */
#define SHMDS_CACHE_EXPIRE_NEVER 0u
/** The longest relative expiry and the latest absolute one (2^48 ms). */
#define SHMDS_CACHE_MAX_EXPIRE_MS ((uint64_t)1 << 48)

/**
 * Create a cache, or attach to the one already at the options' path (see "Geometry on
 * reopen"). opts NULL: anonymous memory, shared with fork() children.
 * Applies cfg->lifecycle (see "Lifecycle"); init_file waits for each page lock in turn.
 * @return 0 and *out; -EINVAL (NULL cfg or out, struct_size too small, a geometry out of
 *   range, both cache_size and num_pages, an unknown lifecycle bit, UNLINK_ON_EXIT
 *   without a PATH backing); -EAGAIN (init_file: no spare frame for 2 s; nothing
 *   returned, some pages may be wiped); -EEXIST (SHMDS_EXCL and the path exists);
 *   SHMDS_ETYPE (the path holds another structure); SHMDS_EVERSION / SHMDS_ECORRUPT
 *   (an incompatible or damaged segment, left untouched); -ENOMEM; -ENOSPC (no room for
 *   the segment); a negative errno of open/mmap/ftruncate. Does not block.
 */
SHMDS_API int shmds_cache_create(const shmds_options_t *opts, const shmds_cache_config_t *cfg,
                                 shmds_cache_t **out);

/**
 * Attach to an existing cache (PATH or FD backings), with its stored geometry.
 * @return 0 and *out; -ENOENT (no such file); SHMDS_ETYPE; SHMDS_EVERSION;
 *   SHMDS_ECORRUPT; -EINVAL; a negative errno of open/mmap. Does not block.
 */
SHMDS_API int shmds_cache_open(const shmds_options_t *opts, shmds_cache_t **out);

/**
 * The anchor's test_file => 1: shmds_cache_create (or _open), then the verify pass of
 * shmds_cache_verify over every page; exactly the damaged pages are re-initialised (their
 * keys are lost), every other page keeps its keys. *repaired (may be NULL) is increased by
 * how many pages were re-initialised. Safe while other processes use the cache (each page
 * is checked under its lock).
 * @return as shmds_cache_create / shmds_cache_open; verify's -EAGAIN (no spare frame for
 *   2 s: the handle is closed and *out set to NULL). Blocks on each page lock in turn.
 */
SHMDS_API int shmds_cache_create_tested(const shmds_options_t *opts,
                                        const shmds_cache_config_t *cfg, shmds_cache_t **out,
                                        uint64_t *repaired);
/** shmds_cache_open, then the test_file pass: see shmds_cache_create_tested. */
SHMDS_API int shmds_cache_open_tested(const shmds_options_t *opts, shmds_cache_t **out,
                                      uint64_t *repaired);

/** Unmap and free the handle (NULL is a no-op). The cache itself stays, unless the
 * handle was created with SHMDS_CACHE_EMPTY_ON_EXIT or _UNLINK_ON_EXIT and the caller is
 * the process that created it (see "Lifecycle"): then it is emptied (waiting for each
 * page lock in turn) and/or its file unlinked first. */
SHMDS_API void shmds_cache_close(shmds_cache_t *c);

/** The descriptor behind the cache (file or memfd), owned by the handle.
 * @return it; -ENOENT for an anonymous cache; -EINVAL for NULL. */
SHMDS_API int shmds_cache_fd(const shmds_cache_t *c);

/** msync the cache's pages (file backings). @return 0; -EINVAL; a negative errno. */
SHMDS_API int shmds_cache_sync(const shmds_cache_t *c);

/** Repairs so far: dead lock holders taken over (their change rolled back or finished,
 * their spare frame handed back) and pages re-initialised by verify. 0 for NULL. */
SHMDS_API uint64_t shmds_cache_recoveries(const shmds_cache_t *c);

/**
 * Store value under key with an expiry of expire_ms milliseconds from now, or
 * SHMDS_CACHE_EXPIRE_DEFAULT, _NOW or _NEVER (0). Replaces any old value; the access
 * time becomes now. May expunge the key's page first (see "Eviction and expiry").
 * @return 0; -E2BIG (the record cannot fit in a page; the old value, if any, stays);
 *   -ESTALE (an unexpired tombstone holds the key: see "Modification sequences");
 *   -ERANGE (expire_ms above SHMDS_CACHE_MAX_EXPIRE_MS and not a constant); -EINVAL
 *   (NULL handle, or NULL pointer with a nonzero length); -EAGAIN (an expunge waited
 *   2 s for a spare frame; nothing changed); -ENOMEM (an expunge's list); SHMDS_ECORRUPT
 *   (the page is damaged); with callbacks (see "Callbacks"): write_cb's negative
 *   return (the old value stays), -EDEADLK. Blocks on the page lock, and for write_cb
 *   and the write-backs of an expunge.
 */
SHMDS_API int shmds_cache_set(shmds_cache_t *c, const void *key, size_t key_len,
                              const void *value, size_t value_len, uint64_t expire_ms);

/**
 * shmds_cache_set with an absolute expiry: expire_on_ms is a wall-clock time in ms
 * since the epoch (the anchor's expire_on), SHMDS_CACHE_EXPIRE_NEVER (0) for never.
 * A time already past stores an item that reads as a miss.
 * @return as shmds_cache_set; -ERANGE for expire_on_ms above SHMDS_CACHE_MAX_EXPIRE_MS.
 */
SHMDS_API int shmds_cache_set_expire_on(shmds_cache_t *c, const void *key, size_t key_len,
                                        const void *value, size_t value_len,
                                        uint64_t expire_on_ms);

/**
 * Copy the value of an unexpired key into buf (buf_size bytes); *len (required) gets
 * its length. A hit makes the key the page's most recently used. Counted in the stats.
 * @return 0; -ENOENT (no such key, or it expired); -ENOBUFS (buf too small: *len is the
 *   length needed, nothing else changes); -EINVAL; SHMDS_ECORRUPT; with a read_cb (see
 *   "Callbacks"): read_cb's negative return, -ERANGE (its expire_ms), -EDEADLK. Blocks
 *   on the page lock; on a miss with read_cb, for read_cb or for another process's
 *   (at most fill_wait_ms).
 */
SHMDS_API int shmds_cache_get(shmds_cache_t *c, const void *key, size_t key_len, void *buf,
                              size_t buf_size, size_t *len);

/** Is an unexpired value stored under key? Changes nothing (no access time, no stats).
 * @return 1; 0; -EINVAL; SHMDS_ECORRUPT. Blocks only on the page lock. */
SHMDS_API int shmds_cache_exists(shmds_cache_t *c, const void *key, size_t key_len);

/** Remove key; delete_cb as in "Callbacks". @return 0; -ENOENT (no such key, or it had
 * expired: it is removed anyway); -EINVAL; SHMDS_ECORRUPT; delete_cb's negative return
 * (the item stays); -EDEADLK. Blocks on the page lock, and for delete_cb. */
SHMDS_API int shmds_cache_remove(shmds_cache_t *c, const void *key, size_t key_len);

/**
 * The anchor's expire(key): remove the key now. In write_back mode a dirty item is
 * first handed to write_cb (under the page lock); delete_cb is never called.
 * @return as shmds_cache_remove; write_cb's negative return (the item stays, still
 *   dirty; the lock is released); -EDEADLK (called from inside a callback, see below).
 */
SHMDS_API int shmds_cache_expire(shmds_cache_t *c, const void *key, size_t key_len);

/**
 * Get and remove in one step under the page lock: of two processes taking one key, at
 * most one gets it. delete_cb as for shmds_cache_remove; a miss with read_cb returns
 * read_cb's value and calls delete_cb ("Callbacks").
 * @return as shmds_cache_get; on -ENOBUFS the key stays (and delete_cb is not called);
 *   delete_cb's or read_cb's negative return (the item stays); -EDEADLK.
 */
SHMDS_API int shmds_cache_get_and_remove(shmds_cache_t *c, const void *key, size_t key_len,
                                         void *buf, size_t buf_size, size_t *len);

/**
 * Remove every item, page by page (each page under its lock; not a snapshot). A page
 * whose structure is damaged is re-initialised (it held nothing usable anyway).
 * @return 0; -EINVAL; -EAGAIN (no spare frame for 2 s: some pages kept their items).
 */
SHMDS_API int shmds_cache_clear(shmds_cache_t *c);

/**
 * Remove the expired items (only those), page by page; *removed (may be NULL) is
 * increased by how many. @return 0; -EINVAL; -EAGAIN; -ENOMEM; SHMDS_ECORRUPT (a
 * damaged page was skipped; the others were purged).
 */
SHMDS_API int shmds_cache_purge(shmds_cache_t *c, uint64_t *removed);

/** One item seen by shmds_cache_get_keys. The pointers are valid during the call only. */
typedef struct shmds_cache_entry {
    const void *key;
    size_t key_len;
    const void *value;       /**< detail 2; else NULL */
    size_t value_len;        /**< detail 2; else 0 */
    uint64_t last_access_ms; /**< detail >= 1; else 0 */
    uint64_t expire_on_ms;   /**< detail >= 1 (0 = never); else 0 */
    uint32_t flags;          /**< detail >= 1: SHMDS_CACHE_FLAG_*; else 0 */
    uint64_t modseq;         /**< detail >= 1: the item's modseq (0: none); else 0.
                                  Appended in 0.x with modseqs (the library fills it) */
} shmds_cache_entry_t;

/** get_keys callback: return 0 to go on; anything else stops the walk and is returned. */
typedef int (*shmds_cache_entry_fn)(const shmds_cache_entry_t *entry, void *ctx);

/**
 * Call fn for every unexpired item, page by page (the anchor's get_keys): detail 0 the
 * keys; 1 also last access, expiry and flags; 2 also the values. Each page's items are
 * copied out under its lock and fn runs without any lock, so fn may call the cache; an
 * item changed meanwhile may be seen as it was, or twice if it moved (not a snapshot).
 * @return 0; fn's nonzero return; -EINVAL (NULL, detail not 0..2); -ENOMEM;
 *   SHMDS_ECORRUPT (a damaged page was skipped).
 */
SHMDS_API int shmds_cache_get_keys(shmds_cache_t *c, int detail, shmds_cache_entry_fn fn,
                                   void *ctx);

/** Counters and geometry; the counters are summed page by page without locks. */
typedef struct shmds_cache_stats {
    size_t struct_size;         /**< set by the caller: sizeof(shmds_cache_stats_t) */
    uint64_t reads;             /**< gets (and multi_get keys) since creation or clear */
    uint64_t hits;              /**< those that found an unexpired value */
    uint64_t items;             /**< records held, expired ones not yet reclaimed too */
    uint64_t num_pages;
    uint64_t page_size;
    uint64_t start_slots;
    uint64_t spare_frames;
    uint64_t default_expire_ms;
    uint64_t recoveries;        /**< as shmds_cache_recoveries */
    uint64_t segment_bytes;     /**< the whole mapping */
} shmds_cache_stats_t;

/**
 * Fill *out (per its struct_size); clear != 0 also resets reads and hits to 0 (the
 * anchor's get_statistics(clear)). @return 0; -EINVAL (NULL, struct_size too small).
 * Does not block.
 */
SHMDS_API int shmds_cache_stats(shmds_cache_t *c, shmds_cache_stats_t *out, int clear);

/** One key of multi_get / multi_set. */
typedef struct shmds_cache_item {
    const void *key;
    size_t key_len;
    const void *value;  /**< multi_set: the value */
    size_t value_len;   /**< multi_set: its length; multi_get: out, the value's length */
    void *buf;          /**< multi_get: where the value goes */
    size_t buf_size;    /**< multi_get: buf's size */
    int result;         /**< out: this key's code, as shmds_cache_get / _set return */
} shmds_cache_item_t;

/**
 * The anchor's multi_get: n keys stored under one page key, read under one lock. The
 * page is chosen by page_key, not by each key, so keys stored by multi_set are found
 * only by multi_get with the same page_key (and a plain get of the same key looks
 * elsewhere). Each item's result and value_len are set as by shmds_cache_get.
 * @return how many keys hit (0..n); -EINVAL (NULL handle, items NULL with n > 0, n above
 *   INT_MAX); SHMDS_ECORRUPT (the page is damaged; later items untouched).
 */
SHMDS_API int shmds_cache_multi_get(shmds_cache_t *c, const void *page_key,
                                    size_t page_key_len, shmds_cache_item_t *items, size_t n);

/**
 * The anchor's multi_set: store n items under one page key (see multi_get), under one
 * lock, each with expire_ms as in shmds_cache_set. An expunge for a later item may drop
 * an earlier one, as in the anchor. Each item's result is set as by shmds_cache_set.
 * @return how many were stored (0..n); -EINVAL; -ERANGE (expire_ms); SHMDS_ECORRUPT.
 */
SHMDS_API int shmds_cache_multi_set(shmds_cache_t *c, const void *page_key,
                                    size_t page_key_len, shmds_cache_item_t *items, size_t n,
                                    uint64_t expire_ms);

/**
 * Check every page under its lock (header, every slot's record within the page and
 * agreeing with the slot's hash tag, every record found by its own probe, the counts)
 * and re-initialise (empty) exactly the pages that fail; *repaired (may be NULL) is
 * increased by how many. Each repair counts in shmds_cache_recoveries. The anchor's
 * test_file (shmds_cache_open_tested runs it at open).
 * @return 0; -EINVAL; -EAGAIN (no spare frame for 2 s). Blocks on each page lock in turn.
 */
SHMDS_API int shmds_cache_verify(shmds_cache_t *c, uint64_t *repaired);

/* ---- Modification sequences and tombstones (the anchor's 1.63) -----------------------
 *
 * For invalidation that cannot go backwards: a reader that computed a value from the
 * backing store at modseq m stores it with shmds_cache_set_modseq(m); the writer that
 * changes the store at m' > m removes the key with shmds_cache_remove_modseq(m'), which
 * leaves a TOMBSTONE. The reader's late store of the stale value is then refused. A
 * modseq is any uint64_t from 1 (0 means "none" everywhere); it is stored in the record
 * (8 bytes more per record that has one).
 *  - A tombstone reads as a miss: get, get_and_remove, multi_get, exists and
 *    get_and_set's callback (found = 0) do not see it, get_keys skips it. A get of a
 *    tombstoned key with a read_cb returns read_cb's value but does not cache it (the
 *    tombstone stays), so read_cb is called again next time.
 *  - The rules, against an unexpired record that has a modseq (a record without one, an
 *    expired one and a missing key refuse nothing):
 *      store at m over a value at s: refused (-ESTALE) if m < s; so m == s stores.
 *      store at m over a tombstone at s: refused if m < s; m == s stores.
 *      plain store (shmds_cache_set, a read_cb fill, multi_set, get_and_set) over a
 *        tombstone: refused (-ESTALE); over a value with a modseq: stores, without one.
 *      remove at m over a value or tombstone at s >= m: keeps what is there (a tombstone
 *        never lowers its modseq; a newer value is not removed by an older change);
 *        returns 0 all the same.
 *  - A plain shmds_cache_remove deletes a tombstone (returns 0 for an unexpired one).
 *  - A tombstone expires like an item: expire_ms of shmds_cache_remove_modseq, or with
 *    SHMDS_CACHE_EXPIRE_DEFAULT this handle's tombstone expiry (the anchor's
 *    tombstone_expire_time), itself SHMDS_CACHE_EXPIRE_DEFAULT (the cache's
 *    default_expire_ms) until shmds_cache_set_tombstone_expire. An expired tombstone
 *    refuses nothing and is reclaimed by purge and expunge like any expired item.
 *    Expunge may also evict an unexpired tombstone by LRU when its page is full: that
 *    degrades to a plain remove (as in the anchor).
 * With write_cb in write_through mode a refused store never reaches write_cb (checked
 * under the page lock first; with allow_recursive write_cb runs unlocked, so a tombstone
 * that lands between the check and write_cb is not seen by write_cb, the cache still
 * refuses the store). Crash behaviour as for set and remove: a tombstone is one record
 * written like any other (failpoints cache.set.*).
 */
/** get_keys flags: the item has a modseq (the anchor's FC_HASMODSEQ). Tombstones
 * (the anchor's FC_TOMBSTONE, 1 << 28) are never reported. */
#define SHMDS_CACHE_FLAG_MODSEQ (1u << 27)

/**
 * shmds_cache_set with a modseq (>= 1): a conditional store (rules above); the stored
 * item carries modseq, which shmds_cache_get_modseq and get_keys report.
 * @return as shmds_cache_set; -ESTALE (refused: a newer modseq or an unexpired
 *   tombstone holds the key; nothing changed); -EINVAL also for modseq 0.
 */
SHMDS_API int shmds_cache_set_modseq(shmds_cache_t *c, const void *key, size_t key_len,
                                     const void *value, size_t value_len, uint64_t expire_ms,
                                     uint64_t modseq);

/**
 * shmds_cache_get that also reports the value's modseq in *modseq (required): 0 when it
 * was stored without one (and for a read_cb's value). @return as shmds_cache_get.
 */
SHMDS_API int shmds_cache_get_modseq(shmds_cache_t *c, const void *key, size_t key_len,
                                     void *buf, size_t buf_size, size_t *len, uint64_t *modseq);

/**
 * Remove key at modseq (>= 1), leaving a tombstone that expires after expire_ms (as
 * shmds_cache_set's; SHMDS_CACHE_EXPIRE_DEFAULT: this handle's tombstone expiry). Keeps
 * the record instead when it has a modseq >= this one (rules above). delete_cb as for
 * shmds_cache_remove. A dirty item is replaced without write_cb (as remove drops it).
 * @return 0 (whether or not the key was present); -EINVAL (modseq 0, NULL handle);
 *   -ERANGE (expire_ms); -E2BIG (the key cannot fit a page); -EAGAIN; SHMDS_ECORRUPT;
 *   delete_cb's negative return (nothing changed); -EDEADLK. Blocks as shmds_cache_set.
 */
SHMDS_API int shmds_cache_remove_modseq(shmds_cache_t *c, const void *key, size_t key_len,
                                        uint64_t modseq, uint64_t expire_ms);

/**
 * This handle's expiry for tombstones removed with SHMDS_CACHE_EXPIRE_DEFAULT (the
 * anchor's tombstone_expire_time, a per-object option there too; per handle here because
 * the cache's stored configuration is fixed at creation and the expiry is a policy of the
 * process that removes): any expire_ms of shmds_cache_set. Default
 * SHMDS_CACHE_EXPIRE_DEFAULT (the cache's default_expire_ms).
 * @return 0; -EINVAL (NULL); -ERANGE. Must not race other calls on the handle.
 */
SHMDS_API int shmds_cache_set_tombstone_expire(shmds_cache_t *c, uint64_t expire_ms);

/**
 * Replace this handle's clock (expiry and access times) by now_ms(ctx), in wall-clock
 * milliseconds; NULL restores CLOCK_REALTIME. For tests that step time.
 * @return 0; -EINVAL (NULL handle). Must not race other calls on the handle.
 */
SHMDS_API int shmds_cache_set_clock(shmds_cache_t *c, uint64_t (*now_ms)(void *ctx), void *ctx);


/* ---- Callbacks (read-through, write-through / write-back, delete) ---------------------
 *
 * Per handle: function pointers are per process, so they are never stored in the
 * cache; each process (and each handle) sets its own with shmds_cache_set_callbacks().
 * Every callback gets the callbacks' ctx first (the anchor's context). A callback
 * returns 0 for success or a negative errno for failure; a failure is returned to the
 * caller of the cache call, with the page lock released and the cache unchanged by
 * that call (the old value stays), unless said otherwise below.
 *
 * With callbacks set, the verbs behave as in the anchor (Cache::FastMmap 1.57):
 *  - get (read_cb): on a miss, read_cb(ctx, key, out) is called WITHOUT the page lock.
 *    0: out's value is stored (clean: not dirty) with out->expire_ms, and returned.
 *    SHMDS_CACHE_NOT_FOUND: get returns -ENOENT; with cache_not_found a "not found"
 *    record is stored (flag SHMDS_CACHE_FLAG_NOT_FOUND) so that the next get returns
 *    -ENOENT at once without calling read_cb again. If another process stored the key
 *    while read_cb ran, that value wins and is returned. A value too big for a page is
 *    returned but not stored.
 *    Stampede guard (beyond the anchor): of concurrent misses of one key, in any
 *    processes, one (the "filler") calls read_cb; the others wait for its value, at
 *    most fill_wait_ms, then call read_cb themselves. The filler is named in shared
 *    memory by its process identity (PID + start time), so waiters whose filler dies
 *    stop waiting within about 10 ms and one of them fills; no waiter depends on a wake
 *    a dead process owed it. Each page guards up to 4 keys at once; a fifth concurrent
 *    miss on one page calls read_cb unguarded. A read_cb failure (or a not-found without
 *    cache_not_found) lets the waiters go on, and they may call read_cb in turn.
 *  - set, write_through (the default) with write_cb: write_cb(ctx, key, value,
 *    expire_on_ms) is called BEFORE the value is stored, under the page lock (so the
 *    store sees one key's writes in the cache's order); with allow_recursive, without
 *    any lock. A failure leaves the old value and is returned. A value too big for a
 *    page is still written through (the anchor's rule) and set returns -E2BIG.
 *  - set, write_back: the item is stored dirty (SHMDS_CACHE_FLAG_DIRTY) and write_cb is
 *    not called; a value too big for a page is written through at once (set returns
 *    -E2BIG after write_cb succeeded). write_cb is called exactly once for each dirty
 *    item when it leaves the cache: evicted by an expunge (expired dirty items too),
 *    shmds_cache_expire(), shmds_cache_empty(). clear, purge, remove and
 *    get_and_remove drop dirty items WITHOUT write_cb (the anchor's rules). Write-backs
 *    run under the page lock before the page changes; each item becomes clean as soon
 *    as its write_cb returns 0, so a failing write_cb stops the call (its error is
 *    returned, the page keeps every item, the unwritten ones still dirty). A process
 *    killed between write_cb's return and that mark leaves the item dirty: it is
 *    written back again later (at least once across a crash, exactly once otherwise).
 *  - remove / get_and_remove (delete_cb): delete_cb(ctx, key) is called unless the
 *    key's item is dirty (its value never reached the store): so for a clean item and
 *    for an absent key (the anchor's rule). It is called before the item is removed,
 *    under the page lock (remove with allow_recursive: without it, and the key is then
 *    looked up again); a failure keeps the item and is returned. get_and_remove of a
 *    miss with read_cb is the anchor's get then remove: read_cb's value is returned
 *    (not cached), then delete_cb is called (the value is clean), both without a lock.
 *  - get_and_set: see shmds_cache_get_and_set. multi_get / multi_set never call read_cb
 *    or write_cb and store clean items (as in the anchor: do not mix them).
 *
 * Re-entrancy: a call into the same cache (through any handle: the caches are told
 *   apart by their random hash seed) from inside one of its callbacks on the same thread
 *   fails with -EDEADLK ("called from inside a callback"), unless allow_recursive; then
 *   only a call that would need a page lock the callback's caller holds (the
 *   get_and_set page, a write-back's page, and every page for clear, purge, empty,
 *   verify and get_keys) still fails so. Calls from other threads are never refused:
 *   they wait for the page lock as usual. The get_keys callback is not a callback in
 *   this sense (it runs without locks and may call the cache).
 *
 * Crash behaviour: a process killed inside a callback called under a page lock has
 *   its lock taken over (about 10 ms) and the page rolled back to its state before the
 *   call; killed inside read_cb, its fill claim is dropped as soon as a waiter or the
 *   next caller probes it. Failpoints: cache.fill.claimed, cache.fill.read,
 *   cache.writeback.written, cache.get_and_set.called.
 */

/** read_cb's return: the backing store has no value for the key. */
#define SHMDS_CACHE_NOT_FOUND 1
/** get_and_set callback's return: store nothing, keep the current item. */
#define SHMDS_CACHE_DONT_STORE 1
/** expire_ms of a get_and_set result: keep the current item's expiry (the default
 * expiry when there was no item). Only there. */
#define SHMDS_CACHE_EXPIRE_KEEP (UINT64_MAX - 2)
/** get_keys flags (detail >= 1): the item was set in write_back mode and not yet
 * written back (the anchor's FC_ISDIRTY). */
#define SHMDS_CACHE_FLAG_DIRTY 1u
/** get_keys flags: a cached "not found" (cache_not_found; the anchor's FC_UNDEF). */
#define SHMDS_CACHE_FLAG_NOT_FOUND (1u << 29)

/** A value a callback hands to the cache (read_cb, get_and_set's callback). */
typedef struct shmds_cache_value {
    const void *value;  /**< the bytes; NULL only with value_len 0. Must stay valid until
                             the callback's caller copies them, then release is called */
    size_t value_len;
    uint64_t expire_ms; /**< preset to SHMDS_CACHE_EXPIRE_DEFAULT (read_cb) or
                             SHMDS_CACHE_EXPIRE_KEEP (get_and_set); any value of
                             shmds_cache_set's expire_ms; an invalid one fails the call
                             with -ERANGE */
    void (*release)(void *ctx, const void *value); /**< optional: called once, with the
                             ctx the callback got, after the value was copied (or
                             refused) */
} shmds_cache_value_t;

/** read_cb: fill *out and return 0; SHMDS_CACHE_NOT_FOUND; or a negative errno. */
typedef int (*shmds_cache_read_fn)(void *ctx, const void *key, size_t key_len,
                                   shmds_cache_value_t *out);
/** write_cb: put (key, value) into the backing store; expire_on_ms is the item's
 * absolute expiry (0 never; may be past for an expired dirty item). 0 or a negative
 * errno. May run in another process than the one that set the item (write_back). */
typedef int (*shmds_cache_write_fn)(void *ctx, const void *key, size_t key_len,
                                    const void *value, size_t value_len,
                                    uint64_t expire_on_ms);
/** delete_cb: remove key from the backing store. 0 or a negative errno. */
typedef int (*shmds_cache_delete_fn)(void *ctx, const void *key, size_t key_len);

/** This handle's callbacks and modes. Initialise with SHMDS_CACHE_CALLBACKS_INIT or
 * shmds_cache_callbacks_init(); NULL callbacks are not called. */
typedef struct shmds_cache_callbacks {
    size_t struct_size;        /**< sizeof(shmds_cache_callbacks_t) */
    void *ctx;                 /**< first argument of every callback */
    shmds_cache_read_fn read_cb;
    shmds_cache_write_fn write_cb;
    shmds_cache_delete_fn delete_cb;
    int write_back;            /**< 0: write_through (the anchor's default); 1: write_back */
    int cache_not_found;       /**< 1: cache read_cb's SHMDS_CACHE_NOT_FOUND */
    int allow_recursive;       /**< 1: callbacks may call this cache (see "Re-entrancy") */
    uint64_t fill_wait_ms;     /**< stampede guard: how long a miss waits for another
                                    process's read_cb; 0 = 5000; at most 3600000 */
} shmds_cache_callbacks_t;

#define SHMDS_CACHE_CALLBACKS_INIT \
    { sizeof(shmds_cache_callbacks_t), NULL, NULL, NULL, NULL, 0, 0, 0, 0u }

/** SHMDS_CACHE_CALLBACKS_INIT as a function, for FFI.
 * @return 0; -EINVAL (out NULL, or struct_size below the first version's). */
SHMDS_API int shmds_cache_callbacks_init(shmds_cache_callbacks_t *out, size_t struct_size);

/**
 * Set this handle's callbacks (copied); NULL removes them all. Only this handle in this
 * process is affected. Must not race other calls on the handle (set it before use).
 * @return 0; -EINVAL (NULL handle, struct_size too small, a mode flag not 0 or 1,
 *   fill_wait_ms above 3600000). Does not block.
 */
SHMDS_API int shmds_cache_set_callbacks(shmds_cache_t *c, const shmds_cache_callbacks_t *cb);

/**
 * get_and_set's callback: given the key's current value (found = 1; value points at a
 * private copy valid during the call) or none (found = 0, value NULL: no item, an
 * expired one or a cached "not found"), fill *out and return 0 to store it,
 * SHMDS_CACHE_DONT_STORE to keep the current item, or a negative errno to fail.
 * It runs under the page lock: see "Re-entrancy".
 */
typedef int (*shmds_cache_update_fn)(void *ctx, const void *key, size_t key_len,
                                     const void *value, size_t value_len, int found,
                                     shmds_cache_value_t *out);

/**
 * The anchor's get_and_set: read the key, call fn, store its result, all under the page
 * lock, so concurrent get_and_set calls on one key (from any processes) never lose an
 * update. fn runs with the page locked; it must not call this cache (-EDEADLK) unless
 * allow_recursive, and even then not on this key's page. read_cb is not called for a
 * miss (fn sees none). The stored item is dirty in write_back mode; in write_through
 * mode write_cb is called under the lock before the store (its failure keeps the old
 * item and is returned). A value too big for a page reaches write_cb in both modes, as
 * with shmds_cache_set.
 * @return 0 (stored); SHMDS_CACHE_DONT_STORE (1: fn kept the item); fn's or write_cb's
 *   negative return (nothing changed; the lock is released); -E2BIG (the new value
 *   cannot fit a page: the old item stays); -ERANGE (out->expire_ms); -ESTALE (the key
 *   is an unexpired tombstone, which fn saw as no item: it refuses a store without a
 *   modseq, as shmds_cache_set); -EINVAL; -EDEADLK; -EAGAIN; SHMDS_ECORRUPT. Blocks on
 *   the page lock, and for as long as fn.
 *   Crash: a process killed in fn or before the store leaves the old item (the page is
 *   rolled back when its lock is taken over).
 */
SHMDS_API int shmds_cache_get_and_set(shmds_cache_t *c, const void *key, size_t key_len,
                                      shmds_cache_update_fn fn, void *ctx);

/**
 * get_and_set_modseq's callback: as shmds_cache_update_fn, plus the current item's modseq
 * (0: none, or no item) and *out_modseq (preset 0) for the store: leave 0 for a plain
 * store, or set a modseq to make it conditional (the anchor's get_and_set returning
 * { modseq => m }).
 */
typedef int (*shmds_cache_update_modseq_fn)(void *ctx, const void *key, size_t key_len,
                                            const void *value, size_t value_len, int found,
                                            uint64_t modseq, shmds_cache_value_t *out,
                                            uint64_t *out_modseq);

/**
 * shmds_cache_get_and_set with modseqs: fn sees the item's modseq and may make the store
 * conditional. A tombstone reads as no item (found = 0); a store the modseq rules refuse
 * changes nothing and never reaches write_cb.
 * @return as shmds_cache_get_and_set; -ESTALE (the store was refused).
 */
SHMDS_API int shmds_cache_get_and_set_modseq(shmds_cache_t *c, const void *key, size_t key_len,
                                             shmds_cache_update_modseq_fn fn, void *ctx);

/**
 * The anchor's empty([only_expired]): in write_back mode first hand every dirty item
 * (only_expired: every expired dirty item) to write_cb, then remove every item
 * (only_expired: the expired ones), page by page under each page's lock (not a
 * snapshot). Without write_back this is shmds_cache_clear (or, only_expired,
 * shmds_cache_purge). A write_cb failure stops the call and is returned: that page
 * keeps all its items (those already written back become clean), earlier pages are
 * emptied, later ones untouched.
 * @return 0; write_cb's negative return; -EINVAL; -EDEADLK (from inside a callback);
 *   -EAGAIN (no spare frame for 2 s); -ENOMEM; SHMDS_ECORRUPT (a damaged page was
 *   skipped). Blocks on each page lock in turn, and for the write_cb calls.
 */
SHMDS_API int shmds_cache_empty(shmds_cache_t *c, int only_expired);

#ifdef __cplusplus
}
#endif

#endif /* SHMDS_CACHE_H */
