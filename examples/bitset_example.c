/*
 * A libshmds bit set from C: "job N is done" marks shared by processes. Three forked
 * workers race through the same 1000 jobs; set() returns the OLD bit, so exactly one of
 * them sees 0 for each job and does it. The parent then checks that every job is marked
 * and was done exactly once, freezes the set, and reads it through a read-only handle.
 *
 *   cc bitset_example.c $(pkg-config --cflags --libs shmds)
 */
#include <shmds/shmds.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

enum { kJobs = 1000, kWorkers = 3 };

static int fail(const char *what, int rc)
{
    fprintf(stderr, "%s: %s: %s\n", what, shmds_errname(rc), shmds_last_error());
    return 1;
}

/* A worker: claim every job it finds unclaimed; done[job] counts who did it. */
static int work(shmds_bitset_t *marks, int worker, unsigned *done)
{
    for (uint64_t i = 0; i < kJobs; i++) {
        uint64_t job = (i * 7 + (uint64_t)worker * 333) % kJobs; /* each its own order */
        int old = shmds_bitset_set(marks, job);
        if (old < 0) return fail("worker: set", old);
        if (old == 0) __atomic_fetch_add(&done[job], 1, __ATOMIC_RELAXED); /* ours */
    }
    return 0;
}

int main(void)
{
    char path[64];
    snprintf(path, sizeof path, "/dev/shm/shmds-bitset-example-%d", (int)getpid());
    shmds_options_t where = SHMDS_OPTIONS_INIT;
    where.backing = SHMDS_BACKING_PATH;
    where.name = path;
    shmds_bitset_config_t cfg = SHMDS_BITSET_CONFIG_INIT(kJobs);
    shmds_bitset_t *marks;
    int rc = shmds_bitset_create(&where, &cfg, &marks);
    if (rc) return fail("create", rc);

    /* Who did each job, in memory the workers share with us. */
    unsigned *done = mmap(NULL, kJobs * sizeof *done, PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (done == MAP_FAILED) return 1;
    for (int w = 0; w < kWorkers; w++)
        if (fork() == 0) _exit(work(marks, w, done));
    int status, bad = 0;
    while (wait(&status) > 0) bad |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;

    uint64_t first_clear;
    if (shmds_bitset_count(marks) != kJobs ||
        shmds_bitset_first_clear(marks, 0, &first_clear) != -ENOENT)
        bad = 1;
    for (int job = 0; job < kJobs; job++) bad |= done[job] != 1;
    printf("%llu of %d jobs marked, each done exactly once: %s\n",
           (unsigned long long)shmds_bitset_count(marks), kJobs, bad ? "NO" : "yes");

    /* Seal the result; a read-only handle (PROT_READ) still reads it. */
    if ((rc = shmds_bitset_freeze(marks))) return fail("freeze", rc);
    shmds_bitset_t *view;
    if ((rc = shmds_bitset_open_read_only(&where, &view))) return fail("open_read_only", rc);
    printf("frozen: %d; set() through the read-only handle: %s\n", shmds_bitset_is_frozen(view),
           shmds_errname(shmds_bitset_set(view, 0)));
    shmds_bitset_close(view);
    shmds_bitset_close(marks);
    unlink(path);
    return bad;
}
