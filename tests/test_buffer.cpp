// The buffer's operations and errors (buffer.h) for each of the eleven element types,
// and an oracle test against a std::vector with a printed seed.
#include "buffer_helpers.hpp"

#include <shmds/shmds.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <thread>
#include <vector>
#include <unistd.h>

using namespace shmds::test;

namespace {

constexpr std::uint64_t kLen = 37;  // not a power of two: the end is checked exactly
constexpr std::int64_t kNow = 0;    // SHMDS_NOWAIT
constexpr std::int64_t kForever = -1;

template <typename T, int Type>
struct Elem {
    using C = T;
    static constexpr int type = Type;
};

template <typename P>
class BufferTyped : public ::testing::Test {};

using NumericTypes =
    ::testing::Types<Elem<std::int8_t, SHMDS_TYPE_INT8>, Elem<std::int16_t, SHMDS_TYPE_INT16>,
                     Elem<std::int32_t, SHMDS_TYPE_INT32>, Elem<std::int64_t, SHMDS_TYPE_INT64>,
                     Elem<std::uint8_t, SHMDS_TYPE_UINT8>, Elem<std::uint16_t, SHMDS_TYPE_UINT16>,
                     Elem<std::uint32_t, SHMDS_TYPE_UINT32>, Elem<std::uint64_t, SHMDS_TYPE_UINT64>,
                     Elem<float, SHMDS_TYPE_F32>, Elem<double, SHMDS_TYPE_F64>>;
TYPED_TEST_SUITE(BufferTyped, NumericTypes);

// A value of C distinct per index, representable in every verb's C type.
template <typename C>
C value_at(std::uint64_t i) {
    if constexpr (std::is_floating_point_v<C>) return C(i) + C(0.5);
    else if constexpr (std::is_signed_v<C>) return C(std::int64_t(i % 50) - 25);
    else return C(i % 200 + 1);
}

template <typename C>
int set_elem(shmds_buffer_t *b, std::uint64_t i, C v) {
    if constexpr (std::is_floating_point_v<C>) return shmds_buffer_set_f64(b, i, double(v));
    else if constexpr (std::is_same_v<C, std::uint64_t>) return shmds_buffer_set_uint(b, i, v);
    else return shmds_buffer_set_int(b, i, std::int64_t(v));
}

template <typename C>
C get_elem(shmds_buffer_t *b, std::uint64_t i) {
    if constexpr (std::is_floating_point_v<C>) {
        double d = -1;
        EXPECT_EQ(0, shmds_buffer_get_f64(b, i, &d)) << shmds_last_error();
        return C(d);
    } else {
        std::uint64_t u = 0;
        std::int64_t s = 0;
        if constexpr (std::is_signed_v<C>) {
            EXPECT_EQ(0, shmds_buffer_get_int(b, i, &s)) << shmds_last_error();
            return C(s);
        } else {
            EXPECT_EQ(0, shmds_buffer_get_uint(b, i, &u)) << shmds_last_error();
            return C(u);
        }
    }
}

TYPED_TEST(BufferTyped, GeometryAndZeroStart) {
    using C = typename TypeParam::C;
    auto buf = make_buffer(TypeParam::type, kLen);
    shmds_buffer_t *b = buf.get();
    EXPECT_EQ(TypeParam::type, shmds_buffer_type(b));
    EXPECT_EQ(kLen, shmds_buffer_length(b));
    EXPECT_EQ(sizeof(C), shmds_buffer_elem_size(b));
    EXPECT_EQ(0u, reinterpret_cast<std::uintptr_t>(shmds_buffer_data(b)) % 64);
    for (std::uint64_t i = 0; i < kLen; ++i) EXPECT_EQ(C(0), get_elem<C>(b, i));
    const auto s = buffer_stats(b);
    EXPECT_EQ(kLen, s.length);
    EXPECT_EQ(sizeof(C), s.elem_size);
    EXPECT_EQ(0u, s.bulk_writes);
}

TYPED_TEST(BufferTyped, ElementGetSetAndTheDataPointer) {
    using C = typename TypeParam::C;
    auto buf = make_buffer(TypeParam::type, kLen);
    shmds_buffer_t *b = buf.get();
    for (std::uint64_t i = 0; i < kLen; ++i) ASSERT_EQ(0, set_elem<C>(b, i, value_at<C>(i)));
    const C *data = static_cast<const C *>(shmds_buffer_data(b));
    for (std::uint64_t i = 0; i < kLen; ++i) {
        EXPECT_EQ(value_at<C>(i), get_elem<C>(b, i));
        EXPECT_EQ(value_at<C>(i), data[i]);  // packed: element i at data + i * size
    }
    // Out of range, both the first bad index and the largest.
    for (std::uint64_t bad : {kLen, std::uint64_t(UINT64_MAX)}) {
        EXPECT_EQ(-ERANGE, set_elem<C>(b, bad, value_at<C>(0)));
        EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "outside the buffer"));
        std::int64_t s;
        std::uint64_t u;
        double d;
        const int rc = std::is_floating_point_v<C> ? shmds_buffer_get_f64(b, bad, &d)
                       : std::is_signed_v<C>       ? shmds_buffer_get_int(b, bad, &s)
                                                   : shmds_buffer_get_uint(b, bad, &u);
        EXPECT_EQ(-ERANGE, rc);
    }
    EXPECT_EQ(-EINVAL, shmds_buffer_get_int(nullptr, 0, nullptr));
}

