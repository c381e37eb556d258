// The benchmark harness (DESIGN.md §8): named workloads, each run against libshmds and
// its peers in the same run, so every figure can carry its ratio to a peer.
//
// A structure adds its benchmarks in bench/<structure>_bench.cpp:
//
//     static void register_queue() {
//         shmds::bench::add_case({"q_single/int64", "shmds", "atomic_queue",
//                                 [](const RunParams &p, Sample &s) { ... s.add(...); }});
//         shmds::bench::add_target({...});
//     }
//     SHMDS_BENCH_REGISTER(register_queue);
//
// The harness runs every selected case after a warm-up, several times (round-robin over
// the cases), and reports the median of each metric (shared machines are noisy); when a
// case says how much other load disturbed each repetition (Sample::disturbed), the median
// is over the calmer half. Cases measure in forked, pinned processes (bench/procs.hpp)
// over shared mappings.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace shmds::bench {

// A case that cannot run on this machine (missing kernel feature, one CPU for a
// spinning peer...). Shown as skipped with the reason; not an error.
struct Skip : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A case that broke (a peer call failed, a message arrived out of order, a child timed
// out). The harness reports it and exits non-zero.
struct Failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// How one repetition should run.
struct RunParams {
    double seconds;  // measured time of this repetition (shorter for the warm-up)
    bool warmup;     // results are discarded
    bool quick;      // CI smoke: keep everything short
    int cpu_a;       // CPU for the single process, or the first of a pair; -1 = unpinned
    int cpu_b;       // CPU for the second process of a pair; -1 = unpinned
};

// What one repetition measured: named metrics, plus an optional note for the table
// (e.g. a peer's capacity limit).
class Sample {
public:
    struct Metric {
        std::string name;
        double value;
        std::string unit;
    };
    void add(std::string metric, double value, std::string unit);
    void note(std::string text) { note_ = std::move(text); }
    // The share of the measured window its processes spent runnable but waiting for a
    // CPU, i.e. taken by other load on the machine. When every repetition reports it,
    // the harness keeps the calmer half before taking medians.
    void disturbed(double fraction) { disturbance_ = fraction; }
    const std::vector<Metric> &metrics() const { return metrics_; }
    const std::string &note() const { return note_; }
    double disturbance() const { return disturbance_; }

private:
    std::vector<Metric> metrics_;
    std::string note_;
    double disturbance_ = -1;  // unknown
};

using CaseFn = std::function<void(const RunParams &, Sample &)>;

struct Case {
    std::string workload;  // e.g. "q1p1c/int64"; --filter matches "workload/subject"
    std::string subject;   // e.g. "shmds", "boost-mq"
    // Another subject of the same workload whose figures this one is divided by in
    // the table ("" = none). It runs whenever this case runs, so ratios always come
    // from the same run.
    std::string ratio_to;
    CaseFn run;
    bool spins = false;   // busy-waits across processes: needs two CPUs to mean anything
    bool warmup = true;   // run once, unmeasured, before the repetitions
    int max_reps = 0;     // cap on repetitions (0 = the harness's setting)
};

// A performance goal checked (never asserted) at the end of a run: subject's metric
// divided by peer's (or, with peer "", the metric itself) compared with bound.
struct Target {
    std::string workload;
    std::string subject;
    std::string metric;
    std::string peer;  // subject in the same workload, or "" for an absolute bound
    bool at_least;     // true: value >= bound; false: value <= bound
    double bound;
    std::string what;  // one line saying what the goal is
};

void add_case(Case c);
void add_target(Target t);

// The same case with both processes of a pair pinned to one CPU ("<workload>@1cpu",
// divided by `ratio_to` instead): what a blocking channel costs when the process it
// waits for cannot run until it yields, as in worker fleets with more processes than
// cores. Only for cases that do not spin (a spinner on one CPU measures the scheduler).
inline Case on_one_cpu(Case c, std::string ratio_to) {
    c.workload += "@1cpu";
    c.ratio_to = std::move(ratio_to);
    c.run = [run = std::move(c.run)](const RunParams &p, Sample &s) {
        RunParams one = p;
        one.cpu_b = one.cpu_a;
        run(one, s);
    };
    return c;
}

// Monotonic nanoseconds, the one clock of the harness (vDSO, no syscall).
std::int64_t now_ns() noexcept;

}  // namespace shmds::bench

// Run fn() during static initialisation of its file, so adding a file adds workloads.
#define SHMDS_BENCH_REGISTER(fn) \
    [[maybe_unused]] static const bool shmds_bench_registered_##fn = (fn(), true)
