// Unit tests of the pool (pool.h): every verb and error on every variant, edge sizes,
// bytes with NUL/0xFF/empty, the contiguous data area, dead owners' slots reclaimed by
// alloc and by recover_stale, and a hostile bytes length.
#include "pool_helpers.hpp"

#include "core/owner.hpp"

#include <shmds/shmds.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <set>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace shmds::test;

namespace {

TEST(Pool, CreateRefusesBadGeometry) {
    shmds_pool_t *p = nullptr;
    auto refuse = [&](int variant, std::uint64_t cap, std::uint64_t size) {
        shmds_pool_config_t cfg = SHMDS_POOL_CONFIG_INIT(variant, cap, size);
        EXPECT_EQ(-EINVAL, shmds_pool_create(nullptr, &cfg, &p))
            << variant << " " << cap << " " << size;
        EXPECT_STRNE("", shmds_last_error());
    };
    refuse(SHMDS_TYPE_INT64, 0, 0);
    refuse(SHMDS_TYPE_INT64, (1ull << 30) + 1, 0);
    refuse(SHMDS_TYPE_INT64, 4, 4);  // a number slot is its type's width (0 or 8 here)
    refuse(SHMDS_POOL_RAW, 4, 0);
    refuse(SHMDS_POOL_RAW, 4, (1u << 20) + 1);
    refuse(SHMDS_TYPE_BYTES, 4, 0);
    refuse(0, 4, 0);
    refuse(12, 4, 0);
    refuse(-3, 4, 0);
    EXPECT_EQ(-EINVAL, shmds_pool_create(nullptr, nullptr, &p));
    shmds_pool_config_t cfg = SHMDS_POOL_CONFIG_INIT(SHMDS_TYPE_INT64, 4, 0);
    EXPECT_EQ(-EINVAL, shmds_pool_create(nullptr, &cfg, nullptr));
    EXPECT_EQ(nullptr, p);
}

TEST(Pool, GeometryOfEachVariant) {
    struct Case {
        int variant;
        std::uint64_t size, stride;
    } cases[] = {{SHMDS_TYPE_INT8, 0, 1},     {SHMDS_TYPE_UINT16, 0, 2}, {SHMDS_TYPE_INT32, 0, 4},
                 {SHMDS_TYPE_UINT64, 0, 8},   {SHMDS_TYPE_F32, 0, 4},    {SHMDS_TYPE_F64, 0, 8},
                 {SHMDS_TYPE_BYTES, 5, 12},   {SHMDS_TYPE_BYTES, 1, 8},  {SHMDS_POOL_RAW, 3, 3},
                 {SHMDS_POOL_RAW, 100, 100}};
    for (const Case &c : cases) {
        auto p = make_pool(c.variant, 7, c.size);
        ASSERT_TRUE(p);
        EXPECT_EQ(c.variant, shmds_pool_variant(p.get()));
        EXPECT_EQ(7u, shmds_pool_capacity(p.get()));
        EXPECT_EQ(c.stride, shmds_pool_elem_size(p.get()));
        EXPECT_EQ(c.variant == SHMDS_TYPE_BYTES ? c.size : 0, shmds_pool_max_len(p.get()));
        auto *base = static_cast<char *>(shmds_pool_data_ptr(p.get()));
        for (std::uint64_t i = 0; i < 7; ++i)
            EXPECT_EQ(base + i * c.stride, shmds_pool_slot_ptr(p.get(), i));
        EXPECT_EQ(nullptr, shmds_pool_slot_ptr(p.get(), 7));
        EXPECT_EQ(0u, reinterpret_cast<std::uintptr_t>(base) % 8);
    }
}

TEST(Pool, AllocUntilFullThenFree) {
    auto p = make_pool(SHMDS_TYPE_INT64, 5);
    std::set<std::uint64_t> got;
    for (int k = 0; k < 5; ++k) {
        std::uint64_t i = 99;
        ASSERT_EQ(0, shmds_pool_try_alloc(p.get(), &i));
        ASSERT_LT(i, 5u);
        EXPECT_TRUE(got.insert(i).second) << "slot " << i << " handed out twice";
        EXPECT_EQ(1, shmds_pool_is_allocated(p.get(), i));
        std::int32_t pid = 0;
        ASSERT_EQ(0, shmds_pool_owner(p.get(), i, &pid));
        EXPECT_EQ(getpid(), pid);
    }
    EXPECT_EQ(5u, shmds_pool_used(p.get()));
    EXPECT_EQ(0u, shmds_pool_available(p.get()));
    std::uint64_t i;
    EXPECT_EQ(-EAGAIN, shmds_pool_try_alloc(p.get(), &i));
    EXPECT_EQ(-EAGAIN, shmds_pool_alloc(p.get(), SHMDS_NOWAIT, &i));
    EXPECT_EQ(-ETIMEDOUT, shmds_pool_alloc(p.get(), 20'000'000, &i));
    ASSERT_EQ(0, shmds_pool_free(p.get(), 3));
    EXPECT_EQ(-ENOENT, shmds_pool_free(p.get(), 3));
    EXPECT_EQ(0, shmds_pool_is_allocated(p.get(), 3));
    std::int32_t pid = -1;
    ASSERT_EQ(0, shmds_pool_owner(p.get(), 3, &pid));
    EXPECT_EQ(0, pid);
    EXPECT_EQ(4u, shmds_pool_used(p.get()));
    ASSERT_EQ(0, shmds_pool_alloc(p.get(), SHMDS_FOREVER, &i));
    EXPECT_EQ(3u, i);
}

TEST(Pool, AllocFreeLoopReusesTheSameSlot) {
    auto p = make_pool(SHMDS_TYPE_INT64, 64);
    std::uint64_t first, i;
    ASSERT_EQ(0, shmds_pool_try_alloc(p.get(), &first));
    ASSERT_EQ(0, shmds_pool_free(p.get(), first));
    for (int k = 0; k < 10; ++k) {
        ASSERT_EQ(0, shmds_pool_try_alloc(p.get(), &i));
        EXPECT_EQ(first, i);
        ASSERT_EQ(0, shmds_pool_free(p.get(), i));
    }
}

TEST(Pool, AllocZeroesTheSlot) {
    auto p = make_pool(SHMDS_TYPE_INT32, 1);
    std::uint64_t i;
    ASSERT_EQ(0, shmds_pool_try_alloc(p.get(), &i));
    ASSERT_EQ(0, shmds_pool_set_int(p.get(), i, -7));
    ASSERT_EQ(0, shmds_pool_free(p.get(), i));
    std::int64_t v = 0;
    ASSERT_EQ(0, shmds_pool_get_int(p.get(), i, &v));
    EXPECT_EQ(-7, v);  // free keeps the data
    ASSERT_EQ(0, shmds_pool_try_alloc(p.get(), &i));
    ASSERT_EQ(0, shmds_pool_get_int(p.get(), i, &v));
    EXPECT_EQ(0, v);

    auto r = make_pool(SHMDS_POOL_RAW, 1, 13);
    ASSERT_EQ(0, shmds_pool_try_alloc(r.get(), &i));
    std::memset(shmds_pool_slot_ptr(r.get(), i), 0xAB, 13);
    ASSERT_EQ(0, shmds_pool_free(r.get(), i));
    ASSERT_EQ(0, shmds_pool_try_alloc(r.get(), &i));
    const auto *s = static_cast<unsigned char *>(shmds_pool_slot_ptr(r.get(), i));
    for (int b = 0; b < 13; ++b) EXPECT_EQ(0, s[b]);
}

TEST(Pool, OutOfRangeIndicesAreRefused) {
    auto p = make_pool(SHMDS_TYPE_INT64, 3);
    std::int64_t v;
    std::int32_t pid;
    EXPECT_EQ(-EINVAL, shmds_pool_free(p.get(), 3));
    EXPECT_EQ(-EINVAL, shmds_pool_is_allocated(p.get(), 3));
    EXPECT_EQ(-EINVAL, shmds_pool_owner(p.get(), UINT64_MAX, &pid));
    EXPECT_EQ(-EINVAL, shmds_pool_get_int(p.get(), 3, &v));
    EXPECT_EQ(-EINVAL, shmds_pool_set_int(p.get(), 3, 1));
    EXPECT_EQ(-EINVAL, shmds_pool_add_int(p.get(), 3, 1, &v));
    const std::uint64_t idx[] = {0, 3};
    std::uint64_t a;
    ASSERT_EQ(0, shmds_pool_try_alloc(p.get(), &a));
    EXPECT_EQ(-EINVAL, shmds_pool_free_n(p.get(), idx, 2, nullptr));
    EXPECT_EQ(1u, shmds_pool_used(p.get()));  // nothing freed
}

TEST(Pool, NullArgumentsAreRefused) {
    auto p = make_pool(SHMDS_TYPE_INT64, 3);
    std::uint64_t i;
    std::int64_t v;
    EXPECT_EQ(-EINVAL, shmds_pool_try_alloc(nullptr, &i));
    EXPECT_EQ(-EINVAL, shmds_pool_try_alloc(p.get(), nullptr));
    EXPECT_EQ(-EINVAL, shmds_pool_alloc(nullptr, 0, &i));
    EXPECT_EQ(-EINVAL, shmds_pool_alloc(p.get(), -2, &i));
    EXPECT_EQ(-EINVAL, shmds_pool_alloc_n(p.get(), 1, nullptr, 0));
    EXPECT_EQ(-EINVAL, shmds_pool_free(nullptr, 0));
    EXPECT_EQ(-EINVAL, shmds_pool_free_n(p.get(), nullptr, 1, nullptr));
    EXPECT_EQ(-EINVAL, shmds_pool_get_int(p.get(), 0, nullptr));
    EXPECT_EQ(-EINVAL, shmds_pool_get_int(nullptr, 0, &v));
    EXPECT_EQ(-EINVAL, shmds_pool_each_allocated(p.get(), nullptr, nullptr));
    EXPECT_EQ(-EINVAL, shmds_pool_allocated(p.get(), nullptr, 1, nullptr));
    EXPECT_EQ(-EINVAL, shmds_pool_reset(nullptr, nullptr));
    EXPECT_EQ(-EINVAL, shmds_pool_recover_stale(nullptr, nullptr));
    EXPECT_EQ(-EINVAL, shmds_pool_variant(nullptr));
    EXPECT_EQ(0u, shmds_pool_used(nullptr));
    EXPECT_EQ(0u, shmds_pool_capacity(nullptr));
    EXPECT_EQ(nullptr, shmds_pool_data_ptr(nullptr));
    shmds_pool_close(nullptr);
}

TEST(Pool, AllocNIsAllOrNothing) {
    auto p = make_pool(SHMDS_TYPE_INT64, 6);
    std::uint64_t idx[6];
    EXPECT_EQ(-EINVAL, shmds_pool_alloc_n(p.get(), 7, idx, 0));
    EXPECT_EQ(0, shmds_pool_alloc_n(p.get(), 0, nullptr, 0));
    ASSERT_EQ(0, shmds_pool_alloc_n(p.get(), 4, idx, 0));
    std::set<std::uint64_t> s(idx, idx + 4);
    EXPECT_EQ(4u, s.size());
    EXPECT_EQ(4u, shmds_pool_used(p.get()));
    std::uint64_t more[3];
    EXPECT_EQ(-EAGAIN, shmds_pool_alloc_n(p.get(), 3, more, SHMDS_NOWAIT));
    EXPECT_EQ(4u, shmds_pool_used(p.get()));  // the two it could take went back
    EXPECT_EQ(-ETIMEDOUT, shmds_pool_alloc_n(p.get(), 3, more, 20'000'000));
    EXPECT_EQ(4u, shmds_pool_used(p.get()));
    ASSERT_EQ(0, shmds_pool_alloc_n(p.get(), 2, more, 0));
    EXPECT_EQ(6u, shmds_pool_used(p.get()));
    size_t freed = 0;
    const std::uint64_t back[] = {idx[0], idx[1], idx[0]};
    ASSERT_EQ(0, shmds_pool_free_n(p.get(), back, 3, &freed));
    EXPECT_EQ(2u, freed);  // the repeated index was free already
    EXPECT_EQ(4u, shmds_pool_used(p.get()));
}

int collect(std::uint64_t index, std::int32_t pid, void *ctx) {
    auto *v = static_cast<std::vector<std::pair<std::uint64_t, std::int32_t>> *>(ctx);
    v->push_back({index, pid});
    return v->size() == 100 ? 7 : 0;
}

TEST(Pool, EachAllocatedAndAllocatedList) {
    auto p = make_pool(SHMDS_TYPE_INT64, 8);
    std::uint64_t i;
    for (int k = 0; k < 8; ++k) ASSERT_EQ(0, shmds_pool_try_alloc(p.get(), &i));
    const std::uint64_t back[] = {1, 4, 6};
    ASSERT_EQ(0, shmds_pool_free_n(p.get(), back, 3, nullptr));
    std::vector<std::pair<std::uint64_t, std::int32_t>> seen;
    ASSERT_EQ(0, shmds_pool_each_allocated(p.get(), collect, &seen));
    const std::vector<std::uint64_t> want = {0, 2, 3, 5, 7};
    ASSERT_EQ(want.size(), seen.size());
    for (std::size_t k = 0; k < want.size(); ++k) {
        EXPECT_EQ(want[k], seen[k].first);
        EXPECT_EQ(getpid(), seen[k].second);
    }
    // A nonzero return stops the walk and is returned.
    auto stop = [](std::uint64_t, std::int32_t, void *) { return 5; };
    EXPECT_EQ(5, shmds_pool_each_allocated(p.get(), stop, nullptr));

    std::uint64_t out[8];
    size_t n = 0;
    ASSERT_EQ(0, shmds_pool_allocated(p.get(), out, 8, &n));
    ASSERT_EQ(5u, n);
    EXPECT_EQ(want, std::vector<std::uint64_t>(out, out + n));
    EXPECT_EQ(-ENOBUFS, shmds_pool_allocated(p.get(), out, 2, &n));
    EXPECT_EQ(5u, n);
    EXPECT_EQ(0u, out[0]);
    EXPECT_EQ(2u, out[1]);
    EXPECT_EQ(-ENOBUFS, shmds_pool_allocated(p.get(), nullptr, 0, &n));
}

TEST(Pool, ResetFreesEverything) {
    auto p = make_pool(SHMDS_TYPE_INT64, 4);
    std::uint64_t i;
    for (int k = 0; k < 3; ++k) ASSERT_EQ(0, shmds_pool_try_alloc(p.get(), &i));
    std::uint64_t freed = 0;
    ASSERT_EQ(0, shmds_pool_reset(p.get(), &freed));
    EXPECT_EQ(3u, freed);
    EXPECT_EQ(0u, shmds_pool_used(p.get()));
    EXPECT_EQ(4u, shmds_pool_available(p.get()));
    ASSERT_EQ(0, shmds_pool_reset(p.get(), &freed));
    EXPECT_EQ(0u, freed);
}

TEST(Pool, SignedIntegerVerbs) {
    auto p = make_pool(SHMDS_TYPE_INT16, 2);
    std::int64_t v = 0;
    ASSERT_EQ(0, shmds_pool_set_int(p.get(), 0, -32768));
    ASSERT_EQ(0, shmds_pool_get_int(p.get(), 0, &v));
    EXPECT_EQ(-32768, v);
    EXPECT_EQ(-ERANGE, shmds_pool_set_int(p.get(), 0, 32768));
    EXPECT_EQ(-ERANGE, shmds_pool_set_int(p.get(), 0, -32769));
    ASSERT_EQ(0, shmds_pool_get_int(p.get(), 0, &v));
    EXPECT_EQ(-32768, v);  // unchanged
    ASSERT_EQ(0, shmds_pool_set_int(p.get(), 1, 10));
    std::int64_t old = 0;
    EXPECT_EQ(-ECANCELED, shmds_pool_cas_int(p.get(), 1, 11, 20, &old));
    EXPECT_EQ(10, old);
    EXPECT_EQ(0, shmds_pool_cas_int(p.get(), 1, 10, 20, &old));
    EXPECT_EQ(10, old);
    EXPECT_EQ(-ERANGE, shmds_pool_cas_int(p.get(), 1, 20, 40000, nullptr));
    ASSERT_EQ(0, shmds_pool_exchange_int(p.get(), 1, 5, &old));
    EXPECT_EQ(20, old);
    ASSERT_EQ(0, shmds_pool_add_int(p.get(), 1, 100, &v));
    EXPECT_EQ(105, v);
    ASSERT_EQ(0, shmds_pool_incr_int(p.get(), 1, &v));
    EXPECT_EQ(106, v);
    ASSERT_EQ(0, shmds_pool_decr_int(p.get(), 1, &v));
    ASSERT_EQ(0, shmds_pool_decr_int(p.get(), 1, &v));
    EXPECT_EQ(104, v);
    ASSERT_EQ(0, shmds_pool_set_int(p.get(), 1, 32767));
    ASSERT_EQ(0, shmds_pool_incr_int(p.get(), 1, &v));
    EXPECT_EQ(-32768, v);  // wraps like the hardware atomic
    EXPECT_EQ(-ERANGE, shmds_pool_add_int(p.get(), 1, 65536, &v));
    // The unsigned and float verbs are of another form.
    std::uint64_t u;
    double d;
    EXPECT_EQ(SHMDS_EVARIANT, shmds_pool_get_uint(p.get(), 0, &u));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_pool_get_f64(p.get(), 0, &d));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_pool_set_bytes(p.get(), 0, "x", 1));
    char buf[4];
    EXPECT_EQ(SHMDS_EVARIANT, shmds_pool_get_raw(p.get(), 0, buf, 4));
}

