// Log benchmarks (issue 12): 64-byte entries appended from one process and from two at
// once, and read back in order, against the peers in the same run: write(2) on
// an O_APPEND file in /dev/shm (the usual shared append-only log) and a pipe with a
// writer and a reader process. The target: append >= 20x the O_APPEND file.
//
// The log is bounded: when it is full the appender resets it (one locked call per ~900k
// appends). The "shmds" rows measure a log in steady use: its data region was written
// once and the measuring process has mapped it (a fresh segment's pages are allocated by
// the kernel as appends first reach them, and a forked process faults on each page once
// more: together ~15 us per 4 KiB page on this machine, 10x the appends it holds);
// "shmds-cold" measures a fresh segment, every page first touched inside the window, as
// the file peer's tmpfs pages are. The file is truncated only every kFileLap
// writes (never within a normal window), so it never rewrites the pages it frees.
#include "drivers.hpp"
#include "harness.hpp"
#include "procs.hpp"
#include "timed_rate.hpp"

#include <shmds/log.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace shmds::bench {

namespace {

constexpr std::size_t kEntry = 64;
constexpr std::uint64_t kLogBytes = std::uint64_t{64} << 20;
constexpr std::uint64_t kFileLap = 1u << 22;  // writes between truncations (256 MiB)
constexpr const char *kFile = "o_append-file";
constexpr const char *kPipe = "pipe";

struct Entry {
    char bytes[kEntry];
    Entry() { std::memset(bytes, 'a', sizeof bytes); }
};

// ---------------------------------------------------------------- subjects

class LogSubject {
public:
    // warm: fill the whole data region once, as a log in use has been.
    explicit LogSubject(bool warm = false) {
        shmds_log_config_t cfg = SHMDS_LOG_CONFIG_INIT(kLogBytes);
        if (shmds_log_create(nullptr, &cfg, &log_) != 0)
            throw Failure(std::string("shmds_log_create: ") + shmds_last_error());
        if (warm) {
            const Entry e;
            while (shmds_log_append(log_, e.bytes, kEntry, nullptr) == 0) {
            }
        }
    }

    // In a measuring child of a warm log: read every entry once, so this process has
    // its page-table entries (a fork() child of the process that wrote the pages
    // faults on each of them once; a process in steady use has long done so).
    void map_in() {
        Reader r = reader();
        for (std::uint64_t n = shmds_log_entry_count(log_); n; --n) r.read();
    }
    ~LogSubject() { shmds_log_close(log_); }
    LogSubject(const LogSubject &) = delete;
    LogSubject &operator=(const LogSubject &) = delete;

    void append(const Entry &e) {
        int rc = shmds_log_append(log_, e.bytes, kEntry, nullptr);
        if (rc == -ENOSPC) {
            shmds_log_reset(log_);
            rc = shmds_log_append(log_, e.bytes, kEntry, nullptr);
        }
        if (rc != 0) throw Failure(std::string("shmds_log_append: ") + shmds_last_error());
    }

    // A reader: cursor_next over the log, starting again at the tail.
    class Reader {
    public:
        explicit Reader(shmds_log_t *l) : log_(l) { shmds_log_cursor_init(l, &c_, 0); }
        void read() {
            std::size_t len = 0;
            int rc = shmds_log_cursor_next(log_, &c_, buf_, sizeof buf_, &len, nullptr);
            if (rc == -EAGAIN) {
                shmds_log_cursor_init(log_, &c_, 0);
                rc = shmds_log_cursor_next(log_, &c_, buf_, sizeof buf_, &len, nullptr);
            }
            if (rc != 0 || len != kEntry || buf_[0] != 'a')
                throw Failure(std::string("shmds_log_cursor_next: ") + shmds_last_error());
        }

    private:
        shmds_log_t *log_;
        shmds_log_cursor_t c_{};
        char buf_[kEntry];
    };
    Reader reader() { return Reader(log_); }

private:
    shmds_log_t *log_ = nullptr;
};

// A file in /dev/shm opened with O_APPEND in every process that appends.
class FileSubject {
public:
    FileSubject() : path_("/dev/shm/shmds-bench-log-" + std::to_string(getpid())) {
        const int fd = ::open(path_.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
        if (fd < 0) throw Failure("open " + path_ + ": " + std::strerror(errno));
        ::close(fd);
    }
    ~FileSubject() { ::unlink(path_.c_str()); }
    FileSubject(const FileSubject &) = delete;
    FileSubject &operator=(const FileSubject &) = delete;

    int open_for_append() const {
        const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND);
        if (fd < 0) throw Failure("open " + path_ + ": " + std::strerror(errno));
        return fd;
    }
    int open_for_read() const { return ::open(path_.c_str(), O_RDONLY); }

