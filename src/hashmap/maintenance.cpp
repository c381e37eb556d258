// Whole-map verbs: reserve, clear, freeze and the read-only open of a frozen map.
#include "core/error.hpp"
#include "hashmap/hashmap.hpp"

#include <cerrno>

namespace shmds::hashmap {

MapControl *HashMap::map_control() const noexcept {
    return reinterpret_cast<MapControl *>(segment_.base() + geom_.map_control_off);
}

int HashMap::refuse_read_only() const noexcept {
    return core::fail_static(-EROFS, "this hash map handle was opened read-only (a frozen map)");
}

int HashMap::reserve(std::uint64_t entries) noexcept {
    if (read_only_) return refuse_read_only();
    if (entries > geom_.max_entries)
        return core::fail(-ENOSPC, "cannot reserve {} entries in a hash map of max_entries {}",
                          entries, geom_.max_entries);
    // Keys spread over the shards by hash: each gets its share.
    const std::uint64_t per = (entries + geom_.shards - 1) / geom_.shards;
    for (std::uint64_t i = 0; i < geom_.shards; ++i)
        if (int r = shards_[i].reserve(per)) return r;
    return 0;
}

int HashMap::clear(std::uint64_t *removed) noexcept {
    *removed = 0;
    if (read_only_) return refuse_read_only();
    for (std::uint64_t i = 0; i < geom_.shards; ++i) {
        std::uint64_t n = 0;
        const int r = shards_[i].clear(&n);
        *removed += n;
        if (r) return r;
    }
    return 0;
}

// Refuse writes from now on, then pass through every shard's lock: a writer that took
// its lock before the flag was set finishes (or, dead, is rolled back) before we get
// the lock; one that takes it after sees the flag under the lock and fails. Only then
// is the map sealed, which is what a read-only open asks for.
int HashMap::freeze() noexcept {
    if (read_only_) return 0;  // a read-only handle only opens sealed maps
    std::atomic<std::uint64_t> &f = map_control()->frozen;
    std::uint64_t was = kWritable;
    f.compare_exchange_strong(was, kFreezing, std::memory_order_seq_cst);
    if (was != kWritable && was != kFreezing && was != kSealed)
        return core::fail(SHMDS_ECORRUPT, "the hash map's frozen word is damaged ({})", was);
    for (std::uint64_t i = 0; i < geom_.shards; ++i)
        if (int r = shards_[i].quiesce()) return r;
    f.store(kSealed, std::memory_order_seq_cst);
    return 0;
}

int HashMap::open_read_only(const shmds_options_t *opts, std::uint32_t wanted_variant,
                            std::unique_ptr<HashMap> &out) {
    if (wanted_variant != 0 && !valid_variant(wanted_variant))
        return core::fail(-EINVAL, "{:#x} is not a hash map variant", wanted_variant);
    std::unique_ptr<HashMap> m;
    if (int r = core::EngineFactory::make_read_only<HashMap>(
            opts, "hash map", m, [&](HashMap &e) { e.wanted_variant_ = wanted_variant; }))
        return r;
    if (m->map_control()->frozen.load(std::memory_order_acquire) != kSealed)
        return core::fail(-EPERM,
                          "{}: is not frozen; only a map sealed with shmds_hashmap_freeze() "
                          "opens read-only",
                          m->segment_.describe());
    m->read_only_ = true;
    for (std::uint64_t i = 0; i < m->geom_.shards; ++i) m->shards_[i].set_read_only();
    out = std::move(m);
    return 0;
}

bool HashMap::frozen() const noexcept {
    return map_control()->frozen.load(std::memory_order_acquire) != kWritable;
}

}  // namespace shmds::hashmap
