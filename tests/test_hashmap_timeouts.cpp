// The handle's lock timeout (shmds_hashmap_set_lock_timeout): a shard lock held by a
// live thread that never releases it makes every path that takes the lock give up with
// -ETIMEDOUT after the bound, with a sentence, and change nothing:
//  - a peer wrote a living stranger's thread id into a shard's lock word (a hostile or
//    broken peer): writers, batches and whole-map verbs time out while lock-free reads
//    go on; once the stranger's thread ends, the next writer takes over;
//  - a writer process is stopped (SIGSTOP at a failpoint) inside its critical section,
//    its write window open and the entry half-changed: writers, reads that fall back to
//    the lock, batch gets, cursors and the whole-map verbs time out, no read returns
//    the half-written value, and after SIGCONT the writer finishes its change alone.
// The default stays forever; SHMDS_NOWAIT gives -EAGAIN at once; the C++ veneer throws.
#include "hashmap_helpers.hpp"
#include "shmds_config.h"
#include "support/damaged_lock.hpp"

#include "core/header.hpp"     // where the shard controls start
#include "hashmap/layout.hpp"  // where a shard's lock word lives

#if SHMDS_FAILPOINTS
#include "core/failpoint.hpp"
#endif

#include <shmds/hashmap.hpp>

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstring>
#include <string>
#include <sys/wait.h>

using namespace shmds::test;
using namespace shmds::test::hm;

namespace {

constexpr std::int64_t kTimeoutNs = 50'000'000;  // 50 ms
constexpr double kTimeoutMs = 50.0;

// The segment offset of shard i's lock word.
std::uint64_t lock_word_offset(std::uint64_t shard) {
    return sizeof(shmds::core::SegmentHeader) + sizeof(shmds::hashmap::MapControl) +
           shard * sizeof(shmds::hashmap::ShardControl) +
           offsetof(shmds::hashmap::ShardControl, lock);
}

// A file-backed map (a peer scribbles on it through its fd).
struct FileMap {
    TempPath path{"hmtimeout"};
    MapPtr m;
    FileMap(int key_type, int value_type, std::uint64_t max_entries, std::uint64_t shards = 0) {
        shmds_options_t o = SHMDS_OPTIONS_INIT;
        o.backing = SHMDS_BACKING_PATH;
        o.name = path.c_str();
        m = make_map(key_type, value_type, max_entries, shards, 0, &o);
    }
    int fd() const { return shmds_hashmap_fd(m.get()); }
};

// f() must fail with -ETIMEDOUT and a sentence about the lock after waiting about the
// lock timeout: at least the bound, and far less than forever (the upper limit is
// loose: a loaded machine may be slow to wake the caller).
template <typename F>
void expect_times_out(const char *what, F &&f, double timeout_ms = kTimeoutMs,
                      double slack_ms = 3000) {
    const auto start = std::chrono::steady_clock::now();
    const int rc = f();
    const double ms = ms_since(start);
    EXPECT_EQ(-ETIMEDOUT, rc) << what << ": " << shmds_errname(rc) << ": " << shmds_last_error();
    EXPECT_GE(ms, timeout_ms - 1) << what << " gave up before its lock timeout";
    EXPECT_LT(ms, timeout_ms + slack_ms) << what << " waited far past its lock timeout";
    if (rc == -ETIMEDOUT) {
        EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "lock stayed held by thread"))
            << what << ": " << shmds_last_error();
    }
}

std::vector<std::int64_t> all_ii(shmds_hashmap_t *m, std::int64_t n) {
    std::vector<std::int64_t> v;
    for (std::int64_t k = 0; k < n; ++k) v.push_back(get_ii(m, k).value_or(-1));
    return v;
}

// ------------------------------------------------------------- argument checks

TEST(HashMapLockTimeout, RefusesBadArgumentsAndDefaultsToForever) {
    MapPtr m = make_map(SHMDS_TYPE_INT64, SHMDS_TYPE_INT64, 16);
    EXPECT_EQ(-EINVAL, shmds_hashmap_set_lock_timeout(nullptr, kTimeoutNs));
    EXPECT_EQ(-EINVAL, shmds_hashmap_set_lock_timeout(m.get(), -2));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "-2"));
    EXPECT_EQ(0, shmds_hashmap_set_lock_timeout(m.get(), SHMDS_FOREVER));
    EXPECT_EQ(0, shmds_hashmap_set_lock_timeout(m.get(), SHMDS_NOWAIT));
    EXPECT_EQ(0, shmds_hashmap_set_lock_timeout(m.get(), kTimeoutNs));
    // An uncontended lock never waits, whatever the bound.
    EXPECT_EQ(0, shmds_hashmap_put_ii(m.get(), 1, 1));
}

