/*
 * A libshmds pool from C: a pool of int32 slots shared with forked workers. Each worker
 * allocates a slot, writes a number into it and keeps it; the parent then sorts the
 * slots in place with qsort() through shmds_pool_data_ptr() (slots are contiguous:
 * slot i is at data_ptr + i * elem_size), checks the order, and frees everything.
 *
 *   cc pool_example.c $(pkg-config --cflags --libs shmds)
 */
#include <shmds/shmds.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { WORKERS = 8 };

static int fail(const char *what, int rc)
{
    fprintf(stderr, "%s: %s: %s\n", what, shmds_errname(rc), shmds_last_error());
    return 1;
}

static int by_value(const void *a, const void *b)
{
    const int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* A worker: take a slot (waiting up to a second if all are taken) and fill it. */
static int work(shmds_pool_t *pool, int n)
{
    uint64_t slot;
    int rc = shmds_pool_alloc(pool, 1000000000, &slot);
    if (rc) return fail("worker: alloc", rc);
    rc = shmds_pool_set_int(pool, slot, (int64_t)((n * 7919) % 101) - 50);
    return rc ? fail("worker: set", rc) : 0;
}

int main(void)
{
    /* Anonymous memory: shared with the children fork() makes. */
    shmds_pool_config_t cfg = SHMDS_POOL_CONFIG_INIT(SHMDS_TYPE_INT32, WORKERS, 0);
    shmds_pool_t *pool;
    int rc = shmds_pool_create(NULL, &cfg, &pool);
    if (rc) return fail("create", rc);

    for (int n = 0; n < WORKERS; n++) {
        pid_t pid = fork();
        if (pid == 0) _exit(work(pool, n));
        if (pid < 0) return fail("fork", -1);
    }
    int bad = 0;
    for (int n = 0; n < WORKERS; n++) {
        int status;
        if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) bad = 1;
    }
    if (bad || shmds_pool_used(pool) != WORKERS) {
        fprintf(stderr, "a worker failed (%llu slots in use)\n",
                (unsigned long long)shmds_pool_used(pool));
        return 1;
    }

    /* Zero-copy: the data area is an int32_t array of capacity elements. */
    int32_t *values = shmds_pool_data_ptr(pool);
    qsort(values, (size_t)shmds_pool_capacity(pool), (size_t)shmds_pool_elem_size(pool),
          by_value);
    printf("sorted:");
    for (uint64_t i = 0; i < shmds_pool_capacity(pool); i++) {
        int64_t v;
        if ((rc = shmds_pool_get_int(pool, i, &v))) return fail("get", rc);
        if (i > 0 && values[i - 1] > values[i]) {
            fprintf(stderr, "not sorted at %llu\n", (unsigned long long)i);
            return 1;
        }
        printf(" %lld", (long long)v);
    }
    printf("\n");

    /* The workers have exited, so their slots may also come back by themselves (a
     * dead owner's slot is reclaimed); here the parent simply frees them all. */
    uint64_t freed;
    if ((rc = shmds_pool_reset(pool, &freed))) return fail("reset", rc);
    printf("freed %llu slots\n", (unsigned long long)freed);
    shmds_pool_close(pool);
    return freed == WORKERS ? 0 : 1;
}
