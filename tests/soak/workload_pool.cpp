// pool, INT64: every worker allocates slots (alone, by try, or several at once), keeps up
// to kMaxHeld, stamps each with its own value and frees them again. The pool is smaller
// than what the workers would hold together, so it runs full and kills land while slots
// are held. Per slot, a shared claims array names the worker holding it: an alloc that
// finds the slot claimed by a live worker is a slot handed out twice. A freshly allocated
// slot must be zeroed and owned by this PID, a stamp must survive until its free, and a
// free must find its slot still allocated (a live owner's slot was never reclaimed).
// A killed worker's slots must come back by themselves (nobody calls recover_stale): the
// pool would otherwise wedge, and afterwards the supervisor allocates every slot. Slots
// still allocated at the end must be within what the killed held (Worker::hold).
#include "soak.hpp"

#include <shmds/pool.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <vector>

namespace soak {
namespace {

constexpr std::int64_t kTimeout = 100'000'000;  // every call: 100 ms at most
constexpr std::size_t kMaxHeld = 3;
constexpr std::size_t kBatch = 2;

// A claim names the worker (index + 1) and its incarnation.
std::uint64_t claim_of(const Worker &w) {
    return (std::uint64_t(w.index()) + 1) << 32 | w.incarnation();
}
unsigned worker_of(std::uint64_t claim) { return unsigned(claim >> 32) - 1; }

class Pool : public Workload {
public:
    void setup(const Params &p) override {
        capacity_ = std::max<std::uint64_t>(2, std::uint64_t(p.workers) * 2);
        shmds_pool_config_t cfg = SHMDS_POOL_CONFIG_INIT(SHMDS_TYPE_INT64, capacity_, 0);
        int rc = shmds_pool_create(nullptr, &cfg, &p_);
        if (rc != 0) violation("shmds_pool_create: {}", describe_rc(rc));
        claims_ = shared_array<std::atomic<std::uint64_t>>(capacity_);
    }

    void start(Worker &) override { pid_ = getpid(); }

    Step step(Worker &w) override {
        if (held_.size() < kMaxHeld && (held_.empty() || w.chance(55))) return allocate(w);
        return give_back(w);
    }

    void finish(Worker &w) override {
        while (!held_.empty()) free_last(w);
        w.release();
    }

    // The worker is stopped: its claims are no longer a live worker's. Its slots stay
    // allocated under its dead PID until the pool reclaims them.
    void forget(unsigned index) override {
        for (std::uint64_t i = 0; i < capacity_; ++i) {
            std::uint64_t c = claims_[i].load();
            if (c != 0 && worker_of(c) == index) claims_[i].compare_exchange_strong(c, 0);
        }
    }

