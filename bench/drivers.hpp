// The measurement loops shared by every channel-like subject (libshmds or peer):
//
//   run_pairs     one pinned process: push+pop pairs                  -> pairs/s
//   run_stream    producer and consumer processes, blocking calls     -> msgs/s
//   run_pingpong  round trips through two channels, per-trip timing   -> p50, p99 ns; rt/s
//   run_idle      a consumer blocked on an empty channel for ~1 s     -> its CPU time
//                 (add_idle registers one in the idle_consumer workload)
//
// A channel has `Msg`, send(const Msg &) and recv(Msg &); batching channels add
// send_many(const Msg *, n) and recv_many(Msg *, max).
#pragma once

#include "harness.hpp"
#include "messages.hpp"
#include "procs.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <ctime>
#include <string>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

namespace shmds::bench {

inline constexpr std::size_t kBatch = 64;

// Generous: a loaded 2-core machine may stretch a run, but nothing should hang.
inline double case_timeout(const RunParams &p) { return p.seconds * 20 + 30; }

// Watches how long one process waited for a CPU during a measured window.
class DelayWatch {
public:
    DelayWatch() : delay0_(run_delay_ns()), t0_(now_ns()) {}
    // The share of the window so far spent runnable but not running; -1 if unknown.
    double fraction() const {
        const std::int64_t delay = run_delay_ns(), t = now_ns();
        if (delay0_ < 0 || delay < 0 || t <= t0_) return -1;
        return double(delay - delay0_) / double(t - t0_);
    }

private:
    std::int64_t delay0_, t0_;
};

// Two processes' disturbance: the worse of the two, unknown if either is.
inline double worse_of(double a, double b) { return a < 0 || b < 0 ? -1 : std::max(a, b); }

// ---------------------------------------------------------------- q_single

// One push and one pop per call; returns the pairs done.
template <typename Ch>
auto pair_step(Ch &ch) {
    return [&ch, seq = std::uint64_t{1}, m = make_message<typename Ch::Msg>()]() mutable {
        stamp(m, seq);
        ch.send(m);
        ch.recv(m);
        if (seq_of(m) != seq) throw Failure("popped a different message than was pushed");
        ++seq;
        return std::uint64_t{1};
    };
}

// A batch of kBatch pushed with one call and popped with (normally) one call.
template <typename Ch>
auto batch_step(Ch &ch) {
    using M = typename Ch::Msg;
    return [&ch, seq = std::uint64_t{1}, in = std::vector<M>(kBatch, make_message<M>()),
            out = std::vector<M>(kBatch)]() mutable {
        for (std::size_t i = 0; i < kBatch; ++i) stamp(in[i], seq + i);
        ch.send_many(in.data(), kBatch);
        for (std::size_t got = 0; got < kBatch;) {
            const std::size_t n = ch.recv_many(out.data(), kBatch - got);
            for (std::size_t i = 0; i < n; ++i)
                if (seq_of(out[i]) != seq + got + i) throw Failure("batch popped out of order");
            got += n;
        }
        seq += kBatch;
        return std::uint64_t{kBatch};
    };
}

inline std::int64_t cpu_now_ns() noexcept {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return std::int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Nothing in q_single ever waits, so its rate is taken over the process's own CPU time
// (user + system): time lost to other load on a shared machine does not count against
// the subject. The first tenth of the run is a warm-up and is not counted.
template <typename Step>
void run_pairs(const RunParams &p, Sample &s, Step step) {
    auto reports = run_children(
        {{p.cpu_a,
          [&](ChildReport &r) {
              const std::int64_t run_ns = std::int64_t(p.seconds * 1e9);
              auto loop_for = [&](std::int64_t ns) {
                  std::uint64_t pairs = 0;
                  const std::int64_t until = now_ns() + ns;
                  do {
                      for (int i = 0; i < 64; ++i) pairs += step();
                  } while (now_ns() < until);
                  return pairs;
              };
              loop_for(run_ns / 10);
              const std::int64_t cpu0 = cpu_now_ns();
              const std::uint64_t pairs = loop_for(run_ns);
              r.values[0] = double(pairs) / (double(cpu_now_ns() - cpu0) * 1e-9);
          }}},
        case_timeout(p));
    s.add("rate", reports[0].values[0], "pairs/s");
}

// ---------------------------------------------------------------- q1p1c

// One message per call.
template <typename Ch>
class ItemStream {
public:
    explicit ItemStream(Ch &ch) : ch_(ch), m_(make_message<typename Ch::Msg>()) {}
    std::uint64_t produce(std::uint64_t next) {
        stamp(m_, next);
        ch_.send(m_);
        return 1;
    }
    void finish() {
        stamp(m_, kStop);
        ch_.send(m_);
    }
    bool consume(SeqCheck &check) {
        ch_.recv(m_);
        return check.take(seq_of(m_));
    }

private:
    Ch &ch_;
    typename Ch::Msg m_;
};

// kBatch messages per push call; the consumer takes up to kBatch per call.
template <typename Ch>
class BatchStream {
public:
    using M = typename Ch::Msg;
    explicit BatchStream(Ch &ch) : ch_(ch), in_(kBatch, make_message<M>()), out_(kBatch) {}
    std::uint64_t produce(std::uint64_t next) {
        for (std::size_t i = 0; i < kBatch; ++i) stamp(in_[i], next + i);
        ch_.send_many(in_.data(), kBatch);
        return kBatch;
    }
    void finish() {
        stamp(in_[0], kStop);
        ch_.send_many(in_.data(), 1);
    }
    bool consume(SeqCheck &check) {
        const std::size_t n = ch_.recv_many(out_.data(), kBatch);
        for (std::size_t i = 0; i < n; ++i)
            if (!check.take(seq_of(out_[i]))) return false;
        return true;
    }

private:
    Ch &ch_;
    std::vector<M> in_, out_;
};

template <typename Stream>
void run_stream(const RunParams &p, Sample &s, Stream &stream) {
    Shared<StartLine> line;
    Shared<std::atomic<std::int64_t>> started(0);
    auto reports = run_children(
        {{p.cpu_a,
          [&](ChildReport &r) {
              line->arrive_and_wait(2);
              const DelayWatch watch;
              const std::int64_t t0 = now_ns(), until = t0 + std::int64_t(p.seconds * 1e9);
              started->store(t0);
              std::uint64_t next = 1;
              do {
                  for (int i = 0; i < 16; ++i) next += stream.produce(next);
              } while (now_ns() < until);
              stream.finish();
              r.values[0] = double(next - 1);
              r.values[1] = watch.fraction();
          }},
         {p.cpu_b,
          [&](ChildReport &r) {
              line->arrive_and_wait(2);
              const DelayWatch watch;
              SeqCheck check;
              while (stream.consume(check)) {
              }
              r.values[0] = double(check.received());
              r.values[1] = double(now_ns());
              r.values[2] = watch.fraction();
          }}},
        case_timeout(p));
    const double sent = reports[0].values[0], received = reports[1].values[0];
    if (sent != received)
        throw Failure("sent " + std::to_string(sent) + " but received " + std::to_string(received));
    s.add("rate", received / ((reports[1].values[1] - double(started->load())) * 1e-9), "msgs/s");
    s.disturbed(worse_of(reports[0].values[1], reports[1].values[2]));
}

// ---------------------------------------------------------------- pingpong

// Ping through `there`, pong back through `back`.
template <typename Ch>
class ChannelLink {
public:
    ChannelLink(Ch &there, Ch &back)
        : there_(there), back_(back), out_(make_message<typename Ch::Msg>()), in_(out_) {}
    void ping(std::uint64_t seq) {
        stamp(out_, seq);
        there_.send(out_);
    }
    std::uint64_t await_pong() {
        back_.recv(in_);
        return seq_of(in_);
    }
    std::uint64_t await_ping() {
        there_.recv(in_);
        return seq_of(in_);
    }
    void pong(std::uint64_t seq) {
        stamp(out_, seq);
        back_.send(out_);
    }

private:
    Ch &there_, &back_;
    typename Ch::Msg out_, in_;
};

inline double percentile(std::vector<std::uint32_t> &v, double q) {
    if (v.empty()) return 0;
    const std::size_t k = std::min(v.size() - 1, std::size_t(q * double(v.size())));
    std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(k), v.end());
    return v[k];
}

template <typename Link>
void run_pingpong(const RunParams &p, Sample &s, Link &link) {
    Shared<StartLine> line;
    const std::size_t max_trips = p.quick ? 200000 : 4000000;
    auto reports = run_children(
        {{p.cpu_a,
          [&](ChildReport &r) {
              // Touched before the start, so page faults stay out of the timings.
              std::vector<std::uint32_t> trips(max_trips);
              std::size_t n = 0;
              line->arrive_and_wait(2);
              const DelayWatch watch;
              const std::int64_t begin = now_ns(), until = begin + std::int64_t(p.seconds * 1e9);
              std::int64_t t1 = begin;
              while (n < max_trips && t1 < until) {
                  const std::int64_t t0 = now_ns();
                  link.ping(n + 1);
                  const std::uint64_t echo = link.await_pong();
                  t1 = now_ns();
                  if (echo != n + 1) throw Failure("the pong carried the wrong sequence number");
                  trips[n++] = std::uint32_t(std::min<std::int64_t>(t1 - t0, UINT32_MAX));
              }
              link.ping(kStop);
              trips.resize(n);
              r.values[2] = double(n) / (double(t1 - begin) * 1e-9);
              r.values[0] = percentile(trips, 0.50);
              r.values[1] = percentile(trips, 0.99);
              r.values[3] = watch.fraction();
          }},
         {p.cpu_b,
          [&](ChildReport &r) {
              line->arrive_and_wait(2);
              const DelayWatch watch;
              for (std::uint64_t seq; (seq = link.await_ping()) != kStop;) link.pong(seq);
              r.values[0] = watch.fraction();
          }}},
        case_timeout(p));
    s.disturbed(worse_of(reports[0].values[3], reports[1].values[0]));
    s.add("p50", reports[0].values[0], "ns");
    s.add("p99", reports[0].values[1], "ns");
    s.add("rate", reports[0].values[2], "rt/s");
}

// ---------------------------------------------------------------- crowds

// More runnable processes than CPUs, as in worker fleets with more workers than cores:
// `copies` instances of a two-process case run at once, unpinned, so the scheduler
// stacks partners on one CPU or splits them as it likes ("<workload>@<N>procs"). The
// copies' rates add up (`rate_unit` is the case's); p50 and p99 are the worst copy's.
inline Case crowded(Case c, int copies, std::string ratio_to, std::string rate_unit) {
    c.workload += "@" + std::to_string(2 * copies) + "procs";
    c.ratio_to = std::move(ratio_to);
    c.run = [run = std::move(c.run), copies, rate_unit](const RunParams &p, Sample &s) {
        RunParams unpinned = p;
        unpinned.cpu_a = unpinned.cpu_b = -1;
        static const char *const kMetrics[] = {"rate", "p50", "p99"};
        std::vector<ChildSpec> specs(std::size_t(copies), ChildSpec{-1, [&](ChildReport &r) {
            Sample one;
            run(unpinned, one);
            for (int i = 0; i < 3; ++i) r.values[i] = -1;
            for (const auto &m : one.metrics())
                for (int i = 0; i < 3; ++i)
                    if (m.name == kMetrics[i]) r.values[i] = m.value;
        }});
        const auto reports = run_children(specs, 2 * case_timeout(p));
        double rate = 0, p50 = -1, p99 = -1;
        for (const auto &r : reports) {
            rate += r.values[0];
            p50 = std::max(p50, r.values[1]);
            p99 = std::max(p99, r.values[2]);
        }
        if (p50 >= 0) s.add("p50", p50, "ns");
        if (p99 >= 0) s.add("p99", p99, "ns");
        s.add("rate", rate, rate_unit);
        s.note(std::to_string(copies) + " pairs at once on all CPUs, unpinned");
    };
    return c;
}

// ---------------------------------------------------------------- idle consumer

inline double cpu_us(const rusage &u) {
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 +
           double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// A consumer blocks on an empty channel; the producer waits idle_s before sending one
// message. The consumer's own getrusage() tells the CPU it used meanwhile. One short
// sleep and wake comes first, so the first-time costs of a fresh process (page faults,
// lazy binding, the owner token) are not taken for the cost of idling.
template <typename Ch>
void run_idle(const RunParams &p, Sample &s, Ch &ch) {
    const double idle_s = p.quick ? 0.1 : 1.0;
    enum : int { kStarting, kWarming, kIdling };
    Shared<std::atomic<int>> phase(kStarting);
    auto send_after = [&](int when, double seconds, std::uint64_t seq) {
        while (phase->load() != when) usleep(1000);
        const timespec pause{time_t(seconds), long((seconds - double(time_t(seconds))) * 1e9)};
        nanosleep(&pause, nullptr);
        auto m = make_message<typename Ch::Msg>();
        stamp(m, seq);
        ch.send(m);
    };
    auto reports = run_children(
        {{p.cpu_a,
          [&](ChildReport &) {
              send_after(kWarming, 0.01, 1);
              send_after(kIdling, idle_s, 2);
          }},
         {p.cpu_b,
          [&](ChildReport &r) {
              typename Ch::Msg m;
              phase->store(kWarming);
              ch.recv(m);
              if (seq_of(m) != 1) throw Failure("the idle consumer got the wrong message");
              rusage before{}, after{};
              getrusage(RUSAGE_SELF, &before);
              const std::int64_t t0 = now_ns();
              phase->store(kIdling);
              ch.recv(m);
              const std::int64_t t1 = now_ns();
              getrusage(RUSAGE_SELF, &after);
              if (seq_of(m) != 2) throw Failure("the idle consumer got the wrong message");
              r.values[0] = (cpu_us(after) - cpu_us(before)) / (double(t1 - t0) * 1e-9);
          }}},
        case_timeout(p) + idle_s);
    s.add("cpu", reports[1].values[0], "us/s");
}

// The peer every idle sleeper is divided by: atomic_queue's consumer, which spins
// (registered by the queue bench), so the ratio reads as "share of a spinning core".
inline constexpr const char *kIdlePeer = "atomic_queue";

// Adds subject to the idle_consumer workload: run_idle on a fresh Ch per repetition.
template <typename Ch>
void add_idle(const std::string &subject, const std::string &vs) {
    Case c{"idle_consumer", subject, vs, [](const RunParams &p, Sample &s) {
               Ch ch;
               s.note(ch.note());
               run_idle(p, s, ch);
           }};
    c.warmup = false;
    c.max_reps = 3;  // each repetition is a full second of idling
    add_case(std::move(c));
}

}  // namespace shmds::bench
