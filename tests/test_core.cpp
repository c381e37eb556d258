// Core: version, error codes and sentences, owner identity, wait points, robust lock,
// eventfd, descriptor passing (including to an unrelated process: tests/fd_receiver).
#include "support/damaged_lock.hpp"
#include "support/proc.hpp"

#include "core/elem_type.hpp"
#include "core/error.hpp"
#include "core/ms_clock.hpp"
#include "core/owner.hpp"
#include "core/robust_mutex.hpp"
#include "core/thread_id.hpp"
#include "core/variant.hpp"
#include "core/waitpoint.hpp"

#include <shmds/shmds.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <initializer_list>
#include <new>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <string>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char **environ;

using namespace shmds::test;

TEST(Version, MatchesHeaderMacros) {
    std::string expected = std::to_string(SHMDS_VERSION_MAJOR) + "." +
                           std::to_string(SHMDS_VERSION_MINOR) + "." +
                           std::to_string(SHMDS_VERSION_PATCH);
    EXPECT_EQ(expected, shmds_version());
    EXPECT_EQ(SHMDS_VERSION_NUMBER, shmds_version_number());
}

TEST(Errors, EveryLibraryCodeHasANameAndText) {
    const int codes[] = {0,           -EAGAIN,     -ETIMEDOUT,     -EINVAL,          -ENOSPC,
                         -E2BIG,      -ENOBUFS,    -EEXIST,        -ENOENT,          -EACCES,
                         -ERANGE,     SHMDS_ETYPE, SHMDS_EVERSION, SHMDS_ECORRUPT,   SHMDS_EOWNERDEAD,
                         SHMDS_EVARIANT};
    for (int c : codes) {
        EXPECT_STRNE("UNKNOWN", shmds_errname(c)) << c;
        EXPECT_STRNE("unknown error", shmds_strerror(c)) << c;
    }
    EXPECT_STREQ("SHMDS_ETYPE", shmds_errname(SHMDS_ETYPE));
    EXPECT_STREQ("UNKNOWN", shmds_errname(-99999));
    EXPECT_STREQ("unknown error", shmds_strerror(12345));
}

TEST(Errors, LastErrorIsThreadLocalAndDescribesTheFailure) {
    EXPECT_EQ(-ENOENT, shmds_unlink("/dev/shm/shmds-test-definitely-missing"));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "definitely-missing"));
    std::string other;
    std::thread([&] { other = shmds_last_error(); }).join();
    EXPECT_EQ("", other);
}

// ---------------------------------------------------------------------------------
// Helpers for the multi-process tests below.

namespace {

using namespace shmds::core;
using Clock = std::chrono::steady_clock;

// A T placed in MAP_SHARED|MAP_ANONYMOUS memory, so fork() children share it.
template <typename T>
class Shared {
public:
    Shared() {
        void *p = mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                       -1, 0);
        if (p == MAP_FAILED) throw std::bad_alloc();
        ptr_ = new (p) T();
    }
    ~Shared() {
        ptr_->~T();
        munmap(ptr_, sizeof(T));
    }
    Shared(const Shared &) = delete;
    Shared &operator=(const Shared &) = delete;
    T *operator->() const { return ptr_; }
    T &operator*() const { return *ptr_; }

private:
    T *ptr_;
};

// Field 3 of /proc/<pid>/stat (R, S, T, Z, ...), or 0 if unreadable. `task` selects a
// thread of this process instead of a process.
char proc_state(pid_t pid, bool task = false) {
    char path[64];
    if (task) std::snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)pid);
    else std::snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = std::fopen(path, "re");
    if (!f) return 0;
    char buf[512];
    size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    const char *p = std::strrchr(buf, ')');
    return (p && p[1] == ' ') ? p[2] : 0;
}

// Poll cond() every millisecond until it holds or `limit` passes.
template <typename Cond>
bool eventually(Cond &&cond, std::chrono::milliseconds limit = 5s) {
    auto deadline = Clock::now() + limit;
    while (!cond()) {
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

// A child blocked on a pipe until the parent closes its end; lets the parent read the
// child's identity while it is certainly alive.
struct GatedChild {
    pid_t pid = -1;
    int gate = -1;  // parent's write end: closing it lets the child exit(0)

    GatedChild() {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) return;
        pid = fork_child([&] {
            close(fds[1]);
            char c;
            while (read(fds[0], &c, 1) < 0 && errno == EINTR) {
            }
            return 0;
        });
        close(fds[0]);
        gate = fds[1];
    }
    ~GatedChild() {
        release();
        if (pid > 0) wait_child(pid, 5s);
    }
    void release() {
        if (gate >= 0) close(gate);
        gate = -1;
    }
};

}  // namespace

// ---------------------------------------------------------------------------------
// Owner identity (core/owner.hpp)

// Every position of a lap has a slot of its own, laps reuse the same slots, and
// consecutive positions sit on different cache lines whenever the ring has more than
// one line (the point of the spread: a 1 -> 1 stream's two ends stay off each other's
// line).
namespace {

template <std::size_t kSlotSize>
void expect_spread_lap_by_lap() {
    const std::uint64_t per_line = kSlotSize < 64 ? 64 / kSlotSize : 1;
    for (std::uint64_t cap = 2; cap <= 1u << 16; cap *= 2) {
        SCOPED_TRACE(testing::Message() << "capacity " << cap << ", slot " << kSlotSize);
        const shmds::core::SpreadIndex<kSlotSize> at(cap);
        std::vector<bool> used(cap);
        for (std::uint64_t pos = 0; pos < cap; ++pos) {
            const std::uint64_t i = at(pos);
            ASSERT_LT(i, cap);
            ASSERT_FALSE(used[i]) << "two positions of a lap share slot " << i;
            used[i] = true;
            ASSERT_EQ(i, at(pos + 5 * cap)) << "a later lap moved position " << pos;
            const std::uint64_t next = at(pos + 1);
            if (cap > per_line)
                ASSERT_NE(i / per_line, next / per_line)
                    << "positions " << pos << " and " << pos + 1 << " share a line";
            else
                ASSERT_EQ((pos + 1) % cap, next) << "a one-line ring keeps the plain order";
        }
    }
}

}  // namespace

// Every position of a lap has a slot of its own, laps reuse the same slots, and
// consecutive positions sit on different cache lines whenever the ring has more than
// one line (the point of the spread: a 1 -> 1 stream's two ends stay off each other's
// line).
TEST(SpreadIndex, MapsEachLapOntoTheSlotsOnceWithNeighboursOnOtherLines) {
    expect_spread_lap_by_lap<8>();
    expect_spread_lap_by_lap<16>();
    expect_spread_lap_by_lap<64>();
    expect_spread_lap_by_lap<128>();
}

TEST(Owner, SelfTokenIsStableAndNamesThisProcess) {
    OwnerToken me = self_owner();
    EXPECT_EQ(me, self_owner());
    EXPECT_EQ(std::uint32_t(getpid()), owner_pid(me));
    EXPECT_NE(0u, owner_start(me)) << "start time missing: PID reuse would go unnoticed";
    EXPECT_EQ(me, owner_of_pid(std::uint32_t(getpid())));
    OwnerToken from_thread = 0;
    std::thread([&] { from_thread = self_owner(); }).join();
    EXPECT_EQ(me, from_thread) << "the token names the process, not the thread";
    EXPECT_TRUE(owner_alive(me));
}

