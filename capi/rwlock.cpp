// The exported rwlock functions: argument checks and the handle-to-engine mapping.
#include "sync/rwlock.hpp"
#include "lifecycle.hpp"

#include <shmds/sync.h>

using shmds::sync::RwLock;
namespace capi = shmds::capi;

namespace {
constexpr char kNoun[] = "rwlock";
RwLock *engine(shmds_rwlock_t *rw) noexcept { return capi::engine_of<RwLock>(rw); }
const RwLock *engine(const shmds_rwlock_t *rw) noexcept { return capi::engine_of<RwLock>(rw); }

// The engine's lock verbs take the raw timeout: their fast paths must not pay for a
// deadline (a clock read) they will not use. Only an invalid timeout is refused here.
template <typename Lock>
int lock_with(shmds_rwlock_t *rw, int64_t timeout_ns, const char *fn, Lock &&lock) noexcept {
    CAPI_REQUIRE(rw, fn, kNoun);
    if (SHMDS_UNLIKELY(timeout_ns < -1)) {
        shmds::core::Deadline unused;
        return capi::make_deadline(timeout_ns, unused);  // -EINVAL with its sentence
    }
    return lock(*engine(rw), timeout_ns);
}

int rd(RwLock &l, int64_t timeout_ns) noexcept { return l.rdlock(timeout_ns); }
int wr(RwLock &l, int64_t timeout_ns) noexcept { return l.wrlock(timeout_ns); }
}  // namespace

extern "C" {

SHMDS_API int shmds_rwlock_create(const shmds_options_t *opts, uint32_t reader_slots,
                                  shmds_rwlock_t **out) {
    const std::uint64_t slots = reader_slots ? reader_slots : shmds::sync::kDefaultReaderSlots;
    return capi::make_handle<RwLock>("shmds_rwlock_create", opts, out,
        [&](auto *o, auto &e) { return RwLock::create(o, slots, e); });
}

SHMDS_API int shmds_rwlock_open(const shmds_options_t *opts, shmds_rwlock_t **out) {
    return capi::make_handle<RwLock>(
        "shmds_rwlock_open", opts, out, [&](auto *o, auto &e) { return RwLock::open(o, e); });
}

SHMDS_API void shmds_rwlock_close(shmds_rwlock_t *rw) { capi::close_handle<RwLock>(rw); }

SHMDS_API int shmds_rwlock_fd(const shmds_rwlock_t *rw) {
    return capi::segment_fd<RwLock>(rw, "shmds_rwlock_fd", kNoun);
}

SHMDS_API uint64_t shmds_rwlock_recoveries(const shmds_rwlock_t *rw) {
    return capi::recoveries_of<RwLock>(rw);
}

SHMDS_API int shmds_rwlock_rdlock(shmds_rwlock_t *rw, int64_t timeout_ns) {
    return lock_with(rw, timeout_ns, "shmds_rwlock_rdlock", rd);
}

SHMDS_API int shmds_rwlock_wrlock(shmds_rwlock_t *rw, int64_t timeout_ns) {
    return lock_with(rw, timeout_ns, "shmds_rwlock_wrlock", wr);
}

SHMDS_API int shmds_rwlock_try_rdlock(shmds_rwlock_t *rw) {
    return lock_with(rw, SHMDS_NOWAIT, "shmds_rwlock_try_rdlock", rd);
}

SHMDS_API int shmds_rwlock_try_wrlock(shmds_rwlock_t *rw) {
    return lock_with(rw, SHMDS_NOWAIT, "shmds_rwlock_try_wrlock", wr);
}

SHMDS_API int shmds_rwlock_unlock(shmds_rwlock_t *rw) {
    CAPI_REQUIRE(rw, "shmds_rwlock_unlock", kNoun);
    return engine(rw)->unlock();
}

SHMDS_API int shmds_rwlock_downgrade(shmds_rwlock_t *rw) {
    CAPI_REQUIRE(rw, "shmds_rwlock_downgrade", kNoun);
    return engine(rw)->downgrade();
}

SHMDS_API int shmds_rwlock_consistent(shmds_rwlock_t *rw) {
    CAPI_REQUIRE(rw, "shmds_rwlock_consistent", kNoun);
    return engine(rw)->consistent();
}

SHMDS_API uint32_t shmds_rwlock_readers(const shmds_rwlock_t *rw) {
    return rw ? engine(rw)->readers() : 0;
}

SHMDS_API int shmds_rwlock_is_write_locked(const shmds_rwlock_t *rw) {
    CAPI_REQUIRE(rw, "shmds_rwlock_is_write_locked", kNoun);
    return engine(rw)->write_locked() ? 1 : 0;
}

}  // extern "C"
