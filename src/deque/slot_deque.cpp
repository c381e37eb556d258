#include "deque/slot_deque.hpp"

#include "core/int_range.hpp"

#include <cmath>
#include <limits>

namespace shmds::deque {

using core::RobustLock;
using core::add_locked;

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;
core::SegmentShape shape_of(core::StructureType s, const Geometry &g) {
    static_assert(kGeomCapacity == 0 && kGeomMaxLen == 1);
    return core::SegmentShape::of(std::uint32_t(g.type), g.stride, g.elem_align, g.total,
                                  layout_hash(s, g.type), {g.capacity, g.max_len});
}

Form form_of(ElemType t) noexcept {
    if (t == ElemType::bytes) return Form::bytes;
    if (t == ElemType::f32 || t == ElemType::f64) return Form::floats;
    return Form::ints;
}
}  // namespace

int SlotDeque::describe(core::SegmentShape &s) {
    if (int r = compute_geometry(requested_.variant, requested_.capacity, requested_.max_len,
                                 names_->noun, geom_))
        return r;
    s = shape_of(structure_, geom_);
    return 0;
}

int SlotDeque::reshape(std::uint32_t v, const std::uint64_t (&geometry)[core::kGeometryWords],
                       core::SegmentShape &s) {
    if (int r = compute_geometry(ElemType(v), geometry[kGeomCapacity], geometry[kGeomMaxLen],
                                 names_->noun, geom_))
        return r;
    s = shape_of(structure_, geom_);
    return 0;
}

void SlotDeque::initialize(std::uint8_t *base) noexcept {
    auto *ctl = reinterpret_cast<Control *>(base + geom_.control_off);
    core::robust_mutex_init(ctl->mutex);
    ctl->head.store(kOrigin, kRelaxed);
    ctl->tail.store(kOrigin, kRelaxed);
    core::waitpoint_init(ctl->not_empty);
    core::waitpoint_init(ctl->not_full);
    // Every other word and every slot starts zeroed (a new segment is all zero).
}

void SlotDeque::bind(std::uint8_t *base) noexcept {
    ctl_ = reinterpret_cast<Control *>(base + geom_.control_off);
    data_ = base + geom_.data_off;
    mask_ = core::is_pow2(geom_.capacity) ? geom_.capacity - 1 : 0;
    form_ = form_of(geom_.type);
    segment_.track(ctl_->not_full);
    segment_.track(ctl_->not_empty);
}

int SlotDeque::check_items(const Items &items, std::size_t n) const noexcept {
    std::uint8_t scratch[8];
    for (std::size_t i = 0; i < n; ++i) {
        switch (items.form) {
            case Form::ints:
                if (int r = encode_integer(items, i, scratch)) return r;
                break;
            case Form::floats:
                if (int r = core::encode_float(geom_.type, items.floats[i], scratch,
                                               names_->noun))
                    return r;
                break;
            case Form::bytes:
                if (items.lens[i] > geom_.max_len)
                    return core::fail(-E2BIG, "{} item {} is {} bytes, over the {}'s max_len {}",
                                      names_->noun, i, items.lens[i], names_->noun,
                                      geom_.max_len);
                break;
        }
    }
    return 0;
}

void SlotDeque::counters(std::uint64_t &head, std::uint64_t &tail) noexcept {
    head = ctl_->head.load(kRelaxed);
    tail = ctl_->tail.load(kRelaxed);
    if (SHMDS_LIKELY(tail - head <= geom_.capacity)) return;
    // Only damage gets here: every operation keeps the invariant at every store.
    // Counted as a recovery; the items are beyond trust, so the deque restarts empty.
    ctl_->head.store(tail, std::memory_order_release);
    head = tail;
    segment_.header().recoveries.fetch_add(1, kRelaxed);
}

void SlotDeque::repair(void *self) noexcept {
    // The dead holder committed its change or did not: the counters need checking only.
    auto *d = static_cast<SlotDeque *>(self);
    std::uint64_t h, t;
    d->counters(h, t);
}

// Encode item i of an integer push into s: 0, or -ERANGE (it does not fit the type).
int SlotDeque::encode_integer(const Items &items, std::size_t i, void *s) const noexcept {
    return items.uints ? core::encode_uint(geom_.type, items.uints[i], s, names_->noun)
                       : core::encode_int(geom_.type, items.ints[i], s, names_->noun);
}

void SlotDeque::write_item(std::uint8_t *s, const Items &items, std::size_t i) const noexcept {
    switch (items.form) {
        case Form::ints: (void)encode_integer(items, i, s); break;
        case Form::floats:
            (void)core::encode_float(geom_.type, items.floats[i], s, names_->noun);
            break;
        case Form::bytes: {
            const std::uint32_t len = std::uint32_t(items.lens[i]);
            std::memcpy(s, &len, sizeof len);
            if (len) std::memcpy(s + kBytesLenField, items.datas[i], len);
            break;
        }
    }
}