TEST(Pool, Int64AndUint64Extremes) {
    auto p = make_pool(SHMDS_TYPE_INT64, 1);
    std::int64_t v;
    ASSERT_EQ(0, shmds_pool_set_int(p.get(), 0, INT64_MIN));
    ASSERT_EQ(0, shmds_pool_get_int(p.get(), 0, &v));
    EXPECT_EQ(INT64_MIN, v);
    ASSERT_EQ(0, shmds_pool_add_int(p.get(), 0, -1, &v));
    EXPECT_EQ(INT64_MAX, v);

    auto u = make_pool(SHMDS_TYPE_UINT64, 1);
    std::uint64_t w;
    ASSERT_EQ(0, shmds_pool_set_uint(u.get(), 0, UINT64_MAX));
    ASSERT_EQ(0, shmds_pool_get_uint(u.get(), 0, &w));
    EXPECT_EQ(UINT64_MAX, w);
    ASSERT_EQ(0, shmds_pool_incr_uint(u.get(), 0, &w));
    EXPECT_EQ(0u, w);
    ASSERT_EQ(0, shmds_pool_decr_uint(u.get(), 0, &w));
    EXPECT_EQ(UINT64_MAX, w);
    std::uint64_t old = 0;
    EXPECT_EQ(0, shmds_pool_cas_uint(u.get(), 0, UINT64_MAX, 3, &old));
    ASSERT_EQ(0, shmds_pool_exchange_uint(u.get(), 0, 9, &old));
    EXPECT_EQ(3u, old);
    ASSERT_EQ(0, shmds_pool_add_uint(u.get(), 0, -4, &w));
    EXPECT_EQ(5u, w);
    // uint64 values do not all fit int64_t: the _int verbs are refused.
    EXPECT_EQ(SHMDS_EVARIANT, shmds_pool_get_int(u.get(), 0, &v));
}

