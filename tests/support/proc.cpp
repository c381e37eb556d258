#include "support/proc.hpp"

#include "core/failpoint.hpp"
#include "shmds_config.h"

#include <shmds/common.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <mutex>
#include <set>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace shmds::test {

namespace {
std::mutex g_children_mutex;
std::set<pid_t> g_children;
std::atomic<int> g_path_counter{0};
}  // namespace

std::string ChildExit::describe() const {
    char buf[128];
    if (timed_out) std::snprintf(buf, sizeof buf, "timed out (killed)");
    else if (exited) std::snprintf(buf, sizeof buf, "exited with code %d", code);
    else std::snprintf(buf, sizeof buf, "killed by signal %d (%s)", signal, strsignal(signal));
    return buf;
}

pid_t fork_child(const std::function<int()> &body) {
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        ADD_FAILURE() << "fork failed: " << std::strerror(errno);
        return -1;
    }
    if (pid == 0) {
        // Die with the test runner: no orphan keeps spinning after a crash or timeout.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(99);
        int code = 1;
        try {
            code = body();
        } catch (const std::exception &e) {
            fprintf(stderr, "child %d: exception: %s\n", (int)getpid(), e.what());
        } catch (...) {
            fprintf(stderr, "child %d: unknown exception\n", (int)getpid());
        }
        _exit(code);
    }
    std::lock_guard<std::mutex> lock(g_children_mutex);
    g_children.insert(pid);
    return pid;
}

ChildExit wait_child(pid_t pid, std::chrono::milliseconds timeout) {
    ChildExit out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) {
            out.code = -1;
            return out;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            out.timed_out = true;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    {
        std::lock_guard<std::mutex> lock(g_children_mutex);
        g_children.erase(pid);
    }
    if (out.timed_out) return out;
    if (WIFEXITED(status)) {
        out.exited = true;
        out.code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        out.signal = WTERMSIG(status);
    }
    return out;
}

void run_child_ok(const std::function<int()> &body, std::chrono::milliseconds timeout) {
    pid_t pid = fork_child(body);
    ASSERT_GT(pid, 0);
    ChildExit e = wait_child(pid, timeout);
    EXPECT_TRUE(e.exited && e.code == 0) << "child " << e.describe();
}

void exit_on_fault() {
    struct sigaction sa {};
    sa.sa_handler = [](int) { _exit(kFaultExit); };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, nullptr);
    sigaction(SIGBUS, &sa, nullptr);
}

namespace {
// Whether `pid` reaches `state` (field 3 of /proc/<pid>/stat) within `timeout`.
bool wait_for_state(pid_t pid, char state, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const std::string path = "/proc/" + std::to_string(pid) + "/stat";
    do {
        std::ifstream stat(path);
        std::string line;
        std::getline(stat, line);
        // "pid (comm) S ...": the state follows the last ')', as comm may hold one.
        const auto close = line.rfind(')');
        if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == state)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
}
}  // namespace

bool wait_until_asleep(pid_t pid, std::chrono::milliseconds timeout) {
    return wait_for_state(pid, 'S', timeout);
}

bool wait_until_stopped(pid_t pid, std::chrono::milliseconds timeout) {
    return wait_for_state(pid, 'T', timeout);
}

void kill_all_children() {
    std::set<pid_t> left;
    {
        std::lock_guard<std::mutex> lock(g_children_mutex);
        left.swap(g_children);
    }
    for (pid_t p : left) {
        kill(p, SIGKILL);
        waitpid(p, nullptr, 0);
    }
}

TempPath::TempPath(const std::string &tag) {
    path_ = "/dev/shm/shmds-test-" + tag + "-" + std::to_string(getpid()) + "-" +
            std::to_string(g_path_counter.fetch_add(1));
    unlink(path_.c_str());
}

TempPath::~TempPath() { unlink(path_.c_str()); }

std::uint64_t test_seed() {
    static std::uint64_t seed = [] {
        std::uint64_t s;
        if (const char *env = std::getenv("SHMDS_TEST_SEED")) {
            s = std::strtoull(env, nullptr, 0);
        } else {
            timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            s = std::uint64_t(ts.tv_sec) * 1000003u ^ std::uint64_t(ts.tv_nsec) ^
                (std::uint64_t(getpid()) << 32);
        }
        fprintf(stderr, "[seed] SHMDS_TEST_SEED=%llu (set it to replay)\n",
                (unsigned long long)s);
        return s;
    }();
    ::testing::Test::RecordProperty("seed", std::to_string(seed));
    return seed;
}

double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
}

// Reap anything a failing test left behind, after every test.
class ChildReaper : public ::testing::EmptyTestEventListener {
    void OnTestEnd(const ::testing::TestInfo &) override { kill_all_children(); }
};

namespace {
const bool g_reaper_installed = [] {
    ::testing::UnitTest::GetInstance()->listeners().Append(new ChildReaper);
    return true;
}();
}  // namespace

void arm_failpoint(const char *failpoint) {
#if SHMDS_FAILPOINTS
    core::failpoint_arm(failpoint);
#else
    (void)failpoint;
#endif
}

void expect_eventfd_creation_fails(const std::function<int()> &eventfd_of,
                                   const std::function<int()> &notify) {
    run_child_ok([&] {
        // Lower the limit to the lowest free descriptor number: every number below it
        // is taken, so eventfd() itself must fail.
        const int lowest_free = open("/dev/null", O_RDONLY | O_CLOEXEC);
        CHILD_CHECK(lowest_free >= 0);
        close(lowest_free);
        rlimit lim{};
        CHILD_CHECK(getrlimit(RLIMIT_NOFILE, &lim) == 0);
        lim.rlim_cur = rlim_t(lowest_free);
        CHILD_CHECK(setrlimit(RLIMIT_NOFILE, &lim) == 0);
        CHILD_CHECK(eventfd_of() == -EMFILE);
        CHILD_CHECK(std::strstr(shmds_last_error(), "eventfd") != nullptr);
        CHILD_CHECK(notify() == -ENOENT);
        return 0;
    });
}

std::vector<int> allowed_cpus() {
    cpu_set_t set;
    std::vector<int> cpus;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
    for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &set)) cpus.push_back(c);
    return cpus;
}

bool pin_to_cpu(int cpu) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return sched_setaffinity(0, sizeof one, &one) == 0;
}

ScopedCpuPin::ScopedCpuPin(int cpu) {
    ok_ = sched_getaffinity(0, sizeof saved_, &saved_) == 0 && pin_to_cpu(cpu);
}

ScopedCpuPin::~ScopedCpuPin() {
    if (ok_) sched_setaffinity(0, sizeof saved_, &saved_);
}

}  // namespace shmds::test
