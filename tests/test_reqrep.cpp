// ReqRep through its public C API in one process: every verb of both variants and every
// return code reqrep.h documents: slots and queue exhausted and recovering, cancel then
// reply, stale ids, buffers too small, timeouts, batches and eventfds. Cross-process
// traffic, dead clients and servers, and the crash matrix live in test_reqrep_procs.cpp.
#include "reqrep_helpers.hpp"
#include "support/damaged_lock.hpp"

#include "reqrep/layout.hpp"  // the hostile-peer test needs to know where things live

#include <shmds/shmds.h>

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <string>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace shmds::test;

TEST(ReqRepCreate, GeometryDefaultsAndRefusals) {
    auto b = make_reqrep(SHMDS_REQREP_BYTES, 10, 3);
    auto s = reqrep_stats(b.get());
    EXPECT_EQ(16u, s.request_capacity);
    EXPECT_EQ(3u, s.response_slots);
    EXPECT_EQ(256u, s.req_size);
    EXPECT_EQ(256u, s.resp_size);
    EXPECT_EQ(SHMDS_REQREP_BYTES, shmds_reqrep_variant(b.get()));
    shmds_reqrep_t *r = nullptr;
    shmds_reqrep_config_t cfg = SHMDS_REQREP_CONFIG_INIT(SHMDS_REQREP_INT64, 8, 0);
    EXPECT_EQ(-EINVAL, shmds_reqrep_create(nullptr, &cfg, &r));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "slots"));
    cfg = SHMDS_REQREP_CONFIG_INIT(SHMDS_REQREP_INT64, 8, 4);
    cfg.resp_size = 64;
    EXPECT_EQ(-EINVAL, shmds_reqrep_create(nullptr, &cfg, &r));
    cfg = SHMDS_REQREP_CONFIG_INIT(9, 8, 4);
    EXPECT_EQ(-EINVAL, shmds_reqrep_create(nullptr, &cfg, &r));
    EXPECT_EQ(nullptr, r);
}

TEST(ReqRepCreate, OpenChecksTheVariantAndReadsTheGeometry) {
    TempPath path("reqrep");
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = path.c_str();
    auto made = make_reqrep(SHMDS_REQREP_BYTES, 4, 2, 32, 48, &o);
    shmds_reqrep_t *r = nullptr;
    EXPECT_EQ(SHMDS_ETYPE, shmds_reqrep_open(&o, SHMDS_REQREP_INT64, &r));
    ASSERT_EQ(0, shmds_reqrep_open(&o, SHMDS_REQREP_ANY, &r)) << shmds_last_error();
    ReqRepPtr opened(r);
    auto s = reqrep_stats(opened.get());
    EXPECT_EQ(32u, s.req_size);
    EXPECT_EQ(48u, s.resp_size);
    // A client on one mapping, the server on the other.
    std::uint64_t id = send_str(made.get(), "hello");
    Received req = recv_str(opened.get());
    EXPECT_EQ("hello", req.payload);
    EXPECT_EQ(id, req.id);
    EXPECT_EQ(0, shmds_reqrep_reply_bytes(opened.get(), req.id, "world", 5));
    EXPECT_EQ("world", get_str(made.get(), id));
    EXPECT_GE(shmds_reqrep_fd(opened.get()), 0);
    EXPECT_EQ(0, shmds_reqrep_sync(opened.get()));
}

TEST(ReqRepBytes, RoundTripPendingAndStats) {
    auto rr = make_reqrep(SHMDS_REQREP_BYTES, 8, 4);
    std::uint64_t a = send_str(rr.get(), "a");
    std::uint64_t b = send_str(rr.get(), "");
    EXPECT_NE(a, b);
    EXPECT_EQ(2u, shmds_reqrep_pending(rr.get()));
    EXPECT_EQ("<rc EAGAIN>", get_str(rr.get(), a));
    Received ra = recv_str(rr.get()), rb = recv_str(rr.get());
    EXPECT_EQ("a", ra.payload);
    EXPECT_EQ("", rb.payload);
    // Replies may come in any order; each reaches its own request.
    EXPECT_EQ(0, shmds_reqrep_reply_bytes(rr.get(), rb.id, "for b", 5));
    EXPECT_EQ(0, shmds_reqrep_reply_bytes(rr.get(), ra.id, "for a", 5));
    EXPECT_EQ("for a", get_str(rr.get(), a));
    EXPECT_EQ("for b", get_str(rr.get(), b));
    EXPECT_EQ(0u, shmds_reqrep_pending(rr.get()));
    auto s = reqrep_stats(rr.get());
    EXPECT_EQ(2u, s.sent);
    EXPECT_EQ(2u, s.received);
    EXPECT_EQ(2u, s.replied);
    EXPECT_EQ(2u, s.collected);
    EXPECT_EQ(0u, s.slots_in_use);
    EXPECT_EQ(0u, s.queued);
}

