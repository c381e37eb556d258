/*
 * libshmds demo: a multi-process job pipeline.
 *
 * The parent creates two queues in shared memory, forks a pool of workers, and feeds
 * jobs into the first queue while it collects results from the second. Each job carries
 * an id and a payload; a worker counts the Collatz steps of the payload (or finds them
 * memoised, below) and reports (id, steps, worker). The parent checks every result against its own computation and
 * keeps a bitmap of the ids it has seen, so it can tell that every job was done exactly
 * once. The exit status is 0 only if every check passes.
 *
 * More structures join the queues:
 *  - a barrier: the workers and the parent set off together, so the clock starts when
 *    the whole pool is ready;
 *  - a semaphore: one job in 64 needs a scarce shared resource (the "expensive
 *    section"), which at most `bound` workers may hold at a time; a shared counter of
 *    holders checks that the bound was never exceeded;
 *  - a pubsub ring: the workers publish how many jobs they have done, and the progress
 *    line is drawn from what the parent's subscriber reads; at the end those published
 *    counts must equal what the parent received from each worker;
 *  - hash maps: the jobs draw their payloads from a pool of INPUTS numbers, so the same
 *    input recurs; workers memoise each input's answer in a shared map (the first to
 *    compute it inserts it, the others read it), count the jobs per input in a second
 *    map and add up their memo hits in a third. The parent checks every count exactly:
 *    each input's job count, one memo entry per input with the right answer, and hits
 *    plus computations equal to the jobs;
 *  - a cache: every job also looks up its customer's record (CUSTOMERS of them) through
 *    a Cache (the Cache::FastMmap replacement) whose read_cb stands in for a slow backing
 *    store (STORE_DELAY_NS a call). The records must all be right, and the stampede
 *    guard keeps the store to one call per customer however many workers miss one at
 *    once; the summary reports the hit ratio and how often the store was called;
 *  - a ring buffer: each worker writes one value per batch of results it hands in (the
 *    time and the batch's size), so the window of the last WINDOW_BATCHES batches gives
 *    the rolling throughput, whoever wrote them;
 *  - a log: the audit trail; each worker appends one entry per finished job (its
 *    result), in one commit per batch, and the parent reads the whole log back at the
 *    end: it must hold every job exactly once;
 *  - a pool: each batch's results are written into a scratch slot the worker takes
 *    from a pool of raw slots and gives back once the batch is handed in; every slot
 *    must be back at the end;
 *  - a bit set: each worker marks the ids of the jobs it finished, and the parent checks
 *    the bits against the results it received;
 *  - a heap and a graph (demo_tasks.c): after the jobs, the pool runs TASKS tasks with
 *    dependencies in dependency order and by priority.
 *
 *   demo [--workers N] [--jobs N] [--quiet]
 *
 * Only the public C API (<shmds/shmds.h>) is used: this is what a user's program looks
 * like. Each stage is its own small function so that more structures can join later.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getaffinity, prctl */
#endif

#include "demo_tasks.h"
#include "demo_util.h"

#include <shmds/shmds.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ settings */

#define DEFAULT_JOBS 1000000u
/* Ids travel in 32 bits; the parent's bitmap costs jobs / 8 bytes. */
#define MAX_JOBS 100000000u
/* The worker index travels in 14 bits of a result. */
#define MAX_WORKERS 1024u

#define QUEUE_CAPACITY 1024u
/* The parent moves jobs and results in large batches; workers take small ones so the
 * jobs spread evenly over the pool. */
#define FEED_BATCH 256u
#define COLLECT_BATCH 256u
#define WORKER_BATCH 16u

#define MS ((int64_t)1000000)
/* How long the parent sleeps on an empty results queue before checking its workers. */
#define COLLECT_WAIT_NS (100 * MS)
/* No result for this long means the pipeline is stuck: give up instead of hanging. */
#define STALL_LIMIT_S 10.0
#define REAP_LIMIT_S 5.0
#define PROGRESS_INTERVAL_S 0.05

/* One job in SECTION_EVERY needs the scarce resource, and holds it this long: long
 * enough that workers queue for it, short enough to cost little. */
#define SECTION_EVERY 64u
#define SECTION_HOLD_NS (20 * 1000)
/* A semaphore tracks at most 256 holding processes; each worker holds one permit at
 * most, so a bound up to 256 never meets -EUSERS. */
#define MAX_SECTION_BOUND 256u

/* After the parent's last read while jobs run, each worker publishes at most two
 * reports (for its last results, then its closing one). 2 * MAX_WORKERS fit, so no
 * closing report is overwritten before the parent's final read. */
#define PROGRESS_RING 4096u
#define PROGRESS_READ_BATCH 256u

/* The distinct payloads jobs draw from: each recurs about 15 times in the default
 * million jobs, so the memo answers most of them. The memo and the count maps hold one
 * entry per input; their shards let workers write different inputs without meeting on
 * one lock. A sharded map's capacity is per shard (max_entries / shards), so it gets a
 * quarter of headroom for the uneven spread of keys over shards (about 4096 +- 64
 * here). */
#define INPUTS 65536u
#define MAP_SHARDS 16u
#define MAP_ENTRIES (INPUTS + INPUTS / 4)

/* The cache stage: the customers whose records the jobs read, and what one call of the
 * backing store costs. The cache (64 pages of 16 KiB) holds every record, so the store
 * is called only for a customer's first read. */
#define CUSTOMERS 4096u
#define STORE_DELAY_NS (50 * 1000)
#define CACHE_PAGES 64u
#define CACHE_PAGE_SIZE 16384u
#define CACHE_START_SLOTS 401u

/* The rolling window: the last WINDOW_BATCHES batches the workers handed in. A window
 * value is (the batch's time in microseconds << 8) | its size (at most WORKER_BATCH). */
#define WINDOW_BATCHES 256u
#define WINDOW_SIZE_BITS 8
/* An audit entry is one result (8 bytes); the log takes 8 more for each entry's header. */
#define AUDIT_ENTRY_BYTES 16u

/* ------------------------------------------------------------- job encoding */

/*
 * A job is one int64: the id in the low 32 bits, the payload above it. A result is the
 * id, the step count in bits 32..47 and the worker's index in bits 48..61. Both stay
 * non-negative, which leaves -1 free to mean "stop".
 */
#define STOP_JOB ((int64_t)-1)
#define ID_MASK 0xffffffffu

/* Which of the INPUTS a job's payload is: deterministic, so the parent can recompute
 * every answer and count the jobs of every input. */
