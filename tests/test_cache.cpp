// The cache (issue 11) through its C API: the anchor's behaviours (Cache::FastMmap's
// t/ files, docs/cache-design.md §8), geometry and lifecycle, corruption containment,
// and the core undo journal the cache's pages use.
#include "test_cache_helpers.hpp"

#include <shmds/sync.h>

#include "cache/layout.hpp"
#include "core/undo_journal.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <vector>

namespace {

using namespace shmds::test;
using namespace shmds::test::cache;

// A page's fixed costs, as docs/cache-design.md §2 lays them out: a 64-byte frame
// header, 4 bytes per slot, 32 bytes of record header, records padded to 8.
std::uint64_t max_value_len(std::uint64_t page_size, std::uint64_t slots, std::uint64_t key_len) {
    const std::uint64_t data_start = (64 + 4 * slots + 7) / 8 * 8;
    return page_size - data_start - 32 - key_len;  // already a multiple of 8 here
}

shmds_options_t path_options(const TempPath &p, std::uint32_t flags = 0) {
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = p.c_str();
    o.flags = flags;
    return o;
}

// ---- geometry and lifecycle ---------------------------------------------------------

TEST(CacheGeometry, DefaultsAreTheAnchors) {
    shmds_cache_config_t c = SHMDS_CACHE_CONFIG_INIT;
    CachePtr h = make_cache(c);
    ASSERT_TRUE(h);
    const shmds_cache_stats_t s = stats(h.get());
    EXPECT_EQ(89u, s.num_pages);
    EXPECT_EQ(65536u, s.page_size);
    EXPECT_EQ(89u, s.start_slots);
    EXPECT_EQ(8u, s.spare_frames);
    EXPECT_EQ(0u, s.default_expire_ms);
    EXPECT_GE(s.segment_bytes, (89u + 8u) * 65536u);
}

TEST(CacheGeometry, CacheSizeRoundsUpToWholePages) {
    shmds_cache_config_t c = SHMDS_CACHE_CONFIG_INIT;
    c.cache_size = 1'000'000;
    c.page_size = 65536;
    CachePtr h = make_cache(c);
    ASSERT_TRUE(h);
    EXPECT_EQ(16u, stats(h.get()).num_pages);  // ceil(1e6 / 65536)
    EXPECT_EQ(8u, stats(h.get()).spare_frames);
    CachePtr small = make_cache(config(4096, 3));
    EXPECT_EQ(3u, stats(small.get()).spare_frames);  // min(num_pages, 8)
}

TEST(CacheGeometry, RefusesWhatTheAnchorWouldRoundDown) {
    for (std::uint64_t ps : {1000ull, 2048ull, 5000ull, 65537ull, 2ull << 20}) {
        shmds_cache_config_t c = config(ps, 4);
        shmds_cache_t *h = nullptr;
        EXPECT_EQ(-EINVAL, shmds_cache_create(nullptr, &c, &h)) << ps;
        EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "power of two")) << shmds_last_error();
    }
    shmds_cache_config_t both = config(4096, 4);
    both.cache_size = 1 << 20;
    shmds_cache_t *h = nullptr;
    EXPECT_EQ(-EINVAL, shmds_cache_create(nullptr, &both, &h));
    shmds_cache_config_t slots = config(4096, 4, 5000);
    EXPECT_EQ(-EINVAL, shmds_cache_create(nullptr, &slots, &h));
    shmds_cache_config_t spares = config(4096, 4, 0, 65);
    EXPECT_EQ(-EINVAL, shmds_cache_create(nullptr, &spares, &h));
    shmds_cache_config_t expire = config(4096, 4, 0, 0, SHMDS_CACHE_MAX_EXPIRE_MS + 1);
    EXPECT_EQ(-EINVAL, shmds_cache_create(nullptr, &expire, &h));
    EXPECT_EQ(nullptr, h);
}

TEST(CacheLifecycle, ReopenWithAnotherGeometryAttachesWithTheStoredOneAndNeverDeletes) {
    TempPath path("cache");
    const shmds_options_t o = path_options(path);
    CachePtr a = make_cache(config(4096, 8), &o);
    ASSERT_TRUE(a);
    ASSERT_EQ(0, set(a.get(), "kept", "across opens"));
    struct stat before {};
    ASSERT_EQ(0, ::stat(path.c_str(), &before));

    CachePtr b = make_cache(config(65536, 3), &o);  // another geometry: attaches
    ASSERT_TRUE(b);
    EXPECT_EQ(4096u, stats(b.get()).page_size);
    EXPECT_EQ(8u, stats(b.get()).num_pages);
    EXPECT_EQ("across opens", get(b.get(), "kept"));

    const shmds_options_t excl = path_options(path, SHMDS_EXCL);  // or fails clearly
    shmds_cache_t *h = nullptr;
    const shmds_cache_config_t other = config(65536, 3);
    EXPECT_EQ(-EEXIST, shmds_cache_create(&excl, &other, &h));
    struct stat after {};
    ASSERT_EQ(0, ::stat(path.c_str(), &after));
    EXPECT_EQ(before.st_ino, after.st_ino);  // the same file, never replaced
    EXPECT_EQ(before.st_size, after.st_size);

    shmds_cache_t *opened = nullptr;
    ASSERT_EQ(0, shmds_cache_open(&o, &opened)) << shmds_last_error();
    CachePtr c(opened);
    EXPECT_EQ("across opens", get(c.get(), "kept"));
}

