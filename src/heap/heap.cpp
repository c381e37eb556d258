#include "heap/heap.hpp"

#include <cstring>

namespace shmds::heap {

using core::RobustLock;
using core::add_locked;

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;
constexpr auto kRelease = std::memory_order_release;
core::SegmentShape shape_of(const Geometry &g) {
    static_assert(kGeomCapacity == 0 && kGeomMaxLen == 1 && kGeomFlags == 2);
    return core::SegmentShape::of(std::uint32_t(g.type), g.stride, 8, g.total,
                                  layout_hash(g.type), {g.capacity, g.max_len, g.flags});
}

const char kNoun[] = "heap";
}  // namespace

int Heap::create(const shmds_options_t *opts, const Config &cfg, std::unique_ptr<Heap> &out) {
    return core::EngineFactory::create(opts, cfg, kNoun, out);
}

int Heap::open(const shmds_options_t *opts, std::uint32_t wanted_type,
               std::unique_ptr<Heap> &out) {
    return core::EngineFactory::open(opts, wanted_type, std::uint32_t(ElemType::bytes), kNoun,
                                     out);
}

int Heap::describe(core::SegmentShape &s) {
    if (int r = compute_geometry(requested_.variant, requested_.capacity, requested_.max_len,
                                 requested_.flags, geom_))
        return r;
    s = shape_of(geom_);
    return 0;
}

int Heap::reshape(std::uint32_t v, const std::uint64_t (&geometry)[core::kGeometryWords],
                  core::SegmentShape &s) {
    if (int r = compute_geometry(ElemType(v), geometry[kGeomCapacity], geometry[kGeomMaxLen],
                                 geometry[kGeomFlags], geom_))
        return r;
    s = shape_of(geom_);
    return 0;
}

void Heap::initialize(std::uint8_t *base) noexcept {
    auto *ctl = reinterpret_cast<Control *>(base + geom_.control_off);
    core::robust_mutex_init(ctl->mutex);
    core::waitpoint_init(ctl->not_empty);
    core::waitpoint_init(ctl->not_full);
    // Every other word starts zeroed: size 0, sequence 0, no journal.
}

void Heap::bind(std::uint8_t *base) noexcept {
    ctl_ = reinterpret_cast<Control *>(base + geom_.control_off);
    data_ = base + geom_.data_off;
    max_ = (geom_.flags & kFlagMax) != 0;
    segment_.track(ctl_->not_full);
    segment_.track(ctl_->not_empty);
}

int Heap::check_items(const Items &items, std::size_t n) const noexcept {
    if (!is_bytes()) return 0;
    for (std::size_t i = 0; i < n; ++i)
        if (items.lens[i] > geom_.max_len)
            return core::fail(-E2BIG, "heap item {} is {} bytes, over the heap's max_len {}", i,
                              items.lens[i], geom_.max_len);
    return 0;
}

// ---------------------------------------------------------------- entries and order

EntryKey Heap::key(std::uint64_t i) const noexcept {
    EntryKey k;
    std::memcpy(&k, entry(i), sizeof k);
    return k;
}

// a leaves before b: the lower priority (the higher for a max-heap), then the earlier
// push. Sequences are unique, so this is a strict total order and pops are
// deterministic.
bool Heap::before(const EntryKey &a, const EntryKey &b) const noexcept {
    if (a.priority != b.priority) return max_ ? a.priority > b.priority : a.priority < b.priority;
    return a.sequence < b.sequence;
}

void Heap::copy_entry(std::uint8_t *dst, const std::uint8_t *src) const noexcept {
    if (!is_bytes()) {
        std::memcpy(dst, src, kValueOff + sizeof(std::int64_t));
        return;
    }
    // Only the used bytes: a 1 MiB max_len must not cost 1 MiB per sift step. The
    // length is clamped, so a scribbled one cannot run past the entry.
    std::uint32_t len;
    std::memcpy(&len, src + kValueOff, sizeof len);
    if (len > geom_.max_len) len = std::uint32_t(geom_.max_len);
    std::memmove(dst, src, kValueOff + kBytesLenField + len);
}

// ---------------------------------------------------------------- sifting

// The moving entry (moving()) travels up from `hole` under the journal {kOpSiftUp,
// hole, n}; returns the final hole. Each step copies the parent into the hole, then moves the hole with one
// store: killed between the two, the copy is a duplicate the journal excludes.
std::uint64_t Heap::sift_up(std::uint64_t hole,
                            [[maybe_unused]] const char *step_failpoint) noexcept {
    const EntryKey m = key(geom_.capacity);
    while (hole > 0) {
        const std::uint64_t parent = (hole - 1) / 2;
        if (!before(m, key(parent))) break;
        copy_entry(entry(hole), entry(parent));
        SHMDS_FAILPOINT(step_failpoint);
        ctl_->hole.store(parent, kRelease);
        hole = parent;
    }
    return hole;
}

