// The C++ veneer, shmds::queue<T> (shmds/queue.hpp) and shmds::error (shmds/error.hpp):
// normal outcomes are values, real failures throw, handles move but never double-close,
// and every backing factory reaches the same queue. The behaviour behind each call is
// tested through the C API in test_queue.cpp and test_queue_blocking.cpp.
#include "support/proc.hpp"

#include <shmds/queue.hpp>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <optional>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

// Every member of every variant compiles, used by a test or not.
template class shmds::queue<std::int16_t>;
template class shmds::queue<std::int32_t>;
template class shmds::queue<std::int64_t>;
template class shmds::queue<std::string>;

using namespace shmds::test;
using namespace std::chrono_literals;

namespace {

template <class T>
T val(int i) {
    if constexpr (std::is_same_v<T, std::string>) {
        std::string s(std::size_t(i % 4), '\0');  // NUL bytes must survive the veneer
        return s + "v" + std::to_string(i);
    } else {
        return T(i % 2 ? -i * 3 : i * 3);
    }
}

template <class T>
std::vector<T> vals(int from, int to) {
    std::vector<T> v;
    for (int i = from; i < to; ++i) v.push_back(val<T>(i));
    return v;
}

bool fd_is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

// Run f, expecting shmds::error with `code`; returns its what() for further checks.
template <class F>
std::string expect_error(int code, F &&f) {
    try {
        f();
    } catch (const shmds::error &e) {
        EXPECT_EQ(code, e.value()) << e.what();
        EXPECT_EQ(code, e.code().value());
        EXPECT_STREQ("shmds", e.code().category().name());
        EXPECT_EQ(std::string(shmds_strerror(code)), e.code().message());
        return e.what();
    } catch (const std::exception &e) {
        ADD_FAILURE() << "expected shmds::error " << shmds_errname(code) << ", got " << e.what();
        return {};
    }
    ADD_FAILURE() << "expected shmds::error " << shmds_errname(code) << ", nothing was thrown";
    return {};
}

template <class T>
class QueueCpp : public ::testing::Test {};

struct TypeNames {
    template <class T>
    static std::string GetName(int) {
        if constexpr (std::is_same_v<T, std::string>)
            return "String";
        else
            return "Int" + std::to_string(sizeof(T) * 8);
    }
};

using Types = ::testing::Types<std::int16_t, std::int32_t, std::int64_t, std::string>;
TYPED_TEST_SUITE(QueueCpp, Types, TypeNames);

}  // namespace

TYPED_TEST(QueueCpp, CreateRoundsTheCapacityAndStartsEmpty) {
    auto q = shmds::queue<TypeParam>::create(shmds::backing::anonymous(), 5);
    ASSERT_NE(nullptr, q.handle());
    EXPECT_EQ(8u, q.capacity());
    EXPECT_EQ(0u, q.size());
    EXPECT_TRUE(q.empty());
    EXPECT_FALSE(q.full());
    const int want = std::is_same_v<TypeParam, std::string> ? SHMDS_QUEUE_BYTES
                     : sizeof(TypeParam) == 2               ? SHMDS_QUEUE_INT16
                     : sizeof(TypeParam) == 4               ? SHMDS_QUEUE_INT32
                                                            : SHMDS_QUEUE_INT64;
    EXPECT_EQ(want, shmds_queue_variant(q.handle()));
}

TYPED_TEST(QueueCpp, PushAndPopInEveryForm) {
    auto q = shmds::queue<TypeParam>::create(shmds::backing::anonymous(), 8);
    q.push(val<TypeParam>(0));
    EXPECT_TRUE(q.try_push(val<TypeParam>(1)));
    EXPECT_TRUE(q.try_push_for(val<TypeParam>(2), 10ms));
    EXPECT_EQ(3u, q.size());
    ASSERT_TRUE(q.peek().has_value());
    EXPECT_EQ(val<TypeParam>(0), *q.peek());
    EXPECT_EQ(3u, q.size()) << "peek does not consume";
    EXPECT_EQ(val<TypeParam>(0), q.pop());
    EXPECT_EQ(std::optional<TypeParam>(val<TypeParam>(1)), q.try_pop());
    EXPECT_EQ(std::optional<TypeParam>(val<TypeParam>(2)), q.try_pop_for(10ms));
    EXPECT_TRUE(q.empty());
}

