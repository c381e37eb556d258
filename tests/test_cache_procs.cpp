// The cache across processes: the crash matrix (a writer SIGKILLed at every failpoint,
// mid-set and mid-expunge, leaves every page valid and the state of before or after
// the call), and N processes sharing one cache (anchor t/12: get_and_remove atomicity).
#include "test_cache_helpers.hpp"

#include "core/failpoint.hpp"

#include <gtest/gtest.h>

#include <sys/mman.h>
#include <sys/wait.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace shmds::test;
using namespace shmds::test::cache;


bool died_by_sigkill(const ChildExit &e) { return !e.exited && e.signal == SIGKILL; }

std::string key(int i) { return "key-" + std::to_string(i); }
const std::string kValue(58, 'v');  // 96-byte records with 6-byte keys

enum class Op { set_existing, remove, set_expunging };

struct CrashCase {
    const char *failpoint;
    Op op;
    bool committed;  // the child died past its commit point: the change stands
};

void PrintTo(const CrashCase &c, std::ostream *os) { *os << c.failpoint; }

class CacheCrashMatrix : public ::testing::TestWithParam<CrashCase> {};

TEST_P(CacheCrashMatrix, AWriterKilledAtTheFailpointLeavesEveryPageValid) {
    if (!SHMDS_FAILPOINTS) GTEST_SKIP() << "built without -Dfailpoints=true: no crash points";
    const CrashCase &cc = GetParam();
    // One page and one spare frame: a spare the dead writer kept would stop every later
    // expunge (-EAGAIN), so the repair of the claim is checked too.
    CachePtr h = make_cache(config(4096, 1, 89, 1));
    ASSERT_TRUE(h);
    const int prefill = cc.op == Op::set_expunging ? 38 : 10;  // 38 fill the data area
    for (int i = 0; i < prefill; ++i) ASSERT_EQ(0, set(h.get(), key(i), kValue));
    ASSERT_EQ(std::uint64_t(prefill), stats(h.get()).items);

    const pid_t pid = fork_child([&] {
        arm_failpoint(cc.failpoint);
        int rc = -1;
        switch (cc.op) {
            case Op::set_existing: rc = set(h.get(), key(3), "changed"); break;
            case Op::remove: rc = shmds_cache_remove(h.get(), key(2).data(), key(2).size()); break;
            case Op::set_expunging: rc = set(h.get(), "new", kValue); break;
        }
        std::fprintf(stderr, "child: the call returned %d instead of dying at %s\n", rc,
                     cc.failpoint);
        return 3;
    });
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(died_by_sigkill(wait_child(pid, 10s)));

    // The next caller takes the dead writer's lock over and repairs the page; the deep
    // check then finds nothing to re-initialise.
    const std::uint64_t rec0 = shmds_cache_recoveries(h.get());
    std::uint64_t repaired = 0;
    ASSERT_EQ(0, shmds_cache_verify(h.get(), &repaired)) << shmds_last_error();
    EXPECT_EQ(0u, repaired);
    EXPECT_GE(shmds_cache_recoveries(h.get()), rec0 + 1);

    switch (cc.op) {
        case Op::set_existing:
            EXPECT_EQ(cc.committed ? "changed" : kValue, get(h.get(), key(3)));
            EXPECT_EQ(std::uint64_t(prefill), stats(h.get()).items);
            break;
        case Op::remove:
            EXPECT_EQ(cc.committed ? std::nullopt : std::optional<std::string>(kValue),
                      get(h.get(), key(2)));
            break;
        case Op::set_expunging:
            EXPECT_EQ(std::nullopt, get(h.get(), "new"));  // it died before the append
            if (!cc.committed) {
                EXPECT_EQ(std::uint64_t(prefill), stats(h.get()).items);
            } else {
                EXPECT_LT(stats(h.get()).items, std::uint64_t(prefill));
            }
            break;
    }
    for (int i = 0; i < prefill; ++i) {  // nothing torn: a key holds its value or is gone
        const auto got = get(h.get(), key(i));
        if (got && !(cc.op == Op::set_existing && i == 3)) {
            EXPECT_EQ(kValue, *got) << key(i);
        }
    }
    // The spare frame came back: more expunges work (each set below needs one soon).
    for (int i = 100; i < 300; ++i) ASSERT_EQ(0, set(h.get(), key(i), kValue)) << shmds_last_error();
    ASSERT_EQ(0, shmds_cache_verify(h.get(), &repaired));
    EXPECT_EQ(0u, repaired);
}

INSTANTIATE_TEST_SUITE_P(
    Failpoints, CacheCrashMatrix,
    ::testing::Values(CrashCase{"cache.set.appended", Op::set_existing, false},
                      CrashCase{"cache.set.journaled", Op::set_existing, false},
                      CrashCase{"cache.set.committed", Op::set_existing, true},
                      CrashCase{"cache.remove.journaled", Op::remove, false},
                      CrashCase{"cache.expunge.claimed", Op::set_expunging, false},
                      CrashCase{"cache.expunge.built", Op::set_expunging, false},
                      CrashCase{"cache.expunge.flipping", Op::set_expunging, false},
                      CrashCase{"cache.expunge.committed", Op::set_expunging, true}),
    failpoint_case_name<CrashCase>);

// ---- N processes ------------------------------------------------------------------------