TEST(Owner, ForkChildGetsItsOwnToken) {
    const OwnerToken parent = self_owner();  // cached in the parent before the fork
    Shared<std::atomic<OwnerToken>> seen;
    pid_t pid = fork_child([&] {
        OwnerToken mine = self_owner();
        CHILD_CHECK(mine == owner_of_pid(std::uint32_t(getpid())));
        seen->store(mine);
        return 0;
    });
    ASSERT_GT(pid, 0);
    ChildExit e = wait_child(pid, 10s);
    ASSERT_TRUE(e.exited && e.code == 0) << e.describe();
    EXPECT_NE(parent, seen->load());
    EXPECT_EQ(std::uint32_t(pid), owner_pid(seen->load()));
    EXPECT_EQ(parent, self_owner());
}

TEST(Owner, ExitedAndReapedChildIsDead) {
    GatedChild child;
    ASSERT_GT(child.pid, 0);
    OwnerToken tok = owner_of_pid(std::uint32_t(child.pid));
    EXPECT_EQ(std::uint32_t(child.pid), owner_pid(tok));
    EXPECT_TRUE(owner_alive(tok));
    child.release();
    ChildExit e = wait_child(child.pid, 5s);
    child.pid = -1;
    ASSERT_TRUE(e.exited && e.code == 0) << e.describe();
    EXPECT_EQ(Liveness::dead, owner_liveness(tok));
}

