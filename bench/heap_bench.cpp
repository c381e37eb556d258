// Heap benchmarks (issue 14), int64 priorities and values, in one run with the issue's
// peer: std::priority_queue over a boost::interprocess::vector in a
// managed_shared_memory segment under an interprocess_mutex, with
// interprocess_conditions for blocking (the conventional shared-memory priority queue).
//  - heap_single: push+pop pairs in one process on a heap holding 1000 items of higher
//    priority, so every push sifts to the root and every pop sifts down the full depth.
//  - heap1p1c: a 1 producer -> 1 consumer stream across processes; priorities rise
//    with the stream, so the consumer gets it in order (the stream's own check).
#include "drivers.hpp"
#include "harness.hpp"
#include "peer_channels.hpp"
#include "queue_channels.hpp"

#include <shmds/heap.h>

#include <boost/interprocess/allocators/allocator.hpp>
#include <boost/interprocess/containers/vector.hpp>
#include <boost/interprocess/managed_shared_memory.hpp>
#include <boost/interprocess/sync/interprocess_condition.hpp>
#include <boost/interprocess/sync/interprocess_mutex.hpp>
#include <boost/interprocess/sync/scoped_lock.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <unistd.h>
#include <utility>

namespace shmds::bench {

namespace {

namespace bip = boost::interprocess;

constexpr std::size_t kResident = 1000;  // heap_single: items held under the pairs
// A message's priority: its sequence number, so the stream's stop marker (a huge
// sequence) sorts last instead of turning negative.
std::int64_t priority_of(std::uint64_t m) { return std::int64_t(m & INT64_MAX); }
constexpr std::int64_t kResidentPriority = std::int64_t{1} << 62;

class ShmdsHeapChannel {
public:
    using Msg = std::uint64_t;
    explicit ShmdsHeapChannel(std::size_t resident = 0) {
        shmds_options_t opts = SHMDS_OPTIONS_INIT;
        shmds_heap_config_t cfg =
            SHMDS_HEAP_CONFIG_INIT(SHMDS_TYPE_INT64, kQueueCapacity + resident);
        check_shmds(shmds_heap_create(&opts, &cfg, &h_), "shmds_heap_create");
        for (std::size_t i = 0; i < resident; ++i)
            check_shmds(shmds_heap_push_int(h_, kResidentPriority + std::int64_t(i), 0, 0),
                        "shmds_heap_push_int");
    }
    ~ShmdsHeapChannel() { shmds_heap_close(h_); }
    ShmdsHeapChannel(const ShmdsHeapChannel &) = delete;
    ShmdsHeapChannel &operator=(const ShmdsHeapChannel &) = delete;
    std::string note() const { return "push_int(priority = seq) + pop_int"; }
    void send(const Msg &m) {
        check_shmds(shmds_heap_push_int(h_, priority_of(m), std::int64_t(m), SHMDS_FOREVER),
                    "shmds_heap_push_int");
    }
    void recv(Msg &m) {
        std::int64_t p, v;
        check_shmds(shmds_heap_pop_int(h_, &p, &v, SHMDS_FOREVER), "shmds_heap_pop_int");
        m = std::uint64_t(v);
    }

private:
    shmds_heap_t *h_ = nullptr;
};

// std::priority_queue<(priority, value)> over a bip::vector in managed shared memory,
// one interprocess_mutex and two interprocess_conditions.
class BoostHeapChannel {
public:
    using Msg = std::uint64_t;
    explicit BoostHeapChannel(std::size_t resident = 0) : owner_(getpid()) {
        static std::atomic<int> serial{0};
        name_ = "shmds-bench-bipheap-" + std::to_string(owner_) + "-" +
                std::to_string(serial.fetch_add(1));
        bip::shared_memory_object::remove(name_.c_str());
        seg_ = std::make_unique<bip::managed_shared_memory>(bip::create_only, name_.c_str(),
                                                            1 << 20);
        state_ = seg_->construct<State>("state")(seg_->get_segment_manager());
        for (std::size_t i = 0; i < resident; ++i)
            state_->items.push({kResidentPriority + std::int64_t(i), 0});
        capacity_ = kQueueCapacity + resident;
    }
    ~BoostHeapChannel() {
        if (getpid() != owner_) return;
        seg_.reset();
        bip::shared_memory_object::remove(name_.c_str());
    }
    BoostHeapChannel(const BoostHeapChannel &) = delete;
    BoostHeapChannel &operator=(const BoostHeapChannel &) = delete;
    std::string note() const {
        return "std::priority_queue<bip::vector> + interprocess_mutex + 2 conditions";
    }
    void send(const Msg &m) {
        bip::scoped_lock<bip::interprocess_mutex> lock(state_->mu);
        while (state_->items.size() >= capacity_) state_->not_full.wait(lock);
        state_->items.push({priority_of(m), std::int64_t(m)});
        state_->not_empty.notify_one();
    }
    void recv(Msg &m) {
        bip::scoped_lock<bip::interprocess_mutex> lock(state_->mu);
        while (state_->items.empty()) state_->not_empty.wait(lock);
        m = std::uint64_t(state_->items.top().second);
        state_->items.pop();
        state_->not_full.notify_one();
    }

private:
    using Entry = std::pair<std::int64_t, std::int64_t>;  // (priority, value)
    using Alloc = bip::allocator<Entry, bip::managed_shared_memory::segment_manager>;
    using Vec = bip::vector<Entry, Alloc>;
    struct State {
        explicit State(bip::managed_shared_memory::segment_manager *sm)
            : items(std::greater<Entry>(), make_vec(sm)) {}
        static Vec make_vec(bip::managed_shared_memory::segment_manager *sm) {
            Vec v{Alloc(sm)};
            v.reserve(4 * kQueueCapacity);
            return v;
        }
        bip::interprocess_mutex mu;
        bip::interprocess_condition not_empty, not_full;
        std::priority_queue<Entry, Vec, std::greater<Entry>> items;  // lowest first
    };
    pid_t owner_;
    std::string name_;
    std::unique_ptr<bip::managed_shared_memory> seg_;
    State *state_ = nullptr;
    std::size_t capacity_ = kQueueCapacity;
};

constexpr const char *kSingle = "heap_single/int64";
constexpr const char *kStream = "heap1p1c/int64";

template <typename Ch>
void add_single(const std::string &subject, const std::string &vs) {
    add_case({kSingle, subject, vs, [](const RunParams &p, Sample &s) {
                  Ch ch(kResident);
                  s.note(ch.note() + ", 1000 resident");
                  run_pairs(p, s, pair_step(ch));
              }});
}

template <typename Ch>
void add_stream(const std::string &subject, const std::string &vs) {
    add_case({kStream, subject, vs,
              [](const RunParams &p, Sample &s) {
                  Ch ch;
                  s.note(ch.note());
                  ItemStream<Ch> items(ch);
                  run_stream(p, s, items);
              },
              false});
}

void register_heap_benchmarks() {
    add_single<ShmdsHeapChannel>("heap", "boost-heap");
    add_single<BoostHeapChannel>("boost-heap", "");
    add_stream<ShmdsHeapChannel>("heap", "boost-heap");
    add_stream<BoostHeapChannel>("boost-heap", "");

    add_target({kStream, "heap", "rate", "boost-heap", true, 3,
                "Heap 1->1 across processes vs std::priority_queue in bip shared memory + mutex"});
}

}  // namespace

SHMDS_BENCH_REGISTER(register_heap_benchmarks);

}  // namespace shmds::bench
