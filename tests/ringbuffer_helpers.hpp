// What the ring buffer suites share: an owning pointer for handles, a creator that
// fails the test with the library's sentence, stats, and the raw slot of a sequence
// (for the tests that play a stalled writer or a hostile peer).
#pragma once

#include "support/proc.hpp"

#include "ringbuffer/layout.hpp"
#include "ringbuffer/ringbuffer.hpp"

#include <shmds/ringbuffer.h>

#include <cstdint>
#include <memory>

namespace shmds::test {

struct RingCloser {
    void operator()(shmds_ringbuffer_t *r) const noexcept { shmds_ringbuffer_close(r); }
};
using RingPtr = std::unique_ptr<shmds_ringbuffer_t, RingCloser>;

inline RingPtr make_ring(int type, std::uint64_t capacity, const shmds_options_t *opts = nullptr) {
    shmds_ringbuffer_config_t cfg = SHMDS_RINGBUFFER_CONFIG_INIT(type, capacity);
    shmds_ringbuffer_t *r = nullptr;
    int rc = shmds_ringbuffer_create(opts, &cfg, &r);
    EXPECT_EQ(0, rc) << shmds_errname(rc) << ": " << shmds_last_error();
    return RingPtr(r);
}

inline shmds_ringbuffer_stats_t ring_stats(shmds_ringbuffer_t *r) {
    shmds_ringbuffer_stats_t s{};
    s.struct_size = sizeof s;
    EXPECT_EQ(0, shmds_ringbuffer_stats(r, &s));
    return s;
}

// The shared slot that holds (or will hold) sequence `seq` (a C handle is its engine).
inline ringbuffer::Slot *raw_slot(shmds_ringbuffer_t *r, std::uint64_t seq) {
    auto *e = reinterpret_cast<ringbuffer::RingBuffer *>(r);
    ringbuffer::Geometry g;
    EXPECT_EQ(0, ringbuffer::compute_geometry(std::uint32_t(e->elem_type()), e->capacity(), g));
    return reinterpret_cast<ringbuffer::Slot *>(e->segment().base() + g.slots_off) +
           seq % g.capacity;
}

}  // namespace shmds::test
