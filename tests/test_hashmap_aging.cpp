// The hash map's TTL and eviction through the public C API (hashmap.h "TTL" and
// "Eviction"): expiry with an injected clock and across a reopen, the flushes, the
// issue's exact eviction cases, marks taken without the lock and without a store,
// pop/shift/drain order, order kept across table rebuilds, the Zipf hit ratio against
// an exact LRU, and both with the other verbs (batches, max/min, get_or_set, clear,
// reserve, cursors, freeze and the read-only open). Crashes in the new steps are in
// test_hashmap_procs.cpp.
#include "hashmap_aging_model.hpp"
#include "hashmap_helpers.hpp"

#include "hashmap/layout.hpp"  // where the visited bytes live (the no-store test)

#include <atomic>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <ctime>
#include <algorithm>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <sys/mman.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace shmds::test;
using namespace shmds::test::hm;

namespace {

constexpr int I64 = SHMDS_TYPE_INT64, BYTES = SHMDS_TYPE_BYTES, F64 = SHMDS_TYPE_F64;

MapPtr make_aging_map(int kt, int vt, std::uint64_t max_entries, std::uint64_t flags,
                      std::uint64_t default_ttl_ms, std::uint64_t shards = 0,
                      const shmds_options_t *opts = nullptr) {
    shmds_hashmap_config_t c = config(kt, vt, max_entries, shards);
    c.flags = flags;
    c.default_ttl_ms = default_ttl_ms;
    shmds_hashmap_t *m = nullptr;
    const int rc = shmds_hashmap_create(opts, &c, &m);
    EXPECT_EQ(0, rc) << shmds_errname(rc) << ": " << shmds_last_error();
    return MapPtr(m);
}

std::optional<std::uint64_t> ttl_left(shmds_hashmap_t *m, std::int64_t k) {
    std::uint64_t ms = 99;
    const int rc = shmds_hashmap_ttl_remaining_i(m, k, &ms);
    if (rc == -ENOENT) return std::nullopt;
    EXPECT_EQ(ms ? 1 : 0, rc);
    return ms;
}

// ------------------------------------------------------------------------- TTL

TEST(HashMapTtl, DefaultTtlExpiresEntriesAndWritersReclaimThemLazily) {
    ManualClock clock;
    MapPtr m = make_aging_map(I64, I64, 100, 0, 1000);
    clock.attach(m.get());
    ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), 1, 10));
    ASSERT_EQ(0, shmds_hashmap_put_ttl_ii(m.get(), 2, 20, 0));  // never expires
    clock.now += 999;
    EXPECT_EQ(10, get_ii(m.get(), 1));
    EXPECT_EQ(1u, ttl_left(m.get(), 1));
    EXPECT_EQ(0u, ttl_left(m.get(), 2));
    clock.now += 1;  // exactly at the expiry: gone
    EXPECT_EQ(std::nullopt, get_ii(m.get(), 1));
    EXPECT_EQ(0, shmds_hashmap_exists_i(m.get(), 1));
    EXPECT_EQ(std::nullopt, ttl_left(m.get(), 1));
    EXPECT_EQ(-ENOENT, shmds_hashmap_update_ii(m.get(), 1, 11));  // a writer reclaims it
    EXPECT_EQ(1u, stats(m.get()).expirations);
    EXPECT_EQ(1u, stats(m.get()).size);
    EXPECT_EQ(0, shmds_hashmap_add_ii(m.get(), 1, 12));  // absent: add succeeds
    EXPECT_EQ(1000u, ttl_left(m.get(), 1));
    EXPECT_EQ(20, get_ii(m.get(), 2));
}

TEST(HashMapTtl, ReadsReadTheClockOnlyForEntriesThatExpire) {
    struct Counting {
        std::uint64_t calls = 0;
        static std::uint64_t read(void *self) {
            ++static_cast<Counting *>(self)->calls;
            return 5000;
        }
    } counting;
    MapPtr m = make_aging_map(I64, I64, 100, 0, 0);
    ASSERT_EQ(0, shmds_hashmap_set_clock(m.get(), &Counting::read, &counting));
    ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), 1, 1));
    ASSERT_EQ(0, shmds_hashmap_put_ttl_ii(m.get(), 2, 2, 100));
    const std::uint64_t after_puts = counting.calls;
    for (int i = 0; i < 100; ++i) ASSERT_EQ(1, get_ii(m.get(), 1));
    EXPECT_EQ(after_puts, counting.calls) << "no clock read for an entry without expiry";
    ASSERT_EQ(2, get_ii(m.get(), 2));
    EXPECT_GT(counting.calls, after_puts);
    ASSERT_EQ(0, shmds_hashmap_set_clock(m.get(), nullptr, nullptr));  // the real clock
    EXPECT_EQ(std::nullopt, get_ii(m.get(), 2)) << "5000 ms after the epoch has long passed";
}

// With the real clock a read tests expiry on the coarse wall clock (a tick behind at
// most) and asks the exact one near the expiry, so an entry reads as absent from its
// expiry millisecond on, not a tick later.
TEST(HashMapTtl, RealClockReadsMissFromTheExpiryMillisecondOn) {
    MapPtr m = make_aging_map(I64, I64, 100, 0, 0);
    const auto realtime_ms = [] {
        timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return std::uint64_t(ts.tv_sec) * 1000 + std::uint64_t(ts.tv_nsec) / 1000000;
    };
    constexpr std::uint64_t kTtl = 3;
    for (int round = 0; round < 20; ++round) {
        const std::uint64_t before = realtime_ms();
        ASSERT_EQ(0, shmds_hashmap_put_ttl_ii(m.get(), 7, round, kTtl));
        const std::uint64_t after = realtime_ms();  // the expiry lies in [before, after] + kTtl
        for (;;) {
            const std::uint64_t t0 = realtime_ms();
            const auto v = get_ii(m.get(), 7);
            if (t0 >= after + kTtl) break;
            if (realtime_ms() < before + kTtl) {  // wholly before the expiry
                EXPECT_EQ(round, v);
            }
        }
        EXPECT_EQ(std::nullopt, get_ii(m.get(), 7)) << "round " << round;
    }
}

TEST(HashMapTtl, TtlFormsOfEveryShape) {
    ManualClock clock;
    const std::string k = "key", v = "value";
    std::size_t len = 0;
    char buf[16];
    std::uint64_t ttl = 0;
    {
        MapPtr m = make_aging_map(I64, I64, 10, 0, 0);
        clock.attach(m.get());
        std::int64_t out = 0;
        EXPECT_EQ(0, shmds_hashmap_add_ttl_ii(m.get(), 1, 5, 100));
        EXPECT_EQ(-EEXIST, shmds_hashmap_add_ttl_ii(m.get(), 1, 6, 100));
        EXPECT_EQ(0, shmds_hashmap_update_ttl_ii(m.get(), 1, 7, 300));
        EXPECT_EQ(-ENOENT, shmds_hashmap_update_ttl_ii(m.get(), 2, 7, 300));
        EXPECT_EQ(0, shmds_hashmap_put_ttl_ii(m.get(), 3, 8, 50));
        EXPECT_EQ(0, shmds_hashmap_get_with_ttl_ii(m.get(), 1, &out, &ttl));
        EXPECT_EQ(7, out);
        EXPECT_EQ(300u, ttl);
    }
    {
        MapPtr m = make_aging_map(I64, BYTES, 10, 0, 0);
        clock.attach(m.get());
        EXPECT_EQ(0, shmds_hashmap_put_ttl_ib(m.get(), 1, v.data(), v.size(), 10));
        EXPECT_EQ(0, shmds_hashmap_add_ttl_ib(m.get(), 2, v.data(), v.size(), 20));
        EXPECT_EQ(0, shmds_hashmap_update_ttl_ib(m.get(), 2, "w", 1, 30));
        EXPECT_EQ(0, shmds_hashmap_get_with_ttl_ib(m.get(), 2, buf, sizeof buf, &len, &ttl));
        EXPECT_EQ("w", std::string(buf, len));
        EXPECT_EQ(30u, ttl);
        EXPECT_EQ(-ENOBUFS, shmds_hashmap_get_with_ttl_ib(m.get(), 1, buf, 2, &len, &ttl));
        EXPECT_EQ(v.size(), len);
    }
    {
        MapPtr m = make_aging_map(BYTES, I64, 10, 0, 0);
        clock.attach(m.get());
        std::int64_t out = 0;
        EXPECT_EQ(0, shmds_hashmap_put_ttl_bi(m.get(), k.data(), k.size(), 1, 10));
        EXPECT_EQ(0, shmds_hashmap_add_ttl_bi(m.get(), "k2", 2, 2, 20));
        EXPECT_EQ(0, shmds_hashmap_update_ttl_bi(m.get(), "k2", 2, 3, 40));
        EXPECT_EQ(0, shmds_hashmap_get_with_ttl_bi(m.get(), "k2", 2, &out, &ttl));
        EXPECT_EQ(3, out);
        EXPECT_EQ(40u, ttl);
        EXPECT_EQ(1, shmds_hashmap_ttl_remaining_b(m.get(), k.data(), k.size(), &ttl));
        EXPECT_EQ(10u, ttl);
    }
    {
        MapPtr m = make_aging_map(BYTES, BYTES, 10, 0, 0);
        clock.attach(m.get());
        EXPECT_EQ(0, shmds_hashmap_put_ttl_bb(m.get(), "a", 1, "x", 1, 10));
        EXPECT_EQ(0, shmds_hashmap_add_ttl_bb(m.get(), "b", 1, "y", 1, 20));
        EXPECT_EQ(0, shmds_hashmap_update_ttl_bb(m.get(), "b", 1, "z", 1, 50));
        EXPECT_EQ(0, shmds_hashmap_get_with_ttl_bb(m.get(), "b", 1, buf, sizeof buf, &len, &ttl));
        EXPECT_EQ("z", std::string(buf, len));
        EXPECT_EQ(50u, ttl);
        clock.now += 10;
        EXPECT_EQ(-ENOENT, shmds_hashmap_get_with_ttl_bb(m.get(), "a", 1, buf, sizeof buf, &len, &ttl));
    }
    {
        MapPtr m = make_aging_map(I64, F64, 10, 0, 0);
        clock.attach(m.get());
        double out = 0;
        EXPECT_EQ(0, shmds_hashmap_put_ttl_if(m.get(), 1, 1.5, 10));
        EXPECT_EQ(0, shmds_hashmap_add_ttl_if(m.get(), 2, 2.5, 20));
        EXPECT_EQ(0, shmds_hashmap_update_ttl_if(m.get(), 2, 3.5, 60));
        EXPECT_EQ(0, shmds_hashmap_get_with_ttl_if(m.get(), 2, &out, &ttl));
        EXPECT_EQ(3.5, out);
        EXPECT_EQ(60u, ttl);
    }
    {
        MapPtr m = make_aging_map(BYTES, F64, 10, 0, 0);
        clock.attach(m.get());
        double out = 0;
        EXPECT_EQ(0, shmds_hashmap_put_ttl_bf(m.get(), "a", 1, 1.5, 10));
        EXPECT_EQ(0, shmds_hashmap_add_ttl_bf(m.get(), "b", 1, 2.5, 20));
        EXPECT_EQ(0, shmds_hashmap_update_ttl_bf(m.get(), "b", 1, 4.5, 70));
        EXPECT_EQ(0, shmds_hashmap_get_with_ttl_bf(m.get(), "b", 1, &out, &ttl));
        EXPECT_EQ(4.5, out);
        EXPECT_EQ(70u, ttl);
        EXPECT_EQ(SHMDS_EVARIANT, shmds_hashmap_put_ttl_ii(m.get(), 1, 1, 1));
    }
}

