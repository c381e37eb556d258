// Processes and shared memory for benchmark cases: every subject lives in an anonymous
// MAP_SHARED mapping (or its own shared object) created before fork(), and every
// measurement runs in forked children pinned to CPUs, bounded by a timeout, always
// reaped. Children report numbers or a failure sentence through shared memory.
#pragma once

#include "harness.hpp"

#include <atomic>
#include <cstddef>
#include <functional>
#include <new>
#include <utility>
#include <vector>

namespace shmds::bench {

// Anonymous shared memory: what a parent maps here, its forked children share.
class SharedRegion {
public:
    explicit SharedRegion(std::size_t bytes);  // throws Failure
    ~SharedRegion();
    SharedRegion(const SharedRegion &) = delete;
    SharedRegion &operator=(const SharedRegion &) = delete;
    void *data() const noexcept { return data_; }

private:
    void *data_;
    std::size_t size_;
};

// One T constructed in its own shared region (T must not hold pointers into the
// process, since children use it at the same address but the parent may outlive them).
template <typename T>
class Shared {
public:
    template <typename... Args>
    explicit Shared(Args &&...args) : region_(sizeof(T)) {
        obj_ = new (region_.data()) T(std::forward<Args>(args)...);
    }
    ~Shared() { obj_->~T(); }
    Shared(const Shared &) = delete;
    Shared &operator=(const Shared &) = delete;
    T *operator->() const noexcept { return obj_; }
    T &operator*() const noexcept { return *obj_; }

private:
    SharedRegion region_;
    T *obj_;
};

// What a child hands back: up to kValues numbers, or why it failed or skipped.
struct ChildReport {
    static constexpr int kValues = 8;
    double values[kValues];
    char error[256];
    bool skipped;
};

struct ChildSpec {
    int cpu;  // -1 = not pinned
    std::function<void(ChildReport &)> body;  // may throw Skip or Failure
};

// Fork one child per spec, pinned to its CPU, and wait for all of them at most
// timeout_s. A child that fails, crashes or overruns (then SIGKILLed) makes this throw
// Failure (or Skip, if a child skipped); otherwise the reports, in spec order.
std::vector<ChildReport> run_children(const std::vector<ChildSpec> &specs, double timeout_s);

// A start line for the processes of one case, so none measures while another is still
// being forked. Lives in shared memory.
class StartLine {
public:
    // Wait until `parties` processes have arrived; throws Failure after 10 s (a partner
    // died before arriving).
    void arrive_and_wait(int parties);

private:
    std::atomic<int> arrived_{0};
};

// Nanoseconds the calling thread has spent runnable but waiting for a CPU, from
// /proc/thread-self/schedstat; -1 if the kernel does not tell.
std::int64_t run_delay_ns();

// The CPUs this process may run on (sched_getaffinity), in order.
std::vector<int> usable_cpus();

}  // namespace shmds::bench
