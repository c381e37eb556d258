// Tombstones and 64-bit modification sequences (issue 11; the anchor's 1.63 and its
// t/25.t): conditional stores, tombstoned removes, their expiry, get_keys, read_cb over a
// tombstone and get_and_set with a modseq, through the C API.
#include "test_cache_helpers.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace {

using namespace shmds::test::cache;

CachePtr small_cache(std::uint64_t default_expire_ms = 0) {
    return make_cache(config(8192, 89, 0, 0, default_expire_ms));
}

int set_ms(shmds_cache_t *c, const std::string &k, const std::string &v, std::uint64_t modseq,
           std::uint64_t expire_ms = SHMDS_CACHE_EXPIRE_DEFAULT) {
    return shmds_cache_set_modseq(c, k.data(), k.size(), v.data(), v.size(), expire_ms, modseq);
}

int remove_ms(shmds_cache_t *c, const std::string &k, std::uint64_t modseq,
              std::uint64_t expire_ms = SHMDS_CACHE_EXPIRE_DEFAULT) {
    return shmds_cache_remove_modseq(c, k.data(), k.size(), modseq, expire_ms);
}

// The value and its modseq (0: none); nullopt on a miss.
struct Got {
    std::string value;
    std::uint64_t modseq;
    bool operator==(const Got &o) const { return value == o.value && modseq == o.modseq; }
};
std::ostream &operator<<(std::ostream &os, const Got &g) {
    return os << "{" << g.value << ", modseq " << g.modseq << "}";
}
std::optional<Got> get_ms(shmds_cache_t *c, const std::string &k) {
    char buf[256];
    std::size_t len = 0;
    std::uint64_t m = 99;
    const int rc = shmds_cache_get_modseq(c, k.data(), k.size(), buf, sizeof buf, &len, &m);
    if (rc == -ENOENT) return std::nullopt;
    EXPECT_EQ(0, rc) << shmds_errname(rc) << ": " << shmds_last_error();
    return Got{std::string(buf, len), m};
}

bool exists(shmds_cache_t *c, const std::string &k) {
    return shmds_cache_exists(c, k.data(), k.size()) == 1;
}

TEST(CacheModseq, AStoredModseqIsReportedAndAPlainSetClearsIt) {  // t/25 rows 1-3
    CachePtr h = small_cache();
    ASSERT_EQ(0, set_ms(h.get(), "k1", "v1", 5));
    EXPECT_EQ((Got{"v1", 5}), get_ms(h.get(), "k1"));
    ASSERT_EQ(0, set(h.get(), "k1", "plain"));  // a plain set overwrites a modseq'd value
    EXPECT_EQ((Got{"plain", 0}), get_ms(h.get(), "k1"));
    EXPECT_EQ(-EINVAL, set_ms(h.get(), "k1", "zero", 0));  // 0 means "none"
    EXPECT_EQ(-EINVAL, remove_ms(h.get(), "k1", 0));
}

TEST(CacheModseq, AnOlderStoreIsRefusedAndAnEqualOneStores) {
    CachePtr h = small_cache();
    ASSERT_EQ(0, set_ms(h.get(), "k1", "v1", 5));
    EXPECT_EQ(-ESTALE, set_ms(h.get(), "k1", "old", 4));
    EXPECT_EQ((Got{"v1", 5}), get_ms(h.get(), "k1"));
    EXPECT_EQ(0, set_ms(h.get(), "k1", "v1b", 5));  // the boundary: refused only if older
    EXPECT_EQ((Got{"v1b", 5}), get_ms(h.get(), "k1"));
    EXPECT_EQ(0, set_ms(h.get(), "k1", "v2", 7));
    EXPECT_EQ((Got{"v2", 7}), get_ms(h.get(), "k1"));
}

TEST(CacheModseq, ATombstoneReadsAsAMissAndRefusesOlderAndPlainStores) {
    CachePtr h = small_cache();
    ASSERT_EQ(0, set_ms(h.get(), "k2", "v1", 10));
    ASSERT_EQ(0, remove_ms(h.get(), "k2", 12));
    EXPECT_EQ(std::nullopt, get(h.get(), "k2"));
    EXPECT_FALSE(exists(h.get(), "k2"));
    char buf[8];
    std::size_t len = 0;
    EXPECT_EQ(-ENOENT, shmds_cache_get_and_remove(h.get(), "k2", 2, buf, sizeof buf, &len));
    EXPECT_EQ(-ESTALE, set_ms(h.get(), "k2", "stale", 11));
    EXPECT_EQ(-ESTALE, set(h.get(), "k2", "stale"));  // the tombstone survived get_and_remove
    EXPECT_EQ(std::nullopt, get(h.get(), "k2"));
    EXPECT_EQ(0, set_ms(h.get(), "k2", "fresh", 12));  // at the tombstone's modseq: stores
    EXPECT_EQ((Got{"fresh", 12}), get_ms(h.get(), "k2"));
    EXPECT_TRUE(exists(h.get(), "k2"));
}