TYPED_TEST(BufferTyped, VerbsOfTheWrongKindAreRefused) {
    using C = typename TypeParam::C;
    auto buf = make_buffer(TypeParam::type, kLen);
    shmds_buffer_t *b = buf.get();
    std::int64_t s;
    double d;
    std::size_t len;
    if constexpr (std::is_floating_point_v<C>) {
        EXPECT_EQ(SHMDS_EVARIANT, shmds_buffer_get_int(b, 0, &s));
        EXPECT_EQ(SHMDS_EVARIANT, shmds_buffer_set_uint(b, 0, 1));
        EXPECT_EQ(SHMDS_EVARIANT, shmds_buffer_add_int(b, 0, 1, nullptr));
        EXPECT_EQ(SHMDS_EVARIANT, shmds_buffer_or(b, 0, 1, nullptr));
    } else {
        EXPECT_EQ(SHMDS_EVARIANT, shmds_buffer_get_f64(b, 0, &d));
        EXPECT_EQ(SHMDS_EVARIANT, shmds_buffer_fill_f64(b, 1.0, kForever));
    }
    EXPECT_EQ(SHMDS_EVARIANT, shmds_buffer_get_bytes(b, 0, nullptr, 0, &len, kForever));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_buffer_set_bytes(b, 0, "x", 1, kForever));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "use the"));
}

TYPED_TEST(BufferTyped, ValuesThatDoNotFitAreRefusedNeverTruncated) {
    using C = typename TypeParam::C;
    if constexpr (std::is_integral_v<C> && sizeof(C) < 8) {
        auto buf = make_buffer(TypeParam::type, kLen);
        shmds_buffer_t *b = buf.get();
        const std::int64_t above = std::int64_t(std::numeric_limits<C>::max()) + 1;
        const std::int64_t below = std::int64_t(std::numeric_limits<C>::min()) - 1;
        EXPECT_EQ(-ERANGE, shmds_buffer_set_int(b, 3, above));
        EXPECT_EQ(-ERANGE, shmds_buffer_set_int(b, 3, below));
        EXPECT_EQ(-ERANGE, shmds_buffer_fill_int(b, above, kForever));
        const std::int64_t vals[] = {1, above, 2};
        EXPECT_EQ(-ERANGE, shmds_buffer_set_slice_int(b, 0, vals, 3, kForever));
        EXPECT_EQ(C(0), get_elem<C>(b, 0));  // nothing of the refused slice was stored
        EXPECT_EQ(C(0), get_elem<C>(b, 3));
        // add: the sum must fit, no wrap-around.
        ASSERT_EQ(0, shmds_buffer_set_int(b, 4, std::int64_t(std::numeric_limits<C>::max())));
        EXPECT_EQ(-ERANGE, shmds_buffer_incr(b, 4, nullptr));
        EXPECT_EQ(std::numeric_limits<C>::max(), get_elem<C>(b, 4));
        ASSERT_EQ(0, shmds_buffer_set_int(b, 5, std::int64_t(std::numeric_limits<C>::min())));
        EXPECT_EQ(-ERANGE, shmds_buffer_decr(b, 5, nullptr));
        EXPECT_EQ(std::numeric_limits<C>::min(), get_elem<C>(b, 5));
        // bit patterns wider than the element
        EXPECT_EQ(-ERANGE, shmds_buffer_or(b, 0, std::uint64_t{1} << (sizeof(C) * 8), nullptr));
    } else if constexpr (std::is_same_v<C, std::uint64_t>) {
        auto buf = make_buffer(TypeParam::type, kLen);
        shmds_buffer_t *b = buf.get();
        EXPECT_EQ(-ERANGE, shmds_buffer_set_int(b, 0, -1));
        ASSERT_EQ(0, shmds_buffer_set_uint(b, 0, UINT64_MAX));
        std::int64_t s;
        EXPECT_EQ(-ERANGE, shmds_buffer_get_int(b, 0, &s));  // above INT64_MAX
        EXPECT_EQ(-ERANGE, shmds_buffer_add_uint(b, 0, 1, nullptr));
        std::uint64_t n = 0;
        ASSERT_EQ(0, shmds_buffer_add_uint(b, 0, -1, &n));
        EXPECT_EQ(UINT64_MAX - 1, n);
    } else if constexpr (std::is_same_v<C, float>) {
        auto buf = make_buffer(TypeParam::type, kLen);
        ASSERT_EQ(0, shmds_buffer_set_f64(buf.get(), 0, 0.1));
        EXPECT_EQ(0.1f, get_elem<float>(buf.get(), 0));  // the nearest float
    } else {
        GTEST_SKIP() << "every value of the C type fits";
    }
}

