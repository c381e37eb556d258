// The bit set engine: a fixed number of bits in 64-bit words, every operation lock-free.
//
// A per-bit operation is one atomic read-modify-write of its word (set: fetch_or,
// clear: fetch_and, toggle: fetch_xor) or one load (test), so it takes effect whole or
// not at all: a process killed at any instruction leaves nothing half-done and nothing
// anybody must take over. Bulk operations (fill and zero, of the whole set or a range)
// apply one atomic fetch_or / fetch_and per word, so a per-bit operation on another bit
// of the same word is never lost (the reference stores whole words, which can revert
// a concurrent per-bit change); a bulk operation is not atomic as a whole, and one
// killed partway leaves its first words done and the rest untouched.
//
// freeze() sets a flag in the control block for good; every mutation checks it first,
// so a mutation that starts after freeze() returned is refused. A handle opened
// read-only maps the segment PROT_READ and refuses every mutation itself, before any
// store could fault.
//
// Shared memory is untrusted: every index is checked against the handle's own nbits
// (never a header field), and the tail bits of the last word are masked out of every
// read, so a peer that sets them changes nothing we report.
#pragma once

#include "bitset/layout.hpp"
#include "core/engine_factory.hpp"
#include "core/error.hpp"
#include "core/eventfd.hpp"
#include "core/segment.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace shmds::bitset {

struct Config {
    std::uint64_t nbits;
};

struct Stats {
    std::uint64_t nbits, count, recoveries, segment_bytes;
    bool frozen, read_only;
};

class Bitset final : public core::SegmentClient {
public:
    static int create(const shmds_options_t *opts, const Config &cfg, std::unique_ptr<Bitset> &out);
    static int open(const shmds_options_t *opts, std::unique_ptr<Bitset> &out);
    // Map the segment PROT_READ (the file opened O_RDONLY): every mutation is refused.
    static int open_read_only(const shmds_options_t *opts, std::unique_ptr<Bitset> &out);

    std::uint64_t nbits() const noexcept { return geom_.nbits; }
    // The words, for zero-copy readers (bitset.h: shmds_bitset_words).
    const std::uint64_t *words() const noexcept {
        return reinterpret_cast<const std::uint64_t *>(words_);
    }
    bool read_only() const noexcept { return read_only_; }
    bool frozen() const noexcept {
        return ctl_->frozen.load(std::memory_order_acquire) != kWritable;
    }

    // Per-bit verbs: the old bit (set, clear), the new bit (toggle), the bit (test), or
    // -ERANGE (bit >= nbits) / -EROFS (frozen, or a read-only handle) with a sentence.
    inline int set(std::uint64_t bit) noexcept;
    inline int clear(std::uint64_t bit) noexcept;
    inline int toggle(std::uint64_t bit) noexcept;
    inline int test(std::uint64_t bit) const noexcept;

    std::uint64_t count() const noexcept;
    bool any() const noexcept;
    // The first set (clear) bit at or after `from`: 0 with *bit, -ENOENT (none; also
    // for from == nbits, the end of an iteration) or -ERANGE (from > nbits).
    int first_set(std::uint64_t from, std::uint64_t *bit) const noexcept;
    int first_clear(std::uint64_t from, std::uint64_t *bit) const noexcept;
    // Up to `max` set bits at or after `from`, ascending: 0 with *count, or -ERANGE
    // (from > nbits). Fewer than max means there are no more (as of the scan).
    int set_bits(std::uint64_t from, std::uint64_t *out, std::size_t max,
                 std::size_t *count) const noexcept;
    // Set (fill) or clear (zero) bits [from, from + n): 0, -ERANGE (past the end) or -EROFS.
    int fill(std::uint64_t from, std::uint64_t n) noexcept;
    int zero(std::uint64_t from, std::uint64_t n) noexcept;
    // nbits characters '0'/'1', bit 0 first, plus a NUL: 0, or -ENOBUFS (len < nbits + 1).
    int to_string(char *buf, std::size_t len) const noexcept;
    // Refuse every mutation from now on, for good. 0, -EROFS (a read-only handle of a
    // set that is not frozen yet), SHMDS_ECORRUPT (the flag holds neither value).
    int freeze() noexcept;
    void stats(Stats &s) const noexcept;

