// conformance_peer: the unrelated process of the "FD attach in an unrelated process"
// conformance test. Started with posix_spawn, it shares nothing with the test but a
// Unix socket path; it links only the public library (and the registry's entry files,
// which use nothing else). It receives a segment's descriptor, attaches to it with
// SHMDS_BACKING_FD as the structure `name`, and checks that it sees the test's write.
//
//   conformance_peer <structure name> <socket path>
//
// Exit 0 when the write was seen; otherwise a sentence on stderr and a non-zero code.
#include "structure.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using shmds::conformance::find_structure;
using shmds::conformance::Handle;
using shmds::conformance::Structure;

namespace {

int die(const char *what, int code) {
    std::fprintf(stderr, "conformance_peer: %s: %s (%s)\n", what, shmds_errname(code),
                 shmds_last_error());
    return 1;
}

int connect_to(const char *path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (std::strlen(path) >= sizeof addr.sun_path) return -ENAMETOOLONG;
    std::strcpy(addr.sun_path, path);
    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return -errno;
    if (connect(sock, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
        int e = errno;
        close(sock);
        return -e;
    }
    return sock;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: conformance_peer <structure name> <socket path>\n");
        return 2;
    }
    alarm(20);  // never outlive a test that died before sending
    const Structure *s = find_structure(argv[1]);
    if (!s) {
        std::fprintf(stderr, "conformance_peer: no structure '%s' registered\n", argv[1]);
        return 2;
    }
    int sock = connect_to(argv[2]);
    if (sock < 0) {
        std::fprintf(stderr, "conformance_peer: connect %s: %s\n", argv[2], std::strerror(-sock));
        return 1;
    }
    int fd = -1;
    if (int r = shmds_recv_fd(sock, &fd)) return die("shmds_recv_fd", r);
    close(sock);

    shmds_options_t opts = SHMDS_OPTIONS_INIT;
    opts.backing = SHMDS_BACKING_FD;
    opts.fd = fd;
    Handle h = nullptr;
    if (int r = s->open(&opts, &h)) return die("open", r);
    close(fd);  // the handle holds its own duplicate
    int seen = s->read(h);
    s->close(h);
    if (seen < 0) return die("read", seen);
    if (seen != 0) {
        std::fprintf(stderr, "conformance_peer: %s: the test's write is not visible here\n",
                     argv[1]);
        return 1;
    }
    return 0;
}
