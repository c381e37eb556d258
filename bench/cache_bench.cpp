// Cache benchmarks (issue 11): the anchor's own workload, 100k 16-byte keys with 32-byte
// values in a 64 MiB cache, against the anchor and memcached in the same run:
//
//   cache_set        sets in key order, one process (the first pass stores new keys)  -> sets/s
//   cache_get_hit    gets of random stored keys, one process                          -> gets/s
//   cache_get_miss   gets of random keys never stored, in the filled cache            -> gets/s
//   cache_mixed2     2 processes, 90% get / 10% set of random stored keys             -> ops/s
//
// Subjects: shmds (the C API, anonymous memory shared with the forked workers),
// anchor_xs and anchor_api (Perl's Cache::FastMmap through bench/cache_fastmmap.pl, at
// its XS level and through its Perl methods; file on /dev/shm as its docs advise), and
// memcached (cache_peers.hpp). The targets print libshmds over each of them.
//
// Every value read is checked (it must belong to its key; a hit workload must hit, a
// miss workload must miss), and after the window every key written is read back: a
// subject that loses or mixes data fails the case instead of reporting a speed. The
// anchor's script checks its own reads after its window, outside it, so its figures
// carry no check of ours; ours carry theirs.
#include "cache_peers.hpp"
#include "drivers.hpp"
#include "harness.hpp"
#include "kv_shapes.hpp"
#include "kv_stores.hpp"
#include "procs.hpp"
#include "timed_rate.hpp"

#include <shmds/cache.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace shmds::bench {

namespace {

using namespace cachebench;

constexpr const char *kXs = "anchor_xs";
constexpr const char *kApi = "anchor_api";
constexpr const char *kMemcached = "memcached";

enum class Op { set, get_hit, get_miss, mixed };
constexpr Op kOps[] = {Op::set, Op::get_hit, Op::get_miss, Op::mixed};

const char *script_op(Op op) {
    switch (op) {
    case Op::set: return "set";
    case Op::get_hit: return "get_hit";
    case Op::get_miss: return "get_miss";
    case Op::mixed: return "mixed";
    }
    return "";
}
std::string workload(Op op) { return op == Op::mixed ? "cache_mixed2" : std::string("cache_") + script_op(op); }
const char *unit(Op op) {
    return op == Op::set ? "sets/s" : op == Op::mixed ? "ops/s" : "gets/s";
}

// Keys 0..2N-1, computed once before any fork (the misses are N..2N-1).
const std::vector<Key> &all_keys() {
    static const std::vector<Key> keys = [] {
        std::vector<Key> k;
        k.reserve(2 * kKeys);
        for (std::uint64_t i = 0; i < 2 * kKeys; ++i) k.push_back(key_of(i));
        return k;
    }();
    return keys;
}

[[noreturn]] __attribute__((noinline)) void bad_read(std::uint64_t i, bool found, bool want) {
    throw Failure("key #" + std::to_string(i) +
                  (want ? (found ? " returned a value of another key" : " is missing")
                        : " was found though it was never stored"));
}

// ---------------------------------------------------------------- subjects in C

// libshmds: the anchor's 64 MiB as cache_size (64 KiB pages, the anchor's default).
class ShmdsSubject {
public:
    ShmdsSubject() {
        shmds_cache_config_t cfg = SHMDS_CACHE_CONFIG_INIT;
        cfg.cache_size = 64ull << 20;
        if (int rc = shmds_cache_create(nullptr, &cfg, &c_))
            throw Failure(std::string("shmds_cache_create: ") + shmds_last_error() + " (" +
                          std::to_string(rc) + ")");
    }
    ~ShmdsSubject() { shmds_cache_close(c_); }
    ShmdsSubject(const ShmdsSubject &) = delete;
    ShmdsSubject &operator=(const ShmdsSubject &) = delete;

