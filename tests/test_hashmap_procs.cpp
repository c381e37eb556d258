// The hash map across processes and crashes:
//  - counters and CAS across processes: N processes x M increments add exactly N*M;
//    of N racing add / cas / get_or_set callers exactly one wins, every round;
//  - the crash matrix: a writer SIGKILLed at every failpoint leaves the map holding
//    exactly the state before (or, past the commit point, after) its call; the next
//    reader (of the very key being changed) and writer are served within 100 ms, the
//    takeover is counted once, and no arena block is leaked or shared;
//  - the same for the eviction and TTL steps: the SIEVE list, hand and marks survive a
//    writer killed mid-eviction, mid-pop, mid-expiry or mid-flush (the pop order after
//    the repair is exactly the one the surviving state implies).
#include "hashmap_aging_model.hpp"
#include "hashmap_helpers.hpp"
#include "shmds_config.h"

#if SHMDS_FAILPOINTS
#include "core/failpoint.hpp"
#endif

#include <csignal>
#include <cstdio>
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace shmds::test;
using namespace shmds::test::hm;

namespace {

constexpr int kProcs = 4;
constexpr std::int64_t kGoKey = -1;

::testing::AssertionResult died_by_sigkill(const ChildExit &e) {
    if (!e.timed_out && !e.exited && e.signal == SIGKILL) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "the child should have died by SIGKILL but "
                                         << e.describe();
}

// Children wait for the parent's go key, so they really race.
void wait_for_go(shmds_hashmap_t *m) {
    std::int64_t v;
    while (shmds_hashmap_get_ii(m, kGoKey, &v) == -ENOENT) sched_yield();
}

void run_racers(shmds_hashmap_t *m, const std::function<int(int)> &body) {
    std::vector<pid_t> pids;
    for (int id = 0; id < kProcs; ++id)
        pids.push_back(fork_child([&, id] {
            wait_for_go(m);
            return body(id);
        }));
    ASSERT_EQ(0, shmds_hashmap_put_ii(m, kGoKey, 1));
    for (pid_t p : pids) {
        const ChildExit e = wait_child(p, 60s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
}

TEST(HashMapProcs, IncrementsFromManyProcessesAddUpExactly) {
    MapPtr m = make_map(SHMDS_TYPE_INT64, SHMDS_TYPE_INT64, 1000, 2);
    constexpr int kIncrements = 4000;
    run_racers(m.get(), [&](int) {
        std::int64_t v;
        for (int i = 0; i < kIncrements; ++i) {
            CHILD_CHECK(shmds_hashmap_incr_i(m.get(), 1, &v) == 0);
            CHILD_CHECK(shmds_hashmap_incr_by_i(m.get(), 2 + i % 8, 2, &v) == 0);
        }
        return 0;
    });
    EXPECT_EQ(kProcs * kIncrements, get_ii(m.get(), 1));
    std::int64_t total = 0;
    for (int k = 2; k < 10; ++k) total += get_ii(m.get(), k).value_or(0);
    EXPECT_EQ(2 * kProcs * kIncrements, total);
}

TEST(HashMapProcs, ExactlyOneAddCasAndGetOrSetWinnerPerRound) {
    MapPtr m = make_map(SHMDS_TYPE_INT64, SHMDS_TYPE_INT64, 2000);
    constexpr int kRounds = 100;
    constexpr std::int64_t kAdd = 0, kCas = 1000, kGetOrSet = 2000, kWins = 3000;
    for (int r = 0; r < kRounds; ++r) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), kCas + r, -1));
    run_racers(m.get(), [&](int id) {
        std::int64_t v;
        for (int r = 0; r < kRounds; ++r) {
            // Each win is counted in the map itself: key kWins + 3r + verb.
            const int add = shmds_hashmap_add_ii(m.get(), kAdd + r, id);
            CHILD_CHECK(add == 0 || add == -EEXIST);
            if (add == 0) CHILD_CHECK(shmds_hashmap_incr_i(m.get(), kWins + 3 * r, &v) == 0);
            const int cas = shmds_hashmap_cas_ii(m.get(), kCas + r, -1, id);
            CHILD_CHECK(cas == 0 || cas == -ECANCELED);
            if (cas == 0) CHILD_CHECK(shmds_hashmap_incr_i(m.get(), kWins + 3 * r + 1, &v) == 0);
            const int gos = shmds_hashmap_get_or_set_ii(m.get(), kGetOrSet + r, id, &v);
            CHILD_CHECK(gos == 0 || gos == 1);
            if (gos == 0) CHILD_CHECK(shmds_hashmap_incr_i(m.get(), kWins + 3 * r + 2, &v) == 0);
        }
        return 0;
    });
    for (int r = 0; r < kRounds; ++r) {
        for (int verb = 0; verb < 3; ++verb)
            EXPECT_EQ(1, get_ii(m.get(), kWins + 3 * r + verb)) << "round " << r << " verb " << verb;
        EXPECT_LT(*get_ii(m.get(), kAdd + r), kProcs);
        EXPECT_LT(*get_ii(m.get(), kCas + r), kProcs);
        EXPECT_GE(*get_ii(m.get(), kCas + r), 0);
    }
}

