// The queue through its public C API, one behaviour per test: every verb of every
// variant and every return code that queue.h documents. Blocking and timeouts live in
// test_queue_blocking.cpp, the C++ veneer in test_queue_cpp.cpp; stress, oracle and
// crash tests have suites of their own.
#include "support/damaged_lock.hpp"
#include "support/proc.hpp"

#include "queue/layout.hpp"  // the hostile-peer test needs to know where descriptors live

#include <shmds/queue.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <memory>
#include <poll.h>
#include <random>
#include <string>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace shmds::test;

namespace {

struct QueueCloser {
    void operator()(shmds_queue_t *q) const noexcept { shmds_queue_close(q); }
};
using QueuePtr = std::unique_ptr<shmds_queue_t, QueueCloser>;

shmds_queue_config_t config(int variant, std::uint64_t capacity, std::uint64_t arena = 0) {
    shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(variant, capacity);
    cfg.arena_bytes = arena;
    return cfg;
}

// A new queue, or a test failure that carries the library's sentence.
QueuePtr make_queue(int variant, std::uint64_t capacity, std::uint64_t arena = 0,
                    const shmds_options_t *opts = nullptr) {
    shmds_queue_config_t cfg = config(variant, capacity, arena);
    shmds_queue_t *q = nullptr;
    int rc = shmds_queue_create(opts, &cfg, &q);
    EXPECT_EQ(0, rc) << shmds_errname(rc) << ": " << shmds_last_error();
    return QueuePtr(q);
}

shmds_options_t path_options(const TempPath &p, std::uint32_t flags = 0) {
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = p.c_str();
    o.flags = flags;
    return o;
}

shmds_queue_stats_t stats_of(shmds_queue_t *q) {
    shmds_queue_stats_t s{};
    s.struct_size = sizeof s;
    int rc = shmds_queue_stats(q, &s);
    EXPECT_EQ(0, rc) << shmds_last_error();
    return s;
}

std::uint64_t arena_units(std::size_t len) { return len ? (len + 7) / 8 * 8 : 8; }

// ---------------------------------------------------------------- variant adapters
// The verbs of one variant family behind one interface, so each behaviour is written
// once and checked on every variant. All calls are non-blocking.

template <int V>
struct IntVariant {
    using Item = std::int64_t;
    static constexpr int variant = V;
    // Distinct values of both signs that every width stores.
    static Item item(int i) { return (i % 2 ? -1 : 1) * std::int64_t(1000 + 7 * i); }
    static int push(shmds_queue_t *q, const Item &v) {
        return shmds_queue_push_int(q, v, SHMDS_NOWAIT);
    }
    static int pop(shmds_queue_t *q, Item *out) {
        return shmds_queue_pop_int(q, out, SHMDS_NOWAIT);
    }
    static int peek(shmds_queue_t *q, Item *out) { return shmds_queue_peek_int(q, out); }
    static int push_multi(shmds_queue_t *q, const std::vector<Item> &v, std::size_t *pushed) {
        return shmds_queue_push_multi_int(q, v.data(), v.size(), pushed, SHMDS_NOWAIT);
    }
    static int pop_multi(shmds_queue_t *q, std::size_t max, std::vector<Item> &out) {
        out.assign(max, 0);
        std::size_t got = 0;
        int rc = shmds_queue_pop_multi_int(q, out.data(), max, &got, SHMDS_NOWAIT);
        out.resize(got);
        return rc;
    }
    static int drain(shmds_queue_t *q, std::size_t max, std::vector<Item> &out) {
        out.assign(max, 0);
        std::size_t got = 0;
        int rc = shmds_queue_drain_int(q, out.data(), max, &got);
        out.resize(got);
        return rc;
    }
};

struct BytesVariant {
    using Item = std::string;
    static constexpr int variant = SHMDS_QUEUE_BYTES;
    // Lengths from 2 up, contents with NUL and high bytes.
    static Item item(int i) {
        std::string s(std::size_t(i % 5) * 3, '\0');
        for (std::size_t k = 0; k < s.size(); ++k) s[k] = char(i * 31 + int(k));
        return s + "#" + std::to_string(i);
    }
    static int push(shmds_queue_t *q, const Item &v) {
        return shmds_queue_push_bytes(q, v.data(), v.size(), SHMDS_NOWAIT);
    }
    static int pop(shmds_queue_t *q, Item *out) {
        char buf[256];
        std::size_t len = 0;
        int rc = shmds_queue_pop_bytes(q, buf, sizeof buf, &len, SHMDS_NOWAIT);
        if (rc == 0) out->assign(buf, len);
        return rc;
    }
    static int peek(shmds_queue_t *q, Item *out) {
        char buf[256];
        std::size_t len = 0;
        int rc = shmds_queue_peek_bytes(q, buf, sizeof buf, &len);
        if (rc == 0) out->assign(buf, len);
        return rc;
    }
    static int push_multi(shmds_queue_t *q, const std::vector<Item> &v, std::size_t *pushed) {
        std::vector<const void *> datas;
        std::vector<std::size_t> lens;
        for (const auto &s : v) {
            datas.push_back(s.data());
            lens.push_back(s.size());
        }
        return shmds_queue_push_multi_bytes(q, datas.data(), lens.data(), v.size(), pushed,
                                            SHMDS_NOWAIT);
    }
    static int pop_multi(shmds_queue_t *q, std::size_t max, std::vector<Item> &out) {
        return unpack(max, out, [&](char *buf, std::size_t size, std::size_t *lens,
                                    std::size_t *got) {
            return shmds_queue_pop_multi_bytes(q, buf, size, lens, max, got, SHMDS_NOWAIT);
        });
    }
    static int drain(shmds_queue_t *q, std::size_t max, std::vector<Item> &out) {
        return unpack(max, out, [&](char *buf, std::size_t size, std::size_t *lens,
                                    std::size_t *got) {
            return shmds_queue_drain_bytes(q, buf, size, lens, max, got);
        });
    }

    template <typename F>
    static int unpack(std::size_t max, std::vector<Item> &out, F &&call) {
        std::vector<char> buf(64 * 1024);
        std::vector<std::size_t> lens(max + 1);
        std::size_t got = 0;
        int rc = call(buf.data(), buf.size(), lens.data(), &got);
        out.clear();
        std::size_t at = 0;
        for (std::size_t i = 0; i < got; ++i) {
            out.emplace_back(buf.data() + at, lens[i]);
            at += lens[i];
        }
        return rc;
    }
};

template <typename V>
std::vector<typename V::Item> items(int from, int to) {
    std::vector<typename V::Item> v;
    for (int i = from; i < to; ++i) v.push_back(V::item(i));
    return v;
}

template <typename V>
class QueueVerbs : public ::testing::Test {};

struct VariantNames {
    template <typename V>
    static std::string GetName(int) {
        switch (V::variant) {
            case SHMDS_QUEUE_INT16: return "Int16";
            case SHMDS_QUEUE_INT32: return "Int32";
            case SHMDS_QUEUE_INT64: return "Int64";
            default: return "Bytes";
        }
    }
};

using AllVariants = ::testing::Types<IntVariant<SHMDS_QUEUE_INT16>, IntVariant<SHMDS_QUEUE_INT32>,
                                     IntVariant<SHMDS_QUEUE_INT64>, BytesVariant>;
TYPED_TEST_SUITE(QueueVerbs, AllVariants, VariantNames);

}  // namespace

// ------------------------------------------------------------ every variant's verbs

TYPED_TEST(QueueVerbs, CapacityRoundsUpToAPowerOfTwo) {
    using V = TypeParam;
    const std::uint64_t cases[][2] = {{1, 2}, {2, 2}, {5, 8}, {1000, 1024}, {1024, 1024}};
    for (const auto &c : cases) {
        QueuePtr q = make_queue(V::variant, c[0]);
        ASSERT_TRUE(q);
        EXPECT_EQ(c[1], shmds_queue_capacity(q.get())) << "asked for " << c[0];
        EXPECT_EQ(c[1], stats_of(q.get()).capacity);
        EXPECT_EQ(V::variant, shmds_queue_variant(q.get()));
    }
}

TYPED_TEST(QueueVerbs, PushPopIsFifo) {
    using V = TypeParam;
    QueuePtr q = make_queue(V::variant, 16);
    ASSERT_TRUE(q);
    for (int i = 0; i < 10; ++i) ASSERT_EQ(0, V::push(q.get(), V::item(i)));
    EXPECT_EQ(10u, shmds_queue_size(q.get()));
    for (int i = 0; i < 10; ++i) {
        typename V::Item got{};
        ASSERT_EQ(0, V::pop(q.get(), &got));
        EXPECT_EQ(V::item(i), got) << "position " << i;
    }
    // Several laps around the ring keep the order.
    for (int lap = 0; lap < 5; ++lap) {
        for (int i = 0; i < 16; ++i) ASSERT_EQ(0, V::push(q.get(), V::item(lap * 16 + i)));
        for (int i = 0; i < 16; ++i) {
            typename V::Item got{};
            ASSERT_EQ(0, V::pop(q.get(), &got));
            ASSERT_EQ(V::item(lap * 16 + i), got);
        }
    }
}

TYPED_TEST(QueueVerbs, PushToFullIsEagainAndKeepsTheContents) {
    using V = TypeParam;
    QueuePtr q = make_queue(V::variant, 8);
    ASSERT_TRUE(q);
    for (int i = 0; i < 8; ++i) ASSERT_EQ(0, V::push(q.get(), V::item(i)));
    EXPECT_EQ(-EAGAIN, V::push(q.get(), V::item(99)));
    EXPECT_STRNE("", shmds_last_error());
    EXPECT_EQ(8u, shmds_queue_size(q.get()));
    for (int i = 0; i < 8; ++i) {
        typename V::Item got{};
        ASSERT_EQ(0, V::pop(q.get(), &got));
        EXPECT_EQ(V::item(i), got);
    }
}

TYPED_TEST(QueueVerbs, PopEmptyIsEagain) {
    using V = TypeParam;
    QueuePtr q = make_queue(V::variant, 4);
    ASSERT_TRUE(q);
    typename V::Item got{};
    EXPECT_EQ(-EAGAIN, V::pop(q.get(), &got));
    ASSERT_EQ(0, V::push(q.get(), V::item(1)));
    ASSERT_EQ(0, V::pop(q.get(), &got));
    EXPECT_EQ(-EAGAIN, V::pop(q.get(), &got));
}