TEST(Owner, UnreapedZombieIsDead) {
    GatedChild child;
    ASSERT_GT(child.pid, 0);
    OwnerToken tok = owner_of_pid(std::uint32_t(child.pid));
    ASSERT_TRUE(owner_alive(tok));
    child.release();
    // Wait for the exit without reaping (WNOWAIT): the child stays a zombie, which
    // kill(pid, 0) still reports as existing.
    ASSERT_TRUE(eventually([&] {
        siginfo_t si{};
        return waitid(P_PID, id_t(child.pid), &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
               si.si_pid == child.pid;
    }));
    ASSERT_EQ('Z', proc_state(child.pid));
    ASSERT_EQ(0, kill(child.pid, 0)) << "a zombie still answers kill(pid, 0)";
    EXPECT_EQ(Liveness::dead, owner_liveness(tok));
}

TEST(Owner, StoppedChildIsAlive) {
    GatedChild child;
    ASSERT_GT(child.pid, 0);
    OwnerToken tok = owner_of_pid(std::uint32_t(child.pid));
    ASSERT_EQ(0, kill(child.pid, SIGSTOP));
    ASSERT_TRUE(eventually([&] { return proc_state(child.pid) == 'T'; }));
    EXPECT_EQ(Liveness::alive, owner_liveness(tok));
    kill(child.pid, SIGKILL);
}

TEST(Owner, RightPidWithWrongStartTimeIsDead) {
    // What a reused PID looks like: the PID exists, but it is another incarnation.
    OwnerToken me = self_owner();
    OwnerToken later = ((owner_start(me) + 1) << kPidBits) | owner_pid(me);
    OwnerToken earlier = ((owner_start(me) - 1) << kPidBits) | owner_pid(me);
    EXPECT_EQ(Liveness::dead, owner_liveness(later));
    EXPECT_EQ(Liveness::dead, owner_liveness(earlier));
    EXPECT_EQ(Liveness::alive, owner_liveness(me));
}

TEST(ThreadStamp, NamesThisThreadAndChangesAcrossThreadsAndFork) {
    const ThreadStamp me = self_thread_stamp();
    EXPECT_EQ(me, self_thread_stamp());
    EXPECT_EQ(std::uint32_t(::syscall(SYS_gettid)), stamp_tid(me));
    EXPECT_EQ(self_tid(), stamp_tid(me));
    ThreadStamp other = 0;
    std::thread([&] { other = self_thread_stamp(); }).join();
    EXPECT_NE(me, other);
    EXPECT_NE(stamp_tid(me), stamp_tid(other));
    run_child_ok([&] {
        CHILD_CHECK(self_thread_stamp() != me);
        CHILD_CHECK(stamp_tid(self_thread_stamp()) == std::uint32_t(::getpid()));
        return 0;
    });
}

TEST(ThreadStamp, LivenessOfThreadsAliveGoneZombieStoppedAndRecycled) {
    const ThreadStamp me = self_thread_stamp();
    EXPECT_EQ(Liveness::alive, thread_liveness(me, false));
    EXPECT_EQ(Liveness::alive, thread_liveness(me, true));
    // The same thread id with another start time: what a recycled id looks like. Only
    // the full check can tell.
    const ThreadStamp recycled = me ^ (ThreadStamp{1} << 40);
    EXPECT_EQ(Liveness::dead, thread_liveness(recycled, false));
    EXPECT_EQ(Liveness::alive, thread_liveness(recycled, true));
    // A thread that ended, in a process that lives on.
    ThreadStamp ended = 0;
    std::thread([&] { ended = self_thread_stamp(); }).join();
    EXPECT_EQ(Liveness::dead, thread_liveness(ended, true));
    EXPECT_EQ(Liveness::dead, thread_liveness(ended, false));
    // No such thread id at all (above any pid_max), and thread id 0, which only damaged
    // memory holds: dead, so the damage cannot wedge a lock.
    EXPECT_EQ(Liveness::dead, thread_liveness(0x3ffffff0u, true));
    EXPECT_EQ(Liveness::dead, thread_liveness(ThreadStamp{1} << 32, true));
    EXPECT_EQ(Liveness::dead, thread_liveness(ThreadStamp{1} << 32, false));
    EXPECT_EQ(Liveness::dead, owner_liveness(OwnerToken{1} << kPidBits));
    // A stopped process is alive; an unreaped zombie is dead to the full check only.
    GatedChild child;
    ASSERT_GT(child.pid, 0);
    const ThreadStamp child_stamp =
        (ThreadStamp(thread_start_low32(std::uint32_t(child.pid))) << 32) | std::uint32_t(child.pid);
    ASSERT_EQ(0, kill(child.pid, SIGSTOP));
    ASSERT_TRUE(eventually([&] { return proc_state(child.pid) == 'T'; }));
    EXPECT_EQ(Liveness::alive, thread_liveness(child_stamp, false));
    ASSERT_EQ(0, kill(child.pid, SIGCONT));
    child.release();
    ASSERT_TRUE(eventually([&] {
        siginfo_t si{};
        return waitid(P_PID, id_t(child.pid), &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
               si.si_pid == child.pid;
    }));
    EXPECT_EQ(Liveness::alive, thread_liveness(child_stamp, true));
    EXPECT_EQ(Liveness::dead, thread_liveness(child_stamp, false));
}

// ---------------------------------------------------------------------------------
// WaitPoint (core/waitpoint.hpp)

namespace {

struct WaitShared {
    WaitPoint wp;
    std::atomic<std::uint32_t> ready{0};
};

// A child that sleeps on wp until `ready` becomes non-zero; returns its pid once it is
// registered and asleep in the kernel.
pid_t spawn_sleeper(WaitShared &s, std::uint32_t expected_sleepers) {
    pid_t pid = fork_child([&] {
        int r = waitpoint_wait(s.wp, Deadline::from_timeout(-1),
                               [&] { return s.ready.load() != 0; });
        CHILD_CHECK(r == 0);
        return 0;
    });
    if (pid <= 0) return pid;
    bool asleep = eventually([&] {
        return waitpoint_sleepers(s.wp) == expected_sleepers && proc_state(pid) == 'S';
    });
    EXPECT_TRUE(asleep) << "sleeper " << pid << " never went to sleep";
    return pid;
}

}  // namespace

TEST(WaitPoint, ParentWakesASleepingChild) {
    Shared<WaitShared> s;
    waitpoint_init(s->wp);
    pid_t pid = spawn_sleeper(*s, 1);
    ASSERT_GT(pid, 0);
    s->ready.store(1);
    waitpoint_wake(s->wp, 1);
    ChildExit e = wait_child(pid, 5s);
    EXPECT_TRUE(e.exited && e.code == 0) << "sleeper " << e.describe();
    EXPECT_EQ(0u, waitpoint_sleepers(s->wp));
}

// Spinning pays only while the waker can run at the same time as the sleeper: a waker
// that last ran on the sleeper's own CPU gets no spin (issue 9), any other does.
TEST(WaitPoint, SpinsOnlyWhenTheLastWakerRanOnAnotherCpu) {
    const std::vector<int> cpus = allowed_cpus();
    if (cpus.size() < 2) GTEST_SKIP() << "this process may run on one CPU only";
    ScopedCpuPin pin(cpus[1]);  // restores the mask at the end
    ASSERT_TRUE(pin.ok());

    Shared<WaitShared> s;
    waitpoint_init(s->wp);
    EXPECT_EQ(kDefaultSpin, spin_budget(s->wp.waker_cpu.load(), kDefaultSpin)) << "no waker seen yet: spin";
    ASSERT_TRUE(pin_to_cpu(cpus[0]));
    waitpoint_wake(s->wp, 1);
    EXPECT_EQ(0u, s->wp.waker_cpu.load()) << "a wake with nobody asleep notes nothing";
    {
        const SleeperRegistration sleeper(s->wp);  // announced (this thread never sleeps)
        waitpoint_wake(s->wp, 1);
    }
    EXPECT_EQ(std::uint32_t(cpus[0]) + 1, s->wp.waker_cpu.load()) << "a wake of a sleeper does";
    EXPECT_EQ(0, spin_budget(s->wp.waker_cpu.load(), kDefaultSpin)) << "the waker shares this CPU";
    ASSERT_TRUE(pin_to_cpu(cpus[1]));
    EXPECT_EQ(kDefaultSpin, spin_budget(s->wp.waker_cpu.load(), kDefaultSpin)) << "the waker runs elsewhere";
    EXPECT_EQ(0, spin_budget(s->wp.waker_cpu.load(), 0)) << "a caller that asked for no spin gets none";
    s->wp.waker_cpu.store(0xdeadbeef);  // scribbled: only a spin decision, never a fault
    EXPECT_EQ(kDefaultSpin, spin_budget(s->wp.waker_cpu.load(), kDefaultSpin));
}

// A waiter yields to a partner on its own CPU (wait_before_sleeping), but a yield that
// let another process run for a whole time slice pauses this thread's yields: it then
// sleeps at once, keeping the quick wake-up of a sleeper beside a busy neighbour.
TEST(WaitPoint, AYieldThatLetABusyNeighbourRunPausesYields) {
    const std::vector<int> cpus = allowed_cpus();
    ASSERT_FALSE(cpus.empty());
    const ScopedCpuPin pin(cpus[0]);
    ASSERT_TRUE(pin.ok());
    const pid_t neighbour = fork();  // a busy loop on this CPU until killed
    if (neighbour == 0)
        for (;;) cpu_relax();
    ASSERT_GT(neighbour, 0);
    bool first_yielded = false, paused = false;
    int calls = 0;
    std::thread([&] {  // a fresh thread: no pause left over from earlier waits
        first_yielded = yield_to_partner();
        for (calls = 1; calls < 200 && !paused; ++calls) paused = !yield_to_partner();
    }).join();
    kill(neighbour, SIGKILL);
    waitpid(neighbour, nullptr, 0);
    EXPECT_TRUE(first_yielded) << "a thread that never yielded slowly may yield";
    EXPECT_TRUE(paused) << "still yielding after " << calls << " yields to a busy loop";
}

TEST(WaitPoint, TimeoutIsHonoured) {
    Shared<WaitShared> s;
    waitpoint_init(s->wp);
    auto start = Clock::now();
    int r = waitpoint_wait(s->wp, Deadline::from_timeout(300'000'000), [] { return false; });
    double ms = ms_since(start);
    EXPECT_EQ(-ETIMEDOUT, r);
    EXPECT_GE(ms, 250.0);
    EXPECT_LE(ms, 1000.0);
    EXPECT_EQ(0u, waitpoint_sleepers(s->wp)) << "a timed-out sleeper must deregister";
}

TEST(WaitPoint, RepairRemovesAKilledSleeperAndKeepsTheLiving) {
    Shared<WaitShared> s;
    waitpoint_init(s->wp);
    pid_t doomed = spawn_sleeper(*s, 1);
    ASSERT_GT(doomed, 0);
    pid_t living = spawn_sleeper(*s, 2);
    ASSERT_GT(living, 0);
    kill(doomed, SIGKILL);
    ChildExit e = wait_child(doomed, 5s);
    ASSERT_EQ(SIGKILL, e.signal) << e.describe();
    EXPECT_EQ(2u, waitpoint_sleepers(s->wp)) << "the dead sleeper's entry stays until repair";

    EXPECT_EQ(1, waitpoint_repair(s->wp));
    EXPECT_EQ(1u, waitpoint_sleepers(s->wp));
    EXPECT_EQ(1u, s->wp.repaired.load());
    EXPECT_EQ(0, waitpoint_repair(s->wp)) << "nothing left to repair";

    s->ready.store(1);
    waitpoint_wake(s->wp, 1);
    e = wait_child(living, 5s);
    EXPECT_TRUE(e.exited && e.code == 0) << "living sleeper " << e.describe();
    EXPECT_EQ(0u, waitpoint_sleepers(s->wp));
}

TEST(WaitPoint, IdleWakesRepairAKilledSleeperByThemselves) {
    Shared<WaitShared> s;
    waitpoint_init(s->wp);
    pid_t doomed = spawn_sleeper(*s, 1);
    ASSERT_GT(doomed, 0);
    kill(doomed, SIGKILL);
    ChildExit e = wait_child(doomed, 5s);
    ASSERT_EQ(SIGKILL, e.signal) << e.describe();

    waitpoint_wake(s->wp, 1);
    EXPECT_EQ(1u, waitpoint_sleepers(s->wp)) << "one idle wake is not yet proof of death";
    int wakes = 1;
    while (waitpoint_sleepers(s->wp) != 0 && wakes < 1000) {
        waitpoint_wake(s->wp, 1);
        ++wakes;
    }
    EXPECT_EQ(0u, waitpoint_sleepers(s->wp)) << "still announced after " << wakes << " wakes";
    EXPECT_EQ(1u, s->wp.repaired.load());
}

// No lost wakeup across many sleep/wake rounds (DESIGN.md §4), with wakers that skip
// the syscall once every announced sleeper was woken. The sleepers never spin, so every
// wait that finds its condition false sleeps in the kernel, and no sleep is longer than
// kWakeBound: a lost wakeup shows as a wait that ran into that bound, fails the test at
// once, and stops every other process of it (no hang, no suite timeout).

namespace {

constexpr std::int64_t kWakeBoundNs = 2'000'000'000;
constexpr int kEveryone = 0x7fffffff;

// Sleep on wp until ready() or `stop`; false (after raising `stop` and waking the
// given wait points) when the wait ran into kWakeBound: the wakeup was lost.
template <typename Ready>
bool woken_in_time(WaitPoint &wp, std::atomic<bool> &stop, Ready &&ready,
                   std::initializer_list<WaitPoint *> to_release) {
    const auto start = Clock::now();
    const int r = waitpoint_wait(wp, Deadline::from_timeout(kWakeBoundNs),
                                 [&] { return stop.load() || ready(); }, 0);
    if (r == 0 && Clock::now() - start < std::chrono::nanoseconds(kWakeBoundNs)) return true;
    std::fprintf(stderr, "pid %d: a wait ran into the %lld ms bound: lost wakeup\n",
                 (int)getpid(), (long long)(kWakeBoundNs / 1'000'000));
    stop.store(true);
    for (WaitPoint *other : to_release) waitpoint_wake(*other, kEveryone);
    return false;
}

struct TurnShared {
    WaitPoint wp;
    std::atomic<std::uint32_t> turn{0};  // even: the parent's, odd: the child's
    std::atomic<bool> stop{false};
};

struct TokenShared {
    WaitPoint has_token;  // consumers sleep: no token
    WaitPoint has_room;   // producers sleep: kTokenCap tokens out
    std::atomic<std::uint32_t> tokens{0};
    std::atomic<std::uint32_t> claimed{0};   // production tickets taken
    std::atomic<std::uint32_t> consumed{0};
    std::atomic<bool> stop{false};
};
constexpr std::uint32_t kTokenCap = 2;
constexpr std::uint32_t kTokenCount = 20000;

struct NewsShared {
    static constexpr int kReaders = 3;
    WaitPoint news;  // readers sleep: nothing newer than what they saw
    WaitPoint acks;  // the writer sleeps: a reader fell kLead behind
    std::atomic<std::uint32_t> latest{0};
    std::atomic<std::uint32_t> seen[kReaders] = {};
    std::atomic<bool> stop{false};
};

}  // namespace

// Two processes hand a turn back and forth, each waking the other with a single wake.
TEST(WaitPoint, TurnsPassedBetweenTwoProcessesAreNeverMissed) {
    constexpr std::uint32_t kRounds = 2000;
    Shared<TurnShared> s;
    waitpoint_init(s->wp);
    auto play = [&](std::uint32_t parity) {
        for (std::uint32_t t = parity; t < 2 * kRounds; t += 2) {
            if (!woken_in_time(s->wp, s->stop, [&] { return s->turn.load() == t; }, {&s->wp}))
                return false;
            s->turn.store(t + 1);
            waitpoint_wake(s->wp, 1);
        }
        return true;
    };
    pid_t kid = fork_child([&] { return play(1) ? 0 : 1; });
    ASSERT_GT(kid, 0);
    EXPECT_TRUE(play(0)) << "the parent missed its turn at " << s->turn.load();
    ChildExit e = wait_child(kid, 30s);
    EXPECT_TRUE(e.exited && e.code == 0) << "child " << e.describe();
    EXPECT_EQ(2 * kRounds, s->turn.load());
}

// Two producers and three consumers of tokens, one single wake per token or per freed
// room: several sleepers, several wakers at once, and wakes that reach only some of the
// announced sleepers.
TEST(WaitPoint, TokensWokenOneAtATimeReachSomeSleeperEveryTime) {
    Shared<TokenShared> s;
    waitpoint_init(s->has_token);
    waitpoint_init(s->has_room);
    const std::initializer_list<WaitPoint *> both = {&s->has_token, &s->has_room};
    auto produce = [&] {
        while (s->claimed.fetch_add(1) < kTokenCount) {
            for (;;) {
                std::uint32_t n = s->tokens.load();
                if (n < kTokenCap && s->tokens.compare_exchange_weak(n, n + 1)) break;
                if (n >= kTokenCap &&
                    !woken_in_time(s->has_room, s->stop,
                                   [&] { return s->tokens.load() < kTokenCap; }, both))
                    return 1;
                if (s->stop.load()) return 1;
            }
            waitpoint_wake(s->has_token, 1);
        }
        return 0;
    };
    auto consume = [&] {
        for (;;) {
            auto done = [&] { return s->consumed.load() >= kTokenCount; };
            if (!woken_in_time(s->has_token, s->stop,
                               [&] { return s->tokens.load() > 0 || done(); }, both))
                return 1;
            if (s->stop.load()) return 1;
            if (done()) return 0;
            std::uint32_t n = s->tokens.load();
            if (n == 0 || !s->tokens.compare_exchange_weak(n, n - 1)) continue;
            waitpoint_wake(s->has_room, 1);
            if (s->consumed.fetch_add(1) + 1 == kTokenCount) waitpoint_wake(s->has_token, kEveryone);
        }
    };
    std::vector<pid_t> kids;
    for (int i = 0; i < 2; ++i) kids.push_back(fork_child(produce));
    for (int i = 0; i < 3; ++i) kids.push_back(fork_child(consume));
    for (pid_t kid : kids) {
        ASSERT_GT(kid, 0);
        ChildExit e = wait_child(kid, 30s);
        EXPECT_TRUE(e.exited && e.code == 0) << "child " << e.describe();
    }
    EXPECT_EQ(kTokenCount, s->consumed.load());
    EXPECT_EQ(0u, s->tokens.load());
}

// One writer broadcasts to three readers and runs up to kLead ahead of the slowest, so
// most of its wakes find every announced reader already woken and skip the syscall.
TEST(WaitPoint, BroadcastsThatSkipTheSyscallStillReachEveryReader) {
    constexpr std::uint32_t kNews = 10000;
    constexpr std::uint32_t kLead = 8;
    Shared<NewsShared> s;
    waitpoint_init(s->news);
    waitpoint_init(s->acks);
    const std::initializer_list<WaitPoint *> both = {&s->news, &s->acks};
    std::vector<pid_t> kids;
    for (int i = 0; i < NewsShared::kReaders; ++i) {
        kids.push_back(fork_child([&, i] {
            for (std::uint32_t last = 0; last < kNews;) {
                if (!woken_in_time(s->news, s->stop, [&] { return s->latest.load() > last; }, both))
                    return 1;
                if (s->stop.load()) return 1;
                last = s->latest.load();
                s->seen[i].store(last);
                waitpoint_wake(s->acks, kEveryone);
            }
            return 0;
        }));
        ASSERT_GT(kids.back(), 0);
    }
    auto slowest = [&] {
        std::uint32_t m = kNews;
        for (auto &seen : s->seen) m = std::min(m, seen.load());
        return m;
    };
    for (std::uint32_t n = 1; n <= kNews; ++n) {
        if (!woken_in_time(s->acks, s->stop, [&] { return slowest() + kLead >= n; }, both)) {
            ADD_FAILURE() << "the writer missed an acknowledgement before news " << n;
            break;
        }
        s->latest.store(n);
        waitpoint_wake(s->news, kEveryone);
    }
    for (pid_t kid : kids) {
        ChildExit e = wait_child(kid, 30s);
        EXPECT_TRUE(e.exited && e.code == 0) << "reader " << e.describe();
    }
    EXPECT_EQ(kNews, slowest());
}

// ---------------------------------------------------------------------------------
// Robust lock (core/robust_mutex.hpp)

namespace {

struct LockShared {
    RobustMutex m;
    std::atomic<std::uint64_t> recoveries{0};
    std::atomic<int> repairs{0};
    std::atomic<pid_t> repaired_by{0};
    std::atomic<int> die_in_repair{0};  // the next repair kills its own process
    std::atomic<int> held{0};
};

void repair_shared(void *context) noexcept {
    auto *s = static_cast<LockShared *>(context);
    s->repairs.fetch_add(1);
    s->repaired_by.store(getpid());
    if (s->die_in_repair.exchange(0)) raise(SIGKILL);
}

LockResult lock_shared(LockShared &s, std::int64_t timeout_ns) {
    return robust_mutex_lock(s.m, Deadline::from_timeout(timeout_ns), &repair_shared, &s,
                             &s.recoveries);
}

// A child that takes the lock and keeps it until it is killed.
pid_t spawn_holder(LockShared &s) {
    s.held.store(0);
    pid_t pid = fork_child([&] {
        CHILD_CHECK(lock_shared(s, -1) != LockResult::timed_out);
        s.held.store(1);
        for (;;) pause();
        return 0;
    });
    if (pid > 0) {
        EXPECT_TRUE(eventually([&] { return s.held.load() == 1; }));
    }
    return pid;
}

class RobustLockTest : public ::testing::Test {
protected:
    void SetUp() override { robust_mutex_init(s->m); }
    Shared<LockShared> s;
};

}  // namespace

TEST_F(RobustLockTest, WaiterTakesOverWithin100msOfTheHolderDeath) {
    pid_t holder = spawn_holder(*s);
    ASSERT_GT(holder, 0);

    std::atomic<pid_t> waiter_tid{0};
    LockResult result = LockResult::timed_out;
    Clock::time_point acquired_at;
    std::thread waiter([&] {
        waiter_tid.store(pid_t(syscall(SYS_gettid)));
        result = lock_shared(*s, -1);
        acquired_at = Clock::now();
        if (result != LockResult::timed_out) robust_mutex_unlock(s->m);  // owner thread only
    });
    // Kill only once the waiter sleeps in the kernel, so the measured time is the
    // wakeup after death and not the waiter's start-up.
    bool asleep = eventually([&] {
        pid_t tid = waiter_tid.load();
        return tid && proc_state(tid, true) == 'S';
    });
    EXPECT_TRUE(asleep);
    Clock::time_point killed_at = Clock::now();
    kill(holder, SIGKILL);
    waiter.join();
    double ms = std::chrono::duration<double, std::milli>(acquired_at - killed_at).count();

    EXPECT_EQ(LockResult::recovered, result);
    EXPECT_LT(ms, 100.0) << "takeover took " << ms << " ms after the kill";
    EXPECT_EQ(1, s->repairs.load());
    EXPECT_EQ(getpid(), s->repaired_by.load());
    EXPECT_EQ(1u, s->recoveries.load());

    EXPECT_EQ(LockResult::acquired, lock_shared(*s, 0)) << "the lock is consistent again";
    EXPECT_EQ(1, s->repairs.load());
    robust_mutex_unlock(s->m);
    EXPECT_EQ(SIGKILL, wait_child(holder, 5s).signal);
}

TEST_F(RobustLockTest, DeathDuringRepairLeavesTheLockRecoverable) {
    pid_t holder = spawn_holder(*s);
    ASSERT_GT(holder, 0);
    kill(holder, SIGKILL);
    ASSERT_EQ(SIGKILL, wait_child(holder, 5s).signal);

    s->die_in_repair.store(1);
    pid_t repairer = fork_child([&] {
        lock_shared(*s, -1);
        return 3;  // unreachable when the repair kills us, as intended
    });
    ASSERT_GT(repairer, 0);
    ChildExit e = wait_child(repairer, 5s);
    ASSERT_EQ(SIGKILL, e.signal) << "repairer " << e.describe();
    EXPECT_EQ(1, s->repairs.load());
    EXPECT_EQ(0u, s->recoveries.load()) << "a repair that never finished is not a recovery";

    EXPECT_EQ(LockResult::recovered, lock_shared(*s, 1'000'000'000));
    EXPECT_EQ(2, s->repairs.load());
    EXPECT_EQ(1u, s->recoveries.load());
    robust_mutex_unlock(s->m);
    EXPECT_EQ(LockResult::acquired, lock_shared(*s, 0));
    robust_mutex_unlock(s->m);
}

TEST_F(RobustLockTest, TimedLockTimesOutOnALiveHolder) {
    pid_t holder = spawn_holder(*s);
    ASSERT_GT(holder, 0);
    EXPECT_EQ(LockResult::timed_out, lock_shared(*s, 0));
    auto start = Clock::now();
    EXPECT_EQ(LockResult::timed_out, lock_shared(*s, 300'000'000));
    double ms = ms_since(start);
    EXPECT_GE(ms, 250.0);
    EXPECT_LE(ms, 1000.0);
    EXPECT_EQ(0, s->repairs.load()) << "a live holder must never be repaired";

    kill(holder, SIGKILL);
    EXPECT_EQ(SIGKILL, wait_child(holder, 5s).signal);
    EXPECT_EQ(LockResult::recovered, lock_shared(*s, 1'000'000'000));
    robust_mutex_unlock(s->m);
}

// A word scribbled by a peer to name no live thread is a dead holder's: taken over by
// the next locker, NOWAIT or waiting, with the repair run and the recovery counted.
TEST_F(RobustLockTest, WordNamingNoThreadIsTakenOverAndRepaired) {
    s->m.word.store(kNoSuchThreadWord | kStampLockWaiters);
    EXPECT_EQ(LockResult::recovered, lock_shared(*s, 0));
    EXPECT_EQ(self_thread_stamp(), s->m.word.load() & ~kStampLockWaiters);
    robust_mutex_unlock(s->m);
    EXPECT_EQ(0u, s->m.word.load());
    s->m.word.store(kThreadZeroWord);
    EXPECT_EQ(LockResult::recovered, lock_shared(*s, -1));
    robust_mutex_unlock(s->m);
    EXPECT_EQ(2, s->repairs.load());
    EXPECT_EQ(2u, s->recoveries.load());
    EXPECT_EQ(LockResult::acquired, lock_shared(*s, 0));
    robust_mutex_unlock(s->m);
}

// A word naming a live thread that does not hold the lock is indistinguishable from a
// holder: lockers wait for it and time out, and nothing is repaired, until it is gone.
TEST_F(RobustLockTest, WordNamingALiveNonHolderIsWaitedForUntilItEnds) {
    LiveBystander stranger;
    s->m.word.store(stranger.stamp());
    EXPECT_EQ(LockResult::timed_out, lock_shared(*s, 0));
    EXPECT_EQ(LockResult::timed_out, lock_shared(*s, 20'000'000));
    EXPECT_EQ(0, s->repairs.load());
    EXPECT_EQ(stranger.stamp(), s->m.word.load() & ~kStampLockWaiters);
    stranger.stop();
    EXPECT_EQ(LockResult::recovered, lock_shared(*s, 1'000'000'000));
    robust_mutex_unlock(s->m);
    EXPECT_EQ(1u, s->recoveries.load());
}

// Internal locks are never held across calls, so a word naming the caller itself is
// damage: every lock attempt fails at once with the SHMDS_ECORRUPT sentence, even one
// without a deadline, instead of waiting for itself forever.
TEST_F(RobustLockTest, WordNamingTheCallerFailsInsteadOfDeadlocking) {
    run_child_ok(
        [&] {
            s->m.word.store(self_thread_stamp());
            CHILD_CHECK(lock_shared(*s, -1) == LockResult::timed_out);
            CHILD_CHECK(std::strstr(shmds_last_error(), "damaged") != nullptr);
            CHILD_CHECK(lock_shared(*s, 0) == LockResult::timed_out);
            CHILD_CHECK(lock_shared(*s, 10'000'000) == LockResult::timed_out);
            return 0;
        },
        5s);
    EXPECT_EQ(0, s->repairs.load());
    // That child is gone now: its stamp names a dead thread.
    EXPECT_EQ(LockResult::recovered, lock_shared(*s, 1'000'000'000));
    robust_mutex_unlock(s->m);
}

TEST_F(RobustLockTest, ScopedLockReleasesOnScopeExit) {
    {
        RobustLock lock(s->m, Deadline::from_timeout(0), &repair_shared, &*s, &s->recoveries);
        EXPECT_TRUE(lock.owns());
        EXPECT_EQ(LockResult::acquired, lock.result());
        run_child_ok([&] {
            CHILD_CHECK(lock_shared(*s, 0) == LockResult::timed_out);
            return 0;
        });
    }
    run_child_ok([&] {
        CHILD_CHECK(lock_shared(*s, 0) == LockResult::acquired);
        robust_mutex_unlock(s->m);
        return 0;
    });
}

// Release::plain (core/stamp_lock.hpp, stamp_unlock_lazy): a plain store frees an
// unmarked word; a word a sleeping waiter marked is released with the exchange and
// its wake, so that waiter gets the lock at once.
TEST_F(RobustLockTest, PlainReleaseFreesTheWordAndWakesAMarkedWaiter) {
    {
        RobustLock lock(s->m, Deadline::from_timeout(0), &repair_shared, &*s, &s->recoveries,
                        Release::plain);
        ASSERT_TRUE(lock.owns());
    }
    EXPECT_EQ(0u, s->m.word.load());
    std::atomic<bool> got{false};
    std::thread waiter;
    {
        RobustLock lock(s->m, Deadline::from_timeout(0), &repair_shared, &*s, &s->recoveries,
                        Release::plain);
        ASSERT_TRUE(lock.owns());
        waiter = std::thread([&] {
            RobustLock w(s->m, Deadline::from_timeout(-1), &repair_shared, &*s, &s->recoveries,
                         Release::plain);
            got.store(w.owns());
        });
        ASSERT_TRUE(eventually([&] { return (s->m.word.load() & kStampLockWaiters) != 0; }));
    }
    waiter.join();
    EXPECT_TRUE(got.load());
    EXPECT_EQ(0u, s->m.word.load());
    EXPECT_EQ(0u, s->recoveries.load());
}

// The race a plain release allows: a waiter marks the word between the holder's load and
// its store, and the store erases the mark without a wake. The waiter must still take
// the lock on its own, after its first sleep's slice (1 ms), not hang. Simulated by
// erasing the mark by hand while the holder's thread stays alive.
TEST_F(RobustLockTest, AWaiterWhoseMarkAPlainReleaseErasedStillTakesTheLock) {
    ASSERT_EQ(LockResult::acquired, lock_shared(*s, 0));
    std::atomic<bool> got{false};
    std::thread waiter([&] {
        RobustLock w(s->m, Deadline::from_timeout(-1), &repair_shared, &*s, &s->recoveries);
        got.store(w.owns());
    });
    ASSERT_TRUE(eventually([&] { return (s->m.word.load() & kStampLockWaiters) != 0; }));
    std::this_thread::sleep_for(5ms);  // let it fall asleep on the marked word
    s->m.word.store(0, std::memory_order_release);  // the racing plain release
    EXPECT_TRUE(eventually([&] { return got.load(); }, 2s));
    waiter.join();
    EXPECT_EQ(0u, s->recoveries.load());
}

// ---------------------------------------------------------------------------------
// A queue handle's eventfd (core/eventfd.hpp through shmds_queue_*eventfd*)

namespace {

struct QueueHandle {
    shmds_queue_t *q = nullptr;
    QueueHandle() {
        shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(SHMDS_QUEUE_INT64, 8);
        EXPECT_EQ(0, shmds_queue_create(nullptr, &cfg, &q)) << shmds_last_error();
    }
    ~QueueHandle() { shmds_queue_close(q); }
};

bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

bool is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

}  // namespace

TEST(EventFd, CreatedLazilyAndIdempotent) {
    QueueHandle h;
    ASSERT_NE(nullptr, h.q);
    EXPECT_EQ(-ENOENT, shmds_queue_notify(h.q)) << "no eventfd exists before it is asked for";
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "eventfd"));
    std::uint64_t count = 0;
    EXPECT_EQ(-ENOENT, shmds_queue_eventfd_consume(h.q, &count));
    int fd = shmds_queue_eventfd(h.q);
    ASSERT_GE(fd, 0) << shmds_last_error();
    EXPECT_EQ(fd, shmds_queue_eventfd(h.q));
    EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    EXPECT_TRUE(fcntl(fd, F_GETFL) & O_NONBLOCK);
}

TEST(EventFd, PushAloneNeverSignalsNotifyDoes) {
    QueueHandle h;
    int fd = shmds_queue_eventfd(h.q);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(0, shmds_queue_push_int(h.q, 7, SHMDS_NOWAIT));
    EXPECT_FALSE(readable(fd)) << "a push must not signal by itself (writers batch)";
    std::uint64_t count = 99;
    EXPECT_EQ(-EAGAIN, shmds_queue_eventfd_consume(h.q, &count));
    ASSERT_EQ(0, shmds_queue_notify(h.q));
    ASSERT_EQ(0, shmds_queue_notify(h.q));
    EXPECT_TRUE(readable(fd));
    EXPECT_EQ(0, shmds_queue_eventfd_consume(h.q, &count));
    EXPECT_EQ(2u, count);
    EXPECT_FALSE(readable(fd)) << "consume resets the counter";
    EXPECT_EQ(-EAGAIN, shmds_queue_eventfd_consume(h.q, nullptr));
}

TEST(EventFd, SetDuplicatesAndNeverTakesTheCallersFd) {
    int mine = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ASSERT_GE(mine, 0);
    {
        QueueHandle h;
        ASSERT_EQ(0, shmds_queue_set_eventfd(h.q, mine)) << shmds_last_error();
        int theirs = shmds_queue_eventfd(h.q);
        EXPECT_NE(mine, theirs) << "the handle must keep its own duplicate";
        ASSERT_EQ(0, shmds_queue_notify(h.q));
        EXPECT_TRUE(readable(mine)) << "the duplicate must name the same eventfd";
        std::uint64_t count = 0;
        ASSERT_EQ(sizeof count, size_t(read(mine, &count, sizeof count)));
        EXPECT_EQ(1u, count);
    }
    EXPECT_TRUE(is_open(mine)) << "closing the handle closed the caller's fd";
    close(mine);
}

TEST(EventFd, ClosingTheCallersFdKeepsTheHandlesCopyWorking) {
    QueueHandle h;
    int mine = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ASSERT_GE(mine, 0);
    ASSERT_EQ(0, shmds_queue_set_eventfd(h.q, mine));
    close(mine);
    int theirs = shmds_queue_eventfd(h.q);
    EXPECT_TRUE(is_open(theirs));
    EXPECT_EQ(0, shmds_queue_notify(h.q));
    std::uint64_t count = 0;
    EXPECT_EQ(0, shmds_queue_eventfd_consume(h.q, &count));
    EXPECT_EQ(1u, count);
}

TEST(EventFd, SettingTheSameFdIsANoOp) {
    QueueHandle h;
    int fd = shmds_queue_eventfd(h.q);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(0, shmds_queue_notify(h.q));
    EXPECT_EQ(0, shmds_queue_set_eventfd(h.q, fd));
    EXPECT_EQ(fd, shmds_queue_eventfd(h.q));
    EXPECT_TRUE(is_open(fd));
    std::uint64_t count = 0;
    EXPECT_EQ(0, shmds_queue_eventfd_consume(h.q, &count));
    EXPECT_EQ(1u, count) << "the pending signal must survive a no-op set";
}

TEST(EventFd, MinusOneDetachesAndBadFdsAreRefused) {
    QueueHandle h;
    int fd = shmds_queue_eventfd(h.q);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(0, shmds_queue_set_eventfd(h.q, -1));
    EXPECT_FALSE(is_open(fd)) << "the handle's own eventfd is closed when detached";
    EXPECT_EQ(-ENOENT, shmds_queue_notify(h.q));
    EXPECT_EQ(-ENOENT, shmds_queue_eventfd_consume(h.q, nullptr));
    EXPECT_GE(shmds_queue_eventfd(h.q), 0) << "a new one is created on demand";

    EXPECT_EQ(-EBADF, shmds_queue_set_eventfd(h.q, -7));
    EXPECT_STRNE("", shmds_last_error());
    int closed = eventfd(0, EFD_CLOEXEC);
    close(closed);
    EXPECT_EQ(-EBADF, shmds_queue_set_eventfd(h.q, closed));
    EXPECT_EQ(-EINVAL, shmds_queue_eventfd(nullptr));
    EXPECT_EQ(-EINVAL, shmds_queue_notify(nullptr));
}

TEST(EventFd, ADescriptorThatIsNotAnEventfdIsRefused) {
    QueueHandle h;
    int own = shmds_queue_eventfd(h.q);
    ASSERT_GE(own, 0);
    int p[2];
    ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
    EXPECT_EQ(-EINVAL, shmds_queue_set_eventfd(h.q, p[0]));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "not an eventfd"));
    EXPECT_EQ(own, shmds_queue_eventfd(h.q)) << "a refused fd leaves the handle's own in place";
    close(p[0]);
    close(p[1]);
}

// ---------------------------------------------------------------------------------
// Descriptor passing (core/fdpass.hpp through shmds_send_fd / shmds_recv_fd)

namespace {

struct SocketPair {
    int a = -1, b = -1;
    SocketPair() {
        int fds[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0) {
            a = fds[0];
            b = fds[1];
        }
    }
    ~SocketPair() {
        if (a >= 0) close(a);
        if (b >= 0) close(b);
    }
};

bool same_file(int x, int y) {
    struct stat sx, sy;
    return fstat(x, &sx) == 0 && fstat(y, &sy) == 0 && sx.st_dev == sy.st_dev &&
           sx.st_ino == sy.st_ino;
}

}  // namespace

TEST(FdPassing, RoundTripOverASocketPair) {
    SocketPair sp;
    ASSERT_GE(sp.a, 0);
    int memfd = memfd_create("fdpass", MFD_CLOEXEC);
    ASSERT_GE(memfd, 0);
    ASSERT_EQ(0, shmds_send_fd(sp.a, memfd)) << shmds_last_error();
    int got = -1;
    ASSERT_EQ(0, shmds_recv_fd(sp.b, &got)) << shmds_last_error();
    EXPECT_NE(memfd, got);
    EXPECT_TRUE(same_file(memfd, got));
    EXPECT_TRUE(fcntl(got, F_GETFD) & FD_CLOEXEC);
    close(got);
    close(memfd);
}

TEST(FdPassing, BadArgumentsAreRefusedWithASentence) {
    SocketPair sp;
    ASSERT_GE(sp.a, 0);
    EXPECT_EQ(-EBADF, shmds_send_fd(-1, 0));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "bad descriptor"));
    EXPECT_EQ(-EBADF, shmds_send_fd(sp.a, -1));
    int fd = -1;
    EXPECT_EQ(-EINVAL, shmds_recv_fd(sp.b, nullptr));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "NULL"));
    EXPECT_EQ(-EBADF, shmds_recv_fd(-1, &fd));
    int pipefd[2];
    ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
    EXPECT_EQ(-ENOTSOCK, shmds_send_fd(pipefd[1], pipefd[0]));
    EXPECT_STRNE("", shmds_last_error());
    close(pipefd[0]);
    close(pipefd[1]);
}

TEST(FdPassing, MessageWithoutADescriptorIsAProtocolError) {
    SocketPair sp;
    ASSERT_GE(sp.a, 0);
    ASSERT_EQ(1, write(sp.a, "x", 1));
    int fd = -1;
    EXPECT_EQ(-EPROTO, shmds_recv_fd(sp.b, &fd));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "no descriptor"));
    EXPECT_EQ(-1, fd);
    close(sp.a);
    sp.a = -1;
    EXPECT_EQ(-ECONNRESET, shmds_recv_fd(sp.b, &fd));
}