static uint32_t job_input(uint64_t id)
{
    /* splitmix64 */
    uint64_t z = id + UINT64_C(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    z ^= z >> 31;
    return (uint32_t)(z % INPUTS);
}

/* The payload of input i: distinct for every input (an odd multiplier permutes 24-bit
 * numbers), and up to 2^24, which keeps every Collatz path far below 2^64 and under
 * 1000 steps. */
static uint64_t input_payload(uint32_t input)
{
    return ((uint64_t)input * UINT64_C(2654435761) & 0xffffffu) + 1;
}

static uint64_t job_payload(uint64_t id)
{
    return input_payload(job_input(id));
}

static uint64_t collatz_steps(uint64_t n)
{
    uint64_t steps = 0;
    while (n != 1) {
        n = (n & 1) ? 3 * n + 1 : n / 2;
        steps++;
    }
    return steps;
}

static int64_t job_encode(uint64_t id)
{
    return (int64_t)((job_payload(id) << 32) | id);
}

static int64_t result_encode(int64_t job, unsigned worker, uint64_t steps)
{
    uint64_t id = (uint64_t)job & ID_MASK;
    return (int64_t)(((uint64_t)worker << 48) | (steps << 32) | id);
}

struct result {
    uint64_t id;
    uint64_t steps;
    unsigned worker;
};

static struct result result_decode(int64_t value)
{
    struct result r;
    r.id = (uint64_t)value & ID_MASK;
    r.steps = ((uint64_t)value >> 32) & 0xffffu;
    r.worker = (unsigned)(((uint64_t)value >> 48) & 0x3fffu);
    return r;
}

static int needs_section(int64_t job)
{
    return ((uint64_t)job & ID_MASK) % SECTION_EVERY == 0;
}

/*
 * A progress report is one int64: the jobs a worker has answered so far in the low 48
 * bits, its index in bits 48..61, and bit 62 set on its closing report. Counts are
 * cumulative, so a report the subscriber misses costs nothing: the next one says more.
 */
#define REPORT_COUNT_MASK ((UINT64_C(1) << 48) - 1)
#define REPORT_CLOSING (UINT64_C(1) << 62)

static int64_t report_encode(unsigned worker, uint64_t done, int closing)
{
    return (int64_t)((closing ? REPORT_CLOSING : 0) | ((uint64_t)worker << 48) | done);
}

struct report_msg {
    uint64_t done;
    unsigned worker;
    int closing;
};

static struct report_msg report_decode(int64_t value)
{
    struct report_msg m;
    m.done = (uint64_t)value & REPORT_COUNT_MASK;
    m.worker = (unsigned)(((uint64_t)value >> 48) & 0x3fffu);
    m.closing = ((uint64_t)value & REPORT_CLOSING) != 0;
    return m;
}

/* ------------------------------------------------------------------ helpers */

static unsigned cpu_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return (unsigned)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

/* ----------------------------------------------------------------- options */

struct options {
    unsigned workers;
    uint64_t jobs;
    int quiet;
};

static void usage(FILE *to)
{
    fprintf(to,
            "usage: demo [--workers N] [--jobs N] [--quiet]\n"
            "  --workers N  worker processes, 1..%u (default: one per CPU, at least 2)\n"
            "  --jobs N     jobs to run, 1..%u (default: %u)\n"
            "  --quiet      no banner and no progress, only the summary\n",
            MAX_WORKERS, MAX_JOBS, DEFAULT_JOBS);
}

static int parse_count(const char *flag, const char *text, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = text ? strtoull(text, &end, 10) : 0;
    if (!text || *text == '\0' || *text == '-' || *end != '\0' || errno || v < 1 || v > max) {
        fprintf(stderr, "demo: %s wants a whole number from 1 to %llu, not \"%s\"\n", flag,
                (unsigned long long)max, text ? text : "");
        return -1;
    }
    *out = v;
    return 0;
}

/* 0 to run, 1 to exit successfully (--help), -1 on a bad command line. */
static int parse_options(int argc, char **argv, struct options *o)
{
    unsigned cpus = cpu_count();
    o->workers = cpus < 2 ? 2 : cpus > MAX_WORKERS ? MAX_WORKERS : cpus;
    o->jobs = DEFAULT_JOBS;
    o->quiet = 0;
    for (int i = 1; i < argc; i++) {
        uint64_t v;
        if (strcmp(argv[i], "--quiet") == 0) {
            o->quiet = 1;
        } else if (strcmp(argv[i], "--jobs") == 0) {
            if (parse_count("--jobs", i + 1 < argc ? argv[++i] : NULL, MAX_JOBS, &v)) return -1;
            o->jobs = v;
        } else if (strcmp(argv[i], "--workers") == 0) {
            if (parse_count("--workers", i + 1 < argc ? argv[++i] : NULL, MAX_WORKERS, &v)) return -1;
            o->workers = (unsigned)v;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 1;
        } else {
            fprintf(stderr, "demo: unknown argument \"%s\"\n", argv[i]);
            usage(stderr);
            return -1;
        }
    }
    return 0;
}

/* ----------------------------------------------------------------- workers */

struct worker {
    pid_t pid;
    int reaped;
    int killed; /* still running at the reap deadline */
    int status; /* from waitpid, once reaped */
};

/* Kept beside the semaphore, in memory of its own, so that the semaphore is checked by
 * something other than itself. */
struct section_watch {
    int64_t holders;     /* workers inside the expensive section now */
    int64_t max_holders; /* the most ever inside at once */
    uint64_t entries;
    /* The cache stage's backing store: calls per customer, and wrong records read. */
    uint64_t store_calls[CUSTOMERS];
    uint64_t wrong_records;
    /* Finished-bit sets that found the bit set already: a job done twice. */
    uint64_t finished_twice;
};

struct pipeline {
    shmds_queue_t *jobs;
    shmds_queue_t *results;
    shmds_barrier_t *start;     /* every worker and the parent */
    shmds_semaphore_t *section; /* `section_bound` permits */
    shmds_pubsub_t *progress;   /* the workers' progress reports */
    shmds_hashmap_t *memo;      /* payload -> its Collatz steps */
    shmds_hashmap_t *work;      /* payload -> jobs answered for it */
    shmds_hashmap_t *totals;    /* TOTAL_* name -> the sum over workers */
    shmds_cache_t *records;     /* customer -> record, read through from the "store" */
    shmds_ringbuffer_t *window; /* the last WINDOW_BATCHES batches: time and size */
    shmds_log_t *audit;         /* one entry per finished job: its result */
    shmds_pool_t *scratch;      /* a slot per worker for the batch being answered */
    shmds_bitset_t *finished;   /* one bit per job id, set by the worker that did it */
    struct tasks tasks;         /* the task-graph stage (demo_tasks.c) */
    struct section_watch *watch;
    unsigned section_bound;
    struct worker *workers;
    unsigned n_workers;
    unsigned started;
    double forked_at; /* just before the first fork */
    double met_at;    /* when the start barrier tripped */
};

/* Close every structure's handle (in a worker before it exits, in the parent at the end).
 * A NULL handle is ignored, so this is right after a partial pipeline_init too. */
static void pipeline_close(struct pipeline *p)
{
    shmds_queue_close(p->jobs);
    shmds_queue_close(p->results);
    shmds_barrier_close(p->start);
    shmds_semaphore_close(p->section);
    shmds_pubsub_close(p->progress);
    shmds_hashmap_close(p->memo);
    shmds_hashmap_close(p->work);
    shmds_hashmap_close(p->totals);
    shmds_cache_close(p->records);
    shmds_ringbuffer_close(p->window);
    shmds_log_close(p->audit);
    shmds_pool_close(p->scratch);
    shmds_bitset_close(p->finished);
    tasks_close(&p->tasks);
}

/*
 * Hold the scarce resource for a moment under the semaphore. The holder count is
 * raised only after acquire and lowered before release, so it can exceed the bound
 * only if the semaphore let too many in. (C99 has no atomics; GCC and Clang, the
 * compilers libshmds supports, have these builtins in every language mode.)
 */
static int run_section(struct pipeline *p, const char *who)
{
    const struct timespec hold = {0, SECTION_HOLD_NS};
    struct section_watch *w = p->watch;
    int64_t holders, most;
    int rc = shmds_semaphore_acquire(p->section, SHMDS_FOREVER);
    if (rc) return report(who, "acquire the section semaphore", rc);
    holders = __atomic_add_fetch(&w->holders, 1, __ATOMIC_SEQ_CST);
    most = __atomic_load_n(&w->max_holders, __ATOMIC_SEQ_CST);
    /* Raise the maximum unless another holder already raised it as high; a failed
     * exchange reloads `most`. */
    while (holders > most && !__atomic_compare_exchange_n(&w->max_holders, &most, holders, 1,
                                                          __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    }
    __atomic_add_fetch(&w->entries, 1, __ATOMIC_SEQ_CST);
    nanosleep(&hold, NULL);
    __atomic_sub_fetch(&w->holders, 1, __ATOMIC_SEQ_CST);
    rc = shmds_semaphore_release(p->section, 1);
    return rc ? report(who, "release the section semaphore", rc) : 0;
}

/* ------------------------------------------------------------- the cache stage */

/* A job's customer, and that customer's record as the backing store holds it. */
static unsigned job_customer(int64_t job)
{
    return (unsigned)(((uint64_t)job >> 32) % CUSTOMERS);
}

static int customer_key(unsigned customer, char *buf, size_t size)
{
    return snprintf(buf, size, "customer:%u", customer);
}

static int customer_record(unsigned customer, char *buf, size_t size)
{
    return snprintf(buf, size, "record of customer %u, balance %u", customer,
                    customer * 37u % 1000u);
}

/* The cache's read_cb: the slow backing store. Counts its calls per customer, in memory
 * every worker shares, so the parent can tell how often each customer was fetched. */
static int store_read(void *ctx, const void *key, size_t key_len, shmds_cache_value_t *out)
{
    static __thread char record[64];
    struct section_watch *w = ctx;
    const struct timespec delay = {0, STORE_DELAY_NS};
    char name[32];
    unsigned customer;
    if (key_len >= sizeof name) return SHMDS_CACHE_NOT_FOUND;
    memcpy(name, key, key_len);
    name[key_len] = '\0';
    if (sscanf(name, "customer:%u", &customer) != 1 || customer >= CUSTOMERS)
        return SHMDS_CACHE_NOT_FOUND;
    __atomic_add_fetch(&w->store_calls[customer], 1, __ATOMIC_SEQ_CST);
    nanosleep(&delay, NULL);
    out->value = record;
    out->value_len = (size_t)customer_record(customer, record, sizeof record);
    return 0;
}

/* Read the job's customer record through the cache and check it. 0, or the exit status
 * after a report. */
static int read_customer(struct pipeline *p, int64_t job, const char *who)
{
    char key[32], got[64], want[64];
    unsigned customer = job_customer(job);
    size_t len = 0;
    int key_len = customer_key(customer, key, sizeof key);
    int want_len = customer_record(customer, want, sizeof want);
    int rc = shmds_cache_get(p->records, key, (size_t)key_len, got, sizeof got, &len);
    if (rc) return report(who, "read a customer record through the cache", rc);
    if (len != (size_t)want_len || memcmp(got, want, len) != 0)
        __atomic_add_fetch(&p->watch->wrong_records, 1, __ATOMIC_SEQ_CST);
    return 0;
}

/* The names of the workers' shared totals (a map with bytes keys). */
#define TOTAL_HITS "memo hits"         /* jobs answered from the memo */
#define TOTAL_COMPUTED "computed"      /* jobs whose steps a worker counted itself */
#define TOTAL_MEMOISED "memoised"      /* answers this worker inserted into the memo */

struct memo_use {
    int64_t hits, computed, memoised;
};

/*
 * Answer one job through the memo: read the payload's steps without a lock; on a miss,
 * count them and offer them with get_or_set, which inserts only the first answer of
 * racing workers (and hands the others the stored one). Then count the job against its
 * payload. 0, or the exit status after a report.
 */
static int answer_job(struct pipeline *p, int64_t job, unsigned worker, struct memo_use *use,
                      int64_t *result, const char *who)
{
    int64_t payload = (int64_t)((uint64_t)job >> 32);
    int64_t steps, jobs_of_payload;
    int rc = shmds_hashmap_get_ii(p->memo, payload, &steps);
    if (rc == 0) {
        use->hits++;
    } else if (rc == -ENOENT) {
        int64_t mine = (int64_t)collatz_steps((uint64_t)payload);
        use->computed++;
        rc = shmds_hashmap_get_or_set_ii(p->memo, payload, mine, &steps);
        if (rc < 0) return report(who, "memoise an answer", rc);
        if (rc == 0) use->memoised++;
    } else {
        return report(who, "read the memo", rc);
    }
    rc = shmds_hashmap_incr_i(p->work, payload, &jobs_of_payload);
    if (rc) return report(who, "count the work of a payload", rc);
    *result = result_encode(job, worker, (uint64_t)steps);
    return 0;
}

/* Add this worker's memo use to the shared totals. */
static int add_totals(struct pipeline *p, const struct memo_use *use, const char *who)
{
    const char *names[3] = {TOTAL_HITS, TOTAL_COMPUTED, TOTAL_MEMOISED};
    int64_t counts[3] = {use->hits, use->computed, use->memoised};
    for (int i = 0; i < 3; i++) {
        int64_t sum;
        int rc = shmds_hashmap_incr_by_b(p->totals, names[i], strlen(names[i]), counts[i], &sum);
        if (rc) return report(who, "add to the shared totals", rc);
    }
    return 0;
}

/*
 * After a batch of results is pushed: its audit entries, one per job, in one commit (a
 * worker killed here leaves all of them or none), and its value in the rolling window.
 * 0, or the exit status after a report.
 */
static int hand_in(struct pipeline *p, const int64_t *results, size_t n, const char *who)
{
    const void *datas[WORKER_BATCH];
    size_t lens[WORKER_BATCH];
    int64_t at_us = (int64_t)(now_s() * 1e6);
    int rc;
    for (size_t i = 0; i < n; i++) {
        datas[i] = &results[i];
        lens[i] = sizeof results[i];
    }
    rc = shmds_log_append_multi(p->audit, datas, lens, n, NULL);
    if (rc) return report(who, "append to the audit log", rc);
    rc = shmds_ringbuffer_write_int(p->window, at_us << WINDOW_SIZE_BITS | (int64_t)n, NULL);
    return rc ? report(who, "write the throughput window", rc) : 0;
}

/* Mark a finished job's id in the shared bit set. 0, or the exit status after a report. */
static int mark_finished(struct pipeline *p, int64_t job, const char *who)
{
    int old = shmds_bitset_set(p->finished, (uint64_t)job & ID_MASK);
    if (old < 0) return report(who, "mark a job finished", old);
    if (old) __atomic_add_fetch(&p->watch->finished_twice, 1, __ATOMIC_SEQ_CST);
    return 0;
}

/*
 * Answer one batch of jobs into a scratch slot from the pool, hand the results in and
 * give the slot back. *stop is set when the batch held the stop job; *done grows by the
 * jobs answered. 0, or the exit status after a report.
 */
static int answer_batch(struct pipeline *p, unsigned index, const int64_t *jobs, size_t got,
                        struct memo_use *use, uint64_t *done, int *stop, const char *who)
{
    uint64_t slot;
    int64_t *results;
    size_t answered = 0, pushed = 0;
    int freed, rc = shmds_pool_alloc(p->scratch, SHMDS_FOREVER, &slot);
    if (rc) return report(who, "take a scratch slot", rc);
    results = shmds_pool_slot_ptr(p->scratch, slot);
    for (size_t i = 0; i < got && rc == 0; i++) {
        if (jobs[i] == STOP_JOB) {
            *stop = 1;
            continue;
        }
        if (needs_section(jobs[i]) && run_section(p, who)) rc = 1;
        else if (read_customer(p, jobs[i], who)) rc = 1;
        else if (answer_job(p, jobs[i], index, use, &results[answered++], who)) rc = 1;
        else rc = mark_finished(p, jobs[i], who);
    }
    if (rc == 0 && answered) {
        rc = shmds_queue_push_multi_int(p->results, results, answered, &pushed, SHMDS_FOREVER);
        if (rc) rc = report(who, "push results", rc);
        else if (hand_in(p, results, answered, who)) rc = 1;
        else *done += answered;
    }
    /* Given back on failure too: the worker is about to end, and the slot is not its to
     * keep (the pool would reclaim it from the dead process anyway). */
    freed = shmds_pool_free(p->scratch, slot);
    if (rc) return rc;
    return freed ? report(who, "give back a scratch slot", freed) : 0;
}

/* Pop jobs, answer them, until the stop job arrives. Returns the exit status. */
static int worker_main(struct pipeline *p, unsigned index)
{
    char who[32];
    uint64_t done = 0;
    struct memo_use use = {0, 0, 0};
    int rc;
    snprintf(who, sizeof who, "worker %u", index);
    /* No timeout: if the parent gives up waiting, its timeout breaks the barrier and
     * this returns -ECANCELED; if the parent dies, PR_SET_PDEATHSIG ends this process. */
    rc = shmds_barrier_wait(p->start, SHMDS_FOREVER);
    if (rc < 0) return report(who, "wait at the start barrier", rc);
    for (;;) {
        int64_t jobs[WORKER_BATCH];
        uint64_t before = done;
        size_t got = 0;
        int stop = 0;
        rc = shmds_queue_pop_multi_int(p->jobs, jobs, WORKER_BATCH, &got, SHMDS_FOREVER);
        if (rc) return report(who, "pop jobs", rc);
        if (answer_batch(p, index, jobs, got, &use, &done, &stop, who)) return 1;
        /* The totals go in before the closing report, so the parent, which reads them
         * once every worker has ended, finds them complete. */
        if (stop && add_totals(p, &use, who)) return 1;
        /* Reported after the push, so a published count never runs ahead of the results
         * the parent can collect. */
        if (done != before || stop) {
            rc = shmds_pubsub_publish_int(p->progress, report_encode(index, done, stop));
            if (rc) return report(who, "publish progress", rc);
        }
        if (stop) {
            /* One stop job serves the whole pool: pass it on to the next worker, then
             * join the task-graph stage. */
            rc = shmds_queue_push_int(p->jobs, STOP_JOB, SHMDS_FOREVER);
            if (rc) return report(who, "pass on the stop job", rc);
            return tasks_run(&p->tasks, who);
        }
    }
}

static void run_worker(struct pipeline *p, unsigned index, pid_t parent)
{
    /* Nobody would ever send the stop job to a worker whose parent was killed. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(1);
    /* The expensive section sleeps 20 us; the default 50 us timer slack would stretch
     * that several times over. It only costs time, so a refusal is ignored. */
    (void)prctl(PR_SET_TIMERSLACK, 1000UL);
    int status = worker_main(p, index);
    pipeline_close(p);
    _exit(status);
}

static int start_workers(struct pipeline *p)
{
    pid_t parent = getpid();
    /* Anything still buffered would otherwise be printed once more by every child. */
    fflush(stdout);
    fflush(stderr);
    p->forked_at = now_s();
    for (unsigned i = 0; i < p->n_workers; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "demo: starting worker %u failed: fork: %s\n", i, strerror(errno));
            return -1;
        }
        if (pid == 0) run_worker(p, i, parent);
        p->workers[i].pid = pid;
        p->started++;
    }
    return 0;
}