TYPED_TEST(QueueCpp, FullEmptyAndTimeoutAreValuesNeverExceptions) {
    auto q = shmds::queue<TypeParam>::create(shmds::backing::anonymous(), 2);
    EXPECT_NO_THROW({
        EXPECT_FALSE(q.try_pop());
        EXPECT_FALSE(q.try_pop_for(20ms));
        EXPECT_FALSE(q.peek());
        EXPECT_TRUE(q.pop_multi(4).empty());
        EXPECT_TRUE(q.pop_multi(4, 20ms).empty());
        EXPECT_TRUE(q.drain().empty());
        EXPECT_TRUE(q.try_push(val<TypeParam>(0)));
        EXPECT_TRUE(q.try_push(val<TypeParam>(1)));
        EXPECT_TRUE(q.full());
        EXPECT_FALSE(q.try_push(val<TypeParam>(2)));
        EXPECT_FALSE(q.try_push_for(val<TypeParam>(2), 20ms));
        EXPECT_EQ(0u, q.try_push_multi(vals<TypeParam>(2, 4)));
        if constexpr (std::is_same_v<TypeParam, std::string>) {
            EXPECT_FALSE(q.try_push_front("x"));
            EXPECT_FALSE(q.try_push_front_for("x", 20ms));
            EXPECT_EQ(2u, q.clear());
            EXPECT_FALSE(q.try_pop_back());
            EXPECT_FALSE(q.try_pop_back_for(20ms));
        }
    });
    EXPECT_GE(q.stats().push_full, 3u);
}

TYPED_TEST(QueueCpp, BatchesDrainAndClear) {
    auto q = shmds::queue<TypeParam>::create(shmds::backing::anonymous(), 4);
    EXPECT_EQ(4u, q.try_push_multi(vals<TypeParam>(0, 6))) << "partial when full";
    EXPECT_EQ(vals<TypeParam>(0, 2), q.pop_multi(2));
    EXPECT_EQ(vals<TypeParam>(2, 4), q.drain());
    q.push_multi(vals<TypeParam>(10, 14));
    EXPECT_EQ(vals<TypeParam>(10, 13), q.drain(3));
    EXPECT_EQ(vals<TypeParam>(13, 14), q.pop_multi(10, 1s));
    q.push_multi(vals<TypeParam>(20, 23));
    EXPECT_EQ(3u, q.clear());
    EXPECT_EQ(0u, q.clear());
    EXPECT_TRUE(q.empty());
    EXPECT_TRUE(q.pop_multi(0).empty());
}

TYPED_TEST(QueueCpp, StatsMirrorTheCApi) {
    auto q = shmds::queue<TypeParam>::create(shmds::backing::anonymous(), 2);
    q.push(val<TypeParam>(0));
    q.push(val<TypeParam>(1));
    EXPECT_FALSE(q.try_push(val<TypeParam>(2)));
    (void)q.pop();
    auto s = q.stats();
    EXPECT_EQ(sizeof s, s.struct_size);
    EXPECT_EQ(1u, s.size);
    EXPECT_EQ(2u, s.capacity);
    EXPECT_EQ(2u, s.push_ok);
    EXPECT_EQ(1u, s.pop_ok);
    EXPECT_EQ(1u, s.push_full);
    EXPECT_EQ(0u, s.pop_empty);
    EXPECT_EQ(0u, s.push_waiters + s.pop_waiters);
    EXPECT_GT(s.segment_bytes, 0u);
    EXPECT_EQ((std::is_same_v<TypeParam, std::string>), s.arena_capacity > 0);
}

