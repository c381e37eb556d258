// The caller's thread identity, for ownership records that must tell the threads of one
// process apart (lock owners, reader slots):
//  - self_tid(): the kernel thread id.
//  - self_thread_stamp(): the thread id in the low 32 bits and the low 32 bits of the
//    thread's start time (clock ticks since boot, /proc/<tid>/stat field 22) above it.
//    A thread id is recycled once its thread is gone; the pair is not, so a stamp names
//    one thread incarnation and a dead owner's stamp never passes for a live thread.
//
// Both are cached per thread (glibc's gettid() is a system call, the start time a /proc
// read). A fork() child runs on a new thread id, so a process-wide fork epoch, bumped in
// the child, invalidates every cached identity.
#pragma once

#include "core/platform.hpp"

#include <atomic>
#include <cstdint>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace shmds::core {

using ThreadStamp = std::uint64_t;

inline std::uint32_t stamp_tid(ThreadStamp s) noexcept { return std::uint32_t(s); }
inline std::uint32_t stamp_start(ThreadStamp s) noexcept { return std::uint32_t(s >> 32); }

// The low 32 bits of a thread's start time, or 0 when /proc cannot tell (owner.cpp).
std::uint32_t thread_start_low32(std::uint32_t tid) noexcept;

namespace detail {
inline std::atomic<std::uint32_t> g_fork_epoch{1};
inline bool register_fork_epoch() noexcept {
    pthread_atfork(nullptr, nullptr,
                   [] { g_fork_epoch.fetch_add(1, std::memory_order_relaxed); });
    return true;
}

struct ThreadIdentity {
    std::uint32_t epoch;  // the fork epoch the fields below belong to
    std::uint32_t tid;
    ThreadStamp stamp;  // 0 until first asked for
};
// initial-exec: the lock fast paths read this on every call, and the general TLS model
// would make each read a __tls_get_addr call. Sixteen bytes of static TLS are within
// what glibc reserves for libraries loaded with dlopen().
__attribute__((tls_model("initial-exec"))) inline thread_local ThreadIdentity t_identity{};

// Registers the fork handler once per process (a function-local static).
inline void track_forks() noexcept {
    static const bool registered = register_fork_epoch();
    (void)registered;
}

// Fields are read by name, never through a reference to the variable: UBSan (GCC 12)
// reports references to an initial-exec thread_local in an executable as null.
// The fork handler is registered on the way to caching a first identity (every thread's
// first call lands there: t_identity.epoch starts at 0, the epoch at 1), so the lock
// fast paths pay one load and compare for it, not a guard-variable check as well.
inline void refresh_identity() noexcept {
    const std::uint32_t now = g_fork_epoch.load(std::memory_order_relaxed);
    if (SHMDS_UNLIKELY(t_identity.epoch != now)) {
        track_forks();
        t_identity.tid = std::uint32_t(::syscall(SYS_gettid));
        t_identity.stamp = 0;
        t_identity.epoch = g_fork_epoch.load(std::memory_order_relaxed);
    }
}
}  // namespace detail

// The process's fork generation: changes in a fork() child, so a process-local cache
// of anything owned by the parent (a thread identity, a semaphore holder slot) can tell
// it is stale. Call track_forks() once before relying on it.
inline std::uint32_t fork_epoch() noexcept {
    return detail::g_fork_epoch.load(std::memory_order_relaxed);
}
using detail::track_forks;

inline std::uint32_t self_tid() noexcept {
    detail::refresh_identity();
    return detail::t_identity.tid;
}

// The calling thread's stamp if it is cached for the current fork epoch, else 0 (then
// call self_thread_stamp()). For inline fast paths: no call, no registration check
// (a cached stamp implies both were done), so they need no stack frame.
inline ThreadStamp cached_thread_stamp() noexcept {
    const ThreadStamp s = detail::t_identity.stamp;
    return detail::t_identity.epoch == detail::g_fork_epoch.load(std::memory_order_relaxed)
               ? s
               : 0;
}

namespace detail {
// A thread's first ask, or its first after a fork(): a system call and a /proc read.
SHMDS_COLD inline ThreadStamp compute_thread_stamp() noexcept {
    refresh_identity();
    if (t_identity.stamp == 0)
        t_identity.stamp = (ThreadStamp(thread_start_low32(t_identity.tid)) << 32) | t_identity.tid;
    return t_identity.stamp;
}
}  // namespace detail

// The lock fast paths' only identity cost: a load of the fork epoch and two TLS loads.
inline ThreadStamp self_thread_stamp() noexcept {
    if (SHMDS_LIKELY(detail::t_identity.epoch == detail::g_fork_epoch.load(std::memory_order_relaxed) &&
                     detail::t_identity.stamp != 0))
        return detail::t_identity.stamp;
    return detail::compute_thread_stamp();
}

}  // namespace shmds::core
