// The rwlock in the conformance registry: 8 reader slots. A write takes the write lock;
// a read sees it write-locked.
#include "sync_entry.hpp"

namespace shmds::conformance {
namespace {

using RW = shmds_rwlock_t;

std::vector<Structure> entries() {
    Structure s = sync_structure<RW>(
        "rwlock",
        [](const shmds_options_t *o, RW **out) { return shmds_rwlock_create(o, 8, out); },
        shmds_rwlock_open, shmds_rwlock_close, shmds_rwlock_fd);
    s.write = [](Handle h) { return shmds_rwlock_wrlock(as<RW>(h), SHMDS_NOWAIT); };
    s.read = [](Handle h) { return shmds_rwlock_is_write_locked(as<RW>(h)) == 1 ? 0 : 1; };
    return {s};
}

const Registration registered(entries);

}  // namespace
}  // namespace shmds::conformance
