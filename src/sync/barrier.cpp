#include "sync/barrier.hpp"

#include "core/error.hpp"
#include "core/failpoint.hpp"
#include "core/probe_wait.hpp"

#include <algorithm>
#include <cerrno>

namespace shmds::sync {

namespace {
constexpr int kWakeAll = 0x7fffffff;
constexpr std::int64_t kBriefLockWaitNs = 10'000'000;

constexpr std::uint64_t kBrokenBit = std::uint64_t{1} << 31;

std::uint32_t gen_of(std::uint64_t state) { return std::uint32_t(state >> 32); }
std::uint32_t arrived_of(std::uint64_t state) { return std::uint32_t(state & (kBrokenBit - 1)); }
bool broken_in(std::uint64_t state) { return (state & kBrokenBit) != 0; }
std::uint64_t make_state(std::uint32_t gen, std::uint32_t arrived) {
    return (std::uint64_t(gen) << 32) | arrived;
}
}  // namespace

int Barrier::create(const shmds_options_t *opts, std::uint64_t parties,
                    std::unique_ptr<Barrier> &out) {
    return create_as(opts, parties, 0, "barrier", out);
}

int Barrier::open(const shmds_options_t *opts, std::unique_ptr<Barrier> &out) {
    return open_as(opts, "barrier", out);
}

int Barrier::shape(std::uint64_t parties, std::uint64_t g1, Shape &out) const {
    if (parties < 2) return core::fail(-EINVAL, "a barrier needs at least 2 parties, not {}", parties);
    if (parties > kMaxParties)
        return core::fail(-EINVAL, "a barrier of {} parties exceeds the maximum {}", parties,
                          kMaxParties);
    if (g1 != 0) return core::fail(-EINVAL, "unexpected barrier geometry word {}", g1);
    core::LayoutHash h;
    h.add({std::uint64_t(core::StructureType::barrier), sizeof(BarrierControl),
           offsetof(BarrierControl, state), offsetof(BarrierControl, tripped),
           offsetof(BarrierControl, outcome), kOutcomeRing, sizeof(core::WaitPoint),
           sizeof(core::RobustMutex), sizeof(core::OwnerToken)});
    out = Shape{sizeof(BarrierControl) + parties * sizeof(core::OwnerToken), h.value()};
    return 0;
}

void Barrier::init_control(std::uint8_t *control) noexcept {
    auto &c = *reinterpret_cast<BarrierControl *>(control);
    core::robust_mutex_init(c.lock);
    c.state.store(0, std::memory_order_relaxed);
    core::waitpoint_init(c.tripped);
}

std::uint32_t Barrier::generation() const noexcept {
    return gen_of(ctl().state.load(std::memory_order_acquire));
}
std::uint32_t Barrier::arrived() const noexcept {
    return arrived_of(ctl().state.load(std::memory_order_acquire));
}
bool Barrier::is_broken() const noexcept {
    return broken_in(ctl().state.load(std::memory_order_acquire));
}
int Barrier::lock_for(const core::Deadline &dl) noexcept {
    // Held for a few stores: even a NOWAIT probe waits for it briefly.
    const core::Deadline lock_dl = dl.nowait() ? core::Deadline::after_ns(kBriefLockWaitNs) : dl;
    // Every change commits with one store, so a dead holder leaves nothing to repair;
    // a party that died after arriving is caught by the sleepers' liveness probes.
    auto r = core::robust_mutex_lock(ctl().lock, lock_dl, nullptr, nullptr, &recoveries());
    // Without a deadline, only a damaged lock word fails (robust_mutex_lock said so).
    if (r == core::LockResult::timed_out && lock_dl.forever()) return SHMDS_ECORRUPT;
    if (r == core::LockResult::timed_out)
        return core::fail_static(dl.nowait() ? -EAGAIN : -ETIMEDOUT, "the barrier stayed busy");
    return 0;
}

void Barrier::unlock() noexcept { core::robust_mutex_unlock(ctl().lock); }

int Barrier::outcome_of(std::uint32_t gen) const noexcept {
    auto o = BarrierOutcome(ctl().outcome[gen % kOutcomeRing].load(std::memory_order_acquire));
    return o == BarrierOutcome::tripped
               ? 0
               : core::fail_static(-ECANCELED, "the barrier was reset while waiting");
}

bool Barrier::break_locked(std::uint32_t gen) noexcept {
    BarrierControl &c = ctl();
    const std::uint64_t st = c.state.load(std::memory_order_relaxed);
    if (gen_of(st) != gen || broken_in(st)) return false;
    c.state.store(st | kBrokenBit, std::memory_order_release);
    core::waitpoint_wake(c.tripped, kWakeAll);
    return true;
}

bool Barrier::break_if_a_party_died(std::uint32_t gen, const core::Deadline &dl) noexcept {
    if (lock_for(dl) != 0) return false;
    const std::uint64_t st = ctl().state.load(std::memory_order_relaxed);
    bool broke = false;
    if (gen_of(st) == gen && !broken_in(st)) {
        const std::uint32_t n = std::min(arrived_of(st), parties());
        for (std::uint32_t i = 0; i < n && !broke; ++i) {
            if (core::owner_alive(arrivals()[i].load(std::memory_order_relaxed))) continue;
            broke = break_locked(gen);
            recoveries().fetch_add(1, std::memory_order_relaxed);
        }
    }
    unlock();
    return broke;
}

int Barrier::wait(const core::Deadline &dl) noexcept {
    BarrierControl &c = ctl();
    if (int r = lock_for(dl)) return r;
    const std::uint64_t st = c.state.load(std::memory_order_relaxed);
    const std::uint32_t gen = gen_of(st);
    const std::uint32_t arrived = arrived_of(st);
    if (broken_in(st)) {
        unlock();
        return core::fail_static(-ECANCELED, "the barrier is broken; reset it");
    }
    if (arrived >= parties()) {  // only a corrupt segment gets here
        unlock();
        return core::fail(SHMDS_ECORRUPT, "barrier: {} arrived of {} parties", arrived, parties());
    }
    if (arrived + 1 == parties()) {
        SHMDS_FAILPOINT("barrier.trip.before");
        c.outcome[gen % kOutcomeRing].store(std::uint8_t(BarrierOutcome::tripped),
                                            std::memory_order_relaxed);
        c.outcome[(gen + 1) % kOutcomeRing].store(std::uint8_t(BarrierOutcome::pending),
                                                  std::memory_order_relaxed);
        c.state.store(make_state(gen + 1, 0), std::memory_order_release);
        unlock();
        SHMDS_FAILPOINT("barrier.trip.unwoken");
        core::waitpoint_wake(c.tripped, kWakeAll);
        return kLeader;
    }
    if (dl.nowait()) {
        unlock();
        return core::fail_static(-EAGAIN, "the barrier is not complete (probe: nothing changed)");
    }
    arrivals()[arrived].store(core::self_owner(), std::memory_order_relaxed);
    c.state.store(make_state(gen, arrived + 1), std::memory_order_release);
    SHMDS_FAILPOINT("barrier.wait.arrived");
    unlock();
    SHMDS_FAILPOINT("barrier.wait.sleeping");

    auto over = [&] {
        const std::uint64_t now = c.state.load(std::memory_order_acquire);
        return gen_of(now) != gen || broken_in(now);
    };
    int r = core::wait_probing(c.tripped, dl, over, [&] { return break_if_a_party_died(gen, dl); });
    if (gen_of(c.state.load(std::memory_order_acquire)) != gen) return outcome_of(gen);
    if (r == 0) return core::fail_static(-ECANCELED, "the barrier was broken while waiting");
    // Our own timeout breaks the generation for everyone (unless it just ended).
    if (lock_for(core::Deadline::from_timeout(-1)) == 0) {
        bool broke = break_locked(gen);
        unlock();
        if (broke) return core::fail_static(-ETIMEDOUT, "barrier timed out; it is now broken");
    }
    if (gen_of(c.state.load(std::memory_order_acquire)) != gen) return outcome_of(gen);
    return core::fail_static(-ECANCELED, "the barrier was broken while waiting");
}

int Barrier::reset() noexcept {
    BarrierControl &c = ctl();
    if (int r = lock_for(core::Deadline::from_timeout(-1))) return r;
    const std::uint64_t st = c.state.load(std::memory_order_relaxed);
    const std::uint32_t gen = gen_of(st);
    const bool cancel = arrived_of(st) != 0 || broken_in(st);
    if (cancel) {
        SHMDS_FAILPOINT("barrier.reset.before");
        c.outcome[gen % kOutcomeRing].store(std::uint8_t(BarrierOutcome::cancelled),
                                            std::memory_order_relaxed);
        c.outcome[(gen + 1) % kOutcomeRing].store(std::uint8_t(BarrierOutcome::pending),
                                                  std::memory_order_relaxed);
        c.state.store(make_state(gen + 1, 0), std::memory_order_release);
    }
    unlock();
    if (cancel) core::waitpoint_wake(c.tripped, kWakeAll);
    return 0;
}

}  // namespace shmds::sync
