// PubSub benchmarks (issue 4): publish+poll in one process (against atomic_queue's MPMC
// push+pop, issue 9), publish_multi batches, and one publisher fanning out to 4
// subscriber processes against a pipe, a socketpair and a POSIX mq per subscriber.
//
// Fan-out is measured the way a real fan-out consumer works: the publisher sends every
// event on its own (one publish, or one write(2) per subscriber for the peers), and each
// subscriber takes whatever has arrived, up to kFanBatch messages per call, sleeping only
// when nothing is there: poll_multi for libshmds, one read(2) of every whole message
// available for a pipe or socketpair. POSIX mq delivers one message per mq_receive by
// design, so its subscribers read singly. Every subscriber checks it got every message in
// order: the publisher keeps within one ring of the slowest subscriber, so the fan-out is
// lossless like its peers' (which block the writer instead).
//
// idle_consumer/shmds-pubsub: the CPU of a subscriber blocked in poll on an empty ring.
#include "drivers.hpp"
#include "harness.hpp"
#include "peer_channels.hpp"
#include "queue_channels.hpp"

#include <shmds/pubsub.h>

#include <array>
#include <atomic>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

namespace shmds::bench {

namespace {

constexpr int kSubscribers = 4;
constexpr std::uint64_t kRing = 4096;
constexpr std::size_t kFanBatch = 256;  // most messages a fan-out subscriber takes per call

class ShmdsPubSub {
public:
    ShmdsPubSub() {
        shmds_options_t opts = SHMDS_OPTIONS_INIT;
        shmds_pubsub_config_t cfg = SHMDS_PUBSUB_CONFIG_INIT(SHMDS_PUBSUB_INT64, kRing);
        check_shmds(shmds_pubsub_create(&opts, &cfg, &ps_), "shmds_pubsub_create");
    }
    ~ShmdsPubSub() { shmds_pubsub_close(ps_); }
    ShmdsPubSub(const ShmdsPubSub &) = delete;
    ShmdsPubSub &operator=(const ShmdsPubSub &) = delete;
    shmds_pubsub_t *get() const noexcept { return ps_; }
    shmds_pubsub_sub_t *subscribe() {
        shmds_pubsub_sub_t *s = nullptr;
        check_shmds(shmds_pubsub_subscribe(ps_, &s), "shmds_pubsub_subscribe");
        return s;
    }

private:
    shmds_pubsub_t *ps_ = nullptr;
};

// ---- one process: publish then poll, singly or in batches of kBatch ----

// The peer of publish+poll in one process is atomic_queue's MPMC push+pop (as in
// q_single): the same one-process hand-over of one integer, by a structure that any
// number of threads may use at once.
constexpr const char *kSinglePeer = "atomic_queue";

void add_single() {
    add_case({"ps_single/int64", kSinglePeer, "", [](const RunParams &p, Sample &s) {
                  MpmcSpinChannel<std::uint64_t> ch;
                  s.note(ch.note());
                  run_pairs(p, s, pair_step(ch));
              }});
    add_case({"ps_single/int64", "shmds", kSinglePeer, [](const RunParams &p, Sample &s) {
                  ShmdsPubSub ps;
                  shmds_pubsub_sub_t *sub = ps.subscribe();
                  run_pairs(p, s, [&, seq = std::int64_t{1}]() mutable {
                      std::int64_t v = 0;
                      check_shmds(shmds_pubsub_publish_int(ps.get(), seq), "publish");
                      check_shmds(shmds_pubsub_sub_poll_int(sub, &v, SHMDS_NOWAIT), "poll");
                      if (v != seq++) throw Failure("polled another message than was published");
                      return std::uint64_t{1};
                  });
                  shmds_pubsub_sub_close(sub);
              }});
    const std::string batch = "shmds-batch" + std::to_string(kBatch);
    add_case({"ps_single/int64", batch, "shmds", [](const RunParams &p, Sample &s) {
                  ShmdsPubSub ps;
                  shmds_pubsub_sub_t *sub = ps.subscribe();
                  s.note("publish_multi + drain");
                  run_pairs(p, s, [&, seq = std::int64_t{1}]() mutable {
                      std::int64_t in[kBatch], out[kBatch];
                      for (std::size_t i = 0; i < kBatch; ++i) in[i] = seq + std::int64_t(i);
                      check_shmds(shmds_pubsub_publish_multi_int(ps.get(), in, kBatch), "publish");
                      std::size_t got = 0;
                      check_shmds(shmds_pubsub_sub_drain_int(sub, out, kBatch, &got), "drain");
                      if (got != kBatch || out[kBatch - 1] != seq + std::int64_t(kBatch) - 1)
                          throw Failure("drained another batch than was published");
                      seq += std::int64_t(kBatch);
                      return std::uint64_t{kBatch};
                  });
                  shmds_pubsub_sub_close(sub);
              }});
}

// ---- idle: a subscriber blocked in poll on an empty ring ----

// run_idle's channel: send publishes, recv polls FOREVER. Subscribed before fork(), so
// the first message is seen by the subscriber child.
class ShmdsPubSubIdle {
public:
    using Msg = std::uint64_t;
    ShmdsPubSubIdle() : sub_(ps_.subscribe()) {}
    ~ShmdsPubSubIdle() { shmds_pubsub_sub_close(sub_); }
    std::string note() const { return "sub_poll_int FOREVER"; }
    void send(const Msg &m) {
        check_shmds(shmds_pubsub_publish_int(ps_.get(), std::int64_t(m)), "publish");
    }
    void recv(Msg &m) {
        std::int64_t v = 0;
        check_shmds(shmds_pubsub_sub_poll_int(sub_, &v, SHMDS_FOREVER), "poll");
        m = std::uint64_t(v);
    }

private:
    ShmdsPubSub ps_;
    shmds_pubsub_sub_t *sub_;
};

// ---- fan-out: 1 publisher, kSubscribers subscriber processes ----

// Subscriber progress, so the libshmds publisher stays within one ring of the slowest.
struct Progress {
    std::array<std::atomic<std::uint64_t>, kSubscribers> read{};
    std::uint64_t slowest() const {
        std::uint64_t m = ~std::uint64_t{0};
        for (const auto &r : read) m = std::min(m, r.load(std::memory_order_acquire));
        return m;
    }
};

class ShmdsFan {
public:
    ShmdsFan() {
        for (auto &s : subs_) s = ps_.subscribe();
    }
    ~ShmdsFan() {
        for (auto *s : subs_) shmds_pubsub_sub_close(s);
    }
    std::string note() const {
        return "ring of 4096, lossless (publisher paced), poll_multi <= " +
               std::to_string(kFanBatch);
    }
    void publish(std::uint64_t seq) {
        while (published_ - done_ >= kRing - 2 * kFanBatch) {
            done_ = progress_->slowest();
            if (published_ - done_ >= kRing - 2 * kFanBatch) std::this_thread::yield();
        }
        check_shmds(shmds_pubsub_publish_int(ps_.get(), std::int64_t(seq)), "publish");
        ++published_;
    }
    std::size_t receive(int i, std::uint64_t *out) {
        std::size_t got = 0;
        check_shmds(shmds_pubsub_sub_poll_multi_int(subs_[i], reinterpret_cast<std::int64_t *>(out),
                                                    kFanBatch, &got, SHMDS_FOREVER),
                    "poll_multi");
        // Each batch tells the publisher how far this subscriber got.
        progress_->read[i].store(out[got - 1], std::memory_order_release);
        return got;
    }

private:
    ShmdsPubSub ps_;
    std::array<shmds_pubsub_sub_t *, kSubscribers> subs_{};
    Shared<Progress> progress_;
    std::uint64_t published_ = 0;  // publisher side: messages published
    std::uint64_t done_ = 0;       // publisher side: its last look at the slowest subscriber
};

template <typename Ch, typename = void>
struct ReadsInBatches : std::false_type {};
template <typename Ch>
struct ReadsInBatches<Ch, std::void_t<decltype(std::declval<Ch &>().recv_many(nullptr, 1))>>
    : std::true_type {};

// A peer: one channel per subscriber, the publisher writes each message to all.
template <typename Ch>
class ChannelFan {
public:
    std::string note() const {
        const std::string channel = chans_[0].note().empty() ? "one" : chans_[0].note();
        if constexpr (ReadsInBatches<Ch>::value)
            return channel + " per subscriber, read <= " + std::to_string(kFanBatch);
        else
            return channel + " per subscriber, one message per receive";
    }
    void publish(std::uint64_t seq) {
        for (auto &c : chans_) c.send(seq);
    }
    std::size_t receive(int i, std::uint64_t *out) {
        if constexpr (ReadsInBatches<Ch>::value) {
            return chans_[i].recv_many(out, kFanBatch);
        } else {
            chans_[i].recv(out[0]);
            return 1;
        }
    }

private:
    std::array<Ch, kSubscribers> chans_;
};

template <typename Fan>
void run_fanout(const RunParams &p, Sample &s, Fan &fan) {
    Shared<StartLine> line;
    std::vector<ChildSpec> specs;
    specs.push_back({-1, [&](ChildReport &r) {
                         line->arrive_and_wait(kSubscribers + 1);
                         const std::int64_t until = now_ns() + std::int64_t(p.seconds * 1e9);
                         std::uint64_t seq = 1;
                         do {
                             for (int i = 0; i < 64; ++i) fan.publish(seq++);
                         } while (now_ns() < until);
                         fan.publish(kStop);
                         r.values[0] = double(seq - 1);
                     }});
    for (int i = 0; i < kSubscribers; ++i)
        specs.push_back({-1, [&, i](ChildReport &r) {
                             line->arrive_and_wait(kSubscribers + 1);
                             const std::int64_t t0 = now_ns();
                             SeqCheck check;
                             std::uint64_t batch[kFanBatch];
                             for (bool more = true; more;) {
                                 const std::size_t n = fan.receive(i, batch);
                                 for (std::size_t k = 0; k < n && more; ++k)
                                     more = check.take(batch[k]);
                             }
                             r.values[0] = double(check.received());
                             r.values[1] = double(now_ns() - t0);
                         }});
    auto reports = run_children(specs, case_timeout(p));
    double slowest = 0;
    for (int i = 1; i <= kSubscribers; ++i) {
        if (reports[i].values[0] != reports[0].values[0])
            throw Failure("a subscriber missed messages");
        const double rate = reports[i].values[0] / (reports[i].values[1] * 1e-9);
        slowest = i == 1 ? rate : std::min(slowest, rate);
    }
    s.add("rate", slowest, "msgs/s/sub");
}

template <typename Fan>
void add_fan(const std::string &subject, const std::string &vs) {
    add_case({"fanout4/int64", subject, vs, [](const RunParams &p, Sample &s) {
                  Fan fan;
                  s.note(fan.note());
                  run_fanout(p, s, fan);
              }});
}

void register_pubsub_benchmarks() {
    add_single();
    add_fan<ShmdsFan>("shmds", "pipe");
    add_fan<ChannelFan<PipeChannel<std::uint64_t>>>("pipe", "");
    add_fan<ChannelFan<SocketChannel<std::uint64_t>>>("socketpair", "");
    add_fan<ChannelFan<PosixMqChannel<std::uint64_t>>>("posix-mq", "");
    add_idle<ShmdsPubSubIdle>("shmds-pubsub", kIdlePeer);
    add_target({"idle_consumer", "shmds-pubsub", "cpu", "", false, 1000,
                "CPU of an idle subscriber blocked in poll"});
    add_target({"fanout4/int64", "shmds", "rate", "pipe", true, 10,
                "fan-out to 4 subscribers vs a pipe per subscriber"});
    add_target({"ps_single/int64", "shmds", "rate", kSinglePeer, true, 1.0,
                "publish+poll vs atomic_queue (MPMC) push+pop"});
    add_target({"ps_single/int64", "shmds-batch" + std::to_string(kBatch), "rate", "shmds", true,
                3, "publish_multi batches of 64 vs single publishes"});
}

}  // namespace

SHMDS_BENCH_REGISTER(register_pubsub_benchmarks);

}  // namespace shmds::bench
