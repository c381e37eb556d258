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
#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <dlfcn.h>
#include <sys/socket.h>
#include <unistd.h>

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

// ---- every export, called once through libshmds.so --------------------------------------
// Each structure is a memfd, so that _fd() and _open() over SHMDS_BACKING_FD can be
// called too. The calls check their documented result, not just that they returned.

shmds_options_t memfd_options(const char *name) {
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_MEMFD;
    o.name = name;
    return o;
}

shmds_options_t fd_options(int fd) {
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_FD;
    o.fd = fd;
    return o;
}

TEST(CapiAbiEveryExport, Common) {
    EXPECT_STRNE("", shmds_version());
    EXPECT_EQ(SHMDS_VERSION_NUMBER, shmds_version_number());
    EXPECT_STREQ("SHMDS_ETYPE", shmds_errname(SHMDS_ETYPE));
    EXPECT_STRNE("unknown error", shmds_strerror(SHMDS_ECORRUPT));
    EXPECT_EQ(-EINVAL, shmds_unlink(nullptr));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "shmds_unlink"));

    char path[] = "/tmp/shmds_capi_abi_XXXXXX";
    const int tmp = mkstemp(path);
    ASSERT_GE(tmp, 0);
    ::close(tmp);
    EXPECT_EQ(0, shmds_unlink(path));
    EXPECT_EQ(-ENOENT, shmds_unlink(path));

    int sv[2];
    ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
    int pipefd[2];
    ASSERT_EQ(0, pipe(pipefd));
    EXPECT_EQ(0, shmds_send_fd(sv[0], pipefd[1]));
    int got = -1;
    EXPECT_EQ(0, shmds_recv_fd(sv[1], &got));
    ASSERT_GE(got, 0);
    ASSERT_EQ(1, write(got, "x", 1));  // the received descriptor is the pipe's write end
    char c = 0;
    EXPECT_EQ(1, read(pipefd[0], &c, 1));
    EXPECT_EQ('x', c);
    for (int fd : {got, pipefd[0], pipefd[1], sv[0], sv[1]}) ::close(fd);
}

// The type vocabulary: every shmds_type_t has a name and a size, and the queue and
// pubsub variants are those types under their old names.
static_assert(SHMDS_QUEUE_INT16 == SHMDS_TYPE_INT16 && SHMDS_QUEUE_INT32 == SHMDS_TYPE_INT32 &&
              SHMDS_QUEUE_INT64 == SHMDS_TYPE_INT64 && SHMDS_QUEUE_BYTES == SHMDS_TYPE_BYTES);
static_assert(SHMDS_PUBSUB_INT16 == SHMDS_TYPE_INT16 &&
              SHMDS_PUBSUB_INT32 == SHMDS_TYPE_INT32 &&
              SHMDS_PUBSUB_INT64 == SHMDS_TYPE_INT64 && SHMDS_PUBSUB_BYTES == SHMDS_TYPE_BYTES);

TEST(CapiAbiEveryExport, TypeNamesAndSizes) {
    struct Want {
        int type;
        const char *name;
        int size;
    };
    const Want all[] = {
        {SHMDS_TYPE_INT8, "int8", 1},     {SHMDS_TYPE_INT16, "int16", 2},
        {SHMDS_TYPE_INT32, "int32", 4},   {SHMDS_TYPE_INT64, "int64", 8},
        {SHMDS_TYPE_UINT8, "uint8", 1},   {SHMDS_TYPE_UINT16, "uint16", 2},
        {SHMDS_TYPE_UINT32, "uint32", 4}, {SHMDS_TYPE_UINT64, "uint64", 8},
        {SHMDS_TYPE_F32, "f32", 4},       {SHMDS_TYPE_F64, "f64", 8},
        {SHMDS_TYPE_BYTES, "bytes", 0},
    };
    for (const Want &w : all) {
        EXPECT_STREQ(w.name, shmds_type_name(w.type));
        EXPECT_EQ(w.size, shmds_type_size(w.type)) << w.name;
    }
    for (int bad : {0, -1, SHMDS_TYPE_F64 + 1, 1000}) {
        EXPECT_STREQ("unknown", shmds_type_name(bad));
        EXPECT_EQ(-EINVAL, shmds_type_size(bad));
        EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "not a shmds_type_t"));
    }
}

TEST(CapiAbiEveryExport, Queue) {
    shmds_options_t o = memfd_options("abi-queue");
    shmds_queue_config_t cfg;
    ASSERT_EQ(0, shmds_queue_config_init(&cfg, sizeof cfg, SHMDS_QUEUE_INT64, 4));
    shmds_queue_t *q = nullptr;
    ASSERT_EQ(0, shmds_queue_create(&o, &cfg, &q)) << shmds_last_error();
    EXPECT_EQ(SHMDS_QUEUE_INT64, shmds_queue_variant(q));
    EXPECT_EQ(4u, shmds_queue_capacity(q));
    EXPECT_EQ(1, shmds_queue_is_empty(q));
    EXPECT_EQ(0, shmds_queue_sync(q));
    const int fd = shmds_queue_fd(q);
    ASSERT_GE(fd, 0);
    shmds_options_t by_fd = fd_options(fd);
    shmds_queue_t *other = nullptr;
    ASSERT_EQ(0, shmds_queue_open(&by_fd, SHMDS_QUEUE_ANY, &other)) << shmds_last_error();

    EXPECT_EQ(0, shmds_queue_push_int(q, 1, SHMDS_NOWAIT));
    const int64_t three[3] = {2, 3, 4};
    size_t pushed = 0;
    EXPECT_EQ(0, shmds_queue_push_multi_int(q, three, 3, &pushed, SHMDS_NOWAIT));
    EXPECT_EQ(3u, pushed);
    EXPECT_EQ(1, shmds_queue_is_full(other));
    EXPECT_EQ(4u, shmds_queue_size(other));
    int64_t v = 0;
    EXPECT_EQ(0, shmds_queue_peek_int(other, &v));
    EXPECT_EQ(1, v);
    EXPECT_EQ(0, shmds_queue_pop_int(other, &v, SHMDS_NOWAIT));
    EXPECT_EQ(1, v);
    int64_t two[2];
    size_t got = 0;
    EXPECT_EQ(0, shmds_queue_pop_multi_int(other, two, 2, &got, SHMDS_NOWAIT));
    EXPECT_EQ(2u, got);
    EXPECT_EQ(3, two[1]);
    EXPECT_EQ(0, shmds_queue_drain_int(other, two, 2, &got));
    EXPECT_EQ(1u, got);
    EXPECT_EQ(4, two[0]);
    EXPECT_EQ(0, shmds_queue_push_int(q, 5, SHMDS_NOWAIT));
    uint64_t removed = 0;
    EXPECT_EQ(0, shmds_queue_clear(q, &removed));
    EXPECT_EQ(1u, removed);
    shmds_queue_stats_t st;
    st.struct_size = sizeof st;
    EXPECT_EQ(0, shmds_queue_stats(q, &st));
    EXPECT_EQ(5u, st.push_ok);

    EXPECT_EQ(-ENOENT, shmds_queue_notify(q));  // no eventfd yet
    const int efd = shmds_queue_eventfd(q);
    ASSERT_GE(efd, 0);
    EXPECT_EQ(0, shmds_queue_set_eventfd(other, efd));
    EXPECT_EQ(0, shmds_queue_notify(other));
    uint64_t count = 0;
    EXPECT_EQ(0, shmds_queue_eventfd_consume(q, &count));
    EXPECT_EQ(1u, count);
    shmds_queue_close(other);
    shmds_queue_close(q);

    ASSERT_EQ(0, shmds_queue_config_init(&cfg, sizeof cfg, SHMDS_QUEUE_BYTES, 8));
    ASSERT_EQ(0, shmds_queue_create(nullptr, &cfg, &q));
    EXPECT_EQ(0, shmds_queue_push_bytes(q, "bb", 2, SHMDS_NOWAIT));
    EXPECT_EQ(0, shmds_queue_push_front_bytes(q, "a", 1, SHMDS_NOWAIT));
    const void *datas[2] = {"ccc", "dddd"};
    const size_t lens_in[2] = {3, 4};
    EXPECT_EQ(0, shmds_queue_push_multi_bytes(q, datas, lens_in, 2, &pushed, SHMDS_NOWAIT));
    EXPECT_EQ(2u, pushed);
    char buf[64];
    size_t len = 0;
    EXPECT_EQ(0, shmds_queue_peek_bytes(q, buf, sizeof buf, &len));
    EXPECT_EQ(1u, len);
    EXPECT_EQ(0, shmds_queue_pop_bytes(q, buf, sizeof buf, &len, SHMDS_NOWAIT));
    EXPECT_EQ(0, std::memcmp(buf, "a", 1));
    EXPECT_EQ(0, shmds_queue_pop_back_bytes(q, buf, sizeof buf, &len, SHMDS_NOWAIT));
    EXPECT_EQ(4u, len);
    EXPECT_EQ(0, std::memcmp(buf, "dddd", 4));
    size_t lens[2];
    EXPECT_EQ(0, shmds_queue_pop_multi_bytes(q, buf, sizeof buf, lens, 1, &got, SHMDS_NOWAIT));
    EXPECT_EQ(1u, got);
    EXPECT_EQ(2u, lens[0]);
    EXPECT_EQ(0, shmds_queue_drain_bytes(q, buf, sizeof buf, lens, 2, &got));
    EXPECT_EQ(1u, got);
    EXPECT_EQ(3u, lens[0]);
    shmds_queue_close(q);
}

TEST(CapiAbiEveryExport, Pubsub) {
    shmds_options_t o = memfd_options("abi-pubsub");
    shmds_pubsub_config_t cfg;
    ASSERT_EQ(0, shmds_pubsub_config_init(&cfg, sizeof cfg, SHMDS_PUBSUB_INT64, 8));
    shmds_pubsub_t *p = nullptr;
    ASSERT_EQ(0, shmds_pubsub_create(&o, &cfg, &p)) << shmds_last_error();
    EXPECT_EQ(SHMDS_PUBSUB_INT64, shmds_pubsub_variant(p));
    EXPECT_EQ(8u, shmds_pubsub_capacity(p));
    EXPECT_EQ(0u, shmds_pubsub_msg_size(p));
    EXPECT_EQ(0, shmds_pubsub_sync(p));
    const int fd = shmds_pubsub_fd(p);
    ASSERT_GE(fd, 0);
    shmds_options_t by_fd = fd_options(fd);
    shmds_pubsub_t *other = nullptr;
    ASSERT_EQ(0, shmds_pubsub_open(&by_fd, SHMDS_PUBSUB_INT64, &other));

    shmds_pubsub_sub_t *all = nullptr, *latest = nullptr;
    ASSERT_EQ(0, shmds_pubsub_subscribe_all(other, &all));
    EXPECT_EQ(0, shmds_pubsub_publish_int(p, 10));
    ASSERT_EQ(0, shmds_pubsub_subscribe(other, &latest));
    const int64_t vals[2] = {11, 12};
    EXPECT_EQ(0, shmds_pubsub_publish_multi_int(p, vals, 2));
    const int efd = shmds_pubsub_eventfd(p);
    ASSERT_GE(efd, 0);
    // A subscriber signals through the notifier of the handle it was made from.
    EXPECT_EQ(shmds_pubsub_eventfd(other), shmds_pubsub_sub_eventfd(all));
    EXPECT_EQ(0, shmds_pubsub_publish_notify_int(p, 13));
    EXPECT_EQ(4u, shmds_pubsub_write_pos(other));
    EXPECT_EQ(4u, shmds_pubsub_sub_write_pos(all));
    EXPECT_EQ(4u, shmds_pubsub_sub_lag(all));
    int64_t v = 0;
    EXPECT_EQ(0, shmds_pubsub_sub_poll_int(all, &v, SHMDS_NOWAIT));
    EXPECT_EQ(10, v);
    int64_t out[4];
    size_t got = 0;
    EXPECT_EQ(0, shmds_pubsub_sub_poll_multi_int(all, out, 2, &got, SHMDS_NOWAIT));
    EXPECT_EQ(2u, got);
    EXPECT_EQ(12, out[1]);
    EXPECT_EQ(3u, shmds_pubsub_sub_cursor(all));
    EXPECT_EQ(0, shmds_pubsub_sub_drain_int(latest, out, 4, &got));
    EXPECT_EQ(3u, got);
    EXPECT_EQ(0u, shmds_pubsub_sub_overflow_count(latest));
    EXPECT_EQ(0u, shmds_pubsub_sub_skipped_count(latest));
    EXPECT_EQ(0, shmds_pubsub_sub_set_cursor(latest, 1));
    EXPECT_EQ(1u, shmds_pubsub_sub_cursor(latest));
    EXPECT_EQ(0, shmds_pubsub_sub_reset(latest));
    EXPECT_EQ(4u, shmds_pubsub_sub_cursor(latest));
    EXPECT_EQ(0, shmds_pubsub_sub_reset_oldest(latest));
    EXPECT_EQ(0u, shmds_pubsub_sub_cursor(latest));
    uint64_t count = 0;
    EXPECT_EQ(0, shmds_pubsub_set_eventfd(other, efd));
    EXPECT_EQ(0, shmds_pubsub_notify(other));
    EXPECT_EQ(0, shmds_pubsub_eventfd_consume(p, &count));
    EXPECT_EQ(2u, count);  // publish_notify_int and notify
    shmds_pubsub_stats_t st;
    st.struct_size = sizeof st;
    EXPECT_EQ(0, shmds_pubsub_stats(p, &st));
    EXPECT_EQ(4u, st.write_pos);
    shmds_pubsub_sub_close(latest);
    shmds_pubsub_sub_close(all);
    shmds_pubsub_close(other);
    shmds_pubsub_close(p);

    ASSERT_EQ(0, shmds_pubsub_config_init(&cfg, sizeof cfg, SHMDS_PUBSUB_BYTES, 8));
    ASSERT_EQ(0, shmds_pubsub_create(nullptr, &cfg, &p));
    ASSERT_EQ(0, shmds_pubsub_subscribe(p, &all));
    EXPECT_EQ(0, shmds_pubsub_publish_bytes(p, "a", 1));
    const void *datas[2] = {"bb", "ccc"};
    const size_t lens_in[2] = {2, 3};
    EXPECT_EQ(0, shmds_pubsub_publish_multi_bytes(p, datas, lens_in, 2));
    ASSERT_GE(shmds_pubsub_eventfd(p), 0);
    EXPECT_EQ(0, shmds_pubsub_publish_notify_bytes(p, "dddd", 4));
    char buf[64];
    size_t len = 0, lens[2];
    EXPECT_EQ(0, shmds_pubsub_sub_poll_bytes(all, buf, sizeof buf, &len, SHMDS_NOWAIT));
    EXPECT_EQ(1u, len);
    EXPECT_EQ(0, shmds_pubsub_sub_poll_multi_bytes(all, buf, sizeof buf, lens, 2, &got,
                                                   SHMDS_NOWAIT));
    EXPECT_EQ(2u, got);
    EXPECT_EQ(3u, lens[1]);
    EXPECT_EQ(0, shmds_pubsub_sub_drain_bytes(all, buf, sizeof buf, lens, 2, &got));
    EXPECT_EQ(1u, got);
    EXPECT_EQ(4u, lens[0]);
    shmds_pubsub_sub_close(all);
    shmds_pubsub_close(p);
}

