// The cache's lifecycle options (cache.h "Lifecycle", docs/cache-design.md §7): init_file
// wipes on create without deleting the file, unlink_on_exit and empty_on_exit act at close
// and only in the process that made the handle (a fork child's close skips them), and
// nothing else is affected by them.
#include "test_cache_callbacks_helpers.hpp"

#include <gtest/gtest.h>

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstddef>
#include <cstring>
#include <string>

namespace {

using namespace shmds::test;
using namespace shmds::test::cache;

shmds_options_t file_at(const TempPath &p) {
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = p.c_str();
    return o;
}

shmds_cache_config_t with_lifecycle(std::uint64_t bits) {
    shmds_cache_config_t c = config(4096, 4);
    c.lifecycle = bits;
    return c;
}

bool file_exists(const TempPath &p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0;
}

ino_t inode_of(const TempPath &p) {
    struct stat st {};
    EXPECT_EQ(0, ::stat(p.c_str(), &st)) << p.str();
    return st.st_ino;
}

void fill(shmds_cache_t *c, int n) {
    for (int i = 0; i < n; ++i) ASSERT_EQ(0, set(c, "k" + std::to_string(i), "v"));
}

TEST(CacheLifecycleOptions, DefaultIsNoneAndOlderConfigsReadAsNone) {
    shmds_cache_config_t c = SHMDS_CACHE_CONFIG_INIT;
    EXPECT_EQ(0u, c.lifecycle);
    shmds_cache_config_t f;
    std::memset(&f, 0xab, sizeof f);
    ASSERT_EQ(0, shmds_cache_config_init(&f, sizeof f));
    EXPECT_EQ(0u, f.lifecycle);

    // A caller compiled before the field existed: its struct ends at default_expire_ms,
    // and whatever follows it in memory must not be read as lifecycle bits.
    TempPath p("cache-life-v1");
    const shmds_options_t o = file_at(p);
    shmds_cache_config_t older = config(4096, 4);
    older.struct_size = offsetof(shmds_cache_config_t, lifecycle);
    older.lifecycle = ~0ull;
    shmds_cache_t *h = nullptr;
    ASSERT_EQ(0, shmds_cache_create(&o, &older, &h)) << shmds_last_error();
    shmds_cache_close(h);
    EXPECT_TRUE(file_exists(p)) << "no unlink_on_exit from bytes past the caller's struct";
}

// This process's resident shared memory, in bytes (/proc/self/status RssShmem).
std::uint64_t resident_shmem() {
    std::FILE *f = std::fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    std::uint64_t kb = 0;
    while (std::fgets(line, sizeof line, f))
        if (std::sscanf(line, "RssShmem: %" SCNu64 " kB", &kb) == 1) break;
    std::fclose(f);
    return kb * 1024;
}

bool kernel_populates() {
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
    void *p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return false;
    const bool ok = ::madvise(p, 4096, MADV_POPULATE_WRITE) == 0;
    ::munmap(p, 4096);
    return ok;
}

// How much of a new 32 MiB anonymous cache is resident right after create.
std::uint64_t resident_after_create(std::uint64_t lifecycle) {
    shmds_cache_config_t c = config(65536, 512);
    c.lifecycle = lifecycle;
    const std::uint64_t before = resident_shmem();
    shmds_cache_t *h = nullptr;
    EXPECT_EQ(0, shmds_cache_create(nullptr, &c, &h)) << shmds_last_error();
    const std::uint64_t after = resident_shmem();
    shmds_cache_close(h);
    return after > before ? after - before : 0;
}

// Create commits the frames (the anchor's zero-filled file), unless LAZY_MEMORY.
TEST(CacheLifecycleOptions, CreateCommitsTheFramesUnlessLazy) {
    constexpr std::uint64_t kFrames = 32u << 20;
    if (!kernel_populates()) GTEST_SKIP() << "this kernel has no MADV_POPULATE_WRITE (< 5.14)";
    EXPECT_GE(resident_after_create(0), kFrames) << "every frame faulted in at create";
    // Lazy: only each page's formatted header line, one OS page per frame (2 MiB).
    EXPECT_LT(resident_after_create(SHMDS_CACHE_LAZY_MEMORY), kFrames / 4);
}

TEST(CacheLifecycleOptions, Refusals) {
    shmds_cache_t *h = nullptr;
    auto unknown = with_lifecycle(16);
    EXPECT_EQ(-EINVAL, shmds_cache_create(nullptr, &unknown, &h));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "lifecycle")) << shmds_last_error();
    EXPECT_EQ(nullptr, h);

    auto unlink = with_lifecycle(SHMDS_CACHE_UNLINK_ON_EXIT);
    EXPECT_EQ(-EINVAL, shmds_cache_create(nullptr, &unlink, &h)) << "anonymous: no file";
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "PATH backing")) << shmds_last_error();
    shmds_options_t memfd = SHMDS_OPTIONS_INIT;
    memfd.backing = SHMDS_BACKING_MEMFD;
    memfd.name = "cache-life";
    EXPECT_EQ(-EINVAL, shmds_cache_create(&memfd, &unlink, &h));
    EXPECT_EQ(nullptr, h);

    // The other two need no file.
    auto both = with_lifecycle(SHMDS_CACHE_INIT_FILE | SHMDS_CACHE_EMPTY_ON_EXIT);
    ASSERT_EQ(0, shmds_cache_create(&memfd, &both, &h)) << shmds_last_error();
    shmds_cache_close(h);
}

