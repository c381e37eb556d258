// The slot deque: the one engine behind the deque and the stack (a stack is a deque
// used at its back end only). The structures are the thin classes in deque.hpp and
// stack/stack.hpp; they differ in their StructureType, their failpoint names and the
// verbs their C APIs offer, never in the algorithm.
//
// Lock-based on purpose: one core::RobustMutex (the StampLock protocol) guards the ring
// and its two counters (layout.hpp). A push writes its slot, then commits by storing
// tail (back) or head (front); a pop copies its slot out, then commits the same way.
// So a holder SIGKILLed at any instruction leaves the old or the new state: the next
// locker takes the lock over within about 10 ms (core::wait_probing, against the
// reference's 2 s stuck-slot floor) and the repair only validates the counters
// (head <= tail <= head + capacity); a violated invariant is counted and the deque
// emptied, never trusted.
#pragma once

#include "core/block.hpp"
#include "core/deadline.hpp"
#include "core/engine_factory.hpp"
#include "core/error.hpp"
#include "core/eventfd.hpp"
#include "core/failpoint.hpp"
#include "core/segment.hpp"
#include "deque/layout.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace shmds::deque {

using core::Deadline;

enum class End : std::uint8_t { front, back };

// The failpoints of one structure ("deque.push.slot_written", "stack.push.slot_written").
struct Names {
    const char *noun;
    const char *push_locked, *push_slot_written, *push_committed, *push_unwoken;
    const char *pop_locked, *pop_copied, *pop_committed, *pop_unwoken;
    const char *clear_locked, *clear_committed, *clear_unwoken;
    const char *peek_locked, *stats_locked;
};

// The value kinds the C verbs carry: ints (every integer type, through the _int verbs'
// int64_t or the _uint verbs' uint64_t), _f64 (f32 and f64) and _bytes.
enum class Form : std::uint8_t { ints, floats, bytes };

// What a push copies into slots: n items of one form. Form::ints reads `uints` when it
// is set (the _uint verbs), else `ints`: the element type only decides the range.
struct Items {
    Form form;
    const std::int64_t *ints = nullptr;
    const double *floats = nullptr;
    const void *const *datas = nullptr;  // bytes: datas[i] (NULL allowed for len 0)
    const std::size_t *lens = nullptr;
    const std::uint64_t *uints = nullptr;
};

// Where a pop or peek puts items. Bytes are packed back to back into buf; lens[i] gets
// item i's length (on -ENOBUFS lens[0] = the length needed).
struct Out {
    Form form;
    std::int64_t *ints = nullptr;
    double *floats = nullptr;
    void *buf = nullptr;
    std::size_t buf_size = 0;
    std::size_t *lens = nullptr;
    std::uint64_t *uints = nullptr;  // Form::ints: the _uint verbs' destination, else ints
};

struct Config {
    ElemType variant;  // the element type (the factory's name for it)
    std::uint64_t capacity;
    std::uint64_t max_len;  // bytes only
};

struct Stats {
    std::uint64_t size, capacity, max_len, push_ok, pop_ok, push_full, pop_empty, cleared,
        recoveries, segment_bytes;
    std::uint32_t push_waiters, pop_waiters;
};

class SlotDeque : public core::SegmentClient {
public:
    ElemType elem_type() const noexcept { return geom_.type; }
    Form form() const noexcept { return form_; }
    // -EINVAL-free checks done before any lock: -ERANGE (an integer that does not fit the
    // type, or an f32 out of range), -E2BIG (bytes longer than max_len). All or nothing.
    int check_items(const Items &items, std::size_t n) const noexcept;

    // The hot path of an int64 deque: one attempt, no deadline, no clock read. 0 (the
    // other side woken), or -EAGAIN for anything else (full, empty, lock busy, damage):
    // the caller then takes the checked path, push() or pop(), which explains it.
    inline int try_push_i64(End end, std::int64_t v) noexcept;
    inline int try_pop_i64(End end, std::int64_t *out) noexcept;
    bool is_i64() const noexcept { return geom_.type == ElemType::int64; }

