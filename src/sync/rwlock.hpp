// The rwlock primitive: write-preferring, readers recursive per thread, and no shared
// reader count that a death could leak (the reference's lesson 6).
//
// Writer: one 64-bit word holding the writer thread's stamp (core/thread_id.hpp:
// thread id and start time, so one CAS records who claimed it). A writer first claims
// the word (from then on no new reader enters: that is the write preference), then
// waits for the readers present to drain, then sets kHolding in the word. A dead writer
// (its process killed, or its thread ended without unlocking) is noticed by any
// waiter's liveness probe (core/probe_wait.hpp: after 1 ms, then every 8 ms) and
// cleared; if it had been holding the lock, the inconsistent flag is raised and every
// locker gets SHMDS_EOWNERDEAD until a writer calls consistent().
//
// Readers (a reader indicator): every reading thread owns a slot of its own cache line,
// {owner = its thread stamp, state = claim tag << 32 | its read depth}. A thread claims
// its slot at its first read lock and keeps it, so a read lock is one CAS on its own
// slot's state (depth + 1) followed by a load of the writer word, and an unlock one
// decrement: no shared counter bounces between readers. The increment is sequentially
// consistent and a writer's claim too, and each then reads the other's word (a Dekker
// handshake): either the reader sees the writer and backs off, or the writer sees the
// reader's depth and waits for it. A writer scans only the slots ever claimed (the
// high-water mark `slots_used`, raised before the claimed slot's first increment, so
// the same handshake covers it).
//
// Who may change a slot: its owner changes the depth (one CAS to enter, a decrement to
// leave); every change of owner (claim, taking an idle slot, clearing a dead owner's)
// is one 16-byte CAS of the whole slot that also changes the tag, odd while owned and
// even while free. The owner's entering CAS names the state it read, tag included, so
// it fails if the slot changed hands after it checked the owner: a slot cannot be
// taken from under an entering reader. A slot whose owner is idle (depth 0) may be
// taken by a thread that finds no free slot, so reader_slots bounds the threads that
// hold read locks at once, not the threads that ever read. A slot with depth > 0 whose
// owner thread is dead is cleared by a writer (or a claimer) and counted as a
// recovery. A fork() child runs on another thread, so it never owns (or releases) its
// parent's read locks.
//
// Each thread remembers the last slot it used (a process-local hint: the lock's mapping
// address and the slot index). The slot's owner word, checked on every use, is the
// truth; a stale hint (another lock mapped at the same address, a slot taken) only
// sends the caller to the slow path, which finds or claims its slot.
//
// Fast paths are inline and take the caller's raw timeout: a deadline (a clock read) is
// made only when the caller is about to wait.
#pragma once

#include "core/deadline.hpp"
#include "core/failpoint.hpp"
#include "core/platform.hpp"
#include "core/thread_id.hpp"
#include "core/waitpoint.hpp"
#include "core/wide_cas.hpp"
#include "sync/sync_segment.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace shmds::sync {

inline constexpr std::uint64_t kMaxReaderSlots = 4096;
inline constexpr std::uint64_t kDefaultReaderSlots = 128;

struct alignas(core::kCacheLine) RwControl {
    std::atomic<std::uint64_t> writer;  // writer stamp | kHolding, or 0
    std::atomic<std::uint32_t> inconsistent;
    std::atomic<std::uint32_t> slots_used;  // slots [0, slots_used) were ever claimed (untrusted)
    core::WaitPoint writer_gone;   // readers and writers wait for the writer word to clear
    core::WaitPoint readers_gone;  // a claiming writer waits for readers to drain
    // followed by ReaderSlot slots[reader_slots]
};
static_assert(offsetof(RwControl, slots_used) == 12);

// One reading thread's slot, alone on its cache line: readers never share a line.
struct alignas(core::kCacheLine) ReaderSlot {
    std::atomic<std::uint64_t> owner;  // the owner thread's stamp; 0 = free
    std::atomic<std::uint64_t> state;  // tag << 32 | read depth (tag odd = owned)
};
static_assert(sizeof(ReaderSlot) == core::kCacheLine && offsetof(ReaderSlot, state) == 8);

namespace rwlock_detail {
inline constexpr std::uint64_t kHolding = 0x80000000u;  // above any thread id
inline constexpr std::uint64_t kDepthMask = 0xffffffffu;
inline constexpr std::uint64_t kOwnedTag = std::uint64_t{1} << 32;  // the tag's low bit

// The slot this thread used last, per thread (see the top). initial-exec for the same
// reason as core's thread identity: the fast path reads it on every call.
struct SlotHint {
    const void *lock;  // the control block's address in this process
    std::uint64_t index;
};
__attribute__((tls_model("initial-exec"))) inline thread_local SlotHint t_hint{};
}  // namespace rwlock_detail

