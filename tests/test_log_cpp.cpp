// The C++ veneer, shmds::log (shmds/log.hpp): normal outcomes are values, real failures
// throw shmds::error, range-for walks the entries through a cursor, and handles move
// without double-closing. The behaviour behind each call is tested through the C API in
// test_log.cpp.
#include "support/proc.hpp"

#include <shmds/log.hpp>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace shmds::test;
using namespace std::chrono_literals;

namespace {

int code_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const shmds::error &e) {
        return e.value();
    }
    return 0;
}

TEST(LogCpp, AppendReadAndRangeFor) {
    auto l = shmds::log::create(shmds::backing::anonymous(), 4096);
    const std::string nul("a\0b", 3);
    EXPECT_EQ(0u, l.append("first"));
    EXPECT_EQ(16u, l.append(nul));
    const std::vector<std::uint64_t> offs = l.append_multi({"x", "yy", std::string(300, 'z')});
    EXPECT_EQ((std::vector<std::uint64_t>{32, 48, 64}), offs);
    EXPECT_EQ(5u, l.entry_count());
    const auto e = l.read_entry(16);
    ASSERT_TRUE(e);
    EXPECT_EQ(nul, e->data);
    EXPECT_EQ(16u, e->offset);
    EXPECT_EQ(32u, e->next);
    EXPECT_FALSE(l.read_entry(l.tail_offset()));  // the tail: nothing yet
    std::vector<std::string> seen;
    std::vector<std::uint64_t> at;
    for (const shmds::log::entry &x : l.entries()) {
        seen.push_back(x.data);
        at.push_back(x.offset);
    }
    EXPECT_EQ((std::vector<std::string>{"first", nul, "x", "yy", std::string(300, 'z')}), seen);
    EXPECT_EQ((std::vector<std::uint64_t>{0, 16, 32, 48, 64}), at);
    seen.clear();
    for (const auto &x : l.entries(48)) seen.push_back(x.data);
    EXPECT_EQ(2u, seen.size());
}

TEST(LogCpp, FailuresThrowWithTheirCodes) {
    auto l = shmds::log::create(shmds::backing::anonymous(), 64);
    EXPECT_EQ(-EINVAL, code_of([&] { l.append(""); }));
    EXPECT_EQ(0u, l.append(std::string(40, 'a')));  // 48 of 64 bytes
    EXPECT_EQ(-ENOSPC, code_of([&] { l.append(std::string(20, 'b')); }));
    EXPECT_FALSE(l.try_append(std::string(20, 'b')));
    EXPECT_EQ(48u, l.try_append("c").value());
    EXPECT_EQ(-ERANGE, code_of([&] { l.read_entry(800); }));
    EXPECT_EQ(-EINVAL, code_of([&] { l.read_entry(8); }));
    EXPECT_EQ(-EINVAL, code_of([&] { l.truncate(8); }));
    l.truncate(48);
    EXPECT_EQ(-ENOENT, code_of([&] { l.read_entry(0); }));
    EXPECT_EQ(48u, l.truncation());
    EXPECT_EQ(16u, l.data_size());
    EXPECT_EQ(0u, l.available());
    EXPECT_EQ(64u, l.capacity());
    EXPECT_EQ(-EINVAL, code_of([] { shmds::log::create(shmds::backing::anonymous(), 8); }));
}

TEST(LogCpp, EachEntryStopsWhenAskedAndPropagatesExceptions) {
    auto l = shmds::log::create(shmds::backing::anonymous(), 4096);
    for (int i = 0; i < 5; ++i) l.append("e" + std::to_string(i));
    std::vector<std::string> seen;
    const std::uint64_t final = l.each_entry(0, [&](std::string_view d, std::uint64_t) {
        seen.emplace_back(d);
        return seen.size() < 2;
    });
    EXPECT_EQ(2u, seen.size());
    EXPECT_EQ(32u, final);
    int n = 0;
    EXPECT_EQ(l.tail_offset(), l.each_entry(0, [&](std::string_view, std::uint64_t) { ++n; }));
    EXPECT_EQ(5, n);
    EXPECT_THROW(l.each_entry(0, [](std::string_view, std::uint64_t) -> bool {
        throw std::runtime_error("stop");
    }), std::runtime_error);
}

TEST(LogCpp, CursorFollowsTheTailAndGoesStaleOnReset) {
    auto l = shmds::log::create(shmds::backing::anonymous(), 4096);
    auto c = l.cursor_at(0);
    EXPECT_FALSE(c.next());
    l.append("one");
    const auto e = c.next();
    ASSERT_TRUE(e);
    EXPECT_EQ("one", e->data);
    EXPECT_EQ(16u, c.offset());
    EXPECT_EQ(0u, c.epoch());
    l.reset();
    l.append("two");
    l.append("three");
    EXPECT_EQ(-ESTALE, code_of([&] { c.next(); }));
    EXPECT_EQ(2u, l.epoch());
    EXPECT_EQ(1u, l.stats().resets);
}

TEST(LogCpp, WaitForIsABoolUntilReset) {
    auto l = shmds::log::create(shmds::backing::anonymous(), 4096);
    EXPECT_FALSE(l.wait_for(0, 0s));
    EXPECT_FALSE(l.wait_for(0, 5ms));
    EXPECT_FALSE(l.wait_until(0, std::chrono::steady_clock::now() + 2ms));
    std::thread t([&] {
        std::this_thread::sleep_for(10ms);
        l.append("now");
    });
    l.wait_for(0);
    t.join();
    EXPECT_TRUE(l.wait_for(0, 0s));
    std::thread r([&] {
        std::this_thread::sleep_for(10ms);
        l.reset();
    });
    EXPECT_EQ(-ESTALE, code_of([&] { l.wait_for(1, 10s); }));
    r.join();
}

TEST(LogCpp, HandlesMoveAndBackingsShare) {
    TempPath p("logcpp");
    auto a = shmds::log::create(shmds::backing::path(p.str()), 1024);
    a.append("shared");
    auto b = shmds::log::open(shmds::backing::path(p.str()));
    EXPECT_EQ("shared", b.read_entry(0)->data);
    EXPECT_GE(a.fd(), 0);
    shmds::log moved = std::move(a);
    EXPECT_EQ(nullptr, a.handle());  // NOLINT: the moved-from state is documented
    EXPECT_EQ(0u, a.entry_count());
    EXPECT_EQ(1u, moved.entry_count());
    EXPECT_EQ(0u, moved.recoveries());
    EXPECT_EQ(-EINVAL, code_of([&] { a.append("x"); }));
    auto anon = shmds::log::create(shmds::backing::anonymous(), 1024);
    EXPECT_EQ(-ENOENT, code_of([&] { anon.fd(); }));
}

TEST(LogCpp, EventfdVerbs) {
    auto l = shmds::log::create(shmds::backing::anonymous(), 1024);
    EXPECT_GE(l.eventfd(), 0);
    EXPECT_FALSE(l.consume_events());
    l.append("quiet");
    EXPECT_FALSE(l.consume_events());
    l.notify();
    EXPECT_EQ(1u, l.consume_events().value());
    l.set_eventfd(-1);
    EXPECT_EQ(-ENOENT, code_of([&] { l.notify(); }));
}

}  // namespace
