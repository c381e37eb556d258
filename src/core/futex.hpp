// Raw process-shared futexes. Never FUTEX_PRIVATE_FLAG and never std::atomic::wait:
// both are process-private and would miss wakeups from other processes.
#pragma once

#include "core/deadline.hpp"

#include <atomic>
#include <cstdint>

namespace shmds::core {

// The longest any sleep in the library lasts before its caller re-checks. A waker can be
// SIGKILLed between changing the state and waking, so no sleep may trust a wake to come
// (DESIGN.md §5); every caller loops on its condition, and this bound is what turns a
// lost wake into a delay of at most kWakeBoundNs instead of a wedge.
inline constexpr std::int64_t kWakeBoundNs = 100'000'000;

// Sleep while *word == expected, until woken, the deadline passes, or kWakeBoundNs
// elapse, whichever comes first. Returns 0 (woken, value changed, interrupted or the
// bound passed: re-check) or -ETIMEDOUT (the caller's deadline passed).
int futex_wait(std::atomic<std::uint32_t> *word, std::uint32_t expected,
               const Deadline &deadline) noexcept;

// Wake up to n sleepers on word; returns how many were woken (or 0 on error).
int futex_wake(std::atomic<std::uint32_t> *word, int n) noexcept;

}  // namespace shmds::core
