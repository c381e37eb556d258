// The hash map through its public C API: every verb of every shape and every return
// code hashmap.h documents, capacity and the elastic table, bytes exactness, opening,
// an oracle run against std::unordered_map, and torn-read detection under threads.
// Cross-process and crash tests are in test_hashmap_procs.cpp.
#include "hashmap_aging_model.hpp"
#include "hashmap_helpers.hpp"

#include "core/header.hpp"     // where a shard's words live, for the damage tests
#include "hashmap/hash.hpp"    // the keyed hash, for the flooding test
#include "hashmap/layout.hpp"  // where the hash seed lives

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <sys/time.h>
#include <thread>
#include <unordered_map>
#include <vector>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace shmds::test;
using namespace shmds::test::hm;

namespace {

constexpr int I16 = SHMDS_TYPE_INT16, I32 = SHMDS_TYPE_INT32, I64 = SHMDS_TYPE_INT64,
              BYTES = SHMDS_TYPE_BYTES;

// ------------------------------------------------------------ integer verbs

TEST(HashMapInt, PutGetExistsRemove) {
    MapPtr m = make_map(I64, I64, 100);
    EXPECT_EQ(std::nullopt, get_ii(m.get(), 1));
    EXPECT_EQ(0, shmds_hashmap_exists_i(m.get(), 1));
    EXPECT_EQ(0, shmds_hashmap_put_ii(m.get(), 1, 10));
    EXPECT_EQ(10, get_ii(m.get(), 1));
    EXPECT_EQ(1, shmds_hashmap_exists_i(m.get(), 1));
    EXPECT_EQ(0, shmds_hashmap_put_ii(m.get(), 1, 11));  // overwrite
    EXPECT_EQ(11, get_ii(m.get(), 1));
    EXPECT_EQ(0, shmds_hashmap_put_ii(m.get(), INT64_MIN, INT64_MAX));
    EXPECT_EQ(INT64_MAX, get_ii(m.get(), INT64_MIN));
    EXPECT_EQ(2u, stats(m.get()).size);
    EXPECT_EQ(0, shmds_hashmap_remove_i(m.get(), 1));
    EXPECT_EQ(-ENOENT, shmds_hashmap_remove_i(m.get(), 1));
    EXPECT_EQ(std::nullopt, get_ii(m.get(), 1));
    EXPECT_EQ(1u, stats(m.get()).size);
}

TEST(HashMapInt, AddOnlyWhenAbsentUpdateOnlyWhenPresent) {
    MapPtr m = make_map(I64, I64, 100);
    EXPECT_EQ(-ENOENT, shmds_hashmap_update_ii(m.get(), 5, 1));
    EXPECT_EQ(std::nullopt, get_ii(m.get(), 5));
    EXPECT_EQ(0, shmds_hashmap_add_ii(m.get(), 5, 1));
    EXPECT_EQ(-EEXIST, shmds_hashmap_add_ii(m.get(), 5, 2));
    EXPECT_EQ(1, get_ii(m.get(), 5));
    EXPECT_EQ(0, shmds_hashmap_update_ii(m.get(), 5, 3));
    EXPECT_EQ(3, get_ii(m.get(), 5));
}

TEST(HashMapInt, SwapTakeCasGetOrSet) {
    MapPtr m = make_map(I64, I64, 100);
    std::int64_t old = 77;
    EXPECT_EQ(0, shmds_hashmap_swap_ii(m.get(), 1, 10, &old));  // absent: inserted
    EXPECT_EQ(77, old);                                          // untouched
    EXPECT_EQ(1, shmds_hashmap_swap_ii(m.get(), 1, 20, &old));
    EXPECT_EQ(10, old);
    EXPECT_EQ(20, get_ii(m.get(), 1));

    EXPECT_EQ(-ECANCELED, shmds_hashmap_cas_ii(m.get(), 1, 19, 30));
    EXPECT_EQ(20, get_ii(m.get(), 1));
    EXPECT_EQ(0, shmds_hashmap_cas_ii(m.get(), 1, 20, 30));
    EXPECT_EQ(30, get_ii(m.get(), 1));
    EXPECT_EQ(-ENOENT, shmds_hashmap_cas_ii(m.get(), 2, 0, 1));

    std::int64_t v = 0;
    EXPECT_EQ(1, shmds_hashmap_get_or_set_ii(m.get(), 1, 99, &v));
    EXPECT_EQ(30, v);
    EXPECT_EQ(0, shmds_hashmap_get_or_set_ii(m.get(), 2, 99, &v));
    EXPECT_EQ(99, v);
    EXPECT_EQ(99, get_ii(m.get(), 2));

    EXPECT_EQ(0, shmds_hashmap_take_ii(m.get(), 2, &v));
    EXPECT_EQ(99, v);
    EXPECT_EQ(-ENOENT, shmds_hashmap_take_ii(m.get(), 2, &v));
    EXPECT_EQ(std::nullopt, get_ii(m.get(), 2));
}

TEST(HashMapInt, CountersStartFromZeroAndRefuseOverflow) {
    MapPtr m = make_map(I64, I64, 100);
    std::int64_t v = 0;
    EXPECT_EQ(0, shmds_hashmap_incr_i(m.get(), 7, &v));
    EXPECT_EQ(1, v);
    EXPECT_EQ(0, shmds_hashmap_incr_i(m.get(), 7, &v));
    EXPECT_EQ(2, v);
    EXPECT_EQ(0, shmds_hashmap_decr_i(m.get(), 7, &v));
    EXPECT_EQ(1, v);
    EXPECT_EQ(0, shmds_hashmap_incr_by_i(m.get(), 7, -11, &v));
    EXPECT_EQ(-10, v);
    EXPECT_EQ(0, shmds_hashmap_decr_i(m.get(), 8, &v));  // missing: from 0
    EXPECT_EQ(-1, v);
    EXPECT_EQ(0, shmds_hashmap_put_ii(m.get(), 9, INT64_MAX - 1));
    EXPECT_EQ(0, shmds_hashmap_incr_i(m.get(), 9, &v));
    EXPECT_EQ(INT64_MAX, v);
    v = 5;
    EXPECT_EQ(-ERANGE, shmds_hashmap_incr_i(m.get(), 9, &v));  // never wraps
    EXPECT_EQ(5, v);
    EXPECT_EQ(INT64_MAX, get_ii(m.get(), 9));
    EXPECT_EQ(-EINVAL, shmds_hashmap_incr_i(m.get(), 9, nullptr));
}

TEST(HashMapInt, NarrowTypesRefuseOutOfRange) {
    MapPtr m = make_map(I16, I32, 100);
    EXPECT_EQ(0, shmds_hashmap_put_ii(m.get(), 32767, INT32_MIN));
    EXPECT_EQ(-ERANGE, shmds_hashmap_put_ii(m.get(), 32768, 1));
    EXPECT_EQ(-ERANGE, shmds_hashmap_put_ii(m.get(), -32769, 1));
    EXPECT_EQ(-ERANGE, shmds_hashmap_put_ii(m.get(), 1, std::int64_t(INT32_MAX) + 1));
    std::int64_t v;
    EXPECT_EQ(-ERANGE, shmds_hashmap_get_ii(m.get(), 40000, &v));
    EXPECT_EQ(1u, stats(m.get()).size);
    // A counter at the top of int32 refuses to pass it, and keeps its value.
    EXPECT_EQ(0, shmds_hashmap_put_ii(m.get(), 2, INT32_MAX));
    EXPECT_EQ(-ERANGE, shmds_hashmap_incr_i(m.get(), 2, &v));
    EXPECT_EQ(INT32_MAX, get_ii(m.get(), 2));
    EXPECT_EQ(0, shmds_hashmap_decr_i(m.get(), 2, &v));
    EXPECT_EQ(INT32_MAX - 1, v);
}

TEST(HashMapInt, WrongShapeAndNullArguments) {
    MapPtr m = make_map(I64, I64, 100);
    EXPECT_EQ(SHMDS_EVARIANT, shmds_hashmap_put_bb(m.get(), "k", 1, "v", 1));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_hashmap_put_ib(m.get(), 1, "v", 1));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_hashmap_put_bi(m.get(), "k", 1, 1));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_hashmap_exists_b(m.get(), "k", 1));
    std::size_t len;
    char buf[8];
    EXPECT_EQ(SHMDS_EVARIANT, shmds_hashmap_get_ib(m.get(), 1, buf, sizeof buf, &len));
    EXPECT_EQ(-EINVAL, shmds_hashmap_put_ii(nullptr, 1, 1));
    EXPECT_EQ(-EINVAL, shmds_hashmap_get_ii(m.get(), 1, nullptr));
    EXPECT_EQ(-EINVAL, shmds_hashmap_exists_i(nullptr, 1));
    EXPECT_EQ(-EINVAL, shmds_hashmap_stats(nullptr, nullptr));

    MapPtr b = make_map(BYTES, BYTES, 100);
    EXPECT_EQ(SHMDS_EVARIANT, shmds_hashmap_put_ii(b.get(), 1, 1));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_hashmap_incr_b(b.get(), "k", 1, reinterpret_cast<std::int64_t *>(buf)));
    EXPECT_EQ(-EINVAL, shmds_hashmap_put_bb(b.get(), nullptr, 3, "v", 1));
    EXPECT_EQ(-EINVAL, shmds_hashmap_get_bb(b.get(), "k", 1, buf, sizeof buf, nullptr));
    EXPECT_EQ(-EINVAL, shmds_hashmap_get_bb(b.get(), "k", 1, nullptr, 4, &len));
}

