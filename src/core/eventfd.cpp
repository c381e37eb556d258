#include "core/eventfd.hpp"

#include "core/error.hpp"

#include <cerrno>
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

int EventNotifier::set(int fd) noexcept {
    int copy = -1;
    if (fd >= 0) {
        if (fd == fd_.load(std::memory_order_acquire)) return 0;  // already ours
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
