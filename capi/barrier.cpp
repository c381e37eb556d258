// The exported barrier functions: argument checks and the handle-to-engine mapping.
#include "sync/barrier.hpp"
#include "sync_handles.hpp"

#include <shmds/sync.h>

using shmds::sync::Barrier;
namespace capi = shmds::capi;

static_assert(SHMDS_BARRIER_LEADER == Barrier::kLeader);

namespace {
Barrier *engine(shmds_barrier_t *b) noexcept { return capi::sync_engine<Barrier>(b); }
const Barrier *engine(const shmds_barrier_t *b) noexcept { return capi::sync_engine<Barrier>(b); }
}  // namespace

extern "C" {

SHMDS_API int shmds_barrier_create(const shmds_options_t *opts, uint32_t parties,
                                   shmds_barrier_t **out) {
    return capi::sync_make<Barrier>(
        "shmds_barrier_create", opts, out,
        [&](auto *o, auto &e) { return Barrier::create(o, parties, e); });
}

SHMDS_API int shmds_barrier_open(const shmds_options_t *opts, shmds_barrier_t **out) {
    return capi::sync_make<Barrier>(
        "shmds_barrier_open", opts, out,
        [&](auto *o, auto &e) { return Barrier::open(o, e); });
}

SHMDS_API void shmds_barrier_close(shmds_barrier_t *b) { delete engine(b); }

SHMDS_API int shmds_barrier_fd(const shmds_barrier_t *b) {
    return capi::sync_fd<Barrier>(b, "shmds_barrier_fd");
}

SHMDS_API uint64_t shmds_barrier_recoveries(const shmds_barrier_t *b) {
    return b ? engine(b)->recovery_count() : 0;
}

SHMDS_API int shmds_barrier_wait(shmds_barrier_t *b, int64_t timeout_ns) {
    SHMDS_SYNC_CHECK(b, "shmds_barrier_wait");
    shmds::core::Deadline dl;
    if (int r = capi::make_deadline(timeout_ns, dl)) return r;
    return engine(b)->wait(dl);
}

SHMDS_API int shmds_barrier_reset(shmds_barrier_t *b) {
    SHMDS_SYNC_CHECK(b, "shmds_barrier_reset");
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
    SHMDS_SYNC_CHECK(b, "shmds_barrier_is_broken");
    return engine(b)->is_broken() ? 1 : 0;
}

SHMDS_API int shmds_barrier_eventfd(shmds_barrier_t *b) {
    SHMDS_SYNC_CHECK(b, "shmds_barrier_eventfd");
    return engine(b)->events().get_or_create();
}

SHMDS_API int shmds_barrier_set_eventfd(shmds_barrier_t *b, int fd) {
    SHMDS_SYNC_CHECK(b, "shmds_barrier_set_eventfd");
    return engine(b)->events().set(fd);
}

SHMDS_API int shmds_barrier_notify(shmds_barrier_t *b) {
    SHMDS_SYNC_CHECK(b, "shmds_barrier_notify");
    return engine(b)->events().notify();
}

SHMDS_API int shmds_barrier_eventfd_consume(shmds_barrier_t *b, uint64_t *count) {
    SHMDS_SYNC_CHECK(b, "shmds_barrier_eventfd_consume");
    return engine(b)->events().consume(count);
}

}  // extern "C"
