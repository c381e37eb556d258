// The lock-free bounded MPMC ring behind the integer queues.
//
// It is Vyukov's sequenced-slot ring with one change that matters for crashes: the slot
// CAS is the whole operation. A producer publishes by CASing {seq = pos, *} into
// {seq = pos + 1, value}; a consumer takes by CASing {seq = pos + 1, value} into
// {seq = pos + capacity, value}. head and tail are only hints, advanced by whoever
// notices they lag (helping). So there is no window between claiming a slot and
// publishing it: a process killed at any instruction either did its CAS or did not,
// nothing is half-done, and nothing needs a timeout to be skipped. A producer preempted
// for any length of time cannot publish into a slot that moved on, because its CAS
// compares the sequence (64-bit for Int64, so no ABA; 32-bit for the narrow variants,
// where the capacity limit keeps every live difference far from wrapping).
//
// Positions publish strictly in order (a producer can only publish at the position
// whose predecessor is published), so the ring is FIFO.
#pragma once

#include "core/failpoint.hpp"
#include "queue/layout.hpp"

#include <cerrno>
#include <cstdint>

namespace shmds::queue {

// How one slot format stores {seq, value} and commits it.
struct WideTraits {
    using Slot = WideSlot;
    struct View {
        core::Pair64 raw;
        std::uint64_t seq() const noexcept { return raw.lo; }
        std::int64_t value() const noexcept { return std::int64_t(raw.hi); }
    };
    static View load(Slot *s) noexcept {
        // Two loads may tear; the CAS that follows compares all 16 bytes, so a torn view
        // only costs a retry, never a wrong result.
        View v;
        v.raw.lo = __atomic_load_n(&s->lo, __ATOMIC_ACQUIRE);
        v.raw.hi = __atomic_load_n(&s->hi, __ATOMIC_ACQUIRE);
        return v;
    }
    static std::int64_t diff(std::uint64_t seq, std::uint64_t pos) noexcept {
        return std::int64_t(seq - pos);
    }
    static bool cas(Slot *s, View &expected, std::uint64_t seq, std::int64_t value) noexcept {
        return core::cas16(s, expected.raw, core::Pair64{seq, std::uint64_t(value)});
    }
    static void init(Slot *s, std::uint64_t seq) noexcept {
        s->lo = seq;
        s->hi = 0;
    }
};

struct NarrowTraits {
    using Slot = NarrowSlot;
    struct View {
        std::uint64_t raw;
        std::uint64_t seq() const noexcept { return raw & 0xffffffffu; }
        std::int64_t value() const noexcept { return std::int32_t(std::uint32_t(raw >> 32)); }
    };
    static View load(Slot *s) noexcept { return View{__atomic_load_n(s, __ATOMIC_ACQUIRE)}; }
    static std::int64_t diff(std::uint64_t seq, std::uint64_t pos) noexcept {
        return std::int32_t(std::uint32_t(seq) - std::uint32_t(pos));
    }
    static bool cas(Slot *s, View &expected, std::uint64_t seq, std::int64_t value) noexcept {
        std::uint64_t desired =
            (std::uint64_t(std::uint32_t(std::int32_t(value))) << 32) | std::uint32_t(seq);
        return __atomic_compare_exchange_n(s, &expected.raw, desired, false, __ATOMIC_SEQ_CST,
                                           __ATOMIC_ACQUIRE);
    }
    static void init(Slot *s, std::uint64_t seq) noexcept { *s = std::uint32_t(seq); }
};

template <typename Traits>
class IntRing {
public:
    using Slot = typename Traits::Slot;
    using View = typename Traits::View;

    IntRing() = default;
    IntRing(IntControl *ctl, Slot *slots, std::uint64_t capacity) noexcept
        : ctl_(ctl), slots_(slots), cap_(capacity), mask_(capacity - 1) {}

    static void initialize(IntControl *ctl, Slot *slots, std::uint64_t capacity) noexcept {
        ctl->tail.store(0, std::memory_order_relaxed);
        ctl->head.store(0, std::memory_order_relaxed);
        core::waitpoint_init(ctl->not_empty);
        core::waitpoint_init(ctl->not_full);
        ctl->push_full.store(0, std::memory_order_relaxed);
        ctl->pop_empty.store(0, std::memory_order_relaxed);
        ctl->cleared.store(0, std::memory_order_relaxed);
        for (std::uint64_t i = 0; i < capacity; ++i) Traits::init(&slots[i], i);
    }

