/*
 * A libshmds cache from C, set up as a Cache::FastMmap user sets it up in a preforking
 * server. The Perl it replaces:
 *
 *   my $cache = Cache::FastMmap->new(share_file => '/dev/shm/app.cache',
 *       cache_size => '10m', expire_time => '10m', unlink_on_exit => 1);
 *   # in each forked worker:
 *   my $profile = $cache->get($user) // do { my $p = load($user); $cache->set($user, $p); $p };
 *
 * The parent creates the cache; forked workers share it through their inherited handle
 * (a child's close never unlinks: only the creating process honours unlink_on_exit);
 * the parent reads the hit statistics and its close removes the file.
 *
 *   cc cache_example.c $(pkg-config --cflags --libs shmds)
 */
#include <shmds/shmds.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WORKERS 3
#define REQUESTS 100
#define USERS 10

static int fail(const char *what, int rc)
{
    fprintf(stderr, "%s: %s: %s\n", what, shmds_errname(rc), shmds_last_error());
    return 1;
}

/* A worker: REQUESTS lookups, each a cache hit or a slow "load" stored for the others. */
static int serve(shmds_cache_t *cache)
{
    for (int n = 0; n < REQUESTS; n++) {
        char user[32], profile[64];
        size_t len;
        snprintf(user, sizeof user, "user:%d", n % USERS);
        int rc = shmds_cache_get(cache, user, strlen(user), profile, sizeof profile, &len);
        if (rc == -ENOENT) {  /* a miss: load it and cache it for every process */
            len = (size_t)snprintf(profile, sizeof profile, "profile of %s", user);
            rc = shmds_cache_set(cache, user, strlen(user), profile, len,
                                 SHMDS_CACHE_EXPIRE_DEFAULT);  /* the cache's 10 minutes */
        }
        if (rc) return fail("worker", rc);
    }
    shmds_cache_close(cache);  /* a fork child: its close leaves the file alone */
    return 0;
}

int main(void)
{
    char path[64];
    snprintf(path, sizeof path, "/dev/shm/shmds-cache-example-%d", (int)getpid());
    shmds_options_t where = SHMDS_OPTIONS_INIT;
    where.backing = SHMDS_BACKING_PATH;
    where.name = path;
    where.mode = 0640;                              /* permissions => 0640 */
    shmds_cache_config_t cfg = SHMDS_CACHE_CONFIG_INIT;
    cfg.cache_size = 10u << 20;                     /* cache_size => '10m' */
    cfg.default_expire_ms = 10 * 60 * 1000;         /* expire_time => '10m' */
    cfg.lifecycle = SHMDS_CACHE_UNLINK_ON_EXIT;     /* unlink_on_exit => 1 */

    shmds_cache_t *cache;
    int rc = shmds_cache_create(&where, &cfg, &cache);
    if (rc) return fail("create", rc);

    int failed = 0;
    for (int i = 0; i < WORKERS; i++) {
        pid_t child = fork();
        if (child == 0) _exit(serve(cache));
        if (child < 0) failed = (perror("fork"), 1);
    }
    int status;
    while (wait(&status) > 0)
        if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) failed = 1;

    /* get_statistics: each user was loaded at most once per worker that raced on it. */
    shmds_cache_stats_t st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;                     /* the fields this program knows */
    rc = shmds_cache_stats(cache, &st, 0);
    if (rc) return fail("stats", rc);
    printf("%llu reads, %llu hits (%.0f%%), %llu items in %llu pages of %llu KiB\n",
           (unsigned long long)st.reads, (unsigned long long)st.hits,
           100.0 * (double)st.hits / (double)st.reads, (unsigned long long)st.items,
           (unsigned long long)st.num_pages, (unsigned long long)(st.page_size / 1024));
    if (st.reads != WORKERS * REQUESTS || st.hits < st.reads - WORKERS * USERS ||
        st.items != USERS)
        failed = 1;

    /* set($k, $v, 'now') stores an item that is already expired. */
    rc = shmds_cache_set(cache, "flash", 5, "gone", 4, SHMDS_CACHE_EXPIRE_NOW);
    if (rc) return fail("set", rc);
    if (shmds_cache_exists(cache, "flash", 5) != 0) failed = 1;

    shmds_cache_close(cache);                       /* the creator: the file goes */
    if (access(path, F_OK) == 0) {
        fprintf(stderr, "%s is still there\n", path);
        shmds_unlink(path);
        failed = 1;
    }
    return failed;
}
