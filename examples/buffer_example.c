/*
 * A buffer filled by one process and summed by another: the producer writes 10000
 * samples as one bulk write (readers never see half of it) and notifies; the consumer
 * waits on the eventfd, then sums the samples through a read batch over the zero-copy
 * pointer (retrying if a write overlapped its reads) and checks the sum.
 *
 *   cc buffer_example.c $(pkg-config --cflags --libs shmds)
 */
#include <shmds/buffer.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define N 10000

static int fail(const char *what, int rc) {
    fprintf(stderr, "%s: %s (%s)\n", what, shmds_errname(rc), shmds_last_error());
    return 1;
}

int main(void) {
    shmds_buffer_config_t cfg = SHMDS_BUFFER_CONFIG_INIT(SHMDS_TYPE_F64, N, 0);
    shmds_buffer_t *buf = NULL;
    int rc = shmds_buffer_create(NULL, &cfg, &buf); /* anonymous: shared with children */
    if (rc) return fail("shmds_buffer_create", rc);
    int efd = shmds_buffer_eventfd(buf); /* made before fork: both sides share it */
    if (efd < 0) return fail("shmds_buffer_eventfd", efd);

    pid_t pid = fork();
    if (pid == 0) { /* the consumer */
        struct pollfd p = {efd, POLLIN, 0};
        if (poll(&p, 1, 10000) != 1) _exit(2);
        shmds_buffer_eventfd_consume(buf, NULL);
        double sum;
        for (;;) {
            const void *data;
            uint64_t seq;
            if ((rc = shmds_buffer_read_begin(buf, &data, &seq, SHMDS_FOREVER))) _exit(fail("read_begin", rc));
            const double *v = data;
            sum = 0;
            for (int i = 0; i < N; ++i) sum += v[i];
            if (shmds_buffer_read_end(buf, seq) == 0) break; /* consistent */
        }
        printf("consumer: sum of %d samples = %.1f\n", N, sum);
        _exit(sum == (double)N * (N - 1) / 2 ? 0 : 3);
    }

    /* the producer: fill the samples 0, 1, ..., N-1 as one bulk write */
    double *samples = malloc(sizeof(double) * N);
    for (int i = 0; i < N; ++i) samples[i] = i;
    if ((rc = shmds_buffer_set_slice_f64(buf, 0, samples, N, SHMDS_FOREVER)))
        return fail("shmds_buffer_set_slice_f64", rc);
    free(samples);
    if ((rc = shmds_buffer_notify(buf))) return fail("shmds_buffer_notify", rc);
    printf("producer: wrote %d samples\n", N);

    int status = 0;
    waitpid(pid, &status, 0);
    shmds_buffer_close(buf);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
