#include "buffer/layout.hpp"

#include "core/error.hpp"

#include <cerrno>

namespace shmds::buffer {

int compute_geometry(std::uint32_t type, std::uint64_t length, std::uint64_t width,
                     Geometry &g) {
    g = Geometry{};
    const core::ElemTypeInfo *info = core::elem_type_info(type);
    if (!info) return core::fail(-EINVAL, "buffer type {} is not a shmds_type_t", type);
    if (length == 0) return core::fail(-EINVAL, "buffer length must be at least 1");
    if (length > kMaxLength)
        return core::fail(-EINVAL, "buffer length {} exceeds the maximum {}", length, kMaxLength);
    std::uint64_t size = info->size;
    if (info->kind == core::ElemKind::bytes) {
        if (width == 0 || width > kMaxWidth)
            return core::fail(-EINVAL, "a bytes buffer needs a width of 1 ..= {} bytes, not {}",
                              kMaxWidth, width);
        size = width;
    } else if (width != 0) {
        return core::fail(-EINVAL, "width is for bytes buffers only ({} given for {})", width,
                          info->name);
    }
    // length <= 2^36 and size <= 2^20, so the product cannot overflow 64 bits.
    const std::uint64_t data_bytes = length * size;
    if (data_bytes > kMaxDataBytes)
        return core::fail(-EINVAL, "a buffer of {} elements of {} bytes exceeds {} bytes", length,
                          size, kMaxDataBytes);
    g.type = ElemType(type);
    g.length = length;
    g.width = info->kind == core::ElemKind::bytes ? width : 0;
    g.elem_size = std::uint32_t(size);
    g.control_off = sizeof(core::SegmentHeader);
    g.data_off = core::align_up(g.control_off + sizeof(Control), kCacheLine);
    g.data_bytes = data_bytes;
    g.total = core::align_up(g.data_off + data_bytes, kCacheLine);
    return 0;
}

std::uint64_t layout_hash(ElemType t) noexcept {
    core::LayoutHash h;
    h.add({std::uint64_t(core::StructureType::buffer), std::uint64_t(t), sizeof(core::WaitPoint),
           sizeof(Control), offsetof(Control, seq), offsetof(Control, settled)});
    return h.value();
}

}  // namespace shmds::buffer
