// pubsub, BYTES variant: even workers publish self-checking messages (single or batched),
// odd ones subscribe and check every message: intact, and per publisher incarnation in
// strictly increasing sequence (no duplicate, no reordering), with gaps only as large as
// the subscriber's own overflow and skipped counts say. Afterwards the supervisor reads
// back everything the ring still holds the same way.
#include "message.hpp"

#include <shmds/pubsub.h>

#include <cerrno>
#include <sched.h>
#include <vector>

namespace soak {
namespace {

constexpr std::int64_t kTimeout = 100'000'000;
constexpr std::size_t kMsgSize = 128;
constexpr std::size_t kBatch = 4;
constexpr std::uint64_t kSalt = 0x9b5b;

bool is_publisher(unsigned index) { return index % 2 == 0; }

// What one reader has seen so far, per publisher index.
class OrderCheck {
public:
    explicit OrderCheck(unsigned workers) : last_(workers) {}

    // Checks one message; returns the positions it shows were missed (0 if none).
    std::uint64_t see(const MessageHeader &h, const char *who) {
        if (h.sender >= last_.size()) {
            violation("pubsub: {} got a message from publisher {}, which does not exist", who,
                      h.sender);
            return 0;
        }
        Last &l = last_[h.sender];
        std::uint64_t gap = 0;
        if (l.seen && (h.incarnation < l.incarnation ||
                       (h.incarnation == l.incarnation && h.seq <= l.seq)))
            violation("pubsub: {} got publisher {} incarnation {} seq {} after incarnation {} "
                      "seq {}: duplicated or out of order",
                      who, h.sender, h.incarnation, h.seq, l.incarnation, l.seq);
        else if (l.seen && h.incarnation == l.incarnation)
            gap = h.seq - l.seq - 1;
        l = Last{true, h.incarnation, h.seq};
        return gap;
    }

private:
    struct Last {
        bool seen = false;
        std::uint32_t incarnation = 0;
        std::uint64_t seq = 0;
    };
    std::vector<Last> last_;
};

class PubSubBytes : public Workload {
public:
    void setup(const Params &p) override {
        shmds_pubsub_config_t cfg = SHMDS_PUBSUB_CONFIG_INIT(SHMDS_PUBSUB_BYTES, 256);
        cfg.msg_size = kMsgSize;
        int rc = shmds_pubsub_create(nullptr, &cfg, &ps_);
        if (rc != 0) violation("shmds_pubsub_create: {}", describe_rc(rc));
        workers_ = p.workers;
    }

    void start(Worker &w) override {
        if (is_publisher(w.index())) return;
        int rc = shmds_pubsub_subscribe(ps_, &sub_);
        if (rc != 0) violation("shmds_pubsub_subscribe: {}", describe_rc(rc));
        order_ = std::make_unique<OrderCheck>(workers_);
    }

    Step step(Worker &w) override {
        return is_publisher(w.index()) ? publish(w) : receive(w);
    }

    void verify(const Params &, const Deaths &) override {
        shmds_pubsub_sub_t *sub = nullptr;
        if (int rc = shmds_pubsub_subscribe_all(ps_, &sub)) {
            violation("shmds_pubsub_subscribe_all: {}", describe_rc(rc));
            return;
        }
        OrderCheck order(workers_);
        std::uint8_t buf[kMsgSize];
        std::size_t len = 0;
        std::uint64_t held = 0;
        int rc;
        while ((rc = shmds_pubsub_sub_poll_bytes(sub, buf, sizeof buf, &len, SHMDS_NOWAIT)) == 0) {
            check(buf, len, order, "the final read-back");
            ++held;
        }
        if (rc != -EAGAIN) violation("final read-back: {}", describe_rc(rc));
        shmds_pubsub_stats_t st{};
        st.struct_size = sizeof st;
        shmds_pubsub_stats(ps_, &st);
        note("read back {} held messages intact; positions {}, skipped {}, torn rejected {}, "
             "takeovers {}, recoveries {}",
             held, st.write_pos, st.skipped, st.torn, st.takeovers, st.recoveries);
        shmds_pubsub_sub_close(sub);
        shmds_pubsub_close(ps_);
    }

private:
    Step publish(Worker &w) {
        std::uint8_t bufs[kBatch][kMsgSize];
        const void *datas[kBatch];
        std::size_t lens[kBatch];
        std::size_t n = w.chance(25) ? 1 + w.rng()() % kBatch : 1;
        for (std::size_t i = 0; i < n; ++i) {
            lens[i] = kMessageHeader + w.rng()() % (kMsgSize - kMessageHeader + 1);
            write_message(bufs[i], lens[i], w.index(), w.incarnation(), seq_ + i, kSalt);
            datas[i] = bufs[i];
        }
        w.hold(static_cast<std::uint32_t>(n));  // a kill now leaves claimed positions behind
        int rc = n == 1 ? shmds_pubsub_publish_bytes(ps_, datas[0], lens[0])
                        : shmds_pubsub_publish_multi_bytes(ps_, datas, lens, n);
        w.release();
        if (rc != 0) {
            violation("shmds_pubsub_publish: {}", describe_rc(rc));
            return Step::idle;
        }
        seq_ += n;
        // Publishers never block; yield now and then so subscribers are not lapped always.
        if (w.chance(50)) sched_yield();
        return Step::progress;
    }

    Step receive(Worker &w) {
        std::uint8_t buf[kBatch * kMsgSize];
        std::size_t lens[kBatch];
        std::size_t got = 0;
        int rc;
        if (w.chance(30)) {
            rc = shmds_pubsub_sub_poll_multi_bytes(sub_, buf, sizeof buf, lens, kBatch, &got, kTimeout);
        } else {
            rc = shmds_pubsub_sub_poll_bytes(sub_, buf, kMsgSize, &lens[0], kTimeout);
            got = rc == 0 ? 1 : 0;
        }
        if (rc != 0) {
            if (rc != -ETIMEDOUT && rc != -EAGAIN) violation("shmds_pubsub_sub_poll: {}", describe_rc(rc));
            return Step::idle;
        }
        std::size_t at = 0;
        for (std::size_t i = 0; i < got; ++i) {
            gaps_ += check(buf + at, lens[i], *order_, "a subscriber");
            at += lens[i];
        }
        std::uint64_t explained = shmds_pubsub_sub_overflow_count(sub_) +
                                  shmds_pubsub_sub_skipped_count(sub_);
        if (gaps_ > explained)
            violation("pubsub: a subscriber missed {} messages within publisher sequences, but "
                      "its overflow and skipped counts explain only {}",
                      gaps_, explained);
        return got ? Step::progress : Step::idle;
    }

    static std::uint64_t check(const std::uint8_t *msg, std::size_t len, OrderCheck &order,
                               const char *who) {
        MessageHeader h{};
        if (!read_message(msg, len, kSalt, h)) {
            violation("pubsub: {} got a torn message of {} bytes", who, len);
            return 0;
        }
        return order.see(h, who);
    }

    shmds_pubsub_t *ps_ = nullptr;
    unsigned workers_ = 0;
    // Worker-local.
    shmds_pubsub_sub_t *sub_ = nullptr;
    std::unique_ptr<OrderCheck> order_;
    std::uint64_t seq_ = 0;
    std::uint64_t gaps_ = 0;
};

}  // namespace
}  // namespace soak

SOAK_WORKLOAD(pubsub_bytes,
              "messages intact, per publisher in order without duplicates, gaps only where "
              "lapped or skipped",
              2, soak::PubSubBytes);
