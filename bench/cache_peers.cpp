#include "cache_peers.hpp"

#include "kv_stores.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SHMDS_BENCH_ANCHOR_SCRIPT
#define SHMDS_BENCH_ANCHOR_SCRIPT "bench/cache_fastmmap.pl"
#endif

namespace shmds::bench::cachebench {

Key key_of(std::uint64_t i) {
    char text[kKeyLen + 1];
    std::snprintf(text, sizeof text, "%08x%08x", unsigned((i * 2654435761u) & 0xffffffffu),
                  unsigned(i));
    Key k;
    std::memcpy(k.b, text, kKeyLen);
    return k;
}

void value_of(const Key &k, std::uint64_t gen, char *out) {
    char text[kKeyLen + 1];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(gen));
    std::memcpy(out, k.b, kKeyLen);
    std::memcpy(out + kKeyLen, text, kValueLen - kKeyLen);
}

bool value_valid(const Key &k, const char *v, std::size_t len) {
    return len == kValueLen && std::memcmp(v, k.b, kKeyLen) == 0;
}

namespace {

[[noreturn]] void fail_errno(const std::string &what) {
    throw Failure(what + ": " + std::strerror(errno));
}

// fork() a child that dies with the bench, optionally pinned; run body() in it.
template <typename Body>
pid_t spawn(int cpu, Body body) {
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) fail_errno("fork");
    if (pid == 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(126);
        if (cpu >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(cpu, &set);
            sched_setaffinity(0, sizeof set, &set);
        }
        body();
        _exit(127);  // exec failed
    }
    return pid;
}

void exec_argv(const std::vector<std::string> &args) {
    std::vector<char *> argv;
    for (const std::string &a : args) argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
}

void redirect_to_null(int fd) {
    const int null = open("/dev/null", O_RDWR);
    if (null >= 0) dup2(null, fd);
}

// Stop a child: SIGTERM, then SIGKILL after 3 s; always reaped.
void stop(pid_t pid, int sig = SIGTERM) {
    if (pid <= 0) return;
    kill(pid, sig);
    const std::int64_t give_up = now_ns() + 3'000'000'000;
    while (waitpid(pid, nullptr, WNOHANG) != pid) {
        if (now_ns() > give_up) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
            return;
        }
        usleep(2000);
    }
}

std::string anchor_script() {
    const char *env = std::getenv("SHMDS_BENCH_ANCHOR_SCRIPT");
    return env && *env ? env : SHMDS_BENCH_ANCHOR_SCRIPT;
}

}  // namespace

// ---------------------------------------------------------------- the anchor

bool anchor_available(std::string &why) {
    static int known = -1;  // -1 unknown, 0 missing, 1 here
    static std::string reason;
    if (known < 0) {
        const std::string perl = kv::find_in_path("perl");
        if (perl.empty()) {
            reason = "perl is not installed";
        } else if (access(anchor_script().c_str(), R_OK) != 0) {
            reason = "the anchor's script " + anchor_script() +
                     " is missing (set SHMDS_BENCH_ANCHOR_SCRIPT)";
        } else {
            const pid_t pid = spawn(-1, [&] {
                redirect_to_null(1);
                redirect_to_null(2);
                exec_argv({perl, "-MCache::FastMmap", "-e", "1"});
            });
            int status = 0;
            waitpid(pid, &status, 0);
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                reason = "Perl's Cache::FastMmap is not installed (apt install "
                         "libcache-fastmmap-perl)";
        }
        known = reason.empty() ? 1 : 0;
    }
    why = reason;
    return known == 1;
}

std::vector<std::string> anchor_args(const std::string &file, const std::string &op,
                                     const std::string &level, double seconds, int worker) {
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.6f", seconds);
    return {kv::find_in_path("perl"), anchor_script(), "--file", file, "--op", op, "--level",
            level, "--seconds", secs, "--worker", std::to_string(worker), "--keys",
            std::to_string(kKeys)};
}

AnchorProcess::AnchorProcess(const std::vector<std::string> &args, int cpu) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0) fail_errno("pipe2");
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        fail_errno("pipe2");
    }
    pid_ = spawn(cpu, [&] {
        dup2(in[0], 0);
        dup2(out[1], 1);
        exec_argv(args);
    });
    close(in[0]);
    close(out[1]);
    to_ = in[1];
    from_ = out[0];
}