    // Push items[*pushed..n) at `end`, waiting for room per the deadline. 0 when all
    // went in; -EAGAIN/-ETIMEDOUT (full: *pushed < n went in), SHMDS_ECORRUPT.
    // Callers ran check_items().
    int push(End end, const Items &items, std::size_t n, std::size_t *pushed,
             const Deadline &dl) noexcept;
    // Pop up to max items from `end`, waiting for the first per the deadline. 0 with
    // *got >= 1 (or 0 with *got == 0 when allow_empty), -EAGAIN, -ETIMEDOUT, -ENOBUFS
    // (bytes: the first item does not fit; nothing removed), -ERANGE (the first item's
    // value does not fit the caller's int64_t or uint64_t; nothing removed),
    // SHMDS_ECORRUPT.
    int pop(End end, const Out &out, std::size_t max, std::size_t *got, const Deadline &dl,
            bool allow_empty) noexcept;
    // Copy the item at `end` without removing it. 0, -EAGAIN (empty), -ENOBUFS, -ERANGE,
    // SHMDS_ECORRUPT.
    int peek(End end, const Out &out) noexcept;

    std::uint64_t size() const noexcept;
    std::uint64_t capacity() const noexcept { return geom_.capacity; }
    std::uint64_t max_len() const noexcept { return geom_.max_len; }
    bool is_full() const noexcept { return size() >= geom_.capacity; }
    // Remove every item under the lock; the count removed, or a negative code.
    std::int64_t clear() noexcept;
    int stats(Stats &s) noexcept;

    core::EventNotifier &events() noexcept { return events_; }
    core::Segment &segment() noexcept { return segment_; }
    const Names &names() const noexcept { return *names_; }

    // SegmentClient
    core::StructureType type() const noexcept override { return structure_; }
    std::uint32_t wanted_variant() const noexcept override { return wanted_variant_; }
    const char *variant_name(std::uint32_t v) const noexcept override {
        return core::elem_type_name(v);
    }
    int describe(core::SegmentShape &s) override;
    int reshape(std::uint32_t variant, const std::uint64_t (&geometry)[core::kGeometryWords],
                core::SegmentShape &s) override;
    void initialize(std::uint8_t *base) noexcept override;

protected:
    SlotDeque(core::StructureType structure, const Names &names) noexcept
        : structure_(structure), names_(&names) {}

private:
    friend struct core::EngineFactory;
    void bind(std::uint8_t *base) noexcept;

    std::uint8_t *slot(std::uint64_t counter) const noexcept {
        const std::uint64_t i = mask_ ? counter & mask_ : counter % geom_.capacity;
        return data_ + i * geom_.stride;
    }
    // Under the lock: head and tail, checked. A violated invariant (a peer scribbled)
    // is counted and repaired by emptying the deque, so no caller ever trusts it.
    void counters(std::uint64_t &head, std::uint64_t &tail) noexcept;
    static void repair(void *self) noexcept;
    // The lock releases with a plain store: every change a sleeper waits for (a push, a
    // pop, a clear, a repair) is made under it, and sleepers pass through it after
    // announcing (core::lock_passage), so a push or pop pays one locked instruction.
    core::PlainLock lock() noexcept {
        return {ctl_->mutex, &SlotDeque::repair, this, &segment_.header().recoveries};
    }
    int push_locked(End end, const Items &items, std::size_t n, std::size_t *pushed) noexcept;
    int pop_locked(End end, const Out &out, std::size_t max, std::size_t *got) noexcept;
    int encode_integer(const Items &items, std::size_t i, void *s) const noexcept;
    void write_item(std::uint8_t *s, const Items &items, std::size_t i) const noexcept;
    int read_item(const std::uint8_t *s, const Out &out, std::size_t i,
                  std::size_t &used) const noexcept;
    void wake(core::WaitPoint &wp, std::size_t n, const char *unwoken) noexcept;
    bool looks_empty() const noexcept {
        return ctl_->head.load(std::memory_order_acquire) ==
               ctl_->tail.load(std::memory_order_acquire);
    }
    // Exactly full: a pusher waiting for room need not lock to see it. A count over the
    // capacity (damage) is not "full": the locked path repairs it.
    bool looks_full() const noexcept {
        return ctl_->tail.load(std::memory_order_acquire) -
                   ctl_->head.load(std::memory_order_acquire) ==
               geom_.capacity;
    }

