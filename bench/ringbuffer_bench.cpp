// RingBuffer benchmarks (issue 12): write rate from one and from two processes and the
// read-latest rate, of an int64 libshmds ring against the ceiling the issue names: an
// unchecked seqlock'd array (per-slot sequence, odd while written, plus the value; a
// fetch_add on a shared head picks the slot). The array has no crash safety at all: a
// writer killed mid-write leaves its slot odd for ever, and a lapped writer overwrites
// a newer value. The libshmds ring pays for both guarantees with one 16-byte CAS per
// write instead of two plain stores.
#include "drivers.hpp"
#include "harness.hpp"
#include "procs.hpp"
#include "timed_rate.hpp"

#include <shmds/ringbuffer.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace shmds::bench {

namespace {

constexpr std::uint64_t kCap = 4096;
constexpr const char *kCeiling = "seqlock-array";

// ---- the subjects: write(v) and latest(&v) -----------------------------------------

// Cap: kCap masks; any other capacity divides on every write (shmds-cap4000).
template <std::uint64_t Cap = kCap>
class ShmdsRing {
public:
    ShmdsRing() {
        shmds_ringbuffer_config_t cfg = SHMDS_RINGBUFFER_CONFIG_INIT(SHMDS_TYPE_INT64, Cap);
        if (shmds_ringbuffer_create(nullptr, &cfg, &r_) != 0)
            throw Failure(std::string("shmds_ringbuffer_create: ") + shmds_last_error());
    }
    ~ShmdsRing() { shmds_ringbuffer_close(r_); }
    ShmdsRing(const ShmdsRing &) = delete;
    ShmdsRing &operator=(const ShmdsRing &) = delete;
    void write(std::int64_t v) {
        if (__builtin_expect(shmds_ringbuffer_write_int(r_, v, nullptr) != 0, 0))
            throw Failure("shmds_ringbuffer_write_int failed");
    }
    bool latest(std::int64_t &v) { return shmds_ringbuffer_latest_int(r_, 0, &v, nullptr) == 0; }
    const char *note() const { return "16-byte CAS commit, no takeover needed"; }

private:
    shmds_ringbuffer_t *r_ = nullptr;
};

// The ceiling: what a ring costs with no crash safety.
struct SeqlockArray {
    struct alignas(16) Slot {
        std::atomic<std::uint64_t> seq;  // 2 * (sequence + 1) when written; odd while writing
        std::atomic<std::int64_t> value;
    };
    alignas(64) std::atomic<std::uint64_t> head{0};
    alignas(64) Slot slots[kCap];

    void write(std::int64_t v) {
        const std::uint64_t s = head.fetch_add(1, std::memory_order_acq_rel);
        Slot &slot = slots[s % kCap];
        slot.seq.store(2 * (s + 1) - 1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
        slot.value.store(v, std::memory_order_relaxed);
        slot.seq.store(2 * (s + 1), std::memory_order_release);
    }
    bool latest(std::int64_t &v) {
        const std::uint64_t h = head.load(std::memory_order_acquire);
        if (h == 0) return false;
        Slot &slot = slots[(h - 1) % kCap];
        for (;;) {
            const std::uint64_t a = slot.seq.load(std::memory_order_acquire);
            if (a != 2 * h) return false;  // being written, or another lap
            v = slot.value.load(std::memory_order_relaxed);
            std::atomic_thread_fence(std::memory_order_acquire);
            if (slot.seq.load(std::memory_order_relaxed) == a) return true;
        }
    }
};

// For information, what the single 8-byte CAS design the ring does not use would cost:
// the narrow pubsub slot's {32-bit sequence, 32-bit value} word, committed with one
// 8-byte CAS refused for a later lap. It holds only 32-bit values (not the issue's
// 64-bit integers and f64) and its sequence wraps.
struct Cas8Array {
    alignas(64) std::atomic<std::uint64_t> head{0};
    alignas(64) std::atomic<std::uint64_t> slots[kCap];

