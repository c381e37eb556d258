/*
 * libshmds graph: a directed weighted graph in shared memory, bounded by max_nodes and
 * max_edges chosen at creation, for any number of processes adding, removing and reading
 * nodes and edges.
 *
 * Nodes carry an int64_t of data; edges an int64_t weight. A node id is a uint64_t
 * (generation << 32 | slot): removing a node retires its id for good, and a stale id
 * (the node was removed, even if its slot now holds another node) is refused with
 * -ENOENT and a sentence; it never names the slot's new occupant. 0 is never a node id.
 * Between two nodes there is at most one edge per direction (add_edge refuses a second
 * with -EEXIST; set_edge_weight changes a weight). Self-loops are allowed.
 *
 * Crash model: writers take one crash-recoverable internal lock. Each change commits
 * with one store (an edge's valid flag, a node's alive flag) in an order that keeps the
 * nodes and edges a valid graph at every instant: add_edge writes the edge, then marks
 * it valid; remove_node invalidates every edge into and out of the node, then the node.
 * The adjacency lists, degrees, free lists and counts are derived from those facts: a
 * writer killed at any instruction is taken over by the next caller that needs the lock
 * (a caller already waiting checks on the holder after 1 ms and then every 8 ms, so
 * within about 10 ms), which rebuilds every derived word from the facts in
 * O(max_nodes + max_edges) and counts the recovery. After the repair the graph is
 * consistent and no edge dangles: only the dead call's own change may be lost or, for a
 * remove_node, half done (some of its edges removed, the node still there).
 * A repaired node lists its neighbours in slot order instead of newest first.
 *
 * Reads (has_node, node_data, has_edge, edge_weight, neighbors, in_neighbors, degrees,
 * next_node) take no lock: they copy under a sequence word and retry when a writer moved
 * it, bounds-checking every index they follow, so a read never returns a torn or stale
 * result and never loops. After 64 failed attempts (writers keep changing it, or a
 * writer died mid-change) a read takes the lock like a writer, which takes a dead writer
 * over: no read ever waits for good.
 *
 * Blocking: no verb waits for a condition; writers (and reads that fell back) wait only
 * for the internal lock, held for one change (remove_node: O(degree); clear and a
 * repair: O(max_nodes + max_edges)).
 *
 * Reference: add_edge(src, dst, [w=1]) there takes the weight as optional (C has no
 * default: pass 1); remove_node_full is the reference's name for the removal that also
 * splices incoming edges; here both names do that (there is never a dangling edge).
 *
 * Thread safety: a handle may be shared by the threads of a process, and used in a
 * fork() child. shmds_graph_close() must not race other calls on the same handle.
 */
#ifndef SHMDS_GRAPH_H
#define SHMDS_GRAPH_H

#include <shmds/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque handle to a mapped graph. */
typedef struct shmds_graph shmds_graph_t;

/** For shmds_graph_next_node(): start before the first slot. */
#define SHMDS_GRAPH_BEGIN UINT64_MAX

/** Geometry of a new graph. Initialise with SHMDS_GRAPH_CONFIG_INIT or
 * shmds_graph_config_init(). */
typedef struct shmds_graph_config {
    size_t struct_size; /**< sizeof(shmds_graph_config_t) */
    uint64_t max_nodes; /**< 1 ..= 2^30; 40 + 32 * inline_degree bytes each */
    uint64_t max_edges; /**< 1 ..= 2^30; 48 bytes each */
    /** 0 ..= 64, default SHMDS_GRAPH_INLINE_DEGREE. While a node has at most this many
     * out- (in-) edges, a copy of them is kept beside the node, so listing its
     * neighbours reads one or two cache lines instead of one per edge; above it, the
     * edges are walked one by one. Costs 32 bytes per node per unit; 0 turns it off
     * (for many nodes with few reads). Fixed at creation. */
    uint64_t inline_degree;
} shmds_graph_config_t;

/** The default inline_degree. */
#define SHMDS_GRAPH_INLINE_DEGREE 8

