#include "queue/bytes_ring.hpp"

#include "core/error.hpp"
#include "core/failpoint.hpp"
#include "core/block.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace shmds::queue {

using core::Deadline;
using core::RobustLock;
using core::add_locked;

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;

}

int BytesRing::initialize(BytesControl *ctl) noexcept {
    core::robust_mutex_init(ctl->front_lock);
    core::robust_mutex_init(ctl->back_lock);
    ctl->head.store(0, kRelaxed);
    ctl->tail.store(0, kRelaxed);
    ctl->head_lowered.store(0, kRelaxed);
    ctl->tail_seen.store(0, kRelaxed);
    ctl->back_allocs.store(0, kRelaxed);
    ctl->popped.store(0, kRelaxed);
    ctl->push_ok.store(0, kRelaxed);
    ctl->pop_ok.store(0, kRelaxed);
    ctl->push_full.store(0, kRelaxed);
    ctl->pop_empty.store(0, kRelaxed);
    core::waitpoint_init(ctl->not_empty);
    core::waitpoint_init(ctl->not_full);
    return 0;
}

bool BytesRing::in_bounds(const BytesDesc &d) const noexcept {
    const std::uint64_t a = arena_size_;
    return d.start < a && d.alloc <= a && d.len <= d.alloc && d.off <= a && d.len <= a - d.off;
}

int BytesRing::check(const BytesDesc &d) const noexcept {
    if (!in_bounds(d))
        return core::fail(SHMDS_ECORRUPT,
                          "queue arena descriptor out of bounds (start {}, off {}, len {}, "
                          "alloc {}, arena {})",
                          d.start, d.off, d.len, d.alloc, arena_size_);
    return 0;
}

int BytesRing::count(std::uint64_t head, std::uint64_t tail) const noexcept {
    if (tail - head > cap_)
        return core::fail(SHMDS_ECORRUPT, "queue holds {} messages but its capacity is {}",
                          tail - head, cap_);
    return 0;
}

int BytesRing::fresh_frontiers(Frontiers &f) const noexcept {
    // Acquire: the end whose lock this caller does not hold may move meanwhile, and its
    // commit store publishes the arena bytes it filled or freed.
    f.head = ctl_->head.load(std::memory_order_acquire);
    f.tail = ctl_->tail.load(std::memory_order_acquire);
    if (int r = count(f.head, f.tail)) return r;
    const std::uint64_t n = f.tail - f.head;
    const BytesDesc last = descs_[(f.tail - 1) & (cap_ - 1)];
    if (n == 0) {
        // Empty: go on after the message last at tail - 1 (its descriptor stays after the
        // pop), so that where a push_back goes depends on tail alone, as it must for
        // remembered_frontiers. A damaged descriptor there (left by a repair that
        // emptied the ring) starts over at the arena's beginning.
        f.used = 0;
        f.read_at = f.write_at =
            in_bounds(last) ? (std::uint64_t(last.start) + last.alloc) % arena_size_ : 0;
        return 0;
    }
    const BytesDesc first = descs_[f.head & (cap_ - 1)];
    if (int r = check(first)) return r;
    if (int r = check(last)) return r;
    f.read_at = first.start;
    f.write_at = (std::uint64_t(last.start) + last.alloc) % arena_size_;
    // Equal frontiers with messages present means the arena is exactly full.
    f.used = f.write_at > f.read_at   ? f.write_at - f.read_at
             : f.write_at < f.read_at ? arena_size_ - f.read_at + f.write_at
                                      : arena_size_;
    if (first.alloc + (n > 1 ? last.alloc : 0) > f.used)
        return core::fail(SHMDS_ECORRUPT, "queue arena frontiers are inconsistent");
    return 0;
}

