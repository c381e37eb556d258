// A page held under its lock, its frame found and (unless asked not to) checked: the
// scope of every cache operation. Taking the lock over from a dead holder repairs the
// page first (Cache::repair_page: undo the journal, hand back an abandoned spare
// frame), so an operation never sees a half-done change.
#pragma once

#include "cache/cache.hpp"
#include "core/deadline.hpp"
#include "core/robust_mutex.hpp"
#include "core/undo_journal.hpp"

namespace shmds::cache {

class Held {
public:
    Held(Cache &c, std::uint64_t page, bool validate = true,
         const core::Deadline &deadline = core::Deadline::from_timeout(-1)) noexcept;
    Held(const Held &) = delete;
    Held &operator=(const Held &) = delete;

    // 0; SHMDS_ECORRUPT for a damaged page (or a lock word naming this thread); -EAGAIN
    // when a NOWAIT deadline found the lock held by a live thread. Sentence set.
    int status() const noexcept { return status_; }
    bool owns() const noexcept { return lock_.owns(); }

    std::uint64_t page() const noexcept { return page_; }
    // The page's frame; Geometry::frames when the map word is damaged (frame() unusable).
    std::uint64_t frame_index() const noexcept { return frame_index_; }
    Frame &frame() noexcept { return frame_; }
    PageControl &control() const noexcept { return pc_; }
    core::UndoJournal &journal() noexcept { return journal_; }

    // Look at the page's frame again (after an expunge flipped it). 0 or ECORRUPT.
    int rebind(bool validate) noexcept;

private:
    static void repair_hook(void *ctx) noexcept;

    struct RepairContext {
        Cache *cache;
        std::uint64_t page;
    };
    Cache &c_;
    std::uint64_t page_;
    PageControl &pc_;
    core::UndoJournal journal_;
    RepairContext ctx_;
    core::RobustLock lock_;
    Frame frame_;
    std::uint64_t frame_index_ = 0;
    int status_ = 0;
};

template <class Fn>
int Cache::each_sound_page(Fn &&fn) noexcept {
    int result = 0;
    for (std::uint64_t p = 0; p < geom_.num_pages; ++p) {
        Held h(*this, p);
        if (!h.owns()) return h.status();
        if (h.status() != 0) {
            result = h.status();
            continue;
        }
        if (int r = fn(h, result)) return r;
    }
    return result;
}

}  // namespace shmds::cache
