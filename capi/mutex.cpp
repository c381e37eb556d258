// The exported mutex functions: argument checks and the handle-to-engine mapping.
#include "sync/mutex.hpp"
#include "lifecycle.hpp"

#include <shmds/sync.h>

using shmds::sync::Mutex;
namespace capi = shmds::capi;

namespace {
constexpr char kNoun[] = "mutex";
Mutex *engine(shmds_mutex_t *m) noexcept { return capi::engine_of<Mutex>(m); }
}  // namespace

extern "C" {

SHMDS_API int shmds_mutex_create(const shmds_options_t *opts, shmds_mutex_t **out) {
    return capi::make_handle<Mutex>("shmds_mutex_create", opts, out,
        [&](auto *o, auto &e) { return Mutex::create(o, e); });
}

SHMDS_API int shmds_mutex_open(const shmds_options_t *opts, shmds_mutex_t **out) {
    return capi::make_handle<Mutex>("shmds_mutex_open", opts, out,
        [&](auto *o, auto &e) { return Mutex::open(o, e); });
}

SHMDS_API void shmds_mutex_close(shmds_mutex_t *m) { capi::close_handle<Mutex>(m); }

SHMDS_API int shmds_mutex_fd(const shmds_mutex_t *m) {
    return capi::segment_fd<Mutex>(m, "shmds_mutex_fd", kNoun);
}

SHMDS_API uint64_t shmds_mutex_recoveries(const shmds_mutex_t *m) {
    return capi::recoveries_of<Mutex>(m);
}

SHMDS_API int shmds_mutex_lock(shmds_mutex_t *m, int64_t timeout_ns) {
    CAPI_REQUIRE(m, "shmds_mutex_lock", kNoun);
    if (int r = capi::check_timeout(timeout_ns)) return r;
    return engine(m)->lock_within(timeout_ns);
}

SHMDS_API int shmds_mutex_try_lock(shmds_mutex_t *m) {
    CAPI_REQUIRE(m, "shmds_mutex_try_lock", kNoun);
    return engine(m)->lock(shmds::core::Deadline::from_timeout(0));
}

SHMDS_API int shmds_mutex_unlock(shmds_mutex_t *m) {
    CAPI_REQUIRE(m, "shmds_mutex_unlock", kNoun);
    return engine(m)->unlock();
}

SHMDS_API int shmds_mutex_consistent(shmds_mutex_t *m) {
    CAPI_REQUIRE(m, "shmds_mutex_consistent", kNoun);
    return engine(m)->consistent();
}

}  // extern "C"
