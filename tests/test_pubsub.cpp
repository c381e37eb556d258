// PubSub through its public C API in one process: every verb of every variant, every
// return code pubsub.h documents, the lapped-subscriber arithmetic, the lapped-publisher
// case (forced with the test-only claim hook), and damaged messages never being handed
// out. Cross-process behaviour and crashes live in test_pubsub_procs.cpp.
#include "pubsub_helpers.hpp"

#include "pubsub/int_slots.hpp"
#include "pubsub/layout.hpp"
#include "pubsub/test_hook.hpp"

#include <shmds/shmds.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <poll.h>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace shmds::test;

namespace {

const int kIntVariants[] = {SHMDS_PUBSUB_INT16, SHMDS_PUBSUB_INT32, SHMDS_PUBSUB_INT64};

std::int64_t poll_one(shmds_pubsub_sub_t *s) {
    std::int64_t v = -1;
    int rc = shmds_pubsub_sub_poll_int(s, &v, SHMDS_NOWAIT);
    EXPECT_EQ(0, rc) << shmds_errname(rc) << ": " << shmds_last_error();
    return v;
}

std::string poll_bytes(shmds_pubsub_sub_t *s) {
    char buf[512];
    std::size_t len = 0;
    int rc = shmds_pubsub_sub_poll_bytes(s, buf, sizeof buf, &len, SHMDS_NOWAIT);
    EXPECT_EQ(0, rc) << shmds_errname(rc) << ": " << shmds_last_error();
    return rc == 0 ? std::string(buf, len) : std::string("<none>");
}

void publish_str(shmds_pubsub_t *p, const std::string &s) {
    ASSERT_EQ(0, shmds_pubsub_publish_bytes(p, s.data(), s.size())) << shmds_last_error();
}

shmds_options_t path_options(const TempPath &p) {
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = p.c_str();
    return o;
}

}  // namespace

TEST(PubSubCreate, CapacityRoundsUpToAPowerOfTwo) {
    EXPECT_EQ(16u, shmds_pubsub_capacity(make_pubsub(SHMDS_PUBSUB_INT64, 10).get()));
    EXPECT_EQ(2u, shmds_pubsub_capacity(make_pubsub(SHMDS_PUBSUB_INT32, 1).get()));
    auto b = make_pubsub(SHMDS_PUBSUB_BYTES, 5);
    EXPECT_EQ(8u, shmds_pubsub_capacity(b.get()));
    EXPECT_EQ(256u, shmds_pubsub_msg_size(b.get()));
    EXPECT_EQ(SHMDS_PUBSUB_BYTES, shmds_pubsub_variant(b.get()));
}

TEST(PubSubCreate, RefusesBadConfigurationsWithASentence) {
    shmds_pubsub_t *p = nullptr;
    shmds_pubsub_config_t cfg = SHMDS_PUBSUB_CONFIG_INIT(SHMDS_PUBSUB_INT64, 0);
    EXPECT_EQ(-EINVAL, shmds_pubsub_create(nullptr, &cfg, &p));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "capacity"));
    cfg = SHMDS_PUBSUB_CONFIG_INIT(7, 8);
    EXPECT_EQ(-EINVAL, shmds_pubsub_create(nullptr, &cfg, &p));
    cfg = SHMDS_PUBSUB_CONFIG_INIT(SHMDS_PUBSUB_INT64, 8);
    cfg.msg_size = 64;
    EXPECT_EQ(-EINVAL, shmds_pubsub_create(nullptr, &cfg, &p));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "message size"));
    cfg = SHMDS_PUBSUB_CONFIG_INIT(SHMDS_PUBSUB_BYTES, 8);
    cfg.msg_size = (std::uint64_t{1} << 24) + 1;
    EXPECT_EQ(-EINVAL, shmds_pubsub_create(nullptr, &cfg, &p));
    cfg = SHMDS_PUBSUB_CONFIG_INIT(SHMDS_PUBSUB_INT64, 8);
    cfg.struct_size = 4;
    EXPECT_EQ(-EINVAL, shmds_pubsub_create(nullptr, &cfg, &p));
    EXPECT_EQ(nullptr, p);
}