int BytesRing::push_locked(End end, const ByteSpan &msg, Frontiers &f) noexcept {
    const std::uint64_t a = arena_size_;
    // Every message takes at least one arena unit, so equal frontiers with messages
    // present can only mean "exactly full", even for empty messages.
    const std::uint64_t need = msg.len ? core::align_up(msg.len, kArenaAlign) : kArenaAlign;
    if (msg.len > a || need > a)
        return core::fail(-E2BIG, "message of {} bytes can never fit the {}-byte queue arena",
                          msg.len, a);
    if (f.tail - f.head >= cap_) return -EAGAIN;
    BytesDesc d{};
    d.len = std::uint32_t(msg.len);
    if (end == End::back) {
        const std::uint64_t at = f.write_at;
        const bool fits_at_end = need <= a - at;
        d.start = std::uint32_t(at);
        d.off = fits_at_end ? std::uint32_t(at) : 0;
        d.alloc = std::uint32_t(fits_at_end ? need : (a - at) + need);
    } else {
        const std::uint64_t at = f.read_at;
        const bool fits_before = need <= at;
        d.off = std::uint32_t(fits_before ? at - need : a - need);
        d.alloc = std::uint32_t(fits_before ? need : need + at);
        d.start = d.off;
    }
    if (f.used + d.alloc > a) return -EAGAIN;

    if (msg.len) std::memcpy(arena_ + d.off, msg.data, msg.len);
    SHMDS_FAILPOINT("queue.bytes.push.copied");
    if (end == End::back) {
        descs_[f.tail & (cap_ - 1)] = d;
        // Before the commit: a holder killed in between leaves the bound too high, never
        // too low (remembered_frontiers).
        add_locked(ctl_->back_allocs, d.alloc);
        SHMDS_FAILPOINT("queue.bytes.push.described");
        ctl_->tail.store(f.tail + 1, std::memory_order_release);  // commit
        f.tail += 1;
        f.write_at = (std::uint64_t(d.start) + d.alloc) % a;
        next_push_at_.store(f.write_at);
        if (f.tail - f.head == 1) f.read_at = d.start;
    } else {
        descs_[(f.head - 1) & (cap_ - 1)] = d;
        // Before the commit, so that no push_back goes on with a look at the front that
        // predates this message: killed after the commit, a late bump would let one
        // overwrite it (remembered_frontiers).
        add_locked(ctl_->head_lowered, 1);
        SHMDS_FAILPOINT("queue.bytes.push.described");
        ctl_->head.store(f.head - 1, std::memory_order_release);  // commit
        f.head -= 1;
        f.read_at = d.start;
        if (f.tail - f.head == 1) f.write_at = (std::uint64_t(d.start) + d.alloc) % a;
    }
    f.used += d.alloc;
    SHMDS_FAILPOINT("queue.bytes.push.committed");
    return 0;
}

// Every operation commits with one store, so a dead holder left a consistent ring unless
// memory itself is damaged. Check it; if it is beyond trust, empty it rather than let
// any process copy through a bad descriptor. Only the front lock's holder may move head,
// and messages pushed meanwhile at the back land past the tail seen here.
void BytesRing::check_or_empty() noexcept {
    Frontiers f;
    bool ok = fresh_frontiers(f) == 0;
    for (std::uint64_t i = f.head; ok && i != f.tail; ++i) ok = check(descs_[i & (cap_ - 1)]) == 0;
    if (ok) return;
    empty_to(f.tail);
    add_locked(ctl_->popped, 1, std::memory_order_release);
}

// Under the front lock: drop every message below `tail` with one commit, and take
// tail_seen along, so that a scribbled one cannot outlive the emptying and send later
// pops to uncommitted descriptors.
void BytesRing::empty_to(std::uint64_t tail) noexcept {
    ctl_->tail_seen.store(tail, kRelaxed);
    ctl_->head.store(tail, std::memory_order_release);  // commit
}

// For a takeover of either lock while the front lock is held (taken or taken over).
void BytesRing::repair_front(void *self) noexcept {
    static_cast<BytesRing *>(self)->check_or_empty();
}

// Taken over alone, the back lock's holder may not move head, and it must not wait for
// the front lock either (front comes first: a push_front holding it may be waiting for
// us). So it only tries: a free front lock (the usual case) or a dead holder's is taken
// and the ring checked; a busy one leaves damage to be reported (SHMDS_ECORRUPT) until
// the next repair or clear.
void BytesRing::repair_back_alone(void *self) noexcept {
    auto *ring = static_cast<BytesRing *>(self);
    const RobustLock front = ring->front_lock().hold(Deadline::from_timeout(0));
    if (front.result() == core::LockResult::acquired) ring->check_or_empty();
}