TYPED_TEST(QueueVerbs, PushMultiIsPartialWhenOnlySomeFit) {
    using V = TypeParam;
    QueuePtr q = make_queue(V::variant, 2);
    ASSERT_TRUE(q);
    std::size_t pushed = 99;
    EXPECT_EQ(-EAGAIN, V::push_multi(q.get(), items<V>(0, 5), &pushed));
    EXPECT_EQ(2u, pushed);
    EXPECT_EQ(2u, shmds_queue_size(q.get()));
    std::vector<typename V::Item> got;
    ASSERT_EQ(0, V::drain(q.get(), 10, got));
    EXPECT_EQ(items<V>(0, 2), got);

    QueuePtr roomy = make_queue(V::variant, 8);
    ASSERT_TRUE(roomy);
    EXPECT_EQ(0, V::push_multi(roomy.get(), items<V>(0, 5), &pushed));
    EXPECT_EQ(5u, pushed);
    EXPECT_EQ(0, V::push_multi(roomy.get(), {}, &pushed));
    EXPECT_EQ(0u, pushed);
}

TYPED_TEST(QueueVerbs, PopMultiTakesUpToN) {
    using V = TypeParam;
    QueuePtr q = make_queue(V::variant, 8);
    ASSERT_TRUE(q);
    std::size_t pushed = 0;
    ASSERT_EQ(0, V::push_multi(q.get(), items<V>(0, 5), &pushed));
    std::vector<typename V::Item> got;
    ASSERT_EQ(0, V::pop_multi(q.get(), 3, got));
    EXPECT_EQ(items<V>(0, 3), got);
    ASSERT_EQ(0, V::pop_multi(q.get(), 10, got));
    EXPECT_EQ(items<V>(3, 5), got);
    EXPECT_EQ(-EAGAIN, V::pop_multi(q.get(), 10, got));
    EXPECT_TRUE(got.empty());
    EXPECT_EQ(0, V::pop_multi(q.get(), 0, got));
    EXPECT_TRUE(got.empty());
}

TYPED_TEST(QueueVerbs, DrainTakesWhatIsThereAndZeroWhenEmpty) {
    using V = TypeParam;
    QueuePtr q = make_queue(V::variant, 8);
    ASSERT_TRUE(q);
    std::vector<typename V::Item> got;
    EXPECT_EQ(0, V::drain(q.get(), 10, got));
    EXPECT_TRUE(got.empty());
    std::size_t pushed = 0;
    ASSERT_EQ(0, V::push_multi(q.get(), items<V>(0, 5), &pushed));
    ASSERT_EQ(0, V::drain(q.get(), 2, got));
    EXPECT_EQ(items<V>(0, 2), got);
    ASSERT_EQ(0, V::drain(q.get(), 10, got));
    EXPECT_EQ(items<V>(2, 5), got);
    EXPECT_EQ(1, shmds_queue_is_empty(q.get()));
}

TYPED_TEST(QueueVerbs, PeekDoesNotConsume) {
    using V = TypeParam;
    QueuePtr q = make_queue(V::variant, 4);
    ASSERT_TRUE(q);
    typename V::Item got{};
    EXPECT_EQ(-EAGAIN, V::peek(q.get(), &got));
    ASSERT_EQ(0, V::push(q.get(), V::item(1)));
    ASSERT_EQ(0, V::push(q.get(), V::item(2)));
    for (int i = 0; i < 2; ++i) {
        ASSERT_EQ(0, V::peek(q.get(), &got));
        EXPECT_EQ(V::item(1), got);
    }
    EXPECT_EQ(2u, shmds_queue_size(q.get()));
    ASSERT_EQ(0, V::pop(q.get(), &got));
    EXPECT_EQ(V::item(1), got);
    ASSERT_EQ(0, V::peek(q.get(), &got));
    EXPECT_EQ(V::item(2), got);
}

TYPED_TEST(QueueVerbs, GaugesFollowTheContents) {
    using V = TypeParam;
    QueuePtr q = make_queue(V::variant, 4);
    ASSERT_TRUE(q);
    EXPECT_EQ(4u, shmds_queue_capacity(q.get()));
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(std::uint64_t(i), shmds_queue_size(q.get()));
        EXPECT_EQ(i == 0 ? 1 : 0, shmds_queue_is_empty(q.get()));
        EXPECT_EQ(0, shmds_queue_is_full(q.get()));
        ASSERT_EQ(0, V::push(q.get(), V::item(i)));
    }
    EXPECT_EQ(4u, shmds_queue_size(q.get()));
    EXPECT_EQ(1, shmds_queue_is_full(q.get()));
    EXPECT_EQ(0, shmds_queue_is_empty(q.get()));
    typename V::Item got{};
    ASSERT_EQ(0, V::pop(q.get(), &got));
    EXPECT_EQ(3u, shmds_queue_size(q.get()));
    EXPECT_EQ(0, shmds_queue_is_full(q.get()));
}

TYPED_TEST(QueueVerbs, ClearRemovesEverythingAndReportsHowMany) {
    using V = TypeParam;
    QueuePtr q = make_queue(V::variant, 8);
    ASSERT_TRUE(q);
    std::uint64_t removed = 99;
    EXPECT_EQ(0, shmds_queue_clear(q.get(), &removed));
    EXPECT_EQ(0u, removed);
    std::size_t pushed = 0;
    ASSERT_EQ(0, V::push_multi(q.get(), items<V>(0, 5), &pushed));
    EXPECT_EQ(0, shmds_queue_clear(q.get(), &removed));
    EXPECT_EQ(5u, removed);
    EXPECT_EQ(1, shmds_queue_is_empty(q.get()));
    typename V::Item got{};
    EXPECT_EQ(-EAGAIN, V::pop(q.get(), &got));
    // The queue works as new afterwards, and `removed` is optional.
    ASSERT_EQ(0, V::push_multi(q.get(), items<V>(10, 18), &pushed));
    ASSERT_EQ(0, V::pop(q.get(), &got));
    EXPECT_EQ(V::item(10), got);
    EXPECT_EQ(0, shmds_queue_clear(q.get(), nullptr));
    EXPECT_EQ(0u, shmds_queue_size(q.get()));
}

TYPED_TEST(QueueVerbs, StatsCountEveryOutcome) {
    using V = TypeParam;
    TempPath path("qstats");
    shmds_options_t opts = path_options(path);
    QueuePtr q = make_queue(V::variant, 2, 0, &opts);
    ASSERT_TRUE(q);
    shmds_queue_stats_t s = stats_of(q.get());
    EXPECT_EQ(0u, s.size);
    EXPECT_EQ(2u, s.capacity);
    EXPECT_EQ(0u, s.push_ok + s.pop_ok + s.push_full + s.pop_empty + s.recoveries);
    EXPECT_EQ(0u, s.push_waiters + s.pop_waiters);
    struct stat st;
    ASSERT_EQ(0, stat(path.c_str(), &st));
    EXPECT_EQ(std::uint64_t(st.st_size), s.segment_bytes);

    typename V::Item got{};
    ASSERT_EQ(0, V::push(q.get(), V::item(0)));
    ASSERT_EQ(0, V::push(q.get(), V::item(1)));
    EXPECT_EQ(-EAGAIN, V::push(q.get(), V::item(2)));
    s = stats_of(q.get());
    EXPECT_EQ(2u, s.size);
    EXPECT_EQ(2u, s.push_ok);
    EXPECT_EQ(1u, s.push_full);
    if constexpr (V::variant == SHMDS_QUEUE_BYTES) {
        EXPECT_EQ(4096u, s.arena_capacity);  // 2 * 256 raised to the 4 KiB minimum
        EXPECT_EQ(arena_units(V::item(0).size()) + arena_units(V::item(1).size()), s.arena_used);
    } else {
        EXPECT_EQ(0u, s.arena_capacity);
        EXPECT_EQ(0u, s.arena_used);
    }

    ASSERT_EQ(0, V::pop(q.get(), &got));
    ASSERT_EQ(0, V::pop(q.get(), &got));
    EXPECT_EQ(-EAGAIN, V::pop(q.get(), &got));
    std::size_t pushed = 0;
    EXPECT_EQ(-EAGAIN, V::push_multi(q.get(), items<V>(3, 6), &pushed));
    ASSERT_EQ(2u, pushed);
    std::uint64_t removed = 0;
    ASSERT_EQ(0, shmds_queue_clear(q.get(), &removed));
    ASSERT_EQ(2u, removed);

    s = stats_of(q.get());
    EXPECT_EQ(0u, s.size);
    EXPECT_EQ(4u, s.push_ok);
    EXPECT_EQ(2u, s.pop_ok) << "clear() must not count as pops";
    EXPECT_EQ(2u, s.push_full);
    EXPECT_EQ(1u, s.pop_empty);
    EXPECT_EQ(0u, s.recoveries);
    EXPECT_EQ(0u, s.arena_used);
}

TYPED_TEST(QueueVerbs, StatsAcceptALargerStructAndRefuseASmallerOne) {
    using V = TypeParam;
    QueuePtr q = make_queue(V::variant, 4);
    ASSERT_TRUE(q);
    // A caller compiled against a later, longer struct still gets the fields it shares.
    struct Longer {
        shmds_queue_stats_t known;
        std::uint64_t future[4];
    } longer{};
    longer.known.struct_size = sizeof longer;
    EXPECT_EQ(0, shmds_queue_stats(q.get(), &longer.known));
    EXPECT_EQ(4u, longer.known.capacity);
    shmds_queue_stats_t s{};
    s.struct_size = offsetof(shmds_queue_stats_t, segment_bytes);
    EXPECT_EQ(-EINVAL, shmds_queue_stats(q.get(), &s));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "struct_size"));
}

