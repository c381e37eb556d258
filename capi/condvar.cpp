// The exported condvar functions: argument checks and the handle-to-engine mapping.
#include "sync/condvar.hpp"
#include "sync_handles.hpp"

#include <shmds/sync.h>

using shmds::sync::Condvar;
namespace capi = shmds::capi;

namespace {
Condvar *engine(shmds_condvar_t *cv) noexcept { return capi::sync_engine<Condvar>(cv); }
const Condvar *engine(const shmds_condvar_t *cv) noexcept {
    return capi::sync_engine<Condvar>(cv);
}
}  // namespace

extern "C" {

SHMDS_API int shmds_condvar_create(const shmds_options_t *opts, shmds_condvar_t **out) {
    return capi::sync_make<Condvar>(
        "shmds_condvar_create", opts, out,
        [&](auto *o, auto &e) { return Condvar::create(o, e); });
}

SHMDS_API int shmds_condvar_open(const shmds_options_t *opts, shmds_condvar_t **out) {
    return capi::sync_make<Condvar>(
        "shmds_condvar_open", opts, out,
        [&](auto *o, auto &e) { return Condvar::open(o, e); });
}

SHMDS_API void shmds_condvar_close(shmds_condvar_t *cv) { delete engine(cv); }

SHMDS_API int shmds_condvar_fd(const shmds_condvar_t *cv) {
    return capi::sync_fd<Condvar>(cv, "shmds_condvar_fd");
}

SHMDS_API uint64_t shmds_condvar_recoveries(const shmds_condvar_t *cv) {
    return cv ? engine(cv)->recovery_count() : 0;
}

SHMDS_API int shmds_condvar_lock(shmds_condvar_t *cv, int64_t timeout_ns) {
    SHMDS_SYNC_CHECK(cv, "shmds_condvar_lock");
    shmds::core::Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return engine(cv)->lock(dl);
}

SHMDS_API int shmds_condvar_try_lock(shmds_condvar_t *cv) {
    SHMDS_SYNC_CHECK(cv, "shmds_condvar_try_lock");
    return engine(cv)->lock(shmds::core::Deadline::from_timeout(0));
}

SHMDS_API int shmds_condvar_unlock(shmds_condvar_t *cv) {
    SHMDS_SYNC_CHECK(cv, "shmds_condvar_unlock");
    return engine(cv)->unlock();
}

SHMDS_API int shmds_condvar_consistent(shmds_condvar_t *cv) {
    SHMDS_SYNC_CHECK(cv, "shmds_condvar_consistent");
    return engine(cv)->consistent();
}

SHMDS_API int shmds_condvar_wait(shmds_condvar_t *cv, int64_t timeout_ns) {
    SHMDS_SYNC_CHECK(cv, "shmds_condvar_wait");
    shmds::core::Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return engine(cv)->wait(dl);
}

SHMDS_API int shmds_condvar_signal(shmds_condvar_t *cv) {
    SHMDS_SYNC_CHECK(cv, "shmds_condvar_signal");
    engine(cv)->signal();
    return 0;
}

SHMDS_API int shmds_condvar_broadcast(shmds_condvar_t *cv) {
    SHMDS_SYNC_CHECK(cv, "shmds_condvar_broadcast");
    engine(cv)->broadcast();
    return 0;
}

SHMDS_API uint32_t shmds_condvar_waiters(const shmds_condvar_t *cv) {
    return cv ? engine(cv)->waiters() : 0;
}

}  // extern "C"
