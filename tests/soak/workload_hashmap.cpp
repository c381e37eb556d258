// hashmap: workers increment counters (their own key and one shared key) in an
// int64->int64 map, and put self-checking values of varying length (inline and arena)
// under their own keys of a bytes->bytes map while reading everyone's. Kills land inside
// the shard locks, mid-journal, mid-rebuild. Checked: no value is ever torn (the value
// names its key and carries a checksum), no acknowledged put is lost (a read sees at
// least the generation its writer acknowledged), counters count every acknowledged
// increment and at most one unacknowledged one per death, and the maps stay usable.
//
// A third map exercises TTL and eviction under the kills: an evicting int64->bytes map
// with fewer entries than keys, written with put and put_ttl (some entries expire within
// a millisecond), touched, flushed partially, and emptied from the eviction end with
// pop, shift and drain_batch. Checked: every value read or taken is whole and names its
// key; no entry is taken twice (each put writes a unique id); the map never holds more
// than max_entries; an entry whose TTL ran out long ago (5 s of slack for a descheduled
// writer) is never returned; and afterwards the eviction list and the arena accounts are
// intact (everything left drains exactly once, the arena returns to 0, and inserts
// past the ceiling evict exactly one entry each).
#include "soak.hpp"
#include "stamped_value.hpp"

#include <shmds/hashmap.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>

namespace soak {
namespace {

constexpr unsigned kMaxWorkers = 64;
constexpr unsigned kSlots = 16;  // value keys per worker
constexpr std::int64_t kSharedKey = -1;

struct Acks {
    std::atomic<std::uint64_t> incr[kMaxWorkers];           // own-key increments acknowledged
    std::atomic<std::uint64_t> shared_incr[kMaxWorkers];    // shared-key increments acknowledged
    std::atomic<std::uint64_t> gen[kMaxWorkers][kSlots];    // last put generation acknowledged
};

// ---- the aging map (TTL and eviction)
constexpr std::uint64_t kAgingMax = 64;        // entries
constexpr std::int64_t kAgingKeys = 256;       // keys written: eviction never stops
constexpr std::uint64_t kAgingIds = 1u << 20;  // unique puts per worker index
constexpr std::uint64_t kExpirySlackMs = 5000;

struct AgingShared {
    std::atomic<std::uint64_t> next_id[kMaxWorkers];  // per index, across its incarnations
    std::atomic<std::uint64_t> taken[kMaxWorkers];    // entries taken by pop/shift/drain
};

std::uint64_t wall_ms() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return std::uint64_t(ts.tv_sec) * 1000 + std::uint64_t(ts.tv_nsec) / 1000000;
}

// [key i64][id u64][expires_after u64][sum u64][payload]: id = worker << 32 | seq;
// expires_after = the wall-clock ms before the put plus its TTL (0: no TTL), a lower
// bound of the expiry the map gives the entry. sum covers everything but itself.
std::string make_aging_value(std::int64_t key, std::uint64_t id, std::uint64_t expires_after) {
    std::string v(32 + (id * 13) % 120, '\0');
    std::memcpy(&v[0], &key, 8);
    std::memcpy(&v[8], &id, 8);
    std::memcpy(&v[16], &expires_after, 8);
    for (std::size_t i = 32; i < v.size(); ++i) v[i] = char(id * 31 + i * 3);
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < v.size(); ++i)
        if (i < 24 || i >= 32) sum = sum * 1099511628211ull + std::uint8_t(v[i]);
    std::memcpy(&v[24], &sum, 8);
    return v;
}

// A value read or taken from the aging map under `key`: whole, its own key's, and not
// long expired (read_start_ms: the wall clock before the call that returned it).
bool check_aging_value(const char *verb, std::int64_t key, const char *v, std::size_t len,
                       std::uint64_t read_start_ms, std::uint64_t *id) {
    if (len < 32) {
        violation("hashmap aging: {} of key {} gave {} bytes, shorter than a header", verb, key, len);
        return false;
    }
    std::uint64_t expires_after = 0;
    std::memcpy(id, v + 8, 8);
    std::memcpy(&expires_after, v + 16, 8);
    if (make_aging_value(key, *id, expires_after) != std::string(v, len)) {
        violation("hashmap aging: {} of key {} gave a torn or foreign value ({} bytes, id {:#x})",
                  verb, key, len, *id);
        return false;
    }
    if (expires_after != 0 && read_start_ms > expires_after + kExpirySlackMs) {
        violation("hashmap aging: {} of key {} returned an entry expired {} ms before the call",
                  verb, key, read_start_ms - expires_after);
        return false;
    }
    return true;
}

