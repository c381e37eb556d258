#include "sync/semaphore.hpp"

#include "core/error.hpp"
#include "core/failpoint.hpp"
#include "core/probe_throttle.hpp"
#include "core/probe_wait.hpp"

#include <algorithm>
#include <cerrno>

namespace shmds::sync {

namespace {
constexpr std::uint32_t kNoSlot = 0xffffffffu;
constexpr std::int64_t kBriefLockWaitNs = 10'000'000;

std::uint32_t holder_slots_for(std::uint64_t max) {
    return std::uint32_t(std::min<std::uint64_t>(max, kMaxHolderSlots));
}

int wake_count(std::uint32_t n) { return n > 0x7fffffffu ? 0x7fffffff : int(n); }
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
           offsetof(SemaphoreControl, value), offsetof(SemaphoreControl, journal),
           offsetof(SemaphoreControl, available), sizeof(SemaphoreJournal), sizeof(HolderSlot),
           sizeof(core::WaitPoint), sizeof(core::RobustMutex), kMaxHolderSlots});
    out = Shape{sizeof(SemaphoreControl) + holder_slots_for(max) * sizeof(HolderSlot), h.value()};
    return 0;
}

void Semaphore::init_control(std::uint8_t *control) noexcept {
    auto &c = *reinterpret_cast<SemaphoreControl *>(control);
    core::robust_mutex_init(c.lock);
    c.value.store(std::uint32_t(geometry(1)), std::memory_order_relaxed);
    c.journal.valid.store(0, std::memory_order_relaxed);
    core::waitpoint_init(c.available);
    // Holder slots are zero (free) in the new segment.
}

std::uint32_t Semaphore::slot_count() const noexcept { return holder_slots_for(geometry(0)); }

std::uint32_t Semaphore::value() const noexcept {
    return ctl().value.load(std::memory_order_acquire);
}

void Semaphore::repair(void *self) noexcept {
    auto *s = static_cast<Semaphore *>(self);
    SemaphoreJournal &j = s->ctl().journal;
    if (j.valid.load(std::memory_order_acquire) == 0) return;
    // The dead holder was part-way through a change: put back what the journal saved.
    const std::uint32_t slot = j.slot.load(std::memory_order_relaxed);
    if (slot < s->slot_count()) {
        s->slots()[slot].owner.store(j.old_owner.load(std::memory_order_relaxed),
                                     std::memory_order_relaxed);
        s->slots()[slot].count.store(j.old_count.load(std::memory_order_relaxed),
                                     std::memory_order_relaxed);
    }
    const std::uint32_t old_value = j.old_value.load(std::memory_order_relaxed);
    s->ctl().value.store(std::min(old_value, s->max()), std::memory_order_release);
    j.valid.store(0, std::memory_order_release);
}

int Semaphore::lock_for(const core::Deadline &dl) noexcept {
    // The internal lock is held for a few stores only, so even a try form waits for it
    // briefly rather than report "no permits" while permits are there.
    const core::Deadline lock_dl = dl.nowait() ? core::Deadline::after_ns(kBriefLockWaitNs) : dl;
    auto r = core::robust_mutex_lock(ctl().lock, lock_dl, &Semaphore::repair, this,
                                     &recoveries());
    // Without a deadline, only a damaged lock word fails (robust_mutex_lock said so).
    if (r == core::LockResult::timed_out && lock_dl.forever()) return SHMDS_ECORRUPT;
    if (r == core::LockResult::timed_out)
        return dl.nowait() ? core::fail_static(-EAGAIN, "the semaphore is busy")
                           : core::fail_static(-ETIMEDOUT, "the semaphore stayed busy");
    return 0;
}

void Semaphore::unlock() noexcept { core::robust_mutex_unlock(ctl().lock); }

void Semaphore::change_locked(int slot, std::uint32_t new_value, core::OwnerToken owner,
                              std::uint64_t count, const char *fp_journaled,
                              const char *fp_changed) noexcept {
    SemaphoreJournal &j = ctl().journal;
    j.old_value.store(ctl().value.load(std::memory_order_relaxed), std::memory_order_relaxed);
    j.slot.store(slot < 0 ? kNoSlot : std::uint32_t(slot), std::memory_order_relaxed);
    if (slot >= 0) {
        j.old_owner.store(slots()[slot].owner.load(std::memory_order_relaxed),
                          std::memory_order_relaxed);
        j.old_count.store(slots()[slot].count.load(std::memory_order_relaxed),
                          std::memory_order_relaxed);
    }
    j.valid.store(1, std::memory_order_release);
    SHMDS_FAILPOINT(fp_journaled);
    ctl().value.store(new_value, std::memory_order_release);
    SHMDS_FAILPOINT(fp_changed);
    if (slot >= 0) {
        slots()[slot].count.store(count, std::memory_order_release);
        slots()[slot].owner.store(owner, std::memory_order_release);
    }
    j.valid.store(0, std::memory_order_release);
}

int Semaphore::find_slot_locked(bool claim_free) noexcept {
    const core::OwnerToken me = core::self_owner();
    const std::uint32_t n = slot_count();
    HolderSlot *s = slots();
    const int hint = slot_hint_.load(std::memory_order_relaxed);
    if (hint >= 0 && std::uint32_t(hint) < n &&
        s[hint].owner.load(std::memory_order_relaxed) == me)
        return hint;
    int free_slot = -1;
    for (std::uint32_t i = 0; i < n; ++i) {
        core::OwnerToken o = s[i].owner.load(std::memory_order_relaxed);
        if (o == me) {
            slot_hint_.store(int(i), std::memory_order_relaxed);
            return int(i);
        }
        if (o == core::kNoOwner && free_slot < 0) free_slot = int(i);
    }
    if (claim_free && free_slot >= 0) slot_hint_.store(free_slot, std::memory_order_relaxed);
    return claim_free ? free_slot : -1;
}

