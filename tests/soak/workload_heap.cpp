// heap, INT64: even workers push (singly and in batches), odd ones pop (singly and in
// batches). Every value carries an item id and a tag derived from it, and every
// priority is derived from the id too, so a torn entry (a priority from one item, a
// value from another) shows; the ledger catches duplicates and losses beyond what the
// killed held in flight. Kills land inside the lock, mid-sift included: the takeover's
// repair must leave a heap whose final drain comes out in priority order.
#include "ledger.hpp"

#include <shmds/heap.h>

#include <cerrno>

namespace soak {
namespace {

constexpr std::int64_t kTimeout = 100'000'000;  // every call: 100 ms at most
constexpr std::size_t kBatch = 8;

bool is_producer(unsigned index) { return index % 2 == 0; }

std::int64_t priority_of(std::uint64_t id) { return std::int64_t(mix64(id) % 64) - 32; }

class Heap : public Workload {
public:
    void setup(const Params &) override {
        shmds_heap_config_t cfg = SHMDS_HEAP_CONFIG_INIT(SHMDS_TYPE_INT64, 48);
        int rc = shmds_heap_create(nullptr, &cfg, &h_);
        if (rc != 0) violation("shmds_heap_create: {}", describe_rc(rc));
        ledger_.setup(std::uint64_t{1} << 31);
    }

    Step step(Worker &w) override { return is_producer(w.index()) ? produce(w) : consume(w); }

    void finish(Worker &) override {
        if (pending_) ledger_.withdraw(id_);
    }

    void verify(const Params &, const Deaths &deaths) override {
        std::int64_t p = 0, v = 0, last = INT64_MIN;
        std::uint64_t drained = 0;
        int rc;
        while ((rc = shmds_heap_pop_int(h_, &p, &v, SHMDS_NOWAIT)) == 0) {
            receive(p, v, "the final drain");
            if (p < last) violation("final drain: priority {} after {}: not in order", p, last);
            last = p;
            ++drained;
        }
        if (rc != -EAGAIN) violation("final drain: shmds_heap_pop_int: {}", describe_rc(rc));
        shmds_heap_stats_t st{};
        st.struct_size = sizeof st;
        if ((rc = shmds_heap_stats(h_, &st)) != 0) violation("stats: {}", describe_rc(rc));
        note("drained {} items left in the heap; {} recoveries", drained, st.recoveries);
        ledger_.check("heap int64", deaths.held_where(is_producer),
                      deaths.held_where([](unsigned i) { return !is_producer(i); }));
        shmds_heap_close(h_);
    }

private:
    void receive(std::int64_t p, std::int64_t v, const char *by) {
        std::uint64_t id = 0;
        if (untag_item(v, id) && p != priority_of(id))
            violation("torn entry: {} got item {} with priority {}, pushed with {}", by, id, p,
                      priority_of(id));
        ledger_.receive_tagged(v, by);
    }

    Step produce(Worker &w) {
        if (!pending_) {
            w.hold(1);  // before the claim: a kill after it loses at most this item
            if (!ledger_.claim(id_)) {
                w.release();
                return Step::idle;
            }
            pending_ = true;
        }
        const int rc = shmds_heap_push_int(h_, priority_of(id_), tagged_item(id_),
                                           w.chance(10) ? SHMDS_NOWAIT : kTimeout);
        if (rc == 0) {
            ledger_.confirm(id_);
            pending_ = false;
            w.release();
            return Step::progress;
        }
        if (rc != -ETIMEDOUT && rc != -EAGAIN) violation("shmds_heap_push_int: {}", describe_rc(rc));
        return Step::idle;
    }

    Step consume(Worker &w) {
        std::int64_t prios[kBatch], values[kBatch];
        std::size_t got = 0;
        int rc;
        if (w.chance(30)) {
            w.hold(kBatch);
            rc = shmds_heap_pop_multi_int(h_, prios, values, kBatch, &got, kTimeout);
            // One lock hold: a batch comes out in order.
            for (std::size_t i = 1; rc == 0 && i < got; ++i)
                if (prios[i] < prios[i - 1])
                    violation("pop_multi: priority {} after {}", prios[i], prios[i - 1]);
        } else {
            w.hold(1);
            rc = shmds_heap_pop_int(h_, &prios[0], &values[0], w.chance(10) ? SHMDS_NOWAIT : kTimeout);
            got = rc == 0 ? 1 : 0;
        }
        for (std::size_t i = 0; i < got; ++i) receive(prios[i], values[i], "a consumer");
        w.release();
        if (rc == 0 && got > 0) return Step::progress;
        if (rc != 0 && rc != -ETIMEDOUT && rc != -EAGAIN)
            violation("shmds_heap_pop: {}", describe_rc(rc));
        return Step::idle;
    }

    shmds_heap_t *h_ = nullptr;
    Ledger ledger_;
    bool pending_ = false;
    std::uint64_t id_ = 0;
};

}  // namespace
}  // namespace soak

SOAK_WORKLOAD(heap, "exactly once, except items held by killed workers; priorities match their items; drains in order",
              2, soak::Heap);