#define SHMDS_GRAPH_CONFIG_INIT(max_nodes, max_edges)                              \
    { sizeof(shmds_graph_config_t), (uint64_t)(max_nodes), (uint64_t)(max_edges), \
      SHMDS_GRAPH_INLINE_DEGREE }

/**
 * SHMDS_GRAPH_CONFIG_INIT(max_nodes, max_edges) as a function, for FFI.
 * @return 0; -EINVAL (out is NULL, or struct_size below the first version's). Does not
 *   check the values: shmds_graph_create() does.
 */
SHMDS_API int shmds_graph_config_init(shmds_graph_config_t *out, size_t struct_size,
                                      uint64_t max_nodes, uint64_t max_edges);

/** Counters and gauges; approximate while other processes are operating. */
typedef struct shmds_graph_stats {
    size_t struct_size;     /**< set by the caller: sizeof(shmds_graph_stats_t) */
    uint64_t nodes;         /**< live nodes */
    uint64_t edges;         /**< edges */
    uint64_t max_nodes;
    uint64_t max_edges;
    uint64_t nodes_added;   /**< ever */
    uint64_t nodes_removed; /**< ever, clear() included */
    uint64_t edges_added;   /**< ever */
    uint64_t edges_removed; /**< ever, with their nodes and by clear() included */
    uint64_t clears;        /**< clear() calls */
    uint64_t read_retries;  /**< lock-free reads that had to retry (a writer moved) */
    uint64_t locked_reads;  /**< reads that fell back to the lock */
    uint64_t recoveries;    /**< dead lock holders taken over, repairs of damage */
    uint64_t segment_bytes; /**< size of the whole mapping */
    uint64_t inline_degree; /**< as created (shmds_graph_config_t) */
} shmds_graph_stats_t;

/* ------------------------------------------------------------- lifecycle */

/**
 * Create a graph, or attach to the existing one at the same path (its geometry wins).
 * @param opts  backing; NULL = anonymous (shared with fork() children only).
 * @param cfg   max_nodes, max_edges, inline_degree; must not be NULL.
 * @param out   receives the handle; untouched on failure.
 * @return 0; -EINVAL (bad config or options: the sentence says which); -EEXIST
 *   (SHMDS_EXCL and the file exists); -ENOSPC; -EACCES, -ELOOP, other -errno from
 *   open/mmap/memfd_create; SHMDS_ETYPE (the segment is another structure);
 *   SHMDS_EVERSION; SHMDS_ECORRUPT (not a valid segment; never overwritten unless it is
 *   an interrupted create of ours).
 * Blocks only while another process is initialising the same path.
 */
SHMDS_API int shmds_graph_create(const shmds_options_t *opts, const shmds_graph_config_t *cfg,
                                 shmds_graph_t **out);

/**
 * Attach to an existing graph (opts names it: path, or fd for a memfd).
 * @return as shmds_graph_create(), plus -ENOENT (no such file).
 */
SHMDS_API int shmds_graph_open(const shmds_options_t *opts, shmds_graph_t **out);

/** Unmap and free the handle (the segment stays). NULL is a no-op. */
SHMDS_API void shmds_graph_close(shmds_graph_t *g);

/**
 * The descriptor of a memfd or file graph, to pass to another process (common.h,
 * shmds_send_fd()); do not close it. -ENOENT for anonymous graphs, -EINVAL for NULL.
 */
SHMDS_API int shmds_graph_fd(const shmds_graph_t *g);

/** msync the mapping (file backings). 0 or -errno; -EINVAL for NULL. */
SHMDS_API int shmds_graph_sync(const shmds_graph_t *g);

/** stats.recoveries without the lock: takeovers and repairs. 0 for NULL. */
SHMDS_API uint64_t shmds_graph_recoveries(const shmds_graph_t *g);

/* ------------------------------------------------------------- nodes */

/**
 * Add a node carrying `data`; *id receives its id (never 0).
 * @return 0; -ENOSPC (max_nodes nodes live); -EINVAL (NULL); SHMDS_ECORRUPT (the lock
 *   word is damaged). Waits for the lock only.
 */
