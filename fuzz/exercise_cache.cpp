// The cache under fuzzing: a segment that opens must survive every verb, each returning
// a documented code. Verbs take page locks without a timeout and an expunge waits (up to
// 2 s) for a spare frame, so they run only when every page lock is free and the spare
// pool offers a frame; the harness spends its time on memory safety, not on waiting.
#include "exercise.hpp"

#include "cache/layout.hpp"
#include "core/header.hpp"

#include <shmds/cache.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace shmds_fuzz {

namespace {

namespace ca = shmds::cache;

bool geometry_word(const InputSegment &in, int i, std::uint64_t &out) {
    return in.read_u64(offsetof(shmds::core::SegmentHeader, geometry) + 8 * std::uint64_t(i), out);
}

// Every page lock free, and a spare-pool word that names a frame: no verb can wait.
bool verbs_cannot_wait(const InputSegment &in) {
    std::uint64_t words[shmds::core::kGeometryWords] = {};
    for (int i = 0; i < shmds::core::kGeometryWords; ++i)
        if (!geometry_word(in, i, words[i])) return false;
    ca::Geometry g;
    if (ca::layout_geometry(words, g) != 0) return false;
    for (std::uint64_t p = 0; p < g.num_pages; ++p)
        if (!in.robust_lock_free(g.pages_off + p * sizeof(ca::PageControl) +
                                 offsetof(ca::PageControl, lock)))
            return false;
    for (std::uint64_t i = 0; i < g.spare_frames; ++i) {
        std::uint64_t w = 0;
        if (!in.read_u64(g.pool_off + 8 * i, w)) return false;
        if ((w & ca::kPoolFree) && (w & ca::kPoolIndexMask) < g.frames) return true;
    }
    return false;
}

#define ANY_CODE 0, 1, -ENOENT, -ENOBUFS, -E2BIG, -ENOSPC, -EAGAIN, SHMDS_ECORRUPT

std::uint64_t fuzz_now = 1'000'000;
std::uint64_t fuzz_clock(void *) { return fuzz_now; }

// get_and_set's and get_and_set_modseq's update: a value derived from what was read (so
// the value's bytes from the damaged page are copied and handed over), with a modseq one
// past the stored one.
int grow_value(void *, const void *, std::size_t, const void *value, std::size_t len, int found,
               shmds_cache_value_t *out) {
    static char next[64];
    const std::size_t n = found && len < sizeof next ? len : 0;
    if (n) std::memcpy(next, value, n);
    next[n] = '+';
    out->value = next;
    out->value_len = n + 1;
    return 0;
}

int grow_value_modseq(void *ctx, const void *key, std::size_t key_len, const void *value,
                      std::size_t len, int found, std::uint64_t modseq, shmds_cache_value_t *out,
                      std::uint64_t *out_modseq) {
    *out_modseq = modseq + 1;
    return grow_value(ctx, key, key_len, value, len, found, out);
}

int count_entry(const shmds_cache_entry_t *, void *ctx) {
    ++*static_cast<int *>(ctx);
    return 0;
}

void exercise(shmds_cache_t *c, const InputSegment &in) {
    shmds_cache_stats_t st{};
    st.struct_size = sizeof st;
    expect_code(shmds_cache_stats(c, &st, 0), {0}, "shmds_cache_stats");
    if (!verbs_cannot_wait(in)) return;
    expect_code(shmds_cache_set_clock(c, &fuzz_clock, nullptr), {0}, "shmds_cache_set_clock");
    const std::string value(300, 'v');
    char buf[64];
    std::size_t len = 0;
    for (int k = 0; k < 24; ++k) {
        const std::string key = "fuzz-key-" + std::to_string(k * 7919);
        expect_code(shmds_cache_get(c, key.data(), key.size(), buf, sizeof buf, &len), {ANY_CODE},
                    "shmds_cache_get");
        expect_code(shmds_cache_exists(c, key.data(), key.size()), {ANY_CODE}, "shmds_cache_exists");
        expect_code(shmds_cache_set(c, key.data(), key.size(), value.data(), std::size_t(k * 13),
                                    k % 4 == 0 ? 5 : SHMDS_CACHE_EXPIRE_DEFAULT),
                    {ANY_CODE}, "shmds_cache_set");
        if (k % 3 == 0)
            expect_code(shmds_cache_remove(c, key.data(), key.size()), {ANY_CODE}, "shmds_cache_remove");
        if (k % 5 == 0)
            expect_code(shmds_cache_get_and_remove(c, key.data(), key.size(), buf, sizeof buf, &len),
                        {ANY_CODE}, "shmds_cache_get_and_remove");
        fuzz_now += 3;
    }
    // Modseqs and tombstones read each record's modseq word past its value.
    expect_code(shmds_cache_set_tombstone_expire(c, 40), {0}, "shmds_cache_set_tombstone_expire");
    for (int k = 0; k < 12; ++k) {
        const std::string key = "fuzz-ms-" + std::to_string(k * 104729);
        const std::uint64_t ms = std::uint64_t(k % 5 + 1);
        std::uint64_t got = 0;
        expect_code(shmds_cache_set_modseq(c, key.data(), key.size(), value.data(),
                                           std::size_t(k * 17), SHMDS_CACHE_EXPIRE_DEFAULT, ms),
                    {ANY_CODE, -ESTALE}, "shmds_cache_set_modseq");
        expect_code(shmds_cache_get_modseq(c, key.data(), key.size(), buf, sizeof buf, &len, &got),
                    {ANY_CODE}, "shmds_cache_get_modseq");
        if (k % 2 == 0)
            expect_code(shmds_cache_remove_modseq(c, key.data(), key.size(), ms + 1,
                                                  SHMDS_CACHE_EXPIRE_DEFAULT),
                        {ANY_CODE, -ESTALE}, "shmds_cache_remove_modseq");
        expect_code(shmds_cache_get_and_set_modseq(c, key.data(), key.size(), &grow_value_modseq,
                                                   nullptr),
                    {ANY_CODE, -ESTALE}, "shmds_cache_get_and_set_modseq");
        expect_code(shmds_cache_get_and_set(c, key.data(), key.size(), &grow_value, nullptr),
                    {ANY_CODE, -ESTALE}, "shmds_cache_get_and_set");
        fuzz_now += 7;
    }
    shmds_cache_item_t items[2] = {};
    items[0].key = "a";
    items[0].key_len = 1;
    items[0].value = "1";
    items[0].value_len = 1;
    items[1].key = "b";
    items[1].key_len = 1;
    items[1].value = value.data();
    items[1].value_len = 200;
    expect_code(shmds_cache_multi_set(c, "pk", 2, items, 2, 0), {ANY_CODE, 2}, "shmds_cache_multi_set");
    items[0].buf = items[1].buf = buf;
    items[0].buf_size = items[1].buf_size = sizeof buf;
    expect_code(shmds_cache_multi_get(c, "pk", 2, items, 2), {ANY_CODE, 2}, "shmds_cache_multi_get");
    int seen = 0;
    for (int detail = 0; detail <= 2; ++detail)
        expect_code(shmds_cache_get_keys(c, detail, &count_entry, &seen), {ANY_CODE},
                    "shmds_cache_get_keys");
    std::uint64_t n = 0;
    expect_code(shmds_cache_purge(c, &n), {ANY_CODE}, "shmds_cache_purge");
    expect_code(shmds_cache_verify(c, &n), {ANY_CODE}, "shmds_cache_verify");
    expect_code(shmds_cache_clear(c), {ANY_CODE}, "shmds_cache_clear");
    expect_code(shmds_cache_stats(c, &st, 1), {0}, "shmds_cache_stats");
}

#undef ANY_CODE

}  // namespace

void fuzz_cache(InputSegment &in) {
    shmds_options_t opts = in.options();
    shmds_cache_t *c = nullptr;
    if (shmds_cache_open(&opts, &c) != 0) return;
    in.opened();
    exercise(c, in);
    shmds_cache_close(c);
}

}  // namespace shmds_fuzz