TYPED_TEST(BufferTyped, IntegerAtomics) {
    using C = typename TypeParam::C;
    if constexpr (!std::is_integral_v<C>) {
        auto buf = make_buffer(TypeParam::type, kLen);
        double old = -1;
        ASSERT_EQ(0, shmds_buffer_set_f64(buf.get(), 1, 2.5));
        ASSERT_EQ(0, shmds_buffer_exchange_f64(buf.get(), 1, 4.25, &old));
        EXPECT_EQ(2.5, old);
        EXPECT_EQ(C(4.25), get_elem<C>(buf.get(), 1));
        EXPECT_EQ(-ERANGE, shmds_buffer_exchange_f64(buf.get(), kLen, 1.0, &old));
    } else {
        auto buf = make_buffer(TypeParam::type, kLen);
        shmds_buffer_t *b = buf.get();
        std::int64_t n = 0;
        ASSERT_EQ(0, shmds_buffer_add_int(b, 2, 7, &n));
        EXPECT_EQ(7, n);
        ASSERT_EQ(0, shmds_buffer_incr(b, 2, &n));
        EXPECT_EQ(8, n);
        ASSERT_EQ(0, shmds_buffer_decr(b, 2, &n));
        ASSERT_EQ(0, shmds_buffer_decr(b, 2, &n));
        EXPECT_EQ(6, n);
        std::uint64_t un = 0;
        ASSERT_EQ(0, shmds_buffer_add_uint(b, 2, -6, &un));
        EXPECT_EQ(0u, un);
        if constexpr (std::is_unsigned_v<C>) {
            EXPECT_EQ(-ERANGE, shmds_buffer_decr(b, 2, &n));  // below zero
        } else {
            ASSERT_EQ(0, shmds_buffer_decr(b, 2, &n));
            EXPECT_EQ(-1, n);
            ASSERT_EQ(0, shmds_buffer_set_int(b, 2, 0));
        }
        // cas: a match swaps, a mismatch reports what is there.
        std::int64_t actual = -5;
        ASSERT_EQ(0, shmds_buffer_cas_int(b, 2, 0, 9, &actual));
        EXPECT_EQ(0, actual);
        EXPECT_EQ(-EAGAIN, shmds_buffer_cas_int(b, 2, 0, 11, &actual));
        EXPECT_EQ(9, actual);
        EXPECT_EQ(C(9), get_elem<C>(b, 2));
        std::uint64_t uact = 0;
        ASSERT_EQ(0, shmds_buffer_cas_uint(b, 2, 9, 12, &uact));
        EXPECT_EQ(-EAGAIN, shmds_buffer_cas_uint(b, 2, 9, 13, &uact));
        EXPECT_EQ(12u, uact);
        // exchange
        std::int64_t old = 0;
        ASSERT_EQ(0, shmds_buffer_exchange_int(b, 2, 20, &old));
        EXPECT_EQ(12, old);
        std::uint64_t uold = 0;
        ASSERT_EQ(0, shmds_buffer_exchange_uint(b, 2, 0x0f, &uold));
        EXPECT_EQ(20u, uold);
        // bit operations return the old bit pattern
        std::uint64_t bits = 0;
        ASSERT_EQ(0, shmds_buffer_or(b, 2, 0x30, &bits));
        EXPECT_EQ(0x0fu, bits);
        ASSERT_EQ(0, shmds_buffer_and(b, 2, 0x3c, &bits));
        EXPECT_EQ(0x3fu, bits);
        ASSERT_EQ(0, shmds_buffer_xor(b, 2, 0x14, &bits));
        EXPECT_EQ(0x3cu, bits);
        EXPECT_EQ(C(0x28), get_elem<C>(b, 2));
        // a signed element's pattern is two's complement of its width
        if constexpr (std::is_signed_v<C>) {
            const std::uint64_t all = sizeof(C) == 8 ? UINT64_MAX : (std::uint64_t{1} << (sizeof(C) * 8)) - 1;
            ASSERT_EQ(0, shmds_buffer_set_int(b, 3, -1));
            ASSERT_EQ(0, shmds_buffer_and(b, 3, all, &bits));
            EXPECT_EQ(all, bits);
        }
        EXPECT_EQ(-ERANGE, shmds_buffer_incr(b, kLen, &n));
        EXPECT_EQ(-ERANGE, shmds_buffer_cas_int(b, kLen, 0, 1, &actual));
        EXPECT_EQ(-ERANGE, shmds_buffer_xor(b, kLen, 1, &bits));
    }
}

