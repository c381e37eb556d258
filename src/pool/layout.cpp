#include "pool/layout.hpp"

#include "core/error.hpp"

#include <cerrno>

namespace shmds::pool {

bool supported_variant(std::uint32_t variant) noexcept {
    return variant == kRawVariant || core::elem_type_info(variant) != nullptr;
}

const char *variant_name(std::uint32_t variant) noexcept {
    return variant == kRawVariant ? "raw" : core::elem_type_name(variant);
}

namespace {
Form form_of(const core::ElemTypeInfo &info) noexcept {
    switch (info.kind) {
        case core::ElemKind::signed_int: return Form::signed_int;
        case core::ElemKind::unsigned_int: return Form::unsigned_int;
        case core::ElemKind::floating: return Form::floating;
        case core::ElemKind::bytes: return Form::bytes;
    }
    return Form::raw;
}
}  // namespace

int compute_geometry(std::uint32_t variant, std::uint64_t capacity, std::uint64_t size,
                     Geometry &g) {
    g = Geometry{};
    if (!supported_variant(variant))
        return core::fail(-EINVAL, "a pool holds raw slots or a shmds_type_t, not variant {}",
                          variant);
    if (capacity == 0) return core::fail(-EINVAL, "pool capacity must be at least 1");
    if (capacity > kMaxCapacity)
        return core::fail(-EINVAL, "pool capacity {} exceeds the maximum {}", capacity,
                          kMaxCapacity);
    g.variant = variant;
    g.capacity = capacity;
    if (variant == kRawVariant) {
        if (size == 0 || size > kMaxElemSize)
            return core::fail(-EINVAL, "a raw pool's elem_size must be 1 ..= {}, not {}",
                              kMaxElemSize, size);
        g.form = Form::raw;
        g.size = size;
        g.stride = size;  // exact: data_ptr + i * elem_size, as the caller chose it
    } else {
        const core::ElemTypeInfo &info = *core::elem_type_info(variant);
        g.form = form_of(info);
        if (g.form == Form::bytes) {
            if (size == 0 || size > kMaxElemSize)
                return core::fail(-EINVAL, "a bytes pool's max_len must be 1 ..= {}, not {}",
                                  kMaxElemSize, size);
            g.size = size;
            g.stride = core::align_up(sizeof(std::uint32_t) + size, sizeof(std::uint32_t));
        } else {
            if (size != 0 && size != info.size)
                return core::fail(-EINVAL, "an {} pool's slots are {} bytes; elem_size {} is "
                                           "for raw pools (pass 0)",
                                  info.name, info.size, size);
            g.size = info.size;
            g.stride = info.size;
        }
    }
    if (capacity * g.stride > kMaxDataBytes)  // both < 2^31: no overflow
        return core::fail(-EINVAL, "a pool of {} slots of {} bytes exceeds {} bytes of data",
                          capacity, g.stride, kMaxDataBytes);
    g.control_off = sizeof(core::SegmentHeader);
    g.owners_off = core::align_up(g.control_off + sizeof(PoolControl), kCacheLine);
    g.data_off = core::align_up(g.owners_off + capacity * sizeof(OwnerWord), kCacheLine);
    g.total = core::align_up(g.data_off + capacity * g.stride, kCacheLine);
    return 0;
}

std::uint64_t layout_hash(std::uint32_t variant) noexcept {
    core::LayoutHash h;
    h.add({std::uint64_t(core::StructureType::pool), std::uint64_t(variant),
           sizeof(core::WaitPoint), sizeof(PoolControl), offsetof(PoolControl, freed),
           sizeof(OwnerWord), sizeof(std::uint32_t) /* bytes length word */});
    return h.value();
}

}  // namespace shmds::pool
