#include "sync/once.hpp"

#include "core/error.hpp"
#include "core/failpoint.hpp"
#include "core/probe_wait.hpp"
#include "core/thread_id.hpp"

#include <cerrno>

namespace shmds::sync {

namespace {
constexpr int kWakeAll = 0x7fffffff;
}

int Once::create(const shmds_options_t *opts, std::unique_ptr<Once> &out) {
    return create_as(opts, 0, 0, "once", out);
}

int Once::open(const shmds_options_t *opts, std::unique_ptr<Once> &out) {
    return open_as(opts, "once", out);
}

int Once::shape(std::uint64_t g0, std::uint64_t g1, Shape &out) const {
    if (g0 != 0 || g1 != 0) return core::fail(-EINVAL, "a once has no geometry");
    core::LayoutHash h;
    h.add({std::uint64_t(core::StructureType::once), sizeof(OnceControl),
           offsetof(OnceControl, owner_tid), offsetof(OnceControl, finished),
           sizeof(core::WaitPoint)});
    out = Shape{sizeof(OnceControl), h.value()};
    return 0;
}

void Once::init_control(std::uint8_t *control) noexcept {
    auto &c = *reinterpret_cast<OnceControl *>(control);
    c.state.store(0, std::memory_order_relaxed);
    c.owner_tid.store(0, std::memory_order_relaxed);
    core::waitpoint_init(c.finished);
}

int Once::claimed(core::OwnerToken from) noexcept {
    ctl().owner_tid.store(core::self_tid(), std::memory_order_relaxed);
    if (from != 0) recoveries().fetch_add(1, std::memory_order_relaxed);
    SHMDS_FAILPOINT("once.enter.claimed");
    return 1;
}

int Once::enter(const core::Deadline &dl) noexcept {
    OnceControl &c = ctl();
    const core::OwnerToken me = core::self_owner();
    for (;;) {
        core::OwnerToken s = c.state.load(std::memory_order_acquire);
        if (s == kOnceDone) return 0;
        if (s == 0) {
            if (c.state.compare_exchange_strong(s, me, std::memory_order_acq_rel)) return claimed(0);
            continue;
        }
        if (s == me && c.owner_tid.load(std::memory_order_relaxed) == core::self_tid())
            return core::fail(-EDEADLK, "once: the calling thread is running the initializer");
        if (dl.nowait())
            return core::fail_static(-EAGAIN, "once: another process is initializing");
        bool took_over = false;
        int r = core::wait_probing(
            c.finished, dl, [&] { return c.state.load(std::memory_order_acquire) != s; },
            [&] {
                core::OwnerToken expected = s;
                if (core::owner_alive(s)) return false;
                took_over = c.state.compare_exchange_strong(expected, me,
                                                            std::memory_order_acq_rel);
                return true;
            });
        if (took_over) return claimed(s);
        if (r != 0)
            return core::fail(-ETIMEDOUT, "once: the initializer (pid {}) did not finish in time",
                              core::owner_pid(s));
    }
}

int Once::done() noexcept {
    OnceControl &c = ctl();
    core::OwnerToken me = core::self_owner();
    if (c.state.load(std::memory_order_acquire) != me)
        return core::fail(-EPERM, "once: done() by a process that is not the initializer");
    SHMDS_FAILPOINT("once.done.before");
    c.state.store(kOnceDone, std::memory_order_release);
    SHMDS_FAILPOINT("once.done.unwoken");
    core::waitpoint_wake(c.finished, kWakeAll);
    return 0;
}

int Once::reset() noexcept {
    OnceControl &c = ctl();
    const core::OwnerToken me = core::self_owner();
    for (;;) {
        core::OwnerToken s = c.state.load(std::memory_order_acquire);
        if (s == 0) return 0;
        const bool abandoned = s != kOnceDone && s != me;
        if (abandoned && core::owner_alive(s))
            return core::fail(-EBUSY, "once: process {} is running the initializer",
                              core::owner_pid(s));
        if (!c.state.compare_exchange_strong(s, 0, std::memory_order_acq_rel)) continue;
        if (abandoned) recoveries().fetch_add(1, std::memory_order_relaxed);
        // Waiters of an initializer that gave up (or died) compete again.
        core::waitpoint_wake(c.finished, kWakeAll);
        return 0;
    }
}

bool Once::is_done() const noexcept {
    return ctl().state.load(std::memory_order_acquire) == kOnceDone;
}

}  // namespace shmds::sync
