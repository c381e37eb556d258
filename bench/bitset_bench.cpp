// BitSet benchmarks (issue 13): set and test rates of a libshmds bit set against the
// ceiling the issue names, a bare std::atomic<uint64_t> array in a MAP_SHARED mapping
// (fetch_or to set, a load to test) with no range check, no frozen flag and no
// read-only handle. Both run in the same invocation over the same bit sequence: a
// stride through 2^16 bits (8 KiB of words, in L1) that moves to another word on every
// operation, so neither side profits from one hot word.
#include "drivers.hpp"
#include "harness.hpp"
#include "procs.hpp"
#include "timed_rate.hpp"

#include <shmds/bitset.h>

#include <atomic>
#include <cstdint>
#include <string>

namespace shmds::bench {

namespace {

constexpr std::uint64_t kBits = std::uint64_t{1} << 16;
constexpr std::uint64_t kStride = 64 * 37 + 5;  // odd: visits every bit, a new word each time
constexpr const char *kCeiling = "atomic-array";

class ShmdsBitset {
public:
    ShmdsBitset() {
        shmds_bitset_config_t cfg = SHMDS_BITSET_CONFIG_INIT(kBits);
        if (shmds_bitset_create(nullptr, &cfg, &b_) != 0)
            throw Failure(std::string("shmds_bitset_create: ") + shmds_last_error());
    }
    ~ShmdsBitset() { shmds_bitset_close(b_); }
    ShmdsBitset(const ShmdsBitset &) = delete;
    ShmdsBitset &operator=(const ShmdsBitset &) = delete;
    int set(std::uint64_t bit) { return shmds_bitset_set(b_, bit); }
    int test(std::uint64_t bit) { return shmds_bitset_test(b_, bit); }
    const char *note() const { return "range-checked, freezable, lock-free"; }
    shmds_bitset_t *handle() const { return b_; }

private:
    shmds_bitset_t *b_ = nullptr;
};

// The same set read through its words with the header's inline test: no call per bit,
// the same range check against the handle's size.
class ShmdsInline : public ShmdsBitset {
public:
    ShmdsInline() : words_(shmds_bitset_words(handle())), nbits_(shmds_bitset_size(handle())) {}
    int test(std::uint64_t bit) { return shmds_bitset_words_test_inline(words_, nbits_, bit); }
    const char *note() const { return "shmds_bitset_words + the inline test, range-checked"; }

private:
    const std::uint64_t *words_;
    std::uint64_t nbits_;
};

struct AtomicWords {
    std::atomic<std::uint64_t> words[kBits / 64];
};

// The ceiling: the same words with nothing around them.
class AtomicArray {
public:
    int set(std::uint64_t bit) {
        const std::uint64_t m = std::uint64_t{1} << (bit % 64);
        return (a_->words[bit / 64].fetch_or(m, std::memory_order_acq_rel) & m) != 0;
    }
    int test(std::uint64_t bit) {
        return (a_->words[bit / 64].load(std::memory_order_acquire) >> (bit % 64)) & 1;
    }
    const char *note() const { return "unchecked: no range check, no freeze"; }

private:
    Shared<AtomicWords> a_;
};

// bitset_set: one process sets bits (the first lap changes them, later laps find them
// set: the same locked instruction either way); bitset_test: one process tests them.
template <typename B, bool Set>
void run(const RunParams &p, Sample &s) {
    B bits;
    s.note(bits.note());
    if (!Set)
        for (std::uint64_t i = 0; i < kBits; i += 3) bits.set(i);
    auto reports = run_children(
        {{p.cpu_a,
          [&](ChildReport &r) {
              std::uint64_t bit = 0, sink = 0;
              auto op = [&] {
                  const int v = Set ? bits.set(bit) : bits.test(bit);
                  if (__builtin_expect(v < 0, 0)) throw Failure("a bit verb failed");
                  if (!Set && __builtin_expect(v != (bit % 3 == 0), 0))
                      throw Failure("test returned the wrong bit");
                  sink += std::uint64_t(v);
                  bit = (bit + kStride) % kBits;
              };
              timed(p.seconds / 10, op);
              timed(p.seconds, op).into(r);
              r.values[4] = double(sink & 1);
          }}},
        case_timeout(p));
    add_rate(s, reports, Set ? "sets/s" : "tests/s");
}

template <typename B>
void add_subject(const std::string &subject, const std::string &vs) {
    add_case({"bitset_set", subject, vs, [](const RunParams &p, Sample &s) { run<B, true>(p, s); }});
    add_case({"bitset_test", subject, vs, [](const RunParams &p, Sample &s) { run<B, false>(p, s); }});
}

void register_bitset_benchmarks() {
    add_subject<ShmdsBitset>("shmds", kCeiling);
    add_subject<AtomicArray>(kCeiling, "");
    add_case({"bitset_test", "shmds-inline", kCeiling,
              [](const RunParams &p, Sample &s) { run<ShmdsInline, false>(p, s); }});
    add_target({"bitset_set", "shmds", "rate", kCeiling, true, 0.7,
                "BitSet set, one process, vs a bare atomic fetch_or on a MAP_SHARED array"});
    // A test through the C call pays the call itself (the function is one compare and
    // one load): about 0.55-0.6x of an inlined bare load. The header's inline test over
    // shmds_bitset_words() is the hot-loop path the target holds.
    add_target({"bitset_test", "shmds-inline", "rate", kCeiling, true, 0.7,
                "BitSet inline test (shmds_bitset_words), one process, vs a bare atomic load"});
}

}  // namespace

SHMDS_BENCH_REGISTER(register_bitset_benchmarks);

}  // namespace shmds::bench