TEST(Pool, NarrowUnsignedTakesBothIntegerForms) {
    auto p = make_pool(SHMDS_TYPE_UINT8, 1);
    std::int64_t v;
    std::uint64_t w;
    EXPECT_EQ(-ERANGE, shmds_pool_set_int(p.get(), 0, -1));
    EXPECT_EQ(-ERANGE, shmds_pool_set_uint(p.get(), 0, 256));
    ASSERT_EQ(0, shmds_pool_set_int(p.get(), 0, 255));
    ASSERT_EQ(0, shmds_pool_get_uint(p.get(), 0, &w));
    EXPECT_EQ(255u, w);
    ASSERT_EQ(0, shmds_pool_incr_int(p.get(), 0, &v));
    EXPECT_EQ(0, v);
    ASSERT_EQ(0, shmds_pool_decr_uint(p.get(), 0, &w));
    EXPECT_EQ(255u, w);
    EXPECT_EQ(*static_cast<std::uint8_t *>(shmds_pool_slot_ptr(p.get(), 0)), 255);
}

TEST(Pool, FloatSlots) {
    auto p = make_pool(SHMDS_TYPE_F64, 2);
    double d = 0;
    ASSERT_EQ(0, shmds_pool_set_f64(p.get(), 1, -2.5));
    ASSERT_EQ(0, shmds_pool_get_f64(p.get(), 1, &d));
    EXPECT_EQ(-2.5, d);
    EXPECT_EQ(-2.5, static_cast<double *>(shmds_pool_data_ptr(p.get()))[1]);
    std::int64_t v;
    EXPECT_EQ(SHMDS_EVARIANT, shmds_pool_get_int(p.get(), 1, &v));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_pool_incr_int(p.get(), 1, &v));

    auto f = make_pool(SHMDS_TYPE_F32, 2);
    ASSERT_EQ(0, shmds_pool_set_f64(f.get(), 0, 0.5));
    ASSERT_EQ(0, shmds_pool_get_f64(f.get(), 0, &d));
    EXPECT_EQ(0.5, d);
    EXPECT_EQ(0.5f, static_cast<float *>(shmds_pool_data_ptr(f.get()))[0]);
    EXPECT_EQ(-ERANGE, shmds_pool_set_f64(f.get(), 0, 1e300));
}

