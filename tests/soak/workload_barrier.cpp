// barrier (parties = workers): every worker waits at the barrier again and again. A kill
// breaks the generation for the others (-ECANCELED within 100 ms, never a hang); a worker
// that finds it broken resets it and the barrier must trip again. Every wait returns one
// of the documented outcomes within its bound. Afterwards the supervisor and forked
// helpers, one per party, must pass it together with exactly one leader.
#include "soak.hpp"

#include <shmds/sync.h>

#include <cerrno>
#include <sys/wait.h>
#include <unistd.h>

namespace soak {
namespace {

constexpr std::int64_t kTimeout = 300'000'000;
constexpr std::int64_t kImpatient = 1'000'000;

class Barrier : public Workload {
public:
    void setup(const Params &p) override {
        parties_ = p.workers;
        int rc = shmds_barrier_create(nullptr, parties_, &b_);
        if (rc != 0) violation("shmds_barrier_create: {}", describe_rc(rc));
        counts_ = shared_array<std::atomic<std::uint64_t>>(3);
    }

    Step step(Worker &w) override {
        // Mostly patient waits; a few probes, and a few impatient waits whose timeout
        // breaks the generation, so the reset path runs too.
        unsigned pick = static_cast<unsigned>(w.rng()() % 100);
        std::int64_t timeout = pick < 5 ? SHMDS_NOWAIT : pick < 7 ? kImpatient : kTimeout;
        w.hold(1);  // an arrival: the report's "kills of a holder" are kills of a waiting party
        int rc = shmds_barrier_wait(b_, timeout);
        w.release();
        if (rc == SHMDS_BARRIER_LEADER || rc == 0) {
            counts_[rc == 0 ? 0 : 1].fetch_add(1);
            return Step::progress;
        }
        if (rc == -ECANCELED || rc == -ETIMEDOUT) {
            // Only a broken barrier is reset: a reset also cancels waits begun since.
            if (shmds_barrier_is_broken(b_) == 1) {
                counts_[2].fetch_add(1);
                if (int r = shmds_barrier_reset(b_)) violation("shmds_barrier_reset: {}", describe_rc(r));
            }
            return Step::idle;
        }
        if (rc != -EAGAIN) violation("shmds_barrier_wait: {}", describe_rc(rc));
        return Step::idle;
    }

    void verify(const Params &, const Deaths &) override {
        note("passes {} (as leader {}), resets {}, barrier recoveries {}", counts_[0].load(),
             counts_[1].load(), counts_[2].load(), shmds_barrier_recoveries(b_));
        if (counts_[1].load() == 0) violation("barrier: it never tripped during the run");
        final_round();
        shmds_barrier_close(b_);
    }

private:
    // Every worker is gone: one clean generation with the supervisor and parties-1 helpers.
    void final_round() {
        if (shmds_barrier_is_broken(b_) == 1 || shmds_barrier_arrived(b_) != 0)
            shmds_barrier_reset(b_);
        std::vector<pid_t> helpers;
        for (unsigned i = 1; i < parties_; ++i) {
            pid_t pid = fork();
            if (pid == 0) {
                int rc = shmds_barrier_wait(b_, 2'000'000'000);
                _exit(rc == SHMDS_BARRIER_LEADER ? 10 : rc == 0 ? 0 : 1);
            }
            helpers.push_back(pid);
        }
        int rc = shmds_barrier_wait(b_, 2'000'000'000);
        unsigned leaders = rc == SHMDS_BARRIER_LEADER, failed = rc < 0;
        for (pid_t pid : helpers) {
            int status = 0;
            waitpid(pid, &status, 0);
            int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
            leaders += code == 10;
            failed += code == 1;
        }
        if (failed || leaders != 1)
            violation("barrier: after the run {} parties could not pass it together ({} "
                      "failed, {} leaders; the supervisor got {})",
                      parties_, failed, leaders, describe_rc(rc));
    }

    shmds_barrier_t *b_ = nullptr;
    unsigned parties_ = 0;
    std::atomic<std::uint64_t> *counts_ = nullptr;  // passes, leaders, resets
};

}  // namespace
}  // namespace soak

SOAK_WORKLOAD(barrier,
              "waits end in a documented outcome within the bound; a broken barrier resets and "
              "trips again with one leader",
              2, soak::Barrier);
