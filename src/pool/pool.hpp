// The pool engine: `capacity` fixed slots handed out and given back by index.
//
// A slot's owner word (layout.hpp) is its whole state: alloc is one CAS 0 -> the
// caller's OwnerToken, free one CAS from the current owner to 0. Nothing else is shared
// and nothing else is written on the way: there is no counter, bitmap or lock, so a
// process killed at any instruction leaves every slot either free or owned by a token
// that names it. A slot whose owner is dead comes back by itself: an alloc that finds
// no free slot reclaims them (CAS dead token -> 0, counted in recoveries), at most once
// per core::kTryProbeIntervalNs per process for a try, and on every re-attempt of a
// blocking alloc (block_on re-attempts at least every 100 ms), so a sleeper gets a dead
// owner's slot without anyone's help. recover_stale() does the same on demand.
//
// Finding a free slot scans the owner words from a per-handle cursor: the slot this
// handle last took or gave back, so an alloc/free loop reuses one warm slot, and each
// process starts at its own place (from its PID) so that processes do not fight over
// one cache line of owner words. The owner words are the only truth; the cursor is a
// process-local hint.
//
// Counts (used, available) are computed from the owner words when asked: exact for the
// instant each word is read, with no shared counter to drift after a crash and none to
// bounce between CPUs on every alloc.
//
// Every index from a caller is checked against the capacity the handle computed itself;
// a bytes slot's stored length is checked against max_len before any copy.
#pragma once