// The anchor's `permissions` (default 0640 there) is shmds_options_t.mode here (default
// 0600), applied exactly whatever the umask; and the descriptor is close-on-exec (the
// anchor's 1.44 FD_CLOEXEC).
TEST(CacheLifecycle, TheFileModeIsHonouredAndTheFdIsCloseOnExec) {
    const mode_t old_umask = ::umask(022);
    for (std::uint32_t mode : {0u, 0600u, 0640u, 0666u}) {
        TempPath path("cache-mode");
        shmds_options_t o = path_options(path);
        o.mode = mode;
        CachePtr h = make_cache(config(4096, 2), &o);
        ASSERT_TRUE(h);
        struct stat st {};
        ASSERT_EQ(0, ::stat(path.c_str(), &st));
        EXPECT_EQ(mode ? mode : 0600u, st.st_mode & 0777u) << std::oct << mode;
        const int fd = shmds_cache_fd(h.get());
        ASSERT_GE(fd, 0);
        const int fdflags = ::fcntl(fd, F_GETFD);
        ASSERT_GE(fdflags, 0);
        EXPECT_TRUE(fdflags & FD_CLOEXEC);
        shmds_cache_t *opened = nullptr;  // an opener's descriptor too
        ASSERT_EQ(0, shmds_cache_open(&o, &opened));
        CachePtr b(opened);
        EXPECT_TRUE(::fcntl(shmds_cache_fd(b.get()), F_GETFD) & FD_CLOEXEC);
    }
    ::umask(old_umask);
}

TEST(CacheLifecycle, OpenRefusesAnotherStructure) {
    TempPath path("cache-type");
    const shmds_options_t o = path_options(path);
    shmds_cache_t *h = nullptr;
    EXPECT_EQ(-ENOENT, shmds_cache_open(&o, &h));
    shmds_mutex_t *m = nullptr;
    ASSERT_EQ(0, shmds_mutex_create(&o, &m)) << shmds_last_error();
    EXPECT_EQ(SHMDS_ETYPE, shmds_cache_open(&o, &h));
    shmds_mutex_close(m);
}

// ---- the verbs (anchor t/1) -----------------------------------------------------------

TEST(CacheVerbs, EdgeKeysAndValuesRoundTrip) {
    CachePtr h = make_cache(config(65536, 5));
    const std::string big_key(1024, 'k');
    const std::string binary("\0\xff\0x", 4);
    const std::map<std::string, std::string> items = {
        {"", "empty key"}, {" ", "space"}, {big_key, "1 KiB key"}, {"empty value", ""},
        {binary, binary}};
    for (const auto &[k, v] : items) ASSERT_EQ(0, set(h.get(), k, v)) << shmds_last_error();
    for (const auto &[k, v] : items) {
        EXPECT_EQ(v, get(h.get(), k));
        EXPECT_EQ(1, shmds_cache_exists(h.get(), k.data(), k.size()));
    }
    EXPECT_EQ(0, shmds_cache_exists(h.get(), "nope", 4));
    EXPECT_EQ(std::nullopt, get(h.get(), "nope"));
    ASSERT_EQ(0, shmds_cache_remove(h.get(), " ", 1));
    EXPECT_EQ(std::nullopt, get(h.get(), " "));
    EXPECT_EQ(-ENOENT, shmds_cache_remove(h.get(), " ", 1));
    ASSERT_EQ(0, shmds_cache_expire(h.get(), "", 0));
    EXPECT_EQ(0, shmds_cache_exists(h.get(), "", 0));
    ASSERT_EQ(0, shmds_cache_clear(h.get()));
    for (const auto &[k, v] : items) EXPECT_EQ(std::nullopt, get(h.get(), k));
    EXPECT_EQ(0u, stats(h.get()).items);
}

TEST(CacheVerbs, ArgumentsAreChecked) {
    CachePtr h = make_cache(config(4096, 2));
    std::size_t len = 0;
    char buf[8];
    EXPECT_EQ(-EINVAL, shmds_cache_set(nullptr, "k", 1, "v", 1, 0));
    EXPECT_EQ(-EINVAL, shmds_cache_set(h.get(), nullptr, 1, "v", 1, 0));
    EXPECT_EQ(-EINVAL, shmds_cache_set(h.get(), "k", 1, nullptr, 1, 0));
    EXPECT_EQ(-EINVAL, shmds_cache_get(h.get(), "k", 1, buf, sizeof buf, nullptr));
    EXPECT_EQ(-EINVAL, shmds_cache_get(h.get(), "k", 1, nullptr, 8, &len));
    EXPECT_EQ(-ERANGE, shmds_cache_set(h.get(), "k", 1, "v", 1, SHMDS_CACHE_MAX_EXPIRE_MS + 1));
    EXPECT_EQ(-ERANGE, shmds_cache_set_expire_on(h.get(), "k", 1, "v", 1,
                                                 SHMDS_CACHE_MAX_EXPIRE_MS + 1));
    EXPECT_EQ(-EINVAL, shmds_cache_get_keys(h.get(), 3, [](const shmds_cache_entry_t *, void *) { return 0; }, nullptr));
    EXPECT_EQ(-EINVAL, shmds_cache_get_keys(h.get(), 0, nullptr, nullptr));
    shmds_cache_stats_t s{};
    s.struct_size = 8;
    EXPECT_EQ(-EINVAL, shmds_cache_stats(h.get(), &s, 0));
}