std::string value_key(unsigned w, unsigned slot) {
    return "soak-value-key-" + std::to_string(w) + "-" + std::to_string(slot);
}

constexpr StampedValues kValues{"hashmap", value_key, 37, 180};

class HashMap : public Workload {
public:
    void setup(const Params &params) override {
        if (params.workers > kMaxWorkers) violation("hashmap: at most {} workers", kMaxWorkers);
        shmds_hashmap_config_t c = SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_INT64, SHMDS_TYPE_INT64, 256);
        c.shards = 2;
        if (int rc = shmds_hashmap_create(nullptr, &c, &counters_))
            violation("shmds_hashmap_create (counters): {}", describe_rc(rc));
        shmds_hashmap_config_t v = SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_BYTES, SHMDS_TYPE_BYTES,
                                                             kMaxWorkers * kSlots);
        if (int rc = shmds_hashmap_create(nullptr, &v, &values_))
            violation("shmds_hashmap_create (values): {}", describe_rc(rc));
        acks_ = shared_array<Acks>(1);
        workers_ = params.workers;
        shmds_hashmap_config_t a = SHMDS_HASHMAP_CONFIG_INIT(SHMDS_TYPE_INT64, SHMDS_TYPE_BYTES, kAgingMax);
        a.shards = 2;  // pops and drains take turns over shards
        // Eviction makes room in the table, not in the arena: room for every entry's
        // largest value block (152 bytes -> a 256-byte block) twice over.
        a.arena_bytes = kAgingMax * 512;
        a.flags = SHMDS_HASHMAP_EVICT;
        if (int rc = shmds_hashmap_create(nullptr, &a, &aging_))
            violation("shmds_hashmap_create (aging): {}", describe_rc(rc));
        aging_shared_ = shared_array<AgingShared>(1);
        // One byte per (worker, id): set when the entry is taken, so a second take shows.
        taken_ = shared_array<std::atomic<std::uint8_t>>(kMaxWorkers * kAgingIds);
    }

    // A respawned worker resumes its generations after whatever its keys hold (a dead
    // incarnation may have committed a put it never acknowledged).
    void start(Worker &w) override {
        for (unsigned s = 0; s < kSlots; ++s)
            next_gen_[s] = kValues.next_generation(
                w.index(), s, acks_->gen[w.index()][s].load(),
                [&](std::string *cur) { return read(w.index(), s, cur); });
    }

    Step step(Worker &w) override {
        const unsigned me = w.index();
        if (w.chance(40)) return aging_step(w);
        const unsigned r = unsigned(w.rng()() % 100);
        std::int64_t out = 0;
        if (r < 30) {
            const bool shared = w.chance(50);
            const int rc = shmds_hashmap_incr_i(counters_, shared ? kSharedKey : me, &out);
            if (rc != 0) {
                violation("shmds_hashmap_incr_i: {}", describe_rc(rc));
                return Step::idle;
            }
            (shared ? acks_->shared_incr[me] : acks_->incr[me]).fetch_add(1);
            return Step::progress;
        }
        if (r < 60) {
            const unsigned s = unsigned(w.rng()() % kSlots);
            const std::uint64_t gen = next_gen_[s]++;
            const std::string k = value_key(me, s), v = kValues.make(me, s, gen);
            const int rc = shmds_hashmap_put_bb(values_, k.data(), k.size(), v.data(), v.size());
            if (rc != 0) {
                violation("shmds_hashmap_put_bb: {}", describe_rc(rc));
                return Step::idle;
            }
            acks_->gen[me][s].store(gen);
            return Step::progress;
        }
        // Read anyone's key: never torn, never older than what its writer acknowledged.
        const unsigned owner = unsigned(w.rng()() % workers_), s = unsigned(w.rng()() % kSlots);
        const std::uint64_t acked = acks_->gen[owner][s].load();
        std::string v;
        const int rc = read(owner, s, &v);
        if (rc == -ENOENT) {
            if (acked != 0) violation("hashmap: key {} lost (generation {} was acknowledged)",
                                      value_key(owner, s), acked);
            return Step::progress;
        }
        if (rc != 0) {
            violation("shmds_hashmap_get_bb: {}", describe_rc(rc));
            return Step::idle;
        }
        std::uint64_t gen = 0;
        if (kValues.check(v, owner, s, &gen) && gen < acked)
            violation("hashmap: key {} holds generation {} after {} was acknowledged",
                      value_key(owner, s), gen, acked);
        return Step::progress;
    }

    void verify(const Params &, const Deaths &deaths) override {
        std::uint64_t shared_acked = 0, kills = 0;
        for (unsigned w = 0; w < workers_; ++w) {
            kills += deaths.kills[w];
            shared_acked += acks_->shared_incr[w].load();
            std::int64_t v = 0;
            const int rc = shmds_hashmap_get_ii(counters_, w, &v);
            const std::uint64_t got = rc == 0 ? std::uint64_t(v) : 0, acked = acks_->incr[w].load();
            if ((rc != 0 && rc != -ENOENT) || got < acked || got > acked + deaths.kills[w])
                violation("hashmap: worker {}'s counter is {} (rc {}), acknowledged {}, deaths {}",
                          w, got, rc, acked, deaths.kills[w]);
            for (unsigned s = 0; s < kSlots; ++s) {
                const std::uint64_t acked_gen = acks_->gen[w][s].load();
                std::string cur;
                const int r = read(w, s, &cur);
                std::uint64_t gen = 0;
                if (r == -ENOENT ? acked_gen != 0 : r != 0 || !kValues.check(cur, w, s, &gen) ||
                                                       gen < acked_gen || gen > acked_gen + 1 + deaths.kills[w])
                    violation("hashmap: key {} ends at generation {} (rc {}), acknowledged {}",
                              value_key(w, s), gen, r, acked_gen);
            }
        }
        std::int64_t shared = 0;
        shmds_hashmap_get_ii(counters_, kSharedKey, &shared);
        if (std::uint64_t(shared) < shared_acked || std::uint64_t(shared) > shared_acked + kills)
            violation("hashmap: shared counter {} outside [{}, {}]", shared, shared_acked,
                      shared_acked + kills);
        // The bookkeeping survived every repair: the map counts exactly the keys it holds,
        // and removing them returns every arena block (a leaked or doubly freed block
        // shows here).
        shmds_hashmap_stats_t before{};
        before.struct_size = sizeof before;
        shmds_hashmap_stats(values_, &before);
        std::uint64_t present = 0;
        for (unsigned w = 0; w < kMaxWorkers; ++w)
            for (unsigned s = 0; s < kSlots; ++s) {
                const std::string k = value_key(w, s);
                if (shmds_hashmap_remove_b(values_, k.data(), k.size()) == 0) ++present;
            }
        shmds_hashmap_stats_t emptied{};
        emptied.struct_size = sizeof emptied;
        shmds_hashmap_stats(values_, &emptied);
        if (present != before.size || emptied.size != 0 || emptied.arena_used != 0)
            violation("hashmap: counted {} values but held {}; after removing them all: size "
                      "{}, arena_used {}",
                      before.size, present, emptied.size, emptied.arena_used);
        // Still usable: a write and a read on both maps.
        std::int64_t out = 0;
        if (int rc = shmds_hashmap_incr_i(counters_, 1 << 20, &out); rc != 0 || out != 1)
            violation("hashmap: counters map unusable after the run: {}", describe_rc(rc));
        const std::string k = value_key(0, 0), v = kValues.make(0, 0, 1);
        std::string back;
        if (shmds_hashmap_put_bb(values_, k.data(), k.size(), v.data(), v.size()) != 0 ||
            read(0, 0, &back) != 0 || back != v)
            violation("hashmap: values map unusable after the run");
        shmds_hashmap_stats_t a{}, b{};
        a.struct_size = b.struct_size = sizeof a;
        shmds_hashmap_stats(counters_, &a);
        shmds_hashmap_stats(values_, &b);
        note("hashmap: shared counter {} (acknowledged {}), {} values, arena {} bytes, "
             "{} resizes, recoveries {} + {}",
             shared, shared_acked, before.size, before.arena_used, b.resizes, a.recoveries,
             b.recoveries);
        verify_aging();
        shmds_hashmap_close(counters_);
        shmds_hashmap_close(values_);
        shmds_hashmap_close(aging_);
    }

