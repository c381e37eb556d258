// The cache's callbacks in one process (the anchor's t/4, 5, 10, 11, 22, 24 and the
// callback rules of study §2): read-through, cache_not_found, write-through counts,
// write-back exactly once on expunge / expire / empty, the delete_cb rules, re-entrancy
// refused and allowed, a failing callback releasing the page lock.
#include "test_cache_callbacks_helpers.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <future>
#include <thread>

namespace {

using namespace shmds::test;
using namespace shmds::test::cache;

int raw_get(shmds_cache_t *c, const std::string &k, std::string *v = nullptr) {
    char buf[256];
    std::size_t len = 0;
    const int rc = shmds_cache_get(c, k.data(), k.size(), buf, sizeof buf, &len);
    if (rc == 0 && v) v->assign(buf, len);
    return rc;
}

// Another thread sets key within 5 s: the page lock is free (not kept by a failed call).
void expect_page_lockable_from_another_thread(shmds_cache_t *c, const std::string &k) {
    auto other = std::async(std::launch::async, [&] {
        return shmds_cache_set(c, k.data(), k.size(), "other", 5, 0);
    });
    ASSERT_EQ(std::future_status::ready, other.wait_for(5s)) << "the page lock was kept";
    EXPECT_EQ(0, other.get());
}

// ---- read-through ---------------------------------------------------------------------

TEST(CacheReadThrough, AMissCallsReadCbOnceAndStoresItsValue) {
    CachePtr h = make_cache(config(4096, 4));
    Store s;
    s.data["k"] = "from-store";
    s.attach(h.get());
    EXPECT_EQ("from-store", get(h.get(), "k"));
    EXPECT_EQ(1, s.reads);
    EXPECT_EQ("from-store", get(h.get(), "k"));  // now cached
    EXPECT_EQ(1, s.reads);
    EXPECT_EQ(0, flags_of(h.get(), "k"));  // read from the store: clean, not dirty
    EXPECT_EQ(0, s.writes);                // and never written back to it
    const shmds_cache_stats_t st = stats(h.get());
    EXPECT_EQ(2u, st.reads);  // the miss and the hit, each once (anchor t/14's counts)
    EXPECT_EQ(1u, st.hits);
}

TEST(CacheReadThrough, ReadCbExpiryIsHonoured) {
    CachePtr h = make_cache(config(4096, 4));
    SteppedClock clock;
    clock.attach(h.get());
    Store s;
    s.data["k"] = "v";
    s.read_expire_ms = 1000;
    s.attach(h.get());
    EXPECT_EQ("v", get(h.get(), "k"));
    clock.now_ms += 999;
    EXPECT_EQ("v", get(h.get(), "k"));
    EXPECT_EQ(1, s.reads);
    clock.now_ms += 1;  // expired: read again
    EXPECT_EQ("v", get(h.get(), "k"));
    EXPECT_EQ(2, s.reads);
}

TEST(CacheReadThrough, NotFoundIsAMissAndIsNotCachedByDefault) {
    CachePtr h = make_cache(config(4096, 4));
    Store s;
    s.attach(h.get());
    EXPECT_EQ(-ENOENT, raw_get(h.get(), "absent"));
    EXPECT_EQ(-ENOENT, raw_get(h.get(), "absent"));
    EXPECT_EQ(2, s.reads);
    EXPECT_EQ(-1, flags_of(h.get(), "absent"));
}

// Anchor t/10: with cache_not_found, read_cb is called once per key.
TEST(CacheReadThrough, CacheNotFoundCachesTheMiss) {
    CachePtr h = make_cache(config(4096, 4));
    Store s;
    s.attach(h.get(), false, true);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(-ENOENT, raw_get(h.get(), "absent"));
    EXPECT_EQ(1, s.reads);
    EXPECT_EQ(long(SHMDS_CACHE_FLAG_NOT_FOUND), flags_of(h.get(), "absent"));
    // A set replaces the cached miss.
    ASSERT_EQ(0, set(h.get(), "absent", "now"));
    EXPECT_EQ("now", get(h.get(), "absent"));
    EXPECT_EQ(1, s.reads);
}

TEST(CacheReadThrough, AFailingReadCbReachesTheCallerAndCachesNothing) {
    CachePtr h = make_cache(config(4096, 4));
    Store s;
    s.data["k"] = "v";
    s.fail_with = -EIO;
    s.attach(h.get(), false, true);
    EXPECT_EQ(-EIO, raw_get(h.get(), "k"));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "read_cb")) << shmds_last_error();
    s.fail_with = 0;
    EXPECT_EQ("v", get(h.get(), "k"));
    EXPECT_EQ(2, s.reads);
}