TEST(CacheVerbs, TooSmallABufferReportsTheLengthAndChangesNothing) {
    CachePtr h = make_cache(config(4096, 2));
    ASSERT_EQ(0, set(h.get(), "k", "twelve bytes"));
    char buf[4];
    std::size_t len = 0;
    EXPECT_EQ(-ENOBUFS, shmds_cache_get(h.get(), "k", 1, buf, sizeof buf, &len));
    EXPECT_EQ(12u, len);
    EXPECT_EQ(-ENOBUFS, shmds_cache_get_and_remove(h.get(), "k", 1, buf, sizeof buf, &len));
    EXPECT_EQ("twelve bytes", get(h.get(), "k"));  // get_and_remove took nothing
}

TEST(CacheVerbs, GetAndRemoveTakesTheValueOnce) {
    CachePtr h = make_cache(config(4096, 2));
    ASSERT_EQ(0, set(h.get(), "job", "payload"));
    char buf[16];
    std::size_t len = 0;
    ASSERT_EQ(0, shmds_cache_get_and_remove(h.get(), "job", 3, buf, sizeof buf, &len));
    EXPECT_EQ("payload", std::string(buf, len));
    EXPECT_EQ(-ENOENT, shmds_cache_get_and_remove(h.get(), "job", 3, buf, sizeof buf, &len));
    EXPECT_EQ(0, shmds_cache_exists(h.get(), "job", 3));
}

// The largest record a fresh page holds stores; one byte more is refused and the old
// value stays (the anchor lost it before 1.61).
TEST(CacheVerbs, EdgeSizesAndAnOversizeSetKeepsTheOldValue) {
    for (std::uint64_t ps : {4096ull, 65536ull, 1ull << 20}) {
        CachePtr h = make_cache(config(ps, 1, 89));
        const std::uint64_t max = max_value_len(ps, 89, 1);
        const std::string fits(max, 'f'), too_big(max + 1, 'x');
        ASSERT_EQ(0, set(h.get(), "k", "old")) << ps;
        ASSERT_EQ(-E2BIG, set(h.get(), "k", too_big)) << ps;
        EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "holds at most")) << shmds_last_error();
        EXPECT_EQ("old", get(h.get(), "k")) << ps;
        ASSERT_EQ(0, set(h.get(), "k", fits)) << ps << ": " << shmds_last_error();
        EXPECT_EQ(fits, get(h.get(), "k")) << ps;
        const std::string page_sized(ps, 'p');
        EXPECT_EQ(-E2BIG, set(h.get(), "k", page_sized));
        EXPECT_EQ(fits, get(h.get(), "k")) << ps;
    }
}

// ---- expiry (anchor t/2, t/23) --------------------------------------------------------

TEST(CacheExpiry, ExactBoundariesWithAnInjectedClock) {
    CachePtr h = make_cache(config(4096, 4, 0, 0, 5000));
    SteppedClock clock;
    clock.attach(h.get());
    const std::uint64_t t0 = clock.now_ms;
    ASSERT_EQ(0, set(h.get(), "default", "d"));                        // 5000 ms
    ASSERT_EQ(0, set(h.get(), "relative", "r", 3000));
    ASSERT_EQ(0, set(h.get(), "never", "n", SHMDS_CACHE_EXPIRE_NEVER));  // 0 = never
    ASSERT_EQ(0, set(h.get(), "now", "x", SHMDS_CACHE_EXPIRE_NOW));
    ASSERT_EQ(0, shmds_cache_set_expire_on(h.get(), "absolute", 8, "a", 1, t0 + 4000));
    EXPECT_EQ(std::nullopt, get(h.get(), "now"));
    EXPECT_EQ(0, shmds_cache_exists(h.get(), "now", 3));

    clock.now_ms = t0 + 2999;
    EXPECT_EQ("r", get(h.get(), "relative"));
    clock.now_ms = t0 + 3000;  // expired when now >= expiry
    EXPECT_EQ(std::nullopt, get(h.get(), "relative"));
    clock.now_ms = t0 + 3999;
    EXPECT_EQ("a", get(h.get(), "absolute"));
    clock.now_ms = t0 + 4000;
    EXPECT_EQ(std::nullopt, get(h.get(), "absolute"));
    clock.now_ms = t0 + 4999;
    EXPECT_EQ("d", get(h.get(), "default"));
    clock.now_ms = t0 + 5000;
    EXPECT_EQ(std::nullopt, get(h.get(), "default"));
    clock.now_ms = t0 + 100ull * 365 * 24 * 3600 * 1000;
    EXPECT_EQ("n", get(h.get(), "never"));

    // An absolute time already past stores an item that reads as a miss.
    ASSERT_EQ(0, shmds_cache_set_expire_on(h.get(), "past", 4, "p", 1, 1000));
    EXPECT_EQ(std::nullopt, get(h.get(), "past"));
    ASSERT_EQ(0, shmds_cache_set_expire_on(h.get(), "forever", 7, "f", 1, 0));  // 0 = never
    EXPECT_EQ("f", get(h.get(), "forever"));
}

