// Eventfds (include/shmds/common.h, "Eventfds"): one rule for every structure, and a
// notifier whose descriptor can be replaced while other threads signal through it.
#include "core/eventfd.hpp"

#include <shmds/shmds.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <fcntl.h>
#include <thread>
#include <sys/eventfd.h>
#include <unistd.h>
#include <vector>

namespace {

using shmds::core::EventNotifier;

int new_eventfd() { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

// The counter of an eventfd the test owns, read and reset; 0 if nothing was written.
std::uint64_t take(int fd) {
    std::uint64_t v = 0;
    return read(fd, &v, sizeof v) == sizeof v ? v : 0;
}

// Threads notify without pause while another thread replaces the descriptor again and
// again. Right after each set() the test opens sentinel eventfds, which take the lowest
// free descriptor numbers: the ones set() would have just closed. A notify that raced
// the close would write into a sentinel. None may ever see a write.
TEST(EventNotifier, SetNeverClosesADescriptorAConcurrentNotifyMayStillUse) {
    EventNotifier n;
    ASSERT_GE(n.get_or_create(), 0);
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> notifies{0};
    std::vector<std::thread> notifiers;
    for (int t = 0; t < 3; ++t)
        notifiers.emplace_back([&] {
            while (!stop.load(std::memory_order_relaxed)) {
                if (n.notify() == 0) notifies.fetch_add(1, std::memory_order_relaxed);
            }
        });
    std::vector<int> sentinels;
    constexpr int kSets = 10000;
    for (int i = 0; i < kSets; ++i) {
        const int mine = new_eventfd();
        ASSERT_GE(mine, 0);
        ASSERT_EQ(0, n.set(mine));
        ::close(mine);  // the notifier has its own duplicate
        for (int k = 0; k < 2; ++k) {
            const int s = new_eventfd();
            ASSERT_GE(s, 0);
            sentinels.push_back(s);
        }
        // Keep the descriptor table small so freed numbers are reused at once.
        if (sentinels.size() >= 64) {
            for (int s : sentinels) {
                EXPECT_EQ(0u, take(s)) << "a notify wrote into a descriptor set() had closed";
                ::close(s);
            }
            sentinels.clear();
        }
    }
    stop = true;
    for (auto &t : notifiers) t.join();
    for (int s : sentinels) {
        EXPECT_EQ(0u, take(s)) << "a notify wrote into a descriptor set() had closed";
        ::close(s);
    }
    EXPECT_GT(notifies.load(), 0u);
}

TEST(EventNotifier, AReplacedDescriptorIsClosedOnceNoThreadUsesIt) {
    EventNotifier n;
    const int first = n.get_or_create();
    ASSERT_GE(first, 0);
    const int mine = new_eventfd();
    ASSERT_EQ(0, n.set(mine));
    // Nobody was notifying: the replaced descriptor is closed at once, not kept.
    EXPECT_EQ(-1, fcntl(first, F_GETFD));
    EXPECT_EQ(EBADF, errno);
    EXPECT_EQ(0, n.notify());
    EXPECT_EQ(1u, take(mine));  // the duplicate shares the caller's eventfd
    ::close(mine);
}

// ---- the rule: verbs never signal; notify does, on every structure --------------------

// The structure's eventfd must read nothing after `verb`, and 1 after its notify.
template <typename Verb, typename Notify>
void expect_explicit_only(int efd, Verb &&verb, Notify &&notify) {
    ASSERT_GE(efd, 0);
    verb();
    EXPECT_EQ(0u, take(efd)) << "the verb signalled the eventfd on its own";
    ASSERT_EQ(0, notify());
    EXPECT_EQ(1u, take(efd));
}

TEST(EventfdRule, QueuePubsubAndReqrepSignalOnlyOnNotify) {
    shmds_queue_config_t qc = SHMDS_QUEUE_CONFIG_INIT(SHMDS_QUEUE_INT64, 4);
    shmds_queue_t *q = nullptr;
    ASSERT_EQ(0, shmds_queue_create(nullptr, &qc, &q));
    expect_explicit_only(
        shmds_queue_eventfd(q), [&] { EXPECT_EQ(0, shmds_queue_push_int(q, 1, SHMDS_NOWAIT)); },
        [&] { return shmds_queue_notify(q); });
    shmds_queue_close(q);

    shmds_pubsub_config_t pc = SHMDS_PUBSUB_CONFIG_INIT(SHMDS_PUBSUB_INT64, 4);
    shmds_pubsub_t *p = nullptr;
    ASSERT_EQ(0, shmds_pubsub_create(nullptr, &pc, &p));
    expect_explicit_only(
        shmds_pubsub_eventfd(p), [&] { EXPECT_EQ(0, shmds_pubsub_publish_int(p, 1)); },
        [&] { return shmds_pubsub_notify(p); });
    shmds_pubsub_close(p);

    shmds_reqrep_config_t rc = SHMDS_REQREP_CONFIG_INIT(SHMDS_REQREP_INT64, 4, 4);
    shmds_reqrep_t *r = nullptr;
    ASSERT_EQ(0, shmds_reqrep_create(nullptr, &rc, &r));
    uint64_t id = 0, got_id = 0;
    expect_explicit_only(
        shmds_reqrep_eventfd(r, SHMDS_REQREP_REQUESTS),
        [&] { EXPECT_EQ(0, shmds_reqrep_send_int(r, 1, &id, SHMDS_NOWAIT)); },
        [&] { return shmds_reqrep_notify(r, SHMDS_REQREP_REQUESTS); });
    int64_t v = 0;
    ASSERT_EQ(0, shmds_reqrep_recv_int(r, &v, &got_id, SHMDS_NOWAIT));
    expect_explicit_only(
        shmds_reqrep_eventfd(r, SHMDS_REQREP_REPLIES),
        [&] { EXPECT_EQ(0, shmds_reqrep_reply_int(r, got_id, 2)); },
        [&] { return shmds_reqrep_notify(r, SHMDS_REQREP_REPLIES); });
    shmds_reqrep_close(r);
}

TEST(EventfdRule, SemaphoreAndBarrierSignalOnlyOnNotify) {
    shmds_semaphore_t *s = nullptr;
    ASSERT_EQ(0, shmds_semaphore_create(nullptr, 2, 0, &s));
    expect_explicit_only(
        shmds_semaphore_eventfd(s), [&] { EXPECT_EQ(0, shmds_semaphore_release(s, 1)); },
        [&] { return shmds_semaphore_notify(s); });
    shmds_semaphore_close(s);

    shmds_barrier_t *b = nullptr;
    ASSERT_EQ(0, shmds_barrier_create(nullptr, 2, &b));
    expect_explicit_only(
        shmds_barrier_eventfd(b),
        [&] {
            int other = 0;
            std::thread t([&] { other = shmds_barrier_wait(b, SHMDS_FOREVER); });
            const int me = shmds_barrier_wait(b, SHMDS_FOREVER);
            t.join();
            EXPECT_EQ(SHMDS_BARRIER_LEADER, me + other);  // it tripped
        },
        [&] { return shmds_barrier_notify(b); });
    shmds_barrier_close(b);
}

TEST(EventfdRule, HashMapSignalsOnlyOnNotify) {
    shmds_hashmap_config_t hc = SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_INT64, SHMDS_TYPE_INT64, 4);
    shmds_hashmap_t *m = nullptr;
    ASSERT_EQ(0, shmds_hashmap_create(nullptr, &hc, &m));
    expect_explicit_only(
        shmds_hashmap_eventfd(m), [&] { EXPECT_EQ(0, shmds_hashmap_put_ii(m, 1, 2)); },
        [&] { return shmds_hashmap_notify(m); });
    shmds_hashmap_close(m);
}

}  // namespace