TEST(CapiAbiEveryExport, Reqrep) {
    shmds_options_t o = memfd_options("abi-reqrep");
    shmds_reqrep_config_t cfg;
    ASSERT_EQ(0, shmds_reqrep_config_init(&cfg, sizeof cfg, SHMDS_REQREP_INT64, 4, 4));
    shmds_reqrep_t *client = nullptr;
    ASSERT_EQ(0, shmds_reqrep_create(&o, &cfg, &client)) << shmds_last_error();
    EXPECT_EQ(SHMDS_REQREP_INT64, shmds_reqrep_variant(client));
    EXPECT_EQ(0, shmds_reqrep_sync(client));
    const int fd = shmds_reqrep_fd(client);
    ASSERT_GE(fd, 0);
    shmds_options_t by_fd = fd_options(fd);
    shmds_reqrep_t *server = nullptr;
    ASSERT_EQ(0, shmds_reqrep_open(&by_fd, SHMDS_REQREP_ANY, &server));

    uint64_t id = 0, got_id = 0;
    EXPECT_EQ(0, shmds_reqrep_send_int(client, 20, &id, SHMDS_NOWAIT));
    EXPECT_EQ(1u, shmds_reqrep_pending(client));  // counts what this handle sent
    EXPECT_EQ(0u, shmds_reqrep_pending(server));
    int64_t v = 0;
    EXPECT_EQ(0, shmds_reqrep_recv_int(server, &v, &got_id, SHMDS_NOWAIT));
    EXPECT_EQ(20, v);
    EXPECT_EQ(id, got_id);
    EXPECT_EQ(0, shmds_reqrep_reply_int(server, got_id, 21));
    EXPECT_EQ(0, shmds_reqrep_get_int(client, id, &v, SHMDS_NOWAIT));
    EXPECT_EQ(21, v);
    EXPECT_EQ(0, shmds_reqrep_send_int(client, 30, &id, SHMDS_NOWAIT));
    int64_t vals[2];
    uint64_t ids[2];
    size_t got = 0;
    EXPECT_EQ(0, shmds_reqrep_recv_multi_int(server, vals, ids, 2, &got, SHMDS_NOWAIT));
    EXPECT_EQ(1u, got);
    EXPECT_EQ(0, shmds_reqrep_cancel(client, id));
    EXPECT_EQ(-ETIMEDOUT, shmds_reqrep_request_int(client, 40, &v, 1000000));  // no server

    const int efd = shmds_reqrep_eventfd(server, SHMDS_REQREP_REQUESTS);
    ASSERT_GE(efd, 0);
    EXPECT_EQ(0, shmds_reqrep_set_eventfd(client, SHMDS_REQREP_REQUESTS, efd));
    EXPECT_EQ(0, shmds_reqrep_notify(client, SHMDS_REQREP_REQUESTS));
    uint64_t count = 0;
    EXPECT_EQ(0, shmds_reqrep_eventfd_consume(server, SHMDS_REQREP_REQUESTS, &count));
    EXPECT_EQ(1u, count);
    shmds_reqrep_stats_t st;
    st.struct_size = sizeof st;
    EXPECT_EQ(0, shmds_reqrep_stats(client, &st));
    EXPECT_EQ(3u, st.sent);
    shmds_reqrep_close(server);
    shmds_reqrep_close(client);

    ASSERT_EQ(0, shmds_reqrep_config_init(&cfg, sizeof cfg, SHMDS_REQREP_BYTES, 4, 4));
    shmds_reqrep_t *rr = nullptr;
    ASSERT_EQ(0, shmds_reqrep_create(nullptr, &cfg, &rr));
    char buf[64];
    size_t len = 0, lens[2];
    EXPECT_EQ(0, shmds_reqrep_send_bytes(rr, "ping", 4, &id, SHMDS_NOWAIT));
    EXPECT_EQ(0, shmds_reqrep_recv_bytes(rr, buf, sizeof buf, &len, &got_id, SHMDS_NOWAIT));
    EXPECT_EQ(4u, len);
    EXPECT_EQ(0, shmds_reqrep_reply_bytes(rr, got_id, "pong!", 5));
    EXPECT_EQ(0, shmds_reqrep_get_bytes(rr, id, buf, sizeof buf, &len, SHMDS_NOWAIT));
    EXPECT_EQ(5u, len);
    EXPECT_EQ(0, shmds_reqrep_send_bytes(rr, "x", 1, &id, SHMDS_NOWAIT));
    EXPECT_EQ(0, shmds_reqrep_recv_multi_bytes(rr, buf, sizeof buf, lens, ids, 2, &got,
                                               SHMDS_NOWAIT));
    EXPECT_EQ(1u, got);
    EXPECT_EQ(-ETIMEDOUT, shmds_reqrep_request_bytes(rr, "q", 1, buf, sizeof buf, &len, 1000000));
    shmds_reqrep_close(rr);
}

TEST(CapiAbiEveryExport, MutexAndCondvar) {
    shmds_options_t o = memfd_options("abi-mutex");
    shmds_mutex_t *m = nullptr, *m2 = nullptr;
    ASSERT_EQ(0, shmds_mutex_create(&o, &m));
    shmds_options_t by_fd = fd_options(shmds_mutex_fd(m));
    ASSERT_GE(by_fd.fd, 0);
    ASSERT_EQ(0, shmds_mutex_open(&by_fd, &m2));
    EXPECT_EQ(0, shmds_mutex_lock(m, SHMDS_FOREVER));
    EXPECT_EQ(-EINVAL, shmds_mutex_consistent(m));  // held, but nobody died
    EXPECT_EQ(0, shmds_mutex_unlock(m));
    EXPECT_EQ(0, shmds_mutex_try_lock(m2));
    EXPECT_EQ(0, shmds_mutex_unlock(m2));
    EXPECT_EQ(0u, shmds_mutex_recoveries(m));
    shmds_mutex_close(m2);
    shmds_mutex_close(m);

    o.name = "abi-condvar";
    shmds_condvar_t *cv = nullptr, *cv2 = nullptr;
    ASSERT_EQ(0, shmds_condvar_create(&o, &cv));
    by_fd.fd = shmds_condvar_fd(cv);
    ASSERT_GE(by_fd.fd, 0);
    ASSERT_EQ(0, shmds_condvar_open(&by_fd, &cv2));
    EXPECT_EQ(0, shmds_condvar_lock(cv, SHMDS_FOREVER));
    EXPECT_EQ(-EINVAL, shmds_condvar_consistent(cv));
    EXPECT_EQ(0u, shmds_condvar_waiters(cv));
    EXPECT_EQ(-ETIMEDOUT, shmds_condvar_wait(cv, 1000000));
    EXPECT_EQ(0, shmds_condvar_signal(cv2));
    EXPECT_EQ(0, shmds_condvar_broadcast(cv2));
    EXPECT_EQ(0, shmds_condvar_unlock(cv));
    EXPECT_EQ(0, shmds_condvar_try_lock(cv2));
    EXPECT_EQ(0, shmds_condvar_unlock(cv2));
    EXPECT_EQ(0u, shmds_condvar_recoveries(cv));
    shmds_condvar_close(cv2);
    shmds_condvar_close(cv);
}

TEST(CapiAbiEveryExport, SemaphoreAndBarrier) {
    shmds_options_t o = memfd_options("abi-semaphore");
    shmds_semaphore_t *s = nullptr, *s2 = nullptr;
    ASSERT_EQ(0, shmds_semaphore_create(&o, 4, 4, &s));
    shmds_options_t by_fd = fd_options(shmds_semaphore_fd(s));
    ASSERT_GE(by_fd.fd, 0);
    ASSERT_EQ(0, shmds_semaphore_open(&by_fd, &s2));
    EXPECT_EQ(4u, shmds_semaphore_max(s2));
    EXPECT_EQ(0, shmds_semaphore_acquire(s, SHMDS_FOREVER));
    EXPECT_EQ(0, shmds_semaphore_acquire_n(s, 2, SHMDS_NOWAIT));
    EXPECT_EQ(0, shmds_semaphore_try_acquire(s2));
    EXPECT_EQ(-EAGAIN, shmds_semaphore_try_acquire_n(s2, 2));
    EXPECT_EQ(0u, shmds_semaphore_value(s));
    EXPECT_EQ(4u, shmds_semaphore_held(s));  // held by this process, over both handles
    EXPECT_EQ(0, shmds_semaphore_release(s, 4));
    uint32_t taken = 0;
    EXPECT_EQ(0, shmds_semaphore_drain(s, &taken));
    EXPECT_EQ(4u, taken);
    EXPECT_EQ(0, shmds_semaphore_release(s, 4));
    const int efd = shmds_semaphore_eventfd(s);
    ASSERT_GE(efd, 0);
    EXPECT_EQ(0, shmds_semaphore_set_eventfd(s2, efd));
    EXPECT_EQ(0, shmds_semaphore_notify(s2));
    uint64_t count = 0;
    EXPECT_EQ(0, shmds_semaphore_eventfd_consume(s, &count));
    EXPECT_EQ(1u, count);
    EXPECT_EQ(0u, shmds_semaphore_recoveries(s));
    shmds_semaphore_close(s2);
    shmds_semaphore_close(s);

    o.name = "abi-barrier";
    shmds_barrier_t *b = nullptr, *b2 = nullptr;
    ASSERT_EQ(0, shmds_barrier_create(&o, 2, &b));
    by_fd.fd = shmds_barrier_fd(b);
    ASSERT_GE(by_fd.fd, 0);
    ASSERT_EQ(0, shmds_barrier_open(&by_fd, &b2));
    EXPECT_EQ(2u, shmds_barrier_parties(b2));
    EXPECT_EQ(0u, shmds_barrier_arrived(b2));
    int other_party = 0;
    std::thread party([&] { other_party = shmds_barrier_wait(b2, SHMDS_FOREVER); });
    const int me = shmds_barrier_wait(b, SHMDS_FOREVER);
    party.join();
    EXPECT_EQ(SHMDS_BARRIER_LEADER, me + other_party);  // one leader, one follower
    EXPECT_EQ(1u, shmds_barrier_generation(b2));
    EXPECT_EQ(0, shmds_barrier_is_broken(b2));
    EXPECT_EQ(0, shmds_barrier_reset(b2));
    const int bfd = shmds_barrier_eventfd(b);
    ASSERT_GE(bfd, 0);
    EXPECT_EQ(0, shmds_barrier_set_eventfd(b2, bfd));
    EXPECT_EQ(0, shmds_barrier_notify(b2));
    EXPECT_EQ(0, shmds_barrier_eventfd_consume(b, &count));
    EXPECT_EQ(1u, count);
    EXPECT_EQ(0u, shmds_barrier_recoveries(b));
    shmds_barrier_close(b2);
    shmds_barrier_close(b);
}