// With the real clock, get and exists read the coarse wall clock (a tick behind at
// most) and still miss from the first millisecond of the expiry on: the exact clock
// decides whenever the coarse one cannot.
TEST(CacheExpiry, RealClockGetMissesFromTheExpiryMillisecondOn) {
    CachePtr h = make_cache(config(4096, 4));
    const auto realtime_ms = [] {
        timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return std::uint64_t(ts.tv_sec) * 1000 + std::uint64_t(ts.tv_nsec) / 1000000;
    };
    for (int round = 0; round < 20; ++round) {
        const std::uint64_t expire_on = realtime_ms() + 3;
        ASSERT_EQ(0, shmds_cache_set_expire_on(h.get(), "k", 1, "v", 1, expire_on));
        for (;;) {
            const std::uint64_t before = realtime_ms();
            const auto v = get(h.get(), "k");
            if (before >= expire_on) break;
            if (realtime_ms() < expire_on) {  // wholly before the expiry
                EXPECT_EQ("v", v);
            }
        }
        EXPECT_EQ(0, shmds_cache_exists(h.get(), "k", 1)) << "round " << round;
        EXPECT_EQ(std::nullopt, get(h.get(), "k")) << "round " << round;
    }
}

TEST(CacheExpiry, PurgeRemovesOnlyExpiredItems) {
    CachePtr h = make_cache(config(4096, 4));
    SteppedClock clock;
    clock.attach(h.get());
    for (int i = 0; i < 30; ++i)
        ASSERT_EQ(0, set(h.get(), "k" + std::to_string(i), "v", i % 3 == 0 ? 100 : 0));
    clock.now_ms += 100;
    std::uint64_t removed = 0;
    ASSERT_EQ(0, shmds_cache_purge(h.get(), &removed)) << shmds_last_error();
    EXPECT_EQ(10u, removed);
    EXPECT_EQ(20u, stats(h.get()).items);
    for (int i = 0; i < 30; ++i)
        EXPECT_EQ(i % 3 == 0 ? std::nullopt : std::optional<std::string>("v"),
                  get(h.get(), "k" + std::to_string(i)));
    removed = 0;
    ASSERT_EQ(0, shmds_cache_purge(h.get(), &removed));
    EXPECT_EQ(0u, removed);
}

// ---- LRU and expunge (anchor t/9, t/16, t/17) ---------------------------------------

std::string key(int i) {
    char b[16];
    std::snprintf(b, sizeof b, "key-%02d", i);
    return b;
}

TEST(CacheLru, AnExpungeDropsTheLeastRecentlyAccessedOfThePage) {
    CachePtr h = make_cache(config(4096, 1, 89));
    SteppedClock clock;
    clock.attach(h.get());
    const std::string v(58, 'v');  // 96-byte records: 38 fill the data area
    for (int i = 0; i < 30; ++i) {
        ++clock.now_ms;
        ASSERT_EQ(0, set(h.get(), key(i), v));
    }
    clock.now_ms += 100;
    for (int i = 0; i < 5; ++i) {  // the oldest five become the most recently read
        ++clock.now_ms;
        ASSERT_EQ(v, get(h.get(), key(i)));
    }
    clock.now_ms += 100;
    int next = 30;
    std::uint64_t items = stats(h.get()).items;
    for (;; ++next) {  // until a set expunges
        ++clock.now_ms;
        ASSERT_EQ(0, set(h.get(), key(next), v));
        const std::uint64_t now_items = stats(h.get()).items;
        if (now_items <= items) break;
        items = now_items;
        ASSERT_LT(next, 60) << "no expunge happened";
    }
    for (int i = 0; i < 5; ++i) EXPECT_EQ(v, get(h.get(), key(i))) << key(i);
    EXPECT_EQ(std::nullopt, get(h.get(), key(5)));  // the least recently accessed
    for (int i = 30; i <= next; ++i) EXPECT_EQ(v, get(h.get(), key(i))) << key(i);
}

TEST(CacheLru, TheLastWrittenKeysStayReadable) {  // anchor t/9
    CachePtr h = make_cache(config(8192, 3));
    std::mt19937_64 rng(test_seed());
    std::vector<std::string> recent;
    for (int i = 0; i < 500; ++i) {
        const std::string k = "k" + std::to_string(rng() % 100000);
        const std::string v(rng() % 200, char('a' + i % 26));
        ASSERT_EQ(0, set(h.get(), k, v));
        recent.push_back(k);
        if (recent.size() > 25) recent.erase(recent.begin());
        for (const std::string &r : recent) ASSERT_TRUE(get(h.get(), r).has_value()) << r;
    }
}