// ---- write-through --------------------------------------------------------------------

// Anchor t/5: every set reaches the store; the cache keeps what fits; every get is right.
TEST(CacheWriteThrough, EverySetCallsWriteCb) {
    CachePtr h = make_cache(config(4096, 89));
    Store s;
    s.attach(h.get());
    const std::string pad(100, 'p');  // 3000 of these need more than the 89 pages hold
    for (int i = 0; i < 3000; ++i)
        ASSERT_EQ(0, set(h.get(), "k" + std::to_string(i), "v" + std::to_string(i) + pad));
    EXPECT_EQ(3000, s.writes);
    EXPECT_EQ(3000u, s.data.size());
    const std::uint64_t items = stats(h.get()).items;
    EXPECT_GT(items, 500u);
    EXPECT_LT(items, 3000u);
    for (int i = 0; i < 3000; ++i)  // misses come back through read_cb
        ASSERT_EQ("v" + std::to_string(i) + pad, get(h.get(), "k" + std::to_string(i)));
    EXPECT_GE(s.reads, int(3000 - items));
    EXPECT_EQ(3000, s.writes);  // reads store clean items: nothing written back
}

TEST(CacheWriteThrough, AFailingWriteCbKeepsTheOldValueAndReleasesTheLock) {
    CachePtr h = make_cache(config(4096, 1));
    Store s;
    s.attach(h.get());
    ASSERT_EQ(0, set(h.get(), "k", "old"));
    s.fail_with = -EIO;
    EXPECT_EQ(-EIO, set(h.get(), "k", "new"));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "write_cb")) << shmds_last_error();
    s.fail_with = 0;
    EXPECT_EQ("old", get(h.get(), "k"));
    EXPECT_EQ("old", s.data["k"]);
    expect_page_lockable_from_another_thread(h.get(), "k");
}

TEST(CacheWriteThrough, AValueTooBigForAPageIsStillWrittenThrough) {
    CachePtr h = make_cache(config(4096, 1));
    Store s;
    s.attach(h.get());
    EXPECT_EQ(-E2BIG, set(h.get(), "big", std::string(5000, 'b')));
    EXPECT_EQ(1, s.writes);
    EXPECT_EQ(5000u, s.data["big"].size());
}

// ---- write-back -----------------------------------------------------------------------

// Anchor t/4: sets leave the store untouched; empty() flushes them; read_cb refills.
TEST(CacheWriteBack, SetsAreDeferredUntilEmpty) {
    CachePtr h = make_cache(config(32768, 3));
    Store s;
    s.attach(h.get(), true);
    for (int i = 0; i < 100; ++i) ASSERT_EQ(0, set(h.get(), "k" + std::to_string(i), "v" + std::to_string(i)));
    EXPECT_EQ(0, s.writes);
    EXPECT_EQ(long(SHMDS_CACHE_FLAG_DIRTY), flags_of(h.get(), "k7"));
    ASSERT_EQ(0, shmds_cache_empty(h.get(), 0)) << shmds_last_error();
    EXPECT_EQ(100, s.writes);
    EXPECT_EQ(0u, stats(h.get()).items);
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(1, s.writes_of["k" + std::to_string(i)]);
        EXPECT_EQ("v" + std::to_string(i), get(h.get(), "k" + std::to_string(i)));
    }
    EXPECT_EQ(100, s.reads);
    ASSERT_EQ(0, shmds_cache_empty(h.get(), 0));  // the refilled items are clean
    EXPECT_EQ(100, s.writes);
}

