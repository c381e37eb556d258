// The C++ veneer over the hash map, shmds::hash_map<K, V> (shmds/hashmap.hpp): every
// (K, V) pair reaches its C shape and types, absent keys and lost races are values
// (std::optional, bool) while real failures throw, bytes stay byte-exact, maps of other
// types are refused, handles move but never double-close, counters are exact across
// processes, every backing reaches the same map, and the handle's eventfd follows the
// library's rule and lives as long as the handle. Iteration, batches and freeze are in
// test_hashmap_cpp_iter.cpp, TTL and eviction in test_hashmap_cpp_aging.cpp. The behaviour
// behind each call is tested through the C API in test_hashmap*.cpp.
#include "hashmap_cpp_support.hpp"

#include <sys/eventfd.h>

SHMDS_EVERY_VALUE_OF_KEY(std::int16_t)
SHMDS_EVERY_VALUE_OF_KEY(std::int32_t)

using namespace shmds::test;
using namespace shmds::test::hashmap_cpp;
using namespace std::chrono_literals;

TYPED_TEST_SUITE(HashMapCpp, Pairs, PairNames);

// ------------------------------------------------------------ every (K, V) pair

TYPED_TEST(HashMapCpp, CreateGivesAMapOfTheTypesAndGeometryAsked) {
    using K = typename TestFixture::K;
    using V = typename TestFixture::V;
    auto m = TestFixture::Map::create(shmds::backing::anonymous(), 100, 2);
    ASSERT_NE(nullptr, m.handle());
    EXPECT_EQ(c_type<K>(), TestFixture::Map::key_type_code);
    EXPECT_EQ(c_type<V>(), TestFixture::Map::value_type_code);
    EXPECT_EQ(c_type<K>(), shmds_hashmap_key_type(m.handle()));
    EXPECT_EQ(c_type<V>(), shmds_hashmap_value_type(m.handle()));
    EXPECT_EQ(100u, m.max_entries());
    EXPECT_EQ(0u, m.size());
    EXPECT_TRUE(m.empty());
    const auto s = m.stats();
    EXPECT_EQ(sizeof s, s.struct_size);
    EXPECT_EQ(2u, s.shards);
    const bool has_bytes = std::is_same_v<K, std::string> || std::is_same_v<V, std::string>;
    EXPECT_EQ(has_bytes, s.arena_capacity > 0);
    EXPECT_EQ(0u, m.recoveries());
}

TYPED_TEST(HashMapCpp, WritesAndReadsWithOptionalOutcomes) {
    auto m = TestFixture::Map::create(shmds::backing::anonymous(), 100);
    const auto k = TestFixture::k, v = TestFixture::v;
    // Absent: values, never exceptions.
    EXPECT_EQ(std::nullopt, m.get(k(1)));
    EXPECT_FALSE(m.exists(k(1)));
    EXPECT_FALSE(m.update(k(1), v(1)));
    EXPECT_FALSE(m.cas(k(1), v(1), v(2)));
    EXPECT_EQ(std::nullopt, m.take(k(1)));
    EXPECT_FALSE(m.remove(k(1)));
    EXPECT_EQ(0u, m.size()) << "no refused verb inserted";

    m.put(k(1), v(1));
    EXPECT_TRUE(m.exists(k(1)));
    EXPECT_EQ(std::optional(v(1)), m.get(k(1)));
    m.put(k(1), v(2));  // overwrite
    EXPECT_EQ(std::optional(v(2)), m.get(k(1)));

    EXPECT_TRUE(m.add(k(2), v(3)));
    EXPECT_FALSE(m.add(k(2), v(4))) << "present: unchanged";
    EXPECT_EQ(std::optional(v(3)), m.get(k(2)));
    EXPECT_TRUE(m.update(k(2), v(5)));
    EXPECT_EQ(std::optional(v(5)), m.get(k(2)));

    EXPECT_EQ(std::nullopt, m.swap(k(3), v(6))) << "absent: inserted, no old value";
    EXPECT_EQ(std::optional(v(6)), m.get(k(3)));
    EXPECT_EQ(std::optional(v(6)), m.swap(k(3), v(7)));
    EXPECT_EQ(std::optional(v(7)), m.get(k(3)));

    EXPECT_FALSE(m.cas(k(3), v(6), v(8))) << "the value differs";
    EXPECT_EQ(std::optional(v(7)), m.get(k(3)));
    EXPECT_TRUE(m.cas(k(3), v(7), v(8)));
    EXPECT_EQ(std::optional(v(8)), m.get(k(3)));

    EXPECT_EQ(std::make_pair(v(9), true), m.get_or_set(k(4), v(9))) << "absent: inserted";
    EXPECT_EQ(std::make_pair(v(9), false), m.get_or_set(k(4), v(10))) << "present: kept";
    EXPECT_EQ(std::optional(v(9)), m.get(k(4)));

    typename TestFixture::V into = v(11);
    EXPECT_TRUE(m.get(k(4), into));
    EXPECT_EQ(v(9), into);
    EXPECT_FALSE(m.get(k(5), into));

    EXPECT_EQ(4u, m.size());
    EXPECT_EQ(std::optional(v(9)), m.take(k(4)));
    EXPECT_FALSE(m.exists(k(4)));
    EXPECT_TRUE(m.remove(k(3)));
    EXPECT_FALSE(m.exists(k(3)));
    EXPECT_EQ(2u, m.size());
    EXPECT_EQ(2u, m.stats().size);
}

