// The C++ veneer over pubsub (shmds/pubsub.hpp), in a file of its own: the class
// template shmds::pubsub and the engine namespace of the same name cannot meet in one
// translation unit.
#include <gtest/gtest.h>

#include <shmds/pubsub.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// Every member of every variant compiles, used by a test or not.
template class shmds::pubsub<std::int16_t>;
template class shmds::pubsub<std::int32_t>;
template class shmds::pubsub<std::int64_t>;
template class shmds::pubsub<std::string>;
template class shmds::subscriber<std::int16_t>;
template class shmds::subscriber<std::int32_t>;
template class shmds::subscriber<std::int64_t>;
template class shmds::subscriber<std::string>;

TEST(PubSubCpp, TypedClassesPublishSubscribeAndReportOutcomesAsValues) {
    auto ps = shmds::pubsub<std::string>::create(shmds::backing::anonymous(), 16, 32);
    auto sub = ps.subscribe();
    EXPECT_FALSE(sub.try_poll());
    ps.publish("hello");
    ps.publish_multi({"a", "b"});
    EXPECT_EQ("hello", *sub.try_poll());
    EXPECT_EQ((std::vector<std::string>{"a", "b"}), sub.drain());
    EXPECT_FALSE(sub.poll_for(std::chrono::milliseconds(5)));
    EXPECT_THROW(ps.publish(std::string(33, 'x')), shmds::error);

    auto ints = shmds::pubsub<std::int32_t>::create(shmds::backing::anonymous(), 4);
    auto all = ints.subscribe_all();
    for (int i = 0; i < 6; ++i) ints.publish(i);
    EXPECT_EQ((std::vector<std::int32_t>{2, 3, 4, 5}), all.poll_multi(10));
    EXPECT_TRUE(all.has_overflow());
    EXPECT_EQ(2u, all.overflow_count());
    EXPECT_EQ(6u, ints.stats().write_pos);
}

// A polled message is read into a string sized to it, not to msg_size (a poll used to
// allocate msg_size bytes every time); one longer than the first guess arrives whole.
TEST(PubSubCpp, PolledStringsAreSizedToTheMessage) {
    constexpr std::uint64_t big = 4u << 20;
    auto ps = shmds::pubsub<std::string>::create(shmds::backing::anonymous(), 4, big);
    auto sub = ps.subscribe();
    const std::string large(100 * 1024, 'L');
    ps.publish_multi({"tiny", large});
    auto tiny = sub.try_poll();
    ASSERT_TRUE(tiny);
    EXPECT_EQ("tiny", *tiny);
    EXPECT_LT(tiny->capacity(), std::size_t(64 * 1024));
    EXPECT_EQ(std::optional<std::string>(large), sub.poll_for(std::chrono::seconds(0)));
    EXPECT_FALSE(sub.poll_for(std::chrono::milliseconds(0)));
}
