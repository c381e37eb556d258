#include "log/layout.hpp"

#include "core/error.hpp"

#include <cerrno>

namespace shmds::log {

int compute_geometry(std::uint64_t capacity, Geometry &g) {
    g = Geometry{};
    if (capacity < kMinCapacity || capacity > kMaxCapacity)
        return core::fail(-EINVAL, "log capacity of {} bytes is outside {} ..= {}", capacity,
                          kMinCapacity, kMaxCapacity);
    g.capacity = core::align_up(capacity, kEntryAlign);
    g.control_off = sizeof(core::SegmentHeader);
    g.data_off = core::align_up(g.control_off + sizeof(LogControl), kCacheLine);
    g.total = core::align_up(g.data_off + g.capacity, kCacheLine);
    return 0;
}

std::uint64_t layout_hash() noexcept {
    core::LayoutHash h;
    h.add({std::uint64_t(core::StructureType::log), kVariant, sizeof(core::WaitPoint),
           sizeof(LogControl), offsetof(LogControl, commit), offsetof(LogControl, epoch),
           offsetof(LogControl, truncation), offsetof(LogControl, seed),
           offsetof(LogControl, appended), sizeof(EntryHeader), sizeof(core::RobustMutex)});
    return h.value();
}

}  // namespace shmds::log
