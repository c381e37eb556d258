// The C++ hash_map's walks, batches and whole-map verbs over every (K, V) pair: range-for,
// keys()/values() and cursors visit every entry once, survive removal and report a
// rebuild as -ESTALE; batches give per-key results; cas_take, max/min; a frozen map
// refuses writes and opens read-only.
#include "hashmap_cpp_support.hpp"

SHMDS_EVERY_VALUE_OF_KEY(std::int64_t)

using namespace shmds::test;
using namespace shmds::test::hashmap_cpp;
using namespace std::chrono_literals;

template <class P>
class HashMapCppIter : public HashMapCpp<P> {};
TYPED_TEST_SUITE(HashMapCppIter, Pairs, PairNames);

// ---------------------------------------------------------------- iteration

namespace {
// What a walk saw: each key's value, and whether any key came twice.
template <class K, class V>
struct Seen {
    std::map<K, V> items;
    int repeats = 0;
    void add(const K &k, const V &v) { repeats += !items.emplace(k, v).second; }
};
}  // namespace

TYPED_TEST(HashMapCppIter, RangeForKeysAndValuesVisitEveryEntryExactlyOnce) {
    using K = typename TestFixture::K;
    using V = typename TestFixture::V;
    auto m = TestFixture::Map::create(shmds::backing::anonymous(), 1000, 4, bytes_arena<K, V>());
    EXPECT_EQ(m.begin(), m.end()) << "an empty map walks nothing";
    const auto k = TestFixture::k, v = TestFixture::v;
    constexpr int kN = 300;
    for (int i = 0; i < kN; ++i) m.put(k(i), v(i + 1));

    Seen<K, V> seen;
    for (const auto &[key, value] : m) seen.add(key, value);
    EXPECT_EQ(0, seen.repeats);
    ASSERT_EQ(std::size_t(kN), seen.items.size());
    for (int i = 0; i < kN; ++i) EXPECT_EQ(v(i + 1), seen.items.at(k(i))) << i;

    std::map<K, int> keys;
    for (const auto &key : m.keys()) ++keys[key];
    EXPECT_EQ(std::size_t(kN), keys.size());
    for (const auto &[key, n] : keys) EXPECT_EQ(1, n);
    std::multiset<V> values, expected;
    for (const auto &value : m.values()) values.insert(value);
    for (int i = 0; i < kN; ++i) expected.insert(v(i + 1));
    EXPECT_EQ(expected, values);

    // The iterators are standard input iterators: algorithms and containers take them.
    EXPECT_EQ(kN, std::distance(m.begin(), m.end()));
    const std::vector<std::pair<K, V>> copied(m.begin(), m.end());
    EXPECT_EQ(std::size_t(kN), copied.size());
    auto it = m.begin();
    const auto first = *it++;
    EXPECT_NE(first.first, it->first) << "post-increment returns the old entry";
}

TYPED_TEST(HashMapCppIter, RemovingWhileIteratingNeitherSkipsNorRepeats) {
    using K = typename TestFixture::K;
    using V = typename TestFixture::V;
    auto m = TestFixture::Map::create(shmds::backing::anonymous(), 1000, 2, bytes_arena<K, V>());
    const auto k = TestFixture::k, v = TestFixture::v;
    constexpr int kN = 400;
    for (int i = 0; i < kN; ++i) m.put(k(i), v(i));
    // Remove each entry as it is visited, and every odd key early on: the even keys are
    // present for the whole walk and must each come exactly once; the removals through
    // this same map never shrink a table under the walk (no -ESTALE).
    Seen<K, V> seen;
    bool odd_removed = false;
    for (const auto &[key, value] : m) {
        seen.add(key, value);
        m.remove(key);
        if (!odd_removed) {
            for (int i = 1; i < kN; i += 2) m.remove(k(i));
            odd_removed = true;
        }
    }
    EXPECT_EQ(0, seen.repeats);
    for (int i = 0; i < kN; i += 2) EXPECT_EQ(1u, seen.items.count(k(i))) << i;
    EXPECT_TRUE(m.empty());
    m.put(k(1), v(1));  // the first remove after the walk may shrink: the map still works
    EXPECT_TRUE(m.remove(k(1)));
}

