// Wall-clock milliseconds for expiry times, replaceable per handle so tests step time
// instead of sleeping. Wall clock, because an absolute expiry stored in a file-backed
// segment must stay right after a reboot (a monotonic clock restarts at boot).
// The HashMap (hashmap/clock.hpp) and the Cache both use it.
#pragma once

#include <cstdint>
#include <ctime>

namespace shmds::core {

// A call's time in ms, maybe read from the coarse clock: the true time then lies in
// [ms, ms + slack_ms]. slack_ms == 0: exact.
struct CallTime {
    std::uint64_t ms;
    std::uint64_t slack_ms = 0;
};

// How far behind CLOCK_REALTIME_COARSE may be, in ms: two of its ticks (it is updated
// once a tick; the second one covers a tick handled late) plus the ms rounding. 0 when
// that clock is missing or too coarse to be worth it (then callers read the exact one).
std::uint64_t coarse_clock_slack_ms() noexcept;

// The library's one expiry rule: an expiry time (ms; 0 = never) has passed from its own
// millisecond on.
inline bool expiry_passed(std::uint64_t expire_on_ms, std::uint64_t now_ms) noexcept {
    return expire_on_ms != 0 && now_ms >= expire_on_ms;
}

struct MsClock {
    std::uint64_t (*fn)(void *ctx) = nullptr;  // nullptr: CLOCK_REALTIME
    void *ctx = nullptr;

    std::uint64_t now_ms() const noexcept {
        if (fn) return fn(ctx);
        return read_ms(CLOCK_REALTIME);
    }

    // A lookup's time, cheap: the coarse clock costs a few ns where the exact one costs
    // its rdtscp, which waits for every earlier load (a lookup's cache misses in
    // flight). Good for access stamps (LRU order at the coarse clock's resolution, a
    // few ms); test expiry with passed(), which is exact. An injected clock is exact.
    CallTime call_time() const noexcept {
        if (fn) return CallTime{fn(ctx)};
        static const std::uint64_t slack = coarse_clock_slack_ms();
        if (slack == 0) return CallTime{read_ms(CLOCK_REALTIME)};
        return CallTime{read_ms(CLOCK_REALTIME_COARSE), slack};
    }

    // Whether an expiry time (ms; 0 = never) has passed at t: exact, reading the exact
    // clock only when t's slack straddles it.
    bool passed(std::uint64_t expire_on_ms, const CallTime &t) const noexcept {
        const bool straddles = expire_on_ms > t.ms && expire_on_ms <= t.ms + t.slack_ms;
        return expiry_passed(expire_on_ms, straddles ? now_ms() : t.ms);
    }

private:
    static std::uint64_t read_ms(clockid_t id) noexcept {
        timespec ts;
        clock_gettime(id, &ts);
        return std::uint64_t(ts.tv_sec) * 1000 + std::uint64_t(ts.tv_nsec) / 1000000;
    }
};

}  // namespace shmds::core
