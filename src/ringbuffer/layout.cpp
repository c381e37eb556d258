#include "ringbuffer/layout.hpp"

#include "core/error.hpp"

#include <cerrno>

namespace shmds::ringbuffer {

bool supported_type(std::uint32_t type) noexcept {
    const core::ElemTypeInfo *info = core::elem_type_info(type);
    if (!info) return false;
    switch (info->kind) {
        case core::ElemKind::signed_int:
        case core::ElemKind::unsigned_int: return true;
        case core::ElemKind::floating: return ElemType(type) == ElemType::f64;
        case core::ElemKind::bytes: return false;
    }
    return false;
}

int compute_geometry(std::uint32_t type, std::uint64_t capacity, Geometry &g) {
    g = Geometry{};
    if (!supported_type(type))
        return core::fail(-EINVAL,
                          "a ring buffer holds integers (8 to 64 bits) or f64, not {}",
                          core::elem_type_name(type));
    if (capacity == 0) return core::fail(-EINVAL, "ring buffer capacity must be at least 1");
    if (capacity > kMaxCapacity)
        return core::fail(-EINVAL, "ring buffer capacity {} exceeds the maximum {}", capacity,
                          kMaxCapacity);
    g.type = ElemType(type);
    g.capacity = capacity;
    g.control_off = sizeof(core::SegmentHeader);
    g.slots_off = core::align_up(g.control_off + sizeof(RingControl), kCacheLine);
    g.total = core::align_up(g.slots_off + capacity * sizeof(Slot), kCacheLine);  // < 2^35
    return 0;
}

std::uint64_t layout_hash(ElemType t) noexcept {
    core::LayoutHash h;
    h.add({std::uint64_t(core::StructureType::ringbuffer), std::uint64_t(t),
           sizeof(core::WaitPoint), sizeof(RingControl), offsetof(RingControl, written),
           offsetof(RingControl, stale_writes), sizeof(Slot)});
    return h.value();
}

}  // namespace shmds::ringbuffer
