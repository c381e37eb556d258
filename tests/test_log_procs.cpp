// The log across processes: four appenders and four readers at once. Every entry a
// reader sees is whole (its checksum holds), no entry is seen twice by one reader, every
// reader sees each appender's entries in order, and the final log holds exactly the
// entries appended.
#include "log_helpers.hpp"
#include "log_payload.hpp"

#include <set>
#include <sys/mman.h>

using namespace shmds::test;
using namespace shmds::test::logt;

namespace {

constexpr int kWriters = 4;
constexpr int kReaders = 4;
constexpr std::uint32_t kPerWriter = 50000;

TEST(LogProcs, FourAppendersFourReadersSeeWholeUniqueEntries) {
    LogPtr l = make_log(std::uint64_t{kWriters} * kPerWriter * 136);
    std::vector<pid_t> pids;
    for (int w = 0; w < kWriters; ++w)
        pids.push_back(fork_child([&, w] {
            for (std::uint32_t i = 0; i < kPerWriter; ++i) {
                const std::string s = encode_payload(std::uint32_t(w) + 1, i);
                if (i % 16 == 15 && i + 1 < kPerWriter) {  // a batch of two now and then
                    const std::string t = encode_payload(std::uint32_t(w) + 1, ++i);
                    const void *datas[] = {s.data(), t.data()};
                    const std::size_t lens[] = {s.size(), t.size()};
                    if (shmds_log_append_multi(l.get(), datas, lens, 2, nullptr) != 0) return 1;
                    continue;
                }
                if (shmds_log_append(l.get(), s.data(), s.size(), nullptr) != 0) return 1;
            }
            return 0;
        }));
    const std::uint64_t total = std::uint64_t{kWriters} * kPerWriter;
    for (int r = 0; r < kReaders; ++r)
        pids.push_back(fork_child([&] {
            shmds_log_cursor_t c;
            if (shmds_log_cursor_init(l.get(), &c, 0) != 0) return 10;
            std::vector<std::uint32_t> next(kWriters + 1, 0);
            std::uint64_t seen = 0;
            char buf[256];
            while (seen < total) {
                std::size_t len = 0;
                const int rc = shmds_log_cursor_next(l.get(), &c, buf, sizeof buf, &len, nullptr);
                if (rc == -EAGAIN) {
                    if (shmds_log_wait_for(l.get(), seen, 2'000'000'000) != 0) return 11;
                    continue;
                }
                if (rc != 0) return 12;
                Payload p;
                if (!decode_payload(buf, len, &p)) return 13;  // torn or foreign
                if (p.writer < 1 || p.writer > kWriters) return 14;
                if (p.counter != next[p.writer]) return 15;  // duplicate, gap or reorder
                ++next[p.writer];
                ++seen;
            }
            return shmds_log_entry_count(l.get()) == total ? 0 : 16;
        }));
    for (pid_t pid : pids) {
        const ChildExit e = wait_child(pid, 120s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    // The final log: exactly the appended set.
    EXPECT_EQ(total, shmds_log_entry_count(l.get()));
    std::set<std::pair<std::uint32_t, std::uint32_t>> all;
    std::int64_t n = shmds_log_each_entry(
        l.get(), 0,
        [](const void *d, size_t len, uint64_t, void *ctx) {
            Payload p;
            if (!decode_payload(d, len, &p)) return 1;
            static_cast<std::set<std::pair<std::uint32_t, std::uint32_t>> *>(ctx)->insert(
                {p.writer, p.counter});
            return 0;
        },
        &all, nullptr);
    EXPECT_EQ(std::int64_t(total), n);
    EXPECT_EQ(total, all.size());
    EXPECT_EQ(1u, all.begin()->first);
    using Id = std::pair<std::uint32_t, std::uint32_t>;
    EXPECT_EQ(Id(kWriters, kPerWriter - 1), *all.rbegin());
    EXPECT_EQ(0u, stats(l.get()).recoveries);
}

// Readers racing resets never take new-epoch bytes for an old entry: every read either
// returns a whole entry of the epoch it began in or -ESTALE.
TEST(LogProcs, ReadersRacingResetsSeeWholeEntriesOrStale) {
    LogPtr l = make_log(1 << 14);
    auto *stop = static_cast<std::atomic<int> *>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                                                      MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(MAP_FAILED, static_cast<void *>(stop));
    stop->store(0);
    const pid_t writer = fork_child([&] {
        // Each epoch, entries of one generation; a reset between generations. At least
        // 400 generations and half a second, so the readers race many resets.
        const auto start = std::chrono::steady_clock::now();
        for (std::uint32_t gen = 1; gen <= 400 || ms_since(start) < 500; ++gen) {
            for (std::uint32_t i = 0; i < 60; ++i) {
                const std::string s = encode_payload(gen, i);
                if (shmds_log_append(l.get(), s.data(), s.size(), nullptr) != 0) break;
            }
            if (shmds_log_reset(l.get()) != 0) return 1;
        }
        stop->store(1);
        return 0;
    });
    std::vector<pid_t> readers;
    for (int r = 0; r < 3; ++r)
        readers.push_back(fork_child([&] {
            char buf[256];
            std::uint64_t ok = 0, stale = 0;
            while (stop->load() == 0) {
                shmds_log_cursor_t c;
                if (shmds_log_cursor_init(l.get(), &c, 0) != 0) continue;
                std::uint32_t gen = 0, expect = 0;
                for (;;) {
                    std::size_t len = 0;
                    const int rc =
                        shmds_log_cursor_next(l.get(), &c, buf, sizeof buf, &len, nullptr);
                    if (rc == -ESTALE) {
                        ++stale;
                        break;
                    }
                    if (rc == -EAGAIN) {
                        if (stop->load() != 0) break;
                        continue;
                    }
                    if (rc != 0) return 20;
                    Payload p;
                    if (!decode_payload(buf, len, &p)) return 21;
                    if (gen == 0) gen = p.writer;
                    if (p.writer != gen || p.counter != expect) return 22;  // mixed epochs
                    ++expect;
                    ++ok;
                }
            }
            return ok > 0 && stale > 0 ? 0 : 23;
        }));
    EXPECT_TRUE(wait_child(writer, 60s).exited);
    for (pid_t pid : readers) {
        const ChildExit e = wait_child(pid, 60s);
        EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    }
    munmap(stop, 4096);
}

}  // namespace
