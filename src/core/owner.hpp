// Process identity that survives PID reuse: a 64-bit token packing the PID with the
// process start time (/proc/<pid>/stat field 22). A token names one process
// incarnation; a new process that reuses the PID has another start time.
//
// Liveness: a process is dead when it no longer exists, is a zombie (it can never run
// again), or its PID now belongs to a process with another start time. A stopped
// (SIGSTOP) process is alive. Tokens are only meaningful inside one PID namespace.
#pragma once

#include <cstdint>

namespace shmds::core {

using OwnerToken = std::uint64_t;

inline constexpr int kPidBits = 22;  // pid_max is at most 2^22 on Linux
inline constexpr OwnerToken kPidMask = (OwnerToken{1} << kPidBits) - 1;
inline constexpr OwnerToken kNoOwner = 0;

inline std::uint32_t owner_pid(OwnerToken t) noexcept { return std::uint32_t(t & kPidMask); }
inline std::uint64_t owner_start(OwnerToken t) noexcept { return t >> kPidBits; }

// The calling process's token; cached, and refreshed after fork().
OwnerToken self_owner() noexcept;

// The token for a live process (0 if it does not exist or /proc cannot tell).
OwnerToken owner_of_pid(std::uint32_t pid) noexcept;

enum class Liveness { alive, dead };

// Is the process named by `token` still running? Errs on the side of "alive" when it
// cannot tell (e.g. /proc hidden), because declaring a live process dead would let two
// processes into the same critical section.
Liveness owner_liveness(OwnerToken token) noexcept;

inline bool owner_alive(OwnerToken token) noexcept {
    return owner_liveness(token) == Liveness::alive;
}

// Is the thread named by a stamp (core/thread_id.hpp: thread id + low 32 bits of its
// start time) still running? Dead when the thread id names no thread, a zombie (the
// exited main thread of a process, or a killed process not yet reaped), or a thread
// with another start time. `quick` asks the kernel only whether the thread id still
// exists (one system call, no /proc read): it misses zombies and recycled thread ids,
// which the full check catches. Errs on "alive" when it cannot tell. A stamp with
// thread id 0 (or a token with PID 0) but other bits set can only be damaged memory,
// and is dead; 0 itself names nobody and is "alive".
Liveness thread_liveness(std::uint64_t stamp, bool quick) noexcept;

}  // namespace shmds::core
