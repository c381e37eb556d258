#include "pubsub/subscriber.hpp"

#include "core/error.hpp"
#include "core/block.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>

namespace shmds::pubsub {

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;
// A committed bytes message whose checksum fails while its seq holds still is being
// overwritten by a stalled writer that lost its slot; after this many looks it is
// rejected for good (never handed out) and skipped.
constexpr int kTornRetries = 64;
}  // namespace

Subscriber::Subscriber(PubSub &ps, Start start) noexcept : ps_(ps) {
    const std::uint64_t wp = ps_.write_pos();
    cursor_ = start == Start::latest ? wp : oldest(wp);
}

void Subscriber::advance_to(std::uint64_t next) noexcept {
    cursor_ = next;
    torn_retries_ = 0;
    after_skip_ = false;
}

void Subscriber::set_cursor(std::uint64_t pos) noexcept {
    advance_to(pos);
    stall_pos_ = ~std::uint64_t{0};
}

void Subscriber::reset_oldest() noexcept { set_cursor(oldest(ps_.write_pos())); }

std::uint64_t Subscriber::lag() const noexcept {
    const std::uint64_t wp = ps_.write_pos();
    return wp > cursor_ ? wp - cursor_ : 0;
}

void Subscriber::lapped(std::uint64_t c, std::uint64_t to) noexcept {
    const std::uint64_t missed = to - c;
    overflow_ += missed;
    ps_.control()->overflowed.fetch_add(missed, kRelaxed);
    advance_to(to);
}

int Subscriber::stalled_at(std::uint64_t c, std::uint64_t wp) noexcept {
    const std::int64_t now = core::monotonic_ns();
    if (stall_pos_ != c) {
        // Right after a skip, a position claimed before that stall began has been
        // pending at least as long: it keeps the clock, so a dead batch of n positions
        // costs one abandon bound, not n.
        if (!after_skip_ || c >= stall_wp_) {
            stall_since_ = now;
            stall_wp_ = wp;
        }
        stall_pos_ = c;
    }
    // Skipping needs a later position to go to; without one there is nothing to gain.
    if (now - stall_since_ < kAbandonNs || wp <= c + 1) return kStalled;
    ++skipped_;
    ps_.control()->skipped.fetch_add(1, kRelaxed);
    advance_to(c + 1);
    after_skip_ = true;
    return 0;
}

template <typename Traits, typename SlotOf>
int Subscriber::try_int(SlotOf &&slot_of, std::int64_t *out) noexcept {
    for (;;) {
        const std::uint64_t wp = ps_.write_pos();
        const std::uint64_t c = cursor_;
        if (c >= wp) return -EAGAIN;
        if (wp - c > ps_.capacity()) {
            lapped(c, oldest(wp));
            continue;
        }
        SlotView v;
        if (!Traits::read(slot_of(c), v)) continue;  // a commit raced the read
        const std::int64_t d = Traits::diff(v.seq, c + 1);
        if (d == 0) {
            *out = v.value;
            advance_to(c + 1);
            return 0;
        }
        if (d > 0) {
            // Overwritten by a later lap, whose claim moved write_pos past c + capacity.
            const std::uint64_t to = oldest(ps_.write_pos());
            lapped(c, to > c ? to : c + 1);
            continue;
        }
        if (stalled_at(c, wp) == kStalled) return kStalled;
    }
}

int Subscriber::try_bytes(void *buf, std::size_t size, std::size_t *len) noexcept {
    for (;;) {
        const std::uint64_t wp = ps_.write_pos();
        const std::uint64_t c = cursor_;
        if (c >= wp) return -EAGAIN;
        if (wp - c > ps_.capacity()) {
            lapped(c, oldest(wp));
            continue;
        }
        BytesSlotHeader *h = ps_.bytes_header(c);
        const std::uint64_t s1 = h->seq.load(std::memory_order_acquire);
        const std::uint64_t committed = (c + 1) << 1;
        if (s1 == committed) {
            const std::uint32_t n = h->len.load(kRelaxed);
            const std::uint64_t check = h->check.load(kRelaxed);
            if (n <= ps_.msg_size() && n > size) {
                std::atomic_thread_fence(std::memory_order_acquire);
                if (h->seq.load(kRelaxed) != s1) continue;
                *len = n;
                return core::fail(-ENOBUFS, "pubsub message is {} bytes, buffer holds {}", n,
                                  size);
            }
            bool intact = n <= ps_.msg_size();
            if (intact && n) std::memcpy(buf, ps_.bytes_payload(c), n);
            std::atomic_thread_fence(std::memory_order_acquire);
            if (h->seq.load(kRelaxed) != s1) continue;  // overwritten meanwhile: look again
            intact = intact && message_check(c, buf, n) == check;
            if (intact) {
                *len = n;
                advance_to(c + 1);
                return 0;
            }
            if (++torn_retries_ < kTornRetries) {
                core::cpu_relax();
                continue;
            }
            ps_.control()->torn.fetch_add(1, kRelaxed);
            ++skipped_;
            advance_to(c + 1);
            continue;
        }
        const std::int64_t d = bytes_seq_diff(s1, c + 1);
        if (d > 0) {
            const std::uint64_t to = oldest(ps_.write_pos());
            lapped(c, to > c ? to : c + 1);
            continue;
        }
        // d == 0 (odd: being written) or d < 0 (claimed, not yet marked).
        if (stalled_at(c, wp) == kStalled) return kStalled;
    }
}

