// Crash behaviour of the heap: a child dies by SIGKILL at every named failpoint of every
// verb, mid-sift included; the parent (another process) must then push and pop within
// 100 ms (taking the lock over when the child died holding it, counted exactly once),
// find the heap property intact, and drain exactly the items it expects in (priority,
// push order) order: none lost but the dead call's own, none duplicated.
#include "heap_helpers.hpp"
#include "shmds_config.h"

#include "heap/heap.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using namespace heap_test;
using namespace shmds::test;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t kMs = 1'000'000;

// push_last: an item that belongs at the end, written in place with no journal.
enum class Op { push, push_last, push_multi, pop, pop_multi, clear, peek, stats };

struct CrashCase {
    const char *failpoint;
    int type;
    Op op;
    bool left;        // pushes: the dead call's item is in; pops/clear: the items are still there
    bool holds_lock;  // the child died holding the lock: one takeover must be counted
};

void PrintTo(const CrashCase &c, std::ostream *os) {
    *os << c.failpoint << (c.type == SHMDS_TYPE_BYTES ? " bytes" : " int64");
}

struct Item {
    std::int64_t priority, id;
    int order;  // push order, for the FIFO tie rule
};

// One interface over both value types: a bytes value carries the id in 8 bytes.
struct Subject {
    int type;
    HeapPtr h;
    int push(std::int64_t p, std::int64_t id, std::int64_t timeout = SHMDS_NOWAIT) {
        if (type == SHMDS_TYPE_INT64) return shmds_heap_push_int(h.get(), p, id, timeout);
        return shmds_heap_push_bytes(h.get(), p, &id, sizeof id, timeout);
    }
    int push2(const std::int64_t (&p)[2], const std::int64_t (&id)[2]) {
        std::size_t pushed = 0;
        if (type == SHMDS_TYPE_INT64)
            return shmds_heap_push_multi_int(h.get(), p, id, 2, &pushed, SHMDS_NOWAIT);
        const void *datas[2] = {&id[0], &id[1]};
        const std::size_t lens[2] = {8, 8};
        return shmds_heap_push_multi_bytes(h.get(), p, datas, lens, 2, &pushed, SHMDS_NOWAIT);
    }
    int pop(std::int64_t *p, std::int64_t *id) {
        if (type == SHMDS_TYPE_INT64) return shmds_heap_pop_int(h.get(), p, id, SHMDS_NOWAIT);
        std::size_t len = 0;
        const int rc = shmds_heap_pop_bytes(h.get(), p, id, sizeof *id, &len, SHMDS_NOWAIT);
        return rc == 0 && len != 8 ? -1 : rc;
    }
    int pop2() {
        std::int64_t p[2], v[2];
        std::size_t got = 0, lens[2];
        if (type == SHMDS_TYPE_INT64)
            return shmds_heap_pop_multi_int(h.get(), p, v, 2, &got, SHMDS_NOWAIT);
        return shmds_heap_pop_multi_bytes(h.get(), p, v, sizeof v, lens, 2, &got, SHMDS_NOWAIT);
    }
    int peek() {
        std::int64_t p, v;
        std::size_t len;
        if (type == SHMDS_TYPE_INT64) return shmds_heap_peek_int(h.get(), &p, &v);
        return shmds_heap_peek_bytes(h.get(), &p, &v, sizeof v, &len);
    }
    bool heap_property_holds() const {
        // The C handle is the engine (capi/lifecycle.hpp): read its array directly.
        return reinterpret_cast<const shmds::heap::Heap *>(h.get())->check_heap_property() == 0;
    }
};

constexpr std::int64_t kChildId = 100, kParentId = 200;

// The heap before the child's call: priorities with ties, so that FIFO is at stake
// and a push of priority 5 sifts from the bottom to the root, a pop sifts down three
// levels.
const std::vector<Item> kBefore = {{30, 1, 0}, {10, 2, 1}, {20, 3, 2}, {30, 4, 3},
                                   {20, 5, 4}, {40, 6, 5}, {10, 7, 6}};

bool before_in_pop_order(const Item &a, const Item &b) {
    return a.priority != b.priority ? a.priority < b.priority : a.order < b.order;
}

