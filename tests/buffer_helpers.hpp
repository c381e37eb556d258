// What the buffer suites share: an owning pointer, a creator that fails the test with
// the library's sentence, and stats.
#pragma once

#include "support/proc.hpp"

#include <shmds/buffer.h>

#include <cstdint>
#include <memory>

namespace shmds::test {

struct BufferCloser {
    void operator()(shmds_buffer_t *b) const noexcept { shmds_buffer_close(b); }
};
using BufferPtr = std::unique_ptr<shmds_buffer_t, BufferCloser>;

inline BufferPtr make_buffer(int type, std::uint64_t length, std::uint64_t width = 0,
                             const shmds_options_t *opts = nullptr) {
    shmds_buffer_config_t cfg = SHMDS_BUFFER_CONFIG_INIT(type, length, width);
    shmds_buffer_t *b = nullptr;
    const int rc = shmds_buffer_create(opts, &cfg, &b);
    EXPECT_EQ(0, rc) << shmds_errname(rc) << ": " << shmds_last_error();
    return BufferPtr(b);
}

inline shmds_buffer_stats_t buffer_stats(shmds_buffer_t *b) {
    shmds_buffer_stats_t s{};
    s.struct_size = sizeof s;
    EXPECT_EQ(0, shmds_buffer_stats(b, &s));
    return s;
}

}  // namespace shmds::test
