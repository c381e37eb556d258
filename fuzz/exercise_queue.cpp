// The queue under fuzzing: every variant, and a segment that opens must survive the
// ordinary operations of its variant.
#include "exercise.hpp"

#include "core/header.hpp"
#include "queue/layout.hpp"

#include <shmds/queue.h>

#include <cerrno>
#include <cstdint>

namespace shmds_fuzz {

namespace {

constexpr std::uint64_t kBytesFrontLock =
    sizeof(shmds::core::SegmentHeader) + offsetof(shmds::queue::BytesControl, front_lock);
constexpr std::uint64_t kBytesBackLock =
    sizeof(shmds::core::SegmentHeader) + offsetof(shmds::queue::BytesControl, back_lock);

void exercise_int(shmds_queue_t *q) {
    const std::uint64_t cap = shmds_queue_capacity(q);
    std::int64_t v = 0;
    (void)shmds_queue_peek_int(q, &v);
    for (std::uint64_t i = 0; i <= cap; ++i)
        if (shmds_queue_pop_int(q, &v, SHMDS_NOWAIT) != 0) break;
    (void)shmds_queue_push_int(q, 7, SHMDS_NOWAIT);
    std::int64_t batch[4] = {1, 2, 3, 4};
    std::size_t n = 0;
    (void)shmds_queue_push_multi_int(q, batch, 4, &n, SHMDS_NOWAIT);
    (void)shmds_queue_pop_multi_int(q, batch, 4, &n, SHMDS_NOWAIT);
    (void)shmds_queue_drain_int(q, batch, 4, &n);
    (void)shmds_queue_is_full(q);
    uint64_t removed = 0;
    (void)shmds_queue_clear(q, &removed);
}

void exercise_bytes(shmds_queue_t *q, const InputSegment &in) {
    char buf[256];
    std::size_t len = 0;
    // Non-blocking calls first: they also take over a lock whose holder "died".
    (void)shmds_queue_pop_bytes(q, buf, sizeof buf, &len, SHMDS_NOWAIT);
    (void)shmds_queue_pop_back_bytes(q, buf, sizeof buf, &len, SHMDS_NOWAIT);
    (void)shmds_queue_push_bytes(q, "fuzz", 4, SHMDS_NOWAIT);
    (void)shmds_queue_push_front_bytes(q, "front", 5, SHMDS_NOWAIT);
    std::size_t lens[4], got = 0;
    (void)shmds_queue_pop_multi_bytes(q, buf, sizeof buf, lens, 4, &got, SHMDS_NOWAIT);
    (void)shmds_queue_drain_bytes(q, buf, 8, lens, 4, &got);
    if (!in.robust_lock_free(kBytesFrontLock) || !in.robust_lock_free(kBytesBackLock)) return;
    shmds_queue_stats_t st{};
    st.struct_size = sizeof st;
    expect_code(shmds_queue_stats(q, &st), {0}, "shmds_queue_stats");
    expect_code(shmds_queue_peek_bytes(q, buf, sizeof buf, &len), {0, -EAGAIN, -ENOBUFS},
                "shmds_queue_peek_bytes");
    (void)shmds_queue_peek_bytes(q, buf, 0, &len);
    uint64_t removed = 0;
    expect_code(shmds_queue_clear(q, &removed), {0}, "shmds_queue_clear");
}

void exercise(shmds_queue_t *q, const InputSegment &in) {
    (void)shmds_queue_size(q);
    (void)shmds_queue_is_empty(q);
    if (shmds_queue_variant(q) == SHMDS_QUEUE_BYTES) {
        exercise_bytes(q, in);
    } else {
        shmds_queue_stats_t st{};
        st.struct_size = sizeof st;
        (void)shmds_queue_stats(q, &st);
        exercise_int(q);
    }
}

}  // namespace

void fuzz_queue(InputSegment &in) {
    for (int variant = SHMDS_QUEUE_ANY; variant <= SHMDS_QUEUE_BYTES; ++variant) {
        shmds_options_t opts = in.options();
        shmds_queue_t *q = nullptr;
        if (shmds_queue_open(&opts, variant, &q) != 0) continue;
        in.opened();
        exercise(q, in);
        shmds_queue_close(q);
    }
}

}  // namespace shmds_fuzz
