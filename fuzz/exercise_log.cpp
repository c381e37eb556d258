// The log under fuzzing: a segment that opens must survive every verb, each returning a
// documented code, and no read may leave the mapping whatever the tail, the truncation
// point or an entry header says. Appends, truncate and reset take the append lock
// without a timeout, so they run only when the lock word is free.
#include "exercise.hpp"

#include "core/header.hpp"
#include "log/layout.hpp"

#include <shmds/log.h>

#include <cerrno>
#include <cstdint>
#include <string>

namespace shmds_fuzz {

namespace {

constexpr std::uint64_t kLockOffset =
    sizeof(shmds::core::SegmentHeader) + offsetof(shmds::log::LogControl, mutex);

#define READ_CODES 0, -EAGAIN, -ERANGE, -ENOENT, -EINVAL, -ENOBUFS, -ESTALE, SHMDS_ECORRUPT

int count_entry(const void *, size_t, uint64_t, void *ctx) {
    ++*static_cast<int *>(ctx);
    return 0;
}

void reads(shmds_log_t *l) {
    char buf[128];
    std::size_t len = 0;
    std::uint64_t next = 0;
    const std::uint64_t tail = shmds_log_tail_offset(l);
    for (std::uint64_t off : {std::uint64_t{0}, std::uint64_t{8}, std::uint64_t{16}, tail,
                              tail - 8, tail + 8, shmds_log_truncation(l), ~std::uint64_t{7}})
        expect_code(shmds_log_read_entry(l, off, buf, sizeof buf, &len, &next), {READ_CODES},
                    "shmds_log_read_entry");
    int seen = 0;
    std::uint64_t final = 0;
    const std::int64_t n = shmds_log_each_entry(l, shmds_log_truncation(l), &count_entry, &seen,
                                                &final);
    if (n < 0) expect_code(int(n), {READ_CODES}, "shmds_log_each_entry");
    shmds_log_cursor_t c;
    if (shmds_log_cursor_init(l, &c, 0) == 0)
        for (int i = 0; i < 64; ++i) {
            const int rc = shmds_log_cursor_next(l, &c, buf, sizeof buf, &len, nullptr);
            expect_code(rc, {READ_CODES}, "shmds_log_cursor_next");
            if (rc != 0) break;
        }
    expect_code(shmds_log_wait_for(l, shmds_log_entry_count(l), SHMDS_NOWAIT),
                {-EAGAIN, -ESTALE}, "shmds_log_wait_for");
    (void)shmds_log_data_size(l);
    (void)shmds_log_available(l);
    (void)shmds_log_epoch(l);
}

void exercise(shmds_log_t *l, const InputSegment &in) {
    shmds_log_stats_t st{};
    st.struct_size = sizeof st;
    expect_code(shmds_log_stats(l, &st), {0, SHMDS_ECORRUPT}, "shmds_log_stats");
    reads(l);
    if (!in.robust_lock_free(kLockOffset)) return;
    const std::string entry(40, 'f');
    std::uint64_t off = 0;
    expect_code(shmds_log_append(l, entry.data(), entry.size(), &off),
                {0, -ENOSPC, SHMDS_ECORRUPT}, "shmds_log_append");
    const void *datas[] = {"a", entry.data()};
    const std::size_t lens[] = {1, entry.size()};
    expect_code(shmds_log_append_multi(l, datas, lens, 2, nullptr), {0, -ENOSPC, SHMDS_ECORRUPT},
                "shmds_log_append_multi");
    reads(l);
    expect_code(shmds_log_truncate(l, off), {0, -EINVAL, -ERANGE, SHMDS_ECORRUPT},
                "shmds_log_truncate");
    expect_code(shmds_log_reset(l), {0}, "shmds_log_reset");
    expect_code(shmds_log_append(l, entry.data(), entry.size(), &off), {0, -ENOSPC},
                "shmds_log_append after reset");
    reads(l);
}

#undef READ_CODES

}  // namespace

void fuzz_log(InputSegment &in) {
    shmds_options_t opts = in.options();
    shmds_log_t *l = nullptr;
    if (shmds_log_open(&opts, &l) != 0) return;
    in.opened();
    exercise(l, in);
    shmds_log_close(l);
}

}  // namespace shmds_fuzz
