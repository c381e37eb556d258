// The bit set against a sequential model (std::vector<bool>): random per-bit verbs
// (including out-of-range bits), range fills and zeroes, and every scan, over random
// sizes around the word boundaries. The seed is printed; SHMDS_TEST_SEED=<seed> replays
// a run.
#include "bitset_helpers.hpp"

#include <shmds/shmds.h>

#include <cerrno>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

using namespace shmds::test;

namespace {

int first_in(const std::vector<bool> &m, bool want, std::uint64_t from, std::uint64_t *bit) {
    if (from > m.size()) return -ERANGE;
    for (std::uint64_t i = from; i < m.size(); ++i)
        if (m[i] == want) {
            *bit = i;
            return 0;
        }
    return -ENOENT;
}

void check_scans(shmds_bitset_t *h, const std::vector<bool> &m, std::mt19937_64 &rng) {
    const std::uint64_t n = m.size();
    std::uint64_t ones = 0;
    std::string text;
    std::vector<std::uint64_t> listed;
    for (std::uint64_t i = 0; i < n; ++i) {
        ones += m[i];
        text += m[i] ? '1' : '0';
        if (m[i]) listed.push_back(i);
    }
    ASSERT_EQ(ones, shmds_bitset_count(h));
    ASSERT_EQ(ones != 0, shmds_bitset_any(h) == 1);
    ASSERT_EQ(ones == 0, shmds_bitset_none(h) == 1);
    std::string got(n + 1, '?');
    ASSERT_EQ(0, shmds_bitset_to_string(h, got.data(), got.size(), nullptr));
    got.pop_back();
    ASSERT_EQ(text, got);
    std::vector<std::uint64_t> out(listed.size() + 1);
    std::size_t cnt = 0;
    ASSERT_EQ(0, shmds_bitset_set_bits(h, 0, out.data(), out.size(), &cnt));
    out.resize(cnt);
    ASSERT_EQ(listed, out);
    for (int k = 0; k < 4; ++k) {
        const std::uint64_t from = rng() % (n + 2);
        for (bool want : {true, false}) {
            std::uint64_t a = ~0ull, b = ~0ull;
            const int ra = first_in(m, want, from, &a);
            const int rb = want ? shmds_bitset_first_set(h, from, &b)
                                : shmds_bitset_first_clear(h, from, &b);
            ASSERT_EQ(ra, rb) << "from " << from << " want " << want;
            if (ra == 0) { ASSERT_EQ(a, b) << "from " << from << " want " << want; }
        }
    }
}

void run_one(std::mt19937_64 &rng, std::uint64_t n, int steps) {
    SCOPED_TRACE("nbits " + std::to_string(n));
    auto b = make_bitset(n);
    shmds_bitset_t *h = b.get();
    std::vector<bool> m(n, false);
    for (int step = 0; step < steps; ++step) {
        // Mostly in range; now and then just past the end or far beyond it.
        const std::uint64_t r = rng() % 100;
        const std::uint64_t bit = r < 94 ? rng() % n : r < 97 ? n + rng() % 3 : rng();
        const bool in = bit < n;
        switch (rng() % 9) {
            case 0:
            case 1: {
                const int got = shmds_bitset_set(h, bit);
                if (!in) { ASSERT_EQ(-ERANGE, got); break; }
                ASSERT_EQ(int(m[bit]), got) << "set " << bit;
                m[bit] = true;
                break;
            }
            case 2:
            case 3: {
                const int got = shmds_bitset_clear(h, bit);
                if (!in) { ASSERT_EQ(-ERANGE, got); break; }
                ASSERT_EQ(int(m[bit]), got) << "clear " << bit;
                m[bit] = false;
                break;
            }
            case 4: {
                const int got = shmds_bitset_toggle(h, bit);
                if (!in) { ASSERT_EQ(-ERANGE, got); break; }
                m[bit] = !m[bit];
                ASSERT_EQ(int(m[bit]), got) << "toggle " << bit;
                break;
            }
            case 5:
            case 6: {
                const int got = shmds_bitset_test(h, bit);
                if (!in) { ASSERT_EQ(-ERANGE, got); break; }
                ASSERT_EQ(int(m[bit]), got) << "test " << bit;
                break;
            }
            case 7: {
                // A range, sometimes the whole set, sometimes one that does not fit.
                std::uint64_t from = rng() % (n + 1), len = rng() % (n + 1 - from + 1);
                const bool whole = rng() % 8 == 0;
                const bool fill = rng() % 2 == 0;
                if (whole) from = 0, len = n;
                const bool fits = len <= n - from;
                const int got = whole ? (fill ? shmds_bitset_fill(h) : shmds_bitset_zero(h))
                                : fill ? shmds_bitset_fill_range(h, from, len)
                                       : shmds_bitset_zero_range(h, from, len);
                if (!fits) { ASSERT_EQ(-ERANGE, got); break; }
                ASSERT_EQ(0, got);
                for (std::uint64_t i = from; i < from + len; ++i) m[i] = fill;
                break;
            }
            case 8:
                check_scans(h, m, rng);
                if (::testing::Test::HasFatalFailure()) return;
                break;
        }
        if (::testing::Test::HasFatalFailure()) return;
    }
    check_scans(h, m, rng);
}

}  // namespace

TEST(BitsetOracle, RandomOperationsMatchAVectorOfBool) {
    const std::uint64_t seed = test_seed();
    std::mt19937_64 rng(seed);
    const std::uint64_t fixed[] = {1, 63, 64, 65, 128, 191, 256, 1000};
    for (std::uint64_t n : fixed) {
        run_one(rng, n, 3000);
        if (HasFatalFailure()) return;
    }
    for (int k = 0; k < 6; ++k) {
        run_one(rng, 1 + rng() % 700, 3000);
        if (HasFatalFailure()) return;
    }
}
