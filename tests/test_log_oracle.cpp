// The log against a sequential model (a vector of entries with their offsets): a seeded
// random mix of every verb, each result compared with what the model says, including
// every error code. The seed is printed; SHMDS_TEST_SEED replays a run.
#include "log_helpers.hpp"

#include <random>

using namespace shmds::test;
using namespace shmds::test::logt;

namespace {

struct Model {
    struct Entry {
        std::uint64_t offset;
        std::string data;
    };
    std::uint64_t capacity = 0;
    std::vector<Entry> entries;  // this epoch's, truncated ones included
    std::uint64_t tail = 0, truncation = 0, epoch = 0, append_full = 0, resets = 0;

    static std::uint64_t size_of(std::size_t len) { return 8 + ((len + 7) & ~std::size_t{7}); }
    bool fits(std::uint64_t bytes) const { return bytes <= capacity - tail; }
    void add(const std::string &s) {
        entries.push_back({tail, s});
        tail += size_of(s.size());
    }
    // The entry at offset, or null; *inside = offset lies within an entry.
    const Entry *at(std::uint64_t offset) const {
        for (const Entry &e : entries)
            if (e.offset == offset) return &e;
        return nullptr;
    }
    int read_code(std::uint64_t offset) const {
        if (offset % 8) return -EINVAL;
        if (offset < truncation) return -ENOENT;
        if (offset == tail) return -EAGAIN;
        if (offset > tail) return -ERANGE;
        return at(offset) ? 0 : -EINVAL;
    }
    std::vector<std::string> visible() const {
        std::vector<std::string> out;
        for (const Entry &e : entries)
            if (e.offset >= truncation) out.push_back(e.data);
        return out;
    }
};

std::string random_bytes(std::mt19937_64 &rng, std::size_t len) {
    std::string s(len, '\0');
    const int style = int(rng() % 4);
    for (char &c : s)
        c = style == 0 ? '\0' : style == 1 ? '\xff' : char(rng() & 0xff);
    return s;
}

// An offset worth asking about: a boundary, inside an entry, the tail, beyond it.
std::uint64_t probe_offset(std::mt19937_64 &rng, const Model &m) {
    switch (rng() % 6) {
        case 0: return m.tail;
        case 1: return m.tail + 8 * (1 + rng() % 4);
        case 2: return m.entries.empty() ? 0 : m.entries[rng() % m.entries.size()].offset + 8;
        case 3: return rng() % (m.tail + 16);
        default:
            return m.entries.empty() ? 0 : m.entries[rng() % m.entries.size()].offset;
    }
}

void run_oracle(std::uint64_t seed, std::uint64_t capacity, int steps) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " capacity " + std::to_string(capacity));
    std::mt19937_64 rng(seed);
    LogPtr l = make_log(capacity);
    Model m;
    m.capacity = shmds_log_capacity(l.get());
    shmds_log_cursor_t cursor;
    ASSERT_EQ(0, shmds_log_cursor_init(l.get(), &cursor, 0));
    std::size_t cursor_index = 0;  // index in m.entries the cursor will read next
    std::uint64_t cursor_epoch = m.epoch;
    std::vector<char> buf(1 << 12);
    for (int step = 0; step < steps; ++step) {
        SCOPED_TRACE("step " + std::to_string(step));
        const int op = int(rng() % 100);
        if (op < 40) {  // append
            const std::size_t len = rng() % 8 == 0 ? 0 : 1 + rng() % (rng() % 4 == 0 ? 600 : 40);
            const std::string s = random_bytes(rng, len);
            std::uint64_t off = 0;
            const int rc = shmds_log_append(l.get(), s.data(), s.size(), &off);
            if (len == 0) {
                ASSERT_EQ(-EINVAL, rc);
            } else if (!m.fits(Model::size_of(len))) {
                ASSERT_EQ(-ENOSPC, rc);
                ++m.append_full;
            } else {
                ASSERT_EQ(0, rc) << shmds_last_error();
                ASSERT_EQ(m.tail, off);
                m.add(s);
            }
        } else if (op < 50) {  // append_multi
            const std::size_t n = 1 + rng() % 5;
            std::vector<std::string> items;
            std::vector<const void *> datas;
            std::vector<std::size_t> lens;
            std::uint64_t need = 0;
            bool empty = false;
            for (std::size_t i = 0; i < n; ++i) {
                const std::size_t len = rng() % 30 == 0 ? 0 : 1 + rng() % 50;
                items.push_back(random_bytes(rng, len));
                empty |= len == 0;
                need += Model::size_of(len);
            }
            for (auto &s : items) {
                datas.push_back(s.data());
                lens.push_back(s.size());
            }
            std::vector<std::uint64_t> offs(n);
            const int rc = shmds_log_append_multi(l.get(), datas.data(), lens.data(), n, offs.data());
            if (empty) {
                ASSERT_EQ(-EINVAL, rc);
            } else if (!m.fits(need)) {
                ASSERT_EQ(-ENOSPC, rc);
                ++m.append_full;
            } else {
                ASSERT_EQ(0, rc) << shmds_last_error();
                for (std::size_t i = 0; i < n; ++i) {
                    ASSERT_EQ(m.tail, offs[i]);
                    m.add(items[i]);
                }
            }
        } else if (op < 70) {  // read_entry
            const std::uint64_t off = probe_offset(rng, m);
            const Read r = read(l.get(), off);
            ASSERT_EQ(m.read_code(off), r.rc) << "offset " << off << ": " << shmds_last_error();
            if (r.rc == 0) {
                const Model::Entry *e = m.at(off);
                ASSERT_EQ(e->data, r.data);
                ASSERT_EQ(off + Model::size_of(e->data.size()), r.next);
            }
        } else if (op < 78) {  // cursor step
            std::size_t len = 0;
            const int rc = shmds_log_cursor_next(l.get(), &cursor, buf.data(), buf.size(), &len,
                                                 nullptr);
            if (cursor_epoch != m.epoch) {
                ASSERT_EQ(-ESTALE, rc);
                ASSERT_EQ(0, shmds_log_cursor_init(l.get(), &cursor, m.truncation));
                cursor_epoch = m.epoch;
                cursor_index = 0;
                while (cursor_index < m.entries.size() &&
                       m.entries[cursor_index].offset < m.truncation)
                    ++cursor_index;
            } else if (cursor_index < m.entries.size() &&
                       m.entries[cursor_index].offset < m.truncation) {
                ASSERT_EQ(-ENOENT, rc);
                while (cursor_index < m.entries.size() &&
                       m.entries[cursor_index].offset < m.truncation)
                    ++cursor_index;
                ASSERT_EQ(0, shmds_log_cursor_init(l.get(), &cursor, m.truncation));
            } else if (cursor_index == m.entries.size()) {
                ASSERT_EQ(-EAGAIN, rc);
            } else {
                ASSERT_EQ(0, rc) << shmds_last_error();
                ASSERT_EQ(m.entries[cursor_index].data, std::string(buf.data(), len));
                ++cursor_index;
            }
        } else if (op < 86) {  // truncate
            const std::uint64_t off = probe_offset(rng, m);
            const int rc = shmds_log_truncate(l.get(), off);
            int want;
            if (off % 8 || off < m.truncation) want = -EINVAL;
            else if (off > m.tail) want = -ERANGE;
            else if (off == m.tail || m.at(off)) want = 0;
            else want = -EINVAL;
            ASSERT_EQ(want, rc) << "truncate to " << off << ": " << shmds_last_error();
            if (rc == 0) m.truncation = off;
        } else if (op < 90) {  // each_entry from the truncation point
            std::vector<std::string> seen;
            std::uint64_t final = 0;
            const std::int64_t n = shmds_log_each_entry(
                l.get(), m.truncation,
                [](const void *d, size_t len, uint64_t, void *ctx) {
                    static_cast<std::vector<std::string> *>(ctx)->emplace_back(
                        static_cast<const char *>(d), len);
                    return 0;
                },
                &seen, &final);
            ASSERT_EQ(std::int64_t(m.visible().size()), n) << shmds_last_error();
            ASSERT_EQ(m.visible(), seen);
            ASSERT_EQ(m.tail, final);
        } else if (op < 92) {  // reset
            ASSERT_EQ(0, shmds_log_reset(l.get()));
            m.entries.clear();
            m.tail = m.truncation = 0;
            m.epoch += 2;
            ++m.resets;
        } else if (op < 96) {  // wait_for, never blocking
            const std::uint64_t count = m.entries.size() + (rng() % 3) - 1;
            const int rc = shmds_log_wait_for(l.get(), count, SHMDS_NOWAIT);
            ASSERT_EQ(m.entries.size() > count ? 0 : -EAGAIN, rc);
        } else {  // gauges and stats
            const shmds_log_stats_t st = stats(l.get());
            ASSERT_EQ(m.entries.size(), st.entries);
            ASSERT_EQ(m.tail, st.tail);
            ASSERT_EQ(m.truncation, st.truncation);
            ASSERT_EQ(m.tail - m.truncation, st.data_size);
            ASSERT_EQ(m.capacity - m.tail, st.available);
            ASSERT_EQ(m.epoch, st.epoch);
            ASSERT_EQ(m.resets, st.resets);
            ASSERT_EQ(m.append_full, st.append_full);
            ASSERT_EQ(m.tail, shmds_log_tail_offset(l.get()));
            ASSERT_EQ(m.entries.size(), shmds_log_entry_count(l.get()));
            ASSERT_EQ(m.tail - m.truncation, shmds_log_data_size(l.get()));
            ASSERT_EQ(m.capacity - m.tail, shmds_log_available(l.get()));
            ASSERT_EQ(m.truncation, shmds_log_truncation(l.get()));
            ASSERT_EQ(m.epoch, shmds_log_epoch(l.get()));
        }
    }
    ASSERT_EQ(m.visible(), all_entries(l.get()));
}

TEST(LogOracle, RandomMixMatchesTheModelInASmallLog) {
    const std::uint64_t seed = test_seed();
    for (std::uint64_t round = 0; round < 8; ++round) run_oracle(seed + round, 512, 3000);
}

TEST(LogOracle, RandomMixMatchesTheModelInALargeLog) {
    run_oracle(test_seed() ^ 0x5eed, 1 << 18, 20000);
}

}  // namespace