TEST(PubSubCreate, OpenValidatesVariantAndGeometryComesFromTheSegment) {
    TempPath path("pubsub");
    shmds_options_t o = path_options(path);
    auto made = make_pubsub(SHMDS_PUBSUB_BYTES, 32, 100, &o);
    shmds_pubsub_t *p = nullptr;
    EXPECT_EQ(SHMDS_ETYPE, shmds_pubsub_open(&o, SHMDS_PUBSUB_INT64, &p));
    ASSERT_EQ(0, shmds_pubsub_open(&o, SHMDS_PUBSUB_ANY, &p)) << shmds_last_error();
    PubSubPtr opened(p);
    EXPECT_EQ(32u, shmds_pubsub_capacity(opened.get()));
    EXPECT_EQ(100u, shmds_pubsub_msg_size(opened.get()));
    // Creating again attaches: the existing geometry wins.
    auto again = make_pubsub(SHMDS_PUBSUB_BYTES, 4, 0, &o);
    EXPECT_EQ(32u, shmds_pubsub_capacity(again.get()));
    auto sub = subscribe(opened.get());
    publish_str(again.get(), "through another mapping");
    EXPECT_EQ("through another mapping", poll_bytes(sub.get()));
    EXPECT_GE(shmds_pubsub_fd(opened.get()), 0);
    EXPECT_EQ(0, shmds_pubsub_sync(opened.get()));
    EXPECT_EQ(-ENOENT, shmds_pubsub_fd(make_pubsub(SHMDS_PUBSUB_INT64, 4).get()));
}

TEST(PubSubInt, EveryVariantDeliversInOrderIncludingItsLimits) {
    for (int variant : kIntVariants) {
        SCOPED_TRACE(variant);
        auto p = make_pubsub(variant, 64);
        auto sub = subscribe(p.get());
        const std::int64_t lo = variant == SHMDS_PUBSUB_INT16   ? INT16_MIN
                                : variant == SHMDS_PUBSUB_INT32 ? INT32_MIN
                                                                : INT64_MIN;
        const std::int64_t hi = variant == SHMDS_PUBSUB_INT16   ? INT16_MAX
                                : variant == SHMDS_PUBSUB_INT32 ? INT32_MAX
                                                                : INT64_MAX;
        const std::vector<std::int64_t> values = {0, -1, 1, lo, hi, 12345};
        for (auto v : values) ASSERT_EQ(0, shmds_pubsub_publish_int(p.get(), v));
        for (auto v : values) EXPECT_EQ(v, poll_one(sub.get()));
        std::int64_t v;
        EXPECT_EQ(-EAGAIN, shmds_pubsub_sub_poll_int(sub.get(), &v, SHMDS_NOWAIT));
        if (variant != SHMDS_PUBSUB_INT64) {
            EXPECT_EQ(-ERANGE, shmds_pubsub_publish_int(p.get(), hi + 1));
            EXPECT_EQ(-ERANGE, shmds_pubsub_publish_int(p.get(), lo - 1));
            EXPECT_EQ(values.size(), shmds_pubsub_write_pos(p.get()));
        }
    }
}

