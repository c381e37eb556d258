// The deque through its public C API, one behaviour per test: every verb, every form and
// every return code deque.h documents. Processes, crashes, the oracle and the C++
// veneer have suites of their own.
#include "deque_helpers.hpp"
#include "support/damaged_lock.hpp"

#include "deque/layout.hpp"  // the hostile-peer tests need to know where the counters live

#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <sys/eventfd.h>
#include <unistd.h>
#include <vector>

using namespace deque_test;
using namespace shmds::test;

namespace {

TEST(Deque, CreateRefusesBadConfigs) {
    shmds_deque_t *d = nullptr;
    shmds_deque_config_t cfg = SHMDS_DEQUE_CONFIG_INIT(SHMDS_TYPE_INT64, 0);
    EXPECT_EQ(-EINVAL, shmds_deque_create(nullptr, &cfg, &d)) << "capacity 0";
    cfg.capacity = (std::uint64_t{1} << 31) + 1;
    EXPECT_EQ(-EINVAL, shmds_deque_create(nullptr, &cfg, &d)) << "capacity over 2^31";
    cfg = SHMDS_DEQUE_CONFIG_INIT(99, 4);
    EXPECT_EQ(-EINVAL, shmds_deque_create(nullptr, &cfg, &d));
    cfg = SHMDS_DEQUE_CONFIG_INIT(SHMDS_TYPE_BYTES, 4);
    EXPECT_EQ(-EINVAL, shmds_deque_create(nullptr, &cfg, &d)) << "bytes without max_len";
    cfg.max_len = (1u << 20) + 1;
    EXPECT_EQ(-EINVAL, shmds_deque_create(nullptr, &cfg, &d));
    cfg = SHMDS_DEQUE_CONFIG_INIT(SHMDS_TYPE_INT32, 4);
    cfg.max_len = 8;
    EXPECT_EQ(-EINVAL, shmds_deque_create(nullptr, &cfg, &d)) << "max_len on an int deque";
    EXPECT_EQ(-EINVAL, shmds_deque_create(nullptr, nullptr, &d));
    cfg.max_len = 0;
    EXPECT_EQ(-EINVAL, shmds_deque_create(nullptr, &cfg, nullptr));
    cfg.struct_size = 4;
    EXPECT_EQ(-EINVAL, shmds_deque_create(nullptr, &cfg, &d));
    EXPECT_EQ(nullptr, d);
}

TEST(Deque, ConfigInitMatchesTheMacro) {
    shmds_deque_config_t a = SHMDS_DEQUE_CONFIG_INIT(SHMDS_TYPE_INT8, 9);
    shmds_deque_config_t b;
    std::memset(&b, 0xab, sizeof b);
    ASSERT_EQ(0, shmds_deque_config_init(&b, sizeof b, SHMDS_TYPE_INT8, 9));
    EXPECT_EQ(a.struct_size, b.struct_size);
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.capacity, b.capacity);
    EXPECT_EQ(a.max_len, b.max_len);
    EXPECT_EQ(-EINVAL, shmds_deque_config_init(nullptr, sizeof b, 1, 1));
    EXPECT_EQ(-EINVAL, shmds_deque_config_init(&b, 3, 1, 1));
}

TEST(Deque, CapacityIsExactlyWhatWasAsked) {
    for (std::uint64_t cap : {1u, 3u, 5u, 8u}) {
        auto d = make_deque(SHMDS_TYPE_INT64, cap);
        EXPECT_EQ(cap, shmds_deque_capacity(d.get()));
        for (std::uint64_t i = 0; i < cap; ++i)
            ASSERT_EQ(0, shmds_deque_push_int(d.get(), i % 2 ? F : B, std::int64_t(i), 0));
        EXPECT_EQ(1, shmds_deque_is_full(d.get()));
        EXPECT_EQ(-EAGAIN, shmds_deque_push_int(d.get(), B, 99, 0));
        EXPECT_EQ(-EAGAIN, shmds_deque_push_int(d.get(), F, 99, 0));
    }
}

TEST(Deque, BothEndsAcrossTheWrap) {
    // Capacity 5 is not a power of two: the slot index is a remainder, and the counters
    // start far from 0 so push_front never wraps them.
    auto d = make_deque(SHMDS_TYPE_INT64, 5);
    std::int64_t v = 0;
    for (int round = 0; round < 20; ++round) {
        ASSERT_EQ(0, shmds_deque_push_int(d.get(), B, 10 * round + 1, 0));
        ASSERT_EQ(0, shmds_deque_push_int(d.get(), F, 10 * round + 2, 0));
        ASSERT_EQ(0, shmds_deque_push_int(d.get(), B, 10 * round + 3, 0));
        ASSERT_EQ(0, shmds_deque_peek_int(d.get(), F, &v));
        EXPECT_EQ(10 * round + 2, v);
        ASSERT_EQ(0, shmds_deque_peek_int(d.get(), B, &v));
        EXPECT_EQ(10 * round + 3, v);
        ASSERT_EQ(0, shmds_deque_pop_int(d.get(), F, &v, 0));
        EXPECT_EQ(10 * round + 2, v);
        ASSERT_EQ(0, shmds_deque_pop_int(d.get(), B, &v, 0));
        EXPECT_EQ(10 * round + 3, v);
        ASSERT_EQ(0, shmds_deque_pop_int(d.get(), F, &v, 0));
        EXPECT_EQ(10 * round + 1, v);
    }
    EXPECT_EQ(1, shmds_deque_is_empty(d.get()));
    EXPECT_EQ(-EAGAIN, shmds_deque_pop_int(d.get(), F, &v, 0));
    EXPECT_EQ(-EAGAIN, shmds_deque_pop_int(d.get(), B, &v, 0));
    EXPECT_EQ(-EAGAIN, shmds_deque_peek_int(d.get(), F, &v));
    EXPECT_EQ(-EAGAIN, shmds_deque_peek_int(d.get(), B, &v));
}

