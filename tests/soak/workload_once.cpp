// once: every worker asks to initialize (timed or NOWAIT). The one told to (1) checks it
// is the only initializer alive, initializes for a while, marks it done, and often
// resets it so the next round elects again. A killed initializer must be replaced (its
// waiters elect one) instead of leaving the others waiting for good.
#include "guarded.hpp"

#include <shmds/sync.h>

#include <cerrno>

namespace soak {
namespace {

constexpr std::int64_t kTimeout = 100'000'000;
constexpr std::uint32_t kInitializer = 1;

class Once : public Workload {
public:
    void setup(const Params &) override {
        int rc = shmds_once_create(nullptr, &o_);
        if (rc != 0) violation("shmds_once_create: {}", describe_rc(rc));
        rounds_ = shared_array<std::atomic<std::uint64_t>>(1);
    }

    Step step(Worker &w) override {
        int rc = shmds_once_enter(o_, w.chance(20) ? SHMDS_NOWAIT : kTimeout);
        if (rc == -EAGAIN || rc == -ETIMEDOUT) return Step::idle;
        if (rc == 0) {
            // Done; start the next round now and then so initializers keep being elected.
            if (w.chance(30)) {
                int r = shmds_once_reset(o_);
                if (r != 0 && r != -EBUSY) violation("shmds_once_reset: {}", describe_rc(r));
            }
            return Step::progress;
        }
        if (rc != 1) {
            violation("shmds_once_enter: {}", describe_rc(rc));
            return Step::idle;
        }
        w.enter(kInitializer);
        if (unsigned others = w.others_inside(kInitializer))
            violation("once: worker {} was elected initializer while {} other live "
                      "initializer(s) were running",
                      w.index(), others);
        Guarded::dawdle(w);
        rounds_->fetch_add(1);
        w.leave();
        if (int d = shmds_once_done(o_)) violation("shmds_once_done: {}", describe_rc(d));
        return Step::progress;
    }

    void verify(const Params &, const Deaths &) override {
        // With every worker gone, a dead initializer must not keep the supervisor out.
        int rc = shmds_once_enter(o_, 2'000'000'000);
        if (rc == 1)
            shmds_once_done(o_);
        else if (rc != 0)
            violation("after the run the supervisor cannot get past once_enter: {}",
                      describe_rc(rc));
        note("initializations completed {}, once recoveries {}", rounds_->load(),
             shmds_once_recoveries(o_));
        shmds_once_close(o_);
    }

private:
    shmds_once_t *o_ = nullptr;
    std::atomic<std::uint64_t> *rounds_ = nullptr;
};

}  // namespace
}  // namespace soak

SOAK_WORKLOAD(once, "one live initializer at a time; a killed initializer is replaced", 2,
              soak::Once);
