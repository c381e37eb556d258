// The reqrep engine: one segment holding the request ring and the response slots, and
// the client and server verbs over them. One handle plays both roles (see reqrep.h for
// why); the C API turns handles into this object and nothing else.
#pragma once

#include "core/engine_factory.hpp"
#include "core/deadline.hpp"
#include "core/error.hpp"
#include "core/eventfd.hpp"
#include "core/segment.hpp"
#include "reqrep/layout.hpp"
#include "reqrep/request_ring.hpp"
#include "reqrep/response_slots.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace shmds::reqrep {

struct Config {
    Variant variant;
    std::uint64_t requests;
    std::uint64_t slots;
    std::uint64_t req_size;   // bytes variant; 0 = 256
    std::uint64_t resp_size;  // bytes variant; 0 = 256
};

struct Stats {
    std::uint64_t request_capacity, response_slots, req_size, resp_size, queued, slots_in_use,
        sent, received, replied, collected, cancelled, reclaimed, send_full, reply_refused,
        recoveries, segment_bytes;
    std::uint32_t waiting_servers, waiting_senders;
};

enum class Channel { requests = 0, replies = 1 };

class ReqRep final : public core::SegmentClient {
public:
    static int create(const shmds_options_t *opts, const Config &cfg,
                      std::unique_ptr<ReqRep> &out);
    static int open(const shmds_options_t *opts, std::uint32_t wanted_variant,
                    std::unique_ptr<ReqRep> &out);

    Variant variant() const noexcept { return geom_.variant; }
    bool is_bytes() const noexcept { return geom_.variant == Variant::bytes; }
    const Geometry &geometry() const noexcept { return geom_; }

    // ---- client ----
    int send(const void *data, std::size_t len, std::uint64_t *id,
             const core::Deadline &dl) noexcept;
    int get(std::uint64_t id, void *buf, std::size_t size, std::size_t *len,
            const core::Deadline &dl) noexcept;
    int cancel(std::uint64_t id) noexcept;
    int request(const void *data, std::size_t len, void *buf, std::size_t size,
                std::size_t *out_len, const core::Deadline &dl) noexcept;
    std::int64_t pending() const noexcept { return pending_.load(std::memory_order_relaxed); }

    // ---- server ----
    int recv(const RecvBuffer &out, std::size_t *got, const core::Deadline &dl) noexcept;
    int reply(std::uint64_t id, const void *data, std::size_t len) noexcept;

    void stats(Stats &s) const noexcept;
    core::EventNotifier &events(Channel c) noexcept { return events_[int(c)]; }
    core::Segment &segment() noexcept { return segment_; }

    // SegmentClient
    core::StructureType type() const noexcept override { return core::StructureType::reqrep; }
    std::uint32_t wanted_variant() const noexcept override { return wanted_variant_; }
    const char *variant_name(std::uint32_t v) const noexcept override {
        return reqrep::variant_name(v);
    }
    int describe(core::SegmentShape &s) override;
    int reshape(std::uint32_t variant, const std::uint64_t (&geometry)[core::kGeometryWords],
                core::SegmentShape &s) override;
    void initialize(std::uint8_t *base) noexcept override;

private:
    friend struct core::EngineFactory;
    ReqRep() = default;
    void bind(std::uint8_t *base) noexcept;
    int acquire_slot(std::uint64_t *id, const core::Deadline &dl) noexcept;

    core::Segment segment_;
    Geometry geom_{};
    Config requested_{};
    std::uint32_t wanted_variant_ = 0;
    ReqControl *ctl_ = nullptr;
    RequestRing ring_;
    ResponseSlots slots_;
    std::atomic<std::int64_t> pending_{0};
    core::EventNotifier events_[2];
};

}  // namespace shmds::reqrep
