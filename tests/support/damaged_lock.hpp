// Scribble on a structure's internal lock word (core/robust_mutex.hpp) inside a segment,
// as a hostile or broken peer can. A word naming no live thread must be taken over by
// the next locker (the structure repairs itself and counts a recovery); a word naming a
// live thread that does not hold the lock must make timed calls time out, not hang.
#pragma once

#include "core/thread_id.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <unistd.h>

namespace shmds::test {

// A thread id above any pid_max, with a start time: names no thread.
inline constexpr std::uint64_t kNoSuchThreadWord = 0x3ffffff0u | (std::uint64_t{0x1234} << 32);
// Thread id 0 with a nonzero high half: no thread has id 0.
inline constexpr std::uint64_t kThreadZeroWord = std::uint64_t{0x5678} << 32;

// Write `value` at `offset` of the segment behind `fd`, as a peer mapping it would.
inline void scribble_u64(int fd, std::uint64_t offset, std::uint64_t value) {
    ASSERT_EQ(ssize_t(sizeof value), pwrite(fd, &value, sizeof value, off_t(offset)));
}

inline std::uint64_t read_u64_at(int fd, std::uint64_t offset) {
    std::uint64_t value = 0;
    EXPECT_EQ(ssize_t(sizeof value), pread(fd, &value, sizeof value, off_t(offset)));
    return value;
}

// A live thread of the test that holds nothing: its stamp is what a lock word names
// when a peer writes a living stranger into it. It lives until the object is destroyed.
class LiveBystander {
public:
    LiveBystander() : thread_([this] { run(); }) {
        while (stamp_.load() == 0) std::this_thread::yield();
    }
    ~LiveBystander() { stop(); }
    LiveBystander(const LiveBystander &) = delete;
    LiveBystander &operator=(const LiveBystander &) = delete;

    std::uint64_t stamp() const { return stamp_.load(); }
    // End the thread; once joined, its stamp names a dead thread.
    void stop() {
        stop_.store(true);
        if (thread_.joinable()) thread_.join();
    }

private:
    void run() {
        stamp_.store(core::self_thread_stamp());
        while (!stop_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }

    std::atomic<std::uint64_t> stamp_{0};
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace shmds::test