// ------------------------------------------- a living stranger in the lock word

class StrangerInTheLock : public ::testing::Test {
protected:
    void scribble(std::uint64_t shard = 0) {
        scribble_u64(fm.fd(), lock_word_offset(shard), stranger.stamp());
    }
    FileMap fm{SHMDS_TYPE_INT64, SHMDS_TYPE_INT64, 64};
    LiveBystander stranger;
};

TEST_F(StrangerInTheLock, EveryLockingVerbTimesOutAndChangesNothingWhileReadsGoOn) {
    shmds_hashmap_t *m = fm.m.get();
    for (int k = 0; k < 8; ++k) ASSERT_EQ(0, shmds_hashmap_put_ii(m, k, 10 * k));
    ASSERT_EQ(0, shmds_hashmap_set_lock_timeout(m, kTimeoutNs));
    scribble();
    const shmds_hashmap_stats_t before = stats(m);

    std::int64_t out = 0;
    std::uint64_t n = 0;
    expect_times_out("put", [&] { return shmds_hashmap_put_ii(m, 1, 99); });
    expect_times_out("put of a new key", [&] { return shmds_hashmap_put_ii(m, 100, 1); });
    expect_times_out("remove", [&] { return shmds_hashmap_remove_i(m, 2); });
    expect_times_out("incr", [&] { return shmds_hashmap_incr_i(m, 3, &out); });
    expect_times_out("cas", [&] { return shmds_hashmap_cas_ii(m, 4, 40, 41); });
    expect_times_out("max", [&] { return shmds_hashmap_max_i(m, 5, 1000, &out); });
    expect_times_out("set_ttl", [&] { return shmds_hashmap_set_ttl_i(m, 6, 1000); });
    expect_times_out("clear", [&] { return shmds_hashmap_clear(m, &n); });
    EXPECT_EQ(0u, n);
    expect_times_out("reserve", [&] { return shmds_hashmap_reserve(m, 60); });
    expect_times_out("flush_expired", [&] { return shmds_hashmap_flush_expired(m, &n); });
    const std::int64_t keys[3] = {1, 2, 200}, values[3] = {7, 7, 7};
    int results[3] = {1, 1, 1};
    expect_times_out("put_batch", [&] {
        const int done = shmds_hashmap_put_batch_ii(m, keys, values, 3, results);
        return done == 0 ? results[0] : done;
    });
    for (int r : results) EXPECT_EQ(-ETIMEDOUT, r);
    expect_times_out("freeze", [&] { return shmds_hashmap_freeze(m); });

    // The lock is not needed to read: the sequence word is even, the shard consistent.
    for (std::int64_t k = 0; k < 8; ++k) EXPECT_EQ(10 * k, get_ii(m, k));
    EXPECT_EQ(before.size, stats(m).size);
    EXPECT_EQ(before.recoveries, stats(m).recoveries);

    // NOWAIT: -EAGAIN at once.
    ASSERT_EQ(0, shmds_hashmap_set_lock_timeout(m, SHMDS_NOWAIT));
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(-EAGAIN, shmds_hashmap_put_ii(m, 1, 99));
    EXPECT_LT(ms_since(start), kTimeoutMs);
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "lock timeout is 0"));

    // Once the stranger's thread is gone its stamp names no one: taken over, counted.
    stranger.stop();
    ASSERT_EQ(0, shmds_hashmap_set_lock_timeout(m, SHMDS_FOREVER));
    // The timed-out freeze left writes refused (as a killed one does): finish it.
    EXPECT_EQ(-EROFS, shmds_hashmap_put_ii(m, 1, 99));
    EXPECT_EQ(0, shmds_hashmap_freeze(m));
    EXPECT_EQ(before.recoveries + 1, stats(m).recoveries);
    EXPECT_EQ((std::vector<std::int64_t>{0, 10, 20, 30, 40, 50, 60, 70}), all_ii(m, 8));
}

