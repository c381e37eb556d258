// Takeover of a dead holder (issue 9), one row per lock kind of the library:
//
//   takeover   a holder process takes the lock, a waiter blocks on it, the holder is
//              SIGKILLed; the time from the kill to the waiter owning the lock -> ms
//
// The waiter is asleep on the lock for 20 to 28 ms before the kill (the offset varies
// per repetition, so the kill lands at every phase of the waiter's probe schedule), as
// a waiter behind a holder that dies mid-work is. The holder's parent reaps it at once,
// as a supervisor would; the liveness checks also catch an unreaped zombie.
//
// The public primitives run through the C API. The bytes queue's and the reqrep request
// ring's internal lock (core::RobustMutex) has no public handle, so its row calls
// core::robust_mutex_lock() itself: the library's own objects, linked into the bench
// (bench/meson.build), with the internal locks' spin.
#include "drivers.hpp"
#include "harness.hpp"
#include "procs.hpp"

#include "core/deadline.hpp"
#include "core/robust_mutex.hpp"

#include <shmds/sync.h>

#include <atomic>
#include <csignal>
#include <cstdint>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace shmds::bench {

namespace {

void check_rc(int rc, int want, const char *call) {
    if (rc != want)
        throw Failure(std::string(call) + " returned " + shmds_errname(rc) + ": " +
                      shmds_last_error());
}

// A lock kind: take() in the holder (succeeds at once), and wait_take() in the waiter,
// which blocks until the takeover and checks its outcome.
class MutexSubject {
public:
    MutexSubject() { check_rc(shmds_mutex_create(nullptr, &m_), 0, "shmds_mutex_create"); }
    ~MutexSubject() { shmds_mutex_close(m_); }
    void take() { check_rc(shmds_mutex_lock(m_, SHMDS_FOREVER), 0, "shmds_mutex_lock"); }
    void wait_take() {
        check_rc(shmds_mutex_lock(m_, SHMDS_FOREVER), SHMDS_EOWNERDEAD, "shmds_mutex_lock");
    }
    static const char *note() { return "user mutex, lock FOREVER"; }

private:
    shmds_mutex_t *m_ = nullptr;
};

class CondvarSubject {
public:
    CondvarSubject() { check_rc(shmds_condvar_create(nullptr, &cv_), 0, "shmds_condvar_create"); }
    ~CondvarSubject() { shmds_condvar_close(cv_); }
    void take() { check_rc(shmds_condvar_lock(cv_, SHMDS_FOREVER), 0, "shmds_condvar_lock"); }
    void wait_take() {
        check_rc(shmds_condvar_lock(cv_, SHMDS_FOREVER), SHMDS_EOWNERDEAD, "shmds_condvar_lock");
    }
    static const char *note() { return "condvar's mutex, lock FOREVER"; }

private:
    shmds_condvar_t *cv_ = nullptr;
};

class SemaphoreSubject {
public:
    SemaphoreSubject() {
        check_rc(shmds_semaphore_create(nullptr, 1, 1, &s_), 0, "shmds_semaphore_create");
    }
    ~SemaphoreSubject() { shmds_semaphore_close(s_); }
    void take() { check_rc(shmds_semaphore_acquire(s_, SHMDS_FOREVER), 0, "shmds_semaphore_acquire"); }
    void wait_take() { take(); }
    static const char *note() { return "max 1: the dead holder's permit, acquire FOREVER"; }

private:
    shmds_semaphore_t *s_ = nullptr;
};

class RwlockSubject {
public:
    RwlockSubject() { check_rc(shmds_rwlock_create(nullptr, 0, &rw_), 0, "shmds_rwlock_create"); }
    ~RwlockSubject() { shmds_rwlock_close(rw_); }
    void take() { check_rc(shmds_rwlock_wrlock(rw_, SHMDS_FOREVER), 0, "shmds_rwlock_wrlock"); }
    void wait_take() {
        check_rc(shmds_rwlock_wrlock(rw_, SHMDS_FOREVER), SHMDS_EOWNERDEAD, "shmds_rwlock_wrlock");
    }
    static const char *note() { return "write lock behind a dead writer, FOREVER"; }

private:
    shmds_rwlock_t *rw_ = nullptr;
};

// A reader dies inside: its read lock must not pin the writer waiting behind it (the
// data was only read, so the writer gets a plain 0, not EOWNERDEAD).
class RwlockReaderSubject {
public:
    RwlockReaderSubject() {
        check_rc(shmds_rwlock_create(nullptr, 0, &rw_), 0, "shmds_rwlock_create");
    }
    ~RwlockReaderSubject() { shmds_rwlock_close(rw_); }
    void take() { check_rc(shmds_rwlock_rdlock(rw_, SHMDS_FOREVER), 0, "shmds_rwlock_rdlock"); }
    void wait_take() {
        check_rc(shmds_rwlock_wrlock(rw_, SHMDS_FOREVER), 0, "shmds_rwlock_wrlock");
    }
    static const char *note() { return "write lock behind a dead reader, FOREVER"; }

private:
    shmds_rwlock_t *rw_ = nullptr;
};

class InternalLockSubject {
public:
    void take() {
        if (lock() != core::LockResult::acquired) throw Failure("robust_mutex_lock did not acquire");
    }
    void wait_take() {
        if (lock() != core::LockResult::recovered)
            throw Failure("robust_mutex_lock did not take over from the dead holder");
    }
    static const char *note() { return "core::RobustMutex of the bytes queue and reqrep"; }

private:
    core::LockResult lock() {
        return core::robust_mutex_lock(*m_, core::Deadline::from_timeout(-1), nullptr, nullptr,
                                       nullptr);
    }
    Shared<core::RobustMutex> m_;  // zeroed: free
};

struct Stages {
    std::atomic<int> stage{0};  // 1: the holder holds; 2: the waiter is about to block
    std::atomic<std::int64_t> killed_at{0};
};

template <typename Lock>
void run_takeover(const RunParams &p, Sample &s) {
    Lock lock;
    Shared<Stages> st;
    s.note(Lock::note());
    // 20 ms plus a per-repetition offset over one probe interval (8 ms).
    const std::int64_t asleep_ns = 20'000'000 + now_ns() % 8'000'000;
    auto killer = [&](ChildReport &) {
        const pid_t holder = fork();
        if (holder < 0) throw Failure("fork failed");
        if (holder == 0) {
            lock.take();
            st->stage.store(1);
            for (;;) pause();
        }
        while (st->stage.load() < 2) usleep(100);
        const timespec pause_for{0, long(asleep_ns)};
        nanosleep(&pause_for, nullptr);
        st->killed_at.store(now_ns());
        kill(holder, SIGKILL);
        int status = 0;
        waitpid(holder, &status, 0);
    };
    auto waiter = [&](ChildReport &r) {
        while (st->stage.load() < 1) usleep(100);
        st->stage.store(2);
        lock.wait_take();
        const std::int64_t owned = now_ns();
        r.values[0] = double(owned - st->killed_at.load()) * 1e-6;
    };
    auto reports = run_children({{p.cpu_a, killer}, {p.cpu_b, waiter}}, case_timeout(p));
    s.add("takeover", reports[1].values[0], "ms");
}

template <typename Lock>
void add_takeover(const std::string &subject) {
    Case c{"takeover", subject, "", [](const RunParams &p, Sample &s) { run_takeover<Lock>(p, s); }};
    c.warmup = false;
    add_case(std::move(c));
    add_target({"takeover", subject, "takeover", "", false, 10,
                "a dead holder's " + subject + " taken over by a blocked waiter"});
}

void register_takeover_benchmarks() {
    add_takeover<MutexSubject>("shmds-mutex");
    add_takeover<CondvarSubject>("shmds-condvar");
    add_takeover<SemaphoreSubject>("shmds-semaphore");
    add_takeover<RwlockSubject>("shmds-rwlock");
    add_takeover<RwlockReaderSubject>("shmds-rwlock-reader");
    add_takeover<InternalLockSubject>("shmds-internal-lock");
}

}  // namespace

SHMDS_BENCH_REGISTER(register_takeover_benchmarks);

}  // namespace shmds::bench
