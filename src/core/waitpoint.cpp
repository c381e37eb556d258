#include "core/waitpoint.hpp"

namespace shmds::core {

namespace {
constexpr std::uint64_t kRegistryMask = 0xffffffffu;
constexpr std::uint64_t kUnregisteredOne = std::uint64_t{1} << 32;
// After this many consecutive wakes that found nobody asleep, look for dead sleepers.
constexpr std::uint32_t kRepairAfterIdleWakes = 64;
}  // namespace

void waitpoint_init(WaitPoint &wp) noexcept {
    wp.sleepers.store(0, std::memory_order_relaxed);
    wp.seq.store(0, std::memory_order_relaxed);
    wp.idle_wakes.store(0, std::memory_order_relaxed);
    wp.repaired.store(0, std::memory_order_relaxed);
    for (auto &s : wp.slot) s.store(kNoOwner, std::memory_order_relaxed);
}

SleeperRegistration::SleeperRegistration(WaitPoint &wp) noexcept : wp_(wp), slot_(-1) {
    OwnerToken me = self_owner();
    for (int i = 0; i < kWaitSlots; ++i) {
        OwnerToken expected = kNoOwner;
        if (wp.slot[i].load(std::memory_order_relaxed) == kNoOwner &&
            wp.slot[i].compare_exchange_strong(expected, me, std::memory_order_seq_cst)) {
            slot_ = i;
            wp.sleepers.fetch_or(std::uint64_t{1} << i, std::memory_order_seq_cst);
            return;
        }
    }
    // Registry full: maybe it is full of the dead. Repair once and count ourselves
    // unregistered either way; the next sleeper benefits from the repair.
    waitpoint_repair(wp);
    wp.sleepers.fetch_add(kUnregisteredOne, std::memory_order_seq_cst);
}

SleeperRegistration::~SleeperRegistration() {
    if (slot_ >= 0) {
        wp_.sleepers.fetch_and(~(std::uint64_t{1} << slot_), std::memory_order_seq_cst);
        wp_.slot[slot_].store(kNoOwner, std::memory_order_release);
    } else {
        wp_.sleepers.fetch_sub(kUnregisteredOne, std::memory_order_seq_cst);
    }
}

void waitpoint_wake_slow(WaitPoint &wp, int n) noexcept {
    wp.seq.fetch_add(1, std::memory_order_seq_cst);
    int woken = futex_wake(&wp.seq, n);
    if (woken > 0) {
        if (wp.idle_wakes.load(std::memory_order_relaxed) != 0)
            wp.idle_wakes.store(0, std::memory_order_relaxed);
        return;
    }
    // Announced sleepers that never wake up: in transit to the kernel, or dead.
    if (wp.idle_wakes.fetch_add(1, std::memory_order_relaxed) + 1 >= kRepairAfterIdleWakes) {
        wp.idle_wakes.store(0, std::memory_order_relaxed);
        waitpoint_repair(wp);
    }
}

int waitpoint_repair(WaitPoint &wp) noexcept {
    // A slot under repair holds the repairer's token with kRepairMark set, so no new
    // sleeper can claim it while its bit is being cleared, and a repairer that dies
    // half-way is itself repaired later.
    constexpr OwnerToken kRepairMark = OwnerToken{1} << 63;
    int removed = 0;
    for (int i = 0; i < kWaitSlots; ++i) {
        OwnerToken owner = wp.slot[i].load(std::memory_order_acquire);
        if (owner == kNoOwner || owner_alive(owner & ~kRepairMark)) continue;
        if (!wp.slot[i].compare_exchange_strong(owner, self_owner() | kRepairMark,
                                                std::memory_order_acq_rel))
            continue;
        wp.sleepers.fetch_and(~(std::uint64_t{1} << i), std::memory_order_seq_cst);
        wp.slot[i].store(kNoOwner, std::memory_order_release);
        if (!(owner & kRepairMark)) {
            ++removed;
            wp.repaired.fetch_add(1, std::memory_order_relaxed);
        }
    }
    return removed;
}

std::uint32_t waitpoint_sleepers(const WaitPoint &wp) noexcept {
    std::uint64_t s = wp.sleepers.load(std::memory_order_relaxed);
    return std::uint32_t(__builtin_popcountll(s & kRegistryMask) + (s >> 32));
}

}  // namespace shmds::core
