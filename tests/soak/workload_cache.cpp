// cache: workers set self-checking values of varying length under their own keys of a
// small cache (so expunges and waits for the one spare frame happen all the time), read
// everyone's keys and remove some of their own. Kills land inside page locks, mid-set,
// mid-expunge, before and after the flip. Checked: no value is ever torn (it names its
// key and carries a checksum), a hit is never older than the generation its writer
// acknowledged (an evicted or removed key may miss, a stale value may never come back),
// and afterwards every page passes the deep check (verify re-initialises nothing) and
// the cache still takes sets and gets.
#include "soak.hpp"
#include "stamped_value.hpp"

#include <shmds/cache.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace soak {
namespace {

constexpr unsigned kMaxWorkers = 64;
constexpr unsigned kSlots = 24;  // keys per worker

struct Acks {
    std::atomic<std::uint64_t> gen[kMaxWorkers][kSlots];  // last set acknowledged
};

std::string cache_key(unsigned w, unsigned slot) {
    return "soak-cache-" + std::to_string(w) + "-" + std::to_string(slot);
}

constexpr StampedValues kValues{"cache", cache_key, 53, 400};

class Cache : public Workload {
public:
    void setup(const Params &params) override {
        if (params.workers > kMaxWorkers) violation("cache: at most {} workers", kMaxWorkers);
        shmds_cache_config_t c = SHMDS_CACHE_CONFIG_INIT;
        c.page_size = 4096;
        c.num_pages = 4;
        c.spare_frames = 1;
        if (int rc = shmds_cache_create(nullptr, &c, &cache_))
            violation("shmds_cache_create: {}", describe_rc(rc));
        acks_ = shared_array<Acks>(1);
        workers_ = params.workers;
    }

    // A respawned worker resumes after whatever its keys hold (a dead incarnation may
    // have committed a set it never acknowledged).
    void start(Worker &w) override {
        for (unsigned s = 0; s < kSlots; ++s)
            next_gen_[s] = kValues.next_generation(
                w.index(), s, acks_->gen[w.index()][s].load(),
                [&](std::string *cur) { return read(w.index(), s, cur); });
    }

    Step step(Worker &w) override {
        const unsigned me = w.index();
        const unsigned r = unsigned(w.rng()() % 100);
        if (r < 45) {
            const unsigned s = unsigned(w.rng()() % kSlots);
            const std::uint64_t gen = next_gen_[s]++;
            const std::string k = cache_key(me, s), v = kValues.make(me, s, gen);
            const int rc = shmds_cache_set(cache_, k.data(), k.size(), v.data(), v.size(),
                                           SHMDS_CACHE_EXPIRE_NEVER);
            if (rc != 0) {
                violation("shmds_cache_set: {}", describe_rc(rc));
                return Step::idle;
            }
            acks_->gen[me][s].store(gen);
            return Step::progress;
        }
        if (r < 50) {
            const unsigned s = unsigned(w.rng()() % kSlots);
            const std::string k = cache_key(me, s);
            const int rc = shmds_cache_remove(cache_, k.data(), k.size());
            if (rc != 0 && rc != -ENOENT) violation("shmds_cache_remove: {}", describe_rc(rc));
            return Step::progress;
        }
        const unsigned owner = unsigned(w.rng()() % workers_), s = unsigned(w.rng()() % kSlots);
        const std::uint64_t acked = acks_->gen[owner][s].load();
        std::string v;
        const int rc = read(owner, s, &v);
        if (rc == -ENOENT) return Step::progress;  // evicted or removed: a cache may miss
        if (rc != 0) {
            violation("shmds_cache_get: {}", describe_rc(rc));
            return Step::idle;
        }
        std::uint64_t gen = 0;
        if (kValues.check(v, owner, s, &gen) && gen < acked)
            violation("cache: key {} holds generation {} after {} was acknowledged",
                      cache_key(owner, s), gen, acked);
        return Step::progress;
    }

    void verify(const Params &, const Deaths &deaths) override {
        std::uint64_t kills = 0;
        for (unsigned w = 0; w < workers_; ++w) kills += deaths.kills[w];
        std::uint64_t repaired = 0;
        if (int rc = shmds_cache_verify(cache_, &repaired))
            violation("shmds_cache_verify: {}", describe_rc(rc));
        if (repaired != 0) violation("cache: verify re-initialised {} damaged pages", repaired);
        unsigned hits = 0;
        for (unsigned w = 0; w < workers_; ++w)
            for (unsigned s = 0; s < kSlots; ++s) {
                std::string v;
                std::uint64_t gen = 0;
                if (read(w, s, &v) == 0 && kValues.check(v, w, s, &gen)) ++hits;
            }
        const std::string k = "soak-cache-after", val = "still usable";
        if (int rc = shmds_cache_set(cache_, k.data(), k.size(), val.data(), val.size(), 0))
            violation("shmds_cache_set after the run: {}", describe_rc(rc));
        std::string back;
        char buf[32];
        std::size_t len = 0;
        if (shmds_cache_get(cache_, k.data(), k.size(), buf, sizeof buf, &len) != 0 ||
            std::string(buf, len) != val)
            violation("cache: a set after the run did not read back");
        shmds_cache_stats_t st{};
        st.struct_size = sizeof st;
        shmds_cache_stats(cache_, &st, 0);
        note("cache: {} kills, {} recoveries, {} keys readable at the end, {} items", kills,
             shmds_cache_recoveries(cache_), hits, st.items);
        shmds_cache_close(cache_);
        cache_ = nullptr;
    }

private:
    int read(unsigned w, unsigned s, std::string *out) {
        const std::string k = cache_key(w, s);
        char buf[512];
        std::size_t len = 0;
        const int rc = shmds_cache_get(cache_, k.data(), k.size(), buf, sizeof buf, &len);
        if (rc == 0) out->assign(buf, len);
        return rc;
    }

    shmds_cache_t *cache_ = nullptr;
    Acks *acks_ = nullptr;
    unsigned workers_ = 0;
    std::uint64_t next_gen_[kSlots] = {};
};

}  // namespace
}  // namespace soak

SOAK_WORKLOAD(cache, "no torn value, no stale hit, every page valid after the kills", 2,
              soak::Cache);
