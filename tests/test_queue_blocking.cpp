// Queue blocking and timeouts through the C API: NOWAIT, relative timeouts and FOREVER,
// cross-process wakeups in both directions, many waiters for one item, batches that
// wait, signals during a wait, waiter gauges, and a sleeper that costs no CPU.
// Registered as not parallel: it measures wakeups, which a loaded machine would blur.
// Every case runs on a narrow and a wide integer variant and on bytes, since each has
// its own wait loop.
#include "support/proc.hpp"

#include <shmds/queue.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace shmds::test;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::int64_t kMs = 1000 * 1000;

struct QueueCloser {
    void operator()(shmds_queue_t *q) const noexcept { shmds_queue_close(q); }
};
using QueuePtr = std::unique_ptr<shmds_queue_t, QueueCloser>;

// Integers travel as themselves; bytes as their decimal text, so one test body serves
// every variant.
int push_one(shmds_queue_t *q, std::int64_t v, std::int64_t timeout) {
    if (shmds_queue_variant(q) != SHMDS_QUEUE_BYTES) return shmds_queue_push_int(q, v, timeout);
    const std::string s = "item-" + std::to_string(v);
    return shmds_queue_push_bytes(q, s.data(), s.size(), timeout);
}

int pop_one(shmds_queue_t *q, std::int64_t *out, std::int64_t timeout) {
    if (shmds_queue_variant(q) != SHMDS_QUEUE_BYTES) return shmds_queue_pop_int(q, out, timeout);
    char buf[64];
    std::size_t len = 0;
    int rc = shmds_queue_pop_bytes(q, buf, sizeof buf - 1, &len, timeout);
    if (rc == 0) {
        buf[len] = '\0';
        *out = std::strtoll(buf + 5, nullptr, 10);
    }
    return rc;
}

int push_many(shmds_queue_t *q, std::int64_t from, std::size_t n, std::size_t *pushed,
              std::int64_t timeout) {
    std::vector<std::int64_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = from + std::int64_t(i);
    if (shmds_queue_variant(q) != SHMDS_QUEUE_BYTES)
        return shmds_queue_push_multi_int(q, v.data(), n, pushed, timeout);
    std::vector<std::string> text;
    std::vector<const void *> datas;
    std::vector<std::size_t> lens;
    for (std::int64_t x : v) text.push_back("item-" + std::to_string(x));
    for (const auto &s : text) {
        datas.push_back(s.data());
        lens.push_back(s.size());
    }
    return shmds_queue_push_multi_bytes(q, datas.data(), lens.data(), n, pushed, timeout);
}

int pop_many(shmds_queue_t *q, std::size_t max, std::vector<std::int64_t> &out,
             std::int64_t timeout) {
    std::size_t got = 0;
    out.clear();
    if (shmds_queue_variant(q) != SHMDS_QUEUE_BYTES) {
        out.resize(max);
        int rc = shmds_queue_pop_multi_int(q, out.data(), max, &got, timeout);
        out.resize(got);
        return rc;
    }
    std::vector<char> buf(max * 32);
    std::vector<std::size_t> lens(max);
    int rc =
        shmds_queue_pop_multi_bytes(q, buf.data(), buf.size(), lens.data(), max, &got, timeout);
    std::size_t at = 0;
    for (std::size_t i = 0; i < got; ++i) {
        out.push_back(
            std::strtoll(std::string(buf.data() + at + 5, lens[i] - 5).c_str(), nullptr, 10));
        at += lens[i];
    }
    return rc;
}

shmds_queue_stats_t stats_of(shmds_queue_t *q) {
    shmds_queue_stats_t s{};
    s.struct_size = sizeof s;
    EXPECT_EQ(0, shmds_queue_stats(q, &s)) << shmds_last_error();
    return s;
}

// Poll pred every millisecond until it holds or `limit` passes.
bool eventually(const std::function<bool()> &pred, std::chrono::milliseconds limit = 5s) {
    const auto end = Clock::now() + limit;
    while (Clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(1ms);
    }
    return pred();
}

