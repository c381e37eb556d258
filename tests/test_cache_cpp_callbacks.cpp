// The C++ veneer's callbacks (shmds/cache.hpp): std::function read_cb / write_cb /
// delete_cb reach the C rules, get_and_set and empty(); an exception a callback throws
// releases the page lock, keeps the old value and reaches the caller unchanged; the
// callbacks survive a move of the cache object. The rules themselves are tested through
// the C API in test_cache_callbacks*.cpp.
#include "support/proc.hpp"

#include <shmds/cache.hpp>
#include <shmds/shmds.hpp>

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <stdexcept>
#include <string>

namespace {

using namespace shmds::test;
using namespace std::chrono_literals;
using shmds::cache;

cache small_cache(std::uint64_t pages = 4) {
    auto cfg = cache::config();
    cfg.page_size = 4096;
    cfg.num_pages = pages;
    return cache::create(shmds::backing::anonymous(), cfg);
}

struct Backing {
    std::map<std::string, std::string> data;
    int reads = 0, writes = 0, deletes = 0;

    cache::callbacks callbacks(bool write_back = false) {
        cache::callbacks cb;
        cb.read_cb = [this](std::string_view k) -> std::optional<cache::loaded> {
            ++reads;
            auto it = data.find(std::string(k));
            if (it == data.end()) return std::nullopt;
            return it->second;
        };
        cb.write_cb = [this](std::string_view k, std::string_view v, std::uint64_t) {
            ++writes;
            data[std::string(k)] = std::string(v);
        };
        cb.delete_cb = [this](std::string_view k) {
            ++deletes;
            data.erase(std::string(k));
        };
        cb.write_back = write_back;
        return cb;
    }
};

// Another thread can take the key's page lock within 5 s.
void expect_lock_free(cache &c, const std::string &k) {
    auto other = std::async(std::launch::async, [&] { return c.set(k, "other"); });
    ASSERT_EQ(std::future_status::ready, other.wait_for(5s)) << "the page lock was kept";
    EXPECT_TRUE(other.get());
}

TEST(CacheCppCallbacks, ReadWriteAndDeleteCallbacksFollowTheCRules) {
    cache c = small_cache();
    Backing b;
    b.data["k"] = "from-store";
    c.set_callbacks(b.callbacks());
    EXPECT_EQ("from-store", c.get("k"));
    EXPECT_EQ("from-store", c.get("k"));
    EXPECT_EQ(1, b.reads);
    EXPECT_EQ(std::nullopt, c.get("absent"));
    EXPECT_TRUE(c.set("w", "1"));
    EXPECT_EQ(1, b.writes);
    EXPECT_TRUE(c.remove("w"));
    EXPECT_EQ(1, b.deletes);
    EXPECT_EQ(0u, b.data.count("w"));
    c.clear_callbacks();
    EXPECT_TRUE(c.set("x", "2"));
    EXPECT_EQ(1, b.writes);
}

TEST(CacheCppCallbacks, WriteBackAndEmpty) {
    cache c = small_cache();
    Backing b;
    c.set_callbacks(b.callbacks(true));
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(c.set("k" + std::to_string(i), "v"));
    EXPECT_EQ(0, b.writes);
    EXPECT_EQ(std::uint32_t(SHMDS_CACHE_FLAG_DIRTY), c.get_keys(cache::key_detail::meta)[0].flags);
    c.empty();
    EXPECT_EQ(10, b.writes);
    EXPECT_EQ(0u, c.stats().items);
}

// The destructor closes the handle while the std::functions are alive, so
// SHMDS_CACHE_EMPTY_ON_EXIT writes dirty items back through them (the anchor's t/7).
TEST(CacheCppCallbacks, EmptyOnExitWritesBackThroughTheCallbacksAtDestruction) {
    Backing b;
    {
        auto cfg = cache::config();
        cfg.page_size = 4096;
        cfg.num_pages = 4;
        cfg.lifecycle = SHMDS_CACHE_EMPTY_ON_EXIT;
        cache c = cache::create(shmds::backing::anonymous(), cfg);
        c.set_callbacks(b.callbacks(true));
        for (int i = 0; i < 5; ++i) EXPECT_TRUE(c.set("k" + std::to_string(i), "v"));
        EXPECT_EQ(0, b.writes);
    }
    EXPECT_EQ(5, b.writes);
    EXPECT_EQ("v", b.data["k4"]);
}

TEST(CacheCppCallbacks, ReadCbGivesAnExpiry) {
    cache c = small_cache();
    struct Clock {
        std::uint64_t now = 1'700'000'000'000ull;
        static std::uint64_t read(void *p) { return static_cast<Clock *>(p)->now; }
    } clock;
    c.set_clock(&Clock::read, &clock);
    int reads = 0;
    cache::callbacks cb;
    cb.read_cb = [&](std::string_view) -> std::optional<cache::loaded> {
        ++reads;
        return cache::loaded("v", std::chrono::seconds(1));
    };
    c.set_callbacks(std::move(cb));
    EXPECT_EQ("v", c.get("k"));
    clock.now += 999;
    EXPECT_EQ("v", c.get("k"));
    clock.now += 1;
    EXPECT_EQ("v", c.get("k"));
    EXPECT_EQ(2, reads);
}

TEST(CacheCppCallbacks, GetAndSetIncrementsDeclinesAndKeepsTheExpiry) {
    cache c = small_cache();
    auto inc = [](std::optional<std::string_view> v) -> std::optional<std::string> {
        return std::to_string((v ? std::stoi(std::string(*v)) : 0) + 1);
    };
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(c.get_and_set("n", inc));
    EXPECT_EQ("3", c.get("n"));
    EXPECT_FALSE(c.get_and_set("n", [](std::optional<std::string_view>) {
        return std::optional<std::string>();
    }));
    EXPECT_EQ("3", c.get("n"));
    EXPECT_TRUE(c.set("t", "1", std::chrono::hours(1)));
    auto expiry_of_t = [&] {
        for (const auto &e : c.get_keys(cache::key_detail::meta))
            if (e.key == "t") return e.expire_on_ms;
        return std::uint64_t(0);
    };
    const std::uint64_t before = expiry_of_t();
    EXPECT_TRUE(c.get_and_set("t", inc));
    EXPECT_EQ(before, expiry_of_t());  // a plain value keeps the item's expiry
    EXPECT_TRUE(c.get_and_set("t", [](std::optional<std::string_view>) {
        return std::optional<cache::loaded>(cache::loaded("x", shmds::cache_expiry::never()));
    }));
    EXPECT_EQ(0u, expiry_of_t());
    EXPECT_FALSE(c.get_and_set("big", [](std::optional<std::string_view>) {
        return std::optional<std::string>(std::string(5000, 'b'));
    }));
}

// An exception thrown in any callback releases the page lock, keeps the old value and
// reaches the caller as thrown.
TEST(CacheCppCallbacks, AnExceptionInACallbackReleasesTheLockAndPropagates) {
    cache c = small_cache(1);
    EXPECT_TRUE(c.set("k", "old"));
    EXPECT_THROW(c.get_and_set("k",
                               [](std::optional<std::string_view>) -> std::optional<std::string> {
                                   throw std::runtime_error("update failed");
                               }),
                 std::runtime_error);
    EXPECT_EQ("old", c.get("k"));
    expect_lock_free(c, "k");

    cache::callbacks cb;
    bool fail = true;
    cb.read_cb = [&](std::string_view) -> std::optional<cache::loaded> {
        if (fail) throw std::logic_error("store down");
        return std::string("fresh");
    };
    cb.write_cb = [&](std::string_view, std::string_view, std::uint64_t) {
        if (fail) throw std::range_error("write refused");
    };
    cb.delete_cb = [&](std::string_view) {
        if (fail) throw std::length_error("delete refused");
    };
    c.set_callbacks(std::move(cb));
    EXPECT_THROW(c.get("absent"), std::logic_error);
    EXPECT_THROW(c.set("other", "new"), std::range_error);
    EXPECT_EQ("other", c.get("k"));
    EXPECT_THROW(c.remove("k"), std::length_error);
    EXPECT_EQ("other", c.get("k"));  // kept
    fail = false;
    expect_lock_free(c, "k");
    EXPECT_EQ("fresh", c.get("absent"));
    // A cache error from inside a callback (re-entrancy) propagates as shmds::error.
    cache::callbacks re;
    re.read_cb = [&](std::string_view) -> std::optional<cache::loaded> {
        c.get("k");  // refused: -EDEADLK
        return std::string("unreached");
    };
    c.set_callbacks(std::move(re));
    try {
        c.get("nested");
        FAIL() << "the nested call was not refused";
    } catch (const shmds::error &e) {
        EXPECT_EQ(-EDEADLK, e.value());
        EXPECT_NE(std::string::npos, std::string(e.what()).find("from inside a callback"));
    }
}

TEST(CacheCppCallbacks, CallbacksSurviveAMove) {
    cache a = small_cache();
    Backing b;
    b.data["k"] = "v";
    a.set_callbacks(b.callbacks());
    cache moved(std::move(a));
    EXPECT_EQ("v", moved.get("k"));
    cache assigned = small_cache();
    assigned = std::move(moved);
    EXPECT_TRUE(assigned.set("w", "1"));
    EXPECT_EQ(1, b.reads);
    EXPECT_EQ(1, b.writes);
}

}  // namespace