TEST(CapiAbiEveryExport, OnceAndRwlock) {
    shmds_options_t o = memfd_options("abi-once");
    shmds_once_t *once = nullptr, *once2 = nullptr;
    ASSERT_EQ(0, shmds_once_create(&o, &once));
    shmds_options_t by_fd = fd_options(shmds_once_fd(once));
    ASSERT_GE(by_fd.fd, 0);
    ASSERT_EQ(0, shmds_once_open(&by_fd, &once2));
    EXPECT_EQ(1, shmds_once_enter(once, SHMDS_FOREVER));
    EXPECT_EQ(0, shmds_once_done(once));
    EXPECT_EQ(1, shmds_once_is_done(once2));
    EXPECT_EQ(0, shmds_once_reset(once2));
    EXPECT_EQ(0, shmds_once_is_done(once));
    EXPECT_EQ(0u, shmds_once_recoveries(once));
    shmds_once_close(once2);
    shmds_once_close(once);

    o.name = "abi-rwlock";
    shmds_rwlock_t *rw = nullptr, *rw2 = nullptr;
    ASSERT_EQ(0, shmds_rwlock_create(&o, 0, &rw));
    by_fd.fd = shmds_rwlock_fd(rw);
    ASSERT_GE(by_fd.fd, 0);
    ASSERT_EQ(0, shmds_rwlock_open(&by_fd, &rw2));
    EXPECT_EQ(0, shmds_rwlock_wrlock(rw, SHMDS_FOREVER));
    EXPECT_EQ(1, shmds_rwlock_is_write_locked(rw2));
    EXPECT_EQ(-EINVAL, shmds_rwlock_consistent(rw));
    EXPECT_EQ(0, shmds_rwlock_downgrade(rw));
    EXPECT_EQ(1u, shmds_rwlock_readers(rw2));
    EXPECT_EQ(0, shmds_rwlock_unlock(rw));
    EXPECT_EQ(0, shmds_rwlock_rdlock(rw, SHMDS_FOREVER));
    EXPECT_EQ(0, shmds_rwlock_unlock(rw));
    EXPECT_EQ(0, shmds_rwlock_try_rdlock(rw2));
    EXPECT_EQ(0, shmds_rwlock_unlock(rw2));
    EXPECT_EQ(0, shmds_rwlock_try_wrlock(rw2));
    EXPECT_EQ(0, shmds_rwlock_unlock(rw2));
    EXPECT_EQ(0u, shmds_rwlock_recoveries(rw));
    shmds_rwlock_close(rw2);
    shmds_rwlock_close(rw);
}

TEST(CapiAbiEveryExport, Graph) {
    shmds_graph_config_t c;
    ASSERT_EQ(0, shmds_graph_config_init(&c, sizeof c, 4, 4));
    shmds_options_t o = memfd_options("abi-graph");
    shmds_graph_t *g = nullptr, *g2 = nullptr;
    ASSERT_EQ(0, shmds_graph_create(&o, &c, &g)) << shmds_last_error();
    shmds_options_t by_fd = fd_options(shmds_graph_fd(g));
    ASSERT_GE(by_fd.fd, 0);
    ASSERT_EQ(0, shmds_graph_open(&by_fd, &g2));
    EXPECT_EQ(0, shmds_graph_sync(g));
    std::uint64_t a = 0, b = 0, n = 0, ids[4];
    std::int64_t v = 0, ws[4];
    std::size_t count = 0;
    ASSERT_EQ(0, shmds_graph_add_node(g, 1, &a));
    ASSERT_EQ(0, shmds_graph_add_node(g2, 2, &b));
    EXPECT_EQ(1, shmds_graph_has_node(g2, a));
    EXPECT_EQ(0, shmds_graph_set_node_data(g2, a, 5));
    EXPECT_EQ(0, shmds_graph_node_data(g, a, &v));
    EXPECT_EQ(5, v);
    EXPECT_EQ(0, shmds_graph_add_edge(g, a, b, 7));
    EXPECT_EQ(1, shmds_graph_has_edge(g2, a, b));
    EXPECT_EQ(0, shmds_graph_set_edge_weight(g2, a, b, 8));
    EXPECT_EQ(0, shmds_graph_edge_weight(g, a, b, &v));
    EXPECT_EQ(8, v);
    EXPECT_EQ(0, shmds_graph_neighbors(g, a, ids, ws, 4, &count));
    EXPECT_EQ(1u, count);
    EXPECT_EQ(0, shmds_graph_in_neighbors(g, b, ids, ws, 4, &count));
    EXPECT_EQ(a, ids[0]);
    EXPECT_EQ(0, shmds_graph_out_degree(g, a, &n));
    EXPECT_EQ(1u, n);
    EXPECT_EQ(0, shmds_graph_in_degree(g, b, &n));
    EXPECT_EQ(1u, n);
    EXPECT_EQ(0, shmds_graph_next_node(g, SHMDS_GRAPH_BEGIN, &n));
    EXPECT_EQ(a, n);
    EXPECT_EQ(2u, shmds_graph_node_count(g2));
    EXPECT_EQ(1u, shmds_graph_edge_count(g2));
    EXPECT_EQ(4u, shmds_graph_max_nodes(g2));
    EXPECT_EQ(4u, shmds_graph_max_edges(g2));
    EXPECT_EQ(0, shmds_graph_check(g2));
    EXPECT_EQ(0, shmds_graph_remove_edge(g, a, b));
    EXPECT_EQ(0, shmds_graph_remove_node(g, a));
    EXPECT_EQ(0, shmds_graph_remove_node_full(g, b));
    EXPECT_EQ(2u, stats_within<shmds_graph_stats_t>(sizeof(shmds_graph_stats_t), [&](auto *s) {
                      EXPECT_EQ(0, shmds_graph_stats(g, s));
                      return int(s->nodes_added);
                  }));
    EXPECT_EQ(0, shmds_graph_clear(g2, &n));
    const int efd = shmds_graph_eventfd(g);
    ASSERT_GE(efd, 0);
    EXPECT_EQ(0, shmds_graph_set_eventfd(g2, efd));
    EXPECT_EQ(0, shmds_graph_notify(g2));
    std::uint64_t events = 0;
    EXPECT_EQ(0, shmds_graph_eventfd_consume(g, &events));
    EXPECT_EQ(1u, events);
    EXPECT_EQ(0u, shmds_graph_recoveries(g));
    shmds_graph_close(g2);
    shmds_graph_close(g);
}

// The version script's exports, read from the map meson passes in SHMDS_MAP.
std::set<std::string> map_exports() {
    const char *path = std::getenv("SHMDS_MAP");
    std::set<std::string> names;
    if (!path) return names;
    std::ifstream in(path);
    const std::regex entry(R"(^\s*(shmds_\w+)\s*;)");
    std::smatch m;
    for (std::string line; std::getline(in, line);)
        if (std::regex_search(line, m, entry)) names.insert(m[1]);
    return names;
}

// Every name the map exports resolves in the process (so it really is exported by
// libshmds.so, not hidden), and this file calls it: a new export without a call here
// fails, which keeps "every export exercised through the .so" true as the API grows.
TEST(CapiAbiEveryExport, HashMap) {
    shmds_hashmap_config_t c;
    ASSERT_EQ(0, shmds_hashmap_config_init(&c, sizeof c, SHMDS_TYPE_INT64, SHMDS_TYPE_INT64, 64));
    shmds_hashmap_t *ii = nullptr;
    ASSERT_EQ(0, shmds_hashmap_create(nullptr, &c, &ii)) << shmds_last_error();
    EXPECT_EQ(SHMDS_TYPE_INT64, shmds_hashmap_key_type(ii));
    EXPECT_EQ(SHMDS_TYPE_INT64, shmds_hashmap_value_type(ii));
    EXPECT_EQ(-ENOENT, shmds_hashmap_fd(ii));
    EXPECT_EQ(0, shmds_hashmap_sync(ii));
    EXPECT_EQ(0u, shmds_hashmap_recoveries(ii));
    EXPECT_EQ(0u, shmds_hashmap_size(nullptr));
    EXPECT_EQ(64u, shmds_hashmap_max_entries(ii));
    EXPECT_EQ(0, shmds_hashmap_frozen(ii));
    std::int64_t v = 0;
    EXPECT_EQ(0, shmds_hashmap_put_ii(ii, 1, 10));
    EXPECT_EQ(0, shmds_hashmap_add_ii(ii, 2, 20));
    EXPECT_EQ(0, shmds_hashmap_update_ii(ii, 2, 21));
    EXPECT_EQ(1, shmds_hashmap_swap_ii(ii, 2, 22, &v));
    EXPECT_EQ(21, v);
    EXPECT_EQ(2u, shmds_hashmap_size(ii));
    EXPECT_EQ(0, shmds_hashmap_cas_ii(ii, 2, 22, 23));
    EXPECT_EQ(1, shmds_hashmap_get_or_set_ii(ii, 2, 0, &v));
    EXPECT_EQ(0, shmds_hashmap_get_ii(ii, 1, &v));
    EXPECT_EQ(10, v);
    EXPECT_EQ(1, shmds_hashmap_exists_i(ii, 1));
    EXPECT_EQ(0, shmds_hashmap_incr_i(ii, 3, &v));
    EXPECT_EQ(0, shmds_hashmap_decr_i(ii, 3, &v));
    EXPECT_EQ(0, shmds_hashmap_incr_by_i(ii, 3, 5, &v));
    EXPECT_EQ(5, v);
    EXPECT_EQ(0, shmds_hashmap_take_ii(ii, 3, &v));
    EXPECT_EQ(0, shmds_hashmap_remove_i(ii, 2));
    EXPECT_EQ(1u, stats_within<shmds_hashmap_stats_t>(sizeof(shmds_hashmap_stats_t), [&](auto *s) {
                      EXPECT_EQ(0, shmds_hashmap_stats(ii, s));
                      return int(s->size);
                  }));
    // The eventfd verbs: a second handle shares the first one's eventfd.
    EXPECT_EQ(-ENOENT, shmds_hashmap_notify(ii));  // no eventfd yet
    const int efd = shmds_hashmap_eventfd(ii);
    ASSERT_GE(efd, 0);
    shmds_hashmap_t *other = nullptr;
    ASSERT_EQ(0, shmds_hashmap_create(nullptr, &c, &other));
    EXPECT_EQ(0, shmds_hashmap_set_eventfd(other, efd));
    EXPECT_EQ(0, shmds_hashmap_notify(other));
    uint64_t count = 0;
    EXPECT_EQ(0, shmds_hashmap_eventfd_consume(ii, &count));
    EXPECT_EQ(1u, count);
    shmds_hashmap_close(other);
    shmds_hashmap_close(ii);

    char buf[16];
    std::size_t len = 0;
    shmds_hashmap_config_t bc = SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_BYTES, SHMDS_TYPE_BYTES, 64);
    shmds_hashmap_t *bb = nullptr;
    ASSERT_EQ(0, shmds_hashmap_create(nullptr, &bc, &bb));
    EXPECT_EQ(0, shmds_hashmap_put_bb(bb, "k", 1, "v", 1));
    EXPECT_EQ(0, shmds_hashmap_add_bb(bb, "j", 1, "w", 1));
    EXPECT_EQ(0, shmds_hashmap_update_bb(bb, "j", 1, "x", 1));
    EXPECT_EQ(1, shmds_hashmap_swap_bb(bb, "j", 1, "y", 1, buf, sizeof buf, &len));
    EXPECT_EQ(0, shmds_hashmap_cas_bb(bb, "j", 1, "y", 1, "z", 1));
    EXPECT_EQ(1, shmds_hashmap_get_or_set_bb(bb, "j", 1, "q", 1, buf, sizeof buf, &len));
    EXPECT_EQ(0, shmds_hashmap_get_bb(bb, "k", 1, buf, sizeof buf, &len));
    EXPECT_EQ(1, shmds_hashmap_exists_b(bb, "k", 1));
    EXPECT_EQ(0, shmds_hashmap_take_bb(bb, "k", 1, buf, sizeof buf, &len));
    EXPECT_EQ(0, shmds_hashmap_remove_b(bb, "j", 1));
    shmds_hashmap_t *none = nullptr;
    EXPECT_EQ(-EINVAL, shmds_hashmap_open(nullptr, 0, 0, &none));  // nothing to attach to
    shmds_hashmap_close(bb);

    shmds_hashmap_config_t ic = SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_INT32, SHMDS_TYPE_BYTES, 64);
    shmds_hashmap_t *ib = nullptr;
    ASSERT_EQ(0, shmds_hashmap_create(nullptr, &ic, &ib));
    EXPECT_EQ(0, shmds_hashmap_put_ib(ib, 1, "a", 1));
    EXPECT_EQ(0, shmds_hashmap_add_ib(ib, 2, "b", 1));
    EXPECT_EQ(0, shmds_hashmap_update_ib(ib, 2, "c", 1));
    EXPECT_EQ(1, shmds_hashmap_swap_ib(ib, 2, "d", 1, buf, sizeof buf, &len));
    EXPECT_EQ(0, shmds_hashmap_cas_ib(ib, 2, "d", 1, "e", 1));
    EXPECT_EQ(1, shmds_hashmap_get_or_set_ib(ib, 2, "f", 1, buf, sizeof buf, &len));
    EXPECT_EQ(0, shmds_hashmap_get_ib(ib, 1, buf, sizeof buf, &len));
    EXPECT_EQ(0, shmds_hashmap_take_ib(ib, 1, buf, sizeof buf, &len));
    shmds_hashmap_close(ib);

    shmds_hashmap_config_t bic = SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_BYTES, SHMDS_TYPE_INT16, 64);
    shmds_hashmap_t *bi = nullptr;
    ASSERT_EQ(0, shmds_hashmap_create(nullptr, &bic, &bi));
    EXPECT_EQ(0, shmds_hashmap_put_bi(bi, "a", 1, 1));
    EXPECT_EQ(0, shmds_hashmap_add_bi(bi, "b", 1, 2));
    EXPECT_EQ(0, shmds_hashmap_update_bi(bi, "b", 1, 3));
    EXPECT_EQ(1, shmds_hashmap_swap_bi(bi, "b", 1, 4, &v));
    EXPECT_EQ(0, shmds_hashmap_cas_bi(bi, "b", 1, 4, 5));
    EXPECT_EQ(1, shmds_hashmap_get_or_set_bi(bi, "b", 1, 6, &v));
    EXPECT_EQ(0, shmds_hashmap_get_bi(bi, "a", 1, &v));
    EXPECT_EQ(0, shmds_hashmap_incr_b(bi, "c", 1, &v));
    EXPECT_EQ(0, shmds_hashmap_decr_b(bi, "c", 1, &v));
    EXPECT_EQ(0, shmds_hashmap_incr_by_b(bi, "c", 1, 7, &v));
    EXPECT_EQ(7, v);
    EXPECT_EQ(0, shmds_hashmap_take_bi(bi, "a", 1, &v));
    EXPECT_EQ(-ERANGE, shmds_hashmap_put_bi(bi, "a", 1, 1 << 20));
    shmds_hashmap_close(bi);

    double d = 0;
    shmds_hashmap_config_t fc = SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_INT64, SHMDS_TYPE_F64, 64);
    shmds_hashmap_t *f = nullptr;
    ASSERT_EQ(0, shmds_hashmap_create(nullptr, &fc, &f));
    EXPECT_EQ(0, shmds_hashmap_put_if(f, 1, 1.0));
    EXPECT_EQ(0, shmds_hashmap_add_if(f, 2, 2.0));
    EXPECT_EQ(0, shmds_hashmap_update_if(f, 2, 3.0));
    EXPECT_EQ(1, shmds_hashmap_swap_if(f, 2, 4.0, &d));
    EXPECT_EQ(0, shmds_hashmap_cas_if(f, 2, 4.0, 5.0));
    EXPECT_EQ(1, shmds_hashmap_get_or_set_if(f, 2, 6.0, &d));
    EXPECT_EQ(0, shmds_hashmap_get_if(f, 1, &d));
    EXPECT_EQ(0, shmds_hashmap_take_if(f, 1, &d));
    EXPECT_EQ(1.0, d);
    shmds_hashmap_close(f);
    shmds_hashmap_config_t bfc = SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_BYTES, SHMDS_TYPE_F64, 64);
    ASSERT_EQ(0, shmds_hashmap_create(nullptr, &bfc, &f));
    EXPECT_EQ(0, shmds_hashmap_put_bf(f, "a", 1, 1.0));
    EXPECT_EQ(0, shmds_hashmap_add_bf(f, "b", 1, 2.0));
    EXPECT_EQ(0, shmds_hashmap_update_bf(f, "b", 1, 3.0));
    EXPECT_EQ(1, shmds_hashmap_swap_bf(f, "b", 1, 4.0, &d));
    EXPECT_EQ(0, shmds_hashmap_cas_bf(f, "b", 1, 4.0, 5.0));
    EXPECT_EQ(1, shmds_hashmap_get_or_set_bf(f, "b", 1, 6.0, &d));
    EXPECT_EQ(0, shmds_hashmap_get_bf(f, "a", 1, &d));
    EXPECT_EQ(0, shmds_hashmap_take_bf(f, "a", 1, &d));
    EXPECT_EQ(1.0, d);
    shmds_hashmap_close(f);
}