    core::EventNotifier &events() noexcept { return events_; }
    core::Segment &segment() noexcept { return segment_; }

    // SegmentClient
    core::StructureType type() const noexcept override { return core::StructureType::bitset; }
    std::uint32_t wanted_variant() const noexcept override { return kVariant; }
    const char *variant_name(std::uint32_t v) const noexcept override {
        return v == kVariant ? "bits" : "unknown bit set variant";
    }
    int describe(core::SegmentShape &s) override;
    int reshape(std::uint32_t variant, const std::uint64_t (&geometry)[core::kGeometryWords],
                core::SegmentShape &s) override;
    void initialize(std::uint8_t *base) noexcept override;

private:
    friend struct core::EngineFactory;
    Bitset() = default;
    void bind(std::uint8_t *base) noexcept;

    std::atomic<std::uint64_t> &word_of(std::uint64_t bit) const noexcept {
        return words_[bit / kWordBits];
    }
    static std::uint64_t mask_of(std::uint64_t bit) noexcept {
        return std::uint64_t{1} << (bit % kWordBits);
    }
    // Word i as a reader should see it: the last word without its tail bits.
    std::uint64_t load_word(std::uint64_t i) const noexcept {
        const std::uint64_t w = words_[i].load(std::memory_order_acquire);
        return i + 1 == geom_.nwords ? w & geom_.tail_mask : w;
    }
    // May a per-bit mutation of `bit` go ahead? One compare and one load of the
    // read-mostly control line; the refusal is out of line.
    bool may_change(std::uint64_t bit) const noexcept {
        return SHMDS_LIKELY(bit < geom_.nbits && !read_only_ &&
                            ctl_->frozen.load(std::memory_order_relaxed) == kWritable);
    }
    [[gnu::cold, gnu::noinline]] int refuse_change(std::uint64_t bit) const noexcept;
    [[gnu::cold, gnu::noinline]] int refuse_range(std::uint64_t bit) const noexcept;
    int check_writable() const noexcept;
    template <typename Apply>
    int bulk(std::uint64_t from, std::uint64_t n, const char *verb, const char *failpoint,
             Apply apply) noexcept;
    // The first bit at or after `from` whose value is `want`.
    int first_with(bool want, std::uint64_t from, std::uint64_t *bit) const noexcept;

    core::Segment segment_;
    Geometry geom_{};
    Config requested_{};
    BitsetControl *ctl_ = nullptr;
    std::atomic<std::uint64_t> *words_ = nullptr;
    bool read_only_ = false;
    core::EventNotifier events_;
};

int Bitset::set(std::uint64_t bit) noexcept {
    if (!may_change(bit)) return refuse_change(bit);
    const std::uint64_t m = mask_of(bit);
    return (word_of(bit).fetch_or(m, std::memory_order_acq_rel) & m) != 0;
}

int Bitset::clear(std::uint64_t bit) noexcept {
    if (!may_change(bit)) return refuse_change(bit);
    const std::uint64_t m = mask_of(bit);
    return (word_of(bit).fetch_and(~m, std::memory_order_acq_rel) & m) != 0;
}

int Bitset::toggle(std::uint64_t bit) noexcept {
    if (!may_change(bit)) return refuse_change(bit);
    const std::uint64_t m = mask_of(bit);
    return (word_of(bit).fetch_xor(m, std::memory_order_acq_rel) & m) == 0;
}

int Bitset::test(std::uint64_t bit) const noexcept {
    if (SHMDS_UNLIKELY(bit >= geom_.nbits)) return refuse_range(bit);
    return (word_of(bit).load(std::memory_order_acquire) & mask_of(bit)) != 0;
}

}  // namespace shmds::bitset
