// bitset: workers claim random bits of a large region with set() (the one that sees the
// old bit 0 records itself as the bit's winner), toggle bits of their own that share a
// word with a small range every worker fills and zeroes, and check every toggle returns
// the value they expect (a bulk change never reverts it). Afterwards the supervisor
// checks: no bit has two winners, every won bit is still set, and set bits without a
// recorded winner are no more than the claims the dead held.
#include "soak.hpp"

#include <shmds/bitset.h>

#include <cerrno>

namespace soak {
namespace {

// The claim region [0, kClaimBits), then the bulk range, then each worker's own bits;
// the set's size is not a multiple of 64, so its last word has tail bits.
constexpr std::uint64_t kClaimBits = std::uint64_t{1} << 22;
constexpr std::uint64_t kBulkFrom = kClaimBits, kBulkBits = 40;
constexpr std::uint64_t kOwnFrom = kBulkFrom + kBulkBits;
constexpr std::uint64_t kOwnPerWorker = 12;

class BitsetWorkload : public Workload {
public:
    void setup(const Params &p) override {
        workers_ = p.workers;
        nbits_ = kOwnFrom + kOwnPerWorker * p.workers + 3;
        shmds_bitset_config_t cfg = SHMDS_BITSET_CONFIG_INIT(nbits_);
        if (int rc = shmds_bitset_create(nullptr, &cfg, &bs_))
            violation("shmds_bitset_create: {}", describe_rc(rc));
        winners_ = shared_array<std::atomic<std::uint8_t>>(kClaimBits);
        claims_ = shared_array<std::atomic<std::uint64_t>>(p.workers);
    }

    // A respawned worker reads its own bits back: the toggle its predecessor was killed
    // in either happened or not, and only it knows which.
    void start(Worker &w) override {
        for (std::uint64_t j = 0; j < kOwnPerWorker; ++j) {
            const int v = shmds_bitset_test(bs_, own_bit(w, j));
            if (v < 0) violation("bitset: test of an own bit: {}", describe_rc(v));
            own_[j] = v == 1;
        }
    }

    Step step(Worker &w) override {
        const unsigned r = unsigned(w.rng()() % 100);
        if (r < 60) return claim(w);
        if (r < 95) return toggle(w);
        return bulk(w);
    }

    void verify(const Params &, const Deaths &deaths) override {
        std::uint64_t won = 0, unrecorded = 0, set = 0;
        for (std::uint64_t b = 0; b < kClaimBits; ++b) {
            const unsigned n = winners_[b].load();
            const int t = shmds_bitset_test(bs_, b);
            set += t == 1;
            if (n > 1) violation("bitset: bit {} had {} setters that saw it clear", b, n);
            if (n >= 1 && t != 1) violation("bitset: bit {} was won but is clear now", b);
            won += n >= 1;
            unrecorded += n == 0 && t == 1;
        }
        const std::uint64_t dead_held = deaths.held_where([](unsigned) { return true; });
        if (unrecorded > dead_held)
            violation("bitset: {} set bits have no winner, the dead held only {} claims",
                      unrecorded, dead_held);
        std::uint64_t total = 0;
        for (std::uint64_t b = 0; b < nbits_; ++b) total += shmds_bitset_test(bs_, b) == 1;
        if (total != shmds_bitset_count(bs_))
            violation("bitset: count {} disagrees with {} bits read one by one",
                      shmds_bitset_count(bs_), total);
        std::uint64_t claims = 0;
        for (unsigned i = 0; i < workers_; ++i) claims += claims_[i].load();
        note("claims {}: {} bits won, {} set without a record (dead held {}), {} set in all",
             claims, won, unrecorded, dead_held, total);
        shmds_bitset_close(bs_);
        bs_ = nullptr;
    }

private:
    std::uint64_t own_bit(Worker &w, std::uint64_t j) const {
        return kOwnFrom + w.index() * kOwnPerWorker + j;
    }

    Step claim(Worker &w) {
        const std::uint64_t b = w.rng()() % kClaimBits;
        w.hold(1);  // killed before the record: a set bit without a winner
        const int old = shmds_bitset_set(bs_, b);
        if (old < 0) {
            violation("bitset: set({}): {}", b, describe_rc(old));
        } else if (old == 0) {
            winners_[b].fetch_add(1);
        }
        w.release();
        claims_[w.index()].fetch_add(1);
        return Step::progress;
    }

    Step toggle(Worker &w) {
        const std::uint64_t j = w.rng()() % kOwnPerWorker;
        const int now = shmds_bitset_toggle(bs_, own_bit(w, j));
        if (now < 0) {
            violation("bitset: toggle: {}", describe_rc(now));
            return Step::idle;
        }
        own_[j] = !own_[j];
        if (now != int(own_[j]))
            violation("bitset: worker {} toggled its bit {} to {}, expected {}: a change was lost",
                      w.index(), own_bit(w, j), now, int(own_[j]));
        own_[j] = now == 1;
        return Step::progress;
    }

    Step bulk(Worker &w) {
        const int rc = w.chance(50) ? shmds_bitset_fill_range(bs_, kBulkFrom, kBulkBits)
                                    : shmds_bitset_zero_range(bs_, kBulkFrom, kBulkBits);
        if (rc) violation("bitset: bulk change: {}", describe_rc(rc));
        return Step::progress;
    }

    shmds_bitset_t *bs_ = nullptr;
    unsigned workers_ = 0;
    std::uint64_t nbits_ = 0;
    std::atomic<std::uint8_t> *winners_ = nullptr;   // per claim bit: setters that saw 0
    std::atomic<std::uint64_t> *claims_ = nullptr;   // per worker index: claims made
    // Worker-local: the values of this worker's own bits.
    bool own_[kOwnPerWorker] = {};
};

}  // namespace
}  // namespace soak

SOAK_WORKLOAD(bitset,
              "one winner per bit, won bits stay set, unrecorded wins only as many as the dead "
              "held, own toggles never lost to concurrent bulk changes",
              2, soak::BitsetWorkload);
