// ringbuffer, int64: even workers write self-checking values (single or batched), odd
// ones read the window (to_list, latest, wait_for) and check every value: its checksum
// (never torn), and within each copy of the window, per writer incarnation, counters
// strictly increasing with the sequence (no duplicate, no value under a foreign
// sequence). Afterwards the supervisor checks the final window the same way, that the
// write count covers every write that returned, and that the sequences claimed but
// never written are no more than the dead writers held.
#include "soak.hpp"

#include <shmds/ringbuffer.h>

#include <cerrno>
#include <map>
#include <sched.h>
#include <utility>
#include <vector>

namespace soak {
namespace {

constexpr std::uint64_t kCap = 512;
constexpr std::size_t kBatch = 4;
constexpr std::int64_t kTimeout = 100'000'000;

bool is_writer(unsigned index) { return index % 2 == 0; }

// value = index:6 | incarnation:18 | counter:32 | check:8 (high to low).
std::uint8_t check_of(std::uint64_t body) {
    std::uint64_t h = body * 0x9E3779B97F4A7C15ull;
    return std::uint8_t(h >> 56) ^ 0x5a;
}
std::int64_t make_value(unsigned index, std::uint32_t incarnation, std::uint32_t counter) {
    const std::uint64_t body = (std::uint64_t(index & 63) << 50) |
                               (std::uint64_t(incarnation & 0x3ffff) << 32) | counter;
    return std::int64_t((body << 8) | check_of(body));
}
struct Decoded {
    unsigned index;
    std::uint32_t incarnation, counter;
};
bool decode(std::int64_t v, Decoded &d) {
    const std::uint64_t u = std::uint64_t(v), body = u >> 8;
    if (check_of(body) != std::uint8_t(u)) return false;
    d = Decoded{unsigned(body >> 50), std::uint32_t((body >> 32) & 0x3ffff), std::uint32_t(body)};
    return true;
}

class RingBufferWorkload : public Workload {
public:
    void setup(const Params &p) override {
        shmds_ringbuffer_config_t cfg = SHMDS_RINGBUFFER_CONFIG_INIT(SHMDS_TYPE_INT64, kCap);
        if (int rc = shmds_ringbuffer_create(nullptr, &cfg, &rb_))
            violation("shmds_ringbuffer_create: {}", describe_rc(rc));
        workers_ = p.workers;
        returned_ = shared_array<std::atomic<std::uint64_t>>(p.workers);
    }

    Step step(Worker &w) override { return is_writer(w.index()) ? write(w) : read(w); }

    void verify(const Params &, const Deaths &deaths) override {
        std::uint64_t window = shmds_ringbuffer_size(rb_);
        const std::size_t n = check_window("the final read-back");
        std::uint64_t returned = 0;
        for (unsigned i = 0; i < workers_; ++i) returned += returned_[i].load();
        const std::uint64_t count = shmds_ringbuffer_count(rb_);
        const std::uint64_t dead_held = deaths.held_where(is_writer);
        if (count < returned)
            violation("ringbuffer: count {} is below the {} writes that returned", count, returned);
        if (count - returned > dead_held)
            violation("ringbuffer: {} writes claimed but never returned, the dead held only {}",
                      count - returned, dead_held);
        if (window - n > dead_held)
            violation("ringbuffer: {} sequences of the final window are missing, the dead held "
                      "only {}",
                      window - n, dead_held);
        shmds_ringbuffer_stats_t st{};
        st.struct_size = sizeof st;
        shmds_ringbuffer_stats(rb_, &st);
        note("final window {} of {} values intact; writes {} (returned {}), stale {}, "
             "recoveries {}",
             n, window, count, returned, st.stale_writes, st.recoveries);
        shmds_ringbuffer_close(rb_);
    }

private:
    Step write(Worker &w) {
        std::int64_t vals[kBatch];
        const std::size_t n = w.chance(25) ? 1 + w.rng()() % kBatch : 1;
        for (std::size_t i = 0; i < n; ++i)
            vals[i] = make_value(w.index(), w.incarnation(), counter_++);
        w.hold(std::uint32_t(n));  // a kill now may leave claimed, unwritten sequences
        const int rc = n == 1 ? shmds_ringbuffer_write_int(rb_, vals[0], nullptr)
                              : shmds_ringbuffer_write_multi_int(rb_, vals, n, nullptr);
        if (rc == 0) returned_[w.index()].fetch_add(n);
        w.release();
        if (rc != 0) {
            violation("shmds_ringbuffer_write: {}", describe_rc(rc));
            return Step::idle;
        }
        if (w.chance(50)) sched_yield();  // writers never block: give readers a turn
        return Step::progress;
    }

    Step read(Worker &w) {
        if (w.chance(20)) {
            const int rc = shmds_ringbuffer_wait_for(rb_, shmds_ringbuffer_count(rb_), kTimeout);
            if (rc != 0 && rc != -ETIMEDOUT) violation("shmds_ringbuffer_wait_for: {}", describe_rc(rc));
            return rc == 0 ? Step::progress : Step::idle;
        }
        if (w.chance(50)) {
            std::int64_t v;
            std::uint64_t seq;
            const int rc = shmds_ringbuffer_latest_int(rb_, w.rng()() % kCap, &v, &seq);
            if (rc == -EAGAIN || rc == -ENOENT) return Step::idle;
            if (rc != 0) {
                violation("shmds_ringbuffer_latest_int: {}", describe_rc(rc));
                return Step::idle;
            }
            Decoded d;
            if (!decode(v, d)) violation("ringbuffer: latest gave a torn value {:#x} at seq {}", v, seq);
            return Step::progress;
        }
        return check_window("a reader") ? Step::progress : Step::idle;
    }

    // Copy the window and check it; returns how many values it held.
    std::size_t check_window(const char *who) {
        std::vector<std::int64_t> vals(kCap);
        std::vector<std::uint64_t> seqs(kCap);
        std::size_t n = 0;
        if (int rc = shmds_ringbuffer_to_list_int(rb_, vals.data(), seqs.data(), kCap, &n)) {
            violation("shmds_ringbuffer_to_list_int: {}", describe_rc(rc));
            return 0;
        }
        std::map<std::pair<unsigned, std::uint32_t>, std::uint32_t> last;  // incarnation -> counter
        for (std::size_t i = 0; i < n; ++i) {
            if (i && seqs[i] <= seqs[i - 1])
                violation("ringbuffer: {} got sequences out of order ({} after {})", who, seqs[i],
                          seqs[i - 1]);
            Decoded d;
            if (!decode(vals[i], d)) {
                violation("ringbuffer: {} got a torn value {:#x} at seq {}", who, vals[i], seqs[i]);
                continue;
            }
            const auto key = std::make_pair(d.index, d.incarnation);
            auto it = last.find(key);
            if (it != last.end() && d.counter <= it->second)
                violation("ringbuffer: {} saw writer {} incarnation {} counter {} at seq {} after "
                          "counter {}: duplicated or under a foreign sequence",
                          who, d.index, d.incarnation, d.counter, seqs[i], it->second);
            last[key] = d.counter;
        }
        return n;
    }

    shmds_ringbuffer_t *rb_ = nullptr;
    unsigned workers_ = 0;
    std::atomic<std::uint64_t> *returned_ = nullptr;  // per worker index: writes that returned
    // Worker-local.
    std::uint32_t counter_ = 0;
};

}  // namespace
}  // namespace soak

SOAK_WORKLOAD(ringbuffer,
              "values intact, per writer in sequence order without duplicates, claimed but "
              "unwritten sequences only as many as the dead held",
              2, soak::RingBufferWorkload);