TEST(CacheModseq, ATombstoneNeverLowersItsModseqNorRemovesANewerValue) {
    CachePtr h = small_cache();
    ASSERT_EQ(0, remove_ms(h.get(), "k2", 20));  // a tombstone for an absent key too
    EXPECT_EQ(0, remove_ms(h.get(), "k2", 15));  // success, but the tombstone stays at 20
    EXPECT_EQ(-ESTALE, set_ms(h.get(), "k2", "v", 16));
    EXPECT_EQ(0, set_ms(h.get(), "k2", "v", 20));
    EXPECT_EQ(0, remove_ms(h.get(), "k2", 20));  // equal: the value is as new; kept
    EXPECT_EQ((Got{"v", 20}), get_ms(h.get(), "k2"));
    EXPECT_EQ(0, remove_ms(h.get(), "k2", 21));
    EXPECT_EQ(std::nullopt, get(h.get(), "k2"));
}

TEST(CacheModseq, APlainRemoveDeletesATombstone) {
    CachePtr h = small_cache();
    ASSERT_EQ(0, remove_ms(h.get(), "k2", 21));
    EXPECT_EQ(-ESTALE, set(h.get(), "k2", "back"));
    EXPECT_EQ(0, shmds_cache_remove(h.get(), "k2", 2));
    EXPECT_EQ(0, set(h.get(), "k2", "back"));
    EXPECT_EQ("back", get(h.get(), "k2"));
}

TEST(CacheModseq, GetKeysHidesTombstonesAndReportsModseqs) {
    CachePtr h = small_cache();
    ASSERT_EQ(0, set(h.get(), "k1", "plain"));
    ASSERT_EQ(0, set_ms(h.get(), "m1", "ms", 30));
    ASSERT_EQ(0, remove_ms(h.get(), "k2", 21));
    struct Seen {
        std::map<std::string, shmds_cache_entry_t> e;
        std::map<std::string, std::string> v;
    };
    for (int detail = 0; detail <= 2; ++detail) {
        Seen s;
        ASSERT_EQ(0, shmds_cache_get_keys(
                         h.get(), detail,
                         [](const shmds_cache_entry_t *e, void *p) {
                             auto *s = static_cast<Seen *>(p);
                             const std::string k(static_cast<const char *>(e->key), e->key_len);
                             s->e[k] = *e;
                             if (e->value)
                                 s->v[k].assign(static_cast<const char *>(e->value), e->value_len);
                             return 0;
                         },
                         &s));
        ASSERT_EQ(2u, s.e.size()) << "detail " << detail;  // k2, the tombstone, is hidden
        EXPECT_EQ(detail >= 1 ? 30u : 0u, s.e.at("m1").modseq);
        EXPECT_EQ(detail >= 1 ? SHMDS_CACHE_FLAG_MODSEQ : 0u, s.e.at("m1").flags);
        EXPECT_EQ(0u, s.e.at("k1").modseq);
        if (detail == 2) {
            EXPECT_EQ("ms", s.v.at("m1"));  // the value without its modseq word
            EXPECT_EQ("plain", s.v.at("k1"));
        }
    }
}