TEST(CacheLru, DeletedSlotsAreReused) {  // anchor t/17
    CachePtr h = make_cache(config(65536, 1));
    const std::string a(31000, 'a'), b(31000, 'b');
    ASSERT_EQ(0, set(h.get(), "b", b));
    for (int i = 0; i < 90; ++i) {
        ASSERT_EQ(0, set(h.get(), "a", a)) << i << ": " << shmds_last_error();
        ASSERT_EQ(a, get(h.get(), "a")) << i;
        ASSERT_EQ(b, get(h.get(), "b")) << i;
        ASSERT_EQ(0, shmds_cache_remove(h.get(), "a", 1)) << i;
    }
    EXPECT_EQ(1u, stats(h.get()).items);
}

TEST(CacheLru, ChurnMatchesAModelWhenEverythingFits) {  // anchor t/16
    CachePtr h = make_cache(config(32768, 1));
    const std::uint64_t seed = test_seed();
    std::mt19937_64 rng(seed);
    std::map<std::string, std::string> model;
    for (int round = 0; round < 20; ++round) {
        for (int i = 0; i < 100; ++i) {
            const std::string k = "key" + std::to_string(i);
            switch (rng() % 3) {
                case 0:
                    ASSERT_EQ(model.count(k) ? 0 : -ENOENT, shmds_cache_remove(h.get(), k.data(), k.size()));
                    model.erase(k);
                    break;
                default: {
                    const std::string v = std::to_string(rng() % 1000000) + "-" + std::to_string(round);
                    ASSERT_EQ(0, set(h.get(), k, v)) << shmds_last_error();
                    model[k] = v;
                }
            }
        }
        for (int i = 0; i < 100; ++i) {
            const std::string k = "key" + std::to_string(i);
            const auto it = model.find(k);
            ASSERT_EQ(it == model.end() ? std::nullopt : std::optional<std::string>(it->second),
                      get(h.get(), k))
                << "round " << round << " seed " << seed;
        }
        ASSERT_EQ(model.size(), stats(h.get()).items);
    }
}

TEST(CacheLru, ChurnUnderEvictionNeverReturnsAStaleValue) {
    CachePtr h = make_cache(config(4096, 2, 0, 1));
    const std::uint64_t seed = test_seed();
    std::mt19937_64 rng(seed);
    std::map<std::string, std::string> model;  // what a hit must return
    int hits = 0;
    for (int op = 0; op < 20000; ++op) {
        const std::string k = "k" + std::to_string(rng() % 300);
        const int what = int(rng() % 10);
        if (what < 5) {
            const std::string v = std::to_string(op) + std::string(rng() % 100, 'v');
            ASSERT_EQ(0, set(h.get(), k, v)) << shmds_last_error();
            model[k] = v;
        } else if (what < 6) {
            shmds_cache_remove(h.get(), k.data(), k.size());
            model.erase(k);
        } else {
            const auto got = get(h.get(), k);
            if (got) {
                ++hits;
                ASSERT_TRUE(model.count(k)) << k << " seed " << seed;
                ASSERT_EQ(model[k], *got) << "seed " << seed;
            }
        }
    }
    EXPECT_GT(hits, 0);
    std::uint64_t repaired = 0;
    ASSERT_EQ(0, shmds_cache_verify(h.get(), &repaired));
    EXPECT_EQ(0u, repaired);
}

// ---- stats, multi_*, get_keys (anchor t/14, t/1, t/23) -------------------------------

TEST(CacheStats, ReadsAndHitsAndTheClearFlag) {
    CachePtr h = make_cache(config(4096, 4));
    EXPECT_EQ(std::nullopt, get(h.get(), "k"));
    ASSERT_EQ(0, set(h.get(), "k", "v"));
    for (int i = 0; i < 101; ++i) ASSERT_EQ("v", get(h.get(), "k"));
    EXPECT_EQ(1, shmds_cache_exists(h.get(), "k", 1));  // not a read
    shmds_cache_stats_t s = stats(h.get(), true);
    EXPECT_EQ(102u, s.reads);
    EXPECT_EQ(101u, s.hits);
    EXPECT_EQ(1u, s.items);
    s = stats(h.get());
    EXPECT_EQ(0u, s.reads);
    EXPECT_EQ(0u, s.hits);
    // Counting goes on from the clear; a stats call without the flag clears nothing.
    for (int i = 0; i < 3; ++i) ASSERT_EQ("v", get(h.get(), "k"));
    EXPECT_EQ(std::nullopt, get(h.get(), "absent"));
    for (int i = 0; i < 2; ++i) {
        s = stats(h.get());
        EXPECT_EQ(4u, s.reads);
        EXPECT_EQ(3u, s.hits);
    }
    EXPECT_EQ(4u, stats(h.get(), true).reads);
    EXPECT_EQ(0u, stats(h.get()).reads);
}

