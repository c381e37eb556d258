// The buffer engine: a fixed array of `length` typed elements.
//
// Two kinds of access, with two consistency rules:
//
// - Per element, numeric types: one hardware atomic of the element's width (loads,
//   stores, exchange, compare-and-swap, fetch-and/or/xor), lock-free and never blocked.
//   A killed process leaves each element old or new, never half-written.
// - Bulk (and every bytes element, which no hardware atomic covers): a seqlock. Writers
//   take `mutex` (core::RobustMutex), make `seq` odd, write, make it even again (release)
//   and unlock. Readers load seq, copy, and accept the copy only when seq was even and
//   is unchanged; otherwise they retry. Readers never write shared memory, so a dead
//   reader pins nothing. A reader that finds seq odd for long (a writer mid-write or
//   dead) sleeps on `settled` and probes the writer lock's holder: a dead holder is
//   taken over (repair: make seq even) within about 10 ms. The data a dead writer half
//   wrote stays as it left it (no undo); each element is still whole.
//
// Per-element writes do not move seq: a bulk read is consistent with respect to bulk
// writes, each element is atomic on its own.
#pragma once

#include "buffer/layout.hpp"
#include "core/deadline.hpp"
#include "core/engine_factory.hpp"
#include "core/error.hpp"
#include "core/eventfd.hpp"
#include "core/failpoint.hpp"
#include "core/segment.hpp"

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace shmds::buffer {

using core::Deadline;

struct Config {
    ElemType variant;  // the element type (EngineFactory's name for it)
    std::uint64_t length;
    std::uint64_t width;  // bytes only
};

struct Stats {
    std::uint64_t length, elem_size, bulk_writes, recoveries, segment_bytes;
    std::uint32_t waiters;
};

class Buffer final : public core::SegmentClient {
public:
    static int create(const shmds_options_t *opts, const Config &cfg,
                      std::unique_ptr<Buffer> &out);
    // wanted_type 0 accepts any type.
    static int open(const shmds_options_t *opts, std::uint32_t wanted_type,
                    std::unique_ptr<Buffer> &out);

    // Ends a write batch the calling thread still holds (buffer.h: close ends it), so a
    // closed handle never leaves readers waiting for a live thread's probe to fail.
    ~Buffer() override {
        if (ctl_ && holds_batch()) end_write();
    }

    ElemType elem_type() const noexcept { return geom_.type; }
    std::uint64_t length() const noexcept { return geom_.length; }
    std::uint32_t elem_size() const noexcept { return geom_.elem_size; }
    std::uint64_t width() const noexcept { return geom_.width; }
    std::uint64_t data_bytes() const noexcept { return geom_.data_bytes; }
    std::uint8_t *data() const noexcept { return data_; }
    bool is_bytes() const noexcept { return geom_.width != 0; }

    // 0, or -ERANGE with a sentence: `i` is not an element index.
    int check_index(std::uint64_t i, const char *fn) const noexcept {
        if (SHMDS_LIKELY(i < geom_.length)) return 0;
        return index_error(i, fn);
    }
    // 0, or -ERANGE with a sentence: [off, off + len) is not inside the data (computed
    // without overflow: off + len is never formed).
    // Whether [off, off + len) lies inside the data (without overflow).
    bool span_ok(std::uint64_t off, std::uint64_t len) const noexcept {
        return off <= geom_.data_bytes && len <= geom_.data_bytes - off;
    }
    int check_span(std::uint64_t off, std::uint64_t len, const char *fn) const noexcept {
        if (SHMDS_LIKELY(span_ok(off, len))) return 0;
        return span_error(off, len, fn);
    }

    // Per-element atomics on numeric elements: the element's bits, zero-extended (the
    // caller checked the index and that the buffer is numeric).
    inline std::uint64_t load_bits(std::uint64_t i) const noexcept;
    inline void store_bits(std::uint64_t i, std::uint64_t bits) noexcept;
    inline std::uint64_t exchange_bits(std::uint64_t i, std::uint64_t bits) noexcept;
    // True when the element held `expected` (then it holds `desired`); otherwise false
    // with `expected` set to what it holds.
    inline bool cas_bits(std::uint64_t i, std::uint64_t &expected, std::uint64_t desired) noexcept;
    enum class BitOp { and_, or_, xor_ };
    // The element's previous bits.
    inline std::uint64_t fetch_bitop(std::uint64_t i, BitOp op, std::uint64_t bits) noexcept;

    // Bulk read of data bytes [off, off + len) into out, consistent with respect to bulk
    // writes (retried while one overlaps). 0; -EAGAIN (NOWAIT and a bulk write in
    // progress); -ETIMEDOUT. The caller checked the span.
    int read(std::uint64_t off, std::uint64_t len, void *out, const Deadline &dl) noexcept;

    // Bulk write under the lock: fill(data) runs with the lock held and seq odd. fill
    // must not throw or block. 0; -EAGAIN (NOWAIT and the lock is held); -ETIMEDOUT.
    // Called by the owner of a write batch, it runs inside the batch.
    template <typename Fill>
    int write(const Deadline &dl, Fill &&fill) noexcept {
        if (holds_batch()) {
            fill(data_);
            return 0;
        }
        if (int r = begin_write(dl)) return r;
        fill(data_);
        SHMDS_FAILPOINT("buffer.write.written");
        end_write();
        return 0;
    }

    // Copy len bytes from src to data offset off with the lock held (inside write()'s
    // fill or a batch): whole numeric elements are stored one atomic store each, so a
    // writer killed mid-copy leaves every element old or new, and per-element readers
    // never see a half-stored one. The caller checked the span.
    void store_span(std::uint64_t off, const void *src, std::uint64_t len) noexcept;

    // Write batch: the lock held and seq odd until end_write_batch. Thread-owned (the
    // lock names the calling thread). 0; -EAGAIN; -ETIMEDOUT; -EDEADLK (the calling
    // thread already holds a batch).
    int begin_write_batch(const Deadline &dl) noexcept;
    // 0; -EPERM (the calling thread holds no write batch).
    int end_write_batch() noexcept;
    bool holds_batch() const noexcept { return core::stamp_lock_held_by_caller(ctl_->mutex.word); }

    // Read batch: wait for an even seq and return it; the caller reads the data through
    // data() and asks read_batch_valid(seq) afterwards. 0; -EAGAIN; -ETIMEDOUT.
    int begin_read_batch(std::uint64_t *seq, const Deadline &dl) noexcept;
    // The uncontended bulk read: an even seq, one copy, the seq unchanged after it.
    // False, with `out` possibly overwritten, when the span is out of range, a bulk
    // write was in progress (this thread's own write batch included: it keeps seq odd)
    // or began during the copy: the caller then takes read(), which waits and retries.
    //
    // Written so that as little as possible is loaded after the copy: a 4 KiB copy
    // leaves stores to every page offset in flight, and each load right after it that
    // matches one of them in its low 12 bits (a saved register, a return address) is
    // replayed (4K aliasing). Twelve register restores after the copy cost a 4 KiB
    // get_raw 13% (Intel, measured); shmds_buffer_get_raw's fast path restores three.
    bool try_read(std::uint64_t off, std::uint64_t len, void *out) const noexcept {
        if (SHMDS_UNLIKELY(!span_ok(off, len))) return false;
        const std::uint64_t s = seq();
        if (SHMDS_UNLIKELY(s & 1)) return false;
        std::memcpy(out, data_ + off, len);
        return read_batch_valid(s);
    }

    // Whether no bulk write began since `seq` was returned (the reads are consistent).
    bool read_batch_valid(std::uint64_t seq) const noexcept {
        std::atomic_thread_fence(std::memory_order_acquire);
        return ctl_->seq.load(std::memory_order_relaxed) == seq;
    }

    std::uint64_t seq() const noexcept { return ctl_->seq.load(std::memory_order_acquire); }
    void stats(Stats &s) const noexcept;

    core::EventNotifier &events() noexcept { return events_; }
    core::Segment &segment() noexcept { return segment_; }

    // SegmentClient
    core::StructureType type() const noexcept override { return core::StructureType::buffer; }
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
    Buffer() = default;
    void bind(std::uint8_t *base) noexcept;

    int index_error(std::uint64_t i, const char *fn) const noexcept;
    int span_error(std::uint64_t off, std::uint64_t len, const char *fn) const noexcept;
    // Lock, then make seq odd. 0 or the lock's failure code (with a sentence).
    int begin_write(const Deadline &dl) noexcept;
    // Make seq even, unlock, wake sleeping readers.
    void end_write() noexcept;
    // Wait until seq is even (probing the writer lock's holder): 0 with *seq set, -EAGAIN
    // or -ETIMEDOUT.
    int wait_even(std::uint64_t *seq, const Deadline &dl) noexcept;
    // The writer lock's holder died: take it over (repair) if so. True when seq may have
    // changed (re-check).
    bool probe_writer() noexcept;
    static void repair(void *self) noexcept;

    template <typename T>
    T *at(std::uint64_t i) const noexcept {
        return reinterpret_cast<T *>(data_) + i;
    }

    core::Segment segment_;
    Geometry geom_{};
    Config requested_{};
    std::uint32_t wanted_variant_ = 0;
    Control *ctl_ = nullptr;
    std::uint8_t *data_ = nullptr;
    core::EventNotifier events_;
};

// Dispatch on the element width. Elements are naturally aligned (layout.hpp), so each
// is one lock-free atomic of its width.
#define SHMDS_BUFFER_BY_WIDTH(EXPR_OF_T)                           \
    switch (geom_.elem_size) {                                     \
        case 1: { using T = std::uint8_t; EXPR_OF_T; }             \
        case 2: { using T = std::uint16_t; EXPR_OF_T; }            \
        case 4: { using T = std::uint32_t; EXPR_OF_T; }            \
        default: { using T = std::uint64_t; EXPR_OF_T; }           \
    }

std::uint64_t Buffer::load_bits(std::uint64_t i) const noexcept {
    SHMDS_BUFFER_BY_WIDTH(return __atomic_load_n(at<T>(i), __ATOMIC_ACQUIRE))
}

void Buffer::store_bits(std::uint64_t i, std::uint64_t bits) noexcept {
    SHMDS_BUFFER_BY_WIDTH(__atomic_store_n(at<T>(i), T(bits), __ATOMIC_RELEASE); return)
}

std::uint64_t Buffer::exchange_bits(std::uint64_t i, std::uint64_t bits) noexcept {
    SHMDS_BUFFER_BY_WIDTH(return __atomic_exchange_n(at<T>(i), T(bits), __ATOMIC_ACQ_REL))
}

bool Buffer::cas_bits(std::uint64_t i, std::uint64_t &expected, std::uint64_t desired) noexcept {
    SHMDS_BUFFER_BY_WIDTH({
        T e = T(expected);
        const bool ok = __atomic_compare_exchange_n(at<T>(i), &e, T(desired), false,
                                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
        expected = e;
        return ok;
    })
}

std::uint64_t Buffer::fetch_bitop(std::uint64_t i, BitOp op, std::uint64_t bits) noexcept {
    SHMDS_BUFFER_BY_WIDTH({
        T *p = at<T>(i);
        switch (op) {
            case BitOp::and_: return __atomic_fetch_and(p, T(bits), __ATOMIC_ACQ_REL);
            case BitOp::or_: return __atomic_fetch_or(p, T(bits), __ATOMIC_ACQ_REL);
            default: return __atomic_fetch_xor(p, T(bits), __ATOMIC_ACQ_REL);
        }
    })
}

#undef SHMDS_BUFFER_BY_WIDTH

}  // namespace shmds::buffer
