// Test support shared by every suite: forked children bounded by a timeout and always
// reaped, unique segment paths that clean up after themselves, and printed, replayable
// seeds (DESIGN.md §7).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <sched.h>
#include <string>
#include <sys/types.h>
#include <vector>

namespace shmds::test {

using namespace std::chrono_literals;

// How a child ended.
struct ChildExit {
    bool exited = false;     // exited normally with `code`
    int code = -1;
    int signal = 0;          // killed by this signal
    bool timed_out = false;  // still running at the deadline: we SIGKILLed it
    std::string describe() const;
};

// The CPUs the calling thread may run on, in increasing order.
std::vector<int> allowed_cpus();

// Pin the calling thread to `cpu` (what it forks or starts afterwards inherits the pin).
// False if the kernel refused.
bool pin_to_cpu(int cpu);

// The calling thread pinned to one CPU for this object's lifetime; the mask it had is
// restored after. ok() says whether the pin took.
class ScopedCpuPin {
public:
    explicit ScopedCpuPin(int cpu);
    ~ScopedCpuPin();
    ScopedCpuPin(const ScopedCpuPin &) = delete;
    ScopedCpuPin &operator=(const ScopedCpuPin &) = delete;
    bool ok() const { return ok_; }

private:
    cpu_set_t saved_{};
    bool ok_ = false;
};

// Yield until pred() holds or `timeout` passes; whether it held. For a child that must
// not run ahead of a peer (so that two processes' work provably overlaps however the
// machine schedules them) without hanging when that peer died early.
template <typename Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= until) return false;
        sched_yield();
    }
    return true;
}

// Fork a child that runs body() and _exit()s with its return value (0 = success).
// The child never returns into GoogleTest. Use CHILD_CHECK inside body().
pid_t fork_child(const std::function<int()> &body);

// Wait for `pid` at most `timeout`; on timeout SIGKILL and reap it. Always reaps.
ChildExit wait_child(pid_t pid, std::chrono::milliseconds timeout);

// fork_child + wait_child, expecting a clean exit 0.
void run_child_ok(const std::function<int()> &body, std::chrono::milliseconds timeout = 20s);

// Wait until `pid` sleeps in the kernel (state S in /proc/<pid>/stat, as in a futex wait)
// for at most `timeout`. A child seen to have published something may still be inside
// the critical section around it; once it sleeps, it holds no lock it was about to drop.
bool wait_until_asleep(pid_t pid, std::chrono::milliseconds timeout);

// Wait until `pid` is stopped (state T: SIGSTOP, e.g. at a "NAME@stop" failpoint) for at
// most `timeout`.
bool wait_until_stopped(pid_t pid, std::chrono::milliseconds timeout);

// For a child that checks whether an access faults: SIGSEGV and SIGBUS end it with
// exit code kFaultExit. A plain signal death cannot be the check, because under
// AddressSanitizer its own handler turns the fault into a report and an abort.
constexpr int kFaultExit = 86;
void exit_on_fault();

// Arm a failpoint in this process (a forked child, before its one operation), so the
// process dies there; a no-op in a build without failpoints, whose crash tests skip.
void arm_failpoint(const char *failpoint);

// In a child whose descriptor limit leaves no number free, eventfd_of(handle) must fail
// with -EMFILE and a sentence naming the eventfd, and notify(handle) then reports -ENOENT
// (no eventfd was made): the eventfd rule every structure's opt-in eventfd follows.
void expect_eventfd_creation_fails(const std::function<int()> &eventfd_of,
                                   const std::function<int()> &notify);

// A crash case's test name: its failpoint (dots as underscores) and its index, for
// INSTANTIATE_TEST_SUITE_P over cases with a `failpoint` member.
template <typename Case>
std::string failpoint_case_name(const ::testing::TestParamInfo<Case> &info) {
    std::string n = std::string(info.param.failpoint) + "_" + std::to_string(info.index);
    for (char &c : n)
        if (c == '.') c = '_';
    return n;
}

// Every child started by fork_child that is not reaped yet (killed at test teardown).
void kill_all_children();

// A unique path under /dev/shm, removed (if present) on construction and destruction.
class TempPath {
public:
    explicit TempPath(const std::string &tag = "t");
    ~TempPath();
    TempPath(const TempPath &) = delete;
    TempPath &operator=(const TempPath &) = delete;
    const char *c_str() const { return path_.c_str(); }
    const std::string &str() const { return path_; }

private:
    std::string path_;
};

// The seed for randomized tests: SHMDS_TEST_SEED if set, else time-based. Printed to
// stderr (and recorded as a GoogleTest property) so any failure can be replayed.
std::uint64_t test_seed();

// Milliseconds elapsed since `start` on the monotonic clock.
double ms_since(std::chrono::steady_clock::time_point start);

// ThreadSanitizer replaces 16-byte atomics with an emulation under a process-local
// lock, so in a TSan build they are atomic between threads but not between processes.
// Tests whose processes race on 16-byte CAS (the Int64 queue ring, rwlock reader
// slots) skip there; TSan's job is the threaded tests.
#if defined(__SANITIZE_THREAD__)
#define SHMDS_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SHMDS_TEST_TSAN 1
#endif
#endif
#if SHMDS_TEST_TSAN
inline constexpr bool kWideAtomicsAreProcessLocal = true;
#else
inline constexpr bool kWideAtomicsAreProcessLocal = false;
#endif

}  // namespace shmds::test

#define SKIP_IF_WIDE_ATOMICS_ARE_PROCESS_LOCAL()                                            \
    do {                                                                                   \
        if (::shmds::test::kWideAtomicsAreProcessLocal)                                    \
            GTEST_SKIP() << "ThreadSanitizer build: 16-byte atomics are not atomic across " \
                            "processes here";                                              \
    } while (0)

// In a child: on failure print where and why, then _exit(1) (never throws, never
// returns into the test framework).
#define CHILD_CHECK(cond)                                                               \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "child %d: CHILD_CHECK(%s) failed at %s:%d\n", (int)getpid(), \
                    #cond, __FILE__, __LINE__);                                         \
            _exit(1);                                                                   \
        }                                                                               \
    } while (0)