TYPED_TEST(QueueCpp, MovesTransferOwnershipAndNeverDoubleClose) {
    using Q = shmds::queue<TypeParam>;
    Q a = Q::create(shmds::backing::memfd("move-a"), 4);
    const int fd_a = a.fd();
    ASSERT_TRUE(a.try_push(val<TypeParam>(1)));

    Q b(std::move(a));
    EXPECT_EQ(nullptr, a.handle());
    EXPECT_EQ(fd_a, b.fd());
    EXPECT_EQ(1u, b.size());
    // The moved-from object is inert: gauges read zero, verbs throw, nothing crashes.
    EXPECT_EQ(0u, a.size());
    EXPECT_EQ(0u, a.capacity());
    expect_error(-EINVAL, [&] { a.try_push(val<TypeParam>(2)); });
    expect_error(-EINVAL, [&] { a.try_pop(); });
    expect_error(-EINVAL, [&] { a.drain(); });

    {
        Q c = Q::create(shmds::backing::memfd("move-c"), 4);
        const int fd_c = c.fd();
        c = std::move(b);  // closes c's own queue, takes b's
        EXPECT_FALSE(fd_is_open(fd_c)) << "the replaced queue must be closed";
        EXPECT_TRUE(fd_is_open(fd_a));
        EXPECT_EQ(nullptr, b.handle());
        EXPECT_EQ(val<TypeParam>(1), c.pop());
        Q &alias = c;
        c = std::move(alias);  // self-move keeps the queue
        EXPECT_EQ(fd_a, c.fd());
    }
    EXPECT_FALSE(fd_is_open(fd_a)) << "the last owner closes the queue";

    // Adopting a C handle hands it to the destructor.
    shmds_queue_config_t cfg =
        SHMDS_QUEUE_CONFIG_INIT(shmds::detail::queue_variant<TypeParam>::value, 2);
    shmds_queue_t *raw = nullptr;
    ASSERT_EQ(0, shmds_queue_create(nullptr, &cfg, &raw));
    Q adopted(raw);
    EXPECT_EQ(raw, adopted.handle());
    EXPECT_TRUE(adopted.try_push(val<TypeParam>(5)));
}

TYPED_TEST(QueueCpp, EventfdSignalsOnlyWhenNotified) {
    auto q = shmds::queue<TypeParam>::create(shmds::backing::anonymous(), 4);
    expect_error(-ENOENT, [&] { q.notify(); });
    const int efd = q.eventfd();
    ASSERT_GE(efd, 0);
    EXPECT_EQ(efd, q.eventfd());
    q.push(val<TypeParam>(1));
    EXPECT_FALSE(q.consume_events()) << "a push alone never signals";
    q.notify();
    q.notify();
    EXPECT_EQ(std::optional<std::uint64_t>(2), q.consume_events());
    EXPECT_FALSE(q.consume_events());
    q.set_eventfd(-1);
    expect_error(-ENOENT, [&] { q.consume_events(); });
    expect_error(-EBADF, [&] { q.set_eventfd(-5); });
}