// The case: capacity 16, 30 messages published before the first poll by a
// subscriber whose cursor is at 0. Message k (1-based) is value k.
TEST(PubSubLapped, Cap16ThirtyPublishedFirstPollGetsMessage15WithOverflow14) {
    for (int variant : {SHMDS_PUBSUB_INT64, SHMDS_PUBSUB_INT16, SHMDS_PUBSUB_BYTES}) {
        SCOPED_TRACE(variant);
        auto p = make_pubsub(variant, 16);
        auto sub = subscribe(p.get(), true);
        ASSERT_EQ(0u, shmds_pubsub_sub_cursor(sub.get()));
        for (int k = 1; k <= 30; ++k) {
            if (variant == SHMDS_PUBSUB_BYTES) publish_str(p.get(), "m" + std::to_string(k));
            else ASSERT_EQ(0, shmds_pubsub_publish_int(p.get(), k));
        }
        EXPECT_EQ(30u, shmds_pubsub_sub_lag(sub.get()));
        for (int k = 15; k <= 30; ++k) {
            if (variant == SHMDS_PUBSUB_BYTES) EXPECT_EQ("m" + std::to_string(k), poll_bytes(sub.get()));
            else EXPECT_EQ(k, poll_one(sub.get()));
            EXPECT_EQ(14u, shmds_pubsub_sub_overflow_count(sub.get()));
        }
        EXPECT_EQ(0u, shmds_pubsub_sub_lag(sub.get()));
        EXPECT_EQ(14u, pubsub_stats(p.get()).overflowed);
    }
}

TEST(PubSubLapped, SubscribeAllOnAWrappedRingStartsAtTheOldestHeld) {
    auto p = make_pubsub(SHMDS_PUBSUB_INT32, 8);
    for (int k = 1; k <= 20; ++k) ASSERT_EQ(0, shmds_pubsub_publish_int(p.get(), k));
    auto all = subscribe(p.get(), true);
    auto future = subscribe(p.get(), false);
    EXPECT_EQ(12u, shmds_pubsub_sub_cursor(all.get()));
    EXPECT_EQ(20u, shmds_pubsub_sub_cursor(future.get()));
    for (int k = 13; k <= 20; ++k) EXPECT_EQ(k, poll_one(all.get()));
    EXPECT_EQ(0u, shmds_pubsub_sub_overflow_count(all.get()));
    std::int64_t v;
    EXPECT_EQ(-EAGAIN, shmds_pubsub_sub_poll_int(future.get(), &v, SHMDS_NOWAIT));
    ASSERT_EQ(0, shmds_pubsub_publish_int(p.get(), 21));
    EXPECT_EQ(21, poll_one(future.get()));
    EXPECT_EQ(21, poll_one(all.get()));
}

TEST(PubSubCursor, LagCursorResetAndResetOldest) {
    auto p = make_pubsub(SHMDS_PUBSUB_INT64, 8);
    auto sub = subscribe(p.get());
    for (int k = 0; k < 5; ++k) ASSERT_EQ(0, shmds_pubsub_publish_int(p.get(), k * 10));
    EXPECT_EQ(5u, shmds_pubsub_sub_lag(sub.get()));
    EXPECT_EQ(5u, shmds_pubsub_sub_write_pos(sub.get()));
    ASSERT_EQ(0, shmds_pubsub_sub_set_cursor(sub.get(), 3));
    EXPECT_EQ(30, poll_one(sub.get()));
    EXPECT_EQ(4u, shmds_pubsub_sub_cursor(sub.get()));
    ASSERT_EQ(0, shmds_pubsub_sub_reset(sub.get()));
    EXPECT_EQ(0u, shmds_pubsub_sub_lag(sub.get()));
    ASSERT_EQ(0, shmds_pubsub_sub_reset_oldest(sub.get()));
    EXPECT_EQ(0u, shmds_pubsub_sub_cursor(sub.get()));
    EXPECT_EQ(0, poll_one(sub.get()));
    // A cursor ahead of the writer waits for that position.
    ASSERT_EQ(0, shmds_pubsub_sub_set_cursor(sub.get(), 6));
    std::int64_t v;
    ASSERT_EQ(0, shmds_pubsub_publish_int(p.get(), 50));
    EXPECT_EQ(-EAGAIN, shmds_pubsub_sub_poll_int(sub.get(), &v, SHMDS_NOWAIT));
    ASSERT_EQ(0, shmds_pubsub_publish_int(p.get(), 60));
    EXPECT_EQ(60, poll_one(sub.get()));
    EXPECT_EQ(-EINVAL, shmds_pubsub_sub_set_cursor(nullptr, 0));
    EXPECT_EQ(0u, shmds_pubsub_sub_lag(nullptr));
}

