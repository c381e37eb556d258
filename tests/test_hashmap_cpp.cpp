// The C++ veneer over the hash map, shmds::hash_map<K, V> (shmds/hashmap.hpp): every
// (K, V) pair reaches its C shape and types, absent keys and lost races are values
// (std::optional, bool) while real failures throw, bytes stay byte-exact, maps of other
// types are refused, handles move but never double-close, and every backing reaches the
// same map; range-for, keys()/values() and cursors visit every entry once, survive
// removal and report a rebuild as -ESTALE; batches give per-key results; a frozen map
// refuses writes and opens read-only. The behaviour behind each call is tested through
// the C API in test_hashmap.cpp, test_hashmap_ops.cpp and test_hashmap_procs.cpp.
#include "support/proc.hpp"

#include <shmds/hashmap.hpp>

#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <optional>
#include <string>
#include <string_view>
#include <sys/mman.h>
#include <unistd.h>
#include <utility>
#include <vector>

// Every member of every (K, V) pair compiles, used by a test or not.
#define SHMDS_EVERY_VALUE_(K)                       \
    template class shmds::hash_map<K, std::int16_t>; \
    template class shmds::hash_map<K, std::int32_t>; \
    template class shmds::hash_map<K, std::int64_t>; \
    template class shmds::hash_map<K, double>;       \
    template class shmds::hash_map<K, std::string>;
SHMDS_EVERY_VALUE_(std::int16_t)
SHMDS_EVERY_VALUE_(std::int32_t)
SHMDS_EVERY_VALUE_(std::int64_t)
SHMDS_EVERY_VALUE_(std::string)
#undef SHMDS_EVERY_VALUE_

using namespace shmds::test;
using namespace std::chrono_literals;

namespace {

// Keys and values for index i, distinct per i. Bytes hold what must survive the veneer:
// the empty string (i == 0), NUL and 0xFF bytes, and lengths past the inline limits
// (keys over 16 bytes, values over 32 live in the arena).
template <class T>
T item(int i) {
    if constexpr (std::is_same_v<T, std::string>) {
        if (i == 0) return std::string();
        std::string s(std::size_t(i % 3), '\0');
        s += "\xff" + std::to_string(i);
        if (i % 4 == 3) s += std::string(40, char('a' + i % 26));
        return s;
    } else if constexpr (std::is_same_v<T, double>) {
        return i % 2 ? -1.5 * i : 0.25 * i;
    } else {
        return T(i % 2 ? -i * 3 : i * 3);
    }
}

bool fd_is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

// Run f, expecting shmds::error with `code`; returns its what() for further checks.
template <class F>
std::string expect_error(int code, F &&f) {
    try {
        f();
    } catch (const shmds::error &e) {
        EXPECT_EQ(code, e.value()) << e.what();
        return e.what();
    } catch (const std::exception &e) {
        ADD_FAILURE() << "expected shmds::error " << shmds_errname(code) << ", got " << e.what();
        return {};
    }
    ADD_FAILURE() << "expected shmds::error " << shmds_errname(code) << ", nothing was thrown";
    return {};
}

template <class K, class V>
struct kv {
    using key = K;
    using value = V;
};

template <class T>
std::string type_name() {
    if constexpr (std::is_same_v<T, std::string>)
        return "String";
    else if constexpr (std::is_same_v<T, double>)
        return "Double";
    else
        return "Int" + std::to_string(sizeof(T) * 8);
}

struct PairNames {
    template <class P>
    static std::string GetName(int) {
        return type_name<typename P::key>() + "To" + type_name<typename P::value>();
    }
};

template <class P>
class HashMapCpp : public ::testing::Test {
protected:
    using K = typename P::key;
    using V = typename P::value;
    using Map = shmds::hash_map<K, V>;
    static K k(int i) { return item<K>(i); }
    static V v(int i) { return item<V>(i); }
};

#define SHMDS_PAIRS_(K) \
    kv<K, std::int16_t>, kv<K, std::int32_t>, kv<K, std::int64_t>, kv<K, double>, kv<K, std::string>
using Pairs = ::testing::Types<SHMDS_PAIRS_(std::int16_t), SHMDS_PAIRS_(std::int32_t),
                               SHMDS_PAIRS_(std::int64_t), SHMDS_PAIRS_(std::string)>;
#undef SHMDS_PAIRS_
TYPED_TEST_SUITE(HashMapCpp, Pairs, PairNames);

template <class P>
class HashMapCppIter : public HashMapCpp<P> {};
TYPED_TEST_SUITE(HashMapCppIter, Pairs, PairNames);

// An arena roomy enough for every test's bytes (0 for an integer-only map).
template <class K, class V>
std::uint64_t bytes_arena() {
    return std::is_same_v<K, std::string> || std::is_same_v<V, std::string> ? 1 << 20 : 0;
}

// The shmds_type_t a C caller would name for T.
template <class T>
int c_type() {
    if constexpr (std::is_same_v<T, std::string>) return SHMDS_TYPE_BYTES;
    if constexpr (std::is_same_v<T, double>) return SHMDS_TYPE_F64;
    if constexpr (sizeof(T) == 2) return SHMDS_TYPE_INT16;
    if constexpr (sizeof(T) == 4) return SHMDS_TYPE_INT32;
    return SHMDS_TYPE_INT64;
}

}  // namespace

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

