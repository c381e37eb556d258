// ReqRep across processes: many clients against several servers with every reply
// checked against its request, a dead client's slots reclaimed, a dead server leaving
// its client a clean timeout, and the crash matrix (a process SIGKILLed at every lock
// hold and claim-to-commit failpoint). Runs alone: it forks and waits on timeouts.
#include "reqrep_helpers.hpp"

#include "core/failpoint.hpp"

#include <shmds/shmds.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

using namespace shmds::test;

namespace {

// What a server answers to a request: a function of the whole request, so a reply
// delivered to the wrong request cannot pass.
std::string answer_to(const std::string &req) {
    std::string a = "re:" + req;
    std::reverse(a.begin() + 3, a.end());
    return a;
}

// Serve until a request "stop" arrives (answered "bye"); returns how many were served.
int serve(shmds_reqrep_t *rr) {
    int served = 0;
    for (bool stopping = false; !stopping;) {
        char buf[256];
        std::size_t lens[8];
        std::uint64_t ids[8];
        std::size_t got = 0;
        int rc = shmds_reqrep_recv_multi_bytes(rr, buf, sizeof buf, lens, ids, 8, &got,
                                               10'000'000'000);
        if (rc != 0) {
            fprintf(stderr, "server: %s: %s\n", shmds_errname(rc), shmds_last_error());
            return -1;
        }
        std::size_t at = 0;
        for (std::size_t i = 0; i < got; ++i) {
            std::string req(buf + at, lens[i]);
            at += lens[i];
            if (req == "stop") stopping = true;
            std::string a = req == "stop" ? "bye" : answer_to(req);
            if (shmds_reqrep_reply_bytes(rr, ids[i], a.data(), a.size()) != 0) return -1;
            ++served;
        }
    }
    return served;
}

// Every slot can be taken again (a dead holder's included), then everything given back.
void expect_all_slots_usable(shmds_reqrep_t *rr) {
    const std::uint64_t slots = reqrep_stats(rr).response_slots;
    std::vector<std::uint64_t> ids;
    for (std::uint64_t i = 0; i < slots; ++i) {
        std::uint64_t id = 0;
        int rc = shmds_reqrep_send_bytes(rr, "probe", 5, &id, 2'000'000'000);
        ASSERT_EQ(0, rc) << "slot " << i << " of " << slots << ": " << shmds_last_error();
        ids.push_back(id);
    }
    char buf[64];
    std::size_t lens[64], got = 0;
    std::uint64_t rids[64];
    while (shmds_reqrep_recv_multi_bytes(rr, buf, sizeof buf, lens, rids, 64, &got, 0) == 0) {
    }
    for (std::uint64_t id : ids) ASSERT_EQ(0, shmds_reqrep_cancel(rr, id));
}

// One full exchange through the structure, bounded in time.
void expect_round_trip(shmds_reqrep_t *rr) {
    std::uint64_t id = send_str(rr, "ping", 2'000'000'000);
    Received req = recv_str(rr, 2'000'000'000);
    while (req.payload == "probe" || req.id != id) req = recv_str(rr, 2'000'000'000);
    ASSERT_EQ("ping", req.payload);
    ASSERT_EQ(0, shmds_reqrep_reply_bytes(rr, req.id, "pong", 4)) << shmds_last_error();
    EXPECT_EQ("pong", get_str(rr, id, 2'000'000'000));
}

}  // namespace

TEST(ReqRepTraffic, NClientsTimesMRequestsEveryReplyMatchesItsRequest) {
    constexpr int kClients = 4, kServers = 2, kRequests = 400;
    const std::uint64_t seed = test_seed();
    // A client holds up to 4 slots at once while it sends a burst; with fewer slots
    // than clients x 4, clients blocked sending would hold every slot (by design).
    auto rr = make_reqrep(SHMDS_REQREP_BYTES, 16, kClients * 4, 128, 160);
    std::vector<pid_t> servers, clients;
    for (int s = 0; s < kServers; ++s) servers.push_back(fork_child([&] {
        return serve(rr.get()) >= 0 ? 0 : 1;
    }));
    for (int c = 0; c < kClients; ++c) {
        clients.push_back(fork_child([&, c] {
            std::uint64_t rng = seed ^ (std::uint64_t(c + 1) * 0x9e3779b97f4a7c15ull);
            int done = 0;
            while (done < kRequests) {
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                // Some rounds are synchronous requests, others several async sends.
                const int burst = 1 + int(rng >> 62);
                if (burst == 1) {
                    std::string q = "c" + std::to_string(c) + "-" + std::to_string(done) + "-" +
                                    std::string(rng >> 59, 'q');
                    char buf[160];
                    std::size_t len = 0;
                    CHILD_CHECK(shmds_reqrep_request_bytes(rr.get(), q.data(), q.size(), buf,
                                                           sizeof buf, &len,
                                                           10'000'000'000) == 0);
                    CHILD_CHECK(std::string(buf, len) == answer_to(q));
                    ++done;
                    continue;
                }
                std::vector<std::pair<std::uint64_t, std::string>> out;
                for (int b = 0; b < burst && done + b < kRequests; ++b) {
                    std::string q = "c" + std::to_string(c) + "-" + std::to_string(done + b);
                    std::uint64_t id = 0;
                    CHILD_CHECK(shmds_reqrep_send_bytes(rr.get(), q.data(), q.size(), &id,
                                                        10'000'000'000) == 0);
                    out.emplace_back(id, q);
                }
                std::reverse(out.begin(), out.end());  // collect out of order
                for (auto &[id, q] : out) {
                    char buf[160];
                    std::size_t len = 0;
                    CHILD_CHECK(shmds_reqrep_get_bytes(rr.get(), id, buf, sizeof buf, &len,
                                                       10'000'000'000) == 0);
                    CHILD_CHECK(std::string(buf, len) == answer_to(q));
                }
                done += int(out.size());
            }
            CHILD_CHECK(shmds_reqrep_pending(rr.get()) == 0);
            return 0;
        }));
    }
    for (pid_t k : clients) {
        ChildExit e = wait_child(k, std::chrono::seconds(40));
        EXPECT_TRUE(e.exited && e.code == 0) << "client " << e.describe();
    }
    // One stop at a time, each answered before the next, so each server takes one.
    for (int s = 0; s < kServers; ++s) {
        char buf[16];
        std::size_t len = 0;
        ASSERT_EQ(0, shmds_reqrep_request_bytes(rr.get(), "stop", 4, buf, sizeof buf, &len,
                                                10'000'000'000));
        EXPECT_EQ("bye", std::string(buf, len));
    }
    for (pid_t k : servers) {
        ChildExit e = wait_child(k, std::chrono::seconds(10));
        EXPECT_TRUE(e.exited && e.code == 0) << "server " << e.describe();
    }
    auto s = reqrep_stats(rr.get());
    EXPECT_EQ(std::uint64_t(kClients * kRequests + kServers), s.replied);
    EXPECT_EQ(std::uint64_t(kClients * kRequests + kServers), s.collected);
}

TEST(ReqRepCrash, ADeadClientsSlotsAreReclaimedByTheNextSend) {
    auto rr = make_reqrep(SHMDS_REQREP_BYTES, 16, 3);
    ChildExit e = wait_child(fork_child([&] {
        for (int i = 0; i < 3; ++i) {
            std::uint64_t id;
            CHILD_CHECK(shmds_reqrep_send_bytes(rr.get(), "mine", 4, &id, 0) == 0);
        }
        raise(SIGKILL);
        return 0;
    }), std::chrono::seconds(10));
    ASSERT_EQ(SIGKILL, e.signal) << e.describe();
    EXPECT_EQ(3u, reqrep_stats(rr.get()).slots_in_use);
    std::uint64_t id = send_str(rr.get(), "after");
    EXPECT_NE(0u, id);
    EXPECT_EQ(3u, reqrep_stats(rr.get()).reclaimed);
    EXPECT_GE(reqrep_stats(rr.get()).recoveries, 3u);
    // The dead client's queued requests reach a server, whose replies are refused.
    for (int i = 0; i < 3; ++i) {
        Received req = recv_str(rr.get());
        EXPECT_EQ("mine", req.payload);
        EXPECT_NE(0, shmds_reqrep_reply_bytes(rr.get(), req.id, "lost", 4));
    }
    EXPECT_EQ("after", recv_str(rr.get()).payload);
}

TEST(ReqRepCrash, AServerThatDiesHoldingARequestLeavesTheClientACleanTimeout) {
    auto rr = make_reqrep(SHMDS_REQREP_INT64, 8, 4);
    std::uint64_t id = 0;
    ASSERT_EQ(0, shmds_reqrep_send_int(rr.get(), 7, &id, 0));
    ChildExit e = wait_child(fork_child([&] {
        std::int64_t v;
        std::uint64_t rid;
        CHILD_CHECK(shmds_reqrep_recv_int(rr.get(), &v, &rid, 5'000'000'000) == 0);
        raise(SIGKILL);
        return 0;
    }), std::chrono::seconds(10));
    ASSERT_EQ(SIGKILL, e.signal) << e.describe();
    std::int64_t out = 0;
    EXPECT_EQ(-ETIMEDOUT, shmds_reqrep_get_int(rr.get(), id, &out, 50'000'000));
    EXPECT_EQ(0, shmds_reqrep_cancel(rr.get(), id));
    EXPECT_EQ(0u, shmds_reqrep_pending(rr.get()));
}

#if SHMDS_FAILPOINTS
namespace {
enum class Role { client_send, server_recv, server_reply, client_get, reclaimer };
struct CrashCase {
    const char *failpoint;
    Role role;
};
}  // namespace

// A process dies at every lock hold and claim-to-commit point. Afterwards the lock is
// taken over at once, every slot can be acquired again, a full exchange works, and the
// client of a request the dead server held gets a clean timeout, then cancels.
TEST(ReqRepCrash, KilledAtEveryFailpointNothingWedges) {
    const CrashCase cases[] = {
        {"reqrep.acquire.owned", Role::client_send},
        {"reqrep.send.acquired", Role::client_send},
        {"reqrep.send.locked", Role::client_send},
        {"reqrep.send.copied", Role::client_send},
        {"reqrep.send.queued", Role::client_send},
        {"reqrep.recv.locked", Role::server_recv},
        {"reqrep.recv.copied", Role::server_recv},
        {"reqrep.reply.writing", Role::server_reply},
        {"reqrep.reply.copied", Role::server_reply},
        {"reqrep.release.freed", Role::client_get},
        {"reqrep.reclaim.claimed", Role::reclaimer},
    };
    for (const CrashCase &c : cases) {
        SCOPED_TRACE(c.failpoint);
        auto rr = make_reqrep(SHMDS_REQREP_BYTES, 8, 3, 64, 64);
        std::uint64_t mine = 0;  // the parent's own request, when the dying one serves
        if (c.role == Role::server_recv || c.role == Role::server_reply)
            mine = send_str(rr.get(), "for the dying server");
        if (c.role == Role::reclaimer) {
            // A dead client holding every slot, for the reclaimer to die reclaiming.
            ChildExit holder = wait_child(fork_child([&] {
                for (int i = 0; i < 3; ++i) {
                    std::uint64_t id;
                    CHILD_CHECK(shmds_reqrep_send_bytes(rr.get(), "held", 4, &id, 0) == 0);
                }
                raise(SIGKILL);
                return 0;
            }), std::chrono::seconds(10));
            ASSERT_EQ(SIGKILL, holder.signal);
        }
        ChildExit death = wait_child(fork_child([&] {
            shmds::core::failpoint_arm(c.failpoint);
            char buf[64];
            std::size_t len = 0;
            std::uint64_t id = 0;
            switch (c.role) {
                case Role::client_send:
                case Role::reclaimer:
                    shmds_reqrep_send_bytes(rr.get(), "dying", 5, &id, 1'000'000'000);
                    break;
                case Role::server_recv:
                    shmds_reqrep_recv_bytes(rr.get(), buf, sizeof buf, &len, &id, 1'000'000'000);
                    break;
                case Role::server_reply:
                    CHILD_CHECK(shmds_reqrep_recv_bytes(rr.get(), buf, sizeof buf, &len, &id,
                                                        1'000'000'000) == 0);
                    shmds_reqrep_reply_bytes(rr.get(), id, "half", 4);
                    break;
                case Role::client_get: {
                    shmds::core::failpoint_arm(nullptr);
                    CHILD_CHECK(shmds_reqrep_send_bytes(rr.get(), "q", 1, &id, 0) == 0);
                    std::uint64_t rid;
                    CHILD_CHECK(shmds_reqrep_recv_bytes(rr.get(), buf, sizeof buf, &len, &rid,
                                                        0) == 0);
                    CHILD_CHECK(shmds_reqrep_reply_bytes(rr.get(), rid, "a", 1) == 0);
                    shmds::core::failpoint_arm(c.failpoint);
                    shmds_reqrep_get_bytes(rr.get(), id, buf, sizeof buf, &len, 0);
                    break;
                }
            }
            return 3;  // not reached: the failpoint kills us
        }), std::chrono::seconds(10));
        ASSERT_EQ(SIGKILL, death.signal) << death.describe();
        if (std::string(c.failpoint) == "reqrep.send.queued") {
            // Queued before the sender died: counted as sent, and served like any other.
            EXPECT_EQ(1u, reqrep_stats(rr.get()).sent);
            EXPECT_EQ(1u, reqrep_stats(rr.get()).queued);
        }

        if (mine) {
            // Killed in the recv lock hold, the request is still queued (nothing was
            // committed): serve it here. Killed after taking it: a clean timeout.
            if (c.role == Role::server_recv) {
                Received req = recv_str(rr.get(), 1'000'000'000);
                EXPECT_EQ(mine, req.id);
                ASSERT_EQ(0, shmds_reqrep_reply_bytes(rr.get(), req.id, "served", 6));
                EXPECT_EQ("served", get_str(rr.get(), mine, 1'000'000'000));
            } else {
                EXPECT_EQ("<rc ETIMEDOUT>", get_str(rr.get(), mine, 50'000'000));
                EXPECT_EQ(0, shmds_reqrep_cancel(rr.get(), mine));
            }
        }
        // Drop whatever the dead left queued, then the structure must be whole.
        {
            char buf[256];
            std::size_t lens[8], got = 0;
            std::uint64_t ids[8];
            while (shmds_reqrep_recv_multi_bytes(rr.get(), buf, sizeof buf, lens, ids, 8, &got,
                                                 0) == 0) {
            }
        }
        expect_all_slots_usable(rr.get());
        expect_round_trip(rr.get());
        EXPECT_EQ(0u, reqrep_stats(rr.get()).slots_in_use);
    }
}
#endif
