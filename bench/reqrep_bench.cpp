// ReqRep benchmarks (issue 4): a cross-process echo, one client and one server, in
// requests/s and p50/p99 round trip, against a socketpair, a pipe pair, TCP over
// loopback and a pair of Boost.Interprocess message_queues, with 8-byte and 64-byte
// messages. The server echoes the request; the client checks every reply. Plus the CPU
// of a server blocked in recv on an empty ring (idle_consumer/shmds-reqrep).
#include "drivers.hpp"
#include "harness.hpp"
#include "peer_channels.hpp"
#include "queue_channels.hpp"

#include <shmds/reqrep.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace shmds::bench {

namespace {

// The libshmds echo: the client half sends and collects, the server half receives and
// replies; each process uses only its own half of this object after fork().
template <typename M>
class ShmdsEchoLink {
    static constexpr bool kInt = sizeof(M) == sizeof(std::uint64_t);

public:
    ShmdsEchoLink() {
        shmds_options_t opts = SHMDS_OPTIONS_INIT;
        shmds_reqrep_config_t cfg = SHMDS_REQREP_CONFIG_INIT(
            kInt ? SHMDS_REQREP_INT64 : SHMDS_REQREP_BYTES, 64, 16);
        if (!kInt) cfg.req_size = cfg.resp_size = sizeof(M);
        check_shmds(shmds_reqrep_create(&opts, &cfg, &rr_), "shmds_reqrep_create");
        out_ = in_ = make_message<M>();
    }
    ~ShmdsEchoLink() { shmds_reqrep_close(rr_); }
    ShmdsEchoLink(const ShmdsEchoLink &) = delete;
    ShmdsEchoLink &operator=(const ShmdsEchoLink &) = delete;

    void ping(std::uint64_t seq) {
        stamp(out_, seq);
        if constexpr (kInt)
            check_shmds(shmds_reqrep_send_int(rr_, std::int64_t(seq), &id_, SHMDS_FOREVER), "send");
        else
            check_shmds(shmds_reqrep_send_bytes(rr_, &out_, sizeof out_, &id_, SHMDS_FOREVER),
                        "send");
    }
    std::uint64_t await_pong() { return collect(id_); }
    std::uint64_t await_ping() {
        if constexpr (kInt) {
            std::int64_t v = 0;
            check_shmds(shmds_reqrep_recv_int(rr_, &v, &rid_, SHMDS_FOREVER), "recv");
            return std::uint64_t(v);
        } else {
            std::size_t len = 0;
            check_shmds(shmds_reqrep_recv_bytes(rr_, &in_, sizeof in_, &len, &rid_, SHMDS_FOREVER),
                        "recv");
            return seq_of(in_);
        }
    }
    void pong(std::uint64_t seq) {
        if constexpr (kInt) {
            check_shmds(shmds_reqrep_reply_int(rr_, rid_, std::int64_t(seq)), "reply");
        } else {
            stamp(in_, seq);
            check_shmds(shmds_reqrep_reply_bytes(rr_, rid_, &in_, sizeof in_), "reply");
        }
    }

private:
    std::uint64_t collect(std::uint64_t id) {
        if constexpr (kInt) {
            std::int64_t v = 0;
            check_shmds(shmds_reqrep_get_int(rr_, id, &v, SHMDS_FOREVER), "get");
            return std::uint64_t(v);
        } else {
            std::size_t len = 0;
            check_shmds(shmds_reqrep_get_bytes(rr_, id, &in_, sizeof in_, &len, SHMDS_FOREVER),
                        "get");
            return seq_of(in_);
        }
    }