// Wake the sleepers `changed` messages may serve, once the lock is released: on a CPU
// shared with the sleeper, the woken process may run at once, and it would find the
// lock still held, spin on it and sleep again (a 50 µs round trip where 11 µs do).
// A process killed here has committed and wakes nobody; sleepers look again on their
// own (core/block.hpp).
// `unwoken` names the failpoint between the commit and the wake.
void BytesRing::wake_after_commit(core::WaitPoint &wp, std::size_t changed,
                                  [[maybe_unused]] const char *unwoken) noexcept {
    SHMDS_FAILPOINT(unwoken);
    core::waitpoint_wake(wp, int(changed > 1024 ? 1024 : changed));
}

// Whether messages [head, tail_seen) are known to be there, from the front line alone.
bool BytesRing::seen_nonempty(std::uint64_t head, std::uint64_t tail_seen) const noexcept {
    return tail_seen - head - 1 < cap_;  // head < tail_seen <= head + cap
}

// Whether the ring is empty, seen without the lock: a consumer that keeps finding it
// empty then never writes the front line, and one that is behind the producers finds
// messages from tail_seen without reading the back line. It is also all a sleeping
// consumer needs to look at: every push makes head and tail differ (push_back raises
// tail, push_front lowers head), and block_on attempts the pop again whatever this
// says. A scribbled head, tail or tail_seen only sends the caller to the locked path,
// which checks them.
bool BytesRing::looks_empty() const noexcept {
    const std::uint64_t head = ctl_->head.load(std::memory_order_acquire);
    if (seen_nonempty(head, ctl_->tail_seen.load(kRelaxed))) return false;
    return head == ctl_->tail.load(std::memory_order_acquire);
}

// Both locks release with a plain store, so a push or a pop pays one locked
// instruction per lock it takes. Every change a consumer waits for (a push) is made
// under the back lock, every change a producer waits for (a pop, a clear) under the
// front one, and their sleepers pass through that lock after announcing
// (core::lock_passage): no wake is missed for want of a fence after the unlock.
template <typename Body>
int BytesRing::under_lock(Ends ends, const Deadline &deadline, bool &lock_failed,
                          Body &&body) noexcept {
    // A lock wait that ran out ends the whole call: the lock's own wait already handles
    // dead holders, so there is nothing to retry. Without a deadline only a damaged lock
    // word fails (robust_mutex_lock said so).
    auto failed = [&] {
        lock_failed = true;
        return deadline.forever() ? SHMDS_ECORRUPT : core::lock_wait_timed_out(deadline, "queue");
    };
    if (ends == Ends::back) {
        const RobustLock back = back_lock(/*front_held=*/false).hold(deadline);
        return back.owns() ? body() : failed();
    }
    const RobustLock front = front_lock().hold(deadline);
    if (!front.owns()) return failed();
    if (ends == Ends::front) return body();
    const RobustLock back = back_lock(/*front_held=*/true).hold(deadline);
    return back.owns() ? body() : failed();
}

// The frontiers as a push_back that remembers its last look at the front sees them,
// without reading the consumers' line: the arena in use then, plus every byte pushed at
// the back since (back_allocs), bounds what is in use now from above, because pops only
// free. Where the next message goes depends on tail alone. False when the memory does
// not apply: head lowered by a push_front since, or a bound past the arena or a lap.
bool BytesRing::remembered_frontiers(Frontiers &f) const noexcept {
    if (seen_front_.lowered != ctl_->head_lowered.load(kRelaxed)) return false;
    f.head = seen_front_.head;
    f.tail = ctl_->tail.load(kRelaxed);
    const BytesDesc last = descs_[(f.tail - 1) & (cap_ - 1)];
    if (f.tail - f.head > cap_ || !in_bounds(last)) return false;
    f.used = seen_front_.used + (ctl_->back_allocs.load(kRelaxed) - seen_front_.back_allocs);
    if (f.used > arena_size_) return false;
    f.write_at = (std::uint64_t(last.start) + last.alloc) % arena_size_;
    f.read_at = f.write_at;  // not known; push_back never reads it
    return true;
}

