#include "reqrep/response_slots.hpp"

#include "core/error.hpp"
#include "core/failpoint.hpp"
#include "core/futex.hpp"
#include "core/owner.hpp"
#include "core/waitpoint.hpp"

#include <cerrno>
#include <cstring>
#include <sched.h>

namespace shmds::reqrep {

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;
constexpr auto kAcqRel = std::memory_order_acq_rel;
constexpr std::uint64_t kStateMask = 3;
// Marks an owner word being reclaimed, so only one process reclaims a slot and a
// reclaimer that dies half-way is itself seen as a dead owner.
constexpr core::OwnerToken kReclaimMark = core::OwnerToken{1} << 63;
// How long cancel waits for a live server to finish copying a reply.
constexpr std::int64_t kCancelGraceNs = 1'000'000'000;

std::uint64_t gen_of(std::uint64_t ctl) noexcept { return ctl >> 32; }
std::uint32_t state_of(std::uint64_t ctl) noexcept { return std::uint32_t(ctl & kStateMask); }
std::uint64_t ctl_of(std::uint64_t gen, SlotState s) noexcept {
    return ((gen & 0xffffffffu) << 32) | s;
}
bool same_gen(std::uint64_t ctl, std::uint64_t id) noexcept { return gen_of(ctl) == (id >> 32); }
}  // namespace

void ResponseSlots::initialize(std::uint8_t *base, const Geometry &g) noexcept {
    for (std::uint64_t i = 0; i < g.slots; ++i) {
        auto *s = reinterpret_cast<ResponseSlot *>(base + i * g.resp_stride);
        s->ctl.store(ctl_of(0, kFree), kRelaxed);
        s->owner.store(core::kNoOwner, kRelaxed);
        s->writer.store(core::kNoOwner, kRelaxed);
        s->futex.store(0, kRelaxed);
        s->waiters.store(0, kRelaxed);
        s->len.store(0, kRelaxed);
        s->replier_cpu.store(0, kRelaxed);
    }
}

bool ResponseSlots::release(ResponseSlot *s, std::uint64_t seen) noexcept {
    if (!s->ctl.compare_exchange_strong(seen, ctl_of(gen_of(seen), kFree), kAcqRel)) return false;
    SHMDS_FAILPOINT("reqrep.release.freed");
    s->writer.store(core::kNoOwner, std::memory_order_release);
    s->owner.store(core::kNoOwner, std::memory_order_release);
    ctl_->releases.fetch_add(1, std::memory_order_seq_cst);
    core::waitpoint_wake(ctl_->slots_free, 1);
    // A thread of the owner may sleep in get() while another cancels: let it see FREE.
    s->futex.fetch_add(1, std::memory_order_seq_cst);
    if (s->waiters.load(std::memory_order_seq_cst) != 0) core::futex_wake(&s->futex, 1 << 30);
    return true;
}

int ResponseSlots::acquire(std::uint64_t *id) noexcept {
    const core::OwnerToken me = core::self_owner();
    for (int pass = 0; pass < 2; ++pass) {
        const std::uint64_t start = ctl_->slot_hint.fetch_add(1, kRelaxed);
        for (std::uint64_t i = 0; i < count_; ++i) {
            const std::uint64_t index = (start + i) % count_;
            ResponseSlot *s = slot(index);
            core::OwnerToken expected = core::kNoOwner;
            if (s->owner.load(kRelaxed) != core::kNoOwner ||
                !s->owner.compare_exchange_strong(expected, me, kAcqRel))
                continue;
            SHMDS_FAILPOINT("reqrep.acquire.owned");
            // owner was 0, so the slot is FREE (a release clears owner last).
            const std::uint64_t c = s->ctl.load(std::memory_order_acquire);
            if (state_of(c) != kFree) {
                s->owner.store(core::kNoOwner, std::memory_order_release);
                continue;
            }
            const std::uint64_t gen = (gen_of(c) + 1) & 0xffffffffu;
            s->ctl.store(ctl_of(gen, kAcquired), std::memory_order_release);
            *id = make_id(gen, index);
            return 0;
        }
        // Nothing free: the slots of dead clients are what a second pass can find.
        if (pass == 0 && reclaim_dead() == 0) break;
    }
    return -EAGAIN;
}

void ResponseSlots::abandon(std::uint64_t id) noexcept {
    ResponseSlot *s = lookup(id);
    if (!s) return;
    std::uint64_t c = s->ctl.load(std::memory_order_acquire);
    if (same_gen(c, id) && state_of(c) == kAcquired) release(s, c);
}

