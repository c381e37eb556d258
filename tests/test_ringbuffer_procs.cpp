// The ring buffer across processes: 4 writer processes with distinct values and 4
// reader processes reading concurrently (latest, read_seq, to_list). Every value a
// reader accepts must be exactly the one written under that sequence (writers log
// the sequence each write got; the check runs after), never zero or torn; the writers'
// sequences are all distinct and gapless; after the writers the last `capacity`
// sequences read back exactly, with the exact sum. The seed is printed.
#include "ringbuffer_helpers.hpp"

#include <shmds/shmds.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

using namespace shmds::test;

namespace {

constexpr int kWriters = 4;
constexpr int kReaders = 4;
constexpr std::uint64_t kPerWriter = 20000;
constexpr std::uint64_t kCap = 256;
constexpr std::size_t kMaxSeen = 200000;  // observations logged per reader

std::int64_t value_of(int w, std::uint64_t i) { return std::int64_t((std::uint64_t(w + 1) << 40) | (i + 1)); }

struct Seen {
    std::uint64_t seq;
    std::int64_t value;
};

// Shared between the processes (MAP_SHARED before fork).
struct Board {
    std::atomic<int> writers_done;
    std::atomic<int> readers_seeing;  // readers that accepted a value so far
    std::atomic<int> failures;
    std::uint64_t seq_of[kWriters][kPerWriter];  // the sequence each write got
    std::uint64_t seen_count[kReaders];
    Seen seen[kReaders][kMaxSeen];
};

int writer(shmds_ringbuffer_t *r, Board *b, int w, std::uint64_t seed) {
    std::mt19937_64 rng(seed + std::uint64_t(w));
    bool waited = false;
    for (std::uint64_t i = 0; i < kPerWriter;) {
        // Halfway, wait until every reader has accepted a value, so reads overlap the
        // writes even when the scheduler ran the writers first.
        if (!waited && i >= kPerWriter / 2) {
            wait_until([&] { return b->readers_seeing.load() == kReaders; }, 10s);
            waited = true;
        }
        if (rng() % 8 == 0 && i + 3 <= kPerWriter) {  // a batch now and then
            const std::int64_t vals[] = {value_of(w, i), value_of(w, i + 1), value_of(w, i + 2)};
            std::uint64_t first;
            CHILD_CHECK(shmds_ringbuffer_write_multi_int(r, vals, 3, &first) == 0);
            for (int k = 0; k < 3; ++k) b->seq_of[w][i + k] = first + k;
            i += 3;
        } else {
            CHILD_CHECK(shmds_ringbuffer_write_int(r, value_of(w, i), &b->seq_of[w][i]) == 0);
            ++i;
        }
    }
    b->writers_done.fetch_add(1);
    return 0;
}

int reader(shmds_ringbuffer_t *r, Board *b, int id, std::uint64_t seed) {
    std::mt19937_64 rng(seed * 31 + std::uint64_t(id));
    std::size_t n = 0;
    auto note = [&](std::uint64_t seq, std::int64_t v) {
        CHILD_CHECK(v != 0);
        const std::uint64_t w = std::uint64_t(v) >> 40, i = (std::uint64_t(v) & ((1ull << 40) - 1));
        CHILD_CHECK(w >= 1 && w <= kWriters && i >= 1 && i <= kPerWriter);
        if (n < kMaxSeen) b->seen[id][n++] = Seen{seq, v};
        if (n == 1) b->readers_seeing.fetch_add(1);
    };
    std::vector<std::int64_t> list(kCap);
    std::vector<std::uint64_t> seqs(kCap);
    while (b->writers_done.load() < kWriters) {
        std::int64_t v;
        std::uint64_t seq;
        switch (rng() % 3) {
            case 0:
                if (shmds_ringbuffer_latest_int(r, rng() % (kCap + 8), &v, &seq) == 0) note(seq, v);
                break;
            case 1: {
                const std::uint64_t h = shmds_ringbuffer_head(r);
                seq = h > kCap ? h - kCap + rng() % (kCap + 4) : rng() % (kCap + 4);
                const int rc = shmds_ringbuffer_read_seq_int(r, seq, &v);
                CHILD_CHECK(rc == 0 || rc == -EAGAIN || rc == -ENOENT);
                if (rc == 0) note(seq, v);
                break;
            }
            default: {
                std::size_t got = 0;
                CHILD_CHECK(shmds_ringbuffer_to_list_int(r, list.data(), seqs.data(), kCap, &got) == 0);
                for (std::size_t k = 0; k < got; ++k) {
                    if (k) CHILD_CHECK(seqs[k - 1] < seqs[k]);
                    note(seqs[k], list[k]);
                }
            }
        }
    }
    b->seen_count[id] = n;
    return 0;
}

}  // namespace