TEST(CacheLifecycleOptions, InitFileWipesWithoutDeletingAndOthersKeepSharing) {
    TempPath p("cache-life-init");
    const shmds_options_t o = file_at(p);
    auto plain = config(4096, 4);
    CachePtr first = make_cache(plain, &o);
    fill(first.get(), 20);
    ASSERT_TRUE(get(first.get(), "k1"));
    const ino_t inode = inode_of(p);

    // Another geometry asked: the stored one stays (init_file wipes, never recreates).
    auto wipe = with_lifecycle(SHMDS_CACHE_INIT_FILE);
    wipe.page_size = 8192;
    CachePtr second = make_cache(wipe, &o);
    EXPECT_EQ(inode, inode_of(p)) << "the file is never deleted or recreated";
    const auto s = stats(second.get());
    EXPECT_EQ(0u, s.items);
    EXPECT_EQ(0u, s.reads) << "reads and hits restart";
    EXPECT_EQ(4096u, s.page_size);
    EXPECT_EQ(std::nullopt, get(first.get(), "k1")) << "the first handle shares the wiped cache";
    ASSERT_EQ(0, set(first.get(), "after", "x"));
    EXPECT_EQ(std::optional<std::string>("x"), get(second.get(), "after"));

    // Without the bit, attaching keeps the items.
    CachePtr third = make_cache(plain, &o);
    EXPECT_EQ(std::optional<std::string>("x"), get(third.get(), "after"));
}

TEST(CacheLifecycleOptions, EmptyAndUnlinkAtTheCreatorsClose) {
    TempPath p("cache-life-exit");
    const shmds_options_t o = file_at(p);
    shmds_cache_t *owner = nullptr;
    auto cfg = with_lifecycle(SHMDS_CACHE_EMPTY_ON_EXIT | SHMDS_CACHE_UNLINK_ON_EXIT);
    ASSERT_EQ(0, shmds_cache_create(&o, &cfg, &owner)) << shmds_last_error();
    CachePtr other = make_cache(config(4096, 4), &o);  // no options of its own
    fill(owner, 20);

    // A handle without the options closes: nothing happens.
    CachePtr bystander = make_cache(config(4096, 4), &o);
    bystander.reset();
    EXPECT_TRUE(file_exists(p));
    EXPECT_EQ(std::optional<std::string>("v"), get(other.get(), "k3"));

    shmds_cache_close(owner);
    EXPECT_FALSE(file_exists(p)) << "unlink_on_exit";
    EXPECT_EQ(0u, stats(other.get()).items) << "empty_on_exit, seen by a handle still attached";
    ASSERT_EQ(0, set(other.get(), "still", "works")) << "the unlinked cache stays usable";
    EXPECT_EQ(std::optional<std::string>("works"), get(other.get(), "still"));
}

TEST(CacheLifecycleOptions, EmptyOnExitAloneKeepsTheFile) {
    TempPath p("cache-life-empty");
    const shmds_options_t o = file_at(p);
    shmds_cache_t *owner = nullptr;
    auto cfg = with_lifecycle(SHMDS_CACHE_EMPTY_ON_EXIT);
    ASSERT_EQ(0, shmds_cache_create(&o, &cfg, &owner));
    fill(owner, 10);
    shmds_cache_close(owner);
    ASSERT_TRUE(file_exists(p));
    CachePtr again = make_cache(config(4096, 4), &o);
    EXPECT_EQ(0u, stats(again.get()).items);
}

// The anchor's empty_on_exit is its empty(): dirty items reach write_cb before they go
// (its t/7), each exactly once.
TEST(CacheLifecycleOptions, EmptyOnExitWritesDirtyItemsBackFirst) {
    TempPath p("cache-life-writeback");
    const shmds_options_t o = file_at(p);
    shmds_cache_t *owner = nullptr;
    auto cfg = with_lifecycle(SHMDS_CACHE_EMPTY_ON_EXIT);
    ASSERT_EQ(0, shmds_cache_create(&o, &cfg, &owner));
    Store store;
    store.attach(owner, /*write_back=*/true);
    fill(owner, 10);
    EXPECT_EQ(0, store.writes);
    shmds_cache_close(owner);
    EXPECT_EQ(10, store.writes);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(1, store.writes_of["k" + std::to_string(i)]);
    EXPECT_EQ("v", store.data["k3"]);
    CachePtr again = make_cache(config(4096, 4), &o);
    EXPECT_EQ(0u, stats(again.get()).items);
}

