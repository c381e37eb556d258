// The stack through its public C API: every verb, form and return code stack.h
// documents. The engine is the deque's, checked in depth by test_deque.cpp; here each
// stack export is checked to reach it at the top, and the two structures to refuse each
// other's segments.
#include "deque_helpers.hpp"
#include "support/damaged_lock.hpp"

#include "deque/layout.hpp"

#include <shmds/stack.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <string>
#include <sys/eventfd.h>
#include <unistd.h>

using namespace shmds::test;

namespace {

struct StackCloser {
    void operator()(shmds_stack_t *s) const noexcept { shmds_stack_close(s); }
};
using StackPtr = std::unique_ptr<shmds_stack_t, StackCloser>;

StackPtr make_stack(int type, std::uint64_t capacity, std::uint64_t max_len = 0,
                    const shmds_options_t *opts = nullptr) {
    shmds_stack_config_t cfg = SHMDS_STACK_CONFIG_INIT(type, capacity);
    cfg.max_len = max_len;
    shmds_stack_t *s = nullptr;
    const int rc = shmds_stack_create(opts, &cfg, &s);
    EXPECT_EQ(0, rc) << shmds_errname(rc) << ": " << shmds_last_error();
    return StackPtr(s);
}

shmds_stack_stats_t stats_of(shmds_stack_t *s) {
    shmds_stack_stats_t st{};
    st.struct_size = sizeof st;
    EXPECT_EQ(0, shmds_stack_stats(s, &st)) << shmds_last_error();
    return st;
}

TEST(Stack, CreateRefusesBadConfigs) {
    shmds_stack_t *s = nullptr;
    shmds_stack_config_t cfg = SHMDS_STACK_CONFIG_INIT(SHMDS_TYPE_INT64, 0);
    EXPECT_EQ(-EINVAL, shmds_stack_create(nullptr, &cfg, &s));
    cfg = SHMDS_STACK_CONFIG_INIT(SHMDS_TYPE_BYTES, 4);
    EXPECT_EQ(-EINVAL, shmds_stack_create(nullptr, &cfg, &s));
    cfg = SHMDS_STACK_CONFIG_INIT(0, 4);
    EXPECT_EQ(-EINVAL, shmds_stack_create(nullptr, &cfg, &s));
    EXPECT_EQ(-EINVAL, shmds_stack_create(nullptr, nullptr, &s));
    EXPECT_EQ(nullptr, s);
    shmds_stack_config_t a = SHMDS_STACK_CONFIG_INIT(SHMDS_TYPE_INT8, 9), b{};
    ASSERT_EQ(0, shmds_stack_config_init(&b, sizeof b, SHMDS_TYPE_INT8, 9));
    EXPECT_EQ(a.struct_size, b.struct_size);
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.capacity, b.capacity);
    EXPECT_EQ(-EINVAL, shmds_stack_config_init(nullptr, sizeof b, 1, 1));
}

TEST(Stack, LastInFirstOutAtAnUnroundedCapacity) {
    auto s = make_stack(SHMDS_TYPE_INT64, 3);
    EXPECT_EQ(3u, shmds_stack_capacity(s.get()));
    for (int round = 0; round < 5; ++round) {
        for (int i = 1; i <= 3; ++i) ASSERT_EQ(0, shmds_stack_push_int(s.get(), 10 * round + i, 0));
        EXPECT_EQ(-EAGAIN, shmds_stack_push_int(s.get(), 99, 0));
        EXPECT_EQ(1, shmds_stack_is_full(s.get()));
        std::int64_t v;
        ASSERT_EQ(0, shmds_stack_peek_int(s.get(), &v));
        EXPECT_EQ(10 * round + 3, v);
        for (int i = 3; i >= 1; --i) {
            ASSERT_EQ(0, shmds_stack_pop_int(s.get(), &v, SHMDS_FOREVER));
            EXPECT_EQ(10 * round + i, v);
        }
        EXPECT_EQ(-EAGAIN, shmds_stack_pop_int(s.get(), &v, 0));
        EXPECT_EQ(-EAGAIN, shmds_stack_peek_int(s.get(), &v));
        EXPECT_EQ(1, shmds_stack_is_empty(s.get()));
    }
}

