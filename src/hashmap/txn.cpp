// Why a WriteTxn did not get its shard's lock: the code and the sentence behind
// shmds_last_error(). Out of line: only a failed wait gets here.
#include "hashmap/txn.hpp"

#include "core/thread_id.hpp"

#include <cerrno>

namespace shmds::hashmap {

int WriteTxn::wait_failed(const Shard &s, const core::Deadline &deadline) noexcept {
    const core::StampLock &word = s.ctl_->lock.word;
    // The word names the caller: internal locks are never held across calls, so that
    // is damage (robust_mutex_lock has set the sentence). A forever wait ends no other way.
    if (deadline.forever() || core::stamp_lock_held_by_caller(word)) return SHMDS_ECORRUPT;
    const std::uint64_t shard =
        (s.seg_off(s.ctl_) - s.g_->shard_control_off) / sizeof(ShardControl);
    const std::uint32_t holder =
        core::stamp_tid(word.load(std::memory_order_relaxed) & ~core::kStampLockWaiters);
    if (deadline.nowait())
        return core::fail(-EAGAIN,
                          "hash map shard {}'s lock is held by thread {} and this handle's "
                          "lock timeout is 0 (do not wait); nothing was changed",
                          shard, holder);
    return core::fail(-ETIMEDOUT,
                      "hash map shard {}'s lock stayed held by thread {} for the whole lock "
                      "timeout ({} ns): a live process holds it without releasing it "
                      "(stopped or stuck); nothing was changed",
                      shard, holder, s.lock_timeout_ns());
}

}  // namespace shmds::hashmap
