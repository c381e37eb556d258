// A handle's optional eventfd, for epoll-based event loops (DESIGN.md §4). Signalling
// is always explicit (notify), so writers can batch. Ownership rule for the whole
// library: an fd given to set() is duplicated, never taken; the notifier closes only
// its own descriptor. An eventfd created here is owned by the handle.
#pragma once

#include <atomic>
#include <cstdint>

namespace shmds::core {

class EventNotifier {
public:
    EventNotifier() = default;
    ~EventNotifier();
    EventNotifier(const EventNotifier &) = delete;
    EventNotifier &operator=(const EventNotifier &) = delete;

    // The eventfd, created on first use (EFD_NONBLOCK|EFD_CLOEXEC). >= 0 or -errno.
    int get_or_create() noexcept;
    // Use a duplicate of fd (which must be an eventfd); -1 detaches. 0 or -errno.
    int set(int fd) noexcept;
    // The current fd or -1.
    int fd() const noexcept { return fd_.load(std::memory_order_acquire); }
    // Add 1 to the eventfd counter. 0, -ENOENT if there is none, or -errno.
    int notify() noexcept;
    // Read and reset the counter. 0 with *count, -EAGAIN if nothing pending,
    // -ENOENT if there is no eventfd.
    int consume(std::uint64_t *count) noexcept;

private:
    std::atomic<int> fd_{-1};
};

}  // namespace shmds::core
