// semaphore (max 2): workers take one permit, or sometimes two at once (timed or try),
// check that the permits held by live workers never exceed max, and give them back.
// Afterwards the supervisor must get every permit back: a killed holder's permits return.
#include "guarded.hpp"

#include <shmds/sync.h>

#include <cerrno>

namespace soak {
namespace {

constexpr std::int64_t kTimeout = 100'000'000;
constexpr std::uint32_t kMax = 2;
// Permits held per worker, kBits each, packed in one word.
constexpr unsigned kBits = 2;
constexpr std::uint64_t kFieldMask = (1u << kBits) - 1;
constexpr unsigned kMaxWorkers = 64 / kBits;

std::uint32_t permits_in(std::uint64_t holdings) {
    std::uint32_t sum = 0;
    for (; holdings; holdings >>= kBits) sum += static_cast<std::uint32_t>(holdings & kFieldMask);
    return sum;
}

class Semaphore : public Workload {
public:
    void setup(const Params &p) override {
        if (p.workers > kMaxWorkers)
            violation("the semaphore workload counts holdings for at most {} workers, not {}",
                      kMaxWorkers, p.workers);
        int rc = shmds_semaphore_create(nullptr, kMax, kMax, &s_);
        if (rc != 0) violation("shmds_semaphore_create: {}", describe_rc(rc));
        holdings_ = shared_array<std::atomic<std::uint64_t>>(1);
    }

    Step step(Worker &w) override {
        std::uint32_t n = w.chance(20) ? 2 : 1;
        int rc = w.chance(20) ? shmds_semaphore_try_acquire_n(s_, n)
                              : shmds_semaphore_acquire_n(s_, n, kTimeout);
        if (rc == -EAGAIN || rc == -ETIMEDOUT) return Step::idle;
        if (rc == -EUSERS) {
            // Holder slots number min(max, 256): all of them taken by live holders while
            // this worker still finds a permit means permits were handed out past max, or
            // a dead holder's slot was never freed.
            violation("semaphore: acquire_n({}) said every holder slot belongs to a live "
                      "holder, impossible with at most {} permits: {}",
                      n, kMax, describe_rc(rc));
            return Step::idle;
        }
        if (rc != 0) {
            violation("shmds_semaphore_acquire_n({}): {}", n, describe_rc(rc));
            return Step::idle;
        }
        // Count ours in after acquiring and out before releasing, in one word for all
        // workers, so the sum is a true snapshot and never above what is really held.
        const std::uint64_t mine = std::uint64_t{n} << (kBits * w.index());
        std::uint64_t now = holdings_->fetch_add(mine) + mine;
        w.hold(n);  // for the report: kills of a holder
        if (std::uint32_t held = permits_in(now); held > kMax)
            violation("semaphore: {} permits held at once, max {}", held, kMax);
        if (std::uint32_t v = shmds_semaphore_value(s_); v > kMax)
            violation("semaphore: value {} above max {}", v, kMax);
        Guarded::dawdle(w);
        w.release();
        holdings_->fetch_sub(mine);
        if (int r = shmds_semaphore_release(s_, n)) violation("shmds_semaphore_release: {}", describe_rc(r));
        return Step::progress;
    }

    // The victim is stopped: its permits return to the semaphore once it is dead.
    void forget(unsigned index) override {
        holdings_->fetch_and(~(kFieldMask << (kBits * index)));
    }

    void verify(const Params &, const Deaths &) override {
        // Every worker is gone: all permits must come back, those of killed holders too.
        int rc = shmds_semaphore_acquire_n(s_, kMax, 2'000'000'000);
        if (rc != 0)
            violation("after the run the supervisor cannot take all {} permits within 2 s "
                      "(value {}): {}",
                      kMax, shmds_semaphore_value(s_), describe_rc(rc));
        else
            shmds_semaphore_release(s_, kMax);
        note("semaphore recoveries {}", shmds_semaphore_recoveries(s_));
        shmds_semaphore_close(s_);
    }

private:
    shmds_semaphore_t *s_ = nullptr;
    std::atomic<std::uint64_t> *holdings_ = nullptr;
};

}  // namespace
}  // namespace soak

SOAK_WORKLOAD(semaphore,
              "permits held by live workers never exceed max; a dead holder's permits return",
              2, soak::Semaphore);
