// The rwlock primitive: write-preferring, readers recursive per thread, and no shared
// reader count that a death could leak (the reference's lesson 6).
//
// Writer: one 64-bit word holding the writer thread's stamp (core/thread_id.hpp:
// thread id and start time, so one CAS records who claimed it). A writer first claims
// the word (from then on no new reader enters: that is the write preference), then
// waits for the readers present to drain, then sets kHolding in the word. A dead writer
// (its process killed, or its thread ended without unlocking) is noticed by any
// waiter's liveness probe (within about 10 ms) and cleared; if it had been holding the lock, the
// inconsistent flag is raised and every locker gets SHMDS_EOWNERDEAD until a writer
// calls consistent().
//
// Readers: a table of slots {owner token, thread id << 32 | depth}, one per reading
// thread, claimed and freed with a 16-byte CAS. A reader publishes its slot, then looks
// at the writer word; a writer publishes its claim, then scans the slots (a Dekker
// handshake through sequentially consistent operations). The writer clears slots whose
// process or thread is dead. A fork() child has another token, so it never owns (or
// releases) its parent's read locks.
#pragma once

#include "core/owner.hpp"
#include "core/waitpoint.hpp"
#include "core/wide_cas.hpp"
#include "sync/sync_segment.hpp"

#include <atomic>
#include <cstdint>
#include <memory>

namespace shmds::sync {

inline constexpr std::uint64_t kMaxReaderSlots = 4096;
inline constexpr std::uint64_t kDefaultReaderSlots = 128;

struct alignas(core::kCacheLine) RwControl {
    std::atomic<std::uint64_t> writer;  // writer stamp | kHolding, or 0
    std::atomic<std::uint32_t> inconsistent;
    std::uint32_t reserved_;
    core::WaitPoint writer_gone;   // readers and writers wait for the writer word to clear
    core::WaitPoint readers_gone;  // a claiming writer waits for readers to drain
    // followed by core::Pair64 slots[reader_slots]: lo = owner token, hi = tid << 32 | depth
};

class RwLock final : public SyncSegment {
public:
    static int create(const shmds_options_t *opts, std::uint64_t reader_slots,
                      std::unique_ptr<RwLock> &out);
    static int open(const shmds_options_t *opts, std::unique_ptr<RwLock> &out);

    // 0; SHMDS_EOWNERDEAD (held; a writer died holding it and nobody repaired since);
    // -EAGAIN (NOWAIT); -ETIMEDOUT; -EDEADLK; -EUSERS (no free reader slot).
    int rdlock(const core::Deadline &dl) noexcept;
    int wrlock(const core::Deadline &dl) noexcept;
    int unlock() noexcept;     // the caller's write lock, else one level of its read lock
    int downgrade() noexcept;  // write -> read without letting another writer in
    int consistent() noexcept;
    std::uint32_t reader_slots() const noexcept { return std::uint32_t(geometry(0)); }
    std::uint32_t readers() const noexcept;  // reading threads now
    bool write_locked() const noexcept;

private:
    friend struct core::EngineFactory;
    RwLock() noexcept : SyncSegment(core::StructureType::rwlock) {}
    int shape(std::uint64_t g0, std::uint64_t g1, Shape &out) const override;
    void init_control(std::uint8_t *control) noexcept override;
    void track_waitpoints(core::Segment &s) noexcept override {
        s.track(ctl().writer_gone);
        s.track(ctl().readers_gone);
    }
    RwControl &ctl() const noexcept { return *reinterpret_cast<RwControl *>(control()); }
    core::Pair64 *slots() const noexcept {
        return reinterpret_cast<core::Pair64 *>(control() + sizeof(RwControl));
    }

    int my_read_slot() const noexcept;  // the caller's slot with depth > 0, or -1
    int claim_read_slot() noexcept;     // a slot now {me, tid|1}, or -1
    void free_read_slot(int index) noexcept;
    bool holds_write() const noexcept;
    bool clear_dead_writer() noexcept;
    std::uint32_t clear_dead_readers() noexcept;
    bool readers_present() const noexcept;
    int acquired(const char *what) noexcept;
};

}  // namespace shmds::sync
