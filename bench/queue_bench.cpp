// Queue benchmarks (issue 2): libshmds Int64 and 64-byte Bytes queues against
// atomic_queue, Boost.Interprocess message_queue, POSIX mq, pipes, socketpairs and a
// raw futex, in the workloads q_single, q1p1c, pingpong and idle_consumer, plus the
// push_multi/pop_multi batches against single items.
#include "drivers.hpp"
#include "futex_link.hpp"
#include "futex_ring.hpp"
#include "harness.hpp"
#include "peer_channels.hpp"
#include "queue_channels.hpp"

#include <algorithm>
#include <string>
#include <unistd.h>

namespace shmds::bench {

namespace {

// Every libshmds figure is divided by the strongest peer: atomic_queue, which spins. In
// q_single that is its MPMC queue, the like-for-like peer of a queue any number of
// threads and processes may use at once; in the 1 -> 1 workloads it is its SPSC queue,
// as its users run it there (peer_channels.hpp says why).
constexpr const char *kPeer = "atomic_queue";
// q_single only, as information: atomic_queue's SPSC mode, which does no atomic
// read-modify-write and is correct only with one pushing and one popping thread.
constexpr const char *kSpscPeer = "atomic_queue-spsc";

// push+pop pairs in one process (q_single/<type>).
template <typename Ch>
void add_pairs(const std::string &type, const std::string &subject, const std::string &vs) {
    add_case({"q_single/" + type, subject, vs, [](const RunParams &p, Sample &s) {
                  Ch ch;
                  s.note(ch.note());
                  run_pairs(p, s, pair_step(ch));
              }});
}

// The workloads across two processes: q1p1c and pingpong, plus (for a channel that
// does not spin) their @1cpu rows, each divided by the peer named for it (the raw futex
// where one exists). Returns the two cases, for crowd rows.
struct BlockingCases {
    Case stream, pingpong;
};

template <typename Ch>
BlockingCases add_cross(const std::string &type, const std::string &subject,
                        const std::string &vs, bool spins,
                        const std::string &stream_vs_one_cpu = "",
                        const std::string &pingpong_vs_one_cpu = "") {
    const Case stream{"q1p1c/" + type, subject, vs,
                      [](const RunParams &p, Sample &s) {
                          Ch ch;
                          s.note(ch.note());
                          ItemStream<Ch> items(ch);
                          run_stream(p, s, items);
                      },
                      spins};
    const Case pingpong{"pingpong/" + type, subject, vs,
                        [](const RunParams &p, Sample &s) {
                            Ch there, back;
                            s.note(there.note());
                            ChannelLink<Ch> link(there, back);
                            run_pingpong(p, s, link);
                        },
                        spins};
    add_case(stream);
    add_case(pingpong);
    if (!spins) {
        add_case(on_one_cpu(stream, stream_vs_one_cpu));
        add_case(on_one_cpu(pingpong, pingpong_vs_one_cpu));
    }
    return {stream, pingpong};
}

// As many pairs as CPUs (at least 2), so twice as many runnable processes as CPUs.
int crowd_pairs() { return std::max(2, int(sysconf(_SC_NPROCESSORS_ONLN))); }

// The crowd rows of a blocking channel, divided by the raw futex peers' crowd rows.
void add_crowd(const BlockingCases &c, const std::string &stream_vs,
               const std::string &pingpong_vs) {
    add_case(crowded(c.stream, crowd_pairs(), stream_vs, "msgs/s"));
    add_case(crowded(c.pingpong, crowd_pairs(), pingpong_vs, "rt/s"));
}

template <typename Ch>
void add_batches(const std::string &type) {
    const std::string subject = "shmds-batch" + std::to_string(kBatch);
    add_case({"q_single/" + type, subject, "shmds", [](const RunParams &p, Sample &s) {
                  Ch ch;
                  s.note("push_multi + pop_multi");
                  run_pairs(p, s, batch_step(ch));
              }});
    add_case({"q1p1c/" + type, subject, "shmds", [](const RunParams &p, Sample &s) {
                  Ch ch;
                  s.note("push_multi + pop_multi");
                  BatchStream<Ch> stream(ch);
                  run_stream(p, s, stream);
              }});
}

// A channel in every workload: q_single, q1p1c and pingpong.
template <typename Ch>
BlockingCases add_channel(const std::string &type, const std::string &subject,
                          const std::string &vs, bool spins,
                          const std::string &stream_vs_one_cpu = "",
                          const std::string &pingpong_vs_one_cpu = "") {
    add_pairs<Ch>(type, subject, vs);
    return add_cross<Ch>(type, subject, vs, spins, stream_vs_one_cpu, pingpong_vs_one_cpu);
}

template <typename M>
void add_peers(const std::string &type) {
    add_pairs<MpmcSpinChannel<M>>(type, kPeer, "");
    add_pairs<SpinChannel<M>>(type, kSpscPeer, "");
    add_cross<SpinChannel<M>>(type, kPeer, "", true);
    add_channel<BoostMqChannel<M>>(type, "boost-mq", "", false);
    add_channel<PosixMqChannel<M>>(type, "posix-mq", "", false);
    add_channel<PipeChannel<M>>(type, "pipe", "", false);
    add_channel<SocketChannel<M>>(type, "socketpair", "", false);
}

void add_queue_targets() {
    const std::string batch = "shmds-batch" + std::to_string(kBatch);
    add_target({"q1p1c/int64", "shmds", "rate", "boost-mq", true, 10,
                "Int64 q1p1c vs Boost message_queue"});
    add_target({"q1p1c/int64", "shmds", "rate", kPeer, true, 0.8, "Int64 q1p1c vs atomic_queue"});
    add_target({"q1p1c/bytes64", "shmds", "rate", "boost-mq", true, 1.5,
                "Bytes64 q1p1c vs Boost message_queue"});
    add_target({"q_single/int64", "shmds", "rate", kPeer, true, 1.0,
                "Int64 q_single vs atomic_queue (MPMC)"});
    for (const char *w : {"q_single/int64", "q1p1c/int64", "q_single/bytes64", "q1p1c/bytes64"})
        add_target({w, batch, "rate", "shmds", true, 3,
                    std::string(w) + " batches of 64 vs single items"});
    add_target({"pingpong/int64", "shmds", "p50", kPeer, false, 1.5,
                "Int64 blocking round trip p50 vs atomic_queue spinning"});
    add_target({"pingpong/bytes64", "shmds", "p50", kPeer, false, 2,
                "Bytes64 blocking round trip p50 vs atomic_queue spinning"});
    // Issue 9: waiting that adapts when the process waited for cannot run.
    add_target({"pingpong/int64@1cpu", "shmds", "rate", "futex", true, 0.9,
                "Int64 round trips, both on one CPU, vs raw futex"});
    add_target({"q1p1c/int64@1cpu", "shmds", "rate", "futex-ring", true, 0.9,
                "Int64 1->1 stream, both on one CPU, vs a raw futex ring"});
    const std::string crowd = "@" + std::to_string(2 * crowd_pairs()) + "procs";
    add_target({"pingpong/int64" + crowd, "shmds", "rate", "futex", true, 0.9,
                "Int64 round trips, more processes than CPUs, vs raw futex"});
    add_target({"q1p1c/int64" + crowd, "shmds", "rate", "futex-ring", true, 0.9,
                "Int64 1->1 streams, more processes than CPUs, vs a raw futex ring"});
    // "Uses no CPU": under 0.1% of a core (the spin before sleeping and the wake-up).
    add_target({"idle_consumer", "shmds-int64", "cpu", "", false, 1000,
                "CPU of an idle, blocked Int64 consumer"});
    add_target({"idle_consumer", "shmds-bytes64", "cpu", "", false, 1000,
                "CPU of an idle, blocked Bytes64 consumer"});
}

void register_queue_benchmarks() {
    // Where spinning cannot help (one CPU, a crowd) the peers to beat are the raw
    // futexes: the hand-over word for pingpong, the ring for q1p1c.
    const BlockingCases shmds_int =
        add_channel<ShmdsIntChannel>("int64", "shmds", kPeer, false, "futex-ring", "futex");
    add_batches<ShmdsIntChannel>("int64");
    add_peers<std::uint64_t>("int64");
    const Case futex_pingpong{"pingpong/int64", "futex", "", [](const RunParams &p, Sample &s) {
                                  FutexLink link;
                                  s.note("raw FUTEX_WAIT/WAKE, no spin");
                                  run_pingpong(p, s, link);
                              }};
    add_case(futex_pingpong);
    add_case(on_one_cpu(futex_pingpong, ""));
    BlockingCases futex_int =
        add_cross<FutexRingChannel<std::uint64_t>>("int64", "futex-ring", "", false);
    futex_int.pingpong = futex_pingpong;
    add_crowd(shmds_int, "futex-ring", "futex");
    add_crowd(futex_int, "", "");

    add_channel<ShmdsBytesChannel>("bytes64", "shmds", kPeer, false, "pipe", "pipe");
    add_batches<ShmdsBytesChannel>("bytes64");
    add_peers<Msg64>("bytes64");

    add_idle<ShmdsIntChannel>("shmds-int64", kIdlePeer);
    add_idle<ShmdsBytesChannel>("shmds-bytes64", kIdlePeer);
    add_idle<SpinChannel<std::uint64_t>>(kIdlePeer, "");

    add_queue_targets();
}

}  // namespace

SHMDS_BENCH_REGISTER(register_queue_benchmarks);

}  // namespace shmds::bench
