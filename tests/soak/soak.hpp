// The kill soak: worker processes run real operations on one structure while the
// supervisor SIGKILLs random workers at random moments and respawns them. Afterwards the
// structure's workload checks its invariants (no duplicate, no torn value, losses within
// what the dead had in flight) and the supervisor reports kills and recovery times.
//
// A structure takes part by registering one Workload (one file, see workload_*.cpp, and
// one line in tests/soak/meson.build). It uses only the public C API, like a user.
//
// Process model: the supervisor creates the structure (anonymous backing) and the shared
// result areas before the first fork; every worker, including a respawned one, is a
// fresh fork of the supervisor, so it inherits the handles as a fork() child may.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace soak {

// CLOCK_MONOTONIC in nanoseconds.
std::int64_t now_ns();

// Zeroed MAP_SHARED anonymous memory (MAP_NORESERVE: untouched pages cost nothing), to be
// made before the first fork so every worker sees the same bytes. Exits on failure.
void *shared_alloc(std::size_t bytes);

template <typename T>
T *shared_array(std::size_t n) {
    return static_cast<T *>(shared_alloc(sizeof(T) * n));
}

// Record a violation (from a worker or the supervisor); the run fails and stops soon.
void violation_text(const std::string &text);
template <typename... A>
void violation(fmt::format_string<A...> f, A &&...args) {
    violation_text(fmt::format(f, std::forward<A>(args)...));
}

// A line for the report (counters the workload checked, what it drained).
void note_text(const std::string &text);
template <typename... A>
void note(fmt::format_string<A...> f, A &&...args) {
    note_text(fmt::format(f, std::forward<A>(args)...));
}

// An unexpected return code for a message: its name, and the library's last sentence.
std::string describe_rc(int rc);

// End the run early without failing it (e.g. a workload ran out of item ids).
void finish_early(const char *reason);

// What a step achieved: progress means an operation on the structure succeeded (it feeds
// the no-progress watchdog and the recovery times); idle means it timed out, found
// nothing to do, or would have blocked.
enum class Step { progress, idle };

struct Params {
    unsigned workers = 4;
    std::uint64_t seed = 0;
};

// One worker process's view of the run.
class Worker {
public:
    Worker(unsigned index, std::uint32_t incarnation, std::uint64_t seed);

    unsigned index() const { return index_; }
    // How many times this index was respawned (0 for the first process).
    std::uint32_t incarnation() const { return incarnation_; }
    std::mt19937_64 &rng() { return rng_; }
    bool chance(unsigned percent) { return rng_() % 100 < percent; }

    // Items this worker has claimed or taken out of the structure and not yet accounted
    // for. If it is killed meanwhile, `n` is added to its index's loss allowance.
    void hold(std::uint32_t n);
    void release() { hold(0); }

    // Mark this worker as inside a critical section as `role` (nonzero), or outside (0).
    void enter(std::uint32_t role);
    void leave() { enter(0); }
    // Other workers inside as `role` now. A worker being killed is taken out (while it is
    // stopped, before SIGKILL), so a dead worker is never counted.
    unsigned others_inside(std::uint32_t role) const;

private:
    unsigned index_;
    std::uint32_t incarnation_;
    std::mt19937_64 rng_;
};

// What the supervisor knows after every worker has exited.
struct Deaths {
    std::vector<std::uint64_t> kills;      // per worker index
    std::vector<std::uint64_t> held;       // per index: items held at its deaths, summed

    template <typename Pred>
    std::uint64_t held_where(Pred role) const {
        std::uint64_t sum = 0;
        for (unsigned i = 0; i < held.size(); ++i)
            if (role(i)) sum += held[i];
        return sum;
    }
};

class Workload {
public:
    virtual ~Workload() = default;
    // Supervisor, before the first fork: create the structure and the shared areas.
    virtual void setup(const Params &params) = 0;
    // Worker, once per process before its first step (e.g. make a subscriber).
    virtual void start(Worker &) {}
    // Worker: one operation, every call in it bounded by a timeout well under the
    // watchdog's bound. Called until the run stops.
    virtual Step step(Worker &w) = 0;
    // Worker, when the run stops (not after a kill): settle what it holds.
    virtual void finish(Worker &) {}
    // Supervisor, while worker `index` is stopped just before its SIGKILL: take it out of
    // the workload's own shared bookkeeping of who holds what (as Worker::enter is).
    virtual void forget(unsigned /*index*/) {}
    // Supervisor, after every worker has exited: drain, check, report with note().
    virtual void verify(const Params &params, const Deaths &deaths) = 0;
};

struct Registration {
    const char *name;
    const char *checks;        // one line: what the workload verifies
    unsigned min_workers;
    std::unique_ptr<Workload> (*make)();
};

// Every workload linked in, sorted by name.
const std::vector<Registration> &registry();

struct Registrar {
    explicit Registrar(const Registration &r);
};

}  // namespace soak

// At the end of a workload file: SOAK_WORKLOAD(name, "checks", min_workers, Class)
#define SOAK_WORKLOAD(name, checks, min_workers, Class)                                      \
    static const ::soak::Registrar soak_registrar_##name{::soak::Registration{              \
        #name, checks, min_workers,                                                          \
        []() -> std::unique_ptr<::soak::Workload> { return std::make_unique<Class>(); }}}