std::uint64_t abi_clock(void *ctx) { return *static_cast<std::uint64_t *>(ctx); }

TEST(CapiAbiEveryExport, HashMapTtlAndEviction) {
    std::uint64_t now = 1000, ttl = 0, n = 0;
    std::int64_t k = 0, v = 0;
    double d = 0;
    char kb[16], vb[16];
    std::size_t kl = 0, vl = 0;
    shmds_hashmap_config_t c = SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_INT64, SHMDS_TYPE_INT64, 4);
    c.flags = SHMDS_HASHMAP_EVICT;
    c.default_ttl_ms = 100;
    shmds_hashmap_t *ii = nullptr;
    ASSERT_EQ(0, shmds_hashmap_create(nullptr, &c, &ii)) << shmds_last_error();
    EXPECT_EQ(0, shmds_hashmap_set_clock(ii, &abi_clock, &now));
    EXPECT_EQ(0, shmds_hashmap_set_lock_timeout(ii, 100'000'000));
    EXPECT_EQ(-EINVAL, shmds_hashmap_set_lock_timeout(ii, -2));
    EXPECT_EQ(0, shmds_hashmap_put_ttl_ii(ii, 1, 10, 50));
    EXPECT_EQ(0, shmds_hashmap_add_ttl_ii(ii, 2, 20, 0));
    EXPECT_EQ(0, shmds_hashmap_update_ttl_ii(ii, 2, 21, 70));
    EXPECT_EQ(0, shmds_hashmap_get_with_ttl_ii(ii, 2, &v, &ttl));
    EXPECT_EQ(70u, ttl);
    EXPECT_EQ(1, shmds_hashmap_ttl_remaining_i(ii, 1, &ttl));
    EXPECT_EQ(0, shmds_hashmap_touch_i(ii, 1));
    EXPECT_EQ(0, shmds_hashmap_persist_i(ii, 1));
    EXPECT_EQ(0, shmds_hashmap_set_ttl_i(ii, 2, 5));
    now += 5;
    EXPECT_EQ(0, shmds_hashmap_flush_expired(ii, &n));
    EXPECT_EQ(1u, n);
    EXPECT_EQ(1, shmds_hashmap_flush_expired_partial(ii, 1000, &n));
    EXPECT_EQ(0, shmds_hashmap_put_ii(ii, 3, 30));
    EXPECT_EQ(0, shmds_hashmap_pop_ii(ii, &k, &v));
    EXPECT_EQ(0, shmds_hashmap_shift_ii(ii, &k, &v));
    EXPECT_EQ(0, shmds_hashmap_drain(ii, 10, &n));
    EXPECT_EQ(0, shmds_hashmap_drain_batch(ii, nullptr, 0, nullptr, nullptr, 0, nullptr, 4));
    shmds_hashmap_close(ii);

    shmds_hashmap_config_t bc = SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_BYTES, SHMDS_TYPE_BYTES, 4);
    bc.flags = SHMDS_HASHMAP_EVICT;
    shmds_hashmap_t *bb = nullptr;
    ASSERT_EQ(0, shmds_hashmap_create(nullptr, &bc, &bb));
    EXPECT_EQ(0, shmds_hashmap_put_ttl_bb(bb, "a", 1, "x", 1, 10));
    EXPECT_EQ(0, shmds_hashmap_add_ttl_bb(bb, "b", 1, "y", 1, 10));
    EXPECT_EQ(0, shmds_hashmap_update_ttl_bb(bb, "b", 1, "z", 1, 10));
    EXPECT_EQ(0, shmds_hashmap_get_with_ttl_bb(bb, "b", 1, vb, sizeof vb, &vl, &ttl));
    EXPECT_EQ(1, shmds_hashmap_ttl_remaining_b(bb, "a", 1, &ttl));
    EXPECT_EQ(0, shmds_hashmap_touch_b(bb, "a", 1));
    EXPECT_EQ(0, shmds_hashmap_persist_b(bb, "a", 1));
    EXPECT_EQ(0, shmds_hashmap_set_ttl_b(bb, "a", 1, 0));
    EXPECT_EQ(0, shmds_hashmap_pop_bb(bb, kb, sizeof kb, &kl, vb, sizeof vb, &vl));
    EXPECT_EQ(0, shmds_hashmap_shift_bb(bb, kb, sizeof kb, &kl, vb, sizeof vb, &vl));
    shmds_hashmap_close(bb);

    shmds_hashmap_config_t ic = SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_INT64, SHMDS_TYPE_BYTES, 4);
    ic.flags = SHMDS_HASHMAP_EVICT;
    shmds_hashmap_t *ib = nullptr;
    ASSERT_EQ(0, shmds_hashmap_create(nullptr, &ic, &ib));
    EXPECT_EQ(0, shmds_hashmap_put_ttl_ib(ib, 1, "a", 1, 10));
    EXPECT_EQ(0, shmds_hashmap_add_ttl_ib(ib, 2, "b", 1, 10));
    EXPECT_EQ(0, shmds_hashmap_update_ttl_ib(ib, 2, "c", 1, 10));
    EXPECT_EQ(0, shmds_hashmap_get_with_ttl_ib(ib, 2, vb, sizeof vb, &vl, &ttl));
    EXPECT_EQ(0, shmds_hashmap_pop_ib(ib, &k, vb, sizeof vb, &vl));
    EXPECT_EQ(0, shmds_hashmap_shift_ib(ib, &k, vb, sizeof vb, &vl));
    shmds_hashmap_close(ib);

    shmds_hashmap_config_t bic = SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_BYTES, SHMDS_TYPE_INT64, 4);
    bic.flags = SHMDS_HASHMAP_EVICT;
    shmds_hashmap_t *bi = nullptr;
    ASSERT_EQ(0, shmds_hashmap_create(nullptr, &bic, &bi));
    EXPECT_EQ(0, shmds_hashmap_put_ttl_bi(bi, "a", 1, 1, 10));
    EXPECT_EQ(0, shmds_hashmap_add_ttl_bi(bi, "b", 1, 2, 10));
    EXPECT_EQ(0, shmds_hashmap_update_ttl_bi(bi, "b", 1, 3, 10));
    EXPECT_EQ(0, shmds_hashmap_get_with_ttl_bi(bi, "b", 1, &v, &ttl));
    EXPECT_EQ(0, shmds_hashmap_pop_bi(bi, kb, sizeof kb, &kl, &v));
    EXPECT_EQ(0, shmds_hashmap_shift_bi(bi, kb, sizeof kb, &kl, &v));
    shmds_hashmap_close(bi);

    shmds_hashmap_config_t fc = SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_INT64, SHMDS_TYPE_F64, 4);
    fc.flags = SHMDS_HASHMAP_EVICT;
    shmds_hashmap_t *f = nullptr;
    ASSERT_EQ(0, shmds_hashmap_create(nullptr, &fc, &f));
    EXPECT_EQ(0, shmds_hashmap_put_ttl_if(f, 1, 1.0, 10));
    EXPECT_EQ(0, shmds_hashmap_add_ttl_if(f, 2, 2.0, 10));
    EXPECT_EQ(0, shmds_hashmap_update_ttl_if(f, 2, 3.0, 10));
    EXPECT_EQ(0, shmds_hashmap_get_with_ttl_if(f, 2, &d, &ttl));
    EXPECT_EQ(0, shmds_hashmap_pop_if(f, &k, &d));
    EXPECT_EQ(0, shmds_hashmap_shift_if(f, &k, &d));
    shmds_hashmap_close(f);
    shmds_hashmap_config_t bfc = SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_BYTES, SHMDS_TYPE_F64, 4);
    bfc.flags = SHMDS_HASHMAP_EVICT;
    ASSERT_EQ(0, shmds_hashmap_create(nullptr, &bfc, &f));
    EXPECT_EQ(0, shmds_hashmap_put_ttl_bf(f, "a", 1, 1.0, 10));
    EXPECT_EQ(0, shmds_hashmap_add_ttl_bf(f, "b", 1, 2.0, 10));
    EXPECT_EQ(0, shmds_hashmap_update_ttl_bf(f, "b", 1, 3.0, 10));
    EXPECT_EQ(0, shmds_hashmap_get_with_ttl_bf(f, "b", 1, &d, &ttl));
    EXPECT_EQ(0, shmds_hashmap_pop_bf(f, kb, sizeof kb, &kl, &d));
    EXPECT_EQ(0, shmds_hashmap_shift_bf(f, kb, sizeof kb, &kl, &d));
    shmds_hashmap_close(f);
}

