#include "sync/sync_segment.hpp"

#include "core/error.hpp"
#include "core/platform.hpp"

#include <cerrno>

namespace shmds::sync {

namespace {
std::uint64_t total_size(const Shape &s) {
    return core::align_up(sizeof(core::SegmentHeader) + s.control_bytes, core::kCacheLine);
}
}  // namespace

int SyncSegment::fd() const noexcept {
    int fd = segment_.fd();
    if (fd < 0)
        return core::fail(-ENOENT, "an anonymous {} has no descriptor; create it as a memfd",
                          core::structure_name(std::uint32_t(type_)));
    return fd;
}

const char *SyncSegment::variant_name(std::uint32_t v) const noexcept {
    return v == kOnlyVariant ? "the only variant" : "an unknown variant";
}

// The segment shape for geometry (g0, g1); the words are kept as the private copy.
int SyncSegment::describe(core::SegmentShape &s) {
    Shape c;
    if (int r = shape(geometry_[0], geometry_[1], c)) return r;
    s.variant = kOnlyVariant;
    s.geometry[0] = geometry_[0];
    s.geometry[1] = geometry_[1];
    s.total_size = total_size(c);
    s.layout_hash = c.layout_hash;
    return 0;
}

int SyncSegment::reshape(std::uint32_t variant,
                         const std::uint64_t (&geometry)[core::kGeometryWords],
                         core::SegmentShape &s) {
    if (variant != kOnlyVariant) return core::fail(-EINVAL, "unknown variant {}", variant);
    geometry_[0] = geometry[0];
    geometry_[1] = geometry[1];
    return describe(s);
}

void SyncSegment::initialize(std::uint8_t *base) noexcept {
    init_control(base + sizeof(core::SegmentHeader));
}

}  // namespace shmds::sync
