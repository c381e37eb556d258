#include "reqrep/request_ring.hpp"

#include "core/error.hpp"
#include "core/failpoint.hpp"
#include "core/robust_mutex.hpp"

#include <cerrno>
#include <cstring>

namespace shmds::reqrep {

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;
// The lock is never held across a wait, so even a try waits this long for it: only a
// stopped holder makes anyone wait that long, and a try must not fail just because
// another process held the lock for a moment.
constexpr std::int64_t kTryLockNs = 50'000'000;

core::Deadline lock_deadline(const core::Deadline &dl) noexcept {
    return dl.nowait() ? core::Deadline::from_timeout(kTryLockNs) : dl;
}
}  // namespace

int RequestRing::initialize(ReqControl *ctl) noexcept {
    core::robust_mutex_init(ctl->mutex);
    ctl->head.store(0, kRelaxed);
    ctl->tail.store(0, kRelaxed);
    return 0;
}

void RequestRing::repair(void *self) noexcept {
    // Every change commits with one store, so a dead holder leaves a consistent ring
    // unless memory is damaged; if it is, drop the queued requests (their clients time
    // out) rather than let anyone copy through bad indices.
    auto *ring = static_cast<RequestRing *>(self);
    const std::uint64_t head = ring->ctl_->head.load(kRelaxed);
    const std::uint64_t tail = ring->ctl_->tail.load(kRelaxed);
    if (tail - head > ring->cap_) ring->ctl_->head.store(tail, kRelaxed);
}

int RequestRing::push(std::uint64_t id, const void *data, std::size_t len,
                      const core::Deadline &dl) noexcept {
    core::RobustLock lock(ctl_->mutex, lock_deadline(dl), &RequestRing::repair, this,
                          recoveries_);
    if (!lock.owns()) return core::fail(-ETIMEDOUT, "reqrep request lock wait timed out");
    SHMDS_FAILPOINT("reqrep.send.locked");
    const std::uint64_t head = ctl_->head.load(kRelaxed);
    const std::uint64_t tail = ctl_->tail.load(kRelaxed);
    // Damaged indices, as pop reports them: "full" would make a sender wait them out.
    if (tail - head > cap_)
        return core::fail(SHMDS_ECORRUPT, "reqrep request ring holds {} entries, capacity {}",
                          tail - head, cap_);
    if (tail - head == cap_) return -EAGAIN;
    std::uint8_t *e = entry(tail);
    RequestHeader h{id, std::uint32_t(len), 0};
    std::memcpy(e, &h, sizeof h);
    if (len) std::memcpy(e + sizeof h, data, len);
    SHMDS_FAILPOINT("reqrep.send.copied");
    ctl_->tail.store(tail + 1, std::memory_order_release);  // commit
    return 0;
}

int RequestRing::pop(const RecvBuffer &out, std::size_t *got, const core::Deadline &dl) noexcept {
    *got = 0;
    core::RobustLock lock(ctl_->mutex, lock_deadline(dl), &RequestRing::repair, this,
                          recoveries_);
    if (!lock.owns()) return core::fail(-ETIMEDOUT, "reqrep request lock wait timed out");
    SHMDS_FAILPOINT("reqrep.recv.locked");
    std::uint64_t head = ctl_->head.load(kRelaxed);
    const std::uint64_t tail = ctl_->tail.load(kRelaxed);
    if (tail - head > cap_)
        return core::fail(SHMDS_ECORRUPT, "reqrep request ring holds {} entries, capacity {}",
                          tail - head, cap_);
    std::size_t used = 0;
    while (*got < out.max && head != tail) {
        const std::uint8_t *e = entry(head);
        RequestHeader h;
        std::memcpy(&h, e, sizeof h);
        if (h.len > size_max_)
            return core::fail(SHMDS_ECORRUPT, "reqrep request of {} bytes exceeds the {} maximum",
                              h.len, size_max_);
        if (h.len > out.buf_size - used) {
            if (*got == 0) {
                if (out.lens) out.lens[0] = h.len;
                return core::fail(-ENOBUFS, "reqrep request is {} bytes, buffer holds {}", h.len,
                                  out.buf_size);
            }
            break;
        }
        if (h.len) std::memcpy(static_cast<std::uint8_t *>(out.buf) + used, e + sizeof h, h.len);
        if (out.lens) out.lens[*got] = h.len;
        out.ids[*got] = h.id;
        used += h.len;
        ++head;
        ++*got;
    }
    if (*got == 0) return -EAGAIN;
    SHMDS_FAILPOINT("reqrep.recv.copied");
    ctl_->head.store(head, std::memory_order_release);  // commit
    return 0;
}

std::uint64_t RequestRing::size() const noexcept {
    const std::uint64_t n = ctl_->tail.load(std::memory_order_acquire) -
                            ctl_->head.load(std::memory_order_acquire);
    return n > cap_ ? (std::int64_t(n) < 0 ? 0 : cap_) : n;
}

}  // namespace shmds::reqrep
