// Crash behaviour of the queue (DESIGN.md §5):
//  - the failpoint matrix: a child dies by SIGKILL at every named crash point, in every
//    verb that reaches it; the parent checks the queue is not wedged (a push and a pop
//    within 100 ms), the lock takeover (bytes: within 100 ms, recoveries up by exactly
//    one), the exact contents left behind, and coherent stats;
//  - a random-timing kill soak: a child busy with every verb is killed at random
//    moments, and the invariants are checked after each kill;
//  - sleepers: a killed sleeper's entry is repaired, and a sleeper whose waker died
//    between its change and its wake still gets the item;
//  - a stalled-but-alive producer (SIGSTOP) delays nothing that does not need it and
//    duplicates nothing.
#include "queue_traffic.hpp"
#include "shmds_config.h"

#if SHMDS_FAILPOINTS
#include "core/failpoint.hpp"
#endif

#include <shmds/queue.h>

#include <csignal>
#include <cstdio>
#include <ctime>
#include <deque>
#include <thread>
#include <vector>

using namespace shmds::test;
using namespace shmds::test::traffic;

namespace {

constexpr std::int64_t kMs = 1'000'000;

const char *variant_label(int v) {
    switch (v) {
        case SHMDS_QUEUE_INT32: return "int32";
        case SHMDS_QUEUE_INT64: return "int64";
        default: return "bytes";
    }
}

::testing::AssertionResult died_by_sigkill(const ChildExit &e) {
    if (!e.timed_out && !e.exited && e.signal == SIGKILL) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "the child should have died by SIGKILL but " << e.describe();
}

// --------------------------------------------------------------- failpoint matrix

enum class Op { push, push_front, push_multi, pop, pop_back, pop_multi, clear, peek, stats };

const char *op_name(Op op) {
    switch (op) {
        case Op::push: return "push";
        case Op::push_front: return "push_front";
        case Op::push_multi: return "push_multi";
        case Op::pop: return "pop";
        case Op::pop_back: return "pop_back";
        case Op::pop_multi: return "pop_multi";
        case Op::clear: return "clear";
        case Op::peek: return "peek";
        case Op::stats: return "stats";
    }
    return "?";
}

struct CrashCase {
    const char *failpoint;
    int variant;
    Op op;
    // What the dead call leaves: for pushes, whether its first item is in the queue;
    // for pops and clear, whether what it was taking is still there.
    bool left;
    // Bytes: the child died holding locks, so exactly one takeover per lock must be
    // counted (push_front, pop_back, clear and stats hold both ends' locks).
    bool holds_locks;
    // The dead call committed but did not live to count it in push_ok/pop_ok.
    bool count_may_lag;
};

void PrintTo(const CrashCase &c, std::ostream *os) {
    *os << c.failpoint << " in " << variant_label(c.variant) << " " << op_name(c.op);
}

constexpr std::uint64_t kPrefill = 5;                           // keys 0..4
const std::vector<std::uint64_t> kChildKeys = {100, 101, 102};  // what a child pushes
constexpr std::uint64_t kParentKey = 200;

bool is_push(Op op) { return op == Op::push || op == Op::push_front || op == Op::push_multi; }
bool is_pop(Op op) { return op == Op::pop || op == Op::pop_back || op == Op::pop_multi; }


int run_op(KeyQueue &kq, Op op) {
    std::vector<std::uint64_t> keys;
    std::size_t n = 0;
    std::uint8_t buf[Codec::kMaxMessage];
    shmds_queue_stats_t st{};
    st.struct_size = sizeof st;
    switch (op) {
        case Op::push: return kq.push(kChildKeys[0], SHMDS_NOWAIT);
        case Op::push_front: return kq.push(kChildKeys[0], SHMDS_NOWAIT, true);
        case Op::push_multi: return kq.push_multi(kChildKeys, &n, SHMDS_NOWAIT);
        case Op::pop: return kq.pop(&keys, 1, SHMDS_NOWAIT);
        case Op::pop_back: return kq.pop(&keys, 1, SHMDS_NOWAIT, true);
        case Op::pop_multi: return kq.pop(&keys, 3, SHMDS_NOWAIT);
        case Op::clear: return shmds_queue_clear(kq.q(), nullptr);
        case Op::peek: return shmds_queue_peek_bytes(kq.q(), buf, sizeof buf, &n);
        case Op::stats: return shmds_queue_stats(kq.q(), &st);
    }
    return -EINVAL;
}

// How many of the bytes queue's two locks an operation holds.
std::uint64_t locks_of(Op op) {
    switch (op) {
        case Op::push_front:
        case Op::pop_back:
        case Op::clear:
        case Op::stats: return 2;
        default: return 1;
    }
}

// The contents the dead call leaves, oldest first.
std::deque<std::uint64_t> contents_after(const CrashCase &cc,
                                         const std::deque<std::uint64_t> &before) {
    std::deque<std::uint64_t> q = before;
    if (is_push(cc.op) && cc.left) {
        if (cc.op == Op::push_front)
            q.push_front(kChildKeys[0]);
        else
            q.push_back(kChildKeys[0]);  // the call dies on its first item
    }
    if ((is_pop(cc.op) || cc.op == Op::clear) && !cc.left) {
        if (cc.op == Op::clear)
            q.clear();
        else if (cc.op == Op::pop_back)
            q.pop_back();
        else
            q.pop_front();  // pop_multi dies on its first item
    }
    return q;
}

class QueueCrashMatrix : public ::testing::TestWithParam<CrashCase> {};

TEST_P(QueueCrashMatrix, ChildKilledAtTheFailpointLeavesAWorkingCoherentQueue) {
    if (!SHMDS_FAILPOINTS) GTEST_SKIP() << "built without -Dfailpoints=true: no crash points";
    const CrashCase &cc = GetParam();
    KeyQueue kq(cc.variant, 16);
    ASSERT_EQ(0, kq.create_rc()) << shmds_last_error();
    std::deque<std::uint64_t> before;
    for (std::uint64_t k = 0; k < kPrefill; ++k) {
        ASSERT_EQ(0, kq.push(k, SHMDS_NOWAIT)) << shmds_last_error();
        before.push_back(k);
    }
    // A pop before the child's call, so that the bytes queue remembers a tail then
    // (BytesControl::tail_seen) which the child's pop_back must lower safely.
    std::uint64_t first = 99;
    ASSERT_EQ(0, kq.pop1(&first, SHMDS_NOWAIT)) << shmds_last_error();
    ASSERT_EQ(before.front(), first);
    before.pop_front();
    const shmds_queue_stats_t st0 = kq.stats();

    const pid_t pid = fork_child([&] {
        arm_failpoint(cc.failpoint);
        const int rc = run_op(kq, cc.op);
        std::fprintf(stderr, "child: %s returned %d instead of dying at %s\n", op_name(cc.op), rc,
                     cc.failpoint);
        return 3;
    });
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(died_by_sigkill(wait_child(pid, 10s)));
    const auto death = std::chrono::steady_clock::now();

    // Not wedged: the next push (which takes over a dead holder's lock) and pop complete
    // within 100 ms of the death.
    ASSERT_EQ(0, kq.push(kParentKey, 100 * kMs)) << shmds_last_error();
    const double push_ms = ms_since(death);
    EXPECT_LE(push_ms, 100.0) << "push (and any lock takeover) after the death";
    std::deque<std::uint64_t> expected = contents_after(cc, before);
    expected.push_back(kParentKey);
    const auto pop_start = std::chrono::steady_clock::now();
    std::uint64_t key = 0;
    ASSERT_EQ(0, kq.pop1(&key, 100 * kMs)) << shmds_last_error();
    EXPECT_LE(ms_since(pop_start), 100.0) << "pop after the death";
    EXPECT_EQ(expected.front(), key) << "the oldest surviving item";
    expected.pop_front();

    const shmds_queue_stats_t st = kq.stats();
    EXPECT_EQ(st0.recoveries + (cc.holds_locks ? locks_of(cc.op) : 0), st.recoveries)
        << "exactly one takeover per lock a dead holder held, none otherwise";
    EXPECT_EQ(expected.size(), st.size);
    EXPECT_EQ(0u, st.push_waiters);
    EXPECT_EQ(0u, st.pop_waiters);
    // Counters: the parent's push and pop, plus whatever the dead call committed (which
    // it may not have lived to count).
    const std::uint64_t child_pushed = is_push(cc.op) && cc.left ? 1 : 0;
    const std::uint64_t child_popped = is_pop(cc.op) && !cc.left ? 1 : 0;
    const std::uint64_t lag = cc.count_may_lag ? 1 : 0;
    EXPECT_LE(st.push_ok, kPrefill + child_pushed + 1);
    EXPECT_GE(st.push_ok + lag, kPrefill + child_pushed + 1);
    EXPECT_LE(st.pop_ok, st0.pop_ok + child_popped + 1);
    EXPECT_GE(st.pop_ok + lag, st0.pop_ok + child_popped + 1);

    std::vector<std::uint64_t> rest;
    ASSERT_EQ(0, kq.drain_all(&rest)) << shmds_last_error();
    EXPECT_EQ(std::vector<std::uint64_t>(expected.begin(), expected.end()), rest)
        << "nothing duplicated, only the dead call's own item missing, order kept";
    const shmds_queue_stats_t end = kq.stats();
    EXPECT_EQ(0u, end.size);
    EXPECT_EQ(0u, end.arena_used);

    // And it works normally afterwards: a full lap of the ring, in order.
    for (std::uint64_t k = 300; k < 316; ++k) ASSERT_EQ(0, kq.push(k, SHMDS_NOWAIT));
    EXPECT_EQ(-EAGAIN, kq.push(999, SHMDS_NOWAIT));
    for (std::uint64_t k = 300; k < 316; ++k) {
        ASSERT_EQ(0, kq.pop1(&key, SHMDS_NOWAIT));
        EXPECT_EQ(k, key);
    }
}

std::vector<CrashCase> crash_cases() {
    std::vector<CrashCase> v;
    for (int var : {SHMDS_QUEUE_INT64, SHMDS_QUEUE_INT32}) {
        // The slot CAS is the whole operation: a published item stays, a taken one is
        // the dead consumer's in-flight item; there is no lock to take over.
        for (Op op : {Op::push, Op::push_multi})
            v.push_back({"queue.int.push.published", var, op, true, false, false});
        for (Op op : {Op::pop, Op::pop_multi})
            v.push_back({"queue.int.pop.taken", var, op, false, false, false});
    }
    const int b = SHMDS_QUEUE_BYTES;
    for (Op op : {Op::push, Op::push_front, Op::push_multi}) {
        v.push_back({"queue.bytes.push.locked", b, op, false, true, false});
        v.push_back({"queue.bytes.push.copied", b, op, false, true, false});
        v.push_back({"queue.bytes.push.described", b, op, false, true, false});
        v.push_back({"queue.bytes.push.committed", b, op, true, true, true});
    }
    for (Op op : {Op::pop, Op::pop_back, Op::pop_multi}) {
        v.push_back({"queue.bytes.pop.locked", b, op, true, true, false});
        v.push_back({"queue.bytes.pop.copied", b, op, true, true, false});
        if (op == Op::pop_back)  // tail_seen lowered, tail not yet
            v.push_back({"queue.bytes.pop.seen_lowered", b, op, true, true, false});
        v.push_back({"queue.bytes.pop.committed", b, op, false, true, true});
    }
    // Between the unlock and the version bump and wake: the call committed and released
    // the lock, but no waiter was told. Nothing to take over, and the queue must serve
    // the next calls from head and tail alone. (Single-item calls: a batch has committed
    // all its items by then.)
    for (Op op : {Op::push, Op::push_front})
        v.push_back({"queue.bytes.push.unwoken", b, op, true, false, false});
    for (Op op : {Op::pop, Op::pop_back})
        v.push_back({"queue.bytes.pop.unwoken", b, op, false, false, false});
    v.push_back({"queue.bytes.clear.locked", b, Op::clear, true, true, false});
    v.push_back({"queue.bytes.clear.committed", b, Op::clear, false, true, false});
    v.push_back({"queue.bytes.peek.locked", b, Op::peek, true, true, false});
    v.push_back({"queue.bytes.stats.locked", b, Op::stats, true, true, false});
    return v;
}

INSTANTIATE_TEST_SUITE_P(Failpoints, QueueCrashMatrix, ::testing::ValuesIn(crash_cases()),
                         [](const ::testing::TestParamInfo<CrashCase> &i) {
                             std::string s = std::string(i.param.failpoint) + "_" +
                                             variant_label(i.param.variant) + "_" +
                                             op_name(i.param.op);
                             for (auto &ch : s)
                                 if (ch == '.') ch = '_';
                             return s;
                         });

// A push_front killed right after its commit must still void what every producer
// remembers of the front: with the arena nearly full, a push_back going on from an
// older look would place its message over the dead call's. Here the arena has room for
// four 1000-byte messages: three at the back and the child's at the front fill it, so
// the parent's next push must find it full, and every message must come out intact.
TEST(QueueCrash, APushFrontKilledAfterItsCommitStillVoidsRememberedLooks) {
    if (!SHMDS_FAILPOINTS) GTEST_SKIP() << "built without -Dfailpoints=true: no crash points";
    shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(SHMDS_QUEUE_BYTES, 16);
    cfg.arena_bytes = 4096;
    shmds_queue_t *q = nullptr;
    ASSERT_EQ(0, shmds_queue_create(nullptr, &cfg, &q)) << shmds_last_error();
    const auto message = [](char c) { return std::string(1000, c); };
    for (char c : {'a', 'b', 'c'})  // the first push looks at the front, the next remember
        ASSERT_EQ(0, shmds_queue_push_bytes(q, message(c).data(), 1000, SHMDS_NOWAIT));

    const pid_t pid = fork_child([&] {
        arm_failpoint("queue.bytes.push.committed");
        const std::string f = message('f');
        shmds_queue_push_front_bytes(q, f.data(), f.size(), SHMDS_NOWAIT);
        return 3;
    });
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(died_by_sigkill(wait_child(pid, 10s)));

    const std::string d = message('d');
    EXPECT_EQ(-EAGAIN, shmds_queue_push_bytes(q, d.data(), d.size(), SHMDS_NOWAIT))
        << "4000 of 4096 arena bytes are in use";
    for (char c : {'f', 'a', 'b', 'c'}) {
        char buf[1024];
        std::size_t len = 0;
        ASSERT_EQ(0, shmds_queue_pop_bytes(q, buf, sizeof buf, &len, SHMDS_NOWAIT));
        EXPECT_EQ(message(c), std::string(buf, len));
    }
    shmds_queue_close(q);
}

// ------------------------------------------------------------ random-timing kills

// What a busy child has done, kept where its killer can read it. Keys are pushed in
// order, so one counter says which went in; the in-flight fields bound what the call
// cut short may have done.
constexpr std::uint64_t kSoakKeys = 1 << 20;  // far more than a child pushes before its kill

struct SoakLog {
    std::atomic<std::uint64_t> started;
    std::atomic<std::uint64_t> pushed;         // keys [0, pushed) went in
    std::atomic<std::uint64_t> push_inflight;  // keys [pushed, pushed + this) may be in
    std::atomic<std::uint64_t> pop_inflight;   // this many may be popped and unrecorded
    std::atomic<std::uint64_t> popped_n;
    std::uint64_t popped[kSoakKeys];  // keys the child popped and recorded, in order