// ------------------------------------------------------------ TTL and eviction

namespace {

// A clock the test steps: the map reads it through set_clock().
std::uint64_t stepped_now(void *ctx) { return *static_cast<std::uint64_t *>(ctx); }

}  // namespace

TYPED_TEST(HashMapCppIter, TtlMembersExpireWithAnInjectedClock) {
    using Map = typename TestFixture::Map;
    const auto k = TestFixture::k, v = TestFixture::v;
    auto cfg = Map::config(100);
    cfg.arena_bytes = bytes_arena<typename TestFixture::K, typename TestFixture::V>();
    cfg.default_ttl_ms = 1000;
    auto m = Map::create(shmds::backing::anonymous(), cfg);
    std::uint64_t now = 1'700'000'000'000;
    m.set_clock(stepped_now, &now);

    m.put(k(1), v(1));  // the map's default: 1000 ms
    m.put_ttl(k(2), v(2), 5000);
    m.put_ttl(k(3), v(3), 0);  // never expires
    EXPECT_FALSE(m.add_ttl(k(2), v(9), 10)) << "present";
    EXPECT_TRUE(m.add_ttl(k(4), v(4), 300));
    EXPECT_FALSE(m.update_ttl(k(5), v(5), 10)) << "absent";
    EXPECT_EQ(std::optional<std::uint64_t>(1000), m.ttl_remaining(k(1)));
    EXPECT_EQ(std::optional<std::uint64_t>(0), m.ttl_remaining(k(3)));
    EXPECT_EQ(std::nullopt, m.ttl_remaining(k(5)));
    auto got = m.get_with_ttl(k(2));
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(v(2), got->first);
    EXPECT_EQ(5000u, got->second);
    EXPECT_EQ(std::nullopt, m.get_with_ttl(k(5)));

    now += 400;  // k(4) expired
    EXPECT_EQ(std::nullopt, m.get(k(4)));
    EXPECT_FALSE(m.touch(k(4)));
    EXPECT_TRUE(m.touch(k(1))) << "restarts at now + the default";
    EXPECT_EQ(std::optional<std::uint64_t>(1000), m.ttl_remaining(k(1)));
    EXPECT_TRUE(m.update_ttl(k(2), v(7), 100));
    EXPECT_EQ(std::optional(v(7)), m.get(k(2)));
    EXPECT_TRUE(m.set_ttl(k(3), 50));
    EXPECT_TRUE(m.persist(k(1)));
    EXPECT_FALSE(m.persist(k(5)));
    EXPECT_FALSE(m.set_ttl(k(5), 1));

    now += 200;  // k(2) and k(3) expired; k(1) persists
    EXPECT_EQ(std::nullopt, m.get(k(2)));
    EXPECT_EQ(std::nullopt, m.get_with_ttl(k(3)));
    EXPECT_EQ(std::optional(v(1)), m.get(k(1)));
    // touch(k(4)) is a writer and may already have reclaimed k(4): the flush takes the rest.
    const std::uint64_t flushed = m.flush_expired();
    EXPECT_GE(flushed, 2u);
    EXPECT_LE(flushed, 3u);
    EXPECT_EQ(1u, m.size());
    EXPECT_EQ(3u, m.stats().expirations) << "k(2), k(3), k(4)";

    m.put_ttl(k(6), v(6), 10);
    now += 20;
    std::uint64_t removed = 0;
    bool done = false;
    for (int i = 0; i < 1000 && !done; ++i) {
        auto [n, finished] = m.flush_expired_partial(8);
        removed += n;
        done = finished;
    }
    EXPECT_TRUE(done);
    EXPECT_EQ(1u, removed);
    expect_error(-EINVAL, [&] { m.flush_expired_partial(0); });
    expect_error(-ERANGE, [&] { m.put_ttl(k(7), v(7), SHMDS_HASHMAP_MAX_TTL_MS + 1); });
    m.set_clock(nullptr, nullptr);  // back to CLOCK_REALTIME: k(1) still never expires
    EXPECT_EQ(std::optional(v(1)), m.get(k(1)));
}

