// The ring buffer through its public C API in one process: every verb, every return
// code ringbuffer.h documents, the window arithmetic, every element type's limits, the
// lapped writer (played by editing a slot) and wait_for with a writer thread.
// Cross-process behaviour lives in test_ringbuffer_procs.cpp, crashes in
// test_ringbuffer_crash.cpp, the model check in test_ringbuffer_oracle.cpp.
#include "ringbuffer_helpers.hpp"

#include <shmds/shmds.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace shmds::test;

namespace {

const int kIntTypes[] = {SHMDS_TYPE_INT8,   SHMDS_TYPE_INT16,  SHMDS_TYPE_INT32,
                         SHMDS_TYPE_INT64,  SHMDS_TYPE_UINT8,  SHMDS_TYPE_UINT16,
                         SHMDS_TYPE_UINT32, SHMDS_TYPE_UINT64};

std::uint64_t write_i(shmds_ringbuffer_t *r, std::int64_t v) {
    std::uint64_t seq = ~0ull;
    int rc = shmds_ringbuffer_write_int(r, v, &seq);
    EXPECT_EQ(0, rc) << shmds_last_error();
    return seq;
}

shmds_options_t path_options(const TempPath &p) {
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = p.c_str();
    return o;
}

}  // namespace

// ------------------------------------------------------------------- lifecycle

TEST(RingBufferCreate, CapacityIsExactlyWhatWasAsked) {
    for (std::uint64_t cap : {1ull, 3ull, 7ull, 1000ull}) {
        auto r = make_ring(SHMDS_TYPE_INT64, cap);
        EXPECT_EQ(cap, shmds_ringbuffer_capacity(r.get()));
        EXPECT_EQ(cap, ring_stats(r.get()).capacity);
    }
}

TEST(RingBufferCreate, EveryIntegerTypeAndF64AreStoredOthersRefused) {
    for (int t : kIntTypes) {
        auto r = make_ring(t, 4);
        EXPECT_EQ(t, shmds_ringbuffer_type(r.get()));
    }
    EXPECT_EQ(SHMDS_TYPE_F64, shmds_ringbuffer_type(make_ring(SHMDS_TYPE_F64, 4).get()));
    for (int t : {0, -1, int(SHMDS_TYPE_BYTES), int(SHMDS_TYPE_F32), 12, 1000}) {
        shmds_ringbuffer_config_t cfg = SHMDS_RINGBUFFER_CONFIG_INIT(t, 4);
        shmds_ringbuffer_t *r = nullptr;
        EXPECT_EQ(-EINVAL, shmds_ringbuffer_create(nullptr, &cfg, &r)) << t;
        EXPECT_EQ(nullptr, r);
        EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "type")) << shmds_last_error();
    }
}

TEST(RingBufferCreate, CapacityLimitsAndNullArguments) {
    shmds_ringbuffer_t *r = nullptr;
    shmds_ringbuffer_config_t cfg = SHMDS_RINGBUFFER_CONFIG_INIT(SHMDS_TYPE_INT64, 0);
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_create(nullptr, &cfg, &r));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "at least 1")) << shmds_last_error();
    cfg.capacity = (1ull << 30) + 1;
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_create(nullptr, &cfg, &r));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "maximum")) << shmds_last_error();
    cfg.capacity = 4;
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_create(nullptr, nullptr, &r));
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_create(nullptr, &cfg, nullptr));
    cfg.struct_size = 4;
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_create(nullptr, &cfg, &r));
    EXPECT_EQ(nullptr, r);
}

TEST(RingBufferCreate, ConfigInitMatchesTheMacro) {
    shmds_ringbuffer_config_t a = SHMDS_RINGBUFFER_CONFIG_INIT(SHMDS_TYPE_UINT16, 9);
    shmds_ringbuffer_config_t b;
    std::memset(&b, 0xff, sizeof b);
    ASSERT_EQ(0, shmds_ringbuffer_config_init(&b, sizeof b, SHMDS_TYPE_UINT16, 9));
    EXPECT_EQ(a.struct_size, b.struct_size);
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.capacity, b.capacity);
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_config_init(nullptr, sizeof b, 1, 1));
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_config_init(&b, 4, 1, 1));
}