    void reset() {
        for (auto *a : {&started, &pushed, &push_inflight, &pop_inflight, &popped_n}) a->store(0);
    }
};

int busy_child(KeyQueue &kq, SoakLog &log, std::uint32_t round, std::uint64_t seed) {
    auto rng = role_rng(seed, 1000 + round);
    std::vector<std::uint64_t> keys, got;
    for (std::uint64_t ops = 0;; ++ops) {
        if (ops == 64) log.started.store(1);
        const unsigned op = unsigned(rng() % 10);
        const std::uint64_t base = log.pushed.load(std::memory_order_relaxed);
        if (op < 5) {
            const std::uint64_t n = op == 4 ? 1 + rng() % 8 : 1;
            if (base + n > kSoakKeys) return 0;  // never reached: the parent kills first
            keys.clear();
            for (std::uint64_t i = 0; i < n; ++i)
                keys.push_back(item_key(round % 8, std::uint32_t(base + i)));
            log.push_inflight.store(n);
            std::size_t pushed = 0;
            const int rc = n == 1 ? kq.push(keys[0], SHMDS_NOWAIT)
                                  : kq.push_multi(keys, &pushed, SHMDS_NOWAIT);
            if (n == 1) pushed = rc == 0;
            if (rc && rc != -EAGAIN) return report("busy child", round, "push", rc);
            log.pushed.store(base + pushed);
            log.push_inflight.store(0);
        } else {
            const std::size_t max = op < 8 ? 1 : 1 + rng() % 8;
            log.pop_inflight.store(max);
            const int rc = kq.pop(&got, max, SHMDS_NOWAIT);
            if (rc && rc != -EAGAIN) return report("busy child", round, "pop", rc);
            std::uint64_t n = log.popped_n.load(std::memory_order_relaxed);
            for (auto k : got) log.popped[n++] = k;
            log.popped_n.store(n);
            log.pop_inflight.store(0);
        }
    }
}

class QueueKillSoak : public ::testing::TestWithParam<int> {};

TEST_P(QueueKillSoak, RandomTimingKillsNeverWedgeDuplicateOrReorder) {
    const int variant = GetParam();
    const std::uint64_t seed = test_seed();
    auto rng = role_rng(seed, 999 + std::uint64_t(variant));
    KeyQueue kq(variant, 32);
    ASSERT_EQ(0, kq.create_rc()) << shmds_last_error();
    void *mem =
        mmap(nullptr, sizeof(SoakLog), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(MAP_FAILED, mem);
    constexpr std::uint32_t kRounds = 20;
    std::uint64_t takeovers = 0, lost_in_flight = 0;
    const auto start = std::chrono::steady_clock::now();
    // About 2 s for the three variants together, and a few rounds even on a slow day.
    for (std::uint32_t round = 0; round < kRounds && (round < 3 || ms_since(start) < 700);
         ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        SoakLog &log = *new (mem) SoakLog;  // the key array needs no clearing
        log.reset();
        const std::uint64_t rec0 = kq.stats().recoveries;
        const pid_t pid = fork_child([&] { return busy_child(kq, log, round, seed); });
        ASSERT_GT(pid, 0);
        ASSERT_TRUE(eventually([&] { return log.started.load() != 0; }, 5s));
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 4000));
        kill(pid, SIGKILL);
        ASSERT_TRUE(died_by_sigkill(wait_child(pid, 10s)));
        const auto death = std::chrono::steady_clock::now();

        // Not wedged: everything left comes out (the first pop takes over a dead lock
        // holder), then a push and a pop, all within 100 ms of the death.
        std::vector<std::uint64_t> rest;
        ASSERT_EQ(0, kq.drain_all(&rest)) << shmds_last_error();
        const std::uint64_t marker = item_key(round % 8, 0xfffff);
        ASSERT_EQ(0, kq.push(marker, 100 * kMs)) << shmds_last_error();
        std::uint64_t key = 0;
        ASSERT_EQ(0, kq.pop1(&key, 100 * kMs)) << shmds_last_error();
        EXPECT_EQ(marker, key);
        EXPECT_LE(ms_since(death), 100.0) << "drain, push and pop after the death";

        // What the child recorded, then what was left: strictly increasing keys (FIFO,
        // no duplicates), none beyond what may have been pushed, and only the
        // interrupted pop's items missing.
        const std::uint64_t pushed = log.pushed.load(), maybe = log.push_inflight.load();
        std::vector<std::uint64_t> seen(log.popped, log.popped + log.popped_n.load());
        seen.insert(seen.end(), rest.begin(), rest.end());
        std::uint64_t below_pushed = 0;
        for (std::size_t i = 0; i < seen.size(); ++i) {
            ASSERT_EQ(round % 8, key_producer(seen[i]));
            const std::uint64_t s = key_seq(seen[i]);
            if (i) {
                ASSERT_LT(key_seq(seen[i - 1]), s) << "duplicated or reordered at " << i;
            }
            ASSERT_LT(s, pushed + maybe) << "an item that was never pushed";
            below_pushed += s < pushed;
        }
        const std::uint64_t missing = pushed - below_pushed;
        EXPECT_LE(missing, log.pop_inflight.load()) << "items lost beyond the interrupted pop";
        lost_in_flight += missing;

        const shmds_queue_stats_t st = kq.stats();
        EXPECT_LE(st.recoveries - rec0, 1u) << "one dead process, at most one takeover";
        takeovers += st.recoveries - rec0;
        EXPECT_EQ(0u, st.size);
        EXPECT_EQ(0u, st.arena_used);
        EXPECT_EQ(0u, st.push_waiters + st.pop_waiters);
        if (HasFailure()) break;
    }
    munmap(mem, sizeof(SoakLog));
    std::fprintf(stderr, "[soak] %s: %llu lock takeovers, %llu items lost in flight\n",
                 variant_label(variant), (unsigned long long)takeovers,
                 (unsigned long long)lost_in_flight);
}

