// buffer, uint64: even workers rewrite the whole buffer with one self-checking value per
// write (set_slice, set_raw, fill or a write batch, all ascending), odd ones copy it
// (get_raw, get_slice or a read batch over the zero-copy pointer). Checks on every copy
// and on the final read-back: every element decodes (never torn), and the copy is at
// most 1 + recoveries runs of equal values. A bulk write that completes leaves one run;
// only a writer killed mid-write leaves its new prefix before the old suffix, and its
// lock must be taken over (a counted recovery) before anyone can copy what it left, so
// more runs than that would be a torn copy or a takeover that was never counted.
#include "soak.hpp"

#include <shmds/buffer.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace soak {
namespace {

constexpr std::uint64_t kLen = 256;
constexpr std::int64_t kTimeout = 100'000'000;

bool is_writer(unsigned index) { return index % 2 == 0; }

std::uint8_t check_of(std::uint64_t body) {
    return std::uint8_t((body * 0x9E3779B97F4A7C15ull) >> 56) ^ 0xa5;
}
// value = index:6 | incarnation:18 | counter:32 | check:8 (high to low); 0 = never written.
std::uint64_t make_value(unsigned index, std::uint32_t incarnation, std::uint32_t counter) {
    const std::uint64_t body = (std::uint64_t(index & 63) << 50) |
                               (std::uint64_t(incarnation & 0x3ffff) << 32) | counter;
    return (body << 8) | check_of(body);
}
bool valid(std::uint64_t v) { return v == 0 || check_of(v >> 8) == std::uint8_t(v); }

class BufferWorkload : public Workload {
public:
    void setup(const Params &) override {
        shmds_buffer_config_t cfg = SHMDS_BUFFER_CONFIG_INIT(SHMDS_TYPE_UINT64, kLen, 0);
        if (int rc = shmds_buffer_create(nullptr, &cfg, &b_))
            violation("shmds_buffer_create: {}", describe_rc(rc));
    }

    Step step(Worker &w) override { return is_writer(w.index()) ? write(w) : read(w); }

    void verify(const Params &, const Deaths &) override {
        std::vector<std::uint64_t> got(kLen);
        if (int rc = shmds_buffer_get_raw(b_, 0, kLen * 8, got.data(), 2'000'000'000))
            violation("buffer: the final get_raw: {}", describe_rc(rc));
        else
            check(got, "the final read-back");
        shmds_buffer_stats_t st{};
        st.struct_size = sizeof st;
        shmds_buffer_stats(b_, &st);
        note("bulk writes {}, recoveries {}", st.bulk_writes, st.recoveries);
        shmds_buffer_close(b_);
    }

private:
    Step write(Worker &w) {
        const std::uint64_t v = make_value(w.index(), w.incarnation(), counter_++);
        std::vector<std::uint64_t> vals(kLen, v);
        int rc = 0;
        switch (w.rng()() % 4) {
            case 0: rc = shmds_buffer_set_slice_uint(b_, 0, vals.data(), kLen, kTimeout); break;
            case 1: rc = shmds_buffer_set_raw(b_, 0, vals.data(), kLen * 8, kTimeout); break;
            case 2: rc = shmds_buffer_fill_uint(b_, v, kTimeout); break;
            default: {
                void *d;
                rc = shmds_buffer_write_begin(b_, &d, kTimeout);
                if (rc == 0) {
                    auto *p = static_cast<std::uint64_t *>(d);
                    for (std::uint64_t i = 0; i < kLen; ++i)
                        __atomic_store_n(&p[i], v, __ATOMIC_RELAXED);
                    rc = shmds_buffer_write_end(b_);
                }
            }
        }
        if (rc == -ETIMEDOUT) return Step::idle;
        if (rc != 0) violation("buffer: a bulk write: {}", describe_rc(rc));
        return rc == 0 ? Step::progress : Step::idle;
    }

    Step read(Worker &w) {
        std::vector<std::uint64_t> got(kLen);
        int rc;
        switch (w.rng()() % 3) {
            case 0: rc = shmds_buffer_get_raw(b_, 0, kLen * 8, got.data(), kTimeout); break;
            case 1: rc = shmds_buffer_get_slice_uint(b_, 0, kLen, got.data(), kTimeout); break;
            default:
                for (;;) {
                    const void *d;
                    std::uint64_t seq;
                    rc = shmds_buffer_read_begin(b_, &d, &seq, kTimeout);
                    if (rc) break;
                    std::memcpy(got.data(), d, kLen * 8);
                    if (shmds_buffer_read_end(b_, seq) == 0) break;
                }
        }
        if (rc == -ETIMEDOUT) return Step::idle;
        if (rc != 0) {
            violation("buffer: a bulk read: {}", describe_rc(rc));
            return Step::idle;
        }
        check(got, "a reader");
        return Step::progress;
    }

    void check(const std::vector<std::uint64_t> &got, const char *who) {
        // Recoveries read after the copy: the takeover that let a copy of a dead
        // writer's half write through was counted before the copy began.
        shmds_buffer_stats_t st{};
        st.struct_size = sizeof st;
        shmds_buffer_stats(b_, &st);
        std::uint64_t runs = 1;
        for (std::uint64_t i = 0; i < kLen; ++i) {
            if (!valid(got[i])) violation("buffer: {} got a torn element {} = {:#x}", who, i, got[i]);
            if (i && got[i] != got[i - 1]) ++runs;
        }
        if (runs > 1 + st.recoveries)
            violation("buffer: {} got a copy of {} runs with only {} recoveries: torn by a write",
                      who, runs, st.recoveries);
    }

    shmds_buffer_t *b_ = nullptr;
    std::uint32_t counter_ = 0;  // worker-local
};

}  // namespace
}  // namespace soak

SOAK_WORKLOAD(buffer,
              "elements never torn; a copy is torn only where a killed writer's takeover "
              "was counted (runs <= 1 + recoveries)",
              2, soak::BufferWorkload);
