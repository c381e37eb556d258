// The bytes queue: a double-ended ring of descriptors over a circular byte arena, with
// a robust lock per end.
//
// Each message occupies one contiguous arena region. push_back allocates at the write
// frontier (skipping to the arena start when the tail end is too short), push_front
// allocates just before the read frontier (wrapping to the arena end the same way).
// The frontiers are not stored: they are derived from the first and last descriptors,
// so every operation commits with a single store to head or tail. A holder killed at
// any instruction leaves the old state or the new one; the repair on EOWNERDEAD only
// has to check the descriptors, never to roll anything back.
//
// The two ends (BytesControl): push_back holds only the back lock and pop_front only
// the front lock, so a producer and a consumer never wait for each other. That is safe
// because each end only ever moves its own index, and the other end can only free
// room or add messages meanwhile: a push that reads head while pops go on sees the ring
// fuller than it is, never emptier, and a pop only takes messages whose tail store it
// saw. No descriptor between head and tail is rewritten while one end's lock alone is
// held: push_back writes only at tail, and push_front, which writes below head, takes
// both locks, front first, as pop_back does. Each end also remembers what it last saw
// of the other (remembered_frontiers, BytesControl::tail_seen), so that in a stream
// neither reads the other's line on every call.
//
// Descriptors live in shared memory and are written by peers, so every one is bounds-
// checked before any byte is copied (SHMDS_ECORRUPT otherwise).
#pragma once

#include "core/deadline.hpp"
#include "queue/layout.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace shmds::queue {

enum class End { front, back };

// A message to push: pointer and length.
struct ByteSpan {
    const void *data;
    std::size_t len;
};

// Where popped messages go: a caller buffer and per-message lengths.
struct PopBuffer {
    void *buf;
    std::size_t buf_size;
    std::size_t *lens;  // lens[i] = length of message i; on -ENOBUFS lens[0] = needed
    std::size_t max_messages;
};

class BytesRing {
public:
    BytesRing() = default;
    BytesRing(BytesControl *ctl, BytesDesc *descs, std::uint8_t *arena, std::uint64_t capacity,
              std::uint64_t arena_size, std::atomic<std::uint64_t> *recoveries) noexcept
        : ctl_(ctl), descs_(descs), arena_(arena), cap_(capacity), arena_size_(arena_size),
          recoveries_(recoveries) {}

    static int initialize(BytesControl *ctl) noexcept;

    // Push up to n messages at one end under one lock hold, waiting for room per the
    // deadline. *pushed counts what went in. 0 when all went in, -EAGAIN/-ETIMEDOUT when
    // the queue stayed full, -E2BIG if message *pushed can never fit, SHMDS_ECORRUPT.
    int push(End end, const ByteSpan *msgs, std::size_t n, std::size_t *pushed,
             const core::Deadline &deadline) noexcept;

    // Pop up to out.max_messages from one end into out.buf, waiting for the first per
    // the deadline. 0 with *got >= 1 (or *got == 0 when allow_empty), -EAGAIN,
    // -ETIMEDOUT, -ENOBUFS (first message does not fit: lens[0] = its length, nothing
    // consumed), SHMDS_ECORRUPT.
    int pop(End end, const PopBuffer &out, std::size_t *got, const core::Deadline &deadline,
            bool allow_empty) noexcept;

    // Copy the front message without removing it. 0, -EAGAIN, -ENOBUFS, SHMDS_ECORRUPT.
    int peek(void *buf, std::size_t buf_size, std::size_t *len) noexcept;

    // Remove everything. Returns the number of messages removed (>= 0) or a negative code.
    std::int64_t clear(const core::Deadline &deadline) noexcept;

    struct Snapshot {
        std::uint64_t size, arena_used, push_ok, pop_ok, push_full, pop_empty;
    };
    int snapshot(Snapshot &s) noexcept;