TEST(HashMapTtl, OverwriteSetsTheExpiryAnewCasAndIncrKeepIt) {
    ManualClock clock;
    MapPtr m = make_aging_map(I64, I64, 10, 0, 500);
    clock.attach(m.get());
    ASSERT_EQ(0, shmds_hashmap_put_ttl_ii(m.get(), 1, 1, 100));
    ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), 1, 2));  // the default again
    EXPECT_EQ(500u, ttl_left(m.get(), 1));
    ASSERT_EQ(0, shmds_hashmap_set_ttl_i(m.get(), 1, 100));
    std::int64_t out = 0;
    ASSERT_EQ(0, shmds_hashmap_cas_ii(m.get(), 1, 2, 3));
    ASSERT_EQ(0, shmds_hashmap_incr_i(m.get(), 1, &out));
    EXPECT_EQ(4, out);
    EXPECT_EQ(100u, ttl_left(m.get(), 1));
    ASSERT_EQ(1, shmds_hashmap_swap_ii(m.get(), 1, 9, &out));
    EXPECT_EQ(500u, ttl_left(m.get(), 1));
    ASSERT_EQ(0, shmds_hashmap_incr_i(m.get(), 7, &out));  // a new counter: the default
    EXPECT_EQ(500u, ttl_left(m.get(), 7));
}

TEST(HashMapTtl, TouchPersistAndSetTtl) {
    ManualClock clock;
    MapPtr m = make_aging_map(BYTES, I64, 10, 0, 1000);
    clock.attach(m.get());
    ASSERT_EQ(0, shmds_hashmap_put_bi(m.get(), "a", 1, 1));
    clock.now += 600;
    std::uint64_t ttl = 0;
    ASSERT_EQ(0, shmds_hashmap_touch_b(m.get(), "a", 1));
    EXPECT_EQ(1, shmds_hashmap_ttl_remaining_b(m.get(), "a", 1, &ttl));
    EXPECT_EQ(1000u, ttl);
    ASSERT_EQ(0, shmds_hashmap_persist_b(m.get(), "a", 1));
    EXPECT_EQ(0, shmds_hashmap_ttl_remaining_b(m.get(), "a", 1, &ttl));
    EXPECT_EQ(0u, ttl);
    clock.now += 1'000'000;
    EXPECT_EQ(1, shmds_hashmap_exists_b(m.get(), "a", 1));
    ASSERT_EQ(0, shmds_hashmap_set_ttl_b(m.get(), "a", 1, 5));
    EXPECT_EQ(1, shmds_hashmap_ttl_remaining_b(m.get(), "a", 1, &ttl));
    EXPECT_EQ(5u, ttl);
    clock.now += 5;
    EXPECT_EQ(-ENOENT, shmds_hashmap_touch_b(m.get(), "a", 1));
    EXPECT_EQ(-ENOENT, shmds_hashmap_persist_b(m.get(), "a", 1));
    EXPECT_EQ(-ENOENT, shmds_hashmap_set_ttl_b(m.get(), "a", 1, 5));
    EXPECT_EQ(1u, stats(m.get()).expirations);

    // A map without a default TTL: touch leaves the expiry alone.
    MapPtr n = make_aging_map(I64, I64, 10, 0, 0);
    clock.attach(n.get());
    ASSERT_EQ(0, shmds_hashmap_put_ttl_ii(n.get(), 1, 1, 50));
    ASSERT_EQ(0, shmds_hashmap_touch_i(n.get(), 1));
    EXPECT_EQ(50u, ttl_left(n.get(), 1));
    ASSERT_EQ(0, shmds_hashmap_set_ttl_i(n.get(), 1, 0));  // 0: never
    EXPECT_EQ(0u, ttl_left(n.get(), 1));
    ASSERT_EQ(0, shmds_hashmap_persist_i(n.get(), 1));
    EXPECT_EQ(-ENOENT, shmds_hashmap_touch_i(n.get(), 2));
}

TEST(HashMapTtl, BadArgumentsAndRanges) {
    MapPtr m = make_aging_map(I64, I64, 10, 0, 0);
    const std::uint64_t too_long = SHMDS_HASHMAP_MAX_TTL_MS + 1;
    std::uint64_t ttl = 0;
    std::int64_t out = 0;
    EXPECT_EQ(-ERANGE, shmds_hashmap_put_ttl_ii(m.get(), 1, 1, too_long));
    EXPECT_EQ(0, shmds_hashmap_put_ttl_ii(m.get(), 1, 1, SHMDS_HASHMAP_MAX_TTL_MS));
    EXPECT_EQ(-ERANGE, shmds_hashmap_set_ttl_i(m.get(), 1, too_long));
    EXPECT_EQ(-EINVAL, shmds_hashmap_ttl_remaining_i(m.get(), 1, nullptr));
    EXPECT_EQ(-EINVAL, shmds_hashmap_get_with_ttl_ii(m.get(), 1, &out, nullptr));
    EXPECT_EQ(-EINVAL, shmds_hashmap_get_with_ttl_ii(nullptr, 1, &out, &ttl));
    EXPECT_EQ(-EINVAL, shmds_hashmap_flush_expired_partial(m.get(), 0, nullptr));
    EXPECT_EQ(-EINVAL, shmds_hashmap_flush_expired(nullptr, nullptr));
    EXPECT_EQ(-EINVAL, shmds_hashmap_set_clock(nullptr, nullptr, nullptr));
    shmds_hashmap_config_t c = config(I64, I64, 10);
    c.default_ttl_ms = too_long;
    shmds_hashmap_t *bad = nullptr;
    EXPECT_EQ(-EINVAL, shmds_hashmap_create(nullptr, &c, &bad));
    c.default_ttl_ms = 0;
    c.flags = 2;  // no such flag
    EXPECT_EQ(-EINVAL, shmds_hashmap_create(nullptr, &c, &bad));
    c = config(I64, I64, std::uint64_t{1} << 31);
    c.flags = SHMDS_HASHMAP_EVICT;  // more than 2^30 per shard
    EXPECT_EQ(-EINVAL, shmds_hashmap_create(nullptr, &c, &bad));
    EXPECT_EQ(nullptr, bad);
}

TEST(HashMapTtl, FullMapReclaimsAnExpiredEntryInsteadOfRefusing) {
    ManualClock clock;
    MapPtr m = make_aging_map(I64, I64, 3, 0, 0);
    clock.attach(m.get());
    for (int k = 1; k <= 3; ++k) ASSERT_EQ(0, shmds_hashmap_put_ttl_ii(m.get(), k, k, 10 * k));
    EXPECT_EQ(-ENOSPC, shmds_hashmap_put_ii(m.get(), 4, 4));
    clock.now += 10;  // key 1 expires
    EXPECT_EQ(0, shmds_hashmap_put_ii(m.get(), 4, 4));
    EXPECT_EQ(1u, stats(m.get()).expirations);
    EXPECT_EQ(-ENOSPC, shmds_hashmap_put_ii(m.get(), 5, 5));
    EXPECT_EQ(2, get_ii(m.get(), 2));
    EXPECT_EQ(4, get_ii(m.get(), 4));
}