INSTANTIATE_TEST_SUITE_P(Variants, QueueKillSoak,
                         ::testing::Values(SHMDS_QUEUE_INT64, SHMDS_QUEUE_INT32, SHMDS_QUEUE_BYTES),
                         [](const ::testing::TestParamInfo<int> &i) {
                             return std::string(variant_label(i.param));
                         });

// ------------------------------------------------------------------- sleepers

class QueueDeadSleeper : public ::testing::TestWithParam<std::tuple<int, bool>> {};

// A process killed while asleep in pop (or push) leaves its entry in the wait registry;
// wakers repair it after finding nobody to wake, and count the repair.
TEST_P(QueueDeadSleeper, EntryOfASleeperKilledWhileBlockedIsRepaired) {
    const auto [variant, blocked_in_pop] = GetParam();
    KeyQueue kq(variant, 4);
    ASSERT_EQ(0, kq.create_rc()) << shmds_last_error();
    if (!blocked_in_pop) {
        for (std::uint64_t k = 0; k < 4; ++k) ASSERT_EQ(0, kq.push(k, SHMDS_NOWAIT));
    }
    auto sleepers = [&] {
        const shmds_queue_stats_t st = kq.stats();
        return blocked_in_pop ? st.pop_waiters : st.push_waiters;
    };
    // A sleeper leaves its sleep briefly every recheck interval; a kill that lands there
    // leaves no entry to repair, so try again until one lands in the sleep.
    bool died_asleep = false;
    for (int attempt = 0; attempt < 5 && !died_asleep; ++attempt) {
        const pid_t pid = fork_child([&] {
            std::uint64_t key;
            const int rc =
                blocked_in_pop ? kq.pop1(&key, SHMDS_FOREVER) : kq.push(50, SHMDS_FOREVER);
            std::fprintf(stderr, "child: a blocked call returned %d on an idle queue\n", rc);
            return 3;
        });
        ASSERT_GT(pid, 0);
        ASSERT_TRUE(eventually([&] { return sleepers() == 1; }, 5s)) << "the child never slept";
        kill(pid, SIGKILL);
        ASSERT_TRUE(died_by_sigkill(wait_child(pid, 10s)));
        died_asleep = sleepers() == 1;
    }
    ASSERT_TRUE(died_asleep) << "the dead sleeper's entry should still be announced";
    const std::uint64_t rec0 = kq.stats().recoveries;

    // Traffic on the side it slept on: every call works while the entry is there, and
    // the entry is gone after a bounded number of wakes that found nobody.
    int ops = 0;
    for (; ops < 512 && sleepers() != 0; ++ops) {
        std::uint64_t key;
        if (blocked_in_pop) {
            ASSERT_EQ(0, kq.push(1000 + ops, SHMDS_NOWAIT)) << shmds_last_error();
            ASSERT_EQ(0, kq.pop1(&key, SHMDS_NOWAIT)) << shmds_last_error();
        } else {
            ASSERT_EQ(0, kq.pop1(&key, SHMDS_NOWAIT)) << shmds_last_error();
            ASSERT_EQ(0, kq.push(1000 + ops, SHMDS_NOWAIT)) << shmds_last_error();
        }
    }
    EXPECT_EQ(0u, sleepers()) << "after " << ops << " wakes";
    EXPECT_EQ(rec0 + 1, kq.stats().recoveries);
}

