#include "heap/layout.hpp"

#include "core/error.hpp"

#include <cerrno>

namespace shmds::heap {

int compute_geometry(ElemType t, std::uint64_t capacity, std::uint64_t max_len,
                     std::uint64_t flags, Geometry &g) {
    g = Geometry{};
    g.type = t;
    if (t != ElemType::int64 && t != ElemType::bytes)
        return core::fail(-EINVAL, "a heap's values are int64 or bytes (got {})",
                          core::elem_type_name(std::uint32_t(t)));
    if (capacity == 0) return core::fail(-EINVAL, "heap capacity must be at least 1");
    if (capacity > kMaxCapacity)
        return core::fail(-EINVAL, "heap capacity {} exceeds the maximum {}", capacity,
                          kMaxCapacity);
    if (flags & ~kKnownFlags)
        return core::fail(-EINVAL, "heap flags {:#x} include unknown bits", flags);
    if (t == ElemType::bytes) {
        if (max_len == 0 || max_len > kMaxBytesLen)
            return core::fail(-EINVAL, "a bytes heap needs max_len in 1 ..= {} (got {})",
                              kMaxBytesLen, max_len);
        g.stride = std::uint32_t(core::align_up(kValueOff + kBytesLenField + max_len, 8));
        g.max_len = max_len;
    } else {
        if (max_len != 0)
            return core::fail(-EINVAL, "max_len only applies to a bytes heap (got {})", max_len);
        g.stride = kValueOff + sizeof(std::int64_t);
    }
    g.capacity = capacity;
    g.flags = flags;
    g.control_off = sizeof(core::SegmentHeader);
    g.data_off = core::align_up(g.control_off + sizeof(Control), kCacheLine);
    // capacity + 1 entries (the last is the moving entry); capacity <= 2^31 and
    // stride <= 2^20 + 32: the product fits 64 bits.
    g.total = core::align_up(g.data_off + (capacity + 1) * g.stride, kCacheLine);
    if (g.total > kMaxSegment)
        return core::fail(-EINVAL, "a heap of {} entries of {} bytes needs {} bytes, over the {} limit",
                          capacity, g.stride, g.total, kMaxSegment);
    return 0;
}

std::uint64_t layout_hash(ElemType t) noexcept {
    core::LayoutHash h;
    h.add({std::uint64_t(core::StructureType::heap), std::uint64_t(t), sizeof(core::WaitPoint),
           sizeof(Control), offsetof(Control, size), offsetof(Control, next_seq),
           offsetof(Control, op), offsetof(Control, hole), offsetof(Control, jsize),
           offsetof(Control, push_full), offsetof(Control, cleared),
           offsetof(Control, not_empty), offsetof(Control, not_full),
           sizeof(core::RobustMutex), kValueOff, kBytesLenField});
    return h.value();
}

}  // namespace shmds::heap