TEST(HashMapTtl, FlushRemovesOnlyExpiredEntriesAndThePartialOneReportsItsEnd) {
    ManualClock clock;
    MapPtr m = make_aging_map(I64, I64, 4000, 0, 0, 2);
    clock.attach(m.get());
    for (int k = 0; k < 2000; ++k)
        ASSERT_EQ(0, shmds_hashmap_put_ttl_ii(m.get(), k, k, k % 2 ? 100 : 0));
    clock.now += 100;
    const shmds_hashmap_stats_t before = stats(m.get());
    std::uint64_t removed = 0, total = 0;
    int calls = 0, rc;
    while ((rc = shmds_hashmap_flush_expired_partial(m.get(), 256, &removed)) == 0) {
        total += removed;
        ASSERT_LT(++calls, 100);
    }
    ASSERT_EQ(1, rc) << shmds_last_error();
    total += removed;
    EXPECT_EQ(1000u, total);
    EXPECT_GE(calls, int(before.table_slots / 256) - 1) << "each call examined at most ~256 slots";
    EXPECT_EQ(1000u, stats(m.get()).size);
    EXPECT_EQ(1000u, stats(m.get()).expirations);
    for (int k = 0; k < 2000; k += 2) ASSERT_EQ(k, get_ii(m.get(), k));
    // A new pass starts after a finished one: nothing left to remove.
    for (int k = 0; k < 10; ++k) ASSERT_EQ(0, shmds_hashmap_put_ttl_ii(m.get(), 5000 + k, 0, 5));
    clock.now += 5;
    EXPECT_EQ(0, shmds_hashmap_flush_expired(m.get(), &removed));
    EXPECT_EQ(10u, removed);
    EXPECT_EQ(0, shmds_hashmap_flush_expired(m.get(), &removed));
    EXPECT_EQ(0u, removed);
    EXPECT_EQ(1000u, stats(m.get()).size);
}

TEST(HashMapTtl, ExpiryUsesTheWallClockAcrossAReopen) {
    TempPath path("hmttl");
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = path.c_str();
    {
        MapPtr m = make_aging_map(I64, I64, 10, 0, 0, 0, &o);
        ASSERT_EQ(0, shmds_hashmap_put_ttl_ii(m.get(), 1, 1, 3'600'000));  // an hour
        ASSERT_EQ(0, shmds_hashmap_put_ttl_ii(m.get(), 2, 2, 0));
    }
    shmds_hashmap_t *raw = nullptr;
    ASSERT_EQ(0, shmds_hashmap_open(&o, I64, I64, &raw)) << shmds_last_error();
    MapPtr m(raw);
    const std::optional<std::uint64_t> left = ttl_left(m.get(), 1);
    ASSERT_TRUE(left.has_value());
    EXPECT_GT(*left, 3'500'000u);
    EXPECT_LE(*left, 3'600'000u);
    // Two hours of wall-clock time later (a reboot in between changes nothing: the
    // expiry is an absolute CLOCK_REALTIME time).
    struct Later {
        static std::uint64_t read(void *) {
            timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            return std::uint64_t(ts.tv_sec) * 1000 + 7'200'000;
        }
    };
    ASSERT_EQ(0, shmds_hashmap_set_clock(m.get(), &Later::read, nullptr));
    EXPECT_EQ(std::nullopt, get_ii(m.get(), 1));
    EXPECT_EQ(2, get_ii(m.get(), 2));
}

// -------------------------------------------------------------------- eviction

MapPtr evicting(std::uint64_t max_entries, int kt = I64, int vt = I64, std::uint64_t shards = 0) {
    return make_aging_map(kt, vt, max_entries, SHMDS_HASHMAP_EVICT, 0, shards);
}

TEST(HashMapEvict, TheIssuesCasesWithMaxEntries3) {
    {
        MapPtr m = evicting(3);
        for (int k = 1; k <= 4; ++k) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), k, k * 10));
        EXPECT_EQ(0, shmds_hashmap_exists_i(m.get(), 1));
        EXPECT_EQ(20, get_ii(m.get(), 2));
        EXPECT_EQ(30, get_ii(m.get(), 3));
        EXPECT_EQ(40, get_ii(m.get(), 4));
        EXPECT_EQ(1u, stats(m.get()).evictions);
        EXPECT_EQ(3u, stats(m.get()).size);
    }
    // The same steps with no read between them but the one the issue makes.
    MapPtr m = evicting(3);
    for (int k = 1; k <= 4; ++k) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), k, k * 10));
    EXPECT_EQ(0, shmds_hashmap_exists_i(m.get(), 1));  // absent: marks nothing
    EXPECT_EQ(20, get_ii(m.get(), 2));
    ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), 5, 50));
    EXPECT_EQ(0, shmds_hashmap_exists_i(m.get(), 3)) << "3 is evicted";
    EXPECT_EQ(20, get_ii(m.get(), 2)) << "2 is kept";
    EXPECT_EQ(40, get_ii(m.get(), 4));
    EXPECT_EQ(50, get_ii(m.get(), 5));
    EXPECT_EQ(2u, stats(m.get()).evictions);
}

TEST(HashMapEvict, ANonEvictingMapStillRefusesAndHasNoPop) {
    MapPtr m = make_map(I64, I64, 3);
    for (int k = 1; k <= 3; ++k) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), k, k));
    EXPECT_EQ(-ENOSPC, shmds_hashmap_put_ii(m.get(), 4, 4));
    std::int64_t k = 0, v = 0;
    std::uint64_t n = 0;
    EXPECT_EQ(-EINVAL, shmds_hashmap_pop_ii(m.get(), &k, &v));
    EXPECT_EQ(-EINVAL, shmds_hashmap_shift_ii(m.get(), &k, &v));
    EXPECT_EQ(-EINVAL, shmds_hashmap_drain(m.get(), 1, &n));
}

TEST(HashMapEvict, PopShiftAndDrainFollowTheEvictionOrder) {
    MapPtr m = evicting(5);
    for (int k = 1; k <= 5; ++k) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), k, k * 10));
    ASSERT_EQ(20, get_ii(m.get(), 2));
    ASSERT_EQ(40, get_ii(m.get(), 4));
    std::int64_t k = 0, v = 0;
    ASSERT_EQ(0, shmds_hashmap_pop_ii(m.get(), &k, &v));
    EXPECT_EQ(1, k);
    EXPECT_EQ(10, v);
    ASSERT_EQ(0, shmds_hashmap_pop_ii(m.get(), &k, &v));  // 2 was visited: passed over
    EXPECT_EQ(3, k);
    ASSERT_EQ(0, shmds_hashmap_shift_ii(m.get(), &k, &v));  // the newest
    EXPECT_EQ(5, k);
    EXPECT_EQ(50, v);
    ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), 6, 60));
    // Left: 2 (mark cleared), 4 (marked), 6. The hand is at 4: it clears 4, takes 6,
    // then wraps to 2.
    ASSERT_EQ(0, shmds_hashmap_pop_ii(m.get(), &k, &v));
    EXPECT_EQ(6, k);
    std::uint64_t n = 0;
    ASSERT_EQ(0, shmds_hashmap_drain(m.get(), 1, &n));
    EXPECT_EQ(1u, n);
    EXPECT_EQ(0, shmds_hashmap_exists_i(m.get(), 2));
    EXPECT_EQ(40, get_ii(m.get(), 4));
    ASSERT_EQ(0, shmds_hashmap_drain(m.get(), 10, &n));
    EXPECT_EQ(1u, n);
    EXPECT_EQ(-ENOENT, shmds_hashmap_pop_ii(m.get(), &k, &v));
    EXPECT_EQ(-ENOENT, shmds_hashmap_shift_ii(m.get(), &k, &v));
    EXPECT_EQ(0u, stats(m.get()).size);
    EXPECT_EQ(0u, stats(m.get()).evictions) << "pops are not evictions";
}

// ---- drain_batch: the entries of a drain, packed like cursor_next_batch

std::vector<std::pair<std::int64_t, std::int64_t>> drain_all_ii(shmds_hashmap_t *m, std::size_t per_call) {
    std::vector<std::pair<std::int64_t, std::int64_t>> out;
    std::vector<std::int64_t> keys(per_call), values(per_call);
    std::vector<std::size_t> klens(per_call), vlens(per_call);
    for (;;) {
        const int n = shmds_hashmap_drain_batch(m, keys.data(), keys.size() * 8, klens.data(),
                                                values.data(), values.size() * 8, vlens.data(),
                                                per_call);
        EXPECT_GE(n, 0) << shmds_errname(n) << ": " << shmds_last_error();
        if (n <= 0) return out;
        for (int i = 0; i < n; ++i) {
            EXPECT_EQ(8u, klens[i]);
            EXPECT_EQ(8u, vlens[i]);
            out.emplace_back(keys[i], values[i]);
        }
    }
}

// The same map twice: a file-backed map and a byte copy of its file (same seed, same
// table, same hand and marks), opened as a second map.
std::pair<MapPtr, MapPtr> twin_maps(const TempPath &a, const TempPath &b, std::uint64_t shards) {
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = a.c_str();
    MapPtr m = make_aging_map(I64, I64, 200, SHMDS_HASHMAP_EVICT, 0, shards, &o);
    for (int k = 1; k <= 300; ++k) {  // evictions move the hand; the reads mark
        EXPECT_EQ(0, shmds_hashmap_put_ii(m.get(), k, k * 10));
        if (k % 5 == 0) get_ii(m.get(), k / 2);
    }
    {
        std::ifstream in(a.str(), std::ios::binary);
        std::ofstream out(b.str(), std::ios::binary | std::ios::trunc);
        out << in.rdbuf();
    }
    o.name = b.c_str();
    shmds_hashmap_t *copy = nullptr;
    EXPECT_EQ(0, shmds_hashmap_open(&o, I64, I64, &copy)) << shmds_last_error();
    return {std::move(m), MapPtr(copy)};
}

