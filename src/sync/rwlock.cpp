#include "sync/rwlock.hpp"

#include "core/error.hpp"
#include "core/owner.hpp"
#include "core/probe_throttle.hpp"
#include "core/probe_wait.hpp"

#include <cerrno>

namespace shmds::sync {

using namespace rwlock_detail;

namespace {
// ready() of a draining writer scans the slots in use; spin less before sleeping.
constexpr int kDrainSpin = 100;

std::uint64_t depth_of(std::uint64_t state) noexcept { return state & kDepthMask; }
std::uint32_t tag_of(std::uint64_t state) noexcept { return std::uint32_t(state >> 32); }
// The tag a change of owner moves to: odd when the slot gets an owner, even when freed.
std::uint64_t owned_state(std::uint64_t state) noexcept {
    return std::uint64_t((tag_of(state) + 1u) | 1u) << 32;
}
std::uint64_t free_state(std::uint64_t state) noexcept {
    return std::uint64_t((tag_of(state) | 1u) + 1u) << 32;
}

// A writer is dead when its thread is gone, a zombie, or its id now names another thread.
bool writer_dead(std::uint64_t w) noexcept {
    return core::thread_liveness(w & ~kHolding, /*quick=*/false) == core::Liveness::dead;
}
}  // namespace

int RwLock::create(const shmds_options_t *opts, std::uint64_t reader_slots,
                   std::unique_ptr<RwLock> &out) {
    return create_as(opts, reader_slots, 0, "rwlock", out);
}

int RwLock::open(const shmds_options_t *opts, std::unique_ptr<RwLock> &out) {
    return open_as(opts, "rwlock", out);
}

int RwLock::shape(std::uint64_t slots, std::uint64_t g1, Shape &out) const {
    if (slots == 0 || slots > kMaxReaderSlots)
        return core::fail(-EINVAL, "an rwlock needs 1 ..= {} reader slots, not {}",
                          kMaxReaderSlots, slots);
    if (g1 != 0) return core::fail(-EINVAL, "unexpected rwlock geometry word {}", g1);
    core::LayoutHash h;
    h.add({std::uint64_t(core::StructureType::rwlock), sizeof(RwControl),
           offsetof(RwControl, inconsistent), offsetof(RwControl, slots_used),
           offsetof(RwControl, writer_gone), offsetof(RwControl, readers_gone),
           sizeof(core::WaitPoint), sizeof(ReaderSlot), offsetof(ReaderSlot, state)});
    out = Shape{sizeof(RwControl) + slots * sizeof(ReaderSlot), h.value()};
    return 0;
}

void RwLock::init_control(std::uint8_t *control) noexcept {
    auto &c = *reinterpret_cast<RwControl *>(control);
    c.writer.store(0, std::memory_order_relaxed);
    c.inconsistent.store(0, std::memory_order_relaxed);
    c.slots_used.store(0, std::memory_order_relaxed);
    core::waitpoint_init(c.writer_gone);
    core::waitpoint_init(c.readers_gone);
    // The slots are zeroed memory: no owner, tag 0 (even: free), depth 0.
}

bool RwLock::write_locked() const noexcept {
    return (ctl().writer.load(std::memory_order_acquire) & kHolding) != 0;
}

std::uint32_t RwLock::readers() const noexcept {
    std::uint32_t n = 0;
    const std::uint32_t used = slots_in_use();
    for (std::uint32_t i = 0; i < used; ++i)
        if (depth_of(slot(i).state.load(std::memory_order_acquire)) != 0) ++n;
    return n;
}

std::uint32_t RwLock::claimed_slots() const noexcept {
    std::uint32_t n = 0;
    const std::uint32_t used = slots_in_use();
    for (std::uint32_t i = 0; i < used; ++i)
        if (slot(i).owner.load(std::memory_order_acquire) != 0) ++n;
    return n;
}

int RwLock::own_slot(bool holding) const noexcept {
    const std::uint64_t me = core::self_thread_stamp();
    auto mine = [&](std::uint32_t i) {
        const std::uint64_t st = slot(i).state.load(std::memory_order_acquire);
        if (slot(i).owner.load(std::memory_order_acquire) != me || !(st & kOwnedTag) ||
            (holding && depth_of(st) == 0))
            return false;
        remember_slot(i, st);
        return true;
    };
    if (t_hint.lock == control() && t_hint.index < reader_slots() &&
        mine(std::uint32_t(t_hint.index)))
        return int(t_hint.index);
    const std::uint32_t used = slots_in_use();
    for (std::uint32_t i = 0; i < used; ++i)
        if (mine(i)) return int(i);
    return -1;
}

// Fields by name, never a reference to the variable (see core/thread_id.hpp on UBSan).
void RwLock::remember_slot(std::uint32_t i, std::uint64_t state) const noexcept {
    t_hint.lock = control();
    t_hint.index = i;
    t_hint.state = state;
}

// One change of owner: {owner, state} -> {new_owner, tag moved on, depth 0}, or false
// if the slot is no longer exactly as read.
bool RwLock::take_slot(std::uint32_t i, std::uint64_t owner, std::uint64_t state,
                       std::uint64_t new_owner) noexcept {
    core::Pair64 expected{owner, state};
    const core::Pair64 desired{new_owner, new_owner ? owned_state(state) : free_state(state)};
    return core::cas16(reinterpret_cast<core::Pair64 *>(&slot(i)), expected, desired);
}

void RwLock::raise_slots_used(std::uint32_t n) noexcept {
    std::uint32_t used = ctl().slots_used.load(std::memory_order_seq_cst);
    while (used < n &&
           !ctl().slots_used.compare_exchange_weak(used, n, std::memory_order_seq_cst)) {
    }
}

int RwLock::claim_slot() noexcept {
    const std::uint64_t me = core::self_thread_stamp();
    const std::uint32_t n = reader_slots();
    auto take = [&](std::uint32_t i, std::uint64_t owner, std::uint64_t st) {
        if (!take_slot(i, owner, st, me)) return false;
        // Before the slot's first increment, so that a writer's scan covers it.
        raise_slots_used(i + 1);
        remember_slot(i, owned_state(st));
        return true;
    };
    // A free slot in [from, to), lowest first so that slots_used stays small.
    auto take_free = [&](std::uint32_t from, std::uint32_t to) {
        for (std::uint32_t i = from; i < to; ++i) {
            const std::uint64_t st = slot(i).state.load(std::memory_order_acquire);
            if (slot(i).owner.load(std::memory_order_acquire) == 0 && !(st & kOwnedTag) &&
                depth_of(st) == 0 && take(i, 0, st))
                return int(i);
        }
        return -1;
    };
    // An idle slot (depth 0) in use; `gone`: only one whose thread no longer exists.
    auto take_idle = [&](bool gone) {
        const std::uint32_t used = slots_in_use();
        const std::uint32_t start = used ? std::uint32_t(core::stamp_tid(me) % used) : 0;
        for (std::uint32_t k = 0; k < used; ++k) {
            const std::uint32_t i = (start + k) % used;
            const std::uint64_t st = slot(i).state.load(std::memory_order_acquire);
            const std::uint64_t owner = slot(i).owner.load(std::memory_order_acquire);
            if (owner == 0 || !(st & kOwnedTag) || depth_of(st) != 0) continue;
            if (gone && core::thread_liveness(owner, /*quick=*/true) != core::Liveness::dead)
                continue;
            if (take(i, owner, st)) return int(i);
        }
        return -1;
    };
    for (int round = 0; round < 2; ++round) {
        // Reuse before growing: a writer scans every slot below slots_used. An idle live
        // thread's slot is taken last (it claims another at its next read lock).
        const std::uint32_t used = slots_in_use();
        if (int got = take_free(0, used); got >= 0) return got;
        if (int got = take_idle(/*gone=*/true); got >= 0) return got;
        if (int got = take_free(used, n); got >= 0) return got;
        if (int got = take_idle(/*gone=*/false); got >= 0) return got;
        // Every slot has a reader inside: some may be dead.
        if (clear_dead_readers() == 0) break;
    }
    return -1;
}

std::uint32_t RwLock::clear_dead_readers() noexcept {
    std::uint32_t cleared = 0;
    const std::uint32_t used = slots_in_use();
    for (std::uint32_t i = 0; i < used; ++i) {
        const std::uint64_t st = slot(i).state.load(std::memory_order_acquire);
        if (depth_of(st) == 0) continue;
        const std::uint64_t owner = slot(i).owner.load(std::memory_order_acquire);
        // Depth without an owner is damage (no change of owner leaves one): clear it too.
        if (owner != 0 && core::thread_liveness(owner, /*quick=*/false) == core::Liveness::alive)
            continue;
        // The CAS fails harmlessly if the slot changed since we looked.
        if (take_slot(i, owner, st, 0)) {
            recoveries().fetch_add(1, std::memory_order_relaxed);
            ++cleared;
        }
    }
    if (cleared) core::waitpoint_wake(ctl().readers_gone, 1);
    return cleared;
}

bool RwLock::clear_dead_writer() noexcept {
    RwControl &c = ctl();
    std::uint64_t w = c.writer.load(std::memory_order_acquire);
    if (w == 0) return true;
    if (!writer_dead(w)) return false;
    // Raise the flag before freeing the word: dying in between must not lose it.
    if (w & kHolding) c.inconsistent.store(1, std::memory_order_seq_cst);
    if (c.writer.compare_exchange_strong(w, 0, std::memory_order_acq_rel)) {
        recoveries().fetch_add(1, std::memory_order_relaxed);
        core::waitpoint_wake(c.writer_gone, kWakeAll);
    }
    return true;
}

int RwLock::inconsistent_outcome(const char *what) noexcept {
    return core::fail(SHMDS_EOWNERDEAD,
                      "rwlock {} acquired; a writer died holding it and no writer has marked it "
                      "consistent since",
                      what);
}

int RwLock::acquired(const char *what) noexcept {
    if (SHMDS_LIKELY(ctl().inconsistent.load(std::memory_order_acquire) == 0)) return 0;
    return inconsistent_outcome(what);
}

void RwLock::wake_writer() noexcept { core::waitpoint_wake(ctl().readers_gone, 1); }

// The caller's read lock, found by a scan when the hint missed; else -EPERM.
int RwLock::unlock_slow() noexcept {
    if (ctl().writer.load(std::memory_order_relaxed) == (core::self_thread_stamp() | kHolding)) {
        release_write();
        return 0;
    }
    const int mine = own_slot(/*holding=*/true);
    if (mine < 0)
        return core::fail(-EPERM, "rwlock: the calling thread holds neither the write lock "
                                  "nor a read lock");
    leave_read(std::uint32_t(mine));
    return 0;
}

// The fast path's entering CAS succeeded, but a writer has claimed or the lock is
// inconsistent.
int RwLock::entered_beside(std::int64_t timeout_ns, std::uint32_t i,
                           std::uint64_t state) noexcept {
    // Recursive: no writer can hold the lock while we read, so we are in (a writer that
    // waits for us must not keep us out: that would deadlock).
    if (depth_of(state) != 0 || ctl().writer.load(std::memory_order_seq_cst) == 0)
        return acquired("read lock");
    leave_read(i);  // a writer claimed: it goes first
    return rdlock_slow(timeout_ns);
}

int RwLock::rdlock_slow(std::int64_t timeout_ns) noexcept {
    const core::Deadline dl = core::Deadline::from_timeout(timeout_ns);
    RwControl &c = ctl();
    const std::uint64_t me = core::self_thread_stamp();
    if ((c.writer.load(std::memory_order_acquire) & ~kHolding) == me)
        return core::fail(-EDEADLK, "rwlock: the calling thread holds the write lock");
    for (;;) {
        int i = own_slot(/*holding=*/false);
        if (i < 0) i = claim_slot();
        if (i < 0)
            return core::fail(-EUSERS, "rwlock: all {} reader slots have a reader inside",
                              reader_slots());
        ReaderSlot &s = slot(std::uint32_t(i));
        std::uint64_t st = s.state.load(std::memory_order_acquire);
        if (s.owner.load(std::memory_order_acquire) != me || !(st & kOwnedTag))
            continue;  // taken from us since we found it: find or claim again
        if (depth_of(st) == kDepthMask)
            return core::fail(-EAGAIN, "rwlock: the calling thread's read depth is at its limit");
        const bool recursive = depth_of(st) != 0;
        if (recursive || c.writer.load(std::memory_order_seq_cst) == 0) {
            if (!s.state.compare_exchange_strong(st, st + 1, std::memory_order_seq_cst))
                continue;
            remember_slot(std::uint32_t(i), st + 1);
            SHMDS_FAILPOINT("rwlock.rdlock.claimed");
            // Recursive: in, past a waiting writer (see entered_beside).
            if (recursive || c.writer.load(std::memory_order_seq_cst) == 0)
                return acquired("read lock");
            leave_read(std::uint32_t(i));  // a writer claimed meanwhile: it goes first
        }
        if (dl.nowait()) {
            if (core::try_probe_due(&c) && clear_dead_writer() &&
                c.writer.load(std::memory_order_seq_cst) == 0)
                continue;  // the writer was dead and is gone: try once more
            return core::fail_static(-EAGAIN, "rwlock is write-locked or claimed");
        }
        int r = core::wait_probing(
            c.writer_gone, dl, [&] { return c.writer.load(std::memory_order_acquire) == 0; },
            [&] { return clear_dead_writer(); });
        if (r != 0) return core::fail_static(-ETIMEDOUT, "rwlock stayed write-locked");
    }
}

int RwLock::wrlock_slow(std::int64_t timeout_ns) noexcept {
    const core::Deadline dl = core::Deadline::from_timeout(timeout_ns);
    const std::uint64_t me = core::self_thread_stamp();
    RwControl &c = ctl();
    for (;;) {
        std::uint64_t w = c.writer.load(std::memory_order_acquire);
        if (w == 0) {
            if (!c.writer.compare_exchange_strong(w, me, std::memory_order_seq_cst)) continue;
            SHMDS_FAILPOINT("rwlock.wrlock.claimed");
            return drain_readers(dl, me);
        }
        if ((w & ~kHolding) == me)
            return core::fail(-EDEADLK, "rwlock: the calling thread already holds the write lock");
        // The writer ahead may be waiting for our own read lock to drain.
        if (own_slot(/*holding=*/true) >= 0)
            return core::fail(-EDEADLK,
                              "rwlock: the calling thread holds a read lock (no upgrade)");
        if (dl.nowait()) {
            if (core::try_probe_due(&c) && clear_dead_writer() &&
                c.writer.load(std::memory_order_seq_cst) == 0)
                continue;  // the writer was dead and is gone: try once more
            return core::fail_static(-EAGAIN, "rwlock has a writer");
        }
        int r = core::wait_probing(
            c.writer_gone, dl, [&] { return c.writer.load(std::memory_order_acquire) == 0; },
            [&] { return clear_dead_writer(); });
        if (r != 0) return core::fail_static(-ETIMEDOUT, "rwlock stayed write-locked");
    }
}

int RwLock::drain_readers(std::int64_t timeout_ns, std::uint64_t me) noexcept {
    return drain_readers(core::Deadline::from_timeout(timeout_ns), me);
}

// The writer word is ours: new readers stay out. Wait for the ones inside to leave (or
// be found dead), then hold.
int RwLock::drain_readers(const core::Deadline &dl, std::uint64_t me) noexcept {
    int r = 0;
    while (readers_present()) {
        if (own_slot(/*holding=*/true) >= 0) {
            withdraw_claim();
            return core::fail(-EDEADLK, "rwlock: the calling thread holds a read lock (no upgrade)");
        }
        if (dl.nowait()) {
            // A try never sleeps, so it asks about dead readers at once (throttled).
            if (core::try_probe_due(&ctl()) && clear_dead_readers() > 0 && !readers_present())
                break;
            r = -EAGAIN;
            break;
        }
        r = core::wait_probing(
            ctl().readers_gone, dl, [&] { return !readers_present(); },
            [&] { return clear_dead_readers() > 0; }, kDrainSpin);
        if (r != 0) break;
    }
    if (r != 0) {
        withdraw_claim();
        return r == -EAGAIN ? core::fail_static(-EAGAIN, "rwlock has readers")
                            : core::fail_static(-ETIMEDOUT, "rwlock readers did not leave in time");
    }
    return hold_write(me);
}

int RwLock::hold_write(std::uint64_t me) noexcept {
    ctl().writer.store(me | kHolding, std::memory_order_release);  // as in wrlock()
    SHMDS_FAILPOINT("rwlock.wrlock.acquired");
    return acquired("write lock");
}

void RwLock::withdraw_claim() noexcept {
    ctl().writer.store(0, std::memory_order_seq_cst);
    core::waitpoint_wake(ctl().writer_gone, kWakeAll);
}

int RwLock::downgrade() noexcept {
    RwControl &c = ctl();
    const std::uint64_t me = core::self_thread_stamp();
    if (c.writer.load(std::memory_order_acquire) != (me | kHolding))
        return core::fail(-EPERM, "rwlock downgrade: the calling thread does not hold the write "
                                  "lock");
    // We hold the write lock, so no reader can be inside and no handshake is needed;
    // only an idle slot of ours can be taken meanwhile, which sends us round again.
    for (;;) {
        int i = own_slot(/*holding=*/false);
        if (i < 0) i = claim_slot();
        if (i < 0)
            return core::fail(-EUSERS, "rwlock downgrade: all {} reader slots have a reader "
                                       "inside",
                              reader_slots());
        ReaderSlot &s = slot(std::uint32_t(i));
        std::uint64_t st = s.state.load(std::memory_order_acquire);
        if (s.owner.load(std::memory_order_acquire) == me && (st & kOwnedTag) &&
            s.state.compare_exchange_strong(st, st + 1, std::memory_order_seq_cst)) {
            remember_slot(std::uint32_t(i), st + 1);
            break;
        }
    }
    SHMDS_FAILPOINT("rwlock.downgrade.claimed");
    c.writer.store(0, std::memory_order_seq_cst);
    core::waitpoint_wake(c.writer_gone, kWakeAll);
    return 0;
}

int RwLock::consistent() noexcept {
    const std::uint64_t me = core::self_thread_stamp();
    if (ctl().writer.load(std::memory_order_acquire) != (me | kHolding))
        return core::fail(-EPERM, "rwlock consistent: only the write-lock holder may mark it");
    if (ctl().inconsistent.load(std::memory_order_relaxed) == 0)
        return core::fail(-EINVAL, "rwlock is not marked inconsistent");
    ctl().inconsistent.store(0, std::memory_order_release);
    return 0;
}

}  // namespace shmds::sync
