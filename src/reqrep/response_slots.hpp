// Response slots: one per outstanding request, named by the request id
// (generation << 32 | index), so a reply can only reach the request it answers.
//
// States (ResponseSlot::ctl = generation << 32 | state):
//   FREE --acquire--> ACQUIRED --reply claims--> WRITING --copied--> READY --get--> FREE
//   ACQUIRED/READY --cancel--> FREE
// Acquire bumps the generation, so an id from an earlier use (stale) never matches.
// A reply claims WRITING with a CAS before it copies a byte (the reference's lesson 5):
// a cancel and re-acquire in between makes the claim fail instead of delivering the
// payload to the new owner. Every transition out of WRITING other than the replier's
// own needs the replier to be dead, so no late copy can land in a recycled slot.
//
// Ownership is crash-safe: a client claims `owner` (0 -> its token) before it touches
// the state, and a release clears the state first, then `writer`, then `owner`. A slot
// whose owner died, in any state and at any instruction, is reclaimed by the acquire
// scan that finds no free slot (counted in `reclaimed` and in the segment recoveries).
#pragma once

#include "core/deadline.hpp"
#include "reqrep/layout.hpp"

#include <cstddef>
#include <cstdint>

namespace shmds::reqrep {

inline std::uint64_t make_id(std::uint64_t gen, std::uint64_t index) noexcept {
    return (gen << 32) | index;
}

class ResponseSlots {
public:
    ResponseSlots() = default;
    ResponseSlots(ReqControl *ctl, std::uint8_t *base, const Geometry &g,
                  std::atomic<std::uint64_t> *recoveries) noexcept
        : ctl_(ctl), base_(base), count_(g.slots), resp_size_(g.resp_size),
          stride_(g.resp_stride), recoveries_(recoveries) {}

    static void initialize(std::uint8_t *base, const Geometry &g) noexcept;

    // A free slot for a new request: 0 with *id, or -EAGAIN when every slot is taken
    // (after reclaiming those whose client died).
    int acquire(std::uint64_t *id) noexcept;
    // Give a slot back that acquire() handed out but no request was queued for.
    void abandon(std::uint64_t id) noexcept;

    // Server side. 0; -ENOENT (stale or unknown id); -ECANCELED (cancelled);
    // -EEXIST (already replied or being replied); -E2BIG.
    int reply(std::uint64_t id, const void *data, std::size_t len) noexcept;

    // Client side. 0 with the reply (slot freed); -EAGAIN (no reply yet); -ENOENT
    // (stale or unknown id); -ENOBUFS (*len = needed; nothing consumed); SHMDS_ECORRUPT.
    int take(std::uint64_t id, void *buf, std::size_t size, std::size_t *len) noexcept;
    // Sleep until the slot of id changes state or the deadline passes. 0 or -ETIMEDOUT.
    int wait_change(std::uint64_t id, const core::Deadline &dl) noexcept;
    // 0 (freed); -ENOENT (stale, unknown, or already collected); -EAGAIN (a live server
    // is copying the reply right now and stayed at it for the whole grace period).
    int cancel(std::uint64_t id) noexcept;

    // Slots held now (approximate).
    std::uint64_t in_use() const noexcept;
    std::uint64_t count() const noexcept { return count_; }
    // Reclaim the slots of dead clients; returns how many.
    std::uint64_t reclaim_dead() noexcept;

private:
    ResponseSlot *slot(std::uint64_t index) const noexcept {
        return reinterpret_cast<ResponseSlot *>(base_ + index * stride_);
    }
    std::uint8_t *payload(ResponseSlot *s) const noexcept {
        return reinterpret_cast<std::uint8_t *>(s) + sizeof(ResponseSlot);
    }
    // The slot of id if its index is in range, else nullptr.
    ResponseSlot *lookup(std::uint64_t id) const noexcept {
        const std::uint64_t index = id & 0xffffffffu;
        return index < count_ ? slot(index) : nullptr;
    }
    // Move a slot whose ctl is `seen` to FREE (CAS), then clear writer and owner.
    bool release(ResponseSlot *s, std::uint64_t seen) noexcept;

    ReqControl *ctl_ = nullptr;
    std::uint8_t *base_ = nullptr;
    std::uint64_t count_ = 0;
    std::uint64_t resp_size_ = 0;
    std::uint64_t stride_ = 0;
    std::atomic<std::uint64_t> *recoveries_ = nullptr;
};

}  // namespace shmds::reqrep