TEST(HashMapDrainBatch, ReturnsWhatPopsWouldInTheirOrder) {
    for (std::uint64_t shards : {1, 4}) {
        TempPath pa("hmdrain-a"), pb("hmdrain-b");
        auto [a, b] = twin_maps(pa, pb, shards);
        ASSERT_TRUE(a && b);
        const std::uint64_t evictions = stats(a.get()).evictions;
        ASSERT_GT(evictions, 0u);
        std::vector<std::pair<std::int64_t, std::int64_t>> popped;
        std::int64_t k = 0, v = 0;
        while (shmds_hashmap_pop_ii(b.get(), &k, &v) == 0) popped.emplace_back(k, v);
        ASSERT_GT(popped.size(), 100u);
        const auto drained = drain_all_ii(a.get(), 7);
        EXPECT_EQ(popped, drained) << "shards " << shards;
        EXPECT_EQ(0u, stats(a.get()).size);
        EXPECT_EQ(evictions, stats(a.get()).evictions) << "drains are not evictions";
        std::size_t kl = 0, vl = 0;
        EXPECT_EQ(0, shmds_hashmap_drain_batch(a.get(), &k, 8, &kl, &v, 8, &vl, 1))
            << "an empty map drains nothing";
    }
}

// An entry that does not fit what is left of the buffers stays in the map and comes
// first next time; when not even the first fits: -ENOBUFS with its lengths, nothing
// removed. Keys and values are packed one after another.
TEST(HashMapDrainBatch, AnEntryThatDoesNotFitStaysAndComesFirst) {
    MapPtr m = evicting(8, BYTES, BYTES);
    const std::string big(100, 'B');
    ASSERT_EQ(0, shmds_hashmap_put_bb(m.get(), "k1", 2, "v1", 2));
    ASSERT_EQ(0, shmds_hashmap_put_bb(m.get(), "key2", 4, big.data(), big.size()));
    ASSERT_EQ(0, shmds_hashmap_put_bb(m.get(), "k3", 2, "", 0));
    char keys[64], values[64];
    std::size_t kl[4] = {}, vl[4] = {};
    ASSERT_EQ(1, shmds_hashmap_drain_batch(m.get(), keys, sizeof keys, kl, values, sizeof values, vl, 4))
        << "k1 fits, key2's 100-byte value does not: the batch ends";
    EXPECT_EQ("k1", std::string(keys, kl[0]));
    EXPECT_EQ("v1", std::string(values, vl[0]));
    EXPECT_EQ(2u, stats(m.get()).size) << "key2 stays";
    ASSERT_EQ(-ENOBUFS, shmds_hashmap_drain_batch(m.get(), keys, sizeof keys, kl, values,
                                                  sizeof values, vl, 4));
    EXPECT_EQ(4u, kl[0]);
    EXPECT_EQ(100u, vl[0]);
    EXPECT_EQ(2u, stats(m.get()).size) << "-ENOBUFS removes nothing";
    char big_values[256];
    ASSERT_EQ(2, shmds_hashmap_drain_batch(m.get(), keys, sizeof keys, kl, big_values,
                                           sizeof big_values, vl, 4));
    EXPECT_EQ("key2", std::string(keys, kl[0]));
    EXPECT_EQ(big, std::string(big_values, vl[0]));
    EXPECT_EQ("k3", std::string(keys + kl[0], kl[1])) << "packed after key2";
    EXPECT_EQ(0u, vl[1]) << "the empty value";
    EXPECT_EQ(0u, stats(m.get()).size);
    EXPECT_EQ(0u, stats(m.get()).arena_used);
}

// The walk that met the entry too big for the buffers passed (and unmarked) others: the
// retry must still take that entry, not one the walk unmarked (pop and drain_batch).
TEST(HashMapDrainBatch, TheEntryThatDidNotFitComesFirstAfterTheWalkUnmarkedOthers) {
    for (bool use_pop : {true, false}) {
        SCOPED_TRACE(use_pop ? "pop" : "drain_batch");
        MapPtr m = evicting(8, I64, BYTES);
        const std::string big(100, 'B');
        ASSERT_EQ(0, shmds_hashmap_put_ib(m.get(), 1, "one", 3));
        ASSERT_EQ(0, shmds_hashmap_put_ib(m.get(), 2, big.data(), big.size()));
        ASSERT_EQ(0, shmds_hashmap_put_ib(m.get(), 3, "three", 5));
        char small[16], large[256];
        std::size_t len = 0, kl = 0;
        std::int64_t key = 0;
        ASSERT_EQ(0, shmds_hashmap_get_ib(m.get(), 1, small, sizeof small, &len));  // marks 1
        auto take = [&](char *buf, std::size_t size) {
            return use_pop ? shmds_hashmap_pop_ib(m.get(), &key, buf, size, &len)
                           : shmds_hashmap_drain_batch(m.get(), &key, 8, &kl, buf, size, &len, 1);
        };
        ASSERT_EQ(-ENOBUFS, take(small, sizeof small)) << "the walk passes 1 and stops at 2";
        EXPECT_EQ(100u, len);
        ASSERT_EQ(use_pop ? 0 : 1, take(large, sizeof large));
        EXPECT_EQ(2, key) << "the entry that did not fit comes first";
        EXPECT_EQ(big, std::string(large, len));
        ASSERT_EQ(use_pop ? 0 : 1, take(large, sizeof large));
        EXPECT_EQ(3, key) << "then the walk goes on towards the newest";
    }
}

// With shards, the entry that did not fit is still the first of the next call (the
// handle stays on its shard instead of moving to the next one).
TEST(HashMapDrainBatch, TheEntryThatDidNotFitComesFirstAcrossShards) {
    // Room for all 40 in any shard (each holds 640 / 8): nothing is evicted, whatever
    // the spread of this map's random seed.
    MapPtr m = evicting(640, I64, BYTES, 8);
    for (int k = 0; k < 40; ++k) {
        const std::string v(10 + k, 'v');
        ASSERT_EQ(0, shmds_hashmap_put_ib(m.get(), k, v.data(), v.size()));
    }
    ASSERT_EQ(40u, stats(m.get()).size);
    std::size_t kl = 0, vl = 0;
    for (int round = 0; round < 40; ++round) {
        std::int64_t key = -1;
        char value[128];
        // No room for any value: the entry stays, its key and lengths reported.
        ASSERT_EQ(-ENOBUFS, shmds_hashmap_drain_batch(m.get(), &key, 8, &kl, value, 0, &vl, 1));
        const std::int64_t expected = key;
        ASSERT_EQ(std::size_t(10 + expected), vl);
        ASSERT_EQ(1, shmds_hashmap_drain_batch(m.get(), &key, 8, &kl, value, sizeof value, &vl, 1));
        EXPECT_EQ(expected, key) << "round " << round;
        EXPECT_EQ(std::string(std::size_t(10 + key), 'v'), std::string(value, vl));
    }
    EXPECT_EQ(0u, stats(m.get()).size);
}

TEST(HashMapDrainBatch, SkipsKeysOrValuesAndRefusesWhatItMust) {
    MapPtr m = evicting(8);
    for (int k = 1; k <= 4; ++k) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), k, k * 10));
    std::int64_t out[4];
    std::size_t lens[4];
    ASSERT_EQ(2, shmds_hashmap_drain_batch(m.get(), nullptr, 0, nullptr, out, sizeof out, lens, 2));
    EXPECT_EQ(10, out[0]);
    EXPECT_EQ(20, out[1]);
    ASSERT_EQ(1, shmds_hashmap_drain_batch(m.get(), out, sizeof out, lens, nullptr, 0, nullptr, 1));
    EXPECT_EQ(3, out[0]);
    ASSERT_EQ(1, shmds_hashmap_drain_batch(m.get(), nullptr, 0, nullptr, nullptr, 0, nullptr, 5))
        << "neither: the entries are removed all the same";
    EXPECT_EQ(0u, stats(m.get()).size);
    ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), 5, 50));
    EXPECT_EQ(0, shmds_hashmap_drain_batch(m.get(), out, sizeof out, lens, out, sizeof out, lens, 0))
        << "max_items 0 removes nothing";
    EXPECT_EQ(1u, stats(m.get()).size);
    EXPECT_EQ(-EINVAL, shmds_hashmap_drain_batch(nullptr, out, 8, lens, out, 8, lens, 1));
    EXPECT_EQ(-EINVAL, shmds_hashmap_drain_batch(m.get(), nullptr, 8, lens, out, 8, lens, 1));
    EXPECT_EQ(-EINVAL, shmds_hashmap_drain_batch(m.get(), out, 8, nullptr, out, 8, lens, 1));
    EXPECT_EQ(-EINVAL, shmds_hashmap_drain_batch(m.get(), out, 8, lens, out, 8, lens,
                                                 std::size_t(INT_MAX) + 1));
    EXPECT_EQ(1u, stats(m.get()).size);
    ASSERT_EQ(0, shmds_hashmap_freeze(m.get()));
    EXPECT_EQ(-EROFS, shmds_hashmap_drain_batch(m.get(), out, 8, lens, out, 8, lens, 1));
    EXPECT_EQ(1u, stats(m.get()).size);

    MapPtr plain = make_map(I64, I64, 8);
    ASSERT_EQ(0, shmds_hashmap_put_ii(plain.get(), 1, 1));
    EXPECT_EQ(-EINVAL, shmds_hashmap_drain_batch(plain.get(), out, 8, lens, out, 8, lens, 1));
    EXPECT_EQ(-EINVAL, shmds_hashmap_drain_batch(plain.get(), out, 8, lens, out, 8, lens, 0))
        << "a map that cannot drain is refused even for 0 entries";
    EXPECT_EQ(1u, stats(plain.get()).size);
}

