// What every capi/*.cpp file needs: argument checks that fail with a sentence, and the
// exception firewall (no C++ exception ever crosses the C ABI).
#pragma once

#include "core/deadline.hpp"
#include "core/error.hpp"
#include "core/platform.hpp"

#include <shmds/common.h>

#include <cerrno>
#include <new>

namespace shmds::capi {

// Validate a caller's timeout_ns and turn it into a deadline.
inline int make_deadline(std::int64_t timeout_ns, core::Deadline &out) noexcept {
    if (SHMDS_UNLIKELY(timeout_ns < -1))
        return core::fail(-EINVAL, "timeout_ns {} is invalid: use SHMDS_NOWAIT (0), "
                                   "SHMDS_FOREVER (-1) or a positive number of nanoseconds",
                          timeout_ns);
    out = core::Deadline::from_timeout(timeout_ns);
    return 0;
}

inline int null_arg(const char *function, const char *argument) noexcept {
    return core::fail(-EINVAL, "{}: {} is NULL", function, argument);
}

// Run f() and map any escaping exception to an error code.
template <typename F>
int guarded(const char *function, F &&f) noexcept {
    try {
        return f();
    } catch (const std::bad_alloc &) {
        return core::fail_static(-ENOMEM, "out of memory");
    } catch (...) {
        (void)function;
        return core::fail_static(-EINVAL, "internal error: unexpected exception");
    }
}

}  // namespace shmds::capi
