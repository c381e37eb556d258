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

#include "core/error.hpp"
#include "core/failpoint.hpp"
#include "queue/layout.hpp"

#include <cerrno>
#include <cstddef>
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
    static constexpr std::uint64_t kMaxWalk = std::uint64_t{1} << 62;
    static bool cas(Slot *s, View &expected, std::uint64_t seq, std::int64_t value) noexcept {
        return core::cas16(s, expected.raw, core::Pair64{seq, std::uint64_t(value)});
    }
    // A take only moves seq on (pos + 1 -> pos + capacity) and leaves the value, so an
    // 8-byte CAS of seq alone commits it, and costs less than the 16-byte one (5.4-6.8
    // against 7.4-7.6 ns uncontended on the AMD EPYC the bench runs on; cmpxchg16b is
    // slower still on Intel). Sound because a slot's 64-bit seq only grows: while seq
    // still reads pos + 1, no producer can have written the value (a producer needs
    // seq == pos + capacity, which only this CAS creates), so the value in `expected`
    // is the one committed at pos. Both CASes are atomic on the same aligned 16 bytes
    // (locked instructions on x86-64, exclusives or LSE on AArch64), except under
    // ThreadSanitizer (see core::kHalfCasMixesWithCas16), which takes the 16-byte CAS.
    // The value must have been loaded after seq (load() does), as the caller returns it.
    static bool take(Slot *s, View &expected, std::uint64_t seq) noexcept {
        if constexpr (!core::kHalfCasMixesWithCas16) return cas(s, expected, seq, expected.value());
        if (__atomic_compare_exchange_n(&s->lo, &expected.raw.lo, seq, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_ACQUIRE))
            return true;
        expected.raw.hi = __atomic_load_n(&s->hi, __ATOMIC_ACQUIRE);  // as load() would
        return false;
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
    static constexpr std::uint64_t kMaxWalk = (std::uint64_t{1} << 31) - 1;
    static bool cas(Slot *s, View &expected, std::uint64_t seq, std::int64_t value) noexcept {
        std::uint64_t desired =
            (std::uint64_t(std::uint32_t(std::int32_t(value))) << 32) | std::uint32_t(seq);
        return __atomic_compare_exchange_n(s, &expected.raw, desired, false, __ATOMIC_SEQ_CST,
                                           __ATOMIC_ACQUIRE);
    }
    // Seq and value share one word here, so a take is the whole-slot CAS.
    static bool take(Slot *s, View &expected, std::uint64_t seq) noexcept {
        return cas(s, expected, seq, expected.value());
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
        : ctl_(ctl), slots_(slots), cap_(capacity), index_(capacity) {}

    static void initialize(IntControl *ctl, Slot *slots, std::uint64_t capacity) noexcept {
        const IntRing ring(ctl, slots, capacity);
        ctl->tail.store(0, std::memory_order_relaxed);
        ctl->head.store(0, std::memory_order_relaxed);
        core::waitpoint_init(ctl->not_empty);
        core::waitpoint_init(ctl->not_full);
        ctl->push_full.store(0, std::memory_order_relaxed);
        ctl->pop_empty.store(0, std::memory_order_relaxed);
        ctl->cleared.store(0, std::memory_order_relaxed);
        for (std::uint64_t pos = 0; pos < capacity; ++pos) Traits::init(ring.slot(pos), pos);
    }

    // 0, or -EAGAIN when full, or SHMDS_ECORRUPT (see past()). Lock-free; never blocks.
    int try_push(std::int64_t value) noexcept {
        std::uint64_t walked = 0;
        std::uint64_t pos = ctl_->tail.load(std::memory_order_relaxed);
        // The slot's address once per position: its atomics would make the compiler
        // work the index out again for the CAS.
        Slot *s = slot(pos);
        View cur = Traits::load(s);
        for (;;) {
            std::int64_t d = Traits::diff(cur.seq(), pos);
            if (d == 0) {
                if (Traits::cas(s, cur, pos + 1, value)) {
                    SHMDS_FAILPOINT("queue.int.push.published");
                    bump_hint(ctl_->tail, pos);
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
                if ((walked += past(d)) > Traits::kMaxWalk) return damaged("tail", pos);
                pos = advance(ctl_->tail, pos, past(d));
            }
            s = slot(pos);
            cur = Traits::load(s);
        }
    }

    // 0 with *out, or -EAGAIN when empty, or SHMDS_ECORRUPT. Lock-free; never blocks.
    int try_pop(std::int64_t *out) noexcept {
        std::uint64_t walked = 0;
        std::uint64_t pos = ctl_->head.load(std::memory_order_relaxed);
        Slot *s = slot(pos);
        View cur = Traits::load(s);
        for (;;) {
            std::int64_t d = Traits::diff(cur.seq(), pos + 1);
            if (d == 0) {
                const std::int64_t value = cur.value();
                if (Traits::take(s, cur, pos + cap_)) {
                    SHMDS_FAILPOINT("queue.int.pop.taken");
                    bump_hint(ctl_->head, pos);
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
                if ((walked += past(d)) > Traits::kMaxWalk) return damaged("head", pos);
                pos = advance(ctl_->head, pos, past(d));
            }
            s = slot(pos);
            cur = Traits::load(s);
        }
    }

    // Batches: push values[0..n) in order, or take up to n items, and advance the hint
    // once at the end instead of once per item, which halves the atomic read-modify-
    // writes per item. Each item still commits with its own slot CAS, so a process
    // killed mid-batch leaves every item either in or out, and a lagging hint is
    // repaired by the next caller as usual. Return how many went in or out (0 = full
    // or empty); *err is SHMDS_ECORRUPT when the walk ended on damage (see past()), as
    // try_push and try_pop report it, else 0.
    std::size_t try_push_many(const std::int64_t *values, std::size_t n, int *err) noexcept {
        *err = 0;
        std::size_t done = 0;
        std::uint64_t walked = 0;
        std::uint64_t pos = ctl_->tail.load(std::memory_order_relaxed);
        while (done < n) {
            Slot *s = slot(pos);
            View cur = Traits::load(s);
            const std::int64_t d = Traits::diff(cur.seq(), pos);
            if (d == 0) {
                if (Traits::cas(s, cur, pos + 1, values[done])) {
                    SHMDS_FAILPOINT("queue.int.push.published");
                    ++done;
                    ++pos;
                }
                continue;
            }
            // Every position below the hint is published, so jumping to it is safe.
            const std::uint64_t now = ctl_->tail.load(std::memory_order_acquire);
            if (d < 0 && now <= pos) break;  // full at pos
            if (d > 0 && now <= pos && (walked += past(d)) > Traits::kMaxWalk) {
                *err = damaged("tail", pos);
                break;
            }
            pos = d > 0 && now <= pos ? pos + past(d) : now;
        }
        raise(ctl_->tail, pos);
        return done;
    }

    std::size_t try_pop_many(std::int64_t *out, std::size_t n, int *err) noexcept {
        *err = 0;
        std::size_t done = 0;
        std::uint64_t walked = 0;
        std::uint64_t pos = ctl_->head.load(std::memory_order_relaxed);
        while (done < n) {
            Slot *s = slot(pos);
            View cur = Traits::load(s);
            const std::int64_t d = Traits::diff(cur.seq(), pos + 1);
            if (d == 0) {
                const std::int64_t value = cur.value();
                if (Traits::take(s, cur, pos + cap_)) {
                    SHMDS_FAILPOINT("queue.int.pop.taken");
                    out[done++] = value;
                    ++pos;
                }
                continue;
            }
            const std::uint64_t now = ctl_->head.load(std::memory_order_acquire);
            if (d < 0 && now <= pos) break;  // empty at pos
            if (d > 0 && now <= pos && (walked += past(d)) > Traits::kMaxWalk) {
                *err = damaged("head", pos);
                break;
            }
            pos = d > 0 && now <= pos ? pos + past(d) : now;
        }
        raise(ctl_->head, pos);
        return done;
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
        // Head first: tail is settled later, so tail >= head.
        std::uint64_t h = settled(ctl_->head, 1);
        std::uint64_t t = settled(ctl_->tail, 0);
        std::uint64_t n = t - h;
        return std::int64_t(n) < 0 ? 0 : (n > cap_ ? cap_ : n);
    }

    // The true next position to publish (which = 0) or take (which = 1): the hint walked
    // forward past positions already done, and the hint raised to it. Exact whenever the
    // queue is quiet, which is what counters (pushes = tail, pops = head) rely on, since
    // a racing bump_hint may have left the hint a step behind. Bounded to two laps.
    std::uint64_t settled(std::atomic<std::uint64_t> &hint, std::uint64_t which) const noexcept {
        std::uint64_t pos = hint.load(std::memory_order_acquire);
        for (std::uint64_t steps = 0; steps < 2 * cap_; ++steps) {
            const std::int64_t d = Traits::diff(Traits::load(slot(pos)).seq(), pos + which);
            if (d <= 0) break;
            pos += past(d);
        }
        raise(hint, pos);
        return pos;
    }
    std::uint64_t settled_tail() const noexcept { return settled(ctl_->tail, 0); }
    std::uint64_t settled_head() const noexcept { return settled(ctl_->head, 1); }

    std::uint64_t capacity() const noexcept { return cap_; }
    IntControl *control() const noexcept { return ctl_; }

private:
    Slot *slot(std::uint64_t pos) const noexcept { return &slots_[index_(pos)]; }

    // How far a walk may move past a position whose slot is d > 0 positions ahead. A
    // slot's sequence only grows and names a position it served at most a lap before, and
    // positions are published and taken in order, so every position up to that one is
    // done: usually one step, a jump after a long lag. Damaged shared memory can put any
    // sequence in a slot; jumps end a walk within about two laps, and a walk longer than
    // kMaxWalk (half the sequence space, which no live ring lags by) is reported as
    // damage instead of cycling for ever. Found by fuzz/fuzz_open.cpp: before, one call
    // could walk 2^63 positions a step at a time.
    std::uint64_t past(std::int64_t d) const noexcept {
        return d > std::int64_t(cap_) ? std::uint64_t(d) - cap_ + 1 : 1;
    }
    // Cold and out of line: the sentence's formatting stays out of the inlined fast paths.
    [[gnu::cold, gnu::noinline]] int damaged(const char *hint, std::uint64_t pos) const noexcept {
        return core::fail(SHMDS_ECORRUPT,
                          "queue {} {}: its slots are out of sequence (damaged shared memory)",
                          hint, pos);
    }

    // Move a head/tail hint from pos to pos + step if nobody else has; returns the new hint.
    static std::uint64_t advance(std::atomic<std::uint64_t> &hint, std::uint64_t pos,
                                 std::uint64_t step = 1) noexcept {
        std::uint64_t expected = pos;
        if (hint.compare_exchange_strong(expected, pos + step, std::memory_order_acq_rel,
                                         std::memory_order_acquire))
            return pos + step;
        return expected;
    }

    // After our own slot CAS at pos: move the hint to pos + 1 with a plain store. The hint
    // is only where callers start looking (the slots are the truth), so the rare racing
    // store that moves it back costs the next caller a short walk, while a locked
    // instruction here would cost every single operation (it was ~35% of a push).
    static void bump_hint(std::atomic<std::uint64_t> &hint, std::uint64_t pos) noexcept {
        if (hint.load(std::memory_order_relaxed) == pos)
            hint.store(pos + 1, std::memory_order_release);
    }

    // Move a hint forward to pos unless it is already there or beyond (hints only grow).
    static void raise(std::atomic<std::uint64_t> &hint, std::uint64_t pos) noexcept {
        std::uint64_t cur = hint.load(std::memory_order_relaxed);
        while (cur < pos && !hint.compare_exchange_weak(cur, pos, std::memory_order_acq_rel,
                                                         std::memory_order_relaxed)) {
        }
    }

    IntControl *ctl_ = nullptr;
    Slot *slots_ = nullptr;
    std::uint64_t cap_ = 0;
    core::SpreadIndex<sizeof(Slot)> index_;
};

}  // namespace shmds::queue
