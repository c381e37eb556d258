// When a non-blocking call (try_*, SHMDS_NOWAIT) may ask whether a holder is dead.
//
// A NOWAIT call must return promptly, but a dead holder must not make it fail for ever
// (DESIGN.md §5): a process that only ever tries would be locked out for good. So a try
// that meets contention checks the holder's liveness — the full check, which reads /proc
// and so sees zombies and recycled ids — but at most once per kTryProbeIntervalNs per
// structure in each process. A busy live holder then costs a try one clock read, and a
// dead one is taken over by the first try after the interval.
//
// The record is process-local (a small table keyed by the structure's address), so it
// needs no room in shared memory and a hostile peer cannot starve it. Two structures
// whose addresses share a table entry only share a budget; races on an entry at worst
// allow one extra probe.
#pragma once

#include "core/deadline.hpp"

#include <atomic>
#include <cstdint>

namespace shmds::core {

inline constexpr std::int64_t kTryProbeIntervalNs = 10'000'000;

// True when a try on the structure at `key` may run a liveness probe now (and records
// that it did). Wait-free; never blocks.
bool try_probe_due(const void *key) noexcept;

}  // namespace shmds::core
