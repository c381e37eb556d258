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
// address, the slot index and the slot's state as the thread last set or saw it). The
// fast paths check the slot's owner word and CAS from the remembered state without
// reading the state first: a load of the line just before the locked instruction that
// depends on it made a read lock+unlock about a quarter slower. The owner word and the
// tag in the state are the truth; a stale hint (another lock mapped at the same
// address, a slot taken, a depth changed by a slow path) only fails the CAS and sends
// the caller to the slow path, which finds or claims its slot and refreshes the hint.
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
    std::uint64_t state;  // the slot's state as this thread last set or saw it
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
        using namespace rwlock_detail;
        RwControl &c = ctl();  // once: every atomic below would make the compiler reload it
        const std::uint64_t me = core::cached_thread_stamp();  // 0: not cached, slow path
        if (SHMDS_LIKELY(me != 0 && t_hint.lock == control() && t_hint.index < reader_slots())) {
            ReaderSlot &s = slot(std::uint32_t(t_hint.index));
            // The remembered state was ours (owned, with its tag) when we saw it; if the
            // entering CAS finds it unchanged, no change of owner happened since (each
            // one changes the tag), so the owner read before it is the owner still.
            std::uint64_t st = t_hint.state;
            if (SHMDS_LIKELY(s.owner.load(std::memory_order_relaxed) == me &&
                             (st & kOwnedTag) && (st & kDepthMask) != kDepthMask &&
                             c.writer.load(std::memory_order_relaxed) == 0 &&
                             s.state.compare_exchange_strong(st, st + 1,
                                                             std::memory_order_seq_cst))) {
                t_hint.state = st + 1;
                SHMDS_FAILPOINT("rwlock.rdlock.claimed");
                if (SHMDS_LIKELY(c.writer.load(std::memory_order_seq_cst) == 0 &&
                                 c.inconsistent.load(std::memory_order_acquire) == 0))
                    return 0;
                return entered_beside(timeout_ns, std::uint32_t(t_hint.index), st);
            }
        }
        return rdlock_slow(timeout_ns);
    }
    int wrlock(std::int64_t timeout_ns) noexcept {
        RwControl &c = ctl();
        const std::uint64_t me = core::cached_thread_stamp();
        std::uint64_t seen = 0;
        if (SHMDS_UNLIKELY(me == 0 ||
                           !c.writer.compare_exchange_strong(seen, me, std::memory_order_seq_cst)))
            return wrlock_slow(timeout_ns);
        SHMDS_FAILPOINT("rwlock.wrlock.claimed");
        if (SHMDS_UNLIKELY(readers_present())) return drain_readers(timeout_ns, me);
        // Only this thread, dead-writer repair and reports look at kHolding: no
        // handshake rides on it, so a plain release store.
        c.writer.store(me | rwlock_detail::kHolding, std::memory_order_release);
        SHMDS_FAILPOINT("rwlock.wrlock.acquired");
        if (SHMDS_LIKELY(c.inconsistent.load(std::memory_order_acquire) == 0)) return 0;
        return inconsistent_outcome("write lock");
    }
    // One level of the caller's read lock, else its write lock (a thread never holds
    // both). 0 or -EPERM.
    int unlock() noexcept {
        using namespace rwlock_detail;
        const std::uint64_t me = core::cached_thread_stamp();  // 0: not cached, slow path
        if (SHMDS_LIKELY(me != 0 && t_hint.lock == control() && t_hint.index < reader_slots())) {
            ReaderSlot &s = slot(std::uint32_t(t_hint.index));
            // While we read (depth > 0) nobody else changes our slot, so the remembered
            // state is the slot's unless a slow path moved it (then the CAS fails).
            std::uint64_t st = t_hint.state;
            if (SHMDS_LIKELY(s.owner.load(std::memory_order_relaxed) == me &&
                             (st & kOwnedTag) && (st & kDepthMask) != 0)) {
                SHMDS_FAILPOINT("rwlock.unlock.read");
                if (SHMDS_LIKELY(s.state.compare_exchange_strong(st, st - 1,
                                                                 std::memory_order_seq_cst))) {
                    t_hint.state = st - 1;
                    left_read(st);
                    return 0;
                }
            }
        }
        if (SHMDS_LIKELY(me != 0 &&
                         ctl().writer.load(std::memory_order_relaxed) == (me | kHolding))) {
            release_write();
            return 0;
        }
        return unlock_slow();
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

    void release_write() noexcept {
        SHMDS_FAILPOINT("rwlock.unlock.write");
        ctl().writer.store(0, std::memory_order_seq_cst);
        SHMDS_FAILPOINT("rwlock.unlock.write.unwoken");
        core::waitpoint_wake(ctl().writer_gone, kWakeAll);
    }
    // One level of the caller's read lock on slot i (which it reads in: nobody else
    // changes it meanwhile); wakes a draining writer at depth 0.
    void leave_read(std::uint32_t i) noexcept {
        SHMDS_FAILPOINT("rwlock.unlock.read");
        const std::uint64_t before = slot(i).state.fetch_sub(1, std::memory_order_seq_cst);
        remember_slot(i, before - 1);
        left_read(before);
    }
    // After a read level's decrement from `before`: the reader's half of the handshake
    // with a writer draining the readers (seq_cst, after the seq_cst decrement).
    void left_read(std::uint64_t before) noexcept {
        if (SHMDS_UNLIKELY((before & rwlock_detail::kDepthMask) == 1 &&
                           ctl().writer.load(std::memory_order_seq_cst) != 0))
            wake_writer();
    }
    // Any slot in use with depth > 0 (seq_cst loads: the writer's half of the handshake).
    bool readers_present() const noexcept {
        const std::uint32_t used = slots_in_use();
        for (std::uint32_t i = 0; i < used; ++i)
            if (slot(i).state.load(std::memory_order_seq_cst) & rwlock_detail::kDepthMask)
                return true;
        return false;
    }
    // Everything but the fast paths (out of line; they make the deadline).
    int rdlock_slow(std::int64_t timeout_ns) noexcept;
    int entered_beside(std::int64_t timeout_ns, std::uint32_t i, std::uint64_t state) noexcept;
    int wrlock_slow(std::int64_t timeout_ns) noexcept;
    int drain_readers(std::int64_t timeout_ns, std::uint64_t me) noexcept;
    int drain_readers(const core::Deadline &dl, std::uint64_t me) noexcept;
    int hold_write(std::uint64_t me) noexcept;
    void withdraw_claim() noexcept;
    void wake_writer() noexcept;
    int acquired(const char *what) noexcept;
    int inconsistent_outcome(const char *what) noexcept;
    int unlock_slow() noexcept;

    // The caller's slot (hint first, then a scan), or -1. `holding`: only one where it
    // reads now (depth > 0). Updates the hint.
    int own_slot(bool holding) const noexcept;
    int claim_slot() noexcept;  // a slot now owned by the caller (depth 0), or -1
    void remember_slot(std::uint32_t i, std::uint64_t state) const noexcept;  // the hint
    bool take_slot(std::uint32_t i, std::uint64_t owner, std::uint64_t state,
                   std::uint64_t new_owner) noexcept;
    void raise_slots_used(std::uint32_t n) noexcept;
    bool clear_dead_writer() noexcept;
    std::uint32_t clear_dead_readers() noexcept;
};

}  // namespace shmds::sync
