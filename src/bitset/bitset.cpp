#include "bitset/bitset.hpp"

#include "core/failpoint.hpp"

#include <cerrno>
#include <cstring>

namespace shmds::bitset {

namespace {
constexpr std::uint64_t kAllOnes = ~std::uint64_t{0};

core::SegmentShape shape_of(const Geometry &g) {
    static_assert(kGeomBits == 0);
    return core::SegmentShape::of(kVariant, sizeof(std::uint64_t), alignof(std::uint64_t),
                                  g.total, layout_hash(), {g.nbits});
}

// The bits of a word at positions [lo, hi), 0 <= lo < hi <= 64.
std::uint64_t bits_between(std::uint64_t lo, std::uint64_t hi) noexcept {
    const std::uint64_t upto = hi == kWordBits ? kAllOnes : (std::uint64_t{1} << hi) - 1;
    return upto & (kAllOnes << lo);
}
}  // namespace

// ---- lifecycle ----------------------------------------------------------------------

int Bitset::create(const shmds_options_t *opts, const Config &cfg, std::unique_ptr<Bitset> &out) {
    return core::EngineFactory::make<Bitset>(true, opts, "bit set", out,
                                             [&](Bitset &b) { b.requested_ = cfg; });
}

int Bitset::open(const shmds_options_t *opts, std::unique_ptr<Bitset> &out) {
    return core::EngineFactory::make<Bitset>(false, opts, "bit set", out, [](Bitset &) {});
}

int Bitset::open_read_only(const shmds_options_t *opts, std::unique_ptr<Bitset> &out) {
    std::unique_ptr<Bitset> b;
    if (int r = core::EngineFactory::make_read_only<Bitset>(opts, "bit set", b, [](Bitset &) {}))
        return r;
    b->read_only_ = true;
    out = std::move(b);
    return 0;
}

int Bitset::describe(core::SegmentShape &s) {
    if (int r = compute_geometry(requested_.nbits, geom_)) return r;
    s = shape_of(geom_);
    return 0;
}

int Bitset::reshape(std::uint32_t variant, const std::uint64_t (&geometry)[core::kGeometryWords],
                    core::SegmentShape &s) {
    if (variant != kVariant) return core::fail(-EINVAL, "unknown bit set variant {}", variant);
    if (int r = compute_geometry(geometry[kGeomBits], geom_)) return r;
    s = shape_of(geom_);
    return 0;
}

void Bitset::initialize(std::uint8_t *) noexcept {
    // The segment arrives zeroed: every bit clear, the set writable.
}

void Bitset::bind(std::uint8_t *base) noexcept {
    ctl_ = reinterpret_cast<BitsetControl *>(base + geom_.control_off);
    words_ = reinterpret_cast<std::atomic<std::uint64_t> *>(base + geom_.words_off);
}

// ---- refusals -----------------------------------------------------------------------

int Bitset::refuse_range(std::uint64_t bit) const noexcept {
    return core::fail(-ERANGE, "bit {} is out of range: the bit set holds bits 0 to {}", bit,
                      geom_.nbits - 1);
}

int Bitset::check_writable() const noexcept {
    if (read_only_)
        return core::fail_static(-EROFS, "this bit set handle was opened read-only");
    if (ctl_->frozen.load(std::memory_order_acquire) != kWritable)
        return core::fail_static(-EROFS, "the bit set is frozen: it is read-only for good");
    return 0;
}

int Bitset::refuse_change(std::uint64_t bit) const noexcept {
    if (bit >= geom_.nbits) return refuse_range(bit);
    return check_writable();
}

// ---- reads ----------------------------------------------------------------------------

std::uint64_t Bitset::count() const noexcept {
    std::uint64_t n = 0;
    for (std::uint64_t i = 0; i < geom_.nwords; ++i) n += __builtin_popcountll(load_word(i));
    return n;
}

bool Bitset::any() const noexcept {
    for (std::uint64_t i = 0; i < geom_.nwords; ++i)
        if (load_word(i)) return true;
    return false;
}

int Bitset::first_with(bool want, std::uint64_t from, std::uint64_t *bit) const noexcept {
    if (from > geom_.nbits) return refuse_range(from);
    for (std::uint64_t i = from / kWordBits; i < geom_.nwords; ++i) {
        std::uint64_t w = load_word(i);
        if (!want) w = ~w & (i + 1 == geom_.nwords ? geom_.tail_mask : kAllOnes);
        if (i == from / kWordBits) w &= kAllOnes << (from % kWordBits);
        if (w) {
            *bit = i * kWordBits + std::uint64_t(__builtin_ctzll(w));
            return 0;
        }
    }
    return core::fail_static(-ENOENT, want ? "no set bit at or after that position"
                                           : "no clear bit at or after that position");
}

int Bitset::first_set(std::uint64_t from, std::uint64_t *bit) const noexcept {
    return first_with(true, from, bit);
}

int Bitset::first_clear(std::uint64_t from, std::uint64_t *bit) const noexcept {
    return first_with(false, from, bit);
}

int Bitset::set_bits(std::uint64_t from, std::uint64_t *out, std::size_t max,
                     std::size_t *count) const noexcept {
    *count = 0;
    if (from > geom_.nbits) return refuse_range(from);
    std::size_t got = 0;
    for (std::uint64_t i = from / kWordBits; i < geom_.nwords && got < max; ++i) {
        std::uint64_t w = load_word(i);
        if (i == from / kWordBits) w &= kAllOnes << (from % kWordBits);
        for (; w && got < max; w &= w - 1)
            out[got++] = i * kWordBits + std::uint64_t(__builtin_ctzll(w));
    }
    *count = got;
    return 0;
}

int Bitset::to_string(char *buf, std::size_t len) const noexcept {
    if (len < geom_.nbits + 1)
        return core::fail(-ENOBUFS, "the bit set's string takes {} bytes (with its NUL); the "
                                    "buffer has {}",
                          geom_.nbits + 1, len);
    for (std::uint64_t i = 0; i < geom_.nwords; ++i) {
        const std::uint64_t w = load_word(i);
        const std::uint64_t end =
            i + 1 == geom_.nwords ? geom_.nbits - i * kWordBits : kWordBits;
        for (std::uint64_t b = 0; b < end; ++b)
            buf[i * kWordBits + b] = (w >> b) & 1 ? '1' : '0';
    }
    buf[geom_.nbits] = '\0';
    return 0;
}

// ---- bulk changes -----------------------------------------------------------------------

// Apply apply(word, mask) to each word that [from, from + n) touches, one atomic
// read-modify-write per word, mask holding only the range's bits of that word (never a
// tail bit: the range ends at nbits at most).
template <typename Apply>
int Bitset::bulk(std::uint64_t from, std::uint64_t n, const char *verb, const char *failpoint,
                 Apply apply) noexcept {
    if (from > geom_.nbits || n > geom_.nbits - from)
        return core::fail(-ERANGE, "cannot {} bits [{}, {} + {}): the bit set holds {} bits", verb,
                          from, from, n, geom_.nbits);
    if (int r = check_writable()) return r;
    if (n == 0) return 0;
    const std::uint64_t end = from + n;  // <= nbits
    const std::uint64_t first = from / kWordBits, last = (end - 1) / kWordBits;
    for (std::uint64_t i = first; i <= last; ++i) {
        const std::uint64_t lo = i == first ? from % kWordBits : 0;
        const std::uint64_t hi = i == last ? end - last * kWordBits : kWordBits;
        apply(words_[i], bits_between(lo, hi));
        // A bulk change is not atomic as a whole: killed here, the words before are
        // changed and the rest are not (the crash tests check exactly that).
        if (i == first && first != last) SHMDS_FAILPOINT(failpoint);
    }
    return 0;
}

int Bitset::fill(std::uint64_t from, std::uint64_t n) noexcept {
    return bulk(from, n, "fill", "bitset.fill.partway", [](std::atomic<std::uint64_t> &w, std::uint64_t m) {
        w.fetch_or(m, std::memory_order_acq_rel);
    });
}

int Bitset::zero(std::uint64_t from, std::uint64_t n) noexcept {
    return bulk(from, n, "zero", "bitset.zero.partway", [](std::atomic<std::uint64_t> &w, std::uint64_t m) {
        w.fetch_and(~m, std::memory_order_acq_rel);
    });
}

// ---- freeze and stats ---------------------------------------------------------------------

int Bitset::freeze() noexcept {
    std::atomic<std::uint64_t> &f = ctl_->frozen;
    const std::uint64_t now = f.load(std::memory_order_acquire);
    if (now == kFrozen) return 0;  // idempotent, also through a read-only handle
    if (now != kWritable)
        return core::fail(SHMDS_ECORRUPT, "the bit set's frozen flag is damaged ({})", now);
    if (read_only_)
        return core::fail_static(-EROFS, "this bit set handle was opened read-only: freeze "
                                         "the set through a writable handle");
    std::uint64_t was = kWritable;
    f.compare_exchange_strong(was, kFrozen, std::memory_order_seq_cst);
    if (was != kWritable && was != kFrozen)
        return core::fail(SHMDS_ECORRUPT, "the bit set's frozen flag is damaged ({})", was);
    return 0;
}

void Bitset::stats(Stats &s) const noexcept {
    s = Stats{};
    s.nbits = geom_.nbits;
    s.count = count();
    s.recoveries = segment_.recoveries();
    s.segment_bytes = geom_.total;
    s.frozen = frozen();
    s.read_only = read_only_;
}

}  // namespace shmds::bitset