TEST(Stack, IntegerTypesAreRangeChecked) {
    auto s = make_stack(SHMDS_TYPE_UINT8, 4);
    EXPECT_EQ(SHMDS_TYPE_UINT8, shmds_stack_type(s.get()));
    EXPECT_EQ(-ERANGE, shmds_stack_push_int(s.get(), 256, 0));
    EXPECT_EQ(-ERANGE, shmds_stack_push_int(s.get(), -1, 0));
    ASSERT_EQ(0, shmds_stack_push_int(s.get(), 255, 0));
    std::int64_t v;
    ASSERT_EQ(0, shmds_stack_pop_int(s.get(), &v, 0));
    EXPECT_EQ(255, v);
    EXPECT_EQ(SHMDS_EVARIANT, shmds_stack_push_f64(s.get(), 1, 0));
}

// SHMDS_TYPE_UINT64 through the _uint verbs; an _int reader meeting a value above
// INT64_MAX gets -ERANGE and the item stays.
TEST(Stack, Uint64KeepsValuesAboveInt64MaxAndIntReadersGetErange) {
    auto s = make_stack(SHMDS_TYPE_UINT64, 4);
    EXPECT_EQ(SHMDS_TYPE_UINT64, shmds_stack_type(s.get()));
    const std::uint64_t big = UINT64_MAX, mid = (std::uint64_t{1} << 63) + 5;
    ASSERT_EQ(0, shmds_stack_push_int(s.get(), 7, 0));
    const std::uint64_t in[2] = {mid, big};
    std::size_t n = 0;
    ASSERT_EQ(0, shmds_stack_push_multi_uint(s.get(), in, 2, &n, 0));  // [7, mid, big]
    EXPECT_EQ(2u, n);
    EXPECT_EQ(-ERANGE, shmds_stack_push_int(s.get(), -1, 0));
    std::int64_t v = 0, vs[4] = {};
    EXPECT_EQ(-ERANGE, shmds_stack_peek_int(s.get(), &v));
    EXPECT_EQ(-ERANGE, shmds_stack_pop_int(s.get(), &v, 0));
    EXPECT_EQ(-ERANGE, shmds_stack_pop_multi_int(s.get(), vs, 3, &n, 0));
    EXPECT_EQ(0u, n);
    EXPECT_EQ(-ERANGE, shmds_stack_drain_int(s.get(), vs, 3, &n));
    EXPECT_EQ(3u, shmds_stack_size(s.get())) << "a refused item stays";
    std::uint64_t u = 0, us[4] = {};
    ASSERT_EQ(0, shmds_stack_peek_uint(s.get(), &u));
    EXPECT_EQ(big, u);
    ASSERT_EQ(0, shmds_stack_pop_uint(s.get(), &u, SHMDS_FOREVER));
    EXPECT_EQ(big, u);
    ASSERT_EQ(0, shmds_stack_pop_multi_uint(s.get(), us, 1, &n, 0));
    EXPECT_EQ(mid, us[0]);
    ASSERT_EQ(0, shmds_stack_push_uint(s.get(), big, 0));
    ASSERT_EQ(0, shmds_stack_drain_uint(s.get(), us, 4, &n));
    ASSERT_EQ(2u, n);
    EXPECT_EQ(big, us[0]);
    EXPECT_EQ(7u, us[1]);
    auto u16 = make_stack(SHMDS_TYPE_UINT16, 2);
    EXPECT_EQ(-ERANGE, shmds_stack_push_uint(u16.get(), 65536, 0));
    EXPECT_EQ(0u, shmds_stack_size(u16.get()));
    auto i64 = make_stack(SHMDS_TYPE_INT64, 2);
    ASSERT_EQ(0, shmds_stack_push_int(i64.get(), -1, 0));
    EXPECT_EQ(-ERANGE, shmds_stack_pop_uint(i64.get(), &u, 0));
    EXPECT_EQ(1u, shmds_stack_size(i64.get()));
}