AnchorProcess::~AnchorProcess() {
    if (to_ >= 0) close(to_);
    if (from_ >= 0) close(from_);
    stop(pid_, SIGKILL);
}

std::string AnchorProcess::read_line(double timeout_s) {
    const std::int64_t give_up = now_ns() + std::int64_t(timeout_s * 1e9);
    for (;;) {
        const std::size_t nl = buffered_.find('\n');
        if (nl != std::string::npos) {
            std::string line = buffered_.substr(0, nl);
            buffered_.erase(0, nl + 1);
            return line;
        }
        const std::int64_t left_ms = (give_up - now_ns()) / 1'000'000;
        if (left_ms <= 0) throw Failure("the anchor's script said nothing for " +
                                        std::to_string(timeout_s) + " s");
        pollfd p{from_, POLLIN, 0};
        const int r = poll(&p, 1, int(left_ms));
        if (r < 0 && errno != EINTR) fail_errno("poll");
        if (r <= 0) continue;
        char chunk[512];
        const ssize_t n = read(from_, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw Failure("the anchor's script ended without its line (see its stderr)");
        buffered_.append(chunk, std::size_t(n));
    }
}

void AnchorProcess::wait_ready(double timeout_s) {
    const std::string line = read_line(timeout_s);
    if (line != "ready") throw Failure("the anchor's script said '" + line + "', not ready");
}

void AnchorProcess::go() {
    if (write(to_, "go\n", 3) != 3) fail_errno("write to the anchor's script");
}

AnchorResult AnchorProcess::finish(double timeout_s) {
    const std::string line = read_line(timeout_s);
    AnchorResult r{};
    if (std::sscanf(line.c_str(), "ops %lf hits %lf begin %lf end %lf bad %lf", &r.ops, &r.hits,
                    &r.begin_ns, &r.end_ns, &r.bad) != 5)
        throw Failure("the anchor's script reported '" + line + "'");
    wait_exit(timeout_s);
    return r;
}

void AnchorProcess::wait_exit(double timeout_s) {
    const std::int64_t give_up = now_ns() + std::int64_t(timeout_s * 1e9);
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) != pid_) {
        if (now_ns() > give_up) throw Failure("the anchor's script did not exit in time");
        usleep(2000);
    }
    pid_ = -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw Failure("the anchor's script failed (status " + std::to_string(status) +
                      "; see its stderr)");
}

// ---------------------------------------------------------------- memcached

MemcachedServer::MemcachedServer() {
    const std::string binary = kv::find_in_path("memcached");
    if (binary.empty()) throw Skip("memcached is not installed (apt install memcached)");
    char templ[] = "/tmp/shmds-bench-memcached-XXXXXX";
    if (!mkdtemp(templ)) fail_errno("mkdtemp");
    dir_ = templ;
    socket_ = dir_ + "/memcached.sock";
    // A 64 MiB cache like the others; the Unix socket disables TCP; root must name a user.
    std::vector<std::string> args = {binary, "-s", socket_, "-a", "0700", "-m", "64", "-U", "0"};
    if (geteuid() == 0) {
        args.push_back("-u");
        args.push_back("root");
    }
    pid_ = spawn(-1, [&] {
        redirect_to_null(0);
        redirect_to_null(1);
        redirect_to_null(2);
        exec_argv(args);
    });
    // Ready when it answers on its socket (a few ms; 10 s at most).
    const std::int64_t give_up = now_ns() + 10'000'000'000;
    for (;;) {
        int status;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            rmdir(dir_.c_str());
            throw Failure("memcached exited at start");
        }
        try {
            MemcachedClient probe(socket_);
            std::size_t len = 0;
            char v[kValueLen];
            probe.get(key_of(0), v, len);
            return;
        } catch (const Failure &) {
            if (now_ns() > give_up) {
                stop(pid_, SIGKILL);
                pid_ = -1;
                unlink(socket_.c_str());
                rmdir(dir_.c_str());
                throw Failure("memcached did not answer on " + socket_ + " within 10 s");
            }
        }
        usleep(2000);
    }
}

MemcachedServer::~MemcachedServer() {
    stop(pid_);
    unlink(socket_.c_str());
    rmdir(dir_.c_str());
}