// The waker's item or room is in place, but it dies before its wake: a sleeper must
// still notice within the bounded time of DESIGN.md §5 (2 s), not sleep for ever.
TEST_P(QueueDeadSleeper, SleeperStillWakesWhenItsWakerDiesBeforeWaking) {
    if (!SHMDS_FAILPOINTS) GTEST_SKIP() << "built without -Dfailpoints=true: no crash points";
    const auto [variant, blocked_in_pop] = GetParam();
    const bool bytes = variant == SHMDS_QUEUE_BYTES;
    KeyQueue kq(variant, 4);
    ASSERT_EQ(0, kq.create_rc()) << shmds_last_error();
    if (!blocked_in_pop) {
        for (std::uint64_t k = 0; k < 4; ++k) ASSERT_EQ(0, kq.push(k, SHMDS_NOWAIT));
    }
    const pid_t sleeper = fork_child([&] {
        std::uint64_t key = 0;
        if (blocked_in_pop) {
            CHILD_CHECK(kq.pop1(&key, SHMDS_FOREVER) == 0);
            CHILD_CHECK(key == 77);
        } else {
            CHILD_CHECK(kq.push(77, SHMDS_FOREVER) == 0);
        }
        return 0;
    });
    ASSERT_GT(sleeper, 0);
    ASSERT_TRUE(eventually(
        [&] {
            const shmds_queue_stats_t st = kq.stats();
            return (blocked_in_pop ? st.pop_waiters : st.push_waiters) == 1;
        },
        5s));
    const char *point = blocked_in_pop
                            ? (bytes ? "queue.bytes.push.committed" : "queue.int.push.published")
                            : (bytes ? "queue.bytes.pop.committed" : "queue.int.pop.taken");
    const pid_t waker = fork_child([&] {
        arm_failpoint(point);
        std::uint64_t key;
        const int rc = blocked_in_pop ? kq.push(77, SHMDS_NOWAIT) : kq.pop1(&key, SHMDS_NOWAIT);
        std::fprintf(stderr, "child: returned %d instead of dying at %s\n", rc, point);
        return 3;
    });
    ASSERT_GT(waker, 0);
    ASSERT_TRUE(died_by_sigkill(wait_child(waker, 10s)));
    const auto death = std::chrono::steady_clock::now();
    const ChildExit e = wait_child(sleeper, 2000ms);  // the bound of DESIGN.md §5
    EXPECT_TRUE(e.exited && e.code == 0)
        << "the sleeper " << e.describe() << " after " << ms_since(death) << " ms";
}

