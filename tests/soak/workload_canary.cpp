// Canaries: workloads that break a rule on purpose, so the soak's own detection is tested
// (run with --expect-violation; `--structure all` skips them).
//  canary_wedge:   one worker stops returning from its step; the watchdog must say so.
//  canary_overlap: "locks" with no lock at all; Worker::others_inside must see two holders.
#include "soak.hpp"

#include <ctime>
#include <unistd.h>

namespace soak {
namespace {

void sleep_us(long us) {
    timespec ts{0, us * 1000};
    nanosleep(&ts, nullptr);
}

class CanaryWedge : public Workload {
public:
    void setup(const Params &) override {}
    Step step(Worker &w) override {
        sleep_us(1000);
        if (w.index() == 0 && ++steps_ == 200) pause();  // wedged for good
        return Step::progress;
    }
    void verify(const Params &, const Deaths &) override {}

private:
    unsigned steps_ = 0;
};

class CanaryOverlap : public Workload {
public:
    void setup(const Params &) override {}
    Step step(Worker &w) override {
        w.enter(1);
        if (unsigned others = w.others_inside(1))
            violation("canary_overlap: worker {} is inside with {} other(s)", w.index(), others);
        sleep_us(100);
        w.leave();
        return Step::progress;
    }
    void verify(const Params &, const Deaths &) override {}
};

}  // namespace
}  // namespace soak

SOAK_WORKLOAD(canary_wedge, "must fail: one worker wedges inside a step", 2, soak::CanaryWedge);
SOAK_WORKLOAD(canary_overlap, "must fail: two workers inside a lock that is no lock", 2,
              soak::CanaryOverlap);