TEST_F(StrangerInTheLock, ABatchWaitsOneTimeoutInAllAndDoesTheShardsItCanLock) {
    FileMap sharded(SHMDS_TYPE_INT64, SHMDS_TYPE_INT64, 1024, 4);
    shmds_hashmap_t *m = sharded.m.get();
    // Two of the four shards are held: a batch over all of them waits one timeout (a
    // long one, so that two waits, 600 ms, stand out even on a loaded machine).
    ASSERT_EQ(0, shmds_hashmap_set_lock_timeout(m, 300'000'000));
    scribble_u64(sharded.fd(), lock_word_offset(0), stranger.stamp());
    scribble_u64(sharded.fd(), lock_word_offset(3), stranger.stamp());
    constexpr int kKeys = 64;
    std::vector<std::int64_t> keys(kKeys), values(kKeys, 5);
    std::vector<int> results(kKeys, 1);
    for (int i = 0; i < kKeys; ++i) keys[i] = i;
    const auto start = std::chrono::steady_clock::now();
    const int done = shmds_hashmap_put_batch_ii(m, keys.data(), values.data(), kKeys, results.data());
    const double ms = ms_since(start);
    EXPECT_GE(ms, 299.0);
    EXPECT_LT(ms, 550.0) << "the second held shard waited a timeout of its own";
    int timed_out = 0;
    for (int i = 0; i < kKeys; ++i) {
        ASSERT_TRUE(results[i] == 0 || results[i] == -ETIMEDOUT) << shmds_errname(results[i]);
        timed_out += results[i] == -ETIMEDOUT;
        EXPECT_EQ(results[i] == 0 ? std::optional<std::int64_t>(5) : std::nullopt,
                  get_ii(m, keys[i]))
            << "key " << keys[i];
    }
    EXPECT_EQ(kKeys - timed_out, done);
    EXPECT_GT(timed_out, 0);
    EXPECT_GT(done, 0);
}

TEST_F(StrangerInTheLock, TheCxxVeneerThrowsETimedOut) {
    shmds::hash_map<std::int64_t, std::int64_t> m(fm.m.release());
    m.put(1, 1);
    m.set_lock_timeout(std::chrono::milliseconds(50));
    scribble_u64(m.fd(), lock_word_offset(0), stranger.stamp());  // fm handed its handle over
    try {
        m.put(1, 2);
        ADD_FAILURE() << "put returned with the lock held by a live stranger";
    } catch (const shmds::error &e) {
        EXPECT_EQ(-ETIMEDOUT, e.code().value()) << e.what();
    }
    EXPECT_EQ(1, m.get(1));  // reads take no lock
    m.set_lock_timeout(std::chrono::nanoseconds::max());  // forever again
    stranger.stop();
    m.put(1, 3);  // the dead stranger is taken over
    EXPECT_EQ(3, m.get(1));
}

// ------------------------------------- a writer stopped inside its critical section

#if SHMDS_FAILPOINTS
// Fork a child that stops (SIGSTOP) at `failpoint` inside call(); returns once it is
// stopped there. The child exits 0 if call() then returns 0.
pid_t stop_child_at(const char *failpoint, const std::function<int()> &call) {
    const std::string armed = std::string(failpoint) + "@stop";
    const pid_t pid = fork_child([&] {
        shmds::core::failpoint_arm(armed.c_str());
        const int rc = call();
        if (rc != 0) std::fprintf(stderr, "child: the call returned %d: %s\n", rc, shmds_last_error());
        return rc == 0 ? 0 : 3;
    });
    int status = 0;
    EXPECT_EQ(pid, waitpid(pid, &status, WUNTRACED));
    EXPECT_TRUE(WIFSTOPPED(status)) << "the child did not stop at " << failpoint;
    return pid;
}
#endif