bool Subscriber::settled(std::uint64_t c) const noexcept {
    if (ps_.is_bytes()) {
        const std::uint64_t seq = ps_.bytes_header(c)->seq.load(std::memory_order_acquire);
        return seq == (c + 1) << 1 || bytes_seq_diff(seq, c + 1) > 0;
    }
    return ps_.with_int_slots([&](auto traits, auto slot_of) {
        using Traits = decltype(traits);
        return Traits::diff(Traits::seq_of(slot_of(c)), c + 1) >= 0;
    });
}

template <typename Attempt>
int Subscriber::wait_for(const core::Deadline &dl, Attempt &&attempt) noexcept {
    PubControl *ctl = ps_.control();
    int last = 0;  // what the latest attempt said: nothing new, or a stalled position
    const int r = core::block_on(
        ctl->readable, dl,
        [&] {
            last = attempt();
            return last == kStalled ? -EAGAIN : last;
        },
        [&] {
            const std::uint64_t c = cursor_;
            if (last != kStalled) return ctl->write_pos.load(std::memory_order_acquire) > c;
            // A stalled position: wake when it is committed (or lapped), or when the
            // abandon bound has passed and a later position exists, so the next attempt
            // skips it (block_on's bound re-attempts by then anyway).
            return settled(c) || (ctl->write_pos.load(std::memory_order_acquire) > c + 1 &&
                                  core::monotonic_ns() >= stall_since_ + kAbandonNs);
        });
    if (r == -EAGAIN) return core::fail_static(-EAGAIN, "no new message");
    if (r == -ETIMEDOUT) return core::fail_static(-ETIMEDOUT, "no new message before the deadline");
    return r;
}

int Subscriber::poll_int(std::int64_t *out, const core::Deadline &dl) noexcept {
    return ps_.with_int_slots([&](auto traits, auto slot_of) {
        using Traits = decltype(traits);
        return wait_for(dl, [&] { return try_int<Traits>(slot_of, out); });
    });
}

int Subscriber::try_poll_int(std::int64_t *out) noexcept {
    return ps_.with_int_slots([&](auto traits, auto slot_of) {
        using Traits = decltype(traits);
        const int r = try_int<Traits>(slot_of, out);
        return r == kStalled ? -EAGAIN : r;
    });
}

int Subscriber::poll_multi_int(std::int64_t *out, std::size_t max, std::size_t *got,
                               const core::Deadline &dl, bool allow_empty) noexcept {
    *got = 0;
    if (max == 0) return 0;
    return ps_.with_int_slots([&](auto traits, auto slot_of) {
        using Traits = decltype(traits);
        int r = wait_for(dl, [&] { return try_int<Traits>(slot_of, &out[0]); });
        if (r != 0) return (allow_empty && r == -EAGAIN) ? 0 : r;
        *got = 1;
        while (*got < max && try_int<Traits>(slot_of, &out[*got]) == 0) ++*got;
        return 0;
    });
}

int Subscriber::poll_bytes(void *buf, std::size_t size, std::size_t *len,
                           const core::Deadline &dl) noexcept {
    return wait_for(dl, [&] { return try_bytes(buf, size, len); });
}

int Subscriber::poll_multi_bytes(void *buf, std::size_t size, std::size_t *lens,
                                 std::size_t max, std::size_t *got, const core::Deadline &dl,
                                 bool allow_empty) noexcept {
    *got = 0;
    if (max == 0) return 0;
    auto *out = static_cast<std::uint8_t *>(buf);
    int r = wait_for(dl, [&] { return try_bytes(out, size, &lens[0]); });
    if (r != 0) return (allow_empty && r == -EAGAIN) ? 0 : r;
    std::size_t used = lens[0];
    *got = 1;
    while (*got < max) {
        std::size_t n = 0;
        // A message that does not fit the rest of buf stays for the next call.
        if (try_bytes(out + used, size - used, &n) != 0) break;
        lens[*got] = n;
        used += n;
        ++*got;
    }
    return 0;
}

}  // namespace shmds::pubsub
