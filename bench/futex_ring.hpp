// The floor for a blocking 1 -> 1 stream: a single-producer, single-consumer ring of
// kQueueCapacity messages with raw FUTEX_WAIT / FUTEX_WAKE and no spinning at all, the
// least a ring must do to block. It is what libshmds' q1p1c is measured against where
// spinning cannot help (both processes on one CPU, more processes than CPUs).
#pragma once

#include "peer_channels.hpp"
#include "procs.hpp"

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <linux/futex.h>
#include <string>
#include <sys/syscall.h>
#include <unistd.h>

namespace shmds::bench {

// One side's "something changed" event, for exactly one sleeper (SPSC): the sleeper
// samples seq, raises `asleep`, re-checks its condition and sleeps on the seq it
// sampled; the waker changes the state, then wakes only if it is the one that lowers
// `asleep`, so a consumer that is slow to run costs the producer one FUTEX_WAKE, not
// one per message.
//
// seq is sampled *before* `asleep` is raised. Sampled after, a waker still busy with
// an older change (its look at `asleep` done, its exchange not yet) can lower the new
// flag and bump seq before the sample: the sleeper then sleeps on the bumped seq with
// its flag down, and no later change wakes it (both ends of a full ring asleep, seen on
// Intel within seconds). Sampled before, any bump after the flag went up fails the
// futex_wait.
struct FutexEvent {
    alignas(64) std::atomic<std::uint32_t> seq{0};
    std::atomic<std::uint32_t> asleep{0};

    template <typename Ready>
    void wait(Ready ready) {
        while (!ready()) {
            const std::uint32_t seen = seq.load(std::memory_order_seq_cst);
            asleep.store(1, std::memory_order_seq_cst);
            if (!ready() &&
                syscall(SYS_futex, reinterpret_cast<std::uint32_t *>(&seq), FUTEX_WAIT, seen,
                        nullptr, nullptr, 0) != 0 &&
                errno != EAGAIN && errno != EINTR)
                throw Failure(std::string("FUTEX_WAIT: ") + std::strerror(errno));
        }
    }
    void wake() {
        std::atomic_thread_fence(std::memory_order_seq_cst);  // the change before the look
        if (asleep.load(std::memory_order_relaxed) == 0 || asleep.exchange(0) == 0) return;
        seq.fetch_add(1, std::memory_order_seq_cst);
        syscall(SYS_futex, reinterpret_cast<std::uint32_t *>(&seq), FUTEX_WAKE, 1, nullptr,
                nullptr, 0);
    }
};

template <typename M>
class FutexRingChannel {
public:
    using Msg = M;
    void send(const M &m) {
        Ring &r = *ring_;
        const std::uint64_t tail = r.tail.load(std::memory_order_relaxed);
        r.space.wait([&] { return tail - r.head.load(std::memory_order_acquire) < kQueueCapacity; });
        r.slots[tail % kQueueCapacity] = m;
        r.tail.store(tail + 1, std::memory_order_release);
        r.items.wake();
    }
    void recv(M &m) {
        Ring &r = *ring_;
        const std::uint64_t head = r.head.load(std::memory_order_relaxed);
        r.items.wait([&] { return r.tail.load(std::memory_order_acquire) != head; });
        m = r.slots[head % kQueueCapacity];
        r.head.store(head + 1, std::memory_order_release);
        r.space.wake();
    }
    std::string note() const { return "SPSC ring, raw FUTEX_WAIT/WAKE, no spin"; }

private:
    struct Ring {
        alignas(64) std::atomic<std::uint64_t> head{0};
        alignas(64) std::atomic<std::uint64_t> tail{0};
        FutexEvent items, space;
        M slots[kQueueCapacity];
    };
    Shared<Ring> ring_;
};

}  // namespace shmds::bench