namespace {

// tests/fd_receiver, built beside this suite; meson passes its path.
std::string receiver_path() {
    if (const char *env = std::getenv("SHMDS_FD_RECEIVER"); env && *env) return env;
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return "";
    std::string dir(self, size_t(n));
    return dir.substr(0, dir.rfind('/')) + "/fd_receiver";
}

// Kills and reaps a spawned process on every path out of the test.
struct Spawned {
    pid_t pid = -1;
    ~Spawned() {
        if (pid > 0) wait_child(pid, 0ms);
    }
};

}  // namespace

TEST(FdPassing, MemfdQueueReachesAnUnrelatedProcess) {
    const std::string receiver = receiver_path();
    ASSERT_EQ(0, access(receiver.c_str(), X_OK))
        << "fd_receiver not found at '" << receiver << "' (set SHMDS_FD_RECEIVER)";

    shmds_options_t opts = SHMDS_OPTIONS_INIT;
    opts.backing = SHMDS_BACKING_MEMFD;
    opts.name = "fdpass-queue";
    shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(SHMDS_QUEUE_INT64, 64);
    shmds_queue_t *q = nullptr;
    ASSERT_EQ(0, shmds_queue_create(&opts, &cfg, &q)) << shmds_last_error();
    const int kItems = 10;
    std::int64_t expected_sum = 0;
    for (int i = 1; i <= kItems; ++i) {
        ASSERT_EQ(0, shmds_queue_push_int(q, std::int64_t(i) * 1000 + i, SHMDS_NOWAIT));
        expected_sum += std::int64_t(i) * 1000 + i;
    }

    TempPath sock_path("sock");
    int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(listener, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    ASSERT_LT(sock_path.str().size(), sizeof addr.sun_path);
    std::strcpy(addr.sun_path, sock_path.c_str());
    ASSERT_EQ(0, bind(listener, reinterpret_cast<sockaddr *>(&addr), sizeof addr));
    ASSERT_EQ(0, listen(listener, 1));

    // posix_spawn, not fork: the receiver shares nothing with us but the socket path.
    Spawned child;
    std::string count = std::to_string(kItems);
    char *argv[] = {const_cast<char *>(receiver.c_str()), const_cast<char *>(sock_path.c_str()),
                    const_cast<char *>(count.c_str()), nullptr};
    ASSERT_EQ(0, posix_spawn(&child.pid, receiver.c_str(), nullptr, nullptr, argv, environ));

    pollfd p{listener, POLLIN, 0};
    ASSERT_EQ(1, poll(&p, 1, 10000)) << "the receiver never connected";
    int conn = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    ASSERT_GE(conn, 0);
    EXPECT_EQ(0, shmds_send_fd(conn, shmds_queue_fd(q))) << shmds_last_error();
    close(conn);
    close(listener);

    ChildExit e = wait_child(child.pid, 10s);
    child.pid = -1;
    ASSERT_TRUE(e.exited && e.code == 0) << "fd_receiver " << e.describe();
    std::int64_t reply = 0;
    ASSERT_EQ(0, shmds_queue_pop_int(q, &reply, SHMDS_NOWAIT)) << "no reply from the receiver";
    EXPECT_EQ(expected_sum, reply) << "the receiver saw other items than we pushed";
    EXPECT_EQ(0u, shmds_queue_size(q));
    shmds_queue_close(q);
}

// ------------------------------------------------------------ element types

namespace {

TEST(ElemTypes, EveryIntegerTypeRoundTripsItsLimitsAndRefusesOneBeyond) {
    using shmds::core::ElemType;
    struct Row {
        ElemType t;
        std::int64_t lo;
        std::uint64_t hi;
    };
    const Row rows[] = {
        {ElemType::int8, -128, 127},
        {ElemType::int16, -32768, 32767},
        {ElemType::int32, INT32_MIN, INT32_MAX},
        {ElemType::int64, INT64_MIN, INT64_MAX},
        {ElemType::uint8, 0, 255},
        {ElemType::uint16, 0, 65535},
        {ElemType::uint32, 0, UINT32_MAX},
        {ElemType::uint64, 0, UINT64_MAX},
    };
    for (const Row &r : rows) {
        const auto *info = shmds::core::elem_type_info(std::uint32_t(r.t));
        ASSERT_NE(nullptr, info);
        SCOPED_TRACE(info->name);
        unsigned char buf[9];
        std::memset(buf, 0xA5, sizeof buf);
        std::int64_t s = 0;
        std::uint64_t u = 0;
        ASSERT_EQ(0, shmds::core::encode_uint(r.t, r.hi, buf, "t"));
        EXPECT_EQ(0xA5, buf[info->size]) << "wrote past the element";
        ASSERT_EQ(0, shmds::core::decode_uint(r.t, buf, &u, "t"));
        EXPECT_EQ(r.hi, u);
        ASSERT_EQ(0, shmds::core::encode_int(r.t, r.lo, buf, "t"));
        ASSERT_EQ(0, shmds::core::decode_int(r.t, buf, &s, "t"));
        EXPECT_EQ(r.lo, s);
        if (r.hi < UINT64_MAX && r.t != ElemType::int64) {
            EXPECT_EQ(-ERANGE, shmds::core::encode_uint(r.t, r.hi + 1, buf, "t"));
        }
        if (r.lo > INT64_MIN) {
            EXPECT_EQ(-ERANGE, shmds::core::encode_int(r.t, r.lo - 1, buf, "t"));
        }
        EXPECT_EQ(-EINVAL, shmds::core::encode_float(r.t, 1.0, buf, "t"));
    }
    unsigned char buf[8];
    ASSERT_EQ(0, shmds::core::encode_uint(ElemType::uint64, UINT64_MAX, buf, "a uint64 buffer"));
    std::int64_t s = 0;
    EXPECT_EQ(-ERANGE, shmds::core::decode_int(ElemType::uint64, buf, &s, "a uint64 buffer"));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "a uint64 buffer"));
    EXPECT_EQ(-ERANGE, shmds::core::encode_uint(ElemType::int64, UINT64_MAX, buf, "t"));
    ASSERT_EQ(0, shmds::core::encode_int(ElemType::int8, -1, buf, "t"));
    std::uint64_t u = 0;
    EXPECT_EQ(-ERANGE, shmds::core::decode_uint(ElemType::int8, buf, &u, "t"));
    EXPECT_EQ(-EINVAL, shmds::core::encode_int(ElemType::bytes, 1, buf, "t"));
}

