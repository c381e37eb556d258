// The hash map engine: one segment of `shards` shards (design docs/hashmap-design.md).
// Its verbs take keys and values as byte strings; integer keys and values are their 8
// native bytes, range-checked by the C adapters. The C API turns handles into this
// object and nothing else.
#pragma once

#include "core/engine_factory.hpp"
#include "core/eventfd.hpp"
#include "core/segment.hpp"
#include "hashmap/layout.hpp"
#include "hashmap/shard.hpp"

#include <cstdint>
#include <memory>

namespace shmds::hashmap {

struct Config {
    Variant variant;
    std::uint64_t max_entries;
    std::uint64_t shards;       // 0 = 1
    std::uint64_t arena_bytes;  // 0 = 128 per entry when key or value is bytes
    std::uint64_t flags = 0;           // kFlagEvict
    std::uint64_t default_ttl_ms = 0;  // 0 = entries never expire unless told
};

struct Stats {
    std::uint64_t size, max_entries, table_slots, table_slots_max, tombstones, resizes;
    std::uint64_t arena_capacity, arena_used, shards, recoveries, segment_bytes;
    std::uint64_t max_probe, frozen;
    std::uint64_t evictions, expirations, default_ttl_ms, flags;
};

// One key of a batch: the adapter fills key (and val or out) and a nonzero result for a
// key it refused; the engine sets result (0 or a code) for the others.
struct BatchItem {
    Span key;
    Span val;
    OutBuf *out = nullptr;
    int result = 0;
};

class HashMap final : public core::SegmentClient {
public:
    static int create(const shmds_options_t *opts, const Config &cfg,
                      std::unique_ptr<HashMap> &out);
    // wanted_variant: a Variant word, or 0 for any.
    static int open(const shmds_options_t *opts, std::uint32_t wanted_variant,
                    std::unique_ptr<HashMap> &out);
    // Map a frozen map's file PROT_READ. -EPERM if it is not frozen (sealed).
    static int open_read_only(const shmds_options_t *opts, std::uint32_t wanted_variant,
                              std::unique_ptr<HashMap> &out);

    Variant variant() const noexcept { return geom_.variant; }

    // The verbs (return codes: include/shmds/hashmap.h). `key` must be 8 bytes on an
    // integer-key map; the adapters guarantee it.
    int get(Span key, OutBuf *out, std::uint64_t *expire = nullptr) noexcept {
        return at(key, [&](Shard &s, auto h) { return s.get(h, key, out, expire); });
    }
    // get() of an integer key (its 8 native bytes as a word) on a map of 8-byte values,
    // hashed and dispatched without the Span: 0 with *value, -ENOENT, or
    // Shard::kAskGet (call get(): see Shard::get_word).
    int get_word(std::uint64_t key, std::uint64_t *value) noexcept {
        const std::uint64_t h = hash_u64(key, seed_);
        return shards_[shard_of(h)].get_word(h, key, value);
    }
    int exists(Span key) noexcept {
        const int r = get(key, nullptr);
        return r == 0 ? 1 : r == -ENOENT ? 0 : r;
    }
    int write(Span key, Span val, WriteMode mode, OutBuf *old,
              std::uint64_t ttl_ms = kDefaultTtl) noexcept {
        return at_writer(key,
                         [&](Shard &s, auto h) { return s.write(h, key, val, mode, old, ttl_ms); });
    }
    int remove(Span key, OutBuf *old) noexcept {
        return at_writer(key, [&](Shard &s, auto h) { return s.remove(h, key, old); });
    }
    int cas(Span key, Span expected, Span desired) noexcept {
        return at_writer(key, [&](Shard &s, auto h) { return s.cas(h, key, expected, desired); });
    }
    int cas_take(Span key, Span expected) noexcept {
        return at_writer(key, [&](Shard &s, auto h) { return s.cas_take(h, key, expected); });
    }
    int get_or_set(Span key, Span val, OutBuf *out) noexcept {
        return at_writer(key, [&](Shard &s, auto h) { return s.get_or_set(h, key, val, out); });
    }
    // Integer values only (the adapter checks).
    int incr_by(Span key, std::int64_t delta, std::int64_t *out) noexcept;
    int minmax(Span key, std::int64_t v, bool is_max, std::int64_t *out) noexcept {
        return at_writer(key, [&](Shard &s, auto h) { return s.minmax(h, key, v, is_max, out); });
    }

    // Batches (batch.cpp): each returns how many keys succeeded (get: were found), or a
    // code for the whole call (-ENOMEM, -EROFS on a read-only handle).
    int put_batch(BatchItem *items, std::size_t n) noexcept;
    int remove_batch(BatchItem *items, std::size_t n) noexcept;
    int get_batch(BatchItem *items, std::size_t n) noexcept;

    // Whole-map verbs (maintenance.cpp).
    int reserve(std::uint64_t entries) noexcept;
    int clear(std::uint64_t *removed) noexcept;
    int freeze() noexcept;
    bool read_only() const noexcept { return read_only_; }

    // For cursors: while any is open, removes through this handle do not shrink.
    void cursor_opened() noexcept { open_cursors_.fetch_add(1, std::memory_order_relaxed); }
    void cursor_closed() noexcept { open_cursors_.fetch_sub(1, std::memory_order_relaxed); }
    // The shards, and which one holds a key (its hash in *h).
    std::uint64_t shard_count() const noexcept { return geom_.shards; }
    Shard &shard_at(std::uint64_t i) noexcept { return shards_[i]; }
    std::uint64_t locate(Span key, std::uint64_t *h) const noexcept {
        *h = shards_[0].hash(key);
        return shard_of(*h);
    }