TEST(Deque, EveryIntegerTypeStoresItsRangeAndRefusesBeyond) {
    struct Row {
        int type;
        std::int64_t lo, hi;
    };
    const Row rows[] = {
        {SHMDS_TYPE_INT8, INT8_MIN, INT8_MAX},     {SHMDS_TYPE_INT16, INT16_MIN, INT16_MAX},
        {SHMDS_TYPE_INT32, INT32_MIN, INT32_MAX},  {SHMDS_TYPE_INT64, INT64_MIN, INT64_MAX},
        {SHMDS_TYPE_UINT8, 0, UINT8_MAX},          {SHMDS_TYPE_UINT16, 0, UINT16_MAX},
        {SHMDS_TYPE_UINT32, 0, UINT32_MAX},
    };
    for (const Row &r : rows) {
        SCOPED_TRACE(r.type);
        auto d = make_deque(r.type, 4);
        EXPECT_EQ(r.type, shmds_deque_type(d.get()));
        ASSERT_EQ(0, shmds_deque_push_int(d.get(), B, r.lo, 0));
        ASSERT_EQ(0, shmds_deque_push_int(d.get(), B, r.hi, SHMDS_FOREVER));
        if (r.type != SHMDS_TYPE_INT64) {
            EXPECT_EQ(-ERANGE, shmds_deque_push_int(d.get(), B, r.hi + 1, 0));
            EXPECT_EQ(-ERANGE, shmds_deque_push_int(d.get(), F, r.lo - 1, 0));
        }
        std::int64_t v;
        ASSERT_EQ(0, shmds_deque_pop_int(d.get(), F, &v, 0));
        EXPECT_EQ(r.lo, v);
        ASSERT_EQ(0, shmds_deque_pop_int(d.get(), F, &v, SHMDS_FOREVER));
        EXPECT_EQ(r.hi, v);
        EXPECT_EQ(SHMDS_EVARIANT, shmds_deque_push_f64(d.get(), B, 1.0, 0));
        EXPECT_EQ(SHMDS_EVARIANT, shmds_deque_push_bytes(d.get(), B, "x", 1, 0));
    }
}

// SHMDS_TYPE_UINT64 through the _uint verbs: values above INT64_MAX go in and come out
// exactly at both ends and in batches; an _int reader meeting one gets -ERANGE and the
// item stays for a _uint reader (never truncated, never lost).
TEST(Deque, Uint64KeepsValuesAboveInt64MaxAndIntReadersGetErange) {
    auto d = make_deque(SHMDS_TYPE_UINT64, 4);
    EXPECT_EQ(SHMDS_TYPE_UINT64, shmds_deque_type(d.get()));
    const std::uint64_t big = UINT64_MAX, mid = (std::uint64_t{1} << 63) + 5;
    ASSERT_EQ(0, shmds_deque_push_uint(d.get(), B, big, 0));
    ASSERT_EQ(0, shmds_deque_push_uint(d.get(), F, mid, SHMDS_FOREVER));
    EXPECT_EQ(-ERANGE, shmds_deque_push_int(d.get(), B, -1, 0));
    ASSERT_EQ(0, shmds_deque_push_int(d.get(), B, 7, 0));  // [mid, big, 7]
    std::uint64_t u = 0;
    ASSERT_EQ(0, shmds_deque_peek_uint(d.get(), F, &u));
    EXPECT_EQ(mid, u);
    std::int64_t v = 0, vs[4] = {};
    EXPECT_EQ(-ERANGE, shmds_deque_peek_int(d.get(), F, &v));
    EXPECT_EQ(-ERANGE, shmds_deque_pop_int(d.get(), F, &v, 0));
    EXPECT_EQ(-ERANGE, shmds_deque_pop_int(d.get(), F, &v, SHMDS_FOREVER));
    std::size_t got = 9;
    EXPECT_EQ(-ERANGE, shmds_deque_pop_multi_int(d.get(), F, vs, 3, &got, 0));
    EXPECT_EQ(0u, got);
    EXPECT_EQ(3u, shmds_deque_size(d.get())) << "a refused item stays";
    // From the back: 7 is delivered, then big ends the batch and stays.
    ASSERT_EQ(0, shmds_deque_pop_multi_int(d.get(), B, vs, 3, &got, 0));
    EXPECT_EQ(1u, got);
    EXPECT_EQ(7, vs[0]);
    EXPECT_EQ(-ERANGE, shmds_deque_drain_int(d.get(), B, vs, 3, &got));
    ASSERT_EQ(0, shmds_deque_pop_uint(d.get(), F, &u, 0));
    EXPECT_EQ(mid, u);
    std::uint64_t us[4] = {};
    ASSERT_EQ(0, shmds_deque_drain_uint(d.get(), B, us, 4, &got));
    ASSERT_EQ(1u, got);
    EXPECT_EQ(big, us[0]);
    const std::uint64_t in[3] = {0, std::uint64_t(INT64_MAX) + 1, big};
    ASSERT_EQ(0, shmds_deque_push_multi_uint(d.get(), B, in, 3, &got, 0));
    EXPECT_EQ(3u, got);
    ASSERT_EQ(0, shmds_deque_pop_multi_uint(d.get(), F, us, 4, &got, SHMDS_FOREVER));
    ASSERT_EQ(3u, got);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(in[i], us[i]);
    ASSERT_EQ(0, shmds_deque_drain_uint(d.get(), F, us, 4, &got));
    EXPECT_EQ(0u, got);
    EXPECT_EQ(0u, stats_of(d.get()).recoveries) << "-ERANGE is not damage";
    EXPECT_EQ(SHMDS_EVARIANT, shmds_deque_push_f64(d.get(), B, 1.0, 0));
    auto f = make_deque(SHMDS_TYPE_F64, 2);
    EXPECT_EQ(SHMDS_EVARIANT, shmds_deque_push_uint(f.get(), B, 1, 0));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_deque_pop_uint(f.get(), B, &u, 0));
}

