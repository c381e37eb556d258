// The exported mutex functions: argument checks and the handle-to-engine mapping.
#include "sync/mutex.hpp"
#include "sync_handles.hpp"

#include <shmds/sync.h>

using shmds::sync::Mutex;
namespace capi = shmds::capi;

namespace {
Mutex *engine(shmds_mutex_t *m) noexcept { return capi::sync_engine<Mutex>(m); }
}  // namespace

extern "C" {

SHMDS_API int shmds_mutex_create(const shmds_options_t *opts, shmds_mutex_t **out) {
    return capi::sync_make<Mutex>("shmds_mutex_create", opts, out,
                                  [&](auto *o, auto &e) { return Mutex::create(o, e); });
}

SHMDS_API int shmds_mutex_open(const shmds_options_t *opts, shmds_mutex_t **out) {
    return capi::sync_make<Mutex>("shmds_mutex_open", opts, out,
                                  [&](auto *o, auto &e) { return Mutex::open(o, e); });
}

SHMDS_API void shmds_mutex_close(shmds_mutex_t *m) { delete engine(m); }

SHMDS_API int shmds_mutex_fd(const shmds_mutex_t *m) {
    return capi::sync_fd<Mutex>(m, "shmds_mutex_fd");
}

SHMDS_API uint64_t shmds_mutex_recoveries(const shmds_mutex_t *m) {
    return m ? capi::sync_engine<Mutex>(m)->recoveries().load(std::memory_order_relaxed) : 0;
}

SHMDS_API int shmds_mutex_lock(shmds_mutex_t *m, int64_t timeout_ns) {
    SHMDS_SYNC_CHECK(m, "shmds_mutex_lock");
    shmds::core::Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return engine(m)->lock(dl);
}

SHMDS_API int shmds_mutex_try_lock(shmds_mutex_t *m) {
    SHMDS_SYNC_CHECK(m, "shmds_mutex_try_lock");
    return engine(m)->lock(shmds::core::Deadline::from_timeout(0));
}

SHMDS_API int shmds_mutex_unlock(shmds_mutex_t *m) {
    SHMDS_SYNC_CHECK(m, "shmds_mutex_unlock");
    return engine(m)->unlock();
}

SHMDS_API int shmds_mutex_consistent(shmds_mutex_t *m) {
    SHMDS_SYNC_CHECK(m, "shmds_mutex_consistent");
    return engine(m)->consistent();
}

}  // extern "C"