SHMDS_API int shmds_graph_add_node(shmds_graph_t *g, int64_t data, uint64_t *id);

/**
 * Remove a node and every edge into or out of it: O(its degree), no edge ever dangles.
 * Its id (and every copy of it) is stale from now on.
 * @return 0; -ENOENT (not a live node: removed, stale, or never added); -EINVAL (NULL);
 *   SHMDS_ECORRUPT. Waits for the lock only. Killed midway: some of its edges may be
 *   gone and the node still there (the repair keeps the graph consistent).
 */
SHMDS_API int shmds_graph_remove_node(shmds_graph_t *g, uint64_t id);

/** The reference's name for shmds_graph_remove_node() (which always splices incoming
 * edges too); the same function. */
SHMDS_API int shmds_graph_remove_node_full(shmds_graph_t *g, uint64_t id);

/** 1 if id names a live node, 0 if not (stale, removed, never added, or not an id);
 * -EINVAL (NULL). Lock-free. */
SHMDS_API int shmds_graph_has_node(shmds_graph_t *g, uint64_t id);

/** A node's data into *out. 0; -ENOENT (not a live node); -EINVAL (NULL). Lock-free. */
SHMDS_API int shmds_graph_node_data(shmds_graph_t *g, uint64_t id, int64_t *out);

/** Replace a node's data. 0; -ENOENT; -EINVAL (NULL); SHMDS_ECORRUPT. Waits for the
 * lock only. */
SHMDS_API int shmds_graph_set_node_data(shmds_graph_t *g, uint64_t id, int64_t data);

/**
 * Iterate the live nodes: the id of the first live node in a slot after `after`'s slot
 * (SHMDS_GRAPH_BEGIN: from the first slot). `after` need not be live any more, so
 * removing the current node while iterating is fine; nodes added or removed meanwhile
 * may or may not be seen, the others are seen exactly once.
 * @return 0 with *id; -ENOENT (no more nodes); -EINVAL (NULL). Lock-free; O(slots
 *   skipped).
 */
SHMDS_API int shmds_graph_next_node(shmds_graph_t *g, uint64_t after, uint64_t *id);

/* ------------------------------------------------------------- edges */

/**
 * Add the edge src -> dst with `weight` (the reference's default is 1).
 * @return 0; -ENOENT (src or dst not a live node); -EEXIST (src -> dst exists: use
 *   shmds_graph_set_edge_weight); -ENOSPC (max_edges edges); -EINVAL (NULL);
 *   SHMDS_ECORRUPT. Waits for the lock only. O(min(out-degree of src, in-degree of dst)).
 */
SHMDS_API int shmds_graph_add_edge(shmds_graph_t *g, uint64_t src, uint64_t dst, int64_t weight);

/** Remove the edge src -> dst. 0; -ENOENT (no such edge, or an endpoint is not a live
 * node); -EINVAL (NULL); SHMDS_ECORRUPT. Waits for the lock only. */
SHMDS_API int shmds_graph_remove_edge(shmds_graph_t *g, uint64_t src, uint64_t dst);

/** 1 if the edge src -> dst exists, 0 if not; -ENOENT (an endpoint is not a live node);
 * -EINVAL (NULL). Lock-free. */
SHMDS_API int shmds_graph_has_edge(shmds_graph_t *g, uint64_t src, uint64_t dst);

/** The weight of src -> dst into *out. 0; -ENOENT (no such edge or node); -EINVAL
 * (NULL). Lock-free. */
SHMDS_API int shmds_graph_edge_weight(shmds_graph_t *g, uint64_t src, uint64_t dst,
                                      int64_t *out);

/** Change the weight of src -> dst. 0; -ENOENT; -EINVAL (NULL); SHMDS_ECORRUPT. Waits
 * for the lock only. */
SHMDS_API int shmds_graph_set_edge_weight(shmds_graph_t *g, uint64_t src, uint64_t dst,
                                          int64_t weight);