INSTANTIATE_TEST_SUITE_P(Variants, QueueDeadSleeper,
                         ::testing::Combine(::testing::Values(SHMDS_QUEUE_INT64, SHMDS_QUEUE_BYTES),
                                            ::testing::Bool()),
                         [](const ::testing::TestParamInfo<std::tuple<int, bool>> &i) {
                             return std::string(variant_label(std::get<0>(i.param))) +
                                    (std::get<1>(i.param) ? "_in_pop" : "_in_push");
                         });

// ----------------------------------------------------------- stalled producer

class QueueStalledProducer : public ::testing::TestWithParam<int> {};

// DESIGN.md §5: "a stalled-but-alive producer ... notices and retries; nothing is
// duplicated". Producer 0 is stopped and resumed at random points while the others
// run; everything must still arrive exactly once, in order. A stopped process is
// alive, so nothing is taken over from it. The integer queue is lock-free, so the
// others must make progress while it is stopped.
TEST_P(QueueStalledProducer, StoppedAndResumedProducerDuplicatesNothing) {
    const int variant = GetParam();
    SKIP_IF_NOT_ATOMIC_ACROSS_PROCESSES(variant);
    const std::uint64_t seed = test_seed();
    auto rng = role_rng(seed, 4242);
    const Codec codec(variant);
    constexpr std::uint32_t kProducers = 3, kConsumers = 2;
    KeyQueue kq(variant, 64);
    ASSERT_EQ(0, kq.create_rc()) << shmds_last_error();
    Board board(kProducers, kConsumers, 30000);
    ASSERT_TRUE(board.ok());
    std::vector<pid_t> pids;
    for (std::uint32_t p = 0; p < kProducers; ++p)
        pids.push_back(fork_child([&, p] { return produce(kq.q(), codec, p, seed, board); }));
    for (std::uint32_t c = 0; c < kConsumers; ++c)
        pids.push_back(fork_child([&, c] { return consume(kq.q(), codec, c, seed, board); }));
    for (pid_t p : pids) ASSERT_GT(p, 0);

    auto others = [&] {
        std::uint64_t n = 0;
        for (std::uint32_t p = 1; p < kProducers; ++p) n += board.h().produced[p].load();
        return n;
    };
    int stops = 0;
    for (int cycle = 0; cycle < 4; ++cycle) {
        const std::uint64_t mark = 1000 + std::uint64_t(cycle) * 3000 + rng() % 1000;
        if (!eventually([&] { return board.h().produced[0].load() >= mark; }, 10s)) break;
        kill(pids[0], SIGSTOP);
        ++stops;
        const std::uint64_t before = others();
        const std::uint64_t all_others = (kProducers - 1) * board.h().per_producer;
        const bool progressed =
            eventually([&] { return others() >= std::min(before + 500, all_others); }, 2s);
        if (variant != SHMDS_QUEUE_BYTES) {
            EXPECT_TRUE(progressed) << "the other producers stalled behind a stopped one";
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 20));
        kill(pids[0], SIGCONT);
    }
    EXPECT_GE(stops, 1) << "producer 0 finished before it could be stopped";
    for (std::size_t i = 0; i < pids.size(); ++i) {
        const ChildExit e = wait_child(pids[i], 60s);
        EXPECT_TRUE(e.exited && e.code == 0) << "child " << i << " " << e.describe();
    }
    EXPECT_TRUE(delivered_exactly_once(board));
    for (std::uint32_t p = 0; p < kProducers; ++p)
        EXPECT_EQ(board.h().per_producer, board.h().produced[p].load());
    const shmds_queue_stats_t st = kq.stats();
    EXPECT_EQ(0u, st.recoveries) << "a stopped process is alive: nothing to take over";
    EXPECT_EQ(board.total(), st.push_ok);
    EXPECT_EQ(board.total(), st.pop_ok);
}

INSTANTIATE_TEST_SUITE_P(Variants, QueueStalledProducer,
                         ::testing::Values(SHMDS_QUEUE_INT64, SHMDS_QUEUE_INT32, SHMDS_QUEUE_BYTES),
                         [](const ::testing::TestParamInfo<int> &i) {
                             return std::string(variant_label(i.param));
                         });

}  // namespace
