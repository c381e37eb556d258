// Shared by the log's test suites: handles that close themselves, and reads that
// return what they found.
#pragma once

#include "support/proc.hpp"

#include <shmds/log.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace shmds::test::logt {

struct LogCloser {
    void operator()(shmds_log_t *l) const noexcept { shmds_log_close(l); }
};
using LogPtr = std::unique_ptr<shmds_log_t, LogCloser>;

inline LogPtr make_log(std::uint64_t capacity, const shmds_options_t *opts = nullptr) {
    shmds_log_config_t cfg = SHMDS_LOG_CONFIG_INIT(capacity);
    shmds_log_t *l = nullptr;
    const int rc = shmds_log_create(opts, &cfg, &l);
    EXPECT_EQ(0, rc) << shmds_errname(rc) << ": " << shmds_last_error();
    return LogPtr(l);
}

inline shmds_options_t path_options(const TempPath &p, std::uint32_t flags = 0) {
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = p.c_str();
    o.flags = flags;
    return o;
}

inline std::uint64_t append(shmds_log_t *l, const std::string &s) {
    std::uint64_t off = ~std::uint64_t{0};
    const int rc = shmds_log_append(l, s.data(), s.size(), &off);
    EXPECT_EQ(0, rc) << shmds_errname(rc) << ": " << shmds_last_error();
    return off;
}

struct Read {
    int rc = 0;
    std::string data;
    std::uint64_t next = 0;
};

inline Read read(const shmds_log_t *l, std::uint64_t offset, std::size_t buf_size = 1 << 16) {
    Read r;
    std::vector<char> buf(buf_size ? buf_size : 1);
    std::size_t len = 0;
    r.rc = shmds_log_read_entry(l, offset, buf.data(), buf_size, &len, &r.next);
    if (r.rc == 0) r.data.assign(buf.data(), len);
    return r;
}

// Every entry from the truncation point to the tail, through a cursor.
inline std::vector<std::string> all_entries(const shmds_log_t *l, int *rc_out = nullptr) {
    shmds_log_cursor_t c;
    std::vector<std::string> out;
    int rc = shmds_log_cursor_init(l, &c, shmds_log_truncation(l));
    std::vector<char> buf(1 << 16);
    while (rc == 0) {
        std::size_t len = 0;
        rc = shmds_log_cursor_next(l, &c, buf.data(), buf.size(), &len, nullptr);
        if (rc == 0) out.emplace_back(buf.data(), len);
    }
    if (rc_out) *rc_out = rc;
    else EXPECT_EQ(-EAGAIN, rc) << shmds_last_error();
    return out;
}

inline shmds_log_stats_t stats(shmds_log_t *l) {
    shmds_log_stats_t st{};
    st.struct_size = sizeof st;
    EXPECT_EQ(0, shmds_log_stats(l, &st)) << shmds_last_error();
    return st;
}

}  // namespace shmds::test::logt