TEST(HashMapProcs, ExactlyOneCasTakeWinnerPerRound) {
    MapPtr m = make_map(SHMDS_TYPE_INT64, SHMDS_TYPE_INT64, 1000);
    constexpr int kRounds = 100;
    constexpr std::int64_t kWins = 500;
    for (int r = 0; r < kRounds; ++r) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), r, 7));
    run_racers(m.get(), [&](int) {
        std::int64_t v;
        for (int r = 0; r < kRounds; ++r) {
            const int rc = shmds_hashmap_cas_take_ii(m.get(), r, 7);
            CHILD_CHECK(rc == 0 || rc == -ENOENT);
            if (rc == 0) CHILD_CHECK(shmds_hashmap_incr_i(m.get(), kWins + r, &v) == 0);
        }
        return 0;
    });
    for (int r = 0; r < kRounds; ++r) {
        EXPECT_EQ(1, get_ii(m.get(), kWins + r)) << "round " << r;
        EXPECT_EQ(std::nullopt, get_ii(m.get(), r));
    }
}

TEST(HashMapProcs, MaxAndMinFromManyProcessesEndAtTheTrueExtremes) {
    MapPtr m = make_map(SHMDS_TYPE_INT64, SHMDS_TYPE_INT32, 100, 2);
    constexpr int kKeys = 8, kCalls = 3000;
    // Each process's numbers for key k: a fixed pseudo-random sequence, so the parent
    // knows the true extremes.
    auto value = [](int id, int i, int k) {
        std::uint64_t x = std::uint64_t(id * 1000003 + i * 7919 + k * 104729) * 0x9e3779b97f4a7c15ull;
        return std::int64_t(x >> 40) - (std::int64_t(1) << 23);
    };
    run_racers(m.get(), [&](int id) {
        std::int64_t out;
        for (int i = 0; i < kCalls; ++i) {
            const int k = i % kKeys;
            CHILD_CHECK(shmds_hashmap_max_i(m.get(), k, value(id, i, k), &out) >= 0);
            CHILD_CHECK(out >= value(id, i, k));
            CHILD_CHECK(shmds_hashmap_min_i(m.get(), 100 + k, value(id, i, k), &out) >= 0);
            CHILD_CHECK(out <= value(id, i, k));
        }
        return 0;
    });
    for (int k = 0; k < kKeys; ++k) {
        std::int64_t hi = INT64_MIN, lo = INT64_MAX;
        for (int id = 0; id < kProcs; ++id)
            for (int i = k; i < kCalls; i += kKeys) {
                hi = std::max(hi, value(id, i, k));
                lo = std::min(lo, value(id, i, k));
            }
        EXPECT_EQ(hi, get_ii(m.get(), k));
        EXPECT_EQ(lo, get_ii(m.get(), 100 + k));
    }
}

