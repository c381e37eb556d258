#include "core/fdpass.hpp"

#include "core/error.hpp"

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/uio.h>

namespace shmds::core {

int send_fd(int sock, int fd) noexcept {
    if (sock < 0 || fd < 0)
        return fail(-EBADF, "send_fd: bad descriptor (socket {}, fd {})", sock, fd);
    char byte = 'S';
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    for (;;) {
        ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
        if (n == 1) return 0;
        if (n < 0 && errno == EINTR) continue;
        int e = n < 0 ? errno : EIO;
        return fail(-e, "send_fd: sendmsg on socket {} failed: {}", sock, std::strerror(e));
    }
}

int recv_fd(int sock, int *fd_out) noexcept {
    if (!fd_out) return fail(-EINVAL, "recv_fd: fd_out is NULL");
    if (sock < 0) return fail(-EBADF, "recv_fd: bad socket {}", sock);
    char byte;
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do {
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return fail(-errno, "recv_fd: recvmsg on socket {} failed: {}", sock,
                           std::strerror(errno));
    if (n == 0) return fail(-ECONNRESET, "recv_fd: socket {} closed by the peer", sock);
    for (cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
            cm->cmsg_len == CMSG_LEN(sizeof(int))) {
            std::memcpy(fd_out, CMSG_DATA(cm), sizeof(int));
            return 0;
        }
    }
    return fail(-EPROTO, "recv_fd: the message on socket {} carried no descriptor", sock);
}

}  // namespace shmds::core