// The same, down from `hole` in a heap of n entries (heapify's); returns the final hole. Indices
// are 64-bit: 2 * hole + 2 cannot overflow for hole < 2^31.
std::uint64_t Heap::sift_down(std::uint64_t hole, std::uint64_t n) noexcept {
    const EntryKey m = key(geom_.capacity);
    for (;;) {
        std::uint64_t child = 2 * hole + 1;
        if (child >= n) break;
        EntryKey ck = key(child);
        if (child + 1 < n) {
            const EntryKey right = key(child + 1);
            if (before(right, ck)) {
                ++child;
                ck = right;
            }
        }
        if (!before(ck, m)) break;
        copy_entry(entry(hole), entry(child));
        ctl_->hole.store(child, kRelease);
        hole = child;
    }
    return hole;
}

// A pop's sift, bottom-up (Floyd): the hole goes down to a leaf along the first
// children, one comparison per level, then the moving entry (the last leaf, which
// usually belongs near the bottom) climbs from there, usually not at all. Half the
// comparisons of a plain sift-down; every step keeps the journal's invariant.
std::uint64_t Heap::sift_root_down(std::uint64_t n) noexcept {
    std::uint64_t hole = 0;
    for (;;) {
        std::uint64_t child = 2 * hole + 1;
        if (child >= n) break;
        if (child + 1 < n && before(key(child + 1), key(child))) ++child;
        copy_entry(entry(hole), entry(child));
        SHMDS_FAILPOINT("heap.pop.sift_step");
        ctl_->hole.store(child, kRelease);
        hole = child;
    }
    return sift_up(hole, "heap.pop.sift_step");
}

// The end of every sift: the moving entry takes the hole, then the journal closes
// (size first: between the two stores a repair would redo this same placement).
void Heap::settle(std::uint64_t hole, std::uint64_t n) noexcept {
    copy_entry(entry(hole), moving());
    ctl_->size.store(n, kRelease);
    ctl_->op.store(kOpNone, kRelease);
}

// Floyd's bottom-up build, each sift journaled like a pop's, so a repairer killed
// here leaves a journal the next repairer finishes. O(n) comparisons.
void Heap::heapify(std::uint64_t n) noexcept {
    for (std::uint64_t i = n / 2; i-- > 0;) {
        copy_entry(moving(), entry(i));
        ctl_->hole.store(i, kRelaxed);
        ctl_->jsize.store(n, kRelaxed);
        ctl_->op.store(kOpSiftDown, kRelease);
        settle(sift_down(i, n), n);
    }
}

// A journal left open (its holder died mid-sift) or a control block that breaks an
// invariant. An open journal is finished by putting the moving entry into the hole
// and re-heapifying: the heap's contents are exactly what the journal says, in some
// order. A journal out of bounds cannot be trusted: the heap is emptied.
Heap::Found Heap::repair_locked() noexcept {
    const std::uint64_t op = ctl_->op.load(kRelaxed);
    const std::uint64_t size = ctl_->size.load(kRelaxed);
    if (op == kOpNone) {
        if (size <= geom_.capacity) return Found::nothing;
    } else if (op == kOpSiftUp || op == kOpSiftDown) {
        const std::uint64_t n = ctl_->jsize.load(kRelaxed);
        const std::uint64_t hole = ctl_->hole.load(kRelaxed);
        if (n <= geom_.capacity && hole < n) {
            settle(hole, n);
            heapify(n);
            return Found::journal;
        }
    }
    ctl_->size.store(0, kRelease);
    ctl_->op.store(kOpNone, kRelease);
    return Found::damage;
}

// After a takeover (which the lock counts): damage is one more recovery; an open
// journal is what a dead holder leaves, part of the takeover.
void Heap::repair(void *self) noexcept {
    auto *h = static_cast<Heap *>(self);
    if (h->repair_locked() == Found::damage)
        h->segment_.header().recoveries.fetch_add(1, kRelaxed);
}