TEST(Pool, BytesSlotsAreExact) {
    auto p = make_pool(SHMDS_TYPE_BYTES, 3, 6);
    const char v1[] = {'\0', '\xff', 'a', '\0', '\xff', 'z'};
    ASSERT_EQ(0, shmds_pool_set_bytes(p.get(), 0, v1, 6));
    char buf[16];
    size_t len = 0;
    ASSERT_EQ(0, shmds_pool_get_bytes(p.get(), 0, buf, sizeof buf, &len));
    ASSERT_EQ(6u, len);
    EXPECT_EQ(0, std::memcmp(v1, buf, 6));
    EXPECT_EQ(-E2BIG, shmds_pool_set_bytes(p.get(), 0, "1234567", 7));
    ASSERT_EQ(0, shmds_pool_get_bytes(p.get(), 0, buf, sizeof buf, &len));
    EXPECT_EQ(6u, len);  // unchanged
    EXPECT_EQ(-ENOBUFS, shmds_pool_get_bytes(p.get(), 0, buf, 5, &len));
    EXPECT_EQ(6u, len);
    ASSERT_EQ(0, shmds_pool_set_bytes(p.get(), 1, nullptr, 0));
    ASSERT_EQ(0, shmds_pool_get_bytes(p.get(), 1, nullptr, 0, &len));
    EXPECT_EQ(0u, len);
    EXPECT_EQ(-EINVAL, shmds_pool_set_bytes(p.get(), 1, nullptr, 2));
    std::int64_t v;
    EXPECT_EQ(SHMDS_EVARIANT, shmds_pool_get_int(p.get(), 0, &v));
}

