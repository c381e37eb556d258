// What the cache suites share: an owning handle, creation with a readable failure, a
// stepped clock, and string-shaped accessors over the C API.
#pragma once

#include "support/proc.hpp"

#include <shmds/cache.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace shmds::test::cache {

struct CacheCloser {
    void operator()(shmds_cache_t *c) const noexcept { shmds_cache_close(c); }
};
using CachePtr = std::unique_ptr<shmds_cache_t, CacheCloser>;

inline shmds_cache_config_t config(std::uint64_t page_size, std::uint64_t num_pages,
                                   std::uint64_t start_slots = 0, std::uint64_t spares = 0,
                                   std::uint64_t default_expire_ms = 0) {
    shmds_cache_config_t c = SHMDS_CACHE_CONFIG_INIT;
    c.page_size = page_size;
    c.num_pages = num_pages;
    c.start_slots = start_slots;
    c.spare_frames = spares;
    c.default_expire_ms = default_expire_ms;
    return c;
}

inline CachePtr make_cache(const shmds_cache_config_t &c, const shmds_options_t *opts = nullptr) {
    shmds_cache_t *h = nullptr;
    const int rc = shmds_cache_create(opts, &c, &h);
    EXPECT_EQ(0, rc) << shmds_errname(rc) << ": " << shmds_last_error();
    return CachePtr(h);
}

inline int set(shmds_cache_t *c, const std::string &k, const std::string &v,
               std::uint64_t expire_ms = SHMDS_CACHE_EXPIRE_DEFAULT) {
    return shmds_cache_set(c, k.data(), k.size(), v.data(), v.size(), expire_ms);
}

// The value, nullopt on a miss; any other code fails the test.
inline std::optional<std::string> get(shmds_cache_t *c, const std::string &k) {
    std::string buf(256, '\0');
    for (;;) {
        std::size_t len = 0;
        const int rc = shmds_cache_get(c, k.data(), k.size(), buf.data(), buf.size(), &len);
        if (rc == -ENOENT) return std::nullopt;
        if (rc == -ENOBUFS) {
            buf.resize(len);
            continue;
        }
        EXPECT_EQ(0, rc) << shmds_errname(rc) << ": " << shmds_last_error();
        if (rc != 0) return std::nullopt;
        buf.resize(len);
        return buf;
    }
}

inline shmds_cache_stats_t stats(shmds_cache_t *c, bool clear = false) {
    shmds_cache_stats_t s{};
    s.struct_size = sizeof s;
    EXPECT_EQ(0, shmds_cache_stats(c, &s, clear ? 1 : 0)) << shmds_last_error();
    return s;
}

// A clock the tests step (shmds_cache_set_clock).
struct SteppedClock {
    std::uint64_t now_ms = 1'700'000'000'000ull;
    static std::uint64_t read(void *self) { return static_cast<SteppedClock *>(self)->now_ms; }
    void attach(shmds_cache_t *c) { ASSERT_EQ(0, shmds_cache_set_clock(c, &read, this)); }
};

}  // namespace shmds::test::cache
