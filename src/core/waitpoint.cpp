#include "core/waitpoint.hpp"

namespace shmds::core {

namespace {
constexpr std::uint64_t kRegistryMask = 0xffffffffu;
constexpr std::uint64_t kUnregisteredOne = std::uint64_t{1} << 32;
// After this many consecutive wakes that found nobody asleep, look for dead sleepers.
constexpr std::uint32_t kRepairAfterIdleWakes = 64;

// A new generation with kAllWoken clear: a sleeper's arm or a waker's ticket. Every
// call changes the word, so a waker's CAS on its own ticket fails after any of them.
std::uint64_t advance_wake_state(WaitPoint &wp) noexcept {
    std::uint64_t cur = wp.wake_state.load(std::memory_order_relaxed);
    std::uint64_t next;
    do {
        next = (cur & ~kAllWoken) + 2;
    } while (!wp.wake_state.compare_exchange_weak(cur, next, std::memory_order_seq_cst,
                                                  std::memory_order_relaxed));
    return next;
}

// One more wake that found nobody: after enough of them, announced sleepers that
// nobody wakes are in transit or dead, so look for the dead.
void count_idle_wake(WaitPoint &wp) noexcept {
    if (wp.idle_wakes.fetch_add(1, std::memory_order_relaxed) + 1 >= kRepairAfterIdleWakes) {
        wp.idle_wakes.store(0, std::memory_order_relaxed);
        waitpoint_repair(wp);
    }
}
}  // namespace

void waitpoint_init(WaitPoint &wp) noexcept {
    wp.sleepers.store(0, std::memory_order_relaxed);
    wp.seq.store(0, std::memory_order_relaxed);
    wp.idle_wakes.store(0, std::memory_order_relaxed);
    wp.repaired.store(0, std::memory_order_relaxed);
    wp.waker_cpu.store(0, std::memory_order_relaxed);
    for (auto &s : wp.slot) s.store(kNoOwner, std::memory_order_relaxed);
    wp.wake_state.store(kAllWoken, std::memory_order_relaxed);  // nobody armed yet
}

SleeperRegistration::SleeperRegistration(WaitPoint &wp) noexcept : wp_(wp), slot_(-1) {
    OwnerToken me = self_owner();
    for (int i = 0; i < kWaitSlots && slot_ < 0; ++i) {
        OwnerToken expected = kNoOwner;
        if (wp.slot[i].load(std::memory_order_relaxed) == kNoOwner &&
            wp.slot[i].compare_exchange_strong(expected, me, std::memory_order_seq_cst)) {
            slot_ = i;
            wp.sleepers.fetch_or(std::uint64_t{1} << i, std::memory_order_seq_cst);
        }
    }
    if (slot_ < 0) {
        // Registry full: maybe it is full of the dead. Repair once and count ourselves
        // unregistered either way; the next sleeper benefits from the repair.
        waitpoint_repair(wp);
        wp.sleepers.fetch_add(kUnregisteredOne, std::memory_order_seq_cst);
    }
    // Sample, then arm: a waker that skips because everyone announced was woken must
    // have bumped seq after this sample (see the header).
    seq_ = wp.seq.load(std::memory_order_seq_cst);
    advance_wake_state(wp);
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
    if (wp.wake_state.load(std::memory_order_seq_cst) & kAllWoken) {
        // Everyone announced was woken. If the last real wake found nobody, these
        // sleepers may be dead, so this skipped wake counts towards a repair too.
        if (wp.idle_wakes.load(std::memory_order_relaxed) != 0) count_idle_wake(wp);
        return;
    }
    const std::uint64_t ticket = advance_wake_state(wp);
    wp.seq.fetch_add(1, std::memory_order_seq_cst);
    const std::uint64_t s = wp.sleepers.load(std::memory_order_seq_cst);
    const std::uint64_t announced = std::uint64_t(__builtin_popcountll(s & kRegistryMask)) + (s >> 32);
    const int woken = futex_wake(&wp.seq, n);
    if (woken < n || (n > 0 && announced <= std::uint64_t(n))) {
        std::uint64_t expected = ticket;
        wp.wake_state.compare_exchange_strong(expected, ticket | kAllWoken,
                                              std::memory_order_seq_cst,
                                              std::memory_order_relaxed);
    }
    if (woken > 0) {
        if (wp.idle_wakes.load(std::memory_order_relaxed) != 0)
            wp.idle_wakes.store(0, std::memory_order_relaxed);
        return;
    }
    // Announced sleepers that never wake up: in transit to the kernel, or dead.
    count_idle_wake(wp);
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

namespace {
// When this thread may yield again (monotonic ns); 0: now.
thread_local std::int64_t t_yields_paused_until = 0;
}  // namespace

bool yield_to_partner() noexcept {
    const std::int64_t before = monotonic_ns();
    if (before < t_yields_paused_until) return false;
    sched_yield();
    const std::int64_t after = monotonic_ns();
    if (after - before > kYieldSlowNs) t_yields_paused_until = after + kYieldPauseNs;
    return true;
}

}  // namespace shmds::core