TYPED_TEST(QueueVerbs, VerbsOfTheOtherFamilyAreEvariant) {
    using V = TypeParam;
    QueuePtr q = make_queue(V::variant, 4);
    ASSERT_TRUE(q);
    shmds_queue_t *h = q.get();
    std::int64_t v = 1, vals[2] = {1, 2};
    std::size_t n = 0, lens[2] = {1, 1};
    char buf[8] = "x";
    const void *datas[2] = {buf, buf};
    if constexpr (V::variant == SHMDS_QUEUE_BYTES) {
        EXPECT_EQ(SHMDS_EVARIANT, shmds_queue_push_int(h, 1, SHMDS_NOWAIT));
        EXPECT_EQ(SHMDS_EVARIANT, shmds_queue_pop_int(h, &v, SHMDS_NOWAIT));
        EXPECT_EQ(SHMDS_EVARIANT, shmds_queue_peek_int(h, &v));
        EXPECT_EQ(SHMDS_EVARIANT, shmds_queue_push_multi_int(h, vals, 2, &n, SHMDS_NOWAIT));
        EXPECT_EQ(SHMDS_EVARIANT, shmds_queue_pop_multi_int(h, vals, 2, &n, SHMDS_NOWAIT));
        EXPECT_EQ(SHMDS_EVARIANT, shmds_queue_drain_int(h, vals, 2, &n));
        // Even an empty batch is refused: the answer must not depend on n.
        EXPECT_EQ(SHMDS_EVARIANT, shmds_queue_push_multi_int(h, vals, 0, &n, SHMDS_NOWAIT));
        EXPECT_EQ(SHMDS_EVARIANT, shmds_queue_pop_multi_int(h, vals, 0, &n, SHMDS_NOWAIT));
        EXPECT_EQ(SHMDS_EVARIANT, shmds_queue_drain_int(h, vals, 0, &n));
        EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "bytes"));
    } else {
        EXPECT_EQ(SHMDS_EVARIANT, shmds_queue_push_bytes(h, buf, 1, SHMDS_NOWAIT));
        EXPECT_EQ(SHMDS_EVARIANT, shmds_queue_push_front_bytes(h, buf, 1, SHMDS_NOWAIT));
        EXPECT_EQ(SHMDS_EVARIANT, shmds_queue_pop_bytes(h, buf, sizeof buf, &n, SHMDS_NOWAIT));
        EXPECT_EQ(SHMDS_EVARIANT,
                  shmds_queue_pop_back_bytes(h, buf, sizeof buf, &n, SHMDS_NOWAIT));
        EXPECT_EQ(SHMDS_EVARIANT, shmds_queue_peek_bytes(h, buf, sizeof buf, &n));
        EXPECT_EQ(SHMDS_EVARIANT,
                  shmds_queue_push_multi_bytes(h, datas, lens, 2, &n, SHMDS_NOWAIT));
        EXPECT_EQ(SHMDS_EVARIANT,
                  shmds_queue_pop_multi_bytes(h, buf, sizeof buf, lens, 2, &n, SHMDS_NOWAIT));
        EXPECT_EQ(SHMDS_EVARIANT, shmds_queue_drain_bytes(h, buf, sizeof buf, lens, 2, &n));
        EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "_int verbs"));
    }
    EXPECT_EQ(0u, shmds_queue_size(h));
}

TYPED_TEST(QueueVerbs, TimeoutBelowMinusOneIsEinval) {
    using V = TypeParam;
    QueuePtr q = make_queue(V::variant, 4);
    ASSERT_TRUE(q);
    shmds_queue_t *h = q.get();
    std::int64_t v = 0, vals[1] = {1};
    std::size_t n = 0, lens[1] = {1};
    char buf[8] = "x";
    const void *datas[1] = {buf};
    for (std::int64_t bad : {std::int64_t(-2), INT64_MIN}) {
        if constexpr (V::variant == SHMDS_QUEUE_BYTES) {
            EXPECT_EQ(-EINVAL, shmds_queue_push_bytes(h, buf, 1, bad));
            EXPECT_EQ(-EINVAL, shmds_queue_push_front_bytes(h, buf, 1, bad));
            EXPECT_EQ(-EINVAL, shmds_queue_pop_bytes(h, buf, sizeof buf, &n, bad));
            EXPECT_EQ(-EINVAL, shmds_queue_pop_back_bytes(h, buf, sizeof buf, &n, bad));
            EXPECT_EQ(-EINVAL, shmds_queue_push_multi_bytes(h, datas, lens, 1, &n, bad));
            EXPECT_EQ(-EINVAL, shmds_queue_pop_multi_bytes(h, buf, sizeof buf, lens, 1, &n, bad));
        } else {
            EXPECT_EQ(-EINVAL, shmds_queue_push_int(h, 1, bad));
            EXPECT_EQ(-EINVAL, shmds_queue_pop_int(h, &v, bad));
            EXPECT_EQ(-EINVAL, shmds_queue_push_multi_int(h, vals, 1, &n, bad));
            EXPECT_EQ(-EINVAL, shmds_queue_pop_multi_int(h, vals, 1, &n, bad));
        }
        EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "timeout_ns"));
    }
    EXPECT_EQ(0u, shmds_queue_size(h)) << "a refused push must not push";
}

// The integer verbs' fast path (one attempt before any deadline is built) must still
// refuse a bad timeout when the call would not have to wait: with room, with an item.
TEST(QueueVerbsFastPath, BadTimeoutIsRefusedEvenWhenNoWaitIsNeeded) {
    for (int variant : {SHMDS_QUEUE_INT16, SHMDS_QUEUE_INT32, SHMDS_QUEUE_INT64}) {
        QueuePtr q = make_queue(variant, 4);
        ASSERT_TRUE(q);
        shmds_queue_t *h = q.get();
        ASSERT_EQ(0, shmds_queue_push_int(h, 7, SHMDS_NOWAIT));
        std::int64_t v = -1;
        EXPECT_EQ(-EINVAL, shmds_queue_push_int(h, 8, -2));
        EXPECT_EQ(-EINVAL, shmds_queue_pop_int(h, &v, -2));
        EXPECT_EQ(-1, v) << "a refused pop must not hand out an item";
        EXPECT_EQ(1u, shmds_queue_size(h)) << "a refused call must not push or pop";
        // And a call that needs no wait succeeds with a positive timeout too.
        EXPECT_EQ(0, shmds_queue_push_int(h, 8, 1000000));
        EXPECT_EQ(0, shmds_queue_pop_int(h, &v, 1000000));
        EXPECT_EQ(7, v);
    }
}

// ------------------------------------------------------------------- NULL arguments

TEST(QueueNullArguments, LifecycleAndGauges) {
    shmds_queue_config_t cfg = config(SHMDS_QUEUE_INT64, 4);
    shmds_queue_t *q = nullptr;
    EXPECT_EQ(-EINVAL, shmds_queue_create(nullptr, nullptr, &q));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "cfg is NULL"));
    EXPECT_EQ(-EINVAL, shmds_queue_create(nullptr, &cfg, nullptr));
    EXPECT_EQ(-EINVAL, shmds_queue_open(nullptr, SHMDS_QUEUE_ANY, nullptr));
    shmds_queue_close(nullptr);  // allowed: a no-op
    EXPECT_EQ(-EINVAL, shmds_queue_variant(nullptr));
    EXPECT_EQ(-EINVAL, shmds_queue_fd(nullptr));
    EXPECT_EQ(-EINVAL, shmds_queue_sync(nullptr));
    EXPECT_EQ(0u, shmds_queue_size(nullptr));
    EXPECT_EQ(0u, shmds_queue_capacity(nullptr));
    EXPECT_EQ(-EINVAL, shmds_queue_is_empty(nullptr));
    EXPECT_EQ(-EINVAL, shmds_queue_is_full(nullptr));
    std::uint64_t removed = 0;
    EXPECT_EQ(-EINVAL, shmds_queue_clear(nullptr, &removed));
    shmds_queue_stats_t s{};
    s.struct_size = sizeof s;
    EXPECT_EQ(-EINVAL, shmds_queue_stats(nullptr, &s));
    EXPECT_EQ(-EINVAL, shmds_queue_eventfd(nullptr));
    EXPECT_EQ(-EINVAL, shmds_queue_set_eventfd(nullptr, -1));
    EXPECT_EQ(-EINVAL, shmds_queue_notify(nullptr));
    EXPECT_EQ(-EINVAL, shmds_queue_eventfd_consume(nullptr, &removed));

    QueuePtr real = make_queue(SHMDS_QUEUE_INT64, 4);
    ASSERT_TRUE(real);
    EXPECT_EQ(-EINVAL, shmds_queue_stats(real.get(), nullptr));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "stats is NULL"));
}

