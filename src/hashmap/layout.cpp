#include "hashmap/layout.hpp"

#include "core/error.hpp"

#include <cerrno>
#include <cstdio>

namespace shmds::hashmap {

const char *variant_name(std::uint32_t w) noexcept {
    // Every (key, value) pair spelled once, so the names have static storage.
    struct Names {
        char text[16][16][24];
        Names() noexcept {
            for (std::uint32_t k = 0; k < 16; ++k)
                for (std::uint32_t v = 0; v < 16; ++v)
                    std::snprintf(text[k][v], sizeof text[k][v], "%s->%s",
                                  core::elem_type_name(k), core::elem_type_name(v));
        }
    };
    static const Names names;
    if (!valid_variant(w)) return "unknown-variant";
    return names.text[w & 0xff][w >> 8];
}

int compute_geometry(Variant v, std::uint64_t max_entries, std::uint64_t shards,
                     std::uint64_t arena_bytes, Geometry &g, std::uint64_t flags,
                     std::uint64_t default_ttl_ms) {
    g = Geometry{};
    g.variant = v;
    if (!valid_key_type(v.key))
        return core::fail(-EINVAL, "hash map key type {} is not int16, int32, int64 or bytes",
                          core::elem_type_name(std::uint32_t(v.key)));
    if (!valid_value_type(v.value))
        return core::fail(-EINVAL,
                          "hash map value type {} is not int16, int32, int64, f64 or bytes",
                          core::elem_type_name(std::uint32_t(v.value)));
    if (max_entries == 0 || max_entries > kMaxEntries)
        return core::fail(-EINVAL, "hash map max_entries {} is not in 1..{}", max_entries,
                          kMaxEntries);
    if (shards == 0) shards = 1;
    if (shards > kMaxShards || !core::is_pow2(shards))
        return core::fail(-EINVAL, "hash map shards {} is not a power of two in 1..{}", shards,
                          kMaxShards);
    if (flags & ~kKnownFlags)
        return core::fail(-EINVAL, "hash map flags {:#x} hold unknown bits", flags);
    if (default_ttl_ms > kMaxTtlMs)
        return core::fail(-EINVAL, "hash map default TTL of {} ms exceeds {} ms", default_ttl_ms,
                          kMaxTtlMs);
    g.flags = flags;
    g.default_ttl_ms = default_ttl_ms;
    g.max_entries = max_entries;
    g.shards = shards;
    g.shard_bits = std::uint64_t(__builtin_ctzll(shards));
    g.shard_max = (max_entries + shards - 1) / shards;
    // List positions are 32-bit (slot + 1): an evicting shard's table stays below 2^32.
    if ((flags & kFlagEvict) && g.shard_max > (std::uint64_t{1} << 30))
        return core::fail(-EINVAL,
                          "an evicting hash map holds at most 2^30 entries per shard ({} asked); "
                          "use more shards",
                          g.shard_max);
    // Load stays at most 3/4 (design §5).
    std::uint64_t cap = core::round_up_pow2((g.shard_max * 4 + 2) / 3);
    g.max_cap = cap < kMinTable ? kMinTable : cap;

    const bool has_bytes = v.key == ElemType::bytes || v.value == ElemType::bytes;
    if (has_bytes) {
        if (arena_bytes == 0) arena_bytes = max_entries * kDefaultArenaPerEntry;
        std::uint64_t per = core::align_up((arena_bytes + shards - 1) / shards, kMinBlock);
        if (per < kMinShardArena) per = kMinShardArena;
        if (per > kMaxShardArena)
            return core::fail(-EINVAL, "hash map arena of {} bytes per shard exceeds {}", per,
                              kMaxShardArena);
        g.shard_arena = per;
        g.arena_bytes = per * shards;
    } else if (arena_bytes != 0) {
        return core::fail(-EINVAL, "an arena size only applies to maps with bytes keys or values");
    }
    g.key_area = v.key == ElemType::bytes ? 16 : 8;
    g.val_area = v.value == ElemType::bytes ? 32 : 8;
    g.stride = kEntryHeaderWords * 8 + g.key_area + g.val_area;

    g.map_control_off = sizeof(core::SegmentHeader);
    g.shard_control_off = g.map_control_off + sizeof(MapControl);
    g.shard_data_off =
        core::align_up(g.shard_control_off + shards * sizeof(ShardControl), kCacheLine);
    std::uint64_t off = 0;
    for (int b = 0; b < 2; ++b) {
        g.tags_off[b] = off;
        off = core::align_up(off + g.max_cap, kCacheLine);
    }
    for (int b = 0; b < 2; ++b) {
        g.entries_off[b] = off;
        off = core::align_up(off + g.max_cap * g.stride, kCacheLine);
    }
    for (int b = 0; b < 2; ++b) {
        g.visited_off[b] = off;
        if (flags & kFlagEvict) off = core::align_up(off + g.max_cap, kCacheLine);
    }
    for (int b = 0; b < 2; ++b) {
        g.links_off[b] = off;
        if (flags & kFlagEvict) off = core::align_up(off + g.max_cap * kLinkBytes, kCacheLine);
    }
    g.arena_off = off;
    off = core::align_up(off + g.shard_arena, kCacheLine);
    g.shard_data_size = off;
    g.total = g.shard_data_off + shards * g.shard_data_size;
    return 0;
}

std::uint64_t layout_hash(Variant v, std::uint64_t flags) noexcept {
    core::LayoutHash h;
    h.add({std::uint64_t(core::StructureType::hashmap), v.word(), sizeof(MapControl),
           sizeof(ShardControl), offsetof(ShardControl, seq), offsetof(ShardControl, active),
           offsetof(ShardControl, cap), offsetof(ShardControl, arena_bump),
           offsetof(ShardControl, free_head), offsetof(ShardControl, journal_count),
           offsetof(ShardControl, journal), sizeof(JournalRecord), kJournalCap, kArenaClasses,
           kMinBlock, kMinTable, kEntryHeaderWords, sizeof(core::RobustMutex)});
    h.add({offsetof(ShardControl, aging), sizeof(AgingControl), offsetof(AgingControl, hand),
           offsetof(AgingControl, flush_cursor), flags, flags & kFlagEvict ? kLinkBytes : 0});
    return h.value();
}

}  // namespace shmds::hashmap
