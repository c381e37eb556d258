// Pubsub under fuzzing: every variant; a ring that opens is read by a subscriber from
// its oldest message, published to, and read again.
#include "exercise.hpp"

#include "pubsub/layout.hpp"

#include <shmds/pubsub.h>

#include <cerrno>
#include <cstdint>

namespace shmds_fuzz {

namespace {

// A bytes publisher that finds its slot odd (a writer of an earlier lap still copying)
// waits for that writer up to the abandon bound, 0.5 s per slot, as documented. Damaged
// memory makes any slot look like that; the harness publishes only into slots that do
// not, so the run measures memory safety rather than that documented wait.
bool bytes_slots_idle(shmds_pubsub_t *ps, const InputSegment &in, std::uint64_t n) {
    namespace pubsub = shmds::pubsub;
    pubsub::Geometry g;
    if (pubsub::compute_geometry(pubsub::Variant::bytes, shmds_pubsub_capacity(ps),
                                 shmds_pubsub_msg_size(ps), g) != 0)
        return false;
    const std::uint64_t first = shmds_pubsub_write_pos(ps);
    for (std::uint64_t pos = first; pos - first < n; ++pos) {
        std::uint64_t seq = 1;
        if (!in.read_u64(g.slots_off + (pos & (g.capacity - 1)) * g.stride, seq) || (seq & 1))
            return false;
    }
    return true;
}

void read_int(shmds_pubsub_sub_t *sub, std::int64_t timeout_ns) {
    std::int64_t v = 0, batch[4];
    std::size_t got = 0;
    expect_code(shmds_pubsub_sub_poll_int(sub, &v, timeout_ns), {0, -EAGAIN, -ETIMEDOUT},
                "shmds_pubsub_sub_poll_int");
    expect_code(shmds_pubsub_sub_poll_multi_int(sub, batch, 4, &got, SHMDS_NOWAIT),
                {0, -EAGAIN}, "shmds_pubsub_sub_poll_multi_int");
    expect_code(shmds_pubsub_sub_drain_int(sub, batch, 4, &got), {0},
                "shmds_pubsub_sub_drain_int");
}

void read_bytes(shmds_pubsub_sub_t *sub, std::int64_t timeout_ns) {
    char buf[512];
    std::size_t len = 0, lens[4], got = 0;
    expect_code(shmds_pubsub_sub_poll_bytes(sub, buf, sizeof buf, &len, timeout_ns),
                {0, -EAGAIN, -ETIMEDOUT, -ENOBUFS}, "shmds_pubsub_sub_poll_bytes");
    expect_code(shmds_pubsub_sub_poll_multi_bytes(sub, buf, sizeof buf, lens, 4, &got,
                                                  SHMDS_NOWAIT),
                {0, -EAGAIN, -ENOBUFS}, "shmds_pubsub_sub_poll_multi_bytes");
    expect_code(shmds_pubsub_sub_drain_bytes(sub, buf, 16, lens, 4, &got), {0, -ENOBUFS},
                "shmds_pubsub_sub_drain_bytes");
}

void publish(shmds_pubsub_t *ps, const InputSegment &in, bool bytes) {
    if (!bytes) {
        const std::int64_t values[3] = {-3, 0, 300};
        expect_code(shmds_pubsub_publish_int(ps, 7), {0}, "shmds_pubsub_publish_int");
        expect_code(shmds_pubsub_publish_multi_int(ps, values, 3), {0},
                    "shmds_pubsub_publish_multi_int");
        return;
    }
    if (bytes_slots_idle(ps, in, 1))
        expect_code(shmds_pubsub_publish_bytes(ps, "fuzz", 4), {0}, "shmds_pubsub_publish_bytes");
    const void *datas[2] = {"a", "message"};
    const std::size_t lens[2] = {1, 7};
    if (bytes_slots_idle(ps, in, 2))
        expect_code(shmds_pubsub_publish_multi_bytes(ps, datas, lens, 2), {0},
                    "shmds_pubsub_publish_multi_bytes");
}

void exercise(shmds_pubsub_t *ps, const InputSegment &in) {
    shmds_pubsub_stats_t st{};
    st.struct_size = sizeof st;
    expect_code(shmds_pubsub_stats(ps, &st), {0}, "shmds_pubsub_stats");
    const bool bytes = shmds_pubsub_variant(ps) == SHMDS_PUBSUB_BYTES;
    shmds_pubsub_sub_t *sub = nullptr;
    if (shmds_pubsub_subscribe_all(ps, &sub) != 0) return;  // out of memory only
    auto read = [&](std::int64_t timeout_ns) {
        if (bytes) read_bytes(sub, timeout_ns);
        else read_int(sub, timeout_ns);
    };
    read(SHMDS_NOWAIT);
    publish(ps, in, bytes);
    read(kShortTimeoutNs);
    (void)shmds_pubsub_sub_lag(sub);
    (void)shmds_pubsub_sub_overflow_count(sub);
    (void)shmds_pubsub_sub_skipped_count(sub);
    // Back to the start of the sequence space: every slot then names a later lap.
    expect_code(shmds_pubsub_sub_set_cursor(sub, 0), {0}, "shmds_pubsub_sub_set_cursor");
    read(SHMDS_NOWAIT);
    expect_code(shmds_pubsub_sub_reset_oldest(sub), {0}, "shmds_pubsub_sub_reset_oldest");
    read(SHMDS_NOWAIT);
    expect_code(shmds_pubsub_sub_reset(sub), {0}, "shmds_pubsub_sub_reset");
    read(SHMDS_NOWAIT);
    shmds_pubsub_sub_close(sub);
}

}  // namespace

void fuzz_pubsub(InputSegment &in) {
    for (int variant = SHMDS_PUBSUB_ANY; variant <= SHMDS_PUBSUB_BYTES; ++variant) {
        shmds_options_t opts = in.options();
        shmds_pubsub_t *ps = nullptr;
        if (shmds_pubsub_open(&opts, variant, &ps) != 0) continue;
        in.opened();
        exercise(ps, in);
        shmds_pubsub_close(ps);
    }
}

}  // namespace shmds_fuzz