TEST(QueueNullArguments, IntegerVerbs) {
    QueuePtr q = make_queue(SHMDS_QUEUE_INT32, 4);
    ASSERT_TRUE(q);
    shmds_queue_t *h = q.get();
    std::int64_t v = 0, vals[2] = {1, 2};
    std::size_t n = 0;
    EXPECT_EQ(-EINVAL, shmds_queue_push_int(nullptr, 1, SHMDS_NOWAIT));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "shmds_queue_push_int: queue is NULL"));
    EXPECT_EQ(-EINVAL, shmds_queue_pop_int(nullptr, &v, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL, shmds_queue_pop_int(h, nullptr, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL, shmds_queue_peek_int(nullptr, &v));
    EXPECT_EQ(-EINVAL, shmds_queue_peek_int(h, nullptr));
    EXPECT_EQ(-EINVAL, shmds_queue_push_multi_int(nullptr, vals, 2, &n, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL, shmds_queue_push_multi_int(h, nullptr, 2, &n, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL, shmds_queue_push_multi_int(h, vals, 2, nullptr, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL, shmds_queue_pop_multi_int(nullptr, vals, 2, &n, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL, shmds_queue_pop_multi_int(h, nullptr, 2, &n, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL, shmds_queue_pop_multi_int(h, vals, 2, nullptr, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL, shmds_queue_drain_int(nullptr, vals, 2, &n));
    EXPECT_EQ(-EINVAL, shmds_queue_drain_int(h, nullptr, 2, &n));
    EXPECT_EQ(-EINVAL, shmds_queue_drain_int(h, vals, 2, nullptr));
    // A zero-length batch needs no array.
    EXPECT_EQ(0, shmds_queue_push_multi_int(h, nullptr, 0, &n, SHMDS_NOWAIT));
    EXPECT_EQ(0, shmds_queue_pop_multi_int(h, nullptr, 0, &n, SHMDS_NOWAIT));
    EXPECT_EQ(0u, shmds_queue_size(h));
}

TEST(QueueNullArguments, BytesVerbs) {
    QueuePtr q = make_queue(SHMDS_QUEUE_BYTES, 4);
    ASSERT_TRUE(q);
    shmds_queue_t *h = q.get();
    char buf[16] = "abc";
    std::size_t n = 0, lens[2] = {3, 3};
    const void *datas[2] = {buf, buf};
    const void *holed[2] = {buf, nullptr};
    EXPECT_EQ(-EINVAL, shmds_queue_push_bytes(nullptr, buf, 3, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL, shmds_queue_push_bytes(h, nullptr, 3, SHMDS_NOWAIT));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "data is NULL"));
    EXPECT_EQ(-EINVAL, shmds_queue_push_front_bytes(nullptr, buf, 3, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL, shmds_queue_push_front_bytes(h, nullptr, 3, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL, shmds_queue_push_multi_bytes(nullptr, datas, lens, 2, &n, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL, shmds_queue_push_multi_bytes(h, nullptr, lens, 2, &n, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL, shmds_queue_push_multi_bytes(h, datas, nullptr, 2, &n, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL, shmds_queue_push_multi_bytes(h, datas, lens, 2, nullptr, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL, shmds_queue_push_multi_bytes(h, holed, lens, 2, &n, SHMDS_NOWAIT));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "datas[1] is NULL"));
    EXPECT_EQ(0u, shmds_queue_size(h)) << "a refused batch must push nothing";

    ASSERT_EQ(0, shmds_queue_push_bytes(h, buf, 3, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL, shmds_queue_pop_bytes(nullptr, buf, sizeof buf, &n, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL, shmds_queue_pop_bytes(h, nullptr, sizeof buf, &n, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL, shmds_queue_pop_bytes(h, buf, sizeof buf, nullptr, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL, shmds_queue_pop_back_bytes(nullptr, buf, sizeof buf, &n, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL, shmds_queue_pop_back_bytes(h, nullptr, sizeof buf, &n, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL, shmds_queue_pop_back_bytes(h, buf, sizeof buf, nullptr, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL, shmds_queue_peek_bytes(nullptr, buf, sizeof buf, &n));
    EXPECT_EQ(-EINVAL, shmds_queue_peek_bytes(h, nullptr, sizeof buf, &n));
    EXPECT_EQ(-EINVAL, shmds_queue_peek_bytes(h, buf, sizeof buf, nullptr));
    EXPECT_EQ(-EINVAL,
              shmds_queue_pop_multi_bytes(nullptr, buf, sizeof buf, lens, 2, &n, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL,
              shmds_queue_pop_multi_bytes(h, nullptr, sizeof buf, lens, 2, &n, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL,
              shmds_queue_pop_multi_bytes(h, buf, sizeof buf, nullptr, 2, &n, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL,
              shmds_queue_pop_multi_bytes(h, buf, sizeof buf, lens, 2, nullptr, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL, shmds_queue_drain_bytes(nullptr, buf, sizeof buf, lens, 2, &n));
    EXPECT_EQ(-EINVAL, shmds_queue_drain_bytes(h, nullptr, sizeof buf, lens, 2, &n));
    EXPECT_EQ(-EINVAL, shmds_queue_drain_bytes(h, buf, sizeof buf, nullptr, 2, &n));
    EXPECT_EQ(-EINVAL, shmds_queue_drain_bytes(h, buf, sizeof buf, lens, 2, nullptr));
    EXPECT_EQ(1u, shmds_queue_size(h)) << "refused pops must consume nothing";

    // An empty message needs neither data nor a buffer.
    ASSERT_EQ(0, shmds_queue_clear(h, nullptr));
    EXPECT_EQ(0, shmds_queue_push_bytes(h, nullptr, 0, SHMDS_NOWAIT));
    EXPECT_EQ(0, shmds_queue_push_front_bytes(h, nullptr, 0, SHMDS_NOWAIT));
    n = 99;
    EXPECT_EQ(0, shmds_queue_peek_bytes(h, nullptr, 0, &n));
    EXPECT_EQ(0u, n);
    n = 99;
    EXPECT_EQ(0, shmds_queue_pop_bytes(h, nullptr, 0, &n, SHMDS_NOWAIT));
    EXPECT_EQ(0u, n);
    std::size_t got = 0;
    EXPECT_EQ(0, shmds_queue_drain_bytes(h, nullptr, 0, lens, 2, &got));
    EXPECT_EQ(1u, got);
    EXPECT_EQ(0u, lens[0]);
}

// ----------------------------------------------------------------- create and open

TEST(QueueCreate, RefusesBadConfigurationsAndLeavesOutUntouched) {
    shmds_queue_t *const sentinel = reinterpret_cast<shmds_queue_t *>(0x1);
    struct Case {
        const char *what;
        shmds_queue_config_t cfg;
        const char *sentence;
    };
    shmds_queue_config_t short_struct = config(SHMDS_QUEUE_INT64, 4);
    short_struct.struct_size = offsetof(shmds_queue_config_t, arena_bytes);
    const Case cases[] = {
        {"struct_size too small", short_struct, "struct_size"},
        {"variant ANY", config(SHMDS_QUEUE_ANY, 4), "variant"},
        {"variant 5", config(5, 4), "variant"},
        {"variant -1", config(-1, 4), "variant"},
        {"capacity 0 int", config(SHMDS_QUEUE_INT16, 0), "capacity"},
        {"capacity 0 bytes", config(SHMDS_QUEUE_BYTES, 0), "capacity"},
        {"capacity 2^30+1 int", config(SHMDS_QUEUE_INT64, (1ull << 30) + 1), "capacity"},
        {"capacity 2^26+1 bytes", config(SHMDS_QUEUE_BYTES, (1ull << 26) + 1), "capacity"},
        {"capacity 2^64-1", config(SHMDS_QUEUE_INT32, UINT64_MAX), "capacity"},
        {"arena on an int queue", config(SHMDS_QUEUE_INT32, 4, 4096), "arena"},
        {"arena of 4 GiB", config(SHMDS_QUEUE_BYTES, 4, 1ull << 32), "arena"},
    };
    for (const Case &c : cases) {
        shmds_queue_t *q = sentinel;
        EXPECT_EQ(-EINVAL, shmds_queue_create(nullptr, &c.cfg, &q)) << c.what;
        EXPECT_EQ(sentinel, q) << c.what;
        EXPECT_NE(nullptr, std::strstr(shmds_last_error(), c.sentence))
            << c.what << ": " << shmds_last_error();
    }
}

TEST(QueueCreate, ArenaIsSettableWithAFloor) {
    const std::uint64_t cases[][2] = {{0, 4096}, {100, 4096}, {5000, 5000}, {5001, 5008}};
    for (const auto &c : cases) {
        QueuePtr q = make_queue(SHMDS_QUEUE_BYTES, 4, c[0]);
        ASSERT_TRUE(q);
        EXPECT_EQ(c[1], stats_of(q.get()).arena_capacity) << "asked for " << c[0];
    }
    QueuePtr big = make_queue(SHMDS_QUEUE_BYTES, 64);
    ASSERT_TRUE(big);
    EXPECT_EQ(64u * 256u, stats_of(big.get()).arena_capacity) << "default is capacity * 256";
}

TEST(QueueOpen, RefusesBadArguments) {
    TempPath path("qopen");
    shmds_options_t opts = path_options(path);
    shmds_queue_t *q = nullptr;
    EXPECT_EQ(-EINVAL, shmds_queue_open(&opts, -1, &q));
    EXPECT_EQ(-EINVAL, shmds_queue_open(&opts, 5, &q));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "variant 5"));
    EXPECT_EQ(-ENOENT, shmds_queue_open(&opts, SHMDS_QUEUE_ANY, &q));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), path.c_str()));
    EXPECT_EQ(-EINVAL, shmds_queue_open(nullptr, SHMDS_QUEUE_ANY, &q));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "anonymous"));
    shmds_options_t memfd = SHMDS_OPTIONS_INIT;
    memfd.backing = SHMDS_BACKING_MEMFD;
    memfd.name = "label";
    EXPECT_EQ(-EINVAL, shmds_queue_open(&memfd, SHMDS_QUEUE_ANY, &q));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "memfd"));
    shmds_options_t short_opts = opts;
    short_opts.struct_size = sizeof(size_t);
    EXPECT_EQ(-EINVAL, shmds_queue_open(&short_opts, SHMDS_QUEUE_ANY, &q));
    EXPECT_EQ(nullptr, q);
}

TEST(QueueOpen, SharesOneQueueAndTheExistingGeometryWins) {
    TempPath path("qshare");
    shmds_options_t opts = path_options(path);
    QueuePtr a = make_queue(SHMDS_QUEUE_INT32, 8, 0, &opts);
    ASSERT_TRUE(a);
    QueuePtr b = make_queue(SHMDS_QUEUE_INT32, 1000, 0, &opts);  // attaches
    ASSERT_TRUE(b);
    EXPECT_EQ(8u, shmds_queue_capacity(b.get()));
    shmds_queue_t *raw = nullptr;
    ASSERT_EQ(0, shmds_queue_open(&opts, SHMDS_QUEUE_ANY, &raw)) << shmds_last_error();
    QueuePtr c(raw);
    EXPECT_EQ(SHMDS_QUEUE_INT32, shmds_queue_variant(c.get()));
    ASSERT_EQ(0, shmds_queue_open(&opts, SHMDS_QUEUE_INT32, &raw)) << shmds_last_error();
    QueuePtr d(raw);

    ASSERT_EQ(0, shmds_queue_push_int(a.get(), -7, SHMDS_NOWAIT));
    ASSERT_EQ(0, shmds_queue_push_int(b.get(), 8, SHMDS_NOWAIT));
    std::int64_t v = 0;
    ASSERT_EQ(0, shmds_queue_pop_int(c.get(), &v, SHMDS_NOWAIT));
    EXPECT_EQ(-7, v);
    ASSERT_EQ(0, shmds_queue_pop_int(d.get(), &v, SHMDS_NOWAIT));
    EXPECT_EQ(8, v);
    EXPECT_EQ(0, shmds_queue_sync(a.get()));
    // The segment outlives its handles.
    a.reset();
    b.reset();
    c.reset();
    ASSERT_EQ(0, shmds_queue_push_int(d.get(), 9, SHMDS_NOWAIT));
    d.reset();
    ASSERT_EQ(0, shmds_queue_open(&opts, SHMDS_QUEUE_INT32, &raw));
    QueuePtr e(raw);
    ASSERT_EQ(0, shmds_queue_pop_int(e.get(), &v, SHMDS_NOWAIT));
    EXPECT_EQ(9, v);
}

TEST(QueueOpen, RefusalsCarryTheirCodes) {
    TempPath path("qrefuse");
    shmds_options_t opts = path_options(path);
    QueuePtr ints = make_queue(SHMDS_QUEUE_INT64, 4, 0, &opts);
    ASSERT_TRUE(ints);
    shmds_queue_t *q = nullptr;

    shmds_options_t excl = path_options(path, SHMDS_EXCL);
    shmds_queue_config_t cfg = config(SHMDS_QUEUE_INT64, 4);
    EXPECT_EQ(-EEXIST, shmds_queue_create(&excl, &cfg, &q));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), path.c_str()));

    // Another variant at the path: refused both ways, and the file is left alone.
    cfg = config(SHMDS_QUEUE_BYTES, 4);
    EXPECT_EQ(SHMDS_ETYPE, shmds_queue_create(&opts, &cfg, &q));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "int64")) << shmds_last_error();
    EXPECT_EQ(SHMDS_ETYPE, shmds_queue_open(&opts, SHMDS_QUEUE_INT16, &q));
    EXPECT_EQ(SHMDS_ETYPE, shmds_queue_open(&opts, SHMDS_QUEUE_BYTES, &q));
    EXPECT_EQ(nullptr, q);
    EXPECT_EQ(0, shmds_queue_push_int(ints.get(), 1, SHMDS_NOWAIT));

    // A symbolic link is never followed.
    TempPath link("qlink");
    ASSERT_EQ(0, symlink(path.c_str(), link.c_str()));
    shmds_options_t via_link = path_options(link);
    cfg = config(SHMDS_QUEUE_INT64, 4);
    EXPECT_EQ(-ELOOP, shmds_queue_create(&via_link, &cfg, &q));
    EXPECT_EQ(-ELOOP, shmds_queue_open(&via_link, SHMDS_QUEUE_ANY, &q));

    // A file that is not a segment is refused and never overwritten.
    TempPath junk("qjunk");
    std::string garbage(8192, 'z');
    {
        int fd = open(junk.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(ssize_t(garbage.size()), write(fd, garbage.data(), garbage.size()));
        close(fd);
    }
    shmds_options_t junk_opts = path_options(junk);
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_queue_open(&junk_opts, SHMDS_QUEUE_ANY, &q));
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_queue_create(&junk_opts, &cfg, &q));
    struct stat st;
    ASSERT_EQ(0, stat(junk.c_str(), &st));
    EXPECT_EQ(off_t(garbage.size()), st.st_size);
    EXPECT_EQ(nullptr, q);
}

TEST(QueueOpen, RefusesToInitialiseSomeoneElsesFile) {
    // An empty file looks like an interrupted create; it is only ours to initialise if
    // we own it. As root, hand it to another user; otherwise make it unwritable.
    TempPath path("qacces");
    int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    if (geteuid() == 0) {
        ASSERT_EQ(0, fchown(fd, 65534, 65534));
    } else {
        ASSERT_EQ(0, fchmod(fd, 0));
    }
    close(fd);
    shmds_options_t opts = path_options(path);
    shmds_queue_config_t cfg = config(SHMDS_QUEUE_INT64, 4);
    shmds_queue_t *q = nullptr;
    EXPECT_EQ(-EACCES, shmds_queue_create(&opts, &cfg, &q)) << shmds_last_error();
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), path.c_str()));
    EXPECT_EQ(nullptr, q);
}

TEST(QueueBackings, FdIsOwnedByTheHandleAndAbsentWhenAnonymous) {
    QueuePtr anon = make_queue(SHMDS_QUEUE_INT64, 4);
    ASSERT_TRUE(anon);
    EXPECT_EQ(-ENOENT, shmds_queue_fd(anon.get()));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "anonymous"));
    EXPECT_EQ(0, shmds_queue_sync(anon.get()));

    shmds_options_t memfd = SHMDS_OPTIONS_INIT;
    memfd.backing = SHMDS_BACKING_MEMFD;
    memfd.name = "qtest";
    QueuePtr m = make_queue(SHMDS_QUEUE_BYTES, 4, 0, &memfd);
    ASSERT_TRUE(m);
    int fd = shmds_queue_fd(m.get());
    ASSERT_GE(fd, 0);
    ASSERT_EQ(0, shmds_queue_push_bytes(m.get(), "hi", 2, SHMDS_NOWAIT));

    // Attaching by fd duplicates it: the attached handle keeps working after the first
    // handle (and its descriptor) is gone.
    shmds_options_t by_fd = SHMDS_OPTIONS_INIT;
    by_fd.backing = SHMDS_BACKING_FD;
    by_fd.fd = fd;
    shmds_queue_t *raw = nullptr;
    ASSERT_EQ(0, shmds_queue_open(&by_fd, SHMDS_QUEUE_BYTES, &raw)) << shmds_last_error();
    QueuePtr attached(raw);
    EXPECT_NE(fd, shmds_queue_fd(attached.get()));
    m.reset();
    EXPECT_EQ(-1, fcntl(fd, F_GETFD)) << "closing the queue closes the fd it owned";
    char buf[4];
    std::size_t len = 0;
    ASSERT_EQ(0, shmds_queue_pop_bytes(attached.get(), buf, sizeof buf, &len, SHMDS_NOWAIT));
    EXPECT_EQ("hi", std::string(buf, len));

    by_fd.fd = -1;
    EXPECT_EQ(-EBADF, shmds_queue_open(&by_fd, SHMDS_QUEUE_ANY, &raw));
}

// ----------------------------------------------------------------- integer ranges

TEST(QueueIntRange, LimitsAreAcceptedAndOneBeyondIsErange) {
    struct Width {
        int variant;
        std::int64_t lo, hi;
    };
    for (Width w : {Width{SHMDS_QUEUE_INT16, INT16_MIN, INT16_MAX},
                    Width{SHMDS_QUEUE_INT32, INT32_MIN, INT32_MAX}}) {
        QueuePtr q = make_queue(w.variant, 8);
        ASSERT_TRUE(q);
        EXPECT_EQ(0, shmds_queue_push_int(q.get(), w.lo, SHMDS_NOWAIT));
        EXPECT_EQ(0, shmds_queue_push_int(q.get(), w.hi, SHMDS_NOWAIT));
        EXPECT_EQ(0, shmds_queue_push_int(q.get(), -1, SHMDS_NOWAIT));
        EXPECT_EQ(-ERANGE, shmds_queue_push_int(q.get(), w.lo - 1, SHMDS_NOWAIT));
        EXPECT_NE(nullptr, std::strstr(shmds_last_error(), std::to_string(w.lo - 1).c_str()));
        EXPECT_EQ(-ERANGE, shmds_queue_push_int(q.get(), w.hi + 1, SHMDS_NOWAIT));
        EXPECT_EQ(-ERANGE, shmds_queue_push_int(q.get(), INT64_MAX, SHMDS_NOWAIT));
        EXPECT_EQ(3u, shmds_queue_size(q.get()));
        EXPECT_EQ(0u, stats_of(q.get()).push_full) << "a range error is not a full queue";
        std::int64_t v = 0;
        for (std::int64_t want : {w.lo, w.hi, std::int64_t(-1)}) {
            ASSERT_EQ(0, shmds_queue_pop_int(q.get(), &v, SHMDS_NOWAIT));
            EXPECT_EQ(want, v);
        }
        // One bad value in a batch: nothing at all goes in.
        const std::int64_t batch[] = {1, 2, w.hi + 1, 4};
        std::size_t pushed = 99;
        EXPECT_EQ(-ERANGE, shmds_queue_push_multi_int(q.get(), batch, 4, &pushed, SHMDS_NOWAIT));
        EXPECT_EQ(0u, pushed);
        EXPECT_EQ(0u, shmds_queue_size(q.get()));
    }
    QueuePtr wide = make_queue(SHMDS_QUEUE_INT64, 4);
    ASSERT_TRUE(wide);
    std::int64_t v = 0;
    for (std::int64_t x : {INT64_MIN, INT64_MAX, std::int64_t(0)}) {
        ASSERT_EQ(0, shmds_queue_push_int(wide.get(), x, SHMDS_NOWAIT));
        ASSERT_EQ(0, shmds_queue_pop_int(wide.get(), &v, SHMDS_NOWAIT));
        EXPECT_EQ(x, v);
    }
}

// ---------------------------------------------------------------------- bytes only

namespace {

int push_back(shmds_queue_t *q, const std::string &s) {
    return shmds_queue_push_bytes(q, s.data(), s.size(), SHMDS_NOWAIT);
}
int push_front(shmds_queue_t *q, const std::string &s) {
    return shmds_queue_push_front_bytes(q, s.data(), s.size(), SHMDS_NOWAIT);
}
// The message at one end, or a failure code as text (so EXPECT_EQ shows both).
std::string pop_front(shmds_queue_t *q) {
    std::vector<char> buf(70000);
    std::size_t len = 0;
    int rc = shmds_queue_pop_bytes(q, buf.data(), buf.size(), &len, SHMDS_NOWAIT);
    return rc ? std::string("<") + shmds_errname(rc) + ">" : std::string(buf.data(), len);
}
std::string pop_back(shmds_queue_t *q) {
    std::vector<char> buf(70000);
    std::size_t len = 0;
    int rc = shmds_queue_pop_back_bytes(q, buf.data(), buf.size(), &len, SHMDS_NOWAIT);
    return rc ? std::string("<") + shmds_errname(rc) + ">" : std::string(buf.data(), len);
}

}  // namespace

TEST(QueueBytes, EmptyMessagesAndEveryByteValueRoundTrip) {
    QueuePtr q = make_queue(SHMDS_QUEUE_BYTES, 8);
    ASSERT_TRUE(q);
    std::string all;
    for (int b = 0; b < 256; ++b) all.push_back(char(b));
    const std::string nul_ff("\0\xff\0\xff\0", 5);
    ASSERT_EQ(0, push_back(q.get(), ""));
    ASSERT_EQ(0, push_back(q.get(), nul_ff));
    ASSERT_EQ(0, push_back(q.get(), all));
    ASSERT_EQ(0, push_back(q.get(), ""));
    EXPECT_EQ(4u, shmds_queue_size(q.get()));
    EXPECT_EQ(8u + 8u + 256u + 8u, stats_of(q.get()).arena_used)
        << "every message, even an empty one, takes at least 8 arena bytes";
    EXPECT_EQ("", pop_front(q.get()));
    EXPECT_EQ(nul_ff, pop_front(q.get()));
    EXPECT_EQ(all, pop_front(q.get()));
    EXPECT_EQ("", pop_front(q.get()));
    EXPECT_EQ("<EAGAIN>", pop_front(q.get()));
}

TEST(QueueBytes, PushFrontAndPopBackMakeADeque) {
    QueuePtr q = make_queue(SHMDS_QUEUE_BYTES, 8);
    ASSERT_TRUE(q);
    ASSERT_EQ(0, push_back(q.get(), "a"));
    ASSERT_EQ(0, push_back(q.get(), "b"));
    ASSERT_EQ(0, push_front(q.get(), "z"));
    ASSERT_EQ(0, push_front(q.get(), "y"));
    // y z a b
    char peeked[8];
    std::size_t peeked_len = 0;
    ASSERT_EQ(0, shmds_queue_peek_bytes(q.get(), peeked, sizeof peeked, &peeked_len));
    EXPECT_EQ("y", std::string(peeked, peeked_len));
    EXPECT_EQ("b", pop_back(q.get()));
    EXPECT_EQ("y", pop_front(q.get()));
    EXPECT_EQ("a", pop_back(q.get()));
    EXPECT_EQ("z", pop_back(q.get()));
    EXPECT_EQ("<EAGAIN>", pop_back(q.get()));
    // Both ends run into the same capacity.
    for (int i = 0; i < 8; ++i) ASSERT_EQ(0, (i % 2 ? push_front : push_back)(q.get(), "x"));
    EXPECT_EQ(-EAGAIN, push_front(q.get(), "x"));
    EXPECT_EQ(-EAGAIN, push_back(q.get(), "x"));
    // The timed forms time out like push and pop do (their timing is tested elsewhere).
    EXPECT_EQ(-ETIMEDOUT, shmds_queue_push_front_bytes(q.get(), "x", 1, 10 * 1000 * 1000));
    ASSERT_EQ(0, shmds_queue_clear(q.get(), nullptr));
    char buf[8];
    std::size_t len = 0;
    EXPECT_EQ(-ETIMEDOUT,
              shmds_queue_pop_back_bytes(q.get(), buf, sizeof buf, &len, 10 * 1000 * 1000));
}

TEST(QueueBytes, TooSmallBufferIsEnobufsWithTheNeededLengthAndConsumesNothing) {
    QueuePtr q = make_queue(SHMDS_QUEUE_BYTES, 4);
    ASSERT_TRUE(q);
    const std::string big(100, 'q');
    ASSERT_EQ(0, push_back(q.get(), big));
    std::vector<char> buf(100);
    std::size_t len = 0, lens[4] = {}, got = 99;
    EXPECT_EQ(-ENOBUFS, shmds_queue_pop_bytes(q.get(), buf.data(), 10, &len, SHMDS_NOWAIT));
    EXPECT_EQ(100u, len);
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "100 bytes"));
    len = 0;
    EXPECT_EQ(-ENOBUFS, shmds_queue_pop_bytes(q.get(), nullptr, 0, &len, SHMDS_NOWAIT));
    EXPECT_EQ(100u, len);
    len = 0;
    EXPECT_EQ(-ENOBUFS, shmds_queue_pop_back_bytes(q.get(), buf.data(), 99, &len, SHMDS_NOWAIT));
    EXPECT_EQ(100u, len);
    len = 0;
    EXPECT_EQ(-ENOBUFS, shmds_queue_peek_bytes(q.get(), buf.data(), 99, &len));
    EXPECT_EQ(100u, len);
    EXPECT_EQ(-ENOBUFS,
              shmds_queue_pop_multi_bytes(q.get(), buf.data(), 50, lens, 4, &got, SHMDS_NOWAIT));
    EXPECT_EQ(100u, lens[0]);
    EXPECT_EQ(0u, got);
    lens[0] = 0;
    EXPECT_EQ(-ENOBUFS, shmds_queue_drain_bytes(q.get(), buf.data(), 50, lens, 4, &got));
    EXPECT_EQ(100u, lens[0]);
    EXPECT_EQ(1u, shmds_queue_size(q.get()));
    EXPECT_EQ(0u, stats_of(q.get()).pop_ok);

    ASSERT_EQ(0, shmds_queue_pop_bytes(q.get(), buf.data(), buf.size(), &len, SHMDS_NOWAIT));
    EXPECT_EQ(big, std::string(buf.data(), len));
}

