// The condvar primitive: a condition variable with its own crash-safe mutex (the same
// OwnedMutex as the mutex primitive), in one segment.
//
// Waiters announce themselves on a WaitPoint and sample its sequence word *before*
// releasing the mutex; signal and broadcast bump the sequence before waking. So a
// signal sent after a waiter released the mutex always finds the sequence changed
// (no lost wakeup), and a dead waiter is taken off the WaitPoint's registry later.
#pragma once

#include "core/waitpoint.hpp"
#include "sync/owned_mutex.hpp"
#include "sync/sync_segment.hpp"

#include <memory>

namespace shmds::sync {

struct alignas(core::kCacheLine) CondvarControl {
    OwnedMutex lock;
    core::WaitPoint signals;
};

class Condvar final : public SyncSegment {
public:
    static int create(const shmds_options_t *opts, std::unique_ptr<Condvar> &out);
    static int open(const shmds_options_t *opts, std::unique_ptr<Condvar> &out);

    int lock(const core::Deadline &dl) noexcept;
    int lock_within(std::int64_t timeout_ns) noexcept;  // validated timeout_ns
    int unlock() noexcept;
    int consistent() noexcept;
    // 0 (woken), -ETIMEDOUT, SHMDS_EOWNERDEAD (relocked after a holder died), -EPERM
    // (the caller does not hold the mutex). Always relocks unless -EPERM.
    int wait(const core::Deadline &dl) noexcept;
    void signal() noexcept;
    void broadcast() noexcept;
    std::uint32_t waiters() const noexcept;

private:
    friend struct core::EngineFactory;
    Condvar() noexcept : SyncSegment(core::StructureType::condvar) {}
    int shape(std::uint64_t g0, std::uint64_t g1, Shape &out) const override;
    void init_control(std::uint8_t *control) noexcept override;
    void track_waitpoints(core::Segment &s) noexcept override {
        s.track(ctl().signals);
    }
    CondvarControl &ctl() const noexcept { return *reinterpret_cast<CondvarControl *>(control()); }
};

}  // namespace shmds::sync