/* Reap the workers that have exited, without waiting; returns how many. */
static unsigned reap_exited(struct pipeline *p)
{
    unsigned n = 0;
    for (unsigned i = 0; i < p->started; i++) {
        struct worker *w = &p->workers[i];
        if (!w->reaped && waitpid(w->pid, &w->status, WNOHANG) == w->pid) {
            w->reaped = 1;
            n++;
        }
    }
    return n;
}

static int all_reaped(const struct pipeline *p)
{
    for (unsigned i = 0; i < p->started; i++)
        if (!p->workers[i].reaped) return 0;
    return 1;
}

/* Wait up to limit_s for every worker to exit, then kill and reap the rest. */
static void reap_all(struct pipeline *p, double limit_s)
{
    const struct timespec pause = {0, 2 * 1000 * 1000};
    double deadline = now_s() + limit_s;
    for (;;) {
        reap_exited(p);
        if (all_reaped(p) || now_s() >= deadline) break;
        nanosleep(&pause, NULL);
    }
    for (unsigned i = 0; i < p->started; i++) {
        struct worker *w = &p->workers[i];
        if (w->reaped) continue;
        kill(w->pid, SIGKILL);
        while (waitpid(w->pid, &w->status, 0) < 0 && errno == EINTR) {}
        w->reaped = 1;
        w->killed = 1;
    }
}