TYPED_TEST(HashMapCppIter, EvictionMembersFollowTheSieveOrder) {
    using Map = typename TestFixture::Map;
    const auto k = TestFixture::k, v = TestFixture::v;
    auto cfg = Map::config(3);
    cfg.arena_bytes = bytes_arena<typename TestFixture::K, typename TestFixture::V>();
    cfg.flags = SHMDS_HASHMAP_EVICT;
    auto m = Map::create(shmds::backing::anonymous(), cfg);
    EXPECT_EQ(std::nullopt, m.pop()) << "empty";
    EXPECT_EQ(std::nullopt, m.shift());
    m.put(k(1), v(1));
    m.put(k(2), v(2));
    m.put(k(3), v(3));
    m.put(k(4), v(4));  // evicts k(1)
    EXPECT_FALSE(m.exists(k(1)));
    EXPECT_TRUE(m.get(k(2)).has_value());
    m.put(k(5), v(5));  // k(2) was read: k(3) goes
    EXPECT_FALSE(m.exists(k(3)));
    EXPECT_EQ(2u, m.stats().evictions);

    // Left, oldest first: 2 (its mark cleared by the walk), 4, 5, with the hand past 3's
    // place at 4: pop takes 4, shift the newest (5), and drain what is left (2).
    auto popped = m.pop();
    ASSERT_TRUE(popped.has_value());
    EXPECT_EQ(k(4), popped->first);
    EXPECT_EQ(v(4), popped->second);
    auto newest = m.shift();
    ASSERT_TRUE(newest.has_value());
    EXPECT_EQ(k(5), newest->first);
    EXPECT_EQ(v(5), newest->second);
    EXPECT_EQ(std::optional(v(2)), m.get(k(2)));
    const auto rest = m.drain(10);
    ASSERT_EQ(1u, rest.size());
    EXPECT_EQ(k(2), rest[0].first);
    EXPECT_EQ(v(2), rest[0].second);
    EXPECT_EQ(0u, m.size());
    EXPECT_TRUE(m.drain(10).empty()) << "an empty map drains nothing";
    m.put(k(6), v(6));
    EXPECT_EQ(1u, m.discard(10));
    EXPECT_EQ(0u, m.size());

    auto plain = Map::create(shmds::backing::anonymous(), 3, 0,
                             bytes_arena<typename TestFixture::K, typename TestFixture::V>());
    expect_error(-EINVAL, [&] { plain.pop(); });
    expect_error(-EINVAL, [&] { plain.drain(1); });
    expect_error(-EINVAL, [&] { plain.drain(0); });
    expect_error(-EINVAL, [&] { plain.discard(1); });
}

// drain returns the entries in the order n pops would, over several C calls (1024 per
// call) and with long bytes that make the veneer grow its buffers.
TYPED_TEST(HashMapCppIter, DrainReturnsTheEntriesInEvictionOrder) {
    using Map = typename TestFixture::Map;
    using Pair = std::pair<typename TestFixture::K, typename TestFixture::V>;
    const auto k = TestFixture::k, v = TestFixture::v;
    auto cfg = Map::config(3000);
    cfg.arena_bytes = bytes_arena<typename TestFixture::K, typename TestFixture::V>();
    cfg.flags = SHMDS_HASHMAP_EVICT;
    auto a = Map::create(shmds::backing::anonymous(), cfg);
    auto b = Map::create(shmds::backing::anonymous(), cfg);
    for (int i = 1; i <= 2500; ++i) {
        a.put(k(i), v(i));
        b.put(k(i), v(i));
    }
    for (int i = 1; i <= 2500; i += 7) {  // marks, so the order is not the insertion order
        (void)a.get(k(i));
        (void)b.get(k(i));
    }
    std::vector<Pair> popped;
    for (int i = 0; i < 2100; ++i) popped.push_back(*b.pop());
    const auto drained = a.drain(2100);
    ASSERT_EQ(popped.size(), drained.size());
    EXPECT_TRUE(popped == drained) << "drain must return what 2100 pops return, in order";
    EXPECT_NE(k(1), drained[0].first) << "1 was marked: the walk passes it";
    EXPECT_EQ(400u, a.size());
    EXPECT_EQ(400u, a.drain(1000).size()) << "fewer when the map empties";
    EXPECT_TRUE(a.empty());
}