int run_op(Subject &s, Op op) {
    shmds_heap_stats_t st{};
    st.struct_size = sizeof st;
    std::int64_t p, v;
    switch (op) {
        case Op::push: return s.push(5, kChildId);
        case Op::push_last: return s.push(50, kChildId);
        case Op::push_multi: return s.push2({5, 6}, {kChildId, kChildId + 1});
        case Op::pop: return s.pop(&p, &v);
        case Op::pop_multi: return s.pop2();
        case Op::clear: return shmds_heap_clear(s.h.get(), nullptr);
        case Op::peek: return s.peek();
        case Op::stats: return shmds_heap_stats(s.h.get(), &st);
    }
    return -EINVAL;
}

std::vector<Item> contents_after(const CrashCase &cc) {
    std::vector<Item> items = kBefore;
    std::sort(items.begin(), items.end(), before_in_pop_order);
    const bool push = cc.op == Op::push || cc.op == Op::push_last || cc.op == Op::push_multi;
    if (push && cc.left)  // a batch dies on its first
        items.push_back(Item{cc.op == Op::push_last ? 50 : 5, kChildId, 7});
    if (!push && !cc.left) {
        if (cc.op == Op::clear)
            items.clear();
        else
            items.erase(items.begin());  // a batch dies on its first
    }
    return items;
}

class HeapCrashMatrix : public ::testing::TestWithParam<CrashCase> {};

TEST_P(HeapCrashMatrix, ChildKilledAtTheFailpointLeavesAValidHeap) {
    if (!SHMDS_FAILPOINTS) GTEST_SKIP() << "built without -Dfailpoints=true: no crash points";
    const CrashCase &cc = GetParam();
    Subject s{cc.type, make_heap(cc.type, 16, cc.type == SHMDS_TYPE_BYTES ? 8 : 0)};
    for (const Item &it : kBefore) ASSERT_EQ(0, s.push(it.priority, it.id)) << shmds_last_error();
    const auto st0 = stats_of(s.h.get());

    const pid_t pid = fork_child([&] {
        arm_failpoint(cc.failpoint);
        const int rc = run_op(s, cc.op);
        std::fprintf(stderr, "child: returned %d instead of dying at %s\n", rc, cc.failpoint);
        return 3;
    });
    ASSERT_GT(pid, 0);
    const ChildExit e = wait_child(pid, 10s);
    ASSERT_TRUE(!e.timed_out && !e.exited && e.signal == SIGKILL) << e.describe();
    const auto death = std::chrono::steady_clock::now();

    // The next operation from another process proceeds within 100 ms of the death.
    ASSERT_EQ(0, s.push(20, kParentId, 1000 * kMs)) << shmds_last_error();
    EXPECT_LE(ms_since(death), 100.0) << "push (and the lock takeover + repair) after the death";
    EXPECT_TRUE(s.heap_property_holds()) << "no half-sifted heap after the repair";
    std::vector<Item> expected = contents_after(cc);
    expected.push_back({20, kParentId, 100});
    std::stable_sort(expected.begin(), expected.end(), before_in_pop_order);

    const auto st = stats_of(s.h.get());
    EXPECT_EQ(st0.recoveries + (cc.holds_lock ? 1 : 0), st.recoveries)
        << "exactly one takeover for a dead lock holder, none otherwise";
    EXPECT_EQ(expected.size(), st.size);
    EXPECT_EQ(0u, st.push_waiters);
    EXPECT_EQ(0u, st.pop_waiters);

    for (const Item &want : expected) {
        std::int64_t p = 0, id = 0;
        ASSERT_EQ(0, s.pop(&p, &id)) << shmds_last_error();
        EXPECT_EQ(want.priority, p);
        EXPECT_EQ(want.id, id) << "nothing duplicated, only the dead call's own item missing, "
                                  "ties in push order";
    }
    std::int64_t p, id;
    EXPECT_EQ(-EAGAIN, s.pop(&p, &id));
    // And a full round works afterwards.
    for (std::int64_t k = 0; k < 16; ++k) ASSERT_EQ(0, s.push(16 - k, k));
    EXPECT_EQ(-EAGAIN, s.push(0, 99));
    for (std::int64_t k = 15; k >= 0; --k) {
        ASSERT_EQ(0, s.pop(&p, &id));
        EXPECT_EQ(k, id);
    }
}

