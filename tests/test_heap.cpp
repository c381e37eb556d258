// The heap through its public C API, one behaviour per test: every verb, both value
// types, every return code heap.h documents, and a hostile peer's scribbles.
// Processes, crashes, the oracle and the C++ veneer have suites of their own.
#include "heap_helpers.hpp"
#include "support/damaged_lock.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

using namespace heap_test;
using namespace shmds::test;

namespace {

constexpr std::int64_t kMs = 1'000'000;

std::vector<std::int64_t> drain_values(shmds_heap_t *h, std::vector<std::int64_t> *prios = nullptr) {
    std::vector<std::int64_t> out;
    std::int64_t p, v;
    while (shmds_heap_pop_int(h, &p, &v, SHMDS_NOWAIT) == 0) {
        out.push_back(v);
        if (prios) prios->push_back(p);
    }
    return out;
}

TEST(Heap, CreateRefusesBadConfigs) {
    shmds_heap_t *h = nullptr;
    shmds_heap_config_t cfg = SHMDS_HEAP_CONFIG_INIT(SHMDS_TYPE_INT64, 0);
    EXPECT_EQ(-EINVAL, shmds_heap_create(nullptr, &cfg, &h)) << "capacity 0";
    cfg.capacity = (std::uint64_t{1} << 31) + 1;
    EXPECT_EQ(-EINVAL, shmds_heap_create(nullptr, &cfg, &h)) << "capacity over 2^31";
    cfg = SHMDS_HEAP_CONFIG_INIT(SHMDS_TYPE_INT32, 4);
    EXPECT_EQ(-EINVAL, shmds_heap_create(nullptr, &cfg, &h)) << "values are int64 or bytes";
    EXPECT_NE(std::string::npos, std::string(shmds_last_error()).find("SHMDS_TYPE_INT64 or"));
    cfg = SHMDS_HEAP_CONFIG_INIT(99, 4);
    EXPECT_EQ(-EINVAL, shmds_heap_create(nullptr, &cfg, &h));
    cfg = SHMDS_HEAP_CONFIG_INIT(SHMDS_TYPE_BYTES, 4);
    EXPECT_EQ(-EINVAL, shmds_heap_create(nullptr, &cfg, &h)) << "bytes without max_len";
    cfg.max_len = (1u << 20) + 1;
    EXPECT_EQ(-EINVAL, shmds_heap_create(nullptr, &cfg, &h));
    cfg = SHMDS_HEAP_CONFIG_INIT(SHMDS_TYPE_INT64, 4);
    cfg.max_len = 8;
    EXPECT_EQ(-EINVAL, shmds_heap_create(nullptr, &cfg, &h)) << "max_len on an int64 heap";
    cfg.max_len = 0;
    cfg.flags = 2;
    EXPECT_EQ(-EINVAL, shmds_heap_create(nullptr, &cfg, &h)) << "unknown flag";
    cfg.flags = 0;
    EXPECT_EQ(-EINVAL, shmds_heap_create(nullptr, nullptr, &h));
    EXPECT_EQ(-EINVAL, shmds_heap_create(nullptr, &cfg, nullptr));
    cfg.struct_size = 4;
    EXPECT_EQ(-EINVAL, shmds_heap_create(nullptr, &cfg, &h));
    EXPECT_EQ(nullptr, h);
}

TEST(Heap, ConfigInitMatchesTheMacro) {
    shmds_heap_config_t a = SHMDS_HEAP_CONFIG_INIT(SHMDS_TYPE_BYTES, 9);
    shmds_heap_config_t b;
    std::memset(&b, 0xab, sizeof b);
    ASSERT_EQ(0, shmds_heap_config_init(&b, sizeof b, SHMDS_TYPE_BYTES, 9));
    EXPECT_EQ(a.struct_size, b.struct_size);
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.capacity, b.capacity);
    EXPECT_EQ(a.max_len, b.max_len);
    EXPECT_EQ(a.flags, b.flags);
    EXPECT_EQ(-EINVAL, shmds_heap_config_init(nullptr, sizeof b, 1, 1));
    EXPECT_EQ(-EINVAL, shmds_heap_config_init(&b, 3, 1, 1));
}

