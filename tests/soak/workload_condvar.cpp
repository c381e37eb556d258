// condvar: workers 0, 2, 4.. add tokens under the condvar's mutex (waiting while there
// are kMaxTokens), the others wait until a token is there and take it; every wait is
// bounded and every change broadcast. Everyone checks it is alone inside
// the mutex and that the data is consistent unless told SHMDS_EOWNERDEAD (by lock or by
// wait's relock), which it repairs. Tokens stay within 0..kMaxTokens; at the end the tokens
// added, taken and left add up, give or take what the killed were changing.
#include "guarded.hpp"

#include <shmds/sync.h>

#include <cerrno>

namespace soak {
namespace {

constexpr std::int64_t kTimeout = 100'000'000;
constexpr std::uint32_t kHolder = 1;
constexpr std::int64_t kMaxTokens = 4;  // producers wait too once this many are there

bool is_producer(unsigned index) { return index % 2 == 0; }

struct Tokens {
    std::atomic<std::int64_t> count;     // under the mutex
    std::atomic<std::uint64_t> added;    // under the mutex
    std::atomic<std::uint64_t> taken;    // under the mutex
};

class CondVar : public Workload {
public:
    void setup(const Params &) override {
        int rc = shmds_condvar_create(nullptr, &cv_);
        if (rc != 0) violation("shmds_condvar_create: {}", describe_rc(rc));
        data_ = shared_array<Guarded>(1);
        tokens_ = shared_array<Tokens>(1);
    }

    Step step(Worker &w) override {
        int rc = w.chance(20) ? shmds_condvar_try_lock(cv_) : shmds_condvar_lock(cv_, kTimeout);
        if (rc == -EAGAIN || rc == -ETIMEDOUT) return Step::idle;
        if (!locked(w, rc, "shmds_condvar_lock")) return Step::idle;
        bool progress = is_producer(w.index()) ? produce(w) : consume(w);
        w.leave();
        if (int u = shmds_condvar_unlock(cv_)) violation("shmds_condvar_unlock: {}", describe_rc(u));
        // Producers and consumers wait on the one condvar: wake them all, or a signal
        // could wake a waiter of the wrong kind and be lost.
        if (progress) shmds_condvar_broadcast(cv_);
        return progress ? Step::progress : Step::idle;
    }

    void verify(const Params &, const Deaths &deaths) override {
        int rc = shmds_condvar_lock(cv_, 2'000'000'000);
        if (rc == SHMDS_EOWNERDEAD) {
            data_->repair();
            shmds_condvar_consistent(cv_);
        } else if (rc != 0) {
            violation("after the run the supervisor cannot lock the condvar: {}", describe_rc(rc));
            return;
        }
        data_->check("condvar", total(deaths.kills));
        std::uint64_t added = tokens_->added.load(), taken = tokens_->taken.load();
        std::int64_t left = tokens_->count.load();
        note("tokens: {} added, {} taken, {} left; condvar recoveries {}", added, taken, left,
             shmds_condvar_recoveries(cv_));
        // Each counter moves in its own store, so a holder killed between them may leave
        // them off by one; the updates themselves are checked by data_->check.
        std::int64_t off = static_cast<std::int64_t>(added) - static_cast<std::int64_t>(taken) - left;
        if (off < 0 ? static_cast<std::uint64_t>(-off) > total(deaths.kills)
                    : static_cast<std::uint64_t>(off) > total(deaths.kills))
            violation("condvar: {} tokens added, {} taken, {} left: {} unaccounted for", added,
                      taken, left, off);
        shmds_condvar_unlock(cv_);
        shmds_condvar_close(cv_);
    }

private:
    // After lock or wait returned `rc`: holding the mutex? Repairs after a dead holder.
    bool locked(Worker &w, int rc, const char *fn) {
        if (rc != 0 && rc != SHMDS_EOWNERDEAD && rc != -ETIMEDOUT) {
            violation("{}: {}", fn, describe_rc(rc));
            return false;
        }
        w.enter(kHolder);
        if (unsigned others = w.others_inside(kHolder))
            violation("condvar: worker {} holds the mutex ({}) while {} other live worker(s) "
                      "do",
                      w.index(), fn, others);
        if (rc == SHMDS_EOWNERDEAD) {
            data_->repair();
            if (int c = shmds_condvar_consistent(cv_)) violation("shmds_condvar_consistent: {}", describe_rc(c));
        } else if (!data_->consistent()) {
            violation("condvar: {} returned {} over data a dead holder left half-updated; it "
                      "should have said SHMDS_EOWNERDEAD",
                      fn, rc);
            data_->repair();
        }
        return true;
    }

    bool produce(Worker &w) {
        if (!wait_until(w, [&] { return tokens_->count.load() < kMaxTokens; })) return false;
        data_->update(w);
        tokens_->count.store(tokens_->count.load() + 1);
        tokens_->added.store(tokens_->added.load() + 1);
        return true;
    }

    bool consume(Worker &w) {
        if (!wait_until(w, [&] { return tokens_->count.load() > 0; })) return false;
        data_->update(w);
        tokens_->count.store(tokens_->count.load() - 1);
        tokens_->taken.store(tokens_->taken.load() + 1);
        return true;
    }

    // Holding the mutex: wait on the condvar until ready() or about kTimeout passed.
    template <typename Ready>
    bool wait_until(Worker &w, Ready ready) {
        std::int64_t deadline = now_ns() + kTimeout;
        while (!ready()) {
            std::int64_t count = tokens_->count.load();
            if (count < 0 || count > kMaxTokens)
                violation("condvar: the token count left 0..{}: {}", kMaxTokens, count);
            std::int64_t left = deadline - now_ns();
            if (left <= 0) return false;
            w.leave();
            int rc = shmds_condvar_wait(cv_, left);
            if (!locked(w, rc, "shmds_condvar_wait")) return false;
        }
        return true;
    }

    shmds_condvar_t *cv_ = nullptr;
    Guarded *data_ = nullptr;
    Tokens *tokens_ = nullptr;
};

}  // namespace
}  // namespace soak

SOAK_WORKLOAD(condvar,
              "one mutex holder at a time, through wait's relock too; half-updated data only "
              "with SHMDS_EOWNERDEAD; tokens stay within 0..max and are accounted for",
              2, soak::CondVar);