TEST(HashMapProcs, FreezeStopsEveryWriterAndNothingChangesAfterIt) {
    MapPtr m = make_map(SHMDS_TYPE_INT64, SHMDS_TYPE_INT64, 100000, 4);
    std::vector<pid_t> pids;
    for (int id = 0; id < kProcs; ++id)
        pids.push_back(fork_child([&, id] {
            std::int64_t v;
            for (std::int64_t i = 0;; ++i) {
                int rc = shmds_hashmap_incr_i(m.get(), id, &v);
                if (rc == 0) rc = shmds_hashmap_put_ii(m.get(), 1000 + id * 20000 + i % 20000, i);
                if (rc == -EROFS) return 0;
                CHILD_CHECK(rc == 0);
            }
        }));
    // Every writer has written before the freeze, however the machine schedules them.
    ASSERT_TRUE(wait_until(
        [&] {
            for (int id = 0; id < kProcs; ++id)
                if (get_ii(m.get(), id).value_or(0) == 0) return false;
            return true;
        },
        10s));
    ASSERT_EQ(0, shmds_hashmap_freeze(m.get()));
    // Nothing is in flight any more: what the map holds now is final.
    const std::uint64_t size = stats(m.get()).size;
    std::int64_t counts[kProcs];
    for (int id = 0; id < kProcs; ++id) counts[id] = get_ii(m.get(), id).value_or(0);
    for (pid_t p : pids) {
        const ChildExit e = wait_child(p, 30s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    EXPECT_EQ(size, stats(m.get()).size);
    for (int id = 0; id < kProcs; ++id) {
        EXPECT_EQ(counts[id], get_ii(m.get(), id).value_or(0));
        EXPECT_GT(counts[id], 0) << "the writers ran before the freeze";
    }
}

// ------------------------------------------------------------------ crash matrix

enum class Op { put_new, put_existing, remove, cas_take, clear, put_batch };

struct CrashCase {
    const char *failpoint;
    Op op;
    bool committed;  // the child died past its commit point: the change stands
    std::int64_t arena_delta = 0;  // what the committed change did to arena_used
};

void PrintTo(const CrashCase &c, std::ostream *os) { *os << c.failpoint; }

const std::string kLong(40, 'L');      // values in the arena (64-byte blocks)
const std::string kChanged(40, 'C');


// The kill harness of every crash test here: a child arms `failpoint` and makes one
// call, which must die there by SIGKILL; *death = when the parent saw it dead.
::testing::AssertionResult killed_at(const char *failpoint, const std::function<int()> &call,
                                     std::chrono::steady_clock::time_point *death) {
    const pid_t pid = fork_child([&] {
        arm_failpoint(failpoint);
        const int rc = call();
        std::fprintf(stderr, "child: the call returned %d instead of dying at %s\n", rc,
                     failpoint);
        return 3;
    });
    if (pid <= 0) return ::testing::AssertionFailure() << "fork failed";
    const ::testing::AssertionResult died = died_by_sigkill(wait_child(pid, 10s));
    *death = std::chrono::steady_clock::now();
    return died;
}

// After a death, the next reader (read) and the next writer (write) are each served
// within 100 ms (design §4): the first of them takes over and repairs.
void expect_served_promptly(std::chrono::steady_clock::time_point death,
                            const std::function<void()> &read, const std::function<void()> &write) {
    read();
    EXPECT_LE(ms_since(death), 100.0) << "read after the death";
    const auto write_start = std::chrono::steady_clock::now();
    write();
    EXPECT_LE(ms_since(write_start), 100.0) << "write after the death";
}

std::string key(int i) { return "key-with-a-long-name-" + std::to_string(i); }  // > 16 bytes

class HashMapCrashMatrix : public ::testing::TestWithParam<CrashCase> {};

TEST_P(HashMapCrashMatrix, WriterKilledAtTheFailpointLeavesTheMapWhole) {
    if (!SHMDS_FAILPOINTS) GTEST_SKIP() << "built without -Dfailpoints=true: no crash points";
    const CrashCase &cc = GetParam();
    MapPtr m = make_map(SHMDS_TYPE_BYTES, SHMDS_TYPE_BYTES, 64, 1, 1 << 16);
    // Twelve entries fill a 16-slot table to its load limit, so the next new key grows
    // the table first; one freed block waits on its free list.
    std::map<std::string, std::string> model;
    for (int i = 0; i < 12; ++i) {
        ASSERT_EQ(0, put_bb(m.get(), key(i), kLong + std::to_string(i))) << shmds_last_error();
        model[key(i)] = kLong + std::to_string(i);
    }
    ASSERT_EQ(0, put_bb(m.get(), key(11), "short"));  // its arena block is freed
    model[key(11)] = "short";
    const shmds_hashmap_stats_t st0 = stats(m.get());
    ASSERT_EQ(16u, st0.table_slots);

    std::chrono::steady_clock::time_point death;
    ASSERT_TRUE(killed_at(cc.failpoint, [&] {
        switch (cc.op) {
            case Op::put_new: return put_bb(m.get(), key(100), kChanged);
            case Op::put_existing: return put_bb(m.get(), key(3), kChanged);
            case Op::remove: return shmds_hashmap_remove_b(m.get(), key(2).data(), key(2).size());
            case Op::cas_take: {
                const std::string &v = model.at(key(2));
                return shmds_hashmap_cas_take_bb(m.get(), key(2).data(), key(2).size(), v.data(),
                                                 v.size());
            }
            case Op::clear: return shmds_hashmap_clear(m.get(), nullptr);
            case Op::put_batch: {  // key(100) first, then key(101): one shard, input order
                const std::string k0 = key(100), k1 = key(101);
                const void *ks[2] = {k0.data(), k1.data()};
                const std::size_t kl[2] = {k0.size(), k1.size()};
                const void *vs[2] = {kChanged.data(), kChanged.data()};
                const std::size_t vl[2] = {kChanged.size(), kChanged.size()};
                return shmds_hashmap_put_batch_bb(m.get(), ks, kl, vs, vl, 2, nullptr);
            }
        }
        return -1;
    }, &death));

    if (cc.committed) {
        if (cc.op == Op::put_existing) model[key(3)] = kChanged;
        if (cc.op == Op::put_new) model[key(100)] = kChanged;
        if (cc.op == Op::remove || cc.op == Op::cas_take) model.erase(key(2));
        if (cc.op == Op::clear) model.clear();
        if (cc.op == Op::put_batch) model[key(100)] = kChanged;  // the first key only
    }
    // A reader first, of the key the dead writer was changing: it finds the write window
    // open, goes through the lock, takes over from the dead writer, and reads the
    // repaired state (a reader that copied without waiting for the window to close
    // would return the half-changed value).
    const std::string changed = cc.op == Op::put_existing                          ? key(3)
                                : cc.op == Op::put_new || cc.op == Op::put_batch ? key(100)
                                                                                 : key(2);
    const auto it = model.find(changed);
    expect_served_promptly(
        death,
        [&] {
            EXPECT_EQ(it == model.end() ? std::nullopt : std::optional<std::string>(it->second),
                      get_bb(m.get(), changed));
        },
        [&] { EXPECT_EQ(0, put_bb(m.get(), "parent", "p")) << shmds_last_error(); });

    for (const auto &[k, v] : model) EXPECT_EQ(v, get_bb(m.get(), k)) << k;
    EXPECT_EQ(cc.committed && (cc.op == Op::put_new || cc.op == Op::put_batch)
                  ? std::optional<std::string>(kChanged)
                  : std::nullopt,
              get_bb(m.get(), key(100)));
    EXPECT_EQ(std::nullopt, get_bb(m.get(), key(101))) << "a batch stops at its dead writer";
    const shmds_hashmap_stats_t st1 = stats(m.get());
    EXPECT_EQ(model.size() + 1, st1.size);
    EXPECT_EQ(st0.recoveries + 1, st1.recoveries) << "one takeover, counted once";
    EXPECT_EQ(cc.op == Op::clear && cc.committed ? 0 : st0.arena_used + cc.arena_delta,
              st1.arena_used)
        << "the arena holds exactly the live blocks";

    // The free lists and table still work: fill, read back, then empty the map; every
    // block must come back exactly once.
    for (int i = 200; i < 240; ++i) ASSERT_EQ(0, put_bb(m.get(), key(i), kLong + key(i)));
    for (int i = 200; i < 240; ++i) ASSERT_EQ(kLong + key(i), get_bb(m.get(), key(i)));
    for (int i = 200; i < 240; ++i)
        ASSERT_EQ(0, shmds_hashmap_remove_b(m.get(), key(i).data(), key(i).size()));
    for (const auto &[k, v] : model) ASSERT_EQ(0, shmds_hashmap_remove_b(m.get(), k.data(), k.size()));
    EXPECT_EQ(0u, stats(m.get()).arena_used);
}

INSTANTIATE_TEST_SUITE_P(
    Failpoints, HashMapCrashMatrix,
    ::testing::Values(CrashCase{"hashmap.rebuild.copied", Op::put_new, false},
                      CrashCase{"hashmap.arena.block_taken", Op::put_new, false},
                      CrashCase{"hashmap.put.entry_written", Op::put_new, false},
                      CrashCase{"hashmap.put.tag_set", Op::put_new, false},
                      CrashCase{"hashmap.put.value_pointed", Op::put_existing, false},
                      CrashCase{"hashmap.put.value_replaced", Op::put_existing, false},
                      CrashCase{"hashmap.remove.tag_cleared", Op::remove, false},
                      CrashCase{"hashmap.write.committed", Op::put_existing, true},
                      // key(2) (22 bytes) and its value (42 bytes) held a 32- and a 64-byte block.
                      CrashCase{"hashmap.write.committed", Op::remove, true, -(32 + 64)},
                      CrashCase{"hashmap.remove.tag_cleared", Op::cas_take, false},
                      CrashCase{"hashmap.write.committed", Op::cas_take, true, -(32 + 64)},
                      CrashCase{"hashmap.clear.emptied", Op::clear, false},
                      CrashCase{"hashmap.write.committed", Op::clear, true},
                      // The first key's insert committed (the grow before it too), the
                      // window closed; the second key never started. key(100) is 24
                      // bytes (a 32-byte block), kChanged 40 (64).
                      CrashCase{"hashmap.batch.key_done", Op::put_batch, true, 32 + 64}),
    failpoint_case_name<CrashCase>);

TEST(HashMapCrash, KilledMaxLeavesTheOldValue) {
    if (!SHMDS_FAILPOINTS) GTEST_SKIP() << "built without -Dfailpoints=true: no crash points";
    MapPtr m = make_map(SHMDS_TYPE_INT64, SHMDS_TYPE_INT64, 64);
    ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), 1, 10));
    std::chrono::steady_clock::time_point death;
    ASSERT_TRUE(killed_at("hashmap.minmax.value_set", [&] {
        std::int64_t out;
        return shmds_hashmap_max_i(m.get(), 1, 50, &out);
    }, &death));
    std::int64_t out = 0;
    expect_served_promptly(
        death, [&] { EXPECT_EQ(10, get_ii(m.get(), 1)); },
        [&] { EXPECT_EQ(1, shmds_hashmap_max_i(m.get(), 1, 20, &out)); });
    EXPECT_EQ(20, out);
    EXPECT_EQ(1u, stats(m.get()).recoveries);
}