TEST(Heap, PopsLowestPriorityFirst) {
    auto h = make_heap(SHMDS_TYPE_INT64, 16);
    const std::int64_t prios[] = {5, -3, 9, 0, INT64_MIN, INT64_MAX, 2, -3};
    for (std::int64_t i = 0; i < 8; ++i) ASSERT_EQ(0, shmds_heap_push_int(h.get(), prios[i], i, 0));
    std::vector<std::int64_t> ps;
    const auto vs = drain_values(h.get(), &ps);
    EXPECT_EQ((std::vector<std::int64_t>{INT64_MIN, -3, -3, 0, 2, 5, 9, INT64_MAX}), ps);
    EXPECT_EQ((std::vector<std::int64_t>{4, 1, 7, 3, 6, 0, 2, 5}), vs) << "ties FIFO: 1 before 7";
    EXPECT_EQ(0, shmds_heap_is_max(h.get()));
}

TEST(Heap, MaxHeapPopsHighestFirstAndKeepsTiesFifo) {
    auto h = make_heap(SHMDS_TYPE_INT64, 16, 0, SHMDS_HEAP_MAX);
    EXPECT_EQ(1, shmds_heap_is_max(h.get()));
    const std::int64_t prios[] = {1, 7, 7, -2, 7, 3};
    for (std::int64_t i = 0; i < 6; ++i) ASSERT_EQ(0, shmds_heap_push_int(h.get(), prios[i], i, 0));
    std::vector<std::int64_t> ps;
    const auto vs = drain_values(h.get(), &ps);
    EXPECT_EQ((std::vector<std::int64_t>{7, 7, 7, 3, 1, -2}), ps);
    EXPECT_EQ((std::vector<std::int64_t>{1, 2, 4, 5, 0, 3}), vs);
}

TEST(Heap, EqualPrioritiesLeaveInPushOrderThroughManySifts) {
    // Interleaved pushes and pops move entries up and down many times; among equal
    // priorities the sequence still decides.
    auto h = make_heap(SHMDS_TYPE_INT64, 512);
    std::int64_t next = 0, p, v;
    std::vector<std::int64_t> seen[3];
    for (int round = 0; round < 200; ++round) {
        for (int k = 0; k < 3; ++k, ++next)
            ASSERT_EQ(0, shmds_heap_push_int(h.get(), next % 3, next, 0));
        ASSERT_EQ(0, shmds_heap_pop_int(h.get(), &p, &v, 0));
        seen[p].push_back(v);
    }
    while (shmds_heap_pop_int(h.get(), &p, &v, 0) == 0) seen[p].push_back(v);
    for (auto &s : seen) {
        ASSERT_FALSE(s.empty());
        for (std::size_t i = 1; i < s.size(); ++i) EXPECT_LT(s[i - 1], s[i]);
    }
}

TEST(Heap, FullAndEmptyAreWouldBlock) {
    auto h = make_heap(SHMDS_TYPE_INT64, 2);
    std::int64_t p, v;
    EXPECT_EQ(-EAGAIN, shmds_heap_pop_int(h.get(), &p, &v, SHMDS_NOWAIT));
    EXPECT_EQ(1, shmds_heap_is_empty(h.get()));
    ASSERT_EQ(0, shmds_heap_push_int(h.get(), 1, 1, 0));
    ASSERT_EQ(0, shmds_heap_push_int(h.get(), 2, 2, 0));
    EXPECT_EQ(1, shmds_heap_is_full(h.get()));
    EXPECT_EQ(-EAGAIN, shmds_heap_push_int(h.get(), 0, 3, SHMDS_NOWAIT));
    EXPECT_EQ(2u, shmds_heap_size(h.get()));
    EXPECT_EQ(2u, shmds_heap_capacity(h.get()));
    const auto st = stats_of(h.get());
    EXPECT_EQ(1u, st.push_full);
    EXPECT_EQ(1u, st.pop_empty);
    EXPECT_EQ(2u, st.push_ok);
    EXPECT_EQ(0u, st.pop_ok);
}

