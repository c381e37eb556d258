// Segment lifecycle through the queue API (DESIGN.md §3): the four backings, secure
// create (exclusive, exact mode, no symlinks, sealed memfds, no SIGBUS on a full
// tmpfs), racing creators, interrupted creates, and the refusal of every header that
// does not describe exactly what this build would have made.
#include "support/proc.hpp"

#include "core/header.hpp"
#include "queue/layout.hpp"

#include <shmds/shmds.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <new>
#include <random>
#include <sched.h>
#include <string>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace shmds::test;
using shmds::core::SegmentHeader;

namespace {

using Bytes = std::vector<std::uint8_t>;

shmds_options_t path_options(const char *path, std::uint32_t mode = 0, std::uint32_t flags = 0) {
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = path;
    o.mode = mode;
    o.flags = flags;
    return o;
}

int create_queue(const shmds_options_t *opts, int variant, std::uint64_t capacity,
                 shmds_queue_t **out) {
    shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(variant, capacity);
    return shmds_queue_create(opts, &cfg, out);
}

int open_path(const char *path, int variant, shmds_queue_t **out) {
    shmds_options_t o = path_options(path);
    return shmds_queue_open(&o, variant, out);
}

Bytes read_file(const char *path) {
    Bytes out;
    FILE *f = std::fopen(path, "rbe");
    if (!f) return out;
    std::uint8_t buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + n);
    std::fclose(f);
    return out;
}

// Replace the file's contents (keeping its inode, owner and mode).
void write_file(const char *path, const Bytes &data) {
    int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0) << path << ": " << std::strerror(errno);
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        ASSERT_GT(n, 0) << std::strerror(errno);
        done += size_t(n);
    }
    ::close(fd);
}

template <typename T>
void patch(Bytes &image, size_t offset, T value) {
    std::memcpy(image.data() + offset, &value, sizeof value);
}

mode_t file_mode(const char *path) {
    struct stat st;
    return ::stat(path, &st) == 0 ? (st.st_mode & 07777) : mode_t(-1);
}

bool mentions(const char *needle) { return std::strstr(shmds_last_error(), needle) != nullptr; }

// Sets the process umask for one scope.
class UmaskScope {
public:
    explicit UmaskScope(mode_t m) : old_(::umask(m)) {}
    ~UmaskScope() { ::umask(old_); }

private:
    mode_t old_;
};

}  // namespace

// ---------------------------------------------------------------------------------
// Backings

TEST(Backing, AnonymousIsSharedWithAForkChild) {
    shmds_queue_t *q = nullptr;
    ASSERT_EQ(0, create_queue(nullptr, SHMDS_QUEUE_INT32, 8, &q)) << shmds_last_error();
    EXPECT_EQ(-ENOENT, shmds_queue_fd(q)) << "an anonymous segment has no descriptor";
    ASSERT_EQ(0, shmds_queue_push_int(q, 10, SHMDS_NOWAIT));
    run_child_ok([&] {
        std::int64_t v = 0;
        CHILD_CHECK(shmds_queue_pop_int(q, &v, SHMDS_NOWAIT) == 0 && v == 10);
        for (int i = 1; i <= 3; ++i) CHILD_CHECK(shmds_queue_push_int(q, i, SHMDS_NOWAIT) == 0);
        return 0;
    });
    for (int i = 1; i <= 3; ++i) {
        std::int64_t v = 0;
        ASSERT_EQ(0, shmds_queue_pop_int(q, &v, SHMDS_NOWAIT));
        EXPECT_EQ(i, v);
    }
    shmds_queue_close(q);

    shmds_options_t explicit_anon = SHMDS_OPTIONS_INIT;
    ASSERT_EQ(0, create_queue(&explicit_anon, SHMDS_QUEUE_INT16, 4, &q)) << shmds_last_error();
    EXPECT_EQ(4u, shmds_queue_capacity(q));
    shmds_queue_close(q);
}

TEST(Backing, PathReopenTakesTheGeometryFromTheFile) {
    TempPath path("reopen");
    shmds_options_t o = path_options(path.c_str());
    shmds_queue_t *q = nullptr;
    ASSERT_EQ(0, create_queue(&o, SHMDS_QUEUE_INT64, 16, &q)) << shmds_last_error();
    ASSERT_EQ(0, shmds_queue_push_int(q, 5, SHMDS_NOWAIT));
    ASSERT_EQ(0, shmds_queue_push_int(q, 6, SHMDS_NOWAIT));
    shmds_queue_stats_t st{};
    st.struct_size = sizeof st;
    ASSERT_EQ(0, shmds_queue_stats(q, &st));
    shmds_queue_close(q);
    struct stat fs;
    ASSERT_EQ(0, ::stat(path.c_str(), &fs));
    EXPECT_EQ(st.segment_bytes, std::uint64_t(fs.st_size));

    ASSERT_EQ(0, create_queue(&o, SHMDS_QUEUE_INT64, 1000, &q)) << shmds_last_error();
    EXPECT_EQ(16u, shmds_queue_capacity(q)) << "an existing file's geometry wins";
    std::int64_t v = 0;
    EXPECT_EQ(0, shmds_queue_pop_int(q, &v, SHMDS_NOWAIT));
    EXPECT_EQ(5, v);
    shmds_queue_close(q);

    ASSERT_EQ(0, open_path(path.c_str(), SHMDS_QUEUE_ANY, &q)) << shmds_last_error();
    EXPECT_EQ(SHMDS_QUEUE_INT64, shmds_queue_variant(q));
    EXPECT_EQ(16u, shmds_queue_capacity(q));
    EXPECT_EQ(0, shmds_queue_pop_int(q, &v, SHMDS_NOWAIT));
    EXPECT_EQ(6, v);
    shmds_queue_close(q);

    EXPECT_EQ(SHMDS_ETYPE, create_queue(&o, SHMDS_QUEUE_INT32, 16, &q));
    EXPECT_TRUE(mentions(path.c_str())) << shmds_last_error();
}

