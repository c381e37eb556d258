// Seeded producer/consumer traffic for the queue's stress, crash and threaded suites,
// the delivery check they share (every item exactly once, each producer's order kept
// as each consumer saw it, sums equal), and KeyQueue: items as keys through any variant.
//
// Results go to a Board in MAP_SHARED anonymous memory, so forked children and threads
// report the same way and the parent can read what a killed child recorded.
#pragma once

#include "support/proc.hpp"

#include <shmds/queue.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <random>
#include <sched.h>
#include <string>
#include <sys/mman.h>
#include <thread>
#include <vector>

namespace shmds::test::traffic {

inline constexpr int kMaxRoles = 16;

#define SKIP_IF_NOT_ATOMIC_ACROSS_PROCESSES(variant)                                               \
    do {                                                                                           \
        if (::shmds::test::kWideAtomicsAreProcessLocal && (variant) == SHMDS_QUEUE_INT64) \
            GTEST_SKIP() << "ThreadSanitizer emulates 16-byte atomics with a process-local "       \
                            "lock: INT64 is not atomic across processes in this build";            \
    } while (0)

inline std::uint64_t mix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// An RNG per role, so one printed seed replays every process's choices.
inline std::mt19937_64 role_rng(std::uint64_t seed, std::uint64_t role) {
    return std::mt19937_64(mix64(seed ^ mix64(role + 1)));
}

// An item's identity: producer in the high half, its sequence number in the low half.
inline std::uint64_t item_key(std::uint32_t producer, std::uint32_t seq) {
    return (std::uint64_t(producer) << 32) | seq;
}
inline std::uint32_t key_producer(std::uint64_t key) { return std::uint32_t(key >> 32); }
inline std::uint32_t key_seq(std::uint64_t key) { return std::uint32_t(key); }

// Turns keys into queue values and back. Every encoding carries a check byte (and the
// bytes form a key-derived filler), so a torn, shifted or foreign value is caught where
// it is popped instead of passing as some other item.
class Codec {
public:
    static constexpr std::size_t kMaxMessage = 8 + 120;

    explicit Codec(int variant) : variant_(variant) {}
    int variant() const { return variant_; }
    bool is_bytes() const { return variant_ == SHMDS_QUEUE_BYTES; }

    // How many sequence numbers per producer each value format can carry.
    std::uint64_t max_seq() const {
        return variant_ == SHMDS_QUEUE_INT32 ? (std::uint64_t{1} << 20) : (std::uint64_t{1} << 32);
    }

    // INT64 values are negative (top bit set) and INT32 ones too, so the sign survives
    // every slot format.
    std::int64_t to_int(std::uint64_t key) const {
        const std::uint64_t p = key_producer(key), s = key_seq(key), c = check(key);
        if (variant_ == SHMDS_QUEUE_INT32)
            return std::int32_t(std::uint32_t(((p | 0x8) << 28) | (s << 8) | c));
        return std::int64_t(((p | 0x80) << 56) | (s << 8) | c);
    }
    bool from_int(std::int64_t v, std::uint64_t *key) const {
        std::uint64_t p, s;
        if (variant_ == SHMDS_QUEUE_INT32) {
            if (v < INT32_MIN || v > INT32_MAX) return false;
            const std::uint32_t u = std::uint32_t(std::int32_t(v));
            if (!(u >> 31)) return false;
            p = (u >> 28) & 0x7;
            s = (u >> 8) & 0xfffff;
        } else {
            const std::uint64_t u = std::uint64_t(v);
            if (!(u >> 63)) return false;
            p = (u >> 56) & 0x7f;
            s = (u >> 8) & 0xffffffffffffull;
            if (s > 0xffffffffull) return false;
        }
        *key = item_key(std::uint32_t(p), std::uint32_t(s));
        return (std::uint64_t(v) & 0xff) == check(*key);
    }

