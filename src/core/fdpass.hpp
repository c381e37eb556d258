// Passing a segment's descriptor to an unrelated process over a Unix socket
// (SCM_RIGHTS), so memfd segments can be shared beyond fork().
#pragma once

namespace shmds::core {

int send_fd(int sock, int fd) noexcept;
int recv_fd(int sock, int *fd_out) noexcept;

}  // namespace shmds::core
