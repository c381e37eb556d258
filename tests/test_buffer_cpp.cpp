// The C++ veneer (shmds/buffer.hpp): typed access, slices, the RAII batches (and that a
// write batch destroyed in a fork() child releases nothing), bytes_buffer.
#include "support/proc.hpp"

#include <shmds/buffer.hpp>

#include <chrono>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace std::chrono_literals;
using namespace shmds::test;

namespace {

TEST(BufferCpp, TypedAccessAndAtomics) {
    auto b = shmds::buffer<std::int16_t>::create(shmds::backing::anonymous(), 8);
    EXPECT_EQ(8u, b.length());
    EXPECT_EQ(2u, b.elem_size());
    b.set(3, -7);
    EXPECT_EQ(-7, b.get(3));
    EXPECT_EQ(-6, b.incr(3));
    EXPECT_EQ(-7, b.decr(3));
    EXPECT_EQ(3, b.add(3, 10));
    std::int16_t expected = 0;
    EXPECT_FALSE(b.cas(3, expected, 5));
    EXPECT_EQ(3, expected);
    EXPECT_TRUE(b.cas(3, expected, 5));
    EXPECT_EQ(5, b.exchange(3, -1));
    EXPECT_EQ(-1, b.fetch_and(3, 0x00ff));
    EXPECT_EQ(0x00ff, b.fetch_or(3, 0x0100));
    EXPECT_EQ(0x01ff, b.fetch_xor(3, 0x0001));
    EXPECT_EQ(0x01fe, b.get(3));
    EXPECT_THROW(b.get(8), shmds::error);
    EXPECT_THROW(b.add(3, 40000), shmds::error);
    EXPECT_TRUE(b.add_slice(2, {1, 2}));
    EXPECT_EQ(1, b.get(2));
    EXPECT_EQ(0x0200, b.get(3));
    EXPECT_THROW(b.add_slice(2, {1, 40000}), shmds::error);
    EXPECT_EQ(1, b.get(2));  // nothing changed
}

TEST(BufferCpp, SlicesFillAndFloats) {
    auto b = shmds::buffer<float>::create(shmds::backing::anonymous(), 5);
    EXPECT_TRUE(b.set_slice(1, {1.5f, 2.5f}));
    EXPECT_EQ((std::vector<float>{0, 1.5f, 2.5f, 0}), b.get_slice(0, 4));
    EXPECT_TRUE(b.fill(0.25f));
    EXPECT_EQ(0.25f, b.data()[4]);
    EXPECT_EQ(0.25f, b.exchange(4, 1.0f));
    float raw[2];
    EXPECT_TRUE(b.get_raw(3 * sizeof(float), raw, sizeof raw));
    EXPECT_EQ(1.0f, raw[1]);
    EXPECT_TRUE(b.clear());
    EXPECT_EQ(0.0f, b.get(4));
    auto u = shmds::buffer<std::uint64_t>::create(shmds::backing::anonymous(), 2);
    u.set(0, UINT64_MAX - 1);
    EXPECT_EQ(UINT64_MAX, u.incr(0));
}

TEST(BufferCpp, BatchesAreScoped) {
    auto b = shmds::buffer<std::int32_t>::create(shmds::backing::anonymous(), 16);
    {
        shmds::buffer<std::int32_t>::write_batch w(b);
        for (int i = 0; i < 16; ++i) w.data()[i] = i * 3;
        // a probe from another batch owner would deadlock: refused instead
        EXPECT_THROW(shmds::buffer<std::int32_t>::write_batch(b, 0ns), shmds::error);
    }
    EXPECT_EQ(45, b.get(15));
    const auto before = b.stats().bulk_writes;
    {
        shmds::buffer<std::int32_t>::read_batch r(b);
        EXPECT_EQ(30, r.data()[10]);
        EXPECT_TRUE(r.valid());
        b.set_slice(0, {1});
        EXPECT_FALSE(r.valid());
    }
    EXPECT_EQ(before + 1, b.stats().bulk_writes);
}

TEST(BufferCpp, ForkChildGuardDestructionDoesNothing) {
    auto b = shmds::buffer<std::int32_t>::create(shmds::backing::anonymous(), 4);
    auto *w = new shmds::buffer<std::int32_t>::write_batch(b);
    run_child_ok([&] {
        delete w;  // in the child: must not end the parent's batch (it cannot anyway)
        std::int32_t v[1];
        // the batch is still held for the child: a bulk read probes and waits
        return b.get_raw(0, v, sizeof v, 0ns) ? 1 : 0;
    });
    delete w;  // the parent ends its own batch
    std::int32_t v[1];
    EXPECT_TRUE(b.get_raw(0, v, sizeof v, 0ns));
}

TEST(BufferCpp, BytesBuffer) {
    auto b = shmds::bytes_buffer::create(shmds::backing::anonymous(), 3, 6);
    EXPECT_TRUE(b.set(0, std::string("a\0\xff", 3)));
    EXPECT_EQ(std::string("a\0\xff", 3), b.get(0));
    EXPECT_THROW(b.set(1, "toolong!"), shmds::error);
    EXPECT_TRUE(b.fill("hi"));
    EXPECT_EQ("hi", b.get(2));
    {
        shmds::bytes_buffer::read_batch r(b);
        EXPECT_EQ('h', r.data()[6]);
    }
}

}  // namespace
