// The mutex in the conformance registry. A write takes the lock; a read sees it held
// (by another process: -EAGAIN; by the calling thread through another handle: -EDEADLK).
#include "sync_entry.hpp"

#include <cerrno>

namespace shmds::conformance {
namespace {

std::vector<Structure> entries() {
    Structure s = sync_structure<shmds_mutex_t>(
        "mutex", shmds_mutex_create, shmds_mutex_open, shmds_mutex_close, shmds_mutex_fd);
    s.write = [](Handle h) { return shmds_mutex_lock(as<shmds_mutex_t>(h), SHMDS_NOWAIT); };
    s.read = [](Handle h) {
        int r = shmds_mutex_try_lock(as<shmds_mutex_t>(h));
        if (r == -EAGAIN || r == -EDEADLK) return 0;
        if (r == 0) shmds_mutex_unlock(as<shmds_mutex_t>(h));
        return r == 0 ? 1 : r;
    };
    return {s};
}

const Registration registered(entries);

}  // namespace
}  // namespace shmds::conformance
