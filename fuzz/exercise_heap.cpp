// The heap under fuzzing: opened as "any" and as each value type; a segment that opens
// must survive every verb (its size, journal and entry lengths are the peer's to
// scribble: a journal out of bounds empties the heap, an entry length over max_len is
// SHMDS_ECORRUPT, never a read past the entry).
#include "exercise.hpp"

#include "core/header.hpp"
#include "heap/layout.hpp"

#include <shmds/heap.h>

#include <cerrno>
#include <cstdint>
#include <vector>

namespace shmds_fuzz {

namespace {

constexpr std::uint64_t kLock =
    sizeof(shmds::core::SegmentHeader) + offsetof(shmds::heap::Control, mutex);

void exercise(shmds_heap_t *h, const InputSegment &in) {
    (void)shmds_heap_size(h);
    (void)shmds_heap_capacity(h);
    (void)shmds_heap_is_empty(h);
    (void)shmds_heap_is_full(h);
    (void)shmds_heap_is_max(h);
    // stats, peek and clear wait for the lock without a deadline: a word naming a live
    // thread is what a live holder looks like, so they run only on a free lock.
    if (!in.robust_lock_free(kLock)) return;
    shmds_heap_stats_t st{};
    st.struct_size = sizeof st;
    expect_code(shmds_heap_stats(h, &st), {0}, "shmds_heap_stats");
    std::int64_t p = 0, v = 0;
    if (shmds_heap_type(h) == SHMDS_TYPE_BYTES) {
        std::vector<char> buf(4096);
        std::size_t len = 0;
        (void)shmds_heap_peek_bytes(h, &p, buf.data(), buf.size(), &len);
        for (int i = 0; i < 3; ++i)
            (void)shmds_heap_pop_bytes(h, &p, buf.data(), buf.size(), &len, SHMDS_NOWAIT);
        expect_code(shmds_heap_push_bytes(h, 3, "ab\0\xff", 4, SHMDS_NOWAIT),
                    {0, -EAGAIN, -E2BIG}, "shmds_heap_push_bytes");
        std::size_t lens[4], got = 0;
        (void)shmds_heap_pop_multi_bytes(h, nullptr, buf.data(), buf.size(), lens, 4, &got,
                                         SHMDS_NOWAIT);
    } else {
        (void)shmds_heap_peek_int(h, &p, &v);
        for (int i = 0; i < 3; ++i) (void)shmds_heap_pop_int(h, &p, &v, SHMDS_NOWAIT);
        expect_code(shmds_heap_push_int(h, -5, 7, SHMDS_NOWAIT), {0, -EAGAIN},
                    "shmds_heap_push_int");
        const std::int64_t prios[] = {3, 1, 2}, vals[] = {1, 2, 3};
        std::size_t pushed = 0, got = 0;
        (void)shmds_heap_push_multi_int(h, prios, vals, 3, &pushed, SHMDS_NOWAIT);
        std::int64_t out[4];
        (void)shmds_heap_pop_multi_int(h, nullptr, out, 4, &got, SHMDS_NOWAIT);
    }
    std::uint64_t removed = 0;
    expect_code(shmds_heap_clear(h, &removed), {0}, "shmds_heap_clear");
}

}  // namespace

void fuzz_heap(InputSegment &in) {
    for (int type : {0, int(SHMDS_TYPE_INT64), int(SHMDS_TYPE_BYTES)}) {
        shmds_options_t opts = in.options();
        shmds_heap_t *h = nullptr;
        if (shmds_heap_open(&opts, type, &h) != 0) continue;
        in.opened();
        exercise(h, in);
        shmds_heap_close(h);
    }
}

}  // namespace shmds_fuzz
