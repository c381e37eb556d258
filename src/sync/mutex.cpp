#include "sync/mutex.hpp"

#include "core/error.hpp"

#include <cerrno>

namespace shmds::sync {

int Mutex::create(const shmds_options_t *opts, std::unique_ptr<Mutex> &out) {
    std::unique_ptr<Mutex> m(new (std::nothrow) Mutex());
    if (!m) return core::fail(-ENOMEM, "out of memory for a mutex handle");
    if (int r = m->create_segment(opts, 0, 0)) return r;
    out = std::move(m);
    return 0;
}

int Mutex::open(const shmds_options_t *opts, std::unique_ptr<Mutex> &out) {
    std::unique_ptr<Mutex> m(new (std::nothrow) Mutex());
    if (!m) return core::fail(-ENOMEM, "out of memory for a mutex handle");
    if (int r = m->open_segment(opts)) return r;
    out = std::move(m);
    return 0;
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