TEST(RingBufferOpen, SharesStateByPathAndChecksTheType) {
    TempPath path("ring");
    shmds_options_t o = path_options(path);
    auto a = make_ring(SHMDS_TYPE_INT32, 5, &o);
    write_i(a.get(), -7);
    shmds_ringbuffer_t *b = nullptr;
    ASSERT_EQ(0, shmds_ringbuffer_open(&o, 0, &b)) << shmds_last_error();
    RingPtr bp(b);
    EXPECT_EQ(SHMDS_TYPE_INT32, shmds_ringbuffer_type(b));
    EXPECT_EQ(5u, shmds_ringbuffer_capacity(b));
    std::int64_t v = 0;
    ASSERT_EQ(0, shmds_ringbuffer_read_seq_int(b, 0, &v));
    EXPECT_EQ(-7, v);
    write_i(b, 8);
    EXPECT_EQ(2u, shmds_ringbuffer_count(a.get()));
    shmds_ringbuffer_t *c = nullptr;
    EXPECT_EQ(SHMDS_ETYPE, shmds_ringbuffer_open(&o, SHMDS_TYPE_INT64, &c));
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_open(&o, SHMDS_TYPE_BYTES, &c));
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_open(&o, -3, &c));
    EXPECT_EQ(nullptr, c);
    // create on the same path attaches (same type), its capacity wins.
    auto d = make_ring(SHMDS_TYPE_INT32, 99, &o);
    EXPECT_EQ(5u, shmds_ringbuffer_capacity(d.get()));
    shmds_ringbuffer_config_t cfg = SHMDS_RINGBUFFER_CONFIG_INIT(SHMDS_TYPE_UINT32, 5);
    EXPECT_EQ(SHMDS_ETYPE, shmds_ringbuffer_create(&o, &cfg, &c));
    EXPECT_GE(shmds_ringbuffer_fd(a.get()), 0);
    EXPECT_EQ(0, shmds_ringbuffer_sync(a.get()));
}

TEST(RingBufferOpen, AnonymousHasNoFdAndNullHandlesAreRefused) {
    auto r = make_ring(SHMDS_TYPE_INT64, 2);
    EXPECT_EQ(-ENOENT, shmds_ringbuffer_fd(r.get()));
    EXPECT_EQ(0, shmds_ringbuffer_sync(r.get()));
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_fd(nullptr));
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_sync(nullptr));
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_type(nullptr));
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_write_int(nullptr, 1, nullptr));
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_write_uint(nullptr, 1, nullptr));
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_write_f64(nullptr, 1, nullptr));
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_wait_for(nullptr, 0, 0));
    EXPECT_EQ(0u, shmds_ringbuffer_size(nullptr));
    EXPECT_EQ(0u, shmds_ringbuffer_capacity(nullptr));
    EXPECT_EQ(0u, shmds_ringbuffer_head(nullptr));
    EXPECT_EQ(0u, shmds_ringbuffer_count(nullptr));
    EXPECT_EQ(0u, shmds_ringbuffer_overwrites(nullptr));
    shmds_ringbuffer_close(nullptr);
    std::int64_t v;
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_read_seq_int(r.get(), 0, nullptr));
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_latest_int(r.get(), 0, nullptr, nullptr));
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_read_seq_int(nullptr, 0, &v));
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_latest_int(nullptr, 0, &v, nullptr));
    std::size_t n;
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_to_list_int(r.get(), &v, nullptr, 1, nullptr));
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_to_list_int(r.get(), nullptr, nullptr, 1, &n));
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_write_multi_int(r.get(), nullptr, 2, nullptr));
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_stats(r.get(), nullptr));
    shmds_ringbuffer_stats_t s{};
    s.struct_size = 4;
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_stats(r.get(), &s));
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_wait_for(r.get(), 0, -2));
}

