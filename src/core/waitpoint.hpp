// The one sleep/wake mechanism of the library (DESIGN.md §4).
//
// A WaitPoint lives in shared memory next to the condition it guards ("not empty",
// "not full", ...). Sleepers announce themselves, sample the sequence word, re-check the
// condition, then sleep on the sequence word; wakers make the condition true, bump the
// sequence and issue FUTEX_WAKE only when someone announced. That ordering is what makes
// missed wakeups impossible (the reference's lesson 1).
//
// Wakers skip the syscall when every announced sleeper has already been woken. A woken
// sleeper stays announced until it runs again, and on a busy machine that can be many
// operations later; without the skip every one of them paid a FUTEX_WAKE that found
// nobody (a wake storm). `wake_state` says whether that is so: it holds a generation
// (bits 63..1) and kAllWoken (bit 0). A sleeper *arms* after sampling `seq`: it moves
// the word to a new generation with kAllWoken clear. A waker that finds kAllWoken clear
// takes a ticket the same way, bumps `seq`, wakes, and sets kAllWoken on exactly its
// ticket (one compare-and-swap) only if that wake reached everyone: it woke fewer than n,
// or no more than n were announced after the ticket. Why no wakeup is lost (the order is
// seq_cst throughout; D is the waker's change to the condition):
//  - A waker that reads kAllWoken skips only after D. Take any sleeper X that could
//    stay asleep, and its last arm A. If A follows the waker's read, then X's re-check
//    of the condition follows D too, and X sees it. Otherwise A precedes the ticket T of
//    the waker W that set the kAllWoken read (an arm between T and W's CAS would have
//    failed that CAS). So X sampled `seq` before W bumped it: X's futex_wait either
//    returns at once (the value changed) or X was queued before W's FUTEX_WAKE, which
//    drained the queue (fewer than n woken) or found at most the announced count
//    (everyone queued at that moment armed before T, hence was announced when W read the
//    count after T). Either way X runs again and re-checks, so A was not its last arm.
//  - A waker that finds kAllWoken clear wakes exactly as the plain protocol does.
// Only a waker that dies between its ticket and its CAS can leave kAllWoken clear, and
// that only costs the next waker a syscall.
//
// Announcing is crash-safe: a sleeper first writes its owner token into a free slot of
// the registry, then sets that slot's bit in `sleepers`; it clears the bit before the
// slot. Whatever instruction a sleeper dies at, a later repair can tell its entry is
// dead and take it out, so a SIGKILLed sleeper never leaves wakers paying a futex
// syscall on every operation for ever. Sleepers that find the registry full are counted
// in the high half of `sleepers` instead (unrepairable, hence the generous registry).
#pragma once

#include "core/deadline.hpp"
#include "core/futex.hpp"
#include "core/owner.hpp"
#include "core/platform.hpp"

#include <atomic>
#include <cerrno>
#include <sched.h>
#include <cstddef>
#include <cstdint>

