// libshmds C++ veneer: errors and backings shared by every structure's class
// (shmds/detail.hpp holds what the classes are built from).
// Header-only, C++17; calls nothing but the C API.
#ifndef SHMDS_ERROR_HPP
#define SHMDS_ERROR_HPP

#include <shmds/common.h>

#include <cstdint>
#include <string>
#include <system_error>

namespace shmds {

/** The error category of libshmds codes (0, -errno, SHMDS_E*). */
class error_category_impl final : public std::error_category {
public:
    const char *name() const noexcept override { return "shmds"; }
    std::string message(int code) const override { return shmds_strerror(code); }
};

inline const std::error_category &error_category() noexcept {
    static const error_category_impl category;
    return category;
}

/** A real failure (not full/empty/timeout): what() carries shmds_last_error(). */
class error : public std::system_error {
public:
    explicit error(int code) : std::system_error(code, error_category(), shmds_last_error()) {}
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
    static backing anonymous() { return backing(SHMDS_BACKING_ANON, {}, -1); }
    static backing path(std::string p, std::uint32_t mode = 0600) {
        backing b(SHMDS_BACKING_PATH, std::move(p), -1);
        b.opts_.mode = mode;
        return b;
    }
    static backing memfd(std::string label) {
        return backing(SHMDS_BACKING_MEMFD, std::move(label), -1);
    }
    static backing fd(int descriptor) { return backing(SHMDS_BACKING_FD, {}, descriptor); }

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