TYPED_TEST(HashMapCppIter, ExplicitCursorStepsBatchesSeeksAndResets) {
    using K = typename TestFixture::K;
    using V = typename TestFixture::V;
    auto m = TestFixture::Map::create(shmds::backing::anonymous(), 500, 2, bytes_arena<K, V>());
    const auto k = TestFixture::k, v = TestFixture::v;
    constexpr int kN = 100;
    for (int i = 0; i < kN; ++i) m.put(k(i), v(i));

    auto c = m.cursor();
    Seen<K, V> seen;
    for (auto batch = c.next_batch(7); !batch.empty(); batch = c.next_batch(7)) {
        EXPECT_LE(batch.size(), 7u);
        for (const auto &[key, value] : batch) seen.add(key, value);
    }
    EXPECT_EQ(0, seen.repeats);
    ASSERT_EQ(std::size_t(kN), seen.items.size());
    for (int i = 0; i < kN; ++i) EXPECT_EQ(v(i), seen.items.at(k(i))) << i;
    EXPECT_EQ(std::nullopt, c.next()) << "the end stays the end";

    c.reset();
    const auto e1 = c.next();
    ASSERT_TRUE(e1);
    const auto key2 = c.next_key();
    const auto value3 = c.next_value();
    ASSERT_TRUE(key2 && value3);
    K key4{};
    V value4{};
    ASSERT_TRUE(c.next(key4, value4));
    EXPECT_EQ(m.get(key4), std::optional(value4));
    std::size_t rest = 0;
    for (const auto &[key, value] : c) {  // range-for continues from the cursor's position
        EXPECT_EQ(m.get(key), std::optional(value));
        ++rest;
    }
    EXPECT_EQ(std::size_t(kN - 4), rest);

    // seek: the key comes next; an absent key leaves the cursor where it was.
    auto probe = m.cursor();
    ASSERT_TRUE(probe.seek(k(42)));
    probe.next();
    const auto after42 = probe.next();
    ASSERT_TRUE(c.seek(k(42)));
    EXPECT_EQ(std::make_optional(std::make_pair(k(42), v(42))), c.next());
    EXPECT_FALSE(c.seek(k(kN + 5)));
    EXPECT_EQ(after42, c.next()) << "the failed seek moved nothing";
    c.reset();
    EXPECT_EQ(e1, c.next()) << "reset starts over from the same first entry";

    // Moved from: -EINVAL, not a crash.
    auto moved = std::move(c);
    expect_error(-EINVAL, [&] { c.next(); });
    expect_error(-EINVAL, [&] { c.begin(); });
    EXPECT_TRUE(moved.next());
}

TYPED_TEST(HashMapCppIter, ARebuildUnderTheWalkThrowsEstaleAndReserveAvoidsIt) {
    using K = typename TestFixture::K;
    using V = typename TestFixture::V;
    auto m = TestFixture::Map::create(shmds::backing::anonymous(), 2000, 1, bytes_arena<K, V>());
    const auto k = TestFixture::k, v = TestFixture::v;
    for (int i = 0; i < 5; ++i) m.put(k(i), v(i));
    // Inserting past the table's size grows it under the walk: -ESTALE, never a skip
    // or a repeat.
    Seen<K, V> seen;
    expect_error(-ESTALE, [&] {
        int next = 1000;
        for (const auto &[key, value] : m) {
            seen.add(key, value);
            for (int j = 0; j < 300; ++j) m.put(k(next++), v(0));
        }
    });
    EXPECT_EQ(0, seen.repeats);
    EXPECT_GE(seen.items.size(), 1u);

    // A clear under a cursor: -ESTALE from then on, until reset.
    auto c = m.cursor();
    ASSERT_TRUE(c.next());
    EXPECT_GT(m.clear(), 5u);
    EXPECT_TRUE(m.empty());
    expect_error(-ESTALE, [&] { c.next(); });
    expect_error(-ESTALE, [&] { c.next_batch(4); });
    c.reset();
    EXPECT_EQ(std::nullopt, c.next());

    // reserve() first: the same inserting walk runs to its end.
    for (int i = 0; i < 5; ++i) m.put(k(i), v(i));
    m.reserve(1600);
    int visited = 0, next = 1000;
    for (const auto &entry : m) {
        (void)entry;
        ++visited;
        for (int j = 0; j < 300 && next < 2500; ++j) m.put(k(next++), v(0));
    }
    EXPECT_GE(visited, 5);
}