TEST(Backing, ExclusiveCreateRefusesAnExistingFile) {
    TempPath path("excl");
    shmds_options_t o = path_options(path.c_str(), 0, SHMDS_EXCL);
    shmds_queue_t *q = nullptr;
    ASSERT_EQ(0, create_queue(&o, SHMDS_QUEUE_INT64, 8, &q)) << shmds_last_error();
    shmds_queue_close(q);
    q = nullptr;
    EXPECT_EQ(-EEXIST, create_queue(&o, SHMDS_QUEUE_INT64, 8, &q));
    EXPECT_EQ(nullptr, q);
    EXPECT_TRUE(mentions(path.c_str())) << shmds_last_error();
}

TEST(Backing, ModeIsExactWhateverTheUmask) {
    for (mode_t mask : {mode_t(077), mode_t(022)}) {
        UmaskScope scope(mask);
        for (std::uint32_t mode : {0640u, 0666u}) {
            TempPath path("mode");
            shmds_options_t o = path_options(path.c_str(), mode);
            shmds_queue_t *q = nullptr;
            ASSERT_EQ(0, create_queue(&o, SHMDS_QUEUE_INT64, 8, &q)) << shmds_last_error();
            shmds_queue_close(q);
            EXPECT_EQ(mode_t(mode), file_mode(path.c_str()))
                << std::oct << "asked 0" << mode << " under umask 0" << mask;
        }
    }
}

TEST(Backing, DefaultModeIs0600) {
    UmaskScope scope(0);  // nothing masked: a looser default would show
    TempPath path("mode-default");
    shmds_options_t o = path_options(path.c_str());
    shmds_queue_t *q = nullptr;
    ASSERT_EQ(0, create_queue(&o, SHMDS_QUEUE_INT64, 8, &q)) << shmds_last_error();
    shmds_queue_close(q);
    EXPECT_EQ(mode_t(0600), file_mode(path.c_str()));
}

TEST(Backing, SymlinkIsRefusedAndItsTargetUntouched) {
    TempPath target("symlink-target");
    TempPath link("symlink");
    const Bytes precious = {'p', 'r', 'e', 'c', 'i', 'o', 'u', 's'};
    write_file(target.c_str(), precious);
    ASSERT_EQ(0, ::symlink(target.c_str(), link.c_str()));
    shmds_options_t o = path_options(link.c_str());
    shmds_queue_t *q = nullptr;
    EXPECT_EQ(-ELOOP, create_queue(&o, SHMDS_QUEUE_INT64, 8, &q));
    EXPECT_TRUE(mentions(link.c_str())) << shmds_last_error();
    EXPECT_EQ(-ELOOP, shmds_queue_open(&o, SHMDS_QUEUE_ANY, &q));
    EXPECT_EQ(precious, read_file(target.c_str()));

    // A dangling link must not create its target either.
    ASSERT_EQ(0, ::unlink(target.c_str()));
    EXPECT_EQ(-ELOOP, create_queue(&o, SHMDS_QUEUE_INT64, 8, &q));
    EXPECT_NE(0, ::access(target.c_str(), F_OK)) << "the symlink's target was created";
}

// An FD attach refuses a file that another process could shrink under the mapping
// (SIGBUS on the next access), unless the caller accepts the risk; a memfd that can
// still be sealed is sealed once it has its size.
TEST(Backing, FdAttachRefusesUnsealedFilesUnlessTheRiskIsAccepted) {
    // A PATH segment's file, passed on as a descriptor: a regular file cannot be sealed.
    TempPath path("unsealed");
    shmds_options_t by_path = SHMDS_OPTIONS_INIT;
    by_path.backing = SHMDS_BACKING_PATH;
    by_path.name = path.c_str();
    shmds_queue_t *q = nullptr;
    ASSERT_EQ(0, create_queue(&by_path, SHMDS_QUEUE_INT64, 8, &q)) << shmds_last_error();
    ASSERT_EQ(0, shmds_queue_push_int(q, 5, SHMDS_NOWAIT));
    const int file_fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(file_fd, 0);
    shmds_options_t by_fd = SHMDS_OPTIONS_INIT;
    by_fd.backing = SHMDS_BACKING_FD;
    by_fd.fd = file_fd;
    shmds_queue_t *peer = nullptr;
    EXPECT_EQ(-EPERM, shmds_queue_open(&by_fd, SHMDS_QUEUE_ANY, &peer));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "SHMDS_ACCEPT_UNSEALED")) << shmds_last_error();
    EXPECT_EQ(-EPERM, create_queue(&by_fd, SHMDS_QUEUE_INT64, 8, &peer));
    by_fd.flags = SHMDS_ACCEPT_UNSEALED;
    ASSERT_EQ(0, shmds_queue_open(&by_fd, SHMDS_QUEUE_ANY, &peer)) << shmds_last_error();
    std::int64_t v = 0;
    EXPECT_EQ(0, shmds_queue_pop_int(peer, &v, SHMDS_NOWAIT));
    EXPECT_EQ(5, v);
    shmds_queue_close(peer);
    shmds_queue_close(q);
    close(file_fd);

    // A memfd made without MFD_ALLOW_SEALING can never be sealed: refused, and never
    // written (it stays empty).
    const int plain = memfd_create("plain", MFD_CLOEXEC);
    ASSERT_GE(plain, 0);
    by_fd.fd = plain;
    by_fd.flags = 0;
    EXPECT_EQ(-EPERM, create_queue(&by_fd, SHMDS_QUEUE_INT64, 8, &peer));
    struct stat st;
    ASSERT_EQ(0, fstat(plain, &st));
    EXPECT_EQ(0, st.st_size) << "a refused descriptor's file was written";
    close(plain);

    // A sealable memfd of the caller's becomes a segment and is sealed against resizing.
    const int sealable = memfd_create("sealable", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    ASSERT_GE(sealable, 0);
    by_fd.fd = sealable;
    ASSERT_EQ(0, create_queue(&by_fd, SHMDS_QUEUE_INT64, 8, &peer)) << shmds_last_error();
    EXPECT_EQ(F_SEAL_SHRINK | F_SEAL_GROW,
              fcntl(sealable, F_GET_SEALS) & (F_SEAL_SHRINK | F_SEAL_GROW));
    EXPECT_NE(0, ftruncate(sealable, 0));
    shmds_queue_close(peer);
    close(sealable);
}

