// The one way an operation blocks (DESIGN.md §4 and §5): try, and while the attempt says
// "would block", sleep on a WaitPoint until the state may have changed, then try again.
//
// No sleeper trusts a wake. A waker makes its change (publishes an item, frees a slot,
// marks a reply ready) and only then wakes; SIGKILL can land between the two, and then
// the wake never comes. So every sleep here ends after at most kWakeBoundNs and the
// operation is attempted again, whether or not `ready` thinks anything changed: `ready`
// may read hints (head/tail positions, versions) that the dead waker never advanced,
// while the attempt looks at the state itself. A lost wake therefore costs a sleeper at
// most kWakeBoundNs, and an idle sleeper pays one attempt per interval (measured in
// the bench's idle_consumer workload, one row per kind of sleeper), never a spin.
//
// Raw futex sleeps outside a WaitPoint are bounded the same way by futex_wait itself
// (core/futex.hpp), so nothing in the library can sleep past a lost wake.
#pragma once

#include "core/deadline.hpp"
#include "core/futex.hpp"
#include "core/robust_mutex.hpp"
#include "core/waitpoint.hpp"

#include <cerrno>

namespace shmds::core {

// attempt() returns -EAGAIN when the operation would block; any other value ends the
// call and is returned. ready() is a cheap, side-effect-free hint that another attempt
// may succeed; it is evaluated after every wakeup. Returns attempt()'s result, -EAGAIN
// for a NOWAIT deadline that would block, or -ETIMEDOUT when the deadline passes while
// the attempt still would block. `pace`: how often the spin before each sleep looks at
// ready() (waitpoint.hpp, SpinPace). `order`: how a sleeper's announcement is ordered
// against a waker's change (waitpoint.hpp: FenceOrder, or LockPassage).
template <typename Attempt, typename Ready, typename Order = FenceOrder>
int block_on(WaitPoint &wp, const Deadline &dl, Attempt &&attempt, Ready &&ready,
             SpinPace pace = SpinPace::eager, const Order &order = Order{}) {
    int spin = kDefaultSpin;
    for (;;) {
        const int r = attempt();
        if (r != -EAGAIN || dl.nowait()) return r;
        const int slept = waitpoint_wait(wp, dl.capped_at(monotonic_ns() + kWakeBoundNs), ready,
                                         spin, pace, order);
        if (slept != 0 && dl.expired()) {
            const int last = attempt();  // the deadline passed: one last look
            return last == -EAGAIN ? -ETIMEDOUT : last;
        }
        // A bound that ran out with nothing ready means an idle structure: sleep again
        // without spinning; after a real wake, spin as usual.
        spin = slept != 0 ? 0 : kDefaultSpin;
    }
}

// The sleepers' order for a structure whose lock releases with a plain store
// (robust_mutex.hpp, PlainLock): take and drop that lock, as its own callers do (a dead
// holder taken over and repaired), waiting for it no longer than the sleeper's deadline
// allows (lock_wait_deadline). `dl` must outlive the wait.
inline auto lock_passage(PlainLock lock, const Deadline &dl) noexcept {
    return LockPassage{[lock, &dl]() noexcept {
        const RobustLock passed = lock.hold(lock_wait_deadline(dl));
    }};
}

}  // namespace shmds::core
