// The deque and the stack in the conformance registry: one entry per element type each
// (one engine, two structure types that must refuse each other's segments).
#include "structure.hpp"

#include <shmds/deque.h>
#include <shmds/stack.h>

#include <cerrno>
#include <cstring>

namespace shmds::conformance {
namespace {

using D = shmds_deque_t;
using S = shmds_stack_t;
constexpr double kProbeDouble = 0.15625;
// Above INT64_MAX: a uint64 entry proves the _uint verbs carry the full range.
constexpr std::uint64_t kProbeUint = (std::uint64_t{1} << 63) + 12345;

int check_bytes(const char *buf, std::size_t len) {
    return len == sizeof kProbeBytes && std::memcmp(buf, kProbeBytes, len) == 0 ? 0 : 1;
}

Structure deque_entry(int type, const char *type_name) {
    Structure s;
    s.family = "sequential";
    s.name = std::string("sequential_deque_") + type_name;
    s.type_name = "deque";
    s.variant_name = type_name;
    s.create = [type](const shmds_options_t *o, Handle *out) {
        shmds_deque_config_t cfg = SHMDS_DEQUE_CONFIG_INIT(type, 8);
        if (type == SHMDS_TYPE_BYTES) cfg.max_len = 64;
        return shmds_deque_create(o, &cfg, reinterpret_cast<D **>(out));
    };
    s.open = [type](const shmds_options_t *o, Handle *out) {
        return shmds_deque_open(o, type, reinterpret_cast<D **>(out));
    };
    s.close = [](Handle h) { shmds_deque_close(as<D>(h)); };
    s.fd = [](Handle h) { return shmds_deque_fd(as<D>(h)); };
    s.write = [type](Handle h) {
        if (type == SHMDS_TYPE_BYTES)
            return shmds_deque_push_bytes(as<D>(h), SHMDS_DEQUE_FRONT, kProbeBytes,
                                          sizeof kProbeBytes, SHMDS_NOWAIT);
        if (type == SHMDS_TYPE_F64)
            return shmds_deque_push_f64(as<D>(h), SHMDS_DEQUE_FRONT, kProbeDouble, SHMDS_NOWAIT);
        if (type == SHMDS_TYPE_UINT64)
            return shmds_deque_push_uint(as<D>(h), SHMDS_DEQUE_FRONT, kProbeUint, SHMDS_NOWAIT);
        return shmds_deque_push_int(as<D>(h), SHMDS_DEQUE_FRONT, kProbeValue, SHMDS_NOWAIT);
    };
    s.read = [type](Handle h) {
        if (type == SHMDS_TYPE_BYTES) {
            char buf[sizeof kProbeBytes + 8] = {};
            std::size_t len = 0;
            if (int r = shmds_deque_pop_bytes(as<D>(h), SHMDS_DEQUE_BACK, buf, sizeof buf, &len,
                                              SHMDS_NOWAIT))
                return r;
            return check_bytes(buf, len);
        }
        if (type == SHMDS_TYPE_F64) {
            double v = 0;
            if (int r = shmds_deque_pop_f64(as<D>(h), SHMDS_DEQUE_BACK, &v, SHMDS_NOWAIT)) return r;
            return v == kProbeDouble ? 0 : 1;
        }
        if (type == SHMDS_TYPE_UINT64) {
            std::uint64_t v = 0;
            if (int r = shmds_deque_pop_uint(as<D>(h), SHMDS_DEQUE_BACK, &v, SHMDS_NOWAIT))
                return r;
            return v == kProbeUint ? 0 : 1;
        }
        std::int64_t v = 0;
        if (int r = shmds_deque_pop_int(as<D>(h), SHMDS_DEQUE_BACK, &v, SHMDS_NOWAIT)) return r;
        return v == kProbeValue ? 0 : 1;
    };
    // deque.h: pushing never signals the eventfd by itself.
    s.eventfds.push_back({"",
                          [](Handle h) { return shmds_deque_eventfd(as<D>(h)); },
                          [](Handle h, int fd) { return shmds_deque_set_eventfd(as<D>(h), fd); },
                          [](Handle h) { return shmds_deque_notify(as<D>(h)); },
                          [](Handle h, std::uint64_t *n) {
                              return shmds_deque_eventfd_consume(as<D>(h), n);
                          },
                          {}});
    s.stats = StatsOps{[](Handle h, void *st) {
                           return shmds_deque_stats(as<D>(h), static_cast<shmds_deque_stats_t *>(st));
                       },
                       offsetof(shmds_deque_stats_t, segment_bytes) + sizeof(std::uint64_t),
                       sizeof(shmds_deque_stats_t)};
    return s;
}

Structure stack_entry(int type, const char *type_name) {
    Structure s;
    s.family = "sequential";
    s.name = std::string("sequential_stack_") + type_name;
    s.type_name = "stack";
    s.variant_name = type_name;
    s.create = [type](const shmds_options_t *o, Handle *out) {
        shmds_stack_config_t cfg = SHMDS_STACK_CONFIG_INIT(type, 8);
        if (type == SHMDS_TYPE_BYTES) cfg.max_len = 64;
        return shmds_stack_create(o, &cfg, reinterpret_cast<S **>(out));
    };
    s.open = [type](const shmds_options_t *o, Handle *out) {
        return shmds_stack_open(o, type, reinterpret_cast<S **>(out));
    };
    s.close = [](Handle h) { shmds_stack_close(as<S>(h)); };
    s.fd = [](Handle h) { return shmds_stack_fd(as<S>(h)); };
    s.write = [type](Handle h) {
        if (type == SHMDS_TYPE_BYTES)
            return shmds_stack_push_bytes(as<S>(h), kProbeBytes, sizeof kProbeBytes, SHMDS_NOWAIT);
        if (type == SHMDS_TYPE_F64) return shmds_stack_push_f64(as<S>(h), kProbeDouble, SHMDS_NOWAIT);
        if (type == SHMDS_TYPE_UINT64) return shmds_stack_push_uint(as<S>(h), kProbeUint, SHMDS_NOWAIT);
        return shmds_stack_push_int(as<S>(h), kProbeValue, SHMDS_NOWAIT);
    };
    s.read = [type](Handle h) {
        if (type == SHMDS_TYPE_BYTES) {
            char buf[sizeof kProbeBytes + 8] = {};
            std::size_t len = 0;
            if (int r = shmds_stack_pop_bytes(as<S>(h), buf, sizeof buf, &len, SHMDS_NOWAIT))
                return r;
            return check_bytes(buf, len);
        }
        if (type == SHMDS_TYPE_F64) {
            double v = 0;
            if (int r = shmds_stack_pop_f64(as<S>(h), &v, SHMDS_NOWAIT)) return r;
            return v == kProbeDouble ? 0 : 1;
        }
        if (type == SHMDS_TYPE_UINT64) {
            std::uint64_t v = 0;
            if (int r = shmds_stack_pop_uint(as<S>(h), &v, SHMDS_NOWAIT)) return r;
            return v == kProbeUint ? 0 : 1;
        }
        std::int64_t v = 0;
        if (int r = shmds_stack_pop_int(as<S>(h), &v, SHMDS_NOWAIT)) return r;
        return v == kProbeValue ? 0 : 1;
    };
    // stack.h: pushing never signals the eventfd by itself.
    s.eventfds.push_back({"",
                          [](Handle h) { return shmds_stack_eventfd(as<S>(h)); },
                          [](Handle h, int fd) { return shmds_stack_set_eventfd(as<S>(h), fd); },
                          [](Handle h) { return shmds_stack_notify(as<S>(h)); },
                          [](Handle h, std::uint64_t *n) {
                              return shmds_stack_eventfd_consume(as<S>(h), n);
                          },
                          {}});
    s.stats = StatsOps{[](Handle h, void *st) {
                           return shmds_stack_stats(as<S>(h), static_cast<shmds_stack_stats_t *>(st));
                       },
                       offsetof(shmds_stack_stats_t, segment_bytes) + sizeof(std::uint64_t),
                       sizeof(shmds_stack_stats_t)};
    return s;
}

std::vector<Structure> entries() {
    return {stack_entry(SHMDS_TYPE_INT64, "int64"),   stack_entry(SHMDS_TYPE_INT16, "int16"),
            stack_entry(SHMDS_TYPE_UINT64, "uint64"), stack_entry(SHMDS_TYPE_F64, "f64"),
            stack_entry(SHMDS_TYPE_BYTES, "bytes"),   deque_entry(SHMDS_TYPE_INT64, "int64"),
            deque_entry(SHMDS_TYPE_INT16, "int16"),   deque_entry(SHMDS_TYPE_UINT64, "uint64"),
            deque_entry(SHMDS_TYPE_F64, "f64"),       deque_entry(SHMDS_TYPE_BYTES, "bytes")};
}

const Registration registered(entries);

}  // namespace
}  // namespace shmds::conformance
