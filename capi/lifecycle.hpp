// The C-API kit's lifecycle half: what every structure's exported functions share, so a
// capi/<structure>.cpp writes its verbs and one line per lifecycle export.
//
//  - A C handle is its engine object (the C type is never defined): engine_of<Engine>.
//  - create/open: make_handle reads the options (read_versioned) and hands the engine
//    out as a handle; close_handle deletes it (NULL is a no-op, like free()).
//  - fd/sync/recoveries of the engine's segment.
//  - The eventfd verbs over a core::EventNotifier (the rule they follow is in common.h,
//    "Eventfds"), and SHMDS_CAPI_EVENTFD_EXPORTS for a handle with one notifier.
#pragma once

#include "api.hpp"
#include "core/eventfd.hpp"

#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

namespace shmds::capi {

template <typename Engine, typename Handle>
Engine *engine_of(Handle *h) noexcept {
    return reinterpret_cast<Engine *>(h);
}
template <typename Engine, typename Handle>
const Engine *engine_of(const Handle *h) noexcept {
    return reinterpret_cast<const Engine *>(h);
}

// Read the caller's options, run make(options, std::unique_ptr<Engine>&) and hand the
// engine out through *out (untouched on failure).
template <typename Engine, typename Handle, typename Make>
int make_handle(const char *fn, const shmds_options_t *opts_in, Handle **out,
                Make &&make) noexcept {
    if (SHMDS_UNLIKELY(!out)) return null_arg(fn, "out");
    OptionsIn opts;
    if (int r = opts.read(fn, opts_in)) return r;
    return guarded(fn, [&] {
        std::unique_ptr<Engine> e;
        if (int r = make(opts.get(), e)) return r;
        *out = reinterpret_cast<Handle *>(e.release());
        return 0;
    });
}

template <typename Engine, typename Handle>
void close_handle(Handle *h) noexcept {
    delete engine_of<Engine>(h);
}

// The descriptor behind the handle's segment; -ENOENT with a sentence if it has none.
template <typename Engine, typename Handle>
int segment_fd(const Handle *h, const char *fn, const char *noun) noexcept {
    if (SHMDS_UNLIKELY(!h)) return null_arg(fn, noun);
    // segment() is non-const on the engines; fd() only reads.
    const int fd = const_cast<Engine *>(engine_of<Engine>(h))->segment().fd();
    if (fd < 0)
        return core::fail(-ENOENT, "{}: an anonymous {} has no descriptor; create it as a memfd",
                          fn, noun);
    return fd;
}

template <typename Engine, typename Handle>
int segment_sync(const Handle *h, const char *fn, const char *noun) noexcept {
    if (SHMDS_UNLIKELY(!h)) return null_arg(fn, noun);
    return const_cast<Engine *>(engine_of<Engine>(h))->segment().sync();
}

// Recoveries: an engine that repairs more than its segment header counts says so with
// recovery_count(); otherwise the header's counter is the whole story. 0 for NULL.
template <typename Engine, typename = void>
struct has_recovery_count : std::false_type {};
template <typename Engine>
struct has_recovery_count<Engine,
                          std::void_t<decltype(std::declval<const Engine &>().recovery_count())>>
    : std::true_type {};

template <typename Engine, typename Handle>
std::uint64_t recoveries_of(const Handle *h) noexcept {
    if (!h) return 0;
    const Engine *e = engine_of<Engine>(h);
    if constexpr (has_recovery_count<Engine>::value)
        return e->recovery_count();
    else
        return e->recoveries().load(std::memory_order_relaxed);
}

// Check the handle, turn timeout_ns into a deadline, and return verb(engine, deadline):
// the shape of every blocking verb.
template <typename Engine, typename Handle, typename Verb>
int timed(Handle *h, const char *fn, const char *noun, std::int64_t timeout_ns,
          Verb &&verb) noexcept {
    if (SHMDS_UNLIKELY(!h)) return null_arg(fn, noun);
    core::Deadline dl;
    if (int r = make_deadline(timeout_ns, dl)) return r;
    return verb(*engine_of<Engine>(h), dl);
}

// ---- eventfd verbs: one function object per verb, applied to the handle's notifier.
struct EventfdGet {
    int operator()(core::EventNotifier &n) const noexcept { return n.get_or_create(); }
};
struct EventfdSet {
    int fd;
    int operator()(core::EventNotifier &n) const noexcept { return n.set(fd); }
};
struct EventfdNotify {
    int operator()(core::EventNotifier &n) const noexcept { return n.notify(); }
};
struct EventfdConsume {
    std::uint64_t *count;
    int operator()(core::EventNotifier &n) const noexcept { return n.consume(count); }
};

// Apply an eventfd verb to the one notifier of a handle (engine->events()).
template <typename Engine, typename Handle, typename Verb>
int on_events(Handle *h, const char *fn, const char *noun, Verb verb) noexcept {
    if (SHMDS_UNLIKELY(!h)) return null_arg(fn, noun);
    return verb(engine_of<Engine>(h)->events());
}

}  // namespace shmds::capi

// Fail with "<fn>: <name> is NULL" (-EINVAL) when p is NULL.
#define CAPI_REQUIRE(p, fn, name) \
    if (SHMDS_UNLIKELY(!(p))) return ::shmds::capi::null_arg(fn, name)

// The four eventfd exports of a structure whose handle has one notifier:
// <prefix>_eventfd, _set_eventfd, _notify and _eventfd_consume (documented in each
// structure's header; the rule they follow is in common.h, "Eventfds").
#define SHMDS_CAPI_EVENTFD_EXPORTS(prefix, Handle, Engine, noun)                               \
    SHMDS_API int prefix##_eventfd(Handle *h) {                                               \
        return ::shmds::capi::on_events<Engine>(h, #prefix "_eventfd", noun,                  \
                                                ::shmds::capi::EventfdGet{});                 \
    }                                                                                         \
    SHMDS_API int prefix##_set_eventfd(Handle *h, int fd) {                                   \
        return ::shmds::capi::on_events<Engine>(h, #prefix "_set_eventfd", noun,              \
                                                ::shmds::capi::EventfdSet{fd});               \
    }                                                                                         \
    SHMDS_API int prefix##_notify(Handle *h) {                                                \
        return ::shmds::capi::on_events<Engine>(h, #prefix "_notify", noun,                   \
                                                ::shmds::capi::EventfdNotify{});              \
    }                                                                                         \
    SHMDS_API int prefix##_eventfd_consume(Handle *h, uint64_t *count) {                      \
        return ::shmds::capi::on_events<Engine>(h, #prefix "_eventfd_consume", noun,          \
                                                ::shmds::capi::EventfdConsume{count});        \
    }
