#include "queue/layout.hpp"

#include "core/error.hpp"

#include <cerrno>

namespace shmds::queue {

int compute_geometry(Variant v, std::uint64_t capacity, std::uint64_t arena, Geometry &g) {
    g = Geometry{};
    g.variant = v;
    const bool is_bytes = v == Variant::bytes;
    switch (v) {
        case Variant::int16:
        case Variant::int32:
            g.elem_size = sizeof(NarrowSlot);
            g.elem_align = alignof(NarrowSlot);
            break;
        case Variant::int64:
            g.elem_size = sizeof(WideSlot);
            g.elem_align = alignof(WideSlot);
            break;
        case Variant::bytes:
            g.elem_size = sizeof(BytesDesc);
            g.elem_align = alignof(BytesDesc);
            break;
        default:
            return core::fail(-EINVAL, "unknown queue variant {}", std::uint32_t(v));
    }
    const std::uint64_t max_cap = is_bytes ? kMaxBytesCapacity : kMaxIntCapacity;
    if (capacity == 0) return core::fail(-EINVAL, "queue capacity must be at least 1");
    if (capacity > max_cap)
        return core::fail(-EINVAL, "queue capacity {} exceeds the maximum {} for {}", capacity,
                          max_cap, variant_name(std::uint32_t(v)));
    // Power of two: cheap index masking, and 1 becomes 2 so a full ring is never empty.
    g.capacity = core::round_up_pow2(capacity < 2 ? 2 : capacity);
    if (is_bytes) {
        if (arena == 0) arena = g.capacity * kDefaultBytesPerMessage;
        if (arena < kMinArena) arena = kMinArena;
        arena = core::align_up(arena, kArenaAlign);
        if (arena > kMaxArena)
            return core::fail(-EINVAL, "queue arena of {} bytes exceeds the maximum {}", arena,
                              kMaxArena);
        g.arena = arena;
    } else if (arena != 0) {
        return core::fail(-EINVAL, "an arena size only applies to the bytes queue");
    }
    g.control_off = sizeof(core::SegmentHeader);
    const std::uint64_t control = is_bytes ? sizeof(BytesControl) : sizeof(IntControl);
    g.data_off = core::align_up(g.control_off + control, kCacheLine);
    const std::uint64_t data_end = g.data_off + g.capacity * g.elem_size;
    if (is_bytes) {
        g.arena_off = core::align_up(data_end, kCacheLine);
        g.total = g.arena_off + g.arena;
    } else {
        g.total = data_end;
    }
    g.total = core::align_up(g.total, kCacheLine);
    return 0;
}

std::uint64_t layout_hash(Variant v) noexcept {
    core::LayoutHash h;
    h.add({std::uint64_t(core::StructureType::queue), std::uint64_t(v), sizeof(core::WaitPoint),
           sizeof(IntControl), offsetof(IntControl, head), offsetof(IntControl, not_empty),
           offsetof(IntControl, push_full), sizeof(BytesControl), offsetof(BytesControl, head),
           offsetof(BytesControl, not_empty), sizeof(BytesDesc), sizeof(WideSlot),
           sizeof(NarrowSlot), sizeof(core::RobustMutex)});
    return h.value();
}

}  // namespace shmds::queue
