/*
 * The demo's task-graph stage: TASKS tasks, each depending on up to three earlier ones,
 * run by the worker pool in dependency order and by priority.
 *
 *  - a graph holds the dependencies: one node per task (its data is the task's number),
 *    an edge from each dependency to its dependent;
 *  - a heap holds the ready tasks (every dependency done) by priority, FIFO among equal
 *    priorities; a worker pops the most urgent one;
 *  - a bit set marks the tasks done, and a second one the tasks made ready: a worker
 *    that finishes a task offers each dependent whose dependencies are now all done,
 *    and only the worker whose set() finds the bit clear pushes it, so a task enters
 *    the heap once even when its last two dependencies finish at the same moment.
 *
 * The parent builds the graph and pushes the tasks with no dependency before the
 * workers start; the workers run the stage after the job pipeline. The parent checks
 * that every task ran exactly once and after every one of its dependencies.
 */
#ifndef DEMO_TASKS_H
#define DEMO_TASKS_H

#include <shmds/shmds.h>

#include <stdint.h>

#define TASKS 4096u

/* Shared by the workers (an anonymous shared mapping): how the tasks went. */
struct task_board {
    uint64_t node_of[TASKS]; /* task -> its graph node id */
    uint64_t stamp[TASKS];   /* 1, 2, ...: the order in which tasks finished; 0 = never */
    uint64_t next_stamp;
    uint64_t finished;       /* tasks run */
    uint64_t early;          /* run before a dependency was done (must stay 0) */
    uint64_t twice;          /* run again (must stay 0) */
    uint64_t malformed;      /* a popped task number out of range (must stay 0) */
};

struct tasks {
    shmds_graph_t *graph;   /* dependency -> dependent */
    shmds_heap_t *ready;    /* ready tasks by priority */
    shmds_bitset_t *done;   /* tasks run */
    shmds_bitset_t *queued; /* tasks pushed into `ready` */
    struct task_board *board;
    uint64_t dependencies;  /* edges in the graph */
    uint64_t roots;         /* tasks with no dependency */
};

/* Create the structures, build the graph and push the roots. 0, or 1 after a report. */
int tasks_init(struct tasks *t);

/* In a worker: run ready tasks until every task has run. 0, or 1 after a report. */
int tasks_run(struct tasks *t, const char *who);

/* In the parent once every worker has ended: print the stage's line; 1 if it passed. */
int tasks_print(const struct tasks *t);

/* Close the handles and forget them (a second call does nothing), in a worker or the
 * parent. */
void tasks_close(struct tasks *t);

/* tasks_close() and unmap the board: the parent, at the end. */
void tasks_free(struct tasks *t);

#endif /* DEMO_TASKS_H */