TEST(ReqRepInt, RoundTripAndRequestAgainstAServerThread) {
    auto rr = make_reqrep(SHMDS_REQREP_INT64, 8, 4);
    std::thread server([&] {
        for (int i = 0; i < 3; ++i) {
            std::int64_t v = 0;
            std::uint64_t id = 0;
            ASSERT_EQ(0, shmds_reqrep_recv_int(rr.get(), &v, &id, 5'000'000'000));
            ASSERT_EQ(0, shmds_reqrep_reply_int(rr.get(), id, v * v));
        }
    });
    std::int64_t out = 0;
    EXPECT_EQ(0, shmds_reqrep_request_int(rr.get(), -12, &out, 5'000'000'000));
    EXPECT_EQ(144, out);
    std::uint64_t id = 0;
    ASSERT_EQ(0, shmds_reqrep_send_int(rr.get(), -3037000499, &id, SHMDS_NOWAIT));  // squares to near INT64_MAX
    EXPECT_EQ(0, shmds_reqrep_get_int(rr.get(), id, &out, 5'000'000'000));
    EXPECT_EQ(INT64_C(9223372030926249001), out);
    EXPECT_EQ(0, shmds_reqrep_request_int(rr.get(), 3, &out, SHMDS_FOREVER));
    EXPECT_EQ(9, out);
    server.join();
}

TEST(ReqRepSlots, ExhaustedSlotsRefuseTheNextSendUntilAGetOrACancel) {
    auto rr = make_reqrep(SHMDS_REQREP_BYTES, 16, 2);
    std::uint64_t a = send_str(rr.get(), "1");
    std::uint64_t b = send_str(rr.get(), "2");
    std::uint64_t id = 0;
    EXPECT_EQ(-EAGAIN, shmds_reqrep_send_bytes(rr.get(), "3", 1, &id, SHMDS_NOWAIT));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "slot"));
    EXPECT_EQ(-ETIMEDOUT, shmds_reqrep_send_bytes(rr.get(), "3", 1, &id, 20'000'000));
    EXPECT_EQ(2u, reqrep_stats(rr.get()).send_full);
    EXPECT_EQ(2u, reqrep_stats(rr.get()).queued);  // the refused sends queued nothing
    Received r1 = recv_str(rr.get());
    ASSERT_EQ(0, shmds_reqrep_reply_bytes(rr.get(), r1.id, "x", 1));
    EXPECT_EQ("x", get_str(rr.get(), a));
    std::uint64_t c = send_str(rr.get(), "3");  // works after the get
    EXPECT_EQ(-EAGAIN, shmds_reqrep_send_bytes(rr.get(), "4", 1, &id, SHMDS_NOWAIT));
    EXPECT_EQ(0, shmds_reqrep_cancel(rr.get(), b));
    std::uint64_t d = send_str(rr.get(), "4");  // works after the cancel
    EXPECT_NE(0u, c);
    EXPECT_NE(0u, d);
}

TEST(ReqRepSlots, AFullRequestQueueRefusesSendsAndGivesTheSlotBack) {
    auto rr = make_reqrep(SHMDS_REQREP_BYTES, 2, 8);
    send_str(rr.get(), "1");
    send_str(rr.get(), "2");
    std::uint64_t id = 0;
    EXPECT_EQ(-EAGAIN, shmds_reqrep_send_bytes(rr.get(), "3", 1, &id, SHMDS_NOWAIT));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "full"));
    EXPECT_EQ(-ETIMEDOUT, shmds_reqrep_send_bytes(rr.get(), "3", 1, &id, 10'000'000));
    EXPECT_EQ(2u, reqrep_stats(rr.get()).slots_in_use);
    recv_str(rr.get());
    send_str(rr.get(), "3");
}

TEST(ReqRepIds, ASecondReplyIsRefusedAndCounted) {
    auto rr = make_reqrep(SHMDS_REQREP_BYTES, 8, 4);
    send_str(rr.get(), "q");
    Received req = recv_str(rr.get());
    EXPECT_EQ(0, shmds_reqrep_reply_bytes(rr.get(), req.id, "first", 5));
    EXPECT_EQ(-EEXIST, shmds_reqrep_reply_bytes(rr.get(), req.id, "again", 5));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "already answered"));
    EXPECT_EQ(1u, reqrep_stats(rr.get()).reply_refused);
}

