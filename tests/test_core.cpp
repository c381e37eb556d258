// Core: version, error codes and sentences, owner identity, wait points, robust lock,
// eventfd, descriptor passing.
#include "support/proc.hpp"

#include "core/error.hpp"

#include <shmds/shmds.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

using namespace shmds::test;

TEST(Version, MatchesHeaderMacros) {
    std::string expected = std::to_string(SHMDS_VERSION_MAJOR) + "." +
                           std::to_string(SHMDS_VERSION_MINOR) + "." +
                           std::to_string(SHMDS_VERSION_PATCH);
    EXPECT_EQ(expected, shmds_version());
    EXPECT_EQ(SHMDS_VERSION_NUMBER, shmds_version_number());
}

TEST(Errors, EveryLibraryCodeHasANameAndText) {
    const int codes[] = {0,           -EAGAIN,     -ETIMEDOUT,     -EINVAL,          -ENOSPC,
                         -E2BIG,      -ENOBUFS,    -EEXIST,        -ENOENT,          -EACCES,
                         -ERANGE,     SHMDS_ETYPE, SHMDS_EVERSION, SHMDS_ECORRUPT,   SHMDS_EOWNERDEAD,
                         SHMDS_EVARIANT};
    for (int c : codes) {
        EXPECT_STRNE("UNKNOWN", shmds_errname(c)) << c;
        EXPECT_STRNE("unknown error", shmds_strerror(c)) << c;
    }
    EXPECT_STREQ("SHMDS_ETYPE", shmds_errname(SHMDS_ETYPE));
    EXPECT_STREQ("UNKNOWN", shmds_errname(-99999));
    EXPECT_STREQ("unknown error", shmds_strerror(12345));
}

TEST(Errors, LastErrorIsThreadLocalAndDescribesTheFailure) {
    EXPECT_EQ(-ENOENT, shmds_unlink("/dev/shm/shmds-test-definitely-missing"));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "definitely-missing"));
    std::string other;
    std::thread([&] { other = shmds_last_error(); }).join();
    EXPECT_EQ("", other);
}
