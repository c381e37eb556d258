// The exported semaphore functions: argument checks and the handle-to-engine mapping.
#include "sync/semaphore.hpp"
#include "lifecycle.hpp"

#include <shmds/sync.h>

using shmds::sync::Semaphore;
namespace capi = shmds::capi;

namespace {
constexpr char kNoun[] = "semaphore";
Semaphore *engine(shmds_semaphore_t *s) noexcept { return capi::engine_of<Semaphore>(s); }
const Semaphore *engine(const shmds_semaphore_t *s) noexcept {
    return capi::engine_of<Semaphore>(s);
}

inline __attribute__((always_inline)) int acquire(shmds_semaphore_t *s, uint32_t n, int64_t timeout_ns,
                                              const char *fn) noexcept {
    CAPI_REQUIRE(s, fn, kNoun);
    if (int r = capi::check_timeout(timeout_ns)) return r;
    return engine(s)->acquire_within(n, timeout_ns);
}
}  // namespace

extern "C" {

SHMDS_API int shmds_semaphore_create(const shmds_options_t *opts, uint32_t max, uint32_t initial,
                                     shmds_semaphore_t **out) {
    return capi::make_handle<Semaphore>("shmds_semaphore_create", opts, out,
        [&](auto *o, auto &e) { return Semaphore::create(o, max, initial, e); });
}

SHMDS_API int shmds_semaphore_open(const shmds_options_t *opts, shmds_semaphore_t **out) {
    return capi::make_handle<Semaphore>("shmds_semaphore_open", opts, out,
        [&](auto *o, auto &e) { return Semaphore::open(o, e); });
}

SHMDS_API void shmds_semaphore_close(shmds_semaphore_t *s) { capi::close_handle<Semaphore>(s); }

SHMDS_API int shmds_semaphore_fd(const shmds_semaphore_t *s) {
    return capi::segment_fd<Semaphore>(s, "shmds_semaphore_fd", kNoun);
}

SHMDS_API uint64_t shmds_semaphore_recoveries(const shmds_semaphore_t *s) {
    return capi::recoveries_of<Semaphore>(s);
}

SHMDS_API int shmds_semaphore_acquire(shmds_semaphore_t *s, int64_t timeout_ns) {
    return acquire(s, 1, timeout_ns, "shmds_semaphore_acquire");
}

SHMDS_API int shmds_semaphore_acquire_n(shmds_semaphore_t *s, uint32_t n, int64_t timeout_ns) {
    return acquire(s, n, timeout_ns, "shmds_semaphore_acquire_n");
}

SHMDS_API int shmds_semaphore_try_acquire(shmds_semaphore_t *s) {
    return acquire(s, 1, SHMDS_NOWAIT, "shmds_semaphore_try_acquire");
}

SHMDS_API int shmds_semaphore_try_acquire_n(shmds_semaphore_t *s, uint32_t n) {
    return acquire(s, n, SHMDS_NOWAIT, "shmds_semaphore_try_acquire_n");
}

SHMDS_API int shmds_semaphore_release(shmds_semaphore_t *s, uint32_t n) {
    CAPI_REQUIRE(s, "shmds_semaphore_release", kNoun);
    return engine(s)->release(n);
}

SHMDS_API int shmds_semaphore_drain(shmds_semaphore_t *s, uint32_t *taken) {
    CAPI_REQUIRE(s, "shmds_semaphore_drain", kNoun);
    if (!taken) return capi::null_arg("shmds_semaphore_drain", "taken");
    return engine(s)->drain(taken);
}

SHMDS_API uint32_t shmds_semaphore_value(const shmds_semaphore_t *s) {
    return s ? engine(s)->value() : 0;
}

SHMDS_API uint32_t shmds_semaphore_max(const shmds_semaphore_t *s) {
    return s ? engine(s)->max() : 0;
}

SHMDS_API uint64_t shmds_semaphore_held(const shmds_semaphore_t *s) {
    return s ? engine(s)->held_by_caller() : 0;
}

SHMDS_CAPI_EVENTFD_EXPORTS(shmds_semaphore, shmds_semaphore_t, Semaphore, kNoun)

}  // extern "C"