TEST(PubSubInt, PublishMultiIsOneClaimAndAllOrNothingOnRange) {
    auto p = make_pubsub(SHMDS_PUBSUB_INT16, 16);
    auto sub = subscribe(p.get());
    const std::int64_t ok[] = {1, 2, 3, 4, 5};
    ASSERT_EQ(0, shmds_pubsub_publish_multi_int(p.get(), ok, 5));
    const std::int64_t bad[] = {6, 70000};
    EXPECT_EQ(-ERANGE, shmds_pubsub_publish_multi_int(p.get(), bad, 2));
    EXPECT_EQ(5u, shmds_pubsub_write_pos(p.get()));
    std::int64_t out[8];
    std::size_t got = 0;
    ASSERT_EQ(0, shmds_pubsub_sub_poll_multi_int(sub.get(), out, 3, &got, SHMDS_NOWAIT));
    ASSERT_EQ(3u, got);
    EXPECT_EQ(3, out[2]);
    ASSERT_EQ(0, shmds_pubsub_sub_drain_int(sub.get(), out, 8, &got));
    ASSERT_EQ(2u, got);
    EXPECT_EQ(5, out[1]);
    ASSERT_EQ(0, shmds_pubsub_sub_drain_int(sub.get(), out, 8, &got));
    EXPECT_EQ(0u, got);
    EXPECT_EQ(-EAGAIN, shmds_pubsub_sub_poll_multi_int(sub.get(), out, 8, &got, SHMDS_NOWAIT));
    EXPECT_EQ(-ETIMEDOUT, shmds_pubsub_sub_poll_multi_int(sub.get(), out, 8, &got, 20'000'000));
    EXPECT_EQ(0, shmds_pubsub_publish_multi_int(p.get(), nullptr, 0));
}

TEST(PubSubBytes, MessagesUpToMsgSizeIncludingEmptyAndBinary) {
    auto p = make_pubsub(SHMDS_PUBSUB_BYTES, 8, 100);
    auto sub = subscribe(p.get());
    const std::string binary("a\0b\xff", 4);
    publish_str(p.get(), "");
    publish_str(p.get(), binary);
    publish_str(p.get(), std::string(100, 'x'));
    std::string big(101, 'y');
    EXPECT_EQ(-E2BIG, shmds_pubsub_publish_bytes(p.get(), big.data(), big.size()));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "101"));
    EXPECT_EQ("", poll_bytes(sub.get()));
    EXPECT_EQ(binary, poll_bytes(sub.get()));
    EXPECT_EQ(std::string(100, 'x'), poll_bytes(sub.get()));
    EXPECT_EQ(3u, shmds_pubsub_write_pos(p.get()));
}

TEST(PubSubBytes, SmallBufferGetsENOBUFSAndTheNeededLengthWithoutConsuming) {
    auto p = make_pubsub(SHMDS_PUBSUB_BYTES, 8);
    auto sub = subscribe(p.get());
    publish_str(p.get(), "0123456789");
    char small[4];
    std::size_t len = 0;
    EXPECT_EQ(-ENOBUFS, shmds_pubsub_sub_poll_bytes(sub.get(), small, sizeof small, &len,
                                                    SHMDS_NOWAIT));
    EXPECT_EQ(10u, len);
    EXPECT_EQ(0u, shmds_pubsub_sub_cursor(sub.get()));
    EXPECT_EQ("0123456789", poll_bytes(sub.get()));
}