// The _uint verbs on the other integer types: the type decides the range both ways.
TEST(Deque, UintVerbsAreRangeCheckedOnEveryIntegerType) {
    auto u8 = make_deque(SHMDS_TYPE_UINT8, 4);
    EXPECT_EQ(-ERANGE, shmds_deque_push_uint(u8.get(), B, 256, 0));
    const std::uint64_t batch[2] = {1, 256};
    std::size_t n = 9;
    EXPECT_EQ(-ERANGE, shmds_deque_push_multi_uint(u8.get(), B, batch, 2, &n, 0));
    EXPECT_EQ(0u, n);
    EXPECT_EQ(0u, shmds_deque_size(u8.get())) << "all or nothing";
    ASSERT_EQ(0, shmds_deque_push_uint(u8.get(), F, 255, 0));
    std::uint64_t u = 0;
    ASSERT_EQ(0, shmds_deque_pop_uint(u8.get(), B, &u, 0));
    EXPECT_EQ(255u, u);

    auto i8 = make_deque(SHMDS_TYPE_INT8, 4);
    EXPECT_EQ(-ERANGE, shmds_deque_push_uint(i8.get(), B, 128, 0));
    ASSERT_EQ(0, shmds_deque_push_uint(i8.get(), B, 127, 0));

    auto i64 = make_deque(SHMDS_TYPE_INT64, 4);
    EXPECT_EQ(-ERANGE, shmds_deque_push_uint(i64.get(), B, std::uint64_t(INT64_MAX) + 1, 0));
    ASSERT_EQ(0, shmds_deque_push_uint(i64.get(), B, std::uint64_t(INT64_MAX), 0));
    ASSERT_EQ(0, shmds_deque_push_int(i64.get(), B, -5, 0));
    EXPECT_EQ(-ERANGE, shmds_deque_peek_uint(i64.get(), B, &u));
    EXPECT_EQ(-ERANGE, shmds_deque_pop_uint(i64.get(), B, &u, 0));
    std::int64_t v = 0;
    ASSERT_EQ(0, shmds_deque_pop_int(i64.get(), B, &v, 0)) << "the refused item stayed";
    EXPECT_EQ(-5, v);
    ASSERT_EQ(0, shmds_deque_pop_uint(i64.get(), B, &u, 0));
    EXPECT_EQ(std::uint64_t(INT64_MAX), u);
}

TEST(Deque, FloatsKeepTheirBits) {
    auto d = make_deque(SHMDS_TYPE_F64, 8);
    const double vals[] = {0.0, -0.0, 1.5, -1e300, std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::denorm_min()};
    for (double x : vals) ASSERT_EQ(0, shmds_deque_push_f64(d.get(), B, x, 0));
    for (double x : vals) {
        double y;
        ASSERT_EQ(0, shmds_deque_pop_f64(d.get(), F, &y, 0));
        EXPECT_EQ(0, std::memcmp(&x, &y, sizeof x));
    }
    ASSERT_EQ(0, shmds_deque_push_f64(d.get(), F, std::nan(""), 0));
    double y;
    ASSERT_EQ(0, shmds_deque_peek_f64(d.get(), B, &y));
    EXPECT_TRUE(std::isnan(y));
    ASSERT_EQ(0, shmds_deque_pop_f64(d.get(), B, &y, 0));
    EXPECT_EQ(-EAGAIN, shmds_deque_pop_f64(d.get(), B, &y, 0));
    EXPECT_EQ(-EAGAIN, shmds_deque_peek_f64(d.get(), F, &y));
    std::int64_t i;
    EXPECT_EQ(SHMDS_EVARIANT, shmds_deque_pop_int(d.get(), F, &i, 0));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_deque_push_int(d.get(), F, 1, 0));

    auto f = make_deque(SHMDS_TYPE_F32, 4);
    ASSERT_EQ(0, shmds_deque_push_f64(f.get(), B, 0.5, 0));
    EXPECT_EQ(-ERANGE, shmds_deque_push_f64(f.get(), B, 1e300, 0));
    ASSERT_EQ(0, shmds_deque_pop_f64(f.get(), F, &y, 0));
    EXPECT_EQ(0.5, y);
}