TYPED_TEST(HashMapCpp, ManyKeysKeepTheirValuesThroughGrowthAndShrink) {
    using K = typename TestFixture::K;
    using V = typename TestFixture::V;
    const bool has_bytes = std::is_same_v<K, std::string> || std::is_same_v<V, std::string>;
    auto m = TestFixture::Map::create(shmds::backing::anonymous(), 3000, 0,
                                      has_bytes ? 1 << 20 : 0);
    const auto k = TestFixture::k, v = TestFixture::v;
    // int16 keys: item() gives -3i and 3i, distinct for i < 10923.
    for (int i = 0; i < 3000; ++i) m.put(k(i), v(i + 1));
    EXPECT_EQ(3000u, m.size());
    // A full map throws from every inserting verb, and inserts nothing.
    expect_error(-ENOSPC, [&] { m.put(k(3000), v(0)); });
    expect_error(-ENOSPC, [&] { m.add(k(3000), v(0)); });
    expect_error(-ENOSPC, [&] { m.swap(k(3000), v(0)); });
    expect_error(-ENOSPC, [&] { m.get_or_set(k(3000), v(0)); });
    EXPECT_FALSE(m.exists(k(3000)));
    if constexpr (std::is_integral_v<V>) expect_error(-ENOSPC, [&] { m.incr(k(3000)); });
    for (int i = 0; i < 3000; ++i) ASSERT_EQ(std::optional(v(i + 1)), m.get(k(i))) << i;
    for (int i = 0; i < 2990; ++i) ASSERT_TRUE(m.remove(k(i))) << i;
    for (int i = 2990; i < 3000; ++i) ASSERT_EQ(std::optional(v(i + 1)), m.take(k(i))) << i;
    EXPECT_TRUE(m.empty());
    EXPECT_EQ(0u, m.stats().arena_used) << "every arena block went back";
}

