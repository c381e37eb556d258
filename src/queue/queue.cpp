#include "queue/queue.hpp"

#include "core/engine_factory.hpp"

#include "core/block.hpp"

#include <cstring>
#include <limits>

namespace shmds::queue {

namespace {

constexpr int kMaxWakeBatch = 1 << 20;

int wake_count(std::size_t n) { return n > std::size_t(kMaxWakeBatch) ? kMaxWakeBatch : int(n); }

}  // namespace

int Queue::create(const shmds_options_t *opts, const Config &cfg, std::unique_ptr<Queue> &out) {
    return core::EngineFactory::create(opts, cfg, "queue", out);
}

int Queue::open(const shmds_options_t *opts, std::uint32_t wanted_variant,
                std::unique_ptr<Queue> &out) {
    return core::EngineFactory::open(opts, wanted_variant, std::uint32_t(Variant::bytes), "queue",
                                     out);
}

namespace {
core::SegmentShape shape_of(const Geometry &g) {
    static_assert(kGeomCapacity == 0 && kGeomArena == 1);
    return core::SegmentShape::of(std::uint32_t(g.variant), g.elem_size, g.elem_align, g.total,
                                  layout_hash(g.variant), {g.capacity, g.arena});
}
}  // namespace

int Queue::describe(core::SegmentShape &s) {
    if (int r = compute_geometry(requested_.variant, requested_.capacity, requested_.arena, geom_))
        return r;
    s = shape_of(geom_);
    return 0;
}

int Queue::reshape(std::uint32_t v, const std::uint64_t (&geometry)[core::kGeometryWords],
                   core::SegmentShape &s) {
    if (v < std::uint32_t(Variant::int16) || v > std::uint32_t(Variant::bytes))
        return core::fail(-EINVAL, "unknown queue variant {}", v);
    if (int r = compute_geometry(Variant(v), geometry[kGeomCapacity], geometry[kGeomArena], geom_))
        return r;
    s = shape_of(geom_);
    return 0;
}

void Queue::initialize(std::uint8_t *base) noexcept {
    if (is_bytes()) {
        BytesRing::initialize(reinterpret_cast<BytesControl *>(base + geom_.control_off));
    } else {
        auto *ctl = reinterpret_cast<IntControl *>(base + geom_.control_off);
        if (geom_.variant == Variant::int64)
            IntRing<WideTraits>::initialize(
                ctl, reinterpret_cast<WideSlot *>(base + geom_.data_off), geom_.capacity);
        else
            IntRing<NarrowTraits>::initialize(
                ctl, reinterpret_cast<NarrowSlot *>(base + geom_.data_off), geom_.capacity);
    }
}

void Queue::bind(std::uint8_t *base) noexcept {
    if (is_bytes()) {
        bytes_ = BytesRing(reinterpret_cast<BytesControl *>(base + geom_.control_off),
                           reinterpret_cast<BytesDesc *>(base + geom_.data_off),
                           base + geom_.arena_off, geom_.capacity, geom_.arena,
                           &segment_.header().recoveries);
        segment_.track(bytes_.control()->not_full);
        segment_.track(bytes_.control()->not_empty);
    } else {
        auto *ctl = reinterpret_cast<IntControl *>(base + geom_.control_off);
        if (geom_.variant == Variant::int64)
            wide_ = IntRing<WideTraits>(ctl, reinterpret_cast<WideSlot *>(base + geom_.data_off),
                                        geom_.capacity);
        else
            narrow_ = IntRing<NarrowTraits>(
                ctl, reinterpret_cast<NarrowSlot *>(base + geom_.data_off), geom_.capacity);
        segment_.track(ctl->not_full);
        segment_.track(ctl->not_empty);
    }
}


int Queue::push_int(std::int64_t v, const Deadline &dl) noexcept {
    return with_int_ring([&](auto &ring) {
        IntControl *ctl = ring.control();
        int r = core::block_on(
            ctl->not_full, dl, [&] { return ring.try_push(v); },
            [&] { return ring.maybe_not_full(); });
        if (SHMDS_LIKELY(r == 0)) {
            core::waitpoint_wake(ctl->not_empty, 1);
            return 0;
        }
        if (r == SHMDS_ECORRUPT) return r;  // the ring said why
        ctl->push_full.fetch_add(1, std::memory_order_relaxed);
        return r == -EAGAIN ? core::fail_static(-EAGAIN, "queue is full")
                            : core::fail_static(-ETIMEDOUT, "queue stayed full until the deadline");
    });
}

int Queue::pop_int(std::int64_t *out, const Deadline &dl) noexcept {
    return with_int_ring([&](auto &ring) {
        IntControl *ctl = ring.control();
        int r = core::block_on(
            ctl->not_empty, dl, [&] { return ring.try_pop(out); },
            [&] { return ring.maybe_not_empty(); });
        if (SHMDS_LIKELY(r == 0)) {
            core::waitpoint_wake(ctl->not_full, 1);
            return 0;
        }
        if (r == SHMDS_ECORRUPT) return r;  // the ring said why
        ctl->pop_empty.fetch_add(1, std::memory_order_relaxed);
        return r == -EAGAIN ? core::fail_static(-EAGAIN, "queue is empty")
                            : core::fail_static(-ETIMEDOUT, "queue stayed empty until the deadline");
    });
}

int Queue::push_multi_int(const std::int64_t *v, std::size_t n, std::size_t *pushed,
                          const Deadline &dl) noexcept {
    *pushed = 0;
    for (std::size_t i = 0; i < n; ++i)
        if (int r = check_range(v[i])) return r;  // all or nothing on bad input
    return with_int_ring([&](auto &ring) {
        IntControl *ctl = ring.control();
        int r = core::block_on(
            ctl->not_full, dl,
            [&] {
                std::size_t before = *pushed;
                int err = 0;
                *pushed += ring.try_push_many(v + *pushed, n - *pushed, &err);
                if (*pushed != before) core::waitpoint_wake(ctl->not_empty, wake_count(*pushed - before));
                if (err) return err;
                return *pushed == n ? 0 : -EAGAIN;
            },
            [&] { return ring.maybe_not_full(); });
        if (r == 0) return 0;
        if (r == SHMDS_ECORRUPT) return r;  // the ring said why; *pushed counts what went in
        ctl->push_full.fetch_add(1, std::memory_order_relaxed);
        return core::fail(r, "queue full after {} of {} items", *pushed, n);
    });
}

int Queue::pop_multi_int(std::int64_t *out, std::size_t max, std::size_t *got,
                         const Deadline &dl, bool allow_empty) noexcept {
    *got = 0;
    if (max == 0) return 0;
    return with_int_ring([&](auto &ring) {
        IntControl *ctl = ring.control();
        int r = core::block_on(
            ctl->not_empty, dl,
            [&] {
                int err = 0;
                *got += ring.try_pop_many(out + *got, max - *got, &err);
                if (*got) return 0;  // items taken are delivered; damage shows on the next call
                return err ? err : -EAGAIN;
            },
            [&] { return ring.maybe_not_empty(); });
        if (*got) {
            core::waitpoint_wake(ctl->not_full, wake_count(*got));
            return 0;
        }
        if (r == SHMDS_ECORRUPT) return r;  // the ring said why
        if (allow_empty && r == -EAGAIN) return 0;
        ctl->pop_empty.fetch_add(1, std::memory_order_relaxed);
        return r == -EAGAIN ? core::fail_static(-EAGAIN, "queue is empty")
                            : core::fail_static(-ETIMEDOUT, "queue stayed empty until the deadline");
    });
}

int Queue::peek_int(std::int64_t *out) const noexcept {
    int r = with_int_ring([&](auto &ring) { return ring.peek(out); });
    return r ? core::fail_static(r, "queue is empty") : 0;
}

std::uint64_t Queue::size() const noexcept {
    if (is_bytes()) return bytes_.size();
    return with_int_ring([](auto &ring) { return ring.size(); });
}

bool Queue::is_full() const noexcept {
    if (is_bytes()) return bytes_.size() >= geom_.capacity;
    return with_int_ring([](auto &ring) { return !ring.maybe_not_full(); });
}

std::int64_t Queue::clear() noexcept {
    if (is_bytes()) return bytes_.clear(Deadline::from_timeout(-1));
    return with_int_ring([&](auto &ring) {
        // Pop what is there now, lock-free; items pushed meanwhile may stay.
        std::int64_t removed = 0, ignored;
        for (std::uint64_t i = 0; i < geom_.capacity && ring.try_pop(&ignored) == 0; ++i)
            ++removed;
        ring.control()->cleared.fetch_add(std::uint64_t(removed), std::memory_order_relaxed);
        if (removed) core::waitpoint_wake(ring.control()->not_full, wake_count(std::size_t(removed)));
        return removed;
    });
}

int Queue::stats(Stats &s) noexcept {
    s = Stats{};
    s.capacity = geom_.capacity;
    s.segment_bytes = geom_.total;
    if (is_bytes()) {
        BytesRing::Snapshot snap;
        if (int r = bytes_.snapshot(snap)) return r;
        s.recoveries = segment_.recoveries();  // after the snapshot: it may take a lock over
        BytesControl *ctl = bytes_.control();
        s.size = snap.size;
        s.push_ok = snap.push_ok;
        s.pop_ok = snap.pop_ok;
        s.push_full = snap.push_full;
        s.pop_empty = snap.pop_empty;
        s.arena_capacity = geom_.arena;
        s.arena_used = snap.arena_used;
        s.push_waiters = core::waitpoint_sleepers(ctl->not_full);
        s.pop_waiters = core::waitpoint_sleepers(ctl->not_empty);
        return 0;
    }
    s.recoveries = segment_.recoveries();
    return with_int_ring([&](auto &ring) {
        IntControl *ctl = ring.control();
        // Positions count successful operations exactly: tail = pushes, head = pops
        // (plus the items clear() removed, which are not pops).
        const std::uint64_t head = ring.settled_head();
        const std::uint64_t tail = ring.settled_tail();
        const std::uint64_t cleared = ctl->cleared.load(std::memory_order_relaxed);
        s.size = ring.size();
        s.push_ok = tail;
        s.pop_ok = head >= cleared ? head - cleared : 0;
        s.push_full = ctl->push_full.load(std::memory_order_relaxed);
        s.pop_empty = ctl->pop_empty.load(std::memory_order_relaxed);
        s.push_waiters = core::waitpoint_sleepers(ctl->not_full);
        s.pop_waiters = core::waitpoint_sleepers(ctl->not_empty);
        return 0;
    });
}

}  // namespace shmds::queue
