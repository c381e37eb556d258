// The hash map's opt-in eventfd through the C API (hashmap.h, "eventfd"; the library's
// rule in common.h, "Eventfds"), mirroring the queue's tests: only notify signals it,
// consume reads and resets, set_eventfd duplicates the caller's fd and replaces (and
// closes) the handle's own, the handle closes what it owns and nothing else, creation
// failures are reported, a fork() child signals through the inherited eventfd, and the
// eventfd belongs to the handle, not to the shared map.
#include "hashmap_helpers.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace shmds::test;
using namespace shmds::test::hm;

namespace {

constexpr int I64 = SHMDS_TYPE_INT64, BYTES = SHMDS_TYPE_BYTES;

bool fd_is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

// Whether the eventfd has a pending count (without consuming it).
bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, 0) == 1;
}

TEST(HashMapEventfd, NullHandlesAreRefused) {
    std::uint64_t count = 0;
    EXPECT_EQ(-EINVAL, shmds_hashmap_eventfd(nullptr));
    EXPECT_EQ(-EINVAL, shmds_hashmap_set_eventfd(nullptr, -1));
    EXPECT_EQ(-EINVAL, shmds_hashmap_notify(nullptr));
    EXPECT_EQ(-EINVAL, shmds_hashmap_eventfd_consume(nullptr, &count));
}

TEST(HashMapEventfd, SignallingIsExplicitAndConsumeResets) {
    MapPtr m = make_map(I64, I64, 64);
    std::uint64_t count = 0;
    EXPECT_EQ(-ENOENT, shmds_hashmap_notify(m.get()));
    EXPECT_EQ(-ENOENT, shmds_hashmap_eventfd_consume(m.get(), &count));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "eventfd"));

    const int efd = shmds_hashmap_eventfd(m.get());
    ASSERT_GE(efd, 0);
    EXPECT_EQ(efd, shmds_hashmap_eventfd(m.get())) << "created once, then the same fd";
    EXPECT_TRUE(fcntl(efd, F_GETFD) & FD_CLOEXEC);
    EXPECT_TRUE(fcntl(efd, F_GETFL) & O_NONBLOCK);

    // Every kind of writer, and the whole-map verbs: none signals by itself.
    std::int64_t v = 0;
    std::uint64_t n = 0;
    ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), 1, 10));
    ASSERT_EQ(0, shmds_hashmap_incr_i(m.get(), 2, &v));
    ASSERT_EQ(0, shmds_hashmap_cas_ii(m.get(), 1, 10, 11));
    ASSERT_EQ(0, shmds_hashmap_remove_i(m.get(), 2));
    ASSERT_EQ(0, shmds_hashmap_get_ii(m.get(), 1, &v));
    ASSERT_EQ(0, shmds_hashmap_reserve(m.get(), 32));
    ASSERT_EQ(0, shmds_hashmap_clear(m.get(), &n));
    EXPECT_FALSE(readable(efd)) << "a verb signalled the eventfd by itself";
    EXPECT_EQ(-EAGAIN, shmds_hashmap_eventfd_consume(m.get(), &count));

    ASSERT_EQ(0, shmds_hashmap_notify(m.get()));
    ASSERT_EQ(0, shmds_hashmap_notify(m.get()));
    EXPECT_TRUE(readable(efd));
    ASSERT_EQ(0, shmds_hashmap_eventfd_consume(m.get(), &count));
    EXPECT_EQ(2u, count);
    EXPECT_EQ(-EAGAIN, shmds_hashmap_eventfd_consume(m.get(), &count));
    ASSERT_EQ(0, shmds_hashmap_notify(m.get()));
    EXPECT_EQ(0, shmds_hashmap_eventfd_consume(m.get(), nullptr)) << "count is optional";
}

TEST(HashMapEventfd, SetDuplicatesTheCallersFdAndMinusOneDetaches) {
    MapPtr m = make_map(BYTES, BYTES, 64);
    const int mine = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ASSERT_GE(mine, 0);
    ASSERT_EQ(0, shmds_hashmap_set_eventfd(m.get(), mine));
    const int theirs = shmds_hashmap_eventfd(m.get());
    EXPECT_NE(mine, theirs);
    ASSERT_EQ(0, shmds_hashmap_set_eventfd(m.get(), theirs)) << "its own fd: a no-op";
    EXPECT_EQ(theirs, shmds_hashmap_eventfd(m.get()));
    ASSERT_EQ(0, shmds_hashmap_notify(m.get()));
    std::uint64_t value = 0;
    ASSERT_EQ(ssize_t(sizeof value), read(mine, &value, sizeof value)) << "same eventfd object";
    EXPECT_EQ(1u, value);

    ASSERT_EQ(0, shmds_hashmap_set_eventfd(m.get(), -1));
    EXPECT_EQ(-ENOENT, shmds_hashmap_notify(m.get()));
    EXPECT_FALSE(fd_is_open(theirs)) << "the handle's duplicate is closed on detach";
    EXPECT_TRUE(fd_is_open(mine)) << "the caller's fd stays open";

    EXPECT_EQ(-EBADF, shmds_hashmap_set_eventfd(m.get(), -7));
    const int closed = dup(mine);
    close(closed);
    EXPECT_EQ(-EBADF, shmds_hashmap_set_eventfd(m.get(), closed));
    int pipe_fds[2];
    ASSERT_EQ(0, pipe2(pipe_fds, O_CLOEXEC));
    EXPECT_EQ(-EINVAL, shmds_hashmap_set_eventfd(m.get(), pipe_fds[0])) << "not an eventfd";
    EXPECT_EQ(-ENOENT, shmds_hashmap_notify(m.get())) << "a refused set changes nothing";
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    close(mine);
}