    std::size_t to_bytes(std::uint64_t key, std::uint8_t *buf) const {
        const std::size_t len = 8 + mix64(key) % (kMaxMessage - 7);
        std::memcpy(buf, &key, 8);
        for (std::size_t i = 8; i < len; ++i) buf[i] = filler(key, i);
        return len;
    }
    bool from_bytes(const std::uint8_t *buf, std::size_t len, std::uint64_t *key) const {
        if (len < 8) return false;
        std::memcpy(key, buf, 8);
        if (len != 8 + mix64(*key) % (kMaxMessage - 7)) return false;
        for (std::size_t i = 8; i < len; ++i)
            if (buf[i] != filler(*key, i)) return false;
        return true;
    }

private:
    static std::uint64_t check(std::uint64_t key) { return mix64(key ^ 0x5a5a) & 0xff; }
    static std::uint8_t filler(std::uint64_t key, std::size_t i) {
        return std::uint8_t(mix64(key + i) >> 17);
    }
    int variant_;
};

struct BoardHeader {
    std::uint32_t producers, consumers;
    std::uint64_t per_producer;
    std::atomic<std::uint64_t> reserved;             // items consumers have promised to take
    std::atomic<std::uint64_t> produced[kMaxRoles];  // pushes confirmed, per producer
    std::atomic<std::uint64_t> got[kMaxRoles];       // keys recorded, per consumer
};

// Where consumers record what they popped, in order. Each consumer owns a row long
// enough to hold every item.
class Board {
public:
    Board(std::uint32_t producers, std::uint32_t consumers, std::uint64_t per_producer)
        : bytes_(sizeof(BoardHeader) +
                 sizeof(std::uint64_t) * consumers * producers * per_producer) {
        if (producers > kMaxRoles || consumers > kMaxRoles) {
            ADD_FAILURE() << "a board holds at most " << kMaxRoles << " producers and consumers";
            return;
        }
        void *p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            ADD_FAILURE() << "mmap of the results board failed: " << std::strerror(errno);
            return;
        }
        h_ = new (p) BoardHeader{};
        h_->producers = producers;
        h_->consumers = consumers;
        h_->per_producer = per_producer;
        keys_ = reinterpret_cast<std::uint64_t *>(h_ + 1);
    }
    ~Board() {
        if (h_) munmap(h_, bytes_);
    }
    Board(const Board &) = delete;
    Board &operator=(const Board &) = delete;

    bool ok() const { return h_ != nullptr; }
    BoardHeader &h() const { return *h_; }
    std::uint64_t total() const { return h_->producers * h_->per_producer; }

    void record(std::uint32_t consumer, std::uint64_t key) {
        const std::uint64_t n = h_->got[consumer].load(std::memory_order_relaxed);
        row(consumer)[n] = key;
        h_->got[consumer].store(n + 1, std::memory_order_release);
    }
    const std::uint64_t *row(std::uint32_t consumer) const { return keys_ + consumer * total(); }
    std::uint64_t *row(std::uint32_t consumer) { return keys_ + consumer * total(); }
    std::uint64_t got(std::uint32_t consumer) const {
        return h_->got[consumer].load(std::memory_order_acquire);
    }

private:
    std::size_t bytes_;
    BoardHeader *h_ = nullptr;
    std::uint64_t *keys_ = nullptr;
};

// Print the failing call the way a child can (no gtest in children).
inline int report(const char *role, std::uint32_t id, const char *call, int rc) {
    std::fprintf(stderr, "%s %u: %s returned %d (%s): %s\n", role, id, call, rc, shmds_errname(rc),
                 shmds_last_error());
    return 1;
}

inline bool would_block(int rc) { return rc == -EAGAIN || rc == -ETIMEDOUT; }

