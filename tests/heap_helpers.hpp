// What the heap suites share: handles that close themselves, creation that fails the
// test with the library's sentence, the model the oracle and stress tests check
// against (std::priority_queue with the FIFO tie rule), and where the control block
// lives for the hostile-peer and crash tests.
#pragma once

#include "support/proc.hpp"

#include "core/header.hpp"
#include "heap/layout.hpp"

#include <shmds/heap.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <queue>
#include <vector>

namespace heap_test {

struct HeapCloser {
    void operator()(shmds_heap_t *h) const noexcept { shmds_heap_close(h); }
};
using HeapPtr = std::unique_ptr<shmds_heap_t, HeapCloser>;

inline HeapPtr make_heap(int type, std::uint64_t capacity, std::uint64_t max_len = 0,
                         std::uint64_t flags = 0, const shmds_options_t *opts = nullptr) {
    shmds_heap_config_t cfg = SHMDS_HEAP_CONFIG_INIT(type, capacity);
    cfg.max_len = max_len;
    cfg.flags = flags;
    shmds_heap_t *h = nullptr;
    const int rc = shmds_heap_create(opts, &cfg, &h);
    EXPECT_EQ(0, rc) << shmds_errname(rc) << ": " << shmds_last_error();
    return HeapPtr(h);
}

inline shmds_options_t path_options(const shmds::test::TempPath &p, std::uint32_t flags = 0) {
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = p.c_str();
    o.flags = flags;
    return o;
}

inline shmds_heap_stats_t stats_of(shmds_heap_t *h) {
    shmds_heap_stats_t s{};
    s.struct_size = sizeof s;
    const int rc = shmds_heap_stats(h, &s);
    EXPECT_EQ(0, rc) << shmds_last_error();
    return s;
}

// The model: (priority, push order) pairs, lowest first (highest priority first for a
// max-heap), ties in push order.
struct ModelItem {
    std::int64_t priority;
    std::uint64_t order;
    std::int64_t value;
};
struct ModelAfter {
    bool max_heap;
    // std::priority_queue pops the LARGEST under this: a leaves after b.
    bool operator()(const ModelItem &a, const ModelItem &b) const {
        if (a.priority != b.priority)
            return max_heap ? a.priority < b.priority : a.priority > b.priority;
        return a.order > b.order;
    }
};
class Model {
public:
    explicit Model(bool max_heap) : max_(max_heap), q_(ModelAfter{max_heap}) {}
    void push(std::int64_t p, std::int64_t v) { q_.push({p, next_++, v}); }
    bool empty() const { return q_.empty(); }
    std::size_t size() const { return q_.size(); }
    const ModelItem &top() const { return q_.top(); }
    ModelItem pop() {
        ModelItem it = q_.top();
        q_.pop();
        return it;
    }
    void clear() { q_ = decltype(q_)(ModelAfter{max_}); }

private:
    bool max_;
    std::uint64_t next_ = 0;
    std::priority_queue<ModelItem, std::vector<ModelItem>, ModelAfter> q_;
};

// Offsets of the control block's words in a heap segment, for tests that play a
// hostile or crashed peer.
constexpr std::uint64_t kControlOff = sizeof(shmds::core::SegmentHeader);
constexpr std::uint64_t kSizeOff = kControlOff + offsetof(shmds::heap::Control, size);
constexpr std::uint64_t kOpOff = kControlOff + offsetof(shmds::heap::Control, op);
constexpr std::uint64_t kHoleOff = kControlOff + offsetof(shmds::heap::Control, hole);
constexpr std::uint64_t kJsizeOff = kControlOff + offsetof(shmds::heap::Control, jsize);
constexpr std::uint64_t kDataOff =
    shmds::core::align_up(kControlOff + sizeof(shmds::heap::Control), 64);

}  // namespace heap_test
