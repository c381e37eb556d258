// A subscriber: a cursor over the broadcast ring, owned by one process (and used by one
// thread at a time). Reading never writes shared memory except statistics counters,
// so any number of subscribers cost publishers nothing.
//
// Three things can stand at the cursor's position c:
//  - the committed message of c: take it;
//  - a later lap's message (the cursor was lapped): jump to the oldest message still
//    held and count what was missed (overflow);
//  - nothing yet (c is claimed but not committed): wait. A publisher that died between
//    claiming and committing leaves that position empty for ever, so once it has stayed
//    empty for kAbandonNs while later positions exist, it is skipped and counted.
#pragma once

#include "core/deadline.hpp"
#include "pubsub/pubsub.hpp"

#include <cstddef>
#include <cstdint>

namespace shmds::pubsub {

class Subscriber {
public:
    enum class Start { latest, oldest };
    Subscriber(PubSub &ps, Start start) noexcept;

    // 0 with the next message; -EAGAIN (NOWAIT, nothing new); -ETIMEDOUT.
    int poll_int(std::int64_t *out, const core::Deadline &dl) noexcept;
    // One attempt that never waits and builds no deadline: the C API's fast path. 0 with
    // the next message, or -EAGAIN (nothing new, or the next position is not committed
    // yet), with no error sentence: poll_int then waits or refuses as the caller asked.
    int try_poll_int(std::int64_t *out) noexcept;
    // Up to max messages; waits per dl for the first only. 0 with *got >= 1, or
    // *got == 0 when allow_empty; -EAGAIN; -ETIMEDOUT.
    int poll_multi_int(std::int64_t *out, std::size_t max, std::size_t *got,
                       const core::Deadline &dl, bool allow_empty) noexcept;
    // As poll_int; -ENOBUFS (buf too small: *len = needed, nothing consumed).
    int poll_bytes(void *buf, std::size_t size, std::size_t *len,
                   const core::Deadline &dl) noexcept;
    // Messages packed back to back into buf, lens[i] each; stops at one that does not fit.
    int poll_multi_bytes(void *buf, std::size_t size, std::size_t *lens, std::size_t max,
                         std::size_t *got, const core::Deadline &dl, bool allow_empty) noexcept;

    std::uint64_t cursor() const noexcept { return cursor_; }
    void set_cursor(std::uint64_t pos) noexcept;
    void reset_latest() noexcept { set_cursor(ps_.write_pos()); }
    void reset_oldest() noexcept;
    std::uint64_t lag() const noexcept;
    std::uint64_t overflow() const noexcept { return overflow_; }
    std::uint64_t skipped() const noexcept { return skipped_; }
    PubSub &pubsub() const noexcept { return ps_; }

private:
    static constexpr int kStalled = 1;  // internal: position claimed, not committed yet

    std::uint64_t oldest(std::uint64_t wp) const noexcept {
        return wp > ps_.capacity() ? wp - ps_.capacity() : 0;
    }
    // Jump from c to `to` because the ring lapped us.
    void lapped(std::uint64_t c, std::uint64_t to) noexcept;
    // Position c is claimed but not committed: kStalled, or 0 after skipping it.
    int stalled_at(std::uint64_t c, std::uint64_t wp) noexcept;
    void advance_to(std::uint64_t next) noexcept;

    template <typename Traits, typename SlotOf>
    int try_int(SlotOf &&slot_of, std::int64_t *out) noexcept;
    int try_bytes(void *buf, std::size_t size, std::size_t *len) noexcept;
    // Position c is committed, or overwritten by a later lap: worth another look.
    bool settled(std::uint64_t c) const noexcept;
    template <typename Attempt>
    int wait_for(const core::Deadline &dl, Attempt &&attempt) noexcept;

    PubSub &ps_;
    std::uint64_t cursor_ = 0;
    std::uint64_t overflow_ = 0;
    std::uint64_t skipped_ = 0;
    std::uint64_t stall_pos_ = ~std::uint64_t{0};
    std::int64_t stall_since_ = 0;
    std::uint64_t stall_wp_ = 0;  // write position when the current stall began
    bool after_skip_ = false;     // the cursor just moved past an abandoned position
    int torn_retries_ = 0;
};

}  // namespace shmds::pubsub