TEST(ReqRepIds, CancelThenReplyFailsAndTheClientNeverSeesIt) {
    auto rr = make_reqrep(SHMDS_REQREP_BYTES, 8, 4);
    std::uint64_t id = send_str(rr.get(), "q");
    Received req = recv_str(rr.get());
    EXPECT_EQ(0, shmds_reqrep_cancel(rr.get(), id));
    EXPECT_EQ(0u, shmds_reqrep_pending(rr.get()));
    EXPECT_EQ(-ECANCELED, shmds_reqrep_reply_bytes(rr.get(), req.id, "late", 4));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "cancelled"));
    EXPECT_EQ("<rc ENOENT>", get_str(rr.get(), id));
    EXPECT_EQ(-ENOENT, shmds_reqrep_cancel(rr.get(), id));
    EXPECT_EQ(1u, reqrep_stats(rr.get()).reply_refused);
}

TEST(ReqRepIds, AStaleIdIsRefusedAndNeverReadsTheNewRequestsReply) {
    auto rr = make_reqrep(SHMDS_REQREP_BYTES, 8, 1);  // one slot: every request reuses it
    std::uint64_t old_id = send_str(rr.get(), "first");
    Received first = recv_str(rr.get());
    ASSERT_EQ(0, shmds_reqrep_cancel(rr.get(), old_id));
    std::uint64_t new_id = send_str(rr.get(), "second");
    EXPECT_EQ(old_id & 0xffffffffu, new_id & 0xffffffffu);  // same slot, new generation
    EXPECT_NE(old_id, new_id);
    // The server answers the stale request: refused, the new request is untouched.
    EXPECT_EQ(-ENOENT, shmds_reqrep_reply_bytes(rr.get(), first.id, "wrong", 5));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "stale"));
    EXPECT_EQ("<rc ENOENT>", get_str(rr.get(), old_id));
    EXPECT_EQ(-ENOENT, shmds_reqrep_cancel(rr.get(), old_id));
    Received second = recv_str(rr.get());
    ASSERT_EQ(0, shmds_reqrep_reply_bytes(rr.get(), second.id, "right", 5));
    EXPECT_EQ("<rc ENOENT>", get_str(rr.get(), old_id));
    EXPECT_EQ(-EEXIST, shmds_reqrep_reply_bytes(rr.get(), second.id, "again", 5));
    EXPECT_EQ("right", get_str(rr.get(), new_id));
    EXPECT_EQ(-ENOENT, shmds_reqrep_reply_bytes(rr.get(), std::uint64_t(7), "x", 1));  // no slot 7
}

TEST(ReqRepTimeouts, GetAndRequestTimeOutCleanlyAndRequestCancels) {
    auto rr = make_reqrep(SHMDS_REQREP_BYTES, 8, 2);
    std::uint64_t id = send_str(rr.get(), "nobody answers");
    EXPECT_EQ("<rc ETIMEDOUT>", get_str(rr.get(), id, 20'000'000));
    EXPECT_EQ(1u, shmds_reqrep_pending(rr.get()));
    char buf[16];
    std::size_t len = 0;
    EXPECT_EQ(-ETIMEDOUT,
              shmds_reqrep_request_bytes(rr.get(), "q", 1, buf, sizeof buf, &len, 20'000'000));
    EXPECT_EQ(1u, shmds_reqrep_pending(rr.get()));  // the request's slot was given back
    EXPECT_EQ(1u, reqrep_stats(rr.get()).slots_in_use);
    std::uint64_t unused = 0;
    EXPECT_EQ(-ETIMEDOUT, shmds_reqrep_recv_bytes(make_reqrep(SHMDS_REQREP_BYTES, 2, 1).get(),
                                                  buf, sizeof buf, &len, &unused, 10'000'000));
}