TEST(PubSubBytes, PollMultiPacksMessagesAndStopsAtOneThatDoesNotFit) {
    auto p = make_pubsub(SHMDS_PUBSUB_BYTES, 16);
    auto sub = subscribe(p.get());
    const void *datas[] = {"aa", "bbb", "cccccccc", "d"};
    const std::size_t lens[] = {2, 3, 8, 1};
    ASSERT_EQ(0, shmds_pubsub_publish_multi_bytes(p.get(), datas, lens, 4));
    char buf[8];
    std::size_t got = 0, out_lens[4];
    ASSERT_EQ(0, shmds_pubsub_sub_poll_multi_bytes(sub.get(), buf, sizeof buf, out_lens, 4, &got,
                                                   SHMDS_NOWAIT));
    ASSERT_EQ(2u, got);
    EXPECT_EQ("aabbb", std::string(buf, 5));
    ASSERT_EQ(0, shmds_pubsub_sub_drain_bytes(sub.get(), buf, sizeof buf, out_lens, 4, &got));
    ASSERT_EQ(1u, got);
    EXPECT_EQ("cccccccc", std::string(buf, out_lens[0]));
    ASSERT_EQ(0, shmds_pubsub_sub_drain_bytes(sub.get(), buf, sizeof buf, out_lens, 4, &got));
    ASSERT_EQ(1u, got);
    EXPECT_EQ(0, shmds_pubsub_sub_drain_bytes(sub.get(), buf, sizeof buf, out_lens, 4, &got));
    EXPECT_EQ(0u, got);
    publish_str(p.get(), std::string(20, 'z'));
    EXPECT_EQ(-ENOBUFS, shmds_pubsub_sub_poll_multi_bytes(sub.get(), buf, sizeof buf, out_lens,
                                                          4, &got, SHMDS_NOWAIT));
    EXPECT_EQ(20u, out_lens[0]);
}

TEST(PubSubVariants, WrongVerbFamilyIsSHMDS_EVARIANT) {
    auto ints = make_pubsub(SHMDS_PUBSUB_INT64, 4);
    auto bytes = make_pubsub(SHMDS_PUBSUB_BYTES, 4);
    auto isub = subscribe(ints.get());
    auto bsub = subscribe(bytes.get());
    std::int64_t v;
    char buf[8];
    std::size_t len;
    EXPECT_EQ(SHMDS_EVARIANT, shmds_pubsub_publish_bytes(ints.get(), "x", 1));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_pubsub_publish_int(bytes.get(), 1));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_pubsub_sub_poll_int(bsub.get(), &v, SHMDS_NOWAIT));
    EXPECT_EQ(SHMDS_EVARIANT,
              shmds_pubsub_sub_poll_bytes(isub.get(), buf, sizeof buf, &len, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL, shmds_pubsub_publish_int(nullptr, 1));
    EXPECT_EQ(-EINVAL, shmds_pubsub_sub_poll_int(isub.get(), nullptr, SHMDS_NOWAIT));
    EXPECT_EQ(-EINVAL, shmds_pubsub_sub_poll_int(isub.get(), &v, -7));
}

// poll_int's fast path (one attempt before any deadline is built) must still refuse a
// bad timeout when a message is there, and take nothing.
TEST(PubSubInt, PollWithABadTimeoutIsRefusedEvenWithAMessageWaiting) {
    for (int variant : {SHMDS_PUBSUB_INT16, SHMDS_PUBSUB_INT32, SHMDS_PUBSUB_INT64}) {
        auto ps = make_pubsub(variant, 4);
        auto sub = subscribe(ps.get());
        ASSERT_EQ(0, shmds_pubsub_publish_int(ps.get(), 5));
        std::int64_t v = -1;
        EXPECT_EQ(-EINVAL, shmds_pubsub_sub_poll_int(sub.get(), &v, -2));
        EXPECT_EQ(-1, v);
        EXPECT_EQ(1u, shmds_pubsub_sub_lag(sub.get())) << "a refused poll must not consume";
        EXPECT_EQ(0, shmds_pubsub_sub_poll_int(sub.get(), &v, 1000000));
        EXPECT_EQ(5, v);
    }
}

