// Helpers for the sync suites: option builders, observing a child's death without
// reaping it (so it can stay a zombie), and timing a recovery.
#pragma once

#include "core/failpoint.hpp"
#include "shmds_config.h"
#include "support/proc.hpp"

#include <shmds/sync.h>

#include <chrono>
#include <csignal>
#include <sys/wait.h>
#include <thread>

namespace shmds::test {

inline shmds_options_t anon_options() {
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    return o;
}

inline shmds_options_t path_options(const TempPath &p) {
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = p.c_str();
    return o;
}

// Wait until `pid` has terminated, leaving it unreaped (a zombie) for wait_child.
// True if it died within `timeout`.
inline bool wait_dead_unreaped(pid_t pid, std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
        siginfo_t info{};
        if (waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
}

#if SHMDS_FAILPOINTS
// A child that arms `failpoint`, runs body() (which must reach it) and is killed there.
// Returns after the child is dead but not reaped; the caller reaps with wait_child.
template <typename Body>
pid_t crash_at(const char *failpoint, Body &&body) {
    pid_t pid = fork_child([&] {
        core::failpoint_arm(failpoint);
        body();
        fprintf(stderr, "child: failpoint %s was never reached\n", failpoint);
        return 3;
    });
    EXPECT_GT(pid, 0);
    EXPECT_TRUE(wait_dead_unreaped(pid, std::chrono::seconds(10))) << failpoint;
    return pid;
}

#endif

inline void expect_killed(pid_t pid, const char *failpoint) {
    ChildExit e = wait_child(pid, std::chrono::seconds(5));
    EXPECT_EQ(SIGKILL, e.signal) << failpoint << ": child " << e.describe();
}

// The limit DESIGN.md §5 and issue 3 set for taking over from a dead owner.
inline constexpr double kRecoveryBoundMs = 100.0;

}  // namespace shmds::test
