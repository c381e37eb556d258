// A writer's critical section on one shard (design §4): the shard's robust lock, the
// seqlock's write window and the shard's undo journal (core/undo_journal.hpp, whose
// records and order rules are the ones every locked structure of the library uses).
//
//   WriteTxn t(shard);            lock (waiting at most the handle's lock timeout);
//                                 repair what a dead holder left
//   if (t.status()) ...           -ETIMEDOUT / -EAGAIN: not locked, nothing changed
//   t.set(word, v) ...            open the write window; journal {offset, old}, then store
//   t.commit();                   journal emptied: the changes are permanent
//   ~WriteTxn                     roll back anything uncommitted, close the window, unlock
//
// Stores that need no journal (into a free slot or a fresh arena block, which nothing
// references until a journaled word does) call open() first, so readers see the write
// window before any shared byte changes.
#pragma once

#include "core/error.hpp"
#include "core/failpoint.hpp"
#include "core/robust_mutex.hpp"
#include "hashmap/shard.hpp"

namespace shmds::hashmap {

class WriteTxn {
public:
    // Waits for the lock at most the handle's lock timeout (Shard::lock_timeout_ns).
    explicit WriteTxn(Shard &s) noexcept : s_(s), journal_(s.journal()) {
        // Uncontended, the lock costs one CAS and no clock read: the deadline is only
        // built when there is something to wait for.
        std::uint64_t seen;
        if (SHMDS_LIKELY(core::stamp_try_lock_fast(s.ctl_->lock.word, seen))) {
            after_lock();
            return;
        }
        lock(core::Deadline::from_timeout(s.lock_timeout_ns()));
    }
    // Waits at most until `deadline` (a batch: one deadline for the whole call).
    WriteTxn(Shard &s, const core::Deadline &deadline) noexcept : s_(s), journal_(s.journal()) {
        lock(deadline);
    }
    ~WriteTxn() {
        if (!owns()) return;
        if (open_ || journal_.pending()) s_.repair();  // roll back the uncommitted; seq even
        // A plain store: nothing sleeps on a shard's changes, and freeze() passes
        // through the lock (an acquire that follows this release) rather than needing
        // a fence here.
        core::robust_mutex_unlock(s_.ctl_->lock, core::Release::plain);
    }
    WriteTxn(const WriteTxn &) = delete;
    WriteTxn &operator=(const WriteTxn &) = delete;

    // 0 (locked), or why not, with its sentence set: -ETIMEDOUT (held past the lock
    // timeout by a live thread), -EAGAIN (held, and the timeout is 0: no wait), or
    // SHMDS_ECORRUPT (the lock word names the caller). Unlocked, nothing was changed.
    int status() const noexcept { return status_; }

    // status(), or -EROFS once the map is frozen: every writer asks under the lock, so
    // freeze() (which passes through every shard's lock after setting the flag) knows
    // no write is in flight or can start when it returns.
    int writable() const noexcept {
        if (int r = status()) return r;
        if (s_.frozen_word()->load(std::memory_order_acquire) != kWritable)
            return core::fail_static(-EROFS, "the hash map is frozen: it is read-only for good");
        return 0;
    }

    // Undo everything not yet committed (one key of a batch failed) and close the write
    // window; the lock stays held and the next change opens a new window.
    void rollback() noexcept {
        s_.repair();
        open_ = false;
    }

    void open() noexcept {
        if (open_) return;
        open_ = true;
        ShardControl &c = *s_.ctl_;
        c.seq.store(c.seq.load(std::memory_order_relaxed) | 1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
    }

    // The journal's steps (core::UndoJournal: the record is published before the store
    // it protects), each inside the write window: readers must see the window open
    // before any journaled word changes.
    void save(Word *w) noexcept {
        open();
        journal_.save(w);
    }
    void set(Word *w, std::uint64_t v) noexcept {
        open();
        journal_.set(w, v);
    }
    void add(Word *w, std::int64_t d) noexcept {
        open();
        journal_.add(w, d);
    }
    // A tag byte: the journal saves its whole (8-aligned) word.
    void set_tag(std::atomic<std::uint8_t> *tag, std::uint8_t v) noexcept {
        open();
        journal_.save_containing(tag);
        tag->store(v, std::memory_order_relaxed);
    }

    // Everything journaled so far is permanent (the write window stays open).
    void commit() noexcept {
        journal_.commit();
        SHMDS_FAILPOINT("hashmap.write.committed");
    }

private:
    bool owns() const noexcept { return status_ == 0; }

    void lock(const core::Deadline &deadline) noexcept {
        const core::LockResult r = core::robust_mutex_lock(s_.ctl_->lock, deadline,
                                                           &Shard::repair_hook, &s_, s_.recoveries_);
        if (r == core::LockResult::timed_out) {
            status_ = wait_failed(s_, deadline);
            return;
        }
        after_lock();
    }

    // A holder that died is repaired by the lock's hook; a journal or an odd sequence
    // left behind any other way (a damaged word) is repaired here.
    void after_lock() noexcept {
        if (journal_.pending() || (s_.ctl_->seq.load(std::memory_order_relaxed) & 1)) {
            s_.repair();
            s_.recoveries_->fetch_add(1, std::memory_order_relaxed);
        }
    }

    // The code and sentence for a lock wait that ended without the lock (txn.cpp).
    static int wait_failed(const Shard &s, const core::Deadline &deadline) noexcept;

    Shard &s_;
    core::UndoJournal journal_;  // a view over the shard's journal (its state is shared)
    int status_ = 0;
    bool open_ = false;
};

}  // namespace shmds::hashmap