TEST(PubSubEvents, PublishingAloneNeverSignalsNotifyDoes) {
    auto p = make_pubsub(SHMDS_PUBSUB_INT64, 8);
    auto sub = subscribe(p.get());
    EXPECT_EQ(-ENOENT, shmds_pubsub_notify(p.get()));
    int fd = shmds_pubsub_eventfd(p.get());
    ASSERT_GE(fd, 0);
    EXPECT_EQ(fd, shmds_pubsub_sub_eventfd(sub.get()));
    ASSERT_EQ(0, shmds_pubsub_publish_int(p.get(), 1));
    pollfd pfd{fd, POLLIN, 0};
    EXPECT_EQ(0, ::poll(&pfd, 1, 0));
    ASSERT_EQ(0, shmds_pubsub_publish_notify_int(p.get(), 2));
    ASSERT_EQ(0, shmds_pubsub_notify(p.get()));
    EXPECT_EQ(1, ::poll(&pfd, 1, 0));
    std::uint64_t n = 0;
    ASSERT_EQ(0, shmds_pubsub_eventfd_consume(p.get(), &n));
    EXPECT_EQ(2u, n);
    EXPECT_EQ(-EAGAIN, shmds_pubsub_eventfd_consume(p.get(), &n));
}

#if SHMDS_FAILPOINTS
namespace {
struct LapContext {
    shmds_pubsub_t *p;
    std::uint64_t claimed = ~std::uint64_t{0};
    int lap = 0;
};

// Runs while the first publisher holds its claimed position: publish a whole lap.
void publish_a_lap(std::uint64_t position, void *context) {
    auto *ctx = static_cast<LapContext *>(context);
    ctx->claimed = position;
    const std::uint64_t cap = shmds_pubsub_capacity(ctx->p);
    for (std::uint64_t k = 1; k <= cap; ++k) {
        if (shmds_pubsub_variant(ctx->p) == SHMDS_PUBSUB_BYTES) {
            std::string m = "new" + std::to_string(k);
            shmds_pubsub_publish_bytes(ctx->p, m.data(), m.size());
        } else {
            shmds_pubsub_publish_int(ctx->p, std::int64_t(100 + k));
        }
        ++ctx->lap;
    }
}
}  // namespace

TEST(PubSubLappedPublisher, APublisherHeldForAWholeLapNeverOverwritesTheNewerMessage) {
    for (int variant : {SHMDS_PUBSUB_INT16, SHMDS_PUBSUB_INT32, SHMDS_PUBSUB_INT64,
                        SHMDS_PUBSUB_BYTES}) {
        SCOPED_TRACE(variant);
        auto p = make_pubsub(variant, 8);
        auto sub = subscribe(p.get(), true);
        LapContext ctx{p.get()};
        shmds::pubsub::set_claim_hook(&publish_a_lap, &ctx);
        if (variant == SHMDS_PUBSUB_BYTES) publish_str(p.get(), "stale");
        else ASSERT_EQ(0, shmds_pubsub_publish_int(p.get(), 99));
        shmds::pubsub::set_claim_hook(nullptr, nullptr);
        ASSERT_EQ(0u, ctx.claimed);
        ASSERT_EQ(8, ctx.lap);
        EXPECT_EQ(1u, pubsub_stats(p.get()).dropped);
        // Position 0 is gone (lapped); positions 1..8 are the lap, position 8 sits in
        // the slot the stale publisher claimed and must have survived it.
        for (int k = 1; k <= 8; ++k) {
            if (variant == SHMDS_PUBSUB_BYTES) EXPECT_EQ("new" + std::to_string(k), poll_bytes(sub.get()));
            else EXPECT_EQ(100 + k, poll_one(sub.get()));
        }
        EXPECT_EQ(1u, shmds_pubsub_sub_overflow_count(sub.get()));
        std::int64_t v;
        char buf[16];
        std::size_t len;
        EXPECT_EQ(-EAGAIN, variant == SHMDS_PUBSUB_BYTES
                               ? shmds_pubsub_sub_poll_bytes(sub.get(), buf, 16, &len, 0)
                               : shmds_pubsub_sub_poll_int(sub.get(), &v, 0));
    }
}
#endif