TEST(QueueBytes, MessageLargerThanTheArenaIsE2big) {
    QueuePtr q = make_queue(SHMDS_QUEUE_BYTES, 4, 4096);
    ASSERT_TRUE(q);
    const std::string too_big(4097, 'x');
    EXPECT_EQ(-E2BIG, push_back(q.get(), too_big));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "4097"));
    EXPECT_EQ(-E2BIG, push_front(q.get(), too_big));
    // E2BIG is about the arena, not the moment: it holds on an empty queue, while one
    // that fills the whole arena exactly is accepted.
    const std::string exact(4096, 'e');
    ASSERT_EQ(0, push_back(q.get(), exact));
    EXPECT_EQ(4096u, stats_of(q.get()).arena_used);
    EXPECT_EQ(-EAGAIN, push_back(q.get(), "")) << "a full arena takes not even an empty message";
    EXPECT_EQ(exact, pop_front(q.get()));
    EXPECT_EQ(1u, stats_of(q.get()).push_full) << "EAGAIN counts as full; E2BIG does not";
}

TEST(QueueBytes, ArenaExhaustionIsDistinctFromRingExhaustion) {
    QueuePtr arena_bound = make_queue(SHMDS_QUEUE_BYTES, 64, 4096);
    ASSERT_TRUE(arena_bound);
    const std::string k(1000, 'k');
    for (int i = 0; i < 4; ++i) ASSERT_EQ(0, push_back(arena_bound.get(), k));
    EXPECT_EQ(-EAGAIN, push_back(arena_bound.get(), k));
    EXPECT_EQ(-EAGAIN, push_front(arena_bound.get(), k));
    shmds_queue_stats_t s = stats_of(arena_bound.get());
    EXPECT_EQ(4u, s.size);
    EXPECT_EQ(4000u, s.arena_used);
    EXPECT_EQ(0, shmds_queue_is_full(arena_bound.get())) << "the ring has room; the arena has not";
    EXPECT_EQ(0, push_back(arena_bound.get(), std::string(96, 's'))) << "a small one still fits";

    QueuePtr ring_bound = make_queue(SHMDS_QUEUE_BYTES, 2, 4096);
    ASSERT_TRUE(ring_bound);
    ASSERT_EQ(0, push_back(ring_bound.get(), "1"));
    ASSERT_EQ(0, push_back(ring_bound.get(), "2"));
    EXPECT_EQ(-EAGAIN, push_back(ring_bound.get(), "3"));
    s = stats_of(ring_bound.get());
    EXPECT_EQ(16u, s.arena_used);
    EXPECT_EQ(1, shmds_queue_is_full(ring_bound.get()));
}