std::vector<CrashCase> cases() {
    struct Row {
        const char *point;
        Op op;
        bool left, holds;
    };
    // Every failpoint name, quoted, as check_failpoints.py wants.
    const Row rows[] = {
        {"heap.push.locked", Op::push, false, true},
        {"heap.push.written", Op::push, false, true},
        {"heap.push.committed", Op::push, true, true},
        {"heap.push.sift_step", Op::push, true, true},
        {"heap.push.written", Op::push_last, false, true},
        {"heap.push.committed", Op::push_last, true, true},
        {"heap.push.unwoken", Op::push, true, false},
        {"heap.push.sift_step", Op::push_multi, true, true},
        {"heap.push.committed", Op::push_multi, true, true},
        {"heap.pop.locked", Op::pop, true, true},
        {"heap.pop.copied", Op::pop, true, true},
        {"heap.pop.committed", Op::pop, false, true},
        {"heap.pop.sift_step", Op::pop, false, true},
        {"heap.pop.unwoken", Op::pop, false, false},
        {"heap.pop.sift_step", Op::pop_multi, false, true},
        {"heap.clear.locked", Op::clear, true, true},
        {"heap.clear.committed", Op::clear, false, true},
        {"heap.clear.unwoken", Op::clear, false, false},
        {"heap.peek.locked", Op::peek, true, true},
        {"heap.stats.locked", Op::stats, true, true},
    };
    std::vector<CrashCase> out;
    for (int type : {SHMDS_TYPE_INT64, SHMDS_TYPE_BYTES})
        for (const Row &r : rows) out.push_back({r.point, type, r.op, r.left, r.holds});
    return out;
}

std::string case_name(const ::testing::TestParamInfo<CrashCase> &info) {
    std::string n = info.param.failpoint;
    for (char &c : n)
        if (c == '.') c = '_';
    return n + (info.param.type == SHMDS_TYPE_BYTES ? "_bytes_" : "_int64_") +
           std::to_string(info.index);
}

INSTANTIATE_TEST_SUITE_P(Failpoints, HeapCrashMatrix, ::testing::ValuesIn(cases()), case_name);

// A holder stopped (alive) mid-sift delays the others; killed there, it is taken over
// within ~10 ms and the heap repaired: it pops in order afterwards.
TEST(HeapCrash, AHolderKilledMidSiftIsTakenOverAndRepaired) {
    if (!SHMDS_FAILPOINTS) GTEST_SKIP() << "built without -Dfailpoints=true";
    Subject s{SHMDS_TYPE_INT64, make_heap(SHMDS_TYPE_INT64, 256)};
    for (std::int64_t k = 0; k < 200; ++k) ASSERT_EQ(0, s.push((k * 37) % 101, k));
    const pid_t pid = fork_child([&] {
        arm_failpoint("heap.pop.sift_step@stop");
        std::int64_t p, v;
        s.pop(&p, &v);
        return 0;
    });
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(wait_until_stopped(pid, 2s));
    EXPECT_EQ(-ETIMEDOUT, s.push(1, 1000, 30 * kMs)) << "a stopped holder is alive: waited for";
    kill(pid, SIGKILL);
    wait_child(pid, 5s);
    const auto death = std::chrono::steady_clock::now();
    ASSERT_EQ(0, s.push(1, 1000, SHMDS_FOREVER));
    EXPECT_LE(ms_since(death), 100.0);
    EXPECT_TRUE(s.heap_property_holds());
    EXPECT_EQ(1u, stats_of(s.h.get()).recoveries);
    EXPECT_EQ(200u, shmds_heap_size(s.h.get())) << "the dead pop's item gone, the new one in";
    std::int64_t p, id, last = INT64_MIN;
    std::vector<int> seen(1001, 0);
    while (s.pop(&p, &id) == 0) {
        EXPECT_LE(last, p);
        last = p;
        ASSERT_LE(id, 1000);
        ++seen[id];
    }
    EXPECT_EQ(0, seen[0]) << "the dead pop took the first item (priority 0)";
    for (int k = 1; k < 200; ++k) EXPECT_EQ(1, seen[k]) << k;
    EXPECT_EQ(1, seen[1000]);
}

}  // namespace
