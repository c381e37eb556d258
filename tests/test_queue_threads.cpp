// Threads on the queue, in one process: producers on one handle and consumers on a
// second handle to the same memfd (attached through SHMDS_BACKING_FD, so the same
// memory is mapped twice at different addresses, as two processes would see it), and
// threads sharing one handle. Checked: exactly-once delivery, each producer's order
// kept as each consumer saw it, sums and stats equal.
//
// This is the suite ThreadSanitizer runs (DESIGN.md §7):
//   meson setup build-tsan -Db_sanitize=thread -Dfailpoints=false
//   meson test -C build-tsan queue_threads
#include <shmds/queue.h>

#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "queue_traffic.hpp"

using namespace shmds::test;
using namespace shmds::test::traffic;

namespace {

constexpr std::uint32_t kProducers = 3;
constexpr std::uint32_t kConsumers = 3;

struct ThreadCase {
    const char *name;
    int variant;
    std::uint64_t per_producer;
};

void PrintTo(const ThreadCase &c, std::ostream *os) { *os << c.name; }

// How many mappings of this process come from the memfd called `name`; the kernel
// shows them as "/memfd:<name> (deleted)".
int mappings_of_memfd(const std::string &name) {
    const std::string label = "/memfd:" + name;
    std::ifstream maps("/proc/self/maps");
    int n = 0;
    for (std::string line; std::getline(maps, line);) {
        const std::size_t at = line.find(label);
        const std::size_t end = at + label.size();
        if (at != std::string::npos && (end == line.size() || line[end] == ' ')) ++n;
    }
    return n;
}

// Runs the producers on `producer_side` and the consumers on `consumer_side`.
void run_traffic(shmds_queue_t *producer_side, shmds_queue_t *consumer_side, const ThreadCase &tc,
                 std::uint64_t seed) {
    const Codec codec(tc.variant);
    Board board(kProducers, kConsumers, tc.per_producer);
    ASSERT_TRUE(board.ok());
    std::vector<int> results(kProducers + kConsumers, -1);
    std::vector<std::thread> threads;
    for (std::uint32_t p = 0; p < kProducers; ++p)
        threads.emplace_back(
            [&, p] { results[p] = produce(producer_side, codec, p, seed, board); });
    for (std::uint32_t c = 0; c < kConsumers; ++c)
        threads.emplace_back(
            [&, c] { results[kProducers + c] = consume(consumer_side, codec, c, seed, board); });
    for (auto &t : threads) t.join();
    for (std::size_t i = 0; i < results.size(); ++i)
        EXPECT_EQ(0, results[i]) << (i < kProducers ? "producer " : "consumer ")
                                 << (i < kProducers ? i : i - kProducers);
    EXPECT_TRUE(delivered_exactly_once(board));
    shmds_queue_stats_t st{};
    st.struct_size = sizeof st;
    ASSERT_EQ(0, shmds_queue_stats(consumer_side, &st)) << shmds_last_error();
    EXPECT_EQ(board.total(), st.push_ok);
    EXPECT_EQ(board.total(), st.pop_ok);
    EXPECT_EQ(0u, st.size);
    EXPECT_EQ(0u, st.recoveries);
    EXPECT_EQ(0u, st.push_waiters + st.pop_waiters);
}

class QueueThreads : public ::testing::TestWithParam<ThreadCase> {};

TEST_P(QueueThreads, ProducersAndConsumersOnTwoMappingsOfOneMemfd) {
    const ThreadCase &tc = GetParam();
    const std::uint64_t seed = test_seed();
    const std::string name = std::string("shmds-threads-") + tc.name;
    shmds_options_t made = SHMDS_OPTIONS_INIT;
    made.backing = SHMDS_BACKING_MEMFD;
    made.name = name.c_str();
    shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(tc.variant, 64);
    shmds_queue_t *a = nullptr, *b = nullptr;
    ASSERT_EQ(0, shmds_queue_create(&made, &cfg, &a)) << shmds_last_error();
    const int fd = shmds_queue_fd(a);
    ASSERT_GE(fd, 0) << shmds_last_error();
    shmds_options_t attach = SHMDS_OPTIONS_INIT;
    attach.backing = SHMDS_BACKING_FD;
    attach.fd = fd;
    ASSERT_EQ(0, shmds_queue_open(&attach, tc.variant, &b)) << shmds_last_error();
    ASSERT_EQ(2, mappings_of_memfd(name)) << "the memfd should be mapped twice in this process";

    run_traffic(a, b, tc, seed);
    shmds_queue_close(b);
    shmds_queue_close(a);
}

TEST_P(QueueThreads, ProducersAndConsumersSharingOneHandle) {
    const ThreadCase &tc = GetParam();
    const std::uint64_t seed = test_seed();
    shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(tc.variant, 64);
    shmds_queue_t *q = nullptr;
    ASSERT_EQ(0, shmds_queue_create(nullptr, &cfg, &q)) << shmds_last_error();
    run_traffic(q, q, tc, seed);
    shmds_queue_close(q);
}

// stats.push_full and pop_empty count calls that failed or timed out, never a call that
// waited and then succeeded, however long it slept (sleeps are cut into rechecks).
TEST_P(QueueThreads, CallsThatWaitAndThenSucceedAreNotCountedAsFullOrEmpty) {
    const ThreadCase &tc = GetParam();
    KeyQueue kq(tc.variant, 2);
    ASSERT_EQ(0, kq.create_rc()) << shmds_last_error();
    for (std::uint64_t k = 0; k < 2; ++k) ASSERT_EQ(0, kq.push(k, SHMDS_NOWAIT));
    constexpr auto kLongerThanTwoRechecks = std::chrono::milliseconds(250);

    int rc = -1;
    std::thread producer([&] { rc = kq.push(2, SHMDS_FOREVER); });
    EXPECT_TRUE(eventually([&] { return kq.stats().push_waiters == 1; }, 5s));
    std::this_thread::sleep_for(kLongerThanTwoRechecks);
    std::uint64_t key = 99;
    EXPECT_EQ(0, kq.pop1(&key, SHMDS_NOWAIT));
    producer.join();
    EXPECT_EQ(0, rc) << shmds_errname(rc);
    std::vector<std::uint64_t> rest;
    ASSERT_EQ(0, kq.drain_all(&rest));
    EXPECT_EQ((std::vector<std::uint64_t>{1, 2}), rest);

    std::thread consumer([&] { rc = kq.pop1(&key, SHMDS_FOREVER); });
    EXPECT_TRUE(eventually([&] { return kq.stats().pop_waiters == 1; }, 5s));
    std::this_thread::sleep_for(kLongerThanTwoRechecks);
    EXPECT_EQ(0, kq.push(3, SHMDS_NOWAIT));
    consumer.join();
    EXPECT_EQ(0, rc) << shmds_errname(rc);
    EXPECT_EQ(3u, key);

    const shmds_queue_stats_t st = kq.stats();
    EXPECT_EQ(0u, st.push_full);
    EXPECT_EQ(0u, st.pop_empty);
    EXPECT_EQ(4u, st.push_ok);
    EXPECT_EQ(4u, st.pop_ok);
}

INSTANTIATE_TEST_SUITE_P(Variants, QueueThreads,
                         ::testing::Values(ThreadCase{"int64", SHMDS_QUEUE_INT64, 20000},
                                           ThreadCase{"int32", SHMDS_QUEUE_INT32, 20000},
                                           ThreadCase{"bytes", SHMDS_QUEUE_BYTES, 10000}),
                         [](const ::testing::TestParamInfo<ThreadCase> &i) {
                             return std::string(i.param.name);
                         });

}  // namespace