static int worker_ok(const struct worker *w)
{
    return !w->killed && WIFEXITED(w->status) && WEXITSTATUS(w->status) == 0;
}

static void describe_worker(unsigned index, const struct worker *w, const char *when)
{
    fprintf(stderr, "demo: worker %u (pid %d) %s: ", index, (int)w->pid, when);
    if (w->killed)
        fprintf(stderr, "it was still running after %.0f s and was killed\n", REAP_LIMIT_S);
    else if (WIFSIGNALED(w->status))
        fprintf(stderr, "killed by signal %d (%s)\n", WTERMSIG(w->status),
                strsignal(WTERMSIG(w->status)));
    else
        fprintf(stderr, "exit status %d\n", WEXITSTATUS(w->status));
}

/* Called while jobs are still out: any worker that has exited is a failure. */
static int workers_lost(struct pipeline *p)
{
    if (reap_exited(p) == 0) return 0;
    for (unsigned i = 0; i < p->started; i++)
        if (p->workers[i].reaped)
            describe_worker(i, &p->workers[i], "ended before the jobs were done");
    return 1;
}

/* After the last result: send the stop job and check that every worker ended cleanly. */
static int stop_workers(struct pipeline *p)
{
    int failed = 0;
    int rc = shmds_queue_push_int(p->jobs, STOP_JOB, 1000 * MS);
    if (rc) failed = report("parent", "push the stop job", rc);
    reap_all(p, rc ? 0.0 : REAP_LIMIT_S);
    for (unsigned i = 0; i < p->started; i++) {
        if (!worker_ok(&p->workers[i])) {
            describe_worker(i, &p->workers[i], "did not finish cleanly");
            failed = 1;
        }
    }
    return failed;
}

/*
 * The parent is a party of the start barrier (workers + 1), not a bystander: it starts
 * the clock and feeds the first jobs only once every worker is ready, so the figures
 * leave out the forks and the first jobs spread over the whole pool instead of going
 * to the workers forked first.
 */
static int start_together(struct pipeline *p)
{
    int rc = shmds_barrier_wait(p->start, (int64_t)(STALL_LIMIT_S * 1e9));
    if (rc < 0) {
        /* A worker that ended before arriving leaves the barrier one party short. */
        if (rc == -ETIMEDOUT) workers_lost(p);
        return report("parent", "wait for the workers at the start barrier", rc);
    }
    p->met_at = now_s();
    return 0;
}

static unsigned section_bound_for(unsigned n_workers)
{
    unsigned bound = n_workers / 2;
    return bound < 1 ? 1 : bound > MAX_SECTION_BOUND ? MAX_SECTION_BOUND : bound;
}

static int pipeline_init(struct pipeline *p, unsigned n_workers, uint64_t jobs)
{
    /* Anonymous shared memory: the workers inherit every structure through fork(), and
     * the memory goes away with the last process. Nothing to name, nothing to clean up. */
    shmds_options_t where = SHMDS_OPTIONS_INIT;
    shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(SHMDS_QUEUE_INT64, QUEUE_CAPACITY);
    shmds_pubsub_config_t ring = SHMDS_PUBSUB_CONFIG_INIT(SHMDS_PUBSUB_INT64, PROGRESS_RING);
    /* Payloads fit int32 and step counts int16: the map refuses, never truncates, a
     * value out of its type's range. */
    shmds_hashmap_config_t memo =
        SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_INT32, SHMDS_TYPE_INT16, MAP_ENTRIES);
    shmds_hashmap_config_t work =
        SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_INT32, SHMDS_TYPE_INT64, MAP_ENTRIES);
    shmds_hashmap_config_t totals = SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_BYTES, SHMDS_TYPE_INT64, 8);
    shmds_cache_config_t records = SHMDS_CACHE_CONFIG_INIT;
    shmds_cache_callbacks_t store = SHMDS_CACHE_CALLBACKS_INIT;
    shmds_ringbuffer_config_t window =
        SHMDS_RINGBUFFER_CONFIG_INIT(SHMDS_TYPE_INT64, WINDOW_BATCHES);
    /* Room for every job's entry; the log's memory is committed only as it fills. */
    shmds_log_config_t audit = SHMDS_LOG_CONFIG_INIT(jobs * AUDIT_ENTRY_BYTES + 64);
    /* A worker holds one scratch slot at a time, so nobody ever waits for one. */
    shmds_pool_config_t scratch =
        SHMDS_POOL_CONFIG_INIT(SHMDS_POOL_RAW, n_workers, WORKER_BATCH * sizeof(int64_t));
    shmds_bitset_config_t finished = SHMDS_BITSET_CONFIG_INIT(jobs);
    void *watch;
    int rc;
    memset(p, 0, sizeof *p);
    p->n_workers = n_workers;
    p->section_bound = section_bound_for(n_workers);
    p->workers = calloc(n_workers, sizeof *p->workers);
    if (!p->workers) {
        fprintf(stderr, "demo: out of memory for %u workers\n", n_workers);
        return -1;
    }
    watch = mmap(NULL, sizeof *p->watch, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                 -1, 0);
    if (watch == MAP_FAILED) {
        fprintf(stderr, "demo: mapping the section counters failed: mmap: %s\n",
                strerror(errno));
        return -1;
    }
    p->watch = watch; /* zero-filled by the kernel */
    if ((rc = shmds_queue_create(&where, &cfg, &p->jobs)) != 0)
        return report("parent", "create the jobs queue", rc);
    if ((rc = shmds_queue_create(&where, &cfg, &p->results)) != 0)
        return report("parent", "create the results queue", rc);
    if ((rc = shmds_barrier_create(&where, n_workers + 1, &p->start)) != 0)
        return report("parent", "create the start barrier", rc);
    if ((rc = shmds_semaphore_create(&where, p->section_bound, p->section_bound,
                                     &p->section)) != 0)
        return report("parent", "create the section semaphore", rc);
    if ((rc = shmds_pubsub_create(&where, &ring, &p->progress)) != 0)
        return report("parent", "create the progress ring", rc);
    memo.shards = work.shards = MAP_SHARDS;
    if ((rc = shmds_hashmap_create(&where, &memo, &p->memo)) != 0)
        return report("parent", "create the memo map", rc);
    if ((rc = shmds_hashmap_create(&where, &work, &p->work)) != 0)
        return report("parent", "create the work count map", rc);
    if ((rc = shmds_hashmap_create(&where, &totals, &p->totals)) != 0)
        return report("parent", "create the totals map", rc);
    records.page_size = CACHE_PAGE_SIZE;
    records.num_pages = CACHE_PAGES;
    records.start_slots = CACHE_START_SLOTS;
    if ((rc = shmds_cache_create(&where, &records, &p->records)) != 0)
        return report("parent", "create the records cache", rc);
    /* Callbacks belong to a handle in one process; the workers inherit these through
     * fork(), with the same functions and the same shared counters. */
    store.ctx = p->watch;
    store.read_cb = store_read;
    if ((rc = shmds_cache_set_callbacks(p->records, &store)) != 0)
        return report("parent", "set the records cache's read_cb", rc);
    if ((rc = shmds_ringbuffer_create(&where, &window, &p->window)) != 0)
        return report("parent", "create the throughput window", rc);
    if ((rc = shmds_log_create(&where, &audit, &p->audit)) != 0)
        return report("parent", "create the audit log", rc);
    if ((rc = shmds_pool_create(&where, &scratch, &p->scratch)) != 0)
        return report("parent", "create the scratch pool", rc);
    if ((rc = shmds_bitset_create(&where, &finished, &p->finished)) != 0)
        return report("parent", "create the finished-jobs bit set", rc);
    return tasks_init(&p->tasks);
}