    std::uint64_t size() const noexcept;
    std::uint64_t capacity() const noexcept { return cap_; }
    std::uint64_t arena_size() const noexcept { return arena_size_; }
    BytesControl *control() const noexcept { return ctl_; }

private:
    enum class Ends { front, back, both };  // which locks an operation holds
    struct Frontiers {
        std::uint64_t head, tail, used, read_at, write_at;
    };
    // Read head and tail and derive the frontiers, checking every descriptor involved.
    // Under the back lock, or the front lock for a repair.
    int fresh_frontiers(Frontiers &f) const noexcept;
    bool remembered_frontiers(Frontiers &f) const noexcept;  // under the back lock
    int count(std::uint64_t head, std::uint64_t tail) const noexcept;  // 0 or SHMDS_ECORRUPT
    bool in_bounds(const BytesDesc &d) const noexcept;
    int check(const BytesDesc &d) const noexcept;  // in_bounds or SHMDS_ECORRUPT, said why
    int push_locked(End end, const ByteSpan &msg, Frontiers &f) noexcept;  // 0/-EAGAIN/-E2BIG
    bool seen_nonempty(std::uint64_t head, std::uint64_t tail_seen) const noexcept;
    bool looks_empty() const noexcept;
    void prefetch_front_message() const noexcept;
    void prefetch_back_slot(std::size_t len) const noexcept;
    void wake_after_commit(core::WaitPoint &wp, std::size_t changed, const char *unwoken) noexcept;
    int pop_locked(End end, const PopBuffer &out, std::size_t *got) noexcept;
    int push_all_locked(End end, const ByteSpan *msgs, std::size_t n, std::size_t *pushed,
                        std::uint64_t &seen_version) noexcept;
    // body() under the locks of `ends`; a lock wait that ran out sets lock_failed and
    // ends the attempt with core::lock_wait_timed_out()'s code.
    template <typename Body>
    int under_lock(Ends ends, const core::Deadline &deadline, bool &lock_failed,
                   Body &&body) noexcept;
    void check_or_empty() noexcept;  // under the front lock
    void empty_to(std::uint64_t tail) noexcept;  // under the front lock
    static void repair_front(void *self) noexcept;       // the front lock is held
    static void repair_back_alone(void *self) noexcept;  // only the back lock is held
    // The two locks, released plainly (see under_lock), each with the repair its holder
    // runs after a takeover: the back lock's depends on whether the front one is held.
    core::PlainLock front_lock() noexcept {
        return {ctl_->front_lock, &BytesRing::repair_front, this, recoveries_};
    }
    core::PlainLock back_lock(bool front_held) noexcept {
        return {ctl_->back_lock, front_held ? &BytesRing::repair_front : &repair_back_alone,
                this, recoveries_};
    }

    BytesControl *ctl_ = nullptr;
    BytesDesc *descs_ = nullptr;
    std::uint8_t *arena_ = nullptr;
    std::uint64_t cap_ = 0;
    std::uint64_t arena_size_ = 0;
    std::atomic<std::uint64_t> *recoveries_ = nullptr;
    // Where this handle's next push_back and pop_front most likely find their arena
    // bytes: remembered after each one, read by the prefetches before the lock. Handle
    // memory, so those reads race with nothing (descriptors in the segment would race
    // with another thread's push under the lock); a stale hint costs one wasted fetch.
    struct ArenaHint {
        std::atomic<std::uint64_t> at{0};
        ArenaHint() = default;
        ArenaHint(const ArenaHint &o) noexcept : at(o.load()) {}
        ArenaHint &operator=(const ArenaHint &o) noexcept {
            store(o.load());
            return *this;
        }
        std::uint64_t load() const noexcept { return at.load(std::memory_order_relaxed); }
        void store(std::uint64_t v) noexcept { at.store(v, std::memory_order_relaxed); }
    };
    ArenaHint next_push_at_, next_pop_at_;
    // This handle's last look at the front from a push (remembered_frontiers): head,
    // the arena in use, back_allocs and head_lowered then. Used under the back lock only.
    struct {
        std::uint64_t head = 0, used = 0, back_allocs = 0;
        std::uint64_t lowered = ~std::uint64_t{0};  // matches nothing: look first
    } seen_front_;
};

}  // namespace shmds::queue
