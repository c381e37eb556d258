#include "cache/held.hpp"

#include "core/error.hpp"

#include <cerrno>

namespace shmds::cache {

Held::Held(Cache &c, std::uint64_t page, bool validate, const core::Deadline &deadline) noexcept
    : c_(c),
      page_(page),
      pc_(c.page_control(page)),
      journal_(c.journal(page)),
      ctx_{&c, page},
      // Released with a plain store: no sleeper waits for a change made under a page
      // lock (a fill's waiters wait for its claim, released by a CAS: fill.cpp), so
      // nothing needs the unlock to be a fence, and a get pays one locked instruction.
      lock_(pc_.lock, deadline, &Held::repair_hook, &ctx_, &c.recoveries(),
            core::Release::plain) {
    if (!lock_.owns()) {
        status_ = deadline.nowait() && lock_.result() == core::LockResult::timed_out
                      ? core::fail_static(-EAGAIN, "the cache page is locked")
                      : SHMDS_ECORRUPT;
        return;
    }
    // A dead holder was repaired by the lock's hook; a journal or a claim left behind
    // any other way (a damaged word) is repaired here.
    if (journal_.pending() || pc_.claim_slot.load(std::memory_order_relaxed) != 0) {
        c.repair_page(page);
        c.recoveries().fetch_add(1, std::memory_order_relaxed);
    }
    status_ = rebind(validate);
}

int Held::rebind(bool validate) noexcept {
    const std::uint64_t f = c_.page_map(page_).load(std::memory_order_relaxed);
    if (f >= c_.geom_.frames) {
        frame_index_ = c_.geom_.frames;  // none: only a re-initialisation can help
        frame_ = Frame();
        return core::fail(SHMDS_ECORRUPT,
                          "cache page {} is damaged (its frame index {} is out of range); "
                          "shmds_cache_verify re-initialises it",
                          page_, f);
    }
    frame_index_ = f;
    frame_ = Frame(c_.frame_bytes(f), &c_.geom_);
    if (!validate) return 0;
    const int r = frame_.check(page_);
    if (r == 0) c_.remember_frame(page_, f, frame_.num_slots());
    return r;
}

void Held::repair_hook(void *ctx) noexcept {
    auto *r = static_cast<RepairContext *>(ctx);
    r->cache->repair_page(r->page);
}

}  // namespace shmds::cache
