// The C++ veneer of the pool (pool.hpp): outcomes as values, typed slot verbs, and the
// slot guard, which frees at scope end and frees nothing in a fork() child.
#include "support/proc.hpp"

#include <shmds/pool.hpp>

#include <chrono>
#include <string>

using namespace shmds::test;
using namespace std::chrono_literals;

namespace {

TEST(PoolCpp, AllocFreeAndTypedVerbs) {
    auto p = shmds::pool::create_of<std::int32_t>(shmds::backing::anonymous(), 2);
    EXPECT_EQ(SHMDS_TYPE_INT32, p.variant());
    EXPECT_EQ(4u, p.elem_size());
    const std::uint64_t a = p.alloc();
    auto b = p.try_alloc();
    ASSERT_TRUE(b);
    EXPECT_FALSE(p.try_alloc());
    EXPECT_FALSE(p.alloc(5ms));
    p.set<std::int32_t>(a, -5);
    EXPECT_EQ(-5, p.get<std::int32_t>(a));
    EXPECT_EQ(-4, p.incr<std::int32_t>(a));
    EXPECT_EQ(-5, p.decr<std::int32_t>(a));
    EXPECT_EQ(5, p.add<std::int32_t>(a, 10));
    EXPECT_TRUE(p.cas<std::int32_t>(a, 5, 6));
    EXPECT_FALSE(p.cas<std::int32_t>(a, 5, 7));
    EXPECT_EQ(6, p.exchange<std::int32_t>(a, 1));
    EXPECT_EQ(-4, static_cast<std::int32_t *>(p.data())[a] - 5);
    EXPECT_THROW(p.get<std::uint32_t>(a), shmds::error);  // wrong form: SHMDS_EVARIANT
    EXPECT_TRUE(p.is_allocated(a));
    EXPECT_EQ(getpid(), p.owner(a));
    EXPECT_EQ((std::vector<std::uint64_t>{0, 1}), p.allocated());
    EXPECT_TRUE(p.free(a));
    EXPECT_FALSE(p.free(a));
    EXPECT_THROW(p.free(9), shmds::error);
    EXPECT_EQ(1u, p.free_n({a, *b}));
    EXPECT_EQ(0u, p.used());
    auto n = p.alloc_n(2, 0ms);
    ASSERT_TRUE(n);
    EXPECT_EQ(2u, n->size());
    EXPECT_FALSE(p.alloc_n(1, 0ms));
    EXPECT_EQ(2u, p.reset());
    EXPECT_EQ(0u, p.recover_stale());
    EXPECT_EQ(2u, p.stats().capacity);
}

TEST(PoolCpp, BytesAndRaw) {
    auto p = shmds::pool::create_bytes(shmds::backing::anonymous(), 2, 5);
    const std::string v("\0\xff" "ab", 4);
    p.set_bytes(1, v);
    EXPECT_EQ(v, p.get_bytes(1));
    EXPECT_THROW(p.set_bytes(1, "123456"), shmds::error);
    auto r = shmds::pool::create_raw(shmds::backing::anonymous(), 2, 3);
    r.set_raw(0, "xy");
    EXPECT_EQ(std::string("xy\0", 3), r.get_raw(0));
    EXPECT_EQ(r.slot(0), r.data());
    EXPECT_EQ(nullptr, r.slot(2));
}

TEST(PoolCpp, AllocSet) {
    auto p = shmds::pool::create_of<std::uint16_t>(shmds::backing::anonymous(), 2);
    auto a = p.try_alloc_set<std::uint16_t>(65535);
    ASSERT_TRUE(a);
    EXPECT_EQ(65535, p.get<std::uint16_t>(*a));
    EXPECT_THROW(p.try_alloc_set<std::int32_t>(70000), shmds::error);  // -ERANGE
    EXPECT_EQ(1u, p.used());
    auto b = p.alloc_set<std::uint16_t>(7, 5ms);
    ASSERT_TRUE(b);
    EXPECT_FALSE(p.try_alloc_set<std::uint16_t>(1));
    EXPECT_FALSE(p.alloc_set<std::uint16_t>(1, 1ms));
    auto s = shmds::pool::create_bytes(shmds::backing::anonymous(), 1, 3);
    EXPECT_THROW(s.try_alloc_set_bytes("long"), shmds::error);  // -E2BIG
    auto i = s.alloc_set_bytes(std::string("\0z", 2), 0ms);
    ASSERT_TRUE(i);
    EXPECT_EQ(std::string("\0z", 2), s.get_bytes(*i));
    EXPECT_FALSE(s.try_alloc_set_bytes("x"));
}

TEST(PoolCpp, TheGuardFreesAtScopeEndButNotInAForkChild) {
    auto p = shmds::pool::create_of<double>(shmds::backing::anonymous(), 2);
    {
        auto g = p.alloc_guard();
        p.set<double>(g.index(), 1.5);
        EXPECT_EQ(1u, p.used());
    }
    EXPECT_EQ(0u, p.used());
    auto g = p.alloc_guard(10ms);
    ASSERT_TRUE(g);
    // A child inherits the guard; its exit (which runs the destructor) frees nothing.
    run_child_ok([&] {
        { shmds::pool::slot_guard moved(std::move(*g)); }
        return 0;
    });
    EXPECT_EQ(1u, p.used());
    const std::uint64_t kept = g->release();
    g.reset();
    EXPECT_TRUE(p.is_allocated(kept));
    std::size_t seen = 0;
    p.for_each_allocated([&](std::uint64_t i, pid_t pid) {
        EXPECT_EQ(kept, i);
        EXPECT_EQ(getpid(), pid);
        ++seen;
    });
    EXPECT_EQ(1u, seen);
}

}  // namespace
