// The once in the conformance registry. A write runs the (empty) initializer to done;
// a read sees it done.
#include "sync_entry.hpp"

#include <cerrno>

namespace shmds::conformance {
namespace {

using O = shmds_once_t;

std::vector<Structure> entries() {
    Structure s = sync_structure<O>("once", shmds_once_create, shmds_once_open, shmds_once_close,
                                    shmds_once_fd);
    s.write = [](Handle h) {
        int r = shmds_once_enter(as<O>(h), SHMDS_NOWAIT);
        if (r != 1) return r == 0 ? -EALREADY : r;
        return shmds_once_done(as<O>(h));
    };
    s.read = [](Handle h) { return shmds_once_is_done(as<O>(h)) == 1 ? 0 : 1; };
    return {s};
}

const Registration registered(entries);

}  // namespace
}  // namespace shmds::conformance
