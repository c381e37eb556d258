// Deque and Stack benchmarks (issue 12): push+pop pairs in one process (seq_single)
// and a 1 producer -> 1 consumer stream across processes (seq1p1c), int64 items, in one
// run with the peers: atomic_queue (its MPMC queue in one process, as for the
// queue's q_single; its SPSC queue across processes) and boost::interprocess::deque<int64>
// in a managed_shared_memory segment under an interprocess_mutex, with
// interprocess_conditions for blocking (the conventional shared-memory deque).
// The deque runs its FIFO path (push_back, pop_front); the stack pushes and pops its top.
#include "drivers.hpp"
#include "harness.hpp"
#include "peer_channels.hpp"
#include "queue_channels.hpp"

#include <shmds/deque.h>
#include <shmds/stack.h>

#include <boost/interprocess/allocators/allocator.hpp>
#include <boost/interprocess/containers/deque.hpp>
#include <boost/interprocess/managed_shared_memory.hpp>
#include <boost/interprocess/sync/interprocess_condition.hpp>
#include <boost/interprocess/sync/interprocess_mutex.hpp>
#include <boost/interprocess/sync/scoped_lock.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <type_traits>
#include <unistd.h>

namespace shmds::bench {

namespace {

namespace bip = boost::interprocess;

class ShmdsDequeChannel {
public:
    using Msg = std::uint64_t;
    ShmdsDequeChannel() {
        shmds_options_t opts = SHMDS_OPTIONS_INIT;
        shmds_deque_config_t cfg = SHMDS_DEQUE_CONFIG_INIT(SHMDS_TYPE_INT64, kQueueCapacity);
        check_shmds(shmds_deque_create(&opts, &cfg, &d_), "shmds_deque_create");
    }
    ~ShmdsDequeChannel() { shmds_deque_close(d_); }
    ShmdsDequeChannel(const ShmdsDequeChannel &) = delete;
    ShmdsDequeChannel &operator=(const ShmdsDequeChannel &) = delete;
    std::string note() const { return "push_back + pop_front"; }
    void send(const Msg &m) {
        check_shmds(shmds_deque_push_int(d_, SHMDS_DEQUE_BACK, std::int64_t(m), SHMDS_FOREVER),
                    "shmds_deque_push_int");
    }
    void recv(Msg &m) {
        std::int64_t v;
        check_shmds(shmds_deque_pop_int(d_, SHMDS_DEQUE_FRONT, &v, SHMDS_FOREVER),
                    "shmds_deque_pop_int");
        m = std::uint64_t(v);
    }

private:
    shmds_deque_t *d_ = nullptr;
};

class ShmdsStackChannel {
public:
    using Msg = std::uint64_t;
    ShmdsStackChannel() {
        shmds_options_t opts = SHMDS_OPTIONS_INIT;
        shmds_stack_config_t cfg = SHMDS_STACK_CONFIG_INIT(SHMDS_TYPE_INT64, kQueueCapacity);
        check_shmds(shmds_stack_create(&opts, &cfg, &s_), "shmds_stack_create");
    }
    ~ShmdsStackChannel() { shmds_stack_close(s_); }
    ShmdsStackChannel(const ShmdsStackChannel &) = delete;
    ShmdsStackChannel &operator=(const ShmdsStackChannel &) = delete;
    std::string note() const { return "push + pop (LIFO: a stream's order is not kept)"; }
    void send(const Msg &m) {
        check_shmds(shmds_stack_push_int(s_, std::int64_t(m), SHMDS_FOREVER), "shmds_stack_push_int");
    }
    void recv(Msg &m) {
        std::int64_t v;
        check_shmds(shmds_stack_pop_int(s_, &v, SHMDS_FOREVER), "shmds_stack_pop_int");
        m = std::uint64_t(v);
    }
    bool try_recv(Msg &m) {
        std::int64_t v;
        const int rc = shmds_stack_pop_int(s_, &v, SHMDS_NOWAIT);
        if (rc == -EAGAIN) return false;
        check_shmds(rc, "shmds_stack_pop_int");
        m = std::uint64_t(v);
        return true;
    }

private:
    shmds_stack_t *s_ = nullptr;
};

// boost::interprocess::deque<int64> in managed shared memory, one interprocess_mutex
// and two interprocess_conditions: the blocking bounded deque Boost users write.
class BoostDequeChannel {
public:
    using Msg = std::uint64_t;
    BoostDequeChannel() : owner_(getpid()) {
        static std::atomic<int> serial{0};
        name_ = "shmds-bench-bipdeque-" + std::to_string(owner_) + "-" +
                std::to_string(serial.fetch_add(1));
        bip::shared_memory_object::remove(name_.c_str());
        seg_ = std::make_unique<bip::managed_shared_memory>(bip::create_only, name_.c_str(),
                                                            1 << 20);
        state_ = seg_->construct<State>("state")(seg_->get_segment_manager());
    }
    ~BoostDequeChannel() {
        if (getpid() != owner_) return;
        seg_.reset();
        bip::shared_memory_object::remove(name_.c_str());
    }
    BoostDequeChannel(const BoostDequeChannel &) = delete;
    BoostDequeChannel &operator=(const BoostDequeChannel &) = delete;
    std::string note() const { return "bip::deque + interprocess_mutex + 2 conditions"; }
    void send(const Msg &m) {
        bip::scoped_lock<bip::interprocess_mutex> lock(state_->mu);
        while (state_->items.size() >= kQueueCapacity) state_->not_full.wait(lock);
        state_->items.push_back(std::int64_t(m));
        state_->not_empty.notify_one();
    }
    void recv(Msg &m) {
        bip::scoped_lock<bip::interprocess_mutex> lock(state_->mu);
        while (state_->items.empty()) state_->not_empty.wait(lock);
        m = std::uint64_t(state_->items.front());
        state_->items.pop_front();
        state_->not_full.notify_one();
    }

private:
    using Alloc = bip::allocator<std::int64_t, bip::managed_shared_memory::segment_manager>;
    struct State {
        explicit State(bip::managed_shared_memory::segment_manager *sm) : items(Alloc(sm)) {}
        bip::interprocess_mutex mu;
        bip::interprocess_condition not_empty, not_full;
        bip::deque<std::int64_t, Alloc> items;
    };
    pid_t owner_;
    std::string name_;
    std::unique_ptr<bip::managed_shared_memory> seg_;
    State *state_ = nullptr;
};

constexpr const char *kSingle = "seq_single/int64";
constexpr const char *kStream = "seq1p1c/int64";

template <typename Ch>
void add_single(const std::string &subject, const std::string &vs) {
    add_case({kSingle, subject, vs, [](const RunParams &p, Sample &s) {
                  Ch ch;
                  s.note(ch.note());
                  run_pairs(p, s, pair_step(ch));
              }});
}

// A stack hands a stream back newest first, so its consumer counts items instead of
// checking their order, and the stop marker (pushed last, so popped early) ends the
// stream only once what lies under it is drained: every item is still counted once.
class StackStream {
public:
    explicit StackStream(ShmdsStackChannel &ch) : ch_(ch) {}
    std::uint64_t produce(std::uint64_t next) {
        ch_.send(next);
        return 1;
    }
    void finish() { ch_.send(kStop); }
    bool consume(SeqCheck &check) {
        std::uint64_t m = 0;
        ch_.recv(m);
        if (m != kStop) return check.take(check.received() + 1);
        while (ch_.try_recv(m)) check.take(check.received() + 1);
        return false;
    }

private:
    ShmdsStackChannel &ch_;
};

template <typename Ch>
void add_stream(const std::string &subject, const std::string &vs, bool spins) {
    add_case({kStream, subject, vs,
              [](const RunParams &p, Sample &s) {
                  Ch ch;
                  s.note(ch.note());
                  if constexpr (std::is_same_v<Ch, ShmdsStackChannel>) {
                      StackStream items(ch);
                      run_stream(p, s, items);
                  } else {
                      ItemStream<Ch> items(ch);
                      run_stream(p, s, items);
                  }
              },
              spins});
}

void register_sequential_benchmarks() {
    add_single<ShmdsDequeChannel>("deque", "atomic_queue");
    add_single<ShmdsStackChannel>("stack", "atomic_queue");
    add_single<MpmcSpinChannel<std::uint64_t>>("atomic_queue", "");
    add_single<BoostDequeChannel>("boost-deque", "");
    add_stream<ShmdsDequeChannel>("deque", "boost-deque", false);
    add_stream<ShmdsStackChannel>("stack", "boost-deque", false);
    add_stream<BoostDequeChannel>("boost-deque", "", false);
    add_stream<SpinChannel<std::uint64_t>>("atomic_queue", "", true);

    add_target({kSingle, "deque", "rate", "atomic_queue", true, 1.0,
                "Deque push+pop in one process vs atomic_queue (MPMC)"});
    add_target({kSingle, "stack", "rate", "atomic_queue", true, 1.0,
                "Stack push+pop in one process vs atomic_queue (MPMC)"});
    add_target({kStream, "deque", "rate", "boost-deque", true, 5,
                "Deque 1->1 across processes vs boost::interprocess::deque + mutex"});
    add_target({kStream, "stack", "rate", "boost-deque", true, 5,
                "Stack 1->1 across processes vs boost::interprocess::deque + mutex"});
}

}  // namespace

SHMDS_BENCH_REGISTER(register_sequential_benchmarks);

}  // namespace shmds::bench