TEST(HashMapF64, EveryVerbWithIntegerAndBytesKeys) {
    MapPtr m = make_map(I32, SHMDS_TYPE_F64, 100);
    double d = 0;
    EXPECT_EQ(0, shmds_hashmap_put_if(m.get(), 1, 1.5));
    EXPECT_EQ(0, shmds_hashmap_get_if(m.get(), 1, &d));
    EXPECT_EQ(1.5, d);
    EXPECT_EQ(-EEXIST, shmds_hashmap_add_if(m.get(), 1, 2.0));
    EXPECT_EQ(0, shmds_hashmap_add_if(m.get(), 2, -0.0));
    EXPECT_EQ(-ENOENT, shmds_hashmap_update_if(m.get(), 3, 1.0));
    EXPECT_EQ(0, shmds_hashmap_update_if(m.get(), 1, 2.5));
    EXPECT_EQ(1, shmds_hashmap_swap_if(m.get(), 1, 3.5, &d));
    EXPECT_EQ(2.5, d);
    // cas compares bits: -0.0 is not 0.0.
    EXPECT_EQ(-ECANCELED, shmds_hashmap_cas_if(m.get(), 2, 0.0, 9.0));
    EXPECT_EQ(0, shmds_hashmap_cas_if(m.get(), 2, -0.0, 9.0));
    EXPECT_EQ(1, shmds_hashmap_get_or_set_if(m.get(), 2, 1.0, &d));
    EXPECT_EQ(9.0, d);
    EXPECT_EQ(0, shmds_hashmap_take_if(m.get(), 2, &d));
    EXPECT_EQ(9.0, d);
    EXPECT_EQ(-ENOENT, shmds_hashmap_get_if(m.get(), 2, &d));
    EXPECT_EQ(-ERANGE, shmds_hashmap_put_if(m.get(), INT64_MAX, 1.0));
    std::int64_t i;
    EXPECT_EQ(SHMDS_EVARIANT, shmds_hashmap_get_ii(m.get(), 1, &i));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_hashmap_incr_i(m.get(), 1, &i));
    EXPECT_EQ(-EINVAL, shmds_hashmap_get_if(m.get(), 1, nullptr));
    EXPECT_EQ(1, shmds_hashmap_exists_i(m.get(), 1));
    EXPECT_EQ(0, shmds_hashmap_remove_i(m.get(), 1));

    MapPtr b = make_map(BYTES, SHMDS_TYPE_F64, 100);
    EXPECT_EQ(0, shmds_hashmap_put_bf(b.get(), "pi", 2, 3.14159));
    EXPECT_EQ(0, shmds_hashmap_add_bf(b.get(), "e", 1, 2.71828));
    EXPECT_EQ(0, shmds_hashmap_update_bf(b.get(), "e", 1, 2.7));
    EXPECT_EQ(1, shmds_hashmap_swap_bf(b.get(), "e", 1, 2.8, &d));
    EXPECT_EQ(2.7, d);
    EXPECT_EQ(0, shmds_hashmap_cas_bf(b.get(), "e", 1, 2.8, 2.9));
    EXPECT_EQ(0, shmds_hashmap_get_or_set_bf(b.get(), "phi", 3, 1.618, &d));
    EXPECT_EQ(1.618, d);
    EXPECT_EQ(0, shmds_hashmap_get_bf(b.get(), "pi", 2, &d));
    EXPECT_EQ(3.14159, d);
    EXPECT_EQ(0, shmds_hashmap_take_bf(b.get(), "e", 1, &d));
    EXPECT_EQ(2.9, d);
    EXPECT_EQ(SHMDS_EVARIANT, shmds_hashmap_put_bf(m.get(), "x", 1, 1.0));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_hashmap_put_if(b.get(), 1, 1.0));
}

// shmds_hashmap_get_ii has a short lane for int64 keys with integer values; every
// other case, and every error, goes through the checked path. Its edges: each value
// width read back, a key or value type it must refuse, and each NULL named.
TEST(HashMapInt, GetIiReadsEveryIntegerWidthAndNamesWhatIsWrong) {
    for (int vt : {I16, I32, I64}) {
        MapPtr m = make_map(I64, vt, 100);
        const std::int64_t big = vt == I16 ? INT16_MIN : vt == I32 ? INT32_MIN : INT64_MIN;
        ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), INT64_MAX, big));
        std::int64_t v = 7;
        EXPECT_EQ(0, shmds_hashmap_get_ii(m.get(), INT64_MAX, &v));
        EXPECT_EQ(big, v);
        v = 7;
        EXPECT_EQ(-ENOENT, shmds_hashmap_get_ii(m.get(), INT64_MIN, &v));
        EXPECT_EQ(7, v) << "a miss leaves *out alone";
        EXPECT_EQ(-EINVAL, shmds_hashmap_get_ii(m.get(), 1, nullptr));
        EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "shmds_hashmap_get_ii: the value pointer"))
            << shmds_last_error();
    }
    std::int64_t v = 0;
    EXPECT_EQ(-EINVAL, shmds_hashmap_get_ii(nullptr, 1, &v));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "shmds_hashmap_get_ii: hash map"))
        << shmds_last_error();
    MapPtr f = make_map(I64, SHMDS_TYPE_F64, 100);
    ASSERT_EQ(0, shmds_hashmap_put_if(f.get(), 1, 1.5));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_hashmap_get_ii(f.get(), 1, &v));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "f64")) << shmds_last_error();
    MapPtr b = make_map(BYTES, I64, 100);
    EXPECT_EQ(SHMDS_EVARIANT, shmds_hashmap_get_ii(b.get(), 1, &v));
    MapPtr n = make_map(I32, I64, 100);
    ASSERT_EQ(0, shmds_hashmap_put_ii(n.get(), INT32_MIN, 5));
    EXPECT_EQ(0, shmds_hashmap_get_ii(n.get(), INT32_MIN, &v));
    EXPECT_EQ(5, v);
    EXPECT_EQ(-ERANGE, shmds_hashmap_get_ii(n.get(), std::int64_t(INT32_MAX) + 1, &v));
}

// -------------------------------------------------------------- bytes verbs