TEST(Backing, MemfdIsSealedAgainstShrinkAndGrow) {
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_MEMFD;
    o.name = "sealed";
    shmds_queue_t *q = nullptr;
    ASSERT_EQ(0, create_queue(&o, SHMDS_QUEUE_INT64, 16, &q)) << shmds_last_error();
    int fd = shmds_queue_fd(q);
    ASSERT_GE(fd, 0);
    int seals = fcntl(fd, F_GET_SEALS);
    EXPECT_EQ(F_SEAL_SHRINK | F_SEAL_GROW, seals & (F_SEAL_SHRINK | F_SEAL_GROW));
    struct stat before;
    ASSERT_EQ(0, fstat(fd, &before));
    EXPECT_NE(0, ftruncate(fd, 0));
    EXPECT_NE(0, ftruncate(fd, before.st_size + 4096));
    struct stat after;
    ASSERT_EQ(0, fstat(fd, &after));
    EXPECT_EQ(before.st_size, after.st_size);

    // The same memory through SHMDS_BACKING_FD, as a receiving process would attach.
    ASSERT_EQ(0, shmds_queue_push_int(q, 77, SHMDS_NOWAIT));
    shmds_options_t by_fd = SHMDS_OPTIONS_INIT;
    by_fd.backing = SHMDS_BACKING_FD;
    by_fd.fd = fd;
    shmds_queue_t *peer = nullptr;
    ASSERT_EQ(0, shmds_queue_open(&by_fd, SHMDS_QUEUE_INT64, &peer)) << shmds_last_error();
    EXPECT_NE(fd, shmds_queue_fd(peer)) << "the library attaches to its own duplicate";
    std::int64_t v = 0;
    EXPECT_EQ(0, shmds_queue_pop_int(peer, &v, SHMDS_NOWAIT));
    EXPECT_EQ(77, v);
    shmds_queue_close(peer);
    EXPECT_NE(-1, fcntl(fd, F_GETFD)) << "closing the peer closed the owner's fd";
    shmds_queue_close(q);
}

TEST(Backing, OpenRefusesWhatCannotBeOpened) {
    shmds_queue_t *q = nullptr;
    shmds_options_t anon = SHMDS_OPTIONS_INIT;
    EXPECT_EQ(-EINVAL, shmds_queue_open(&anon, SHMDS_QUEUE_ANY, &q));
    EXPECT_TRUE(mentions("anonymous")) << shmds_last_error();
    EXPECT_EQ(-EINVAL, shmds_queue_open(nullptr, SHMDS_QUEUE_ANY, &q));
    shmds_options_t memfd = SHMDS_OPTIONS_INIT;
    memfd.backing = SHMDS_BACKING_MEMFD;
    memfd.name = "by-name";
    EXPECT_EQ(-EINVAL, shmds_queue_open(&memfd, SHMDS_QUEUE_ANY, &q));
    EXPECT_TRUE(mentions("memfd")) << shmds_last_error();
    TempPath missing("missing");
    EXPECT_EQ(-ENOENT, open_path(missing.c_str(), SHMDS_QUEUE_ANY, &q));
    EXPECT_TRUE(mentions(missing.c_str())) << shmds_last_error();
    EXPECT_EQ(nullptr, q);
}

TEST(Backing, BadOptionsAreRefusedWithASentence) {
    TempPath path("badopts");
    shmds_queue_t *q = nullptr;
    struct Case {
        const char *what;
        shmds_options_t opts;
        int code;
        const char *sentence_mentions;
    };
    std::vector<Case> cases;
    auto base = [&] { return path_options(path.c_str()); };
    shmds_options_t o = base();
    o.struct_size = 0;
    cases.push_back({"struct_size 0", o, -EINVAL, "struct_size"});
    o = base();
    o.backing = 9;
    cases.push_back({"unknown backing", o, -EINVAL, "backing"});
    o = base();
    o.flags = 0x100;
    cases.push_back({"unknown flag", o, -EINVAL, "flags"});
    o = base();
    o.mode = 010600;
    cases.push_back({"mode bits outside 07777", o, -EINVAL, "mode"});
    o = base();
    o.name = nullptr;
    cases.push_back({"path without a name", o, -EINVAL, "name"});
    o = base();
    o.name = "";
    cases.push_back({"path with an empty name", o, -EINVAL, "name"});
    o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_FD;
    o.fd = -1;
    cases.push_back({"fd backing without an fd", o, -EBADF, "descriptor"});
    for (const Case &c : cases) {
        shmds_options_t opts = c.opts;
        EXPECT_EQ(c.code, create_queue(&opts, SHMDS_QUEUE_INT64, 8, &q)) << c.what;
        EXPECT_TRUE(mentions(c.sentence_mentions)) << c.what << ": " << shmds_last_error();
        EXPECT_EQ(c.code, shmds_queue_open(&opts, SHMDS_QUEUE_ANY, &q)) << c.what;
    }
    EXPECT_EQ(nullptr, q);
    EXPECT_NE(0, ::access(path.c_str(), F_OK)) << "a refused create left a file behind";
}