TEST(Heap, TimeoutsRunOut) {
    auto h = make_heap(SHMDS_TYPE_INT64, 1);
    std::int64_t p, v;
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(-ETIMEDOUT, shmds_heap_pop_int(h.get(), &p, &v, 30 * kMs));
    EXPECT_GE(ms_since(t0), 29.0);
    ASSERT_EQ(0, shmds_heap_push_int(h.get(), 1, 1, 0));
    EXPECT_EQ(-ETIMEDOUT, shmds_heap_push_int(h.get(), 1, 2, 20 * kMs));
    EXPECT_EQ(-EINVAL, shmds_heap_push_int(h.get(), 1, 2, -2));
    EXPECT_EQ(-EINVAL, shmds_heap_pop_int(h.get(), &p, &v, -5));
}

TEST(Heap, BlockedPopReturnsWhenAnotherProcessPushes) {
    auto h = make_heap(SHMDS_TYPE_INT64, 4);
    const pid_t child = fork_child([&] {
        usleep(30'000);
        return shmds_heap_push_int(h.get(), 4, 44, SHMDS_NOWAIT) == 0 ? 0 : 1;
    });
    std::int64_t p = 0, v = 0;
    EXPECT_EQ(0, shmds_heap_pop_int(h.get(), &p, &v, 5000 * kMs));
    EXPECT_EQ(4, p);
    EXPECT_EQ(44, v);
    EXPECT_EQ(0, wait_child(child, std::chrono::seconds(5)).code);
}

TEST(Heap, TimedPushWaitsForRoom) {
    auto h = make_heap(SHMDS_TYPE_INT64, 1);
    ASSERT_EQ(0, shmds_heap_push_int(h.get(), 9, 9, 0));
    const pid_t child = fork_child([&] {
        usleep(30'000);
        std::int64_t p, v;
        return shmds_heap_pop_int(h.get(), &p, &v, SHMDS_NOWAIT) == 0 && v == 9 ? 0 : 1;
    });
    EXPECT_EQ(0, shmds_heap_push_int(h.get(), 1, 10, 5000 * kMs));
    EXPECT_EQ(0, wait_child(child, std::chrono::seconds(5)).code);
    std::int64_t p, v;
    ASSERT_EQ(0, shmds_heap_peek_int(h.get(), &p, &v));
    EXPECT_EQ(10, v);
}

TEST(Heap, PeekCopiesWithoutRemoving) {
    auto h = make_heap(SHMDS_TYPE_INT64, 4);
    std::int64_t p = 0, v = 0;
    EXPECT_EQ(-EAGAIN, shmds_heap_peek_int(h.get(), &p, &v));
    ASSERT_EQ(0, shmds_heap_push_int(h.get(), 3, 30, 0));
    ASSERT_EQ(0, shmds_heap_push_int(h.get(), 1, 10, 0));
    ASSERT_EQ(0, shmds_heap_peek_int(h.get(), &p, &v));
    EXPECT_EQ(1, p);
    EXPECT_EQ(10, v);
    ASSERT_EQ(0, shmds_heap_peek_int(h.get(), nullptr, &v)) << "priority is optional";
    EXPECT_EQ(2u, shmds_heap_size(h.get()));
    ASSERT_EQ(0, shmds_heap_pop_int(h.get(), nullptr, &v, 0));
    EXPECT_EQ(10, v);
    EXPECT_EQ(-EINVAL, shmds_heap_peek_int(h.get(), &p, nullptr));
    EXPECT_EQ(-EINVAL, shmds_heap_pop_int(h.get(), &p, nullptr, 0));
}

TEST(Heap, MultiVerbs) {
    auto h = make_heap(SHMDS_TYPE_INT64, 5);
    const std::int64_t prios[] = {4, 2, 8, 2, 6, 1, 0};
    const std::int64_t vals[] = {40, 20, 80, 21, 60, 10, 0};
    std::size_t pushed = 99, got = 99;
    EXPECT_EQ(0, shmds_heap_push_multi_int(h.get(), prios, vals, 0, &pushed, 0));
    EXPECT_EQ(0u, pushed);
    EXPECT_EQ(-EAGAIN, shmds_heap_push_multi_int(h.get(), prios, vals, 7, &pushed, SHMDS_NOWAIT));
    EXPECT_EQ(5u, pushed) << "as many as fit, in order";
    std::int64_t op[8], ov[8];
    EXPECT_EQ(0, shmds_heap_pop_multi_int(h.get(), op, ov, 0, &got, 0));
    EXPECT_EQ(0u, got);
    ASSERT_EQ(0, shmds_heap_pop_multi_int(h.get(), op, ov, 3, &got, 0));
    ASSERT_EQ(3u, got);
    EXPECT_EQ((std::vector<std::int64_t>{20, 21, 40}), std::vector<std::int64_t>(ov, ov + 3));
    EXPECT_EQ((std::vector<std::int64_t>{2, 2, 4}), std::vector<std::int64_t>(op, op + 3));
    ASSERT_EQ(0, shmds_heap_pop_multi_int(h.get(), nullptr, ov, 8, &got, 0));
    EXPECT_EQ(2u, got);
    EXPECT_EQ(60, ov[0]);
    EXPECT_EQ(80, ov[1]);
    EXPECT_EQ(-EAGAIN, shmds_heap_pop_multi_int(h.get(), op, ov, 8, &got, SHMDS_NOWAIT));
    EXPECT_EQ(0u, got);
    EXPECT_EQ(-EINVAL, shmds_heap_push_multi_int(h.get(), nullptr, vals, 1, &pushed, 0));
    EXPECT_EQ(-EINVAL, shmds_heap_push_multi_int(h.get(), prios, nullptr, 1, &pushed, 0));
    EXPECT_EQ(-EINVAL, shmds_heap_push_multi_int(h.get(), prios, vals, 1, nullptr, 0));
    EXPECT_EQ(-EINVAL, shmds_heap_pop_multi_int(h.get(), op, nullptr, 1, &got, 0));
    EXPECT_EQ(-EINVAL, shmds_heap_pop_multi_int(h.get(), op, ov, 1, nullptr, 0));
}

TEST(Heap, BytesKeepEveryByteAndLength) {
    auto h = make_heap(SHMDS_TYPE_BYTES, 8, 6);
    const std::string a("\0\xff\0x", 4), b(""), c("\xff\xff\xff\xff\xff\xff", 6);
    ASSERT_EQ(0, shmds_heap_push_bytes(h.get(), 2, a.data(), a.size(), 0));
    ASSERT_EQ(0, shmds_heap_push_bytes(h.get(), 1, nullptr, 0, 0));
    ASSERT_EQ(0, shmds_heap_push_bytes(h.get(), 3, c.data(), c.size(), 0));
    EXPECT_EQ(-E2BIG, shmds_heap_push_bytes(h.get(), 0, "1234567", 7, 0));
    EXPECT_EQ(-EINVAL, shmds_heap_push_bytes(h.get(), 0, nullptr, 3, 0));
    char buf[16];
    std::size_t len = 99;
    std::int64_t p = 0;
    ASSERT_EQ(0, shmds_heap_peek_bytes(h.get(), &p, buf, sizeof buf, &len));
    EXPECT_EQ(1, p);
    EXPECT_EQ(0u, len);
    ASSERT_EQ(0, shmds_heap_pop_bytes(h.get(), &p, nullptr, 0, &len, 0)) << "0 bytes fit nothing";
    EXPECT_EQ(b, std::string(buf, len));
    EXPECT_EQ(-ENOBUFS, shmds_heap_pop_bytes(h.get(), &p, buf, 3, &len, 0));
    EXPECT_EQ(4u, len) << "the length needed";
    EXPECT_EQ(2u, shmds_heap_size(h.get())) << "nothing removed";
    EXPECT_EQ(-ENOBUFS, shmds_heap_peek_bytes(h.get(), &p, buf, 3, &len));
    ASSERT_EQ(0, shmds_heap_pop_bytes(h.get(), &p, buf, sizeof buf, &len, 0));
    EXPECT_EQ(a, std::string(buf, len));
    EXPECT_EQ(2, p);
    ASSERT_EQ(0, shmds_heap_pop_bytes(h.get(), &p, buf, sizeof buf, &len, 0));
    EXPECT_EQ(c, std::string(buf, len));
    EXPECT_EQ(-EAGAIN, shmds_heap_pop_bytes(h.get(), &p, buf, sizeof buf, &len, 0));
    EXPECT_EQ(-EINVAL, shmds_heap_pop_bytes(h.get(), &p, nullptr, 4, &len, 0));
    EXPECT_EQ(-EINVAL, shmds_heap_pop_bytes(h.get(), &p, buf, 4, nullptr, 0));
}

TEST(Heap, BytesMultiVerbsPackAndStopAtTheFirstMisfit) {
    auto h = make_heap(SHMDS_TYPE_BYTES, 8, 8);
    const std::int64_t prios[] = {3, 1, 2, 4};
    const char *datas[] = {"ccc", "a", "bb", "dddddddd"};
    const std::size_t lens[] = {3, 1, 2, 8};
    const void *const *dv = reinterpret_cast<const void *const *>(datas);
    std::size_t pushed = 0, got = 0;
    const std::size_t too_long[] = {3, 9};
    EXPECT_EQ(-E2BIG, shmds_heap_push_multi_bytes(h.get(), prios, dv, too_long, 2, &pushed, 0));
    EXPECT_EQ(0u, shmds_heap_size(h.get())) << "all or nothing on -E2BIG";
    ASSERT_EQ(0, shmds_heap_push_multi_bytes(h.get(), prios, dv, lens, 4, &pushed, 0));
    EXPECT_EQ(4u, pushed);
    char buf[8];
    std::size_t outl[4];
    std::int64_t op[4];
    ASSERT_EQ(0, shmds_heap_pop_multi_bytes(h.get(), op, buf, sizeof buf, outl, 4, &got, 0));
    ASSERT_EQ(3u, got) << "the fourth (8 bytes) does not fit after 6";
    EXPECT_EQ("abbccc", std::string(buf, 6));
    EXPECT_EQ((std::vector<std::int64_t>{1, 2, 3}), std::vector<std::int64_t>(op, op + 3));
    EXPECT_EQ(-ENOBUFS, shmds_heap_pop_multi_bytes(h.get(), op, buf, 4, outl, 4, &got, 0));
    EXPECT_EQ(8u, outl[0]);
    ASSERT_EQ(0, shmds_heap_pop_multi_bytes(h.get(), nullptr, buf, 8, outl, 4, &got, 0));
    EXPECT_EQ(1u, got);
    EXPECT_EQ("dddddddd", std::string(buf, 8));
}

TEST(Heap, VerbsOfTheOtherValueTypeAreRefused) {
    auto hi = make_heap(SHMDS_TYPE_INT64, 4);
    auto hb = make_heap(SHMDS_TYPE_BYTES, 4, 4);
    std::int64_t p, v;
    char buf[4];
    std::size_t len, n;
    EXPECT_EQ(SHMDS_EVARIANT, shmds_heap_push_bytes(hi.get(), 1, "a", 1, 0));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_heap_pop_bytes(hi.get(), &p, buf, 4, &len, 0));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_heap_peek_bytes(hi.get(), &p, buf, 4, &len));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_heap_push_int(hb.get(), 1, 1, 0));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_heap_pop_int(hb.get(), &p, &v, 0));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_heap_peek_int(hb.get(), &p, &v));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_heap_pop_multi_int(hb.get(), &p, &v, 1, &n, 0));
    EXPECT_EQ(SHMDS_TYPE_INT64, shmds_heap_type(hi.get()));
    EXPECT_EQ(SHMDS_TYPE_BYTES, shmds_heap_type(hb.get()));
}