TEST(HashMapBytes, ByteExactKeysAndValues) {
    MapPtr m = make_map(BYTES, BYTES, 100);
    const std::string nul("a\0b", 3), ff("\xff\xff", 2), empty;
    EXPECT_EQ(0, put_bb(m.get(), nul, ff));
    EXPECT_EQ(0, put_bb(m.get(), ff, empty));
    EXPECT_EQ(0, put_bb(m.get(), empty, nul));
    EXPECT_EQ(0, put_bb(m.get(), std::string("a\0c", 3), "other"));
    EXPECT_EQ(ff, get_bb(m.get(), nul));
    EXPECT_EQ(empty, get_bb(m.get(), ff));
    EXPECT_EQ(nul, get_bb(m.get(), empty));
    EXPECT_EQ(std::nullopt, get_bb(m.get(), "a"));
    EXPECT_EQ(0, shmds_hashmap_put_bb(m.get(), nullptr, 0, nullptr, 0));  // NULL with 0
    EXPECT_EQ(std::string(), get_bb(m.get(), ""));
}

TEST(HashMapBytes, LongKeysAndValuesLiveInTheArena) {
    MapPtr m = make_map(BYTES, BYTES, 100, 1, 1 << 20);
    for (std::size_t n : {15u, 16u, 17u, 31u, 32u, 33u, 100u, 1000u, 5000u}) {
        const std::string k(n, char('k' + n % 7)), v(n * 2 + 1, char('v' + n % 5));
        ASSERT_EQ(0, put_bb(m.get(), k, v)) << n << ": " << shmds_last_error();
        EXPECT_EQ(v, get_bb(m.get(), k)) << n;
    }
    EXPECT_GT(stats(m.get()).arena_used, 0u);
    for (std::size_t n : {15u, 16u, 17u, 31u, 32u, 33u, 100u, 1000u, 5000u}) {
        const std::string k(n, char('k' + n % 7));
        EXPECT_EQ(0, shmds_hashmap_remove_b(m.get(), k.data(), k.size())) << n;
    }
    EXPECT_EQ(0u, stats(m.get()).arena_used);  // every block went back
    EXPECT_EQ(0u, stats(m.get()).size);
}

TEST(HashMapBytes, SmallBufferGetsTheLengthAndConsumesNothing) {
    MapPtr m = make_map(BYTES, BYTES, 100);
    const std::string v(50, 'x');
    ASSERT_EQ(0, put_bb(m.get(), "k", v));
    char buf[10];
    std::size_t len = 0;
    EXPECT_EQ(-ENOBUFS, shmds_hashmap_get_bb(m.get(), "k", 1, buf, sizeof buf, &len));
    EXPECT_EQ(50u, len);
    len = 0;
    EXPECT_EQ(-ENOBUFS, shmds_hashmap_take_bb(m.get(), "k", 1, buf, sizeof buf, &len));
    EXPECT_EQ(50u, len);
    EXPECT_EQ(v, get_bb(m.get(), "k"));  // take removed nothing
    EXPECT_EQ(-ENOBUFS, shmds_hashmap_swap_bb(m.get(), "k", 1, "new", 3, buf, sizeof buf, &len));
    EXPECT_EQ(v, get_bb(m.get(), "k"));  // swap changed nothing
    EXPECT_EQ(-ENOBUFS, shmds_hashmap_get_or_set_bb(m.get(), "k", 1, "n", 1, buf, sizeof buf, &len));
    // Absent, with a given value that does not fit: nothing inserted.
    EXPECT_EQ(-ENOBUFS, shmds_hashmap_get_or_set_bb(m.get(), "z", 1, v.data(), v.size(), buf,
                                                   sizeof buf, &len));
    EXPECT_EQ(50u, len);
    EXPECT_EQ(std::nullopt, get_bb(m.get(), "z"));
}

TEST(HashMapBytes, SwapTakeCasGetOrSetAcrossShapes) {
    MapPtr m = make_map(BYTES, BYTES, 100);
    char buf[64];
    std::size_t len = 0;
    EXPECT_EQ(0, shmds_hashmap_swap_bb(m.get(), "k", 1, "one", 3, buf, sizeof buf, &len));
    EXPECT_EQ(1, shmds_hashmap_swap_bb(m.get(), "k", 1, "two", 3, buf, sizeof buf, &len));
    EXPECT_EQ("one", std::string(buf, len));
    EXPECT_EQ(-ECANCELED, shmds_hashmap_cas_bb(m.get(), "k", 1, "tw", 2, "x", 1));
    EXPECT_EQ(-ECANCELED, shmds_hashmap_cas_bb(m.get(), "k", 1, "twx", 3, "x", 1));
    EXPECT_EQ(0, shmds_hashmap_cas_bb(m.get(), "k", 1, "two", 3, std::string(40, 'L').data(), 40));
    EXPECT_EQ(std::string(40, 'L'), get_bb(m.get(), "k"));
    EXPECT_EQ(1, shmds_hashmap_get_or_set_bb(m.get(), "k", 1, "d", 1, buf, sizeof buf, &len));
    EXPECT_EQ(40u, len);
    EXPECT_EQ(0, shmds_hashmap_get_or_set_bb(m.get(), "j", 1, "d", 1, buf, sizeof buf, &len));
    EXPECT_EQ("d", std::string(buf, len));
    EXPECT_EQ(0, shmds_hashmap_take_bb(m.get(), "j", 1, buf, sizeof buf, &len));
    EXPECT_EQ("d", std::string(buf, len));
    EXPECT_EQ(std::nullopt, get_bb(m.get(), "j"));
    EXPECT_EQ(-ENOENT, shmds_hashmap_update_bb(m.get(), "j", 1, "x", 1));
    EXPECT_EQ(-EEXIST, shmds_hashmap_add_bb(m.get(), "k", 1, "x", 1));

    // Mixed shapes: integer keys with bytes values, bytes keys with integer values.
    MapPtr ib = make_map(I32, BYTES, 100);
    EXPECT_EQ(0, shmds_hashmap_put_ib(ib.get(), -5, "five", 4));
    EXPECT_EQ(0, shmds_hashmap_get_ib(ib.get(), -5, buf, sizeof buf, &len));
    EXPECT_EQ("five", std::string(buf, len));
    EXPECT_EQ(0, shmds_hashmap_add_ib(ib.get(), 6, "", 0));
    EXPECT_EQ(0, shmds_hashmap_update_ib(ib.get(), 6, "six", 3));
    EXPECT_EQ(1, shmds_hashmap_swap_ib(ib.get(), 6, "SIX", 3, buf, sizeof buf, &len));
    EXPECT_EQ("six", std::string(buf, len));
    EXPECT_EQ(0, shmds_hashmap_cas_ib(ib.get(), 6, "SIX", 3, "6", 1));
    EXPECT_EQ(1, shmds_hashmap_get_or_set_ib(ib.get(), 6, "x", 1, buf, sizeof buf, &len));
    EXPECT_EQ(0, shmds_hashmap_take_ib(ib.get(), 6, buf, sizeof buf, &len));
    EXPECT_EQ("6", std::string(buf, len));
    EXPECT_EQ(-ENOENT, shmds_hashmap_remove_i(ib.get(), 6));

    MapPtr bi = make_map(BYTES, I16, 100);
    std::int64_t v = 0;
    EXPECT_EQ(0, shmds_hashmap_put_bi(bi.get(), "a", 1, 1));
    EXPECT_EQ(-ERANGE, shmds_hashmap_put_bi(bi.get(), "a", 1, 1 << 16));
    EXPECT_EQ(0, shmds_hashmap_get_bi(bi.get(), "a", 1, &v));
    EXPECT_EQ(1, v);
    EXPECT_EQ(-EEXIST, shmds_hashmap_add_bi(bi.get(), "a", 1, 2));
    EXPECT_EQ(0, shmds_hashmap_update_bi(bi.get(), "a", 1, 2));
    EXPECT_EQ(1, shmds_hashmap_swap_bi(bi.get(), "a", 1, 3, &v));
    EXPECT_EQ(2, v);
    EXPECT_EQ(0, shmds_hashmap_cas_bi(bi.get(), "a", 1, 3, 4));
    EXPECT_EQ(1, shmds_hashmap_get_or_set_bi(bi.get(), "a", 1, 9, &v));
    EXPECT_EQ(4, v);
    EXPECT_EQ(0, shmds_hashmap_incr_by_b(bi.get(), "a", 1, 10, &v));
    EXPECT_EQ(14, v);
    EXPECT_EQ(0, shmds_hashmap_incr_b(bi.get(), "n", 1, &v));
    EXPECT_EQ(1, v);
    EXPECT_EQ(0, shmds_hashmap_decr_b(bi.get(), "n", 1, &v));
    EXPECT_EQ(0, v);
    EXPECT_EQ(-ERANGE, shmds_hashmap_incr_by_b(bi.get(), "n", 1, 40000, &v));
    EXPECT_EQ(0, shmds_hashmap_take_bi(bi.get(), "a", 1, &v));
    EXPECT_EQ(14, v);
    EXPECT_EQ(1, shmds_hashmap_exists_b(bi.get(), "n", 1));
    EXPECT_EQ(0, shmds_hashmap_remove_b(bi.get(), "n", 1));
    EXPECT_EQ(0, shmds_hashmap_exists_b(bi.get(), "n", 1));
}