TYPED_TEST(HashMapCpp, MovesTransferOwnershipAndNeverDoubleClose) {
    using Map = typename TestFixture::Map;
    const auto k = TestFixture::k, v = TestFixture::v;
    Map a = Map::create(shmds::backing::memfd("hm-move-a"), 8);
    const int fd_a = a.fd();
    a.put(k(1), v(1));

    Map b(std::move(a));
    EXPECT_EQ(nullptr, a.handle());
    EXPECT_EQ(fd_a, b.fd());
    EXPECT_EQ(1u, b.size());
    // The moved-from map is inert: gauges read zero, verbs throw, nothing crashes.
    EXPECT_EQ(0u, a.size());
    EXPECT_EQ(0u, a.max_entries());
    EXPECT_EQ(0u, a.recoveries());
    expect_error(-EINVAL, [&] { a.put(k(2), v(2)); });
    expect_error(-EINVAL, [&] { a.get(k(1)); });
    expect_error(-EINVAL, [&] { a.exists(k(1)); });
    expect_error(-EINVAL, [&] { a.take(k(1)); });
    expect_error(-EINVAL, [&] { a.stats(); });

    {
        Map c = Map::create(shmds::backing::memfd("hm-move-c"), 8);
        const int fd_c = c.fd();
        c = std::move(b);  // closes c's own map, takes b's
        EXPECT_FALSE(fd_is_open(fd_c)) << "the replaced map must be closed";
        EXPECT_TRUE(fd_is_open(fd_a));
        EXPECT_EQ(nullptr, b.handle());
        EXPECT_EQ(std::optional(v(1)), c.get(k(1)));
    }
    EXPECT_FALSE(fd_is_open(fd_a)) << "the last owner closes the map";

    // Adopting a C handle hands it to the destructor.
    shmds_hashmap_config_t cfg =
        SHMDS_HASHMAP_CONFIG_INIT(Map::key_type_code, Map::value_type_code, 4);
    shmds_hashmap_t *raw = nullptr;
    ASSERT_EQ(0, shmds_hashmap_create(nullptr, &cfg, &raw));
    Map adopted(raw);
    EXPECT_EQ(raw, adopted.handle());
    adopted.put(k(5), v(5));
    EXPECT_EQ(std::optional(v(5)), adopted.get(k(5)));
}

TYPED_TEST(HashMapCpp, EventfdSignalsOnlyWhenNotified) {
    using Map = typename TestFixture::Map;
    const auto k = TestFixture::k, v = TestFixture::v;
    Map m = Map::create(shmds::backing::anonymous(), 8);
    expect_error(-ENOENT, [&] { m.notify(); });
    const int efd = m.eventfd();
    ASSERT_GE(efd, 0);
    EXPECT_EQ(efd, m.eventfd());
    m.put(k(1), v(1));
    EXPECT_FALSE(m.consume_events()) << "a put alone never signals";
    m.notify();
    m.notify();
    EXPECT_EQ(std::optional<std::uint64_t>(2), m.consume_events());
    EXPECT_FALSE(m.consume_events());
    m.set_eventfd(-1);
    expect_error(-ENOENT, [&] { m.consume_events(); });
    expect_error(-EBADF, [&] { m.set_eventfd(-5); });
}

TYPED_TEST(HashMapCpp, AFileMapOfOtherTypesIsRefused) {
    using K = typename TestFixture::K;
    using V = typename TestFixture::V;
    TempPath path("hm-cpp-types");
    auto m = TestFixture::Map::create(shmds::backing::path(path.str()), 16);
    m.put(TestFixture::k(1), TestFixture::v(1));
    // The same types open and see the entry.
    auto same = TestFixture::Map::open(shmds::backing::path(path.str()));
    EXPECT_EQ(std::optional(TestFixture::v(1)), same.get(TestFixture::k(1)));
    // Another key type, or another value type, is SHMDS_ETYPE, whether opened or created.
    using OtherK = std::conditional_t<std::is_same_v<K, std::int64_t>, std::string, std::int64_t>;
    using OtherV = std::conditional_t<std::is_same_v<V, std::int32_t>, double, std::int32_t>;
    const std::string what = expect_error(
        SHMDS_ETYPE, [&] { shmds::hash_map<OtherK, V>::open(shmds::backing::path(path.str())); });
    EXPECT_NE(std::string::npos, what.find(path.str())) << what;
    expect_error(SHMDS_ETYPE,
                 [&] { shmds::hash_map<K, OtherV>::open(shmds::backing::path(path.str())); });
    expect_error(SHMDS_ETYPE, [&] {
        shmds::hash_map<K, OtherV>::create(shmds::backing::path(path.str()), 16);
    });
    // A C handle of other types adopted by mistake is refused, and closed (it was
    // handed over): the C verbs alone would take an int32 value for an int16 map.
    shmds_hashmap_t *raw = nullptr;
    ASSERT_EQ(0, shmds_hashmap_open(shmds::backing::path(path.str()).options(), 0, 0, &raw));
    const int raw_fd = shmds_hashmap_fd(raw);
    ASSERT_GE(raw_fd, 0);
    expect_error(SHMDS_ETYPE, [&] { shmds::hash_map<K, OtherV> wrong(raw); });
    EXPECT_FALSE(fd_is_open(raw_fd)) << "the refused handle was closed";
    ASSERT_EQ(0, shmds_hashmap_open(shmds::backing::path(path.str()).options(), 0, 0, &raw));
    typename TestFixture::Map adopted(raw);
    EXPECT_EQ(std::optional(TestFixture::v(1)), adopted.get(TestFixture::k(1)));
    typename TestFixture::Map none(nullptr);
    EXPECT_EQ(0u, none.size());
    EXPECT_EQ(std::optional(TestFixture::v(1)), m.get(TestFixture::k(1))) << "nothing changed";
}



