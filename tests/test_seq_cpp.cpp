// The C++ veneers shmds::deque<T> and shmds::stack<T>: every member, values and
// would-block as values, failures as shmds::error.
#include "support/proc.hpp"

#include <shmds/shmds.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>

using namespace std::chrono_literals;

namespace {

TEST(DequeCpp, BothEndsEveryMember) {
    auto d = shmds::deque<std::int32_t>::create(shmds::backing::anonymous(), 3);
    EXPECT_EQ(3u, d.capacity());
    EXPECT_TRUE(d.empty());
    d.push_back(1);
    d.push_front(0);
    EXPECT_TRUE(d.try_push_back(2));
    EXPECT_FALSE(d.try_push_front(9));
    EXPECT_FALSE(d.try_push_for(shmds::deque_end::back, 9, 5ms));
    EXPECT_TRUE(d.full());
    EXPECT_EQ(0, d.peek().value());
    EXPECT_EQ(2, d.peek(shmds::deque_end::back).value());
    EXPECT_EQ(0, d.pop_front());
    EXPECT_EQ(2, d.pop_back());
    EXPECT_EQ(1, d.try_pop_front().value());
    EXPECT_FALSE(d.try_pop_back());
    EXPECT_FALSE(d.try_pop_for(shmds::deque_end::front, 5ms));
    EXPECT_FALSE(d.peek());
    EXPECT_EQ(2u, d.try_push_multi(shmds::deque_end::front, {5, 6}));
    EXPECT_EQ(2u, d.size());
    EXPECT_EQ((std::vector<std::int32_t>{6, 5}), d.drain());
    d.push_back(7);
    EXPECT_EQ(1u, d.clear());
    EXPECT_EQ(6u, d.stats().push_ok);
}

TEST(DequeCpp, RangeErrorsThrowAndBytesAndFloatsWork) {
    auto d = shmds::deque<std::int8_t>::create(shmds::backing::anonymous(), 2);
    d.push_back(-128);
    EXPECT_EQ(-128, d.pop_front());
    auto b = shmds::deque<std::string>::create(shmds::backing::anonymous(), 2, 4);
    b.push_back(std::string("\0\xff", 2));
    EXPECT_THROW(b.push_back("toolong"), shmds::error);
    EXPECT_EQ(std::string("\0\xff", 2), b.pop_back());
    auto f = shmds::deque<float>::create(shmds::backing::anonymous(), 2);
    f.push_front(0.5f);
    EXPECT_EQ(0.5f, f.try_pop_back().value());
    EXPECT_THROW(shmds::deque<std::int64_t>::open(shmds::backing::path("/dev/shm/no-such-deque")),
                 shmds::error);
    EXPECT_THROW(d.fd(), shmds::error);
}

TEST(DequeCpp, Uint64UsesTheUintVerbs) {
    const std::uint64_t big = UINT64_MAX, mid = (std::uint64_t{1} << 63) + 1;
    auto d = shmds::deque<std::uint64_t>::create(shmds::backing::anonymous(), 4);
    d.push_back(big);
    EXPECT_TRUE(d.try_push_front(mid));
    EXPECT_EQ(mid, d.peek().value());
    EXPECT_EQ(big, d.peek(shmds::deque_end::back).value());
    EXPECT_EQ(2u, d.try_push_multi(shmds::deque_end::back, {big - 1, 3}));
    EXPECT_EQ(mid, d.pop_front());
    EXPECT_EQ(3u, d.try_pop_back().value());
    EXPECT_EQ((std::vector<std::uint64_t>{big, big - 1}), d.drain());
}

TEST(StackCpp, Uint64UsesTheUintVerbs) {
    const std::uint64_t big = UINT64_MAX;
    auto s = shmds::stack<std::uint64_t>::create(shmds::backing::anonymous(), 3);
    s.push(big);
    EXPECT_TRUE(s.try_push(big - 1));
    EXPECT_EQ(big - 1, s.peek().value());
    EXPECT_EQ(big - 1, s.pop());
    EXPECT_EQ(big, s.try_pop().value());
    s.push(1);
    EXPECT_EQ((std::vector<std::uint64_t>{1}), s.drain());
}

TEST(StackCpp, EveryMember) {
    auto s = shmds::stack<std::int64_t>::create(shmds::backing::anonymous(), 2);
    s.push(1);
    EXPECT_TRUE(s.try_push(2));
    EXPECT_FALSE(s.try_push(3));
    EXPECT_FALSE(s.try_push_for(3, 5ms));
    EXPECT_TRUE(s.full());
    EXPECT_EQ(2, s.peek().value());
    EXPECT_EQ(2, s.pop());
    EXPECT_EQ(1, s.try_pop().value());
    EXPECT_FALSE(s.try_pop());
    EXPECT_FALSE(s.try_pop_for(5ms));
    EXPECT_FALSE(s.peek());
    EXPECT_TRUE(s.empty());
    s.push(4);
    s.push(5);
    EXPECT_EQ((std::vector<std::int64_t>{5, 4}), s.drain());
    s.push(6);
    EXPECT_EQ(1u, s.clear());
    EXPECT_EQ(0u, s.size());
    EXPECT_EQ(2u, s.capacity());
    EXPECT_EQ(5u, s.stats().push_ok);
    EXPECT_THROW(s.fd(), shmds::error);
    auto b = shmds::stack<std::string>::create(shmds::backing::anonymous(), 2, 3);
    b.push("abc");
    EXPECT_THROW(b.push("abcd"), shmds::error);
    EXPECT_EQ("abc", b.peek().value());
    EXPECT_EQ("abc", b.pop());
    auto f = shmds::stack<double>::create(shmds::backing::anonymous(), 1);
    f.push(2.5);
    EXPECT_EQ(2.5, f.pop());
    EXPECT_GE(f.eventfd(), 0);
    f.notify();
}

}  // namespace