TEST(HashMapBytes, ArenaExhaustionIsAnErrorNeverADrop) {
    MapPtr m = make_map(BYTES, BYTES, 1000, 1, 4096);
    const std::string big(1000, 'b');  // a 1024-byte block: four fit
    int stored = 0, rc = 0;
    for (int i = 0; i < 10 && (rc = put_bb(m.get(), std::to_string(i), big)) == 0; ++i) ++stored;
    EXPECT_EQ(4, stored);
    EXPECT_EQ(-ENOSPC, rc);
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "arena")) << shmds_last_error();
    EXPECT_EQ(std::nullopt, get_bb(m.get(), "4"));  // the refused put left nothing
    EXPECT_EQ(4u, stats(m.get()).size);
    // A value larger than the whole arena can never fit.
    const std::string huge(8192, 'h');
    EXPECT_EQ(-E2BIG, put_bb(m.get(), "h", huge));
    // Freed blocks are reused.
    EXPECT_EQ(0, shmds_hashmap_remove_b(m.get(), "0", 1));
    EXPECT_EQ(0, put_bb(m.get(), "9", big));
    EXPECT_EQ(big, get_bb(m.get(), "9"));
}

// ------------------------------------------------------ capacity and resize

TEST(HashMapCapacity, MaxEntriesIsExactWithOneShard) {
    MapPtr m = make_map(I64, I64, 100);
    for (int i = 0; i < 100; ++i) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), i, i)) << i;
    EXPECT_EQ(-ENOSPC, shmds_hashmap_put_ii(m.get(), 100, 1));
    EXPECT_EQ(0, shmds_hashmap_put_ii(m.get(), 5, 55));  // overwriting needs no room
    std::int64_t v;
    EXPECT_EQ(-ENOSPC, shmds_hashmap_incr_i(m.get(), 100, &v));
    EXPECT_EQ(0, shmds_hashmap_remove_i(m.get(), 0));
    EXPECT_EQ(0, shmds_hashmap_put_ii(m.get(), 100, 1));
    EXPECT_EQ(100u, stats(m.get()).size);
}

TEST(HashMapCapacity, TombstonesAreCompactedAtTheCeiling) {
    MapPtr m = make_map(I64, I64, 48);  // a 64-slot table at most
    for (int i = 0; i < 40; ++i) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), i, i));
    // Churn far more distinct keys than slots through a full table.
    for (int i = 40; i < 5000; ++i) {
        ASSERT_EQ(0, shmds_hashmap_remove_i(m.get(), i - 40)) << i;
        ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), i, i)) << i << ": " << shmds_last_error();
    }
    for (int i = 4960; i < 5000; ++i) EXPECT_EQ(i, get_ii(m.get(), i));
    const shmds_hashmap_stats_t s = stats(m.get());
    EXPECT_EQ(40u, s.size);
    EXPECT_EQ(64u, s.table_slots_max);
    EXPECT_GT(s.resizes, 10u);
}

// The smallest table (16 slots) at its 3/4 ceiling, then with a third of its keys
// removed: probe chains cross the 8-slot tag groups the readers scan, wrap round the end
// of the table and pass removed slots. Under many random seeds every present key is
// found with its value, and no absent one.
TEST(HashMapCapacity, ReadersProbeAcrossGroupsAndRoundTheTableEnd) {
    for (int round = 0; round < 300; ++round) {
        MapPtr m = make_map(I64, I64, 12);
        ASSERT_EQ(16u, stats(m.get()).table_slots_max);
        for (int k = 0; k < 12; ++k) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), k, k * 7));
        for (int k = 0; k < 12; k += 3) ASSERT_EQ(0, shmds_hashmap_remove_i(m.get(), k));
        for (int k = 0; k < 24; ++k) {
            const std::optional<std::int64_t> got = get_ii(m.get(), k);
            if (k < 12 && k % 3 != 0) {
                ASSERT_TRUE(got.has_value()) << "round " << round << ": key " << k << " lost";
                EXPECT_EQ(k * 7, *got);
            } else {
                EXPECT_FALSE(got.has_value()) << "round " << round << ": key " << k << " found";
            }
            EXPECT_EQ(got.has_value() ? 1 : 0, shmds_hashmap_exists_i(m.get(), k));
        }
    }
}

// A peer's damage the readers must report, never act on. The map lives in a file that
// the test maps itself to change words a writer never would.
class HashMapReadDamage : public ::testing::Test {
protected:
    void SetUp() override {
        o_.backing = SHMDS_BACKING_PATH;
        o_.name = path_.c_str();
        m_ = make_map(I64, I64, 100, 1, 0, &o_);
        ASSERT_EQ(0, shmds_hashmap_put_ii(m_.get(), 1, 10));
        const int fd = ::open(path_.c_str(), O_RDWR);
        ASSERT_GE(fd, 0);
        struct stat st;
        ASSERT_EQ(0, fstat(fd, &st));
        size_ = std::size_t(st.st_size);
        base_ = static_cast<std::uint8_t *>(
            mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
        ::close(fd);
        ASSERT_NE(MAP_FAILED, static_cast<void *>(base_));
    }
    void TearDown() override {
        if (base_ && base_ != MAP_FAILED) munmap(base_, size_);
    }
    shmds::hashmap::ShardControl *shard0() {
        return reinterpret_cast<shmds::hashmap::ShardControl *>(
            base_ + sizeof(shmds::core::SegmentHeader) + sizeof(shmds::hashmap::MapControl));
    }
    TempPath path_{"hm-read-damage"};
    shmds_options_t o_ = SHMDS_OPTIONS_INIT;
    MapPtr m_;
    std::uint8_t *base_ = nullptr;
    std::size_t size_ = 0;
};

// An int->int entry's length word says 8 bytes of key and 8 of value; a value length
// of 4 (still inline, so no bounds check trips) must not reach the caller as an int64.
TEST_F(HashMapReadDamage, AnIntegerValueOfAnotherLengthIsReportedNotReturned) {
    const std::uint64_t good = 8 | std::uint64_t{8} << 32, bad = 8 | std::uint64_t{4} << 32;
    int found = 0;
    for (std::size_t off = 0; off + 8 <= size_; off += 8) {
        auto *w = reinterpret_cast<std::atomic<std::uint64_t> *>(base_ + off);
        if (w->load() == good) {
            w->store(bad);
            ++found;
        }
    }
    ASSERT_EQ(1, found) << "the one entry's length word";
    std::int64_t v = 7;
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_hashmap_get_ii(m_.get(), 1, &v));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "4 bytes long")) << shmds_last_error();
    EXPECT_EQ(7, v);
}

