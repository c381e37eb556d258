#include "buffer/buffer.hpp"

#include "core/probe_wait.hpp"

#include <cstring>

namespace shmds::buffer {

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;
}

int Buffer::create(const shmds_options_t *opts, const Config &cfg, std::unique_ptr<Buffer> &out) {
    return core::EngineFactory::create(opts, cfg, "buffer", out);
}

int Buffer::open(const shmds_options_t *opts, std::uint32_t wanted_type,
                 std::unique_ptr<Buffer> &out) {
    return core::EngineFactory::open(opts, wanted_type, std::uint32_t(ElemType::f64), "buffer",
                                     out);
}

namespace {
core::SegmentShape shape_of(const Geometry &g) {
    static_assert(kGeomLength == 0 && kGeomWidth == 1);
    return core::SegmentShape::of(std::uint32_t(g.type), g.elem_size, kCacheLine, g.total,
                                  layout_hash(g.type), {g.length, g.width});
}
}  // namespace

int Buffer::describe(core::SegmentShape &s) {
    if (int r = compute_geometry(std::uint32_t(requested_.variant), requested_.length,
                                 requested_.width, geom_))
        return r;
    s = shape_of(geom_);
    return 0;
}

int Buffer::reshape(std::uint32_t v, const std::uint64_t (&geometry)[core::kGeometryWords],
                    core::SegmentShape &s) {
    if (int r = compute_geometry(v, geometry[kGeomLength], geometry[kGeomWidth], geom_)) return r;
    s = shape_of(geom_);
    return 0;
}

void Buffer::initialize(std::uint8_t *base) noexcept {
    // The segment arrives zeroed: every element 0, seq 0 (even: no write in progress).
    auto *ctl = reinterpret_cast<Control *>(base + geom_.control_off);
    core::robust_mutex_init(ctl->mutex);
    core::waitpoint_init(ctl->settled);
}

void Buffer::bind(std::uint8_t *base) noexcept {
    ctl_ = reinterpret_cast<Control *>(base + geom_.control_off);
    data_ = base + geom_.data_off;
    segment_.track(ctl_->settled);
}

int Buffer::index_error(std::uint64_t i, const char *fn) const noexcept {
    return core::fail(-ERANGE, "{}: index {} is outside the buffer (length {})", fn, i,
                      geom_.length);
}

int Buffer::span_error(std::uint64_t off, std::uint64_t len, const char *fn) const noexcept {
    return core::fail(-ERANGE, "{}: bytes {} + {} reach outside the buffer's {} data bytes", fn,
                      off, len, geom_.data_bytes);
}

void Buffer::repair(void *self) noexcept {
    // The dead writer's data stays as it left it (each element whole: see buffer.hpp);
    // only the seqlock must say "no write in progress" again.
    auto *b = static_cast<Buffer *>(self);
    const std::uint64_t s = b->ctl_->seq.load(kRelaxed);
    if (s & 1) b->ctl_->seq.store(s + 1, std::memory_order_release);
}

int Buffer::begin_write(const Deadline &dl) noexcept {
    const core::LockResult r = core::robust_mutex_lock(ctl_->mutex, dl, &Buffer::repair, this,
                                                       &segment_.header().recoveries);
    if (r == core::LockResult::timed_out)
        return core::fail(dl.nowait() ? -EAGAIN : -ETIMEDOUT,
                          "a bulk write of the buffer stayed in progress in a live process");
    std::uint64_t s = ctl_->seq.load(kRelaxed);
    if (SHMDS_UNLIKELY(s & 1)) {  // only damage: every holder leaves it even, repair too
        ++s;
        segment_.header().recoveries.fetch_add(1, kRelaxed);
    }
    ctl_->seq.store(s + 1, kRelaxed);
    // Readers that see the new data also see the odd seq (the classic seqlock fence).
    std::atomic_thread_fence(std::memory_order_release);
    SHMDS_FAILPOINT("buffer.write.odd");
    return 0;
}

void Buffer::end_write() noexcept {
    const std::uint64_t s = ctl_->seq.load(kRelaxed);
    ctl_->seq.store((s | 1) + 1, std::memory_order_release);
    core::robust_mutex_unlock(ctl_->mutex);
    SHMDS_FAILPOINT("buffer.write.unwoken");
    // Sleepers only: a write nobody waits for makes no system call (the same seq_cst
    // load waitpoint_wake starts with, so no wake is lost).
    if (ctl_->settled.sleepers.load(std::memory_order_seq_cst) != 0)
        core::waitpoint_wake(ctl_->settled, INT_MAX);
}

int Buffer::begin_write_batch(const Deadline &dl) noexcept {
    if (holds_batch())
        return core::fail(-EDEADLK, "this thread already holds the buffer's write batch");
    return begin_write(dl);
}

