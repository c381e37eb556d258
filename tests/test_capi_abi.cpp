// The C API exactly as a user links it: public headers and libshmds.so, nothing else
// (see tests/meson.build). What it holds: versioned structs across the ABI, the
// _init() functions against their macros, and one real call of every exported
// function, checked against the version script's list of exports.
#include <shmds/shmds.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace {

constexpr unsigned char kGuard = 0xAB;

// Room for a struct whose caller says it is `struct_size` bytes long, followed by guard
// bytes the library must never write.
template <typename T>
struct Guarded {
    alignas(T) unsigned char mem[sizeof(T) + 64];
    explicit Guarded(std::size_t struct_size) {
        std::memset(mem, kGuard, sizeof mem);
        get()->struct_size = struct_size;
    }
    T *get() { return reinterpret_cast<T *>(mem); }
    // The first byte at or after `from` that is not a guard byte, or sizeof mem.
    std::size_t first_written_from(std::size_t from) const {
        for (std::size_t i = from; i < sizeof mem; ++i)
            if (mem[i] != kGuard) return i;
        return sizeof mem;
    }
};

// The first version of each stats struct ends at its last field of release 0.1.
constexpr std::size_t kQueueStatsV1 =
    offsetof(shmds_queue_stats_t, segment_bytes) + sizeof(uint64_t);
constexpr std::size_t kPubsubStatsV1 =
    offsetof(shmds_pubsub_stats_t, waiting_subscribers) + sizeof(uint32_t);
constexpr std::size_t kReqrepStatsV1 =
    offsetof(shmds_reqrep_stats_t, waiting_senders) + sizeof(uint32_t);

// Call stats with a struct of `size` bytes; check nothing past it was written and the
// caller's struct_size survived. Returns the call's result.
template <typename T, typename Call>
int stats_within(std::size_t size, Call &&call) {
    Guarded<T> g(size);
    const int r = call(g.get());
    EXPECT_EQ(size, g.get()->struct_size);
    EXPECT_EQ(sizeof g.mem, g.first_written_from(size)) << "written past struct_size " << size;
    return r;
}

TEST(CapiAbiVersioned, StatsWriteNothingPastTheCallersStructSize) {
    shmds_queue_config_t qc = SHMDS_QUEUE_CONFIG_INIT(SHMDS_QUEUE_INT64, 8);
    shmds_queue_t *q = nullptr;
    ASSERT_EQ(0, shmds_queue_create(nullptr, &qc, &q));
    EXPECT_EQ(0, stats_within<shmds_queue_stats_t>(
                     kQueueStatsV1, [&](auto *s) { return shmds_queue_stats(q, s); }));
    shmds_queue_close(q);

    shmds_pubsub_config_t pc = SHMDS_PUBSUB_CONFIG_INIT(SHMDS_PUBSUB_INT64, 8);
    shmds_pubsub_t *p = nullptr;
    ASSERT_EQ(0, shmds_pubsub_create(nullptr, &pc, &p));
    // The pubsub stats end in a uint32_t: its v1 size is short of sizeof by the padding.
    EXPECT_EQ(0, stats_within<shmds_pubsub_stats_t>(
                     kPubsubStatsV1, [&](auto *s) { return shmds_pubsub_stats(p, s); }));
    shmds_pubsub_close(p);

    shmds_reqrep_config_t rc = SHMDS_REQREP_CONFIG_INIT(SHMDS_REQREP_INT64, 4, 4);
    shmds_reqrep_t *r = nullptr;
    ASSERT_EQ(0, shmds_reqrep_create(nullptr, &rc, &r));
    EXPECT_EQ(0, stats_within<shmds_reqrep_stats_t>(
                     kReqrepStatsV1, [&](auto *s) { return shmds_reqrep_stats(r, s); }));
    shmds_reqrep_close(r);
}