// ---------------------------------------------------------------------------------
// Header refusals: a valid queue file, one field changed, must be refused with the
// exact code and a sentence naming the file.

namespace {

class HeaderRefusal : public ::testing::Test {
protected:
    void SetUp() override {
        shmds_options_t o = path_options(path.c_str());
        shmds_queue_t *q = nullptr;
        ASSERT_EQ(0, create_queue(&o, SHMDS_QUEUE_INT64, 16, &q)) << shmds_last_error();
        for (int i = 0; i < 3; ++i) ASSERT_EQ(0, shmds_queue_push_int(q, i, SHMDS_NOWAIT));
        shmds_queue_close(q);
        valid = read_file(path.c_str());
        ASSERT_GT(valid.size(), sizeof(SegmentHeader));
    }

    // Open the file as it is now; expect `code` and a sentence naming the file.
    void expect_open_refused(int code, int variant = SHMDS_QUEUE_ANY) {
        shmds_queue_t *q = nullptr;
        int r = open_path(path.c_str(), variant, &q);
        EXPECT_EQ(code, r) << "got " << shmds_errname(r) << ": " << shmds_last_error();
        EXPECT_TRUE(mentions(path.c_str())) << shmds_last_error();
        if (r == 0) shmds_queue_close(q);
    }

    // A create over the file must be refused the same way and leave it untouched.
    void expect_create_refused(int code) {
        const Bytes before = read_file(path.c_str());
        shmds_options_t o = path_options(path.c_str());
        shmds_queue_t *q = nullptr;
        int r = create_queue(&o, SHMDS_QUEUE_INT64, 16, &q);
        EXPECT_EQ(code, r) << "got " << shmds_errname(r) << ": " << shmds_last_error();
        EXPECT_TRUE(mentions(path.c_str())) << shmds_last_error();
        if (r == 0) shmds_queue_close(q);
        EXPECT_TRUE(before == read_file(path.c_str())) << "a refused create changed the file";
    }

    void write_patched(size_t offset, std::uint64_t value, size_t width) {
        Bytes image = valid;
        std::memcpy(image.data() + offset, &value, width);
        write_file(path.c_str(), image);
    }

    TempPath path{"header"};
    Bytes valid;
};

constexpr size_t kCapacityOffset = offsetof(SegmentHeader, geometry);

}  // namespace

TEST_F(HeaderRefusal, TheUntouchedFileOpens) {
    shmds_queue_t *q = nullptr;
    ASSERT_EQ(0, open_path(path.c_str(), SHMDS_QUEUE_INT64, &q)) << shmds_last_error();
    EXPECT_EQ(3u, shmds_queue_size(q));
    shmds_queue_close(q);
}

TEST_F(HeaderRefusal, TruncatedByOneByte) {
    ASSERT_EQ(0, ::truncate(path.c_str(), off_t(valid.size() - 1)));
    expect_open_refused(SHMDS_ECORRUPT);
    expect_create_refused(SHMDS_ECORRUPT);
}

TEST_F(HeaderRefusal, WrongStructure) {
    write_patched(offsetof(SegmentHeader, type), 2, sizeof(std::uint32_t));
    expect_open_refused(SHMDS_ETYPE);
    expect_create_refused(SHMDS_ETYPE);
}

TEST_F(HeaderRefusal, WrongVariant) {
    expect_open_refused(SHMDS_ETYPE, SHMDS_QUEUE_INT32);
    expect_open_refused(SHMDS_ETYPE, SHMDS_QUEUE_BYTES);
    shmds_options_t o = path_options(path.c_str());
    shmds_queue_t *q = nullptr;
    EXPECT_EQ(SHMDS_ETYPE, create_queue(&o, SHMDS_QUEUE_INT16, 16, &q));
    EXPECT_TRUE(valid == read_file(path.c_str()));
}

TEST_F(HeaderRefusal, WrongLayoutVersion) {
    write_patched(offsetof(SegmentHeader, layout_version), shmds::core::kLayoutVersion + 1,
                  sizeof(std::uint32_t));
    expect_open_refused(SHMDS_EVERSION);
    expect_create_refused(SHMDS_EVERSION);
}

TEST_F(HeaderRefusal, WrongLayoutHash) {
    std::uint64_t hash;
    std::memcpy(&hash, valid.data() + offsetof(SegmentHeader, layout_hash), sizeof hash);
    write_patched(offsetof(SegmentHeader, layout_hash), hash ^ 1, sizeof hash);
    expect_open_refused(SHMDS_EVERSION);
    expect_create_refused(SHMDS_EVERSION);
}

TEST_F(HeaderRefusal, GarbageFile) {
    std::mt19937_64 rng(test_seed());
    Bytes garbage(valid.size());
    for (auto &b : garbage) b = std::uint8_t(rng());
    write_file(path.c_str(), garbage);
    expect_open_refused(SHMDS_ECORRUPT);
    expect_create_refused(SHMDS_ECORRUPT);
}

TEST_F(HeaderRefusal, NonZeroUnfinishedFileIsNeverClobbered) {
    write_patched(offsetof(SegmentHeader, magic), 0, sizeof(std::uint64_t));
    expect_open_refused(SHMDS_ECORRUPT);
    expect_create_refused(SHMDS_ECORRUPT);
}

