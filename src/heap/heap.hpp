// The heap: a bounded priority queue of (int64 priority, value) in shared memory, the
// value an int64 or bytes up to a fixed max_len. Lowest priority first (highest with
// the max flag); equal priorities leave in push order (FIFO).
//
// Lock-based on purpose: one core::RobustMutex (the StampLock protocol) guards the array
// heap and the journal that makes every sift crash-safe (layout.hpp). A push writes the
// new entry into the moving slot and commits by storing the journal's op (the item is
// in), or, when the entry belongs at the end (no sift), writes it into slot size and
// commits by storing the size; a pop copies the root out, moves the last entry into the
// moving slot and commits the same way (the item is out). The sift that follows keeps "array minus the hole,
// plus the moving entry" equal to the heap's contents at every instruction, so a holder
// SIGKILLed anywhere loses nothing but its own call, duplicates nothing, and the next
// locker (within about 10 ms: core::wait_probing) puts the moving entry into the hole
// and re-heapifies: O(size) entry comparisons, a few milliseconds for a million
// entries. Every index read from shared memory is bounds-checked; a control block that
// breaks an invariant is counted as a recovery and the heap emptied, never trusted.
#pragma once

#include "core/block.hpp"
#include "core/deadline.hpp"
#include "core/engine_factory.hpp"
#include "core/error.hpp"
#include "core/eventfd.hpp"
#include "core/failpoint.hpp"
#include "core/segment.hpp"
#include "heap/layout.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace shmds::heap {

using core::Deadline;

struct Config {
    ElemType variant;  // int64 or bytes (the factory's name for the element type)
    std::uint64_t capacity;
    std::uint64_t max_len;  // bytes only
    std::uint64_t flags;    // kFlagMax
};

// What a push copies in: n items, priorities[i] with ints[i] (int64 heap) or
// datas[i]/lens[i] (bytes heap; datas[i] may be NULL for len 0).
struct Items {
    const std::int64_t *priorities = nullptr;
    const std::int64_t *ints = nullptr;
    const void *const *datas = nullptr;
    const std::size_t *lens = nullptr;
};

// Where a pop or peek puts items: priorities[i] (may be NULL: not wanted) with ints[i]
// (int64 heap) or the bytes packed back to back into buf, lens[i] each length (on
// -ENOBUFS lens[i] = the length needed).
struct Out {
    std::int64_t *priorities = nullptr;
    std::int64_t *ints = nullptr;
    void *buf = nullptr;
    std::size_t buf_size = 0;
    std::size_t *lens = nullptr;
};

struct Stats {
    std::uint64_t size, capacity, max_len, flags, push_ok, pop_ok, push_full, pop_empty, cleared,
        recoveries, segment_bytes;
    std::uint32_t push_waiters, pop_waiters;
};

class Heap final : public core::SegmentClient {
public:
    static int create(const shmds_options_t *opts, const Config &cfg, std::unique_ptr<Heap> &out);
    // wanted_type: int64, bytes, or 0 for whatever the segment holds.
    static int open(const shmds_options_t *opts, std::uint32_t wanted_type,
                    std::unique_ptr<Heap> &out);

    ElemType elem_type() const noexcept { return geom_.type; }
    bool is_bytes() const noexcept { return geom_.type == ElemType::bytes; }
    bool is_max() const noexcept { return max_; }
    // -E2BIG (a value longer than max_len) before any lock; all or nothing.
    int check_items(const Items &items, std::size_t n) const noexcept;

    // The hot path of an int64 heap: one attempt, no deadline, no clock read. 0, or
    // -EAGAIN for anything else (full, empty, lock busy, a journal to repair): the
    // caller then takes the checked path, push() or pop(), which explains it.
    int try_push_i64(std::int64_t priority, std::int64_t value) noexcept;
    int try_pop_i64(std::int64_t *priority, std::int64_t *value) noexcept;

    // Push items[*pushed..n), waiting for room per the deadline. 0 when all went in;
    // -EAGAIN/-ETIMEDOUT (full: *pushed < n went in), SHMDS_ECORRUPT.
    int push(const Items &items, std::size_t n, std::size_t *pushed, const Deadline &dl) noexcept;
    // Pop up to max items in order, waiting for the first per the deadline. 0 with
    // *got >= 1; -EAGAIN, -ETIMEDOUT, -ENOBUFS (bytes: the first item does not fit;
    // nothing removed), SHMDS_ECORRUPT (a damaged entry, removed).
    int pop(const Out &out, std::size_t max, std::size_t *got, const Deadline &dl) noexcept;
    // Copy the first item without removing it: 0, -EAGAIN (empty), -ENOBUFS, SHMDS_ECORRUPT.
    int peek(const Out &out) noexcept;