TEST(Stack, FloatsAndTheirBatches) {
    auto s = make_stack(SHMDS_TYPE_F64, 4);
    const double v[] = {1.5, -0.0, 3.25, 4.0, 5.0};
    std::size_t pushed = 0, got = 0;
    EXPECT_EQ(-EAGAIN, shmds_stack_push_multi_f64(s.get(), v, 5, &pushed, 0));
    EXPECT_EQ(4u, pushed);
    double x, out[5];
    ASSERT_EQ(0, shmds_stack_peek_f64(s.get(), &x));
    EXPECT_EQ(4.0, x);
    ASSERT_EQ(0, shmds_stack_pop_f64(s.get(), &x, 0));
    EXPECT_EQ(4.0, x);
    ASSERT_EQ(0, shmds_stack_pop_multi_f64(s.get(), out, 2, &got, 0));
    ASSERT_EQ(2u, got);
    EXPECT_EQ(3.25, out[0]);
    EXPECT_TRUE(std::signbit(out[1]));
    ASSERT_EQ(0, shmds_stack_drain_f64(s.get(), out, 5, &got));
    ASSERT_EQ(1u, got);
    EXPECT_EQ(1.5, out[0]);
    EXPECT_EQ(-EAGAIN, shmds_stack_pop_f64(s.get(), &x, 0));
    EXPECT_EQ(-EAGAIN, shmds_stack_peek_f64(s.get(), &x));
    EXPECT_EQ(-EAGAIN, shmds_stack_pop_multi_f64(s.get(), out, 2, &got, 0));
    EXPECT_EQ(-EINVAL, shmds_stack_pop_f64(s.get(), nullptr, 0));
    EXPECT_EQ(-EINVAL, shmds_stack_push_multi_f64(s.get(), nullptr, 1, &pushed, 0));
}

TEST(Stack, IntBatchesAndDrain) {
    auto s = make_stack(SHMDS_TYPE_INT32, 5);
    const std::int64_t v[] = {1, 2, 3};
    std::size_t pushed = 0, got = 0;
    ASSERT_EQ(0, shmds_stack_push_multi_int(s.get(), v, 3, &pushed, 0));
    std::int64_t out[5];
    ASSERT_EQ(0, shmds_stack_pop_multi_int(s.get(), out, 5, &got, 0));
    ASSERT_EQ(3u, got);
    EXPECT_EQ(3, out[0]);
    EXPECT_EQ(1, out[2]);
    EXPECT_EQ(0, shmds_stack_drain_int(s.get(), out, 5, &got));
    EXPECT_EQ(0u, got);
    const std::int64_t bad[] = {1, std::int64_t(1) << 33};
    EXPECT_EQ(-ERANGE, shmds_stack_push_multi_int(s.get(), bad, 2, &pushed, 0));
    EXPECT_EQ(0u, shmds_stack_size(s.get()));
    EXPECT_EQ(-EINVAL, shmds_stack_push_multi_int(s.get(), v, 1, nullptr, 0));
    EXPECT_EQ(-EINVAL, shmds_stack_pop_multi_int(s.get(), nullptr, 1, &got, 0));
    EXPECT_EQ(-EINVAL, shmds_stack_drain_int(s.get(), out, 1, nullptr));
}

