// The exported condvar functions: argument checks and the handle-to-engine mapping.
#include "sync/condvar.hpp"
#include "lifecycle.hpp"

#include <shmds/sync.h>

using shmds::sync::Condvar;
namespace capi = shmds::capi;

namespace {
constexpr char kNoun[] = "condvar";
Condvar *engine(shmds_condvar_t *cv) noexcept { return capi::engine_of<Condvar>(cv); }
const Condvar *engine(const shmds_condvar_t *cv) noexcept { return capi::engine_of<Condvar>(cv); }
}  // namespace

extern "C" {

SHMDS_API int shmds_condvar_create(const shmds_options_t *opts, shmds_condvar_t **out) {
    return capi::make_handle<Condvar>("shmds_condvar_create", opts, out,
        [&](auto *o, auto &e) { return Condvar::create(o, e); });
}

SHMDS_API int shmds_condvar_open(const shmds_options_t *opts, shmds_condvar_t **out) {
    return capi::make_handle<Condvar>("shmds_condvar_open", opts, out,
        [&](auto *o, auto &e) { return Condvar::open(o, e); });
}

SHMDS_API void shmds_condvar_close(shmds_condvar_t *cv) { capi::close_handle<Condvar>(cv); }

SHMDS_API int shmds_condvar_fd(const shmds_condvar_t *cv) {
    return capi::segment_fd<Condvar>(cv, "shmds_condvar_fd", kNoun);
}

SHMDS_API uint64_t shmds_condvar_recoveries(const shmds_condvar_t *cv) {
    return capi::recoveries_of<Condvar>(cv);
}

SHMDS_API int shmds_condvar_lock(shmds_condvar_t *cv, int64_t timeout_ns) {
    CAPI_REQUIRE(cv, "shmds_condvar_lock", kNoun);
    if (int r = capi::check_timeout(timeout_ns)) return r;
    return engine(cv)->lock_within(timeout_ns);
}

SHMDS_API int shmds_condvar_try_lock(shmds_condvar_t *cv) {
    CAPI_REQUIRE(cv, "shmds_condvar_try_lock", kNoun);
    return engine(cv)->lock(shmds::core::Deadline::from_timeout(0));
}

SHMDS_API int shmds_condvar_unlock(shmds_condvar_t *cv) {
    CAPI_REQUIRE(cv, "shmds_condvar_unlock", kNoun);
    return engine(cv)->unlock();
}

SHMDS_API int shmds_condvar_consistent(shmds_condvar_t *cv) {
    CAPI_REQUIRE(cv, "shmds_condvar_consistent", kNoun);
    return engine(cv)->consistent();
}

SHMDS_API int shmds_condvar_wait(shmds_condvar_t *cv, int64_t timeout_ns) {
    return capi::timed<Condvar>(cv, "shmds_condvar_wait", kNoun, timeout_ns,
        [](auto &e, const auto &dl) { return e.wait(dl); });
}

SHMDS_API int shmds_condvar_signal(shmds_condvar_t *cv) {
    CAPI_REQUIRE(cv, "shmds_condvar_signal", kNoun);
    engine(cv)->signal();
    return 0;
}

SHMDS_API int shmds_condvar_broadcast(shmds_condvar_t *cv) {
    CAPI_REQUIRE(cv, "shmds_condvar_broadcast", kNoun);
    engine(cv)->broadcast();
    return 0;
}

SHMDS_API uint32_t shmds_condvar_waiters(const shmds_condvar_t *cv) {
    return cv ? engine(cv)->waiters() : 0;
}

}  // extern "C"
