// The barrier in the conformance registry: 2 parties. A write times out a wait, which
// breaks the barrier for every handle; a read sees it broken. A trip wakes the parties
// but does not signal the eventfd (common.h: only notify).
#include "sync_entry.hpp"

#include <cerrno>
#include <sys/wait.h>
#include <unistd.h>

namespace shmds::conformance {
namespace {

using B = shmds_barrier_t;

// Trip the barrier: a forked child (sharing the handle and its eventfd) is the other
// party, so the suite needs no thread. Whichever side arrives last leads.
int trip(Handle h) {
    pid_t pid = fork();
    if (pid < 0) return -errno;
    if (pid == 0) {
        int r = shmds_barrier_wait(as<B>(h), 5'000'000'000);
        _exit(r == 0 || r == SHMDS_BARRIER_LEADER ? 0 : 1);
    }
    int r = shmds_barrier_wait(as<B>(h), 5'000'000'000);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (r != 0 && r != SHMDS_BARRIER_LEADER) return r;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

std::vector<Structure> entries() {
    Structure s = sync_structure<B>(
        "barrier",
        [](const shmds_options_t *o, B **out) { return shmds_barrier_create(o, 2, out); },
        shmds_barrier_open, shmds_barrier_close, shmds_barrier_fd);
    s.write = [](Handle h) {
        int r = shmds_barrier_wait(as<B>(h), 1'000'000);
        return r == -ETIMEDOUT ? 0 : r == 0 ? -EPROTO : r;
    };
    s.read = [](Handle h) { return shmds_barrier_is_broken(as<B>(h)) == 1 ? 0 : 1; };
    s.eventfds.push_back(sync_eventfd<B>(shmds_barrier_eventfd, shmds_barrier_set_eventfd,
                                         shmds_barrier_notify, shmds_barrier_eventfd_consume,
                                         trip));
    return {s};
}

const Registration registered(entries);

}  // namespace
}  // namespace shmds::conformance
