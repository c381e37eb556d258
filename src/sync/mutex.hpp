// The mutex primitive: one OwnedMutex in its own segment.
#pragma once

#include "sync/owned_mutex.hpp"
#include "sync/sync_segment.hpp"

#include <memory>

namespace shmds::sync {

struct alignas(core::kCacheLine) MutexControl {
    OwnedMutex lock;
};

class Mutex final : public SyncSegment {
public:
    static int create(const shmds_options_t *opts, std::unique_ptr<Mutex> &out);
    static int open(const shmds_options_t *opts, std::unique_ptr<Mutex> &out);

    // Inline so that lock+unlock pairs reach glibc without extra call frames.
    int lock(const core::Deadline &dl) noexcept {
        return owned_mutex_lock(ctl().lock, dl, recoveries(), kWhat);
    }
    // timeout_ns as the C API takes it, already validated (-1, 0 or positive).
    int lock_within(std::int64_t timeout_ns) noexcept {
        return owned_mutex_lock_within(ctl().lock, timeout_ns, recoveries(), kWhat);
    }
    int unlock() noexcept { return owned_mutex_unlock(ctl().lock, kWhat); }
    int consistent() noexcept;

private:
    friend struct core::EngineFactory;
    static constexpr const char *kWhat = "the mutex";
    Mutex() noexcept : SyncSegment(core::StructureType::mutex) {}
    int shape(std::uint64_t g0, std::uint64_t g1, Shape &out) const override;
    void init_control(std::uint8_t *control) noexcept override;
    MutexControl &ctl() const noexcept { return *reinterpret_cast<MutexControl *>(control()); }
};

}  // namespace shmds::sync
