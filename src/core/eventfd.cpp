#include "core/eventfd.hpp"

#include "core/error.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace shmds::core {

EventNotifier::~EventNotifier() {
    int fd = fd_.exchange(-1);
    if (fd >= 0) ::close(fd);
}

int EventNotifier::get_or_create() noexcept {
    int fd = fd_.load(std::memory_order_acquire);
    if (fd >= 0) return fd;
    int made = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (made < 0) return fail(-errno, "eventfd failed: {}", std::strerror(errno));
    int expected = -1;
    if (!fd_.compare_exchange_strong(expected, made, std::memory_order_acq_rel)) {
        ::close(made);  // another thread of this handle won the race
        return expected;
    }
    return made;
}

namespace {
// An eventfd is an anonymous inode that /proc names "anon_inode:[eventfd]". Anything
// else (a pipe, a socket, a file) would make notify/consume misbehave later, far from
// the mistake, so it is refused here. Without /proc we cannot tell and accept it.
bool is_eventfd(int fd) noexcept {
    char link[64], target[64];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = ::readlink(link, target, sizeof target - 1);
    if (n < 0) return errno != EBADF;  // EBADF is reported by the dup below
    target[n] = '\0';
    return std::strcmp(target, "anon_inode:[eventfd]") == 0;
}
}  // namespace

int EventNotifier::set(int fd) noexcept {
    int copy = -1;
    if (fd >= 0) {
        if (fd == fd_.load(std::memory_order_acquire)) return 0;  // already ours
        if (!is_eventfd(fd)) return fail(-EINVAL, "fd {} is not an eventfd", fd);
        copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (copy < 0) return fail(-errno, "eventfd {}: dup failed: {}", fd, std::strerror(errno));
    } else if (fd != -1) {
        return fail(-EBADF, "eventfd {} is not a descriptor (use -1 to detach)", fd);
    }
    int old = fd_.exchange(copy, std::memory_order_acq_rel);
    if (old >= 0) ::close(old);
    return 0;
}

int EventNotifier::notify() noexcept {
    int fd = fd_.load(std::memory_order_acquire);
    if (fd < 0) return fail(-ENOENT, "no eventfd: call the structure's _eventfd() first");
    std::uint64_t one = 1;
    while (::write(fd, &one, sizeof one) < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return 0;  // counter saturated: readers are already signalled
        return fail(-errno, "eventfd write failed: {}", std::strerror(errno));
    }
    return 0;
}

int EventNotifier::consume(std::uint64_t *count) noexcept {
    int fd = fd_.load(std::memory_order_acquire);
    if (fd < 0) return fail(-ENOENT, "no eventfd: call the structure's _eventfd() first");
    std::uint64_t value = 0;
    for (;;) {
        ssize_t n = ::read(fd, &value, sizeof value);
        if (n == sizeof value) break;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return -EAGAIN;
        return fail(n < 0 ? -errno : -EIO, "eventfd read failed: {}",
                    std::strerror(n < 0 ? errno : EIO));
    }
    if (count) *count = value;
    return 0;
}

}  // namespace shmds::core