// Four processes write and read their own keys on a small cache, so expunges (and
// waits for the one spare frame) happen all the time: every hit is the value the
// process last wrote, and every page is valid afterwards.
TEST(CacheProcs, FourProcessesChurnASmallCache) {
    CachePtr h = make_cache(config(4096, 4, 0, 1));
    ASSERT_TRUE(h);
    const std::uint64_t seed = test_seed();
    std::vector<pid_t> kids;
    for (int c = 0; c < 4; ++c) {
        kids.push_back(fork_child([&, c] {
            std::mt19937_64 rng(seed + std::uint64_t(c));
            std::map<std::string, std::string> mine;
            for (int op = 0; op < 3000; ++op) {
                const std::string k = "c" + std::to_string(c) + "-" + std::to_string(rng() % 60);
                if (rng() % 2) {
                    const std::string v = k + "#" + std::to_string(op) + std::string(rng() % 80, 'x');
                    if (set(h.get(), k, v) != 0) return 1;
                    mine[k] = v;
                } else {
                    const auto got = get(h.get(), k);
                    if (got && (!mine.count(k) || mine[k] != *got)) return 2;
                }
            }
            return 0;
        }));
    }
    for (pid_t p : kids) {
        const ChildExit e = wait_child(p, 60s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe() << " seed " << seed;
    }
    std::uint64_t repaired = 0;
    ASSERT_EQ(0, shmds_cache_verify(h.get(), &repaired));
    EXPECT_EQ(0u, repaired);
}

// Anchor t/12: of processes racing get_and_remove over the same keys, each key goes to
// exactly one of them.
TEST(CacheProcs, GetAndRemoveGivesEachKeyToOneProcess) {
    CachePtr h = make_cache(config(65536, 16));
    ASSERT_TRUE(h);
    constexpr int kKeys = 1000, kProcs = 4;
    for (int i = 0; i < kKeys; ++i) ASSERT_EQ(0, set(h.get(), key(i), "job" + std::to_string(i)));
    auto *taken = static_cast<std::atomic<int> *>(
        mmap(nullptr, sizeof(std::atomic<int>) * kKeys, PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(MAP_FAILED, static_cast<void *>(taken));
    std::vector<pid_t> kids;
    for (int c = 0; c < kProcs; ++c) {
        kids.push_back(fork_child([&] {
            for (int i = 0; i < kKeys; ++i) {
                char buf[32];
                std::size_t len = 0;
                const std::string k = key(i);
                const int rc = shmds_cache_get_and_remove(h.get(), k.data(), k.size(), buf,
                                                          sizeof buf, &len);
                if (rc == 0) {
                    if (std::string(buf, len) != "job" + std::to_string(i)) return 2;
                    taken[i].fetch_add(1);
                } else if (rc != -ENOENT) {
                    return 1;
                }
            }
            return 0;
        }));
    }
    for (pid_t p : kids) {
        const ChildExit e = wait_child(p, 60s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    for (int i = 0; i < kKeys; ++i) EXPECT_EQ(1, taken[i].load()) << key(i);
    EXPECT_EQ(0u, stats(h.get()).items);
    munmap(taken, sizeof(std::atomic<int>) * kKeys);
}

// The read and hit counters stay exact with 4 processes getting at once (each page's
// counters are raised by its lock holder alone) while another clears them again and
// again: every get is counted once, in a clear's report or in the final one. Each child
// waits halfway for a first clear, so at least one lands between the children's gets
// however the machine schedules them.
TEST(CacheProcs, StatsCountEveryGetOnceAcrossProcessesAndClears) {
    CachePtr h = make_cache(config(4096, 4));
    ASSERT_TRUE(h);
    constexpr int kKeys = 8, kProcs = 4, kGets = 5000;
    for (int i = 0; i < kKeys; ++i) ASSERT_EQ(0, set(h.get(), key(i), "v"));
    stats(h.get(), true);
    struct Progress {
        std::atomic<int> done;    // children finished
        std::atomic<int> clears;  // clears the parent has made
    };
    auto *progress = static_cast<Progress *>(mmap(nullptr, sizeof(Progress),
                                                  PROT_READ | PROT_WRITE,
                                                  MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(MAP_FAILED, static_cast<void *>(progress));
    std::vector<pid_t> kids;
    for (int c = 0; c < kProcs; ++c) {
        kids.push_back(fork_child([&] {
            struct Done {
                std::atomic<int> *n;
                ~Done() { n->fetch_add(1); }
            } mark{&progress->done};
            for (int i = 0; i < kGets; ++i) {
                if (i == kGets / 2)
                    wait_until([&] { return progress->clears.load() > 0; }, 10s);
                // Every fourth get misses (a key never stored): reads and hits differ.
                const std::string k = i % 4 == 3 ? "absent" : key(i % kKeys);
                char buf[8];
                std::size_t len = 0;
                const int rc = shmds_cache_get(h.get(), k.data(), k.size(), buf, sizeof buf, &len);
                if (rc != (i % 4 == 3 ? -ENOENT : 0)) return 1;
            }
            return 0;
        }));
    }
    std::uint64_t reads = 0, hits = 0;
    int clears = 0;
    while (progress->done.load() < kProcs) {  // clears all along the children's gets
        const shmds_cache_stats_t s = stats(h.get(), true);
        reads += s.reads;
        hits += s.hits;
        progress->clears.store(++clears);
    }
    for (pid_t p : kids) {
        const ChildExit e = wait_child(p, 60s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    const shmds_cache_stats_t s = stats(h.get(), true);
    EXPECT_EQ(std::uint64_t(kProcs) * kGets, reads + s.reads);
    EXPECT_EQ(std::uint64_t(kProcs) * kGets * 3 / 4, hits + s.hits);
    EXPECT_GT(clears, 0);
    munmap(progress, sizeof(Progress));
}

}  // namespace
