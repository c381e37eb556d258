// Sync benchmarks (issue 3): the libshmds mutex, rwlock and semaphore against the
// process-shared primitives a C/C++ program would otherwise use, in the same run:
//
//   mutex_uncontended   lock+unlock pairs in one process                    -> pairs/s
//   mutex_contended     2 processes add N each to a counter under the lock   -> incr/s
//   rwlock_read_1proc   read lock+unlock pairs in one process               -> pairs/s
//   rwlock_write_1proc  write lock+unlock pairs in one process              -> pairs/s
//   rwlock_read_mostly  2 processes, 90% read / 10% write locks, N ops each  -> ops/s
//   semaphore_1proc     acquire+release pairs in one process                -> pairs/s
//   semaphore_2proc     2 processes add N each to a counter under 1 permit   -> incr/s
//   idle_consumer       an acquirer blocked on 0 permits for ~1 s            -> its CPU
//
// Every shared-memory subject lives in a mapping made before fork(). The contended
// cases check their counter (and the rwlock its readers' view) and fail if a lock let
// two holders in: a fast lock that does not exclude is not a result.
#include "drivers.hpp"
#include "harness.hpp"
#include "procs.hpp"

#include <shmds/sync.h>

#include <atomic>
#include <boost/interprocess/sync/interprocess_mutex.hpp>
#include <boost/interprocess/sync/interprocess_sharable_mutex.hpp>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <algorithm>
#include <csignal>
#include <string>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace shmds::bench {