TEST(RingBufferProcs, FourWritersFourReadersNoTornNoForeignValue) {
    SKIP_IF_WIDE_ATOMICS_ARE_PROCESS_LOCAL();
    const std::uint64_t seed = test_seed();
    auto ring = make_ring(SHMDS_TYPE_INT64, kCap);
    shmds_ringbuffer_t *r = ring.get();
    void *mem = mmap(nullptr, sizeof(Board), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                     -1, 0);
    ASSERT_NE(MAP_FAILED, mem);
    auto *b = new (mem) Board();
    std::vector<pid_t> pids;
    for (int id = 0; id < kReaders; ++id)
        pids.push_back(fork_child([&, id] { return reader(r, b, id, seed); }));
    for (int w = 0; w < kWriters; ++w)
        pids.push_back(fork_child([&, w] { return writer(r, b, w, seed); }));
    for (pid_t p : pids) {
        const ChildExit e = wait_child(p, std::chrono::seconds(90));
        ASSERT_TRUE(e.exited && e.code == 0) << e.describe();
    }

    // Every write got its own sequence, and together they are exactly 0 .. total-1.
    constexpr std::uint64_t kTotal = kWriters * kPerWriter;
    ASSERT_EQ(kTotal, shmds_ringbuffer_count(r));
    std::vector<std::int64_t> value_at(kTotal, 0);
    for (int w = 0; w < kWriters; ++w)
        for (std::uint64_t i = 0; i < kPerWriter; ++i) {
            const std::uint64_t s = b->seq_of[w][i];
            ASSERT_LT(s, kTotal);
            ASSERT_EQ(0, value_at[s]) << "sequence " << s << " given twice";
            value_at[s] = value_of(w, i);
        }
    // Every value a reader accepted is the one written under its sequence.
    std::uint64_t checked = 0;
    for (int id = 0; id < kReaders; ++id)
        for (std::uint64_t k = 0; k < b->seen_count[id]; ++k) {
            const Seen &s = b->seen[id][k];
            ASSERT_LT(s.seq, kTotal);
            ASSERT_EQ(value_at[s.seq], s.value) << "reader " << id << " seq " << s.seq;
            ++checked;
        }
    EXPECT_GT(checked, 0u);
    // The last capacity sequences read back exactly.
    std::vector<std::int64_t> list(kCap);
    std::vector<std::uint64_t> seqs(kCap);
    std::size_t n = 0;
    ASSERT_EQ(0, shmds_ringbuffer_to_list_int(r, list.data(), seqs.data(), kCap, &n));
    ASSERT_EQ(kCap, n);
    std::int64_t sum = 0, want = 0;
    for (std::size_t k = 0; k < n; ++k) {
        ASSERT_EQ(kTotal - kCap + k, seqs[k]);
        ASSERT_EQ(value_at[seqs[k]], list[k]);
        sum += list[k];
        want += value_at[kTotal - kCap + k];
    }
    EXPECT_EQ(want, sum);
    const shmds_ringbuffer_stats_t st = ring_stats(r);
    RecordProperty("stale_writes", std::to_string(st.stale_writes));
    RecordProperty("values_checked", std::to_string(checked));
    munmap(mem, sizeof(Board));
}