TEST(HashMapCrash, KilledNewKeyInsertAfterTheGrowKeepsTheGrownTable) {
    // The grow commits on its own before the insert: a writer killed in the insert
    // leaves the bigger table (with every entry) and no trace of the new key.
    if (!SHMDS_FAILPOINTS) GTEST_SKIP() << "built without -Dfailpoints=true: no crash points";
    MapPtr m = make_map(SHMDS_TYPE_INT64, SHMDS_TYPE_INT64, 64);
    for (int i = 0; i < 12; ++i) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), i, i));
    std::chrono::steady_clock::time_point death;
    ASSERT_TRUE(killed_at("hashmap.put.tag_set", [&] { return shmds_hashmap_put_ii(m.get(), 99, 99); },
                          &death));
    expect_served_promptly(
        death, [&] { EXPECT_EQ(std::nullopt, get_ii(m.get(), 99)); },
        [&] { EXPECT_EQ(-ENOENT, shmds_hashmap_remove_i(m.get(), 99)); });
    for (int i = 0; i < 12; ++i) EXPECT_EQ(i, get_ii(m.get(), i));
    const shmds_hashmap_stats_t s = stats(m.get());
    EXPECT_EQ(32u, s.table_slots);
    EXPECT_EQ(12u, s.size);
    EXPECT_EQ(1u, s.recoveries);
}

