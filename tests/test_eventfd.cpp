// Eventfds (include/shmds/common.h, "Eventfds"): one rule for every structure, and a
// notifier whose descriptor can be replaced while other threads signal through it.
#include "core/eventfd.hpp"

#include <shmds/shmds.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <fcntl.h>
#include <thread>
#include <sys/eventfd.h>
#include <unistd.h>
#include <vector>

namespace {

using shmds::core::EventNotifier;

int new_eventfd() { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

// The counter of an eventfd the test owns, read and reset; 0 if nothing was written.
std::uint64_t take(int fd) {
    std::uint64_t v = 0;
    return read(fd, &v, sizeof v) == sizeof v ? v : 0;
}

// Threads notify without pause while another thread replaces the descriptor again and
// again. Right after each set() the test opens sentinel eventfds, which take the lowest
// free descriptor numbers: the ones set() would have just closed. A notify that raced
// the close would write into a sentinel. None may ever see a write.
TEST(EventNotifier, SetNeverClosesADescriptorAConcurrentNotifyMayStillUse) {
    EventNotifier n;
    ASSERT_GE(n.get_or_create(), 0);
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> notifies{0};
    std::vector<std::thread> notifiers;
    for (int t = 0; t < 3; ++t)
        notifiers.emplace_back([&] {
            while (!stop.load(std::memory_order_relaxed)) {
                if (n.notify() == 0) notifies.fetch_add(1, std::memory_order_relaxed);
            }
        });
    std::vector<int> sentinels;
    constexpr int kSets = 10000;
    for (int i = 0; i < kSets; ++i) {
        const int mine = new_eventfd();
        ASSERT_GE(mine, 0);
        ASSERT_EQ(0, n.set(mine));
        ::close(mine);  // the notifier has its own duplicate
        for (int k = 0; k < 2; ++k) {
            const int s = new_eventfd();
            ASSERT_GE(s, 0);
            sentinels.push_back(s);
        }
        // Keep the descriptor table small so freed numbers are reused at once.
        if (sentinels.size() >= 64) {
            for (int s : sentinels) {
                EXPECT_EQ(0u, take(s)) << "a notify wrote into a descriptor set() had closed";
                ::close(s);
            }
            sentinels.clear();
        }
    }
    stop = true;
    for (auto &t : notifiers) t.join();
    for (int s : sentinels) {
        EXPECT_EQ(0u, take(s)) << "a notify wrote into a descriptor set() had closed";
        ::close(s);
    }
    EXPECT_GT(notifies.load(), 0u);
}

TEST(EventNotifier, AReplacedDescriptorIsClosedOnceNoThreadUsesIt) {
    EventNotifier n;
    const int first = n.get_or_create();
    ASSERT_GE(first, 0);
    const int mine = new_eventfd();
    ASSERT_EQ(0, n.set(mine));
    // Nobody was notifying: the replaced descriptor is closed at once, not kept.
    EXPECT_EQ(-1, fcntl(first, F_GETFD));
    EXPECT_EQ(EBADF, errno);
    EXPECT_EQ(0, n.notify());
    EXPECT_EQ(1u, take(mine));  // the duplicate shares the caller's eventfd
    ::close(mine);
}

}  // namespace