TEST(HashMapEvict, PopAndShiftOfEveryShape) {
    char kb[64], vb[64];
    std::size_t kl = 0, vl = 0;
    std::int64_t ki = 0, vi = 0;
    double vf = 0;
    {
        MapPtr m = evicting(4, BYTES, BYTES);
        const std::string long_value(40, 'v');
        ASSERT_EQ(0, put_bb(m.get(), "first", long_value));
        ASSERT_EQ(0, put_bb(m.get(), "second", "2"));
        EXPECT_EQ(-ENOBUFS, shmds_hashmap_pop_bb(m.get(), kb, 2, &kl, vb, sizeof vb, &vl));
        EXPECT_EQ(5u, kl);
        EXPECT_EQ(40u, vl);
        EXPECT_EQ(2u, stats(m.get()).size) << "a buffer too small removes nothing";
        ASSERT_EQ(0, shmds_hashmap_pop_bb(m.get(), kb, sizeof kb, &kl, vb, sizeof vb, &vl));
        EXPECT_EQ("first", std::string(kb, kl));
        EXPECT_EQ(long_value, std::string(vb, vl));
        ASSERT_EQ(0, shmds_hashmap_shift_bb(m.get(), kb, sizeof kb, &kl, vb, sizeof vb, &vl));
        EXPECT_EQ("second", std::string(kb, kl));
        EXPECT_EQ(0u, stats(m.get()).arena_used);
        EXPECT_EQ(SHMDS_EVARIANT, shmds_hashmap_pop_ii(m.get(), &ki, &vi));
    }
    {
        MapPtr m = evicting(4, I64, BYTES);
        ASSERT_EQ(0, shmds_hashmap_put_ib(m.get(), 7, "x", 1));
        ASSERT_EQ(0, shmds_hashmap_put_ib(m.get(), 8, "y", 1));
        ASSERT_EQ(0, shmds_hashmap_pop_ib(m.get(), &ki, vb, sizeof vb, &vl));
        EXPECT_EQ(7, ki);
        ASSERT_EQ(0, shmds_hashmap_shift_ib(m.get(), &ki, vb, sizeof vb, &vl));
        EXPECT_EQ(8, ki);
        EXPECT_EQ("y", std::string(vb, vl));
    }
    {
        MapPtr m = evicting(4, BYTES, I64);
        ASSERT_EQ(0, shmds_hashmap_put_bi(m.get(), "a", 1, 1));
        ASSERT_EQ(0, shmds_hashmap_put_bi(m.get(), "b", 1, 2));
        ASSERT_EQ(0, shmds_hashmap_pop_bi(m.get(), kb, sizeof kb, &kl, &vi));
        EXPECT_EQ("a", std::string(kb, kl));
        ASSERT_EQ(0, shmds_hashmap_shift_bi(m.get(), kb, sizeof kb, &kl, &vi));
        EXPECT_EQ(2, vi);
    }
    {
        MapPtr m = evicting(4, I64, F64);
        ASSERT_EQ(0, shmds_hashmap_put_if(m.get(), 1, 1.5));
        ASSERT_EQ(0, shmds_hashmap_put_if(m.get(), 2, 2.5));
        ASSERT_EQ(0, shmds_hashmap_pop_if(m.get(), &ki, &vf));
        EXPECT_EQ(1.5, vf);
        ASSERT_EQ(0, shmds_hashmap_shift_if(m.get(), &ki, &vf));
        EXPECT_EQ(2, ki);
    }
    {
        MapPtr m = evicting(4, BYTES, F64);
        ASSERT_EQ(0, shmds_hashmap_put_bf(m.get(), "a", 1, 1.5));
        ASSERT_EQ(0, shmds_hashmap_put_bf(m.get(), "b", 1, 2.5));
        ASSERT_EQ(0, shmds_hashmap_pop_bf(m.get(), kb, sizeof kb, &kl, &vf));
        EXPECT_EQ("a", std::string(kb, kl));
        ASSERT_EQ(0, shmds_hashmap_shift_bf(m.get(), kb, sizeof kb, &kl, &vf));
        EXPECT_EQ(2.5, vf);
    }
}

TEST(HashMapEvict, ExpiredEntriesAreTakenFirstAndNeverPopped) {
    ManualClock clock;
    MapPtr m = make_aging_map(I64, I64, 3, SHMDS_HASHMAP_EVICT, 0);
    clock.attach(m.get());
    ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), 1, 1));
    ASSERT_EQ(0, shmds_hashmap_put_ttl_ii(m.get(), 2, 2, 10));
    ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), 3, 3));
    ASSERT_EQ(1, get_ii(m.get(), 1));  // 1 marked: the walk passes it, then finds 2 expired
    clock.now += 10;
    ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), 4, 4));
    EXPECT_EQ(1, get_ii(m.get(), 1));
    EXPECT_EQ(3, get_ii(m.get(), 3));
    EXPECT_EQ(0u, stats(m.get()).evictions);
    EXPECT_EQ(1u, stats(m.get()).expirations);
    ASSERT_EQ(0, shmds_hashmap_put_ttl_ii(m.get(), 5, 5, 1));  // evicts one of 1, 3, 4
    clock.now += 1;
    std::int64_t k = 0, v = 0;
    std::set<std::int64_t> popped;
    while (shmds_hashmap_pop_ii(m.get(), &k, &v) == 0) popped.insert(k);
    EXPECT_EQ(0u, popped.count(5)) << "an expired entry is reclaimed, never returned";
    EXPECT_EQ(2u, popped.size());
}

TEST(HashMapEvict, RebuildsKeepTheEvictionOrder) {
    MapPtr m = evicting(1000);
    for (int k = 0; k < 600; ++k) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), k, k));
    const std::uint64_t grown = stats(m.get()).resizes;
    EXPECT_GE(grown, 6u);
    ASSERT_EQ(8, get_ii(m.get(), 8));  // marked: it goes last
    for (int k = 0; k < 600; ++k)
        if (k % 4 != 0) {
            ASSERT_EQ(0, shmds_hashmap_remove_i(m.get(), k));
        }
    EXPECT_GT(stats(m.get()).resizes, grown) << "the removals shrank the table";
    std::vector<std::int64_t> order;
    std::int64_t k = 0, v = 0;
    while (shmds_hashmap_pop_ii(m.get(), &k, &v) == 0) order.push_back(k);
    std::vector<std::int64_t> want;
    for (int i = 0; i < 600; i += 4)
        if (i != 8) want.push_back(i);
    want.push_back(8);
    EXPECT_EQ(want, order);
}

TEST(HashMapEvict, EvictionFreesArenaBlocksAndNeverRefuses) {
    MapPtr m = evicting(10, BYTES, BYTES);
    const std::string v(100, 'v');
    for (int i = 0; i < 100; ++i) ASSERT_EQ(0, put_bb(m.get(), "key-number-long-enough-" + std::to_string(i), v));
    const shmds_hashmap_stats_t s = stats(m.get());
    EXPECT_EQ(10u, s.size);
    EXPECT_EQ(90u, s.evictions);
    EXPECT_EQ(10u * (32 + 128), s.arena_used);
    std::uint64_t n = 0;
    ASSERT_EQ(0, shmds_hashmap_drain(m.get(), 100, &n));
    EXPECT_EQ(10u, n);
    EXPECT_EQ(0u, stats(m.get()).arena_used);
}

TEST(HashMapEvict, EachShardEvictsAmongItsOwnEntries) {
    MapPtr m = evicting(40, I64, I64, 4);
    for (int k = 0; k < 1000; ++k) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), k, k));
    const shmds_hashmap_stats_t s = stats(m.get());
    EXPECT_EQ(40u, s.size) << "every shard is full at 10";
    EXPECT_EQ(960u, s.evictions);
    std::uint64_t n = 0;
    ASSERT_EQ(0, shmds_hashmap_drain(m.get(), 1000, &n));
    EXPECT_EQ(40u, n);
}