// Live tables have 16 slots or more (readers match 8 tags per load); a capacity word
// set below that, though a power of two, is damage for readers and writers alike.
TEST_F(HashMapReadDamage, ATableSmallerThanTheSmallestIsDamage) {
    shard0()->cap.store(8);
    std::int64_t v = 0;
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_hashmap_get_ii(m_.get(), 1, &v)) << shmds_last_error();
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_hashmap_put_ii(m_.get(), 2, 2)) << shmds_last_error();
    shard0()->cap.store(16);
    EXPECT_EQ(10, get_ii(m_.get(), 1));
}

TEST(HashMapCapacity, GrowsAndShrinksWithValuesIntact) {
    MapPtr m = make_map(I64, I64, 20000);
    EXPECT_EQ(16u, stats(m.get()).table_slots);
    for (int i = 0; i < 20000; ++i) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), i, i * 3));
    EXPECT_EQ(32768u, stats(m.get()).table_slots);
    for (int i = 0; i < 20000; ++i) ASSERT_EQ(i * 3, get_ii(m.get(), i));
    for (int i = 10; i < 20000; ++i) ASSERT_EQ(0, shmds_hashmap_remove_i(m.get(), i));
    const shmds_hashmap_stats_t s = stats(m.get());
    EXPECT_EQ(10u, s.size);
    EXPECT_LE(s.table_slots, 64u);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(i * 3, get_ii(m.get(), i));
    for (int i = 10; i < 100; ++i) EXPECT_EQ(std::nullopt, get_ii(m.get(), i));
}

TEST(HashMapCapacity, ShardedMapSpreadsKeys) {
    MapPtr m = make_map(BYTES, I64, 8000, 8);
    for (int i = 0; i < 4000; ++i) {
        const std::string k = "key-" + std::to_string(i);
        ASSERT_EQ(0, shmds_hashmap_put_bi(m.get(), k.data(), k.size(), i)) << shmds_last_error();
    }
    const shmds_hashmap_stats_t s = stats(m.get());
    EXPECT_EQ(8u, s.shards);
    EXPECT_EQ(4000u, s.size);
    EXPECT_GE(s.table_slots, 8u * 512u);  // every shard grew: keys spread
    for (int i = 0; i < 4000; ++i) {
        const std::string k = "key-" + std::to_string(i);
        std::int64_t v = -1;
        ASSERT_EQ(0, shmds_hashmap_get_bi(m.get(), k.data(), k.size(), &v));
        ASSERT_EQ(i, v);
    }
}

// ------------------------------------------------------------------ lifecycle

TEST(HashMapLifecycle, ConfigIsValidated) {
    shmds_hashmap_t *m = nullptr;
    auto create = [&](shmds_hashmap_config_t c) { return shmds_hashmap_create(nullptr, &c, &m); };
    EXPECT_EQ(-EINVAL, create(config(SHMDS_TYPE_F64, I64, 10)));      // f64 keys
    EXPECT_EQ(-EINVAL, create(config(I64, SHMDS_TYPE_UINT8, 10)));    // not a value type
    EXPECT_EQ(-EINVAL, create(config(0, 0, 10)));
    EXPECT_EQ(-EINVAL, create(config(I64, I64, 0)));
    EXPECT_EQ(-EINVAL, create(config(I64, I64, (1ull << 31) + 1)));
    EXPECT_EQ(-EINVAL, create(config(I64, I64, 10, 3)));              // not a power of 2
    EXPECT_EQ(-EINVAL, create(config(I64, I64, 10, 512)));
    EXPECT_EQ(-EINVAL, create(config(I64, I64, 10, 1, 4096)));        // arena on ints
    EXPECT_EQ(-EINVAL, shmds_hashmap_create(nullptr, nullptr, &m));
    EXPECT_EQ(nullptr, m);
    shmds_hashmap_config_t c;
    ASSERT_EQ(0, shmds_hashmap_config_init(&c, sizeof c, BYTES, I32, 5));
    EXPECT_EQ(BYTES, c.key_type);
    EXPECT_EQ(I32, c.value_type);
    EXPECT_EQ(5u, c.max_entries);
    EXPECT_EQ(0u, c.shards);
    EXPECT_EQ(-EINVAL, shmds_hashmap_config_init(&c, 4, BYTES, I32, 5));
}

TEST(HashMapLifecycle, FileBackedMapReopensWithItsTypesAndData) {
    TempPath path("hmopen");
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = path.c_str();
    {
        MapPtr m = make_map(BYTES, I64, 100, 2, 0, &o);
        ASSERT_EQ(0, shmds_hashmap_put_bi(m.get(), "x", 1, 42));
        EXPECT_GE(shmds_hashmap_fd(m.get()), 0);
        EXPECT_EQ(0, shmds_hashmap_sync(m.get()));
    }
    shmds_hashmap_t *m = nullptr;
    EXPECT_EQ(SHMDS_ETYPE, shmds_hashmap_open(&o, I64, I64, &m));
    EXPECT_EQ(-EINVAL, shmds_hashmap_open(&o, BYTES, 0, &m));
    ASSERT_EQ(0, shmds_hashmap_open(&o, 0, 0, &m)) << shmds_last_error();
    MapPtr any(m);
    EXPECT_EQ(BYTES, shmds_hashmap_key_type(m));
    EXPECT_EQ(I64, shmds_hashmap_value_type(m));
    std::int64_t v = 0;
    EXPECT_EQ(0, shmds_hashmap_get_bi(m, "x", 1, &v));  // same seed: the key is found
    EXPECT_EQ(42, v);
    EXPECT_EQ(2u, stats(m).shards);
    ASSERT_EQ(0, shmds_hashmap_open(&o, BYTES, I64, &m));
    MapPtr typed(m);
    // create on the same path attaches with the stored geometry; other types are refused.
    const shmds_hashmap_config_t other = config(I64, I64, 100);
    EXPECT_EQ(SHMDS_ETYPE, shmds_hashmap_create(&o, &other, &m));
    EXPECT_EQ(-EINVAL, shmds_hashmap_key_type(nullptr));
    EXPECT_EQ(-ENOENT, shmds_hashmap_fd(make_map(I64, I64, 1).get()));
    EXPECT_EQ(0u, shmds_hashmap_recoveries(typed.get()));
}

// The layout hash in every map's header is what lets a file made by one build open in
// another: a refactor that keeps the shared structs (the journal moving to core, say)
// must keep these values; a real layout change must change them (and say so). Last
// changed by layout version 3 (the common header's shape_check word).
TEST(HashMapLifecycle, LayoutHashIsPinned) {
    using shmds::hashmap::ElemType;
    using shmds::hashmap::Variant;
    using shmds::hashmap::layout_hash;
    EXPECT_EQ(0x1f62011b136c3297u, layout_hash(Variant{ElemType::int64, ElemType::int64}, 0));
    EXPECT_EQ(0xc83a239b57d16b5eu, layout_hash(Variant{ElemType::int64, ElemType::int64}, 1));
    EXPECT_EQ(0xfed83d5fc27422cdu, layout_hash(Variant{ElemType::bytes, ElemType::bytes}, 0));
    EXPECT_EQ(0xb803ef4f57e4b984u, layout_hash(Variant{ElemType::bytes, ElemType::bytes}, 1));
}