// alloc_set allocates and stores in one call; a value the type refuses allocates nothing.
TEST(Pool, AllocSetStoresTheValueOrAllocatesNothing) {
    auto p = make_pool(SHMDS_TYPE_INT8, 2);
    uint64_t a = 9, b = 9, c = 9;
    EXPECT_EQ(-ERANGE, shmds_pool_alloc_set_int(p.get(), 128, SHMDS_NOWAIT, &a));
    EXPECT_EQ(-ERANGE, shmds_pool_try_alloc_set_int(p.get(), -129, &a));
    EXPECT_EQ(0u, shmds_pool_used(p.get())) << "a refused value left a slot allocated";
    EXPECT_EQ(SHMDS_EVARIANT, shmds_pool_try_alloc_set_f64(p.get(), 1.0, &a));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_pool_try_alloc_set_uint(p.get(), 1, &a));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_pool_try_alloc_set_bytes(p.get(), "x", 1, &a));
    EXPECT_EQ(-EINVAL, shmds_pool_try_alloc_set_int(p.get(), 1, nullptr));
    EXPECT_EQ(-EINVAL, shmds_pool_try_alloc_set_int(nullptr, 1, &a));
    EXPECT_EQ(-EINVAL, shmds_pool_alloc_set_int(p.get(), 1, -2, &a));
    ASSERT_EQ(0, shmds_pool_alloc_set_int(p.get(), -128, SHMDS_NOWAIT, &a));
    ASSERT_EQ(0, shmds_pool_try_alloc_set_int(p.get(), 127, &b));
    EXPECT_NE(a, b);
    int64_t v = 0;
    ASSERT_EQ(0, shmds_pool_get_int(p.get(), a, &v));
    EXPECT_EQ(-128, v);
    ASSERT_EQ(0, shmds_pool_get_int(p.get(), b, &v));
    EXPECT_EQ(127, v);
    EXPECT_EQ(1, shmds_pool_is_allocated(p.get(), a));
    EXPECT_EQ(-EAGAIN, shmds_pool_try_alloc_set_int(p.get(), 1, &c));
    EXPECT_EQ(-ETIMEDOUT, shmds_pool_alloc_set_int(p.get(), 1, 1'000'000, &c));
    // A freed slot's old value never leaks into the next alloc_set's slot.
    ASSERT_EQ(0, shmds_pool_free(p.get(), a));
    ASSERT_EQ(0, shmds_pool_alloc_set_int(p.get(), 5, SHMDS_NOWAIT, &c));
    EXPECT_EQ(a, c);
    ASSERT_EQ(0, shmds_pool_get_int(p.get(), c, &v));
    EXPECT_EQ(5, v);

    auto u = make_pool(SHMDS_TYPE_UINT64, 1);
    ASSERT_EQ(0, shmds_pool_try_alloc_set_uint(u.get(), UINT64_MAX, &a));
    uint64_t uv = 0;
    ASSERT_EQ(0, shmds_pool_get_uint(u.get(), a, &uv));
    EXPECT_EQ(UINT64_MAX, uv);
    EXPECT_EQ(SHMDS_EVARIANT, shmds_pool_alloc_set_int(u.get(), 1, SHMDS_NOWAIT, &a));

    auto f = make_pool(SHMDS_TYPE_F32, 1);
    EXPECT_EQ(-ERANGE, shmds_pool_try_alloc_set_f64(f.get(), 1e300, &a));
    EXPECT_EQ(0u, shmds_pool_used(f.get()));
    ASSERT_EQ(0, shmds_pool_alloc_set_f64(f.get(), 0.25, SHMDS_NOWAIT, &a));
    double d = 0;
    ASSERT_EQ(0, shmds_pool_get_f64(f.get(), a, &d));
    EXPECT_EQ(0.25, d);
}

