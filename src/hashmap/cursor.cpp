#include "hashmap/cursor.hpp"

#include "core/error.hpp"

#include <cerrno>

namespace shmds::hashmap {

void Cursor::reset() noexcept {
    shard_ = 0;
    slot_ = 0;
    gen_ = Shard::kAnyGeneration;
    stale_ = false;
}

int Cursor::next(OutBuf *key, OutBuf *val) noexcept {
    if (stale_)
        return core::fail_static(-ESTALE, "the hash map cursor was invalidated by a table "
                                          "rebuild; reset it");
    while (shard_ < m_.shard_count()) {
        const int r = m_.shard_at(shard_).cursor_read(&gen_, &slot_, key, val);
        if (r == 0) {  // this shard is done; the next one is entered at any generation
            ++shard_;
            slot_ = 0;
            gen_ = Shard::kAnyGeneration;
            continue;
        }
        if (r == -ESTALE) stale_ = true;
        return r;
    }
    return 0;
}

int Cursor::seek(Span key) noexcept {
    std::uint64_t h;
    const std::uint64_t s = m_.locate(key, &h);
    std::uint64_t slot, gen;
    if (int r = m_.shard_at(s).find_slot(h, key, &slot, &gen)) return r;
    shard_ = s;
    slot_ = slot;
    gen_ = gen;
    stale_ = false;
    return 0;
}

}  // namespace shmds::hashmap
