#include "procs.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <string>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace shmds::bench {

namespace {

std::string errno_text(const char *what) {
    return std::string(what) + ": " + std::strerror(errno);
}

void pin_to(int cpu) {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        throw Failure(errno_text(("sched_setaffinity to CPU " + std::to_string(cpu)).c_str()));
}

void copy_message(ChildReport &r, const char *msg) {
    std::snprintf(r.error, sizeof r.error, "%s", msg);
}

// The child's whole life: run the body, turn its outcome into an exit code. Never
// returns into the harness (no destructors, no stdio flush of the parent's buffers).
[[noreturn]] void child_main(const ChildSpec &spec, ChildReport &report, pid_t parent) {
    // If the harness dies (killed by a test timeout, Ctrl-C), its children must not
    // live on: a spinning peer would burn a core of a shared machine for ever.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(3);
    int code = 0;
    try {
        pin_to(spec.cpu);
        spec.body(report);
    } catch (const Skip &s) {
        copy_message(report, s.what());
        report.skipped = true;
        code = 2;
    } catch (const std::exception &e) {
        copy_message(report, e.what());
        code = 1;
    } catch (...) {
        copy_message(report, "unknown exception");
        code = 1;
    }
    _exit(code);
}

// Sleep until one of the running children ends or until deadline_ns. pidfds let the
// parent sleep in poll() instead of polling waitpid, so it takes no CPU from the
// processes it measures.
void wait_for_any(const std::vector<pid_t> &pids, const std::vector<bool> &ended,
                  std::int64_t deadline_ns) {
    std::vector<pollfd> fds;
    for (std::size_t i = 0; i < pids.size(); ++i) {
        if (ended[i]) continue;
        int fd = int(syscall(SYS_pidfd_open, pids[i], 0));
        if (fd >= 0) fds.push_back(pollfd{fd, POLLIN, 0});
    }
    const std::int64_t left_ns = deadline_ns - now_ns();
    if (left_ns > 0) {
        if (fds.empty())
            usleep(10000);  // no pidfd_open (old kernel): coarse polling
        else
            poll(fds.data(), fds.size(), int(left_ns / 1000000) + 1);
    }
    for (const pollfd &p : fds) close(p.fd);
}

std::string describe_exit(int status) {
    if (WIFSIGNALED(status)) return std::string("killed by signal ") + strsignal(WTERMSIG(status));
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    return "ended oddly";
}

}  // namespace

SharedRegion::SharedRegion(std::size_t bytes) : size_(bytes ? bytes : 1) {
    data_ = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (data_ == MAP_FAILED) throw Failure(errno_text("mmap of a shared region"));
}

SharedRegion::~SharedRegion() { munmap(data_, size_); }

std::vector<ChildReport> run_children(const std::vector<ChildSpec> &specs, double timeout_s) {
    SharedRegion reports_mem(sizeof(ChildReport) * specs.size());
    auto *reports = static_cast<ChildReport *>(reports_mem.data());
    for (std::size_t i = 0; i < specs.size(); ++i) reports[i] = ChildReport{};

    std::fflush(nullptr);  // no buffered output duplicated into children
    const pid_t parent = getpid();
    std::vector<pid_t> pids;
    for (std::size_t i = 0; i < specs.size(); ++i) {
        pid_t pid = fork();
        if (pid == 0) child_main(specs[i], reports[i], parent);
        if (pid < 0) {
            const std::string why = errno_text("fork");
            for (pid_t p : pids) kill(p, SIGKILL);
            for (pid_t p : pids) waitpid(p, nullptr, 0);
            throw Failure(why);
        }
        pids.push_back(pid);
    }

    const std::int64_t deadline = now_ns() + std::int64_t(timeout_s * 1e9);
    std::vector<int> status(pids.size(), 0);
    std::vector<bool> ended(pids.size(), false);
    std::string failure, skip;
    std::size_t running = pids.size();
    bool stopping = false;
    while (running > 0) {
        for (std::size_t i = 0; i < pids.size(); ++i) {
            if (ended[i] || waitpid(pids[i], &status[i], WNOHANG) != pids[i]) continue;
            ended[i] = true;
            --running;
            if (WIFEXITED(status[i]) && WEXITSTATUS(status[i]) == 0) continue;
            if (stopping) continue;  // killed by us because a partner failed first
            if (reports[i].skipped) {
                skip = reports[i].error;
            } else {
                failure = reports[i].error[0] ? std::string(reports[i].error)
                                              : "process " + std::to_string(i) + " " +
                                                    describe_exit(status[i]);
            }
            // Its partners may wait for it for ever: stop them.
            stopping = true;
            for (std::size_t j = 0; j < pids.size(); ++j)
                if (!ended[j]) kill(pids[j], SIGKILL);
        }
        if (running == 0) break;
        if (!stopping && now_ns() >= deadline) {
            failure = "the case's processes did not finish within " +
                      std::to_string(int(timeout_s)) + " s (killed)";
            stopping = true;
            for (std::size_t j = 0; j < pids.size(); ++j)
                if (!ended[j]) kill(pids[j], SIGKILL);
        }
        wait_for_any(pids, ended, stopping ? now_ns() + 1000000000 : deadline);
    }
    if (!skip.empty()) throw Skip(skip);
    if (!failure.empty()) throw Failure(failure);
    return std::vector<ChildReport>(reports, reports + specs.size());
}

void StartLine::arrive_and_wait(int parties) {
    arrived_.fetch_add(1, std::memory_order_acq_rel);
    const std::int64_t give_up = now_ns() + 10'000'000'000;
    while (arrived_.load(std::memory_order_acquire) < parties) {
        if (now_ns() > give_up) throw Failure("a partner process never reached the start line");
        sched_yield();
    }
}

std::int64_t run_delay_ns() {
    std::FILE *f = std::fopen("/proc/thread-self/schedstat", "r");
    if (!f) return -1;
    long long on_cpu = 0, waiting = -1;
    if (std::fscanf(f, "%lld %lld", &on_cpu, &waiting) != 2) waiting = -1;
    std::fclose(f);
    return waiting;
}

std::vector<int> usable_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<int> cpus;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
    for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &set)) cpus.push_back(c);
    return cpus;
}

}  // namespace shmds::bench