TEST_F(HeaderRefusal, AllZeroFileOfTheRequestedSizeIsReinitialised) {
    write_file(path.c_str(), Bytes(valid.size(), 0));
    expect_open_refused(SHMDS_ECORRUPT);  // open never initialises
    shmds_options_t o = path_options(path.c_str());
    shmds_queue_t *q = nullptr;
    ASSERT_EQ(0, create_queue(&o, SHMDS_QUEUE_INT64, 16, &q)) << shmds_last_error();
    EXPECT_EQ(0u, shmds_queue_size(q));
    EXPECT_EQ(0, shmds_queue_push_int(q, 42, SHMDS_NOWAIT));
    shmds_queue_close(q);
    ASSERT_EQ(0, open_path(path.c_str(), SHMDS_QUEUE_INT64, &q)) << shmds_last_error();
    std::int64_t v = 0;
    EXPECT_EQ(0, shmds_queue_pop_int(q, &v, SHMDS_NOWAIT));
    EXPECT_EQ(42, v);
    shmds_queue_close(q);
}

TEST_F(HeaderRefusal, InterruptedCreateIsReinitialised) {
    // What a creator killed before its commit point leaves: the "initialising" magic.
    write_patched(offsetof(SegmentHeader, magic), shmds::core::kMagicInitializing,
                  sizeof(std::uint64_t));
    expect_open_refused(SHMDS_ECORRUPT);
    shmds_options_t o = path_options(path.c_str());
    shmds_queue_t *q = nullptr;
    ASSERT_EQ(0, create_queue(&o, SHMDS_QUEUE_INT64, 16, &q)) << shmds_last_error();
    EXPECT_EQ(0u, shmds_queue_size(q)) << "a re-initialised queue starts empty";
    shmds_queue_close(q);
}

TEST_F(HeaderRefusal, AllZeroFileOfAnotherSizeIsNeverClobbered) {
    write_file(path.c_str(), Bytes(valid.size() + 64, 0));
    expect_create_refused(SHMDS_ECORRUPT);
}

TEST_F(HeaderRefusal, CapacityNotAPowerOfTwo) {
    write_patched(kCapacityOffset, 15, sizeof(std::uint64_t));
    expect_open_refused(SHMDS_ECORRUPT);
    // The core recomputes the shape from the stored geometry and names the first field
    // that differs, in one sentence shape for every structure.
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(),
                                   "the header's geometry word 0 is 15 but its own queue "
                                   "geometry gives 16"))
        << shmds_last_error();
    expect_create_refused(SHMDS_ECORRUPT);
}

TEST_F(HeaderRefusal, CapacityThatDoesNotMatchTheFile) {
    write_patched(kCapacityOffset, 32, sizeof(std::uint64_t));
    expect_open_refused(SHMDS_ECORRUPT);
}

// A header edited into another valid shape of the same size: an int16 queue of capacity
// 8 and one of capacity 4 both fill one cache line of slots. Every field agrees with the
// others; only the check word written at creation tells the edit.
TEST(HeaderCheckWord, ASelfConsistentGeometryEditIsRefused) {
    TempPath path{"header-check"};
    shmds_options_t o = path_options(path.c_str());
    shmds_queue_t *q = nullptr;
    ASSERT_EQ(0, create_queue(&o, SHMDS_QUEUE_INT16, 8, &q)) << shmds_last_error();
    shmds_queue_close(q);
    Bytes image = read_file(path.c_str());
    std::uint64_t capacity;
    std::memcpy(&capacity, image.data() + kCapacityOffset, sizeof capacity);
    ASSERT_EQ(8u, capacity);
    patch(image, kCapacityOffset, std::uint64_t{4});
    write_file(path.c_str(), image);
    EXPECT_EQ(SHMDS_ECORRUPT, open_path(path.c_str(), SHMDS_QUEUE_ANY, &q));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "not the ones its creator wrote"))
        << shmds_last_error();
    // Put back, it opens: the refusal came from the edit, not from the file.
    patch(image, kCapacityOffset, std::uint64_t{8});
    write_file(path.c_str(), image);
    ASSERT_EQ(0, open_path(path.c_str(), SHMDS_QUEUE_ANY, &q)) << shmds_last_error();
    EXPECT_EQ(8u, shmds_queue_capacity(q));
    shmds_queue_close(q);
}

TEST_F(HeaderRefusal, TotalSizeEdited) {
    write_patched(offsetof(SegmentHeader, total_size), valid.size() + 64, sizeof(std::uint64_t));
    expect_open_refused(SHMDS_ECORRUPT);
    write_patched(offsetof(SegmentHeader, total_size), valid.size() - 64, sizeof(std::uint64_t));
    expect_open_refused(SHMDS_ECORRUPT);
}

TEST_F(HeaderRefusal, ElementSizeEdited) {
    write_patched(offsetof(SegmentHeader, elem_size), 8, sizeof(std::uint32_t));
    expect_open_refused(SHMDS_ECORRUPT);
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "the header's element size is 8"))
        << shmds_last_error();
}

TEST_F(HeaderRefusal, UnknownVariant) {
    write_patched(offsetof(SegmentHeader, variant), 9, sizeof(std::uint32_t));
    expect_open_refused(SHMDS_ECORRUPT);
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "impossible queue geometry: unknown queue "
                                                       "variant 9"))
        << shmds_last_error();
}

TEST_F(HeaderRefusal, EmptyFile) {
    write_file(path.c_str(), Bytes());
    expect_open_refused(SHMDS_ECORRUPT);
}

// ---------------------------------------------------------------------------------
// Racing creators

namespace {

struct StartLine {
    std::atomic<int> ready{0};
    std::atomic<int> go{0};
};

}  // namespace