// Eviction writes a dirty item back exactly once, with its last value.
TEST(CacheWriteBack, ExpungeWritesEachDirtyItemBackExactlyOnce) {
    CachePtr h = make_cache(config(4096, 1, 0, 1));
    Store s;
    s.attach(h.get(), true);
    std::map<std::string, std::string> last;
    for (int round = 0; round < 3; ++round)
        for (int i = 0; i < 150; ++i) {
            const std::string k = "k" + std::to_string(i);
            const std::string v = k + "@" + std::to_string(round) + std::string(40, 'x');
            ASSERT_EQ(0, set(h.get(), k, v));
            last[k] = v;
        }
    EXPECT_GT(s.writes, 0);  // the one page overflowed many times
    ASSERT_EQ(0, shmds_cache_empty(h.get(), 0));
    EXPECT_EQ(last, s.data);  // every key's last value reached the store
    // Each time a dirty item left, one write: never the same item twice.
    int evictions_plus_empty = 0;
    for (const auto &kw : s.writes_of) evictions_plus_empty += kw.second;
    EXPECT_EQ(s.writes, evictions_plus_empty);
    EXPECT_LE(s.writes, 450);
    const int before = s.writes;
    ASSERT_EQ(0, shmds_cache_empty(h.get(), 0));
    EXPECT_EQ(before, s.writes);
}

TEST(CacheWriteBack, AnOverwrittenDirtyItemIsWrittenOnceWithItsLastValue) {
    CachePtr h = make_cache(config(4096, 1));
    Store s;
    s.attach(h.get(), true);
    ASSERT_EQ(0, set(h.get(), "k", "1"));
    ASSERT_EQ(0, set(h.get(), "k", "2"));
    ASSERT_EQ(0, shmds_cache_empty(h.get(), 0));
    EXPECT_EQ(1, s.writes);
    EXPECT_EQ("2", s.data["k"]);
}

// Anchor t/22: expire(key) writes a dirty item back, then removes it; no delete_cb.
TEST(CacheWriteBack, ExpireWritesBackADirtyItemThenRemovesIt) {
    CachePtr h = make_cache(config(4096, 4));
    Store s;
    s.attach(h.get(), true);
    ASSERT_EQ(0, set(h.get(), "k", "v"));
    ASSERT_EQ(0, shmds_cache_expire(h.get(), "k", 1));
    EXPECT_EQ(1, s.writes);
    EXPECT_EQ("v", s.data["k"]);
    EXPECT_EQ(0, s.deletes);
    EXPECT_EQ(0, shmds_cache_exists(h.get(), "k", 1));
    // A clean item (read from the store) is not written back.
    EXPECT_EQ("v", get(h.get(), "k"));
    ASSERT_EQ(0, shmds_cache_expire(h.get(), "k", 1));
    EXPECT_EQ(1, s.writes);
}

// Anchor t/22: empty(1) writes back (and removes) only the expired dirty items; an
// expunge writes back expired dirty items too.
TEST(CacheWriteBack, EmptyOnlyExpiredWritesBackTheExpiredDirtyItems) {
    CachePtr h = make_cache(config(4096, 4));
    SteppedClock clock;
    clock.attach(h.get());
    Store s;
    s.attach(h.get(), true);
    ASSERT_EQ(0, set(h.get(), "short", "a", 1000));
    ASSERT_EQ(0, set(h.get(), "long", "b", SHMDS_CACHE_EXPIRE_NEVER));
    clock.now_ms += 2000;
    ASSERT_EQ(0, shmds_cache_empty(h.get(), 1));
    EXPECT_EQ(1, s.writes);
    EXPECT_EQ("a", s.data["short"]);
    EXPECT_EQ(1u, stats(h.get()).items);
    EXPECT_EQ(long(SHMDS_CACHE_FLAG_DIRTY), flags_of(h.get(), "long"));
    ASSERT_EQ(0, shmds_cache_empty(h.get(), 0));
    EXPECT_EQ(2, s.writes);
    EXPECT_EQ("b", s.data["long"]);
}

TEST(CacheWriteBack, ClearAndPurgeDropDirtyItemsWithoutWriteCb) {
    CachePtr h = make_cache(config(4096, 4));
    SteppedClock clock;
    clock.attach(h.get());
    Store s;
    s.attach(h.get(), true);
    ASSERT_EQ(0, set(h.get(), "a", "1", 10));
    clock.now_ms += 20;
    ASSERT_EQ(0, shmds_cache_purge(h.get(), nullptr));
    ASSERT_EQ(0, set(h.get(), "b", "2"));
    ASSERT_EQ(0, shmds_cache_clear(h.get()));
    EXPECT_EQ(0, s.writes);
    EXPECT_EQ(0u, stats(h.get()).items);
}