TEST(Stack, BytesKeepEveryByteAndRefuseLonger) {
    auto s = make_stack(SHMDS_TYPE_BYTES, 4, 5);
    const std::string a("\0\xff\0\xff\0", 5);
    ASSERT_EQ(0, shmds_stack_push_bytes(s.get(), a.data(), a.size(), 0));
    ASSERT_EQ(0, shmds_stack_push_bytes(s.get(), nullptr, 0, 0));
    EXPECT_EQ(-E2BIG, shmds_stack_push_bytes(s.get(), "123456", 6, 0));
    char buf[8];
    std::size_t len = 7, lens[4], got = 0, pushed = 0;
    ASSERT_EQ(0, shmds_stack_peek_bytes(s.get(), buf, sizeof buf, &len));
    EXPECT_EQ(0u, len);
    ASSERT_EQ(0, shmds_stack_pop_bytes(s.get(), nullptr, 0, &len, 0));
    EXPECT_EQ(-ENOBUFS, shmds_stack_pop_bytes(s.get(), buf, 2, &len, 0));
    EXPECT_EQ(5u, len);
    ASSERT_EQ(0, shmds_stack_pop_bytes(s.get(), buf, sizeof buf, &len, 0));
    EXPECT_EQ(a, std::string(buf, len));
    const char *datas[] = {"ab", "cde"};
    const std::size_t ls[] = {2, 3};
    ASSERT_EQ(0, shmds_stack_push_multi_bytes(s.get(), reinterpret_cast<const void *const *>(datas),
                                              ls, 2, &pushed, 0));
    ASSERT_EQ(0, shmds_stack_pop_multi_bytes(s.get(), buf, sizeof buf, lens, 1, &got, 0));
    EXPECT_EQ("cde", std::string(buf, lens[0]));
    ASSERT_EQ(0, shmds_stack_drain_bytes(s.get(), buf, sizeof buf, lens, 4, &got));
    ASSERT_EQ(1u, got);
    EXPECT_EQ("ab", std::string(buf, lens[0]));
    EXPECT_EQ(-EAGAIN, shmds_stack_peek_bytes(s.get(), buf, sizeof buf, &len));
    EXPECT_EQ(-EINVAL, shmds_stack_pop_bytes(s.get(), nullptr, 4, &len, 0));
    EXPECT_EQ(-EINVAL, shmds_stack_peek_bytes(s.get(), buf, 4, nullptr));
    EXPECT_EQ(-EINVAL, shmds_stack_pop_multi_bytes(s.get(), buf, 4, nullptr, 1, &got, 0));
    EXPECT_EQ(-EINVAL, shmds_stack_push_multi_bytes(s.get(), nullptr, ls, 1, &pushed, 0));
}

TEST(Stack, NullsTimeoutsAndGauges) {
    auto s = make_stack(SHMDS_TYPE_INT64, 1);
    std::int64_t v;
    EXPECT_EQ(-EINVAL, shmds_stack_push_int(nullptr, 1, 0));
    EXPECT_EQ(-EINVAL, shmds_stack_pop_int(s.get(), nullptr, 0));
    EXPECT_EQ(-EINVAL, shmds_stack_pop_int(s.get(), &v, -3));
    EXPECT_EQ(-EINVAL, shmds_stack_peek_int(s.get(), nullptr));
    EXPECT_EQ(-EINVAL, shmds_stack_push_bytes(nullptr, "", 0, 0));
    EXPECT_EQ(-EINVAL, shmds_stack_type(nullptr));
    EXPECT_EQ(-EINVAL, shmds_stack_is_empty(nullptr));
    EXPECT_EQ(-EINVAL, shmds_stack_is_full(nullptr));
    EXPECT_EQ(-EINVAL, shmds_stack_clear(nullptr, nullptr));
    EXPECT_EQ(-EINVAL, shmds_stack_stats(s.get(), nullptr));
    EXPECT_EQ(0u, shmds_stack_size(nullptr));
    EXPECT_EQ(0u, shmds_stack_capacity(nullptr));
    EXPECT_EQ(-EINVAL, shmds_stack_fd(nullptr));
    EXPECT_EQ(-ENOENT, shmds_stack_fd(s.get()));
    EXPECT_EQ(-ETIMEDOUT, shmds_stack_pop_int(s.get(), &v, 20'000'000));
    ASSERT_EQ(0, shmds_stack_push_int(s.get(), 5, 0));
    EXPECT_EQ(-ETIMEDOUT, shmds_stack_push_int(s.get(), 6, 20'000'000));
    std::uint64_t removed = 0;
    ASSERT_EQ(0, shmds_stack_clear(s.get(), &removed));
    EXPECT_EQ(1u, removed);
    const auto st = stats_of(s.get());
    EXPECT_EQ(1u, st.push_full);
    EXPECT_EQ(1u, st.pop_empty);
    EXPECT_EQ(1u, st.cleared);
    EXPECT_EQ(1u, st.capacity);
    shmds_stack_close(nullptr);
}