TEST(CapiAbiVersioned, StatsRefuseAStructSmallerThanTheFirstVersionAndWriteNothing) {
    shmds_queue_config_t qc = SHMDS_QUEUE_CONFIG_INIT(SHMDS_QUEUE_INT64, 8);
    shmds_queue_t *q = nullptr;
    ASSERT_EQ(0, shmds_queue_create(nullptr, &qc, &q));
    EXPECT_EQ(-EINVAL, stats_within<shmds_queue_stats_t>(
                           kQueueStatsV1 - 8, [&](auto *s) { return shmds_queue_stats(q, s); }));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "struct_size"));
    EXPECT_EQ(-EINVAL, stats_within<shmds_queue_stats_t>(
                           sizeof(size_t), [&](auto *s) { return shmds_queue_stats(q, s); }));
    shmds_queue_close(q);
}

// A caller built against a later header, with fields this library does not know, gets
// those fields zeroed: never left as whatever its stack held.
TEST(CapiAbiVersioned, StatsZeroTheFieldsOfALongerStruct) {
    shmds_pubsub_config_t pc = SHMDS_PUBSUB_CONFIG_INIT(SHMDS_PUBSUB_INT64, 8);
    shmds_pubsub_t *p = nullptr;
    ASSERT_EQ(0, shmds_pubsub_create(nullptr, &pc, &p));
    Guarded<shmds_pubsub_stats_t> g(sizeof(shmds_pubsub_stats_t) + 16);
    ASSERT_EQ(0, shmds_pubsub_stats(p, g.get()));
    EXPECT_EQ(8u, g.get()->capacity);
    for (std::size_t i = sizeof(shmds_pubsub_stats_t); i < sizeof(shmds_pubsub_stats_t) + 16; ++i)
        EXPECT_EQ(0, g.mem[i]) << "byte " << i;
    EXPECT_EQ(sizeof g.mem, g.first_written_from(sizeof(shmds_pubsub_stats_t) + 16));
    shmds_pubsub_close(p);
}

// Input structs: only struct_size bytes are read, so an options struct whose caller
// says it is the first version's size is read as such.
TEST(CapiAbiVersioned, ConfigAndOptionsAreReadOnlyUpToStructSize) {
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.struct_size = offsetof(shmds_options_t, mode) + sizeof(uint32_t);
    shmds_queue_config_t qc = SHMDS_QUEUE_CONFIG_INIT(SHMDS_QUEUE_INT64, 8);
    shmds_queue_t *q = nullptr;
    ASSERT_EQ(0, shmds_queue_create(&o, &qc, &q)) << shmds_last_error();
    shmds_queue_close(q);
    o.struct_size = sizeof(size_t);
    EXPECT_EQ(-EINVAL, shmds_queue_create(&o, &qc, &q));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "opts->struct_size is 8"));
    qc.struct_size = offsetof(shmds_queue_config_t, arena_bytes);
    EXPECT_EQ(-EINVAL, shmds_queue_create(nullptr, &qc, &q));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "cfg->struct_size"));
}

// ---- the _init() functions: the same struct as the macro beside each ------------------

TEST(CapiAbiInit, OptionsInitMatchesTheMacro) {
    const shmds_options_t want = SHMDS_OPTIONS_INIT;
    Guarded<shmds_options_t> g(0);
    ASSERT_EQ(0, shmds_options_init(g.get(), sizeof(shmds_options_t)));
    const shmds_options_t &got = *g.get();
    EXPECT_EQ(want.struct_size, got.struct_size);
    EXPECT_EQ(want.backing, got.backing);
    EXPECT_EQ(want.name, got.name);
    EXPECT_EQ(want.fd, got.fd);
    EXPECT_EQ(want.flags, got.flags);
    EXPECT_EQ(want.mode, got.mode);
    EXPECT_EQ(sizeof g.mem, g.first_written_from(sizeof(shmds_options_t)));
}

TEST(CapiAbiInit, QueueConfigInitMatchesTheMacro) {
    const shmds_queue_config_t want = SHMDS_QUEUE_CONFIG_INIT(SHMDS_QUEUE_BYTES, 64);
    Guarded<shmds_queue_config_t> g(0);
    ASSERT_EQ(0, shmds_queue_config_init(g.get(), sizeof want, SHMDS_QUEUE_BYTES, 64));
    const shmds_queue_config_t &got = *g.get();
    EXPECT_EQ(want.struct_size, got.struct_size);
    EXPECT_EQ(want.variant, got.variant);
    EXPECT_EQ(want.capacity, got.capacity);
    EXPECT_EQ(want.arena_bytes, got.arena_bytes);
    EXPECT_EQ(sizeof g.mem, g.first_written_from(sizeof want));
}

