// The lifecycle options of a handle (design §7): init_file, unlink_on_exit and
// empty_on_exit, the anchor's constructor options. The exit actions belong to the process
// that made the handle: a fork() child inherits the handle, and its close must neither
// empty nor unlink a cache its parent still uses (the anchor checks the pid the same way).
#include "cache/cache.hpp"

#include "core/error.hpp"

#include <cerrno>
#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>

namespace shmds::cache {

int Cache::start_lifecycle(const Lifecycle &l, const char *path) noexcept {
    if (l.unlink_on_exit) {
        // Absolute, so that a later chdir() cannot make the close unlink another file.
        path_.reset(::realpath(path, nullptr));
        if (!path_)
            return core::fail(-errno, "cache unlink_on_exit: cannot resolve the path {}", path);
    }
    if (l.init_file) {
        // A wipe, never a delete: other processes attached to this file keep sharing it
        // (the anchor unlinks and recreates it, splitting them from the new cache).
        if (int r = clear()) return r;
        Stats ignored;
        if (int r = stats(ignored, true)) return r;  // reads and hits restart at 0 too
    }
    lifecycle_ = l;
    creator_ = ::getpid();
    return 0;
}

void Cache::finish_lifecycle() noexcept {
    if (creator_ == 0 || ::getpid() != creator_) return;  // a fork child's close
    // The anchor's empty() at exit: dirty items are written back through this handle's
    // write_cb before they go. Best effort: close returns nothing, so a failing write_cb
    // or an expunge that waited 2 s for a spare frame leaves those items, which then
    // expire as usual (and a dirty one is written back by a later empty or expunge).
    if (lifecycle_.empty_on_exit) (void)empty(false);
    if (lifecycle_.unlink_on_exit && path_) {
        // Unlink only the file this handle maps: if the path now names another file
        // (removed and recreated meanwhile), that file is someone else's cache.
        struct stat ours {}, named {};
        if (::fstat(segment_.fd(), &ours) == 0 && ::stat(path_.get(), &named) == 0 &&
            ours.st_dev == named.st_dev && ours.st_ino == named.st_ino)
            (void)::unlink(path_.get());
    }
}

}  // namespace shmds::cache
