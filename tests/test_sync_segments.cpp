// Every sync primitive is its own segment type with the four backings (issue 3): for
// each of the six, a path segment reopened by _open and by _create shares its state, a
// memfd segment reached through its descriptor (BACKING_FD) shares its state, and every
// other primitive's _open and _create on that path are refused with SHMDS_ETYPE and a
// sentence naming what the segment holds.
#include "sync_support.hpp"

#include <shmds/sync.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

using namespace shmds::test;

namespace {

// One primitive, behind type-erased handles. mark() changes the shared state through
// one handle; marked() sees that change through another handle of the same segment.
struct Kind {
    std::string name;
    std::function<int(const shmds_options_t *, void **)> create;
    std::function<int(const shmds_options_t *, void **)> open;
    std::function<void(void *)> close;
    std::function<int(void *)> fd;
    std::function<void(void *)> mark;
    std::function<bool(void *)> marked;
};

template <typename H>
H *as(void *h) {
    return static_cast<H *>(h);
}

std::vector<Kind> kinds() {
    return {
        {"mutex",
         [](auto *o, void **out) { return shmds_mutex_create(o, reinterpret_cast<shmds_mutex_t **>(out)); },
         [](auto *o, void **out) { return shmds_mutex_open(o, reinterpret_cast<shmds_mutex_t **>(out)); },
         [](void *h) { shmds_mutex_close(as<shmds_mutex_t>(h)); },
         [](void *h) { return shmds_mutex_fd(as<shmds_mutex_t>(h)); },
         [](void *h) { EXPECT_EQ(0, shmds_mutex_lock(as<shmds_mutex_t>(h), 0)); },
         [](void *h) {
             // From another process, so "held" means held by someone else; the child's
             // check is the verdict.
             run_child_ok([&] {
                 CHILD_CHECK(shmds_mutex_try_lock(as<shmds_mutex_t>(h)) == -EAGAIN);
                 return 0;
             });
             return true;
         }},
        {"semaphore",
         [](auto *o, void **out) {
             return shmds_semaphore_create(o, 3, 3, reinterpret_cast<shmds_semaphore_t **>(out));
         },
         [](auto *o, void **out) { return shmds_semaphore_open(o, reinterpret_cast<shmds_semaphore_t **>(out)); },
         [](void *h) { shmds_semaphore_close(as<shmds_semaphore_t>(h)); },
         [](void *h) { return shmds_semaphore_fd(as<shmds_semaphore_t>(h)); },
         [](void *h) { EXPECT_EQ(0, shmds_semaphore_try_acquire_n(as<shmds_semaphore_t>(h), 2)); },
         [](void *h) { return shmds_semaphore_value(as<shmds_semaphore_t>(h)) == 1; }},
        {"barrier",
         [](auto *o, void **out) { return shmds_barrier_create(o, 2, reinterpret_cast<shmds_barrier_t **>(out)); },
         [](auto *o, void **out) { return shmds_barrier_open(o, reinterpret_cast<shmds_barrier_t **>(out)); },
         [](void *h) { shmds_barrier_close(as<shmds_barrier_t>(h)); },
         [](void *h) { return shmds_barrier_fd(as<shmds_barrier_t>(h)); },
         // A real timeout breaks the barrier: a state every handle must see.
         [](void *h) { EXPECT_EQ(-ETIMEDOUT, shmds_barrier_wait(as<shmds_barrier_t>(h), 1'000'000)); },
         [](void *h) { return shmds_barrier_is_broken(as<shmds_barrier_t>(h)) == 1; }},
        {"rwlock",
         [](auto *o, void **out) { return shmds_rwlock_create(o, 8, reinterpret_cast<shmds_rwlock_t **>(out)); },
         [](auto *o, void **out) { return shmds_rwlock_open(o, reinterpret_cast<shmds_rwlock_t **>(out)); },
         [](void *h) { shmds_rwlock_close(as<shmds_rwlock_t>(h)); },
         [](void *h) { return shmds_rwlock_fd(as<shmds_rwlock_t>(h)); },
         [](void *h) { EXPECT_EQ(0, shmds_rwlock_wrlock(as<shmds_rwlock_t>(h), 0)); },
         [](void *h) { return shmds_rwlock_is_write_locked(as<shmds_rwlock_t>(h)) == 1; }},
        {"condvar",
         [](auto *o, void **out) { return shmds_condvar_create(o, reinterpret_cast<shmds_condvar_t **>(out)); },
         [](auto *o, void **out) { return shmds_condvar_open(o, reinterpret_cast<shmds_condvar_t **>(out)); },
         [](void *h) { shmds_condvar_close(as<shmds_condvar_t>(h)); },
         [](void *h) { return shmds_condvar_fd(as<shmds_condvar_t>(h)); },
         [](void *h) { EXPECT_EQ(0, shmds_condvar_lock(as<shmds_condvar_t>(h), 0)); },
         [](void *h) {
             run_child_ok([&] {
                 CHILD_CHECK(shmds_condvar_try_lock(as<shmds_condvar_t>(h)) == -EAGAIN);
                 return 0;
             });
             return true;
         }},
        {"once",
         [](auto *o, void **out) { return shmds_once_create(o, reinterpret_cast<shmds_once_t **>(out)); },
         [](auto *o, void **out) { return shmds_once_open(o, reinterpret_cast<shmds_once_t **>(out)); },
         [](void *h) { shmds_once_close(as<shmds_once_t>(h)); },
         [](void *h) { return shmds_once_fd(as<shmds_once_t>(h)); },
         [](void *h) {
             EXPECT_EQ(1, shmds_once_enter(as<shmds_once_t>(h), 0));
             EXPECT_EQ(0, shmds_once_done(as<shmds_once_t>(h)));
         },
         [](void *h) { return shmds_once_is_done(as<shmds_once_t>(h)) == 1; }},
    };
}

TEST(SyncSegments, PathSegmentsAreSharedAndRefusedAsAnyOtherPrimitive) {
    const std::vector<Kind> all = kinds();
    for (const Kind &k : all) {
        SCOPED_TRACE(k.name);
        TempPath path(("sync-" + k.name).c_str());
        shmds_options_t po = path_options(path);
        void *a = nullptr, *b = nullptr, *c = nullptr;
        ASSERT_EQ(0, k.create(&po, &a)) << shmds_last_error();
        ASSERT_EQ(0, k.open(&po, &b)) << shmds_last_error();
        ASSERT_EQ(0, k.create(&po, &c)) << shmds_last_error();  // attaches to the same one
        k.mark(a);
        EXPECT_TRUE(k.marked(b));
        EXPECT_TRUE(k.marked(c));
        for (const Kind &other : all) {
            if (other.name == k.name) continue;
            SCOPED_TRACE("as " + other.name);
            void *wrong = nullptr;
            EXPECT_EQ(SHMDS_ETYPE, other.open(&po, &wrong));
            EXPECT_NE(nullptr, std::strstr(shmds_last_error(), k.name.c_str())) << shmds_last_error();
            EXPECT_EQ(nullptr, wrong);
            EXPECT_EQ(SHMDS_ETYPE, other.create(&po, &wrong));
            EXPECT_EQ(nullptr, wrong);
        }
        k.close(c);
        k.close(b);
        k.close(a);
    }
}

TEST(SyncSegments, MemfdSegmentsAreReachedThroughTheirDescriptor) {
    for (const Kind &k : kinds()) {
        SCOPED_TRACE(k.name);
        shmds_options_t mo = SHMDS_OPTIONS_INIT;
        mo.backing = SHMDS_BACKING_MEMFD;
        mo.name = "sync-segments";
        void *a = nullptr, *b = nullptr;
        ASSERT_EQ(0, k.create(&mo, &a)) << shmds_last_error();
        const int fd = k.fd(a);
        ASSERT_GE(fd, 0);
        shmds_options_t fo = SHMDS_OPTIONS_INIT;
        fo.backing = SHMDS_BACKING_FD;
        fo.fd = fd;
        ASSERT_EQ(0, k.open(&fo, &b)) << shmds_last_error();
        k.mark(a);
        EXPECT_TRUE(k.marked(b));
        k.close(b);
        k.close(a);
    }
}

}  // namespace