bool pop_waiters_reach(shmds_queue_t *q, std::uint32_t n) {
    return eventually([&] { return stats_of(q).pop_waiters == n; });
}
bool push_waiters_reach(shmds_queue_t *q, std::uint32_t n) {
    return eventually([&] { return stats_of(q).push_waiters == n; });
}

// Bounds a wait in the test process that only another process can end: if that never
// happens, the rescue unblocks the waiter after `after` and the test fails, instead of
// hanging until the suite's timeout.
class Rescue {
public:
    Rescue(std::chrono::milliseconds after, std::function<void()> action)
        : thread_([this, after, action = std::move(action)] {
              std::unique_lock<std::mutex> lock(mutex_);
              if (!cv_.wait_for(lock, after, [this] { return done_; })) {
                  fired_ = true;
                  action();
              }
          }) {}
    ~Rescue() { cancel(); }
    // Stop the rescue; true if it had to act.
    bool cancel() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            done_ = true;
        }
        cv_.notify_all();
        if (thread_.joinable()) thread_.join();
        return fired_;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    std::atomic<bool> fired_{false};
    std::thread thread_;
};

// Exit codes children use to report how their wait ended.
constexpr int kGotIt = 0, kTimedOut = 3, kWrong = 1;

class QueueBlocking : public ::testing::TestWithParam<int> {
protected:
    QueuePtr make(std::uint64_t capacity) {
        shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(GetParam(), capacity);
        shmds_queue_t *q = nullptr;
        EXPECT_EQ(0, shmds_queue_create(nullptr, &cfg, &q)) << shmds_last_error();
        return QueuePtr(q);
    }
    // A queue of `capacity` holding 0..capacity-1.
    QueuePtr make_full(std::uint64_t capacity) {
        QueuePtr q = make(capacity);
        for (std::uint64_t i = 0; i < capacity; ++i)
            EXPECT_EQ(0, push_one(q.get(), std::int64_t(i), SHMDS_NOWAIT));
        return q;
    }
};

std::string variant_name(const ::testing::TestParamInfo<int> &info) {
    switch (info.param) {
        case SHMDS_QUEUE_INT16: return "Int16";
        case SHMDS_QUEUE_INT64: return "Int64";
        default: return "Bytes";
    }
}

INSTANTIATE_TEST_SUITE_P(Variants, QueueBlocking,
                         ::testing::Values(SHMDS_QUEUE_INT16, SHMDS_QUEUE_INT64, SHMDS_QUEUE_BYTES),
                         variant_name);

}  // namespace

TEST_P(QueueBlocking, NowaitReturnsAtOnce) {
    QueuePtr q = make(2);
    ASSERT_TRUE(q);
    std::int64_t v = 0;
    auto start = Clock::now();
    EXPECT_EQ(-EAGAIN, pop_one(q.get(), &v, SHMDS_NOWAIT));
    EXPECT_LT(ms_since(start), 50.0);
    ASSERT_EQ(0, push_one(q.get(), 1, SHMDS_NOWAIT));
    ASSERT_EQ(0, push_one(q.get(), 2, SHMDS_NOWAIT));
    start = Clock::now();
    EXPECT_EQ(-EAGAIN, push_one(q.get(), 3, SHMDS_NOWAIT));
    EXPECT_LT(ms_since(start), 50.0);
}

TEST_P(QueueBlocking, TimedPopOnEmptyTimesOut) {
    QueuePtr q = make(4);
    ASSERT_TRUE(q);
    std::int64_t v = 0;
    const auto start = Clock::now();
    EXPECT_EQ(-ETIMEDOUT, pop_one(q.get(), &v, 300 * kMs));
    const double ms = ms_since(start);
    EXPECT_GE(ms, 250.0);
    EXPECT_LE(ms, 1000.0);
    EXPECT_STRNE("", shmds_last_error());
    EXPECT_GE(stats_of(q.get()).pop_empty, 1u);
    EXPECT_EQ(0u, stats_of(q.get()).pop_waiters) << "a timed-out waiter leaves the gauge";
}

