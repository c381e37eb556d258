// The exported barrier functions: argument checks and the handle-to-engine mapping.
#include "sync/barrier.hpp"
#include "lifecycle.hpp"

#include <shmds/sync.h>

using shmds::sync::Barrier;
namespace capi = shmds::capi;

static_assert(SHMDS_BARRIER_LEADER == Barrier::kLeader);

namespace {
constexpr char kNoun[] = "barrier";
Barrier *engine(shmds_barrier_t *b) noexcept { return capi::engine_of<Barrier>(b); }
const Barrier *engine(const shmds_barrier_t *b) noexcept { return capi::engine_of<Barrier>(b); }
}  // namespace

extern "C" {

SHMDS_API int shmds_barrier_create(const shmds_options_t *opts, uint32_t parties,
                                   shmds_barrier_t **out) {
    return capi::make_handle<Barrier>("shmds_barrier_create", opts, out,
        [&](auto *o, auto &e) { return Barrier::create(o, parties, e); });
}

SHMDS_API int shmds_barrier_open(const shmds_options_t *opts, shmds_barrier_t **out) {
    return capi::make_handle<Barrier>("shmds_barrier_open", opts, out,
        [&](auto *o, auto &e) { return Barrier::open(o, e); });
}

SHMDS_API void shmds_barrier_close(shmds_barrier_t *b) { capi::close_handle<Barrier>(b); }

SHMDS_API int shmds_barrier_fd(const shmds_barrier_t *b) {
    return capi::segment_fd<Barrier>(b, "shmds_barrier_fd", kNoun);
}

SHMDS_API uint64_t shmds_barrier_recoveries(const shmds_barrier_t *b) {
    return capi::recoveries_of<Barrier>(b);
}

SHMDS_API int shmds_barrier_wait(shmds_barrier_t *b, int64_t timeout_ns) {
    return capi::timed<Barrier>(b, "shmds_barrier_wait", kNoun, timeout_ns,
        [](auto &e, const auto &dl) { return e.wait(dl); });
}

SHMDS_API int shmds_barrier_reset(shmds_barrier_t *b) {
    CAPI_REQUIRE(b, "shmds_barrier_reset", kNoun);
    return engine(b)->reset();
}

SHMDS_API uint32_t shmds_barrier_generation(const shmds_barrier_t *b) {
    return b ? engine(b)->generation() : 0;
}

SHMDS_API uint32_t shmds_barrier_arrived(const shmds_barrier_t *b) {
    return b ? engine(b)->arrived() : 0;
}

SHMDS_API uint32_t shmds_barrier_parties(const shmds_barrier_t *b) {
    return b ? engine(b)->parties() : 0;
}

SHMDS_API int shmds_barrier_is_broken(const shmds_barrier_t *b) {
    CAPI_REQUIRE(b, "shmds_barrier_is_broken", kNoun);
    return engine(b)->is_broken() ? 1 : 0;
}

SHMDS_CAPI_EVENTFD_EXPORTS(shmds_barrier, shmds_barrier_t, Barrier, kNoun)

}  // extern "C"
