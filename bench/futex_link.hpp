// The floor for any blocking round trip: two processes taking turns on one shared
// 32-bit word with raw FUTEX_WAIT / FUTEX_WAKE (process-shared: no PRIVATE flag) and
// no spinning at all, so every hop is one kernel sleep plus one wake.
#pragma once

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

class FutexLink {
public:
    // Pinger side.
    void ping(std::uint64_t seq) { hand_over(seq, kPinged); }
    std::uint64_t await_pong() { return await(kPonged); }
    // Ponger side.
    std::uint64_t await_ping() { return await(kPinged); }
    void pong(std::uint64_t seq) { hand_over(seq, kPonged); }

private:
    static constexpr std::uint32_t kPinged = 1, kPonged = 2;
    struct Word {
        std::atomic<std::uint32_t> turn{0};
        std::uint64_t payload = 0;
    };

    void hand_over(std::uint64_t seq, std::uint32_t turn) {
        w_->payload = seq;
        w_->turn.store(turn, std::memory_order_release);
        syscall(SYS_futex, reinterpret_cast<std::uint32_t *>(&w_->turn), FUTEX_WAKE, 1, nullptr,
                nullptr, 0);
    }

    std::uint64_t await(std::uint32_t turn) {
        for (;;) {
            const std::uint32_t seen = w_->turn.load(std::memory_order_acquire);
            if (seen == turn) return w_->payload;
            if (syscall(SYS_futex, reinterpret_cast<std::uint32_t *>(&w_->turn), FUTEX_WAIT, seen,
                        nullptr, nullptr, 0) != 0 &&
                errno != EAGAIN && errno != EINTR)
                throw Failure(std::string("FUTEX_WAIT: ") + std::strerror(errno));
        }
    }

    Shared<Word> w_;
};

}  // namespace shmds::bench
