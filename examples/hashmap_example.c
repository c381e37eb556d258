/*
 * A libshmds hash map from C: a file-backed map under /dev/shm of bytes keys and int64
 * values, four forked processes counting page hits in it at once, and a lock-free read
 * of the exact total.
 *
 *   cc hashmap_example.c $(pkg-config --cflags --libs shmds)
 */
#include <shmds/shmds.h>

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define COUNTERS 4
#define HITS_EACH 1000

static int fail(const char *what, int rc)
{
    fprintf(stderr, "%s: %s: %s\n", what, shmds_errname(rc), shmds_last_error());
    return 1;
}

/* A counting process: HITS_EACH increments of one key. */
static int count_hits(shmds_hashmap_t *m, const char *page)
{
    for (int n = 0; n < HITS_EACH; n++) {
        int64_t now;
        int rc = shmds_hashmap_incr_b(m, page, strlen(page), &now);  /* a missing key starts at 0 */
        if (rc) return fail("child: incr", rc);
    }
    return 0;
}

int main(void)
{
    char path[64];
    snprintf(path, sizeof path, "/dev/shm/shmds-map-example-%d", (int)getpid());

    shmds_options_t where = SHMDS_OPTIONS_INIT;
    where.backing = SHMDS_BACKING_PATH;   /* or ANON, MEMFD, FD */
    where.name = path;
    where.flags = SHMDS_EXCL;
    shmds_hashmap_config_t cfg =
        SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_BYTES, SHMDS_TYPE_INT64, 100000);

    shmds_hashmap_t *m;
    int rc = shmds_hashmap_create(&where, &cfg, &m);
    if (rc) return fail("create", rc);

    const char *page = "/index.html";
    int failed = 0;
    for (int i = 0; i < COUNTERS; i++) {
        pid_t child = fork();
        if (child == 0) _exit(count_hits(m, page));
        if (child < 0) failed = (perror("fork"), 1);
    }
    int status;
    while (wait(&status) > 0)
        if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) failed = 1;

    int64_t hits = 0;
    rc = shmds_hashmap_get_bi(m, page, strlen(page), &hits);   /* takes no lock */
    if (rc) failed = fail("get", rc);
    else printf("%s: %lld hits\n", page, (long long)hits);
    if (hits != COUNTERS * HITS_EACH) failed = 1;               /* exact, never approximate */

    shmds_hashmap_close(m);
    shmds_unlink(path);
    return failed;
}
