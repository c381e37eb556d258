// The buffer under fuzzing: opened as "any" and as every element type; a segment that
// opens must survive every verb (its data, lock word and seqlock are the peer's to
// scribble: a lock naming no live thread is taken over, an odd seq with a free lock is
// repaired, so no verb below can wait for good).
#include "exercise.hpp"

#include <shmds/buffer.h>

#include <cerrno>
#include <cstdint>
#include <vector>

namespace shmds_fuzz {

namespace {

constexpr std::int64_t kShort = 50'000'000;  // 50 ms: a scribbled live-looking lock word

void exercise(shmds_buffer_t *b) {
    const std::uint64_t n = shmds_buffer_length(b);
    const std::uint64_t es = shmds_buffer_elem_size(b);
    const int type = shmds_buffer_type(b);
    shmds_buffer_stats_t st{};
    st.struct_size = sizeof st;
    expect_code(shmds_buffer_stats(b, &st), {0}, "shmds_buffer_stats");
    const std::uint64_t idx[] = {0, n - 1, n, ~0ull};
    std::vector<unsigned char> raw(es * 4);
    (void)shmds_buffer_get_raw(b, 0, raw.size() < n * es ? raw.size() : n * es, raw.data(), kShort);
    (void)shmds_buffer_get_raw(b, ~0ull - 1, 4, raw.data(), kShort);
    const void *d;
    std::uint64_t seq;
    if (shmds_buffer_read_begin(b, &d, &seq, kShort) == 0) (void)shmds_buffer_read_end(b, seq);
    if (type == SHMDS_TYPE_BYTES) {
        std::vector<char> out(es);
        std::size_t len;
        for (std::uint64_t i : idx) {
            (void)shmds_buffer_get_bytes(b, i, out.data(), out.size(), &len, kShort);
            (void)shmds_buffer_set_bytes(b, i, "ab", es < 2 ? es : 2, kShort);
        }
    } else if (type == SHMDS_TYPE_F32 || type == SHMDS_TYPE_F64) {
        double v;
        for (std::uint64_t i : idx) {
            (void)shmds_buffer_get_f64(b, i, &v);
            (void)shmds_buffer_set_f64(b, i, 1.5);
            (void)shmds_buffer_exchange_f64(b, i, 2.5, &v);
        }
        std::vector<double> sl(3);
        (void)shmds_buffer_get_slice_f64(b, 0, n < 3 ? n : 3, sl.data(), kShort);
    } else {
        std::int64_t v;
        std::uint64_t u;
        for (std::uint64_t i : idx) {
            (void)shmds_buffer_get_int(b, i, &v);
            (void)shmds_buffer_get_uint(b, i, &u);
            (void)shmds_buffer_add_int(b, i, 1, &v);
            (void)shmds_buffer_cas_int(b, i, 0, 1, &v);
            (void)shmds_buffer_xor(b, i, 1, &u);
        }
        std::vector<std::int64_t> sl(3);
        (void)shmds_buffer_get_slice_int(b, 0, n < 3 ? n : 3, sl.data(), kShort);
        (void)shmds_buffer_set_slice_int(b, 0, sl.data(), 1, kShort);
    }
    (void)shmds_buffer_set_raw(b, 0, raw.data(), es < n * es ? es : n * es, kShort);
    void *w;
    if (shmds_buffer_write_begin(b, &w, kShort) == 0)
        expect_code(shmds_buffer_write_end(b), {0}, "shmds_buffer_write_end");
}

}  // namespace

void fuzz_buffer(InputSegment &in) {
    for (int type : {0, int(SHMDS_TYPE_INT8), int(SHMDS_TYPE_INT16), int(SHMDS_TYPE_INT32),
                     int(SHMDS_TYPE_INT64), int(SHMDS_TYPE_UINT8), int(SHMDS_TYPE_UINT16),
                     int(SHMDS_TYPE_UINT32), int(SHMDS_TYPE_UINT64), int(SHMDS_TYPE_F32),
                     int(SHMDS_TYPE_F64), int(SHMDS_TYPE_BYTES)}) {
        shmds_options_t opts = in.options();
        shmds_buffer_t *b = nullptr;
        if (shmds_buffer_open(&opts, type, &b) != 0) continue;
        in.opened();
        exercise(b);
        shmds_buffer_close(b);
    }
}

}  // namespace shmds_fuzz
