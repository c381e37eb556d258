// hashmap: workers increment counters (their own key and one shared key) in an
// int64->int64 map, and put self-checking values of varying length (inline and arena)
// under their own keys of a bytes->bytes map while reading everyone's. Kills land inside
// the shard locks, mid-journal, mid-rebuild. Checked: no value is ever torn (the value
// names its key and carries a checksum), no acknowledged put is lost (a read sees at
// least the generation its writer acknowledged), counters count every acknowledged
// increment and at most one unacknowledged one per death, and the maps stay usable.
#include "soak.hpp"

#include <shmds/hashmap.h>

#include <cerrno>
#include <cstring>
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

std::string value_key(unsigned w, unsigned slot) {
    return "soak-value-key-" + std::to_string(w) + "-" + std::to_string(slot);
}

// [w u32][slot u32][gen u64][sum u64][payload]: the payload's length and bytes follow
// from gen, and sum covers everything before it.
std::string make_value(unsigned w, unsigned slot, std::uint64_t gen) {
    std::string v(24 + (gen * 37) % 180, '\0');
    const std::uint32_t w32 = w, s32 = slot;
    std::memcpy(&v[0], &w32, 4);
    std::memcpy(&v[4], &s32, 4);
    std::memcpy(&v[8], &gen, 8);
    for (std::size_t i = 24; i < v.size(); ++i) v[i] = char(gen * 131 + i * 7 + w);
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < v.size(); ++i)
        if (i < 16 || i >= 24) sum = sum * 1099511628211ull + std::uint8_t(v[i]);
    std::memcpy(&v[16], &sum, 8);
    return v;
}

// The generation a value holds, or nothing with a violation if it is not the value
// make_value() writes for that key.
bool check_value(const std::string &v, unsigned w, unsigned slot, std::uint64_t *gen) {
    if (v.size() < 24) {
        violation("hashmap: value of key {} is {} bytes, shorter than its header",
                  value_key(w, slot), v.size());
        return false;
    }
    std::memcpy(gen, &v[8], 8);
    if (make_value(w, slot, *gen) != v) {
        violation("hashmap: torn or foreign value under key {} (claims generation {}, {} bytes)",
                  value_key(w, slot), *gen, v.size());
        return false;
    }
    return true;
}

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
    }

    // A respawned worker resumes its generations after whatever its keys hold (a dead
    // incarnation may have committed a put it never acknowledged).
    void start(Worker &w) override {
        for (unsigned s = 0; s < kSlots; ++s) {
            std::uint64_t gen = acks_->gen[w.index()][s].load();
            std::string cur;
            if (read(w.index(), s, &cur) == 0) {
                std::uint64_t g = 0;
                if (check_value(cur, w.index(), s, &g) && g > gen) gen = g;
            }
            next_gen_[s] = gen + 1;
        }
    }

    Step step(Worker &w) override {
        const unsigned me = w.index();
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
            const std::string k = value_key(me, s), v = make_value(me, s, gen);
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
        if (check_value(v, owner, s, &gen) && gen < acked)
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
                if (r == -ENOENT ? acked_gen != 0 : r != 0 || !check_value(cur, w, s, &gen) ||
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
        const std::string k = value_key(0, 0), v = make_value(0, 0, 1);
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
        shmds_hashmap_close(counters_);
        shmds_hashmap_close(values_);
    }

private:
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
    Acks *acks_ = nullptr;
    unsigned workers_ = 0;
    std::uint64_t next_gen_[kSlots] = {};
};

}  // namespace
}  // namespace soak

SOAK_WORKLOAD(hashmap,
              "no torn value; no acknowledged put lost; counters exact up to one in-flight "
              "increment per death; usable after the run",
              2, soak::HashMap);
