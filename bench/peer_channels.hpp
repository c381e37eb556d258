// The peers libshmds queues are compared with, each as a one-direction channel of
// messages M (std::uint64_t or Msg64) with blocking send() and recv(). A channel is built
// in the parent before fork(); both processes then use it. Ping-pong uses two.
//
//   PipeChannel, SocketChannel  kernel byte streams (one read/write per message; their
//                               recv_many reads every whole message already there, up to
//                               max, in one read(2), as a batching stream consumer does)
//   PosixMqChannel              mq_send/mq_receive
//   BoostMqChannel              Boost.Interprocess message_queue (its own shm object)
//   SpinChannel                 atomic_queue (SPSC mode) in a shared mapping; only spins
//   MpmcSpinChannel             the same in its default MPMC mode (one-process workloads)
#pragma once

#include "messages.hpp"
#include "procs.hpp"

#include <atomic_queue/atomic_queue.h>
#include <boost/interprocess/ipc/message_queue.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mqueue.h>
#include <string>

namespace shmds::bench {

// Capacity of every queue-like subject, so none wins by buffering more.
inline constexpr std::size_t kQueueCapacity = 1024;

// Helpers with errno-to-Failure handling (peer_channels.cpp).
void write_all(int fd, const void *buf, std::size_t n);
void read_all(int fd, void *buf, std::size_t n);
// Block until at least one message of msg_size bytes is there, then return how many
// whole messages (1..max) one read(2) took; a message split by the stream is completed.
std::size_t read_messages(int fd, void *buf, std::size_t msg_size, std::size_t max);
void make_pipe(int fds[2]);
void make_socketpair(int fds[2]);
void close_fds(const int fds[2]) noexcept;
std::string unique_name(const char *prefix);  // distinct per process and call

template <typename M>
class PipeChannel {
public:
    using Msg = M;
    PipeChannel() { make_pipe(fds_); }
    ~PipeChannel() { close_fds(fds_); }
    PipeChannel(const PipeChannel &) = delete;
    PipeChannel &operator=(const PipeChannel &) = delete;
    void send(const M &m) { write_all(fds_[1], &m, sizeof m); }
    void recv(M &m) { read_all(fds_[0], &m, sizeof m); }
    std::size_t recv_many(M *out, std::size_t max) {
        return read_messages(fds_[0], out, sizeof(M), max);
    }
    std::string note() const { return "64 KiB pipe buffer"; }

private:
    int fds_[2];
};

template <typename M>
class SocketChannel {
public:
    using Msg = M;
    SocketChannel() { make_socketpair(fds_); }
    ~SocketChannel() { close_fds(fds_); }
    SocketChannel(const SocketChannel &) = delete;
    SocketChannel &operator=(const SocketChannel &) = delete;
    void send(const M &m) { write_all(fds_[0], &m, sizeof m); }
    void recv(M &m) { read_all(fds_[1], &m, sizeof m); }
    std::size_t recv_many(M *out, std::size_t max) {
        return read_messages(fds_[1], out, sizeof(M), max);
    }
    std::string note() const { return "AF_UNIX stream"; }

private:
    int fds_[2];
};

// Opens with kQueueCapacity slots when the kernel allows it (root, or a raised
// fs.mqueue.msg_max); otherwise with msg_max, and says so in the table.
class PosixMqBase {
public:
    PosixMqBase(std::size_t msg_size);
    ~PosixMqBase();
    PosixMqBase(const PosixMqBase &) = delete;
    PosixMqBase &operator=(const PosixMqBase &) = delete;
    void send(const void *m, std::size_t n);
    void recv(void *m, std::size_t n);
    std::string note() const;

private:
    mqd_t mq_;
    long capacity_;
};

template <typename M>
class PosixMqChannel : PosixMqBase {
public:
    using Msg = M;
    PosixMqChannel() : PosixMqBase(sizeof(M)) {}
    void send(const M &m) { PosixMqBase::send(&m, sizeof m); }
    void recv(M &m) { PosixMqBase::recv(&m, sizeof m); }
    using PosixMqBase::note;
};

class BoostMqBase {
public:
    explicit BoostMqBase(std::size_t msg_size);
    ~BoostMqBase();
    BoostMqBase(const BoostMqBase &) = delete;
    BoostMqBase &operator=(const BoostMqBase &) = delete;
    void send(const void *m, std::size_t n);
    void recv(void *m, std::size_t n);
    std::string note() const { return "process-shared mutex + condvars"; }

private:
    std::unique_ptr<boost::interprocess::message_queue> mq_;
};

template <typename M>
class BoostMqChannel : BoostMqBase {
public:
    using Msg = M;
    BoostMqChannel() : BoostMqBase(sizeof(M)) {}
    void send(const M &m) { BoostMqBase::send(&m, sizeof m); }
    void recv(M &m) { BoostMqBase::recv(&m, sizeof m); }
    using BoostMqBase::note;
};

// atomic_queue's fixed-size queues have no pointers, so one constructed in a shared
// mapping works across fork(). Integers use AtomicQueue (0 is its empty marker);
// 64-byte records use AtomicQueue2 (a state byte per slot). MINIMIZE_CONTENTION,
// MAXIMIZE_THROUGHPUT and TOTAL_ORDER keep their defaults. The mode is the one its
// users pick for the workload (its README):
//  - SPSC (SpinChannel): every cross-process workload has one producer and one consumer
//    per queue (q1p1c, each direction of pingpong, idle_consumer). The default MPMC mode
//    measured 39M msgs/s on q1p1c where SPSC gives 150M on the same machine, and made
//    every ratio against it look 4x better than it is.
//  - MPMC (MpmcSpinChannel, the default AtomicQueue): push+pop in one process
//    (q_single, ps_single). libshmds queues are MPMC, usable from any number of threads
//    and processes at once, so the like-for-like peer is atomic_queue's MPMC queue; its
//    SPSC mode does no atomic read-modify-write at all and is only correct with one
//    pushing and one popping thread, so it is shown as information (atomic_queue-spsc).
template <typename M, bool Spsc>
struct SpinQueueOf {
    using type = atomic_queue::AtomicQueue2<M, kQueueCapacity, true, true, false, Spsc>;
};
template <bool Spsc>
struct SpinQueueOf<std::uint64_t, Spsc> {
    using type = atomic_queue::AtomicQueue<std::uint64_t, kQueueCapacity, 0, true, true, false, Spsc>;
};

template <typename M, bool Spsc = true>
class SpinChannel {
public:
    using Msg = M;
    void send(const M &m) { q_->push(m); }
    void recv(M &m) { m = q_->pop(); }
    std::string note() const {
        return Spsc ? "SPSC mode; spins, never sleeps" : "MPMC (default) mode; spins, never sleeps";
    }

private:
    Shared<typename SpinQueueOf<M, Spsc>::type> q_;
};

template <typename M>
using MpmcSpinChannel = SpinChannel<M, false>;

}  // namespace shmds::bench
