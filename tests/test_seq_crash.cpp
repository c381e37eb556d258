// Crash behaviour of the deque and the stack (one engine, so one matrix over both):
// a child dies by SIGKILL at every named failpoint of every verb; the parent (another
// process) must then push and pop within 100 ms (taking the lock over when the child
// died holding it, counted exactly once), and find exactly the items it expects: none
// lost but the dead call's own, none duplicated, order kept.
#include "seq_adapter.hpp"
#include "shmds_config.h"

#include <csignal>
#include <cstdio>
#include <deque>
#include <string>
#include <vector>

using namespace shmds::test;
using seq_test::Seq;
using seq_test::Structure;

namespace {

constexpr std::int64_t kMs = 1'000'000;

enum class Op { push, push_front, push_multi, pop, pop_back, pop_multi, clear, peek, stats };

struct CrashCase {
    const char *failpoint;
    Structure structure;
    int type;
    Op op;
    bool left;        // pushes: the dead call's item is in; pops/clear: the items are still there
    bool holds_lock;  // the child died holding the lock: one takeover must be counted
};

void PrintTo(const CrashCase &c, std::ostream *os) {
    *os << c.failpoint << (c.type == SHMDS_TYPE_BYTES ? " bytes" : " int64");
}

constexpr std::uint64_t kChildKey = 100, kParentKey = 200;

bool is_push(Op op) { return op == Op::push || op == Op::push_front || op == Op::push_multi; }
bool is_pop(Op op) { return op == Op::pop || op == Op::pop_back || op == Op::pop_multi; }

int run_op(Seq &s, Op op) {
    std::uint64_t k;
    std::vector<std::uint64_t> keys;
    std::size_t n;
    Seq::Stats st;
    switch (op) {
        case Op::push: return s.push(kChildKey, SHMDS_NOWAIT, SHMDS_DEQUE_BACK);
        case Op::push_front: return s.push(kChildKey, SHMDS_NOWAIT, SHMDS_DEQUE_FRONT);
        case Op::push_multi: return s.push_multi({kChildKey, kChildKey + 1}, &n, SHMDS_NOWAIT);
        case Op::pop: return s.pop(&k, SHMDS_NOWAIT, SHMDS_DEQUE_FRONT);
        case Op::pop_back: return s.pop(&k, SHMDS_NOWAIT, SHMDS_DEQUE_BACK);
        case Op::pop_multi: return s.pop_multi(&keys, 2, SHMDS_NOWAIT, SHMDS_DEQUE_FRONT);
        case Op::clear: return s.clear();
        case Op::peek: return s.peek();
        case Op::stats: return s.stats(&st);
    }
    return -EINVAL;
}

// The items a deque holds after the dead call, front first. A stack is a deque at its
// back: its pushes and pops are the deque's push and pop_back.
std::deque<std::uint64_t> contents_after(const CrashCase &cc, std::deque<std::uint64_t> q,
                                         bool stack) {
    if (is_push(cc.op) && cc.left) {
        if (cc.op == Op::push_front && !stack)
            q.push_front(kChildKey);
        else
            q.push_back(kChildKey);  // a batch dies on its first item
    }
    if ((is_pop(cc.op) || cc.op == Op::clear) && !cc.left) {
        if (cc.op == Op::clear)
            q.clear();
        else if (cc.op == Op::pop_back || stack)
            q.pop_back();
        else
            q.pop_front();
    }
    return q;
}

class SeqCrashMatrix : public ::testing::TestWithParam<CrashCase> {};

TEST_P(SeqCrashMatrix, ChildKilledAtTheFailpointLeavesAWorkingCoherentStructure) {
    if (!SHMDS_FAILPOINTS) GTEST_SKIP() << "built without -Dfailpoints=true: no crash points";
    const CrashCase &cc = GetParam();
    const bool stack = cc.structure == Structure::stack;
    Seq s(cc.structure, cc.type, 8);
    ASSERT_EQ(0, s.create_rc()) << shmds_last_error();
    std::deque<std::uint64_t> before;
    for (std::uint64_t k = 1; k <= 4; ++k) {
        ASSERT_EQ(0, s.push(k, SHMDS_NOWAIT)) << shmds_last_error();
        before.push_back(k);
    }
    const Seq::Stats st0 = s.stats();

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
    ASSERT_EQ(0, s.push(kParentKey, 1000 * kMs)) << shmds_last_error();
    EXPECT_LE(ms_since(death), 100.0) << "push (and the lock takeover) after the death";
    std::deque<std::uint64_t> expected = contents_after(cc, before, stack);
    expected.push_back(kParentKey);

    const Seq::Stats st = s.stats();
    EXPECT_EQ(st0.recoveries + (cc.holds_lock ? 1 : 0), st.recoveries)
        << "exactly one takeover for a dead lock holder, none otherwise";
    EXPECT_EQ(expected.size(), st.size);
    EXPECT_EQ(0u, st.push_waiters);
    EXPECT_EQ(0u, st.pop_waiters);

    // Everything left, popped from the back: newest first for both structures.
    std::vector<std::uint64_t> rest;
    ASSERT_EQ(0, s.drain_all(&rest, SHMDS_DEQUE_BACK)) << shmds_last_error();
    EXPECT_EQ(std::vector<std::uint64_t>(expected.rbegin(), expected.rend()), rest)
        << "nothing duplicated, only the dead call's own item missing, order kept";
    // And a full lap works afterwards.
    for (std::uint64_t k = 300; k < 308; ++k) ASSERT_EQ(0, s.push(k, SHMDS_NOWAIT));
    EXPECT_EQ(-EAGAIN, s.push(999, SHMDS_NOWAIT));
    rest.clear();
    ASSERT_EQ(0, s.drain_all(&rest));
    EXPECT_EQ(8u, rest.size());
}

std::vector<CrashCase> cases() {
    std::vector<CrashCase> out;
    struct Row {
        const char *point;  // without the structure's prefix
        Op op;
        bool left, holds;
        bool deque_only;
    };
    const Row rows[] = {
        {"push.locked", Op::push, false, true, false},
        {"push.slot_written", Op::push, false, true, false},
        {"push.committed", Op::push, true, true, false},
        {"push.unwoken", Op::push, true, false, false},
        {"push.slot_written", Op::push_front, false, true, true},
        {"push.committed", Op::push_front, true, true, true},
        {"push.committed", Op::push_multi, true, true, false},
        {"pop.locked", Op::pop, true, true, false},
        {"pop.copied", Op::pop, true, true, false},
        {"pop.committed", Op::pop, false, true, false},
        {"pop.unwoken", Op::pop, false, false, false},
        {"pop.copied", Op::pop_back, true, true, true},
        {"pop.committed", Op::pop_back, false, true, true},
        {"pop.committed", Op::pop_multi, false, true, false},
        {"clear.locked", Op::clear, true, true, false},
        {"clear.committed", Op::clear, false, true, false},
        {"clear.unwoken", Op::clear, false, false, false},
        {"peek.locked", Op::peek, true, true, false},
        {"stats.locked", Op::stats, true, true, false},
    };
    // The names, spelled out so that check_failpoints.py finds each one armed here:
    // "deque.push.locked" "deque.push.slot_written" "deque.push.committed"
    // "deque.push.unwoken" "deque.pop.locked" "deque.pop.copied" "deque.pop.committed"
    // "deque.pop.unwoken" "deque.clear.locked" "deque.clear.committed"
    // "deque.clear.unwoken" "deque.peek.locked" "deque.stats.locked"
    // "stack.push.locked" "stack.push.slot_written" "stack.push.committed"
    // "stack.push.unwoken" "stack.pop.locked" "stack.pop.copied" "stack.pop.committed"
    // "stack.pop.unwoken" "stack.clear.locked" "stack.clear.committed"
    // "stack.clear.unwoken" "stack.peek.locked" "stack.stats.locked"
    static std::vector<std::string> names;  // keeps the c_str()s alive
    names.reserve(200);
    for (Structure st : {Structure::deque, Structure::stack})
        for (int type : {SHMDS_TYPE_INT64, SHMDS_TYPE_BYTES})
            for (const Row &r : rows) {
                if (r.deque_only && st == Structure::stack) continue;
                names.push_back(std::string(st == Structure::deque ? "deque." : "stack.") +
                                r.point);
                out.push_back({names.back().c_str(), st, type, r.op, r.left, r.holds});
            }
    return out;
}

std::string case_name(const ::testing::TestParamInfo<CrashCase> &info) {
    std::string n = info.param.failpoint;
    for (char &c : n)
        if (c == '.') c = '_';
    return n + (info.param.type == SHMDS_TYPE_BYTES ? "_bytes_" : "_int64_") +
           std::to_string(info.index);
}

INSTANTIATE_TEST_SUITE_P(Failpoints, SeqCrashMatrix, ::testing::ValuesIn(cases()), case_name);

// A holder stopped (alive) inside the lock delays the others, but a holder killed there
// is taken over within ~10 ms of its death, not the reference's 2 s.
TEST(SeqCrash, AHolderKilledMidPushIsTakenOverWithinMilliseconds) {
    if (!SHMDS_FAILPOINTS) GTEST_SKIP() << "built without -Dfailpoints=true";
    Seq s(Structure::deque, SHMDS_TYPE_INT64, 64);
    ASSERT_EQ(0, s.create_rc());
    const pid_t pid = fork_child([&] {
        arm_failpoint("deque.push.slot_written@stop");
        s.push(kChildKey, SHMDS_FOREVER);
        return 0;
    });
    ASSERT_GT(pid, 0);
    wait_until_stopped(pid, 2s);  // with the lock held
    EXPECT_EQ(-ETIMEDOUT, s.push(1, 30 * kMs)) << "a stopped holder is alive: waited for";
    kill(pid, SIGKILL);
    wait_child(pid, 5s);
    const auto death = std::chrono::steady_clock::now();
    ASSERT_EQ(0, s.push(1, SHMDS_FOREVER));
    EXPECT_LE(ms_since(death), 100.0);
    std::uint64_t k = 0;
    ASSERT_EQ(0, s.pop(&k, 0));
    EXPECT_EQ(1u, k) << "the dead push's slot was never committed";
    EXPECT_EQ(1u, s.stats().recoveries);
}

}  // namespace