TEST(QueueBytes, ArenaWrapsAroundFromBothEnds) {
    // Fill with messages of varying sizes, take some off, put others on, over and over:
    // the arena is reused many times around its circle, from either end, and every
    // message comes back intact in deque order.
    const std::uint64_t seed = test_seed();
    std::mt19937_64 rng(seed);
    QueuePtr q = make_queue(SHMDS_QUEUE_BYTES, 64, 4096);
    ASSERT_TRUE(q);
    std::deque<std::string> model;
    std::uint64_t bytes_through = 0;
    int serial = 0;
    auto message = [&] {
        std::string s(std::size_t(rng() % 700), '\0');
        for (char &c : s) c = char(rng());
        return s + "#" + std::to_string(serial++);
    };
    // back: push_back + pop_front; front: push_front + pop_back (the arena is walked
    // the other way round); mixed: either end for each call.
    enum Mode { back, front, mixed };
    for (Mode mode : {back, front, mixed}) {
        for (int round = 0; round < 30; ++round) {
            for (;;) {
                std::string m = message();
                const bool at_front = mode == front || (mode == mixed && rng() % 2);
                int rc = at_front ? push_front(q.get(), m) : push_back(q.get(), m);
                if (rc == -EAGAIN) break;
                ASSERT_EQ(0, rc) << shmds_last_error() << " (seed " << seed << ")";
                at_front ? model.push_front(m) : model.push_back(m);
                bytes_through += m.size();
            }
            ASSERT_EQ(model.size(), shmds_queue_size(q.get()));
            const std::size_t take = 1 + rng() % model.size();
            for (std::size_t i = 0; i < take; ++i) {
                const bool from_back = mode == front || (mode == mixed && rng() % 2);
                if (from_back) {
                    ASSERT_EQ(model.back(), pop_back(q.get())) << "seed " << seed;
                    model.pop_back();
                } else {
                    ASSERT_EQ(model.front(), pop_front(q.get())) << "seed " << seed;
                    model.pop_front();
                }
            }
        }
        while (!model.empty()) {
            ASSERT_EQ(model.front(), pop_front(q.get())) << "seed " << seed;
            model.pop_front();
        }
        EXPECT_EQ(0u, stats_of(q.get()).arena_used);
    }
    EXPECT_GT(bytes_through, 20u * 4096u) << "the arena must have wrapped many times";
}

TEST(QueueBytes, PopMultiPacksAndStopsBeforeAMessageThatDoesNotFit) {
    QueuePtr q = make_queue(SHMDS_QUEUE_BYTES, 8);
    ASSERT_TRUE(q);
    for (const char *m : {"a", "bb", "ccc", "dddd", ""}) ASSERT_EQ(0, push_back(q.get(), m));
    char buf[16];
    std::size_t lens[8] = {}, got = 0;
    ASSERT_EQ(0, shmds_queue_pop_multi_bytes(q.get(), buf, 6, lens, 8, &got, SHMDS_NOWAIT));
    ASSERT_EQ(3u, got);
    EXPECT_EQ(1u, lens[0]);
    EXPECT_EQ(2u, lens[1]);
    EXPECT_EQ(3u, lens[2]);
    EXPECT_EQ("abbccc", std::string(buf, 6));
    ASSERT_EQ(0, shmds_queue_pop_multi_bytes(q.get(), buf, sizeof buf, lens, 1, &got,
                                             SHMDS_NOWAIT));
    ASSERT_EQ(1u, got) << "max bounds the count";
    EXPECT_EQ("dddd", std::string(buf, lens[0]));
    ASSERT_EQ(0, shmds_queue_pop_multi_bytes(q.get(), buf, sizeof buf, lens, 8, &got,
                                             SHMDS_NOWAIT));
    ASSERT_EQ(1u, got);
    EXPECT_EQ(0u, lens[0]);
    EXPECT_EQ(-EAGAIN, shmds_queue_pop_multi_bytes(q.get(), buf, sizeof buf, lens, 8, &got,
                                                   SHMDS_NOWAIT));
    EXPECT_EQ(0u, got);
    EXPECT_EQ(0, shmds_queue_pop_multi_bytes(q.get(), buf, sizeof buf, lens, 0, &got,
                                             SHMDS_NOWAIT));
    EXPECT_EQ(0u, got);
}

TEST(QueueBytes, DrainPacksEverythingAndIsZeroWhenEmpty) {
    QueuePtr q = make_queue(SHMDS_QUEUE_BYTES, 8);
    ASSERT_TRUE(q);
    char buf[32];
    std::size_t lens[8] = {}, got = 99;
    EXPECT_EQ(0, shmds_queue_drain_bytes(q.get(), buf, sizeof buf, lens, 8, &got));
    EXPECT_EQ(0u, got);
    EXPECT_EQ(0u, stats_of(q.get()).pop_empty) << "draining an empty queue is not a failure";
    for (const char *m : {"one", "two", "three"}) ASSERT_EQ(0, push_back(q.get(), m));
    ASSERT_EQ(0, shmds_queue_drain_bytes(q.get(), buf, sizeof buf, lens, 8, &got));
    ASSERT_EQ(3u, got);
    EXPECT_EQ("onetwothree", std::string(buf, lens[0] + lens[1] + lens[2]));
    EXPECT_EQ(1, shmds_queue_is_empty(q.get()));
}

