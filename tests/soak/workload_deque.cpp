// deque, INT64: even workers push at a random end, odd ones pop at a random end (singly
// and in batches). Every value carries an item id and a tag derived from it, so a torn
// or invented value shows; the ledger catches duplicates and losses beyond what the
// killed held in flight. Kills land inside the lock: the takeover must keep it going.
#include "ledger.hpp"

#include <shmds/deque.h>

#include <cerrno>

namespace soak {
namespace {

constexpr std::int64_t kTimeout = 100'000'000;  // every call: 100 ms at most
constexpr std::size_t kBatch = 8;

bool is_producer(unsigned index) { return index % 2 == 0; }

class Deque : public Workload {
public:
    void setup(const Params &) override {
        shmds_deque_config_t cfg = SHMDS_DEQUE_CONFIG_INIT(SHMDS_TYPE_INT64, 48);
        int rc = shmds_deque_create(nullptr, &cfg, &d_);
        if (rc != 0) violation("shmds_deque_create: {}", describe_rc(rc));
        ledger_.setup(std::uint64_t{1} << 31);
    }

    Step step(Worker &w) override { return is_producer(w.index()) ? produce(w) : consume(w); }

    void finish(Worker &) override {
        if (pending_) ledger_.withdraw(id_);
    }

    void verify(const Params &, const Deaths &deaths) override {
        std::int64_t v = 0;
        std::uint64_t drained = 0;
        int rc;
        while ((rc = shmds_deque_pop_int(d_, SHMDS_DEQUE_FRONT, &v, SHMDS_NOWAIT)) == 0) {
            ledger_.receive_tagged(v, "the final drain");
            ++drained;
        }
        if (rc != -EAGAIN) violation("final drain: shmds_deque_pop_int: {}", describe_rc(rc));
        shmds_deque_stats_t st{};
        st.struct_size = sizeof st;
        if ((rc = shmds_deque_stats(d_, &st)) != 0) violation("stats: {}", describe_rc(rc));
        note("drained {} items left in the deque; {} recoveries", drained, st.recoveries);
        ledger_.check("deque int64", deaths.held_where(is_producer),
                      deaths.held_where([](unsigned i) { return !is_producer(i); }));
        shmds_deque_close(d_);
    }

private:
    int end(Worker &w) { return w.chance(50) ? SHMDS_DEQUE_FRONT : SHMDS_DEQUE_BACK; }

    Step produce(Worker &w) {
        if (!pending_) {
            w.hold(1);  // before the claim: a kill after it loses at most this item
            if (!ledger_.claim(id_)) {
                w.release();
                return Step::idle;
            }
            pending_ = true;
        }
        const int rc = shmds_deque_push_int(d_, end(w), tagged_item(id_),
                                            w.chance(10) ? SHMDS_NOWAIT : kTimeout);
        if (rc == 0) {
            ledger_.confirm(id_);
            pending_ = false;
            w.release();
            return Step::progress;
        }
        if (rc != -ETIMEDOUT && rc != -EAGAIN) violation("shmds_deque_push_int: {}", describe_rc(rc));
        return Step::idle;
    }

    Step consume(Worker &w) {
        std::int64_t values[kBatch];
        std::size_t got = 0;
        int rc;
        if (w.chance(30)) {
            w.hold(kBatch);
            rc = shmds_deque_pop_multi_int(d_, end(w), values, kBatch, &got, kTimeout);
        } else {
            w.hold(1);
            rc = shmds_deque_pop_int(d_, end(w), &values[0], w.chance(10) ? SHMDS_NOWAIT : kTimeout);
            got = rc == 0 ? 1 : 0;
        }
        for (std::size_t i = 0; i < got; ++i) ledger_.receive_tagged(values[i], "a consumer");
        w.release();
        if (rc == 0 && got > 0) return Step::progress;
        if (rc != 0 && rc != -ETIMEDOUT && rc != -EAGAIN)
            violation("shmds_deque_pop: {}", describe_rc(rc));
        return Step::idle;
    }

    shmds_deque_t *d_ = nullptr;
    Ledger ledger_;
    bool pending_ = false;
    std::uint64_t id_ = 0;
};

}  // namespace
}  // namespace soak

SOAK_WORKLOAD(deque, "exactly once at either end, except items held by killed workers; tags intact",
              2, soak::Deque);