TEST(Pool, AllocSetBytesIsExactOrAllocatesNothing) {
    auto p = make_pool(SHMDS_TYPE_BYTES, 2, 4);
    uint64_t a = 9, b = 9;
    EXPECT_EQ(-E2BIG, shmds_pool_try_alloc_set_bytes(p.get(), "12345", 5, &a));
    EXPECT_EQ(-EINVAL, shmds_pool_alloc_set_bytes(p.get(), nullptr, 2, SHMDS_NOWAIT, &a));
    EXPECT_EQ(0u, shmds_pool_used(p.get()));
    const char v[] = {'\0', '\xff', 'q', '\0'};
    ASSERT_EQ(0, shmds_pool_alloc_set_bytes(p.get(), v, 4, SHMDS_NOWAIT, &a));
    ASSERT_EQ(0, shmds_pool_try_alloc_set_bytes(p.get(), nullptr, 0, &b));
    char buf[8];
    size_t len = 9;
    ASSERT_EQ(0, shmds_pool_get_bytes(p.get(), a, buf, sizeof buf, &len));
    ASSERT_EQ(4u, len);
    EXPECT_EQ(0, std::memcmp(v, buf, 4));
    ASSERT_EQ(0, shmds_pool_get_bytes(p.get(), b, buf, sizeof buf, &len));
    EXPECT_EQ(0u, len);
    EXPECT_EQ(-EAGAIN, shmds_pool_try_alloc_set_bytes(p.get(), "x", 1, &a));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_pool_try_alloc_set_int(p.get(), 1, &a));
}