// Copy one slot out to out[i]; `used` is the bytes already packed into out.buf.
// 0; -ENOBUFS (does not fit: lens[i] = its length); -ERANGE (an integer the caller's
// int64_t or uint64_t cannot hold: a uint64 above INT64_MAX, or a negative value for
// a _uint verb; the item is sound and stays); SHMDS_ECORRUPT (a peer wrote a length
// over max_len, or bits no value of the type has).
int SlotDeque::read_item(const std::uint8_t *s, const Out &out, std::size_t i,
                         std::size_t &used) const noexcept {
    switch (out.form) {
        case Form::ints:
            // Every bit pattern is some integer: decoding fails only on the range.
            return out.uints ? core::decode_uint(geom_.type, s, &out.uints[i], names_->noun)
                             : core::decode_int(geom_.type, s, &out.ints[i], names_->noun);
        case Form::floats:
            if (core::decode_float(geom_.type, s, &out.floats[i], names_->noun))
                return core::fail(SHMDS_ECORRUPT, "{} slot holds no valid {}", names_->noun,
                                  core::elem_type_name(std::uint32_t(geom_.type)));
            return 0;
        case Form::bytes: {
            std::uint32_t len;
            std::memcpy(&len, s, sizeof len);
            if (len > geom_.max_len)
                return core::fail(SHMDS_ECORRUPT, "{} slot says {} bytes, over max_len {}",
                                  names_->noun, len, geom_.max_len);
            out.lens[i] = len;
            if (len > out.buf_size - used)
                return core::fail(-ENOBUFS, "{} item is {} bytes, the buffer has {} left",
                                  names_->noun, len, out.buf_size - used);
            if (len) std::memcpy(static_cast<std::uint8_t *>(out.buf) + used, s + kBytesLenField, len);
            used += len;
            return 0;
        }
    }
    return SHMDS_ECORRUPT;
}

int SlotDeque::push_locked(End end, const Items &items, std::size_t n,
                           std::size_t *pushed) noexcept {
    std::uint64_t h, t;
    counters(h, t);
    const std::size_t before = *pushed;
    while (*pushed < n && t - h < geom_.capacity) {
        const std::uint64_t at = end == End::back ? t : h - 1;
        write_item(slot(at), items, *pushed);
        SHMDS_FAILPOINT(names_->push_slot_written);
        if (end == End::back)
            ctl_->tail.store(++t, std::memory_order_release);  // commit
        else
            ctl_->head.store(--h, std::memory_order_release);  // commit
        SHMDS_FAILPOINT(names_->push_committed);
        ++*pushed;
    }
    add_locked(ctl_->push_ok, *pushed - before);
    return *pushed == n ? 0 : -EAGAIN;
}

int SlotDeque::pop_locked(End end, const Out &out, std::size_t max, std::size_t *got) noexcept {
    std::uint64_t h, t;
    counters(h, t);
    std::size_t used = 0;
    int r = 0;
    const std::size_t before = *got;
    while (*got < max && t != h) {
        const std::uint64_t at = end == End::back ? t - 1 : h;
        std::size_t used_now = used;
        r = read_item(slot(at), out, *got, used_now);
        if (r == -ENOBUFS || r == -ERANGE) {
            if (*got > before) r = 0;  // the batch stops here; the item stays
            break;
        }
        SHMDS_FAILPOINT(names_->pop_copied);
        // A damaged item is removed too (it can never be delivered) and reported.
        if (end == End::back)
            ctl_->tail.store(--t, std::memory_order_release);  // commit
        else
            ctl_->head.store(++h, std::memory_order_release);  // commit
        SHMDS_FAILPOINT(names_->pop_committed);
        if (r) {
            segment_.header().recoveries.fetch_add(1, kRelaxed);
            break;
        }
        used = used_now;
        ++*got;
    }
    add_locked(ctl_->pop_ok, *got - before);
    if (r) return r;
    return *got > before ? 0 : -EAGAIN;
}

int SlotDeque::push(End end, const Items &items, std::size_t n, std::size_t *pushed,
                    const Deadline &dl) noexcept {
    bool lock_failed = false;
    const int r = core::block_on(
        ctl_->not_full, dl,
        [&] {
            if (looks_full()) return -EAGAIN;
            const std::size_t before = *pushed;
            int e;
            {
                const RobustLock held = lock().hold(core::lock_wait_deadline(dl));
                if (!held.owns()) {
                    lock_failed = true;
                    return core::lock_wait_timed_out(dl, names_->noun);
                }
                SHMDS_FAILPOINT(names_->push_locked);
                e = push_locked(end, items, n, pushed);
            }
            if (*pushed > before) wake(ctl_->not_empty, *pushed - before, names_->push_unwoken);
            return e;
        },
        [&] { return !looks_full(); }, core::SpinPace::gentle,
        core::lock_passage(lock(), dl));
    if (r == 0 || lock_failed || (r != -EAGAIN && r != -ETIMEDOUT)) return r;
    // Counted once per refused call, not per wait.
    ctl_->push_full.fetch_add(1, kRelaxed);
    if (r == -EAGAIN)
        return n == 1 ? core::fail_static(-EAGAIN, "full")
                      : core::fail(-EAGAIN, "{} full after {} of {} items", names_->noun,
                                   *pushed, n);
    return core::fail(-ETIMEDOUT, "{} stayed full until the deadline ({} of {} pushed)",
                      names_->noun, *pushed, n);
}

