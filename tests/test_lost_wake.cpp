// No sleeper trusts a wake (DESIGN.md §5, core/block.hpp). For every structure and every
// blocking verb: a sleeper in one process waits with SHMDS_FOREVER; a waker in another
// process makes the state ready (publishes, replies, releases, trips...) and is SIGKILLed
// at the failpoint between that commit and its wake. The sleeper must still return, with
// the data, within the wake bound (100 ms; asserted with room for a loaded machine).
#include "shmds_config.h"
#include "support/proc.hpp"

#if SHMDS_FAILPOINTS
#include "core/failpoint.hpp"
#endif

#include <shmds/buffer.h>
#include <shmds/deque.h>
#include <shmds/heap.h>
#include <shmds/log.h>
#include <shmds/pubsub.h>
#include <shmds/stack.h>
#include <shmds/queue.h>
#include <shmds/reqrep.h>
#include <shmds/ringbuffer.h>
#include <shmds/pool.h>
#include <shmds/sync.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>

using namespace shmds::test;

namespace {

// The wake bound is 100 ms; the assertion leaves room for sanitizers and a busy machine.
constexpr auto kReturnBound = 1500ms;
// How long the sleeper gets to fall asleep before the waker runs.
constexpr auto kFallAsleep = 150ms;

// Fork the sleeper (a FOREVER call that returns 0 only with the right data), let it fall
// asleep, fork the waker armed to die at `failpoint` (nullptr: the waker's body ends by
// itself, e.g. a condvar signaller that exits before signalling), then expect the sleeper
// to finish cleanly within kReturnBound of the waker's death.
void expect_sleeper_returns(const std::function<int()> &sleeper, const char *failpoint,
                            const std::function<int()> &waker) {
    const pid_t s = fork_child(sleeper);
    ASSERT_GT(s, 0);
    std::this_thread::sleep_for(kFallAsleep);
    const pid_t w = fork_child([&] {
#if SHMDS_FAILPOINTS
        if (failpoint) shmds::core::failpoint_arm(failpoint);
#endif
        const int rc = waker();
        if (failpoint) {
            std::fprintf(stderr, "waker returned %d instead of dying at %s\n", rc, failpoint);
            return 3;
        }
        return rc;
    });
    ASSERT_GT(w, 0);
    const ChildExit we = wait_child(w, 10s);
    if (failpoint) {
        EXPECT_TRUE(!we.exited && we.signal == SIGKILL)
            << "the waker should die at " << failpoint << " but " << we.describe();
    } else {
        EXPECT_TRUE(we.exited && we.code == 0) << "the waker " << we.describe();
    }
    const auto death = std::chrono::steady_clock::now();
    const ChildExit se = wait_child(s, kReturnBound);
    EXPECT_TRUE(se.exited && se.code == 0)
        << "the FOREVER sleeper " << se.describe() << " " << ms_since(death)
        << " ms after its waker died between commit and wake";
}

// A word both processes see.

struct SharedFlag {
    std::atomic<int> *p = static_cast<std::atomic<int> *>(
        mmap(nullptr, sizeof(std::atomic<int>), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    ~SharedFlag() { munmap(p, sizeof(*p)); }
};

// The holder's side of a lock-like case: a child takes the state with take() (which
// must succeed), lets the sleeper queue behind it, then dies at `failpoint` inside
// release(), between giving the state up and waking. The sleeper (a FOREVER call that
// must succeed) is checked by expect_sleeper_returns.
void expect_sleeper_survives_holder(const std::function<bool()> &take, const char *failpoint,
                                    const std::function<void()> &release,
                                    const std::function<int()> &sleeper) {
    SharedFlag stage;
    const pid_t holder = fork_child([&] {
        CHILD_CHECK(take());
        stage.p->store(1);
        while (stage.p->load() != 2) usleep(1000);  // until the sleeper has queued
#if SHMDS_FAILPOINTS
        shmds::core::failpoint_arm(failpoint);
#endif
        release();
        return 3;  // only reached if the release never got to its wake
    });
    ASSERT_GT(holder, 0);
    while (stage.p->load() != 1) std::this_thread::sleep_for(1ms);
    expect_sleeper_returns(sleeper, nullptr, [&] {
        stage.p->store(2);
        return 0;
    });
    const ChildExit he = wait_child(holder, 10s);
    EXPECT_TRUE(!he.exited && he.signal == SIGKILL)
        << "the holder should die at " << failpoint << " but " << he.describe();
}

shmds_options_t anon() {
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_ANON;
    return o;
}

class LostWake : public ::testing::Test {
protected:
    void SetUp() override {
        if (!SHMDS_FAILPOINTS) GTEST_SKIP() << "built without -Dfailpoints=true: no crash points";
    }
};

// ------------------------------------------------------------------------ buffer

// A bulk read asleep behind a write batch whose owner dies after publishing it but
// before waking: the reader returns with the batch's data.
TEST_F(LostWake, BufferGetRawWhoseWriterDiesBeforeWaking) {
    const shmds_options_t o = anon();
    shmds_buffer_config_t cfg = SHMDS_BUFFER_CONFIG_INIT(SHMDS_TYPE_INT64, 8, 0);
    shmds_buffer_t *b = nullptr;
    ASSERT_EQ(0, shmds_buffer_create(&o, &cfg, &b)) << shmds_last_error();
    expect_sleeper_survives_holder(
        [&] {
            void *d;
            if (shmds_buffer_write_begin(b, &d, SHMDS_FOREVER) != 0) return false;
            for (int i = 0; i < 8; ++i) static_cast<std::int64_t *>(d)[i] = 40 + i;
            return true;
        },
        "buffer.write.unwoken", [&] { shmds_buffer_write_end(b); },
        [&] {
            std::int64_t got[8];
            CHILD_CHECK(shmds_buffer_get_raw(b, 0, sizeof got, got, SHMDS_FOREVER) == 0);
            for (int i = 0; i < 8; ++i) CHILD_CHECK(got[i] == 40 + i);
            return 0;
        });
    shmds_buffer_close(b);
}

// ------------------------------------------------------------------------ log

shmds_log_t *new_log() {
    const shmds_options_t o = anon();
    shmds_log_config_t cfg = SHMDS_LOG_CONFIG_INIT(4096);
    shmds_log_t *l = nullptr;
    EXPECT_EQ(0, shmds_log_create(&o, &cfg, &l)) << shmds_last_error();
    return l;
}

TEST_F(LostWake, LogWaitForWhoseAppenderDiesBeforeWaking) {
    shmds_log_t *l = new_log();
    ASSERT_NE(nullptr, l);
    expect_sleeper_returns(
        [&] {
            CHILD_CHECK(shmds_log_wait_for(l, 0, SHMDS_FOREVER) == 0);
            char buf[16];
            std::size_t len = 0;
            CHILD_CHECK(shmds_log_read_entry(l, 0, buf, sizeof buf, &len, nullptr) == 0);
            CHILD_CHECK(len == 5 && std::memcmp(buf, "hello", 5) == 0);
            return 0;
        },
        "log.append.unwoken", [&] { return shmds_log_append(l, "hello", 5, nullptr); });
    shmds_log_close(l);
}

TEST_F(LostWake, LogWaitForWhoseResetterDiesBeforeWaking) {
    shmds_log_t *l = new_log();
    ASSERT_NE(nullptr, l);
    expect_sleeper_returns(
        [&] {
            CHILD_CHECK(shmds_log_wait_for(l, 0, SHMDS_FOREVER) == -ESTALE);
            CHILD_CHECK(shmds_log_epoch(l) == 2);
            return 0;
        },
        "log.reset.unwoken", [&] { return shmds_log_reset(l); });
    shmds_log_close(l);
}

// ------------------------------------------------------------------------ queue

TEST_F(LostWake, QueueBytesPopWhosePusherDiesBeforeWaking) {
    const shmds_options_t o = anon();
    shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(SHMDS_QUEUE_BYTES, 8);
    shmds_queue_t *q = nullptr;
    ASSERT_EQ(0, shmds_queue_create(&o, &cfg, &q)) << shmds_last_error();
    expect_sleeper_returns(
        [&] {
            char buf[16];
            std::size_t len = 0;
            CHILD_CHECK(shmds_queue_pop_bytes(q, buf, sizeof buf, &len, SHMDS_FOREVER) == 0);
            CHILD_CHECK(len == 5 && std::memcmp(buf, "hello", 5) == 0);
            return 0;
        },
        "queue.bytes.push.unwoken", [&] { return shmds_queue_push_bytes(q, "hello", 5, 0); });
    shmds_queue_close(q);
}

TEST_F(LostWake, QueueBytesPushWhosePopperDiesBeforeWaking) {
    const shmds_options_t o = anon();
    shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(SHMDS_QUEUE_BYTES, 1);
    shmds_queue_t *q = nullptr;
    ASSERT_EQ(0, shmds_queue_create(&o, &cfg, &q)) << shmds_last_error();
    ASSERT_EQ(0, shmds_queue_push_bytes(q, "a", 1, 0));
    expect_sleeper_returns(
        [&] { return shmds_queue_push_bytes(q, "b", 1, SHMDS_FOREVER) == 0 ? 0 : 1; },
        "queue.bytes.pop.unwoken", [&] {
            char buf[4];
            std::size_t len = 0;
            return shmds_queue_pop_bytes(q, buf, sizeof buf, &len, 0);
        });
    char buf[4];
    std::size_t len = 0;
    EXPECT_EQ(0, shmds_queue_pop_bytes(q, buf, sizeof buf, &len, 0));
    EXPECT_EQ('b', buf[0]);
    shmds_queue_close(q);
}

TEST_F(LostWake, QueueInt64PopWhosePusherDiesBeforeWaking) {
    SKIP_IF_WIDE_ATOMICS_ARE_PROCESS_LOCAL();
    const shmds_options_t o = anon();
    shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(SHMDS_QUEUE_INT64, 8);
    shmds_queue_t *q = nullptr;
    ASSERT_EQ(0, shmds_queue_create(&o, &cfg, &q)) << shmds_last_error();
    expect_sleeper_returns(
        [&] {
            int64_t v = 0;
            CHILD_CHECK(shmds_queue_pop_int(q, &v, SHMDS_FOREVER) == 0);
            CHILD_CHECK(v == 42);
            return 0;
        },
        "queue.int.push.published", [&] { return shmds_queue_push_int(q, 42, 0); });
    shmds_queue_close(q);
}

// ---------------------------------------------------------------- deque and stack
// One engine: every blocking verb of both, woken by a waker killed after its commit.

shmds_deque_t *new_deque(int type, std::uint64_t capacity) {
    const shmds_options_t o = anon();
    shmds_deque_config_t cfg = SHMDS_DEQUE_CONFIG_INIT(type, capacity);
    if (type == SHMDS_TYPE_BYTES) cfg.max_len = 8;
    shmds_deque_t *d = nullptr;
    EXPECT_EQ(0, shmds_deque_create(&o, &cfg, &d)) << shmds_last_error();
    return d;
}

shmds_stack_t *new_stack(std::uint64_t capacity) {
    const shmds_options_t o = anon();
    shmds_stack_config_t cfg = SHMDS_STACK_CONFIG_INIT(SHMDS_TYPE_INT64, capacity);
    shmds_stack_t *s = nullptr;
    EXPECT_EQ(0, shmds_stack_create(&o, &cfg, &s)) << shmds_last_error();
    return s;
}

TEST_F(LostWake, DequePopBackWhosePushFrontDiesBeforeWaking) {
    shmds_deque_t *d = new_deque(SHMDS_TYPE_INT64, 4);
    expect_sleeper_returns(
        [&] {
            int64_t v = 0;
            CHILD_CHECK(shmds_deque_pop_int(d, SHMDS_DEQUE_BACK, &v, SHMDS_FOREVER) == 0);
            CHILD_CHECK(v == 42);
            return 0;
        },
        "deque.push.unwoken", [&] { return shmds_deque_push_int(d, SHMDS_DEQUE_FRONT, 42, 0); });
    shmds_deque_close(d);
}

TEST_F(LostWake, DequePopMultiBytesWhosePushMultiDiesBeforeWaking) {
    shmds_deque_t *d = new_deque(SHMDS_TYPE_BYTES, 4);
    expect_sleeper_returns(
        [&] {
            char buf[16];
            std::size_t lens[2], got = 0;
            CHILD_CHECK(shmds_deque_pop_multi_bytes(d, SHMDS_DEQUE_FRONT, buf, sizeof buf, lens, 2,
                                                    &got, SHMDS_FOREVER) == 0);
            CHILD_CHECK(got >= 1 && lens[0] == 2 && std::memcmp(buf, "ab", 2) == 0);
            return 0;
        },
        "deque.push.unwoken", [&] {
            const void *datas[] = {"ab", "cd"};
            const std::size_t lens[] = {2, 2};
            std::size_t pushed = 0;
            return shmds_deque_push_multi_bytes(d, SHMDS_DEQUE_BACK, datas, lens, 2, &pushed, 0);
        });
    shmds_deque_close(d);
}

TEST_F(LostWake, DequePushFrontWhosePopperDiesBeforeWaking) {
    shmds_deque_t *d = new_deque(SHMDS_TYPE_F64, 1);
    ASSERT_EQ(0, shmds_deque_push_f64(d, SHMDS_DEQUE_BACK, 1.5, 0));
    expect_sleeper_returns(
        [&] { return shmds_deque_push_f64(d, SHMDS_DEQUE_FRONT, 2.5, SHMDS_FOREVER) == 0 ? 0 : 1; },
        "deque.pop.unwoken", [&] {
            double v;
            return shmds_deque_pop_f64(d, SHMDS_DEQUE_BACK, &v, 0);
        });
    double v = 0;
    EXPECT_EQ(0, shmds_deque_pop_f64(d, SHMDS_DEQUE_FRONT, &v, 0));
    EXPECT_EQ(2.5, v);
    shmds_deque_close(d);
}

TEST_F(LostWake, DequePushMultiWhoseClearerDiesBeforeWaking) {
    shmds_deque_t *d = new_deque(SHMDS_TYPE_INT32, 2);
    const int64_t two[] = {1, 2};
    std::size_t pushed = 0;
    ASSERT_EQ(0, shmds_deque_push_multi_int(d, SHMDS_DEQUE_BACK, two, 2, &pushed, 0));
    expect_sleeper_returns(
        [&] {
            std::size_t n = 0;
            const int64_t v[] = {7, 8};
            CHILD_CHECK(shmds_deque_push_multi_int(d, SHMDS_DEQUE_BACK, v, 2, &n, SHMDS_FOREVER) ==
                        0);
            CHILD_CHECK(n == 2);
            return 0;
        },
        "deque.clear.unwoken", [&] { return shmds_deque_clear(d, nullptr); });
    int64_t v = 0;
    EXPECT_EQ(0, shmds_deque_pop_int(d, SHMDS_DEQUE_FRONT, &v, 0));
    EXPECT_EQ(7, v);
    shmds_deque_close(d);
}

TEST_F(LostWake, StackPopWhosePusherDiesBeforeWaking) {
    shmds_stack_t *s = new_stack(4);
    expect_sleeper_returns(
        [&] {
            int64_t v = 0;
            CHILD_CHECK(shmds_stack_pop_int(s, &v, SHMDS_FOREVER) == 0);
            CHILD_CHECK(v == 9);
            return 0;
        },
        "stack.push.unwoken", [&] { return shmds_stack_push_int(s, 9, 0); });
    shmds_stack_close(s);
}

TEST_F(LostWake, StackPopMultiWhosePushMultiDiesBeforeWaking) {
    shmds_stack_t *s = new_stack(4);
    expect_sleeper_returns(
        [&] {
            int64_t v[4];
            std::size_t got = 0;
            CHILD_CHECK(shmds_stack_pop_multi_int(s, v, 4, &got, SHMDS_FOREVER) == 0);
            CHILD_CHECK(got >= 1);
            return 0;
        },
        "stack.push.unwoken", [&] {
            const int64_t v[] = {1, 2};
            std::size_t pushed = 0;
            return shmds_stack_push_multi_int(s, v, 2, &pushed, 0);
        });
    shmds_stack_close(s);
}

TEST_F(LostWake, StackPushWhosePopperDiesBeforeWaking) {
    shmds_stack_t *s = new_stack(1);
    ASSERT_EQ(0, shmds_stack_push_int(s, 1, 0));
    expect_sleeper_returns(
        [&] { return shmds_stack_push_int(s, 2, SHMDS_FOREVER) == 0 ? 0 : 1; },
        "stack.pop.unwoken", [&] {
            int64_t v;
            return shmds_stack_pop_int(s, &v, 0);
        });
    int64_t v = 0;
    EXPECT_EQ(0, shmds_stack_pop_int(s, &v, 0));
    EXPECT_EQ(2, v);
    shmds_stack_close(s);
}

TEST_F(LostWake, StackPushMultiWhoseClearerDiesBeforeWaking) {
    shmds_stack_t *s = new_stack(1);
    ASSERT_EQ(0, shmds_stack_push_int(s, 1, 0));
    expect_sleeper_returns(
        [&] {
            const int64_t v[] = {5};
            std::size_t n = 0;
            return shmds_stack_push_multi_int(s, v, 1, &n, SHMDS_FOREVER) == 0 ? 0 : 1;
        },
        "stack.clear.unwoken", [&] { return shmds_stack_clear(s, nullptr); });
    int64_t v = 0;
    EXPECT_EQ(0, shmds_stack_peek_int(s, &v));
    EXPECT_EQ(5, v);
    shmds_stack_close(s);
}

// ----------------------------------------------------------------------- pubsub

TEST_F(LostWake, PubSubInt64PollWhosePublisherDiesBeforeWaking) {
    SKIP_IF_WIDE_ATOMICS_ARE_PROCESS_LOCAL();
    const shmds_options_t o = anon();
    shmds_pubsub_config_t cfg = SHMDS_PUBSUB_CONFIG_INIT(SHMDS_PUBSUB_INT64, 16);
    shmds_pubsub_t *ps = nullptr;
    ASSERT_EQ(0, shmds_pubsub_create(&o, &cfg, &ps)) << shmds_last_error();
    shmds_pubsub_sub_t *sub = nullptr;
    ASSERT_EQ(0, shmds_pubsub_subscribe(ps, &sub));
    expect_sleeper_returns(
        [&] {
            int64_t v = 0;
            CHILD_CHECK(shmds_pubsub_sub_poll_int(sub, &v, SHMDS_FOREVER) == 0);
            CHILD_CHECK(v == 7);
            return 0;
        },
        "pubsub.int.publish.unwoken", [&] { return shmds_pubsub_publish_int(ps, 7); });
    shmds_pubsub_sub_close(sub);
    shmds_pubsub_close(ps);
}

TEST_F(LostWake, PubSubBytesPollWhosePublisherDiesBeforeWaking) {
    const shmds_options_t o = anon();
    shmds_pubsub_config_t cfg = SHMDS_PUBSUB_CONFIG_INIT(SHMDS_PUBSUB_BYTES, 16);
    shmds_pubsub_t *ps = nullptr;
    ASSERT_EQ(0, shmds_pubsub_create(&o, &cfg, &ps)) << shmds_last_error();
    shmds_pubsub_sub_t *sub = nullptr;
    ASSERT_EQ(0, shmds_pubsub_subscribe(ps, &sub));
    expect_sleeper_returns(
        [&] {
            char buf[16];
            std::size_t len = 0;
            CHILD_CHECK(shmds_pubsub_sub_poll_bytes(sub, buf, sizeof buf, &len, SHMDS_FOREVER) == 0);
            CHILD_CHECK(len == 4 && std::memcmp(buf, "tick", 4) == 0);
            return 0;
        },
        "pubsub.bytes.publish.unwoken", [&] { return shmds_pubsub_publish_bytes(ps, "tick", 4); });
    shmds_pubsub_sub_close(sub);
    shmds_pubsub_close(ps);
}

// ----------------------------------------------------------------------- reqrep

struct ReqRepFixture {
    shmds_reqrep_t *rr = nullptr;
    explicit ReqRepFixture(uint64_t capacity) {
        const shmds_options_t o = anon();
        shmds_reqrep_config_t cfg = SHMDS_REQREP_CONFIG_INIT(SHMDS_REQREP_INT64, capacity, 4);
        EXPECT_EQ(0, shmds_reqrep_create(&o, &cfg, &rr)) << shmds_last_error();
    }
    ~ReqRepFixture() { shmds_reqrep_close(rr); }
};

TEST_F(LostWake, ReqRepRecvWhoseSenderDiesBeforeWaking) {
    ReqRepFixture f(4);
    ASSERT_NE(nullptr, f.rr);
    expect_sleeper_returns(
        [&] {
            int64_t v = 0;
            uint64_t id = 0;
            CHILD_CHECK(shmds_reqrep_recv_int(f.rr, &v, &id, SHMDS_FOREVER) == 0);
            CHILD_CHECK(v == 5);
            return 0;
        },
        "reqrep.send.queued", [&] {
            uint64_t id = 0;
            return shmds_reqrep_send_int(f.rr, 5, &id, 0);
        });
}

TEST_F(LostWake, ReqRepGetWhoseReplierDiesBeforeWaking) {
    ReqRepFixture f(4);
    ASSERT_NE(nullptr, f.rr);
    uint64_t id = 0;
    ASSERT_EQ(0, shmds_reqrep_send_int(f.rr, 5, &id, 0));
    expect_sleeper_returns(
        [&] {
            int64_t reply = 0;
            CHILD_CHECK(shmds_reqrep_get_int(f.rr, id, &reply, SHMDS_FOREVER) == 0);
            CHILD_CHECK(reply == 50);
            return 0;
        },
        "reqrep.reply.unwoken", [&] {
            int64_t v = 0;
            uint64_t got = 0;
            if (shmds_reqrep_recv_int(f.rr, &v, &got, 0) != 0) return 4;
            return shmds_reqrep_reply_int(f.rr, got, v * 10);
        });
}

TEST_F(LostWake, ReqRepSendOnAFullRingWhoseReceiverDiesBeforeWaking) {
    ReqRepFixture f(1);
    ASSERT_NE(nullptr, f.rr);
    uint64_t first = 0;
    ASSERT_EQ(0, shmds_reqrep_send_int(f.rr, 1, &first, 0));
    expect_sleeper_returns(
        [&] {
            uint64_t id = 0;
            CHILD_CHECK(shmds_reqrep_send_int(f.rr, 2, &id, SHMDS_FOREVER) == 0);
            return 0;
        },
        "reqrep.recv.unwoken", [&] {
            int64_t v = 0;
            uint64_t got = 0;
            return shmds_reqrep_recv_int(f.rr, &v, &got, 0);
        });
}

// ------------------------------------------------------------------------- sync

TEST_F(LostWake, MutexLockWhoseHolderDiesBetweenUnlockAndWake) {
    const shmds_options_t o = anon();
    shmds_mutex_t *m = nullptr;
    ASSERT_EQ(0, shmds_mutex_create(&o, &m)) << shmds_last_error();
    expect_sleeper_survives_holder(
        [&] { return shmds_mutex_lock(m, SHMDS_FOREVER) == 0; }, "stamp_lock.unlock.unwoken",
        [&] { shmds_mutex_unlock(m); },
        [&] {
            CHILD_CHECK(shmds_mutex_lock(m, SHMDS_FOREVER) == 0);
            CHILD_CHECK(shmds_mutex_unlock(m) == 0);
            return 0;
        });
    shmds_mutex_close(m);
}

TEST_F(LostWake, SemaphoreAcquireWhoseReleaserDiesBeforeWaking) {
    const shmds_options_t o = anon();
    shmds_semaphore_t *s = nullptr;
    ASSERT_EQ(0, shmds_semaphore_create(&o, 4, 0, &s)) << shmds_last_error();
    expect_sleeper_returns(
        [&] { return shmds_semaphore_acquire(s, SHMDS_FOREVER) == 0 ? 0 : 1; },
        "semaphore.release.unwoken", [&] { return shmds_semaphore_release(s, 1); });
    shmds_semaphore_close(s);
}

TEST_F(LostWake, BarrierWaitWhoseTripperDiesBeforeWaking) {
    const shmds_options_t o = anon();
    shmds_barrier_t *b = nullptr;
    ASSERT_EQ(0, shmds_barrier_create(&o, 2, &b)) << shmds_last_error();
    expect_sleeper_returns(
        [&] {
            const int rc = shmds_barrier_wait(b, SHMDS_FOREVER);
            CHILD_CHECK(rc >= 0);  // a follower (or leader) of a tripped barrier
            return 0;
        },
        "barrier.trip.unwoken", [&] { return shmds_barrier_wait(b, SHMDS_FOREVER); });
    shmds_barrier_close(b);
}

TEST_F(LostWake, RwLockReaderWhoseWriterDiesBetweenUnlockAndWake) {
    const shmds_options_t o = anon();
    shmds_rwlock_t *rw = nullptr;
    ASSERT_EQ(0, shmds_rwlock_create(&o, 8, &rw)) << shmds_last_error();
    expect_sleeper_survives_holder(
        [&] { return shmds_rwlock_wrlock(rw, SHMDS_FOREVER) == 0; },
        "rwlock.unlock.write.unwoken", [&] { shmds_rwlock_unlock(rw); },
        [&] {
            CHILD_CHECK(shmds_rwlock_rdlock(rw, SHMDS_FOREVER) == 0);
            CHILD_CHECK(shmds_rwlock_unlock(rw) == 0);
            return 0;
        });
    shmds_rwlock_close(rw);
}

TEST_F(LostWake, OnceEnterWhoseInitializerDiesBetweenDoneAndWake) {
    const shmds_options_t o = anon();
    shmds_once_t *once = nullptr;
    ASSERT_EQ(0, shmds_once_create(&o, &once)) << shmds_last_error();
    expect_sleeper_survives_holder(
        [&] { return shmds_once_enter(once, SHMDS_FOREVER) == 1; }, "once.done.unwoken",
        [&] { shmds_once_done(once); },
        [&] { return shmds_once_enter(once, SHMDS_FOREVER) == 0 ? 0 : 1; });
    EXPECT_EQ(1, shmds_once_is_done(once));
    shmds_once_close(once);
}

TEST_F(LostWake, CondvarWaiterWhoseSignallerDiesBeforeSignalling) {
    const shmds_options_t o = anon();
    shmds_condvar_t *cv = nullptr;
    ASSERT_EQ(0, shmds_condvar_create(&o, &cv)) << shmds_last_error();
    SharedFlag ready;
    expect_sleeper_returns(
        [&] {
            CHILD_CHECK(shmds_condvar_lock(cv, SHMDS_FOREVER) == 0);
            while (ready.p->load() == 0) CHILD_CHECK(shmds_condvar_wait(cv, SHMDS_FOREVER) == 0);
            CHILD_CHECK(shmds_condvar_unlock(cv) == 0);
            return 0;
        },
        nullptr, [&] {
            // The state changes under the mutex, and the signaller dies before it
            // signals (it exits here: nothing of the library's runs in between).
            if (shmds_condvar_lock(cv, SHMDS_FOREVER) != 0) return 4;
            ready.p->store(1);
            shmds_condvar_unlock(cv);
            return 0;
        });
    shmds_condvar_close(cv);
}

// ------------------------------------------------------------------- ringbuffer

// wait_for's sleeper must return, and find the value, when the writer dies between its
// commit and its wake, in write and in write_multi.
void ringbuffer_wait_case(const char *failpoint, bool multi) {
    SKIP_IF_WIDE_ATOMICS_ARE_PROCESS_LOCAL();
    const shmds_options_t o = anon();
    shmds_ringbuffer_config_t cfg = SHMDS_RINGBUFFER_CONFIG_INIT(SHMDS_TYPE_INT64, 4);
    shmds_ringbuffer_t *r = nullptr;
    ASSERT_EQ(0, shmds_ringbuffer_create(&o, &cfg, &r)) << shmds_last_error();
    expect_sleeper_returns(
        [&] {
            CHILD_CHECK(shmds_ringbuffer_wait_for(r, 0, SHMDS_FOREVER) == 0);
            int64_t v = 0;
            CHILD_CHECK(shmds_ringbuffer_read_seq_int(r, 0, &v) == 0);
            CHILD_CHECK(v == 42);
            return 0;
        },
        failpoint, [&] {
            const int64_t vals[] = {42, 43};
            return multi ? shmds_ringbuffer_write_multi_int(r, vals, 2, nullptr)
                         : shmds_ringbuffer_write_int(r, 42, nullptr);
        });
    shmds_ringbuffer_close(r);
}

TEST_F(LostWake, RingBufferWaitForWhoseWriterDiesBeforeWaking) {
    ringbuffer_wait_case("ringbuffer.write.unwoken", false);
}

TEST_F(LostWake, RingBufferWaitForWhoseBatchWriterDiesBeforeWaking) {
    ringbuffer_wait_case("ringbuffer.write_multi.unwoken", true);
}

// ---------------------------------------------------------------- heap
// Every blocking verb (pop and pop_multi while empty, push while full), woken by a
// waker killed after its commit.

shmds_heap_t *new_heap(int type, std::uint64_t capacity) {
    const shmds_options_t o = anon();
    shmds_heap_config_t cfg = SHMDS_HEAP_CONFIG_INIT(type, capacity);
    if (type == SHMDS_TYPE_BYTES) cfg.max_len = 8;
    shmds_heap_t *h = nullptr;
    EXPECT_EQ(0, shmds_heap_create(&o, &cfg, &h)) << shmds_last_error();
    return h;
}

TEST_F(LostWake, HeapPopWhosePusherDiesBeforeWaking) {
    shmds_heap_t *h = new_heap(SHMDS_TYPE_INT64, 4);
    expect_sleeper_returns(
        [&] {
            int64_t p = 0, v = 0;
            CHILD_CHECK(shmds_heap_pop_int(h, &p, &v, SHMDS_FOREVER) == 0);
            CHILD_CHECK(p == 3 && v == 42);
            return 0;
        },
        "heap.push.unwoken", [&] { return shmds_heap_push_int(h, 3, 42, 0); });
    shmds_heap_close(h);
}

TEST_F(LostWake, HeapPopMultiBytesWhosePushMultiDiesBeforeWaking) {
    shmds_heap_t *h = new_heap(SHMDS_TYPE_BYTES, 4);
    expect_sleeper_returns(
        [&] {
            char buf[16];
            std::size_t lens[2], got = 0;
            int64_t prios[2];
            CHILD_CHECK(shmds_heap_pop_multi_bytes(h, prios, buf, sizeof buf, lens, 2, &got,
                                                   SHMDS_FOREVER) == 0);
            CHILD_CHECK(got >= 1 && prios[0] == 1 && lens[0] == 2 && std::memcmp(buf, "cd", 2) == 0);
            return 0;
        },
        "heap.push.unwoken", [&] {
            const int64_t prios[] = {2, 1};
            const void *datas[] = {"ab", "cd"};
            const std::size_t lens[] = {2, 2};
            std::size_t pushed = 0;
            return shmds_heap_push_multi_bytes(h, prios, datas, lens, 2, &pushed, 0);
        });
    shmds_heap_close(h);
}

TEST_F(LostWake, HeapPushWhosePopperDiesBeforeWaking) {
    shmds_heap_t *h = new_heap(SHMDS_TYPE_INT64, 1);
    ASSERT_EQ(0, shmds_heap_push_int(h, 1, 1, 0));
    expect_sleeper_returns(
        [&] { return shmds_heap_push_int(h, 2, 2, SHMDS_FOREVER) == 0 ? 0 : 1; },
        "heap.pop.unwoken", [&] {
            int64_t p, v;
            return shmds_heap_pop_int(h, &p, &v, 0);
        });
    int64_t p = 0, v = 0;
    EXPECT_EQ(0, shmds_heap_pop_int(h, &p, &v, 0));
    EXPECT_EQ(2, v);
    shmds_heap_close(h);
}

TEST_F(LostWake, HeapPushMultiWhoseClearerDiesBeforeWaking) {
    shmds_heap_t *h = new_heap(SHMDS_TYPE_INT64, 2);
    const int64_t two[] = {1, 2};
    std::size_t pushed = 0;
    ASSERT_EQ(0, shmds_heap_push_multi_int(h, two, two, 2, &pushed, 0));
    expect_sleeper_returns(
        [&] {
            std::size_t n = 0;
            const int64_t v[] = {7, 8};
            CHILD_CHECK(shmds_heap_push_multi_int(h, v, v, 2, &n, SHMDS_FOREVER) == 0);
            CHILD_CHECK(n == 2);
            return 0;
        },
        "heap.clear.unwoken", [&] { return shmds_heap_clear(h, nullptr); });
    EXPECT_EQ(2u, shmds_heap_size(h));
    shmds_heap_close(h);
}

// ------------------------------------------------------------------------- pool

// alloc's (and alloc_n's) sleeper must return with the slots when the freer dies between
// its free and its wake, in free and free_n. The slots are the parent's (alive), so
// only the sleeper's own re-attempt can find them.
void pool_alloc_case(const char *failpoint, bool multi) {
    const shmds_options_t o = anon();
    shmds_pool_config_t cfg = SHMDS_POOL_CONFIG_INIT(SHMDS_TYPE_INT64, 2, 0);
    shmds_pool_t *p = nullptr;
    ASSERT_EQ(0, shmds_pool_create(&o, &cfg, &p)) << shmds_last_error();
    uint64_t held[2];
    ASSERT_EQ(0, shmds_pool_alloc_n(p, 2, held, SHMDS_NOWAIT));
    expect_sleeper_returns(
        [&] {
            uint64_t got[2];
            if (multi) {
                CHILD_CHECK(shmds_pool_alloc_n(p, 2, got, SHMDS_FOREVER) == 0);
            } else {
                CHILD_CHECK(shmds_pool_alloc(p, SHMDS_FOREVER, &got[0]) == 0);
            }
            return 0;
        },
        failpoint, [&] {
            return multi ? shmds_pool_free_n(p, held, 2, nullptr) : shmds_pool_free(p, held[0]);
        });
    shmds_pool_close(p);
}

TEST_F(LostWake, PoolAllocWhoseFreerDiesBeforeWaking) {
    pool_alloc_case("pool.free.unwoken", false);
}

TEST_F(LostWake, PoolAllocNWhoseBatchFreerDiesBeforeWaking) {
    pool_alloc_case("pool.free_n.unwoken", true);
}

}  // namespace