TEST(Pool, ACorruptBytesLengthIsRefused) {
    auto p = make_pool(SHMDS_TYPE_BYTES, 1, 6);
    const std::uint32_t hostile = 1u << 30;
    std::memcpy(shmds_pool_slot_ptr(p.get(), 0), &hostile, sizeof hostile);
    char buf[64];
    size_t len = 0;
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_pool_get_bytes(p.get(), 0, buf, sizeof buf, &len));
}

TEST(Pool, RawSlots) {
    auto p = make_pool(SHMDS_POOL_RAW, 3, 5);
    ASSERT_EQ(0, shmds_pool_set_raw(p.get(), 2, "abcde", 5));
    char buf[5];
    ASSERT_EQ(0, shmds_pool_get_raw(p.get(), 2, buf, 5));
    EXPECT_EQ(0, std::memcmp("abcde", buf, 5));
    EXPECT_EQ(0, std::memcmp("abcde", static_cast<char *>(shmds_pool_data_ptr(p.get())) + 10, 5));
    ASSERT_EQ(0, shmds_pool_set_raw(p.get(), 2, "xy", 2));
    ASSERT_EQ(0, shmds_pool_get_raw(p.get(), 2, buf, 5));
    EXPECT_EQ(0, std::memcmp("xy\0\0\0", buf, 5));
    EXPECT_EQ(-E2BIG, shmds_pool_set_raw(p.get(), 2, "abcdef", 6));
    EXPECT_EQ(-ENOBUFS, shmds_pool_get_raw(p.get(), 2, buf, 4));
    std::int64_t v;
    EXPECT_EQ(SHMDS_EVARIANT, shmds_pool_get_int(p.get(), 0, &v));
}

// A slot owned by a process that no longer exists: a fork child allocates and exits.
void leave_dead_owner(shmds_pool_t *p, int slots) {
    const pid_t c = fork_child([&] {
        for (int k = 0; k < slots; ++k) {
            std::uint64_t i;
            CHILD_CHECK(shmds_pool_try_alloc(p, &i) == 0);
        }
        return 0;
    });
    ASSERT_TRUE(wait_child(c, 10s).exited);
}

TEST(Pool, RecoverStaleFreesOnlyDeadOwners) {
    auto p = make_pool(SHMDS_TYPE_INT64, 4);
    std::uint64_t mine;
    ASSERT_EQ(0, shmds_pool_try_alloc(p.get(), &mine));
    leave_dead_owner(p.get(), 2);
    EXPECT_EQ(3u, shmds_pool_used(p.get()));
    std::uint64_t n = 0;
    ASSERT_EQ(0, shmds_pool_recover_stale(p.get(), &n));
    EXPECT_EQ(2u, n);
    EXPECT_EQ(1u, shmds_pool_used(p.get()));
    EXPECT_EQ(1, shmds_pool_is_allocated(p.get(), mine));
    EXPECT_GE(pool_stats(p.get()).recoveries, 2u);
    EXPECT_EQ(2u, shmds_pool_recoveries(p.get()));
    ASSERT_EQ(0, shmds_pool_recover_stale(p.get(), &n));
    EXPECT_EQ(0u, n);
}

