// Library-wide C functions: version, errors, unlink, descriptor passing.
#include "api.hpp"
#include "core/fdpass.hpp"
#include "shmds_config.h"

#include <cstring>
#include <unistd.h>

using namespace shmds;

extern "C" {

SHMDS_API const char *shmds_version(void) { return SHMDS_VERSION_STRING; }

SHMDS_API int shmds_version_number(void) {
    return SHMDS_VERSION_MAJOR * 10000 + SHMDS_VERSION_MINOR * 100 + SHMDS_VERSION_PATCH;
}

SHMDS_API const char *shmds_strerror(int code) { return core::error_string(code); }

SHMDS_API const char *shmds_errname(int code) { return core::error_name(code); }

SHMDS_API const char *shmds_last_error(void) { return core::last_error(); }

SHMDS_API int shmds_options_init(shmds_options_t *out, size_t struct_size) {
    const shmds_options_t defaults = SHMDS_OPTIONS_INIT;
    return capi::init_versioned("shmds_options_init", out, struct_size, defaults,
                                SHMDS_V1_SIZE(shmds_options_t, mode));
}

SHMDS_API int shmds_unlink(const char *path) {
    if (!path) return capi::null_arg("shmds_unlink", "path");
    if (::unlink(path) != 0)
        return core::fail(-errno, "{}: unlink failed: {}", path, std::strerror(errno));
    return 0;
}

SHMDS_API int shmds_send_fd(int sock, int fd) { return core::send_fd(sock, fd); }

SHMDS_API int shmds_recv_fd(int sock, int *fd_out) { return core::recv_fd(sock, fd_out); }

}  // extern "C"
