// Raw process-shared futexes. Never FUTEX_PRIVATE_FLAG and never std::atomic::wait:
// both are process-private and would miss wakeups from other processes.
#pragma once

#include "core/deadline.hpp"

#include <atomic>
#include <cstdint>

namespace shmds::core {

// Sleep while *word == expected, until woken or the deadline passes.
// Returns 0 (woken or value changed or interrupted: re-check) or -ETIMEDOUT.
int futex_wait(std::atomic<std::uint32_t> *word, std::uint32_t expected,
               const Deadline &deadline) noexcept;

// Wake up to n sleepers on word; returns how many were woken (or 0 on error).
int futex_wake(std::atomic<std::uint32_t> *word, int n) noexcept;

}  // namespace shmds::core