// add_slice: every sum checked before anything changes; one bulk write.
TYPED_TEST(BufferTyped, AddSliceAddsEveryDeltaOrNothing) {
    using C = typename TypeParam::C;
    auto buf = make_buffer(TypeParam::type, kLen);
    shmds_buffer_t *b = buf.get();
    const std::int64_t deltas[] = {5, 1, 3};
    std::size_t applied = 99;
    if constexpr (!std::is_integral_v<C>) {
        EXPECT_EQ(SHMDS_EVARIANT, shmds_buffer_add_slice(b, 0, deltas, 3, &applied, kNow));
        EXPECT_EQ(0u, applied);
    } else {
        const std::uint64_t seq = [&] {
            shmds_buffer_stats_t st{};
            st.struct_size = sizeof st;
            EXPECT_EQ(0, shmds_buffer_stats(b, &st));
            return st.bulk_writes;
        }();
        ASSERT_EQ(0, shmds_buffer_add_slice(b, 2, deltas, 3, &applied, kNow)) << shmds_last_error();
        EXPECT_EQ(3u, applied);
        EXPECT_EQ(C(5), get_elem<C>(b, 2));
        EXPECT_EQ(C(1), get_elem<C>(b, 3));
        EXPECT_EQ(C(3), get_elem<C>(b, 4));
        shmds_buffer_stats_t st{};
        st.struct_size = sizeof st;
        ASSERT_EQ(0, shmds_buffer_stats(b, &st));
        EXPECT_EQ(seq + 1, st.bulk_writes);  // one bulk write, not three
        // A sum out of range anywhere in the slice: nothing changes.
        const std::int64_t over[] = {1, std::is_signed_v<C> ? std::numeric_limits<std::int64_t>::max()
                                                          : std::int64_t(-2)};
        EXPECT_EQ(-ERANGE, shmds_buffer_add_slice(b, 2, over, 2, &applied, kNow));
        EXPECT_EQ(0u, applied);
        EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "nothing changed"));
        EXPECT_EQ(C(5), get_elem<C>(b, 2));
        EXPECT_EQ(C(1), get_elem<C>(b, 3));
        EXPECT_EQ(-ERANGE, shmds_buffer_add_slice(b, kLen - 1, deltas, 2, nullptr, kNow));
        EXPECT_EQ(0, shmds_buffer_add_slice(b, kLen, deltas, 0, nullptr, kNow));
        EXPECT_EQ(-EINVAL, shmds_buffer_add_slice(b, 0, nullptr, 1, nullptr, kNow));
    }
}

// Concurrent per-element adds and add_slice lose nothing: the final sums are exact.
TEST(BufferAddSlice, ConcurrentAddsAreNeverLost) {
    auto buf = make_buffer(SHMDS_TYPE_INT64, 8);
    shmds_buffer_t *b = buf.get();
    constexpr int kRounds = 20000;
    std::thread singles([&] {
        for (int r = 0; r < kRounds; ++r)
            for (std::uint64_t i = 0; i < 8; ++i) ASSERT_EQ(0, shmds_buffer_add_int(b, i, 1, nullptr));
    });
    const std::vector<std::int64_t> twos(8, 2);
    for (int r = 0; r < kRounds; ++r)
        ASSERT_EQ(0, shmds_buffer_add_slice(b, 0, twos.data(), 8, nullptr, kForever));
    singles.join();
    for (std::uint64_t i = 0; i < 8; ++i) EXPECT_EQ(3 * kRounds, get_elem<std::int64_t>(b, i));
}