// --------------------------------------------------------------- the window

TEST(RingBufferWindow, SequencesCountsAndTheThreeReadOutcomes) {
    auto r = make_ring(SHMDS_TYPE_INT64, 3);
    shmds_ringbuffer_t *h = r.get();
    std::int64_t v = 0;
    EXPECT_EQ(-EAGAIN, shmds_ringbuffer_read_seq_int(h, 0, &v));  // not yet written
    EXPECT_EQ(0u, shmds_ringbuffer_size(h));
    for (std::int64_t i = 0; i < 5; ++i) EXPECT_EQ(std::uint64_t(i), write_i(h, 100 + i));
    EXPECT_EQ(5u, shmds_ringbuffer_head(h));
    EXPECT_EQ(5u, shmds_ringbuffer_count(h));
    EXPECT_EQ(3u, shmds_ringbuffer_size(h));
    EXPECT_EQ(2u, shmds_ringbuffer_overwrites(h));
    for (std::uint64_t s = 0; s < 2; ++s)
        EXPECT_EQ(-ENOENT, shmds_ringbuffer_read_seq_int(h, s, &v)) << s;  // overwritten
    for (std::uint64_t s = 2; s < 5; ++s) {
        ASSERT_EQ(0, shmds_ringbuffer_read_seq_int(h, s, &v)) << s;
        EXPECT_EQ(std::int64_t(100 + s), v);
    }
    EXPECT_EQ(-EAGAIN, shmds_ringbuffer_read_seq_int(h, 5, &v));
    EXPECT_EQ(-EAGAIN, shmds_ringbuffer_read_seq_int(h, ~0ull, &v));
    shmds_ringbuffer_stats_t st = ring_stats(h);
    EXPECT_EQ(3u, st.size);
    EXPECT_EQ(5u, st.count);
    EXPECT_EQ(2u, st.overwrites);
    EXPECT_EQ(0u, st.stale_writes);
    EXPECT_EQ(0u, st.waiters);
    EXPECT_GT(st.segment_bytes, 3 * 16u);
}

TEST(RingBufferWindow, CapacityOneKeepsTheNewest) {
    auto r = make_ring(SHMDS_TYPE_INT64, 1);
    std::int64_t v;
    for (int i = 1; i <= 3; ++i) write_i(r.get(), i);
    ASSERT_EQ(0, shmds_ringbuffer_latest_int(r.get(), 0, &v, nullptr));
    EXPECT_EQ(3, v);
    EXPECT_EQ(-ENOENT, shmds_ringbuffer_latest_int(r.get(), 1, &v, nullptr));
    EXPECT_EQ(1u, shmds_ringbuffer_size(r.get()));
    EXPECT_EQ(2u, shmds_ringbuffer_overwrites(r.get()));
}

TEST(RingBufferWindow, LatestCountsBackFromTheNewest) {
    auto r = make_ring(SHMDS_TYPE_INT64, 4);
    std::int64_t v = 0;
    std::uint64_t seq = 77;
    EXPECT_EQ(-EAGAIN, shmds_ringbuffer_latest_int(r.get(), 0, &v, &seq));
    EXPECT_EQ(77u, seq);  // no sequence to name
    for (int i = 0; i < 6; ++i) write_i(r.get(), 10 * i);
    for (std::uint64_t n = 0; n < 4; ++n) {
        ASSERT_EQ(0, shmds_ringbuffer_latest_int(r.get(), n, &v, &seq)) << n;
        EXPECT_EQ(std::int64_t(10 * (5 - n)), v);
        EXPECT_EQ(5 - n, seq);
    }
    EXPECT_EQ(-ENOENT, shmds_ringbuffer_latest_int(r.get(), 4, &v, &seq));
    EXPECT_EQ(1u, seq);
    EXPECT_EQ(-ENOENT, shmds_ringbuffer_latest_int(r.get(), 5, &v, nullptr));
    EXPECT_EQ(-EAGAIN, shmds_ringbuffer_latest_int(r.get(), 6, &v, nullptr));
}

