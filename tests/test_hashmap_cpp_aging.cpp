// The C++ hash_map's TTL and eviction members over every (K, V) pair: expiry with an
// injected clock, the SIEVE order of pop/shift/drain, drain's growing buffers, and the
// cheap gauges.
#include "hashmap_cpp_support.hpp"

SHMDS_EVERY_VALUE_OF_KEY(std::string)

using namespace shmds::test;
using namespace shmds::test::hashmap_cpp;
using namespace std::chrono_literals;

template <class P>
class HashMapCppAging : public HashMapCpp<P> {};
TYPED_TEST_SUITE(HashMapCppAging, Pairs, PairNames);

// ------------------------------------------------------------ TTL and eviction

namespace {

// A clock the test steps: the map reads it through set_clock().
std::uint64_t stepped_now(void *ctx) { return *static_cast<std::uint64_t *>(ctx); }

}  // namespace

TYPED_TEST(HashMapCppAging, TtlMembersExpireWithAnInjectedClock) {
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

TYPED_TEST(HashMapCppAging, EvictionMembersFollowTheSieveOrder) {
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
TYPED_TEST(HashMapCppAging, DrainReturnsTheEntriesInEvictionOrder) {
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
            exit_on_fault();
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
    EXPECT_TRUE(stats.exited && stats.code == kFaultExit) << stats.describe() << ": the control case must fault";
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
