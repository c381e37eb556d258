// The log in the conformance registry: one entry (entries are byte strings).
#include "structure.hpp"

#include <cerrno>
#include <cstring>

namespace shmds::conformance {
namespace {

using L = shmds_log_t;

// The proof of sharing: an entry appended through one handle, found through another.
int read_probe(Handle h) {
    char buf[sizeof kProbeBytes + 8] = {};
    std::size_t len = 0;
    const std::uint64_t tail = shmds_log_tail_offset(as<L>(h));
    if (tail == 0) return 1;
    // The probe is the only entry a conformance check appends: read it at offset 0.
    if (int r = shmds_log_read_entry(as<L>(h), 0, buf, sizeof buf, &len, nullptr)) return r;
    return len == sizeof kProbeBytes && std::memcmp(buf, kProbeBytes, len) == 0 ? 0 : 1;
}

std::vector<Structure> entries() {
    Structure s;
    s.family = "sequential";
    s.name = "sequential_log";
    s.type_name = "log";
    s.variant_name = "";
    s.create = [](const shmds_options_t *o, Handle *out) {
        shmds_log_config_t cfg = SHMDS_LOG_CONFIG_INIT(4096);
        return shmds_log_create(o, &cfg, reinterpret_cast<L **>(out));
    };
    s.open = [](const shmds_options_t *o, Handle *out) {
        return shmds_log_open(o, reinterpret_cast<L **>(out));
    };
    s.close = [](Handle h) { shmds_log_close(as<L>(h)); };
    s.fd = [](Handle h) { return shmds_log_fd(as<L>(h)); };
    s.write = [](Handle h) {
        return shmds_log_append(as<L>(h), kProbeBytes, sizeof kProbeBytes, nullptr);
    };
    s.read = read_probe;
    // log.h: appending never signals the eventfd by itself.
    s.eventfds.push_back({"",
                          [](Handle h) { return shmds_log_eventfd(as<L>(h)); },
                          [](Handle h, int fd) { return shmds_log_set_eventfd(as<L>(h), fd); },
                          [](Handle h) { return shmds_log_notify(as<L>(h)); },
                          [](Handle h, std::uint64_t *n) {
                              return shmds_log_eventfd_consume(as<L>(h), n);
                          },
                          {},
                          [](Handle h) {
                              return shmds_log_append(as<L>(h), kProbeBytes, sizeof kProbeBytes,
                                                      nullptr);
                          }});
    s.stats = StatsOps{[](Handle h, void *st) {
                           return shmds_log_stats(as<L>(h), static_cast<shmds_log_stats_t *>(st));
                       },
                       offsetof(shmds_log_stats_t, segment_bytes) + sizeof(std::uint64_t),
                       sizeof(shmds_log_stats_t)};
    return {s};
}

const Registration registered(entries);

}  // namespace
}  // namespace shmds::conformance
