// log: even workers append single entries and all-or-nothing batches, odd workers follow
// the log with a cursor (and wait_for at the tail). Each entry is its item id followed
// by a length and pattern derived from the id, so a torn or misplaced entry shows
// wherever it is read. After the run, the whole log is walked: every entry whole, no id
// twice, and the ids never appended within what killed appenders held in flight (a
// batch cut short is all in or all out). Appenders die holding the append lock, which
// the next one takes over. Nothing reclaims space without a reset (which would forget
// entries the ledger counts), so appenders pause briefly after each append to make the
// 64 MiB last a 10 s run; a longer run ends early once the log is full. (Kills at
// random points inside busy appends are test_log_crash's kill soak.)
#include "ledger.hpp"

#include <shmds/log.h>

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace soak {
namespace {

constexpr std::int64_t kTimeout = 100'000'000;  // wait_for: 100 ms at most
constexpr std::size_t kMaxPayload = 120;
constexpr std::size_t kBatch = 4;

bool is_appender(unsigned index) { return index % 2 == 0; }

std::size_t length_of(std::uint64_t id) { return 8 + mix64(id) % (kMaxPayload - 8 + 1); }

std::uint8_t byte_of(std::uint64_t id, std::size_t i) {
    return static_cast<std::uint8_t>(mix64(id ^ (i << 48)) >> 56);
}

std::size_t encode(std::uint64_t id, std::uint8_t *buf) {
    const std::size_t len = length_of(id);
    std::memcpy(buf, &id, 8);
    for (std::size_t i = 8; i < len; ++i) buf[i] = byte_of(id, i);
    return len;
}

class Log : public Workload {
public:
    void setup(const Params &) override {
        shmds_log_config_t cfg = SHMDS_LOG_CONFIG_INIT(std::uint64_t{64} << 20);
        const int rc = shmds_log_create(nullptr, &cfg, &log_);
        if (rc != 0) violation("shmds_log_create: {}", describe_rc(rc));
        ledger_.setup(std::uint64_t{1} << 26);
    }

    void start(Worker &) override {
        if (shmds_log_cursor_init(log_, &cursor_, 0) != 0)
            violation("shmds_log_cursor_init: {}", describe_rc(-ESTALE));
    }

    Step step(Worker &w) override { return is_appender(w.index()) ? append(w) : follow(); }

    void verify(const Params &, const Deaths &deaths) override {
        Check c{this, 0};
        const std::int64_t n = shmds_log_each_entry(
            log_, 0,
            [](const void *d, size_t len, uint64_t, void *ctx) {
                auto *c = static_cast<Check *>(ctx);
                c->self->record(static_cast<const std::uint8_t *>(d), len, "the final walk", true);
                ++c->entries;
                return 0;
            },
            &c, nullptr);
        if (n < 0) violation("final walk: shmds_log_each_entry: {}", describe_rc(int(n)));
        shmds_log_stats_t st{};
        st.struct_size = sizeof st;
        if (shmds_log_stats(log_, &st) == 0) {
            note("walked {} entries ({} bytes of {}); recoveries {}", c.entries, st.tail,
                 st.capacity, st.recoveries);
            if (st.entries != c.entries)
                violation("entry_count says {} but the walk found {} entries", st.entries,
                          c.entries);
        }
        ledger_.check("log", deaths.held_where(is_appender), 0);
        shmds_log_close(log_);
    }

private:
    struct Check {
        Log *self;
        std::uint64_t entries;
    };

    Step append(Worker &w) {
        const std::size_t n = w.chance(25) ? kBatch : 1;
        std::uint64_t ids[kBatch];
        std::uint8_t bufs[kBatch][kMaxPayload];
        const void *datas[kBatch];
        std::size_t lens[kBatch];
        w.hold(std::uint32_t(n));
        for (std::size_t i = 0; i < n; ++i) {
            if (!ledger_.claim(ids[i])) {
                for (std::size_t j = 0; j < i; ++j) ledger_.withdraw(ids[j]);
                w.release();
                return Step::idle;
            }
            lens[i] = encode(ids[i], bufs[i]);
            datas[i] = bufs[i];
        }
        const int rc = n == 1 ? shmds_log_append(log_, datas[0], lens[0], nullptr)
                              : shmds_log_append_multi(log_, datas, lens, n, nullptr);
        if (rc == 0) {
            for (std::size_t i = 0; i < n; ++i) ledger_.confirm(ids[i]);
            w.release();
            usleep(50);
            return Step::progress;
        }
        for (std::size_t i = 0; i < n; ++i) ledger_.withdraw(ids[i]);
        w.release();
        if (rc == -ENOSPC) finish_early("the log is full");
        else violation("shmds_log_append: {}", describe_rc(rc));
        return Step::idle;
    }

    Step follow() {
        std::uint8_t buf[kMaxPayload];
        std::size_t len = 0;
        const int rc = shmds_log_cursor_next(log_, &cursor_, buf, sizeof buf, &len, nullptr);
        if (rc == 0) {
            record(buf, len, "a reader", false);
            ++seen_;
            return Step::progress;
        }
        if (rc == -EAGAIN) {
            const int w = shmds_log_wait_for(log_, seen_, kTimeout);
            if (w != 0 && w != -ETIMEDOUT)
                violation("shmds_log_wait_for: {}", describe_rc(w));
            return Step::idle;
        }
        violation("shmds_log_cursor_next: {}", describe_rc(rc));
        return Step::idle;
    }

    void record(const std::uint8_t *msg, std::size_t len, const char *by, bool count) {
        std::uint64_t id = 0;
        if (len < 8) {
            violation("torn entry: {} read {} bytes, shorter than any entry appended", by, len);
            return;
        }
        std::memcpy(&id, msg, 8);
        std::uint8_t want[kMaxPayload];
        if (id >= ledger_.claimed() || len != length_of(id) ||
            std::memcmp(msg, want, encode(id, want)) != 0) {
            violation("torn entry: {} read {} bytes claiming to be item {}, which do not match "
                      "what its appender wrote", by, len, id);
            return;
        }
        if (count) ledger_.receive(id, by);
    }

    shmds_log_t *log_ = nullptr;
    Ledger ledger_;
    shmds_log_cursor_t cursor_{};
    std::uint64_t seen_ = 0;  // entries this reader has read
};

}  // namespace
}  // namespace soak

SOAK_WORKLOAD(log, "appended entries whole, each id once, losses within killed appenders' "
                   "batches; readers follow with cursors", 2, soak::Log);
