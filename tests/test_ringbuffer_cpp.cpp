// The C++ veneer, shmds::ring_buffer<T> (shmds/ringbuffer.hpp): every element type
// round-trips its limits, the three read outcomes are values, missing values and
// timeouts are not exceptions while real failures throw, handles move. The behaviour
// behind each call is tested through the C API in test_ringbuffer.cpp.
#include "support/proc.hpp"

#include <shmds/ringbuffer.hpp>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <thread>
#include <vector>

// Every member of every type compiles, used by a test or not.
template class shmds::ring_buffer<std::int8_t>;
template class shmds::ring_buffer<std::int16_t>;
template class shmds::ring_buffer<std::int32_t>;
template class shmds::ring_buffer<std::int64_t>;
template class shmds::ring_buffer<std::uint8_t>;
template class shmds::ring_buffer<std::uint16_t>;
template class shmds::ring_buffer<std::uint32_t>;
template class shmds::ring_buffer<std::uint64_t>;
template class shmds::ring_buffer<double>;

using namespace shmds::test;
using namespace std::chrono_literals;

namespace {

template <class T>
class RingBufferCpp : public ::testing::Test {};
using Types = ::testing::Types<std::int8_t, std::int16_t, std::int32_t, std::int64_t,
                               std::uint8_t, std::uint16_t, std::uint32_t, std::uint64_t, double>;
TYPED_TEST_SUITE(RingBufferCpp, Types);

}  // namespace

TYPED_TEST(RingBufferCpp, LimitsRoundTripInOrder) {
    using T = TypeParam;
    auto r = shmds::ring_buffer<T>::create(shmds::backing::anonymous(), 3);
    const T lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
    EXPECT_EQ(0u, r.write(lo));
    EXPECT_EQ(1u, r.write(hi));
    EXPECT_EQ(2u, r.write_multi({T(0), T(1)}));
    EXPECT_EQ(4u, r.count());
    EXPECT_EQ(4u, r.head());
    EXPECT_EQ(3u, r.size());
    EXPECT_EQ(3u, r.capacity());
    EXPECT_EQ(1u, r.overwrites());
    EXPECT_EQ((std::vector<T>{hi, T(0), T(1)}), r.to_list());
    const auto e = r.entries();
    ASSERT_EQ(3u, e.size());
    EXPECT_EQ(1u, e[0].seq);
    EXPECT_EQ(hi, e[0].value);
    EXPECT_EQ(std::optional<T>(T(1)), r.latest());
    EXPECT_EQ(std::optional<T>(hi), r.latest(2));
    EXPECT_EQ(std::nullopt, r.latest(3));
    T v{};
    EXPECT_EQ(shmds::read_status::ok, r.read_seq(1, v));
    EXPECT_EQ(hi, v);
    EXPECT_EQ(shmds::read_status::overwritten, r.read_seq(0, v));
    EXPECT_EQ(shmds::read_status::not_written, r.read_seq(4, v));
    EXPECT_EQ(std::nullopt, r.try_read_seq(0));
    EXPECT_EQ(std::optional<T>(T(0)), r.try_read_seq(2));
    EXPECT_EQ(4u, r.stats().count);
}

TEST(RingBufferCppF64, NaNAndSignedZeroSurvive) {
    auto r = shmds::ring_buffer<double>::create(shmds::backing::anonymous(), 2);
    r.write(std::numeric_limits<double>::quiet_NaN());
    r.write(-0.0);
    EXPECT_TRUE(std::isnan(*r.latest(1)));
    EXPECT_TRUE(std::signbit(*r.latest(0)));
}

TEST(RingBufferCppWait, TimeoutIsFalseAWriteIsTrue) {
    auto r = shmds::ring_buffer<std::int64_t>::create(shmds::backing::anonymous(), 4);
    EXPECT_FALSE(r.wait_for(0, 0ms));
    EXPECT_FALSE(r.wait_for(0, 20ms));
    EXPECT_FALSE(r.wait_until(0, std::chrono::steady_clock::now() + 10ms));
    std::thread writer([&] {
        std::this_thread::sleep_for(20ms);
        r.write(7);
    });
    r.wait(0);
    writer.join();
    EXPECT_TRUE(r.wait_for(0, 0ms));
    EXPECT_TRUE(r.wait_until(0, std::chrono::steady_clock::time_point::max()));
    EXPECT_EQ(7, *r.latest());
}

TEST(RingBufferCppErrors, RealFailuresThrowWithTheirCode) {
    TempPath path("ringcpp");
    auto a = shmds::ring_buffer<std::int32_t>::create(shmds::backing::path(path.str()), 5);
    a.write(-9);
    EXPECT_GE(a.fd(), 0);
    auto b = shmds::ring_buffer<std::int32_t>::open(shmds::backing::path(path.str()));
    EXPECT_EQ(-9, *b.latest());
    try {
        shmds::ring_buffer<std::uint32_t>::open(shmds::backing::path(path.str()));
        ADD_FAILURE() << "opening an int32 ring as uint32 must throw";
    } catch (const shmds::error &e) {
        EXPECT_EQ(SHMDS_ETYPE, e.value());
    }
    EXPECT_THROW(shmds::ring_buffer<std::int64_t>::create(shmds::backing::anonymous(), 0),
                 shmds::error);
    auto anon = shmds::ring_buffer<std::int64_t>::create(shmds::backing::anonymous(), 2);
    EXPECT_THROW(anon.fd(), shmds::error);
    auto moved = std::move(a);
    EXPECT_EQ(nullptr, a.handle());
    EXPECT_THROW(a.write(1), shmds::error);
    EXPECT_THROW(a.latest(), shmds::error);
    EXPECT_EQ(0u, a.count());
    EXPECT_EQ(-9, *moved.latest());
}

TEST(RingBufferCppEventfd, NotifyAndConsume) {
    auto r = shmds::ring_buffer<std::int64_t>::create(shmds::backing::anonymous(), 2);
    EXPECT_THROW(r.notify(), shmds::error);  // no eventfd yet
    const int fd = r.eventfd();
    EXPECT_GE(fd, 0);
    EXPECT_EQ(std::nullopt, r.consume_events());
    r.notify();
    EXPECT_EQ(std::optional<std::uint64_t>(1), r.consume_events());
    auto other = shmds::ring_buffer<std::int64_t>::create(shmds::backing::anonymous(), 2);
    other.set_eventfd(fd);
    other.notify();
    EXPECT_EQ(std::optional<std::uint64_t>(1), r.consume_events());
}
