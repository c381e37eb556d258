// The ring buffer engine: an overwriting window of the last `capacity` writes.
//
// A write claims its sequence s with one fetch_add on `head` and commits {s + 1, value}
// into slot s mod capacity with one 16-byte CAS, refused when the slot already holds s
// or a later sequence: a writer preempted for a whole lap never overwrites a newer value
// and never reverts one. There is no "being written" state at all, so a writer killed
// at any instruction leaves nothing half-done and nothing anybody must take over: its
// sequence is simply never committed (readers report it missing, the next lap's write
// fills the slot), and a late writer that was only stalled finds its slot newer and
// drops its value (counted in stale_writes) instead of clobbering it.
//
// Readers load the pair (tag, value, tag again: a tag only grows, so an unchanged tag
// means the value belongs to it) and accept the value only when the tag names exactly
// the sequence they want: a torn or foreign value is impossible by construction.
// Every index is a sequence mod capacity, so nothing read from shared memory can point
// outside the mapping.
#pragma once

#include "core/deadline.hpp"
#include "core/engine_factory.hpp"
#include "core/error.hpp"
#include "core/eventfd.hpp"
#include "core/failpoint.hpp"
#include "core/segment.hpp"
#include "ringbuffer/layout.hpp"

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace shmds::ringbuffer {

using core::Deadline;

struct Config {
    ElemType variant;  // the element type (EngineFactory's name for it)
    std::uint64_t capacity;
};

struct Stats {
    std::uint64_t capacity, size, count, overwrites, stale_writes, recoveries, segment_bytes;
    std::uint32_t waiters;
};

// read() outcomes besides 0 (the value is there).
inline constexpr int kNotWritten = -EAGAIN;  // not claimed yet, or claimed and not committed
inline constexpr int kOverwritten = -ENOENT;  // the slot holds a later sequence

class RingBuffer final : public core::SegmentClient {
public:
    static int create(const shmds_options_t *opts, const Config &cfg,
                      std::unique_ptr<RingBuffer> &out);
    // wanted_type 0 accepts any type a ring buffer stores.
    static int open(const shmds_options_t *opts, std::uint32_t wanted_type,
                    std::unique_ptr<RingBuffer> &out);

    ElemType elem_type() const noexcept { return geom_.type; }
    std::uint64_t capacity() const noexcept { return geom_.capacity; }

    // Write one element word; returns its sequence. Never blocks, never fails.
    inline std::uint64_t write(std::uint64_t word) noexcept;
    // Write n words under consecutive sequences (one claim); returns the first.
    std::uint64_t write_multi(const std::uint64_t *words, std::size_t n) noexcept;

    // The word of sequence `seq`: 0, kNotWritten or kOverwritten (no sentence: the C
    // API words it, these are normal outcomes).
    int read(std::uint64_t seq, std::uint64_t *word) const noexcept;
    // The n-th newest write (0 = newest): read(head - 1 - n), kNotWritten when fewer
    // than n + 1 writes were made, kOverwritten when n >= capacity. *seq (optional)
    // receives the sequence looked at whenever there is one.
    int latest(std::uint64_t n, std::uint64_t *word, std::uint64_t *seq) const noexcept;
    // The window's readable words, oldest first, with their sequences (seqs may be
    // NULL): 0 with *count set, or -ENOBUFS (with a sentence) when max is below the
    // window's size, with *count = that size.
    int to_list(std::uint64_t *words, std::uint64_t *seqs, std::size_t max,
                std::size_t *count) const noexcept;

    std::uint64_t head() const noexcept { return ctl_->head.load(std::memory_order_acquire); }
    std::uint64_t size() const noexcept {
        const std::uint64_t h = head();
        return h < geom_.capacity ? h : geom_.capacity;
    }
    std::uint64_t overwrites() const noexcept {
        const std::uint64_t h = head();
        return h > geom_.capacity ? h - geom_.capacity : 0;
    }
    // Block until a write of sequence `count` or later has committed: 0, -EAGAIN
    // (NOWAIT), -ETIMEDOUT. A claim whose writer died is never waited for: any later
    // committed write ends the wait.
    int wait_for(std::uint64_t count, const Deadline &dl) noexcept;
    // Whether some write of sequence >= count has committed (its slot holds a tag above
    // count). At most `capacity` slot loads; one while nobody else writes.
    bool committed_from(std::uint64_t count) const noexcept;
    void stats(Stats &s) const noexcept;

    core::EventNotifier &events() noexcept { return events_; }
    core::Segment &segment() noexcept { return segment_; }

    // SegmentClient
    core::StructureType type() const noexcept override { return core::StructureType::ringbuffer; }
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
    RingBuffer() = default;
    void bind(std::uint8_t *base) noexcept;

    // A power-of-two capacity masks; any other divides (tens of cycles, on every write).
    Slot *slot_of(std::uint64_t seq) const noexcept {
        return &slots_[mask_ ? seq & mask_ : seq % geom_.capacity];
    }
    int read_below(std::uint64_t seq, std::uint64_t head, std::uint64_t *word) const noexcept;
    // Commit {seq + 1, word} unless the slot already holds seq or later.
    inline void commit(std::uint64_t seq, std::uint64_t word) noexcept;
    void count_stale() noexcept;  // out of line: the rare lapped writer
    // Wake wait_for sleepers, if any (waitpoint_wake looks at the sleepers word first,
    // so writers on different CPUs never store to that shared line while nobody waits).
    void wake_sleepers() noexcept { core::waitpoint_wake(ctl_->written, INT_MAX); }

    core::Segment segment_;
    Geometry geom_{};
    Config requested_{};
    std::uint32_t wanted_variant_ = 0;
    RingControl *ctl_ = nullptr;
    Slot *slots_ = nullptr;
    std::uint64_t mask_ = 0;  // capacity - 1 for a power-of-two capacity above 1, else 0
    core::EventNotifier events_;
};

void RingBuffer::commit(std::uint64_t seq, std::uint64_t word) noexcept {
    Slot *slot = slot_of(seq);
    // A plain snapshot is enough as the CAS's first guess: the CAS compares the whole
    // pair and hands back what is really there when the guess was wrong.
    core::Pair64 cur{__atomic_load_n(&slot->lo, __ATOMIC_RELAXED),
                     __atomic_load_n(&slot->hi, __ATOMIC_RELAXED)};
    const std::uint64_t tag = seq + 1;
    for (;;) {
        if (SHMDS_UNLIKELY(cur.lo >= tag)) return count_stale();  // a later lap is there
        if (SHMDS_LIKELY(core::cas16(slot, cur, core::Pair64{tag, word}))) return;
    }
}

std::uint64_t RingBuffer::write(std::uint64_t word) noexcept {
    const std::uint64_t seq = ctl_->head.fetch_add(1, std::memory_order_acq_rel);
    SHMDS_FAILPOINT("ringbuffer.write.claimed");
    commit(seq, word);
    SHMDS_FAILPOINT("ringbuffer.write.unwoken");
    wake_sleepers();
    return seq;
}

}  // namespace shmds::ringbuffer
