// PubSub in the conformance registry: one entry per variant. A write publishes; a read
// subscribes from the oldest message held and expects it.
#include "structure.hpp"

#include <cerrno>
#include <cstring>

namespace shmds::conformance {
namespace {

using P = shmds_pubsub_t;

int read_oldest(Handle h, int variant) {
    shmds_pubsub_sub_t *sub = nullptr;
    if (int r = shmds_pubsub_subscribe_all(as<P>(h), &sub)) return r;
    int result;
    if (variant == SHMDS_PUBSUB_BYTES) {
        char buf[sizeof kProbeBytes + 8] = {};
        std::size_t len = 0;
        result = shmds_pubsub_sub_poll_bytes(sub, buf, sizeof buf, &len, SHMDS_NOWAIT);
        if (result == 0)
            result = len == sizeof kProbeBytes && std::memcmp(buf, kProbeBytes, len) == 0 ? 0 : 1;
    } else {
        std::int64_t v = 0;
        result = shmds_pubsub_sub_poll_int(sub, &v, SHMDS_NOWAIT);
        if (result == 0) result = v == kProbeValue ? 0 : 1;
    }
    shmds_pubsub_sub_close(sub);
    return result;
}

Structure entry(int variant, const char *variant_name) {
    const bool bytes = variant == SHMDS_PUBSUB_BYTES;
    Structure s;
    s.family = "pubsub";
    s.name = std::string("pubsub_") + variant_name;
    s.type_name = "pubsub";
    s.variant_name = variant_name;
    s.create = [variant](const shmds_options_t *o, Handle *out) {
        shmds_pubsub_config_t cfg = SHMDS_PUBSUB_CONFIG_INIT(variant, 8);
        if (variant == SHMDS_PUBSUB_BYTES) cfg.msg_size = 64;
        return shmds_pubsub_create(o, &cfg, reinterpret_cast<P **>(out));
    };
    s.open = [variant](const shmds_options_t *o, Handle *out) {
        return shmds_pubsub_open(o, variant, reinterpret_cast<P **>(out));
    };
    s.close = [](Handle h) { shmds_pubsub_close(as<P>(h)); };
    s.fd = [](Handle h) { return shmds_pubsub_fd(as<P>(h)); };
    s.write = [bytes](Handle h) {
        return bytes ? shmds_pubsub_publish_bytes(as<P>(h), kProbeBytes, sizeof kProbeBytes)
                     : shmds_pubsub_publish_int(as<P>(h), kProbeValue);
    };
    s.read = [variant](Handle h) { return read_oldest(h, variant); };
    // pubsub.h: publishing never signals by itself; the _notify verbs do.
    s.eventfds.push_back(
        {"",
         [](Handle h) { return shmds_pubsub_eventfd(as<P>(h)); },
         [](Handle h, int fd) { return shmds_pubsub_set_eventfd(as<P>(h), fd); },
         [](Handle h) { return shmds_pubsub_notify(as<P>(h)); },
         [](Handle h, std::uint64_t *n) { return shmds_pubsub_eventfd_consume(as<P>(h), n); },
         [bytes](Handle h) {
             return bytes ? shmds_pubsub_publish_notify_bytes(as<P>(h), kProbeBytes,
                                                              sizeof kProbeBytes)
                          : shmds_pubsub_publish_notify_int(as<P>(h), kProbeValue);
         }});
    s.stats = StatsOps{[](Handle h, void *st) {
                           return shmds_pubsub_stats(as<P>(h), static_cast<shmds_pubsub_stats_t *>(st));
                       },
                       offsetof(shmds_pubsub_stats_t, waiting_subscribers) + sizeof(std::uint32_t),
                       sizeof(shmds_pubsub_stats_t)};
    return s;
}

std::vector<Structure> entries() {
    return {entry(SHMDS_PUBSUB_INT16, "int16"), entry(SHMDS_PUBSUB_INT32, "int32"),
            entry(SHMDS_PUBSUB_INT64, "int64"), entry(SHMDS_PUBSUB_BYTES, "bytes")};
}

const Registration registered(entries);

}  // namespace
}  // namespace shmds::conformance