TEST(HashMapCppIterLife, WalksHoldTheHandleSoACursorNeverOutlivesIt) {
    using Map = shmds::hash_map<std::string, std::string>;
    std::optional<Map> m(Map::create(shmds::backing::memfd("hm-cpp-walk"), 16));
    const int fd = m->fd();
    m->put("a", "1");
    m->put("b", "2");
    auto c = m->cursor();
    auto keys = m->keys();
    auto it = m->begin();
    m.reset();  // the map object goes first: its handle must stay for the walks
    EXPECT_TRUE(fd_is_open(fd));
    const auto first = c.next();
    ASSERT_TRUE(first);
    EXPECT_EQ(2, std::distance(keys.begin(), keys.end()));
    ASSERT_NE(it, Map::iterator());
    EXPECT_TRUE(it->first == "a" || it->first == "b");
    { auto gone = std::move(c); }
    it = Map::iterator();
    EXPECT_TRUE(fd_is_open(fd)) << "the view still holds the handle";
    keys = Map::key_view(nullptr);
    EXPECT_FALSE(fd_is_open(fd)) << "the last walk closes the handle";

    Map empty(nullptr);
    expect_error(-EINVAL, [&] { empty.begin(); });
    expect_error(-EINVAL, [&] { empty.cursor(); });
    expect_error(-EINVAL, [&] { empty.keys().begin(); });
}

TEST(HashMapCppIterBytes, LongKeysAndValuesGrowTheWalksBuffers) {
    using Map = shmds::hash_map<std::string, std::string>;
    auto m = Map::create(shmds::backing::anonymous(), 64, 1, 1 << 20);
    std::map<std::string, std::string> want;
    for (int i = 0; i < 20; ++i) {
        std::string key(std::size_t(1 + i * 97), char('k' + i % 3));
        key += std::to_string(i);
        std::string value(std::size_t(i * 1500), char(i));
        want[key] = value;
        m.put(key, value);
    }
    std::map<std::string, std::string> walked, batched;
    for (const auto &[key, value] : m) walked[key] = value;
    EXPECT_EQ(want, walked);
    auto c = m.cursor();
    for (auto b = c.next_batch(3); !b.empty(); b = c.next_batch(3))
        for (auto &e : b) batched.insert(std::move(e));
    EXPECT_EQ(want, batched);
}

// ------------------------------------------------------------------ batches

TYPED_TEST(HashMapCppIter, BatchesGiveEachKeyItsOwnResult) {
    using K = typename TestFixture::K;
    using V = typename TestFixture::V;
    auto m = TestFixture::Map::create(shmds::backing::anonymous(), 500, 4, bytes_arena<K, V>());
    const auto k = TestFixture::k, v = TestFixture::v;
    std::vector<std::pair<K, V>> items;
    for (int i = 0; i < 60; ++i) items.emplace_back(k(i), v(i + 2));
    m.put_batch(items);
    EXPECT_EQ(60u, m.size());

    std::vector<K> keys;
    for (int i = 50; i < 70; ++i) keys.push_back(k(i));  // 50..59 present, 60..69 absent
    const auto got = m.get_batch(keys);
    ASSERT_EQ(keys.size(), got.size());
    for (int i = 50; i < 70; ++i)
        EXPECT_EQ(i < 60 ? std::optional(v(i + 2)) : std::nullopt, got[std::size_t(i - 50)]) << i;

    const auto removed = m.remove_batch(keys);
    ASSERT_EQ(keys.size(), removed.size());
    for (int i = 50; i < 70; ++i) EXPECT_EQ(i < 60, bool(removed[std::size_t(i - 50)])) << i;
    EXPECT_EQ(50u, m.size());

    // Braced lists, and a map's entries as items.
    m.put_batch({{k(100), v(100)}, {k(101), v(101)}});
    const auto two = m.get_batch({k(100), k(101), k(102)});
    EXPECT_EQ(std::optional(v(100)), two[0]);
    EXPECT_EQ(std::optional(v(101)), two[1]);
    EXPECT_EQ(std::nullopt, two[2]);
    EXPECT_EQ(std::vector<bool>({true, false}), m.remove_batch({k(100), k(102)}));
    const std::map<K, V> more{{k(200), v(1)}, {k(201), v(2)}};
    m.put_batch(more);
    EXPECT_EQ(std::optional(v(2)), m.get(k(201)));
    EXPECT_TRUE(m.get_batch(std::vector<K>()).empty());
    m.put_batch(std::vector<std::pair<K, V>>());
}

