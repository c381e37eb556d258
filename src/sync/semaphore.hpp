// The semaphore primitive: a counter of permits (0 ..= max) whose holders are tracked,
// so the permits of a process that dies are returned (the reference never returns
// them, its lesson 18).
//
// Accounting. Nothing stores the value. Every permit of the max is in exactly one of
// three places: available, held by a process (its holder slot's count), or `missing`
// (out of the semaphore and held by nobody: initially max - initial; a release by a
// process that holds nothing pays it back first). So
//     value = max - missing - sum of the holder slots' counts,
// and a process's slot is the only record of what it holds: when it dies, clearing its
// slot returns its permits, and there is nothing else to roll back.
//
// Holder slots: one per process that uses the semaphore (kHolderSlots, each on its own
// cache line so that two processes' acquires do not share a line). A slot's word holds
// its count, a "claiming" bit and a claim tag; the process caches the slot's index and
// tag, so an acquire or release touches only its own slot's word:
//  - acquire n: one CAS adds n to the own count and sets "claiming", then the value is
//    checked by summing the counts (over the slots ever claimed: slots_used); if the
//    permits were there a plain store clears "claiming", else it puts the word back
//    and the caller waits. Two processes can each see the other's claim and both back
//    off; the one that retries under the internal lock cannot lose to another locker.
//  - release n by a holder: one CAS takes n off its own count.
//  - release by a process that holds fewer (signalling use): pays its own count, then
//    `missing`, then (the value would pass max) takes the rest off the counts of other
//    holders, as if they had released: the value is clamped at max and the counts never
//    add up to more than max. A count being claimed is waited for: it may be undone.
// Each step is one atomic change that keeps the sum equal to max, so a process killed
// at any instruction leaves a consistent semaphore: at worst its slot counts a claim it
// never returned from, which its death returns with the rest of its slot.
//
// A slot stays claimed while its process lives, even at count 0, until a process that
// finds no free slot takes over an idle one with a new tag (the old owner's cached tag
// then fails its CAS and it claims again). Claims, recovery of dead slots, drains and
// clamped releases run under a robust mutex; none of them needs a journal.
//
// Waiters sleep on a WaitPoint. While another process holds permits they wake on their
// own after 1 ms, then every 8 ms, to return the permits of dead holders
// (core/probe_wait); while no other process holds any, no death can return permits, so
// they sleep for the 100 ms wake bound (an idle sleeper's wake-ups are its whole CPU
// cost: about 65 us each on a 2-vCPU VM, however little the library does per wake).
#pragma once

#include "core/eventfd.hpp"
#include "core/failpoint.hpp"
#include "core/owner.hpp"
#include "core/platform.hpp"
#include "core/robust_mutex.hpp"
#include "core/thread_id.hpp"
#include "core/waitpoint.hpp"
#include "sync/sync_segment.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>

namespace shmds::sync {

inline constexpr std::uint64_t kMaxPermits = 0x7fffffffu;
inline constexpr std::uint32_t kHolderSlots = 256;

// A holder slot's word: count (32 bits: a count plus an n being claimed stays below
// 2 * kMaxPermits), kSlotClaiming, and the claim tag above.
inline constexpr std::uint64_t kSlotCountMask = 0xffffffffu;
inline constexpr std::uint64_t kSlotClaiming = std::uint64_t{1} << 32;
inline constexpr int kSlotTagShift = 33;

namespace detail {
inline constexpr std::uint64_t kTagMask = 0x7fffffffu;
inline constexpr std::uint64_t kEpochMask = 0xffffffu;
inline std::uint64_t count_of(std::uint64_t word) { return word & kSlotCountMask; }
inline std::uint64_t tag_of(std::uint64_t word) { return word >> kSlotTagShift; }
inline bool claiming(std::uint64_t word) { return (word & kSlotClaiming) != 0; }
}  // namespace detail

struct alignas(core::kCacheLine) HolderSlot {
    std::atomic<std::uint64_t> word;      // tag << 33 | claiming << 32 | count
    std::atomic<core::OwnerToken> owner;  // the claiming process; kNoOwner when free
};
static_assert(sizeof(HolderSlot) == core::kCacheLine);

struct alignas(core::kCacheLine) SemaphoreControl {
    core::RobustMutex lock;
    // Read by every acquire, written rarely: its own line.
    alignas(core::kCacheLine) std::atomic<std::uint32_t> missing;
    std::atomic<std::uint32_t> slots_used;  // slots [0, slots_used) may hold counts
    core::WaitPoint available;
    // followed by HolderSlot[kHolderSlots]
};
static_assert(offsetof(SemaphoreControl, missing) == core::kCacheLine);

class Semaphore final : public SyncSegment {
public:
    static int create(const shmds_options_t *opts, std::uint64_t max, std::uint64_t initial,
                      std::unique_ptr<Semaphore> &out);
    static int open(const shmds_options_t *opts, std::unique_ptr<Semaphore> &out);