// Push msgs[*pushed..n) while they fit and count them; 0 when all went in, else why the
// next did not (-EAGAIN full, -E2BIG, SHMDS_ECORRUPT). Under the back lock (and the
// front one for End::front).
int BytesRing::push_all_locked(End end, const ByteSpan *msgs, std::size_t n,
                               std::size_t *pushed, std::uint64_t &seen_version) noexcept {
    // The front line is the consumers': a push_back reads head from it only when what it
    // remembers leaves no room, so a producer streaming into a ring with room takes no
    // cache miss there. Before declaring the ring full it always looks, reading the pop
    // version before head, so that a pop that frees room after the look has bumped it
    // past seen_version.
    Frontiers f;
    bool fresh = end == End::front || !remembered_frontiers(f);
    auto look_at_front = [&] {
        fresh = true;
        seen_version = ctl_->popped.load(std::memory_order_acquire);
        const int r = fresh_frontiers(f);
        if (r == 0)
            seen_front_ = {f.head, f.used, ctl_->back_allocs.load(kRelaxed),
                           ctl_->head_lowered.load(kRelaxed)};
        return r;
    };
    int e = fresh ? look_at_front() : 0;
    const std::size_t before = *pushed;
    while (e == 0 && *pushed < n) {
        e = push_locked(end, msgs[*pushed], f);
        if (e == 0)
            ++*pushed;
        else if (e == -EAGAIN && !fresh)
            e = look_at_front();
    }
    if (*pushed > before) add_locked(ctl_->push_ok, *pushed - before);
    return e;
}

int BytesRing::push(End end, const ByteSpan *msgs, std::size_t n, std::size_t *pushed,
                    const Deadline &deadline) noexcept {
    *pushed = 0;
    std::uint64_t seen_version = 0;
    bool lock_failed = false;
    if (end == End::back && n > 0) prefetch_back_slot(msgs[0].len);
    const int r = core::block_on(
        ctl_->not_full, deadline,
        [&] {
            const std::size_t before = *pushed;
            const int e = under_lock(end == End::back ? Ends::back : Ends::both, deadline,
                                     lock_failed, [&] {
                SHMDS_FAILPOINT("queue.bytes.push.locked");
                return push_all_locked(end, msgs, n, pushed, seen_version);
            });
            if (*pushed > before)
                wake_after_commit(ctl_->not_empty, *pushed - before, "queue.bytes.push.unwoken");
            return e;
        },
        [&] { return ctl_->popped.load(std::memory_order_acquire) != seen_version; },
        core::SpinPace::steady,
        core::lock_passage(front_lock(), deadline));
    if (r == 0 || lock_failed || (r != -EAGAIN && r != -ETIMEDOUT)) return r;
    // Counted once per failed call, not per wait: a push that waits and then gets in
    // was never refused.
    ctl_->push_full.fetch_add(1, kRelaxed);
    return r == -EAGAIN ? core::fail_static(-EAGAIN, "queue is full")
                        : core::fail(-ETIMEDOUT,
                                     "queue stayed full until the deadline ({} of {} pushed)",
                                     *pushed, n);
}

int BytesRing::pop(End end, const PopBuffer &out, std::size_t *got, const Deadline &deadline,
                   bool allow_empty) noexcept {
    *got = 0;
    bool lock_failed = false;
    const int r = core::block_on(
        ctl_->not_empty, allow_empty ? Deadline::from_timeout(0) : deadline,
        [&] {
            if (looks_empty()) return -EAGAIN;
            if (end == End::front) prefetch_front_message();
            const int e = under_lock(end == End::front ? Ends::front : Ends::both, deadline,
                                     lock_failed, [&] {
                SHMDS_FAILPOINT("queue.bytes.pop.locked");
                return pop_locked(end, out, got);
            });
            if (*got) wake_after_commit(ctl_->not_full, *got, "queue.bytes.pop.unwoken");
            return e;
        },
        [&] { return !looks_empty(); },
        core::SpinPace::steady,
        core::lock_passage(back_lock(/*front_held=*/false), deadline));
    if (r == 0 || lock_failed || (r != -EAGAIN && r != -ETIMEDOUT)) return r;
    if (allow_empty) return 0;
    ctl_->pop_empty.fetch_add(1, kRelaxed);
    return r == -EAGAIN ? core::fail_static(-EAGAIN, "queue is empty")
                        : core::fail(-ETIMEDOUT, "queue stayed empty until the deadline");
}