TEST(CapiAbiEveryExport, HashMapOps) {
    shmds_hashmap_config_t c = SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_INT64, SHMDS_TYPE_INT64, 64);
    shmds_hashmap_t *ii = nullptr;
    ASSERT_EQ(0, shmds_hashmap_create(nullptr, &c, &ii)) << shmds_last_error();
    std::int64_t v = 0;
    const std::int64_t keys[2] = {1, 2}, vals[2] = {10, 20};
    std::int64_t got[2];
    int res[2];
    EXPECT_EQ(2, shmds_hashmap_put_batch_ii(ii, keys, vals, 2, res));
    EXPECT_EQ(2, shmds_hashmap_get_batch_ii(ii, keys, 2, got, res));
    EXPECT_EQ(20, got[1]);
    EXPECT_EQ(0, shmds_hashmap_cas_take_ii(ii, 1, 10));
    EXPECT_EQ(1, shmds_hashmap_remove_batch_i(ii, keys, 2, res));
    EXPECT_EQ(1, shmds_hashmap_max_i(ii, 5, 7, &v));
    EXPECT_EQ(1, shmds_hashmap_min_i(ii, 5, 3, &v));
    EXPECT_EQ(3, v);
    EXPECT_EQ(0, shmds_hashmap_reserve(ii, 40));
    shmds_hashmap_cursor_t *cur = nullptr;
    ASSERT_EQ(0, shmds_hashmap_cursor_create(ii, &cur));
    std::int64_t k = 0;
    EXPECT_EQ(1, shmds_hashmap_cursor_next_ii(cur, &k, &v));
    EXPECT_EQ(5, k);
    EXPECT_EQ(0, shmds_hashmap_cursor_reset(cur));
    EXPECT_EQ(0, shmds_hashmap_cursor_seek_i(cur, 5));
    std::int64_t kb[4], vb[4];
    std::size_t kl[4], vl[4];
    EXPECT_EQ(1, shmds_hashmap_cursor_next_batch(cur, kb, sizeof kb, kl, vb, sizeof vb, vl, 4));
    shmds_hashmap_cursor_destroy(cur);
    std::uint64_t removed = 0;
    EXPECT_EQ(0, shmds_hashmap_clear(ii, &removed));
    EXPECT_EQ(1u, removed);
    EXPECT_EQ(0, shmds_hashmap_freeze(ii));
    EXPECT_EQ(-EROFS, shmds_hashmap_put_ii(ii, 1, 1));
    shmds_hashmap_close(ii);
    shmds_hashmap_t *ro = nullptr;
    EXPECT_EQ(-EINVAL, shmds_hashmap_open_read_only(nullptr, 0, 0, &ro));  // anonymous: no file

    char kbuf[8], buf[8];
    std::size_t klen = 0, len = 0;
    const void *bkeys[1] = {"k"};
    const std::size_t bkl[1] = {1};
    const void *bvals[1] = {"v"};
    const std::size_t bvl[1] = {1};
    void *bufs[1] = {buf};
    const std::size_t bsz[1] = {sizeof buf};
    std::size_t blen[1];
    shmds_hashmap_config_t bc = SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_BYTES, SHMDS_TYPE_BYTES, 64);
    shmds_hashmap_t *bb = nullptr;
    ASSERT_EQ(0, shmds_hashmap_create(nullptr, &bc, &bb));
    EXPECT_EQ(1, shmds_hashmap_put_batch_bb(bb, bkeys, bkl, bvals, bvl, 1, res));
    EXPECT_EQ(1, shmds_hashmap_get_batch_bb(bb, bkeys, bkl, 1, bufs, bsz, blen, res));
    ASSERT_EQ(0, shmds_hashmap_cursor_create(bb, &cur));
    EXPECT_EQ(1, shmds_hashmap_cursor_next_bb(cur, kbuf, sizeof kbuf, &klen, buf, sizeof buf, &len));
    EXPECT_EQ(0, shmds_hashmap_cursor_seek_b(cur, "k", 1));
    shmds_hashmap_cursor_destroy(cur);
    EXPECT_EQ(0, shmds_hashmap_cas_take_bb(bb, "k", 1, "v", 1));
    EXPECT_EQ(0, shmds_hashmap_remove_batch_b(bb, bkeys, bkl, 1, res));
    shmds_hashmap_close(bb);

    shmds_hashmap_config_t ic = SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_INT64, SHMDS_TYPE_BYTES, 64);
    shmds_hashmap_t *ib = nullptr;
    ASSERT_EQ(0, shmds_hashmap_create(nullptr, &ic, &ib));
    EXPECT_EQ(1, shmds_hashmap_put_batch_ib(ib, keys, bvals, bvl, 1, res));
    EXPECT_EQ(1, shmds_hashmap_get_batch_ib(ib, keys, 1, bufs, bsz, blen, res));
    ASSERT_EQ(0, shmds_hashmap_cursor_create(ib, &cur));
    EXPECT_EQ(1, shmds_hashmap_cursor_next_ib(cur, &k, buf, sizeof buf, &len));
    shmds_hashmap_cursor_destroy(cur);
    EXPECT_EQ(0, shmds_hashmap_cas_take_ib(ib, 1, "v", 1));
    shmds_hashmap_close(ib);

    shmds_hashmap_config_t bic = SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_BYTES, SHMDS_TYPE_INT64, 64);
    shmds_hashmap_t *bi = nullptr;
    ASSERT_EQ(0, shmds_hashmap_create(nullptr, &bic, &bi));
    EXPECT_EQ(1, shmds_hashmap_put_batch_bi(bi, bkeys, bkl, vals, 1, res));
    EXPECT_EQ(1, shmds_hashmap_get_batch_bi(bi, bkeys, bkl, 1, got, res));
    EXPECT_EQ(1, shmds_hashmap_max_b(bi, "k", 1, 11, &v));
    EXPECT_EQ(0, shmds_hashmap_min_b(bi, "k", 1, 12, &v));
    ASSERT_EQ(0, shmds_hashmap_cursor_create(bi, &cur));
    EXPECT_EQ(1, shmds_hashmap_cursor_next_bi(cur, kbuf, sizeof kbuf, &klen, &v));
    shmds_hashmap_cursor_destroy(cur);
    EXPECT_EQ(0, shmds_hashmap_cas_take_bi(bi, "k", 1, 11));
    shmds_hashmap_close(bi);

    double d[2] = {1.5, 2.5}, dout[2];
    shmds_hashmap_config_t fc = SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_INT64, SHMDS_TYPE_F64, 64);
    shmds_hashmap_t *f = nullptr;
    ASSERT_EQ(0, shmds_hashmap_create(nullptr, &fc, &f));
    EXPECT_EQ(2, shmds_hashmap_put_batch_if(f, keys, d, 2, res));
    EXPECT_EQ(2, shmds_hashmap_get_batch_if(f, keys, 2, dout, res));
    ASSERT_EQ(0, shmds_hashmap_cursor_create(f, &cur));
    EXPECT_EQ(1, shmds_hashmap_cursor_next_if(cur, &k, dout));
    shmds_hashmap_cursor_destroy(cur);
    EXPECT_EQ(0, shmds_hashmap_cas_take_if(f, 1, 1.5));
    shmds_hashmap_close(f);
    shmds_hashmap_config_t bfc = SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_BYTES, SHMDS_TYPE_F64, 64);
    ASSERT_EQ(0, shmds_hashmap_create(nullptr, &bfc, &f));
    EXPECT_EQ(1, shmds_hashmap_put_batch_bf(f, bkeys, bkl, d, 1, res));
    EXPECT_EQ(1, shmds_hashmap_get_batch_bf(f, bkeys, bkl, 1, dout, res));
    ASSERT_EQ(0, shmds_hashmap_cursor_create(f, &cur));
    EXPECT_EQ(1, shmds_hashmap_cursor_next_bf(cur, kbuf, sizeof kbuf, &klen, dout));
    shmds_hashmap_cursor_destroy(cur);
    EXPECT_EQ(0, shmds_hashmap_cas_take_bf(f, "k", 1, 1.5));
    shmds_hashmap_close(f);
}

// The cache's exports, each called once through the shared library.
std::uint64_t cache_abi_clock(void *) { return 5000; }
int cache_abi_entry(const shmds_cache_entry_t *, void *n) {
    ++*static_cast<int *>(n);
    return 0;
}

int cache_abi_update(void *, const void *, size_t, const void *, size_t, int,
                     shmds_cache_value_t *out) {
    out->value = "1";
    out->value_len = 1;
    return 0;
}

int cache_abi_update_modseq(void *, const void *, size_t, const void *, size_t, int,
                            std::uint64_t, shmds_cache_value_t *out, std::uint64_t *modseq) {
    out->value = "2";
    out->value_len = 1;
    *modseq = 3;
    return 0;
}

TEST(CapiAbiCache, EveryCacheExport) {
    shmds_cache_config_t c;
    ASSERT_EQ(0, shmds_cache_config_init(&c, sizeof c));
    c.page_size = 4096;
    c.num_pages = 2;
    shmds_cache_t *h = nullptr;
    ASSERT_EQ(0, shmds_cache_create(nullptr, &c, &h)) << shmds_last_error();
    shmds_cache_t *none = nullptr;
    EXPECT_EQ(-EINVAL, shmds_cache_open(nullptr, &none));  // anonymous: nothing to open
    EXPECT_EQ(-ENOENT, shmds_cache_fd(h));
    EXPECT_EQ(0, shmds_cache_sync(h));
    EXPECT_EQ(0u, shmds_cache_recoveries(h));
    EXPECT_EQ(0, shmds_cache_set_clock(h, &cache_abi_clock, nullptr));
    EXPECT_EQ(0, shmds_cache_set(h, "k", 1, "v", 1, SHMDS_CACHE_EXPIRE_NEVER));
    EXPECT_EQ(0, shmds_cache_set_expire_on(h, "e", 1, "w", 1, 6000));
    char buf[8];
    std::size_t len = 0;
    EXPECT_EQ(0, shmds_cache_get(h, "k", 1, buf, sizeof buf, &len));
    EXPECT_EQ(1, shmds_cache_exists(h, "k", 1));
    int n = 0;
    EXPECT_EQ(0, shmds_cache_get_keys(h, 2, &cache_abi_entry, &n));
    EXPECT_EQ(2, n);
    EXPECT_EQ(0, shmds_cache_get_and_remove(h, "k", 1, buf, sizeof buf, &len));
    EXPECT_EQ(-ENOENT, shmds_cache_remove(h, "k", 1));
    EXPECT_EQ(0, shmds_cache_expire(h, "e", 1));
    shmds_cache_item_t it = {};
    it.key = "m";
    it.key_len = 1;
    it.value = "x";
    it.value_len = 1;
    EXPECT_EQ(1, shmds_cache_multi_set(h, "p", 1, &it, 1, 0));
    it.buf = buf;
    it.buf_size = sizeof buf;
    EXPECT_EQ(1, shmds_cache_multi_get(h, "p", 1, &it, 1));
    std::uint64_t count = 0;
    EXPECT_EQ(0, shmds_cache_purge(h, &count));
    EXPECT_EQ(0, shmds_cache_verify(h, &count));
    EXPECT_EQ(0u, count);
    shmds_cache_stats_t st{};
    st.struct_size = sizeof st;
    EXPECT_EQ(0, shmds_cache_stats(h, &st, 1));
    EXPECT_EQ(2u, st.num_pages);
    EXPECT_EQ(0, shmds_cache_clear(h));
    shmds_cache_callbacks_t cb;
    ASSERT_EQ(0, shmds_cache_callbacks_init(&cb, sizeof cb));
    cb.write_back = 1;
    EXPECT_EQ(0, shmds_cache_set_callbacks(h, &cb));
    EXPECT_EQ(0, shmds_cache_get_and_set(h, "g", 1, &cache_abi_update, nullptr));
    EXPECT_EQ(0, shmds_cache_empty(h, 0));
    EXPECT_EQ(0, shmds_cache_set_callbacks(h, nullptr));
    // Modseqs and tombstones.
    EXPECT_EQ(0, shmds_cache_set_tombstone_expire(h, 1000));
    EXPECT_EQ(0, shmds_cache_set_modseq(h, "s", 1, "v", 1, SHMDS_CACHE_EXPIRE_NEVER, 2));
    std::uint64_t modseq = 0;
    EXPECT_EQ(0, shmds_cache_get_modseq(h, "s", 1, buf, sizeof buf, &len, &modseq));
    EXPECT_EQ(2u, modseq);
    EXPECT_EQ(0, shmds_cache_get_and_set_modseq(h, "s", 1, &cache_abi_update_modseq, nullptr));
    EXPECT_EQ(0, shmds_cache_remove_modseq(h, "s", 1, 4, SHMDS_CACHE_EXPIRE_DEFAULT));
    EXPECT_EQ(-ESTALE, shmds_cache_set(h, "s", 1, "v", 1, SHMDS_CACHE_EXPIRE_NEVER));
    shmds_cache_close(h);
    // The test_file forms (anonymous: create only).
    count = 0;
    ASSERT_EQ(0, shmds_cache_create_tested(nullptr, &c, &h, &count)) << shmds_last_error();
    EXPECT_EQ(0u, count);
    EXPECT_EQ(-EINVAL, shmds_cache_open_tested(nullptr, &none, &count));
    shmds_cache_close(h);
}

TEST(CapiAbiEveryExport, Deque) {
    shmds_deque_config_t cfg;
    ASSERT_EQ(0, shmds_deque_config_init(&cfg, sizeof cfg, SHMDS_TYPE_INT64, 4));
    shmds_deque_t *d = nullptr;
    ASSERT_EQ(0, shmds_deque_create(nullptr, &cfg, &d)) << shmds_last_error();
    EXPECT_EQ(SHMDS_TYPE_INT64, shmds_deque_type(d));
    EXPECT_EQ(-ENOENT, shmds_deque_fd(d));
    EXPECT_EQ(0, shmds_deque_sync(d));
    EXPECT_EQ(0, shmds_deque_push_int(d, SHMDS_DEQUE_BACK, 1, SHMDS_NOWAIT));
    std::int64_t v = 0, vs[4] = {2, 3};
    std::size_t n = 0;
    EXPECT_EQ(0, shmds_deque_push_multi_int(d, SHMDS_DEQUE_FRONT, vs, 2, &n, SHMDS_NOWAIT));
    EXPECT_EQ(0, shmds_deque_peek_int(d, SHMDS_DEQUE_FRONT, &v));
    EXPECT_EQ(3, v);
    EXPECT_EQ(0, shmds_deque_pop_int(d, SHMDS_DEQUE_BACK, &v, SHMDS_NOWAIT));
    EXPECT_EQ(1, v);
    EXPECT_EQ(0, shmds_deque_pop_multi_int(d, SHMDS_DEQUE_FRONT, vs, 1, &n, SHMDS_NOWAIT));
    EXPECT_EQ(0, shmds_deque_drain_int(d, SHMDS_DEQUE_FRONT, vs, 4, &n));
    EXPECT_EQ(1u, n);
    EXPECT_EQ(0u, shmds_deque_size(d));
    EXPECT_EQ(4u, shmds_deque_capacity(d));
    EXPECT_EQ(1, shmds_deque_is_empty(d));
    EXPECT_EQ(0, shmds_deque_is_full(d));
    EXPECT_EQ(0, shmds_deque_clear(d, nullptr));
    shmds_deque_stats_t st{};
    st.struct_size = sizeof st;
    EXPECT_EQ(0, shmds_deque_stats(d, &st));
    EXPECT_EQ(3u, st.push_ok);
    EXPECT_GE(shmds_deque_eventfd(d), 0);
    EXPECT_EQ(0, shmds_deque_notify(d));
    std::uint64_t c = 0;
    EXPECT_EQ(0, shmds_deque_eventfd_consume(d, &c));
    EXPECT_EQ(0, shmds_deque_set_eventfd(d, -1));
    // The f64 and bytes forms refuse an int64 deque with SHMDS_EVARIANT.
    double f = 0;
    char buf[8];
    std::size_t len = 0, lens[2];
    const void *datas[1] = {"x"};
    const std::size_t one[1] = {1};
    EXPECT_EQ(SHMDS_EVARIANT, shmds_deque_push_f64(d, SHMDS_DEQUE_BACK, 1.0, 0));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_deque_pop_f64(d, SHMDS_DEQUE_BACK, &f, 0));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_deque_peek_f64(d, SHMDS_DEQUE_BACK, &f));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_deque_push_multi_f64(d, SHMDS_DEQUE_BACK, &f, 1, &n, 0));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_deque_pop_multi_f64(d, SHMDS_DEQUE_BACK, &f, 1, &n, 0));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_deque_drain_f64(d, SHMDS_DEQUE_BACK, &f, 1, &n));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_deque_push_bytes(d, SHMDS_DEQUE_BACK, "x", 1, 0));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_deque_pop_bytes(d, SHMDS_DEQUE_BACK, buf, 8, &len, 0));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_deque_peek_bytes(d, SHMDS_DEQUE_BACK, buf, 8, &len));
    EXPECT_EQ(SHMDS_EVARIANT,
              shmds_deque_push_multi_bytes(d, SHMDS_DEQUE_BACK, datas, one, 1, &n, 0));
    EXPECT_EQ(SHMDS_EVARIANT,
              shmds_deque_pop_multi_bytes(d, SHMDS_DEQUE_BACK, buf, 8, lens, 2, &n, 0));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_deque_drain_bytes(d, SHMDS_DEQUE_BACK, buf, 8, lens, 2, &n));
    shmds_deque_close(d);
    shmds_deque_t *none = nullptr;
    EXPECT_EQ(-EINVAL, shmds_deque_open(nullptr, SHMDS_DEQUE_ANY, &none));
}

