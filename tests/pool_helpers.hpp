// What the pool suites share: an owning pointer for handles, a creator that fails the
// test with the library's sentence, stats, and the raw owner word of a slot (for the
// tests that play a dead owner or a hostile peer).
#pragma once

#include "support/proc.hpp"

#include "pool/layout.hpp"
#include "pool/pool.hpp"

#include <shmds/pool.h>

#include <cstdint>
#include <memory>

namespace shmds::test {

struct PoolCloser {
    void operator()(shmds_pool_t *p) const noexcept { shmds_pool_close(p); }
};
using PoolPtr = std::unique_ptr<shmds_pool_t, PoolCloser>;

inline PoolPtr make_pool(int variant, std::uint64_t capacity, std::uint64_t elem_size = 0,
                         const shmds_options_t *opts = nullptr) {
    shmds_pool_config_t cfg = SHMDS_POOL_CONFIG_INIT(variant, capacity, elem_size);
    shmds_pool_t *p = nullptr;
    const int rc = shmds_pool_create(opts, &cfg, &p);
    EXPECT_EQ(0, rc) << shmds_errname(rc) << ": " << shmds_last_error();
    return PoolPtr(p);
}

inline shmds_pool_stats_t pool_stats(shmds_pool_t *p) {
    shmds_pool_stats_t s{};
    s.struct_size = sizeof s;
    EXPECT_EQ(0, shmds_pool_stats(p, &s));
    return s;
}

// Slot i's owner word in shared memory (a C handle is its engine).
inline pool::OwnerWord &owner_word(shmds_pool_t *p, std::uint64_t i) {
    auto *e = reinterpret_cast<pool::Pool *>(p);
    return reinterpret_cast<pool::OwnerWord *>(e->segment().base() + e->geometry().owners_off)[i];
}

}  // namespace shmds::test
