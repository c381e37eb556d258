// The exported once functions: argument checks and the handle-to-engine mapping.
#include "sync/once.hpp"
#include "sync_handles.hpp"

#include <shmds/sync.h>

using shmds::sync::Once;
namespace capi = shmds::capi;

namespace {
Once *engine(shmds_once_t *o) noexcept { return capi::sync_engine<Once>(o); }
const Once *engine(const shmds_once_t *o) noexcept { return capi::sync_engine<Once>(o); }
}  // namespace

extern "C" {

SHMDS_API int shmds_once_create(const shmds_options_t *opts, shmds_once_t **out) {
    return capi::sync_make<Once>("shmds_once_create", opts, out,
                                 [&](auto *o, auto &e) { return Once::create(o, e); });
}

SHMDS_API int shmds_once_open(const shmds_options_t *opts, shmds_once_t **out) {
    return capi::sync_make<Once>("shmds_once_open", opts, out,
                                 [&](auto *o, auto &e) { return Once::open(o, e); });
}

SHMDS_API void shmds_once_close(shmds_once_t *o) { delete engine(o); }

SHMDS_API int shmds_once_fd(const shmds_once_t *o) {
    return capi::sync_fd<Once>(o, "shmds_once_fd");
}

SHMDS_API uint64_t shmds_once_recoveries(const shmds_once_t *o) {
    return o ? engine(o)->recovery_count() : 0;
}

SHMDS_API int shmds_once_enter(shmds_once_t *o, int64_t timeout_ns) {
    SHMDS_SYNC_CHECK(o, "shmds_once_enter");
    shmds::core::Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return engine(o)->enter(dl);
}

SHMDS_API int shmds_once_done(shmds_once_t *o) {
    SHMDS_SYNC_CHECK(o, "shmds_once_done");
    return engine(o)->done();
}

SHMDS_API int shmds_once_is_done(const shmds_once_t *o) {
    SHMDS_SYNC_CHECK(o, "shmds_once_is_done");
    return engine(o)->is_done() ? 1 : 0;
}

SHMDS_API int shmds_once_reset(shmds_once_t *o) {
    SHMDS_SYNC_CHECK(o, "shmds_once_reset");
    return engine(o)->reset();
}

}  // extern "C"
