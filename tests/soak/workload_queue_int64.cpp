// queue, INT64 variant: even workers produce, odd ones consume. Every value carries an
// item id and a tag derived from it, so a torn or invented value shows; the ledger
// catches duplicates and losses beyond what the killed held in flight.
#include "ledger.hpp"

#include <shmds/queue.h>

#include <cerrno>

namespace soak {
namespace {

constexpr std::int64_t kTimeout = 100'000'000;  // every call: 100 ms at most
constexpr std::size_t kBatch = 8;

bool is_producer(unsigned index) { return index % 2 == 0; }

class QueueInt64 : public Workload {
public:
    void setup(const Params &) override {
        shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(SHMDS_QUEUE_INT64, 64);
        int rc = shmds_queue_create(nullptr, &cfg, &q_);
        if (rc != 0) violation("shmds_queue_create: {}", describe_rc(rc));
        ledger_.setup(std::uint64_t{1} << 31);
    }

    Step step(Worker &w) override {
        return is_producer(w.index()) ? produce(w) : consume(w);
    }

    void finish(Worker &) override {
        if (pending_) ledger_.withdraw(id_);
    }

    void verify(const Params &, const Deaths &deaths) override {
        // Collect what is still queued; the integer queue has no claim window, so a
        // NOWAIT pop that finds nothing means it is empty.
        std::int64_t v = 0;
        std::uint64_t drained = 0;
        int rc;
        while ((rc = shmds_queue_pop_int(q_, &v, SHMDS_NOWAIT)) == 0) {
            ledger_.receive_tagged(v, "the final drain");
            ++drained;
        }
        if (rc != -EAGAIN) violation("final drain: shmds_queue_pop_int: {}", describe_rc(rc));
        note("drained {} items left in the queue", drained);
        ledger_.check("queue int64", deaths.held_where(is_producer),
                      deaths.held_where([](unsigned i) { return !is_producer(i); }));
        shmds_queue_close(q_);
    }

private:
    Step produce(Worker &w) {
        if (!pending_) {
            w.hold(1);  // before the claim: a kill after it loses at most this item
            if (!ledger_.claim(id_)) {
                w.release();
                return Step::idle;
            }
            pending_ = true;
        }
        int rc = shmds_queue_push_int(q_, tagged_item(id_), w.chance(10) ? SHMDS_NOWAIT : kTimeout);
        if (rc == 0) {
            ledger_.confirm(id_);
            pending_ = false;
            w.release();
            return Step::progress;
        }
        if (rc != -ETIMEDOUT && rc != -EAGAIN)
            violation("shmds_queue_push_int: {}", describe_rc(rc));
        return Step::idle;
    }

    Step consume(Worker &w) {
        std::int64_t values[kBatch];
        std::size_t got = 0;
        int rc;
        if (w.chance(30)) {
            w.hold(kBatch);
            rc = shmds_queue_pop_multi_int(q_, values, kBatch, &got, kTimeout);
        } else {
            w.hold(1);
            rc = shmds_queue_pop_int(q_, &values[0], w.chance(10) ? SHMDS_NOWAIT : kTimeout);
            got = rc == 0 ? 1 : 0;
        }
        for (std::size_t i = 0; i < got; ++i) ledger_.receive_tagged(values[i], "a consumer");
        w.release();
        if (rc == 0 && got > 0) return Step::progress;
        if (rc != 0 && rc != -ETIMEDOUT && rc != -EAGAIN)
            violation("shmds_queue_pop: {}", describe_rc(rc));
        return Step::idle;
    }

    shmds_queue_t *q_ = nullptr;
    Ledger ledger_;
    // Worker-local (each process has its own copy of the object).
    bool pending_ = false;
    std::uint64_t id_ = 0;
};

}  // namespace
}  // namespace soak

SOAK_WORKLOAD(queue_int64,
              "exactly once, except items held by killed producers/consumers; tags intact",
              2, soak::QueueInt64);