    core::StructureType structure_;
    const Names *names_;
    core::Segment segment_;
    Geometry geom_{};
    Config requested_{};
    std::uint32_t wanted_variant_ = 0;
    Form form_ = Form::ints;
    Control *ctl_ = nullptr;
    std::uint8_t *data_ = nullptr;
    std::uint64_t mask_ = 0;  // capacity - 1 when a power of two, else 0 (use %)
    core::EventNotifier events_;
    // Where this handle's next push (back, front) and pop (back, front) most likely go,
    // so the fast paths can fetch that slot's line while the lock's line is on its way.
    std::atomic<std::uint64_t> next_at_[4] = {};
};

// Both fast paths take the lock only by CAS from free (a takeover and its repair
// belong to the checked path) and follow the same commit order as push_locked/pop_locked.
// Each first reads the lock's line, then CASes it: prefetched for writing, the line
// crosses from the partner's CPU once, not twice (shared for the read, then exclusive).
int SlotDeque::try_push_i64(End end, std::int64_t v) noexcept {
    core::prefetch_for_write(&ctl_->mutex);
    core::prefetch_for_write(slot(next_at_[int(end)].load(std::memory_order_relaxed)));
    if (looks_full()) return -EAGAIN;  // waiting for room never takes the lock
    if (SHMDS_UNLIKELY(!core::stamp_try_lock_polled(ctl_->mutex.word))) return -EAGAIN;
    SHMDS_FAILPOINT(names_->push_locked);
    const std::uint64_t h = ctl_->head.load(std::memory_order_relaxed);
    const std::uint64_t t = ctl_->tail.load(std::memory_order_relaxed);
    if (SHMDS_UNLIKELY(t - h >= geom_.capacity)) {  // full, or damaged: the checked path
        lock().release();
        return -EAGAIN;
    }
    const std::uint64_t at = end == End::back ? t : h - 1;
    next_at_[int(end)].store(end == End::back ? at + 1 : at - 1, std::memory_order_relaxed);
    std::memcpy(slot(at), &v, sizeof v);
    SHMDS_FAILPOINT(names_->push_slot_written);
    if (end == End::back)
        ctl_->tail.store(t + 1, std::memory_order_release);  // commit
    else
        ctl_->head.store(h - 1, std::memory_order_release);  // commit
    SHMDS_FAILPOINT(names_->push_committed);
    core::add_locked(ctl_->push_ok, 1);
    lock().release();
    wake(ctl_->not_empty, 1, names_->push_unwoken);
    return 0;
}

int SlotDeque::try_pop_i64(End end, std::int64_t *out) noexcept {
    core::prefetch_for_write(&ctl_->mutex);
    __builtin_prefetch(slot(next_at_[2 + int(end)].load(std::memory_order_relaxed)));
    if (looks_empty()) return -EAGAIN;  // polling an empty deque never takes the lock
    if (SHMDS_UNLIKELY(!core::stamp_try_lock_polled(ctl_->mutex.word))) return -EAGAIN;
    SHMDS_FAILPOINT(names_->pop_locked);
    const std::uint64_t h = ctl_->head.load(std::memory_order_relaxed);
    const std::uint64_t t = ctl_->tail.load(std::memory_order_relaxed);
    if (SHMDS_UNLIKELY(t - h - 1 >= geom_.capacity)) {  // empty, or damaged
        lock().release();
        return -EAGAIN;
    }
    const std::uint64_t at = end == End::back ? t - 1 : h;
    next_at_[2 + int(end)].store(end == End::back ? at - 1 : at + 1, std::memory_order_relaxed);
    std::memcpy(out, slot(at), sizeof *out);
    SHMDS_FAILPOINT(names_->pop_copied);
    if (end == End::back)
        ctl_->tail.store(t - 1, std::memory_order_release);  // commit
    else
        ctl_->head.store(h + 1, std::memory_order_release);  // commit
    SHMDS_FAILPOINT(names_->pop_committed);
    core::add_locked(ctl_->pop_ok, 1);
    lock().release();
    wake(ctl_->not_full, 1, names_->pop_unwoken);
    return 0;
}

inline void SlotDeque::wake(core::WaitPoint &wp, std::size_t n,
                            [[maybe_unused]] const char *unwoken) noexcept {
    // After the unlock: a woken process on this CPU may run at once and would find the
    // lock held. A process killed here has committed and wakes nobody; sleepers look
    // again on their own within core::kWakeBoundNs.
    SHMDS_FAILPOINT(unwoken);
    core::waitpoint_wake(wp, int(n > 1024 ? 1024 : n));
}

}  // namespace shmds::deque
