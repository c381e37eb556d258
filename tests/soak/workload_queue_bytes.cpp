// queue, BYTES variant (also used as a deque): even workers produce, odd ones consume.
// Each message is its item id followed by a length and pattern derived from the id, so a
// torn, truncated or mixed-up payload shows; the ledger catches duplicates and losses
// beyond what the killed held in flight. The lock-based arena is what the kills test.
#include "ledger.hpp"

#include <shmds/queue.h>

#include <cerrno>
#include <cstring>

namespace soak {
namespace {

constexpr std::int64_t kTimeout = 100'000'000;  // every call: 100 ms at most
constexpr std::size_t kMaxPayload = 200;
constexpr std::size_t kBatch = 4;

bool is_producer(unsigned index) { return index % 2 == 0; }

std::size_t length_of(std::uint64_t id) { return 8 + mix64(id) % (kMaxPayload - 8 + 1); }

std::uint8_t byte_of(std::uint64_t id, std::size_t i) {
    return static_cast<std::uint8_t>(mix64(id ^ (i << 48)) >> 56);
}

std::size_t encode(std::uint64_t id, std::uint8_t *buf) {
    std::size_t len = length_of(id);
    std::memcpy(buf, &id, 8);
    for (std::size_t i = 8; i < len; ++i) buf[i] = byte_of(id, i);
    return len;
}

class QueueBytes : public Workload {
public:
    void setup(const Params &) override {
        shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(SHMDS_QUEUE_BYTES, 64);
        cfg.arena_bytes = 8192;  // smaller than 64 full messages: the arena fills too
        int rc = shmds_queue_create(nullptr, &cfg, &q_);
        if (rc != 0) violation("shmds_queue_create: {}", describe_rc(rc));
        ledger_.setup(std::uint64_t{1} << 30);
    }

    Step step(Worker &w) override {
        return is_producer(w.index()) ? produce(w) : consume(w);
    }

    void finish(Worker &) override {
        if (pending_) ledger_.withdraw(id_);
    }

    void verify(const Params &, const Deaths &deaths) override {
        std::uint8_t buf[kMaxPayload];
        std::size_t len = 0;
        std::uint64_t drained = 0;
        int rc;
        while ((rc = shmds_queue_pop_bytes(q_, buf, sizeof buf, &len, SHMDS_NOWAIT)) == 0) {
            record(buf, len, "the final drain");
            ++drained;
        }
        if (rc != -EAGAIN) violation("final drain: shmds_queue_pop_bytes: {}", describe_rc(rc));
        shmds_queue_stats_t st{};
        st.struct_size = sizeof st;
        if (shmds_queue_stats(q_, &st) == 0)
            note("drained {} messages left in the queue; arena in use after it {} bytes; "
                 "recoveries {}",
                 drained, st.arena_used, st.recoveries);
        if (st.arena_used != 0)
            violation("the empty queue still has {} arena bytes in use", st.arena_used);
        ledger_.check("queue bytes", deaths.held_where(is_producer),
                      deaths.held_where([](unsigned i) { return !is_producer(i); }));
        shmds_queue_close(q_);
    }

private:
    Step produce(Worker &w) {
        if (!pending_) {
            w.hold(1);
            if (!ledger_.claim(id_)) {
                w.release();
                return Step::idle;
            }
            pending_ = true;
        }
        std::uint8_t buf[kMaxPayload];
        std::size_t len = encode(id_, buf);
        int rc = w.chance(20) ? shmds_queue_push_front_bytes(q_, buf, len, kTimeout)
                              : shmds_queue_push_bytes(q_, buf, len, kTimeout);
        if (rc == 0) {
            ledger_.confirm(id_);
            pending_ = false;
            w.release();
            return Step::progress;
        }
        if (rc != -ETIMEDOUT && rc != -EAGAIN)
            violation("shmds_queue_push_bytes: {}", describe_rc(rc));
        return Step::idle;
    }

    Step consume(Worker &w) {
        std::uint8_t buf[kBatch * kMaxPayload];
        std::size_t lens[kBatch];
        std::size_t got = 0;
        int rc;
        unsigned pick = static_cast<unsigned>(w.rng()() % 10);
        if (pick < 3) {
            w.hold(kBatch);
            rc = shmds_queue_pop_multi_bytes(q_, buf, sizeof buf, lens, kBatch, &got, kTimeout);
        } else {
            w.hold(1);
            rc = pick < 5 ? shmds_queue_pop_back_bytes(q_, buf, kMaxPayload, &lens[0], kTimeout)
                          : shmds_queue_pop_bytes(q_, buf, kMaxPayload, &lens[0], kTimeout);
            got = rc == 0 ? 1 : 0;
        }
        std::size_t at = 0;
        for (std::size_t i = 0; i < got; ++i) {
            record(buf + at, lens[i], "a consumer");
            at += lens[i];
        }
        w.release();
        if (rc == 0 && got > 0) return Step::progress;
        if (rc != 0 && rc != -ETIMEDOUT && rc != -EAGAIN)
            violation("shmds_queue_pop_bytes: {}", describe_rc(rc));
        return Step::idle;
    }

    void record(const std::uint8_t *msg, std::size_t len, const char *by) {
        std::uint64_t id = 0;
        if (len < 8) {
            violation("torn message: {} got {} bytes, shorter than any message sent", by, len);
            return;
        }
        std::memcpy(&id, msg, 8);
        std::uint8_t want[kMaxPayload];
        if (id >= ledger_.claimed() || len != length_of(id) ||
            std::memcmp(msg, want, encode(id, want)) != 0) {
            violation("torn message: {} got {} bytes claiming to be item {}, which do not "
                      "match what its producer wrote",
                      by, len, id);
            return;
        }
        ledger_.receive(id, by);
    }

    shmds_queue_t *q_ = nullptr;
    Ledger ledger_;
    bool pending_ = false;
    std::uint64_t id_ = 0;
};

}  // namespace
}  // namespace soak

SOAK_WORKLOAD(queue_bytes,
              "exactly once, except items held by killed producers/consumers; payloads intact",
              2, soak::QueueBytes);
