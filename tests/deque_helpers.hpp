// What the deque and stack tests share: handles that close themselves and creation
// that fails the test with the library's sentence.
#pragma once

#include "support/proc.hpp"

#include <shmds/deque.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>

namespace deque_test {

struct DequeCloser {
    void operator()(shmds_deque_t *d) const noexcept { shmds_deque_close(d); }
};
using DequePtr = std::unique_ptr<shmds_deque_t, DequeCloser>;

inline DequePtr make_deque(int type, std::uint64_t capacity, std::uint64_t max_len = 0,
                           const shmds_options_t *opts = nullptr) {
    shmds_deque_config_t cfg = SHMDS_DEQUE_CONFIG_INIT(type, capacity);
    cfg.max_len = max_len;
    shmds_deque_t *d = nullptr;
    const int rc = shmds_deque_create(opts, &cfg, &d);
    EXPECT_EQ(0, rc) << shmds_errname(rc) << ": " << shmds_last_error();
    return DequePtr(d);
}

inline shmds_options_t path_options(const shmds::test::TempPath &p, std::uint32_t flags = 0) {
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = p.c_str();
    o.flags = flags;
    return o;
}

inline shmds_deque_stats_t stats_of(shmds_deque_t *d) {
    shmds_deque_stats_t s{};
    s.struct_size = sizeof s;
    const int rc = shmds_deque_stats(d, &s);
    EXPECT_EQ(0, rc) << shmds_last_error();
    return s;
}

constexpr int F = SHMDS_DEQUE_FRONT;
constexpr int B = SHMDS_DEQUE_BACK;

}  // namespace deque_test