TEST(CapiAbiEveryExport, DequeUint) {
    shmds_deque_config_t cfg = SHMDS_DEQUE_CONFIG_INIT(SHMDS_TYPE_UINT64, 4);
    shmds_deque_t *d = nullptr;
    ASSERT_EQ(0, shmds_deque_create(nullptr, &cfg, &d)) << shmds_last_error();
    EXPECT_EQ(SHMDS_TYPE_UINT64, shmds_deque_type(d));
    const std::uint64_t big = UINT64_MAX;
    EXPECT_EQ(0, shmds_deque_push_uint(d, SHMDS_DEQUE_BACK, big, SHMDS_NOWAIT));
    std::uint64_t v = 0, vs[4] = {2, big - 1};
    std::size_t n = 0;
    EXPECT_EQ(0, shmds_deque_push_multi_uint(d, SHMDS_DEQUE_FRONT, vs, 2, &n, SHMDS_NOWAIT));
    EXPECT_EQ(2u, n);
    EXPECT_EQ(0, shmds_deque_peek_uint(d, SHMDS_DEQUE_FRONT, &v));
    EXPECT_EQ(big - 1, v);
    EXPECT_EQ(0, shmds_deque_pop_uint(d, SHMDS_DEQUE_BACK, &v, SHMDS_NOWAIT));
    EXPECT_EQ(big, v);
    EXPECT_EQ(0, shmds_deque_pop_multi_uint(d, SHMDS_DEQUE_FRONT, vs, 1, &n, SHMDS_NOWAIT));
    EXPECT_EQ(big - 1, vs[0]);
    EXPECT_EQ(0, shmds_deque_drain_uint(d, SHMDS_DEQUE_FRONT, vs, 4, &n));
    EXPECT_EQ(1u, n);
    EXPECT_EQ(2u, vs[0]);
    shmds_deque_close(d);
}

TEST(CapiAbiEveryExport, StackUint) {
    shmds_stack_config_t cfg = SHMDS_STACK_CONFIG_INIT(SHMDS_TYPE_UINT64, 3);
    shmds_stack_t *s = nullptr;
    ASSERT_EQ(0, shmds_stack_create(nullptr, &cfg, &s)) << shmds_last_error();
    EXPECT_EQ(SHMDS_TYPE_UINT64, shmds_stack_type(s));
    const std::uint64_t big = UINT64_MAX;
    EXPECT_EQ(0, shmds_stack_push_uint(s, big, SHMDS_NOWAIT));
    std::uint64_t v = 0, vs[4] = {2, big - 1};
    std::size_t n = 0;
    EXPECT_EQ(0, shmds_stack_push_multi_uint(s, vs, 2, &n, SHMDS_NOWAIT));
    EXPECT_EQ(0, shmds_stack_peek_uint(s, &v));
    EXPECT_EQ(big - 1, v);
    EXPECT_EQ(0, shmds_stack_pop_uint(s, &v, SHMDS_NOWAIT));
    EXPECT_EQ(big - 1, v);
    EXPECT_EQ(0, shmds_stack_pop_multi_uint(s, vs, 1, &n, SHMDS_NOWAIT));
    EXPECT_EQ(2u, vs[0]);
    EXPECT_EQ(0, shmds_stack_drain_uint(s, vs, 4, &n));
    EXPECT_EQ(1u, n);
    EXPECT_EQ(big, vs[0]);
    shmds_stack_close(s);
}

TEST(CapiAbiEveryExport, Stack) {
    shmds_stack_config_t cfg;
    ASSERT_EQ(0, shmds_stack_config_init(&cfg, sizeof cfg, SHMDS_TYPE_INT64, 3));
    shmds_stack_t *s = nullptr;
    ASSERT_EQ(0, shmds_stack_create(nullptr, &cfg, &s)) << shmds_last_error();
    EXPECT_EQ(SHMDS_TYPE_INT64, shmds_stack_type(s));
    EXPECT_EQ(-ENOENT, shmds_stack_fd(s));
    EXPECT_EQ(0, shmds_stack_sync(s));
    EXPECT_EQ(0, shmds_stack_push_int(s, 1, SHMDS_NOWAIT));
    std::int64_t v = 0, vs[4] = {2, 3};
    std::size_t n = 0;
    EXPECT_EQ(0, shmds_stack_push_multi_int(s, vs, 2, &n, SHMDS_NOWAIT));
    EXPECT_EQ(1, shmds_stack_is_full(s));
    EXPECT_EQ(0, shmds_stack_peek_int(s, &v));
    EXPECT_EQ(3, v);
    EXPECT_EQ(0, shmds_stack_pop_int(s, &v, SHMDS_NOWAIT));
    EXPECT_EQ(3, v);
    EXPECT_EQ(0, shmds_stack_pop_multi_int(s, vs, 1, &n, SHMDS_NOWAIT));
    EXPECT_EQ(2, vs[0]);
    EXPECT_EQ(0, shmds_stack_drain_int(s, vs, 4, &n));
    EXPECT_EQ(1u, n);
    EXPECT_EQ(0u, shmds_stack_size(s));
    EXPECT_EQ(3u, shmds_stack_capacity(s));
    EXPECT_EQ(1, shmds_stack_is_empty(s));
    EXPECT_EQ(0, shmds_stack_clear(s, nullptr));
    shmds_stack_stats_t st{};
    st.struct_size = sizeof st;
    EXPECT_EQ(0, shmds_stack_stats(s, &st));
    EXPECT_EQ(3u, st.push_ok);
    EXPECT_GE(shmds_stack_eventfd(s), 0);
    EXPECT_EQ(0, shmds_stack_notify(s));
    std::uint64_t c = 0;
    EXPECT_EQ(0, shmds_stack_eventfd_consume(s, &c));
    EXPECT_EQ(0, shmds_stack_set_eventfd(s, -1));
    double f = 0;
    char buf[8];
    std::size_t len = 0, lens[2];
    const void *datas[1] = {"x"};
    const std::size_t one[1] = {1};
    EXPECT_EQ(SHMDS_EVARIANT, shmds_stack_push_f64(s, 1.0, 0));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_stack_pop_f64(s, &f, 0));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_stack_peek_f64(s, &f));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_stack_push_multi_f64(s, &f, 1, &n, 0));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_stack_pop_multi_f64(s, &f, 1, &n, 0));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_stack_drain_f64(s, &f, 1, &n));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_stack_push_bytes(s, "x", 1, 0));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_stack_pop_bytes(s, buf, 8, &len, 0));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_stack_peek_bytes(s, buf, 8, &len));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_stack_push_multi_bytes(s, datas, one, 1, &n, 0));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_stack_pop_multi_bytes(s, buf, 8, lens, 2, &n, 0));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_stack_drain_bytes(s, buf, 8, lens, 2, &n));
    shmds_stack_close(s);
    shmds_stack_t *none = nullptr;
    EXPECT_EQ(-EINVAL, shmds_stack_open(nullptr, SHMDS_STACK_ANY, &none));
}

TEST(CapiAbiEveryExport, RingBuffer) {
    shmds_ringbuffer_config_t c;
    ASSERT_EQ(0, shmds_ringbuffer_config_init(&c, sizeof c, SHMDS_TYPE_INT64, 3));
    shmds_ringbuffer_t *r = nullptr;
    ASSERT_EQ(0, shmds_ringbuffer_create(nullptr, &c, &r)) << shmds_last_error();
    shmds_ringbuffer_t *none = nullptr;
    EXPECT_EQ(-EINVAL, shmds_ringbuffer_open(nullptr, 0, &none));  // anonymous: nothing to open
    EXPECT_EQ(SHMDS_TYPE_INT64, shmds_ringbuffer_type(r));
    EXPECT_EQ(-ENOENT, shmds_ringbuffer_fd(r));
    EXPECT_EQ(0, shmds_ringbuffer_sync(r));
    uint64_t seq = 9;
    EXPECT_EQ(0, shmds_ringbuffer_write_int(r, -5, &seq));
    EXPECT_EQ(0u, seq);
    EXPECT_EQ(0, shmds_ringbuffer_write_uint(r, 6, &seq));
    const int64_t iv[] = {7, 8};
    const uint64_t uv[] = {9};
    EXPECT_EQ(0, shmds_ringbuffer_write_multi_int(r, iv, 2, &seq));
    EXPECT_EQ(2u, seq);
    EXPECT_EQ(0, shmds_ringbuffer_write_multi_uint(r, uv, 1, &seq));
    int64_t i = 0;
    uint64_t u = 0;
    EXPECT_EQ(0, shmds_ringbuffer_read_seq_int(r, 3, &i));
    EXPECT_EQ(8, i);
    EXPECT_EQ(0, shmds_ringbuffer_read_seq_uint(r, 4, &u));
    EXPECT_EQ(9u, u);
    EXPECT_EQ(-ENOENT, shmds_ringbuffer_read_seq_int(r, 0, &i));
    EXPECT_EQ(0, shmds_ringbuffer_latest_int(r, 0, &i, &seq));
    EXPECT_EQ(0, shmds_ringbuffer_latest_uint(r, 1, &u, &seq));
    EXPECT_EQ(8u, u);
    int64_t il[3];
    uint64_t ul[3], seqs[3];
    size_t n = 0;
    EXPECT_EQ(0, shmds_ringbuffer_to_list_int(r, il, seqs, 3, &n));
    EXPECT_EQ(3u, n);
    EXPECT_EQ(0, shmds_ringbuffer_to_list_uint(r, ul, nullptr, 3, &n));
    EXPECT_EQ(9u, ul[2]);
    EXPECT_EQ(3u, shmds_ringbuffer_size(r));
    EXPECT_EQ(3u, shmds_ringbuffer_capacity(r));
    EXPECT_EQ(5u, shmds_ringbuffer_head(r));
    EXPECT_EQ(5u, shmds_ringbuffer_count(r));
    EXPECT_EQ(2u, shmds_ringbuffer_overwrites(r));
    EXPECT_EQ(0, shmds_ringbuffer_wait_for(r, 4, SHMDS_NOWAIT));
    shmds_ringbuffer_stats_t st{};
    st.struct_size = sizeof st;
    EXPECT_EQ(0, shmds_ringbuffer_stats(r, &st));
    EXPECT_EQ(5u, st.count);
    const int fd = shmds_ringbuffer_eventfd(r);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(0, shmds_ringbuffer_set_eventfd(r, fd));
    EXPECT_EQ(0, shmds_ringbuffer_notify(r));
    uint64_t count = 0;
    EXPECT_EQ(0, shmds_ringbuffer_eventfd_consume(r, &count));
    EXPECT_EQ(1u, count);
    shmds_ringbuffer_close(r);

    ASSERT_EQ(0, shmds_ringbuffer_config_init(&c, sizeof c, SHMDS_TYPE_F64, 2));
    ASSERT_EQ(0, shmds_ringbuffer_create(nullptr, &c, &r)) << shmds_last_error();
    const double dv[] = {0.5, 1.5};
    EXPECT_EQ(0, shmds_ringbuffer_write_f64(r, 2.5, &seq));
    EXPECT_EQ(0, shmds_ringbuffer_write_multi_f64(r, dv, 2, &seq));
    double d = 0, dl[2];
    EXPECT_EQ(0, shmds_ringbuffer_read_seq_f64(r, 2, &d));
    EXPECT_EQ(1.5, d);
    EXPECT_EQ(0, shmds_ringbuffer_latest_f64(r, 1, &d, &seq));
    EXPECT_EQ(0.5, d);
    EXPECT_EQ(0, shmds_ringbuffer_to_list_f64(r, dl, nullptr, 2, &n));
    EXPECT_EQ(2u, n);
    shmds_ringbuffer_close(r);
}