namespace {
// Liveness answers for one reclaim pass: slots are mostly held by a few clients, and
// each uncached answer costs a /proc read.
class LivenessCache {
public:
    bool alive(core::OwnerToken t) noexcept {
        for (int i = 0; i < n_; ++i)
            if (token_[i] == t) return alive_[i];
        const bool a = core::owner_alive(t);
        const int at = n_ < kSize ? n_++ : int(t % kSize);
        token_[at] = t;
        alive_[at] = a;
        return a;
    }

private:
    static constexpr int kSize = 16;
    core::OwnerToken token_[kSize];
    bool alive_[kSize];
    int n_ = 0;
};
}  // namespace

std::uint64_t ResponseSlots::reclaim_dead() noexcept {
    const core::OwnerToken me = core::self_owner();
    LivenessCache owners;
    std::uint64_t reclaimed = 0;
    for (std::uint64_t i = 0; i < count_; ++i) {
        ResponseSlot *s = slot(i);
        core::OwnerToken o = s->owner.load(std::memory_order_acquire);
        if (o == core::kNoOwner || o == me || owners.alive(o & ~kReclaimMark)) continue;
        // Claim the reclaim by swapping the dead token for ours: one reclaimer per slot,
        // and the owner word never passes through 0 (which would let an acquire in).
        if (!s->owner.compare_exchange_strong(o, me | kReclaimMark, kAcqRel)) continue;
        SHMDS_FAILPOINT("reqrep.reclaim.claimed");
        std::uint64_t c = s->ctl.load(std::memory_order_acquire);
        for (;;) {
            if (state_of(c) == kWriting) {
                // A replier sets writer before WRITING and nobody clears it during
                // WRITING unless the replier is dead: 0 here means dead too.
                const core::OwnerToken w = s->writer.load(std::memory_order_acquire);
                if (w != core::kNoOwner && core::owner_alive(w)) {
                    // A live server is copying; leave the slot to it and try later.
                    s->owner.store(o, std::memory_order_release);
                    break;
                }
            }
            if (state_of(c) == kFree ||
                s->ctl.compare_exchange_strong(c, ctl_of(gen_of(c), kFree), kAcqRel)) {
                s->waiters.store(0, kRelaxed);  // the dead client may have been asleep
                s->writer.store(core::kNoOwner, std::memory_order_release);
                s->owner.store(core::kNoOwner, std::memory_order_release);
                ctl_->reclaimed.fetch_add(1, kRelaxed);
                if (recoveries_) recoveries_->fetch_add(1, kRelaxed);
                ctl_->releases.fetch_add(1, std::memory_order_seq_cst);
                ++reclaimed;
                break;
            }
        }
    }
    if (reclaimed) core::waitpoint_wake(ctl_->slots_free, int(reclaimed));
    return reclaimed;
}

int ResponseSlots::reply(std::uint64_t id, const void *data, std::size_t len) noexcept {
    if (len > resp_size_)
        return core::fail(-E2BIG, "reply of {} bytes exceeds the {}-byte response size", len,
                          resp_size_);
    ResponseSlot *s = lookup(id);
    if (!s) return core::fail(-ENOENT, "request id 0x{:x} names no response slot", id);
    const core::OwnerToken me = core::self_owner();
    // Claim the writer word first, so whoever finds this slot WRITING can tell a live
    // replier from a dead one.
    for (;;) {
        core::OwnerToken w = core::kNoOwner;
        if (s->writer.compare_exchange_strong(w, me, kAcqRel)) break;
        if (w == me || core::owner_alive(w)) {
            ctl_->reply_refused.fetch_add(1, kRelaxed);
            const std::uint64_t c = s->ctl.load(std::memory_order_acquire);
            if (!same_gen(c, id))
                return core::fail(-ENOENT, "request id 0x{:x} is stale: its slot was recycled", id);
            return core::fail(-EEXIST, "request id 0x{:x} is already answered or being answered",
                              id);
        }
        s->writer.compare_exchange_strong(w, core::kNoOwner, kAcqRel);  // a dead replier's
    }
    std::uint64_t c = s->ctl.load(std::memory_order_acquire);
    for (;;) {
        int refuse = 0;
        if (!same_gen(c, id)) refuse = -ENOENT;
        else if (state_of(c) == kFree) refuse = -ECANCELED;
        else if (state_of(c) != kAcquired) refuse = -EEXIST;
        if (refuse) {
            core::OwnerToken mine = me;
            s->writer.compare_exchange_strong(mine, core::kNoOwner, kAcqRel);
            ctl_->reply_refused.fetch_add(1, kRelaxed);
            if (refuse == -ENOENT)
                return core::fail(-ENOENT, "request id 0x{:x} is stale: its slot was recycled", id);
            if (refuse == -ECANCELED)
                return core::fail(-ECANCELED, "request id 0x{:x} was cancelled by its client", id);
            return core::fail(-EEXIST, "request id 0x{:x} is already answered", id);
        }
        if (s->ctl.compare_exchange_weak(c, ctl_of(gen_of(c), kWriting), kAcqRel)) break;
    }
    SHMDS_FAILPOINT("reqrep.reply.writing");
    if (len) std::memcpy(payload(s), data, len);
    s->len.store(std::uint32_t(len), kRelaxed);
    core::note_cpu(s->replier_cpu);  // whether the client's next wait here should spin
    SHMDS_FAILPOINT("reqrep.reply.copied");
    std::uint64_t writing = ctl_of(id >> 32, kWriting);
    // Only this replier moves a slot out of WRITING while it lives; the CAS documents it.
    s->ctl.compare_exchange_strong(writing, ctl_of(id >> 32, kReady), std::memory_order_seq_cst);
    SHMDS_FAILPOINT("reqrep.reply.unwoken");
    s->futex.fetch_add(1, std::memory_order_seq_cst);
    if (s->waiters.load(std::memory_order_seq_cst) != 0)
        core::futex_wake(&s->futex, 1 << 30);
    ctl_->replied.fetch_add(1, kRelaxed);
    return 0;
}