// ------------------------------------------------- crash matrix: eviction and TTL

enum class AgingOp { evict_put, expired_put, set_ttl, pop, flush };

struct AgingCrashCase {
    const char *failpoint;
    AgingOp op;
    bool committed;
    std::int64_t arena_delta = 0;
};

void PrintTo(const AgingCrashCase &c, std::ostream *os) { *os << c.failpoint; }

// What pops return, in order, from a SIEVE list (oldest first) with these marks and the
// hand at `hand` (-1: at the oldest); expired entries are reclaimed, never returned.
std::vector<int> sieve_pops(std::vector<int> order, std::set<int> marked, int hand,
                            const std::set<int> &expired) {
    std::vector<int> out;
    std::size_t pos = 0;
    if (hand >= 0) pos = std::size_t(std::find(order.begin(), order.end(), hand) - order.begin());
    while (!order.empty()) {
        if (pos >= order.size()) pos = 0;
        const int k = order[pos];
        if (marked.count(k) && !expired.count(k)) {
            marked.erase(k);
            ++pos;
            continue;
        }
        if (!expired.count(k)) out.push_back(k);
        order.erase(order.begin() + std::ptrdiff_t(pos));  // the hand moves to the next
    }
    return out;
}

class HashMapAgingCrashMatrix : public ::testing::TestWithParam<AgingCrashCase> {};

