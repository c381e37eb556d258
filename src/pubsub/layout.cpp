#include "pubsub/layout.hpp"

#include "core/error.hpp"

#include <cerrno>

namespace shmds::pubsub {

int compute_geometry(Variant v, std::uint64_t capacity, std::uint64_t msg_size, Geometry &g) {
    g = Geometry{};
    g.variant = v;
    const bool is_bytes = v == Variant::bytes;
    switch (v) {
        case Variant::int16:
        case Variant::int32:
        case Variant::int64:
            g.elem_size = core::int_slot_shape(v).size;
            g.elem_align = core::int_slot_shape(v).align;
            break;
        case Variant::bytes:
            if (msg_size == 0) msg_size = kDefaultMsgSize;
            if (msg_size > kMaxMsgSize)
                return core::fail(-EINVAL, "pubsub message size {} exceeds the maximum {}",
                                  msg_size, kMaxMsgSize);
            g.msg_size = msg_size;
            g.elem_size = std::uint32_t(core::align_up(sizeof(BytesSlotHeader) + msg_size,
                                                       kCacheLine));
            g.elem_align = kCacheLine;
            break;
        default:
            return core::fail(-EINVAL, "unknown pubsub variant {}", std::uint32_t(v));
    }
    if (!is_bytes && msg_size != 0)
        return core::fail(-EINVAL, "a message size only applies to the bytes pubsub");
    if (int r = core::ring_capacity(capacity, is_bytes ? kMaxBytesCapacity : kMaxIntCapacity,
                                    "pubsub", v, &g.capacity))
        return r;
    g.stride = g.elem_size;
    g.control_off = sizeof(core::SegmentHeader);
    g.slots_off = core::align_up(g.control_off + sizeof(PubControl), kCacheLine);
    const std::uint64_t slots_bytes = g.capacity * g.stride;  // both factors < 2^25
    g.total = core::align_up(g.slots_off + slots_bytes, kCacheLine);
    if (g.total > kMaxSegment)
        return core::fail(-EINVAL, "pubsub of {} slots of {} bytes needs {} bytes, over the {} "
                                   "limit",
                          g.capacity, g.stride, g.total, kMaxSegment);
    return 0;
}

std::uint64_t layout_hash(Variant v) noexcept {
    core::LayoutHash h;
    h.add({std::uint64_t(core::StructureType::pubsub), std::uint64_t(v), sizeof(core::WaitPoint),
           sizeof(PubControl), offsetof(PubControl, readable), offsetof(PubControl, dropped),
           sizeof(BytesSlotHeader), offsetof(BytesSlotHeader, len), sizeof(WideSlot),
           sizeof(NarrowSlot), std::uint64_t(kAbandonNs)});
    if (v != Variant::bytes) h.add({core::kSlotOrderSpread});  // integer slots are spread
    return h.value();
}

}  // namespace shmds::pubsub