TYPED_TEST(BufferTyped, BulkSliceRawFillClear) {
    using C = typename TypeParam::C;
    auto buf = make_buffer(TypeParam::type, kLen);
    shmds_buffer_t *b = buf.get();
    const std::size_t es = sizeof(C);
    // set_slice / get_slice in each verb family's C type
    std::vector<C> want(kLen);
    for (std::uint64_t i = 0; i < kLen; ++i) want[i] = value_at<C>(i);
    if constexpr (std::is_floating_point_v<C>) {
        std::vector<double> in(want.begin(), want.end()), out(kLen, -1);
        ASSERT_EQ(0, shmds_buffer_set_slice_f64(b, 0, in.data(), kLen, kForever));
        ASSERT_EQ(0, shmds_buffer_get_slice_f64(b, 0, kLen, out.data(), kForever));
        for (std::uint64_t i = 0; i < kLen; ++i) EXPECT_EQ(double(want[i]), out[i]);
        ASSERT_EQ(0, shmds_buffer_get_slice_f64(b, 5, 3, out.data(), kNow));
        EXPECT_EQ(double(want[6]), out[1]);
        EXPECT_EQ(-ERANGE, shmds_buffer_get_slice_f64(b, kLen - 2, 3, out.data(), kNow));
    } else if constexpr (std::is_same_v<C, std::uint64_t>) {
        std::vector<std::uint64_t> out(kLen);
        ASSERT_EQ(0, shmds_buffer_set_slice_uint(b, 0, want.data(), kLen, kForever));
        ASSERT_EQ(0, shmds_buffer_get_slice_uint(b, 0, kLen, out.data(), kForever));
        EXPECT_EQ(want, out);
    } else {
        std::vector<std::int64_t> in(want.begin(), want.end()), out(kLen, -7);
        ASSERT_EQ(0, shmds_buffer_set_slice_int(b, 0, in.data(), kLen, kForever));
        ASSERT_EQ(0, shmds_buffer_get_slice_int(b, 0, kLen, out.data(), kForever));
        EXPECT_EQ(in, out);
        std::vector<std::uint64_t> uout(kLen);
        if constexpr (std::is_unsigned_v<C>) {
            ASSERT_EQ(0, shmds_buffer_get_slice_uint(b, 0, kLen, uout.data(), kForever));
            EXPECT_EQ(std::uint64_t(want[3]), uout[3]);
        } else {  // negative elements do not fit uint64_t
            EXPECT_EQ(-ERANGE, shmds_buffer_get_slice_uint(b, 0, kLen, uout.data(), kForever));
        }
        EXPECT_EQ(-ERANGE, shmds_buffer_set_slice_int(b, kLen, in.data(), 1, kForever));
        EXPECT_EQ(0, shmds_buffer_set_slice_int(b, kLen, in.data(), 0, kForever));
    }
    // get_raw / set_raw: bytes, against a plain copy of the data
    std::vector<unsigned char> raw(kLen * es);
    ASSERT_EQ(0, shmds_buffer_get_raw(b, 0, raw.size(), raw.data(), kNow));
    EXPECT_EQ(0, std::memcmp(raw.data(), want.data(), raw.size()));
    std::vector<C> other(4);
    for (int k = 0; k < 4; ++k) other[k] = value_at<C>(100 + k);
    ASSERT_EQ(0, shmds_buffer_set_raw(b, 2 * es, other.data(), 4 * es, kForever));
    EXPECT_EQ(other[0], get_elem<C>(b, 2));
    EXPECT_EQ(other[3], get_elem<C>(b, 5));
    EXPECT_EQ(want[6], get_elem<C>(b, 6));
    // spans: the end exactly, one past, and offsets whose sum would overflow
    EXPECT_EQ(0, shmds_buffer_get_raw(b, kLen * es, 0, nullptr, kNow));
    EXPECT_EQ(-ERANGE, shmds_buffer_get_raw(b, kLen * es - 1, 2, raw.data(), kNow));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "reach outside"));
    EXPECT_EQ(-ERANGE, shmds_buffer_get_raw(b, UINT64_MAX - 1, 4, raw.data(), kNow));
    EXPECT_EQ(-ERANGE, shmds_buffer_set_raw(b, UINT64_MAX, raw.data(), 2, kNow));
    EXPECT_EQ(-ERANGE, shmds_buffer_get_raw(b, 1, SIZE_MAX, raw.data(), kNow));
    EXPECT_EQ(-EINVAL, shmds_buffer_get_raw(b, 0, 1, nullptr, kNow));
    EXPECT_EQ(-EINVAL, shmds_buffer_set_raw(b, 0, raw.data(), 1, -2));
    // fill and clear: every element
    if constexpr (std::is_floating_point_v<C>) ASSERT_EQ(0, shmds_buffer_fill_f64(b, 3.0, kForever));
    else if constexpr (std::is_same_v<C, std::uint64_t>) ASSERT_EQ(0, shmds_buffer_fill_uint(b, 3, kForever));
    else ASSERT_EQ(0, shmds_buffer_fill_int(b, 3, kForever));
    for (std::uint64_t i = 0; i < kLen; ++i) ASSERT_EQ(C(3), get_elem<C>(b, i));
    ASSERT_EQ(0, shmds_buffer_clear(b, kForever));
    for (std::uint64_t i = 0; i < kLen; ++i) ASSERT_EQ(C(0), get_elem<C>(b, i));
    EXPECT_GE(buffer_stats(b).bulk_writes, 4u);
}