TEST(Heap, NullHandles) {
    std::int64_t p, v;
    EXPECT_EQ(-EINVAL, shmds_heap_push_int(nullptr, 1, 1, 0));
    EXPECT_EQ(-EINVAL, shmds_heap_pop_int(nullptr, &p, &v, 0));
    EXPECT_EQ(-EINVAL, shmds_heap_peek_int(nullptr, &p, &v));
    EXPECT_EQ(-EINVAL, shmds_heap_type(nullptr));
    EXPECT_EQ(-EINVAL, shmds_heap_is_max(nullptr));
    EXPECT_EQ(-EINVAL, shmds_heap_is_empty(nullptr));
    EXPECT_EQ(-EINVAL, shmds_heap_is_full(nullptr));
    EXPECT_EQ(-EINVAL, shmds_heap_clear(nullptr, nullptr));
    EXPECT_EQ(-EINVAL, shmds_heap_fd(nullptr));
    EXPECT_EQ(0u, shmds_heap_size(nullptr));
    EXPECT_EQ(0u, shmds_heap_capacity(nullptr));
    EXPECT_EQ(0u, shmds_heap_recoveries(nullptr));
    shmds_heap_close(nullptr);
}

TEST(Heap, ClearRemovesEverythingAndCounts) {
    auto h = make_heap(SHMDS_TYPE_INT64, 8);
    for (int i = 0; i < 5; ++i) ASSERT_EQ(0, shmds_heap_push_int(h.get(), i, i, 0));
    std::uint64_t removed = 0;
    ASSERT_EQ(0, shmds_heap_clear(h.get(), &removed));
    EXPECT_EQ(5u, removed);
    EXPECT_EQ(0u, shmds_heap_size(h.get()));
    ASSERT_EQ(0, shmds_heap_clear(h.get(), nullptr));
    ASSERT_EQ(0, shmds_heap_push_int(h.get(), 1, 7, 0));
    std::int64_t p, v;
    ASSERT_EQ(0, shmds_heap_pop_int(h.get(), &p, &v, 0));
    EXPECT_EQ(7, v);
    const auto st = stats_of(h.get());
    EXPECT_EQ(5u, st.cleared);
    EXPECT_EQ(1u, st.pop_ok);
    EXPECT_EQ(6u, st.push_ok);
}