    std::string note() const { return "C API, 64 MiB (1024 pages of 64 KiB), anonymous"; }
    void attach() {}
    void detach() {}
    bool get(const Key &k, char *v, std::size_t &len) {
        const int rc = shmds_cache_get(c_, k.b, kKeyLen, v, kValueLen, &len);
        if (__builtin_expect(rc == 0, 1)) return true;
        if (rc == -ENOENT) return false;
        throw Failure(std::string("shmds_cache_get: ") + shmds_last_error());
    }
    void set(const Key &k, const char *v) {
        const int rc = shmds_cache_set(c_, k.b, kKeyLen, v, kValueLen, SHMDS_CACHE_EXPIRE_DEFAULT);
        if (__builtin_expect(rc != 0, 0))
            throw Failure(std::string("shmds_cache_set: ") + shmds_last_error());
    }
    void prefill() {
        char v[kValueLen];
        for (std::uint64_t i = 0; i < kKeys; ++i) {
            value_of(all_keys()[i], 0, v);
            set(all_keys()[i], v);
        }
    }

private:
    shmds_cache_t *c_ = nullptr;
};

// memcached: a server per repetition, a connection per process.
class MemcachedSubject {
public:
    std::string note() const { return "Unix socket, -m 64, text protocol, 1 request per trip"; }
    void attach() { client_ = std::make_unique<MemcachedClient>(server_.socket()); }
    void detach() { client_.reset(); }
    bool get(const Key &k, char *v, std::size_t &len) { return client_->get(k, v, len); }
    void set(const Key &k, const char *v) { client_->set(k, v); }
    void prefill() {
        MemcachedClient c(server_.socket());
        c.prefill(std::vector<Key>(all_keys().begin(), all_keys().begin() + kKeys));
    }

private:
    MemcachedServer server_;
    std::unique_ptr<MemcachedClient> client_;
};

// One checked get of key i: hit (and its own value) or miss, as the workload expects.
template <typename S>
inline void checked_get(S &s, std::uint64_t i, bool want_hit) {
    char v[kValueLen];
    std::size_t len = 0;
    const Key &k = all_keys()[i];
    const bool found = s.get(k, v, len);
    if (__builtin_expect(found != want_hit || (found && !value_valid(k, v, len)), 0))
        bad_read(i, found, want_hit);
}

// After the window: every key written is there with a value of its own.
template <typename S>
void verify_written(S &s, std::uint64_t written) {
    s.attach();
    for (std::uint64_t i = 0; i < written; ++i) checked_get(s, i, true);
    s.detach();
}

template <typename S>
void run_in_c(Op op, const RunParams &p, Sample &s, S &subject) {
    s.note(subject.note());
    if (op != Op::set) subject.prefill();
    const double limit = case_timeout(p);
    if (op == Op::mixed) {
        Shared<StartLine> line;
        auto worker = [&](int who) {
            return [&, who](ChildReport &r) {
                subject.attach();
                kv::KeyStream keys(kv::kSeeds[who]);
                std::uint64_t gen = std::uint64_t(who) << 40;
                char v[kValueLen];
                line->arrive_and_wait(2);
                timed(p.seconds, [&] {
                    const std::uint64_t x = keys.next();
                    __extension__ typedef unsigned __int128 u128;
                    const std::uint64_t i = std::uint64_t((u128(x) * kKeys) >> 64);
                    if ((x & 1023) < 102) {  // 10%: the low bits, independent of the key's
                        value_of(all_keys()[i], ++gen, v);
                        subject.set(all_keys()[i], v);
                    } else {
                        checked_get(subject, i, true);
                    }
                }).into(r);
                subject.detach();
            };
        };
        add_rate(s, run_children({{p.cpu_a, worker(0)}, {p.cpu_b, worker(1)}}, limit), unit(op));
        verify_written(subject, kKeys);
        return;
    }
    auto reports = run_children(
        {{p.cpu_a,
          [&](ChildReport &r) {
              subject.attach();
              if (op == Op::set) {
                  std::uint64_t next = 0, gen = 0;
                  char v[kValueLen];
                  timed(p.seconds, [&] {
                      const Key &k = all_keys()[next++ % kKeys];
                      value_of(k, ++gen, v);
                      subject.set(k, v);
                  }).into(r);
                  r.values[4] = double(next);
              } else {
                  kv::KeyStream keys(kv::kSeeds[0]);
                  const bool hit = op == Op::get_hit;
                  const std::uint64_t base = hit ? 0 : kKeys;
                  auto get = [&] { checked_get(subject, base + keys.below(kKeys), hit); };
                  timed(p.seconds / 10, get);  // warm-up, not counted
                  timed(p.seconds, get).into(r);
              }
              subject.detach();
          }}},
        limit);
    add_rate(s, reports, unit(op));
    const std::uint64_t written =
        op == Op::set ? std::min<std::uint64_t>(kKeys, std::uint64_t(reports[0].values[4]))
                      : kKeys;
    verify_written(subject, written);
}

// ---------------------------------------------------------------- the anchor

// One repetition of the anchor: a fresh file on /dev/shm, filled by a first run of the
// script (except for set), then one pinned script process per worker, started together.
void run_anchor(Op op, const char *level, const RunParams &p, Sample &s) {
    std::string why;
    if (!anchor_available(why)) throw Skip(why);
    s.note(std::string("Cache::FastMmap via Perl, ") +
           (std::string(level) == "xs" ? "fc_* XS calls" : "get/set methods") + ", '64m'");
    kv::TempDir dir("/dev/shm");
    const std::string file = dir.path() + "/anchor.cache";
    const double limit = case_timeout(p);
    if (op != Op::set) {
        AnchorProcess fill(anchor_args(file, "prefill", level, 0, 0), p.cpu_a);
        fill.wait_exit(limit);
    }
    const int workers = op == Op::mixed ? 2 : 1;
    std::vector<std::unique_ptr<AnchorProcess>> procs;
    for (int k = 0; k < workers; ++k)
        procs.push_back(std::make_unique<AnchorProcess>(
            anchor_args(file, script_op(op), level, p.seconds, k), k ? p.cpu_b : p.cpu_a));
    for (auto &proc : procs) proc->wait_ready(limit);
    for (auto &proc : procs) proc->go();
    std::vector<Window> windows;
    for (auto &proc : procs) {
        const AnchorResult r = proc->finish(limit);
        if (r.bad != 0)
            throw Failure("the anchor read back " + std::to_string(r.bad) +
                          " missing or foreign values");
        if ((op == Op::get_hit && r.hits != r.ops) || (op == Op::get_miss && r.hits != 0) ||
            (op == Op::mixed && r.hits == 0))
            throw Failure("the anchor's gets hit " + std::to_string(r.hits) + " of " +
                          std::to_string(r.ops) + " operations");
        windows.push_back({r.ops, r.begin_ns, r.end_ns, -1});
    }
    add_rate(s, windows, unit(op));
}

// ---------------------------------------------------------------- registration

void register_cache_benchmarks() {
    for (Op op : kOps) {
        const std::string w = workload(op);
        add_case({w, "shmds", kXs, [op](const RunParams &p, Sample &s) {
                      ShmdsSubject subject;
                      run_in_c(op, p, s, subject);
                  }});
        // The anchor's XS level over its Perl API: what the object wrapper costs.
        add_case({w, kXs, kApi, [op](const RunParams &p, Sample &s) { run_anchor(op, "xs", p, s); }});
        add_case({w, kApi, "", [op](const RunParams &p, Sample &s) { run_anchor(op, "api", p, s); }});
        add_case({w, kMemcached, "", [op](const RunParams &p, Sample &s) {
                      MemcachedSubject subject;
                      run_in_c(op, p, s, subject);
                  }});
    }
    // The issue's targets: >= 30x the anchor's XS level on get, set and mixed, and >= 10x
    // memcached on every row. The other ratios are printed beside them (a miss is a get,
    // and the Perl API is slower than its XS level, so the same bar applies).
    struct Row {
        Op op;
        const char *what;
        bool issue_xs;
    };
    const Row rows[] = {{Op::set, "set", true},
                        {Op::get_hit, "get (hit)", true},
                        {Op::get_miss, "get (miss)", false},
                        {Op::mixed, "90/10 mixed, 2 processes", true}};
    for (const Row &r : rows) {
        const std::string w = workload(r.op);
        add_target({w, "shmds", "rate", kXs, true, 30,
                    std::string("Cache ") + r.what + " vs the anchor's XS level" +
                        (r.issue_xs ? "" : " (not an issue row)")});
        add_target({w, "shmds", "rate", kApi, true, 30,
                    std::string("Cache ") + r.what + " vs the anchor's Perl API"});
        add_target({w, "shmds", "rate", kMemcached, true, 10,
                    std::string("Cache ") + r.what + " vs memcached"});
    }
}

}  // namespace

SHMDS_BENCH_REGISTER(register_cache_benchmarks);

}  // namespace shmds::bench