TEST(ElemTypes, FloatsRoundTripAndF32RefusesFiniteValuesBeyondItsRange) {
    using shmds::core::ElemType;
    unsigned char buf[8];
    double d = 0;
    ASSERT_EQ(0, shmds::core::encode_float(ElemType::f64, 1e300, buf, "t"));
    ASSERT_EQ(0, shmds::core::decode_float(ElemType::f64, buf, &d, "t"));
    EXPECT_EQ(1e300, d);
    ASSERT_EQ(0, shmds::core::encode_float(ElemType::f32, 0.5, buf, "t"));
    ASSERT_EQ(0, shmds::core::decode_float(ElemType::f32, buf, &d, "t"));
    EXPECT_EQ(0.5, d);
    EXPECT_EQ(-ERANGE, shmds::core::encode_float(ElemType::f32, 1e300, buf, "t"));
    EXPECT_EQ(0, shmds::core::encode_float(ElemType::f32, INFINITY, buf, "t"));
    EXPECT_EQ(-EINVAL, shmds::core::encode_int(ElemType::f32, 1, buf, "t"));
    EXPECT_EQ(-EINVAL, shmds::core::decode_float(ElemType::int32, buf, &d, "t"));
    EXPECT_STREQ("f32", shmds::core::elem_type_name(std::uint32_t(ElemType::f32)));
    EXPECT_STREQ("unknown-type", shmds::core::elem_type_name(99));
    EXPECT_EQ(4, shmds_type_size(SHMDS_TYPE_F32));
    EXPECT_STREQ("uint16", shmds_type_name(SHMDS_TYPE_UINT16));
}

}  // namespace