TEST(HashMapLifecycle, EachMapDrawsItsOwnHashSeed) {
    // The keyed hash's seed is the MapControl right after the common header.
    auto seed_of = [](const TempPath &p) {
        shmds_options_t o = SHMDS_OPTIONS_INIT;
        o.backing = SHMDS_BACKING_PATH;
        o.name = p.c_str();
        MapPtr m = make_map(I64, I64, 10, 0, 0, &o);
        std::ifstream f(p.str(), std::ios::binary);
        f.seekg(sizeof(shmds::core::SegmentHeader) + offsetof(shmds::hashmap::MapControl, seed));
        std::string seed(16, '\0');
        f.read(seed.data(), 16);
        return seed;
    };
    TempPath p1("hmseed1"), p2("hmseed2");
    const std::string s1 = seed_of(p1), s2 = seed_of(p2);
    EXPECT_NE(s1, s2);
    EXPECT_NE(std::string(16, '\0'), s1);
}

// Keys an attacker would pick against an unkeyed hash all share their low bits (an
// identity hash, as std::hash<int64_t> is, puts them in one slot) or differ only in a
// block of bytes. With a random seed their home slots must spread like random ones:
// 10000 keys over 16384 slots fill about 7500 distinct slots, never a handful. The
// shard bits (top) and the slot bits (low) must be independent: the keys of one shard
// spread over the slots just as well.
TEST(HashMapHash, ChosenKeysSpreadUnderARandomSeed) {
    std::mt19937_64 rng(test_seed());
    for (int round = 0; round < 4; ++round) {
        const shmds::hashmap::HashSeed seed{rng(), rng()};
        constexpr std::uint64_t kSlots = 16384, kKeys = 10000;
        std::set<std::uint64_t> int_slots, bytes_slots, shard0_slots;
        std::uint64_t in_shard0 = 0;
        for (std::uint64_t i = 0; i < kKeys; ++i) {
            const std::uint64_t h = shmds::hashmap::hash_u64(i << 20, seed);
            int_slots.insert(h & (kSlots - 1));
            if (h >> 62 == 0) {  // shard 0 of 4
                ++in_shard0;
                shard0_slots.insert(h & (kSlots - 1));
            }
            // 64-byte keys that differ only in 8 bytes in the middle.
            std::string k(64, 'x');
            std::memcpy(&k[24], &i, sizeof i);
            bytes_slots.insert(shmds::hashmap::hash_bytes(k.data(), k.size(), seed) & (kSlots - 1));
        }
        EXPECT_GT(int_slots.size(), 7000u);
        EXPECT_GT(bytes_slots.size(), 7000u);
        EXPECT_GT(in_shard0, kKeys / 4 - 300);
        EXPECT_LT(in_shard0, kKeys / 4 + 300);
        EXPECT_GT(shard0_slots.size(), in_shard0 * 8 / 10);  // ~0.93 when independent
    }
    // Another seed puts the same key elsewhere: positions cannot be precomputed.
    const shmds::hashmap::HashSeed a{1, 2}, b{3, 4};
    int same = 0;
    for (std::uint64_t i = 0; i < 1000; ++i)
        same += (shmds::hashmap::hash_u64(i, a) & 1023) == (shmds::hashmap::hash_u64(i, b) & 1023);
    EXPECT_LT(same, 20);
}

// ---------------------------------------------------------------------- oracle

TEST(HashMapOracle, IntegerMapMatchesUnorderedMap) {
    const std::uint64_t seed = test_seed();
    std::mt19937_64 rng(seed);
    MapPtr m = make_map(I32, I64, 300);
    std::unordered_map<std::int64_t, std::int64_t> model;
    for (int step = 0; step < 60000; ++step) {
        const std::int64_t k = std::int64_t(rng() % 400) - 200;
        const std::int64_t v = std::int64_t(rng() % 1000);
        const bool present = model.count(k) != 0;
        std::int64_t out = 0;
        switch (rng() % 8) {
            case 0: {
                const int rc = shmds_hashmap_put_ii(m.get(), k, v);
                if (!present && model.size() == 300) {
                    ASSERT_EQ(-ENOSPC, rc);
                } else {
                    ASSERT_EQ(0, rc) << shmds_last_error();
                    model[k] = v;
                }
                break;
            }
            case 1: {
                const int rc = shmds_hashmap_add_ii(m.get(), k, v);
                if (present) ASSERT_EQ(-EEXIST, rc);
                else if (model.size() == 300) ASSERT_EQ(-ENOSPC, rc);
                else { ASSERT_EQ(0, rc); model[k] = v; }
                break;
            }
            case 2:
                ASSERT_EQ(present ? 0 : -ENOENT, shmds_hashmap_update_ii(m.get(), k, v));
                if (present) model[k] = v;
                break;
            case 3:
            case 4:
                ASSERT_EQ(present ? 0 : -ENOENT, shmds_hashmap_take_ii(m.get(), k, &out));
                if (present) {
                    ASSERT_EQ(model[k], out);
                    model.erase(k);
                }
                break;
            case 5: {
                const int rc = shmds_hashmap_incr_by_i(m.get(), k, 3, &out);
                if (!present && model.size() == 300) {
                    ASSERT_EQ(-ENOSPC, rc);
                } else {
                    ASSERT_EQ(0, rc);
                    ASSERT_EQ(model[k] + 3, out);
                    model[k] += 3;
                }
                break;
            }
            case 6: {
                const std::int64_t expected = present && rng() % 2 ? model[k] : v;
                const int rc = shmds_hashmap_cas_ii(m.get(), k, expected, v + 1);
                if (!present) ASSERT_EQ(-ENOENT, rc);
                else if (model[k] == expected) { ASSERT_EQ(0, rc); model[k] = v + 1; }
                else ASSERT_EQ(-ECANCELED, rc);
                break;
            }
            default:
                ASSERT_EQ(present ? std::optional<std::int64_t>(model[k]) : std::nullopt,
                          get_ii(m.get(), k));
        }
        if (step % 5000 == 0) {
            ASSERT_EQ(model.size(), stats(m.get()).size) << "seed " << seed;
            for (const auto &[key, val] : model) ASSERT_EQ(val, get_ii(m.get(), key));
        }
    }
    EXPECT_GT(stats(m.get()).resizes, 0u);
}