class RwLock final : public SyncSegment {
public:
    static int create(const shmds_options_t *opts, std::uint64_t reader_slots,
                      std::unique_ptr<RwLock> &out);
    static int open(const shmds_options_t *opts, std::unique_ptr<RwLock> &out);

    // timeout_ns as the C API takes it (already checked: >= -1).
    // 0; SHMDS_EOWNERDEAD (held; a writer died holding it and nobody repaired since);
    // -EAGAIN (NOWAIT, or the thread's read depth is at its 2^32-1 limit); -ETIMEDOUT;
    // -EDEADLK; -EUSERS (no free reader slot).
    int rdlock(std::int64_t timeout_ns) noexcept {
        if (SHMDS_LIKELY(enter_read_fast())) return acquired("read lock");
        return rdlock_slow(core::Deadline::from_timeout(timeout_ns));
    }
    int wrlock(std::int64_t timeout_ns) noexcept {
        const std::uint64_t me = core::self_thread_stamp();
        std::uint64_t seen = 0;
        if (SHMDS_UNLIKELY(!ctl().writer.compare_exchange_strong(seen, me,
                                                                 std::memory_order_seq_cst)))
            return wrlock_slow(core::Deadline::from_timeout(timeout_ns), me);
        SHMDS_FAILPOINT("rwlock.wrlock.claimed");
        if (SHMDS_UNLIKELY(readers_present()))
            return drain_readers(core::Deadline::from_timeout(timeout_ns), me);
        return hold_write(me);
    }
    // The caller's write lock, else one level of its read lock. 0 or -EPERM.
    int unlock() noexcept {
        RwControl &c = ctl();
        if (c.writer.load(std::memory_order_relaxed) ==
            (core::self_thread_stamp() | rwlock_detail::kHolding)) {
            SHMDS_FAILPOINT("rwlock.unlock.write");
            c.writer.store(0, std::memory_order_seq_cst);
            SHMDS_FAILPOINT("rwlock.unlock.write.unwoken");
            core::waitpoint_wake(c.writer_gone, kWakeAll);
            return 0;
        }
        int mine = hinted_slot();
        if (SHMDS_UNLIKELY(mine < 0 || !reading(std::uint32_t(mine)))) {
            mine = own_slot(/*holding=*/true);
            if (mine < 0) return unlock_refused();
        }
        leave_read(std::uint32_t(mine));
        return 0;
    }
    int downgrade() noexcept;  // write -> read without letting another writer in
    int consistent() noexcept;
    std::uint32_t reader_slots() const noexcept { return std::uint32_t(geometry(0)); }
    std::uint32_t readers() const noexcept;        // reading threads now
    std::uint32_t claimed_slots() const noexcept;  // slots with an owner (idle or reading)
    bool write_locked() const noexcept;

private:
    friend struct core::EngineFactory;
    static constexpr int kWakeAll = 0x7fffffff;
    RwLock() noexcept : SyncSegment(core::StructureType::rwlock) {}
    int shape(std::uint64_t g0, std::uint64_t g1, Shape &out) const override;
    void init_control(std::uint8_t *control) noexcept override;
    void track_waitpoints(core::Segment &s) noexcept override {
        s.track(ctl().writer_gone);
        s.track(ctl().readers_gone);
    }
    RwControl &ctl() const noexcept { return *reinterpret_cast<RwControl *>(control()); }
    ReaderSlot &slot(std::uint32_t i) const noexcept {
        return reinterpret_cast<ReaderSlot *>(control() + sizeof(RwControl))[i];
    }
    // Slots a writer must look at: the shared high-water mark, bounded by our geometry.
    std::uint32_t slots_in_use() const noexcept {
        const std::uint32_t used = ctl().slots_used.load(std::memory_order_seq_cst);
        return used < reader_slots() ? used : reader_slots();
    }