TEST_P(HashMapAgingCrashMatrix, WriterKilledInAnEvictionOrExpiryStepLeavesTheListWhole) {
    if (!SHMDS_FAILPOINTS) GTEST_SKIP() << "built without -Dfailpoints=true: no crash points";
    const AgingCrashCase &cc = GetParam();
    shmds_hashmap_config_t c = config(SHMDS_TYPE_BYTES, SHMDS_TYPE_BYTES, 12, 1, 1 << 16);
    c.flags = SHMDS_HASHMAP_EVICT;
    shmds_hashmap_t *raw = nullptr;
    ASSERT_EQ(0, shmds_hashmap_create(nullptr, &c, &raw)) << shmds_last_error();
    MapPtr m(raw);
    ManualClock clock;  // the child inherits it with the handle
    clock.attach(m.get());
    // Twelve entries fill the map; key 1 is marked; key 5 has expired (still counted).
    std::vector<int> order;
    for (int i = 0; i < 12; ++i) {
        const std::string v = kLong + std::to_string(i);
        ASSERT_EQ(0, shmds_hashmap_put_ttl_bb(m.get(), key(i).data(), key(i).size(), v.data(),
                                              v.size(), i == 5 ? 10 : 0));
        order.push_back(i);
    }
    ASSERT_EQ(kLong + "1", get_bb(m.get(), key(1)));
    clock.now += 10;
    std::set<int> marked{1}, expired{5};
    const shmds_hashmap_stats_t st0 = stats(m.get());
    ASSERT_EQ(12u, st0.size);

    std::chrono::steady_clock::time_point death;
    ASSERT_TRUE(killed_at(cc.failpoint, [&] {
        char kb[64], vb[64];
        std::size_t kl, vl;
        std::uint64_t n;
        switch (cc.op) {
            case AgingOp::evict_put: return put_bb(m.get(), key(100), kChanged);
            case AgingOp::expired_put: return put_bb(m.get(), key(5), kChanged);
            case AgingOp::set_ttl:
                return shmds_hashmap_set_ttl_b(m.get(), key(3).data(), key(3).size(), 1000);
            case AgingOp::pop:
                return shmds_hashmap_pop_bb(m.get(), kb, sizeof kb, &kl, vb, sizeof vb, &vl);
            case AgingOp::flush: return shmds_hashmap_flush_expired(m.get(), &n);
        }
        return -1;
    }, &death));

    // A reader and a writer that touch no entry (a read of an absent key marks nothing);
    // the reader takes over and repairs.
    expect_served_promptly(
        death, [&] { EXPECT_EQ(std::nullopt, get_bb(m.get(), "absent")); },
        [&] { EXPECT_EQ(-ENOENT, shmds_hashmap_persist_b(m.get(), "absent", 6)); });
    const shmds_hashmap_stats_t st1 = stats(m.get());
    EXPECT_EQ(st0.recoveries + 1, st1.recoveries) << "one takeover, counted once";
    EXPECT_EQ(st0.arena_used + cc.arena_delta, st1.arena_used);

    int hand = -1;
    if (cc.committed && cc.op == AgingOp::pop) {  // key 0 went; the hand moved to key 1
        order.erase(order.begin());
        hand = 1;
    }
    EXPECT_EQ(order.size(), st1.size);
    if (cc.op == AgingOp::set_ttl) {  // the old expiry (none) stands
        std::uint64_t left = 9;
        EXPECT_EQ(0, shmds_hashmap_ttl_remaining_b(m.get(), key(3).data(), key(3).size(), &left));
        marked.insert(3);  // that read marked it
    }
    // The list, hand and marks: pops return exactly the order they imply, with the
    // values intact, and every arena block comes back.
    std::vector<int> popped;
    char kb[64], vb[64];
    std::size_t kl = 0, vl = 0;
    while (shmds_hashmap_pop_bb(m.get(), kb, sizeof kb, &kl, vb, sizeof vb, &vl) == 0) {
        const std::string k(kb, kl), v(vb, vl);
        const int i = std::stoi(k.substr(key(0).size() - 1));
        EXPECT_EQ(key(i), k);
        EXPECT_EQ(kLong + std::to_string(i), v);
        popped.push_back(i);
    }
    EXPECT_EQ(sieve_pops(order, marked, hand, expired), popped);
    EXPECT_EQ(0u, stats(m.get()).size);
    EXPECT_EQ(0u, stats(m.get()).arena_used);
    // Eviction keeps working on the repaired shard.
    for (int i = 200; i < 240; ++i) ASSERT_EQ(0, put_bb(m.get(), key(i), kLong + key(i)));
    EXPECT_EQ(12u, stats(m.get()).size);
    std::uint64_t n = 0;
    ASSERT_EQ(0, shmds_hashmap_drain(m.get(), 100, &n));
    EXPECT_EQ(12u, n);
    EXPECT_EQ(0u, stats(m.get()).arena_used);
}

INSTANTIATE_TEST_SUITE_P(
    Failpoints, HashMapAgingCrashMatrix,
    ::testing::Values(AgingCrashCase{"hashmap.evict.erased", AgingOp::evict_put, false},
                      AgingCrashCase{"hashmap.put.entry_written", AgingOp::evict_put, false},
                      AgingCrashCase{"hashmap.put.tag_set", AgingOp::evict_put, false},
                      AgingCrashCase{"hashmap.evict.linked", AgingOp::evict_put, false},
                      AgingCrashCase{"hashmap.expire.erased", AgingOp::expired_put, false},
                      AgingCrashCase{"hashmap.ttl.expire_set", AgingOp::set_ttl, false},
                      AgingCrashCase{"hashmap.remove.tag_cleared", AgingOp::pop, false},
                      // key(0) (22 bytes) and its value (41 bytes): a 32- and a 64-byte block.
                      AgingCrashCase{"hashmap.write.committed", AgingOp::pop, true, -(32 + 64)},
                      AgingCrashCase{"hashmap.expire.erased", AgingOp::flush, false}),
    failpoint_case_name<AgingCrashCase>);

}  // namespace
