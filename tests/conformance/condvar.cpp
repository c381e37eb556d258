// The condvar in the conformance registry: its own mutex carries the shared state. A
// write takes it; a read sees it held (-EAGAIN from another process, -EDEADLK from the
// calling thread through another handle).
#include "sync_entry.hpp"

#include <cerrno>

namespace shmds::conformance {
namespace {

std::vector<Structure> entries() {
    Structure s = sync_structure<shmds_condvar_t>("condvar", shmds_condvar_create,
                                                  shmds_condvar_open, shmds_condvar_close,
                                                  shmds_condvar_fd);
    s.write = [](Handle h) { return shmds_condvar_lock(as<shmds_condvar_t>(h), SHMDS_NOWAIT); };
    s.read = [](Handle h) {
        int r = shmds_condvar_try_lock(as<shmds_condvar_t>(h));
        if (r == -EAGAIN || r == -EDEADLK) return 0;
        if (r == 0) shmds_condvar_unlock(as<shmds_condvar_t>(h));
        return r == 0 ? 1 : r;
    };
    return {s};
}

const Registration registered(entries);

}  // namespace
}  // namespace shmds::conformance
