// reqrep, BYTES variant: even workers are clients, odd ones servers. Clients send
// self-checking requests (request_bytes, or send + get + cancel) and check that every
// reply is intact and answers exactly their request. Servers check every request and
// reply with a transformed copy; a reply refused as already answered (-EEXIST) means a
// request was delivered twice. Few response slots, so dead clients' slots must be
// reclaimed for the run to go on.
#include "message.hpp"

#include <shmds/reqrep.h>

#include <cerrno>

namespace soak {
namespace {

constexpr std::int64_t kSendTimeout = 100'000'000;
constexpr std::int64_t kReplyTimeout = 300'000'000;
constexpr std::size_t kMsgSize = 128;
constexpr std::size_t kBatch = 4;
constexpr std::uint64_t kRequestSalt = 0x8e9, kReplySalt = 0x7e7;

bool is_client(unsigned index) { return index % 2 == 0; }

// A reply is the request's header with the reply salt, at a length derived from it.
std::size_t reply_length(const MessageHeader &req) {
    return kMessageHeader + mix64(req.check) % (kMsgSize - kMessageHeader + 1);
}

class ReqRepBytes : public Workload {
public:
    void setup(const Params &) override {
        shmds_reqrep_config_t cfg = SHMDS_REQREP_CONFIG_INIT(SHMDS_REQREP_BYTES, 16, 8);
        cfg.req_size = kMsgSize;
        cfg.resp_size = kMsgSize;
        int rc = shmds_reqrep_create(nullptr, &cfg, &rr_);
        if (rc != 0) violation("shmds_reqrep_create: {}", describe_rc(rc));
    }

    Step step(Worker &w) override { return is_client(w.index()) ? ask(w) : serve(w); }

    void verify(const Params &, const Deaths &) override {
        shmds_reqrep_stats_t st{};
        st.struct_size = sizeof st;
        shmds_reqrep_stats(rr_, &st);
        note("sent {}, received {}, replied {}, collected {}, cancelled {}, reclaimed {}, "
             "refused replies {}, recoveries {}",
             st.sent, st.received, st.replied, st.collected, st.cancelled, st.reclaimed,
             st.reply_refused, st.recoveries);
        if (st.collected > st.replied)
            violation("reqrep: {} replies collected but only {} written", st.collected, st.replied);
        shmds_reqrep_close(rr_);
    }

private:
    Step ask(Worker &w) {
        std::uint8_t req[kMsgSize], reply[kMsgSize];
        std::size_t len = kMessageHeader + w.rng()() % (kMsgSize - kMessageHeader + 1);
        write_message(req, len, w.index(), w.incarnation(), seq_++, kRequestSalt);
        MessageHeader sent{};
        read_message(req, len, kRequestSalt, sent);
        std::size_t got = 0;
        int rc;
        if (w.chance(50)) {
            rc = shmds_reqrep_request_bytes(rr_, req, len, reply, sizeof reply, &got, kReplyTimeout);
        } else {
            std::uint64_t id = 0;
            rc = shmds_reqrep_send_bytes(rr_, req, len, &id, kSendTimeout);
            if (rc == 0) {
                rc = shmds_reqrep_get_bytes(rr_, id, reply, sizeof reply, &got, kReplyTimeout);
                if (rc == -ETIMEDOUT) cancel(id);
            }
        }
        if (rc == -ETIMEDOUT || rc == -EAGAIN) return Step::idle;
        if (rc != 0) {
            violation("reqrep client: {}", describe_rc(rc));
            return Step::idle;
        }
        MessageHeader h{};
        if (!read_message(reply, got, kReplySalt, h))
            violation("reqrep: client {} got a torn reply of {} bytes", w.index(), got);
        else if (h.sender != sent.sender || h.incarnation != sent.incarnation || h.seq != sent.seq ||
                 got != reply_length(sent))
            violation("reqrep: client {} seq {} got the reply to client {} incarnation {} seq {}",
                      w.index(), sent.seq, h.sender, h.incarnation, h.seq);
        return Step::progress;
    }

    // Give up on a request; a server busy copying the reply makes cancel say -EAGAIN.
    void cancel(std::uint64_t id) {
        for (int tries = 0; tries < 20; ++tries) {
            int rc = shmds_reqrep_cancel(rr_, id);
            if (rc == 0 || rc == -ENOENT) return;
            if (rc != -EAGAIN) {
                violation("shmds_reqrep_cancel: {}", describe_rc(rc));
                return;
            }
        }
    }

    Step serve(Worker &w) {
        std::uint8_t buf[kBatch * kMsgSize];
        std::size_t lens[kBatch];
        std::uint64_t ids[kBatch];
        std::size_t got = 0;
        int rc;
        // Requests taken and not yet answered: a server killed with them leaves their
        // clients to time out.
        bool multi = w.chance(30);
        w.hold(multi ? kBatch : 1);
        if (multi) {
            rc = shmds_reqrep_recv_multi_bytes(rr_, buf, sizeof buf, lens, ids, kBatch, &got,
                                               kSendTimeout);
        } else {
            rc = shmds_reqrep_recv_bytes(rr_, buf, kMsgSize, &lens[0], &ids[0], kSendTimeout);
            got = rc == 0 ? 1 : 0;
        }
        if (rc != 0) w.release();
        if (rc == -ETIMEDOUT || rc == -EAGAIN) return Step::idle;
        if (rc != 0) {
            violation("reqrep server: {}", describe_rc(rc));
            return Step::idle;
        }
        bool replied = false;
        std::size_t at = 0;
        for (std::size_t i = 0; i < got; ++i) {
            MessageHeader h{};
            if (!read_message(buf + at, lens[i], kRequestSalt, h)) {
                violation("reqrep: server {} got a torn request of {} bytes", w.index(), lens[i]);
            } else {
                std::uint8_t reply[kMsgSize];
                write_message(reply, reply_length(h), h.sender, h.incarnation, h.seq, kReplySalt);
                int r = shmds_reqrep_reply_bytes(rr_, ids[i], reply, reply_length(h));
                if (r == 0)
                    replied = true;
                else if (r == -EEXIST)
                    violation("reqrep: request {} of client {} was delivered twice (its reply "
                              "is already written)",
                              h.seq, h.sender);
                else if (r != -ECANCELED && r != -ENOENT)
                    violation("shmds_reqrep_reply_bytes: {}", describe_rc(r));
            }
            at += lens[i];
        }
        w.release();
        return replied ? Step::progress : Step::idle;
    }

    shmds_reqrep_t *rr_ = nullptr;
    std::uint64_t seq_ = 0;  // worker-local
};

}  // namespace
}  // namespace soak

SOAK_WORKLOAD(reqrep_bytes,
              "requests and replies intact; each reply answers exactly its request; no request "
              "delivered twice",
              2, soak::ReqRepBytes);
