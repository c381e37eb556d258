// The crash-recoverable lock behind every locked structure (the bytes queue, the reqrep
// request ring, the semaphore, the barrier): the library's lock protocol
// (core/stamp_lock.hpp), one 64-bit word naming the holder thread. A holder that dies
// is found by its waiters' liveness probes and taken over within about 10 ms; a word
// scribbled by a peer to name a thread that does not exist is taken over the same way,
// so no lock word can wedge a structure for good. A word naming a live thread that does
// not hold it is waited for like a holder: only deadlines bound that.
//
// Structures pass a repair function that restores their invariants; lock() runs it
// with the lock held after a takeover and counts the recovery, so a dead holder never
// poisons the structure. A locker that dies while repairing leaves its own stamp in the
// word, and the next one repairs again.
#pragma once

#include "core/deadline.hpp"
#include "core/stamp_lock.hpp"

#include <atomic>
#include <cstdint>

namespace shmds::core {

struct RobustMutex {
    StampLock word;
};
static_assert(sizeof(RobustMutex) == 8);

// Initialise in freshly created shared memory (before the segment is published).
inline void robust_mutex_init(RobustMutex &m) noexcept { stamp_lock_init(m.word); }

enum class LockResult { acquired, recovered, timed_out };

using RepairFn = void (*)(void *context) noexcept;

// Acquire, running repair(context) if the previous holder died. recoveries (if not null)
// is incremented for every takeover. Returns recovered instead of acquired when a
// repair ran; timed_out when the deadline passed (for a NOWAIT deadline: held by a live
// thread), or when the word names the calling thread (internal locks are never held
// across calls, so that word is damage; the SHMDS_ECORRUPT sentence is set).
LockResult robust_mutex_lock(RobustMutex &m, const Deadline &deadline, RepairFn repair,
                             void *context, std::atomic<std::uint64_t> *recoveries) noexcept;

inline void robust_mutex_unlock(RobustMutex &m) noexcept { stamp_unlock(m.word); }

// How a RobustLock releases. `exchange`: a locked exchange, which also orders the
// section's stores before any load that follows (a WaitPoint's sleeper count).
// `plain`: a plain store (stamp_unlock_lazy), for a lock on whose changes nobody sleeps
// (cache pages, hashmap shards), or whose every change a sleeper waits for is made
// under it while those sleepers pass through it (core/block.hpp, lock_passage): a hot
// path then pays one locked instruction, not two (docs/adding-a-structure.md, Locks).
enum class Release : std::uint8_t { exchange, plain };

// Add n to a word that only holders of its lock write (a count, a version): a load and
// a store, where a fetch_add would cost every operation one more locked instruction.
// Readers outside the lock see the old value or the new one.
inline void add_locked(std::atomic<std::uint64_t> &word, std::uint64_t n,
                       std::memory_order order = std::memory_order_relaxed) noexcept {
    word.store(word.load(std::memory_order_relaxed) + n, order);
}

inline void robust_mutex_unlock(RobustMutex &m, Release how) noexcept {
    if (how == Release::plain)
        stamp_unlock_lazy(m.word);
    else
        stamp_unlock(m.word);
}

// Scoped holder for engines: unlocks on every path out of a critical section.
class RobustLock {
public:
    RobustLock(RobustMutex &m, const Deadline &deadline, RepairFn repair, void *context,
               std::atomic<std::uint64_t> *recoveries,
               Release release = Release::exchange) noexcept
        : m_(m), release_(release),
          result_(robust_mutex_lock(m, deadline, repair, context, recoveries)) {}
    ~RobustLock() {
        if (owns()) robust_mutex_unlock(m_, release_);
    }
    RobustLock(const RobustLock &) = delete;
    RobustLock &operator=(const RobustLock &) = delete;

    bool owns() const noexcept {
        return result_ == LockResult::acquired || result_ == LockResult::recovered;
    }
    LockResult result() const noexcept { return result_; }

private:
    RobustMutex &m_;
    Release release_;
    LockResult result_;
};

// A structure's internal lock that releases with a plain store (Release::plain), bound
// to its repair: hold() for a critical section, release() after a fast path took it by
// stamp_try_lock_polled, and core::lock_passage (block.hpp) for the sleepers the
// structure's block_on waits put to sleep. Cheap to build: four words.
struct PlainLock {
    RobustMutex &mutex;
    RepairFn repair;
    void *context;
    std::atomic<std::uint64_t> *recoveries;

    RobustLock hold(const Deadline &dl) const noexcept {
        return RobustLock(mutex, dl, repair, context, recoveries, Release::plain);
    }
    void release() const noexcept { stamp_unlock_lazy(mutex.word); }
};

// How long a verb's lock wait may last. A try (SHMDS_NOWAIT) never waits for items or
// room but still waits up to kTryLockWaitNs for the lock, which a live holder keeps for
// one batch: otherwise two processes trying at once would see "empty" or "full" that is
// really "busy". Longer than the first liveness probe (1 ms), so a dead holder is taken
// over within the call. Any other call waits to its own deadline.
constexpr std::int64_t kTryLockWaitNs = 3'000'000;
inline Deadline lock_wait_deadline(const Deadline &dl) noexcept {
    return dl.nowait() ? Deadline::from_timeout(kTryLockWaitNs) : dl;
}

// A lock wait that ran out ends the call: -EAGAIN for a try, -ETIMEDOUT for a timed
// call, with a sentence naming the structure ("the heap lock stayed held ...").
int lock_wait_timed_out(const Deadline &dl, const char *noun) noexcept;

}  // namespace shmds::core
