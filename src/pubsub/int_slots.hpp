// How an integer pubsub slot stores {seq, value} and commits it.
//
// The slot of position p holds seq = p + 1 once p is committed (wrapping in the seq
// width). A commit is ONE compare-and-swap of the whole slot, so seq and value change
// together, and it is refused when the slot already holds a later lap: a publisher
// preempted for a whole lap can never revert a newer message (the reference's lesson 3).
// Seqs of a slot only ever grow, which is what makes the two-load read below safe.
#pragma once

#include "pubsub/layout.hpp"

#include <atomic>
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
    // (write_pos serves the narrow seqs; 64 bits never wrap.)
    static bool commit(Slot *s, std::uint64_t pos, std::int64_t value,
                       const std::atomic<std::uint64_t> &write_pos) noexcept {
        (void)write_pos;
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
    // A narrow seq compares correctly only within half its range: a publisher stalled
    // for 2^(kSeqBits-1) publishes (2^31 for Int32: under a minute at full speed, so a
    // SIGSTOP can do it) would see a newer lap's seq wrapped around as older. So the
    // commit also refuses when the ring's write position is that far ahead, checked
    // right before each CAS; only a stall between that load and the CAS itself remains.
    static constexpr std::uint64_t kStale = std::uint64_t{1} << (kSeqBits - 1);
    static bool commit(Slot *s, std::uint64_t pos, std::int64_t value,
                       const std::atomic<std::uint64_t> &write_pos) noexcept {
        std::uint64_t cur = __atomic_load_n(s, __ATOMIC_ACQUIRE);
        const std::uint64_t desired =
            (std::uint64_t(value) << kSeqBits) | ((pos + 1) & kSeqMask);
        for (;;) {
            if (diff(cur & kSeqMask, pos + 1) >= 0) return false;
            if (write_pos.load(std::memory_order_acquire) - pos >= kStale) return false;
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