    // The hinted slot if the calling thread owns it, else -1 (the slow path scans).
    int hinted_slot() const noexcept {
        using rwlock_detail::t_hint;
        if (SHMDS_UNLIKELY(t_hint.lock != control() || t_hint.index >= reader_slots()))
            return -1;
        const std::uint32_t i = std::uint32_t(t_hint.index);
        if (SHMDS_UNLIKELY(slot(i).owner.load(std::memory_order_relaxed) !=
                           core::self_thread_stamp()))
            return -1;
        return int(i);
    }
    // Whether the caller, owning slot i, reads now.
    bool reading(std::uint32_t i) const noexcept {
        const std::uint64_t st = slot(i).state.load(std::memory_order_relaxed);
        return (st & rwlock_detail::kOwnedTag) && (st & rwlock_detail::kDepthMask);
    }

    // The read fast path: the hinted slot is ours, no writer: depth + 1. False with
    // nothing changed (or a back-off already undone); the slow path decides then.
    bool enter_read_fast() noexcept {
        using namespace rwlock_detail;
        if (SHMDS_UNLIKELY(t_hint.lock != control() || t_hint.index >= reader_slots()))
            return false;
        ReaderSlot &s = slot(std::uint32_t(t_hint.index));
        // The state before the owner: if the entering CAS below finds the state unchanged,
        // no change of owner happened since (each one changes the tag), so the owner
        // read in between is still the owner.
        std::uint64_t st = s.state.load(std::memory_order_acquire);
        if (SHMDS_UNLIKELY(s.owner.load(std::memory_order_relaxed) != core::self_thread_stamp() ||
                           !(st & kOwnedTag) || (st & kDepthMask) == kDepthMask ||
                           ctl().writer.load(std::memory_order_relaxed) != 0))
            return false;
        if (SHMDS_UNLIKELY(!s.state.compare_exchange_strong(st, st + 1, std::memory_order_seq_cst)))
            return false;
        SHMDS_FAILPOINT("rwlock.rdlock.claimed");
        if (SHMDS_LIKELY(ctl().writer.load(std::memory_order_seq_cst) == 0)) return true;
        if ((st & kDepthMask) != 0) return true;  // recursive: in, even past a writer
        leave_read(std::uint32_t(t_hint.index));  // a writer claimed meanwhile: it goes first
        return false;
    }
    // One level of the caller's read lock on slot i; wakes a draining writer at depth 0.
    void leave_read(std::uint32_t i) noexcept {
        SHMDS_FAILPOINT("rwlock.unlock.read");
        const std::uint64_t before = slot(i).state.fetch_sub(1, std::memory_order_seq_cst);
        if ((before & rwlock_detail::kDepthMask) == 1 &&
            SHMDS_UNLIKELY(ctl().writer.load(std::memory_order_seq_cst) != 0))
            core::waitpoint_wake(ctl().readers_gone, 1);
    }
    // Any slot in use with depth > 0 (seq_cst loads: the writer's half of the handshake).
    bool readers_present() const noexcept {
        const std::uint32_t used = slots_in_use();
        for (std::uint32_t i = 0; i < used; ++i)
            if (slot(i).state.load(std::memory_order_seq_cst) & rwlock_detail::kDepthMask)
                return true;
        return false;
    }
    int hold_write(std::uint64_t me) noexcept {
        // Only this thread, dead-writer repair and readers' reports look at kHolding: no
        // handshake rides on it, so a plain release store.
        ctl().writer.store(me | rwlock_detail::kHolding, std::memory_order_release);
        SHMDS_FAILPOINT("rwlock.wrlock.acquired");
        return acquired("write lock");
    }
    int acquired(const char *what) noexcept {
        if (SHMDS_LIKELY(ctl().inconsistent.load(std::memory_order_acquire) == 0)) return 0;
        return inconsistent_outcome(what);
    }

    int rdlock_slow(const core::Deadline &dl) noexcept;
    int wrlock_slow(const core::Deadline &dl, std::uint64_t me) noexcept;
    int drain_readers(const core::Deadline &dl, std::uint64_t me) noexcept;
    void withdraw_claim() noexcept;
    int inconsistent_outcome(const char *what) noexcept;
    int unlock_refused() noexcept;

    // The caller's slot (hint first, then a scan), or -1. `holding`: only one where it
    // reads now (depth > 0). Updates the hint.
    int own_slot(bool holding) const noexcept;
    int claim_slot() noexcept;  // a slot now owned by the caller (depth 0), or -1
    bool take_slot(std::uint32_t i, std::uint64_t owner, std::uint64_t state,
                   std::uint64_t new_owner) noexcept;
    void raise_slots_used(std::uint32_t n) noexcept;
    bool clear_dead_writer() noexcept;
    std::uint32_t clear_dead_readers() noexcept;
};

}  // namespace shmds::sync