#include "core/deadline.hpp"
#include "core/engine_factory.hpp"
#include "core/error.hpp"
#include "core/eventfd.hpp"
#include "core/failpoint.hpp"
#include "core/segment.hpp"
#include "pool/layout.hpp"

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace shmds::pool {

using core::Deadline;
using core::OwnerToken;

struct Config {
    std::uint32_t variant;  // an ElemType or kRawVariant (EngineFactory's name for it)
    std::uint64_t capacity;
    std::uint64_t size;  // raw: slot bytes; bytes: max_len; else 0
};

struct Stats {
    std::uint64_t capacity, used, available, elem_size, max_len, recoveries, segment_bytes;
    std::uint32_t waiters;
};

// each_allocated's callback: nonzero stops the walk and is returned.
using SlotVisitor = int (*)(std::uint64_t index, std::uint32_t owner_pid, void *ctx);

class Pool final : public core::SegmentClient {
public:
    static int create(const shmds_options_t *opts, const Config &cfg, std::unique_ptr<Pool> &out);
    // wanted_variant 0 accepts any pool.
    static int open(const shmds_options_t *opts, std::uint32_t wanted_variant,
                    std::unique_ptr<Pool> &out);

    const Geometry &geometry() const noexcept { return geom_; }
    std::uint32_t variant() const noexcept { return geom_.variant; }
    Form form() const noexcept { return geom_.form; }
    std::uint64_t capacity() const noexcept { return geom_.capacity; }
    std::uint64_t stride() const noexcept { return geom_.stride; }

    // ---- allocation
    // Take a free slot for the calling process (zeroed): 0 with *index, or -EAGAIN
    // (silent) when none is free after reclaiming dead owners' slots (when due).
    inline int try_alloc(std::uint64_t *index) noexcept;
    // try_alloc, blocking until the deadline: 0, -EAGAIN (NOWAIT), -ETIMEDOUT.
    int alloc(const Deadline &dl, std::uint64_t *index) noexcept;
    // n slots at once or none: 0, -EAGAIN, -ETIMEDOUT; -EINVAL for n > capacity.
    int alloc_n(std::size_t n, std::uint64_t *indices, const Deadline &dl) noexcept;
    // Give a slot back (any process may): 0, -EINVAL (out of range), -ENOENT (free).
    inline int free(std::uint64_t index) noexcept;
    // Give back every allocated slot of the list; *freed = how many were allocated.
    // -EINVAL (an index out of range: nothing freed).
    int free_n(const std::uint64_t *indices, std::size_t n, std::size_t *freed) noexcept;
    // Free every slot; returns how many were allocated.
    std::uint64_t reset() noexcept;
    // Free every slot whose owner is dead; returns how many (added to recoveries).
    std::uint64_t recover_stale() noexcept;

    // ---- queries (snapshots)
    int check_index(std::uint64_t index, const char *what) const noexcept;
    OwnerToken owner_of(std::uint64_t index) const noexcept {  // index checked by the caller
        return owners_[index].load(std::memory_order_acquire);
    }
    std::uint64_t used() const noexcept;
    std::uint64_t available() const noexcept { return geom_.capacity - used(); }
    int each_allocated(SlotVisitor visit, void *ctx) const noexcept;
    // The allocated indices in order: 0 with *count, or -ENOBUFS (*count = how many
    // there were) when max is too small.
    int allocated(std::uint64_t *out, std::size_t max, std::size_t *count) const noexcept;
    void stats(Stats &s) const noexcept;

    // ---- slot contents (index checked by the caller)
    std::uint8_t *data() const noexcept { return data_; }
    std::uint8_t *slot(std::uint64_t index) const noexcept { return data_ + index * geom_.stride; }
    // Number slots as their bits, zero-extended from the type's width; every access is
    // one atomic of that width. add wraps modulo 2^width and returns the new bits.
    std::uint64_t load_bits(std::uint64_t index) const noexcept;
    void store_bits(std::uint64_t index, std::uint64_t bits) noexcept;
    std::uint64_t exchange_bits(std::uint64_t index, std::uint64_t bits) noexcept;
    // true when swapped; *expected receives the bits found either way.
    bool cas_bits(std::uint64_t index, std::uint64_t *expected, std::uint64_t desired) noexcept;
    std::uint64_t add_bits(std::uint64_t index, std::uint64_t delta) noexcept;
    // Bytes slots: the stored length (SHMDS_ECORRUPT if above max_len) and a copy.
    int get_bytes(std::uint64_t index, void *buf, std::size_t cap, std::size_t *len) const noexcept;
    int set_bytes(std::uint64_t index, const void *data, std::size_t len) noexcept;

    core::EventNotifier &events() noexcept { return events_; }
    core::Segment &segment() noexcept { return segment_; }

    // SegmentClient
    core::StructureType type() const noexcept override { return core::StructureType::pool; }
    std::uint32_t wanted_variant() const noexcept override { return wanted_variant_; }
    const char *variant_name(std::uint32_t v) const noexcept override {
        return pool::variant_name(v);
    }
    int describe(core::SegmentShape &s) override;
    int reshape(std::uint32_t variant, const std::uint64_t (&geometry)[core::kGeometryWords],
                core::SegmentShape &s) override;
    void initialize(std::uint8_t *base) noexcept override;

private:
    friend struct core::EngineFactory;
    Pool() = default;
    void bind(std::uint8_t *base) noexcept;

    bool try_take(std::uint64_t i, OwnerToken me) noexcept {
        OwnerWord &w = owners_[i];
        if (w.load(std::memory_order_relaxed) != 0) return false;
        OwnerToken expected = 0;
        // acquire: the previous owner's writes to the slot (released by its free) come
        // before our zeroing of it.
        return w.compare_exchange_strong(expected, me, std::memory_order_acquire,
                                         std::memory_order_relaxed);
    }
    // One pass over the owner words from the cursor; -EAGAIN when none was free.
    inline int scan_take(OwnerToken me, std::uint64_t *index) noexcept;
    std::uint64_t cursor_for(OwnerToken me) noexcept;
    void zero_slot(std::uint64_t index) noexcept;
    int alloc_slow(std::uint64_t *index) noexcept;  // the full pool: reclaim when due
    int take_n(std::size_t n, std::uint64_t *indices) noexcept;
    bool any_free() const noexcept;
    bool free_at_least(std::size_t n) const noexcept;
    std::uint64_t reclaim_dead() noexcept;
    // Wake alloc sleepers, if any; the sleepers word first (see ringbuffer's
    // wake_sleepers: no shared store while nobody sleeps).
    void wake_sleepers(int n) noexcept {
        if (SHMDS_LIKELY(ctl_->freed.sleepers.load(std::memory_order_seq_cst) == 0)) return;
        core::waitpoint_wake(ctl_->freed, n);
    }

    core::Segment segment_;
    Geometry geom_{};
    Config requested_{};
    std::uint32_t wanted_variant_ = 0;
    PoolControl *ctl_ = nullptr;
    OwnerWord *owners_ = nullptr;
    std::uint8_t *data_ = nullptr;
    // Process-local hint: where this handle scans from, and which process set it (a fork
    // child starts from its own place instead of the parent's).
    std::atomic<std::uint64_t> cursor_{0};
    std::atomic<OwnerToken> cursor_owner_{0};
    core::EventNotifier events_;
};

int Pool::scan_take(OwnerToken me, std::uint64_t *index) noexcept {
    const std::uint64_t start = cursor_for(me);
    for (std::uint64_t i = start; i < geom_.capacity; ++i)
        if (try_take(i, me)) {
            *index = i;
            return 0;
        }
    for (std::uint64_t i = 0; i < start; ++i)
        if (try_take(i, me)) {
            *index = i;
            return 0;
        }
    return -EAGAIN;
}

int Pool::try_alloc(std::uint64_t *index) noexcept {
    const OwnerToken me = core::self_owner();
    std::uint64_t i;
    if (SHMDS_UNLIKELY(scan_take(me, &i) != 0) && alloc_slow(&i) != 0) return -EAGAIN;
    cursor_.store(i, std::memory_order_relaxed);
    SHMDS_FAILPOINT("pool.alloc.claimed");
    zero_slot(i);
    *index = i;
    return 0;
}

int Pool::free(std::uint64_t index) noexcept {
    if (SHMDS_UNLIKELY(index >= geom_.capacity)) return check_index(index, "free");
    OwnerWord &w = owners_[index];
    OwnerToken cur = w.load(std::memory_order_relaxed);
    do {
        if (SHMDS_UNLIKELY(cur == 0))
            return core::fail(-ENOENT, "pool slot {} is not allocated", index);
        // release: the owner's writes to the slot come before the next owner's zeroing.
    } while (!w.compare_exchange_weak(cur, 0, std::memory_order_release,
                                      std::memory_order_relaxed));
    cursor_.store(index, std::memory_order_relaxed);
    SHMDS_FAILPOINT("pool.free.unwoken");
    wake_sleepers(1);
    return 0;
}

}  // namespace shmds::pool