// TTL (with an injected clock) and eviction against an exact model of SIEVE and lazy
// expiry (hashmap_aging_model.hpp): every verb's result, and size, evictions and
// expirations, step by step, through grows, shrinks and compactions.
void run_aging_oracle(bool evict) {
    const std::uint64_t seed = test_seed();
    std::mt19937_64 rng(seed);
    constexpr std::size_t kMax = 64;
    constexpr std::uint64_t kDefaultTtl = 400;
    ManualClock clock;
    shmds_hashmap_config_t c = config(I64, I64, kMax);
    c.flags = evict ? SHMDS_HASHMAP_EVICT : 0;
    c.default_ttl_ms = kDefaultTtl;
    shmds_hashmap_t *raw = nullptr;
    ASSERT_EQ(0, shmds_hashmap_create(nullptr, &c, &raw)) << shmds_last_error();
    MapPtr m(raw);
    clock.attach(m.get());
    AgingModel model(kMax, evict, kDefaultTtl, clock);
    const std::uint64_t ttls[] = {0, 5, 50, 1000};
    for (int step = 0; step < 40000; ++step) {
        SCOPED_TRACE(::testing::Message() << "seed " << seed << " step " << step);
        const std::int64_t k = std::int64_t(rng() % 160);
        const std::int64_t v = std::int64_t(rng() % 1000);
        const std::uint64_t ttl = ttls[rng() % 4];
        std::int64_t out = 0, out_k = 0;
        std::uint64_t left = 0;
        switch (rng() % 16) {
            case 0:
            case 1:
                ASSERT_EQ(model.put(k, v, AgingModel::kDefault), shmds_hashmap_put_ii(m.get(), k, v));
                break;
            case 2:
                ASSERT_EQ(model.put(k, v, ttl), shmds_hashmap_put_ttl_ii(m.get(), k, v, ttl));
                break;
            case 3:
                ASSERT_EQ(model.add(k, v, ttl), shmds_hashmap_add_ttl_ii(m.get(), k, v, ttl));
                break;
            case 4:
                ASSERT_EQ(model.put(k, v, ttl, true), shmds_hashmap_update_ttl_ii(m.get(), k, v, ttl));
                break;
            case 5: {
                const auto want = model.take(k);
                ASSERT_EQ(want ? 0 : -ENOENT, shmds_hashmap_take_ii(m.get(), k, &out));
                if (want) {
                    ASSERT_EQ(*want, out);
                }
                break;
            }
            case 6: {
                const auto want = model.incr(k, 2);
                const int rc = shmds_hashmap_incr_by_i(m.get(), k, 2, &out);
                ASSERT_EQ(want ? 0 : -ENOSPC, rc);
                if (want) {
                    ASSERT_EQ(*want, out);
                }
                break;
            }
            case 7:
                ASSERT_EQ(model.touch(k), shmds_hashmap_touch_i(m.get(), k));
                break;
            case 8:
                ASSERT_EQ(model.set_expire(k, 0), shmds_hashmap_persist_i(m.get(), k));
                break;
            case 9:
                ASSERT_EQ(model.set_expire(k, ttl), shmds_hashmap_set_ttl_i(m.get(), k, ttl));
                break;
            case 10: {
                const auto want = model.expire_of(k);
                const int rc = shmds_hashmap_ttl_remaining_i(m.get(), k, &left);
                ASSERT_EQ(!want ? -ENOENT : *want ? 1 : 0, rc);
                if (want) {
                    ASSERT_EQ(*want ? *want - clock.now : 0, left);
                }
                break;
            }
            case 11:
                if (evict) {
                    const bool newest = rng() % 2;
                    const auto want = model.pop(newest);
                    const int rc = newest ? shmds_hashmap_shift_ii(m.get(), &out_k, &out)
                                          : shmds_hashmap_pop_ii(m.get(), &out_k, &out);
                    ASSERT_EQ(want ? 0 : -ENOENT, rc);
                    if (want) {
                        ASSERT_EQ(*want, std::make_pair(out_k, out));
                    }
                }
                break;
            case 12:
                if (rng() % 16 == 0) {
                    std::uint64_t removed = 0;
                    ASSERT_EQ(0, shmds_hashmap_flush_expired(m.get(), &removed));
                    ASSERT_EQ(model.flush(), removed);
                }
                break;
            case 13:
                clock.now += rng() % 30;
                break;
            default:
                ASSERT_EQ(model.get(k), get_ii(m.get(), k));
        }
        if (step % 2000 == 0) {
            const shmds_hashmap_stats_t st = stats(m.get());
            ASSERT_EQ(model.size(), st.size);
            ASSERT_EQ(model.evictions, st.evictions);
            ASSERT_EQ(model.expirations, st.expirations);
            for (std::int64_t key = 0; key < 160; ++key) ASSERT_EQ(model.get(key), get_ii(m.get(), key));
        }
    }
    const shmds_hashmap_stats_t st = stats(m.get());
    EXPECT_GT(st.resizes, 2u);
    EXPECT_GT(st.expirations, 0u);
    if (evict) {
        EXPECT_GT(st.evictions, 0u);
    }
}

TEST(HashMapOracle, TtlAndEvictionMatchAModel) { run_aging_oracle(true); }
TEST(HashMapOracle, TtlOnAFullMapMatchesAModel) { run_aging_oracle(false); }

std::string random_bytes(std::mt19937_64 &rng, std::size_t max_len) {
    std::string s(rng() % (max_len + 1), '\0');
    for (char &c : s) c = char(rng() % 4 == 0 ? 0 : rng());  // NULs and high bytes
    return s;
}

TEST(HashMapOracle, BytesMapMatchesUnorderedMap) {
    const std::uint64_t seed = test_seed();
    std::mt19937_64 rng(seed);
    MapPtr m = make_map(BYTES, BYTES, 500, 2, 1 << 20);
    std::unordered_map<std::string, std::string> model;
    std::vector<std::string> keys;
    for (int i = 0; i < 300; ++i) keys.push_back(random_bytes(rng, 40));
    char buf[256];
    for (int step = 0; step < 40000; ++step) {
        const std::string &k = keys[rng() % keys.size()];
        const std::string v = random_bytes(rng, 120);
        const bool present = model.count(k) != 0;
        std::size_t len = 0;
        switch (rng() % 6) {
            case 0:
            case 1:
                ASSERT_EQ(0, put_bb(m.get(), k, v)) << shmds_last_error() << " seed " << seed;
                model[k] = v;
                break;
            case 2: {
                const int rc = shmds_hashmap_swap_bb(m.get(), k.data(), k.size(), v.data(),
                                                     v.size(), buf, sizeof buf, &len);
                ASSERT_EQ(present ? 1 : 0, rc);
                if (present) {
                    ASSERT_EQ(model[k], std::string(buf, len));
                }
                model[k] = v;
                break;
            }
            case 3:
                ASSERT_EQ(present ? 0 : -ENOENT,
                          shmds_hashmap_take_bb(m.get(), k.data(), k.size(), buf, sizeof buf, &len));
                if (present) {
                    ASSERT_EQ(model[k], std::string(buf, len));
                    model.erase(k);
                }
                break;
            case 4: {
                const int rc = shmds_hashmap_get_or_set_bb(m.get(), k.data(), k.size(), v.data(),
                                                           v.size(), buf, sizeof buf, &len);
                ASSERT_EQ(present ? 1 : 0, rc);
                if (!present) model[k] = v;
                ASSERT_EQ(model[k], std::string(buf, len));
                break;
            }
            default:
                ASSERT_EQ(present ? std::optional<std::string>(model[k]) : std::nullopt,
                          get_bb(m.get(), k));
        }
    }
    ASSERT_EQ(model.size(), stats(m.get()).size);
    for (const auto &[key, val] : model) ASSERT_EQ(val, get_bb(m.get(), key));
    for (const auto &[key, val] : model) ASSERT_EQ(0, shmds_hashmap_remove_b(m.get(), key.data(), key.size()));
    EXPECT_EQ(0u, stats(m.get()).arena_used);  // no block leaked
}

// ----------------------------------------------------------------- torn reads
// A read copies the value without a lock and keeps it only if the shard's sequence word
// did not move meanwhile (design §3). To prove that check matters, the writes must
// land inside copies, every time, not when the scheduler happens to interleave them:
// the writer runs inside the reader, as a timer signal's handler. It interrupts the
// reader's get wherever it is (with 40000-byte values, almost always inside the copy)
// and rewrites the value in a way that changes the very bytes being copied: a
// 80000-byte value first (another size class, so the current block goes on its free
// list), then a 40000-byte value of a new fill byte, which takes that block back. A
// reader that kept its copy would return a value of two fill bytes. (A writer stopped
// inside its write window, where readers must not copy at all, is tested in
// test_hashmap_timeouts.cpp; one killed there in test_hashmap_procs.cpp.)

namespace torn {
constexpr std::size_t kLen = 40000, kOtherLen = 80000;
shmds_hashmap_t *g_map = nullptr;
char g_value[kLen], g_other[kOtherLen];
volatile sig_atomic_t g_rewrites = 0, g_failures = 0;
unsigned char g_fill = 'a';

void rewrite(int) {
    const int saved_errno = errno;
    g_fill = g_fill == 'z' ? 'a' : g_fill + 1;
    std::memset(g_value, g_fill, kLen);
    if (shmds_hashmap_put_ib(g_map, 7, g_other, kOtherLen) != 0 ||
        shmds_hashmap_put_ib(g_map, 7, g_value, kLen) != 0)
        ++g_failures;
    ++g_rewrites;
    errno = saved_errno;
}
}  // namespace torn

