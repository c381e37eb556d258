// The once primitive: exactly one initializer, even across processes that die.
//
// One 64-bit state word: 0 (nobody started), kOnceDone, or the owner token of the
// process running the initializer. Claiming is one CAS, so there is no window between
// "started" and "who started". Waiters sleep on a WaitPoint and probe the
// initializer's liveness (after 1 ms, then every 8 ms); a dead initializer is replaced by the first
// waiter whose CAS wins, which then gets "you initialize".
#pragma once

#include "core/owner.hpp"
#include "core/waitpoint.hpp"
#include "sync/sync_segment.hpp"

#include <atomic>
#include <cstdint>
#include <memory>

namespace shmds::sync {

inline constexpr core::OwnerToken kOnceDone = ~core::OwnerToken{0};

struct alignas(core::kCacheLine) OnceControl {
    std::atomic<core::OwnerToken> state;
    std::atomic<std::uint32_t> owner_tid;  // the initializing thread, for -EDEADLK
    std::uint32_t reserved_;
    core::WaitPoint finished;
};

class Once final : public SyncSegment {
public:
    static int create(const shmds_options_t *opts, std::unique_ptr<Once> &out);
    static int open(const shmds_options_t *opts, std::unique_ptr<Once> &out);

    // 1: the caller must initialize and then call done(); 0: already done;
    // -EAGAIN (NOWAIT, in progress); -ETIMEDOUT; -EDEADLK (the caller is initializing).
    int enter(const core::Deadline &dl) noexcept;
    int done() noexcept;   // 0 or -EPERM
    int reset() noexcept;  // 0 or -EBUSY
    bool is_done() const noexcept;

private:
    friend struct core::EngineFactory;
    Once() noexcept : SyncSegment(core::StructureType::once) {}
    int shape(std::uint64_t g0, std::uint64_t g1, Shape &out) const override;
    void init_control(std::uint8_t *control) noexcept override;
    void track_waitpoints(core::Segment &s) noexcept override {
        s.track(ctl().finished);
    }
    OnceControl &ctl() const noexcept { return *reinterpret_cast<OnceControl *>(control()); }
    int claimed(core::OwnerToken from) noexcept;
};

}  // namespace shmds::sync