TEST(Stack, AndDequeRefuseEachOthersSegments) {
    TempPath p("stack_type"), q("deque_type");
    auto so = deque_test::path_options(p);
    auto dq = deque_test::path_options(q);
    auto s = make_stack(SHMDS_TYPE_INT64, 4, 0, &so);
    ASSERT_EQ(0, shmds_stack_push_int(s.get(), 42, 0));
    auto d = deque_test::make_deque(SHMDS_TYPE_INT64, 4, 0, &dq);
    shmds_deque_t *as_deque = nullptr;
    EXPECT_EQ(SHMDS_ETYPE, shmds_deque_open(&so, SHMDS_DEQUE_ANY, &as_deque));
    shmds_stack_t *as_stack = nullptr;
    EXPECT_EQ(SHMDS_ETYPE, shmds_stack_open(&dq, SHMDS_STACK_ANY, &as_stack));
    EXPECT_EQ(SHMDS_ETYPE, shmds_stack_open(&so, SHMDS_TYPE_INT32, &as_stack));
    EXPECT_EQ(-EINVAL, shmds_stack_open(&so, 42, &as_stack));
    ASSERT_EQ(0, shmds_stack_open(&so, SHMDS_TYPE_INT64, &as_stack)) << shmds_last_error();
    StackPtr other(as_stack);
    std::int64_t v;
    ASSERT_EQ(0, shmds_stack_pop_int(other.get(), &v, 0));
    EXPECT_EQ(42, v);
    EXPECT_GE(shmds_stack_fd(other.get()), 0);
    EXPECT_EQ(0, shmds_stack_sync(other.get()));
}

TEST(Stack, EventfdOnlySignalsWhenAsked) {
    auto s = make_stack(SHMDS_TYPE_INT64, 4);
    std::uint64_t n = 0;
    EXPECT_EQ(-ENOENT, shmds_stack_notify(s.get()));
    ASSERT_GE(shmds_stack_eventfd(s.get()), 0);
    ASSERT_EQ(0, shmds_stack_push_int(s.get(), 1, 0));
    EXPECT_EQ(-EAGAIN, shmds_stack_eventfd_consume(s.get(), &n));
    ASSERT_EQ(0, shmds_stack_notify(s.get()));
    ASSERT_EQ(0, shmds_stack_eventfd_consume(s.get(), &n));
    EXPECT_EQ(1u, n);
    const int mine = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ASSERT_EQ(0, shmds_stack_set_eventfd(s.get(), mine));
    ASSERT_EQ(0, shmds_stack_notify(s.get()));
    EXPECT_EQ(0, shmds_stack_set_eventfd(s.get(), -1));
    close(mine);
}

TEST(Stack, ScribbledCountersAndLockWordAreRepaired) {
    TempPath p("stack_scribble");
    auto o = deque_test::path_options(p);
    auto s = make_stack(SHMDS_TYPE_INT64, 4, 0, &o);
    ASSERT_EQ(0, shmds_stack_push_int(s.get(), 1, 0));
    const int fd = shmds_stack_fd(s.get());
    const std::uint64_t ctl = sizeof(shmds::core::SegmentHeader);
    const std::uint64_t head = read_u64_at(fd, ctl + offsetof(shmds::deque::Control, head));
    scribble_u64(fd, ctl + offsetof(shmds::deque::Control, tail), head + 77);
    scribble_u64(fd, ctl, kNoSuchThreadWord);
    std::int64_t v;
    EXPECT_EQ(-EAGAIN, shmds_stack_pop_int(s.get(), &v, 0));
    EXPECT_EQ(2u, stats_of(s.get()).recoveries) << "one takeover, one counter repair";
    ASSERT_EQ(0, shmds_stack_push_int(s.get(), 2, 0));
    ASSERT_EQ(0, shmds_stack_pop_int(s.get(), &v, 0));
    EXPECT_EQ(2, v);
}

}  // namespace