std::uint64_t Heap::checked_size() noexcept {
    if (SHMDS_UNLIKELY(ctl_->op.load(kRelaxed) != kOpNone ||
                       ctl_->size.load(kRelaxed) > geom_.capacity)) {
        // A live holder always closes its journal before unlocking: only damage (or a
        // lock word a peer scribbled free) gets here. Counted once.
        if (repair_locked() != Found::nothing)
            segment_.header().recoveries.fetch_add(1, kRelaxed);
    }
    return ctl_->size.load(kRelaxed);
}

// ---------------------------------------------------------------- push and pop

// Push one item into a heap of n < capacity entries. The op store (in place: the size
// store) is the commit.
//
// An entry that already belongs at the end (its parent leaves first: a stream of rising
// priorities, and most pushes of random ones) is written straight into slot n, outside
// [0, n), and the size store commits it: no journal and no moving entry, so a push
// writes neither the moving slot's line, which every pop writes too, nor the journal.
int Heap::push_one_locked(std::int64_t priority, const Items &items, std::size_t i,
                          std::uint64_t n) noexcept {
    const std::uint64_t seq = ctl_->next_seq.load(kRelaxed);
    const EntryKey k{priority, seq};
    const bool in_place = n == 0 || !before(k, key((n - 1) / 2));
    std::uint8_t *m = in_place ? entry(n) : moving();
    std::memcpy(m, &k, sizeof k);
    if (is_bytes()) {
        const std::uint32_t len = std::uint32_t(items.lens[i]);
        std::memcpy(m + kValueOff, &len, sizeof len);
        if (len) std::memcpy(m + kValueOff + kBytesLenField, items.datas[i], len);
    } else {
        std::memcpy(m + kValueOff, &items.ints[i], sizeof(std::int64_t));
    }
    SHMDS_FAILPOINT("heap.push.written");
    ctl_->next_seq.store(seq + 1, kRelaxed);
    if (in_place) {
        ctl_->size.store(n + 1, kRelease);  // commit: the item is in
        SHMDS_FAILPOINT("heap.push.committed");
        return 0;
    }
    ctl_->hole.store(n, kRelaxed);
    ctl_->jsize.store(n + 1, kRelaxed);
    ctl_->op.store(kOpSiftUp, kRelease);  // commit: the item is in
    SHMDS_FAILPOINT("heap.push.committed");
    const std::uint64_t hole = sift_up(n, "heap.push.sift_step");
    settle(hole, n + 1);
    return 0;
}

// Remove the root of a heap of n >= 1 entries (already copied out). The op store (or,
// for the last entry, the size store) is the commit.
void Heap::remove_root_locked(std::uint64_t n) noexcept {
    if (n == 1) {
        ctl_->size.store(0, kRelease);  // commit
        SHMDS_FAILPOINT("heap.pop.committed");
        return;
    }
    copy_entry(moving(), entry(n - 1));
    ctl_->hole.store(0, kRelaxed);
    ctl_->jsize.store(n - 1, kRelaxed);
    ctl_->op.store(kOpSiftDown, kRelease);  // commit: the root is out
    SHMDS_FAILPOINT("heap.pop.committed");
    settle(sift_root_down(n - 1), n - 1);
}

int Heap::push_locked(const Items &items, std::size_t n, std::size_t *pushed) noexcept {
    std::uint64_t size = checked_size();
    const std::size_t before = *pushed;
    while (*pushed < n && size < geom_.capacity) {
        push_one_locked(items.priorities[*pushed], items, *pushed, size);
        ++size;
        ++*pushed;
    }
    add_locked(ctl_->push_ok, *pushed - before);
    return *pushed == n ? 0 : -EAGAIN;
}

// Copy entry e out to out[i]; `used` is the bytes already packed into out.buf.
// 0; -ENOBUFS (does not fit: lens[i] = its length); SHMDS_ECORRUPT (a stored length
// over max_len).
int Heap::read_item(const std::uint8_t *e, const Out &out, std::size_t i,
                    std::size_t &used) const noexcept {
    EntryKey k;
    std::memcpy(&k, e, sizeof k);
    if (!is_bytes()) {
        if (out.priorities) out.priorities[i] = k.priority;
        std::memcpy(&out.ints[i], e + kValueOff, sizeof(std::int64_t));
        return 0;
    }
    std::uint32_t len;
    std::memcpy(&len, e + kValueOff, sizeof len);
    if (len > geom_.max_len)
        return core::fail(SHMDS_ECORRUPT, "heap entry says {} bytes, over max_len {}", len,
                          geom_.max_len);
    out.lens[i] = len;
    if (len > out.buf_size - used)
        return core::fail(-ENOBUFS, "heap item is {} bytes, the buffer has {} left", len,
                          out.buf_size - used);
    if (out.priorities) out.priorities[i] = k.priority;
    if (len) std::memcpy(static_cast<std::uint8_t *>(out.buf) + used, e + kValueOff + kBytesLenField, len);
    used += len;
    return 0;
}

