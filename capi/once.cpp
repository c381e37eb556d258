// The exported once functions: argument checks and the handle-to-engine mapping.
#include "sync/once.hpp"
#include "lifecycle.hpp"

#include <shmds/sync.h>

using shmds::sync::Once;
namespace capi = shmds::capi;

namespace {
constexpr char kNoun[] = "once";
Once *engine(shmds_once_t *o) noexcept { return capi::engine_of<Once>(o); }
const Once *engine(const shmds_once_t *o) noexcept { return capi::engine_of<Once>(o); }
}  // namespace

extern "C" {

SHMDS_API int shmds_once_create(const shmds_options_t *opts, shmds_once_t **out) {
    return capi::make_handle<Once>("shmds_once_create", opts, out,
        [&](auto *o, auto &e) { return Once::create(o, e); });
}

SHMDS_API int shmds_once_open(const shmds_options_t *opts, shmds_once_t **out) {
    return capi::make_handle<Once>("shmds_once_open", opts, out,
        [&](auto *o, auto &e) { return Once::open(o, e); });
}

SHMDS_API void shmds_once_close(shmds_once_t *o) { capi::close_handle<Once>(o); }

SHMDS_API int shmds_once_fd(const shmds_once_t *o) {
    return capi::segment_fd<Once>(o, "shmds_once_fd", kNoun);
}

SHMDS_API uint64_t shmds_once_recoveries(const shmds_once_t *o) {
    return capi::recoveries_of<Once>(o);
}

SHMDS_API int shmds_once_enter(shmds_once_t *o, int64_t timeout_ns) {
    return capi::timed<Once>(o, "shmds_once_enter", kNoun, timeout_ns,
        [](auto &e, const auto &dl) { return e.enter(dl); });
}

SHMDS_API int shmds_once_done(shmds_once_t *o) {
    CAPI_REQUIRE(o, "shmds_once_done", kNoun);
    return engine(o)->done();
}

SHMDS_API int shmds_once_is_done(const shmds_once_t *o) {
    CAPI_REQUIRE(o, "shmds_once_is_done", kNoun);
    return engine(o)->is_done() ? 1 : 0;
}

SHMDS_API int shmds_once_reset(shmds_once_t *o) {
    CAPI_REQUIRE(o, "shmds_once_reset", kNoun);
    return engine(o)->reset();
}

}  // extern "C"
