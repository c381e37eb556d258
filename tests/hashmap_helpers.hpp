// What the hash map suites share: an owning handle, creation with a readable failure,
// and small accessors that turn the C API's out-parameters into values.
#pragma once

#include "support/proc.hpp"

#include <shmds/hashmap.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace shmds::test::hm {

struct MapCloser {
    void operator()(shmds_hashmap_t *m) const noexcept { shmds_hashmap_close(m); }
};
using MapPtr = std::unique_ptr<shmds_hashmap_t, MapCloser>;

inline shmds_hashmap_config_t config(int key_type, int value_type, std::uint64_t max_entries,
                                     std::uint64_t shards = 0, std::uint64_t arena = 0) {
    shmds_hashmap_config_t c = SHMDS_HASHMAP_CONFIG_INIT(key_type, value_type, max_entries);
    c.shards = shards;
    c.arena_bytes = arena;
    return c;
}

// A new map, or a test failure carrying the library's sentence.
inline MapPtr make_map(int key_type, int value_type, std::uint64_t max_entries,
                       std::uint64_t shards = 0, std::uint64_t arena = 0,
                       const shmds_options_t *opts = nullptr) {
    const shmds_hashmap_config_t c = config(key_type, value_type, max_entries, shards, arena);
    shmds_hashmap_t *m = nullptr;
    const int rc = shmds_hashmap_create(opts, &c, &m);
    EXPECT_EQ(0, rc) << shmds_errname(rc) << ": " << shmds_last_error();
    return MapPtr(m);
}

inline shmds_hashmap_stats_t stats(shmds_hashmap_t *m) {
    shmds_hashmap_stats_t s{};
    s.struct_size = sizeof s;
    EXPECT_EQ(0, shmds_hashmap_stats(m, &s)) << shmds_last_error();
    return s;
}

inline std::optional<std::int64_t> get_ii(shmds_hashmap_t *m, std::int64_t k) {
    std::int64_t v = 0;
    const int rc = shmds_hashmap_get_ii(m, k, &v);
    if (rc == -ENOENT) return std::nullopt;
    EXPECT_EQ(0, rc) << shmds_errname(rc) << ": " << shmds_last_error();
    return v;
}

inline std::optional<std::string> get_bb(shmds_hashmap_t *m, const std::string &k) {
    std::string buf(64, '\0');
    for (;;) {
        std::size_t len = 0;
        const int rc = shmds_hashmap_get_bb(m, k.data(), k.size(), buf.data(), buf.size(), &len);
        if (rc == -ENOENT) return std::nullopt;
        if (rc == -ENOBUFS) {
            buf.resize(len);
            continue;
        }
        EXPECT_EQ(0, rc) << shmds_errname(rc) << ": " << shmds_last_error();
        buf.resize(len);
        return buf;
    }
}

inline int put_bb(shmds_hashmap_t *m, const std::string &k, const std::string &v) {
    return shmds_hashmap_put_bb(m, k.data(), k.size(), v.data(), v.size());
}

}  // namespace shmds::test::hm