TEST(QueueBytes, PushMultiIsPartialOnRingOrArenaAndStopsAtE2big) {
    auto push_all = [](shmds_queue_t *q, const std::vector<std::string> &msgs,
                       std::size_t *pushed) {
        std::vector<const void *> datas;
        std::vector<std::size_t> lens;
        for (const auto &m : msgs) {
            datas.push_back(m.data());
            lens.push_back(m.size());
        }
        return shmds_queue_push_multi_bytes(q, datas.data(), lens.data(), msgs.size(), pushed,
                                            SHMDS_NOWAIT);
    };
    std::size_t pushed = 0;
    QueuePtr arena = make_queue(SHMDS_QUEUE_BYTES, 64, 4096);
    ASSERT_TRUE(arena);
    const std::string k(1500, 'k');
    EXPECT_EQ(-EAGAIN, push_all(arena.get(), {k, k, k, k}, &pushed));
    EXPECT_EQ(2u, pushed);
    EXPECT_EQ(2u, shmds_queue_size(arena.get()));

    QueuePtr q = make_queue(SHMDS_QUEUE_BYTES, 8, 4096);
    ASSERT_TRUE(q);
    EXPECT_EQ(-E2BIG, push_all(q.get(), {"a", "b", std::string(5000, 'x'), "d"}, &pushed));
    EXPECT_EQ(2u, pushed) << "the ones before the oversized message are in";
    EXPECT_EQ("a", pop_front(q.get()));
    EXPECT_EQ("b", pop_front(q.get()));
    EXPECT_EQ("<EAGAIN>", pop_front(q.get()));

    // A batch longer than one internal lock hold still goes in whole and in order.
    QueuePtr long_batch = make_queue(SHMDS_QUEUE_BYTES, 256);
    ASSERT_TRUE(long_batch);
    std::vector<std::string> many;
    for (int i = 0; i < 200; ++i) many.push_back(std::to_string(i));
    EXPECT_EQ(0, push_all(long_batch.get(), many, &pushed));
    EXPECT_EQ(200u, pushed);
    for (int i = 0; i < 200; ++i) ASSERT_EQ(std::to_string(i), pop_front(long_batch.get()));
}

TEST(QueueBytes, DamagedDescriptorsAreRefusedNotFollowed) {
    // A hostile or broken peer scribbles on the descriptor ring; every verb that would
    // copy through it must fail with SHMDS_ECORRUPT, and clear() gets the queue going.
    TempPath path("qcorrupt");
    shmds_options_t opts = path_options(path);
    QueuePtr q = make_queue(SHMDS_QUEUE_BYTES, 4, 4096, &opts);
    ASSERT_TRUE(q);
    ASSERT_EQ(0, push_back(q.get(), "victim"));

    using namespace shmds::queue;
    Geometry g;
    ASSERT_EQ(0, compute_geometry(Variant::bytes, 4, 4096, g));
    int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    void *map = mmap(nullptr, g.total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    ASSERT_NE(MAP_FAILED, map);
    auto *descs = reinterpret_cast<BytesDesc *>(static_cast<char *>(map) + g.data_off);
    descs[0].off = 4000;
    descs[0].len = 1000;  // would read past the arena's end

    char buf[2048];
    const void *datas[1] = {buf};
    std::size_t len = 0, lens[2] = {1, 1}, n = 0;
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_queue_pop_bytes(q.get(), buf, sizeof buf, &len, SHMDS_NOWAIT));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "out of bounds"));
    EXPECT_EQ(SHMDS_ECORRUPT,
              shmds_queue_pop_back_bytes(q.get(), buf, sizeof buf, &len, SHMDS_NOWAIT));
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_queue_peek_bytes(q.get(), buf, sizeof buf, &len));
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_queue_push_bytes(q.get(), "x", 1, SHMDS_NOWAIT));
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_queue_push_front_bytes(q.get(), "x", 1, SHMDS_NOWAIT));
    EXPECT_EQ(SHMDS_ECORRUPT,
              shmds_queue_push_multi_bytes(q.get(), datas, lens, 1, &n, SHMDS_NOWAIT));
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_queue_pop_multi_bytes(q.get(), buf, sizeof buf, lens, 2, &n,
                                                          SHMDS_NOWAIT));
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_queue_drain_bytes(q.get(), buf, sizeof buf, lens, 2, &n));
    shmds_queue_stats_t s{};
    s.struct_size = sizeof s;
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_queue_stats(q.get(), &s));

    std::uint64_t removed = 0;
    EXPECT_EQ(0, shmds_queue_clear(q.get(), &removed));
    EXPECT_EQ(1u, removed);
    ASSERT_EQ(0, push_back(q.get(), "fresh"));
    EXPECT_EQ("fresh", pop_front(q.get()));

    // A count of messages beyond the capacity is refused the same way.
    auto *ctl = reinterpret_cast<BytesControl *>(static_cast<char *>(map) + g.control_off);
    ctl->tail.store(ctl->head.load() + 1000);
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_queue_push_bytes(q.get(), "x", 1, SHMDS_NOWAIT));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "capacity"));
    EXPECT_EQ(0, shmds_queue_clear(q.get(), &removed));
    EXPECT_EQ(0, push_back(q.get(), "again"));
    EXPECT_EQ("again", pop_front(q.get()));

    // A tail_seen pushed past tail would let pops take descriptors nobody committed:
    // clear puts it back, so nothing but what is pushed afterwards comes out.
    ctl->tail_seen.store(ctl->tail.load() + 2);
    EXPECT_EQ(0, shmds_queue_clear(q.get(), &removed));
    EXPECT_EQ(0, push_back(q.get(), "only"));
    EXPECT_EQ("only", pop_front(q.get()));
    EXPECT_EQ(-EAGAIN, shmds_queue_pop_bytes(q.get(), buf, sizeof buf, &len, SHMDS_NOWAIT));
    munmap(map, g.total);
}

// A memfd bytes queue of 4 and where its control block and its two ends' lock words
// are in the segment, for the tests that scribble them.
struct LockedEnds {
    QueuePtr q;
    int fd = -1;
    std::uint64_t ctl = sizeof(shmds::core::SegmentHeader);
    std::uint64_t front = ctl + offsetof(shmds::queue::BytesControl, front_lock);
    std::uint64_t back = ctl + offsetof(shmds::queue::BytesControl, back_lock);

    explicit LockedEnds(const char *name) {
        shmds_options_t memfd = SHMDS_OPTIONS_INIT;
        memfd.backing = SHMDS_BACKING_MEMFD;
        memfd.name = name;
        q = make_queue(SHMDS_QUEUE_BYTES, 4, 0, &memfd);
        if (q) fd = shmds_queue_fd(q.get());
    }
};