TYPED_TEST(BufferTyped, BatchesGiveConsistentZeroCopyAccess) {
    using C = typename TypeParam::C;
    auto buf = make_buffer(TypeParam::type, kLen);
    shmds_buffer_t *b = buf.get();
    void *w = nullptr;
    ASSERT_EQ(0, shmds_buffer_write_begin(b, &w, kForever));
    EXPECT_EQ(-EDEADLK, shmds_buffer_write_begin(b, &w, kForever));
    C *p = static_cast<C *>(w);
    for (std::uint64_t i = 0; i < kLen; ++i) p[i] = value_at<C>(i);
    // the batch owner's bulk verbs run inside its batch and see its writes
    std::vector<unsigned char> raw(sizeof(C));
    ASSERT_EQ(0, shmds_buffer_get_raw(b, sizeof(C), sizeof(C), raw.data(), kNow));
    EXPECT_EQ(0, std::memcmp(raw.data(), &p[1], sizeof(C)));
    ASSERT_EQ(0, shmds_buffer_clear(b, kNow));
    for (std::uint64_t i = 0; i < kLen; ++i) p[i] = value_at<C>(i);
    // another thread's bulk read cannot see the batch in progress
    std::thread([&] {
        std::vector<unsigned char> r(sizeof(C));
        EXPECT_EQ(-EAGAIN, shmds_buffer_get_raw(b, 0, sizeof(C), r.data(), kNow));
        EXPECT_EQ(-ETIMEDOUT, shmds_buffer_get_raw(b, 0, sizeof(C), r.data(), 2'000'000));
        EXPECT_EQ(-EAGAIN, shmds_buffer_set_raw(b, 0, r.data(), sizeof(C), kNow));
        EXPECT_EQ(-EPERM, shmds_buffer_write_end(b));
        const void *d;
        std::uint64_t seq;
        EXPECT_EQ(-EAGAIN, shmds_buffer_read_begin(b, &d, &seq, kNow));
    }).join();
    ASSERT_EQ(0, shmds_buffer_write_end(b));
    EXPECT_EQ(-EPERM, shmds_buffer_write_end(b));
    for (std::uint64_t i = 0; i < kLen; ++i) EXPECT_EQ(value_at<C>(i), get_elem<C>(b, i));

    // read batch: valid with no write between, invalid after one
    const void *d = nullptr;
    std::uint64_t seq = 0;
    ASSERT_EQ(0, shmds_buffer_read_begin(b, &d, &seq, kNow));
    EXPECT_EQ(shmds_buffer_data(b), d);
    EXPECT_EQ(value_at<C>(4), static_cast<const C *>(d)[4]);
    EXPECT_EQ(0, shmds_buffer_read_end(b, seq));
    ASSERT_EQ(0, shmds_buffer_clear(b, kNow));
    EXPECT_EQ(-EAGAIN, shmds_buffer_read_end(b, seq));
    // per-element writes do not move the seqlock (buffer.h, "Consistency")
    ASSERT_EQ(0, shmds_buffer_read_begin(b, &d, &seq, kNow));
    ASSERT_EQ(0, set_elem<C>(b, 0, value_at<C>(9)));
    EXPECT_EQ(0, shmds_buffer_read_end(b, seq));
    EXPECT_EQ(-EINVAL, shmds_buffer_read_begin(b, &d, nullptr, kNow));
    EXPECT_EQ(-EINVAL, shmds_buffer_write_begin(b, nullptr, kNow));
}

// ---- bytes

