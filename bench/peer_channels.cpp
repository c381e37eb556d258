#include "peer_channels.hpp"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace shmds::bench {

namespace bip = boost::interprocess;

namespace {

[[noreturn]] void fail_errno(const std::string &what) {
    throw Failure(what + ": " + std::strerror(errno));
}

long read_msg_max() {
    long v = 10;  // the kernel's default for fs.mqueue.msg_max
    if (std::FILE *f = std::fopen("/proc/sys/fs/mqueue/msg_max", "r")) {
        if (std::fscanf(f, "%ld", &v) != 1) v = 10;
        std::fclose(f);
    }
    return v;
}

}  // namespace

void write_all(int fd, const void *buf, std::size_t n) {
    const char *p = static_cast<const char *>(buf);
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            fail_errno("write");
        }
        p += w;
        n -= std::size_t(w);
    }
}

void read_all(int fd, void *buf, std::size_t n) {
    char *p = static_cast<char *>(buf);
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0) {
            if (errno == EINTR) continue;
            fail_errno("read");
        }
        if (r == 0) throw Failure("read: the writer closed the channel mid-message");
        p += r;
        n -= std::size_t(r);
    }
}

std::size_t read_messages(int fd, void *buf, std::size_t msg_size, std::size_t max) {
    for (;;) {
        ssize_t r = read(fd, buf, msg_size * max);
        if (r < 0) {
            if (errno == EINTR) continue;
            fail_errno("read");
        }
        if (r == 0) throw Failure("read: the writer closed the channel");
        const std::size_t got = std::size_t(r);
        const std::size_t partial = got % msg_size;
        if (partial != 0)
            read_all(fd, static_cast<char *>(buf) + got, msg_size - partial);
        return (got + msg_size - 1) / msg_size;
    }
}

void make_pipe(int fds[2]) {
    if (pipe2(fds, O_CLOEXEC) != 0) fail_errno("pipe2");
}

void make_socketpair(int fds[2]) {
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) fail_errno("socketpair");
}

void close_fds(const int fds[2]) noexcept {
    close(fds[0]);
    close(fds[1]);
}

std::string unique_name(const char *prefix) {
    static std::atomic<unsigned> counter{0};
    return std::string(prefix) + "-" + std::to_string(getpid()) + "-" +
           std::to_string(counter.fetch_add(1));
}

PosixMqBase::PosixMqBase(std::size_t msg_size) {
    const std::string name = "/" + unique_name("shmds-bench-mq");
    mq_attr attr{};
    attr.mq_msgsize = long(msg_size);
    attr.mq_maxmsg = long(kQueueCapacity);
    mq_ = mq_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr);
    if (mq_ == mqd_t(-1) && (errno == EINVAL || errno == EMFILE)) {
        // Unprivileged: msg_max caps the depth (and queues_max / RLIMIT_MSGQUEUE the rest).
        attr.mq_maxmsg = read_msg_max();
        mq_ = mq_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr);
    }
    if (mq_ == mqd_t(-1)) {
        if (errno == ENOSYS || errno == EACCES || errno == EPERM)
            throw Skip(std::string("POSIX message queues unavailable: ") + std::strerror(errno));
        fail_errno("mq_open " + name);
    }
    // The descriptor keeps the queue alive; unlinking now means a killed run leaves
    // nothing behind.
    mq_unlink(name.c_str());
    capacity_ = attr.mq_maxmsg;
}

PosixMqBase::~PosixMqBase() { mq_close(mq_); }

void PosixMqBase::send(const void *m, std::size_t n) {
    while (mq_send(mq_, static_cast<const char *>(m), n, 0) != 0)
        if (errno != EINTR) fail_errno("mq_send");
}

void PosixMqBase::recv(void *m, std::size_t n) {
    for (;;) {
        ssize_t r = mq_receive(mq_, static_cast<char *>(m), n, nullptr);
        if (r == ssize_t(n)) return;
        if (r >= 0) throw Failure("mq_receive: a message of unexpected size " + std::to_string(r));
        if (errno != EINTR) fail_errno("mq_receive");
    }
}

std::string PosixMqBase::note() const {
    if (capacity_ == long(kQueueCapacity)) return "";
    return "depth " + std::to_string(capacity_) + " (fs.mqueue.msg_max)";
}

BoostMqBase::BoostMqBase(std::size_t msg_size) {
    const std::string name = unique_name("shmds-bench-bmq");
    try {
        mq_ = std::make_unique<bip::message_queue>(bip::create_only, name.c_str(), kQueueCapacity,
                                                   msg_size);
    } catch (const bip::interprocess_exception &e) {
        throw Failure("boost message_queue " + name + ": " + e.what());
    }
    // The mapping stays valid for this process and its children; removing the name now
    // means a killed run leaves nothing in /dev/shm.
    bip::message_queue::remove(name.c_str());
}

BoostMqBase::~BoostMqBase() = default;

void BoostMqBase::send(const void *m, std::size_t n) {
    try {
        mq_->send(m, n, 0);
    } catch (const bip::interprocess_exception &e) {
        throw Failure(std::string("boost message_queue send: ") + e.what());
    }
}

void BoostMqBase::recv(void *m, std::size_t n) {
    std::size_t got = 0;
    unsigned prio = 0;
    try {
        mq_->receive(m, n, got, prio);
    } catch (const bip::interprocess_exception &e) {
        throw Failure(std::string("boost message_queue receive: ") + e.what());
    }
    if (got != n) throw Failure("boost message_queue: a message of unexpected size " + std::to_string(got));
}

}  // namespace shmds::bench