// The buffer's exports, each called once through the shared library.
TEST(CapiAbiEveryExport, Buffer) {
    shmds_buffer_config_t c;
    ASSERT_EQ(0, shmds_buffer_config_init(&c, sizeof c, SHMDS_TYPE_INT32, 4, 0));
    shmds_buffer_t *b = nullptr;
    ASSERT_EQ(0, shmds_buffer_create(nullptr, &c, &b)) << shmds_last_error();
    shmds_buffer_t *none = nullptr;
    EXPECT_EQ(-EINVAL, shmds_buffer_open(nullptr, 0, &none));  // anonymous: nothing to open
    EXPECT_EQ(SHMDS_TYPE_INT32, shmds_buffer_type(b));
    EXPECT_EQ(4u, shmds_buffer_length(b));
    EXPECT_EQ(4u, shmds_buffer_elem_size(b));
    EXPECT_EQ(-ENOENT, shmds_buffer_fd(b));
    EXPECT_EQ(0, shmds_buffer_sync(b));
    int64_t i = 0;
    uint64_t u = 0;
    EXPECT_EQ(0, shmds_buffer_set_int(b, 0, -3));
    EXPECT_EQ(0, shmds_buffer_get_int(b, 0, &i));
    EXPECT_EQ(-3, i);
    EXPECT_EQ(0, shmds_buffer_set_uint(b, 1, 5));
    EXPECT_EQ(0, shmds_buffer_get_uint(b, 1, &u));
    EXPECT_EQ(5u, u);
    EXPECT_EQ(0, shmds_buffer_add_int(b, 1, 2, &i));
    EXPECT_EQ(0, shmds_buffer_add_uint(b, 1, 1, &u));
    EXPECT_EQ(8u, u);
    EXPECT_EQ(0, shmds_buffer_incr(b, 1, &i));
    EXPECT_EQ(0, shmds_buffer_decr(b, 1, &i));
    EXPECT_EQ(8, i);
    EXPECT_EQ(0, shmds_buffer_cas_int(b, 1, 8, 9, &i));
    EXPECT_EQ(0, shmds_buffer_cas_uint(b, 1, 9, 10, &u));
    EXPECT_EQ(0, shmds_buffer_exchange_int(b, 1, 11, &i));
    EXPECT_EQ(0, shmds_buffer_exchange_uint(b, 1, 12, &u));
    EXPECT_EQ(11u, u);
    EXPECT_EQ(0, shmds_buffer_and(b, 1, 0xff, &u));
    EXPECT_EQ(0, shmds_buffer_or(b, 1, 0x1, &u));
    EXPECT_EQ(0, shmds_buffer_xor(b, 1, 0x2, &u));
    const int64_t iv[] = {1, 2};
    int64_t io[2];
    uint64_t uo[2];
    EXPECT_EQ(0, shmds_buffer_set_slice_int(b, 2, iv, 2, SHMDS_FOREVER));
    EXPECT_EQ(0, shmds_buffer_get_slice_int(b, 2, 2, io, SHMDS_NOWAIT));
    EXPECT_EQ(2, io[1]);
    const uint64_t uv[] = {3, 4};
    EXPECT_EQ(0, shmds_buffer_set_slice_uint(b, 2, uv, 2, SHMDS_FOREVER));
    EXPECT_EQ(0, shmds_buffer_get_slice_uint(b, 2, 2, uo, SHMDS_NOWAIT));
    EXPECT_EQ(4u, uo[1]);
    int32_t raw[4];
    EXPECT_EQ(0, shmds_buffer_get_raw(b, 0, sizeof raw, raw, SHMDS_NOWAIT));
    EXPECT_EQ(0, shmds_buffer_set_raw(b, 0, raw, sizeof raw, SHMDS_FOREVER));
    EXPECT_EQ(0, shmds_buffer_fill_int(b, 7, SHMDS_FOREVER));
    EXPECT_EQ(0, shmds_buffer_fill_uint(b, 8, SHMDS_FOREVER));
    EXPECT_EQ(0, shmds_buffer_clear(b, SHMDS_FOREVER));
    std::size_t applied = 0;
    EXPECT_EQ(0, shmds_buffer_add_slice(b, 2, iv, 2, &applied, SHMDS_FOREVER));
    EXPECT_EQ(2u, applied);
    EXPECT_NE(nullptr, shmds_buffer_data(b));
    const void *rd = nullptr;
    uint64_t seq = 0;
    EXPECT_EQ(0, shmds_buffer_read_begin(b, &rd, &seq, SHMDS_NOWAIT));
    EXPECT_EQ(0, shmds_buffer_read_end(b, seq));
    void *wd = nullptr;
    EXPECT_EQ(0, shmds_buffer_write_begin(b, &wd, SHMDS_FOREVER));
    EXPECT_EQ(0, shmds_buffer_write_end(b));
    shmds_buffer_stats_t st{};
    st.struct_size = sizeof st;
    EXPECT_EQ(0, shmds_buffer_stats(b, &st));
    EXPECT_GE(st.bulk_writes, 6u);
    const int fd = shmds_buffer_eventfd(b);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(0, shmds_buffer_set_eventfd(b, fd));
    EXPECT_EQ(0, shmds_buffer_notify(b));
    uint64_t count = 0;
    EXPECT_EQ(0, shmds_buffer_eventfd_consume(b, &count));
    EXPECT_EQ(1u, count);
    shmds_buffer_close(b);

    ASSERT_EQ(0, shmds_buffer_config_init(&c, sizeof c, SHMDS_TYPE_F64, 2, 0));
    ASSERT_EQ(0, shmds_buffer_create(nullptr, &c, &b)) << shmds_last_error();
    double d = 0, dv[2] = {0.5, 1.5}, dout[2];
    EXPECT_EQ(0, shmds_buffer_set_f64(b, 0, 2.5));
    EXPECT_EQ(0, shmds_buffer_get_f64(b, 0, &d));
    EXPECT_EQ(0, shmds_buffer_exchange_f64(b, 0, 3.5, &d));
    EXPECT_EQ(2.5, d);
    EXPECT_EQ(0, shmds_buffer_set_slice_f64(b, 0, dv, 2, SHMDS_FOREVER));
    EXPECT_EQ(0, shmds_buffer_get_slice_f64(b, 0, 2, dout, SHMDS_NOWAIT));
    EXPECT_EQ(1.5, dout[1]);
    EXPECT_EQ(0, shmds_buffer_fill_f64(b, 0.25, SHMDS_FOREVER));
    shmds_buffer_close(b);

    ASSERT_EQ(0, shmds_buffer_config_init(&c, sizeof c, SHMDS_TYPE_BYTES, 2, 4));
    ASSERT_EQ(0, shmds_buffer_create(nullptr, &c, &b)) << shmds_last_error();
    char out[4];
    size_t len = 0;
    EXPECT_EQ(0, shmds_buffer_set_bytes(b, 1, "ab", 2, SHMDS_FOREVER));
    EXPECT_EQ(0, shmds_buffer_get_bytes(b, 1, out, sizeof out, &len, SHMDS_FOREVER));
    EXPECT_EQ(2u, len);
    EXPECT_EQ(0, shmds_buffer_fill_bytes(b, "xyz", 3, SHMDS_FOREVER));
    shmds_buffer_close(b);
}

// The log's exports, each called once through the shared library.
int log_abi_entry(const void *, size_t, uint64_t, void *n) {
    ++*static_cast<int *>(n);
    return 0;
}

TEST(CapiAbiLog, EveryExportIsCallable) {
    shmds_log_config_t c;
    ASSERT_EQ(0, shmds_log_config_init(&c, sizeof c, 4096));
    shmds_log_t *h = nullptr;
    ASSERT_EQ(0, shmds_log_create(nullptr, &c, &h)) << shmds_last_error();
    shmds_log_t *none = nullptr;
    EXPECT_EQ(-EINVAL, shmds_log_open(nullptr, &none));  // anonymous: nothing to open
    EXPECT_EQ(-ENOENT, shmds_log_fd(h));
    EXPECT_EQ(0, shmds_log_sync(h));
    EXPECT_EQ(0u, shmds_log_recoveries(h));
    std::uint64_t off = 1;
    EXPECT_EQ(0, shmds_log_append(h, "abc", 3, &off));
    EXPECT_EQ(0u, off);
    const void *datas[] = {"de", "f"};
    const size_t lens[] = {2, 1};
    std::uint64_t offs[2];
    EXPECT_EQ(0, shmds_log_append_multi(h, datas, lens, 2, offs));
    EXPECT_EQ(16u, offs[0]);
    char buf[8];
    size_t len = 0;
    std::uint64_t next = 0;
    EXPECT_EQ(0, shmds_log_read_entry(h, 0, buf, sizeof buf, &len, &next));
    EXPECT_EQ(16u, next);
    int visited = 0;
    std::uint64_t final = 0;
    EXPECT_EQ(3, shmds_log_each_entry(h, 0, &log_abi_entry, &visited, &final));
    EXPECT_EQ(3, visited);
    shmds_log_cursor_t cur;
    EXPECT_EQ(0, shmds_log_cursor_init(h, &cur, 16));
    EXPECT_EQ(0, shmds_log_cursor_next(h, &cur, buf, sizeof buf, &len, &off));
    EXPECT_EQ(48u, shmds_log_tail_offset(h));
    EXPECT_EQ(3u, shmds_log_entry_count(h));
    EXPECT_EQ(48u, shmds_log_data_size(h));
    EXPECT_EQ(4096u - 48u, shmds_log_available(h));
    EXPECT_EQ(4096u, shmds_log_capacity(h));
    EXPECT_EQ(0, shmds_log_wait_for(h, 2, SHMDS_NOWAIT));
    EXPECT_EQ(0, shmds_log_truncate(h, 16));
    EXPECT_EQ(16u, shmds_log_truncation(h));
    shmds_log_stats_t st{};
    st.struct_size = sizeof st;
    EXPECT_EQ(0, shmds_log_stats(h, &st));
    EXPECT_EQ(3u, st.entries);
    EXPECT_EQ(0, shmds_log_reset(h));
    EXPECT_EQ(2u, shmds_log_epoch(h));
    EXPECT_GE(shmds_log_eventfd(h), 0);
    EXPECT_EQ(0, shmds_log_notify(h));
    std::uint64_t count = 0;
    EXPECT_EQ(0, shmds_log_eventfd_consume(h, &count));
    EXPECT_EQ(0, shmds_log_set_eventfd(h, -1));
    shmds_log_close(h);
}

// The bit set's exports, each called once through the shared library.
TEST(CapiAbiEveryExport, Bitset) {
    const std::string path = "/dev/shm/shmds-abi-bitset-" + std::to_string(getpid());
    ::unlink(path.c_str());
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = path.c_str();
    shmds_bitset_config_t c;
    ASSERT_EQ(0, shmds_bitset_config_init(&c, sizeof c, 70));
    shmds_bitset_t *b = nullptr;
    ASSERT_EQ(0, shmds_bitset_create(&o, &c, &b)) << shmds_last_error();
    EXPECT_EQ(70u, shmds_bitset_size(b));
    EXPECT_GE(shmds_bitset_fd(b), 0);
    EXPECT_EQ(0, shmds_bitset_sync(b));
    EXPECT_EQ(0, shmds_bitset_set(b, 3));
    EXPECT_EQ(1, shmds_bitset_clear(b, 3));
    EXPECT_EQ(1, shmds_bitset_toggle(b, 69));
    EXPECT_EQ(1, shmds_bitset_test(b, 69));
    EXPECT_EQ(-ERANGE, shmds_bitset_test(b, 70));
    const uint64_t *words = shmds_bitset_words(b);
    ASSERT_NE(nullptr, words);
    EXPECT_EQ(1, shmds_bitset_words_test(words, 70, 69));
    EXPECT_EQ(-ERANGE, shmds_bitset_words_test(words, 70, 70));
    EXPECT_EQ(1u, shmds_bitset_count(b));
    EXPECT_EQ(1, shmds_bitset_any(b));
    EXPECT_EQ(0, shmds_bitset_none(b));
    uint64_t bit = 0;
    EXPECT_EQ(0, shmds_bitset_first_set(b, 0, &bit));
    EXPECT_EQ(69u, bit);
    EXPECT_EQ(-ENOENT, shmds_bitset_first_clear(b, 69, &bit));
    uint64_t bits[4];
    size_t n = 0;
    EXPECT_EQ(0, shmds_bitset_set_bits(b, 0, bits, 4, &n));
    EXPECT_EQ(1u, n);
    char text[71];
    size_t needed = 0;
    EXPECT_EQ(0, shmds_bitset_to_string(b, text, sizeof text, &needed));
    EXPECT_EQ(71u, needed);
    EXPECT_EQ('1', text[69]);
    EXPECT_EQ(0, shmds_bitset_fill_range(b, 0, 2));
    EXPECT_EQ(0, shmds_bitset_zero_range(b, 1, 1));
    EXPECT_EQ(0, shmds_bitset_fill(b));
    EXPECT_EQ(0, shmds_bitset_zero(b));
    const int fd = shmds_bitset_eventfd(b);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(0, shmds_bitset_set_eventfd(b, fd));
    EXPECT_EQ(0, shmds_bitset_notify(b));
    uint64_t count = 0;
    EXPECT_EQ(0, shmds_bitset_eventfd_consume(b, &count));
    shmds_bitset_t *other = nullptr;
    ASSERT_EQ(0, shmds_bitset_open(&o, &other)) << shmds_last_error();
    shmds_bitset_t *ro = nullptr;
    ASSERT_EQ(0, shmds_bitset_open_read_only(&o, &ro)) << shmds_last_error();
    EXPECT_EQ(-EROFS, shmds_bitset_set(ro, 1));
    EXPECT_EQ(0, shmds_bitset_is_frozen(other));
    EXPECT_EQ(0, shmds_bitset_freeze(other));
    EXPECT_EQ(1, shmds_bitset_is_frozen(ro));
    Guarded<shmds_bitset_stats_t> st(sizeof(shmds_bitset_stats_t));
    EXPECT_EQ(0, shmds_bitset_stats(ro, st.get()));
    EXPECT_EQ(1u, st.get()->frozen);
    EXPECT_EQ(1u, st.get()->read_only);
    shmds_bitset_close(ro);
    shmds_bitset_close(other);
    shmds_bitset_close(b);
    ::unlink(path.c_str());
}