TEST(CacheWriteBack, AFailingWriteBackStopsEmptyAndKeepsTheItemsDirty) {
    CachePtr h = make_cache(config(4096, 1));
    Store s;
    s.attach(h.get(), true);
    ASSERT_EQ(0, set(h.get(), "a", "1"));
    ASSERT_EQ(0, set(h.get(), "b", "2"));
    s.fail_with = -EIO;
    EXPECT_EQ(-EIO, shmds_cache_empty(h.get(), 0));
    EXPECT_EQ(2u, stats(h.get()).items);
    EXPECT_EQ(long(SHMDS_CACHE_FLAG_DIRTY), flags_of(h.get(), "a"));
    expect_page_lockable_from_another_thread(h.get(), "c");
    s.fail_with = 0;
    ASSERT_EQ(0, shmds_cache_empty(h.get(), 0));
    EXPECT_EQ(3, s.writes);  // a, b and c, once each
    EXPECT_EQ("1", s.data["a"]);
}

// A write_back set too big for a page goes straight to the store (the anchor's rule).
TEST(CacheWriteBack, AValueTooBigForAPageIsWrittenThroughAtOnce) {
    CachePtr h = make_cache(config(4096, 1));
    Store s;
    s.attach(h.get(), true);
    EXPECT_EQ(-E2BIG, set(h.get(), "big", std::string(5000, 'b')));
    EXPECT_EQ(1, s.writes);
}

// ---- delete_cb (study §2) ---------------------------------------------------------------

TEST(CacheDeleteCb, WriteThroughRemoveCallsDeleteCbForPresentAndAbsentKeys) {
    CachePtr h = make_cache(config(4096, 4));
    Store s;
    s.attach(h.get());
    ASSERT_EQ(0, set(h.get(), "k", "v"));
    EXPECT_EQ(0, remove_key(h.get(), "k"));
    EXPECT_EQ(1, s.deletes);
    EXPECT_EQ(0u, s.data.count("k"));
    EXPECT_EQ(-ENOENT, remove_key(h.get(), "never"));
    EXPECT_EQ(2, s.deletes);
}

TEST(CacheDeleteCb, WriteBackRemoveOfADirtyItemDoesNotCallDeleteCb) {
    CachePtr h = make_cache(config(4096, 4));
    Store s;
    s.data["clean"] = "c";
    s.attach(h.get(), true);
    ASSERT_EQ(0, set(h.get(), "dirty", "d"));
    EXPECT_EQ(0, remove_key(h.get(), "dirty"));
    EXPECT_EQ(0, s.deletes);
    EXPECT_EQ(0, s.writes);  // and it is not written back either
    EXPECT_EQ("c", get(h.get(), "clean"));  // read from the store: clean
    EXPECT_EQ(0, remove_key(h.get(), "clean"));
    EXPECT_EQ(1, s.deletes);
    EXPECT_EQ(-ENOENT, remove_key(h.get(), "absent"));
    EXPECT_EQ(2, s.deletes);
}

TEST(CacheDeleteCb, GetAndRemoveFollowsTheRemoveRules) {
    CachePtr h = make_cache(config(4096, 4));
    Store s;
    s.attach(h.get(), true);
    ASSERT_EQ(0, set(h.get(), "dirty", "d"));
    char buf[8];
    std::size_t len = 0;
    EXPECT_EQ(0, shmds_cache_get_and_remove(h.get(), "dirty", 5, buf, sizeof buf, &len));
    EXPECT_EQ(0, s.deletes);
    EXPECT_EQ(-ENOENT, shmds_cache_get_and_remove(h.get(), "dirty", 5, buf, sizeof buf, &len));
    EXPECT_EQ(1, s.deletes);
}

// The anchor's get_and_remove is get (read_cb on a miss) then remove (delete_cb for the
// clean value): it takes the value out of the backing store.
TEST(CacheDeleteCb, GetAndRemoveOfAMissTakesTheValueFromTheStore) {
    CachePtr h = make_cache(config(4096, 4));
    Store s;
    s.data["k"] = "stored";
    s.attach(h.get());
    char buf[16];
    std::size_t len = 0;
    ASSERT_EQ(0, shmds_cache_get_and_remove(h.get(), "k", 1, buf, sizeof buf, &len));
    EXPECT_EQ("stored", std::string(buf, len));
    EXPECT_EQ(1, s.reads);
    EXPECT_EQ(1, s.deletes);
    EXPECT_EQ(0u, s.data.count("k"));
    EXPECT_EQ(0, shmds_cache_exists(h.get(), "k", 1));
    EXPECT_EQ(-ENOENT, shmds_cache_get_and_remove(h.get(), "k", 1, buf, sizeof buf, &len));
    EXPECT_EQ(2, s.reads);
    EXPECT_EQ(2, s.deletes);  // an absent key: delete_cb too
}

