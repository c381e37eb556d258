#include "demo_tasks.h"

#include "demo_util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define MS ((int64_t)1000000)
/* A task depends on up to MAX_DEPS of the DEP_REACH tasks before it, so no task has
 * more than DEP_REACH dependents. */
#define MAX_DEPS 3u
#define DEP_REACH 64u
#define PRIORITIES 8u
/* The first ROOTS tasks depend on nothing: the heap starts with them all, by priority. */
#define ROOTS 32u
/* How long a worker sleeps on an empty heap before it checks whether all tasks ran. */
#define POP_WAIT_NS (10 * MS)
/* No task finished anywhere for this long: the stage is stuck. */
#define TASK_STALL_S 4.0

/* The dependencies of task t (all earlier tasks, distinct), into deps; how many. A
 * multiplicative hash makes them look random and lets the parent recompute them. */
static unsigned task_deps(uint32_t t, uint32_t deps[MAX_DEPS])
{
    uint32_t h = t * 2654435761u;
    unsigned n = 0;
    for (unsigned k = 0; k < MAX_DEPS && t >= ROOTS; k++, h = h * 2246822519u + 1) {
        uint32_t reach = t < DEP_REACH ? t : DEP_REACH;
        uint32_t dep = t - 1 - (h >> 8) % reach;
        int seen = 0;
        if ((h & 3) == 0) continue; /* about one dependency in four is left out */
        for (unsigned i = 0; i < n; i++) seen |= deps[i] == dep;
        if (!seen) deps[n++] = dep;
    }
    return n;
}

/* Lower runs first (a min-heap); equal priorities run in the order they became ready. */
static int64_t task_priority(uint32_t t)
{
    return (int64_t)((t * 40503u >> 5) % PRIORITIES);
}

int tasks_init(struct tasks *t)
{
    shmds_options_t where = SHMDS_OPTIONS_INIT;
    shmds_graph_config_t graph = SHMDS_GRAPH_CONFIG_INIT(TASKS, TASKS * MAX_DEPS);
    shmds_heap_config_t ready = SHMDS_HEAP_CONFIG_INIT(SHMDS_TYPE_INT64, TASKS);
    shmds_bitset_config_t bits = SHMDS_BITSET_CONFIG_INIT(TASKS);
    void *board;
    int rc;
    memset(t, 0, sizeof *t);
    board = mmap(NULL, sizeof *t->board, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                 -1, 0);
    if (board == MAP_FAILED) {
        fprintf(stderr, "demo: mapping the task board failed: mmap: %s\n", strerror(errno));
        return 1;
    }
    t->board = board; /* zero-filled by the kernel */
    if ((rc = shmds_graph_create(&where, &graph, &t->graph)) != 0)
        return report("parent", "create the task graph", rc);
    if ((rc = shmds_heap_create(&where, &ready, &t->ready)) != 0)
        return report("parent", "create the ready heap", rc);
    if ((rc = shmds_bitset_create(&where, &bits, &t->done)) != 0 ||
        (rc = shmds_bitset_create(&where, &bits, &t->queued)) != 0)
        return report("parent", "create the task bit sets", rc);
    for (uint32_t i = 0; i < TASKS; i++) {
        rc = shmds_graph_add_node(t->graph, (int64_t)i, &t->board->node_of[i]);
        if (rc) return report("parent", "add a task to the graph", rc);
    }
    for (uint32_t i = 0; i < TASKS; i++) {
        uint32_t deps[MAX_DEPS];
        unsigned n = task_deps(i, deps);
        for (unsigned k = 0; k < n; k++) {
            rc = shmds_graph_add_edge(t->graph, t->board->node_of[deps[k]],
                                      t->board->node_of[i], 1);
            if (rc) return report("parent", "add a dependency to the graph", rc);
        }
        t->dependencies += n;
        if (n == 0) {
            (void)shmds_bitset_set(t->queued, i);
            rc = shmds_heap_push_int(t->ready, task_priority(i), (int64_t)i, SHMDS_NOWAIT);
            if (rc) return report("parent", "push a ready task", rc);
            t->roots++;
        }
    }
    return 0;
}

/* The task number a graph node carries, or -1 after a report. */
static int64_t task_of(const struct tasks *t, uint64_t node, const char *who)
{
    int64_t task;
    int rc = shmds_graph_node_data(t->graph, node, &task);
    if (rc) return report(who, "read a task's node", rc), -1;
    if (task < 0 || task >= (int64_t)TASKS) {
        fprintf(stderr, "demo: %s: a task node holds %lld\n", who, (long long)task);
        return -1;
    }
    return task;
}

/* *all = 1 if every dependency of the task at `node` is done. 0, or 1 after a report. */
static int deps_done(const struct tasks *t, uint64_t node, int *all, const char *who)
{
    uint64_t deps[MAX_DEPS];
    size_t n = 0;
    int rc = shmds_graph_in_neighbors(t->graph, node, deps, NULL, MAX_DEPS, &n);
    if (rc) return report(who, "list a task's dependencies", rc);
    *all = 1;
    for (size_t i = 0; i < n; i++) {
        int64_t dep = task_of(t, deps[i], who);
        if (dep < 0) return 1;
        rc = shmds_bitset_test(t->done, (uint64_t)dep);
        if (rc < 0) return report(who, "test a done bit", rc);
        *all &= rc;
    }
    return 0;
}

/* Offer each dependent of `task` whose dependencies are now all done: the worker whose
 * set() of its queued bit finds it clear pushes it. 0, or 1 after a report. */