TEST(HashMapConcurrency, ReadersNeverSeeATornValue) {
#if SHMDS_TEST_TSAN
    GTEST_SKIP() << "ThreadSanitizer delivers signals only at its interceptors, never "
                    "inside a copy";
#endif
    MapPtr m = make_map(I64, BYTES, 4, 1, 1 << 20);
    torn::g_map = m.get();
    std::memset(torn::g_value, torn::g_fill, torn::kLen);
    std::memset(torn::g_other, 'B', torn::kOtherLen);
    ASSERT_EQ(0, shmds_hashmap_put_ib(m.get(), 7, torn::g_value, torn::kLen));
    torn::rewrite(0);  // once outside a handler: nothing it reaches is set up first inside one
    ASSERT_EQ(0, torn::g_failures) << shmds_last_error();

    struct sigaction sa {}, old_sa{};
    sa.sa_handler = torn::rewrite;
    sigemptyset(&sa.sa_mask);
    ASSERT_EQ(0, sigaction(SIGALRM, &sa, &old_sa));
    itimerval every_ms{{0, 1000}, {0, 1000}}, off{};
    ASSERT_EQ(0, setitimer(ITIMER_REAL, &every_ms, nullptr));
    std::vector<char> buf(torn::kOtherLen);
    long reads = 0, torn_reads = 0, failed = 0;
    const auto start = std::chrono::steady_clock::now();
    while (torn::g_rewrites < 300 && ms_since(start) < 20000) {
        std::size_t len = 0;
        if (shmds_hashmap_get_ib(m.get(), 7, buf.data(), buf.size(), &len) != 0) {
            ++failed;
            continue;
        }
        ++reads;
        // Whole values are kLen bytes of one fill byte.
        if (len != torn::kLen || std::count(buf.begin(), buf.begin() + long(len), buf[0]) != long(len))
            ++torn_reads;
    }
    setitimer(ITIMER_REAL, &off, nullptr);
    sigaction(SIGALRM, &old_sa, nullptr);
    EXPECT_EQ(0, torn_reads) << "of " << reads << " reads under " << torn::g_rewrites
                             << " rewrites";
    EXPECT_EQ(0, failed);
    EXPECT_EQ(0, torn::g_failures) << "a rewrite inside the handler failed";
    EXPECT_GE(torn::g_rewrites, 300) << "the timer should fire every millisecond";
}

// The integer short lane (shmds_hashmap_get_ii's one-word pass) validates its pass by
// the seqlock like every read. Here the timer's handler moves a slot from one key to
// another inside the reader's get: it removes key A and puts key B, whose home slot is
// A's (chosen with the map's seed), so B takes A's very slot, and back. A pass that
// matched A's key and then read the slot's value after the handler ran would return
// B's value for A; every value encodes its key, so that is caught.
namespace reuse {
shmds_hashmap_t *g_map = nullptr;
std::int64_t g_a = 0, g_b = 0;
volatile sig_atomic_t g_moves = 0, g_failures = 0;
std::int64_t value_of(std::int64_t key) { return key * 3 + 1; }

void move_slot(int) {
    const int saved_errno = errno;
    const bool a_present = g_moves % 2 == 0;
    const std::int64_t from = a_present ? g_a : g_b, to = a_present ? g_b : g_a;
    if (shmds_hashmap_remove_i(g_map, from) != 0 || shmds_hashmap_put_ii(g_map, to, value_of(to)) != 0)
        ++g_failures;
    ++g_moves;
    errno = saved_errno;
}
}  // namespace reuse

TEST(HashMapConcurrency, IntegerGetsNeverReturnAnotherKeysValue) {
#if SHMDS_TEST_TSAN
    GTEST_SKIP() << "ThreadSanitizer delivers signals only at its interceptors, never "
                    "inside a get";
#endif
    TempPath path("hm-reuse");
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = path.c_str();
    MapPtr m = make_map(I64, I64, 4, 1, 0, &o);
    ASSERT_EQ(16u, stats(m.get()).table_slots);
    std::uint64_t seed[2];
    {
        std::ifstream f(path.str(), std::ios::binary);
        f.seekg(sizeof(shmds::core::SegmentHeader) + offsetof(shmds::hashmap::MapControl, seed));
        f.read(reinterpret_cast<char *>(seed), sizeof seed);
    }
    const shmds::hashmap::HashSeed hs{seed[0], seed[1]};
    auto home = [&](std::int64_t k) { return shmds::hashmap::hash_u64(std::uint64_t(k), hs) & 15; };
    reuse::g_a = 1000;
    reuse::g_b = reuse::g_a + 1;
    while (home(reuse::g_b) != home(reuse::g_a)) ++reuse::g_b;
    reuse::g_map = m.get();
    reuse::g_moves = 0;
    ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), reuse::g_a, reuse::value_of(reuse::g_a)));
    reuse::move_slot(0);  // once outside a handler (A -> B), and back inside one
    ASSERT_EQ(0, reuse::g_failures) << shmds_last_error();

    struct sigaction sa {}, old_sa{};
    sa.sa_handler = reuse::move_slot;
    sigemptyset(&sa.sa_mask);
    ASSERT_EQ(0, sigaction(SIGALRM, &sa, &old_sa));
    itimerval every_ms{{0, 1000}, {0, 1000}}, off{};
    ASSERT_EQ(0, setitimer(ITIMER_REAL, &every_ms, nullptr));
    long found = 0, wrong = 0, failed = 0;
    const auto start = std::chrono::steady_clock::now();
    while (reuse::g_moves < 1000 && ms_since(start) < 20000) {
        for (const std::int64_t k : {reuse::g_a, reuse::g_b}) {
            std::int64_t v = 0;
            const int r = shmds_hashmap_get_ii(m.get(), k, &v);
            if (r == 0) {
                ++found;
                if (v != reuse::value_of(k)) ++wrong;
            } else if (r != -ENOENT) {
                ++failed;
            }
        }
    }
    setitimer(ITIMER_REAL, &off, nullptr);
    sigaction(SIGALRM, &old_sa, nullptr);
    EXPECT_EQ(0, wrong) << "of " << found << " hits under " << reuse::g_moves << " moves";
    EXPECT_EQ(0, failed);
    EXPECT_GT(found, 0);
    EXPECT_EQ(0, reuse::g_failures) << "a move inside the handler failed";
    EXPECT_GE(reuse::g_moves, 1000) << "the timer should fire every millisecond";
}

TEST(HashMapConcurrency, ThreadsReadingWhileAWriterFlipsValuesSeeOnlyWholeValues) {
    // One writer flips each key between a 100-byte and a 200-byte value of one repeated
    // byte (both in the arena); readers check every value they get is one of the two.
    // Timing decides which reads overlap a write: ReadersNeverSeeATornValue forces it.
    MapPtr m = make_map(I64, BYTES, 64);
    const std::string a(100, 'a'), b(200, 'b');
    for (int k = 0; k < 16; ++k) ASSERT_EQ(0, shmds_hashmap_put_ib(m.get(), k, a.data(), a.size()));
    std::atomic<bool> stop{false};
    std::atomic<long> reads{0}, torn{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 2; ++t)
        readers.emplace_back([&] {
            char buf[256];
            std::size_t len;
            while (!stop.load(std::memory_order_relaxed)) {
                for (int k = 0; k < 16; ++k) {
                    if (shmds_hashmap_get_ib(m.get(), k, buf, sizeof buf, &len) != 0) {
                        ++torn;
                        continue;
                    }
                    const std::string got(buf, len);
                    if (got != a && got != b) ++torn;
                    ++reads;
                }
            }
        });
    for (int round = 0; round < 300000; ++round) {
        const std::string &v = round % 2 ? a : b;
        ASSERT_EQ(0, shmds_hashmap_put_ib(m.get(), round % 16, v.data(), v.size()));
    }
    stop = true;
    for (auto &t : readers) t.join();
    EXPECT_EQ(0, torn.load());
    EXPECT_GT(reads.load(), 0);
}

}  // namespace
