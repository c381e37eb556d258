// Crash behaviour of the log (log.h, "Crash model"):
//  - the failpoint matrix: a child dies by SIGKILL at every named point inside an
//    append, a truncate and a reset; the parent then appends (taking the lock over
//    within 100 ms), and reads the whole log: no torn entry accepted, no gap, the dead
//    call's entries all there or all absent, entry_count exact, one recovery counted
//    for a dead lock holder;
//  - a random-timing kill soak: a child appending single entries and batches is killed
//    at random moments; after each kill the log holds exactly the child's committed
//    entries (a batch whole or not at all), and a peer appends at once.
#include "log_helpers.hpp"
#include "log_payload.hpp"
#include "shmds_config.h"

#include <csignal>
#include <random>
#include <sys/mman.h>
#include <thread>

using namespace shmds::test;
using namespace shmds::test::logt;

namespace {

std::uint64_t entry_size(std::size_t len) { return 8 + ((len + 7) & ~std::size_t{7}); }

::testing::AssertionResult died_by_sigkill(const ChildExit &e) {
    if (!e.timed_out && !e.exited && e.signal == SIGKILL) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "the child should have died by SIGKILL but "
                                         << e.describe();
}

enum class Op { append, append_multi, truncate, reset };

struct CrashCase {
    const char *failpoint;
    Op op;
    bool committed;   // the dead call's change is in place
    bool holds_lock;  // the child died holding the lock: one takeover
};

void PrintTo(const CrashCase &c, std::ostream *os) { *os << c.failpoint; }

constexpr std::uint32_t kPrefill = 5;
constexpr std::uint32_t kChild = 2, kParent = 3;

// The child's entries: big ones, so that a dead append leaves bytes well past the tail
// that the next append must write over.
std::vector<std::string> child_entries() {
    return {encode_payload(kChild, 0) + std::string(200, '\xee'), encode_payload(kChild, 1),
            encode_payload(kChild, 2)};
}

int run_op(shmds_log_t *l, Op op) {
    const std::vector<std::string> e = child_entries();
    switch (op) {
        case Op::append: return shmds_log_append(l, e[0].data(), e[0].size(), nullptr);
        case Op::append_multi: {
            const void *datas[] = {e[0].data(), e[1].data(), e[2].data()};
            const std::size_t lens[] = {e[0].size(), e[1].size(), e[2].size()};
            return shmds_log_append_multi(l, datas, lens, 3, nullptr);
        }
        case Op::truncate: return shmds_log_truncate(l, shmds_log_tail_offset(l));
        case Op::reset: return shmds_log_reset(l);
    }
    return -EINVAL;
}

class LogCrashMatrix : public ::testing::TestWithParam<CrashCase> {};

TEST_P(LogCrashMatrix, ChildKilledAtTheFailpointLeavesAWholeLog) {
    if (!SHMDS_FAILPOINTS) GTEST_SKIP() << "built without -Dfailpoints=true: no crash points";
    const CrashCase &cc = GetParam();
    LogPtr l = make_log(1 << 14);
    std::vector<std::string> expected;
    for (std::uint32_t i = 0; i < kPrefill; ++i) {
        expected.push_back(encode_payload(1, i));
        append(l.get(), expected.back());
    }
    const shmds_log_stats_t st0 = stats(l.get());

    const pid_t pid = fork_child([&] {
        arm_failpoint(cc.failpoint);
        const int rc = run_op(l.get(), cc.op);
        std::fprintf(stderr, "child returned %d instead of dying at %s\n", rc, cc.failpoint);
        return 3;
    });
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(died_by_sigkill(wait_child(pid, 10s)));
    const auto death = std::chrono::steady_clock::now();

    // Not wedged: the parent's append (which takes over a dead holder) is prompt.
    const std::string mine = encode_payload(kParent, 0);
    std::uint64_t off = 0;
    ASSERT_EQ(0, shmds_log_append(l.get(), mine.data(), mine.size(), &off)) << shmds_last_error();
    EXPECT_LE(ms_since(death), 100.0) << "append (and any lock takeover) after the death";

    // What the dead call leaves.
    const std::vector<std::string> theirs = child_entries();
    std::uint64_t epoch = st0.epoch, truncation = 0;
    if (cc.committed) {
        switch (cc.op) {
            case Op::append: expected.push_back(theirs[0]); break;
            case Op::append_multi: expected.insert(expected.end(), theirs.begin(), theirs.end()); break;
            case Op::truncate:
                truncation = st0.tail;
                expected.clear();
                break;
            case Op::reset:
                epoch += 2;
                expected.clear();
                break;
        }
    }
    std::uint64_t tail_before = st0.tail;
    if (cc.committed && cc.op == Op::reset) tail_before = 0;
    if (cc.committed && cc.op == Op::append) tail_before += entry_size(theirs[0].size());
    if (cc.committed && cc.op == Op::append_multi)
        for (const std::string &t : theirs) tail_before += entry_size(t.size());
    EXPECT_EQ(tail_before, off) << "the parent's entry lands right after what the dead call "
                                   "committed, over anything it left uncommitted";
    expected.push_back(mine);

    const shmds_log_stats_t st = stats(l.get());
    EXPECT_EQ(st0.recoveries + (cc.holds_lock ? 1 : 0), st.recoveries)
        << "exactly one takeover for a dead lock holder, none otherwise";
    EXPECT_EQ(epoch, st.epoch);
    EXPECT_EQ(truncation, st.truncation);
    EXPECT_EQ(0u, st.waiters);
    // entry_count is exact: this epoch's entries, the truncated ones included.
    const std::uint64_t hidden = cc.committed && cc.op == Op::truncate ? kPrefill : 0;
    EXPECT_EQ(expected.size() + hidden, st.entries);
    // The whole log, read by a cursor: every entry whole, none missing, none twice.
    int rc = 0;
    const std::vector<std::string> got = all_entries(l.get(), &rc);
    EXPECT_EQ(-EAGAIN, rc) << shmds_last_error();
    EXPECT_EQ(expected, got);
    // And it goes on working: appends until full, all readable.
    std::uint32_t more = 0;
    for (;; ++more) {
        const std::string s = encode_payload(kParent, 1 + more);
        const int r = shmds_log_append(l.get(), s.data(), s.size(), nullptr);
        if (r == -ENOSPC) break;
        ASSERT_EQ(0, r) << shmds_last_error();
    }
    EXPECT_GT(more, 10u);
    EXPECT_EQ(expected.size() + hidden + more, shmds_log_entry_count(l.get()));
    EXPECT_EQ(expected.size() + more, all_entries(l.get()).size());
}

std::vector<CrashCase> crash_cases() {
    std::vector<CrashCase> v;
    for (Op op : {Op::append, Op::append_multi}) {
        v.push_back({"log.append.locked", op, false, true});
        // The entry (or batch) is written above the tail but not committed: invisible,
        // and the parent's append writes over it.
        v.push_back({"log.append.data_written", op, false, true});
        v.push_back({"log.append.committed", op, true, true});
        // Committed and unlocked, nobody woken: nothing to take over.
        v.push_back({"log.append.unwoken", op, true, false});
    }
    v.push_back({"log.truncate.locked", Op::truncate, false, true});
    // A reset cut short after the epoch went odd: the next locker finishes it.
    v.push_back({"log.reset.begun", Op::reset, true, true});
    return v;
}

INSTANTIATE_TEST_SUITE_P(Failpoints, LogCrashMatrix, ::testing::ValuesIn(crash_cases()),
                         [](const ::testing::TestParamInfo<CrashCase> &i) {
                             return failpoint_case_name(i);
                         });

// ------------------------------------------------------------ random-timing kills

struct SoakRecord {
    std::atomic<std::uint64_t> started;
    std::atomic<std::uint64_t> confirmed;  // the child's entries known committed
    std::atomic<std::uint64_t> inflight;   // the size of the call under way (0: none)
};

int busy_child(shmds_log_t *l, SoakRecord &rec, std::uint32_t writer, std::uint64_t seed) {
    std::mt19937_64 rng(seed ^ writer);
    for (std::uint64_t ops = 0;; ++ops) {
        if (ops == 32) rec.started.store(1);
        const std::uint64_t base = rec.confirmed.load(std::memory_order_relaxed);
        const std::size_t n = rng() % 4 == 0 ? 1 + rng() % 6 : 1;
        std::vector<std::string> items;
        std::vector<const void *> datas;
        std::vector<std::size_t> lens;
        for (std::size_t i = 0; i < n; ++i) items.push_back(encode_payload(writer, std::uint32_t(base + i)));
        for (auto &s : items) {
            datas.push_back(s.data());
            lens.push_back(s.size());
        }
        rec.inflight.store(n);
        const int rc = n == 1 ? shmds_log_append(l, datas[0], lens[0], nullptr)
                              : shmds_log_append_multi(l, datas.data(), lens.data(), n, nullptr);
        if (rc == -ENOSPC) return 0;  // never reached: the parent kills first
        if (rc != 0) return 1;
        rec.confirmed.store(base + n);
        rec.inflight.store(0);
    }
}

TEST(LogKillSoak, RandomTimingKillsLeaveExactlyTheCommittedEntries) {
    const std::uint64_t seed = test_seed();
    std::mt19937_64 rng(seed);
    LogPtr l = make_log(std::uint64_t{64} << 20);
    void *mem = mmap(nullptr, sizeof(SoakRecord), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(MAP_FAILED, mem);
    const auto start = std::chrono::steady_clock::now();
    std::uint64_t takeovers_seen = 0;
    std::uint32_t round = 0;
    for (; round < 40 && (round < 5 || ms_since(start) < 2000); ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        auto &rec = *new (mem) SoakRecord{};
        const std::uint64_t before = shmds_log_entry_count(l.get());
        const std::uint64_t rec0 = shmds_log_recoveries(l.get());
        const std::uint32_t writer = 100 + round;
        const pid_t pid = fork_child([&] { return busy_child(l.get(), rec, writer, seed); });
        const auto t0 = std::chrono::steady_clock::now();
        while (rec.started.load() == 0 && ms_since(t0) < 5000) std::this_thread::yield();
        ASSERT_NE(0u, rec.started.load());
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 3000));
        kill(pid, SIGKILL);
        ASSERT_TRUE(died_by_sigkill(wait_child(pid, 10s)));

        // A peer appends at once.
        const auto death = std::chrono::steady_clock::now();
        const std::string marker = encode_payload(1, round);
        std::uint64_t off = 0;
        ASSERT_EQ(0, shmds_log_append(l.get(), marker.data(), marker.size(), &off));
        EXPECT_LE(ms_since(death), 100.0);
        takeovers_seen += shmds_log_recoveries(l.get()) - rec0;

        // Exactly the committed entries: the confirmed ones, plus the call cut short
        // whole or not at all.
        const std::uint64_t confirmed = rec.confirmed.load(), inflight = rec.inflight.load();
        const std::uint64_t child = shmds_log_entry_count(l.get()) - 1 - before;
        EXPECT_TRUE(child == confirmed || child == confirmed + inflight)
            << child << " entries, " << confirmed << " confirmed, " << inflight << " in flight";
        shmds_log_cursor_t c;
        ASSERT_EQ(0, shmds_log_cursor_init(l.get(), &c, 0));
        std::vector<char> buf(256);
        std::uint64_t index = 0, mine = 0;
        for (;; ++index) {
            std::size_t len = 0;
            const int rc = shmds_log_cursor_next(l.get(), &c, buf.data(), buf.size(), &len, nullptr);
            if (rc == -EAGAIN) break;
            ASSERT_EQ(0, rc) << shmds_last_error();
            Payload p;
            ASSERT_TRUE(decode_payload(buf.data(), len, &p)) << "entry " << index << " is torn";
            if (index < before) continue;
            if (p.writer == writer) EXPECT_EQ(mine++, p.counter) << "no gap, no duplicate";
            else EXPECT_EQ(before + child, index) << "the marker comes last";
        }
        EXPECT_EQ(child, mine);
        EXPECT_EQ(before + child + 1, index);
    }
    std::printf("%u kills, %llu lock takeovers\n", round, (unsigned long long)takeovers_seen);
    munmap(mem, sizeof(SoakRecord));
}

}  // namespace