TEST(CacheMulti, SetAndGetUnderOnePageKey) {
    CachePtr h = make_cache(config(4096, 16));
    std::string v[3] = {"one", "two", ""};
    shmds_cache_item_t in[3] = {};
    const char *keys[3] = {"a", "b", "c"};
    for (int i = 0; i < 3; ++i) {
        in[i].key = keys[i];
        in[i].key_len = 1;
        in[i].value = v[i].data();
        in[i].value_len = v[i].size();
        in[i].result = 99;
    }
    ASSERT_EQ(3, shmds_cache_multi_set(h.get(), "user:7", 6, in, 3, 0)) << shmds_last_error();
    for (const auto &it : in) EXPECT_EQ(0, it.result);

    char bufs[4][8];
    shmds_cache_item_t out[4] = {};
    const char *want[4] = {"a", "b", "c", "zz"};
    for (int i = 0; i < 4; ++i) {
        out[i].key = want[i];
        out[i].key_len = std::strlen(want[i]);
        out[i].buf = bufs[i];
        out[i].buf_size = sizeof bufs[i];
    }
    ASSERT_EQ(3, shmds_cache_multi_get(h.get(), "user:7", 6, out, 4));
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(0, out[i].result);
        EXPECT_EQ(v[i], std::string(bufs[i], out[i].value_len));
    }
    EXPECT_EQ(-ENOENT, out[3].result);
    EXPECT_EQ(-EINVAL, shmds_cache_multi_get(h.get(), "p", 1, nullptr, 2));
}

struct Seen {
    std::map<std::string, shmds_cache_entry_t> entries;
    std::map<std::string, std::string> values;
};

int collect(const shmds_cache_entry_t *e, void *ctx) {
    auto *s = static_cast<Seen *>(ctx);
    const std::string k(static_cast<const char *>(e->key), e->key_len);
    s->entries[k] = *e;
    if (e->value) s->values[k] = std::string(static_cast<const char *>(e->value), e->value_len);
    return 0;
}

TEST(CacheKeys, ThreeDetailLevelsAndExpiredItemsHidden) {
    CachePtr h = make_cache(config(4096, 8));
    SteppedClock clock;
    clock.attach(h.get());
    const std::uint64_t t0 = clock.now_ms;
    for (int i = 0; i < 20; ++i)
        ASSERT_EQ(0, set(h.get(), key(i), "value" + std::to_string(i), i == 7 ? 10 : 1000));
    clock.now_ms += 10;  // key 7 expires
    ASSERT_TRUE(get(h.get(), key(3)));  // its access time moves

    for (int detail = 0; detail <= 2; ++detail) {
        Seen s;
        ASSERT_EQ(0, shmds_cache_get_keys(h.get(), detail, &collect, &s)) << shmds_last_error();
        ASSERT_EQ(19u, s.entries.size()) << detail;
        EXPECT_EQ(0u, s.entries.count(key(7)));
        const shmds_cache_entry_t &e3 = s.entries.at(key(3));
        const shmds_cache_entry_t &e4 = s.entries.at(key(4));
        if (detail == 0) {
            EXPECT_EQ(0u, e4.last_access_ms);
            EXPECT_EQ(0u, e4.expire_on_ms);
        } else {
            EXPECT_EQ(t0, e4.last_access_ms);
            EXPECT_EQ(t0 + 10, e3.last_access_ms);
            EXPECT_EQ(t0 + 1000, e4.expire_on_ms);
        }
        if (detail == 2) {
            EXPECT_EQ("value4", s.values.at(key(4)));
        } else {
            EXPECT_TRUE(s.values.empty());
        }
    }
    // A nonzero return stops the walk and is returned.
    int calls = 0;
    EXPECT_EQ(42, shmds_cache_get_keys(
                      h.get(), 0,
                      [](const shmds_cache_entry_t *, void *c) { return ++*static_cast<int *>(c) == 2 ? 42 : 0; },
                      &calls));
    EXPECT_EQ(2, calls);
}

// ---- corruption containment (anchor: croaks; #26: segfaults) --------------------------

class CacheCorruption : public ::testing::Test {
protected:
    void SetUp() override {
        opts_ = path_options(path_);
        cfg_ = config(4096, 4, 0, 2);
        h_ = make_cache(cfg_, &opts_);
        ASSERT_TRUE(h_);
        for (int i = 0; i < 40; ++i) ASSERT_EQ(0, set(h_.get(), key(i), "v" + std::to_string(i)));
        shmds::cache::Sizing s;
        s.page_size = 4096;
        s.num_pages = 4;
        s.spare_frames = 2;
        ASSERT_EQ(0, shmds::cache::resolve_geometry(s, g_));
        fd_ = ::open(path_.c_str(), O_RDWR);
        ASSERT_GE(fd_, 0);
        map_ = static_cast<std::uint8_t *>(
            mmap(nullptr, g_.total, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0));
        ASSERT_NE(MAP_FAILED, map_);
    }
    void TearDown() override {
        if (map_ && map_ != MAP_FAILED) munmap(map_, g_.total);
        if (fd_ >= 0) ::close(fd_);
    }
    // Page 1 is in frame 1 until its first expunge.
    std::uint8_t *frame1() const { return map_ + g_.frames_off + 1 * g_.page_size; }