// A get marks without the shard lock: it completes while another thread holds that
// lock (stopped inside touch's clock read, before the write window opens).
TEST(HashMapEvict, AReadMarksWithoutTheWriteLock) {
    TempPath path("hmmark");
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = path.c_str();
    MapPtr writer = make_aging_map(I64, I64, 3, SHMDS_HASHMAP_EVICT, 0, 0, &o);
    shmds_hashmap_t *raw = nullptr;
    ASSERT_EQ(0, shmds_hashmap_open(&o, I64, I64, &raw));
    MapPtr reader(raw);
    ASSERT_EQ(0, shmds_hashmap_put_ttl_ii(writer.get(), 1, 1, 1'000'000'000));
    ASSERT_EQ(0, shmds_hashmap_put_ii(writer.get(), 2, 2));
    ASSERT_EQ(0, shmds_hashmap_put_ii(writer.get(), 3, 3));
    struct Gate {
        std::mutex mu;
        std::condition_variable cv;
        bool inside = false, release = false;
        static std::uint64_t read(void *self) {
            auto *g = static_cast<Gate *>(self);
            std::unique_lock<std::mutex> lk(g->mu);
            g->inside = true;
            g->cv.notify_all();
            g->cv.wait(lk, [&] { return g->release; });
            return 0;
        }
    } gate;
    ASSERT_EQ(0, shmds_hashmap_set_clock(writer.get(), &Gate::read, &gate));
    std::thread holder([&] { EXPECT_EQ(0, shmds_hashmap_touch_i(writer.get(), 1)); });
    {
        std::unique_lock<std::mutex> lk(gate.mu);
        gate.cv.wait(lk, [&] { return gate.inside; });
    }
    EXPECT_EQ(2, get_ii(reader.get(), 2)) << "the read went through with the lock held";
    {
        std::lock_guard<std::mutex> lk(gate.mu);
        gate.release = true;
    }
    gate.cv.notify_all();
    holder.join();
    ASSERT_EQ(0, shmds_hashmap_set_clock(writer.get(), nullptr, nullptr));
    // The touch marked 1 and the read marked 2: the next insert evicts 3.
    ASSERT_EQ(0, shmds_hashmap_put_ii(writer.get(), 4, 4));
    EXPECT_EQ(0, shmds_hashmap_exists_i(reader.get(), 3));
    EXPECT_EQ(1, shmds_hashmap_exists_i(reader.get(), 2));
}

// The visited bytes of the live table in this process's mapping of the map's file.
std::uint8_t *visited_bytes(const std::string &file, std::uint64_t max_entries) {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    std::uintptr_t lo = 0;
    while (std::getline(maps, line))
        if (line.size() >= file.size() && line.compare(line.size() - file.size(), file.size(), file) == 0) {
            std::istringstream(line) >> std::hex >> lo;
            break;
        }
    if (!lo) return nullptr;
    namespace shm = shmds::hashmap;
    shm::Geometry g;
    if (shm::compute_geometry({shm::ElemType::int64, shm::ElemType::int64}, max_entries, 1, 0, g,
                              shm::kFlagEvict, 0) != 0)
        return nullptr;
    auto *base = reinterpret_cast<std::uint8_t *>(lo);
    const auto *ctl = reinterpret_cast<const shm::ShardControl *>(base + g.shard_control_off);
    return base + g.shard_data_off + g.visited_off[ctl->active.load()];
}

// A read of an entry already marked writes nothing: with the visited bytes' page made
// read-only, reading it again is fine, while reading an unmarked entry (a store) faults.
TEST(HashMapEvict, ARereadOfAMarkedEntryStoresNothing) {
    TempPath path("hmnostore");
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = path.c_str();
    MapPtr m = make_aging_map(I64, I64, 8, SHMDS_HASHMAP_EVICT, 0, 0, &o);
    ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), 1, 10));
    ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), 2, 20));
    ASSERT_EQ(10, get_ii(m.get(), 1));  // marks 1
    std::uint8_t *v = visited_bytes(path.str(), 8);
    ASSERT_NE(nullptr, v) << "the map's mapping is not in /proc/self/maps";
    const long page = sysconf(_SC_PAGESIZE);
    void *pg = reinterpret_cast<void *>(reinterpret_cast<std::uintptr_t>(v) & ~std::uintptr_t(page - 1));
    // In children, so the fault of the second case ends only that child.
    const pid_t reread = fork_child([&] {
        exit_on_fault();
        if (mprotect(pg, std::size_t(page), PROT_READ) != 0) return 4;
        for (int i = 0; i < 1000; ++i)
            if (get_ii(m.get(), 1) != 10) return 5;
        return 0;
    });
    const ChildExit a = wait_child(reread, std::chrono::seconds(10));
    EXPECT_TRUE(a.exited && a.code == 0) << a.describe() << ": rereading a marked entry stored";
    const pid_t first = fork_child([&] {
        exit_on_fault();
        if (mprotect(pg, std::size_t(page), PROT_READ) != 0) return 4;
        std::int64_t out = 0;
        shmds_hashmap_get_ii(m.get(), 2, &out);  // unmarked: the mark is a store
        return 0;
    });
    const ChildExit b = wait_child(first, std::chrono::seconds(10));
    EXPECT_TRUE(b.exited && b.code == kFaultExit) << b.describe() << ": the first read of entry 2 must mark it";
}

std::vector<std::int64_t> cursor_keys(shmds_hashmap_t *m);  // below

// The one rule for marks: every verb that finds its key live is a hit. Per verb: max 3,
// put 1, 2, 3, <verb> on 1, put 4 -> 2 evicted and 1 kept. Verbs that walk or only
// report (cursors, seek, stats) are not hits: then 1 goes.
TEST(HashMapEvict, EveryVerbThatFindsItsKeyMarksIt) {
    using Verb = std::function<void(shmds_hashmap_t *)>;
    std::int64_t o = 0;
    std::uint64_t ttl = 0;
    const std::vector<std::pair<const char *, Verb>> hits = {
        {"get", [&](shmds_hashmap_t *m) { EXPECT_EQ(0, shmds_hashmap_get_ii(m, 1, &o)); }},
        {"exists", [&](shmds_hashmap_t *m) { EXPECT_EQ(1, shmds_hashmap_exists_i(m, 1)); }},
        {"get_with_ttl", [&](shmds_hashmap_t *m) { EXPECT_EQ(0, shmds_hashmap_get_with_ttl_ii(m, 1, &o, &ttl)); }},
        {"ttl_remaining", [&](shmds_hashmap_t *m) { EXPECT_EQ(0, shmds_hashmap_ttl_remaining_i(m, 1, &ttl)); }},
        {"get_batch", [&](shmds_hashmap_t *m) {
             const std::int64_t keys[] = {1};
             int res[1];
             EXPECT_EQ(1, shmds_hashmap_get_batch_ii(m, keys, 1, &o, res));
         }},
        {"put (overwrite)", [&](shmds_hashmap_t *m) { EXPECT_EQ(0, shmds_hashmap_put_ii(m, 1, 11)); }},
        {"put_ttl (overwrite)", [&](shmds_hashmap_t *m) { EXPECT_EQ(0, shmds_hashmap_put_ttl_ii(m, 1, 11, 100000)); }},
        {"update", [&](shmds_hashmap_t *m) { EXPECT_EQ(0, shmds_hashmap_update_ii(m, 1, 11)); }},
        {"swap", [&](shmds_hashmap_t *m) { EXPECT_EQ(1, shmds_hashmap_swap_ii(m, 1, 11, &o)); }},
        {"add (-EEXIST)", [&](shmds_hashmap_t *m) { EXPECT_EQ(-EEXIST, shmds_hashmap_add_ii(m, 1, 11)); }},
        {"cas", [&](shmds_hashmap_t *m) { EXPECT_EQ(0, shmds_hashmap_cas_ii(m, 1, 10, 11)); }},
        {"cas (-ECANCELED)", [&](shmds_hashmap_t *m) { EXPECT_EQ(-ECANCELED, shmds_hashmap_cas_ii(m, 1, 99, 11)); }},
        {"get_or_set (found)", [&](shmds_hashmap_t *m) { EXPECT_EQ(1, shmds_hashmap_get_or_set_ii(m, 1, 11, &o)); }},
        {"incr", [&](shmds_hashmap_t *m) { EXPECT_EQ(0, shmds_hashmap_incr_i(m, 1, &o)); }},
        {"decr", [&](shmds_hashmap_t *m) { EXPECT_EQ(0, shmds_hashmap_decr_i(m, 1, &o)); }},
        {"incr_by", [&](shmds_hashmap_t *m) { EXPECT_EQ(0, shmds_hashmap_incr_by_i(m, 1, 5, &o)); }},
        {"max (changes)", [&](shmds_hashmap_t *m) { EXPECT_EQ(1, shmds_hashmap_max_i(m, 1, 99, &o)); }},
        {"max (stored wins)", [&](shmds_hashmap_t *m) { EXPECT_EQ(0, shmds_hashmap_max_i(m, 1, 0, &o)); }},
        {"min (changes)", [&](shmds_hashmap_t *m) { EXPECT_EQ(1, shmds_hashmap_min_i(m, 1, 0, &o)); }},
        {"min (stored wins)", [&](shmds_hashmap_t *m) { EXPECT_EQ(0, shmds_hashmap_min_i(m, 1, 99, &o)); }},
        {"touch", [&](shmds_hashmap_t *m) { EXPECT_EQ(0, shmds_hashmap_touch_i(m, 1)); }},
        {"persist", [&](shmds_hashmap_t *m) { EXPECT_EQ(0, shmds_hashmap_persist_i(m, 1)); }},
        {"set_ttl", [&](shmds_hashmap_t *m) { EXPECT_EQ(0, shmds_hashmap_set_ttl_i(m, 1, 100000)); }},
        {"put_batch (overwrite)", [&](shmds_hashmap_t *m) {
             const std::int64_t keys[] = {1}, values[] = {11};
             int res[1];
             EXPECT_EQ(1, shmds_hashmap_put_batch_ii(m, keys, values, 1, res));
         }},
    };
    const std::vector<std::pair<const char *, Verb>> not_hits = {
        {"nothing", [](shmds_hashmap_t *) {}},
        {"a cursor walk", [&](shmds_hashmap_t *m) { EXPECT_EQ(3u, cursor_keys(m).size()); }},
        {"cursor seek", [&](shmds_hashmap_t *m) {
             shmds_hashmap_cursor_t *c = nullptr;
             ASSERT_EQ(0, shmds_hashmap_cursor_create(m, &c));
             EXPECT_EQ(0, shmds_hashmap_cursor_seek_i(c, 1));
             shmds_hashmap_cursor_destroy(c);
         }},
        {"stats", [&](shmds_hashmap_t *m) { EXPECT_EQ(3u, stats(m).size); }},
        {"a miss", [&](shmds_hashmap_t *m) { EXPECT_EQ(0, shmds_hashmap_exists_i(m, 7)); }},
    };
    auto run = [](const char *name, const Verb &verb, bool hit) {
        SCOPED_TRACE(name);
        MapPtr m = evicting(3);
        for (int k = 1; k <= 3; ++k) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), k, k * 10));
        verb(m.get());
        ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), 4, 40));
        EXPECT_EQ(hit ? 1 : 0, shmds_hashmap_exists_i(m.get(), 1)) << name;
        EXPECT_EQ(hit ? 0 : 1, shmds_hashmap_exists_i(m.get(), 2)) << name;
    };
    for (const auto &[name, verb] : hits) run(name, verb, true);
    for (const auto &[name, verb] : not_hits) run(name, verb, false);
}

