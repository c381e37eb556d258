// The barrier primitive: `parties` callers meet; the last to arrive is the leader.
//
// State, all changed under a robust mutex and each change committed by one store:
//   state   = generation << 32 | broken << 31 | arrived: one word, so an arrival, a
//             trip, a break and a reset each commit with one store (broken: a real
//             timeout or a dead party ended the current generation)
//   outcome = for recent generations, whether each ended in a trip or was cancelled by
//             reset, so a sleeper that wakes late still learns how its own ended.
// Arrived parties leave their owner token in the arrivals table; sleepers probe those
// tokens (after 1 ms, then every 8 ms) and break the barrier when one died, instead of hanging.
#pragma once

#include "core/eventfd.hpp"
#include "core/owner.hpp"
#include "core/robust_mutex.hpp"
#include "core/waitpoint.hpp"
#include "sync/sync_segment.hpp"

#include <atomic>
#include <cstdint>
#include <memory>

namespace shmds::sync {

inline constexpr std::uint64_t kMaxParties = 4096;
inline constexpr std::uint32_t kOutcomeRing = 256;

enum class BarrierOutcome : std::uint8_t { pending = 0, tripped = 1, cancelled = 2 };

struct alignas(core::kCacheLine) BarrierControl {
    core::RobustMutex lock;
    alignas(core::kCacheLine) std::atomic<std::uint64_t> state;
    std::atomic<std::uint32_t> broken;
    std::uint32_t reserved_;
    core::WaitPoint tripped;
    std::atomic<std::uint8_t> outcome[kOutcomeRing];
    // followed by OwnerToken arrivals[parties]
};

class Barrier final : public SyncSegment {
public:
    static constexpr int kLeader = 1;

    static int create(const shmds_options_t *opts, std::uint64_t parties,
                      std::unique_ptr<Barrier> &out);
    static int open(const shmds_options_t *opts, std::unique_ptr<Barrier> &out);

    // kLeader, 0 (follower), -EAGAIN (NOWAIT and not the last: nothing changed),
    // -ETIMEDOUT (and the barrier is now broken), -ECANCELED (broken or reset).
    int wait(const core::Deadline &dl) noexcept;
    int reset() noexcept;

    std::uint32_t parties() const noexcept { return std::uint32_t(geometry(0)); }
    std::uint32_t generation() const noexcept;
    std::uint32_t arrived() const noexcept;
    bool is_broken() const noexcept;
    core::EventNotifier &events() noexcept { return events_; }

private:
    friend struct core::EngineFactory;
    Barrier() noexcept : SyncSegment(core::StructureType::barrier) {}
    int shape(std::uint64_t g0, std::uint64_t g1, Shape &out) const override;
    void init_control(std::uint8_t *control) noexcept override;
    void track_waitpoints(core::Segment &s) noexcept override {
        s.track(ctl().tripped);
    }
    BarrierControl &ctl() const noexcept { return *reinterpret_cast<BarrierControl *>(control()); }
    std::atomic<core::OwnerToken> *arrivals() const noexcept {
        return reinterpret_cast<std::atomic<core::OwnerToken> *>(control() +
                                                                 sizeof(BarrierControl));
    }
    int lock_for(const core::Deadline &dl) noexcept;
    void unlock() noexcept;
    int outcome_of(std::uint32_t generation) const noexcept;
    // Under the lock: break generation `gen` if it is still current and unbroken.
    bool break_locked(std::uint32_t gen) noexcept;
    bool break_if_a_party_died(std::uint32_t gen, const core::Deadline &dl) noexcept;

    core::EventNotifier events_;
};

}  // namespace shmds::sync