std::uint32_t Semaphore::reclaim_dead_locked() noexcept {
    std::uint32_t reclaimed = 0;
    HolderSlot *s = slots();
    for (std::uint32_t i = 0; i < slot_count(); ++i) {
        core::OwnerToken o = s[i].owner.load(std::memory_order_relaxed);
        if (o == core::kNoOwner || core::owner_alive(o)) continue;
        const std::uint64_t held = s[i].count.load(std::memory_order_relaxed);
        const std::uint64_t v = ctl().value.load(std::memory_order_relaxed);
        change_locked(int(i), std::uint32_t(std::min<std::uint64_t>(max(), v + held)),
                      core::kNoOwner, 0, "semaphore.reclaim.journaled",
                      "semaphore.reclaim.returned");
        recoveries().fetch_add(1, std::memory_order_relaxed);
        ++reclaimed;
    }
    return reclaimed;
}

bool Semaphore::reclaim_dead(const core::Deadline &dl) noexcept {
    if (lock_for(dl) != 0) return false;
    std::uint32_t n = reclaim_dead_locked();
    unlock();
    if (n) core::waitpoint_wake(ctl().available, 0x7fffffff);
    return n != 0;
}

int Semaphore::take_locked(std::uint32_t n) noexcept {
    const std::uint32_t v = ctl().value.load(std::memory_order_relaxed);
    if (v < n) return -EAGAIN;
    int slot = find_slot_locked(true);
    if (slot < 0 && reclaim_dead_locked() > 0) slot = find_slot_locked(true);
    if (slot < 0)
        return core::fail(-EUSERS,
                          "all {} semaphore holder slots are taken by live processes holding "
                          "permits",
                          slot_count());
    const std::uint64_t held = slots()[slot].count.load(std::memory_order_relaxed);
    change_locked(slot, v - n, core::self_owner(), held + n, "semaphore.acquire.journaled",
                  "semaphore.acquire.taken");
    SHMDS_FAILPOINT("semaphore.acquire.held");
    return 0;
}

int Semaphore::acquire(std::uint32_t n, const core::Deadline &dl) noexcept {
    if (n == 0) return core::fail(-EINVAL, "acquire of 0 permits");
    if (n > max())
        return core::fail(-EINVAL, "acquire of {} permits from a semaphore whose max is {}", n,
                          max());
    SemaphoreControl &c = ctl();
    for (;;) {
        if (c.value.load(std::memory_order_acquire) >= n) {
            if (int r = lock_for(dl)) return r;
            int r = take_locked(n);
            unlock();
            if (r != -EAGAIN) return r;
        }
        if (dl.nowait()) {
            // A try reclaims dead holders' permits too (at most once per interval), so a
            // process that only tries is not locked out for good by a death.
            if (core::try_probe_due(&c) && reclaim_dead(dl) &&
                c.value.load(std::memory_order_acquire) >= n)
                continue;
            return core::fail_static(-EAGAIN, "not enough permits available");
        }
        int r = core::wait_probing(
            c.available, dl, [&] { return c.value.load(std::memory_order_acquire) >= n; },
            [&] { return reclaim_dead(dl); });
        if (r != 0)
            return core::fail(-ETIMEDOUT, "{} permits did not become available in time", n);
    }
}

int Semaphore::release(std::uint32_t n) noexcept {
    if (n == 0) return core::fail(-EINVAL, "release of 0 permits");
    if (int r = lock_for(core::Deadline::from_timeout(-1))) return r;
    const std::uint64_t v = ctl().value.load(std::memory_order_relaxed);
    const std::uint32_t new_value = std::uint32_t(std::min<std::uint64_t>(max(), v + n));
    int slot = find_slot_locked(false);
    if (slot >= 0) {
        const std::uint64_t held = slots()[slot].count.load(std::memory_order_relaxed);
        const std::uint64_t left = held > n ? held - n : 0;
        change_locked(slot, new_value, left ? core::self_owner() : core::kNoOwner, left,
                      "semaphore.release.journaled", "semaphore.release.returned");
    } else {
        change_locked(-1, new_value, core::kNoOwner, 0, "semaphore.release.journaled",
                      "semaphore.release.returned");
    }
    unlock();
    SHMDS_FAILPOINT("semaphore.release.unwoken");
    core::waitpoint_wake(ctl().available, wake_count(n));
    return 0;
}

int Semaphore::drain(std::uint32_t *taken) noexcept {
    *taken = 0;
    if (int r = lock_for(core::Deadline::from_timeout(-1))) return r;
    const std::uint32_t v = ctl().value.load(std::memory_order_relaxed);
    int r = v ? take_locked(v) : 0;
    unlock();
    if (r == 0) *taken = v;
    return r;
}

std::uint64_t Semaphore::held_by_caller() const noexcept {
    const core::OwnerToken me = core::self_owner();
    std::uint64_t total = 0;
    for (std::uint32_t i = 0; i < slot_count(); ++i)
        if (slots()[i].owner.load(std::memory_order_acquire) == me)
            total += slots()[i].count.load(std::memory_order_relaxed);
    return total;
}

}  // namespace shmds::sync