    // Every key either hits with its value or reports SHMDS_ECORRUPT; the damaged ones.
    std::set<int> damaged_keys() {
        std::set<int> bad;
        for (int i = 0; i < 40; ++i) {
            char buf[16];
            std::size_t len = 0;
            const std::string k = key(i);
            const int rc = shmds_cache_get(h_.get(), k.data(), k.size(), buf, sizeof buf, &len);
            if (rc == SHMDS_ECORRUPT) {
                bad.insert(i);
                EXPECT_EQ(SHMDS_ECORRUPT, set(h_.get(), k, "new"));
                continue;
            }
            EXPECT_EQ(0, rc) << k << ": " << shmds_errname(rc);
            EXPECT_EQ("v" + std::to_string(i), std::string(buf, len));
        }
        return bad;
    }
    void expect_verify_repairs_only_those(const std::set<int> &bad) {
        const std::uint64_t rec0 = shmds_cache_recoveries(h_.get());
        std::uint64_t repaired = 0;
        ASSERT_EQ(0, shmds_cache_verify(h_.get(), &repaired)) << shmds_last_error();
        EXPECT_EQ(1u, repaired);
        EXPECT_EQ(rec0 + 1, shmds_cache_recoveries(h_.get()));
        for (int i = 0; i < 40; ++i)
            EXPECT_EQ(bad.count(i) ? std::nullopt : std::optional<std::string>("v" + std::to_string(i)),
                      get(h_.get(), key(i)));
        repaired = 0;
        ASSERT_EQ(0, shmds_cache_verify(h_.get(), &repaired));
        EXPECT_EQ(0u, repaired);
        for (int i : bad) EXPECT_EQ(0, set(h_.get(), key(i), "back"));
    }

    TempPath path_{"cache-damage"};
    shmds_options_t opts_{};
    shmds_cache_config_t cfg_{};
    CachePtr h_;
    shmds::cache::Geometry g_{};
    int fd_ = -1;
    std::uint8_t *map_ = nullptr;
};

TEST_F(CacheCorruption, AZeroedPageHeaderFailsOnlyThatPage) {
    std::memset(frame1(), 0, 64);
    const std::set<int> bad = damaged_keys();
    EXPECT_FALSE(bad.empty());
    EXPECT_LT(bad.size(), 40u);
    expect_verify_repairs_only_those(bad);
}

// The anchor's test_file => 1 (study §1 "Corruption"): verified on 1.57, zeroing page
// 1's header made some keys croak while the others hit, and a reopen with test_file
// gave hits for the others and no errors.
TEST_F(CacheCorruption, TestFileAtOpenReinitialisesOnlyTheDamagedPage) {
    std::memset(frame1(), 0, 64);
    const std::set<int> bad = damaged_keys();
    ASSERT_FALSE(bad.empty());
    shmds_cache_t *opened = nullptr;
    std::uint64_t repaired = 0;
    ASSERT_EQ(0, shmds_cache_open_tested(&opts_, &opened, &repaired)) << shmds_last_error();
    CachePtr t(opened);
    EXPECT_EQ(1u, repaired);
    for (int i = 0; i < 40; ++i)  // no SHMDS_ECORRUPT left: the others hit, the bad miss
        EXPECT_EQ(bad.count(i) ? std::nullopt : std::optional<std::string>("v" + std::to_string(i)),
                  get(t.get(), key(i)));
    // create_tested attaches the same way; nothing is damaged any more.
    shmds_cache_t *created = nullptr;
    repaired = 0;
    ASSERT_EQ(0, shmds_cache_create_tested(&opts_, &cfg_, &created, &repaired));
    CachePtr c(created);
    EXPECT_EQ(0u, repaired);
    for (int i = 0; i < 40; ++i) {
        if (!bad.count(i)) {
            EXPECT_EQ("v" + std::to_string(i), get(c.get(), key(i)));
        }
    }
    EXPECT_EQ(-EINVAL, shmds_cache_open_tested(&opts_, nullptr, nullptr));
}

TEST_F(CacheCorruption, ASlotPointingOutsideThePageIsRefused) {
    using shmds::cache::kSlotOffsetMask;
    auto *slots = reinterpret_cast<std::uint32_t *>(frame1() + 64);
    std::size_t n = 0;
    for (std::size_t i = 0; i < 89; ++i)  // the tag kept, so a probe loads the record
        if (slots[i] > 1) slots[i] |= kSlotOffsetMask, ++n;
    ASSERT_GT(n, 0u);
    const std::set<int> bad = damaged_keys();
    EXPECT_EQ(n, bad.size());
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_cache_purge(h_.get(), nullptr));  // the others purged
    expect_verify_repairs_only_those(bad);
}

TEST_F(CacheCorruption, HugeRecordLengthsAreRefused) {
    auto *slots = reinterpret_cast<std::uint32_t *>(frame1() + 64);
    std::size_t n = 0;
    for (std::size_t i = 0; i < 89; ++i) {
        if (slots[i] <= 1) continue;
        std::uint8_t *rec = frame1() + shmds::cache::slot_offset(slots[i]);
        shmds::cache::RecordHeader rh;
        std::memcpy(&rh, rec, sizeof rh);
        rh.val_len = 0xffffffffu;
        std::memcpy(rec, &rh, sizeof rh);
        ++n;
    }
    ASSERT_GT(n, 0u);
    EXPECT_EQ(n, damaged_keys().size());
    expect_verify_repairs_only_those(damaged_keys());
}