static int release_dependents(struct tasks *t, uint32_t task, const char *who)
{
    uint64_t next[DEP_REACH];
    size_t n = 0;
    int rc = shmds_graph_neighbors(t->graph, t->board->node_of[task], next, NULL, DEP_REACH, &n);
    if (rc) return report(who, "list a task's dependents", rc);
    for (size_t i = 0; i < n; i++) {
        int all;
        int64_t dependent = task_of(t, next[i], who);
        if (dependent < 0 || deps_done(t, next[i], &all, who)) return 1;
        if (!all) continue;
        rc = shmds_bitset_set(t->queued, (uint64_t)dependent);
        if (rc < 0) return report(who, "mark a task ready", rc);
        if (rc == 1) continue; /* another worker pushed it */
        rc = shmds_heap_push_int(t->ready, task_priority((uint32_t)dependent), dependent,
                                 SHMDS_FOREVER);
        if (rc) return report(who, "push a ready task", rc);
    }
    return 0;
}

/* Run one task: check its dependencies, stamp it, mark it done, release its dependents. */
static int run_task(struct tasks *t, uint32_t task, const char *who)
{
    struct task_board *b = t->board;
    int all, rc;
    if (deps_done(t, b->node_of[task], &all, who)) return 1;
    if (!all) __atomic_add_fetch(&b->early, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&b->stamp[task], __atomic_add_fetch(&b->next_stamp, 1, __ATOMIC_SEQ_CST),
                     __ATOMIC_SEQ_CST);
    rc = shmds_bitset_set(t->done, task);
    if (rc < 0) return report(who, "mark a task done", rc);
    if (rc == 1) __atomic_add_fetch(&b->twice, 1, __ATOMIC_SEQ_CST);
    if (release_dependents(t, task, who)) return 1;
    __atomic_add_fetch(&b->finished, 1, __ATOMIC_SEQ_CST);
    return 0;
}

int tasks_run(struct tasks *t, const char *who)
{
    struct task_board *b = t->board;
    uint64_t seen = __atomic_load_n(&b->finished, __ATOMIC_SEQ_CST);
    double moved_at = now_s();
    for (;;) {
        int64_t priority, task;
        uint64_t finished = __atomic_load_n(&b->finished, __ATOMIC_SEQ_CST);
        int rc;
        if (finished >= TASKS) return 0;
        if (finished != seen) {
            seen = finished;
            moved_at = now_s();
        } else if (now_s() - moved_at > TASK_STALL_S) {
            fprintf(stderr, "demo: %s: no task finished for %.0f s, %llu of %u done\n", who,
                    TASK_STALL_S, (unsigned long long)finished, TASKS);
            return 1;
        }
        rc = shmds_heap_pop_int(t->ready, &priority, &task, POP_WAIT_NS);
        if (rc == -ETIMEDOUT || rc == -EAGAIN) continue;
        if (rc) return report(who, "pop a ready task", rc);
        if (task < 0 || task >= (int64_t)TASKS) {
            __atomic_add_fetch(&b->malformed, 1, __ATOMIC_SEQ_CST);
            continue;
        }
        if (run_task(t, (uint32_t)task, who)) return 1;
    }
}

/* Tasks that finished before one of their dependencies (by the stamps), or never. */
static uint64_t out_of_order(const struct task_board *b)
{
    uint64_t bad = 0;
    for (uint32_t i = 0; i < TASKS; i++) {
        uint32_t deps[MAX_DEPS];
        unsigned n = task_deps(i, deps);
        int ok = b->stamp[i] != 0;
        for (unsigned k = 0; k < n; k++) ok &= b->stamp[deps[k]] != 0 && b->stamp[deps[k]] < b->stamp[i];
        bad += !ok;
    }
    return bad;
}

int tasks_print(const struct tasks *t)
{
    char a[32], b[32], c[32];
    const struct task_board *board = t->board;
    uint64_t bad_order = out_of_order(board);
    uint64_t done = shmds_bitset_count(t->done), queued = shmds_bitset_count(t->queued);
    uint64_t edges = shmds_graph_edge_count(t->graph), left = shmds_heap_size(t->ready);
    int graph_rc = shmds_graph_check(t->graph);
    if (board->finished != TASKS || done != TASKS || queued != TASKS || board->twice ||
        board->early || board->malformed || bad_order || edges != t->dependencies || left ||
        graph_rc) {
        printf("  tasks       FAILED: %s of %u run (%s done bits, %s queued), %s twice, %s "
               "early, %s out of order, %s malformed; %s of %s dependencies in the graph "
               "(check %d), %s left in the heap\n",
               grouped(board->finished, a, sizeof a), TASKS, grouped(done, b, sizeof b),
               grouped(queued, c, sizeof c), grouped(board->twice, a, sizeof a),
               grouped(board->early, b, sizeof b), grouped(bad_order, c, sizeof c),
               grouped(board->malformed, a, sizeof a), grouped(edges, b, sizeof b),
               grouped(t->dependencies, c, sizeof c), graph_rc, grouped(left, a, sizeof a));
        return 0;
    }
    printf("  tasks       %s tasks with %s dependencies (graph) ran once each by priority "
           "(heap),\n              none before its dependencies; %s %s\n",
           grouped(TASKS, a, sizeof a), grouped(t->dependencies, b, sizeof b),
           grouped(t->roots, c, sizeof c), plural(t->roots, "root", "roots"));
    return 1;
}

void tasks_close(struct tasks *t)
{
    shmds_graph_close(t->graph);
    shmds_heap_close(t->ready);
    shmds_bitset_close(t->done);
    shmds_bitset_close(t->queued);
    t->graph = NULL;
    t->ready = NULL;
    t->done = t->queued = NULL;
}

void tasks_free(struct tasks *t)
{
    tasks_close(t);
    if (t->board) munmap(t->board, sizeof *t->board);
}
