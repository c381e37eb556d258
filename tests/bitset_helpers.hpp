// What the bit set suites share: an owning pointer for handles, a creator that fails
// the test with the library's sentence, path options, stats, and the raw words (for the
// tests that play a hostile peer).
#pragma once

#include "support/proc.hpp"

#include "bitset/bitset.hpp"
#include "bitset/layout.hpp"

#include <shmds/bitset.h>

#include <atomic>
#include <cstdint>
#include <memory>

namespace shmds::test {

struct BitsetCloser {
    void operator()(shmds_bitset_t *b) const noexcept { shmds_bitset_close(b); }
};
using BitsetPtr = std::unique_ptr<shmds_bitset_t, BitsetCloser>;

inline BitsetPtr make_bitset(std::uint64_t nbits, const shmds_options_t *opts = nullptr) {
    shmds_bitset_config_t cfg = SHMDS_BITSET_CONFIG_INIT(nbits);
    shmds_bitset_t *b = nullptr;
    int rc = shmds_bitset_create(opts, &cfg, &b);
    EXPECT_EQ(0, rc) << shmds_errname(rc) << ": " << shmds_last_error();
    return BitsetPtr(b);
}

inline shmds_options_t bitset_path_options(const TempPath &p) {
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = p.c_str();
    return o;
}

inline shmds_bitset_stats_t bitset_stats(shmds_bitset_t *b) {
    shmds_bitset_stats_t s{};
    s.struct_size = sizeof s;
    EXPECT_EQ(0, shmds_bitset_stats(b, &s));
    return s;
}

// Word i of the set's shared words (a C handle is its engine).
inline std::atomic<std::uint64_t> *raw_word(shmds_bitset_t *b, std::uint64_t i) {
    auto *e = reinterpret_cast<bitset::Bitset *>(b);
    bitset::Geometry g;
    EXPECT_EQ(0, bitset::compute_geometry(e->nbits(), g));
    return reinterpret_cast<std::atomic<std::uint64_t> *>(e->segment().base() + g.words_off) + i;
}

}  // namespace shmds::test
