#include "reqrep/layout.hpp"

#include "core/error.hpp"

#include <cerrno>

namespace shmds::reqrep {

const char *variant_name(std::uint32_t v) noexcept {
    switch (Variant(v)) {
        case Variant::int64: return "int64";
        case Variant::bytes: return "bytes";
    }
    return "unknown-variant";
}

int compute_geometry(Variant v, std::uint64_t requests, std::uint64_t slots,
                     std::uint64_t req_size, std::uint64_t resp_size, Geometry &g) {
    g = Geometry{};
    g.variant = v;
    switch (v) {
        case Variant::int64:
            if (req_size || resp_size)
                return core::fail(-EINVAL, "request and response sizes only apply to the bytes "
                                           "reqrep (int64 carries one integer each way)");
            req_size = resp_size = sizeof(std::int64_t);
            break;
        case Variant::bytes:
            if (req_size == 0) req_size = kDefaultSize;
            if (resp_size == 0) resp_size = kDefaultSize;
            if (req_size > kMaxSize || resp_size > kMaxSize)
                return core::fail(-EINVAL, "reqrep message sizes {} / {} exceed the maximum {}",
                                  req_size, resp_size, kMaxSize);
            break;
        default:
            return core::fail(-EINVAL, "unknown reqrep variant {}", std::uint32_t(v));
    }
    if (requests == 0 || requests > kMaxRequests)
        return core::fail(-EINVAL, "reqrep request capacity {} is outside 1..{}", requests,
                          kMaxRequests);
    if (slots == 0 || slots > kMaxSlots)
        return core::fail(-EINVAL, "reqrep response slots {} is outside 1..{}", slots, kMaxSlots);
    g.requests = core::round_up_pow2(requests);
    g.slots = slots;
    g.req_size = req_size;
    g.resp_size = resp_size;
    g.req_stride = core::align_up(sizeof(RequestHeader) + req_size, 8);
    g.resp_stride = core::align_up(sizeof(ResponseSlot) + resp_size, kCacheLine);
    g.control_off = sizeof(core::SegmentHeader);
    g.ring_off = core::align_up(g.control_off + sizeof(ReqControl), kCacheLine);
    // Every factor is below 2^25, so no product below can overflow 64 bits.
    g.slots_off = core::align_up(g.ring_off + g.requests * g.req_stride, kCacheLine);
    g.total = core::align_up(g.slots_off + g.slots * g.resp_stride, kCacheLine);
    if (g.total > kMaxSegment)
        return core::fail(-EINVAL, "reqrep needs {} bytes, over the {} limit", g.total,
                          kMaxSegment);
    return 0;
}

std::uint64_t layout_hash(Variant v) noexcept {
    core::LayoutHash h;
    h.add({std::uint64_t(core::StructureType::reqrep), std::uint64_t(v), sizeof(core::WaitPoint),
           sizeof(core::RobustMutex), sizeof(ReqControl), offsetof(ReqControl, head),
           offsetof(ReqControl, requests), offsetof(ReqControl, sent), sizeof(RequestHeader),
           sizeof(ResponseSlot), offsetof(ResponseSlot, futex), offsetof(ResponseSlot, len)});
    return h.value();
}

}  // namespace shmds::reqrep
