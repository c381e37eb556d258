// libshmds C++ veneer: errors and backings shared by every structure's class
// (shmds/detail.hpp holds what the classes are built from).
// Header-only, C++17; calls nothing but the C API.
#ifndef SHMDS_ERROR_HPP
#define SHMDS_ERROR_HPP

#include <shmds/common.h>

#include <cstdint>
#include <string>
#include <system_error>
#include <utility>

namespace shmds {

/** The error category of libshmds codes (0, -errno, SHMDS_E*). */
class error_category_impl final : public std::error_category {
public:
    /** "shmds". */
    const char *name() const noexcept override { return "shmds"; }
    /** shmds_strerror(code): a fixed sentence per code. */
    std::string message(int code) const override { return shmds_strerror(code); }
};

/** The one instance of the category, shared by every shmds::error. Never throws. */
inline const std::error_category &error_category() noexcept {
    static const error_category_impl category;
    return category;
}

/**
 * A real failure (not full/empty/timeout, which are values): what every member of the
 * veneer throws. A std::system_error, so `catch (const std::system_error &)` sees it.
 */
class error : public std::system_error {
public:
    /** The failure `code`; what() is this thread's shmds_last_error() sentence now. */
    explicit error(int code) : std::system_error(code, error_category(), shmds_last_error()) {}
    /** The failure `code` with a sentence of the caller's. */
    error(int code, const std::string &what) : std::system_error(code, error_category(), what) {}
    /** The library code: -errno or SHMDS_E*. */
    int value() const noexcept { return code().value(); }
};

/**
 * Where a structure's memory lives. Build one with a factory:
 *   shmds::backing::anonymous()        fork-inherited, no name
 *   shmds::backing::path("/dev/shm/x") a file; exclusive() refuses an existing one
 *   shmds::backing::memfd("label")     a sealed memfd whose fd can be passed on
 *   shmds::backing::fd(fd)             attach to a received fd (it is duplicated)
 */
class backing {
public:
    /** Anonymous shared memory: reached only through fork() children. */
    static backing anonymous() { return backing(SHMDS_BACKING_ANON, {}, -1); }
    /** A file at `p` (usually under /dev/shm), created with exactly `mode`. */
    static backing path(std::string p, std::uint32_t mode = 0600) {
        backing b(SHMDS_BACKING_PATH, std::move(p), -1);
        b.opts_.mode = mode;
        return b;
    }
    /** A new sealed memfd named `label`; pass its fd() on with shmds_send_fd(). */
    static backing memfd(std::string label) {
        return backing(SHMDS_BACKING_MEMFD, std::move(label), -1);
    }
    /**
     * Attach to `descriptor` (duplicated: the caller keeps and closes its own). The file
     * behind it must be a memfd sealed (or sealable) against shrinking, unless
     * accept_unsealed() is set; otherwise creating or opening throws -EPERM.
     */
    static backing fd(int descriptor) { return backing(SHMDS_BACKING_FD, {}, descriptor); }

    /**
     * With fd(): attach even to a file another process could shrink (a regular file, an
     * unsealable memfd), accepting that a truncation kills this process with SIGBUS
     * (SHMDS_ACCEPT_UNSEALED; common.h, "What a backing can promise").
     */
    backing &accept_unsealed() {
        opts_.flags |= SHMDS_ACCEPT_UNSEALED;
        return *this;
    }

    /** Fail with -EEXIST instead of attaching when the path already exists. */
    backing &exclusive() {
        opts_.flags |= SHMDS_EXCL;
        return *this;
    }

    /** The C options, valid while this object lives. */
    const shmds_options_t *options() const noexcept {
        opts_.name = name_.empty() ? nullptr : name_.c_str();
        return &opts_;
    }

    // Copies carry the options and the name; options() re-points the name each time.
    backing(const backing &o) : opts_(o.opts_), name_(o.name_) {}
    backing &operator=(const backing &o) {
        opts_ = o.opts_;
        name_ = o.name_;
        return *this;
    }

private:
    backing(int kind, std::string name, int fd) : opts_(), name_(std::move(name)) {
        shmds_options_t init = SHMDS_OPTIONS_INIT;
        opts_ = init;
        opts_.backing = kind;
        opts_.fd = fd;
    }
    mutable shmds_options_t opts_;
    std::string name_;
};

}  // namespace shmds

#endif  // SHMDS_ERROR_HPP
