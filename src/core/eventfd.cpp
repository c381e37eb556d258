#include "core/eventfd.hpp"

#include "core/error.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace shmds::core {

// The handle is being closed: no thread may use it any more, so everything goes.
EventNotifier::~EventNotifier() {
    int fd = fd_.exchange(-1);
    if (fd >= 0) ::close(fd);
    for (int old : retired_) ::close(old);
}

// Why the count: notify() loads fd_ and then writes to it. If set() closed the
// descriptor it replaced at once, a notify that loaded it just before could write
// after the close, when the number may already name another file the process opened
// meanwhile (a socket, a pipe, another eventfd): a stray 8-byte write into someone
// else's descriptor. So every use is bracketed by users_, and a replaced descriptor is
// closed only when users_ is seen at zero after the swap. Why that is enough (all
// seq_cst): a thread that loaded the old value did its increment before its load, and
// its load came before set()'s exchange; so set()'s later read of users_ sees that
// increment unless the thread has already decremented, i.e. finished with the fd.
// Threads that arrive after the exchange load the new descriptor. Until the count is
// seen at zero, replaced descriptors wait in retired_ (closed by a later set() or by
// the destructor), so a busy notifier delays the close but never races it.
template <typename F>
int EventNotifier::with_fd(F &&f) noexcept {
    users_.fetch_add(1, std::memory_order_seq_cst);
    const int fd = fd_.load(std::memory_order_seq_cst);
    const int r = f(fd);
    users_.fetch_sub(1, std::memory_order_release);
    return r;
}

void EventNotifier::retire(int old) noexcept {
    std::lock_guard<std::mutex> lock(retire_mu_);
    if (old >= 0) {
        try {
            retired_.push_back(old);
        } catch (...) {
            // No memory to defer it: wait out the current users instead (they are
            // in the middle of a single read or write, so this is short).
            while (users_.load(std::memory_order_seq_cst) != 0) sched_yield();
            ::close(old);
        }
    }
    if (users_.load(std::memory_order_seq_cst) != 0) return;
    for (int fd : retired_) ::close(fd);
    retired_.clear();
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
    retire(fd_.exchange(copy, std::memory_order_seq_cst));
    return 0;
}

int EventNotifier::notify() noexcept {
    return with_fd([](int fd) {
        if (fd < 0) return fail(-ENOENT, "no eventfd: call the structure's _eventfd() first");
        std::uint64_t one = 1;
        while (::write(fd, &one, sizeof one) < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return 0;  // counter saturated: readers are already signalled
            return fail(-errno, "eventfd write failed: {}", std::strerror(errno));
        }
        return 0;
    });
}

int EventNotifier::consume(std::uint64_t *count) noexcept {
    return with_fd([count](int fd) {
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
    });
}

}  // namespace shmds::core
