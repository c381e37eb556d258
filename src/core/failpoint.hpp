// Named crash points for the crash-matrix tests (DESIGN.md §7). In a build with
// -Dfailpoints=true, SHMDS_FAILPOINT("queue.int.push.published") kills the calling process
// with SIGKILL when that name is armed (shmds_test_arm_failpoint, or the SHMDS_FAILPOINT
// environment variable read at the first check). Armed as "NAME@stop" it stops the
// process there instead (SIGSTOP, once: it disarms itself first), so a test can hold a
// process alive but stalled at a known point, e.g. holding a lock, until it sends SIGCONT.
// In any other build it is nothing.
#pragma once

#include "shmds_config.h"

namespace shmds::core {

#if SHMDS_FAILPOINTS
void failpoint_hit(const char *name) noexcept;
void failpoint_arm(const char *name) noexcept;  // nullptr disarms
// Every failpoint name reached so far in this process, comma-separated (for tests).
const char *failpoint_seen() noexcept;
#define SHMDS_FAILPOINT(name) ::shmds::core::failpoint_hit(name)
#else
// The name is still "used", so a name passed in as a parameter draws no warning.
#define SHMDS_FAILPOINT(name) ((void)(name))
#endif

}  // namespace shmds::core