TEST(BufferBytes, FixedWidthZeroPaddedValues) {
    auto buf = make_buffer(SHMDS_TYPE_BYTES, 5, 8);
    shmds_buffer_t *b = buf.get();
    EXPECT_EQ(8u, shmds_buffer_elem_size(b));
    char out[16];
    std::size_t len = 99;
    ASSERT_EQ(0, shmds_buffer_get_bytes(b, 0, out, sizeof out, &len, kNow));
    EXPECT_EQ(0u, len);  // all zero: the empty value
    // NUL and 0xFF inside a value are kept; the full width fits
    const unsigned char v1[] = {0xFF, 0x00, 0xFF, 'a'};
    ASSERT_EQ(0, shmds_buffer_set_bytes(b, 1, v1, sizeof v1, kNow));
    ASSERT_EQ(0, shmds_buffer_get_bytes(b, 1, out, sizeof out, &len, kNow));
    ASSERT_EQ(sizeof v1, len);
    EXPECT_EQ(0, std::memcmp(out, v1, len));
    const unsigned char full[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    ASSERT_EQ(0, shmds_buffer_set_bytes(b, 4, full, 8, kNow));
    ASSERT_EQ(0, shmds_buffer_get_bytes(b, 4, out, sizeof out, &len, kNow));
    EXPECT_EQ(8u, len);
    // the documented cost of zero padding: trailing NULs do not come back
    const unsigned char tail[] = {'x', 0, 0};
    ASSERT_EQ(0, shmds_buffer_set_bytes(b, 2, tail, sizeof tail, kNow));
    ASSERT_EQ(0, shmds_buffer_get_bytes(b, 2, out, sizeof out, &len, kNow));
    EXPECT_EQ(1u, len);
    // a shorter value over a longer one: the rest is zeroed
    ASSERT_EQ(0, shmds_buffer_set_bytes(b, 4, "ab", 2, kNow));
    ASSERT_EQ(0, shmds_buffer_get_bytes(b, 4, out, sizeof out, &len, kNow));
    EXPECT_EQ(2u, len);
    // refusals: longer than the width, small out, index, NULLs
    EXPECT_EQ(-E2BIG, shmds_buffer_set_bytes(b, 0, full, 9, kNow));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "width"));
    EXPECT_EQ(-ENOBUFS, shmds_buffer_get_bytes(b, 1, out, 3, &len, kNow));
    EXPECT_EQ(sizeof v1, len);
    EXPECT_EQ(-ERANGE, shmds_buffer_get_bytes(b, 5, out, sizeof out, &len, kNow));
    EXPECT_EQ(-ERANGE, shmds_buffer_set_bytes(b, UINT64_MAX, "a", 1, kNow));
    EXPECT_EQ(-EINVAL, shmds_buffer_get_bytes(b, 0, out, sizeof out, nullptr, kNow));
    EXPECT_EQ(-EINVAL, shmds_buffer_set_bytes(b, 0, nullptr, 1, kNow));
    std::int64_t s;
    EXPECT_EQ(SHMDS_EVARIANT, shmds_buffer_get_int(b, 0, &s));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_buffer_fill_int(b, 0, kNow));
    // fill, raw view, clear
    ASSERT_EQ(0, shmds_buffer_fill_bytes(b, "hey", 3, kNow));
    EXPECT_EQ(-E2BIG, shmds_buffer_fill_bytes(b, full, 9, kNow));
    unsigned char raw[40];
    ASSERT_EQ(0, shmds_buffer_get_raw(b, 0, sizeof raw, raw, kNow));
    for (int k = 0; k < 5; ++k) {
        EXPECT_EQ(0, std::memcmp(raw + 8 * k, "hey\0\0\0\0\0", 8)) << k;
    }
    ASSERT_EQ(0, shmds_buffer_clear(b, kNow));
    ASSERT_EQ(0, shmds_buffer_get_bytes(b, 3, out, sizeof out, &len, kNow));
    EXPECT_EQ(0u, len);
}

TEST(BufferCreate, RefusesBadGeometry) {
    shmds_buffer_t *b = nullptr;
    const struct {
        int type;
        std::uint64_t length, width;
        const char *says;
    } bad[] = {
        {SHMDS_TYPE_INT32, 0, 0, "at least 1"},
        {SHMDS_TYPE_INT32, (std::uint64_t{1} << 36) + 1, 0, "exceeds"},
        {SHMDS_TYPE_INT64, 4, 8, "width is for bytes"},
        {SHMDS_TYPE_BYTES, 4, 0, "width"},
        {SHMDS_TYPE_BYTES, 4, (std::uint64_t{1} << 20) + 1, "width"},
        {SHMDS_TYPE_BYTES, std::uint64_t{1} << 36, std::uint64_t{1} << 20, "exceeds"},
        {99, 4, 0, "not a shmds_type_t"},
    };
    for (const auto &c : bad) {
        shmds_buffer_config_t cfg = SHMDS_BUFFER_CONFIG_INIT(c.type, c.length, c.width);
        EXPECT_EQ(-EINVAL, shmds_buffer_create(nullptr, &cfg, &b)) << c.says;
        EXPECT_NE(nullptr, std::strstr(shmds_last_error(), c.says)) << shmds_last_error();
        EXPECT_EQ(nullptr, b);
    }
    EXPECT_EQ(-EINVAL, shmds_buffer_create(nullptr, nullptr, &b));
    shmds_buffer_config_t cfg;
    ASSERT_EQ(0, shmds_buffer_config_init(&cfg, sizeof cfg, SHMDS_TYPE_F32, 3, 0));
    ASSERT_EQ(0, shmds_buffer_create(nullptr, &cfg, &b));
    EXPECT_EQ(3u, shmds_buffer_length(b));
    shmds_buffer_close(b);
    EXPECT_EQ(-EINVAL, shmds_buffer_open(nullptr, 99, &b));
}

TEST(BufferClose, ClosingAHandleEndsItsThreadsWriteBatch) {
    char path[] = "/tmp/shmds-buffer-close-XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    unlink(path);
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = path;
    auto first = make_buffer(SHMDS_TYPE_INT32, 4, 0, &o);
    shmds_buffer_t *second = nullptr;
    ASSERT_EQ(0, shmds_buffer_open(&o, SHMDS_TYPE_INT32, &second)) << shmds_last_error();
    void *d;
    ASSERT_EQ(0, shmds_buffer_write_begin(first.get(), &d, kNow));
    static_cast<std::int32_t *>(d)[2] = 5;
    first.reset();  // closes with the batch held
    std::int32_t got[4];
    EXPECT_EQ(0, shmds_buffer_get_raw(second, 0, sizeof got, got, kNow)) << shmds_last_error();
    EXPECT_EQ(5, got[2]);
    EXPECT_EQ(0u, buffer_stats(second).recoveries);  // ended, not taken over
    shmds_buffer_close(second);
    unlink(path);
}

