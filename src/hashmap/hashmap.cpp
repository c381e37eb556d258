#include "hashmap/hashmap.hpp"

#include "core/error.hpp"

#include <cerrno>
#include <ctime>
#include <new>
#include <sys/random.h>
#include <unistd.h>

namespace shmds::hashmap {

namespace {
core::SegmentShape shape_of(const Geometry &g) {
    static_assert(kGeomMaxEntries == 0 && kGeomShards == 1 && kGeomArena == 2);
    return core::SegmentShape::of(g.variant.word(), std::uint32_t(g.stride), 8, g.total,
                                  layout_hash(g.variant), {g.max_entries, g.shards, g.arena_bytes});
}

// The keyed hash's secret (design §2). getrandom cannot fail for 16 bytes once the
// pool is ready; if it does, clock and PID still give every segment its own seed.
void draw_seed(std::uint64_t (&seed)[2]) noexcept {
    if (getrandom(seed, sizeof seed, 0) == ssize_t(sizeof seed)) return;
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    seed[0] = std::uint64_t(ts.tv_nsec) * 0x9e3779b97f4a7c15ull ^ std::uint64_t(getpid());
    seed[1] = std::uint64_t(ts.tv_sec) * 0xc2b2ae3d27d4eb4full ^ reinterpret_cast<std::uintptr_t>(&ts);
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
                                 requested_.arena_bytes, geom_))
        return r;
    s = shape_of(geom_);
    return allocate_shards();
}

int HashMap::reshape(std::uint32_t v, const std::uint64_t (&geometry)[core::kGeometryWords],
                     core::SegmentShape &s) {
    if (!valid_variant(v)) return core::fail(-EINVAL, "unknown hash map variant {:#x}", v);
    if (int r = compute_geometry(Variant::of(v), geometry[kGeomMaxEntries], geometry[kGeomShards],
                                 geometry[kGeomArena], geom_))
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
    draw_seed(mc->seed);
    auto *ctl = reinterpret_cast<ShardControl *>(base + geom_.shard_control_off);
    for (std::uint64_t i = 0; i < geom_.shards; ++i) Shard::initialize(&ctl[i], geom_);
}

void HashMap::bind(std::uint8_t *base) noexcept {
    const auto *mc = reinterpret_cast<const MapControl *>(base + geom_.map_control_off);
    const HashSeed seed{mc->seed[0], mc->seed[1]};
    auto *ctl = reinterpret_cast<ShardControl *>(base + geom_.shard_control_off);
    for (std::uint64_t i = 0; i < geom_.shards; ++i)
        shards_[i] = Shard(base, &ctl[i], base + geom_.shard_data_off + i * geom_.shard_data_size,
                           &geom_, seed, &segment_.header().recoveries);
    for (std::uint64_t i = 0; i < geom_.shards; ++i) shards_[i].set_shrink_hold(&open_cursors_);
}

int HashMap::incr_by(Span key, std::int64_t delta, std::int64_t *out) noexcept {
    const int bits = geom_.variant.value == ElemType::int16   ? 16
                     : geom_.variant.value == ElemType::int32 ? 32
                                                              : 64;
    return at_writer(key, [&](Shard &s, auto h) { return s.incr_by(h, key, delta, bits, out); });
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
    }
    s.frozen = map_control()->frozen.load(std::memory_order_acquire) == kWritable ? 0 : 1;
    for (std::uint64_t i = 0; i < geom_.shards; ++i) {
        const std::uint64_t p = shards_[i].max_probe();
        if (p > s.max_probe) s.max_probe = p;
    }
    return 0;
}

}  // namespace shmds::hashmap