// A consumer that has just seen a message arrive reads its descriptor, then its bytes:
// two dependent cache misses, each a transfer from the producer's CPU, on top of the
// one that showed it the new tail. The bytes' line is known before the lock is taken
// (most likely right after the message this handle popped last, next_pop_at_), so its
// transfer overlaps the lock. Only a hint: nothing read here is trusted, and a wrong
// guess costs one wasted fetch.
// Only for a consumer that had caught up (a ping-pong): one behind a stream would fetch
// lines the producer is still filling, and take them from it once more (-12% on a
// 1 -> 1 stream). The descriptor at head is not prefetched: its line holds the next
// descriptors too, which a streaming producer is writing at that moment, and fetching
// it early cost a 1 -> 1 stream 8-10% for 3-5% of the ping-pong's round trip
// (alternated bench rows: 6.7M vs 7.2M msgs/s; p50 0.77 vs 0.80 us).
void BytesRing::prefetch_front_message() const noexcept {
    const std::uint64_t head = ctl_->head.load(kRelaxed);
    if (seen_nonempty(head, ctl_->tail_seen.load(kRelaxed))) return;
    const std::uint64_t at = next_pop_at_.load();
    if (at < arena_size_) __builtin_prefetch(arena_ + at);
}

// The producer's side of the same: the descriptor at tail and the arena bytes after
// the last message are lines a consumer read since this producer wrote them, and the
// section's first stores there would wait for them to come back while the consumer
// watches for the tail store behind them. Asked for before the lock, they arrive while
// its CAS waits for the back line (which a watching consumer holds too). tail was
// written by a producer, most likely this one, so reading it here costs no miss; the
// bytes go where this handle's last push left off (next_push_at_). Only a hint, as
// above; the range stays inside the arena.
void BytesRing::prefetch_back_slot(std::size_t len) const noexcept {
    const std::uint64_t tail = ctl_->tail.load(kRelaxed);
    core::prefetch_for_write(&descs_[tail & (cap_ - 1)]);
    const std::uint64_t at = next_push_at_.load();
    if (at < arena_size_)
        core::prefetch_lines_for_write(arena_ + at, std::min<std::uint64_t>(len, arena_size_ - at));
}

// Take what fits from the locked ring: 0 when at least one message came out, -EAGAIN
// when the ring is empty, -ENOBUFS when the first message does not fit, SHMDS_ECORRUPT.
// Under the front lock (and the back one for End::back). A pop needs no frontiers: it
// checks each descriptor it copies through.
int BytesRing::pop_locked(End end, const PopBuffer &out, std::size_t *got) noexcept {
    // From the front: messages up to the tail an earlier pop saw are there for sure
    // (tail_seen never exceeds tail: only pop_back lowers tail, and it lowers tail_seen
    // first), so a consumer behind the producers reads nothing on their line; the bytes
    // those messages carry were published to that pop, and through the lock to us.
    // When those run out before the batch is full, it looks at tail after all.
    struct {
        std::uint64_t head, tail;
    } f{ctl_->head.load(kRelaxed), ctl_->tail_seen.load(kRelaxed)};
    bool fresh = false;
    auto look_at_back = [&] {
        fresh = true;
        f.tail = ctl_->tail.load(std::memory_order_acquire);
        if (int e = count(f.head, f.tail)) return e;
        ctl_->tail_seen.store(f.tail, kRelaxed);
        return 0;
    };
    if (end == End::back || !seen_nonempty(f.head, f.tail))
        if (int e = look_at_back()) return e;
    std::size_t used_buf = 0;
    int r = 0;
    while (*got < out.max_messages) {
        if (f.tail == f.head) {
            if (fresh) break;
            r = look_at_back();
            if (r || f.tail == f.head) break;
        }
        const std::uint64_t idx = end == End::front ? f.head : f.tail - 1;
        const BytesDesc d = descs_[idx & (cap_ - 1)];
        if ((r = check(d)) != 0) break;
        if (d.len > out.buf_size - used_buf) {
            if (*got == 0) {
                out.lens[0] = d.len;
                r = core::fail(-ENOBUFS, "queue message is {} bytes, buffer holds {}", d.len,
                               out.buf_size);
            }
            break;
        }
        if (d.len)  // an empty message may come with a NULL buffer; memcpy forbids it
            std::memcpy(static_cast<std::uint8_t *>(out.buf) + used_buf, arena_ + d.off, d.len);
        SHMDS_FAILPOINT("queue.bytes.pop.copied");
        if (end == End::front) {
            ctl_->head.store(++f.head, std::memory_order_release);  // commit
            const std::uint64_t after = std::uint64_t(d.start) + d.alloc;  // < 2 arenas
            next_pop_at_.store(after >= arena_size_ ? after - arena_size_ : after);
        } else {
            ctl_->tail_seen.store(f.tail - 1, kRelaxed);  // never above tail, even if killed here
            SHMDS_FAILPOINT("queue.bytes.pop.seen_lowered");
            ctl_->tail.store(--f.tail, std::memory_order_release);  // commit
        }
        SHMDS_FAILPOINT("queue.bytes.pop.committed");
        out.lens[*got] = d.len;
        used_buf += d.len;
        ++*got;
    }
    if (*got) {  // what was taken is delivered; damage beyond it shows on the next call
        add_locked(ctl_->pop_ok, *got);
        add_locked(ctl_->popped, 1, std::memory_order_release);
        return 0;
    }
    return r ? r : -EAGAIN;
}