TEST(RingBufferWindow, ToListIsOldestFirstWithSequences) {
    auto r = make_ring(SHMDS_TYPE_INT64, 4);
    std::int64_t out[8];
    std::uint64_t seqs[8];
    std::size_t n = 99;
    ASSERT_EQ(0, shmds_ringbuffer_to_list_int(r.get(), nullptr, nullptr, 0, &n));
    EXPECT_EQ(0u, n);
    for (int i = 0; i < 6; ++i) write_i(r.get(), 10 * i);
    n = 0;
    EXPECT_EQ(-ENOBUFS, shmds_ringbuffer_to_list_int(r.get(), out, seqs, 3, &n));
    EXPECT_EQ(4u, n);  // what is needed
    ASSERT_EQ(0, shmds_ringbuffer_to_list_int(r.get(), out, seqs, 8, &n));
    ASSERT_EQ(4u, n);
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(std::int64_t(10 * (i + 2)), out[i]);
        EXPECT_EQ(i + 2, seqs[i]);
    }
    ASSERT_EQ(0, shmds_ringbuffer_to_list_int(r.get(), out, nullptr, 4, &n));
    EXPECT_EQ(4u, n);
    EXPECT_EQ(50, out[3]);
}

TEST(RingBufferWindow, WriteMultiClaimsConsecutiveSequences) {
    auto r = make_ring(SHMDS_TYPE_INT64, 600);
    write_i(r.get(), 1);
    std::vector<std::int64_t> vals(1000);
    for (std::size_t i = 0; i < vals.size(); ++i) vals[i] = std::int64_t(i) * 3 + 1;
    std::uint64_t first = 0;
    ASSERT_EQ(0, shmds_ringbuffer_write_multi_int(r.get(), vals.data(), vals.size(), &first));
    EXPECT_EQ(1u, first);
    EXPECT_EQ(1001u, shmds_ringbuffer_count(r.get()));
    std::int64_t v;
    for (std::uint64_t s = 401; s < 1001; ++s) {
        ASSERT_EQ(0, shmds_ringbuffer_read_seq_int(r.get(), s, &v)) << s;
        EXPECT_EQ(vals[s - 1], v);
    }
    EXPECT_EQ(-ENOENT, shmds_ringbuffer_read_seq_int(r.get(), 400, &v));
    ASSERT_EQ(0, shmds_ringbuffer_write_multi_int(r.get(), nullptr, 0, &first));
    EXPECT_EQ(1001u, first);
    EXPECT_EQ(1001u, shmds_ringbuffer_count(r.get()));
}

TEST(RingBufferWindow, WriteMultiLongerThanTheRingKeepsTheLastCapacityValues) {
    auto r = make_ring(SHMDS_TYPE_INT64, 3);
    const std::int64_t vals[] = {1, 2, 3, 4, 5, 6, 7};
    ASSERT_EQ(0, shmds_ringbuffer_write_multi_int(r.get(), vals, 7, nullptr));
    std::int64_t out[3];
    std::size_t n;
    ASSERT_EQ(0, shmds_ringbuffer_to_list_int(r.get(), out, nullptr, 3, &n));
    ASSERT_EQ(3u, n);
    EXPECT_EQ(5, out[0]);
    EXPECT_EQ(7, out[2]);
    EXPECT_EQ(0u, ring_stats(r.get()).stale_writes);
}

// -------------------------------------------------------------------- types