TEST(Pool, AFullPoolReclaimsDeadOwnersByItself) {
    auto p = make_pool(SHMDS_TYPE_INT64, 3);
    leave_dead_owner(p.get(), 3);
    EXPECT_EQ(3u, shmds_pool_used(p.get()));
    // A try may have to wait out the probe interval (10 ms); a blocking alloc re-attempts.
    std::uint64_t i;
    ASSERT_EQ(0, shmds_pool_alloc(p.get(), 2'000'000'000, &i)) << shmds_last_error();
    EXPECT_EQ(1u, shmds_pool_used(p.get()));  // the other two came back as well
    EXPECT_EQ(3u, shmds_pool_recoveries(p.get()));
}

TEST(Pool, ATryReclaimsOnceTheProbeIsDue) {
    auto p = make_pool(SHMDS_TYPE_INT64, 2);
    leave_dead_owner(p.get(), 2);
    std::uint64_t i;
    int tries = 0;
    while (shmds_pool_try_alloc(p.get(), &i) != 0) {
        ASSERT_LT(++tries, 2000) << "a try never reclaimed a dead owner's slot";
        usleep(1000);
    }
}

TEST(Pool, AGarbageOwnerTokenIsReclaimed) {
    auto p = make_pool(SHMDS_TYPE_INT64, 2);
    // PID 0 with other bits set names no process: damaged memory, hence dead.
    owner_word(p.get(), 0).store(std::uint64_t{5} << shmds::core::kPidBits);
    owner_word(p.get(), 1).store(std::uint64_t{5} << shmds::core::kPidBits);
    std::uint64_t n = 0;
    ASSERT_EQ(0, shmds_pool_recover_stale(p.get(), &n));
    EXPECT_EQ(2u, n);
}

TEST(Pool, AChildAllocatesUnderItsOwnIdentity) {
    auto p = make_pool(SHMDS_TYPE_INT64, 4);
    std::uint64_t mine;
    ASSERT_EQ(0, shmds_pool_try_alloc(p.get(), &mine));
    run_child_ok([&] {
        std::uint64_t i;
        CHILD_CHECK(shmds_pool_try_alloc(p.get(), &i) == 0);
        CHILD_CHECK(i != mine);
        std::int32_t pid = 0;
        CHILD_CHECK(shmds_pool_owner(p.get(), i, &pid) == 0 && pid == getpid());
        CHILD_CHECK(shmds_pool_free(p.get(), mine) == 0);  // any process may free
        return 0;
    });
    EXPECT_EQ(1u, shmds_pool_used(p.get()));
}

TEST(Pool, StatsAndVersionedStruct) {
    auto p = make_pool(SHMDS_TYPE_BYTES, 10, 20);
    std::uint64_t i;
    ASSERT_EQ(0, shmds_pool_try_alloc(p.get(), &i));
    const shmds_pool_stats_t s = pool_stats(p.get());
    EXPECT_EQ(10u, s.capacity);
    EXPECT_EQ(1u, s.used);
    EXPECT_EQ(9u, s.available);
    EXPECT_EQ(24u, s.elem_size);
    EXPECT_EQ(20u, s.max_len);
    EXPECT_EQ(0u, s.recoveries);
    EXPECT_GT(s.segment_bytes, 10u * 24u);
    EXPECT_EQ(0u, s.waiters);
    shmds_pool_stats_t small{};
    small.struct_size = 4;
    EXPECT_EQ(-EINVAL, shmds_pool_stats(p.get(), &small));
    shmds_pool_config_t cfg;
    ASSERT_EQ(0, shmds_pool_config_init(&cfg, sizeof cfg, SHMDS_POOL_RAW, 3, 9));
    EXPECT_EQ(SHMDS_POOL_RAW, cfg.variant);
    EXPECT_EQ(9u, cfg.elem_size);
    EXPECT_EQ(-EINVAL, shmds_pool_config_init(nullptr, sizeof cfg, 0, 0, 0));
}

TEST(Pool, OpenChecksTheVariant) {
    TempPath path("pool");
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = path.c_str();
    auto p = make_pool(SHMDS_POOL_RAW, 4, 24, &o);
    std::uint64_t i;
    ASSERT_EQ(0, shmds_pool_try_alloc(p.get(), &i));
    shmds_pool_t *q = nullptr;
    EXPECT_EQ(SHMDS_ETYPE, shmds_pool_open(&o, SHMDS_TYPE_INT64, &q));
    EXPECT_EQ(-EINVAL, shmds_pool_open(&o, 55, &q));
    ASSERT_EQ(0, shmds_pool_open(&o, SHMDS_POOL_ANY, &q)) << shmds_last_error();
    EXPECT_EQ(SHMDS_POOL_RAW, shmds_pool_variant(q));
    EXPECT_EQ(24u, shmds_pool_elem_size(q));
    EXPECT_EQ(1, shmds_pool_is_allocated(q, i));
    shmds_pool_close(q);
    ASSERT_EQ(0, shmds_pool_open(&o, SHMDS_POOL_RAW, &q));
    shmds_pool_close(q);
    // Creating again attaches; the stored geometry wins.
    shmds_pool_config_t cfg = SHMDS_POOL_CONFIG_INIT(SHMDS_POOL_RAW, 99, 24);
    ASSERT_EQ(0, shmds_pool_create(&o, &cfg, &q));
    EXPECT_EQ(4u, shmds_pool_capacity(q));
    shmds_pool_close(q);
}

TEST(Pool, EventfdIsExplicit) {
    auto p = make_pool(SHMDS_TYPE_INT64, 2);
    const int fd = shmds_pool_eventfd(p.get());
    ASSERT_GE(fd, 0);
    std::uint64_t i, n = 0;
    ASSERT_EQ(0, shmds_pool_try_alloc(p.get(), &i));
    ASSERT_EQ(0, shmds_pool_free(p.get(), i));
    EXPECT_EQ(-EAGAIN, shmds_pool_eventfd_consume(p.get(), &n));
    ASSERT_EQ(0, shmds_pool_notify(p.get()));
    ASSERT_EQ(0, shmds_pool_eventfd_consume(p.get(), &n));
    EXPECT_EQ(1u, n);
}

}  // namespace