TEST_P(QueueBlocking, TimedPushOnFullTimesOut) {
    QueuePtr q = make_full(4);
    ASSERT_TRUE(q);
    const auto start = Clock::now();
    EXPECT_EQ(-ETIMEDOUT, push_one(q.get(), 99, 300 * kMs));
    const double ms = ms_since(start);
    EXPECT_GE(ms, 250.0);
    EXPECT_LE(ms, 1000.0);
    EXPECT_GE(stats_of(q.get()).push_full, 1u);
    EXPECT_EQ(4u, shmds_queue_size(q.get()));
    EXPECT_EQ(0u, stats_of(q.get()).push_waiters);
}

TEST_P(QueueBlocking, ChildPushWakesParentBlockedForever) {
    QueuePtr q = make(4);
    ASSERT_TRUE(q);
    pid_t child = fork_child([&] {
        CHILD_CHECK(pop_waiters_reach(q.get(), 1));  // the parent is asleep
        CHILD_CHECK(push_one(q.get(), 42, SHMDS_NOWAIT) == 0);
        return 0;
    });
    ASSERT_GT(child, 0);
    Rescue rescue(5s, [&] { push_one(q.get(), -1, SHMDS_NOWAIT); });
    std::int64_t v = 0;
    EXPECT_EQ(0, pop_one(q.get(), &v, SHMDS_FOREVER));
    EXPECT_FALSE(rescue.cancel()) << "the child's push did not wake the sleeper";
    EXPECT_EQ(42, v);
    ChildExit e = wait_child(child, 10s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
}

TEST_P(QueueBlocking, ChildPopWakesParentBlockedOnFull) {
    QueuePtr q = make_full(4);
    ASSERT_TRUE(q);
    pid_t child = fork_child([&] {
        CHILD_CHECK(push_waiters_reach(q.get(), 1));
        std::int64_t v = -1;
        CHILD_CHECK(pop_one(q.get(), &v, SHMDS_NOWAIT) == 0);
        CHILD_CHECK(v == 0);
        return 0;
    });
    ASSERT_GT(child, 0);
    Rescue rescue(5s, [&] {
        std::int64_t ignored;
        pop_one(q.get(), &ignored, SHMDS_NOWAIT);
    });
    EXPECT_EQ(0, push_one(q.get(), 4, SHMDS_FOREVER));
    EXPECT_FALSE(rescue.cancel()) << "the child's pop did not wake the sleeper";
    ChildExit e = wait_child(child, 10s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    std::vector<std::int64_t> rest;
    ASSERT_EQ(0, pop_many(q.get(), 8, rest, SHMDS_NOWAIT));
    EXPECT_EQ((std::vector<std::int64_t>{1, 2, 3, 4}), rest);
}

TEST_P(QueueBlocking, ClearWakesABlockedProducer) {
    QueuePtr q = make_full(4);
    ASSERT_TRUE(q);
    pid_t child = fork_child([&] {
        int rc = push_one(q.get(), 77, 5000 * kMs);
        return rc == 0 ? kGotIt : rc == -ETIMEDOUT ? kTimedOut : kWrong;
    });
    ASSERT_GT(child, 0);
    ASSERT_TRUE(push_waiters_reach(q.get(), 1));
    std::uint64_t removed = 0;
    ASSERT_EQ(0, shmds_queue_clear(q.get(), &removed));
    EXPECT_EQ(4u, removed);
    ChildExit e = wait_child(child, 10s);
    EXPECT_TRUE(e.exited && e.code == kGotIt) << e.describe();
    std::int64_t v = 0;
    ASSERT_EQ(0, pop_one(q.get(), &v, SHMDS_NOWAIT));
    EXPECT_EQ(77, v);
}

TEST_P(QueueBlocking, ManyWaitersOneItemExactlyOneGetsIt) {
    QueuePtr q = make(4);
    ASSERT_TRUE(q);
    constexpr int kWaiters = 4;
    std::vector<pid_t> kids;
    for (int i = 0; i < kWaiters; ++i) {
        kids.push_back(fork_child([&] {
            std::int64_t v = 0;
            int rc = pop_one(q.get(), &v, 2000 * kMs);
            if (rc == 0) return v == 7 ? kGotIt : kWrong;
            return rc == -ETIMEDOUT ? kTimedOut : kWrong;
        }));
        ASSERT_GT(kids.back(), 0);
    }
    ASSERT_TRUE(pop_waiters_reach(q.get(), kWaiters)) << stats_of(q.get()).pop_waiters;
    ASSERT_EQ(0, push_one(q.get(), 7, SHMDS_NOWAIT));
    int got = 0, timed_out = 0;
    for (pid_t k : kids) {
        ChildExit e = wait_child(k, 10s);
        ASSERT_TRUE(e.exited) << e.describe();
        got += e.code == kGotIt;
        timed_out += e.code == kTimedOut;
    }
    EXPECT_EQ(1, got);
    EXPECT_EQ(kWaiters - 1, timed_out);
    EXPECT_EQ(0u, shmds_queue_size(q.get()));
    EXPECT_EQ(0u, stats_of(q.get()).pop_waiters);
}

TEST_P(QueueBlocking, TimedPopMultiWaitsForOneThenTakesWhatIsThere) {
    QueuePtr q = make(16);
    ASSERT_TRUE(q);
    pid_t child = fork_child([&] {
        CHILD_CHECK(pop_waiters_reach(q.get(), 1));
        std::size_t pushed = 0;
        CHILD_CHECK(push_many(q.get(), 100, 3, &pushed, SHMDS_NOWAIT) == 0);
        return 0;
    });
    ASSERT_GT(child, 0);
    std::vector<std::int64_t> first;
    ASSERT_EQ(0, pop_many(q.get(), 10, first, 5000 * kMs)) << shmds_last_error();
    ChildExit e = wait_child(child, 10s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    // It returns as soon as it has something: whatever had arrived, at least one.
    ASSERT_GE(first.size(), 1u);
    ASSERT_LE(first.size(), 3u);
    std::vector<std::int64_t> all = first, rest;
    if (first.size() < 3) {
        ASSERT_EQ(0, pop_many(q.get(), 10, rest, SHMDS_NOWAIT));
        all.insert(all.end(), rest.begin(), rest.end());
    }
    EXPECT_EQ((std::vector<std::int64_t>{100, 101, 102}), all);

    // With items already there it takes them all without waiting, up to max.
    std::size_t pushed = 0;
    ASSERT_EQ(0, push_many(q.get(), 0, 5, &pushed, SHMDS_NOWAIT));
    ASSERT_EQ(0, pop_many(q.get(), 4, first, 5000 * kMs));
    EXPECT_EQ((std::vector<std::int64_t>{0, 1, 2, 3}), first);
    ASSERT_EQ(0, pop_many(q.get(), 4, first, 5000 * kMs));
    EXPECT_EQ((std::vector<std::int64_t>{4}), first);
    EXPECT_EQ(-ETIMEDOUT, pop_many(q.get(), 4, first, 50 * kMs));
    EXPECT_TRUE(first.empty());
}

TEST_P(QueueBlocking, TimedPushMultiCompletesWhenAConsumerMakesRoom) {
    QueuePtr q = make_full(4);
    ASSERT_TRUE(q);
    pid_t child = fork_child([&] {
        CHILD_CHECK(push_waiters_reach(q.get(), 1));
        for (std::int64_t want = 0; want < 10; ++want) {
            std::int64_t v = -1;
            CHILD_CHECK(pop_one(q.get(), &v, 5000 * kMs) == 0);
            CHILD_CHECK(v == want);
        }
        return 0;
    });
    ASSERT_GT(child, 0);
    std::size_t pushed = 0;
    EXPECT_EQ(0, push_many(q.get(), 4, 6, &pushed, 5000 * kMs)) << shmds_last_error();
    EXPECT_EQ(6u, pushed);
    ChildExit e = wait_child(child, 10s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    EXPECT_EQ(0u, shmds_queue_size(q.get()));

    // And when nobody makes room, the partial count comes back with the timeout.
    q = make_full(4);
    std::int64_t v = 0;
    ASSERT_EQ(0, pop_one(q.get(), &v, SHMDS_NOWAIT));
    EXPECT_EQ(-ETIMEDOUT, push_many(q.get(), 4, 3, &pushed, 100 * kMs));
    EXPECT_EQ(1u, pushed);
}

namespace {
std::atomic<int> g_signals{0};
void count_signal(int) { g_signals.fetch_add(1); }

// SIGUSR1 handled without SA_RESTART, so a blocking system call sees EINTR; restored on
// destruction.
class Sigusr1Handler {
public:
    Sigusr1Handler() {
        struct sigaction sa {};
        sa.sa_handler = count_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = 0;
        sigaction(SIGUSR1, &sa, &old_);
        g_signals = 0;
    }
    ~Sigusr1Handler() { sigaction(SIGUSR1, &old_, nullptr); }

private:
    struct sigaction old_ {};
};
}  // namespace

TEST_P(QueueBlocking, SignalsNeitherShortenNorBreakAWait) {
    QueuePtr q = make(4);
    ASSERT_TRUE(q);
    Sigusr1Handler handler;
    const pthread_t waiter = pthread_self();

    // A timed wait interrupted three times still lasts its full time.
    std::thread pester([&] {
        for (int i = 0; i < 3; ++i) {
            std::this_thread::sleep_for(60ms);
            pthread_kill(waiter, SIGUSR1);
        }
    });
    std::int64_t v = 0;
    auto start = Clock::now();
    EXPECT_EQ(-ETIMEDOUT, pop_one(q.get(), &v, 300 * kMs));
    const double ms = ms_since(start);
    pester.join();
    EXPECT_EQ(3, g_signals.load());
    EXPECT_GE(ms, 250.0);
    EXPECT_LE(ms, 1000.0);

    // A forever wait interrupted by a signal carries on and gets the item.
    std::thread late_push([&] {
        std::this_thread::sleep_for(60ms);
        pthread_kill(waiter, SIGUSR1);
        std::this_thread::sleep_for(100ms);
        push_one(q.get(), 5, SHMDS_NOWAIT);
    });
    EXPECT_EQ(0, pop_one(q.get(), &v, SHMDS_FOREVER));
    late_push.join();
    EXPECT_EQ(5, v);
    EXPECT_EQ(4, g_signals.load());
}

TEST_P(QueueBlocking, StatsCountTheWaitersWhileTheyWait) {
    QueuePtr q = make(2);
    ASSERT_TRUE(q);
    pid_t consumer = fork_child([&] {
        std::int64_t v = 0;
        return pop_one(q.get(), &v, 5000 * kMs) == 0 && v == 1 ? 0 : kWrong;
    });
    ASSERT_GT(consumer, 0);
    EXPECT_TRUE(pop_waiters_reach(q.get(), 1));
    EXPECT_EQ(0u, stats_of(q.get()).push_waiters);
    ASSERT_EQ(0, push_one(q.get(), 1, SHMDS_NOWAIT));
    ChildExit e = wait_child(consumer, 10s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    EXPECT_EQ(0u, stats_of(q.get()).pop_waiters);

    ASSERT_EQ(0, push_one(q.get(), 10, SHMDS_NOWAIT));
    ASSERT_EQ(0, push_one(q.get(), 11, SHMDS_NOWAIT));
    pid_t producer =
        fork_child([&] { return push_one(q.get(), 12, 5000 * kMs) == 0 ? 0 : kWrong; });
    ASSERT_GT(producer, 0);
    EXPECT_TRUE(push_waiters_reach(q.get(), 1));
    EXPECT_EQ(0u, stats_of(q.get()).pop_waiters);
    std::int64_t v = 0;
    ASSERT_EQ(0, pop_one(q.get(), &v, SHMDS_NOWAIT));
    e = wait_child(producer, 10s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    EXPECT_EQ(0u, stats_of(q.get()).push_waiters);
}

TEST_P(QueueBlocking, AnIdleConsumerUsesNoCpu) {
    QueuePtr q = make(4);
    ASSERT_TRUE(q);
    // The child reports its CPU time in microseconds through a second queue.
    shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(SHMDS_QUEUE_INT64, 4);
    shmds_queue_t *raw = nullptr;
    ASSERT_EQ(0, shmds_queue_create(nullptr, &cfg, &raw));
    QueuePtr report(raw);
    pid_t child = fork_child([&] {
        auto cpu_us = [] {
            rusage ru{};
            getrusage(RUSAGE_SELF, &ru);
            return std::int64_t(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
                   ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
        };
        const std::int64_t before = cpu_us();
        std::int64_t v = 0;
        CHILD_CHECK(pop_one(q.get(), &v, SHMDS_FOREVER) == 0);
        CHILD_CHECK(shmds_queue_push_int(report.get(), cpu_us() - before, SHMDS_NOWAIT) == 0);
        return 0;
    });
    ASSERT_GT(child, 0);
    ASSERT_TRUE(pop_waiters_reach(q.get(), 1));
    std::this_thread::sleep_for(500ms);
    ASSERT_EQ(0, push_one(q.get(), 1, SHMDS_NOWAIT));
    ChildExit e = wait_child(child, 10s);
    ASSERT_TRUE(e.exited && e.code == 0) << e.describe();
    std::int64_t used_us = -1;
    ASSERT_EQ(0, shmds_queue_pop_int(report.get(), &used_us, SHMDS_NOWAIT));
    EXPECT_LT(used_us, 50000) << "a consumer blocked for 0.5 s burnt " << used_us << " us of CPU";
}

// Two partners pinned to one CPU hand the CPU over by yielding, not by sleeping: a
// consumer that found the queue empty lets the producer run until the ring is full,
// instead of sleeping and being woken (and preempting the producer) after each item.
// Slept hand-overs cost the consumer more than one sleep per ring fill (256-300 here);
// yields, one or two in all. The bound is an eighth of a sleep per fill. A yield that
// some other process on the machine turns slow pauses a thread's yields for a second
// (core::yield_to_partner), so each attempt runs on a fresh thread, and one attempt in
// three must show it.
TEST_P(QueueBlocking, PartnersOnOneCpuHandOverByYieldingNotSleeping) {
    const std::vector<int> cpus = allowed_cpus();
    ASSERT_FALSE(cpus.empty());
    constexpr std::uint64_t kCapacity = 256;
    constexpr std::int64_t kItems = 200 * std::int64_t(kCapacity);
    QueuePtr q = make(kCapacity);
    ASSERT_TRUE(q);
    // The consumer's sleeps over one stream, or -1 when something else went wrong.
    auto stream_once = [&]() -> std::int64_t {
        if (!pin_to_cpu(cpus[0])) return -1;  // this thread only
        const pid_t producer = fork_child([&] {  // inherits the one-CPU affinity
            for (std::int64_t i = 0; i < kItems; ++i)
                CHILD_CHECK(push_one(q.get(), i % 10000, SHMDS_FOREVER) == 0);  // fits int16
            return 0;
        });
        if (producer <= 0) return -1;
        auto sleeps = [] {
            rusage ru{};
            getrusage(RUSAGE_THREAD, &ru);
            return std::int64_t(ru.ru_nvcsw);
        };
        const std::int64_t before = sleeps();
        bool in_order = true;
        for (std::int64_t i = 0; i < kItems && in_order; ++i) {
            std::int64_t v = -1;
            in_order = pop_one(q.get(), &v, 10'000 * kMs) == 0 && v == i % 10000;
        }
        const std::int64_t slept = sleeps() - before;
        const ChildExit e = wait_child(producer, 10s);
        EXPECT_TRUE(in_order) << shmds_last_error();
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
        return in_order && e.exited && e.code == 0 ? slept : -1;
    };
    std::int64_t fewest = -1;
    for (int attempt = 0; attempt < 3; ++attempt) {
        std::int64_t slept = -1;
        std::thread([&] { slept = stream_once(); }).join();
        ASSERT_GE(slept, 0);
        fewest = fewest < 0 ? slept : std::min(fewest, slept);
        if (fewest < kItems / std::int64_t(kCapacity) / 8) break;
    }
    EXPECT_LT(fewest, kItems / std::int64_t(kCapacity) / 8)
        << "the consumer slept at least " << fewest << " times for " << kItems << " items";
}
