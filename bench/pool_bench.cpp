// Pool benchmarks (issue 13): alloc+free of one slot in one process (pool_single) and in
// two processes at once on two CPUs (pool_2procs, the rates of both added), int64
// slots, in one run with the peer: a boost::interprocess node_allocator in a
// managed_shared_memory segment (its shared node pool, which serialises every
// allocate_one/deallocate_one under the pool's interprocess mutex).
#include "drivers.hpp"
#include "harness.hpp"
#include "procs.hpp"
#include "queue_channels.hpp"

#include <shmds/pool.h>

#include <boost/interprocess/allocators/node_allocator.hpp>
#include <boost/interprocess/managed_shared_memory.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <unistd.h>

namespace shmds::bench {

namespace {

namespace bip = boost::interprocess;

constexpr std::uint64_t kSlots = 1024;

class ShmdsPoolSubject {
public:
    ShmdsPoolSubject() {
        shmds_pool_config_t cfg = SHMDS_POOL_CONFIG_INIT(SHMDS_TYPE_INT64, kSlots, 0);
        check_shmds(shmds_pool_create(nullptr, &cfg, &p_), "shmds_pool_create");
    }
    ~ShmdsPoolSubject() { shmds_pool_close(p_); }
    ShmdsPoolSubject(const ShmdsPoolSubject &) = delete;
    ShmdsPoolSubject &operator=(const ShmdsPoolSubject &) = delete;
    std::string note() const { return "try_alloc + free, int64 slots (zeroed by alloc)"; }
    std::uint64_t step() {
        std::uint64_t i;
        if (shmds_pool_try_alloc(p_, &i) != 0) throw Failure("shmds_pool_try_alloc failed");
        shmds_pool_free(p_, i);
        return 1;
    }

private:
    shmds_pool_t *p_ = nullptr;
};

class BoostNodeSubject {
public:
    BoostNodeSubject() : owner_(getpid()) {
        static std::atomic<int> serial{0};
        name_ = "shmds-bench-bipnode-" + std::to_string(owner_) + "-" +
                std::to_string(serial.fetch_add(1));
        bip::shared_memory_object::remove(name_.c_str());
        seg_ = std::make_unique<bip::managed_shared_memory>(bip::create_only, name_.c_str(),
                                                            1 << 20);
        alloc_ = std::make_unique<Alloc>(seg_->get_segment_manager());
    }
    ~BoostNodeSubject() {
        if (getpid() != owner_) return;
        alloc_.reset();
        seg_.reset();
        bip::shared_memory_object::remove(name_.c_str());
    }
    BoostNodeSubject(const BoostNodeSubject &) = delete;
    BoostNodeSubject &operator=(const BoostNodeSubject &) = delete;
    std::string note() const { return "bip::node_allocator<int64>: allocate_one + deallocate_one"; }
    std::uint64_t step() {
        auto p = alloc_->allocate_one();
        *p = 0;  // as the pool zeroes what it hands out
        alloc_->deallocate_one(p);
        return 1;
    }

private:
    using Alloc = bip::node_allocator<std::int64_t, bip::managed_shared_memory::segment_manager>;
    pid_t owner_;
    std::string name_;
    std::unique_ptr<bip::managed_shared_memory> seg_;
    std::unique_ptr<Alloc> alloc_;
};

constexpr const char *kSingle = "pool_single/int64";
constexpr const char *kTwo = "pool_2procs/int64";

template <typename Subject>
void add_single(const std::string &subject, const std::string &vs) {
    add_case({kSingle, subject, vs, [](const RunParams &p, Sample &s) {
                  Subject sub;
                  s.note(sub.note());
                  run_pairs(p, s, [&] { return sub.step(); });
              }});
}

// Both processes start together and loop for the same wall-clock time; the case's rate
// is the sum of their rates (alloc+free pairs per second of the pool as a whole).
template <typename Subject>
void add_two(const std::string &subject, const std::string &vs) {
    add_case({kTwo, subject, vs, [](const RunParams &p, Sample &s) {
                  Subject sub;
                  s.note(sub.note());
                  Shared<StartLine> start;
                  auto body = [&](ChildReport &r) {
                      start->arrive_and_wait(2);
                      const std::int64_t run_ns = std::int64_t(p.seconds * 1e9);
                      std::uint64_t pairs = 0;
                      const std::int64_t t0 = now_ns(), until = t0 + run_ns;
                      std::int64_t t = t0;
                      do {
                          for (int i = 0; i < 64; ++i) pairs += sub.step();
                      } while ((t = now_ns()) < until);
                      r.values[0] = double(pairs) / (double(t - t0) * 1e-9);
                  };
                  auto reports = run_children({{p.cpu_a, body}, {p.cpu_b, body}}, case_timeout(p));
                  s.add("rate", reports[0].values[0] + reports[1].values[0], "pairs/s");
              }});
}

void register_pool_benchmarks() {
    add_single<ShmdsPoolSubject>("pool", "boost-node");
    add_single<BoostNodeSubject>("boost-node", "");
    add_two<ShmdsPoolSubject>("pool", "boost-node");
    add_two<BoostNodeSubject>("boost-node", "");
    add_target({kTwo, "pool", "rate", "boost-node", true, 5,
                "Pool alloc+free in 2 processes vs boost::interprocess node_allocator"});
}

}  // namespace

SHMDS_BENCH_REGISTER(register_pool_benchmarks);

}  // namespace shmds::bench
