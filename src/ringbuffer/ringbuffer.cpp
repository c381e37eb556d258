#include "ringbuffer/ringbuffer.hpp"

#include "core/block.hpp"

namespace shmds::ringbuffer {

int RingBuffer::create(const shmds_options_t *opts, const Config &cfg,
                       std::unique_ptr<RingBuffer> &out) {
    return core::EngineFactory::create(opts, cfg, "ring buffer", out);
}

int RingBuffer::open(const shmds_options_t *opts, std::uint32_t wanted_type,
                     std::unique_ptr<RingBuffer> &out) {
    return core::EngineFactory::open(opts, wanted_type, std::uint32_t(ElemType::f64),
                                     "ring buffer", out);
}

namespace {
core::SegmentShape shape_of(const Geometry &g) {
    static_assert(kGeomCapacity == 0);
    return core::SegmentShape::of(std::uint32_t(g.type), sizeof(Slot), alignof(Slot), g.total,
                                  layout_hash(g.type), {g.capacity});
}
}  // namespace

int RingBuffer::describe(core::SegmentShape &s) {
    if (int r = compute_geometry(std::uint32_t(requested_.variant), requested_.capacity, geom_))
        return r;
    s = shape_of(geom_);
    return 0;
}

int RingBuffer::reshape(std::uint32_t v, const std::uint64_t (&geometry)[core::kGeometryWords],
                        core::SegmentShape &s) {
    if (int r = compute_geometry(v, geometry[kGeomCapacity], geom_)) return r;
    s = shape_of(geom_);
    return 0;
}

void RingBuffer::initialize(std::uint8_t *base) noexcept {
    // The segment arrives zeroed: head 0 and every slot's tag 0 ("never written").
    auto *ctl = reinterpret_cast<RingControl *>(base + geom_.control_off);
    core::waitpoint_init(ctl->written);
}

void RingBuffer::bind(std::uint8_t *base) noexcept {
    ctl_ = reinterpret_cast<RingControl *>(base + geom_.control_off);
    slots_ = reinterpret_cast<Slot *>(base + geom_.slots_off);
    const std::uint64_t cap = geom_.capacity;
    mask_ = cap > 1 && (cap & (cap - 1)) == 0 ? cap - 1 : 0;
    segment_.track(ctl_->written);
}

void RingBuffer::count_stale() noexcept {
    ctl_->stale_writes.fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t RingBuffer::write_multi(const std::uint64_t *words, std::size_t n) noexcept {
    if (n == 0) return head();
    const std::uint64_t first = ctl_->head.fetch_add(n, std::memory_order_acq_rel);
    SHMDS_FAILPOINT("ringbuffer.write_multi.claimed");
    for (std::size_t i = 0; i < n; ++i) commit(first + i, words[i]);
    SHMDS_FAILPOINT("ringbuffer.write_multi.unwoken");
    wake_sleepers();
    return first;
}

int RingBuffer::read(std::uint64_t seq, std::uint64_t *word) const noexcept {
    return read_below(seq, head(), word);
}

// read() against a head the caller already loaded.
int RingBuffer::read_below(std::uint64_t seq, std::uint64_t head, std::uint64_t *word) const noexcept {
    if (seq >= head) return kNotWritten;
    Slot *slot = slot_of(seq);
    for (;;) {
        // The tag only ever grows (every commit installs a larger one), so the same tag
        // before and after the value load means no commit came in between.
        const std::uint64_t tag = __atomic_load_n(&slot->lo, __ATOMIC_ACQUIRE);
        const std::uint64_t value = __atomic_load_n(&slot->hi, __ATOMIC_ACQUIRE);
        if (__atomic_load_n(&slot->lo, __ATOMIC_ACQUIRE) != tag) continue;  // a commit raced
        if (tag == seq + 1) {
            *word = value;
            return 0;
        }
        // Older: claimed, but its writer has not committed (or was killed first).
        return tag > seq + 1 ? kOverwritten : kNotWritten;
    }
}

int RingBuffer::latest(std::uint64_t n, std::uint64_t *word, std::uint64_t *seq) const noexcept {
    const std::uint64_t h = head();
    if (n >= h) return kNotWritten;
    if (seq) *seq = h - 1 - n;
    if (n >= geom_.capacity) return kOverwritten;
    return read_below(h - 1 - n, h, word);
}

int RingBuffer::to_list(std::uint64_t *words, std::uint64_t *seqs, std::size_t max,
                        std::size_t *count) const noexcept {
    const std::uint64_t h = head();
    const std::uint64_t first = h > geom_.capacity ? h - geom_.capacity : 0;
    const std::uint64_t window = h - first;  // <= capacity
    if (max < window) {
        *count = std::size_t(window);
        return core::fail(-ENOBUFS, "the ring buffer holds {} values; the buffer has room for {}",
                          window, max);
    }
    std::size_t got = 0;
    for (std::uint64_t s = first; s < h; ++s) {
        std::uint64_t w;
        if (read_below(s, h, &w) != 0) continue;  // overwritten meanwhile, or never committed
        words[got] = w;
        if (seqs) seqs[got] = s;
        ++got;
    }
    *count = got;
    return 0;
}

bool RingBuffer::committed_from(std::uint64_t count) const noexcept {
    const std::uint64_t h = head();
    if (h <= count) return false;
    // Sequence s sits in slot s mod capacity and a slot's tag only grows, so a tag above
    // `count` in the slot of any claimed s >= count means a write >= count committed.
    // The last `capacity` claimed sequences cover every slot; usually there is one.
    const std::uint64_t from = h - count > geom_.capacity ? h - geom_.capacity : count;
    for (std::uint64_t s = h; s-- > from;)
        if (__atomic_load_n(&slot_of(s)->lo, __ATOMIC_ACQUIRE) > count) return true;
    return false;
}

int RingBuffer::wait_for(std::uint64_t count, const Deadline &dl) noexcept {
    auto passed = [&] { return committed_from(count); };
    const int r = core::block_on(
        ctl_->written, dl, [&] { return passed() ? 0 : -EAGAIN; }, passed);
    if (r == -EAGAIN)
        return core::fail(-EAGAIN, "no write of sequence {} or later is committed (count {})",
                          count, head());
    if (r == -ETIMEDOUT)
        return core::fail(-ETIMEDOUT,
                          "no write of sequence {} or later was committed by the deadline", count);
    return r;
}

void RingBuffer::stats(Stats &s) const noexcept {
    s = Stats{};
    const std::uint64_t h = head();
    s.capacity = geom_.capacity;
    s.count = h;
    s.size = h < geom_.capacity ? h : geom_.capacity;
    s.overwrites = h - s.size;
    s.stale_writes = ctl_->stale_writes.load(std::memory_order_relaxed);
    s.recoveries = segment_.recoveries();
    s.segment_bytes = geom_.total;
    s.waiters = core::waitpoint_sleepers(ctl_->written);
}

}  // namespace shmds::ringbuffer
