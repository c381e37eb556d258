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

class Semaphore : public Workload {
public:
    void setup(const Params &) override {
        int rc = shmds_semaphore_create(nullptr, kMax, kMax, &s_);
        if (rc != 0) violation("shmds_semaphore_create: {}", describe_rc(rc));
    }

    Step step(Worker &w) override {
        std::uint32_t n = w.chance(20) ? 2 : 1;
        int rc = w.chance(20) ? shmds_semaphore_try_acquire_n(s_, n)
                              : shmds_semaphore_acquire_n(s_, n, kTimeout);
        if (rc == -EAGAIN || rc == -ETIMEDOUT) return Step::idle;
        if (rc != 0) {
            violation("shmds_semaphore_acquire_n({}): {}", n, describe_rc(rc));
            return Step::idle;
        }
        // The slot records how many permits this worker holds.
        w.enter(n);
        unsigned held = n + w.others_inside(1) + 2 * w.others_inside(2);
        if (held > kMax)
            violation("semaphore: {} permits held by live workers at once, max {}", held, kMax);
        if (std::uint32_t v = shmds_semaphore_value(s_); v > kMax)
            violation("semaphore: value {} above max {}", v, kMax);
        Guarded::dawdle(w);
        w.leave();
        if (int r = shmds_semaphore_release(s_, n)) violation("shmds_semaphore_release: {}", describe_rc(r));
        return Step::progress;
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
};

}  // namespace
}  // namespace soak

SOAK_WORKLOAD(semaphore,
              "permits held by live workers never exceed max; a dead holder's permits return",
              2, soak::Semaphore);
