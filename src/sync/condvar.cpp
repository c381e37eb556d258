#include "sync/condvar.hpp"

#include "core/error.hpp"
#include "core/failpoint.hpp"
#include "core/futex.hpp"

#include <cerrno>

namespace shmds::sync {

namespace {
constexpr const char *kWhat = "the condvar's mutex";
constexpr int kWakeAll = 0x7fffffff;
}  // namespace

int Condvar::create(const shmds_options_t *opts, std::unique_ptr<Condvar> &out) {
    return create_as(opts, 0, 0, "condvar", out);
}

int Condvar::open(const shmds_options_t *opts, std::unique_ptr<Condvar> &out) {
    return open_as(opts, "condvar", out);
}

int Condvar::shape(std::uint64_t g0, std::uint64_t g1, Shape &out) const {
    if (g0 != 0 || g1 != 0) return core::fail(-EINVAL, "a condvar has no geometry");
    core::LayoutHash h;
    h.add({std::uint64_t(core::StructureType::condvar), sizeof(CondvarControl),
           offsetof(CondvarControl, signals), sizeof(OwnedMutex), sizeof(core::WaitPoint)});
    out = Shape{sizeof(CondvarControl), h.value()};
    return 0;
}

void Condvar::init_control(std::uint8_t *control) noexcept {
    auto &c = *reinterpret_cast<CondvarControl *>(control);
    owned_mutex_init(c.lock);
    core::waitpoint_init(c.signals);
}

int Condvar::lock(const core::Deadline &dl) noexcept {
    return owned_mutex_lock(ctl().lock, dl, recoveries(), kWhat);
}

int Condvar::lock_within(std::int64_t timeout_ns) noexcept {
    return owned_mutex_lock_within(ctl().lock, timeout_ns, recoveries(), kWhat);
}

int Condvar::unlock() noexcept { return owned_mutex_unlock(ctl().lock, kWhat); }

int Condvar::consistent() noexcept { return owned_mutex_consistent(ctl().lock, kWhat); }

int Condvar::wait(const core::Deadline &dl) noexcept {
    CondvarControl &c = ctl();
    if (!owned_mutex_held_by_caller(c.lock))
        return core::fail(-EPERM, "condvar wait: the calling thread does not hold {}", kWhat);
    int result = 0;
    {
        core::SleeperRegistration announce(c.signals);
        const std::uint32_t seq = announce.sampled_seq();
        if (int r = owned_mutex_unlock(c.lock, kWhat)) return r;
        SHMDS_FAILPOINT("condvar.wait.unlocked");
        // One bounded sleep (core::kWakeBoundNs): a signaller can die between changing
        // the shared state and signalling, so no wait trusts the signal to come. After
        // the bound the caller relocks and re-checks its predicate, as it must after any
        // wakeup; the header calls this a spurious wakeup.
        if (c.signals.seq.load(std::memory_order_acquire) == seq &&
            core::futex_wait(&c.signals.seq, seq, dl) == -ETIMEDOUT)
            result = -ETIMEDOUT;
    }
    int relock = owned_mutex_lock(c.lock, core::Deadline::from_timeout(-1), recoveries(), kWhat);
    SHMDS_FAILPOINT("condvar.wait.relocked");
    if (relock != 0) return relock;
    return result ? core::fail_static(-ETIMEDOUT, "condvar wait timed out (mutex relocked)") : 0;
}

void Condvar::signal() noexcept { core::waitpoint_wake(ctl().signals, 1); }

void Condvar::broadcast() noexcept { core::waitpoint_wake(ctl().signals, kWakeAll); }

std::uint32_t Condvar::waiters() const noexcept { return core::waitpoint_sleepers(ctl().signals); }

}  // namespace shmds::sync
