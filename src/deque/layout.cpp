#include "deque/layout.hpp"

#include "core/error.hpp"

#include <cerrno>

namespace shmds::deque {

int compute_geometry(ElemType t, std::uint64_t capacity, std::uint64_t max_len,
                     const char *noun, Geometry &g) {
    g = Geometry{};
    g.type = t;
    const core::ElemTypeInfo *info = core::elem_type_info(std::uint32_t(t));
    if (!info) return core::fail(-EINVAL, "unknown {} element type {}", noun, std::uint32_t(t));
    if (capacity == 0) return core::fail(-EINVAL, "{} capacity must be at least 1", noun);
    if (capacity > kMaxCapacity)
        return core::fail(-EINVAL, "{} capacity {} exceeds the maximum {}", noun, capacity,
                          kMaxCapacity);
    if (t == ElemType::bytes) {
        if (max_len == 0 || max_len > kMaxBytesLen)
            return core::fail(-EINVAL, "a bytes {} needs max_len in 1 ..= {} (got {})", noun,
                              kMaxBytesLen, max_len);
        g.stride = std::uint32_t(core::align_up(kBytesLenField + max_len, 4));
        g.elem_align = 4;
        g.max_len = max_len;
    } else {
        if (max_len != 0)
            return core::fail(-EINVAL, "max_len only applies to a bytes {} (got {} for {})",
                              noun, max_len, info->name);
        g.stride = info->size;
        g.elem_align = info->size;
    }
    g.capacity = capacity;
    g.control_off = sizeof(core::SegmentHeader);
    g.data_off = core::align_up(g.control_off + sizeof(Control), kCacheLine);
    // capacity <= 2^31 and stride <= 2^20 + 4: the product fits 64 bits.
    g.total = core::align_up(g.data_off + capacity * g.stride, kCacheLine);
    if (g.total > kMaxSegment)
        return core::fail(-EINVAL, "{} of {} slots of {} bytes needs {} bytes, over the {} limit",
                          noun, capacity, g.stride, g.total, kMaxSegment);
    return 0;
}

std::uint64_t layout_hash(core::StructureType s, ElemType t) noexcept {
    core::LayoutHash h;
    h.add({std::uint64_t(s), std::uint64_t(t), sizeof(core::WaitPoint), sizeof(Control),
           offsetof(Control, head), offsetof(Control, tail), offsetof(Control, cleared),
           offsetof(Control, push_full), offsetof(Control, not_empty),
           offsetof(Control, not_full), sizeof(core::RobustMutex), kOrigin, kBytesLenField});
    return h.value();
}

}  // namespace shmds::deque