TEST(CacheDeleteCb, AFailingDeleteCbKeepsTheItem) {
    CachePtr h = make_cache(config(4096, 1));
    Store s;
    s.attach(h.get());
    ASSERT_EQ(0, set(h.get(), "k", "v"));
    s.fail_with = -EIO;
    EXPECT_EQ(-EIO, remove_key(h.get(), "k"));
    s.fail_with = 0;
    EXPECT_EQ("v", get(h.get(), "k"));
    expect_page_lockable_from_another_thread(h.get(), "k");
}

// ---- get_and_set --------------------------------------------------------------------------

TEST(CacheGetAndSet, IncrementsAndKeepsTheExpiry) {
    CachePtr h = make_cache(config(4096, 4));
    SteppedClock clock;
    clock.attach(h.get());
    std::string buf;
    for (int i = 0; i < 5; ++i) ASSERT_EQ(0, shmds_cache_get_and_set(h.get(), "n", 1, &increment, &buf));
    EXPECT_EQ("5", get(h.get(), "n"));
    ASSERT_EQ(0, set(h.get(), "t", "1", 5000));
    ASSERT_EQ(0, shmds_cache_get_and_set(h.get(), "t", 1, &increment, &buf));
    clock.now_ms += 4999;
    EXPECT_EQ("2", get(h.get(), "t"));  // anchor t/23: expire_on kept
    clock.now_ms += 1;
    EXPECT_EQ(std::nullopt, get(h.get(), "t"));
}

TEST(CacheGetAndSet, DontStoreKeepsTheItem) {
    CachePtr h = make_cache(config(4096, 4));
    ASSERT_EQ(0, set(h.get(), "k", "v"));
    auto keep = [](void *, const void *, size_t, const void *v, size_t vl, int found,
                   shmds_cache_value_t *) {
        return found && vl == 1 && *static_cast<const char *>(v) == 'v' ? SHMDS_CACHE_DONT_STORE
                                                                         : -EINVAL;
    };
    EXPECT_EQ(SHMDS_CACHE_DONT_STORE, shmds_cache_get_and_set(h.get(), "k", 1, keep, nullptr));
    EXPECT_EQ("v", get(h.get(), "k"));
}

// Anchor t/24: a failing callback releases the lock and the old value stays.
TEST(CacheGetAndSet, AFailingCallbackReleasesTheLockAndKeepsTheOldValue) {
    CachePtr h = make_cache(config(4096, 1));
    ASSERT_EQ(0, set(h.get(), "k", "old"));
    auto fails = [](void *, const void *, size_t, const void *, size_t, int,
                    shmds_cache_value_t *) { return -ECANCELED; };
    EXPECT_EQ(-ECANCELED, shmds_cache_get_and_set(h.get(), "k", 1, fails, nullptr));
    EXPECT_EQ("old", get(h.get(), "k"));
    expect_page_lockable_from_another_thread(h.get(), "k");
}

TEST(CacheGetAndSet, AValueTooBigForAPageStillReachesWriteCb) {
    CachePtr h = make_cache(config(4096, 1));
    Store s;
    s.attach(h.get(), true);
    auto big = [](void *, const void *, size_t, const void *, size_t, int,
                  shmds_cache_value_t *out) {
        static const std::string v(5000, 'b');
        out->value = v.data();
        out->value_len = v.size();
        return 0;
    };
    EXPECT_EQ(-E2BIG, shmds_cache_get_and_set(h.get(), "k", 1, big, nullptr));
    EXPECT_EQ(1, s.writes);
    EXPECT_EQ(5000u, s.data["k"].size());
}