TEST(ReqRepBuffers, TooSmallBuffersAndTooLargeMessages) {
    auto rr = make_reqrep(SHMDS_REQREP_BYTES, 8, 4, 16, 16);
    std::uint64_t id = 0;
    std::string big(17, 'x');
    EXPECT_EQ(-E2BIG, shmds_reqrep_send_bytes(rr.get(), big.data(), big.size(), &id, 0));
    id = send_str(rr.get(), "0123456789");
    char small[4];
    std::size_t len = 0;
    std::uint64_t rid = 0;
    EXPECT_EQ(-ENOBUFS, shmds_reqrep_recv_bytes(rr.get(), small, sizeof small, &len, &rid, 0));
    EXPECT_EQ(10u, len);
    Received req = recv_str(rr.get());  // still there
    EXPECT_EQ(-E2BIG, shmds_reqrep_reply_bytes(rr.get(), req.id, big.data(), big.size()));
    ASSERT_EQ(0, shmds_reqrep_reply_bytes(rr.get(), req.id, "abcdefgh", 8));
    EXPECT_EQ(-ENOBUFS, shmds_reqrep_get_bytes(rr.get(), id, small, sizeof small, &len, 0));
    EXPECT_EQ(8u, len);
    EXPECT_EQ("abcdefgh", get_str(rr.get(), id));  // the reply stayed
}

TEST(ReqRepBatch, RecvMultiTakesSeveralUnderOneCall) {
    auto rr = make_reqrep(SHMDS_REQREP_BYTES, 8, 8);
    std::uint64_t ids[4];
    const char *words[] = {"aa", "b", "cccc", "dd"};
    for (int i = 0; i < 4; ++i) ids[i] = send_str(rr.get(), words[i]);
    char buf[7];
    std::size_t lens[4], got = 0;
    std::uint64_t rids[4];
    ASSERT_EQ(0, shmds_reqrep_recv_multi_bytes(rr.get(), buf, sizeof buf, lens, rids, 4, &got, 0));
    ASSERT_EQ(3u, got);  // "dd" would overflow buf
    EXPECT_EQ("aabcccc", std::string(buf, 7));
    EXPECT_EQ(ids[2], rids[2]);
    ASSERT_EQ(0, shmds_reqrep_recv_multi_bytes(rr.get(), buf, sizeof buf, lens, rids, 4, &got, 0));
    EXPECT_EQ(1u, got);

    auto ri = make_reqrep(SHMDS_REQREP_INT64, 8, 8);
    for (std::int64_t v = 1; v <= 3; ++v) {
        std::uint64_t id;
        ASSERT_EQ(0, shmds_reqrep_send_int(ri.get(), v, &id, 0));
    }
    std::int64_t vals[8];
    ASSERT_EQ(0, shmds_reqrep_recv_multi_int(ri.get(), vals, rids, 8, &got, 0));
    ASSERT_EQ(3u, got);
    EXPECT_EQ(3, vals[2]);
    EXPECT_EQ(-EAGAIN, shmds_reqrep_recv_multi_int(ri.get(), vals, rids, 8, &got, 0));
}

TEST(ReqRepVariants, WrongVerbsBadChannelsAndNullArguments) {
    auto ri = make_reqrep(SHMDS_REQREP_INT64, 4, 2);
    auto rb = make_reqrep(SHMDS_REQREP_BYTES, 4, 2);
    std::uint64_t id;
    std::int64_t v;
    EXPECT_EQ(SHMDS_EVARIANT, shmds_reqrep_send_bytes(ri.get(), "x", 1, &id, 0));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_reqrep_send_int(rb.get(), 1, &id, 0));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_reqrep_recv_int(rb.get(), &v, &id, 0));
    EXPECT_EQ(-EINVAL, shmds_reqrep_send_int(ri.get(), 1, nullptr, 0));
    EXPECT_EQ(-EINVAL, shmds_reqrep_send_int(nullptr, 1, &id, 0));
    EXPECT_EQ(-EINVAL, shmds_reqrep_send_int(ri.get(), 1, &id, -2));
    EXPECT_EQ(-EINVAL, shmds_reqrep_eventfd(ri.get(), 2));
    EXPECT_EQ(0u, shmds_reqrep_pending(nullptr));
}

