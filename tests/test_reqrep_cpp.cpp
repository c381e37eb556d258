// The C++ veneer over reqrep (shmds/reqrep.hpp), in a file of its own: the class
// template shmds::reqrep and the engine namespace of the same name cannot meet in one
// translation unit.
#include <gtest/gtest.h>

#include <shmds/reqrep.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

// Every member of both variants compiles, used by a test or not.
template class shmds::reqrep<std::int64_t>;
template class shmds::reqrep<std::string>;

TEST(ReqRepCpp, ClientAndServerThroughTheTypedClass) {
    using namespace std::chrono_literals;
    auto rr = shmds::reqrep<std::string>::create(shmds::backing::anonymous(), 8, 2, 32, 64);
    std::thread server([&] {
        auto req = rr.recv_for(5s);
        ASSERT_TRUE(req);
        EXPECT_TRUE(rr.reply(req->id, "re:" + req->value));
    });
    EXPECT_EQ("re:ping", rr.request_for("ping", 5s).value_or("<timeout>"));
    server.join();

    auto id = rr.try_send("unanswered");
    ASSERT_TRUE(id);
    EXPECT_FALSE(rr.try_get(*id));
    EXPECT_EQ(1u, rr.pending());
    EXPECT_TRUE(rr.cancel(*id));
    EXPECT_FALSE(rr.cancel(*id));
    auto req = rr.try_recv();
    ASSERT_TRUE(req);
    EXPECT_FALSE(rr.reply(req->id, "too late"));
    EXPECT_FALSE(rr.request_for("nobody", 10ms));
    EXPECT_THROW(rr.try_send(std::string(33, 'x')), shmds::error);

    auto ints = shmds::reqrep<std::int64_t>::create(shmds::backing::anonymous(), 4, 4);
    auto iid = ints.send(41);
    auto ireq = ints.recv();
    EXPECT_EQ(iid, ireq.id);
    EXPECT_TRUE(ints.reply(ireq.id, ireq.value + 1));
    EXPECT_EQ(42, ints.get(iid));
    EXPECT_EQ(1u, ints.stats().collected);
}

// A reply is read into a string sized to it, not to resp_size: a reqrep whose replies
// may be 16 MiB must not allocate 16 MiB for every "ok" (it did, get and request alike).
TEST(ReqRepCpp, SmallRepliesDoNotAllocateTheLargestReplySize) {
    using namespace std::chrono_literals;
    constexpr std::uint64_t big = 16u << 20;
    auto rr = shmds::reqrep<std::string>::create(shmds::backing::anonymous(), 4, 2, big, big);
    constexpr std::size_t small_bound = 64 * 1024;  // far below 16 MiB, above any first guess

    auto id = rr.try_send("ping");
    ASSERT_TRUE(id);
    auto req = rr.try_recv();
    ASSERT_TRUE(req);
    EXPECT_EQ("ping", req->value);
    EXPECT_LT(req->value.capacity(), small_bound);
    ASSERT_TRUE(rr.reply(req->id, "ok"));
    auto answer = rr.get_for(*id, 5s);
    ASSERT_TRUE(answer);
    EXPECT_EQ("ok", *answer);
    EXPECT_LT(answer->capacity(), small_bound);

    // Through request_for as well, with a reply larger than the first guess: it grows
    // to the reply (-ENOBUFS tells the length) and arrives whole.
    const std::string large(300 * 1024, 'L');
    std::thread server([&] {
        auto r = rr.recv_for(5s);
        ASSERT_TRUE(r);
        EXPECT_TRUE(rr.reply(r->id, r->value == "small" ? std::string("s") : large));
        r = rr.recv_for(5s);
        ASSERT_TRUE(r);
        EXPECT_TRUE(rr.reply(r->id, large));
    });
    auto s = rr.request_for("small", 5s);
    ASSERT_TRUE(s);
    EXPECT_EQ("s", *s);
    EXPECT_LT(s->capacity(), small_bound);
    EXPECT_EQ(large, rr.request(std::string(200 * 1024, 'q')));
    server.join();
    EXPECT_EQ(0u, rr.pending());
    EXPECT_EQ(2u + 1u, rr.stats().collected);
}

// request_for sends and collects under one deadline and, as the C verb does, cancels a
// request whose reply did not come in time, so its slot goes back at once.
TEST(ReqRepCpp, ARequestThatTimesOutIsCancelled) {
    using namespace std::chrono_literals;
    auto rr = shmds::reqrep<std::string>::create(shmds::backing::anonymous(), 4, 1);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(rr.request_for("nobody answers", 20ms));
    EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
    EXPECT_EQ(0u, rr.pending());
    EXPECT_EQ(1u, rr.stats().cancelled);
    EXPECT_FALSE(rr.request_for("probe", 0ms));  // a probe: no wait, still cancelled
    EXPECT_EQ(0u, rr.pending());
    // The single response slot is free again: a send succeeds without waiting.
    EXPECT_TRUE(rr.try_send("next"));
}
