/*
 * libshmds demo: a multi-process job pipeline.
 *
 * The parent creates two queues in shared memory, forks a pool of workers, and feeds
 * jobs into the first queue while it collects results from the second. Each job carries
 * an id and a payload; a worker counts the Collatz steps of the payload and reports
 * (id, steps, worker). The parent checks every result against its own computation and
 * keeps a bitmap of the ids it has seen, so it can tell that every job was done exactly
 * once. The exit status is 0 only if every check passes.
 *
 *   demo [--workers N] [--jobs N] [--quiet]
 *
 * Only the public C API (<shmds/shmds.h>) is used: this is what a user's program looks
 * like. Each stage is its own small function so that more structures can join later.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getaffinity, prctl */
#endif

#include <shmds/shmds.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* ------------------------------------------------------------- job encoding */

/*
 * A job is one int64: the id in the low 32 bits, the payload above it. A result is the
 * id, the step count in bits 32..47 and the worker's index in bits 48..61. Both stay
 * non-negative, which leaves -1 free to mean "stop".
 */
#define STOP_JOB ((int64_t)-1)
#define ID_MASK 0xffffffffu

static uint64_t job_payload(uint64_t id)
{
    /* splitmix64: deterministic, so the parent can recompute every answer. */
    uint64_t z = id + UINT64_C(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    z ^= z >> 31;
    /* Up to 2^24 keeps every Collatz path far below 2^64 and under 1000 steps. */
    return (z & 0xffffffu) + 1;
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

static int64_t do_job(int64_t job, unsigned worker)
{
    uint64_t id = (uint64_t)job & ID_MASK;
    uint64_t steps = collatz_steps((uint64_t)job >> 32);
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

/* ------------------------------------------------------------------ helpers */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Print a library failure the way every caller should: name of the code and sentence. */
static int report(const char *who, const char *what, int rc)
{
    fprintf(stderr, "demo: %s: %s failed: %s: %s\n", who, what, shmds_errname(rc),
            shmds_last_error());
    return 1;
}

/* 1234567 -> "1,234,567" into buf. */
static const char *grouped(uint64_t v, char *buf, size_t size)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    size_t out = 0;
    for (int i = 0; i < n && out + 2 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0) buf[out++] = ',';
        buf[out++] = digits[i];
    }
    buf[out] = '\0';
    return buf;
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

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

struct pipeline {
    shmds_queue_t *jobs;
    shmds_queue_t *results;
    struct worker *workers;
    unsigned n_workers;
    unsigned started;
};

/* Pop jobs, answer them, until the stop job arrives. Returns the exit status. */
static int worker_main(struct pipeline *p, unsigned index)
{
    char who[32];
    snprintf(who, sizeof who, "worker %u", index);
    for (;;) {
        int64_t jobs[WORKER_BATCH], results[WORKER_BATCH];
        size_t got = 0, answered = 0, pushed = 0;
        int stop = 0;
        int rc = shmds_queue_pop_multi_int(p->jobs, jobs, WORKER_BATCH, &got, SHMDS_FOREVER);
        if (rc) return report(who, "pop jobs", rc);
        for (size_t i = 0; i < got; i++) {
            if (jobs[i] == STOP_JOB)
                stop = 1;
            else
                results[answered++] = do_job(jobs[i], index);
        }
        if (answered) {
            rc = shmds_queue_push_multi_int(p->results, results, answered, &pushed,
                                            SHMDS_FOREVER);
            if (rc) return report(who, "push results", rc);
        }
        if (stop) {
            /* One stop job serves the whole pool: pass it on to the next worker. */
            rc = shmds_queue_push_int(p->jobs, STOP_JOB, SHMDS_FOREVER);
            return rc ? report(who, "pass on the stop job", rc) : 0;
        }
    }
}

static void run_worker(struct pipeline *p, unsigned index, pid_t parent)
{
    /* Nobody would ever send the stop job to a worker whose parent was killed. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(1);
    int status = worker_main(p, index);
    shmds_queue_close(p->jobs);
    shmds_queue_close(p->results);
    _exit(status);
}

static int start_workers(struct pipeline *p)
{
    pid_t parent = getpid();
    /* Anything still buffered would otherwise be printed once more by every child. */
    fflush(stdout);
    fflush(stderr);
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

static int pipeline_init(struct pipeline *p, unsigned n_workers)
{
    /* Anonymous shared memory: the workers inherit both queues through fork(), and the
     * memory goes away with the last process. Nothing to name, nothing to clean up. */
    shmds_options_t where = SHMDS_OPTIONS_INIT;
    shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(SHMDS_QUEUE_INT64, QUEUE_CAPACITY);
    int rc;
    memset(p, 0, sizeof *p);
    p->n_workers = n_workers;
    p->workers = calloc(n_workers, sizeof *p->workers);
    if (!p->workers) {
        fprintf(stderr, "demo: out of memory for %u workers\n", n_workers);
        return -1;
    }
    if ((rc = shmds_queue_create(&where, &cfg, &p->jobs)) != 0)
        return report("parent", "create the jobs queue", rc);
    if ((rc = shmds_queue_create(&where, &cfg, &p->results)) != 0)
        return report("parent", "create the results queue", rc);
    return 0;
}

static void pipeline_free(struct pipeline *p)
{
    shmds_queue_close(p->jobs);
    shmds_queue_close(p->results);
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
};

static int tally_init(struct tally *t, uint64_t jobs, unsigned n_workers)
{
    memset(t, 0, sizeof *t);
    t->jobs = jobs;
    t->n_workers = n_workers;
    t->seen = calloc((size_t)(jobs / 8 + 1), 1);
    t->per_worker = calloc(n_workers, sizeof *t->per_worker);
    if (!t->seen || !t->per_worker) {
        fprintf(stderr, "demo: out of memory for the bitmap of %llu jobs\n",
                (unsigned long long)jobs);
        return -1;
    }
    return 0;
}

static void tally_free(struct tally *t)
{
    free(t->seen);
    free(t->per_worker);
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
    if (r.steps != collatz_steps(job_payload(r.id))) t->wrong++;
}

static uint64_t tally_missing(const struct tally *t)
{
    uint64_t missing = 0;
    for (uint64_t id = 0; id < t->jobs; id++)
        if (!(t->seen[id / 8] & (1u << (id & 7)))) missing++;
    return missing;
}

/* ---------------------------------------------------------------- progress */

struct progress {
    int enabled;
    int tty;               /* redraw one line in place; otherwise print a few lines */
    int line_open;         /* a tty line without its newline yet */
    uint64_t total;
    double start;
    double last_draw;
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
    now = now_s();
    if (pr->tty) {
        if (done < pr->total && now - pr->last_draw < PROGRESS_INTERVAL_S) return;
        pr->last_draw = now;
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

/* Feed every job and collect one result per job; -1 if the pipeline broke. */
static int run_jobs(struct pipeline *p, struct tally *t, struct progress *pr)
{
    uint64_t next = 0;
    double last_result = now_s();
    while (t->received < t->jobs) {
        size_t pushed = 0, got = 0;
        if (next < t->jobs && feed_jobs(p, &next, t->jobs, &pushed)) return -1;
        /* Sleep on the results only when no job could be fed. */
        if (collect_results(p, t, pushed ? SHMDS_NOWAIT : COLLECT_WAIT_NS, &got)) return -1;
        if (got) {
            last_result = now_s();
            progress_update(pr, t->received);
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
    printf("libshmds %s demo: %s %s, %u worker %s, shared-memory queues\n",
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

/* Print the figures and the verdict; 0 only if every job was done once and right. */
static int print_summary(const struct tally *t, double elapsed)
{
    char a[32], b[32], c[32], d[32];
    uint64_t missing = tally_missing(t);
    uint64_t rate = elapsed > 0 ? (uint64_t)((double)t->jobs / elapsed) : 0;
    int ok = !missing && !t->duplicates && !t->wrong && !t->malformed;
    printf("  jobs        %s by %u %s\n", grouped(t->jobs, a, sizeof a), t->n_workers,
           plural(t->n_workers, "worker", "workers"));
    printf("  elapsed     %.3f s\n", elapsed);
    printf("  throughput  %s jobs/s\n", grouped(rate, a, sizeof a));
    print_shares(t);
    if (ok)
        printf("  check       OK: every job done exactly once, every result correct\n");
    else
        printf("  check       FAILED: %s missing, %s done twice, %s wrong, %s malformed\n",
               grouped(missing, a, sizeof a), grouped(t->duplicates, b, sizeof b),
               grouped(t->wrong, c, sizeof c), grouped(t->malformed, d, sizeof d));
    return ok ? 0 : 1;
}

/* -------------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    struct options o;
    struct pipeline p;
    struct tally t;
    struct progress pr;
    double start, elapsed;
    int failed;
    int rc = parse_options(argc, argv, &o);
    if (rc) return rc > 0 ? 0 : 2;
    /* Zeroed first, so the clean-up below is right whichever step fails. */
    memset(&p, 0, sizeof p);
    memset(&t, 0, sizeof t);

    failed = pipeline_init(&p, o.workers) != 0;
    if (!failed) failed = tally_init(&t, o.jobs, o.workers) != 0;
    if (!failed && !o.quiet) print_banner(&o);
    if (!failed) failed = start_workers(&p) != 0;

    start = now_s();
    progress_init(&pr, &o, start);
    if (!failed) failed = run_jobs(&p, &t, &pr) != 0;
    elapsed = now_s() - start;
    progress_finish(&pr);

    if (failed) {
        reap_all(&p, 0.0);
        fprintf(stderr, "demo: FAILED after %llu of %llu results\n",
                (unsigned long long)t.received, (unsigned long long)o.jobs);
    } else {
        failed = stop_workers(&p);
        failed |= print_summary(&t, elapsed);
    }
    tally_free(&t);
    pipeline_free(&p);
    return failed ? 1 : 0;
}
