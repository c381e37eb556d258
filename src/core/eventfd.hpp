// A handle's optional eventfd, for epoll-based event loops (DESIGN.md §4). The rule for
// the whole library is stated once in include/shmds/common.h ("Eventfds"): signalling
// is explicit (notify), never a side effect of a verb, so writers can batch.
// Ownership: an fd given to set() is duplicated, never taken; the notifier closes only
// its own descriptors. An eventfd created here is owned by the handle.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

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
    // Safe against concurrent notify()/consume(): see retire().
    int set(int fd) noexcept;
    // The current fd or -1.
    int fd() const noexcept { return fd_.load(std::memory_order_acquire); }
    // Add 1 to the eventfd counter. 0, -ENOENT if there is none, or -errno.
    int notify() noexcept;
    // Read and reset the counter. 0 with *count, -EAGAIN if nothing pending,
    // -ENOENT if there is no eventfd.
    int consume(std::uint64_t *count) noexcept;

private:
    // Run f(fd) on the current descriptor while counted in users_, so set() can tell
    // when no thread may still hold a descriptor it replaced.
    template <typename F>
    int with_fd(F &&f) noexcept;
    // Close `old` (a descriptor set() just replaced) once no thread can be using it.
    void retire(int old) noexcept;

    std::atomic<int> fd_{-1};
    std::atomic<std::uint32_t> users_{0};  // threads inside with_fd() now
    std::mutex retire_mu_;                 // guards retired_ (set() is rare)
    std::vector<int> retired_;             // replaced descriptors not yet closed
};

}  // namespace shmds::core