TEST(Heap, StatsDescribeTheGeometry) {
    auto h = make_heap(SHMDS_TYPE_BYTES, 3, 10, SHMDS_HEAP_MAX);
    ASSERT_EQ(0, shmds_heap_push_bytes(h.get(), 1, "x", 1, 0));
    const auto st = stats_of(h.get());
    EXPECT_EQ(1u, st.size);
    EXPECT_EQ(3u, st.capacity);
    EXPECT_EQ(10u, st.max_len);
    EXPECT_EQ(SHMDS_HEAP_MAX, st.flags);
    EXPECT_EQ(0u, st.recoveries);
    EXPECT_GT(st.segment_bytes, 3u * 30);
    shmds_heap_stats_t small{};
    small.struct_size = 4;
    EXPECT_EQ(-EINVAL, shmds_heap_stats(h.get(), &small));
    EXPECT_EQ(-EINVAL, shmds_heap_stats(h.get(), nullptr));
}

TEST(Heap, OpenKeepsTypeFlagsAndItems) {
    TempPath path("heap_open");
    auto o = path_options(path);
    auto a = make_heap(SHMDS_TYPE_INT64, 4, 0, SHMDS_HEAP_MAX, &o);
    ASSERT_EQ(0, shmds_heap_push_int(a.get(), 5, 50, 0));
    shmds_heap_t *b = nullptr;
    ASSERT_EQ(0, shmds_heap_open(&o, SHMDS_HEAP_ANY, &b));
    HeapPtr bp(b);
    EXPECT_EQ(1, shmds_heap_is_max(b));
    EXPECT_EQ(4u, shmds_heap_capacity(b));
    std::int64_t p, v;
    ASSERT_EQ(0, shmds_heap_pop_int(b, &p, &v, 0));
    EXPECT_EQ(50, v);
    shmds_heap_t *c = nullptr;
    EXPECT_EQ(SHMDS_ETYPE, shmds_heap_open(&o, SHMDS_TYPE_BYTES, &c));
    EXPECT_EQ(-EINVAL, shmds_heap_open(&o, SHMDS_TYPE_INT32, &c));
    // create on the same path attaches; the stored geometry and flags win
    shmds_heap_config_t cfg = SHMDS_HEAP_CONFIG_INIT(SHMDS_TYPE_INT64, 4);
    ASSERT_EQ(0, shmds_heap_create(&o, &cfg, &c));
    EXPECT_EQ(1, shmds_heap_is_max(c));
    shmds_heap_close(c);
}

