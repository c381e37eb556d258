// The pool against a model (a std::vector<bool> of allocated slots and a vector of
// values): random alloc, alloc_n, free, free_n, set, add, cas, reset, with a printed seed;
// after every step used(), is_allocated() and every value agree with the model.
#include "pool_helpers.hpp"

#include <shmds/shmds.h>

#include <random>
#include <vector>

using namespace shmds::test;

namespace {

TEST(PoolOracle, MatchesAModel) {
    const std::uint64_t seed = test_seed();
    std::mt19937_64 rng(seed);
    constexpr std::uint64_t kCap = 12;
    auto p = make_pool(SHMDS_TYPE_INT32, kCap);
    std::vector<bool> taken(kCap);
    std::vector<std::int64_t> value(kCap);
    auto count = [&] {
        std::uint64_t n = 0;
        for (bool b : taken) n += b;
        return n;
    };
    for (int step = 0; step < 20000; ++step) {
        const int op = int(rng() % 8);
        const std::uint64_t i = rng() % kCap;
        switch (op) {
            case 0: {
                std::uint64_t got;
                const int rc = shmds_pool_try_alloc(p.get(), &got);
                if (count() == kCap) {
                    ASSERT_EQ(-EAGAIN, rc);
                } else {
                    ASSERT_EQ(0, rc);
                    ASSERT_FALSE(taken[got]) << "step " << step;
                    taken[got] = true;
                    value[got] = 0;
                }
                break;
            }
            case 1: {
                const std::size_t n = 1 + rng() % 4;
                std::uint64_t got[4];
                const int rc = shmds_pool_alloc_n(p.get(), n, got, 0);
                if (kCap - count() < n) {
                    ASSERT_EQ(-EAGAIN, rc);
                } else {
                    ASSERT_EQ(0, rc);
                    for (std::size_t k = 0; k < n; ++k) {
                        ASSERT_FALSE(taken[got[k]]);
                        taken[got[k]] = true;
                        value[got[k]] = 0;
                    }
                }
                break;
            }
            case 2:
                ASSERT_EQ(taken[i] ? 0 : -ENOENT, shmds_pool_free(p.get(), i));
                taken[i] = false;
                break;
            case 3: {
                const std::uint64_t idx[2] = {i, (i + 5) % kCap};
                std::size_t freed = 0, want = taken[idx[0]] + taken[idx[1]];
                ASSERT_EQ(0, shmds_pool_free_n(p.get(), idx, 2, &freed));
                ASSERT_EQ(want, freed);
                taken[idx[0]] = taken[idx[1]] = false;
                break;
            }
            case 4: {
                const std::int64_t v = std::int64_t(rng() % 2000) - 1000;
                ASSERT_EQ(0, shmds_pool_set_int(p.get(), i, v));
                value[i] = v;
                break;
            }
            case 5: {
                std::int64_t now;
                ASSERT_EQ(0, shmds_pool_add_int(p.get(), i, 3, &now));
                value[i] += 3;
                ASSERT_EQ(value[i], now);
                break;
            }
            case 6: {
                const std::int64_t guess = rng() % 2 ? value[i] : value[i] + 1;
                const int rc = shmds_pool_cas_int(p.get(), i, guess, 7, nullptr);
                ASSERT_EQ(guess == value[i] ? 0 : -ECANCELED, rc);
                if (rc == 0) value[i] = 7;
                break;
            }
            case 7:
                if (rng() % 50 == 0) {
                    std::uint64_t freed;
                    ASSERT_EQ(0, shmds_pool_reset(p.get(), &freed));
                    ASSERT_EQ(count(), freed);
                    taken.assign(kCap, false);
                }
                break;
        }
        ASSERT_EQ(count(), shmds_pool_used(p.get())) << "step " << step;
        for (std::uint64_t k = 0; k < kCap; ++k) {
            ASSERT_EQ(taken[k] ? 1 : 0, shmds_pool_is_allocated(p.get(), k));
            std::int64_t v;
            ASSERT_EQ(0, shmds_pool_get_int(p.get(), k, &v));
            ASSERT_EQ(value[k], v) << "slot " << k << " step " << step;
        }
    }
}

}  // namespace