TEST(HashMapCppBatch, AFailingKeyThrowsAfterTheOthersAreDone) {
    using Map = shmds::hash_map<std::int64_t, std::int64_t>;
    auto m = Map::create(shmds::backing::anonymous(), 4);
    m.put(1, 1);
    m.put(2, 2);
    m.put(3, 3);
    const std::string what = expect_error(-ENOSPC, [&] {
        m.put_batch(std::vector<std::pair<std::int64_t, std::int64_t>>{
            {1, 10}, {4, 40}, {5, 50}, {6, 60}, {2, 20}});
    });
    EXPECT_NE(std::string::npos, what.find("failed in all")) << what;
    EXPECT_EQ(std::optional<std::int64_t>(10), m.get(1)) << "keys before the failure are done";
    EXPECT_EQ(std::optional<std::int64_t>(20), m.get(2)) << "and keys after it";
    EXPECT_EQ(4u, m.size());
    // Integers reach the C API unnarrowed: a value or key out of the map's range is
    // -ERANGE for that key alone, never a truncated entry.
    auto narrow = shmds::hash_map<std::int16_t, std::int16_t>::create(shmds::backing::anonymous(), 8);
    expect_error(-ERANGE, [&] {
        narrow.put_batch(std::vector<std::pair<int, int>>{{1, 1}, {2, 70000}, {70001, 3}, {4, 4}});
    });
    EXPECT_EQ(std::optional<std::int16_t>(1), narrow.get(1));
    EXPECT_EQ(std::optional<std::int16_t>(4), narrow.get(4));
    EXPECT_EQ(2u, narrow.size()) << "nothing truncated went in";
    expect_error(-ERANGE, [&] { narrow.get_batch(std::vector<int>{1, 70001}); });
    EXPECT_EQ(std::vector<bool>({true}), narrow.remove_batch(std::vector<int>{1}));
}

TEST(HashMapCppBatch, BytesValuesOfAnyLengthComeBackWhole) {
    using Map = shmds::hash_map<std::int32_t, std::string>;
    auto m = Map::create(shmds::backing::anonymous(), 64, 2, 1 << 20);
    std::vector<std::pair<std::int32_t, std::string>> items;
    for (int i = 0; i < 30; ++i) items.emplace_back(i, std::string(std::size_t(i * 700), char('a' + i)));
    m.put_batch(items);
    std::vector<std::int32_t> keys;
    for (int i = 0; i < 31; ++i) keys.push_back(i);
    const auto got = m.get_batch(keys);
    for (int i = 0; i < 30; ++i) EXPECT_EQ(std::optional(items[std::size_t(i)].second), got[std::size_t(i)]) << i;
    EXPECT_EQ(std::nullopt, got[30]);
}

// ------------------------------------------------------- more atomic verbs