MemcachedClient::MemcachedClient(const std::string &socket) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) fail_errno("socket");
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", socket.c_str());
    if (connect(fd_, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
        const int e = errno;
        close(fd_);
        fd_ = -1;
        errno = e;
        fail_errno("connect " + socket);
    }
}

MemcachedClient::~MemcachedClient() {
    if (fd_ >= 0) close(fd_);
}

void MemcachedClient::send_all(const char *p, std::size_t n) {
    while (n > 0) {
        const ssize_t w = write(fd_, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) fail_errno("memcached write");
        p += w;
        n -= std::size_t(w);
    }
}

const char *MemcachedClient::need(std::size_t want) {
    if (want > sizeof buf_) throw Failure("memcached reply larger than the client's buffer");
    while (have_ < want) {
        const ssize_t r = read(fd_, buf_ + have_, sizeof buf_ - have_);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) fail_errno("memcached read");
        have_ += std::size_t(r);
    }
    return buf_;
}

bool MemcachedClient::get(const Key &k, char *v, std::size_t &len) {
    char req[4 + kKeyLen + 2];
    std::memcpy(req, "get ", 4);
    std::memcpy(req + 4, k.b, kKeyLen);
    std::memcpy(req + 4 + kKeyLen, "\r\n", 2);
    send_all(req, sizeof req);
    // "END\r\n", or "VALUE <key> <flags> <bytes>\r\n<data>\r\nEND\r\n".
    const char *b = need(5);
    if (std::memcmp(b, "END\r\n", 5) == 0) {
        have_ = 0;
        return false;
    }
    std::size_t header = 0;
    for (std::size_t at = 1;; ++at) {
        b = need(at + 1);
        if (b[at - 1] == '\r' && b[at] == '\n') {
            header = at + 1;
            break;
        }
    }
    const char *last_space = static_cast<const char *>(memrchr(b, ' ', header));
    if (std::memcmp(b, "VALUE ", 6) != 0 || !last_space)
        throw Failure("memcached get: unexpected reply " + std::string(b, header));
    const std::size_t bytes = std::strtoull(last_space + 1, nullptr, 10);
    b = need(header + bytes + 2 + 5);
    if (std::memcmp(b + header + bytes, "\r\nEND\r\n", 7) != 0)
        throw Failure("memcached get: a reply without its END");
    len = bytes;
    std::memcpy(v, b + header, bytes < kValueLen ? bytes : kValueLen);
    have_ = 0;  // one request in flight: nothing follows
    return true;
}

void MemcachedClient::set(const Key &k, const char *v) {
    char req[64];
    std::size_t n = 0;
    std::memcpy(req, "set ", 4);
    n = 4;
    std::memcpy(req + n, k.b, kKeyLen);
    n += kKeyLen;
    const char tail[] = " 0 0 32\r\n";
    std::memcpy(req + n, tail, sizeof tail - 1);
    n += sizeof tail - 1;
    std::memcpy(req + n, v, kValueLen);
    n += kValueLen;
    std::memcpy(req + n, "\r\n", 2);
    n += 2;
    send_all(req, n);
    const char *b = need(8);
    if (std::memcmp(b, "STORED\r\n", 8) != 0)
        throw Failure("memcached set: unexpected reply " + std::string(b, 8));
    have_ = 0;
}

void MemcachedClient::prefill(const std::vector<Key> &keys) {
    constexpr std::size_t kBatchKeys = 256;
    std::string batch;
    for (std::size_t at = 0; at < keys.size(); at += kBatchKeys) {
        const std::size_t n = std::min(kBatchKeys, keys.size() - at);
        batch.clear();
        for (std::size_t j = 0; j < n; ++j) {
            char v[kValueLen];
            value_of(keys[at + j], 0, v);
            batch += "set ";
            batch.append(keys[at + j].b, kKeyLen);
            batch += " 0 0 32\r\n";
            batch.append(v, kValueLen);
            batch += "\r\n";
        }
        send_all(batch.data(), batch.size());
        const char *b = need(8 * n);
        for (std::size_t j = 0; j < n; ++j)
            if (std::memcmp(b + 8 * j, "STORED\r\n", 8) != 0)
                throw Failure("memcached prefill: a set was not stored");
        have_ = 0;
    }
}

}  // namespace shmds::bench::cachebench