    void verify(const Params &, const Deaths &deaths) override {
        std::uint64_t dead_held = 0;
        for (std::uint64_t h : deaths.held) dead_held += h;
        for (std::uint64_t i = 0; i < capacity_; ++i)
            if (std::uint64_t c = claims_[i].load())
                violation("slot {} is still claimed by worker {} after every worker exited", i,
                          worker_of(c));
        const std::uint64_t left = shmds_pool_used(p_);
        if (left > dead_held)
            violation("{} slots are still allocated; the killed held at most {}", left, dead_held);
        shmds_pool_stats_t before{};
        before.struct_size = sizeof before;
        int rc = shmds_pool_stats(p_, &before);
        if (rc != 0) violation("stats: {}", describe_rc(rc));

        // Every slot must come back without recover_stale: alloc reclaims dead owners.
        std::vector<std::uint64_t> got;
        for (std::uint64_t k = 0; k < capacity_; ++k) {
            std::uint64_t i = 0;
            rc = shmds_pool_alloc(p_, 2'000'000'000, &i);
            if (rc != 0) {
                violation("final alloc {} of {}: {} (a dead worker's slot did not come back)",
                          k + 1, capacity_, describe_rc(rc));
                break;
            }
            if (std::find(got.begin(), got.end(), i) != got.end())
                violation("final alloc handed out slot {} twice", i);
            got.push_back(i);
        }
        shmds_pool_stats_t after{};
        after.struct_size = sizeof after;
        if ((rc = shmds_pool_stats(p_, &after)) != 0) violation("stats: {}", describe_rc(rc));
        if (got.size() == capacity_ && after.recoveries < before.recoveries + left)
            violation("{} dead slots came back but recoveries grew by {}", left,
                      after.recoveries - before.recoveries);
        std::size_t freed = 0;
        rc = shmds_pool_free_n(p_, got.data(), got.size(), &freed);
        if (rc != 0 || freed != got.size())
            violation("final free_n: {} ({} of {} freed)", describe_rc(rc), freed, got.size());
        std::uint64_t kills = 0;
        for (std::uint64_t k : deaths.kills) kills += k;
        note("{} slots left by {} kills (they held at most {}); {} recoveries in all", left,
             kills, dead_held, after.recoveries);
        shmds_pool_close(p_);
    }

private:
    struct Held {
        std::uint64_t index;
        std::int64_t stamp;
    };

    // Before the free: once freed, another worker may claim the slot at once.
    void check_and_unclaim(Worker &w, const Held &h) {
        std::int64_t v = 0;
        int rc = shmds_pool_get_int(p_, h.index, &v);
        if (rc != 0 || v != h.stamp)
            violation("slot {} held by worker {} holds {} (rc {}), not its stamp {}", h.index,
                      w.index(), v, describe_rc(rc), h.stamp);
        std::uint64_t mine = claim_of(w);
        if (!claims_[h.index].compare_exchange_strong(mine, 0))
            violation("slot {} held by worker {} is claimed by worker {}", h.index, w.index(),
                      worker_of(mine));
    }

    Step allocate(Worker &w) {
        std::uint64_t got[kBatch];
        std::size_t n = 1;
        int rc;
        const unsigned pick = unsigned(w.rng()() % 10);
        if (pick < 2 && held_.size() + kBatch <= kMaxHeld) {
            n = kBatch;
            w.hold(std::uint32_t(held_.size() + n));  // before: a kill inside is covered
            rc = shmds_pool_alloc_n(p_, n, got, pick == 0 ? SHMDS_NOWAIT : kTimeout);
        } else {
            w.hold(std::uint32_t(held_.size() + 1));
            rc = pick < 4 ? shmds_pool_try_alloc(p_, &got[0]) : shmds_pool_alloc(p_, kTimeout, &got[0]);
        }
        if (rc != 0) {
            w.hold(std::uint32_t(held_.size()));
            if (rc != -EAGAIN && rc != -ETIMEDOUT) violation("pool alloc: {}", describe_rc(rc));
            return Step::idle;
        }
        for (std::size_t k = 0; k < n; ++k) take(w, got[k]);
        return Step::progress;
    }

    void take(Worker &w, std::uint64_t i) {
        if (i >= capacity_) {
            violation("alloc returned slot {} of a pool of {}", i, capacity_);
            return;
        }
        std::uint64_t expected = 0;
        if (!claims_[i].compare_exchange_strong(expected, claim_of(w)))
            violation("slot {} handed out to worker {} while worker {} holds it", i, w.index(),
                      worker_of(expected));
        std::int32_t owner = 0;
        int rc = shmds_pool_owner(p_, i, &owner);
        if (rc != 0 || owner != pid_)
            violation("slot {} just allocated: owner {} (rc {}), expected this pid {}", i, owner,
                      describe_rc(rc), pid_);
        std::int64_t v = -1;
        rc = shmds_pool_get_int(p_, i, &v);
        if (rc != 0 || v != 0)
            violation("slot {} just allocated holds {} (rc {}), not zero", i, v, describe_rc(rc));
        const std::int64_t stamp = std::int64_t(claim_of(w) & 0x7fffffffffffull) << 16 |
                                   std::int64_t(++serial_ & 0xffff);
        if ((rc = shmds_pool_set_int(p_, i, stamp)) != 0)
            violation("set slot {}: {}", i, describe_rc(rc));
        held_.push_back({i, stamp});
    }

    Step give_back(Worker &w) {
        if (held_.empty()) return Step::idle;
        if (held_.size() >= 2 && w.chance(25)) {
            // Both at once through free_n.
            std::uint64_t idx[2];
            for (int k = 0; k < 2; ++k) {
                const Held h = held_.back();
                check_and_unclaim(w, h);
                idx[k] = h.index;
                held_.pop_back();
            }
            std::size_t freed = 0;
            const int rc = shmds_pool_free_n(p_, idx, 2, &freed);
            if (rc != 0 || freed != 2)
                violation("free_n of slots {} and {}: {} ({} freed): a live owner's slot was "
                          "taken from it", idx[0], idx[1], describe_rc(rc), freed);
        } else {
            free_last(w);
        }
        w.hold(std::uint32_t(held_.size()));
        return Step::progress;
    }

    void free_last(Worker &w) {
        const Held h = held_.back();
        check_and_unclaim(w, h);
        held_.pop_back();
        const int rc = shmds_pool_free(p_, h.index);
        if (rc != 0)
            violation("free of slot {}: {} (a live owner's slot was taken from it)", h.index,
                      describe_rc(rc));
    }


    shmds_pool_t *p_ = nullptr;
    std::uint64_t capacity_ = 0;
    std::atomic<std::uint64_t> *claims_ = nullptr;
    std::vector<Held> held_;
    std::uint64_t serial_ = 0;
    pid_t pid_ = 0;
};

}  // namespace
}  // namespace soak

SOAK_WORKLOAD(pool, "no slot handed out twice, stamps intact, zeroed on alloc, killed workers' slots reclaimed by alloc itself",
              2, soak::Pool);
