// Rates of processes that measure at once, shared by the key-value and cache benches:
// each process runs its operation in strides until its time is up and reports a Window
// (its operations, its start and end on the harness clock, how much other load delayed
// it); add_rate turns the windows of one repetition into one rate.
#pragma once

#include "drivers.hpp"
#include "harness.hpp"
#include "procs.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace shmds::bench {

// Operations between two clock reads; a subject's speed never depends on it.
inline constexpr int kStride = 64;

// What one measuring process reports: operations, its window and its disturbance.
struct Window {
    double ops, begin, end, disturbed;
    void into(ChildReport &r) const {
        r.values[0] = ops;
        r.values[1] = begin;
        r.values[2] = end;
        r.values[3] = disturbed;
    }
    static Window of(const ChildReport &r) {
        return {r.values[0], r.values[1], r.values[2], r.values[3]};
    }
};

// Run op() in strides until `seconds` have passed since start; wall time (a store in
// another process, like Redis, works while this one waits), with the share of it this
// process spent waiting for a CPU.
template <typename Op>
Window timed(double seconds, Op op) {
    const DelayWatch watch;
    const std::int64_t begin = now_ns(), until = begin + std::int64_t(seconds * 1e9);
    std::uint64_t ops = 0;
    std::int64_t t;
    do {
        for (int k = 0; k < kStride; ++k) op();
        ops += kStride;
    } while ((t = now_ns()) < until);
    return {double(ops), double(begin), double(t), watch.fraction()};
}

// The rate of processes that measured at once: all their operations over the span from
// the first start to the last end.
inline void add_rate(Sample &s, const std::vector<Window> &windows, const char *unit) {
    double ops = 0, begin = 0, end = 0, disturbed = 0;
    for (std::size_t k = 0; k < windows.size(); ++k) {
        const Window &w = windows[k];
        ops += w.ops;
        begin = k ? std::min(begin, w.begin) : w.begin;
        end = std::max(end, w.end);
        disturbed = k ? worse_of(disturbed, w.disturbed) : w.disturbed;
    }
    s.add("rate", ops / ((end - begin) * 1e-9), unit);
    s.disturbed(disturbed);
}
inline void add_rate(Sample &s, const std::vector<ChildReport> &reports, const char *unit) {
    std::vector<Window> windows;
    for (const ChildReport &r : reports) windows.push_back(Window::of(r));
    add_rate(s, windows, unit);
}

}  // namespace shmds::bench