int SlotDeque::pop(End end, const Out &out, std::size_t max, std::size_t *got,
                   const Deadline &dl, bool allow_empty) noexcept {
    *got = 0;
    if (max == 0) return 0;
    bool lock_failed = false;
    const int r = core::block_on(
        ctl_->not_empty, allow_empty ? Deadline::from_timeout(0) : dl,
        [&] {
            if (looks_empty()) return -EAGAIN;
            int e;
            {
                const RobustLock held = lock().hold(core::lock_wait_deadline(dl));
                if (!held.owns()) {
                    lock_failed = true;
                    return core::lock_wait_timed_out(dl, names_->noun);
                }
                SHMDS_FAILPOINT(names_->pop_locked);
                e = pop_locked(end, out, max, got);
            }
            if (*got) wake(ctl_->not_full, *got, names_->pop_unwoken);
            return e;
        },
        [&] { return !looks_empty(); }, core::SpinPace::gentle,
        core::lock_passage(lock(), dl));
    if (r == 0 || lock_failed || (r != -EAGAIN && r != -ETIMEDOUT)) return r;
    if (allow_empty) return 0;
    ctl_->pop_empty.fetch_add(1, kRelaxed);
    return r == -EAGAIN ? core::fail_static(-EAGAIN, "empty")
                        : core::fail(-ETIMEDOUT, "{} stayed empty until the deadline",
                                     names_->noun);
}

int SlotDeque::peek(End end, const Out &out) noexcept {
    const RobustLock held = lock().hold(Deadline::from_timeout(-1));
    if (!held.owns()) return SHMDS_ECORRUPT;  // without a deadline only a damaged word fails
    SHMDS_FAILPOINT(names_->peek_locked);
    std::uint64_t h, t;
    counters(h, t);
    if (h == t) return core::fail(-EAGAIN, "{} is empty", names_->noun);
    std::size_t used = 0;
    return read_item(slot(end == End::back ? t - 1 : h), out, 0, used);
}

std::uint64_t SlotDeque::size() const noexcept {
    // Lock-free snapshot: each counter is committed by one store. Clamped, so a
    // scribbled pair never reports more than the capacity.
    const std::uint64_t h = ctl_->head.load(std::memory_order_acquire);
    const std::uint64_t t = ctl_->tail.load(std::memory_order_acquire);
    const std::uint64_t n = t - h;
    return n > geom_.capacity ? (std::int64_t(n) < 0 ? 0 : geom_.capacity) : n;
}

std::int64_t SlotDeque::clear() noexcept {
    std::uint64_t removed;
    {
        const RobustLock held = lock().hold(Deadline::from_timeout(-1));
        if (!held.owns()) return SHMDS_ECORRUPT;
        SHMDS_FAILPOINT(names_->clear_locked);
        std::uint64_t h, t;
        counters(h, t);
        removed = t - h;
        ctl_->head.store(t, std::memory_order_release);  // commit
        SHMDS_FAILPOINT(names_->clear_committed);
        add_locked(ctl_->cleared, removed);
    }
    if (removed) wake(ctl_->not_full, removed, names_->clear_unwoken);
    return std::int64_t(removed);
}

int SlotDeque::stats(Stats &s) noexcept {
    s = Stats{};
    {
        const RobustLock held = lock().hold(Deadline::from_timeout(-1));
        if (!held.owns()) return SHMDS_ECORRUPT;
        SHMDS_FAILPOINT(names_->stats_locked);
        std::uint64_t h, t;
        counters(h, t);
        s.size = t - h;
        s.push_ok = ctl_->push_ok.load(kRelaxed);
        s.pop_ok = ctl_->pop_ok.load(kRelaxed);
        s.cleared = ctl_->cleared.load(kRelaxed);
    }
    s.capacity = geom_.capacity;
    s.max_len = geom_.max_len;
    s.push_full = ctl_->push_full.load(kRelaxed);
    s.pop_empty = ctl_->pop_empty.load(kRelaxed);
    s.recoveries = segment_.recoveries();
    s.segment_bytes = geom_.total;
    s.push_waiters = core::waitpoint_sleepers(ctl_->not_full);
    s.pop_waiters = core::waitpoint_sleepers(ctl_->not_empty);
    return 0;
}

}  // namespace shmds::deque