TEST(CapiAbiInit, PubsubConfigInitMatchesTheMacro) {
    const shmds_pubsub_config_t want = SHMDS_PUBSUB_CONFIG_INIT(SHMDS_PUBSUB_INT32, 16);
    Guarded<shmds_pubsub_config_t> g(0);
    ASSERT_EQ(0, shmds_pubsub_config_init(g.get(), sizeof want, SHMDS_PUBSUB_INT32, 16));
    const shmds_pubsub_config_t &got = *g.get();
    EXPECT_EQ(want.struct_size, got.struct_size);
    EXPECT_EQ(want.variant, got.variant);
    EXPECT_EQ(want.capacity, got.capacity);
    EXPECT_EQ(want.msg_size, got.msg_size);
    EXPECT_EQ(sizeof g.mem, g.first_written_from(sizeof want));
}

TEST(CapiAbiInit, ReqrepConfigInitMatchesTheMacro) {
    const shmds_reqrep_config_t want = SHMDS_REQREP_CONFIG_INIT(SHMDS_REQREP_BYTES, 8, 4);
    Guarded<shmds_reqrep_config_t> g(0);
    ASSERT_EQ(0, shmds_reqrep_config_init(g.get(), sizeof want, SHMDS_REQREP_BYTES, 8, 4));
    const shmds_reqrep_config_t &got = *g.get();
    EXPECT_EQ(want.struct_size, got.struct_size);
    EXPECT_EQ(want.variant, got.variant);
    EXPECT_EQ(want.request_capacity, got.request_capacity);
    EXPECT_EQ(want.response_slots, got.response_slots);
    EXPECT_EQ(want.req_size, got.req_size);
    EXPECT_EQ(want.resp_size, got.resp_size);
    EXPECT_EQ(sizeof g.mem, g.first_written_from(sizeof want));
}

// The struct an _init() made works where the macro's does.
TEST(CapiAbiInit, AnInitMadeConfigCreatesTheStructure) {
    shmds_options_t o;
    ASSERT_EQ(0, shmds_options_init(&o, sizeof o));
    shmds_queue_config_t c;
    ASSERT_EQ(0, shmds_queue_config_init(&c, sizeof c, SHMDS_QUEUE_INT32, 4));
    shmds_queue_t *q = nullptr;
    ASSERT_EQ(0, shmds_queue_create(&o, &c, &q)) << shmds_last_error();
    EXPECT_EQ(SHMDS_QUEUE_INT32, shmds_queue_variant(q));
    EXPECT_EQ(4u, shmds_queue_capacity(q));
    shmds_queue_close(q);
}

TEST(CapiAbiInit, InitWritesOnlyStructSizeBytesAndRefusesLessThanTheFirstVersion) {
    // The options' first version ends at `mode`, short of sizeof by the padding.
    const std::size_t v1 = offsetof(shmds_options_t, mode) + sizeof(uint32_t);
    Guarded<shmds_options_t> g(0);
    ASSERT_EQ(0, shmds_options_init(g.get(), v1));
    EXPECT_EQ(v1, g.get()->struct_size);
    EXPECT_EQ(-1, g.get()->fd);
    EXPECT_EQ(sizeof g.mem, g.first_written_from(v1));

    Guarded<shmds_queue_config_t> small(0);
    const std::size_t before = small.first_written_from(0);
    EXPECT_EQ(-EINVAL, shmds_queue_config_init(small.get(), 8, SHMDS_QUEUE_INT64, 4));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "struct_size 8"));
    EXPECT_EQ(before, small.first_written_from(0));  // nothing written
    EXPECT_EQ(-EINVAL, shmds_options_init(nullptr, sizeof(shmds_options_t)));
    EXPECT_EQ(-EINVAL, shmds_pubsub_config_init(nullptr, sizeof(shmds_pubsub_config_t), 3, 4));
    EXPECT_EQ(-EINVAL, shmds_reqrep_config_init(nullptr, sizeof(shmds_reqrep_config_t), 3, 4, 4));
}

}  // namespace