TEST(RingBufferTypes, IntegerLimitsRoundTripAndOutOfRangeWritesNothing) {
    for (int t : kIntTypes) {
        SCOPED_TRACE(shmds_type_name(t));
        auto r = make_ring(t, 8);
        const int bits = int(shmds_type_size(t)) * 8;
        const bool is_unsigned = t >= SHMDS_TYPE_UINT8 && t <= SHMDS_TYPE_UINT64;
        const std::uint64_t umax = bits == 64 ? ~0ull : (1ull << bits) - 1;
        const std::int64_t smax = bits == 64 ? INT64_MAX : (std::int64_t(1) << (bits - 1)) - 1;
        const std::int64_t smin = is_unsigned ? 0 : -smax - 1;
        std::uint64_t seq;
        ASSERT_EQ(0, shmds_ringbuffer_write_int(r.get(), smin, &seq));
        std::int64_t v = 1;
        ASSERT_EQ(0, shmds_ringbuffer_read_seq_int(r.get(), seq, &v));
        EXPECT_EQ(smin, v);
        if (is_unsigned) {
            ASSERT_EQ(0, shmds_ringbuffer_write_uint(r.get(), umax, &seq));
            std::uint64_t u = 0;
            ASSERT_EQ(0, shmds_ringbuffer_read_seq_uint(r.get(), seq, &u));
            EXPECT_EQ(umax, u);
            if (bits < 64) {
                EXPECT_EQ(-ERANGE, shmds_ringbuffer_write_uint(r.get(), umax + 1, nullptr));
            } else {  // above INT64_MAX: only the _uint reads can give it
                EXPECT_EQ(-ERANGE, shmds_ringbuffer_read_seq_int(r.get(), seq, &v));
                EXPECT_EQ(-ERANGE, shmds_ringbuffer_latest_int(r.get(), 0, &v, nullptr));
            }
            EXPECT_EQ(-ERANGE, shmds_ringbuffer_write_int(r.get(), -1, nullptr));
        } else {
            ASSERT_EQ(0, shmds_ringbuffer_write_int(r.get(), smax, &seq));
            ASSERT_EQ(0, shmds_ringbuffer_read_seq_int(r.get(), seq, &v));
            EXPECT_EQ(smax, v);
            if (bits < 64) {
                EXPECT_EQ(-ERANGE, shmds_ringbuffer_write_int(r.get(), smax + 1, nullptr));
                EXPECT_EQ(-ERANGE, shmds_ringbuffer_write_int(r.get(), smin - 1, nullptr));
            }
            ASSERT_EQ(0, shmds_ringbuffer_write_int(r.get(), -1, &seq));
            std::uint64_t u;
            EXPECT_EQ(-ERANGE, shmds_ringbuffer_read_seq_uint(r.get(), seq, &u));  // negative
            EXPECT_EQ(-ERANGE, shmds_ringbuffer_latest_uint(r.get(), 0, &u, nullptr));
        }
        const std::uint64_t before = shmds_ringbuffer_count(r.get());
        // Only for narrower types: at 64 bits nothing is out of an int64's range.
        const std::int64_t too_big =
            bits >= 64 ? 0 : is_unsigned ? std::int64_t(umax) + 1 : smax + 1;
        const std::int64_t bad[] = {0, smin, bits < 64 ? too_big : 0};
        if (bits < 64) {
            EXPECT_EQ(-ERANGE, shmds_ringbuffer_write_multi_int(r.get(), bad, 3, nullptr));
            EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "values[2]")) << shmds_last_error();
        }
        EXPECT_EQ(before, shmds_ringbuffer_count(r.get()));  // nothing written
        double d;
        EXPECT_EQ(SHMDS_EVARIANT, shmds_ringbuffer_write_f64(r.get(), 1.0, nullptr));
        EXPECT_EQ(SHMDS_EVARIANT, shmds_ringbuffer_read_seq_f64(r.get(), 0, &d));
        EXPECT_EQ(SHMDS_EVARIANT, shmds_ringbuffer_latest_f64(r.get(), 0, &d, nullptr));
        std::size_t n;
        EXPECT_EQ(SHMDS_EVARIANT, shmds_ringbuffer_to_list_f64(r.get(), &d, nullptr, 1, &n));
        EXPECT_EQ(SHMDS_EVARIANT, shmds_ringbuffer_write_multi_f64(r.get(), &d, 1, nullptr));
    }
}

