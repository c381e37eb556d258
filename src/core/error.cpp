#include "core/error.hpp"

#include <shmds/common.h>

#include <cerrno>
#include <cstring>

namespace shmds::core {

namespace {
thread_local std::string t_last_error;
thread_local const char *t_last_static = nullptr;  // wins over t_last_error when set
}  // namespace

void set_last_error(std::string message) {
    t_last_error = std::move(message);
    t_last_static = nullptr;
}

void set_last_error_static(const char *message) noexcept { t_last_static = message; }

const char *last_error() noexcept { return t_last_static ? t_last_static : t_last_error.c_str(); }

namespace {
struct CodeInfo {
    int code;
    const char *name;
    const char *text;
};

// Every code the library can return, so shmds_errname/shmds_strerror cover them all
// with stable wording (strerror's text varies with the locale and libc).
constexpr CodeInfo kCodes[] = {
    {0, "OK", "success"},
    {-EAGAIN, "EAGAIN", "would block: full or empty, try again"},
    {-ETIMEDOUT, "ETIMEDOUT", "timed out"},
    {-EINVAL, "EINVAL", "invalid argument"},
    {-ENOSPC, "ENOSPC", "no space left to create the segment"},
    {-E2BIG, "E2BIG", "value too large for this structure"},
    {-ENOBUFS, "ENOBUFS", "caller's buffer too small"},
    {-EEXIST, "EEXIST", "already exists"},
    {-ENOENT, "ENOENT", "no such segment or item"},
    {-EACCES, "EACCES", "permission denied"},
    {-EPERM, "EPERM", "operation not permitted"},
    {-ERANGE, "ERANGE", "value out of range for the variant's storage width"},
    {-ENOMEM, "ENOMEM", "out of memory"},
    {-EBADF, "EBADF", "bad file descriptor"},
    {-EMFILE, "EMFILE", "too many open files"},
    {-ENFILE, "ENFILE", "too many open files in the system"},
    {-ELOOP, "ELOOP", "path is a symbolic link (refused)"},
    {-ENOTSUP, "ENOTSUP", "not supported"},
    {-EPROTO, "EPROTO", "protocol error: no descriptor in the message"},
    {-ECONNRESET, "ECONNRESET", "connection closed by the peer"},
    {-EPIPE, "EPIPE", "broken pipe"},
    {-EINTR, "EINTR", "interrupted"},
    {-EISDIR, "EISDIR", "is a directory"},
    {-ECANCELED, "ECANCELED", "cancelled"},
    {-EOVERFLOW, "EOVERFLOW", "size overflow"},
    {-EDEADLK, "EDEADLK", "the calling thread already holds it (deadlock)"},
    {-EBUSY, "EBUSY", "busy: in use by a live process"},
    {-EUSERS, "EUSERS", "no free holder slot: too many processes or threads hold it"},
    {SHMDS_ETYPE, "SHMDS_ETYPE", "segment holds another structure or variant"},
    {SHMDS_EVERSION, "SHMDS_EVERSION", "segment layout version or build is incompatible"},
    {SHMDS_ECORRUPT, "SHMDS_ECORRUPT", "segment failed validation (not libshmds, truncated or damaged)"},
    {SHMDS_EOWNERDEAD, "SHMDS_EOWNERDEAD", "lock acquired; its previous owner died holding it"},
    {SHMDS_EVARIANT, "SHMDS_EVARIANT", "operation not available on this variant"},
};

const CodeInfo *find(int code) noexcept {
    for (const auto &c : kCodes)
        if (c.code == code) return &c;
    return nullptr;
}
}  // namespace

const char *error_name(int code) noexcept {
    const CodeInfo *c = find(code);
    return c ? c->name : "UNKNOWN";
}

const char *error_string(int code) noexcept {
    const CodeInfo *c = find(code);
    return c ? c->text : "unknown error";
}

}  // namespace shmds::core
