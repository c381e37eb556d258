// The undo journal of a locked structure (the HashMap's shards, the Cache's pages): the
// writer holding the structure's lock records {segment offset, old value} for each
// shared 64-bit word before it changes it, and empties the journal to commit. A writer
// killed at any instruction leaves a journal that the next holder (after taking the
// lock over) rolls back, so a half-done change never survives its writer.
//
//   UndoJournal j(count, records, cap, base, lo, hi);   a view; the state is shared
//   j.set(word, v) ...                                   record old value, then store
//   j.commit();                                          the changes are permanent
//   j.repair();                                          (next holder) roll back the rest
//
// The journal itself lives in shared memory, so repair() trusts nothing it reads there:
// a damaged count is clamped to the capacity and a record whose offset is unaligned or
// outside [lo, hi) (the structure's own region) is skipped, so a scribbled journal can
// never make a process write outside the structure.
//
// Words only ever change through whole 64-bit stores, so a record's undo rewrites the
// exact old bytes; a narrower field (a u32 slot, a tag byte) is journaled through the
// aligned word that contains it (save_containing).
#pragma once

#include <atomic>
#include <cstdint>

#include "core/platform.hpp"

namespace shmds::core {

using JournalWord = std::atomic<std::uint64_t>;

struct UndoRecord {
    std::atomic<std::uint64_t> off;  // from the segment base, 8-aligned
    std::atomic<std::uint64_t> old;  // the word's value before the change
};
static_assert(sizeof(UndoRecord) == 16);

class UndoJournal {
public:
    // count and records live in shared memory (records[cap]); base is the segment
    // base; [lo, hi) the segment offsets repair() may write (hi: one past the last byte).
    UndoJournal(std::atomic<std::uint64_t> &count, UndoRecord *records, std::uint32_t cap,
                std::uint8_t *base, std::uint64_t lo, std::uint64_t hi) noexcept
        : count_(count), records_(records), cap_(cap), base_(base), lo_(lo), hi_(hi) {}

    // Records not yet committed (a dead writer's, or this writer's so far).
    bool pending() const noexcept { return count_.load(std::memory_order_acquire) != 0; }

    // Record a word's old value before it changes. The record is published before the
    // store it protects, and the compiler may not move the store above it: a writer
    // killed between the two leaves a record whose undo rewrites the same value.
    void save(JournalWord *w) noexcept {
        const std::uint64_t n = count_.load(std::memory_order_relaxed);
        if (SHMDS_UNLIKELY(n >= cap_)) __builtin_trap();  // every verb's change is bounded
        records_[n].off.store(std::uint64_t(reinterpret_cast<std::uint8_t *>(w) - base_),
                              std::memory_order_relaxed);
        records_[n].old.store(w->load(std::memory_order_relaxed), std::memory_order_relaxed);
        count_.store(n + 1, std::memory_order_release);
        std::atomic_signal_fence(std::memory_order_seq_cst);
    }
    // The aligned 64-bit word that holds the byte at p (a u32 field, a tag byte).
    void save_containing(const void *p) noexcept {
        const auto addr = reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{7};
        save(reinterpret_cast<JournalWord *>(addr));
    }
    void set(JournalWord *w, std::uint64_t v) noexcept {
        save(w);
        w->store(v, std::memory_order_relaxed);
    }
    void add(JournalWord *w, std::int64_t d) noexcept {
        set(w, w->load(std::memory_order_relaxed) + std::uint64_t(d));
    }
    void set_u32(std::atomic<std::uint32_t> *w, std::uint32_t v) noexcept {
        save_containing(w);
        w->store(v, std::memory_order_relaxed);
    }

    // Everything recorded so far is permanent.
    void commit() noexcept {
        count_.store(0, std::memory_order_release);
        std::atomic_signal_fence(std::memory_order_seq_cst);
    }

    // Undo every uncommitted record, newest first (bounds-checked, see above), then
    // empty the journal. Returns how many records were undone.
    std::uint32_t repair() noexcept {
        std::uint64_t n = count_.load(std::memory_order_acquire);
        if (n > cap_) n = cap_;  // damaged count: undo what can be undone
        std::uint32_t undone = 0;
        while (n-- > 0) {
            const std::uint64_t off = records_[n].off.load(std::memory_order_relaxed);
            if (off % 8 != 0 || off < lo_ || hi_ < 8 || off > hi_ - 8) continue;
            reinterpret_cast<JournalWord *>(base_ + off)
                ->store(records_[n].old.load(std::memory_order_relaxed),
                        std::memory_order_relaxed);
            ++undone;
        }
        count_.store(0, std::memory_order_release);
        return undone;
    }

private:
    std::atomic<std::uint64_t> &count_;
    UndoRecord *records_;
    std::uint32_t cap_;
    std::uint8_t *base_;
    std::uint64_t lo_, hi_;
};

}  // namespace shmds::core