TEST(RingBufferTypes, UintVerbsRoundTripEveryWord) {
    auto r = make_ring(SHMDS_TYPE_UINT64, 4);
    const std::uint64_t vals[] = {0, 1, 0x8000000000000000ull, ~0ull};
    std::uint64_t first;
    ASSERT_EQ(0, shmds_ringbuffer_write_multi_uint(r.get(), vals, 4, &first));
    EXPECT_EQ(0u, first);
    std::uint64_t out[4], seq;
    std::size_t n;
    ASSERT_EQ(0, shmds_ringbuffer_to_list_uint(r.get(), out, nullptr, 4, &n));
    ASSERT_EQ(4u, n);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(vals[i], out[i]);
    ASSERT_EQ(0, shmds_ringbuffer_latest_uint(r.get(), 0, &out[0], &seq));
    EXPECT_EQ(~0ull, out[0]);
    EXPECT_EQ(3u, seq);
    // to_list_int stops at the first value it cannot give, having copied the ones before.
    std::int64_t iv[4];
    EXPECT_EQ(-ERANGE, shmds_ringbuffer_to_list_int(r.get(), iv, nullptr, 4, &n));
    EXPECT_EQ(2u, n);
    EXPECT_EQ(1, iv[1]);
}

TEST(RingBufferTypes, F64KeepsEveryBitPattern) {
    auto r = make_ring(SHMDS_TYPE_F64, 8);
    const double vals[] = {0.0, -0.0, 1.5, -1e308, std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::denorm_min()};
    for (double d : vals) ASSERT_EQ(0, shmds_ringbuffer_write_f64(r.get(), d, nullptr));
    double out[8];
    std::uint64_t seqs[8];
    std::size_t n;
    ASSERT_EQ(0, shmds_ringbuffer_to_list_f64(r.get(), out, seqs, 8, &n));
    ASSERT_EQ(7u, n);
    for (std::size_t i = 0; i < n; ++i) {
        EXPECT_EQ(0, std::memcmp(&vals[i], &out[i], sizeof(double))) << i;
        EXPECT_EQ(i, seqs[i]);
    }
    double d;
    ASSERT_EQ(0, shmds_ringbuffer_read_seq_f64(r.get(), 1, &d));
    EXPECT_TRUE(std::signbit(d));
    ASSERT_EQ(0, shmds_ringbuffer_latest_f64(r.get(), 1, &d, nullptr));
    EXPECT_TRUE(std::isnan(d));
    std::uint64_t first;
    ASSERT_EQ(0, shmds_ringbuffer_write_multi_f64(r.get(), vals, 2, &first));
    EXPECT_EQ(7u, first);
    std::int64_t i;
    std::uint64_t u;
    EXPECT_EQ(SHMDS_EVARIANT, shmds_ringbuffer_write_int(r.get(), 1, nullptr));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_ringbuffer_write_uint(r.get(), 1, nullptr));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_ringbuffer_read_seq_int(r.get(), 0, &i));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_ringbuffer_read_seq_uint(r.get(), 0, &u));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_ringbuffer_latest_uint(r.get(), 0, &u, nullptr));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_ringbuffer_to_list_int(r.get(), &i, nullptr, 1, &n));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_ringbuffer_to_list_uint(r.get(), &u, nullptr, 1, &n));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_ringbuffer_write_multi_int(r.get(), &i, 1, nullptr));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_ringbuffer_write_multi_uint(r.get(), &u, 1, nullptr));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "_f64")) << shmds_last_error();
}

TEST(RingBufferTypes, NarrowTypesStoreTheirBytesOnly) {
    // uint8 0xFF and 0x00 next to each other: neither leaks into the other.
    auto r = make_ring(SHMDS_TYPE_UINT8, 2);
    ASSERT_EQ(0, shmds_ringbuffer_write_uint(r.get(), 0xFF, nullptr));
    ASSERT_EQ(0, shmds_ringbuffer_write_uint(r.get(), 0x00, nullptr));
    std::uint64_t out[2];
    std::size_t n;
    ASSERT_EQ(0, shmds_ringbuffer_to_list_uint(r.get(), out, nullptr, 2, &n));
    EXPECT_EQ(0xFFu, out[0]);
    EXPECT_EQ(0u, out[1]);
    auto s = make_ring(SHMDS_TYPE_INT8, 2);
    ASSERT_EQ(0, shmds_ringbuffer_write_int(s.get(), -128, nullptr));
    std::int64_t v;
    ASSERT_EQ(0, shmds_ringbuffer_latest_int(s.get(), 0, &v, nullptr));
    EXPECT_EQ(-128, v);
}