// The narrow seq is 32 bits for Int32: position 2^32 - 1 commits seq 0, which must not
// read as "never written", and a stale commit a lap behind must still be refused.
TEST(PubSubSlots, Int32SequenceWrapsAt2To32WithoutConfusion) {
    using T = shmds::pubsub::Int32Traits;
    const std::uint64_t cap = 8;
    const std::uint64_t pos = (std::uint64_t{1} << 32) - 1;  // seq of pos is (pos+1) = 0
    shmds::pubsub::NarrowSlot slot;
    slot = (pos + 1 - cap) & T::kSeqMask;  // as the lap before left it
    shmds::pubsub::SlotView v;
    T::read(&slot, v);
    EXPECT_LT(T::diff(v.seq, pos + 1), 0);  // position pos: not committed yet
    std::atomic<std::uint64_t> write_pos{pos + 1};
    ASSERT_TRUE(T::commit(&slot, pos, -5, write_pos));
    T::read(&slot, v);
    EXPECT_EQ(0u, v.seq);
    EXPECT_EQ(0, T::diff(v.seq, pos + 1));
    EXPECT_EQ(-5, v.value);
    EXPECT_FALSE(T::commit(&slot, pos - cap, 7, write_pos));  // a lap behind: dropped
    write_pos = pos + cap + 1;
    EXPECT_TRUE(T::commit(&slot, pos + cap, 9, write_pos));
    T::read(&slot, v);
    EXPECT_EQ(9, v.value);
    EXPECT_GT(T::diff(v.seq, pos + 1), 0);
}

// A publisher stalled (SIGSTOP, a debugger) while 2^32 - 8 messages go by: the slot it
// claimed now holds a seq that, wrapped to 32 bits, looks a lap OLDER than its own.
// The seq alone would let the stale value overwrite a newer message; the ring's write
// position tells the truth, and the commit is dropped.
TEST(PubSubSlots, Int32PublisherStalledForHalfTheSeqRangeIsDropped) {
    using T = shmds::pubsub::Int32Traits;
    const std::uint64_t cap = 8;
    const std::uint64_t pos = 5;  // the stalled publisher's claim
    const std::uint64_t newest = pos + (std::uint64_t{1} << 32) - cap;  // same slot, later
    shmds::pubsub::NarrowSlot slot = ((newest + 1) & T::kSeqMask) | (std::uint64_t(42) << 32);
    shmds::pubsub::SlotView v;
    T::read(&slot, v);
    ASSERT_LT(T::diff(v.seq, pos + 1), 0) << "the wrapped seq reads as older: the hazard";
    std::atomic<std::uint64_t> write_pos{newest + 1};
    EXPECT_FALSE(T::commit(&slot, pos, -1, write_pos));
    T::read(&slot, v);
    EXPECT_EQ(42, v.value);
    // Int16's 48-bit seq gets the same guard at its own half range.
    using N = shmds::pubsub::Int16Traits;
    shmds::pubsub::NarrowSlot narrow = 0;
    std::atomic<std::uint64_t> far{pos + N::kStale};
    EXPECT_FALSE(N::commit(&narrow, pos, 1, far));
    far = pos + 1;
    EXPECT_TRUE(N::commit(&narrow, pos, 1, far));
}