// ---- a hostile peer: the size, the journal and entry lengths are never trusted ----

TEST(Heap, ScribbledSizeIsRepairedNotTrusted) {
    TempPath path("heap_size");
    auto o = path_options(path);
    auto h = make_heap(SHMDS_TYPE_INT64, 4, 0, 0, &o);
    ASSERT_EQ(0, shmds_heap_push_int(h.get(), 1, 1, 0));
    const int fd = shmds_heap_fd(h.get());
    scribble_u64(fd, kSizeOff, 1000);
    EXPECT_LE(shmds_heap_size(h.get()), 4u);
    std::int64_t p, v;
    EXPECT_EQ(-EAGAIN, shmds_heap_peek_int(h.get(), &p, &v)) << "emptied by the repair";
    EXPECT_EQ(1u, stats_of(h.get()).recoveries);
    ASSERT_EQ(0, shmds_heap_push_int(h.get(), 2, 2, 0));
    ASSERT_EQ(0, shmds_heap_pop_int(h.get(), &p, &v, 0));
    EXPECT_EQ(2, v);
}

TEST(Heap, JournalOutOfBoundsEmptiesTheHeap) {
    TempPath path("heap_journal");
    auto o = path_options(path);
    auto h = make_heap(SHMDS_TYPE_INT64, 4, 0, 0, &o);
    ASSERT_EQ(0, shmds_heap_push_int(h.get(), 1, 1, 0));
    const int fd = shmds_heap_fd(h.get());
    for (auto [op, hole, jsize] : {std::array<std::uint64_t, 3>{1, 9, 2},
                                   std::array<std::uint64_t, 3>{2, 0, 5},
                                   std::array<std::uint64_t, 3>{7, 0, 1},
                                   std::array<std::uint64_t, 3>{1, ~0ull, ~0ull}}) {
        scribble_u64(fd, kHoleOff, hole);
        scribble_u64(fd, kJsizeOff, jsize);
        scribble_u64(fd, kOpOff, op);
        std::int64_t p, v;
        EXPECT_EQ(-EAGAIN, shmds_heap_pop_int(h.get(), &p, &v, 0)) << "op " << op;
        EXPECT_EQ(0u, read_u64_at(fd, kOpOff));
        ASSERT_EQ(0, shmds_heap_push_int(h.get(), 1, 1, 0));
    }
    EXPECT_EQ(4u, stats_of(h.get()).recoveries) << "each damage counted once";
}

