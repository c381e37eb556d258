#include "queue/layout.hpp"

#include "core/error.hpp"

#include <cerrno>

namespace shmds::queue {

int compute_geometry(Variant v, std::uint64_t capacity, std::uint64_t arena, Geometry &g) {
    g = Geometry{};
    g.variant = v;
    const bool is_bytes = v == Variant::bytes;
    const core::ElementShape shape =
        is_bytes ? core::ElementShape{sizeof(BytesDesc), alignof(BytesDesc)} : core::int_slot_shape(v);
    if (shape.size == 0) return core::fail(-EINVAL, "unknown queue variant {}", std::uint32_t(v));
    g.elem_size = shape.size;
    g.elem_align = shape.align;
    if (int r = core::ring_capacity(capacity, is_bytes ? kMaxBytesCapacity : kMaxIntCapacity,
                                    "queue", v, &g.capacity))
        return r;
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
           offsetof(BytesControl, tail_seen), offsetof(BytesControl, back_lock),
           offsetof(BytesControl, tail), offsetof(BytesControl, head_lowered),
           offsetof(BytesControl, back_allocs), offsetof(BytesControl, push_ok),
           offsetof(BytesControl, not_empty), sizeof(BytesDesc), sizeof(WideSlot),
           sizeof(NarrowSlot), sizeof(core::RobustMutex)});
    if (v != Variant::bytes) h.add({core::kSlotOrderSpread});  // integer slots are spread
    return h.value();
}

}  // namespace shmds::queue
