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

int SyncSegment::describe(core::SegmentHeader &h) {
    Shape s;
    if (int r = shape(geometry_[0], geometry_[1], s)) return r;
    h.variant = kOnlyVariant;
    h.elem_size = 0;
    h.elem_align = 0;
    h.geometry[0] = geometry_[0];
    h.geometry[1] = geometry_[1];
    h.total_size = total_size(s);
    h.layout_hash = s.layout_hash;
    return 0;
}

void SyncSegment::initialize(std::uint8_t *base) noexcept {
    init_control(base + sizeof(core::SegmentHeader));
}

int SyncSegment::adopt(const core::SegmentHeader &h, const std::string &where) {
    const char *name = core::structure_name(std::uint32_t(type_));
    Shape s;
    if (shape(h.geometry[0], h.geometry[1], s) != 0)
        return core::fail(SHMDS_ECORRUPT, "{}: impossible {} geometry ({}, {})", where, name,
                          h.geometry[0], h.geometry[1]);
    if (h.layout_hash != s.layout_hash)
        return core::fail(SHMDS_EVERSION,
                          "{}: layout hash 0x{:016x} differs from this build's 0x{:016x} (made by "
                          "an incompatible libshmds build)",
                          where, h.layout_hash, s.layout_hash);
    for (int i = 2; i < core::kGeometryWords; ++i)
        if (h.geometry[i] != 0)
            return core::fail(SHMDS_ECORRUPT, "{}: unused {} geometry word {} is {}", where, name,
                              i, h.geometry[i]);
    if (h.total_size != total_size(s))
        return core::fail(SHMDS_ECORRUPT, "{}: {} of {} bytes but its geometry needs {}", where,
                          name, h.total_size, total_size(s));
    geometry_[0] = h.geometry[0];  // our private copy: the header is never trusted again
    geometry_[1] = h.geometry[1];
    return 0;
}

int SyncSegment::create_segment(const shmds_options_t *opts, std::uint64_t g0, std::uint64_t g1) {
    geometry_[0] = g0;
    geometry_[1] = g1;
    return core::segment_create(opts, *this, segment_);
}

int SyncSegment::open_segment(const shmds_options_t *opts) {
    return core::segment_open(opts, *this, segment_);
}

}  // namespace shmds::sync
