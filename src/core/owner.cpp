#include "core/owner.hpp"

#include "core/platform.hpp"
#include "core/thread_id.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

namespace shmds::core {

namespace {

struct ProcStat {
    char state;
    std::uint64_t start_ticks;
};

// Parse /proc/<pid>/stat. The command name (field 2) may hold spaces and parentheses,
// so fields are counted from the last ')'.
bool read_proc_stat(std::uint32_t pid, ProcStat *out) noexcept {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%u/stat", pid);
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char buf[1024];
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) return false;
    buf[n] = '\0';
    char *p = std::strrchr(buf, ')');
    if (!p || p[1] != ' ') return false;
    p += 2;  // field 3: state
    out->state = *p;
    // Field 22 is starttime; we are at field 3, so skip 19 separators.
    for (int field = 3; field < 22; ++field) {
        p = std::strchr(p, ' ');
        if (!p) return false;
        ++p;
    }
    out->start_ticks = std::strtoull(p, nullptr, 10);
    return true;
}

OwnerToken make_token(std::uint32_t pid, std::uint64_t start) noexcept {
    return (start << kPidBits) | (OwnerToken(pid) & kPidMask);
}

std::atomic<OwnerToken> g_self{0};

}  // namespace

OwnerToken owner_of_pid(std::uint32_t pid) noexcept {
    ProcStat st;
    if (!read_proc_stat(pid, &st)) return make_token(pid, 0);
    return make_token(pid, st.start_ticks);
}

OwnerToken self_owner() noexcept {
    // The token is cached per process; pthread_atfork clears the cache in a child, which
    // is a new process with its own PID and start time.
    static const bool registered = [] {
        pthread_atfork(nullptr, nullptr, [] { g_self.store(0, std::memory_order_relaxed); });
        return true;
    }();
    (void)registered;
    OwnerToken t = g_self.load(std::memory_order_relaxed);
    if (SHMDS_LIKELY(t != 0)) return t;
    t = owner_of_pid(std::uint32_t(::getpid()));
    g_self.store(t, std::memory_order_relaxed);
    return t;
}

Liveness owner_liveness(OwnerToken token) noexcept {
    std::uint32_t pid = owner_pid(token);
    if (token == kNoOwner) return Liveness::alive;  // names nobody: nothing to declare
    // No process has PID 0, so a token with PID 0 and a start time is damaged memory.
    // Calling it alive would let the damage wedge whatever it claims to own.
    if (pid == 0) return Liveness::dead;
    if (::kill(pid_t(pid), 0) == -1 && errno == ESRCH) return Liveness::dead;
    ProcStat st;
    if (!read_proc_stat(pid, &st)) {
        // The process vanished between the two checks, or /proc is hidden from us.
        return (::kill(pid_t(pid), 0) == -1 && errno == ESRCH) ? Liveness::dead
                                                               : Liveness::alive;
    }
    if (st.state == 'Z' || st.state == 'X') return Liveness::dead;
    std::uint64_t start = owner_start(token);
    if (start != 0 && start != (st.start_ticks & (~OwnerToken{0} >> kPidBits)))
        return Liveness::dead;  // the PID was reused by another process
    return Liveness::alive;
}

std::uint32_t thread_start_low32(std::uint32_t tid) noexcept {
    ProcStat st;
    return read_proc_stat(tid, &st) ? std::uint32_t(st.start_ticks) : 0;
}

Liveness thread_liveness(std::uint64_t stamp, bool quick) noexcept {
    const std::uint32_t tid = stamp_tid(stamp);
    if (stamp == 0) return Liveness::alive;  // names nobody: nothing to declare
    if (tid == 0) return Liveness::dead;     // no thread has id 0: damaged memory
    // kill() finds any thread by its id (not only process leaders) and, with signal 0,
    // only checks that it exists.
    if (::kill(pid_t(tid), 0) == -1 && errno == ESRCH) return Liveness::dead;
    if (quick) return Liveness::alive;
    // /proc/<tid>/stat answers for a thread id as well as for a process id, with that
    // thread's own state and start time.
    ProcStat st;
    if (!read_proc_stat(tid, &st))
        return (::kill(pid_t(tid), 0) == -1 && errno == ESRCH) ? Liveness::dead : Liveness::alive;
    if (st.state == 'Z' || st.state == 'X') return Liveness::dead;
    const std::uint32_t start = stamp_start(stamp);
    if (start != 0 && start != std::uint32_t(st.start_ticks)) return Liveness::dead;  // recycled
    return Liveness::alive;
}

}  // namespace shmds::core
