// A CLOCK_MONOTONIC deadline built once from a caller's timeout_ns, so retries after
// EINTR or a spurious wakeup wait only for what is left, never longer.
#pragma once

#include <cstdint>
#include <ctime>

namespace shmds::core {

inline std::int64_t monotonic_ns() noexcept {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

class Deadline {
public:
    // timeout_ns: 0 = do not wait, negative = forever, positive = relative.
    static Deadline from_timeout(std::int64_t timeout_ns) noexcept {
        Deadline d;
        if (timeout_ns < 0) {
            d.forever_ = true;
        } else if (timeout_ns == 0) {
            d.nowait_ = true;
        } else {
            std::int64_t now = monotonic_ns();
            d.at_ns_ = (timeout_ns > INT64_MAX - now) ? INT64_MAX : now + timeout_ns;
        }
        return d;
    }
    static Deadline after_ns(std::int64_t ns) noexcept { return from_timeout(ns <= 0 ? 0 : ns); }

    bool nowait() const noexcept { return nowait_; }
    bool forever() const noexcept { return forever_; }
    bool expired() const noexcept { return nowait_ || (!forever_ && monotonic_ns() >= at_ns_); }
    std::int64_t at_ns() const noexcept { return forever_ ? INT64_MAX : at_ns_; }

    // The earlier of this deadline and `other_ns` (absolute), for bounded sub-waits.
    Deadline capped_at(std::int64_t other_ns) const noexcept {
        Deadline d = *this;
        if (nowait_) return d;
        if (forever_ || other_ns < at_ns_) {
            d.forever_ = false;
            d.at_ns_ = other_ns;
        }
        return d;
    }

    // The absolute time for FUTEX_WAIT_BITSET; only valid when !forever().
    timespec abs_timespec() const noexcept {
        timespec ts;
        ts.tv_sec = at_ns_ / 1000000000;
        ts.tv_nsec = at_ns_ % 1000000000;
        return ts;
    }

private:
    bool nowait_ = false;
    bool forever_ = false;
    std::int64_t at_ns_ = 0;
};

}  // namespace shmds::core