TEST(Race, EightProcessesCreatingOnePathAllSeeOneQueue) {
    constexpr int kProcs = 8;
    constexpr int kRounds = 20;
    void *mem = mmap(nullptr, sizeof(StartLine), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(MAP_FAILED, mem);
    for (int round = 0; round < kRounds; ++round) {
        // Alternate a lock-free and a locked variant: both initialise differently.
        const int variant = round % 2 ? SHMDS_QUEUE_BYTES : SHMDS_QUEUE_INT64;
        auto *line = new (mem) StartLine();
        TempPath path("race");
        std::vector<pid_t> pids;
        for (int i = 0; i < kProcs; ++i) {
            pids.push_back(fork_child([&, i] {
                line->ready.fetch_add(1);
                while (line->go.load() == 0) sched_yield();
                shmds_options_t o = path_options(path.c_str());
                shmds_queue_t *q = nullptr;
                int r = create_queue(&o, variant, 64, &q);
                if (r != 0) {
                    fprintf(stderr, "child %d: create: %s: %s\n", i, shmds_errname(r),
                            shmds_last_error());
                    return 1;
                }
                // Timed, not NOWAIT: the bytes queue's lock is contended here.
                const std::int64_t timeout = 5'000'000'000;
                if (variant == SHMDS_QUEUE_BYTES) {
                    CHILD_CHECK(shmds_queue_push_bytes(q, &i, sizeof i, timeout) == 0);
                } else {
                    CHILD_CHECK(shmds_queue_push_int(q, i, timeout) == 0);
                }
                shmds_queue_close(q);
                return 0;
            }));
        }
        auto limit = std::chrono::steady_clock::now() + 10s;
        while (line->ready.load() < kProcs && std::chrono::steady_clock::now() < limit)
            std::this_thread::sleep_for(1ms);
        const bool lined_up = line->ready.load() == kProcs;
        line->go.store(1);
        for (pid_t pid : pids) {
            ChildExit e = wait_child(pid, 20s);
            EXPECT_TRUE(e.exited && e.code == 0) << "round " << round << ": " << e.describe();
        }
        ASSERT_TRUE(lined_up) << "round " << round << ": children never reached the start";

        shmds_queue_t *q = nullptr;
        ASSERT_EQ(0, open_path(path.c_str(), variant, &q)) << shmds_last_error();
        EXPECT_EQ(std::uint64_t(kProcs), shmds_queue_size(q)) << "round " << round;
        std::vector<int> seen;
        for (int i = 0; i < kProcs; ++i) {
            if (variant == SHMDS_QUEUE_BYTES) {
                int v = -1;
                size_t len = 0;
                ASSERT_EQ(0, shmds_queue_pop_bytes(q, &v, sizeof v, &len, SHMDS_NOWAIT));
                seen.push_back(v);
            } else {
                std::int64_t v = -1;
                ASSERT_EQ(0, shmds_queue_pop_int(q, &v, SHMDS_NOWAIT));
                seen.push_back(int(v));
            }
        }
        shmds_queue_close(q);
        std::sort(seen.begin(), seen.end());
        for (int i = 0; i < kProcs; ++i) EXPECT_EQ(i, seen[size_t(i)]) << "round " << round;
        if (HasFailure()) break;
    }
    munmap(mem, sizeof(StartLine));
}

// ---------------------------------------------------------------------------------
// A full filesystem

TEST(Space, FullTmpfsGivesEnospcAndLeavesNoFile) {
    char dir[] = "/tmp/shmds-test-tmpfs-XXXXXX";
    ASSERT_NE(nullptr, mkdtemp(dir));
    constexpr int kCannotMount = 77;
    // The mount lives in the child's own mount namespace: it vanishes with the child,
    // whatever happens, and nobody else ever sees it.
    pid_t pid = fork_child([&] {
        if (unshare(CLONE_NEWNS) != 0) return kCannotMount;
        if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return kCannotMount;
        if (mount("shmds-test", dir, "tmpfs", 0, "size=64k") != 0) return kCannotMount;
        const std::string big = std::string(dir) + "/big";
        shmds_options_t o = path_options(big.c_str());
        shmds_queue_t *q = nullptr;
        int r = create_queue(&o, SHMDS_QUEUE_INT64, 1 << 16, &q);  // 1 MiB of slots
        if (r != -ENOSPC) {
            fprintf(stderr, "expected -ENOSPC, got %s: %s\n", shmds_errname(r), shmds_last_error());
            return 1;
        }
        CHILD_CHECK(std::strstr(shmds_last_error(), big.c_str()) != nullptr);
        CHILD_CHECK(::access(big.c_str(), F_OK) != 0 && errno == ENOENT);
        // The same mount takes a queue that fits: the failure was about space only.
        const std::string small = std::string(dir) + "/small";
        o = path_options(small.c_str());
        CHILD_CHECK(create_queue(&o, SHMDS_QUEUE_INT64, 16, &q) == 0);
        CHILD_CHECK(shmds_queue_push_int(q, 1, SHMDS_NOWAIT) == 0);
        shmds_queue_close(q);
        CHILD_CHECK(::unlink(small.c_str()) == 0);
        return 0;
    });
    ASSERT_GT(pid, 0);
    ChildExit e = wait_child(pid, 20s);
    ::rmdir(dir);
    if (e.exited && e.code == kCannotMount)
        GTEST_SKIP() << "cannot mount a private tmpfs here (needs CAP_SYS_ADMIN)";
    EXPECT_TRUE(e.exited && e.code == 0) << e.describe();
}

// ---------------------------------------------------------------------------------
// Random headers: nothing may crash, and random bytes must almost never pass.

namespace {

struct Template {
    int variant;
    Bytes image;
};

// One small, valid queue file per variant, with a few items in it.
std::vector<Template> make_templates(const char *path) {
    std::vector<Template> out;
    for (int variant : {SHMDS_QUEUE_INT16, SHMDS_QUEUE_INT32, SHMDS_QUEUE_INT64,
                        SHMDS_QUEUE_BYTES}) {
        ::unlink(path);
        shmds_options_t o = path_options(path);
        shmds_queue_t *q = nullptr;
        EXPECT_EQ(0, create_queue(&o, variant, 8, &q)) << shmds_last_error();
        if (!q) continue;
        for (int i = 0; i < 3; ++i) {
            if (variant == SHMDS_QUEUE_BYTES) shmds_queue_push_bytes(q, "abc", 3, SHMDS_NOWAIT);
            else shmds_queue_push_int(q, i, SHMDS_NOWAIT);
        }
        shmds_queue_close(q);
        out.push_back({variant, read_file(path)});
    }
    ::unlink(path);
    return out;
}

// Use an opened queue the way a program would, never blocking.
void exercise(shmds_queue_t *q) {
    shmds_queue_stats_t st{};
    st.struct_size = sizeof st;
    (void)shmds_queue_stats(q, &st);
    const std::uint64_t cap = shmds_queue_capacity(q);
    (void)shmds_queue_size(q);
    if (shmds_queue_variant(q) == SHMDS_QUEUE_BYTES) {
        char buf[64];
        size_t len = 0;
        (void)shmds_queue_peek_bytes(q, buf, sizeof buf, &len);
        for (std::uint64_t i = 0; i <= cap; ++i)
            if (shmds_queue_pop_bytes(q, buf, sizeof buf, &len, SHMDS_NOWAIT) != 0) break;
        (void)shmds_queue_push_bytes(q, "xyz", 3, SHMDS_NOWAIT);
    } else {
        std::int64_t v;
        (void)shmds_queue_peek_int(q, &v);
        for (std::uint64_t i = 0; i <= cap; ++i)
            if (shmds_queue_pop_int(q, &v, SHMDS_NOWAIT) != 0) break;
        (void)shmds_queue_push_int(q, 1, SHMDS_NOWAIT);
    }
}

// Open the file as every variant; returns how many opens succeeded.
int open_every_way(const char *path) {
    int opened = 0;
    for (int variant = SHMDS_QUEUE_ANY; variant <= SHMDS_QUEUE_BYTES; ++variant) {
        shmds_queue_t *q = nullptr;
        if (open_path(path, variant, &q) == 0) {
            ++opened;
            exercise(q);
            shmds_queue_close(q);
        }
    }
    return opened;
}

std::string hex(const std::uint8_t *p, size_t n) {
    std::string s;
    char b[4];
    for (size_t i = 0; i < n; ++i) {
        std::snprintf(b, sizeof b, "%02x", p[i]);
        s += b;
    }
    return s;
}

}  // namespace

TEST(RandomHeaders, NoneCrashesAndRandomOnesAreRefused) {
    const std::uint64_t seed = test_seed();
    std::mt19937_64 rng(seed);
    TempPath path("random-header");
    const std::vector<Template> templates = make_templates(path.c_str());
    ASSERT_EQ(4u, templates.size());
    const size_t kHeader = sizeof(SegmentHeader);

    // Random headers over valid bodies: with and without the right magic (the magic
    // alone must not be enough to get a segment accepted).
    constexpr int kRandom = 1500;
    int random_opened = 0;
    for (int i = 0; i < kRandom; ++i) {
        const Template &t = templates[rng() % templates.size()];
        Bytes image = t.image;
        for (size_t b = 0; b < kHeader; ++b) image[b] = std::uint8_t(rng());
        if (i % 2) patch(image, 0, shmds::core::kMagic);
        write_file(path.c_str(), image);
        if (open_every_way(path.c_str()) > 0) {
            ++random_opened;
            ADD_FAILURE() << "a random header opened (seed " << seed << ", iteration " << i
                          << "): " << hex(image.data(), kHeader);
        }
    }
    EXPECT_LE(random_opened, kRandom / 20) << "fewer than 95% of random headers were refused";

    // Valid headers with a few bytes changed: each either opens as a working queue or is
    // refused; a crash or a hang fails the suite. Report what opened.
    // Fields that name nothing about the layout: who made it, when, the recovery count,
    // unused geometry words and reserved space. Only these may differ in a header that opens.
    auto identity_free = [](size_t at) {
        const size_t check = offsetof(SegmentHeader, shape_check);
        if (at >= check && at < check + sizeof(std::uint64_t)) return false;
        return (at >= offsetof(SegmentHeader, creator) && at < offsetof(SegmentHeader, geometry)) ||
               at >= offsetof(SegmentHeader, geometry) + 2 * sizeof(std::uint64_t);
    };
    constexpr int kMutated = 2500;
    int mutated_opened = 0;
    std::vector<int> opened_by_offset(kHeader, 0);
    for (int i = 0; i < kMutated; ++i) {
        const Template &t = templates[rng() % templates.size()];
        Bytes image = t.image;
        const int edits = 1 + int(rng() % 4);
        std::vector<size_t> touched;
        for (int e = 0; e < edits; ++e) {
            const size_t at = rng() % kHeader;
            switch (rng() % 4) {
                case 0: image[at] ^= std::uint8_t(1u << (rng() % 8)); break;
                case 1: image[at] = std::uint8_t(rng()); break;
                case 2: image[at] = 0; break;
                default: image[at] = 0xff; break;
            }
            touched.push_back(at);
        }
        write_file(path.c_str(), image);
        if (open_every_way(path.c_str()) > 0) {
            ++mutated_opened;
            for (size_t at : touched) {
                if (image[at] == t.image[at]) continue;  // the edit changed nothing
                ++opened_by_offset[at];
                if (!identity_free(at))
                    ADD_FAILURE() << "a header with byte " << at << " changed opened (seed "
                                  << seed << ", iteration " << i
                                  << "): " << hex(image.data(), kHeader);
            }
        }
    }
    std::string fields;  // as ranges, e.g. " 48-63 80-255"
    for (size_t at = 0; at < kHeader; ++at) {
        if (!opened_by_offset[at] || (at > 0 && opened_by_offset[at - 1])) continue;
        size_t end = at;
        while (end + 1 < kHeader && opened_by_offset[end + 1]) ++end;
        fields += " " + std::to_string(at) + (end > at ? "-" + std::to_string(end) : "");
    }
    fprintf(stderr,
            "[random headers] random: %d of %d opened; mutated: %d of %d opened (header "
            "offsets edited in those:%s)\n",
            random_opened, kRandom, mutated_opened, kMutated, fields.c_str());
    RecordProperty("mutated_opened", mutated_opened);
}

// ---------------------------------------------------------------------------------
// Damaged rings behind a valid header: calls fail or carry on, but always return
// (regressions of what fuzz/fuzz_open.cpp found). Each runs in a child bounded by a
// timeout, so a hang or a crash fails the test instead of the run.

namespace {

using shmds::queue::Geometry;
using shmds::queue::Variant;

// A valid file-backed queue of `variant`, then `damage(image, geometry)` applied.
template <typename Damage>
void make_damaged(const char *path, Variant variant, Damage &&damage) {
    shmds_options_t o = path_options(path);
    shmds_queue_t *q = nullptr;
    ASSERT_EQ(0, create_queue(&o, int(variant), 8, &q)) << shmds_last_error();
    shmds_queue_close(q);
    Geometry g;
    ASSERT_EQ(0, shmds::queue::compute_geometry(variant, 8, 0, g));
    Bytes image = read_file(path);
    ASSERT_EQ(g.total, image.size());
    damage(image, g);
    write_file(path, image);
}

bool is_one_of(int r, std::initializer_list<int> codes) {
    for (int c : codes)
        if (r == c) return true;
    return false;
}

}  // namespace

TEST(DamagedRing, SlotsFarAheadOfTheHintsAreReportedNotWalked) {
    // Sequences half the 64-bit space ahead: walking there a position at a time took
    // ~2^63 steps.
    TempPath path("damaged-wide");
    make_damaged(path.c_str(), Variant::int64, [](Bytes &image, const Geometry &g) {
        for (std::uint64_t i = 0; i < g.capacity; ++i)
            patch(image, g.data_off + i * g.elem_size, (std::uint64_t{1} << 63) - 1 - i);
    });
    run_child_ok([&] {
        shmds_queue_t *q = nullptr;
        CHILD_CHECK(open_path(path.c_str(), SHMDS_QUEUE_INT64, &q) == 0);
        std::int64_t v = 0;
        CHILD_CHECK(shmds_queue_pop_int(q, &v, SHMDS_NOWAIT) == SHMDS_ECORRUPT);
        CHILD_CHECK(std::strstr(shmds_last_error(), "damaged") != nullptr);
        CHILD_CHECK(shmds_queue_push_int(q, 1, SHMDS_NOWAIT) == SHMDS_ECORRUPT);
        CHILD_CHECK(shmds_queue_push_int(q, 1, 50'000'000) == SHMDS_ECORRUPT);
        // The batch forms say so too. They used to give up on the same walk silently:
        // -EAGAIN, or with a timeout a sleep until -ETIMEDOUT, and drain said "empty".
        std::int64_t batch[3] = {1, 2, 3};
        size_t n = 99;
        CHILD_CHECK(shmds_queue_push_multi_int(q, batch, 3, &n, SHMDS_NOWAIT) == SHMDS_ECORRUPT);
        CHILD_CHECK(n == 0);
        CHILD_CHECK(std::strstr(shmds_last_error(), "damaged") != nullptr);
        CHILD_CHECK(shmds_queue_push_multi_int(q, batch, 3, &n, 200'000'000) == SHMDS_ECORRUPT);
        n = 99;
        CHILD_CHECK(shmds_queue_pop_multi_int(q, batch, 3, &n, SHMDS_NOWAIT) == SHMDS_ECORRUPT);
        CHILD_CHECK(n == 0);
        CHILD_CHECK(std::strstr(shmds_last_error(), "damaged") != nullptr);
        CHILD_CHECK(shmds_queue_pop_multi_int(q, batch, 3, &n, 200'000'000) == SHMDS_ECORRUPT);
        CHILD_CHECK(shmds_queue_drain_int(q, batch, 3, &n) == SHMDS_ECORRUPT);
        shmds_queue_close(q);
        return 0;
    }, 10s);
}

TEST(DamagedRing, SequencesThatWrapAroundEndTheWalk) {
    // Narrow slots whose 32-bit sequences are a third of the space apart: each one
    // looks ahead of the last, so a walk could circle the sequence space for ever.
    TempPath path("damaged-narrow");
    make_damaged(path.c_str(), Variant::int32, [](Bytes &image, const Geometry &g) {
        for (std::uint64_t i = 0; i < g.capacity; ++i)
            patch(image, g.data_off + i * g.elem_size, std::uint64_t(0x55555555u * (i % 3 + 1)));
    });
    run_child_ok([&] {
        shmds_queue_t *q = nullptr;
        CHILD_CHECK(open_path(path.c_str(), SHMDS_QUEUE_INT32, &q) == 0);
        std::int64_t v = 0;
        for (int i = 0; i < 4; ++i) {
            CHILD_CHECK(is_one_of(shmds_queue_pop_int(q, &v, SHMDS_NOWAIT),
                                  {0, -EAGAIN, SHMDS_ECORRUPT}));
            CHILD_CHECK(is_one_of(shmds_queue_push_int(q, 5, SHMDS_NOWAIT),
                                  {0, -EAGAIN, SHMDS_ECORRUPT}));
        }
        std::int64_t batch[4];
        size_t n = 0;
        (void)shmds_queue_drain_int(q, batch, 4, &n);
        shmds_queue_close(q);
        return 0;
    }, 20s);
}