int Heap::pop_locked(const Out &out, std::size_t max, std::size_t *got) noexcept {
    std::uint64_t size = checked_size();
    std::size_t used = 0;
    int r = 0;
    const std::size_t before = *got;
    while (*got < max && size > 0) {
        std::size_t used_now = used;
        r = read_item(entry(0), out, *got, used_now);
        if (r == -ENOBUFS) {
            if (*got > before) r = 0;  // the batch stops here; the item stays
            break;
        }
        SHMDS_FAILPOINT("heap.pop.copied");
        // A damaged entry is removed too (it can never be delivered) and reported.
        remove_root_locked(size);
        --size;
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

// ---------------------------------------------------------------- locking and waking


core::PlainLock Heap::lock() noexcept {
    return {ctl_->mutex, &Heap::repair, this, &segment_.header().recoveries};
}

void Heap::wake(core::WaitPoint &wp, std::size_t n, [[maybe_unused]] const char *unwoken) noexcept {
    // After the unlock: a woken process on this CPU may run at once and would find the
    // lock held. A process killed here has committed and wakes nobody; sleepers look
    // again on their own within core::kWakeBoundNs.
    SHMDS_FAILPOINT(unwoken);
    core::waitpoint_wake(wp, int(n > 1024 ? 1024 : n));
}

int Heap::try_push_i64(std::int64_t priority, std::int64_t value) noexcept {
    core::prefetch_for_write(&ctl_->mutex);  // a read, then the CAS: see try_pop_i64
    if (looks_full()) return -EAGAIN;  // waiting for room never takes the lock
    if (SHMDS_UNLIKELY(!core::stamp_try_lock_polled(ctl_->mutex.word))) return -EAGAIN;
    SHMDS_FAILPOINT("heap.push.locked");
    const std::uint64_t n = ctl_->size.load(kRelaxed);
    if (SHMDS_UNLIKELY(n >= geom_.capacity || ctl_->op.load(kRelaxed) != kOpNone)) {
        lock().release();  // full or damaged: the checked path
        return -EAGAIN;
    }
    const Items items{&priority, &value};
    push_one_locked(priority, items, 0, n);
    add_locked(ctl_->push_ok, 1);
    lock().release();
    wake(ctl_->not_empty, 1, "heap.push.unwoken");
    return 0;
}

int Heap::try_pop_i64(std::int64_t *priority, std::int64_t *value) noexcept {
    // The emptiness check reads the lock's line and the lock's CAS then writes it: asked
    // for as a write from the start, the line crosses from the pusher's CPU once, not
    // twice (shared for the read, then again exclusive for the CAS).
    core::prefetch_for_write(&ctl_->mutex);
    if (looks_empty()) return -EAGAIN;  // polling an empty heap never takes the lock
    if (SHMDS_UNLIKELY(!core::stamp_try_lock_polled(ctl_->mutex.word))) return -EAGAIN;
    SHMDS_FAILPOINT("heap.pop.locked");
    const std::uint64_t n = ctl_->size.load(kRelaxed);
    if (SHMDS_UNLIKELY(n - 1 >= geom_.capacity || ctl_->op.load(kRelaxed) != kOpNone)) {
        lock().release();  // empty or damaged: the checked path
        return -EAGAIN;
    }
    const std::uint8_t *root = entry(0);
    std::memcpy(priority, root, sizeof *priority);
    std::memcpy(value, root + kValueOff, sizeof *value);
    SHMDS_FAILPOINT("heap.pop.copied");
    remove_root_locked(n);
    add_locked(ctl_->pop_ok, 1);
    lock().release();
    wake(ctl_->not_full, 1, "heap.pop.unwoken");
    return 0;
}

int Heap::push(const Items &items, std::size_t n, std::size_t *pushed,
               const Deadline &dl) noexcept {
    *pushed = 0;
    if (n == 0) return 0;
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
                    return core::lock_wait_timed_out(dl, "heap");
                }
                SHMDS_FAILPOINT("heap.push.locked");
                e = push_locked(items, n, pushed);
            }
            if (*pushed > before) wake(ctl_->not_empty, *pushed - before, "heap.push.unwoken");
            return e;
        },
        [&] { return !looks_full(); }, core::SpinPace::gentle,
        core::lock_passage(lock(), dl));
    if (r == 0 || lock_failed || (r != -EAGAIN && r != -ETIMEDOUT)) return r;
    ctl_->push_full.fetch_add(1, kRelaxed);  // once per refused call, not per wait
    if (r == -EAGAIN)
        return n == 1 ? core::fail_static(-EAGAIN, "full")
                      : core::fail(-EAGAIN, "heap full after {} of {} items", *pushed, n);
    return core::fail(-ETIMEDOUT, "heap stayed full until the deadline ({} of {} pushed)",
                      *pushed, n);
}