TEST(CacheModseq, ATombstoneExpiresAtItsExactTimeAndPurgeReclaimsIt) {
    CachePtr h = small_cache();
    SteppedClock clock;
    clock.attach(h.get());
    const std::uint64_t t0 = clock.now_ms;
    ASSERT_EQ(0, set_ms(h.get(), "k3", "v", 5));
    ASSERT_EQ(0, remove_ms(h.get(), "k3", 6, 30'000));
    clock.now_ms = t0 + 29'999;
    EXPECT_EQ(-ESTALE, set(h.get(), "k3", "z"));
    std::uint64_t purged = 0;
    ASSERT_EQ(0, shmds_cache_purge(h.get(), &purged));
    EXPECT_EQ(0u, purged);
    clock.now_ms = t0 + 30'000;  // expired when now >= expire_on
    ASSERT_EQ(0, shmds_cache_purge(h.get(), &purged));
    EXPECT_EQ(1u, purged);  // an expired tombstone is an expired record
    EXPECT_EQ(0, set(h.get(), "k3", "z"));
    EXPECT_EQ("z", get(h.get(), "k3"));
}

TEST(CacheModseq, TheHandlesTombstoneExpiryAppliesToDefaultRemoves) {
    CachePtr h = small_cache(/*default_expire_ms=*/0);  // items never expire by default
    SteppedClock clock;
    clock.attach(h.get());
    const std::uint64_t t0 = clock.now_ms;
    ASSERT_EQ(0, remove_ms(h.get(), "never", 1));  // the cache's default: never
    ASSERT_EQ(0, shmds_cache_set_tombstone_expire(h.get(), 60'000));
    ASSERT_EQ(0, remove_ms(h.get(), "minute", 1));
    EXPECT_EQ(-ERANGE, shmds_cache_set_tombstone_expire(h.get(), SHMDS_CACHE_MAX_EXPIRE_MS + 1));
    clock.now_ms = t0 + 60'000;
    EXPECT_EQ(0, set(h.get(), "minute", "v"));
    EXPECT_EQ(-ESTALE, set(h.get(), "never", "v"));
}

TEST(CacheModseq, AStaleWriteBackIsRefusedByTheInvalidation) {  // what tombstones are for
    CachePtr h = small_cache();
    ASSERT_EQ(0, set_ms(h.get(), "user", "old-user", 100));
    const std::optional<Got> thawed = get_ms(h.get(), "user");
    ASSERT_TRUE(thawed);
    ASSERT_EQ(0, remove_ms(h.get(), "user", 101));
    EXPECT_EQ(-ESTALE, set_ms(h.get(), "user", thawed->value, thawed->modseq));
    EXPECT_EQ(0, set_ms(h.get(), "user", "new-user", 101));
    EXPECT_EQ((Got{"new-user", 101}), get_ms(h.get(), "user"));
}

// The anchor's bug: its pre-expunge check counted the record without the 8-byte modseq
// it then wrote. Here a record with a modseq that fits only after an expunge gets one.
TEST(CacheModseq, AModseqStoreCountsItsWordWhenMakingRoom) {
    CachePtr h = make_cache(config(4096, 1, 3));  // one page: data from 80, 4016 bytes
    const std::string big(3943, 'a');             // 32 + 1 + 3943 = 3976 bytes
    ASSERT_EQ(0, set(h.get(), "a", big));
    // "b" with 7 bytes takes 40 bytes plain (exactly the free space) but 48 with a modseq.
    ASSERT_EQ(0, set_ms(h.get(), "b", "1234567", 9));
    EXPECT_EQ((Got{"1234567", 9}), get_ms(h.get(), "b"));
    std::uint64_t repaired = 0;
    ASSERT_EQ(0, shmds_cache_verify(h.get(), &repaired));
    EXPECT_EQ(0u, repaired);
    // The largest value with a modseq is 8 bytes under the largest plain one.
    CachePtr e = make_cache(config(4096, 1, 3));
    const std::uint64_t max_plain = 4096 - 80 - 32 - 1;
    EXPECT_EQ(-E2BIG, set_ms(e.get(), "k", std::string(max_plain - 7, 'x'), 1));
    EXPECT_EQ(0, set_ms(e.get(), "k", std::string(max_plain - 8, 'x'), 1));
    EXPECT_EQ(0, set(e.get(), "j", ""));  // the page still works
}

// ---- callbacks over tombstones ----------------------------------------------------------

struct Computed {
    int reads = 0;
    static int read(void *ctx, const void *, size_t, shmds_cache_value_t *out) {
        ++static_cast<Computed *>(ctx)->reads;
        out->value = "computed";
        out->value_len = 8;
        return 0;
    }
};

TEST(CacheModseq, ReadCbIsServedButNotCachedOverATombstone) {
    CachePtr h = small_cache();
    Computed store;
    shmds_cache_callbacks_t cb = SHMDS_CACHE_CALLBACKS_INIT;
    cb.ctx = &store;
    cb.read_cb = &Computed::read;
    ASSERT_EQ(0, shmds_cache_set_callbacks(h.get(), &cb));
    ASSERT_EQ(0, remove_ms(h.get(), "r1", 5, 60'000));
    EXPECT_EQ("computed", get(h.get(), "r1"));
    EXPECT_EQ("computed", get(h.get(), "r1"));
    EXPECT_EQ(2, store.reads);  // the tombstone kept it out of the cache
    ASSERT_EQ(0, shmds_cache_remove(h.get(), "r1", 2));
    EXPECT_EQ("computed", get(h.get(), "r1"));
    EXPECT_EQ(3, store.reads);
    EXPECT_EQ("computed", get(h.get(), "r1"));
    EXPECT_EQ(3, store.reads);  // cached now
}

struct Update {
    std::uint64_t seen_modseq = 99;
    int seen_found = -1;
    std::uint64_t store_modseq = 0;
    std::string value;
    static int fn(void *ctx, const void *, size_t, const void *v, size_t vl, int found,
                  std::uint64_t modseq, shmds_cache_value_t *out, std::uint64_t *out_modseq) {
        auto *u = static_cast<Update *>(ctx);
        u->seen_found = found;
        u->seen_modseq = modseq;
        u->value = (found ? std::string(static_cast<const char *>(v), vl) : "") + "x";
        out->value = u->value.data();
        out->value_len = u->value.size();
        EXPECT_EQ(0u, *out_modseq);  // preset: a plain store
        *out_modseq = u->store_modseq;
        return 0;
    }
};

TEST(CacheModseq, GetAndSetStoresConditionallyOnTheModseqItReturns) {
    CachePtr h = small_cache();
    ASSERT_EQ(0, set_ms(h.get(), "g1", "a", 5));
    Update u;
    u.store_modseq = 4;
    EXPECT_EQ(-ESTALE, shmds_cache_get_and_set_modseq(h.get(), "g1", 2, &Update::fn, &u));
    EXPECT_EQ(1, u.seen_found);
    EXPECT_EQ(5u, u.seen_modseq);
    EXPECT_EQ((Got{"a", 5}), get_ms(h.get(), "g1"));  // the refusal left the value alone
    u.store_modseq = 5;
    EXPECT_EQ(0, shmds_cache_get_and_set_modseq(h.get(), "g1", 2, &Update::fn, &u));
    EXPECT_EQ((Got{"ax", 5}), get_ms(h.get(), "g1"));
    // Over a tombstone: no item; a plain store is refused, a newer one stores.
    ASSERT_EQ(0, remove_ms(h.get(), "g1", 8));
    u.store_modseq = 0;
    EXPECT_EQ(-ESTALE, shmds_cache_get_and_set_modseq(h.get(), "g1", 2, &Update::fn, &u));
    EXPECT_EQ(0, u.seen_found);
    EXPECT_EQ(0u, u.seen_modseq);
    u.store_modseq = 9;
    EXPECT_EQ(0, shmds_cache_get_and_set_modseq(h.get(), "g1", 2, &Update::fn, &u));
    EXPECT_EQ((Got{"x", 9}), get_ms(h.get(), "g1"));
}

// The plain get_and_set over a tombstone: fn sees no item and its store is refused, as a
// plain shmds_cache_set would be (found by the fuzz target: the code was undocumented).
int append_x(void *, const void *, size_t, const void *v, size_t vl, int found,
             shmds_cache_value_t *out) {
    static std::string next;
    next = found ? std::string(static_cast<const char *>(v), vl) + "x" : "x";
    out->value = next.data();
    out->value_len = next.size();
    return 0;
}

TEST(CacheModseq, PlainGetAndSetOverATombstoneIsRefused) {
    CachePtr h = small_cache();
    ASSERT_EQ(0, set_ms(h.get(), "p1", "a", 3));
    ASSERT_EQ(0, remove_ms(h.get(), "p1", 4));
    EXPECT_EQ(-ESTALE, shmds_cache_get_and_set(h.get(), "p1", 2, &append_x, nullptr));
    EXPECT_EQ(std::nullopt, get_ms(h.get(), "p1"));
    ASSERT_EQ(0, shmds_cache_remove(h.get(), "p1", 2));  // a plain remove deletes it
    EXPECT_EQ(0, shmds_cache_get_and_set(h.get(), "p1", 2, &append_x, nullptr));
    EXPECT_EQ((Got{"x", 0}), get_ms(h.get(), "p1"));
}

struct Writes {
    std::map<std::string, std::string> data;
    static int write(void *ctx, const void *k, size_t kl, const void *v, size_t vl, uint64_t) {
        static_cast<Writes *>(ctx)->data[std::string(static_cast<const char *>(k), kl)] =
            std::string(static_cast<const char *>(v), vl);
        return 0;
    }
};

TEST(CacheModseq, ARefusedStoreNeverReachesWriteCb) {
    for (int recursive = 0; recursive <= 1; ++recursive) {
        CachePtr h = small_cache();
        Writes w;
        shmds_cache_callbacks_t cb = SHMDS_CACHE_CALLBACKS_INIT;
        cb.ctx = &w;
        cb.write_cb = &Writes::write;
        cb.allow_recursive = recursive;
        ASSERT_EQ(0, shmds_cache_set_callbacks(h.get(), &cb));
        ASSERT_EQ(0, set_ms(h.get(), "k", "new", 10));
        EXPECT_EQ(-ESTALE, set_ms(h.get(), "k", "old", 9));
        ASSERT_EQ(0, remove_ms(h.get(), "t", 3));
        EXPECT_EQ(-ESTALE, set(h.get(), "t", "stale"));
        EXPECT_EQ("new", w.data["k"]) << "allow_recursive " << recursive;
        EXPECT_EQ(0u, w.data.count("t"));
    }
}

}  // namespace
