// How an integer pubsub slot stores {seq, value} and commits it.
//
// The slot of position p holds seq = p + 1 once p is committed (wrapping in the seq
// width). A commit is ONE compare-and-swap of the whole slot, so seq and value change
// together, and it is refused when the slot already holds a later lap: a publisher
// preempted for a whole lap can never revert a newer message (the reference's lesson 3).
// Seqs of a slot only ever grow, which is what makes the two-load read below safe.
#pragma once

#include "pubsub/layout.hpp"

#include <cstdint>

namespace shmds::pubsub {

struct SlotView {
    std::uint64_t seq;
    std::int64_t value;
};

// Int64: 16-byte slot, 64-bit seq (no wrap in practice).
struct WideTraits {
    using Slot = WideSlot;
    static constexpr int kValueBits = 64;

    static std::int64_t diff(std::uint64_t seq, std::uint64_t want) noexcept {
        return std::int64_t(seq - want);
    }
    static std::uint64_t seq_of(Slot *s) noexcept {
        return __atomic_load_n(&s->lo, __ATOMIC_ACQUIRE);
    }
    // A consistent snapshot, or false when a commit raced the read (retry). A commit
    // raises seq, so an unchanged seq around the value load means no commit in between.
    static bool read(Slot *s, SlotView &v) noexcept {
        const std::uint64_t a = __atomic_load_n(&s->lo, __ATOMIC_ACQUIRE);
        const std::uint64_t value = __atomic_load_n(&s->hi, __ATOMIC_ACQUIRE);
        const std::uint64_t b = __atomic_load_n(&s->lo, __ATOMIC_ACQUIRE);
        if (a != b) return false;
        v = SlotView{a, std::int64_t(value)};
        return true;
    }
    // true: committed; false: a later lap owns the slot, the store is dropped.
    static bool commit(Slot *s, std::uint64_t pos, std::int64_t value) noexcept {
        core::Pair64 cur{__atomic_load_n(&s->lo, __ATOMIC_ACQUIRE),
                         __atomic_load_n(&s->hi, __ATOMIC_ACQUIRE)};
        for (;;) {
            if (diff(cur.lo, pos + 1) >= 0) return false;
            if (core::cas16(s, cur, core::Pair64{pos + 1, std::uint64_t(value)})) return true;
        }
    }
    // Slot i starts one lap behind position i: "not yet committed".
    static void init(Slot *s, std::uint64_t i, std::uint64_t cap) noexcept {
        s->lo = i + 1 - cap;
        s->hi = 0;
    }
};

// Int32 (32-bit seq) and Int16 (48-bit seq): one 8-byte word, value in the high bits.
template <int ValueBits>
struct NarrowTraits {
    using Slot = NarrowSlot;
    static constexpr int kValueBits = ValueBits;
    static constexpr int kSeqBits = 64 - ValueBits;
    static constexpr std::uint64_t kSeqMask = (std::uint64_t{1} << kSeqBits) - 1;

    // Signed distance in the seq width: correct while the two are within 2^(bits-1).
    static std::int64_t diff(std::uint64_t seq, std::uint64_t want) noexcept {
        const std::uint64_t d = (seq - want) & kSeqMask;
        return std::int64_t(d << ValueBits) >> ValueBits;
    }
    static std::uint64_t seq_of(Slot *s) noexcept {
        return __atomic_load_n(s, __ATOMIC_ACQUIRE) & kSeqMask;
    }
    static bool read(Slot *s, SlotView &v) noexcept {
        const std::uint64_t raw = __atomic_load_n(s, __ATOMIC_ACQUIRE);
        v = SlotView{raw & kSeqMask, std::int64_t(raw) >> kSeqBits};
        return true;
    }
    static bool commit(Slot *s, std::uint64_t pos, std::int64_t value) noexcept {
        std::uint64_t cur = __atomic_load_n(s, __ATOMIC_ACQUIRE);
        const std::uint64_t desired =
            (std::uint64_t(value) << kSeqBits) | ((pos + 1) & kSeqMask);
        for (;;) {
            if (diff(cur & kSeqMask, pos + 1) >= 0) return false;
            if (__atomic_compare_exchange_n(s, &cur, desired, false, __ATOMIC_SEQ_CST,
                                            __ATOMIC_ACQUIRE))
                return true;
        }
    }
    static void init(Slot *s, std::uint64_t i, std::uint64_t cap) noexcept {
        *s = (i + 1 - cap) & kSeqMask;
    }
};

using Int32Traits = NarrowTraits<32>;
using Int16Traits = NarrowTraits<16>;

}  // namespace shmds::pubsub
