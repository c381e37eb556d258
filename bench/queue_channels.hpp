// libshmds queues as benchmark channels: the public C API through the shared library,
// exactly what a user links. Anonymous backing (MAP_SHARED, inherited across fork()),
// blocking calls with SHMDS_FOREVER, and the batch verbs for the *_many methods.
#pragma once

#include "messages.hpp"
#include "peer_channels.hpp"

#include <shmds/queue.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace shmds::bench {

inline void check_shmds(int rc, const char *call) {
    if (rc != 0)
        throw Failure(std::string(call) + ": " + shmds_errname(rc) + ": " + shmds_last_error());
}

class ShmdsQueueBase {
public:
    ShmdsQueueBase(int variant, std::uint64_t capacity) {
        shmds_options_t opts = SHMDS_OPTIONS_INIT;
        shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(variant, capacity);
        check_shmds(shmds_queue_create(&opts, &cfg, &q_), "shmds_queue_create");
    }
    ~ShmdsQueueBase() { shmds_queue_close(q_); }
    ShmdsQueueBase(const ShmdsQueueBase &) = delete;
    ShmdsQueueBase &operator=(const ShmdsQueueBase &) = delete;
    std::string note() const { return ""; }

protected:
    shmds_queue_t *q_ = nullptr;
};

class ShmdsIntChannel : ShmdsQueueBase {
public:
    using Msg = std::uint64_t;
    ShmdsIntChannel() : ShmdsQueueBase(SHMDS_QUEUE_INT64, kQueueCapacity) {}
    using ShmdsQueueBase::note;

    void send(const Msg &m) {
        check_shmds(shmds_queue_push_int(q_, std::int64_t(m), SHMDS_FOREVER), "shmds_queue_push_int");
    }
    void recv(Msg &m) {
        std::int64_t v;
        check_shmds(shmds_queue_pop_int(q_, &v, SHMDS_FOREVER), "shmds_queue_pop_int");
        m = std::uint64_t(v);
    }
    void send_many(const Msg *m, std::size_t n) {
        std::size_t pushed = 0;
        check_shmds(shmds_queue_push_multi_int(q_, reinterpret_cast<const std::int64_t *>(m), n,
                                               &pushed, SHMDS_FOREVER),
                    "shmds_queue_push_multi_int");
    }
    // Blocks for the first message only, like pop_multi.
    std::size_t recv_many(Msg *out, std::size_t max) {
        std::size_t got = 0;
        check_shmds(shmds_queue_pop_multi_int(q_, reinterpret_cast<std::int64_t *>(out), max, &got,
                                              SHMDS_FOREVER),
                    "shmds_queue_pop_multi_int");
        return got;
    }
};

class ShmdsBytesChannel : ShmdsQueueBase {
public:
    using Msg = Msg64;
    static constexpr std::size_t kMaxBatch = 64;
    ShmdsBytesChannel() : ShmdsQueueBase(SHMDS_QUEUE_BYTES, kQueueCapacity) {
        for (std::size_t i = 0; i < kMaxBatch; ++i) lens_[i] = sizeof(Msg);
    }
    using ShmdsQueueBase::note;

    void send(const Msg &m) {
        check_shmds(shmds_queue_push_bytes(q_, &m, sizeof m, SHMDS_FOREVER), "shmds_queue_push_bytes");
    }
    void recv(Msg &m) {
        std::size_t len = 0;
        check_shmds(shmds_queue_pop_bytes(q_, &m, sizeof m, &len, SHMDS_FOREVER),
                    "shmds_queue_pop_bytes");
        if (len != sizeof m) throw Failure("shmds_queue_pop_bytes: message of " + std::to_string(len) + " bytes");
    }
    void send_many(const Msg *m, std::size_t n) {
        if (n > kMaxBatch) throw Failure("batch larger than the channel's 64");
        for (std::size_t i = 0; i < n; ++i) datas_[i] = &m[i];
        std::size_t pushed = 0;
        check_shmds(shmds_queue_push_multi_bytes(q_, datas_, lens_, n, &pushed, SHMDS_FOREVER),
                    "shmds_queue_push_multi_bytes");
    }
    // Messages are packed back to back, so an array of 64-byte records receives them.
    std::size_t recv_many(Msg *out, std::size_t max) {
        if (max > kMaxBatch) max = kMaxBatch;
        std::size_t got = 0;
        check_shmds(shmds_queue_pop_multi_bytes(q_, out, max * sizeof(Msg), got_lens_, max, &got,
                                                SHMDS_FOREVER),
                    "shmds_queue_pop_multi_bytes");
        for (std::size_t i = 0; i < got; ++i)
            if (got_lens_[i] != sizeof(Msg))
                throw Failure("shmds_queue_pop_multi_bytes: message of " +
                              std::to_string(got_lens_[i]) + " bytes");
        return got;
    }

private:
    const void *datas_[kMaxBatch];
    std::size_t lens_[kMaxBatch];
    std::size_t got_lens_[kMaxBatch];
};

}  // namespace shmds::bench