TEST(ReqRepEvents, TwoChannelsSignalledOnlyByNotify) {
    auto rr = make_reqrep(SHMDS_REQREP_INT64, 4, 2);
    int req_fd = shmds_reqrep_eventfd(rr.get(), SHMDS_REQREP_REQUESTS);
    int rep_fd = shmds_reqrep_eventfd(rr.get(), SHMDS_REQREP_REPLIES);
    ASSERT_GE(req_fd, 0);
    ASSERT_GE(rep_fd, 0);
    EXPECT_NE(req_fd, rep_fd);
    std::uint64_t id;
    ASSERT_EQ(0, shmds_reqrep_send_int(rr.get(), 5, &id, 0));
    pollfd pfd[2] = {{req_fd, POLLIN, 0}, {rep_fd, POLLIN, 0}};
    EXPECT_EQ(0, ::poll(pfd, 2, 0));
    ASSERT_EQ(0, shmds_reqrep_notify(rr.get(), SHMDS_REQREP_REQUESTS));
    EXPECT_EQ(1, ::poll(pfd, 2, 0));
    EXPECT_TRUE(pfd[0].revents & POLLIN);
    std::uint64_t n = 0;
    EXPECT_EQ(0, shmds_reqrep_eventfd_consume(rr.get(), SHMDS_REQREP_REQUESTS, &n));
    EXPECT_EQ(1u, n);
    EXPECT_EQ(-EAGAIN, shmds_reqrep_eventfd_consume(rr.get(), SHMDS_REQREP_REPLIES, &n));
    EXPECT_EQ(0, shmds_reqrep_set_eventfd(rr.get(), SHMDS_REQREP_REPLIES, -1));
    EXPECT_EQ(-ENOENT, shmds_reqrep_notify(rr.get(), SHMDS_REQREP_REPLIES));
}

// Shared memory is untrusted: a peer that scribbles lengths and indices makes calls
// fail with SHMDS_ECORRUPT, never read or write outside the mapping.
TEST(ReqRepHostile, DamagedLengthsAndIndicesAreRefused) {
    TempPath path("reqrep-hostile");
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = path.c_str();
    auto rr = make_reqrep(SHMDS_REQREP_BYTES, 4, 2, 32, 32, &o);
    shmds::reqrep::Geometry g;
    ASSERT_EQ(0, shmds::reqrep::compute_geometry(shmds::reqrep::Variant::bytes, 4, 2, 32, 32, g));
    void *map = mmap(nullptr, g.total, PROT_READ | PROT_WRITE, MAP_SHARED,
                     shmds_reqrep_fd(rr.get()), 0);
    ASSERT_NE(MAP_FAILED, map);
    auto *base = static_cast<std::uint8_t *>(map);
    std::uint64_t id = send_str(rr.get(), "hello");
    // The queued request claims a length beyond req_size.
    auto *req = reinterpret_cast<shmds::reqrep::RequestHeader *>(base + g.ring_off);
    req->len = 4096;
    char buf[64];
    std::size_t len = 0;
    std::uint64_t rid = 0;
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_reqrep_recv_bytes(rr.get(), buf, sizeof buf, &len, &rid, 0));
    req->len = 5;
    Received r = recv_str(rr.get());
    ASSERT_EQ(0, shmds_reqrep_reply_bytes(rr.get(), r.id, "ok", 2));
    // The reply claims a length beyond resp_size.
    auto *slot = reinterpret_cast<shmds::reqrep::ResponseSlot *>(
        base + g.slots_off + (id & 0xffffffffu) * g.resp_stride);
    slot->len.store(1u << 30);
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_reqrep_get_bytes(rr.get(), id, buf, sizeof buf, &len, 0));
    slot->len.store(2);
    EXPECT_EQ("ok", get_str(rr.get(), id));
    // Ring indices that claim more entries than the ring holds.
    auto *ctl = reinterpret_cast<shmds::reqrep::ReqControl *>(base + g.control_off);
    ctl->tail.store(ctl->head.load() + 1000);
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_reqrep_recv_bytes(rr.get(), buf, sizeof buf, &len, &rid, 0));
    // A sender is told so too, instead of "queue full" (with a timeout, a wait for room
    // that never comes).
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_reqrep_send_bytes(rr.get(), "x", 1, &rid, 0));
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_reqrep_send_bytes(rr.get(), "x", 1, &rid, 1'000'000'000));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "capacity"));
    munmap(map, g.total);
    // Another structure's segment, and a truncated one.
    shmds_reqrep_t *other = nullptr;
    ASSERT_EQ(0, truncate(path.c_str(), off_t(g.total - 64)));
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_reqrep_open(&o, SHMDS_REQREP_ANY, &other));
    EXPECT_EQ(nullptr, other);
}

