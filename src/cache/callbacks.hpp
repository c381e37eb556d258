// The callback scope (design §6): while a callback of a cache runs, this thread records
// which cache (by its hash seed, the same for every handle on it) and which page lock
// the callback's caller holds, so that a call back into that cache can be refused with
// -EDEADLK instead of deadlocking on its own page lock. Scopes nest (a callback that
// calls the cache with allow_recursive may reach another callback).
#pragma once

#include "core/keyed_hash.hpp"

#include <shmds/cache.h>

#include <cstdint>

namespace shmds::cache {

class CallbackScope {
public:
    CallbackScope(const core::HashSeed &seed, std::uint64_t page, bool allow_recursive) noexcept;
    ~CallbackScope();
    CallbackScope(const CallbackScope &) = delete;
    CallbackScope &operator=(const CallbackScope &) = delete;

    // The innermost scope of this thread, or null.
    static const CallbackScope *innermost() noexcept;

    const core::HashSeed seed;
    const std::uint64_t page;  // the page locked around the callback, or Cache::kNoPage
    const bool allow_recursive;
    const CallbackScope *const outer;
};

// Calls a callback's value's release (if any) once, however the caller leaves.
struct ReleaseValue {
    const shmds_cache_value_t &v;
    void *ctx;  // the ctx the callback that filled v got
    ~ReleaseValue() {
        if (v.release) v.release(ctx, v.value);
    }
};

}  // namespace shmds::cache
