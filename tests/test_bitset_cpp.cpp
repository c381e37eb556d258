// The C++ veneer, shmds::bitset (shmds/bitset.hpp): per-bit verbs as bool, scans as
// optionals and vectors, real failures (out of range, frozen, read-only) throw
// shmds::error with the C code, handles move. The behaviour behind each call is tested
// through the C API in test_bitset.cpp.
#include "support/proc.hpp"

#include <shmds/bitset.hpp>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

using namespace shmds::test;

namespace {

int code_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const shmds::error &e) {
        return e.value();
    }
    return 0;
}

}  // namespace

TEST(BitsetCpp, EveryVerbThroughTheVeneer) {
    auto b = shmds::bitset::create(shmds::backing::anonymous(), 2100);
    EXPECT_EQ(2100u, b.size());
    EXPECT_TRUE(b.none());
    EXPECT_FALSE(b.set(5));
    EXPECT_TRUE(b.set(5));
    EXPECT_TRUE(b.test(5));
    EXPECT_TRUE(b[5]);
    EXPECT_TRUE(b.toggle(6));
    EXPECT_FALSE(b.toggle(6));
    EXPECT_TRUE(b.clear(5));
    EXPECT_FALSE(b.clear(5));
    EXPECT_FALSE(b.any());
    EXPECT_EQ(std::nullopt, b.first_set());
    EXPECT_EQ(std::optional<std::uint64_t>(0), b.first_clear());
    // More set bits than one page of set_bits().
    std::vector<std::uint64_t> want;
    for (std::uint64_t i = 1; i < 2100; i += 2) {
        b.set(i);
        want.push_back(i);
    }
    EXPECT_EQ(want, b.set_bits());
    EXPECT_EQ(std::vector<std::uint64_t>(want.begin() + 500, want.end()), b.set_bits(1000));
    EXPECT_EQ(std::optional<std::uint64_t>(1), b.first_set());
    EXPECT_EQ(std::optional<std::uint64_t>(11), b.first_set(10));
    EXPECT_EQ(std::optional<std::uint64_t>(2), b.first_clear(1));
    EXPECT_EQ(1050u, b.count());
    EXPECT_EQ(std::nullopt, b.first_set(2100));
    b.zero();
    b.fill(3, 2);
    EXPECT_EQ("00011", b.to_string().substr(0, 5));
    b.zero(4, 1);
    EXPECT_EQ("00010", b.to_string().substr(0, 5));
    b.fill();
    EXPECT_EQ(std::string(2100, '1'), b.to_string());
    EXPECT_EQ(2100u, b.stats().count);
    EXPECT_THROW(b.fd(), shmds::error);
    b.sync();
}

TEST(BitsetCpp, FailuresThrowWithTheCode) {
    auto b = shmds::bitset::create(shmds::backing::anonymous(), 10);
    EXPECT_EQ(-ERANGE, code_of([&] { b.set(10); }));
    EXPECT_EQ(-ERANGE, code_of([&] { b.test(99); }));
    EXPECT_EQ(-ERANGE, code_of([&] { b.first_set(11); }));
    EXPECT_EQ(-ERANGE, code_of([&] { b.fill(5, 6); }));
    EXPECT_EQ(-EINVAL, code_of([&] { shmds::bitset::create(shmds::backing::anonymous(), 0); }));
    EXPECT_FALSE(b.frozen());
    b.set(1);
    b.freeze();
    EXPECT_TRUE(b.frozen());
    EXPECT_EQ(-EROFS, code_of([&] { b.set(2); }));
    EXPECT_EQ(-EROFS, code_of([&] { b.zero(); }));
    EXPECT_TRUE(b.test(1));
    auto moved = std::move(b);
    EXPECT_EQ(nullptr, b.handle());
    EXPECT_EQ(-EINVAL, code_of([&] { b.set(1); }));
    EXPECT_TRUE(moved.test(1));
}

TEST(BitsetCpp, ReadOnlyOpenAndEventfd) {
    TempPath p("bitset-cpp");
    auto w = shmds::bitset::create(shmds::backing::path(p.str()), 64);
    w.set(63);
    auto r = shmds::bitset::open_read_only(shmds::backing::path(p.str()));
    EXPECT_TRUE(r.test(63));
    EXPECT_EQ(1u, r.stats().read_only);
    EXPECT_EQ(-EROFS, code_of([&] { r.toggle(0); }));
    auto o = shmds::bitset::open(shmds::backing::path(p.str()));
    o.clear(63);
    EXPECT_FALSE(r.test(63));
    EXPECT_GE(w.eventfd(), 0);
    EXPECT_EQ(std::nullopt, w.consume_events());
    w.notify();
    EXPECT_EQ(std::optional<std::uint64_t>(1), w.consume_events());
}
