// What every handle offers beside its verbs: a memfd segment sealed against shrinking
// and growing, the eventfd verbs as the headers document them, and a stats call that
// honours the caller's struct_size.
#include "conformance_test.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

using namespace shmds::conformance;
using namespace shmds::test;

namespace {

class MemfdSeals : public EntryTest {};

TEST_P(MemfdSeals, ShrinkAndGrowAreSealed) {
    shmds_options_t mo = memfd_options("conformance-seals");
    Opened h(s());
    ASSERT_OK(s().create(&mo, h.out()));
    const int fd = s().fd(h.get());
    ASSERT_GE(fd, 0) << describe(fd);
    const int seals = fcntl(fd, F_GET_SEALS);
    ASSERT_GE(seals, 0) << std::strerror(errno);
    EXPECT_TRUE(seals & F_SEAL_SHRINK) << "seals 0x" << std::hex << seals;
    EXPECT_TRUE(seals & F_SEAL_GROW) << "seals 0x" << std::hex << seals;
    EXPECT_NE(0, ftruncate(fd, 0)) << "a sealed memfd was shrunk";
}

CONFORMANCE_INSTANTIATE(MemfdSeals);

// ------------------------------------------------------------------ eventfd

class Eventfds : public EntryTest {};

bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

// What each header says about its eventfd verbs: _eventfd creates the handle's eventfd
// on first call (non-blocking, close-on-exec) and returns the same one after; notify
// adds 1 (-ENOENT while there is none); consume reads and resets the counter (-EAGAIN
// when nothing is pending, -ENOENT while there is none); set_eventfd uses a duplicate of
// the caller's fd (setting the one in use is a no-op), -1 detaches, a closed fd is
// -EBADF. Only the verb the header names signals it on its own (EventfdOps).
void check_eventfd(const Structure &s, const EventfdOps &ev) {
    TempPath path("cf-ev");
    shmds_options_t po = path_options(path);
    Opened a(s), b(s);
    ASSERT_OK(s.create(&po, a.out()));
    ASSERT_OK(s.open(&po, b.out()));
    Handle h = a.get();
    std::uint64_t count = 0;

    EXPECT_EQ(-ENOENT, ev.notify(h)) << "notify before any eventfd";
    EXPECT_EQ(-ENOENT, ev.consume(h, &count)) << "consume before any eventfd";

    const int fd = ev.get(h);
    ASSERT_GE(fd, 0) << describe(fd);
    EXPECT_EQ(fd, ev.get(h)) << "a second call made another eventfd";
    EXPECT_TRUE(fcntl(fd, F_GETFL) & O_NONBLOCK);
    EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    EXPECT_EQ(-EAGAIN, ev.consume(h, &count)) << "pending before any notify";
    EXPECT_FALSE(readable(fd));

    EXPECT_OK(ev.notify(h));
    EXPECT_TRUE(readable(fd)) << "notify left the eventfd unreadable";
    EXPECT_OK(ev.consume(h, &count));
    EXPECT_EQ(1u, count);
    EXPECT_FALSE(readable(fd)) << "consume did not reset the counter";
    EXPECT_EQ(-EAGAIN, ev.consume(h, &count));
    EXPECT_OK(ev.notify(h));
    EXPECT_OK(ev.notify(h));
    EXPECT_OK(ev.consume(h, nullptr));  // count is optional
    EXPECT_FALSE(readable(fd));

    if (ev.signalling_verb) {
        EXPECT_OK(ev.signalling_verb(h));
        EXPECT_TRUE(readable(fd)) << "the verb the header says signals did not";
        EXPECT_OK(ev.consume(h, &count));
        EXPECT_GE(count, 1u);
    }
    if (ev.quiet_verb) {
        EXPECT_OK(ev.quiet_verb(h));
        EXPECT_FALSE(readable(fd)) << "a verb signalled the eventfd by itself (common.h: only "
                                      "notify does)";
    }
    // The structure's ordinary write is not documented to signal: it must not.
    EXPECT_OK(s.write(h));
    EXPECT_FALSE(readable(fd)) << "write() signalled the eventfd by itself";
    EXPECT_EQ(-EAGAIN, ev.consume(h, &count));

    // Setting the eventfd the handle already uses changes nothing.
    EXPECT_OK(ev.set(h, fd));
    EXPECT_EQ(fd, ev.get(h));
    EXPECT_OK(ev.notify(h));
    EXPECT_TRUE(readable(fd)) << "re-setting its own eventfd broke it";
    EXPECT_OK(ev.consume(h, nullptr));

    // The documented way to share one eventfd: attach it to another handle, whose
    // notify then wakes the first handle's poller. The caller keeps its own fd.
    EXPECT_OK(ev.set(b.get(), fd));
    const int b_fd = ev.get(b.get());
    EXPECT_GE(b_fd, 0);
    EXPECT_NE(fd, b_fd) << "set_eventfd took the caller's fd instead of a duplicate";
    EXPECT_OK(ev.notify(b.get()));
    EXPECT_OK(ev.consume(h, &count));
    EXPECT_EQ(1u, count) << "the other handle's notify did not reach the shared eventfd";

    // A caller's own eventfd: the handle keeps working after the caller closes it.
    int mine = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    ASSERT_GE(mine, 0);
    EXPECT_OK(ev.set(h, mine));
    EXPECT_OK(ev.notify(h));
    std::uint64_t seen = 0;
    EXPECT_EQ(ssize_t(sizeof seen), ::read(mine, &seen, sizeof seen)) << "set did not attach it";
    EXPECT_EQ(1u, seen);
    ::close(mine);
    EXPECT_OK(ev.notify(h));
    EXPECT_OK(ev.consume(h, &count));
    EXPECT_EQ(1u, count);

    EXPECT_EQ(-EBADF, ev.set(h, mine)) << "a closed descriptor";
    EXPECT_OK(ev.set(h, -1));
    EXPECT_EQ(-ENOENT, ev.notify(h)) << "notify after detaching";
    EXPECT_EQ(-ENOENT, ev.consume(h, &count)) << "consume after detaching";
    const int fresh = ev.get(h);
    EXPECT_GE(fresh, 0) << "no new eventfd after detaching";
}

TEST_P(Eventfds, FollowTheHeader) {
    for (const EventfdOps &ev : s().eventfds) {
        SCOPED_TRACE(ev.channel.empty() ? "eventfd" : ev.channel + " eventfd");
        check_eventfd(s(), ev);
    }
}

CONFORMANCE_INSTANTIATE_IF(Eventfds, [](const Structure &s) { return !s.eventfds.empty(); });

// -------------------------------------------------------------------- stats

class Stats : public EntryTest {};

constexpr unsigned char kGuard = 0xA5;
constexpr std::size_t kGuardBytes = 64;

// A caller's struct of `struct_size` bytes followed by guard bytes; fill() is called on
// it. Returns the code; `buf` holds the result.
int fill_stats(const Structure &s, Handle h, std::size_t struct_size, std::vector<unsigned char> &buf) {
    buf.assign(std::max(struct_size, sizeof(std::size_t)) + kGuardBytes, kGuard);
    std::memcpy(buf.data(), &struct_size, sizeof struct_size);
    return s.stats->fill(h, buf.data());
}

bool untouched(const std::vector<unsigned char> &buf, std::size_t from) {
    for (std::size_t i = from; i < buf.size(); ++i)
        if (buf[i] != kGuard) return false;
    return true;
}

TEST_P(Stats, StructSizeIsHonoured) {
    const StatsOps &st = *s().stats;
    ASSERT_LE(st.v1_size, st.size);
    Opened h(s());
    ASSERT_OK(s().create(nullptr, h.out()));
    std::vector<unsigned char> buf;

    // Smaller than the first version: refused, nothing written.
    for (std::size_t size : {std::size_t(0), sizeof(std::size_t), st.v1_size - 1}) {
        SCOPED_TRACE("struct_size " + std::to_string(size));
        int r = fill_stats(s(), h.get(), size, buf);
        EXPECT_EQ(-EINVAL, r) << describe(r);
        EXPECT_TRUE(untouched(buf, sizeof(std::size_t))) << "a refused call wrote";
    }

    // An older caller's struct (the first version): filled, nothing past its end.
    ASSERT_OK(fill_stats(s(), h.get(), st.v1_size, buf));
    EXPECT_FALSE(untouched(std::vector<unsigned char>(buf.begin(), buf.begin() + st.v1_size),
                           sizeof(std::size_t)))
        << "nothing was filled";
    EXPECT_TRUE(untouched(buf, st.v1_size))
        << "wrote past a struct_size of " << st.v1_size << " (the caller's struct ends there)";

    // A newer caller's struct: filled up to our version, the fields this library does not
    // know zeroed (so the caller reads 0, never its own garbage), nothing past its end.
    ASSERT_OK(fill_stats(s(), h.get(), st.size + 32, buf));
    for (std::size_t i = st.size; i < st.size + 32; ++i)
        ASSERT_EQ(0, buf[i]) << "byte " << i << " of a newer caller's struct was not zeroed";
    EXPECT_TRUE(untouched(buf, st.size + 32)) << "wrote past the caller's struct_size";
}

CONFORMANCE_INSTANTIATE_IF(Stats, [](const Structure &s) { return s.stats.has_value(); });

}  // namespace