// A peer scribbles over a committed message: no subscriber ever hands it out.
TEST(PubSubBytes, DamagedMessageIsRejectedAndSkippedNeverDelivered) {
    TempPath path("pubsub-torn");
    shmds_options_t o = path_options(path);
    auto p = make_pubsub(SHMDS_PUBSUB_BYTES, 4, 64, &o);
    auto sub = subscribe(p.get());
    publish_str(p.get(), "first message");
    publish_str(p.get(), "second message");
    shmds::pubsub::Geometry g;
    ASSERT_EQ(0, shmds::pubsub::compute_geometry(shmds::pubsub::Variant::bytes, 4, 64, g));
    int fd = shmds_pubsub_fd(p.get());
    void *map = mmap(nullptr, g.total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ASSERT_NE(MAP_FAILED, map);
    auto *payload = static_cast<std::uint8_t *>(map) + g.slots_off +
                    sizeof(shmds::pubsub::BytesSlotHeader);
    payload[3] ^= 0x40;  // slot 0 holds position 0
    EXPECT_EQ("second message", poll_bytes(sub.get()));
    EXPECT_EQ(1u, shmds_pubsub_sub_skipped_count(sub.get()));
    EXPECT_EQ(1u, pubsub_stats(p.get()).torn);
    munmap(map, g.total);
}

// Damaged memory marks every slot "being written" (odd seq), as if a whole lap of
// writers had died mid-copy. A batch publish takes the slots over after waiting out the
// abandon bound once for the whole call, not once per message, and every message lands.
TEST(PubSubBytes, BatchOntoSlotsAllMarkedBeingWrittenWaitsTheAbandonBoundOnce) {
    TempPath path("pubsub-odd");
    shmds_options_t o = path_options(path);
    auto p = make_pubsub(SHMDS_PUBSUB_BYTES, 4, 64, &o);
    auto sub = subscribe(p.get());
    shmds::pubsub::Geometry g;
    ASSERT_EQ(0, shmds::pubsub::compute_geometry(shmds::pubsub::Variant::bytes, 4, 64, g));
    int fd = shmds_pubsub_fd(p.get());
    void *map = mmap(nullptr, g.total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ASSERT_NE(MAP_FAILED, map);
    for (std::uint64_t i = 0; i < 4; ++i) {
        auto *h = reinterpret_cast<shmds::pubsub::BytesSlotHeader *>(
            static_cast<std::uint8_t *>(map) + g.slots_off + i * g.stride);
        h->seq.store(h->seq.load() | 1);  // odd: "a writer is copying", one lap before
    }
    const char *texts[4] = {"m0", "m1", "m2", "m3"};
    std::size_t lens[4] = {2, 2, 2, 2};
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(0, shmds_pubsub_publish_multi_bytes(p.get(), reinterpret_cast<const void *const *>(texts), lens, 4))
        << shmds_last_error();
    const double ms = ms_since(t0);
    EXPECT_GE(ms, 400.0);   // the abandon bound (500 ms) is honoured once...
    EXPECT_LE(ms, 1200.0);  // ...and not four times (2 s)
    EXPECT_EQ(4u, pubsub_stats(p.get()).takeovers);
    for (const char *t : texts) EXPECT_EQ(t, poll_bytes(sub.get()));
    munmap(map, g.total);
}

TEST(PubSubCreate, AnotherStructuresOrATruncatedSegmentIsRefused) {
    TempPath path("pubsub-foreign");
    shmds_options_t o = path_options(path);
    shmds_queue_config_t qcfg = SHMDS_QUEUE_CONFIG_INIT(SHMDS_QUEUE_INT64, 8);
    shmds_queue_t *q = nullptr;
    ASSERT_EQ(0, shmds_queue_create(&o, &qcfg, &q)) << shmds_last_error();
    shmds_pubsub_t *p = nullptr;
    EXPECT_EQ(SHMDS_ETYPE, shmds_pubsub_open(&o, SHMDS_PUBSUB_ANY, &p));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "queue"));
    shmds_queue_close(q);
    ASSERT_EQ(0, unlink(path.c_str()));
    auto made = make_pubsub(SHMDS_PUBSUB_BYTES, 8, 0, &o);
    struct stat st;
    ASSERT_EQ(0, stat(path.c_str(), &st));
    ASSERT_EQ(0, truncate(path.c_str(), st.st_size - 64));
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_pubsub_open(&o, SHMDS_PUBSUB_ANY, &p));
    EXPECT_EQ(nullptr, p);
}