int Heap::pop(const Out &out, std::size_t max, std::size_t *got, const Deadline &dl) noexcept {
    *got = 0;
    if (max == 0) return 0;
    bool lock_failed = false;
    const int r = core::block_on(
        ctl_->not_empty, dl,
        [&] {
            if (looks_empty()) return -EAGAIN;
            int e;
            {
                const RobustLock held = lock().hold(core::lock_wait_deadline(dl));
                if (!held.owns()) {
                    lock_failed = true;
                    return core::lock_wait_timed_out(dl, "heap");
                }
                SHMDS_FAILPOINT("heap.pop.locked");
                e = pop_locked(out, max, got);
            }
            if (*got) wake(ctl_->not_full, *got, "heap.pop.unwoken");
            return e;
        },
        [&] { return !looks_empty(); }, core::SpinPace::gentle,
        core::lock_passage(lock(), dl));
    if (r == 0 || lock_failed || (r != -EAGAIN && r != -ETIMEDOUT)) return r;
    ctl_->pop_empty.fetch_add(1, kRelaxed);
    return r == -EAGAIN ? core::fail_static(-EAGAIN, "empty")
                        : core::fail(-ETIMEDOUT, "heap stayed empty until the deadline");
}

int Heap::peek(const Out &out) noexcept {
    const RobustLock held = lock().hold(Deadline::from_timeout(-1));
    if (!held.owns()) return SHMDS_ECORRUPT;  // without a deadline only a damaged word fails
    SHMDS_FAILPOINT("heap.peek.locked");
    if (checked_size() == 0) return core::fail(-EAGAIN, "heap is empty");
    std::size_t used = 0;
    return read_item(entry(0), out, 0, used);
}

std::uint64_t Heap::size() const noexcept {
    // Lock-free snapshot, clamped: a scribbled size never reports over the capacity.
    const std::uint64_t n = ctl_->size.load(std::memory_order_acquire);
    return n > geom_.capacity ? geom_.capacity : n;
}

std::int64_t Heap::clear() noexcept {
    std::uint64_t removed;
    {
        const RobustLock held = lock().hold(Deadline::from_timeout(-1));
        if (!held.owns()) return SHMDS_ECORRUPT;
        SHMDS_FAILPOINT("heap.clear.locked");
        removed = checked_size();
        ctl_->size.store(0, kRelease);  // commit
        SHMDS_FAILPOINT("heap.clear.committed");
        add_locked(ctl_->cleared, removed);
    }
    if (removed) wake(ctl_->not_full, removed, "heap.clear.unwoken");
    return std::int64_t(removed);
}

int Heap::stats(Stats &s) noexcept {
    s = Stats{};
    {
        const RobustLock held = lock().hold(Deadline::from_timeout(-1));
        if (!held.owns()) return SHMDS_ECORRUPT;
        SHMDS_FAILPOINT("heap.stats.locked");
        s.size = checked_size();
        s.push_ok = ctl_->push_ok.load(kRelaxed);
        s.pop_ok = ctl_->pop_ok.load(kRelaxed);
        s.cleared = ctl_->cleared.load(kRelaxed);
    }
    s.capacity = geom_.capacity;
    s.max_len = geom_.max_len;
    s.flags = geom_.flags;
    s.push_full = ctl_->push_full.load(kRelaxed);
    s.pop_empty = ctl_->pop_empty.load(kRelaxed);
    s.recoveries = segment_.recoveries();
    s.segment_bytes = geom_.total;
    s.push_waiters = core::waitpoint_sleepers(ctl_->not_full);
    s.pop_waiters = core::waitpoint_sleepers(ctl_->not_empty);
    return 0;
}

int Heap::check_heap_property() const noexcept {
    if (ctl_->op.load(std::memory_order_acquire) != kOpNone) return -1;
    const std::uint64_t n = ctl_->size.load(std::memory_order_acquire);
    if (n > geom_.capacity) return -1;
    for (std::uint64_t i = 1; i < n; ++i)
        if (before(key(i), key((i - 1) / 2))) return -1;
    return 0;
}

}  // namespace shmds::heap