    // 0, or -EAGAIN when full. Lock-free; never blocks.
    int try_push(std::int64_t value) noexcept {
        std::uint64_t pos = ctl_->tail.load(std::memory_order_relaxed);
        View cur = Traits::load(slot(pos));
        for (;;) {
            std::int64_t d = Traits::diff(cur.seq(), pos);
            if (d == 0) {
                if (Traits::cas(slot(pos), cur, pos + 1, value)) {
                    SHMDS_FAILPOINT("queue.int.push.published");
                    advance(ctl_->tail, pos);
                    return 0;
                }
                continue;  // cur now holds the slot's actual contents
            }
            if (d < 0) {
                // The slot still holds the previous lap's item: full, unless tail moved.
                std::uint64_t now = ctl_->tail.load(std::memory_order_acquire);
                if (now == pos) return -EAGAIN;
                pos = now;
            } else {
                // Someone published at pos but has not advanced tail (or died first).
                pos = advance(ctl_->tail, pos);
            }
            cur = Traits::load(slot(pos));
        }
    }

    // 0 with *out, or -EAGAIN when empty. Lock-free; never blocks.
    int try_pop(std::int64_t *out) noexcept {
        std::uint64_t pos = ctl_->head.load(std::memory_order_relaxed);
        View cur = Traits::load(slot(pos));
        for (;;) {
            std::int64_t d = Traits::diff(cur.seq(), pos + 1);
            if (d == 0) {
                const std::int64_t value = cur.value();
                if (Traits::cas(slot(pos), cur, pos + cap_, value)) {
                    SHMDS_FAILPOINT("queue.int.pop.taken");
                    advance(ctl_->head, pos);
                    *out = value;
                    return 0;
                }
                continue;
            }
            if (d < 0) {
                std::uint64_t now = ctl_->head.load(std::memory_order_acquire);
                if (now == pos) return -EAGAIN;
                pos = now;
            } else {
                pos = advance(ctl_->head, pos);
            }
            cur = Traits::load(slot(pos));
        }
    }

    // The oldest item without taking it; -EAGAIN when empty. A snapshot: by the time it
    // returns, another consumer may have taken that item.
    int peek(std::int64_t *out) const noexcept {
        for (int attempt = 0; attempt < 64; ++attempt) {
            std::uint64_t pos = ctl_->head.load(std::memory_order_acquire);
            View cur = Traits::load(slot(pos));
            std::int64_t d = Traits::diff(cur.seq(), pos + 1);
            if (d < 0) return -EAGAIN;
            if (d == 0) {
                // The value cannot change without the seq changing, and seqs only grow.
                if (Traits::load(slot(pos)).seq() == cur.seq()) {
                    *out = cur.value();
                    return 0;
                }
                continue;
            }
            advance(ctl_->head, pos);
        }
        return -EAGAIN;
    }

    // Cheap predicates for sleepers: "something may have changed, retry".
    bool maybe_not_empty() const noexcept {
        std::uint64_t pos = ctl_->head.load(std::memory_order_acquire);
        return Traits::diff(Traits::load(slot(pos)).seq(), pos + 1) >= 0;
    }
    bool maybe_not_full() const noexcept {
        std::uint64_t pos = ctl_->tail.load(std::memory_order_acquire);
        return Traits::diff(Traits::load(slot(pos)).seq(), pos) >= 0;
    }

    std::uint64_t size() const noexcept {
        // Read head first: tail is read later, so tail >= head (both only grow).
        std::uint64_t h = ctl_->head.load(std::memory_order_acquire);
        std::uint64_t t = ctl_->tail.load(std::memory_order_acquire);
        std::uint64_t n = t - h;
        return std::int64_t(n) < 0 ? 0 : (n > cap_ ? cap_ : n);
    }

    std::uint64_t capacity() const noexcept { return cap_; }
    IntControl *control() const noexcept { return ctl_; }

private:
    Slot *slot(std::uint64_t pos) const noexcept { return &slots_[pos & mask_]; }

    // Move a head/tail hint from pos to pos + 1 if nobody else has; returns the new hint.
    static std::uint64_t advance(std::atomic<std::uint64_t> &hint, std::uint64_t pos) noexcept {
        std::uint64_t expected = pos;
        if (hint.compare_exchange_strong(expected, pos + 1, std::memory_order_acq_rel,
                                         std::memory_order_acquire))
            return pos + 1;
        return expected;
    }

    IntControl *ctl_ = nullptr;
    Slot *slots_ = nullptr;
    std::uint64_t cap_ = 0;
    std::uint64_t mask_ = 0;
};

}  // namespace shmds::queue
