#include "supervisor.hpp"

#include <shmds/common.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace soak {
namespace {

constexpr unsigned kMaxWorkers = 64;
constexpr std::size_t kMaxKills = 1u << 20;
constexpr unsigned kMaxMessages = 16;
constexpr std::size_t kMessageBytes = 400;

// One worker index, shared between the supervisor and the process running it.
struct alignas(64) Slot {
    std::atomic<std::int64_t> heartbeat_ns;  // last time a step returned (or the spawn)
    std::atomic<std::uint32_t> held;         // Worker::hold()
    std::atomic<std::uint32_t> inside;       // Worker::enter()
    std::atomic<std::uint64_t> steps;
    std::atomic<std::uint64_t> progress;
};

struct KillRecord {
    std::int64_t at_ns;                    // taken just before SIGKILL
    unsigned victim;
    bool holder;                           // it held items or was inside a lock
    std::atomic<std::int64_t> recovery_ns; // 0 until a survivor makes progress
};

// Everything the processes of one run share; made fresh for every workload.
struct Board {
    std::atomic<std::uint32_t> stop;
    std::atomic<std::uint32_t> early;
    char early_reason[200];
    std::atomic<std::int64_t> last_progress_ns;
    std::atomic<std::uint64_t> kills;        // records published in kill_log
    std::atomic<std::uint64_t> oldest_open;  // kills below this have their recovery time
    std::atomic<std::uint32_t> violations;
    char messages[kMaxMessages][kMessageBytes];
    std::atomic<std::uint32_t> notes;
    char note_lines[kMaxMessages][kMessageBytes];
    Slot slots[kMaxWorkers];
};

Board *board = nullptr;
KillRecord *kill_log = nullptr;
Slot *my_slot = nullptr;  // in a worker process: its own slot
unsigned my_index = 0;
unsigned worker_count = 0;

void copy_line(char *dst, const std::string &text) {
    std::snprintf(dst, kMessageBytes, "%s", text.c_str());
}

// A survivor's progress at time `t` ends the recovery of every open kill before it.
void record_recovery(std::int64_t t) {
    std::uint64_t kills = board->kills.load(std::memory_order_acquire);
    std::uint64_t oldest = board->oldest_open.load(std::memory_order_acquire);
    if (oldest >= kills) return;
    for (std::uint64_t k = oldest; k < kills; ++k) {
        KillRecord &rec = kill_log[k];
        if (rec.victim == my_index || t <= rec.at_ns) continue;
        std::int64_t none = 0;
        rec.recovery_ns.compare_exchange_strong(none, t - rec.at_ns);
    }
    // Advance past the closed records so later calls look at open ones only (a failed
    // exchange reloads `oldest`).
    while (oldest < kills && kill_log[oldest].recovery_ns.load() != 0)
        if (board->oldest_open.compare_exchange_weak(oldest, oldest + 1)) ++oldest;
}

[[noreturn]] void worker_main(Workload &workload, unsigned index, std::uint32_t incarnation,
                              std::uint64_t seed, pid_t supervisor) {
    // Never outlive the supervisor (e.g. killed by the meson test timeout).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != supervisor) _exit(3);
    my_index = index;
    my_slot = &board->slots[index];
    Worker w(index, incarnation, seed);
    workload.start(w);
    while (!board->stop.load(std::memory_order_acquire)) {
        Step s = workload.step(w);
        std::int64_t t = now_ns();
        my_slot->heartbeat_ns.store(t, std::memory_order_release);
        my_slot->steps.fetch_add(1, std::memory_order_relaxed);
        if (s == Step::progress) {
            my_slot->progress.fetch_add(1, std::memory_order_relaxed);
            board->last_progress_ns.store(t, std::memory_order_release);
            record_recovery(t);
        }
    }
    workload.finish(w);
    _exit(0);
}

std::string describe_status(int status) {
    if (WIFEXITED(status)) return fmt::format("exited with code {}", WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return fmt::format("died of signal {} ({})", WTERMSIG(status),
                                                strsignal(WTERMSIG(status)));
    return fmt::format("ended with status {:#x}", status);
}

double percentile(const std::vector<std::int64_t> &sorted, double p) {
    if (sorted.empty()) return 0;
    std::size_t at = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
    return static_cast<double>(sorted[std::min(at, sorted.size() - 1)]) / 1e6;
}

class Supervisor {
public:
    Supervisor(const Registration &reg, const RunOptions &opt)
        : reg_(reg), opt_(opt), rng_(opt.seed ^ 0x5eed50a4ull), pids_(opt.workers, -1),
          incarnations_(opt.workers, 0) {
        deaths_.kills.assign(opt.workers, 0);
        deaths_.held.assign(opt.workers, 0);
    }

    bool run() {
        board = static_cast<Board *>(shared_alloc(sizeof(Board)));
        kill_log = shared_array<KillRecord>(kMaxKills);
        worker_count = opt_.workers;
        workload_ = reg_.make();
        Params params;
        params.workers = opt_.workers;
        params.seed = opt_.seed;
        workload_->setup(params);
        bool set_up = board->violations.load() == 0;  // else no worker runs

        std::int64_t start = now_ns();
        board->last_progress_ns.store(start);
        for (unsigned i = 0; set_up && i < opt_.workers; ++i) spawn(i);
        std::int64_t end = start + static_cast<std::int64_t>(opt_.seconds * 1e9);
        std::int64_t next_kill = start + next_kill_gap();
        while (true) {
            sleep_ms(1);
            std::int64_t t = now_ns();
            if (t >= end || board->violations.load() || board->early.load()) break;
            reap_unexpected();
            if (opt_.kill_interval_ms > 0 && t >= next_kill) {
                kill_one();
                next_kill = now_ns() + next_kill_gap();
            }
            watchdog(now_ns());
        }
        std::int64_t stopped = now_ns();
        board->stop.store(1, std::memory_order_release);
        join_all();
        if (board->violations.load() == 0) workload_->verify(params, deaths_);
        report(stopped - start);
        bool ok = board->violations.load() == 0;
        munmap(kill_log, sizeof(KillRecord) * kMaxKills);
        munmap(board, sizeof(Board));
        board = nullptr;
        kill_log = nullptr;
        return ok;
    }

private:
    static void sleep_ms(unsigned ms) {
        timespec ts{0, static_cast<long>(ms) * 1000000L};
        nanosleep(&ts, nullptr);
    }

    std::int64_t next_kill_gap() {
        std::uniform_real_distribution<double> jitter(0.5, 1.5);
        return static_cast<std::int64_t>(opt_.kill_interval_ms * 1e6 * jitter(rng_));
    }

    void spawn(unsigned i) {
        Slot &s = board->slots[i];
        s.held.store(0);
        s.inside.store(0);
        s.heartbeat_ns.store(now_ns());
        pid_t parent = getpid();
        std::uint32_t inc = incarnations_[i];
        std::fflush(nullptr);
        pid_t pid = fork();
        if (pid < 0) {
            std::fprintf(stderr, "soak: fork failed: %s\n", std::strerror(errno));
            std::exit(2);
        }
        if (pid == 0) worker_main(*workload_, i, inc, opt_.seed, parent);
        pids_[i] = pid;
    }

    // The victim is stopped first (a stopped process is alive and keeps what it holds), so
    // the supervisor can take it out of the shared bookkeeping while it cannot write:
    // from then on it is not counted as inside, although the structure still honours what
    // it holds until SIGKILL. So checks may miss a victim's share, never count a dead one.
    void kill_one() {
        std::uint64_t k = board->kills.load();
        if (k >= kMaxKills) return;
        unsigned victim = static_cast<unsigned>(rng_() % opt_.workers);
        pid_t pid = pids_[victim];
        if (pid <= 0) return;  // reaped after a crash; never kill(-1, ...)
        Slot &s = board->slots[victim];
        int status = 0;
        ::kill(pid, SIGSTOP);
        if (!wait_for(pid, WUNTRACED, status) || !WIFSTOPPED(status)) {
            violation("worker {} (pid {}) {} before it could be killed", victim, pid,
                      describe_status(status));
            pids_[victim] = -1;
            respawn(victim);
            return;
        }
        bool holder = s.held.load() != 0 || s.inside.load() != 0;
        s.inside.store(0);
        workload_->forget(victim);
        kill_log[k].victim = victim;
        kill_log[k].holder = holder;
        kill_log[k].at_ns = now_ns();
        board->kills.store(k + 1, std::memory_order_release);
        ::kill(pid, SIGKILL);
        if (!wait_for(pid, 0, status) || !(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
            violation("worker {} (pid {}) {} instead of dying of SIGKILL", victim, pid,
                      describe_status(status));
        deaths_.kills[victim]++;
        deaths_.held[victim] += s.held.load();
        respawn(victim);
    }

    static bool wait_for(pid_t pid, int options, int &status) {
        pid_t got;
        while ((got = waitpid(pid, &status, options)) < 0 && errno == EINTR) {
        }
        return got == pid;
    }

    void respawn(unsigned i) {
        ++incarnations_[i];
        spawn(i);
    }

    // A worker that ended without being killed crashed or failed on its own.
    void reap_unexpected() {
        int status = 0;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            auto it = std::find(pids_.begin(), pids_.end(), pid);
            unsigned i = static_cast<unsigned>(it - pids_.begin());
            violation("worker {} (pid {}) {} in the middle of the run", i, pid,
                      describe_status(status));
            if (it != pids_.end()) *it = -1;
        }
    }

    void watchdog(std::int64_t t) {
        std::int64_t bound = static_cast<std::int64_t>(opt_.bound_ms) * 1000000;
        for (unsigned i = 0; i < opt_.workers; ++i) {
            std::int64_t since = t - board->slots[i].heartbeat_ns.load(std::memory_order_acquire);
            if (since > bound) {
                violation("wedge: worker {} (pid {}) has been inside one step for {:.0f} ms "
                          "(bound {} ms): a call did not return within its bound",
                          i, pids_[i], since / 1e6, opt_.bound_ms);
                return;
            }
        }
        std::int64_t quiet = t - board->last_progress_ns.load(std::memory_order_acquire);
        if (quiet > bound)
            violation("wedge: no worker completed an operation for {:.0f} ms (bound {} ms)",
                      quiet / 1e6, opt_.bound_ms);
    }

    // Stop every worker; one that does not return from its step within the bound is wedged.
    void join_all() {
        std::int64_t deadline = now_ns() + static_cast<std::int64_t>(opt_.bound_ms) * 1000000;
        for (unsigned i = 0; i < opt_.workers; ++i) {
            if (pids_[i] < 0) continue;
            int status = 0;
            pid_t got;
            while ((got = waitpid(pids_[i], &status, WNOHANG)) == 0 && now_ns() < deadline)
                sleep_ms(1);
            if (got == 0) {
                violation("wedge: worker {} (pid {}) did not return from its step within {} ms "
                          "after the stop",
                          i, pids_[i], opt_.bound_ms);
                ::kill(pids_[i], SIGKILL);
                waitpid(pids_[i], &status, 0);
            } else if (got > 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
                violation("worker {} (pid {}) {} while stopping", i, pids_[i],
                          describe_status(status));
            }
            pids_[i] = -1;
        }
    }

    void report(std::int64_t elapsed_ns) {
        std::uint64_t kills = board->kills.load();
        std::vector<std::int64_t> rec, holders;
        std::uint64_t holder_kills = 0;
        for (std::uint64_t k = 0; k < kills; ++k) {
            holder_kills += kill_log[k].holder;
            std::int64_t r = kill_log[k].recovery_ns.load();
            if (r == 0) continue;
            rec.push_back(r);
            if (kill_log[k].holder) holders.push_back(r);
        }
        std::sort(rec.begin(), rec.end());
        std::sort(holders.begin(), holders.end());
        std::uint64_t steps = 0, progress = 0;
        for (unsigned i = 0; i < opt_.workers; ++i) {
            steps += board->slots[i].steps.load();
            progress += board->slots[i].progress.load();
        }
        std::printf("soak %s: %.1f s, %u workers, kill interval %u ms, seed %llu\n", reg_.name,
                    elapsed_ns / 1e9, opt_.workers, opt_.kill_interval_ms,
                    static_cast<unsigned long long>(opt_.seed));
        std::printf("  checks: %s\n", reg_.checks);
        std::printf("  steps %llu (%llu made progress), kills %llu\n",
                    static_cast<unsigned long long>(steps),
                    static_cast<unsigned long long>(progress),
                    static_cast<unsigned long long>(kills));
        print_recovery("every kill", rec, kills);
        print_recovery("kills of a holder", holders, holder_kills);
        unsigned notes = std::min(board->notes.load(), kMaxMessages);
        for (unsigned i = 0; i < notes; ++i) std::printf("  %s\n", board->note_lines[i]);
        if (board->early.load()) std::printf("  ended early: %s\n", board->early_reason);
        unsigned v = board->violations.load();
        for (unsigned i = 0; i < std::min(v, kMaxMessages); ++i)
            std::printf("  VIOLATION: %s\n", board->messages[i]);
        if (v > kMaxMessages) std::printf("  ... and %u more violations\n", v - kMaxMessages);
        std::printf("  %s (replay: --structure %s --seed %llu --workers %u --kill-interval-ms %u)\n",
                    v ? "FAIL" : "PASS", reg_.name, static_cast<unsigned long long>(opt_.seed),
                    opt_.workers, opt_.kill_interval_ms);
        std::fflush(stdout);
    }

    // Recovery: from a kill to the next successful step of any other worker.
    static void print_recovery(const char *which, const std::vector<std::int64_t> &sorted,
                               std::uint64_t kills) {
        std::printf("  recovery after %s (%llu): p50 %.2f ms, p99 %.2f ms, max %.2f ms",
                    which, static_cast<unsigned long long>(kills), percentile(sorted, 0.5),
                    percentile(sorted, 0.99), sorted.empty() ? 0.0 : sorted.back() / 1e6);
        if (kills > sorted.size())
            std::printf(" (%llu without a later success)",
                        static_cast<unsigned long long>(kills - sorted.size()));
        std::printf("\n");
    }

    const Registration &reg_;
    RunOptions opt_;
    std::mt19937_64 rng_;
    std::unique_ptr<Workload> workload_;
    std::vector<pid_t> pids_;
    std::vector<std::uint32_t> incarnations_;
    Deaths deaths_;
};

}  // namespace

std::int64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void *shared_alloc(std::size_t bytes) {
    void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        std::fprintf(stderr, "soak: cannot map %zu shared bytes: %s\n", bytes,
                     std::strerror(errno));
        std::exit(2);
    }
    return p;
}

void violation_text(const std::string &text) {
    unsigned n = board->violations.fetch_add(1);
    if (n < kMaxMessages) copy_line(board->messages[n], text);
}

void note_text(const std::string &text) {
    unsigned n = board->notes.fetch_add(1);
    if (n < kMaxMessages) copy_line(board->note_lines[n], text);
}

std::string describe_rc(int rc) {
    return fmt::format("{} ({})", shmds_errname(rc), shmds_last_error());
}

void finish_early(const char *reason) {
    if (board->early.exchange(1) == 0)
        std::snprintf(board->early_reason, sizeof board->early_reason, "%s", reason);
}

Worker::Worker(unsigned index, std::uint32_t incarnation, std::uint64_t seed)
    : index_(index), incarnation_(incarnation),
      rng_(seed ^ (std::uint64_t{index} << 40) ^ (std::uint64_t{incarnation} * 0x9e3779b97f4a7c15ull)) {}

void Worker::hold(std::uint32_t n) { my_slot->held.store(n, std::memory_order_seq_cst); }

void Worker::enter(std::uint32_t role) { my_slot->inside.store(role, std::memory_order_seq_cst); }

unsigned Worker::others_inside(std::uint32_t role) const {
    unsigned n = 0;
    for (unsigned i = 0; i < worker_count; ++i) {
        if (i == index_) continue;
        const Slot &s = board->slots[i];
        if (s.inside.load(std::memory_order_seq_cst) == role) ++n;
    }
    return n;
}

bool run_workload(const Registration &reg, const RunOptions &opt) {
    Supervisor sup(reg, opt);
    return sup.run();
}

}  // namespace soak
