// The C++ veneer shmds::heap<V>: every member, would-block as values, failures as
// shmds::error, and a fork child using the parent's heap.
#include "support/proc.hpp"

#include <shmds/shmds.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>

using namespace std::chrono_literals;

namespace {

using Item = shmds::heap_item<std::int64_t>;

TEST(HeapCpp, EveryMemberOfAnInt64Heap) {
    auto h = shmds::heap<std::int64_t>::create(shmds::backing::anonymous(), 3);
    EXPECT_EQ(3u, h.capacity());
    EXPECT_TRUE(h.empty());
    EXPECT_FALSE(h.is_max());
    h.push(5, 50);
    EXPECT_TRUE(h.try_push(1, 10));
    EXPECT_TRUE(h.try_push_for(5, 51, 5ms));
    EXPECT_TRUE(h.full());
    EXPECT_FALSE(h.try_push(0, 0));
    EXPECT_FALSE(h.try_push_for(0, 0, 5ms));
    EXPECT_EQ((Item{1, 10}), h.peek().value());
    EXPECT_EQ((Item{1, 10}), h.pop());
    EXPECT_EQ((Item{5, 50}), h.try_pop().value());
    EXPECT_EQ((Item{5, 51}), h.try_pop_for(5ms).value());
    EXPECT_FALSE(h.try_pop());
    EXPECT_FALSE(h.try_pop_for(5ms));
    EXPECT_FALSE(h.try_pop_until(std::chrono::steady_clock::now() + 5ms));
    EXPECT_FALSE(h.peek());
    EXPECT_EQ(3u, h.try_push_multi({{3, 30}, {2, 20}, {3, 31}, {0, 1}}));
    EXPECT_EQ(3u, h.size());
    EXPECT_EQ((std::vector<Item>{{2, 20}, {3, 30}, {3, 31}}), h.drain());
    h.push(7, 70);
    EXPECT_EQ(1u, h.clear());
    EXPECT_EQ(7u, h.stats().push_ok);
    EXPECT_EQ(0u, h.recoveries());
    EXPECT_THROW(h.fd(), shmds::error);
}

TEST(HeapCpp, BytesMaxHeapAndErrors) {
    shmds::test::TempPath path("heap_cpp");
    auto h = shmds::heap<std::string>::create(shmds::backing::path(path.c_str()), 4, 5, true);
    EXPECT_TRUE(h.is_max());
    h.push(1, std::string("a\0b", 3));
    h.push(9, "");
    EXPECT_THROW(h.push(2, "toolong"), shmds::error);
    auto other = shmds::heap<std::string>::open(shmds::backing::path(path.c_str()));
    EXPECT_EQ(9, other.peek()->priority);
    EXPECT_EQ("", other.pop().value);
    EXPECT_EQ(std::string("a\0b", 3), other.pop().value);
    EXPECT_GE(h.fd(), 0);
    EXPECT_THROW(shmds::heap<std::int64_t>::open(shmds::backing::path(path.c_str())),
                 shmds::error);
    EXPECT_THROW(shmds::heap<std::int64_t>::open(shmds::backing::path("/dev/shm/no-such-heap")),
                 shmds::error);
}

TEST(HeapCpp, AForkChildPopsWhatTheParentPushed) {
    auto h = shmds::heap<std::int64_t>::create(shmds::backing::anonymous(), 8);
    const pid_t child = shmds::test::fork_child([&] {
        const auto it = h.try_pop_for(5s);
        return it && it->priority == -1 && it->value == 42 ? 0 : 1;
    });
    h.push(-1, 42);
    EXPECT_EQ(0, shmds::test::wait_child(child, 10s).code);
}

}  // namespace