TEST(CacheGetAndSet, WriteThroughAndWriteBackApply) {
    CachePtr h = make_cache(config(4096, 4));
    Store s;
    std::string buf;
    s.attach(h.get());
    ASSERT_EQ(0, shmds_cache_get_and_set(h.get(), "n", 1, &increment, &buf));
    EXPECT_EQ(1, s.writes);
    EXPECT_EQ("1", s.data["n"]);
    s.attach(h.get(), true);
    ASSERT_EQ(0, shmds_cache_get_and_set(h.get(), "n", 1, &increment, &buf));
    EXPECT_EQ(1, s.writes);
    EXPECT_EQ(long(SHMDS_CACHE_FLAG_DIRTY), flags_of(h.get(), "n"));
}

// ---- re-entrancy (anchor t/11) --------------------------------------------------------------

bool says_inside_a_callback(const std::string &e) {
    return e.find("from inside a callback") != std::string::npos;
}

TEST(CacheReentry, ACallFromInsideACallbackIsRefused) {
    CachePtr h = make_cache(config(4096, 4));
    Store s;
    s.data["k"] = "v";
    s.attach(h.get());
    s.inner = [&] { return set(h.get(), "other", "x"); };
    EXPECT_EQ("v", get(h.get(), "k"));  // read_cb ran; its inner set was refused
    EXPECT_EQ(-EDEADLK, s.inner_rc);
    EXPECT_TRUE(says_inside_a_callback(s.inner_error)) << s.inner_error;
    s.inner_rc = 1;
    s.inner = [&] { return raw_get(h.get(), "k"); };
    ASSERT_EQ(0, set(h.get(), "w", "x"));  // write_cb's inner get
    EXPECT_EQ(-EDEADLK, s.inner_rc);
    s.inner_rc = 1;
    s.inner = [&] { return shmds_cache_clear(h.get()); };
    EXPECT_EQ(0, remove_key(h.get(), "w"));  // delete_cb's inner clear
    EXPECT_EQ(-EDEADLK, s.inner_rc);
    // get_and_set's callback, through a second handle on the same cache.
    s.inner = nullptr;
    struct Ctx {
        shmds_cache_t *other;
        int rc = 1;
    } ctx{nullptr};
    TempPath path("cbre");
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = path.c_str();
    CachePtr f = make_cache(config(4096, 4), &o);
    shmds_cache_t *second = nullptr;
    ASSERT_EQ(0, shmds_cache_open(&o, &second)) << shmds_last_error();
    CachePtr g(second);
    ctx.other = second;
    auto inner_get = [](void *p, const void *, size_t, const void *, size_t, int,
                        shmds_cache_value_t *) {
        auto *c = static_cast<Ctx *>(p);
        char b[8];
        std::size_t l = 0;
        c->rc = shmds_cache_get(c->other, "z", 1, b, sizeof b, &l);
        return SHMDS_CACHE_DONT_STORE;
    };
    EXPECT_EQ(SHMDS_CACHE_DONT_STORE, shmds_cache_get_and_set(f.get(), "k", 1, inner_get, &ctx));
    EXPECT_EQ(-EDEADLK, ctx.rc);
    // Another cache is not this one: calls into it are fine.
    ctx.other = h.get();
    EXPECT_EQ(SHMDS_CACHE_DONT_STORE, shmds_cache_get_and_set(f.get(), "k", 1, inner_get, &ctx));
    EXPECT_EQ(-ENOENT, ctx.rc);
}

TEST(CacheReentry, AllowRecursiveLetsCallbacksUseTheCache) {
    CachePtr h = make_cache(config(4096, 1));
    Store s;
    s.data["k"] = "v";
    s.attach(h.get(), false, false, true);
    // read_cb and write_cb run unlocked: they may use even the same page.
    s.inner = [&] { return shmds_cache_set(h.get(), "side", 4, "s", 1, 0); };
    EXPECT_EQ("v", get(h.get(), "k"));
    EXPECT_EQ(0, s.inner_rc) << s.inner_error;
    s.inner = [&] { return raw_get(h.get(), "k"); };
    s.inner_rc = 1;
    ASSERT_EQ(0, set(h.get(), "w", "x"));
    EXPECT_EQ(0, s.inner_rc) << s.inner_error;
    s.inner = [&] { return raw_get(h.get(), "k"); };
    s.inner_rc = 1;
    EXPECT_EQ(0, remove_key(h.get(), "w"));  // delete_cb unlocked too
    EXPECT_EQ(0, s.inner_rc) << s.inner_error;
}

