// The C++ veneer over reqrep (shmds/reqrep.hpp), in a file of its own: the class
// template shmds::reqrep and the engine namespace of the same name cannot meet in one
// translation unit.
#include <gtest/gtest.h>

#include <shmds/reqrep.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

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
