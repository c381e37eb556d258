// What the six sync primitives' entries share: their lifecycle has one shape
// (sync.h: create(opts, <parameters>, &out), open, close, fd) and no variants.
#pragma once

#include "structure.hpp"

#include <functional>

namespace shmds::conformance {

template <typename H>
Structure sync_structure(const char *type, std::function<int(const shmds_options_t *, H **)> create,
                         int (*open)(const shmds_options_t *, H **), void (*close)(H *),
                         int (*fd)(const H *)) {
    Structure s;
    s.family = "sync";
    s.name = std::string("sync_") + type;
    s.type_name = type;
    s.create = [create](const shmds_options_t *o, Handle *out) {
        return create(o, reinterpret_cast<H **>(out));
    };
    s.open = [open](const shmds_options_t *o, Handle *out) {
        return open(o, reinterpret_cast<H **>(out));
    };
    s.close = [close](Handle h) { close(as<H>(h)); };
    s.fd = [fd](Handle h) { return fd(as<H>(h)); };
    return s;
}

// The eventfd verbs of a sync primitive (semaphore, barrier), with a verb that wakes
// waiters and so must be seen not to signal the eventfd.
template <typename H>
EventfdOps sync_eventfd(int (*get)(H *), int (*set)(H *, int), int (*notify)(H *),
                        int (*consume)(H *, std::uint64_t *),
                        std::function<int(Handle)> quiet_verb) {
    return {"",
            [get](Handle h) { return get(as<H>(h)); },
            [set](Handle h, int fd) { return set(as<H>(h), fd); },
            [notify](Handle h) { return notify(as<H>(h)); },
            [consume](Handle h, std::uint64_t *n) { return consume(as<H>(h), n); },
            {},
            std::move(quiet_verb)};
}

}  // namespace shmds::conformance
