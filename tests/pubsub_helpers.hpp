// What the pubsub suites share: owning pointers for handles and subscribers, and a
// creator that fails the test with the library's sentence.
#pragma once

#include "support/proc.hpp"

#include <shmds/pubsub.h>

#include <cstdint>
#include <memory>

namespace shmds::test {

struct PubSubCloser {
    void operator()(shmds_pubsub_t *p) const noexcept { shmds_pubsub_close(p); }
};
struct SubCloser {
    void operator()(shmds_pubsub_sub_t *s) const noexcept { shmds_pubsub_sub_close(s); }
};
using PubSubPtr = std::unique_ptr<shmds_pubsub_t, PubSubCloser>;
using SubPtr = std::unique_ptr<shmds_pubsub_sub_t, SubCloser>;

inline PubSubPtr make_pubsub(int variant, std::uint64_t capacity, std::uint64_t msg_size = 0,
                             const shmds_options_t *opts = nullptr) {
    shmds_pubsub_config_t cfg = SHMDS_PUBSUB_CONFIG_INIT(variant, capacity);
    cfg.msg_size = msg_size;
    shmds_pubsub_t *p = nullptr;
    int rc = shmds_pubsub_create(opts, &cfg, &p);
    EXPECT_EQ(0, rc) << shmds_errname(rc) << ": " << shmds_last_error();
    return PubSubPtr(p);
}

inline SubPtr subscribe(shmds_pubsub_t *p, bool all = false) {
    shmds_pubsub_sub_t *s = nullptr;
    int rc = all ? shmds_pubsub_subscribe_all(p, &s) : shmds_pubsub_subscribe(p, &s);
    EXPECT_EQ(0, rc) << shmds_last_error();
    return SubPtr(s);
}

inline shmds_pubsub_stats_t pubsub_stats(shmds_pubsub_t *p) {
    shmds_pubsub_stats_t s{};
    s.struct_size = sizeof s;
    EXPECT_EQ(0, shmds_pubsub_stats(p, &s));
    return s;
}

}  // namespace shmds::test
