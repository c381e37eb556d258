// Every structure, every backing (common.h): two handles of one segment share its state.
// ANON with a fork() child, PATH through _open and through _create, a MEMFD reached
// through its descriptor in this process, and that descriptor passed to an unrelated
// process (tests/conformance/peer.cpp) which attaches with SHMDS_BACKING_FD.
#include "conformance_test.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

extern char **environ;

using namespace shmds::conformance;
using namespace shmds::test;

namespace {

class Backings : public EntryTest {};

// Wait up to 10 s for one byte on `fd`; '\0' if none came.
char read_byte(int fd) {
    pollfd p{fd, POLLIN, 0};
    char c = 0;
    if (poll(&p, 1, 10000) == 1 && ::read(fd, &c, 1) == 1) return c;
    return 0;
}

TEST_P(Backings, AnonymousIsSharedWithAForkChild) {
    Opened a(s());
    ASSERT_OK(s().create(nullptr, a.out()));
    EXPECT_EQ(-ENOENT, s().fd(a.get())) << "an anonymous segment has no descriptor";

    // The child writes through the handle it inherited and stays alive (it may own what
    // it wrote, e.g. a lock) until the parent has looked. Writing in the child, not
    // before the fork, is what tells a shared mapping from a private copy.
    int written[2], looked[2];
    ASSERT_EQ(0, pipe2(written, O_CLOEXEC));
    ASSERT_EQ(0, pipe2(looked, O_CLOEXEC));
    const Structure &st = s();
    Handle h = a.get();
    pid_t pid = fork_child([&] {
        int r = st.write(h);
        if (r != 0) fprintf(stderr, "child: write: %s\n", describe(r).c_str());
        char c = r == 0 ? 'w' : 'x';
        CHILD_CHECK(::write(written[1], &c, 1) == 1);
        read_byte(looked[0]);
        return r == 0 ? 0 : 1;
    });
    ::close(written[1]);
    ::close(looked[0]);
    EXPECT_EQ('w', read_byte(written[0])) << "the child could not write";
    int r = st.read(h);
    EXPECT_EQ(0, r) << "the parent does not see the child's write: " << describe(r);
    EXPECT_EQ(1, ::write(looked[1], "k", 1));
    ChildExit e = wait_child(pid, 10s);
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
    ::close(written[0]);
    ::close(looked[1]);
}

// A second handle reaches a path segment both ways: _open, and _create of the same
// structure on an existing path (which attaches, its geometry winning).
TEST_P(Backings, PathIsSharedThroughOpenAndCreate) {
    for (const char *how : {"open", "create"}) {
        SCOPED_TRACE(how);
        TempPath path("cf");
        shmds_options_t po = path_options(path);
        Opened a(s()), b(s());
        ASSERT_OK(s().create(&po, a.out()));
        const bool by_open = std::strcmp(how, "open") == 0;
        ASSERT_OK(by_open ? s().open(&po, b.out()) : s().create(&po, b.out()));
        EXPECT_GE(s().fd(a.get()), 0);
        ASSERT_OK(s().write(a.get()));
        EXPECT_OK(s().read(b.get()));
    }
}

TEST_P(Backings, MemfdIsReachedThroughItsDescriptor) {
    shmds_options_t mo = memfd_options("conformance");
    Opened a(s()), b(s());
    ASSERT_OK(s().create(&mo, a.out()));
    const int fd = s().fd(a.get());
    ASSERT_GE(fd, 0) << describe(fd);
    shmds_options_t fo = fd_options(fd);
    ASSERT_OK(s().open(&fo, b.out()));
    // common.h: the library duplicates a descriptor it is given; the caller keeps its own.
    EXPECT_GE(s().fd(b.get()), 0);
    EXPECT_NE(fd, s().fd(b.get()));
    ASSERT_OK(s().write(a.get()));
    EXPECT_OK(s().read(b.get()));
}

// tests/conformance/peer.cpp, built beside this suite; meson passes its path.
std::string peer_path() {
    if (const char *env = std::getenv("SHMDS_CONFORMANCE_PEER"); env && *env) return env;
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return "";
    std::string dir(self, size_t(n));
    return dir.substr(0, dir.rfind('/')) + "/conformance_peer";
}

TEST_P(Backings, MemfdDescriptorReachesAnUnrelatedProcess) {
    const std::string peer = peer_path();
    ASSERT_EQ(0, access(peer.c_str(), X_OK))
        << "conformance_peer not found at '" << peer << "' (set SHMDS_CONFORMANCE_PEER)";
    shmds_options_t mo = memfd_options("conformance-peer");
    Opened a(s());
    ASSERT_OK(s().create(&mo, a.out()));
    ASSERT_OK(s().write(a.get()));

    TempPath sock_path("sock");
    int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(listener, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    ASSERT_LT(sock_path.str().size(), sizeof addr.sun_path);
    std::strcpy(addr.sun_path, sock_path.c_str());
    ASSERT_EQ(0, bind(listener, reinterpret_cast<sockaddr *>(&addr), sizeof addr));
    ASSERT_EQ(0, listen(listener, 1));

    // posix_spawn, not fork: the peer shares nothing with us but the socket path.
    pid_t pid = -1;
    std::string name = s().name;
    char *argv[] = {const_cast<char *>(peer.c_str()), const_cast<char *>(name.c_str()),
                    const_cast<char *>(sock_path.c_str()), nullptr};
    ASSERT_EQ(0, posix_spawn(&pid, peer.c_str(), nullptr, nullptr, argv, environ));
    pollfd p{listener, POLLIN, 0};
    if (poll(&p, 1, 10000) == 1) {
        int conn = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        EXPECT_GE(conn, 0);
        EXPECT_OK(shmds_send_fd(conn, s().fd(a.get())));
        ::close(conn);
    } else {
        ADD_FAILURE() << "the peer never connected";
    }
    ::close(listener);
    ChildExit e = wait_child(pid, 10s);
    EXPECT_TRUE(e.exited && e.code == 0) << "conformance_peer " << e.describe();
}

CONFORMANCE_INSTANTIATE(Backings);

}  // namespace
