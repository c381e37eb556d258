#include "core/futex.hpp"

#include <cerrno>
#include <climits>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace shmds::core {

static_assert(sizeof(std::atomic<std::uint32_t>) == 4, "futex words must be 32-bit");
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

int futex_wait(std::atomic<std::uint32_t> *word, std::uint32_t expected,
               const Deadline &deadline) noexcept {
    if (deadline.expired()) return -ETIMEDOUT;
    // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time, so a retry after EINTR
    // waits only for what is left of the caller's deadline.
    const Deadline bounded = deadline.capped_at(monotonic_ns() + kWakeBoundNs);
    const timespec abs = bounded.abs_timespec();
    long r = syscall(SYS_futex, reinterpret_cast<std::uint32_t *>(word), FUTEX_WAIT_BITSET,
                     expected, &abs, nullptr, FUTEX_BITSET_MATCH_ANY);
    if (r == -1 && errno == ETIMEDOUT && deadline.expired()) return -ETIMEDOUT;
    return 0;  // woken, EAGAIN (value changed), EINTR or the bound passed: re-check
}

int futex_wake(std::atomic<std::uint32_t> *word, int n) noexcept {
    long r = syscall(SYS_futex, reinterpret_cast<std::uint32_t *>(word), FUTEX_WAKE, n,
                     nullptr, nullptr, 0);
    return r < 0 ? 0 : int(r);
}

}  // namespace shmds::core
