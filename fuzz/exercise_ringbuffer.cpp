// The ring buffer under fuzzing: opened as "any" and as every element type; a segment
// that opens must survive every verb (its head and slot tags are the peer's to scribble).
#include "exercise.hpp"

#include <shmds/ringbuffer.h>

#include <cerrno>
#include <cstdint>
#include <vector>

namespace shmds_fuzz {

namespace {

void exercise(shmds_ringbuffer_t *r) {
    const std::uint64_t cap = shmds_ringbuffer_capacity(r);
    const std::uint64_t head = shmds_ringbuffer_head(r);
    (void)shmds_ringbuffer_size(r);
    (void)shmds_ringbuffer_count(r);
    (void)shmds_ringbuffer_overwrites(r);
    shmds_ringbuffer_stats_t st{};
    st.struct_size = sizeof st;
    expect_code(shmds_ringbuffer_stats(r, &st), {0}, "shmds_ringbuffer_stats");
    (void)shmds_ringbuffer_wait_for(r, head, SHMDS_NOWAIT);
    const std::uint64_t seqs[] = {0, head - 1, head, head - cap, ~0ull};
    std::vector<std::int64_t> ivals(cap);
    std::vector<std::uint64_t> useqs(cap);
    std::size_t n = 0;
    if (shmds_ringbuffer_type(r) == SHMDS_TYPE_F64) {
        double d = 0;
        for (std::uint64_t s : seqs) (void)shmds_ringbuffer_read_seq_f64(r, s, &d);
        (void)shmds_ringbuffer_latest_f64(r, 0, &d, nullptr);
        std::vector<double> dv(cap);
        (void)shmds_ringbuffer_to_list_f64(r, dv.data(), useqs.data(), dv.size(), &n);
        expect_code(shmds_ringbuffer_write_f64(r, 0.25, nullptr), {0}, "shmds_ringbuffer_write_f64");
        const double batch[] = {1, 2, 3};
        (void)shmds_ringbuffer_write_multi_f64(r, batch, 3, nullptr);
        return;
    }
    std::int64_t v = 0;
    std::uint64_t u = 0;
    for (std::uint64_t s : seqs) {
        (void)shmds_ringbuffer_read_seq_int(r, s, &v);
        (void)shmds_ringbuffer_read_seq_uint(r, s, &u);
    }
    (void)shmds_ringbuffer_latest_int(r, 0, &v, nullptr);
    (void)shmds_ringbuffer_latest_uint(r, cap - 1, &u, nullptr);
    (void)shmds_ringbuffer_to_list_int(r, ivals.data(), useqs.data(), ivals.size(), &n);
    (void)shmds_ringbuffer_to_list_uint(r, useqs.data(), nullptr, useqs.size(), &n);
    expect_code(shmds_ringbuffer_write_int(r, 7, nullptr), {0}, "shmds_ringbuffer_write_int");
    const std::int64_t batch[] = {1, 2, 3};
    expect_code(shmds_ringbuffer_write_multi_int(r, batch, 3, nullptr), {0},
                "shmds_ringbuffer_write_multi_int");
}

}  // namespace

void fuzz_ringbuffer(InputSegment &in) {
    for (int type : {0, int(SHMDS_TYPE_INT8), int(SHMDS_TYPE_INT16), int(SHMDS_TYPE_INT32),
                     int(SHMDS_TYPE_INT64), int(SHMDS_TYPE_UINT8), int(SHMDS_TYPE_UINT16),
                     int(SHMDS_TYPE_UINT32), int(SHMDS_TYPE_UINT64), int(SHMDS_TYPE_F64)}) {
        shmds_options_t opts = in.options();
        shmds_ringbuffer_t *r = nullptr;
        if (shmds_ringbuffer_open(&opts, type, &r) != 0) continue;
        in.opened();
        exercise(r);
        shmds_ringbuffer_close(r);
    }
}

}  // namespace shmds_fuzz