namespace {

namespace bip = boost::interprocess;

constexpr const char *kRobust = "pthread-robust";
constexpr const char *kFutexBare = "futex-bare";

void check_shmds(int rc, const char *call) {
    if (__builtin_expect(rc != 0, 0))
        throw Failure(std::string(call) + ": " + shmds_errname(rc) + ": " + shmds_last_error());
}

void check_errno_code(int rc, const char *call) {
    if (__builtin_expect(rc != 0, 0)) throw Failure(std::string(call) + ": " + std::strerror(rc));
}

void check_minus_one(int rc, const char *call) {
    if (__builtin_expect(rc != 0, 0)) throw Failure(std::string(call) + ": " + std::strerror(errno));
}

// ---------------------------------------------------------------- mutexes

class ShmdsMutex {
public:
    ShmdsMutex() { check_shmds(shmds_mutex_create(nullptr, &m_), "shmds_mutex_create"); }
    ~ShmdsMutex() { shmds_mutex_close(m_); }
    ShmdsMutex(const ShmdsMutex &) = delete;
    ShmdsMutex &operator=(const ShmdsMutex &) = delete;
    void lock() { check_shmds(shmds_mutex_lock(m_, SHMDS_FOREVER), "shmds_mutex_lock"); }
    void unlock() { check_shmds(shmds_mutex_unlock(m_), "shmds_mutex_unlock"); }

private:
    shmds_mutex_t *m_ = nullptr;
};

// The baseline of the target: the kernel-assisted robust lock that glibc offers.
class RobustPthreadMutex {
public:
    RobustPthreadMutex() {
        pthread_mutexattr_t attr;
        check_errno_code(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
        int r = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
        if (!r) r = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
        if (!r) r = pthread_mutex_init(&*m_, &attr);
        pthread_mutexattr_destroy(&attr);
        check_errno_code(r, "robust pthread_mutex_init");
    }
    ~RobustPthreadMutex() { pthread_mutex_destroy(&*m_); }
    RobustPthreadMutex(const RobustPthreadMutex &) = delete;
    RobustPthreadMutex &operator=(const RobustPthreadMutex &) = delete;
    void lock() { check_errno_code(pthread_mutex_lock(&*m_), "pthread_mutex_lock"); }
    void unlock() { check_errno_code(pthread_mutex_unlock(&*m_), "pthread_mutex_unlock"); }

private:
    Shared<pthread_mutex_t> m_;
};

class BoostMutex {
public:
    void lock() { m_->lock(); }
    void unlock() { m_->unlock(); }

private:
    Shared<bip::interprocess_mutex> m_;
};

long futex(std::atomic<std::uint32_t> &word, int op, std::uint32_t val) {
    return syscall(SYS_futex, reinterpret_cast<std::uint32_t *>(&word), op, val, nullptr, nullptr,
                   0);
}

// The textbook 3-state futex lock (0 free, 1 held, 2 held with possible sleepers):
// no robustness, no owner, no spinning, so it shows what crash safety costs.
class FutexMutex {
public:
    void lock() {
        std::uint32_t c = 0;
        if (w_->compare_exchange_strong(c, 1, std::memory_order_acquire)) return;
        if (c != 2) c = w_->exchange(2, std::memory_order_acquire);
        while (c != 0) {
            if (futex(*w_, FUTEX_WAIT, 2) != 0 && errno != EAGAIN && errno != EINTR)
                throw Failure(std::string("FUTEX_WAIT: ") + std::strerror(errno));
            c = w_->exchange(2, std::memory_order_acquire);
        }
    }
    void unlock() {
        if (w_->fetch_sub(1, std::memory_order_release) != 1) {
            w_->store(0, std::memory_order_release);
            futex(*w_, FUTEX_WAKE, 1);
        }
    }

private:
    Shared<std::atomic<std::uint32_t>> w_{0u};
};

// ---------------------------------------------------------------- rwlocks

class ShmdsRwlock {
public:
    ShmdsRwlock() { check_shmds(shmds_rwlock_create(nullptr, 0, &rw_), "shmds_rwlock_create"); }
    ~ShmdsRwlock() { shmds_rwlock_close(rw_); }
    ShmdsRwlock(const ShmdsRwlock &) = delete;
    ShmdsRwlock &operator=(const ShmdsRwlock &) = delete;
    void lock_read() { check_shmds(shmds_rwlock_rdlock(rw_, SHMDS_FOREVER), "shmds_rwlock_rdlock"); }
    void lock_write() { check_shmds(shmds_rwlock_wrlock(rw_, SHMDS_FOREVER), "shmds_rwlock_wrlock"); }
    void unlock_read() { check_shmds(shmds_rwlock_unlock(rw_), "shmds_rwlock_unlock"); }
    void unlock_write() { unlock_read(); }

private:
    shmds_rwlock_t *rw_ = nullptr;
};

class PthreadRwlock {
public:
    PthreadRwlock() {
        pthread_rwlockattr_t attr;
        check_errno_code(pthread_rwlockattr_init(&attr), "pthread_rwlockattr_init");
        int r = pthread_rwlockattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
        if (!r) r = pthread_rwlock_init(&*rw_, &attr);
        pthread_rwlockattr_destroy(&attr);
        check_errno_code(r, "pthread_rwlock_init");
    }
    ~PthreadRwlock() { pthread_rwlock_destroy(&*rw_); }
    PthreadRwlock(const PthreadRwlock &) = delete;
    PthreadRwlock &operator=(const PthreadRwlock &) = delete;
    void lock_read() { check_errno_code(pthread_rwlock_rdlock(&*rw_), "pthread_rwlock_rdlock"); }
    void lock_write() { check_errno_code(pthread_rwlock_wrlock(&*rw_), "pthread_rwlock_wrlock"); }
    void unlock_read() { check_errno_code(pthread_rwlock_unlock(&*rw_), "pthread_rwlock_unlock"); }
    void unlock_write() { unlock_read(); }

private:
    Shared<pthread_rwlock_t> rw_;
};

class BoostSharable {
public:
    void lock_read() { rw_->lock_sharable(); }
    void lock_write() { rw_->lock(); }
    void unlock_read() { rw_->unlock_sharable(); }
    void unlock_write() { rw_->unlock(); }

private:
    Shared<bip::interprocess_sharable_mutex> rw_;
};

// The bare futex mutex in the rwlock rows: the floor any lock's uncontended pair is
// measured against (a read or write lock cannot beat one CAS and one decrement).
class FutexAsRwlock {
public:
    void lock_read() { m_.lock(); }
    void lock_write() { m_.lock(); }
    void unlock_read() { m_.unlock(); }
    void unlock_write() { m_.unlock(); }

private:
    FutexMutex m_;
};

// ---------------------------------------------------------------- semaphores

class ShmdsSemaphore {
public:
    ShmdsSemaphore(std::uint32_t max, std::uint32_t initial) {
        check_shmds(shmds_semaphore_create(nullptr, max, initial, &s_), "shmds_semaphore_create");
    }
    ~ShmdsSemaphore() { shmds_semaphore_close(s_); }
    ShmdsSemaphore(const ShmdsSemaphore &) = delete;
    ShmdsSemaphore &operator=(const ShmdsSemaphore &) = delete;
    void lock() {
        check_shmds(shmds_semaphore_acquire(s_, SHMDS_FOREVER), "shmds_semaphore_acquire");
    }
    void unlock() { check_shmds(shmds_semaphore_release(s_, 1), "shmds_semaphore_release"); }

private:
    shmds_semaphore_t *s_ = nullptr;
};

class PosixSemaphore {
public:
    // POSIX has no max: `max` only keeps the constructor alike.
    PosixSemaphore(std::uint32_t, std::uint32_t initial) {
        check_minus_one(sem_init(&*s_, 1, initial), "sem_init");
    }
    ~PosixSemaphore() { sem_destroy(&*s_); }
    PosixSemaphore(const PosixSemaphore &) = delete;
    PosixSemaphore &operator=(const PosixSemaphore &) = delete;
    void lock() {
        int r;
        while ((r = sem_wait(&*s_)) != 0 && errno == EINTR) {
        }
        check_minus_one(r, "sem_wait");
    }
    void unlock() { check_minus_one(sem_post(&*s_), "sem_post"); }

private:
    Shared<sem_t> s_;
};

// ---------------------------------------------------------------- drivers

// Operations per process in a 2-process case: sized so the robust pthread mutex takes
// about the requested seconds at the 8.7M/s; slower subjects simply take longer.
std::uint64_t ops_per_process(const RunParams &p) {
    return std::max<std::uint64_t>(10000, std::uint64_t(p.seconds * 4e6));
}

// The guarded data sits on its own cache line, away from every subject's lock word,
// so each subject pays the same one line of sharing for it.
struct alignas(64) Counter {
    std::uint64_t value = 0;
};

// Both processes add N to one counter, each increment under the lock; the rate is 2N
// over the span from the first start to the last finish.
template <typename L>
void run_counter(const RunParams &p, Sample &s, L &lock, const char *unit) {
    Shared<StartLine> line;
    Shared<Counter> counter;
    const std::uint64_t n = ops_per_process(p);
    auto adder = [&](ChildReport &r) {
        line->arrive_and_wait(2);
        const DelayWatch watch;
        r.values[0] = double(now_ns());
        for (std::uint64_t i = 0; i < n; ++i) {
            lock.lock();
            ++counter->value;
            lock.unlock();
        }
        r.values[1] = double(now_ns());
        r.values[2] = watch.fraction();
    };
    auto reports = run_children({{p.cpu_a, adder}, {p.cpu_b, adder}}, case_timeout(p));
    if (counter->value != 2 * n)
        throw Failure("the counter reached " + std::to_string(counter->value) + ", not " +
                      std::to_string(2 * n) + ": the lock let two holders in");
    const double begin = std::min(reports[0].values[0], reports[1].values[0]);
    const double end = std::max(reports[0].values[1], reports[1].values[1]);
    s.add("rate", double(2 * n) / ((end - begin) * 1e-9), unit);
    s.disturbed(worse_of(reports[0].values[2], reports[1].values[2]));
}

// A small struct whose fields a writer sets together: a reader that sees them differ
// was let in beside a writer.
struct alignas(64) Guarded {
    std::uint64_t fields[4] = {};
};

// Both processes do N operations: 1 in 10 a write lock that bumps every field, the
// others a read lock that checks the fields agree. A per-process xorshift decides,
// so the two processes' writes do not fall into lockstep.
template <typename RW>
void run_read_mostly(const RunParams &p, Sample &s, RW &rw) {
    Shared<StartLine> line;
    Shared<Guarded> data;
    const std::uint64_t n = ops_per_process(p) / 2;
    auto worker = [&](std::uint64_t seed) {
        return [&, seed](ChildReport &r) {
            line->arrive_and_wait(2);
            const DelayWatch watch;
            std::uint64_t x = seed, writes = 0;
            r.values[0] = double(now_ns());
            for (std::uint64_t i = 0; i < n; ++i) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if (x % 10 == 0) {
                    rw.lock_write();
                    for (std::uint64_t &f : data->fields) ++f;
                    rw.unlock_write();
                    ++writes;
                } else {
                    rw.lock_read();
                    const volatile std::uint64_t *f = data->fields;
                    const bool torn = f[0] != f[1] || f[1] != f[2] || f[2] != f[3];
                    rw.unlock_read();
                    if (torn) throw Failure("a reader saw a half-done write");
                }
            }
            r.values[1] = double(now_ns());
            r.values[2] = watch.fraction();
            r.values[3] = double(writes);
        };
    };
    auto reports = run_children({{p.cpu_a, worker(0x9e3779b97f4a7c15)},
                                 {p.cpu_b, worker(0xd1b54a32d192ed03)}},
                                case_timeout(p));
    const double writes = reports[0].values[3] + reports[1].values[3];
    if (double(data->fields[0]) != writes)
        throw Failure(std::to_string(writes) + " writes left the fields at " +
                      std::to_string(data->fields[0]) + ": a write was lost");
    const double begin = std::min(reports[0].values[0], reports[1].values[0]);
    const double end = std::max(reports[0].values[1], reports[1].values[1]);
    s.add("rate", double(2 * n) / ((end - begin) * 1e-9), "ops/s");
    s.disturbed(worse_of(reports[0].values[2], reports[1].values[2]));
}

// ---------------------------------------------------------------- registration

// A workload of two processes contending, and its @1cpu row: both on one CPU, where a
// lock that spins waiting for a holder that cannot run loses whole time slices.
void add_contended(const Case &c) {
    add_case(c);
    add_case(on_one_cpu(c, c.ratio_to));
}

template <typename M>
void add_mutex(const std::string &subject, const std::string &vs, const std::string &note) {
    add_case({"mutex_uncontended", subject, vs, [note](const RunParams &p, Sample &s) {
                  M m;
                  s.note(note);
                  run_pairs(p, s, [&m] {
                      m.lock();
                      m.unlock();
                      return std::uint64_t{1};
                  });
              }});
    add_contended({"mutex_contended", subject, vs, [note](const RunParams &p, Sample &s) {
                       M m;
                       s.note(note);
                       run_counter(p, s, m, "incr/s");
                   }});
}

template <typename RW>
void add_rwlock_1proc(const std::string &subject, const std::string &note) {
    const std::string vs = subject == kFutexBare ? "" : kFutexBare;
    add_case({"rwlock_read_1proc", subject, vs, [note](const RunParams &p, Sample &s) {
                  RW rw;
                  s.note(note);
                  run_pairs(p, s, [&rw] {
                      rw.lock_read();
                      rw.unlock_read();
                      return std::uint64_t{1};
                  });
              }});
    add_case({"rwlock_write_1proc", subject, vs, [note](const RunParams &p, Sample &s) {
                  RW rw;
                  s.note(note);
                  run_pairs(p, s, [&rw] {
                      rw.lock_write();
                      rw.unlock_write();
                      return std::uint64_t{1};
                  });
              }});
}

template <typename RW>
void add_rwlock(const std::string &subject, const std::string &vs, const std::string &note) {
    add_rwlock_1proc<RW>(subject, note);
    add_contended({"rwlock_read_mostly", subject, vs, [note](const RunParams &p, Sample &s) {
                       RW rw;
                       s.note(note);
                       run_read_mostly(p, s, rw);
                   }});
}

// run_idle's channel: a semaphore with no permits. It carries no data, so a message is
// the count of permits this side has taken (run_idle checks 1, then 2).
class ShmdsSemaphoreIdle {
public:
    using Msg = std::uint64_t;
    std::string note() const { return "acquire FOREVER on 0 permits"; }
    void send(const Msg &) { sem_.unlock(); }
    void recv(Msg &m) {
        sem_.lock();
        m = ++taken_;
    }

private:
    ShmdsSemaphore sem_{1, 0};
    std::uint64_t taken_ = 0;
};

// The floor of any sleeper that wakes on its own every 100 ms (the library's wake
// bound): a bare futex wait with a 100 ms timeout, doing nothing else per wake-up. What
// an idle sleeper of the library costs beyond this row is the library's own work.
class TimedFutexIdle {
public:
    using Msg = std::uint64_t;
    std::string note() const { return "bare FUTEX_WAIT, 100 ms timeout, nothing else"; }
    void send(const Msg &m) {
        w_->store(std::uint32_t(m), std::memory_order_release);
        futex(*w_, FUTEX_WAKE, 1);
    }
    void recv(Msg &m) {
        const std::uint32_t last = taken_;
        while (w_->load(std::memory_order_acquire) == last) {
            const timespec bound{0, 100'000'000};
            syscall(SYS_futex, reinterpret_cast<std::uint32_t *>(&*w_), FUTEX_WAIT, last, &bound,
                    nullptr, 0);
        }
        m = taken_ = w_->load(std::memory_order_acquire);
    }

private:
    Shared<std::atomic<std::uint32_t>> w_{0u};
    std::uint32_t taken_ = 0;
};

template <typename S>
void add_semaphore(const std::string &subject, const std::string &vs) {
    add_case({"semaphore_1proc", subject, vs, [](const RunParams &p, Sample &s) {
                  S sem(4, 4);
                  s.note("max 4, initial 4");
                  run_pairs(p, s, [&sem] {
                      sem.lock();
                      sem.unlock();
                      return std::uint64_t{1};
                  });
              }});
    add_contended({"semaphore_2proc", subject, vs, [](const RunParams &p, Sample &s) {
                       S sem(1, 1);
                       s.note("1 permit guards a counter");
                       run_counter(p, s, sem, "incr/s");
                   }});
}

void register_sync_benchmarks() {
    add_mutex<ShmdsMutex>("shmds", kRobust, "own futex lock word, thread-stamp owner, owner-dead flag");
    add_mutex<RobustPthreadMutex>(kRobust, "", "pshared, robust");
    add_mutex<BoostMutex>("boost-ipc", kRobust, "interprocess_mutex, not robust");
    add_mutex<FutexMutex>(kFutexBare, kRobust, "3-state futex, not robust");

    add_rwlock<ShmdsRwlock>("shmds", "pthread-rwlock", "write-preferring, crash-safe");
    add_rwlock<PthreadRwlock>("pthread-rwlock", "", "pshared, reader-preferring");
    add_rwlock<BoostSharable>("boost-sharable", "pthread-rwlock", "interprocess_sharable_mutex");
    add_rwlock_1proc<FutexAsRwlock>(kFutexBare, "3-state futex mutex, not robust");

    add_semaphore<ShmdsSemaphore>("shmds", "posix-sem");
    add_semaphore<PosixSemaphore>("posix-sem", "");

    add_idle<ShmdsSemaphoreIdle>("shmds-semaphore", kIdlePeer);
    add_idle<TimedFutexIdle>("futex-100ms-wakes", kIdlePeer);
    add_target({"idle_consumer", "shmds-semaphore", "cpu", "", false, 1000,
                "CPU of an idle acquirer blocked on 0 permits"});

    add_target({"mutex_uncontended", "shmds", "rate", kRobust, true, 1.0,
                "mutex lock+unlock, one process, vs robust pthread mutex"});
    add_target({"mutex_contended", "shmds", "rate", kRobust, true, 1.0,
                "mutex counter, 2 processes, vs robust pthread mutex"});
    add_target({"rwlock_read_1proc", "shmds", "rate", kFutexBare, true, 0.8,
                "rwlock read lock+unlock, one process, vs bare futex mutex lock+unlock"});
    add_target({"rwlock_write_1proc", "shmds", "rate", kFutexBare, true, 0.5,
                "rwlock write lock+unlock, one process, vs bare futex mutex lock+unlock"});
    add_target({"rwlock_read_mostly", "shmds", "rate", "pthread-rwlock", true, 1.0,
                "rwlock 90/10 reads/writes, 2 processes, vs pthread_rwlock"});
    add_target({"rwlock_read_mostly", "shmds", "rate", "boost-sharable", true, 1.0,
                "rwlock 90/10 reads/writes, 2 processes, vs Boost sharable_mutex"});
    // Issue 9: what crash safety may cost against a lock with none.
    add_target({"mutex_uncontended", "shmds", "rate", kFutexBare, true, 0.8,
                "mutex lock+unlock, one process, vs the bare futex mutex"});
    add_target({"mutex_contended", "shmds", "rate", kFutexBare, true, 0.8,
                "mutex counter, 2 processes, vs the bare futex mutex"});
    add_target({"semaphore_1proc", "shmds", "rate", "posix-sem", true, 1.0,
                "semaphore acquire+release, one process, vs sem_t"});
    add_target({"semaphore_2proc", "shmds", "rate", "posix-sem", true, 1.0,
                "semaphore counter, 2 processes, vs sem_t"});
}

}  // namespace

SHMDS_BENCH_REGISTER(register_sync_benchmarks);

}  // namespace shmds::bench
