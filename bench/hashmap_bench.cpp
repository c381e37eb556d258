// HashMap benchmarks (issue 10): the libshmds map against the key-value stores a C/C++
// program would otherwise share between processes, in the same run:
//
//   kv_get/<shape>      uniformly random gets of 100k present keys, one process  -> gets/s
//   kv_mixed2/<shape>   2 processes, 90% get / 10% put of those keys              -> ops/s
//   kv_incr2/int64      2 processes incrementing random counters of 100k         -> incr/s
//
// shapes: int64 (int64 keys and values) and bytes16 (16-byte keys, 32-byte values).
// Subjects: shmds, boost_map (boost::unordered_map in managed_shared_memory under an
// interprocess_sharable_mutex), lmdb, redis (hiredis on a Unix socket) and, in kv_get,
// absl (flat_hash_map in one process, no lock: the ceiling). kv_subjects.hpp and
// kv_stores.hpp say how each runs; kv_shapes.hpp defines the keys, the values and the
// key sequence, the same for every subject.
//
// Every get checks that the value belongs to its key (a tag) and is not torn, and a
// counter run checks that the counters grew by exactly the increments made: a subject
// that loses or mixes data fails the case instead of reporting a speed.
#include "drivers.hpp"
#include "harness.hpp"
#include "kv_shapes.hpp"
#include "kv_stores.hpp"
#include "kv_subjects.hpp"
#include "procs.hpp"
#include "timed_rate.hpp"

#include <cstdint>
#include <string>