int Buffer::end_write_batch() noexcept {
    if (!holds_batch())
        return core::fail(-EPERM, "this thread holds no write batch of the buffer");
    end_write();
    return 0;
}

bool Buffer::probe_writer() noexcept {
    bool repaired;
    {
        // NOWAIT: one liveness check of the holder; a dead one is taken over (repair
        // makes seq even). A live holder is left alone.
        core::RobustLock lock(ctl_->mutex, Deadline::from_timeout(0), &Buffer::repair, this,
                              &segment_.header().recoveries);
        if (!lock.owns()) return false;
        repaired = lock.result() == core::LockResult::recovered;
        const std::uint64_t s = ctl_->seq.load(kRelaxed);
        if (SHMDS_UNLIKELY(s & 1)) {  // free lock and odd seq: damage
            ctl_->seq.store(s + 1, std::memory_order_release);
            segment_.header().recoveries.fetch_add(1, kRelaxed);
            repaired = true;
        }
    }
    if (repaired && ctl_->settled.sleepers.load(std::memory_order_seq_cst) != 0)
        core::waitpoint_wake(ctl_->settled, INT_MAX);
    return true;
}

int Buffer::wait_even(std::uint64_t *seq, const Deadline &dl) noexcept {
    std::uint64_t s = ctl_->seq.load(std::memory_order_acquire);
    if (SHMDS_LIKELY(!(s & 1))) {
        *seq = s;
        return 0;
    }
    auto even = [&] {
        s = ctl_->seq.load(std::memory_order_acquire);
        return !(s & 1);
    };
    for (;;) {
        if (dl.nowait()) {
            // A try probes at once: a dead writer must not refuse try-only readers.
            if (core::spin_until(even, dl) || (probe_writer() && even())) break;
            return core::fail(-EAGAIN, "a bulk write of the buffer is in progress");
        }
        if (core::wait_probing(ctl_->settled, dl, even, [&] { return probe_writer(); }) != 0)
            return core::fail(-ETIMEDOUT,
                              "a bulk write of the buffer stayed in progress past the deadline");
        if (even()) break;
    }
    *seq = s;
    return 0;
}

int Buffer::read(std::uint64_t off, std::uint64_t len, void *out, const Deadline &dl) noexcept {
    if (SHMDS_UNLIKELY(holds_batch())) {  // the batch owner reads its own writes
        std::memcpy(out, data_ + off, len);
        return 0;
    }
    for (;;) {
        std::uint64_t s;
        if (int r = wait_even(&s, dl)) return r;
        std::memcpy(out, data_ + off, len);
        if (read_batch_valid(s)) return 0;
    }
}

namespace {
template <typename T>
void store_elements(T *dst, const std::uint8_t *src, std::uint64_t n) noexcept {
    for (std::uint64_t k = 0; k < n; ++k) {
        T v;
        std::memcpy(&v, src + k * sizeof(T), sizeof(T));
        __atomic_store_n(dst + k, v, __ATOMIC_RELAXED);
    }
}
}  // namespace

void Buffer::store_span(std::uint64_t off, const void *src_in, std::uint64_t len) noexcept {
    const auto *src = static_cast<const std::uint8_t *>(src_in);
    if (is_bytes()) {  // no hardware atomic covers a bytes element anyway
        std::memcpy(data_ + off, src, len);
        return;
    }
    const std::uint64_t es = geom_.elem_size;
    // A span that starts or ends inside an element writes that element's bytes only:
    // the caller asked for a partial element.
    std::uint64_t head = (es - off % es) % es;
    if (head > len) head = len;
    std::memcpy(data_ + off, src, head);
    off += head;
    src += head;
    len -= head;
    const std::uint64_t n = len / es;
    std::uint8_t *dst = data_ + off;
    switch (es) {
        case 1: store_elements(dst, src, n); break;
        case 2: store_elements(reinterpret_cast<std::uint16_t *>(dst), src, n); break;
        case 4: store_elements(reinterpret_cast<std::uint32_t *>(dst), src, n); break;
        default: store_elements(reinterpret_cast<std::uint64_t *>(dst), src, n); break;
    }
    std::memcpy(dst + n * es, src + n * es, len - n * es);
}

int Buffer::begin_read_batch(std::uint64_t *seq, const Deadline &dl) noexcept {
    if (SHMDS_UNLIKELY(holds_batch())) {
        *seq = ctl_->seq.load(kRelaxed);
        return 0;
    }
    return wait_even(seq, dl);
}

void Buffer::stats(Stats &s) const noexcept {
    s = Stats{};
    s.length = geom_.length;
    s.elem_size = geom_.elem_size;
    s.bulk_writes = ctl_->seq.load(kRelaxed) / 2;
    s.recoveries = segment_.recoveries();
    s.segment_bytes = geom_.total;
    s.waiters = core::waitpoint_sleepers(ctl_->settled);
}

}  // namespace shmds::buffer