// Writers, like reads, store the mark only when it is clear: with the visited bytes'
// page read-only, every writer verb on a marked entry works, and one on an unmarked
// entry faults (the control). A map big enough that the visited array has pages of its
// own (no entry, tag or list word shares the protected page).
TEST(HashMapEvict, AWriterOnAMarkedEntryStoresNoMark) {
    TempPath path("hmwnostore");
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = path.c_str();
    constexpr std::uint64_t kMax = 100000;
    MapPtr m = make_aging_map(I64, I64, kMax, SHMDS_HASHMAP_EVICT, 0, 0, &o);
    ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), 1, 10));
    ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), 2, 20));
    ASSERT_EQ(10, get_ii(m.get(), 1));  // marks 1
    std::uint8_t *v = visited_bytes(path.str(), kMax);
    ASSERT_NE(nullptr, v) << "the map's mapping is not in /proc/self/maps";
    const long page = sysconf(_SC_PAGESIZE);
    void *pg = reinterpret_cast<void *>(reinterpret_cast<std::uintptr_t>(v) & ~std::uintptr_t(page - 1));
    const pid_t marked = fork_child([&] {
        exit_on_fault();
        if (mprotect(pg, std::size_t(page), PROT_READ) != 0) return 4;
        std::int64_t out = 0;
        std::uint64_t ttl = 0;
        if (shmds_hashmap_put_ii(m.get(), 1, 11) != 0) return 5;
        if (shmds_hashmap_incr_i(m.get(), 1, &out) != 0 || out != 12) return 6;
        if (shmds_hashmap_cas_ii(m.get(), 1, 12, 13) != 0) return 7;
        if (shmds_hashmap_get_or_set_ii(m.get(), 1, 0, &out) != 1) return 8;
        if (shmds_hashmap_max_i(m.get(), 1, 50, &out) != 1) return 9;
        if (shmds_hashmap_touch_i(m.get(), 1) != 0) return 10;
        if (shmds_hashmap_add_ii(m.get(), 1, 0) != -EEXIST) return 11;
        if (shmds_hashmap_get_with_ttl_ii(m.get(), 1, &out, &ttl) != 0) return 12;
        return 0;
    });
    const ChildExit a = wait_child(marked, std::chrono::seconds(10));
    EXPECT_TRUE(a.exited && a.code == 0) << a.describe() << ": a writer stored an existing mark";
    const pid_t unmarked = fork_child([&] {
        exit_on_fault();
        if (mprotect(pg, std::size_t(page), PROT_READ) != 0) return 4;
        std::int64_t out = 0;
        shmds_hashmap_incr_i(m.get(), 2, &out);  // unmarked: the mark is a store
        return 0;
    });
    const ChildExit b = wait_child(unmarked, std::chrono::seconds(10));
    EXPECT_TRUE(b.exited && b.code == kFaultExit) << b.describe() << ": the first incr of entry 2 must mark it";
}

TEST(HashMapEvict, ZipfHitRatioIsNoWorseThanAnExactLru) {
    // A cache of 1000 over 20000 keys, Zipf(0.99), 300000 requests: a miss inserts the
    // key. Deterministic (fixed seed): the property, not a timing.
    constexpr std::size_t kCap = 1000, kKeys = 20000, kRequests = 300000;
    MapPtr m = evicting(kCap);
    ExactLru lru(kCap);
    Zipf zipf(kKeys, 0.99, 42);
    std::uint64_t map_hits = 0, lru_hits = 0;
    for (std::size_t i = 0; i < kRequests; ++i) {
        const std::int64_t k = zipf.next();
        std::int64_t v = 0;
        const int rc = shmds_hashmap_get_ii(m.get(), k, &v);
        if (rc == 0) {
            ++map_hits;
        } else {
            ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), k, k));
        }
        lru_hits += lru.access(k);
    }
    const double map_ratio = double(map_hits) / kRequests, lru_ratio = double(lru_hits) / kRequests;
    std::printf("zipf(0.99) hit ratio: map %.4f, exact LRU %.4f\n", map_ratio, lru_ratio);
    EXPECT_GE(map_hits, lru_hits);
}

// ------------------------------------------- TTL and eviction with the other verbs

std::vector<std::int64_t> cursor_keys(shmds_hashmap_t *m) {
    shmds_hashmap_cursor_t *c = nullptr;
    EXPECT_EQ(0, shmds_hashmap_cursor_create(m, &c));
    std::vector<std::int64_t> keys;
    std::int64_t k = 0, v = 0;
    int rc;
    while ((rc = shmds_hashmap_cursor_next_ii(c, &k, &v)) == 1) keys.push_back(k);
    EXPECT_EQ(0, rc) << shmds_errname(rc) << ": " << shmds_last_error();
    shmds_hashmap_cursor_destroy(c);
    std::sort(keys.begin(), keys.end());
    return keys;
}

std::vector<std::int64_t> pop_all(shmds_hashmap_t *m) {
    std::vector<std::int64_t> order;
    std::int64_t k = 0, v = 0;
    while (shmds_hashmap_pop_ii(m, &k, &v) == 0) order.push_back(k);
    return order;
}

TEST(HashMapAgingWithOps, BatchPutMaxMinAndGetOrSetEvictAndTakeTheDefaultTtl) {
    ManualClock clock;
    MapPtr m = make_aging_map(I64, I64, 3, SHMDS_HASHMAP_EVICT, 500);
    clock.attach(m.get());
    const std::int64_t keys[5] = {1, 2, 3, 4, 5}, vals[5] = {10, 20, 30, 40, 50};
    int res[5];
    ASSERT_EQ(5, shmds_hashmap_put_batch_ii(m.get(), keys, vals, 5, res)) << shmds_last_error();
    for (int r : res) EXPECT_EQ(0, r);
    EXPECT_EQ(3u, stats(m.get()).size);
    EXPECT_EQ(2u, stats(m.get()).evictions);
    EXPECT_EQ(std::nullopt, get_ii(m.get(), 1));  // the oldest two went, as puts would
    EXPECT_EQ(std::nullopt, get_ii(m.get(), 2));
    EXPECT_EQ(500u, ttl_left(m.get(), 3));        // the map's default TTL
    EXPECT_EQ(500u, ttl_left(m.get(), 5));

    std::int64_t v = 0;
    clock.now += 100;
    ASSERT_EQ(1, shmds_hashmap_max_i(m.get(), 6, 60, &v));  // 3 was read above: 4 goes
    EXPECT_EQ(std::nullopt, get_ii(m.get(), 4));
    EXPECT_EQ(500u, ttl_left(m.get(), 6));  // a hit: 6 is kept next
    ASSERT_EQ(1, shmds_hashmap_min_i(m.get(), 7, 70, &v));  // passes 5 and 6, wraps: 3 goes
    EXPECT_EQ(std::nullopt, get_ii(m.get(), 3));
    EXPECT_EQ(500u, ttl_left(m.get(), 7));
    ASSERT_EQ(0, shmds_hashmap_get_or_set_ii(m.get(), 8, 80, &v));  // 5 goes
    EXPECT_EQ(80, v);
    EXPECT_EQ(std::nullopt, get_ii(m.get(), 5));
    EXPECT_EQ(500u, ttl_left(m.get(), 8));
    const shmds_hashmap_stats_t s = stats(m.get());
    EXPECT_EQ(3u, s.size);
    EXPECT_EQ(5u, s.evictions);

    // Expired entries are absent for the batch's keys and make room first.
    clock.now += 500;
    const std::int64_t more[2] = {9, 10};
    ASSERT_EQ(2, shmds_hashmap_put_batch_ii(m.get(), more, more, 2, res));
    EXPECT_EQ(3u, stats(m.get()).size);  // 8 is still held, expired and unseen
    EXPECT_EQ(2u, stats(m.get()).expirations);  // 6 and 7 made the room
    EXPECT_EQ(5u, stats(m.get()).evictions);
    EXPECT_EQ(std::nullopt, get_ii(m.get(), 8));
    EXPECT_EQ(9, get_ii(m.get(), 9));
    EXPECT_EQ(500u, ttl_left(m.get(), 10));
}