namespace shmds::bench {

namespace {

using kv::BytesShape;
using kv::IntShape;
using kv::KeyStream;

constexpr std::uint64_t kKeys = 100000;
constexpr const char *kBoost = "boost_map";
constexpr const char *kAbsl = "absl";

[[noreturn]] __attribute__((noinline)) void bad_get(std::uint64_t i, bool found) {
    throw Failure(found ? "key #" + std::to_string(i) + " returned a value of another key or a torn one"
                        : "key #" + std::to_string(i) + " is missing");
}

// One get of a random key, checked.
template <typename Shape, typename S>
inline void checked_get(S &s, std::uint64_t i) {
    typename Shape::Value v{};
    const bool found = s.get(Shape::key(i), v);
    if (__builtin_expect(!found || !Shape::valid(i, v), 0)) bad_get(i, found);
}

// kv_get: one process; the first tenth of the run warms caches and is not counted.
template <typename Shape, typename S>
void run_get(const RunParams &p, Sample &s, S &subject) {
    auto reports = run_children(
        {{p.cpu_a,
          [&](ChildReport &r) {
              subject.attach();
              KeyStream keys(kv::kSeeds[0]);
              auto get = [&] { checked_get<Shape>(subject, keys.below(kKeys)); };
              timed(p.seconds / 10, get);
              timed(p.seconds, get).into(r);
              subject.detach();
          }}},
        case_timeout(p));
    add_rate(s, reports, "gets/s");
}

// kv_mixed2: two processes, each 90% checked gets, 10% puts of a new generation.
template <typename Shape, typename S>
void run_mixed(const RunParams &p, Sample &s, S &subject) {
    Shared<StartLine> line;
    auto worker = [&](int who) {
        return [&, who](ChildReport &r) {
            subject.attach();
            KeyStream keys(kv::kSeeds[who]);
            std::uint32_t gen = std::uint32_t(who) << 31;
            line->arrive_and_wait(2);
            timed(p.seconds, [&] {
                const std::uint64_t x = keys.next();
                __extension__ typedef unsigned __int128 u128;
                const std::uint64_t i = std::uint64_t((u128(x) * kKeys) >> 64);
                if ((x & 1023) < 102)  // 10%: the low bits, independent of the key's high ones
                    subject.put(Shape::key(i), Shape::value(i, ++gen));
                else
                    checked_get<Shape>(subject, i);
            }).into(r);
            subject.detach();
        };
    };
    add_rate(s, run_children({{p.cpu_a, worker(0)}, {p.cpu_b, worker(1)}}, case_timeout(p)),
             "ops/s");
}

// kv_incr2: two processes increment random counters; afterwards the counters must have
// grown by exactly the increments made.
template <typename S>
void run_incr(const RunParams &p, Sample &s, S &subject) {
    Shared<StartLine> line;
    const std::uint64_t before = subject.sum(kKeys);
    auto worker = [&](int who) {
        return [&, who](ChildReport &r) {
            subject.attach();
            KeyStream keys(kv::kSeeds[who]);
            std::int64_t sink = 0;
            line->arrive_and_wait(2);
            timed(p.seconds, [&] { sink ^= subject.incr(IntShape::key(keys.below(kKeys))); }).into(r);
            r.values[4] = double(sink & 1);  // the results are used
            subject.detach();
        };
    };
    auto reports = run_children({{p.cpu_a, worker(0)}, {p.cpu_b, worker(1)}}, case_timeout(p));
    const std::uint64_t made = std::uint64_t(reports[0].values[0] + reports[1].values[0]);
    const std::uint64_t grown = subject.sum(kKeys) - before;
    if (grown != made)
        throw Failure(std::to_string(made) + " increments grew the counters by " +
                      std::to_string(grown));
    add_rate(s, reports, "incr/s");
}

// ---------------------------------------------------------------- registration

template <typename Shape, template <typename> class S>
CaseFn get_case() {
    return [](const RunParams &p, Sample &s) {
        S<Shape> subject(kKeys);
        s.note(subject.note());
        run_get<Shape>(p, s, subject);
    };
}
template <typename Shape, template <typename> class S>
CaseFn mixed_case() {
    return [](const RunParams &p, Sample &s) {
        S<Shape> subject(kKeys);
        s.note(subject.note());
        run_mixed<Shape>(p, s, subject);
    };
}
template <template <typename> class S>
CaseFn incr_case() {
    return [](const RunParams &p, Sample &s) {
        S<IntShape> subject(kKeys);
        s.note(subject.note());
        run_incr(p, s, subject);
    };
}
// A subject missing from this build registers its rows anyway, skipping with the
// reason, so a table (and the smoke test) says what is absent instead of hiding it.
CaseFn skipping(const char *why) {
    return [why](const RunParams &, Sample &) { throw Skip(why); };
}

// One subject in every multi-process workload of a shape (and kv_get).
template <typename Shape, template <typename> class S>
void add_store(const std::string &subject, const std::string &get_vs, const char *missing) {
    const std::string t = Shape::kName;
    add_case({"kv_get/" + t, subject, get_vs, missing ? skipping(missing) : get_case<Shape, S>()});
    add_case({"kv_mixed2/" + t, subject, subject == "shmds" ? kBoost : "",
              missing ? skipping(missing) : mixed_case<Shape, S>()});
    if constexpr (std::is_same_v<Shape, IntShape>)
        add_case({"kv_incr2/" + t, subject, subject == "shmds" ? kBoost : "",
                  missing ? skipping(missing) : incr_case<S>()});
}

// A missing store's name stands for a subject that compiles; its rows only skip.
#if !SHMDS_BENCH_HAVE_LMDB
template <typename Shape>
using LmdbKv = kv::BoostKv<Shape>;
constexpr const char *kNoLmdb = "built without LMDB (apt install liblmdb-dev, reconfigure)";
#else
using kv::LmdbKv;
constexpr const char *kNoLmdb = nullptr;
#endif
#if !SHMDS_BENCH_HAVE_HIREDIS
template <typename Shape>
using RedisKv = kv::BoostKv<Shape>;
constexpr const char *kNoRedis = "built without hiredis (apt install libhiredis-dev, reconfigure)";
#else
using kv::RedisKv;
constexpr const char *kNoRedis = nullptr;
#endif

template <typename Shape>
void add_shape() {
    const std::string t = Shape::kName;
    // The shared map's figures are divided by Boost's; Boost's kv_get by the unlocked
    // one-process absl map, so every ratio to the ceiling comes from the same run.
    add_store<Shape, kv::ShmdsKv>("shmds", kBoost, nullptr);
    add_store<Shape, kv::BoostKv>(kBoost, SHMDS_BENCH_HAVE_ABSL ? kAbsl : "", nullptr);
    add_store<Shape, LmdbKv>("lmdb", "", kNoLmdb);
    add_store<Shape, RedisKv>("redis", "", kNoRedis);
#if SHMDS_BENCH_HAVE_ABSL
    add_case({"kv_get/" + t, kAbsl, "", get_case<Shape, kv::AbslKv>()});
#else
    add_case({"kv_get/" + t, kAbsl, "", skipping("built without Abseil (apt install libabsl-dev)")});
#endif
}

void register_hashmap_benchmarks() {
    add_shape<IntShape>();
    add_shape<BytesShape>();

    add_target({"kv_get/int64", "shmds", "rate", kBoost, true, 10,
                "HashMap int64 gets, one process, vs Boost unordered_map"});
    add_target({"kv_get/int64", "shmds", "rate", kAbsl, true, 0.5,
                "HashMap int64 gets vs absl::flat_hash_map unlocked (ceiling)"});
    add_target({"kv_mixed2/int64", "shmds", "rate", kBoost, true, 10,
                "HashMap int64 90/10 get/put, 2 processes, vs Boost"});
    add_target({"kv_get/bytes16", "shmds", "rate", kBoost, true, 5,
                "HashMap 16 B key / 32 B value gets vs Boost unordered_map"});
}

}  // namespace

SHMDS_BENCH_REGISTER(register_hashmap_benchmarks);

}  // namespace shmds::bench