TEST(Deque, BytesKeepEveryByteAndRefuseLongerThanMaxLen) {
    auto d = make_deque(SHMDS_TYPE_BYTES, 4, 6);
    const std::string a("\0\xff\0x\xff", 5), full("abcdef"), empty;
    ASSERT_EQ(0, shmds_deque_push_bytes(d.get(), B, a.data(), a.size(), 0));
    ASSERT_EQ(0, shmds_deque_push_bytes(d.get(), B, full.data(), full.size(), 0));
    ASSERT_EQ(0, shmds_deque_push_bytes(d.get(), F, nullptr, 0, 0));
    EXPECT_EQ(-E2BIG, shmds_deque_push_bytes(d.get(), B, "abcdefg", 7, 0));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "max_len"));
    EXPECT_EQ(-EINVAL, shmds_deque_push_bytes(d.get(), B, nullptr, 3, 0));
    EXPECT_EQ(3u, shmds_deque_size(d.get()));

    char buf[16];
    std::size_t len = 99;
    ASSERT_EQ(0, shmds_deque_pop_bytes(d.get(), F, nullptr, 0, &len, 0));
    EXPECT_EQ(0u, len);
    // Too small a buffer: -ENOBUFS with the length needed, and the item stays.
    EXPECT_EQ(-ENOBUFS, shmds_deque_pop_bytes(d.get(), B, buf, 3, &len, 0));
    EXPECT_EQ(6u, len);
    EXPECT_EQ(-ENOBUFS, shmds_deque_peek_bytes(d.get(), B, buf, 3, &len));
    EXPECT_EQ(6u, len);
    ASSERT_EQ(0, shmds_deque_peek_bytes(d.get(), F, buf, sizeof buf, &len));
    EXPECT_EQ(a, std::string(buf, len));
    ASSERT_EQ(0, shmds_deque_pop_bytes(d.get(), B, buf, sizeof buf, &len, 0));
    EXPECT_EQ(full, std::string(buf, len));
    ASSERT_EQ(0, shmds_deque_pop_bytes(d.get(), F, buf, sizeof buf, &len, 0));
    EXPECT_EQ(a, std::string(buf, len));
    EXPECT_EQ(-EAGAIN, shmds_deque_pop_bytes(d.get(), F, buf, sizeof buf, &len, 0));
    EXPECT_EQ(-EAGAIN, shmds_deque_peek_bytes(d.get(), F, buf, sizeof buf, &len));
    EXPECT_EQ(-EINVAL, shmds_deque_pop_bytes(d.get(), F, buf, sizeof buf, nullptr, 0));
    EXPECT_EQ(-EINVAL, shmds_deque_pop_bytes(d.get(), F, nullptr, 4, &len, 0));
    EXPECT_EQ(-EINVAL, shmds_deque_peek_bytes(d.get(), F, nullptr, 4, &len));
    EXPECT_EQ(-EINVAL, shmds_deque_peek_bytes(d.get(), F, buf, 4, nullptr));
    std::int64_t i;
    EXPECT_EQ(SHMDS_EVARIANT, shmds_deque_peek_int(d.get(), F, &i));
    double x;
    EXPECT_EQ(SHMDS_EVARIANT, shmds_deque_peek_f64(d.get(), F, &x));
}

TEST(Deque, MultiIntPushesPartiallyAndPopsInOrder) {
    auto d = make_deque(SHMDS_TYPE_INT32, 5);
    const std::int64_t v[] = {1, 2, 3, 4, 5, 6, 7};
    std::size_t pushed = 99;
    EXPECT_EQ(-EAGAIN, shmds_deque_push_multi_int(d.get(), B, v, 7, &pushed, 0));
    EXPECT_EQ(5u, pushed);
    std::int64_t out[8];
    std::size_t got = 0;
    ASSERT_EQ(0, shmds_deque_pop_multi_int(d.get(), B, out, 2, &got, 0));
    ASSERT_EQ(2u, got);
    EXPECT_EQ(5, out[0]);
    EXPECT_EQ(4, out[1]);
    ASSERT_EQ(0, shmds_deque_push_multi_int(d.get(), F, v + 5, 2, &pushed, 0));
    EXPECT_EQ(2u, pushed);
    ASSERT_EQ(0, shmds_deque_pop_multi_int(d.get(), F, out, 8, &got, SHMDS_FOREVER));
    ASSERT_EQ(5u, got);
    const std::int64_t want[] = {7, 6, 1, 2, 3};
    EXPECT_EQ(0, std::memcmp(want, out, sizeof want));
    EXPECT_EQ(-EAGAIN, shmds_deque_pop_multi_int(d.get(), F, out, 8, &got, 0));
    EXPECT_EQ(0u, got);
    // A value that does not fit refuses the whole batch.
    const std::int64_t bad[] = {1, std::int64_t(1) << 40};
    EXPECT_EQ(-ERANGE, shmds_deque_push_multi_int(d.get(), B, bad, 2, &pushed, 0));
    EXPECT_EQ(0u, shmds_deque_size(d.get()));
    EXPECT_EQ(0, shmds_deque_push_multi_int(d.get(), B, nullptr, 0, &pushed, 0));
    EXPECT_EQ(-EINVAL, shmds_deque_push_multi_int(d.get(), B, nullptr, 1, &pushed, 0));
    EXPECT_EQ(-EINVAL, shmds_deque_push_multi_int(d.get(), B, v, 1, nullptr, 0));
    EXPECT_EQ(0, shmds_deque_pop_multi_int(d.get(), B, nullptr, 0, &got, 0));
    EXPECT_EQ(-EINVAL, shmds_deque_pop_multi_int(d.get(), B, nullptr, 1, &got, 0));
    EXPECT_EQ(-EINVAL, shmds_deque_pop_multi_int(d.get(), B, out, 1, nullptr, 0));
}

