// What the six sync primitives' C files share: a handle is its engine object, and
// create/open/close/fd/recoveries look the same for all of them.
#pragma once

#include "api.hpp"
#include "sync/sync_segment.hpp"

#include <memory>

namespace shmds::capi {

template <typename Engine, typename Handle>
Engine *sync_engine(Handle *h) noexcept {
    return reinterpret_cast<Engine *>(h);
}
template <typename Engine, typename Handle>
const Engine *sync_engine(const Handle *h) noexcept {
    return reinterpret_cast<const Engine *>(h);
}

// Read the caller's options (read_versioned), run make(options, std::unique_ptr<Engine>&)
// and hand the engine out as a C handle.
template <typename Engine, typename Handle, typename Make>
int sync_make(const char *fn, const shmds_options_t *opts_in, Handle **out,
              Make &&make) noexcept {
    if (!out) return null_arg(fn, "out");
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
int sync_fd(const Handle *h, const char *fn) noexcept {
    if (!h) return null_arg(fn, "handle");
    return sync_engine<Engine>(h)->fd();
}

}  // namespace shmds::capi

#define SHMDS_SYNC_CHECK(h, fn) \
    if (SHMDS_UNLIKELY(!(h))) return ::shmds::capi::null_arg(fn, "handle")