// ---------------------------------------------------------------- counters

TEST(HashMapCppCounters, CountersStartFromZeroAndReturnTheNewValue) {
    auto m = shmds::hash_map<std::string, std::int64_t>::create(shmds::backing::anonymous(), 10);
    EXPECT_EQ(1, m.incr("a"));
    EXPECT_EQ(2, m.incr("a"));
    EXPECT_EQ(1, m.decr("a"));
    EXPECT_EQ(-9, m.incr_by("a", -10));
    EXPECT_EQ(-1, m.decr("b")) << "a missing key starts from 0";
    EXPECT_EQ(5, m.incr_by("c", 5));
    EXPECT_EQ(std::optional<std::int64_t>(-9), m.get("a"));
    EXPECT_EQ(3u, m.size());
}

TEST(HashMapCppCounters, OverflowThrowsAndKeepsTheValue) {
    auto m16 = shmds::hash_map<std::int32_t, std::int16_t>::create(shmds::backing::anonymous(), 10);
    m16.put(1, INT16_MAX);
    m16.put(2, INT16_MIN);
    expect_error(-ERANGE, [&] { m16.incr(1); });
    expect_error(-ERANGE, [&] { m16.decr(2); });
    expect_error(-ERANGE, [&] { m16.incr_by(3, 40000); });
    EXPECT_EQ(std::optional<std::int16_t>(INT16_MAX), m16.get(1));
    EXPECT_EQ(std::optional<std::int16_t>(INT16_MIN), m16.get(2));
    EXPECT_FALSE(m16.exists(3)) << "a refused counter inserts nothing";
    EXPECT_EQ(INT16_MAX - 1, m16.decr(1));

    auto m64 = shmds::hash_map<std::int16_t, std::int64_t>::create(shmds::backing::anonymous(), 10);
    m64.put(INT16_MIN, INT64_MAX);
    expect_error(-ERANGE, [&] { m64.incr(INT16_MIN); });
    EXPECT_EQ(INT64_MAX - 1, m64.incr_by(INT16_MIN, -1));
}

