#include "hashmap/hashmap.hpp"

#include "core/error.hpp"
#include "core/keyed_hash.hpp"

#include <cerrno>
#include <new>

namespace shmds::hashmap {

namespace {
core::SegmentShape shape_of(const Geometry &g) {
    static_assert(kGeomMaxEntries == 0 && kGeomShards == 1 && kGeomArena == 2 &&
                  kGeomFlags == 3 && kGeomDefaultTtl == 4);
    return core::SegmentShape::of(g.variant.word(), std::uint32_t(g.stride), 8, g.total,
                                  layout_hash(g.variant, g.flags),
                                  {g.max_entries, g.shards, g.arena_bytes, g.flags,
                                   g.default_ttl_ms});
}
}  // namespace

int HashMap::create(const shmds_options_t *opts, const Config &cfg, std::unique_ptr<HashMap> &out) {
    return core::EngineFactory::make<HashMap>(true, opts, "hash map", out, [&](HashMap &m) {
        m.requested_ = cfg;
        m.wanted_variant_ = cfg.variant.word();
    });
}

int HashMap::open(const shmds_options_t *opts, std::uint32_t wanted_variant,
                  std::unique_ptr<HashMap> &out) {
    if (wanted_variant != 0 && !valid_variant(wanted_variant))
        return core::fail(-EINVAL, "{:#x} is not a hash map variant", wanted_variant);
    return core::EngineFactory::make<HashMap>(
        false, opts, "hash map", out, [&](HashMap &m) { m.wanted_variant_ = wanted_variant; });
}

int HashMap::describe(core::SegmentShape &s) {
    if (int r = compute_geometry(requested_.variant, requested_.max_entries, requested_.shards,
                                 requested_.arena_bytes, geom_, requested_.flags,
                                 requested_.default_ttl_ms))
        return r;
    s = shape_of(geom_);
    return allocate_shards();
}

int HashMap::reshape(std::uint32_t v, const std::uint64_t (&geometry)[core::kGeometryWords],
                     core::SegmentShape &s) {
    if (!valid_variant(v)) return core::fail(-EINVAL, "unknown hash map variant {:#x}", v);
    if (int r = compute_geometry(Variant::of(v), geometry[kGeomMaxEntries], geometry[kGeomShards],
                                 geometry[kGeomArena], geom_, geometry[kGeomFlags],
                                 geometry[kGeomDefaultTtl]))
        return r;
    s = shape_of(geom_);
    return allocate_shards();
}

// Before the mapping: bind() cannot fail.
int HashMap::allocate_shards() noexcept {
    shards_.reset(new (std::nothrow) Shard[geom_.shards]);
    return shards_ ? 0 : core::fail(-ENOMEM, "out of memory for a hash map handle");
}

void HashMap::initialize(std::uint8_t *base) noexcept {
    auto *mc = reinterpret_cast<MapControl *>(base + geom_.map_control_off);
    core::draw_hash_seed(mc->seed);  // the keyed hash's secret (design §2)
    auto *ctl = reinterpret_cast<ShardControl *>(base + geom_.shard_control_off);
    for (std::uint64_t i = 0; i < geom_.shards; ++i) Shard::initialize(&ctl[i], geom_);
}

void HashMap::bind(std::uint8_t *base) noexcept {
    const auto *mc = reinterpret_cast<const MapControl *>(base + geom_.map_control_off);
    const HashSeed seed{mc->seed[0], mc->seed[1]};
    seed_ = seed;
    auto *ctl = reinterpret_cast<ShardControl *>(base + geom_.shard_control_off);
    for (std::uint64_t i = 0; i < geom_.shards; ++i) {
        shards_[i] = Shard(base, &ctl[i], base + geom_.shard_data_off + i * geom_.shard_data_size,
                           &geom_, seed, &segment_.header().recoveries);
        shards_[i].set_clock(&clock_);
        shards_[i].set_lock_timeout(&lock_timeout_ns_);
        shards_[i].set_shrink_hold(&open_cursors_);
    }
}

std::uint64_t HashMap::remaining_ms(std::uint64_t expire) const noexcept {
    if (expire == 0) return 0;
    const std::uint64_t now = clock_.now_ms();
    return expire > now ? expire - now : 1;  // a read saw it unexpired: at least 1 ms
}

int HashMap::flush_expired(std::uint64_t *removed) noexcept {
    if (read_only_) return refuse_read_only();
    // Each shard in steps of a few thousand slots, so a reader of the shard never waits
    // long behind the sweep; the first step starts the shard's pass from slot 0.
    constexpr std::uint64_t kStep = 4096;
    for (std::uint64_t i = 0; i < geom_.shards; ++i) {
        bool restart = true;
        for (;;) {
            const int r = shards_[i].flush_expired(kStep, restart, removed);
            if (r < 0) return r;
            if (r == 1) break;
            restart = false;
        }
    }
    return 0;
}

int HashMap::flush_expired_partial(std::uint64_t max_slots, std::uint64_t *removed) noexcept {
    if (read_only_) return refuse_read_only();
    std::uint64_t left = max_slots;
    while (left > 0) {
        Shard &s = shards_[flush_shard_ % geom_.shards];
        const ShardSnapshot before = s.snapshot();
        // The shard's sweep covers at most its live table: spend no more than that.
        const std::uint64_t step = left < before.cap ? left : before.cap;
        const int r = s.flush_expired(step, false, removed);
        if (r < 0) return r;
        left -= step;
        if (r == 0) continue;  // the budget ran out inside the shard
        if (++flush_shard_ >= geom_.shards) {
            flush_shard_ = 0;
            return 1;  // a full pass over every shard is complete
        }
    }
    return 0;
}

int HashMap::evict_entry(bool newest, OutBuf *key, OutBuf *val) noexcept {
    if (!evicting())
        return core::fail(-EINVAL, "pop, shift and drain need a map created with "
                                   "SHMDS_HASHMAP_EVICT");
    if (read_only_) return refuse_read_only();
    for (std::uint64_t k = 0; k < geom_.shards; ++k) {
        const std::uint64_t i = (pop_shard_ + k) % geom_.shards;
        const int r = shards_[i].evict_entry(newest, key, val);
        if (r == -ENOENT) continue;
        // An entry too big for the caller's buffers stays in the map and must come
        // first next time (drain_batch and the C++ retry rely on it): stay on its shard.
        pop_shard_ = r == -ENOBUFS ? i : i + 1;
        return r;
    }
    return core::fail_static(-ENOENT, "the hash map is empty");
}

int HashMap::drain(std::uint64_t n, std::uint64_t *removed) noexcept {
    *removed = 0;
    while (*removed < n) {
        const int r = evict_entry(false, nullptr, nullptr);
        if (r == -ENOENT) break;
        if (r < 0) return r;
        ++*removed;
    }
    return 0;
}

int HashMap::incr_by(Span key, std::int64_t delta, std::int64_t *out) noexcept {
    const int bits = geom_.variant.value == ElemType::int16   ? 16
                     : geom_.variant.value == ElemType::int32 ? 32
                                                              : 64;
    return at_writer(key, [&](Shard &s, auto h) { return s.incr_by(h, key, delta, bits, out); });
}

std::uint64_t HashMap::size() const noexcept {
    std::uint64_t n = 0;
    for (std::uint64_t i = 0; i < geom_.shards; ++i) n += shards_[i].snapshot().size;
    return n;
}

int HashMap::stats(Stats &s) noexcept {
    s = Stats{};
    s.max_entries = geom_.max_entries;
    s.table_slots_max = geom_.max_cap * geom_.shards;
    s.arena_capacity = geom_.arena_bytes;
    s.shards = geom_.shards;
    s.segment_bytes = geom_.total;
    s.recoveries = segment_.recoveries();
    for (std::uint64_t i = 0; i < geom_.shards; ++i) {
        const ShardSnapshot snap = shards_[i].snapshot();
        s.size += snap.size;
        s.table_slots += snap.cap;
        s.tombstones += snap.tombstones;
        s.resizes += snap.resizes;
        s.arena_used += snap.arena_used;
        s.evictions += snap.evictions;
        s.expirations += snap.expirations;
    }
    s.frozen = frozen() ? 1 : 0;
    for (std::uint64_t i = 0; i < geom_.shards; ++i) {
        const std::uint64_t p = shards_[i].max_probe();
        if (p > s.max_probe) s.max_probe = p;
    }
    s.default_ttl_ms = geom_.default_ttl_ms;
    s.flags = geom_.flags;
    return 0;
}

}  // namespace shmds::hashmap