// ---- the expiry clock --------------------------------------------------------------

namespace {
struct CountedClock {
    std::uint64_t now = 0;
    int reads = 0;
    static std::uint64_t read(void *ctx) {
        auto *c = static_cast<CountedClock *>(ctx);
        ++c->reads;
        return c->now;
    }
};
}  // namespace

// passed() decides from a coarse call time whenever it can, and asks the exact clock
// only when the expiry lies inside the call time's slack; its answer is the exact one.
TEST(MsClock, PassedAsksTheExactClockOnlyInsideTheSlack) {
    CountedClock c;
    const shmds::core::MsClock clock{&CountedClock::read, &c};
    const shmds::core::CallTime t{1000, 9};  // true time in [1000, 1009]
    EXPECT_FALSE(clock.passed(0, t));        // never expires
    EXPECT_TRUE(clock.passed(1000, t));
    EXPECT_TRUE(clock.passed(1, t));
    EXPECT_FALSE(clock.passed(1010, t));
    EXPECT_EQ(0, c.reads);
    c.now = 1004;
    EXPECT_TRUE(clock.passed(1004, t));
    EXPECT_FALSE(clock.passed(1005, t));
    EXPECT_FALSE(clock.passed(1009, t));
    EXPECT_EQ(3, c.reads);
    // An exact call time never asks.
    EXPECT_FALSE(clock.passed(1001, shmds::core::CallTime{1000}));
    EXPECT_EQ(3, c.reads);
}

// An injected clock is exact; the real one's call time is the coarse clock, at most its
// slack behind the exact one and never ahead of it.
TEST(MsClock, CallTimeIsCoarseOnlyForTheRealClock) {
    CountedClock c;
    c.now = 77;
    const shmds::core::MsClock injected{&CountedClock::read, &c};
    const shmds::core::CallTime ti = injected.call_time();
    EXPECT_EQ(77u, ti.ms);
    EXPECT_EQ(0u, ti.slack_ms);

    const shmds::core::MsClock real;
    const std::uint64_t slack = shmds::core::coarse_clock_slack_ms();
    EXPECT_LE(slack, 41u);
    for (int i = 0; i < 1000; ++i) {
        const std::uint64_t before = real.now_ms();
        const shmds::core::CallTime t = real.call_time();
        const std::uint64_t after = real.now_ms();
        EXPECT_EQ(slack, t.slack_ms);
        EXPECT_LE(t.ms, after);
        EXPECT_GE(t.ms + t.slack_ms, before);
    }
}
