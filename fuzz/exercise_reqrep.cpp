// Reqrep under fuzzing: every variant; a segment that opens is served (whatever requests
// it holds, with whatever ids), then used as a client whose own request is served and
// collected.
#include "exercise.hpp"

#include <shmds/reqrep.h>

#include <cerrno>
#include <cstdint>

namespace shmds_fuzz {

namespace {

// Receive one request and reply to it; false when none was received. The id comes from
// shared memory, so the reply may be refused in every documented way.
bool serve_one(shmds_reqrep_t *rr, bool bytes) {
    std::uint64_t id = 0;
    int r;
    if (bytes) {
        char buf[512];
        std::size_t len = 0;
        r = shmds_reqrep_recv_bytes(rr, buf, sizeof buf, &len, &id, SHMDS_NOWAIT);
    } else {
        std::int64_t v = 0;
        r = shmds_reqrep_recv_int(rr, &v, &id, SHMDS_NOWAIT);
    }
    // -ETIMEDOUT: the request lock is held (by a live process, as far as anyone can tell).
    expect_code(r, {0, -EAGAIN, -ETIMEDOUT, -ENOBUFS}, "shmds_reqrep_recv");
    if (r != 0) return false;
    r = bytes ? shmds_reqrep_reply_bytes(rr, id, "re", 2) : shmds_reqrep_reply_int(rr, id, 42);
    // -E2BIG: the segment's response size is smaller than our two bytes (documented).
    expect_code(r, {0, -ECANCELED, -ENOENT, -EEXIST, -E2BIG}, "shmds_reqrep_reply");
    return true;
}

void serve_batch(shmds_reqrep_t *rr, bool bytes) {
    std::uint64_t ids[4];
    std::size_t got = 0;
    int r;
    if (bytes) {
        char buf[512];
        std::size_t lens[4];
        r = shmds_reqrep_recv_multi_bytes(rr, buf, sizeof buf, lens, ids, 4, &got, SHMDS_NOWAIT);
    } else {
        std::int64_t values[4];
        r = shmds_reqrep_recv_multi_int(rr, values, ids, 4, &got, SHMDS_NOWAIT);
    }
    expect_code(r, {0, -EAGAIN, -ETIMEDOUT, -ENOBUFS}, "shmds_reqrep_recv_multi");
    for (std::size_t i = 0; r == 0 && i < got; ++i)
        expect_code(bytes ? shmds_reqrep_reply_bytes(rr, ids[i], nullptr, 0)
                          : shmds_reqrep_reply_int(rr, ids[i], -1),
                    {0, -ECANCELED, -ENOENT, -EEXIST}, "shmds_reqrep_reply");
}

// Send, serve and collect one request of our own. Only our own id is cancelled: a
// cancel waits up to a second for a server it believes alive to finish writing, and an
// id read from shared memory can name any slot.
void round_trip(shmds_reqrep_t *rr, bool bytes) {
    std::uint64_t id = 0;
    int r = bytes ? shmds_reqrep_send_bytes(rr, "ping", 4, &id, SHMDS_NOWAIT)
                  : shmds_reqrep_send_int(rr, 5, &id, SHMDS_NOWAIT);
    // -E2BIG: the segment's request size is smaller than "ping" (documented).
    expect_code(r, {0, -EAGAIN, -ETIMEDOUT, -E2BIG}, "shmds_reqrep_send");
    if (r != 0) return;
    for (int i = 0; i < 4 && serve_one(rr, bytes); ++i) {
    }
    if (bytes) {
        char buf[512];
        std::size_t len = 0;
        r = shmds_reqrep_get_bytes(rr, id, buf, sizeof buf, &len, SHMDS_NOWAIT);
    } else {
        std::int64_t v = 0;
        r = shmds_reqrep_get_int(rr, id, &v, SHMDS_NOWAIT);
    }
    expect_code(r, {0, -EAGAIN, -ENOENT, -ENOBUFS}, "shmds_reqrep_get");
    if (r != 0) expect_code(shmds_reqrep_cancel(rr, id), {0, -ENOENT}, "shmds_reqrep_cancel");
}

void exercise(shmds_reqrep_t *rr) {
    shmds_reqrep_stats_t st{};
    st.struct_size = sizeof st;
    expect_code(shmds_reqrep_stats(rr, &st), {0}, "shmds_reqrep_stats");
    const bool bytes = shmds_reqrep_variant(rr) == SHMDS_REQREP_BYTES;
    serve_one(rr, bytes);
    serve_batch(rr, bytes);
    round_trip(rr, bytes);
    // Send and wait briefly for a reply nobody writes: cancelled on timeout.
    int r;
    if (bytes) {
        char buf[64];
        std::size_t len = 0;
        r = shmds_reqrep_request_bytes(rr, "x", 1, buf, sizeof buf, &len, kShortTimeoutNs);
    } else {
        std::int64_t v = 0;
        r = shmds_reqrep_request_int(rr, 1, &v, kShortTimeoutNs);
    }
    expect_code(r, {0, -EAGAIN, -ETIMEDOUT, -ENOBUFS, -E2BIG}, "shmds_reqrep_request");
    (void)shmds_reqrep_pending(rr);
}

}  // namespace

void fuzz_reqrep(InputSegment &in) {
    for (int variant = SHMDS_REQREP_ANY; variant <= SHMDS_REQREP_BYTES; ++variant) {
        shmds_options_t opts = in.options();
        shmds_reqrep_t *rr = nullptr;
        if (shmds_reqrep_open(&opts, variant, &rr) != 0) continue;
        in.opened();
        exercise(rr);
        shmds_reqrep_close(rr);
    }
}

}  // namespace shmds_fuzz
