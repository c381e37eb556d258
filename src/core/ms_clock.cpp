#include "core/ms_clock.hpp"

namespace shmds::core {

std::uint64_t coarse_clock_slack_ms() noexcept {
    // Coarser than this, a lookup would fall back to the exact clock too often, and the
    // access stamps would lose the order the LRU needs.
    constexpr std::uint64_t kMaxTickMs = 20;
    timespec res;
    if (clock_getres(CLOCK_REALTIME_COARSE, &res) != 0 || res.tv_sec != 0) return 0;
    const std::uint64_t tick_ms = (std::uint64_t(res.tv_nsec) + 999'999) / 1'000'000;
    if (tick_ms == 0 || tick_ms > kMaxTickMs) return 0;
    return 2 * tick_ms + 1;
}

}  // namespace shmds::core
