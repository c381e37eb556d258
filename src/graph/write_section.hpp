// One writer's critical section: the graph mutex (a dead holder taken over and the graph
// rebuilt, Graph::repair) and, once begin() is called, the seqlock word held odd so that
// readers retry instead of trusting what they copy. Refusals (a stale id, a full graph)
// return before begin(), so they never disturb readers.
#pragma once

#include "core/deadline.hpp"
#include "core/failpoint.hpp"
#include "graph/graph.hpp"

namespace shmds::graph {

class WriteSection {
public:
    WriteSection(Graph &g, const char *locked_failpoint) noexcept
        : g_(g),
          lock_(g.ctl_->mutex, core::Deadline::from_timeout(-1), &Graph::repair, &g,
                &g.segment_.header().recoveries) {
        if (lock_.owns()) SHMDS_FAILPOINT(locked_failpoint);
    }
    ~WriteSection() { end(); }
    WriteSection(const WriteSection &) = delete;
    WriteSection &operator=(const WriteSection &) = delete;

    // Without a deadline only a damaged lock word fails.
    bool owns() const noexcept { return lock_.owns(); }

    void begin() noexcept {
        if (open_) return;
        seq_ = g_.ctl_->seq.load(std::memory_order_relaxed) | 1;
        g_.ctl_->seq.store(seq_, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
        open_ = true;
    }
    // A list found out of bounds: rebuild every derived word (counted as a recovery)
    // before the section closes.
    void damaged() noexcept { damaged_ = true; }
    bool is_damaged() const noexcept { return damaged_; }
    void end() noexcept {
        if (!open_) return;
        if (damaged_) {
            g_.rebuild();
            g_.segment_.header().recoveries.fetch_add(1, std::memory_order_relaxed);
            damaged_ = false;
        }
        g_.ctl_->seq.store(seq_ + 1, std::memory_order_release);
        open_ = false;
    }

private:
    Graph &g_;
    core::RobustLock lock_;
    std::uint64_t seq_ = 0;
    bool open_ = false;
    bool damaged_ = false;
};

}  // namespace shmds::graph
