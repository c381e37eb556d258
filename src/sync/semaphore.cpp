#include "sync/semaphore.hpp"

#include "core/error.hpp"
#include "core/failpoint.hpp"
#include "core/futex.hpp"
#include "core/platform.hpp"
#include "core/probe_throttle.hpp"
#include "core/probe_wait.hpp"
#include "core/thread_id.hpp"

#include <algorithm>
#include <cerrno>
#include <sched.h>

namespace shmds::sync {

namespace {
constexpr std::int64_t kBriefLockWaitNs = 10'000'000;
// Under the lock, attempts at a claim that failed only because other processes' claims
// were in flight (the value was there again after backing off).
constexpr int kLockedClaimAttempts = 1000;
// How long a clamped release waits for another process's claim in flight to settle
// before it leaves that slot alone (its process is stopped or very slow).
constexpr std::int64_t kClaimSettleNs = 10'000'000;

using detail::kTagMask;

using detail::claiming;
using detail::count_of;
using detail::tag_of;

bool idle(std::uint64_t word) { return (word & (kSlotCountMask | kSlotClaiming)) == 0; }

// The per-handle cache word (see Semaphore::my_slot).
std::uint64_t pack_slot(std::uint32_t epoch, std::uint64_t tag, int index) {
    return (std::uint64_t(epoch & detail::kEpochMask) << 40) | (tag << 9) |
           (std::uint64_t(index) << 1) | 1;
}
}  // namespace

int Semaphore::create(const shmds_options_t *opts, std::uint64_t max, std::uint64_t initial,
                      std::unique_ptr<Semaphore> &out) {
    return create_as(opts, max, initial, "semaphore", out);
}

int Semaphore::open(const shmds_options_t *opts, std::unique_ptr<Semaphore> &out) {
    return open_as(opts, "semaphore", out);
}

int Semaphore::shape(std::uint64_t max, std::uint64_t initial, Shape &out) const {
    if (max == 0) return core::fail(-EINVAL, "a semaphore needs max >= 1");
    if (max > kMaxPermits)
        return core::fail(-EINVAL, "semaphore max {} exceeds the maximum {}", max, kMaxPermits);
    if (initial > max)
        return core::fail(-EINVAL, "semaphore initial value {} exceeds its max {}", initial, max);
    core::LayoutHash h;
    h.add({std::uint64_t(core::StructureType::semaphore), sizeof(SemaphoreControl),
           offsetof(SemaphoreControl, missing), offsetof(SemaphoreControl, slots_used),
           offsetof(SemaphoreControl, available), sizeof(HolderSlot), sizeof(core::WaitPoint),
           sizeof(core::RobustMutex), kHolderSlots, kSlotClaiming, kSlotTagShift});
    out = Shape{sizeof(SemaphoreControl) + kHolderSlots * sizeof(HolderSlot), h.value()};
    return 0;
}

void Semaphore::init_control(std::uint8_t *control) noexcept {
    auto &c = *reinterpret_cast<SemaphoreControl *>(control);
    core::robust_mutex_init(c.lock);
    c.missing.store(std::uint32_t(geometry(0) - geometry(1)), std::memory_order_relaxed);
    c.slots_used.store(0, std::memory_order_relaxed);
    core::waitpoint_init(c.available);
    // Holder slots are zero (free, tag 0) in the new segment.
}

// ---------------------------------------------------------------- reading the state

bool Semaphore::others_hold() const noexcept {
    MySlot mine;
    const int own = my_slot(mine) ? mine.index : -1;
    const HolderSlot *s = slots();
    for (std::uint32_t i = 0, n = used_slots(); i < n; ++i)
        if (int(i) != own && count_of(s[i].word.load(std::memory_order_relaxed)) != 0) return true;
    return false;
}

std::uint32_t Semaphore::value() const noexcept {
    const std::uint64_t out = missing_now() + held_total();
    return out >= max() ? 0 : std::uint32_t(max() - out);
}

std::uint64_t Semaphore::held_by_caller() const noexcept {
    const core::OwnerToken me = core::self_owner();
    std::uint64_t total = 0;
    const HolderSlot *s = slots();
    for (std::uint32_t i = 0, n = used_slots(); i < n; ++i)
        if (s[i].owner.load(std::memory_order_acquire) == me)
            total += count_of(s[i].word.load(std::memory_order_acquire));
    return total;
}

// ---------------------------------------------------------------- the fast paths

Semaphore::Claim Semaphore::backed_off(std::uint64_t out, std::uint32_t n) noexcept {
    // Permits were left without our claim: a waiter may have seen our claim in the sum
    // and gone to sleep on it.
    if (out - n < max()) wake(n);
    return Claim::short_of_permits;
}

int Semaphore::acquire_slow_within(std::uint32_t n, std::int64_t timeout_ns) noexcept {
    return acquire_slow(n, core::Deadline::from_timeout(timeout_ns));
}

int Semaphore::release_locked_path(std::uint32_t n) noexcept {
    if (n == 0) return core::fail(-EINVAL, "release of 0 permits");
    if (int r = lock_for(core::Deadline::from_timeout(-1))) return r;
    release_slow(n);
    unlock();
    SHMDS_FAILPOINT("semaphore.release.unwoken");
    wake(n);
    return 0;
}

// ---------------------------------------------------------------- the locked paths

int Semaphore::lock_for(const core::Deadline &dl) noexcept {
    // The internal lock is held for a few stores only, so even a try form waits for it
    // briefly rather than report "no permits" while permits are there.
    const core::Deadline lock_dl = dl.nowait() ? core::Deadline::after_ns(kBriefLockWaitNs) : dl;
    // Every change under the lock is one atomic step that keeps the accounting whole,
    // so a dead holder of the lock leaves nothing to repair.
    auto r = core::robust_mutex_lock(ctl().lock, lock_dl, nullptr, nullptr, &recoveries());
    // Without a deadline, only a damaged lock word fails (robust_mutex_lock said so).
    if (r == core::LockResult::timed_out && lock_dl.forever()) return SHMDS_ECORRUPT;
    if (r == core::LockResult::timed_out)
        return dl.nowait() ? core::fail_static(-EAGAIN, "the semaphore is busy")
                           : core::fail_static(-ETIMEDOUT, "the semaphore stayed busy");
    return 0;
}

void Semaphore::unlock() noexcept { core::robust_mutex_unlock(ctl().lock); }

int Semaphore::claim_slot_locked(MySlot &out) noexcept {
    if (my_slot(out)) return 0;
    core::track_forks();
    const core::OwnerToken me = core::self_owner();
    HolderSlot *s = slots();
    const std::uint32_t used = used_slots();
    int free_slot = -1;
    // This process's slot (claimed through another handle, or before a takeover of
    // the cache), else a free one, else a new one, else an idle one of another process.
    for (std::uint32_t i = 0; i < used; ++i) {
        const core::OwnerToken o = s[i].owner.load(std::memory_order_relaxed);
        if (o == me) {
            my_slot_.store(pack_slot(core::fork_epoch(),
                                     tag_of(s[i].word.load(std::memory_order_relaxed)), int(i)),
                           std::memory_order_relaxed);
            return my_slot(out) ? 0 : -EUSERS;
        }
        if (free_slot < 0 && o == core::kNoOwner && idle(s[i].word.load(std::memory_order_relaxed)))
            free_slot = int(i);
    }
    bool taken = free_slot >= 0 && take_slot_locked(std::uint32_t(free_slot), me);
    if (!taken && used < kHolderSlots) {
        // Published before the slot can hold a count, so every sum covers it.
        ctl().slots_used.store(used + 1, std::memory_order_seq_cst);
        taken = take_slot_locked(used, me);
    }
    // An idle slot of another process. Its owner, if alive, may start an acquire on it
    // at any time (the fast path takes no lock): then the next idle one.
    for (std::uint32_t i = 0; !taken && i < used; ++i)
        taken = idle(s[i].word.load(std::memory_order_relaxed)) && take_slot_locked(i, me);
    return taken && my_slot(out) ? 0 : -EUSERS;
}

// Slot i for this process, if its word is still idle: a new tag first, so that a
// previous owner's cached tag now fails its CAS and it can never add to a slot recorded
// under another process's name.
bool Semaphore::take_slot_locked(std::uint32_t i, core::OwnerToken me) noexcept {
    HolderSlot &slot = slots()[i];
    SHMDS_FAILPOINT("semaphore.claim.picked");
    std::uint64_t w = slot.word.load(std::memory_order_relaxed);
    std::uint64_t tag;
    do {
        if (!idle(w)) return false;
        tag = (tag_of(w) + 1) & kTagMask;
    } while (!slot.word.compare_exchange_weak(w, tag << kSlotTagShift, std::memory_order_seq_cst,
                                              std::memory_order_relaxed));
    SHMDS_FAILPOINT("semaphore.claim.tagged");
    slot.owner.store(me, std::memory_order_release);
    my_slot_.store(pack_slot(core::fork_epoch(), tag, int(i)), std::memory_order_relaxed);
    return true;
}

int Semaphore::take_locked(std::uint32_t n) noexcept {
    MySlot mine;
    int r = claim_slot_locked(mine);
    if (r != 0 && reclaim_dead_locked() > 0) r = claim_slot_locked(mine);
    if (r != 0)
        return core::fail(-EUSERS,
                          "all {} semaphore holder slots are taken by live processes holding "
                          "permits",
                          kHolderSlots);
    for (int attempt = 0; attempt < kLockedClaimAttempts; ++attempt) {
        switch (try_take(mine, n)) {
        case Claim::taken:
            return 0;
        case Claim::retry_locked:
            // Our cached slot was taken over (claim again), or another thread of ours
            // is claiming on it (wait for it).
            if (!my_slot(mine) || tag_of(slots()[mine.index].word.load(
                                      std::memory_order_relaxed)) != mine.tag) {
                my_slot_.store(0, std::memory_order_relaxed);
                if (claim_slot_locked(mine) != 0) return -EAGAIN;
            }
            core::cpu_relax();
            break;
        case Claim::short_of_permits:
            // Short, or other processes' claims in flight: only the first is a reason to
            // wait (their claims back off and wake us anyway).
            if (value() < n) return -EAGAIN;
            core::cpu_relax();
            break;
        }
    }
    return -EAGAIN;
}

std::uint32_t Semaphore::reclaim_dead_locked() noexcept {
    std::uint32_t reclaimed = 0;
    HolderSlot *s = slots();
    for (std::uint32_t i = 0, n = used_slots(); i < n; ++i) {
        const core::OwnerToken o = s[i].owner.load(std::memory_order_acquire);
        std::uint64_t w = s[i].word.load(std::memory_order_acquire);
        // A slot that holds nothing returns nothing: no liveness check (a /proc read).
        if (o == core::kNoOwner || idle(w) || core::owner_alive(o)) continue;
        // Its count is the whole record of its permits (a claim it died in included:
        // it never returned from that acquire). Clearing it returns them.
        while (!idle(w) && !s[i].word.compare_exchange_weak(
                               w, w & ~(kSlotCountMask | kSlotClaiming),
                               std::memory_order_seq_cst, std::memory_order_relaxed)) {
        }
        recoveries().fetch_add(1, std::memory_order_relaxed);
        ++reclaimed;
        SHMDS_FAILPOINT("semaphore.reclaim.returned");
        s[i].owner.store(core::kNoOwner, std::memory_order_release);
    }
    return reclaimed;
}

bool Semaphore::reclaim_dead(const core::Deadline &dl) noexcept {
    if (lock_for(dl) != 0) return false;
    const std::uint32_t n = reclaim_dead_locked();
    unlock();
    if (n) core::waitpoint_wake(ctl().available, 0x7fffffff);
    return n != 0;
}

void Semaphore::release_slow(std::uint32_t n) noexcept {
    std::uint64_t left = n;
    // 1. What this process holds. Another thread of ours may be claiming on the slot:
    //    it settles within a few instructions.
    MySlot mine;
    if (!my_slot(mine)) {
        const core::OwnerToken me = core::self_owner();
        for (std::uint32_t i = 0, u = used_slots(); i < u; ++i)
            if (slots()[i].owner.load(std::memory_order_relaxed) == me) {
                my_slot_.store(pack_slot(core::fork_epoch(),
                                         tag_of(slots()[i].word.load(std::memory_order_relaxed)),
                                         int(i)),
                               std::memory_order_relaxed);
                break;
            }
    }
    if (my_slot(mine)) {
        HolderSlot &s = slots()[mine.index];
        std::uint64_t w = s.word.load(std::memory_order_relaxed);
        while (left && tag_of(w) == mine.tag && count_of(w)) {
            if (claiming(w)) {
                core::cpu_relax();
                w = s.word.load(std::memory_order_relaxed);
                continue;
            }
            const std::uint64_t k = std::min(count_of(w), left);
            if (s.word.compare_exchange_weak(w, w - k, std::memory_order_seq_cst,
                                             std::memory_order_relaxed))
                left -= k;
        }
    }
    SHMDS_FAILPOINT("semaphore.release.paid");
    // 2. Permits missing from the semaphore.
    std::uint32_t m = ctl().missing.load(std::memory_order_relaxed);
    while (left && m) {
        const std::uint32_t k = std::uint32_t(std::min<std::uint64_t>(m, left));
        if (ctl().missing.compare_exchange_weak(m, m - k, std::memory_order_seq_cst,
                                                std::memory_order_relaxed))
            left -= k;
    }
    SHMDS_FAILPOINT("semaphore.release.returned");
    // 3. The value would pass max: count what others hold as released.
    if (left) forgive_locked(left);
}

std::uint64_t Semaphore::forgive_locked(std::uint64_t left) noexcept {
    std::uint64_t forgiven = 0;
    HolderSlot *s = slots();
    for (std::uint32_t i = 0, n = used_slots(); i < n && left; ++i) {
        std::uint64_t w = s[i].word.load(std::memory_order_relaxed);
        std::int64_t settle_by = 0;
        while (left && count_of(w)) {
            if (claiming(w)) {
                // A claim in flight may be backed off: its count is not ours to take.
                const std::int64_t now = core::monotonic_ns();
                if (settle_by == 0) settle_by = now + kClaimSettleNs;
                if (now >= settle_by) break;  // a stopped claimant: leave its slot alone
                sched_yield();
                w = s[i].word.load(std::memory_order_relaxed);
                continue;
            }
            const std::uint64_t k = std::min(count_of(w), left);
            if (s[i].word.compare_exchange_weak(w, w - k, std::memory_order_seq_cst,
                                                std::memory_order_relaxed)) {
                left -= k;
                forgiven += k;
            }
        }
    }
    return forgiven;
}

int Semaphore::drain(std::uint32_t *taken) noexcept {
    *taken = 0;
    if (int r = lock_for(core::Deadline::from_timeout(-1))) return r;
    int r = 0;
    for (int attempt = 0; attempt < kLockedClaimAttempts; ++attempt) {
        const std::uint32_t v = value();
        if (v == 0) break;
        r = take_locked(v);
        if (r == 0) *taken = v;
        if (r != -EAGAIN) break;
        r = 0;  // the value changed under us: look again
    }
    unlock();
    return r;
}

// ---------------------------------------------------------------- waiting

int Semaphore::acquire_slow(std::uint32_t n, const core::Deadline &dl) noexcept {
    if (n == 0) return core::fail(-EINVAL, "acquire of 0 permits");
    if (n > max())
        return core::fail(-EINVAL, "acquire of {} permits from a semaphore whose max is {}", n,
                          max());
    SemaphoreControl &c = ctl();
    bool woken = false;
    for (;;) {
        if (value() >= n) {
            // After a wait, the lock-free claim first: the lock only settles claims that
            // keep colliding.
            MySlot mine;
            if (woken && my_slot(mine) && try_take(mine, n) == Claim::taken) return 0;
            if (int r = lock_for(dl)) return r;
            int r = take_locked(n);
            unlock();
            if (r != -EAGAIN) return r;
        }
        if (dl.nowait()) {
            // A try reclaims dead holders' permits too (at most once per interval), so a
            // process that only tries is not locked out for good by a death.
            if (core::try_probe_due(&c) && reclaim_dead(dl) && value() >= n) continue;
            return core::fail_static(-EAGAIN, "not enough permits available");
        }
        if (int r = wait_for(n, dl)) return r;
        woken = true;
    }
}

int Semaphore::wait_for(std::uint32_t n, const core::Deadline &dl) noexcept {
    auto ready = [&] { return value() >= n; };
    // No spinning before the first sleep: a spinning waiter reads the holder's slot on
    // every round, pulling its line away just as the holder releases and re-acquires
    // (2-process counter under 1 permit: 9M incr/s with the default 20 us spin, 33M
    // without; as for the mutex, owned_mutex.hpp).
    const int spin = 0;
    std::int64_t next_probe = core::monotonic_ns() + core::kFirstProbeNs;
    for (;;) {
        // Only another holder's death can bring permits without a release (which wakes
        // us), so with none there is nothing to probe for: sleep to the wake bound.
        const bool probing = others_hold();
        const std::int64_t wake_at = probing ? next_probe : core::monotonic_ns() + core::kWakeBoundNs;
        if (core::waitpoint_wait(ctl().available, dl.capped_at(wake_at), ready, spin) == 0)
            return 0;
        if (probing && core::monotonic_ns() >= next_probe) {
            if (reclaim_dead(dl)) return 0;  // the caller re-checks
            next_probe = core::monotonic_ns() + core::kProbeIntervalNs;
        }
        if (dl.expired()) {
            if (ready()) return 0;
            return core::fail(-ETIMEDOUT, "{} permits did not become available in time", n);
        }
    }
}

}  // namespace shmds::sync
