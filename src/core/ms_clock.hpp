// Wall-clock milliseconds for expiry times, replaceable per handle so tests step time
// instead of sleeping. Wall clock, because an absolute expiry stored in a file-backed
// segment must stay right after a reboot (a monotonic clock restarts at boot).
// The HashMap (hashmap/clock.hpp) and the Cache both use it.
#pragma once

#include <cstdint>
#include <ctime>

namespace shmds::core {

struct MsClock {
    std::uint64_t (*fn)(void *ctx) = nullptr;  // nullptr: CLOCK_REALTIME
    void *ctx = nullptr;

    std::uint64_t now_ms() const noexcept {
        if (fn) return fn(ctx);
        timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return std::uint64_t(ts.tv_sec) * 1000 + std::uint64_t(ts.tv_nsec) / 1000000;
    }
};

}  // namespace shmds::core