TEST(Deque, DrainTakesWhatIsThereAndEmptyIsSuccess) {
    auto d = make_deque(SHMDS_TYPE_INT64, 8);
    std::int64_t out[8];
    std::size_t got = 99;
    EXPECT_EQ(0, shmds_deque_drain_int(d.get(), F, out, 8, &got));
    EXPECT_EQ(0u, got);
    for (int i = 0; i < 6; ++i) ASSERT_EQ(0, shmds_deque_push_int(d.get(), B, i, 0));
    ASSERT_EQ(0, shmds_deque_drain_int(d.get(), B, out, 4, &got));
    ASSERT_EQ(4u, got);
    EXPECT_EQ(5, out[0]);
    EXPECT_EQ(2, out[3]);
    ASSERT_EQ(0, shmds_deque_drain_int(d.get(), F, out, 8, &got));
    ASSERT_EQ(2u, got);
    EXPECT_EQ(0, out[0]);
    EXPECT_EQ(-EINVAL, shmds_deque_drain_int(d.get(), F, nullptr, 8, &got));
    EXPECT_EQ(-EINVAL, shmds_deque_drain_int(d.get(), F, out, 8, nullptr));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_deque_drain_f64(d.get(), F, nullptr, 0, &got));
}

TEST(Deque, MultiAndDrainF64) {
    auto d = make_deque(SHMDS_TYPE_F64, 3);
    const double v[] = {0.25, -2.5, 8.0, 9.0};
    std::size_t pushed = 0, got = 0;
    EXPECT_EQ(-EAGAIN, shmds_deque_push_multi_f64(d.get(), F, v, 4, &pushed, 0));
    EXPECT_EQ(3u, pushed);
    double out[4];
    ASSERT_EQ(0, shmds_deque_pop_multi_f64(d.get(), F, out, 1, &got, 0));
    EXPECT_EQ(8.0, out[0]);
    ASSERT_EQ(0, shmds_deque_drain_f64(d.get(), B, out, 4, &got));
    ASSERT_EQ(2u, got);
    EXPECT_EQ(0.25, out[0]);
    EXPECT_EQ(-2.5, out[1]);
    EXPECT_EQ(-EAGAIN, shmds_deque_pop_multi_f64(d.get(), F, out, 4, &got, 0));
    EXPECT_EQ(-EINVAL, shmds_deque_push_multi_f64(d.get(), F, nullptr, 1, &pushed, 0));
    EXPECT_EQ(-EINVAL, shmds_deque_pop_multi_f64(d.get(), F, nullptr, 1, &got, 0));
    EXPECT_EQ(-EINVAL, shmds_deque_drain_f64(d.get(), F, out, 1, nullptr));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_deque_push_multi_int(d.get(), F, nullptr, 0, &pushed, 0));
}

TEST(Deque, MultiAndDrainBytesPackAndStopAtTheBuffer) {
    auto d = make_deque(SHMDS_TYPE_BYTES, 8, 10);
    const char *datas[] = {"one", "", "three", "0123456789", "x"};
    const std::size_t lens[] = {3, 0, 5, 10, 1};
    std::size_t pushed = 0, got = 0;
    ASSERT_EQ(0, shmds_deque_push_multi_bytes(d.get(), B, reinterpret_cast<const void *const *>(datas),
                                              lens, 5, &pushed, 0));
    EXPECT_EQ(5u, pushed);
    char buf[12];
    std::size_t out_lens[8];
    // "one", "", "three" fit 12 bytes; the 10-byte item would overflow: the batch stops.
    ASSERT_EQ(0, shmds_deque_pop_multi_bytes(d.get(), F, buf, sizeof buf, out_lens, 8, &got, 0));
    ASSERT_EQ(3u, got);
    EXPECT_EQ("onethree", std::string(buf, 8));
    EXPECT_EQ(0u, out_lens[1]);
    ASSERT_EQ(-ENOBUFS, shmds_deque_drain_bytes(d.get(), F, buf, 4, out_lens, 8, &got));
    EXPECT_EQ(10u, out_lens[0]);
    ASSERT_EQ(0, shmds_deque_drain_bytes(d.get(), B, buf, sizeof buf, out_lens, 8, &got));
    ASSERT_EQ(2u, got);
    EXPECT_EQ("x0123456789", std::string(buf, 11));
    const char *too_long[] = {"ok", "this is too long"};
    const std::size_t too_long_lens[] = {2, 16};
    EXPECT_EQ(-E2BIG, shmds_deque_push_multi_bytes(d.get(), B,
                                                   reinterpret_cast<const void *const *>(too_long),
                                                   too_long_lens, 2, &pushed, 0));
    EXPECT_EQ(0u, shmds_deque_size(d.get()));
    const void *null_data[] = {nullptr};
    const std::size_t one[] = {1};
    EXPECT_EQ(-EINVAL, shmds_deque_push_multi_bytes(d.get(), B, null_data, one, 1, &pushed, 0));
    EXPECT_EQ(-EINVAL, shmds_deque_push_multi_bytes(d.get(), B, nullptr, one, 1, &pushed, 0));
    EXPECT_EQ(-EINVAL, shmds_deque_pop_multi_bytes(d.get(), F, buf, 4, nullptr, 1, &got, 0));
    EXPECT_EQ(-EINVAL, shmds_deque_drain_bytes(d.get(), F, nullptr, 4, out_lens, 1, &got));
    EXPECT_EQ(-EAGAIN, shmds_deque_pop_multi_bytes(d.get(), F, buf, 4, out_lens, 1, &got, 0));
}