TEST(CacheLifecycleOptions, UnlinkOnExitAloneKeepsTheItemsForThoseAttached) {
    TempPath p("cache-life-unlink");
    const shmds_options_t o = file_at(p);
    shmds_cache_t *owner = nullptr;
    auto cfg = with_lifecycle(SHMDS_CACHE_UNLINK_ON_EXIT);
    ASSERT_EQ(0, shmds_cache_create(&o, &cfg, &owner));
    CachePtr other = make_cache(config(4096, 4), &o);
    fill(owner, 10);
    shmds_cache_close(owner);
    EXPECT_FALSE(file_exists(p));
    EXPECT_EQ(std::optional<std::string>("v"), get(other.get(), "k7"));
}

TEST(CacheLifecycleOptions, AForkChildsCloseSkipsTheExitActions) {
    TempPath p("cache-life-fork");
    const shmds_options_t o = file_at(p);
    shmds_cache_t *owner = nullptr;
    auto cfg = with_lifecycle(SHMDS_CACHE_EMPTY_ON_EXIT | SHMDS_CACHE_UNLINK_ON_EXIT);
    ASSERT_EQ(0, shmds_cache_create(&o, &cfg, &owner));
    fill(owner, 20);
    run_child_ok([&] {
        // The child uses its inherited copy, then closes it (a Perl child's DESTROY).
        CHILD_CHECK(set(owner, "from child", "c") == 0);
        shmds_cache_close(owner);
        return 0;
    });
    EXPECT_TRUE(file_exists(p)) << "the child's close unlinked nothing";
    EXPECT_EQ(21u, stats(owner).items) << "and emptied nothing";
    EXPECT_EQ(std::optional<std::string>("c"), get(owner, "from child"));

    // A handle the child makes itself is the child's own: its close acts, in the child.
    run_child_ok([&] {
        shmds_cache_t *mine = nullptr;
        auto empty_only = with_lifecycle(SHMDS_CACHE_EMPTY_ON_EXIT);
        CHILD_CHECK(shmds_cache_create(&o, &empty_only, &mine) == 0);
        shmds_cache_close(mine);
        return 0;
    });
    EXPECT_EQ(0u, stats(owner).items) << "the child's own handle emptied the cache";
    EXPECT_TRUE(file_exists(p));

    shmds_cache_close(owner);
    EXPECT_FALSE(file_exists(p)) << "the creator's close unlinks";
}

TEST(CacheLifecycleOptions, UnlinkSparesAFileThatReplacedOurs) {
    TempPath p("cache-life-replaced");
    const shmds_options_t o = file_at(p);
    shmds_cache_t *owner = nullptr;
    auto cfg = with_lifecycle(SHMDS_CACHE_UNLINK_ON_EXIT);
    ASSERT_EQ(0, shmds_cache_create(&o, &cfg, &owner));
    ASSERT_EQ(0, ::unlink(p.c_str()));
    CachePtr replacement = make_cache(config(4096, 4), &o);  // a new file at the path
    ASSERT_EQ(0, set(replacement.get(), "k", "new"));
    shmds_cache_close(owner);
    EXPECT_TRUE(file_exists(p)) << "the path names another file now: not ours to unlink";
    CachePtr again = make_cache(config(4096, 4), &o);
    EXPECT_EQ(std::optional<std::string>("new"), get(again.get(), "k"));
}

TEST(CacheLifecycleOptions, TheAbsolutePathSurvivesAChdir) {
    TempPath p("cache-life-chdir");
    char cwd[4096];
    ASSERT_NE(nullptr, ::getcwd(cwd, sizeof cwd));
    ASSERT_EQ(0, ::chdir("/dev/shm"));
    const std::string relative = p.str().substr(std::string("/dev/shm/").size());
    ASSERT_EQ(std::string("/dev/shm/") + relative, p.str());
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = relative.c_str();
    shmds_cache_t *owner = nullptr;
    auto cfg = with_lifecycle(SHMDS_CACHE_UNLINK_ON_EXIT);
    const int rc = shmds_cache_create(&o, &cfg, &owner);
    ASSERT_EQ(0, ::chdir("/"));
    ASSERT_EQ(0, rc) << shmds_last_error();
    shmds_cache_close(owner);
    EXPECT_FALSE(file_exists(p));
    ASSERT_EQ(0, ::chdir(cwd));
}

}  // namespace
