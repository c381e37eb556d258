// The "unrelated process" of the descriptor-passing test (test_core): started with
// posix_spawn, it shares nothing with the test but a Unix socket path. It receives a
// memfd queue's descriptor, attaches with SHMDS_BACKING_FD, pops every item the test
// pushed and pushes back their sum.
//
//   fd_receiver <socket path> <items to pop>
//
// Exit 0 on success; otherwise a sentence on stderr and a non-zero code.
#include <shmds/shmds.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace {

int die(const char *what, int code) {
    std::fprintf(stderr, "fd_receiver: %s: %s (%s)\n", what, shmds_errname(code),
                 shmds_last_error());
    return 1;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: fd_receiver <socket path> <items to pop>\n");
        return 2;
    }
    // Never outlive a test that died before sending.
    alarm(20);
    const long items = std::strtol(argv[2], nullptr, 10);

    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (sock < 0 || std::strlen(argv[1]) >= sizeof addr.sun_path) {
        std::fprintf(stderr, "fd_receiver: cannot make a socket for '%s'\n", argv[1]);
        return 1;
    }
    std::strcpy(addr.sun_path, argv[1]);
    if (connect(sock, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
        std::fprintf(stderr, "fd_receiver: connect %s: %s\n", argv[1], std::strerror(errno));
        return 1;
    }
    int fd = -1;
    if (int r = shmds_recv_fd(sock, &fd)) return die("shmds_recv_fd", r);
    close(sock);

    shmds_options_t opts = SHMDS_OPTIONS_INIT;
    opts.backing = SHMDS_BACKING_FD;
    opts.fd = fd;
    shmds_queue_t *q = nullptr;
    if (int r = shmds_queue_open(&opts, SHMDS_QUEUE_INT64, &q)) return die("shmds_queue_open", r);
    close(fd);  // the handle holds its own duplicate

    std::int64_t sum = 0;
    for (long i = 0; i < items; ++i) {
        std::int64_t v = 0;
        if (int r = shmds_queue_pop_int(q, &v, SHMDS_NOWAIT)) return die("shmds_queue_pop_int", r);
        sum += v;
    }
    if (shmds_queue_size(q) != 0) {
        std::fprintf(stderr, "fd_receiver: %llu items left after popping %ld\n",
                     (unsigned long long)shmds_queue_size(q), items);
        return 1;
    }
    if (int r = shmds_queue_push_int(q, sum, SHMDS_NOWAIT)) return die("shmds_queue_push_int", r);
    shmds_queue_close(q);
    return 0;
}