TEST(Heap, OpenJournalIsFinishedIntoAValidHeap) {
    // A pop that died after its commit: the root gone, the last entry moving down from
    // hole 0. Made by hand here (the crash suite kills real processes there).
    TempPath path("heap_open_journal");
    auto o = path_options(path);
    auto h = make_heap(SHMDS_TYPE_INT64, 8, 0, 0, &o);
    for (std::int64_t i = 1; i <= 7; ++i) ASSERT_EQ(0, shmds_heap_push_int(h.get(), i, i * 10, 0));
    const int fd = shmds_heap_fd(h.get());
    const std::uint64_t stride = 24, moving = kDataOff + 8 * stride;
    std::uint8_t last[24];
    ASSERT_EQ(ssize_t(24), pread(fd, last, 24, off_t(kDataOff + 6 * stride)));
    ASSERT_EQ(ssize_t(24), pwrite(fd, last, 24, off_t(moving)));
    scribble_u64(fd, kHoleOff, 0);
    scribble_u64(fd, kJsizeOff, 6);
    scribble_u64(fd, kOpOff, 2);
    std::vector<std::int64_t> ps;
    const auto vs = drain_values(h.get(), &ps);
    EXPECT_EQ((std::vector<std::int64_t>{2, 3, 4, 5, 6, 7}), ps);
    EXPECT_EQ((std::vector<std::int64_t>{20, 30, 40, 50, 60, 70}), vs);
    EXPECT_EQ(1u, stats_of(h.get()).recoveries);
}