private:
    // One TTL or eviction verb on the aging map.
    Step aging_step(Worker &w) {
        const unsigned r = unsigned(w.rng()() % 100);
        const std::int64_t key = std::int64_t(w.rng()() % kAgingKeys);
        Step done = Step::progress;
        if (r < 40) {  // put, or put_ttl with a TTL of 1 ms, or up to 1 s
            const std::uint64_t seq = aging_shared_->next_id[w.index()].fetch_add(1);
            if (seq >= kAgingIds) {
                finish_early("hashmap: a worker ran out of aging ids");
                return Step::idle;
            }
            const std::uint64_t id = std::uint64_t(w.index()) << 32 | seq;
            const std::uint64_t ttl = w.chance(50) ? 0 : w.chance(50) ? 1 : 1 + w.rng()() % 1000;
            const std::string v = make_aging_value(key, id, ttl ? wall_ms() + ttl : 0);
            const int rc = ttl ? shmds_hashmap_put_ttl_ib(aging_, key, v.data(), v.size(), ttl)
                               : shmds_hashmap_put_ib(aging_, key, v.data(), v.size());
            if (rc != 0) violation("hashmap aging: put{}: {}", ttl ? "_ttl" : "", describe_rc(rc));
        } else if (r < 60) {
            char buf[256];
            std::size_t len = 0;
            std::uint64_t id = 0;
            const std::uint64_t t0 = wall_ms();
            const int rc = shmds_hashmap_get_ib(aging_, key, buf, sizeof buf, &len);
            if (rc == 0) check_aging_value("get", key, buf, len, t0, &id);
            else if (rc != -ENOENT) violation("hashmap aging: get: {}", describe_rc(rc));
        } else if (r < 70) {
            const int rc = shmds_hashmap_touch_i(aging_, key);
            if (rc != 0 && rc != -ENOENT) violation("hashmap aging: touch: {}", describe_rc(rc));
        } else if (r < 78) {
            std::uint64_t removed = 0;
            const int rc = shmds_hashmap_flush_expired_partial(aging_, 16, &removed);
            if (rc < 0) violation("hashmap aging: flush_expired_partial: {}", describe_rc(rc));
        } else {  // take from the eviction end: pop, shift or a drain of up to 4
            done = take(r < 86 ? 0 : r < 92 ? 1 : 2);
        }
        // A lock-free snapshot: a shard mid-insert (or whose writer just died there) counts
        // its new entry before its victim goes, so one more per shard is in bounds.
        if (const std::uint64_t n = shmds_hashmap_size(aging_); n > kAgingMax + 2)
            violation("hashmap aging: holds {} entries, more than max_entries {} + 2", n, kAgingMax);
        return done;
    }

    // kind 0 pop, 1 shift, 2 drain_batch: each entry taken is checked and marked taken.
    // A worker killed after a take loses those entries with it: nothing to account.
    Step take(int kind) {
        static const char *const verbs[] = {"pop", "shift", "drain_batch"};
        std::int64_t keys[4];
        char values[4 * 256];
        std::size_t klens[4], vlens[4];
        const std::uint64_t t0 = wall_ms();
        int n;
        if (kind == 2) {
            n = shmds_hashmap_drain_batch(aging_, keys, sizeof keys, klens, values, sizeof values,
                                          vlens, 4);
        } else {
            const int rc = kind == 0 ? shmds_hashmap_pop_ib(aging_, &keys[0], values, 256, &vlens[0])
                                     : shmds_hashmap_shift_ib(aging_, &keys[0], values, 256, &vlens[0]);
            n = rc == 0 ? 1 : rc == -ENOENT ? 0 : rc;
        }
        if (n < 0) {
            violation("hashmap aging: {}: {}", verbs[kind], describe_rc(n));
            return Step::idle;
        }
        std::size_t off = 0;
        for (int i = 0; i < n; ++i) {
            std::uint64_t id = 0;
            if (check_aging_value(verbs[kind], keys[i], values + off, vlens[i], t0, &id))
                mark_taken(verbs[kind], keys[i], id);
            off += vlens[i];
        }
        return n > 0 ? Step::progress : Step::idle;
    }

    void mark_taken(const char *verb, std::int64_t key, std::uint64_t id) {
        const std::uint64_t w = id >> 32, seq = id & 0xffffffffu;
        if (w >= kMaxWorkers || seq >= kAgingIds) {
            violation("hashmap aging: {} of key {} gave an id {:#x} nobody wrote", verb, key, id);
            return;
        }
        if (taken_[w * kAgingIds + seq].exchange(1) != 0)
            violation("hashmap aging: {} of key {} took entry {:#x} a second time", verb, key, id);
        aging_shared_->taken[w].fetch_add(1);
    }

    // After the kills: what is left drains exactly once, the counts and the arena agree,
    // and the eviction list still makes room: inserts past the ceiling each evict one.
    void verify_aging() {
        // The flush locks every shard, so a dead writer's change is rolled back first.
        std::uint64_t expired = 0, drained = 0;
        if (int rc = shmds_hashmap_flush_expired(aging_, &expired); rc != 0)
            violation("hashmap aging: flush_expired: {}", describe_rc(rc));
        shmds_hashmap_stats_t before{};
        before.struct_size = sizeof before;
        shmds_hashmap_stats(aging_, &before);
        for (;;) {
            std::int64_t keys[4];
            char values[4 * 256];
            std::size_t klens[4], vlens[4];
            const std::uint64_t t0 = wall_ms();
            const int n = shmds_hashmap_drain_batch(aging_, keys, sizeof keys, klens, values,
                                                    sizeof values, vlens, 4);
            if (n < 0) violation("hashmap aging: final drain: {}", describe_rc(n));
            if (n <= 0) break;
            std::size_t off = 0;
            for (int i = 0; i < n; ++i, ++drained) {
                std::uint64_t id = 0;
                if (check_aging_value("final drain", keys[i], values + off, vlens[i], t0, &id))
                    mark_taken("final drain", keys[i], id);
                off += vlens[i];
            }
        }
        shmds_hashmap_stats_t empty{};
        empty.struct_size = sizeof empty;
        shmds_hashmap_stats(aging_, &empty);
        // Entries whose TTL runs out during the drain are reclaimed, not returned.
        const std::uint64_t late = empty.expirations - before.expirations;
        if (drained + late != before.size || empty.size != 0 || empty.arena_used != 0)
            violation("hashmap aging: counted {} entries but drained {} (and {} expired "
                      "meanwhile); after: size {}, arena_used {}",
                      before.size, drained, late, empty.size, empty.arena_used);
        // 3 x max_entries distinct inserts into the empty map: whatever is not held was
        // evicted, one per insert past a shard's share.
        constexpr std::uint64_t kInserts = kAgingMax * 3;
        for (std::uint64_t k = 0; k < kInserts; ++k) {
            const std::string v = make_aging_value(std::int64_t(k), ~std::uint64_t{0}, 0);
            if (int rc = shmds_hashmap_put_ib(aging_, std::int64_t(k), v.data(), v.size()); rc != 0)
                violation("hashmap aging: put after the run: {}", describe_rc(rc));
        }
        shmds_hashmap_stats_t full{};
        full.struct_size = sizeof full;
        shmds_hashmap_stats(aging_, &full);
        const std::uint64_t evicted = full.evictions - empty.evictions;
        if (full.size > kAgingMax || full.size + evicted != kInserts)
            violation("hashmap aging: after {} inserts: size {} and {} evictions", kInserts,
                      full.size, evicted);
        std::uint64_t taken_total = 0;
        for (unsigned w = 0; w < kMaxWorkers; ++w) taken_total += aging_shared_->taken[w].load();
        note("hashmap aging: {} entries taken by pop/shift/drain_batch, {} evictions and {} "
             "expirations during the run, recoveries {}",
             taken_total, before.evictions, before.expirations - expired, before.recoveries);
    }

    int read(unsigned w, unsigned s, std::string *out) {
        const std::string k = value_key(w, s);
        char buf[256];
        std::size_t len = 0;
        const int rc = shmds_hashmap_get_bb(values_, k.data(), k.size(), buf, sizeof buf, &len);
        if (rc == 0) out->assign(buf, len);
        return rc;
    }

    shmds_hashmap_t *counters_ = nullptr;
    shmds_hashmap_t *values_ = nullptr;
    shmds_hashmap_t *aging_ = nullptr;
    AgingShared *aging_shared_ = nullptr;
    std::atomic<std::uint8_t> *taken_ = nullptr;
    Acks *acks_ = nullptr;
    unsigned workers_ = 0;
    std::uint64_t next_gen_[kSlots] = {};
};

}  // namespace
}  // namespace soak

SOAK_WORKLOAD(hashmap,
              "no torn value; no acknowledged put lost; counters exact up to one in-flight "
              "increment per death; usable after the run; with TTL and eviction: no entry "
              "taken twice, never over max_entries, no long-expired entry returned, the "
              "eviction list and arena intact",
              2, soak::HashMap);