/**
 * The out-neighbours of `id` (the dst of each edge id -> dst), newest edge first: the
 * first min(cap, total) ids into ids[] and their edge weights into weights[] (weights
 * may be NULL), and the total into *count. One consistent snapshot.
 * @return 0; -ENOBUFS (total > cap: the first cap were written, *count says how many
 *   to make room for); -ENOENT (not a live node); -EINVAL (count NULL, or ids NULL with
 *   cap > 0). Lock-free. Pass cap 0 to ask only for the count.
 */
SHMDS_API int shmds_graph_neighbors(shmds_graph_t *g, uint64_t id, uint64_t *ids,
                                    int64_t *weights, size_t cap, size_t *count);

/** The in-neighbours of `id` (the src of each edge src -> id; e.g. a job's
 * dependencies when edges point from dependency to dependent), as
 * shmds_graph_neighbors(). */
SHMDS_API int shmds_graph_in_neighbors(shmds_graph_t *g, uint64_t id, uint64_t *ids,
                                       int64_t *weights, size_t cap, size_t *count);

/** Out- and in-degree of a node into *out. 0; -ENOENT; -EINVAL (NULL). Lock-free, O(1). */
SHMDS_API int shmds_graph_out_degree(shmds_graph_t *g, uint64_t id, uint64_t *out);
SHMDS_API int shmds_graph_in_degree(shmds_graph_t *g, uint64_t id, uint64_t *out);

/* ------------------------------------------------------------- whole graph */

/** Live nodes / edges now (lock-free snapshots), and the maxima. 0 for NULL. */
SHMDS_API uint64_t shmds_graph_node_count(const shmds_graph_t *g);
SHMDS_API uint64_t shmds_graph_edge_count(const shmds_graph_t *g);
SHMDS_API uint64_t shmds_graph_max_nodes(const shmds_graph_t *g);
SHMDS_API uint64_t shmds_graph_max_edges(const shmds_graph_t *g);

/**
 * Remove every node and edge (every id becomes stale). *removed (may be NULL) receives
 * the number of nodes removed.
 * @return 0; -EINVAL (NULL); SHMDS_ECORRUPT. Waits for the lock; O(max_nodes +
 *   max_edges). Killed midway: the graph is partly cleared and consistent.
 */
SHMDS_API int shmds_graph_clear(shmds_graph_t *g, uint64_t *removed);

/**
 * Check the graph under the lock: every edge's endpoints alive, every list, degree,
 * count and free list matching the nodes and edges. Changes nothing.
 * @return 0; SHMDS_ECORRUPT (the sentence names the first mismatch); -ENOMEM; -EINVAL
 *   (NULL). Waits for the lock; O(max_nodes + max_edges), allocates scratch.
 */
SHMDS_API int shmds_graph_check(shmds_graph_t *g);

/** Fill *stats (stats->struct_size set by the caller). 0; -EINVAL (NULL, or
 * struct_size too small); SHMDS_ECORRUPT. Waits for the lock briefly. */
SHMDS_API int shmds_graph_stats(shmds_graph_t *g, shmds_graph_stats_t *stats);

/* ------------------------------------------------------------- eventfd (opt-in) */

/** The handle's eventfd, created on first use (common.h, "Eventfds"): changes never
 * signal it by themselves; call shmds_graph_notify() after a batch.
 * @return the fd; -EMFILE, -ENFILE, -ENOMEM; -EINVAL (NULL). */
SHMDS_API int shmds_graph_eventfd(shmds_graph_t *g);
/** Use `fd` (the caller keeps ownership) as the handle's eventfd. 0; -EINVAL. */
SHMDS_API int shmds_graph_set_eventfd(shmds_graph_t *g, int fd);
/** Signal the eventfd. 0; -ENOENT (none); -errno; -EINVAL (NULL). */
SHMDS_API int shmds_graph_notify(shmds_graph_t *g);
/** Read and reset the eventfd's count into *count. 0; -EAGAIN (nothing pending);
 * -ENOENT (none); -EINVAL (NULL). */
SHMDS_API int shmds_graph_eventfd_consume(shmds_graph_t *g, uint64_t *count);

#ifdef __cplusplus
}
#endif

#endif /* SHMDS_GRAPH_H */