namespace shmds::core {

inline constexpr int kWaitSlots = 32;

struct alignas(kCacheLine) WaitPoint {
    std::atomic<std::uint64_t> sleepers;  // low 32: registry bits; high 32: unregistered
    std::atomic<std::uint32_t> seq;       // the futex word
    std::atomic<std::uint32_t> idle_wakes;
    std::atomic<std::uint32_t> repaired;  // dead sleepers taken out (a recovery count)
    std::atomic<std::uint32_t> waker_cpu;  // 1 + the CPU the last waker ran on; 0: unknown
    std::atomic<OwnerToken> slot[kWaitSlots];
    std::atomic<std::uint64_t> wake_state;  // generation << 1 | kAllWoken (see above)
};
inline constexpr std::uint64_t kAllWoken = 1;
static_assert(sizeof(WaitPoint) == 320);
static_assert(offsetof(WaitPoint, wake_state) == 280);
static_assert(alignof(WaitPoint) == kCacheLine);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

// How long a sleeper spins on the condition before it sleeps in the kernel. A blocking
// round trip through the kernel costs ~10 µs; a short spin catches the item that is
// about to arrive at a fraction of that, and a waiter with nothing to do still sleeps.
// Bounded by time, not only by iterations: one `pause` costs 5 ns on some CPUs and
// 36 ns on others, which made 2000 iterations anything from 10 to 72 µs.
inline constexpr int kDefaultSpin = 2000;
inline constexpr std::int64_t kSpinNs = 20000;

// Spinning only pays while the process that will make the condition true runs on
// another CPU. When it last ran on the sleeper's own CPU (both pinned to one core, or
// a fleet with more workers than cores that the scheduler stacked together), it cannot
// run until the sleeper yields, so every spin is a whole kSpinNs lost per hand-over:
// 50 µs round trips where the raw futex needs 11. So a waker that finds sleepers notes
// its CPU in the WaitPoint (a store only when the CPU changed, so the line stays
// shared) and a sleeper that finds its own CPU there yields instead of spinning
// (wait_before_sleeping). The CPU comes from rseq through sched_getcpu() (under 2 ns);
// a stale or scribbled value only changes whether one wait spins or yields, never its
// outcome.
inline std::uint32_t current_cpu_tag() noexcept {
    const int cpu = sched_getcpu();
    return cpu < 0 ? 0 : std::uint32_t(cpu) + 1;
}

// Record the caller's CPU in a shared word (a WaitPoint's waker_cpu, or any other
// place a partner's CPU is kept).
inline void note_cpu(std::atomic<std::uint32_t> &word) noexcept {
    const std::uint32_t tag = current_cpu_tag();
    if (word.load(std::memory_order_relaxed) != tag) word.store(tag, std::memory_order_relaxed);
}

// How many rounds to spin waiting for a partner last seen on CPU tag `partner`:
// `spin`, or 0 when that is the caller's own CPU.
inline int spin_budget(std::uint32_t partner, int spin) noexcept {
    if (spin <= 0) return 0;
    return partner != 0 && partner == current_cpu_tag() ? 0 : spin;
}

// How often a spinning waiter looks. `eager`: every pause, for a ready() that reads a
// word only wakers write (a queue's slot, a version). `gentle`: PollBackoff's spacing
// (platform.hpp), for a ready() that reads a word on a lock's line (a size, a head and
// tail): polled every pause, it takes that line from the holder several times per
// critical section and each store the holder makes there waits for a cross-CPU
// transfer, so a spinning consumer slowed the very producer it waited for; spaced out,
// the holder keeps its line and runs call after call (Heap and Deque 1->1 streams
// across processes ran 1.2-2.5x faster). Only the spin is paced: after a sleep, ready()
// is looked at at once. `steady`: 8 pauses, then 16 (0.1-0.25 us here), for a ready()
// on a line the waker writes once per call while an answer may be due within a
// microsecond: spaced enough that a streaming producer keeps its line through a call
// (bytes queue 1->1: 2.8M -> 3.4-4.1M msgs/s), close enough that a ping-pong's answer is
// seen within a few hundred ns of arriving (gentle's 64-pause spacing cost it 0.4 us).
enum class SpinPace : std::uint8_t { eager, gentle, steady };

// Spin on ready() for at most `iterations` rounds, kSpinNs, or until the deadline,
// whichever ends first. True as soon as ready() holds.
template <typename Ready>
bool spin_until(Ready &&ready, const Deadline &deadline, int iterations = kDefaultSpin,
                SpinPace pace = SpinPace::eager) {
    PollBackoff backoff(pace == SpinPace::steady ? 16 : 64);
    std::int64_t stop = 0;
    for (int i = 0; i < iterations; ++i) {
        if (ready()) return true;
        if (pace == SpinPace::eager)
            cpu_relax();
        else
            backoff.pause();
        // The clock costs ~20 ns: read it every 32 eager rounds, every paced one (each
        // of those is 8 pauses or more).
        if (pace != SpinPace::eager || (i & 31) == 31) {
            const std::int64_t now = monotonic_ns();
            if (stop == 0)
                stop = now + kSpinNs < deadline.at_ns() ? now + kSpinNs : deadline.at_ns();
            if (now >= stop) return false;
        }
    }
    return false;
}

// Give the CPU to a partner that shares it, once, before a sleep (wait_before_sleeping
// says why). False when this thread's yields are paused: a yield that kept it off the
// CPU for longer than kYieldSlowNs means some other process ran, not (only) the partner,
// and a waiter that keeps yielding to a busy neighbour stays runnable, loses the quick
// wake-up a sleeper gets, and waits out the neighbour's whole time slice on every hand-
// over (a one-CPU ping-pong beside a busy loop: 1.4 ms per round trip instead of 7 us).
// So this thread sleeps at once for kYieldPauseNs after such a yield, then tries again.
// 1 ms: a busy neighbour keeps the CPU until a scheduler tick (1-4 ms), while a partner
// filling a ring hands it back within tens of us. At 250 us, pauses also set in among
// two pairs of processes sharing two CPUs, and cost them 20-30% of their round trips.
inline constexpr std::int64_t kYieldSlowNs = 1'000'000;
inline constexpr std::int64_t kYieldPauseNs = 1'000'000'000;
bool yield_to_partner() noexcept;

// What a waiter does before it sleeps in the kernel, given the CPU tag of its partner
// (the process that will make ready() true). True as soon as ready() holds.
//  - Partner on another CPU, or not known yet: spin (spin_until).
//  - Partner last seen on the caller's own CPU: it cannot run until the caller gives
//    the CPU up, so a spin is a whole kSpinNs lost; but a sleep hands over too eagerly,
//    because the wake that ends it preempts the partner after its first item: a 1 -> 1
//    stream on one CPU slept and woke 4-5 times per ring's worth of items (16M msgs/s,
//    0.65x a raw futex ring). One yield (yield_to_partner) lets the partner run until it
//    blocks or its slice ends, and the caller mostly finds ready() true with no sleep and
//    no wake: one switch per ring fill (25M msgs/s, 1.1x the ring; round trips on one
//    CPU 1.07x -> 1.37x the raw futex). A yield that finds nobody else runnable returns
//    at once, and the caller goes on to sleep.
//  - spin <= 0 (the caller asked for none), or a deadline already past: nothing.
template <typename Ready>
bool wait_before_sleeping(Ready &&ready, const Deadline &deadline, std::uint32_t partner,
                          int spin = kDefaultSpin, SpinPace pace = SpinPace::eager) {
    if (spin <= 0 || deadline.nowait()) return false;
    const int budget = spin_budget(partner, spin);
    if (budget > 0) return spin_until(ready, deadline, budget, pace);
    return yield_to_partner() && ready();
}

void waitpoint_init(WaitPoint &wp) noexcept;

// Wake up to n sleepers if any announced and not all of them were woken already. Call
// after making the condition true; the seq_cst loads pair with the sleeper's seq_cst
// announce and arm (a StoreLoad fence). While idle_wakes counts, even a skipped wake
// goes to the slow path, so that announced sleepers nobody finds are repaired in time.
//
// The waker notes its CPU only when someone sleeps: a sched_getcpu() on every push, pop
// and release made an Int64 push+pop in one process 7% slower (23.0M -> 24.7M pairs/s
// without it), and while nobody sleeps nobody reads the tag. A sleeper may then decide
// a spin on a tag one wake old: only its spin budget changes, and that wake corrects it.
void waitpoint_wake_slow(WaitPoint &wp, int n) noexcept;
inline void waitpoint_wake(WaitPoint &wp, int n = 1) noexcept {
    if (SHMDS_LIKELY(wp.sleepers.load(std::memory_order_seq_cst) == 0)) return;
    note_cpu(wp.waker_cpu);
    if ((wp.wake_state.load(std::memory_order_seq_cst) & kAllWoken) &&
        wp.idle_wakes.load(std::memory_order_relaxed) == 0)
        return;
    waitpoint_wake_slow(wp, n);
}

// Remove registry entries whose owner died; returns how many were removed.
int waitpoint_repair(WaitPoint &wp) noexcept;

// How many sleepers are announced (registered plus unregistered).
std::uint32_t waitpoint_sleepers(const WaitPoint &wp) noexcept;

// RAII announcement of one sleeper: registers, samples `seq`, then arms (in that order,
// which the no-lost-wakeup argument above needs). Sleep on sampled_seq(), nothing else.
class SleeperRegistration {
public:
    explicit SleeperRegistration(WaitPoint &wp) noexcept;
    ~SleeperRegistration();
    SleeperRegistration(const SleeperRegistration &) = delete;
    SleeperRegistration &operator=(const SleeperRegistration &) = delete;
    std::uint32_t sampled_seq() const noexcept { return seq_; }

private:
    WaitPoint &wp_;
    int slot_;  // -1: counted in the unregistered half
    std::uint32_t seq_;
};

// What orders a sleeper's announcement against a waker's change, between the arm and
// the last look at ready(). The default is a seq_cst fence, which pairs with the
// waker's own StoreLoad order between its change and its sleeper-count load (a locked
// instruction: a CAS or an exchanging unlock).
struct FenceOrder {
    void operator()() const noexcept { std::atomic_thread_fence(std::memory_order_seq_cst); }
};

// The order for a structure whose every change to the condition is made under one lock
// released with a plain store (core/robust_mutex.hpp, Release::plain), so its wakers
// have no StoreLoad fence: the sleeper takes and drops that lock after arming. If the
// waker's section came first, the sleeper's look follows it and sees the change; if
// the sleeper's came first, its announcement precedes the waker's lock, hence the
// waker's count load, and the waker wakes it. `pass` takes and drops the lock (a
// RobustLock in a scope, so a dead holder is taken over and repaired); a lock it
// could not take (deadline) leaves the sleep to its wake bound (core/block.hpp).
template <typename Pass>
struct LockPassage {
    Pass pass;
    void operator()() const noexcept { pass(); }
};
template <typename Pass>
LockPassage(Pass) -> LockPassage<Pass>;

// Block until ready() holds (returns 0) or the deadline passes (-ETIMEDOUT).
// ready() must be cheap and side-effect free; it is evaluated after every wakeup.
// `order`: FenceOrder, or a LockPassage for a structure that unlocks with plain stores.
template <typename Ready, typename Order = FenceOrder>
int waitpoint_wait(WaitPoint &wp, const Deadline &deadline, Ready &&ready,
                   int spin = kDefaultSpin, SpinPace pace = SpinPace::eager,
                   const Order &order = Order{}) {
    if (wait_before_sleeping(ready, deadline, wp.waker_cpu.load(std::memory_order_relaxed), spin,
                             pace))
        return 0;
    for (;;) {
        if (ready()) return 0;
        if (deadline.expired()) return -ETIMEDOUT;
        SleeperRegistration announce(wp);
        // Either the waker sees our announcement and arm, or we see its change here.
        // Only on the sleep path.
        order();
        if (ready()) return 0;
        futex_wait(&wp.seq, announce.sampled_seq(), deadline);
    }
}

}  // namespace shmds::core