TEST(HashMapCppEviction, DrainGrowsItsBuffersForLongEntries) {
    using Map = shmds::hash_map<std::string, std::string>;
    auto cfg = Map::config(8);
    cfg.flags = SHMDS_HASHMAP_EVICT;
    cfg.arena_bytes = 1 << 20;
    auto m = Map::create(shmds::backing::anonymous(), cfg);
    const std::string long_key(300, '\xff'), long_value(100000, '\0');
    m.put("a", "x");
    m.put(long_key, long_value);
    m.put("c", std::string(70, 'y'));
    const auto all = m.drain(8);
    ASSERT_EQ(3u, all.size());
    EXPECT_EQ("a", all[0].first);
    EXPECT_EQ(long_key, all[1].first);
    EXPECT_EQ(long_value, all[1].second);
    EXPECT_EQ(std::string(70, 'y'), all[2].second);
}

// max_entries() and frozen() are gauges: they must not run the stats' pass over the
// tables. With every page of the live tables made inaccessible (in a child), stats()
// faults while the gauges answer.
TEST(HashMapCppGauges, MaxEntriesAndFrozenDoNotReadTheTables) {
    using Map = shmds::hash_map<std::int64_t, std::int64_t>;
    TempPath path("hmgauges");
    auto m = Map::create(shmds::backing::path(path.str()), 1000);
    for (int i = 0; i < 500; ++i) m.put(i, i);
    const auto st = m.stats();
    ASSERT_EQ(1000u, st.max_entries);
    auto run = [&](bool with_stats) {
        return fork_child([&] {
            const std::string tail = path.str();
            // Find this process's mapping of the map's file and close every page of it
            // after the first (the header and MapControl, where the frozen word lives);
            // the tables' entries lie past it.
            FILE *maps = std::fopen("/proc/self/maps", "r");
            char line[4096];
            std::uintptr_t lo = 0, hi = 0;
            while (maps && std::fgets(line, sizeof line, maps)) {
                std::string l(line);
                if (!l.empty() && l.back() == '\n') l.pop_back();
                if (l.size() >= tail.size() && l.compare(l.size() - tail.size(), tail.size(), tail) == 0) {
                    std::sscanf(line, "%lx-%lx", &lo, &hi);
                    break;
                }
            }
            if (maps) std::fclose(maps);
            if (!lo) return 3;
            const std::uintptr_t page = std::uintptr_t(sysconf(_SC_PAGESIZE));
            const std::uintptr_t from = lo + page;
            if (hi <= from || mprotect(reinterpret_cast<void *>(from), hi - from, PROT_NONE) != 0)
                return 4;
            if (m.max_entries() != 1000 || m.frozen()) return 5;
            if (with_stats) (void)m.stats();  // max_probe reads every entry: faults
            return 0;
        });
    };
    const ChildExit gauges = wait_child(run(false), std::chrono::seconds(10));
    EXPECT_TRUE(gauges.exited && gauges.code == 0) << gauges.describe();
    const ChildExit stats = wait_child(run(true), std::chrono::seconds(10));
    EXPECT_EQ(SIGSEGV, stats.signal) << stats.describe() << ": the control case must fault";
    m.freeze();
    EXPECT_TRUE(m.frozen());
    EXPECT_EQ(1000u, m.max_entries());
    Map moved = std::move(m);
    EXPECT_FALSE(m.frozen());  // NOLINT(bugprone-use-after-move): a moved-from map reads 0
    EXPECT_EQ(0u, m.max_entries());  // NOLINT(bugprone-use-after-move)
}

TEST(HashMapCppEviction, LongBytesEntriesComeBackWholeFromPopAndShift) {
    using Map = shmds::hash_map<std::string, std::string>;
    auto cfg = Map::config(8);
    cfg.flags = SHMDS_HASHMAP_EVICT;
    cfg.arena_bytes = 1 << 20;
    auto m = Map::create(shmds::backing::anonymous(), cfg);
    const std::string long_key(300, '\xff'), long_value(100000, '\0');
    m.put(long_key, long_value);
    m.put("b", "short");
    auto first = m.pop();
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(long_key, first->first);
    EXPECT_EQ(long_value, first->second);
    auto last = m.shift();
    ASSERT_TRUE(last.has_value());
    EXPECT_EQ("b", last->first);
    EXPECT_EQ("short", last->second);
}

TEST(HashMapCppEviction, CreateFromAConfigOfOtherTypesIsRefused) {
    auto cfg = shmds::hash_map<std::int64_t, std::int32_t>::config(8);
    expect_error(SHMDS_ETYPE, [&] {
        shmds::hash_map<std::int64_t, std::int64_t>::create(shmds::backing::anonymous(), cfg);
    });
}
