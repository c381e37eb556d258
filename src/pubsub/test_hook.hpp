// A test-only pause between claiming a position and committing it, to force the
// "lapped publisher" case deterministically: the hook runs in the publishing thread
// with the claimed position, and may publish a whole lap before returning. Compiled
// only into -Dfailpoints=true builds; in any other build the macro is nothing.
#pragma once

#include "shmds_config.h"

#include <cstdint>

namespace shmds::pubsub {

#if SHMDS_FAILPOINTS
using ClaimHook = void (*)(std::uint64_t position, void *context);
// Install (or with nullptr remove) the hook for this process.
void set_claim_hook(ClaimHook hook, void *context) noexcept;
void run_claim_hook(std::uint64_t position) noexcept;
#define SHMDS_PUBSUB_CLAIMED(pos) ::shmds::pubsub::run_claim_hook(pos)
#else
#define SHMDS_PUBSUB_CLAIMED(pos) ((void)0)
#endif

}  // namespace shmds::pubsub