TEST(Heap, ScribbledBytesLengthIsCorruptAndRemoved) {
    TempPath path("heap_len");
    auto o = path_options(path);
    auto h = make_heap(SHMDS_TYPE_BYTES, 4, 8, 0, &o);
    ASSERT_EQ(0, shmds_heap_push_bytes(h.get(), 1, "abc", 3, 0));
    ASSERT_EQ(0, shmds_heap_push_bytes(h.get(), 2, "def", 3, 0));
    const int fd = shmds_heap_fd(h.get());
    const std::uint32_t huge = 0xfffffff0u;
    ASSERT_EQ(ssize_t(4), pwrite(fd, &huge, 4, off_t(kDataOff + 16)));  // the root's length
    char buf[64];
    std::size_t len;
    std::int64_t p;
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_heap_peek_bytes(h.get(), &p, buf, sizeof buf, &len));
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_heap_pop_bytes(h.get(), &p, buf, sizeof buf, &len, 0));
    ASSERT_EQ(0, shmds_heap_pop_bytes(h.get(), &p, buf, sizeof buf, &len, 0));
    EXPECT_EQ("def", std::string(buf, len));
    EXPECT_EQ(1u, stats_of(h.get()).recoveries);
}

TEST(Heap, LockWordNamingNoThreadIsTakenOver) {
    TempPath path("heap_lock");
    auto o = path_options(path);
    auto h = make_heap(SHMDS_TYPE_INT64, 4, 0, 0, &o);
    ASSERT_EQ(0, shmds_heap_push_int(h.get(), 1, 1, 0));
    scribble_u64(shmds_heap_fd(h.get()), kControlOff, kNoSuchThreadWord);
    std::int64_t p, v;
    ASSERT_EQ(0, shmds_heap_pop_int(h.get(), &p, &v, SHMDS_FOREVER));
    EXPECT_EQ(1, v);
    EXPECT_EQ(1u, stats_of(h.get()).recoveries);
}

// Pushes and pops release the lock with a plain store, so a sleeper must take and drop
// it after announcing itself (core::lock_passage). Seen from outside: a sleeper behind a
// dead holder's lock word takes it over (and frees it) before it sleeps, for a pop on an
// empty heap and a push on a full one. (stats would take it over too: read the word.)
TEST(Heap, SleepersPassThroughTheLock) {
    TempPath path("heap_passage");
    auto o = path_options(path);
    auto h = make_heap(SHMDS_TYPE_INT64, 1, 0, 0, &o);
    const int fd = shmds_heap_fd(h.get());
    scribble_u64(fd, kControlOff, kNoSuchThreadWord);
    std::int64_t p, v;
    EXPECT_EQ(-ETIMEDOUT, shmds_heap_pop_int(h.get(), &p, &v, 300'000'000));
    EXPECT_EQ(0u, read_u64_at(fd, kControlOff));
    ASSERT_EQ(0, shmds_heap_push_int(h.get(), 1, 1, 0));
    scribble_u64(fd, kControlOff, kNoSuchThreadWord);
    EXPECT_EQ(-ETIMEDOUT, shmds_heap_push_int(h.get(), 2, 2, 300'000'000));
    EXPECT_EQ(0u, read_u64_at(fd, kControlOff));
    EXPECT_EQ(2u, stats_of(h.get()).recoveries);
}

TEST(Heap, LockHeldByALiveStrangerTimesOut) {
    TempPath path("heap_stranger");
    auto o = path_options(path);
    auto h = make_heap(SHMDS_TYPE_INT64, 4, 0, 0, &o);
    LiveBystander stranger;
    scribble_u64(shmds_heap_fd(h.get()), kControlOff, stranger.stamp());
    EXPECT_EQ(-ETIMEDOUT, shmds_heap_push_int(h.get(), 1, 1, 20 * kMs));
    EXPECT_EQ(-EAGAIN, shmds_heap_push_int(h.get(), 1, 1, SHMDS_NOWAIT));
    scribble_u64(shmds_heap_fd(h.get()), kControlOff, 0);
    EXPECT_EQ(0, shmds_heap_push_int(h.get(), 1, 1, 0));
}

}  // namespace
