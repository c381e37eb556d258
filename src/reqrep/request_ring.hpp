// The request queue: a bounded ring of fixed-size entries {id, len, payload} under one
// robust mutex. A push writes its entry, then commits with one store of tail; a pop
// copies entries out, then commits with one store of head. A holder killed at any
// instruction leaves either state, so the takeover repair only sanity-checks indices.
//
// Why a lock rather than a lock-free ring: an entry carries an id and a payload, more
// than one wide CAS can commit, and a lock-free claim would leave a window that a dead
// sender turns into a hole every receiver must time out on. The lock is held for one
// short copy and never across a wait.
#pragma once

#include "core/deadline.hpp"
#include "reqrep/layout.hpp"

#include <cstddef>
#include <cstdint>

namespace shmds::reqrep {

// Where received requests go: payloads packed back to back into buf, their lengths in
// lens (optional) and their ids in ids.
struct RecvBuffer {
    void *buf;
    std::size_t buf_size;
    std::size_t *lens;
    std::uint64_t *ids;
    std::size_t max;
};

class RequestRing {
public:
    RequestRing() = default;
    RequestRing(ReqControl *ctl, std::uint8_t *entries, const Geometry &g,
                std::atomic<std::uint64_t> *recoveries) noexcept
        : ctl_(ctl), entries_(entries), cap_(g.requests), size_max_(g.req_size),
          stride_(g.req_stride), recoveries_(recoveries) {}

    static int initialize(ReqControl *ctl) noexcept;

    // One attempt: 0, -EAGAIN (full), SHMDS_ECORRUPT, -ETIMEDOUT (lock not acquired by
    // the deadline).
    int push(std::uint64_t id, const void *data, std::size_t len,
             const core::Deadline &dl) noexcept;
    // One attempt: 0 with *got >= 1, -EAGAIN (empty), -ENOBUFS (the first request does
    // not fit: lens[0] = its length, nothing taken), SHMDS_ECORRUPT, -ETIMEDOUT (lock).
    int pop(const RecvBuffer &out, std::size_t *got, const core::Deadline &dl) noexcept;

    bool maybe_nonempty() const noexcept {
        return ctl_->tail.load(std::memory_order_acquire) !=
               ctl_->head.load(std::memory_order_acquire);
    }
    std::uint64_t head() const noexcept { return ctl_->head.load(std::memory_order_acquire); }
    // Requests ever queued: tail only grows, by one commit per push.
    std::uint64_t tail() const noexcept { return ctl_->tail.load(std::memory_order_acquire); }
    std::uint64_t size() const noexcept;

private:
    std::uint8_t *entry(std::uint64_t pos) const noexcept {
        return entries_ + (pos & (cap_ - 1)) * stride_;
    }
    static void repair(void *self) noexcept;

    ReqControl *ctl_ = nullptr;
    std::uint8_t *entries_ = nullptr;
    std::uint64_t cap_ = 0;
    std::uint64_t size_max_ = 0;
    std::uint64_t stride_ = 0;
    std::atomic<std::uint64_t> *recoveries_ = nullptr;
};

}  // namespace shmds::reqrep
