// The cache's callbacks across processes: get_and_set atomic across 4 processes (anchor
// t/12 scaled up), the stampede guard (one read_cb for concurrent misses; a filler
// killed inside read_cb does not hold its waiters), a failed callback's lock free for
// another process, and kill -9 at each callback failpoint.
#include "test_cache_callbacks_helpers.hpp"

#include "core/failpoint.hpp"

#include <gtest/gtest.h>

#include <sys/mman.h>
#include <sys/wait.h>

#include <atomic>
#include <csignal>
#include <thread>
#include <vector>

namespace {

using namespace shmds::test;
using namespace shmds::test::cache;


// Counters every process of a test sees.
struct Shared {
    std::atomic<int> reads{0};
    std::atomic<int> writes{0};
    std::atomic<int> started{0};
    std::atomic<int> in_read{0};
    std::atomic<int> hang{0};      // read_cb: 1 = never return (the test kills it)
    std::atomic<int> read_ms{0};   // read_cb: how long the "backing store" takes
};

Shared *make_shared() {
    void *p = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    EXPECT_NE(MAP_FAILED, p);
    return new (p) Shared;
}

int slow_read(void *ctx, const void *k, size_t kl, shmds_cache_value_t *out) {
    auto *s = static_cast<Shared *>(ctx);
    s->reads.fetch_add(1);
    s->in_read.fetch_add(1);
    while (s->hang.load()) pause();
    std::this_thread::sleep_for(std::chrono::milliseconds(s->read_ms.load()));
    static thread_local std::string v;
    v = "store:" + std::string(static_cast<const char *>(k), kl);
    out->value = v.data();
    out->value_len = v.size();
    return 0;
}

int count_write(void *ctx, const void *, size_t, const void *, size_t, uint64_t) {
    static_cast<Shared *>(ctx)->writes.fetch_add(1);
    return 0;
}

void attach_shared(shmds_cache_t *c, Shared *s, bool write_back = false,
                   std::uint64_t fill_wait_ms = 30000) {
    shmds_cache_callbacks_t cb = SHMDS_CACHE_CALLBACKS_INIT;
    cb.ctx = s;
    cb.read_cb = &slow_read;
    cb.write_cb = &count_write;
    cb.write_back = write_back;
    cb.fill_wait_ms = fill_wait_ms;
    ASSERT_EQ(0, shmds_cache_set_callbacks(c, &cb)) << shmds_last_error();
}

// Start together: each child counts itself in and waits for all.
void start_line(Shared *s, int n) {
    s->started.fetch_add(1);
    while (s->started.load() < n) std::this_thread::yield();
}

// ---- get_and_set ------------------------------------------------------------------------

TEST(CacheCallbackProcs, GetAndSetIsAtomicAcrossFourProcesses) {
    CachePtr h = make_cache(config(4096, 8));
    Shared *s = make_shared();
    constexpr int kProcs = 4, kIncrements = 5000;
    std::vector<pid_t> kids;
    for (int c = 0; c < kProcs; ++c)
        kids.push_back(fork_child([&] {
            start_line(s, kProcs);
            std::string buf;
            for (int i = 0; i < kIncrements; ++i)
                if (shmds_cache_get_and_set(h.get(), "counter", 7, &increment, &buf) != 0) return 1;
            return 0;
        }));
    for (pid_t p : kids) {
        const ChildExit e = wait_child(p, 120s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    EXPECT_EQ(std::to_string(kProcs * kIncrements), get(h.get(), "counter"));
    munmap(s, sizeof *s);
}

// Anchor t/24 across processes: after a failed get_and_set another process can lock the
// page at once.
TEST(CacheCallbackProcs, AFailedCallbackLeavesThePageFreeForAnotherProcess) {
    CachePtr h = make_cache(config(4096, 1));
    ASSERT_EQ(0, set(h.get(), "k", "old"));
    auto fails = [](void *, const void *, size_t, const void *, size_t, int,
                    shmds_cache_value_t *) { return -EIO; };
    ASSERT_EQ(-EIO, shmds_cache_get_and_set(h.get(), "k", 1, fails, nullptr));
    const pid_t p = fork_child([&] { return set(h.get(), "k", "child") == 0 ? 0 : 1; });
    const ChildExit e = wait_child(p, 5s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    EXPECT_EQ("child", get(h.get(), "k"));
}

// ---- the stampede guard -----------------------------------------------------------------

TEST(CacheStampede, ConcurrentMissesOfOneKeyCallReadCbOnce) {
    CachePtr h = make_cache(config(4096, 4));
    Shared *s = make_shared();
    s->read_ms = 300;  // a slow backing store: every process misses while it runs
    attach_shared(h.get(), s);
    constexpr int kProcs = 6;
    std::vector<pid_t> kids;
    for (int c = 0; c < kProcs; ++c)
        kids.push_back(fork_child([&] {
            start_line(s, kProcs);
            const auto got = get(h.get(), "hot");
            return got == std::optional<std::string>("store:hot") ? 0 : 1;
        }));
    for (pid_t p : kids) {
        const ChildExit e = wait_child(p, 30s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    EXPECT_EQ(1, s->reads.load());
    munmap(s, sizeof *s);
}

// The filler is SIGKILLed inside read_cb: its waiters notice within the probe interval
// (not after fill_wait_ms, 30 s here), and exactly one of them calls read_cb.
TEST(CacheStampede, AFillerKilledInsideReadCbDoesNotHoldItsWaiters) {
    CachePtr h = make_cache(config(4096, 4));
    Shared *s = make_shared();
    s->hang = 1;
    attach_shared(h.get(), s);
    const pid_t filler = fork_child([&] { return get(h.get(), "hot") ? 0 : 1; });
    while (s->in_read.load() == 0) std::this_thread::sleep_for(1ms);
    constexpr int kWaiters = 3;
    std::vector<pid_t> kids;
    for (int c = 0; c < kWaiters; ++c)
        kids.push_back(fork_child([&] {
            const auto got = get(h.get(), "hot");
            return got == std::optional<std::string>("store:hot") ? 0 : 1;
        }));
    for (pid_t p : kids) ASSERT_TRUE(wait_until_asleep(p, 5s));  // waiting for the filler
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(1, s->reads.load());  // nobody else called read_cb
    s->hang = 0;  // the next filler's read returns
    const auto killed = std::chrono::steady_clock::now();
    ASSERT_EQ(0, kill(filler, SIGKILL));
    EXPECT_FALSE(wait_child(filler, 5s).exited);
    for (pid_t p : kids) {
        const ChildExit e = wait_child(p, 10s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    EXPECT_LT(ms_since(killed), 3000.0);
    EXPECT_EQ(2, s->reads.load());  // the dead filler's and one waiter's
    munmap(s, sizeof *s);
}

// A waiter gives up after fill_wait_ms and reads the store itself.
TEST(CacheStampede, AWaiterStopsWaitingAfterFillWaitMs) {
    CachePtr h = make_cache(config(4096, 4));
    Shared *s = make_shared();
    s->hang = 1;
    attach_shared(h.get(), s, false, 200);
    const pid_t filler = fork_child([&] { return get(h.get(), "hot") ? 0 : 1; });
    while (s->in_read.load() == 0) std::this_thread::sleep_for(1ms);
    const auto start = std::chrono::steady_clock::now();
    const pid_t waiter = fork_child([&] {
        // Its own read must not hang: a private flag in its copy of the test's memory.
        shmds_cache_callbacks_t cb = SHMDS_CACHE_CALLBACKS_INIT;
        static Shared mine;
        cb.ctx = &mine;
        cb.read_cb = &slow_read;
        cb.fill_wait_ms = 200;
        if (shmds_cache_set_callbacks(h.get(), &cb) != 0) return 2;
        const auto got = get(h.get(), "hot");
        return got == std::optional<std::string>("store:hot") && mine.reads == 1 ? 0 : 1;
    });
    const ChildExit e = wait_child(waiter, 10s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    const double waited = ms_since(start);
    EXPECT_GE(waited, 190.0);
    EXPECT_LT(waited, 5000.0);
    kill(filler, SIGKILL);
    wait_child(filler, 5s);
    munmap(s, sizeof *s);
}

// ---- kill -9 at each callback failpoint ---------------------------------------------------

enum class Op { fill, write_back, get_and_set };

struct CrashCase {
    const char *failpoint;
    Op op;
};

void PrintTo(const CrashCase &c, std::ostream *os) { *os << c.failpoint; }

class CacheCallbackCrash : public ::testing::TestWithParam<CrashCase> {};

TEST_P(CacheCallbackCrash, AProcessKilledAtTheFailpointLeavesTheCacheUsable) {
    if (!SHMDS_FAILPOINTS) GTEST_SKIP() << "built without -Dfailpoints=true: no crash points";
    const CrashCase &cc = GetParam();
    CachePtr h = make_cache(config(4096, 1, 0, 1));
    Shared *s = make_shared();
    attach_shared(h.get(), s, cc.op == Op::write_back);
    if (cc.op == Op::write_back) {
        ASSERT_EQ(0, set(h.get(), "k", "dirty"));
    }
    if (cc.op == Op::get_and_set) {
        ASSERT_EQ(0, set(h.get(), "k", "5"));
    }
    const int writes0 = s->writes.load();

    const pid_t pid = fork_child([&] {
        arm_failpoint(cc.failpoint);
        std::string buf;
        switch (cc.op) {
            case Op::fill: (void)get(h.get(), "k"); break;
            case Op::write_back: (void)shmds_cache_empty(h.get(), 0); break;
            case Op::get_and_set: (void)shmds_cache_get_and_set(h.get(), "k", 1, &increment, &buf); break;
        }
        return 3;
    });
    ASSERT_GT(pid, 0);
    const ChildExit e = wait_child(pid, 10s);
    ASSERT_TRUE(!e.exited && e.signal == SIGKILL) << e.describe();

    const auto start = std::chrono::steady_clock::now();
    switch (cc.op) {
        case Op::fill:
            // The dead filler's claim does not make this get wait (fill_wait_ms is 30 s).
            EXPECT_EQ("store:k", get(h.get(), "k"));
            EXPECT_LT(ms_since(start), 3000.0);
            EXPECT_EQ(1, s->reads.load());  // the dead filler never reached read_cb
            break;
        case Op::write_back:
            // Written once, killed before the item was marked clean: it is still there and
            // dirty, and the next empty writes it again (at least once across a crash).
            EXPECT_EQ(writes0 + 1, s->writes.load());
            EXPECT_EQ(long(SHMDS_CACHE_FLAG_DIRTY), flags_of(h.get(), "k"));
            ASSERT_EQ(0, shmds_cache_empty(h.get(), 0));
            EXPECT_EQ(writes0 + 2, s->writes.load());
            break;
        case Op::get_and_set:
            EXPECT_EQ("5", get(h.get(), "k"));  // the old value: nothing half-done
            break;
    }
    std::uint64_t repaired = 0;
    ASSERT_EQ(0, shmds_cache_verify(h.get(), &repaired));
    EXPECT_EQ(0u, repaired);
    std::string buf;
    EXPECT_EQ(0, shmds_cache_get_and_set(h.get(), "n", 1, &increment, &buf));  // usable
    munmap(s, sizeof *s);
}

INSTANTIATE_TEST_SUITE_P(Failpoints, CacheCallbackCrash,
                         ::testing::Values(CrashCase{"cache.fill.claimed", Op::fill},
                                           CrashCase{"cache.fill.read", Op::fill},
                                           CrashCase{"cache.writeback.written", Op::write_back},
                                           CrashCase{"cache.get_and_set.called", Op::get_and_set}),
                         failpoint_case_name<CrashCase>);

}  // namespace
