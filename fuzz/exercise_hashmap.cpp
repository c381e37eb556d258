// The hash map under fuzzing: a segment that opens (as any map, then as its own key
// and value types) must survive every verb of its shape, each returning a documented
// code. Reads and writes may take a shard's lock (reads do when a shard's write window
// stays open), so they run only when every shard's lock word is free.
#include "exercise.hpp"

#include "core/header.hpp"
#include "hashmap/layout.hpp"

#include <shmds/hashmap.h>

#include <cerrno>
#include <cstdint>
#include <string>

namespace shmds_fuzz {

namespace {

namespace hm = shmds::hashmap;

bool every_shard_lock_free(const InputSegment &in) {
    std::uint64_t shards = 0;
    constexpr std::uint64_t at = offsetof(shmds::core::SegmentHeader, geometry) + 8 * hm::kGeomShards;
    if (!in.read_u64(at, shards) || shards == 0 || shards > hm::kMaxShards) return false;
    const std::uint64_t base = sizeof(shmds::core::SegmentHeader) + sizeof(hm::MapControl);
    for (std::uint64_t i = 0; i < shards; ++i)
        if (!in.robust_lock_free(base + i * sizeof(hm::ShardControl) +
                                 offsetof(hm::ShardControl, lock)))
            return false;
    return true;
}

// Codes any verb may return on a map it accepted.
// -EROFS: the segment's frozen word is set; -ESTALE: a cursor's shard was rebuilt.
#define ANY_CODE 0, 1, -ENOENT, -EEXIST, -ENOSPC, -ECANCELED, -ENOBUFS, -ERANGE, -E2BIG, \
                 -EROFS, -ESTALE

// TTL and eviction on whatever the segment holds (flags and default TTL come from its
// geometry): a stepped clock makes entries expire between the verbs, so batches,
// cursors and the whole-map verbs below also meet expired entries. pop, shift and drain
// are -EINVAL on a map without SHMDS_HASHMAP_EVICT.
std::uint64_t fuzz_now = 1'000'000;
std::uint64_t fuzz_clock(void *) { return fuzz_now; }

void exercise_aging(shmds_hashmap_t *m, bool int_key, bool int_val) {
    expect_code(shmds_hashmap_set_clock(m, &fuzz_clock, nullptr), {0}, "shmds_hashmap_set_clock");
    std::uint64_t n = 0, ttl = 0;
    std::int64_t k = 0, v = 0;
    unsigned char kb[64], vb[64];
    std::size_t kl = 0, vl = 0;
    for (std::int64_t i = 0; i < 12; ++i) {
        const std::string bk = "ttl-key-" + std::to_string(i);
        if (int_key && int_val) {
            expect_code(shmds_hashmap_put_ttl_ii(m, i, i, std::uint64_t(i % 3) * 10), {ANY_CODE},
                        "shmds_hashmap_put_ttl_ii");
            expect_code(shmds_hashmap_get_with_ttl_ii(m, i, &v, &ttl), {ANY_CODE},
                        "shmds_hashmap_get_with_ttl_ii");
        } else if (!int_key && !int_val && shmds_hashmap_value_type(m) == SHMDS_TYPE_BYTES) {
            expect_code(shmds_hashmap_put_ttl_bb(m, bk.data(), bk.size(), bk.data(), bk.size(),
                                                 std::uint64_t(i % 3) * 10),
                        {ANY_CODE}, "shmds_hashmap_put_ttl_bb");
        }
        if (int_key) {
            expect_code(shmds_hashmap_ttl_remaining_i(m, i, &ttl), {ANY_CODE},
                        "shmds_hashmap_ttl_remaining_i");
            expect_code(shmds_hashmap_touch_i(m, i), {ANY_CODE}, "shmds_hashmap_touch_i");
            if (i % 4 == 1) expect_code(shmds_hashmap_persist_i(m, i), {ANY_CODE}, "shmds_hashmap_persist_i");
            if (i % 4 == 2) expect_code(shmds_hashmap_set_ttl_i(m, i, 5), {ANY_CODE}, "shmds_hashmap_set_ttl_i");
        } else {
            expect_code(shmds_hashmap_ttl_remaining_b(m, bk.data(), bk.size(), &ttl), {ANY_CODE},
                        "shmds_hashmap_ttl_remaining_b");
            expect_code(shmds_hashmap_touch_b(m, bk.data(), bk.size()), {ANY_CODE},
                        "shmds_hashmap_touch_b");
            if (i % 4 == 2)
                expect_code(shmds_hashmap_set_ttl_b(m, bk.data(), bk.size(), 5), {ANY_CODE},
                            "shmds_hashmap_set_ttl_b");
        }
        fuzz_now += 4;
    }
    if (int_key && int_val) {
        expect_code(shmds_hashmap_pop_ii(m, &k, &v), {ANY_CODE, -EINVAL}, "shmds_hashmap_pop_ii");
        expect_code(shmds_hashmap_shift_ii(m, &k, &v), {ANY_CODE, -EINVAL}, "shmds_hashmap_shift_ii");
    } else if (!int_key && !int_val && shmds_hashmap_value_type(m) == SHMDS_TYPE_BYTES) {
        expect_code(shmds_hashmap_pop_bb(m, kb, sizeof kb, &kl, vb, sizeof vb, &vl),
                    {ANY_CODE, -EINVAL}, "shmds_hashmap_pop_bb");
        expect_code(shmds_hashmap_shift_bb(m, kb, sizeof kb, &kl, vb, sizeof vb, &vl),
                    {ANY_CODE, -EINVAL}, "shmds_hashmap_shift_bb");
    }
    expect_code(shmds_hashmap_flush_expired_partial(m, 7, &n), {ANY_CODE},
                "shmds_hashmap_flush_expired_partial");
    expect_code(shmds_hashmap_drain(m, 2, &n), {ANY_CODE, -EINVAL}, "shmds_hashmap_drain");
    std::size_t klens[3], vlens[3];  // any shape, packed; small buffers: -ENOBUFS runs too
    expect_code(shmds_hashmap_drain_batch(m, kb, sizeof kb, klens, vb, sizeof vb, vlens, 3),
                {ANY_CODE, 2, 3, -EINVAL}, "shmds_hashmap_drain_batch");
    fuzz_now += 20;  // the rest of the TTL entries expire before the verbs below
}

// Cursors walk whatever the tables hold; then batches, cas_take, max/min and the
// whole-map verbs.
void exercise_more(shmds_hashmap_t *m, bool int_key, bool int_val) {
    shmds_hashmap_cursor_t *c = nullptr;
    expect_code(shmds_hashmap_cursor_create(m, &c), {0}, "shmds_hashmap_cursor_create");
    unsigned char kb[64], vb[64];
    std::size_t kl[4], vl[4];
    for (int i = 0; i < 100; ++i) {
        const int r = shmds_hashmap_cursor_next_batch(c, kb, sizeof kb, kl, vb, sizeof vb, vl, 4);
        expect_code(r, {ANY_CODE, 2, 3, 4}, "shmds_hashmap_cursor_next_batch");
        if (r <= 0) break;
    }
    shmds_hashmap_cursor_destroy(c);
    if (int_key && int_val) {
        const std::int64_t keys[3] = {1, 2, 3};
        std::int64_t got[3], v = 0;
        int res[3];
        expect_code(shmds_hashmap_put_batch_ii(m, keys, keys, 3, res), {ANY_CODE, 2, 3},
                    "shmds_hashmap_put_batch_ii");
        expect_code(shmds_hashmap_get_batch_ii(m, keys, 3, got, res), {ANY_CODE, 2, 3},
                    "shmds_hashmap_get_batch_ii");
        expect_code(shmds_hashmap_cas_take_ii(m, 1, 1), {ANY_CODE}, "shmds_hashmap_cas_take_ii");
        expect_code(shmds_hashmap_max_i(m, 4, 9, &v), {ANY_CODE}, "shmds_hashmap_max_i");
        expect_code(shmds_hashmap_min_i(m, 4, 1, &v), {ANY_CODE}, "shmds_hashmap_min_i");
        expect_code(shmds_hashmap_remove_batch_i(m, keys, 3, res), {ANY_CODE, 2, 3},
                    "shmds_hashmap_remove_batch_i");
    }
    expect_code(shmds_hashmap_reserve(m, 8), {ANY_CODE}, "shmds_hashmap_reserve");
    expect_code(shmds_hashmap_clear(m, nullptr), {ANY_CODE}, "shmds_hashmap_clear");
}

void exercise(shmds_hashmap_t *m, const InputSegment &in) {
    shmds_hashmap_stats_t st{};
    st.struct_size = sizeof st;
    expect_code(shmds_hashmap_stats(m, &st), {0}, "shmds_hashmap_stats");
    if (!every_shard_lock_free(in)) return;
    const bool int_key = shmds_hashmap_key_type(m) != SHMDS_TYPE_BYTES;
    const int vt = shmds_hashmap_value_type(m);
    const bool int_val = vt != SHMDS_TYPE_BYTES && vt != SHMDS_TYPE_F64;
    const std::string long_value(24 * 5, 'v');  // the longest value put below: k * 5, k < 24
    char buf[64];
    std::size_t len = 0;
    std::int64_t v = 0;
    for (std::int64_t k = 0; k < 24; ++k) {
        const std::string bk = "fuzz-key-" + std::to_string(k * 7919);
        const void *kp = bk.data();
        const std::size_t kn = k % 3 ? bk.size() : 2;
        if (int_key) {
            expect_code(shmds_hashmap_exists_i(m, k), {ANY_CODE}, "shmds_hashmap_exists_i");
        } else {
            expect_code(shmds_hashmap_exists_b(m, kp, kn), {ANY_CODE}, "shmds_hashmap_exists_b");
        }
        if (vt == SHMDS_TYPE_F64) continue;
        if (int_key && int_val) {
            expect_code(shmds_hashmap_get_ii(m, k, &v), {ANY_CODE}, "shmds_hashmap_get_ii");
            expect_code(shmds_hashmap_put_ii(m, k, k), {ANY_CODE}, "shmds_hashmap_put_ii");
            expect_code(shmds_hashmap_incr_i(m, k + 1, &v), {ANY_CODE}, "shmds_hashmap_incr_i");
            expect_code(shmds_hashmap_cas_ii(m, k, k, -k), {ANY_CODE}, "shmds_hashmap_cas_ii");
            if (k % 2) expect_code(shmds_hashmap_take_ii(m, k, &v), {ANY_CODE}, "shmds_hashmap_take_ii");
        } else if (int_key) {
            expect_code(shmds_hashmap_get_ib(m, k, buf, sizeof buf, &len), {ANY_CODE}, "shmds_hashmap_get_ib");
            expect_code(shmds_hashmap_put_ib(m, k, long_value.data(), std::size_t(k * 5)),
                        {ANY_CODE}, "shmds_hashmap_put_ib");
            expect_code(shmds_hashmap_swap_ib(m, k, "s", 1, buf, sizeof buf, &len), {ANY_CODE},
                        "shmds_hashmap_swap_ib");
            if (k % 2) expect_code(shmds_hashmap_remove_i(m, k), {ANY_CODE}, "shmds_hashmap_remove_i");
        } else if (int_val) {
            expect_code(shmds_hashmap_get_bi(m, kp, kn, &v), {ANY_CODE}, "shmds_hashmap_get_bi");
            expect_code(shmds_hashmap_put_bi(m, kp, kn, k), {ANY_CODE}, "shmds_hashmap_put_bi");
            expect_code(shmds_hashmap_incr_b(m, kp, kn, &v), {ANY_CODE}, "shmds_hashmap_incr_b");
            if (k % 2) expect_code(shmds_hashmap_take_bi(m, kp, kn, &v), {ANY_CODE}, "shmds_hashmap_take_bi");
        } else {
            expect_code(shmds_hashmap_get_bb(m, kp, kn, buf, sizeof buf, &len), {ANY_CODE},
                        "shmds_hashmap_get_bb");
            expect_code(shmds_hashmap_put_bb(m, kp, kn, long_value.data(), std::size_t(k * 5)),
                        {ANY_CODE}, "shmds_hashmap_put_bb");
            expect_code(shmds_hashmap_get_or_set_bb(m, kp, kn, "g", 1, buf, sizeof buf, &len),
                        {ANY_CODE}, "shmds_hashmap_get_or_set_bb");
            if (k % 2) expect_code(shmds_hashmap_remove_b(m, kp, kn), {ANY_CODE}, "shmds_hashmap_remove_b");
        }
    }
    exercise_aging(m, int_key, int_val);
    exercise_more(m, int_key, int_val);
    expect_code(shmds_hashmap_flush_expired(m, nullptr), {ANY_CODE}, "shmds_hashmap_flush_expired");
    expect_code(shmds_hashmap_stats(m, &st), {0}, "shmds_hashmap_stats");
}

#undef ANY_CODE

}  // namespace

void fuzz_hashmap(InputSegment &in) {
    // As any map first; a segment that opens is opened again as its own types.
    int key_type = 0, value_type = 0;
    for (int round = 0; round < 2; ++round) {
        shmds_options_t opts = in.options();
        shmds_hashmap_t *m = nullptr;
        if (shmds_hashmap_open(&opts, key_type, value_type, &m) != 0) return;
        in.opened();
        key_type = shmds_hashmap_key_type(m);
        value_type = shmds_hashmap_value_type(m);
        exercise(m, in);
        shmds_hashmap_close(m);
    }
}

}  // namespace shmds_fuzz
