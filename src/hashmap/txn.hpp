// A writer's critical section on one shard (design §4): the shard's robust lock, the
// seqlock's write window and the undo journal.
//
//   WriteTxn t(shard);            lock; repair what a dead holder left
//   t.set(word, v) ...            journal {offset, old}, then store
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
    explicit WriteTxn(Shard &s) noexcept
        : s_(s),
          lock_(s.ctl_->lock, core::Deadline::from_timeout(-1), &Shard::repair_hook, &s,
                s.recoveries_) {
        if (!lock_.owns()) return;
        // A holder that died is repaired by the lock's hook; a journal or an odd
        // sequence left behind any other way (a damaged word) is repaired here.
        if (s.ctl_->journal_count.load(std::memory_order_acquire) != 0 ||
            (s.ctl_->seq.load(std::memory_order_relaxed) & 1)) {
            s.repair();
            s.recoveries_->fetch_add(1, std::memory_order_relaxed);
        }
    }
    ~WriteTxn() {
        if (!lock_.owns()) return;
        if (open_ || s_.ctl_->journal_count.load(std::memory_order_relaxed) != 0)
            s_.repair();  // roll back what was not committed; seq even again
    }
    WriteTxn(const WriteTxn &) = delete;
    WriteTxn &operator=(const WriteTxn &) = delete;

    // 0, or SHMDS_ECORRUPT when the lock word names the caller (sentence set).
    int status() const noexcept { return lock_.owns() ? 0 : SHMDS_ECORRUPT; }

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

    // Record a word's old value before it changes. The record is published before the
    // store it protects, and the compiler may not move the store above it: a writer
    // killed between the two leaves a record whose undo rewrites the same value.
    void save(Word *w) noexcept {
        open();
        ShardControl &c = *s_.ctl_;
        const std::uint64_t n = c.journal_count.load(std::memory_order_relaxed);
        if (SHMDS_UNLIKELY(n >= kJournalCap)) __builtin_trap();  // every verb is bounded
        c.journal[n].off.store(s_.seg_off(w), std::memory_order_relaxed);
        c.journal[n].old.store(w->load(std::memory_order_relaxed), std::memory_order_relaxed);
        c.journal_count.store(n + 1, std::memory_order_release);
        std::atomic_signal_fence(std::memory_order_seq_cst);
    }
    void set(Word *w, std::uint64_t v) noexcept {
        save(w);
        w->store(v, std::memory_order_relaxed);
    }
    void add(Word *w, std::int64_t d) noexcept {
        set(w, w->load(std::memory_order_relaxed) + std::uint64_t(d));
    }
    // A tag byte: the journal saves its whole (8-aligned) word.
    void set_tag(std::atomic<std::uint8_t> *tag, std::uint8_t v) noexcept {
        const auto addr = reinterpret_cast<std::uintptr_t>(tag);
        save(reinterpret_cast<Word *>(addr & ~std::uintptr_t{7}));
        tag->store(v, std::memory_order_relaxed);
    }

    // Everything journaled so far is permanent (the write window stays open).
    void commit() noexcept {
        s_.ctl_->journal_count.store(0, std::memory_order_release);
        std::atomic_signal_fence(std::memory_order_seq_cst);
        SHMDS_FAILPOINT("hashmap.write.committed");
    }

private:
    Shard &s_;
    core::RobustLock lock_;
    bool open_ = false;
};

}  // namespace shmds::hashmap
