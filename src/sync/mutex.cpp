#include "sync/mutex.hpp"

#include "core/error.hpp"

#include <cerrno>

namespace shmds::sync {

int Mutex::create(const shmds_options_t *opts, std::unique_ptr<Mutex> &out) {
    return create_as(opts, 0, 0, "mutex", out);
}

int Mutex::open(const shmds_options_t *opts, std::unique_ptr<Mutex> &out) {
    return open_as(opts, "mutex", out);
}

int Mutex::shape(std::uint64_t g0, std::uint64_t g1, Shape &out) const {
    if (g0 != 0 || g1 != 0) return core::fail(-EINVAL, "a mutex has no geometry");
    core::LayoutHash h;
    h.add({std::uint64_t(core::StructureType::mutex), sizeof(MutexControl), sizeof(OwnedMutex),
           offsetof(OwnedMutex, inconsistent)});
    out = Shape{sizeof(MutexControl), h.value()};
    return 0;
}

void Mutex::init_control(std::uint8_t *control) noexcept {
    owned_mutex_init(reinterpret_cast<MutexControl *>(control)->lock);
}

int Mutex::consistent() noexcept { return owned_mutex_consistent(ctl().lock, kWhat); }

}  // namespace shmds::sync
