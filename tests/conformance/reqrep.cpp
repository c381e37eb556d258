// ReqRep in the conformance registry: one entry per variant, with both eventfd
// channels. A write sends a request; a read receives it (as a server would).
#include "structure.hpp"

#include <cerrno>
#include <cstring>

namespace shmds::conformance {
namespace {

using R = shmds_reqrep_t;

int receive(Handle h, bool bytes) {
    std::uint64_t id = 0;
    if (bytes) {
        char buf[sizeof kProbeBytes + 8] = {};
        std::size_t len = 0;
        if (int r = shmds_reqrep_recv_bytes(as<R>(h), buf, sizeof buf, &len, &id, SHMDS_NOWAIT))
            return r;
        return len == sizeof kProbeBytes && std::memcmp(buf, kProbeBytes, len) == 0 ? 0 : 1;
    }
    std::int64_t v = 0;
    if (int r = shmds_reqrep_recv_int(as<R>(h), &v, &id, SHMDS_NOWAIT)) return r;
    return v == kProbeValue ? 0 : 1;
}

// reqrep.h: sending and replying never signal the eventfds by themselves.
EventfdOps channel(int which, const char *label) {
    return {label,
            [which](Handle h) { return shmds_reqrep_eventfd(as<R>(h), which); },
            [which](Handle h, int fd) { return shmds_reqrep_set_eventfd(as<R>(h), which, fd); },
            [which](Handle h) { return shmds_reqrep_notify(as<R>(h), which); },
            [which](Handle h, std::uint64_t *n) {
                return shmds_reqrep_eventfd_consume(as<R>(h), which, n);
            },
            {}};
}

Structure entry(int variant, const char *variant_name) {
    const bool bytes = variant == SHMDS_REQREP_BYTES;
    Structure s;
    s.family = "reqrep";
    s.name = std::string("reqrep_") + variant_name;
    s.type_name = "reqrep";
    s.variant_name = variant_name;
    s.create = [variant](const shmds_options_t *o, Handle *out) {
        shmds_reqrep_config_t cfg = SHMDS_REQREP_CONFIG_INIT(variant, 4, 4);
        if (variant == SHMDS_REQREP_BYTES) cfg.req_size = cfg.resp_size = 64;
        return shmds_reqrep_create(o, &cfg, reinterpret_cast<R **>(out));
    };
    s.open = [variant](const shmds_options_t *o, Handle *out) {
        return shmds_reqrep_open(o, variant, reinterpret_cast<R **>(out));
    };
    s.close = [](Handle h) { shmds_reqrep_close(as<R>(h)); };
    s.fd = [](Handle h) { return shmds_reqrep_fd(as<R>(h)); };
    s.write = [bytes](Handle h) {
        std::uint64_t id = 0;
        return bytes ? shmds_reqrep_send_bytes(as<R>(h), kProbeBytes, sizeof kProbeBytes, &id,
                                               SHMDS_NOWAIT)
                     : shmds_reqrep_send_int(as<R>(h), kProbeValue, &id, SHMDS_NOWAIT);
    };
    s.read = [bytes](Handle h) { return receive(h, bytes); };
    s.eventfds = {channel(SHMDS_REQREP_REQUESTS, "requests"),
                  channel(SHMDS_REQREP_REPLIES, "replies")};
    s.stats = StatsOps{[](Handle h, void *st) {
                           return shmds_reqrep_stats(as<R>(h), static_cast<shmds_reqrep_stats_t *>(st));
                       },
                       offsetof(shmds_reqrep_stats_t, waiting_senders) + sizeof(std::uint32_t),
                       sizeof(shmds_reqrep_stats_t)};
    return s;
}

std::vector<Structure> entries() {
    return {entry(SHMDS_REQREP_INT64, "int64"), entry(SHMDS_REQREP_BYTES, "bytes")};
}

const Registration registered(entries);

}  // namespace
}  // namespace shmds::conformance