TEST(HashMapCppCounters, ExactAcrossProcesses) {
    auto m = shmds::hash_map<std::int64_t, std::int32_t>::create(shmds::backing::anonymous(), 16);
    constexpr int kProcs = 3, kIncrs = 2000;
    std::vector<pid_t> kids;
    for (int p = 0; p < kProcs; ++p)
        kids.push_back(fork_child([&] {
            for (int i = 0; i < kIncrs; ++i) CHILD_CHECK(m.incr(i % 4) > 0);
            return 0;
        }));
    for (pid_t pid : kids) {
        ChildExit e = wait_child(pid, 30s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    for (int key = 0; key < 4; ++key)
        EXPECT_EQ(std::optional<std::int32_t>(kProcs * kIncrs / 4), m.get(key)) << key;
}

TEST(HashMapCppCounters, ExactlyOneGetOrSetInsertsAmongProcesses) {
    auto m = shmds::hash_map<std::string, std::string>::create(shmds::backing::anonymous(), 64);
    auto winners =
        shmds::hash_map<std::string, std::int64_t>::create(shmds::backing::anonymous(), 4);
    constexpr int kProcs = 4, kRounds = 30;
    std::vector<pid_t> kids;
    for (int p = 0; p < kProcs; ++p)
        kids.push_back(fork_child([&, p] {
            for (int r = 0; r < kRounds; ++r) {
                auto [value, inserted] = m.get_or_set("round" + std::to_string(r),
                                                      "by " + std::to_string(p));
                CHILD_CHECK(value.rfind("by ", 0) == 0);
                if (inserted) {
                    CHILD_CHECK(value == "by " + std::to_string(p));
                    winners.incr("wins");
                }
            }
            return 0;
        }));
    for (pid_t pid : kids) {
        ChildExit e = wait_child(pid, 30s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    EXPECT_EQ(std::optional<std::int64_t>(kRounds), winners.get("wins"));
    EXPECT_EQ(std::size_t(kRounds), m.size());
}

// ------------------------------------------------------------------- bytes

TEST(HashMapCppBytes, KeysAndValuesAreByteExact) {
    auto m = shmds::hash_map<std::string, std::string>::create(shmds::backing::anonymous(), 100);
    const std::string nul("a\0b", 3), nul2("a\0c", 3), ff("\xff\xff", 2), empty;
    m.put(nul, ff);
    m.put(ff, empty);
    m.put(empty, nul);
    m.put(nul2, "other");
    EXPECT_EQ(std::optional(ff), m.get(nul));
    EXPECT_EQ(std::optional(empty), m.get(ff)) << "an empty value is a value, not absent";
    EXPECT_EQ(std::optional(nul), m.get(empty));
    EXPECT_EQ(std::optional<std::string>("other"), m.get(nul2));
    EXPECT_EQ(std::nullopt, m.get("a")) << "a key is its bytes, not a C string";
    EXPECT_EQ(std::nullopt, m.get(std::string_view("a\0b\0", 4)));
    // std::string_view, literals and std::string all name the same key.
    EXPECT_EQ(std::optional(ff), m.get(std::string_view(nul)));
    EXPECT_TRUE(m.exists(std::string_view(nullptr, 0))) << "the empty key";
    EXPECT_EQ(std::optional(empty), m.swap(ff, nul));
    EXPECT_TRUE(m.cas(ff, nul, empty));
    EXPECT_FALSE(m.cas(ff, nul, empty));
    EXPECT_EQ(std::make_pair(empty, false), m.get_or_set(ff, "x"));
    EXPECT_EQ(std::optional(empty), m.take(ff));
    EXPECT_FALSE(m.exists(ff));
}

TEST(HashMapCppBytes, LargeValuesGrowTheBuffersAndSmallOnesReuseThem) {
    auto m = shmds::hash_map<std::int64_t, std::string>::create(shmds::backing::anonymous(), 16,
                                                                 1, 1 << 20);
    auto blob = [](std::size_t n, int seed) {
        std::string s(n, '\0');
        for (std::size_t i = 0; i < n; ++i) s[i] = char((i * 131 + std::size_t(seed)) % 256);
        return s;
    };
    const std::string s300 = blob(300, 1), s5k = blob(5000, 2), s100k = blob(100000, 3);
    for (const auto &s : {s300, s5k, s100k}) {
        m.put(1, s);
        EXPECT_EQ(std::optional(s), m.get(1));
        EXPECT_EQ(std::optional(s), m.swap(1, "short"));
        EXPECT_EQ(std::optional<std::string>("short"), m.swap(1, s));
        EXPECT_EQ(std::make_pair(s, false), m.get_or_set(1, "x"));
        EXPECT_EQ(std::optional(s), m.take(1));
        EXPECT_EQ(std::make_pair(s, true), m.get_or_set(1, s)) << "the given value comes back";
        EXPECT_TRUE(m.remove(1));
    }
    // A reused string holds each value exactly, longer or shorter than the last.
    std::string into;
    m.put(2, s5k);
    m.put(3, "tiny");
    ASSERT_TRUE(m.get(2, into));
    EXPECT_EQ(s5k, into);
    ASSERT_TRUE(m.get(3, into));
    EXPECT_EQ("tiny", into);
}

TEST(HashMapCppBytes, WhatCanNeverFitThrows) {
    auto m = shmds::hash_map<std::string, std::string>::create(shmds::backing::anonymous(), 100,
                                                                1, 4096);
    const std::string big(1000, 'b');  // a 1024-byte arena block: four fit
    for (int i = 0; i < 4; ++i) m.put(std::to_string(i), big);
    std::string what = expect_error(-ENOSPC, [&] { m.put("4", big); });
    EXPECT_NE(std::string::npos, what.find("arena")) << what;
    expect_error(-ENOSPC, [&] { m.add("4", big); });
    expect_error(-ENOSPC, [&] { m.get_or_set("4", big); });
    expect_error(-ENOSPC, [&] { m.swap("4", big); });
    expect_error(-ENOSPC, [&] { m.update("0", std::string(2000, 'u')); });  // no 2 kB block
    EXPECT_FALSE(m.exists("4")) << "a refused insert leaves nothing";
    expect_error(-E2BIG, [&] { m.put("h", std::string(8192, 'h')); });
    EXPECT_TRUE(m.remove("0"));
    m.put("4", big);
    EXPECT_EQ(std::optional(big), m.get("4"));
}

// ----------------------------------------------------------------- doubles

TEST(HashMapCppF64, CasComparesTheBitsOfTheDouble) {
    auto m = shmds::hash_map<std::string, double>::create(shmds::backing::anonymous(), 10);
    m.put("z", 0.0);
    EXPECT_FALSE(m.cas("z", -0.0, 1.0)) << "-0.0 is not 0.0 to cas";
    EXPECT_TRUE(m.cas("z", 0.0, -0.0));
    EXPECT_TRUE(std::signbit(*m.get("z")));
    const double nan = std::numeric_limits<double>::quiet_NaN();
    m.put("n", nan);
    EXPECT_TRUE(std::isnan(*m.get("n")));
    EXPECT_TRUE(m.cas("n", nan, 2.5)) << "the same NaN bits match";
    EXPECT_EQ(std::optional(2.5), m.get("n"));
    m.put("big", std::numeric_limits<double>::max());
    EXPECT_EQ(std::optional(std::numeric_limits<double>::max()), m.take("big"));
}

// ----------------------------------------------------------------- backings

TEST(HashMapCppBacking, PathExclusiveOpenSyncAndTheStoredGeometryWins) {
    TempPath path("hm-cpp-path");
    using Map = shmds::hash_map<std::int32_t, std::int64_t>;
    Map created = Map::create(shmds::backing::path(path.str()).exclusive(), 50, 2);
    expect_error(-EEXIST, [&] { Map::create(shmds::backing::path(path.str()).exclusive(), 50); });
    Map attached = Map::create(shmds::backing::path(path.str()), 5000);
    EXPECT_EQ(50u, attached.max_entries()) << "the existing geometry wins";
    EXPECT_EQ(2u, attached.stats().shards);
    Map opened = Map::open(shmds::backing::path(path.str()));
    created.put(7, 70);
    EXPECT_EQ(std::optional<std::int64_t>(70), opened.get(7));
    EXPECT_GE(opened.fd(), 0);
    opened.sync();
}

TEST(HashMapCppBacking, FailuresThrowWithTheLibrarysSentence) {
    using Map = shmds::hash_map<std::int64_t, std::int64_t>;
    TempPath missing("hm-cpp-missing");
    std::string what =
        expect_error(-ENOENT, [&] { Map::open(shmds::backing::path(missing.str())); });
    EXPECT_NE(std::string::npos, what.find(missing.str())) << what;
    expect_error(-EINVAL, [&] { Map::open(shmds::backing::anonymous()); });
    expect_error(-EINVAL, [&] { Map::create(shmds::backing::anonymous(), 0); });
    expect_error(-EINVAL, [&] { Map::create(shmds::backing::anonymous(), 10, 3); });
    // An arena on an integer-only map.
    expect_error(-EINVAL, [&] { Map::create(shmds::backing::anonymous(), 10, 1, 4096); });
    auto anon = Map::create(shmds::backing::anonymous(), 10);
    expect_error(-ENOENT, [&] { anon.fd(); });
}

TEST(HashMapCppBacking, MemfdAndFdReachTheSameMapFromAnotherProcess) {
    using Map = shmds::hash_map<std::string, std::string>;
    Map m = Map::create(shmds::backing::memfd("hm-cpp-memfd"), 16);
    const int fd = m.fd();
    ASSERT_GE(fd, 0);
    run_child_ok([&] {
        {
            Map peer = Map::open(shmds::backing::fd(fd));
            peer.put("from", "the child");
        }
        CHILD_CHECK(fd_is_open(fd));  // attaching duplicated it; closing closed the copy
        return 0;
    });
    EXPECT_EQ(std::optional<std::string>("the child"), m.get("from"));

    int mine = memfd_create("hm-cpp-blank", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    ASSERT_GE(mine, 0);
    {
        Map blank = Map::create(shmds::backing::fd(mine), 4);
        blank.put("k", "into my fd");
        Map again = Map::open(shmds::backing::fd(mine));
        EXPECT_EQ(std::optional<std::string>("into my fd"), again.get("k"));
    }
    EXPECT_TRUE(fd_is_open(mine)) << "the caller keeps its own descriptor";
    close(mine);
}

// The eventfd is the handle's: it lives as long as the handle, which iterators and
// cursors share, and moves with the map; a moved-from map has none to give.
TEST(HashMapCppEventfd, TheEventfdLivesAsLongAsTheHandleAndMovesWithIt) {
    using Map = shmds::hash_map<std::int64_t, std::int64_t>;
    Map a = Map::create(shmds::backing::anonymous(), 8);
    const int efd = a.eventfd();
    auto c = a.cursor();
    Map b(std::move(a));
    expect_error(-EINVAL, [&] { a.eventfd(); });
    expect_error(-EINVAL, [&] { a.notify(); });
    EXPECT_EQ(efd, b.eventfd()) << "the eventfd moved with the handle";
    b = Map::create(shmds::backing::anonymous(), 8);  // gives up its share
    EXPECT_TRUE(fd_is_open(efd)) << "the cursor still shares the handle and its eventfd";
    { auto gone = std::move(c); }
    EXPECT_FALSE(fd_is_open(efd)) << "the last share of the handle closes its eventfd";

    // A caller's eventfd is duplicated, never taken: it outlives the map.
    const int mine = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ASSERT_GE(mine, 0);
    {
        Map m = Map::create(shmds::backing::anonymous(), 8);
        m.set_eventfd(mine);
        m.notify();
    }
    EXPECT_TRUE(fd_is_open(mine));
    std::uint64_t n = 0;
    EXPECT_EQ(ssize_t(sizeof n), read(mine, &n, sizeof n));
    EXPECT_EQ(1u, n);
    close(mine);
}

TEST(HashMapCppEventfd, AForkedChildNotifiesThroughTheInheritedEventfd) {
    auto m = shmds::hash_map<std::string, std::int64_t>::create(shmds::backing::anonymous(), 8);
    m.eventfd();
    run_child_ok([&] {
        m.put("job", 1);
        m.notify();
        return 0;
    });
    EXPECT_EQ(std::optional<std::uint64_t>(1), m.consume_events());
    EXPECT_EQ(std::optional<std::int64_t>(1), m.get("job"));
}

TEST(HashMapCppBacking, AnonymousMapsAreSharedWithForkedChildren) {
    auto m = shmds::hash_map<std::int16_t, double>::create(shmds::backing::anonymous(), 8);
    run_child_ok([&] {
        m.put(1, 1.5);
        m.put(2, -2.5);
        return 0;
    });
    EXPECT_EQ(std::optional(1.5), m.get(1));
    EXPECT_EQ(std::optional(-2.5), m.get(2));
}