    std::uint64_t size() const noexcept;
    std::uint64_t capacity() const noexcept { return geom_.capacity; }
    std::uint64_t max_len() const noexcept { return geom_.max_len; }
    bool is_full() const noexcept { return size() >= geom_.capacity; }
    // Remove every item; the count removed, or a negative code.
    std::int64_t clear() noexcept;
    int stats(Stats &s) noexcept;
    // Under no lock, for tests: 0 when entries [0, size) keep the heap property and
    // no sift is under way, else -1. Meant for a quiescent heap.
    int check_heap_property() const noexcept;

    // Takeovers, repairs and dead sleepers (capi::recoveries_of).
    std::uint64_t recovery_count() const noexcept { return segment_.recoveries(); }
    core::EventNotifier &events() noexcept { return events_; }
    core::Segment &segment() noexcept { return segment_; }
    const core::Segment &segment() const noexcept { return segment_; }

    // SegmentClient
    core::StructureType type() const noexcept override { return core::StructureType::heap; }
    std::uint32_t wanted_variant() const noexcept override { return wanted_variant_; }
    const char *variant_name(std::uint32_t v) const noexcept override {
        return core::elem_type_name(v);
    }
    int describe(core::SegmentShape &s) override;
    int reshape(std::uint32_t variant, const std::uint64_t (&geometry)[core::kGeometryWords],
                core::SegmentShape &s) override;
    void initialize(std::uint8_t *base) noexcept override;

private:
    friend struct core::EngineFactory;
    Heap() noexcept = default;
    void bind(std::uint8_t *base) noexcept;

    std::uint8_t *entry(std::uint64_t i) const noexcept { return data_ + i * geom_.stride; }
    std::uint8_t *moving() const noexcept { return entry(geom_.capacity); }
    EntryKey key(std::uint64_t i) const noexcept;
    bool before(const EntryKey &a, const EntryKey &b) const noexcept;
    void copy_entry(std::uint8_t *dst, const std::uint8_t *src) const noexcept;

    // Under the lock: the size, after finishing any journal a dead holder (or damage)
    // left; a size over the capacity empties the heap (counted).
    std::uint64_t checked_size() noexcept;
    enum class Found { nothing, journal, damage };
    Found repair_locked() noexcept;
    static void repair(void *self) noexcept;
    // The lock releases with a plain store: every change a sleeper waits for (a push, a
    // pop, a clear, a repair) is made under it, and sleepers pass through it after
    // announcing (core::lock_passage), so a push or pop pays one locked instruction.
    core::PlainLock lock() noexcept;
    std::uint64_t sift_up(std::uint64_t hole, const char *step_failpoint) noexcept;
    std::uint64_t sift_root_down(std::uint64_t n) noexcept;
    std::uint64_t sift_down(std::uint64_t hole, std::uint64_t n) noexcept;
    void settle(std::uint64_t hole, std::uint64_t n) noexcept;
    void heapify(std::uint64_t n) noexcept;

    int push_one_locked(std::int64_t priority, const Items &items, std::size_t i,
                        std::uint64_t n) noexcept;
    void remove_root_locked(std::uint64_t n) noexcept;
    int push_locked(const Items &items, std::size_t n, std::size_t *pushed) noexcept;
    int pop_locked(const Out &out, std::size_t max, std::size_t *got) noexcept;
    int read_item(const std::uint8_t *e, const Out &out, std::size_t i,
                  std::size_t &used) const noexcept;
    void wake(core::WaitPoint &wp, std::size_t n, const char *unwoken) noexcept;
    bool looks_empty() const noexcept {
        return ctl_->size.load(std::memory_order_acquire) == 0 &&
               ctl_->op.load(std::memory_order_acquire) == kOpNone;
    }
    // Exactly full with no journal open: a pusher waiting for room need not lock to see
    // it. A size over the capacity (damage) or an open journal is not "full": the
    // locked path repairs it.
    bool looks_full() const noexcept {
        return ctl_->size.load(std::memory_order_acquire) == geom_.capacity &&
               ctl_->op.load(std::memory_order_acquire) == kOpNone;
    }

    core::Segment segment_;
    Geometry geom_{};
    Config requested_{};
    std::uint32_t wanted_variant_ = 0;
    bool max_ = false;
    Control *ctl_ = nullptr;
    std::uint8_t *data_ = nullptr;
    core::EventNotifier events_;
};

}  // namespace shmds::heap
