// rwlock: workers 0, 3, 6.. write, the others read (timed or try). Writers check that no
// other writer and no reader is inside, repair after SHMDS_EOWNERDEAD and update;
// readers check that no writer is inside and that data they read under a plain 0 is
// consistent.
#include "guarded.hpp"

#include <shmds/sync.h>

#include <cerrno>

namespace soak {
namespace {

constexpr std::int64_t kTimeout = 100'000'000;
constexpr std::uint32_t kReader = 1, kWriter = 2;

bool is_writer(unsigned index) { return index % 3 == 0; }

class RwLock : public Workload {
public:
    void setup(const Params &) override {
        int rc = shmds_rwlock_create(nullptr, 0, &rw_);
        if (rc != 0) violation("shmds_rwlock_create: {}", describe_rc(rc));
        data_ = shared_array<Guarded>(1);
    }

    Step step(Worker &w) override { return is_writer(w.index()) ? write(w) : read(w); }

    void verify(const Params &, const Deaths &deaths) override {
        int rc = shmds_rwlock_wrlock(rw_, 2'000'000'000);
        if (rc == SHMDS_EOWNERDEAD) {
            data_->repair();
            shmds_rwlock_consistent(rw_);
        } else if (rc != 0) {
            violation("after the run the supervisor cannot write-lock: {}", describe_rc(rc));
            return;
        } else if (!data_->consistent()) {
            violation("after the run wrlock returns 0 over half-updated data");
        }
        data_->check("rwlock", total(deaths.kills));
        note("rwlock recoveries {}", shmds_rwlock_recoveries(rw_));
        shmds_rwlock_unlock(rw_);
        shmds_rwlock_close(rw_);
    }

private:
    Step write(Worker &w) {
        int rc = w.chance(20) ? shmds_rwlock_try_wrlock(rw_) : shmds_rwlock_wrlock(rw_, kTimeout);
        if (rc == -EAGAIN || rc == -ETIMEDOUT) return Step::idle;
        if (rc != 0 && rc != SHMDS_EOWNERDEAD) {
            violation("shmds_rwlock_wrlock: {}", describe_rc(rc));
            return Step::idle;
        }
        w.enter(kWriter);
        unsigned writers = w.others_inside(kWriter), readers = w.others_inside(kReader);
        if (writers || readers)
            violation("rwlock: writer {} got the lock with {} writer(s) and {} reader(s) inside",
                      w.index(), writers, readers);
        if (rc == SHMDS_EOWNERDEAD) {
            data_->repair();
            if (int c = shmds_rwlock_consistent(rw_)) violation("shmds_rwlock_consistent: {}", describe_rc(c));
        } else if (!data_->consistent()) {
            violation("rwlock: wrlock returned 0 over half-updated data (a {} b {})",
                      data_->a.load(), data_->b.load());
            data_->repair();
        }
        data_->update(w);
        w.leave();
        if (int u = shmds_rwlock_unlock(rw_)) violation("shmds_rwlock_unlock: {}", describe_rc(u));
        return Step::progress;
    }

    Step read(Worker &w) {
        int rc = w.chance(20) ? shmds_rwlock_try_rdlock(rw_) : shmds_rwlock_rdlock(rw_, kTimeout);
        if (rc == -EAGAIN || rc == -ETIMEDOUT) return Step::idle;
        if (rc != 0 && rc != SHMDS_EOWNERDEAD) {
            violation("shmds_rwlock_rdlock: {}", describe_rc(rc));
            return Step::idle;
        }
        w.enter(kReader);
        if (unsigned writers = w.others_inside(kWriter))
            violation("rwlock: reader {} got in with {} writer(s) inside", w.index(), writers);
        if (rc == 0 && !data_->consistent())
            violation("rwlock: rdlock returned 0 over half-updated data (a {} b {})",
                      data_->a.load(), data_->b.load());
        Guarded::dawdle(w);
        w.leave();
        if (int u = shmds_rwlock_unlock(rw_)) violation("shmds_rwlock_unlock: {}", describe_rc(u));
        return Step::progress;
    }

    shmds_rwlock_t *rw_ = nullptr;
    Guarded *data_ = nullptr;
};

}  // namespace
}  // namespace soak

SOAK_WORKLOAD(rwlock,
              "writers alone, readers never beside a writer; half-updated data only with "
              "SHMDS_EOWNERDEAD; no lost update",
              2, soak::RwLock);