// A slot word carries a tag of its record's slot hash (design §2). A damaged tag hides
// its record from gets (they miss: the probe skips it without loading it), and verify
// finds the disagreement and re-initialises that page only.
TEST_F(CacheCorruption, ASlotTagDisagreeingWithItsRecordIsFoundByVerify) {
    using namespace shmds::cache;
    auto *slots = reinterpret_cast<std::uint32_t *>(frame1() + 64);
    std::size_t at = 89;
    for (std::size_t i = 0; i < 89 && at == 89; ++i)
        if (slots[i] > 1) at = i;
    ASSERT_LT(at, 89u);
    RecordHeader rh;
    std::memcpy(&rh, frame1() + slot_offset(slots[at]), sizeof rh);
    ASSERT_EQ(slot_tag(rh.slot_hash), slot_word_tag(slots[at]));
    const std::string hidden(reinterpret_cast<const char *>(frame1() + slot_offset(slots[at]) +
                                                            sizeof rh),
                             rh.key_len);
    slots[at] = slot_word(slot_offset(slots[at]), rh.slot_hash + 1);  // another tag
    EXPECT_EQ(std::nullopt, get(h_.get(), hidden));
    // Only the hidden key misses before verify.
    for (int i = 0; i < 40; ++i) {
        EXPECT_EQ(key(i) == hidden ? std::nullopt
                                   : std::optional<std::string>("v" + std::to_string(i)),
                  get(h_.get(), key(i)));
    }
    std::uint64_t repaired = 0;
    ASSERT_EQ(0, shmds_cache_verify(h_.get(), &repaired)) << shmds_last_error();
    EXPECT_EQ(1u, repaired);
    EXPECT_EQ(std::nullopt, get(h_.get(), hidden));
    EXPECT_EQ(0, set(h_.get(), hidden, "back"));
    EXPECT_EQ("back", get(h_.get(), hidden));
}

TEST_F(CacheCorruption, APageMapWordOutOfRangeIsRefusedAndRepaired) {
    auto *map = reinterpret_cast<std::uint64_t *>(map_ + g_.map_off);
    map[1] = 1u << 30;
    const std::set<int> bad = damaged_keys();
    EXPECT_FALSE(bad.empty());
    expect_verify_repairs_only_those(bad);
}

// A spare pool word naming a page's own frame: that page's expunge must not build its
// new page over the records it copies out (an overlapping memcpy, found by the fuzz
// replay under ASan); every key still reads back right or not at all.
TEST_F(CacheCorruption, ASparePoolWordNamingAPagesOwnFrameIsNeverBuiltOver) {
    auto *pool = reinterpret_cast<std::uint64_t *>(map_ + g_.pool_off);
    pool[0] = shmds::cache::kPoolFree | 1u;  // page 1 lives in frame 1
    const std::string value(200, 'x');
    for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < 200; ++i)
            ASSERT_EQ(0, set(h_.get(), "churn" + std::to_string(i), value + std::to_string(round)))
                << shmds_last_error();
    }
    for (int i = 0; i < 200; ++i) {
        const auto got = get(h_.get(), "churn" + std::to_string(i));
        if (got) {
            EXPECT_EQ(value + "2", *got) << i;
        }
    }
}

// ---- the core undo journal --------------------------------------------------------------

TEST(UndoJournal, RepairUndoesUncommittedWordsNewestFirstAndOnlyInsideItsBounds) {
    alignas(8) std::uint8_t seg[512] = {};
    auto *count = reinterpret_cast<std::atomic<std::uint64_t> *>(seg);
    auto *recs = reinterpret_cast<shmds::core::UndoRecord *>(seg + 64);
    auto *words = reinterpret_cast<shmds::core::JournalWord *>(seg + 256);
    shmds::core::UndoJournal j(*count, recs, 4, seg, 256, 512);
    words[0].store(10);
    words[1].store(20);
    j.set(&words[0], 11);
    j.commit();
    EXPECT_FALSE(j.pending());
    j.set(&words[0], 12);
    j.set(&words[0], 13);  // twice: newest first restores the committed 11
    j.add(&words[1], 5);
    auto *half = reinterpret_cast<std::atomic<std::uint32_t> *>(&words[2]) + 1;
    j.set_u32(half, 7);
    EXPECT_TRUE(j.pending());
    EXPECT_EQ(4u, j.repair());
    EXPECT_EQ(11u, words[0].load());
    EXPECT_EQ(20u, words[1].load());
    EXPECT_EQ(0u, words[2].load());
    EXPECT_FALSE(j.pending());

    // A scribbled journal: a record outside [lo, hi) and an unaligned one are skipped,
    // a count beyond the capacity is clamped.
    recs[0].off.store(8);     // below lo: would hit the count itself
    recs[0].old.store(99);
    recs[1].off.store(257);   // unaligned
    recs[2].off.store(512);   // past hi
    recs[3].off.store(264);
    recs[3].old.store(77);
    count->store(1000);
    EXPECT_EQ(1u, j.repair());
    EXPECT_EQ(77u, words[1].load());
    EXPECT_EQ(0u, count->load());
}

}  // namespace