    // TTL (design §7).
    std::uint64_t default_ttl_ms() const noexcept { return geom_.default_ttl_ms; }
    int set_expire(Span key, TtlChange how, std::uint64_t ttl_ms = 0) noexcept {
        return at_writer(key, [&](Shard &s, auto h) { return s.set_expire(h, key, how, ttl_ms); });
    }
    // The remaining TTL now of an absolute expiry (0 stays 0 = never).
    std::uint64_t remaining_ms(std::uint64_t expire) const noexcept;
    int flush_expired(std::uint64_t *removed) noexcept;
    // Sweep at most max_slots slots (over the shards, from where this handle's last
    // partial flush stopped): 1 when a pass over every shard is complete, else 0.
    int flush_expired_partial(std::uint64_t max_slots, std::uint64_t *removed) noexcept;
    // Not thread-safe against other calls on this handle (set it before use).
    void set_clock(Clock c) noexcept { clock_ = c; }

    // How long any verb of this handle waits for a shard's lock (a writer's, or a
    // reader's that falls back to it) before failing with -ETIMEDOUT (0: -EAGAIN at
    // once, -1: forever, the default). Safe to change while other threads use the handle.
    void set_lock_timeout(std::int64_t timeout_ns) noexcept {
        lock_timeout_ns_.store(timeout_ns, std::memory_order_relaxed);
    }
    std::int64_t lock_timeout() const noexcept {
        return lock_timeout_ns_.load(std::memory_order_relaxed);
    }

    // Eviction (design §6), evicting maps only (-EINVAL otherwise). The shard is the
    // eviction scope: pop/shift take from the shards in turn, starting after the shard
    // the handle's last pop or shift used.
    bool evicting() const noexcept { return (geom_.flags & kFlagEvict) != 0; }
    int evict_entry(bool newest, OutBuf *key, OutBuf *val) noexcept;
    int drain(std::uint64_t n, std::uint64_t *removed) noexcept;

    int stats(Stats &s) noexcept;
    // Cheap gauges (no pass over the tables): the capacity as created, and whether the
    // map is frozen or freezing (Stats::frozen).
    std::uint64_t max_entries() const noexcept { return geom_.max_entries; }
    bool frozen() const noexcept;
    // Entries held now (Stats::size without the rest, above all without max_probe).
    std::uint64_t size() const noexcept;
    core::Segment &segment() noexcept { return segment_; }
    // The handle's opt-in eventfd (hashmap.h, "eventfd"): process-local, signalled only
    // by an explicit notify, never by a verb.
    core::EventNotifier &events() noexcept { return events_; }

    // SegmentClient
    core::StructureType type() const noexcept override { return core::StructureType::hashmap; }
    std::uint32_t wanted_variant() const noexcept override { return wanted_variant_; }
    const char *variant_name(std::uint32_t v) const noexcept override {
        return hashmap::variant_name(v);
    }
    int describe(core::SegmentShape &s) override;
    int reshape(std::uint32_t variant, const std::uint64_t (&geometry)[core::kGeometryWords],
                core::SegmentShape &s) override;
    void initialize(std::uint8_t *base) noexcept override;

private:
    friend struct core::EngineFactory;
    HashMap() = default;
    int allocate_shards() noexcept;
    void bind(std::uint8_t *base) noexcept;

    // The top shard_bits of the hash choose the shard (design §2). Shifted in two steps
    // so that 0 bits (one shard) needs no branch: (h >> 1) >> 63 is 0.
    std::uint64_t shard_of(std::uint64_t h) const noexcept {
        return (h >> 1) >> (63 - geom_.shard_bits);
    }
    // Hash once, then run f on the key's shard.
    template <typename F>
    int at(Span key, F &&f) noexcept {
        const std::uint64_t h = shards_[0].hash(key);
        return f(shards_[shard_of(h)], h);
    }
    // at() for a writer: a read-only mapping must never reach a shard lock (a store
    // there would fault), so it is refused before.
    template <typename F>
    int at_writer(Span key, F &&f) noexcept {
        if (read_only_) return refuse_read_only();
        return at(key, static_cast<F &&>(f));
    }
    int refuse_read_only() const noexcept;
    MapControl *map_control() const noexcept;

    struct Grouping {
        std::unique_ptr<std::uint64_t[]> hash;   // per item
        std::unique_ptr<std::uint32_t[]> order;  // item indices, grouped by shard
        std::unique_ptr<std::uint32_t[]> start;  // shard s's items: order[start[s] .. start[s+1])
    };
    int group_by_shard(BatchItem *items, std::size_t n, Grouping &g) noexcept;
    template <typename Step>
    int write_batch(BatchItem *items, std::size_t n, Step &&step) noexcept;

    core::Segment segment_;
    Geometry geom_{};
    Config requested_{};
    std::uint32_t wanted_variant_ = 0;
    std::unique_ptr<Shard[]> shards_;
    HashSeed seed_{};  // the map's (MapControl), copied at bind for get_word
    bool read_only_ = false;
    std::atomic<std::uint32_t> open_cursors_{0};
    Clock clock_;                 // the shards point here
    std::atomic<std::int64_t> lock_timeout_ns_{-1};  // the shards point here too
    std::uint64_t pop_shard_ = 0;    // where the next pop/shift starts
    std::uint64_t flush_shard_ = 0;  // where the next partial flush continues
    core::EventNotifier events_;
};

}  // namespace shmds::hashmap
