#include "bitset/layout.hpp"

#include "core/error.hpp"

#include <cerrno>

namespace shmds::bitset {

int compute_geometry(std::uint64_t nbits, Geometry &g) {
    g = Geometry{};
    if (nbits == 0) return core::fail(-EINVAL, "a bit set must hold at least 1 bit");
    if (nbits > kMaxBits)
        return core::fail(-EINVAL, "a bit set of {} bits exceeds the maximum {}", nbits, kMaxBits);
    g.nbits = nbits;
    g.nwords = (nbits + kWordBits - 1) / kWordBits;
    const std::uint64_t rest = nbits % kWordBits;
    g.tail_mask = rest ? (std::uint64_t{1} << rest) - 1 : ~std::uint64_t{0};
    g.control_off = sizeof(core::SegmentHeader);
    g.words_off = g.control_off + sizeof(BitsetControl);
    g.total = core::align_up(g.words_off + g.nwords * sizeof(std::uint64_t), kCacheLine);
    return 0;
}

std::uint64_t layout_hash() noexcept {
    core::LayoutHash h;
    h.add({std::uint64_t(core::StructureType::bitset), std::uint64_t(kVariant),
           sizeof(BitsetControl), offsetof(BitsetControl, frozen), kWordBits,
           sizeof(std::atomic<std::uint64_t>)});
    return h.value();
}

}  // namespace shmds::bitset
