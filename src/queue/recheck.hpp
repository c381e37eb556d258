// How long a queue sleeper trusts a wake to come.
//
// A waker makes its change (publishes an item, frees a slot, commits under the lock)
// and then wakes the sleepers; SIGKILL can land between the two, and then no wake ever
// comes. So no queue sleep lasts longer than kRecheckNs before the operation is tried
// again: a lost wake costs a sleeper at most that long, and an idle sleeper pays one
// cheap retry per interval instead of spinning.
#pragma once

#include "core/deadline.hpp"

#include <cstdint>

namespace shmds::queue {

inline constexpr std::int64_t kRecheckNs = 100'000'000;

// The deadline of one sleep: the caller's, or the next recheck if that comes first.
inline core::Deadline recheck_deadline(const core::Deadline &deadline) noexcept {
    return deadline.capped_at(core::monotonic_ns() + kRecheckNs);
}

}  // namespace shmds::queue
