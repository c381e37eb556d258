// PubSub across processes: fan-out to forked subscribers, several forked publishers,
// blocking polls woken from another process, and the crash matrix (a publisher
// SIGKILLed at every claim-to-commit failpoint). Runs alone: it forks and measures the
// 2 s recovery bound the issue sets.
#include "pubsub_helpers.hpp"

#include "core/failpoint.hpp"

#include <shmds/shmds.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace shmds::test;

namespace {

// Subscriber progress in memory shared with the children, so a publisher can keep
// within one lap of the slowest subscriber (the tests check delivery, not overflow).
struct Progress {
    static constexpr int kMax = 8;
    std::atomic<std::uint64_t> read[kMax];
    std::atomic<int> ready;

    static Progress *make() {
        void *p = mmap(nullptr, sizeof(Progress), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        EXPECT_NE(MAP_FAILED, p);
        return new (p) Progress();
    }
    static void destroy(Progress *p) { munmap(p, sizeof(Progress)); }

    std::uint64_t slowest(int n) const {
        std::uint64_t m = ~std::uint64_t{0};
        for (int i = 0; i < n; ++i) m = std::min(m, read[i].load());
        return m;
    }
};

// Publish while staying less than `window` ahead of the slowest of n subscribers.
void wait_for_room(Progress *pr, int n, std::uint64_t published, std::uint64_t window) {
    for (std::uint64_t done = pr->slowest(n); published > done && published - done >= window;
         done = pr->slowest(n))
        std::this_thread::yield();
}

std::string message_of(std::uint64_t i) {
    // Lengths vary 1..200 so torn or misplaced payloads cannot pass the check.
    std::string m = "msg-" + std::to_string(i) + ":";
    m.append(i % 190, char('a' + i % 26));
    return m;
}

}  // namespace

TEST(PubSubFanOut, ThreeSubscribersEachGetEveryMessageInOrderAcrossFork) {
    for (int variant : {SHMDS_PUBSUB_INT64, SHMDS_PUBSUB_BYTES}) {
        SCOPED_TRACE(variant);
        constexpr int kSubs = 3;
        constexpr std::uint64_t kMessages = 5000;
        auto p = make_pubsub(variant, 256);
        Progress *pr = Progress::make();
        std::vector<pid_t> kids;
        for (int s = 0; s < kSubs; ++s) {
            kids.push_back(fork_child([&, s] {
                auto sub = subscribe(p.get(), true);
                pr->ready.fetch_add(1);
                char buf[256];
                for (std::uint64_t i = 0; i < kMessages; ++i) {
                    if (variant == SHMDS_PUBSUB_BYTES) {
                        std::size_t len = 0;
                        CHILD_CHECK(shmds_pubsub_sub_poll_bytes(sub.get(), buf, sizeof buf, &len,
                                                                5'000'000'000) == 0);
                        CHILD_CHECK(std::string(buf, len) == message_of(i));
                    } else {
                        std::int64_t v = -1;
                        CHILD_CHECK(shmds_pubsub_sub_poll_int(sub.get(), &v, 5'000'000'000) == 0);
                        CHILD_CHECK(v == std::int64_t(i * 7));
                    }
                    pr->read[s].store(i + 1);
                }
                CHILD_CHECK(shmds_pubsub_sub_overflow_count(sub.get()) == 0);
                CHILD_CHECK(shmds_pubsub_sub_skipped_count(sub.get()) == 0);
                return 0;
            }));
        }
        while (pr->ready.load() < kSubs) std::this_thread::yield();
        for (std::uint64_t i = 0; i < kMessages; ++i) {
            wait_for_room(pr, kSubs, i, 200);
            if (variant == SHMDS_PUBSUB_BYTES) {
                std::string m = message_of(i);
                ASSERT_EQ(0, shmds_pubsub_publish_bytes(p.get(), m.data(), m.size()));
            } else {
                ASSERT_EQ(0, shmds_pubsub_publish_int(p.get(), std::int64_t(i * 7)));
            }
        }
        for (pid_t k : kids) {
            ChildExit e = wait_child(k, std::chrono::seconds(30));
            EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
        }
        Progress::destroy(pr);
    }
}

TEST(PubSubFanOut, SeveralPublishersEveryValueArrivesOncePerSubscriber) {
    constexpr int kPubs = 3, kSubs = 2;
    constexpr std::int64_t kPerPub = 4000;
    const std::uint64_t seed = test_seed();
    auto p = make_pubsub(SHMDS_PUBSUB_INT64, 1024);
    Progress *pr = Progress::make();
    std::vector<pid_t> subs, pubs;
    for (int s = 0; s < kSubs; ++s) {
        subs.push_back(fork_child([&, s] {
            auto sub = subscribe(p.get(), true);
            pr->ready.fetch_add(1);
            std::vector<std::int64_t> next(kPubs, 0);  // per-publisher order and uniqueness
            std::int64_t sum = 0;
            for (std::int64_t n = 0; n < kPubs * kPerPub; ++n) {
                std::int64_t v = -1;
                const int rc = shmds_pubsub_sub_poll_int(sub.get(), &v, 5'000'000'000);
                if (rc != 0)
                    fprintf(stderr, "subscriber %d: %s after %lld messages (cursor %llu, "
                                    "write_pos %llu): %s\n",
                            s, shmds_errname(rc), (long long)n,
                            (unsigned long long)shmds_pubsub_sub_cursor(sub.get()),
                            (unsigned long long)shmds_pubsub_write_pos(p.get()),
                            shmds_last_error());
                CHILD_CHECK(rc == 0);
                const std::int64_t who = v / 1'000'000, i = v % 1'000'000;
                CHILD_CHECK(who >= 0 && who < kPubs);
                CHILD_CHECK(i == next[who]);
                ++next[who];
                sum += v;
                pr->read[s].store(std::uint64_t(n + 1));
            }
            std::int64_t want = 0;
            for (std::int64_t w = 0; w < kPubs; ++w)
                want += w * 1'000'000 * kPerPub + kPerPub * (kPerPub - 1) / 2;
            CHILD_CHECK(sum == want);
            CHILD_CHECK(shmds_pubsub_sub_overflow_count(sub.get()) == 0);
            return 0;
        }));
    }
    while (pr->ready.load() < kSubs) std::this_thread::yield();
    for (int w = 0; w < kPubs; ++w) {
        pubs.push_back(fork_child([&, w] {
            std::uint64_t rng = seed + std::uint64_t(w) * 0x9e3779b97f4a7c15ull;
            std::int64_t i = 0;
            while (i < kPerPub) {
                // Mix single publishes and batches, sized by the seed.
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                std::int64_t batch = std::min<std::int64_t>(1 + (rng >> 60), kPerPub - i);
                wait_for_room(pr, kSubs, shmds_pubsub_write_pos(p.get()), 1024 - 64);
                std::int64_t vals[16];
                for (std::int64_t b = 0; b < batch; ++b) vals[b] = w * 1'000'000 + i + b;
                CHILD_CHECK(shmds_pubsub_publish_multi_int(p.get(), vals, std::size_t(batch)) == 0);
                i += batch;
            }
            return 0;
        }));
    }
    for (pid_t k : pubs) {
        ChildExit e = wait_child(k, std::chrono::seconds(30));
        EXPECT_TRUE(e.exited && e.code == 0) << "publisher " << e.describe();
    }
    for (pid_t k : subs) {
        ChildExit e = wait_child(k, std::chrono::seconds(30));
        EXPECT_TRUE(e.exited && e.code == 0) << "subscriber " << e.describe();
    }
    Progress::destroy(pr);
}

TEST(PubSubBlocking, APollerAsleepInOneProcessIsWokenByAPublishInAnother) {
    auto p = make_pubsub(SHMDS_PUBSUB_INT32, 16);
    auto sub = subscribe(p.get());
    pid_t kid = fork_child([&] {
        std::int64_t v = 0;
        CHILD_CHECK(shmds_pubsub_sub_poll_int(sub.get(), &v, SHMDS_FOREVER) == 0);
        CHILD_CHECK(v == 77);
        return 0;
    });
    // Publish only once the child sleeps in the kernel, so the wakeup path is tested.
    for (int i = 0; i < 2000 && pubsub_stats(p.get()).waiting_subscribers == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(1u, pubsub_stats(p.get()).waiting_subscribers);
    ASSERT_EQ(0, shmds_pubsub_publish_int(p.get(), 77));
    ChildExit e = wait_child(kid, std::chrono::seconds(10));
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
}

#if SHMDS_FAILPOINTS
namespace {
struct CrashCase {
    const char *failpoint;
    int variant;
    bool multi;             // the dying publisher publishes a batch of 3
    std::uint64_t lost;     // positions the death leaves uncommitted
};
}  // namespace

// A publisher dies at each claim-to-commit point. Subscribers (one already asleep in a
// blocking poll, one polling later) get every later message within 2 s, skip exactly
// the dead positions, never see a torn or foreign message; for bytes, the slot the dead
// writer left odd is taken over by the next lap's writer.
TEST(PubSubCrash, APublisherKilledAtAnyClaimPointNeverStallsOrTearsSubscribers) {
    const CrashCase cases[] = {
        {"pubsub.int.publish.claimed", SHMDS_PUBSUB_INT64, false, 1},
        {"pubsub.int.publish.claimed", SHMDS_PUBSUB_INT32, true, 3},
        {"pubsub.int.publish.first_committed", SHMDS_PUBSUB_INT16, true, 2},
        {"pubsub.bytes.publish.claimed", SHMDS_PUBSUB_BYTES, false, 1},
        {"pubsub.bytes.publish.writing", SHMDS_PUBSUB_BYTES, false, 1},
        {"pubsub.bytes.publish.copied", SHMDS_PUBSUB_BYTES, true, 3},
    };
    for (const CrashCase &c : cases) {
        SCOPED_TRACE(c.failpoint + std::string(c.multi ? " (batch)" : ""));
        const bool bytes = c.variant == SHMDS_PUBSUB_BYTES;
        auto p = make_pubsub(c.variant, 8);
        auto early = subscribe(p.get());
        auto publish = [&](std::int64_t v) {
            if (bytes) {
                std::string m = message_of(std::uint64_t(v));
                return shmds_pubsub_publish_bytes(p.get(), m.data(), m.size());
            }
            return shmds_pubsub_publish_int(p.get(), v);
        };
        ASSERT_EQ(0, publish(1));
        // A subscriber in another process, asleep when the publisher dies.
        auto asleep = subscribe(p.get());
        pid_t sleeper = fork_child([&] {
            std::int64_t want[] = {1000, 1001, 1002};
            for (std::int64_t w : want) {
                if (bytes) {
                    char buf[256];
                    std::size_t len = 0;
                    CHILD_CHECK(shmds_pubsub_sub_poll_bytes(asleep.get(), buf, sizeof buf, &len,
                                                            5'000'000'000) == 0);
                    if (std::string(buf, len) != message_of(std::uint64_t(w))) {
                        // The dead batch's committed first message is the only extra allowed.
                        CHILD_CHECK(std::string(buf, len) == message_of(500));
                        CHILD_CHECK(shmds_pubsub_sub_poll_bytes(asleep.get(), buf, sizeof buf,
                                                                &len, 5'000'000'000) == 0);
                        CHILD_CHECK(std::string(buf, len) == message_of(std::uint64_t(w)));
                    }
                } else {
                    std::int64_t v = 0;
                    CHILD_CHECK(shmds_pubsub_sub_poll_int(asleep.get(), &v, 5'000'000'000) == 0);
                    if (v == 500) CHILD_CHECK(shmds_pubsub_sub_poll_int(asleep.get(), &v,
                                                                        5'000'000'000) == 0);
                    CHILD_CHECK(v == w);
                }
            }
            return 0;
        });
        pid_t dying = fork_child([&] {
            shmds::core::failpoint_arm(c.failpoint);
            if (bytes) {
                std::string m[3] = {message_of(500), message_of(501), message_of(502)};
                const void *d[3] = {m[0].data(), m[1].data(), m[2].data()};
                std::size_t l[3] = {m[0].size(), m[1].size(), m[2].size()};
                shmds_pubsub_publish_multi_bytes(p.get(), d, l, c.multi ? 3 : 1);
            } else {
                std::int64_t v[3] = {500, 501, 502};
                shmds_pubsub_publish_multi_int(p.get(), v, c.multi ? 3 : 1);
            }
            return 3;  // not reached: the failpoint kills us
        });
        ChildExit death = wait_child(dying, std::chrono::seconds(10));
        ASSERT_EQ(SIGKILL, death.signal) << death.describe();

        const auto start = std::chrono::steady_clock::now();
        for (std::int64_t v = 1000; v < 1003; ++v) ASSERT_EQ(0, publish(v));
        ChildExit woke = wait_child(sleeper, std::chrono::seconds(10));
        EXPECT_TRUE(woke.exited && woke.code == 0) << woke.describe();
        EXPECT_LT(ms_since(start), 2000.0);

        // The early subscriber, polling now: message 1, maybe the batch's committed
        // first value, then 1000..1002; never anything torn.
        std::vector<std::string> want;
        auto name = [&](std::int64_t v) {
            return bytes ? message_of(std::uint64_t(v)) : std::to_string(v);
        };
        want.push_back(name(1));
        if (c.lost == 2) want.push_back(name(500));
        for (std::int64_t v = 1000; v < 1003; ++v) want.push_back(name(v));
        std::vector<std::string> seen;
        const auto early_start = std::chrono::steady_clock::now();
        while (seen.size() < want.size()) {
            char buf[256];
            std::size_t len = 0;
            std::int64_t v = 0;
            int rc = bytes ? shmds_pubsub_sub_poll_bytes(early.get(), buf, sizeof buf, &len,
                                                         2'000'000'000)
                           : shmds_pubsub_sub_poll_int(early.get(), &v, 2'000'000'000);
            ASSERT_EQ(0, rc) << shmds_errname(rc) << ": " << shmds_last_error();
            seen.push_back(bytes ? std::string(buf, len) : std::to_string(v));
        }
        EXPECT_LT(ms_since(early_start), 2000.0);
        {
            char buf[256];
            std::size_t len = 0;
            std::int64_t v = 0;
            EXPECT_EQ(-EAGAIN, bytes ? shmds_pubsub_sub_poll_bytes(early.get(), buf, sizeof buf,
                                                                   &len, SHMDS_NOWAIT)
                                     : shmds_pubsub_sub_poll_int(early.get(), &v, SHMDS_NOWAIT));
        }
        EXPECT_EQ(want, seen);
        EXPECT_EQ(c.lost, shmds_pubsub_sub_skipped_count(early.get()));
        EXPECT_EQ(0u, pubsub_stats(p.get()).torn);

        if (bytes && std::strcmp(c.failpoint, "pubsub.bytes.publish.claimed") != 0) {
            // The dead writer's slot is odd; the next lap's writer takes it over.
            for (std::int64_t v = 2000; v < 2008; ++v) ASSERT_EQ(0, publish(v));
            EXPECT_GE(pubsub_stats(p.get()).takeovers, 1u);
            for (std::int64_t v = 2000; v < 2008; ++v) {
                char buf[256];
                std::size_t len = 0;
                ASSERT_EQ(0, shmds_pubsub_sub_poll_bytes(early.get(), buf, sizeof buf, &len,
                                                         SHMDS_NOWAIT));
                EXPECT_EQ(message_of(std::uint64_t(v)), std::string(buf, len));
            }
        }
    }
}
#endif