TEST(HashMapLockTimeoutStoppedWriter, EveryPathToTheLockTimesOutAndTheWriterFinishesAlone) {
    if (!SHMDS_FAILPOINTS) GTEST_SKIP() << "built without -Dfailpoints=true: no stop points";
#if SHMDS_FAILPOINTS
    MapPtr mp = make_map(SHMDS_TYPE_INT64, SHMDS_TYPE_BYTES, 64, 1, 1 << 16);
    shmds_hashmap_t *m = mp.get();
    const std::string a(100, 'a'), b(200, 'b');  // both in the arena, in two size classes
    for (int k = 0; k < 8; ++k) ASSERT_EQ(0, shmds_hashmap_put_ib(m, k, a.data(), a.size()));
    const shmds_hashmap_stats_t before = stats(m);

    // The writer stops with key 3's value area on b and its length word still a's.
    const pid_t pid = stop_child_at("hashmap.put.value_pointed",
                                    [&] { return shmds_hashmap_put_ib(m, 3, b.data(), b.size()); });
    ASSERT_EQ(0, shmds_hashmap_set_lock_timeout(m, kTimeoutNs));
    char buf[256];
    std::size_t len = 0;
    std::uint64_t n = 0;
    // Reads find the write window open, spin, then wait for the lock: never a value.
    expect_times_out("get of the half-written key",
                     [&] { return shmds_hashmap_get_ib(m, 3, buf, sizeof buf, &len); });
    expect_times_out("get of another key", [&] { return shmds_hashmap_get_ib(m, 5, buf, sizeof buf, &len); });
    expect_times_out("exists", [&] { return shmds_hashmap_exists_i(m, 5); });
    std::uint64_t ttl = 0;
    expect_times_out("ttl_remaining", [&] { return shmds_hashmap_ttl_remaining_i(m, 5, &ttl); });
    {
        const std::int64_t keys[3] = {1, 3, 6};
        void *bufs[3] = {buf, buf, buf};
        const std::size_t sizes[3] = {sizeof buf, sizeof buf, sizeof buf};
        std::size_t lens[3];
        int results[3] = {1, 1, 1};
        // A longer bound here, so that one wait per key (900 ms) stands out from one
        // for the shard (300 ms) even on a loaded machine.
        ASSERT_EQ(0, shmds_hashmap_set_lock_timeout(m, 300'000'000));
        expect_times_out(
            "get_batch (one timeout for the shard, not one per key)",
            [&] {
                const int found = shmds_hashmap_get_batch_ib(m, keys, 3, bufs, sizes, lens, results);
                return found == 0 ? results[0] : found;
            },
            300, 500);
        for (int r : results) EXPECT_EQ(-ETIMEDOUT, r);
        ASSERT_EQ(0, shmds_hashmap_set_lock_timeout(m, kTimeoutNs));
    }
    shmds_hashmap_cursor_t *c = nullptr;
    ASSERT_EQ(0, shmds_hashmap_cursor_create(m, &c));
    std::int64_t key = 0;
    expect_times_out("cursor_next",
                     [&] { return shmds_hashmap_cursor_next_ib(c, &key, buf, sizeof buf, &len); });
    shmds_hashmap_cursor_destroy(c);
    // Writers and the whole-map verbs.
    expect_times_out("put", [&] { return shmds_hashmap_put_ib(m, 1, b.data(), b.size()); });
    expect_times_out("take", [&] { return shmds_hashmap_take_ib(m, 2, buf, sizeof buf, &len); });
    expect_times_out("clear", [&] { return shmds_hashmap_clear(m, &n); });
    expect_times_out("reserve", [&] { return shmds_hashmap_reserve(m, 60); });
    expect_times_out("flush_expired_partial",
                     [&] { return shmds_hashmap_flush_expired_partial(m, 100, &n); });

    // Resumed, the writer finishes its put and nothing else changed: no takeover, no
    // rollback, every other entry as it was.
    ASSERT_EQ(0, kill(pid, SIGCONT));
    const ChildExit e = wait_child(pid, 10s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    ASSERT_EQ(0, shmds_hashmap_set_lock_timeout(m, SHMDS_FOREVER));
    for (int k = 0; k < 8; ++k) {
        ASSERT_EQ(0, shmds_hashmap_get_ib(m, k, buf, sizeof buf, &len)) << shmds_last_error();
        EXPECT_EQ(k == 3 ? b : a, std::string(buf, len)) << "key " << k;
    }
    const shmds_hashmap_stats_t after = stats(m);
    EXPECT_EQ(before.size, after.size);
    EXPECT_EQ(before.recoveries, after.recoveries);
    EXPECT_EQ(before.arena_used + 256 - 128, after.arena_used) << "a's 128-byte block for b's 256";
#endif
}

TEST(HashMapLockTimeoutStoppedWriter, AFreezeThatTimesOutRefusesWritesAndFinishesLater) {
    if (!SHMDS_FAILPOINTS) GTEST_SKIP() << "built without -Dfailpoints=true: no stop points";
#if SHMDS_FAILPOINTS
    MapPtr mp = make_map(SHMDS_TYPE_INT64, SHMDS_TYPE_INT64, 64, 2);
    shmds_hashmap_t *m = mp.get();
    for (int k = 0; k < 8; ++k) ASSERT_EQ(0, shmds_hashmap_put_ii(m, k, k));
    // Stopped past its commit point, its window still open: the change stands.
    const pid_t pid = stop_child_at("hashmap.write.committed",
                                    [&] { return shmds_hashmap_put_ii(m, 4, 44); });
    ASSERT_EQ(0, shmds_hashmap_set_lock_timeout(m, kTimeoutNs));
    expect_times_out("freeze", [&] { return shmds_hashmap_freeze(m); });
    ASSERT_EQ(0, kill(pid, SIGCONT));
    const ChildExit e = wait_child(pid, 10s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe() << ": its write began before the freeze";
    EXPECT_EQ(-EROFS, shmds_hashmap_put_ii(m, 1, 11));
    EXPECT_EQ(0, shmds_hashmap_freeze(m));
    EXPECT_EQ(1u, stats(m).frozen);
    EXPECT_EQ(44, get_ii(m, 4));
    EXPECT_EQ(1, get_ii(m, 1));
#endif
}

}  // namespace