// Who closes what: the handle closes the eventfd it created (on replace and on close)
// and its duplicates of callers' fds, never a caller's own descriptor.
TEST(HashMapEventfd, TheHandleClosesWhatItOwnsAndNothingElse) {
    MapPtr m = make_map(I64, I64, 64);
    const int created = shmds_hashmap_eventfd(m.get());
    ASSERT_GE(created, 0);
    const int mine = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ASSERT_GE(mine, 0);
    ASSERT_EQ(0, shmds_hashmap_set_eventfd(m.get(), mine));
    EXPECT_FALSE(fd_is_open(created)) << "set_eventfd replaced the handle's own eventfd";
    const int dup_of_mine = shmds_hashmap_eventfd(m.get());
    ASSERT_GE(dup_of_mine, 0);
    EXPECT_NE(mine, dup_of_mine);
    // The caller may close its fd at once: the handle keeps signalling its duplicate.
    ASSERT_EQ(0, shmds_hashmap_notify(m.get()));
    const int mine_again = dup(mine);
    close(mine);
    ASSERT_EQ(0, shmds_hashmap_notify(m.get()));
    std::uint64_t count = 0;
    ASSERT_EQ(0, shmds_hashmap_eventfd_consume(m.get(), &count));
    EXPECT_EQ(2u, count);

    m.reset();  // shmds_hashmap_close
    EXPECT_FALSE(fd_is_open(dup_of_mine)) << "close left the handle's eventfd open";
    EXPECT_TRUE(fd_is_open(mine_again)) << "close closed a descriptor it does not own";
    close(mine_again);
}

// The eventfd is the handle's, not the map's: another handle of the same map has none
// until it is given one, and then a notify there reaches this handle's poller.
TEST(HashMapEventfd, EachHandleHasItsOwnUntilOneIsShared) {
    TempPath path("hm-evfd");
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = path.c_str();
    MapPtr a = make_map(I64, I64, 64, 1, 0, &o);
    shmds_hashmap_t *raw = nullptr;
    ASSERT_EQ(0, shmds_hashmap_open(&o, I64, I64, &raw)) << shmds_last_error();
    MapPtr b(raw);
    const int efd = shmds_hashmap_eventfd(a.get());
    ASSERT_GE(efd, 0);
    EXPECT_EQ(-ENOENT, shmds_hashmap_notify(b.get())) << "another handle has no eventfd";
    ASSERT_EQ(0, shmds_hashmap_put_ii(b.get(), 1, 1));
    EXPECT_FALSE(readable(efd));

    ASSERT_EQ(0, shmds_hashmap_set_eventfd(b.get(), efd));
    EXPECT_NE(efd, shmds_hashmap_eventfd(b.get())) << "b holds a duplicate";
    ASSERT_EQ(0, shmds_hashmap_notify(b.get()));
    std::uint64_t count = 0;
    ASSERT_EQ(0, shmds_hashmap_eventfd_consume(a.get(), &count));
    EXPECT_EQ(1u, count);
    b.reset();
    EXPECT_TRUE(fd_is_open(efd)) << "closing b closed a's eventfd";
    ASSERT_EQ(0, shmds_hashmap_notify(a.get()));
}

// A frozen map opened read-only can do nothing shared, but its handle still has an
// eventfd (nothing of it lives in the segment).
TEST(HashMapEventfd, AReadOnlyHandleHasOneToo) {
    TempPath path("hm-evfd-ro");
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = path.c_str();
    MapPtr m = make_map(I64, I64, 64, 1, 0, &o);
    ASSERT_EQ(0, shmds_hashmap_freeze(m.get()));
    m.reset();
    shmds_hashmap_t *raw = nullptr;
    ASSERT_EQ(0, shmds_hashmap_open_read_only(&o, I64, I64, &raw)) << shmds_last_error();
    MapPtr ro(raw);
    ASSERT_GE(shmds_hashmap_eventfd(ro.get()), 0);
    ASSERT_EQ(0, shmds_hashmap_notify(ro.get()));
    std::uint64_t count = 0;
    ASSERT_EQ(0, shmds_hashmap_eventfd_consume(ro.get(), &count));
    EXPECT_EQ(1u, count);
}

TEST(HashMapEventfd, CreationFailureIsReportedNotHidden) {
    MapPtr m = make_map(I64, I64, 64);
    expect_eventfd_creation_fails([&] { return shmds_hashmap_eventfd(m.get()); },
                                  [&] { return shmds_hashmap_notify(m.get()); });
}

TEST(HashMapEventfd, AChildNotifiesThroughTheInheritedEventfd) {
    MapPtr m = make_map(I64, I64, 64);
    const int efd = shmds_hashmap_eventfd(m.get());
    ASSERT_GE(efd, 0);
    run_child_ok([&] {
        CHILD_CHECK(shmds_hashmap_put_ii(m.get(), 5, 50) == 0);
        CHILD_CHECK(shmds_hashmap_notify(m.get()) == 0);
        return 0;
    });
    pollfd p{efd, POLLIN, 0};
    EXPECT_EQ(1, poll(&p, 1, 1000));
    std::uint64_t count = 0;
    EXPECT_EQ(0, shmds_hashmap_eventfd_consume(m.get(), &count));
    EXPECT_EQ(1u, count);
    EXPECT_EQ(50, get_ii(m.get(), 5));
}

}  // namespace
