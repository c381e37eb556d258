// mutex: every worker locks (timed or try), checks it is alone inside and that the data
// is consistent unless the lock said SHMDS_EOWNERDEAD (then it repairs and calls
// shmds_mutex_consistent), updates, unlocks. Kills land inside the lock most of the time.
#include "guarded.hpp"

#include <shmds/sync.h>

#include <cerrno>

namespace soak {
namespace {

constexpr std::int64_t kTimeout = 100'000'000;
constexpr std::uint32_t kHolder = 1;

class Mutex : public Workload {
public:
    void setup(const Params &) override {
        int rc = shmds_mutex_create(nullptr, &m_);
        if (rc != 0) violation("shmds_mutex_create: {}", describe_rc(rc));
        data_ = shared_array<Guarded>(1);
    }

    Step step(Worker &w) override {
        int rc = w.chance(20) ? shmds_mutex_try_lock(m_) : shmds_mutex_lock(m_, kTimeout);
        if (rc == -EAGAIN || rc == -ETIMEDOUT) return Step::idle;
        if (rc != 0 && rc != SHMDS_EOWNERDEAD) {
            violation("shmds_mutex_lock: {}", describe_rc(rc));
            return Step::idle;
        }
        w.enter(kHolder);
        if (unsigned others = w.others_inside(kHolder))
            violation("mutex: worker {} got the lock while {} other live worker(s) held it",
                      w.index(), others);
        if (rc == SHMDS_EOWNERDEAD) {
            data_->repair();
            if (int c = shmds_mutex_consistent(m_)) violation("shmds_mutex_consistent: {}", describe_rc(c));
        } else if (!data_->consistent()) {
            violation("mutex: lock returned 0 over data a dead holder left half-updated "
                      "(a {} b {}); it should have said SHMDS_EOWNERDEAD",
                      data_->a.load(), data_->b.load());
            data_->repair();
        }
        data_->update(w);
        w.leave();
        if (int u = shmds_mutex_unlock(m_)) violation("shmds_mutex_unlock: {}", describe_rc(u));
        return Step::progress;
    }

    void verify(const Params &, const Deaths &deaths) override {
        int rc = shmds_mutex_lock(m_, 2'000'000'000);
        if (rc == SHMDS_EOWNERDEAD) {
            data_->repair();
            shmds_mutex_consistent(m_);
        } else if (rc != 0) {
            violation("after the run the supervisor cannot lock the mutex: {}", describe_rc(rc));
            return;
        } else if (!data_->consistent()) {
            violation("after the run the mutex locks with 0 over half-updated data");
        }
        data_->check("mutex", total(deaths.kills));
        note("mutex recoveries {}", shmds_mutex_recoveries(m_));
        shmds_mutex_unlock(m_);
        shmds_mutex_close(m_);
    }

private:
    shmds_mutex_t *m_ = nullptr;
    Guarded *data_ = nullptr;
};

}  // namespace
}  // namespace soak

SOAK_WORKLOAD(mutex,
              "one holder at a time; half-updated data only with SHMDS_EOWNERDEAD; no lost update",
              2, soak::Mutex);