    shmds_reqrep_t *rr_ = nullptr;
    std::uint64_t id_ = 0, rid_ = 0;
    M out_, in_;
};

// TCP over loopback: one connection, requests one way and replies the other.
template <typename M>
class TcpEchoLink {
public:
    TcpEchoLink() {
        const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listener < 0) throw Failure(std::string("socket: ") + std::strerror(errno));
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (::bind(listener, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 ||
            ::listen(listener, 1) != 0 ||
            ::getsockname(listener, reinterpret_cast<sockaddr *>(&addr), &len) != 0) {
            const int e = errno;
            ::close(listener);
            throw Skip(std::string("no TCP loopback: ") + std::strerror(e));
        }
        client_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (client_ < 0 || ::connect(client_, reinterpret_cast<sockaddr *>(&addr), len) != 0 ||
            (server_ = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC)) < 0) {
            const int e = errno;
            ::close(listener);
            throw Failure(std::string("TCP loopback connect: ") + std::strerror(e));
        }
        ::close(listener);
        const int one = 1;  // a round trip must not wait for Nagle
        ::setsockopt(client_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::setsockopt(server_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        out_ = in_ = make_message<M>();
    }
    ~TcpEchoLink() {
        if (client_ >= 0) ::close(client_);
        if (server_ >= 0) ::close(server_);
    }
    TcpEchoLink(const TcpEchoLink &) = delete;
    TcpEchoLink &operator=(const TcpEchoLink &) = delete;

    void ping(std::uint64_t seq) {
        stamp(out_, seq);
        write_all(client_, &out_, sizeof out_);
    }
    std::uint64_t await_pong() {
        read_all(client_, &in_, sizeof in_);
        return seq_of(in_);
    }
    std::uint64_t await_ping() {
        read_all(server_, &in_, sizeof in_);
        return seq_of(in_);
    }
    void pong(std::uint64_t seq) {
        stamp(out_, seq);
        write_all(server_, &out_, sizeof out_);
    }

private:
    int client_ = -1, server_ = -1;
    M out_, in_;
};

// A peer built from two one-way channels (pipe pair, socketpair, Boost mq pair).
template <typename Ch>
class PairEchoLink {
public:
    PairEchoLink() : link_(there_, back_) {}
    void ping(std::uint64_t seq) { link_.ping(seq); }
    std::uint64_t await_pong() { return link_.await_pong(); }
    std::uint64_t await_ping() { return link_.await_ping(); }
    void pong(std::uint64_t seq) { link_.pong(seq); }

private:
    Ch there_, back_;
    ChannelLink<Ch> link_;
};

// run_idle's channel: send is a client's request (its reply never collected), recv
// the server's recv FOREVER on an empty request ring.
class ShmdsServerIdle {
public:
    using Msg = std::uint64_t;
    ShmdsServerIdle() {
        shmds_options_t opts = SHMDS_OPTIONS_INIT;
        shmds_reqrep_config_t cfg = SHMDS_REQREP_CONFIG_INIT(SHMDS_REQREP_INT64, 64, 16);
        check_shmds(shmds_reqrep_create(&opts, &cfg, &rr_), "shmds_reqrep_create");
    }
    ~ShmdsServerIdle() { shmds_reqrep_close(rr_); }
    ShmdsServerIdle(const ShmdsServerIdle &) = delete;
    ShmdsServerIdle &operator=(const ShmdsServerIdle &) = delete;
    std::string note() const { return "server recv_int FOREVER"; }
    void send(const Msg &m) {
        std::uint64_t id = 0;
        check_shmds(shmds_reqrep_send_int(rr_, std::int64_t(m), &id, SHMDS_FOREVER), "send");
    }
    void recv(Msg &m) {
        std::int64_t v = 0;
        std::uint64_t id = 0;
        check_shmds(shmds_reqrep_recv_int(rr_, &v, &id, SHMDS_FOREVER), "recv");
        m = std::uint64_t(v);
    }

private:
    shmds_reqrep_t *rr_ = nullptr;
};

template <typename Link>
void add_echo(const std::string &type, const std::string &subject, const std::string &vs,
              const char *note) {
    const Case echo{"rr_echo/" + type, subject, vs, [note](const RunParams &p, Sample &s) {
                        Link link;
                        s.note(note);
                        run_pingpong(p, s, link);
                    }};
    add_case(echo);
    add_case(on_one_cpu(echo, vs));
}

template <typename M>
void add_echo_family(const std::string &type) {
    add_echo<ShmdsEchoLink<M>>(type, "shmds", "socketpair", "send + get, recv + reply");
    add_echo<PairEchoLink<SocketChannel<M>>>(type, "socketpair", "", "two AF_UNIX streams");
    add_echo<PairEchoLink<PipeChannel<M>>>(type, "pipe-pair", "", "two pipes");
    add_echo<TcpEchoLink<M>>(type, "tcp-loopback", "", "one TCP_NODELAY connection");
    add_echo<PairEchoLink<BoostMqChannel<M>>>(type, "boost-mq-pair", "",
                                              "two Boost.Interprocess message_queues");
}

void register_reqrep_benchmarks() {
    add_echo_family<std::uint64_t>("int64");
    add_echo_family<Msg64>("bytes64");
    add_idle<ShmdsServerIdle>("shmds-reqrep", kIdlePeer);
    add_target({"idle_consumer", "shmds-reqrep", "cpu", "", false, 1000,
                "CPU of an idle server blocked in recv"});
    // On one CPU every round trip costs two context switches whatever the transport,
    // so the @1cpu rows have no 3x goal: their figure to read is the rate against the
    // raw futex floor of pingpong/int64@1cpu.
    for (const char *w : {"rr_echo/int64", "rr_echo/bytes64"})
        add_target({w, "shmds", "rate", "socketpair", true, 3,
                    std::string(w) + " requests/s vs a socketpair echo"});
}

}  // namespace

SHMDS_BENCH_REGISTER(register_reqrep_benchmarks);

}  // namespace shmds::bench
