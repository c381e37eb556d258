// The ring buffer against a sequential model (a std::deque of the last `capacity`
// writes): random writes, batch writes, reads by sequence and by distance, window
// copies and every gauge, over random capacities and integer types. The seed is
// printed; SHMDS_TEST_SEED=<seed> replays a run.
#include "ringbuffer_helpers.hpp"

#include <shmds/shmds.h>

#include <cerrno>
#include <cstdint>
#include <deque>
#include <random>
#include <utility>
#include <vector>

using namespace shmds::test;

namespace {

struct Model {
    std::uint64_t capacity;
    std::uint64_t head = 0;
    std::deque<std::pair<std::uint64_t, std::int64_t>> window;  // (seq, value), oldest first

    std::uint64_t write(std::int64_t v) {
        window.emplace_back(head, v);
        if (window.size() > capacity) window.pop_front();
        return head++;
    }
    // 0 with *v, -EAGAIN (not written) or -ENOENT (overwritten): read_seq's outcomes.
    int read(std::uint64_t seq, std::int64_t *v) const {
        if (seq >= head) return -EAGAIN;
        if (window.empty() || seq < window.front().first) return -ENOENT;
        *v = window[seq - window.front().first].second;
        return 0;
    }
};

void run_one(std::mt19937_64 &rng, int type, std::uint64_t capacity, int steps) {
    SCOPED_TRACE(std::string(shmds_type_name(type)) + " capacity " + std::to_string(capacity));
    auto ring = make_ring(type, capacity);
    shmds_ringbuffer_t *r = ring.get();
    Model m{capacity};
    const int bits = shmds_type_size(type) * 8;
    const bool is_unsigned = type >= SHMDS_TYPE_UINT8;
    const std::int64_t hi = bits == 64 ? INT64_MAX
                                       : (is_unsigned ? (std::int64_t(1) << bits) - 1
                                                      : (std::int64_t(1) << (bits - 1)) - 1);
    const std::int64_t lo = is_unsigned ? 0 : -hi - 1;
    std::uniform_int_distribution<std::int64_t> value(lo, hi);
    std::vector<std::int64_t> buf(2 * capacity + 4);
    std::vector<std::uint64_t> seqs(buf.size());
    for (int step = 0; step < steps; ++step) {
        const int op = int(rng() % 100);
        if (op < 40) {
            const std::int64_t v = value(rng);
            std::uint64_t seq = ~0ull;
            ASSERT_EQ(0, shmds_ringbuffer_write_int(r, v, &seq)) << shmds_last_error();
            ASSERT_EQ(m.write(v), seq);
        } else if (op < 50) {
            const std::size_t n = std::size_t(rng() % (2 * capacity + 2));
            for (std::size_t i = 0; i < n; ++i) buf[i] = value(rng);
            std::uint64_t first = ~0ull;
            ASSERT_EQ(0, shmds_ringbuffer_write_multi_int(r, buf.data(), n, &first));
            ASSERT_EQ(m.head, first);
            for (std::size_t i = 0; i < n; ++i) m.write(buf[i]);
        } else if (op < 70) {
            const std::uint64_t seq = rng() % (m.head + 4);
            std::int64_t got = 0, want = 0;
            const int rc = shmds_ringbuffer_read_seq_int(r, seq, &got);
            ASSERT_EQ(m.read(seq, &want), rc) << "seq " << seq << " head " << m.head;
            if (rc == 0) { ASSERT_EQ(want, got) << "seq " << seq; }
        } else if (op < 85) {
            const std::uint64_t n = rng() % (capacity + 3);
            std::int64_t got = 0, want = 0;
            std::uint64_t seq = ~0ull;
            const int rc = shmds_ringbuffer_latest_int(r, n, &got, &seq);
            if (n >= m.head) {
                ASSERT_EQ(-EAGAIN, rc) << n;
                continue;
            }
            ASSERT_EQ(m.head - 1 - n, seq);
            ASSERT_EQ(m.read(seq, &want), rc) << n;
            if (rc == 0) { ASSERT_EQ(want, got); }
        } else if (op < 95) {
            const std::size_t max = std::size_t(rng() % (capacity + 2));
            std::size_t count = 0;
            const int rc = shmds_ringbuffer_to_list_int(r, buf.data(), seqs.data(), max, &count);
            ASSERT_EQ(m.window.size(), count);
            if (max < m.window.size()) {
                ASSERT_EQ(-ENOBUFS, rc);
                continue;
            }
            ASSERT_EQ(0, rc);
            for (std::size_t i = 0; i < count; ++i) {
                ASSERT_EQ(m.window[i].first, seqs[i]) << i;
                ASSERT_EQ(m.window[i].second, buf[i]) << i;
            }
        } else {
            ASSERT_EQ(m.head, shmds_ringbuffer_head(r));
            ASSERT_EQ(m.head, shmds_ringbuffer_count(r));
            ASSERT_EQ(m.window.size(), shmds_ringbuffer_size(r));
            ASSERT_EQ(m.head - m.window.size(), shmds_ringbuffer_overwrites(r));
            const shmds_ringbuffer_stats_t s = ring_stats(r);
            ASSERT_EQ(m.head, s.count);
            ASSERT_EQ(m.window.size(), s.size);
            ASSERT_EQ(0u, s.stale_writes);  // one process: nobody is ever lapped
        }
    }
}

}  // namespace

TEST(RingBufferOracle, RandomOperationsMatchTheModel) {
    const std::uint64_t seed = test_seed();
    std::mt19937_64 rng(seed);
    const int types[] = {SHMDS_TYPE_INT8,  SHMDS_TYPE_INT16,  SHMDS_TYPE_INT32,
                         SHMDS_TYPE_INT64, SHMDS_TYPE_UINT8,  SHMDS_TYPE_UINT16,
                         SHMDS_TYPE_UINT32, SHMDS_TYPE_UINT64};
    for (int round = 0; round < 40; ++round) {
        const int type = types[rng() % 8];
        const std::uint64_t capacity = 1 + rng() % (round % 4 == 0 ? 300 : 9);
        run_one(rng, type, capacity, 2000);
        if (HasFatalFailure()) return;
    }
}