    void write(std::int64_t v) {
        const std::uint64_t s = head.fetch_add(1, std::memory_order_acq_rel);
        std::atomic<std::uint64_t> &slot = slots[s % kCap];
        const std::uint32_t tag = std::uint32_t(s + 1);
        const std::uint64_t word = (std::uint64_t(std::uint32_t(v)) << 32) | tag;
        std::uint64_t cur = slot.load(std::memory_order_relaxed);
        while (std::int32_t(std::uint32_t(cur) - tag) < 0 &&
               !slot.compare_exchange_weak(cur, word, std::memory_order_seq_cst,
                                           std::memory_order_relaxed)) {
        }
    }
    bool latest(std::int64_t &v) {
        const std::uint64_t h = head.load(std::memory_order_acquire);
        if (h == 0) return false;
        const std::uint64_t w = slots[(h - 1) % kCap].load(std::memory_order_acquire);
        if (std::uint32_t(w) != std::uint32_t(h)) return false;
        v = std::int64_t(w >> 32);
        return true;
    }
};

class Cas8Ring {
public:
    void write(std::int64_t v) { a_->write(v); }
    bool latest(std::int64_t &v) { return a_->latest(v); }
    const char *note() const { return "information: 8-byte CAS, 32-bit values only"; }

private:
    Shared<Cas8Array> a_;
};

class SeqlockRing {
public:
    void write(std::int64_t v) { a_->write(v); }
    bool latest(std::int64_t &v) { return a_->latest(v); }
    const char *note() const { return "unchecked: no crash safety, lapped writers clobber"; }

private:
    Shared<SeqlockArray> a_;
};

// ---- the workloads --------------------------------------------------------------------

// ring_write: one process writes; ring_write2: two processes write at once.
template <typename R>
void run_write(const RunParams &p, Sample &s, int writers) {
    R ring;
    s.note(ring.note());
    Shared<StartLine> line;
    auto worker = [&](int who) {
        return [&, who](ChildReport &r) {
            std::int64_t v = std::int64_t(who) << 40;
            timed(p.seconds / 10, [&] { ring.write(++v); });
            line->arrive_and_wait(writers);
            timed(p.seconds, [&] { ring.write(++v); }).into(r);
        };
    };
    std::vector<ChildSpec> specs{{p.cpu_a, worker(0)}};
    if (writers == 2) specs.push_back({p.cpu_b, worker(1)});
    add_rate(s, run_children(specs, case_timeout(p)), "writes/s");
}

// ring_latest: one process reads the newest value of a full ring, checked.
template <typename R>
void run_latest(const RunParams &p, Sample &s) {
    R ring;
    s.note(ring.note());
    for (std::uint64_t i = 1; i <= kCap; ++i) ring.write(std::int64_t(i));
    auto reports = run_children(
        {{p.cpu_a,
          [&](ChildReport &r) {
              std::int64_t v = 0, sink = 0;
              auto read = [&] {
                  if (__builtin_expect(!ring.latest(v) || v != std::int64_t(kCap), 0))
                      throw Failure("latest did not return the newest value");
                  sink += v;
              };
              timed(p.seconds / 10, read);
              timed(p.seconds, read).into(r);
              r.values[4] = double(sink & 1);
          }}},
        case_timeout(p));
    add_rate(s, reports, "reads/s");
}

template <typename R>
void add_subject(const std::string &subject, const std::string &vs) {
    add_case({"ring_write/int64", subject, vs,
              [](const RunParams &p, Sample &s) { run_write<R>(p, s, 1); }});
    add_case({"ring_write2/int64", subject, vs,
              [](const RunParams &p, Sample &s) { run_write<R>(p, s, 2); }});
    add_case({"ring_latest/int64", subject, vs,
              [](const RunParams &p, Sample &s) { run_latest<R>(p, s); }});
}

void register_ringbuffer_benchmarks() {
    add_subject<ShmdsRing<>>("shmds", kCeiling);
    add_subject<SeqlockRing>(kCeiling, "");
    add_subject<Cas8Ring>("cas8-32bit", kCeiling);
    add_case({"ring_write/int64", "shmds-cap4000", kCeiling,
              [](const RunParams &p, Sample &s) { run_write<ShmdsRing<4000>>(p, s, 1); }});
    add_target({"ring_write/int64", "shmds", "rate", kCeiling, true, 0.5,
                "RingBuffer write, one process, vs an unchecked seqlock'd array"});
    add_target({"ring_write2/int64", "shmds", "rate", kCeiling, true, 0.5,
                "RingBuffer write, two processes, vs an unchecked seqlock'd array"});
}

}  // namespace

SHMDS_BENCH_REGISTER(register_ringbuffer_benchmarks);

}  // namespace shmds::bench