TEST(Deque, BadEndsHandlesAndTimeoutsAreEinval) {
    auto d = make_deque(SHMDS_TYPE_INT64, 4);
    std::int64_t v;
    std::size_t n;
    EXPECT_EQ(-EINVAL, shmds_deque_push_int(d.get(), 2, 1, 0));
    EXPECT_EQ(-EINVAL, shmds_deque_pop_int(d.get(), -1, &v, 0));
    EXPECT_EQ(-EINVAL, shmds_deque_peek_int(d.get(), 7, &v));
    EXPECT_EQ(-EINVAL, shmds_deque_push_multi_int(d.get(), 3, &v, 1, &n, 0));
    EXPECT_EQ(-EINVAL, shmds_deque_push_int(d.get(), B, 1, -2));
    EXPECT_EQ(-EINVAL, shmds_deque_pop_int(d.get(), B, &v, -5));
    EXPECT_EQ(-EINVAL, shmds_deque_pop_int(d.get(), B, nullptr, 0));
    EXPECT_EQ(-EINVAL, shmds_deque_peek_int(d.get(), B, nullptr));
    EXPECT_EQ(-EINVAL, shmds_deque_push_int(nullptr, B, 1, 0));
    EXPECT_EQ(-EINVAL, shmds_deque_pop_int(nullptr, B, &v, 0));
    EXPECT_EQ(-EINVAL, shmds_deque_push_f64(nullptr, B, 1, 0));
    EXPECT_EQ(-EINVAL, shmds_deque_pop_f64(d.get(), B, nullptr, 0));
    EXPECT_EQ(-EINVAL, shmds_deque_peek_f64(d.get(), B, nullptr));
    EXPECT_EQ(-EINVAL, shmds_deque_push_bytes(nullptr, B, "", 0, 0));
    EXPECT_EQ(-EINVAL, shmds_deque_type(nullptr));
    EXPECT_EQ(-EINVAL, shmds_deque_is_empty(nullptr));
    EXPECT_EQ(-EINVAL, shmds_deque_is_full(nullptr));
    EXPECT_EQ(-EINVAL, shmds_deque_clear(nullptr, nullptr));
    EXPECT_EQ(-EINVAL, shmds_deque_stats(nullptr, nullptr));
    EXPECT_EQ(-EINVAL, shmds_deque_stats(d.get(), nullptr));
    EXPECT_EQ(0u, shmds_deque_size(nullptr));
    EXPECT_EQ(0u, shmds_deque_capacity(nullptr));
    EXPECT_EQ(-EINVAL, shmds_deque_fd(nullptr));
    EXPECT_EQ(-EINVAL, shmds_deque_sync(nullptr));
    shmds_deque_close(nullptr);
}

TEST(Deque, TimedCallsTimeOutAndCount) {
    auto d = make_deque(SHMDS_TYPE_INT64, 1);
    std::int64_t v;
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(-ETIMEDOUT, shmds_deque_pop_int(d.get(), F, &v, 30'000'000));
    EXPECT_GE(ms_since(t0), 29.0);
    ASSERT_EQ(0, shmds_deque_push_int(d.get(), B, 1, 0));
    EXPECT_EQ(-ETIMEDOUT, shmds_deque_push_int(d.get(), F, 2, 20'000'000));
    const auto s = stats_of(d.get());
    EXPECT_EQ(1u, s.push_full);
    EXPECT_EQ(1u, s.pop_empty);
    EXPECT_EQ(1u, s.push_ok);
}

TEST(Deque, ClearRemovesEverythingAndCounts) {
    auto d = make_deque(SHMDS_TYPE_INT16, 6);
    for (int i = 0; i < 4; ++i) ASSERT_EQ(0, shmds_deque_push_int(d.get(), F, i, 0));
    std::uint64_t removed = 0;
    ASSERT_EQ(0, shmds_deque_clear(d.get(), &removed));
    EXPECT_EQ(4u, removed);
    EXPECT_EQ(1, shmds_deque_is_empty(d.get()));
    ASSERT_EQ(0, shmds_deque_clear(d.get(), nullptr));
    ASSERT_EQ(0, shmds_deque_push_int(d.get(), B, 7, 0));
    std::int64_t v;
    ASSERT_EQ(0, shmds_deque_pop_int(d.get(), F, &v, 0));
    EXPECT_EQ(7, v);
    const auto s = stats_of(d.get());
    EXPECT_EQ(4u, s.cleared);
    EXPECT_EQ(5u, s.push_ok);
    EXPECT_EQ(1u, s.pop_ok);
}