static void pipeline_free(struct pipeline *p)
{
    pipeline_close(p);
    tasks_free(&p->tasks);
    if (p->watch) munmap(p->watch, sizeof *p->watch);
    free(p->workers);
}

/* ------------------------------------------------------------------- tally */

struct tally {
    uint64_t jobs;
    uint64_t received;   /* results popped, whatever they hold */
    uint64_t duplicates; /* a job answered again */
    uint64_t wrong;      /* a step count that differs from the parent's */
    uint64_t malformed;  /* an id or worker index out of range */
    unsigned char *seen; /* one bit per job id */
    uint64_t *per_worker;
    unsigned n_workers;
    /* Per input, computed here and never read from the workers: */
    uint32_t *jobs_of;   /* how many jobs have its payload */
    uint16_t *steps_of;  /* its answer */
    uint32_t inputs_used; /* inputs with at least one job */
};

static int tally_init(struct tally *t, uint64_t jobs, unsigned n_workers)
{
    memset(t, 0, sizeof *t);
    t->jobs = jobs;
    t->n_workers = n_workers;
    t->seen = calloc((size_t)(jobs / 8 + 1), 1);
    t->per_worker = calloc(n_workers, sizeof *t->per_worker);
    t->jobs_of = calloc(INPUTS, sizeof *t->jobs_of);
    t->steps_of = calloc(INPUTS, sizeof *t->steps_of);
    if (!t->seen || !t->per_worker || !t->jobs_of || !t->steps_of) {
        fprintf(stderr, "demo: out of memory for the bitmap of %llu jobs\n",
                (unsigned long long)jobs);
        return -1;
    }
    for (uint64_t id = 0; id < jobs; id++) t->jobs_of[job_input(id)]++;
    for (uint32_t i = 0; i < INPUTS; i++) {
        t->steps_of[i] = (uint16_t)collatz_steps(input_payload(i));
        t->inputs_used += t->jobs_of[i] != 0;
    }
    return 0;
}

static void tally_free(struct tally *t)
{
    free(t->seen);
    free(t->per_worker);
    free(t->jobs_of);
    free(t->steps_of);
}

static void tally_record(struct tally *t, int64_t value)
{
    struct result r = result_decode(value);
    unsigned char bit = (unsigned char)(1u << (r.id & 7));
    t->received++;
    if (value < 0 || r.id >= t->jobs || r.worker >= t->n_workers) {
        t->malformed++;
        return;
    }
    if (t->seen[r.id / 8] & bit) {
        t->duplicates++;
        return;
    }
    t->seen[r.id / 8] |= bit;
    t->per_worker[r.worker]++;
    if (r.steps != t->steps_of[job_input(r.id)]) t->wrong++;
}

static uint64_t tally_missing(const struct tally *t)
{
    uint64_t missing = 0;
    for (uint64_t id = 0; id < t->jobs; id++)
        if (!(t->seen[id / 8] & (1u << (id & 7)))) missing++;
    return missing;
}

/* --------------------------------------------------------- progress reports */

/* The parent's view of the workers' progress, as read from the pubsub ring. */
struct reports {
    shmds_pubsub_sub_t *sub;
    uint64_t *latest;       /* per worker: the count of its newest report */
    unsigned char *closed;  /* per worker: its closing report arrived */
    unsigned n_workers;
    uint64_t done;          /* the sum of latest[] */
    uint64_t messages;
    uint64_t backwards;     /* a count below that worker's previous one */
    uint64_t malformed;     /* a worker index out of range, or a negative value */
};

static int reports_init(struct reports *r, shmds_pubsub_t *ring, unsigned n_workers)
{
    int rc;
    memset(r, 0, sizeof *r);
    r->n_workers = n_workers;
    r->latest = calloc(n_workers, sizeof *r->latest);
    r->closed = calloc(n_workers, 1);
    if (!r->latest || !r->closed) {
        fprintf(stderr, "demo: out of memory for the reports of %u workers\n", n_workers);
        return -1;
    }
    /* From the oldest message held, not just future ones: nothing a worker published
     * before this call is missed. */
    rc = shmds_pubsub_subscribe_all(ring, &r->sub);
    return rc ? report("parent", "subscribe to the progress ring", rc) : 0;
}

static void reports_free(struct reports *r)
{
    shmds_pubsub_sub_close(r->sub);
    free(r->latest);
    free(r->closed);
}

static void reports_record(struct reports *r, int64_t value)
{
    struct report_msg m = report_decode(value);
    r->messages++;
    if (value < 0 || m.worker >= r->n_workers) {
        r->malformed++;
        return;
    }
    /* One worker's reports sit in the ring in the order it published them. */
    if (m.done < r->latest[m.worker]) {
        r->backwards++;
        return;
    }
    r->done += m.done - r->latest[m.worker];
    r->latest[m.worker] = m.done;
    if (m.closing) r->closed[m.worker] = 1;
}

/* Read every report published so far, without waiting; *fresh tells how many. */
static int reports_read(struct reports *r, uint64_t *fresh)
{
    int64_t batch[PROGRESS_READ_BATCH];
    size_t got;
    *fresh = 0;
    do {
        int rc = shmds_pubsub_sub_drain_int(r->sub, batch, PROGRESS_READ_BATCH, &got);
        if (rc) return report("parent", "read progress reports", rc);
        for (size_t i = 0; i < got; i++) reports_record(r, batch[i]);
        *fresh += got;
    } while (got == PROGRESS_READ_BATCH);
    return 0;
}

/* ---------------------------------------------------------------- progress */

struct progress {
    int enabled;
    int tty;               /* redraw one line in place; otherwise print a few lines */
    int line_open;         /* a tty line without its newline yet */
    uint64_t total;
    double start;
    double last_draw;
    uint64_t drawn;        /* the count on the line now */
    uint64_t next_quarter; /* plain output: print when this quarter is reached */
};

static void progress_init(struct progress *pr, const struct options *o, double start)
{
    memset(pr, 0, sizeof *pr);
    pr->enabled = !o->quiet;
    pr->tty = isatty(STDOUT_FILENO);
    pr->total = o->jobs;
    pr->start = start;
    pr->next_quarter = 1;
}

static void progress_draw(struct progress *pr, uint64_t done, double now)
{
    enum { BAR = 20 };
    char bar[BAR + 1], a[32], b[32], c[32];
    size_t fill = (size_t)(done * BAR / pr->total);
    double elapsed = now - pr->start;
    uint64_t rate = elapsed > 0 ? (uint64_t)((double)done / elapsed) : 0;
    unsigned pct = (unsigned)(done * 100 / pr->total);
    memset(bar, '#', fill);
    memset(bar + fill, '.', BAR - fill);
    bar[BAR] = '\0';
    if (pr->tty) {
        printf("\r  [%s] %3u%%  %s / %s jobs  %9s jobs/s", bar, pct, grouped(done, a, sizeof a),
               grouped(pr->total, b, sizeof b), grouped(rate, c, sizeof c));
        pr->line_open = 1;
    } else {
        printf("  %3u%%  %s / %s jobs\n", pct, grouped(done, a, sizeof a),
               grouped(pr->total, b, sizeof b));
    }
    fflush(stdout);
}

static void progress_update(struct progress *pr, uint64_t done)
{
    double now;
    if (!pr->enabled) return;
    /* The counts come from other processes: never let them draw past the bar. */
    if (done > pr->total) done = pr->total;
    now = now_s();
    if (pr->tty) {
        /* The full count is drawn at once, but once only: the reports can come in after
         * the last result, so it may be offered again. */
        if (done < pr->total ? now - pr->last_draw < PROGRESS_INTERVAL_S
                             : pr->line_open && pr->drawn == done)
            return;
        pr->last_draw = now;
        pr->drawn = done;
        progress_draw(pr, done, now);
    } else if (done * 4 >= pr->next_quarter * pr->total) {
        progress_draw(pr, done, now);
        pr->next_quarter = done * 4 / pr->total + 1;
    }
}