TYPED_TEST(QueueCpp, ABlockedPopIsWokenByAnotherProcess) {
    auto q = shmds::queue<TypeParam>::create(shmds::backing::anonymous(), 4);
    pid_t child = fork_child([&] {
        for (int i = 0; i < 5000 && q.stats().pop_waiters == 0; ++i)
            std::this_thread::sleep_for(1ms);
        q.push(val<TypeParam>(9));
        return 0;
    });
    ASSERT_GT(child, 0);
    EXPECT_EQ(std::optional<TypeParam>(val<TypeParam>(9)), q.try_pop_for(10s));
    ChildExit e = wait_child(child, 15s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
}

// ----------------------------------------------------------------- integer only

TEST(QueueCppInt, DrainAndPopMultiTakeMoreThanOneChunk) {
    auto q = shmds::queue<std::int32_t>::create(shmds::backing::anonymous(), 16384);
    std::vector<std::int32_t> in;
    for (int i = 0; i < 10000; ++i) in.push_back(i - 5000);
    EXPECT_EQ(in.size(), q.try_push_multi(in));
    auto first = q.pop_multi(5000);
    EXPECT_EQ(std::vector<std::int32_t>(in.begin(), in.begin() + 5000), first);
    auto rest = q.drain();
    EXPECT_EQ(std::vector<std::int32_t>(in.begin() + 5000, in.end()), rest);
}

TEST(QueueCppInt, TheWidthsLimitsRoundTrip) {
    auto q16 = shmds::queue<std::int16_t>::create(shmds::backing::anonymous(), 4);
    q16.push(INT16_MIN);
    q16.push(INT16_MAX);
    EXPECT_EQ(INT16_MIN, q16.pop());
    EXPECT_EQ(INT16_MAX, q16.pop());
    auto q64 = shmds::queue<std::int64_t>::create(shmds::backing::anonymous(), 4);
    q64.push(INT64_MIN);
    q64.push(INT64_MAX);
    EXPECT_EQ(std::vector<std::int64_t>({INT64_MIN, INT64_MAX}), q64.drain());
}

// ------------------------------------------------------------------ strings only

TEST(QueueCppString, DequeVerbs) {
    auto q = shmds::queue<std::string>::create(shmds::backing::anonymous(), 8);
    q.push("b");
    q.push_front("a");
    EXPECT_TRUE(q.try_push_front("0"));
    EXPECT_TRUE(q.try_push_front_for("-", 10ms));
    q.push("c");
    // - 0 a b c
    EXPECT_EQ("c", q.pop_back());
    EXPECT_EQ(std::optional<std::string>("b"), q.try_pop_back());
    EXPECT_EQ(std::optional<std::string>("a"), q.try_pop_back_for(10ms));
    EXPECT_EQ("-", q.pop());
    EXPECT_EQ("0", q.pop());
}

TEST(QueueCppString, LargeStringsGrowTheBuffers) {
    auto q = shmds::queue<std::string>::create(shmds::backing::anonymous(), 16, 1 << 20);
    auto blob = [](std::size_t n, int seed) {
        std::string s(n, '\0');
        for (std::size_t i = 0; i < n; ++i) s[i] = char((i * 131 + std::size_t(seed)) % 251);
        return s;
    };
    const std::string s300 = blob(300, 1), s5k = blob(5000, 2), s100k = blob(100000, 3);
    for (const auto &s : {s300, s5k, s100k}) {
        q.push(s);
        EXPECT_EQ(s, *q.peek());
        EXPECT_EQ(s, q.pop());
        q.push(s);
        EXPECT_EQ(s, *q.try_pop());
        q.push(s);
        EXPECT_EQ(s, *q.try_pop_back());
    }
    // Batches: the first message is popped alone, the rest drained through a buffer
    // that must grow past its initial size for the 100 kB one.
    const std::vector<std::string> batch = {"a", s100k, s300, "", s5k, s100k};
    q.push_multi(batch);
    EXPECT_EQ(batch, q.pop_multi(10));
    q.push_multi(batch);
    EXPECT_EQ(batch, q.drain());
}

TEST(QueueCppString, AMessageThatCanNeverFitThrowsE2big) {
    auto q = shmds::queue<std::string>::create(shmds::backing::anonymous(), 4, 4096);
    const std::string huge(5000, 'h');
    std::string what = expect_error(-E2BIG, [&] { q.try_push(huge); });
    EXPECT_NE(std::string::npos, what.find("5000")) << what;
    expect_error(-E2BIG, [&] { q.push(huge); });
    expect_error(-E2BIG, [&] { q.try_push_multi({"ok", huge}); });
    EXPECT_EQ(std::optional<std::string>("ok"), q.try_pop()) << "the batch stopped at the big one";
}

// ---------------------------------------------------------------------- backings

TEST(QueueCppBacking, PathExclusiveOpenAndMode) {
    TempPath path("cpp-path");
    using Q = shmds::queue<std::int64_t>;
    Q created = Q::create(shmds::backing::path(path.str(), 0640).exclusive(), 4);
    struct stat st;
    ASSERT_EQ(0, stat(path.c_str(), &st));
    EXPECT_EQ(0640u, st.st_mode & 07777u);

    std::string what =
        expect_error(-EEXIST, [&] { Q::create(shmds::backing::path(path.str()).exclusive(), 4); });
    EXPECT_NE(std::string::npos, what.find(path.str())) << what;

    Q attached = Q::create(shmds::backing::path(path.str()), 64);
    EXPECT_EQ(4u, attached.capacity()) << "the existing geometry wins";
    Q opened = Q::open(shmds::backing::path(path.str()));
    created.push(11);
    EXPECT_EQ(11, opened.pop());
    EXPECT_GE(opened.fd(), 0);
}

TEST(QueueCppBacking, FailuresThrowWithTheLibrarysSentence) {
    TempPath missing("cpp-missing");
    std::string what = expect_error(
        -ENOENT, [&] { shmds::queue<std::int32_t>::open(shmds::backing::path(missing.str())); });
    EXPECT_NE(std::string::npos, what.find(missing.str())) << what;

    TempPath ints("cpp-type");
    auto q = shmds::queue<std::int32_t>::create(shmds::backing::path(ints.str()), 4);
    what = expect_error(SHMDS_ETYPE,
                        [&] { shmds::queue<std::string>::open(shmds::backing::path(ints.str())); });
    EXPECT_NE(std::string::npos, what.find(ints.str())) << what;
    EXPECT_NE(std::string::npos, what.find("int32")) << what;
    expect_error(SHMDS_ETYPE,
                 [&] { shmds::queue<std::int64_t>::create(shmds::backing::path(ints.str()), 4); });
    expect_error(-EINVAL,
                 [&] { shmds::queue<std::int32_t>::create(shmds::backing::anonymous(), 0); });
    expect_error(-EINVAL, [&] { shmds::queue<std::int32_t>::open(shmds::backing::anonymous()); });
    expect_error(-ENOENT,
                 [&] { shmds::queue<std::int32_t>::create(shmds::backing::anonymous(), 4).fd(); });

    // The category is one object, and its messages are the library's.
    const shmds::error e(SHMDS_ECORRUPT, "context");
    EXPECT_EQ(&shmds::error_category(), &e.code().category());
    EXPECT_NE(std::string::npos, std::string(e.what()).find("context"));
    EXPECT_EQ(shmds_strerror(SHMDS_ECORRUPT), shmds::error_category().message(SHMDS_ECORRUPT));
}

TEST(QueueCppBacking, MemfdAndFdReachTheSameQueueFromAnotherProcess) {
    using Q = shmds::queue<std::string>;
    Q q = Q::create(shmds::backing::memfd("cpp-memfd"), 8);
    const int fd = q.fd();
    ASSERT_GE(fd, 0);
    run_child_ok([&] {
        {
            Q peer = Q::open(shmds::backing::fd(fd));
            peer.push("from the child");
        }
        CHILD_CHECK(fd_is_open(fd));  // attaching duplicated it; closing closed the copy
        return 0;
    });
    EXPECT_EQ(std::optional<std::string>("from the child"), q.try_pop());

    // A fresh, empty, sealable memfd of the caller's becomes a queue through backing::fd
    // (sealed against resizing once sized; an unsealable one is refused: test_segment).
    int mine = memfd_create("cpp-blank", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    ASSERT_GE(mine, 0);
    {
        Q blank = Q::create(shmds::backing::fd(mine), 4);
        blank.push("into my fd");
        Q again = Q::open(shmds::backing::fd(mine));
        EXPECT_EQ("into my fd", again.pop());
    }
    EXPECT_TRUE(fd_is_open(mine)) << "the caller keeps its own descriptor";
    close(mine);

    // A memfd that can never be sealed is refused, unless the risk is accepted.
    int plain = memfd_create("cpp-plain", MFD_CLOEXEC);
    ASSERT_GE(plain, 0);
    try {
        Q::create(shmds::backing::fd(plain), 4);
        ADD_FAILURE() << "an unsealable memfd was accepted";
    } catch (const shmds::error &e) {
        EXPECT_EQ(-EPERM, e.value());
    }
    {
        Q risky = Q::create(shmds::backing::fd(plain).accept_unsealed(), 4);
        risky.push("accepted");
        EXPECT_EQ("accepted", risky.pop());
    }
    close(plain);
}

TEST(QueueCppBacking, AnonymousQueuesAreSharedWithForkedChildren) {
    auto q = shmds::queue<std::int64_t>::create(shmds::backing::anonymous(), 8);
    run_child_ok([&] {
        q.push_multi({1, 2, 3});
        return 0;
    });
    EXPECT_EQ(std::vector<std::int64_t>({1, 2, 3}), q.drain());
}

// ---------------------------------------------------------------------- timeouts

TEST(QueueCppTimeouts, DurationsConvertWithoutOverflow) {
    using shmds::detail::to_timeout_ns;
    EXPECT_EQ(SHMDS_NOWAIT, to_timeout_ns(0s));
    EXPECT_EQ(SHMDS_NOWAIT, to_timeout_ns(-5ms));
    EXPECT_EQ(300 * 1000 * 1000, to_timeout_ns(300ms));
    EXPECT_EQ(1500 * 1000 * 1000, to_timeout_ns(std::chrono::duration<double>(1.5)));
    EXPECT_EQ(30 * 1000 * 1000, to_timeout_ns(std::chrono::duration<int, std::milli>(30)));
    // Too long for int64 nanoseconds: forever, not an overflow into "do not wait".
    EXPECT_EQ(SHMDS_FOREVER, to_timeout_ns(std::chrono::hours::max()));
    EXPECT_EQ(SHMDS_FOREVER, to_timeout_ns(std::chrono::seconds::max()));
    EXPECT_EQ(SHMDS_FOREVER, to_timeout_ns(std::chrono::nanoseconds::max()));
    EXPECT_EQ(SHMDS_FOREVER, to_timeout_ns(std::chrono::duration<double>(1e300)));
    using seconds_d = std::chrono::duration<double>;
    const double inf = std::numeric_limits<double>::infinity();
    EXPECT_EQ(SHMDS_FOREVER, to_timeout_ns(seconds_d(inf)));
    EXPECT_EQ(SHMDS_NOWAIT, to_timeout_ns(seconds_d(-inf)));
    EXPECT_EQ(SHMDS_NOWAIT, to_timeout_ns(std::chrono::hours::min()));
    EXPECT_EQ(SHMDS_NOWAIT, to_timeout_ns(seconds_d(std::numeric_limits<double>::quiet_NaN())));
}

TEST(QueueCppTimeouts, PositiveDurationsRoundUpAndNeverBecomeAProbe) {
    using shmds::detail::to_timeout_ns;
    EXPECT_EQ(1, to_timeout_ns(1ns));
    EXPECT_EQ(1, to_timeout_ns(std::chrono::duration<std::int64_t, std::pico>(1)));
    EXPECT_EQ(1, to_timeout_ns(std::chrono::duration<double, std::nano>(0.4)));
    EXPECT_EQ(2, to_timeout_ns(std::chrono::duration<double, std::nano>(1.5)));
    EXPECT_EQ(2, to_timeout_ns(std::chrono::duration<std::int64_t, std::pico>(1001)));
    EXPECT_EQ(1000, to_timeout_ns(1us));
    // The largest finite wait still is one, to the nanosecond.
    const std::int64_t longest = std::numeric_limits<std::int64_t>::max() - 1;
    EXPECT_EQ(longest, to_timeout_ns(std::chrono::nanoseconds(longest)));
}

TEST(QueueCppTimeouts, DeadlinesConvertToTheTimeLeft) {
    using shmds::detail::until_timeout_ns;
    const auto now = std::chrono::steady_clock::now();
    EXPECT_EQ(SHMDS_NOWAIT, until_timeout_ns(now - 1s));
    EXPECT_EQ(SHMDS_NOWAIT, until_timeout_ns(std::chrono::steady_clock::time_point::min()));
    EXPECT_EQ(SHMDS_NOWAIT, until_timeout_ns(std::chrono::system_clock::now() - 1h));
    EXPECT_EQ(SHMDS_FOREVER, until_timeout_ns(std::chrono::steady_clock::time_point::max()));
    EXPECT_EQ(SHMDS_FOREVER, until_timeout_ns(std::chrono::system_clock::time_point::max()));
    const std::int64_t left = until_timeout_ns(now + 10s);
    EXPECT_GT(left, 9'000'000'000);
    EXPECT_LE(left, 10'000'000'000);
}

TEST(QueueCppTimeouts, AZeroDurationIsAProbeThatStillTakesWhatIsThere) {
    auto q = shmds::queue<std::string>::create(shmds::backing::anonymous(), 2);
    EXPECT_FALSE(q.try_pop_for(0ms));
    EXPECT_TRUE(q.try_push_for("a", 0ms));
    EXPECT_TRUE(q.try_push_for("b", -1s));
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(q.try_push_for("c", 0ms));  // full: the probe answers at once
    EXPECT_LT(ms_since(start), 500.0);
    EXPECT_EQ(std::optional<std::string>("a"), q.try_pop_for(0ms));
}

TEST(QueueCppTimeouts, AnEndlessDurationWaitsForTheItem) {
    auto q = shmds::queue<std::int64_t>::create(shmds::backing::anonymous(), 4);
    pid_t child = fork_child([&] {
        for (int i = 0; i < 5000 && q.stats().pop_waiters == 0; ++i)
            std::this_thread::sleep_for(1ms);
        q.push(3);
        return 0;
    });
    ASSERT_GT(child, 0);
    EXPECT_EQ(std::optional<std::int64_t>(3), q.try_pop_for(std::chrono::hours::max()));
    ChildExit e = wait_child(child, 15s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
}