TEST(HashMapAgingWithOps, BatchGetCursorsAndSeekSkipExpiredEntries) {
    ManualClock clock;
    MapPtr m = make_aging_map(I64, I64, 100, 0, 0);
    clock.attach(m.get());
    ASSERT_EQ(0, shmds_hashmap_put_ttl_ii(m.get(), 1, 10, 100));
    ASSERT_EQ(0, shmds_hashmap_put_ttl_ii(m.get(), 2, 20, 0));
    ASSERT_EQ(0, shmds_hashmap_put_ttl_ii(m.get(), 3, 30, 200));
    EXPECT_EQ((std::vector<std::int64_t>{1, 2, 3}), cursor_keys(m.get()));
    clock.now += 100;
    const std::int64_t keys[3] = {1, 2, 3};
    std::int64_t got[3] = {-1, -1, -1};
    int res[3];
    EXPECT_EQ(2, shmds_hashmap_get_batch_ii(m.get(), keys, 3, got, res));
    EXPECT_EQ(-ENOENT, res[0]);
    EXPECT_EQ(-1, got[0]);
    EXPECT_EQ(0, res[1]);
    EXPECT_EQ(30, got[2]);
    EXPECT_EQ((std::vector<std::int64_t>{2, 3}), cursor_keys(m.get()));
    shmds_hashmap_cursor_t *c = nullptr;
    ASSERT_EQ(0, shmds_hashmap_cursor_create(m.get(), &c));
    EXPECT_EQ(-ENOENT, shmds_hashmap_cursor_seek_i(c, 1));
    EXPECT_EQ(0, shmds_hashmap_cursor_seek_i(c, 3));
    std::int64_t k[4], vs[4];
    std::size_t kl[4], vl[4];
    clock.now += 100;  // 3 expires too: a batch of the cursor skips it
    const int n = shmds_hashmap_cursor_next_batch(c, k, sizeof k, kl, vs, sizeof vs, vl, 4);
    for (int i = 0; i < n; ++i) EXPECT_NE(3, k[i]);
    shmds_hashmap_cursor_destroy(c);
    EXPECT_EQ((std::vector<std::int64_t>{2}), cursor_keys(m.get()));
}

TEST(HashMapAgingWithOps, ClearResetsTheEvictionListTheHandAndTheFlushCursor) {
    MapPtr m = make_aging_map(I64, I64, 3, SHMDS_HASHMAP_EVICT, 0);
    for (std::int64_t k = 1; k <= 4; ++k) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), k, k));
    ASSERT_EQ(2, get_ii(m.get(), 2));
    ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), 5, 5));  // the hand now rests mid-list
    std::uint64_t removed = 0;
    ASSERT_EQ(0, shmds_hashmap_clear(m.get(), &removed)) << shmds_last_error();
    EXPECT_EQ(3u, removed);
    for (std::int64_t k = 11; k <= 14; ++k)
        ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), k, k)) << shmds_last_error();
    EXPECT_EQ(std::nullopt, get_ii(m.get(), 11)) << "the cleared map's oldest entry goes first";
    EXPECT_EQ((std::vector<std::int64_t>{12, 13, 14}), pop_all(m.get()));
    EXPECT_EQ(0u, stats(m.get()).size);

    // A partial flush that stopped mid-table starts the cleared table from slot 0.
    ManualClock clock;
    MapPtr t = make_aging_map(I64, I64, 12, 0, 0);
    clock.attach(t.get());
    const std::uint64_t cap = stats(t.get()).table_slots;
    ASSERT_EQ(0, shmds_hashmap_flush_expired_partial(t.get(), cap / 2, &removed));
    ASSERT_EQ(0, shmds_hashmap_clear(t.get(), &removed));
    for (std::int64_t k = 0; k < 10; ++k) ASSERT_EQ(0, shmds_hashmap_put_ttl_ii(t.get(), k, k, 5));
    ASSERT_EQ(cap, stats(t.get()).table_slots);
    clock.now += 5;
    removed = 0;
    EXPECT_EQ(1, shmds_hashmap_flush_expired_partial(t.get(), cap, &removed));
    EXPECT_EQ(10u, removed);
}

TEST(HashMapAgingWithOps, ReserveOnAnEvictingMapKeepsTheOrderAndTheCeiling) {
    MapPtr m = make_aging_map(I64, I64, 100, SHMDS_HASHMAP_EVICT, 0);
    for (std::int64_t k = 1; k <= 5; ++k) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), k, k));
    ASSERT_EQ(1, get_ii(m.get(), 1));
    ASSERT_EQ(3, get_ii(m.get(), 3));
    const shmds_hashmap_stats_t before = stats(m.get());
    ASSERT_EQ(0, shmds_hashmap_reserve(m.get(), 100)) << shmds_last_error();
    const shmds_hashmap_stats_t after = stats(m.get());
    EXPECT_GT(after.table_slots, before.table_slots);
    EXPECT_EQ(before.resizes + 1, after.resizes);
    // Filled to the ceiling the reserved table needs no further rebuild, and the
    // first insert past it evicts by the order and marks the rebuild kept: 1 is
    // passed (marked), 2 goes.
    for (std::int64_t i = 6; i <= 100; ++i) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), i, i));
    EXPECT_EQ(100u, stats(m.get()).size);
    EXPECT_EQ(after.resizes, stats(m.get()).resizes);
    ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), 101, 101));
    EXPECT_EQ(100u, stats(m.get()).size);
    EXPECT_EQ(1u, stats(m.get()).evictions);
    EXPECT_EQ(std::nullopt, get_ii(m.get(), 2));
    EXPECT_EQ(1, get_ii(m.get(), 1));
    EXPECT_EQ(3, get_ii(m.get(), 3));
    EXPECT_EQ(after.resizes, stats(m.get()).resizes);
    EXPECT_EQ(-ENOSPC, shmds_hashmap_reserve(m.get(), 101));
}

TEST(HashMapAgingWithOps, AFrozenMapRefusesTtlAndEvictionWritesAndReadOnlyReadsNeverStore) {
    TempPath path("hm-aging-frozen");
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = path.c_str();
    ManualClock clock;
    MapPtr m = make_aging_map(I64, I64, 8, SHMDS_HASHMAP_EVICT, 0, 0, &o);
    clock.attach(m.get());
    for (std::int64_t k = 1; k <= 3; ++k) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), k, k * 10));
    ASSERT_EQ(0, shmds_hashmap_put_ttl_ii(m.get(), 4, 40, 1000));
    ASSERT_EQ(0, shmds_hashmap_freeze(m.get()));
    std::int64_t k = 0, v = 0;
    std::uint64_t n = 0;
    EXPECT_EQ(-EROFS, shmds_hashmap_touch_i(m.get(), 1));
    EXPECT_EQ(-EROFS, shmds_hashmap_persist_i(m.get(), 4));
    EXPECT_EQ(-EROFS, shmds_hashmap_set_ttl_i(m.get(), 1, 5));
    EXPECT_EQ(-EROFS, shmds_hashmap_put_ttl_ii(m.get(), 5, 5, 5));
    EXPECT_EQ(-EROFS, shmds_hashmap_flush_expired(m.get(), &n));
    EXPECT_EQ(-EROFS, shmds_hashmap_flush_expired_partial(m.get(), 100, &n));
    EXPECT_EQ(-EROFS, shmds_hashmap_pop_ii(m.get(), &k, &v));
    EXPECT_EQ(-EROFS, shmds_hashmap_shift_ii(m.get(), &k, &v));
    EXPECT_EQ(-EROFS, shmds_hashmap_drain(m.get(), 2, &n));
    EXPECT_EQ(1000u, ttl_left(m.get(), 4));
    EXPECT_EQ(0u, ttl_left(m.get(), 1));
    EXPECT_EQ(4u, stats(m.get()).size);
    m.reset();

    // Mapped PROT_READ: a visited mark or any other store would fault.
    shmds_hashmap_t *raw = nullptr;
    ASSERT_EQ(0, shmds_hashmap_open_read_only(&o, I64, I64, &raw)) << shmds_last_error();
    MapPtr ro(raw);
    clock.attach(ro.get());
    EXPECT_EQ(10, get_ii(ro.get(), 1));
    EXPECT_EQ(1, shmds_hashmap_exists_i(ro.get(), 2));
    std::uint64_t ttl = 0;
    EXPECT_EQ(0, shmds_hashmap_get_with_ttl_ii(ro.get(), 4, &v, &ttl));
    EXPECT_EQ(1000u, ttl);
    const std::int64_t keys[4] = {1, 2, 3, 4};
    std::int64_t got[4];
    int res[4];
    EXPECT_EQ(4, shmds_hashmap_get_batch_ii(ro.get(), keys, 4, got, res));
    EXPECT_EQ((std::vector<std::int64_t>{1, 2, 3, 4}), cursor_keys(ro.get()));
    clock.now += 1000;  // 4 expires: absent, and nothing reclaims it
    EXPECT_EQ(std::nullopt, get_ii(ro.get(), 4));
    EXPECT_EQ(3, shmds_hashmap_get_batch_ii(ro.get(), keys, 4, got, res));
    EXPECT_EQ((std::vector<std::int64_t>{1, 2, 3}), cursor_keys(ro.get()));
    EXPECT_EQ(-EROFS, shmds_hashmap_flush_expired(ro.get(), &n));
    EXPECT_EQ(-EROFS, shmds_hashmap_pop_ii(ro.get(), &k, &v));
    EXPECT_EQ(-EROFS, shmds_hashmap_touch_i(ro.get(), 1));
    EXPECT_EQ(4u, stats(ro.get()).size);
    EXPECT_EQ(0u, stats(ro.get()).expirations);
}

}  // namespace