/* End the in-place line so that what follows starts on a line of its own. */
static void progress_finish(struct progress *pr)
{
    if (pr->line_open) putchar('\n');
    pr->line_open = 0;
}

/* ------------------------------------------------------------ the pipeline */

/* Push as many of the next jobs as fit right now; *pushed tells how many went in. */
static int feed_jobs(struct pipeline *p, uint64_t *next, uint64_t total, size_t *pushed)
{
    int64_t batch[FEED_BATCH];
    size_t n = 0;
    int rc;
    while (n < FEED_BATCH && *next + n < total) {
        batch[n] = job_encode(*next + n);
        n++;
    }
    *pushed = 0;
    rc = shmds_queue_push_multi_int(p->jobs, batch, n, pushed, SHMDS_NOWAIT);
    if (rc != 0 && rc != -EAGAIN) return report("parent", "push jobs", rc);
    *next += *pushed;
    return 0;
}

/* Take the results that are there, waiting up to wait_ns for the first one. */
static int collect_results(struct pipeline *p, struct tally *t, int64_t wait_ns, size_t *got)
{
    int64_t batch[COLLECT_BATCH];
    int rc = shmds_queue_pop_multi_int(p->results, batch, COLLECT_BATCH, got, wait_ns);
    if (rc == -EAGAIN || rc == -ETIMEDOUT) {
        *got = 0;
        return 0;
    }
    if (rc) return report("parent", "pop results", rc);
    for (size_t i = 0; i < *got; i++) tally_record(t, batch[i]);
    return 0;
}

/*
 * Feed every job and collect one result per job; -1 if the pipeline broke. The progress
 * line follows the workers' published reports, not the results collected here, so that
 * what it shows is what any subscriber of the ring would see.
 */
