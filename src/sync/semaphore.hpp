// The semaphore primitive: a counter of permits (0 ..= max) whose holders are tracked,
// so the permits of a process that dies are returned (the reference never returns
// them, its lesson 18).
//
// Holders: a table of {owner token, count} slots, one per process currently holding
// permits (a slot is freed when its count returns to 0). It has min(max, 256) slots:
// never fewer than the processes that can hold permits at once, unless max > 256; a
// process that finds no free slot (after taking back the slots of the dead) is refused
// with -EUSERS rather than allowed to hold permits nobody could return.
//
// Every change happens under a robust mutex and is made crash-atomic by an undo
// journal: the old value and slot are recorded, then changed, then the journal is
// cleared; a holder killed anywhere in between is rolled back by the next locker.
// Waiters sleep on a WaitPoint and, after 1 ms and then every 8 ms without progress, return the permits
// of dead holders.
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

inline constexpr std::uint64_t kMaxPermits = 0x7fffffffu;
inline constexpr std::uint32_t kMaxHolderSlots = 256;

struct HolderSlot {
    std::atomic<core::OwnerToken> owner;
    std::atomic<std::uint64_t> count;
};
static_assert(sizeof(HolderSlot) == 16);

struct SemaphoreJournal {
    std::atomic<std::uint32_t> valid;
    std::atomic<std::uint32_t> slot;  // kNoSlot when no slot changes
    std::atomic<std::uint32_t> old_value;
    std::uint32_t reserved_;
    std::atomic<core::OwnerToken> old_owner;
    std::atomic<std::uint64_t> old_count;
};

struct alignas(core::kCacheLine) SemaphoreControl {
    core::RobustMutex lock;
    alignas(core::kCacheLine) std::atomic<std::uint32_t> value;  // read without the lock
    std::uint32_t reserved_;
    SemaphoreJournal journal;
    core::WaitPoint available;
    // followed by HolderSlot[holder_slots]
};
static_assert(offsetof(SemaphoreControl, value) == core::kCacheLine);

class Semaphore final : public SyncSegment {
public:
    static int create(const shmds_options_t *opts, std::uint64_t max, std::uint64_t initial,
                      std::unique_ptr<Semaphore> &out);
    static int open(const shmds_options_t *opts, std::unique_ptr<Semaphore> &out);

    // Take n permits, waiting per deadline. 0, -EAGAIN, -ETIMEDOUT, -EINVAL, -EUSERS.
    int acquire(std::uint32_t n, const core::Deadline &dl) noexcept;
    // Return n permits (the caller's own holdings first); the value is clamped at max.
    int release(std::uint32_t n) noexcept;
    // Take every permit available now; *taken gets how many.
    int drain(std::uint32_t *taken) noexcept;

    std::uint32_t value() const noexcept;
    std::uint32_t max() const noexcept { return std::uint32_t(geometry(0)); }
    std::uint64_t held_by_caller() const noexcept;  // permits this process holds
    core::EventNotifier &events() noexcept { return events_; }

private:
    friend struct core::EngineFactory;
    Semaphore() noexcept : SyncSegment(core::StructureType::semaphore) {}
    int shape(std::uint64_t g0, std::uint64_t g1, Shape &out) const override;
    void init_control(std::uint8_t *control) noexcept override;
    void track_waitpoints(core::Segment &s) noexcept override {
        s.track(ctl().available);
    }

    SemaphoreControl &ctl() const noexcept {
        return *reinterpret_cast<SemaphoreControl *>(control());
    }
    HolderSlot *slots() const noexcept {
        return reinterpret_cast<HolderSlot *>(control() + sizeof(SemaphoreControl));
    }
    std::uint32_t slot_count() const noexcept;

    // Under the lock.
    int take_locked(std::uint32_t n) noexcept;            // 0, -EAGAIN, -EUSERS
    int find_slot_locked(bool claim_free) noexcept;       // index or -1
    std::uint32_t reclaim_dead_locked() noexcept;         // slots returned
    void change_locked(int slot, std::uint32_t new_value, core::OwnerToken owner,
                       std::uint64_t count, const char *fp_journaled,
                       const char *fp_changed) noexcept;
    static void repair(void *self) noexcept;

    int lock_for(const core::Deadline &dl) noexcept;  // 0 or -EAGAIN/-ETIMEDOUT
    void unlock() noexcept;
    // Take back dead holders' permits (locks); true if any came back.
    bool reclaim_dead(const core::Deadline &dl) noexcept;

    std::atomic<int> slot_hint_{0};
    core::EventNotifier events_;
};

}  // namespace shmds::sync