// The request lock's word scribbled by a peer. Naming no live thread, it is a dead
// holder's: send and recv take it over, the repair drops damaged ring indices, the call
// succeeds and stats.recoveries counts it. Naming a live thread that does not hold it,
// send and recv time out cleanly and give back what they took.
TEST(ReqRepHostile, ScribbledLockWordIsTakenOverOrWaitedFor) {
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_MEMFD;
    o.name = "reqrep-lock";
    auto rr = make_reqrep(SHMDS_REQREP_INT64, 4, 2, 0, 0, &o);
    ASSERT_TRUE(rr);
    const int fd = shmds_reqrep_fd(rr.get());
    using shmds::reqrep::ReqControl;
    const std::uint64_t ctl = sizeof(shmds::core::SegmentHeader);
    const std::uint64_t lock = ctl + offsetof(ReqControl, mutex);
    std::uint64_t id = 0, rid = 0;
    std::int64_t v = 0;

    // No such thread, and indices claiming more entries than the ring holds: without
    // the repair, send would refuse the ring as damaged.
    scribble_u64(fd, lock, kNoSuchThreadWord);
    scribble_u64(fd, ctl + offsetof(ReqControl, tail),
                 read_u64_at(fd, ctl + offsetof(ReqControl, head)) + 1000);
    EXPECT_EQ(0, shmds_reqrep_send_int(rr.get(), 41, &id, SHMDS_NOWAIT)) << shmds_last_error();
    EXPECT_EQ(1u, reqrep_stats(rr.get()).recoveries);
    scribble_u64(fd, lock, kThreadZeroWord | shmds::core::kStampLockWaiters);
    EXPECT_EQ(0, shmds_reqrep_recv_int(rr.get(), &v, &rid, SHMDS_FOREVER));
    EXPECT_EQ(41, v);
    EXPECT_EQ(id, rid);
    EXPECT_EQ(2u, reqrep_stats(rr.get()).recoveries);
    EXPECT_EQ(0u, read_u64_at(fd, lock));
    ASSERT_EQ(0, shmds_reqrep_reply_int(rr.get(), rid, 42));
    ASSERT_EQ(0, shmds_reqrep_get_int(rr.get(), id, &v, SHMDS_NOWAIT));
    EXPECT_EQ(42, v);

    // A live stranger: a try waits for the lock only briefly, then gives up.
    LiveBystander stranger;
    scribble_u64(fd, lock, stranger.stamp());
    EXPECT_EQ(-ETIMEDOUT, shmds_reqrep_send_int(rr.get(), 1, &id, SHMDS_NOWAIT));
    EXPECT_EQ(0u, reqrep_stats(rr.get()).slots_in_use);  // the slot it took went back
    EXPECT_EQ(-ETIMEDOUT, shmds_reqrep_send_int(rr.get(), 1, &id, 20'000'000));
    EXPECT_EQ(-ETIMEDOUT, shmds_reqrep_recv_int(rr.get(), &v, &rid, SHMDS_NOWAIT));
    EXPECT_EQ(-ETIMEDOUT, shmds_reqrep_recv_int(rr.get(), &v, &rid, 20'000'000));
    EXPECT_EQ(0u, reqrep_stats(rr.get()).slots_in_use);
    EXPECT_EQ(2u, reqrep_stats(rr.get()).recoveries);
    stranger.stop();
    EXPECT_EQ(0, shmds_reqrep_send_int(rr.get(), 7, &id, 1'000'000'000)) << shmds_last_error();
    EXPECT_EQ(3u, reqrep_stats(rr.get()).recoveries);
}