// ---------------------------------------------------- the lapped writer

// A writer preempted for a whole lap commits into a slot that already holds a later
// sequence: its value is dropped (never overwrites the newer one) and counted.
TEST(RingBufferStale, ALappedWriteNeverOverwritesANewerValue) {
    auto r = make_ring(SHMDS_TYPE_INT64, 4);
    for (int i = 0; i < 4; ++i) write_i(r.get(), i);
    // Play the world where sequence 8 (slot 0) was committed while the writer of
    // sequence 4 slept between its claim and its commit.
    shmds::ringbuffer::Slot *slot = raw_slot(r.get(), 4);
    __atomic_store_n(&slot->hi, 888, __ATOMIC_RELAXED);
    __atomic_store_n(&slot->lo, 9, __ATOMIC_RELEASE);
    EXPECT_EQ(4u, write_i(r.get(), 44));
    EXPECT_EQ(9u, slot->lo);
    EXPECT_EQ(888u, slot->hi);
    EXPECT_EQ(1u, ring_stats(r.get()).stale_writes);
    std::int64_t v;
    EXPECT_EQ(-ENOENT, shmds_ringbuffer_read_seq_int(r.get(), 4, &v));
    // An equal tag (the same sequence already there) is refused too.
    __atomic_store_n(&raw_slot(r.get(), 5)->lo, 6, __ATOMIC_RELEASE);
    EXPECT_EQ(5u, write_i(r.get(), 55));
    EXPECT_EQ(2u, ring_stats(r.get()).stale_writes);
    // Older tags (the usual case) are overwritten.
    EXPECT_EQ(6u, write_i(r.get(), 66));
    ASSERT_EQ(0, shmds_ringbuffer_read_seq_int(r.get(), 6, &v));
    EXPECT_EQ(66, v);
}

// A value is handed out only under its own sequence: a slot damaged to hold another
// tag reads as missing, never as the wanted value.
TEST(RingBufferStale, AReaderAcceptsOnlyTheExactSequence) {
    auto r = make_ring(SHMDS_TYPE_INT64, 4);
    for (int i = 0; i < 3; ++i) write_i(r.get(), 100 + i);
    __atomic_store_n(&raw_slot(r.get(), 1)->lo, 1, __ATOMIC_RELEASE);  // "sequence 0"
    std::int64_t v;
    EXPECT_EQ(-EAGAIN, shmds_ringbuffer_read_seq_int(r.get(), 1, &v));
    __atomic_store_n(&raw_slot(r.get(), 2)->lo, 1000, __ATOMIC_RELEASE);
    EXPECT_EQ(-ENOENT, shmds_ringbuffer_read_seq_int(r.get(), 2, &v));
    std::int64_t out[4];
    std::uint64_t seqs[4];
    std::size_t n;
    ASSERT_EQ(0, shmds_ringbuffer_to_list_int(r.get(), out, seqs, 4, &n));
    ASSERT_EQ(1u, n);
    EXPECT_EQ(0u, seqs[0]);
    EXPECT_EQ(100, out[0]);
}

// ----------------------------------------------------------------- wait_for