// get_and_set keeps its page locked: even with allow_recursive, a call needing that page
// fails with the sentence; another page is fine.
TEST(CacheReentry, GetAndSetRefusesItsOwnPageEvenWithAllowRecursive) {
    CachePtr h = make_cache(config(4096, 2));
    Store s;
    s.attach(h.get(), false, false, true);
    struct Ctx {
        shmds_cache_t *c;
        int same = 1, refused = 0, allowed = 0;
        std::string error;
    } ctx{h.get()};
    auto inner = [](void *p, const void *k, size_t kl, const void *, size_t, int,
                    shmds_cache_value_t *) {
        auto *c = static_cast<Ctx *>(p);
        shmds_cache_item_t it{};
        c->same = shmds_cache_multi_get(c->c, k, kl, &it, 0);  // exactly this page
        c->error = shmds_last_error();
        for (int i = 0; i < 40; ++i) {  // some of these keys are on the other page
            const std::string o = "o" + std::to_string(i);
            char b[8];
            std::size_t l = 0;
            const int rc = shmds_cache_get(c->c, o.data(), o.size(), b, sizeof b, &l);
            (rc == -EDEADLK ? c->refused : c->allowed) += 1;
        }
        return SHMDS_CACHE_DONT_STORE;
    };
    EXPECT_EQ(SHMDS_CACHE_DONT_STORE, shmds_cache_get_and_set(h.get(), "k", 1, inner, &ctx));
    EXPECT_EQ(-EDEADLK, ctx.same);
    EXPECT_TRUE(says_inside_a_callback(ctx.error)) << ctx.error;
    EXPECT_GT(ctx.refused, 0);
    EXPECT_GT(ctx.allowed, 0);
}

// A callback's value may be heap memory: release is called once, after the copy, with
// the callback's ctx (read_cb, get_and_remove's read_cb, get_and_set).
TEST(CacheCallbacks, AValuesReleaseIsCalledOnceAfterTheCopy) {
    CachePtr h = make_cache(config(4096, 4));
    struct Heap {
        int released = 0;
        static void release(void *ctx, const void *v) {
            ++static_cast<Heap *>(ctx)->released;
            delete[] static_cast<const char *>(v);
        }
        static void fill(shmds_cache_value_t *out) {
            char *b = new char[3]{'h', 'e', 'y'};
            out->value = b;
            out->value_len = 3;
            out->release = &Heap::release;
        }
    } heap;
    shmds_cache_callbacks_t cb = SHMDS_CACHE_CALLBACKS_INIT;
    cb.ctx = &heap;
    cb.read_cb = [](void *, const void *, size_t, shmds_cache_value_t *out) {
        Heap::fill(out);
        return 0;
    };
    ASSERT_EQ(0, shmds_cache_set_callbacks(h.get(), &cb));
    EXPECT_EQ("hey", get(h.get(), "a"));
    EXPECT_EQ(1, heap.released);
    char buf[8];
    std::size_t len = 0;
    EXPECT_EQ(0, shmds_cache_get_and_remove(h.get(), "b", 1, buf, sizeof buf, &len));
    EXPECT_EQ(2, heap.released);
    auto update = [](void *, const void *, size_t, const void *, size_t, int,
                     shmds_cache_value_t *out) {
        Heap::fill(out);
        return 0;
    };
    EXPECT_EQ(0, shmds_cache_get_and_set(h.get(), "c", 1, update, &heap));
    EXPECT_EQ(3, heap.released);
    EXPECT_EQ("hey", get(h.get(), "c"));
}

TEST(CacheCallbacks, SetCallbacksRefusesBadModesAndNullClearsThem) {
    CachePtr h = make_cache(config(4096, 4));
    Store s;
    shmds_cache_callbacks_t cb = s.callbacks();
    cb.write_back = 2;
    EXPECT_EQ(-EINVAL, shmds_cache_set_callbacks(h.get(), &cb));
    cb = s.callbacks();
    cb.fill_wait_ms = 3'600'001;
    EXPECT_EQ(-EINVAL, shmds_cache_set_callbacks(h.get(), &cb));
    s.data["k"] = "v";
    s.attach(h.get());
    ASSERT_EQ(0, shmds_cache_set_callbacks(h.get(), nullptr));
    EXPECT_EQ(-ENOENT, raw_get(h.get(), "k"));
    EXPECT_EQ(0, s.reads);
}

}  // namespace