int ResponseSlots::take(std::uint64_t id, void *buf, std::size_t size, std::size_t *len) noexcept {
    ResponseSlot *s = lookup(id);
    if (!s) return core::fail(-ENOENT, "request id 0x{:x} names no response slot", id);
    std::uint64_t c = s->ctl.load(std::memory_order_acquire);
    if (!same_gen(c, id) || state_of(c) == kFree)
        return core::fail(-ENOENT, "request id 0x{:x} is stale, collected or cancelled", id);
    if (state_of(c) != kReady) return -EAGAIN;
    const std::uint32_t n = s->len.load(kRelaxed);
    if (n > resp_size_)
        return core::fail(SHMDS_ECORRUPT, "reply length {} exceeds the {}-byte response size", n,
                          resp_size_);
    *len = n;
    if (n > size) return core::fail(-ENOBUFS, "reply is {} bytes, buffer holds {}", n, size);
    if (n) std::memcpy(buf, payload(s), n);
    // Only the owning client leaves READY; a failure here means a concurrent cancel of
    // the same id by another thread, which then owns the outcome.
    if (!release(s, c))
        return core::fail(-ENOENT, "request id 0x{:x} was cancelled while being collected", id);
    ctl_->collected.fetch_add(1, kRelaxed);
    return 0;
}

int ResponseSlots::wait_change(std::uint64_t id, const core::Deadline &dl) noexcept {
    ResponseSlot *s = lookup(id);
    if (!s) return 0;
    const std::uint64_t c0 = s->ctl.load(std::memory_order_acquire);
    // Already answered, or no longer this request: nothing to wait for (the reply may
    // have landed between the caller's look and this one).
    if (!same_gen(c0, id) || state_of(c0) == kReady || state_of(c0) == kFree) return 0;
    auto changed = [&] { return s->ctl.load(std::memory_order_acquire) != c0; };
    if (core::wait_before_sleeping(changed, dl, s->replier_cpu.load(kRelaxed))) return 0;
    for (;;) {
        if (changed()) return 0;
        if (dl.expired()) return -ETIMEDOUT;
        // Announce, sample, re-check, sleep: the order that cannot miss the wake.
        s->waiters.fetch_add(1, std::memory_order_seq_cst);
        const std::uint32_t seq = s->futex.load(std::memory_order_seq_cst);
        if (!changed()) core::futex_wait(&s->futex, seq, dl);
        s->waiters.fetch_sub(1, std::memory_order_seq_cst);
    }
}

int ResponseSlots::cancel(std::uint64_t id) noexcept {
    ResponseSlot *s = lookup(id);
    if (!s) return core::fail(-ENOENT, "request id 0x{:x} names no response slot", id);
    std::int64_t busy_since = 0;
    for (;;) {
        std::uint64_t c = s->ctl.load(std::memory_order_acquire);
        if (!same_gen(c, id) || state_of(c) == kFree)
            return core::fail(-ENOENT, "request id 0x{:x} is stale, collected or cancelled", id);
        if (state_of(c) == kWriting) {
            const core::OwnerToken w = s->writer.load(std::memory_order_acquire);
            if (w != core::kNoOwner && core::owner_alive(w)) {
                const std::int64_t now = core::monotonic_ns();
                if (!busy_since) busy_since = now;
                if (now - busy_since > kCancelGraceNs)
                    return core::fail(-EAGAIN, "request id 0x{:x}: a server is still writing "
                                               "its reply; cancel again later",
                                      id);
                sched_yield();
                continue;
            }
            // The replier died mid-copy: the slot is ours to free.
        }
        if (release(s, c)) {
            ctl_->cancelled.fetch_add(1, kRelaxed);
            return 0;
        }
    }
}

std::uint64_t ResponseSlots::in_use() const noexcept {
    std::uint64_t n = 0;
    for (std::uint64_t i = 0; i < count_; ++i)
        if (state_of(slot(i)->ctl.load(kRelaxed)) != kFree) ++n;
    return n;
}

}  // namespace shmds::reqrep