TEST(CapiAbiEveryExport, Heap) {
    shmds_heap_config_t cfg;
    ASSERT_EQ(0, shmds_heap_config_init(&cfg, sizeof cfg, SHMDS_TYPE_INT64, 4));
    shmds_heap_t *h = nullptr;
    ASSERT_EQ(0, shmds_heap_create(nullptr, &cfg, &h)) << shmds_last_error();
    EXPECT_EQ(SHMDS_TYPE_INT64, shmds_heap_type(h));
    EXPECT_EQ(0, shmds_heap_is_max(h));
    EXPECT_EQ(-ENOENT, shmds_heap_fd(h));
    EXPECT_EQ(0, shmds_heap_sync(h));
    EXPECT_EQ(0u, shmds_heap_recoveries(h));
    EXPECT_EQ(0, shmds_heap_push_int(h, 2, 20, SHMDS_NOWAIT));
    const int64_t ps[] = {1, 3}, vs[] = {10, 30};
    std::size_t n = 0;
    EXPECT_EQ(0, shmds_heap_push_multi_int(h, ps, vs, 2, &n, SHMDS_NOWAIT));
    int64_t p = 0, v = 0, op[4], ov[4];
    EXPECT_EQ(0, shmds_heap_peek_int(h, &p, &v));
    EXPECT_EQ(10, v);
    EXPECT_EQ(0, shmds_heap_pop_int(h, &p, &v, SHMDS_NOWAIT));
    EXPECT_EQ(0, shmds_heap_pop_multi_int(h, op, ov, 4, &n, SHMDS_NOWAIT));
    EXPECT_EQ(2u, n);
    EXPECT_EQ(0u, shmds_heap_size(h));
    EXPECT_EQ(4u, shmds_heap_capacity(h));
    EXPECT_EQ(1, shmds_heap_is_empty(h));
    EXPECT_EQ(0, shmds_heap_is_full(h));
    EXPECT_EQ(0, shmds_heap_clear(h, nullptr));
    shmds_heap_stats_t st{};
    st.struct_size = sizeof st;
    EXPECT_EQ(0, shmds_heap_stats(h, &st));
    EXPECT_GE(shmds_heap_eventfd(h), 0);
    EXPECT_EQ(0, shmds_heap_notify(h));
    uint64_t c = 0;
    EXPECT_EQ(0, shmds_heap_eventfd_consume(h, &c));
    EXPECT_EQ(0, shmds_heap_set_eventfd(h, -1));
    shmds_heap_close(h);
    // The bytes forms, on a bytes heap.
    cfg = SHMDS_HEAP_CONFIG_INIT(SHMDS_TYPE_BYTES, 4);
    cfg.max_len = 8;
    ASSERT_EQ(0, shmds_heap_create(nullptr, &cfg, &h)) << shmds_last_error();
    EXPECT_EQ(0, shmds_heap_push_bytes(h, 1, "ab", 2, SHMDS_NOWAIT));
    const void *datas[] = {"c", "d"};
    const std::size_t lens[] = {1, 1};
    EXPECT_EQ(0, shmds_heap_push_multi_bytes(h, ps, datas, lens, 2, &n, SHMDS_NOWAIT));
    char buf[16];
    std::size_t len = 0, outl[4];
    EXPECT_EQ(0, shmds_heap_peek_bytes(h, &p, buf, sizeof buf, &len));
    EXPECT_EQ(0, shmds_heap_pop_bytes(h, &p, buf, sizeof buf, &len, SHMDS_NOWAIT));
    EXPECT_EQ(0, shmds_heap_pop_multi_bytes(h, op, buf, sizeof buf, outl, 4, &n, SHMDS_NOWAIT));
    EXPECT_EQ(2u, n);
    shmds_heap_close(h);
    shmds_heap_t *none = nullptr;
    EXPECT_EQ(-EINVAL, shmds_heap_open(nullptr, SHMDS_HEAP_ANY, &none));
}

// The pool's exports, each called once through the shared library.
int pool_abi_visit(uint64_t, int32_t, void *n) {
    ++*static_cast<int *>(n);
    return 0;
}

TEST(CapiAbiPool, EveryExportIsCallable) {
    shmds_pool_config_t c;
    ASSERT_EQ(0, shmds_pool_config_init(&c, sizeof c, SHMDS_TYPE_INT64, 4, 0));
    shmds_pool_t *p = nullptr;
    ASSERT_EQ(0, shmds_pool_create(nullptr, &c, &p)) << shmds_last_error();
    shmds_pool_t *none = nullptr;
    EXPECT_EQ(-EINVAL, shmds_pool_open(nullptr, SHMDS_POOL_ANY, &none));
    EXPECT_EQ(SHMDS_TYPE_INT64, shmds_pool_variant(p));
    EXPECT_EQ(-ENOENT, shmds_pool_fd(p));
    EXPECT_EQ(0, shmds_pool_sync(p));
    uint64_t i = 9, idx[2];
    EXPECT_EQ(0, shmds_pool_alloc(p, SHMDS_NOWAIT, &i));
    EXPECT_EQ(0, shmds_pool_try_alloc(p, &i));
    EXPECT_EQ(0, shmds_pool_alloc_n(p, 2, idx, SHMDS_NOWAIT));
    EXPECT_EQ(0, shmds_pool_free(p, i));
    size_t freed = 0;
    EXPECT_EQ(0, shmds_pool_free_n(p, idx, 2, &freed));
    EXPECT_EQ(2u, freed);
    // The alloc_set verbs: each allocates and stores, then gives the slot back.
    EXPECT_EQ(0, shmds_pool_alloc_set_int(p, -7, SHMDS_NOWAIT, &idx[0]));
    EXPECT_EQ(0, shmds_pool_try_alloc_set_int(p, 7, &idx[1]));
    EXPECT_EQ(0, shmds_pool_free_n(p, idx, 2, &freed));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_pool_alloc_set_uint(p, 1, SHMDS_NOWAIT, &idx[0]));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_pool_try_alloc_set_uint(p, 1, &idx[0]));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_pool_alloc_set_f64(p, 0.5, SHMDS_NOWAIT, &idx[0]));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_pool_try_alloc_set_f64(p, 0.5, &idx[0]));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_pool_alloc_set_bytes(p, "x", 1, SHMDS_NOWAIT, &idx[0]));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_pool_try_alloc_set_bytes(p, "x", 1, &idx[0]));
    EXPECT_EQ(1, shmds_pool_is_allocated(p, 0) + shmds_pool_is_allocated(p, 1) +
                     shmds_pool_is_allocated(p, 2) + shmds_pool_is_allocated(p, 3));
    int32_t pid = 0;
    EXPECT_EQ(0, shmds_pool_owner(p, 0, &pid));
    EXPECT_EQ(1u, shmds_pool_used(p));
    EXPECT_EQ(3u, shmds_pool_available(p));
    EXPECT_EQ(4u, shmds_pool_capacity(p));
    EXPECT_EQ(8u, shmds_pool_elem_size(p));
    EXPECT_EQ(0u, shmds_pool_max_len(p));
    int seen = 0;
    EXPECT_EQ(0, shmds_pool_each_allocated(p, &pool_abi_visit, &seen));
    EXPECT_EQ(1, seen);
    uint64_t list[4];
    size_t n = 0;
    EXPECT_EQ(0, shmds_pool_allocated(p, list, 4, &n));
    EXPECT_EQ(1u, n);
    int64_t v = 0;
    EXPECT_EQ(0, shmds_pool_set_int(p, 1, 5));
    EXPECT_EQ(0, shmds_pool_get_int(p, 1, &v));
    EXPECT_EQ(0, shmds_pool_cas_int(p, 1, 5, 6, &v));
    EXPECT_EQ(0, shmds_pool_exchange_int(p, 1, 7, &v));
    EXPECT_EQ(0, shmds_pool_add_int(p, 1, 3, &v));
    EXPECT_EQ(0, shmds_pool_incr_int(p, 1, &v));
    EXPECT_EQ(0, shmds_pool_decr_int(p, 1, &v));
    EXPECT_EQ(10, v);
    EXPECT_NE(nullptr, shmds_pool_data_ptr(p));
    EXPECT_NE(nullptr, shmds_pool_slot_ptr(p, 3));
    uint64_t u = 0;
    EXPECT_EQ(0, shmds_pool_reset(p, &u));
    EXPECT_EQ(0, shmds_pool_recover_stale(p, &u));
    EXPECT_EQ(0u, shmds_pool_recoveries(p));
    shmds_pool_stats_t st{};
    st.struct_size = sizeof st;
    EXPECT_EQ(0, shmds_pool_stats(p, &st));
    EXPECT_EQ(4u, st.capacity);
    const int fd = shmds_pool_eventfd(p);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(0, shmds_pool_set_eventfd(p, fd));
    EXPECT_EQ(0, shmds_pool_notify(p));
    EXPECT_EQ(0, shmds_pool_eventfd_consume(p, &u));
    shmds_pool_close(p);

    ASSERT_EQ(0, shmds_pool_config_init(&c, sizeof c, SHMDS_TYPE_UINT64, 1, 0));
    ASSERT_EQ(0, shmds_pool_create(nullptr, &c, &p));
    EXPECT_EQ(0, shmds_pool_set_uint(p, 0, 5));
    EXPECT_EQ(0, shmds_pool_get_uint(p, 0, &u));
    EXPECT_EQ(0, shmds_pool_cas_uint(p, 0, 5, 6, &u));
    EXPECT_EQ(0, shmds_pool_exchange_uint(p, 0, 7, &u));
    EXPECT_EQ(0, shmds_pool_add_uint(p, 0, 3, &u));
    EXPECT_EQ(0, shmds_pool_incr_uint(p, 0, &u));
    EXPECT_EQ(0, shmds_pool_decr_uint(p, 0, &u));
    EXPECT_EQ(10u, u);
    shmds_pool_close(p);

    ASSERT_EQ(0, shmds_pool_config_init(&c, sizeof c, SHMDS_TYPE_F64, 1, 0));
    ASSERT_EQ(0, shmds_pool_create(nullptr, &c, &p));
    double d = 0;
    EXPECT_EQ(0, shmds_pool_set_f64(p, 0, 2.5));
    EXPECT_EQ(0, shmds_pool_get_f64(p, 0, &d));
    EXPECT_EQ(2.5, d);
    shmds_pool_close(p);

    ASSERT_EQ(0, shmds_pool_config_init(&c, sizeof c, SHMDS_TYPE_BYTES, 1, 4));
    ASSERT_EQ(0, shmds_pool_create(nullptr, &c, &p));
    char buf[8];
    size_t len = 0;
    EXPECT_EQ(0, shmds_pool_set_bytes(p, 0, "a\0b", 3));
    EXPECT_EQ(0, shmds_pool_get_bytes(p, 0, buf, sizeof buf, &len));
    EXPECT_EQ(3u, len);
    shmds_pool_close(p);

    ASSERT_EQ(0, shmds_pool_config_init(&c, sizeof c, SHMDS_POOL_RAW, 1, 3));
    ASSERT_EQ(0, shmds_pool_create(nullptr, &c, &p));
    EXPECT_EQ(0, shmds_pool_set_raw(p, 0, "xyz", 3));
    EXPECT_EQ(0, shmds_pool_get_raw(p, 0, buf, sizeof buf));
    EXPECT_EQ(0, std::memcmp("xyz", buf, 3));
    shmds_pool_close(p);
}

TEST(CapiAbiEveryExport, EveryMapEntryIsExportedByTheSoAndCalledAbove) {
    const std::set<std::string> names = map_exports();
    ASSERT_GT(names.size(), 100u) << "SHMDS_MAP not set or unreadable";
    const char *source_path = std::getenv("SHMDS_ABI_TEST_SOURCE");
    ASSERT_NE(nullptr, source_path);
    std::ifstream src(source_path);
    const std::string source((std::istreambuf_iterator<char>(src)),
                             std::istreambuf_iterator<char>());
    ASSERT_FALSE(source.empty());
    Dl_info info;
    for (const std::string &name : names) {
        void *sym = dlsym(RTLD_DEFAULT, name.c_str());
        ASSERT_NE(nullptr, sym) << name << " is in the map but not exported";
        ASSERT_NE(0, dladdr(sym, &info));
        EXPECT_NE(nullptr, std::strstr(info.dli_fname, "libshmds.so")) << name;
        EXPECT_NE(std::string::npos, source.find(name + "(")) << name << " is never called";
    }
}

}  // namespace
