// An independent cursor over a hash map (design §8): (shard, slot, generation). It walks
// the shards in order and each live table slot by slot, reading without a lock like
// get(). A removal writes a tombstone or an empty tag, which no position depends on; a
// rebuild of the shard being walked (grow, shrink, compaction, clear) bumps its
// generation and the cursor reports -ESTALE from then on until reset: it never skips or
// repeats an entry silently. While a cursor exists, removes through its handle do not
// shrink tables, so removing while iterating through the same handle never invalidates
// it. Process-local; several cursors may walk one map.
#pragma once

#include "hashmap/hashmap.hpp"

#include <cstdint>

namespace shmds::hashmap {

class Cursor {
public:
    explicit Cursor(HashMap &m) noexcept : m_(m) { m_.cursor_opened(); }
    ~Cursor() { m_.cursor_closed(); }
    Cursor(const Cursor &) = delete;
    Cursor &operator=(const Cursor &) = delete;

    HashMap &map() const noexcept { return m_; }
    void reset() noexcept;
    // The next entry: its key and value copied to key / val (either may be null).
    // 1, 0 (the end: stays there until reset), -ESTALE, -ENOBUFS (*len set; the cursor
    // stays on the entry), SHMDS_ECORRUPT.
    int next(OutBuf *key, OutBuf *val) noexcept;
    // Position on key, so next() returns it first. 0 or -ENOENT (the cursor unchanged).
    int seek(Span key) noexcept;

private:
    HashMap &m_;
    std::uint64_t shard_ = 0;
    std::uint64_t slot_ = 0;
    std::uint64_t gen_ = Shard::kAnyGeneration;
    bool stale_ = false;
};

}  // namespace shmds::hashmap
