// What the reqrep suites share: an owning pointer, a creator that fails the test with
// the library's sentence, stats, and the small client/server steps tests repeat.
#pragma once

#include "support/proc.hpp"

#include <shmds/reqrep.h>

#include <cstdint>
#include <memory>
#include <string>

namespace shmds::test {

struct ReqRepCloser {
    void operator()(shmds_reqrep_t *r) const noexcept { shmds_reqrep_close(r); }
};
using ReqRepPtr = std::unique_ptr<shmds_reqrep_t, ReqRepCloser>;

inline ReqRepPtr make_reqrep(int variant, std::uint64_t requests, std::uint64_t slots,
                             std::uint64_t req_size = 0, std::uint64_t resp_size = 0,
                             const shmds_options_t *opts = nullptr) {
    shmds_reqrep_config_t cfg = SHMDS_REQREP_CONFIG_INIT(variant, requests, slots);
    cfg.req_size = req_size;
    cfg.resp_size = resp_size;
    shmds_reqrep_t *r = nullptr;
    int rc = shmds_reqrep_create(opts, &cfg, &r);
    EXPECT_EQ(0, rc) << shmds_errname(rc) << ": " << shmds_last_error();
    return ReqRepPtr(r);
}

inline shmds_reqrep_stats_t reqrep_stats(shmds_reqrep_t *r) {
    shmds_reqrep_stats_t s{};
    s.struct_size = sizeof s;
    EXPECT_EQ(0, shmds_reqrep_stats(r, &s));
    return s;
}

// Send a string; the id, or 0 with a test failure.
inline std::uint64_t send_str(shmds_reqrep_t *r, const std::string &s,
                              std::int64_t timeout_ns = SHMDS_NOWAIT) {
    std::uint64_t id = 0;
    int rc = shmds_reqrep_send_bytes(r, s.data(), s.size(), &id, timeout_ns);
    EXPECT_EQ(0, rc) << shmds_errname(rc) << ": " << shmds_last_error();
    return id;
}

// Receive one request as {payload, id}; payload "<none>" with a failure if none.
struct Received {
    std::string payload;
    std::uint64_t id = 0;
};
inline Received recv_str(shmds_reqrep_t *r, std::int64_t timeout_ns = SHMDS_NOWAIT) {
    char buf[1024];
    std::size_t len = 0;
    Received out;
    int rc = shmds_reqrep_recv_bytes(r, buf, sizeof buf, &len, &out.id, timeout_ns);
    EXPECT_EQ(0, rc) << shmds_errname(rc) << ": " << shmds_last_error();
    out.payload = rc == 0 ? std::string(buf, len) : std::string("<none>");
    return out;
}

// The reply to id as a string, or "<rc NAME>".
inline std::string get_str(shmds_reqrep_t *r, std::uint64_t id,
                           std::int64_t timeout_ns = SHMDS_NOWAIT) {
    char buf[1024];
    std::size_t len = 0;
    int rc = shmds_reqrep_get_bytes(r, id, buf, sizeof buf, &len, timeout_ns);
    return rc == 0 ? std::string(buf, len) : "<rc " + std::string(shmds_errname(rc)) + ">";
}

}  // namespace shmds::test
