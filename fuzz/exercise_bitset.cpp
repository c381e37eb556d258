// The bit set under fuzzing: opened writable and read-only; a segment that opens must
// survive every verb (its words, tail bits included, and its frozen flag are the peer's
// to scribble).
#include "exercise.hpp"

#include <shmds/bitset.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace shmds_fuzz {

namespace {

// A promise of bitset.h broken: abort, so the fuzzer keeps the input.
void report_bug(const char *what) {
    std::fprintf(stderr, "bit set: %s\n", what);
    std::abort();
}

void exercise(shmds_bitset_t *b, bool writable) {
    const std::uint64_t n = shmds_bitset_size(b);
    const std::uint64_t bits[] = {0, n / 2, n - 1, n, ~0ull};
    for (std::uint64_t bit : bits) {
        (void)shmds_bitset_test(b, bit);
        (void)shmds_bitset_set(b, bit);
        (void)shmds_bitset_toggle(b, bit);
        (void)shmds_bitset_clear(b, bit);
    }
    const std::uint64_t count = shmds_bitset_count(b);
    if (count > n) report_bug("shmds_bitset_count exceeds the set's size");
    (void)shmds_bitset_any(b);
    (void)shmds_bitset_none(b);
    std::uint64_t at = 0;
    for (std::uint64_t from : {std::uint64_t{0}, n / 3, n, n + 1}) {
        if (shmds_bitset_first_set(b, from, &at) == 0 && (at < from || at >= n))
            report_bug("shmds_bitset_first_set outside [from, size)");
        if (shmds_bitset_first_clear(b, from, &at) == 0 && (at < from || at >= n))
            report_bug("shmds_bitset_first_clear outside [from, size)");
    }
    std::vector<std::uint64_t> listed(64);
    std::size_t got = 0;
    expect_code(shmds_bitset_set_bits(b, 0, listed.data(), listed.size(), &got), {0},
                "shmds_bitset_set_bits");
    for (std::size_t i = 0; i < got; ++i)
        if (listed[i] >= n) report_bug("shmds_bitset_set_bits listed a bit past the end");
    if (n <= 4096) {
        std::string text(n + 1, '?');
        expect_code(shmds_bitset_to_string(b, text.data(), text.size(), nullptr), {0},
                    "shmds_bitset_to_string");
    }
    shmds_bitset_stats_t st{};
    st.struct_size = sizeof st;
    expect_code(shmds_bitset_stats(b, &st), {0}, "shmds_bitset_stats");
    (void)shmds_bitset_fill_range(b, n / 4, n / 2);
    (void)shmds_bitset_zero_range(b, 0, n / 3);
    (void)shmds_bitset_is_frozen(b);
    if (writable) {
        (void)shmds_bitset_fill(b);
        (void)shmds_bitset_zero(b);
        (void)shmds_bitset_freeze(b);
    }
    if (shmds_bitset_is_frozen(b) == 1 && shmds_bitset_set(b, 0) != -EROFS)
        report_bug("a frozen bit set accepted set()");
}

}  // namespace

void fuzz_bitset(InputSegment &in) {
    shmds_options_t opts = in.options();
    shmds_bitset_t *b = nullptr;
    if (shmds_bitset_open(&opts, &b) == 0) {
        in.opened();
        exercise(b, true);
        shmds_bitset_close(b);
    }
    opts = in.options();
    if (shmds_bitset_open_read_only(&opts, &b) == 0) {
        in.opened();
        exercise(b, false);
        shmds_bitset_close(b);
    }
}

}  // namespace shmds_fuzz
