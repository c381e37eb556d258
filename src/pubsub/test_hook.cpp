#include "pubsub/test_hook.hpp"

#if SHMDS_FAILPOINTS

#include <atomic>

namespace shmds::pubsub {

namespace {
std::atomic<ClaimHook> g_hook{nullptr};
std::atomic<void *> g_context{nullptr};
}  // namespace

void set_claim_hook(ClaimHook hook, void *context) noexcept {
    g_context.store(context, std::memory_order_relaxed);
    g_hook.store(hook, std::memory_order_release);
}

void run_claim_hook(std::uint64_t position) noexcept {
    // Taken out before it runs, so publishes made by the hook itself pass straight by.
    ClaimHook hook = g_hook.exchange(nullptr, std::memory_order_acq_rel);
    if (hook) hook(position, g_context.load(std::memory_order_relaxed));
}

}  // namespace shmds::pubsub

#endif
