// The semaphore in the conformance registry: 3 permits. A write takes 2; a read sees 1
// left. release() wakes waiters but does not signal the eventfd (common.h: only notify).
#include "sync_entry.hpp"

namespace shmds::conformance {
namespace {

using S = shmds_semaphore_t;

std::vector<Structure> entries() {
    Structure s = sync_structure<S>(
        "semaphore",
        [](const shmds_options_t *o, S **out) { return shmds_semaphore_create(o, 3, 3, out); },
        shmds_semaphore_open, shmds_semaphore_close, shmds_semaphore_fd);
    s.write = [](Handle h) { return shmds_semaphore_try_acquire_n(as<S>(h), 2); };
    s.read = [](Handle h) { return shmds_semaphore_value(as<S>(h)) == 1 ? 0 : 1; };
    s.eventfds.push_back(sync_eventfd<S>(
        shmds_semaphore_eventfd, shmds_semaphore_set_eventfd, shmds_semaphore_notify,
        shmds_semaphore_eventfd_consume, [](Handle h) {
            if (int r = shmds_semaphore_try_acquire(as<S>(h))) return r;
            return shmds_semaphore_release(as<S>(h), 1);
        }));
    return {s};
}

const Registration registered(entries);

}  // namespace
}  // namespace shmds::conformance