int BytesRing::peek(void *buf, std::size_t buf_size, std::size_t *len) noexcept {
    bool lock_failed = false;
    return under_lock(Ends::front, Deadline::from_timeout(-1), lock_failed, [&] {
        SHMDS_FAILPOINT("queue.bytes.peek.locked");
        const std::uint64_t head = ctl_->head.load(kRelaxed);
        const std::uint64_t tail = ctl_->tail.load(std::memory_order_acquire);
        if (int r = count(head, tail)) return r;
        if (head == tail) return -EAGAIN;
        const BytesDesc d = descs_[head & (cap_ - 1)];
        if (int r = check(d)) return r;
        *len = d.len;
        if (d.len > buf_size)
            return core::fail(-ENOBUFS, "queue message is {} bytes, buffer holds {}", d.len,
                              buf_size);
        if (d.len) std::memcpy(buf, arena_ + d.off, d.len);  // buf may be NULL for an empty one
        return 0;
    });
}

std::int64_t BytesRing::clear(const Deadline &deadline) noexcept {
    std::uint64_t removed = 0;
    bool lock_failed = false;
    const int r = under_lock(Ends::both, deadline, lock_failed, [&] {
        SHMDS_FAILPOINT("queue.bytes.clear.locked");
        const std::uint64_t head = ctl_->head.load(kRelaxed);
        const std::uint64_t tail = ctl_->tail.load(kRelaxed);
        removed = tail - head;
        empty_to(tail);
        SHMDS_FAILPOINT("queue.bytes.clear.committed");
        add_locked(ctl_->popped, 1, std::memory_order_release);
        return 0;
    });
    if (r) return r;
    core::waitpoint_wake(ctl_->not_full, 1 << 30);
    return std::int64_t(removed > cap_ ? cap_ : removed);
}

int BytesRing::snapshot(Snapshot &s) noexcept {
    bool lock_failed = false;
    return under_lock(Ends::both, Deadline::from_timeout(-1), lock_failed, [&] {
        SHMDS_FAILPOINT("queue.bytes.stats.locked");
        Frontiers f;
        if (int r = fresh_frontiers(f)) return r;
        s.size = f.tail - f.head;
        s.arena_used = f.used;
        s.push_ok = ctl_->push_ok.load(kRelaxed);
        s.pop_ok = ctl_->pop_ok.load(kRelaxed);
        s.push_full = ctl_->push_full.load(kRelaxed);
        s.pop_empty = ctl_->pop_empty.load(kRelaxed);
        return 0;
    });
}

std::uint64_t BytesRing::size() const noexcept {
    // Lock-free estimate: head and tail are committed with single stores.
    std::uint64_t n = ctl_->tail.load(std::memory_order_acquire) -
                      ctl_->head.load(std::memory_order_acquire);
    return n > cap_ ? (std::int64_t(n) < 0 ? 0 : cap_) : n;
}

}  // namespace shmds::queue