TEST(RingBufferWait, ReturnsOnceTheCountPassesAndTimesOutOtherwise) {
    auto r = make_ring(SHMDS_TYPE_INT64, 4);
    EXPECT_EQ(-EAGAIN, shmds_ringbuffer_wait_for(r.get(), 0, SHMDS_NOWAIT));
    write_i(r.get(), 1);
    EXPECT_EQ(0, shmds_ringbuffer_wait_for(r.get(), 0, SHMDS_NOWAIT));
    EXPECT_EQ(0, shmds_ringbuffer_wait_for(r.get(), 0, SHMDS_FOREVER));
    for (int i = 0; i < 9; ++i) write_i(r.get(), i);  // count 10: far more than a lap past 0
    EXPECT_EQ(0, shmds_ringbuffer_wait_for(r.get(), 0, SHMDS_NOWAIT));
    EXPECT_EQ(0, shmds_ringbuffer_wait_for(r.get(), 9, SHMDS_NOWAIT));
    EXPECT_EQ(-EAGAIN, shmds_ringbuffer_wait_for(r.get(), 10, SHMDS_NOWAIT));
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(-ETIMEDOUT, shmds_ringbuffer_wait_for(r.get(), 10, 30'000'000));
    EXPECT_GE(ms_since(t0), 29.0);
}

TEST(RingBufferWait, ASleeperIsWokenByAWriteFromAnotherThread) {
    auto r = make_ring(SHMDS_TYPE_INT64, 4);
    std::thread writer([&] {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (ring_stats(r.get()).waiters == 0 && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        write_i(r.get(), 5);
    });
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(0, shmds_ringbuffer_wait_for(r.get(), 0, SHMDS_FOREVER));
    writer.join();
    EXPECT_LT(ms_since(t0), 5000.0);
    std::int64_t v;
    ASSERT_EQ(0, shmds_ringbuffer_latest_int(r.get(), 0, &v, nullptr));
    EXPECT_EQ(5, v);
    EXPECT_EQ(0u, ring_stats(r.get()).waiters);
}

// ------------------------------------------------------------------ eventfd

TEST(RingBufferEventfd, ExplicitNotifyOnlyAndSharedFd) {
    auto r = make_ring(SHMDS_TYPE_INT64, 4);
    EXPECT_EQ(-ENOENT, shmds_ringbuffer_notify(r.get()));
    EXPECT_EQ(-ENOENT, shmds_ringbuffer_eventfd_consume(r.get(), nullptr));
    const int fd = shmds_ringbuffer_eventfd(r.get());
    ASSERT_GE(fd, 0);
    EXPECT_EQ(fd, shmds_ringbuffer_eventfd(r.get()));
    write_i(r.get(), 1);  // writes never signal
    std::uint64_t c = 0;
    EXPECT_EQ(-EAGAIN, shmds_ringbuffer_eventfd_consume(r.get(), &c));
    ASSERT_EQ(0, shmds_ringbuffer_notify(r.get()));
    ASSERT_EQ(0, shmds_ringbuffer_notify(r.get()));
    ASSERT_EQ(0, shmds_ringbuffer_eventfd_consume(r.get(), &c));
    EXPECT_EQ(2u, c);
    auto other = make_ring(SHMDS_TYPE_INT64, 4);
    ASSERT_EQ(0, shmds_ringbuffer_set_eventfd(other.get(), fd));
    ASSERT_EQ(0, shmds_ringbuffer_notify(other.get()));
    ASSERT_EQ(0, shmds_ringbuffer_eventfd_consume(r.get(), &c));
    EXPECT_EQ(1u, c);
    EXPECT_EQ(-EBADF, shmds_ringbuffer_set_eventfd(other.get(), 1 << 20));
    ASSERT_EQ(0, shmds_ringbuffer_set_eventfd(other.get(), -1));
    EXPECT_EQ(-ENOENT, shmds_ringbuffer_notify(other.get()));
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_eventfd(nullptr));
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_set_eventfd(nullptr, -1));
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_notify(nullptr));
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_eventfd_consume(nullptr, nullptr));
}

TEST(RingBufferEventfd, CreationFailureIsReported) {
    auto r = make_ring(SHMDS_TYPE_INT64, 4);
    expect_eventfd_creation_fails([&] { return shmds_ringbuffer_eventfd(r.get()); },
                                  [&] { return shmds_ringbuffer_notify(r.get()); });
}
