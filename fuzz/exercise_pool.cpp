// The pool under fuzzing: opened as "any" and as every variant; a segment that opens must
// survive every verb. Its owner words and slot bytes are the peer's to scribble: an owner
// word may name any process (alive, dead or invented) and a bytes slot any length. The
// pool has no lock, so every call here is non-blocking or waits at most a millisecond.
#include "exercise.hpp"

#include <shmds/pool.h>

#include <cerrno>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace shmds_fuzz {

namespace {

int count_visit(std::uint64_t, std::int32_t, void *ctx) {
    ++*static_cast<std::uint64_t *>(ctx);
    return 0;
}

// Every slot verb of the pool's form on slot i (wrong forms answer SHMDS_EVARIANT).
void exercise_slot(shmds_pool_t *p, std::uint64_t i) {
    std::int64_t v = 0;
    std::uint64_t u = 0;
    double d = 0;
    (void)shmds_pool_get_int(p, i, &v);
    (void)shmds_pool_get_uint(p, i, &u);
    (void)shmds_pool_get_f64(p, i, &d);
    (void)shmds_pool_set_int(p, i, 5);
    (void)shmds_pool_set_uint(p, i, 6);
    (void)shmds_pool_set_f64(p, i, 0.5);
    (void)shmds_pool_cas_int(p, i, 5, 7, &v);
    (void)shmds_pool_cas_uint(p, i, 6, 8, &u);
    (void)shmds_pool_exchange_int(p, i, 1, &v);
    (void)shmds_pool_exchange_uint(p, i, 2, &u);
    (void)shmds_pool_add_int(p, i, 3, &v);
    (void)shmds_pool_add_uint(p, i, -1, &u);
    (void)shmds_pool_incr_int(p, i, &v);
    (void)shmds_pool_decr_uint(p, i, &u);
    std::vector<unsigned char> buf(shmds_pool_elem_size(p) + 8);
    std::size_t len = 0;
    (void)shmds_pool_get_bytes(p, i, buf.data(), buf.size(), &len);
    (void)shmds_pool_set_bytes(p, i, "fuzz", 4);
    (void)shmds_pool_get_raw(p, i, buf.data(), buf.size());
    (void)shmds_pool_set_raw(p, i, "fuzz", 4);
    std::int32_t pid = 0;
    const bool in_range = i < shmds_pool_capacity(p);
    expect_code(shmds_pool_owner(p, i, &pid), {in_range ? 0 : -EINVAL}, "shmds_pool_owner");
    expect_code(shmds_pool_is_allocated(p, i), {in_range ? 0 : -EINVAL, 1},
                "shmds_pool_is_allocated");
}

void exercise(shmds_pool_t *p) {
    const std::uint64_t cap = shmds_pool_capacity(p);
    (void)shmds_pool_used(p);
    (void)shmds_pool_available(p);
    (void)shmds_pool_max_len(p);
    (void)shmds_pool_recoveries(p);
    shmds_pool_stats_t st{};
    st.struct_size = sizeof st;
    expect_code(shmds_pool_stats(p, &st), {0}, "shmds_pool_stats");
    std::uint64_t seen = 0;
    expect_code(shmds_pool_each_allocated(p, count_visit, &seen), {0}, "shmds_pool_each_allocated");
    std::vector<std::uint64_t> listed(cap > 64 ? 64 : cap);
    std::size_t n = 0;
    expect_code(shmds_pool_allocated(p, listed.data(), listed.size(), &n), {0, -ENOBUFS},
                "shmds_pool_allocated");
    for (std::uint64_t i : {std::uint64_t{0}, cap / 2, cap - 1}) exercise_slot(p, i);
    exercise_slot(p, cap);  // out of range: -EINVAL from every verb
    (void)shmds_pool_slot_ptr(p, cap - 1);
    (void)shmds_pool_data_ptr(p);

    // Allocation runs the reclaim of dead owners over whatever the owner words name.
    std::uint64_t i = 0;
    const int got = shmds_pool_try_alloc(p, &i);
    expect_code(got, {0, -EAGAIN}, "shmds_pool_try_alloc");
    if (got == 0) {
        exercise_slot(p, i);
        expect_code(shmds_pool_free(p, i), {0, -ENOENT}, "shmds_pool_free");
    }
    const int timed = shmds_pool_alloc(p, kShortTimeoutNs, &i);
    expect_code(timed, {0, -ETIMEDOUT}, "shmds_pool_alloc");
    if (timed == 0) expect_code(shmds_pool_free(p, i), {0, -ENOENT}, "shmds_pool_free");
    // alloc_set in each form (the pool's own form stores; the others answer SHMDS_EVARIANT).
    for (int form = 0; form < 4; ++form) {
        const int r = form == 0   ? shmds_pool_try_alloc_set_int(p, 1, &i)
                      : form == 1 ? shmds_pool_try_alloc_set_uint(p, 2, &i)
                      : form == 2 ? shmds_pool_alloc_set_f64(p, 0.5, kShortTimeoutNs, &i)
                                  : shmds_pool_try_alloc_set_bytes(p, "fuzz", 4, &i);
        expect_code(r, {0, -EAGAIN, -ETIMEDOUT, -ERANGE, -E2BIG, SHMDS_EVARIANT},
                    "shmds_pool_alloc_set");
        if (r == 0) expect_code(shmds_pool_free(p, i), {0, -ENOENT}, "shmds_pool_free");
    }
    std::uint64_t two[2];
    const int pair = shmds_pool_alloc_n(p, cap < 2 ? cap : 2, two, SHMDS_NOWAIT);
    expect_code(pair, {0, -EAGAIN}, "shmds_pool_alloc_n");
    std::size_t freed = 0;
    if (pair == 0)
        expect_code(shmds_pool_free_n(p, two, cap < 2 ? cap : 2, &freed), {0}, "shmds_pool_free_n");
    std::uint64_t reclaimed = 0;
    expect_code(shmds_pool_recover_stale(p, &reclaimed), {0}, "shmds_pool_recover_stale");
    expect_code(shmds_pool_free(p, 0), {0, -ENOENT}, "shmds_pool_free");
    expect_code(shmds_pool_reset(p, &reclaimed), {0}, "shmds_pool_reset");
}

}  // namespace

void fuzz_pool(InputSegment &in) {
    for (int variant : {SHMDS_POOL_ANY, SHMDS_POOL_RAW, int(SHMDS_TYPE_INT8), int(SHMDS_TYPE_INT16),
                        int(SHMDS_TYPE_INT32), int(SHMDS_TYPE_INT64), int(SHMDS_TYPE_UINT8),
                        int(SHMDS_TYPE_UINT16), int(SHMDS_TYPE_UINT32), int(SHMDS_TYPE_UINT64),
                        int(SHMDS_TYPE_F32), int(SHMDS_TYPE_F64), int(SHMDS_TYPE_BYTES)}) {
        shmds_options_t opts = in.options();
        shmds_pool_t *p = nullptr;
        if (shmds_pool_open(&opts, variant, &p) != 0) continue;
        in.opened();
        exercise(p);
        shmds_pool_close(p);
    }
}

}  // namespace shmds_fuzz