    // Take n permits, waiting per a validated timeout_ns (-1, 0 or positive). 0,
    // -EAGAIN, -ETIMEDOUT, -EINVAL, -EUSERS. The deadline (a clock read) is made only if
    // the permits are not there at once. Inline, like release(), so that the C API's
    // call is the only call of a fast acquire or release.
    int acquire_within(std::uint32_t n, std::int64_t timeout_ns) noexcept {
        MySlot mine;
        if (SHMDS_LIKELY(n != 0 && n <= max() && my_slot(mine)) &&
            SHMDS_LIKELY(try_take(mine, n) == Claim::taken))
            return 0;
        return acquire_slow_within(n, timeout_ns);
    }
    // Return n permits (the caller's own holdings first); the value is clamped at max.
    int release(std::uint32_t n) noexcept {
        if (SHMDS_LIKELY(n != 0 && try_release_own(n))) {
            SHMDS_FAILPOINT("semaphore.release.unwoken");
            wake(n);
            return 0;
        }
        return release_locked_path(n);
    }
    // Take every permit available now; *taken gets how many.
    int drain(std::uint32_t *taken) noexcept;

    std::uint32_t value() const noexcept;
    std::uint32_t max() const noexcept { return std::uint32_t(geometry(0)); }
    std::uint64_t held_by_caller() const noexcept;  // permits this process holds
    core::EventNotifier &events() noexcept { return events_; }

private:
    friend struct core::EngineFactory;
    Semaphore() noexcept : SyncSegment(core::StructureType::semaphore) {}
    int shape(std::uint64_t g0, std::uint64_t g1, Shape &out) const override;
    void init_control(std::uint8_t *control) noexcept override;
    void track_waitpoints(core::Segment &s) noexcept override { s.track(ctl().available); }

    SemaphoreControl &ctl() const noexcept {
        return *reinterpret_cast<SemaphoreControl *>(control());
    }
    HolderSlot *slots() const noexcept {
        return reinterpret_cast<HolderSlot *>(control() + sizeof(SemaphoreControl));
    }

    // What the shared words say, bounded: shared memory is untrusted.
    std::uint32_t used_slots() const noexcept {
        return std::min(ctl().slots_used.load(std::memory_order_seq_cst), kHolderSlots);
    }
    std::uint64_t missing_now() const noexcept {
        return std::min<std::uint64_t>(ctl().missing.load(std::memory_order_seq_cst), max());
    }
    // The counts of every used slot. seq_cst loads: a claim's CAS followed by these loads
    // is one side of the Dekker pair that keeps two concurrent claims from both taking
    // the last permit.
    std::uint64_t held_total() const noexcept {
        std::uint64_t total = 0;
        const HolderSlot *s = slots();
        for (std::uint32_t i = 0, n = used_slots(); i < n; ++i)
            total += detail::count_of(s[i].word.load(std::memory_order_seq_cst));
        return total;
    }
    bool others_hold() const noexcept;  // a process other than this one holds permits

    // This process's slot, cached per handle in one word: fork epoch (24 bits) << 40 |
    // tag << 9 | index << 1 | 1. False when none is cached for this process (a fork()
    // child has a new epoch: its parent's slot is not its own).
    struct MySlot {
        int index;
        std::uint64_t tag;
    };
    bool my_slot(MySlot &out) const noexcept {
        const std::uint64_t c = my_slot_.load(std::memory_order_relaxed);
        if (SHMDS_UNLIKELY(!(c & 1) || (c >> 40) != (core::fork_epoch() & detail::kEpochMask)))
            return false;
        out.index = int((c >> 1) & 0xff);  // < kHolderSlots
        out.tag = (c >> 9) & detail::kTagMask;
        return true;
    }

    enum class Claim { taken, short_of_permits, retry_locked };

