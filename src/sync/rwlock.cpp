#include "sync/rwlock.hpp"

#include "core/error.hpp"
#include "core/failpoint.hpp"
#include "core/probe_throttle.hpp"
#include "core/probe_wait.hpp"
#include "core/thread_id.hpp"

#include <cerrno>
#include <csignal>
#include <sys/syscall.h>
#include <unistd.h>

namespace shmds::sync {

namespace {
// Above any thread id in the stamp's low half (Linux thread ids fit in 30 bits).
constexpr std::uint64_t kHolding = 0x80000000u;
constexpr std::uint64_t kDepthMask = 0xffffffffu;
constexpr int kWakeAll = 0x7fffffff;
// ready() of a draining writer scans every slot; spin less before sleeping.
constexpr int kDrainSpin = 100;

// The last slot this thread used, so the common case touches one slot, not the table.
thread_local const void *t_slot_table = nullptr;
thread_local std::uint32_t t_slot_index = 0;
// Read slots this thread holds in any rwlock: when 0 (the common case) the caller
// cannot be recursing, and the table is not scanned.
thread_local std::uint32_t t_reads_held = 0;

std::uint64_t load64(const std::uint64_t &word) noexcept {
    return __atomic_load_n(&word, __ATOMIC_SEQ_CST);
}
core::Pair64 load_slot(const core::Pair64 &s) noexcept { return {load64(s.lo), load64(s.hi)}; }
std::uint32_t depth_of(std::uint64_t hi) noexcept { return std::uint32_t(hi & kDepthMask); }
std::uint32_t tid_of(std::uint64_t hi) noexcept { return std::uint32_t(hi >> 32); }

// A reader slot is dead when its process is, or when its thread has exited.
bool reader_alive(core::OwnerToken owner, std::uint32_t tid) noexcept {
    if (!core::owner_alive(owner)) return false;
    const long r = ::syscall(SYS_tgkill, pid_t(core::owner_pid(owner)), pid_t(tid), 0);
    return !(r == -1 && errno == ESRCH);
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
           offsetof(RwControl, inconsistent), offsetof(RwControl, writer_gone),
           offsetof(RwControl, readers_gone), sizeof(core::WaitPoint), sizeof(core::Pair64)});
    out = Shape{sizeof(RwControl) + slots * sizeof(core::Pair64), h.value()};
    return 0;
}

void RwLock::init_control(std::uint8_t *control) noexcept {
    auto &c = *reinterpret_cast<RwControl *>(control);
    c.writer.store(0, std::memory_order_relaxed);
    c.inconsistent.store(0, std::memory_order_relaxed);
    core::waitpoint_init(c.writer_gone);
    core::waitpoint_init(c.readers_gone);
}

bool RwLock::write_locked() const noexcept {
    return (ctl().writer.load(std::memory_order_acquire) & kHolding) != 0;
}

std::uint32_t RwLock::readers() const noexcept {
    std::uint32_t n = 0;
    for (std::uint32_t i = 0; i < reader_slots(); ++i)
        if (depth_of(load64(slots()[i].hi)) != 0) ++n;
    return n;
}

bool RwLock::holds_write() const noexcept {
    return ctl().writer.load(std::memory_order_acquire) == (core::self_thread_stamp() | kHolding);
}

int RwLock::my_read_slot() const noexcept {
    const core::OwnerToken me = core::self_owner();
    const std::uint32_t tid = core::self_tid();
    if (t_reads_held == 0) return -1;
    auto mine = [&](std::uint32_t i) {
        core::Pair64 s = load_slot(slots()[i]);
        return s.lo == me && tid_of(s.hi) == tid && depth_of(s.hi) != 0;
    };
    if (t_slot_table == control() && t_slot_index < reader_slots() && mine(t_slot_index))
        return int(t_slot_index);
    for (std::uint32_t i = 0; i < reader_slots(); ++i)
        if (mine(i)) {
            t_slot_table = control();
            t_slot_index = i;
            return int(i);
        }
    return -1;
}

int RwLock::claim_read_slot() noexcept {
    const core::Pair64 mine{core::self_owner(), (std::uint64_t(core::self_tid()) << 32) | 1};
    const std::uint32_t n = reader_slots();
    const std::uint32_t start =
        t_slot_table == control() && t_slot_index < n ? t_slot_index : (core::self_tid() * 2654435761u) % n;
    for (std::uint32_t k = 0; k < n; ++k) {
        const std::uint32_t i = (start + k) % n;
        if (load64(slots()[i].lo) != 0) continue;
        core::Pair64 expected{0, 0};
        if (core::cas16(&slots()[i], expected, mine)) {
            ++t_reads_held;
            t_slot_table = control();
            t_slot_index = i;
            return int(i);
        }
    }
    return -1;
}

void RwLock::free_read_slot(int index) noexcept {
    core::Pair64 &s = slots()[index];
    core::Pair64 expected = load_slot(s);
    core::cas16(&s, expected, core::Pair64{0, 0});
    if (t_reads_held) --t_reads_held;
    core::waitpoint_wake(ctl().readers_gone, 1);
}

bool RwLock::readers_present() const noexcept {
    for (std::uint32_t i = 0; i < reader_slots(); ++i)
        if (depth_of(load64(slots()[i].hi)) != 0) return true;
    return false;
}