TEST(Deque, StatsReportGeometryAndHonourStructSize) {
    auto d = make_deque(SHMDS_TYPE_BYTES, 3, 100);
    ASSERT_EQ(0, shmds_deque_push_bytes(d.get(), B, "ab", 2, 0));
    auto s = stats_of(d.get());
    EXPECT_EQ(1u, s.size);
    EXPECT_EQ(3u, s.capacity);
    EXPECT_EQ(100u, s.max_len);
    EXPECT_GE(s.segment_bytes, 3u * 104u);
    EXPECT_EQ(0u, s.recoveries);
    EXPECT_EQ(0u, s.push_waiters);
    EXPECT_EQ(0u, s.pop_waiters);
    shmds_deque_stats_t small{};
    small.struct_size = 8;
    EXPECT_EQ(-EINVAL, shmds_deque_stats(d.get(), &small));
}

TEST(Deque, OpenChecksTheTypeAndSharesState) {
    TempPath p("deque_open");
    auto o = path_options(p);
    auto a = make_deque(SHMDS_TYPE_UINT16, 4, 0, &o);
    ASSERT_EQ(0, shmds_deque_push_int(a.get(), B, 65535, 0));
    shmds_deque_t *b = nullptr;
    EXPECT_EQ(SHMDS_ETYPE, shmds_deque_open(&o, SHMDS_TYPE_INT16, &b));
    EXPECT_EQ(-EINVAL, shmds_deque_open(&o, 77, &b));
    ASSERT_EQ(0, shmds_deque_open(&o, SHMDS_DEQUE_ANY, &b)) << shmds_last_error();
    DequePtr bp(b);
    EXPECT_EQ(SHMDS_TYPE_UINT16, shmds_deque_type(b));
    std::int64_t v;
    ASSERT_EQ(0, shmds_deque_pop_int(b, F, &v, 0));
    EXPECT_EQ(65535, v);
    EXPECT_GE(shmds_deque_fd(b), 0);
    EXPECT_EQ(0, shmds_deque_sync(b));
    // create with another type over it: ETYPE; same type: attaches (its geometry wins).
    shmds_deque_config_t cfg = SHMDS_DEQUE_CONFIG_INIT(SHMDS_TYPE_INT64, 4);
    shmds_deque_t *c = nullptr;
    EXPECT_EQ(SHMDS_ETYPE, shmds_deque_create(&o, &cfg, &c));
    cfg = SHMDS_DEQUE_CONFIG_INIT(SHMDS_TYPE_UINT16, 99);
    ASSERT_EQ(0, shmds_deque_create(&o, &cfg, &c));
    EXPECT_EQ(4u, shmds_deque_capacity(c));
    shmds_deque_close(c);
    auto anon = make_deque(SHMDS_TYPE_INT8, 2);
    EXPECT_EQ(-ENOENT, shmds_deque_fd(anon.get()));
}

TEST(Deque, EventfdOnlySignalsWhenAsked) {
    auto d = make_deque(SHMDS_TYPE_INT64, 4);
    std::uint64_t n = 0;
    EXPECT_EQ(-ENOENT, shmds_deque_notify(d.get()));
    const int fd = shmds_deque_eventfd(d.get());
    ASSERT_GE(fd, 0);
    EXPECT_EQ(fd, shmds_deque_eventfd(d.get()));
    ASSERT_EQ(0, shmds_deque_push_int(d.get(), B, 1, 0));
    EXPECT_EQ(-EAGAIN, shmds_deque_eventfd_consume(d.get(), &n));
    ASSERT_EQ(0, shmds_deque_notify(d.get()));
    ASSERT_EQ(0, shmds_deque_notify(d.get()));
    ASSERT_EQ(0, shmds_deque_eventfd_consume(d.get(), &n));
    EXPECT_EQ(2u, n);
    const int mine = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ASSERT_EQ(0, shmds_deque_set_eventfd(d.get(), mine));
    ASSERT_EQ(0, shmds_deque_notify(d.get()));
    std::uint64_t c = 0;
    EXPECT_EQ(ssize_t(sizeof c), read(mine, &c, sizeof c));
    EXPECT_EQ(1u, c);
    EXPECT_EQ(0, shmds_deque_set_eventfd(d.get(), -1));
    EXPECT_EQ(-ENOENT, shmds_deque_notify(d.get()));
    EXPECT_EQ(-EBADF, shmds_deque_set_eventfd(d.get(), 987654));
    close(mine);
}

// ---- a hostile peer: counters and slot lengths in shared memory are never trusted ----

constexpr std::uint64_t kControlOff = sizeof(shmds::core::SegmentHeader);
constexpr std::uint64_t kHeadOff = kControlOff + offsetof(shmds::deque::Control, head);
constexpr std::uint64_t kTailOff = kControlOff + offsetof(shmds::deque::Control, tail);

