// The deque and the stack under fuzzing: every element type, and a segment that opens
// must survive the ordinary operations of its type at both ends. Counters and bytes
// lengths in the segment are hostile: nothing may read or write out of bounds.
#include "exercise.hpp"

#include "core/header.hpp"
#include "deque/layout.hpp"

#include <shmds/deque.h>
#include <shmds/stack.h>

#include <cerrno>
#include <cstdint>

namespace shmds_fuzz {

namespace {

constexpr std::uint64_t kLock =
    sizeof(shmds::core::SegmentHeader) + offsetof(shmds::deque::Control, mutex);

void exercise_deque(shmds_deque_t *d, const InputSegment &in) {
    (void)shmds_deque_size(d);
    (void)shmds_deque_is_empty(d);
    (void)shmds_deque_is_full(d);
    const int type = shmds_deque_type(d);
    std::size_t n = 0;
    // NOWAIT calls first: they wait at most a few ms for a lock named by a live thread
    // and take over one whose holder "died".
    for (int end : {SHMDS_DEQUE_FRONT, SHMDS_DEQUE_BACK}) {
        if (type == SHMDS_TYPE_BYTES) {
            char buf[256];
            std::size_t len = 0, lens[4];
            (void)shmds_deque_pop_bytes(d, end, buf, sizeof buf, &len, SHMDS_NOWAIT);
            (void)shmds_deque_push_bytes(d, end, "fuzz", 4, SHMDS_NOWAIT);
            (void)shmds_deque_pop_multi_bytes(d, end, buf, sizeof buf, lens, 4, &n, SHMDS_NOWAIT);
            (void)shmds_deque_drain_bytes(d, end, buf, 8, lens, 4, &n);
            if (in.robust_lock_free(kLock))
                expect_code(shmds_deque_peek_bytes(d, end, buf, sizeof buf, &len),
                            {0, -EAGAIN, -ENOBUFS, SHMDS_ECORRUPT}, "shmds_deque_peek_bytes");
        } else if (type == SHMDS_TYPE_F64 || type == SHMDS_TYPE_F32) {
            double v[4] = {1, 2, 3, 4};
            (void)shmds_deque_pop_f64(d, end, v, SHMDS_NOWAIT);
            (void)shmds_deque_push_f64(d, end, 0.5, SHMDS_NOWAIT);
            (void)shmds_deque_push_multi_f64(d, end, v, 4, &n, SHMDS_NOWAIT);
            (void)shmds_deque_drain_f64(d, end, v, 4, &n);
            if (in.robust_lock_free(kLock)) (void)shmds_deque_peek_f64(d, end, v);
        } else {
            std::int64_t v[4] = {1, 2, 3, 4};
            (void)shmds_deque_pop_int(d, end, v, SHMDS_NOWAIT);
            (void)shmds_deque_push_int(d, end, 7, SHMDS_NOWAIT);
            (void)shmds_deque_push_multi_int(d, end, v, 4, &n, SHMDS_NOWAIT);
            (void)shmds_deque_pop_multi_int(d, end, v, 4, &n, kShortTimeoutNs);
            (void)shmds_deque_drain_int(d, end, v, 4, &n);
            if (in.robust_lock_free(kLock)) (void)shmds_deque_peek_int(d, end, v);
        }
    }
    if (!in.robust_lock_free(kLock)) return;
    shmds_deque_stats_t st{};
    st.struct_size = sizeof st;
    expect_code(shmds_deque_stats(d, &st), {0}, "shmds_deque_stats");
    expect_code(shmds_deque_clear(d, nullptr), {0}, "shmds_deque_clear");
}

void exercise_stack(shmds_stack_t *s, const InputSegment &in) {
    (void)shmds_stack_size(s);
    (void)shmds_stack_is_full(s);
    const int type = shmds_stack_type(s);
    std::size_t n = 0;
    if (type == SHMDS_TYPE_BYTES) {
        char buf[256];
        std::size_t len = 0, lens[4];
        (void)shmds_stack_pop_bytes(s, buf, sizeof buf, &len, SHMDS_NOWAIT);
        (void)shmds_stack_push_bytes(s, "fuzz", 4, SHMDS_NOWAIT);
        (void)shmds_stack_pop_multi_bytes(s, buf, sizeof buf, lens, 4, &n, SHMDS_NOWAIT);
        (void)shmds_stack_drain_bytes(s, buf, 8, lens, 4, &n);
        if (in.robust_lock_free(kLock)) (void)shmds_stack_peek_bytes(s, buf, sizeof buf, &len);
    } else if (type == SHMDS_TYPE_F64 || type == SHMDS_TYPE_F32) {
        double v[4] = {1, 2, 3, 4};
        (void)shmds_stack_pop_f64(s, v, SHMDS_NOWAIT);
        (void)shmds_stack_push_multi_f64(s, v, 4, &n, SHMDS_NOWAIT);
        (void)shmds_stack_drain_f64(s, v, 4, &n);
    } else {
        std::int64_t v[4] = {1, 2, 3, 4};
        (void)shmds_stack_pop_int(s, v, SHMDS_NOWAIT);
        (void)shmds_stack_push_int(s, 9, SHMDS_NOWAIT);
        (void)shmds_stack_push_multi_int(s, v, 4, &n, SHMDS_NOWAIT);
        (void)shmds_stack_pop_multi_int(s, v, 4, &n, kShortTimeoutNs);
        (void)shmds_stack_drain_int(s, v, 4, &n);
        if (in.robust_lock_free(kLock)) (void)shmds_stack_peek_int(s, v);
    }
    if (!in.robust_lock_free(kLock)) return;
    shmds_stack_stats_t st{};
    st.struct_size = sizeof st;
    expect_code(shmds_stack_stats(s, &st), {0}, "shmds_stack_stats");
    expect_code(shmds_stack_clear(s, nullptr), {0}, "shmds_stack_clear");
}

}  // namespace

void fuzz_deque(InputSegment &in) {
    for (int type = SHMDS_DEQUE_ANY; type <= SHMDS_TYPE_F64; ++type) {
        shmds_options_t opts = in.options();
        shmds_deque_t *d = nullptr;
        if (shmds_deque_open(&opts, type, &d) != 0) continue;
        in.opened();
        exercise_deque(d, in);
        shmds_deque_close(d);
    }
}

void fuzz_stack(InputSegment &in) {
    for (int type = SHMDS_STACK_ANY; type <= SHMDS_TYPE_F64; ++type) {
        shmds_options_t opts = in.options();
        shmds_stack_t *s = nullptr;
        if (shmds_stack_open(&opts, type, &s) != 0) continue;
        in.opened();
        exercise_stack(s, in);
        shmds_stack_close(s);
    }
}

}  // namespace shmds_fuzz