static int run_jobs(struct pipeline *p, struct tally *t, struct reports *r,
                    struct progress *pr)
{
    uint64_t next = 0;
    double last_result = now_s();
    while (t->received < t->jobs) {
        size_t pushed = 0, got = 0;
        uint64_t fresh = 0;
        if (next < t->jobs && feed_jobs(p, &next, t->jobs, &pushed)) return -1;
        /* Sleep on the results only when no job could be fed. */
        if (collect_results(p, t, pushed ? SHMDS_NOWAIT : COLLECT_WAIT_NS, &got)) return -1;
        if (reports_read(r, &fresh)) return -1;
        if (fresh) progress_update(pr, r->done);
        if (got) {
            last_result = now_s();
        } else if (!pushed) {
            if (workers_lost(p)) return -1;
            if (now_s() - last_result > STALL_LIMIT_S) {
                fprintf(stderr, "demo: no result for %.0f s with %llu of %llu jobs done\n",
                        STALL_LIMIT_S, (unsigned long long)t->received,
                        (unsigned long long)t->jobs);
                return -1;
            }
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- summary */

static void print_banner(const struct options *o)
{
    char a[32];
    printf("libshmds %s demo: %s %s, %u worker %s; queues, barrier, semaphore, pubsub, "
           "hash maps, cache, ring buffer, log, pool, bit sets, heap, graph\n",
           shmds_version(), grouped(o->jobs, a, sizeof a), plural(o->jobs, "job", "jobs"),
           o->workers, plural(o->workers, "process", "processes"));
}

static void print_shares(const struct tally *t)
{
    char a[32], b[32];
    uint64_t lo = UINT64_MAX, hi = 0;
    printf("  per worker ");
    if (t->n_workers <= 8) {
        for (unsigned i = 0; i < t->n_workers; i++)
            printf(" %s", grouped(t->per_worker[i], a, sizeof a));
        printf("\n");
        return;
    }
    for (unsigned i = 0; i < t->n_workers; i++) {
        if (t->per_worker[i] < lo) lo = t->per_worker[i];
        if (t->per_worker[i] > hi) hi = t->per_worker[i];
    }
    printf(" %s to %s\n", grouped(lo, a, sizeof a), grouped(hi, b, sizeof b));
}

/* Called once every worker has ended; 1 if the barrier tripped once and cleanly. */
static int print_barrier(const struct pipeline *p)
{
    uint32_t generation = shmds_barrier_generation(p->start);
    int broken = shmds_barrier_is_broken(p->start);
    if (generation != 1 || broken != 0) {
        printf("  barrier     FAILED: generation %u and %s, where one clean trip was expected\n",
               (unsigned)generation, broken ? "broken" : "not broken");
        return 0;
    }
    printf("  barrier     %u %s and the parent set off together, %.1f ms after the first fork\n",
           p->n_workers, plural(p->n_workers, "worker", "workers"),
           (p->met_at - p->forked_at) * 1e3);
    return 1;
}

/* 1 if the bound held, every job that needed the section entered it once, and every
 * permit came back. */
static int print_section(const struct pipeline *p, uint64_t jobs)
{
    char a[32], b[32];
    const struct section_watch *w = p->watch;
    int64_t most = __atomic_load_n(&w->max_holders, __ATOMIC_SEQ_CST);
    int64_t inside = __atomic_load_n(&w->holders, __ATOMIC_SEQ_CST);
    uint64_t entries = __atomic_load_n(&w->entries, __ATOMIC_SEQ_CST);
    uint64_t needed = (jobs + SECTION_EVERY - 1) / SECTION_EVERY;
    uint32_t free_permits = shmds_semaphore_value(p->section);
    int ok = 1;
    if (most > (int64_t)p->section_bound) {
        printf("  semaphore   FAILED: %lld workers were in the expensive section at once "
               "(bound %u)\n", (long long)most, p->section_bound);
        ok = 0;
    }
    if (entries != needed) {
        printf("  semaphore   FAILED: %s entries to the expensive section for %s jobs "
               "that need it\n", grouped(entries, a, sizeof a), grouped(needed, b, sizeof b));
        ok = 0;
    }
    if (inside != 0 || free_permits != p->section_bound) {
        printf("  semaphore   FAILED: after the workers ended, %lld still counted inside and "
               "%u of %u permits free\n", (long long)inside, (unsigned)free_permits,
               p->section_bound);
        ok = 0;
    }
    if (ok)
        printf("  semaphore   at most %lld of %u %s in the expensive section (bound %u), "
               "%s %s\n", (long long)most, p->n_workers,
               plural(p->n_workers, "worker", "workers"), p->section_bound,
               grouped(entries, a, sizeof a), plural(entries, "entry", "entries"));
    return ok;
}

/* 1 if every worker's last published count equals the results the parent got from it. */
static int print_reports(const struct reports *r, const struct tally *t)
{
    char a[32], c[32];
    unsigned unclosed = 0, mismatched = 0;
    int ok = 1;
    for (unsigned i = 0; i < r->n_workers; i++) {
        if (!r->closed[i]) unclosed++;
        if (r->latest[i] != t->per_worker[i]) mismatched++;
    }
    if (mismatched) {
        printf("  pubsub      FAILED: %u %s published a last count that differs from %s "
               "results\n", mismatched, plural(mismatched, "worker", "workers"),
               plural(mismatched, "its", "their"));
        ok = 0;
    }
    if (unclosed) {
        printf("  pubsub      FAILED: no closing report from %u %s\n", unclosed,
               plural(unclosed, "worker", "workers"));
        ok = 0;
    }
    if (r->backwards || r->malformed) {
        printf("  pubsub      FAILED: %s %s went backwards, %s %s malformed\n",
               grouped(r->backwards, a, sizeof a), plural(r->backwards, "count", "counts"),
               grouped(r->malformed, c, sizeof c),
               plural(r->malformed, "report was", "reports were"));
        ok = 0;
    }
    if (!ok) return 0;
    printf("  pubsub      %s progress reports (%s lapped); each worker's last count "
           "matches its results\n",
           grouped(r->messages, a, sizeof a),
           grouped(shmds_pubsub_sub_overflow_count(r->sub), c, sizeof c));
    return 1;
}

/* A worker total by name; absent (no worker added to it) is 0. */
static int read_total(const struct pipeline *p, const char *name, int64_t *out)
{
    int rc = shmds_hashmap_get_bi(p->totals, name, strlen(name), out);
    if (rc == -ENOENT) *out = 0;
    return rc == -ENOENT ? 0 : rc;
}

/*
 * Called once every worker has ended. 1 if the maps hold exactly what the jobs imply:
 * for every input, the work map's count is its number of jobs and the memo holds its
 * answer (an unused input is in neither, and neither holds anything else); and the
 * workers' totals add up: memo hits plus computations are the jobs, and the memo took
 * exactly one answer per input, however the workers raced.
 */
static int print_maps(const struct pipeline *p, const struct tally *t)
{
    char a[32], b[32], c[32], d[32], e[32];
    uint64_t bad_counts = 0, bad_memo = 0;
    int64_t hits, computed, memoised;
    shmds_hashmap_stats_t memo_stats, work_stats;
    int ok = 1, rc;
    for (uint32_t i = 0; i < INPUTS; i++) {
        int64_t payload = (int64_t)input_payload(i), count = 0, steps = 0;
        rc = shmds_hashmap_get_ii(p->work, payload, &count);
        if (rc != 0 && rc != -ENOENT) return !report("parent", "read the work map", rc);
        if ((rc == 0 ? (uint64_t)count : 0) != t->jobs_of[i]) bad_counts++;
        rc = shmds_hashmap_get_ii(p->memo, payload, &steps);
        if (rc != 0 && rc != -ENOENT) return !report("parent", "read the memo", rc);
        if (t->jobs_of[i] ? rc != 0 || steps != t->steps_of[i] : rc != -ENOENT) bad_memo++;
    }
    memo_stats.struct_size = work_stats.struct_size = sizeof memo_stats;
    if ((rc = shmds_hashmap_stats(p->memo, &memo_stats)) != 0 ||
        (rc = shmds_hashmap_stats(p->work, &work_stats)) != 0)
        return !report("parent", "read the maps' stats", rc);
    if ((rc = read_total(p, TOTAL_HITS, &hits)) != 0 ||
        (rc = read_total(p, TOTAL_COMPUTED, &computed)) != 0 ||
        (rc = read_total(p, TOTAL_MEMOISED, &memoised)) != 0)
        return !report("parent", "read the workers' totals", rc);

    if (bad_counts || bad_memo) {
        printf("  hashmap     FAILED: %s %s a wrong job count, %s a wrong or missing memo "
               "entry\n", grouped(bad_counts, a, sizeof a), plural(bad_counts, "input has",
               "inputs have"), grouped(bad_memo, b, sizeof b));
        ok = 0;
    }
    if (memo_stats.size != t->inputs_used || work_stats.size != t->inputs_used) {
        printf("  hashmap     FAILED: the memo holds %s entries and the work map %s, for %s "
               "inputs\n", grouped(memo_stats.size, a, sizeof a),
               grouped(work_stats.size, b, sizeof b), grouped(t->inputs_used, c, sizeof c));
        ok = 0;
    }
    if (hits < 0 || computed < 0 || (uint64_t)(hits + computed) != t->jobs ||
        memoised != (int64_t)t->inputs_used) {
        printf("  hashmap     FAILED: %s memo hits and %s computations for %s jobs; %s "
               "answers memoised for %s inputs\n", grouped((uint64_t)hits, a, sizeof a),
               grouped((uint64_t)computed, b, sizeof b), grouped(t->jobs, c, sizeof c),
               grouped((uint64_t)memoised, d, sizeof d), grouped(t->inputs_used, e, sizeof e));
        ok = 0;
    }
    if (!ok) return 0;
    printf("  hashmap     %s inputs memoised once each: %s jobs answered from the memo,\n",
           grouped(t->inputs_used, a, sizeof a), grouped((uint64_t)hits, b, sizeof b));
    printf("              %s computed (%s of them twice, by racing workers); every "
           "per-input job count exact\n", grouped((uint64_t)computed, c, sizeof c),
           grouped((uint64_t)(computed - memoised), d, sizeof d));
    return 1;
}

/*
 * The cache stage: every record read was right, the cache answered the rest of the
 * reads, and the store was called once per customer that any job read (the stampede
 * guard: concurrent misses of one customer wait for one call). A page's guard tracks 4
 * fills at once, so with many workers a customer may rarely be fetched twice; that is
 * reported, not failed. 1 if the checks pass.
 */
static int print_cache(const struct pipeline *p, uint64_t jobs)
{
    char a[32], b[32], c[32], d[32];
    shmds_cache_stats_t st;
    uint64_t calls = 0, customers = 0, twice = 0, wanted = 0;
    int rc;
    unsigned char *read = calloc(CUSTOMERS, 1);
    if (!read) return !report("parent", "count the customers read", -ENOMEM);
    for (uint64_t id = 0; id < jobs; id++) {
        unsigned customer = (unsigned)(job_payload(id) % CUSTOMERS);
        if (!read[customer]) wanted++;
        read[customer] = 1;
    }
    for (unsigned i = 0; i < CUSTOMERS; i++) {
        uint64_t n = __atomic_load_n(&p->watch->store_calls[i], __ATOMIC_SEQ_CST);
        calls += n;
        customers += n > 0;
        twice += n > 1;
        if (n > 0 && !read[i]) wanted = UINT64_MAX; /* fetched for no job: a bug */
    }
    free(read);
    st.struct_size = sizeof st;
    if ((rc = shmds_cache_stats(p->records, &st, 0)) != 0)
        return !report("parent", "read the cache's stats", rc);
    if (p->watch->wrong_records || customers != wanted || st.reads != jobs) {
        printf("  cache       FAILED: %s wrong %s; the store served %s customers for %s "
               "wanted; %s cache reads for %s jobs\n",
               grouped(p->watch->wrong_records, a, sizeof a),
               plural(p->watch->wrong_records, "record", "records"),
               grouped(customers, b, sizeof b), grouped(wanted, c, sizeof c),
               grouped(st.reads, d, sizeof d), grouped(jobs, a, sizeof a));
        return 0;
    }
    printf("  cache       %s reads, hit ratio %.2f%%; the slow store was called %s %s for "
           "%s customers",
           grouped(st.reads, a, sizeof a), st.reads ? 100.0 * (double)st.hits / (double)st.reads : 0.0,
           grouped(calls, b, sizeof b), plural(calls, "time", "times"),
           grouped(customers, c, sizeof c));
    if (twice)
        printf(" (%s fetched twice: more than 4 fills at once on one page)\n",
               grouped(twice, d, sizeof d));
    else
        printf(", once each\n");
    return 1;
}

/*
 * The rolling window: the last WINDOW_BATCHES batches any worker handed in. Their rate
 * is the jobs of all but the earliest over the time from the earliest to the latest.
 * Checks that every value is a plausible batch (1 ..= WORKER_BATCH jobs, a time within
 * the run) and that the workers wrote at least one value per WORKER_BATCH jobs (the
 * batches cover every job). 1 if the checks pass.
 */
static int print_window(const struct pipeline *p, uint64_t jobs, double end_s)
{
    char a[32], b[32], c[32];
    int64_t values[WINDOW_BATCHES];
    size_t n = 0;
    int64_t first_us = INT64_MAX, last_us = 0, lo_us = (int64_t)(p->forked_at * 1e6),
            hi_us = (int64_t)(end_s * 1e6) + 1;
    uint64_t in_window = 0, first_size = 0, bad = 0;
    uint64_t written = shmds_ringbuffer_count(p->window);
    int rc = shmds_ringbuffer_to_list_int(p->window, values, NULL, WINDOW_BATCHES, &n);
    if (rc) return !report("parent", "read the throughput window", rc);
    for (size_t i = 0; i < n; i++) {
        int64_t at = values[i] >> WINDOW_SIZE_BITS;
        uint64_t size = (uint64_t)values[i] & ((1u << WINDOW_SIZE_BITS) - 1);
        if (size == 0 || size > WORKER_BATCH || at < lo_us || at > hi_us) bad++;
        in_window += size;
        if (at < first_us) {
            first_us = at;
            first_size = size;
        }
        if (at > last_us) last_us = at;
    }
    if (bad || written < (jobs + WORKER_BATCH - 1) / WORKER_BATCH || written > jobs ||
        n != (written < WINDOW_BATCHES ? written : WINDOW_BATCHES)) {
        printf("  window      FAILED: %s implausible of %zu values; %s batches written for "
               "%s jobs\n", grouped(bad, a, sizeof a), n, grouped(written, b, sizeof b),
               grouped(jobs, c, sizeof c));
        return 0;
    }
    printf("  window      %s batches written by the workers (%s overwritten); the last %zu: ",
           grouped(written, a, sizeof a), grouped(shmds_ringbuffer_overwrites(p->window), b,
                                                     sizeof b), n);
    if (n > 1 && last_us > first_us)
        printf("%s jobs/s rolling\n",
               grouped((uint64_t)((double)(in_window - first_size) * 1e6 /
                                  (double)(last_us - first_us)), c, sizeof c));
    else
        printf("too few for a rate\n");
    return 1;
}

/* The audit log's reading: each entry is one result, whose id is marked in `seen`. */
struct audit_read {
    unsigned char *seen;
    uint64_t jobs, entries, duplicates, malformed;
};

static int audit_entry(const void *data, size_t len, uint64_t offset, void *ctx)
{
    struct audit_read *a = ctx;
    int64_t value;
    struct result r;
    (void)offset;
    a->entries++;
    if (len != sizeof value) {
        a->malformed++;
        return 0;
    }
    memcpy(&value, data, sizeof value);
    r = result_decode(value);
    if (r.id >= a->jobs) {
        a->malformed++;
    } else if (a->seen[r.id / 8] & (1u << (r.id % 8))) {
        a->duplicates++;
    } else {
        a->seen[r.id / 8] |= (unsigned char)(1u << (r.id % 8));
    }
    return 0;
}

/* The audit trail read back from the start: every job exactly once. 1 if it is. */
static int print_audit(const struct pipeline *p, uint64_t jobs)
{
    char a[32], b[32], c[32], d[32];
    struct audit_read ar = {NULL, jobs, 0, 0, 0};
    int64_t visited;
    ar.seen = calloc(jobs / 8 + 1, 1);
    if (!ar.seen) return !report("parent", "read the audit log", -ENOMEM);
    visited = shmds_log_each_entry(p->audit, 0, audit_entry, &ar, NULL);
    free(ar.seen);
    if (visited < 0) return !report("parent", "read the audit log", (int)visited);
    if (ar.entries != jobs || ar.duplicates || ar.malformed ||
        shmds_log_entry_count(p->audit) != jobs) {
        printf("  audit       FAILED: %s entries for %s jobs, %s twice, %s malformed\n",
               grouped(ar.entries, a, sizeof a), grouped(jobs, b, sizeof b),
               grouped(ar.duplicates, c, sizeof c), grouped(ar.malformed, d, sizeof d));
        return 0;
    }
    printf("  audit       the log holds %s entries (%s bytes): every job exactly once\n",
           grouped(ar.entries, a, sizeof a), grouped(shmds_log_data_size(p->audit), b, sizeof b));
    return 1;
}

/* Every scratch slot came back once the workers ended, and none had to be reclaimed from
 * a dead worker. 1 if so. */
static int print_scratch(const struct pipeline *p)
{
    shmds_pool_stats_t st;
    int rc;
    st.struct_size = sizeof st;
    if ((rc = shmds_pool_stats(p->scratch, &st)) != 0)
        return !report("parent", "read the scratch pool's stats", rc);
    if (st.used != 0 || st.recoveries != 0) {
        printf("  pool        FAILED: %llu of %llu scratch slots still taken after the workers "
               "ended, %llu reclaimed\n", (unsigned long long)st.used,
               (unsigned long long)st.capacity, (unsigned long long)st.recoveries);
        return 0;
    }
    printf("  pool        every batch answered in a scratch slot; all %llu slots back at "
           "the end\n", (unsigned long long)st.capacity);
    return 1;
}

/* The workers' finished bits are exactly the jobs the parent received. 1 if so. */
static int print_finished(const struct pipeline *p, const struct tally *t)
{
    char a[32], b[32], c[32];
    uint64_t differ = 0, twice = __atomic_load_n(&p->watch->finished_twice, __ATOMIC_SEQ_CST);
    uint64_t set = shmds_bitset_count(p->finished);
    for (uint64_t id = 0; id < t->jobs; id++) {
        int bit = shmds_bitset_test(p->finished, id);
        if (bit < 0) return !report("parent", "test a finished bit", bit);
        differ += bit != !!(t->seen[id / 8] & (1u << (id & 7)));
    }
    if (differ || twice || set != t->jobs - tally_missing(t)) {
        printf("  bitset      FAILED: %s bits differ from the results received, %s set "
               "twice, %s set\n", grouped(differ, a, sizeof a), grouped(twice, b, sizeof b),
               grouped(set, c, sizeof c));
        return 0;
    }
    printf("  bitset      %s finished bits set by the workers, exactly the jobs received\n",
           grouped(set, a, sizeof a));
    return 1;
}

/* Print the figures and the verdict; 0 only if every job was done once and right and
 * every check of the barrier, semaphore, pubsub, hash maps, cache, window, audit log,
 * pool, bit set and task graph passed. */
static int print_summary(const struct pipeline *p, const struct tally *t,
                         const struct reports *r, double elapsed)
{
    char a[32], b[32], c[32], d[32];
    uint64_t missing = tally_missing(t);
    uint64_t rate = elapsed > 0 ? (uint64_t)((double)t->jobs / elapsed) : 0;
    int jobs_ok = !missing && !t->duplicates && !t->wrong && !t->malformed;
    int barrier_ok, section_ok, reports_ok, maps_ok, cache_ok, window_ok, audit_ok;
    int scratch_ok, finished_ok, tasks_ok;
    printf("  jobs        %s by %u %s\n", grouped(t->jobs, a, sizeof a), t->n_workers,
           plural(t->n_workers, "worker", "workers"));
    printf("  elapsed     %.3f s\n", elapsed);
    printf("  throughput  %s jobs/s\n", grouped(rate, a, sizeof a));
    print_shares(t);
    barrier_ok = print_barrier(p);
    section_ok = print_section(p, t->jobs);
    reports_ok = print_reports(r, t);
    maps_ok = print_maps(p, t);
    cache_ok = print_cache(p, t->jobs);
    window_ok = print_window(p, t->jobs, now_s());
    audit_ok = print_audit(p, t->jobs);
    scratch_ok = print_scratch(p);
    finished_ok = print_finished(p, t);
    tasks_ok = tasks_print(&p->tasks);
    if (!jobs_ok)
        printf("  check       FAILED: %s missing, %s done twice, %s wrong, %s malformed\n",
               grouped(missing, a, sizeof a), grouped(t->duplicates, b, sizeof b),
               grouped(t->wrong, c, sizeof c), grouped(t->malformed, d, sizeof d));
    else if (!barrier_ok || !section_ok || !reports_ok || !maps_ok || !cache_ok || !window_ok ||
             !audit_ok || !scratch_ok || !finished_ok || !tasks_ok)
        printf("  check       FAILED: every job done exactly once and right, but see above\n");
    else
        printf("  check       OK: every job done exactly once, every result correct, "
               "every bound kept\n");
    return jobs_ok && barrier_ok && section_ok && reports_ok && maps_ok && cache_ok &&
                   window_ok && audit_ok && scratch_ok && finished_ok && tasks_ok
               ? 0
               : 1;
}

/* -------------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    struct options o;
    struct pipeline p;
    struct tally t;
    struct reports r;
    struct progress pr;
    double start, elapsed;
    uint64_t fresh;
    int failed;
    int rc = parse_options(argc, argv, &o);
    if (rc) return rc > 0 ? 0 : 2;
    /* Zeroed first, so the clean-up below is right whichever step fails. */
    memset(&p, 0, sizeof p);
    memset(&t, 0, sizeof t);
    memset(&r, 0, sizeof r);

    failed = pipeline_init(&p, o.workers, o.jobs) != 0;
    if (!failed) failed = tally_init(&t, o.jobs, o.workers) != 0;
    if (!failed) failed = reports_init(&r, p.progress, o.workers) != 0;
    if (!failed && !o.quiet) print_banner(&o);
    if (!failed) failed = start_workers(&p) != 0;
    if (!failed) failed = start_together(&p) != 0;

    start = now_s();
    progress_init(&pr, &o, start);
    if (!failed) failed = run_jobs(&p, &t, &r, &pr) != 0;
    elapsed = now_s() - start;

    if (failed) {
        progress_finish(&pr);
        reap_all(&p, 0.0);
        fprintf(stderr, "demo: FAILED after %llu of %llu results\n",
                (unsigned long long)t.received, (unsigned long long)o.jobs);
    } else {
        failed = stop_workers(&p);
        /* Every worker has ended, so every report, closing ones included, is in. */
        failed |= reports_read(&r, &fresh);
        progress_update(&pr, r.done);
        progress_finish(&pr);
        failed |= print_summary(&p, &t, &r, elapsed);
    }
    reports_free(&r);
    tally_free(&t);
    pipeline_free(&p);
    return failed ? 1 : 0;
}
