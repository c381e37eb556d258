// The caller's kernel thread id, for ownership records that must tell the threads of
// one process apart (reader slots, lock owners). glibc's gettid() is a system call on
// every use, so the id is cached per thread; a fork() child runs on a new thread id,
// so a process-wide fork epoch, bumped in the child, invalidates every cached id.
#pragma once

#include "core/platform.hpp"

#include <atomic>
#include <cstdint>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace shmds::core {

namespace detail {
inline std::atomic<std::uint32_t> g_fork_epoch{1};
inline bool register_fork_epoch() noexcept {
    pthread_atfork(nullptr, nullptr,
                   [] { g_fork_epoch.fetch_add(1, std::memory_order_relaxed); });
    return true;
}
}  // namespace detail

inline std::uint32_t self_tid() noexcept {
    static const bool registered = detail::register_fork_epoch();
    (void)registered;
    thread_local std::uint32_t tid = 0;
    thread_local std::uint32_t epoch = 0;
    const std::uint32_t now = detail::g_fork_epoch.load(std::memory_order_relaxed);
    if (SHMDS_UNLIKELY(epoch != now)) {
        tid = std::uint32_t(::syscall(SYS_gettid));
        epoch = now;
    }
    return tid;
}

}  // namespace shmds::core