// A relative timeout of 20 µs .. 2 ms: long enough to sleep, short enough to expire often.
inline std::int64_t random_timeout(std::mt19937_64 &rng) {
    return std::int64_t(20'000 + rng() % 1'980'000);
}

// Push (producer, 0..per_producer) with a random mix of single, batched, timed and
// endless pushes. Returns 0, or 1 after printing the call that failed.
inline int produce(shmds_queue_t *q, const Codec &codec, std::uint32_t producer, std::uint64_t seed,
                   Board &board) {
    auto rng = role_rng(seed, 100 + producer);
    if (board.h().per_producer > codec.max_seq()) {
        std::fprintf(stderr, "producer %u: %llu items exceed what the value format numbers\n",
                     producer, (unsigned long long)board.h().per_producer);
        return 1;
    }
    const std::uint32_t n = std::uint32_t(board.h().per_producer);
    constexpr std::size_t kBatch = 16;
    std::int64_t values[kBatch];
    std::uint8_t storage[kBatch][Codec::kMaxMessage];
    const void *datas[kBatch];
    std::size_t lens[kBatch];
    std::uint32_t seq = 0;
    while (seq < n) {
        const unsigned op = unsigned(rng() % 6);
        const bool multi = op >= 3;
        const std::size_t want = multi ? std::min<std::size_t>(1 + rng() % kBatch, n - seq) : 1;
        const std::int64_t timeout = op % 3 == 0   ? SHMDS_NOWAIT
                                     : op % 3 == 1 ? SHMDS_FOREVER
                                                   : random_timeout(rng);
        for (std::size_t i = 0; i < want; ++i) {
            const std::uint64_t key = item_key(producer, seq + std::uint32_t(i));
            if (codec.is_bytes()) {
                lens[i] = codec.to_bytes(key, storage[i]);
                datas[i] = storage[i];
            } else {
                values[i] = codec.to_int(key);
            }
        }
        std::size_t pushed = 0;
        int rc;
        if (!multi) {
            rc = codec.is_bytes() ? shmds_queue_push_bytes(q, datas[0], lens[0], timeout)
                                  : shmds_queue_push_int(q, values[0], timeout);
            pushed = rc == 0;
        } else {
            rc = codec.is_bytes()
                     ? shmds_queue_push_multi_bytes(q, datas, lens, want, &pushed, timeout)
                     : shmds_queue_push_multi_int(q, values, want, &pushed, timeout);
        }
        if (rc != 0 && !would_block(rc)) return report("producer", producer, "push", rc);
        if (rc == -ETIMEDOUT && timeout < 0) return report("producer", producer, "push", rc);
        if (rc == 0 && pushed != want) return report("producer", producer, "push (count)", rc);
        seq += std::uint32_t(pushed);
        board.h().produced[producer].store(seq, std::memory_order_release);
        if (pushed == 0) sched_yield();  // full: let a consumer run on this small machine
    }
    return 0;
}

// Take a promise for up to `want` items that nobody else has promised. Consumers only
// pop what they promised, so an endless pop always has an item coming to it and every
// consumer stops once all items are promised.
inline std::uint64_t reserve(BoardHeader &h, std::uint64_t total, std::uint64_t want) {
    std::uint64_t cur = h.reserved.load(std::memory_order_relaxed);
    for (;;) {
        const std::uint64_t r = std::min(want, total - cur);
        if (r == 0) return 0;
        if (h.reserved.compare_exchange_weak(cur, cur + r, std::memory_order_acq_rel)) return r;
    }
}

// Pop until every item is taken, with a random mix of single, batched, timed, endless
// pops and drains; record each key on the board. Returns 0, or 1 after printing why.
inline int consume(shmds_queue_t *q, const Codec &codec, std::uint32_t consumer, std::uint64_t seed,
                   Board &board) {
    auto rng = role_rng(seed, 200 + consumer);
    BoardHeader &h = board.h();
    const std::uint64_t total = board.total();
    constexpr std::size_t kBatch = 16;
    std::int64_t values[kBatch];
    std::vector<std::uint8_t> buf(kBatch * Codec::kMaxMessage);
    std::size_t lens[kBatch];
    for (;;) {
        const unsigned op = unsigned(rng() % 7);
        const bool multi = op >= 3;
        const std::uint64_t promised = reserve(h, total, multi ? 1 + rng() % kBatch : 1);
        if (promised == 0) return 0;
        const std::int64_t timeout = op == 0 || op == 3   ? SHMDS_NOWAIT
                                     : op == 1 || op == 4 ? SHMDS_FOREVER
                                                          : random_timeout(rng);
        std::size_t got = 0;
        int rc;
        if (op == 6) {
            rc = codec.is_bytes()
                     ? shmds_queue_drain_bytes(q, buf.data(), buf.size(), lens, promised, &got)
                     : shmds_queue_drain_int(q, values, promised, &got);
        } else if (multi) {
            rc = codec.is_bytes() ? shmds_queue_pop_multi_bytes(q, buf.data(), buf.size(), lens,
                                                                promised, &got, timeout)
                                  : shmds_queue_pop_multi_int(q, values, promised, &got, timeout);
        } else {
            rc = codec.is_bytes()
                     ? shmds_queue_pop_bytes(q, buf.data(), buf.size(), &lens[0], timeout)
                     : shmds_queue_pop_int(q, &values[0], timeout);
            got = rc == 0;
        }
        if (rc != 0 && !would_block(rc)) return report("consumer", consumer, "pop", rc);
        if (rc == -ETIMEDOUT && timeout < 0) return report("consumer", consumer, "pop", rc);
        if (got > promised) return report("consumer", consumer, "pop (more than asked)", rc);
        std::size_t at = 0;
        for (std::size_t i = 0; i < got; ++i) {
            std::uint64_t key;
            const bool good = codec.is_bytes() ? codec.from_bytes(&buf[at], lens[i], &key)
                                               : codec.from_int(values[i], &key);
            if (!good) {
                std::fprintf(stderr, "consumer %u: popped a value that no producer sent\n",
                             consumer);
                return 1;
            }
            if (codec.is_bytes()) at += lens[i];
            board.record(consumer, key);
        }
        if (got < promised) h.reserved.fetch_sub(promised - got, std::memory_order_acq_rel);
        if (got == 0) sched_yield();
    }
}

// Keys and values through one queue handle, for a parent or a child.
class KeyQueue {
public:
    KeyQueue(int variant, std::uint64_t capacity) : codec_(variant) {
        shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(variant, capacity);
        rc_ = shmds_queue_create(nullptr, &cfg, &q_);
    }
    ~KeyQueue() { shmds_queue_close(q_); }
    KeyQueue(const KeyQueue &) = delete;
    KeyQueue &operator=(const KeyQueue &) = delete;

    int create_rc() const { return rc_; }
    shmds_queue_t *q() const { return q_; }
    const Codec &codec() const { return codec_; }

    int push(std::uint64_t key, std::int64_t timeout, bool front = false) {
        if (!codec_.is_bytes()) return shmds_queue_push_int(q_, codec_.to_int(key), timeout);
        std::uint8_t buf[Codec::kMaxMessage];
        const std::size_t len = codec_.to_bytes(key, buf);
        return front ? shmds_queue_push_front_bytes(q_, buf, len, timeout)
                     : shmds_queue_push_bytes(q_, buf, len, timeout);
    }

    int push_multi(const std::vector<std::uint64_t> &keys, std::size_t *pushed,
                   std::int64_t timeout) {
        if (!codec_.is_bytes()) {
            std::vector<std::int64_t> v;
            for (auto k : keys) v.push_back(codec_.to_int(k));
            return shmds_queue_push_multi_int(q_, v.data(), v.size(), pushed, timeout);
        }
        std::vector<std::vector<std::uint8_t>> bufs(keys.size(),
                                                    std::vector<std::uint8_t>(Codec::kMaxMessage));
        std::vector<const void *> datas;
        std::vector<std::size_t> lens;
        for (std::size_t i = 0; i < keys.size(); ++i) {
            lens.push_back(codec_.to_bytes(keys[i], bufs[i].data()));
            datas.push_back(bufs[i].data());
        }
        return shmds_queue_push_multi_bytes(q_, datas.data(), lens.data(), keys.size(), pushed,
                                            timeout);
    }

    // Pops up to max keys (max 1 uses the single-item verbs; drain the drain verbs,
    // which never wait and find an empty queue no failure). A value that decodes to no
    // key gives -EBADMSG, which no queue call returns.
    int pop(std::vector<std::uint64_t> *keys, std::size_t max, std::int64_t timeout,
            bool back = false, bool drain = false) {
        keys->clear();
        std::size_t got = 0;
        std::vector<std::int64_t> values(max);
        std::vector<std::uint8_t> buf(max * Codec::kMaxMessage);
        std::vector<std::size_t> lens(max);
        int rc;
        if (drain) {
            rc = codec_.is_bytes()
                     ? shmds_queue_drain_bytes(q_, buf.data(), buf.size(), lens.data(), max, &got)
                     : shmds_queue_drain_int(q_, values.data(), max, &got);
        } else if (codec_.is_bytes()) {
            if (max == 1) {
                rc = back
                         ? shmds_queue_pop_back_bytes(q_, buf.data(), buf.size(), &lens[0], timeout)
                         : shmds_queue_pop_bytes(q_, buf.data(), buf.size(), &lens[0], timeout);
                got = rc == 0;
            } else {
                rc = shmds_queue_pop_multi_bytes(q_, buf.data(), buf.size(), lens.data(), max, &got,
                                                 timeout);
            }
        } else if (max == 1) {
            rc = shmds_queue_pop_int(q_, &values[0], timeout);
            got = rc == 0;
        } else {
            rc = shmds_queue_pop_multi_int(q_, values.data(), max, &got, timeout);
        }
        std::size_t at = 0;
        for (std::size_t i = 0; i < got; ++i) {
            std::uint64_t key;
            const bool ok = codec_.is_bytes() ? codec_.from_bytes(&buf[at], lens[i], &key)
                                              : codec_.from_int(values[i], &key);
            if (!ok) return -EBADMSG;
            at += lens[i];
            keys->push_back(key);
        }
        return rc;
    }

    int pop1(std::uint64_t *key, std::int64_t timeout, bool back = false) {
        std::vector<std::uint64_t> keys;
        const int rc = pop(&keys, 1, timeout, back);
        if (rc == 0) *key = keys.at(0);
        return rc;
    }

    // Everything left, oldest first.
    int drain_all(std::vector<std::uint64_t> *out) {
        out->clear();
        std::vector<std::uint64_t> keys;
        for (;;) {
            const int rc = pop(&keys, 16, SHMDS_NOWAIT, false, true);
            if (rc) return rc;
            if (keys.empty()) return 0;
            out->insert(out->end(), keys.begin(), keys.end());
        }
    }

    shmds_queue_stats_t stats() {
        shmds_queue_stats_t st{};
        st.struct_size = sizeof st;
        EXPECT_EQ(0, shmds_queue_stats(q_, &st)) << shmds_last_error();
        return st;
    }

private:
    Codec codec_;
    shmds_queue_t *q_ = nullptr;
    int rc_ = 0;
};

// Polls until `cond` holds, at most `limit`.
template <typename Cond>
bool eventually(Cond &&cond, std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!cond()) {
        if (std::chrono::steady_clock::now() >= until) return false;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return true;
}

// The delivery check. `may_miss` keys may be absent (in-flight items of killed
// processes); everything else produced must arrive exactly once.
inline ::testing::AssertionResult delivered_exactly_once(const Board &board,
                                                         std::uint64_t may_miss = 0) {
    const BoardHeader &h = board.h();
    std::vector<std::vector<std::uint8_t>> seen(h.producers);
    std::uint64_t expected_sum = 0, sum = 0, produced = 0;
    for (std::uint32_t p = 0; p < h.producers; ++p) {
        const std::uint64_t n = h.produced[p].load(std::memory_order_acquire);
        seen[p].assign(n, 0);
        produced += n;
        for (std::uint64_t s = 0; s < n; ++s) expected_sum += item_key(p, std::uint32_t(s));
    }
    std::uint64_t delivered = 0;
    for (std::uint32_t c = 0; c < h.consumers; ++c) {
        std::vector<std::int64_t> last(h.producers, -1);
        const std::uint64_t *row = board.row(c);
        for (std::uint64_t i = 0; i < board.got(c); ++i) {
            const std::uint32_t p = key_producer(row[i]), s = key_seq(row[i]);
            if (p >= h.producers || s >= seen[p].size())
                return ::testing::AssertionFailure() << "consumer " << c << " got item " << p << ":"
                                                     << s << " that was never pushed";
            if (seen[p][s]++)
                return ::testing::AssertionFailure()
                       << "item " << p << ":" << s << " delivered twice (again to consumer " << c
                       << ")";
            if (std::int64_t(s) <= last[p])
                return ::testing::AssertionFailure()
                       << "consumer " << c << " got producer " << p << "'s item " << s
                       << " after its item " << last[p];
            last[p] = s;
            sum += row[i];
            ++delivered;
        }
    }
    if (produced - delivered > may_miss) {
        for (std::uint32_t p = 0; p < h.producers; ++p)
            for (std::uint64_t s = 0; s < seen[p].size(); ++s)
                if (!seen[p][s])
                    return ::testing::AssertionFailure()
                           << (produced - delivered) << " of " << produced
                           << " items never arrived (allowed " << may_miss << "), first " << p
                           << ":" << s;
    }
    if (may_miss == 0 && sum != expected_sum)
        return ::testing::AssertionFailure() << "key sum " << sum << " != " << expected_sum;
    return ::testing::AssertionSuccess() << delivered << " items delivered exactly once";
}

}  // namespace shmds::test::traffic