std::uint32_t RwLock::clear_dead_readers() noexcept {
    std::uint32_t cleared = 0;
    for (std::uint32_t i = 0; i < reader_slots(); ++i) {
        core::Pair64 s = load_slot(slots()[i]);
        if (s.lo == 0 || reader_alive(s.lo, tid_of(s.hi))) continue;
        // The CAS fails harmlessly if the slot changed hands since we looked.
        if (core::cas16(&slots()[i], s, core::Pair64{0, 0})) {
            recoveries().fetch_add(1, std::memory_order_relaxed);
            ++cleared;
        }
    }
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

int RwLock::acquired(const char *what) noexcept {
    if (SHMDS_LIKELY(ctl().inconsistent.load(std::memory_order_acquire) == 0)) return 0;
    return core::fail(SHMDS_EOWNERDEAD,
                      "rwlock {} acquired; a writer died holding it and no writer has marked it "
                      "consistent since",
                      what);
}

int RwLock::rdlock(const core::Deadline &dl) noexcept {
    RwControl &c = ctl();
    if (int mine = my_read_slot(); mine >= 0) {
        // Recursive: no writer can hold the lock while we read, so just count.
        std::uint64_t &hi = slots()[mine].hi;
        __atomic_store_n(&hi, load64(hi) + 1, __ATOMIC_SEQ_CST);
        return 0;
    }
    if (holds_write())
        return core::fail(-EDEADLK, "rwlock: the calling thread holds the write lock");
    for (;;) {
        if (c.writer.load(std::memory_order_seq_cst) == 0) {
            int slot = claim_read_slot();
            if (slot < 0 && clear_dead_readers() > 0) slot = claim_read_slot();
            if (slot < 0)
                return core::fail(-EUSERS, "rwlock: all {} reader slots are in use",
                                  reader_slots());
            SHMDS_FAILPOINT("rwlock.rdlock.claimed");
            if (SHMDS_LIKELY(c.writer.load(std::memory_order_seq_cst) == 0)) return acquired("read lock");
            free_read_slot(slot);  // a writer claimed meanwhile: it goes first
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

int RwLock::wrlock(const core::Deadline &dl) noexcept {
    RwControl &c = ctl();
    const core::ThreadStamp me = core::self_thread_stamp();
    if (holds_write())
        return core::fail(-EDEADLK, "rwlock: the calling thread already holds the write lock");
    if (my_read_slot() >= 0)
        return core::fail(-EDEADLK, "rwlock: the calling thread holds a read lock (no upgrade)");
    for (;;) {
        std::uint64_t expected = 0;
        if (c.writer.compare_exchange_strong(expected, me, std::memory_order_seq_cst)) break;
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
    SHMDS_FAILPOINT("rwlock.wrlock.claimed");
    // New readers stay out now; wait for the ones inside to leave (or be found dead).
    int r = 0;
    while (readers_present() && (clear_dead_readers(), readers_present())) {
        if (dl.nowait()) {
            r = -EAGAIN;
            break;
        }
        r = core::wait_probing(
            c.readers_gone, dl, [&] { return !readers_present(); },
            [&] { return clear_dead_readers() > 0; }, kDrainSpin);
        if (r != 0) break;
    }
    if (r != 0) {
        c.writer.store(0, std::memory_order_seq_cst);
        core::waitpoint_wake(c.writer_gone, kWakeAll);
        return r == -EAGAIN ? core::fail_static(-EAGAIN, "rwlock has readers")
                            : core::fail_static(-ETIMEDOUT, "rwlock readers did not leave in time");
    }
    c.writer.store(me | kHolding, std::memory_order_seq_cst);
    SHMDS_FAILPOINT("rwlock.wrlock.acquired");
    return acquired("write lock");
}

int RwLock::unlock() noexcept {
    RwControl &c = ctl();
    if (holds_write()) {
        SHMDS_FAILPOINT("rwlock.unlock.write");
        c.writer.store(0, std::memory_order_seq_cst);
        SHMDS_FAILPOINT("rwlock.unlock.write.unwoken");
        core::waitpoint_wake(c.writer_gone, kWakeAll);
        return 0;
    }
    int mine = my_read_slot();
    if (mine < 0)
        return core::fail(-EPERM, "rwlock: the calling thread holds neither the write lock nor a "
                                  "read lock");
    std::uint64_t &hi = slots()[mine].hi;
    const std::uint64_t now = load64(hi);
    SHMDS_FAILPOINT("rwlock.unlock.read");
    if (depth_of(now) > 1)
        __atomic_store_n(&hi, now - 1, __ATOMIC_SEQ_CST);
    else
        free_read_slot(mine);
    return 0;
}

int RwLock::downgrade() noexcept {
    RwControl &c = ctl();
    if (!holds_write())
        return core::fail(-EPERM, "rwlock downgrade: the calling thread does not hold the write "
                                  "lock");
    int slot = claim_read_slot();
    if (slot < 0 && clear_dead_readers() > 0) slot = claim_read_slot();
    if (slot < 0)
        return core::fail(-EUSERS, "rwlock downgrade: all {} reader slots are in use",
                          reader_slots());
    SHMDS_FAILPOINT("rwlock.downgrade.claimed");
    c.writer.store(0, std::memory_order_seq_cst);
    core::waitpoint_wake(c.writer_gone, kWakeAll);
    return 0;
}

int RwLock::consistent() noexcept {
    if (!holds_write())
        return core::fail(-EPERM, "rwlock consistent: only the write-lock holder may mark it");
    if (ctl().inconsistent.load(std::memory_order_relaxed) == 0)
        return core::fail(-EINVAL, "rwlock is not marked inconsistent");
    ctl().inconsistent.store(0, std::memory_order_release);
    return 0;
}

}  // namespace shmds::sync