// ---- oracle: random operations against a std::vector model

TEST(BufferOracle, RandomOperationsMatchAVector) {
    const std::uint64_t seed = std::random_device{}();
    std::printf("BufferOracle seed %llu\n", static_cast<unsigned long long>(seed));
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    constexpr std::uint64_t n = 61;
    auto buf = make_buffer(SHMDS_TYPE_INT16, n);
    shmds_buffer_t *b = buf.get();
    std::vector<std::int64_t> model(n, 0);
    auto fits = [](std::int64_t v) { return v >= INT16_MIN && v <= INT16_MAX; };
    for (int step = 0; step < 20000; ++step) {
        const std::uint64_t i = rng() % (n + 2);  // sometimes out of range
        const std::int64_t v = std::int64_t(rng() % 80000) - 40000;
        const bool in = i < n;
        switch (rng() % 8) {
            case 0: {
                const int rc = shmds_buffer_set_int(b, i, v);
                ASSERT_EQ(!in ? -ERANGE : fits(v) ? 0 : -ERANGE, rc);
                if (rc == 0) model[i] = v;
                break;
            }
            case 1: {
                const std::int64_t d = v / 100;
                std::int64_t nv = 0;
                const int rc = shmds_buffer_add_int(b, i, d, &nv);
                ASSERT_EQ(!in ? -ERANGE : fits(model[i] + d) ? 0 : -ERANGE, rc);
                if (rc == 0) {
                    ASSERT_EQ(model[i] += d, nv);
                }
                break;
            }
            case 2: {
                std::int64_t got = 0;
                const std::int64_t expect = rng() % 2 && in ? model[i] : v % 100;
                const int rc = shmds_buffer_cas_int(b, i, expect, v % 1000, &got);
                if (!in) {
                    ASSERT_EQ(-ERANGE, rc);
                    break;
                }
                ASSERT_EQ(model[i], got);
                if (expect == model[i]) {
                    ASSERT_EQ(0, rc);
                    model[i] = v % 1000;
                } else {
                    ASSERT_EQ(-EAGAIN, rc);
                }
                break;
            }
            case 3: {
                std::uint64_t old = 0;
                const std::uint64_t bits = rng() & 0xffff;
                const int rc = shmds_buffer_xor(b, i, bits, &old);
                ASSERT_EQ(in ? 0 : -ERANGE, rc);
                if (rc == 0) {
                    ASSERT_EQ(std::uint64_t(std::uint16_t(model[i])), old);
                    model[i] = std::int16_t(std::uint16_t(model[i] ^ std::int64_t(bits)));
                }
                break;
            }
            case 4: {
                const std::uint64_t from = rng() % (n + 1);
                const std::size_t k = rng() % 9;
                std::vector<std::int64_t> vals(k);
                for (auto &x : vals) x = std::int64_t(rng() % 60000) - 30000;
                const int rc = shmds_buffer_set_slice_int(b, from, vals.data(), k, kNow);
                ASSERT_EQ(from + k <= n ? 0 : -ERANGE, rc);
                if (rc == 0) std::copy(vals.begin(), vals.end(), model.begin() + from);
                break;
            }
            case 5: {
                const std::uint64_t from = rng() % (n + 1);
                const std::size_t k = rng() % 9;
                std::vector<std::int64_t> out(k);
                const int rc = shmds_buffer_get_slice_int(b, from, k, out.data(), kNow);
                ASSERT_EQ(from + k <= n ? 0 : -ERANGE, rc);
                if (rc == 0) {
                    for (std::size_t j = 0; j < k; ++j) ASSERT_EQ(model[from + j], out[j]);
                }
                break;
            }
            case 6: {
                if (rng() % 50) break;
                ASSERT_EQ(0, shmds_buffer_fill_int(b, v % 30000, kNow));
                std::fill(model.begin(), model.end(), v % 30000);
                break;
            }
            default: {
                std::int64_t got = 0;
                const int rc = shmds_buffer_get_int(b, i, &got);
                ASSERT_EQ(in ? 0 : -ERANGE, rc);
                if (rc == 0) {
                    ASSERT_EQ(model[i], got);
                }
            }
        }
    }
    std::vector<std::int16_t> raw(n);
    ASSERT_EQ(0, shmds_buffer_get_raw(b, 0, n * 2, raw.data(), kNow));
    for (std::uint64_t i = 0; i < n; ++i) ASSERT_EQ(model[i], raw[i]) << i;
}

}  // namespace