    static void append(int fd, const Entry &e, std::uint64_t &written) {
        if (::write(fd, e.bytes, kEntry) != ssize_t(kEntry))
            throw Failure(std::string("write: ") + std::strerror(errno));
        if (++written % kFileLap == 0 && ::ftruncate(fd, 0) != 0)
            throw Failure(std::string("ftruncate: ") + std::strerror(errno));
    }

private:
    std::string path_;
};

// ---------------------------------------------------------------- appends

// `writers` processes append at once, each on its own CPU when there are two.
template <typename Body>
void run_appenders(const RunParams &p, Sample &s, int writers, Body body) {
    Shared<StartLine> line;
    std::vector<ChildSpec> specs;
    for (int w = 0; w < writers; ++w)
        specs.push_back({w == 0 ? p.cpu_a : p.cpu_b, [&, w](ChildReport &r) {
                             auto op = body(w);
                             line->arrive_and_wait(writers);
                             timed(p.seconds, op).into(r);
                         }});
    add_rate(s, run_children(specs, case_timeout(p)), "appends/s");
}

void append_shmds(const RunParams &p, Sample &s, int writers, bool warm) {
    LogSubject log(warm);
    run_appenders(p, s, writers, [&](int) {
        if (warm) log.map_in();  // the first append finds the log full and resets it
        return [&log, e = Entry()] { log.append(e); };
    });
}

void append_file(const RunParams &p, Sample &s, int writers) {
    FileSubject file;
    run_appenders(p, s, writers, [&](int) {
        return [fd = file.open_for_append(), e = Entry(), n = std::uint64_t{0}]() mutable {
            FileSubject::append(fd, e, n);
        };
    });
}

// Writers write 64-byte messages into one pipe, a reader process reads them in large
// chunks; the rate is the writers'. Each writer ends with a message of 'z's, and the
// reader stops once it has seen one per writer.
void append_pipe(const RunParams &p, Sample &s, int writers) {
    int fds[2];
    if (pipe(fds) != 0) throw Failure("pipe failed");
    Shared<StartLine> line;
    std::vector<ChildSpec> specs;
    for (int w = 0; w < writers; ++w)
        specs.push_back({w == 0 ? p.cpu_a : p.cpu_b, [&](ChildReport &r) {
                             ::close(fds[0]);
                             const Entry e;
                             line->arrive_and_wait(writers + 1);
                             timed(p.seconds, [&] {
                                 if (::write(fds[1], e.bytes, kEntry) != ssize_t(kEntry))
                                     throw Failure("pipe write failed");
                             }).into(r);
                             Entry end;
                             std::memset(end.bytes, 'z', kEntry);
                             if (::write(fds[1], end.bytes, kEntry) != ssize_t(kEntry))
                                 throw Failure("pipe write failed");
                         }});
    specs.push_back({-1, [&](ChildReport &r) {
                         ::close(fds[1]);
                         line->arrive_and_wait(writers + 1);
                         static char buf[1 << 16];
                         std::size_t carry = 0;
                         int ends = 0;
                         while (ends < writers) {
                             const ssize_t n = ::read(fds[0], buf + carry, sizeof buf - carry);
                             if (n <= 0) throw Failure("pipe read failed");
                             const std::size_t have = carry + std::size_t(n);
                             std::size_t at = 0;
                             for (; at + kEntry <= have; at += kEntry)
                                 if (buf[at] == 'z') ++ends;
                             carry = have - at;
                             std::memmove(buf, buf + at, carry);
                         }
                         r.values[0] = 0;
                     }});
    auto reports = run_children(specs, case_timeout(p));
    ::close(fds[0]);
    ::close(fds[1]);
    reports.pop_back();  // the reader's
    add_rate(s, reports, "appends/s");
}

// ---------------------------------------------------------------- reads

void read_shmds(const RunParams &p, Sample &s) {
    LogSubject log(true);
    auto reports = run_children({{p.cpu_a, [&](ChildReport &r) {
                                      log.map_in();
                                      auto reader = log.reader();
                                      timed(p.seconds, [&] { reader.read(); }).into(r);
                                  }}},
                                case_timeout(p));
    add_rate(s, reports, "reads/s");
}

void read_file(const RunParams &p, Sample &s) {
    FileSubject file;
    {
        const int fd = file.open_for_append();
        std::uint64_t n = 0;
        const Entry e;
        for (std::uint64_t i = 0; i < (1u << 18); ++i) FileSubject::append(fd, e, n);
        ::close(fd);
    }
    auto reports = run_children({{p.cpu_a, [&](ChildReport &r) {
                                      const int fd = file.open_for_read();
                                      char buf[kEntry];
                                      timed(p.seconds, [&] {
                                          ssize_t n = ::read(fd, buf, kEntry);
                                          if (n == 0) {
                                              ::lseek(fd, 0, SEEK_SET);
                                              n = ::read(fd, buf, kEntry);
                                          }
                                          if (n != ssize_t(kEntry) || buf[0] != 'a')
                                              throw Failure("file read failed");
                                      }).into(r);
                                      ::close(fd);
                                  }}},
                                case_timeout(p));
    add_rate(s, reports, "reads/s");
}

// A writer keeps the pipe full in 64 KiB writes; the reader reads 64-byte messages.
void read_pipe(const RunParams &p, Sample &s) {
    int fds[2];
    if (pipe(fds) != 0) throw Failure("pipe failed");
    Shared<std::atomic<int>> done(0);
    auto reports = run_children(
        {{p.cpu_a,
          [&](ChildReport &r) {
              char buf[kEntry];
              timed(p.seconds, [&] {
                  if (::read(fds[0], buf, kEntry) != ssize_t(kEntry) || buf[0] != 'a')
                      throw Failure("pipe read failed");
              }).into(r);
              done->store(1);
              // Drain until the writer is out of its last write.
              fcntl(fds[0], F_SETFL, O_NONBLOCK);
              static char sink[1 << 16];
              for (;;) {
                  if (::read(fds[0], sink, sizeof sink) > 0) continue;
                  if (done->load() == 2) break;
                  usleep(100);
              }
          }},
         {p.cpu_b, [&](ChildReport &r) {
              static char chunk[1 << 16];
              std::memset(chunk, 'a', sizeof chunk);
              while (done->load() == 0)
                  if (::write(fds[1], chunk, sizeof chunk) != ssize_t(sizeof chunk))
                      throw Failure("pipe write failed");
              done->store(2);
              r.values[0] = 0;
          }}},
        case_timeout(p));
    ::close(fds[0]);
    ::close(fds[1]);
    reports.pop_back();
    add_rate(s, reports, "reads/s");
}

// ---------------------------------------------------------------- registration

void register_log_benchmarks() {
    for (int writers : {1, 2}) {
        const std::string w = writers == 1 ? "log_append/64B" : "log_append2/64B";
        add_case({w, "shmds", kFile, [writers](const RunParams &p, Sample &s) {
                      append_shmds(p, s, writers, true);
                  }});
        add_case({w, "shmds-cold", kFile, [writers](const RunParams &p, Sample &s) {
                      append_shmds(p, s, writers, false);
                  }});
        add_case({w, kFile, "",
                  [writers](const RunParams &p, Sample &s) { append_file(p, s, writers); }});
        add_case({w, kPipe, "",
                  [writers](const RunParams &p, Sample &s) { append_pipe(p, s, writers); }});
        add_target({w, "shmds", "rate", kFile, true, 20,
                    std::string("Log append of 64-byte entries from ") +
                        (writers == 1 ? "one process" : "two processes at once") +
                        " (a log past its first lap) vs write(2) on an O_APPEND file in "
                        "/dev/shm"});
    }
    add_case({"log_read/64B", "shmds", kFile, read_shmds});
    add_case({"log_read/64B", kFile, "", read_file});
    add_case({"log_read/64B", kPipe, "", read_pipe});
}

}  // namespace

SHMDS_BENCH_REGISTER(register_log_benchmarks);

}  // namespace shmds::bench