TEST(Deque, ScribbledCountersAreRepairedNotTrusted) {
    TempPath p("deque_counters");
    auto o = path_options(p);
    auto d = make_deque(SHMDS_TYPE_INT64, 4, 0, &o);
    ASSERT_EQ(0, shmds_deque_push_int(d.get(), B, 5, 0));
    const int fd = shmds_deque_fd(d.get());
    const std::uint64_t head = read_u64_at(fd, kHeadOff);
    scribble_u64(fd, kTailOff, head + 1000);  // 1000 items in a deque of 4
    EXPECT_LE(shmds_deque_size(d.get()), 4u);
    std::int64_t v;
    EXPECT_EQ(-EAGAIN, shmds_deque_pop_int(d.get(), F, &v, 0)) << "emptied by the repair";
    EXPECT_EQ(1u, stats_of(d.get()).recoveries);
    ASSERT_EQ(0, shmds_deque_push_int(d.get(), F, 6, 0));
    ASSERT_EQ(0, shmds_deque_pop_int(d.get(), B, &v, 0));
    EXPECT_EQ(6, v);
    scribble_u64(fd, kHeadOff, read_u64_at(fd, kTailOff) + 1);  // tail below head
    EXPECT_EQ(0u, shmds_deque_size(d.get()));
    ASSERT_EQ(0, shmds_deque_push_int(d.get(), B, 7, 0));
    EXPECT_EQ(1u, shmds_deque_size(d.get()));
    EXPECT_EQ(2u, stats_of(d.get()).recoveries);
}

TEST(Deque, ScribbledBytesLengthIsCorruptAndRemoved) {
    TempPath p("deque_len");
    auto o = path_options(p);
    auto d = make_deque(SHMDS_TYPE_BYTES, 2, 8, &o);
    ASSERT_EQ(0, shmds_deque_push_bytes(d.get(), B, "abc", 3, 0));
    ASSERT_EQ(0, shmds_deque_push_bytes(d.get(), B, "def", 3, 0));
    const int fd = shmds_deque_fd(d.get());
    const std::uint64_t data_off =
        shmds::core::align_up(kControlOff + sizeof(shmds::deque::Control), 64);
    const std::uint64_t head = read_u64_at(fd, kHeadOff);
    const std::uint64_t first = data_off + (head % 2) * 12;
    const std::uint32_t huge = 0xfffffff0u;
    ASSERT_EQ(ssize_t(4), pwrite(fd, &huge, 4, off_t(first)));
    char buf[64];
    std::size_t len;
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_deque_peek_bytes(d.get(), F, buf, sizeof buf, &len));
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_deque_pop_bytes(d.get(), F, buf, sizeof buf, &len, 0));
    ASSERT_EQ(0, shmds_deque_pop_bytes(d.get(), F, buf, sizeof buf, &len, 0));
    EXPECT_EQ("def", std::string(buf, len));
    EXPECT_EQ(1u, stats_of(d.get()).recoveries);
}

TEST(Deque, LockWordNamingNoThreadIsTakenOver) {
    TempPath p("deque_lock");
    auto o = path_options(p);
    auto d = make_deque(SHMDS_TYPE_INT64, 4, 0, &o);
    ASSERT_EQ(0, shmds_deque_push_int(d.get(), B, 1, 0));
    scribble_u64(shmds_deque_fd(d.get()), kControlOff, kNoSuchThreadWord);
    std::int64_t v;
    ASSERT_EQ(0, shmds_deque_pop_int(d.get(), F, &v, SHMDS_FOREVER));
    EXPECT_EQ(1, v);
    EXPECT_EQ(1u, stats_of(d.get()).recoveries);
}

// Pushes and pops release the lock with a plain store, so a sleeper must take and drop
// it after announcing itself (core/waitpoint.hpp, LockPassage) or it could miss the wake
// of a push that read the sleeper count too early. Seen from outside: a pop asleep on an
// empty deque behind a dead holder's lock word takes it over (and frees it) before it
// sleeps, and so does a push asleep on a full one. (stats would take it over too, so
// the word itself is read.)
TEST(Deque, SleepersPassThroughTheLock) {
    TempPath p("deque_passage");
    auto o = path_options(p);
    auto d = make_deque(SHMDS_TYPE_INT64, 1, 0, &o);
    const int fd = shmds_deque_fd(d.get());
    scribble_u64(fd, kControlOff, kNoSuchThreadWord);
    std::int64_t v;
    EXPECT_EQ(-ETIMEDOUT, shmds_deque_pop_int(d.get(), F, &v, 300'000'000));
    EXPECT_EQ(0u, read_u64_at(fd, kControlOff));
    ASSERT_EQ(0, shmds_deque_push_int(d.get(), B, 1, 0));
    scribble_u64(fd, kControlOff, kNoSuchThreadWord);
    EXPECT_EQ(-ETIMEDOUT, shmds_deque_push_int(d.get(), B, 2, 300'000'000));
    EXPECT_EQ(0u, read_u64_at(fd, kControlOff));
    EXPECT_EQ(2u, stats_of(d.get()).recoveries);
}

TEST(Deque, LockHeldByALiveStrangerTimesOut) {
    TempPath p("deque_stranger");
    auto o = path_options(p);
    auto d = make_deque(SHMDS_TYPE_INT64, 4, 0, &o);
    LiveBystander stranger;
    scribble_u64(shmds_deque_fd(d.get()), kControlOff, stranger.stamp());
    EXPECT_EQ(-ETIMEDOUT, shmds_deque_push_int(d.get(), B, 1, 20'000'000));
    EXPECT_EQ(-EAGAIN, shmds_deque_push_int(d.get(), B, 1, SHMDS_NOWAIT))
        << "a try waits a bounded time for the lock, then gives up";
    scribble_u64(shmds_deque_fd(d.get()), kControlOff, 0);
    EXPECT_EQ(0, shmds_deque_push_int(d.get(), B, 1, 0));
}

}  // namespace
