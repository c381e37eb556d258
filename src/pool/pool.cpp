#include "pool/pool.hpp"

#include "core/block.hpp"
#include "core/probe_throttle.hpp"

#include <cstring>

namespace shmds::pool {

int Pool::create(const shmds_options_t *opts, const Config &cfg, std::unique_ptr<Pool> &out) {
    return core::EngineFactory::create(opts, cfg, "pool", out);
}

int Pool::open(const shmds_options_t *opts, std::uint32_t wanted_variant,
               std::unique_ptr<Pool> &out) {
    return core::EngineFactory::open(opts, wanted_variant, kRawVariant, "pool", out);
}

namespace {
core::SegmentShape shape_of(const Geometry &g) {
    static_assert(kGeomCapacity == 0 && kGeomSize == 1);
    const std::uint32_t align = g.form == Form::raw ? 1 : g.form == Form::bytes ? 4 : std::uint32_t(g.size);
    return core::SegmentShape::of(g.variant, std::uint32_t(g.stride), align, g.total,
                                  layout_hash(g.variant), {g.capacity, g.size});
}
}  // namespace

int Pool::describe(core::SegmentShape &s) {
    if (int r = compute_geometry(requested_.variant, requested_.capacity, requested_.size, geom_))
        return r;
    s = shape_of(geom_);
    return 0;
}

int Pool::reshape(std::uint32_t v, const std::uint64_t (&geometry)[core::kGeometryWords],
                  core::SegmentShape &s) {
    // Number variants store their width as the size word; compute_geometry wants 0.
    const bool sized = v == kRawVariant || v == std::uint32_t(ElemType::bytes);
    if (int r = compute_geometry(v, geometry[kGeomCapacity], sized ? geometry[kGeomSize] : 0,
                                 geom_))
        return r;
    s = shape_of(geom_);
    return 0;
}

void Pool::initialize(std::uint8_t *base) noexcept {
    // The segment arrives zeroed: every owner word 0 (free), every slot zero.
    auto *ctl = reinterpret_cast<PoolControl *>(base + geom_.control_off);
    core::waitpoint_init(ctl->freed);
}

void Pool::bind(std::uint8_t *base) noexcept {
    ctl_ = reinterpret_cast<PoolControl *>(base + geom_.control_off);
    owners_ = reinterpret_cast<OwnerWord *>(base + geom_.owners_off);
    data_ = base + geom_.data_off;
    segment_.track(ctl_->freed);
}

std::uint64_t Pool::cursor_for(OwnerToken me) noexcept {
    if (SHMDS_LIKELY(cursor_owner_.load(std::memory_order_relaxed) == me)) {
        const std::uint64_t c = cursor_.load(std::memory_order_relaxed);
        return c < geom_.capacity ? c : 0;
    }
    // A new process (or a fork child with its parent's handle): start at a place of our
    // own, on a cache-line boundary of owner words, so that processes allocating at
    // once mostly touch different lines.
    const std::uint64_t h = (std::uint64_t(core::owner_pid(me)) * 0x9E3779B97F4A7C15ull) >> 20;
    constexpr std::uint64_t kPerLine = kCacheLine / sizeof(OwnerWord);
    std::uint64_t start = h % geom_.capacity;
    start -= start % kPerLine;
    cursor_.store(start, std::memory_order_relaxed);
    cursor_owner_.store(me, std::memory_order_relaxed);
    return start;
}

void Pool::zero_slot(std::uint64_t index) noexcept {
    if (geom_.form == Form::raw || geom_.form == Form::bytes)
        std::memset(slot(index), 0, geom_.stride);
    else
        store_bits(index, 0);
}

int Pool::check_index(std::uint64_t index, const char *what) const noexcept {
    if (SHMDS_LIKELY(index < geom_.capacity)) return 0;
    return core::fail(-EINVAL, "{}: slot {} is out of range (the pool has {} slots)", what, index,
                      geom_.capacity);
}

// The pool looked full. Reclaim dead owners' slots when a probe is due, and look again.
int Pool::alloc_slow(std::uint64_t *index) noexcept {
    if (!core::try_probe_due(ctl_) || reclaim_dead() == 0) return -EAGAIN;
    return scan_take(core::self_owner(), index);
}

bool Pool::any_free() const noexcept { return free_at_least(1); }

bool Pool::free_at_least(std::size_t n) const noexcept {
    std::size_t seen = 0;
    for (std::uint64_t i = 0; i < geom_.capacity; ++i)
        if (owners_[i].load(std::memory_order_relaxed) == 0 && ++seen >= n) return true;
    return false;
}

int Pool::alloc(const Deadline &dl, std::uint64_t *index) noexcept {
    const int r = core::block_on(ctl_->freed, dl, [&] { return try_alloc(index); },
                                 [&] { return any_free(); });
    if (r == -EAGAIN) return core::fail(-EAGAIN, "every one of the pool's {} slots is allocated",
                                        geom_.capacity);
    if (r == -ETIMEDOUT)
        return core::fail(-ETIMEDOUT, "no pool slot was freed by the deadline ({} slots)",
                          geom_.capacity);
    return r;
}

// One attempt at n slots: take free slots one by one; if fewer than n are free, give
// back the ones taken (and wake: a sleeper may have looked while we held them).
int Pool::take_n(std::size_t n, std::uint64_t *indices) noexcept {
    const OwnerToken me = core::self_owner();
    for (int round = 0; round < 2; ++round) {
        std::size_t got = 0;
        const std::uint64_t start = cursor_for(me);
        for (std::uint64_t k = 0; k < geom_.capacity && got < n; ++k) {
            const std::uint64_t i = start + k < geom_.capacity ? start + k : start + k - geom_.capacity;
            if (!try_take(i, me)) continue;
            indices[got++] = i;
            if (got == 1) SHMDS_FAILPOINT("pool.alloc_n.partial");
        }
        if (got == n) {
            for (std::size_t j = 0; j < n; ++j) zero_slot(indices[j]);
            return 0;
        }
        for (std::size_t j = 0; j < got; ++j)
            owners_[indices[j]].store(0, std::memory_order_release);
        if (got) wake_sleepers(int(got));
        if (round == 0 && !(core::try_probe_due(ctl_) && reclaim_dead() > 0)) break;
    }
    return -EAGAIN;
}

int Pool::alloc_n(std::size_t n, std::uint64_t *indices, const Deadline &dl) noexcept {
    if (n > geom_.capacity)
        return core::fail(-EINVAL, "alloc_n: {} slots asked of a pool of {}", n, geom_.capacity);
    if (n == 0) return 0;
    const int r = core::block_on(ctl_->freed, dl, [&] { return take_n(n, indices); },
                                 [&] { return free_at_least(n); });
    if (r == -EAGAIN)
        return core::fail(-EAGAIN, "fewer than {} of the pool's {} slots are free", n,
                          geom_.capacity);
    if (r == -ETIMEDOUT)
        return core::fail(-ETIMEDOUT, "{} pool slots were not free together by the deadline", n);
    return r;
}

int Pool::free_n(const std::uint64_t *indices, std::size_t n, std::size_t *freed) noexcept {
    for (std::size_t j = 0; j < n; ++j)
        if (indices[j] >= geom_.capacity)
            return core::fail(-EINVAL, "free_n: indices[{}] = {} is out of range (the pool has "
                                       "{} slots); nothing freed",
                              j, indices[j], geom_.capacity);
    std::size_t done = 0;
    for (std::size_t j = 0; j < n; ++j) {
        OwnerWord &w = owners_[indices[j]];
        OwnerToken cur = w.load(std::memory_order_relaxed);
        while (cur != 0)
            if (w.compare_exchange_weak(cur, 0, std::memory_order_release,
                                        std::memory_order_relaxed)) {
                ++done;
                break;
            }
    }
    if (n) cursor_.store(indices[n - 1], std::memory_order_relaxed);
    SHMDS_FAILPOINT("pool.free_n.unwoken");
    if (done) wake_sleepers(done > INT_MAX ? INT_MAX : int(done));
    if (freed) *freed = done;
    return 0;
}

std::uint64_t Pool::reset() noexcept {
    std::uint64_t was = 0;
    for (std::uint64_t i = 0; i < geom_.capacity; ++i)
        if (owners_[i].exchange(0, std::memory_order_acq_rel) != 0) ++was;
    if (was) wake_sleepers(INT_MAX);
    return was;
}

namespace {
// Liveness verdicts of the tokens met during one reclaim pass: a full pool usually
// belongs to a handful of processes, so this keeps the /proc reads to one per process.
class LivenessCache {
public:
    bool dead(OwnerToken t) noexcept {
        for (int i = 0; i < n_; ++i)
            if (tokens_[i] == t) return dead_[i];
        const bool d = !core::owner_alive(t);
        const int at = n_ < kSize ? n_++ : int(next_++ % kSize);
        tokens_[at] = t;
        dead_[at] = d;
        return d;
    }

private:
    static constexpr int kSize = 16;
    OwnerToken tokens_[kSize];
    bool dead_[kSize];
    int n_ = 0;
    unsigned next_ = 0;
};
}  // namespace

std::uint64_t Pool::reclaim_dead() noexcept {
    const OwnerToken me = core::self_owner();
    LivenessCache verdicts;
    std::uint64_t got = 0;
    for (std::uint64_t i = 0; i < geom_.capacity; ++i) {
        OwnerToken t = owners_[i].load(std::memory_order_relaxed);
        if (t == 0 || t == me || !verdicts.dead(t)) continue;
        // Only that dead token is replaced: a slot freed and taken again meanwhile keeps
        // its new, live owner.
        if (owners_[i].compare_exchange_strong(t, 0, std::memory_order_acq_rel,
                                               std::memory_order_relaxed))
            ++got;
    }
    if (got) {
        segment_.header().recoveries.fetch_add(got, std::memory_order_relaxed);
        wake_sleepers(got > INT_MAX ? INT_MAX : int(got));
    }
    return got;
}

std::uint64_t Pool::recover_stale() noexcept { return reclaim_dead(); }

std::uint64_t Pool::used() const noexcept {
    std::uint64_t n = 0;
    for (std::uint64_t i = 0; i < geom_.capacity; ++i)
        if (owners_[i].load(std::memory_order_relaxed) != 0) ++n;
    return n;
}

int Pool::each_allocated(SlotVisitor visit, void *ctx) const noexcept {
    for (std::uint64_t i = 0; i < geom_.capacity; ++i) {
        const OwnerToken t = owners_[i].load(std::memory_order_acquire);
        if (t == 0) continue;
        if (int r = visit(i, core::owner_pid(t), ctx)) return r;
    }
    return 0;
}

int Pool::allocated(std::uint64_t *out, std::size_t max, std::size_t *count) const noexcept {
    std::size_t n = 0;
    for (std::uint64_t i = 0; i < geom_.capacity; ++i) {
        if (owners_[i].load(std::memory_order_acquire) == 0) continue;
        if (n < max) out[n] = i;
        ++n;
    }
    *count = n;
    if (n > max)
        return core::fail(-ENOBUFS, "{} pool slots are allocated; the buffer has room for {}", n,
                          max);
    return 0;
}

void Pool::stats(Stats &s) const noexcept {
    s = Stats{};
    s.capacity = geom_.capacity;
    s.used = used();
    s.available = s.capacity - s.used;
    s.elem_size = geom_.stride;
    s.max_len = geom_.form == Form::bytes ? geom_.size : 0;
    s.recoveries = segment_.recoveries();
    s.segment_bytes = geom_.total;
    s.waiters = core::waitpoint_sleepers(ctl_->freed);
}

// ---- number slots: one atomic of the type's width (1, 2, 4 or 8 bytes).

namespace {
template <typename U>
U *at(std::uint8_t *p) noexcept {
    return reinterpret_cast<U *>(p);
}
}  // namespace

#define POOL_BY_WIDTH(p, EXPR)                                \
    switch (geom_.size) {                                     \
        case 1: { using U = std::uint8_t; U *q = at<U>(p); EXPR; } \
        case 2: { using U = std::uint16_t; U *q = at<U>(p); EXPR; } \
        case 4: { using U = std::uint32_t; U *q = at<U>(p); EXPR; } \
        default: { using U = std::uint64_t; U *q = at<U>(p); EXPR; } \
    }

std::uint64_t Pool::load_bits(std::uint64_t index) const noexcept {
    POOL_BY_WIDTH(slot(index), return std::uint64_t(__atomic_load_n(q, __ATOMIC_ACQUIRE)))
}

void Pool::store_bits(std::uint64_t index, std::uint64_t bits) noexcept {
    POOL_BY_WIDTH(slot(index), __atomic_store_n(q, U(bits), __ATOMIC_RELEASE); return)
}

std::uint64_t Pool::exchange_bits(std::uint64_t index, std::uint64_t bits) noexcept {
    POOL_BY_WIDTH(slot(index), return std::uint64_t(__atomic_exchange_n(q, U(bits), __ATOMIC_ACQ_REL)))
}

bool Pool::cas_bits(std::uint64_t index, std::uint64_t *expected, std::uint64_t desired) noexcept {
    POOL_BY_WIDTH(slot(index), {
        U e = U(*expected);
        const bool ok = __atomic_compare_exchange_n(q, &e, U(desired), false, __ATOMIC_ACQ_REL,
                                                    __ATOMIC_ACQUIRE);
        *expected = e;
        return ok;
    })
}

std::uint64_t Pool::add_bits(std::uint64_t index, std::uint64_t delta) noexcept {
    POOL_BY_WIDTH(slot(index), return std::uint64_t(__atomic_add_fetch(q, U(delta), __ATOMIC_ACQ_REL)))
}

#undef POOL_BY_WIDTH

// ---- bytes slots: a u32 length, then max_len bytes. Not atomic: the owner's business.

int Pool::get_bytes(std::uint64_t index, void *buf, std::size_t cap, std::size_t *len) const noexcept {
    const std::uint8_t *p = slot(index);
    std::uint32_t n;
    std::memcpy(&n, p, sizeof n);
    if (n > geom_.size)
        return core::fail(SHMDS_ECORRUPT, "pool slot {} claims {} bytes; max_len is {}", index, n,
                          geom_.size);
    *len = n;
    if (cap < n)
        return core::fail(-ENOBUFS, "pool slot {} holds {} bytes; the buffer has room for {}",
                          index, n, cap);
    if (n) std::memcpy(buf, p + sizeof n, n);
    return 0;
}

int Pool::set_bytes(std::uint64_t index, const void *data, std::size_t len) noexcept {
    if (len > geom_.size)
        return core::fail(-E2BIG, "{} bytes do not fit a pool slot of max_len {}", len, geom_.size);
    std::uint8_t *p = slot(index);
    const std::uint32_t n = std::uint32_t(len);
    if (n) std::memcpy(p + sizeof n, data, n);
    std::memcpy(p, &n, sizeof n);
    return 0;
}

}  // namespace shmds::pool
