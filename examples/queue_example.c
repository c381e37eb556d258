/*
 * A libshmds queue from C: a file-backed queue under /dev/shm, a forked child that
 * attaches to it by path (as any other process could) and pushes three jobs, a parent
 * that pops them, and clean-up.
 *
 *   cc queue_example.c $(pkg-config --cflags --libs shmds)
 */
#include <shmds/shmds.h>

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static int fail(const char *what, int rc)
{
    fprintf(stderr, "%s: %s: %s\n", what, shmds_errname(rc), shmds_last_error());
    return 1;
}

/* The child's whole job: open the queue by its path and push jobs 1, 2, 3. */
static int produce(const char *path)
{
    shmds_options_t where = SHMDS_OPTIONS_INIT;
    where.backing = SHMDS_BACKING_PATH;
    where.name = path;
    shmds_queue_t *q;
    int rc = shmds_queue_open(&where, SHMDS_QUEUE_INT64, &q);
    if (rc) return fail("child: open", rc);
    for (int64_t job = 1; job <= 3 && rc == 0; job++)
        rc = shmds_queue_push_int(q, job, SHMDS_FOREVER);
    shmds_queue_close(q);
    return rc ? fail("child: push", rc) : 0;
}

/* Pop the three jobs, in order, waiting at most 2 s for each. */
static int consume(shmds_queue_t *q)
{
    for (int64_t expected = 1; expected <= 3; expected++) {
        int64_t job;
        int rc = shmds_queue_pop_int(q, &job, 2000000000 /* ns */);
        if (rc) return fail("pop", rc);
        if (job != expected) {
            fprintf(stderr, "pop: expected job %lld, got %lld\n", (long long)expected,
                    (long long)job);
            return 1;
        }
        printf("got job %lld\n", (long long)job);
    }
    return 0;
}

int main(void)
{
    char path[64];
    snprintf(path, sizeof path, "/dev/shm/shmds-example-%d", (int)getpid());

    shmds_options_t where = SHMDS_OPTIONS_INIT;
    where.backing = SHMDS_BACKING_PATH;   /* or ANON, MEMFD, FD */
    where.name = path;
    where.flags = SHMDS_EXCL;             /* refuse to attach to someone else's file */
    shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(SHMDS_QUEUE_INT64, 1024);

    shmds_queue_t *q;
    int rc = shmds_queue_create(&where, &cfg, &q);
    if (rc) return fail("create", rc);

    pid_t child = fork();
    if (child == 0) _exit(produce(path));
    int failed = child < 0 ? (perror("fork"), 1) : consume(q);

    int status = 0;
    if (child > 0 && waitpid(child, &status, 0) == child &&
        !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        failed = 1;
    shmds_queue_close(q);
    shmds_unlink(path);   /* the file lives on until it is removed */
    return failed;
}
