// The map's clock for TTLs (design §7): wall-clock milliseconds, because an entry's
// expiry is stored as an absolute time that must stay right in a file-backed map
// reopened after a reboot (a monotonic clock restarts at boot). A handle may replace
// it (shmds_hashmap_set_clock) so tests step time instead of sleeping.
#pragma once

#include <cstdint>
#include <ctime>

namespace shmds::hashmap {

struct Clock {
    std::uint64_t (*fn)(void *ctx) = nullptr;  // nullptr: CLOCK_REALTIME
    void *ctx = nullptr;

    std::uint64_t now_ms() const noexcept {
        if (fn) return fn(ctx);
        timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return std::uint64_t(ts.tv_sec) * 1000 + std::uint64_t(ts.tv_nsec) / 1000000;
    }
};

}  // namespace shmds::hashmap