    // One CAS of our slot's word from w to next(w), for a w that fits(). It starts from
    // word_guess_ instead of a load, so that no load of the line delays the locked
    // instruction (measured ~25%); a guess that does not fit, or that the CAS finds
    // stale, is replaced by the word itself. False when the word does not fit; else w is
    // the value the CAS replaced.
    template <typename Fits, typename Next>
    bool cas_own_word(HolderSlot &s, std::uint64_t &w, Fits fits, Next next) noexcept {
        w = word_guess_.load(std::memory_order_relaxed);
        for (bool guessed = true;; guessed = false) {
            if (SHMDS_UNLIKELY(!fits(w))) {
                if (!guessed) return false;
                w = s.word.load(std::memory_order_relaxed);
                continue;
            }
            if (SHMDS_LIKELY(s.word.compare_exchange_weak(w, next(w), std::memory_order_seq_cst,
                                                          std::memory_order_relaxed)))
                return true;
        }
    }
    // Our word, settled: the tag we claimed it with (not taken over) and no claim of
    // another thread of ours in flight.
    static bool settled_own(std::uint64_t w, const MySlot &mine) noexcept {
        return detail::tag_of(w) == mine.tag && !detail::claiming(w);
    }

    // The fast acquire: one CAS adds n to our count, marked claiming; the sum then says
    // whether the permits were there. Nobody else writes a word marked claiming (every
    // other writer CASes from an unmarked word), so plain stores settle it.
    Claim try_take(const MySlot &mine, std::uint32_t n) noexcept {
        HolderSlot &s = slots()[mine.index];
        std::uint64_t w;
        // Not settled: taken over (claim again), or another thread of ours is claiming
        // on it (the locked path waits for it).
        if (SHMDS_UNLIKELY(!cas_own_word(
                s, w, [&](std::uint64_t x) { return settled_own(x, mine); },
                [n](std::uint64_t x) { return (x + n) | kSlotClaiming; })))
            return Claim::retry_locked;
        SHMDS_FAILPOINT("semaphore.acquire.claiming");
        const std::uint64_t out = missing_now() + held_total();  // our n included
        if (SHMDS_LIKELY(out <= max())) {
            s.word.store(w + n, std::memory_order_release);
            word_guess_.store(w + n, std::memory_order_relaxed);
            SHMDS_FAILPOINT("semaphore.acquire.held");
            return Claim::taken;
        }
        s.word.store(w, std::memory_order_release);
        word_guess_.store(w, std::memory_order_relaxed);
        return backed_off(out, n);
    }
    Claim backed_off(std::uint64_t out, std::uint32_t n) noexcept;

    // The fast release: one CAS takes n off our own count, if it holds that many.
    bool try_release_own(std::uint32_t n) noexcept {
        MySlot mine;
        if (SHMDS_UNLIKELY(!my_slot(mine))) return false;
        std::uint64_t w;
        if (!cas_own_word(
                slots()[mine.index], w,
                [&](std::uint64_t x) { return settled_own(x, mine) && detail::count_of(x) >= n; },
                [n](std::uint64_t x) { return x - n; }))
            return false;
        word_guess_.store(w - n, std::memory_order_relaxed);
        return true;
    }
    void wake(std::uint32_t n) noexcept {
        core::waitpoint_wake(ctl().available, n > 0x7fffffffu ? 0x7fffffff : int(n));
    }

    int acquire_slow(std::uint32_t n, const core::Deadline &dl) noexcept;
    int acquire_slow_within(std::uint32_t n, std::int64_t timeout_ns) noexcept;
    int release_locked_path(std::uint32_t n) noexcept;
    int take_locked(std::uint32_t n) noexcept;  // 0, -EAGAIN, -EUSERS
    int claim_slot_locked(MySlot &out) noexcept;  // 0 or -EUSERS
    bool take_slot_locked(std::uint32_t i, core::OwnerToken me) noexcept;  // false: not idle
    std::uint32_t reclaim_dead_locked() noexcept;  // slots whose permits came back
    void release_slow(std::uint32_t n) noexcept;
    std::uint64_t forgive_locked(std::uint64_t n) noexcept;  // taken off others' counts
    int wait_for(std::uint32_t n, const core::Deadline &dl) noexcept;

    int lock_for(const core::Deadline &dl) noexcept;  // 0 or -EAGAIN/-ETIMEDOUT
    void unlock() noexcept;
    // Take back dead holders' permits (locks); true if any came back.
    bool reclaim_dead(const core::Deadline &dl) noexcept;

    std::atomic<std::uint64_t> my_slot_{0};  // see MySlot; 0: none
    // What the fast paths last wrote to this process's slot word (cas_own_word's first
    // expected value). Only a guess: a stale one costs a load or a failed CAS.
    std::atomic<std::uint64_t> word_guess_{0};
    core::EventNotifier events_;
};

}  // namespace shmds::sync