TYPED_TEST(HashMapCppIter, CasTakeRemovesOnlyTheExpectedValue) {
    auto m = TestFixture::Map::create(shmds::backing::anonymous(), 10);
    const auto k = TestFixture::k, v = TestFixture::v;
    EXPECT_FALSE(m.cas_take(k(1), v(1))) << "absent";
    m.put(k(1), v(1));
    EXPECT_FALSE(m.cas_take(k(1), v(2))) << "the value differs";
    EXPECT_EQ(std::optional(v(1)), m.get(k(1)));
    EXPECT_TRUE(m.cas_take(k(1), v(1)));
    EXPECT_FALSE(m.exists(k(1)));
}

TEST(HashMapCppCounters, MaxAndMinKeepTheExtremeAndSayWhetherTheyChangedIt) {
    auto m = shmds::hash_map<std::string, std::int16_t>::create(shmds::backing::anonymous(), 10);
    EXPECT_EQ(std::make_pair(std::int16_t(5), true), m.max("hi", 5)) << "missing: inserted";
    EXPECT_EQ(std::make_pair(std::int16_t(5), false), m.max("hi", 3));
    EXPECT_EQ(std::make_pair(std::int16_t(9), true), m.max("hi", 9));
    EXPECT_EQ(std::make_pair(std::int16_t(-2), true), m.min("lo", -2));
    EXPECT_EQ(std::make_pair(std::int16_t(-2), false), m.min("lo", 7));
    EXPECT_EQ(std::make_pair(std::int16_t(-8), true), m.min("lo", -8));
    expect_error(-ERANGE, [&] { m.max("hi", 40000); });
    EXPECT_EQ(std::optional<std::int16_t>(9), m.get("hi"));
}

TEST(HashMapCppCounters, MaxFromManyProcessesLeavesTheLargest) {
    auto m = shmds::hash_map<std::int64_t, std::int64_t>::create(shmds::backing::anonymous(), 4);
    std::vector<pid_t> kids;
    for (int p = 0; p < 3; ++p)
        kids.push_back(fork_child([&, p] {
            for (int i = 0; i < 500; ++i) m.max(1, p * 1000 + i);
            return 0;
        }));
    for (pid_t pid : kids) {
        ChildExit e = wait_child(pid, 30s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    EXPECT_EQ(std::optional<std::int64_t>(2499), m.get(1));
}

// ------------------------------------------------------ freeze, read-only

TYPED_TEST(HashMapCppIter, AFrozenMapRefusesWritesAndOpensReadOnly) {
    using Map = typename TestFixture::Map;
    const auto k = TestFixture::k, v = TestFixture::v;
    TempPath path("hm-cpp-frozen");
    auto m = Map::create(shmds::backing::path(path.str()), 64);
    m.put(k(1), v(1));
    m.put(k(2), v(2));
    expect_error(-EPERM, [&] { Map::open_read_only(shmds::backing::path(path.str())); });
    EXPECT_FALSE(m.frozen());
    m.freeze();
    m.freeze();  // idempotent
    EXPECT_TRUE(m.frozen());
    EXPECT_EQ(1u, m.stats().frozen);
    EXPECT_GE(m.stats().max_probe, 1u);

    auto ro = Map::open_read_only(shmds::backing::path(path.str()));
    for (Map *map : {&m, &ro}) {
        expect_error(-EROFS, [&] { map->put(k(3), v(3)); });
        expect_error(-EROFS, [&] { map->remove(k(1)); });
        expect_error(-EROFS, [&] { map->cas_take(k(1), v(1)); });
        expect_error(-EROFS, [&] { map->put_batch({{k(4), v(4)}}); });
        expect_error(-EROFS, [&] { map->remove_batch({k(1)}); });
        expect_error(-EROFS, [&] { map->clear(); });
        expect_error(-EROFS, [&] { map->reserve(10); });
        EXPECT_EQ(std::optional(v(1)), map->get(k(1)));
        EXPECT_EQ(std::nullopt, map->get(k(3)));
        const auto both = map->get_batch({k(1), k(2)});
        EXPECT_EQ(std::optional(v(2)), both[1]);
        std::map<typename TestFixture::K, typename TestFixture::V> walked(map->begin(), map->end());
        EXPECT_EQ(2u, walked.size());
        EXPECT_TRUE(map->frozen());
    }
    EXPECT_EQ(2u, ro.size());
}