// The lock words scribbled by a peer. Naming no live thread, a word is a dead holder's:
// the next locker of any verb (NOWAIT or blocking) takes it over, the repair runs (here
// it empties a ring whose frontiers are damaged too), the call succeeds and
// stats.recoveries counts it. Naming a live thread that does not hold it, it is waited
// for: the timed verbs time out cleanly; once that thread is gone, it is taken over.
// push_back takes only the back lock and pop_front and peek only the front one.
TEST(QueueBytes, ScribbledLockWordIsTakenOverOrWaitedFor) {
    LockedEnds ends("qlock");
    ASSERT_TRUE(ends.q);
    QueuePtr &q = ends.q;
    const int fd = ends.fd;
    using shmds::queue::BytesControl;
    const std::uint64_t ctl = ends.ctl, front = ends.front, back = ends.back;
    char buf[64];
    std::size_t len = 0;

    // No such thread, and a message count beyond the capacity: without the repair,
    // push would refuse the ring as damaged. The back lock's repair checks the ring
    // under the (free) front lock too.
    ASSERT_EQ(0, push_back(q.get(), "lost"));
    scribble_u64(fd, back, kNoSuchThreadWord | shmds::core::kStampLockWaiters);
    scribble_u64(fd, ctl + offsetof(BytesControl, tail),
                 read_u64_at(fd, ctl + offsetof(BytesControl, head)) + 1000);
    EXPECT_EQ(0, shmds_queue_push_bytes(q.get(), "kept", 4, SHMDS_NOWAIT)) << shmds_last_error();
    EXPECT_EQ(0u, read_u64_at(fd, back)) << "released after the takeover";
    EXPECT_EQ(0u, read_u64_at(fd, front)) << "the repair's front lock, released";
    EXPECT_EQ(1u, stats_of(q.get()).recoveries);
    EXPECT_EQ(1u, shmds_queue_size(q.get()));

    // The same through the front lock, which a pop takes.
    ASSERT_EQ(0, push_back(q.get(), "more"));
    scribble_u64(fd, front, kNoSuchThreadWord);
    scribble_u64(fd, ctl + offsetof(BytesControl, tail),
                 read_u64_at(fd, ctl + offsetof(BytesControl, head)) + 1000);
    EXPECT_EQ(-EAGAIN, shmds_queue_pop_bytes(q.get(), buf, sizeof buf, &len, SHMDS_NOWAIT))
        << "emptied by the repair";
    EXPECT_EQ(0u, read_u64_at(fd, front));
    EXPECT_EQ(2u, stats_of(q.get()).recoveries);
    ASSERT_EQ(0, push_back(q.get(), "kept"));

    // Thread id 0: taken over by the verbs that wait without a deadline, too.
    scribble_u64(fd, front, kThreadZeroWord);
    EXPECT_EQ(0, shmds_queue_peek_bytes(q.get(), buf, sizeof buf, &len));
    EXPECT_EQ("kept", std::string(buf, len));
    scribble_u64(fd, front, kThreadZeroWord);
    EXPECT_EQ(0, shmds_queue_pop_bytes(q.get(), buf, sizeof buf, &len, 1'000'000'000));
    EXPECT_EQ("kept", std::string(buf, len));
    scribble_u64(fd, back, kThreadZeroWord);
    shmds_queue_stats_t st{};
    st.struct_size = sizeof st;
    EXPECT_EQ(0, shmds_queue_stats(q.get(), &st)) << "stats take both locks";
    EXPECT_EQ(5u, st.recoveries);

    // A live stranger: waited for, never taken over.
    ASSERT_EQ(0, push_back(q.get(), "waits"));
    {
        LiveBystander stranger;
        scribble_u64(fd, front, stranger.stamp());
        scribble_u64(fd, back, stranger.stamp());
        EXPECT_EQ(-EAGAIN, shmds_queue_push_bytes(q.get(), "x", 1, SHMDS_NOWAIT));
        EXPECT_EQ(-EAGAIN, shmds_queue_pop_bytes(q.get(), buf, sizeof buf, &len, SHMDS_NOWAIT));
        EXPECT_EQ(-ETIMEDOUT, shmds_queue_pop_bytes(q.get(), buf, sizeof buf, &len, 20'000'000));
        EXPECT_EQ(-ETIMEDOUT, shmds_queue_push_bytes(q.get(), "x", 1, 20'000'000));
        EXPECT_EQ(stranger.stamp(), read_u64_at(fd, front) & ~shmds::core::kStampLockWaiters);
        EXPECT_EQ(stranger.stamp(), read_u64_at(fd, back) & ~shmds::core::kStampLockWaiters);
        stranger.stop();
        // Gone now: the next locker of each end takes over.
        EXPECT_EQ(0, shmds_queue_pop_bytes(q.get(), buf, sizeof buf, &len, 1'000'000'000));
        EXPECT_EQ("waits", std::string(buf, len));
        EXPECT_EQ(0, shmds_queue_push_bytes(q.get(), "x", 1, 1'000'000'000));
        EXPECT_EQ(0, shmds_queue_pop_bytes(q.get(), buf, sizeof buf, &len, SHMDS_NOWAIT));
    }
    EXPECT_EQ(7u, stats_of(q.get()).recoveries);
    EXPECT_EQ(0u, shmds_queue_size(q.get()));

    // An empty ring is seen without the lock: a consumer polling it never queues behind
    // (or pulls the line from) whoever holds the lock.
    {
        const std::uint64_t empties = stats_of(q.get()).pop_empty;  // stats take the lock
        LiveBystander stranger;
        scribble_u64(fd, front, stranger.stamp());
        EXPECT_EQ(-EAGAIN, shmds_queue_pop_bytes(q.get(), buf, sizeof buf, &len, SHMDS_NOWAIT));
        EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "empty")) << shmds_last_error();
        EXPECT_EQ(-ETIMEDOUT, shmds_queue_pop_bytes(q.get(), buf, sizeof buf, &len, 20'000'000));
        EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "empty")) << shmds_last_error();
        EXPECT_EQ(stranger.stamp(), read_u64_at(fd, front)) << "nobody waited on the lock";
        scribble_u64(fd, front, 0);
        EXPECT_EQ(empties + 2, stats_of(q.get()).pop_empty);
    }
}

// Both locks release with a plain store, so a sleeper takes and drops the lock its
// wakers commit under after announcing itself (core::lock_passage): a pop asleep on an
// empty ring passes the back lock (pushes commit under it), a push asleep on a full one
// the front lock (pops commit under it). Seen from outside: each takes over a dead
// holder's word on that lock before it sleeps, and leaves the other lock alone.
TEST(QueueBytes, SleepersPassThroughTheLockTheirWakersCommitUnder) {
    LockedEnds ends("qpassage");
    ASSERT_TRUE(ends.q);
    const int fd = ends.fd;
    char buf[64];
    std::size_t len = 0;
    scribble_u64(fd, ends.back, kNoSuchThreadWord);
    EXPECT_EQ(-ETIMEDOUT, shmds_queue_pop_bytes(ends.q.get(), buf, sizeof buf, &len, 300'000'000));
    EXPECT_EQ(0u, read_u64_at(fd, ends.back));
    for (int i = 0; i < 4; ++i) ASSERT_EQ(0, push_back(ends.q.get(), "full"));
    scribble_u64(fd, ends.front, kNoSuchThreadWord);
    EXPECT_EQ(-ETIMEDOUT, shmds_queue_push_bytes(ends.q.get(), "more", 4, 300'000'000));
    EXPECT_EQ(0u, read_u64_at(fd, ends.front));
    EXPECT_EQ(2u, stats_of(ends.q.get()).recoveries);
}

// A producer and a consumer hold different locks: a push completes while the front
// lock is held (by a live stranger standing in for a slow consumer), and a pop
// completes while the back lock is held.
TEST(QueueBytes, EachEndHasItsOwnLock) {
    LockedEnds ends("qends");
    ASSERT_TRUE(ends.q);
    QueuePtr &q = ends.q;
    const int fd = ends.fd;
    const std::uint64_t front = ends.front, back = ends.back;
    char buf[64];
    std::size_t len = 0;
    LiveBystander stranger;

    scribble_u64(fd, front, stranger.stamp());
    EXPECT_EQ(0, shmds_queue_push_bytes(q.get(), "a", 1, SHMDS_NOWAIT)) << shmds_last_error();
    EXPECT_EQ(0, shmds_queue_push_bytes(q.get(), "b", 1, SHMDS_NOWAIT)) << shmds_last_error();
    EXPECT_EQ(-EAGAIN, shmds_queue_pop_bytes(q.get(), buf, sizeof buf, &len, SHMDS_NOWAIT))
        << "the front is busy";
    EXPECT_EQ(-EAGAIN, shmds_queue_push_front_bytes(q.get(), "f", 1, SHMDS_NOWAIT))
        << "push_front needs both locks";
    scribble_u64(fd, front, 0);

    scribble_u64(fd, back, stranger.stamp());
    EXPECT_EQ(0, shmds_queue_pop_bytes(q.get(), buf, sizeof buf, &len, SHMDS_NOWAIT));
    EXPECT_EQ("a", std::string(buf, len));
    EXPECT_EQ(-EAGAIN, shmds_queue_push_bytes(q.get(), "c", 1, SHMDS_NOWAIT)) << "the back is busy";
    EXPECT_EQ(-EAGAIN, shmds_queue_pop_back_bytes(q.get(), buf, sizeof buf, &len, SHMDS_NOWAIT))
        << "pop_back needs both locks";
    EXPECT_EQ(0, shmds_queue_peek_bytes(q.get(), buf, sizeof buf, &len)) << "peek needs the front";
    EXPECT_EQ("b", std::string(buf, len));
    scribble_u64(fd, back, 0);
    EXPECT_EQ(0u, stats_of(q.get()).recoveries);
}

// ------------------------------------------------------------------------- eventfd

TEST(QueueEventfd, SignallingIsExplicitAndConsumeResets) {
    QueuePtr q = make_queue(SHMDS_QUEUE_INT64, 4);
    ASSERT_TRUE(q);
    std::uint64_t count = 0;
    EXPECT_EQ(-ENOENT, shmds_queue_notify(q.get()));
    EXPECT_EQ(-ENOENT, shmds_queue_eventfd_consume(q.get(), &count));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "eventfd"));

    int efd = shmds_queue_eventfd(q.get());
    ASSERT_GE(efd, 0);
    EXPECT_EQ(efd, shmds_queue_eventfd(q.get())) << "created once, then the same fd";
    EXPECT_TRUE(fcntl(efd, F_GETFD) & FD_CLOEXEC);
    EXPECT_TRUE(fcntl(efd, F_GETFL) & O_NONBLOCK);

    pollfd p{efd, POLLIN, 0};
    ASSERT_EQ(0, shmds_queue_push_int(q.get(), 1, SHMDS_NOWAIT));
    EXPECT_EQ(0, poll(&p, 1, 0)) << "a push alone never signals";
    EXPECT_EQ(-EAGAIN, shmds_queue_eventfd_consume(q.get(), &count));

    ASSERT_EQ(0, shmds_queue_notify(q.get()));
    ASSERT_EQ(0, shmds_queue_notify(q.get()));
    EXPECT_EQ(1, poll(&p, 1, 0));
    ASSERT_EQ(0, shmds_queue_eventfd_consume(q.get(), &count));
    EXPECT_EQ(2u, count);
    EXPECT_EQ(-EAGAIN, shmds_queue_eventfd_consume(q.get(), &count));
    ASSERT_EQ(0, shmds_queue_notify(q.get()));
    EXPECT_EQ(0, shmds_queue_eventfd_consume(q.get(), nullptr)) << "count is optional";
}

TEST(QueueEventfd, SetDuplicatesTheCallersFdAndMinusOneDetaches) {
    QueuePtr q = make_queue(SHMDS_QUEUE_BYTES, 4);
    ASSERT_TRUE(q);
    int mine = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ASSERT_GE(mine, 0);
    ASSERT_EQ(0, shmds_queue_set_eventfd(q.get(), mine));
    int theirs = shmds_queue_eventfd(q.get());
    EXPECT_NE(mine, theirs);
    ASSERT_EQ(0, shmds_queue_set_eventfd(q.get(), theirs)) << "its own fd: a no-op";
    EXPECT_EQ(theirs, shmds_queue_eventfd(q.get()));
    ASSERT_EQ(0, shmds_queue_notify(q.get()));
    std::uint64_t value = 0;
    ASSERT_EQ(ssize_t(sizeof value), read(mine, &value, sizeof value)) << "same eventfd object";
    EXPECT_EQ(1u, value);

    ASSERT_EQ(0, shmds_queue_set_eventfd(q.get(), -1));
    EXPECT_EQ(-ENOENT, shmds_queue_notify(q.get()));
    EXPECT_NE(-1, fcntl(mine, F_GETFD)) << "the caller's fd stays open";

    EXPECT_EQ(-EBADF, shmds_queue_set_eventfd(q.get(), -7));
    int closed = dup(mine);
    close(closed);
    EXPECT_EQ(-EBADF, shmds_queue_set_eventfd(q.get(), closed));
    close(mine);
}

TEST(QueueEventfd, CreationFailureIsReportedNotHidden) {
    QueuePtr q = make_queue(SHMDS_QUEUE_INT64, 4);
    ASSERT_TRUE(q);
    expect_eventfd_creation_fails([&] { return shmds_queue_eventfd(q.get()); },
                                  [&] { return shmds_queue_notify(q.get()); });
}

TEST(QueueEventfd, AChildNotifiesThroughTheInheritedEventfd) {
    QueuePtr q = make_queue(SHMDS_QUEUE_INT64, 4);
    ASSERT_TRUE(q);
    int efd = shmds_queue_eventfd(q.get());
    ASSERT_GE(efd, 0);
    run_child_ok([&] {
        CHILD_CHECK(shmds_queue_push_int(q.get(), 5, SHMDS_NOWAIT) == 0);
        CHILD_CHECK(shmds_queue_notify(q.get()) == 0);
        return 0;
    });
    pollfd p{efd, POLLIN, 0};
    EXPECT_EQ(1, poll(&p, 1, 1000));
    std::uint64_t count = 0;
    EXPECT_EQ(0, shmds_queue_eventfd_consume(q.get(), &count));
    EXPECT_EQ(1u, count);
    std::int64_t v = 0;
    EXPECT_EQ(0, shmds_queue_pop_int(q.get(), &v, SHMDS_NOWAIT));
    EXPECT_EQ(5, v);
}
