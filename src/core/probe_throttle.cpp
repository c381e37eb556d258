#include "core/probe_throttle.hpp"

#include <cstddef>

namespace shmds::core {

namespace {
constexpr std::size_t kEntries = 64;  // a power of two

struct Entry {
    std::atomic<const void *> key{nullptr};
    std::atomic<std::int64_t> next_ns{0};
};
Entry g_entries[kEntries];

std::size_t slot_of(const void *key) noexcept {
    // Structures are cache-line aligned in their mappings: drop the low bits, then mix.
    std::uint64_t x = std::uint64_t(reinterpret_cast<std::uintptr_t>(key)) >> 6;
    x *= 0x9e3779b97f4a7c15ull;
    return std::size_t(x >> 58) & (kEntries - 1);
}
}  // namespace

bool try_probe_due(const void *key) noexcept {
    Entry &e = g_entries[slot_of(key)];
    const std::int64_t now = monotonic_ns();
    // Another structure's record in this entry: take the entry over, and probe now.
    if (e.key.load(std::memory_order_relaxed) != key) {
        e.key.store(key, std::memory_order_relaxed);
        e.next_ns.store(now + kTryProbeIntervalNs, std::memory_order_relaxed);
        return true;
    }
    std::int64_t next = e.next_ns.load(std::memory_order_relaxed);
    if (now < next) return false;
    return e.next_ns.compare_exchange_strong(next, now + kTryProbeIntervalNs,
                                             std::memory_order_relaxed);
}

}  // namespace shmds::core
